/*
 * protect_test.c - lowering rights: pmap_protect (deferred, completed by
 * pmap_update) and pmap_page_protect (immediate), seen from every CPU,
 * including CPUs whose TLB holds the old, writable translation.
 */
#include "ptest_util.h"

static int
on(int cpu, struct lwp *l, vaddr_t va, int op, uint32_t *code)
{
	struct access a = access_on(cpu, l, va, op, PTEST_USER, 0x77);
	if (code != NULL)
		*code = a.a_code;
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
	uint32_t code = 0;
	for (int c = 1; c < ptest_ncpus(); c++) {
		bad += on(c, u.us_l, UVA(1), 1, &code) != PTEST_PF || code != 0x7;
		bad += on(c, u.us_l, UVA(2), 1, NULL) != PTEST_PF;
		bad += on(c, u.us_l, UVA(1), 0, NULL) != PTEST_OK;
		bad += on(c, u.us_l, UVA(2), 2, NULL) != PTEST_OK;
	}
	is_int(bad, 0, "after pmap_protect(READ|EXEC) + pmap_update: writes fault on every "
	    "CPU (error code 7), reads and fetches still work");
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

static void
t_page_protect(void)
{
	struct uspace a = uspace_new(), b = uspace_new();
	struct vm_page *pg = page_with(0x99);
	paddr_t pa = ptest_page_pa(pg);
	pmap_enter(a.us_pm, UVA(0), pa, VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_enter(a.us_pm, UVA(7), pa, VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_enter(b.us_pm, UVA(3), pa, VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_update(a.us_pm);
	vaddr_t kva = test_kva(1);
	pmap_kenter_pa(kva, pa, VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_update(pmap_kernel());

	int bad = all_cpus(a.us_l, UVA(0), 1, PTEST_OK) + all_cpus(a.us_l, UVA(7), 1, PTEST_OK) +
	    all_cpus(b.us_l, UVA(3), 1, PTEST_OK);
	is_int(bad, 0, "three mappings in two pmaps, written from every CPU");

	/* Copy-on-write style: no pmap_update needed, effective at return. */
	pmap_page_protect(pg, VM_PROT_READ);
	bad = all_cpus(a.us_l, UVA(0), 1, PTEST_PF) + all_cpus(a.us_l, UVA(7), 1, PTEST_PF) +
	    all_cpus(b.us_l, UVA(3), 1, PTEST_PF);
	is_int(bad, 0, "pmap_page_protect(READ) takes effect before it returns, everywhere");
	bad = all_cpus(b.us_l, UVA(3), 0, PTEST_OK);
	is_int(bad, 0, "reads still work");
	is_int(ptest_store(kva, 8, 1, 0), PTEST_OK,
	    "the pmap_kenter_pa mapping of the same page is untouched");

	pmap_page_protect(pg, VM_PROT_READ | VM_PROT_WRITE);
	is_int(all_cpus(b.us_l, UVA(3), 1, PTEST_PF), 0,
	    "pmap_page_protect never adds rights back");

	pmap_page_protect(pg, VM_PROT_NONE);
	bad = all_cpus(a.us_l, UVA(0), 0, PTEST_PF) + all_cpus(a.us_l, UVA(7), 0, PTEST_PF) +
	    all_cpus(b.us_l, UVA(3), 0, PTEST_PF);
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

PTEST_SUITE(protect)
{
	t_pmap_protect();
	t_page_protect();
}
