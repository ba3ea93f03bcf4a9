// SPDX-License-Identifier: BSD-2-Clause
/*
 * pmap_model.h - a reference model of the pmap(9) contracts, and random
 * operations checked against it step by step.  Shared by the random suite
 * (tests/portable/random_test.c, choices from a seeded generator) and the
 * libFuzzer target (tests/fuzz/pmap_fuzz.c, choices from the fuzzer's
 * bytes).  Header-only so both build it without extra objects.
 *
 * The model knows, for every (pmap, slot), which page is mapped with which
 * rights and wiring; for every page, its referenced and modified
 * attributes; which page each kernel slot holds; and which pmap each CPU
 * runs.  Operations: pmap_enter (any page, any rights, access type seeds,
 * wiring, device pages), pmap_remove and pmap_protect over ranges,
 * pmap_page_protect, pmap_unwire, pmap_clear_modify/reference (return
 * values checked), pmap_kenter_pa/pmap_kremove, pmap_update, and accesses
 * (read, write, fetch) from every CPU, whose outcome - fault or the page's
 * own tag - the model predicts.  After every step: resident and wired
 * counts, the number of page-table pages (computed from the mapped
 * addresses), the consistency walkers (each valid managed PTE has exactly
 * one pv entry and vice versa), mod/ref of every page, and the TLB auditor
 * after every pmap_update.
 */
#ifndef PMAP_TESTS_PMAP_MODEL_H
#define PMAP_TESTS_PMAP_MODEL_H

#include "ptest_util.h"

/* Sizes; a user may shrink them (the fuzz target does, so that its short
 * sequences hit the same page, slot and CPU often). */
#ifndef NPM
#define NPM	3			/* user pmaps */
#endif
#ifndef NSLOT
#define NSLOT	48			/* virtual pages per pmap (a multiple of 4) */
#endif
#ifndef NPAGE
#define NPAGE	20			/* managed pages */
#endif
#ifndef NKSLOT
#define NKSLOT	8			/* kernel kenter slots */
#endif
#define DEVICE	NPAGE			/* "page" index of the device page */
#define NONE	(-1)

/* Slot addresses spread over four regions in different root, middle and
 * leaf-table entries (slot s is in region s % 4), so page-table pages at
 * every level come and go. */
static vaddr_t
slot_va(int s)
{
	static const vaddr_t base[4] = { 0x0000000010000000UL, 0x0000000040200000UL,
		PTEST_UVA_FAR, PTEST_UVA_TOP };
	int region = s % 4;
	return base[region] + (vaddr_t)(s / 4) * 0x1000UL * (region == 1 ? 129 : 1);
}

struct mslot {
	int page;		/* NONE, 0..NPAGE-1, DEVICE */
	bool w, x, wired;
};

struct model {
	struct mslot m[NPM][NSLOT];
	bool ref[NPAGE], mod[NPAGE];
	int kslot[NKSLOT];
	int cpu_pm[PMAP_MAXCPUS];	/* -1: kernel */
	bool pending;			/* operations since the last pmap_update */
};

static struct model M;
static struct uspace us[NPM];
static struct vm_page *pages[NPAGE];
static vaddr_t kbase;
static int failures;
static long step;
static uint64_t seed_now;
/* Where the model's choices come from (a seeded generator, or a fuzzer's
 * bytes), and what a mismatch does beyond being counted. */
static uint64_t (*model_next)(void);
static void (*model_on_fail)(void);

static uint64_t
tag(int page)
{
	return 0x7a6700000000ULL | ((uint64_t)page << 8);
}

static unsigned
rnd(unsigned n)
{
	return (unsigned)(model_next() % n);
}

static bool
fail(const char *what, long a, long b)
{
	if (failures++ < 5)
		tap_diag("seed %llu step %ld: %s (got %ld, model %ld)",
		    (unsigned long long)seed_now, step, what, a, b);
	if (model_on_fail != NULL)
		model_on_fail();
	return false;
}

/* ---- expected page-table pages of a pmap, from the model ---- */

static long
model_ptps(int p)
{
	vaddr_t seen[PMAP_PTP_LEVELS][NSLOT];
	int n[PMAP_PTP_LEVELS] = { 0 };
	static const int shift[PMAP_PTP_LEVELS] = PMAP_PTP_SHIFTS;
	for (int s = 0; s < NSLOT; s++) {
		if (M.m[p][s].page == NONE)
			continue;
		for (int l = 0; l < PMAP_PTP_LEVELS; l++) {
			vaddr_t key = slot_va(s) >> shift[l];
			bool dup = false;
			for (int i = 0; i < n[l]; i++)
				dup |= seen[l][i] == key;
			if (!dup)
				seen[l][n[l]++] = key;
		}
	}
	int total = 0;
	for (int l = 0; l < PMAP_PTP_LEVELS; l++)
		total += n[l];
	return total;
}

static long
model_count(int p, bool wired_only)
{
	long n = 0;
	for (int s = 0; s < NSLOT; s++)
		n += M.m[p][s].page != NONE && (!wired_only || M.m[p][s].wired);
	return n;
}

/* ---- operations ---- */

static void
op_enter(void)
{
	int p = (int)rnd(NPM), s = (int)rnd(NSLOT);
	int page = rnd(16) == 0 ? DEVICE : (int)rnd(NPAGE);
	bool w = rnd(2), x = rnd(3) == 0, wired = rnd(4) == 0;
	bool xm = x || !ptest_have_nx();	/* without NX, readable is executable */
	vm_prot_t prot = VM_PROT_READ | (w ? VM_PROT_WRITE : 0) | (x ? VM_PROT_EXECUTE : 0);
	u_int access = 0;
	if (rnd(2))
		access |= VM_PROT_READ;
	if (w && rnd(3) == 0)
		access |= VM_PROT_WRITE;
	paddr_t pa = page == DEVICE ? ptest_device_pa() : ptest_page_pa(pages[page]);
	int r = pmap_enter(us[p].us_pm, slot_va(s), pa, prot, access | (wired ? PMAP_WIRED : 0));
	if (r != 0)
		fail("pmap_enter failed", r, 0);
	M.m[p][s] = (struct mslot){ page, w, xm, wired };
	if (page != DEVICE) {
		if (access)
			M.ref[page] = true;
		if (access & VM_PROT_WRITE)
			M.mod[page] = true;
	}
	M.pending = true;
}

static void
range(int *a, int *b)
{
	*a = (int)rnd(NSLOT);
	*b = *a + 1 + (int)rnd(rnd(4) == 0 ? NSLOT : 4);
	if (*b > NSLOT)
		*b = NSLOT;
}

static void
op_remove(void)
{
	int p = (int)rnd(NPM), a, b;
	range(&a, &b);
	/* Slots are not sorted by address across bases: remove each slot's
	 * own range, sometimes as one call over a contiguous base. */
	for (int s = a; s < b; s++) {
		pmap_remove(us[p].us_pm, slot_va(s), slot_va(s) + PAGE_SIZE);
		M.m[p][s].page = NONE;
	}
	M.pending = true;
}

static void
op_remove_all_base(void)
{
	/* One pmap_remove over a whole region. */
	int p = (int)rnd(NPM), region = (int)rnd(4);
	vaddr_t lo = slot_va(region), hi = slot_va(NSLOT - 4 + region) + PAGE_SIZE;
	pmap_remove(us[p].us_pm, lo, hi);
	for (int s = region; s < NSLOT; s += 4)
		M.m[p][s].page = NONE;
	M.pending = true;
}

/* The model's pmap_protect / pmap_page_protect on one slot. */
static void
model_restrict(struct mslot *m, vm_prot_t prot)
{
	if ((prot & (VM_PROT_READ | VM_PROT_EXECUTE)) == 0) {
		m->page = NONE;
		return;
	}
	m->w = m->w && (prot & VM_PROT_WRITE);
	m->x = m->x && ((prot & VM_PROT_EXECUTE) || !ptest_have_nx());
}

static void
op_protect(void)
{
	int p = (int)rnd(NPM), a, b;
	range(&a, &b);
	vm_prot_t prot = (vm_prot_t)rnd(8);
	for (int s = a; s < b; s++) {
		pmap_protect(us[p].us_pm, slot_va(s), slot_va(s) + PAGE_SIZE, prot);
		if (M.m[p][s].page != NONE)
			model_restrict(&M.m[p][s], prot);
	}
	M.pending = true;
}

static void
op_page_protect(void)
{
	int page = (int)rnd(NPAGE);
	vm_prot_t prot = (vm_prot_t)rnd(8);
	pmap_page_protect(pages[page], prot);
	for (int p = 0; p < NPM; p++)
		for (int s = 0; s < NSLOT; s++)
			if (M.m[p][s].page == page)
				model_restrict(&M.m[p][s], prot);
}

static void
op_unwire(void)
{
	int p = (int)rnd(NPM), s = (int)rnd(NSLOT);
	if (M.m[p][s].page == NONE)
		return;
	pmap_unwire(us[p].us_pm, slot_va(s));
	M.m[p][s].wired = false;
}

static void
op_clear(void)
{
	int page = (int)rnd(NPAGE);
	if (rnd(2)) {
		bool r = pmap_clear_modify(pages[page]);
		if (r != M.mod[page])
			fail("pmap_clear_modify result", r, M.mod[page]);
		M.mod[page] = false;
	} else {
		bool r = pmap_clear_reference(pages[page]);
		/* Speculation may have referenced a mapped page nobody used
		 * (a TLB fill sets A): only a false "no" is wrong then. */
		if (r != M.ref[page] && !(r && ptest_speculates()))
			fail("pmap_clear_reference result", r, M.ref[page]);
		M.ref[page] = false;
	}
}

static void
op_kenter(void)
{
	int k = (int)rnd(NKSLOT);
	vaddr_t va = kbase + (vaddr_t)k * PAGE_SIZE;
	if (M.kslot[k] == NONE) {
		int page = (int)rnd(NPAGE);
		pmap_kenter_pa(va, ptest_page_pa(pages[page]), VM_PROT_READ | VM_PROT_WRITE, 0);
		M.kslot[k] = page;
	} else {
		pmap_kremove(va, PAGE_SIZE);
		M.kslot[k] = NONE;
	}
	M.pending = true;
}

static void
update(void)
{
	/* pmap(9): pmap_update completes the delayed changes of the pmap it
	 * is given - each one that may have some. */
	for (int p = 0; p < NPM; p++)
		pmap_update(us[p].us_pm);
	pmap_update(pmap_kernel());
	M.pending = false;
	if (ptest_have_auditor()) {
		char text[512];
		if (!ptest_audit(text, sizeof(text))) {
			fail("TLB auditor", 0, 0);
			tap_diag("%s", text);
		}
	}
}

static void
op_access(void)
{
	if (M.pending)
		update();
	int cpu = (int)rnd((unsigned)ptest_ncpus());
	if (rnd(5) == 0) {
		/* A kernel slot, read from a CPU running some user pmap. */
		int k = (int)rnd(NKSLOT), p = (int)rnd(NPM);
		struct access a = access_on(cpu, us[p].us_l, kbase + (vaddr_t)k * PAGE_SIZE,
		    ACC_READ, 0, 0);
		M.cpu_pm[cpu] = p;
		if (M.kslot[k] == NONE ? a.a_result != PTEST_PF
				       : (a.a_result != PTEST_OK || a.a_val != tag(M.kslot[k])))
			fail("kernel slot access", a.a_result, M.kslot[k]);
		return;
	}
	int p = (int)rnd(NPM), s = (int)rnd(NSLOT), kind = (int)rnd(3);
	struct mslot *m = &M.m[p][s];
	if (m->page == DEVICE)
		return;		/* device memory holds no tag */
	struct access a = access_on(cpu, us[p].us_l, slot_va(s), kind, PTEST_USER,
	    m->page != NONE ? tag(m->page) : 0);
	M.cpu_pm[cpu] = p;
	bool allowed = m->page != NONE && (kind == 0 || (kind == 1 && m->w) || (kind == 2 && m->x));
	if (!allowed) {
		if (a.a_result != PTEST_PF)
			fail("access should fault", a.a_result, PTEST_PF);
		return;
	}
	if (a.a_result != PTEST_OK) {
		fail("access should succeed", a.a_result, PTEST_OK);
		return;
	}
	if (kind == ACC_READ && a.a_val != tag(m->page))
		fail("read the wrong page", (long)a.a_val, (long)tag(m->page));
	M.ref[m->page] = true;
	if (kind == 1)
		M.mod[m->page] = true;
}

/* ---- checks after every step ---- */

static void
check_step(void)
{
	for (int p = 0; p < NPM; p++) {
		pmap_t pm = us[p].us_pm;
		if (pmap_resident_count(pm) != model_count(p, false))
			fail("resident count", pmap_resident_count(pm), model_count(p, false));
		if (pmap_wired_count(pm) != model_count(p, true))
			fail("wired count", pmap_wired_count(pm), model_count(p, true));
		if (pmap_ptp_count(pm) != model_ptps(p))
			fail("page-table pages", pmap_ptp_count(pm), model_ptps(p));
	}
	for (int pg = 0; pg < NPAGE; pg++) {
		if (pmap_is_modified(pages[pg]) != M.mod[pg])
			fail("pmap_is_modified", pmap_is_modified(pages[pg]), M.mod[pg]);
		bool r = pmap_is_referenced(pages[pg]);
		if (r != M.ref[pg] && !(r && ptest_speculates()))
			fail("pmap_is_referenced", r, M.ref[pg]);
	}
	int page = (int)rnd(NPAGE);
	/* The walkers panic on an inconsistency; catch it as a failure. */
	char msg[256];
	int p = (int)rnd(NPM);
	if (ptest_catch_panic(check_pmap_fn, us[p].us_pm, msg, sizeof(msg)) ||
	    ptest_catch_panic(check_page_fn, pages[page], msg, sizeof(msg))) {
		fail("consistency walker", 0, 0);
		tap_diag("%s", msg);
	}
}

/* ---- a whole sequence ---- */

static void
model_setup(void)
{
	for (int p = 0; p < NPM; p++) {
		us[p] = uspace_new();
		for (int s = 0; s < NSLOT; s++)
			M.m[p][s].page = NONE;
	}
	for (int i = 0; i < NPAGE; i++) {
		pages[i] = page_with(tag(i));
		M.ref[i] = M.mod[i] = false;
	}
	for (int k = 0; k < NKSLOT; k++)
		M.kslot[k] = NONE;
	M.pending = false;
	kbase = test_kva(NKSLOT);
}

/* One random operation, then the checks. */
static void
model_step(void)
{
	unsigned r = rnd(100);
	if (r < 30)
		op_enter();
	else if (r < 38)
		op_remove();
	else if (r < 41)
		op_remove_all_base();
	else if (r < 48)
		op_protect();
	else if (r < 53)
		op_page_protect();
	else if (r < 56)
		op_unwire();
	else if (r < 62)
		op_clear();
	else if (r < 67)
		op_kenter();
	else if (r < 72)
		update();
	else
		op_access();
	check_step();
	step++;
}

/* Tear down: every mapping, pmap and page must come back. */
static void
model_teardown(void)
{
	park_all();
	for (int k = 0; k < NKSLOT; k++)
		if (M.kslot[k] != NONE)
			pmap_kremove(kbase + (vaddr_t)k * PAGE_SIZE, PAGE_SIZE);
	pmap_update(pmap_kernel());
	for (int p = 0; p < NPM; p++) {
		pmap_remove_all(us[p].us_pm);
		uspace_free(&us[p]);
	}
	for (int i = 0; i < NPAGE; i++) {
		pmap_page_protect(pages[i], VM_PROT_NONE);
		ptest_page_free(pages[i]);
	}
}

#endif
