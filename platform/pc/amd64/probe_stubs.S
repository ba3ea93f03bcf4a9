/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * probe_stubs.S - the instructions that perform probed accesses.
 *
 * Kernel-mode probes.  Each stub saves its entry %rsp (which points at the
 * C caller's return address) in %gs:PC_PCPU_PROBE_RSP, then performs one
 * access.  If the access faults while the probe is armed (probe.c), the
 * trap handler records the fault and resumes at pc_probe_recover with
 * %rsp = the saved value and %rax = PC_PROBE_FAULT(vector); the `ret` there
 * returns straight to the C caller.  That is why the stubs may not keep
 * anything on the stack or in callee-saved registers across the access.
 * A fault is accepted only if its %rip lies in [pc_probe_stubs_start,
 * pc_probe_stubs_end) or equals the exec-probe target.
 *
 * User-mode stubs.  The bytes between pc_ustub_start and pc_ustub_end are
 * copied to the user code page (PC_USER_CODE_VA) and run at CPL 3 with
 * %rdi = address, %rsi = value to store.  They all end at pc_ustub_return,
 * a `ud2`, with %rax = 0 and %rdx = the value loaded: probe.c recognises a
 * #UD at exactly that address as "done", and any other ring-3 exception as
 * the probe's fault, and returns from pc_user_call() either way.  They are
 * position independent and reference nothing outside the copied bytes.
 *
 * Why ud2 and not `int $n` or syscall: an exception is the one ring-3 ->
 * ring-0 path every accelerator must deliver faithfully (the probes test
 * exactly that path).  Software interrupts are not: under the nested KVM
 * this was developed on, `int $0x81` from CPL 3 raised #UD (KVM's
 * instruction emulator handles INT n only in real mode) while TCG got it
 * right.
 */
#include "pc_layout.h"

	.text
	.globl pc_probe_stubs_start, pc_probe_stubs_end, pc_probe_recover
	.globl pc_probe_read_asm, pc_probe_write_asm, pc_probe_exec_asm
	.globl pc_probe_fetch_asm

pc_probe_stubs_start:

/* int pc_probe_read_asm(uint64_t va, int size, uint64_t *out) */
pc_probe_read_asm:
	movq %rsp, %gs:PC_PCPU_PROBE_RSP
	cmpl $1, %esi
	je 1f
	cmpl $2, %esi
	je 2f
	cmpl $4, %esi
	je 4f
	movq (%rdi), %rax
	jmp 9f
1:	movzbl (%rdi), %eax
	jmp 9f
2:	movzwl (%rdi), %eax
	jmp 9f
4:	movl (%rdi), %eax
9:	movq %rax, (%rdx)
	xorl %eax, %eax
	ret

/* int pc_probe_write_asm(uint64_t va, int size, uint64_t val) */
pc_probe_write_asm:
	movq %rsp, %gs:PC_PCPU_PROBE_RSP
	cmpl $1, %esi
	je 1f
	cmpl $2, %esi
	je 2f
	cmpl $4, %esi
	je 4f
	movq %rdx, (%rdi)
	jmp 9f
1:	movb %dl, (%rdi)
	jmp 9f
2:	movw %dx, (%rdi)
	jmp 9f
4:	movl %edx, (%rdi)
9:	xorl %eax, %eax
	ret

/* int pc_probe_exec_asm(uint64_t va): call va, which should be a ret. */
pc_probe_exec_asm:
	movq %rsp, %gs:PC_PCPU_PROBE_RSP
	call *%rdi
	xorl %eax, %eax
	ret

/*
 * int pc_probe_fetch_asm(uint64_t va): single-step into va.  POPF sets TF;
 * the trap comes after the instruction that follows it, the call, so the
 * first #DB arrives with %rip = va, before va is fetched.  probe.c resumes
 * it; the next exception (the #DB after the instruction at va, or a fault
 * it raised) ends the probe through pc_probe_recover with TF cleared.  The
 * scratch registers start at zero so the one instruction cannot do much.
 * The fall-through after the call is reached only if that instruction
 * cleared TF itself.
 */
pc_probe_fetch_asm:
	movq %rsp, %gs:PC_PCPU_PROBE_RSP
	xorl %eax, %eax
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %esi, %esi
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	xorl %r11d, %r11d
	pushfq
	orq $0x100, (%rsp)
	popfq
	call *%rdi
	pushfq
	andq $~0x100, (%rsp)
	popfq
	xorl %eax, %eax
	ret

pc_probe_recover:
	ret
pc_probe_stubs_end:

/* A `ret` in the kernel text, for supervisor exec probes that should pass. */
	.globl pc_probe_ret_insn
pc_probe_ret_insn:
	ret

/*
 * void pc_user_iret(uint64_t rip, uint64_t rdi, uint64_t rsi, uint64_t usp,
 *                   uint64_t *tss_rsp0, uint64_t rflags)
 * Enter ring 3 at rip with the given %rdi/%rsi, stack and RFLAGS (IF must
 * be clear; TF is set for fetch probes).  TSS.RSP0
 * is pointed just below our own frame, so a ring-3 -> ring-0 transition
 * lands on dead stack and pc_longjmp back to pc_user_call is safe.
 */
	.globl pc_user_iret
pc_user_iret:
	movq %rsp, %rax
	andq $-16, %rax
	movq %rax, (%r8)
	pushq $PC_SEL_UDATA             /* SS */
	pushq %rcx                      /* RSP */
	pushq %r9                       /* RFLAGS */
	pushq $PC_SEL_UCODE             /* CS */
	pushq %rdi                      /* RIP */
	movq %rsi, %rdi
	movq %rdx, %rsi
	xorl %eax, %eax
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %ebp, %ebp
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	xorl %r11d, %r11d
	iretq

	.section .rodata.pc_ustub, "a"
	.balign 16
	.globl pc_ustub_start, pc_ustub_end
	.globl pc_ustub_read1, pc_ustub_read2, pc_ustub_read4, pc_ustub_read8
	.globl pc_ustub_write1, pc_ustub_write2, pc_ustub_write4
	.globl pc_ustub_write8, pc_ustub_exec
pc_ustub_start:
pc_ustub_read1:
	movzbl (%rdi), %edx
	jmp 8f
pc_ustub_read2:
	movzwl (%rdi), %edx
	jmp 8f
pc_ustub_read4:
	movl (%rdi), %edx
	jmp 8f
pc_ustub_read8:
	movq (%rdi), %rdx
	jmp 8f
pc_ustub_write1:
	movb %sil, (%rdi)
	jmp 8f
pc_ustub_write2:
	movw %si, (%rdi)
	jmp 8f
pc_ustub_write4:
	movl %esi, (%rdi)
	jmp 8f
pc_ustub_write8:
	movq %rsi, (%rdi)
	jmp 8f
pc_ustub_exec:
	call *%rdi
8:	xorl %eax, %eax
	.globl pc_ustub_return
pc_ustub_return:
	ud2
pc_ustub_end:

	.section .note.GNU-stack, "", @progbits
