// SPDX-License-Identifier: BSD-2-Clause
/*
 * explore_test.c - a workload for the deterministic scheduler to explore:
 * four CPUs in the roles a kernel gives them, each checking after every
 * step what pmap(9) promises it, so that an interleaving that breaks a
 * promise fails here whichever schedule found it.  Under threads it is one
 * more stress test; under --sched=random|pct each seed is one schedule,
 * replayable (make soak runs many).
 *
 *   CPU 1  owns pmap A: enters pages read-write, write-protects, removes,
 *          each followed by pmap_update; publishes "read-only since" and
 *          "removed since" only after pmap_update returned.
 *   CPU 2  runs A: reads and writes its addresses.  A write that works
 *          after a write-protect was published, or a read after a removal
 *          (and no re-entry since), is a stale translation.  Now and then
 *          it leaves A for the kernel or a pmap of its own and comes back:
 *          what it kept of A (address-space identifiers) must not outlive
 *          a change made while it was away.
 *   CPU 3  pagedaemon (pmap_clear_reference, pmap_clear_modify on A's
 *          pages; now and then pmap_protect over all of A, so two CPUs walk
 *          A's tables while CPU 1 makes and frees them) and, now and
 *          then, switches to the newest of the pmaps
 *          CPU 0 creates: after pmap_activate returns, its mapping must be
 *          readable.
 *   CPU 0  creates a pmap, publishes it, and destroys the one CPU 3 is
 *          leaving - while CPU 3 is still inside pmap_activate.
 *
 * Where the machine has interrupt points, random interrupts on every CPU
 * run what a driver's handler may: pmap_kenter_pa, a read through it,
 * pmap_kremove and pmap_update(pmap_kernel()) of a per-CPU address.
 */
#include "ptest_util.h"

#define NV	8		/* CPU 1's addresses in A, each in its own page table */
#define AVA(v)	UVA((v) * 512)
#define NP	4		/* pages they map */
#define VA0	UVA(100)	/* the mapping every churned pmap has */

static struct uspace a, a_away;
static struct vm_page *pages[NP], *churn_page;
static int gen[NV], ro[NV], gone[NV];	/* published by CPU 1 (__atomic) */
/* rw[v]: the protect epoch (pgen, even) in which CPU 1 entered v
 * read-write, 0 while it is not known to be; pgen is odd while CPU 3's
 * pmap_protect over A runs. */
static int rw[NV], pgen = 2;
static int bad_write, bad_read, bad_fault, bad_activate, bad_intr;
static long n_checked, n_switches, n_intr;

static int ld(int *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static void st(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static void inc(int *p) { __atomic_fetch_add(p, 1, __ATOMIC_SEQ_CST); }
static void incl(long *p) { __atomic_fetch_add(p, 1, __ATOMIC_RELAXED); }

struct role {
	uint64_t rng;
	long iters;
};

static void
owner(void *p)
{
	struct role *r = p;
	for (long i = 0; i < r->iters; i++) {
		int v = (int)(ptest_rand(&r->rng) % NV);
		vaddr_t va = AVA(v);
		switch (ptest_rand(&r->rng) % 3) {
		case 0: {	/* more rights: the old promises end first */
			inc(&gen[v]);
			st(&ro[v], 0);
			st(&gone[v], 0);
			int p1 = ld(&pgen);
			pmap_enter(a.us_pm, va, ptest_page_pa(pages[v % NP]),
			    VM_PROT_READ | VM_PROT_WRITE, VM_PROT_READ | VM_PROT_WRITE);
			pmap_update(a.us_pm);
			int p2 = ld(&pgen);
			st(&rw[v], p1 == p2 && p2 % 2 == 0 ? p2 : 0);
			break;
		}
		case 1:
			st(&rw[v], 0);
			pmap_protect(a.us_pm, va, va + PAGE_SIZE, VM_PROT_READ);
			pmap_update(a.us_pm);
			st(&ro[v], 1);
			break;
		default:
			st(&rw[v], 0);
			pmap_remove(a.us_pm, va, va + PAGE_SIZE);
			pmap_update(a.us_pm);
			st(&gone[v], 1);
			break;
		}
	}
}

static void
user(void *p)
{
	struct role *r = p;
	ptest_switch(a.us_l);
	for (long i = 0; i < r->iters; i++) {
		int v = (int)(ptest_rand(&r->rng) % NV);
		bool write = ptest_rand(&r->rng) & 1;
		uint64_t leave = ptest_rand(&r->rng) % 8;
		if (leave < 2)		/* away, to come back after the promises */
			ptest_switch(leave == 0 ? NULL : a_away.us_l);
		int g = ld(&gen[v]), wasro = ld(&ro[v]), wasgone = ld(&gone[v]);
		int pg = ld(&pgen), wasrw = ld(&rw[v]);
		if (leave < 2)
			ptest_switch(a.us_l);
		uint64_t val = 0x5eed;
		int res = write ? ptest_store(AVA(v), 8, val, PTEST_USER)
				: ptest_load(AVA(v), 8, &val, PTEST_USER);
		if (ld(&gen[v]) != g)
			continue;	/* re-entered meanwhile: no promise to check */
		incl(&n_checked);
		if (res == PTEST_OK && write && (wasro || wasgone))
			inc(&bad_write);
		if (res == PTEST_OK && !write && wasgone)
			inc(&bad_read);
		/* Read-write throughout (no protect or remove began, by CPU 1
		 * or CPU 3): nothing may fault.  Clearing mod/ref never does. */
		if (res != PTEST_OK && wasrw != 0 && wasrw == pg && ld(&pgen) == pg &&
		    ld(&rw[v]) == wasrw)
			inc(&bad_fault);
	}
	ptest_switch(NULL);
}

/* CPU 0 and CPU 3: the pmap churn. */
static struct uspace pub;		/* the newest pmap (CPU 0 writes) */
static int pub_gen, left_gen, churn_done;	/* __atomic */

static void
pagedaemon(void *p)
{
	struct role *r = p;
	int mine = 0;
	while (!ld(&churn_done)) {
		struct vm_page *pg = pages[ptest_rand(&r->rng) % NP];
		switch (ptest_rand(&r->rng) % 8) {
		case 0:		/* only ever lowers rights: no promise broken */
			inc(&pgen);	/* odd: a protect is running */
			pmap_protect(a.us_pm, AVA(0), AVA(NV), VM_PROT_READ);
			pmap_update(a.us_pm);
			inc(&pgen);
			break;
		case 1: case 2: case 3:
			pmap_clear_reference(pg);
			break;
		default:
			pmap_clear_modify(pg);
			break;
		}
		int g = ld(&pub_gen);
		if (g != mine && ptest_rand(&r->rng) % 4 == 0) {
			struct lwp *l = pub.us_l;	/* stable until we leave it */
			st(&left_gen, g);	/* CPU 0 may destroy the old one now */
			ptest_switch(l);
			mine = g;
			uint64_t v;
			if (ptest_load(VA0, 8, &v, PTEST_USER) != PTEST_OK || v != 0xc0de)
				inc(&bad_activate);
			incl(&n_switches);
		}
		ptest_relax();
	}
	ptest_switch(NULL);
}

static struct uspace
churn_new(void)
{
	struct uspace u = uspace_new();
	pmap_enter(u.us_pm, VA0, ptest_page_pa(churn_page), VM_PROT_READ, 0);
	pmap_update(u.us_pm);
	return u;
}

static void
churn(long rounds)
{
	struct uspace old = { NULL, NULL };
	for (long i = 0; i < rounds; i++) {
		struct uspace nu = churn_new();
		int g = ld(&pub_gen) + 1;
		struct uspace prev = pub;
		pub = nu;
		st(&pub_gen, g);
		/* Wait until CPU 3 leaves prev for nu: destroy prev then, while
		 * CPU 3 is (maybe) still inside pmap_activate. */
		while (ld(&left_gen) != g)
			ptest_relax();
		if (prev.us_pm != NULL)
			uspace_free(&prev);
		old = prev;
	}
	(void)old;
}

/* Random interrupts: what a driver's handler may do. */
static vaddr_t intr_kva;

static void
intr_handler(void *p)
{
	(void)p;
	vaddr_t kva = intr_kva + (vaddr_t)ptest_cpu() * PAGE_SIZE;
	pmap_kenter_pa(kva, ptest_page_pa(churn_page), VM_PROT_READ, 0);
	uint64_t v;
	if (ptest_load(kva, 8, &v, 0) != PTEST_OK || v != 0xc0de)
		inc(&bad_intr);
	pmap_kremove(kva, PAGE_SIZE);
	pmap_update(pmap_kernel());
	if (ptest_load(kva, 8, &v, 0) != PTEST_PF)
		inc(&bad_intr);
	incl(&n_intr);
}

PTEST_SUITE(explore)
{
	if (ptest_ncpus() < 4) {
		tap_skip(7, "needs 4 CPUs");
		return;
	}
	unsigned scale = ptest_scale_percent();
	a = uspace_new();
	a_away = uspace_new();
	for (int i = 0; i < NP; i++)
		pages[i] = page_with(0x100 + (uint64_t)i);
	churn_page = page_with(0xc0de);
	intr_kva = test_kva((unsigned)ptest_ncpus());
	if (ptest_have_hooks())
		ptest_random_interrupts(intr_handler, NULL, 3000);

	uint64_t seed = ptest_seed();
	struct role r1 = { seed * 3 + 1, 300L * scale / 100 + 20 };
	struct role r2 = { seed * 5 + 2, 900L * scale / 100 + 50 };
	struct role r3 = { seed * 7 + 3, 0 };
	ptest_run_async(1, owner, &r1);
	ptest_run_async(2, user, &r2);
	ptest_run_async(3, pagedaemon, &r3);
	churn(30L * scale / 100 + 3);
	st(&churn_done, 1);
	ptest_wait(1);
	ptest_wait(2);
	ptest_wait(3);
	if (ptest_have_hooks())
		ptest_random_interrupts(NULL, NULL, 0);
	uspace_free(&pub);

	tap_diag("%ld accesses checked, %ld switches to new pmaps, %ld interrupts",
	    n_checked, n_switches, n_intr);
	is_int(bad_write, 0, "no write works after pmap_protect(READ) + pmap_update "
	    "returned on another CPU");
	is_int(bad_read, 0, "no read works after pmap_remove + pmap_update returned");
	is_int(bad_fault, 0, "no access faults on a mapping entered read-write and left so");
	is_int(bad_activate, 0, "after pmap_activate, the new pmap is the one loaded, "
	    "whatever its predecessor's pmap_destroy did meanwhile");
	is_int(bad_intr, 0, "an interrupt handler's kenter/kremove/update works "
	    "wherever it lands");
	check_pmap_ok("pmap A after the exploration", a.us_pm);
	uspace_free(&a);
	uspace_free(&a_away);
	for (int i = 0; i < NP; i++) {
		pmap_page_protect(pages[i], VM_PROT_NONE);
		ptest_page_free(pages[i]);
	}
	pmap_page_protect(churn_page, VM_PROT_NONE);
	ptest_page_free(churn_page);
	audit_ok("the exploration");
}
