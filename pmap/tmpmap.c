// SPDX-License-Identifier: BSD-2-Clause
/*
 * tmpmap.c - temporary kernel mappings: pmap_quick_enter_page(9),
 * sf_buf(9), pmap_kenter_temporary() and pmap_qenter()/pmap_qremove().
 *
 * QUICK MAPPINGS use one page of KVA per CPU.  Entering disables
 * preemption (so the thread stays on the CPU that owns the slot) and
 * writes the slot's PTE; removing clears it and invalidates on this CPU.
 * The slot is empty between uses, and empty slots are never cached, so
 * entering needs no flush.  Never sleeps, never fails.
 *
 * SPECULATION.  Any CPU may cache any present translation at any moment
 * (most MMUs are allowed to), including another CPU's quick slot or an sf_buf
 * it never asked for.  Such an entry is never *used* - a slot is its
 * owner's, a private sf_buf its CPU's, and every CPU invalidates an sf_buf
 * it was not known clean for before it uses it (sf_clean below) - but it
 * must not outlive the page it maps into that page's next life.  So the
 * windows whose other-CPU side is left stale - a quick slot after use, a
 * private sf_buf taken over, a pmap_kenter_temporary window - are
 * invalidated on every CPU by the next pmap_update(pmap_kernel()) (from
 * the kernel batch, or the per-CPU "slot used" flags update_kernel
 * collects), and the page they mapped is marked PP_ATTR_WSTALE: before
 * that page goes (pmap_page_protect(VM_PROT_NONE), or the library taking
 * it for a page table), the kernel's delayed invalidations are completed.
 *
 * SF_BUF has two modes, chosen at bootstrap (pmap_bootinfo.pb_sfbuf_mode):
 *
 *   direct map  The sf_buf *is* the vm_page (as FreeBSD does with one); its kva
 *               is the direct-map address.  Only a per-page reference count
 *               is kept, to catch a double free.
 *
 *   mapped      PMAP_SFBUF_COUNT kernel pages of KVA, each an sf_buf with a
 *               reference count, as a platform without a direct map needs.
 *               A page's current sf_buf hangs off its pmap_page (no hash).
 *               Unreferenced sf_bufs keep their mapping on an LRU list, so
 *               a page used again soon costs nothing; the least recently
 *               freed one is taken over when a new page needs a mapping.
 *
 * sf_clean is the inverse of "may cache the buffer": the CPUs known to
 * hold no stale translation of it, i.e. that invalidated it since its PTE
 * last changed (as FreeBSD's 32-bit sf_buf keeps it).  A take-over empties
 * it.  An SFB_CPUPRIVATE allocation makes only its own CPU clean (one
 * invalidation, no IPI - the point of the flag); a shared one shoots every CPU
 * not yet clean.  pmap_page_protect(pg, VM_PROT_NONE) also drops the
 * page's idle sf_buf mapping, on every CPU.
 */
#include "pmap_impl.h"

struct sf_buf {
	struct vm_page *sf_page;	/* mapped page, or NULL (sf_lock) */
	vaddr_t sf_kva;
	int sf_ref;			/* (sf_lock) */
	uint64_t sf_clean;		/* CPUs known to hold no stale entry (sf_lock) */
	struct sf_buf *sf_next, *sf_prev; /* idle LRU list, when sf_ref == 0 */
};

static enum pmap_sfbuf_mode sf_mode;
static struct sf_buf sf_bufs[PMAP_SFBUF_COUNT];
static volatile uint8_t sf_lock;
static struct sf_buf *sf_idle_head, *sf_idle_tail;
static int sf_waiters;				/* (sf_lock) */

/* ---- helpers ---- */

static pmap_pte_t
kernel_rw_pte(paddr_t pa)
{
	return pmap_md_pte_make(pa, VM_PROT_READ | VM_PROT_WRITE, 0, true) | PTE_KENTER |
	    PTE_WIRED | PTE_REF | PTE_MOD;
}

static pmap_pte_t *
window_pte(vaddr_t va)
{
	pmap_pte_t *ptep = pmap_pt_pte(PMAP_KERNEL, va);
	PMAP_KASSERTMSG(ptep != NULL, "window va %#llx has no page table",
	    (unsigned long long)va);
	return ptep;
}

bool pmap_ktemp_stale;		/* a ktemp window was used (atomic) */

/* A window's old translation o may linger on other CPUs (SPECULATION):
 * mark its page, after the flag that gets the window invalidated. */
static void
window_page_stale(pmap_pte_t o)
{
	if (!pmap_pte_valid_p(o))
		return;
	struct vm_page *pg = pmap_host_phys_to_page(pmap_pte_pa(o));
	if (pg != NULL)
		__atomic_fetch_or(&pmap_pp(pg)->pp_attrs, PP_ATTR_WSTALE, __ATOMIC_RELEASE);
}

/* Invalidate va on the CPUs in targets (this one included) before returning. */
static void
invalidate_now(uint64_t targets, vaddr_t va)
{
	if (targets == 0)
		return;
	struct pmap_tlb_batch b;
	pmap_tlb_batch_init(&b);
	pmap_tlb_sync_add_cpus(&b, targets, va);
	pmap_tlb_sync_run(&b);
}

void
pmap_tmpmap_init(enum pmap_sfbuf_mode mode)
{
	sf_mode = mode;
	sf_idle_head = sf_idle_tail = NULL;
	for (int i = 0; i < PMAP_SFBUF_COUNT; i++) {
		struct sf_buf *sf = &sf_bufs[i];
		sf->sf_page = NULL;
		sf->sf_kva = pmap_md_sfbuf_va(i);
		sf->sf_ref = 0;
		sf->sf_clean = ~0ULL;		/* empty: nothing to be stale */
		sf->sf_prev = sf_idle_tail;
		sf->sf_next = NULL;
		if (sf_idle_tail != NULL)
			sf_idle_tail->sf_next = sf;
		else
			sf_idle_head = sf;
		sf_idle_tail = sf;
	}
}

/* ---- quick mappings ---- */

vaddr_t
pmap_quick_enter_page(struct vm_page *m)
{
	PMAP_KASSERTMSG(m != NULL, "NULL page");
	pmap_host_preempt_disable();
	int cpu = pmap_host_cpu_id();
	struct pmap_cpu *pc = &pmap_cpus[cpu];
	if (__predict_false(pc->pc_quick_busy)) {
		pmap_host_preempt_enable();
		PMAP_PANIC("nested quick mapping on cpu %d: slot %#llx is still in use",
		    cpu, (unsigned long long)pc->pc_quick_va);
	}
	pc->pc_quick_busy = true;
	/* The slot is empty: no flush, unless the MMU caches empty slots
	 * (other CPUs' speculative leftovers are never used; SPECULATION). */
	pmap_pte_swap(window_pte(pc->pc_quick_va), kernel_rw_pte(pmap_host_page_pa(m)));
	if (pmap_md_invalid_cached_p())
		pmap_md_invalidate_page(pc->pc_quick_va);
	return pc->pc_quick_va;
}

void
pmap_quick_remove_page(vaddr_t kva)
{
	int cpu = pmap_host_cpu_id();	/* preemption is still disabled */
	struct pmap_cpu *pc = &pmap_cpus[cpu];
	PMAP_KASSERTMSG(pc->pc_quick_busy && kva == pc->pc_quick_va, "kva %#llx is not "
	    "cpu %d's quick slot %#llx in use (busy %d)", (unsigned long long)kva, cpu,
	    (unsigned long long)pc->pc_quick_va, pc->pc_quick_busy);
	pmap_pte_t o = pmap_pte_swap(window_pte(kva), 0);
	pmap_md_invalidate_page(kva);	/* only this CPU uses the slot */
	/* Others may have cached it speculatively: see SPECULATION. */
	__atomic_store_n(&pc->pc_quick_stale, true, __ATOMIC_RELEASE);
	window_page_stale(o);
	pc->pc_quick_busy = false;
	pmap_host_preempt_enable();
}

/* ---- pmap_kenter_temporary ---- */

void *
pmap_kenter_temporary(paddr_t pa, int i)
{
	PMAP_KASSERTMSG(i >= 0 && i < PMAP_KTEMP_PAGES, "index %d outside the %d-page "
	    "window", i, PMAP_KTEMP_PAGES);
	PMAP_KASSERTMSG((pa & PAGE_MASK) == 0, "pa %#llx is not page aligned",
	    (unsigned long long)pa);
	PMAP_KASSERTMSG(pmap_md_pa_ok_p(pa), "pa %#llx is beyond the machine's "
	    "physical address width", (unsigned long long)pa);
	vaddr_t va = pmap_md_ktemp_va(i);
	/* Crash-dump use: valid on the calling CPU, which it invalidates;
	 * other CPUs' speculative leftovers: see SPECULATION. */
	pmap_pte_t n = kernel_rw_pte(pa);
	pmap_pte_t o = pmap_pte_swap(window_pte(va), n);
	pmap_md_invalidate_page(va);
	__atomic_store_n(&pmap_ktemp_stale, true, __ATOMIC_RELEASE);
	window_page_stale(o);
	/* The new page too: nothing ends this mapping but the next one at i,
	 * so when the page goes, pmap_sfbuf_page_gone takes it out. */
	window_page_stale(n);
	return (void *)(uintptr_t)pmap_md_ktemp_va(0);
}

/* ---- pmap_qenter / pmap_qremove ---- */

static void
check_qrange(const char *fn, vaddr_t va, int count)
{
	PMAP_KASSERTMSG_FN(fn, (va & PAGE_MASK) == 0 && count >= 0, "va %#llx count %d",
	    (unsigned long long)va, count);
	vaddr_t end = va + (vaddr_t)count * PAGE_SIZE;
	vaddr_t vstart, vend;
	pmap_md_virtual_space(&vstart, &vend);
	PMAP_KASSERTMSG_FN(fn, count == 0 || (va >= vstart && end <= pmap_md_kva_grown()),
	    "[%#llx, %#llx) is outside the grown kernel virtual space "
	    "[%#llx, %#llx)", (unsigned long long)va, (unsigned long long)end,
	    (unsigned long long)vstart, (unsigned long long)pmap_md_kva_grown());
	for (int i = 0; i < count; i++) {
		pmap_pte_t e = pmap_pte_load(window_pte(va + (vaddr_t)i * PAGE_SIZE));
		PMAP_KASSERTMSG_FN(fn, !pmap_pte_valid_p(e) || pmap_pte_kenter_p(e), "va %#llx "
		    "holds a pmap_enter mapping (pte %#llx)",
		    (unsigned long long)(va + (vaddr_t)i * PAGE_SIZE), (unsigned long long)e);
	}
}

void
pmap_qenter(vaddr_t va, struct vm_page **m, int count)
{
	check_qrange("pmap_qenter", va, count);
	struct pmap_tlb_batch b;
	pmap_tlb_batch_init(&b);
	for (int i = 0; i < count; i++) {
		vaddr_t a = va + (vaddr_t)i * PAGE_SIZE;
		pmap_pte_t n = kernel_rw_pte(pmap_host_page_pa(m[i]));
		pmap_pte_t o = pmap_pte_swap(window_pte(a), n);
		if (!pmap_pte_valid_p(o)) {
			atomic_fetch_add(&PMAP_KERNEL->pm_resident, 1);
			atomic_fetch_add(&PMAP_KERNEL->pm_wired, 1);
			if (pmap_md_invalid_cached_p())
				pmap_tlb_sync_add(&b, PMAP_KERNEL, a);
		} else if (o != n && pmap_pte_maybe_cached_p(o)) {
			pmap_tlb_sync_add(&b, PMAP_KERNEL, a);
		}
	}
	/* FreeBSD's pmap_qenter is synchronous: the new pages are visible on
	 * every CPU when it returns. */
	pmap_tlb_sync_run(&b);
}

void
pmap_qremove(vaddr_t va, int count)
{
	check_qrange("pmap_qremove", va, count);
	struct pmap_tlb_batch b;
	pmap_tlb_batch_init(&b);
	for (int i = 0; i < count; i++) {
		vaddr_t a = va + (vaddr_t)i * PAGE_SIZE;
		pmap_pte_t o = pmap_pte_swap(window_pte(a), 0);
		if (!pmap_pte_valid_p(o))
			continue;
		atomic_fetch_sub(&PMAP_KERNEL->pm_resident, 1);
		atomic_fetch_sub(&PMAP_KERNEL->pm_wired, 1);
		if (pmap_pte_maybe_cached_p(o))
			pmap_tlb_sync_add(&b, PMAP_KERNEL, a);
	}
	pmap_tlb_sync_run(&b);
}

/* ---- sf_buf ---- */

static void
idle_remove(struct sf_buf *sf)
{
	if (sf->sf_prev != NULL)
		sf->sf_prev->sf_next = sf->sf_next;
	else
		sf_idle_head = sf->sf_next;
	if (sf->sf_next != NULL)
		sf->sf_next->sf_prev = sf->sf_prev;
	else
		sf_idle_tail = sf->sf_prev;
	sf->sf_next = sf->sf_prev = NULL;
}

static void
idle_append(struct sf_buf *sf)
{
	sf->sf_next = NULL;
	sf->sf_prev = sf_idle_tail;
	if (sf_idle_tail != NULL)
		sf_idle_tail->sf_next = sf;
	else
		sf_idle_head = sf;
	sf_idle_tail = sf;
}

static struct sf_buf *
dmap_alloc(struct vm_page *m)
{
	struct pmap_page *pp = pmap_pp(m);
	uint16_t old = __atomic_fetch_add(&pp->pp_sfref, 1, __ATOMIC_RELAXED);
	if (__predict_false(old == UINT16_MAX)) {
		__atomic_fetch_sub(&pp->pp_sfref, 1, __ATOMIC_RELAXED);
		PMAP_PANIC("page %#llx has %u sf_bufs", (unsigned long long)pmap_host_page_pa(m),
		    (unsigned)old);
	}
	return (struct sf_buf *)m;
}

struct sf_buf *
sf_buf_alloc(struct vm_page *m, int flags)
{
	PMAP_KASSERTMSG(m != NULL, "NULL page");
	PMAP_KASSERTMSG((flags & ~(SFB_CATCH | SFB_NOWAIT | SFB_CPUPRIVATE)) == 0,
	    "unknown flags %#x", (unsigned)flags);
	if (sf_mode == PMAP_SFBUF_DMAP)
		return dmap_alloc(m);

	struct pmap_page *pp = pmap_pp(m);
	bool private = (flags & SFB_CPUPRIVATE) != 0;
	pmap_spin_lock(&sf_lock);
	struct sf_buf *sf;
	for (;;) {
		sf = pp->pp_sfbuf;
		if (sf != NULL) {
			/* Mapped already (maybe idle): the PTE is current. */
			if (sf->sf_ref++ == 0)
				idle_remove(sf);
			break;
		}
		if (sf_idle_head != NULL) {
			sf = sf_idle_head;
			idle_remove(sf);
			/* The old page may have a newer sf_buf if its pmap_page
			 * was reset: unlink only our own. */
			if (sf->sf_page != NULL && pmap_pp(sf->sf_page)->pp_sfbuf == sf)
				__atomic_store_n(&pmap_pp(sf->sf_page)->pp_sfbuf, NULL,
				    __ATOMIC_RELAXED);
			sf->sf_page = m;
			sf->sf_ref = 1;
			__atomic_store_n(&pp->pp_sfbuf, sf, __ATOMIC_RELAXED);
			pmap_pte_t o = pmap_pte_swap(window_pte(sf->sf_kva),
			    kernel_rw_pte(pmap_host_page_pa(m)));
			if (pmap_pte_valid_p(o)) {
				/* Any CPU may hold the old translation. */
				sf->sf_clean = 0;
				if (private) {
					/* Others drop it lazily: SPECULATION. */
					pmap_tlb_defer(PMAP_KERNEL, sf->sf_kva);
					window_page_stale(o);
				}
			} else {
				/* Was empty: none can be stale, unless "not present"
				 * is cached. */
				sf->sf_clean = pmap_md_invalid_cached_p() ? 0 : ~0ULL;
			}
			break;
		}
		if (flags & SFB_NOWAIT) {
			pmap_spin_unlock(&sf_lock);
			return NULL;
		}
		uint64_t ticket = pmap_host_sleep_prepare(&sf_idle_head);
		sf_waiters++;
		pmap_spin_unlock(&sf_lock);
		int error = pmap_host_sleep(&sf_idle_head, ticket, (flags & SFB_CATCH) != 0);
		pmap_spin_lock(&sf_lock);
		sf_waiters--;
		if (error != 0 && (flags & SFB_CATCH)) {
			pmap_spin_unlock(&sf_lock);
			return NULL;
		}
	}
	/* Before this CPU (private) or any CPU (shared) uses the buffer, it
	 * drops whatever stale translation of it it may hold. */
	uint64_t self = 1ULL << pmap_host_cpu_id();	/* sf_lock: no migration */
	if (private) {
		if (!(sf->sf_clean & self)) {
			pmap_md_invalidate_page(sf->sf_kva);
			sf->sf_clean |= self;
		}
	} else {
		uint64_t stale = pmap_all_cpus() & ~sf->sf_clean;
		invalidate_now(stale, sf->sf_kva);
		sf->sf_clean = ~0ULL;
	}
	pmap_spin_unlock(&sf_lock);
	return sf;
}

static struct sf_buf *
mapped_sf(struct sf_buf *sf, const char *fn)
{
	PMAP_KASSERTMSG_FN(fn, sf >= &sf_bufs[0] && sf < &sf_bufs[PMAP_SFBUF_COUNT],
	    "%p is not an sf_buf", (void *)sf);
	return sf;
}

void
sf_buf_free(struct sf_buf *sf)
{
	if (sf_mode == PMAP_SFBUF_DMAP) {
		struct pmap_page *pp = pmap_pp((struct vm_page *)sf);
		uint16_t ref = __atomic_load_n(&pp->pp_sfref, __ATOMIC_RELAXED);
		do {
			PMAP_KASSERTMSG(ref > 0, "sf_buf %p (page %#llx) freed twice", (void *)sf,
			    (unsigned long long)pmap_host_page_pa((struct vm_page *)sf));
		} while (!__atomic_compare_exchange_n(&pp->pp_sfref, &ref, (uint16_t)(ref - 1),
		    false, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
		return;
	}
	mapped_sf(sf, "sf_buf_free");
	pmap_spin_lock(&sf_lock);
	if (__predict_false(sf->sf_ref <= 0)) {
		pmap_spin_unlock(&sf_lock);
		PMAP_PANIC("sf_buf %p (kva %#llx) freed twice", (void *)sf,
		    (unsigned long long)sf->sf_kva);
	}
	if (--sf->sf_ref == 0) {
		/* Keep the mapping: the page may well be wanted again. */
		idle_append(sf);
		if (sf_waiters > 0)
			pmap_host_wakeup(&sf_idle_head);
	}
	pmap_spin_unlock(&sf_lock);
}

vaddr_t
sf_buf_kva(struct sf_buf *sf)
{
	if (sf_mode == PMAP_SFBUF_DMAP)
		return pmap_md_map_poolpage(pmap_host_page_pa((struct vm_page *)sf));
	return mapped_sf(sf, "sf_buf_kva")->sf_kva;
}

struct vm_page *
sf_buf_page(struct sf_buf *sf)
{
	if (sf_mode == PMAP_SFBUF_DMAP)
		return (struct vm_page *)sf;
	return mapped_sf(sf, "sf_buf_page")->sf_page;
}

int
pmap_own_page_alloc(paddr_t *pap)
{
	if (pmap_host_page_alloc(pap) != 0)
		return -1;
	/* A page the VM still uses cannot be handed to us, so a look without
	 * sf_lock is enough to skip the common case. */
	struct vm_page *pg = pmap_host_phys_to_page(*pap);
	if (pg != NULL && (__atomic_load_n(&pmap_pp(pg)->pp_sfbuf, __ATOMIC_RELAXED) != NULL ||
	    (__atomic_load_n(&pmap_pp(pg)->pp_attrs, __ATOMIC_RELAXED) & PP_ATTR_WSTALE)))
		pmap_sfbuf_page_gone(pg);
	return 0;
}

void
pmap_sfbuf_page_gone(struct vm_page *pg)
{
	struct pmap_page *pp = pmap_pp(pg);
	if (sf_mode == PMAP_SFBUF_MAPPED) {
		pmap_spin_lock(&sf_lock);
		struct sf_buf *sf = pp->pp_sfbuf;
		if (sf != NULL && sf->sf_ref == 0) {
			/* An idle mapping of a page about to go: drop it now, on
			 * every CPU (any may have cached it). */
			pmap_pte_swap(window_pte(sf->sf_kva), 0);
			invalidate_now(pmap_all_cpus(), sf->sf_kva);
			sf->sf_clean = ~0ULL;
			sf->sf_page = NULL;
			__atomic_store_n(&pp->pp_sfbuf, NULL, __ATOMIC_RELAXED);
		}
		pmap_spin_unlock(&sf_lock);
	}
	/* A window that mapped it may linger elsewhere: see SPECULATION.  A
	 * pmap_kenter_temporary window may even map it still: empty it (the
	 * kernel update below invalidates it everywhere). */
	if (__atomic_load_n(&pp->pp_attrs, __ATOMIC_ACQUIRE) & PP_ATTR_WSTALE) {
		__atomic_fetch_and(&pp->pp_attrs, (uint8_t)~PP_ATTR_WSTALE, __ATOMIC_RELAXED);
		paddr_t pa = pmap_host_page_pa(pg);
		for (int i = 0; i < PMAP_KTEMP_PAGES; i++) {
			pmap_pte_t *ptep = window_pte(pmap_md_ktemp_va(i));
			pmap_pte_t e = pmap_pte_load(ptep);
			if (pmap_pte_valid_p(e) && pmap_pte_pa(e) == pa && pmap_pte_cas(ptep, &e, 0))
				__atomic_store_n(&pmap_ktemp_stale, true, __ATOMIC_RELEASE);
		}
		pmap_tlb_update(PMAP_KERNEL);
	}
}
