// SPDX-License-Identifier: BSD-2-Clause
/*
 * trap_md.c - the i386 IDT, register dump and probe resumption.
 *
 * Gates are 8-byte 32-bit interrupt gates.  There are no IST stacks: every
 * exception runs on the current stack (the TSS's ring-0 stack when it
 * comes from ring 3).
 */
#include "pc_internal.h"

struct pc_idt_gate {
	uint16_t g_off0;
	uint16_t g_sel;
	uint8_t g_zero;
	uint8_t g_attr;         /* P | DPL | type */
	uint16_t g_off1;
} PC_PACKED;
_Static_assert(sizeof(struct pc_idt_gate) == 8, "IDT gate layout");

#define GATE_INTR32_DPL0    0x8e

static struct pc_idt_gate pc_idt[256] PC_ALIGNED(16);

void
pc_idt_init(void)
{
	for (int v = 0; v < 256; v++) {
		uint32_t a = (uint32_t)(uintptr_t)(pc_trap_stubs + 16 * v);

		pc_idt[v] = (struct pc_idt_gate){ .g_off0 = a & 0xffff,
			.g_sel = PC_SEL_KCODE, .g_attr = GATE_INTR32_DPL0,
			.g_off1 = a >> 16 };
	}
}

void
pc_idt_load(void)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} PC_PACKED idtr = { sizeof(pc_idt) - 1, (uint32_t)(uintptr_t)pc_idt };

	__asm__ __volatile__("lidt %0" :: "m"(idtr) : "memory");
}

/* Register dump, as TAP comment lines. */
void
pc_trap_dump(const struct pc_trapframe *tf)
{
	uint32_t cr2 = (uint32_t)pc_read_cr2();
	bool user = (tf->tf_cs & 3) != 0;

	pc_printf("# trap %u (%s) on cpu %d (apic %u), error code %#x\n",
	    tf->tf_vector, pc_trap_name(tf->tf_vector), pc_cpu_id(),
	    pc_percpu()->pcpu_apic_id, tf->tf_err);
	if (tf->tf_vector == 14) {
		pc_printf("#   cr2 0x%08x (%s %s %s%s%s)\n", cr2,
		    (tf->tf_err & PC_PF_P) ? "protection" : "not-present",
		    (tf->tf_err & PC_PF_W) ? "write" : "read",
		    (tf->tf_err & PC_PF_U) ? "user" : "supervisor",
		    (tf->tf_err & PC_PF_I) ? " fetch" : "",
		    (tf->tf_err & PC_PF_RSVD) ? " reserved-bit" : "");
	}
	pc_printf("#   eip 0x%08x cs %#x eflags %#x", tf->tf_eip, tf->tf_cs,
	    tf->tf_eflags);
	if (user)
		pc_printf(" esp 0x%08x ss %#x", tf->tf_esp, tf->tf_ss);
	pc_printf("\n#   eax 0x%08x ebx 0x%08x ecx 0x%08x edx 0x%08x\n",
	    tf->tf_eax, tf->tf_ebx, tf->tf_ecx, tf->tf_edx);
	pc_printf("#   esi 0x%08x edi 0x%08x ebp 0x%08x ds %#x es %#x gs %#x\n",
	    tf->tf_esi, tf->tf_edi, tf->tf_ebp, tf->tf_ds, tf->tf_es, tf->tf_gs);
	pc_printf("#   cr0 %#llx cr2 %#x cr3 %#llx cr4 %#llx\n",
	    (unsigned long long)pc_read_cr0(), cr2,
	    (unsigned long long)pc_read_cr3(), (unsigned long long)pc_read_cr4());
	if (!user)
		pc_backtrace(tf->tf_ebp, tf->tf_eip);
}

void
pc_md_probe_resume(struct pc_trapframe *tf, int result)
{
	/* pc_probe_recover reloads %esp from %gs:PC_PCPU_PROBE_RSP: the
	 * frame of a trap within ring 0 has no %esp to rewrite. */
	tf->tf_eip = (uint32_t)(uintptr_t)pc_probe_recover;
	tf->tf_eax = (uint32_t)result;
}

bool
pc_md_fetch_reports_id(void)
{
	/* 32-bit paging: the I/D bit only with SMEP (no NX without PAE). */
	return (pc_read_cr4() & PC_CR4_SMEP) != 0;
}
