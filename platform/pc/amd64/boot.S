/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * boot.S - multiboot entry, boot page tables, switch to long mode.
 *
 * The loader (QEMU's -kernel, or GRUB) enters pc_entry32 in 32-bit protected
 * mode with paging off, EAX = 0x2BADB002 and EBX = the physical address of
 * the multiboot information.  The kernel is linked at PC_KERNEL_VMA + PA, so
 * until paging is on every address used here goes through PHYS().
 *
 * Why the a.out kludge.  QEMU's multiboot loader refuses ELF64 files
 * ("Cannot load x86-64 image, give a 32bit one") unless the header sets
 * flag bit 16, in which case it ignores the ELF headers and loads the file
 * from the header's own fields: bytes [load_addr, load_end_addr) are read
 * from the file starting at the header's file offset minus (header_addr -
 * load_addr), memory up to bss_end_addr is zeroed, and entry_addr is
 * jumped to.  kernel.ld makes the loadable part of the file one contiguous
 * segment whose file layout equals its physical layout, so this is exact.
 * The payoff: build/pc/kernel.elf stays a normal ELF64 with all symbols and
 * DWARF, and gdb can use it directly (no elf32 conversion, no second copy).
 *
 * Boot page tables (all in .bss, so zero on entry):
 *   pml4[0]   -> pdpt_low   identity map of [0, 4 GiB), 2 MiB pages
 *   pml4[256] -> pdpt_low   the same tables as the first direct map
 *   pml4[511] -> pdpt_kern, pdpt_kern[510] -> pd_kern
 *                           kernel window: PC_KERNEL_VMA + [0, image end
 *                           rounded up to 2 MiB), 2 MiB pages
 * Entries are P|RW(|PS) only: no G, no XD, no U.  mem.c later replaces the
 * direct map with one built from the memory map and removes pml4[0].
 *
 * Invariant on exit to C: long mode, CR0 = PG|WP|NE|ET|PE (caches on),
 * CR4.PAE=1 and nothing else in CR4, EFER.LME=1 (NXE clear), running at the kernel's linked addresses
 * on pc_boot_stack, interrupts disabled.
 */
#include "pc_layout.h"

#define PHYS(x)     ((x) - PC_KERNEL_VMA)

#define MB_MAGIC        0x1BADB002
#define MB_FLAG_MEMINFO (1 << 1)    /* want mem_* and the memory map */
#define MB_FLAG_AOUT    (1 << 16)   /* load using the address fields */
#define MB_FLAGS        (MB_FLAG_MEMINFO | MB_FLAG_AOUT)

/* CR0 = PG | WP | NE | ET | PE, written whole: the firmware may leave
 * CD/NW (caches off) set, as SeaBIOS under TCG does. */
#define PC_BOOT_CR0     0x80010031

#define PTE_P_RW        0x003
#define PDE_P_RW_PS     0x083

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

	/* Long mode available?  (CPUID 0x80000001 EDX.LM[29]) */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb pc_boot_no_long_mode
	movl $0x80000001, %eax
	cpuid
	testl $(1 << 29), %edx
	jz pc_boot_no_long_mode

	/* pd_low[i] = i * 2 MiB | PS|RW|P, for the 2048 entries of 4 GiB. */
	movl $PHYS(pc_boot_pd_low), %edi
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax
	orl $PDE_P_RW_PS, %eax
	movl %eax, (%edi, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jb 1b

	/* pdpt_low[0..3] -> the four pages of pd_low. */
	movl $PHYS(pc_boot_pdpt_low), %edi
	movl $(PHYS(pc_boot_pd_low) + PTE_P_RW), %eax
	xorl %ecx, %ecx
2:	movl %eax, (%edi, %ecx, 8)
	addl $4096, %eax
	incl %ecx
	cmpl $4, %ecx
	jb 2b

	/* pd_kern[i] = i * 2 MiB | PS|RW|P up to the end of the image. */
	movl $pc_image_phys_end, %edx
	addl $0x1fffff, %edx
	shrl $21, %edx
	movl $PHYS(pc_boot_pd_kern), %edi
	xorl %ecx, %ecx
3:	movl %ecx, %eax
	shll $21, %eax
	orl $PDE_P_RW_PS, %eax
	movl %eax, (%edi, %ecx, 8)
	incl %ecx
	cmpl %edx, %ecx
	jb 3b

	movl $(PHYS(pc_boot_pd_kern) + PTE_P_RW), %eax
	movl %eax, PHYS(pc_boot_pdpt_kern) + 510 * 8

	movl $(PHYS(pc_boot_pdpt_low) + PTE_P_RW), %eax
	movl %eax, PHYS(pc_boot_pml4) + 0 * 8
	movl %eax, PHYS(pc_boot_pml4) + 256 * 8
	movl $(PHYS(pc_boot_pdpt_kern) + PTE_P_RW), %eax
	movl %eax, PHYS(pc_boot_pml4) + 511 * 8

	/* CR4.PAE, CR3, EFER.LME, then CR0.PG|WP|PE activates long mode. */
	movl $0x20, %eax
	movl %eax, %cr4
	movl $PHYS(pc_boot_pml4), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx
	rdmsr
	orl $(1 << 8), %eax
	wrmsr
	movl $PC_BOOT_CR0, %eax
	movl %eax, %cr0

	lgdt PHYS(pc_boot_gdt_ptr)
	ljmp $PC_SEL_KCODE, $PHYS(pc_entry64_low)

pc_boot_no_long_mode:
	/* Say so on COM1 and leave QEMU with the panic status. */
	movl $PHYS(pc_boot_no_lm_msg), %esi
	movw $0x3f8, %dx
4:	lodsb
	testb %al, %al
	jz 5f
	outb %al, %dx
	jmp 4b
5:	movl $0x12, %eax
	outl %eax, $PC_DEBUG_EXIT_PORT
6:	hlt
	jmp 6b

	.code64
pc_entry64_low:
	/* Still executing at the identity-mapped physical address. */
	movabsq $pc_entry64, %rax
	jmp *%rax

	/* CFI marks the two 64-bit entry points as outermost frames, so
	 * debugger backtraces stop here. */
	.cfi_sections .debug_frame
	.text
pc_entry64:
	.cfi_startproc
	.cfi_undefined rip
	movl $PC_SEL_KDATA, %eax
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %fs
	movl %eax, %gs
	movq $pc_boot_stack_top, %rsp
	xorl %ebp, %ebp
	movl pc_boot_mb_magic(%rip), %edi
	movl pc_boot_mb_info(%rip), %esi
	call pc_boot_main
7:	cli
	hlt
	jmp 7b
	.cfi_endproc

/*
 * APs arrive here from the trampoline (ap_tramp.S) in 64-bit mode on the
 * boot tables, with %rsp = their kernel stack and %rdi = their struct
 * pc_cpu.
 */
	.globl pc_ap_entry
pc_ap_entry:
	.cfi_startproc
	.cfi_undefined rip
	xorl %ebp, %ebp
	call pc_ap_main
8:	cli
	hlt
	jmp 8b
	.cfi_endproc

	.section .rodata
pc_boot_no_lm_msg:
	.asciz "pc: this CPU has no long mode\r\n"

	.data
	.balign 8
	.globl pc_boot_mb_magic, pc_boot_mb_info
pc_boot_mb_magic:
	.long 0
pc_boot_mb_info:
	.long 0

	/* Boot GDT: null, 64-bit kernel code (0x08), kernel data (0x10). */
	.balign 16
pc_boot_gdt:
	.quad 0
	.quad 0x00209a0000000000
	.quad 0x0000920000000000
pc_boot_gdt_end:
pc_boot_gdt_ptr:
	.word pc_boot_gdt_end - pc_boot_gdt - 1
	.long PHYS(pc_boot_gdt)

	.section .bss.pc_boot, "aw", @nobits
	.balign 4096
	.globl pc_boot_pml4, pc_boot_pdpt_low, pc_boot_pd_low
	.globl pc_boot_pdpt_kern, pc_boot_pd_kern
pc_boot_pml4:
	.skip 4096
pc_boot_pdpt_low:
	.skip 4096
pc_boot_pd_low:
	.skip 4 * 4096
pc_boot_pdpt_kern:
	.skip 4096
pc_boot_pd_kern:
	.skip 4096
	.globl pc_boot_stack_top
pc_boot_stack:
	.skip PC_KSTACK_SIZE
pc_boot_stack_top:

	.section .note.GNU-stack, "", @progbits
