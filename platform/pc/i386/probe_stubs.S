/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * probe_stubs.S - the instructions that perform probed accesses (i386,
 * cdecl: arguments on the stack).
 *
 * Kernel-mode probes.  Each stub saves its entry %esp (which points at the
 * C caller's return address) in %gs:PC_PCPU_PROBE_RSP, then performs one
 * access.  If the access faults while the probe is armed (probe.c), the
 * trap handler records the fault and resumes at pc_probe_recover with
 * %eax = PC_PROBE_FAULT(vector) (trap_md.c); pc_probe_recover reloads the
 * saved %esp itself - a trap within ring 0 does not save %esp in the frame
 * - and its `ret` returns straight to the C caller.  So the stubs keep
 * nothing on the stack or in callee-saved registers across the access.
 * A fault is accepted only if its %eip lies in [pc_probe_stubs_start,
 * pc_probe_stubs_end) or equals the exec-probe target.  8-byte accesses
 * are two 4-byte ones (low half first): there is no plain 8-byte move
 * without the FPU or SSE.
 *
 * User-mode stubs.  The bytes between pc_ustub_start and pc_ustub_end are
 * copied to the user code page (PC_USER_CODE_VA) and run at CPL 3 with
 * %edi = address, %esi:%ebp = value to store (low:high).  They end at
 * pc_ustub_return, a `ud2`, with the value loaded in %ecx:%edx (high:low;
 * %ecx zero for narrower loads); probe.c recognises a #UD at exactly that
 * address as "done" (see ../amd64/probe_stubs.S for why not `int`).
 */
#include "pc_layout.h"

	.text
	.globl pc_probe_stubs_start, pc_probe_stubs_end, pc_probe_recover
	.globl pc_probe_read_asm, pc_probe_write_asm, pc_probe_exec_asm
	.globl pc_probe_fetch_asm
pc_probe_stubs_start:

/* int pc_probe_read_asm(uintptr_t va, int size, uint64_t *out) */
pc_probe_read_asm:
	movl %esp, %gs:PC_PCPU_PROBE_RSP
	movl 4(%esp), %ecx
	movl 8(%esp), %eax
	xorl %edx, %edx
	cmpl $1, %eax
	je 1f
	cmpl $2, %eax
	je 2f
	cmpl $4, %eax
	je 4f
	movl (%ecx), %eax
	movl 4(%ecx), %edx
	jmp 9f
1:	movzbl (%ecx), %eax
	jmp 9f
2:	movzwl (%ecx), %eax
	jmp 9f
4:	movl (%ecx), %eax
9:	movl 12(%esp), %ecx
	movl %eax, (%ecx)
	movl %edx, 4(%ecx)
	xorl %eax, %eax
	ret

/* int pc_probe_write_asm(uintptr_t va, int size, uint64_t val) */
pc_probe_write_asm:
	movl %esp, %gs:PC_PCPU_PROBE_RSP
	movl 4(%esp), %ecx
	movl 8(%esp), %eax
	movl 12(%esp), %edx
	cmpl $1, %eax
	je 1f
	cmpl $2, %eax
	je 2f
	cmpl $4, %eax
	je 4f
	movl %edx, (%ecx)
	movl 16(%esp), %edx
	movl %edx, 4(%ecx)
	jmp 9f
1:	movb %dl, (%ecx)
	jmp 9f
2:	movw %dx, (%ecx)
	jmp 9f
4:	movl %edx, (%ecx)
9:	xorl %eax, %eax
	ret

/* int pc_probe_exec_asm(uintptr_t va): call va, which should be a ret. */
pc_probe_exec_asm:
	movl %esp, %gs:PC_PCPU_PROBE_RSP
	movl 4(%esp), %eax
	call *%eax
	xorl %eax, %eax
	ret

/*
 * int pc_probe_fetch_asm(uintptr_t va): single-step into va (see
 * ../amd64/probe_stubs.S).  Only the caller-saved registers are touched,
 * since the fault path returns through pc_probe_recover without restoring
 * anything: the instruction at va starts with %eax = %ecx = %edx = 0, as on
 * amd64 (so zero bytes there - "add %al,(%eax)" - touch address 0, not va).
 */
pc_probe_fetch_asm:
	movl %esp, %gs:PC_PCPU_PROBE_RSP
	xorl %eax, %eax
	xorl %ecx, %ecx
	xorl %edx, %edx
	pushfl
	orl $0x100, (%esp)
	popfl
	call *4(%esp)
	pushfl
	andl $~0x100, (%esp)
	popfl
	xorl %eax, %eax
	ret

pc_probe_recover:
	movl %gs:PC_PCPU_PROBE_RSP, %esp
	ret
pc_probe_stubs_end:

/* A `ret` in the kernel text, for supervisor exec probes that should pass. */
	.globl pc_probe_ret_insn
pc_probe_ret_insn:
	ret

/*
 * void pc_user_iret(uintptr_t pc, uintptr_t a0, uint64_t a1, uintptr_t usp,
 *                   void *tss_sp0, uintptr_t flags)
 * Enter ring 3 at pc with %edi = a0, %esi:%ebp = a1, the given stack and
 * EFLAGS (IF clear; TF set for fetch probes), DS/ES = the user data
 * selector.  TSS.ESP0 is pointed just below our own frame, so a ring-3 ->
 * ring-0 transition lands on dead stack and pc_longjmp back to
 * pc_user_call is safe.
 */
	.globl pc_user_iret
pc_user_iret:
	movl %esp, %eax
	andl $-16, %eax
	movl 24(%esp), %ecx
	movl %eax, (%ecx)
	movl 4(%esp), %ebx              /* pc */
	movl 8(%esp), %edi              /* a0 */
	movl 12(%esp), %esi             /* a1, low */
	movl 16(%esp), %ebp             /* a1, high */
	movl 20(%esp), %ecx             /* usp */
	movl 28(%esp), %edx             /* flags */
	pushl $PC_SEL_UDATA             /* SS */
	pushl %ecx                      /* ESP */
	pushl %edx                      /* EFLAGS */
	pushl $PC_SEL_UCODE             /* CS */
	pushl %ebx                      /* EIP */
	movl $PC_SEL_UDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	iret

	.section .rodata.pc_ustub, "a"
	.balign 16
	.globl pc_ustub_start, pc_ustub_end
	.globl pc_ustub_read1, pc_ustub_read2, pc_ustub_read4, pc_ustub_read8
	.globl pc_ustub_write1, pc_ustub_write2, pc_ustub_write4
	.globl pc_ustub_write8, pc_ustub_exec
pc_ustub_start:
pc_ustub_read1:
	xorl %ecx, %ecx
	movzbl (%edi), %edx
	jmp 8f
pc_ustub_read2:
	xorl %ecx, %ecx
	movzwl (%edi), %edx
	jmp 8f
pc_ustub_read4:
	xorl %ecx, %ecx
	movl (%edi), %edx
	jmp 8f
pc_ustub_read8:
	movl (%edi), %edx
	movl 4(%edi), %ecx
	jmp 8f
pc_ustub_write1:
	movl %esi, %eax
	movb %al, (%edi)
	jmp 8f
pc_ustub_write2:
	movl %esi, %eax
	movw %ax, (%edi)
	jmp 8f
pc_ustub_write4:
	movl %esi, (%edi)
	jmp 8f
pc_ustub_write8:
	movl %esi, (%edi)
	movl %ebp, 4(%edi)
	jmp 8f
pc_ustub_exec:
	call *%edi
8:	xorl %eax, %eax
	.globl pc_ustub_return
pc_ustub_return:
	ud2
pc_ustub_end:

	.section .note.GNU-stack, "", @progbits
