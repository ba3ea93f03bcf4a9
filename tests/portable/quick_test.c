// SPDX-License-Identifier: BSD-2-Clause
/*
 * quick_test.c - pmap_quick_enter_page(9): a per-CPU slot, usable at once,
 * always succeeds, coherent with the page's other mappings, and gone (on
 * this CPU's TLB too) after pmap_quick_remove_page - on every CPU at once;
 * and (with speculative fills) no other CPU's leftover of a slot survives
 * pmap_page_protect(VM_PROT_NONE) of its page.
 */
#include "ptest_util.h"

struct qjob {
	struct vm_page *pg;
	uint64_t tag;
	int bad;
	vaddr_t kva;
};

static void
quick_on(void *p)
{
	struct qjob *j = p;
	for (int round = 0; round < 200; round++) {
		vaddr_t kva = pmap_quick_enter_page(j->pg);
		j->kva = kva;
		/* The page holds our tag from the previous round. */
		if (round > 0 && peek(kva, 0) != j->tag + (uint64_t)round - 1)
			j->bad++;
		if (ptest_store(kva, 8, j->tag + (uint64_t)round, 0) != PTEST_OK)
			j->bad++;
		pmap_quick_remove_page(kva);
		if (ptest_load(kva, 8, &(uint64_t){ 0 }, 0) != PTEST_PF)
			j->bad++;	/* the slot must be empty again */
	}
}

PTEST_SUITE(quick)
{
	int n = ptest_ncpus();
	struct qjob jobs[PMAP_MAXCPUS];
	for (int c = 0; c < n; c++) {
		jobs[c] = (struct qjob){ .pg = page_with(0), .tag = (uint64_t)c << 32 };
	}
	for (int c = 1; c < n; c++)
		ptest_run_async(c, quick_on, &jobs[c]);
	quick_on(&jobs[0]);
	for (int c = 1; c < n; c++)
		ptest_wait(c);
	int bad = 0, distinct = 1;
	for (int c = 0; c < n; c++) {
		bad += jobs[c].bad;
		for (int d = 0; d < c; d++)
			distinct &= jobs[c].kva != jobs[d].kva;
	}
	is_int(bad, 0, "every CPU maps, writes, reads back and unmaps its page 200 times "
	    "concurrently; after each removal the slot faults");
	ok(distinct, "each CPU has its own slot");
	int match = 0;
	for (int c = 0; c < n; c++)
		match += ptest_phys_read64(ptest_page_pa(jobs[c].pg)) == jobs[c].tag + 199;
	is_int(match, n, "the writes went to the pages themselves");
	/* Other CPUs may have cached a slot speculatively (they never use
	 * it); pmap_page_protect(NONE), which a VM calls before freeing a page
	 * that may be mapped, makes sure none still maps the page. */
	for (int c = 0; c < n; c++) {
		pmap_page_protect(jobs[c].pg, VM_PROT_NONE);
		ptest_page_free(jobs[c].pg);	/* freeing checks no TLB holds them */
	}
	audit_ok("quick mappings");
}
