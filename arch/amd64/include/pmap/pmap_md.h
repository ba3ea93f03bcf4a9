// SPDX-License-Identifier: BSD-2-Clause
/*
 * pmap_md.h - amd64 constants the public API exposes: page size, the
 * virtual address map, and the per-page fields the MD layer keeps.
 *
 * Virtual address map (48-bit, 4-level paging; one PML4 slot = 512 GiB):
 *
 *   0x0000000000000000 - 0x00007fffffffffff  user (slots 0-255), per pmap
 *   0xffff800000000000 - 0xffff81ffffffffff  direct map of physical memory
 *                                            (slots 256-259, 2 TiB, 1G/2M pages)
 *   0xffffc00000000000 - 0xffffc07fffffffff  kernel virtual space (slot 384):
 *                                            quick slots, kenter_temporary
 *                                            window, sf_buf window, then the
 *                                            range pmap_virtual_space() hands
 *                                            out and pmap_growkernel() grows
 *   0xffffff8000000000 - 0xffffffffffffffff  kernel image (slot 511), mapped
 *                                            from the host's boot information
 *
 * Every kernel PML4 slot in use gets its PDPT at bootstrap and keeps it, so
 * a user pmap copies the kernel's PML4 entries once, at pmap_create(), and
 * sees every later kernel page table without further work.
 */
#ifndef PMAP_MD_H
#define PMAP_MD_H

#include <stdint.h>

/* Addresses and sizes are the machine's width (a host that has these types
 * already defines PMAP_HAVE_VM_TYPES and its own, of the same width). */
#ifndef PMAP_HAVE_VM_TYPES
typedef uint64_t vaddr_t;
typedef uint64_t paddr_t;
typedef uint64_t vsize_t;
typedef uint64_t psize_t;
#endif
_Static_assert(sizeof(vaddr_t) == 8 && sizeof(paddr_t) == 8,
    "amd64: vaddr_t and paddr_t are 64 bits");

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#define PAGE_MASK	(PAGE_SIZE - 1)

#define PMAP_USER_MIN		0x0000000000000000UL
#define PMAP_USER_MAX		0x0000800000000000UL	/* exclusive */
#define PMAP_DMAP_BASE		0xffff800000000000UL
#define PMAP_DMAP_SLOTS		4
#define PMAP_DMAP_MAX		(PMAP_DMAP_BASE + PMAP_DMAP_SLOTS * (1UL << 39))
#define PMAP_KVA_BASE		0xffffc00000000000UL
#define PMAP_KVA_MAX		(PMAP_KVA_BASE + (1UL << 39))	/* exclusive */
#define PMAP_KIMAGE_BASE	0xffffff8000000000UL

#define PMAP_HAVE_DIRECT_MAP	1
/* What one page-table page below the root maps, as a shift (PDPT, PD, PT):
 * pmap_ptp_count() of a user pmap is the number of distinct va >> shift. */
#define PMAP_PTP_SHIFTS		{ 39, 30, 21 }
#define PMAP_PTP_LEVELS		3
#define PMAP_MACHINE		"amd64"

#endif /* PMAP_MD_H */
