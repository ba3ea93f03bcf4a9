// SPDX-License-Identifier: BSD-2-Clause
/*
 * pmap.c - the machine-independent heart of libpmap: pmap(9) itself.
 *
 * Read pmap_impl.h first for the lock order and what each lock protects,
 * and tlb.c for when invalidations happen.  The rules every function here
 * follows:
 *
 *  1. A PTE is changed only by an atomic swap or compare-and-swap, and the
 *     function that changes it looks at the old value and decides, in the
 *     same place, what the change needs: a pv update, an attribute
 *     transfer (A -> referenced, D -> modified), a statistics update, an
 *     invalidation (only if a TLB may hold the old leaf:
 *     pmap_pte_maybe_cached_p).
 *  2. Referenced and modified belong to the page: when a managed leaf goes
 *     away or has A/D cleared, its bits are ORed into pp_attrs first, so
 *     they survive the mapping and are lost only by pmap_clear_*.
 *  3. Anything that can fail (page-table pages, pv entries) is obtained
 *     before the first change, so PMAP_CANFAIL returns with nothing
 *     changed and nothing leaked.
 *  4. A caller error panics before any lock is taken, or releases its
 *     locks first, so a test that catches the panic can go on.
 */
#include "pmap_impl.h"

struct pmap pmap_kernel_store;
struct pmap_counters_atomic pmap_ctr;

/* ---- PMAP_DIAGNOSTIC: check the whole pmap / page after an operation ---- */

#if PMAP_DIAGNOSTIC
/* The kernel pmap is changed without its lock (pmap_kenter_pa), so its
 * counts can only be compared when the machine is quiet: not here. */
#define DIAG_PMAP(pm) do {							\
	if (!pmap_is_kernel(pm))						\
		pmap_check_pmap(pm);						\
} while (0)
#define DIAG_PAGE(pg)	pmap_check_page(pg)
#else
#define DIAG_PMAP(pm)	do { } while (0)
#define DIAG_PAGE(pg)	do { } while (0)
#endif

/* ---- argument checks (macros, so __func__ names the API function) ---- */

#define CHECK_ALIGNED(what, v)							\
	PMAP_KASSERTMSG(((v) & PAGE_MASK) == 0, "%s %#llx is not page aligned",	\
	    (what), (unsigned long long)(v))

/* Physical addresses the MMU can reach (not truncated, no reserved bit). */
#define CHECK_PA(what, pa)							\
	PMAP_KASSERTMSG(pmap_md_pa_ok_p(pa), "%s %#llx is beyond the machine's "	\
	    "physical address width", (what), (unsigned long long)(pa))

/* The windows at the start of KVA are the library's (quick mappings,
 * pmap_kenter_temporary, sf_bufs): entering or removing there would pull
 * a mapping from under its owner. */
#define CHECK_NOT_WINDOW(va)							\
	PMAP_KASSERTMSG((va) >= pmap_md_kva_start(), "va %#llx is in the "	\
	    "library's own windows [%#llx, %#llx) (quick mappings, "		\
	    "pmap_kenter_temporary, sf_bufs)", (unsigned long long)(va),	\
	    (unsigned long long)PMAP_KVA_BASE,					\
	    (unsigned long long)pmap_md_kva_start())

#define CHECK_VA(pm, va) do {							\
	CHECK_ALIGNED("va", (va));						\
	if (pmap_is_kernel(pm)) {						\
		PMAP_KASSERTMSG(pmap_md_kva_p(va) && (va) < pmap_md_kva_grown(), \
		    "kernel pmap: va %#llx is outside the kernel virtual space "	\
		    "with page tables [%#llx, %#llx)", (unsigned long long)(va),	\
		    (unsigned long long)PMAP_KVA_BASE,				\
		    (unsigned long long)pmap_md_kva_grown());			\
		CHECK_NOT_WINDOW(va);						\
	} else									\
		PMAP_KASSERTMSG(pmap_md_user_va_p(va), "pmap %p: va %#llx is not " \
		    "a user address (user space ends at %#llx)", (void *)(pm),	\
		    (unsigned long long)(va), (unsigned long long)PMAP_USER_MAX); \
} while (0)

#define CHECK_RANGE(pm, sva, eva) do {						\
	CHECK_ALIGNED("sva", (sva));						\
	CHECK_ALIGNED("eva", (eva));						\
	PMAP_KASSERTMSG((sva) <= (eva), "pmap %p: range [%#llx, %#llx) is "	\
	    "reversed", (void *)(pm), (unsigned long long)(sva),		\
	    (unsigned long long)(eva));						\
	if (pmap_is_kernel(pm)) {						\
		PMAP_KASSERTMSG((sva) == (eva) || (pmap_md_kva_p(sva) &&	\
		    (eva) <= PMAP_KVA_MAX), "kernel pmap: range [%#llx, %#llx) "	\
		    "is outside the kernel virtual space",			\
		    (unsigned long long)(sva), (unsigned long long)(eva));	\
		if ((sva) != (eva))						\
			CHECK_NOT_WINDOW(sva);					\
	} else									\
		PMAP_KASSERTMSG((eva) <= PMAP_USER_MAX, "pmap %p: range "	\
		    "[%#llx, %#llx) leaves user space", (void *)(pm),		\
		    (unsigned long long)(sva), (unsigned long long)(eva));	\
} while (0)

/* ---- bootstrap and life cycle ---- */

void
pmap_bootstrap(const struct pmap_bootinfo *bi)
{
	pmap_t pm = PMAP_KERNEL;
	pmap_memzero(pm, sizeof(*pm));
	atomic_init(&pm->pm_refcnt, 1);
	PMAP_KASSERTMSG(pmap_host_ncpus() >= 1 && pmap_host_ncpus() <= PMAP_MAXCPUS,
	    "host reports %d CPUs, the library is built for 1..%d", pmap_host_ncpus(),
	    PMAP_MAXCPUS);
	pmap_md_bootstrap(bi);
	pmap_tmpmap_init(bi->pb_sfbuf_mode);
	atomic_store(&pmap_ctr.pmaps, 1);
}

void
pmap_cpu_init(void)
{
	pmap_host_preempt_disable();
	int cpu = pmap_host_cpu_id();
	struct pmap_cpu *pc = &pmap_cpus[cpu];
	pc->pc_quick_va = pmap_md_quick_va(cpu);
	pc->pc_quick_busy = false;
	pmap_md_cpu_init();
	pc->pc_curpmap = PMAP_KERNEL;
	pmap_host_preempt_enable();
}

void
pmap_init(void)
{
}

pmap_t
pmap_kernel(void)
{
	return PMAP_KERNEL;
}

void
pmap_virtual_space(vaddr_t *vstartp, vaddr_t *vendp)
{
	pmap_md_virtual_space(vstartp, vendp);
}

pmap_t
pmap_create(void)
{
	pmap_t pm = pmap_kmem_alloc_pmap();
	if (pm == NULL)
		PMAP_PANIC("out of memory for a pmap structure");
	pmap_memzero(pm, sizeof(*pm));
	atomic_init(&pm->pm_refcnt, 1);
	if (pmap_md_pmap_init(pm) != 0) {
		pmap_kmem_free_pmap(pm);
		PMAP_PANIC("out of memory for a page-table root");
	}
	PMAP_CTR_ADD(pmaps, 1);
	return pm;
}

/* A destroyed pmap's count: far below zero, so any later use shows. */
#define PMAP_REFCNT_DEAD	(-0x40000000)

void
pmap_reference(pmap_t pm)
{
	int old = atomic_fetch_add_explicit(&pm->pm_refcnt, 1, memory_order_relaxed);
	if (__predict_false(old < 1)) {
		atomic_fetch_sub_explicit(&pm->pm_refcnt, 1, memory_order_relaxed);
		PMAP_PANIC("pmap %p: reference count was %d (%s)", (void *)pm, old,
		    old <= PMAP_REFCNT_DEAD / 2 ? "destroyed" : "below one");
	}
}

void
pmap_destroy(pmap_t pm)
{
	PMAP_KASSERTMSG(!pmap_is_kernel(pm), "the kernel pmap cannot be destroyed");
	int old = atomic_fetch_sub_explicit(&pm->pm_refcnt, 1, memory_order_acq_rel);
	if (__predict_false(old < 1)) {
		atomic_fetch_add_explicit(&pm->pm_refcnt, 1, memory_order_relaxed);
		PMAP_PANIC("pmap %p: reference count was %d (%s)", (void *)pm, old,
		    old <= PMAP_REFCNT_DEAD / 2 ? "destroyed already" : "below one");
	}
	if (old > 1)
		return;
	long res = atomic_load(&pm->pm_resident);
	PMAP_KASSERTMSG(res == 0, "pmap %p still has %ld mappings", (void *)pm, res);
	pmap_pv_release_spare(pm);
	PMAP_KASSERTMSG(pm->pm_ptps == 0 && pm->pm_pvchunks == NULL, "pmap %p holds "
	    "%ld page-table pages and pv chunk %p with no mappings", (void *)pm,
	    pm->pm_ptps, (void *)pm->pm_pvchunks);
	/* No CPU may keep running the root (pmap_deactivate is lazy); then
	 * what the last pmap_remove left for a pmap_update goes back too. */
	pmap_tlb_evict(pm);
	pmap_tlb_release(pm);
	pmap_md_pmap_fini(pm);
	atomic_store_explicit(&pm->pm_refcnt, PMAP_REFCNT_DEAD, memory_order_relaxed);
	pmap_kmem_free_pmap(pm);
	PMAP_CTR_ADD(pmaps, (unsigned long long)-1);
}

long
pmap_resident_count(pmap_t pm)
{
	return atomic_load_explicit(&pm->pm_resident, memory_order_relaxed);
}

long
pmap_wired_count(pmap_t pm)
{
	return atomic_load_explicit(&pm->pm_wired, memory_order_relaxed);
}

long
pmap_ptp_count(pmap_t pm)
{
	return pm->pm_ptps;
}

void
pmap_get_counters(struct pmap_counters *c)
{
	c->pc_pv_entries = pmap_pv_entries_total();
	c->pc_pv_chunks = atomic_load(&pmap_ctr.pv_chunks);
	c->pc_ptp_pages = atomic_load(&pmap_ctr.ptp_pages);
	c->pc_kptp_pages = atomic_load(&pmap_ctr.kptp_pages);
	c->pc_shootdowns = atomic_load(&pmap_ctr.shootdowns);
	c->pc_shootdown_ipis = atomic_load(&pmap_ctr.shootdown_ipis);
	c->pc_page_invalidations = atomic_load(&pmap_ctr.page_invals);
	c->pc_full_flushes = atomic_load(&pmap_ctr.full_flushes);
	c->pc_pmaps = atomic_load(&pmap_ctr.pmaps);
}

vaddr_t
pmap_growkernel(vaddr_t maxkvaddr)
{
	return pmap_md_growkernel(maxkvaddr);
}

void
pmap_fork(pmap_t src, pmap_t dst)
{
	/* No per-process machine state beside the page tables is kept. */
	(void)src;
	(void)dst;
}

/*
 * pmap_copy: the fork path's pre-fault (advisory, pmap(9)).  Every
 * managed, unwired leaf of src in [src_addr, src_addr + len) whose slot
 * in dst is empty is entered in dst at the same offset from dst_addr:
 * read-only (a write faults, so the caller's copy-on-write or upgrade
 * happens as if the mapping had been faulted in), neither referenced nor
 * modified (those are the page's, not this new mapping's), unwired, with
 * its pv entry.  Unmanaged leaves (devices) and wired ones are left to the
 * caller's faults.  It stops quietly, with what it copied valid, when
 * page-table pages or pv entries run out: the caller must always be ready
 * to fault the rest in.  Takes effect before it returns (the slots were
 * empty, and an empty slot is in no TLB where pmap_md_invalid_cached_p is
 * false; elsewhere it completes the invalidations itself).
 *
 * Both pmaps' locks are held, taken in address order (the only place two
 * pmap locks nest).  The source's leaves cannot go away or change page
 * meanwhile (only a holder of its lock removes one); page-side operations
 * may lower their rights or clear A/D, which the copy drops anyway.  Runs
 * of at most COPY_RUN leaves are read into a buffer before the
 * destination's table is reached: a port may map only one user table at a
 * time per CPU (a table window), so the source's pointer dies there.
 */
#define COPY_RUN 64

/* A source leaf pmap_copy enters: managed, not wired (nor kenter'd). */
static inline bool
copy_leaf_p(pmap_pte_t e)
{
	return pmap_pte_valid_p(e) && pmap_pte_managed_p(e) && !pmap_pte_wired_p(e) &&
	    !pmap_pte_kenter_p(e);
}

/* Enter up to n buffered leaves at dva + off[i] pages; false when memory
 * ran out (what was entered stays).  Both pmap locks held. */
static bool
copy_run(pmap_t dst, vaddr_t dva, const pmap_pte_t *e, const unsigned *off, unsigned n)
{
	struct pmap_ptp_prep prep;
	if (pmap_pt_prepare(dst, dva, &prep) != 0)
		return false;
	pmap_pte_t *dptes = prep.pp_ptep;	/* NULL: tables to link first */
	long added = 0, npv = 0;
	bool ok = true;
	for (unsigned i = 0; i < n; i++) {
		vaddr_t va = dva + (vaddr_t)off[i] * PAGE_SIZE;
		if (dptes != NULL && pmap_pte_valid_p(pmap_pte_load(&dptes[off[i]])))
			continue;	/* dst already maps it: keep that */
		struct pmap_page *pp = pmap_pp(pmap_host_phys_to_page(pmap_pte_pa(e[i])));
		pp_lock_inpm(pp);
		struct pmap_pv *pv = NULL;
		if (!pv_slot_free_p(pp) && (pv = pv_alloc(dst)) == NULL) {
			pp_unlock_inpm(pp);
			ok = false;
			break;
		}
		if (dptes == NULL)
			dptes = pmap_pt_commit(dst, dva, &prep);
		npv += pmap_pv_insert(pp, dst, va, pv);
		/* The slot is empty: no MMU sets A/D in it and no page-side
		 * operation reaches it before pp_lock drops, so a store does. */
		pmap_pte_store_new(&dptes[off[i]], pmap_pte_restrict(e[i],
		    VM_PROT_READ | VM_PROT_EXECUTE) & ~(PTE_REF | PTE_MOD | PTE_WIRED));
		pp_unlock_inpm(pp);
		if (pmap_md_invalid_cached_p())
			pmap_tlb_defer(dst, va);
		added++;
	}
	if (dptes == NULL)
		pmap_pt_prepare_abort(&prep);	/* nothing entered: tables unused */
	if (added != 0) {
		pmap_pt_added(dst, &prep, added);
		pm_stat_add(dst, &dst->pm_resident, added);
	}
	pv_count_add(npv);
	return ok;
}

void
pmap_copy(pmap_t dst, pmap_t src, vaddr_t dst_addr, vsize_t len, vaddr_t src_addr)
{
	PMAP_KASSERTMSG(dst != NULL && src != NULL, "NULL pmap (dst %p, src %p)",
	    (void *)dst, (void *)src);
	PMAP_KASSERTMSG(!pmap_is_kernel(dst) && !pmap_is_kernel(src), "dst %p, src %p: "
	    "the kernel pmap's mappings are not copied (kernel pmap %p)", (void *)dst,
	    (void *)src, (void *)PMAP_KERNEL);
	PMAP_KASSERTMSG(src_addr + len >= src_addr && dst_addr + len >= dst_addr,
	    "len %#llx wraps (src_addr %#llx, dst_addr %#llx)", (unsigned long long)len,
	    (unsigned long long)src_addr, (unsigned long long)dst_addr);
	CHECK_ALIGNED("len", len);
	CHECK_RANGE(src, src_addr, src_addr + len);
	CHECK_RANGE(dst, dst_addr, dst_addr + len);
	if (dst == src || len == 0)
		return;		/* a pmap already holds its own mappings */

	pmap_t first = (uintptr_t)dst < (uintptr_t)src ? dst : src;
	pmap_lock(first);
	pmap_lock(first == dst ? src : dst);
	pmap_pte_t buf[COPY_RUN];
	unsigned off[COPY_RUN];
	vaddr_t va = src_addr, eva = src_addr + len, end;
	pmap_pte_t *sptes;
	while ((va = pmap_pt_next(src, va, eva, &sptes, &end)) < eva) {
		/* One run: inside one source table, one destination table, and
		 * COPY_RUN leaves. */
		vaddr_t dva = dst_addr + (va - src_addr);
		vsize_t room = ((dva | (pmap_md_level_size(2) - 1)) + 1) - dva;
		if (room != 0 && end - va > room)
			end = va + room;
		if (end - va > (vsize_t)COPY_RUN * PAGE_SIZE)
			end = va + (vsize_t)COPY_RUN * PAGE_SIZE;
		unsigned n = 0;
		for (unsigned i = 0; va + (vaddr_t)i * PAGE_SIZE < end; i++) {
			pmap_pte_t e = pmap_pte_load(&sptes[i]);
			if (copy_leaf_p(e)) {
				buf[n] = e;
				off[n++] = i;
			}
		}
		if (n != 0 && !copy_run(dst, dva, buf, off, n))
			break;
		va = end;
	}
	pmap_unlock(first == dst ? src : dst);
	pmap_unlock(first);
	if (pmap_md_invalid_cached_p())
		pmap_tlb_update(dst);
	DIAG_PMAP(dst);
}

/* ---- pmap_enter ---- */

static void
lock_two(struct pmap_page *a, struct pmap_page *b)
{
	if (a != NULL && b != NULL && (uintptr_t)b < (uintptr_t)a) {
		struct pmap_page *t = a;
		a = b;
		b = t;
	}
	if (a != NULL)
		pp_lock_inpm(a);
	if (b != NULL)
		pp_lock_inpm(b);
}

static void
unlock_two(struct pmap_page *a, struct pmap_page *b)
{
	if (a != NULL)
		pp_unlock_inpm(a);
	if (b != NULL)
		pp_unlock_inpm(b);
}

int
pmap_enter(pmap_t pm, vaddr_t va, paddr_t pa, vm_prot_t prot, u_int flags)
{
	CHECK_VA(pm, va);
	CHECK_ALIGNED("pa", pa);
	CHECK_PA("pa", pa);
	PMAP_KASSERTMSG((prot & VM_PROT_ALL) != 0 && (prot & ~VM_PROT_ALL) == 0,
	    "pmap %p va %#llx: bad protection %#x", (void *)pm, (unsigned long long)va,
	    (unsigned)prot);
	PMAP_KASSERTMSG((flags & PMAP_PROT_MASK & ~(u_int)prot) == 0, "pmap %p va %#llx: "
	    "access type %#x exceeds protection %#x", (void *)pm, (unsigned long long)va,
	    flags & PMAP_PROT_MASK, (unsigned)prot);
	u_int cache = flags & PMAP_CACHE_MASK;
	PMAP_KASSERTMSG((cache & (cache - 1)) == 0, "pmap %p va %#llx: several cache "
	    "modes in flags %#x", (void *)pm, (unsigned long long)va, flags);

	struct vm_page *pg = pmap_host_phys_to_page(pa);
	pmap_pte_t npte = pmap_md_pte_make(pa, prot, flags, pmap_is_kernel(pm));
	if (flags & PMAP_WIRED)
		npte |= PTE_WIRED;
	if (pg != NULL)
		npte |= PTE_MANAGED;
	/* Seed referenced/modified with the access that caused the mapping. */
	if (flags & PMAP_PROT_MASK)
		npte |= PTE_REF;
	if (flags & VM_PROT_WRITE)
		npte |= PTE_MOD;

	const char *what = "page-table page";
	struct pmap_ptp_prep prep = { 0 };
	pmap_lock(pm);
	if (pmap_pt_prepare(pm, va, &prep) != 0)
		goto fail;
	pmap_pte_t *ptep = prep.pp_ptep;
	pmap_pte_t opte = ptep != NULL ? pmap_pte_load(ptep) : 0;
	if (__predict_false(pmap_pte_kenter_p(opte))) {
		pmap_unlock(pm);
		PMAP_PANIC("va %#llx holds a pmap_kenter_pa mapping (pte %#llx); only "
		    "pmap_kremove may replace it", (unsigned long long)va,
		    (unsigned long long)opte);
	}

	if (pmap_pte_valid_p(opte) && pmap_pte_pa(opte) == pa) {
		/* Same page: new rights, wiring or cache mode; pv unchanged. */
		pmap_pte_t n;
		do {
			n = npte | (opte & (PTE_REF | PTE_MOD));
		} while (!pmap_pte_cas(ptep, &opte, n));
		long dw = (long)pmap_pte_wired_p(n) - (long)pmap_pte_wired_p(opte);
		if (dw != 0)
			pm_stat_add(pm, &pm->pm_wired, dw);
		/* The MMU caches rights and cache mode, not A/D or our software
		 * bits: only a change of those needs the old entry dropped
		 * (even a raise, to spare other CPUs a spurious fault). */
		pmap_pte_t seen = ~(pmap_pte_t)(PTE_REF | PTE_MOD | PTE_WIRED);
		if (((opte ^ n) & seen) != 0 && pmap_pte_maybe_cached_p(opte))
			pmap_tlb_defer(pm, va);
		pmap_unlock(pm);
		DIAG_PMAP(pm);
		return 0;
	}

	struct vm_page *opg = NULL;
	if (pmap_pte_valid_p(opte) && pmap_pte_managed_p(opte)) {
		opg = pmap_host_phys_to_page(pmap_pte_pa(opte));
		PMAP_KASSERTMSG(opg != NULL, "pmap %p va %#llx: managed pte %#llx without "
		    "a vm_page", (void *)pm, (unsigned long long)va,
		    (unsigned long long)opte);
	}
	struct pmap_page *npp = pg != NULL ? pmap_pp(pg) : NULL;
	struct pmap_page *opp = opg != NULL ? pmap_pp(opg) : NULL;
	lock_two(npp, opp);
	struct pmap_pv *pv = NULL;
	if (npp != NULL && !pv_slot_free_p(npp)) {
		pv = pv_alloc(pm);
		if (pv == NULL) {
			unlock_two(npp, opp);
			what = "pv entry";
			goto fail;
		}
	}

	/* Nothing can fail from here on. */
	if (ptep == NULL)
		ptep = pmap_pt_commit(pm, va, &prep);
	if (!pmap_pte_valid_p(opte) && !pmap_is_kernel(pm))
		pmap_pte_store_new(ptep, npte);	/* empty, and only pm_lock's */
	else
		opte = pmap_pte_swap(ptep, npte);
	struct pmap_pv *opv = NULL;
	if (pmap_pte_valid_p(opte)) {
		if (opp != NULL) {
			opv = pmap_pv_remove(opp, pm, va);
			pp_attrs_set(opp, pp_attrs_of_pte(opte));
		}
		if (pmap_pte_wired_p(opte))
			pm_stat_add(pm, &pm->pm_wired, -1);
		/* The old translation must go before the new one is relied on. */
		if (pmap_pte_maybe_cached_p(opte))
			pmap_tlb_defer(pm, va);
	} else {
		pm_stat_add(pm, &pm->pm_resident, 1);
		pmap_pt_added(pm, &prep, 1);
		if (pmap_md_invalid_cached_p())	/* a "not present" may be cached */
			pmap_tlb_defer(pm, va);
	}
	if (npp != NULL) {
		/* We hold npp's lock since we looked: pv is used iff we made one. */
		bool used = pmap_pv_insert(npp, pm, va, pv);
		PMAP_KASSERTMSG(used == (pv != NULL), "pmap %p va %#llx: pv %p, used %d",
		    (void *)pm, (unsigned long long)va, (void *)pv, used);
	}
	if (flags & PMAP_WIRED)
		pm_stat_add(pm, &pm->pm_wired, 1);
	unlock_two(npp, opp);
	if (opv != NULL)
		pmap_pv_free(pm, opv);
	pv_count_add((pv != NULL) - (opv != NULL));
	pmap_unlock(pm);
	DIAG_PMAP(pm);
	return 0;

fail:
	pmap_pt_prepare_abort(&prep);
	pmap_unlock(pm);
	if (flags & PMAP_CANFAIL)
		return PMAP_ENOMEM;
	PMAP_PANIC("pmap %p va %#llx pa %#llx: no memory for a %s and PMAP_CANFAIL is "
	    "not set", (void *)pm, (unsigned long long)va, (unsigned long long)pa, what);
}

/* ---- removal ---- */

/* Remove the valid, non-kenter leaf at ptep.  pm_lock held; solo: in a
 * solo walk (pmap_protect has the argument).  Returns the pv entries it
 * gave back (the caller counts them: pv_count_add). */
static int
remove_leaf(pmap_t pm, vaddr_t va, pmap_pte_t *ptep, bool solo)
{
	pmap_pte_t e = pmap_pte_load(ptep);
	struct pmap_page *pp = NULL;
	if (pmap_pte_managed_p(e)) {
		pp = pmap_pp(pmap_host_phys_to_page(pmap_pte_pa(e)));
		pp_lock_inpm(pp);
	}
	if (solo) {
		/* Page-side operations are out (pp_lock), other MMUs too. */
		e = pmap_pte_load(ptep);
		pmap_pte_store_solo(ptep, 0);
	} else {
		e = pmap_pte_swap(ptep, 0);
	}
	struct pmap_pv *opv = NULL;
	if (pp != NULL) {
		opv = pmap_pv_remove(pp, pm, va);
		pp_attrs_set(pp, pp_attrs_of_pte(e));
		pp_unlock_inpm(pp);
	}
	pm_stat_add(pm, &pm->pm_resident, -1);
	if (pmap_pte_wired_p(e))
		pm_stat_add(pm, &pm->pm_wired, -1);
	/* Else A was clear, so no TLB holds it (tlb.c): no invalidation -
	 * unless solo, where our own MMU may have set A unseen.  (Once the
	 * batch has overflowed to a full flush, queueing more is a no-op.)
	 * The caller counts the leaf out of its table: pmap_pt_removed. */
	if ((solo || pmap_pte_maybe_cached_p(e)) && !pm->pm_batch.tb_full)
		pmap_tlb_defer(pm, va);
	if (opv == NULL)
		return 0;
	pmap_pv_free(pm, opv);
	return 1;
}

void
pmap_remove(pmap_t pm, vaddr_t sva, vaddr_t eva)
{
	CHECK_RANGE(pm, sva, eva);
	pmap_lock(pm);
	vaddr_t va = sva, end;
	pmap_pte_t *ptes;
	long freed = 0;
	while ((va = pmap_pt_next(pm, va, eva, &ptes, &end)) < eva) {
		vaddr_t run = va;
		long gone = 0;
		bool solo = pmap_solo_begin(pm);
		for (; va < end; va += PAGE_SIZE, ptes++) {
			pmap_pte_t e = pmap_pte_load(ptes);
			if (!pmap_pte_valid_p(e))
				continue;
			if (__predict_false(pmap_pte_kenter_p(e))) {
				pmap_solo_end(pm, solo);
				if (gone != 0)
					pmap_pt_removed(pm, run, gone, NULL);
				pv_count_add(-freed);
				pmap_unlock(pm);
				PMAP_PANIC("va %#llx is a pmap_kenter_pa mapping (pte %#llx); "
				    "only pmap_kremove may remove it",
				    (unsigned long long)va, (unsigned long long)e);
			}
			freed += remove_leaf(pm, va, ptes, solo);
			gone++;
		}
		pmap_solo_end(pm, solo);
		/* Once per table: may free it (its slots stay readable, and
		 * zero, until the batch is flushed). */
		if (gone != 0)
			pmap_pt_removed(pm, run, gone, NULL);
	}
	pv_count_add(-freed);
	pmap_unlock(pm);
	DIAG_PMAP(pm);
}

void
pmap_remove_all(pmap_t pm)
{
	PMAP_KASSERTMSG(!pmap_is_kernel(pm), "not for the kernel pmap");
	/* Read without pm_lock by page-side operations: atomic. */
	__atomic_store_n(&pm->pm_remove_all, true, __ATOMIC_RELAXED);
}

void
pmap_protect(pmap_t pm, vaddr_t sva, vaddr_t eva, vm_prot_t prot)
{
	CHECK_RANGE(pm, sva, eva);
	if ((prot & (VM_PROT_READ | VM_PROT_EXECUTE)) == 0) {
		pmap_remove(pm, sva, eva);
		return;
	}
	pmap_lock(pm);
	vaddr_t va = sva, end;
	pmap_pte_t *ptes;
	while ((va = pmap_pt_next(pm, va, eva, &ptes, &end)) < eva) {
		/*
		 * Alone (no other MMU runs these tables): plain stores, no
		 * locked instruction per PTE.  Our own MMU may still set A
		 * between the load and the store - a speculative walk, which
		 * may also cache the translation.  Losing that A only makes the
		 * page look unreferenced (no access was made through it); but
		 * "A clear, so in no TLB" would no longer hold, so a solo walk
		 * invalidates every entry it changes, whatever A it read.
		 */
		bool solo = pmap_solo_begin(pm);
		for (; va < end; va += PAGE_SIZE, ptes++) {
			pmap_pte_t e = pmap_pte_load(ptes), n;
			if (!pmap_pte_valid_p(e) || pmap_pte_kenter_p(e))
				continue;	/* kenter mappings keep their rights */
			n = pmap_pte_restrict(e, prot);
			if (n == e)
				continue;
			if (solo)
				pmap_pte_store_solo(ptes, n);
			else
				while (!pmap_pte_cas(ptes, &e, n) && (n = pmap_pte_restrict(e, prot)) != e)
					continue;
			/* (Once the batch has overflowed to a full flush, queueing
			 * more is a no-op: skip the call.) */
			if ((solo || pmap_pte_maybe_cached_p(e)) && !pm->pm_batch.tb_full)
				pmap_tlb_defer(pm, va);
		}
		pmap_solo_end(pm, solo);
	}
	pmap_unlock(pm);
	DIAG_PMAP(pm);
}

void
pmap_unwire(pmap_t pm, vaddr_t va)
{
	CHECK_VA(pm, va);
	pmap_lock(pm);
	pmap_pte_t *ptep = pmap_pt_pte(pm, va);
	pmap_pte_t e = ptep != NULL ? pmap_pte_load(ptep) : 0;
	if (__predict_false(!pmap_pte_valid_p(e) || pmap_pte_kenter_p(e))) {
		pmap_unlock(pm);
		PMAP_PANIC("pmap %p va %#llx: %s", (void *)pm, (unsigned long long)va,
		    pmap_pte_valid_p(e) ? "pmap_kenter_pa mappings are always wired"
					: "not mapped");
	}
	if (pmap_pte_wired_p(pmap_pte_clear(ptep, PTE_WIRED)))
		pm_stat_add(pm, &pm->pm_wired, -1);
	pmap_unlock(pm);
	DIAG_PMAP(pm);
}

bool
pmap_extract(pmap_t pm, vaddr_t va, paddr_t *pap)
{
	pmap_pte_t e;
	vsize_t size;
	bool found;
	if (pmap_is_kernel(pm)) {
		/* Kernel page tables are never freed: no lock needed. */
		found = pmap_pt_leaf(pm, va, &e, &size);
	} else {
		pmap_lock(pm);
		found = pmap_pt_leaf(pm, va, &e, &size);
		pmap_unlock(pm);
	}
	if (found && pap != NULL)
		*pap = pmap_pte_leaf_pa(e, size, va);
	return found;
}

bool
pmap_mapping_info(pmap_t pm, vaddr_t va, struct pmap_mapping_info *mi)
{
	pmap_pte_t e;
	vsize_t size;
	if (!pmap_is_kernel(pm))
		pmap_lock(pm);
	bool found = pmap_pt_leaf(pm, va, &e, &size);
	if (!pmap_is_kernel(pm))
		pmap_unlock(pm);
	if (!found)
		return false;
	mi->mi_pa = pmap_pte_leaf_pa(e, size, va & ~(vaddr_t)PAGE_MASK);
	mi->mi_size = size;
	mi->mi_prot = pmap_pte_prot(e);
	mi->mi_wired = pmap_pte_wired_p(e);
	mi->mi_managed = pmap_pte_managed_p(e);
	mi->mi_kenter = pmap_pte_kenter_p(e);
	mi->mi_global = pmap_pte_global_p(e);
	mi->mi_referenced = pmap_pte_referenced_p(e);
	mi->mi_modified = pmap_pte_modified_p(e);
	mi->mi_cache = size == PAGE_SIZE ? pmap_pte_cache(e) : 0;
	return true;
}

/* ---- unmanaged kernel mappings ---- */

void
pmap_kenter_pa(vaddr_t va, paddr_t pa, vm_prot_t prot, u_int flags)
{
	CHECK_VA(PMAP_KERNEL, va);
	CHECK_ALIGNED("pa", pa);
	CHECK_PA("pa", pa);
	PMAP_KASSERTMSG((prot & VM_PROT_ALL) != 0, "va %#llx: protection is "
	    "VM_PROT_NONE", (unsigned long long)va);
	pmap_pte_t *ptep = pmap_pt_pte(PMAP_KERNEL, va);
	PMAP_KASSERTMSG(ptep != NULL, "va %#llx has no page table",
	    (unsigned long long)va);
	/* No tracking: enter it referenced and modified so the MMU never has
	 * to write A/D (and so its removal always invalidates). */
	pmap_pte_t n = pmap_md_pte_make(pa, prot, flags, true) | PTE_KENTER | PTE_WIRED |
	    PTE_REF | PTE_MOD;
	pmap_pte_t old = 0;
	if (__predict_false(!pmap_pte_cas(ptep, &old, n)))
		PMAP_PANIC("va %#llx is already mapped (pte %#llx)", (unsigned long long)va,
		    (unsigned long long)old);
	/* The slot was empty: no flush, unless the MMU caches empty slots. */
	if (pmap_md_invalid_cached_p())
		pmap_tlb_defer(PMAP_KERNEL, va);
	atomic_fetch_add(&PMAP_KERNEL->pm_resident, 1);
	atomic_fetch_add(&PMAP_KERNEL->pm_wired, 1);
}

void
pmap_kremove(vaddr_t va, vsize_t size)
{
	CHECK_ALIGNED("va", va);
	CHECK_ALIGNED("size", size);
	CHECK_RANGE(PMAP_KERNEL, va, va + size);
	for (vaddr_t a = va; a < va + size; a += PAGE_SIZE) {
		pmap_pte_t *ptep = pmap_pt_pte(PMAP_KERNEL, a);
		if (ptep == NULL)
			continue;
		pmap_pte_t e = pmap_pte_load(ptep);
		if (!pmap_pte_valid_p(e))
			continue;
		if (__predict_false(!pmap_pte_kenter_p(e))) {
			PMAP_PANIC("va %#llx is a %s mapping made by pmap_enter (pte %#llx); "
			    "use pmap_remove", (unsigned long long)a,
			    pmap_pte_managed_p(e) ? "managed" : "unmanaged",
			    (unsigned long long)e);
		}
		e = pmap_pte_swap(ptep, 0);
		atomic_fetch_sub(&PMAP_KERNEL->pm_resident, 1);
		atomic_fetch_sub(&PMAP_KERNEL->pm_wired, 1);
		if (pmap_pte_maybe_cached_p(e))
			pmap_tlb_defer(PMAP_KERNEL, a);
	}
}

/* ---- pmap_update, activation ---- */

void
pmap_update(pmap_t pm)
{
	PMAP_KASSERTMSG(pm != NULL, "NULL pmap");
	pmap_tlb_update(pm);
}

void
pmap_activate(struct lwp *l)
{
	pmap_host_preempt_disable();
	if (l != pmap_host_curlwp()) {
		/* It will be activated when it runs here. */
		pmap_host_preempt_enable();
		return;
	}
	pmap_t pm = pmap_host_lwp_pmap(l);
	int cpu = pmap_host_cpu_id();
	struct pmap_cpu *pc = &pmap_cpus[cpu];
	/*
	 * Interrupts off from reading pc_curpmap to recording the new one: an
	 * eviction of the old pmap (pmap_destroy on another CPU) taken in
	 * between would load the kernel's root over the one just loaded, and
	 * pc_curpmap would then claim a pmap the CPU does not run.
	 */
	pmap_intr_state_t s = pmap_host_intr_disable();
	pmap_t old = pc->pc_curpmap;
	if (old != pm) {
		bool keep = false;
		if (!pmap_is_kernel(pm)) {
			atomic_fetch_or(&pm->pm_active, 1ULL << cpu);	/* seq_cst */
			pmap_solo_wait(pm);	/* before this MMU can touch a PTE */
			/* After both (tlb.c, ADDRESS-SPACE IDENTIFIERS): is what this
			 * CPU cached of pm last time still good? */
			keep = pmap_tlb_asid_keep(pm, cpu);
		}
		pmap_md_activate(pm, keep);
		pc->pc_curpmap = pm;
		if (old != NULL && !pmap_is_kernel(old)) {
			pmap_tlb_asid_leave(old, cpu);
			atomic_fetch_and(&old->pm_active, ~(1ULL << cpu));
		}
	}
	pmap_host_intr_restore(s);
	pmap_host_preempt_enable();
}

void
pmap_deactivate(struct lwp *l)
{
	/*
	 * Lazy: the CPU keeps the old tables until another pmap is activated,
	 * saving a TLB flush when the kernel runs in between.  It stays in
	 * pm_active meanwhile, so shootdowns still reach it, and
	 * pmap_destroy evicts it before freeing the tables.
	 */
	(void)l;
}

/* ---- physical pages ---- */

void
pmap_zero_page(paddr_t pa)
{
	CHECK_ALIGNED("pa", pa);
	CHECK_PA("pa", pa);
	pmap_host_preempt_disable();
	void *p = pmap_md_tmp_map(pa);
	pmap_memzero(p, PAGE_SIZE);
	pmap_md_tmp_unmap(p);
	pmap_host_preempt_enable();
}

void
pmap_copy_page(paddr_t src, paddr_t dst)
{
	CHECK_ALIGNED("src", src);
	CHECK_ALIGNED("dst", dst);
	CHECK_PA("src", src);
	CHECK_PA("dst", dst);
	pmap_host_preempt_disable();
	void *d = pmap_md_tmp_map(dst), *s = pmap_md_tmp_map(src);
	pmap_memcopy(d, s, PAGE_SIZE);
	pmap_md_tmp_unmap(s);
	pmap_md_tmp_unmap(d);
	pmap_host_preempt_enable();
}

paddr_t
pmap_phys_address(paddr_t cookie)
{
	return pmap_md_phys_address(cookie);
}

void
pmap_procwr(struct proc *p, vaddr_t va, vsize_t size)
{
	(void)p;
	pmap_md_procwr(va, size);
}

vaddr_t
pmap_map_poolpage(paddr_t pa)
{
	return pmap_md_map_poolpage(pa);
}

paddr_t
pmap_unmap_poolpage(vaddr_t va)
{
	return pmap_md_unmap_poolpage(va);
}

void
pmap_prefer(vaddr_t hint, vaddr_t *vap, vsize_t sz, int td)
{
	/* Physically tagged caches: no aliasing to avoid. */
	(void)hint;
	(void)vap;
	(void)sz;
	(void)td;
}

vaddr_t
pmap_steal_memory(vsize_t size, vaddr_t *vstartp, vaddr_t *vendp)
{
	PMAP_KASSERTMSG(vstartp != NULL && vendp != NULL, "needs the virtual space "
	    "bounds from pmap_virtual_space");
	size = (size + PAGE_MASK) & ~(vsize_t)PAGE_MASK;
	vaddr_t va = *vstartp;
	PMAP_KASSERTMSG(va + size <= *vendp, "size %#llx does not fit in [%#llx, %#llx)",
	    (unsigned long long)size, (unsigned long long)va, (unsigned long long)*vendp);
	if (va + size > pmap_md_kva_grown())
		pmap_growkernel(va + size);
	for (vsize_t off = 0; off < size; off += PAGE_SIZE) {
		paddr_t pa;
		if (pmap_own_page_alloc(&pa) != 0)
			PMAP_PANIC("out of physical memory after %#llx of %#llx bytes",
			    (unsigned long long)off, (unsigned long long)size);
		pmap_zero_page(pa);
		pmap_kenter_pa(va + off, pa, VM_PROT_READ | VM_PROT_WRITE, 0);
	}
	*vstartp = va + size;
	return va;
}

/* ---- page-side operations ---- */

/* The leaf of a pv entry.  pp_lock held, so it exists (see pmap_impl.h). */
static pmap_pte_t *
pv_pte(struct pmap_page *pp, struct pmap_pv *pv)
{
	pmap_pte_t *ptep = pmap_pt_pte(pv_pmap(pp, pv), pv_va(pp, pv));
	PMAP_KASSERTMSG(ptep != NULL && pmap_pte_valid_p(pmap_pte_load(ptep)),
	    "page %p: pv entry (pmap %p va %#llx) has no valid PTE", (void *)pp,
	    (void *)pv_pmap(pp, pv), (unsigned long long)pv_va(pp, pv));
	return ptep;
}

/* Remove every managed mapping of pg (pmap_page_protect NONE). */
static void
page_remove_all(struct vm_page *pg, struct pmap_tlb_batch *b)
{
	struct pmap_page *pp = pmap_pp(pg);
	pp_lock(pp);
	struct pmap_pv *pv;
	while ((pv = pv_first(pp)) != NULL) {
		pmap_t pm = pv_pmap(pp, pv);
		vaddr_t va = pv_va(pp, pv);
		bool ref = false;
		if (!pmap_trylock(pm)) {
			/* Wrong lock order: back off and come in the right way. */
			uint32_t gen = pp->pp_gen;
			pmap_reference(pm);
			ref = true;
			pp_unlock(pp);
			pmap_lock(pm);
			pp_lock(pp);
			if (pp->pp_gen != gen) {
				pmap_unlock(pm);
				pp_unlock(pp);
				pmap_destroy(pm);
				pp_lock(pp);
				continue;
			}
		}
		pmap_pte_t *ptep = pv_pte(pp, pv);
		pmap_pte_t e = pmap_pte_swap(ptep, 0);
		struct pmap_pv *opv = pmap_pv_remove(pp, pm, va);
		pp_attrs_set(pp, pp_attrs_of_pte(e));
		pm_stat_add(pm, &pm->pm_resident, -1);
		if (pmap_pte_wired_p(e))
			pm_stat_add(pm, &pm->pm_wired, -1);
		if (pmap_pte_maybe_cached_p(e))
			pmap_tlb_sync_add(b, pm, va);
		pmap_pt_removed(pm, va, 1, b);
		if (opv != NULL) {
			pmap_pv_free(pm, opv);
			pv_count_add(-1);
		}
		pmap_unlock(pm);
		if (ref) {
			pp_unlock(pp);
			pmap_destroy(pm);
			pp_lock(pp);
		}
	}
	pp_unlock(pp);
}

void
pmap_page_protect(struct vm_page *pg, vm_prot_t prot)
{
	struct pmap_tlb_batch b;
	pmap_tlb_batch_init(&b);
	if ((prot & (VM_PROT_READ | VM_PROT_EXECUTE)) == 0) {
		page_remove_all(pg, &b);
		pmap_tlb_sync_run(&b);
		pmap_sfbuf_page_gone(pg);
		DIAG_PAGE(pg);
		return;
	}
	struct pmap_page *pp = pmap_pp(pg);
	pp_lock(pp);
	for (struct pmap_pv *pv = pv_first(pp); pv != NULL; pv = pv_next(pp, pv)) {
		pmap_pte_t *ptep = pv_pte(pp, pv);
		pmap_pte_t e = pmap_pte_load(ptep), n;
		do {
			n = pmap_pte_restrict(e, prot);	/* only ever lowers */
		} while (n != e && !pmap_pte_cas(ptep, &e, n));
		if (n != e && pmap_pte_maybe_cached_p(e))
			pmap_tlb_sync_add(&b, pv_pmap(pp, pv), pv_va(pp, pv));
	}
	pp_unlock(pp);
	pmap_tlb_sync_run(&b);
	DIAG_PAGE(pg);
}

/* Clear bit (A or D) in every mapping of pg and in its attributes;
 * returns whether it was set anywhere. */
static bool
page_clear(struct vm_page *pg, pmap_pte_t bit, uint8_t attr)
{
	struct pmap_page *pp = pmap_pp(pg);
	bool aclear = bit == PTE_REF;
	struct pmap_tlb_batch b;
	pmap_tlb_batch_init(&b);
	if (aclear)	/* before any A is cleared: see pmap_pte_maybe_cached_p */
		atomic_fetch_add_explicit(&pmap_aclear_inflight, 1, memory_order_relaxed);
	pp_lock(pp);
	/* A look before each locked AND: most bits are clear already.  A bit
	 * an MMU sets just after the look is a use after the clear, which the
	 * next test sees. */
	bool was = (__atomic_load_n(&pp->pp_attrs, __ATOMIC_RELAXED) & attr) != 0 &&
	    (__atomic_fetch_and(&pp->pp_attrs, (uint8_t)~attr, __ATOMIC_RELAXED) & attr) != 0;
	for (struct pmap_pv *pv = pv_first(pp); pv != NULL; pv = pv_next(pp, pv)) {
		pmap_pte_t *ptep = pv_pte(pp, pv);
		pmap_pte_t e = pmap_pte_load(ptep);
		if ((e & bit) != 0)
			e = pmap_pte_clear(ptep, bit);
		if (e & bit) {
			/* A TLB may hold this translation (A) or hold it dirty
			 * (D): it must re-walk before the next use or write. */
			was = true;
			pmap_tlb_sync_add(&b, pv_pmap(pp, pv), pv_va(pp, pv));
		}
	}
	pp_unlock(pp);
	pmap_tlb_sync_run(&b);
	if (aclear)	/* every CPU has dropped what it cached: A is truthful */
		atomic_fetch_sub_explicit(&pmap_aclear_inflight, 1, memory_order_release);
	DIAG_PAGE(pg);
	return was;
}

static bool
page_test(struct vm_page *pg, pmap_pte_t bit, uint8_t attr)
{
	struct pmap_page *pp = pmap_pp(pg);
	if (__atomic_load_n(&pp->pp_attrs, __ATOMIC_RELAXED) & attr)
		return true;
	bool set = false;
	pp_lock(pp);
	for (struct pmap_pv *pv = pv_first(pp); pv != NULL && !set; pv = pv_next(pp, pv))
		set = (pmap_pte_load(pv_pte(pp, pv)) & bit) != 0;
	pp_unlock(pp);
	return set;
}

bool
pmap_clear_modify(struct vm_page *pg)
{
	return page_clear(pg, PTE_MOD, PP_ATTR_MOD);
}

bool
pmap_clear_reference(struct vm_page *pg)
{
	return page_clear(pg, PTE_REF, PP_ATTR_REF);
}

bool
pmap_is_modified(struct vm_page *pg)
{
	return page_test(pg, PTE_MOD, PP_ATTR_MOD);
}

bool
pmap_is_referenced(struct vm_page *pg)
{
	return page_test(pg, PTE_REF, PP_ATTR_REF);
}

/* ---- consistency walkers ---- */

struct check_ctx {
	long cc_resident, cc_wired, cc_listed;
};

static void
check_leaf(pmap_t pm, vaddr_t va, pmap_pte_t e, vsize_t size, void *arg)
{
	struct check_ctx *cc = arg;
	if (pmap_is_kernel(pm)) {
		/* Direct map, kernel image and the temporary-mapping windows are
		 * the library's own, not counted in the statistics. */
		vaddr_t vs, ve;
		pmap_md_virtual_space(&vs, &ve);
		if (va < vs || va >= ve)
			return;
	}
	PMAP_KASSERTMSG(size == PAGE_SIZE, "pmap %p va %#llx: unexpected %#llx-byte leaf",
	    (void *)pm, (unsigned long long)va, (unsigned long long)size);
	PMAP_KASSERTMSG(pmap_is_kernel(pm) || !pmap_pte_kenter_p(e), "pmap %p va %#llx: "
	    "kenter mapping in a user pmap (pte %#llx)", (void *)pm,
	    (unsigned long long)va, (unsigned long long)e);
	cc->cc_resident++;
	if (pmap_pte_wired_p(e))
		cc->cc_wired++;
	struct vm_page *pg = pmap_host_phys_to_page(pmap_pte_pa(e));
	if (!pmap_pte_managed_p(e)) {
		PMAP_KASSERTMSG(pmap_pte_kenter_p(e) || pg == NULL, "pmap %p va %#llx: "
		    "pte %#llx of managed page %#llx lacks the managed bit", (void *)pm,
		    (unsigned long long)va, (unsigned long long)e,
		    (unsigned long long)pmap_pte_pa(e));
		return;
	}
	PMAP_KASSERTMSG(pg != NULL, "pmap %p va %#llx: managed pte %#llx has no vm_page",
	    (void *)pm, (unsigned long long)va, (unsigned long long)e);
	struct pmap_page *pp = pmap_pp(pg);
	int found = 0;
	pp_lock(pp);
	for (struct pmap_pv *pv = pv_first(pp); pv != NULL; pv = pv_next(pp, pv)) {
		if (pv_pmap(pp, pv) == pm && pv_va(pp, pv) == va) {
			found++;
			if (pv != PV_SLOT(pp))
				cc->cc_listed++;
		}
	}
	pp_unlock(pp);
	PMAP_KASSERTMSG(found == 1, "pmap %p va %#llx: managed pte %#llx has %d pv "
	    "entries on page %#llx", (void *)pm, (unsigned long long)va,
	    (unsigned long long)e, found, (unsigned long long)pmap_pte_pa(e));
}

void
pmap_check_pmap(pmap_t pm)
{
	struct check_ctx cc = { 0 };
	pmap_lock(pm);
	if (pmap_is_kernel(pm))
		pmap_pt_foreach_leaf(pm, PMAP_KVA_BASE, PMAP_KVA_MAX, check_leaf, &cc);
	else
		pmap_pt_foreach_leaf(pm, 0, PMAP_USER_MAX, check_leaf, &cc);
	long ptps = pmap_pt_check_ptps(pm);
	long listed = pmap_pv_count(pm);
	long res = atomic_load(&pm->pm_resident), wired = atomic_load(&pm->pm_wired);
	long have_ptps = pm->pm_ptps;
	pmap_unlock(pm);
	PMAP_KASSERTMSG(cc.cc_resident == res, "pmap %p: %ld valid leaves, resident "
	    "count %ld", (void *)pm, cc.cc_resident, res);
	PMAP_KASSERTMSG(cc.cc_wired == wired, "pmap %p: %ld wired leaves, wired count %ld",
	    (void *)pm, cc.cc_wired, wired);
	PMAP_KASSERTMSG(ptps == have_ptps, "pmap %p: %ld page-table pages linked, "
	    "counted %ld", (void *)pm, ptps, have_ptps);
	PMAP_KASSERTMSG(cc.cc_listed == listed, "pmap %p: %ld mappings use pv list "
	    "entries, its chunks hold %ld", (void *)pm, cc.cc_listed, listed);
}

void
pmap_check_page(struct vm_page *pg)
{
	struct pmap_page *pp = pmap_pp(pg);
	paddr_t pa = pmap_host_page_pa(pg);
	pp_lock(pp);
	for (struct pmap_pv *pv = pv_first(pp); pv != NULL; pv = pv_next(pp, pv)) {
		pmap_pte_t e = pmap_pte_load(pv_pte(pp, pv));
		PMAP_KASSERTMSG(pmap_pte_managed_p(e) && pmap_pte_pa(e) == pa, "page %#llx: "
		    "pv (pmap %p va %#llx) has pte %#llx", (unsigned long long)pa,
		    (void *)pv_pmap(pp, pv), (unsigned long long)pv_va(pp, pv),
		    (unsigned long long)e);
		for (struct pmap_pv *q = pv_next(pp, pv); q != NULL; q = pv_next(pp, q))
			PMAP_KASSERTMSG(pv_pmap(pp, q) != pv_pmap(pp, pv) ||
			    pv_va(pp, q) != pv_va(pp, pv),
			    "page %#llx: duplicate pv (pmap %p va %#llx)",
			    (unsigned long long)pa, (void *)pv_pmap(pp, q),
			    (unsigned long long)pv_va(pp, q));
	}
	pp_unlock(pp);
}
