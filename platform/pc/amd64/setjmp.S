/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * setjmp.S - pc_setjmp / pc_longjmp for the freestanding kernel.
 *
 * pc_jmp_buf layout (9 quadwords):
 *   0 %rbx  1 %rbp  2 %r12  3 %r13  4 %r14  5 %r15
 *   6 %rsp as it will be after pc_setjmp returns
 *   7 return address (%rip to resume at)
 *   8 RFLAGS
 * RFLAGS is saved and restored so that a longjmp out of an exception
 * handler or a section with interrupts disabled comes back with IF (and
 * AC) as they were at pc_setjmp time.  No FPU/SSE state: the kernel is
 * built without them.
 */
	.text
	.globl pc_setjmp, pc_longjmp

pc_setjmp:
	movq %rbx, 0(%rdi)
	movq %rbp, 8(%rdi)
	movq %r12, 16(%rdi)
	movq %r13, 24(%rdi)
	movq %r14, 32(%rdi)
	movq %r15, 40(%rdi)
	leaq 8(%rsp), %rax
	movq %rax, 48(%rdi)
	movq (%rsp), %rax
	movq %rax, 56(%rdi)
	pushfq
	popq %rax
	movq %rax, 64(%rdi)
	xorl %eax, %eax
	ret

pc_longjmp:
	movl %esi, %eax
	testl %eax, %eax
	jnz 1f
	movl $1, %eax
1:	movq 0(%rdi), %rbx
	movq 8(%rdi), %rbp
	movq 16(%rdi), %r12
	movq 24(%rdi), %r13
	movq 32(%rdi), %r14
	movq 40(%rdi), %r15
	movq 48(%rdi), %rsp
	pushq 64(%rdi)
	popfq
	jmpq *56(%rdi)

	.section .note.GNU-stack, "", @progbits
