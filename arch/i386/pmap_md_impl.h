// SPDX-License-Identifier: BSD-2-Clause
/*
 * pmap_md_impl.h - what the machine-independent core needs from the i386
 * layer (32-bit paging, no PAE): the page-table tree's shape, how tables
 * and pages are reached without a direct map, the address spaces and the
 * invalidation instructions; the meaning of a leaf PTE and atomic PTE
 * access are the x86 ports' common part (../x86/pmap_md_x86.h).  The MI
 * code never looks at a PTE bit except through these.
 */
#ifndef PMAP_MD_IMPL_H
#define PMAP_MD_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <pmap/pmap.h>

typedef uint32_t pmap_pte_t;

/*
 * The entry bits the inline functions below need, under private names: MI
 * code sees no <pmap/i386_pte.h> (check-mi), and pmap_md.c checks that
 * these agree with it.
 */
#define MDPTE_P		0x001u		/* present */
#define MDPTE_W		0x002u		/* writable */
#define MDPTE_U		0x004u		/* user */
#define MDPTE_A		0x020u		/* accessed */
#define MDPTE_D		0x040u		/* dirty */
#define MDPTE_PS	0x080u		/* 4 MiB leaf (PDE) */
#define MDPTE_G		0x100u		/* global */
#define MDPTE_SW0	0x200u		/* ignored by the MMU: software bits */
#define MDPTE_SW1	0x400u
#define MDPTE_SW2	0x800u
#define MDPTE_FRAME	0xfffff000u

struct pmap_md {
	paddr_t md_pdir_pa;		/* the page directory (CR3) */
	pmap_pte_t *md_pdir;		/* the same, mapped in the metadata area */
	vaddr_t md_pdir_cookie;		/* its pmap_md_meta_map cookie */
	struct pmap *md_next, *md_prev;	/* every pmap, for pmap_growkernel */
};
static inline pmap_pte_t *pmap_md_root_of(const struct pmap_md *md) { return md->md_pdir; }
static inline paddr_t pmap_md_root_pa_of(const struct pmap_md *md) { return md->md_pdir_pa; }

#include "../x86/pmap_md_x86.h"	/* leaf meaning, caching rules, atomics */

/* Are cached translations tagged with their address space?  Not in 32-bit
 * paging (no PCIDs): every root load drops the non-global ones. */
static inline bool pmap_md_asids_p(void) { return false; }

#define PMAP_MD_TMP_DEPTH	4	/* page windows per CPU (pmap_md_tmp_map) */

/* ---- the page-table tree's shape ---- */

#define PMAP_MD_LEVELS		2
#define PMAP_MD_NPTE		1024
#define PMAP_MD_USER_ROOT_SLOTS	768

static inline unsigned
pmap_md_index(vaddr_t va, int level)
{
	return level == 2 ? va >> 22 : (va >> 12) & 1023u;
}

static inline vsize_t
pmap_md_level_size(int level)
{
	return level == 2 ? (vsize_t)1 << 22 : PAGE_SIZE;
}

static inline bool
pmap_md_leaf_p(pmap_pte_t e, int level)
{
	return (e & MDPTE_P) && (level == 1 || (e & MDPTE_PS));
}

static inline bool
pmap_md_table_p(pmap_pte_t e, int level)
{
	return (e & MDPTE_P) && level == 2 && !(e & MDPTE_PS);
}

static inline vaddr_t
pmap_md_canonical(vaddr_t va)
{
	return va;
}

/*
 * ---- how the library reaches physical pages (no direct map) ----
 *
 * pmap_md_table_ptr: the kernel's page tables through the recursive slot
 *   (the same in every pmap, since the kernel's PD slots are shared); a
 *   page directory through its lasting mapping in the metadata area; a
 *   user pmap's page table through this CPU's table window, valid until
 *   pmap_md_tables_done() empties it at the release of the outermost pmap
 *   or page lock this CPU holds (pmap_md_tables_hold counts them: pv
 *   changes take a page's lock inside the pmap's, and its release must
 *   not end the table the pmap-side walk is still using), or at the
 *   release of any pmap's lock (pmap_lock true): a page-side operation
 *   that took the pmap's lock inside the page's may have emptied a table,
 *   which whoever next runs pmap_update frees, and the window must not
 *   show it then;
 * pmap_md_meta_map/free: pages of the metadata area of KVA, mapped global;
 *   freeing one invalidates it on every CPU first;
 * pmap_md_tmp_map/unmap: a per-CPU stack of PMAP_MD_TMP_DEPTH windows
 *   (pmap_zero_page, pmap_copy_page, a freed table's link; an interrupt
 *   handler may push its own above the interrupted code's).
 * Before pmap_cpu_init() has turned paging on, the bootstrap reaches pages
 * through pmap_host_phys_tmp_map().
 */
pmap_pte_t *pmap_md_table_ptr(pmap_t pm, vaddr_t va, int level, paddr_t pa);
void pmap_md_tables_hold(bool kernel);
void pmap_md_tables_done(bool kernel, bool pmap_lock);
void *pmap_md_meta_map(paddr_t pa, vaddr_t *cookiep);
void pmap_md_meta_free(vaddr_t cookie, paddr_t pa);
/* The address at which the level-`level` table mapping [base, ...) is itself
 * mapped in its pmap: a page table is a page of the recursive slot in
 * every pmap it belongs to (a CPU running the pmap may have cached it). */
static inline vaddr_t
pmap_md_table_alias(vaddr_t base, int level)
{
	return level == 1 ? PMAP_PTMAP_BASE + (base >> 22) * PAGE_SIZE : 0;
}

/* The per-CPU windows of cpu used since the last call (their VAs in w,
 * how many returned), for pmap_update(pmap_kernel()) to invalidate on
 * every CPU: the table window and the page windows. */
#define PMAP_MD_CPU_WINDOWS	(1 + PMAP_MD_TMP_DEPTH)
int pmap_md_cpu_windows_stale(int cpu, vaddr_t *w);

/* Freeing a metadata page invalidates it on every CPU: the MI layer keeps
 * one empty pv chunk per pmap rather than free and map again. */
#define PMAP_MD_META_FREE_SHOOTS	1
void *pmap_md_tmp_map(paddr_t pa);
void pmap_md_tmp_unmap(void *p);

#endif /* PMAP_MD_IMPL_H */
