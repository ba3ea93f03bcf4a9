// SPDX-License-Identifier: BSD-2-Clause
/*
 * switch_test.c - what a CPU keeps of an address space it switched away
 * from.
 *
 * Where cached translations carry an address-space identifier (amd64:
 * PCIDs), switching address spaces keeps them, and a shootdown still
 * interrupts only the CPUs that run the pmap: a CPU that was away when the
 * pmap changed must drop what it kept before it runs the pmap again.  Each
 * case below caches a translation on CPU 1, switches CPU 1 away (to the
 * kernel, or to another pmap), changes the pmap on CPU 0 - so pmap_update
 * shoots nobody - and switches CPU 1 back: it must see the change, never
 * what it cached before.  Then the same while CPU 1 is leaving the pmap
 * (shot for a pmap it no longer runs), page tables freed and reused while
 * CPU 1 is away, identifier wrap-around (a lowered limit, then thousands of
 * pmaps), and a concurrent phase for the deterministic scheduler: CPUs
 * switching in and out of a pmap whose mapping another CPU keeps changing.
 *
 * Without identifiers (i386; a CPU without PCIDs: --no-pcid) every switch
 * flushes and the suite checks that nothing else broke.
 */
#include "ptest_util.h"

#define VA	UVA(0)			/* the mapping the cases change */
#define VA_KEEP	UVA(1)			/* same page table: keeps it alive */

static struct uspace p, q;
static struct vm_page *pa, *pb, *pc_;	/* patterns 0xa, 0xb, 0xc */

enum away { AWAY_KERNEL, AWAY_OTHER };
static const char *const away_name[] = { "to the kernel", "to another pmap" };

/* CPU 1 leaves p. */
static void
away(enum away how)
{
	if (how == AWAY_KERNEL)
		ptest_run_on(1, park_fn, NULL);
	else
		(void)access_on(1, q.us_l, UVA(100), ACC_READ, PTEST_USER, 0);
}

static void
reset(void)
{
	pmap_remove(p.us_pm, 0, PMAP_USER_MAX);
	pmap_update(p.us_pm);
	park_all();
}

static void
map(pmap_t pm, vaddr_t va, struct vm_page *pg, vm_prot_t prot)
{
	pmap_enter(pm, va, ptest_page_pa(pg), prot, prot);
	pmap_update(pm);
}

/* ---- what a switch keeps (the simulated machine can look) ---- */

static void
holds_fn(void *arg)
{
	bool *held = arg;
	ptest_switch(p.us_l);
	*held = ptest_tlb_holds(VA);
}

static void
kept(void)
{
	vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
	map(p.us_pm, VA, pa, rw);
	is_u64(access_on(1, p.us_l, VA, ACC_READ, PTEST_USER, 0).a_val, 0xa,
	    "CPU 1 reads p's page");
	away(AWAY_OTHER);
	if (ptest_have_auditor()) {
		bool held = false;
		ptest_run_on(1, holds_fn, &held);
		tap_diag("switching back to p, CPU 1's TLB %s the translation it cached "
		    "before", held ? "still holds (address-space identifiers)" :
		    "no longer holds (the switches flushed it)");
	}
	is_u64(access_on(1, p.us_l, VA, ACC_READ, PTEST_USER, 0).a_val, 0xa,
	    "back in p, CPU 1 reads the same page");
	reset();
}

/* ---- changes made while CPU 1 is away ---- */

enum change { CH_REMAP, CH_PROTECT, CH_REMOVE, CH_CLEAR_MOD, CH_PAGE_NONE, CH_COUNT };
static const char *const change_name[] = {
	"pmap_enter of another page", "pmap_protect(READ)", "pmap_remove",
	"pmap_clear_modify", "pmap_page_protect(NONE)",
};

static void
change_while_away(enum change ch, enum away how)
{
	vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
	char what[160];
	ptest_snprintf(what, sizeof(what), "%s while CPU 1 is away %s", change_name[ch],
	    away_name[how]);
	map(p.us_pm, VA, pa, rw);
	map(p.us_pm, VA_KEEP, pc_, VM_PROT_READ);
	/* CPU 1 caches VA writable and dirty (and the tables on the way). */
	ok(access_on(1, p.us_l, VA, ACC_WRITE, PTEST_USER, 0xa).a_result == PTEST_OK,
	    "%s: CPU 1 writes VA first", what);
	away(how);
	switch (ch) {
	case CH_REMAP:
		pmap_enter(p.us_pm, VA, ptest_page_pa(pb), rw, rw);
		break;
	case CH_PROTECT:
		pmap_protect(p.us_pm, VA, VA + PAGE_SIZE, VM_PROT_READ);
		break;
	case CH_REMOVE:
		pmap_remove(p.us_pm, VA, VA + PAGE_SIZE);
		break;
	case CH_CLEAR_MOD:
		pmap_clear_modify(pa);
		break;
	default:
		pmap_page_protect(pa, VM_PROT_NONE);
		break;
	}
	pmap_update(p.us_pm);
	struct access r;
	switch (ch) {
	case CH_REMAP:
		r = access_on(1, p.us_l, VA, ACC_READ, PTEST_USER, 0);
		ok(r.a_result == PTEST_OK && r.a_val == 0xb, "%s: back in p, CPU 1 reads "
		    "the new page (got %#llx)", what, (unsigned long long)r.a_val);
		break;
	case CH_PROTECT:
		r = access_on(1, p.us_l, VA, ACC_WRITE, PTEST_USER, 0xbad);
		ok(r.a_result == PTEST_PF, "%s: back in p, CPU 1's write faults", what);
		break;
	case CH_CLEAR_MOD:
		r = access_on(1, p.us_l, VA, ACC_WRITE, PTEST_USER, 0xa);
		ok(r.a_result == PTEST_OK && pmap_is_modified(pa), "%s: back in p, CPU 1's "
		    "write marks the page modified again", what);
		break;
	default:
		r = access_on(1, p.us_l, VA, ACC_READ, PTEST_USER, 0);
		ok(r.a_result == PTEST_PF, "%s: back in p, CPU 1's read faults", what);
		break;
	}
	is_u64(ptest_phys_read64(ptest_page_pa(pa)), 0xa, "%s: p's old page holds only "
	    "the writes it allowed", what);
	reset();
	audit_ok(what);
}

/* ---- page tables freed (and their pages reused) while CPU 1 is away ---- */

static void
tables_freed_while_away(enum away how)
{
	vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
	char what[160];
	ptest_snprintf(what, sizeof(what), "page tables freed while CPU 1 is away %s",
	    away_name[how]);
	/* Alone under its root entry: removing it frees a table at every
	 * level below the root; CPU 1's cached upper-level entries point at
	 * them. */
	vaddr_t far = PTEST_UVA_FAR;
	map(p.us_pm, far, pa, rw);
	is_u64(access_on(1, p.us_l, far, ACC_READ, PTEST_USER, 0).a_val, 0xa,
	    "%s: CPU 1 reads through them first", what);
	away(how);
	pmap_remove(p.us_pm, far, far + PAGE_SIZE);
	pmap_update(p.us_pm);
	/* Take the freed pages (a LIFO allocator hands them out first), zeroed:
	 * a walk through a stale cached entry now finds nothing (it faults),
	 * and new tables are other pages. */
	struct vm_page *grab[8];
	for (int i = 0; i < 8; i++)
		grab[i] = ptest_page_alloc();
	map(p.us_pm, far + PAGE_SIZE, pb, rw);
	struct access r = access_on(1, p.us_l, far + PAGE_SIZE, ACC_READ, PTEST_USER, 0);
	ok(r.a_result == PTEST_OK && r.a_val == 0xb, "%s: back in p, CPU 1 reads the "
	    "new mapping through the new tables (result %d, %#llx)", what, r.a_result,
	    (unsigned long long)r.a_val);
	r = access_on(1, p.us_l, far, ACC_READ, PTEST_USER, 0);
	ok(r.a_result == PTEST_PF, "%s: and the removed one faults", what);
	reset();
	for (int i = 0; i < 8; i++)
		if (grab[i] != NULL)
			ptest_page_free(grab[i]);
	audit_ok(what);
}

/* ---- shot for a pmap it is just leaving (machines with interrupt points) ---- */

static int shooter_done;	/* __atomic */
static bool shoot_page_side;	/* pmap_page_protect, not pmap_enter + pmap_update */

static void
shooter(void *arg)
{
	(void)arg;
	vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
	/* CPU 1 is still in p's set: shot, by a request that names p (the
	 * update) or none (the page-side operation's). */
	if (shoot_page_side) {
		pmap_page_protect(pa, VM_PROT_READ);
	} else {
		pmap_enter(p.us_pm, VA, ptest_page_pa(pb), rw, rw);
		pmap_update(p.us_pm);
	}
	__atomic_store_n(&shooter_done, 1, __ATOMIC_RELEASE);
}

/* On CPU 1, inside pmap_activate(q), before it loads q's root. */
static void
in_switch(void *arg)
{
	(void)arg;
	ptest_run_async(2, shooter, NULL);
	/* Until the shot is posted here (interrupts are off: it is taken once
	 * pmap_activate has loaded q's root and left p). */
	while (!ptest_ipi_pending(1) && !__atomic_load_n(&shooter_done, __ATOMIC_ACQUIRE))
		ptest_relax();
}

static void
leave_armed(void *arg)
{
	(void)arg;
	ptest_switch(p.us_l);
	ptest_hook_pause(1, PTEST_HK_ROOT_LOAD, PTEST_AT_ENTRY, 1, in_switch, NULL);
	ptest_switch(q.us_l);
	ptest_hook_disarm(1);
}

static void
shot_while_leaving(bool page_side)
{
	const char *what = page_side ? "shot for p while leaving it (pmap_page_protect)" :
	    "shot for p while leaving it (pmap_update)";
	if (!ptest_have_hooks() || ptest_ncpus() < 3) {
		tap_skip(4, "shot for p while leaving it: needs interrupt points and 3 CPUs");
		return;
	}
	vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
	map(p.us_pm, VA, pa, rw);
	map(p.us_pm, VA_KEEP, pc_, VM_PROT_READ);
	ok(access_on(1, p.us_l, VA, ACC_WRITE, PTEST_USER, 0xa).a_result == PTEST_OK,
	    "%s: CPU 1 writes p's page", what);
	__atomic_store_n(&shooter_done, 0, __ATOMIC_RELAXED);
	shoot_page_side = page_side;
	ptest_run_on(1, leave_armed, NULL);
	ptest_wait(2);
	ok(ptest_hook_fired(1), "%s: CPU 2's shootdown came while CPU 1 was in "
	    "pmap_activate", what);
	struct access r;
	if (page_side) {
		r = access_on(1, p.us_l, VA, ACC_WRITE, PTEST_USER, 0xbad);
		ok(r.a_result == PTEST_PF, "%s: back in p, CPU 1's write faults", what);
	} else {
		r = access_on(1, p.us_l, VA, ACC_READ, PTEST_USER, 0);
		ok(r.a_result == PTEST_OK && r.a_val == 0xb, "%s: back in p, CPU 1 reads the "
		    "new page (got %#llx)", what, (unsigned long long)r.a_val);
	}
	is_u64(ptest_phys_read64(ptest_page_pa(pa)), 0xa, "%s: p's old page holds only "
	    "the writes it allowed", what);
	reset();
	audit_ok(what);
}

/* ---- identifier wrap-around ---- */

#define NW	6

struct wrap_step {
	struct uspace *ws_u;
	uint64_t ws_want;
	int ws_bad;
};

static void
wrap_read(void *arg)
{
	struct wrap_step *s = arg;
	ptest_switch(s->ws_u->us_l);
	uint64_t v;
	if (ptest_load(VA, 8, &v, PTEST_USER) != PTEST_OK || v != s->ws_want)
		s->ws_bad = 1;
	/* And a write, cached dirty for the next visit. */
	if (ptest_store(VA + 8, 8, v, PTEST_USER) != PTEST_OK)
		s->ws_bad = 1;
}

static void
wrap_small(void)
{
	const char *what = "at most 3 identifiers per CPU";
	vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
	struct uspace w[NW];
	struct vm_page *wp[NW][2];
	uint64_t want[NW];
	pmap_set_asid_limit(3);
	for (int i = 0; i < NW; i++) {
		w[i] = uspace_new();
		for (int k = 0; k < 2; k++)
			wp[i][k] = page_with(0x1000 + 16 * (uint64_t)i + (uint64_t)k);
		pmap_enter(w[i].us_pm, VA, ptest_page_pa(wp[i][0]), rw, rw);
		pmap_update(w[i].us_pm);
		want[i] = 0x1000 + 16 * (uint64_t)i;
	}
	uint64_t rng = ptest_seed() * 31 + 7;
	int bad = 0, steps = 0;
	for (int n = 0; n < 300; n++) {
		int i = (int)(ptest_rand(&rng) % NW);
		struct wrap_step s = { &w[i], want[i], 0 };
		ptest_run_on(1, wrap_read, &s);
		bad += s.ws_bad;
		steps++;
		/* Now and then remap another pmap while CPU 1 is not in it. */
		int j = (int)(ptest_rand(&rng) % NW);
		if (j != i && ptest_rand(&rng) % 3 == 0) {
			int k = want[j] == 0x1000 + 16 * (uint64_t)j ? 1 : 0;
			pmap_enter(w[j].us_pm, VA, ptest_page_pa(wp[j][k]), rw, rw);
			pmap_update(w[j].us_pm);
			want[j] = 0x1000 + 16 * (uint64_t)j + (uint64_t)k;
		}
	}
	pmap_set_asid_limit(0);
	park_all();
	is_int(bad, 0, "%s: %d switches among %d pmaps, each read its own page", what,
	    steps, NW);
	for (int i = 0; i < NW; i++)
		uspace_free(&w[i]);
	for (int i = 0; i < NW; i++)
		for (int k = 0; k < 2; k++) {
			pmap_page_protect(wp[i][k], VM_PROT_NONE);
			ptest_page_free(wp[i][k]);
		}
	audit_ok(what);
}

static void
switch_fn(void *arg)
{
	ptest_switch(arg);
}

/*
 * Thousands of short-lived pmaps on CPU 1 (more than 4095 on the simulated
 * machine: every PCID handed out, and again), p kept all along.  Most of
 * them are only activated (each takes an identifier); one in 50 maps a
 * page and is read through: what the CPU cached under an identifier
 * before it was handed out again must not show.
 */
static void
wrap_many(void)
{
	const char *what = "thousands of pmaps through one CPU";
	unsigned scale = ptest_scale_percent();
	long n = 4200L * scale / 100 + 50;
	/* Fewer on a slow machine: a lower limit still wraps several times. */
	if (n < 4200)
		pmap_set_asid_limit((unsigned)(n / 5));
	vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
	map(p.us_pm, VA, pa, rw);
	struct vm_page *pg = page_with(0);
	int bad = 0, bad_p = 0;
	long nread = 0;
	for (long i = 0; i < n; i++) {
		struct uspace u = uspace_new();
		struct access r;
		if (i % 50 == 0) {
			ptest_phys_write64(ptest_page_pa(pg), 0x5000000 + (uint64_t)i);
			pmap_enter(u.us_pm, VA, ptest_page_pa(pg), VM_PROT_READ, 0);
			pmap_update(u.us_pm);
			r = access_on(1, u.us_l, VA, ACC_READ, PTEST_USER, 0);
			bad += r.a_result != PTEST_OK || r.a_val != 0x5000000 + (uint64_t)i;
			nread++;
		} else {
			ptest_run_on(1, switch_fn, u.us_l);
		}
		if (i % 97 == 0) {
			/* p, kept meanwhile; changed now and then while CPU 1 is away. */
			struct vm_page *want = (i / 97) % 2 ? pb : pa;
			pmap_enter(p.us_pm, VA, ptest_page_pa(want), rw, rw);
			pmap_update(p.us_pm);
			r = access_on(1, p.us_l, VA, ACC_READ, PTEST_USER, 0);
			bad_p += r.a_result != PTEST_OK ||
			    r.a_val != ((i / 97) % 2 ? 0xbULL : 0xaULL);
		}
		ptest_run_on(1, park_fn, NULL);
		uspace_free(&u);
	}
	pmap_set_asid_limit(0);
	is_int(bad, 0, "%s: %ld pmaps, %ld of them read through: each its own page", what, n,
	    nread);
	is_int(bad_p, 0, "%s: a long-lived pmap, changed now and then, read right", what);
	reset();
	pmap_page_protect(pg, VM_PROT_NONE);
	ptest_page_free(pg);
	audit_ok(what);
}

/* ---- concurrent: readers switching in and out while the owner changes ---- */

#define CVA	UVA(7 * 1024)		/* alone in its page table (either machine) */
#define NCP	8

static struct vm_page *cpg[NCP];
static struct uspace away_u[4];
static int started, pub, cdone;		/* __atomic, seq_cst */
static int bad_stale, bad_fault;
static long n_reads;

static int ld(int *x) { return __atomic_load_n(x, __ATOMIC_SEQ_CST); }

/*
 * Version k even: CVA maps cpg[(k / 2) % NCP], which holds k; odd: CVA is
 * unmapped and its page table freed.  CPU 0 raises `started` to k before
 * it makes version k, and `pub` once pmap_update returned.  A read that
 * starts after version v was published must give a version >= v - or
 * fault, if a removal may have begun.
 */
struct snap {
	int s_started, s_pub;
};

static struct snap
snap(void)
{
	struct snap s;
	s.s_pub = ld(&pub);
	s.s_started = ld(&started);
	return s;
}

static void
check_read(int res, uint64_t val, struct snap before)
{
	struct snap after = snap();
	int v = before.s_pub;
	__atomic_fetch_add(&n_reads, 1, __ATOMIC_RELAXED);
	if (res == PTEST_OK && (int64_t)val < v)
		__atomic_fetch_add(&bad_stale, 1, __ATOMIC_RELAXED);
	/* Mapped from before the read to after it: no excuse for a fault. */
	if (res != PTEST_OK && v % 2 == 0 && before.s_started == v && after.s_started == v)
		__atomic_fetch_add(&bad_fault, 1, __ATOMIC_RELAXED);
}

static void
reader(void *arg)
{
	int cpu = (int)(uintptr_t)arg;
	uint64_t rng = ptest_seed() * 131 + (uint64_t)cpu;
	while (!ld(&cdone)) {
		ptest_switch(p.us_l);
		/* Several reads per visit: a stale entry kept by mistake would
		 * outlive the pmap_update that should have dropped it. */
		for (int j = 0; j < 3; j++) {
			struct snap s = snap();
			uint64_t val = 0;
			int res = ptest_load(CVA, 8, &val, PTEST_USER);
			check_read(res, val, s);
		}
		int a = (int)(ptest_rand(&rng) % 3);
		ptest_switch(a == 0 ? NULL : away_u[(cpu + a) % 4].us_l);
		ptest_relax();
	}
	ptest_switch(NULL);
}

/* CPU 3: page-side operations on the pages (synchronous shootdowns that
 * name no pmap), between switches of its own. */
static void
pagedaemon(void *arg)
{
	(void)arg;
	uint64_t rng = ptest_seed() * 17 + 3;
	while (!ld(&cdone)) {
		struct vm_page *pg = cpg[ptest_rand(&rng) % NCP];
		if (ptest_rand(&rng) % 2)
			pmap_clear_reference(pg);
		else
			pmap_clear_modify(pg);
		if (ptest_rand(&rng) % 4 == 0) {
			ptest_switch(p.us_l);
			struct snap s = snap();
			uint64_t val = 0;
			int res = ptest_load(CVA, 8, &val, PTEST_USER);
			check_read(res, val, s);
			ptest_switch(NULL);
		}
		ptest_relax();
	}
}

static void
concurrent(void)
{
	const char *what = "CPUs switching in and out of p while CPU 0 changes it";
	if (ptest_ncpus() < 4) {
		tap_skip(3, "concurrent switching: needs 4 CPUs");
		return;
	}
	for (int i = 0; i < NCP; i++)
		cpg[i] = page_with(0);
	for (int i = 0; i < 4; i++)
		away_u[i] = uspace_new();
	__atomic_store_n(&started, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&pub, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&cdone, 0, __ATOMIC_SEQ_CST);
	ptest_phys_write64(ptest_page_pa(cpg[0]), 0);
	pmap_enter(p.us_pm, CVA, ptest_page_pa(cpg[0]), VM_PROT_READ, 0);
	pmap_update(p.us_pm);
	ptest_run_async(1, reader, (void *)(uintptr_t)1);
	ptest_run_async(2, reader, (void *)(uintptr_t)2);
	ptest_run_async(3, pagedaemon, NULL);
	int versions = (int)(300L * ptest_scale_percent() / 100) + 20;
	for (int k = 1; k <= versions; k++) {
		__atomic_store_n(&started, k, __ATOMIC_SEQ_CST);
		if (k % 2) {
			pmap_remove(p.us_pm, CVA, CVA + PAGE_SIZE);
		} else {
			struct vm_page *pg = cpg[(k / 2) % NCP];
			/* Its last mapping went (version k - 1 removed it) before
			 * its content changes. */
			ptest_phys_write64(ptest_page_pa(pg), (uint64_t)k);
			pmap_enter(p.us_pm, CVA, ptest_page_pa(pg), VM_PROT_READ, 0);
		}
		pmap_update(p.us_pm);
		__atomic_store_n(&pub, k, __ATOMIC_SEQ_CST);
		ptest_relax();
	}
	__atomic_store_n(&cdone, 1, __ATOMIC_SEQ_CST);
	for (int c = 1; c <= 3; c++)
		ptest_wait(c);
	tap_diag("%s: %d versions, %ld reads checked", what, versions, n_reads);
	is_int(bad_stale, 0, "%s: no read gives a version older than the one "
	    "published before it", what);
	is_int(bad_fault, 0, "%s: no read faults while the page is mapped", what);
	reset();
	for (int i = 0; i < 4; i++)
		uspace_free(&away_u[i]);
	for (int i = 0; i < NCP; i++) {
		pmap_page_protect(cpg[i], VM_PROT_NONE);
		ptest_page_free(cpg[i]);
	}
	audit_ok(what);
}

PTEST_SUITE(switch)
{
	if (ptest_ncpus() < 2) {
		tap_skip(1, "one CPU: nothing to switch away from");
		return;
	}
	p = uspace_new();
	q = uspace_new();
	pa = page_with(0xa);
	pb = page_with(0xb);
	pc_ = page_with(0xc);
	kept();
	for (int how = AWAY_KERNEL; how <= AWAY_OTHER; how++) {
		for (int ch = 0; ch < CH_COUNT; ch++)
			change_while_away((enum change)ch, (enum away)how);
		tables_freed_while_away((enum away)how);
	}
	shot_while_leaving(false);
	shot_while_leaving(true);
	wrap_small();
	wrap_many();
	concurrent();
	uspace_free(&p);
	uspace_free(&q);
	struct vm_page *pgs[] = { pa, pb, pc_ };
	for (int i = 0; i < 3; i++) {
		pmap_page_protect(pgs[i], VM_PROT_NONE);
		ptest_page_free(pgs[i]);
	}
}
