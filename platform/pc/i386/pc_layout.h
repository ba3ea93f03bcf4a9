// SPDX-License-Identifier: BSD-2-Clause
/*
 * pc_layout.h - memory layout and ABI constants of the i386 pc kernel,
 * shared by C and assembly (the amd64 kernel's are in ../amd64/).
 *
 * Virtual address space (legacy 32-bit paging, 4 KiB and 4 MiB pages, no
 * PAE, no NX):
 *
 *   0x00000000  +-------------------------------------------------+
 *               | during boot only: identity map of pa [0, 12 MiB)|
 *               | for the entry code and the AP trampoline;       |
 *               | removed once all APs are up                     |
 *               | after boot: free for tests and pmaps            |
 *   0xc0000000  +-------------------------------------------------+
 *               | kernel window: VA = PC_KERNEL_VMA + PA for PA in |
 *               | [0, PC_KWIN_SIZE) (4 MiB pages once the library  |
 *               | maps it, where the CPU has PSE): the image (at   |
 *               | 1 MiB), the allocator's bitmap, the vm_page array|
 *   0xc0100000  | kernel image (.text first)                      |
 *   0xc0c00000  +-------------------------------------------------+
 *               | platform region, one page table (PDE 771):      |
 *   0xc0c00000  |   xAPIC register page (UC)                      |
 *   0xc0c01000  |   physical windows, PC_PHYSWIN_PER_CPU per CPU  |
 *               |   (pc_phys_map), reached through the PTmap      |
 *   0xc0e00000  |   user stub code page (U, R/X)                  |
 *   0xc0e01000  |   user stub stacks, one page per CPU (U, R/W)   |
 *   0xc1000000  +-------------------------------------------------+
 *               | the library's kernel virtual space (pmap_md.h)  |
 *   0xffc00000  +-------------------------------------------------+
 *               | recursive slot (PDE 1023): the current page      |
 *               | tables (PTmap), the directory at 0xfffff000;     |
 *               | the boot directory has it too, so the platform's |
 *               | page-table editors work the same before and      |
 *               | after the library takes over                     |
 *   0xffffffff  +-------------------------------------------------+
 *
 * [0xc0000000, 0xc1000000) is the library's kernel-image area on i386:
 * everything the platform keeps mapped after the switch to the library's
 * page tables is a kernel range there (host_md.c).  There is no direct map:
 * RAM beyond the kernel window (the machine is booted with more than the
 * 1 GiB of kernel address space) is reached only through the physical
 * windows or the library's own mappings.
 *
 * No boot page-table entry has G or PS set; CR4 is zero (no PGE, PSE, SMEP
 * or SMAP) and CR0.WP set when pc_main() starts.
 */
#ifndef PC_LAYOUT_H
#define PC_LAYOUT_H

#ifdef __ASSEMBLER__
#define PC_U64(x) x
#else
#define PC_U64(x) x##ULL
#endif

/* --- virtual and physical layout --------------------------------------- */
#define PC_KERNEL_VMA       0xc0000000      /* VA of PA 0 */
#define PC_KERNEL_LOAD_PA   0x100000        /* image at 1 MiB */
#define PC_KWIN_SIZE        0xc00000        /* kernel window: 12 MiB */
#define PC_PLAT_VA          0xc0c00000      /* the platform region */
#define PC_LAPIC_VA         0xc0c00000      /* xAPIC MMIO */
#define PC_PHYSWIN_VA       0xc0c01000      /* physical windows */
#define PC_PHYSWIN_PER_CPU  8
#define PC_USER_CODE_VA     0xc0e00000      /* user stubs */
#define PC_USER_STACK_VA    0xc0e01000      /* CPU 0's stack */
#define PC_PTMAP_VA         0xffc00000      /* recursive slot */
#define PC_PDIR_VA          0xfffff000      /* the directory in it */
#define PC_AP_TRAMP_PA      0x8000          /* SIPI vector 0x08 */

#define PC_PAGE_SIZE        4096
#define PC_LARGE_PAGE_SIZE  0x400000

/* --- limits ------------------------------------------------------------- */
#define PC_MAX_CPUS         16
#define PC_KSTACK_SIZE      16384   /* per-CPU kernel stack */

/* --- GDT selectors (same on every CPU) ---------------------------------- */
#define PC_SEL_KCODE        0x08
#define PC_SEL_KDATA        0x10
#define PC_SEL_UCODE        0x1b    /* index 3, RPL 3 */
#define PC_SEL_UDATA        0x23    /* index 4, RPL 3 */
#define PC_SEL_TSS          0x28
#define PC_SEL_PERCPU       0x30    /* %gs: base = this CPU's struct pc_cpu */
#define PC_GDT_ENTRIES      8

#include "pc_layout_common.h"

#endif /* PC_LAYOUT_H */
