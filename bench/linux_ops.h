// SPDX-License-Identifier: BSD-2-Clause
/*
 * linux_ops.h - the host Linux doing the page-table work bench_pmap times
 * libpmap doing: hosted POSIX code (mmap, mprotect, fork, munmap), timed
 * with CLOCK_MONOTONIC.  It runs in bench_pmap's own process, so call it
 * while that process is small - before the simulated machine boots - or
 * fork() would copy the simulator's page tables too.
 */
#ifndef BENCH_LINUX_OPS_H
#define BENCH_LINUX_OPS_H

#include <stdbool.h>
#include <stddef.h>

enum linux_op {
	LINUX_ENTER,	/* mmap(PROT_READ, MAP_POPULATE): N zero-page mappings */
	LINUX_PROTECT,	/* mprotect rw -> r over N written private pages */
	LINUX_FORK,	/* fork() of a process with N written private pages */
	LINUX_REMOVE,	/* munmap of N zero-page mappings */
	LINUX_NOPS
};

/* One word, as on bench_pmap's vs-linux lines. */
const char *linux_op_name(enum linux_op op);

/* What one operation cost at one size: the best (minimum) of the
 * repetitions, in nanoseconds for all the pages; or why it could not be
 * measured. */
struct linux_cost {
	bool ok;
	double ns;
	char why[120];
};

/*
 * Measure every operation at each of the nsizes sizes (pages, ascending),
 * each the best of reps runs: out[i * LINUX_NOPS + op].
 */
void linux_measure(const long *sizes, int nsizes, int reps, struct linux_cost *out);

/* The best of reps fork()s of the process as it is (no extra pages). */
void linux_fork_bare(int reps, struct linux_cost *out);

/*
 * Keep transparent huge pages out of the measured regions (the whole
 * process, prctl PR_SET_THP_DISABLE): one huge page would stand for 512
 * page-table entries.  0, or -1 with errno set if the kernel refused;
 * undo with linux_thp_restore().
 */
int linux_thp_off(void);
void linux_thp_restore(void);

#endif
