// SPDX-License-Identifier: BSD-2-Clause
/*
 * selftest.c - pc_main() that tests the platform itself and prints TAP.
 *
 * Uses only pc.h, as the portable tests will.  Each entry of st_tests
 * reports exactly one TAP result, so the plan is the table's length.  A
 * test that needs a CPU feature QEMU does not offer reports "# SKIP".
 *
 * Fixed test addresses (nothing else maps them):
 *   ST_KVA + 0x0000  supervisor RW page         (pattern ST_PATTERN)
 *   ST_KVA + 0x1000  supervisor read-only page  (pattern ~ST_PATTERN)
 *   ST_KVA + 0x2000  supervisor XD page holding `ret`, mapped only while
 *                    EFER.NXE=1 in the NX test
 *   ST_KVA + 0x5000  never mapped (its page table exists)
 *   ST_UVA + 0x0000  user RW page                (pattern ST_PATTERN)
 *   ST_UVA + 0x1000  user read-only page
 *   ST_UVA + 0x2000  user page full of `ret`
 *   ST_UVA + 0x3000  user XD page of `ret`, only in the NX test
 *   ST_UVA + 0x5000  never mapped
 *   ST_HOLE          no page tables at all below its PML4 entry
 *
 * Failure injection, to test run-qemu.sh: the kernel command line option
 * selftest.crash=WHAT (qemu -append) breaks the run after test 1 in one
 * of these ways: panic, fault (uncaught #PF), apfault (uncaught #PF on the
 * last CPU), hang (spin with interrupts off), triple (triple fault),
 * fail (one extra failing test), noplan (no "1..N" line at all).
 */
#include "pc.h"

#define ST_KVA          0xffffffffc0000000ULL
#define ST_UVA          0x0000000000600000ULL
#define ST_HOLE         0xffff900000000000ULL
#define ST_PATTERN      0x0123456789abcdefULL
#define ST_IPI_VECTOR   0x40

enum st_result { ST_PASS, ST_FAIL, ST_SKIP };

static char st_diag[512];

#define DIAG(...) pc_snprintf(st_diag, sizeof(st_diag), __VA_ARGS__)

/* Fail the current test with a message unless cond holds. */
#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		DIAG(__VA_ARGS__);					\
		return ST_FAIL;						\
	}								\
} while (0)

static uint64_t st_frame_krw, st_frame_kro, st_frame_knx;
static uint64_t st_frame_urw, st_frame_uro, st_frame_uret, st_frame_unx;

static uint64_t *
frame_ptr(uint64_t pa)
{
	return pc_phys_to_dmap(pa);
}

static uint64_t
new_frame(uint64_t fill)
{
	uint64_t pa, *p;

	if (pc_page_alloc(&pa) != 0)
		pc_panic("selftest: out of memory");
	p = frame_ptr(pa);
	for (int i = 0; i < PC_PAGE_SIZE / 8; i++)
		p[i] = fill;
	return pa;
}

static void
st_setup(void)
{
	const uint64_t rets = 0xc3c3c3c3c3c3c3c3ULL;

	st_frame_krw = new_frame(ST_PATTERN);
	st_frame_kro = new_frame(~ST_PATTERN);
	st_frame_knx = new_frame(rets);
	st_frame_urw = new_frame(ST_PATTERN);
	st_frame_uro = new_frame(~ST_PATTERN);
	st_frame_uret = new_frame(rets);
	st_frame_unx = new_frame(rets);
	if (pc_bootpt_enter(ST_KVA, st_frame_krw, PC_PTE_RW) != 0 ||
	    pc_bootpt_enter(ST_KVA + 0x1000, st_frame_kro, 0) != 0 ||
	    pc_bootpt_enter(ST_UVA, st_frame_urw, PC_PTE_RW | PC_PTE_US) != 0 ||
	    pc_bootpt_enter(ST_UVA + 0x1000, st_frame_uro, PC_PTE_US) != 0 ||
	    pc_bootpt_enter(ST_UVA + 0x2000, st_frame_uret, PC_PTE_US) != 0)
		pc_panic("selftest: cannot map the test pages");
}

/* Expect a #PF with the given error code at va. */
static enum st_result
expect_pf(int r, uint64_t va, uint32_t err, const char *what)
{
	struct pc_fault f;

	CHECK(r == PC_PROBE_PF, "%s: result %#x, expected #PF", what, r);
	pc_probe_last_fault(&f);
	CHECK(f.vector == 14 && f.error_code == err && f.cr2 == va,
	    "%s: vector %d error %#x cr2 %#lx, expected error %#x cr2 %#lx",
	    what, f.vector, f.error_code, f.cr2, err, va);
	return ST_PASS;
}

#define EXPECT_PF(r, va, err, what) do {				\
	if (expect_pf((r), (va), (err), (what)) != ST_PASS)		\
		return ST_FAIL;						\
} while (0)

/* ---------------------------------------------------------------------
 * CPUs, cross-calls, IPIs.
 * --------------------------------------------------------------------- */
static enum st_result
t_cpus_online(void)
{
	CHECK(pc_ncpus() >= 1 && pc_ncpus() == pc_ncpus_found(),
	    "%d CPUs online, ACPI lists %d", pc_ncpus(), pc_ncpus_found());
	DIAG("%d CPUs", pc_ncpus());
	return ST_PASS;
}

struct whoami {
	int w_id;
	uint32_t w_apic;
	uint64_t w_gs_self;
};

static void
whoami_cb(void *arg)
{
	struct whoami *w = arg;

	w->w_id = pc_cpu_id();
	w->w_apic = pc_percpu()->pcpu_apic_id;
	w->w_gs_self = (uint64_t)(uintptr_t)pc_percpu();
}

static enum st_result
t_run_on_each(void)
{
	for (int cpu = 0; cpu < pc_ncpus(); cpu++) {
		struct whoami w = { -1, 0, 0 };

		pc_run_on(cpu, whoami_cb, &w);
		CHECK(w.w_id == cpu, "pc_run_on(%d) ran on cpu %d", cpu, w.w_id);
		CHECK(w.w_apic == pc_cpu_apic_id(cpu) &&
		    w.w_gs_self == (uint64_t)(uintptr_t)pc_percpu_of(cpu),
		    "cpu %d: apic %u vs %u, percpu %#lx vs %p", cpu, w.w_apic,
		    pc_cpu_apic_id(cpu), w.w_gs_self, (void *)pc_percpu_of(cpu));
	}
	return ST_PASS;
}

static int st_arrived;
static int st_barrier_failed;

static void
barrier_cb(void *arg)
{
	int want = *(int *)arg;
	uint64_t start = pc_uptime_us();

	pc_printf("# cpu %d at the barrier\n", pc_cpu_id());
	__atomic_fetch_add(&st_arrived, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&st_arrived, __ATOMIC_ACQUIRE) < want) {
		if (pc_uptime_us() - start > 5000000) {
			__atomic_store_n(&st_barrier_failed, 1, __ATOMIC_RELEASE);
			return;
		}
		pc_cpu_relax();
	}
}

static enum st_result
t_run_concurrent(void)
{
	int n = pc_ncpus();

	if (n < 2) {
		DIAG("needs 2 CPUs");
		return ST_SKIP;
	}
	st_arrived = 0;
	st_barrier_failed = 0;
	/* Every CPU, this one included, must reach the barrier before any
	 * may leave it: only possible if they all run at once. */
	for (int cpu = 1; cpu < n; cpu++)
		pc_run_start(cpu, barrier_cb, &n);
	barrier_cb(&n);
	for (int cpu = 1; cpu < n; cpu++)
		pc_run_wait(cpu);
	CHECK(!st_barrier_failed, "barrier timed out, %d of %d arrived",
	    st_arrived, n);
	return ST_PASS;
}

static void
nested_inner_cb(void *arg)
{
	*(int *)arg = pc_cpu_id();
}

static void
nested_outer_cb(void *arg)
{
	int *res = arg;

	/* From an AP, call back into CPU 0 (which is waiting for us) and
	 * into the last CPU. */
	pc_run_on(0, nested_inner_cb, &res[0]);
	pc_run_on(pc_ncpus() - 1, nested_inner_cb, &res[1]);
}

static enum st_result
t_run_nested(void)
{
	int res[2] = { -1, -1 };

	if (pc_ncpus() < 2) {
		DIAG("needs 2 CPUs");
		return ST_SKIP;
	}
	pc_run_on(1, nested_outer_cb, res);
	CHECK(res[0] == 0 && res[1] == pc_ncpus() - 1,
	    "nested cross-calls ran on %d and %d", res[0], res[1]);
	return ST_PASS;
}

static uint32_t st_ipi_count[32];
static uint32_t st_ipi_badframe;

static void
ipi_handler(struct pc_trapframe *tf, void *arg)
{
	if (arg != &st_ipi_count || tf->tf_vector != ST_IPI_VECTOR ||
	    (tf->tf_rflags & (1u << 9)) == 0)
		__atomic_fetch_add(&st_ipi_badframe, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&st_ipi_count[pc_cpu_id()], 1, __ATOMIC_RELAXED);
}

static enum st_result
t_ipi_all(void)
{
	int n = pc_ncpus();
	const int rounds = 100;

	CHECK(pc_intr_register(ST_IPI_VECTOR, ipi_handler, &st_ipi_count) == 0,
	    "cannot register vector %#x", ST_IPI_VECTOR);
	for (int round = 1; round <= rounds; round++) {
		uint64_t start = pc_uptime_us();
		bool all;

		pc_send_ipi(pc_cpus_all_mask(), ST_IPI_VECTOR);
		do {
			all = true;
			for (int cpu = 0; cpu < n; cpu++) {
				if (__atomic_load_n(&st_ipi_count[cpu],
				    __ATOMIC_RELAXED) < (uint32_t)round)
					all = false;
			}
			if (!all && pc_uptime_us() - start > 2000000) {
				for (int cpu = 0; cpu < n; cpu++) {
					if (st_ipi_count[cpu] < (uint32_t)round)
						DIAG("round %d: cpu %d got %u IPIs",
						    round, cpu, st_ipi_count[cpu]);
				}
				pc_intr_register(ST_IPI_VECTOR, NULL, NULL);
				return ST_FAIL;
			}
		} while (!all);
	}
	pc_intr_register(ST_IPI_VECTOR, NULL, NULL);
	CHECK(st_ipi_badframe == 0, "%u handler calls saw a bad frame",
	    st_ipi_badframe);
	for (int cpu = 0; cpu < n; cpu++)
		CHECK(st_ipi_count[cpu] == (uint32_t)rounds,
		    "cpu %d got %u IPIs for %d sent", cpu, st_ipi_count[cpu],
		    rounds);
	DIAG("%d rounds to %d CPUs", rounds, n);
	return ST_PASS;
}

static void
scratch_cb(void *arg)
{
	(void)arg;
	/* Write through %gs, read back through pc_percpu_of() below. */
	__asm__ __volatile__("movq %0, %%gs:%c1"
	    :: "r"(0x5c000000ULL + (uint64_t)pc_cpu_id()),
	    "i"(PC_PCPU_SCRATCH + 8) : "memory");
}

static enum st_result
t_percpu_scratch(void)
{
	pc_run_on_mask(pc_cpus_all_mask(), scratch_cb, NULL);
	for (int cpu = 0; cpu < pc_ncpus(); cpu++) {
		uint64_t v;

		memcpy(&v, pc_percpu_of(cpu)->pcpu_scratch + 8, 8);
		CHECK(v == 0x5c000000ULL + (uint64_t)cpu,
		    "cpu %d scratch holds %#lx", cpu, v);
	}
	return ST_PASS;
}

/* ---------------------------------------------------------------------
 * Supervisor probes.
 * --------------------------------------------------------------------- */
static enum st_result
t_sup_read_unmapped(void)
{
	EXPECT_PF(pc_probe_read(ST_KVA + 0x5000, 8, NULL), ST_KVA + 0x5000, 0,
	    "leaf not present");
	EXPECT_PF(pc_probe_read(ST_HOLE + 0x123, 4, NULL), ST_HOLE + 0x123, 0,
	    "PML4E not present");
	return ST_PASS;
}

static enum st_result
t_sup_write_unmapped(void)
{
	EXPECT_PF(pc_probe_write(ST_KVA + 0x5008, 8, 1), ST_KVA + 0x5008,
	    PC_PF_W, "write");
	return ST_PASS;
}

static enum st_result
t_sup_read_mapped(void)
{
	static const int sizes[] = { 1, 2, 4, 8 };

	for (unsigned i = 0; i < 4; i++) {
		uint64_t v = 0, want = ST_PATTERN;
		int r = pc_probe_read(ST_KVA, sizes[i], &v);

		if (sizes[i] < 8)
			want &= (1ULL << (8 * sizes[i])) - 1;
		CHECK(r == PC_PROBE_OK && v == want,
		    "size %d: result %#x value %#lx", sizes[i], r, v);
	}
	return ST_PASS;
}

static enum st_result
t_sup_write_ro_wp1(void)
{
	CHECK((pc_read_cr0() & (1u << 16)) != 0, "CR0.WP is clear at start");
	EXPECT_PF(pc_probe_write(ST_KVA + 0x1010, 4, 7), ST_KVA + 0x1010,
	    PC_PF_P | PC_PF_W, "write to read-only with WP=1");
	CHECK(frame_ptr(st_frame_kro)[2] == ~ST_PATTERN, "page was modified");
	return ST_PASS;
}

static enum st_result
t_sup_write_ro_wp0(void)
{
	int old = pc_set_cr0_wp(false);
	int r = pc_probe_write(ST_KVA + 0x1010, 8, 0x77);

	pc_set_cr0_wp(old);
	CHECK(r == PC_PROBE_OK, "write with WP=0: result %#x", r);
	CHECK(frame_ptr(st_frame_kro)[2] == 0x77, "value not stored");
	frame_ptr(st_frame_kro)[2] = ~ST_PATTERN;
	return ST_PASS;
}

static enum st_result
t_sup_noncanonical(void)
{
	struct pc_fault f;
	int r = pc_probe_read(0x0000800000000000ULL, 8, NULL);

	pc_probe_last_fault(&f);
	CHECK(r == PC_PROBE_GP && f.vector == 13,
	    "result %#x vector %d, expected #GP", r, f.vector);
	return ST_PASS;
}

static enum st_result
t_sup_exec(void)
{
	int r = pc_probe_exec((uint64_t)(uintptr_t)pc_probe_ret_insn);

	CHECK(r == PC_PROBE_OK, "exec of kernel ret: result %#x", r);
	/* I/D is reported only with EFER.NXE or CR4.SMEP set. */
	EXPECT_PF(pc_probe_exec(ST_KVA + 0x5000), ST_KVA + 0x5000, 0,
	    "exec of unmapped page, NXE=0");
	return ST_PASS;
}

/* ---------------------------------------------------------------------
 * User probes.
 * --------------------------------------------------------------------- */
static enum st_result
t_user_read(void)
{
	static const int sizes[] = { 1, 2, 4, 8 };

	for (unsigned i = 0; i < 4; i++) {
		uint64_t v = 0, want = ST_PATTERN;
		int r = pc_probe_user_read(ST_UVA, sizes[i], &v);

		if (sizes[i] < 8)
			want &= (1ULL << (8 * sizes[i])) - 1;
		CHECK(r == PC_PROBE_OK && v == want,
		    "size %d: result %#x value %#lx", sizes[i], r, v);
	}
	return ST_PASS;
}

static enum st_result
t_user_write(void)
{
	int r = pc_probe_user_write(ST_UVA + 0x18, 8, 0xfeedface12345678ULL);

	CHECK(r == PC_PROBE_OK, "result %#x", r);
	CHECK(frame_ptr(st_frame_urw)[3] == 0xfeedface12345678ULL,
	    "kernel sees %#lx", frame_ptr(st_frame_urw)[3]);
	r = pc_probe_user_write(ST_UVA + 0x18, 1, 0x99);
	CHECK(r == PC_PROBE_OK &&
	    frame_ptr(st_frame_urw)[3] == 0xfeedface12345699ULL,
	    "byte write: result %#x, kernel sees %#lx", r,
	    frame_ptr(st_frame_urw)[3]);
	return ST_PASS;
}

static enum st_result
t_user_write_ro(void)
{
	EXPECT_PF(pc_probe_user_write(ST_UVA + 0x1000, 8, 1), ST_UVA + 0x1000,
	    PC_PF_P | PC_PF_W | PC_PF_U, "user write to read-only page");
	return ST_PASS;
}

static enum st_result
t_user_read_supervisor(void)
{
	EXPECT_PF(pc_probe_user_read(ST_KVA, 8, NULL), ST_KVA,
	    PC_PF_P | PC_PF_U, "user read of supervisor page");
	EXPECT_PF(pc_probe_user_read((uint64_t)(uintptr_t)pc_probe_ret_insn, 1,
	    NULL), (uint64_t)(uintptr_t)pc_probe_ret_insn, PC_PF_P | PC_PF_U,
	    "user read of kernel text");
	return ST_PASS;
}

static enum st_result
t_user_read_unmapped(void)
{
	EXPECT_PF(pc_probe_user_read(ST_UVA + 0x5000, 4, NULL),
	    ST_UVA + 0x5000, PC_PF_U, "user read of unmapped page");
	return ST_PASS;
}

static enum st_result
t_user_exec(void)
{
	int r = pc_probe_user_exec(ST_UVA + 0x2000);

	if (r != PC_PROBE_OK) {
		struct pc_fault f;

		pc_probe_last_fault(&f);
		DIAG("user exec of user ret: result %#x vector %d rip %#lx "
		    "error %#x cr2 %#lx", r, f.vector, f.rip, f.error_code,
		    f.cr2);
		return ST_FAIL;
	}
	return ST_PASS;
}

static enum st_result
t_nx(void)
{
	int old;
	enum st_result res = ST_PASS;

	if (!pc_cpu_features()->cf_nx) {
		DIAG("CPU has no NX");
		return ST_SKIP;
	}
	old = pc_set_efer_nxe(true);
	if (pc_bootpt_enter(ST_UVA + 0x3000, st_frame_unx,
	    PC_PTE_US | PC_PTE_XD) != 0 ||
	    pc_bootpt_enter(ST_KVA + 0x2000, st_frame_knx,
	    PC_PTE_RW | PC_PTE_XD) != 0)
		pc_panic("selftest: cannot map XD pages");

	if (expect_pf(pc_probe_user_exec(ST_UVA + 0x3000), ST_UVA + 0x3000,
	    PC_PF_P | PC_PF_U | PC_PF_I, "user fetch from XD page") != ST_PASS)
		res = ST_FAIL;
	else if (expect_pf(pc_probe_exec(ST_KVA + 0x2000), ST_KVA + 0x2000,
	    PC_PF_P | PC_PF_I, "supervisor fetch from XD page") != ST_PASS)
		res = ST_FAIL;
	else if (pc_probe_user_exec(ST_UVA + 0x2000) != PC_PROBE_OK) {
		DIAG("user exec of a non-XD page failed with NXE=1");
		res = ST_FAIL;
	} else if (expect_pf(pc_probe_exec(ST_KVA + 0x5000), ST_KVA + 0x5000,
	    PC_PF_I, "fetch from unmapped page, NXE=1") != ST_PASS)
		res = ST_FAIL;

	/* XD is a reserved bit once NXE is clear: remove first. */
	pc_bootpt_remove(ST_UVA + 0x3000);
	pc_bootpt_remove(ST_KVA + 0x2000);
	pc_set_efer_nxe(old);
	return res;
}

static enum st_result
t_smep(void)
{
	int old, r;
	struct pc_fault f;

	if (!pc_cpu_features()->cf_smep) {
		DIAG("CPU has no SMEP");
		return ST_SKIP;
	}
	old = pc_set_cr4_smep(true);
	r = pc_probe_exec(ST_UVA + 0x2000);
	pc_probe_last_fault(&f);
	pc_set_cr4_smep(old);
	CHECK(r == PC_PROBE_PF && f.error_code == (PC_PF_P | PC_PF_I) &&
	    f.cr2 == ST_UVA + 0x2000,
	    "supervisor fetch from user page: result %#x error %#x cr2 %#lx",
	    r, f.error_code, f.cr2);
	r = pc_probe_exec(ST_UVA + 0x2000);
	CHECK(r == PC_PROBE_OK, "same fetch with SMEP off: result %#x", r);
	return ST_PASS;
}

static enum st_result
t_smap(void)
{
	int old, oldac, r1, r2;
	uint64_t v = 0;
	struct pc_fault f;

	if (!pc_cpu_features()->cf_smap) {
		DIAG("CPU has no SMAP");
		return ST_SKIP;
	}
	old = pc_set_cr4_smap(true);
	oldac = pc_set_rflags_ac(false);
	r1 = pc_probe_read(ST_UVA, 8, NULL);
	pc_probe_last_fault(&f);
	pc_set_rflags_ac(true);
	r2 = pc_probe_read(ST_UVA, 8, &v);
	pc_set_rflags_ac(oldac);
	pc_set_cr4_smap(old);
	CHECK(r1 == PC_PROBE_PF && f.error_code == PC_PF_P && f.cr2 == ST_UVA,
	    "AC=0: result %#x error %#x cr2 %#lx", r1, f.error_code, f.cr2);
	CHECK(r2 == PC_PROBE_OK && v == ST_PATTERN,
	    "AC=1: result %#x value %#lx", r2, v);
	return ST_PASS;
}

struct st_on_cpu {
	int oc_user_r, oc_sup_r;
	uint64_t oc_val;
	struct pc_fault oc_fault;
};

static void
probes_on_cpu_cb(void *arg)
{
	struct st_on_cpu *oc = arg;

	oc->oc_user_r = pc_probe_user_read(ST_UVA + 8, 8, &oc->oc_val);
	oc->oc_sup_r = pc_probe_read(ST_HOLE + 0x40 * (uint64_t)pc_cpu_id(), 8,
	    NULL);
	pc_probe_last_fault(&oc->oc_fault);
}

static enum st_result
t_probes_every_cpu(void)
{
	for (int cpu = 0; cpu < pc_ncpus(); cpu++) {
		struct st_on_cpu oc;

		memset(&oc, 0, sizeof(oc));
		pc_run_on(cpu, probes_on_cpu_cb, &oc);
		CHECK(oc.oc_user_r == PC_PROBE_OK && oc.oc_val == ST_PATTERN,
		    "cpu %d: user read result %#x value %#lx", cpu,
		    oc.oc_user_r, oc.oc_val);
		CHECK(oc.oc_sup_r == PC_PROBE_PF &&
		    oc.oc_fault.cr2 == ST_HOLE + 0x40 * (uint64_t)cpu,
		    "cpu %d: supervisor probe result %#x cr2 %#lx", cpu,
		    oc.oc_sup_r, oc.oc_fault.cr2);
	}
	return ST_PASS;
}

static enum st_result
t_cr4_toggles(void)
{
	const struct pc_cpu_features *f = pc_cpu_features();
	int old;

	if (!f->cf_pge && !f->cf_pcid) {
		DIAG("CPU has neither PGE nor PCID");
		return ST_SKIP;
	}
	if (f->cf_pge) {
		old = pc_set_cr4_pge(true);
		CHECK(old == 0 && (pc_read_cr4() & (1u << 7)), "PGE did not set");
		pc_set_cr4_pge(false);
		CHECK(!(pc_read_cr4() & (1u << 7)), "PGE did not clear");
	}
	if (f->cf_pcid) {
		uint64_t v = 0;

		old = pc_set_cr4_pcide(true);
		CHECK(old == 0 && (pc_read_cr4() & (1u << 17)),
		    "PCIDE did not set");
		pc_tlb_flush_local();
		CHECK(pc_probe_user_read(ST_UVA, 8, &v) == PC_PROBE_OK &&
		    v == ST_PATTERN, "user probe with PCIDE=1 failed");
		pc_set_cr4_pcide(false);
		CHECK(!(pc_read_cr4() & (1u << 17)), "PCIDE did not clear");
	}
	return ST_PASS;
}

/* ---------------------------------------------------------------------
 * setjmp/longjmp and panics.
 * --------------------------------------------------------------------- */
static __attribute__((noinline)) void
jump_back(pc_jmp_buf env, int v)
{
	pc_longjmp(env, v);
}

static enum st_result
t_setjmp(void)
{
	pc_jmp_buf env;
	volatile int calls = 0;
	int r;

	r = pc_setjmp(env);
	calls++;
	if (r == 0)
		jump_back(env, 7);
	CHECK(r == 7 && calls == 2, "first longjmp: r %d calls %d", r, calls);
	r = pc_setjmp(env);
	if (r == 0)
		jump_back(env, 0);
	CHECK(r == 1, "longjmp(env, 0) returned %d, expected 1", r);
	return ST_PASS;
}

static __attribute__((noinline)) void
do_panic(int v)
{
	pc_panic("deliberate panic %d", v);
}

static enum st_result
t_panic_catch(void)
{
	pc_jmp_buf env;
	volatile bool reached = false;

	if (pc_setjmp(env) == 0) {
		pc_panic_catch(env);
		do_panic(42);
		reached = true;
		pc_panic_uncatch();
	}
	CHECK(!reached, "pc_panic returned");
	CHECK(strcmp(pc_panic_message(), "deliberate panic 42") == 0,
	    "message \"%s\"", pc_panic_message());
	return ST_PASS;
}

static enum st_result
t_panic_catch_fault(void)
{
	pc_jmp_buf env;
	volatile uint64_t sink = 0;
	bool was_on = pc_intr_enabled_p();

	if (pc_setjmp(env) == 0) {
		pc_panic_catch(env);
		sink = *(volatile uint64_t *)(uintptr_t)(ST_HOLE + 8);
		pc_panic_uncatch();
		DIAG("read of unmapped memory returned %#lx", (uint64_t)sink);
		return ST_FAIL;
	}
	CHECK(strstr(pc_panic_message(), "exception 14") != NULL &&
	    strstr(pc_panic_message(), "cr2 0xffff900000000008") != NULL,
	    "message \"%s\"", pc_panic_message());
	CHECK(pc_intr_enabled_p() == was_on, "interrupt state not restored");
	return ST_PASS;
}

/* ---------------------------------------------------------------------
 * Memory.
 * --------------------------------------------------------------------- */
static enum st_result
t_page_alloc(void)
{
	enum { N = 64 };
	uint64_t pa[N], total, free0, free1, free2;
	pc_jmp_buf env;

	pc_page_counts(&total, &free0);
	CHECK(total > 1000 && free0 <= total, "total %lu free %lu", total,
	    free0);
	for (int i = 0; i < N; i++) {
		CHECK(pc_page_alloc(&pa[i]) == 0, "allocation %d failed", i);
		CHECK((pa[i] & 0xfff) == 0 && pc_page_managed_p(pa[i]) &&
		    !pc_page_free_p(pa[i]), "bad frame %#lx", pa[i]);
		for (int j = 0; j < i; j++)
			CHECK(pa[i] != pa[j], "frame %#lx handed out twice",
			    pa[i]);
	}
	pc_page_counts(NULL, &free1);
	CHECK(free1 == free0 - N, "free count %lu after %d allocs from %lu",
	    free1, N, free0);
	for (int i = 0; i < N; i++)
		pc_page_free(pa[i]);
	pc_page_counts(NULL, &free2);
	CHECK(free2 == free0 && pc_page_free_p(pa[0]),
	    "free count %lu, expected %lu", free2, free0);
	if (pc_setjmp(env) == 0) {
		pc_panic_catch(env);
		pc_page_free(pa[0]);
		pc_panic_uncatch();
		DIAG("double free not detected");
		return ST_FAIL;
	}
	CHECK(strstr(pc_panic_message(), "freed twice") != NULL,
	    "message \"%s\"", pc_panic_message());
	DIAG("%lu frames managed", total);
	return ST_PASS;
}

static volatile uint64_t st_image_word = 1;

static enum st_result
t_direct_map(void)
{
	uint64_t pa = pc_kvtophys((const void *)&st_image_word);
	volatile uint64_t *alias = pc_phys_to_dmap(pa);
	struct pc_image_layout il;

	pc_image_layout(&il);
	CHECK(il.il_virt_start == PC_KERNEL_VMA + PC_KERNEL_LOAD_PA &&
	    il.il_phys_start == PC_KERNEL_LOAD_PA &&
	    il.il_text_start == il.il_virt_start &&
	    il.il_text_end <= il.il_rodata_start &&
	    il.il_rodata_end <= il.il_data_start &&
	    il.il_data_end <= il.il_bss_start &&
	    il.il_bss_end == il.il_virt_end,
	    "odd image layout text %#lx-%#lx", il.il_text_start, il.il_text_end);
	*alias = 0xabcdef;
	CHECK(st_image_word == 0xabcdef, "kernel VA sees %#lx",
	    (uint64_t)st_image_word);
	CHECK(pc_kvtophys((const void *)alias) == pa, "dmap kvtophys");
	CHECK(pc_dmap_end() >= 0x100000000ULL, "direct map ends at %#lx",
	    pc_dmap_end());
	return ST_PASS;
}

static enum st_result
t_dmap_reaches_ram(void)
{
	const struct pc_mem_range *r;
	int n = pc_page_ranges(&r);
	uint64_t top = 0;

	/* The first and last frame of every managed range, through the
	 * direct map, with probes so a hole is a failure, not a panic.  The
	 * frames may be free; the allocator does not care about contents. */
	for (int i = 0; i < n; i++) {
		uint64_t pas[2] = { r[i].mr_start, r[i].mr_end - PC_PAGE_SIZE };

		for (int j = 0; j < 2; j++) {
			uint64_t va = (uint64_t)(uintptr_t)pc_phys_to_dmap(pas[j]);
			uint64_t v = 0;
			int w = pc_probe_write(va + 64, 8, pas[j] ^ ST_PATTERN);
			int rd = pc_probe_read(va + 64, 8, &v);

			CHECK(w == PC_PROBE_OK && rd == PC_PROBE_OK &&
			    v == (pas[j] ^ ST_PATTERN),
			    "pa %#lx: write %#x read %#x value %#lx", pas[j], w,
			    rd, v);
		}
		top = r[i].mr_end;
	}
	CHECK(top <= pc_dmap_end(), "RAM up to %#lx, direct map to %#lx", top,
	    pc_dmap_end());
	DIAG("%d ranges, RAM up to %#lx", n, top);
	return ST_PASS;
}

static enum st_result
t_bootpt(void)
{
	int level;
	uint64_t *e;
	struct pc_user_region ur;

	e = pc_bootpt_lookup(ST_UVA, &level);
	CHECK(e != NULL && level == 1 &&
	    (*e & PC_PTE_FRAME) == st_frame_urw, "user test page lookup");
	e = pc_bootpt_lookup(ST_KVA + 0x5000, &level);
	CHECK(e == NULL && level == 1, "unmapped: level %d", level);
	e = pc_bootpt_lookup(ST_HOLE, &level);
	CHECK(e == NULL && level == 4, "hole: level %d", level);
	e = pc_bootpt_lookup(PC_DMAP_BASE + 0x200000, &level);
	CHECK(e != NULL && level == 2 && (*e & PC_PTE_PS), "dmap: level %d",
	    level);
	CHECK(pc_bootpt_enter(PC_DMAP_BASE + 0x1000, 0, PC_PTE_RW) == -1,
	    "enter over a 2 MiB page should fail");
	pc_user_region(&ur);
	e = pc_bootpt_lookup(ur.ur_code_va, &level);
	CHECK(e != NULL && (*e & PC_PTE_FRAME) == ur.ur_code_pa &&
	    (*e & (PC_PTE_US | PC_PTE_RW)) == PC_PTE_US, "user code page");
	e = pc_bootpt_lookup(PC_AP_TRAMP_PA, &level);
	CHECK(e == NULL, "identity map still present");
	return ST_PASS;
}

/* ---------------------------------------------------------------------
 * printf.
 * --------------------------------------------------------------------- */
static enum st_result
t_printf(void)
{
	static const struct {
		const char *want;
		int n;
	} cases[] = {
		{ "[   42|42   |-0042|002a|0X2A]", 0 },
		{ "[ffffffff80200000|123456789abc|18446744073709551615]", 1 },
		{ "[0x00000000deadbeef|hello|  hi|x|%|-9223372036854775808]", 2 },
		{ "[0x1f|017|+5| 5|abc|(null)|12345]", 3 },
	};
	/* volatile: keep the compiler from diagnosing the NULL %s */
	const char *volatile nullstr = NULL;
	char buf[128];
	int len;

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		switch (cases[i].n) {
		case 0:
			pc_snprintf(buf, sizeof(buf), "[%5d|%-5u|%05d|%04x|%#X]",
			    42, 42u, -42, 42u, 42u);
			break;
		case 1:
			pc_snprintf(buf, sizeof(buf), "[%lx|%llx|%zu]",
			    0xffffffff80200000UL, 0x123456789abcULL,
			    (size_t)-1);
			break;
		case 2:
			pc_snprintf(buf, sizeof(buf), "[%p|%s|%4s|%c|%%|%lld]",
			    (void *)0xdeadbeefUL, "hello", "hi", 'x',
			    (long long)(-9223372036854775807LL - 1));
			break;
		default:
			pc_snprintf(buf, sizeof(buf), "[%#x|%#o|%+d|% d|%.3s|%s|%.*d]",
			    31u, 15u, 5, 5, "abcdef", nullstr, 5,
			    12345);
			break;
		}
		CHECK(strcmp(buf, cases[i].want) == 0, "got \"%s\" want \"%s\"",
		    buf, cases[i].want);
	}
	len = pc_snprintf(buf, 4, "%s", "truncated");
	CHECK(len == 9 && strcmp(buf, "tru") == 0, "truncation: %d \"%s\"",
	    len, buf);
	return ST_PASS;
}

/* ---------------------------------------------------------------------
 * Failure injection.
 * --------------------------------------------------------------------- */
static const char *
crash_mode(void)
{
	const char *opt = strstr(pc_cmdline(), "selftest.crash=");
	static char mode[16];
	size_t i = 0;

	if (opt == NULL)
		return "";
	opt += strlen("selftest.crash=");
	while (opt[i] != '\0' && opt[i] != ' ' && i < sizeof(mode) - 1) {
		mode[i] = opt[i];
		i++;
	}
	mode[i] = '\0';
	return mode;
}

static void
crash_fault_cb(void *arg)
{
	(void)arg;
	(void)*(volatile uint64_t *)(uintptr_t)(ST_HOLE + 0x7770);
}

/* Break the run as the command line asks ("fail" is handled by pc_main). */
static void
crash_now(const char *mode)
{
	if (strcmp(mode, "panic") == 0)
		pc_panic("selftest.crash=panic");
	if (strcmp(mode, "fault") == 0)
		crash_fault_cb(NULL);
	if (strcmp(mode, "apfault") == 0)
		pc_run_on(pc_ncpus() - 1, crash_fault_cb, NULL);
	if (strcmp(mode, "hang") == 0) {
		pc_intr_disable();
		for (;;)
			pc_cpu_relax();
	}
	if (strcmp(mode, "triple") == 0) {
		/* An empty IDT: the #UD becomes #GP, #DF, then shutdown. */
		struct {
			uint16_t limit;
			uint64_t base;
		} __attribute__((packed)) idtr = { 0, 0 };

		__asm__ __volatile__("lidt %0; ud2" :: "m"(idtr));
	}
}

/* ---------------------------------------------------------------------
 * Driver.
 * --------------------------------------------------------------------- */
static const struct {
	const char *name;
	enum st_result (*fn)(void);
} st_tests[] = {
	{ "every CPU listed by ACPI is online", t_cpus_online },
	{ "pc_run_on runs the function on each CPU", t_run_on_each },
	{ "pc_run_start/wait: all CPUs run at once", t_run_concurrent },
	{ "nested cross-calls from an AP (to CPU 0 and back)", t_run_nested },
	{ "IPIs reach every CPU", t_ipi_all },
	{ "per-CPU scratch area through %gs", t_percpu_scratch },
	{ "supervisor read of unmapped VA: #PF err 0, CR2", t_sup_read_unmapped },
	{ "supervisor write of unmapped VA: #PF err 0x2", t_sup_write_unmapped },
	{ "supervisor read of a mapped page (1/2/4/8 bytes)", t_sup_read_mapped },
	{ "supervisor write to read-only page, CR0.WP=1: #PF err 0x3",
	    t_sup_write_ro_wp1 },
	{ "supervisor write to read-only page, CR0.WP=0: succeeds",
	    t_sup_write_ro_wp0 },
	{ "non-canonical address: #GP", t_sup_noncanonical },
	{ "supervisor exec probe: ret runs, unmapped faults", t_sup_exec },
	{ "user read of user page (1/2/4/8 bytes)", t_user_read },
	{ "user write of user page", t_user_write },
	{ "user write to read-only user page: #PF err 0x7", t_user_write_ro },
	{ "user read of supervisor page: #PF err 0x5", t_user_read_supervisor },
	{ "user read of unmapped page: #PF err 0x4", t_user_read_unmapped },
	{ "user exec of user page", t_user_exec },
	{ "EFER.NXE=1: fetch from XD page faults (user 0x15, kernel 0x11)",
	    t_nx },
	{ "CR4.SMEP: supervisor fetch from user page faults 0x11", t_smep },
	{ "CR4.SMAP: supervisor read of user page faults unless AC=1",
	    t_smap },
	{ "kernel and user probes work on every CPU", t_probes_every_cpu },
	{ "CR4.PGE and CR4.PCIDE toggle", t_cr4_toggles },
	{ "pc_setjmp/pc_longjmp", t_setjmp },
	{ "pc_panic is caught by pc_panic_catch", t_panic_catch },
	{ "an unexpected #PF becomes a caught panic", t_panic_catch_fault },
	{ "page allocator: alloc, free, counts, double free", t_page_alloc },
	{ "direct map aliases the kernel image; image layout", t_direct_map },
	{ "direct map reaches the first and last frame of all managed RAM",
	    t_dmap_reaches_ram },
	{ "boot page-table helpers", t_bootpt },
	{ "pc_snprintf formats", t_printf },
};

int
pc_main(void)
{
	int n = (int)(sizeof(st_tests) / sizeof(st_tests[0]));
	int failed = 0;
	const char *crash = crash_mode();
	bool extra_fail = strcmp(crash, "fail") == 0;

	if (crash[0] != '\0')
		pc_printf("# selftest: selftest.crash=%s\n", crash);
	if (strcmp(crash, "noplan") != 0)
		pc_printf("1..%d\n", n + (extra_fail ? 1 : 0));
	st_setup();
	for (int i = 0; i < n; i++) {
		enum st_result r;

		if (i == 1)
			crash_now(crash);

		st_diag[0] = '\0';
		r = st_tests[i].fn();
		switch (r) {
		case ST_PASS:
			pc_printf("ok %d - %s\n", i + 1, st_tests[i].name);
			if (st_diag[0] != '\0')
				pc_printf("# %s\n", st_diag);
			break;
		case ST_SKIP:
			pc_printf("ok %d - %s # SKIP %s\n", i + 1,
			    st_tests[i].name, st_diag);
			break;
		default:
			failed++;
			pc_printf("not ok %d - %s\n", i + 1, st_tests[i].name);
			pc_printf("# %s\n", st_diag);
			break;
		}
	}
	if (extra_fail) {
		pc_printf("not ok %d - selftest.crash=fail\n", n + 1);
		failed++;
		n++;
	}
	if (failed != 0)
		pc_printf("# %d of %d tests failed\n", failed, n);
	return failed;
}
