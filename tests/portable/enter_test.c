// SPDX-License-Identifier: BSD-2-Clause
/*
 * enter_test.c - pmap_enter / pmap_remove / pmap_extract / pmap_update on
 * one CPU: mappings appear and disappear as the MMU sees them, rights are
 * the ones asked for, replacement invalidates the old translation, the
 * statistics follow.
 */
#include "ptest_util.h"

static void
t_enter_read_write(void)
{
	struct uspace u = uspace_new();
	ptest_switch(u.us_l);
	struct vm_page *pg = page_with(0x1111);
	paddr_t pa = ptest_page_pa(pg);

	is_int(pmap_enter(u.us_pm, UVA(0), pa, VM_PROT_READ | VM_PROT_WRITE, 0), 0,
	    "pmap_enter returns 0");
	pmap_update(u.us_pm);
	is_u64(peek(UVA(0), PTEST_USER), 0x1111, "user read sees the page");
	is_int(ptest_store(UVA(0) + 8, 8, 0x2222, PTEST_USER), PTEST_OK, "user write works");
	is_u64(ptest_phys_read64(pa + 8), 0x2222, "the write reached the page");
	paddr_t got = 0;
	ok(pmap_extract(u.us_pm, UVA(0) + 0x123, &got) && got == pa + 0x123,
	    "pmap_extract keeps the offset (%#llx)", (unsigned long long)got);
	ok(!pmap_extract(u.us_pm, UVA(1), NULL), "pmap_extract of an unmapped va is false");
	is_int(pmap_resident_count(u.us_pm), 1, "resident count 1");
	is_int(pmap_wired_count(u.us_pm), 0, "wired count 0");

	pmap_remove(u.us_pm, UVA(0), UVA(1));
	pmap_update(u.us_pm);
	is_int(ptest_load(UVA(0), 8, &(uint64_t){ 0 }, PTEST_USER), PTEST_PF,
	    "after pmap_remove + pmap_update the address faults");
	struct ptest_fault f = ptest_last_fault();
	ok(f.pf_addr == UVA(0) && ptest_fault_is(f, false, ACC_READ, true), "fault: not "
	    "present, user read (address %#llx, code %#x)", (unsigned long long)f.pf_addr,
	    f.pf_code);
	is_int(pmap_resident_count(u.us_pm), 0, "resident count back to 0");
	audit_ok("remove");

	ptest_switch(NULL);
	uspace_free(&u);
	ptest_page_free(pg);
}

static void
t_rights(void)
{
	struct uspace u = uspace_new();
	ptest_switch(u.us_l);
	struct vm_page *pg = page_with(7);
	paddr_t pa = ptest_page_pa(pg);
	uint64_t v;

	pmap_enter(u.us_pm, UVA(0), pa, VM_PROT_READ, 0);
	pmap_update(u.us_pm);
	is_int(ptest_load(UVA(0), 8, &v, PTEST_USER), PTEST_OK, "read-only: read ok");
	is_int(ptest_store(UVA(0), 8, 1, PTEST_USER), PTEST_PF, "read-only: write faults");
	ok(ptest_fault_is(ptest_last_fault(), true, ACC_WRITE, true),
	    "fault: protection, user write (code %#x)", ptest_last_fault().pf_code);
	if (ptest_have_nx())
		is_int(ptest_fetch(UVA(0), PTEST_USER), PTEST_PF, "no VM_PROT_EXECUTE: fetch faults");
	else
		is_int(ptest_fetch(UVA(0), PTEST_USER), PTEST_OK, "no NX on this CPU: "
		    "every readable page is executable");

	/* Same page, more rights: pmap_enter re-protects in place. */
	pmap_enter(u.us_pm, UVA(0), pa, VM_PROT_ALL, 0);
	pmap_update(u.us_pm);
	is_int(ptest_store(UVA(0), 8, 1, PTEST_USER), PTEST_OK, "re-entered rwx: write ok");
	is_int(ptest_fetch(UVA(0), PTEST_USER), PTEST_OK, "re-entered rwx: fetch ok");
	is_int(pmap_resident_count(u.us_pm), 1, "re-protecting does not add a mapping");

	/* Kernel-only mapping of the kernel pmap is not reachable from user mode. */
	ptest_switch(NULL);
	uspace_free(&u);
	ptest_page_free(pg);
}

static void
t_replace(void)
{
	struct uspace u = uspace_new();
	ptest_switch(u.us_l);
	struct vm_page *a = page_with(0xaaaa), *b = page_with(0xbbbb);

	pmap_enter(u.us_pm, UVA(3), ptest_page_pa(a), VM_PROT_READ, 0);
	pmap_update(u.us_pm);
	is_u64(peek(UVA(3), PTEST_USER), 0xaaaa, "first page mapped");
	pmap_enter(u.us_pm, UVA(3), ptest_page_pa(b), VM_PROT_READ, 0);
	pmap_update(u.us_pm);
	is_u64(peek(UVA(3), PTEST_USER), 0xbbbb,
	    "pmap_enter over a valid mapping replaces it (old translation invalidated)");
	is_int(pmap_resident_count(u.us_pm), 1, "still one resident page");
	audit_ok("replace");

	ptest_switch(NULL);
	uspace_free(&u);
	ptest_page_free(a);
	ptest_page_free(b);
}

static void
t_unmanaged(void)
{
	struct uspace u = uspace_new();
	ptest_switch(u.us_l);
	paddr_t dev = ptest_device_pa();
	is_int(pmap_enter(u.us_pm, UVA(0), dev, VM_PROT_READ | VM_PROT_WRITE,
	    PMAP_NOCACHE), 0, "unmanaged (device) page: pmap_enter works");
	paddr_t got;
	ok(pmap_extract(u.us_pm, UVA(0), &got) && got == dev, "extract finds the device page");
	struct pmap_mapping_info mi;
	ok(pmap_mapping_info(u.us_pm, UVA(0), &mi) && !mi.mi_managed &&
	    mi.mi_cache == PMAP_NOCACHE, "device mapping: unmanaged, uncached");
	pmap_remove(u.us_pm, UVA(0), UVA(1));
	pmap_update(u.us_pm);
	ok(!pmap_extract(u.us_pm, UVA(0), NULL), "removed");
	ptest_switch(NULL);
	uspace_free(&u);
}

/* pmap(9): after pmap_remove_all, pmap_remove and pmap_destroy - with no
 * pmap_update, which it allows - every resource is released. */
static void
t_destroy_releases(void)
{
	pmap_t keep = pmap_create();	/* keeps the pmap allocator's page */
	struct vm_page *p = page_with(7);
	uint64_t before = ptest_pages_free();
	pmap_t pm = pmap_create();
	for (int i = 0; i < 8; i++)	/* eight page tables, seven pv entries */
		pmap_enter(pm, UVA(i * 512), ptest_page_pa(p), VM_PROT_READ, VM_PROT_READ);
	pmap_update(pm);
	ok(ptest_pages_free() < before, "destroy: the mappings took pages");
	pmap_remove_all(pm);
	pmap_remove(pm, 0, PMAP_USER_MAX);
	pmap_destroy(pm);
	is_u64(ptest_pages_free(), before, "destroy without pmap_update: page tables, "
	    "pv chunks and the root are back when pmap_destroy returns");
	pmap_destroy(keep);
	ptest_page_free(p);
}

/*
 * A page table freed by pmap_remove must leave no paging-structure cache
 * pointing at it, even when no leaf in it was ever used (A clear: no leaf
 * invalidation to carry the cache away).  A speculative walk through the
 * table on another CPU caches the entries above it (a faulting access
 * would drop them again).
 */
static void
walk_neighbour(void *l)
{
	ptest_switch((struct lwp *)l);
	ptest_prefetch(UVA(7));		/* not mapped: the walk ends in the table */
}

static void
t_table_free_invalidates(void)
{
	struct uspace u = uspace_new();
	struct vm_page *p = page_with(0x7a);
	pmap_enter(u.us_pm, UVA(6), ptest_page_pa(p), VM_PROT_READ, 0);	/* A clear */
	pmap_update(u.us_pm);
	ptest_run_on(1, walk_neighbour, u.us_l);
	pmap_remove(u.us_pm, UVA(6), UVA(7));	/* empties the table: freed */
	pmap_update(u.us_pm);
	is_int(pmap_ptp_count(u.us_pm), 0, "removing the only mapping frees its page tables");
	audit_ok("a page table freed after a walk through it on another CPU");
	park_all();
	uspace_free(&u);
	ptest_page_free(p);
}

PTEST_SUITE(enter)
{
	t_enter_read_write();
	t_rights();
	t_replace();
	t_unmanaged();
	t_destroy_releases();
	t_table_free_invalidates();
}
