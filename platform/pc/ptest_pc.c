// SPDX-License-Identifier: BSD-2-Clause
/*
 * ptest_pc.c - the portable test API (tests/lib/ptest.h) on the bare-metal
 * kernel, and pc_main(): boot libpmap, run every portable suite linked into
 * the image, one TAP stream.
 *
 * Accesses are the platform's fault probes (probe.c): ring 0, or ring 3
 * for PTEST_USER, one real load, store or instruction fetch through this
 * CPU's MMU.  A fetch executes exactly one instruction at the address
 * (single-step; pc.h, pc_probe_fetch): PTEST_PF means the fetch faulted.
 * The simulated machine's fetch only translates, so the instruction must
 * not have effects of its own: test pages hold data, and data executed can
 * write to the page itself (rip-relative), which would change the page and
 * set its D bit.  So ptest_fetch first looks up, in software, where the
 * current page tables send the address, and if that is a managed page it
 * puts a `nop` there (through the direct map, which leaves the mapping's
 * A/D bits alone) for the duration of the probe.  A stale TLB entry that
 * points elsewhere executes that other page's byte instead - but then the
 * test fails anyway.  A concurrent reader of the very same byte on another
 * CPU could see the 0x90 for that instant; no suite does that.
 *
 * Suites are the `const struct ptest_suite` objects that PTEST_SUITE puts
 * in the "ptest_suites" section (kernel.ld collects them between
 * __start_ptest_suites and __stop_ptest_suites).  They run on CPU 0, one
 * after the other, with a "# suite NAME" line before each; after each one
 * every CPU goes back to the kernel pmap with no lwp.
 *
 * Kernel command line (qemu -append):
 *   sfbuf=dmap|mapped   sf_buf mode the library is booted with (dmap on
 *                       amd64; i386 has no direct map, so only mapped)
 *   seed=N              ptest_seed() (1)
 *   scale=N             ptest_scale_percent() (default: calibrated, below)
 *   suite=A,B,...       run only the suites whose name contains A or B ...
 *   mmuprobe ...        MMU-probe mode instead of the tests (mmuprobe.c)
 *   bench ...           bench mode instead of the tests (bench_pc.c)
 */
#include <stdarg.h>

#include "pc_pmap.h"
#include "ptest.h"


extern const struct ptest_suite __start_ptest_suites[];
extern const struct ptest_suite __stop_ptest_suites[];

static uint64_t seed = 1;
static enum pmap_sfbuf_mode sfbuf_mode =
    PMAP_HAVE_DIRECT_MAP ? PMAP_SFBUF_DMAP : PMAP_SFBUF_MAPPED;
static unsigned scale = 100;
static paddr_t device_pa;

static uint64_t calib_us;

/*
 * The default scale is calibrated, because what the suites cost differs a
 * hundredfold between the machines this kernel meets.  On the development
 * host (QEMU 7.2): under TCG a kernel probe takes ~0.5 us and a ring-3
 * probe ~2 us; under its nested KVM, which emulates much of the guest,
 * ~35 us and ~150 us, and the whole random suite runs ~70 times slower.
 * So: time 200 kernel and 200 ring-3 probes, and give the suites
 * SCALE_BUDGET_US / that time percent, rounded down to one of a few levels
 * (so that a run is easy to repeat: scale=N on the command line), at least
 * 1 and at most 100.  There, TCG gets 50 and KVM 1; a run then takes about
 * 15 s (TCG) or 90 s (KVM).
 */
#define SCALE_BUDGET_US	40000

static unsigned
calibrate_scale(void)
{
	static const unsigned levels[] = { 100, 50, 25, 10, 5, 2, 1 };
	uint64_t v, t = pc_uptime_us();

	for (int i = 0; i < 200; i++) {
		(void)pc_probe_read(PC_USER_CODE_VA, 8, &v);
		(void)pc_probe_user_read(PC_USER_CODE_VA, 8, &v);
	}
	calib_us = pc_uptime_us() - t;
	if (calib_us == 0)
		calib_us = 1;
	for (unsigned i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (calib_us * levels[i] <= SCALE_BUDGET_US)
			return levels[i];
	}
	return 1;
}

/* ---- command line ---- */

/* The token of the command line starting at *pp; advances *pp. */
static bool
next_token(const char **pp, const char **tok, size_t *len)
{
	const char *p = *pp;

	while (*p == ' ')
		p++;
	if (*p == '\0')
		return false;
	*tok = p;
	while (*p != '\0' && *p != ' ')
		p++;
	*len = (size_t)(p - *tok);
	*pp = p;
	return true;
}

bool
pc_cmdline_flag(const char *word)
{
	const char *p = pc_cmdline(), *t;
	size_t n, wl = strlen(word);

	while (next_token(&p, &t, &n)) {
		if (n == wl && strncmp(t, word, n) == 0)
			return true;
	}
	return false;
}

bool
pc_cmdline_value(const char *key, char *buf, size_t len)
{
	const char *p = pc_cmdline(), *t;
	size_t n, kl = strlen(key);

	while (next_token(&p, &t, &n)) {
		if (n > kl && t[kl] == '=' && strncmp(t, key, kl) == 0) {
			size_t vl = n - kl - 1;

			if (vl >= len)
				vl = len - 1;
			memcpy(buf, t + kl + 1, vl);
			buf[vl] = '\0';
			return true;
		}
	}
	return false;
}

uint64_t
pc_cmdline_u64(const char *key, uint64_t dflt)
{
	char buf[32];
	uint64_t v = 0;
	const char *p = buf;
	unsigned base = 10;

	if (!pc_cmdline_value(key, buf, sizeof(buf)) || buf[0] == '\0')
		return dflt;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (; *p != '\0'; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			pc_panic("command line: %s=%s is not a number", key, buf);
		v = v * base + d;
	}
	return v;
}

/* ---- TAP output ---- */

void
tap_vprintf(const char *fmt, va_list ap)
{
	pc_vprintf(fmt, ap);
}

/* ---- run parameters ---- */

unsigned
ptest_scale_percent(void)
{
	return scale;
}

uint64_t
ptest_seed(void)
{
	return seed;
}

extern struct pmap_segment pc_ram_segs[PMAP_MAXSEGS];
extern int pc_ram_nsegs;

int
ptest_phys_segments(struct pmap_segment *segs, int max)
{
	int n = pc_ram_nsegs < max ? pc_ram_nsegs : max;
	for (int i = 0; i < n; i++)
		segs[i] = pc_ram_segs[i];
	return n;
}

int
ptest_snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = pc_vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

/* ---- CPUs ---- */

int ptest_ncpus(void) { return pc_ncpus(); }
int ptest_cpu(void) { return pc_cpu_id(); }
void ptest_run_on(int cpu, void (*fn)(void *), void *arg) { pc_run_on(cpu, fn, arg); }
void ptest_run_async(int cpu, void (*fn)(void *), void *arg) { pc_run_start(cpu, fn, arg); }
void ptest_wait(int cpu) { pc_run_wait(cpu); }
void ptest_relax(void) { pc_cpu_relax(); }

/* Nesting, like the simulated machine's critical sections. */
static int intr_depth[PC_MAX_CPUS];
static pc_intr_state_t intr_saved[PC_MAX_CPUS];

void
ptest_intr_disable(void)
{
	pc_intr_state_t s = pc_intr_disable();
	if (intr_depth[pc_cpu_id()]++ == 0)
		intr_saved[pc_cpu_id()] = s;
}

void
ptest_intr_restore(void)
{
	if (--intr_depth[pc_cpu_id()] == 0)
		pc_intr_restore(intr_saved[pc_cpu_id()]);
}

/* ---- accesses ---- */

static int
probe_result(int r, const char *what, vaddr_t va)
{
	struct pc_fault f;

	switch (r) {
	case PC_PROBE_OK:
		return PTEST_OK;
	case PC_PROBE_PF:
		return PTEST_PF;
	case PC_PROBE_GP:
		return PTEST_GP;
	default:
		pc_probe_last_fault(&f);
		pc_panic("ptest: %s of %#llx raised exception %d (error %#x) at "
		    "pc %#llx", what, (unsigned long long)va, f.vector, f.error_code,
		    (unsigned long long)f.rip);
	}
}

static void
check_size(int size)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		pc_panic("ptest: access size %d", size);
}

int
ptest_load(vaddr_t va, int size, uint64_t *val, unsigned flags)
{
	check_size(size);
	return probe_result((flags & PTEST_USER) ? pc_probe_user_read(va, size, val) :
	    pc_probe_read(va, size, val), "load", va);
}

int
ptest_store(vaddr_t va, int size, uint64_t val, unsigned flags)
{
	check_size(size);
	return probe_result((flags & PTEST_USER) ? pc_probe_user_write(va, size, val) :
	    pc_probe_write(va, size, val), "store", va);
}

int
ptest_fetch(vaddr_t va, unsigned flags)
{
	pc_intr_state_t s = pc_intr_disable();
	uint64_t pa;
	uint8_t *b = NULL, old = 0, nop = 0x90;
	int r;

	/* The byte va translates to in the current page tables (a software
	 * walk), if it lies in a managed page. */
	if (pc_md_translate(va, &pa) &&
	    pc_pa_to_vm_page(pa & ~(uint64_t)PAGE_MASK) != NULL)
		b = pc_phys_map(pa, 1);
	if (b != NULL)
		old = __atomic_exchange_n(b, nop, __ATOMIC_SEQ_CST);
	r = (flags & PTEST_USER) ? pc_probe_user_fetch(va, NULL) :
	    pc_probe_fetch(va, NULL);
	if (b != NULL) {	/* unless someone wrote it meanwhile */
		__atomic_compare_exchange_n(b, &nop, old, false, __ATOMIC_SEQ_CST,
		    __ATOMIC_SEQ_CST);
		pc_phys_unmap(b, 1);
	}
	pc_intr_restore(s);
	return probe_result(r, "fetch", va);
}

void
ptest_prefetch(vaddr_t va)
{
	/* A hint: the hardware may or may not fill its TLB; never faults. */
	__asm__ __volatile__("prefetcht0 (%0)" :: "r"(va) : "memory");
}

bool
ptest_speculates(void)
{
	return true;	/* real processors may fill TLBs speculatively */
}

struct ptest_fault
ptest_last_fault(void)
{
	struct pc_fault f;

	pc_probe_last_fault(&f);
	return (struct ptest_fault){ .pf_addr = f.cr2, .pf_code = f.error_code,
		.pf_protection = (f.error_code & 0x1) != 0,	/* P */
		.pf_write = (f.error_code & 0x2) != 0,		/* W/R */
		.pf_user = (f.error_code & 0x4) != 0,		/* U/S */
		.pf_fetch = (f.error_code & 0x10) != 0 };	/* I/D */
}

bool
ptest_have_user(void)
{
	return true;
}

/* ---- physical memory ---- */

struct vm_page *
ptest_page_alloc(void)
{
	paddr_t pa;
	struct vm_page *pg;

	if (pc_pmap_page_alloc(&pa) != 0)
		return NULL;
	void *p = pc_phys_map(pa, PAGE_SIZE);
	memset(p, 0, PAGE_SIZE);
	pc_phys_unmap(p, PAGE_SIZE);
	pg = pc_pa_to_vm_page(pa);
	if (pg == NULL)
		pc_panic("ptest_page_alloc: frame %#llx has no vm_page",
		    (unsigned long long)pa);
	/* A fresh page: no mappings (checked), no history - cleared the way a
	 * VM does it; the library's other per-page state (an idle sf_buf) is
	 * not the host's to reset. */
	if (pg->mdpage.pp_pv.pv_pmap != NULL || pg->mdpage.pp_pvlist != NULL)
		pc_panic("ptest_page_alloc: page %#llx still has pv entries",
		    (unsigned long long)pa);
	pmap_clear_modify(pg);
	pmap_clear_reference(pg);
	return pg;
}

void
ptest_page_free(struct vm_page *pg)
{
	if (pg->mdpage.pp_pv.pv_pmap != NULL || pg->mdpage.pp_pvlist != NULL)
		pc_panic("ptest_page_free: page %#llx is still mapped",
		    (unsigned long long)pc_vm_page_pa(pg));
	pc_page_free(pc_vm_page_pa(pg));
}

paddr_t
ptest_page_pa(struct vm_page *pg)
{
	return pc_vm_page_pa(pg);
}

uint64_t
ptest_phys_read64(paddr_t pa)
{
	volatile uint64_t *p = pc_phys_map(pa, 8);
	uint64_t v = *p;	/* one load on amd64, two on i386 */

	pc_phys_unmap((void *)(uintptr_t)p, 8);
	return v;
}

void
ptest_phys_write64(paddr_t pa, uint64_t v)
{
	volatile uint64_t *p = pc_phys_map(pa, 8);

	*p = v;
	pc_phys_unmap((void *)(uintptr_t)p, 8);
}

paddr_t
ptest_device_pa(void)
{
	return device_pa;
}

uint64_t
ptest_pages_free(void)
{
	uint64_t nfree;

	pc_page_counts(NULL, &nfree);
	return nfree;
}

/*
 * A page that is no RAM: 2 MiB past the last RAM below 4 GiB, rounded up
 * to 2 MiB, so it is outside the library's direct map too.  On QEMU's pc
 * machine that is unassigned address space below the PCI hole.  Tests only
 * map and extract it; nothing ever reads or writes it.
 */
static paddr_t
find_device_pa(void)
{
	const struct pc_mem_range *r;
	int n = pc_mem_ranges(&r);
	uint64_t top = 0;

	for (int i = 0; i < n; i++) {
		if (r[i].mr_end <= 0x100000000ULL && r[i].mr_end > top)
			top = r[i].mr_end;
	}
	top = ((top + 0x1fffff) & ~0x1fffffULL) + 0x200000;
	if (top >= 0xfec00000ULL)
		top = 0xfeb00000ULL;	/* below the IOAPIC; no device there */
	return top;
}

/* ---- processes ---- */

#define NLWP 256
static struct lwp lwp_pool[NLWP];
static uint8_t lwp_used[NLWP];

struct lwp *
ptest_lwp_create(pmap_t pm)
{
	for (int i = 0; i < NLWP; i++) {
		uint8_t expect = 0;

		if (__atomic_compare_exchange_n(&lwp_used[i], &expect, 1, false,
		    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			lwp_pool[i].l_pmap = pm;
			lwp_pool[i].l_id = i;
			return &lwp_pool[i];
		}
	}
	pc_panic("ptest_lwp_create: all %d lwps in use", NLWP);
}

void
ptest_lwp_destroy(struct lwp *l)
{
	l->l_pmap = NULL;
	__atomic_store_n(&lwp_used[l->l_id], 0, __ATOMIC_RELEASE);
}

void
ptest_switch(struct lwp *l)
{
	/* NULL is a kernel thread: the host maps it to the kernel pmap. */
	pc_set_curlwp(l);
	pmap_activate(l);
}

/* ---- caller errors ---- */

bool
ptest_catch_panic(void (*fn)(void *), void *arg, char *msg, size_t len)
{
	pc_jmp_buf jb;
	volatile int depth = pc_preempt_depth();

	if (pc_setjmp(jb) != 0) {
		if (len > 0)
			pc_snprintf(msg, len, "%s", pc_panic_message());
		/* The library re-enables preemption before its caller-error
		 * panics; make sure, so later tests run on a sane CPU. */
		if (pc_preempt_depth() != depth) {
			tap_diag("panic left preemption depth %d (was %d)",
			    pc_preempt_depth(), depth);
			pc_preempt_reset(depth);
		}
		return true;
	}
	pc_panic_catch(jb);
	fn(arg);
	pc_panic_uncatch();
	if (len > 0)
		msg[0] = '\0';
	return false;
}

void
ptest_signal(int cpu)
{
	pc_pmap_signal(cpu);
}

/* ---- machine-specific checks ---- */

bool
ptest_have_auditor(void)
{
	return false;
}

bool
ptest_audit(char *text, size_t len)
{
	if (len > 0)
		pc_snprintf(text, len, "no TLB auditor on the real machine");
	return true;
}

bool
ptest_tlb_holds(vaddr_t va)
{
	(void)va;
	return false;		/* a real TLB cannot be inspected */
}

bool
ptest_have_fault_injection(void)
{
	return true;
}

void
ptest_alloc_fail_nth(uint64_t n)
{
	pc_pmap_alloc_fail_nth(n);
}

uint64_t
ptest_alloc_count(void)
{
	return pc_pmap_alloc_count();
}

bool
ptest_have_nx(void)
{
	return pc_md_have_nx();
}

bool
ptest_kimage_large(void)
{
	/* Neither kernel offers it: amd64 maps its image with 4 KiB pages,
	 * and the pages the suite writes to inside i386's 4 MiB ones hold
	 * the kernel's own data (the vm_page array). */
	return false;
}

bool
ptest_have_pat(void)
{
	return pc_md_have_pat();
}

int
ptest_memtype(vaddr_t va)
{
	(void)va;
	return -1;		/* the MMU does not report it */
}

enum pmap_sfbuf_mode
ptest_sfbuf_mode(void)
{
	return sfbuf_mode;
}

/* ---- interrupt points: not on this machine (the suites skip) ---- */

bool
ptest_have_hooks(void)
{
	return false;
}

void
ptest_hook_pause(int cpu, enum ptest_hook hk, unsigned when, unsigned nth,
    void (*fn)(void *), void *arg)
{
	(void)cpu; (void)hk; (void)when; (void)nth; (void)fn; (void)arg;
	pc_panic("ptest_hook_pause: no interrupt points on the real machine");
}

void
ptest_hook_interrupt(int cpu, enum ptest_hook hk, unsigned when, unsigned nth,
    void (*fn)(void *), void *arg)
{
	(void)cpu; (void)hk; (void)when; (void)nth; (void)fn; (void)arg;
	pc_panic("ptest_hook_interrupt: no interrupt points on the real machine");
}

void ptest_hook_disarm(int cpu) { (void)cpu; }
bool ptest_hook_fired(int cpu) { (void)cpu; return false; }
bool ptest_ipi_pending(int cpu) { (void)cpu; return false; }

void
ptest_random_interrupts(void (*fn)(void *), void *arg, uint32_t ppm)
{
	(void)fn; (void)arg; (void)ppm;
	pc_panic("ptest_random_interrupts: no interrupt points on the real machine");
}

/* ---- the runner ---- */

/* Does name contain one of the comma-separated words of list? */
static bool
suite_selected(const char *name, const char *list)
{
	char word[64];

	while (*list != '\0') {
		size_t n = 0;

		while (list[n] != '\0' && list[n] != ',')
			n++;
		if (n > 0 && n < sizeof(word)) {
			memcpy(word, list, n);
			word[n] = '\0';
			if (strstr(name, word) != NULL)
				return true;
		}
		list += n;
		if (*list == ',')
			list++;
	}
	return false;
}

static void
back_to_kernel(void *arg)
{
	int *bad = arg;

	ptest_switch(NULL);
	if (pc_preempt_depth() != 0) {
		__atomic_fetch_add(bad, 1, __ATOMIC_RELAXED);
		pc_printf("# cpu %d: preemption depth %d after the suite\n",
		    pc_cpu_id(), pc_preempt_depth());
		pc_preempt_reset(0);
	}
}

static void
configure(void)
{
	char buf[32];

	if (pc_cmdline_value("sfbuf", buf, sizeof(buf))) {
		if (strcmp(buf, "mapped") == 0)
			sfbuf_mode = PMAP_SFBUF_MAPPED;
		else if (strcmp(buf, "dmap") != 0)
			pc_panic("command line: sfbuf=%s (dmap or mapped)", buf);
		else if (!PMAP_HAVE_DIRECT_MAP)
			pc_panic("command line: sfbuf=dmap, but %s has no direct "
			    "map (sf_bufs are always mapped)", PMAP_MACHINE);
	}
	seed = pc_cmdline_u64("seed", 1);
	scale = calibrate_scale();
	scale = (unsigned)pc_cmdline_u64("scale", scale);
	if (scale > 100)
		scale = 100;
	if (scale == 0)
		scale = 1;
	device_pa = find_device_pa();
}

const char *
pc_machine_name(void)
{
	const struct pc_cpu_features *f = pc_cpu_features();

	if (strcmp(f->cf_hv_vendor, "TCGTCGTCGTCG") == 0)
		return "TCG";
	if (strcmp(f->cf_hv_vendor, "KVMKVMKVM") == 0)
		return "KVM";
	return f->cf_hv_vendor[0] != '\0' ? f->cf_hv_vendor : "bare-metal";
}

int
pc_main(void)
{
	const struct pc_cpu_features *f = pc_cpu_features();
	char filter[128] = "";
	bool filtered;
	uint64_t t0;
	int nsuites = 0;

	if (pc_cmdline_flag("mmuprobe"))
		return pc_mmuprobe_main();
	if (pc_cmdline_flag("bench"))
		return pc_bench_main();

	configure();
	filtered = pc_cmdline_value("suite", filter, sizeof(filter));
	tap_diag("libpmap on the real MMU: %d CPUs, %s (%s), %s, sf_buf %s mode, "
	    "seed %llu, scale %u%% (calibration: 400 probes in %llu us)",
	    pc_ncpus(), pc_machine_name(), f->cf_vendor, PMAP_MACHINE,
	    sfbuf_mode == PMAP_SFBUF_MAPPED ? "mapped" : "direct-map",
	    (unsigned long long)seed, scale, (unsigned long long)calib_us);
	t0 = pc_uptime_us();
	pc_pmap_boot(sfbuf_mode);
	tap_diag("libpmap booted in %llu ms: every CPU runs on the kernel pmap",
	    (unsigned long long)((pc_uptime_us() - t0) / 1000));

	for (const struct ptest_suite *s = __start_ptest_suites;
	    s < __stop_ptest_suites; s++) {
		int before = tap_count(), failed = tap_failures(), bad = 0;
		uint64_t free0 = ptest_pages_free();

		if (filtered && !suite_selected(s->ps_name, filter))
			continue;
		nsuites++;
		tap_printf("# suite %s\n", s->ps_name);
		t0 = pc_uptime_us();
		s->ps_body();
		for (int i = 0; i < pc_ncpus(); i++)
			pc_run_on(i, back_to_kernel, &bad);
		if (bad != 0)
			tap_ok(false, "suite %s leaves preemption disabled", s->ps_name);
		tap_diag("suite %s: %d tests, %d failed, %llu ms, %ld pages not "
		    "returned", s->ps_name, tap_count() - before,
		    tap_failures() - failed,
		    (unsigned long long)((pc_uptime_us() - t0) / 1000),
		    (long)(free0 - ptest_pages_free()));
	}
	if (nsuites == 0 && tap_count() == 0) {
		/* Not an error: e.g. the mapped-mode run before those suites
		 * exist.  Say so in TAP. */
		tap_printf("1..0 # SKIP no suite matches \"%s\"\n", filter);
		return 0;
	}
	return tap_done();
}
