// SPDX-License-Identifier: BSD-2-Clause
/*
 * ptest.h - the portable test API.
 *
 * A test written against <pmap/pmap.h> and this header runs unchanged on
 * the simulated machine (platform/sim/ptest_sim.c) and on the real one
 * (platform/pc/ptest_pc.c).  Each test file is one suite:
 *
 *     PTEST_SUITE(enter_remove)
 *     {
 *             ...checks with ok(), is_u64() from tap.h...
 *     }
 *
 * The body runs on CPU 0 with the library booted.  On the simulated
 * machine every suite is its own program; on the real machine the kernel
 * runs all suites one after the other and prints a single TAP stream.
 *
 * Facilities only one machine has (the TLB auditor, allocation fault
 * injection) are behind ptest_have_*() so a test can skip cleanly.
 */
#ifndef PMAP_TESTS_PTEST_H
#define PMAP_TESTS_PTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pmap/pmap.h>

#include "tap.h"

/* User addresses far from the low ones (UVA): PTEST_UVA_FAR is under
 * another root-table entry, PTEST_UVA_TOP near the top of user space. */
#if PMAP_USER_MAX > 0xffffffffULL
#define PTEST_UVA_FAR	((vaddr_t)0x0000008000000000ULL)
#define PTEST_UVA_TOP	((vaddr_t)0x00007f0000000000ULL)
#else
#define PTEST_UVA_FAR	((vaddr_t)0x80000000UL)
#define PTEST_UVA_TOP	((vaddr_t)0xb0000000UL)
#endif

/* ---- suites ---- */

struct ptest_suite {
	const char *ps_name;
	void (*ps_body)(void);
};

int ptest_standalone_main(const struct ptest_suite *s, int argc, char **argv);
#ifdef PTEST_STANDALONE
#define PTEST_MAIN_(name)						\
	int main(int argc, char **argv)					\
	{								\
		return ptest_standalone_main(&ptest_suite_##name, argc, argv); \
	}
#else
#define PTEST_MAIN_(name)
#endif

#define PTEST_SUITE(name)						\
	static void ptest_body_##name(void);				\
	__attribute__((used, section("ptest_suites")))			\
	const struct ptest_suite ptest_suite_##name = { #name, ptest_body_##name }; \
	PTEST_MAIN_(name)						\
	static void ptest_body_##name(void)

/* A test's scale factor: 1 on the simulated machine, smaller where time
 * is dearer (the real machine under emulation).  Use for loop counts. */
unsigned ptest_scale_percent(void);
/* The seed of this run (PTEST_SEED in the environment on the simulated
 * machine; fixed on the real one). */
uint64_t ptest_seed(void);

/* splitmix64: the same stream for a seed on every machine. */
static inline uint64_t
ptest_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* snprintf, on every machine (the real one has no libc). */
int ptest_snprintf(char *buf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- CPUs ---- */

int ptest_ncpus(void);
int ptest_cpu(void);
void ptest_run_on(int cpu, void (*fn)(void *), void *arg);
void ptest_run_async(int cpu, void (*fn)(void *), void *arg);
void ptest_wait(int cpu);
/* Spin politely (lets this CPU take interrupts). */
void ptest_relax(void);
/* Hold this CPU's interrupts back (as cli does) / let them in again. */
void ptest_intr_disable(void);
void ptest_intr_restore(void);

/* ---- accesses through this CPU's MMU ---- */

#define PTEST_USER	0x4	/* at CPL 3 */
#define PTEST_OK	0
#define PTEST_PF	1
#define PTEST_GP	2

/* A page fault, in every machine's terms (decoded by the machine), plus
 * the machine's own error code for the tests that need its exact value. */
struct ptest_fault {
	uint64_t pf_addr;	/* the faulting address */
	bool pf_protection;	/* a mapping was there but forbade the access
				 * (false: nothing mapped) */
	bool pf_write;		/* the access was a write */
	bool pf_fetch;		/* an instruction fetch (where reported) */
	bool pf_user;		/* made in user mode */
	uint32_t pf_code;	/* the machine's error code (x86: PGEX bits) */
};
/* Does f describe that access (kind ACC_READ/WRITE/FETCH of ptest_util.h:
 * 0, 1, 2) by that mode, on a present (protection) or absent mapping? */
static inline bool
ptest_fault_is(struct ptest_fault f, bool protection, int kind, bool user)
{
	return f.pf_protection == protection && f.pf_write == (kind == 1) &&
	    f.pf_user == user;
}

int ptest_load(vaddr_t va, int size, uint64_t *val, unsigned flags);
int ptest_store(vaddr_t va, int size, uint64_t val, unsigned flags);
int ptest_fetch(vaddr_t va, unsigned flags);
struct ptest_fault ptest_last_fault(void);
/* What speculation may do at any moment: this CPU's MMU walks to va now,
 * caching the page-table entries on the way (even if none maps va) and
 * the translation if there is one; no access, no fault.  The simulated
 * machine does it exactly; real hardware takes it as a prefetch hint. */
void ptest_prefetch(vaddr_t va);
/* Does this machine fill TLBs speculatively on its own (so A bits may be
 * set on pages nobody accessed)? */
bool ptest_speculates(void);
/* Can this machine run user-mode (PTEST_USER) accesses at any address? */
bool ptest_have_user(void);

/* ---- physical memory ---- */

/* A free managed page, zeroed, with clean attributes; NULL when none. */
struct vm_page *ptest_page_alloc(void);
/* Give it back; it must have no mappings left. */
void ptest_page_free(struct vm_page *pg);
paddr_t ptest_page_pa(struct vm_page *pg);
uint64_t ptest_phys_read64(paddr_t pa);
void ptest_phys_write64(paddr_t pa, uint64_t v);
/* A page-aligned physical address that is not managed RAM (no vm_page). */
paddr_t ptest_device_pa(void);
/* The machine's RAM, as segments [start, end) (page aligned): fills up to
 * max, returns how many. */
int ptest_phys_segments(struct pmap_segment *segs, int max);
uint64_t ptest_pages_free(void);

/* ---- processes ---- */

struct lwp *ptest_lwp_create(pmap_t pm);
void ptest_lwp_destroy(struct lwp *l);
/* Make l the running lwp of this CPU and activate its pmap (NULL: back to
 * a kernel thread, kernel pmap). */
void ptest_switch(struct lwp *l);

/* ---- caller errors ---- */

/* Run fn(arg); true if it panicked, with the message in msg. */
bool ptest_catch_panic(void (*fn)(void *), void *arg, char *msg, size_t len);

/* ---- signals (SFB_CATCH) ---- */
void ptest_signal(int cpu);

/* ---- machine-specific checks ---- */

bool ptest_have_auditor(void);
/* Every CPU's TLB and paging-structure caches against the page tables and
 * the free pages; true if coherent, else the first violation in text. */
bool ptest_audit(char *text, size_t len);
/* The TLB of this CPU holds va (simulated machine only). */
bool ptest_tlb_holds(vaddr_t va);

bool ptest_have_fault_injection(void);
/* Make the nth page allocation from now fail (0: off). */
void ptest_alloc_fail_nth(uint64_t n);
uint64_t ptest_alloc_count(void);

/* CPU features that change what a mapping can express: without NX every
 * readable page is executable; without PAT there is no write combining. */
bool ptest_have_nx(void);
/* Did the host have the kernel image mapped at PMAP_KIMAGE_BASE + pa with
 * large pages (the i386 simulated machine: 4 MiB pages at pa 4-12 MiB)? */
bool ptest_kimage_large(void);
bool ptest_have_pat(void);

/* The memory type the MMU applies to va on this CPU (the PAT type:
 * 0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC-), or -1 where the machine cannot
 * tell (real hardware does not report it). */
int ptest_memtype(vaddr_t va);

/* The sf_buf mode this machine booted the library with. */
enum pmap_sfbuf_mode ptest_sfbuf_mode(void);

/* ---- interrupt points (machines that have them: ptest_have_hooks) ----
 *
 * Every call the library makes to its host (but pure lookups such as the
 * CPU id) is an interrupt point, at its entry and at its exit.  A test can make something happen at a chosen
 * one: the nth time (1 = the next) CPU cpu passes (hook, when), fn(arg)
 * runs there, on that CPU, once.  ptest_hook_pause runs it at once
 * whatever the interrupt state (the CPU is merely slow there: fn usually
 * makes other CPUs act, and waits for them); ptest_hook_interrupt makes it
 * an interrupt, taken at the first interrupt point where that CPU takes
 * interrupts, and run like a handler (interrupts off).  Arm a CPU from
 * itself, or while it runs no library code.
 */
enum ptest_hook {
	PTEST_HK_ANY,
	PTEST_HK_SEND_SHOOTDOWN,	/* pmap_host_send_shootdown */
	PTEST_HK_SPIN_WAIT,		/* pmap_host_spin_wait */
	PTEST_HK_PREEMPT_ENABLE,	/* pmap_host_preempt_enable */
	PTEST_HK_INTR_RESTORE,		/* pmap_host_intr_restore */
	PTEST_HK_ROOT_LOAD,		/* loading a page-table root (CR3) */
	PTEST_HK_INVALIDATE,		/* invalidating one TLB entry (INVLPG) */
	PTEST_HK_PAGE_FREE,		/* pmap_host_page_free */
};
#define PTEST_AT_ENTRY	0x1
#define PTEST_AT_EXIT	0x2
bool ptest_have_hooks(void);
void ptest_hook_pause(int cpu, enum ptest_hook hk, unsigned when, unsigned nth,
    void (*fn)(void *), void *arg);
void ptest_hook_interrupt(int cpu, enum ptest_hook hk, unsigned when, unsigned nth,
    void (*fn)(void *), void *arg);
void ptest_hook_disarm(int cpu);
/* Has the armed point of cpu been reached (an interrupt: and run)? */
bool ptest_hook_fired(int cpu);
/* Has cpu an interrupt posted that it has not taken yet? */
bool ptest_ipi_pending(int cpu);
/* Random interrupts on every CPU: at each interrupt point where the CPU
 * takes interrupts, with probability ppm / 1e6, fn(arg) runs there as a
 * handler.  ppm 0 stops them. */
void ptest_random_interrupts(void (*fn)(void *), void *arg, uint32_t ppm);

#endif
