// SPDX-License-Identifier: BSD-2-Clause
/*
 * bench_pc.c - the libpmap kernel's bench mode (`bench` on the command
 * line; `make pc-bench` runs it): bench/bench_ops.c's operations - the
 * code bench_pmap times on the simulated machine - timed here on the real
 * MMU, where INVLPG, CR3 loads and shootdown IPIs are the hardware's (or,
 * under TCG, QEMU's emulation of them).
 *
 *   bench [pages=N] [reps=R]       (defaults 65536 and 3)
 *
 * What it does, on CPU 0, the other CPUs idle:
 *  1. Measures the TSC's rate again: PIT channel 2, five intervals of
 *     50 ms, the lowest (the boot's calibration is one of 10 ms); prints
 *     what CPUID leaves 0x15, 0x16 and 0x40000010 claim beside it.
 *  2. Boots libpmap; takes N frames from the page allocator (never
 *     touched: only mapped and unmapped) and maps the two arrays the
 *     operations read (each page's vm_page and physical address) into
 *     kernel virtual space with pmap_kenter_pa.
 *  3. The main table: R passes of bench_main_pass() (each operation once,
 *     fresh pmaps, active on CPU 0 only), the best of each, TSC-timed.
 *  4. Shootdowns: pmap_protect and pmap_remove of 1, 32, 33 and N written
 *     pages with pmap_update, the pmap active on every CPU (the others
 *     halted in it, answering IPIs) and then on CPU 0 only; rounds, IPIs
 *     and time (best of R).
 *  5. A few TAP checks that the runs did what they claim (every page
 *     mapped where it should be, every pmap and page table given back),
 *     then the plan; the times themselves are never judged.
 *
 * Output lines (run-qemu.sh turns those that are not TAP into "# "
 * comments; bench/pc-bench.sh reads them):
 *   pc-bench-machine arch=A accel=TCG|KVM|... vendor=V cpus=C pages=N reps=R
 *       tsc_hz=H tsc_source=pit
 *   pc-bench <op> <pages> <ns/page>            one per bench_ops[] entry
 *   pc-bench-update <protect|remove> <pages> <active CPUs> <rounds> <ipis>
 *       <ns for the call and its pmap_update>
 *   # pc-bench: ...                            everything else, for people
 */
#include "bench_ops.h"
#include "pc_pmap.h"
#include "tap.h"

#define DEFAULT_PAGES	65536
#define DEFAULT_REPS	3

static uint64_t tsc_hz;

/* ---- time ---- */

static uint64_t
tsc_clock(void)
{
	return pc_rdtsc();
}

static uint64_t
ticks_to_ns(uint64_t t)
{
	return t / tsc_hz * 1000000000u + t % tsc_hz * 1000000000u / tsc_hz;
}

/* "123.4": tenths of a unit, rounded (no floating point in this kernel). */
static const char *
tenths(char *buf, size_t len, uint64_t num, uint64_t den)
{
	uint64_t t = (num * 10 + den / 2) / den;

	pc_snprintf(buf, len, "%llu.%llu", (unsigned long long)(t / 10),
	    (unsigned long long)(t % 10));
	return buf;
}

static void
sort_u64(uint64_t *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t x = v[j];
			v[j] = v[j - 1];
			v[j - 1] = x;
		}
}

/*
 * The TSC's rate for converting the bench's ticks: the lowest of five
 * 50 ms measurements against PIT channel 2.  Under TCG the guest's TSC is
 * the host's (QEMU reads the host TSC) and the PIT runs on the host's
 * clock, so this is the host TSC's rate; under KVM the TSC is the
 * hardware's and the PIT QEMU's, on the same host clock.  Why the lowest:
 * a virtual CPU that loses its host CPU while it polls the PIT sees the
 * count run out late, and counts TSC ticks meanwhile, so the errors of a
 * loaded host make the rate too high (seen under TCG with other jobs on
 * the host: one interval of five 9 % high, the median 0.4 %); the window
 * that errs the other way (from starting the count to reading the TSC)
 * is a few instructions.
 */
static void
calibrate(void)
{
	enum { N = 5 };
	uint64_t hz[N];
	struct pc_tsc_cpuid tc;
	char a[32], b[32], c[32];

	for (int i = 0; i < N; i++)
		hz[i] = pc_tsc_measure_hz(50000);
	sort_u64(hz, N);
	tsc_hz = hz[0];
	if (tsc_hz == 0)
		pc_panic("bench: PIT channel 2 does not count: cannot calibrate the TSC");
	pc_printf("# pc-bench: TSC %s MHz: PIT channel 2, the lowest of %d x 50 ms "
	    "(%s .. %s MHz); the boot's 10 ms calibration said %llu MHz\n",
	    tenths(a, sizeof(a), tsc_hz, 1000000), N, tenths(b, sizeof(b), hz[0], 1000000),
	    tenths(c, sizeof(c), hz[N - 1], 1000000),
	    (unsigned long long)(pc_tsc_hz() / 1000000));
	pc_tsc_cpuid(&tc);
	pc_printf("# pc-bench: CPUID's word on the TSC: leaf 0x15 %s, leaf 0x16 %s, "
	    "hypervisor leaf 0x40000010 %s (MHz; not used)\n",
	    tc.tc_leaf15_hz ? tenths(a, sizeof(a), tc.tc_leaf15_hz, 1000000) : "none",
	    tc.tc_leaf16_hz ? tenths(b, sizeof(b), tc.tc_leaf16_hz, 1000000) : "none",
	    tc.tc_hv_hz ? tenths(c, sizeof(c), tc.tc_hv_hz, 1000000) : "none");
}

/* ---- CPU 0 runs a process, or the kernel ---- */

static struct lwp cpu_lwp[PC_MAX_CPUS];

static void
this_cpu_runs(pmap_t pm)
{
	struct lwp *l = NULL;

	if (pm != NULL) {
		l = &cpu_lwp[pc_cpu_id()];
		l->l_pmap = pm;
		l->l_id = pc_cpu_id();
	}
	pc_set_curlwp(l);
	pmap_activate(l);
}

static const struct bench_host pc_host = { .bh_clock = tsc_clock, .bh_runs = this_cpu_runs };

/* ---- memory ---- */

/* Kernel virtual memory for the page arrays: fresh frames mapped with
 * pmap_kenter_pa at the start of the kernel's virtual space (nobody else
 * uses it in this mode), kept until the kernel exits. */
static void *
kmem_get(size_t bytes)
{
	static vaddr_t next;
	vaddr_t va, end;
	vsize_t size = ((vsize_t)bytes + PAGE_MASK) & ~(vsize_t)PAGE_MASK;

	if (next == 0)
		pmap_virtual_space(&next, &end);
	va = next;
	next += size;
	if (pmap_growkernel(next) < next)
		pc_panic("bench: pmap_growkernel(%#llx) fell short",
		    (unsigned long long)next);
	for (vsize_t off = 0; off < size; off += PAGE_SIZE) {
		uint64_t pa;

		if (pc_page_alloc(&pa) != 0)
			pc_panic("bench: out of memory for the page arrays");
		pmap_kenter_pa(va + off, (paddr_t)pa, VM_PROT_READ | VM_PROT_WRITE, 0);
	}
	pmap_update(pmap_kernel());
	return (void *)(uintptr_t)va;
}

/* ---- the shootdown rounds, with the pmap active on every CPU ---- */

struct park {
	pmap_t pk_pm;
	int pk_ready;		/* (atomic) CPUs running pk_pm */
	int pk_stop;		/* (atomic) go back to the kernel */
};

/* On CPUs 1..: run a process of the pmap, halted (a shootdown IPI wakes
 * the CPU, is answered, and it halts again) until told to stop. */
static void
park(void *arg)
{
	struct park *pk = arg;

	this_cpu_runs(pk->pk_pm);
	__atomic_fetch_add(&pk->pk_ready, 1, __ATOMIC_RELEASE);
	for (;;) {
		pc_intr_state_t s = pc_intr_disable();

		if (__atomic_load_n(&pk->pk_stop, __ATOMIC_ACQUIRE)) {
			pc_intr_restore(s);
			break;
		}
		/* sti's shadow makes "sti; hlt" atomic: the wake-up that
		 * comes with pk_stop cannot be lost. */
		__asm__ __volatile__("sti; hlt" ::: "memory");
	}
	this_cpu_runs(NULL);
}

#define NSD 4

struct sd_row {
	long sr_pages;
	struct bench_sd sr_sd[2][2];		/* [everywhere, CPU 0][protect, remove] */
	uint64_t sr_ticks[2][2];
};

static uint64_t
sd_timed(pmap_t pm, long n, bool remove, struct bench_sd *sd)
{
	uint64_t t0 = pc_rdtsc();

	*sd = bench_shootdowns(pm, n, remove);
	return pc_rdtsc() - t0;
}

static void
shootdown_rows(struct bench_pass *p, int reps, struct sd_row rows[NSD])
{
	long sizes[NSD] = { 1, 32, 33, p->bp_n };
	int ncpus = pc_ncpus();
	uint32_t others = pc_cpus_all_mask() & ~1u;
	pmap_t pm = pmap_create();
	struct park pk = { .pk_pm = pm };

	this_cpu_runs(pm);
	for (int c = 1; c < ncpus; c++)
		pc_run_start(c, park, &pk);
	while (__atomic_load_n(&pk.pk_ready, __ATOMIC_ACQUIRE) != ncpus - 1)
		pc_cpu_relax();
	for (int where = 0; where < 2; where++) {
		if (where == 1) {
			__atomic_store_n(&pk.pk_stop, 1, __ATOMIC_RELEASE);
			pc_send_ipi(others, PC_VEC_WAKE);
			for (int c = 1; c < ncpus; c++)
				pc_run_wait(c);
		}
		for (int s = 0; s < NSD; s++) {
			struct sd_row *row = &rows[s];

			row->sr_pages = sizes[s];
			for (int r = 0; r < reps; r++) {
				for (int op = 0; op < 2; op++) {
					uint64_t t;

					/* Referenced, dirty pages: a TLB may hold each one. */
					if (op == 0)
						bench_map_written(p, pm, sizes[s]);
					t = sd_timed(pm, sizes[s], op == 1, &row->sr_sd[where][op]);
					if (r == 0 || t < row->sr_ticks[where][op])
						row->sr_ticks[where][op] = t;
				}
			}
		}
	}
	this_cpu_runs(NULL);
	pmap_destroy(pm);
}

/* ---- the mode ---- */

int
pc_bench_main(void)
{
	long n = (long)pc_cmdline_u64("pages", DEFAULT_PAGES);
	int reps = (int)pc_cmdline_u64("reps", DEFAULT_REPS);
	uint64_t best[BENCH_NOPS] = { 0 }, nfree, free0, free1;
	struct pmap_counters k0, k1;
	struct bench_mem mf = { 0 };
	struct bench_pass p;
	struct sd_row rows[NSD] = { 0 };
	struct vm_page **pgs;
	paddr_t *pas;
	long extracted_bad = 0, child_bad = 0;
	char a[32], b[32], c[32];

	if (n < 1 || reps < 1 || reps > 100)
		pc_panic("bench: pages=%ld reps=%d: want pages >= 1 and 1 <= reps <= 100",
		    n, reps);
	if ((uint64_t)n > BENCH_VA_PAGES)
		pc_panic("bench: pages=%ld: at most %llu pages fit in the user address "
		    "space above %#llx", n, (unsigned long long)BENCH_VA_PAGES,
		    (unsigned long long)BENCH_VA0);
	calibrate();
	pc_pmap_boot(PMAP_HAVE_DIRECT_MAP ? PMAP_SFBUF_DMAP : PMAP_SFBUF_MAPPED);

	/* The pages, plus what the passes need: page tables (two pmaps,
	 * 1/512 of a page per mapping each, plus upper levels), pv chunks
	 * (~25 bytes per second mapping), the arrays; and some slack. */
	pc_page_counts(NULL, &nfree);
	uint64_t need = (uint64_t)n + (uint64_t)n / 64 + 1024;
	if (need > nfree)
		pc_panic("bench: pages=%ld needs about %llu MiB and %llu MiB are free: boot "
		    "with more memory (run-qemu.sh --mem; make pc-bench PC_BENCH_MEM=) or "
		    "ask for fewer pages", n,
		    (unsigned long long)(need >> 8), (unsigned long long)(nfree >> 8));
	pgs = kmem_get((size_t)n * sizeof(*pgs));
	pas = kmem_get((size_t)n * sizeof(*pas));
	for (long i = 0; i < n; i++) {
		uint64_t pa;

		if (pc_page_alloc(&pa) != 0)
			pc_panic("bench: out of frames at page %ld of %ld", i, n);
		pas[i] = (paddr_t)pa;
		pgs[i] = pc_pa_to_vm_page(pas[i]);
		if (pgs[i] == NULL)
			pc_panic("bench: frame %#llx has no vm_page", (unsigned long long)pa);
	}
	p = (struct bench_pass){ .bp_n = n, .bp_pgs = pgs, .bp_pas = pas };

	pc_printf("pc-bench-machine arch=%s accel=%s vendor=%s cpus=%d pages=%ld reps=%d "
	    "tsc_hz=%llu tsc_source=pit\n", PMAP_MACHINE, pc_machine_name(),
	    pc_cpu_features()->cf_vendor, pc_ncpus(), n, reps,
	    (unsigned long long)tsc_hz);

	/* 3. The main table. */
	pc_page_counts(NULL, &free0);
	pmap_get_counters(&k0);
	uint64_t t0 = pc_uptime_us();
	for (int r = 0; r < reps; r++) {
		uint64_t t[BENCH_NOPS];

		bench_main_pass(&pc_host, &p, t, &mf);
		for (int i = 0; i < BENCH_NOPS; i++)
			if (r == 0 || t[i] < best[i])
				best[i] = t[i];
		extracted_bad += mf.bm_extracted != (unsigned long)n;
		child_bad += mf.bm_child_resident != n;
	}
	pmap_get_counters(&k1);
	pc_page_counts(NULL, &free1);
	pc_printf("# pc-bench: main table: %ld pages (%ld MiB), the pmap active on CPU 0 "
	    "only, best of %d pass%s (%llu ms)\n", n, n >> 8, reps, reps == 1 ? "" : "es",
	    (unsigned long long)((pc_uptime_us() - t0) / 1000));
	for (int i = 0; i < BENCH_NOPS; i++)
		pc_printf("pc-bench %s %ld %s\n", bench_ops[i].bo_word, n,
		    tenths(a, sizeof(a), ticks_to_ns(best[i]), (uint64_t)n));
	pc_printf("# pc-bench: page tables %s bytes per first mapping, %s per further one; "
	    "pv %s bytes per further mapping\n",
	    tenths(a, sizeof(a), (uint64_t)mf.bm_ptp_first * PAGE_SIZE, (uint64_t)n),
	    tenths(b, sizeof(b), (uint64_t)mf.bm_ptp_further * PAGE_SIZE, (uint64_t)n),
	    tenths(c, sizeof(c), mf.bm_pv_chunks_further * PAGE_SIZE, (uint64_t)n));
	if (mf.bm_child_after_copy == 0)
		pc_printf("# pc-bench: pmap_copy did nothing: the fork line's child mappings "
		    "are pmap_enter's\n");
	else
		pc_printf("# pc-bench: pmap_copy mapped %ld of %ld pages%s\n",
		    mf.bm_child_after_copy, n,
		    mf.bm_child_after_copy < n ? "; pmap_enter made the rest" : "");

	/* 4. Shootdowns. */
	t0 = pc_uptime_us();
	shootdown_rows(&p, reps, rows);
	pc_printf("# pc-bench: shootdowns per pmap_update, %d CPUs, best of %d (%llu ms)\n",
	    pc_ncpus(), reps, (unsigned long long)((pc_uptime_us() - t0) / 1000));
	for (int where = 0; where < 2; where++)
		for (int s = 0; s < NSD; s++)
			for (int op = 0; op < 2; op++)
				pc_printf("pc-bench-update %s %ld %d %llu %llu %llu\n",
				    op == 0 ? "protect" : "remove", rows[s].sr_pages,
				    where == 0 ? pc_ncpus() : 1,
				    (unsigned long long)rows[s].sr_sd[where][op].bs_rounds,
				    (unsigned long long)rows[s].sr_sd[where][op].bs_ipis,
				    (unsigned long long)ticks_to_ns(rows[s].sr_ticks[where][op]));

	/* 5. What the runs claim. */
	ok(extracted_bad == 0, "bench: pmap_extract found all %ld pages mapped in every "
	    "pass (%ld passes did not)", n, extracted_bad);
	ok(child_bad == 0, "bench: after fork the child mapped all %ld pages in every "
	    "pass (%ld passes did not)", n, child_bad);
	ok(k1.pc_pmaps == k0.pc_pmaps && k1.pc_ptp_pages == k0.pc_ptp_pages,
	    "bench: the passes destroyed their pmaps (%llu -> %llu live) and freed their "
	    "page tables (%llu -> %llu pages)", (unsigned long long)k0.pc_pmaps,
	    (unsigned long long)k1.pc_pmaps, (unsigned long long)k0.pc_ptp_pages,
	    (unsigned long long)k1.pc_ptp_pages);
	ok(free1 == free0, "bench: the passes gave every frame back (%llu free before, %llu "
	    "after)", (unsigned long long)free0, (unsigned long long)free1);
	return tap_done();
}
