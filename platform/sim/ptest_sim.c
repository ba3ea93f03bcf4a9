// SPDX-License-Identifier: BSD-2-Clause
/*
 * ptest_sim.c - the portable test API (tests/lib/ptest.h) on the simulated
 * machine, and the main() of every portable suite built for it.
 *
 * A suite runs on a 4-CPU machine in strict TLB mode with the free-time
 * audit on: freeing a page that any TLB or paging-structure cache still
 * references (under a PCID the library has not promised to flush before
 * its next use) fails the test at that moment.
 *
 * Options (argv or environment): --sfbuf=dmap|mapped (PTEST_SFBUF),
 * --seed=N (PTEST_SEED), --cpus=N (PTEST_CPUS), --tlb=N (PTEST_TLB: a
 * capacity-limited TLB of N entries per CPU with seeded random eviction,
 * instead of the strict one), --old-cpu (a CPU without global pages,
 * PCIDs, INVPCID, NX, 1 GiB pages or PAT), --no-pcid (PTEST_NO_PCID=1: a
 * CPU without PCIDs, so every switch of address space flushes the TLB),
 * PTEST_TIMEOUT (seconds, default 600).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ptest.h"
#include "sim_pmap.h"
#include <pmap/amd64_pte.h>	/* the simulated x86 CPU's error-code bits */

static uint64_t seed = 1;
static enum pmap_sfbuf_mode sfbuf_mode = PMAP_SFBUF_DMAP;

unsigned
ptest_scale_percent(void)
{
	return 100;
}

uint64_t
ptest_seed(void)
{
	return seed;
}

int
ptest_snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

int ptest_ncpus(void) { return sim_ncpus(); }
int ptest_cpu(void) { return sim_cpu_id(); }
void ptest_run_on(int cpu, void (*fn)(void *), void *arg) { sim_run_on(cpu, fn, arg); }
void ptest_run_async(int cpu, void (*fn)(void *), void *arg) { sim_run_async(cpu, fn, arg); }
void ptest_wait(int cpu) { sim_wait(cpu); }
void ptest_relax(void) { sim_cpu_relax(); }
void ptest_intr_disable(void) { sim_intr_disable(); }
void ptest_intr_restore(void) { sim_intr_restore(); }

int
ptest_load(vaddr_t va, int size, uint64_t *val, unsigned flags)
{
	return sim_load(va, size, val, flags & SIM_ACC_USER);
}

int
ptest_store(vaddr_t va, int size, uint64_t val, unsigned flags)
{
	return sim_store(va, size, val, flags & SIM_ACC_USER);
}

int
ptest_fetch(vaddr_t va, unsigned flags)
{
	return sim_fetch(va, flags & SIM_ACC_USER);
}

void
ptest_prefetch(vaddr_t va)
{
	sim_spec_fill_va(va);
}

static uint32_t spec_ppm;

bool
ptest_speculates(void)
{
	return spec_ppm != 0;
}

struct ptest_fault
ptest_last_fault(void)
{
	struct sim_fault f = sim_last_fault();
	return (struct ptest_fault){ .pf_addr = f.cr2, .pf_code = f.error_code,
		.pf_protection = (f.error_code & PGEX_P) != 0,
		.pf_write = (f.error_code & PGEX_W) != 0,
		.pf_fetch = (f.error_code & PGEX_I) != 0,
		.pf_user = (f.error_code & PGEX_U) != 0 };
}

bool
ptest_have_user(void)
{
	return true;
}

struct vm_page *
ptest_page_alloc(void)
{
	uint64_t pa;
	if (sim_page_alloc(&pa) != 0)
		return NULL;
	memset(sim_phys_ptr(pa), 0, SIM_PAGE_SIZE);
	struct vm_page *pg = sim_pa_to_vm_page(pa);
	/* A fresh page: no mappings (checked), no history - cleared the way a
	 * VM does it; the library's other per-page state (an idle sf_buf) is
	 * not the host's to reset. */
	if (pg->mdpage.pp_pv.pv_pmap != NULL || pg->mdpage.pp_pvlist != NULL) {
		fprintf(stderr, "ptest_page_alloc: page %#llx still has pv entries\n",
		    (unsigned long long)pa);
		abort();
	}
	pmap_clear_modify(pg);
	pmap_clear_reference(pg);
	return pg;
}

void
ptest_page_free(struct vm_page *pg)
{
	if (pg->mdpage.pp_pv.pv_pmap != NULL || pg->mdpage.pp_pvlist != NULL) {
		fprintf(stderr, "ptest_page_free: page %#llx is still mapped\n",
		    (unsigned long long)pg->phys_addr);
		abort();
	}
	sim_page_free(pg->phys_addr);
}

paddr_t
ptest_page_pa(struct vm_page *pg)
{
	return pg->phys_addr;
}

/* Physical memory is page aligned: tell 32-bit compilers so. */
typedef uint64_t phys_u64 __attribute__((aligned(8)));

uint64_t
ptest_phys_read64(paddr_t pa)
{
	return __atomic_load_n((phys_u64 *)sim_phys_ptr(pa), __ATOMIC_RELAXED);
}

void
ptest_phys_write64(paddr_t pa, uint64_t v)
{
	__atomic_store_n((phys_u64 *)sim_phys_ptr(pa), v, __ATOMIC_RELAXED);
}

int
ptest_phys_segments(struct pmap_segment *segs, int max)
{
	int n = sim_nsegs() < max ? sim_nsegs() : max;
	for (int i = 0; i < n; i++) {
		struct sim_segment g = sim_segment(i);
		segs[i] = (struct pmap_segment){ (paddr_t)g.start, (paddr_t)g.end };
	}
	return n;
}

paddr_t
ptest_device_pa(void)
{
	/* The default machine's RAM starts at 1 MiB: below it is a hole. */
	return 0xa0000;
}

uint64_t
ptest_pages_free(void)
{
	return sim_pages_free();
}

struct lwp *
ptest_lwp_create(pmap_t pm)
{
	struct lwp *l = calloc(1, sizeof(*l));
	if (l == NULL)
		abort();
	l->l_pmap = pm;
	return l;
}

void
ptest_lwp_destroy(struct lwp *l)
{
	free(l);
}

void
ptest_switch(struct lwp *l)
{
	/* NULL is a kernel thread: the host maps it to the kernel pmap. */
	sim_set_curlwp(l);
	pmap_activate(l);
}

bool
ptest_catch_panic(void (*fn)(void *), void *arg, char *msg, size_t len)
{
	jmp_buf jb;
	volatile int depth = sim_preempt_depth();
	if (setjmp(jb) != 0) {
		/* The library re-enables preemption before its caller-error
		 * panics; make sure, so later tests run on a sane CPU. */
		if (sim_preempt_depth() != depth) {
			tap_diag("panic left preemption depth %d (was %d)", sim_preempt_depth(),
			    depth);
			sim_preempt_reset(depth);
		}
		return true;
	}
	sim_panic_arm(&jb, msg, len);
	fn(arg);
	sim_panic_disarm();
	if (len > 0)
		msg[0] = '\0';
	return false;
}

void
ptest_signal(int cpu)
{
	sim_send_ipi(1ULL << cpu, SIM_VEC_SIGNAL);
}

bool
ptest_have_auditor(void)
{
	return true;
}

bool
ptest_audit(char *text, size_t len)
{
	struct sim_audit_report r;
	bool ok = sim_audit(&r);
	snprintf(text, len, "%s", r.text);
	return ok;
}

bool
ptest_tlb_holds(vaddr_t va)
{
	return sim_tlb_present(va);
}

bool
ptest_have_fault_injection(void)
{
	return true;
}

void
ptest_alloc_fail_nth(uint64_t n)
{
	sim_alloc_fail_nth(n);
}

uint64_t
ptest_alloc_count(void)
{
	return sim_alloc_count();
}

bool
ptest_have_nx(void)
{
	return sim_pmap_have_nx();
}

bool
ptest_kimage_large(void)
{
	return sim_pmap_kimage_large();
}

bool
ptest_have_pat(void)
{
	return sim_pmap_have_pat();
}

int
ptest_memtype(vaddr_t va)
{
	struct sim_xlate x = sim_translate(va, SIM_READ);
	return x.result == SIM_OK ? (int)x.memtype : -1;
}

bool
ptest_have_hooks(void)
{
	return true;
}

static enum sim_hook
sim_hook_of(enum ptest_hook hk)
{
	switch (hk) {
	case PTEST_HK_SEND_SHOOTDOWN: return SIM_HK_SEND_SHOOTDOWN;
	case PTEST_HK_SPIN_WAIT: return SIM_HK_SPIN_WAIT;
	case PTEST_HK_PREEMPT_ENABLE: return SIM_HK_PREEMPT_ENABLE;
	case PTEST_HK_INTR_RESTORE: return SIM_HK_INTR_RESTORE;
	case PTEST_HK_ROOT_LOAD: return SIM_HK_LCR3;
	case PTEST_HK_INVALIDATE: return SIM_HK_INVLPG;
	case PTEST_HK_PAGE_FREE: return SIM_HK_PAGE_FREE;
	default: return SIM_HK_ANY;
	}
}

void
ptest_hook_pause(int cpu, enum ptest_hook hk, unsigned when, unsigned nth,
    void (*fn)(void *), void *arg)
{
	sim_hook_arm(cpu, sim_hook_of(hk), when, nth, SIM_HOOK_PAUSE, fn, arg);
}

void
ptest_hook_interrupt(int cpu, enum ptest_hook hk, unsigned when, unsigned nth,
    void (*fn)(void *), void *arg)
{
	sim_hook_arm(cpu, sim_hook_of(hk), when, nth, SIM_HOOK_INTERRUPT, fn, arg);
}

void ptest_hook_disarm(int cpu) { sim_hook_disarm(cpu); }
bool ptest_hook_fired(int cpu) { return sim_hook_fired(cpu); }
bool ptest_ipi_pending(int cpu) { return sim_ipi_pending(cpu); }

void
ptest_random_interrupts(void (*fn)(void *), void *arg, uint32_t ppm)
{
	sim_hook_random_interrupts(fn, arg, ppm);
}

enum pmap_sfbuf_mode
ptest_sfbuf_mode(void)
{
	return sfbuf_mode;
}

static void
free_violation(const char *report)
{
	tap_ok(false, "no page is freed while a TLB still references it");
	tap_diag("%s", report);
	fflush(stdout);
	abort();
}

static const struct ptest_suite *running;

static void
run_suite(void *arg)
{
	(void)arg;
	sim_set_free_violation_hook(free_violation);
	running->ps_body();
}

static void
on_timeout(int sig)
{
	static const char msg[] = "Bail out! suite timed out (PTEST_TIMEOUT seconds): "
	    "a CPU is stuck - deadlock or lost wakeup?\n";
	(void)sig;
	(void)!write(1, msg, sizeof(msg) - 1);
	_exit(1);
}

int
ptest_standalone_main(const struct ptest_suite *s, int argc, char **argv)
{
	const char *tmo = getenv("PTEST_TIMEOUT");
	signal(SIGALRM, on_timeout);
	alarm(tmo != NULL ? (unsigned)atoi(tmo) : 600);
	const char *mode = getenv("PTEST_SFBUF");
	const char *seed_env = getenv("PTEST_SEED");
	const char *cpus_env = getenv("PTEST_CPUS");
	const char *tlb_env = getenv("PTEST_TLB");
	const char *spec_env = getenv("PTEST_SPEC");
	const char *sched = getenv("PTEST_SCHED");
	const char *mem_env = getenv("PTEST_MEM");
	uint64_t mem_mib = mem_env != NULL ? strtoull(mem_env, NULL, 0) : 0;
	uint32_t spec = spec_env != NULL ? (uint32_t)atoi(spec_env) : 0;
	int ncpus = 4;
	unsigned tlb = tlb_env != NULL ? (unsigned)atoi(tlb_env) : 0;
	uint32_t nofeat = 0;
	const char *nopcid_env = getenv("PTEST_NO_PCID");
	if (nopcid_env != NULL && *nopcid_env != '\0' && strcmp(nopcid_env, "0") != 0)
		nofeat |= sim_pmap_pcid_feature();
	if (seed_env != NULL)
		seed = strtoull(seed_env, NULL, 0);
	if (cpus_env != NULL)
		ncpus = atoi(cpus_env);
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--sfbuf=", 8) == 0)
			mode = argv[i] + 8;
		else if (strncmp(argv[i], "--seed=", 7) == 0)
			seed = strtoull(argv[i] + 7, NULL, 0);
		else if (strncmp(argv[i], "--cpus=", 7) == 0)
			ncpus = atoi(argv[i] + 7);
		else if (strncmp(argv[i], "--tlb=", 6) == 0)
			tlb = (unsigned)atoi(argv[i] + 6);
		else if (strncmp(argv[i], "--spec=", 7) == 0)
			spec = (uint32_t)atoi(argv[i] + 7);
		else if (strncmp(argv[i], "--sched=", 8) == 0)
			sched = argv[i] + 8;
		else if (strncmp(argv[i], "--mem=", 6) == 0)
			mem_mib = strtoull(argv[i] + 6, NULL, 0);
		else if (strcmp(argv[i], "--old-cpu") == 0)
			nofeat |= sim_pmap_old_cpu_features();
		else if (strcmp(argv[i], "--no-pcid") == 0)
			nofeat |= sim_pmap_pcid_feature();
		else {
			fprintf(stderr, "usage: %s [--sfbuf=dmap|mapped] [--seed=N] [--cpus=N] "
			    "[--tlb=N] [--spec=PPM] [--mem=MIB] [--sched=random|pct[:DEPTH[:POINTS]]] "
			    "[--old-cpu] [--no-pcid]\n", argv[0]);
			return 2;
		}
	}
	struct sim_pmap_config c;
	sim_pmap_config_default(&c);	/* the machine's default sf_buf mode */
	sfbuf_mode = c.sfbuf_mode;
	if (mode != NULL && strcmp(mode, "mapped") == 0)
		sfbuf_mode = PMAP_SFBUF_MAPPED;
	else if (mode != NULL && strcmp(mode, "dmap") == 0)
		sfbuf_mode = PMAP_SFBUF_DMAP;
	c.machine.ncpus = ncpus;
	c.machine.seed = seed;
	c.sfbuf_mode = sfbuf_mode;
	c.clear_features = nofeat;
	c.machine.spec_fill_ppm = spec;
	if (mem_mib != 0)
		c.machine.mem_size = mem_mib << 20;
	if (sched != NULL && strncmp(sched, "random", 6) == 0) {
		c.machine.sched = SIM_SCHED_RANDOM;
	} else if (sched != NULL && strncmp(sched, "pct", 3) == 0) {
		c.machine.sched = SIM_SCHED_PCT;
		if (sched[3] == ':') {
			char *end;
			c.machine.sched_pct_depth = (int)strtol(sched + 4, &end, 10);
			if (*end == ':')
				c.machine.sched_pct_horizon = strtoull(end + 1, NULL, 10);
		}
	} else if (sched != NULL && *sched != '\0') {
		fprintf(stderr, "%s: --sched wants random or pct[:DEPTH[:POINTS]]\n", argv[0]);
		return 2;
	}
	c.machine.sched_seed = seed;
	spec_ppm = spec;
	if (tlb > 0) {
		c.machine.tlb_mode = SIM_TLB_CAPACITY;
		c.machine.tlb_capacity = tlb;
	}
	tap_diag("suite %s: %d CPUs%s, %s TLB%s, sf_buf %s mode, %s, seed %llu",
	    s->ps_name, ncpus, nofeat == sim_pmap_old_cpu_features() ?
	    " without PGE/PCID/INVPCID/NX/1G/PAT" : nofeat != 0 ? " without PCIDs" : "",
	    tlb > 0 ? "capacity-limited" : "strict",
	    spec > 0 ? " with speculative fills" : "",
	    sfbuf_mode == PMAP_SFBUF_MAPPED ? "mapped" : "direct-map",
	    c.machine.sched == SIM_SCHED_PCT ? "PCT scheduler" :
	    c.machine.sched == SIM_SCHED_RANDOM ? "random-walk scheduler" : "CPUs as threads",
	    (unsigned long long)seed);
	sim_host_printf_prefix("# ");
	sim_pmap_boot(&c);
	running = s;
	sim_run_on(0, run_suite, NULL);
	if (c.machine.sched != SIM_SCHED_OFF) {
		struct sim_sched_stats st = sim_sched_stats();
		tap_diag("scheduler: %llu points, %llu switches (replay: --seed=%llu --sched=%s)",
		    (unsigned long long)st.points, (unsigned long long)st.switches,
		    (unsigned long long)seed, sched);
	}
	sim_pmap_shutdown();
	return tap_done();
}
