// SPDX-License-Identifier: BSD-2-Clause
/*
 * bench_ops.h - the libpmap operations the benchmarks time, in one place,
 * so that the simulated machine (bench/bench_pmap.c) and the bare-metal
 * kernel under QEMU (platform/pc/bench_pc.c, `make pc-bench`) time the
 * same code doing the same sequence.
 *
 * Freestanding like the library: <pmap/pmap.h> only, no libc, no clock.
 * What differs between the machines comes in through struct bench_host
 * (the clock, and how a CPU comes to run a process's pmap) and through the
 * page arrays of struct bench_pass (each machine allocates the pages its
 * own way).
 *
 * Each operation is a function of its own, never inlined, named
 * bench_op_<name>, so bench/ir.sh can count the instructions of exactly
 * what a line times (callgrind --toggle-collect=bench_op_<name>).
 */
#ifndef BENCH_OPS_H
#define BENCH_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include <pmap/pmap.h>

/* Where the pages are mapped, in a user pmap: aligned for either machine's
 * largest leaf (16 TiB on amd64, 384 MiB on i386), so N pages fill whole
 * tables.  Page i is at BENCH_VA0 + i * PAGE_SIZE. */
#define BENCH_VA0 ((vaddr_t)(PMAP_USER_MAX / 8))

/* The most pages a benchmark may map at BENCH_VA0 on this machine. */
#define BENCH_VA_PAGES ((uint64_t)(PMAP_USER_MAX - BENCH_VA0) / PAGE_SIZE)

static inline vaddr_t
bench_va(long i)
{
	return BENCH_VA0 + (vaddr_t)i * PAGE_SIZE;
}

/* One run of operations over n pages: page i is bp_pgs[i], at physical
 * address bp_pas[i] (the machine's VM would know it from its own records).
 * The pages must be managed, unmapped and never touched by the benchmark:
 * only mappings are made and unmade. */
struct bench_pass {
	long bp_n;
	struct vm_page *const *bp_pgs;
	const paddr_t *bp_pas;
	pmap_t bp_pm;		/* the pmap the operation is about (a parent) */
	pmap_t bp_pm2;		/* the second mapping of each page (a child) */
	long bp_child_after_copy; /* fork: the child's resident count after pmap_copy */
	unsigned long bp_sum;	/* extract: how many pages were mapped */
};

/* The operations of the main table, in its order. */
enum bench_op {
	BENCH_ENTER_RO,		/* pmap_enter read-only, first mapping of its page */
	BENCH_REMOVE_RO,	/* pmap_remove of those */
	BENCH_ENTER_FIRST,	/* pmap_enter read/write, first mapping */
	BENCH_ENTER_SECOND,	/* pmap_enter of a second mapping (a pv entry) */
	BENCH_EXTRACT,
	BENCH_PROTECT,		/* pmap_protect rw -> r */
	BENCH_CLEAR_MODIFY,
	BENCH_PP_READ,		/* pmap_page_protect(READ), 2 mappings */
	BENCH_REMOVE,		/* pmap_remove, each page mapped twice */
	BENCH_PP_NONE,		/* pmap_page_protect(NONE), 1 mapping left */
	BENCH_FORK,		/* protect the parent, pmap_copy, enter the child */
	BENCH_NOPS
};

struct bench_op_info {
	/* One word: what `pc-bench` lines call it.  The four with a Linux
	 * counterpart use the vs-linux word (linux_op_name): enter,
	 * protect, fork, remove. */
	const char *bo_word;
	const char *bo_label;	/* bench_pmap's main-table label */
	void (*bo_fn)(struct bench_pass *);
};
extern const struct bench_op_info bench_ops[BENCH_NOPS];

void bench_op_enter_ro(struct bench_pass *p);
void bench_op_remove_ro(struct bench_pass *p);
void bench_op_enter_first(struct bench_pass *p);
void bench_op_enter_second(struct bench_pass *p);
void bench_op_extract(struct bench_pass *p);
void bench_op_protect(struct bench_pass *p);
void bench_op_clear_modify(struct bench_pass *p);
void bench_op_page_protect_read(struct bench_pass *p);
void bench_op_remove(struct bench_pass *p);
void bench_op_page_protect_none(struct bench_pass *p);
void bench_op_fork(struct bench_pass *p);

/* What the machine supplies. */
struct bench_host {
	/* A monotonic clock, in any unit (ns, TSC ticks): times come back
	 * in it. */
	uint64_t (*bh_clock)(void);
	/* The calling CPU now runs a process of pm (a user lwp), or the
	 * kernel (NULL): the pmap a process works on is the one its CPU has
	 * loaded. */
	void (*bh_runs)(pmap_t pm);
};

/* op(p), timed with h's clock. */
uint64_t bench_timed(const struct bench_host *h, void (*op)(struct bench_pass *),
    struct bench_pass *p);

/* Untimed set-up: n written, referenced pages in pm, as a process that
 * has written its memory has them; and their removal. */
void bench_map_written(const struct bench_pass *p, pmap_t pm, long n);
void bench_unmap_all(pmap_t pm, long n);

/* Memory and outcomes of one main pass. */
struct bench_mem {
	uint64_t bm_pv_chunks_first, bm_pv_chunks_further, bm_pv_entries_further;
	long bm_ptp_first, bm_ptp_further;	/* page-table pages of pm, pm2 */
	long bm_child_after_copy;	/* fork: child's resident count after pmap_copy */
	long bm_child_resident;		/* fork: ... after the whole fork (must be n) */
	unsigned long bm_extracted;	/* extract: pages found mapped (must be n) */
};

/*
 * One pass of the main table on the calling CPU, over p->bp_n pages (the
 * arrays of p; its pmaps are made here): every operation once, fresh
 * pmaps, each pmap active on this CPU only; t[op] in h's clock.  The
 * pages are unmapped again and every pmap destroyed when it returns.
 */
void bench_main_pass(const struct bench_host *h, struct bench_pass *p,
    uint64_t t[BENCH_NOPS], struct bench_mem *mf);

/* Shootdown rounds and IPIs of one pmap_protect (rw -> r) or pmap_remove
 * of n pages of pm and its pmap_update (deltas of the library's
 * counters). */
struct bench_sd {
	uint64_t bs_rounds, bs_ipis;
};
struct bench_sd bench_shootdowns(pmap_t pm, long n, bool remove);

#endif /* BENCH_OPS_H */
