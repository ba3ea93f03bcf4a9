// SPDX-License-Identifier: BSD-2-Clause
/*
 * trap_md.c - the amd64 IDT and register dump.
 *
 * #DF, #PF and NMI/#MC run on IST stacks so that a kernel stack overflow or
 * a fault on a bad stack still reaches a handler (note the consequence: a
 * #PF inside the #PF handler restarts at the top of the same IST stack and
 * is unrecoverable; the handlers never fault).
 */
#include "pc_internal.h"

struct pc_idt_gate {
	uint16_t g_off0;
	uint16_t g_sel;
	uint8_t g_ist;
	uint8_t g_attr;         /* P | DPL | type */
	uint16_t g_off1;
	uint32_t g_off2;
	uint32_t g_reserved;
} PC_PACKED;
_Static_assert(sizeof(struct pc_idt_gate) == 16, "IDT gate layout");

#define GATE_INTR_DPL0  0x8e

static struct pc_idt_gate pc_idt[256] PC_ALIGNED(16);

void
pc_idt_init(void)
{
	for (int v = 0; v < 256; v++) {
		uint64_t a = (uint64_t)(uintptr_t)(pc_trap_stubs + 16 * v);
		struct pc_idt_gate *g = &pc_idt[v];

		g->g_off0 = a & 0xffff;
		g->g_sel = PC_SEL_KCODE;
		g->g_ist = 0;
		g->g_attr = GATE_INTR_DPL0;
		g->g_off1 = (a >> 16) & 0xffff;
		g->g_off2 = a >> 32;
		g->g_reserved = 0;
	}
	pc_idt[8].g_ist = PC_IST_DF;
	pc_idt[14].g_ist = PC_IST_PF;
	pc_idt[2].g_ist = PC_IST_NMI;
	pc_idt[18].g_ist = PC_IST_NMI;
}

void
pc_idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} PC_PACKED idtr = { sizeof(pc_idt) - 1, (uint64_t)(uintptr_t)pc_idt };

	__asm__ __volatile__("lidt %0" :: "m"(idtr) : "memory");
}

/* Register dump, as TAP comment lines. */
void
pc_trap_dump(const struct pc_trapframe *tf)
{
	uint64_t cr2 = pc_read_cr2();

	pc_printf("# trap %lu (%s) on cpu %d (apic %u), error code %#lx\n",
	    tf->tf_vector, pc_trap_name(tf->tf_vector), pc_cpu_id(),
	    pc_percpu()->pcpu_apic_id, tf->tf_err);
	if (tf->tf_vector == 14) {
		pc_printf("#   cr2 0x%016lx (%s %s %s%s%s)\n", cr2,
		    (tf->tf_err & PC_PF_P) ? "protection" : "not-present",
		    (tf->tf_err & PC_PF_W) ? "write" : "read",
		    (tf->tf_err & PC_PF_U) ? "user" : "supervisor",
		    (tf->tf_err & PC_PF_I) ? " fetch" : "",
		    (tf->tf_err & PC_PF_RSVD) ? " reserved-bit" : "");
	}
	pc_printf("#   rip 0x%016lx cs %#lx rflags %#lx rsp 0x%016lx ss %#lx\n",
	    tf->tf_rip, tf->tf_cs, tf->tf_rflags, tf->tf_rsp, tf->tf_ss);
	pc_printf("#   rax 0x%016lx rbx 0x%016lx rcx 0x%016lx rdx 0x%016lx\n",
	    tf->tf_rax, tf->tf_rbx, tf->tf_rcx, tf->tf_rdx);
	pc_printf("#   rsi 0x%016lx rdi 0x%016lx rbp 0x%016lx r8  0x%016lx\n",
	    tf->tf_rsi, tf->tf_rdi, tf->tf_rbp, tf->tf_r8);
	pc_printf("#   r9  0x%016lx r10 0x%016lx r11 0x%016lx r12 0x%016lx\n",
	    tf->tf_r9, tf->tf_r10, tf->tf_r11, tf->tf_r12);
	pc_printf("#   r13 0x%016lx r14 0x%016lx r15 0x%016lx\n",
	    tf->tf_r13, tf->tf_r14, tf->tf_r15);
	pc_printf("#   cr0 %#lx cr2 %#lx cr3 %#lx cr4 %#lx efer %#lx\n",
	    pc_read_cr0(), cr2, pc_read_cr3(), pc_read_cr4(),
	    pc_rdmsr(PC_MSR_EFER));
	if ((tf->tf_cs & 3) == 0)
		pc_backtrace(tf->tf_rbp, tf->tf_rip);
}

void
pc_md_probe_resume(struct pc_trapframe *tf, int result)
{
	tf->tf_rip = (uint64_t)(uintptr_t)pc_probe_recover;
	tf->tf_rsp = pc_cpu_self()->c_pub.pcpu_md_private[0]; /* PROBE_RSP */
	tf->tf_rax = (uint64_t)(int64_t)result;
}

bool
pc_md_fetch_reports_id(void)
{
	return (pc_rdmsr(PC_MSR_EFER) & PC_EFER_NXE) ||
	    (pc_read_cr4() & PC_CR4_SMEP);
}
