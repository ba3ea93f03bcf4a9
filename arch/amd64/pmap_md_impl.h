// SPDX-License-Identifier: BSD-2-Clause
/*
 * pmap_md_impl.h - what the machine-independent core needs from the amd64
 * layer: the page-table tree's shape, how pages are reached, the address
 * spaces and the invalidation instructions; the meaning of a leaf PTE and
 * atomic PTE access are the x86 ports' common part (../x86/pmap_md_x86.h).
 * The MI code never looks at a PTE bit except through these.
 */
#ifndef PMAP_MD_IMPL_H
#define PMAP_MD_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <pmap/pmap.h>

typedef uint64_t pmap_pte_t;

/*
 * The entry bits the inline functions below need, under private names: MI
 * code sees no <pmap/amd64_pte.h> (check-mi), and pmap_md.c checks that
 * these agree with it.
 */
#define MDPTE_P		0x001ULL	/* present */
#define MDPTE_W		0x002ULL	/* writable */
#define MDPTE_U		0x004ULL	/* user */
#define MDPTE_A		0x020ULL	/* accessed */
#define MDPTE_D		0x040ULL	/* dirty */
#define MDPTE_PS	0x080ULL	/* large leaf (PDE, PDPTE) */
#define MDPTE_G		0x100ULL	/* global */
#define MDPTE_SW0	0x200ULL	/* ignored by the MMU: software bits */
#define MDPTE_SW1	0x400ULL
#define MDPTE_SW2	0x800ULL
#define MDPTE_FRAME	0x000ffffffffff000ULL

struct pmap_md {
	paddr_t md_root_pa;		/* PML4 (CR3) */
	pmap_pte_t *md_root;		/* the same, through pmap_host_phys_map */
	/* Per CPU: the PCID this pmap has there, and in which of that CPU's
	 * generations (pcid | gen << 12; 0: none).  Written by that CPU only,
	 * in pmap_md_activate; read by others for pmap_md_asid_stale's hint
	 * (relaxed atomics).  See "address-space identifiers" in pmap_md.c. */
	uint64_t md_asid[PMAP_MAXCPUS];
};
/* The root table of a pmap (pmap_md_root(pm) and pmap_md_root_pa(pm) in
 * pmap_impl.h call these with &pm->pm_md). */
static inline pmap_pte_t *pmap_md_root_of(const struct pmap_md *md) { return md->md_root; }
static inline paddr_t pmap_md_root_pa_of(const struct pmap_md *md) { return md->md_root_pa; }

#include "../x86/pmap_md_x86.h"	/* leaf meaning, caching rules, atomics */

/* Does this machine tag cached translations with their address space, so
 * that a switch keeps them (PCIDs, with CR4.PGE)?  Fixed at bootstrap. */
extern bool pmap_md_asids_on;
static inline bool pmap_md_asids_p(void) { return pmap_md_asids_on; }

/* ---- the page-table tree's shape (the walk itself is MI: pmap/ptree.c) ---- */

/* Levels 1 (leaf tables) .. PMAP_MD_LEVELS (the root); entries per table. */
#define PMAP_MD_LEVELS		4
#define PMAP_MD_NPTE		512
/* Root entries below this index map user space (the rest is the kernel's,
 * shared by every pmap). */
#define PMAP_MD_USER_ROOT_SLOTS	256

/* Index of va's entry in its level-`level` table. */
static inline unsigned
pmap_md_index(vaddr_t va, int level)
{
	return (unsigned)(va >> (12 + 9 * (level - 1))) & 511u;
}

/* Bytes one entry of a level-`level` table maps. */
static inline vsize_t
pmap_md_level_size(int level)
{
	return (vsize_t)1 << (12 + 9 * (level - 1));
}

/* A valid entry that maps (a leaf, at level 1 or a large page above)? */
static inline bool
pmap_md_leaf_p(pmap_pte_t e, int level)
{
	return (e & MDPTE_P) && (level == 1 || ((level == 2 || level == 3) && (e & MDPTE_PS)));
}

/* A valid entry that points at a next-level table? */
static inline bool
pmap_md_table_p(pmap_pte_t e, int level)
{
	return (e & MDPTE_P) && level > 1 && !((level == 2 || level == 3) && (e & MDPTE_PS));
}

/* The canonical form of an address built from table indices (x86-64 sign
 * extends bit 47 into the upper half). */
static inline vaddr_t
pmap_md_canonical(vaddr_t va)
{
	return (va & (1UL << 47)) ? (va | 0xffff000000000000UL) : va;
}

/* Can pa be mapped: below the CPU's physical address width (MAXPHYADDR)? */
/* The first KVA the caller owns: below it, in the KVA slot, are the
 * library's own windows (quick mappings, kenter_temporary, sf_bufs). */

/*
 * ---- how the library reaches physical pages ----
 *
 * pmap_md_table_ptr: the level-`level` page table of pm at pa, which maps
 *   the region holding va (level PMAP_MD_LEVELS: pm's root), for the walk;
 *   valid while pm's lock (or, page-side, the page's) is held, until
 *   pmap_md_tables_done() at the release of the outermost such lock this
 *   CPU holds (pmap_md_tables_hold() counts them) or of any pmap's lock
 *   (pmap_lock true);
 * pmap_md_meta_map: a lasting pointer to a page the library keeps its own
 *   data in (pv chunks, pmap structures), with a cookie for
 *   pmap_md_meta_free, which unmaps the page and gives it back;
 * pmap_md_tmp_map/unmap: a pointer for a moment (zeroing, copying, the
 *   free-list link in a page table waiting to be freed), preemption
 *   disabled in between, nested at most PMAP_MD_TMP_DEPTH deep, unmapped
 *   in the reverse order.
 * On amd64 all of them are the direct map (pmap_host_phys_map).  A machine
 * without one (i386) reaches tables through a recursive slot and per-CPU
 * windows, and maps its metadata into kernel virtual space.
 */
static inline pmap_pte_t *
pmap_md_table_ptr(pmap_t pm, vaddr_t va, int level, paddr_t pa)
{
	(void)pm;
	(void)va;
	(void)level;
	return (pmap_pte_t *)pmap_host_phys_map(pa);
}

static inline void
pmap_md_tables_hold(bool kernel)
{
	(void)kernel;
}

static inline void
pmap_md_tables_done(bool kernel, bool pmap_lock)
{
	(void)kernel;
	(void)pmap_lock;
}

static inline void *
pmap_md_meta_map(paddr_t pa, vaddr_t *cookiep)
{
	*cookiep = 0;
	return pmap_host_phys_map(pa);
}

static inline void
pmap_md_meta_free(vaddr_t cookie, paddr_t pa)
{
	(void)cookie;
	pmap_host_page_free(pa);
}

/* The address at which the level-`level` table mapping [base, ...) is itself
 * mapped in its pmap, or 0: amd64 has no recursive slot. */
static inline vaddr_t
pmap_md_table_alias(vaddr_t base, int level)
{
	(void)base;
	(void)level;
	return 0;
}

/* The per-CPU windows of cpu used since the last call (their VAs in w,
 * how many returned), for pmap_update(pmap_kernel()) to invalidate on
 * every CPU: amd64 has none. */
#define PMAP_MD_CPU_WINDOWS	1
static inline int
pmap_md_cpu_windows_stale(int cpu, vaddr_t *w)
{
	(void)cpu;
	(void)w;
	return 0;
}

/* Freeing a metadata page costs nothing (direct map): no chunk is kept. */
#define PMAP_MD_META_FREE_SHOOTS	0

#define PMAP_MD_TMP_DEPTH	4

static inline void *
pmap_md_tmp_map(paddr_t pa)
{
	return pmap_host_phys_map(pa);
}

static inline void
pmap_md_tmp_unmap(void *p)
{
	(void)p;
}

#endif /* PMAP_MD_IMPL_H */
