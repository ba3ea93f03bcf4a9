// SPDX-License-Identifier: BSD-2-Clause
/*
 * bench_ops.c - the libpmap operations the benchmarks time, and the
 * sequence of the main table (bench_ops.h says why they live here).
 *
 * Each figure is the part of a kernel operation the pmap does:
 *  - enter: a fault's mapping - read-only, the first of its page, and
 *    referenced, as the fault that makes it has just read it;
 *  - remove: munmap's page-table work (the pages stay allocated);
 *  - protect: mprotect rw -> r, one call for the range;
 *  - fork: the parent's private pages become read-only (copy-on-write),
 *    then the child gets its mappings - from pmap_copy if it makes them
 *    (it is advisory), else from pmap_enter of each page it left out, as
 *    a VM system's fork would; what pmap_copy did is counted with
 *    pmap_extract on the child, so the line is right either way;
 *  - the others (second mappings, extract, clear_modify, page_protect)
 *    have no system call of their own: absolute figures.
 */
#include "bench_ops.h"

void __attribute__((noinline))
bench_op_enter_ro(struct bench_pass *p)
{
	for (long i = 0; i < p->bp_n; i++)
		pmap_enter(p->bp_pm, bench_va(i), p->bp_pas[i], VM_PROT_READ, VM_PROT_READ);
	pmap_update(p->bp_pm);
}

/* The pages stay allocated: only the mappings go. */
void __attribute__((noinline))
bench_op_remove_ro(struct bench_pass *p)
{
	pmap_remove(p->bp_pm, BENCH_VA0, bench_va(p->bp_n));
	pmap_update(p->bp_pm);
}

/* A written page's mapping, the first of its page. */
void __attribute__((noinline))
bench_op_enter_first(struct bench_pass *p)
{
	for (long i = 0; i < p->bp_n; i++)
		pmap_enter(p->bp_pm, bench_va(i), p->bp_pas[i], VM_PROT_READ | VM_PROT_WRITE,
		    VM_PROT_READ | VM_PROT_WRITE);
	pmap_update(p->bp_pm);
}

void __attribute__((noinline))
bench_op_enter_second(struct bench_pass *p)
{
	for (long i = 0; i < p->bp_n; i++)
		pmap_enter(p->bp_pm2, bench_va(i), p->bp_pas[i], VM_PROT_READ, 0);
	pmap_update(p->bp_pm2);
}

void __attribute__((noinline))
bench_op_extract(struct bench_pass *p)
{
	paddr_t pa;
	for (long i = 0; i < p->bp_n; i++)
		p->bp_sum += pmap_extract(p->bp_pm, bench_va(i), &pa);
}

void __attribute__((noinline))
bench_op_protect(struct bench_pass *p)
{
	pmap_protect(p->bp_pm, BENCH_VA0, bench_va(p->bp_n), VM_PROT_READ);
	pmap_update(p->bp_pm);
}

void __attribute__((noinline))
bench_op_clear_modify(struct bench_pass *p)
{
	for (long i = 0; i < p->bp_n; i++)
		pmap_clear_modify(p->bp_pgs[i]);
}

void __attribute__((noinline))
bench_op_page_protect_read(struct bench_pass *p)
{
	for (long i = 0; i < p->bp_n; i++)
		pmap_page_protect(p->bp_pgs[i], VM_PROT_READ);
}

void __attribute__((noinline))
bench_op_remove(struct bench_pass *p)
{
	pmap_remove(p->bp_pm, BENCH_VA0, bench_va(p->bp_n));
	pmap_update(p->bp_pm);
}

void __attribute__((noinline))
bench_op_page_protect_none(struct bench_pass *p)
{
	for (long i = 0; i < p->bp_n; i++)
		pmap_page_protect(p->bp_pgs[i], VM_PROT_NONE);
}

void __attribute__((noinline))
bench_op_fork(struct bench_pass *p)
{
	pmap_t parent = p->bp_pm, child = p->bp_pm2;
	vsize_t len = (vsize_t)p->bp_n * PAGE_SIZE;

	pmap_protect(parent, BENCH_VA0, BENCH_VA0 + len, VM_PROT_READ);
	pmap_update(parent);
	pmap_copy(child, parent, BENCH_VA0, len, BENCH_VA0);
	p->bp_child_after_copy = pmap_resident_count(child);
	/* (A VM knows when pmap_copy mapped everything: no look-ups then.) */
	for (long i = 0; p->bp_child_after_copy < p->bp_n && i < p->bp_n; i++) {
		paddr_t pa;
		if (!pmap_extract(child, bench_va(i), &pa))
			pmap_enter(child, bench_va(i), p->bp_pas[i], VM_PROT_READ, 0);
	}
	pmap_update(child);
}

const struct bench_op_info bench_ops[BENCH_NOPS] = {
	[BENCH_ENTER_RO] = { "enter",
		"pmap_enter (read-only, first mapping of its page)", bench_op_enter_ro },
	[BENCH_REMOVE_RO] = { "remove",
		"pmap_remove (those, one call; pages kept)", bench_op_remove_ro },
	[BENCH_ENTER_FIRST] = { "enter_first",
		"pmap_enter (new mapping, first of its page)", bench_op_enter_first },
	[BENCH_ENTER_SECOND] = { "enter_second",
		"pmap_enter (second mapping: needs a pv entry)", bench_op_enter_second },
	[BENCH_EXTRACT] = { "extract", "pmap_extract", bench_op_extract },
	[BENCH_PROTECT] = { "protect",
		"pmap_protect (rw -> r, one call for the range)", bench_op_protect },
	[BENCH_CLEAR_MODIFY] = { "clear_modify",
		"pmap_clear_modify (2 mappings, 1 dirty)", bench_op_clear_modify },
	[BENCH_PP_READ] = { "page_protect_read",
		"pmap_page_protect(READ) (2 mappings)", bench_op_page_protect_read },
	[BENCH_REMOVE] = { "remove_2maps",
		"pmap_remove (one call for the range)", bench_op_remove },
	[BENCH_PP_NONE] = { "page_protect_none",
		"pmap_page_protect(NONE) (1 mapping left)", bench_op_page_protect_none },
	[BENCH_FORK] = { "fork",
		"fork (protect parent, pmap_copy, enter child)", bench_op_fork },
};

uint64_t
bench_timed(const struct bench_host *h, void (*op)(struct bench_pass *), struct bench_pass *p)
{
	uint64_t t0 = h->bh_clock();
	op(p);
	return h->bh_clock() - t0;
}

void
bench_map_written(const struct bench_pass *p, pmap_t pm, long n)
{
	for (long i = 0; i < n; i++)
		pmap_enter(pm, bench_va(i), p->bp_pas[i], VM_PROT_READ | VM_PROT_WRITE,
		    VM_PROT_READ | VM_PROT_WRITE);
	pmap_update(pm);
}

void
bench_unmap_all(pmap_t pm, long n)
{
	pmap_remove(pm, BENCH_VA0, bench_va(n));
	pmap_update(pm);
}

void
bench_main_pass(const struct bench_host *h, struct bench_pass *p, uint64_t t[BENCH_NOPS],
    struct bench_mem *mf)
{
	long n = p->bp_n;
	struct pmap_counters c0, c1, c2;

	/* A process's read faults, then its munmap. */
	p->bp_pm = pmap_create();
	p->bp_pm2 = NULL;
	h->bh_runs(p->bp_pm);
	t[BENCH_ENTER_RO] = bench_timed(h, bench_op_enter_ro, p);
	t[BENCH_REMOVE_RO] = bench_timed(h, bench_op_remove_ro, p);
	h->bh_runs(NULL);
	pmap_destroy(p->bp_pm);

	/* Every page mapped by two pmaps, one of them running on this CPU. */
	p->bp_pm = pmap_create();
	p->bp_pm2 = pmap_create();
	h->bh_runs(p->bp_pm);
	pmap_get_counters(&c0);
	t[BENCH_ENTER_FIRST] = bench_timed(h, bench_op_enter_first, p);
	pmap_get_counters(&c1);
	mf->bm_ptp_first = pmap_ptp_count(p->bp_pm);
	t[BENCH_ENTER_SECOND] = bench_timed(h, bench_op_enter_second, p);
	pmap_get_counters(&c2);
	mf->bm_ptp_further = pmap_ptp_count(p->bp_pm2);
	mf->bm_pv_chunks_first = c1.pc_pv_chunks - c0.pc_pv_chunks;
	mf->bm_pv_chunks_further = c2.pc_pv_chunks - c1.pc_pv_chunks;
	mf->bm_pv_entries_further = c2.pc_pv_entries - c1.pc_pv_entries;
	p->bp_sum = 0;
	t[BENCH_EXTRACT] = bench_timed(h, bench_op_extract, p);
	mf->bm_extracted = p->bp_sum;
	t[BENCH_PROTECT] = bench_timed(h, bench_op_protect, p);
	t[BENCH_CLEAR_MODIFY] = bench_timed(h, bench_op_clear_modify, p);
	t[BENCH_PP_READ] = bench_timed(h, bench_op_page_protect_read, p);
	t[BENCH_REMOVE] = bench_timed(h, bench_op_remove, p);
	t[BENCH_PP_NONE] = bench_timed(h, bench_op_page_protect_none, p);
	h->bh_runs(NULL);
	pmap_destroy(p->bp_pm);
	pmap_destroy(p->bp_pm2);

	/* A process that has written its pages forks. */
	p->bp_pm = pmap_create();
	p->bp_pm2 = pmap_create();
	h->bh_runs(p->bp_pm);
	bench_map_written(p, p->bp_pm, n);
	t[BENCH_FORK] = bench_timed(h, bench_op_fork, p);
	mf->bm_child_after_copy = p->bp_child_after_copy;
	mf->bm_child_resident = pmap_resident_count(p->bp_pm2);
	bench_unmap_all(p->bp_pm2, n);
	bench_unmap_all(p->bp_pm, n);
	h->bh_runs(NULL);
	pmap_destroy(p->bp_pm);
	pmap_destroy(p->bp_pm2);
	p->bp_pm = p->bp_pm2 = NULL;
}

struct bench_sd
bench_shootdowns(pmap_t pm, long n, bool remove)
{
	struct pmap_counters c0, c1;

	pmap_get_counters(&c0);
	if (remove)
		pmap_remove(pm, BENCH_VA0, bench_va(n));
	else
		pmap_protect(pm, BENCH_VA0, bench_va(n), VM_PROT_READ);
	pmap_update(pm);
	pmap_get_counters(&c1);
	return (struct bench_sd){ c1.pc_shootdowns - c0.pc_shootdowns,
		c1.pc_shootdown_ipis - c0.pc_shootdown_ipis };
}
