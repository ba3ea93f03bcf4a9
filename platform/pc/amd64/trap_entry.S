/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trap_entry.S - the 256 interrupt/exception entry stubs.
 *
 * Stub n starts at pc_trap_stubs + 16 * n (trap.c points IDT entry n there).
 * Each stub makes the stack uniform - a zero error code for vectors where
 * the CPU pushes none, then the vector number - and jumps to
 * pc_trap_common, which saves the general registers so that %rsp points at
 * a struct pc_trapframe (pc.h) and calls pc_trap(frame).  On return the
 * frame is restored, which is how handlers change state: the probe fixup
 * rewrites tf_rip, tf_rsp and tf_rax.
 *
 * There is no swapgs anywhere: the GS base always holds the kernel per-CPU
 * pointer, also while ring-3 probe stubs run (they never touch %gs, and the
 * kernel keeps null selectors in DS/ES/FS/GS so IRET to ring 3 does not
 * reload them).
 *
 * Stack alignment: the CPU aligns %rsp to 16 before pushing its 5-word
 * frame; error code + vector + 15 registers make 22 words, so %rsp is
 * 16-byte aligned at the call, as the ABI wants.
 */
#include "pc_layout.h"

	.text
	.balign 16
	.globl pc_trap_stubs
pc_trap_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if PC_VEC_HAS_ERROR(vec)
	.else
	pushq $0
	.endif
	pushq $vec
	.byte 0xe9                       /* jmp rel32, fixed size */
	.long pc_trap_common - . - 4
	.set vec, vec + 1
	.endr
	.balign 16
	.globl pc_trap_stubs_end
pc_trap_stubs_end:

pc_trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	call pc_trap
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp                  /* vector and error code */
	iretq

	.section .note.GNU-stack, "", @progbits
