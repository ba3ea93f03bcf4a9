// SPDX-License-Identifier: BSD-2-Clause
/*
 * concurrency_test.c - every CPU at once: each mutates its own pmap over a
 * set of shared pages (pmap_enter, pmap_remove, pmap_protect, accesses)
 * while others run page-side operations on the same pages
 * (pmap_page_protect, pmap_clear_modify/reference), which take the page
 * lock first and the pmap lock second - the path with the lock-order
 * back-off.  Afterwards everything must be consistent, and the shootdowns
 * must have gone only where the pmaps were loaded.
 */
#include "ptest_util.h"

#define NSHARED	12
#define NSLOTS	32

static struct vm_page *shared[NSHARED];
static struct uspace space[PMAP_MAXCPUS];

struct worker {
	int cpu;
	uint64_t rng;
	long iters;
	int bad_access;
};

static void
worker_run(void *arg)
{
	struct worker *w = arg;
	struct uspace *u = &space[w->cpu];
	ptest_switch(u->us_l);
	for (long i = 0; i < w->iters; i++) {
		unsigned r = (unsigned)(ptest_rand(&w->rng) % 100);
		int s = (int)(ptest_rand(&w->rng) % NSLOTS);
		int pg = (int)(ptest_rand(&w->rng) % NSHARED);
		vaddr_t va = UVA(s);
		if (r < 35) {
			pmap_enter(u->us_pm, va, ptest_page_pa(shared[pg]),
			    VM_PROT_READ | VM_PROT_WRITE, (r & 1) ? PMAP_WIRED : 0);
			pmap_update(u->us_pm);
		} else if (r < 50) {
			pmap_remove(u->us_pm, va, va + 4 * PAGE_SIZE);
			pmap_update(u->us_pm);
		} else if (r < 58) {
			pmap_protect(u->us_pm, va, va + 2 * PAGE_SIZE, VM_PROT_READ);
			pmap_update(u->us_pm);
		} else if (r < 68) {
			pmap_page_protect(shared[pg], (r & 1) ? VM_PROT_NONE : VM_PROT_READ);
		} else if (r < 78) {
			if (r & 1)
				pmap_clear_modify(shared[pg]);
			else
				pmap_clear_reference(shared[pg]);
		} else {
			/* Access our own mapping; it may be gone at any moment (other
			 * CPUs remove it), but a read that works must see a tag. */
			uint64_t v;
			if (ptest_load(va, 8, &v, PTEST_USER) == PTEST_OK &&
			    (v >> 32) != 0x5eed)
				w->bad_access++;
			(void)ptest_store(va + 8, 8, v, PTEST_USER);
		}
	}
	ptest_switch(NULL);
}

/* CPU 1 runs A and changes B; CPU 2 runs B and changes A: each one's
 * pmap_update shoots the other while the other shoots it. */
struct mutual {
	struct uspace *run, *change;
	struct vm_page *pg;
	long rounds;
};

static void
mutual_run(void *arg)
{
	struct mutual *m = arg;
	ptest_switch(m->run->us_l);
	for (long i = 0; i < m->rounds; i++) {
		vaddr_t va = UVA(100 + i % 8);
		pmap_enter(m->change->us_pm, va, ptest_page_pa(m->pg), VM_PROT_READ, VM_PROT_READ);
		pmap_update(m->change->us_pm);
		pmap_remove(m->change->us_pm, va, va + PAGE_SIZE);
		pmap_update(m->change->us_pm);
		/* Touch our own space so this CPU's TLB has something to lose. */
		uint64_t v;
		(void)ptest_load(UVA(100 + (i + 3) % 8), 8, &v, PTEST_USER);
	}
	ptest_switch(NULL);
}

static void
switch_to(void *l)
{
	ptest_switch((struct lwp *)l);
}

static void
deactivate(void *l)
{
	pmap_deactivate((struct lwp *)l);
}

PTEST_SUITE(concurrency)
{
	int n = ptest_ncpus();
	for (int i = 0; i < NSHARED; i++)
		shared[i] = page_with(0x5eed00000000ULL | (uint64_t)i);
	for (int c = 0; c < n; c++)
		space[c] = uspace_new();

	struct worker w[PMAP_MAXCPUS];
	long iters = 4000L * (long)ptest_scale_percent() / 100 + 50;
	for (int c = 0; c < n; c++)
		w[c] = (struct worker){ c, ptest_seed() * 77 + (uint64_t)c, iters, 0 };
	for (int c = 1; c < n; c++)
		ptest_run_async(c, worker_run, &w[c]);
	worker_run(&w[0]);
	for (int c = 1; c < n; c++)
		ptest_wait(c);

	int bad = 0;
	for (int c = 0; c < n; c++)
		bad += w[c].bad_access;
	struct pmap_counters cc;
	pmap_get_counters(&cc);
	tap_diag("shootdowns %llu (IPIs %llu), INVLPGs %llu, full flushes %llu",
	    (unsigned long long)cc.pc_shootdowns, (unsigned long long)cc.pc_shootdown_ipis,
	    (unsigned long long)cc.pc_page_invalidations, (unsigned long long)cc.pc_full_flushes);
	is_int(bad, 0, "%d CPUs x %ld mixed operations on shared pages: every successful "
	    "read saw a tagged page", n, iters);
	int incons = 0;
	for (int c = 0; c < n; c++)
		incons += !check_pmap_ok("a worker's pmap", space[c].us_pm);
	for (int i = 0; i < NSHARED; i++)
		incons += !check_page_ok("a shared page", shared[i]);
	is_int(incons, 0, "all pmaps and pages consistent after the run");
	audit_ok("the concurrent run");

	if (n < 3) {
		tap_skip(4, "the targeted-shootdown checks need 3 CPUs");
		goto out;
	}
	/* Mutual shootdowns. */
	struct uspace ma = uspace_new(), mb = uspace_new();
	struct mutual m1 = { &ma, &mb, shared[2], 200L * (long)ptest_scale_percent() / 100 + 20 };
	struct mutual m2 = { &mb, &ma, shared[3], m1.rounds };
	ptest_run_async(1, mutual_run, &m1);
	ptest_run_async(2, mutual_run, &m2);
	ptest_wait(1);
	ptest_wait(2);
	ok(check_pmap_ok("pmap A after the mutual shootdowns", ma.us_pm) &&
	    check_pmap_ok("pmap B", mb.us_pm), "CPUs 1 and 2 shooting at each other %ld "
	    "times each finish (no deadlock) with both pmaps consistent", m1.rounds);
	uspace_free(&ma);
	uspace_free(&mb);

	/* Targeted shootdowns: a pmap loaded on CPU 1 only. */
	struct pmap_counters c0, c1;
	struct uspace t = uspace_new();
	pmap_enter(t.us_pm, UVA(0), ptest_page_pa(shared[0]), VM_PROT_READ, 0);
	pmap_update(t.us_pm);
	struct lwp *tl = t.us_l;
	ptest_run_on(1, switch_to, tl);
	pmap_get_counters(&c0);
	pmap_remove(t.us_pm, UVA(0), UVA(1));
	pmap_update(t.us_pm);
	pmap_get_counters(&c1);
	ok(c1.pc_shootdown_ipis - c0.pc_shootdown_ipis <= 1, "removing a mapping of a pmap "
	    "that only CPU 1 runs sends at most one IPI (sent %llu)",
	    (unsigned long long)(c1.pc_shootdown_ipis - c0.pc_shootdown_ipis));
	ptest_run_on(1, switch_to, NULL);

	/* A pmap nobody runs: no IPI at all. */
	pmap_enter(t.us_pm, UVA(0), ptest_page_pa(shared[0]), VM_PROT_READ, VM_PROT_READ);
	pmap_update(t.us_pm);
	pmap_get_counters(&c0);
	pmap_remove(t.us_pm, UVA(0), UVA(1));
	pmap_update(t.us_pm);
	pmap_get_counters(&c1);
	is_u64(c1.pc_shootdown_ipis - c0.pc_shootdown_ipis, 0,
	    "removing a mapping of a pmap no CPU runs sends no IPI");

	/* Lazy deactivation: CPU 2 keeps the pmap loaded after pmap_deactivate;
	 * pmap_destroy must evict it before freeing the page tables (the
	 * free-time check would catch a CR3 or cache entry left behind). */
	pmap_enter(t.us_pm, UVA(3), ptest_page_pa(shared[1]), VM_PROT_READ, 0);
	pmap_update(t.us_pm);
	ptest_run_on(2, switch_to, tl);
	ptest_run_on(2, deactivate, tl);
	pmap_remove(t.us_pm, UVA(3), UVA(4));
	pmap_update(t.us_pm);
	ptest_lwp_destroy(t.us_l);
	pmap_destroy(t.us_pm);
	audit_ok("destroying a pmap still loaded (lazily) on CPU 2");
	ptest_run_on(2, switch_to, NULL);
out:
	for (int c = 0; c < n; c++)
		uspace_free(&space[c]);
	for (int i = 0; i < NSHARED; i++) {
		pmap_page_protect(shared[i], VM_PROT_NONE);
		ptest_page_free(shared[i]);
	}
}
