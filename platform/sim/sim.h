// SPDX-License-Identifier: BSD-2-Clause
/*
 * sim.h - the simulated machine: physical memory, CPUs, an x86 MMU (4-level
 * amd64 paging or legacy 32-bit i386 paging) with per-CPU TLBs and
 * paging-structure caches, and an auditor.
 *
 * The machine is a normal Linux process (64- or 32-bit).  Physical memory is
 * anonymous host memory; a "CPU" is a host thread that runs functions handed
 * to it and whose loads, stores and instruction fetches go through its own
 * MMU model.
 *
 * Why it exists: hardware and emulators flush more than the architecture
 * promises, which hides a missing TLB invalidation.  This MMU keeps every
 * translation (and every paging-structure-cache entry) for exactly as long as
 * the SDM allows in strict mode, so a pmap that forgets an INVLPG reads stale
 * data here, deterministically, instead of once a month in production.
 *
 * Threading: every function marked "on a CPU" must be called from a CPU
 * thread (inside sim_run_on()); the MMU state it touches is that CPU's own.
 * Functions marked "any thread" take the locks they need.
 */
#ifndef PMAP_SIM_H
#define PMAP_SIM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_MAXCPUS	64
#define SIM_MAXSEGS	8
#define SIM_PAGE_SIZE	4096ULL

/* ------------------------------------------------------------------ */
/* Configuration                                                       */
/* ------------------------------------------------------------------ */

struct sim_segment {
	uint64_t start;		/* first byte, page aligned */
	uint64_t end;		/* one past the last byte, page aligned */
};

enum sim_tlb_mode {
	SIM_TLB_STRICT,		/* never evict: stale entries live until invalidated */
	SIM_TLB_CAPACITY,	/* at most tlb_capacity entries, seeded random eviction */
};

/* When a walk faults, which Accessed bits has it already set? */
enum sim_ad_on_fault {
	SIM_AD_UPPER,		/* A set on each non-leaf entry the walk got past */
	SIM_AD_NONE,		/* a faulting walk changes nothing */
};

/*
 * The paging mode of every CPU, fixed for the machine's life.
 *
 *  AMD64  4-level paging (SDM vol. 3A 4.5): CR4.PAE always reads 1.
 *  I386   legacy 32-bit paging (4.3): CR4.PAE always reads 0 (setting it
 *         is SIM_GP: the model does not switch to PAE paging); 2 levels of
 *         4-byte entries, 4 MiB pages with CR4.PSE, MAXPHYADDR forced to
 *         32 (memory must end at or below 4 GiB).  No XD (EFER.NXE is kept
 *         but ignored: every readable page is executable), no PCIDs
 *         (CR4.PCIDE=1 and INVPCID are SIM_GP: this model's CPU has no
 *         INVPCID), no canonical rule.  Virtual addresses are 32 bits: an
 *         access, translation or walk of va >= 2^32 is a caller bug and
 *         returns SIM_GP (vector 13); INVLPG of such a va does nothing.
 *         The only paging-structure cache is the PDE cache.
 */
enum sim_paging {
	SIM_PAGING_AMD64 = 0,
	SIM_PAGING_I386,
};

struct sim_config {
	enum sim_paging paging;		/* default SIM_PAGING_AMD64 */
	int ncpus;			/* 1..SIM_MAXCPUS; 0 means 4 */
	int nsegs;			/* 0: one segment of mem_size at 1 MiB */
	struct sim_segment segs[SIM_MAXSEGS];
	uint64_t mem_size;		/* used when nsegs == 0; 0 means 64 MiB */
	enum sim_tlb_mode tlb_mode;
	unsigned tlb_capacity;		/* entries per CPU in SIM_TLB_CAPACITY mode */
	uint64_t seed;			/* eviction and allocation-failure RNG */
	int maxphyaddr;			/* physical address width; 0 means 46
					 * (32 in, and forced by, SIM_PAGING_I386) */
	/*
	 * Back physical memory with 4 MiB host chunks mapped on first touch
	 * instead of one mapping of [0, end of memory): costs an indirection
	 * per access, saves address space.  Always on in a 32-bit process,
	 * where 1.5 GiB of contiguous address space is not to be counted on.
	 */
	bool phys_sparse;
	/* Hand out pages from the top of memory down (default: bottom up), so
	 * a machine with more RAM than its kernel can map uses the pages it
	 * cannot map first. */
	bool alloc_top_down;
	/*
	 * Back physical memory with a shared-memory file, so that a page can
	 * also be mapped at a second host address of our choosing
	 * (sim_phys_alias), and that alias revoked: a host that gives its
	 * library pointers through windows can make a pointer that outlives
	 * its window fault, as it would on the hardware.
	 */
	bool phys_aliases;
	enum sim_ad_on_fault ad_on_fault;
	bool audit_on_free;		/* scan every TLB when a page is freed */
	/*
	 * sim_audit_pcid_dead also drops that PCID's entries on that CPU
	 * (unless it is the current one), as the CPU may evict any entry: they
	 * cannot be used again without a flush unless the library breaks its
	 * promise, which only a machine that keeps them can catch - so tests
	 * leave this off.  A long run (pmapsim) turns it on: otherwise every
	 * CPU's TLB fills up with the entries of every address space that ever
	 * ran there, and the free-time scan (audit_on_free) slows to a crawl.
	 */
	bool pcid_dead_drop;
	bool no_psc;			/* do not model paging-structure caches */
	/*
	 * Speculative fills (SDM vol. 3, 4.10.2.3: a processor may cache any
	 * translation the paging structures allow, at any time, setting A as
	 * it walks): at each access and each interrupt point, with this
	 * probability in millionths, the CPU fills its TLB with a present
	 * translation of its current address space chosen at random - an
	 * address it was never asked to translate.  Catches every shortcut
	 * that assumes "never touched here => not cached here".  0: off.
	 */
	uint32_t spec_fill_ppm;
	/*
	 * The deterministic scheduler (sched.c): CPUs run one at a time and
	 * switch only at interrupt points, spins and idle, as a strategy
	 * seeded by sched_seed decides - so a run is a function of its seed.
	 * Random walk: switch at a point with probability sched_switch_ppm
	 * (0 means 20000).  PCT: sched_pct_depth (0: 3) and the number of
	 * points over which its change points fall (0: 100000).
	 */
	enum sim_sched_mode { SIM_SCHED_OFF, SIM_SCHED_RANDOM, SIM_SCHED_PCT } sched;
	uint64_t sched_seed;
	uint32_t sched_switch_ppm;
	int sched_pct_depth;
	uint64_t sched_pct_horizon;
};

/* Fill *c with the defaults (amd64 paging, 4 CPUs, 64 MiB, strict TLB). */
void sim_config_default(struct sim_config *c);

/* Build the machine and start the CPU threads.  Any thread, once. */
void sim_init(const struct sim_config *c);
/* Stop the CPU threads and release everything.  Not on a CPU. */
void sim_fini(void);

/* ------------------------------------------------------------------ */
/* Physical memory (any thread)                                        */
/* ------------------------------------------------------------------ */

int sim_nsegs(void);
struct sim_segment sim_segment(int i);
uint64_t sim_phys_end(void);		/* highest segment end */
int sim_maxphyaddr(void);
bool sim_pa_is_ram(uint64_t pa);	/* inside a segment */

/* Host pointer to physical address pa (the "direct map" of the host).  Valid
 * for the rest of pa's 4 KiB page (not beyond it: memory may be sparse). */
void *sim_phys_ptr(uint64_t pa);

/*
 * Aliases (config phys_aliases): sim_phys_alias_area(n) reserves n pages
 * of host address space, inaccessible; sim_phys_alias(at, pa) maps the
 * page holding pa at the page at (inside such an area) and returns at;
 * sim_phys_unalias(at) makes it inaccessible again, so that a use of a
 * pointer into it is a segmentation fault.
 */
void *sim_phys_alias_area(size_t npages);
void *sim_phys_alias(void *at, uint64_t pa);
void sim_phys_unalias(void *at);

/* Page allocator over the segments.  0 on success, -1 when out of pages
 * or when fault injection says so. */
int sim_page_alloc(uint64_t *pap);
void sim_page_free(uint64_t pa);
bool sim_page_free_p(uint64_t pa);	/* is pa a page on the free list? */
uint64_t sim_pages_free(void);
uint64_t sim_pages_total(void);

/* Fault injection: fail the nth allocation from now (1 = the next one);
 * 0 disarms.  sim_alloc_fail_prob fails each allocation with probability
 * per_million / 1e6 using the machine's seeded RNG. */
void sim_alloc_fail_nth(uint64_t n);
void sim_alloc_fail_prob(uint32_t per_million);
uint64_t sim_alloc_count(void);		/* successful + failed attempts so far */
uint64_t sim_alloc_failures(void);

/* Host callback when a page is freed with audit_on_free set: called with
 * the violation text if some TLB still references the page.  Default: the
 * report is printed and the process aborts. */
void sim_set_free_violation_hook(void (*fn)(const char *report));
/* Turn the free-time check (sim_config.audit_on_free) on or off. */
void sim_set_audit_on_free(bool on);

/* ------------------------------------------------------------------ */
/* CPUs                                                                */
/* ------------------------------------------------------------------ */

int sim_ncpus(void);
/* The CPU this thread is, or -1 when not on a CPU. */
int sim_cpu_id(void);

/* One pointer of per-CPU data for the host layered on the machine (on a
 * CPU: this CPU's; sim_percpu_of: any CPU's, for setup). */
void *sim_percpu(void);
void sim_percpu_set(void *p);
void *sim_percpu_of(int cpu);

/* Run fn(arg) on cpu and wait for it.  From a CPU thread the caller keeps
 * taking its own interrupts while it waits. */
void sim_run_on(int cpu, void (*fn)(void *), void *arg);
/* Queue fn(arg) on cpu and return at once; sim_wait(cpu) waits until that
 * CPU has finished everything queued on it so far. */
void sim_run_async(int cpu, void (*fn)(void *), void *arg);
void sim_wait(int cpu);

/* Interrupt vectors.  A handler runs on the target CPU, at its next access
 * boundary, spin or idle point, and never inside a critical section. */
#define SIM_NVECTORS	8
#define SIM_VEC_SIGNAL	7	/* "a signal arrived": see sim_signal_pending() */
typedef void (*sim_intr_handler_t)(int vector);
void sim_set_intr_handler(int vector, sim_intr_handler_t fn);
/* Post vector to every CPU in mask (bit i = CPU i).  Any thread. */
void sim_send_ipi(uint64_t cpumask, int vector);

/* Critical sections (on a CPU): interrupts are held back until the
 * outermost sim_intr_restore(). */
void sim_intr_disable(void);
void sim_intr_restore(void);
/* Inside a critical section or an interrupt handler (which runs with
 * interrupts held back, as on x86)? */
bool sim_intr_disabled_p(void);
/* Take pending interrupts now if allowed; call in spin loops. */
void sim_cpu_relax(void);
/* An interrupt point: what a layer above the machine (the library's host
 * hooks) calls where a real CPU could be interrupted.  Takes pending
 * interrupts if allowed.  On a CPU. */
void sim_cpu_point(void);
/* The same, inline: one relaxed load when nothing is pending (and
 * neither speculative fills nor a scheduler want every point). */
extern __thread atomic_uint *sim_point_word;
extern bool sim_points_all;
static inline void
sim_cpu_point_fast(void)
{
	if (__builtin_expect(atomic_load_explicit(sim_point_word, memory_order_relaxed) != 0 ||
	    sim_points_all, 0))
		sim_cpu_point();
}
/* Has cpu an interrupt posted and not yet taken?  Any thread. */
bool sim_ipi_pending(int cpu);
/* Block until pred(arg) is true, taking interrupts meanwhile. */
void sim_cpu_wait(bool (*pred)(void *), void *arg);
/* Wake CPUs blocked in sim_cpu_wait so they re-check their predicate. */
void sim_cpu_kick(uint64_t cpumask);
/* Was a signal posted to this CPU (SIM_VEC_SIGNAL) and not yet consumed? */
bool sim_signal_pending(bool consume);

/* ------------------------------------------------------------------ */
/* The MMU: amd64 or i386 paging (on a CPU unless stated)              */
/* ------------------------------------------------------------------ */

enum sim_access {
	SIM_READ = 0,
	SIM_WRITE = 1,
	SIM_FETCH = 2,
};
#define SIM_ACC_TYPE	0x3
#define SIM_ACC_USER	0x4	/* CPL 3 */
#define SIM_ACC_AC	0x8	/* EFLAGS.AC = 1 (SMAP override) */

enum sim_result {
	SIM_OK = 0,
	SIM_PF = 1,		/* page fault: see sim_last_fault() */
	SIM_GP = 2,		/* general protection (non-canonical address;
				 * i386: va >= 2^32) */
};

struct sim_fault {
	uint64_t cr2;		/* faulting linear address */
	uint32_t error_code;	/* PGEX_* bits */
	int vector;		/* 14 for #PF, 13 for #GP */
};

/* Translate and perform one access of size 1, 2, 4 or 8 bytes. */
int sim_load(uint64_t va, int size, uint64_t *val, unsigned flags);
int sim_store(uint64_t va, int size, uint64_t val, unsigned flags);
/* An instruction fetch of one byte at va (value discarded). */
int sim_fetch(uint64_t va, unsigned flags);
/* Byte copies through the MMU; stop at the first fault. */
int sim_copyin(void *dst, uint64_t va, size_t len, unsigned flags);
int sim_copyout(uint64_t va, const void *src, size_t len, unsigned flags);
struct sim_fault sim_last_fault(void);

/* The result of translating va for one access, without performing it. */
struct sim_xlate {
	int result;		/* SIM_OK / SIM_PF / SIM_GP */
	uint64_t pa;		/* physical address of va */
	int level;		/* leaf level: 1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB;
				 * i386: 1 = 4 KiB, 2 = 4 MiB */
	unsigned memtype;	/* MT_* from the PAT */
	bool tlb_hit;
	struct sim_fault fault;
};
struct sim_xlate sim_translate(uint64_t va, unsigned flags);
/* A speculative walk of va now, as the processor may make at any time:
 * the paging-structure entries on the way are cached (A set), even if no
 * leaf maps va, and if one does its translation is cached too; no access
 * is made and nothing is reported.  On a CPU. */
void sim_spec_fill_va(uint64_t va);

/* Instructions and registers. */
void sim_invlpg(uint64_t va);
/* Returns 0, or SIM_GP for the cases the SDM raises #GP (and always in
 * i386 mode, whose CPU has no INVPCID). */
int sim_invpcid(int type, uint16_t pcid, uint64_t va);
int sim_write_cr3(uint64_t v);
uint64_t sim_read_cr3(void);
void sim_write_cr0(uint64_t v);
uint64_t sim_read_cr0(void);
int sim_write_cr4(uint64_t v);
uint64_t sim_read_cr4(void);
void sim_write_efer(uint64_t v);
uint64_t sim_read_efer(void);
void sim_write_pat(uint64_t v);
uint64_t sim_read_pat(void);

/* splitmix64, for layers above the machine that want a seeded stream. */
static inline uint64_t
sim_rng_next_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The deterministic scheduler's counters: points passed, CPU switches. */
struct sim_sched_stats {
	uint64_t points, switches;
};
struct sim_sched_stats sim_sched_stats(void);

/* Per-CPU counters (any thread). */
struct sim_cpu_stats {
	uint64_t accesses;
	uint64_t tlb_hits;
	uint64_t walks;
	uint64_t page_faults;
	uint64_t invlpg;
	uint64_t invpcid;
	uint64_t cr3_loads;
	uint64_t cr3_keeps;	/* of them, PCID loads with bit 63 (nothing dropped) */
	uint64_t flushes_full;	/* CR3/CR4/INVPCID flushes that dropped entries */
	uint64_t ipis_taken;
	uint64_t spec_fills;	/* speculative fills made (spec_fill_ppm) */
	uint64_t tlb_entries;	/* current */
	uint64_t psc_entries;	/* current */
};
struct sim_cpu_stats sim_cpu_stats(int cpu);
/* The counters alone (tlb_entries and psc_entries 0): no scan of the
 * caches, cheap enough to take around every quantum of a workload. */
struct sim_cpu_stats sim_cpu_counters(int cpu);
void sim_stats_reset(void);

/* ------------------------------------------------------------------ */
/* Test and audit support                                              */
/* ------------------------------------------------------------------ */

/* Walk va in the page tables rooted at cr3 without touching any cache or
 * A/D bit ("what would a fresh walk give now").  flags as for sim_load; the
 * CPU's control registers come from cpu. Any thread. */
struct sim_xlate sim_walk_pure(int cpu, uint64_t cr3, uint64_t va, unsigned flags);

/* Plant a TLB entry directly (for auditor tests).  level as in struct
 * sim_xlate; in i386 mode xd is ignored (no XD) and pcid must be 0.  On a
 * CPU. */
void sim_tlb_plant(uint64_t va, int level, uint64_t pa, uint16_t pcid,
    bool rw, bool us, bool xd, bool dirty, bool global);

/* Is there a TLB entry for va (current PCID or global) on this CPU?  */
bool sim_tlb_present(uint64_t va);

struct sim_audit_report {
	bool ok;
	int cpu;
	uint16_t pcid;
	uint64_t va;
	const char *rule;	/* which rule was broken */
	char text[512];		/* one human-readable paragraph */
};

/* Check every CPU's TLB and paging-structure caches against the page
 * tables of the PCID they belong to and against the free-page record.
 * Fills *r with the first violation.  Any thread; meaningful when no CPU
 * is changing page tables. Returns r->ok. */
bool sim_audit(struct sim_audit_report *r);

/* A direct map maps every page of RAM, free or not, by design: TLB entries
 * for virtual addresses in [start, end) are exempt from the freed-page
 * rule (they are still checked against the page tables).  Any thread. */
void sim_audit_direct_map(uint64_t start, uint64_t end);

/* Private windows: owner(va) names the CPU a virtual address is a private
 * window of, or -1.  Another CPU's TLB entry for such a window is not
 * audited at all - its layer uses a window only on the owner, which
 * invalidates it around each use, so a speculative copy elsewhere is never
 * used (the owner's own entries are audited as any).  Any thread. */
void sim_audit_private_windows(int (*owner)(uint64_t va));

/* Let the auditor skip the entries of (cpu, pcid) because their owner has
 * arranged for them to be flushed before they can be used again (lazy PCID
 * invalidation), while that PCID is not the current one: they may be stale
 * and point at freed pages.  Cleared by the next load of that PCID.  With
 * pcid_dead_drop (sim_config), also drops them unless pcid is current. */
void sim_audit_pcid_dead(int cpu, uint16_t pcid);

/* One-line dump of the TLB of cpu (for diagnostics). Any thread. */
void sim_tlb_dump(int cpu, void (*out)(const char *line, void *arg), void *arg);

#endif /* PMAP_SIM_H */
