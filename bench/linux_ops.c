// SPDX-License-Identifier: BSD-2-Clause
/*
 * linux_ops.c - the host Linux's side of bench_pmap's vs-linux lines: the
 * same page-table work as the library's, done by the kernel we run on.
 *
 * What each operation is made to cost, and nothing else:
 *  - enter:   mmap(PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE)
 *             maps the shared zero page N times: page tables and PTEs, no
 *             page allocated or zeroed.  Nothing is touched; mincore()
 *             afterwards (untimed) checks that every page really is mapped.
 *  - remove:  munmap of N zero-page mappings (nothing freed but the page
 *             tables): the region an enter run has just mapped, so the
 *             two lines cost one mmap between them.
 *  - protect: mprotect(PROT_READ) of N private pages, each written
 *             (present, dirty, writable, the process's own).
 *  - fork:    fork() of this process with those N pages, timed in the
 *             parent from the call to its return; the child _exit()s at
 *             once and is reaped outside the timing.
 *
 * The written pages are made once, for the largest size, and the region is
 * cut down (munmap of its tail) for each smaller size in turn: a page
 * first written can cost far more than the operations measured on a
 * virtual machine (about 10 us on the one this was written on: a trap per
 * fault, and the first store to a page traps to the hypervisor too), so
 * making them afresh for each size and run would take minutes.  Between runs the region is brought back to the written
 * state - writable, dirty and the process's own, which a fork or a
 * protect undid - by madvise(MADV_POPULATE_WRITE).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "linux_ops.h"

#define LPAGE	4096UL

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23		/* Linux 5.14; older headers lack it */
#endif

static double
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

const char *
linux_op_name(enum linux_op op)
{
	static const char *const names[LINUX_NOPS] = {
		[LINUX_ENTER] = "enter", [LINUX_PROTECT] = "protect",
		[LINUX_FORK] = "fork", [LINUX_REMOVE] = "remove",
	};
	return (unsigned)op < LINUX_NOPS ? names[op] : "?";
}

static void
fail(struct linux_cost *c, const char *call, int err)
{
	c->ok = false;
	snprintf(c->why, sizeof(c->why), "%s: %s", call, strerror(err));
}

/* Keep the best time of a run; the first run sets it. */
static void
keep_best(struct linux_cost *c, double ns, bool first)
{
	if (first || ns < c->ns)
		c->ns = ns;
	c->ok = true;
}

/* ---- enter and remove: zero-page mappings ---- */

/*
 * N zero-page mappings by MAP_POPULATE, timed; then the proof they are
 * there.  A kernel that ignores MAP_POPULATE (or will not map the zero
 * page) would otherwise have the enter line time an empty mmap and the
 * remove line an empty munmap.
 */
static void *
map_zero_pages(size_t len, double *ns, struct linux_cost *c)
{
	double t0 = now_ns();
	void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
	    -1, 0);
	double t1 = now_ns();
	if (p == MAP_FAILED) {
		fail(c, "mmap(PROT_READ, MAP_POPULATE)", errno);
		return NULL;
	}
	size_t n = len / LPAGE, missing = 0;
	static unsigned char vec[1 << 14];
	for (size_t off = 0; off < n; off += sizeof(vec)) {
		size_t k = n - off < sizeof(vec) ? n - off : sizeof(vec);
		if (mincore((char *)p + off * LPAGE, k * LPAGE, vec) != 0) {
			fail(c, "mincore", errno);
			munmap(p, len);
			return NULL;
		}
		for (size_t i = 0; i < k; i++)
			missing += (vec[i] & 1) == 0;
	}
	if (missing != 0) {
		c->ok = false;
		snprintf(c->why, sizeof(c->why), "MAP_POPULATE left %zu of %zu pages unmapped",
		    missing, n);
		munmap(p, len);
		return NULL;
	}
	*ns = t1 - t0;
	return p;
}

static void
measure_zero(size_t len, int reps, struct linux_cost *enter, struct linux_cost *remove)
{
	for (int r = 0; r < reps; r++) {
		double t;
		void *p = map_zero_pages(len, &t, enter);
		if (p == NULL) {
			remove->ok = false;
			snprintf(remove->why, sizeof(remove->why), "%s", enter->why);
			return;
		}
		keep_best(enter, t, r == 0);
		double t0 = now_ns();
		int err = munmap(p, len);
		double t1 = now_ns();
		if (err != 0) {
			fail(remove, "munmap", errno);
			return;
		}
		keep_best(remove, t1 - t0, r == 0);
	}
}

/* ---- protect and fork: written private pages ---- */

/*
 * Bring [p, p + len) back to the written state - present, writable, dirty,
 * the process's own (not shared with a child it forked) - after a fork or
 * a protect, by the kernel's write fault on each page.  A store from here
 * would do the same but trap first; and on a virtual machine that tracks
 * the pages its guest dirties, a store may trap to the hypervisor too.
 */
static int
rewrite(char *p, size_t len)
{
	if (madvise(p, len, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	/* Linux < 5.14: the stores fault instead. */
	for (size_t off = 0; off < len; off += LPAGE)
		((volatile char *)p)[off] = 1;
	return 0;
}

static char *
map_written_pages(size_t len, struct linux_cost *c)
{
	/* MAP_POPULATE on a writable private mapping makes the private
	 * pages by the kernel's own write faults, without a trap per page;
	 * then a byte of each is written, so they are written pages however
	 * the kernel populated them. */
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED) {
		fail(c, "mmap(PROT_READ | PROT_WRITE)", errno);
		return NULL;
	}
	for (size_t off = 0; off < len; off += LPAGE)
		((volatile char *)p)[off] = 1;
	return p;
}

/* One fork: the parent's time from the call to its return. */
static int
time_fork(double *ns, struct linux_cost *c)
{
	double t0 = now_ns();
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);	/* no atexit handlers, no stdio flush */
	double t1 = now_ns();
	if (pid < 0) {
		fail(c, "fork", errno);
		return -1;
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		continue;
	*ns = t1 - t0;
	return 0;
}

static void
measure_written(char *p, size_t len, int reps, struct linux_cost *protect,
    struct linux_cost *fork_c)
{
	for (int r = 0; r < reps; r++) {
		double t0 = now_ns();
		int err = mprotect(p, len, PROT_READ);
		double t1 = now_ns();
		if (err != 0) {
			fail(protect, "mprotect", errno);
			break;
		}
		keep_best(protect, t1 - t0, r == 0);
		if (mprotect(p, len, PROT_READ | PROT_WRITE) != 0 || rewrite(p, len) != 0) {
			fail(protect, "restoring the pages", errno);
			break;
		}
	}
	for (int r = 0; r < reps; r++) {
		double t;
		if (time_fork(&t, fork_c) != 0)
			return;
		keep_best(fork_c, t, r == 0);
		if (rewrite(p, len) != 0) {
			fail(fork_c, "madvise(MADV_POPULATE_WRITE)", errno);
			return;
		}
	}
}

void
linux_measure(const long *sizes, int nsizes, int reps, struct linux_cost *out)
{
	memset(out, 0, (size_t)nsizes * LINUX_NOPS * sizeof(*out));

	/* The zero-page runs first, while the process holds no written
	 * region. */
	for (int i = 0; i < nsizes; i++) {
		struct linux_cost *c = &out[i * LINUX_NOPS];
		if (sizes[i] <= 0 || (unsigned long)sizes[i] > SIZE_MAX / LPAGE) {
			for (int op = 0; op < LINUX_NOPS; op++)
				snprintf(c[op].why, sizeof(c[op].why),
				    "%ld pages do not fit this process", sizes[i]);
			continue;
		}
		measure_zero((size_t)sizes[i] * LPAGE, reps, &c[LINUX_ENTER],
		    &c[LINUX_REMOVE]);
	}

	/* Largest first, the region cut down as the sizes shrink. */
	char *reg = NULL;
	size_t reglen = 0;
	for (int i = nsizes - 1; i >= 0; i--) {
		struct linux_cost *c = &out[i * LINUX_NOPS];
		if (sizes[i] <= 0 || (unsigned long)sizes[i] > SIZE_MAX / LPAGE)
			continue;
		size_t len = (size_t)sizes[i] * LPAGE;
		if (reg != NULL && reglen > len) {
			munmap(reg + len, reglen - len);
			reglen = len;
		}
		if (reg == NULL) {
			reg = map_written_pages(len, &c[LINUX_PROTECT]);
			if (reg == NULL) {
				c[LINUX_FORK] = c[LINUX_PROTECT];
				continue;
			}
			reglen = len;
		}
		measure_written(reg, len, reps, &c[LINUX_PROTECT], &c[LINUX_FORK]);
	}
	if (reg != NULL)
		munmap(reg, reglen);
}

void
linux_fork_bare(int reps, struct linux_cost *out)
{
	memset(out, 0, sizeof(*out));
	for (int r = 0; r < reps; r++) {
		double t;
		if (time_fork(&t, out) != 0)
			return;
		keep_best(out, t, r == 0);
	}
}

static int thp_was = -1;

int
linux_thp_off(void)
{
	int was = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
	if (was < 0)
		return -1;
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0)
		return -1;
	thp_was = was;
	return 0;
}

void
linux_thp_restore(void)
{
	if (thp_was >= 0)
		(void)prctl(PR_SET_THP_DISABLE, thp_was, 0, 0, 0);
	thp_was = -1;
}
