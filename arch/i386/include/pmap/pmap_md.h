// SPDX-License-Identifier: BSD-2-Clause
/*
 * pmap_md.h - i386 constants the public API exposes: page size, the
 * virtual address map, and the address types.
 *
 * Virtual address map (32-bit, 2-level paging, no PAE; one PDE = 4 MiB):
 *
 *   0x00000000 - 0xbfffffff  user (PD slots 0-767), per pmap
 *   0xc0000000 - 0xc0ffffff  kernel image, mapped from the host's boot
 *                            information (4 MiB pages where it can)
 *   0xc1000000 - 0xffbfffff  kernel virtual space: the library's windows
 *                            (quick slots, kenter_temporary, sf_bufs,
 *                            per-CPU table and page windows), its
 *                            metadata area, then the range
 *                            pmap_virtual_space() hands out and
 *                            pmap_growkernel() grows
 *   0xffc00000 - 0xffffffff  the recursive slot (PD slot 1023): the
 *                            current pmap's page tables (PTmap), its
 *                            page directory at 0xfffff000
 *
 * There is no direct map: with more RAM than the 1 GiB of kernel address
 * space, no page is reachable until something maps it.
 * The kernel's PD slots (768-1022) are shared into every pmap: a pmap
 * copies them at pmap_create() and pmap_growkernel() writes each new one
 * into every pmap.
 */
#ifndef PMAP_MD_H
#define PMAP_MD_H

#include <stdint.h>

#ifndef PMAP_HAVE_VM_TYPES
typedef uint32_t vaddr_t;
typedef uint32_t paddr_t;
typedef uint32_t vsize_t;
typedef uint32_t psize_t;
#endif
_Static_assert(sizeof(vaddr_t) == 4 && sizeof(paddr_t) == 4,
    "i386: vaddr_t and paddr_t are 32 bits");

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1U << PAGE_SHIFT)
#define PAGE_MASK	(PAGE_SIZE - 1)

#define PMAP_USER_MIN		0x00000000U
#define PMAP_USER_MAX		0xc0000000U	/* exclusive */
#define PMAP_KIMAGE_BASE	0xc0000000U
#define PMAP_KVA_BASE		0xc1000000U
#define PMAP_KVA_MAX		0xffc00000U	/* exclusive */
#define PMAP_PTMAP_BASE		0xffc00000U
/*
 * The library's per-CPU table and page windows are the first
 * PMAP_CPU_WINDOWS_SIZE bytes of KVA.  Each is used only by its CPU, which
 * invalidates it locally around each use; another CPU's speculative copy
 * of one (SDM vol. 3, 4.10.2.3) is never used, and is left alone, as
 * FreeBSD's i386 PMAP1 and CMAP windows leave theirs.
 */
#define PMAP_CPU_WINDOWS_SIZE	(64U * 5 * PAGE_SIZE)

/* The CPU whose private window va is (its table window: one page per CPU,
 * then its four page windows), or -1. */
static inline int
pmap_cpu_window_owner(vaddr_t va)
{
	if (va < PMAP_KVA_BASE || va - PMAP_KVA_BASE >= PMAP_CPU_WINDOWS_SIZE)
		return -1;
	unsigned i = (va - PMAP_KVA_BASE) >> PAGE_SHIFT;
	return i < 64 ? (int)i : (int)(i - 64) / 4;
}

#define PMAP_HAVE_DIRECT_MAP	0
/* What one page-table page below the root maps, as a shift (PT): see
 * PMAP_PTP_SHIFTS on amd64. */
#define PMAP_PTP_SHIFTS		{ 22 }
#define PMAP_PTP_LEVELS		1
#define PMAP_MACHINE		"i386"

#endif /* PMAP_MD_H */
