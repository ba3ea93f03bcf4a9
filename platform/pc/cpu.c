// SPDX-License-Identifier: BSD-2-Clause
/*
 * cpu.c - per-CPU records, descriptor tables, CPUID, control registers,
 * interrupt state and spin locks.
 *
 * The descriptor tables of each CPU (GDT, TSS, the GS base pointing at its
 * struct pc_cpu) are the arch's: <arch>/cpu_md.c.  Kernel stacks live in
 * .bss so no allocation is needed before the page allocator exists.
 *
 * The control-register switches act on the calling CPU only; the caller
 * decides whether a change must be made everywhere.
 */
#include "pc_internal.h"

struct pc_cpu pc_cpus[PC_MAX_CPUS];
int pc_ncpus_online = 1;

uint8_t pc_kstacks[PC_MAX_CPUS][PC_KSTACK_SIZE] PC_ALIGNED(4096);

static struct pc_cpu_features pc_features;

/* ---------------------------------------------------------------------
 * CPUID.
 * --------------------------------------------------------------------- */
static void
cpuid_string(char *dst, uint32_t a, uint32_t b, uint32_t c)
{
	memcpy(dst, &a, 4);
	memcpy(dst + 4, &b, 4);
	memcpy(dst + 8, &c, 4);
	dst[12] = '\0';
}

void
pc_cpu_detect_features(void)
{
	struct pc_cpu_features *f = &pc_features;
	uint32_t r[4], max, maxext;

	pc_cpuid(0, 0, r);
	max = r[0];
	cpuid_string(f->cf_vendor, r[1], r[3], r[2]);

	pc_cpuid(1, 0, r);
	f->cf_pcid = (r[2] >> 17) & 1;
	f->cf_x2apic = (r[2] >> 21) & 1;
	f->cf_hypervisor = (r[2] >> 31) & 1;
	f->cf_pge = (r[3] >> 13) & 1;
	f->cf_pat = (r[3] >> 16) & 1;
	f->cf_pse = (r[3] >> 3) & 1;

	if (max >= 7) {
		pc_cpuid(7, 0, r);
		f->cf_smep = (r[1] >> 7) & 1;
		f->cf_invpcid = (r[1] >> 10) & 1;
		f->cf_smap = (r[1] >> 20) & 1;
		f->cf_umip = (r[2] >> 2) & 1;
		f->cf_la57 = (r[2] >> 16) & 1;
	}

	pc_cpuid(0x80000000, 0, r);
	maxext = r[0];
	if (maxext >= 0x80000001) {
		pc_cpuid(0x80000001, 0, r);
		f->cf_nx = (r[3] >> 20) & 1;
		f->cf_pdpe1gb = (r[3] >> 26) & 1;
	}
	if (maxext >= 0x80000008) {
		pc_cpuid(0x80000008, 0, r);
		f->cf_maxphyaddr = r[0] & 0xff;
		f->cf_maxlinaddr = (r[0] >> 8) & 0xff;
	} else {
		f->cf_maxphyaddr = 36;
		f->cf_maxlinaddr = 48;
	}

	f->cf_hv_vendor[0] = '\0';
	if (f->cf_hypervisor) {
		pc_cpuid(0x40000000, 0, r);
		cpuid_string(f->cf_hv_vendor, r[1], r[2], r[3]);
	}
}

const struct pc_cpu_features *
pc_cpu_features(void)
{
	return &pc_features;
}

/* ---------------------------------------------------------------------
 * Per-CPU records and descriptor tables.
 * --------------------------------------------------------------------- */

int
pc_ncpus(void)
{
	return __atomic_load_n(&pc_ncpus_online, __ATOMIC_ACQUIRE);
}

struct pc_percpu *
pc_percpu_of(int cpu)
{
	PC_ASSERT(cpu >= 0 && cpu < pc_ncpus());
	return &pc_cpus[cpu].c_pub;
}

uint32_t
pc_cpu_apic_id(int cpu)
{
	return pc_percpu_of(cpu)->pcpu_apic_id;
}

uint32_t
pc_cpus_all_mask(void)
{
	int n = pc_ncpus();

	return n >= 32 ? 0xffffffffu : (1u << n) - 1;
}

/* ---------------------------------------------------------------------
 * Control registers and MSRs.
 * --------------------------------------------------------------------- */
uint64_t
pc_read_cr0(void)
{
	unsigned long v;

	__asm__ __volatile__("mov %%cr0, %0" : "=r"(v));
	return v;
}

uint64_t
pc_read_cr2(void)
{
	unsigned long v;

	__asm__ __volatile__("mov %%cr2, %0" : "=r"(v));
	return v;
}

uint64_t
pc_read_cr3(void)
{
	unsigned long v;

	__asm__ __volatile__("mov %%cr3, %0" : "=r"(v));
	return v;
}

uint64_t
pc_read_cr4(void)
{
	unsigned long v;

	__asm__ __volatile__("mov %%cr4, %0" : "=r"(v));
	return v;
}

void
pc_write_cr0(uint64_t v)
{
	__asm__ __volatile__("mov %0, %%cr0" :: "r"((unsigned long)v) : "memory");
}

void
pc_write_cr3(uint64_t v)
{
	__asm__ __volatile__("mov %0, %%cr3" :: "r"((unsigned long)v) : "memory");
}

void
pc_write_cr4(uint64_t v)
{
	__asm__ __volatile__("mov %0, %%cr4" :: "r"((unsigned long)v) : "memory");
}

uint64_t
pc_rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

void
pc_wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ __volatile__("wrmsr"
	    :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
	    : "memory");
}

void
pc_invlpg(uint64_t va)
{
	__asm__ __volatile__("invlpg (%0)" :: "r"((uintptr_t)va) : "memory");
}

void
pc_tlb_flush_local(void)
{
	pc_write_cr3(pc_read_cr3());
}

static void
tlb_flush_cb(void *arg)
{
	(void)arg;
	pc_tlb_flush_local();
}

void
pc_tlb_flush_all_cpus(void)
{
	pc_run_on_mask(pc_cpus_all_mask(), tlb_flush_cb, NULL);
}

int
pc_cpu_set_cr4_bit(bool have, uint64_t bit, bool on)
{
	uint64_t cr4;
	int old;

	if (!have)
		return -1;
	cr4 = pc_read_cr4();
	old = (cr4 & bit) != 0;
	pc_write_cr4(on ? (cr4 | bit) : (cr4 & ~bit));
	return old;
}

int
pc_set_cr0_wp(bool on)
{
	uint64_t cr0 = pc_read_cr0();
	int old = (cr0 & PC_CR0_WP) != 0;

	pc_write_cr0(on ? (cr0 | PC_CR0_WP) : (cr0 & ~PC_CR0_WP));
	return old;
}

int
pc_set_cr4_pge(bool on)
{
	return pc_cpu_set_cr4_bit(pc_features.cf_pge, PC_CR4_PGE, on);
}

int
pc_set_cr4_smep(bool on)
{
	return pc_cpu_set_cr4_bit(pc_features.cf_smep, PC_CR4_SMEP, on);
}

int
pc_set_cr4_smap(bool on)
{
	return pc_cpu_set_cr4_bit(pc_features.cf_smap, PC_CR4_SMAP, on);
}

int
pc_set_rflags_ac(bool on)
{
	uint64_t f = pc_read_rflags();
	int old = (f & PC_RFLAGS_AC) != 0;

	f = on ? (f | PC_RFLAGS_AC) : (f & ~PC_RFLAGS_AC);
	__asm__ __volatile__("push %0; popf" :: "r"((unsigned long)f) : "memory", "cc");
	return old;
}

/* ---------------------------------------------------------------------
 * Interrupt state.
 * --------------------------------------------------------------------- */
pc_intr_state_t
pc_intr_disable(void)
{
	uint64_t f = pc_read_rflags();

	__asm__ __volatile__("cli" ::: "memory");
	return f;
}

void
pc_intr_restore(pc_intr_state_t s)
{
	if (s & PC_RFLAGS_IF)
		__asm__ __volatile__("sti" ::: "memory");
}

bool
pc_intr_enabled_p(void)
{
	return (pc_read_rflags() & PC_RFLAGS_IF) != 0;
}

/* ---------------------------------------------------------------------
 * Spin locks (test-and-test-and-set).
 * --------------------------------------------------------------------- */
void
pc_spin_init(pc_spinlock_t *l)
{
	l->sl_locked = 0;
	l->sl_owner = -1;
}

bool
pc_spin_trylock(pc_spinlock_t *l)
{
	if (__atomic_exchange_n(&l->sl_locked, 1, __ATOMIC_ACQUIRE) != 0)
		return false;
	l->sl_owner = pc_cpu_id();
	return true;
}

void
pc_spin_lock(pc_spinlock_t *l)
{
	PC_ASSERT(l->sl_owner != pc_cpu_id() || l->sl_locked == 0);
	while (!pc_spin_trylock(l)) {
		while (__atomic_load_n(&l->sl_locked, __ATOMIC_RELAXED) != 0)
			pc_cpu_relax();
	}
}

void
pc_spin_unlock(pc_spinlock_t *l)
{
	PC_ASSERT(l->sl_locked != 0 && l->sl_owner == pc_cpu_id());
	l->sl_owner = -1;
	__atomic_store_n(&l->sl_locked, 0, __ATOMIC_RELEASE);
}

bool
pc_spin_held_p(const pc_spinlock_t *l)
{
	return l->sl_locked != 0 && l->sl_owner == pc_cpu_id();
}
