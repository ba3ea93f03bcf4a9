// SPDX-License-Identifier: BSD-2-Clause
/*
 * cpu_md.c - amd64 descriptor tables and the switches only long mode has.
 *
 * Every CPU gets its own GDT (kernel/user code and data, and a TSS
 * descriptor whose busy bit is per CPU), its own TSS with three IST stacks
 * (#DF, #PF, NMI/#MC), and a kernel stack, all in .bss (cpu.c).  The IDT is
 * shared (trap_md.c).  The GS base points at the CPU's struct pc_cpu and is
 * never swapped (see trap_entry.S).
 */
#include "pc_internal.h"

static uint8_t pc_istacks[PC_MAX_CPUS][3][PC_ISTACK_SIZE] PC_ALIGNED(4096);

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
pc_set_cr4_pcide(bool on)
{
	/* MOV to CR4 setting PCIDE faults unless CR3[11:0] == 0. */
	if (on && (pc_read_cr3() & 0xfff) != 0)
		return -1;
	return pc_cpu_set_cr4_bit(pc_cpu_features()->cf_pcid, PC_CR4_PCIDE, on);
}

int
pc_set_efer_nxe(bool on)
{
	uint64_t efer;
	int old;

	if (!pc_cpu_features()->cf_nx)
		return -1;
	efer = pc_rdmsr(PC_MSR_EFER);
	old = (efer & PC_EFER_NXE) != 0;
	pc_wrmsr(PC_MSR_EFER, on ? (efer | PC_EFER_NXE) : (efer & ~PC_EFER_NXE));
	return old;
}
