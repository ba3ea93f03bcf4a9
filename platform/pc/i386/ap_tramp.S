/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ap_tramp.S - real-mode entry for i386 application processors.
 *
 * Copied by smp.c to PC_AP_TRAMP_PA (0x8000), the page the SIPI vector
 * 0x08 names.  An AP starts here in real mode with CS = 0x0800, IP = 0:
 * load the blob's flat GDT, protected mode, the boot page directory,
 * paging, then an absolute jump to pc_ap_entry in the kernel's
 * higher half with %esp = the stack and %eax = the struct pc_cpu the BSP
 * wrote into the parameter block (whose layout is the amd64 blob's, so
 * smp.c fills in both the same way; the EFER word is unused here).
 *
 * The boot directory still identity-maps the trampoline page when paging
 * comes on (pd[0] goes only after every AP is up).  APs start one at a
 * time, so the parameter block needs no lock.
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
	movl TR(pc_ap_tramp_cr3), %eax
	movl %eax, %cr3
	/* CR0 = PG|WP|NE|ET|PE, written whole: INIT leaves CD and NW set. */
	movl $0x80010031, %eax
	movl %eax, %cr0
	movl TR(pc_ap_tramp_stack), %esp
	movl TR(pc_ap_tramp_cpu), %eax
	movl TR(pc_ap_tramp_entry), %ecx
	jmp *%ecx

	.balign 8
tr_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff        /* 0x08: 32-bit code, flat */
	.quad 0x00cf92000000ffff        /* 0x10: data, flat */
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
