// SPDX-License-Identifier: BSD-2-Clause
/*
 * sim_internal.h - the machine's private structures.
 *
 * Ownership rules (the whole simulator rests on them):
 *  - A CPU's MMU state (control registers, TLB, paging-structure caches,
 *    micro-TLB) is changed only by that CPU's own thread.  The thread reads
 *    it without locks; it takes c_tlb_lock around every change so that the
 *    auditor, running on another thread, can read a consistent copy.
 *  - Interrupts are posted by any thread with an atomic OR into
 *    c_ipi_pending and a kick of c_cv; they are taken only by the owner.
 *  - Physical memory is shared; page-table entries are read and updated
 *    with atomic operations (the pmap does the same on its side), data
 *    accesses with relaxed atomics so racing accesses are defined.
 */
#ifndef PMAP_SIM_INTERNAL_H
#define PMAP_SIM_INTERNAL_H

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>

#include "sim.h"
#include "i386_paging.h"
#include <pmap/amd64_pte.h>

/* ---- translation cache: an open-addressing hash table ---- */

/*
 * One table holds both TLB entries and paging-structure-cache entries; the
 * key says which.  Key layout:
 *
 *   63            16 15  13  12    11      0
 *  +----------------+------+-----+---------+
 *  | base VA >> 12  | kind | glb |  PCID   |
 *  +----------------+------+-----+---------+
 *
 * kind 1..3: TLB entry for a page of level 1 (4K), 2 (2M), 3 (1G);
 * kind 5..7: paging-structure cache of a PDE (5), PDPTE (6), PML4E (7),
 *            i.e. kind = 3 + level of the cached entry.
 * In i386 mode only kinds 1 (4K), 2 (4M) and 5 (PDE cache) exist.
 * A key is never 0, so 0 marks an empty slot.
 */
#define TC_KIND_TLB(level)	(level)
#define TC_KIND_PSC(level)	(3 + (level))
#define TC_GLOBAL		(1u << 12)

struct tc_entry {
	uint64_t te_key;
	uint64_t te_va;		/* base of the region (page or PSC prefix) */
	uint64_t te_pa;		/* page frame, or next table for a PSC entry */
	uint16_t te_pcid;
	uint8_t te_kind;
	uint8_t te_rw : 1,	/* combined R/W of every level used */
	    te_us : 1,		/* combined U/S */
	    te_xd : 1,		/* combined XD (with NXE) */
	    te_dirty : 1,	/* filled or updated with D = 1 */
	    te_global : 1;
	uint8_t te_pat;		/* PAT index of the leaf */
	uint64_t te_stamp;	/* fill time; see "flush floors" in sim_cpu */
	uint64_t te_pte;	/* the entry as read at fill time (diagnostics) */
};

struct tcache {
	struct tc_entry *tc_slots;
	size_t tc_mask;		/* nslots - 1 */
	size_t tc_count;
	size_t tc_kind_count[8];
};

void tc_init(struct tcache *tc);
/* Would the next insertion of a new key grow the table? */
bool tc_full_p(const struct tcache *tc);
void tc_fini(struct tcache *tc);
struct tc_entry *tc_lookup(struct tcache *tc, uint64_t key);
struct tc_entry *tc_insert(struct tcache *tc, const struct tc_entry *e);
void tc_remove(struct tcache *tc, uint64_t key);
/* Remove every entry for which pred returns true; returns how many. */
size_t tc_remove_if(struct tcache *tc, bool (*pred)(const struct tc_entry *, void *),
    void *arg);
/* Remove one pseudo-random entry (capacity mode). */
void tc_evict_random(struct tcache *tc, uint64_t rnd);
/* Iterate every entry. */
void tc_foreach(struct tcache *tc, void (*fn)(const struct tc_entry *, void *), void *arg);

static inline uint64_t
tc_key(uint64_t base_va, unsigned kind, bool global, uint16_t pcid)
{
	return ((base_va & 0x0000fffffffff000ULL) << 4) | ((uint64_t)kind << 13) |
	    (global ? TC_GLOBAL : 0) | (pcid & 0xfffu);
}

/* ---- micro-TLB: last translations, valid for one epoch ---- */
#define UTLB_SIZE	64
struct utlb_entry {
	uint64_t u_tag;		/* (va >> 12) << 12 | pcid, or ~0 */
	uint64_t u_epoch;
	uint64_t u_pa;		/* physical page of this 4 KiB virtual page */
	uint8_t u_rw, u_us, u_xd, u_dirty;
};

/* ---- one CPU ---- */
/* A 64-bit word 8-aligned in 32-bit processes too: a 64-bit atomic must
 * not straddle a cache line (and clang -m32 insists). */
typedef uint64_t sim_u64a __attribute__((aligned(8)));

struct sim_work {
	void (*w_fn)(void *);
	void *w_arg;
	struct sim_work *w_next;
	bool w_heap;		/* freed by the runner */
	atomic_bool w_done;
	int w_waiter;		/* CPU to kick when done, or -1 */
};

struct sim_cpu {
	int c_id;
	pthread_t c_thread;

	/* Work queue and blocking (c_lock). */
	pthread_mutex_t c_lock;
	pthread_cond_t c_cv;
	struct sim_work *c_work_head, *c_work_tail;
	uint64_t c_work_queued, c_work_done;	/* (c_lock) */
	bool c_stop;

	/* Interrupts. */
	atomic_uint c_ipi_pending;	/* bit per vector */
	atomic_bool c_signal;		/* SIM_VEC_SIGNAL latched */
	atomic_uint c_kick;		/* sim_cpu_kick generation */
	int c_intr_off;			/* critical-section depth (owner) */
	bool c_in_intr;			/* inside a handler (owner) */

	/* MMU state (owner writes under c_tlb_lock; owner reads freely). */
	pthread_mutex_t c_tlb_lock;
	uint64_t c_cr0, c_cr3, c_cr4, c_efer, c_pat;
	struct tcache c_tc;
	uint64_t c_epoch;		/* bumped by every invalidation */
	/*
	 * Flush floors make whole-context flushes O(1): every cache entry is
	 * stamped from c_stamp when filled, and an entry whose stamp is below
	 * the floor that applies to it is dead (treated as absent, removed
	 * when met).  A flush just raises a floor to a fresh stamp.
	 */
	uint64_t c_stamp;
	uint64_t c_floor_tlb[4096];	/* non-global TLB entries of one PCID */
	uint64_t c_floor_psc[4096];	/* paging-structure caches of one PCID */
	uint64_t c_floor_tlb_all;	/* non-global TLB entries of every PCID */
	uint64_t c_floor_psc_all;	/* paging-structure caches of every PCID */
	uint64_t c_floor_global;	/* global TLB entries */
	struct utlb_entry c_utlb[UTLB_SIZE];
	uint64_t c_rng;
	uint64_t c_pcid_root[4096];	/* last CR3 frame loaded with each PCID */
	uint8_t c_pcid_dead[4096];	/* auditor hint: flush pending */

	struct sim_fault c_last_fault;
	void *c_percpu;			/* the host's per-CPU data (owner) */

	/* Statistics: owner increments with relaxed atomics (__atomic
	 * builtins on 8-aligned fields: an _Atomic 64-bit member's alignment
	 * on i386 changed between compiler versions, and a 64-bit atomic
	 * must not straddle a cache line). */
	struct {
		sim_u64a accesses, tlb_hits, walks, page_faults, invlpg,
		    invpcid, cr3_loads, cr3_keeps, flushes_full, ipis_taken, spec_fills;
	} c_st;
};

struct sim_machine {
	struct sim_config m_cfg;
	int m_ncpus;
	struct sim_cpu *m_cpus;

	bool m_i386;			/* m_cfg.paging == SIM_PAGING_I386 */

	/* Physical memory: one host mapping of [0, m_phys_end), or (m_phys
	 * NULL) SIM_CHUNK_SIZE chunks mapped on first touch (sim_phys_at). */
	uint8_t *m_phys;
	uint8_t **m_chunks;		/* sparse: chunk i backs [i, i+1) << SHIFT */
	int m_phys_fd;			/* phys_aliases: the backing file, else -1 */
	size_t m_nchunks;
	uint64_t m_phys_end;
	uint64_t m_maxpa_mask;		/* bits 51:MAXPHYADDR */

	/* Page allocator (m_alloc_lock). */
	pthread_mutex_t m_alloc_lock;
	uint32_t *m_free_stack;		/* page numbers (memory ends <= 2^44) */
	uint64_t m_free_top;
	uint64_t m_npages_total;
	uint64_t *m_free_map;		/* bit per page below m_phys_end: 1 = free */
	uint64_t m_alloc_count, m_alloc_fail_count;
	uint64_t m_fail_nth;		/* 0 = off */
	uint32_t m_fail_ppm;
	uint64_t m_rng;

	sim_intr_handler_t m_handlers[SIM_NVECTORS];
	uint64_t m_dmap_start, m_dmap_end;	/* exempt from freed-page */
	int (*m_window_owner)(uint64_t va);	/* sim_audit_private_windows */
	void (*m_free_violation)(const char *);
};

extern struct sim_machine sim_m;
extern __thread struct sim_cpu *sim_self;

/* ---- physical memory ---- */
#define SIM_CHUNK_SHIFT	22		/* sparse backing: 4 MiB chunks */
#define SIM_CHUNK_SIZE	(1ULL << SIM_CHUNK_SHIFT)

/* Map the chunk of index i (sparse backing) and return it. */
uint8_t *sim_phys_chunk(size_t i);

/* Host address of physical byte pa < m_phys_end; valid to the end of pa's
 * 4 KiB page (a chunk is a whole number of pages). */
static inline uint8_t *
sim_phys_at(uint64_t pa)
{
	if (__builtin_expect(sim_m.m_phys != NULL, 1))
		return sim_m.m_phys + pa;
	size_t i = (size_t)(pa >> SIM_CHUNK_SHIFT);
	uint8_t *ch = __atomic_load_n(&sim_m.m_chunks[i], __ATOMIC_ACQUIRE);
	if (__builtin_expect(ch == NULL, 0))
		ch = sim_phys_chunk(i);
	return ch + (size_t)(pa & (SIM_CHUNK_SIZE - 1));
}

/* Is page number pn free?  Caller holds m_alloc_lock. */
static inline bool
sim_free_map_test(uint64_t pn)
{
	return (sim_m.m_free_map[pn / 64] >> (pn % 64)) & 1;
}

/* ---- paging geometry of the machine's mode (amd64 or i386) ---- */

static inline bool
sim_i386(void)
{
	return sim_m.m_i386;
}

/* The level of the entries CR3 points at: PML4 (4) or the i386 PD (2). */
static inline int
sim_top_level(void)
{
	return sim_i386() ? I386_LVL_PD : AMD64_LVL_PML4;
}

/* The largest leaf: 1 GiB (level 3) or 4 MiB (level 2). */
static inline int
sim_max_leaf_level(void)
{
	return sim_i386() ? I386_LVL_PD : AMD64_LVL_PDPT;
}

/* Index bits per level (9 or 10) and bytes per entry (8 or 4). */
static inline unsigned
sim_idx_bits(void)
{
	return sim_i386() ? I386_IDX_BITS : 9;
}

static inline unsigned
sim_entry_size(void)
{
	return sim_i386() ? I386_ENTRY_SIZE : 8;
}

/* Bytes mapped by one entry of level: 4K/2M/1G/512G or 4K/4M. */
static inline uint64_t
sim_level_size(int level)
{
	return 1ULL << (12 + sim_idx_bits() * (unsigned)(level - 1));
}

/* Index of va in the paging structure of level. */
static inline unsigned
sim_pt_index(uint64_t va, int level)
{
	unsigned bits = sim_idx_bits();
	return (unsigned)(va >> (12 + bits * (unsigned)(level - 1))) & ((1u << bits) - 1);
}

/* May va be translated at all?  amd64: canonical; i386: below 2^32. */
static inline bool
sim_va_ok(uint64_t va)
{
	return sim_i386() ? va < I386_VA_LIMIT : amd64_va_canonical_p(va);
}

/* Is entry e at level a leaf for CPU c?  i386: a PDE with PS=1 is one only
 * while CR4.PSE=1; otherwise PS is ignored (4.3). */
static inline bool
sim_leaf_p(const struct sim_cpu *c, uint64_t e, int level)
{
	if (sim_i386())
		return level == I386_LVL_PT || ((e & I386_PG_PS) && (c->c_cr4 & CR4_PSE));
	return pte_leaf_p(e, level);
}

/* Frame of the page, or next table, that e at level points at. */
static inline uint64_t
sim_entry_frame(const struct sim_cpu *c, uint64_t e, int level)
{
	if (sim_i386())
		return level == I386_LVL_PD && sim_leaf_p(c, e, level) ?
		    e & I386_PDE_FRAME_4M : e & I386_FRAME;
	return pte_frame(e, level);
}

/* Internal entry points shared between files. */
void sim_phys_init(const struct sim_config *c);
void sim_phys_fini(void);
void sim_cpus_init(void);
void sim_cpus_fini(void);
void sim_mmu_cpu_init(struct sim_cpu *c);
void sim_mmu_cpu_fini(struct sim_cpu *c);
void sim_take_interrupts(struct sim_cpu *c);
/* A speculative fill, if the dice say so (spec_fill_ppm). */
void sim_spec_point(struct sim_cpu *c);

/* The deterministic scheduler (sched.c). */
extern bool sim_det;
extern bool sim_points_all;
void sim_sched_init(const struct sim_config *c, int ncpus);
void sim_sched_point(struct sim_cpu *c);
void sim_sched_spin(struct sim_cpu *c);
uint64_t sim_sched_wakes(struct sim_cpu *c);
void sim_sched_idle(struct sim_cpu *c, uint64_t seen);
void sim_sched_exit(struct sim_cpu *c);
void sim_sched_wake(struct sim_cpu *c);
/* Scan every CPU's caches for a reference to physical page pa; fills text
 * and returns true on a hit. */
bool sim_audit_page_referenced(uint64_t pa, char *text, size_t len);
/* Drop every non-global TLB and paging-structure-cache entry of pcid on c
 * (c_tlb_lock held): sim_config.pcid_dead_drop. */
void sim_mmu_drop_pcid_locked(struct sim_cpu *c, uint16_t pcid);

static inline struct sim_cpu *
sim_cur(void)
{
	return sim_self;
}

/* Take pending interrupts at an access boundary (inline fast check). */
static inline void
sim_poll(struct sim_cpu *c)
{
	if (__builtin_expect(atomic_load_explicit(&c->c_ipi_pending,
	    memory_order_relaxed) != 0, 0) && c->c_intr_off == 0 && !c->c_in_intr)
		sim_take_interrupts(c);
}

/* An interrupt point (MMU access, host hook): a speculative fill and a
 * scheduler decision if those are on, then pending interrupts. */
static inline void
sim_point(struct sim_cpu *c)
{
	if (__builtin_expect(sim_points_all, 0)) {
		sim_spec_point(c);
		if (sim_det)
			sim_sched_point(c);
	}
	sim_poll(c);
}

static inline uint64_t
sim_rng_next(uint64_t *s)
{
	return sim_rng_next_u64(s);	/* splitmix64 (sim.h) */
}

/* Counters have one writer (the owning CPU): a relaxed load and store is
 * enough and avoids a locked instruction on the hot path. */
#define STAT_INC(c, f) __atomic_store_n(&(c)->c_st.f, \
	__atomic_load_n(&(c)->c_st.f, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED)
#define STAT_GET(c, f) __atomic_load_n(&(c)->c_st.f, __ATOMIC_RELAXED)
#define STAT_CLEAR(c, f) __atomic_store_n(&(c)->c_st.f, 0, __ATOMIC_RELAXED)

/* Is cache entry e of CPU c still alive (not below a flush floor)? */
static inline bool
tc_live(const struct sim_cpu *c, const struct tc_entry *e)
{
	if (e->te_kind >= TC_KIND_PSC(2))
		return e->te_stamp >= c->c_floor_psc[e->te_pcid] &&
		    e->te_stamp >= c->c_floor_psc_all;
	if (e->te_global)
		return e->te_stamp >= c->c_floor_global;
	return e->te_stamp >= c->c_floor_tlb[e->te_pcid] &&
	    e->te_stamp >= c->c_floor_tlb_all;
}

void sim_fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif /* PMAP_SIM_INTERNAL_H */
