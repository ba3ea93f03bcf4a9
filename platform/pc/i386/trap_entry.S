/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trap_entry.S - the 256 i386 interrupt/exception entry stubs.
 *
 * Stub n starts at pc_trap_stubs + 16 * n (trap_md.c points IDT entry n
 * there).  Each stub makes the stack uniform - a zero error code for
 * vectors where the CPU pushes none, then the vector number - and jumps to
 * pc_trap_common, which saves the general and data-segment registers so
 * that %esp points at a struct pc_trapframe (pc_arch.h), loads the
 * kernel's data segments and the per-CPU %gs, and calls pc_trap(frame).
 * On return the frame is restored, which is how handlers change state (the
 * probe fixup rewrites tf_eip and tf_eax).
 *
 * Unlike long mode, 32-bit protected mode uses the data segments: ring 3
 * runs with the user data selector in DS/ES and a null %gs (IRET to ring 3
 * nulls a DPL-0 %gs), so every entry reloads them and every exit restores
 * what was interrupted.  A trap within ring 0 pushes no %esp/%ss and stays
 * on the interrupted stack.
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
	pushl $0
	.endif
	pushl $vec
	.byte 0xe9                       /* jmp rel32, fixed size */
	.long pc_trap_common - . - 4
	.set vec, vec + 1
	.endr
	.balign 16
	.globl pc_trap_stubs_end
pc_trap_stubs_end:

pc_trap_common:
	pushal
	pushl %ds
	pushl %es
	pushl %fs
	pushl %gs
	movl $PC_SEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl $PC_SEL_PERCPU, %eax
	movl %eax, %gs
	cld
	movl %esp, %eax
	pushl %eax
	call pc_trap
	addl $4, %esp
	popl %gs
	popl %fs
	popl %es
	popl %ds
	popal
	addl $8, %esp                   /* vector and error code */
	iret

	.section .note.GNU-stack, "", @progbits
