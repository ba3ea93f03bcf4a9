// SPDX-License-Identifier: BSD-2-Clause
/*
 * solo_test.c - the solo walks of pmap_protect and pmap_remove against a
 * CPU that activates the pmap in the middle of one.
 *
 * When no other CPU runs a pmap's tables, pmap_protect rewrites its PTEs
 * with plain stores: no other MMU can set A or D meanwhile.  A CPU that
 * activates the pmap during such a walk must therefore wait until the
 * walk is over before its MMU touches a PTE - or a store it makes between
 * the walk's load of a PTE and its store back would set D only to have it
 * overwritten: a lost modified bit, and a write after the protection.
 *
 * CPU 1 switches to another pmap (leaving the first's pm_active), then
 * back, and stores to the last page of a page table's worth of mappings,
 * at a moment swept across the walk that CPU 0 makes over them with
 * pmap_protect(READ) - the sweep adapts to the machine, towards the
 * boundary between stores that work and stores that fault, which is
 * where the window is.  Whenever the store worked, the page must be
 * modified, and once pmap_update has returned no store may work.  The same
 * again with pmap_remove, whose solo walk clears PTEs with plain stores.  (With
 * the handshake, a CPU arriving during the walk waits for it, so its
 * store faults: few or none work.  Without it, about half do, and some
 * lose their modified bit.)
 */
#include "ptest_util.h"

#define PT	512		/* pages a page table maps (at most: i386's maps 1024) */
#define NPT	1
#define NPG	(PT * NPT)	/* the walk is long */
#define ROUNDS	2000

static struct vm_page *pg[NPG];
static struct uspace x, y;
static int ready, go, done;	/* __atomic: rounds CPU 1 is ready for, started, done */
static int stored[NPT];		/* __atomic: CPU 1's store to table t's last page worked */
static int delay;		/* CPU 1's spin before it activates x */
static bool stay;		/* phase 2: CPU 1 runs x all along */

static void
writer(void *arg)
{
	(void)arg;
	for (int r = 0; r < ROUNDS; r++) {
		/* Phase 1: off x's pm_active, to activate it during the walk;
		 * phase 2: in it from before the walk begins. */
		ptest_switch(stay ? x.us_l : y.us_l);
		__atomic_store_n(&ready, r + 1, __ATOMIC_RELEASE);
		/* A tight spin, not ptest_relax (which may yield the host CPU):
		 * the walk lasts microseconds.  In phase 1 no shootdown is owed
		 * here (CPU 0 changes x only once this CPU has left it, and
		 * nobody changes y); in phase 2 they are answered now and then. */
		for (unsigned n = 1; __atomic_load_n(&go, __ATOMIC_ACQUIRE) <= r; n++)
			if (n % 4096 == 0)
				ptest_relax();
		for (volatile int k = 0; k < delay; k++)
			continue;
		ptest_switch(x.us_l);
		/* The last page of each table, in the walk's order: wherever the
		 * walk is when this CPU arrives, one of them is just ahead. */
		for (int t = 0; t < NPT; t++)
			__atomic_store_n(&stored[t], ptest_store(UVA(PT * t + PT - 1), 8,
			    0x5010000000ULL + (uint64_t)r, PTEST_USER) == PTEST_OK, __ATOMIC_RELAXED);
		__atomic_store_n(&done, r + 1, __ATOMIC_RELEASE);
	}
	ptest_switch(NULL);
}

static void
phase(bool stay_in_x, bool remove)
{
	vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
	int lost = 0, late = 0, worked = 0, faulted = 0, delay_hi = 20000;
	uint64_t rng = ptest_seed() + stay_in_x + 2 * remove;
	stay = stay_in_x;
	__atomic_store_n(&ready, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&go, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&done, 0, __ATOMIC_RELAXED);
	ptest_run_async(1, writer, NULL);
	for (int r = 0; r < ROUNDS; r++) {
		/* Phase 1: CPU 1 has left x, the updates below send it nothing. */
		while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) <= r)
			ptest_relax();
		/* Every page read-write at first; then only the targets again
		 * (pmap_protect's walk still passes over the rest, which it
		 * leaves alone; pmap_remove's needs them all back to be long). */
		bool all = r == 0 || remove;
		for (int i = all ? 0 : PT - 1; i < NPG; i += all ? 1 : PT)
			pmap_enter(x.us_pm, UVA(i), ptest_page_pa(pg[i]), rw, rw);
		pmap_update(x.us_pm);
		for (int t = 0; t < NPT; t++)
			pmap_clear_modify(pg[PT * t + PT - 1]);
		/* Sweep CPU 1's arrival across the walk: the bound adapts to the
		 * machine (a simulated CPU, KVM, TCG differ a hundredfold). */
		delay = (int)(ptest_rand(&rng) % (uint64_t)(delay_hi + 1));
		__atomic_store_n(&go, r + 1, __ATOMIC_RELEASE);
		if (remove)
			pmap_remove(x.us_pm, UVA(0), UVA(NPG));
		else
			pmap_protect(x.us_pm, UVA(0), UVA(NPG), VM_PROT_READ);
		pmap_update(x.us_pm);
		while (__atomic_load_n(&done, __ATOMIC_ACQUIRE) <= r)
			ptest_relax();
		int here = 0;
		for (int t = 0; t < NPT; t++) {
			if (__atomic_load_n(&stored[t], __ATOMIC_RELAXED)) {
				here++;
				worked++;
				if (!pmap_is_modified(pg[PT * t + PT - 1]) && lost++ < 3)
					tap_diag("round %d: CPU 1's store to table %d worked, the page "
					    "is not modified", r, t);
			} else {
				faulted++;
			}
		}
		if (here == 0)		/* CPU 1 came after the walk: sooner */
			delay_hi = delay_hi * 3 / 4;
		else if (here == NPT && delay_hi < (1 << 24))	/* before it: later */
			delay_hi = delay_hi * 5 / 4 + 16;
	}
	ptest_wait(1);
	/* CPU 1's last view of x is read-only (or gone): a store there now
	 * must fault. */
	ptest_switch(x.us_l);
	late = ptest_store(UVA(NPG - 1), 8, 1, PTEST_USER) == PTEST_OK;
	ptest_switch(NULL);
	const char *what = stay_in_x ? (remove ? "remove, CPU 1 running x all along" :
	    "protect, CPU 1 running x all along") : (remove ? "remove, CPU 1 activating x "
	    "during the walk" : "protect, CPU 1 activating x during the walk");
	tap_diag("%s: %d rounds, %d stores by CPU 1: %d worked, %d faulted", what, ROUNDS,
	    ROUNDS * NPT, worked, faulted);
	is_int(lost, 0, "%s: no store that worked lost its modified bit", what);
	ok(!late, "%s: after the walk and pmap_update, no store works", what);
}

PTEST_SUITE(solo)
{
	if (ptest_ncpus() < 2) {
		tap_skip(1, "one CPU: nobody can activate the pmap during a walk");
		return;
	}
	x = uspace_new();
	y = uspace_new();
	for (int i = 0; i < NPG; i++)
		pg[i] = ptest_page_alloc();
	phase(false, false);
	/* A CPU that runs x all along: the walk must not be solo at all. */
	phase(true, false);
	phase(false, true);
	phase(true, true);
	audit_ok("solo walks");
	uspace_free(&x);
	uspace_free(&y);
	for (int i = 0; i < NPG; i++)
		ptest_page_free(pg[i]);
}
