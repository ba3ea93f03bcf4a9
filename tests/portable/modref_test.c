// SPDX-License-Identifier: BSD-2-Clause
/*
 * modref_test.c - referenced and modified are attributes of the page
 * (pmap(9) "MODIFIED/REFERENCED INFORMATION"):
 *  - a write through any mapping marks the page modified, a successful
 *    access marks it referenced;
 *  - pmap_enter's access type seeds them;
 *  - they survive the removal of every mapping;
 *  - only pmap_clear_modify / pmap_clear_reference clear them, and after
 *    that the next write (access) through ANY existing mapping on ANY CPU
 *    sets them again - even where a TLB had the translation cached dirty;
 *  - pmap_kenter_pa mappings are not tracked.
 */
#include "ptest_util.h"

static int
access_from(int cpu, struct lwp *l, vaddr_t va, bool write)
{
	return uaccess(cpu, l, va, write ? ACC_WRITE : ACC_READ);
}

static void
t_basic(void)
{
	struct uspace u = uspace_new();
	struct vm_page *pg = page_with(1);
	paddr_t pa = ptest_page_pa(pg);

	pmap_enter(u.us_pm, UVA(0), pa, VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_update(u.us_pm);
	ok(!pmap_is_modified(pg) && !pmap_is_referenced(pg),
	    "a mapping entered with no access type: neither referenced nor modified");
	is_int(access_from(1, u.us_l, UVA(0), false), PTEST_OK, "read from cpu 1");
	ok(pmap_is_referenced(pg) && !pmap_is_modified(pg), "a read: referenced, not modified");
	is_int(access_from(1, u.us_l, UVA(0), true), PTEST_OK, "write from cpu 1");
	ok(pmap_is_modified(pg), "a write: modified");

	/* Attributes of the page survive the last mapping. */
	pmap_remove(u.us_pm, UVA(0), UVA(1));
	pmap_update(u.us_pm);
	ok(pmap_is_modified(pg) && pmap_is_referenced(pg),
	    "modified and referenced survive the removal of every mapping");
	ok(pmap_clear_modify(pg), "pmap_clear_modify returns true: it was modified");
	ok(!pmap_clear_modify(pg), "a second pmap_clear_modify returns false");
	ok(!pmap_is_modified(pg), "not modified after clearing");
	ok(pmap_clear_reference(pg), "pmap_clear_reference returns true");
	ok(!pmap_is_referenced(pg), "not referenced after clearing");

	/* Seeding from the access type. */
	pmap_enter(u.us_pm, UVA(1), pa, VM_PROT_READ | VM_PROT_WRITE,
	    VM_PROT_READ | VM_PROT_WRITE);
	ok(pmap_is_modified(pg) && pmap_is_referenced(pg),
	    "pmap_enter with access type READ|WRITE seeds referenced and modified");
	pmap_remove(u.us_pm, UVA(1), UVA(2));
	pmap_update(u.us_pm);
	pmap_clear_modify(pg);
	pmap_clear_reference(pg);
	pmap_enter(u.us_pm, UVA(1), pa, VM_PROT_READ | VM_PROT_WRITE, VM_PROT_READ);
	ok(!pmap_is_modified(pg) && pmap_is_referenced(pg),
	    "access type READ seeds referenced only");

	park_all();
	uspace_free(&u);
	ptest_page_free(pg);
}

/*
 * The lost-modification case: CPU 1 writes (its TLB now holds the
 * translation dirty), CPU 0 clears the modified bit, CPU 1 writes again
 * through the same mapping.  The page must be modified again.
 */
static void
t_clear_modify_remote(void)
{
	struct uspace u = uspace_new();
	struct vm_page *pg = page_with(2);
	pmap_enter(u.us_pm, UVA(5), ptest_page_pa(pg), VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_update(u.us_pm);

	int misses = 0, rounds = 50;
	for (int i = 0; i < rounds; i++) {
		int cpu = 1 + i % (ptest_ncpus() - 1);
		access_from(cpu, u.us_l, UVA(5), true);
		if (!pmap_clear_modify(pg))
			misses++;
		access_from(cpu, u.us_l, UVA(5), true);
		if (!pmap_is_modified(pg))
			misses++;
	}
	is_int(misses, 0, "after pmap_clear_modify, a write through an existing mapping "
	    "on another CPU marks the page modified again (%d rounds)", rounds);
	audit_ok("clear_modify rounds");

	/* Same for referenced, with reads. */
	misses = 0;
	for (int i = 0; i < rounds; i++) {
		int cpu = 1 + i % (ptest_ncpus() - 1);
		access_from(cpu, u.us_l, UVA(5), false);
		if (!pmap_clear_reference(pg))
			misses++;
		access_from(cpu, u.us_l, UVA(5), false);
		if (!pmap_is_referenced(pg))
			misses++;
	}
	is_int(misses, 0, "after pmap_clear_reference, a read on another CPU marks the "
	    "page referenced again");

	park_all();
	uspace_free(&u);
	ptest_page_free(pg);
}

/* Several mappings in several pmaps: attributes are per page. */
static void
t_shared_page(void)
{
	struct uspace a = uspace_new(), b = uspace_new();
	struct vm_page *pg = page_with(3);
	paddr_t pa = ptest_page_pa(pg);
	pmap_enter(a.us_pm, UVA(0), pa, VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_enter(a.us_pm, UVA(9), pa, VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_enter(b.us_pm, UVA(4), pa, VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_update(a.us_pm);
	access_from(2, b.us_l, UVA(4), true);
	ok(pmap_is_modified(pg), "a write through pmap B marks the page");
	ok(pmap_clear_modify(pg), "cleared");
	access_from(1, a.us_l, UVA(9), true);
	ok(pmap_is_modified(pg), "a write through pmap A's second mapping marks it again");
	check_page_ok("shared page", pg);
	check_pmap_ok("pmap A", a.us_pm);
	check_pmap_ok("pmap B", b.us_pm);
	park_all();
	uspace_free(&a);
	uspace_free(&b);
	ptest_page_free(pg);
}

/* Unmanaged kernel mappings are not tracked. */
static void
t_kenter_untracked(void)
{
	vaddr_t kva = test_kva(1);
	struct vm_page *pg = page_with(4);
	pmap_kenter_pa(kva, ptest_page_pa(pg), VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_update(pmap_kernel());
	is_int(ptest_store(kva, 8, 9, 0), PTEST_OK, "write through a pmap_kenter_pa mapping");
	ok(!pmap_is_modified(pg) && !pmap_is_referenced(pg),
	    "pmap_kenter_pa mappings are not part of mod/ref tracking");
	pmap_kremove(kva, PAGE_SIZE);
	pmap_update(pmap_kernel());
	ptest_page_free(pg);
}

PTEST_SUITE(modref)
{
	t_basic();
	t_clear_modify_remote();
	t_shared_page();
	t_kenter_untracked();
}
