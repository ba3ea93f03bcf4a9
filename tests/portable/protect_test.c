// SPDX-License-Identifier: BSD-2-Clause
/*
 * protect_test.c - lowering rights: pmap_protect (deferred, completed by
 * pmap_update) and pmap_page_protect (immediate), seen from every CPU,
 * including CPUs whose TLB holds the old, writable translation.
 */
#include "ptest_util.h"

static int
on(int cpu, struct lwp *l, vaddr_t va, int op, struct ptest_fault *f)
{
	struct access a = access_on(cpu, l, va, op, PTEST_USER, 0x77);
	if (f != NULL)
		*f = a.a_fault;
	return a.a_result;
}

/* Every CPU but 0 does op at va; count those whose result differs. */
static int
all_cpus(struct lwp *l, vaddr_t va, int op, int want)
{
	int bad = 0;
	for (int c = 1; c < ptest_ncpus(); c++)
		bad += on(c, l, va, op, NULL) != want;
	return bad;
}

static void
t_pmap_protect(void)
{
	struct uspace u = uspace_new();
	struct vm_page *pg[4];
	for (int i = 0; i < 4; i++) {
		pg[i] = page_with((uint64_t)i);
		pmap_enter(u.us_pm, UVA(i), ptest_page_pa(pg[i]), VM_PROT_ALL, 0);
	}
	pmap_update(u.us_pm);
	/* Every CPU writes, caching writable (dirty) translations. */
	int bad = 0;
	for (int i = 0; i < 4; i++)
		bad += all_cpus(u.us_l, UVA(i), 1, PTEST_OK);
	is_int(bad, 0, "all CPUs write through four rwx mappings");

	pmap_protect(u.us_pm, UVA(1), UVA(3), VM_PROT_READ | VM_PROT_EXECUTE);
	pmap_update(u.us_pm);
	bad = 0;
	struct ptest_fault f;
	for (int c = 1; c < ptest_ncpus(); c++) {
		bad += on(c, u.us_l, UVA(1), 1, &f) != PTEST_PF ||
		    !ptest_fault_is(f, true, ACC_WRITE, true);
		bad += on(c, u.us_l, UVA(2), 1, NULL) != PTEST_PF;
		bad += on(c, u.us_l, UVA(1), 0, NULL) != PTEST_OK;
		bad += on(c, u.us_l, UVA(2), 2, NULL) != PTEST_OK;
	}
	is_int(bad, 0, "after pmap_protect(READ|EXEC) + pmap_update: writes fault on every "
	    "CPU (protection, user write), reads and fetches still work");
	ok(all_cpus(u.us_l, UVA(0), 1, PTEST_OK) == 0 && all_cpus(u.us_l, UVA(3), 1, PTEST_OK) == 0,
	    "pages outside the range keep their rights");

	pmap_protect(u.us_pm, UVA(0), UVA(1), VM_PROT_READ);
	pmap_update(u.us_pm);
	ok(all_cpus(u.us_l, UVA(0), 2, ptest_have_nx() ? PTEST_PF : PTEST_OK) == 0,
	    "pmap_protect without EXECUTE: fetches fault everywhere (where the CPU has NX)");

	/* pmap_protect never adds rights. */
	pmap_protect(u.us_pm, UVA(1), UVA(2), VM_PROT_ALL);
	pmap_update(u.us_pm);
	ok(all_cpus(u.us_l, UVA(1), 1, PTEST_PF) == 0, "pmap_protect(ALL) does not restore "
	    "write access");

	pmap_protect(u.us_pm, UVA(3), UVA(4), VM_PROT_NONE);
	pmap_update(u.us_pm);
	ok(all_cpus(u.us_l, UVA(3), 0, PTEST_PF) == 0 && !pmap_extract(u.us_pm, UVA(3), NULL),
	    "pmap_protect(NONE) removes the mapping");
	is_int(pmap_resident_count(u.us_pm), 3, "resident count follows");
	audit_ok("pmap_protect");
	check_pmap_ok("after pmap_protect", u.us_pm);

	park_all();
	uspace_free(&u);
	for (int i = 0; i < 4; i++)
		ptest_page_free(pg[i]);
}

/* CPUs that stay on one address space each in t_page_protect: odd CPUs
 * run a, even ones b, so a check never reloads CR3 (which would flush the
 * stale entry it looks for). */
static struct uspace *pp_a, *pp_b;

static int
own_cpus(vaddr_t va_a, vaddr_t va_b, int op, int want)
{
	int bad = 0;
	for (int c = 1; c < ptest_ncpus(); c++) {
		bool runs_a = c % 2 == 1;
		bad += on(c, runs_a ? pp_a->us_l : pp_b->us_l, runs_a ? va_a : va_b, op, NULL) !=
		    want;
	}
	return bad;
}

static void
t_page_protect(void)
{
	struct uspace a = uspace_new(), b = uspace_new();
	pp_a = &a;
	pp_b = &b;
	struct vm_page *pg = page_with(0x99);
	paddr_t pa = ptest_page_pa(pg);
	pmap_enter(a.us_pm, UVA(0), pa, VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_enter(a.us_pm, UVA(7), pa, VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_enter(b.us_pm, UVA(3), pa, VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_update(a.us_pm);
	vaddr_t kva = test_kva(1);
	pmap_kenter_pa(kva, pa, VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_update(pmap_kernel());

	int bad = own_cpus(UVA(0), UVA(3), 1, PTEST_OK) + own_cpus(UVA(7), UVA(3), 1, PTEST_OK);
	is_int(bad, 0, "three mappings in two pmaps, written from every CPU (each CPU "
	    "staying on its pmap)");

	/* Copy-on-write style: no pmap_update needed, effective at return. */
	pmap_page_protect(pg, VM_PROT_READ);
	bad = own_cpus(UVA(0), UVA(3), 1, PTEST_PF) + own_cpus(UVA(7), UVA(3), 1, PTEST_PF);
	is_int(bad, 0, "pmap_page_protect(READ) takes effect before it returns, on every "
	    "CPU holding a writable translation");
	bad = own_cpus(UVA(0), UVA(3), 0, PTEST_OK);
	is_int(bad, 0, "reads still work");
	is_int(ptest_store(kva, 8, 1, 0), PTEST_OK,
	    "the pmap_kenter_pa mapping of the same page is untouched");

	pmap_page_protect(pg, VM_PROT_READ | VM_PROT_WRITE);
	is_int(own_cpus(UVA(0), UVA(3), 1, PTEST_PF), 0,
	    "pmap_page_protect never adds rights back");

	pmap_page_protect(pg, VM_PROT_NONE);
	bad = own_cpus(UVA(0), UVA(3), 0, PTEST_PF) + own_cpus(UVA(7), UVA(3), 0, PTEST_PF);
	is_int(bad, 0, "pmap_page_protect(NONE) removes every mapping, at once, everywhere");
	ok(pmap_resident_count(a.us_pm) == 0 && pmap_resident_count(b.us_pm) == 0,
	    "resident counts drop to zero");
	is_u64(peek(kva, 0), 1, "the pmap_kenter_pa mapping still maps the page");
	audit_ok("pmap_page_protect");
	check_page_ok("after page_protect(NONE)", pg);
	check_pmap_ok("pmap A", a.us_pm);

	pmap_kremove(kva, PAGE_SIZE);
	pmap_update(pmap_kernel());
	park_all();
	uspace_free(&a);
	uspace_free(&b);
	ptest_page_free(pg);
}

/*
 * More invalidations than one batch holds: PMAP_TLB_MAXVA + 8 pages, all
 * cached on another CPU, lowered in one pmap_protect (and, in the kernel,
 * removed in one pmap_kremove): the batch must turn into a full flush, not
 * drop the extra addresses.
 */
#define NBIG (PMAP_TLB_MAXVA + 8)

struct sweep {
	struct lwp *l;
	vaddr_t base;
	int kind;
	unsigned flags;
	int want, bad;
};

static void
sweep_run(void *p)
{
	struct sweep *sw = p;
	ptest_switch(sw->l);
	sw->bad = 0;
	for (int i = 0; i < NBIG; i++) {
		vaddr_t va = sw->base + (vaddr_t)i * PAGE_SIZE;
		uint64_t v = 0x77;
		int r = sw->kind == ACC_WRITE ? ptest_store(va, 8, v, sw->flags)
					      : ptest_load(va, 8, &v, sw->flags);
		sw->bad += r != sw->want;
	}
}

static int
sweep_on(int cpu, struct lwp *l, vaddr_t base, int kind, unsigned flags, int want)
{
	struct sweep sw = { l, base, kind, flags, want, 0 };
	ptest_run_on(cpu, sweep_run, &sw);
	return sw.bad;
}

static void
t_batch_overflow(void)
{
	struct uspace u = uspace_new();
	struct vm_page *pg = page_with(0xb16);
	for (int i = 0; i < NBIG; i++)
		pmap_enter(u.us_pm, UVA(i), ptest_page_pa(pg), VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_update(u.us_pm);
	is_int(sweep_on(1, u.us_l, UVA(0), ACC_WRITE, PTEST_USER, PTEST_OK), 0,
	    "CPU 1 writes through %d mappings", NBIG);
	pmap_protect(u.us_pm, UVA(0), UVA(NBIG), VM_PROT_READ);
	pmap_update(u.us_pm);
	is_int(sweep_on(1, u.us_l, UVA(0), ACC_WRITE, PTEST_USER, PTEST_PF), 0,
	    "after one pmap_protect of %d pages (more than a batch holds) and "
	    "pmap_update, every write faults on CPU 1", NBIG);

	vaddr_t kva = test_kva(NBIG);
	for (int i = 0; i < NBIG; i++)
		pmap_kenter_pa(kva + (vaddr_t)i * PAGE_SIZE, ptest_page_pa(pg), VM_PROT_READ, 0);
	pmap_update(pmap_kernel());
	is_int(sweep_on(2, NULL, kva, ACC_READ, 0, PTEST_OK), 0, "CPU 2 reads %d kernel "
	    "mappings", NBIG);
	pmap_kremove(kva, (vsize_t)NBIG * PAGE_SIZE);
	pmap_update(pmap_kernel());
	is_int(sweep_on(2, NULL, kva, ACC_READ, 0, PTEST_PF), 0, "after one pmap_kremove "
	    "of all of them and pmap_update, every read faults on CPU 2");
	audit_ok("a batch overflowing into a full flush");
	park_all();
	uspace_free(&u);
	ptest_page_free(pg);
}

/* CPUs 1-3 start the shootdown; CPU 0 holds the stale translation. */
static struct uspace s0;

static void
cpu_protect(void *p)
{
	(void)p;
	pmap_protect(s0.us_pm, UVA(0), UVA(1), VM_PROT_READ);
	pmap_update(s0.us_pm);
}

static void
cpu_page_protect(void *p)
{
	pmap_page_protect((struct vm_page *)p, VM_PROT_READ);
}

static void
cpu_remove(void *p)
{
	(void)p;
	pmap_remove(s0.us_pm, UVA(0), UVA(1));
	pmap_update(s0.us_pm);
}

static void
t_shootdown_to_cpu0(void)
{
	if (ptest_ncpus() < 4) {
		tap_skip(3, "needs 4 CPUs");
		return;
	}
	s0 = uspace_new();
	struct vm_page *pg = page_with(0x50);
	void (*ops[3])(void *) = { cpu_protect, cpu_page_protect, cpu_remove };
	const char *what[3] = { "pmap_protect + pmap_update", "pmap_page_protect(READ)",
		"pmap_remove + pmap_update" };
	ptest_switch(s0.us_l);
	for (int k = 0; k < 3; k++) {
		pmap_enter(s0.us_pm, UVA(0), ptest_page_pa(pg), VM_PROT_READ | VM_PROT_WRITE, 0);
		pmap_enter(s0.us_pm, UVA(1), ptest_page_pa(pg), VM_PROT_READ, 0); /* keeps the table */
		pmap_update(s0.us_pm);
		int w = ptest_store(UVA(0), 8, 0x51, PTEST_USER);	/* CPU 0 caches it */
		ptest_run_on(1 + k, ops[k], pg);
		int after = ptest_store(UVA(0), 8, 0x52, PTEST_USER);
		ok(w == PTEST_OK && after == PTEST_PF, "%s on CPU %d: CPU 0's cached "
		    "writable translation is gone", what[k], 1 + k);
	}
	ptest_switch(NULL);
	uspace_free(&s0);
	pmap_page_protect(pg, VM_PROT_NONE);
	ptest_page_free(pg);
}

PTEST_SUITE(protect)
{
	t_pmap_protect();
	t_page_protect();
	t_batch_overflow();
	t_shootdown_to_cpu0();
}
