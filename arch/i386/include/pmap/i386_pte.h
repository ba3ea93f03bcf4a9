// SPDX-License-Identifier: BSD-2-Clause
/*
 * i386_pte.h - the bits of legacy 32-bit paging (no PAE), named as the
 * Intel SDM names them (vol. 3A, 4.3 "32-Bit Paging", tables 4-4 .. 4-6).
 *
 * A linear address is split like this:
 *
 *   31        22 21        12 11          0
 *  +------------+------------+-------------+
 *  |  PD index  |  PT index  |   offset    |
 *  +------------+------------+-------------+
 *
 * A PDE with PS=1 (and CR4.PSE=1) maps a 4 MiB page (offset = bits 21:0);
 * otherwise it references a page table.  There is no execute-disable bit:
 * every readable page is executable.
 *
 * Freestanding: included by the i386 layer and its hosts.
 */
#ifndef PMAP_I386_PTE_H
#define PMAP_I386_PTE_H

#include <stdint.h>

typedef uint32_t pt_entry_t;	/* a PDE or a PTE */

#define PG_P		(1u << 0)	/* Present */
#define PG_RW		(1u << 1)	/* Read/write */
#define PG_US		(1u << 2)	/* User/supervisor */
#define PG_PWT		(1u << 3)	/* Page-level write-through */
#define PG_PCD		(1u << 4)	/* Page-level cache disable */
#define PG_A		(1u << 5)	/* Accessed */
#define PG_D		(1u << 6)	/* Dirty (leaves) */
#define PG_PS		(1u << 7)	/* Page size, in a PDE: 4 MiB leaf */
#define PG_PAT_4K	(1u << 7)	/* PAT, in a PTE */
#define PG_G		(1u << 8)	/* Global (leaves, CR4.PGE=1) */
#define PG_AVL0		(1u << 9)	/* ignored by the MMU: software */
#define PG_AVL1		(1u << 10)
#define PG_AVL2		(1u << 11)
#define PG_PAT_4M	(1u << 12)	/* PAT, in a 4 MiB PDE */
#define PG_FRAME	0xfffff000u	/* a PTE's page, a PDE's table */
#define PG_FRAME_4M	0xffc00000u	/* a 4 MiB PDE's page */

#define I386_PD_SHIFT	22
#define I386_NBPD	(1u << I386_PD_SHIFT)	/* bytes one PDE maps: 4 MiB */
#define I386_NPTE	1024

#define CR0_WP		(1u << 16)
#define CR0_PG		(1u << 31)
#define CR4_PSE		(1u << 4)
#define CR4_PGE		(1u << 7)

static inline unsigned i386_pdi(uint32_t va) { return va >> I386_PD_SHIFT; }
static inline unsigned i386_pti(uint32_t va) { return (va >> 12) & (I386_NPTE - 1); }

#endif /* PMAP_I386_PTE_H */
