// SPDX-License-Identifier: BSD-2-Clause
/*
 * pmap_md.c - the amd64 half of libpmap: 4-level page tables, the kernel
 * address space, leaf PTE encoding, and the invalidation instructions.
 *
 * Page-table pages.  The tree of a pmap is walked, grown, counted and
 * freed by the MI layer (pmap/ptree.c) from the shape this layer gives in
 * pmap_md_impl.h.  The kernel's tables are never freed: the KVA PDPT
 * exists from bootstrap on, pmap_growkernel adds PD and PT pages under it,
 * and user pmaps copy the kernel half of the PML4 at creation, so every
 * pmap sees every kernel page table.
 *
 * Kernel mappings are global (CR4.PGE) so they survive CR3 loads; a
 * mapping is invalidated with INVLPG, which drops global entries too.
 *
 * Address-space identifiers.  With CR4.PCIDE every TLB and
 * paging-structure-cache entry carries the PCID that was current when it
 * was filled, only entries of the current PCID (and global ones) are
 * used, and a MOV to CR3 with bit 63 set drops nothing: a switch of
 * address space need not flush.  When a CPU's entries of a pmap are still
 * good is the MI layer's business (tlb.c, ADDRESS-SPACE IDENTIFIERS: it
 * passes "keep" to pmap_md_activate); naming them is this layer's.  Each
 * CPU hands out PCIDs 1..md_pcid_max in order, in generations (as FreeBSD
 * does): md_asid[cpu] of a pmap is pcid | gen << 12, good on that CPU
 * while gen is the CPU's generation.  Activation, interrupts off:
 *
 *   a PCID of this generation, keep    load it with bit 63: entries stay
 *   a PCID of this generation, !keep   load it without: its entries go
 *   none, or of an older generation    the next free PCID, loaded without
 *
 * When the PCIDs run out the CPU starts a generation and flushes every
 * non-global entry of every PCID (INVPCID type 3, or a CR4.PGE toggle),
 * so that no entry of an older generation survives: each PCID has one
 * owner per generation, and what a CPU caches under a PCID other than the
 * current one belongs to the pmap that PCID was last handed to.  A pmap's
 * PCIDs die with it (they are not handed out again before that flush, and
 * a new pmap starts with none), so its tables may be freed while entries
 * tagged with them linger.  PCID 0 is the kernel pmap's: no user
 * translation is cached under it, and none of its own goes stale (kernel
 * page tables are never freed, and every kernel mapping that changes is
 * global), so loading it keeps everything.  PCIDs are used only with
 * global pages, for that reason: a kernel translation cached under a user
 * PCID must not need invalidating there (the user-accessible kernel
 * ranges, the only non-global kernel mappings, never change).
 *
 * Memory types: the PAT is programmed as WB, WT, UC-, UC, WB, WC, UC-, UC
 * (entry 5 changed from the power-on WT to WC), so a leaf selects WB with
 * no bits, UC with PCD|PWT, UC- with PCD, WC with PAT|PWT.
 */
#include "pmap_impl.h"
#include <pmap/amd64_host.h>
#include <pmap/amd64_pte.h>

_Static_assert(MDPTE_P == PG_P && MDPTE_W == PG_RW && MDPTE_U == PG_US &&
    MDPTE_A == PG_A && MDPTE_D == PG_D && MDPTE_PS == PG_PS && MDPTE_G == PG_G &&
    MDPTE_SW0 == PG_AVL0 && MDPTE_SW1 == PG_AVL1 && MDPTE_SW2 == PG_AVL2 &&
    MDPTE_FRAME == PG_FRAME, "pmap_md_impl.h's entry bits disagree with amd64_pte.h");

#define PAT_LIBPMAP	0x0007010600070406ULL

#define KVA_SLOT	(unsigned)((PMAP_KVA_BASE >> AMD64_L4_SHIFT) & 511)

static uint32_t md_features;
static paddr_t md_pa_limit;		/* 1 << MAXPHYADDR */
static vaddr_t md_kva_grown;		/* KVA below this has page tables */
static vaddr_t md_kva_start;		/* first address pmap_virtual_space gives */
static volatile uint8_t md_grow_lock;

/* Address-space identifiers (see the top): in use, PCIDs per generation
 * (pmap_md_asid_limit), and each CPU's allocator (that CPU only, with
 * interrupts off). */
bool pmap_md_asids_on;
static unsigned md_pcid_max = CR3_PCID_MASK;
#define ASID_GEN_SHIFT	12
struct md_pcid_cpu {
	uint64_t pc_gen;		/* this CPU's generation (from 1) */
	unsigned pc_next;		/* the next PCID to hand out */
} __attribute__((aligned(64)));
static struct md_pcid_cpu md_pcid_cpu[PMAP_MAXCPUS];

/* ---- helpers ---- */

static inline pmap_pte_t *
table_of(paddr_t pa)
{
	return (pmap_pte_t *)pmap_host_phys_map(pa);
}

static paddr_t
ptp_alloc_or_panic(const char *why)
{
	paddr_t pa;
	if (pmap_own_page_alloc(&pa) != 0)
		pmap_host_panic("pmap: out of memory for a page-table page (%s)", why);
	pmap_memzero(table_of(pa), PAGE_SIZE);
	return pa;
}

/* Upper-level entry bits: rights are decided at the leaf. */
static inline pmap_pte_t
upper_bits(bool kernel)
{
	return PG_P | PG_RW | (kernel ? 0 : PG_US);
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
	if (!(prot & VM_PROT_EXECUTE) && (md_features & AMD64_FEAT_NX))
		e |= PG_XD;
	if (kernel && (md_features & AMD64_FEAT_PGE))
		e |= PG_G;
	switch (flags & PMAP_CACHE_MASK) {
	case PMAP_NOCACHE:
		e |= amd64_pat_bits(3, AMD64_LVL_PT);		/* UC */
		break;
	case PMAP_NOCACHE_OVR:
		e |= amd64_pat_bits(2, AMD64_LVL_PT);		/* UC- */
		break;
	case PMAP_WRITE_COMBINE:
		e |= (md_features & AMD64_FEAT_PAT) ? amd64_pat_bits(5, AMD64_LVL_PT)
						    : amd64_pat_bits(2, AMD64_LVL_PT);
		break;
	default:
		break;						/* WB */
	}
	return e;
}

vm_prot_t
pmap_pte_prot(pmap_pte_t e)
{
	vm_prot_t p = VM_PROT_READ;
	if (e & PG_RW)
		p |= VM_PROT_WRITE;
	if (!(e & PG_XD))
		p |= VM_PROT_EXECUTE;
	return p;
}

/* pmap_pte_restrict's masks (pmap_md_x86.h). */
pmap_pte_t pmap_md_pte_write_bit = PG_RW, pmap_md_pte_noexec_bit;

u_int
pmap_pte_cache(pmap_pte_t e)
{
	switch (amd64_pat_index(e, AMD64_LVL_PT)) {
	case 3: case 7: return PMAP_NOCACHE;
	case 2: case 6: return PMAP_NOCACHE_OVR;
	case 5: return PMAP_WRITE_COMBINE;
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
	pmap_pte_t *root = table_of(pa);
	pmap_pte_t *kroot = PMAP_KERNEL->pm_md.md_root;
	for (unsigned i = 0; i < 256; i++)
		root[i] = 0;
	for (unsigned i = 256; i < 512; i++)
		root[i] = pmap_pte_load(&kroot[i]);
	pm->pm_md.md_root_pa = pa;
	pm->pm_md.md_root = root;
	return 0;
}

void
pmap_md_pmap_fini(pmap_t pm)
{
	pmap_pte_t *root = pm->pm_md.md_root;
	for (unsigned i = 0; i < 256; i++)
		PMAP_KASSERTMSG(root[i] == 0, "pmap %p: PML4 slot %u still points at "
		    "%#llx", (void *)pm, i, (unsigned long long)root[i]);
	/* The caller has evicted pm from every CPU: the root is unreachable. */
	pmap_host_page_free(pm->pm_md.md_root_pa);
}

/* Drop every non-global entry of every PCID on this CPU. */
static void
flush_all_pcids(void)
{
	PMAP_CTR_ADD(full_flushes, 1);
	if (md_features & AMD64_FEAT_INVPCID) {
		pmap_host_amd64_invpcid(INVPCID_ALL, 0, 0);
	} else {
		uint64_t cr4 = pmap_host_amd64_rcr4();
		pmap_host_amd64_lcr4(cr4 ^ CR4_PGE);	/* every PCID, globals too */
		pmap_host_amd64_lcr4(cr4);
	}
}

void
pmap_md_activate(pmap_t pm, bool keep)
{
	paddr_t root = pm->pm_md.md_root_pa;
	if (!pmap_md_asids_on) {
		pmap_host_amd64_lcr3(root);
		return;
	}
	if (pmap_is_kernel(pm)) {
		pmap_host_amd64_lcr3(root | CR3_NOFLUSH);	/* PCID 0: see the top */
		return;
	}
	int cpu = pmap_host_cpu_id();
	struct md_pcid_cpu *pc = &md_pcid_cpu[cpu];
	uint64_t *tagp = &pm->pm_md.md_asid[cpu];
	uint64_t tag = __atomic_load_n(tagp, __ATOMIC_RELAXED);
	if (tag != 0 && tag >> ASID_GEN_SHIFT == pc->pc_gen) {
		pmap_host_amd64_lcr3(root | (tag & CR3_PCID_MASK) | (keep ? CR3_NOFLUSH : 0));
		return;
	}
	if (pc->pc_next > __atomic_load_n(&md_pcid_max, __ATOMIC_RELAXED)) {
		/* Out of PCIDs: a new generation, and nothing cached under an
		 * old one may survive into it. */
		pc->pc_gen++;
		pc->pc_next = 1;
		flush_all_pcids();
	}
	uint64_t pcid = pc->pc_next++;
	__atomic_store_n(tagp, pcid | pc->pc_gen << ASID_GEN_SHIFT, __ATOMIC_RELAXED);
	/* Fresh in this generation, so nothing is cached under it; flushed
	 * anyway, which costs next to nothing. */
	pmap_host_amd64_lcr3(root | pcid);
}

void
pmap_md_asid_stale(pmap_t pm, int cpu)
{
	uint64_t tag = __atomic_load_n(&pm->pm_md.md_asid[cpu], __ATOMIC_RELAXED);
	if (tag != 0)
		pmap_host_amd64_pcid_dead(cpu, (uint16_t)(tag & CR3_PCID_MASK));
}

void
pmap_md_asid_limit(unsigned n)
{
	__atomic_store_n(&md_pcid_max, n == 0 || n > CR3_PCID_MASK ? (unsigned)CR3_PCID_MASK : n,
	    __ATOMIC_RELAXED);
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
	return va >= PMAP_DMAP_BASE && va < PMAP_DMAP_MAX;
}

vaddr_t
pmap_md_map_poolpage(paddr_t pa)
{
	vaddr_t va = PMAP_DMAP_BASE + pa;
	PMAP_KASSERTMSG_FN("pmap_map_poolpage", pmap_md_dmap_p(va), "pa %#llx is beyond "
	    "the direct map", (unsigned long long)pa);
	return va;
}

paddr_t
pmap_md_unmap_poolpage(vaddr_t va)
{
	PMAP_KASSERTMSG_FN("pmap_unmap_poolpage", pmap_md_dmap_p(va), "va %#llx is not a "
	    "direct-map address", (unsigned long long)va);
	return va - PMAP_DMAP_BASE;
}

paddr_t
pmap_md_phys_address(paddr_t cookie)
{
	/* The x86 mmap cookie is a page frame number. */
	return cookie << PAGE_SHIFT;
}

void
pmap_md_procwr(vaddr_t va, vsize_t size)
{
	/* x86 instruction caches are coherent with data writes: nothing. */
	(void)va;
	(void)size;
}

bool
pmap_md_pa_ok_p(paddr_t pa)
{
	return pa < md_pa_limit;
}

vaddr_t
pmap_md_kva_start(void)
{
	return md_kva_start;
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
	pmap_host_amd64_invlpg(va);
	PMAP_CTR_ADD(page_invals, 1);
}

void
pmap_md_invalidate_all(bool global)
{
	PMAP_CTR_ADD(full_flushes, 1);
	if (!global || !(md_features & AMD64_FEAT_PGE)) {
		/* Without global pages a CR3 reload drops everything (with PCIDs,
		 * everything of the current one: a CPU is shot for the pmap it
		 * runs, or, for the kernel, with global set). */
		pmap_host_amd64_lcr3(pmap_host_amd64_rcr3());
		return;
	}
	if (md_features & AMD64_FEAT_INVPCID) {
		pmap_host_amd64_invpcid(INVPCID_ALL_GLOBAL, 0, 0);
	} else {
		uint64_t cr4 = pmap_host_amd64_rcr4();
		pmap_host_amd64_lcr4(cr4 ^ CR4_PGE);	/* toggling PGE flushes all */
		pmap_host_amd64_lcr4(cr4);
	}
}

/* ---- KVA windows ---- */

vaddr_t
pmap_md_quick_va(int cpu)
{
	return PMAP_KVA_BASE + (vaddr_t)cpu * PAGE_SIZE;
}

vaddr_t
pmap_md_ktemp_va(int i)
{
	return PMAP_KVA_BASE + (vaddr_t)(PMAP_MAXCPUS + i) * PAGE_SIZE;
}

vaddr_t
pmap_md_sfbuf_va(int i)
{
	return PMAP_KVA_BASE + (vaddr_t)(PMAP_MAXCPUS + PMAP_KTEMP_PAGES + i) * PAGE_SIZE;
}

/* ---- kernel page tables ---- */

/* Leaf slot for a kernel va at level (allocating tables above it); with
 * user, the tables on the way also get U/S. */
static pmap_pte_t *
kslot_user(vaddr_t va, int level, bool user)
{
	pmap_pte_t *t = PMAP_KERNEL->pm_md.md_root;
	for (int l = AMD64_LVL_PML4; l > level; l--) {
		pmap_pte_t *s = &t[amd64_pt_index(va, l)];
		pmap_pte_t e = pmap_pte_load(s);
		if (!(e & PG_P)) {
			e = ptp_alloc_or_panic("kernel") | upper_bits(true);
			pmap_pte_swap(s, e);
			PMAP_CTR_ADD(kptp_pages, 1);
		}
		if (user && !(e & PG_US)) {
			e |= PG_US;
			pmap_pte_swap(s, e);
		}
		PMAP_KASSERTMSG(!pte_leaf_p(e, l), "kernel va %#llx already mapped by a "
		    "level-%d leaf", (unsigned long long)va, l);
		t = table_of(e & PG_FRAME);
	}
	return &t[amd64_pt_index(va, level)];
}

static pmap_pte_t *
kslot(vaddr_t va, int level)
{
	return kslot_user(va, level, false);
}

/*
 * The direct map covers exactly the RAM segments: 1 GiB leaves where a
 * whole aligned gigabyte is RAM, 2 MiB leaves where a whole aligned 2 MiB
 * is, 4 KiB leaves at ragged edges - so no hole between segments (device
 * memory, ROM) is ever mapped write-back by the direct map.
 */
static void
map_dmap_segment(paddr_t start, paddr_t end)
{
	bool big = (md_features & AMD64_FEAT_1G) != 0;
	PMAP_KASSERTMSG(end <= PMAP_DMAP_MAX - PMAP_DMAP_BASE, "segment end %#llx "
	    "beyond the %d-slot direct map", (unsigned long long)end, PMAP_DMAP_SLOTS);
	pmap_pte_t bits = PG_P | PG_RW | PG_A | PG_D |
	    ((md_features & AMD64_FEAT_NX) ? PG_XD : 0) |
	    ((md_features & AMD64_FEAT_PGE) ? PG_G : 0);
	paddr_t pa = start & ~(paddr_t)PAGE_MASK;
	while (pa < end) {
		vaddr_t va = PMAP_DMAP_BASE + pa;
		int level = AMD64_LVL_PT;
		if (big && (pa & (AMD64_NBPDP - 1)) == 0 && pa + AMD64_NBPDP <= end)
			level = AMD64_LVL_PDPT;
		else if ((pa & (AMD64_NBPD - 1)) == 0 && pa + AMD64_NBPD <= end)
			level = AMD64_LVL_PD;
		pmap_pte_t *s = kslot(va, level);
		if (!(pmap_pte_load(s) & PG_P))
			pmap_pte_swap(s, pa | bits | (level > AMD64_LVL_PT ? PG_PS : 0));
		pa += amd64_level_size(level);
	}
}

static void
map_krange(const struct pmap_krange *kr)
{
	PMAP_KASSERTMSG(((kr->kr_va | kr->kr_pa | kr->kr_size) & PAGE_MASK) == 0,
	    "kernel range va %#llx pa %#llx size %#llx not page aligned",
	    (unsigned long long)kr->kr_va, (unsigned long long)kr->kr_pa,
	    (unsigned long long)kr->kr_size);
	PMAP_KASSERTMSG(kr->kr_va >= PMAP_KIMAGE_BASE, "kernel range va %#llx below "
	    "the kernel-image slot %#llx", (unsigned long long)kr->kr_va,
	    (unsigned long long)PMAP_KIMAGE_BASE);
	bool user = (kr->kr_flags & PMAP_KRANGE_USER) != 0;
	for (vsize_t off = 0; off < kr->kr_size; off += PAGE_SIZE) {
		pmap_pte_t e = pmap_md_pte_make(kr->kr_pa + off, kr->kr_prot,
		    kr->kr_flags & PMAP_CACHE_MASK, true);
		if (user)
			e = (e | PG_US) & ~PG_G;
		pmap_pte_swap(kslot_user(kr->kr_va + off, AMD64_LVL_PT, user),
		    e | PG_A | PG_D | PTE_WIRED);
	}
}

static void
grow_locked(vaddr_t target)
{
	while (md_kva_grown < target) {
		pmap_pte_t *pde = kslot(md_kva_grown, AMD64_LVL_PD);
		if (!(pmap_pte_load(pde) & PG_P)) {
			paddr_t pa = ptp_alloc_or_panic("pmap_growkernel");
			pmap_pte_swap(pde, pa | upper_bits(true));
			PMAP_CTR_ADD(kptp_pages, 1);
		}
		__atomic_store_n(&md_kva_grown, md_kva_grown + AMD64_NBPD, __ATOMIC_RELEASE);
	}
}

void
pmap_md_bootstrap(const struct pmap_bootinfo *bi)
{
	md_features = pmap_host_amd64_features();
	pmap_md_asids_on = (md_features & AMD64_FEAT_PCID) && (md_features & AMD64_FEAT_PGE);
	pmap_md_pte_noexec_bit = (md_features & AMD64_FEAT_NX) ? PG_XD : 0;
	int maxpa = pmap_host_amd64_maxphyaddr();
	PMAP_KASSERTMSG(maxpa >= 32 && maxpa <= 52, "MAXPHYADDR %d out of range", maxpa);
	md_pa_limit = (paddr_t)1 << maxpa;

	paddr_t root = ptp_alloc_or_panic("kernel PML4");
	PMAP_KERNEL->pm_md.md_root_pa = root;
	PMAP_KERNEL->pm_md.md_root = table_of(root);

	for (int i = 0; i < bi->pb_nsegs; i++)
		map_dmap_segment(bi->pb_segs[i].ps_start, bi->pb_segs[i].ps_end);
	for (int i = 0; i < bi->pb_nkranges; i++)
		map_krange(&bi->pb_kranges[i]);

	/* KVA: its PDPT now and forever; page tables for the windows and the
	 * initial range. */
	md_kva_grown = PMAP_KVA_BASE;
	vaddr_t windows = pmap_md_sfbuf_va(PMAP_SFBUF_COUNT);
	md_kva_start = (windows + AMD64_NBPD - 1) & ~(AMD64_NBPD - 1);
	vaddr_t initial = md_kva_start + ((bi->pb_kva_initial + AMD64_NBPD - 1) &
	    ~(AMD64_NBPD - 1));
	PMAP_KASSERTMSG(initial <= PMAP_KVA_MAX, "initial KVA %#llx too large",
	    (unsigned long long)bi->pb_kva_initial);
	grow_locked(initial);
}

void
pmap_md_cpu_init(void)
{
	/* Kernel write protection relies on supervisor writes honouring R/W. */
	pmap_host_amd64_lcr0(pmap_host_amd64_rcr0() | CR0_WP);
	if (md_features & AMD64_FEAT_PAT)
		pmap_host_amd64_wrmsr(MSR_PAT, PAT_LIBPMAP);
	if (md_features & AMD64_FEAT_NX)
		pmap_host_amd64_wrmsr(MSR_EFER,
		    pmap_host_amd64_rdmsr(MSR_EFER) | EFER_NXE);
	uint64_t cr4 = pmap_host_amd64_rcr4();
	if (md_features & AMD64_FEAT_PGE)
		cr4 |= CR4_PGE;
	pmap_host_amd64_lcr4(cr4 & ~CR4_PCIDE);
	pmap_host_amd64_lcr3(PMAP_KERNEL->pm_md.md_root_pa);
	if (pmap_md_asids_on) {
		/* Setting PCIDE wants CR3[11:0] clear: the kernel's root, PCID 0. */
		pmap_host_amd64_lcr4(cr4 | CR4_PCIDE);
		struct md_pcid_cpu *pc = &md_pcid_cpu[pmap_host_cpu_id()];
		pc->pc_gen = 1;
		pc->pc_next = 1;
	}
	/* The PAT changed: flush everything cached with the old types. */
	pmap_md_invalidate_all(true);
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
	*vstartp = md_kva_start;
	*vendp = PMAP_KVA_MAX;
}

/* ---- pmap_dump: the tables as a tree, leaves coalesced into runs ---- */

struct dump_run {
	vaddr_t dr_va, dr_end;		/* [va, end) */
	paddr_t dr_pa;
	pmap_pte_t dr_key;		/* leaf bits that must match to extend */
	int dr_depth;
	bool dr_open;
};

static const char *const level_name[] = { "", "PT", "PD", "PDPT", "PML4" };

static void
dump_indent(int depth)
{
	static const char spaces[] = "                ";
	int n = 2 * depth;
	if (n > (int)sizeof(spaces) - 1)
		n = (int)sizeof(spaces) - 1;
	pmap_host_printf("%s", spaces + (sizeof(spaces) - 1 - (size_t)n));
}

static void
dump_flush(struct dump_run *r)
{
	if (!r->dr_open)
		return;
	pmap_pte_t e = r->dr_key;
	vsize_t len = r->dr_end - r->dr_va;
	static const char *const cache[] = { "WB", "WT", "UC-", "UC", "WB", "WC", "UC-", "UC" };
	dump_indent(r->dr_depth);
	pmap_host_printf("%016llx-%016llx %6llu KiB -> pa %#llx  %c%c%c %s%s%s%s%s%s%s %s\n",
	    (unsigned long long)r->dr_va, (unsigned long long)(r->dr_end - 1),
	    (unsigned long long)(len >> 10), (unsigned long long)r->dr_pa,
	    'r', (e & PG_RW) ? 'w' : '-', (e & PG_XD) ? '-' : 'x',
	    (e & PG_US) ? "user" : "kern", (e & PG_G) ? " global" : "",
	    (e & PTE_WIRED) ? " wired" : "", (e & PTE_MANAGED) ? " managed" : "",
	    (e & PTE_KENTER) ? " kenter" : "", (e & PG_A) ? " A" : "", (e & PG_D) ? " D" : "",
	    cache[amd64_pat_index(e, (e & PG_PS) ? AMD64_LVL_PD : AMD64_LVL_PT)]);
	r->dr_open = false;
}

static void
dump_leaf(struct dump_run *r, vaddr_t va, pmap_pte_t e, vsize_t size, int level, int depth)
{
	pmap_pte_t key = e & ~pte_frame(e, level);
	paddr_t pa = pte_frame(e, level);
	if (r->dr_open && r->dr_end == va && r->dr_key == key && r->dr_depth == depth &&
	    r->dr_pa + (r->dr_end - r->dr_va) == pa) {
		r->dr_end += size;
		return;
	}
	dump_flush(r);
	*r = (struct dump_run){ .dr_va = va, .dr_end = va + size, .dr_pa = pa, .dr_key = key,
		.dr_depth = depth, .dr_open = true };
}

static void
dump_rec(paddr_t table, int level, vaddr_t base, vaddr_t sva, vaddr_t eva, int depth,
    struct dump_run *r)
{
	pmap_pte_t *t = table_of(table);
	vsize_t sz = amd64_level_size(level);
	for (unsigned i = 0; i < 512; i++) {
		vaddr_t va = base + i * sz;
		if (level == AMD64_LVL_PML4 && i >= 256)
			va |= 0xffff000000000000UL;
		if (va + sz - 1 < sva || va >= eva)
			continue;
		pmap_pte_t e = pmap_pte_load(&t[i]);
		if (!(e & PG_P))
			continue;
		if (pte_leaf_p(e, level)) {
			dump_leaf(r, va, e, sz, level, depth);
			continue;
		}
		dump_flush(r);
		unsigned nvalid = 0;
		pmap_pte_t *child = table_of(e & PG_FRAME);
		for (unsigned j = 0; j < 512; j++)
			nvalid += (pmap_pte_load(&child[j]) & PG_P) != 0;
		dump_indent(depth);
		pmap_host_printf("%s[%3u] %016llx -> %s at pa %#llx (%u valid)\n",
		    level_name[level], i, (unsigned long long)va, level_name[level - 1],
		    (unsigned long long)(e & PG_FRAME), nvalid);
		dump_rec(e & PG_FRAME, level - 1, va, sva, eva, depth + 1, r);
		dump_flush(r);
	}
}

void
pmap_dump(pmap_t pm, vaddr_t sva, vaddr_t eva)
{
	pmap_host_printf("pmap %p%s: PML4 at pa %#llx; the whole pmap: %ld resident, "
	    "%ld wired, %ld page-table pages below the root; tables and leaves in "
	    "[%#llx, %#llx):\n", (void *)pm, pmap_is_kernel(pm) ? " (kernel)" : "",
	    (unsigned long long)pm->pm_md.md_root_pa, pmap_resident_count(pm),
	    pmap_wired_count(pm), pm->pm_ptps, (unsigned long long)sva,
	    (unsigned long long)eva);
	/* No lock: a debugger calls this with every other CPU stopped, maybe
	 * one of them holding it (the caller keeps the pmap still). */
	struct dump_run r = { .dr_open = false };
	dump_rec(pm->pm_md.md_root_pa, AMD64_LVL_PML4, 0, sva, eva, 1, &r);
	dump_flush(&r);
}
