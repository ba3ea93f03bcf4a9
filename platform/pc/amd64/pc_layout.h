// SPDX-License-Identifier: BSD-2-Clause
/*
 * pc_layout.h - memory layout and ABI constants of the pc kernel, shared by
 * C and assembly.
 *
 * Everything in this file is a promise other code relies on: the boot code
 * builds page tables to match it, the pmap library will map the kernel and
 * the direct map at the same addresses, and assembly reaches per-CPU fields
 * through %gs at the offsets below (C checks them with _Static_assert in
 * pc_internal.h).  Change a value here and you change the platform's ABI.
 *
 * Virtual address space (4-level paging, 48-bit addresses):
 *
 *   0x0000000000000000  +---------------------------------------------+
 *                       | during boot only: identity map of the low   |
 *                       | 4 GiB (2 MiB pages), used by the 32-bit boot|
 *                       | path and the AP trampoline; removed once all|
 *                       | APs are up (pc_mem_drop_identity())         |
 *                       | after boot: free for tests and pmaps        |
 *   0x00007fffffffffff  +---------------------------------------------+
 *                         (non-canonical hole)
 *   0xffff800000000000  +---------------------------------------------+
 *                       | direct map: VA = PC_DMAP_BASE + PA          |
 *                       | covers [0, 4 GiB) and all RAM above 4 GiB;  |
 *                       | 2 MiB pages (1 GiB above 4 GiB if the CPU   |
 *                       | has them); WB where RAM, UC elsewhere (MMIO:|
 *                       | LAPIC, IOAPIC, ...)                         |
 *                       +---------------------------------------------+
 *   0xffffffff7fc00000  | xAPIC register page (UC), xAPIC mode only   |
 *   0xffffffff7fe00000  | user stub code page  (U, R/X)               |
 *   0xffffffff7fe01000  | user stub stacks, one page per CPU (U, R/W) |
 *                       +---------------------------------------------+
 *   0xffffffff80000000  | kernel window: VA = PC_KERNEL_VMA + PA for  |
 *                       | PA in [0, round_up(kernel end, 2 MiB)),     |
 *                       | 2 MiB pages, read/write/execute             |
 *   0xffffffff80200000  | kernel image (.text first) loaded at 2 MiB  |
 *                       +---------------------------------------------+
 *
 * The user stub region sits in the kernel half (PML4 slot 511, like the
 * kernel image) so that every address space that shares the kernel half -
 * the boot tables, the MMU-probe arena, every pmap - can run ring-3 probes
 * without mappings of its own in the user half.  Its pages, and the tables
 * above them, carry U/S; the kernel's own leaves do not, and U/S is ANDed
 * across levels, so nothing else in the kernel half is reachable from
 * ring 3.
 *
 * No boot page-table entry has the G (global) or XD/NX bit set, and
 * EFER.NXE, CR4.PGE, CR4.PCIDE, CR4.SMEP and CR4.SMAP are all clear when
 * pc_main() starts; CR0.WP is set.
 *
 * Physical memory below 1 MiB is never handed out by the page allocator.
 * The AP trampoline is copied to PC_AP_TRAMP_PA during SMP bring-up.
 */
#ifndef PC_LAYOUT_H
#define PC_LAYOUT_H

#ifdef __ASSEMBLER__
#define PC_U64(x) x
#else
#define PC_U64(x) x##ULL
#endif

/* --- virtual and physical layout --------------------------------------- */
#define PC_KERNEL_VMA       PC_U64(0xffffffff80000000) /* VA of PA 0 */
#define PC_KERNEL_LOAD_PA   PC_U64(0x200000)           /* image at 2 MiB */
#define PC_DMAP_BASE        PC_U64(0xffff800000000000) /* VA of PA 0 */
#define PC_LAPIC_VA         PC_U64(0xffffffff7fc00000) /* xAPIC MMIO */
#define PC_USER_CODE_VA     PC_U64(0xffffffff7fe00000) /* user stubs */
#define PC_USER_STACK_VA    PC_U64(0xffffffff7fe01000) /* CPU 0's stack */
#define PC_AP_TRAMP_PA      PC_U64(0x8000)             /* SIPI vector 0x08 */

#define PC_PAGE_SIZE        4096
#define PC_LARGE_PAGE_SIZE  PC_U64(0x200000)
#define PC_HUGE_PAGE_SIZE   PC_U64(0x40000000)

/* --- limits ------------------------------------------------------------- */
#define PC_MAX_CPUS         16
#define PC_KSTACK_SIZE      16384   /* per-CPU kernel stack */
#define PC_ISTACK_SIZE      8192    /* each IST stack */

/* --- GDT selectors (same on every CPU; SYSRET-compatible order) --------- */
#define PC_SEL_KCODE        0x08
#define PC_SEL_KDATA        0x10
#define PC_SEL_UCODE32      0x18    /* placeholder, never loaded */
#define PC_SEL_UDATA        0x23    /* index 4, RPL 3 */
#define PC_SEL_UCODE        0x2b    /* index 5, RPL 3 */
#define PC_SEL_TSS          0x30    /* 16-byte system descriptor */
#define PC_GDT_ENTRIES      8

/* --- IST slots in the TSS ----------------------------------------------- */
#define PC_IST_DF           1       /* #DF double fault */
#define PC_IST_PF           2       /* #PF page fault */
#define PC_IST_NMI          3       /* NMI and #MC */

#include "pc_layout_common.h"

#endif /* PC_LAYOUT_H */
