// SPDX-License-Identifier: BSD-2-Clause
/*
 * bench_pmap - what libpmap's operations cost on the simulated machine,
 * next to what the host's Linux takes for the same page-table work, in one
 * run and over the same page counts.  It measures, and asserts nothing:
 * its times are wall-clock times on a shared machine, and noisy; compare
 * lines of one run, or count instructions with bench/ir.sh (make
 * bench-ir), which is repeatable.
 *
 *  1. Linux (bench/linux_ops.c), first, while this process is still small:
 *     mmap(MAP_POPULATE) of zero pages, mprotect, fork and munmap over N
 *     pages, N = 2^10 ... 2^20 and the main table's N, best of 3 each.
 *  2. The main table, at N pages (default 2^18), each line the best of 3
 *     passes: every operation of the library this benchmark has always
 *     timed, in ns/page, the memory the library spends per mapping, and
 *     one line per comparison with Linux, exactly
 *         vs-linux <operation> <pages> <libpmap ns/page> <linux ns/page> <ratio>
 *     ratio = linux / libpmap: above 1, libpmap did the work faster.
 *  3. Scaling: the compared operations at N = 2^10 ... 2^20 (as far as
 *     the simulated machine's memory and address space allow), both
 *     sides, as a table and, when gnuplot is installed, a PNG.
 *  4. Shootdowns: rounds and IPIs per pmap_update after pmap_protect and
 *     pmap_remove of 1, 32, 33 and 2^18 pages of a pmap active on every
 *     simulated CPU, then on CPU 0 only.
 *
 * The operations and the main table's sequence are bench/bench_ops.c,
 * which the bare-metal kernel's bench mode runs too (make pc-bench), so
 * the two machines time the same code.
 *
 * Why these pairs: each libpmap figure is the part of a kernel operation
 * the pmap does, and each Linux figure is the whole of the nearest system
 * call, page-table work and all (mmap with MAP_POPULATE maps the shared
 * zero page: no page allocated; the fork is timed in the parent, the
 * child exits at once).  pmap_page_protect and pmap_clear_modify have no
 * per-page system call to compare with: absolute figures only.
 *
 *   bench_pmap [--pages=N] [--reps=R] [--scale-max=K] [--plot=FILE] [--main-only]
 *
 * --pages: the main table's N (default 262144); --reps: runs of which the
 * best is kept, both sides (default 3); --scale-max: the largest scaling
 * size, 2^K (default 20); --plot: where the PNG goes (default
 * build/bench-scaling.png); --main-only: the main table's library lines
 * alone (no Linux, scaling or shootdowns): what bench/ir.sh counts.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench_ops.h"
#include "linux_ops.h"
#include "sim_pmap.h"

/* Scaling sizes: 2^10, 2^12, ... 2^20 pages. */
#define SCALE_MIN 10
#define SCALE_MAX 20
#define SCALE_STEP 2
#define NSCALE ((SCALE_MAX - SCALE_MIN) / SCALE_STEP + 1)
/* Simulated memory beyond the pages mapped: page tables, pv chunks, the
 * kernel's own. */
#define MEM_SLACK (256ULL << 20)

static long npages = 1L << 18;	/* the main table's N */
static int reps = 3;
static int scale_max = SCALE_MAX;
static const char *plot_path = "build/bench-scaling.png";
static bool main_only;

static long maxpages;		/* pages allocated: the largest N of any part */
static long limit;		/* the largest N the machine can take ... */
static const char *limit_why;	/* ... and what stops it there */
static struct vm_page **pgs;
static paddr_t *pas;		/* pgs[i]'s physical address */
static double t_start;

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The clock bench_ops times with: ns. */
static uint64_t
clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A pass over the first n of the pages. */
static struct bench_pass
pass_of(long n)
{
	return (struct bench_pass){ .bp_n = n, .bp_pgs = pgs, .bp_pas = pas };
}

/* CPU 0 runs a process of pm (a user lwp), or the kernel (pm NULL): the
 * pmap a process works on is the one its CPU has loaded. */
static struct lwp cpu0_lwp;

static void
cpu0_runs(pmap_t pm)
{
	if (pm == NULL) {
		sim_set_curlwp(NULL);
		pmap_activate(NULL);
		return;
	}
	cpu0_lwp.l_pmap = pm;
	sim_set_curlwp(&cpu0_lwp);
	pmap_activate(&cpu0_lwp);
}

/* The operations (bench/bench_ops.c) run on this machine so. */
static const struct bench_host sim_host = { .bh_clock = clock_ns, .bh_runs = cpu0_runs };

/* ------------------------------------------------------------------ */
/* Linux's figures (measured before the machine boots)                 */
/* ------------------------------------------------------------------ */

/* The sizes Linux is measured at: the scaling sizes and the main N. */
static long lsizes[NSCALE + 1];
static int nlsizes;
static struct linux_cost lcost[(NSCALE + 1) * LINUX_NOPS];
static struct linux_cost lfork_bare;
static bool linux_done;

static const struct linux_cost *
linux_at(long n, enum linux_op op)
{
	if (!linux_done)
		return NULL;
	for (int i = 0; i < nlsizes; i++)
		if (lsizes[i] == n)
			return &lcost[i * LINUX_NOPS + op];
	return NULL;
}

static void
add_lsize(long n)
{
	for (int i = 0; i < nlsizes; i++)
		if (lsizes[i] == n)
			return;
	int i = nlsizes++;
	while (i > 0 && lsizes[i - 1] > n) {
		lsizes[i] = lsizes[i - 1];
		i--;
	}
	lsizes[i] = n;
}

/* ------------------------------------------------------------------ */
/* How many pages the simulated machine can take                       */
/* ------------------------------------------------------------------ */

/*
 * The largest N this build's machine can map at BENCH_VA0 and hold in its RAM,
 * and why not more.  A 64-bit machine is bounded by nothing a benchmark
 * reaches; a 32-bit one by its 32-bit physical addresses (RAM starts at
 * 16 MiB on the i386 machine) and its user address space.
 */
static long
pages_limit(const char **why)
{
	uint64_t lim = BENCH_VA_PAGES;
	*why = "the user address space above the benchmark's base address";
	if (sizeof(paddr_t) < 8) {
		uint64_t ram = ((1ULL << 32) - (64ULL << 20) - MEM_SLACK) / PAGE_SIZE;
		if (ram < lim) {
			lim = ram;
			*why = "32-bit physical addresses";
		}
	}
	if (lim > (uint64_t)(1L << 30))
		lim = 1L << 30;
	return (long)lim;
}

/* ------------------------------------------------------------------ */
/* 2. The main table                                                   */
/* ------------------------------------------------------------------ */

/* One pass of the main sequence (bench_main_pass): every line once,
 * fresh pmaps; times in ns. */
static void
main_pass(long n, double t[BENCH_NOPS], struct bench_mem *mf)
{
	struct bench_pass p = pass_of(n);
	uint64_t ticks[BENCH_NOPS];

	bench_main_pass(&sim_host, &p, ticks, mf);
	for (int i = 0; i < BENCH_NOPS; i++)
		t[i] = (double)ticks[i];
}

/* The compared operations, libpmap's side and Linux's. */
static const struct {
	enum linux_op lop;
	enum bench_op mop;
} compared[LINUX_NOPS] = {
	{ LINUX_ENTER, BENCH_ENTER_RO }, { LINUX_PROTECT, BENCH_PROTECT },
	{ LINUX_FORK, BENCH_FORK }, { LINUX_REMOVE, BENCH_REMOVE_RO },
};

static void
main_table(void)
{
	long n = npages;
	double best[BENCH_NOPS];
	struct bench_mem mf = { 0 };

	for (int r = 0; r < reps; r++) {
		double t[BENCH_NOPS];
		struct bench_mem m;
		main_pass(n, t, &m);
		if (r == 0)
			mf = m;
		for (int i = 0; i < BENCH_NOPS; i++)
			if (r == 0 || t[i] < best[i])
				best[i] = t[i];
	}

	printf("\nmain table: %ld pages (%ld MiB), the pmap active on CPU 0 only, best of %d "
	    "pass%s\n", n, n >> 8, reps, reps == 1 ? "" : "es");
	for (int i = 0; i < BENCH_NOPS; i++)
		printf("%-50s %8.1f ns/page\n", bench_ops[i].bo_label, best[i] / (double)n);
	printf("%-50s %8.2f bytes/mapping\n", "page-table memory, first mapping of a page",
	    (double)mf.bm_ptp_first * PAGE_SIZE / (double)n);
	printf("%-50s %8.2f bytes/mapping\n", "page-table memory, each further mapping",
	    (double)mf.bm_ptp_further * PAGE_SIZE / (double)n);
	printf("%-50s %8.2f bytes/mapping\n", "pv memory, first mapping of a page",
	    (double)mf.bm_pv_chunks_first * PAGE_SIZE / (double)n);
	printf("%-50s %8.2f bytes/mapping (%llu pv entries in %llu chunk pages)\n",
	    "pv memory, each further mapping",
	    (double)mf.bm_pv_chunks_further * PAGE_SIZE / (double)n,
	    (unsigned long long)mf.bm_pv_entries_further,
	    (unsigned long long)mf.bm_pv_chunks_further);
	if (mf.bm_child_after_copy == 0)
		printf("pmap_copy: did nothing (the child held 0 pages after it): the fork "
		    "line's child mappings are pmap_enter's\n");
	else
		printf("pmap_copy: did the work for %ld of %ld pages (the child's resident "
		    "count after it)%s\n", mf.bm_child_after_copy, n,
		    mf.bm_child_after_copy < n ? "; pmap_enter made the rest" : "");

	if (main_only)
		return;
	printf("\nlibpmap vs Linux at %ld pages (ns/page; ratio = linux / libpmap, above 1: "
	    "libpmap faster):\n", n);
	for (int k = 0; k < LINUX_NOPS; k++) {
		const struct linux_cost *lc = linux_at(n, compared[k].lop);
		const char *name = linux_op_name(compared[k].lop);
		if (lc == NULL || !lc->ok) {
			printf("linux %s: unavailable (%s)\n", name,
			    lc != NULL ? lc->why : "not measured");
			continue;
		}
		double lib = best[compared[k].mop] / (double)n, lin = lc->ns / (double)n;
		printf("vs-linux %s %ld %.1f %.1f %.2f\n", name, n, lib, lin, lin / lib);
	}
}

/* ------------------------------------------------------------------ */
/* 3. Scaling                                                          */
/* ------------------------------------------------------------------ */

struct scale_row {
	int lg;				/* n = 2^lg */
	long n;
	bool run;
	double lib[LINUX_NOPS];		/* ns/page, indexed by enum linux_op */
};
static struct scale_row srows[NSCALE];
static int nsrows;

/* The compared operations at n pages, fresh pmaps, best of reps. */
static void
scale_one(struct scale_row *row)
{
	long n = row->n;
	for (int r = 0; r < reps; r++) {
		struct bench_pass p = pass_of(n);
		double t[LINUX_NOPS];

		p.bp_pm = pmap_create();
		cpu0_runs(p.bp_pm);
		t[LINUX_ENTER] = (double)bench_timed(&sim_host, bench_op_enter_ro, &p);
		t[LINUX_REMOVE] = (double)bench_timed(&sim_host, bench_op_remove_ro, &p);
		cpu0_runs(NULL);
		pmap_destroy(p.bp_pm);

		p.bp_pm = pmap_create();
		cpu0_runs(p.bp_pm);
		bench_map_written(&p, p.bp_pm, n);
		t[LINUX_PROTECT] = (double)bench_timed(&sim_host, bench_op_protect, &p);
		bench_unmap_all(p.bp_pm, n);
		cpu0_runs(NULL);
		pmap_destroy(p.bp_pm);

		p.bp_pm = pmap_create();
		p.bp_pm2 = pmap_create();
		cpu0_runs(p.bp_pm);
		bench_map_written(&p, p.bp_pm, n);
		t[LINUX_FORK] = (double)bench_timed(&sim_host, bench_op_fork, &p);
		bench_unmap_all(p.bp_pm2, n);
		bench_unmap_all(p.bp_pm, n);
		cpu0_runs(NULL);
		pmap_destroy(p.bp_pm);
		pmap_destroy(p.bp_pm2);

		for (int k = 0; k < LINUX_NOPS; k++)
			if (r == 0 || t[k] / (double)n < row->lib[k])
				row->lib[k] = t[k] / (double)n;
	}
}

/* A column group's heading, " --- name ---": width + 2 characters. */
static void
heading(const char *name, int width)
{
	int len = (int)strlen(name) + 2;	/* the name, a space each side */
	int dashes = width > len ? width - len : 0, left = dashes / 2;
	printf("  ");
	for (int i = 0; i < left; i++)
		putchar('-');
	printf(" %s ", name);
	for (int i = left; i < dashes; i++)
		putchar('-');
}

static void
print_cell(const struct linux_cost *lc, long n)
{
	if (lc != NULL && lc->ok)
		printf(" %9.1f", lc->ns / (double)n);
	else
		printf(" %9s", "n/a");
}

static void
scaling(void)
{
	static const enum linux_op order[LINUX_NOPS] = {
		LINUX_ENTER, LINUX_PROTECT, LINUX_FORK, LINUX_REMOVE
	};

	for (int i = 0; i < nsrows; i++)
		if (srows[i].run)
			scale_one(&srows[i]);

	printf("\nscaling: ns/page as the work grows, best of %d at each size (libpmap: "
	    "fresh pmaps, active on CPU 0)\n", reps);
	printf("%8s", "");
	for (int k = 0; k < LINUX_NOPS; k++)
		heading(linux_op_name(order[k]), 18);
	printf("\n%8s", "pages");
	for (int k = 0; k < LINUX_NOPS; k++)
		printf("  %9s%9s", "libpmap", "linux");
	printf("\n");
	for (int i = 0; i < nsrows; i++) {
		struct scale_row *row = &srows[i];
		printf("    2^%-2d", row->lg);
		if (!row->run) {
			printf("  not run: %ld MiB mapped is beyond %s (largest N here: %ld pages)\n",
			    row->n >> 8, limit_why, limit);
			continue;
		}
		for (int k = 0; k < LINUX_NOPS; k++) {
			printf("  %9.1f", row->lib[order[k]]);
			print_cell(linux_at(row->n, order[k]), row->n);
		}
		printf("\n");
	}
	/* Linux's fork has a fixed cost the pages' share shrinks under. */
	int lo = 0, hi = nsrows - 1;
	while (hi > 0 && !srows[hi].run)
		hi--;
	if (lfork_bare.ok && lo < hi)
		printf("(each linux fork figure includes forking the bare process, %.0f us: "
		    "%.1f ns/page at 2^%d, %.2f at 2^%d)\n", lfork_bare.ns / 1e3,
		    lfork_bare.ns / (double)srows[lo].n, srows[lo].lg,
		    lfork_bare.ns / (double)srows[hi].n, srows[hi].lg);
}

/* Is name an executable in PATH? */
static bool
in_path(const char *name)
{
	const char *path = getenv("PATH");
	if (path == NULL)
		return false;
	while (*path != '\0') {
		const char *end = strchr(path, ':');
		size_t len = end != NULL ? (size_t)(end - path) : strlen(path);
		char buf[4096];
		if (len > 0 && len + strlen(name) + 2 <= sizeof(buf)) {
			memcpy(buf, path, len);
			buf[len] = '/';
			strcpy(buf + len + 1, name);
			if (access(buf, X_OK) == 0)
				return true;
		}
		if (end == NULL)
			break;
		path = end + 1;
	}
	return false;
}

static void
plot(void)
{
	if (!in_path("gnuplot")) {
		printf("plot: skipped (gnuplot is not installed)\n");
		return;
	}
	FILE *g = popen("gnuplot", "w");
	if (g == NULL) {
		printf("plot: skipped (cannot run gnuplot: %s)\n", strerror(errno));
		return;
	}
	(void)remove(plot_path);
	/* Data inline; '?' where a side has no figure. */
	fprintf(g, "$d << EOD\n");
	for (int i = 0; i < nsrows; i++) {
		struct scale_row *row = &srows[i];
		if (!row->run)
			continue;
		fprintf(g, "%d", row->lg);
		for (int k = 0; k < LINUX_NOPS; k++) {
			const struct linux_cost *lc = linux_at(row->n, (enum linux_op)k);
			fprintf(g, " %.2f", row->lib[k]);
			if (lc != NULL && lc->ok)
				fprintf(g, " %.2f", lc->ns / (double)row->n);
			else
				fprintf(g, " ?");
		}
		fprintf(g, "\n");
	}
	fprintf(g, "EOD\n");
	fprintf(g,
	    "set datafile missing '?'\n"
	    "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) "
	    "{ set terminal pngcairo size 1000,640 } else { set terminal png size 1000,640 }\n"
	    "set output '%s'\n"
	    "set title 'libpmap (simulated machine) and Linux (this host): cost per page as N grows'\n"
	    "set xlabel 'log2 N (pages)'\n"
	    "set ylabel 'ns/page'\n"
	    "set xrange [%d:%d]\n"
	    "set xtics %d\n"
	    "set logscale y\n"
	    "set grid\n"
	    "set key outside right\n"
	    "plot \\\n", plot_path, SCALE_MIN - 1, scale_max + 1, SCALE_STEP);
	/* One line per operation and side, solid for libpmap, dashed for
	 * Linux in the same colour; none for a side with no figure at all
	 * (gnuplot would complain). */
	for (int k = 0; k < LINUX_NOPS; k++) {
		bool any = false;
		for (int i = 0; i < nsrows; i++) {
			const struct linux_cost *lc = linux_at(srows[i].n, (enum linux_op)k);
			any |= srows[i].run && lc != NULL && lc->ok;
		}
		const char *name = linux_op_name((enum linux_op)k);
		fprintf(g, "%s$d using 1:%d with linespoints lw 2 dt 1 lc %d title '%s libpmap'",
		    k ? ", \\\n  " : "  ", 2 + 2 * k, k + 1, name);
		if (any)
			fprintf(g, ", \\\n  $d using 1:%d with linespoints lw 2 dt 2 lc %d "
			    "title '%s linux'", 3 + 2 * k, k + 1, name);
	}
	fprintf(g, "\n");
	int st = pclose(g);
	struct stat sb;
	if (st != 0 || stat(plot_path, &sb) != 0 || sb.st_size == 0)
		printf("plot: gnuplot failed (status %d): no %s\n", st, plot_path);
	else
		printf("plot: %s (log2 N on x, ns/page on y, log scale)\n", plot_path);
}

/* ------------------------------------------------------------------ */
/* 4. Shootdowns per pmap_update                                       */
/* ------------------------------------------------------------------ */

/* CPUs 1.. run an lwp of the pmap until told to stop: blocked in
 * sim_cpu_wait, which takes interrupts (a shootdown IPI is answered at
 * once) and, unlike a spin, leaves this 2-core host's cores to CPU 0. */
struct park {
	pmap_t pm;
	atomic_int ready;
	atomic_bool stop;
};

static bool
park_stop_p(void *arg)
{
	return atomic_load(&((struct park *)arg)->stop);
}

static bool
park_ready_p(void *arg)
{
	return atomic_load(&((struct park *)arg)->ready) == sim_ncpus() - 1;
}

static void
park(void *arg)
{
	struct park *pk = arg;
	struct lwp l = { .l_pmap = pk->pm, .l_id = sim_cpu_id() };
	sim_set_curlwp(&l);
	pmap_activate(&l);
	atomic_fetch_add(&pk->ready, 1);
	sim_cpu_kick(1);	/* CPU 0 waits for all of us */
	sim_cpu_wait(park_stop_p, pk);
	sim_set_curlwp(NULL);	/* back to the kernel: the CPU leaves the pmap */
	pmap_activate(NULL);
}

#define NSD 4

static void
shootdown_table(void)
{
	long sizes[NSD] = { 1, 32, 33, 1L << 18 };
	struct bench_sd res[2][NSD][2];	/* [everywhere, CPU 0][size][protect, remove] */
	int ncpus = sim_ncpus();
	if (sizes[NSD - 1] > maxpages)
		sizes[NSD - 1] = maxpages;

	pmap_t pm = pmap_create();
	cpu0_runs(pm);
	struct park pk = { .pm = pm };
	atomic_init(&pk.ready, 0);
	atomic_init(&pk.stop, false);
	for (int c = 1; c < ncpus; c++)
		sim_run_async(c, park, &pk);
	sim_cpu_wait(park_ready_p, &pk);

	for (int where = 0; where < 2; where++) {
		if (where == 1) {
			atomic_store(&pk.stop, true);
			for (int c = 1; c < ncpus; c++)
				sim_cpu_kick(1ULL << c);
			for (int c = 1; c < ncpus; c++)
				sim_wait(c);
		}
		for (int s = 0; s < NSD; s++) {
			/* Referenced, dirty pages: a TLB may hold each one. */
			struct bench_pass p = pass_of(sizes[s]);
			bench_map_written(&p, pm, sizes[s]);
			res[where][s][0] = bench_shootdowns(pm, sizes[s], false);
			res[where][s][1] = bench_shootdowns(pm, sizes[s], true);
		}
	}
	cpu0_runs(NULL);
	pmap_destroy(pm);

	printf("\nshootdowns per pmap_update after pmap_protect (rw -> r) or pmap_remove of "
	    "referenced pages\n(deltas of pc_shootdowns = rounds, pc_shootdown_ipis = IPIs; "
	    "%d simulated CPUs)\n", ncpus);
	char everywhere[32];
	snprintf(everywhere, sizeof(everywhere), "active on CPUs 0-%d", ncpus - 1);
	printf("%8s", "");
	heading(everywhere, 26);
	heading("active on CPU 0 only", 26);
	printf("\n%8s", "");
	for (int k = 0; k < 4; k++)
		heading(k % 2 == 0 ? "protect" : "remove", 12);
	printf("\n");
	printf("%8s", "pages");
	for (int k = 0; k < 4; k++)
		printf("  %6s %5s", "rounds", "IPIs");
	printf("\n");
	for (int s = 0; s < NSD; s++) {
		printf("%8ld", sizes[s]);
		for (int where = 0; where < 2; where++)
			for (int op = 0; op < 2; op++)
				printf("  %6llu %5llu", (unsigned long long)res[where][s][op].bs_rounds,
				    (unsigned long long)res[where][s][op].bs_ipis);
		printf("\n");
	}
	printf("(the library's aim: one round whatever the size, none when no other CPU "
	    "can hold the pmap)\n");
}

/* ------------------------------------------------------------------ */

static void
run(void *arg)
{
	(void)arg;
	pgs = calloc((size_t)maxpages, sizeof(*pgs));
	pas = calloc((size_t)maxpages, sizeof(*pas));
	if (pgs == NULL || pas == NULL) {
		fprintf(stderr, "bench_pmap: out of host memory\n");
		exit(1);
	}
	for (long i = 0; i < maxpages; i++) {
		uint64_t pa;
		if (sim_page_alloc(&pa) != 0) {
			fprintf(stderr, "bench_pmap: out of simulated memory at page %ld\n", i);
			exit(1);
		}
		pas[i] = (paddr_t)pa;
		pgs[i] = sim_pa_to_vm_page(pas[i]);
	}
	main_table();
	if (main_only)
		return;
	fflush(stdout);
	scaling();
	shootdown_table();
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_pmap [--pages=N] [--reps=R] [--scale-max=K] "
	    "[--plot=FILE] [--main-only]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	t_start = now();
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--pages=", 8) == 0)
			npages = atol(argv[i] + 8);
		else if (strncmp(argv[i], "--reps=", 7) == 0)
			reps = atoi(argv[i] + 7);
		else if (strncmp(argv[i], "--scale-max=", 12) == 0)
			scale_max = atoi(argv[i] + 12);
		else if (strncmp(argv[i], "--plot=", 7) == 0)
			plot_path = argv[i] + 7;
		else if (strcmp(argv[i], "--main-only") == 0)
			main_only = true;
		else
			usage();
	}
	if (npages < 1 || reps < 1 || scale_max < SCALE_MIN || scale_max > SCALE_MAX)
		usage();

	limit = pages_limit(&limit_why);
	if (npages > limit) {
		fprintf(stderr, "bench_pmap: %ld pages is beyond %s (at most %ld here)\n", npages,
		    limit_why, limit);
		return 2;
	}
	maxpages = npages;
	if (!main_only) {
		for (int k = SCALE_MIN; k <= scale_max; k += SCALE_STEP) {
			struct scale_row *row = &srows[nsrows++];
			row->lg = k;
			row->n = 1L << k;
			row->run = row->n <= limit;
			if (row->run && row->n > maxpages)
				maxpages = row->n;
		}
		if (maxpages < 1L << 18 && limit >= 1L << 18)
			maxpages = 1L << 18;	/* the shootdown table's largest range */
	}

	struct utsname u;
	if (uname(&u) != 0)
		strcpy(u.release, "?");
	printf("bench_pmap: libpmap on the simulated machine and this host's Linux %s, the "
	    "same page-table work over the same page counts, in one run.\n"
	    "It measures, it asserts nothing; wall-clock times, noisy: compare lines of one "
	    "run.\n", u.release);

	/* 1. Linux, before the machine boots: this process is small now, and
	 * fork() copies all of it. */
	if (!main_only) {
		for (int i = 0; i < nsrows; i++)
			if (srows[i].run)
				add_lsize(srows[i].n);
		add_lsize(npages);
		printf("\nlinux: measured first, before the simulated machine boots; best of %d "
		    "run%s at each size;\n  fresh zero-page regions for enter and remove, written "
		    "pages (MAP_POPULATE, then a byte\n  written to each) for protect and fork; "
		    "transparent huge pages %s\n", reps, reps == 1 ? "" : "s",
		    linux_thp_off() == 0 ? "off (prctl PR_SET_THP_DISABLE)" :
		    "could not be turned off");
		fflush(stdout);
		linux_fork_bare(reps, &lfork_bare);
		linux_measure(lsizes, nlsizes, reps, lcost);
		linux_thp_restore();
		linux_done = true;
		if (lfork_bare.ok)
			printf("linux: fork of this process with no extra pages: %.0f us\n",
			    lfork_bare.ns / 1e3);
		else
			printf("linux: fork of this process: unavailable (%s)\n", lfork_bare.why);
		/* The main N's failures are reported with its comparisons. */
		for (int i = 0; i < nlsizes; i++)
			for (int op = 0; op < LINUX_NOPS; op++)
				if (lsizes[i] != npages && !lcost[i * LINUX_NOPS + op].ok)
					printf("linux: %s at %ld pages: unavailable (%s)\n",
					    linux_op_name((enum linux_op)op), lsizes[i],
					    lcost[i * LINUX_NOPS + op].why);
		printf("linux: done in %.1f s\n", (now() - t_start) / 1e9);
	}

	struct sim_pmap_config c;
	sim_pmap_config_default(&c);
	c.machine.audit_on_free = false;
	c.machine.mem_size = (uint64_t)maxpages * PAGE_SIZE + MEM_SLACK;
	sim_host_printf_prefix("# ");
	sim_pmap_boot(&c);
	printf("\nsimulated machine: %d CPUs, %llu MiB of memory (%ld pages used by the "
	    "benchmark + %llu MiB)\n", sim_ncpus(),
	    (unsigned long long)(c.machine.mem_size >> 20), maxpages,
	    (unsigned long long)(MEM_SLACK >> 20));
	fflush(stdout);
	sim_run_on(0, run, NULL);
	sim_pmap_shutdown();
	if (!main_only)
		plot();
	printf("bench_pmap: %.1f s\n", (now() - t_start) / 1e9);
	return 0;
}
