// SPDX-License-Identifier: BSD-2-Clause
/*
 * linux_bench - the host Linux's side of `make pc-bench`: the same
 * page-table work bench_pmap compares libpmap with (bench/linux_ops.c:
 * mmap MAP_POPULATE of zero pages, mprotect and fork of written pages,
 * munmap), at one page count, best of R, one line per operation:
 *
 *     linux <operation> <pages> <ns/page>
 *     linux <operation> <pages> unavailable (<why>)
 *
 * with the words of the vs-linux lines (enter, protect, fork, remove).
 * Other lines start with "linux-bench:" and describe the run.  This is a
 * small process of its own, so its fork copies little but the N pages,
 * as bench_pmap's measurement (made before its simulated machine boots)
 * does.
 *
 *   linux_bench [--pages=N] [--reps=R]      (defaults: 65536, 3)
 *
 * Exit status 0 (some operation may still be unavailable: said on its
 * line), 2 for bad arguments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "linux_ops.h"

static void
usage(void)
{
	fprintf(stderr, "usage: linux_bench [--pages=N] [--reps=R]\n");
	exit(2);
}

/* A positive number, all of the string, or usage. */
static long
number(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 1)
		usage();
	return v;
}

int
main(int argc, char **argv)
{
	long npages = 65536, reps = 3;
	struct linux_cost cost[LINUX_NOPS], bare;
	struct utsname u;

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--pages=", 8) == 0)
			npages = number(argv[i] + 8);
		else if (strncmp(argv[i], "--reps=", 7) == 0)
			reps = number(argv[i] + 7);
		else
			usage();
	}
	if (reps > 1000)
		usage();
	if (uname(&u) != 0) {
		strcpy(u.release, "?");
		strcpy(u.machine, "?");
	}
	bool thp_off = linux_thp_off() == 0;
	printf("linux-bench: Linux %s (%s), %ld pages, best of %ld; transparent huge "
	    "pages %s\n", u.release, u.machine, npages, reps,
	    thp_off ? "off (prctl PR_SET_THP_DISABLE)" : "could not be turned off");
	fflush(stdout);
	linux_fork_bare((int)reps, &bare);
	linux_measure(&npages, 1, (int)reps, cost);
	linux_thp_restore();
	if (bare.ok)
		printf("linux-bench: fork of this process with no extra pages: %.0f us "
		    "(in the fork line: %.1f ns/page)\n", bare.ns / 1e3,
		    bare.ns / (double)npages);
	for (int op = 0; op < LINUX_NOPS; op++) {
		const char *name = linux_op_name((enum linux_op)op);
		if (cost[op].ok)
			printf("linux %s %ld %.1f\n", name, npages,
			    cost[op].ns / (double)npages);
		else
			printf("linux %s %ld unavailable (%s)\n", name, npages, cost[op].why);
	}
	return 0;
}
