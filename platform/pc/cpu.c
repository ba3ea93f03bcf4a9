/*
 * cpu.c - per-CPU records, descriptor tables, CPUID, control registers,
 * interrupt state and spin locks.
 *
 * Every CPU gets its own GDT (kernel/user code and data, and a TSS
 * descriptor whose busy bit is per CPU), its own TSS with three IST stacks
 * (#DF, #PF, NMI/#MC), and a kernel stack; all of it lives in .bss so no
 * allocation is needed before the page allocator exists.  The IDT is shared
 * (trap.c).  The GS base points at the CPU's struct pc_cpu and is never
 * swapped (see trap_entry.S).
 *
 * The control-register switches act on the calling CPU only; the caller
 * decides whether a change must be made everywhere.
 */
#include "pc_internal.h"

struct pc_cpu pc_cpus[PC_MAX_CPUS];
int pc_ncpus_online = 1;

static uint8_t pc_kstacks[PC_MAX_CPUS][PC_KSTACK_SIZE] PC_ALIGNED(4096);
static uint8_t pc_istacks[PC_MAX_CPUS][3][PC_ISTACK_SIZE] PC_ALIGNED(4096);

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

/* GDT descriptors (SDM vol. 3, 3.4.5); base and limit are ignored in
 * 64-bit mode except for the TSS. */
#define GDT_KCODE   0x00209a0000000000ULL   /* P, DPL0, code, L */
#define GDT_KDATA   0x0000920000000000ULL   /* P, DPL0, data, RW */
#define GDT_UCODE32 0x00cffa000000ffffULL   /* P, DPL3, 32-bit code */
#define GDT_UDATA   0x0000f20000000000ULL   /* P, DPL3, data, RW */
#define GDT_UCODE   0x0020fa0000000000ULL   /* P, DPL3, code, L */

void
pc_cpu_early_init(struct pc_cpu *c, uint32_t id)
{
	uint64_t tss = (uint64_t)(uintptr_t)&c->c_tss;
	uint64_t limit = sizeof(c->c_tss) - 1;

	c->c_pub.pcpu_self = &c->c_pub;
	c->c_pub.pcpu_id = id;
	c->c_mb_state = PC_MB_FREE;

	c->c_gdt[0] = 0;
	c->c_gdt[PC_SEL_KCODE >> 3] = GDT_KCODE;
	c->c_gdt[PC_SEL_KDATA >> 3] = GDT_KDATA;
	c->c_gdt[PC_SEL_UCODE32 >> 3] = GDT_UCODE32;
	c->c_gdt[PC_SEL_UDATA >> 3] = GDT_UDATA;
	c->c_gdt[PC_SEL_UCODE >> 3] = GDT_UCODE;
	/* 64-bit available TSS (type 9), present, DPL 0. */
	c->c_gdt[PC_SEL_TSS >> 3] = (limit & 0xffff) |
	    ((tss & 0xffffff) << 16) | (0x89ULL << 40) |
	    (((limit >> 16) & 0xf) << 48) | (((tss >> 24) & 0xff) << 56);
	c->c_gdt[(PC_SEL_TSS >> 3) + 1] = tss >> 32;

	if (id == 0)
		c->c_kstack_top = (uint64_t)(uintptr_t)pc_boot_stack_top;
	else
		c->c_kstack_top = (uint64_t)(uintptr_t)
		    &pc_kstacks[id][PC_KSTACK_SIZE];
	memset(&c->c_tss, 0, sizeof(c->c_tss));
	c->c_tss.tss_rsp[0] = c->c_kstack_top;
	c->c_tss.tss_ist[PC_IST_DF] =
	    (uint64_t)(uintptr_t)&pc_istacks[id][0][PC_ISTACK_SIZE];
	c->c_tss.tss_ist[PC_IST_PF] =
	    (uint64_t)(uintptr_t)&pc_istacks[id][1][PC_ISTACK_SIZE];
	c->c_tss.tss_ist[PC_IST_NMI] =
	    (uint64_t)(uintptr_t)&pc_istacks[id][2][PC_ISTACK_SIZE];
	c->c_tss.tss_iomap_base = sizeof(c->c_tss);   /* no I/O bitmap */
}

void
pc_cpu_load_tables(struct pc_cpu *c)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} PC_PACKED gdtr = { sizeof(c->c_gdt) - 1,
	    (uint64_t)(uintptr_t)c->c_gdt };

	__asm__ __volatile__(
	    "lgdt %0\n\t"
	    "pushq %1\n\t"
	    "leaq 1f(%%rip), %%rax\n\t"
	    "pushq %%rax\n\t"
	    "lretq\n"
	    "1:\n\t"
	    "movl %2, %%eax\n\t"
	    "movl %%eax, %%ss\n\t"
	    "xorl %%eax, %%eax\n\t"
	    "movl %%eax, %%ds\n\t"
	    "movl %%eax, %%es\n\t"
	    "movl %%eax, %%fs\n\t"
	    "movl %%eax, %%gs"
	    :: "m"(gdtr), "i"(PC_SEL_KCODE), "i"(PC_SEL_KDATA)
	    : "rax", "memory");
	/* Selectors first: loading %gs would otherwise clobber the base. */
	pc_wrmsr(PC_MSR_GS_BASE, (uint64_t)(uintptr_t)c);
	pc_wrmsr(PC_MSR_KERNEL_GS_BASE, 0);
	__asm__ __volatile__("ltr %w0" :: "r"(PC_SEL_TSS) : "memory");
	pc_idt_load();
}

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
	uint64_t v;

	__asm__ __volatile__("movq %%cr0, %0" : "=r"(v));
	return v;
}

uint64_t
pc_read_cr2(void)
{
	uint64_t v;

	__asm__ __volatile__("movq %%cr2, %0" : "=r"(v));
	return v;
}

uint64_t
pc_read_cr3(void)
{
	uint64_t v;

	__asm__ __volatile__("movq %%cr3, %0" : "=r"(v));
	return v;
}

uint64_t
pc_read_cr4(void)
{
	uint64_t v;

	__asm__ __volatile__("movq %%cr4, %0" : "=r"(v));
	return v;
}

void
pc_write_cr0(uint64_t v)
{
	__asm__ __volatile__("movq %0, %%cr0" :: "r"(v) : "memory");
}

void
pc_write_cr3(uint64_t v)
{
	__asm__ __volatile__("movq %0, %%cr3" :: "r"(v) : "memory");
}

void
pc_write_cr4(uint64_t v)
{
	__asm__ __volatile__("movq %0, %%cr4" :: "r"(v) : "memory");
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
	__asm__ __volatile__("invlpg (%0)" :: "r"(va) : "memory");
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

static int
set_cr4_bit(bool have, uint64_t bit, bool on)
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
	return set_cr4_bit(pc_features.cf_pge, PC_CR4_PGE, on);
}

int
pc_set_cr4_pcide(bool on)
{
	/* MOV to CR4 setting PCIDE faults unless CR3[11:0] == 0. */
	if (on && (pc_read_cr3() & 0xfff) != 0)
		return -1;
	return set_cr4_bit(pc_features.cf_pcid, PC_CR4_PCIDE, on);
}

int
pc_set_cr4_smep(bool on)
{
	return set_cr4_bit(pc_features.cf_smep, PC_CR4_SMEP, on);
}

int
pc_set_cr4_smap(bool on)
{
	return set_cr4_bit(pc_features.cf_smap, PC_CR4_SMAP, on);
}

int
pc_set_efer_nxe(bool on)
{
	uint64_t efer;
	int old;

	if (!pc_features.cf_nx)
		return -1;
	efer = pc_rdmsr(PC_MSR_EFER);
	old = (efer & PC_EFER_NXE) != 0;
	pc_wrmsr(PC_MSR_EFER, on ? (efer | PC_EFER_NXE) : (efer & ~PC_EFER_NXE));
	return old;
}

int
pc_set_rflags_ac(bool on)
{
	uint64_t f = pc_read_rflags();
	int old = (f & PC_RFLAGS_AC) != 0;

	f = on ? (f | PC_RFLAGS_AC) : (f & ~PC_RFLAGS_AC);
	__asm__ __volatile__("pushq %0; popfq" :: "r"(f) : "memory", "cc");
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
