// SPDX-License-Identifier: BSD-2-Clause
/*
 * copy_test.c - pmap_copy, the fork path's pre-fault.  It is advisory, so
 * what these tests hold it to is what a VM can rely on when it does copy:
 * every mapping it makes in the destination is the source's page, at the
 * same offset, read-only, unwired, neither referenced nor modified, with a
 * pv entry (page-side operations reach it); it never copies a wired or an
 * unmanaged mapping, never replaces one the destination has, leaves the
 * source as it was, takes effect before it returns (a CPU running the
 * destination sees it without pmap_update), and stops cleanly when memory
 * runs out - what it made is valid and the rest is the caller's faults.
 * Also: a random model of sources, destinations and ranges straddling
 * page-table boundaries, caller errors, and copies racing page-side
 * operations on another CPU.
 */
#include "ptest_util.h"

/* The span one leaf page table maps: ranges are placed across it. */
static vsize_t
leaf_span(void)
{
	static const int shifts[] = PMAP_PTP_SHIFTS;
	return (vsize_t)1 << shifts[PMAP_PTP_LEVELS - 1];
}

/* Far from UVA(): a table boundary, with room on both sides. */
#define SRC_BASE	(PTEST_UVA_FAR + 8 * leaf_span())
#define DST_BASE	(PTEST_UVA_FAR + 32 * leaf_span())

static uint64_t
pv_entries(void)
{
	struct pmap_counters c;
	pmap_get_counters(&c);
	return c.pc_pv_entries;
}

/* Is va in pm a read-only, unwired, unreferenced, unmodified managed
 * mapping of pa? */
static bool
is_copy_of(pmap_t pm, vaddr_t va, paddr_t pa)
{
	struct pmap_mapping_info mi;
	if (!pmap_mapping_info(pm, va, &mi))
		return false;
	return mi.mi_pa == pa && (mi.mi_prot & VM_PROT_WRITE) == 0 &&
	    (mi.mi_prot & VM_PROT_READ) != 0 && !mi.mi_wired && mi.mi_managed &&
	    !mi.mi_referenced && !mi.mi_modified;
}

static void
t_basic(void)
{
	struct uspace p = uspace_new(), c = uspace_new();
	struct vm_page *pg[8];
	for (int i = 0; i < 8; i++)
		pg[i] = page_with(0x100 + (uint64_t)i);
	paddr_t dev = ptest_device_pa();
	uint64_t pv0 = pv_entries();

	/* 0, 1: written by the parent; 2: wired; 3: a device page; 4: absent;
	 * 5: read-only executable; 6, 7: mapped, never touched. */
	for (int i = 0; i < 8; i++) {
		if (i == 4)
			continue;
		paddr_t pa = i == 3 ? dev : ptest_page_pa(pg[i]);
		vm_prot_t prot = i == 5 ? VM_PROT_READ | VM_PROT_EXECUTE :
		    VM_PROT_READ | VM_PROT_WRITE;
		u_int flags = i == 2 ? PMAP_WIRED | VM_PROT_READ : 0;
		is_int(pmap_enter(p.us_pm, UVA(i), pa, prot, flags), 0, "parent page %d", i);
	}
	pmap_update(p.us_pm);
	ptest_switch(p.us_l);
	for (int i = 0; i < 2; i++)
		is_int(ptest_store(UVA(i) + 8, 8, 0xd00 + (uint64_t)i, PTEST_USER), PTEST_OK,
		    "the parent writes page %d", i);
	ptest_switch(NULL);
	long pres = pmap_resident_count(p.us_pm), pwired = pmap_wired_count(p.us_pm);

	pmap_copy(c.us_pm, p.us_pm, UVA(0), 8 * PAGE_SIZE, UVA(0));
	for (int i = 0; i < 8; i++) {
		bool want = i != 2 && i != 3 && i != 4;
		if (want)
			ok(is_copy_of(c.us_pm, UVA(i), ptest_page_pa(pg[i])), "page %d copied: "
			    "same page, read-only, unwired, A and D clear", i);
		else
			ok(!pmap_extract(c.us_pm, UVA(i), NULL), "page %d (%s) not copied", i,
			    i == 2 ? "wired" : i == 3 ? "unmanaged" : "absent");
	}
	is_int(pmap_resident_count(c.us_pm), 5, "the child's resident count is what was "
	    "copied");
	is_int(pmap_wired_count(c.us_pm), 0, "and none of it wired");
	is_int(pmap_resident_count(p.us_pm), pres, "the parent's resident count unchanged");
	is_int(pmap_wired_count(p.us_pm), pwired, "the parent's wired count unchanged");
	is_u64(pv_entries() - pv0, 5, "one pv entry per copy (the parent holds each "
	    "page's in-place slot)");
	ok(!pmap_is_referenced(pg[6]) && !pmap_is_modified(pg[6]), "an untouched page "
	    "stays unreferenced and unmodified: the copy has no A/D");
	ok(pmap_is_modified(pg[0]), "a page the parent wrote is still modified");

	/* Without pmap_update: the copy is in effect at once, on any CPU. */
	int cpu = ptest_ncpus() > 1 ? 1 : 0;
	struct access a = access_on(cpu, c.us_l, UVA(1) + 8, ACC_READ, PTEST_USER, 0);
	ok(a.a_result == PTEST_OK && a.a_val == 0xd01, "the child reads the parent's "
	    "data through the copy (%#llx)", (unsigned long long)a.a_val);
	a = access_on(cpu, c.us_l, UVA(1), ACC_WRITE, PTEST_USER, 1);
	ok(a.a_result == PTEST_PF && ptest_fault_is(a.a_fault, true, ACC_WRITE, true),
	    "a child write faults on protection (code %#x): copy-on-write is the caller's",
	    a.a_code);
	a = access_on(cpu, p.us_l, UVA(1), ACC_WRITE, PTEST_USER, 0xd11);
	is_int(a.a_result, PTEST_OK, "the parent still writes its page");
	a = access_on(cpu, c.us_l, UVA(5), ACC_FETCH, PTEST_USER, 0);
	is_int(a.a_result, PTEST_OK, "an executable page stays executable in the child");
	if (ptest_have_nx()) {
		a = access_on(cpu, c.us_l, UVA(6), ACC_FETCH, PTEST_USER, 0);
		is_int(a.a_result, PTEST_PF, "a non-executable one stays non-executable");
	}
	ok(pmap_is_referenced(pg[1]), "the child's read made page 1 referenced");
	check_pmap_ok("child after pmap_copy", c.us_pm);
	check_pmap_ok("parent after pmap_copy", p.us_pm);
	for (int i = 0; i < 8; i += 5)
		check_page_ok("a copied page", pg[i]);

	/* The pv entry is real: the page-side operations reach the copy. */
	pmap_page_protect(pg[0], VM_PROT_NONE);
	ok(!pmap_extract(c.us_pm, UVA(0), NULL) && !pmap_extract(p.us_pm, UVA(0), NULL),
	    "pmap_page_protect(NONE) removes the copy with the original");
	is_int(pmap_resident_count(c.us_pm), 4, "and the child's count follows");
	pmap_page_protect(pg[1], VM_PROT_NONE);
	a = access_on(cpu, c.us_l, UVA(1), ACC_READ, PTEST_USER, 0);
	is_int(a.a_result, PTEST_PF, "the child no longer reaches a removed page");
	park_all();
	audit_ok("pmap_copy");

	uspace_free(&c);
	uspace_free(&p);
	is_u64(pv_entries(), pv0, "every pv entry given back");
	for (int i = 0; i < 8; i++)
		ptest_page_free(pg[i]);
}

/* Existing destination mappings are kept, and the source is not touched. */
static void
t_existing(void)
{
	struct uspace p = uspace_new(), c = uspace_new();
	struct vm_page *a = page_with(1), *b = page_with(2), *x = page_with(3);
	pmap_enter(p.us_pm, UVA(0), ptest_page_pa(a), VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_enter(p.us_pm, UVA(1), ptest_page_pa(b), VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_enter(c.us_pm, UVA(1), ptest_page_pa(x), VM_PROT_READ | VM_PROT_WRITE,
	    VM_PROT_WRITE);
	pmap_update(c.us_pm);
	pmap_copy(c.us_pm, p.us_pm, UVA(0), 2 * PAGE_SIZE, UVA(0));
	ok(is_copy_of(c.us_pm, UVA(0), ptest_page_pa(a)), "an empty slot gets the copy");
	struct pmap_mapping_info mi;
	ok(pmap_mapping_info(c.us_pm, UVA(1), &mi) && mi.mi_pa == ptest_page_pa(x) &&
	    (mi.mi_prot & VM_PROT_WRITE) && mi.mi_modified, "a slot the child had keeps "
	    "its own page, rights and D");
	ok(pmap_mapping_info(p.us_pm, UVA(0), &mi) && (mi.mi_prot & VM_PROT_WRITE),
	    "the source keeps its write right");
	is_int(pmap_resident_count(c.us_pm), 2, "child: 1 own + 1 copied");
	pmap_copy(c.us_pm, p.us_pm, UVA(0), 2 * PAGE_SIZE, UVA(0));
	is_int(pmap_resident_count(c.us_pm), 2, "copying again adds nothing");
	pmap_copy(p.us_pm, p.us_pm, UVA(0), 2 * PAGE_SIZE, UVA(0));
	is_int(pmap_resident_count(p.us_pm), 2, "a pmap copied onto itself is unchanged");
	pmap_copy(c.us_pm, p.us_pm, UVA(0), 0, UVA(0));
	check_pmap_ok("child", c.us_pm);
	check_page_ok("page a", a);
	uspace_free(&c);
	uspace_free(&p);
	ptest_page_free(a);
	ptest_page_free(b);
	ptest_page_free(x);
}

/*
 * The random model: a parent with random mappings (managed read/write,
 * read-only, wired, device, absent) across two page-table boundaries,
 * children with some mappings of their own, and random copy ranges at
 * random offsets; each destination page is then exactly what the model
 * says: its own mapping if it had one, else a copy if the source leaf is
 * copyable, else nothing.
 */
#define RN 96		/* pages of the source window */

enum kind { K_NONE, K_RW, K_RO, K_WIRED, K_DEV };

static void
t_random(void)
{
	uint64_t seed = ptest_seed() ^ 0xc0b1;
	uint64_t st = seed;
	unsigned rounds = 6 + 18 * ptest_scale_percent() / 100;
	struct vm_page *pg[RN];
	for (int i = 0; i < RN; i++)
		pg[i] = page_with((uint64_t)i);
	struct vm_page *own = page_with(0xeeee);
	paddr_t dev = ptest_device_pa();
	/* Source window: RN pages straddling a table boundary. */
	vaddr_t sbase = SRC_BASE - (RN / 2) * PAGE_SIZE;
	int bad = 0, copied_total = 0;
	for (unsigned r = 0; r < rounds; r++) {
		struct uspace p = uspace_new(), c = uspace_new();
		enum kind k[RN];
		for (int i = 0; i < RN; i++) {
			k[i] = (enum kind)(ptest_rand(&st) % 5);
			vaddr_t va = sbase + (vaddr_t)i * PAGE_SIZE;
			switch (k[i]) {
			case K_NONE: break;
			case K_RW: pmap_enter(p.us_pm, va, ptest_page_pa(pg[i]),
			    VM_PROT_READ | VM_PROT_WRITE, VM_PROT_WRITE); break;
			case K_RO: pmap_enter(p.us_pm, va, ptest_page_pa(pg[i]),
			    VM_PROT_READ, VM_PROT_READ); break;
			case K_WIRED: pmap_enter(p.us_pm, va, ptest_page_pa(pg[i]),
			    VM_PROT_READ | VM_PROT_WRITE, PMAP_WIRED); break;
			case K_DEV: pmap_enter(p.us_pm, va, dev, VM_PROT_READ, 0); break;
			}
		}
		/* A copy range inside the window, to a destination offset by a
		 * random number of pages around another table boundary. */
		unsigned s = (unsigned)(ptest_rand(&st) % RN);
		unsigned n = 1 + (unsigned)(ptest_rand(&st) % (RN - s));
		vaddr_t src = sbase + (vaddr_t)s * PAGE_SIZE;
		vaddr_t dst = DST_BASE - (vaddr_t)(ptest_rand(&st) % RN) * PAGE_SIZE;
		/* The child already maps a few of the destination pages. */
		bool mine[RN] = { false };
		for (unsigned i = 0; i < n; i++)
			if (ptest_rand(&st) % 8 == 0) {
				mine[i] = true;
				pmap_enter(c.us_pm, dst + (vaddr_t)i * PAGE_SIZE,
				    ptest_page_pa(own), VM_PROT_READ | VM_PROT_WRITE, 0);
			}
		long cres = pmap_resident_count(c.us_pm);
		pmap_copy(c.us_pm, p.us_pm, dst, (vsize_t)n * PAGE_SIZE, src);
		int copied = 0;
		for (unsigned i = 0; i < n; i++) {
			vaddr_t dva = dst + (vaddr_t)i * PAGE_SIZE;
			enum kind sk = k[s + i];
			bool good;
			struct pmap_mapping_info mi;
			if (mine[i])
				good = pmap_mapping_info(c.us_pm, dva, &mi) &&
				    mi.mi_pa == ptest_page_pa(own) && (mi.mi_prot & VM_PROT_WRITE);
			else if (sk == K_RW || sk == K_RO) {
				good = is_copy_of(c.us_pm, dva, ptest_page_pa(pg[s + i]));
				copied++;
			} else
				good = !pmap_extract(c.us_pm, dva, NULL);
			if (!good && bad++ < 5)
				tap_diag("seed %#llx round %u: dst page %u (src kind %d, own %d) "
				    "wrong", (unsigned long long)seed, r, i, sk, mine[i]);
		}
		/* Nothing outside the range. */
		if (pmap_resident_count(c.us_pm) != cres + copied && bad++ < 5)
			tap_diag("seed %#llx round %u: child resident %ld, want %ld",
			    (unsigned long long)seed, r, pmap_resident_count(c.us_pm),
			    cres + copied);
		copied_total += copied;
		if (r == 0 || r == rounds - 1) {
			check_pmap_ok("random: child", c.us_pm);
			check_pmap_ok("random: parent", p.us_pm);
		}
		uspace_free(&c);
		uspace_free(&p);
	}
	is_int(bad, 0, "random model (seed %#llx): %u rounds, %d pages copied, every "
	    "destination page as predicted", (unsigned long long)seed, rounds, copied_total);
	for (int i = 0; i < RN; i++)
		ptest_page_free(pg[i]);
	ptest_page_free(own);
}

/*
 * Memory running out part-way: page-table pages and pv chunks failed in
 * turn (fault injection), then the pv bound.  The copy stops; what it made
 * is exact, the counts agree, and nothing leaks.
 */
#define EN 600		/* pages: more than a pv chunk holds, two tables */

static void
t_enomem(void)
{
	if (!ptest_have_fault_injection()) {
		tap_skip(1, "no allocation fault injection on this machine");
		return;
	}
	struct uspace p = uspace_new();
	struct vm_page *pg = page_with(5);
	vaddr_t src = SRC_BASE - (EN / 2) * PAGE_SIZE;
	/* One page mapped EN times: its in-place slot is taken, so every copy
	 * needs a pv entry. */
	for (int i = 0; i < EN; i++)
		pmap_enter(p.us_pm, src + (vaddr_t)i * PAGE_SIZE, ptest_page_pa(pg),
		    VM_PROT_READ, 0);
	uint64_t free0 = ptest_pages_free(), pv0 = pv_entries();
	int stopped = 0, exact = 0;
	long last = -1;
	for (uint64_t nth = 1; nth < 16; nth++) {
		struct uspace c = uspace_new();
		ptest_alloc_fail_nth(nth);
		pmap_copy(c.us_pm, p.us_pm, src, EN * PAGE_SIZE, src);
		ptest_alloc_fail_nth(0);
		long res = pmap_resident_count(c.us_pm);
		/* What was made is a prefix of the range (the copy runs in
		 * address order and stops at the first failure). */
		long prefix = 0;
		while (prefix < EN && is_copy_of(c.us_pm, src + (vaddr_t)prefix * PAGE_SIZE,
		    ptest_page_pa(pg)))
			prefix++;
		bool rest_empty = true;
		for (long i = prefix; i < EN; i++)
			rest_empty = rest_empty && !pmap_extract(c.us_pm,
			    src + (vaddr_t)i * PAGE_SIZE, NULL);
		char msg[512];
		bool consistent = !ptest_catch_panic(check_pmap_fn, c.us_pm, msg, sizeof(msg));
		if (res == prefix && rest_empty && consistent)
			exact++;
		else
			tap_diag("allocation %llu failed: resident %ld, prefix %ld, rest empty %d, "
			    "%s", (unsigned long long)nth, res, prefix, rest_empty,
			    consistent ? "consistent" : msg);
		uspace_free(&c);
		if (res == EN) {
			last = (long)nth;
			break;
		}
		stopped++;
	}
	ok(stopped >= 3 && last > 0, "a fresh child's copy of %d shared pages makes %d "
	    "allocations (page tables, pv chunks), each failed in turn", EN, stopped);
	is_int(exact, stopped + 1, "each time the copy stopped with an exact prefix made, "
	    "counts and pv entries consistent");
	is_u64(ptest_pages_free(), free0, "no page leaked");
	is_u64(pv_entries(), pv0, "no pv entry leaked");

	/* The pv bound: the child may fill its first chunk, not get a second. */
	struct pmap_counters ctr;
	pmap_get_counters(&ctr);
	pmap_set_pv_limit(ctr.pc_pv_chunks + 1);
	struct uspace c = uspace_new();
	pmap_copy(c.us_pm, p.us_pm, src, EN * PAGE_SIZE, src);
	pmap_set_pv_limit(0);
	long res = pmap_resident_count(c.us_pm);
	ok(res > 0 && res < EN, "under a pv bound of one more chunk the copy stops "
	    "part-way (%ld of %d)", res, EN);
	check_pmap_ok("stopped by the pv bound", c.us_pm);
	check_page_ok("the shared page", pg);
	uspace_free(&c);
	uspace_free(&p);
	ptest_page_free(pg);
}

/* Caller errors. */
static pmap_t e_dst, e_src;
static vaddr_t e_daddr, e_saddr;
static vsize_t e_len;

static void
do_copy(void *arg)
{
	(void)arg;
	pmap_copy(e_dst, e_src, e_daddr, e_len, e_saddr);
}

static void
t_errors(void)
{
	struct uspace p = uspace_new(), c = uspace_new();
	e_dst = c.us_pm;
	e_src = p.us_pm;
	e_daddr = UVA(0);
	e_saddr = UVA(0) + 0x80;
	e_len = PAGE_SIZE;
	expect_panic("pmap_copy of a misaligned source", do_copy, NULL,
	    (const char *const[]){ "pmap_copy", "not page aligned", NULL });
	e_saddr = UVA(0);
	e_len = 100;
	expect_panic("pmap_copy of a misaligned length", do_copy, NULL,
	    (const char *const[]){ "pmap_copy", "len", "not page aligned", NULL });
	e_len = PAGE_SIZE;
	e_daddr = PMAP_USER_MAX - PAGE_SIZE;
	e_len = 2 * PAGE_SIZE;
	expect_panic("pmap_copy past the end of user space", do_copy, NULL,
	    (const char *const[]){ "pmap_copy", "leaves user space", NULL });
	e_daddr = UVA(0);
	e_len = PAGE_SIZE;
	e_dst = pmap_kernel();
	expect_panic("pmap_copy into the kernel pmap", do_copy, NULL,
	    (const char *const[]){ "pmap_copy", "kernel pmap", NULL });
	ok(pmap_resident_count(c.us_pm) == 0, "nothing was copied by the failed calls");
	uspace_free(&c);
	uspace_free(&p);
}

/*
 * Copies racing page-side operations on another CPU: the copy holds both
 * pmap locks and takes page locks; pmap_page_protect(NONE) comes from the
 * page side and must back off and retry, never deadlock, and leave every
 * page with exactly the mappings its pv list names.
 */
#define CN 48

struct race {
	struct vm_page **pg;
	int stop;		/* __atomic */
	unsigned done;		/* __atomic */
};

static void
race_pages(void *arg)
{
	struct race *r = arg;
	uint64_t st = 77;
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		struct vm_page *g = r->pg[ptest_rand(&st) % CN];
		switch (ptest_rand(&st) % 3) {
		case 0: pmap_page_protect(g, VM_PROT_NONE); break;
		case 1: pmap_clear_modify(g); break;
		default: pmap_page_protect(g, VM_PROT_READ); break;
		}
		__atomic_fetch_add(&r->done, 1, __ATOMIC_RELAXED);
		ptest_relax();	/* (lets a deterministic scheduler run CPU 0) */
	}
}

static void
t_race(void)
{
	if (ptest_ncpus() < 2) {
		tap_skip(1, "one CPU: no race");
		return;
	}
	struct vm_page *pg[CN];
	for (int i = 0; i < CN; i++)
		pg[i] = page_with((uint64_t)i);
	struct race r = { pg, 0, 0 };
	ptest_run_async(1, race_pages, &r);
	unsigned rounds = 20 + 180 * ptest_scale_percent() / 100;
	bool good = true;
	for (unsigned k = 0; k < rounds && good; k++) {
		struct uspace p = uspace_new(), c = uspace_new();
		for (int i = 0; i < CN; i++)
			pmap_enter(p.us_pm, UVA(i), ptest_page_pa(pg[i]),
			    VM_PROT_READ | VM_PROT_WRITE, VM_PROT_WRITE);
		pmap_copy(c.us_pm, p.us_pm, UVA(0), CN * PAGE_SIZE, UVA(0));
		char msg[512];
		if (ptest_catch_panic(check_pmap_fn, c.us_pm, msg, sizeof(msg))) {
			tap_diag("round %u: %s", k, msg);
			good = false;
		}
		/* Each copy still there is right (CPU 1 may be removing them:
		 * one look per page). */
		for (int i = 0; i < CN && good; i++) {
			struct pmap_mapping_info mi;
			if (pmap_mapping_info(c.us_pm, UVA(i), &mi) &&
			    (mi.mi_pa != ptest_page_pa(pg[i]) || (mi.mi_prot & VM_PROT_WRITE) ||
			    mi.mi_wired || !mi.mi_managed || mi.mi_referenced ||
			    mi.mi_modified)) {
				tap_diag("round %u: page %d copied wrong", k, i);
				good = false;
			}
		}
		uspace_free(&c);
		uspace_free(&p);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	ptest_wait(1);
	ok(good, "%u copies raced %u page-side operations on CPU 1: no deadlock, every "
	    "copy consistent", rounds, __atomic_load_n(&r.done, __ATOMIC_RELAXED));
	int consistent = 0;
	for (int i = 0; i < CN; i++) {
		char msg[512];
		if (!ptest_catch_panic(check_page_fn, pg[i], msg, sizeof(msg)))
			consistent++;
		else
			tap_diag("page %d: %s", i, msg);
		ptest_page_free(pg[i]);
	}
	is_int(consistent, CN, "after the race every page's pv entries have their PTEs");
}

PTEST_SUITE(copy)
{
	t_basic();
	t_existing();
	t_random();
	t_enomem();
	t_errors();
	t_race();
}
