/*
 * pmap_md_impl.h - what the machine-independent core needs from the amd64
 * layer: the meaning of a leaf PTE, atomic PTE access, the page-table tree
 * and the invalidation instructions.  The MI code never looks at a PTE bit
 * except through these.
 *
 * Software bits (ignored by the MMU, SDM "Ignored" bits 11:9):
 *   PTE_MANAGED (bit 9)   the mapping has a pv entry (pmap_enter of a
 *                         managed page)
 *   PTE_WIRED   (bit 10)  wired
 *   PTE_KENTER  (bit 11)  made by pmap_kenter_pa / pmap_qenter /
 *                         quick or temporary mappings: unmanaged, only
 *                         pmap_kremove may remove it
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

#define PTE_MANAGED	MDPTE_SW0
#define PTE_WIRED	MDPTE_SW1
#define PTE_KENTER	MDPTE_SW2

/* Bits of a leaf that record use, not rights. */
#define PTE_REF		MDPTE_A
#define PTE_MOD		MDPTE_D

struct pmap_md {
	paddr_t md_root_pa;		/* PML4 (CR3) */
	pmap_pte_t *md_root;		/* the same, through pmap_host_phys_map */
};
/* The root table of a pmap (pmap_md_root(pm) and pmap_md_root_pa(pm) in
 * pmap_impl.h call these with &pm->pm_md). */
static inline pmap_pte_t *pmap_md_root_of(const struct pmap_md *md) { return md->md_root; }
static inline paddr_t pmap_md_root_pa_of(const struct pmap_md *md) { return md->md_root_pa; }

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
/* e with its rights lowered to at most prot (never raised). */
pmap_pte_t pmap_pte_restrict(pmap_pte_t e, vm_prot_t prot);
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

/* Clear bits; returns the entry as it was. */
static inline pmap_pte_t
pmap_pte_clear(pmap_pte_t *p, pmap_pte_t bits)
{
	return __atomic_fetch_and(p, ~bits, __ATOMIC_ACQ_REL);
}

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

/* The canonical form of an address built from table indices (x86-64 sign
 * extends bit 47 into the upper half). */
static inline vaddr_t
pmap_md_canonical(vaddr_t va)
{
	return (va & (1UL << 47)) ? (va | 0xffff000000000000UL) : va;
}

/* ---- address spaces ---- */

int pmap_md_pmap_init(pmap_t pm);	/* root table; 0 or ENOMEM */
void pmap_md_pmap_fini(pmap_t pm);
void pmap_md_activate(pmap_t pm);	/* load pm on this CPU */
bool pmap_md_user_va_p(vaddr_t va);
bool pmap_md_kva_p(vaddr_t va);		/* the range pmap_growkernel serves */
bool pmap_md_dmap_p(vaddr_t va);
/* Can pa be mapped: below the CPU's physical address width (MAXPHYADDR)? */
bool pmap_md_pa_ok_p(paddr_t pa);
/* The first KVA the caller owns: below it, in the KVA slot, are the
 * library's own windows (quick mappings, kenter_temporary, sf_bufs). */
vaddr_t pmap_md_kva_start(void);
vaddr_t pmap_md_kva_grown(void);	/* end of the KVA with page tables */

/*
 * ---- how the library reaches physical pages ----
 *
 * pmap_md_table_ptr: the level-`level` page table of pm at pa, which maps
 *   the region holding va (level PMAP_MD_LEVELS: pm's root), for the walk;
 *   valid while pm's lock (or, page-side, the page's) is held, until
 *   pmap_md_tables_done() at its release;
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
pmap_md_tables_done(bool kernel)
{
	(void)kernel;
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

/* ---- direct map (PMAP_MAP_POOLPAGE, sf_buf in direct-map mode) ---- */
vaddr_t pmap_md_map_poolpage(paddr_t pa);
paddr_t pmap_md_unmap_poolpage(vaddr_t va);

/* ---- pmap(9) functions whose answer is the machine's ---- */
paddr_t pmap_md_phys_address(paddr_t cookie);	/* the mmap cookie's meaning */
void pmap_md_procwr(vaddr_t va, vsize_t size);	/* I-cache sync after a write */

/* ---- this CPU's TLB ---- */

void pmap_md_invalidate_page(vaddr_t va);
void pmap_md_invalidate_all(bool global);

/* ---- temporary-mapping windows carved from the start of KVA ---- */
vaddr_t pmap_md_quick_va(int cpu);
vaddr_t pmap_md_ktemp_va(int i);
vaddr_t pmap_md_sfbuf_va(int i);

void pmap_md_bootstrap(const struct pmap_bootinfo *bi);
void pmap_md_cpu_init(void);
vaddr_t pmap_md_growkernel(vaddr_t maxkvaddr);
void pmap_md_virtual_space(vaddr_t *vstartp, vaddr_t *vendp);


#endif /* PMAP_MD_IMPL_H */
