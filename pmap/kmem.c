// SPDX-License-Identifier: BSD-2-Clause
/*
 * kmem.c - a fixed-size object allocator for struct pmap, carved from host
 * pages (the core has no malloc).  Each page holds as many pmaps as fit
 * after a small header; free objects are chained through their last word,
 * past the end of the struct, so a freed pmap keeps its poisoned
 * reference count (pmap_destroy) and a second pmap_destroy is caught.  A
 * page whose objects are all free goes back to the host.
 */
#include "pmap_impl.h"

struct kmem_page {
	struct kmem_page *kp_next, *kp_prev;
	paddr_t kp_pa;
	vaddr_t kp_cookie;		/* pmap_md_meta_map's */
	void *kp_free;			/* first free object */
	unsigned kp_nfree;
};

#define KMEM_OBJ_SIZE	((sizeof(struct pmap) + sizeof(void *) + 63) & ~(size_t)63)
#define KMEM_LINK(obj)	((void **)((char *)(obj) + KMEM_OBJ_SIZE - sizeof(void *)))
#define KMEM_HDR_SIZE	((sizeof(struct kmem_page) + 63) & ~(size_t)63)
#define KMEM_PER_PAGE	((PAGE_SIZE - KMEM_HDR_SIZE) / KMEM_OBJ_SIZE)
_Static_assert(KMEM_PER_PAGE >= 4, "struct pmap is too large for the kmem pages");

static volatile uint8_t kmem_lock;
static struct kmem_page *kmem_pages;	/* pages with at least one free object */

static void
kp_unlink(struct kmem_page *kp)
{
	if (kp->kp_prev != NULL)
		kp->kp_prev->kp_next = kp->kp_next;
	else
		kmem_pages = kp->kp_next;
	if (kp->kp_next != NULL)
		kp->kp_next->kp_prev = kp->kp_prev;
	kp->kp_next = kp->kp_prev = NULL;
}

static void
kp_push(struct kmem_page *kp)
{
	kp->kp_prev = NULL;
	kp->kp_next = kmem_pages;
	if (kmem_pages != NULL)
		kmem_pages->kp_prev = kp;
	kmem_pages = kp;
}

pmap_t
pmap_kmem_alloc_pmap(void)
{
	pmap_spin_lock(&kmem_lock);
	struct kmem_page *kp = kmem_pages;
	if (kp == NULL) {
		paddr_t pa;
		if (pmap_own_page_alloc(&pa) != 0) {
			pmap_spin_unlock(&kmem_lock);
			return NULL;
		}
		vaddr_t cookie;
		kp = pmap_md_meta_map(pa, &cookie);
		kp->kp_pa = pa;
		kp->kp_cookie = cookie;
		kp->kp_free = NULL;
		kp->kp_nfree = KMEM_PER_PAGE;
		for (size_t i = KMEM_PER_PAGE; i-- > 0;) {
			void *obj = (char *)kp + KMEM_HDR_SIZE + i * KMEM_OBJ_SIZE;
			*KMEM_LINK(obj) = kp->kp_free;
			kp->kp_free = obj;
		}
		kp_push(kp);
	}
	void *obj = kp->kp_free;
	kp->kp_free = *KMEM_LINK(obj);
	if (--kp->kp_nfree == 0)
		kp_unlink(kp);
	pmap_spin_unlock(&kmem_lock);
	return (pmap_t)obj;
}

void
pmap_kmem_free_pmap(pmap_t pm)
{
	struct kmem_page *kp = (struct kmem_page *)((uintptr_t)pm & ~(uintptr_t)PAGE_MASK);
	pmap_spin_lock(&kmem_lock);
	*KMEM_LINK(pm) = kp->kp_free;
	kp->kp_free = pm;
	if (kp->kp_nfree++ == 0)
		kp_push(kp);
	if (kp->kp_nfree == KMEM_PER_PAGE) {
		kp_unlink(kp);
		pmap_spin_unlock(&kmem_lock);
		pmap_md_meta_free(kp->kp_cookie, kp->kp_pa);
		return;
	}
	pmap_spin_unlock(&kmem_lock);
}
