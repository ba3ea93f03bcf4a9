// SPDX-License-Identifier: BSD-2-Clause
/*
 * pmap_md_x86.h - what the x86 ports (amd64, i386) answer alike: the
 * meaning of a leaf entry, the hardware's caching rules and atomic entry
 * access.  Included by arch/<port>/pmap_md_impl.h once it has defined
 * pmap_pte_t (the entry's width) and the MDPTE_* bits (the same positions
 * on both).
 *
 * Software bits (ignored by the MMU, bits 11:9 at every width):
 *   PTE_MANAGED (bit 9)   the mapping has a pv entry (pmap_enter of a
 *                         managed page)
 *   PTE_WIRED   (bit 10)  wired
 *   PTE_KENTER  (bit 11)  made by pmap_kenter_pa / pmap_qenter / quick or
 *                         temporary mappings: unmanaged, only
 *                         pmap_kremove may remove it
 */
#ifndef PMAP_MD_X86_H
#define PMAP_MD_X86_H

#define PTE_MANAGED	MDPTE_SW0
#define PTE_WIRED	MDPTE_SW1
#define PTE_KENTER	MDPTE_SW2

/* Bits of a leaf that record use, not rights. */
#define PTE_REF		MDPTE_A
#define PTE_MOD		MDPTE_D

/* ---- leaf PTE meaning ---- */

static inline bool pmap_pte_valid_p(pmap_pte_t e) { return (e & MDPTE_P) != 0; }
static inline bool pmap_pte_managed_p(pmap_pte_t e) { return (e & PTE_MANAGED) != 0; }
static inline bool pmap_pte_wired_p(pmap_pte_t e) { return (e & PTE_WIRED) != 0; }
static inline bool pmap_pte_kenter_p(pmap_pte_t e) { return (e & PTE_KENTER) != 0; }
static inline bool pmap_pte_referenced_p(pmap_pte_t e) { return (e & MDPTE_A) != 0; }
static inline bool pmap_pte_modified_p(pmap_pte_t e) { return (e & MDPTE_D) != 0; }
static inline paddr_t pmap_pte_pa(pmap_pte_t e) { return e & MDPTE_FRAME; }
/* Global (survives a switch of address space)? */
static inline bool pmap_pte_global_p(pmap_pte_t e) { return (e & MDPTE_G) != 0; }
/* The physical address of va inside the leaf e of size bytes. */
static inline paddr_t
pmap_pte_leaf_pa(pmap_pte_t e, vsize_t size, vaddr_t va)
{
	return (e & MDPTE_FRAME & ~(pmap_pte_t)(size - 1)) + (va & (size - 1));
}
/*
 * May a TLB hold the translation of this old leaf?  On x86 only a walk
 * fills a TLB entry and a walk sets A first, so a leaf with A clear is in
 * no TLB (the MI layer adds the one exception it creates itself: A cleared
 * by pmap_clear_reference whose shootdown is still on its way).
 */
static inline bool pmap_md_pte_cached_p(pmap_pte_t e) { return (e & MDPTE_A) != 0; }
/* May a TLB remember that an entry was not present (so making it present
 * needs an invalidation)?  Not on x86 (SDM vol. 3, 4.10.2.3). */
static inline bool pmap_md_invalid_cached_p(void) { return false; }
/* Does invalidating one address also drop the cached upper-level entries
 * that lead to a page table being freed?  On x86 INVLPG drops every
 * paging-structure-cache entry of the current PCID (4.10.4.1). */
static inline bool pmap_md_page_inval_drops_tables_p(void) { return true; }

/* Rights (VM_PROT_*) a valid leaf grants. */
vm_prot_t pmap_pte_prot(pmap_pte_t e);
/* A leaf PTE for pa with prot and the cache mode in flags (PMAP_NOCACHE
 * ...).  Kernel leaves are global.  Software bits are added by the caller. */
pmap_pte_t pmap_md_pte_make(paddr_t pa, vm_prot_t prot, u_int flags, bool kernel);
/* e with its rights lowered to at most prot (never raised).  Inline: it
 * runs once per PTE in pmap_protect's walk.  The port sets the two masks
 * at bootstrap (no-execute is 0 where the CPU has none). */
extern pmap_pte_t pmap_md_pte_write_bit, pmap_md_pte_noexec_bit;
static inline pmap_pte_t
pmap_pte_restrict(pmap_pte_t e, vm_prot_t prot)
{
	if (!(prot & VM_PROT_WRITE))
		e &= ~pmap_md_pte_write_bit;
	if (!(prot & VM_PROT_EXECUTE))
		e |= pmap_md_pte_noexec_bit;
	return e;
}
/* The cache-mode flag (PMAP_NOCACHE ...) of a leaf, 0 for write-back. */
u_int pmap_pte_cache(pmap_pte_t e);

/* ---- atomic access (every PTE change in the library goes through these) ---- */

static inline pmap_pte_t
pmap_pte_load(const pmap_pte_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline pmap_pte_t
pmap_pte_swap(pmap_pte_t *p, pmap_pte_t n)
{
	return __atomic_exchange_n(p, n, __ATOMIC_ACQ_REL);
}

static inline bool
pmap_pte_cas(pmap_pte_t *p, pmap_pte_t *old, pmap_pte_t n)
{
	return __atomic_compare_exchange_n(p, old, n, false, __ATOMIC_ACQ_REL,
	    __ATOMIC_ACQUIRE);
}

/* A plain store, no read-modify-write: only where no MMU can be setting A
 * or D in *p meanwhile (a solo walk, pmap_solo_begin). */
static inline void
pmap_pte_store_solo(pmap_pte_t *p, pmap_pte_t n)
{
	__atomic_store_n(p, n, __ATOMIC_RELAXED);
}

/* A store into an entry that is not valid and that only the caller can
 * reach: no MMU sets A or D in an entry that is not present, so no update
 * can be lost.  Release: what the caller did first (a pv entry, a zeroed
 * table) is seen by whoever sees the entry. */
static inline void
pmap_pte_store_new(pmap_pte_t *p, pmap_pte_t n)
{
	__atomic_store_n(p, n, __ATOMIC_RELEASE);
}

/* Clear bits; returns the entry as it was. */
static inline pmap_pte_t
pmap_pte_clear(pmap_pte_t *p, pmap_pte_t bits)
{
	return __atomic_fetch_and(p, ~bits, __ATOMIC_ACQ_REL);
}

/* ---- table entries ---- */

/* The page table a table entry points at. */
static inline paddr_t
pmap_md_table_pa(pmap_pte_t e)
{
	return e & MDPTE_FRAME;
}

/* An entry pointing at the table at pa; rights are decided at the leaf,
 * so it grants everything a leaf below may (user-accessible unless the
 * kernel's). */
static inline pmap_pte_t
pmap_md_table_entry(paddr_t pa, bool kernel)
{
	return pa | MDPTE_P | MDPTE_W | (kernel ? 0 : MDPTE_U);
}

#endif /* PMAP_MD_X86_H */
