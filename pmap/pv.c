// SPDX-License-Identifier: BSD-2-Clause
/*
 * pv.c - pv entries: the reverse map from a physical page to its mappings.
 *
 * The first mapping of a page lives in the page's own struct pmap_page
 * (pp_pv), so a page mapped once - most pages - costs no allocation at all.
 * Further mappings are struct pmap_pv entries on the pp_pvlist chain.  A
 * list entry always holds a mapping of the pmap whose chunk it came from:
 * mappings never move between entries (when the in-place slot empties it
 * just stays free for the next mapping), so whoever removes (pm, va) holds
 * the lock that owns the entry it frees.
 *
 * Entries come from page-sized chunks owned by one pmap (as FreeBSD
 * does), protected by that pmap's lock: allocation happens in pmap_enter
 * with pm_lock held, and every path that frees an entry of pm holds
 * pm_lock too, so chunks need no lock of their own.  A chunk is reached
 * through pmap_md_meta_map (the direct map, or a mapping in the metadata
 * area of KVA); one whose last entry is freed goes back at once
 * (pmap_md_meta_free).
 *
 * Memory bound: pmap_set_pv_limit() caps the pages held by chunks across
 * all pmaps.  Reaching it behaves exactly like the host running out.
 */
#include "pmap_impl.h"

_Static_assert(PV_PER_CHUNK <= 64 * PV_CHUNK_WORDS, "pv chunk bitmap too small");
_Static_assert(PV_PER_CHUNK >= 100, "pv chunk header too large");

static atomic_ullong pv_limit;		/* pages; 0 = none */

void
pmap_set_pv_limit(uint64_t pages)
{
	atomic_store(&pv_limit, pages);
}

static void
chunk_unlink(pmap_t pm, struct pv_chunk *c)
{
	if (c->pc_prev != NULL)
		c->pc_prev->pc_next = c->pc_next;
	else
		pm->pm_pvchunks = c->pc_next;
	if (c->pc_next != NULL)
		c->pc_next->pc_prev = c->pc_prev;
	else
		pm->pm_pvtail = c->pc_prev;
	c->pc_next = c->pc_prev = NULL;
}

static void
chunk_push_front(pmap_t pm, struct pv_chunk *c)
{
	c->pc_prev = NULL;
	c->pc_next = pm->pm_pvchunks;
	if (c->pc_next != NULL)
		c->pc_next->pc_prev = c;
	else
		pm->pm_pvtail = c;
	pm->pm_pvchunks = c;
}

static void
chunk_push_back(pmap_t pm, struct pv_chunk *c)
{
	/* O(1): a fork of a big process fills thousands of chunks. */
	struct pv_chunk *t = pm->pm_pvtail;
	c->pc_next = NULL;
	c->pc_prev = t;
	if (t == NULL)
		pm->pm_pvchunks = c;
	else
		t->pc_next = c;
	pm->pm_pvtail = c;
}

static struct pv_chunk *
chunk_new(pmap_t pm)
{
	uint64_t limit = atomic_load(&pv_limit);
	if (limit != 0) {
		/* Reserve a page against the bound before asking the host. */
		unsigned long long n = atomic_fetch_add(&pmap_ctr.pv_chunks, 1);
		if (n >= limit) {
			PMAP_CTR_ADD(pv_chunks, (unsigned long long)-1);
			return NULL;
		}
	} else {
		PMAP_CTR_ADD(pv_chunks, 1);
	}
	paddr_t pa;
	if (pmap_own_page_alloc(&pa) != 0) {
		PMAP_CTR_ADD(pv_chunks, (unsigned long long)-1);
		return NULL;
	}
	vaddr_t cookie;
	struct pv_chunk *c = pmap_md_meta_map(pa, &cookie);
	c->pc_pmap = pm;
	c->pc_pa = pa;
	c->pc_cookie = cookie;
	c->pc_nfree = PV_PER_CHUNK;
	c->pc_hint = 0;
	for (unsigned w = 0; w < PV_CHUNK_WORDS; w++) {
		unsigned lo = w * 64;
		unsigned n = PV_PER_CHUNK > lo ? PV_PER_CHUNK - lo : 0;
		c->pc_free[w] = n >= 64 ? ~0ULL : (n == 0 ? 0 : (1ULL << n) - 1);
	}
	chunk_push_front(pm, c);
	return c;
}

uint64_t
pmap_pv_entries_total(void)
{
	long n = 0;
	for (int i = 0; i < PMAP_MAXCPUS; i++)
		n += __atomic_load_n(&pmap_cpus[i].pc_pv_entries, __ATOMIC_RELAXED);
	return (uint64_t)n;
}

struct pmap_pv *
pmap_pv_alloc_slow(pmap_t pm)
{
	struct pv_chunk *c = pm->pm_pvchunks;
	if (c == NULL || c->pc_nfree == 0) {
		c = chunk_new(pm);
		if (c == NULL)
			return NULL;
	}
	return pv_alloc_from(pm, c);
}

void
pmap_pv_chunk_filled(pmap_t pm, struct pv_chunk *c)
{
	/* Full chunks go to the back: free ones stay in front. */
	chunk_unlink(pm, c);
	chunk_push_back(pm, c);
}

void
pmap_pv_chunk_corrupt(pmap_t pm, struct pv_chunk *c)
{
	PMAP_PANIC("pmap %p: chunk %p claims %u free entries but has none", (void *)pm,
	    (void *)c, c->pc_nfree);
}

void
pmap_pv_free(pmap_t pm, struct pmap_pv *pv)
{
	struct pv_chunk *c = pv_chunk_of(pv);
	PMAP_KASSERTMSG(c->pc_pmap == pm, "pv %p belongs to pmap %p, freed by %p",
	    (void *)pv, (void *)c->pc_pmap, (void *)pm);
	size_t idx = (size_t)(pv - c->pc_pv);
	PMAP_KASSERTMSG(idx < PV_PER_CHUNK && !(c->pc_free[idx / 64] & (1ULL << (idx % 64))),
	    "pmap %p: pv %p (index %zu) freed twice", (void *)pm, (void *)pv, idx);
	c->pc_free[idx / 64] |= 1ULL << (idx % 64);
	if (idx / 64 < c->pc_hint)
		c->pc_hint = (unsigned)(idx / 64);
	if (++c->pc_nfree == PV_PER_CHUNK) {
		if (PMAP_MD_META_FREE_SHOOTS && pm->pm_pvspare == NULL) {
			/* Giving the page back would shoot every CPU here: keep
			 * one empty chunk per pmap (pmap_pv_release_spare). */
			pm->pm_pvspare = c;
			return;
		}
		chunk_unlink(pm, c);
		PMAP_CTR_ADD(pv_chunks, (unsigned long long)-1);
		pmap_md_meta_free(c->pc_cookie, c->pc_pa);
	} else if (c->pc_nfree == 1) {
		chunk_unlink(pm, c);
		chunk_push_front(pm, c);
	}
}

void
pmap_pv_release_spare(pmap_t pm)
{
	struct pv_chunk *c = pm->pm_pvspare;
	if (c == NULL)
		return;
	PMAP_KASSERTMSG(c->pc_nfree == PV_PER_CHUNK, "pmap %p: spare chunk %p has %u of "
	    "%u entries free", (void *)pm, (void *)c, c->pc_nfree, (unsigned)PV_PER_CHUNK);
	pm->pm_pvspare = NULL;
	chunk_unlink(pm, c);
	PMAP_CTR_ADD(pv_chunks, (unsigned long long)-1);
	pmap_md_meta_free(c->pc_cookie, c->pc_pa);
}

long
pmap_pv_count(pmap_t pm)
{
	long n = 0;
	for (struct pv_chunk *c = pm->pm_pvchunks; c != NULL; c = c->pc_next)
		n += (long)(PV_PER_CHUNK - c->pc_nfree);
	return n;
}

bool
pmap_pv_insert(struct pmap_page *pp, pmap_t pm, vaddr_t va, struct pmap_pv *pv)
{
	pp->pp_gen++;
	if (pp->pp_pv.pv_pmap == NULL) {
		pp->pp_pv.pv_pmap = pm;
		pp->pp_pv.pv_va = va;
		return false;
	}
	PMAP_KASSERTMSG(pv != NULL, "page %p: second mapping (pmap %p va %#llx) "
	    "without a pv entry", (void *)pp, (void *)pm, (unsigned long long)va);
	PMAP_KASSERTMSG(pv_chunk_of(pv)->pc_pmap == pm, "page %p: pv %p of pmap %p "
	    "used for pmap %p", (void *)pp, (void *)pv, (void *)pv_chunk_of(pv)->pc_pmap,
	    (void *)pm);
	pv->pv_va = va;
	pv->pv_next = pp->pp_pvlist;
	pp->pp_pvlist = pv;
	return true;
}

struct pmap_pv *
pmap_pv_remove(struct pmap_page *pp, pmap_t pm, vaddr_t va)
{
	pp->pp_gen++;
	if (pp->pp_pv.pv_pmap == pm && pp->pp_pv.pv_va == va) {
		pp->pp_pv.pv_pmap = NULL;
		pp->pp_pv.pv_va = 0;
		return NULL;
	}
	for (struct pmap_pv **pp_next = &pp->pp_pvlist; *pp_next != NULL;
	    pp_next = &(*pp_next)->pv_next) {
		struct pmap_pv *pv = *pp_next;
		if (pv->pv_va == va && pv_chunk_of(pv)->pc_pmap == pm) {
			*pp_next = pv->pv_next;
			return pv;
		}
	}
	PMAP_PANIC("page %p has no pv entry for pmap %p va %#llx", (void *)pp, (void *)pm,
	    (unsigned long long)va);
}
