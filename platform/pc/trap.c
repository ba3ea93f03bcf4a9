/*
 * trap.c - the IDT and the dispatcher every interrupt and exception goes
 * through.
 *
 * Gates: all 256 are interrupt gates (IF cleared on entry, DPL 0, so ring 3
 * cannot raise any vector with `int`) to the stubs in trap_entry.S.  #DF, #PF and NMI/#MC run on IST stacks so that a kernel
 * stack overflow or a fault on a bad stack still reaches a handler (note
 * the consequence: a #PF inside the #PF handler restarts at the top of the
 * same IST stack and is unrecoverable; the handlers below never fault).
 *
 * Dispatch order in pc_trap():
 *  1. NMI: another CPU is panicking (pc_stop_other_cpus) -> halt here;
 *     otherwise an unexpected NMI is a panic.
 *  2. CPU exceptions (vectors 0-31):
 *     - from ring 3: must belong to an active user probe (probe.c), which
 *       records it (or its normal end, a #UD at pc_ustub_return) and
 *       longjmps back to the probing kernel code;
 *     - from ring 0: an armed kernel probe may claim it (fixup: resume at
 *       pc_probe_recover); anything else is a panic (caught if the CPU has
 *       a panic catcher armed).
 *  3. Spurious (no EOI), wake-up (EOI only), registered handlers (EOI after
 *     the handler), and stray vectors (counted, EOI).
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

static struct {
	pc_intr_handler_t ih_fn;
	void *ih_arg;
} pc_intr_handlers[256];
static uint64_t pc_intr_stray;

static const char *const pc_exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
	"#OF overflow", "#BR bound range", "#UD invalid opcode",
	"#NM device not available", "#DF double fault", "coprocessor overrun",
	"#TS invalid TSS", "#NP segment not present", "#SS stack fault",
	"#GP general protection", "#PF page fault", "reserved 15",
	"#MF x87 error", "#AC alignment check", "#MC machine check",
	"#XM SIMD error", "#VE virtualization", "#CP control protection",
	"reserved 22", "reserved 23", "reserved 24", "reserved 25",
	"reserved 26", "reserved 27", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security", "reserved 31",
};

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

int
pc_intr_register(int vector, pc_intr_handler_t fn, void *arg)
{
	pc_intr_state_t s;

	if (vector < PC_VEC_FIRST_FREE || vector > PC_VEC_LAST_FREE)
		return -1;
	s = pc_intr_disable();
	/* Clear fn first so no CPU sees the new arg with the old fn. */
	__atomic_store_n(&pc_intr_handlers[vector].ih_fn, NULL,
	    __ATOMIC_RELEASE);
	pc_intr_handlers[vector].ih_arg = arg;
	__atomic_store_n(&pc_intr_handlers[vector].ih_fn, fn,
	    __ATOMIC_RELEASE);
	pc_intr_restore(s);
	return 0;
}

uint64_t
pc_intr_stray_count(void)
{
	return __atomic_load_n(&pc_intr_stray, __ATOMIC_RELAXED);
}

const char *
pc_trap_name(uint64_t vector)
{
	return vector < 32 ? pc_exc_names[vector] : "interrupt";
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
pc_trap(struct pc_trapframe *tf)
{
	uint64_t v = tf->tf_vector;
	pc_intr_handler_t fn;

	if (v == 2) {
		if (pc_panicking_p())
			pc_halt_forever();
		pc_panic_from_trap(tf);
	}
	if (v < 32) {
		if ((tf->tf_cs & 3) != 0) {
			if (pc_user_trap(tf))   /* longjmps, or resumes */
				return;
		} else if (pc_probe_trap(tf)) {
			return;
		}
		pc_panic_from_trap(tf);
	}
	if (v == PC_VEC_SPURIOUS)
		return;
	if (v != PC_VEC_WAKE) {
		fn = __atomic_load_n(&pc_intr_handlers[v].ih_fn,
		    __ATOMIC_ACQUIRE);
		if (fn != NULL)
			fn(tf, pc_intr_handlers[v].ih_arg);
		else
			__atomic_fetch_add(&pc_intr_stray, 1, __ATOMIC_RELAXED);
	}
	pc_lapic_eoi();
}
