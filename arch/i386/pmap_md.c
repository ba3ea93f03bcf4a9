// SPDX-License-Identifier: BSD-2-Clause
/*
 * pmap_md.c - the i386 half of libpmap: 32-bit two-level paging with no
 * direct map, the kernel address space (3 GiB user / 1 GiB kernel), leaf
 * PTE encoding and the invalidation instructions.
 *
 * REACHING MEMORY.  With more RAM than kernel address space nothing is
 * reachable until something maps it, so the layer keeps four kinds of
 * mapping (see pmap_md.h for where they live):
 *   - the recursive slot: PD slot 1023 of every page directory points at
 *     that directory, so the page tables of the pmap loaded on a CPU
 *     appear as 4 MiB of PTEs at PMAP_PTMAP_BASE.  The kernel's PD slots
 *     are the same in every pmap, so the kernel's page tables (never
 *     freed) are always there: kenter, kremove and the windows below use it,
 *     from interrupt handlers too.
 *   - a table window per CPU for a user pmap's page table, filled under
 *     the pmap's lock (or a page's) and emptied when that pmap's lock is
 *     dropped, even inside a page's (pmap_md_tables_done), so a page table
 *     that is later freed is in no window.  A user pmap's
 *     tables go through it even when that pmap is the one loaded: a table
 *     pmap_remove frees is invalidated (its recursive view too,
 *     pmap_md_table_alias) only by the next pmap_update, and a pmap_enter
 *     before that may put a new table in the same directory slot, which a
 *     CPU could then read as the old one through a cached recursive view.
 *     The window costs one PTE store and one INVLPG per operation.
 *   - a stack of PMAP_MD_TMP_DEPTH page windows per CPU (zero, copy, a
 *     freed table's link), empty between uses, so mapping needs no flush.
 *   - the metadata area: page directories, pv chunks and pmap structures,
 *     mapped global for as long as they live; freeing one invalidates it on
 *     every CPU before the page goes back.
 * The page directory of each pmap is in the metadata area, so pmap_create
 * and pmap_growkernel can write any pmap's kernel slots.
 *
 * KERNEL PAGE TABLES.  pmap_growkernel adds PTs 4 MiB at a time and writes
 * the new PDE into the kernel's directory and every pmap's (the list of all
 * pmaps, under md_list_lock, which pmap_create also takes to copy the
 * kernel slots).  A not-present PDE is never cached, so adding one needs no
 * invalidation.  The kernel image gets 4 MiB pages where CR4.PSE allows.
 *
 * Memory types: no PAT is programmed; PMAP_NOCACHE is PCD|PWT (UC),
 * PMAP_NOCACHE_OVR and PMAP_WRITE_COMBINE are PCD (UC-).  There is no
 * execute-disable bit: every readable mapping is executable.
 */
#include "pmap_impl.h"
#include <pmap/i386_host.h>
#include <pmap/i386_pte.h>

_Static_assert(MDPTE_P == PG_P && MDPTE_W == PG_RW && MDPTE_U == PG_US &&
    MDPTE_A == PG_A && MDPTE_D == PG_D && MDPTE_PS == PG_PS && MDPTE_G == PG_G &&
    MDPTE_SW0 == PG_AVL0 && MDPTE_SW1 == PG_AVL1 && MDPTE_SW2 == PG_AVL2 &&
    MDPTE_FRAME == PG_FRAME, "pmap_md_impl.h's entry bits disagree with i386_pte.h");

#define RECURSIVE_SLOT		1023u
#define KERNEL_SLOT_MIN		(PMAP_KIMAGE_BASE >> I386_PD_SHIFT)	/* 768 */
#define PTD_VA			(PMAP_PTMAP_BASE + RECURSIVE_SLOT * PAGE_SIZE)

/* Windows, from the start of KVA (one 4 MiB page table holds them all):
 * first the per-CPU table and page windows (PMAP_CPU_WINDOWS_SIZE). */
#define W_TABLE			0
#define W_TMP			(W_TABLE + PMAP_MAXCPUS)
#define W_QUICK			(W_TMP + PMAP_MAXCPUS * PMAP_MD_TMP_DEPTH)
#define W_KTEMP			(W_QUICK + PMAP_MAXCPUS)
#define W_SFBUF			(W_KTEMP + PMAP_KTEMP_PAGES)
#define W_END			(W_SFBUF + PMAP_SFBUF_COUNT)
_Static_assert(W_END <= I386_NPTE, "the windows outgrow one page table");
_Static_assert(W_QUICK * PAGE_SIZE == PMAP_CPU_WINDOWS_SIZE && W_TMP == 64 &&
    PMAP_MD_TMP_DEPTH == 4, "pmap_md.h's PMAP_CPU_WINDOWS_SIZE or "
    "pmap_cpu_window_owner() is wrong");
#define WINDOW_VA(i)		(PMAP_KVA_BASE + (vaddr_t)(i) * PAGE_SIZE)

/* The metadata area: the next 32 MiB. */
#define META_BASE		(PMAP_KVA_BASE + I386_NBPD)
#define META_PAGES		8192u
#define META_END		(META_BASE + META_PAGES * PAGE_SIZE)

static uint32_t md_features;
static vaddr_t md_kva_grown;		/* KVA below this has page tables */
static bool md_paging;			/* pmap_cpu_init has run on the boot CPU */
static volatile uint8_t md_grow_lock;
static volatile uint8_t md_list_lock;	/* the pmap list, every pmap's kernel slots */
static pmap_t md_pmaps;			/* user pmaps (md_list_lock) */

struct md_cpu {
	paddr_t tw_pa;			/* the table in the table window */
	pmap_pte_t *tw_ptr;
	bool tw_mapped;
	int tw_holds;			/* pmap and page locks held (tables_hold) */
	int tmp_depth;
	void *tmp_ptr[PMAP_MD_TMP_DEPTH];
	uint32_t used;			/* windows used since collected (atomic) */
} __attribute__((aligned(64)));
static struct md_cpu md_cpus[PMAP_MAXCPUS];

static volatile uint8_t meta_lock;
static uint32_t meta_used[META_PAGES / 32];	/* bit per page (meta_lock) */
static unsigned meta_hint;

/* ---- reaching memory ---- */

static inline void *
kptr(vaddr_t va)
{
	return pmap_host_i386_kptr(va);
}

/* The kernel PTE of va, through the recursive slot (paging on). */
static inline pmap_pte_t *
kpte(vaddr_t va)
{
	vaddr_t a = PMAP_PTMAP_BASE + (va >> PAGE_SHIFT) * sizeof(pmap_pte_t);
	return (pmap_pte_t *)kptr(a);
}

/* A page for a moment: the host's before paging, the CPU's stack after. */
void *
pmap_md_tmp_map(paddr_t pa)
{
	if (__predict_false(!md_paging))
		return pmap_host_phys_tmp_map(pa);
	struct md_cpu *mc = &md_cpus[pmap_host_cpu_id()];
	int d = mc->tmp_depth++;	/* an interrupt pushes above us */
	PMAP_KASSERTMSG(d < PMAP_MD_TMP_DEPTH, "cpu %d: page windows nested %d deep",
	    pmap_host_cpu_id(), d + 1);
	vaddr_t va = WINDOW_VA(W_TMP + pmap_host_cpu_id() * PMAP_MD_TMP_DEPTH + d);
	/* Empty since its last use, and empty entries are never cached. */
	pmap_pte_swap(kpte(va), pa | PG_P | PG_RW | PG_A | PG_D);
	void *p = kptr(va);
	mc->tmp_ptr[d] = p;
	return p;
}

void
pmap_md_tmp_unmap(void *p)
{
	if (__predict_false(!md_paging)) {
		pmap_host_phys_tmp_unmap(p);
		return;
	}
	int cpu = pmap_host_cpu_id();
	struct md_cpu *mc = &md_cpus[cpu];
	int d = mc->tmp_depth - 1;
	PMAP_KASSERTMSG(d >= 0 && mc->tmp_ptr[d] == p, "cpu %d: page window %p unmapped "
	    "out of order (depth %d)", cpu, p, d + 1);
	vaddr_t va = WINDOW_VA(W_TMP + cpu * PMAP_MD_TMP_DEPTH + d);
	pmap_pte_swap(kpte(va), 0);
	pmap_md_invalidate_page(va);
	__atomic_fetch_or(&mc->used, 2u << d, __ATOMIC_RELEASE);
	mc->tmp_depth = d;
}

pmap_pte_t *
pmap_md_table_ptr(pmap_t pm, vaddr_t va, int level, paddr_t pa)
{
	if (level == PMAP_MD_LEVELS)
		return pm->pm_md.md_pdir;
	if (pmap_is_kernel(pm))
		return (pmap_pte_t *)kptr(PMAP_PTMAP_BASE + (va >> I386_PD_SHIFT) * PAGE_SIZE);
	int cpu = pmap_host_cpu_id();
	struct md_cpu *mc = &md_cpus[cpu];
	if (mc->tw_mapped && mc->tw_pa == pa)
		return mc->tw_ptr;
	vaddr_t w = WINDOW_VA(W_TABLE + cpu);
	pmap_pte_t o = pmap_pte_swap(kpte(w), pa | PG_P | PG_RW | PG_A | PG_D);
	if (o & PG_P)
		pmap_md_invalidate_page(w);
	mc->tw_pa = pa;
	mc->tw_ptr = (pmap_pte_t *)kptr(w);
	mc->tw_mapped = true;
	return mc->tw_ptr;
}

void
pmap_md_tables_hold(bool kernel)
{
	if (!kernel)		/* the kernel's: never in the window */
		md_cpus[pmap_host_cpu_id()].tw_holds++;
}

void
pmap_md_tables_done(bool kernel, bool pmap_lock)
{
	if (kernel)
		return;		/* never in the window (and may be an interrupt) */
	int cpu = pmap_host_cpu_id();
	struct md_cpu *mc = &md_cpus[cpu];
	if (mc->tw_holds > 0 && --mc->tw_holds > 0 && !pmap_lock)
		return;		/* an outer page lock's walk still uses it */
	if (!mc->tw_mapped)
		return;
	vaddr_t w = WINDOW_VA(W_TABLE + cpu);
	pmap_pte_swap(kpte(w), 0);
	pmap_md_invalidate_page(w);
	__atomic_fetch_or(&mc->used, 1u, __ATOMIC_RELEASE);
	mc->tw_mapped = false;
}

/* Other CPUs may hold a window of cpu's speculatively (pmap_md.h); the
 * next pmap_update(pmap_kernel()) drops what cpu used since the last. */
int
pmap_md_cpu_windows_stale(int cpu, vaddr_t *w)
{
	uint32_t used = __atomic_exchange_n(&md_cpus[cpu].used, 0, __ATOMIC_ACQUIRE);
	int k = 0;
	if (used & 1u)
		w[k++] = WINDOW_VA(W_TABLE + cpu);
	for (int d = 0; d < PMAP_MD_TMP_DEPTH; d++)
		if (used & (2u << d))
			w[k++] = WINDOW_VA(W_TMP + cpu * PMAP_MD_TMP_DEPTH + d);
	return k;
}

/* Write a kernel PTE, before paging (through the host) or after. */
static pmap_pte_t
kpte_set(vaddr_t va, pmap_pte_t e);

void *
pmap_md_meta_map(paddr_t pa, vaddr_t *cookiep)
{
	PMAP_KASSERTMSG(md_paging, "metadata page %#llx mapped before pmap_cpu_init",
	    (unsigned long long)pa);
	pmap_spin_lock(&meta_lock);
	unsigned i = meta_hint, n;
	for (n = 0; n < META_PAGES; n++, i = (i + 1) % META_PAGES)
		if (!(meta_used[i / 32] & (1u << (i % 32))))
			break;
	if (n == META_PAGES) {
		pmap_spin_unlock(&meta_lock);
		PMAP_PANIC("the %u-page metadata area is full (pa %#llx)", META_PAGES,
		    (unsigned long long)pa);
	}
	meta_used[i / 32] |= 1u << (i % 32);
	meta_hint = (i + 1) % META_PAGES;
	pmap_spin_unlock(&meta_lock);
	vaddr_t va = META_BASE + (vaddr_t)i * PAGE_SIZE;
	kpte_set(va, pa | PG_P | PG_RW | PG_A | PG_D |
	    ((md_features & I386_FEAT_PGE) ? PG_G : 0));
	*cookiep = va;
	return kptr(va);
}

void
pmap_md_meta_free(vaddr_t va, paddr_t pa)
{
	PMAP_KASSERTMSG(va >= META_BASE && va < META_END && (va & PAGE_MASK) == 0,
	    "%#llx is not a metadata-area page", (unsigned long long)va);
	pmap_pte_t o = kpte_set(va, 0);
	PMAP_KASSERTMSG((o & PG_FRAME) == pa && (o & PG_P), "metadata page %#llx maps "
	    "%#llx, freed as %#llx", (unsigned long long)va, (unsigned long long)o,
	    (unsigned long long)pa);
	/* Any CPU may have used it (a pmap's pv chunks go where it runs). */
	struct pmap_tlb_batch b;
	pmap_tlb_batch_init(&b);
	pmap_tlb_sync_add(&b, PMAP_KERNEL, va);
	pmap_tlb_sync_run(&b);
	pmap_host_page_free(pa);
	unsigned i = (va - META_BASE) / PAGE_SIZE;
	pmap_spin_lock(&meta_lock);
	meta_used[i / 32] &= ~(1u << (i % 32));
	pmap_spin_unlock(&meta_lock);
}

/* ---- the kernel's page directory and tables, at boot and after ---- */

/* Slot i of the kernel's page directory. */
static pmap_pte_t
kpd_get(unsigned i)
{
	if (md_paging)
		return pmap_pte_load(&PMAP_KERNEL->pm_md.md_pdir[i]);
	pmap_pte_t *pd = pmap_md_tmp_map(PMAP_KERNEL->pm_md.md_pdir_pa);
	pmap_pte_t e = pd[i];
	pmap_md_tmp_unmap(pd);
	return e;
}

/* Set kernel PD slot i in the kernel's directory and every pmap's. */
static void
kpd_set(unsigned i, pmap_pte_t e)
{
	if (!md_paging) {
		pmap_pte_t *pd = pmap_md_tmp_map(PMAP_KERNEL->pm_md.md_pdir_pa);
		pd[i] = e;
		pmap_md_tmp_unmap(pd);
		return;
	}
	pmap_spin_lock(&md_list_lock);
	pmap_pte_swap(&PMAP_KERNEL->pm_md.md_pdir[i], e);
	for (pmap_t pm = md_pmaps; pm != NULL; pm = pm->pm_md.md_next)
		pmap_pte_swap(&pm->pm_md.md_pdir[i], e);
	pmap_spin_unlock(&md_list_lock);
}

static paddr_t
ptp_alloc_or_panic(const char *why)
{
	paddr_t pa;
	if (pmap_own_page_alloc(&pa) != 0)
		PMAP_PANIC("out of memory for a page-table page (%s)", why);
	void *p = pmap_md_tmp_map(pa);
	pmap_memzero(p, PAGE_SIZE);
	pmap_md_tmp_unmap(p);
	return pa;
}

/* The kernel PT of va, allocated if missing (boot and growkernel only). */
static paddr_t
kpt_of(vaddr_t va)
{
	unsigned i = i386_pdi(va);
	pmap_pte_t e = kpd_get(i);
	if (!(e & PG_P)) {
		e = ptp_alloc_or_panic("kernel") | PG_P | PG_RW;
		kpd_set(i, e);
		PMAP_CTR_ADD(kptp_pages, 1);
	}
	PMAP_KASSERTMSG(!(e & PG_PS), "kernel va %#llx is inside a 4 MiB page",
	    (unsigned long long)va);
	return e & PG_FRAME;
}

static pmap_pte_t
kpte_set(vaddr_t va, pmap_pte_t e)
{
	if (md_paging)
		return pmap_pte_swap(kpte(va), e);
	pmap_pte_t *pt = pmap_md_tmp_map(kpt_of(va));
	pmap_pte_t o = pmap_pte_swap(&pt[i386_pti(va)], e);
	pmap_md_tmp_unmap(pt);
	return o;
}

/* ---- leaf encoding ---- */

pmap_pte_t
pmap_md_pte_make(paddr_t pa, vm_prot_t prot, u_int flags, bool kernel)
{
	pmap_pte_t e = pa | PG_P;
	if (prot & VM_PROT_WRITE)
		e |= PG_RW;
	if (!kernel)
		e |= PG_US;
	else if (md_features & I386_FEAT_PGE)
		e |= PG_G;
	switch (flags & PMAP_CACHE_MASK) {
	case PMAP_NOCACHE:
		e |= PG_PCD | PG_PWT;
		break;
	case PMAP_NOCACHE_OVR:
	case PMAP_WRITE_COMBINE:
		e |= PG_PCD;
		break;
	default:
		break;
	}
	return e;
}

vm_prot_t
pmap_pte_prot(pmap_pte_t e)
{
	return VM_PROT_READ | VM_PROT_EXECUTE | ((e & PG_RW) ? VM_PROT_WRITE : 0);
}

/* pmap_pte_restrict's masks (pmap_md_x86.h): 32-bit paging has no NX. */
pmap_pte_t pmap_md_pte_write_bit = PG_RW, pmap_md_pte_noexec_bit = 0;

u_int
pmap_pte_cache(pmap_pte_t e)
{
	switch (e & (PG_PCD | PG_PWT)) {
	case PG_PCD | PG_PWT: return PMAP_NOCACHE;
	case PG_PCD: return PMAP_NOCACHE_OVR;
	default: return 0;
	}
}

/* ---- address spaces ---- */

int
pmap_md_pmap_init(pmap_t pm)
{
	paddr_t pa;
	if (pmap_own_page_alloc(&pa) != 0)
		return PMAP_ENOMEM;
	vaddr_t cookie;
	pmap_pte_t *pd = pmap_md_meta_map(pa, &cookie);
	pmap_memzero(pd, KERNEL_SLOT_MIN * sizeof(pmap_pte_t));
	pm->pm_md.md_pdir_pa = pa;
	pm->pm_md.md_pdir = pd;
	pm->pm_md.md_pdir_cookie = cookie;
	pd[RECURSIVE_SLOT] = pa | PG_P | PG_RW;
	/* Copy the kernel's slots and join the list in one step, so no
	 * pmap_growkernel falls between. */
	pmap_spin_lock(&md_list_lock);
	pmap_pte_t *kpd = PMAP_KERNEL->pm_md.md_pdir;
	for (unsigned i = KERNEL_SLOT_MIN; i < RECURSIVE_SLOT; i++)
		pd[i] = pmap_pte_load(&kpd[i]);
	pm->pm_md.md_prev = NULL;
	pm->pm_md.md_next = md_pmaps;
	if (md_pmaps != NULL)
		md_pmaps->pm_md.md_prev = pm;
	md_pmaps = pm;
	pmap_spin_unlock(&md_list_lock);
	return 0;
}

void
pmap_md_pmap_fini(pmap_t pm)
{
	pmap_pte_t *pd = pm->pm_md.md_pdir;
	for (unsigned i = 0; i < KERNEL_SLOT_MIN; i++)
		PMAP_KASSERTMSG(pd[i] == 0, "pmap %p: PD slot %u still points at %#llx",
		    (void *)pm, i, (unsigned long long)pd[i]);
	pmap_spin_lock(&md_list_lock);
	if (pm->pm_md.md_prev != NULL)
		pm->pm_md.md_prev->pm_md.md_next = pm->pm_md.md_next;
	else
		md_pmaps = pm->pm_md.md_next;
	if (pm->pm_md.md_next != NULL)
		pm->pm_md.md_next->pm_md.md_prev = pm->pm_md.md_prev;
	pmap_spin_unlock(&md_list_lock);
	/* The caller has evicted pm from every CPU: the directory is unused. */
	pmap_md_meta_free(pm->pm_md.md_pdir_cookie, pm->pm_md.md_pdir_pa);
}

void
pmap_md_activate(pmap_t pm, bool keep)
{
	(void)keep;	/* no address-space identifiers: the load flushes */
	pmap_host_i386_lcr3(pm->pm_md.md_pdir_pa);
}

void
pmap_md_asid_stale(pmap_t pm, int cpu)
{
	(void)pm;
	(void)cpu;
}

void
pmap_md_asid_limit(unsigned n)
{
	(void)n;
}

bool
pmap_md_user_va_p(vaddr_t va)
{
	return va < PMAP_USER_MAX;
}

bool
pmap_md_kva_p(vaddr_t va)
{
	return va >= PMAP_KVA_BASE && va < PMAP_KVA_MAX;
}

bool
pmap_md_dmap_p(vaddr_t va)
{
	(void)va;
	return false;
}

vaddr_t
pmap_md_map_poolpage(paddr_t pa)
{
	pmap_host_panic("pmap_map_poolpage: pa %#llx: i386 has no direct map "
	    "(map pool pages with pmap_kenter_pa)", (unsigned long long)pa);
}

paddr_t
pmap_md_unmap_poolpage(vaddr_t va)
{
	pmap_host_panic("pmap_unmap_poolpage: va %#llx: i386 has no direct map",
	    (unsigned long long)va);
}

paddr_t
pmap_md_phys_address(paddr_t cookie)
{
	return cookie << PAGE_SHIFT;	/* the mmap cookie is a page frame number */
}

void
pmap_md_procwr(vaddr_t va, vsize_t size)
{
	(void)va;	/* x86 instruction caches snoop data writes */
	(void)size;
}

bool
pmap_md_pa_ok_p(paddr_t pa)
{
	(void)pa;	/* without PAE every 32-bit physical address can be mapped */
	return true;
}

vaddr_t
pmap_md_kva_start(void)
{
	return META_END;
}

vaddr_t
pmap_md_kva_grown(void)
{
	return __atomic_load_n(&md_kva_grown, __ATOMIC_ACQUIRE);
}

/* ---- invalidation on this CPU ---- */

void
pmap_md_invalidate_page(vaddr_t va)
{
	pmap_host_i386_invlpg(va);
	PMAP_CTR_ADD(page_invals, 1);
}

void
pmap_md_invalidate_all(bool global)
{
	PMAP_CTR_ADD(full_flushes, 1);
	if (!global || !(md_features & I386_FEAT_PGE)) {
		pmap_host_i386_lcr3(pmap_host_i386_rcr3());
		return;
	}
	uint32_t cr4 = pmap_host_i386_rcr4();
	pmap_host_i386_lcr4(cr4 ^ CR4_PGE);	/* toggling PGE flushes all */
	pmap_host_i386_lcr4(cr4);
}

/* ---- KVA windows ---- */

vaddr_t
pmap_md_quick_va(int cpu)
{
	return WINDOW_VA(W_QUICK + cpu);
}

vaddr_t
pmap_md_ktemp_va(int i)
{
	return WINDOW_VA(W_KTEMP + i);
}

vaddr_t
pmap_md_sfbuf_va(int i)
{
	return WINDOW_VA(W_SFBUF + i);
}

/* ---- bootstrap ---- */

static void
map_krange(const struct pmap_krange *kr)
{
	PMAP_KASSERTMSG(((kr->kr_va | kr->kr_pa | kr->kr_size) & PAGE_MASK) == 0,
	    "kernel range va %#llx pa %#llx size %#llx not page aligned",
	    (unsigned long long)kr->kr_va, (unsigned long long)kr->kr_pa,
	    (unsigned long long)kr->kr_size);
	PMAP_KASSERTMSG(kr->kr_va >= PMAP_KIMAGE_BASE && kr->kr_size <= PMAP_KVA_BASE -
	    kr->kr_va, "kernel range va %#llx size %#llx outside the kernel-image area "
	    "[%#llx, %#llx)", (unsigned long long)kr->kr_va, (unsigned long long)kr->kr_size,
	    (unsigned long long)PMAP_KIMAGE_BASE, (unsigned long long)PMAP_KVA_BASE);
	bool user = (kr->kr_flags & PMAP_KRANGE_USER) != 0;
	vsize_t off = 0;
	while (off < kr->kr_size) {
		vaddr_t va = kr->kr_va + off;
		pmap_pte_t e = pmap_md_pte_make(kr->kr_pa + off, kr->kr_prot,
		    kr->kr_flags & PMAP_CACHE_MASK, true) | PG_A | PG_D | PTE_WIRED;
		if (user)
			e = (e | PG_US) & ~PG_G;
		if ((md_features & I386_FEAT_PSE) && !user && ((va | (kr->kr_pa + off)) &
		    (I386_NBPD - 1)) == 0 && kr->kr_size - off >= I386_NBPD &&
		    !(kpd_get(i386_pdi(va)) & PG_P)) {
			/* PCD/PWT are in the same place; PAT would move (unused). */
			kpd_set(i386_pdi(va), e | PG_PS);
			off += I386_NBPD;
			continue;
		}
		kpt_of(va);
		if (user && !(kpd_get(i386_pdi(va)) & PG_US))
			kpd_set(i386_pdi(va), kpd_get(i386_pdi(va)) | PG_US);
		kpte_set(va, e);
		off += PAGE_SIZE;
	}
}

static void
grow_locked(vaddr_t target)
{
	while (md_kva_grown < target) {
		kpt_of(md_kva_grown);
		__atomic_store_n(&md_kva_grown, md_kva_grown + I386_NBPD, __ATOMIC_RELEASE);
	}
}

void
pmap_md_bootstrap(const struct pmap_bootinfo *bi)
{
	md_features = pmap_host_i386_features();
	md_paging = false;
	md_pmaps = NULL;
	meta_hint = 0;
	for (unsigned i = 0; i < META_PAGES / 32; i++)
		meta_used[i] = 0;
	for (int i = 0; i < PMAP_MAXCPUS; i++)
		md_cpus[i] = (struct md_cpu){ .tw_mapped = false };
	PMAP_KASSERTMSG(bi->pb_sfbuf_mode == PMAP_SFBUF_MAPPED, "i386 has no direct map: "
	    "sf_bufs must be mapped (pb_sfbuf_mode %d)", (int)bi->pb_sfbuf_mode);
	for (int i = 0; i < bi->pb_nsegs; i++)
		PMAP_KASSERTMSG(bi->pb_segs[i].ps_end > bi->pb_segs[i].ps_start ||
		    bi->pb_segs[i].ps_end == 0, "RAM segment %d [%#llx, %#llx) is empty",
		    i, (unsigned long long)bi->pb_segs[i].ps_start,
		    (unsigned long long)bi->pb_segs[i].ps_end);

	paddr_t pd = ptp_alloc_or_panic("kernel page directory");
	PMAP_KERNEL->pm_md.md_pdir_pa = pd;
	PMAP_KERNEL->pm_md.md_pdir = NULL;	/* reachable once paging is on */
	kpd_set(RECURSIVE_SLOT, pd | PG_P | PG_RW);

	for (int i = 0; i < bi->pb_nkranges; i++)
		map_krange(&bi->pb_kranges[i]);

	/* Page tables for the windows, the metadata area and the initial
	 * range, then the kernel's directory in the metadata area (page 0). */
	md_kva_grown = PMAP_KVA_BASE;
	vaddr_t initial = META_END + ((bi->pb_kva_initial + I386_NBPD - 1) & ~(I386_NBPD - 1));
	PMAP_KASSERTMSG(initial > META_END && initial <= PMAP_KVA_MAX,
	    "initial KVA %#llx too large", (unsigned long long)bi->pb_kva_initial);
	grow_locked(initial);
	meta_used[0] = 1;
	meta_hint = 1;
	PMAP_KERNEL->pm_md.md_pdir_cookie = META_BASE;
	kpte_set(META_BASE, pd | PG_P | PG_RW | PG_A | PG_D |
	    ((md_features & I386_FEAT_PGE) ? PG_G : 0));
}

void
pmap_md_cpu_init(void)
{
	pmap_host_i386_lcr0(pmap_host_i386_rcr0() | CR0_WP);
	uint32_t cr4 = pmap_host_i386_rcr4();
	if (md_features & I386_FEAT_PGE)
		cr4 |= CR4_PGE;
	if (md_features & I386_FEAT_PSE)
		cr4 |= CR4_PSE;
	pmap_host_i386_lcr4(cr4);
	pmap_host_i386_lcr3(PMAP_KERNEL->pm_md.md_pdir_pa);
	pmap_host_i386_lcr0(pmap_host_i386_rcr0() | CR0_PG);
	pmap_md_invalidate_all(true);
	if (!md_paging) {
		/* The boot CPU: from now on the library reaches memory through
		 * its own mappings. */
		PMAP_KERNEL->pm_md.md_pdir = kptr(META_BASE);
		__atomic_store_n(&md_paging, true, __ATOMIC_RELEASE);
	}
}

vaddr_t
pmap_md_growkernel(vaddr_t maxkvaddr)
{
	PMAP_KASSERTMSG(maxkvaddr <= PMAP_KVA_MAX, "maxkvaddr %#llx beyond the end "
	    "of kernel virtual space %#llx", (unsigned long long)maxkvaddr,
	    (unsigned long long)PMAP_KVA_MAX);
	pmap_spin_lock(&md_grow_lock);
	grow_locked(maxkvaddr);
	vaddr_t r = md_kva_grown;
	pmap_spin_unlock(&md_grow_lock);
	return r;
}

void
pmap_md_virtual_space(vaddr_t *vstartp, vaddr_t *vendp)
{
	*vstartp = META_END;
	*vendp = PMAP_KVA_MAX;
}

/* ---- pmap_dump: the directory, then leaves coalesced into runs ---- */

struct dump_run {
	vaddr_t dr_va, dr_end;
	paddr_t dr_pa;
	pmap_pte_t dr_key;
	bool dr_open;
};

static void
dump_flush(struct dump_run *r)
{
	if (!r->dr_open)
		return;
	pmap_pte_t e = r->dr_key;
	pmap_host_printf("    %08llx-%08llx %6llu KiB -> pa %#llx  r%cx %s%s%s%s%s%s%s%s\n",
	    (unsigned long long)r->dr_va, (unsigned long long)(r->dr_end - 1),
	    (unsigned long long)((r->dr_end - r->dr_va) >> 10), (unsigned long long)r->dr_pa,
	    (e & PG_RW) ? 'w' : '-', (e & PG_US) ? "user" : "kern",
	    (e & PG_G) ? " global" : "", (e & PTE_WIRED) ? " wired" : "",
	    (e & PTE_MANAGED) ? " managed" : "", (e & PTE_KENTER) ? " kenter" : "",
	    (e & PG_A) ? " A" : "", (e & PG_D) ? " D" : "",
	    (e & PG_PCD) ? ((e & PG_PWT) ? " UC" : " UC-") : " WB");
	r->dr_open = false;
}

static void
dump_leaf(struct dump_run *r, vaddr_t va, pmap_pte_t e, vsize_t size)
{
	pmap_pte_t frame = size == PAGE_SIZE ? PG_FRAME : PG_FRAME_4M;
	pmap_pte_t key = e & ~frame;
	paddr_t pa = e & frame;
	if (r->dr_open && r->dr_end == va && r->dr_key == key &&
	    r->dr_pa + (r->dr_end - r->dr_va) == pa) {
		r->dr_end += size;
		return;
	}
	dump_flush(r);
	*r = (struct dump_run){ .dr_va = va, .dr_end = va + size, .dr_pa = pa, .dr_key = key,
		.dr_open = true };
}

void
pmap_dump(pmap_t pm, vaddr_t sva, vaddr_t eva)
{
	pmap_host_printf("pmap %p%s: page directory at pa %#llx; the whole pmap: %ld "
	    "resident, %ld wired, %ld page-table pages below the root; tables and "
	    "leaves in [%#llx, %#llx):\n", (void *)pm, pmap_is_kernel(pm) ? " (kernel)" : "",
	    (unsigned long long)pm->pm_md.md_pdir_pa, pmap_resident_count(pm),
	    pmap_wired_count(pm), pm->pm_ptps, (unsigned long long)sva,
	    (unsigned long long)eva);
	if (!pmap_is_kernel(pm))
		pmap_lock(pm);
	struct dump_run r = { .dr_open = false };
	pmap_pte_t *pd = pm->pm_md.md_pdir;
	for (unsigned i = 0; i < RECURSIVE_SLOT; i++) {
		vaddr_t va = (vaddr_t)i << I386_PD_SHIFT;
		if (va + (I386_NBPD - 1) < sva || va >= eva)
			continue;
		pmap_pte_t e = pmap_pte_load(&pd[i]);
		if (!(e & PG_P))
			continue;
		if (e & PG_PS) {
			dump_leaf(&r, va, e, I386_NBPD);
			continue;
		}
		dump_flush(&r);
		pmap_pte_t *pt = pmap_md_table_ptr(pm, va, 1, e & PG_FRAME);
		unsigned nvalid = 0;
		for (unsigned j = 0; j < I386_NPTE; j++)
			nvalid += (pmap_pte_load(&pt[j]) & PG_P) != 0;
		pmap_host_printf("  PD[%4u] %08llx -> PT at pa %#llx (%u valid)\n", i,
		    (unsigned long long)va, (unsigned long long)(e & PG_FRAME), nvalid);
		for (unsigned j = 0; j < I386_NPTE; j++) {
			vaddr_t a = va + (vaddr_t)j * PAGE_SIZE;
			pmap_pte_t l = pmap_pte_load(&pt[j]);
			if ((l & PG_P) && a >= sva && a < eva)
				dump_leaf(&r, a, l, PAGE_SIZE);
		}
		dump_flush(&r);
	}
	dump_flush(&r);
	if (!pmap_is_kernel(pm))
		pmap_unlock(pm);
}
