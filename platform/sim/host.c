// SPDX-License-Identifier: BSD-2-Clause
/*
 * host.c - libpmap's host hooks on the simulated machine.
 *
 * Every machine-independent hook of <pmap/pmap_host.h>, each a few lines
 * over sim.h; the machine's own hooks (instructions, how the library
 * reaches physical memory) are in host_<arch>.c.  How the contracts are
 * met:
 *  - the shootdown IPI is simulator vector 1, whose handler calls
 *    pmap_tlb_intr() on the target CPU;
 *  - spinning takes interrupts (sim_cpu_relax), so a CPU waiting for a
 *    lock still answers shootdowns;
 *  - sleep/wakeup: a sequence number per hashed channel, waited on with
 *    sim_cpu_wait, so a sleeping CPU still takes its interrupts; a signal
 *    posted with SIM_VEC_SIGNAL interrupts a sleep that asked for it;
 *  - preemption: simulated CPUs never migrate threads, so disabling it is
 *    a per-CPU counter, kept to check balance.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_host.h"

#define SIM_VEC_SHOOTDOWN 1

struct vm_page *sim_vm_pages;	/* (sim_host_inline.h reads these three) */
uint8_t *sim_vm_page_ram;	/* per frame: RAM (1) or a hole (0) */
uint64_t sim_vm_npages;
/* The host's per-CPU state, reached through the machine's per-CPU pointer. */
struct host_cpu {
	struct lwp *hc_curlwp;
	int hc_preempt;
	uint64_t hc_calls;		/* hook calls made (owner) */
	/* The armed point (sim_hook_arm): hc_fn is published last. */
	_Atomic(void (*)(void *)) hc_fn;
	void *hc_arg;
	enum sim_hook hc_hook;
	unsigned hc_when, hc_nth;
	enum sim_hook_kind hc_kind;
	atomic_bool hc_fired;
	/* An armed interrupt that is pending (owner). */
	void (*hc_pend_fn)(void *);
	void *hc_pend_arg;
	uint64_t hc_rng;		/* random interrupts (owner) */
};
static struct host_cpu host_cpus[SIM_MAXCPUS];

static __thread struct host_cpu *hc_self;	/* this CPU's, once attached */

static inline struct host_cpu *
hcpu(const char *fn)
{
	if (__builtin_expect(hc_self != NULL, 1))
		return hc_self;
	struct host_cpu *h = sim_percpu();
	if (h == NULL) {
		fprintf(stderr, "%s: CPU %d has no host state\n", fn, sim_cpu_id());
		abort();
	}
	return h;
}

/* ---- interrupt points (sim_pmap.h) ---- */

static void (*rnd_intr_fn)(void *);
static void *rnd_intr_arg;
static uint32_t rnd_intr_ppm;		/* set while the CPUs are quiet */
static uint64_t rnd_intr_seed;

/* A random interrupt, if the dice say so and the CPU takes interrupts. */
static void
random_interrupt(struct host_cpu *h)
{
	if (sim_intr_disabled_p() || sim_rng_next_u64(&h->hc_rng) % 1000000 >= rnd_intr_ppm)
		return;
	sim_intr_disable();
	rnd_intr_fn(rnd_intr_arg);
	sim_intr_restore();
}

void
sim_hook_random_interrupts(void (*fn)(void *), void *arg, uint32_t ppm)
{
	rnd_intr_fn = fn;
	rnd_intr_arg = arg;
	for (int i = 0; i < SIM_MAXCPUS; i++)
		host_cpus[i].hc_rng = rnd_intr_seed * 0x9e3779b97f4a7c15ULL + (uint64_t)i + 1;
	__atomic_store_n(&rnd_intr_ppm, ppm, __ATOMIC_RELEASE);
}

static void
ipoint_slow(struct host_cpu *h, enum sim_hook hk, unsigned when)
{
	void (*fn)(void *) = atomic_load_explicit(&h->hc_fn, memory_order_acquire);
	if (fn != NULL && (h->hc_hook == SIM_HK_ANY || h->hc_hook == hk) &&
	    (h->hc_when & when) != 0 && --h->hc_nth == 0) {
		atomic_store_explicit(&h->hc_fn, NULL, memory_order_relaxed);
		if (h->hc_kind == SIM_HOOK_INTERRUPT) {
			h->hc_pend_fn = fn;
			h->hc_pend_arg = h->hc_arg;
		} else {
			atomic_store(&h->hc_fired, true);
			fn(h->hc_arg);
		}
	}
	if (h->hc_pend_fn != NULL && !sim_intr_disabled_p()) {
		fn = h->hc_pend_fn;
		h->hc_pend_fn = NULL;
		sim_intr_disable();		/* a handler runs with interrupts off */
		fn(h->hc_pend_arg);
		atomic_store(&h->hc_fired, true);
		sim_intr_restore();
	}
}

/* Every hook passes here at its entry and at its exit. */
static inline void
ipoint(enum sim_hook hk, unsigned when)
{
	struct host_cpu *h = hcpu("interrupt point");
	if (when == SIM_HK_ENTRY)
		h->hc_calls++;
	if (__builtin_expect(atomic_load_explicit(&h->hc_fn, memory_order_relaxed) != NULL ||
	    h->hc_pend_fn != NULL, 0))
		ipoint_slow(h, hk, when);
	if (__builtin_expect(__atomic_load_n(&rnd_intr_ppm, __ATOMIC_ACQUIRE) != 0, 0))
		random_interrupt(h);
	sim_cpu_point_fast();
}


void
sim_host_ipoint(enum sim_hook hk, unsigned when)
{
	ipoint(hk, when);
}

#undef HOOK_IN
#undef HOOK_OUT
#undef LOOKUP_IN
#undef LOOKUP_OUT
#define HOOK_IN(hk)	ipoint((hk), SIM_HK_ENTRY)
#define HOOK_OUT(hk)	ipoint((hk), SIM_HK_EXIT)
#define LOOKUP_IN(hk)	do { if (sim_points_all) ipoint((hk), SIM_HK_ENTRY); } while (0)
#define LOOKUP_OUT(hk)	do { if (sim_points_all) ipoint((hk), SIM_HK_EXIT); } while (0)

void
sim_hook_arm(int cpu, enum sim_hook hk, unsigned when, unsigned nth,
    enum sim_hook_kind kind, void (*fn)(void *), void *arg)
{
	struct host_cpu *h = &host_cpus[cpu];
	atomic_store(&h->hc_fn, NULL);
	h->hc_arg = arg;
	h->hc_hook = hk;
	h->hc_when = when;
	h->hc_nth = nth > 0 ? nth : 1;
	h->hc_kind = kind;
	atomic_store(&h->hc_fired, false);
	atomic_store_explicit(&h->hc_fn, fn, memory_order_release);
}

void
sim_hook_disarm(int cpu)
{
	atomic_store(&host_cpus[cpu].hc_fn, NULL);
}

bool
sim_hook_fired(int cpu)
{
	return atomic_load(&host_cpus[cpu].hc_fired);
}

uint64_t
sim_hook_calls(int cpu)
{
	return host_cpus[cpu].hc_calls;
}

struct panic_catch {
	jmp_buf *pc_jb;
	char *pc_msg;
	size_t pc_len;
};
static struct panic_catch catchers[SIM_MAXCPUS];
static const char *printf_prefix;

#define NSLEEPQ 64
static atomic_ullong sleepq_seq[NSLEEPQ];

static int
self(const char *fn)
{
	int c = sim_cpu_id();
	if (c < 0) {
		fprintf(stderr, "%s: libpmap called outside a simulated CPU\n", fn);
		abort();
	}
	return c;
}

/* ---- Tier 0 ---- */

void
pmap_host_panic(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int c = sim_cpu_id();
	if (c >= 0 && catchers[c].pc_jb != NULL) {
		jmp_buf *jb = catchers[c].pc_jb;
		snprintf(catchers[c].pc_msg, catchers[c].pc_len, "%s", msg);
		catchers[c].pc_jb = NULL;
		longjmp(*jb, 1);
	}
	fflush(stdout);
	fprintf(stderr, "panic (cpu %d): %s\n", c, msg);
	abort();
}

void
pmap_host_printf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (printf_prefix == NULL) {
		fputs(buf, stdout);
	} else {
		/* Prefix every line (callers print whole lines). */
		for (char *line = buf, *nl; *line != '\0'; line = nl) {
			nl = strchr(line, '\n');
			nl = nl != NULL ? nl + 1 : line + strlen(line);
			fprintf(stdout, "%s%.*s", printf_prefix, (int)(nl - line), line);
		}
	}
	fflush(stdout);
}

int
pmap_host_cpu_id(void)
{
	int c = self("pmap_host_cpu_id");
	return c;
}

int
pmap_host_ncpus(void)
{
	int n = sim_ncpus();
	return n;
}

int
pmap_host_page_alloc(paddr_t *pap)
{
	HOOK_IN(SIM_HK_PAGE_ALLOC);
	uint64_t pa;
	int r = sim_page_alloc(&pa);
	if (r == 0)
		*pap = pa;
	HOOK_OUT(SIM_HK_PAGE_ALLOC);
	return r == 0 ? 0 : -1;
}

void
pmap_host_page_free(paddr_t pa)
{
	HOOK_IN(SIM_HK_PAGE_FREE);
	sim_page_free(pa);	/* with audit_on_free, checks every TLB first */
	HOOK_OUT(SIM_HK_PAGE_FREE);
}

struct vm_page *
pmap_host_phys_to_page(paddr_t pa)
{
	LOOKUP_IN(SIM_HK_PHYS_TO_PAGE);
	struct vm_page *pg = sim_pa_to_vm_page(pa);
	LOOKUP_OUT(SIM_HK_PHYS_TO_PAGE);
	return pg;
}

struct vm_page *
sim_host_phys_to_page_call(paddr_t pa)
{
	return pmap_host_phys_to_page(pa);
}

struct pmap_page *
pmap_host_page_md(struct vm_page *pg)
{
	return &pg->mdpage;
}

paddr_t
pmap_host_page_pa(struct vm_page *pg)
{
	return pg->phys_addr;
}

pmap_intr_state_t
pmap_host_intr_disable(void)
{
	HOOK_IN(SIM_HK_INTR_DISABLE);
	sim_intr_disable();	/* a depth: restore needs no saved state */
	HOOK_OUT(SIM_HK_INTR_DISABLE);
	return 0;
}

void
pmap_host_intr_restore(pmap_intr_state_t s)
{
	(void)s;
	HOOK_IN(SIM_HK_INTR_RESTORE);
	sim_intr_restore();	/* the outermost one takes what is pending */
	HOOK_OUT(SIM_HK_INTR_RESTORE);
}

/* ---- Tier 1 ---- */

void
pmap_host_preempt_disable(void)
{
	HOOK_IN(SIM_HK_PREEMPT_DISABLE);
	hcpu("pmap_host_preempt_disable")->hc_preempt++;
	HOOK_OUT(SIM_HK_PREEMPT_DISABLE);
}

void
pmap_host_preempt_enable(void)
{
	HOOK_IN(SIM_HK_PREEMPT_ENABLE);
	struct host_cpu *h = hcpu("pmap_host_preempt_enable");
	if (--h->hc_preempt < 0) {
		fprintf(stderr, "cpu %d: preemption enabled more often than disabled\n",
		    sim_cpu_id());
		abort();
	}
	HOOK_OUT(SIM_HK_PREEMPT_ENABLE);
}

void
pmap_host_spin_wait(void)
{
	HOOK_IN(SIM_HK_SPIN_WAIT);
	sim_cpu_relax();
	HOOK_OUT(SIM_HK_SPIN_WAIT);
}

void
pmap_host_send_shootdown(uint64_t cpuset)
{
	HOOK_IN(SIM_HK_SEND_SHOOTDOWN);
	sim_send_ipi(cpuset, SIM_VEC_SHOOTDOWN);
	HOOK_OUT(SIM_HK_SEND_SHOOTDOWN);
}

static void
shootdown_handler(int vec)
{
	(void)vec;
	pmap_tlb_intr();
}

static unsigned
sleepq_of(const void *chan)
{
	uint64_t h = (uintptr_t)chan;
	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ULL;
	return (unsigned)(h >> 58) % NSLEEPQ;
}

uint64_t
pmap_host_sleep_prepare(const void *chan)
{
	HOOK_IN(SIM_HK_SLEEP_PREPARE);
	uint64_t t = atomic_load(&sleepq_seq[sleepq_of(chan)]);
	HOOK_OUT(SIM_HK_SLEEP_PREPARE);
	return t;
}

struct sleep_wait {
	unsigned sw_q;
	uint64_t sw_ticket;
	bool sw_catch;
};

static bool
sleep_done_p(void *arg)
{
	struct sleep_wait *w = arg;
	return atomic_load(&sleepq_seq[w->sw_q]) != w->sw_ticket ||
	    (w->sw_catch && sim_signal_pending(false));
}

int
pmap_host_sleep(const void *chan, uint64_t ticket, bool catch)
{
	HOOK_IN(SIM_HK_SLEEP);
	struct sleep_wait w = { sleepq_of(chan), ticket, catch };
	sim_cpu_wait(sleep_done_p, &w);
	int r = catch && sim_signal_pending(true) ? EINTR : 0;
	HOOK_OUT(SIM_HK_SLEEP);
	return r;
}

void
pmap_host_wakeup(const void *chan)
{
	HOOK_IN(SIM_HK_WAKEUP);
	atomic_fetch_add(&sleepq_seq[sleepq_of(chan)], 1);
	sim_cpu_kick(~0ULL);
	HOOK_OUT(SIM_HK_WAKEUP);
}

struct lwp *
pmap_host_curlwp(void)
{
	HOOK_IN(SIM_HK_CURLWP);
	struct lwp *l = hcpu("pmap_host_curlwp")->hc_curlwp;
	HOOK_OUT(SIM_HK_CURLWP);
	return l;
}

pmap_t
pmap_host_lwp_pmap(struct lwp *l)
{
	HOOK_IN(SIM_HK_LWP_PMAP);
	HOOK_OUT(SIM_HK_LWP_PMAP);
	return l != NULL ? l->l_pmap : pmap_kernel();
}

/* ---- boot and test support ---- */

struct vm_page *
sim_pa_to_vm_page(paddr_t pa)
{
	if ((pa >> 12) >= sim_vm_npages || !sim_vm_page_ram[pa >> 12])
		return NULL;
	return &sim_vm_pages[pa >> 12];
}

void
sim_set_curlwp(struct lwp *l)
{
	hcpu("sim_set_curlwp")->hc_curlwp = l;
}

void
sim_panic_arm(jmp_buf *jb, char *msg, size_t len)
{
	int c = self("sim_panic_arm");
	catchers[c] = (struct panic_catch){ jb, msg, len };
}

void
sim_panic_disarm(void)
{
	catchers[self("sim_panic_disarm")].pc_jb = NULL;
}

void
sim_host_printf_prefix(const char *prefix)
{
	printf_prefix = prefix;
}

int
sim_preempt_depth(void)
{
	return hcpu("sim_preempt_depth")->hc_preempt;
}

void
sim_preempt_reset(int depth)
{
	hcpu("sim_preempt_reset")->hc_preempt = depth;
}

void
sim_pmap_config_default(struct sim_pmap_config *c)
{
	memset(c, 0, sizeof(*c));
	sim_config_default(&c->machine);
	c->machine.audit_on_free = true;
	sim_host_arch_config(c);
}

static const struct sim_pmap_config *boot_cfg;

static void
attach_cpu(void *arg)
{
	(void)arg;
	hc_self = &host_cpus[sim_cpu_id()];
	sim_percpu_set(hc_self);
}

static void
boot_cpu0(void *arg)
{
	(void)arg;
	struct pmap_bootinfo bi;
	memset(&bi, 0, sizeof(bi));
	bi.pb_nsegs = sim_nsegs();
	for (int i = 0; i < bi.pb_nsegs; i++) {
		struct sim_segment s = sim_segment(i);
		bi.pb_segs[i].ps_start = s.start;
		bi.pb_segs[i].ps_end = s.end;
	}
	bi.pb_kva_initial = 16ULL << 20;
	bi.pb_sfbuf_mode = boot_cfg->sfbuf_mode;
	sim_host_arch_bootinfo(&bi);
	pmap_bootstrap(&bi);
	pmap_cpu_init();
}

static void
boot_ap(void *arg)
{
	(void)arg;
	pmap_cpu_init();
}

static void
boot_init(void *arg)
{
	(void)arg;
	pmap_init();
}

void
sim_pmap_boot(const struct sim_pmap_config *c)
{
	boot_cfg = c;
	rnd_intr_seed = c->machine.seed;
	__atomic_store_n(&rnd_intr_ppm, 0, __ATOMIC_RELAXED);
	memset(host_cpus, 0, sizeof(host_cpus));
	memset(catchers, 0, sizeof(catchers));
	struct sim_config m = c->machine;
	sim_host_arch_boot(c, &m);
	sim_init(&m);
	sim_vm_npages = sim_phys_end() >> 12;
	sim_vm_pages = calloc(sim_vm_npages, sizeof(struct vm_page));
	if (sim_vm_pages == NULL) {
		fprintf(stderr, "sim_pmap_boot: out of host memory for sim_vm_pages\n");
		abort();
	}
	sim_vm_page_ram = calloc(sim_vm_npages, 1);
	if (sim_vm_page_ram == NULL) {
		fprintf(stderr, "sim_pmap_boot: out of host memory for sim_vm_page_ram\n");
		abort();
	}
	for (uint64_t i = 0; i < sim_vm_npages; i++) {
		sim_vm_pages[i].phys_addr = i << 12;
		sim_vm_page_ram[i] = sim_pa_is_ram(i << 12);
	}
	sim_set_intr_handler(SIM_VEC_SHOOTDOWN, shootdown_handler);
	sim_host_arch_booted();
	for (int i = 0; i < sim_ncpus(); i++)
		sim_run_on(i, attach_cpu, NULL);
	sim_run_on(0, boot_cpu0, NULL);
	for (int i = 1; i < sim_ncpus(); i++)
		sim_run_on(i, boot_ap, NULL);
	sim_run_on(0, boot_init, NULL);
}

void
sim_pmap_shutdown(void)
{
	sim_fini();
	free(sim_vm_pages);
	free(sim_vm_page_ram);
	sim_vm_pages = NULL;
	sim_vm_page_ram = NULL;
	sim_vm_npages = 0;
}
