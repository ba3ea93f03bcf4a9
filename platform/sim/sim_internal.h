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

	/* Statistics: owner increments with relaxed atomics. */
	struct {
		atomic_ullong accesses, tlb_hits, walks, page_faults, invlpg,
		    invpcid, cr3_loads, flushes_full, ipis_taken, spec_fills;
	} c_st;
};

struct sim_machine {
	struct sim_config m_cfg;
	int m_ncpus;
	struct sim_cpu *m_cpus;

	/* Physical memory. */
	uint8_t *m_phys;		/* host mapping of [0, m_phys_end) */
	uint64_t m_phys_end;
	uint64_t m_maxpa_mask;		/* bits 51:MAXPHYADDR */

	/* Page allocator (m_alloc_lock). */
	pthread_mutex_t m_alloc_lock;
	uint64_t *m_free_stack;		/* page numbers */
	uint64_t m_free_top;
	uint64_t m_npages_total;
	uint8_t *m_free_map;		/* byte per page: 1 = free */
	uint64_t m_alloc_count, m_alloc_fail_count;
	uint64_t m_fail_nth;		/* 0 = off */
	uint32_t m_fail_ppm;
	uint64_t m_rng;

	sim_intr_handler_t m_handlers[SIM_NVECTORS];
	uint64_t m_dmap_start, m_dmap_end;	/* exempt from freed-page */
	void (*m_free_violation)(const char *);
};

extern struct sim_machine sim_m;
extern __thread struct sim_cpu *sim_self;

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
#define STAT_INC(c, f) atomic_store_explicit(&(c)->c_st.f, \
	atomic_load_explicit(&(c)->c_st.f, memory_order_relaxed) + 1, memory_order_relaxed)

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
