// SPDX-License-Identifier: BSD-2-Clause
/*
 * mmu_amd64.c - a software model of the x86-64 MMU (4-level paging, and
 * legacy 32-bit paging in i386 mode) with per-CPU TLBs and paging-structure
 * caches, as Intel SDM vol. 3A chapter 4 describes them.
 *
 * What it models, and the rule each part follows:
 *
 *  Walk (4.5): PML4E -> PDPTE -> PDE -> PTE, with 1 GiB (PDPTE.PS) and
 *  2 MiB (PDE.PS) leaves.  At each level: P=0 is a not-present fault; a
 *  reserved bit (address bits at or above MAXPHYADDR, PS in a PML4E, the
 *  low frame bits of a large leaf, XD while EFER.NXE=0) is a RSVD fault.
 *  Access rights combine across levels (4.6): R/W and U/S are ANDed, XD is
 *  ORed; then CR0.WP, CR4.SMEP, CR4.SMAP and EFLAGS.AC decide.
 *
 *  A/D (4.8): the walk sets A in every entry it uses and, on a write, D in
 *  the leaf only; each update is a compare-and-swap, and if the entry
 *  changed under us the walk starts again from CR3 (the processor's locked
 *  update behaves the same way).  With SIM_AD_UPPER a walk that faults
 *  leaves A set in the non-leaf entries it got past; SIM_AD_NONE makes a
 *  faulting walk change nothing (the SDM allows both).
 *
 *  TLB (4.10.2): an entry is created only by a walk that succeeded for
 *  the access.  It holds the frame, the combined R/W, U/S and XD, whether
 *  the leaf was dirty, the PAT index, and the PCID (or G when CR4.PGE=1).
 *  Not-present translations are never cached.  Permissions are applied at
 *  access time, so changing CR0.WP or SMAP needs no flush.  A write
 *  through an entry cached clean re-walks to set D.  An access the cached
 *  rights forbid faults from the TLB (the "spurious" fault of 4.10.4.3),
 *  and any page fault drops the entries for that address.
 *
 *  Paging-structure caches (4.10.3): for every non-leaf entry used, the
 *  walk caches (PCID, VA prefix) -> next table and the rights so far; a
 *  later walk starts from the longest cached prefix, so a page-table page
 *  that was unlinked without invalidation keeps being walked.
 *
 *  Invalidation (4.10.4): INVLPG drops the page's entries for the current
 *  PCID and its global entries, and every paging-structure-cache entry of
 *  the current PCID; INVPCID types 0-3; MOV to CR3 (PCIDE=0: PCID 0; PCIDE=1:
 *  the new PCID unless bit 63 is set); MOV to CR4 toggling PGE or clearing
 *  PCIDE flushes all, setting SMEP flushes the current PCID.
 *
 *  Strict mode never evicts, so nothing disappears that the architecture
 *  lets survive; capacity mode evicts a seeded-random entry when full.
 *
 *  i386 mode (SIM_PAGING_I386, 4.3): the same walk, caches, flush floors,
 *  speculative fills and auditor hooks, with the geometry of sim_internal.h
 *  switched by the machine's mode - 2 levels (PD, PT) of 1024 4-byte
 *  entries, a PDE with PS=1 a 4 MiB leaf only while CR4.PSE=1 (its bits
 *  21:13 reserved, MAXPHYADDR being 32), no XD (nxe_p() is false whatever
 *  EFER says, so I/D is reported only for fetches with SMEP=1), no PCIDs
 *  (CR4.PCIDE and INVPCID are #GP), CR3 bits 63:32 #GP.  The only
 *  paging-structure cache is the PDE cache (kind 5), tagged by va[31:22];
 *  a 4 MiB TLB entry has kind 2.  A change of CR4.PSE flushes nothing: the
 *  SDM's list (4.10.4.1) names PGE, PCIDE 1->0, PAE and SMEP 0->1 only; the
 *  flush some processors do on PSE is "implementation specific" (vol. 2,
 *  MOV to CR) and software may not rely on it.
 */
#include <stdio.h>
#include <string.h>

#include "sim_internal.h"

/* ---------------------------------------------------------------- */
/* Physical accesses for the walker                                   */
/* ---------------------------------------------------------------- */

/* A paging-structure entry: 8 bytes, or 4 (zero-extended) in i386 mode. */
static inline uint64_t
pte_load(uint64_t pa)
{
	if (pa + sim_entry_size() > sim_m.m_phys_end)
		return sim_i386() ? 0xffffffffULL : ~0ULL;	/* the bus reads all ones */
	if (sim_i386())
		return __atomic_load_n((uint32_t *)sim_phys_at(pa), __ATOMIC_ACQUIRE);
	return __atomic_load_n((sim_u64a *)sim_phys_at(pa), __ATOMIC_ACQUIRE);
}

static inline bool
pte_cas(uint64_t pa, uint64_t old, uint64_t new)
{
	if (pa + sim_entry_size() > sim_m.m_phys_end)
		return true;	/* writes to nowhere are dropped */
	if (sim_i386()) {
		uint32_t o = (uint32_t)old;
		return __atomic_compare_exchange_n((uint32_t *)sim_phys_at(pa), &o,
		    (uint32_t)new, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	}
	return __atomic_compare_exchange_n((sim_u64a *)sim_phys_at(pa), &old, new,
	    false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static inline uint64_t
phys_read(uint64_t pa, int size)
{
	if (pa + (uint64_t)size > sim_m.m_phys_end)
		return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
	void *p = sim_phys_at(pa);
	switch (size) {
	case 1: return __atomic_load_n((uint8_t *)p, __ATOMIC_RELAXED);
	case 2: return __atomic_load_n((uint16_t *)p, __ATOMIC_RELAXED);
	case 4: return __atomic_load_n((uint32_t *)p, __ATOMIC_RELAXED);
	default: return __atomic_load_n((sim_u64a *)p, __ATOMIC_RELAXED);
	}
}

static inline void
phys_write(uint64_t pa, int size, uint64_t v)
{
	if (pa + (uint64_t)size > sim_m.m_phys_end)
		return;
	void *p = sim_phys_at(pa);
	switch (size) {
	case 1: __atomic_store_n((uint8_t *)p, (uint8_t)v, __ATOMIC_RELAXED); break;
	case 2: __atomic_store_n((uint16_t *)p, (uint16_t)v, __ATOMIC_RELAXED); break;
	case 4: __atomic_store_n((uint32_t *)p, (uint32_t)v, __ATOMIC_RELAXED); break;
	default: __atomic_store_n((sim_u64a *)p, v, __ATOMIC_RELAXED); break;
	}
}

/* ---------------------------------------------------------------- */
/* Rules                                                               */
/* ---------------------------------------------------------------- */

static inline uint16_t
cur_pcid(const struct sim_cpu *c)
{
	return (c->c_cr4 & CR4_PCIDE) ? (uint16_t)(c->c_cr3 & CR3_PCID_MASK) : 0;
}

/* Is XD in force?  Never in i386 mode: 32-bit paging has no XD bit. */
static inline bool
nxe_p(const struct sim_cpu *c)
{
	return (c->c_efer & EFER_NXE) != 0 && !sim_i386();
}

/* Does entry e at level violate a reserved-bit rule? */
static bool
rsvd_p(const struct sim_cpu *c, uint64_t e, int level)
{
	if (sim_i386()) {
		/* 4.3: only a 4 MiB PDE has reserved bits (21:13 with M = 32). */
		return level == I386_LVL_PD && sim_leaf_p(c, e, level) &&
		    (e & I386_PDE_RSVD_4M) != 0;
	}
	if (e & sim_m.m_maxpa_mask)
		return true;
	if (!nxe_p(c) && (e & PG_XD))
		return true;
	switch (level) {
	case AMD64_LVL_PML4:
		return (e & PG_PS) != 0;
	case AMD64_LVL_PDPT:
		return (e & PG_PS) && (e & PG_RSVD_1G);
	case AMD64_LVL_PD:
		return (e & PG_PS) && (e & PG_RSVD_2M);
	default:
		return false;
	}
}

/* May an access of kind flags use a translation with these rights? (4.6) */
static inline bool
access_ok(const struct sim_cpu *c, unsigned flags, bool rw, bool us, bool xd)
{
	unsigned type = flags & SIM_ACC_TYPE;
	if (flags & SIM_ACC_USER) {
		if (!us)
			return false;
		if (type == SIM_WRITE && !rw)
			return false;
		if (type == SIM_FETCH && xd)
			return false;
		return true;
	}
	if (type == SIM_FETCH) {
		if (xd)
			return false;
		return !(us && (c->c_cr4 & CR4_SMEP));
	}
	if (us && (c->c_cr4 & CR4_SMAP) && !(flags & SIM_ACC_AC))
		return false;
	if (type == SIM_WRITE && !rw && (c->c_cr0 & CR0_WP))
		return false;
	return true;
}

static uint32_t
pf_error_code(const struct sim_cpu *c, unsigned flags, bool present, bool rsvd)
{
	uint32_t ec = 0;
	unsigned type = flags & SIM_ACC_TYPE;
	if (present || rsvd)
		ec |= PGEX_P;
	if (type == SIM_WRITE)
		ec |= PGEX_W;
	if (flags & SIM_ACC_USER)
		ec |= PGEX_U;
	if (rsvd)
		ec |= PGEX_RSVD;
	/* I/D is reported only when NX or SMEP makes fetches special. */
	if (type == SIM_FETCH && (nxe_p(c) || (c->c_cr4 & CR4_SMEP)))
		ec |= PGEX_I;
	return ec;
}

/* ---------------------------------------------------------------- */
/* The walk                                                            */
/* ---------------------------------------------------------------- */

struct walk {
	int w_result;		/* SIM_OK or SIM_PF */
	uint32_t w_ec;
	int w_level;		/* leaf level */
	uint64_t w_frame;	/* leaf frame base */
	uint64_t w_leaf;	/* leaf entry after the update */
	bool w_rw, w_us, w_xd;
	unsigned w_pat;
	int w_fault_level;	/* level where the walk stopped, on a fault */
};

enum walk_mode {
	WALK_PURE = 0,		/* no side effects, no caches (auditor, probes) */
	WALK_PSC = 1,		/* may start from a paging-structure cache entry */
	WALK_COMMIT = 2,	/* set A/D, create paging-structure cache entries */
	WALK_CHECK = 4,		/* apply access rights (else report them only) */
};

static void psc_fill(struct sim_cpu *c, uint64_t va, int level, uint16_t pcid,
    uint64_t next, bool rw, bool us, bool xd, uint64_t entry);
static inline struct tc_entry *cache_find(struct sim_cpu *c, uint64_t key);

static int
walk(struct sim_cpu *c, uint64_t cr3, uint16_t pcid, uint64_t va, unsigned flags,
    int mode, struct walk *w)
{
	bool write = (flags & SIM_ACC_TYPE) == SIM_WRITE;
	bool commit = (mode & WALK_COMMIT) != 0;
	int top = sim_top_level();
	unsigned esize = sim_entry_size();
restart:;
	uint64_t table = cr3 & CR3_FRAME & ~sim_m.m_maxpa_mask;
	int level = top;
	bool rw = true, us = true, xd = false;

	if ((mode & WALK_PSC) && !sim_m.m_cfg.no_psc) {
		/* Longest cached prefix first: PDE, then PDPTE, then PML4E. */
		for (int l = AMD64_LVL_PD; l <= top; l++) {
			uint64_t base = va & ~(sim_level_size(l) - 1);
			struct tc_entry *p = cache_find(c,
			    tc_key(base, TC_KIND_PSC(l), false, pcid));
			if (p != NULL) {
				table = p->te_pa;
				level = l - 1;
				rw = p->te_rw;
				us = p->te_us;
				xd = p->te_xd;
				break;
			}
		}
	}

	for (; level >= AMD64_LVL_PT; level--) {
		uint64_t epa = table + (uint64_t)esize * sim_pt_index(va, level);
		uint64_t e = pte_load(epa);
		if (!(e & PG_P)) {
			w->w_result = SIM_PF;
			w->w_ec = pf_error_code(c, flags, false, false);
			w->w_fault_level = level;
			return SIM_PF;
		}
		if (rsvd_p(c, e, level)) {
			w->w_result = SIM_PF;
			w->w_ec = pf_error_code(c, flags, true, true);
			w->w_fault_level = level;
			return SIM_PF;
		}
		rw = rw && (e & PG_RW);
		us = us && (e & PG_US);
		if (nxe_p(c))
			xd = xd || (e & PG_XD);

		if (!sim_leaf_p(c, e, level)) {
			if (commit && !(e & PG_A)) {
				if (!pte_cas(epa, e, e | PG_A))
					goto restart;
				e |= PG_A;
			}
			uint64_t next = sim_entry_frame(c, e, level);
			if (commit && !sim_m.m_cfg.no_psc)
				psc_fill(c, va, level, pcid, next, rw, us, xd, e);
			table = next;
			continue;
		}

		w->w_level = level;
		w->w_rw = rw;
		w->w_us = us;
		w->w_xd = xd;
		w->w_frame = sim_entry_frame(c, e, level);
		w->w_pat = amd64_pat_index(e, level);	/* PAT: bit 7 (PTE) or 12 in both modes */
		if ((mode & WALK_CHECK) && !access_ok(c, flags, rw, us, xd)) {
			w->w_result = SIM_PF;
			w->w_ec = pf_error_code(c, flags, true, false);
			w->w_fault_level = level;
			w->w_leaf = e;
			return SIM_PF;
		}
		uint64_t ne = e | PG_A | (write ? PG_D : 0);
		if (commit && ne != e) {
			if (!pte_cas(epa, e, ne))
				goto restart;
			e = ne;
		}
		w->w_leaf = e;
		w->w_result = SIM_OK;
		return SIM_OK;
	}
	/* not reached: level 1 is always a leaf */
	return SIM_PF;
}

/* ---------------------------------------------------------------- */
/* TLB and paging-structure caches                                     */
/* ---------------------------------------------------------------- */

static bool
dead_pred(const struct tc_entry *e, void *arg)
{
	return !tc_live(arg, e);
}

/* Insert (or refresh) an entry with a fresh stamp. */
static void
cache_insert(struct sim_cpu *c, const struct tc_entry *e)
{
	struct tc_entry t = *e;
	pthread_mutex_lock(&c->c_tlb_lock);
	t.te_stamp = ++c->c_stamp;
	bool fresh = tc_lookup(&c->c_tc, t.te_key) == NULL;
	if (fresh && tc_full_p(&c->c_tc))
		tc_remove_if(&c->c_tc, dead_pred, c);	/* reclaim before growing */
	if (fresh && sim_m.m_cfg.tlb_mode == SIM_TLB_CAPACITY &&
	    c->c_tc.tc_count >= sim_m.m_cfg.tlb_capacity) {
		tc_remove_if(&c->c_tc, dead_pred, c);
		while (c->c_tc.tc_count >= sim_m.m_cfg.tlb_capacity)
			tc_evict_random(&c->c_tc, sim_rng_next(&c->c_rng));
		c->c_epoch++;
	}
	tc_insert(&c->c_tc, &t);
	pthread_mutex_unlock(&c->c_tlb_lock);
}

/* The live entry for key, or NULL (a dead one is removed on the way). */
static inline struct tc_entry *
cache_find(struct sim_cpu *c, uint64_t key)
{
	struct tc_entry *e = tc_lookup(&c->c_tc, key);
	if (e == NULL || tc_live(c, e))
		return e;
	pthread_mutex_lock(&c->c_tlb_lock);
	tc_remove(&c->c_tc, key);
	pthread_mutex_unlock(&c->c_tlb_lock);
	return NULL;
}

static void
psc_fill(struct sim_cpu *c, uint64_t va, int level, uint16_t pcid, uint64_t next,
    bool rw, bool us, bool xd, uint64_t entry)
{
	uint64_t base = va & ~(sim_level_size(level) - 1);
	struct tc_entry t = {
		.te_key = tc_key(base, TC_KIND_PSC(level), false, pcid),
		.te_va = base, .te_pa = next, .te_pcid = pcid,
		.te_kind = (uint8_t)TC_KIND_PSC(level),
		.te_rw = rw, .te_us = us, .te_xd = xd, .te_pte = entry,
	};
	struct tc_entry *cur = cache_find(c, t.te_key);
	if (cur != NULL && cur->te_pa == next && cur->te_rw == rw && cur->te_us == us &&
	    cur->te_xd == xd)
		return;
	cache_insert(c, &t);
}

static struct tc_entry *
tlb_fill(struct sim_cpu *c, uint64_t va, uint16_t pcid, const struct walk *w)
{
	uint64_t size = sim_level_size(w->w_level);
	uint64_t base = va & ~(size - 1);
	bool global = (c->c_cr4 & CR4_PGE) && (w->w_leaf & PG_G);
	struct tc_entry t = {
		.te_key = tc_key(base, TC_KIND_TLB(w->w_level), global, global ? 0 : pcid),
		.te_va = base, .te_pa = w->w_frame, .te_pcid = global ? 0 : pcid,
		.te_kind = (uint8_t)TC_KIND_TLB(w->w_level),
		.te_rw = w->w_rw, .te_us = w->w_us, .te_xd = w->w_xd,
		.te_dirty = (w->w_leaf & PG_D) != 0, .te_global = global,
		.te_pat = (uint8_t)w->w_pat, .te_pte = w->w_leaf,
	};
	cache_insert(c, &t);
	return tc_lookup(&c->c_tc, t.te_key);
}

/* The TLB entry that translates va for the current PCID, if any. */
static inline struct tc_entry *
tlb_find(struct sim_cpu *c, uint64_t va, uint16_t pcid)
{
	struct tcache *tc = &c->c_tc;
	int max = sim_max_leaf_level();
	for (int l = AMD64_LVL_PT; l <= max; l++) {
		if (tc->tc_kind_count[TC_KIND_TLB(l)] == 0)
			continue;
		uint64_t base = va & ~(sim_level_size(l) - 1);
		struct tc_entry *e = cache_find(c, tc_key(base, TC_KIND_TLB(l), false, pcid));
		if (e == NULL)
			e = cache_find(c, tc_key(base, TC_KIND_TLB(l), true, 0));
		if (e != NULL)
			return e;
	}
	return NULL;
}

/* Drop va's TLB entries for pcid (and its global ones if globals). */
static void
tlb_drop_va(struct sim_cpu *c, uint64_t va, uint16_t pcid, bool globals)
{
	int max = sim_max_leaf_level();
	for (int l = AMD64_LVL_PT; l <= max; l++) {
		uint64_t base = va & ~(sim_level_size(l) - 1);
		tc_remove(&c->c_tc, tc_key(base, TC_KIND_TLB(l), false, pcid));
		if (globals)
			tc_remove(&c->c_tc, tc_key(base, TC_KIND_TLB(l), true, 0));
	}
}

struct flush_sel {
	bool fs_tlb_nonglobal;	/* TLB entries without G */
	bool fs_tlb_global;	/* TLB entries with G */
	bool fs_psc;		/* paging-structure-cache entries */
	bool fs_one_pcid;	/* restrict non-global and PSC entries to fs_pcid */
	uint16_t fs_pcid;
};

/* Apply a flush selection by raising floors; caller holds c_tlb_lock. */
static void
flush_locked(struct sim_cpu *c, const struct flush_sel *s)
{
	uint64_t floor = ++c->c_stamp;
	if (s->fs_tlb_nonglobal) {
		if (s->fs_one_pcid)
			c->c_floor_tlb[s->fs_pcid] = floor;
		else
			c->c_floor_tlb_all = floor;
	}
	if (s->fs_tlb_global)
		c->c_floor_global = floor;
	if (s->fs_psc) {
		if (s->fs_one_pcid)
			c->c_floor_psc[s->fs_pcid] = floor;
		else
			c->c_floor_psc_all = floor;
	}
	if (s->fs_tlb_nonglobal || s->fs_tlb_global)
		STAT_INC(c, flushes_full);
	c->c_epoch++;
}

/*
 * Called from any thread.  Raises only that PCID's floors: the owner reads
 * them without the lock only for its current PCID, which pcid is not (the
 * caller checked under the lock, and a CR3 load takes it); no epoch bump
 * (the owner reads that without the lock), and none is needed: the
 * micro-TLB holds entries of the current PCID only past a CR3 load.
 */
void
sim_mmu_drop_pcid_locked(struct sim_cpu *c, uint16_t pcid)
{
	uint64_t floor = ++c->c_stamp;
	c->c_floor_tlb[pcid] = floor;
	c->c_floor_psc[pcid] = floor;
}

/* A page fault drops the TLB entries for va and every paging-structure
 * cache entry that would be used to translate it (4.10.4.1). */
static void
fault_drop(struct sim_cpu *c, uint64_t va, uint16_t pcid)
{
	pthread_mutex_lock(&c->c_tlb_lock);
	tlb_drop_va(c, va, pcid, true);
	int top = sim_top_level();
	for (int l = AMD64_LVL_PD; l <= top; l++) {
		uint64_t base = va & ~(sim_level_size(l) - 1);
		tc_remove(&c->c_tc, tc_key(base, TC_KIND_PSC(l), false, pcid));
	}
	c->c_epoch++;
	pthread_mutex_unlock(&c->c_tlb_lock);
}

/* ---------------------------------------------------------------- */
/* Translation                                                         */
/* ---------------------------------------------------------------- */

static struct sim_cpu *
need_cpu(const char *fn)
{
	struct sim_cpu *c = sim_self;
	if (c == NULL)
		sim_fatal("%s: not called on a simulated CPU", fn);
	return c;
}

static void
record_fault(struct sim_cpu *c, uint64_t va, uint32_t ec, int vector, struct sim_xlate *x)
{
	c->c_last_fault.cr2 = vector == 14 ? va : c->c_last_fault.cr2;
	c->c_last_fault.error_code = vector == 14 ? ec : 0;
	c->c_last_fault.vector = vector;
	x->result = vector == 14 ? SIM_PF : SIM_GP;
	x->fault = c->c_last_fault;
}

/*
 * Translate va for one access on CPU c.  The slow path (anything but a
 * micro-TLB hit) lives here; the inline fast path is in xlate_fast().
 */
static struct sim_xlate
xlate_slow(struct sim_cpu *c, uint64_t va, unsigned flags)
{
	struct sim_xlate x = { .result = SIM_OK };
	uint16_t pcid = cur_pcid(c);
	unsigned type = flags & SIM_ACC_TYPE;

	struct tc_entry *e = tlb_find(c, va, pcid);
	if (e != NULL) {
		if (!access_ok(c, flags, e->te_rw, e->te_us, e->te_xd)) {
			/* Spurious-or-not, the cached rights forbid it. */
			STAT_INC(c, page_faults);
			record_fault(c, va, pf_error_code(c, flags, true, false), 14, &x);
			fault_drop(c, va, pcid);
			return x;
		}
		if (type != SIM_WRITE || e->te_dirty) {
			STAT_INC(c, tlb_hits);
			x.tlb_hit = true;
			goto done;
		}
		/* A write through a clean entry: walk again to set D. */
	}

	STAT_INC(c, walks);
	struct walk w;
	int mode = WALK_PSC | WALK_COMMIT | WALK_CHECK;
	if (sim_m.m_cfg.ad_on_fault == SIM_AD_NONE &&
	    walk(c, c->c_cr3, pcid, va, flags, WALK_PSC | WALK_CHECK, &w) != SIM_OK) {
		STAT_INC(c, page_faults);
		record_fault(c, va, w.w_ec, 14, &x);
		fault_drop(c, va, pcid);
		return x;
	}
	if (walk(c, c->c_cr3, pcid, va, flags, mode, &w) != SIM_OK) {
		STAT_INC(c, page_faults);
		record_fault(c, va, w.w_ec, 14, &x);
		fault_drop(c, va, pcid);
		return x;
	}
	e = tlb_fill(c, va, pcid, &w);
done:
	x.level = e->te_kind;
	x.pa = e->te_pa + (va & (sim_level_size(e->te_kind) - 1));
	x.memtype = amd64_pat_type(c->c_pat, e->te_pat);

	struct utlb_entry *u = &c->c_utlb[(va >> 12) & (UTLB_SIZE - 1)];
	u->u_tag = (va & ~0xfffULL) | pcid;
	u->u_epoch = c->c_epoch;
	u->u_pa = x.pa & ~0xfffULL;
	u->u_rw = e->te_rw;
	u->u_us = e->te_us;
	u->u_xd = e->te_xd;
	u->u_dirty = e->te_dirty;
	return x;
}

/*
 * A speculative walk of va, as the processor may make at any moment: the
 * paging-structure entries on the way are cached (SDM vol. 3, 4.10.3.1:
 * even when no translation through them exists) with their A bits set,
 * and if a leaf maps va its translation is cached too.  No access is
 * made, nothing is reported, and - unlike a faulting access - a walk that
 * ends at a not-present entry keeps what it cached.  A supervisor read
 * with EFLAGS.AC set, so SMAP does not stop it at user pages.
 */
static void
spec_walk(struct sim_cpu *c, uint64_t va)
{
	if (!sim_va_ok(va))
		return;
	struct walk w;
	struct sim_fault saved = c->c_last_fault;
	if (walk(c, c->c_cr3, cur_pcid(c), va, SIM_READ | SIM_ACC_AC,
	    WALK_PSC | WALK_COMMIT | WALK_CHECK, &w) == SIM_OK)
		(void)xlate_slow(c, va, SIM_READ | SIM_ACC_AC);
	c->c_last_fault = saved;
	STAT_INC(c, spec_fills);
}

/*
 * A speculative fill at a random place of the current address space: at
 * each level the first present entry from a random index down - or, now
 * and then and where a table has none, an index at random, so that walks
 * ending short of a leaf happen too.
 */
static void
spec_fill(struct sim_cpu *c)
{
	uint64_t rnd = sim_rng_next(&c->c_rng);
	bool partial = (rnd & 0xf) == 0;	/* one in 16 may end anywhere */
	rnd >>= 4;
	uint64_t table = c->c_cr3 & CR3_FRAME & ~sim_m.m_maxpa_mask;
	uint64_t va = 0;
	unsigned bits = sim_idx_bits(), nent = 1u << bits, esize = sim_entry_size();
	for (int level = sim_top_level(); level >= AMD64_LVL_PT; level--) {
		unsigned start = (unsigned)(rnd & (nent - 1)), i = start;
		rnd = (rnd >> bits) | (rnd << (64 - bits));
		uint64_t e = 0;
		for (unsigned k = 0; k < nent && !partial; k++) {
			i = (start + k) & (nent - 1);
			e = pte_load(table + (uint64_t)esize * i);
			if (e & PG_P)
				break;
		}
		if (partial)
			e = pte_load(table + (uint64_t)esize * i);
		va |= (uint64_t)i << (12 + bits * (unsigned)(level - 1));
		if (!(e & PG_P) || rsvd_p(c, e, level)) {
			if (!partial)
				return;
			break;
		}
		if (sim_leaf_p(c, e, level))
			break;
		table = sim_entry_frame(c, e, level);
	}
	if (!sim_i386() && (va & (1ULL << 47)))
		va |= 0xffff000000000000ULL;	/* canonical upper half */
	spec_walk(c, va);
}

void
sim_spec_fill_va(uint64_t va)
{
	spec_walk(need_cpu("sim_spec_fill_va"), va);
}

void
sim_spec_point(struct sim_cpu *c)
{
	uint32_t ppm = sim_m.m_cfg.spec_fill_ppm;
	if (ppm != 0 && sim_rng_next(&c->c_rng) % 1000000 < ppm)
		spec_fill(c);
}

/* Returns SIM_OK and the physical address, or a fault. */
static inline int
xlate_fast(struct sim_cpu *c, uint64_t va, unsigned flags, uint64_t *pa)
{
	STAT_INC(c, accesses);
	if (__builtin_expect(!sim_va_ok(va), 0)) {
		struct sim_xlate x;
		record_fault(c, va, 0, 13, &x);
		return SIM_GP;
	}
	uint16_t pcid = cur_pcid(c);
	struct utlb_entry *u = &c->c_utlb[(va >> 12) & (UTLB_SIZE - 1)];
	if (u->u_tag == ((va & ~0xfffULL) | pcid) && u->u_epoch == c->c_epoch &&
	    access_ok(c, flags, u->u_rw, u->u_us, u->u_xd) &&
	    ((flags & SIM_ACC_TYPE) != SIM_WRITE || u->u_dirty)) {
		STAT_INC(c, tlb_hits);
		*pa = u->u_pa | (va & 0xfff);
		return SIM_OK;
	}
	/* Main TLB table, 4 KiB non-global entry: the common miss of the
	 * micro-TLB, kept out of the slow path. */
	struct tc_entry *e = tc_lookup(&c->c_tc, tc_key(va, TC_KIND_TLB(1), false, pcid));
	if (e != NULL && tc_live(c, e) && access_ok(c, flags, e->te_rw, e->te_us, e->te_xd) &&
	    ((flags & SIM_ACC_TYPE) != SIM_WRITE || e->te_dirty)) {
		STAT_INC(c, tlb_hits);
		u->u_tag = (va & ~0xfffULL) | pcid;
		u->u_epoch = c->c_epoch;
		u->u_pa = e->te_pa;
		u->u_rw = e->te_rw;
		u->u_us = e->te_us;
		u->u_xd = e->te_xd;
		u->u_dirty = e->te_dirty;
		*pa = e->te_pa | (va & 0xfff);
		return SIM_OK;
	}
	struct sim_xlate x = xlate_slow(c, va, flags);
	*pa = x.pa;
	return x.result;
}

struct sim_xlate
sim_translate(uint64_t va, unsigned flags)
{
	struct sim_cpu *c = need_cpu("sim_translate");
	sim_point(c);
	struct sim_xlate x = { .result = SIM_OK };
	if (!sim_va_ok(va)) {
		record_fault(c, va, 0, 13, &x);
		return x;
	}
	STAT_INC(c, accesses);
	return xlate_slow(c, va, flags);
}

int
sim_load(uint64_t va, int size, uint64_t *val, unsigned flags)
{
	struct sim_cpu *c = need_cpu("sim_load");
	sim_point(c);
	flags &= ~SIM_ACC_TYPE;
	uint64_t pa;
	if ((va & (uint64_t)(size - 1)) == 0) {
		int r = xlate_fast(c, va, flags | SIM_READ, &pa);
		if (r != SIM_OK)
			return r;
		*val = phys_read(pa, size);
		return SIM_OK;
	}
	/* Misaligned: byte by byte (each byte may be on its own page). */
	uint64_t v = 0;
	for (int i = 0; i < size; i++) {
		int r = xlate_fast(c, va + (uint64_t)i, flags | SIM_READ, &pa);
		if (r != SIM_OK)
			return r;
		v |= phys_read(pa, 1) << (8 * i);
	}
	*val = v;
	return SIM_OK;
}

int
sim_store(uint64_t va, int size, uint64_t val, unsigned flags)
{
	struct sim_cpu *c = need_cpu("sim_store");
	sim_point(c);
	flags &= ~SIM_ACC_TYPE;
	uint64_t pa;
	if ((va & (uint64_t)(size - 1)) == 0) {
		int r = xlate_fast(c, va, flags | SIM_WRITE, &pa);
		if (r != SIM_OK)
			return r;
		phys_write(pa, size, val);
		return SIM_OK;
	}
	/* Translate every byte first so a fault leaves memory untouched. */
	uint64_t pas[8];
	for (int i = 0; i < size; i++) {
		int r = xlate_fast(c, va + (uint64_t)i, flags | SIM_WRITE, &pas[i]);
		if (r != SIM_OK)
			return r;
	}
	for (int i = 0; i < size; i++)
		phys_write(pas[i], 1, val >> (8 * i));
	return SIM_OK;
}

int
sim_fetch(uint64_t va, unsigned flags)
{
	struct sim_cpu *c = need_cpu("sim_fetch");
	sim_point(c);
	uint64_t pa;
	return xlate_fast(c, va, (flags & ~SIM_ACC_TYPE) | SIM_FETCH, &pa);
}

int
sim_copyin(void *dst, uint64_t va, size_t len, unsigned flags)
{
	uint8_t *d = dst;
	for (size_t i = 0; i < len; i++) {
		uint64_t v;
		int r = sim_load(va + i, 1, &v, flags);
		if (r != SIM_OK)
			return r;
		d[i] = (uint8_t)v;
	}
	return SIM_OK;
}

int
sim_copyout(uint64_t va, const void *src, size_t len, unsigned flags)
{
	const uint8_t *s = src;
	for (size_t i = 0; i < len; i++) {
		int r = sim_store(va + i, 1, s[i], flags);
		if (r != SIM_OK)
			return r;
	}
	return SIM_OK;
}

struct sim_fault
sim_last_fault(void)
{
	return need_cpu("sim_last_fault")->c_last_fault;
}

/* ---------------------------------------------------------------- */
/* Instructions                                                        */
/* ---------------------------------------------------------------- */

void
sim_invlpg(uint64_t va)
{
	struct sim_cpu *c = need_cpu("sim_invlpg");
	STAT_INC(c, invlpg);
	if (!sim_va_ok(va))
		return;		/* INVLPG of a non-canonical address is a no-op (i386:
				 * of va >= 2^32, a caller bug, too) */
	uint16_t pcid = cur_pcid(c);
	pthread_mutex_lock(&c->c_tlb_lock);
	tlb_drop_va(c, va, pcid, true);
	struct flush_sel s = { .fs_psc = true, .fs_one_pcid = true, .fs_pcid = pcid };
	flush_locked(c, &s);
	pthread_mutex_unlock(&c->c_tlb_lock);
}

int
sim_invpcid(int type, uint16_t pcid, uint64_t va)
{
	struct sim_cpu *c = need_cpu("sim_invpcid");
	STAT_INC(c, invpcid);
	if (sim_i386())
		return SIM_GP;	/* this i386 CPU has no INVPCID (it would be #UD) */
	bool pcide = (c->c_cr4 & CR4_PCIDE) != 0;
	if (type < 0 || type > 3 || pcid > CR3_PCID_MASK)
		return SIM_GP;
	if (!pcide && (type == INVPCID_ADDR || type == INVPCID_CTX) && pcid != 0)
		return SIM_GP;
	if (type == INVPCID_ADDR && !amd64_va_canonical_p(va))
		return SIM_GP;
	struct flush_sel s = { 0 };
	pthread_mutex_lock(&c->c_tlb_lock);
	switch (type) {
	case INVPCID_ADDR:
		tlb_drop_va(c, va, pcid, false);
		s = (struct flush_sel){ .fs_psc = true, .fs_one_pcid = true, .fs_pcid = pcid };
		break;
	case INVPCID_CTX:
		s = (struct flush_sel){ .fs_tlb_nonglobal = true, .fs_psc = true,
			.fs_one_pcid = true, .fs_pcid = pcid };
		break;
	case INVPCID_ALL_GLOBAL:
		s = (struct flush_sel){ .fs_tlb_nonglobal = true, .fs_tlb_global = true,
			.fs_psc = true };
		break;
	case INVPCID_ALL:
		s = (struct flush_sel){ .fs_tlb_nonglobal = true, .fs_psc = true };
		break;
	}
	flush_locked(c, &s);
	pthread_mutex_unlock(&c->c_tlb_lock);
	return SIM_OK;
}

int
sim_write_cr3(uint64_t v)
{
	struct sim_cpu *c = need_cpu("sim_write_cr3");
	if (sim_i386() && (v >> 32) != 0)
		return SIM_GP;	/* a 32-bit register: bits 63:32 do not exist */
	bool pcide = (c->c_cr4 & CR4_PCIDE) != 0;
	if (!pcide && (v & CR3_NOFLUSH))
		return SIM_GP;
	bool noflush = pcide && (v & CR3_NOFLUSH);
	v &= ~CR3_NOFLUSH;
	if (v & sim_m.m_maxpa_mask)
		return SIM_GP;
	STAT_INC(c, cr3_loads);
	if (noflush)
		STAT_INC(c, cr3_keeps);
	uint16_t pcid = pcide ? (uint16_t)(v & CR3_PCID_MASK) : 0;
	pthread_mutex_lock(&c->c_tlb_lock);
	c->c_cr3 = v;
	c->c_pcid_root[pcid] = v & CR3_FRAME;
	c->c_pcid_dead[pcid] = 0;
	if (!noflush) {
		struct flush_sel s = { .fs_tlb_nonglobal = true, .fs_psc = true,
			.fs_one_pcid = true, .fs_pcid = pcid };
		flush_locked(c, &s);
	}
	c->c_epoch++;
	pthread_mutex_unlock(&c->c_tlb_lock);
	return SIM_OK;
}

uint64_t
sim_read_cr3(void)
{
	return need_cpu("sim_read_cr3")->c_cr3;
}

void
sim_write_cr0(uint64_t v)
{
	struct sim_cpu *c = need_cpu("sim_write_cr0");
	pthread_mutex_lock(&c->c_tlb_lock);
	c->c_cr0 = v | CR0_PG;	/* paging cannot be turned off here */
	c->c_epoch++;
	pthread_mutex_unlock(&c->c_tlb_lock);
}

uint64_t
sim_read_cr0(void)
{
	return need_cpu("sim_read_cr0")->c_cr0;
}

int
sim_write_cr4(uint64_t v)
{
	struct sim_cpu *c = need_cpu("sim_write_cr4");
	uint64_t old = c->c_cr4;
	if (sim_i386()) {
		/* PCIDE outside IA-32e mode is #GP; PAE would leave 32-bit paging,
		 * which this model does not do. */
		if (v & (CR4_PCIDE | CR4_PAE))
			return SIM_GP;
	} else {
		v |= CR4_PAE;	/* 4-level paging requires PAE */
	}
	if ((v & CR4_PCIDE) && !(old & CR4_PCIDE) && (c->c_cr3 & CR3_PCID_MASK))
		return SIM_GP;
	pthread_mutex_lock(&c->c_tlb_lock);
	if (((old ^ v) & CR4_PGE) || ((old & CR4_PCIDE) && !(v & CR4_PCIDE))) {
		struct flush_sel s = { .fs_tlb_nonglobal = true, .fs_tlb_global = true,
			.fs_psc = true };
		flush_locked(c, &s);
	} else if ((v & CR4_SMEP) && !(old & CR4_SMEP)) {
		struct flush_sel s = { .fs_tlb_nonglobal = true, .fs_psc = true,
			.fs_one_pcid = true, .fs_pcid = cur_pcid(c) };
		flush_locked(c, &s);
	}
	c->c_cr4 = v;
	c->c_epoch++;
	pthread_mutex_unlock(&c->c_tlb_lock);
	return SIM_OK;
}

uint64_t
sim_read_cr4(void)
{
	return need_cpu("sim_read_cr4")->c_cr4;
}

void
sim_write_efer(uint64_t v)
{
	struct sim_cpu *c = need_cpu("sim_write_efer");
	pthread_mutex_lock(&c->c_tlb_lock);
	c->c_efer = v;
	c->c_epoch++;
	pthread_mutex_unlock(&c->c_tlb_lock);
}

uint64_t
sim_read_efer(void)
{
	return need_cpu("sim_read_efer")->c_efer;
}

void
sim_write_pat(uint64_t v)
{
	struct sim_cpu *c = need_cpu("sim_write_pat");
	pthread_mutex_lock(&c->c_tlb_lock);
	c->c_pat = v;
	c->c_epoch++;
	pthread_mutex_unlock(&c->c_tlb_lock);
}

uint64_t
sim_read_pat(void)
{
	return need_cpu("sim_read_pat")->c_pat;
}

/* ---------------------------------------------------------------- */
/* Setup, statistics, test hooks                                       */
/* ---------------------------------------------------------------- */

void
sim_mmu_cpu_init(struct sim_cpu *c)
{
	pthread_mutex_init(&c->c_tlb_lock, NULL);
	tc_init(&c->c_tc);
	c->c_cr0 = CR0_PG | CR0_WP;
	c->c_cr3 = 0;
	c->c_cr4 = sim_i386() ? 0 : CR4_PAE;
	c->c_efer = sim_i386() ? 0 : EFER_NXE;
	c->c_pat = PAT_POWERON;
	c->c_epoch = 1;
	c->c_rng = sim_m.m_cfg.seed * 0x100000001b3ULL + (uint64_t)c->c_id + 1;
	for (int i = 0; i < UTLB_SIZE; i++)
		c->c_utlb[i].u_tag = ~0ULL;
}

void
sim_mmu_cpu_fini(struct sim_cpu *c)
{
	tc_fini(&c->c_tc);
	pthread_mutex_destroy(&c->c_tlb_lock);
}

struct sim_cpu_stats
sim_cpu_counters(int cpu)
{
	struct sim_cpu_stats s = { 0 };
	if (cpu < 0 || cpu >= sim_m.m_ncpus)
		return s;
	struct sim_cpu *c = &sim_m.m_cpus[cpu];
	s.accesses = STAT_GET(c, accesses);
	s.tlb_hits = STAT_GET(c, tlb_hits);
	s.walks = STAT_GET(c, walks);
	s.page_faults = STAT_GET(c, page_faults);
	s.invlpg = STAT_GET(c, invlpg);
	s.invpcid = STAT_GET(c, invpcid);
	s.cr3_loads = STAT_GET(c, cr3_loads);
	s.cr3_keeps = STAT_GET(c, cr3_keeps);
	s.flushes_full = STAT_GET(c, flushes_full);
	s.ipis_taken = STAT_GET(c, ipis_taken);
	s.spec_fills = STAT_GET(c, spec_fills);
	return s;
}

struct sim_cpu_stats
sim_cpu_stats(int cpu)
{
	struct sim_cpu_stats s = sim_cpu_counters(cpu);
	if (cpu < 0 || cpu >= sim_m.m_ncpus)
		return s;
	struct sim_cpu *c = &sim_m.m_cpus[cpu];
	pthread_mutex_lock(&c->c_tlb_lock);
	for (size_t i = 0; i <= c->c_tc.tc_mask; i++) {
		const struct tc_entry *e = &c->c_tc.tc_slots[i];
		if (e->te_key == 0 || !tc_live(c, e))
			continue;
		if (e->te_kind >= TC_KIND_PSC(AMD64_LVL_PD))
			s.psc_entries++;
		else
			s.tlb_entries++;
	}
	pthread_mutex_unlock(&c->c_tlb_lock);
	return s;
}

void
sim_stats_reset(void)
{
	for (int i = 0; i < sim_m.m_ncpus; i++) {
		struct sim_cpu *c = &sim_m.m_cpus[i];
		STAT_CLEAR(c, accesses);
		STAT_CLEAR(c, tlb_hits);
		STAT_CLEAR(c, walks);
		STAT_CLEAR(c, page_faults);
		STAT_CLEAR(c, invlpg);
		STAT_CLEAR(c, invpcid);
		STAT_CLEAR(c, cr3_loads);
		STAT_CLEAR(c, cr3_keeps);
		STAT_CLEAR(c, flushes_full);
		STAT_CLEAR(c, ipis_taken);
		STAT_CLEAR(c, spec_fills);
	}
}

struct sim_xlate
sim_walk_pure(int cpu, uint64_t cr3, uint64_t va, unsigned flags)
{
	struct sim_xlate x = { .result = SIM_OK };
	if (cpu < 0 || cpu >= sim_m.m_ncpus)
		sim_fatal("sim_walk_pure: no CPU %d", cpu);
	if (!sim_va_ok(va)) {
		x.result = SIM_GP;
		x.fault.vector = 13;
		return x;
	}
	struct sim_cpu *c = &sim_m.m_cpus[cpu];
	struct walk w;
	pthread_mutex_lock(&c->c_tlb_lock);	/* a consistent view of CR0/CR4/EFER */
	int r = walk(c, cr3, 0, va, flags, WALK_CHECK, &w);
	pthread_mutex_unlock(&c->c_tlb_lock);
	if (r != SIM_OK) {
		x.result = SIM_PF;
		x.fault.cr2 = va;
		x.fault.error_code = w.w_ec;
		x.fault.vector = 14;
		return x;
	}
	x.level = w.w_level;
	x.pa = w.w_frame + (va & (sim_level_size(w.w_level) - 1));
	x.memtype = amd64_pat_type(c->c_pat, w.w_pat);
	return x;
}

void
sim_tlb_plant(uint64_t va, int level, uint64_t pa, uint16_t pcid, bool rw, bool us,
    bool xd, bool dirty, bool global)
{
	struct sim_cpu *c = need_cpu("sim_tlb_plant");
	if (level < AMD64_LVL_PT || level > sim_max_leaf_level() || !sim_va_ok(va) ||
	    (sim_i386() && pcid != 0))
		sim_fatal("sim_tlb_plant: bad level %d, va %#llx or pcid %u", level,
		    (unsigned long long)va, pcid);
	if (sim_i386())
		xd = false;	/* no XD in 32-bit paging */
	uint64_t size = sim_level_size(level);
	struct tc_entry t = {
		.te_key = tc_key(va & ~(size - 1), TC_KIND_TLB(level), global, global ? 0 : pcid),
		.te_va = va & ~(size - 1), .te_pa = pa & ~(size - 1),
		.te_pcid = global ? 0 : pcid, .te_kind = (uint8_t)level,
		.te_rw = rw, .te_us = us, .te_xd = xd, .te_dirty = dirty,
		.te_global = global, .te_pat = 0,
	};
	cache_insert(c, &t);
	pthread_mutex_lock(&c->c_tlb_lock);
	c->c_epoch++;
	pthread_mutex_unlock(&c->c_tlb_lock);
}

bool
sim_tlb_present(uint64_t va)
{
	struct sim_cpu *c = need_cpu("sim_tlb_present");
	return tlb_find(c, va, cur_pcid(c)) != NULL;
}

/* ---- auditor support: exposed to audit.c through these two ---- */

/* Pure walk with the rights of every level reported, no access check. */
bool sim_mmu_audit_walk(struct sim_cpu *c, uint64_t root, uint64_t va, int stop_level,
    uint64_t *entry, uint64_t *frame, int *level, bool *rw, bool *us, bool *xd,
    unsigned *pat);

bool
sim_mmu_audit_walk(struct sim_cpu *c, uint64_t root, uint64_t va, int stop_level,
    uint64_t *entry, uint64_t *frame, int *level, bool *rw, bool *us, bool *xd,
    unsigned *pat)
{
	uint64_t table = root & CR3_FRAME;
	bool crw = true, cus = true, cxd = false;
	for (int l = sim_top_level(); l >= AMD64_LVL_PT; l--) {
		uint64_t e = pte_load(table + (uint64_t)sim_entry_size() * sim_pt_index(va, l));
		*entry = e;
		*level = l;
		if (!(e & PG_P) || rsvd_p(c, e, l))
			return false;
		crw = crw && (e & PG_RW);
		cus = cus && (e & PG_US);
		if (nxe_p(c))
			cxd = cxd || (e & PG_XD);
		*rw = crw;
		*us = cus;
		*xd = cxd;
		*frame = sim_entry_frame(c, e, l);
		if (l == stop_level || sim_leaf_p(c, e, l)) {
			*pat = sim_leaf_p(c, e, l) ? amd64_pat_index(e, l) : 0;
			return true;
		}
		table = sim_entry_frame(c, e, l);
	}
	return false;
}
