// SPDX-License-Identifier: BSD-2-Clause
/*
 * amd64_pte.h - every bit of the x86-64 4-level paging structures, named as
 * the Intel SDM (vol. 3A, chapter 4, "4-Level Paging") names it.
 *
 * This is the one place that knows the layout of a paging-structure entry.
 * Everything else - the pmap, the simulated MMU, the page-table dump tool -
 * uses these names and the accessors at the bottom, never a raw mask.
 *
 * A linear address is split like this (4 KiB pages):
 *
 *   63      48 47      39 38      30 29      21 20      12 11         0
 *  +----------+----------+----------+----------+----------+------------+
 *  | sign ext.| PML4 idx | PDPT idx |  PD idx  |  PT idx  |   offset   |
 *  +----------+----------+----------+----------+----------+------------+
 *
 * A PDPTE with PS=1 maps a 1 GiB page (offset = bits 29:0); a PDE with PS=1
 * maps a 2 MiB page (offset = bits 20:0).  Bits 63:48 must equal bit 47
 * (canonical form) or the access raises #GP instead of going through paging.
 *
 * Freestanding: included by the core, the simulator and the bare-metal kernel.
 */
#ifndef PMAP_AMD64_PTE_H
#define PMAP_AMD64_PTE_H

#include <stdint.h>
#include <stdbool.h>

typedef uint64_t pt_entry_t;	/* any level: PML4E, PDPTE, PDE, PTE */

/* ---- Bits common to every level (SDM tables 4-15 .. 4-20) ---- */
#define PG_P		(1ULL << 0)	/* P    Present */
#define PG_RW		(1ULL << 1)	/* R/W  Read/write; 0 = writes not allowed */
#define PG_US		(1ULL << 2)	/* U/S  User/supervisor; 0 = no user-mode access */
#define PG_PWT		(1ULL << 3)	/* PWT  Page-level write-through */
#define PG_PCD		(1ULL << 4)	/* PCD  Page-level cache disable */
#define PG_A		(1ULL << 5)	/* A    Accessed */
#define PG_D		(1ULL << 6)	/* D    Dirty (leaf entries only) */
#define PG_PS		(1ULL << 7)	/* PS   Page size (PDPTE, PDE); reserved in PML4E */
#define PG_PAT_4K	(1ULL << 7)	/* PAT  in a PTE (4 KiB leaf) */
#define PG_G		(1ULL << 8)	/* G    Global (leaf entries only, CR4.PGE=1) */
#define PG_PAT_LG	(1ULL << 12)	/* PAT  in a PDPTE/PDE with PS=1 */
#define PG_XD		(1ULL << 63)	/* XD   Execute-disable (IA32_EFER.NXE=1) */

/*
 * Bits 11:9 and 62:52 are ignored by the processor and free for software.
 * The pmap uses two of them (see pmap_md.h): they are listed here so that
 * nobody else takes them.
 */
#define PG_AVL0		(1ULL << 9)	/* software: pmap "managed" (has a pv entry) */
#define PG_AVL1		(1ULL << 10)	/* software: pmap "wired" */
#define PG_AVL2		(1ULL << 11)	/* software: unused */

/* Physical address field: bits 51:12 (an implementation uses MAXPHYADDR-1:12). */
#define PG_FRAME	0x000ffffffffff000ULL
#define PG_FRAME_2M	0x000fffffffe00000ULL	/* PDE with PS=1: bits 51:21 */
#define PG_FRAME_1G	0x000fffffc0000000ULL	/* PDPTE with PS=1: bits 51:30 */

/* Reserved bits of large-page leaves below the frame (must be 0). */
#define PG_RSVD_2M	0x00000000001fe000ULL	/* PDE  PS=1: bits 20:13 */
#define PG_RSVD_1G	0x000000003fffe000ULL	/* PDPTE PS=1: bits 29:13 */

/* ---- Address geometry ---- */
#define AMD64_PAGE_SHIFT	12
#define AMD64_PAGE_SIZE		(1ULL << AMD64_PAGE_SHIFT)
#define AMD64_L1_SHIFT		12	/* PT   entry maps 4 KiB */
#define AMD64_L2_SHIFT		21	/* PD   entry maps 2 MiB */
#define AMD64_L3_SHIFT		30	/* PDPT entry maps 1 GiB */
#define AMD64_L4_SHIFT		39	/* PML4 entry maps 512 GiB */
#define AMD64_NPTEPG		512	/* entries per paging-structure page */
#define AMD64_VA_BITS		48

#define AMD64_NBPD		(1ULL << AMD64_L2_SHIFT)	/* 2 MiB */
#define AMD64_NBPDP		(1ULL << AMD64_L3_SHIFT)	/* 1 GiB */
#define AMD64_NBPML4		(1ULL << AMD64_L4_SHIFT)	/* 512 GiB */

/* Levels, numbered as the walk meets them from the leaf up. */
enum amd64_level {
	AMD64_LVL_PT = 1,	/* page table: PTEs */
	AMD64_LVL_PD = 2,	/* page directory: PDEs */
	AMD64_LVL_PDPT = 3,	/* page-directory-pointer table: PDPTEs */
	AMD64_LVL_PML4 = 4,	/* PML4 table: PML4Es */
};

/* Index of va in the paging structure of the given level. */
static inline unsigned
amd64_pt_index(uint64_t va, int level)
{
	return (unsigned)(va >> (AMD64_L1_SHIFT + 9 * (level - 1))) & 511u;
}

/* Bytes mapped by one entry of the given level. */
static inline uint64_t
amd64_level_size(int level)
{
	return 1ULL << (AMD64_L1_SHIFT + 9 * (level - 1));
}

static inline bool
amd64_va_canonical_p(uint64_t va)
{
	uint64_t top = va >> (AMD64_VA_BITS - 1);	/* bits 63:47 */
	return top == 0 || top == (1ULL << (64 - AMD64_VA_BITS + 1)) - 1;
}

/* ---- Control registers and MSRs the paging model depends on ---- */
#define CR0_WP		(1ULL << 16)	/* Write protect (supervisor writes honour R/W) */
#define CR0_PG		(1ULL << 31)	/* Paging */
#define CR3_PWT		(1ULL << 3)
#define CR3_PCD		(1ULL << 4)
#define CR3_PCID_MASK	0xfffULL	/* CR4.PCIDE=1: bits 11:0 are the PCID */
#define CR3_FRAME	0x000ffffffffff000ULL
#define CR3_NOFLUSH	(1ULL << 63)	/* MOV to CR3 with PCIDE=1: keep TLB entries */
#define CR4_PSE		(1ULL << 4)
#define CR4_PAE		(1ULL << 5)
#define CR4_PGE		(1ULL << 7)	/* Global pages enabled */
#define CR4_PCIDE	(1ULL << 17)	/* Process-context identifiers enabled */
#define CR4_SMEP	(1ULL << 20)	/* Supervisor-mode execution prevention */
#define CR4_SMAP	(1ULL << 21)	/* Supervisor-mode access prevention */
#define EFER_NXE	(1ULL << 11)	/* Execute-disable bit enabled */
#define RFLAGS_AC	(1ULL << 18)	/* Alignment check / SMAP override */

#define MSR_EFER	0xc0000080u
#define MSR_PAT		0x00000277u

/* ---- Page-fault error code (SDM 4.7, figure 4-12) ---- */
#define PGEX_P		(1u << 0)	/* 0: not-present page; 1: protection/reserved */
#define PGEX_W		(1u << 1)	/* access was a write */
#define PGEX_U		(1u << 2)	/* access was in user mode (CPL 3) */
#define PGEX_RSVD	(1u << 3)	/* a reserved bit was set in some entry */
#define PGEX_I		(1u << 4)	/* instruction fetch (only when NXE or SMEP) */

/* ---- INVPCID types (SDM vol. 2, INVPCID) ---- */
#define INVPCID_ADDR		0	/* one address, one PCID, not globals */
#define INVPCID_CTX		1	/* all of one PCID except globals */
#define INVPCID_ALL_GLOBAL	2	/* everything, globals included */
#define INVPCID_ALL		3	/* every PCID, globals kept */

/* ---- PAT: memory types and the PAT/PCD/PWT index ---- */
enum amd64_memtype {
	MT_UC = 0,	/* uncacheable */
	MT_WC = 1,	/* write combining */
	MT_WT = 4,	/* write through */
	MT_WP = 5,	/* write protected */
	MT_WB = 6,	/* write back */
	MT_UCM = 7,	/* UC- ("UC minus"): uncacheable, MTRRs may override to WC */
};

/* The power-on PAT: WB, WT, UC-, UC, repeated. */
#define PAT_POWERON	0x0007040600070406ULL

/* PAT index (0..7) selected by a leaf entry at the given level. */
static inline unsigned
amd64_pat_index(pt_entry_t e, int level)
{
	unsigned pat = level == AMD64_LVL_PT ? !!(e & PG_PAT_4K) : !!(e & PG_PAT_LG);
	return (pat << 2) | (!!(e & PG_PCD) << 1) | !!(e & PG_PWT);
}

/* Leaf bits for PAT index i at the given level. */
static inline pt_entry_t
amd64_pat_bits(unsigned i, int level)
{
	pt_entry_t e = 0;
	if (i & 1)
		e |= PG_PWT;
	if (i & 2)
		e |= PG_PCD;
	if (i & 4)
		e |= level == AMD64_LVL_PT ? PG_PAT_4K : PG_PAT_LG;
	return e;
}

static inline unsigned
amd64_pat_type(uint64_t pat_msr, unsigned index)
{
	return (unsigned)(pat_msr >> (8 * index)) & 7u;
}

/* ---- Entry accessors ---- */
static inline bool pte_valid_p(pt_entry_t e) { return (e & PG_P) != 0; }

/* Is this a leaf at the given level (a PTE, or a PDE/PDPTE with PS=1)? */
static inline bool
pte_leaf_p(pt_entry_t e, int level)
{
	return level == AMD64_LVL_PT ||
	    ((level == AMD64_LVL_PD || level == AMD64_LVL_PDPT) && (e & PG_PS));
}

/* Physical address of the frame or next table an entry points at. */
static inline uint64_t
pte_frame(pt_entry_t e, int level)
{
	if (level == AMD64_LVL_PDPT && (e & PG_PS))
		return e & PG_FRAME_1G;
	if (level == AMD64_LVL_PD && (e & PG_PS))
		return e & PG_FRAME_2M;
	return e & PG_FRAME;
}

#endif /* PMAP_AMD64_PTE_H */
