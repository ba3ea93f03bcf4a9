// SPDX-License-Identifier: BSD-2-Clause
/*
 * tlb.c - deferred TLB invalidation and cross-CPU shootdown.
 *
 * BATCHES.  A change to a PTE is made at once; its invalidation is queued
 * in a batch (struct pmap_tlb_batch): up to PMAP_TLB_MAXVA addresses, then
 * a "full flush" flag, plus the page-table pages that must not be freed
 * before every CPU that may cache them has invalidated.  Where the batch
 * lives decides who may complete it:
 *
 *   a user pmap     pm->pm_batch, under pm_lock.  pmap_enter, pmap_remove
 *                   and pmap_protect queue there; pmap_update(pm), on any
 *                   CPU, takes the batch out under pm_lock and completes
 *                   it.  So a thread that migrates between the change and
 *                   its pmap_update loses nothing (pmap(9): pmap_update
 *                   completes the delayed changes *for the specified
 *                   pmap*).
 *   the kernel      one batch per CPU (pc_kbatch), so pmap_kremove takes
 *                   no global lock; each is guarded by its own byte lock,
 *                   always taken with interrupts off.
 *                   pmap_update(pmap_kernel()) takes out every CPU's
 *                   kernel batch and completes them in one round.
 *   a page-side     (pmap_page_protect, pmap_clear_*, pmap_qenter, ...)
 *   operation       a batch on its own stack, completed before it returns
 *                   (pmap_tlb_sync_*): these take effect at once.
 *
 * COMPLETION ORDER.  Taking a batch out gives it a ticket (tb_started);
 * its completer waits for the previous ticket to be done and then marks
 * its own (tb_done).  pmap_update on a pmap whose batch is empty still
 * waits until every ticket taken so far is done: a change that another
 * CPU's pmap_update is completing right now counts as delayed, and must be
 * complete when this pmap_update returns too.  Tickets of several batches
 * are taken and completed in CPU order, so waits cannot form a cycle.
 *
 * INTERRUPTS.  Everything that touches per-CPU shootdown state (a kernel
 * batch, this CPU's outgoing request) runs with interrupts off, from taking
 * a batch out to its last acknowledgement: an interrupt handler may then
 * call pmap_kenter_pa, pmap_kremove and pmap_update(pmap_kernel()) - it
 * cannot find a half-built request.  While it waits with interrupts off, a
 * CPU keeps answering other CPUs' requests by polling its inbox.  Pages
 * freed by a batch are given back after interrupts are on again.
 *
 * WHEN A PTE CHANGE NEEDS NO INVALIDATION: see pmap_pte_maybe_cached_p in
 * pmap_impl.h (a leaf whose A is clear is in no TLB, unless a
 * pmap_clear_reference is still shooting it down).  Cached upper-level
 * entries have no such bit: freeing a page-table page always queues an
 * invalidation on the pmap's CPUs.
 *
 * WHO IS SHOT.  The kernel pmap: every CPU.  A user pmap: the CPUs in
 * pm_active, the CPUs whose MMU runs its tables.  A CPU joins pm_active
 * before it loads the root (a seq_cst fetch_or) and leaves only after
 * loading another; the
 * completer reads pm_active with a seq_cst read-modify-write of the same
 * word after every change in the batch was made (they were made under
 * pm_lock, which it took).  Either it sees the CPU, or the CPU's fresh root
 * load (which flushes: but see below) came after the changes.
 *
 * ADDRESS-SPACE IDENTIFIERS.  Where the MD layer tags cached translations
 * with the address space they belong to (pmap_md_asids_p), loading
 * another pmap's root need not drop them, and a CPU that comes back to a
 * pmap may find its translations still cached - worth having only if a
 * shootdown still interrupts nobody but pm_active, so the others must drop
 * what they kept before they run the pmap again: lazily.  pm_kept holds
 * the CPUs whose cached translations of pm are good (every change to pm's
 * tables since they were cached has been invalidated there):
 *
 *   pmap_activate   sets its bit in pm_kept (seq_cst fetch_or) after
 *                   joining pm_active and after pmap_solo_wait (which
 *                   serves shootdowns); the MD layer keeps pm's entries if
 *                   the bit was set already, and drops them if not;
 *   a completer     (targets_of, after every change it completes) reads
 *                   pm_active (seq_cst RMW), clears in pm_kept the CPUs it
 *                   will not shoot (seq_cst fetch_and), reads pm_active
 *                   again, and shoots both reads' CPUs.
 *
 * Dekker on two words.  A CPU the second read does not see joins pm_active
 * after it (later in that word's order), so it sets its pm_kept bit after
 * the clearing, finds it clear, and flushes (and what it fills comes after
 * the changes).  A CPU the first read missed that came back keeping stale
 * entries before the clearing is seen by the second read, and shot.  The
 * completer skips the clearing when a load of pm_kept shows no bit to
 * clear: a CPU that left pm did so by an RMW of pm_active that the first
 * read follows, so its pm_kept bit, set before it left, shows.
 *
 * A CPU shot for pm may not run it: it left pm after the completer read
 * pm_active, or is inside pmap_activate(pm) serving shootdowns before it
 * loads pm's root.  Invalidating under its current identifier would be no
 * use; it clears its own pm_kept bit instead (tlb_do), and flushes when it
 * next runs pm.  For that a request names its pmap (sd_pm) - only
 * pmap_update's, whose pmap lives until it returns.  A synchronous batch
 * (page-side operations) may span pmaps that die before it runs, so it
 * names none, and clears the targets' bits too: a CPU running such a pmap
 * is shot and keeps running it, but flushes when it comes back to it.
 *
 * A dying pmap (pmap_tlb_evict) leaves translations cached under its
 * identifiers, which the MD layer never hands out again without a flush:
 * no CPU can use them, or reach its page tables through them, again.
 * Every time a CPU's bit leaves pm_kept, and when a CPU leaves a pmap
 * whose bit it does not have, pmap_md_asid_stale tells the MD layer (a
 * hint for a TLB auditor, which stops checking those entries).
 *
 * THE PROTOCOL.  Each CPU owns one outgoing request (struct
 * pmap_shootdown) and one inbox word with a bit per initiator.  The
 * initiator fills its request, sets its bit in every target's inbox, sends
 * the IPI through the host and spins until every target has cleared its
 * bit in sd_pending.  A target (in pmap_tlb_intr, or in any spin loop of
 * the library) swaps its inbox to zero, performs each listed request and
 * clears its bit.  Since an initiator keeps serving its own inbox while it
 * waits, two CPUs shooting at each other, or one spinning on a lock the
 * other holds, cannot deadlock; and since each initiator has one request
 * in flight there is no global lock and no queue to overflow.  A target
 * that never answers (interrupts off for good, an IPI the host does not
 * deliver) is named in a panic after pmap_shootdown_spins spins.
 */
#include "pmap_impl.h"

struct pmap_cpu pmap_cpus[PMAP_MAXCPUS];
atomic_uint pmap_aclear_inflight;
static uint64_t pmap_shootdown_spins = PMAP_SHOOTDOWN_SPINS;

uint64_t
pmap_all_cpus(void)
{
	int n = pmap_host_ncpus();
	return n >= 64 ? ~0ULL : (1ULL << n) - 1;
}

void
pmap_set_shootdown_timeout(uint64_t spins)
{
	__atomic_store_n(&pmap_shootdown_spins, spins == 0 ? PMAP_SHOOTDOWN_SPINS : spins,
	    __ATOMIC_RELAXED);
}

/* Tell the MD layer that cpus' translations of pm went stale. */
static void
asid_hint(pmap_t pm, uint64_t cpus)
{
	for (uint64_t t = cpus; t != 0; t &= t - 1)
		pmap_md_asid_stale(pm, pmap_ctz64(t));
}

/*
 * cpus' cached translations of pm are stale: off pm_kept, with the hint.
 * The hint that counts comes after the clearing: a CPU that reloads pm
 * keeping its entries just before it is shot, but may take the shot while
 * it runs another pmap (a request that names none), and that reload may
 * have told the MD layer's host "good again".  A hint after a reload that
 * follows the clearing (and flushes) is merely too cautious.  The one
 * before is early news - and, on the simulated machine, a point where its
 * schedulers may run an activation of pm inside the window that targets_of's
 * second read of pm_active closes (no other host call is there).
 */
static void
asid_drop(pmap_t pm, uint64_t cpus)
{
	asid_hint(pm, cpus);
	atomic_fetch_and(&pm->pm_kept, ~cpus);	/* seq_cst */
	asid_hint(pm, cpus);
}

/* targets_of's slow path: CPUs to drop from pm_kept. */
static __attribute__((noinline)) uint64_t
targets_drop(pmap_t pm, uint64_t active, uint64_t stale)
{
	asid_drop(pm, stale);
	/* Whoever came back keeping its entries before the clearing. */
	return active | atomic_fetch_add_explicit(&pm->pm_active, 0, memory_order_seq_cst);
}

/*
 * The CPUs to shoot for pm, after its changes were made.  named: the
 * request names pm (ADDRESS-SPACE IDENTIFIERS), so the CPUs shot keep
 * what they cached of it; otherwise every CPU drops it.
 */
static inline uint64_t
targets_of(pmap_t pm, bool named)
{
	if (pmap_is_kernel(pm))
		return pmap_all_cpus();
	/*
	 * Order the PTE changes before the read of the set (see above).  A
	 * read-modify-write, not a fence: it is totally ordered with the
	 * activating CPU's fetch_or on the same word, which makes the pairing
	 * plain (and visible to ThreadSanitizer, which ignores fences).
	 */
	uint64_t active = atomic_fetch_add_explicit(&pm->pm_active, 0, memory_order_seq_cst);
	if (!pmap_md_asids_p())
		return active;
	uint64_t stale = atomic_load_explicit(&pm->pm_kept, memory_order_relaxed) &
	    ~(named ? active : 0);
	if (stale == 0)
		return active;
	return targets_drop(pm, active, stale);
}

bool
pmap_tlb_asid_keep(pmap_t pm, int cpu)
{
	if (!pmap_md_asids_p())
		return false;
	uint64_t bit = 1ULL << cpu;
	return (atomic_fetch_or(&pm->pm_kept, bit) & bit) != 0;	/* seq_cst */
}

void
pmap_tlb_asid_leave(pmap_t old, int cpu)
{
	/*
	 * Leaving old with this CPU's pm_kept bit off (it went off while the
	 * CPU ran old): what stays cached under old's identifier will be
	 * dropped on the way back.  Say so again: a reload of the current
	 * identifier since the bit went off (a full flush) may have spent the
	 * hint given then.
	 */
	if (pmap_md_asids_p() && (atomic_load_explicit(&old->pm_kept, memory_order_relaxed) &
	    (1ULL << cpu)) == 0)
		pmap_md_asid_stale(old, cpu);
}

void
pmap_set_asid_limit(unsigned n)
{
	pmap_md_asid_limit(n);
}

/* ---- solo walks (pmap_impl.h) ---- */

/*
 * Dekker's handshake on two words, every access seq_cst: the walker
 * raises pm_solo then reads pm_active; an activating CPU sets its bit in
 * pm_active then reads pm_solo.  In the total order one of the two reads
 * comes last and sees the other side's write: either the walker sees the
 * CPU (and takes the locked path) or the CPU sees the walk (and waits for
 * it before loading the tables).
 */
bool
pmap_solo_begin(pmap_t pm)
{
	if (pmap_is_kernel(pm))
		return false;		/* every CPU runs the kernel's tables */
	atomic_store(&pm->pm_solo, 1);
	uint64_t active = atomic_load(&pm->pm_active);
	/* The CPU id after the read: on the simulated machine the lookup is an
	 * interrupt point where its schedulers may run an activation - inside
	 * the window this handshake closes. */
	uint64_t others = active & ~(1ULL << pmap_host_cpu_id());
	if (others == 0)
		return true;
	atomic_store(&pm->pm_solo, 0);
	return false;
}

void
pmap_solo_end(pmap_t pm, bool solo)
{
	if (solo)
		atomic_store(&pm->pm_solo, 0);
}

void
pmap_solo_wait(pmap_t pm)
{
	/* Short (a page table's worth of PTEs); shootdowns served meanwhile. */
	while (atomic_load(&pm->pm_solo) != 0) {
		pmap_tlb_poll();
		pmap_host_spin_wait();
	}
}

/* ---- batches ---- */

void
pmap_tlb_batch_init(struct pmap_tlb_batch *b)
{
	/* Everything but the address array, which tb_nva guards. */
	b->tb_targets = 0;
	b->tb_nva = 0;
	b->tb_full = b->tb_global = b->tb_kernel = false;
	b->tb_pm = NULL;
	b->tb_free_head = 0;
	b->tb_nfree = 0;
	atomic_init(&b->tb_started, 0);
	atomic_init(&b->tb_done, 0);
}

static bool
batch_busy_p(const struct pmap_tlb_batch *b)
{
	return b->tb_nva != 0 || b->tb_full || b->tb_nfree != 0;
}

static void
batch_add_va(struct pmap_tlb_batch *b, vaddr_t va, bool kernel)
{
	if (kernel)
		b->tb_kernel = true;
	if (b->tb_full) {
		b->tb_global |= kernel;
		return;
	}
	if (b->tb_nva < PMAP_TLB_MAXVA) {
		b->tb_va[b->tb_nva++] = va;
		return;
	}
	b->tb_full = true;
	b->tb_global = b->tb_kernel;
}

static void
batch_add_free(struct pmap_tlb_batch *b, paddr_t ptp)
{
	/*
	 * Chain it through its own first entry.  Until the flush, a CPU may
	 * still walk this table through a stale cached upper-level entry,
	 * so the store is atomic, and the link (a page address, P clear)
	 * reads as not-present to such a walk.
	 */
	paddr_t *link = pmap_md_tmp_map(ptp);
	__atomic_store_n(link, b->tb_free_head, __ATOMIC_RELAXED);
	pmap_md_tmp_unmap(link);
	b->tb_free_head = ptp;
	b->tb_nfree++;
}

/* Move b's work into *to (which is empty or a merge of other batches) and
 * reset b.  The caller holds b's lock. */
static void
batch_take(struct pmap_tlb_batch *b, struct pmap_tlb_batch *to)
{
	for (unsigned i = 0; i < b->tb_nva; i++)
		batch_add_va(to, b->tb_va[i], b->tb_kernel);
	if (b->tb_full) {
		to->tb_full = true;
		to->tb_global |= b->tb_global;
		to->tb_kernel |= b->tb_kernel;
	}
	/* Append b's free chain to to's. */
	paddr_t p = b->tb_free_head;
	for (unsigned i = 0; i < b->tb_nfree; i++) {
		paddr_t *link = pmap_md_tmp_map(p);
		paddr_t next = __atomic_load_n(link, __ATOMIC_RELAXED);
		pmap_md_tmp_unmap(link);
		batch_add_free(to, p);
		p = next;
	}
	b->tb_nva = 0;
	b->tb_full = b->tb_global = b->tb_kernel = false;
	b->tb_free_head = 0;
	b->tb_nfree = 0;
}

/* Give a batch's page-table pages back to the host (interrupts on). */
static void
batch_free_pages(paddr_t p, unsigned n)
{
	/* Counted, not NULL-terminated: physical page 0 is a page like any. */
	while (n-- > 0) {
		pmap_host_preempt_disable();	/* the window is per CPU */
		paddr_t *link = pmap_md_tmp_map(p);
		paddr_t next = __atomic_load_n(link, __ATOMIC_RELAXED);
		pmap_md_tmp_unmap(link);
		pmap_host_preempt_enable();
		pmap_host_page_free(p);
		p = next;
	}
}

/* ---- performing requests ---- */

/* Perform one request on this CPU (interrupts off); it is about pm if
 * not NULL.  Inline: batch_run's common case is a page or two here. */
static inline __attribute__((always_inline)) void
tlb_do(unsigned nva, const vaddr_t *va, bool full, bool global, pmap_t evict, pmap_t pm)
{
	struct pmap_cpu *pc = pmap_curcpu();
	if (evict != NULL && pc->pc_curpmap == evict) {
		int cpu = pmap_host_cpu_id();
		pmap_md_activate(PMAP_KERNEL, true);
		pc->pc_curpmap = PMAP_KERNEL;
		atomic_fetch_and(&evict->pm_active, ~(1ULL << cpu));
	}
	if (__predict_false(pm != NULL && pc->pc_curpmap != pm)) {
		/*
		 * In pm_active but not running pm (left it, or is loading it):
		 * nothing of pm is cached under the current identifier, and what
		 * is cached under pm's must go before pm runs here again
		 * (ADDRESS-SPACE IDENTIFIERS).  Without identifiers the root
		 * load that left pm, or the one about to enter it, drops it all.
		 */
		uint64_t bit = 1ULL << pmap_host_cpu_id();
		if (pmap_md_asids_p() && (atomic_load(&pm->pm_kept) & bit) != 0)
			asid_drop(pm, bit);
		return;
	}
	if (full || global) {
		pmap_md_invalidate_all(global);
		return;
	}
	for (unsigned i = 0; i < nva; i++)
		pmap_md_invalidate_page(va[i]);
}

void
pmap_tlb_poll(void)
{
	int self = pmap_host_cpu_id();
	struct pmap_cpu *pc = &pmap_cpus[self];
	if (atomic_load_explicit(&pc->pc_inbox, memory_order_relaxed) == 0)
		return;
	/* Not interrupted by another poll (the shootdown IPI) halfway through
	 * an eviction. */
	pmap_intr_state_t s = pmap_host_intr_disable();
	uint64_t from = atomic_exchange_explicit(&pc->pc_inbox, 0, memory_order_acquire);
	while (from != 0) {
		int i = pmap_ctz64(from);
		from &= from - 1;
		struct pmap_shootdown *sd = &pmap_cpus[i].pc_sd;
		tlb_do(sd->sd_nva, sd->sd_va, sd->sd_full, sd->sd_global, sd->sd_evict,
		    sd->sd_pm);
		atomic_fetch_and_explicit(&sd->sd_pending, ~(1ULL << self),
		    memory_order_release);
	}
	pmap_host_intr_restore(s);
}

void
pmap_tlb_intr(void)
{
	pmap_tlb_poll();
}

/* Bits set in a CPU set (no libgcc: __builtin_popcount may call it). */
static unsigned
cpuset_count(uint64_t s)
{
	unsigned n = 0;
	for (; s != 0; s &= s - 1)
		n++;
	return n;
}

/*
 * Send this CPU's filled-in request to targets and wait for them
 * (interrupts off).  Returns 0, or the CPUs that did not answer within
 * pmap_shootdown_spins spins - their inbox bits withdrawn.
 */
static uint64_t
tlb_shoot(int self, uint64_t targets)
{
	struct pmap_shootdown *sd = &pmap_cpus[self].pc_sd;
	atomic_store_explicit(&sd->sd_pending, targets, memory_order_relaxed);
	for (uint64_t t = targets; t != 0; t &= t - 1) {
		int cpu = pmap_ctz64(t);
		atomic_fetch_or_explicit(&pmap_cpus[cpu].pc_inbox, 1ULL << self,
		    memory_order_release);
	}
	pmap_host_send_shootdown(targets);
	PMAP_CTR_ADD(shootdowns, 1);
	PMAP_CTR_ADD(shootdown_ipis, cpuset_count(targets));
	uint64_t limit = __atomic_load_n(&pmap_shootdown_spins, __ATOMIC_RELAXED);
	for (uint64_t spins = 0;; spins++) {
		uint64_t late = atomic_load_explicit(&sd->sd_pending, memory_order_acquire);
		if (late == 0)
			return 0;
		if (__predict_false(spins >= limit)) {
			for (uint64_t t = late; t != 0; t &= t - 1)
				atomic_fetch_and(&pmap_cpus[pmap_ctz64(t)].pc_inbox,
				    ~(1ULL << self));
			return late;
		}
		pmap_tlb_poll();
		pmap_host_spin_wait();
	}
}

/* "3 5 12" for a CPU set; buf holds at least 4 bytes per CPU. */
static const char *
cpuset_list(uint64_t set, char *buf, size_t len)
{
	size_t n = 0;
	for (; set != 0 && n + 4 < len; set &= set - 1) {
		int cpu = pmap_ctz64(set);
		if (n > 0)
			buf[n++] = ' ';
		if (cpu >= 10)
			buf[n++] = (char)('0' + cpu / 10);
		buf[n++] = (char)('0' + cpu % 10);
	}
	buf[n] = '\0';
	return buf;
}

/* A shootdown went unanswered: undo what the caller holds, then panic. */
static void __attribute__((noreturn))
tlb_timeout(const char *fn, int self, uint64_t late, pmap_intr_state_t s)
{
	char list[4 * 64 + 1];
	uint64_t limit = __atomic_load_n(&pmap_shootdown_spins, __ATOMIC_RELAXED);
	pmap_host_intr_restore(s);
	pmap_host_preempt_enable();
	pmap_host_panic("%s: CPUs %s (set %#llx) did not acknowledge a TLB shootdown "
	    "from cpu %d within %llu spins (interrupts off for good, or the host does "
	    "not deliver the shootdown IPI)", fn, cpuset_list(late, list, sizeof(list)),
	    (unsigned long long)late, self, (unsigned long long)limit);
}

/*
 * Complete a batch that belongs to nobody else any more: invalidate on
 * this CPU if it is a target, shoot the other targets and wait.
 * Interrupts off, preemption off.  Returns the CPUs that never answered.
 */
static uint64_t
batch_run(int self, const struct pmap_tlb_batch *b, uint64_t targets)
{
	targets &= pmap_all_cpus();
	if (!(b->tb_nva != 0 || b->tb_full))
		return 0;		/* nothing cached to drop (pages only) */
	if (targets & (1ULL << self))
		tlb_do(b->tb_nva, b->tb_va, b->tb_full, b->tb_global, NULL, b->tb_pm);
	uint64_t others = targets & ~(1ULL << self);
	if (others == 0)
		return 0;
	struct pmap_shootdown *sd = &pmap_cpus[self].pc_sd;
	sd->sd_nva = b->tb_nva;
	for (unsigned i = 0; i < b->tb_nva; i++)
		sd->sd_va[i] = b->tb_va[i];
	sd->sd_full = b->tb_full;
	sd->sd_global = b->tb_global;
	sd->sd_evict = NULL;
	sd->sd_pm = b->tb_pm;
	return tlb_shoot(self, others);
}

/* ---- tickets ---- */

/* Wait until ticket t of b is next, then mark it done (interrupts off). */
static void
ticket_done(struct pmap_tlb_batch *b, uint64_t t)
{
	while (atomic_load_explicit(&b->tb_done, memory_order_acquire) != t - 1) {
		pmap_tlb_poll();
		pmap_host_spin_wait();
	}
	atomic_store_explicit(&b->tb_done, t, memory_order_release);
}

/* Wait until every ticket up to t of b is done (interrupts off). */
static void
ticket_wait(struct pmap_tlb_batch *b, uint64_t t)
{
	while (atomic_load_explicit(&b->tb_done, memory_order_acquire) < t) {
		pmap_tlb_poll();
		pmap_host_spin_wait();
	}
}

/* ---- deferred invalidation ---- */

static void
kbatch_lock(struct pmap_cpu *pc)
{
	while (__atomic_exchange_n(&pc->pc_kbatch_lock, 1, __ATOMIC_ACQUIRE) != 0) {
		while (__atomic_load_n(&pc->pc_kbatch_lock, __ATOMIC_RELAXED) != 0) {
			pmap_tlb_poll();
			pmap_host_spin_wait();
		}
	}
}

static void
kbatch_unlock(struct pmap_cpu *pc)
{
	__atomic_store_n(&pc->pc_kbatch_lock, 0, __ATOMIC_RELEASE);
}

void
pmap_tlb_defer(pmap_t pm, vaddr_t va)
{
	if (pmap_is_kernel(pm)) {
		pmap_intr_state_t s = pmap_host_intr_disable();
		struct pmap_cpu *pc = pmap_curcpu();
		kbatch_lock(pc);
		batch_add_va(&pc->pc_kbatch, va, true);
		kbatch_unlock(pc);
		pmap_host_intr_restore(s);
		return;
	}
	/* pm_lock held. */
	struct pmap_tlb_batch *b = &pm->pm_batch;
	if (__atomic_load_n(&pm->pm_remove_all, __ATOMIC_RELAXED)) {
		/* Tearing the whole pmap down: one full flush beats many. */
		b->tb_full = true;
		return;
	}
	batch_add_va(b, va, false);
}

void
pmap_tlb_defer_free(pmap_t pm, vaddr_t va, paddr_t ptp)
{
	PMAP_KASSERTMSG(!pmap_is_kernel(pm), "kernel page tables are never freed "
	    "(page %#llx)", (unsigned long long)ptp);
	/* Invalidating va drops the cached upper-level entries on the way to it
	 * - where it does not, only a full flush will. */
	pmap_tlb_defer(pm, va);
	if (!pmap_md_page_inval_drops_tables_p())
		pm->pm_batch.tb_full = true;
	batch_add_free(&pm->pm_batch, ptp);
}

/* ---- completion: pmap_update ---- */

static void
update_user(pmap_t pm)
{
	struct pmap_tlb_batch b;
	pmap_tlb_batch_init(&b);
	pmap_host_preempt_disable();
	pmap_intr_state_t s = pmap_host_intr_disable();
	int self = pmap_host_cpu_id();
	uint64_t t, targets = 0;
	bool mine;
	pmap_lock(pm);
	struct pmap_tlb_batch *pb = &pm->pm_batch;
	if (__atomic_load_n(&pm->pm_remove_all, __ATOMIC_RELAXED))
		__atomic_store_n(&pm->pm_remove_all, false, __ATOMIC_RELAXED);
	mine = batch_busy_p(pb);
	if (mine) {
		batch_take(pb, &b);
		b.tb_pm = pm;		/* it lives until we return */
		t = atomic_load_explicit(&pb->tb_started, memory_order_relaxed) + 1;
		atomic_store_explicit(&pb->tb_started, t, memory_order_relaxed);
		targets = targets_of(pm, true);	/* after every change: we hold pm_lock */
	} else {
		t = atomic_load_explicit(&pb->tb_started, memory_order_relaxed);
	}
	pmap_unlock(pm);
	uint64_t late = 0;
	if (mine) {
		late = batch_run(self, &b, targets);
		ticket_done(pb, t);
	} else {
		ticket_wait(pb, t);
	}
	if (__predict_false(late != 0))
		tlb_timeout("pmap_update", self, late, s);
	pmap_host_intr_restore(s);
	pmap_host_preempt_enable();
	/* Every CPU that could reach them has invalidated: free the tables. */
	batch_free_pages(b.tb_free_head, b.tb_nfree);
}

static void
update_kernel(void)
{
	struct pmap_tlb_batch b;
	pmap_tlb_batch_init(&b);
	uint64_t tickets[PMAP_MAXCPUS];
	uint64_t taken = 0;
	int n = pmap_host_ncpus();
	pmap_host_preempt_disable();
	pmap_intr_state_t s = pmap_host_intr_disable();
	int self = pmap_host_cpu_id();
	/* Temporary-mapping windows other CPUs may hold speculatively
	 * (tmpmap.c, SPECULATION): a quick slot used since the last time,
	 * the kenter_temporary windows. */
	for (int c = 0; c < n; c++)
		if (__atomic_exchange_n(&pmap_cpus[c].pc_quick_stale, false, __ATOMIC_ACQUIRE))
			batch_add_va(&b, pmap_md_quick_va(c), true);
	if (__atomic_exchange_n(&pmap_ktemp_stale, false, __ATOMIC_ACQUIRE))
		for (int i = 0; i < PMAP_KTEMP_PAGES; i++)
			batch_add_va(&b, pmap_md_ktemp_va(i), true);
	/* And the MD layer's own per-CPU windows, where it has some. */
	for (int c = 0; c < n; c++) {
		vaddr_t w[PMAP_MD_CPU_WINDOWS];
		int k = pmap_md_cpu_windows_stale(c, w);
		for (int i = 0; i < k; i++)
			batch_add_va(&b, w[i], true);
	}
	for (int c = 0; c < n; c++) {
		struct pmap_cpu *pc = &pmap_cpus[c];
		struct pmap_tlb_batch *kb = &pc->pc_kbatch;
		kbatch_lock(pc);
		uint64_t t = atomic_load_explicit(&kb->tb_started, memory_order_relaxed);
		if (batch_busy_p(kb)) {
			batch_take(kb, &b);
			atomic_store_explicit(&kb->tb_started, ++t, memory_order_relaxed);
			taken |= 1ULL << c;
		}
		tickets[c] = t;
		kbatch_unlock(pc);
	}
	uint64_t late = batch_run(self, &b, pmap_all_cpus());
	for (int c = 0; c < n; c++) {
		struct pmap_tlb_batch *kb = &pmap_cpus[c].pc_kbatch;
		if (taken & (1ULL << c))
			ticket_done(kb, tickets[c]);
		else
			ticket_wait(kb, tickets[c]);
	}
	if (__predict_false(late != 0))
		tlb_timeout("pmap_update", self, late, s);
	pmap_host_intr_restore(s);
	pmap_host_preempt_enable();
	PMAP_KASSERTMSG(b.tb_nfree == 0, "%u kernel page-table pages queued for freeing",
	    b.tb_nfree);
}

void
pmap_tlb_update(pmap_t pm)
{
	if (pmap_is_kernel(pm))
		update_kernel();
	else
		update_user(pm);
}

/* ---- synchronous batches (page-side operations) ---- */

void
pmap_tlb_sync_add(struct pmap_tlb_batch *b, pmap_t pm, vaddr_t va)
{
	/* After the PTE change: see WHO IS SHOT.  Not named: pm may be gone
	 * before the batch runs. */
	b->tb_targets |= targets_of(pm, false);
	batch_add_va(b, va, pmap_is_kernel(pm));
}

void
pmap_tlb_sync_add_cpus(struct pmap_tlb_batch *b, uint64_t cpus, vaddr_t va)
{
	b->tb_targets |= cpus;
	batch_add_va(b, va, true);
}

void
pmap_tlb_sync_add_free(struct pmap_tlb_batch *b, pmap_t pm, vaddr_t va, paddr_t ptp)
{
	pmap_tlb_sync_add(b, pm, va);
	if (!pmap_md_page_inval_drops_tables_p())
		b->tb_full = true;
	batch_add_free(b, ptp);
}

void
pmap_tlb_sync_run(struct pmap_tlb_batch *b)
{
	if (!batch_busy_p(b))
		return;
	pmap_host_preempt_disable();
	pmap_intr_state_t s = pmap_host_intr_disable();
	int self = pmap_host_cpu_id();
	uint64_t late = batch_run(self, b, b->tb_targets);
	if (__predict_false(late != 0))
		tlb_timeout("pmap_tlb_sync_run", self, late, s);
	pmap_host_intr_restore(s);
	pmap_host_preempt_enable();
	batch_free_pages(b->tb_free_head, b->tb_nfree);
	pmap_tlb_batch_init(b);
}

/* ---- eviction and the end of a pmap ---- */

void
pmap_tlb_evict(pmap_t pm)
{
	pmap_host_preempt_disable();
	pmap_intr_state_t s = pmap_host_intr_disable();
	int self = pmap_host_cpu_id();
	struct pmap_cpu *pc = &pmap_cpus[self];
	if (pc->pc_curpmap == pm)
		tlb_do(0, NULL, false, false, pm, NULL);
	uint64_t others = atomic_load(&pm->pm_active) & ~(1ULL << self);
	if (others != 0) {
		struct pmap_shootdown *sd = &pc->pc_sd;
		sd->sd_nva = 0;
		sd->sd_full = sd->sd_global = false;
		sd->sd_evict = pm;
		sd->sd_pm = NULL;
		uint64_t late = tlb_shoot(self, others);
		if (__predict_false(late != 0))
			tlb_timeout("pmap_destroy", self, late, s);
	}
	pmap_host_intr_restore(s);
	pmap_host_preempt_enable();
	/* Its identifiers die with it (ADDRESS-SPACE IDENTIFIERS): every
	 * CPU's, kept or not (a CPU off pm_kept may have reloaded its
	 * identifier since the hint it was given). */
	if (pmap_md_asids_p()) {
		atomic_store(&pm->pm_kept, 0);
		asid_hint(pm, pmap_all_cpus());
	}
}

void
pmap_tlb_release(pmap_t pm)
{
	/*
	 * pm is loaded nowhere (pmap_tlb_evict): each CPU that had it loaded
	 * another root since, which dropped every non-global translation and
	 * cached upper-level entry of it - or, with address-space
	 * identifiers, left them under identifiers of pm that no CPU uses
	 * again without dropping them.  So what its batch still holds needs
	 * no invalidation, and its page-table pages can go back at once -
	 * after any pmap_update of it still running elsewhere.
	 */
	struct pmap_tlb_batch *pb = &pm->pm_batch;
	pmap_host_preempt_disable();
	pmap_intr_state_t s = pmap_host_intr_disable();
	ticket_wait(pb, atomic_load_explicit(&pb->tb_started, memory_order_relaxed));
	pmap_host_intr_restore(s);
	pmap_host_preempt_enable();
	batch_free_pages(pb->tb_free_head, pb->tb_nfree);
	pb->tb_free_head = 0;
	pb->tb_nfree = 0;
	pb->tb_nva = 0;
	pb->tb_full = false;
}
