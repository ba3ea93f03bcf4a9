/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * boot.S - i386 multiboot entry: boot page tables, paging, the higher half.
 *
 * The loader (QEMU's -kernel, or GRUB) enters pc_entry32 in 32-bit protected
 * mode with paging off, EAX = 0x2BADB002 and EBX = the physical address of
 * the multiboot information.  The kernel is linked at PC_KERNEL_VMA + PA
 * (0xc0100000 for the image at 1 MiB), so until paging is on every address
 * used here goes through PHYS().  The multiboot header uses the same
 * address fields (flag 16) as the amd64 kernel's, so both load the same way.
 *
 * Boot page directory (in .bss, so zero on entry), 4 KiB pages only, so
 * that the kernel boots on a CPU without PSE (the library then maps its
 * kernel with 4 KiB pages too):
 *   pd[0..2]     identity map of pa [0, 12 MiB), for this code and the AP
 *                trampoline (removed once all APs are up)
 *   pd[768..770] the kernel window: PC_KERNEL_VMA + [0, 12 MiB), the same
 *                three page tables (pc_boot_pt_kwin)
 *   pd[771]      the platform region's page table (LAPIC, physical
 *                windows, user region), empty at first
 *   pd[1023]     the directory itself: the recursive slot (PTmap)
 * Entries are P|RW only: no G, no U, no PS.
 *
 * Invariant on exit to C: CR0 = PG|WP|NE|ET|PE (caches on), CR4 = 0,
 * flat segments from the boot GDT, running at the linked addresses on
 * pc_boot_stack, interrupts disabled.
 */
#include "pc_layout.h"

#define PHYS(x)     ((x) - PC_KERNEL_VMA)

#define MB_MAGIC        0x1BADB002
#define MB_FLAG_MEMINFO (1 << 1)
#define MB_FLAG_AOUT    (1 << 16)
#define MB_FLAGS        (MB_FLAG_MEMINFO | MB_FLAG_AOUT)

#define PC_BOOT_CR0     0x80010031
#define PDE_P_RW        0x003
#define PDE_P_RW_PS     0x083
#define KWIN_PDES       (PC_KWIN_SIZE >> 22)

	.section .text.boot, "ax"
	.code32
	.balign 4
pc_multiboot_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	.long PHYS(pc_multiboot_header)     /* header_addr */
	.long pc_image_phys_start           /* load_addr */
	.long pc_image_phys_load_end        /* load_end_addr */
	.long pc_image_phys_end             /* bss_end_addr */
	.long PHYS(pc_entry32)              /* entry_addr */

	.globl pc_entry32
pc_entry32:
	cli
	cld
	movl $PHYS(pc_boot_stack_top), %esp
	movl %eax, PHYS(pc_boot_mb_magic)
	movl %ebx, PHYS(pc_boot_mb_info)

	/* The kernel window's page tables: pt[i] = i * 4 KiB, 3072 entries
	 * for 12 MiB (4 KiB pages, so a CPU without PSE boots too). */
	movl $PHYS(pc_boot_pt_kwin), %edi
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	orl $PDE_P_RW, %eax
	movl %eax, (%edi, %ecx, 4)
	incl %ecx
	cmpl $(KWIN_PDES * 1024), %ecx
	jb 1b
	/* Identity and kernel window: pd[i] = pd[768 + i] = table i. */
	movl $PHYS(pc_boot_pd), %edi
	movl $(PHYS(pc_boot_pt_kwin) + PDE_P_RW), %eax
	xorl %ecx, %ecx
2:	movl %eax, (%edi, %ecx, 4)
	movl %eax, 768 * 4(%edi, %ecx, 4)
	addl $4096, %eax
	incl %ecx
	cmpl $KWIN_PDES, %ecx
	jb 2b
	movl $(PHYS(pc_boot_pt_plat) + PDE_P_RW), (PC_PLAT_VA >> 22) * 4(%edi)
	movl $(PHYS(pc_boot_pd) + PDE_P_RW), 1023 * 4(%edi)

	movl %edi, %cr3
	movl $PC_BOOT_CR0, %eax
	movl %eax, %cr0
	lgdt PHYS(pc_boot_gdt_ptr)
	ljmp $PC_SEL_KCODE, $pc_entry_high

	.cfi_sections .debug_frame
	.text
pc_entry_high:
	.cfi_startproc
	.cfi_undefined eip
	movl $PC_SEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movl $pc_boot_stack_top, %esp
	xorl %ebp, %ebp
	pushl pc_boot_mb_info
	pushl pc_boot_mb_magic
	call pc_boot_main
5:	cli
	hlt
	jmp 5b
	.cfi_endproc

/*
 * APs arrive here from the trampoline (ap_tramp.S) with paging on (the boot
 * directory), %esp = their kernel stack and %eax = their struct pc_cpu.
 */
	.globl pc_ap_entry
pc_ap_entry:
	.cfi_startproc
	.cfi_undefined eip
	movl $PC_SEL_KDATA, %ecx
	movl %ecx, %ds
	movl %ecx, %es
	movl %ecx, %ss
	xorl %ebp, %ebp
	pushl %eax
	call pc_ap_main
6:	cli
	hlt
	jmp 6b
	.cfi_endproc

	.data
	.balign 8
	.globl pc_boot_mb_magic, pc_boot_mb_info
pc_boot_mb_magic:
	.long 0
pc_boot_mb_info:
	.long 0

	/* Boot GDT: null, flat 32-bit kernel code (0x08), data (0x10). */
	.balign 16
pc_boot_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff
	.quad 0x00cf92000000ffff
pc_boot_gdt_end:
pc_boot_gdt_ptr:
	.word pc_boot_gdt_end - pc_boot_gdt - 1
	.long PHYS(pc_boot_gdt)

	.section .bss.pc_boot, "aw", @nobits
	.balign 4096
	.globl pc_boot_pd, pc_boot_pt_plat, pc_boot_pt_kwin
pc_boot_pd:
	.skip 4096
pc_boot_pt_plat:
	.skip 4096
pc_boot_pt_kwin:
	.skip KWIN_PDES * 4096
	.globl pc_boot_stack_top
pc_boot_stack:
	.skip PC_KSTACK_SIZE
pc_boot_stack_top:

	.section .note.GNU-stack, "", @progbits
