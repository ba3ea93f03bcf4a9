// SPDX-License-Identifier: BSD-2-Clause
/*
 * pmap_impl.h - libpmap's private structures, locks and assertions.
 *
 * LOCK ORDER (take in this order; never the reverse):
 *
 *   1. pm_lock of one pmap            (pmap_enter, pmap_remove, ...)
 *   2. pp_lock of one or two pages    (two: in ascending physical order)
 *   3. the pv chunk / kmem allocators' internal locks, the sf_buf lock
 *
 * The only path that wants the reverse (page first, then the pmap that
 * maps it) is the removal of every mapping of a page
 * (pmap_page_protect(VM_PROT_NONE)).  It try-locks the pmap; on failure it
 * takes a reference, notes pp_gen, drops the page lock, locks the pmap,
 * re-locks the page and starts over if pp_gen moved.
 *
 * What each lock protects:
 *   pm_lock   the pmap's page-table tree (page-table pages, their valid
 *             counts), its pv chunks, and a user pmap's statistics
 *             (pm_resident, pm_wired: pm_stat_add).  Leaf PTEs are also
 *             changed without pm_lock by the page-side operations (clear
 *             modify/reference, write-protect), always with atomic
 *             operations; so every update of a valid PTE is a swap or a
 *             compare-and-swap, and the simulated or real MMU's A/D
 *             updates can never be lost.  Two exceptions, where no MMU
 *             can be setting A/D: a solo walk (pmap_solo_begin) and an
 *             entry that is not valid (pmap_pte_store_new).
 *
 * Two pmap locks nest only in pmap_copy, taken in address order.
 *   pp_lock   the page's pv list and pp_gen.  While a pv entry (pm, va)
 *             is on the list, the PTE of va in pm is valid and its
 *             page-table page cannot be freed, which is what lets the
 *             page-side operations walk pm's tables without pm_lock.
 *   atomics   the kernel pmap's statistics, pm_refcnt, pm_active,
 *             pm_remove_all, pp_attrs, pp_sfref, the library counters.
 *
 * Every spin lock disables preemption while held (the host may not switch
 * threads under a spin lock), and its spin loop serves incoming TLB
 * shootdowns, so a CPU spinning for a lock held by a CPU that waits for
 * its acknowledgement cannot deadlock.
 */
#ifndef PMAP_IMPL_H
#define PMAP_IMPL_H

#include <stdatomic.h>

#include <pmap/pmap.h>
#include <pmap/pmap_host.h>

#include "pmap_md_impl.h"

/*
 * ---- what every port's pmap_md.c provides (beside pmap_md_impl.h) ----
 */
/* Address spaces: a pmap's root (0 or PMAP_ENOMEM), loading it here. */
int pmap_md_pmap_init(pmap_t pm);
void pmap_md_pmap_fini(pmap_t pm);
/*
 * Load pm's root on this CPU (interrupts off).  Where cached translations
 * carry an address-space identifier (pmap_md_asids_p, in pmap_md_impl.h),
 * keep says whether this CPU's translations of pm cached under pm's
 * identifier are still good (tlb.c, ADDRESS-SPACE IDENTIFIERS): kept if
 * so, dropped if not.  Without identifiers keep is ignored and the
 * load drops every non-global translation.
 */
void pmap_md_activate(pmap_t pm, bool keep);
/* cpu's translations of pm cached under pm's identifier went stale; they
 * will be dropped before pm runs there again.  A hint the MD layer may pass
 * to its host (a TLB auditor); it changes no state.  Any CPU, any lock. */
void pmap_md_asid_stale(pmap_t pm, int cpu);
/* Hand out at most n identifiers per CPU before starting over (tests; 0:
 * the machine's number). */
void pmap_md_asid_limit(unsigned n);
/* The address map: user space, the KVA pmap_growkernel serves, the
 * direct map (always false without one), mappable physical addresses
 * (below the CPU's width), the first KVA the caller owns (below it, the
 * library's windows) and the end of the KVA with page tables. */
bool pmap_md_user_va_p(vaddr_t va);
bool pmap_md_kva_p(vaddr_t va);
bool pmap_md_dmap_p(vaddr_t va);
bool pmap_md_pa_ok_p(paddr_t pa);
vaddr_t pmap_md_kva_start(void);
vaddr_t pmap_md_kva_grown(void);
/* PMAP_MAP_POOLPAGE (a panic without a direct map), the mmap cookie's
 * meaning, the instruction-cache sync after a write. */
vaddr_t pmap_md_map_poolpage(paddr_t pa);
paddr_t pmap_md_unmap_poolpage(vaddr_t va);
paddr_t pmap_md_phys_address(paddr_t cookie);
void pmap_md_procwr(vaddr_t va, vsize_t size);
/* This CPU's TLB. */
void pmap_md_invalidate_page(vaddr_t va);
void pmap_md_invalidate_all(bool global);
/* The library's windows at the start of KVA. */
vaddr_t pmap_md_quick_va(int cpu);
vaddr_t pmap_md_ktemp_va(int i);
vaddr_t pmap_md_sfbuf_va(int i);
/* Boot, per-CPU setup, kernel page tables, pmap_virtual_space. */
void pmap_md_bootstrap(const struct pmap_bootinfo *bi);
void pmap_md_cpu_init(void);
vaddr_t pmap_md_growkernel(vaddr_t maxkvaddr);
void pmap_md_virtual_space(vaddr_t *vstartp, vaddr_t *vendp);

#define __predict_false(e)	__builtin_expect(!!(e), 0)
#define __predict_true(e)	__builtin_expect(!!(e), 1)

/*
 * Assertions.  PMAP_KASSERT prints the expression; PMAP_KASSERTMSG names
 * the function and the values that matter.  Neither evaluates anything
 * with side effects beyond its condition and arguments.
 */
#define PMAP_KASSERT(e) do {							\
	if (__predict_false(!(e)))						\
		pmap_host_panic("%s: assertion \"%s\" failed (%s:%d)",		\
		    __func__, #e, __FILE__, __LINE__);				\
} while (0)

#define PMAP_KASSERTMSG(e, fmt, ...) do {					\
	if (__predict_false(!(e)))						\
		pmap_host_panic("%s: " fmt " (%s:%d)", __func__,		\
		    ##__VA_ARGS__, __FILE__, __LINE__);				\
} while (0)

/* The same, for a helper that checks on behalf of the API function fn. */
#define PMAP_KASSERTMSG_FN(fn, e, fmt, ...) do {				\
	if (__predict_false(!(e)))						\
		pmap_host_panic("%s: " fmt " (%s:%d)", (fn),			\
		    ##__VA_ARGS__, __FILE__, __LINE__);				\
} while (0)

#define PMAP_PANIC(fmt, ...)							\
	pmap_host_panic("%s: " fmt " (%s:%d)", __func__, ##__VA_ARGS__,	\
	    __FILE__, __LINE__)

/* Freestanding memory helpers (the core has no libc). */
/* Index of the lowest set bit of a nonzero x (no libgcc on 32-bit). */
static inline int
pmap_ctz64(uint64_t x)
{
	uint32_t lo = (uint32_t)x;
	return lo != 0 ? __builtin_ctz(lo) : 32 + __builtin_ctz((uint32_t)(x >> 32));
}

static inline void
pmap_memzero(void *p, size_t n)
{
	uint64_t *q = p;
	for (size_t i = 0; i < n / 8; i++)
		q[i] = 0;
}

static inline void
pmap_memcopy(void *dst, const void *src, size_t n)
{
	uint64_t *d = dst;
	const uint64_t *s = src;
	for (size_t i = 0; i < n / 8; i++)
		d[i] = s[i];
}

/* ---- spin locks (a byte; see the lock order above) ---- */

void pmap_tlb_poll(void);

/* Take l; preemption already off. */
static inline void
pmap_spin_acquire(volatile uint8_t *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE) != 0) {
		while (__atomic_load_n(l, __ATOMIC_RELAXED) != 0) {
			pmap_tlb_poll();
			pmap_host_spin_wait();
		}
	}
}

static inline void
pmap_spin_lock(volatile uint8_t *l)
{
	pmap_host_preempt_disable();
	pmap_spin_acquire(l);
}

static inline bool
pmap_spin_trylock(volatile uint8_t *l)
{
	pmap_host_preempt_disable();
	if (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE) == 0)
		return true;
	pmap_host_preempt_enable();
	return false;
}

static inline void
pmap_spin_unlock(volatile uint8_t *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
	pmap_host_preempt_enable();
}

/* ---- the pmap ---- */

/* Deferred invalidations (tlb.c). */
struct pmap_tlb_batch {
	uint64_t tb_targets;		/* CPUs to invalidate on (sync batches) */
	unsigned tb_nva;
	bool tb_full;			/* overflowed: flush all non-global */
	bool tb_global;			/* and global (kernel) entries too */
	bool tb_kernel;			/* some queued address is a kernel one */
	struct pmap *tb_pm;		/* the user pmap it is all about, or NULL
					 * (named in its requests: tlb.c) */
	vaddr_t tb_va[PMAP_TLB_MAXVA];
	paddr_t tb_free_head;		/* page-table pages to free after it */
	unsigned tb_nfree;
	atomic_uint_least64_t tb_started; /* tickets handed out (batch's lock) */
	atomic_uint_least64_t tb_done;	/* tickets completed, in order */
};


struct pv_chunk;

struct pmap {
	volatile uint8_t pm_lock;
	bool pm_remove_all;		/* pmap_remove_all hint active (atomic) */
	atomic_int pm_refcnt;
	atomic_long pm_resident;
	atomic_long pm_wired;
	long pm_ptps;			/* page-table pages below the root (pm_lock) */
	atomic_uint_least64_t pm_active; /* CPUs whose MMU runs this pmap's tables */
	atomic_uint_least64_t pm_kept;	/* CPUs whose cached translations of it,
					 * under its address-space identifier,
					 * are still good (tlb.c; 0 without
					 * identifiers) */
	atomic_uint pm_solo;		/* a solo walk is on (pmap_solo_begin) */
	struct pv_chunk *pm_pvchunks;	/* chunks with free entries first (pm_lock) */
	struct pv_chunk *pm_pvtail;	/* the last of them (pm_lock) */
	struct pv_chunk *pm_pvspare;	/* an empty one kept (PMAP_MD_META_FREE_SHOOTS) */
	/* The leaf table last walked to (user pmaps, pm_lock): runs of
	 * pmap_enter skip the walk.  Valid while pm_leaf_pp is not NULL. */
	vaddr_t pm_leaf_va;		/* the base of the region it maps */
	paddr_t pm_leaf_pa;
	struct pmap_page *pm_leaf_pp;	/* its page (the valid-entry count) */
	struct pmap_md pm_md;
	struct pmap_tlb_batch pm_batch;	/* delayed invalidations (pm_lock; user pmaps) */
};

static inline pmap_pte_t *pmap_md_root(pmap_t pm) { return pmap_md_root_of(&pm->pm_md); }
static inline paddr_t pmap_md_root_pa(pmap_t pm) { return pmap_md_root_pa_of(&pm->pm_md); }

extern struct pmap pmap_kernel_store;
#define PMAP_KERNEL (&pmap_kernel_store)

/*
 * Statistics (pm_resident, pm_wired) change by n.  A user pmap's change
 * only under its pm_lock, so a load and a store do - no locked
 * instruction on pmap_enter's and pmap_remove's paths; readers
 * (pmap_resident_count, ...) load them without the lock.  The kernel
 * pmap's also change under no lock at all (pmap_kenter_pa, from
 * interrupts): a locked add.
 */
static inline void
pm_stat_add(pmap_t pm, atomic_long *st, long n)
{
	if (pm == &pmap_kernel_store)
		atomic_fetch_add_explicit(st, n, memory_order_relaxed);
	else
		atomic_store_explicit(st, atomic_load_explicit(st, memory_order_relaxed) + n,
		    memory_order_relaxed);
}

/* ---- the page-table tree (ptree.c) ---- */

/* Page-table pages pmap_enter may have to add for one address. */
struct pmap_ptp_prep {
	int pp_n;
	paddr_t pp_pages[PMAP_MD_LEVELS - 1];
	pmap_pte_t *pp_ptep;		/* the leaf slot, once the tables exist */
	paddr_t pp_ptpa;		/* the page table holding it */
	struct pmap_page *pp_ptpp;	/* and its page, when known */
};

/* Pointer to the level-1 leaf slot of va, or NULL if a table on the way is
 * missing (or va is mapped by a large page). */
pmap_pte_t *pmap_pt_pte(pmap_t pm, vaddr_t va);
/* Leaf of va at any level: entry, size; false if unmapped. */
bool pmap_pt_leaf(pmap_t pm, vaddr_t va, pmap_pte_t *leaf, vsize_t *size);
/* Allocate, unlinked, the tables va lacks.  0, or ENOMEM with nothing
 * changed.  When nothing lacks, prep->pp_ptep is the leaf slot (else NULL
 * until pmap_pt_commit).  pm_lock held. */
int pmap_pt_prepare(pmap_t pm, vaddr_t va, struct pmap_ptp_prep *prep);
void pmap_pt_prepare_abort(struct pmap_ptp_prep *prep);
/* Link the prepared tables and return va's leaf slot.  pm_lock held. */
pmap_pte_t *pmap_pt_commit(pmap_t pm, vaddr_t va, struct pmap_ptp_prep *prep);
/* n leaves of the table prep points into became valid: count them.
 * pm_lock held. */
void pmap_pt_added(pmap_t pm, const struct pmap_ptp_prep *prep, long n);
/* n leaves of the leaf table that maps va became invalid: keep counts,
 * and free page tables that became empty - after the invalidation,
 * through sync (a synchronous batch of the caller's) or, when sync is
 * NULL, pm's deferred batch.  pm_lock held. */
void pmap_pt_removed(pmap_t pm, vaddr_t va, long n, struct pmap_tlb_batch *sync);
/* Iterate leaf slots: the first address >= va and < eva whose leaf table
 * exists; *ptes points at its slot and *end at the end of that table's
 * range (clipped to eva).  Returns eva when there is none. */
vaddr_t pmap_pt_next(pmap_t pm, vaddr_t va, vaddr_t eva, pmap_pte_t **ptes,
    vaddr_t *end);
/* Every valid leaf of pm in [sva, eva) (checker). */
void pmap_pt_foreach_leaf(pmap_t pm, vaddr_t sva, vaddr_t eva,
    void (*fn)(pmap_t, vaddr_t, pmap_pte_t, vsize_t, void *), void *arg);
/* Check the page-table counts of pm (panics on a mismatch); returns the
 * number of page-table pages below the root. */
long pmap_pt_check_ptps(pmap_t pm);


/* Table pointers (pmap_md_table_ptr) live while this CPU holds a pmap's or
 * a page's lock, and die when it drops the outermost one: a pmap-side
 * operation takes pages' locks inside its pmap's (pv changes), and their
 * release must not end the tables it is still walking.  They die too when
 * it drops any pmap's lock: a page-side operation that locked the pmap
 * inside the page may have emptied a table, which the next pmap_update
 * frees (on any CPU), so no window of this CPU may still show it. */
static inline void pmap_lock(pmap_t pm) { pmap_spin_lock(&pm->pm_lock); pmap_md_tables_hold(pm == PMAP_KERNEL); }
static inline bool
pmap_trylock(pmap_t pm)
{
	if (!pmap_spin_trylock(&pm->pm_lock))
		return false;
	pmap_md_tables_hold(pm == PMAP_KERNEL);
	return true;
}
static inline void pmap_unlock(pmap_t pm) { pmap_md_tables_done(pm == PMAP_KERNEL, true); pmap_spin_unlock(&pm->pm_lock); }

/* ---- per-page data ---- */

#define PP_ATTR_REF	0x01	/* referenced (from a removed or cleared PTE's A) */
#define PP_ATTR_MOD	0x02	/* modified (from a removed or cleared PTE's D) */
#define PP_ATTR_WSTALE	0x04	/* a temporary-mapping window that mapped it may
				 * linger in other CPUs' TLBs until the kernel's
				 * delayed invalidations complete (tmpmap.c) */

static inline struct pmap_page *
pmap_pp(struct vm_page *pg)
{
	return pmap_host_page_md(pg);
}

static inline void pp_lock(struct pmap_page *pp) { pmap_spin_lock(&pp->pp_lock); pmap_md_tables_hold(false); }
/* Page-side operations reach their pmaps' tables with only pp_lock. */
static inline void pp_unlock(struct pmap_page *pp) { pmap_md_tables_done(false, false); pmap_spin_unlock(&pp->pp_lock); }
/* The same for a CPU holding a pmap's lock (pmap_enter, pmap_remove,
 * pmap_copy): preemption is off already, so two host calls per page fewer. */
static inline void pp_lock_inpm(struct pmap_page *pp) { pmap_spin_acquire(&pp->pp_lock); pmap_md_tables_hold(false); }
static inline void
pp_unlock_inpm(struct pmap_page *pp)
{
	pmap_md_tables_done(false, false);
	__atomic_store_n(&pp->pp_lock, 0, __ATOMIC_RELEASE);
}

static inline void
pp_attrs_set(struct pmap_page *pp, uint8_t bits)
{
	/* (A look first: a page's bits are mostly set already, and a locked
	 * OR costs more than the load.) */
	if ((__atomic_load_n(&pp->pp_attrs, __ATOMIC_RELAXED) & bits) != bits)
		__atomic_fetch_or(&pp->pp_attrs, bits, __ATOMIC_RELAXED);
}

/* Attributes a PTE being removed or cleared passes on to its page. */
static inline uint8_t
pp_attrs_of_pte(pmap_pte_t e)
{
	return (pmap_pte_referenced_p(e) ? PP_ATTR_REF : 0) |
	    (pmap_pte_modified_p(e) ? PP_ATTR_MOD : 0);
}

/* ---- pv entries (pv.c) ---- */

/*
 * A further mapping of a page: an entry of a pv chunk, a page of entries
 * owned by one pmap, whose header names it - so an entry needs only the
 * address and the link: 16 bytes (8 on a 32-bit machine).
 */
struct pmap_pv {
	vaddr_t pv_va;
	struct pmap_pv *pv_next;
};

/* Enough bitmap words for a page of entries. */
#define PV_CHUNK_WORDS	((PAGE_SIZE / sizeof(struct pmap_pv) + 63) / 64)

struct pv_chunk {
	pmap_t pc_pmap;				/* owner: every entry's pmap */
	struct pv_chunk *pc_next, *pc_prev;
	paddr_t pc_pa;
	vaddr_t pc_cookie;			/* pmap_md_meta_map's */
	uint64_t pc_free[PV_CHUNK_WORDS];	/* bit set = entry free */
	unsigned pc_nfree;
	unsigned pc_hint;			/* words below it are full */
	struct pmap_pv pc_pv[];
};

static inline struct pv_chunk *
pv_chunk_of(const struct pmap_pv *pv)
{
	return (struct pv_chunk *)((uintptr_t)pv & ~(uintptr_t)PAGE_MASK);
}

#define PV_PER_CHUNK ((PAGE_SIZE - sizeof(struct pv_chunk)) / sizeof(struct pmap_pv))

struct pmap_pv *pmap_pv_alloc_slow(pmap_t pm);
void pmap_pv_chunk_filled(pmap_t pm, struct pv_chunk *c);
void pmap_pv_chunk_corrupt(pmap_t pm, struct pv_chunk *c) __attribute__((noreturn));

/* The entry of chunk c (pm's, with a free entry) to use next. */
static inline struct pmap_pv *
pv_alloc_from(pmap_t pm, struct pv_chunk *c)
{
	/* Words below the hint are full; one at or above it has a free bit. */
	unsigned w = c->pc_hint;
	while (c->pc_free[w] == 0)
		if (__predict_false(++w == PV_CHUNK_WORDS))
			pmap_pv_chunk_corrupt(pm, c);
	c->pc_hint = w;
	unsigned b = (unsigned)pmap_ctz64(c->pc_free[w]);
	c->pc_free[w] &= ~(1ULL << b);
	if (__predict_false(--c->pc_nfree == 0))
		pmap_pv_chunk_filled(pm, c);
	if (__predict_false(c == pm->pm_pvspare))
		pm->pm_pvspare = NULL;
	return &c->pc_pv[w * 64 + b];
}

/* Take a free pv entry from pm's chunks; NULL when memory or the bound is
 * exhausted.  pm_lock held.  The caller counts it (pv_count_add). */
static inline struct pmap_pv *
pv_alloc(pmap_t pm)
{
	struct pv_chunk *c = pm->pm_pvchunks;
	if (__predict_false(c == NULL || c->pc_nfree == 0))
		return pmap_pv_alloc_slow(pm);
	return pv_alloc_from(pm, c);
}
/* Give one back.  pm_lock held.  The caller counts it (pv_count_add). */
void pmap_pv_free(pmap_t pm, struct pmap_pv *pv);
/* Add (pm, va) to the page's mappings, using pv (an entry of pm's) if the
 * in-place slot is taken (pv may be NULL only when the slot is free).
 * pp_lock held.  Returns true if pv was consumed. */
bool pmap_pv_insert(struct pmap_page *pp, pmap_t pm, vaddr_t va, struct pmap_pv *pv);
/* Remove (pm, va) from the page's mappings; returns the entry that held
 * it for pmap_pv_free, or NULL if it was the in-place slot.  Panics if absent.
 * pp_lock held. */
struct pmap_pv *pmap_pv_remove(struct pmap_page *pp, pmap_t pm, vaddr_t va);

static inline bool
pv_empty_p(const struct pmap_page *pp)
{
	return pp->pp_pv.pv_pmap == NULL && pp->pp_pvlist == NULL;
}

/* Is the in-place slot free (so a new mapping needs no entry)? */
static inline bool
pv_slot_free_p(const struct pmap_page *pp)
{
	return pp->pp_pv.pv_pmap == NULL;
}

/*
 * Iterate the page's mappings: pv_first, then pv_next until NULL; each
 * position's mapping is (pv_pmap, pv_va).  The in-place slot's position is
 * PV_SLOT(pp), which is no entry.  pp_lock held; do not remove the current
 * one while iterating.
 */
#define PV_SLOT(pp)	((struct pmap_pv *)(void *)&(pp)->pp_pv)

static inline struct pmap_pv *
pv_first(struct pmap_page *pp)
{
	return pp->pp_pv.pv_pmap != NULL ? PV_SLOT(pp) : pp->pp_pvlist;
}

static inline struct pmap_pv *
pv_next(struct pmap_page *pp, struct pmap_pv *pv)
{
	return pv == PV_SLOT(pp) ? pp->pp_pvlist : pv->pv_next;
}

static inline pmap_t
pv_pmap(struct pmap_page *pp, struct pmap_pv *pv)
{
	return pv == PV_SLOT(pp) ? pp->pp_pv.pv_pmap : pv_chunk_of(pv)->pc_pmap;
}

static inline vaddr_t
pv_va(struct pmap_page *pp, struct pmap_pv *pv)
{
	return pv == PV_SLOT(pp) ? pp->pp_pv.pv_va : pv->pv_va;
}

/* Entries of pm in use (for the checker). */
long pmap_pv_count(pmap_t pm);
void pmap_pv_release_spare(pmap_t pm);	/* give back the kept empty chunk */
/* pv entries in use, all CPUs (pmap_get_counters). */
uint64_t pmap_pv_entries_total(void);
/* Count n entries taken (or, negative, given back) by this CPU, once per
 * operation: the per-CPU count pmap_cpu.pc_pv_entries, changed under a
 * pmap's lock - preemption off, so by this CPU alone: a load and a
 * store, no shared cache line per entry.  (Defined after pmap_cpu.) */
static inline void pv_count_add(long n);

/* ---- TLB invalidation (tlb.c) ---- */

/*
 * May a TLB hold the translation of a leaf that was just swapped out (or
 * had its rights changed) and was `old` before?  The MD layer answers for
 * the hardware (pmap_md_pte_cached_p: where walks set A, only with A set) - but a
 * referenced bit cleared by pmap_clear_reference whose shootdown is still
 * on its way does not mean "not cached": between the two, A reads clear while other CPUs still
 * cache the translation.  pmap_clear_reference counts itself in
 * pmap_aclear_inflight from before it clears any A until its shootdown is
 * complete, and while that count is not zero no one trusts a clear A.
 * Ordering: the caller's swap or CAS of the PTE (acq_rel) read a value
 * written after the count went up (the clearing fetch_and is a release
 * that follows the increment), so this acquire load sees the count, or a
 * later decrement - which comes after that shootdown completed.
 */
extern atomic_uint pmap_aclear_inflight;

static inline bool
pmap_pte_maybe_cached_p(pmap_pte_t old)
{
	return pmap_md_pte_cached_p(old) ||
	    atomic_load_explicit(&pmap_aclear_inflight, memory_order_acquire) != 0;
}


void pmap_tlb_batch_init(struct pmap_tlb_batch *b);

/* Deferred: queue the invalidation of va in pm, completed by
 * pmap_update(pm) on any CPU.  A user pmap's batch is under pm_lock (held
 * by the caller); the kernel's are per CPU (any context, any locks). */
void pmap_tlb_defer(pmap_t pm, vaddr_t va);

/*
 * Solo walks (tlb.c).  While no other CPU's MMU runs a user pmap's tables
 * (pm_active holds at most this CPU), no MMU but ours can set A or D in its
 * PTEs, and ours sets no D while the kernel runs (it writes no user page
 * here) - so a PTE may be rewritten with a plain load and store instead of
 * a locked read-modify-write.  pmap_solo_begin (pm_lock held) says whether
 * that holds and, when it does, keeps it holding: a CPU activating pm waits
 * in pmap_activate until pmap_solo_end.  Renew at each page-table page of
 * a long walk, so that an activating CPU waits at most that long (begin
 * then sees its pm_active bit and says no).
 */
bool pmap_solo_begin(pmap_t pm);
void pmap_solo_end(pmap_t pm, bool solo);
/* A CPU that has just joined pm_active waits out a solo walk. */
void pmap_solo_wait(pmap_t pm);
/* The same for a page-table page of pm (pm_lock held), freed after the
 * invalidation that drops cached upper-level entries on pm's CPUs. */
void pmap_tlb_defer_free(pmap_t pm, vaddr_t va, paddr_t ptp);
/* pmap_update: complete every delayed invalidation of pm.  Any CPU, no
 * spin lock held. */
void pmap_tlb_update(pmap_t pm);

/* Synchronous: a batch on the caller's stack (pmap_tlb_batch_init), for
 * operations that take effect before they return.  add: after the PTE
 * change; run: complete it now (no spin lock held) and free its pages. */
void pmap_tlb_sync_add(struct pmap_tlb_batch *b, pmap_t pm, vaddr_t va);
void pmap_tlb_sync_add_cpus(struct pmap_tlb_batch *b, uint64_t cpus, vaddr_t va);
void pmap_tlb_sync_add_free(struct pmap_tlb_batch *b, pmap_t pm, vaddr_t va,
    paddr_t ptp);
void pmap_tlb_sync_run(struct pmap_tlb_batch *b);

/* pmap_activate(pm) on cpu, after joining pm_active and pmap_solo_wait:
 * may cpu keep what it cached of pm (false without address-space
 * identifiers)?  Interrupts off. */
bool pmap_tlb_asid_keep(pmap_t pm, int cpu);
/* pmap_activate on cpu, having loaded another root than old's. */
void pmap_tlb_asid_leave(pmap_t old, int cpu);
/* Make every CPU that has pm loaded switch to the kernel pmap; pm's
 * address-space identifiers die. */
void pmap_tlb_evict(pmap_t pm);
/* After pmap_tlb_evict of a dying pmap: free what its batch holds. */
void pmap_tlb_release(pmap_t pm);
/* CPUs the kernel pmap reaches: all of them. */
uint64_t pmap_all_cpus(void);

/* ---- per-CPU state ---- */

struct pmap_shootdown {
	unsigned sd_nva;
	bool sd_full, sd_global;
	struct pmap *sd_evict;		/* leave this pmap if it is loaded */
	struct pmap *sd_pm;		/* the user pmap it is about, or NULL */
	vaddr_t sd_va[PMAP_TLB_MAXVA];
	atomic_uint_least64_t sd_pending; /* targets that have not answered */
};

struct pmap_cpu {
	struct pmap *pc_curpmap;	/* the pmap this CPU's MMU runs (owner, intr off) */
	struct pmap_shootdown pc_sd;	/* our outgoing request (owner, intr off) */
	atomic_uint_least64_t pc_inbox;	/* initiators with a request for us */
	volatile uint8_t pc_kbatch_lock; /* pc_kbatch (taken with intr off) */
	struct pmap_tlb_batch pc_kbatch; /* deferred kernel invalidations */
	bool pc_quick_busy;		/* quick mapping in use (owner) */
	bool pc_quick_stale;		/* slot used since the last kernel update (atomic) */
	vaddr_t pc_quick_va;
	/* pv entries this CPU allocated minus those it freed (owner, under a
	 * pmap's lock: a load and a store, no shared cache line per entry). */
	long pc_pv_entries;
} __attribute__((aligned(64)));

extern struct pmap_cpu pmap_cpus[PMAP_MAXCPUS];

static inline struct pmap_cpu *
pmap_curcpu(void)
{
	return &pmap_cpus[pmap_host_cpu_id()];
}

static inline void
pv_count_add(long n)
{
	if (n == 0)
		return;
	long *p = &pmap_curcpu()->pc_pv_entries;
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

/* ---- library counters ---- */
struct pmap_counters_atomic {
	atomic_ullong pv_chunks, ptp_pages, kptp_pages, shootdowns,
	    shootdown_ipis, page_invals, full_flushes, pmaps;
};
extern struct pmap_counters_atomic pmap_ctr;
#define PMAP_CTR_ADD(f, n) atomic_fetch_add_explicit(&pmap_ctr.f, (n), memory_order_relaxed)

/* ---- small object allocator (kmem.c) ---- */
pmap_t pmap_kmem_alloc_pmap(void);
void pmap_kmem_free_pmap(pmap_t pm);

/* ---- temporary mappings (tmpmap.c) ---- */
extern bool pmap_ktemp_stale;		/* a ktemp window was used (atomic) */
void pmap_tmpmap_init(enum pmap_sfbuf_mode mode);
/* Drop an idle sf_buf mapping of the page (pmap_page_protect NONE, or the
 * page becoming the library's own). */
void pmap_sfbuf_page_gone(struct vm_page *pg);
/*
 * A page for the library's own use (page table, pv chunk, pmap
 * structures): pmap_host_page_alloc, then drop any idle sf_buf mapping of
 * it - the VM may have freed the page without pmap_page_protect (it had
 * no mappings the VM knows of), and no kernel alias may outlive its
 * becoming a page table.  0, or nonzero when the host has no page.
 */
int pmap_own_page_alloc(paddr_t *pap);

/* ---- misc helpers ---- */
static inline bool
pmap_is_kernel(pmap_t pm)
{
	return pm == PMAP_KERNEL;
}

#endif /* PMAP_IMPL_H */
