// SPDX-License-Identifier: BSD-2-Clause
/*
 * caller_errors_test.c - a caller error is a panic whose message names the
 * function and the offending values, raised before anything changed; the
 * library is still usable afterwards.
 */
#include "ptest_util.h"

static pmap_t upm;
static vaddr_t kva;
static struct vm_page *pg;

static void e_misaligned(void *p) { (void)p; pmap_enter(upm, UVA(0) + 8, ptest_page_pa(pg), VM_PROT_READ, 0); }
static void e_user_in_kernel(void *p) { (void)p; pmap_enter(pmap_kernel(), UVA(0), ptest_page_pa(pg), VM_PROT_READ, 0); }
static void e_kernel_in_user(void *p) { (void)p; pmap_enter(upm, kva, ptest_page_pa(pg), VM_PROT_READ, 0); }
static void e_access_exceeds(void *p) { (void)p; pmap_enter(upm, UVA(0), ptest_page_pa(pg), VM_PROT_READ, VM_PROT_WRITE); }
static void e_kenter_twice(void *p) { (void)p; pmap_kenter_pa(kva, ptest_page_pa(pg), VM_PROT_READ, 0); }
static void e_kremove_managed(void *p) { (void)p; pmap_kremove(kva + PAGE_SIZE, PAGE_SIZE); }
static void e_remove_kenter(void *p) { (void)p; pmap_remove(pmap_kernel(), kva, kva + PAGE_SIZE); }
static void e_enter_over_kenter(void *p) { (void)p; pmap_enter(pmap_kernel(), kva, ptest_page_pa(pg), VM_PROT_READ, 0); }
static void e_unwire_unmapped(void *p) { (void)p; pmap_unwire(upm, UVA(40)); }
static void e_remove_reversed(void *p) { (void)p; pmap_remove(upm, UVA(2), UVA(1)); }
static void e_kenter_outside(void *p) { (void)p; pmap_kenter_pa(PMAP_USER_MAX - PAGE_SIZE, ptest_page_pa(pg), VM_PROT_READ, 0); }

static void
e_nested_quick(void *p)
{
	(void)p;
	pmap_quick_enter_page(pg);
}

static struct sf_buf *sf;
static void e_sfbuf_twice(void *p) { (void)p; sf_buf_free(sf); }
static void e_qremove_managed(void *p) { (void)p; pmap_qremove(kva + PAGE_SIZE, 1); }

/* Below the start of pmap_virtual_space: the library's own windows. */
static vaddr_t
window_va(void)
{
	vaddr_t s, e;
	pmap_virtual_space(&s, &e);
	return s - PAGE_SIZE;
}
static void e_enter_window(void *p) { (void)p; pmap_enter(pmap_kernel(), window_va(), ptest_page_pa(pg), VM_PROT_READ, 0); }
static void e_kenter_window(void *p) { (void)p; pmap_kenter_pa(window_va(), ptest_page_pa(pg), VM_PROT_READ, 0); }
static void e_kremove_window(void *p) { (void)p; pmap_kremove(window_va(), PAGE_SIZE); }
/* (Only where paddr_t is wider than the machine's physical addresses.) */
#define WIDE(x) ((paddr_t)(uint64_t)(x))
static void e_pa_52(void *p) { (void)p; pmap_enter(upm, UVA(5), WIDE(1ULL << 52), VM_PROT_READ, 0); }
static void e_pa_63(void *p) { (void)p; pmap_enter(upm, UVA(5), WIDE(1ULL << 63), VM_PROT_READ, 0); }
static void e_kenter_pa_wide(void *p) { (void)p; pmap_kenter_pa(kva + 2 * PAGE_SIZE, WIDE(1ULL << 52), VM_PROT_READ, 0); }
static pmap_t dead;
static void e_destroy_twice(void *p) { (void)p; pmap_destroy(dead); }
static void e_reference_dead(void *p) { (void)p; pmap_reference(dead); }

#define EXPECT(name, fn, ...) expect_panic(name, fn, NULL, (const char *const[]){ __VA_ARGS__, NULL })

PTEST_SUITE(caller_errors)
{
	struct uspace u = uspace_new();
	upm = u.us_pm;
	pg = page_with(1);
	kva = test_kva(3);
	pmap_kenter_pa(kva, ptest_page_pa(pg), VM_PROT_READ, 0);
	pmap_enter(pmap_kernel(), kva + PAGE_SIZE, ptest_page_pa(pg), VM_PROT_READ, 0);
	pmap_update(pmap_kernel());

	EXPECT("misaligned va", e_misaligned, "pmap_enter", "0x10000008", "not page aligned");
	EXPECT("user va in the kernel pmap", e_user_in_kernel, "pmap_enter", "kernel pmap",
	    "0x10000000");
	EXPECT("kernel va in a user pmap", e_kernel_in_user, "pmap_enter", "not a user address");
	EXPECT("access type beyond protection", e_access_exceeds, "pmap_enter",
	    "access type 0x2 exceeds protection 0x1");
	EXPECT("pmap_kenter_pa over a valid mapping", e_kenter_twice, "pmap_kenter_pa",
	    "already mapped");
	EXPECT("pmap_kremove of a managed mapping", e_kremove_managed, "pmap_kremove",
	    "managed mapping made by pmap_enter");
	EXPECT("pmap_remove of a kenter mapping", e_remove_kenter, "pmap_remove",
	    "only pmap_kremove may remove it");
	EXPECT("pmap_enter over a kenter mapping", e_enter_over_kenter, "pmap_enter",
	    "pmap_kenter_pa mapping");
	EXPECT("pmap_unwire of an unmapped va", e_unwire_unmapped, "pmap_unwire", "not mapped");
	EXPECT("reversed range", e_remove_reversed, "pmap_remove", "reversed");
	EXPECT("pmap_kenter_pa outside KVA", e_kenter_outside, "pmap_kenter_pa",
	    "outside the kernel virtual space");
	EXPECT("pmap_qremove of a managed mapping", e_qremove_managed, "pmap_qremove",
	    "pmap_enter mapping");

	EXPECT("pmap_enter into the library's windows", e_enter_window, "pmap_enter",
	    "library's own windows");
	EXPECT("pmap_kenter_pa into the library's windows", e_kenter_window,
	    "pmap_kenter_pa", "library's own windows");
	EXPECT("pmap_kremove of the library's windows", e_kremove_window, "pmap_kremove",
	    "library's own windows");
	if (sizeof(paddr_t) > 4) {	/* i386 without PAE: every paddr_t is mappable */
		EXPECT("pa 1 << 52", e_pa_52, "pmap_enter", "0x10000000000000",
		    "physical address width");
		EXPECT("pa 1 << 63", e_pa_63, "pmap_enter", "0x8000000000000000",
		    "physical address width");
		EXPECT("pmap_kenter_pa of pa 1 << 52", e_kenter_pa_wide, "pmap_kenter_pa",
		    "0x10000000000000", "physical address width");
	}
	dead = pmap_create();
	pmap_destroy(dead);
	EXPECT("pmap_destroy of a destroyed pmap", e_destroy_twice, "pmap_destroy",
	    "reference count", "destroyed already");
	EXPECT("pmap_reference of a destroyed pmap", e_reference_dead, "pmap_reference",
	    "reference count", "destroyed");

	vaddr_t q = pmap_quick_enter_page(pg);
	EXPECT("nested quick mapping", e_nested_quick, "pmap_quick_enter_page", "nested",
	    "cpu 0");
	is_u64(peek(q, 0), 1, "the outer quick mapping survives the refused nested one");
	pmap_quick_remove_page(q);

	sf = sf_buf_alloc(pg, 0);
	sf_buf_free(sf);
	EXPECT("sf_buf freed twice", e_sfbuf_twice, "sf_buf_free", "freed twice");

	/* Nothing changed and the library still works. */
	ok(!pmap_extract(upm, UVA(0), NULL) && pmap_resident_count(upm) == 0,
	    "the refused calls changed nothing");
	is_int(pmap_enter(upm, UVA(0), ptest_page_pa(pg), VM_PROT_READ, 0), 0,
	    "and the library still works after them");
	check_pmap_ok("user pmap after the errors", upm);
	check_pmap_ok("kernel pmap after the errors", pmap_kernel());

	pmap_kremove(kva, PAGE_SIZE);
	pmap_remove(pmap_kernel(), kva + PAGE_SIZE, kva + 2 * PAGE_SIZE);
	pmap_update(pmap_kernel());
	uspace_free(&u);
	ptest_page_free(pg);
}
