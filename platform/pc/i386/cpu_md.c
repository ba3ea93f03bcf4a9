// SPDX-License-Identifier: BSD-2-Clause
/*
 * cpu_md.c - i386 descriptor tables, and the switches 32-bit paging lacks.
 *
 * Every CPU gets its own GDT: flat kernel and user code and data, a TSS
 * descriptor (its busy bit is per CPU) and the per-CPU data segment whose
 * base is the CPU's struct pc_cpu - the selector the kernel keeps in %gs,
 * so %gs:0 is pc_percpu() as on amd64.  The TSS holds only the ring-0
 * stack for traps from ring 3.  There are no IST stacks on i386: a #DF
 * here (no task gate) resets the machine, which run-qemu.sh reports.
 */
#include "pc_internal.h"

/* GDT descriptors (SDM vol. 3, 3.4.5): flat 4 GiB, 32-bit, 4 KiB granular. */
#define GDT_KCODE   0x00cf9a000000ffffULL   /* P, DPL0, code, read */
#define GDT_KDATA   0x00cf92000000ffffULL   /* P, DPL0, data, write */
#define GDT_UCODE   0x00cffa000000ffffULL   /* P, DPL3, code, read */
#define GDT_UDATA   0x00cff2000000ffffULL   /* P, DPL3, data, write */

static uint64_t
gdt_desc(uint32_t base, uint32_t limit, uint64_t type_flags)
{
	return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
	    type_flags | ((uint64_t)((limit >> 16) & 0xf) << 48) |
	    ((uint64_t)(base >> 24) << 56);
}

void
pc_cpu_early_init(struct pc_cpu *c, uint32_t id)
{
	uint32_t tss = (uint32_t)(uintptr_t)&c->c_tss;

	c->c_pub.pcpu_self = &c->c_pub;
	c->c_pub.pcpu_id = id;
	c->c_mb_state = PC_MB_FREE;

	c->c_gdt[0] = 0;
	c->c_gdt[PC_SEL_KCODE >> 3] = GDT_KCODE;
	c->c_gdt[PC_SEL_KDATA >> 3] = GDT_KDATA;
	c->c_gdt[PC_SEL_UCODE >> 3] = GDT_UCODE;
	c->c_gdt[PC_SEL_UDATA >> 3] = GDT_UDATA;
	/* 32-bit available TSS (type 9), present, DPL 0, byte granular. */
	c->c_gdt[PC_SEL_TSS >> 3] = gdt_desc(tss, sizeof(c->c_tss) - 1,
	    0x89ULL << 40);
	/* Per-CPU data: P, DPL0, data, write; byte granular, 32-bit. */
	c->c_gdt[PC_SEL_PERCPU >> 3] = gdt_desc((uint32_t)(uintptr_t)c,
	    sizeof(*c) - 1, (0x92ULL << 40) | (0x4ULL << 52));
	c->c_gdt[7] = 0;

	if (id == 0)
		c->c_kstack_top = (uint64_t)(uintptr_t)pc_boot_stack_top;
	else
		c->c_kstack_top = (uint64_t)(uintptr_t)
		    &pc_kstacks[id][PC_KSTACK_SIZE];
	memset(&c->c_tss, 0, sizeof(c->c_tss));
	c->c_tss.tss_esp0 = (uint32_t)c->c_kstack_top;
	c->c_tss.tss_ss0 = PC_SEL_KDATA;
	c->c_tss.tss_iomap_base = sizeof(c->c_tss);   /* no I/O bitmap */
}

void
pc_cpu_load_tables(struct pc_cpu *c)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} PC_PACKED gdtr = { sizeof(c->c_gdt) - 1, (uint32_t)(uintptr_t)c->c_gdt };

	__asm__ __volatile__(
	    "lgdt %0\n\t"
	    "ljmp %1, $1f\n"
	    "1:\n\t"
	    "movl %2, %%eax\n\t"
	    "movl %%eax, %%ds\n\t"
	    "movl %%eax, %%es\n\t"
	    "movl %%eax, %%ss\n\t"
	    "movl %3, %%eax\n\t"
	    "movl %%eax, %%gs\n\t"
	    "xorl %%eax, %%eax\n\t"
	    "movl %%eax, %%fs"
	    :: "m"(gdtr), "i"(PC_SEL_KCODE), "i"(PC_SEL_KDATA),
	    "i"(PC_SEL_PERCPU)
	    : "eax", "memory");
	__asm__ __volatile__("ltr %w0" :: "r"(PC_SEL_TSS) : "memory");
	pc_idt_load();
}

/* PCIDs exist only in long mode, NX only with PAE paging. */
int
pc_set_cr4_pcide(bool on)
{
	(void)on;
	return -1;
}

int
pc_set_efer_nxe(bool on)
{
	(void)on;
	return -1;
}
