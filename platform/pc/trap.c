// SPDX-License-Identifier: BSD-2-Clause
/*
 * trap.c - the IDT and the dispatcher every interrupt and exception goes
 * through.
 *
 * Gates: all 256 are interrupt gates (IF cleared on entry, DPL 0, so ring 3
 * cannot raise any vector with `int`) to the stubs in <arch>/trap_entry.S;
 * the gate format, the IDT and the register dump are the arch's
 * (<arch>/trap_md.c).
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
		if ((PC_TF_CS(tf) & 3) != 0) {
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
