// SPDX-License-Identifier: BSD-2-Clause
/*
 * i386_paging.h - the bits of legacy 32-bit paging (CR4.PAE = 0) that the
 * simulated MMU's i386 mode needs beyond <pmap/amd64_pte.h>, named after
 * Intel SDM vol. 3A section 4.3 ("32-Bit Paging").  The simulator's own
 * copy: it does not depend on the library's i386 headers.
 *
 * A linear address is 32 bits:
 *
 *   31        22 21        12 11         0
 *  +------------+------------+------------+
 *  |   PD idx   |   PT idx   |   offset   |
 *  +------------+------------+------------+
 *
 * CR3 bits 31:12 locate the page directory (1024 4-byte PDEs).  A PDE with
 * PS = 1 maps a 4 MiB page when CR4.PSE = 1 (offset = bits 21:0); with
 * CR4.PSE = 0 its PS bit is ignored and it references a page table (1024
 * 4-byte PTEs).  There is no XD bit, no PCID and no canonical-address rule.
 *
 * The flag bits that mean the same in 32-bit and 4-level entries are used
 * under their <pmap/amd64_pte.h> names (Tables 4-4 .. 4-6): PG_P, PG_RW,
 * PG_US, PG_PWT, PG_PCD, PG_A, PG_D (leaves), PG_PS (PDE), PG_PAT_4K (PTE
 * bit 7), PG_G (leaves, CR4.PGE = 1), PG_PAT_LG (4 MiB PDE bit 12).
 */
#ifndef PMAP_SIM_I386_PAGING_H
#define PMAP_SIM_I386_PAGING_H

#include <stdint.h>

/* Geometry (4.3, figures 4-2 and 4-3). */
#define I386_PG_SHIFT		12	/* a PTE maps 4 KiB */
#define I386_PDE_SHIFT		22	/* a PDE maps 4 MiB */
#define I386_IDX_BITS		10	/* index bits per level */
#define I386_NENT		1024	/* entries per paging structure */
#define I386_ENTRY_SIZE		4	/* bytes per entry */
#define I386_LVL_PT		1	/* page table: PTEs */
#define I386_LVL_PD		2	/* page directory: PDEs */
#define I386_VA_LIMIT		(1ULL << 32)	/* linear addresses are 32 bits */
#define I386_SIZE_4M		(1ULL << I386_PDE_SHIFT)

/* A PDE that maps a 4 MiB page (Table 4-4), with MAXPHYADDR = 32. */
#define I386_PG_PS		(1ULL << 7)	/* = PG_PS: 4 MiB page if CR4.PSE = 1 */
#define I386_PDE_FRAME_4M	0xffc00000ULL	/* bits 31:22: the page frame */
/* Bits (M-20):13 hold physical-address bits (M-1):32 (PSE-36) and bits
 * 21:(M-19) are reserved; with M = MAXPHYADDR = 32 that is all of 21:13. */
#define I386_PDE_RSVD_4M	0x003fe000ULL

/* A PTE, or a PDE that references a page table (Tables 4-5, 4-6): bits
 * 31:12 are the frame; no bit is reserved. */
#define I386_FRAME		0xfffff000ULL

/* CR3 (Table 4-3): bits 31:12 are the page directory, 3 and 4 PWT/PCD;
 * the other low bits are ignored. */
#define I386_CR3_FRAME		0xfffff000ULL

#endif /* PMAP_SIM_I386_PAGING_H */
