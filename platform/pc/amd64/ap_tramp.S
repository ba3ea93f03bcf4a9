/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ap_tramp.S - real-mode entry for application processors.
 *
 * This blob is assembled into .rodata and copied by smp.c to the physical
 * page PC_AP_TRAMP_PA (0x8000), the page named by the SIPI vector 0x08.  An
 * AP starts here in real mode with CS = 0x0800, IP = 0, and walks up to long
 * mode: load the blob's own GDT, protected mode, PAE + the boot CR3,
 * EFER.LME (and whatever EFER bits the BSP asks for), paging, 64-bit code
 * segment, and finally an absolute jump to pc_ap_entry in the kernel with
 * the stack and struct pc_cpu pointer the BSP wrote into the blob.
 *
 * Invariants:
 *  - The code is position dependent: TR(x) turns a label into its address
 *    in the copy at PC_AP_TRAMP_PA.  Nothing may reference the blob at its
 *    linked address.
 *  - The boot CR3 must still identity-map the trampoline page when paging
 *    is switched on (pml4[0] is removed only after every AP is up), and it
 *    must lie below 4 GiB (a 32-bit mov to CR3).
 *  - APs are started one at a time, so the parameter block needs no lock:
 *    the BSP rewrites it only after the previous AP reported itself online
 *    from C, by which time it no longer reads the block.
 */
#include "pc_layout.h"

#define TR(x)   ((x) - pc_ap_tramp_start + PC_AP_TRAMP_PA)

	.section .rodata.pc_ap_tramp, "a"
	.balign 16
	.code16
	.globl pc_ap_tramp_start
pc_ap_tramp_start:
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl TR(tr_gdt_ptr)
	movl %cr0, %eax
	orl $1, %eax                    /* PE */
	movl %eax, %cr0
	ljmpl $0x08, $TR(tr_prot32)

	.code32
tr_prot32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $0x20, %eax                 /* PAE */
	movl %eax, %cr4
	movl TR(pc_ap_tramp_cr3), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx          /* EFER */
	rdmsr
	orl TR(pc_ap_tramp_efer), %eax  /* LME and the BSP's other bits */
	wrmsr
	/* CR0 = PG|WP|NE|ET|PE, written whole: INIT leaves CD and NW set. */
	movl $0x80010031, %eax
	movl %eax, %cr0
	ljmp $0x18, $TR(tr_long64)

	.code64
tr_long64:
	movq TR(pc_ap_tramp_stack), %rsp
	movq TR(pc_ap_tramp_cpu), %rdi
	movq TR(pc_ap_tramp_entry), %rax
	jmp *%rax

	.balign 8
tr_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff        /* 0x08: 32-bit code, flat */
	.quad 0x00cf92000000ffff        /* 0x10: data, flat */
	.quad 0x00209a0000000000        /* 0x18: 64-bit code */
tr_gdt_end:
tr_gdt_ptr:
	.word tr_gdt_end - tr_gdt - 1
	.long TR(tr_gdt)

	/* Parameter block, filled in by pc_smp_start_aps() per AP. */
	.balign 8
	.globl pc_ap_tramp_stack, pc_ap_tramp_cpu, pc_ap_tramp_entry
	.globl pc_ap_tramp_cr3, pc_ap_tramp_efer
pc_ap_tramp_stack:
	.quad 0
pc_ap_tramp_cpu:
	.quad 0
pc_ap_tramp_entry:
	.quad 0
pc_ap_tramp_cr3:
	.long 0
pc_ap_tramp_efer:
	.long 0
	.globl pc_ap_tramp_end
pc_ap_tramp_end:

	.section .note.GNU-stack, "", @progbits
