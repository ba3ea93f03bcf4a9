/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * setjmp.S - pc_setjmp / pc_longjmp for the i386 kernel (cdecl).
 *
 * pc_jmp_buf layout (words): 0 %ebx  1 %esi  2 %edi  3 %ebp
 *   4 %esp as it will be after pc_setjmp returns  5 return address
 *   6 EFLAGS (so IF and AC come back as they were at pc_setjmp time)
 */
	.text
	.globl pc_setjmp, pc_longjmp
pc_setjmp:
	movl 4(%esp), %eax
	movl %ebx, 0(%eax)
	movl %esi, 4(%eax)
	movl %edi, 8(%eax)
	movl %ebp, 12(%eax)
	leal 4(%esp), %ecx
	movl %ecx, 16(%eax)
	movl (%esp), %ecx
	movl %ecx, 20(%eax)
	pushfl
	popl 24(%eax)
	xorl %eax, %eax
	ret

pc_longjmp:
	movl 4(%esp), %edx
	movl 8(%esp), %eax
	testl %eax, %eax
	jnz 1f
	movl $1, %eax
1:	movl 0(%edx), %ebx
	movl 4(%edx), %esi
	movl 8(%edx), %edi
	movl 12(%edx), %ebp
	movl 16(%edx), %esp
	pushl 24(%edx)
	popfl
	jmp *20(%edx)

	.section .note.GNU-stack, "", @progbits
