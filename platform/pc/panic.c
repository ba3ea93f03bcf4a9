// SPDX-License-Identifier: BSD-2-Clause
/*
 * panic.c - panics, panic catching, backtraces, and leaving QEMU.
 *
 * A panic either unwinds to the CPU's armed catcher (tests use this to
 * check that code panics when it should) or stops the machine:
 *
 *   1. The first CPU to panic wins pc_panic_owner; any later panicking CPU
 *      halts quietly so that exactly one report is printed.
 *   2. The winner sends an NMI to every other CPU; their NMI handler sees
 *      pc_panicking_p() and halts.  NMI rather than a fixed IPI because the
 *      others may be spinning with interrupts disabled.
 *   3. The console lock is broken (a stopped CPU may have held it), the
 *      message and a frame-pointer backtrace are printed as TAP comments,
 *      and QEMU is left with PC_EXIT_PANIC.
 *
 * The kernel is built with frame pointers; backtrace reads go through
 * pc_probe_read so a corrupt %rbp chain ends the walk instead of faulting.
 */
#include "pc_internal.h"

#define PC_NO_OWNER     (-1)

static int32_t pc_panic_owner = PC_NO_OWNER;   /* (a) */

bool
pc_panicking_p(void)
{
	return __atomic_load_n(&pc_panic_owner, __ATOMIC_ACQUIRE) !=
	    PC_NO_OWNER;
}

void
pc_exit_status(enum pc_exit_status st)
{
	pc_cons_flush();
	/* QEMU exits with status (value << 1) | 1. */
	pc_outl(PC_DEBUG_EXIT_PORT, 0x10 + (uint32_t)st);
	pc_cons_puts_raw("# pc: isa-debug-exit is not present; halting\n");
	pc_halt_forever();
	__builtin_unreachable();
}

void
pc_exit(int ok)
{
	pc_exit_status(ok ? PC_EXIT_PASS : PC_EXIT_PANIC);
}

void
pc_panic_catch(pc_jmp_buf env)
{
	struct pc_cpu *c = pc_cpu_self();

	PC_ASSERT(c->c_panic_jb == NULL);
	c->c_panic_jb = env;
}

void
pc_panic_uncatch(void)
{
	pc_cpu_self()->c_panic_jb = NULL;
}

const char *
pc_panic_message(void)
{
	return pc_cpu_self()->c_panic_msg;
}

void
pc_backtrace(uint64_t fp, uint64_t pc)
{
	const int w = (int)sizeof(uintptr_t);   /* a saved frame pointer */

	pc_printf("#   backtrace:");
	if (pc != 0)
		pc_printf(" %#llx", (unsigned long long)pc);
	for (int depth = 0; depth < 24 && fp != 0; depth++) {
		uint64_t next, ret;

		if ((fp & (uint64_t)(w - 1)) != 0 || fp < PC_KERNEL_VA_MIN)
			break;
		if (pc_probe_read(fp, w, &next) != PC_PROBE_OK ||
		    pc_probe_read(fp + (uint64_t)w, w, &ret) != PC_PROBE_OK)
			break;
		pc_printf(" %#llx", (unsigned long long)ret);
		if (next <= fp)
			break;
		fp = next;
	}
	pc_printf("\n#   (resolve with: addr2line -fe %s ADDR...)\n", PC_KERNEL_FILE);
}

void
pc_stop_other_cpus(void)
{
	int me = pc_cpu_id();

	for (int i = 0; i < pc_ncpus(); i++) {
		if (i != me)
			pc_lapic_send(pc_cpus[i].c_pub.pcpu_apic_id, PC_ICR_NMI);
	}
}

/* Print the report and stop the machine; never returns. */
static PC_NORETURN void
panic_stop(const char *msg, const struct pc_trapframe *tf, uint64_t fp,
    uint64_t pc)
{
	int32_t expect = PC_NO_OWNER;
	int me = pc_cpu_id();

	__asm__ __volatile__("cli");
	if (!__atomic_compare_exchange_n(&pc_panic_owner, &expect, me, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		if (expect != me)
			pc_halt_forever();      /* someone else reports */
		/* Panic while reporting a panic: keep it short. */
		pc_cons_puts_raw("# panic: recursive panic\n");
		pc_exit_status(PC_EXIT_PANIC);
	}
	/* The backtrace uses probes; a panic may come from inside one. */
	pc_cpu_self()->c_probe_armed = 0;
	pc_cpu_self()->c_user_active = 0;
	pc_stop_other_cpus();
	pc_udelay(1000);
	pc_cons_break_lock();
	if (tf != NULL)
		pc_trap_dump(tf);
	pc_printf("# panic: cpu %d: %s\n", me, msg);
	if (tf == NULL)
		pc_backtrace(fp, pc);
	pc_exit_status(PC_EXIT_PANIC);
}

void
pc_vpanic(const char *fmt, va_list ap)
{
	struct pc_cpu *c = pc_cpu_self();
	struct pc_jmp_buf_s *jb;

	pc_vsnprintf(c->c_panic_msg, sizeof(c->c_panic_msg), fmt, ap);
	jb = c->c_panic_jb;
	if (jb != NULL) {
		c->c_panic_jb = NULL;
		pc_longjmp(jb, 1);
	}
	/* The walk from our own frame starts with our caller. */
	panic_stop(c->c_panic_msg, NULL,
	    (uint64_t)(uintptr_t)__builtin_frame_address(0), 0);
}

void
pc_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pc_vpanic(fmt, ap);
	va_end(ap);
}

void
pc_panic_from_trap(struct pc_trapframe *tf)
{
	struct pc_cpu *c = pc_cpu_self();
	struct pc_jmp_buf_s *jb;

	pc_snprintf(c->c_panic_msg, sizeof(c->c_panic_msg),
	    "exception %llu (%s) error %#llx cr2 %#llx pc %#llx cs %#llx",
	    (unsigned long long)tf->tf_vector, pc_trap_name(tf->tf_vector),
	    (unsigned long long)tf->tf_err,
	    (unsigned long long)(tf->tf_vector == 14 ? pc_read_cr2() : 0),
	    (unsigned long long)PC_TF_PC(tf), (unsigned long long)PC_TF_CS(tf));
	jb = c->c_panic_jb;
	if (jb != NULL && tf->tf_vector != 2 && tf->tf_vector != 8 &&
	    tf->tf_vector != 18) {
		c->c_panic_jb = NULL;
		pc_longjmp(jb, 1);
	}
	panic_stop(c->c_panic_msg, tf, PC_TF_FP(tf), PC_TF_PC(tf));
}
