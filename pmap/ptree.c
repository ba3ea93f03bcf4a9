// SPDX-License-Identifier: BSD-2-Clause
/*
 * ptree.c - the page-table tree: walking it, growing it, counting and
 * freeing its pages.  Machine-independent: the MD layer gives the shape
 * (PMAP_MD_LEVELS levels of PMAP_MD_NPTE entries, pmap_md_index and
 * pmap_md_level_size), says what an entry is (pmap_md_leaf_p,
 * pmap_md_table_p, pmap_md_table_pa) and makes table entries
 * (pmap_md_table_entry).  Level 1 holds the 4 KiB leaves; the root is
 * level PMAP_MD_LEVELS.
 *
 * COUNTS.  Every page table below the root counts its valid entries in the
 * pp_ptp_nvalid field of its own vm_page (pm_lock).  pmap_enter prepares,
 * before it changes anything, every table an address lacks (so
 * PMAP_CANFAIL can fail with nothing changed), commits them, and counts
 * the new leaf; when a removal brings a count to zero the table is
 * unlinked from its parent and handed to the TLB batch, which frees it
 * only after every CPU that may cache an entry leading to it has
 * invalidated.  The kernel's tables are never freed and not counted: a
 * user pmap shares the kernel's upper entries from its creation on.
 */
#include "pmap_impl.h"

/* The level-`level` table of pm at pa, which maps the region holding va. */
static inline pmap_pte_t *
table_of(pmap_t pm, vaddr_t va, int level, paddr_t pa)
{
	return pmap_md_table_ptr(pm, va, level, pa);
}

static inline struct pmap_page *
ptp_pp(paddr_t pa)
{
	struct vm_page *pg = pmap_host_phys_to_page(pa);
	PMAP_KASSERTMSG(pg != NULL, "page-table page %#llx has no vm_page",
	    (unsigned long long)pa);
	return pmap_host_page_md(pg);
}

pmap_pte_t *
pmap_pt_pte(pmap_t pm, vaddr_t va)
{
	pmap_pte_t *t = pmap_md_root(pm);
	for (int l = PMAP_MD_LEVELS; l > 1; l--) {
		pmap_pte_t e = pmap_pte_load(&t[pmap_md_index(va, l)]);
		if (!pmap_md_table_p(e, l))
			return NULL;
		t = table_of(pm, va, l - 1, pmap_md_table_pa(e));
	}
	return &t[pmap_md_index(va, 1)];
}

bool
pmap_pt_leaf(pmap_t pm, vaddr_t va, pmap_pte_t *leaf, vsize_t *size)
{
	if (pmap_md_canonical(va) != va)
		return false;
	pmap_pte_t *t = pmap_md_root(pm);
	for (int l = PMAP_MD_LEVELS; l >= 1; l--) {
		pmap_pte_t e = pmap_pte_load(&t[pmap_md_index(va, l)]);
		if (pmap_md_leaf_p(e, l)) {
			*leaf = e;
			*size = pmap_md_level_size(l);
			return true;
		}
		if (!pmap_md_table_p(e, l))
			return false;
		t = table_of(pm, va, l - 1, pmap_md_table_pa(e));
	}
	return false;
}

/* The base of the region one leaf table maps. */
static inline vaddr_t
leaf_base(vaddr_t va)
{
	return va & ~(pmap_md_level_size(2) - 1);
}

/* Remember the leaf table of va (user pmaps: the kernel's tables may have
 * no vm_page, and are not counted). */
static inline void
leaf_hint(pmap_t pm, vaddr_t va, paddr_t tpa, struct pmap_ptp_prep *prep)
{
	if (pmap_is_kernel(pm))
		return;
	pm->pm_leaf_va = leaf_base(va);
	pm->pm_leaf_pa = tpa;
	pm->pm_leaf_pp = prep->pp_ptpp = ptp_pp(tpa);
}

int
pmap_pt_prepare(pmap_t pm, vaddr_t va, struct pmap_ptp_prep *prep)
{
	prep->pp_n = 0;
	prep->pp_ptep = NULL;
	prep->pp_ptpp = NULL;
	if (pm->pm_leaf_pp != NULL && leaf_base(va) == pm->pm_leaf_va) {
		prep->pp_ptpa = pm->pm_leaf_pa;
		prep->pp_ptpp = pm->pm_leaf_pp;
		prep->pp_ptep = &table_of(pm, va, 1, pm->pm_leaf_pa)[pmap_md_index(va, 1)];
		return 0;
	}
	pmap_pte_t *t = pmap_md_root(pm);
	paddr_t tpa = pmap_md_root_pa(pm);
	int missing = 0;
	for (int l = PMAP_MD_LEVELS; l > 1; l--) {
		pmap_pte_t e = pmap_pte_load(&t[pmap_md_index(va, l)]);
		PMAP_KASSERTMSG(!pmap_md_leaf_p(e, l), "pmap %p va %#llx is inside a "
		    "large page (level %d entry %#llx)", (void *)pm,
		    (unsigned long long)va, l, (unsigned long long)e);
		if (!pmap_md_table_p(e, l)) {
			missing = l - 1;	/* tables for levels l-1 .. 1 */
			break;
		}
		tpa = pmap_md_table_pa(e);
		t = table_of(pm, va, l - 1, tpa);
	}
	if (missing == 0) {
		prep->pp_ptep = &t[pmap_md_index(va, 1)];
		prep->pp_ptpa = tpa;
		leaf_hint(pm, va, tpa, prep);
		return 0;
	}
	PMAP_KASSERTMSG(!pmap_is_kernel(pm), "kernel va %#llx has no page table "
	    "(pmap_growkernel has grown the kernel to %#llx)",
	    (unsigned long long)va, (unsigned long long)pmap_md_kva_grown());
	for (int i = 0; i < missing; i++) {
		paddr_t pa;
		if (pmap_own_page_alloc(&pa) != 0) {
			pmap_pt_prepare_abort(prep);
			return PMAP_ENOMEM;
		}
		void *p = pmap_md_tmp_map(pa);
		pmap_memzero(p, PAGE_SIZE);
		pmap_md_tmp_unmap(p);
		ptp_pp(pa)->pp_ptp_nvalid = 0;
		prep->pp_pages[prep->pp_n++] = pa;
	}
	return 0;
}

void
pmap_pt_prepare_abort(struct pmap_ptp_prep *prep)
{
	/* Never linked, so no CPU can have seen them: free at once. */
	for (int i = 0; i < prep->pp_n; i++)
		pmap_host_page_free(prep->pp_pages[i]);
	prep->pp_n = 0;
}

pmap_pte_t *
pmap_pt_commit(pmap_t pm, vaddr_t va, struct pmap_ptp_prep *prep)
{
	bool kernel = pmap_is_kernel(pm);
	pmap_pte_t *t = pmap_md_root(pm);
	paddr_t tpa = pmap_md_root_pa(pm);
	int used = 0;
	for (int l = PMAP_MD_LEVELS; l > 1; l--) {
		pmap_pte_t *slot = &t[pmap_md_index(va, l)];
		pmap_pte_t e = pmap_pte_load(slot);
		if (!pmap_md_table_p(e, l)) {
			PMAP_KASSERTMSG(used < prep->pp_n, "pmap %p va %#llx: %d tables "
			    "prepared, level %d missing", (void *)pm,
			    (unsigned long long)va, prep->pp_n, l);
			e = pmap_md_table_entry(prep->pp_pages[used++], kernel);
			/* The new table is zeroed and unseen: no invalidation. */
			pmap_pte_swap(slot, e);
			if (l != PMAP_MD_LEVELS)
				ptp_pp(tpa)->pp_ptp_nvalid++;
			pm->pm_ptps++;
			PMAP_CTR_ADD(ptp_pages, 1);
		}
		tpa = pmap_md_table_pa(e);
		t = table_of(pm, va, l - 1, tpa);
	}
	PMAP_KASSERTMSG(used == prep->pp_n, "pmap %p va %#llx: %d of %d prepared "
	    "tables used", (void *)pm, (unsigned long long)va, used, prep->pp_n);
	prep->pp_n = 0;
	prep->pp_ptep = &t[pmap_md_index(va, 1)];
	prep->pp_ptpa = tpa;
	leaf_hint(pm, va, tpa, prep);
	/* (The hint's ptp_pp may move a table window: map the leaf again.) */
	prep->pp_ptep = &table_of(pm, va, 1, tpa)[pmap_md_index(va, 1)];
	return prep->pp_ptep;
}

void
pmap_pt_added(pmap_t pm, const struct pmap_ptp_prep *prep, long n)
{
	if (pmap_is_kernel(pm))
		return;		/* kernel tables are never freed: no counts */
	struct pmap_page *pp = prep->pp_ptpp != NULL ? prep->pp_ptpp : ptp_pp(prep->pp_ptpa);
	pp->pp_ptp_nvalid += n;
}

void
pmap_pt_removed(pmap_t pm, vaddr_t va, long n, struct pmap_tlb_batch *sync)
{
	if (pmap_is_kernel(pm))
		return;
	struct pmap_page *lpp = pm->pm_leaf_pp;
	if (lpp != NULL && leaf_base(va) == pm->pm_leaf_va && lpp->pp_ptp_nvalid > n) {
		lpp->pp_ptp_nvalid -= n;	/* the hinted table stays: no walk */
		return;
	}
	/* The tables on va's path: tpa[l] is the level-l table. */
	paddr_t tpa[PMAP_MD_LEVELS + 1];
	tpa[PMAP_MD_LEVELS] = pmap_md_root_pa(pm);
	for (int l = PMAP_MD_LEVELS; l > 1; l--) {
		pmap_pte_t e = pmap_pte_load(&table_of(pm, va, l, tpa[l])[pmap_md_index(va, l)]);
		PMAP_KASSERTMSG(pmap_md_table_p(e, l), "pmap %p va %#llx: level %d "
		    "entry missing", (void *)pm, (unsigned long long)va, l);
		tpa[l - 1] = pmap_md_table_pa(e);
	}
	for (int l = 1; l < PMAP_MD_LEVELS; l++, n = 1) {
		struct pmap_page *pp = l == 1 && pm->pm_leaf_pp != NULL &&
		    pm->pm_leaf_pa == tpa[1] ? pm->pm_leaf_pp : ptp_pp(tpa[l]);
		PMAP_KASSERTMSG(pp->pp_ptp_nvalid >= n, "pmap %p va %#llx: level %d "
		    "table %#llx count underflow (%ld valid, %ld removed)", (void *)pm,
		    (unsigned long long)va, l, (unsigned long long)tpa[l],
		    pp->pp_ptp_nvalid, n);
		if ((pp->pp_ptp_nvalid -= n) > 0) {
			if (l == 1) {	/* the next removal is likely next door */
				pm->pm_leaf_va = leaf_base(va);
				pm->pm_leaf_pa = tpa[1];
				pm->pm_leaf_pp = pp;
			}
			return;
		}
		/* Empty: unlink it from its parent and free it after a flush. */
		pm->pm_leaf_pp = NULL;
		pmap_pte_t *pslot = &table_of(pm, va, l + 1, tpa[l + 1])[pmap_md_index(va, l + 1)];
		pmap_pte_swap(pslot, 0);
		pm->pm_ptps--;
		PMAP_CTR_ADD(ptp_pages, (unsigned long long)-1);
		vaddr_t base = va & ~(pmap_md_level_size(l + 1) - 1);
		if (sync != NULL)
			pmap_tlb_sync_add_free(sync, pm, base, tpa[l]);
		else
			pmap_tlb_defer_free(pm, base, tpa[l]);
		/* Where the table itself was mapped (a recursive slot), that
		 * translation goes in the same round. */
		vaddr_t alias = pmap_md_table_alias(base, l);
		if (alias != 0 && sync != NULL)
			pmap_tlb_sync_add(sync, pm, alias);
		else if (alias != 0)
			pmap_tlb_defer(pm, alias);
	}
}

vaddr_t
pmap_pt_next(pmap_t pm, vaddr_t va, vaddr_t eva, pmap_pte_t **ptes, vaddr_t *end)
{
	while (va < eva) {
		pmap_pte_t *t = pmap_md_root(pm);
		int l;
		for (l = PMAP_MD_LEVELS; l > 1; l--) {
			pmap_pte_t e = pmap_pte_load(&t[pmap_md_index(va, l)]);
			if (!pmap_md_table_p(e, l))
				break;
			t = table_of(pm, va, l - 1, pmap_md_table_pa(e));
		}
		if (l == 1) {
			vaddr_t tend = (va | (pmap_md_level_size(2) - 1)) + 1;
			*end = tend < eva && tend != 0 ? tend : eva;
			*ptes = &t[pmap_md_index(va, 1)];
			return va;
		}
		/* Nothing at level l for va: skip to the next entry of that level. */
		vaddr_t next = (va | (pmap_md_level_size(l) - 1)) + 1;
		if (next <= va)		/* wrapped past the top of the space */
			return eva;
		if (pmap_md_canonical(next) != next)
			return eva;	/* never step into a non-canonical hole */
		va = next;
	}
	return eva;
}

/* ---- walkers for the checker ---- */

static void
foreach_rec(pmap_t pm, paddr_t table, int level, vaddr_t base, vaddr_t sva, vaddr_t eva,
    void (*fn)(pmap_t, vaddr_t, pmap_pte_t, vsize_t, void *), void *arg)
{
	pmap_pte_t *t = table_of(pm, base, level, table);
	vsize_t sz = pmap_md_level_size(level);
	for (unsigned i = 0; i < PMAP_MD_NPTE; i++) {
		vaddr_t va = pmap_md_canonical(base + i * sz);
		if (va + sz - 1 < sva || va >= eva)
			continue;
		pmap_pte_t e = pmap_pte_load(&t[i]);
		if (pmap_md_leaf_p(e, level)) {
			/* fn may take a page's lock, whose release ends the
			 * table windows (pmap_md_tables_done): map again. */
			fn(pm, va, e, sz, arg);
			t = table_of(pm, base, level, table);
		} else if (pmap_md_table_p(e, level)) {
			foreach_rec(pm, pmap_md_table_pa(e), level - 1, va, sva, eva, fn, arg);
			t = table_of(pm, base, level, table);	/* windows may move */
		}
	}
}

void
pmap_pt_foreach_leaf(pmap_t pm, vaddr_t sva, vaddr_t eva,
    void (*fn)(pmap_t, vaddr_t, pmap_pte_t, vsize_t, void *), void *arg)
{
	foreach_rec(pm, pmap_md_root_pa(pm), PMAP_MD_LEVELS, 0, sva, eva, fn, arg);
}

static long
check_rec(pmap_t pm, paddr_t table, int level, vaddr_t base)
{
	pmap_pte_t *t = table_of(pm, base, level, table);
	long valid = 0, pages = 0;
	for (unsigned i = 0; i < PMAP_MD_NPTE; i++) {
		pmap_pte_t e = pmap_pte_load(&t[i]);
		if (pmap_md_leaf_p(e, level)) {
			valid++;
		} else if (pmap_md_table_p(e, level)) {
			valid++;
			vaddr_t cva = pmap_md_canonical(base + i * pmap_md_level_size(level));
			pages += 1 + check_rec(pm, pmap_md_table_pa(e), level - 1, cva);
			t = table_of(pm, base, level, table);	/* windows may move */
		}
	}
	long counted = ptp_pp(table)->pp_ptp_nvalid;
	PMAP_KASSERTMSG(valid == counted, "pmap %p: level-%d table %#llx has %ld "
	    "valid entries but counts %ld", (void *)pm, level,
	    (unsigned long long)table, valid, counted);
	PMAP_KASSERTMSG(valid > 0, "pmap %p: empty level-%d table %#llx left linked",
	    (void *)pm, level, (unsigned long long)table);
	return pages;
}

long
pmap_pt_check_ptps(pmap_t pm)
{
	if (pmap_is_kernel(pm))
		return pm->pm_ptps;
	pmap_pte_t *root = pmap_md_root(pm);
	long pages = 0;
	for (unsigned i = 0; i < PMAP_MD_USER_ROOT_SLOTS; i++) {
		pmap_pte_t e = pmap_pte_load(&root[i]);
		if (pmap_md_table_p(e, PMAP_MD_LEVELS))
			pages += 1 + check_rec(pm, pmap_md_table_pa(e), PMAP_MD_LEVELS - 1,
			    pmap_md_canonical((vaddr_t)i * pmap_md_level_size(PMAP_MD_LEVELS)));
	}
	return pages;
}
