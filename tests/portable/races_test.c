// SPDX-License-Identifier: BSD-2-Clause
/*
 * races_test.c - interleavings a few instructions wide, forced at the
 * library's interrupt points (ptest_hook_pause / ptest_hook_interrupt):
 * another CPU acts while one CPU is inside a pmap operation, or an
 * interrupt handler runs pmap calls in the middle of one.  Each scenario
 * is a defect some version of the library had; each check states what a
 * user would have seen.
 *
 * Machines without interrupt points (the real one) skip the suite.
 */
#include "ptest_util.h"

static struct uspace us;
static struct vm_page *pg;

/*
 * UVA(0) read-write (referenced, modified) and UVA(1) read-only, which
 * keeps the page table alive (freeing it would shoot down anyway and hide
 * the cases); then CPU cpu caches UVA(0) writable and dirty.
 */
static void
map_and_cache(int cpu, uint64_t tag, const char *what)
{
	pmap_enter(us.us_pm, UVA(0), ptest_page_pa(pg), VM_PROT_READ | VM_PROT_WRITE,
	    VM_PROT_READ | VM_PROT_WRITE);
	pmap_enter(us.us_pm, UVA(1), ptest_page_pa(pg), VM_PROT_READ, 0);
	pmap_update(us.us_pm);
	ok(access_on(cpu, us.us_l, UVA(0), ACC_WRITE, PTEST_USER, tag).a_result == PTEST_OK,
	    "%s: CPU %d writes through its mapping", what, cpu);
}

/* ---- clear_reference's window: A clear in the PTE, shootdown not done ---- */

struct window {
	int w_kind;		/* what CPU 1 does inside CPU 0's window */
	int w_write;		/* CPU 2's access afterwards: result */
};
enum { W_PROTECT, W_REMOVE };

static void
cpu1_change(void *p)
{
	struct window *w = p;
	if (w->w_kind == W_PROTECT)
		pmap_protect(us.us_pm, UVA(0), UVA(1), VM_PROT_READ);
	else
		pmap_remove(us.us_pm, UVA(0), UVA(1));
	pmap_update(us.us_pm);
}

/* Runs on CPU 0 inside pmap_clear_reference, before its shootdown. */
static void
in_window(void *p)
{
	struct window *w = p;
	ptest_run_on(1, cpu1_change, w);
	/* pmap_update returned on CPU 1: CPU 2 must see the change now. */
	int kind = w->w_kind == W_PROTECT ? ACC_WRITE : ACC_READ;
	w->w_write = access_on(2, us.us_l, UVA(0), kind, PTEST_USER, 0xbad).a_result;
}

static void
clear_reference_window(int kind, const char *what)
{
	map_and_cache(2, 0x5eed0001, what);

	struct window w = { kind, -1 };
	ptest_hook_pause(0, PTEST_HK_SEND_SHOOTDOWN, PTEST_AT_ENTRY, 1, in_window, &w);
	bool was = pmap_clear_reference(pg);
	ptest_hook_disarm(0);
	ok(was, "%s: the page was referenced", what);
	ok(ptest_hook_fired(0), "%s: CPU 1 acted inside pmap_clear_reference's window",
	    what);
	ok(w.w_write == PTEST_PF, "%s: after CPU 1's pmap_update, CPU 2's %s faults "
	    "(got %d)", what, kind == W_PROTECT ? "write" : "read", w.w_write);
	is_u64(ptest_phys_read64(ptest_page_pa(pg)), 0x5eed0001, "%s: the page kept the "
	    "last permitted write", what);
	pmap_remove(us.us_pm, 0, PMAP_USER_MAX);
	pmap_update(us.us_pm);
	park_all();
	audit_ok(what);
}

/* ---- an eviction IPI between the CR3 load and its record ---- */

static struct uspace ua, ub;
static int destroyed;		/* flags between CPUs: __atomic */

static void
destroy_a(void *p)
{
	(void)p;
	pmap_destroy(ua.us_pm);	/* evicts CPU 1, which has ua loaded */
	__atomic_store_n(&destroyed, 1, __ATOMIC_RELEASE);
}

/* On CPU 1 right after pmap_activate loaded ub's root. */
static void
evict_now(void *p)
{
	(void)p;
	ptest_run_async(2, destroy_a, NULL);
	/* Wait until the eviction is posted to us (it is taken as soon as
	 * this CPU allows interrupts: maybe in ptest_relax, maybe later). */
	while (!ptest_ipi_pending(1) && !__atomic_load_n(&destroyed, __ATOMIC_ACQUIRE))
		ptest_relax();
}

struct activate_result {
	int ar_first, ar_again;
	uint64_t ar_val;
};

static void
cpu1_activate(void *p)
{
	struct activate_result *r = p;
	ptest_switch(ua.us_l);
	ptest_hook_pause(1, PTEST_HK_ROOT_LOAD, PTEST_AT_EXIT, 1, evict_now, NULL);
	ptest_switch(ub.us_l);
	ptest_hook_disarm(1);
	r->ar_first = ptest_load(UVA(3), 8, &r->ar_val, PTEST_USER);
	ptest_switch(ub.us_l);		/* activating again must repair nothing */
	uint64_t v;
	r->ar_again = ptest_load(UVA(3), 8, &v, PTEST_USER);
	ptest_switch(NULL);
}

static void
eviction_in_activate(void)
{
	ua = uspace_new();
	ub = uspace_new();
	__atomic_store_n(&destroyed, 0, __ATOMIC_RELAXED);
	pmap_enter(ub.us_pm, UVA(3), ptest_page_pa(pg), VM_PROT_READ, 0);
	pmap_update(ub.us_pm);
	struct activate_result r = { -1, -1, 0 };
	ptest_run_on(1, cpu1_activate, &r);
	ptest_wait(2);
	ok(__atomic_load_n(&destroyed, __ATOMIC_ACQUIRE), "activate: the old pmap was "
	    "destroyed while CPU 1 switched away");
	ok(r.ar_first == PTEST_OK && r.ar_again == PTEST_OK, "activate: the new pmap is "
	    "loaded after an eviction IPI taken inside pmap_activate (load %d, after "
	    "re-activation %d)", r.ar_first, r.ar_again);
	ptest_lwp_destroy(ua.us_l);
	uspace_free(&ub);
	audit_ok("eviction inside pmap_activate");
}

/* ---- pmap_update on another CPU than the change (a migrated thread) ---- */

static vaddr_t kva;

static void cpu1_protect(void *p) { (void)p; pmap_protect(us.us_pm, UVA(0), UVA(1), VM_PROT_READ); }
static void cpu1_kremove(void *p) { (void)p; pmap_kremove(kva, PAGE_SIZE); }
static void cpu3_update(void *p) { pmap_update((pmap_t)p); }

static void
update_elsewhere(void)
{
	map_and_cache(2, 0x5eed0002, "migrated update");
	ptest_run_on(1, cpu1_protect, NULL);		/* no pmap_update there */
	ptest_run_on(3, cpu3_update, us.us_pm);	/* the thread moved to CPU 3 */
	ok(access_on(2, us.us_l, UVA(0), ACC_WRITE, PTEST_USER, 0xbad).a_result ==
	    PTEST_PF, "migrated update: pmap_update(pm) on CPU 3 completes the "
	    "pmap_protect CPU 1 deferred");
	pmap_remove(us.us_pm, 0, PMAP_USER_MAX);
	pmap_update(us.us_pm);

	pmap_kenter_pa(kva, ptest_page_pa(pg), VM_PROT_READ, 0);
	pmap_update(pmap_kernel());
	ok(access_on(2, NULL, kva, ACC_READ, 0, 0).a_result == PTEST_OK,
	    "migrated update: CPU 2 reads a kernel mapping");
	ptest_run_on(1, cpu1_kremove, NULL);
	ptest_run_on(3, cpu3_update, pmap_kernel());
	ok(access_on(2, NULL, kva, ACC_READ, 0, 0).a_result == PTEST_PF,
	    "migrated update: pmap_update(pmap_kernel()) on CPU 3 completes the "
	    "pmap_kremove CPU 1 deferred");
	park_all();
	audit_ok("migrated update");
}

/* ---- an interrupt handler's pmap calls inside a shootdown ---- */

#define STALL_SPINS 20000
static int stall_release, stalled;

/* CPU 2 with interrupts held back until released (or for a while). */
static void
stall_cpu2(void *p)
{
	(void)p;
	ptest_intr_disable();
	__atomic_store_n(&stalled, 1, __ATOMIC_RELEASE);
	for (long i = 0; !__atomic_load_n(&stall_release, __ATOMIC_ACQUIRE) &&
	    i < STALL_SPINS; i++)
		ptest_relax();
	ptest_intr_restore();
}

static void
release_cpu2(void *p)
{
	(void)p;
	__atomic_store_n(&stall_release, 1, __ATOMIC_RELEASE);
	ptest_wait(2);		/* CPU 2 has taken its interrupts */
}

/* An interrupt on CPU 0: what a driver's handler may do. */
static void
intr_handler(void *p)
{
	(void)p;
	pmap_kenter_pa(kva, ptest_page_pa(pg), VM_PROT_READ, 0);
	pmap_kremove(kva, PAGE_SIZE);
	ptest_hook_pause(0, PTEST_HK_SEND_SHOOTDOWN, PTEST_AT_ENTRY, 1, release_cpu2, NULL);
	pmap_update(pmap_kernel());
	ptest_hook_disarm(0);
}

static void cpu2_run(void *l) { ptest_switch((struct lwp *)l); }

static void
interrupt_in_shootdown(void)
{
	/* CPU 2 runs a process; CPU 0 destroys its pmap (evicting CPU 2)
	 * and takes an interrupt right after sending the eviction. */
	struct uspace ue = uspace_new();
	ptest_run_on(2, cpu2_run, ue.us_l);
	__atomic_store_n(&stall_release, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&stalled, 0, __ATOMIC_RELAXED);
	ptest_run_async(2, stall_cpu2, NULL);
	while (!__atomic_load_n(&stalled, __ATOMIC_ACQUIRE))
		ptest_relax();
	ptest_hook_interrupt(0, PTEST_HK_SEND_SHOOTDOWN, PTEST_AT_EXIT, 1, intr_handler, NULL);
	pmap_destroy(ue.us_pm);		/* frees the root: CPU 2 must have left it */
	ptest_wait(2);
	ok(ptest_hook_fired(0), "interrupt in a shootdown: the handler ran");
	ptest_hook_disarm(0);
	ok(!pmap_extract(pmap_kernel(), kva, NULL), "interrupt in a shootdown: the "
	    "handler's kernel mapping is gone");
	ptest_lwp_destroy(ue.us_l);
	park_all();
	audit_ok("an interrupt handler's pmap calls inside a shootdown");
}

/* ---- pmap_update while another CPU's pmap_update of the pmap runs ---- */

static int cu_returned;		/* CPU 1's pmap_update returned (__atomic) */
static int cu_early;

static void
cu_update(void *p)
{
	(void)p;
	pmap_update(us.us_pm);
	__atomic_store_n(&cu_returned, 1, __ATOMIC_RELEASE);
}

/* On CPU 2 inside its pmap_update, before the shootdown: CPU 1's change
 * is in the batch CPU 2 took out, so CPU 1's own pmap_update must not
 * return until CPU 2's completes. */
static void
cu_pause(void *p)
{
	(void)p;
	ptest_run_async(1, cu_update, NULL);
	for (int i = 0; i < 3000 && !__atomic_load_n(&cu_returned, __ATOMIC_ACQUIRE); i++)
		ptest_relax();
	cu_early = __atomic_load_n(&cu_returned, __ATOMIC_ACQUIRE);
}

static void
cu_cpu2(void *p)
{
	(void)p;
	ptest_hook_pause(2, PTEST_HK_SEND_SHOOTDOWN, PTEST_AT_ENTRY, 1, cu_pause, NULL);
	pmap_update(us.us_pm);
	ptest_hook_disarm(2);
}

static void
concurrent_update(void)
{
	map_and_cache(3, 0x5eed0003, "concurrent update");
	__atomic_store_n(&cu_returned, 0, __ATOMIC_RELAXED);
	ptest_run_on(1, cpu1_protect, NULL);	/* delayed: in the pmap's batch */
	ptest_run_on(2, cu_cpu2, NULL);		/* takes it out, pauses mid-way */
	ptest_wait(1);
	ok(!cu_early, "concurrent update: pmap_update on CPU 1 waits for the completion "
	    "CPU 2 started of CPU 1's own change");
	ok(access_on(3, us.us_l, UVA(0), ACC_WRITE, PTEST_USER, 0xbad).a_result == PTEST_PF,
	    "concurrent update: and then CPU 3's write faults");
	pmap_remove(us.us_pm, 0, PMAP_USER_MAX);
	pmap_update(us.us_pm);
	park_all();
	audit_ok("concurrent pmap_update");
}

/* ---- a shootdown nobody answers ---- */

static int hang_release, hanging;

static void
hang_cpu3(void *p)
{
	(void)p;
	ptest_intr_disable();	/* and never polls: a CPU gone astray */
	__atomic_store_n(&hanging, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&hang_release, __ATOMIC_ACQUIRE))
		ptest_relax();
	ptest_intr_restore();
}

static void
unanswered_update(void *p)
{
	(void)p;
	pmap_kremove(kva, PAGE_SIZE);
	pmap_update(pmap_kernel());
}

static void
unanswered_shootdown(void)
{
	pmap_kenter_pa(kva, ptest_page_pa(pg), VM_PROT_READ, 0);
	pmap_update(pmap_kernel());
	__atomic_store_n(&hang_release, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&hanging, 0, __ATOMIC_RELAXED);
	ptest_run_async(3, hang_cpu3, NULL);
	while (!__atomic_load_n(&hanging, __ATOMIC_ACQUIRE))
		ptest_relax();
	pmap_set_shootdown_timeout(5000);
	expect_panic("a shootdown CPU 3 never answers", unanswered_update, NULL,
	    (const char *const[]){ "pmap_update", "CPUs 3 (set 0x8)",
	    "did not acknowledge", "from cpu 0", "5000 spins", NULL });
	__atomic_store_n(&hang_release, 1, __ATOMIC_RELEASE);
	ptest_wait(3);
	pmap_set_shootdown_timeout(0);
	/* The library goes on: a full round with CPU 3 back. */
	pmap_kenter_pa(kva, ptest_page_pa(pg), VM_PROT_READ, 0);
	pmap_update(pmap_kernel());
	ok(access_on(3, NULL, kva, ACC_READ, 0, 0).a_result == PTEST_OK,
	    "after the panic, CPU 3 reads a new kernel mapping");
	pmap_kremove(kva, PAGE_SIZE);
	pmap_update(pmap_kernel());
	ok(access_on(3, NULL, kva, ACC_READ, 0, 0).a_result == PTEST_PF,
	    "and its removal reaches CPU 3");
	audit_ok("an unanswered shootdown");
}

PTEST_SUITE(races)
{
	if (!ptest_have_hooks() || ptest_ncpus() < 3) {
		tap_skip(1, "needs interrupt points and 3 CPUs");
		return;
	}
	us = uspace_new();
	pg = page_with(0x5eed0000);

	clear_reference_window(W_PROTECT, "protect in clear_reference's window");
	clear_reference_window(W_REMOVE, "remove in clear_reference's window");
	eviction_in_activate();
	kva = test_kva(1);
	update_elsewhere();
	concurrent_update();
	interrupt_in_shootdown();
	if (ptest_ncpus() >= 4)
		unanswered_shootdown();

	uspace_free(&us);
	pmap_page_protect(pg, VM_PROT_NONE);
	ptest_page_free(pg);
}
