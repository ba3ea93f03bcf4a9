// SPDX-License-Identifier: BSD-2-Clause
/*
 * probe.c - accesses that may fault, in ring 0 and ring 3.
 *
 * Kernel-mode probes (pc_probe_read/write/exec).  With interrupts disabled
 * the CPU arms its probe state (c_probe_armed, plus the target for exec)
 * and calls a stub from probe_stubs.S.  If an exception arrives while armed
 * and its %rip is inside the stubs (or equals the exec target), the trap
 * handler records vector, error code and CR2 in c_fault, disarms, and
 * rewrites the frame to resume at pc_probe_recover on the stub's entry
 * stack with the result PC_PROBE_FAULT(vector) (pc_md_probe_resume).  Any other exception while armed
 * (a bug elsewhere) is not claimed and panics as usual; NMI and #MC are
 * never claimed.  Interrupts are off during the window so no handler can
 * run, and fault, in between.
 *
 * Fetch probes (pc_probe_fetch, pc_probe_user_fetch) single-step: the
 * stub (or, in ring 3, the IRET) sets RFLAGS.TF, the first #DB arrives
 * after the jump to the target and is resumed (c_probe_stepped), and the
 * next exception - the #DB after the target instruction, or a fault -
 * decides: a #PF at the target that was the fetch (fetch_fault_p) is the
 * probe's fault, anything else means the fetch worked.  So the outcome
 * does not depend on the bytes at the target being a `ret`.
 *
 * User-mode probes (pc_probe_user_*).  pc_user_call() records a return
 * point with pc_setjmp, marks the CPU's user probe active, and IRETs to the
 * matching stub copied to PC_USER_CODE_VA (CPL 3, IF=0, on this CPU's page
 * of the user stacks).  The stub ends with a `ud2` at pc_ustub_return (see
 * probe_stubs.S for why not `int`); a #UD at exactly that address means
 * the access completed, any other ring-3 exception is the probe's fault.
 * Either way pc_user_trap() stores the outcome and pc_longjmps back into
 * pc_user_call(), abandoning the trap frame: TSS.RSP0 was set just below
 * pc_user_call's frame (pc_user_iret), so the ring-0 entry frame sits on
 * dead stack.  #PF arrives on its IST stack instead, which is equally dead
 * after the longjmp.
 *
 * Invariants: probes do not nest on a CPU; user probes need the user
 * region (pc_mem_setup_user_region) mapped in the current page tables.
 */
#include "pc_internal.h"

static bool pc_user_ready;
static struct pc_user_region pc_uregion;

static void
probe_check_size(int size)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		pc_panic("probe: bad access size %d", size);
}

static void
probe_arm(struct pc_cpu *c, bool exec, uint64_t target)
{
	PC_ASSERT(!c->c_probe_armed);
	c->c_probe_exec = exec;
	c->c_probe_exec_target = target;
	c->c_probe_armed = 1;
	pc_compiler_barrier();
}

static void
probe_disarm(struct pc_cpu *c)
{
	pc_compiler_barrier();
	c->c_probe_armed = 0;
	c->c_probe_exec = false;
	c->c_probe_fetch = false;
}

int
pc_probe_read(uint64_t va, int size, uint64_t *val)
{
	pc_intr_state_t s;
	struct pc_cpu *c;
	uint64_t v = 0;
	int r;

	probe_check_size(size);
	s = pc_intr_disable();
	c = pc_cpu_self();
	probe_arm(c, false, 0);
	r = pc_probe_read_asm((uintptr_t)va, size, &v);
	probe_disarm(c);
	pc_intr_restore(s);
	if (r == PC_PROBE_OK && val != NULL)
		*val = v;
	return r;
}

int
pc_probe_write(uint64_t va, int size, uint64_t val)
{
	pc_intr_state_t s;
	struct pc_cpu *c;
	int r;

	probe_check_size(size);
	s = pc_intr_disable();
	c = pc_cpu_self();
	probe_arm(c, false, 0);
	r = pc_probe_write_asm((uintptr_t)va, size, val);
	probe_disarm(c);
	pc_intr_restore(s);
	return r;
}

int
pc_probe_exec(uint64_t va)
{
	pc_intr_state_t s;
	struct pc_cpu *c;
	int r;

	s = pc_intr_disable();
	c = pc_cpu_self();
	probe_arm(c, true, va);
	r = pc_probe_exec_asm((uintptr_t)va);
	probe_disarm(c);
	pc_intr_restore(s);
	return r;
}

int
pc_probe_fetch(uint64_t va, uint64_t *rdx)
{
	pc_intr_state_t s;
	struct pc_cpu *c;
	uint64_t v;
	int r;

	s = pc_intr_disable();
	c = pc_cpu_self();
	c->c_probe_fetch = true;
	c->c_probe_stepped = false;
	c->c_probe_value = 0;
	probe_arm(c, true, va);
	r = pc_probe_fetch_asm((uintptr_t)va);
	v = c->c_probe_value;
	probe_disarm(c);
	pc_intr_restore(s);
	if (r == PC_PROBE_OK && rdx != NULL)
		*rdx = v;
	return r;
}

void
pc_probe_last_fault(struct pc_fault *f)
{
	*f = pc_cpu_self()->c_fault;
}

static void
record_fault(struct pc_cpu *c, const struct pc_trapframe *tf)
{
	c->c_fault.vector = (int)tf->tf_vector;
	c->c_fault.error_code = (uint32_t)tf->tf_err;
	c->c_fault.cr2 = tf->tf_vector == 14 ? pc_read_cr2() : 0;
	c->c_fault.rip = PC_TF_PC(tf);
}

/* Was this #PF, with %rip at the fetch target, the fetch itself? */
static bool
fetch_fault_p(const struct pc_trapframe *tf, uint64_t target)
{
	if (tf->tf_vector != 14 || PC_TF_PC(tf) != target)
		return false;
	if (tf->tf_err & PC_PF_I)
		return true;
	/* The CPU reports I/D only when NXE (amd64) or SMEP is on; then a
	 * #PF without it was a data access of the instruction. */
	if (pc_md_fetch_reports_id())
		return false;
	return pc_read_cr2() - target < 16;
}

/*
 * Outcome of a fetch probe from the exception that ends it (see the top of
 * the file); the fault, if it is one, is recorded.  Returns the probe
 * result; *value gets %rdx when the fetch worked.
 */
static int
fetch_outcome(struct pc_cpu *c, const struct pc_trapframe *tf, bool stepped,
    uint64_t target, uint64_t *value)
{
	if (!stepped || fetch_fault_p(tf, target)) {
		record_fault(c, tf);
		return PC_PROBE_FAULT((int)tf->tf_vector);
	}
	*value = PC_TF_VALUE(tf);
	return PC_PROBE_OK;
}

bool
pc_probe_trap(struct pc_trapframe *tf)
{
	struct pc_cpu *c = pc_cpu_self();
	uint64_t rip = PC_TF_PC(tf);
	bool in_stub, at_target;

	if (!c->c_probe_armed || tf->tf_vector == 2 || tf->tf_vector == 18)
		return false;
	if (c->c_probe_fetch && tf->tf_vector != 8) {
		if (tf->tf_vector == 1 && !c->c_probe_stepped) {
			c->c_probe_stepped = true;      /* at the target: go on */
			return true;
		}
		int r = fetch_outcome(c, tf, c->c_probe_stepped,
		    c->c_probe_exec_target, &c->c_probe_value);

		PC_TF_FLAGS(tf) &= ~PC_RFLAGS_TF;
		pc_md_probe_resume(tf, r);
		c->c_probe_armed = 0;
		return true;
	}
	in_stub = rip >= (uint64_t)(uintptr_t)pc_probe_stubs_start &&
	    rip < (uint64_t)(uintptr_t)pc_probe_stubs_end;
	at_target = c->c_probe_exec && rip == c->c_probe_exec_target;
	if (!in_stub && !at_target)
		return false;
	record_fault(c, tf);
	pc_md_probe_resume(tf, PC_PROBE_FAULT((int)tf->tf_vector));
	c->c_probe_armed = 0;
	return true;
}

/* ---------------------------------------------------------------------
 * Ring 3.
 * --------------------------------------------------------------------- */

void
pc_probe_user_init(const struct pc_user_region *ur)
{
	pc_uregion = *ur;
	pc_user_ready = true;
}

void
pc_user_region(struct pc_user_region *ur)
{
	PC_ASSERT(pc_user_ready);
	*ur = pc_uregion;
}

static int
pc_user_call(const char *stub, uint64_t a0, uint64_t a1, uint64_t *out,
    bool fetch)
{
	uintptr_t pc = (uintptr_t)PC_USER_CODE_VA +
	    (uintptr_t)(stub - pc_ustub_start);
	pc_intr_state_t s;
	struct pc_cpu *c;
	uintptr_t usp;
	int r;

	if (!pc_user_ready)
		pc_panic("user probe before the user region exists");
	s = pc_intr_disable();
	c = pc_cpu_self();
	PC_ASSERT(!c->c_user_active && !c->c_probe_armed);
	c->c_user_active = 1;
	c->c_user_fetch = fetch;
	c->c_user_stepped = false;
	c->c_user_target = a0;
	usp = (uintptr_t)pc_uregion.ur_stack_va +
	    (uintptr_t)(c->c_pub.pcpu_id + 1) * PC_PAGE_SIZE;
	if (pc_setjmp(c->c_user_jb) == 0) {
		pc_user_iret(pc, (uintptr_t)a0, a1, usp, PC_TSS_SP0_PTR(c),
		    0x2 | (fetch ? PC_RFLAGS_TF : 0));
	}
	/* Back from ring 3 through pc_user_trap(). */
	c = pc_cpu_self();
	PC_TSS_SET_SP0(c, c->c_kstack_top);
	r = c->c_user_result;
	if (r == PC_PROBE_OK && out != NULL)
		*out = c->c_user_value;
	pc_intr_restore(s);
	return r;
}

bool
pc_user_trap(struct pc_trapframe *tf)
{
	struct pc_cpu *c = pc_cpu_self();

	if (!c->c_user_active || tf->tf_vector == 2 || tf->tf_vector == 18)
		return false;
	if (c->c_user_fetch) {
		if (tf->tf_vector == 1 && !c->c_user_stepped) {
			c->c_user_stepped = true;       /* at the target */
			return true;
		}
		c->c_user_active = 0;
		c->c_user_result = fetch_outcome(c, tf, c->c_user_stepped,
		    c->c_user_target, &c->c_user_value);
		pc_longjmp(c->c_user_jb, 1);
	}
	c->c_user_active = 0;
	if (tf->tf_vector == 6 && PC_TF_PC(tf) == PC_USER_CODE_VA +
	    (uint64_t)(pc_ustub_return - pc_ustub_start)) {
		c->c_user_result = PC_PROBE_OK;
		c->c_user_value = PC_TF_VALUE(tf);
	} else {
		record_fault(c, tf);
		c->c_user_result = PC_PROBE_FAULT(tf->tf_vector);
	}
	pc_longjmp(c->c_user_jb, 1);
}

static const char *
user_read_stub(int size)
{
	switch (size) {
	case 1: return pc_ustub_read1;
	case 2: return pc_ustub_read2;
	case 4: return pc_ustub_read4;
	default: return pc_ustub_read8;
	}
}

static const char *
user_write_stub(int size)
{
	switch (size) {
	case 1: return pc_ustub_write1;
	case 2: return pc_ustub_write2;
	case 4: return pc_ustub_write4;
	default: return pc_ustub_write8;
	}
}

int
pc_probe_user_read(uint64_t va, int size, uint64_t *val)
{
	probe_check_size(size);
	return pc_user_call(user_read_stub(size), va, 0, val, false);
}

int
pc_probe_user_write(uint64_t va, int size, uint64_t val)
{
	probe_check_size(size);
	return pc_user_call(user_write_stub(size), va, val, NULL, false);
}

int
pc_probe_user_exec(uint64_t va)
{
	return pc_user_call(pc_ustub_exec, va, 0, NULL, false);
}

int
pc_probe_user_fetch(uint64_t va, uint64_t *rdx)
{
	return pc_user_call(pc_ustub_exec, va, 0, rdx, true);
}
