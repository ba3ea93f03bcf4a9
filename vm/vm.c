// SPDX-License-Identifier: BSD-2-Clause
/*
 * vm.c - the VM system on libpmap (see vm.h for what it offers).
 *
 * OBJECTS.  Anonymous memory is a UVM-style two-level scheme.  A map entry
 * points at an amap (an array of anon pointers, one per page of the
 * entry) and an offset into it.  A private entry owns its amap; a shared
 * one shares it with every process it was forked into.  An anon is one
 * page of data with a reference count: resident (an_pg), in swap
 * (an_slot), or both (a clean page whose swap copy is current).  fork
 * gives a private entry's child a new amap pointing at the same anons
 * (references up), so a page shared that way is copy-on-write: it is
 * never mapped writable while an_ref > 1, and a write fault copies it.
 *
 * PAGES.  The VM takes pages from the machine (ptest_page_alloc) up to its
 * budget vc_pages and gives them back when done (ptest_page_free, which
 * checks that no mapping is left - and, on the simulated machine, that no
 * TLB still holds the page).  Each page in use has a vm_pg record in a
 * fixed array the pagedaemon's clock hand sweeps.
 *
 * THE PAGEDAEMON is a clock: a page referenced since the last pass
 * (pmap_is_referenced) gets its bit cleared (pmap_clear_reference) and a
 * second chance, and with laundering on it is cleaned now if dirty; one
 * not referenced is evicted: pmap_page_protect(NONE) takes every mapping
 * (and every TLB entry) away first, then the page is dirty if the VM never
 * saved it (VP_CLEAN unset) or pmap_is_modified says a write came since:
 * only then is it written to its swap slot.  Cleaning a page that stays
 * mapped clears the modified bit *before* copying, so a store that lands
 * during the copy sets it again and is written next time: no store is
 * ever lost between the copy and the bit.
 *
 * LOCKING.  One spin lock, vm_mtx, covers everything here; its waiters
 * spin with ptest_relax(), taking interrupts, so the holder's shootdowns
 * are answered.  User accesses run without it.
 */
#include "vm.h"

#include "ptest.h"

#define VM_MAXCPUS	64

#define VP_CLEAN	0x1	/* the swap/disk copy is current (as of the last clear_modify) */
#define VP_KBUF		0x4	/* a wired kernel buffer page: never evicted, no owner */
#define VP_TMAPPED	0x8	/* an sf_buf or quick mapping has reached it */

#define KBUF_PAGES	64	/* kernel VA the VM keeps for its wired buffers */

struct vm_anon;
struct vm_file;

struct vm_pg {
	struct vm_page *vp_page;	/* the machine's page; NULL: record unused */
	paddr_t vp_pa;
	struct vm_anon *vp_anon;	/* owner: an anon, or */
	struct vm_file *vp_file;	/* a file (page vp_idx of it), or neither (kbuf) */
	uint64_t vp_idx;
	uint32_t vp_flags;
	uint32_t vp_hold;		/* in use outside the lock (a copy, a fault):
					 * the pagedaemon leaves it alone */
	uint32_t vp_next;		/* free-record list */
};

struct vm_anon {
	int an_ref;			/* amap slots pointing here */
	struct vm_pg *an_pg;		/* resident page or NULL */
	uint32_t an_slot;		/* swap slot + 1; 0: none */
};

struct vm_amap {
	int am_ref;			/* entries pointing here */
	uint64_t am_npages;
	struct vm_anon **am_anon;
};

/*
 * A file: its pages' disk copies (NULL: zeros) and the resident ones.
 * References: the creator's handle and one per map entry.
 */
struct vm_file {
	int f_ref;
	uint64_t f_npages;
	struct vm_pg **f_pg;		/* the page cache: resident pages */
	uint8_t **f_disk;		/* the disk */
	struct vm_file *f_next;		/* all files */
};

/*
 * A map entry.  Anonymous: e_amap holds its pages.  Shared file: e_file
 * does, e_amap is NULL.  Private file: e_amap holds the pages the process
 * has written (its copies); where it holds none, the file's page shows
 * through, mapped read-only.
 */
struct vm_entry {
	struct vm_entry *e_next;	/* address order */
	vaddr_t e_start, e_end;
	vm_prot_t e_prot;
	int e_flags;			/* VM_MAP_PRIVATE / VM_MAP_SHARED */
	struct vm_amap *e_amap;
	uint64_t e_off;			/* first page's index in e_amap */
	struct vm_file *e_file;
	uint64_t e_foff;		/* first page's index in e_file */
};

struct vm_proc {
	int p_pid;
	pmap_t p_pmap;
	struct lwp *p_lwp;
	struct vm_entry *p_map;
	struct vm_entry *p_hint;
	struct vm_proc *p_next;		/* all processes */
};

static struct {
	volatile int mtx;
	struct vm_config cfg;
	struct vm_pg *pgs;		/* cfg.vc_pages records */
	uint32_t free_rec;		/* index + 1 of the first free record */
	uint64_t hand;
	uint8_t **swap;			/* slot buffers (allocated on first use) */
	uint32_t *swap_free;		/* stack of free slots + 1 */
	uint64_t swap_nfree, swap_next;
	struct vm_proc *procs;
	struct vm_file *files;
	int next_pid;
	struct vm_proc *cur[VM_MAXCPUS];
	struct vm_stats st;
	bool in_daemon;
	vaddr_t kbuf_va;		/* KBUF_PAGES of kernel VA */
	struct vm_pg *kbuf_pg[KBUF_PAGES];	/* NULL: that page of it is free */
} vm;

/* ---- small things ---- */

static void
vm_panic(const char *what)
{
	/* A VM bug, not a caller error: stop where it happened. */
	tap_diag("vm: %s", what);
	__builtin_trap();
}

static void
vm_lock(void)
{
	while (__atomic_exchange_n(&vm.mtx, 1, __ATOMIC_ACQUIRE) != 0)
		while (__atomic_load_n(&vm.mtx, __ATOMIC_RELAXED) != 0)
			ptest_relax();
}

static void
vm_unlock(void)
{
	__atomic_store_n(&vm.mtx, 0, __ATOMIC_RELEASE);
}

static void *
zalloc(size_t n)
{
	void *p = vm_host_zalloc(n);
	if (p == NULL)
		vm_panic("out of kernel memory");
	return p;
}

static void
mcopy(void *d, const void *s, size_t n)
{
	uint8_t *dd = d;
	const uint8_t *ss = s;
	while (n-- > 0)
		*dd++ = *ss++;
}

/* ---- pages ---- */

static uint64_t vm_daemon_locked(uint64_t target);

static uint64_t
pages_free(void)
{
	return vm.cfg.vc_pages - vm.st.vs_pages_used;
}

/* A page for owner an (NULL: the caller sets the owner; lock held); NULL
 * when none can be found even after the pagedaemon ran. */
static struct vm_pg *
pg_alloc(struct vm_anon *an)
{
	if (pages_free() < vm.cfg.vc_low && !vm.in_daemon)
		vm_daemon_locked(vm.cfg.vc_high);
	if (vm.free_rec == 0)
		return NULL;
	struct vm_page *m = ptest_page_alloc();
	if (m == NULL)
		return NULL;
	struct vm_pg *vp = &vm.pgs[vm.free_rec - 1];
	vm.free_rec = vp->vp_next;
	vp->vp_page = m;
	vp->vp_pa = ptest_page_pa(m);
	vp->vp_anon = an;
	vp->vp_file = NULL;
	vp->vp_flags = 0;
	vp->vp_hold = 0;
	vp->vp_next = 0;
	if (++vm.st.vs_pages_used > vm.st.vs_pages_peak)
		vm.st.vs_pages_peak = vm.st.vs_pages_used;
	return vp;
}

static void
pg_free(struct vm_pg *vp)
{
	/* An idle sf_buf may still map the page, another CPU may have cached a
	 * quick or sf_buf window onto it: pmap_page_protect(NONE) is what
	 * makes the library finish with it before it goes (tmpmap.c). */
	if ((vp->vp_flags & VP_TMAPPED) != 0)
		pmap_page_protect(vp->vp_page, VM_PROT_NONE);
	ptest_page_free(vp->vp_page);	/* panics if a mapping is left */
	vp->vp_page = NULL;
	vp->vp_anon = NULL;
	vp->vp_file = NULL;
	vp->vp_next = vm.free_rec;
	vm.free_rec = (uint32_t)(vp - vm.pgs) + 1;
	vm.st.vs_pages_used--;
}

/* Copy a page to or from a buffer through a temporary kernel mapping,
 * with kernel-mode accesses on the MMU. */
static void
pg_io(struct vm_pg *vp, uint8_t *buf, bool to_page)
{
	struct sf_buf *sf = NULL;
	vaddr_t kva;
	vp->vp_flags |= VP_TMAPPED;
	/* Under the VM lock: never sleep for an sf_buf (CPUs holding them in
	 * vm_read may be waiting for this lock); a quick mapping instead. */
	if (vm.cfg.vc_swap_sfbuf && (sf = sf_buf_alloc(vp->vp_page, SFB_NOWAIT)) != NULL) {
		kva = sf_buf_kva(sf);
		vm.st.vs_sfbuf_copies++;
	} else {
		kva = pmap_quick_enter_page(vp->vp_page);
		vm.st.vs_quick_copies++;
	}
	for (unsigned i = 0; i < PAGE_SIZE; i += 8) {
		uint64_t w;
		if (to_page) {
			mcopy(&w, buf + i, 8);
			if (ptest_store(kva + i, 8, w, 0) != PTEST_OK)
				vm_panic("kernel store through a temporary mapping faulted");
		} else {
			if (ptest_load(kva + i, 8, &w, 0) != PTEST_OK)
				vm_panic("kernel load through a temporary mapping faulted");
			mcopy(buf + i, &w, 8);
		}
	}
	if (sf != NULL)
		sf_buf_free(sf);
	else
		pmap_quick_remove_page(kva);
}

/* ---- swap ---- */

static uint32_t
swap_alloc(void)
{
	uint32_t s;
	if (vm.swap_nfree > 0)
		s = vm.swap_free[--vm.swap_nfree];
	else if (vm.swap_next < vm.cfg.vc_swap_pages)
		s = (uint32_t)++vm.swap_next;
	else
		return 0;
	if (vm.swap[s - 1] == NULL)
		vm.swap[s - 1] = zalloc(PAGE_SIZE);
	if (++vm.st.vs_swap_used > vm.st.vs_swap_peak)
		vm.st.vs_swap_peak = vm.st.vs_swap_used;
	return s;
}

static void
swap_release(uint32_t s)
{
	vm.swap_free[vm.swap_nfree++] = s;
	vm.st.vs_swap_used--;
}

/* ---- anons ---- */

static struct vm_anon *
anon_new(void)
{
	struct vm_anon *an = zalloc(sizeof(*an));
	an->an_ref = 1;
	return an;
}

/* Drop a reference; the last one frees the page (no mapping may be left:
 * the caller removed them and ran pmap_update) and the swap slot. */
static void
anon_unref(struct vm_anon *an)
{
	if (--an->an_ref > 0)
		return;
	if (an->an_pg != NULL)
		pg_free(an->an_pg);
	if (an->an_slot != 0)
		swap_release(an->an_slot);
	vm_host_free(an);
}

/* Make an's page resident (lock held); NULL when out of memory. */
static struct vm_pg *
anon_page_in(struct vm_anon *an, enum vm_fault_kind *kind)
{
	if (an->an_pg != NULL)
		return an->an_pg;
	struct vm_pg *vp = pg_alloc(an);
	if (vp == NULL)
		return NULL;
	pg_io(vp, vm.swap[an->an_slot - 1], true);
	vp->vp_flags |= VP_CLEAN;	/* the swap copy stays and is current */
	an->an_pg = vp;
	*kind = VM_FK_SWAPIN;
	return vp;
}

/* ---- the pagedaemon ---- */

/* Where vp's data is kept when it is not resident: its file's disk block
 * or its anon's swap slot (allocated now); NULL when swap is full. */
static uint8_t *
pg_backing(struct vm_pg *vp)
{
	if (vp->vp_file != NULL) {
		uint8_t **d = &vp->vp_file->f_disk[vp->vp_idx];
		if (*d == NULL)
			*d = zalloc(PAGE_SIZE);
		return *d;
	}
	struct vm_anon *an = vp->vp_anon;
	if (an->an_slot == 0 && (an->an_slot = swap_alloc()) == 0)
		return NULL;
	return vm.swap[an->an_slot - 1];
}

/* Write vp to its swap slot or file (lock held); false when swap is full. */
static bool
pg_clean(struct vm_pg *vp)
{
	uint8_t *buf = pg_backing(vp);
	if (buf == NULL)
		return false;
	/* The bit first, then the copy: a store after the clear sets it again. */
	pmap_clear_modify(vp->vp_page);
	pg_io(vp, buf, false);
	vp->vp_flags |= VP_CLEAN;
	return true;
}

static bool
pg_dirty_p(struct vm_pg *vp)
{
	return (vp->vp_flags & VP_CLEAN) == 0 || pmap_is_modified(vp->vp_page);
}

static bool
pg_evict(struct vm_pg *vp)
{
	pmap_page_protect(vp->vp_page, VM_PROT_NONE);
	if (pg_dirty_p(vp)) {
		if (!pg_clean(vp))
			return false;	/* swap full: it stays, to be faulted back */
		if (vp->vp_file != NULL)
			vm.st.vs_pageouts_file++;
		else
			vm.st.vs_pageouts_swap++;
	} else {
		vm.st.vs_reclaims_clean++;
	}
	if (vp->vp_file != NULL)
		vp->vp_file->f_pg[vp->vp_idx] = NULL;
	else
		vp->vp_anon->an_pg = NULL;
	pg_free(vp);
	return true;
}

static uint64_t
vm_daemon_locked(uint64_t target)
{
	uint64_t freed = 0, n = vm.cfg.vc_pages;
	vm.in_daemon = true;
	vm.st.vs_daemon_runs++;
	/* Two sweeps: the first may only clear reference bits. */
	for (uint64_t i = 0; i < 2 * n && pages_free() < target; i++) {
		struct vm_pg *vp = &vm.pgs[vm.hand];
		vm.hand = (vm.hand + 1) % n;
		if (vp->vp_page == NULL || vp->vp_hold != 0 || (vp->vp_flags & VP_KBUF) != 0)
			continue;
		vm.st.vs_daemon_scanned++;
		if (pmap_is_referenced(vp->vp_page)) {
			pmap_clear_reference(vp->vp_page);
			vm.st.vs_daemon_referenced++;
			if (vm.cfg.vc_launder && pg_dirty_p(vp) && pg_clean(vp)) {
				vm.st.vs_laundered++;
				if (vp->vp_file != NULL)
					vm.st.vs_file_writebacks++;
			}
			continue;
		}
		if (pg_evict(vp))
			freed++;
	}
	vm.in_daemon = false;
	return freed;
}

uint64_t
vm_pagedaemon(uint64_t target)
{
	vm_lock();
	uint64_t r = vm_daemon_locked(target);
	vm_unlock();
	return r;
}

/* ---- boot ---- */

int
vm_boot(const struct vm_config *c)
{
	if (c->vc_pages < 8 || c->vc_pages > 0xffffffffULL - 1)
		return VM_EINVAL;
	vm.cfg = *c;
	if (vm.cfg.vc_swap_pages == 0)
		vm.cfg.vc_swap_pages = 1u << 20;
	if (vm.cfg.vc_low == 0)
		vm.cfg.vc_low = c->vc_pages / 32 > 2 ? c->vc_pages / 32 : 2;
	if (vm.cfg.vc_high == 0)
		vm.cfg.vc_high = c->vc_pages / 16 > 4 ? c->vc_pages / 16 : 4;
	if (vm.cfg.vc_high < vm.cfg.vc_low || vm.cfg.vc_high >= c->vc_pages)
		return VM_EINVAL;
	vm.pgs = zalloc(sizeof(*vm.pgs) * c->vc_pages);
	for (uint64_t i = 0; i < c->vc_pages; i++)
		vm.pgs[i].vp_next = i + 1 < c->vc_pages ? (uint32_t)(i + 2) : 0;
	vm.free_rec = 1;
	vm.swap = zalloc(sizeof(*vm.swap) * vm.cfg.vc_swap_pages);
	vm.swap_free = zalloc(sizeof(*vm.swap_free) * vm.cfg.vc_swap_pages);
	vm.st.vs_pages = c->vc_pages;
	vm.next_pid = 1;
	vaddr_t ve;
	pmap_virtual_space(&vm.kbuf_va, &ve);
	pmap_growkernel(vm.kbuf_va + KBUF_PAGES * PAGE_SIZE);
	return 0;
}

bool
vm_shutdown(char *text, size_t len)
{
	bool good = vm.procs == NULL && vm.files == NULL && vm.st.vs_pages_used == 0 &&
	    vm.st.vs_swap_used == 0;
	if (!good && len > 0)
		ptest_snprintf(text, len, "vm_shutdown: %s, %llu pages and %llu swap slots "
		    "still held", vm.procs != NULL ? "processes remain" : vm.files != NULL ?
		    "files remain open or mapped" : "no process or file left",
		    (unsigned long long)vm.st.vs_pages_used,
		    (unsigned long long)vm.st.vs_swap_used);
	for (uint64_t s = 0; s < vm.swap_next; s++)
		vm_host_free(vm.swap[s]);
	vm_host_free(vm.swap);
	vm_host_free(vm.swap_free);
	vm_host_free(vm.pgs);
	struct vm_stats keep = vm.st;
	(void)keep;
	vm.pgs = NULL;
	vm.swap = NULL;
	vm.swap_free = NULL;
	vm.swap_nfree = vm.swap_next = 0;
	vm.free_rec = 0;
	return good;
}

/* ---- amaps and entries ---- */

static struct vm_amap *
amap_new(uint64_t npages)
{
	struct vm_amap *am = zalloc(sizeof(*am));
	am->am_ref = 1;
	am->am_npages = npages;
	am->am_anon = zalloc(sizeof(*am->am_anon) * npages);
	return am;
}

/* ---- files ---- */

static void
file_unref(struct vm_file *f)
{
	if (--f->f_ref > 0)
		return;
	/* No entry maps it any more: its pages have no mapping left. */
	for (uint64_t i = 0; i < f->f_npages; i++) {
		if (f->f_pg[i] != NULL)
			pg_free(f->f_pg[i]);
		vm_host_free(f->f_disk[i]);
	}
	for (struct vm_file **fp = &vm.files; *fp != NULL; fp = &(*fp)->f_next)
		if (*fp == f) {
			*fp = f->f_next;
			break;
		}
	vm_host_free(f->f_pg);
	vm_host_free(f->f_disk);
	vm_host_free(f);
	vm.st.vs_files--;
}

/* Page i of f made resident (lock held): read from its disk block, or
 * zero-filled where the disk holds none; NULL when out of memory. */
static struct vm_pg *
file_page_in(struct vm_file *f, uint64_t i, enum vm_fault_kind *kind)
{
	struct vm_pg *vp = f->f_pg[i];
	if (vp != NULL)
		return vp;
	if ((vp = pg_alloc(NULL)) == NULL)
		return NULL;
	vp->vp_file = f;
	vp->vp_idx = i;
	if (f->f_disk[i] != NULL)
		pg_io(vp, f->f_disk[i], true);
	else
		pmap_zero_page(vp->vp_pa);
	vp->vp_flags |= VP_CLEAN;	/* the disk copy is current */
	f->f_pg[i] = vp;
	*kind = VM_FK_FILEIN;
	return vp;
}

struct vm_file *
vm_file_create(uint64_t npages)
{
	if (npages == 0 || npages > (1ULL << 32))
		return NULL;
	struct vm_file *f = vm_host_zalloc(sizeof(*f));
	struct vm_pg **pg = vm_host_zalloc(sizeof(*pg) * npages);
	uint8_t **disk = vm_host_zalloc(sizeof(*disk) * npages);
	if (f == NULL || pg == NULL || disk == NULL) {
		vm_host_free(f);
		vm_host_free(pg);
		vm_host_free(disk);
		return NULL;
	}
	f->f_ref = 1;
	f->f_npages = npages;
	f->f_pg = pg;
	f->f_disk = disk;
	vm_lock();
	f->f_next = vm.files;
	vm.files = f;
	vm.st.vs_files++;
	vm_unlock();
	return f;
}

void
vm_file_close(struct vm_file *f)
{
	vm_lock();
	file_unref(f);
	vm_unlock();
}

uint64_t vm_file_pages(const struct vm_file *f) { return f->f_npages; }

/* Drop an entry's hold on its pages, then on the amap (the mappings are
 * already removed). */
static void
entry_release(struct vm_entry *e)
{
	if (e->e_file != NULL)
		file_unref(e->e_file);
	struct vm_amap *am = e->e_amap;
	if (am == NULL) {
		vm_host_free(e);
		return;
	}
	bool private = (e->e_flags & VM_MAP_PRIVATE) != 0;
	/* A private amap's split halves cover disjoint pages: each entry drops
	 * its own.  A shared amap's pages go with its last entry. */
	uint64_t from = private ? e->e_off : 0;
	uint64_t to = private ? e->e_off + (e->e_end - e->e_start) / PAGE_SIZE : am->am_npages;
	if (private || am->am_ref == 1) {
		for (uint64_t i = from; i < to; i++) {
			struct vm_anon **ap = &am->am_anon[i];
			if (*ap != NULL) {
				anon_unref(*ap);
				*ap = NULL;
			}
		}
	}
	if (--am->am_ref == 0) {
		vm_host_free(am->am_anon);
		vm_host_free(am);
	}
	vm_host_free(e);
}

static struct vm_entry *
lookup(struct vm_proc *p, vaddr_t va)
{
	struct vm_entry *e = p->p_hint;
	if (e != NULL && va >= e->e_start && va < e->e_end)
		return e;
	for (e = p->p_map; e != NULL && e->e_start <= va; e = e->e_next)
		if (va < e->e_end)
			return p->p_hint = e;
	return NULL;
}

/* Split e at va (inside it): e keeps [start, va), a new entry takes the
 * rest, sharing the amap (a private amap split stays private: its halves
 * cover disjoint pages). */
static void
entry_split(struct vm_entry *e, vaddr_t va)
{
	struct vm_entry *n = zalloc(sizeof(*n));
	*n = *e;
	n->e_start = va;
	n->e_off = e->e_off + (va - e->e_start) / PAGE_SIZE;
	n->e_foff = e->e_foff + (va - e->e_start) / PAGE_SIZE;
	e->e_end = va;
	e->e_next = n;
	if (e->e_amap != NULL)
		e->e_amap->am_ref++;
	if (e->e_file != NULL)
		e->e_file->f_ref++;
}

/* The anon slot of e's page at va (NULL: a shared file entry has none). */
static struct vm_anon **
entry_anon(struct vm_entry *e, vaddr_t va)
{
	if (e->e_amap == NULL)
		return NULL;
	return &e->e_amap->am_anon[e->e_off + (va - e->e_start) / PAGE_SIZE];
}

/* The page that backs e at va now, if resident: the anon's, else the
 * file's; *an gets the anon (NULL when the file's page shows through). */
static struct vm_pg *
entry_page(struct vm_entry *e, vaddr_t va, struct vm_anon **an, bool *known)
{
	struct vm_anon **ap = entry_anon(e, va);
	*an = ap != NULL ? *ap : NULL;
	*known = *an != NULL || e->e_file != NULL;
	if (*an != NULL)
		return (*an)->an_pg;
	if (e->e_file != NULL)
		return e->e_file->f_pg[e->e_foff + (va - e->e_start) / PAGE_SIZE];
	return NULL;
}

static bool
range_ok(vaddr_t va, vsize_t len)
{
	return len > 0 && (va & PAGE_MASK) == 0 && (len & PAGE_MASK) == 0 &&
	    va + len > va && va + len <= PMAP_USER_MAX;
}

/* Clip the entries of p so that va and end are entry boundaries. */
static void
clip(struct vm_proc *p, vaddr_t va, vaddr_t end)
{
	for (struct vm_entry *e = p->p_map; e != NULL; e = e->e_next) {
		if (va > e->e_start && va < e->e_end)
			entry_split(e, va);
		else if (end > e->e_start && end < e->e_end)
			entry_split(e, end);
	}
	p->p_hint = NULL;
}

/* ---- processes ---- */

static struct vm_proc *
proc_new(void)
{
	struct vm_proc *p = zalloc(sizeof(*p));
	p->p_pmap = pmap_create();
	p->p_lwp = ptest_lwp_create(p->p_pmap);
	p->p_pid = vm.next_pid++;
	p->p_next = vm.procs;
	vm.procs = p;
	return p;
}

struct vm_proc *
vm_proc_create(void)
{
	vm_lock();
	struct vm_proc *p = proc_new();
	vm_unlock();
	return p;
}

int vm_proc_pid(const struct vm_proc *p) { return p->p_pid; }
pmap_t vm_proc_pmap(const struct vm_proc *p) { return p->p_pmap; }

struct vm_proc *
vm_curproc(void)
{
	return vm.cur[ptest_cpu()];
}

void
vm_switch(struct vm_proc *p)
{
	int cpu = ptest_cpu();
	struct vm_proc *old = vm.cur[cpu];
	if (old == p)
		return;
	if (old != NULL)
		pmap_deactivate(old->p_lwp);
	vm.cur[cpu] = p;
	ptest_switch(p != NULL ? p->p_lwp : NULL);
}

struct vm_proc *
vm_fork(struct vm_proc *p)
{
	vm_lock();
	struct vm_proc *c = proc_new();
	struct vm_entry **tail = &c->p_map;
	for (struct vm_entry *e = p->p_map; e != NULL; e = e->e_next) {
		struct vm_entry *ce = zalloc(sizeof(*ce));
		*ce = *e;
		ce->e_next = NULL;
		if (e->e_file != NULL)
			e->e_file->f_ref++;
		if ((e->e_flags & VM_MAP_SHARED) != 0) {
			if (e->e_amap != NULL)
				e->e_amap->am_ref++;
		} else {
			uint64_t n = (e->e_end - e->e_start) / PAGE_SIZE;
			ce->e_amap = amap_new(n);
			ce->e_off = 0;
			for (uint64_t i = 0; i < n; i++) {
				struct vm_anon *an = e->e_amap->am_anon[e->e_off + i];
				if (an != NULL)
					an->an_ref++;
				ce->e_amap->am_anon[i] = an;
			}
			/* The parent's copies are now shared: none may stay writable. */
			if ((e->e_prot & VM_PROT_WRITE) != 0)
				pmap_protect(p->p_pmap, e->e_start, e->e_end,
				    e->e_prot & ~VM_PROT_WRITE);
		}
		*tail = ce;
		tail = &ce->e_next;
	}
	pmap_update(p->p_pmap);
	/* Advisory: the pmap may pre-fault the child from the parent's tables. */
	for (struct vm_entry *e = c->p_map; e != NULL; e = e->e_next)
		pmap_copy(c->p_pmap, p->p_pmap, e->e_start, e->e_end - e->e_start, e->e_start);
	pmap_update(c->p_pmap);
	vm.st.vs_forks++;
	vm_unlock();
	return c;
}

void
vm_exit(struct vm_proc *p)
{
	vm_lock();
	for (int i = 0; i < VM_MAXCPUS; i++)
		if (vm.cur[i] == p)
			vm_panic("vm_exit: the process is running");
	pmap_remove_all(p->p_pmap);
	for (struct vm_entry *e = p->p_map; e != NULL; e = e->e_next)
		pmap_remove(p->p_pmap, e->e_start, e->e_end);
	pmap_update(p->p_pmap);
	struct vm_entry *e = p->p_map;
	while (e != NULL) {
		struct vm_entry *n = e->e_next;
		entry_release(e);
		e = n;
	}
	for (struct vm_proc **pp = &vm.procs; *pp != NULL; pp = &(*pp)->p_next)
		if (*pp == p) {
			*pp = p->p_next;
			break;
		}
	ptest_lwp_destroy(p->p_lwp);
	pmap_destroy(p->p_pmap);
	vm_host_free(p);
	vm.st.vs_exits++;
	vm_unlock();
}

/* ---- the address space ---- */

static int
map_insert(struct vm_proc *p, vaddr_t va, vsize_t len, vm_prot_t prot, int flags,
    struct vm_file *f, uint64_t fpage)
{
	if (!range_ok(va, len) || (prot & ~VM_PROT_ALL) != 0 ||
	    (flags != VM_MAP_PRIVATE && flags != VM_MAP_SHARED))
		return VM_EINVAL;
	vm_lock();
	struct vm_entry **pp = &p->p_map;
	while (*pp != NULL && (*pp)->e_end <= va)
		pp = &(*pp)->e_next;
	if (*pp != NULL && (*pp)->e_start < va + len) {
		vm_unlock();
		return VM_EINVAL;
	}
	struct vm_entry *e = zalloc(sizeof(*e));
	e->e_start = va;
	e->e_end = va + len;
	e->e_prot = prot;
	e->e_flags = flags;
	/* A shared file mapping keeps its pages in the file alone. */
	if (f == NULL || flags == VM_MAP_PRIVATE)
		e->e_amap = amap_new(len / PAGE_SIZE);
	if ((e->e_file = f) != NULL)
		f->f_ref++;
	e->e_foff = fpage;
	e->e_next = *pp;
	*pp = e;
	vm_unlock();
	return 0;
}

int
vm_mmap(struct vm_proc *p, vaddr_t va, vsize_t len, vm_prot_t prot, int flags)
{
	return map_insert(p, va, len, prot, flags, NULL, 0);
}

int
vm_mmap_file(struct vm_proc *p, vaddr_t va, vsize_t len, vm_prot_t prot, int flags,
    struct vm_file *f, uint64_t off)
{
	if (f == NULL || (off & PAGE_MASK) != 0 || off / PAGE_SIZE >= f->f_npages ||
	    len / PAGE_SIZE > f->f_npages - off / PAGE_SIZE)
		return VM_EINVAL;
	return map_insert(p, va, len, prot, flags, f, off / PAGE_SIZE);
}

int
vm_munmap(struct vm_proc *p, vaddr_t va, vsize_t len)
{
	if (!range_ok(va, len))
		return VM_EINVAL;
	vaddr_t end = va + len;
	vm_lock();
	clip(p, va, end);
	pmap_remove(p->p_pmap, va, end);
	pmap_update(p->p_pmap);
	struct vm_entry **pp = &p->p_map;
	while (*pp != NULL) {
		struct vm_entry *e = *pp;
		if (e->e_start >= va && e->e_end <= end) {
			*pp = e->e_next;
			entry_release(e);
		} else {
			pp = &e->e_next;
		}
	}
	p->p_hint = NULL;
	vm_unlock();
	return 0;
}

/* Is all of [va, end) mapped? */
static bool
covered(struct vm_proc *p, vaddr_t va, vaddr_t end)
{
	vaddr_t at = va;
	for (struct vm_entry *e = p->p_map; e != NULL && at < end; e = e->e_next)
		if (e->e_start <= at && e->e_end > at)
			at = e->e_end;
	return at >= end;
}

int
vm_mprotect(struct vm_proc *p, vaddr_t va, vsize_t len, vm_prot_t prot)
{
	if (!range_ok(va, len) || (prot & ~VM_PROT_ALL) != 0)
		return VM_EINVAL;
	vaddr_t end = va + len;
	vm_lock();
	/* All of it mapped, or nothing changes. */
	if (!covered(p, va, end)) {
		vm_unlock();
		return VM_ENOMEM;
	}
	clip(p, va, end);
	for (struct vm_entry *e = p->p_map; e != NULL; e = e->e_next)
		if (e->e_start >= va && e->e_end <= end)
			e->e_prot = prot;
	/* Lowering takes effect now; raising waits for the faults. */
	pmap_protect(p->p_pmap, va, end, prot);
	pmap_update(p->p_pmap);
	vm_unlock();
	return 0;
}

/* ---- faults ---- */

/* A copy of source page vp for anon slot *ap (lock held): the COW break. */
static struct vm_pg *
cow_copy(struct vm_pg *vp, struct vm_anon **ap)
{
	struct vm_anon *na = anon_new();
	vp->vp_hold++;			/* the daemon must not take the source */
	struct vm_pg *np = pg_alloc(na);
	vp->vp_hold--;
	if (np == NULL) {
		vm_host_free(na);
		return NULL;
	}
	pmap_copy_page(vp->vp_pa, np->vp_pa);
	na->an_pg = np;
	if (*ap != NULL)
		(*ap)->an_ref--;	/* others still hold it: never the last */
	*ap = na;
	return np;
}

static enum vm_fault_kind
fault_locked(struct vm_proc *p, vaddr_t va, vm_prot_t access)
{
	va &= ~(vaddr_t)PAGE_MASK;
	struct vm_entry *e = lookup(p, va);
	if (e == NULL)
		return VM_FK_NOMAP;
	if ((access & ~e->e_prot) != 0)
		return VM_FK_PROT;
	struct vm_anon **ap = entry_anon(e, va);
	struct vm_anon *an = ap != NULL ? *ap : NULL;
	enum vm_fault_kind kind = VM_FK_SOFT;
	vm_prot_t prot = e->e_prot;
	bool write = (access & VM_PROT_WRITE) != 0;
	struct vm_pg *vp;
	if (an == NULL && e->e_file != NULL) {
		/* The file's page: shared, or showing through a private entry. */
		vp = file_page_in(e->e_file, e->e_foff + (va - e->e_start) / PAGE_SIZE, &kind);
		if (vp == NULL)
			return VM_FK_OOM;
		if (ap != NULL && write) {
			if ((vp = cow_copy(vp, ap)) == NULL)
				return VM_FK_OOM;
			kind = VM_FK_COW;
		} else if (ap != NULL) {
			prot &= ~VM_PROT_WRITE;	/* a private mapping never writes the file */
		}
	} else {
		if (an == NULL) {
			an = anon_new();
			if ((vp = pg_alloc(an)) == NULL) {
				vm_host_free(an);
				return VM_FK_OOM;
			}
			pmap_zero_page(vp->vp_pa);
			an->an_pg = vp;
			*ap = an;
			kind = VM_FK_ZERO;
		} else if ((vp = anon_page_in(an, &kind)) == NULL) {
			return VM_FK_OOM;
		}
		if (write && an->an_ref > 1) {
			/* Copy-on-write: this process gets its own copy. */
			if ((vp = cow_copy(vp, ap)) == NULL)
				return VM_FK_OOM;
			kind = VM_FK_COW;
		} else if (write && kind == VM_FK_SOFT) {
			paddr_t pa;
			if (pmap_extract(p->p_pmap, va, &pa) && pa == vp->vp_pa)
				kind = VM_FK_COW_REUSE;	/* mapped read-only while it was shared */
		}
		if ((*ap)->an_ref > 1) {
			prot &= ~VM_PROT_WRITE;
		} else if (write && (*ap)->an_slot != 0) {
			/* About to be written: its swap copy is stale from now on,
			 * and the slot goes back (eviction takes a new one). */
			swap_release((*ap)->an_slot);
			(*ap)->an_slot = 0;
			vp->vp_flags &= ~VP_CLEAN;
		}
	}
	vp->vp_hold++;
	int r;
	for (int tries = 0; (r = pmap_enter(p->p_pmap, va, vp->vp_pa, prot,
	    access | PMAP_CANFAIL)) != 0 && tries < 4; tries++) {
		vm.st.vs_enter_retries++;
		vm_daemon_locked(vm.cfg.vc_high);	/* fewer mappings: pv memory back */
	}
	vp->vp_hold--;
	if (r != 0)
		return VM_FK_OOM;
	pmap_update(p->p_pmap);
	return kind;
}

enum vm_fault_kind
vm_fault(struct vm_proc *p, vaddr_t va, vm_prot_t access)
{
	vm_lock();
	enum vm_fault_kind k = fault_locked(p, va, access);
	vm.st.vs_faults[k]++;
	vm_unlock();
	return k;
}

static bool
fault_fatal(enum vm_fault_kind k)
{
	return k == VM_FK_PROT || k == VM_FK_NOMAP || k == VM_FK_OOM;
}

/* The trap loop: retry the access after each fault the VM resolves. */
static int
uaccess(int op, vaddr_t va, int size, uint64_t *val)
{
	static const vm_prot_t acc[3] = { VM_PROT_READ, VM_PROT_WRITE, VM_PROT_EXECUTE };
	struct vm_proc *p = vm_curproc();
	if (p == NULL)
		vm_panic("user access without a process");
	for (int tries = 0; tries < 10000; tries++) {
		int r = op == 0 ? ptest_load(va, size, val, PTEST_USER) :
		    op == 1 ? ptest_store(va, size, *val, PTEST_USER) :
		    ptest_fetch(va, PTEST_USER);
		if (r == PTEST_OK)
			return 0;
		if (r != PTEST_PF)
			vm_panic("user access took a fault that is not a page fault");
		enum vm_fault_kind k = vm_fault(p, (vaddr_t)ptest_last_fault().pf_addr, acc[op]);
		if (fault_fatal(k))
			return (int)k;
	}
	vm_panic("an access kept faulting after its fault was resolved");
	return -1;
}

int vm_uload(vaddr_t va, int size, uint64_t *val) { return uaccess(0, va, size, val); }
int vm_ustore(vaddr_t va, int size, uint64_t val) { return uaccess(1, va, size, &val); }
int vm_ufetch(vaddr_t va) { return uaccess(2, va, 1, NULL); }

/* ---- observing ---- */

void
vm_get_stats(struct vm_stats *s)
{
	vm_lock();
	*s = vm.st;
	vm_unlock();
}

enum vm_residency
vm_residency(struct vm_proc *p, vaddr_t va)
{
	va &= ~(vaddr_t)PAGE_MASK;
	vm_lock();
	struct vm_entry *e = lookup(p, va);
	enum vm_residency r = VM_RES_NONE;
	struct vm_anon *an = NULL;
	bool known = false;
	struct vm_pg *vp = e == NULL ? NULL : entry_page(e, va, &an, &known);
	if (an != NULL) {
		if (an->an_pg == NULL)
			r = VM_RES_SWAPPED;
		else if ((e->e_flags & VM_MAP_SHARED) != 0)
			r = VM_RES_SHARED;
		else
			r = an->an_ref > 1 ? VM_RES_COW : VM_RES_PRIVATE;
	} else if (known) {
		r = vp != NULL ? VM_RES_SHARED : VM_RES_FILE;
	}
	vm_unlock();
	return r;
}

bool
vm_map_entry(struct vm_proc *p, int i, vaddr_t *start, vaddr_t *end, vm_prot_t *prot,
    int *flags)
{
	vm_lock();
	struct vm_entry *e = p->p_map;
	while (e != NULL && i-- > 0)
		e = e->e_next;
	if (e != NULL) {
		*start = e->e_start;
		*end = e->e_end;
		*prot = e->e_prot;
		*flags = e->e_flags | (e->e_file != NULL ? VM_MAP_FILE : 0);
	}
	vm_unlock();
	return e != NULL;
}

bool
vm_check(char *text, size_t len)
{
	bool good = true;
	vm_lock();
	uint64_t used = 0;
	for (uint64_t i = 0; i < vm.cfg.vc_pages; i++)
		if (vm.pgs[i].vp_page != NULL) {
			used++;
			if ((vm.pgs[i].vp_flags & VP_KBUF) != 0) {
				paddr_t pa = 0;
				vaddr_t kva = 0;
				for (int k = 0; k < KBUF_PAGES; k++)
					if (vm.kbuf_pg[k] == &vm.pgs[i])
						kva = vm.kbuf_va + (vaddr_t)k * PAGE_SIZE;
				if (kva == 0 || !pmap_extract(pmap_kernel(), kva, &pa) ||
				    pa != vm.pgs[i].vp_pa) {
					ptest_snprintf(text, len, "wired kernel page %#llx is not "
					    "mapped where it was put", (unsigned long long)vm.pgs[i].vp_pa);
					good = false;
				}
			} else if (vm.pgs[i].vp_file != NULL ?
			    vm.pgs[i].vp_file->f_pg[vm.pgs[i].vp_idx] != &vm.pgs[i] :
			    vm.pgs[i].vp_anon == NULL || vm.pgs[i].vp_anon->an_pg != &vm.pgs[i]) {
				ptest_snprintf(text, len, "page %#llx: its %s does not point back",
				    (unsigned long long)vm.pgs[i].vp_pa,
				    vm.pgs[i].vp_file != NULL ? "file" : "anon");
				good = false;
			} else if (vm.pgs[i].vp_hold != 0) {
				ptest_snprintf(text, len, "page %#llx is still held by %u users",
				    (unsigned long long)vm.pgs[i].vp_pa, vm.pgs[i].vp_hold);
				good = false;
			}
		}
	if (good && used != vm.st.vs_pages_used) {
		ptest_snprintf(text, len, "%llu pages in use, the count says %llu",
		    (unsigned long long)used, (unsigned long long)vm.st.vs_pages_used);
		good = false;
	}
	/* Every mapping a pmap holds is one the map allows: the right page,
	 * and writable only where the process alone holds it. */
	for (struct vm_proc *p = vm.procs; p != NULL && good; p = p->p_next) {
		pmap_check_pmap(p->p_pmap);
		long mapped = 0;
		for (struct vm_entry *e = p->p_map; e != NULL && good; e = e->e_next)
			for (vaddr_t va = e->e_start; va < e->e_end && good; va += PAGE_SIZE) {
				struct pmap_mapping_info mi;
				if (!pmap_mapping_info(p->p_pmap, va, &mi))
					continue;
				mapped++;
				struct vm_anon *an;
				bool known;
				struct vm_pg *vp = entry_page(e, va, &an, &known);
				/* Writable: the process's own anon, or a shared file page. */
				const char *ro = (e->e_prot & VM_PROT_WRITE) == 0 ?
				    "the map says read-only" : an != NULL && an->an_ref > 1 ?
				    "copy-on-write" : an == NULL && e->e_amap != NULL ?
				    "a private mapping's view of its file" : NULL;
				if (vp == NULL || vp->vp_pa != mi.mi_pa) {
					ptest_snprintf(text, len, "pid %d va %#llx maps pa %#llx, not "
					    "its page", p->p_pid, (unsigned long long)va,
					    (unsigned long long)mi.mi_pa);
					good = false;
				} else if ((mi.mi_prot & VM_PROT_WRITE) != 0 && ro != NULL) {
					ptest_snprintf(text, len, "pid %d va %#llx is writable but %s",
					    p->p_pid, (unsigned long long)va, ro);
					good = false;
				}
			}
		if (good && mapped != pmap_resident_count(p->p_pmap)) {
			ptest_snprintf(text, len, "pid %d: %ld pages mapped in its map's ranges, "
			    "resident count %ld", p->p_pid, mapped,
			    pmap_resident_count(p->p_pmap));
			good = false;
		}
	}
	vm_unlock();
	return good;
}

/* ---- the crash-dump walk ---- */

static uint64_t
sum_step(uint64_t s, uint64_t w)
{
	return (s ^ w) * 0x100000001b3ULL;
}

uint64_t
vm_checksum(const uint8_t *page)
{
	uint64_t s = 0xcbf29ce484222325ULL;
	for (unsigned i = 0; i < PAGE_SIZE; i += 8) {
		uint64_t w;
		mcopy(&w, page + i, 8);
		s = sum_step(s, w);
	}
	return s;
}

uint64_t
vm_dump_walk(void (*cb)(paddr_t pa, uint64_t sum, void *arg), void *arg)
{
	struct pmap_segment segs[PMAP_MAXSEGS];
	int n = ptest_phys_segments(segs, PMAP_MAXSEGS);
	uint64_t pages = 0;
	for (int i = 0; i < n; i++)
		for (paddr_t pa = segs[i].ps_start; pa < segs[i].ps_end; pa += PAGE_SIZE) {
			vaddr_t va = (vaddr_t)(uintptr_t)pmap_kenter_temporary(pa, 0);
			uint64_t s = 0xcbf29ce484222325ULL;
			for (unsigned o = 0; o < PAGE_SIZE; o += 8) {
				uint64_t w;
				if (ptest_load(va + o, 8, &w, 0) != PTEST_OK)
					vm_panic("the dump window faulted");
				s = sum_step(s, w);
			}
			cb(pa, s, arg);
			pages++;
		}
	/* The window's leftovers on other CPUs go with the kernel's update. */
	pmap_update(pmap_kernel());
	return pages;
}

bool
vm_resident_pa(struct vm_proc *p, vaddr_t va, paddr_t *pa)
{
	va &= ~(vaddr_t)PAGE_MASK;
	vm_lock();
	struct vm_entry *e = lookup(p, va);
	struct vm_anon *an;
	bool known;
	struct vm_pg *vp = e == NULL ? NULL : entry_page(e, va, &an, &known);
	if (vp != NULL)
		*pa = vp->vp_pa;
	vm_unlock();
	return vp != NULL;
}

/* ---- wired kernel buffers ---- */

vaddr_t
vm_kbuf_alloc(unsigned npages)
{
	vm_lock();
	unsigned run = 0, at = 0;
	for (unsigned k = 0; k < KBUF_PAGES && run < npages; k++) {
		run = vm.kbuf_pg[k] == NULL ? run + 1 : 0;
		at = k + 1 - run;
	}
	if (npages == 0 || run < npages) {
		vm_unlock();
		return 0;
	}
	vaddr_t kva = vm.kbuf_va + (vaddr_t)at * PAGE_SIZE;
	for (unsigned k = 0; k < npages; k++) {
		struct vm_pg *vp = pg_alloc(NULL);
		if (vp == NULL) {
			vm_unlock();
			vm_kbuf_free(kva, k);
			return 0;
		}
		vp->vp_flags |= VP_KBUF;
		vm.kbuf_pg[at + k] = vp;
		pmap_zero_page(vp->vp_pa);
		pmap_enter(pmap_kernel(), kva + (vaddr_t)k * PAGE_SIZE, vp->vp_pa,
		    VM_PROT_READ | VM_PROT_WRITE, VM_PROT_READ | VM_PROT_WRITE | PMAP_WIRED);
		vm.st.vs_pages_wired++;
	}
	pmap_update(pmap_kernel());
	vm_unlock();
	return kva;
}

void
vm_kbuf_free(vaddr_t kva, unsigned npages)
{
	vm_lock();
	unsigned at = (unsigned)((kva - vm.kbuf_va) / PAGE_SIZE);
	pmap_remove(pmap_kernel(), kva, kva + (vaddr_t)npages * PAGE_SIZE);
	pmap_update(pmap_kernel());
	for (unsigned k = at; k < at + npages; k++) {
		pg_free(vm.kbuf_pg[k]);
		vm.kbuf_pg[k] = NULL;
		vm.st.vs_pages_wired--;
	}
	vm_unlock();
}

/* ---- file I/O ---- */

/* Page i of f, resident and held for a copy made outside the lock (the
 * pagedaemon leaves it alone); NULL when out of memory. */
static struct vm_pg *
file_hold(struct vm_file *f, uint64_t i)
{
	vm_lock();
	enum vm_fault_kind k = VM_FK_SOFT;
	struct vm_pg *vp = file_page_in(f, i, &k);
	if (vp != NULL) {
		vp->vp_hold++;
		vp->vp_flags |= VP_TMAPPED;
	}
	vm_unlock();
	return vp;
}

static void
file_unhold(struct vm_pg *vp, bool wrote, uint64_t *count)
{
	vm_lock();
	/* Stores through an sf_buf are not the page's managed mappings: the
	 * pmap's modified bit never sees them, so the VM marks the page dirty
	 * itself - after the copy, so that a write-back made during it (msync)
	 * is made again. */
	if (wrote)
		vp->vp_flags &= ~VP_CLEAN;
	vp->vp_hold--;
	(*count)++;
	vm_unlock();
}

static bool
file_range_ok(struct vm_file *f, uint64_t off, uint64_t len)
{
	return off <= f->f_npages * PAGE_SIZE && len <= f->f_npages * PAGE_SIZE - off;
}

/* The largest access size (8, 4, 2, 1) that suits both addresses and the
 * bytes left. */
static int
chunk(vaddr_t a, vaddr_t b, uint64_t left)
{
	int sz = 8;
	while (sz > 1 && ((((a | b) & (vaddr_t)(sz - 1)) != 0) || left < (uint64_t)sz))
		sz >>= 1;
	return sz;
}

static int
file_rw(struct vm_file *f, uint64_t off, vaddr_t uva, vsize_t len, bool to_file)
{
	if (!file_range_ok(f, off, len))
		return VM_EINVAL;
	if (vm_curproc() == NULL)
		vm_panic("read/write without a running process");
	while (len > 0) {
		unsigned po = (unsigned)(off & PAGE_MASK);
		uint64_t n = PAGE_SIZE - po < len ? PAGE_SIZE - po : len;
		struct vm_pg *vp = file_hold(f, off / PAGE_SIZE);
		if (vp == NULL)
			return VM_ENOMEM;
		/* May sleep for a free sf_buf: no lock is held here. */
		struct sf_buf *sf = sf_buf_alloc(vp->vp_page, 0);
		vaddr_t kva = sf_buf_kva(sf) + po;
		int err = 0;
		for (uint64_t c = 0; c < n && err == 0;) {
			int sz = chunk(kva + c, uva + c, n - c);
			uint64_t w;
			if (to_file) {
				if (vm_uload(uva + c, sz, &w) != 0)
					err = VM_EFAULT;
				else if (ptest_store(kva + c, sz, w, 0) != PTEST_OK)
					vm_panic("a store through an sf_buf faulted");
			} else {
				if (ptest_load(kva + c, sz, &w, 0) != PTEST_OK)
					vm_panic("a load through an sf_buf faulted");
				if (vm_ustore(uva + c, sz, w) != 0)
					err = VM_EFAULT;
			}
			c += (uint64_t)sz;
		}
		sf_buf_free(sf);
		file_unhold(vp, to_file, to_file ? &vm.st.vs_file_write_pages :
		    &vm.st.vs_file_read_pages);
		if (err != 0)
			return err;
		off += n;
		uva += n;
		len -= n;
	}
	return 0;
}

int
vm_read(struct vm_file *f, uint64_t off, vaddr_t uva, vsize_t len)
{
	return file_rw(f, off, uva, len, false);
}

int
vm_write(struct vm_file *f, uint64_t off, vaddr_t uva, vsize_t len)
{
	return file_rw(f, off, uva, len, true);
}

#define SENDFILE_INFLIGHT 4	/* pages a "socket buffer" holds at once */

int
vm_sendfile(struct vm_file *f, uint64_t off, uint64_t len,
    void (*sink)(const uint8_t *data, size_t n, void *arg), void *arg)
{
	if (!file_range_ok(f, off, len))
		return VM_EINVAL;
	uint8_t *wire = vm_host_zalloc(PAGE_SIZE);
	if (wire == NULL)
		return VM_ENOMEM;
	int err = 0;
	while (len > 0 && err == 0) {
		/* Queue a few pages, each held and mapped by an sf_buf, as
		 * sendfile hands them to the socket without copying ... */
		struct vm_pg *vp[SENDFILE_INFLIGHT];
		struct sf_buf *sf[SENDFILE_INFLIGHT];
		unsigned po[SENDFILE_INFLIGHT];
		uint64_t n[SENDFILE_INFLIGHT];
		int k;
		for (k = 0; k < SENDFILE_INFLIGHT && len > 0; k++) {
			po[k] = (unsigned)(off & PAGE_MASK);
			n[k] = PAGE_SIZE - po[k] < len ? PAGE_SIZE - po[k] : len;
			if ((vp[k] = file_hold(f, off / PAGE_SIZE)) == NULL) {
				err = VM_ENOMEM;
				break;
			}
			sf[k] = sf_buf_alloc(vp[k]->vp_page, 0);
			off += n[k];
			len -= n[k];
		}
		/* ... then "transmit" them: the bytes leave through the mappings. */
		for (int j = 0; j < k; j++) {
			vaddr_t kva = sf_buf_kva(sf[j]) + po[j];
			for (uint64_t c = 0; c < n[j];) {
				int sz = chunk(kva + c, 0, n[j] - c);
				uint64_t w;
				if (ptest_load(kva + c, sz, &w, 0) != PTEST_OK)
					vm_panic("a load through an sf_buf faulted");
				mcopy(wire + c, &w, (size_t)sz);
				c += (uint64_t)sz;
			}
			sf_buf_free(sf[j]);
			file_unhold(vp[j], false, &vm.st.vs_sendfile_pages);
			sink(wire, (size_t)n[j], arg);
		}
	}
	vm_host_free(wire);
	return err;
}

/* Write back page vp of a file if it is dirty (lock held). */
static void
file_writeback(struct vm_pg *vp)
{
	if (vp != NULL && pg_dirty_p(vp) && pg_clean(vp))
		vm.st.vs_file_writebacks++;
}

int
vm_msync(struct vm_proc *p, vaddr_t va, vsize_t len)
{
	if (!range_ok(va, len))
		return VM_EINVAL;
	vaddr_t end = va + len;
	vm_lock();
	if (!covered(p, va, end)) {
		vm_unlock();
		return VM_ENOMEM;
	}
	for (struct vm_entry *e = p->p_map; e != NULL && e->e_start < end; e = e->e_next) {
		if (e->e_end <= va || e->e_file == NULL || e->e_amap != NULL)
			continue;	/* only a shared file mapping writes its file */
		vaddr_t s = e->e_start > va ? e->e_start : va, t = e->e_end < end ? e->e_end : end;
		for (vaddr_t v = s; v < t; v += PAGE_SIZE)
			file_writeback(e->e_file->f_pg[e->e_foff + (v - e->e_start) / PAGE_SIZE]);
	}
	vm_unlock();
	return 0;
}

void
vm_fsync(struct vm_file *f)
{
	vm_lock();
	for (uint64_t i = 0; i < f->f_npages; i++)
		file_writeback(f->f_pg[i]);
	vm_unlock();
}

bool
vm_file_disk(struct vm_file *f, uint64_t i, uint8_t *page)
{
	vm_lock();
	bool in = i < f->f_npages;
	for (unsigned b = 0; in && b < PAGE_SIZE; b++)
		page[b] = f->f_disk[i] != NULL ? f->f_disk[i][b] : 0;
	vm_unlock();
	return in;
}
