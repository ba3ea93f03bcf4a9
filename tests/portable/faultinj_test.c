// SPDX-License-Identifier: BSD-2-Clause
/*
 * faultinj_test.c - resource exhaustion.  Every allocation pmap_enter can
 * make (page-table pages at each level, a pv chunk) is failed in turn:
 * with PMAP_CANFAIL the call returns ENOMEM and leaves the pmap, the page,
 * the statistics and the free-page count exactly as they were; without it
 * the library panics and says why.  The pv-memory bound behaves the same.
 */
#include "ptest_util.h"

struct snap {
	uint64_t free_pages;
	long resident, wired, ptps;
	uint64_t pv_entries, pv_chunks;
	bool mapped;
};

static struct snap
snapshot(pmap_t pm, vaddr_t va)
{
	struct pmap_counters c;
	pmap_get_counters(&c);
	return (struct snap){
		.free_pages = ptest_pages_free(),
		.resident = pmap_resident_count(pm),
		.wired = pmap_wired_count(pm),
		.ptps = pmap_ptp_count(pm),
		.pv_entries = c.pc_pv_entries,
		.pv_chunks = c.pc_pv_chunks,
		.mapped = pmap_extract(pm, va, NULL),
	};
}

static bool
same(struct snap a, struct snap b)
{
	return a.free_pages == b.free_pages && a.resident == b.resident &&
	    a.wired == b.wired && a.ptps == b.ptps && a.pv_entries == b.pv_entries &&
	    a.pv_chunks == b.pv_chunks && a.mapped == b.mapped;
}

static pmap_t fpm;
static paddr_t fpa;

static void
enter_nocanfail(void *p)
{
	(void)p;
	pmap_enter(fpm, UVA(600000), fpa, VM_PROT_READ, 0);
}

static void
t_every_allocation(void)
{
	struct uspace u = uspace_new();
	struct vm_page *pg = page_with(9);
	paddr_t pa = ptest_page_pa(pg);
	/* The page's in-place pv slot is taken, so the next mapping needs a
	 * pv entry; the far address needs PDPT, PD and PT pages. */
	pmap_enter(u.us_pm, UVA(0), pa, VM_PROT_READ, 0);
	vaddr_t far = PTEST_UVA_TOP;

	int failures = 0, unchanged = 0;
	for (uint64_t n = 1; n < 20; n++) {
		struct snap before = snapshot(u.us_pm, far);
		ptest_alloc_fail_nth(n);
		int r = pmap_enter(u.us_pm, far, pa, VM_PROT_READ | VM_PROT_WRITE,
		    PMAP_CANFAIL | PMAP_WIRED);
		ptest_alloc_fail_nth(0);
		if (r == 0)
			break;
		failures++;
		struct snap after = snapshot(u.us_pm, far);
		if (r == PMAP_ENOMEM && same(before, after))
			unchanged++;
		else
			tap_diag("allocation %llu: r %d, free %llu->%llu, ptps %ld->%ld, "
			    "pv chunks %llu->%llu", (unsigned long long)n, r,
			    (unsigned long long)before.free_pages,
			    (unsigned long long)after.free_pages, before.ptps, after.ptps,
			    (unsigned long long)before.pv_chunks,
			    (unsigned long long)after.pv_chunks);
	}
	is_int(failures, PMAP_PTP_LEVELS + 1, "pmap_enter at a fresh address of a shared "
	    "page makes %d allocations (a page table per level below the root, a pv "
	    "chunk), each failed in turn", PMAP_PTP_LEVELS + 1);
	is_int(unchanged, failures, "each failure returned ENOMEM with nothing changed and "
	    "nothing leaked");
	ok(pmap_extract(u.us_pm, far, NULL) && pmap_wired_count(u.us_pm) == 1,
	    "with memory available the same call succeeds");
	check_pmap_ok("after the failures", u.us_pm);
	check_page_ok("the shared page", pg);

	/* Without PMAP_CANFAIL: a panic that says why. */
	fpm = u.us_pm;
	fpa = pa;
	ptest_alloc_fail_nth(1);
	expect_panic("exhaustion without PMAP_CANFAIL", enter_nocanfail, NULL,
	    (const char *const[]){ "pmap_enter", "no memory", "PMAP_CANFAIL is not set",
		NULL });
	ptest_alloc_fail_nth(0);
	ok(!pmap_extract(u.us_pm, UVA(600000), NULL), "and nothing was mapped");

	uspace_free(&u);
	ptest_page_free(pg);
}

static void
t_pv_limit(void)
{
	struct uspace u = uspace_new();
	struct vm_page *pg = page_with(1);
	paddr_t pa = ptest_page_pa(pg);
	pmap_enter(u.us_pm, UVA(0), pa, VM_PROT_READ, 0);	/* in-place slot */
	pmap_enter(u.us_pm, UVA(1), pa, VM_PROT_READ, 0);	/* first pv chunk */
	struct pmap_counters c;
	pmap_get_counters(&c);
	pmap_set_pv_limit(c.pc_pv_chunks);
	/* This pmap's chunk has room: still fine. */
	is_int(pmap_enter(u.us_pm, UVA(2), pa, VM_PROT_READ, PMAP_CANFAIL), 0,
	    "under the pv bound: pmap_enter works");
	struct uspace v = uspace_new();
	struct snap before = snapshot(v.us_pm, UVA(0));
	int r = pmap_enter(v.us_pm, UVA(0), pa, VM_PROT_READ, PMAP_CANFAIL);
	is_int(r, PMAP_ENOMEM, "a new pmap needing a pv chunk beyond the bound: ENOMEM");
	ok(same(before, snapshot(v.us_pm, UVA(0))), "with nothing changed");
	fpm = v.us_pm;
	fpa = pa;
	expect_panic("pv bound without PMAP_CANFAIL", enter_nocanfail, NULL,
	    (const char *const[]){ "pmap_enter", "pv entry", "PMAP_CANFAIL", NULL });
	pmap_set_pv_limit(0);
	is_int(pmap_enter(v.us_pm, UVA(0), pa, VM_PROT_READ, PMAP_CANFAIL), 0,
	    "bound lifted: it works");
	uspace_free(&v);
	uspace_free(&u);
	ptest_page_free(pg);
}

PTEST_SUITE(faultinj)
{
	if (!ptest_have_fault_injection()) {
		tap_skip(1, "no allocation fault injection on this machine");
		return;
	}
	t_every_allocation();
	t_pv_limit();
}
