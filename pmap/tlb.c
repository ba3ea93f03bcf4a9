/*
 * tlb.c - deferred TLB invalidation and cross-CPU shootdown.
 *
 * DEFERRAL.  pmap_enter, pmap_remove, pmap_protect, pmap_kenter_pa and
 * pmap_kremove change PTEs at once but only queue the invalidation, in a
 * batch that belongs to the calling CPU (struct pmap_tlb_batch): up to
 * PMAP_TLB_MAXVA addresses, then a "full flush" flag; plus the union of
 * the CPUs that may cache the old translations, plus the page-table pages
 * that must not be freed before those CPUs have invalidated.
 * pmap_update() - and every operation that must take effect before it
 * returns (pmap_page_protect, pmap_clear_modify, ...) - calls
 * pmap_tlb_flush(), which completes the batch.  A batch mixes pmaps
 * freely: invalidating an address on a CPU that runs another address space
 * only costs a TLB refill.
 *
 * WHEN A PTE CHANGE NEEDS NO INVALIDATION.  A TLB entry exists only if a
 * walk set the leaf's A bit, and the library clears A only together with
 * an invalidation (pmap_clear_reference).  So a leaf swapped out with A=0
 * is in no TLB, and its invalidation is skipped (pmap_tlb_defer's callers
 * test A).  Paging-structure caches do not have such a bit: freeing a
 * page-table page always queues an invalidation on the pmap's CPUs.
 *
 * WHO IS SHOT.  The kernel pmap: every CPU.  A user pmap: the CPUs in
 * pm_active, the CPUs whose CR3 holds it.  A CPU joins pm_active before it
 * loads CR3 (a seq_cst fetch_or) and leaves only after loading another;
 * the initiator changes the PTE, then reads pm_active with a seq_cst
 * read-modify-write of the same word.  Either the initiator sees the CPU, or the CPU's
 * fresh CR3 load (which flushes) happens after the PTE change.
 *
 * THE PROTOCOL.  Each CPU owns one outgoing request (struct
 * pmap_shootdown) and one inbox word with a bit per initiator.  The
 * initiator fills its request, sets its bit in every target's inbox, sends
 * the IPI through the host and spins until sd_acks reaches zero.  A target
 * (in pmap_tlb_intr, or in any spin loop of the library) swaps its inbox
 * to zero, performs each listed request and decrements its ack counter.
 * Since an initiator keeps serving its own inbox while it waits, two CPUs
 * shooting at each other, or one spinning on a lock the other holds,
 * cannot deadlock; and since each initiator has one request in flight
 * there is no global lock and no queue to overflow.
 */
#include "pmap_impl.h"

struct pmap_cpu pmap_cpus[PMAP_MAXCPUS];
atomic_uint pmap_aclear_inflight;

uint64_t
pmap_all_cpus(void)
{
	int n = pmap_host_ncpus();
	return n >= 64 ? ~0ULL : (1ULL << n) - 1;
}

static uint64_t
targets_of(pmap_t pm)
{
	if (pmap_is_kernel(pm))
		return pmap_all_cpus();
	/*
	 * Order our PTE store before the read of the set (see above).  A
	 * read-modify-write, not a fence: it is totally ordered with the
	 * activating CPU's fetch_or on the same word, which makes the pairing
	 * plain (and visible to ThreadSanitizer, which ignores fences).
	 */
	return atomic_fetch_add_explicit(&pm->pm_active, 0, memory_order_seq_cst);
}

static void
batch_add_va(struct pmap_tlb_batch *b, vaddr_t va, bool kernel)
{
	if (kernel)
		b->tb_kernel = true;
	if (b->tb_full) {
		if (kernel)
			b->tb_global = true;
		return;
	}
	if (b->tb_nva < PMAP_TLB_MAXVA) {
		b->tb_va[b->tb_nva++] = va;
		return;
	}
	b->tb_full = true;
	b->tb_global = b->tb_kernel;
}

void
pmap_tlb_defer(pmap_t pm, vaddr_t va)
{
	struct pmap_tlb_batch *b = &pmap_curcpu()->pc_batch;
	b->tb_targets |= targets_of(pm);
	if (__atomic_load_n(&pm->pm_remove_all, __ATOMIC_RELAXED)) {
		/* Tearing the whole pmap down: one full flush beats many. */
		b->tb_full = true;
		b->tb_global = b->tb_kernel;
		return;
	}
	batch_add_va(b, va, pmap_is_kernel(pm));
}

void
pmap_tlb_defer_free(pmap_t pm, vaddr_t va, paddr_t ptp)
{
	struct pmap_tlb_batch *b = &pmap_curcpu()->pc_batch;
	/* Any INVLPG drops the PCID's paging-structure caches; queue one. */
	pmap_tlb_defer(pm, va);
	/*
	 * Chain it through its own first entry.  Until the flush, a CPU may
	 * still walk this table through a stale paging-structure cache entry,
	 * so the store is atomic, and the link (a page address, P clear)
	 * reads as not-present to such a walk.
	 */
	__atomic_store_n((paddr_t *)pmap_host_phys_map(ptp), b->tb_free_head,
	    __ATOMIC_RELAXED);
	b->tb_free_head = ptp;
	b->tb_nfree++;
}

/* Perform one request on this CPU. */
static void
tlb_do(unsigned nva, const vaddr_t *va, bool full, bool global, pmap_t evict)
{
	struct pmap_cpu *pc = pmap_curcpu();
	if (evict != NULL && pc->pc_curpmap == evict) {
		int cpu = pmap_host_cpu_id();
		pmap_md_activate(PMAP_KERNEL);
		pc->pc_curpmap = PMAP_KERNEL;
		atomic_fetch_and(&evict->pm_active, ~(1ULL << cpu));
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
		int i = __builtin_ctzll(from);
		from &= from - 1;
		struct pmap_shootdown *sd = &pmap_cpus[i].pc_sd;
		tlb_do(sd->sd_nva, sd->sd_va, sd->sd_full, sd->sd_global, sd->sd_evict);
		atomic_fetch_sub_explicit(&sd->sd_acks, 1, memory_order_release);
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

/* Send this CPU's filled-in request to targets and wait for them. */
static void
tlb_shoot(int self, uint64_t targets)
{
	struct pmap_shootdown *sd = &pmap_cpus[self].pc_sd;
	atomic_store_explicit(&sd->sd_acks, cpuset_count(targets),
	    memory_order_relaxed);
	for (uint64_t t = targets; t != 0; t &= t - 1) {
		int cpu = __builtin_ctzll(t);
		atomic_fetch_or_explicit(&pmap_cpus[cpu].pc_inbox, 1ULL << self,
		    memory_order_release);
	}
	pmap_host_send_shootdown(targets);
	PMAP_CTR_ADD(shootdowns, 1);
	PMAP_CTR_ADD(shootdown_ipis, cpuset_count(targets));
	while (atomic_load_explicit(&sd->sd_acks, memory_order_acquire) != 0) {
		pmap_tlb_poll();
		pmap_host_spin_wait();
	}
}

void
pmap_tlb_flush(void)
{
	pmap_host_preempt_disable();
	int self = pmap_host_cpu_id();
	struct pmap_cpu *pc = &pmap_cpus[self];
	struct pmap_tlb_batch *b = &pc->pc_batch;
	uint64_t targets = b->tb_targets & pmap_all_cpus();
	bool work = b->tb_nva != 0 || b->tb_full;
	if (work && (targets & (1ULL << self)))
		tlb_do(b->tb_nva, b->tb_va, b->tb_full, b->tb_global, NULL);
	uint64_t others = targets & ~(1ULL << self);
	if (work && others != 0) {
		struct pmap_shootdown *sd = &pc->pc_sd;
		sd->sd_nva = b->tb_nva;
		for (unsigned i = 0; i < b->tb_nva; i++)
			sd->sd_va[i] = b->tb_va[i];
		sd->sd_full = b->tb_full;
		sd->sd_global = b->tb_global;
		sd->sd_evict = NULL;
		tlb_shoot(self, others);
	}
	/* Every CPU that could reach them has invalidated: free the tables. */
	paddr_t p = b->tb_free_head;
	unsigned nfree = b->tb_nfree;
	b->tb_free_head = 0;
	b->tb_nfree = 0;
	b->tb_targets = 0;
	b->tb_nva = 0;
	b->tb_full = b->tb_global = b->tb_kernel = false;
	pmap_host_preempt_enable();
	/* Counted, not NULL-terminated: physical page 0 is a page like any. */
	while (nfree-- > 0) {
		paddr_t next = __atomic_load_n((paddr_t *)pmap_host_phys_map(p),
		    __ATOMIC_RELAXED);
		pmap_host_page_free(p);
		p = next;
	}
}

void
pmap_tlb_evict(pmap_t pm)
{
	pmap_host_preempt_disable();
	int self = pmap_host_cpu_id();
	struct pmap_cpu *pc = &pmap_cpus[self];
	if (pc->pc_curpmap == pm)
		tlb_do(0, NULL, false, false, pm);
	uint64_t others = atomic_load(&pm->pm_active) & ~(1ULL << self);
	if (others != 0) {
		struct pmap_shootdown *sd = &pc->pc_sd;
		sd->sd_nva = 0;
		sd->sd_full = sd->sd_global = false;
		sd->sd_evict = pm;
		tlb_shoot(self, others);
	}
	pmap_host_preempt_enable();
}
