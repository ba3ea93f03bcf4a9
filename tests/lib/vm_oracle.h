// SPDX-License-Identifier: BSD-2-Clause
/*
 * vm_oracle.h - the integrity oracle for the VM layer (vm/vm.h).
 *
 * A reference model of every address space - ranges with their
 * protection, private pages with fork's copy-on-write semantics, shared
 * objects, files mapped shared or private - that knows what each load must
 * return and whether each access must be refused; and of each file's
 * bytes, which read/write/sendfile and the disk after a write-back must
 * agree with.  Every store writes bytes recomputable from (pid,
 * address, sequence number); a load that returns anything else is a lost
 * byte.  Swap-out/in, COW breaks and every shootdown are checked by that
 * one comparison.
 *
 * One model process per VM process; a model process is used by one CPU at
 * a time (its process's), so it needs no lock.  Shared objects must be
 * accessed under the caller's own lock if two CPUs may touch them at once;
 * so must files (a private mapping's untouched pages show its file).
 */
#ifndef PMAP_TESTS_VM_ORACLE_H
#define PMAP_TESTS_VM_ORACLE_H

#include "ptest.h"
#include "vm.h"

struct vo_page {
	int vg_ref;			/* model processes sharing it (COW); atomic:
					 * sharers run on different CPUs */
	uint8_t vg_b[PAGE_SIZE];
};

struct vo_shared {
	int vs_ref;
	uint64_t vs_npages;
	struct vo_page **vs_pg;		/* owned; NULL: zeros */
};

/* A file: its bytes as every mapping, read and sendfile must see them. */
struct vo_file {
	struct vm_file *vf_vm;
	uint64_t vf_npages;
	uint8_t *vf_b;
};

#define VO_MAXRANGES 64
struct vo_range {
	vaddr_t r_start, r_end;
	vm_prot_t r_prot;
	struct vo_shared *r_sh;		/* NULL: private (or a file) */
	uint64_t r_off;			/* page index into r_sh */
	struct vo_file *r_file;		/* a file mapping */
	uint64_t r_foff;		/* page index into r_file */
	bool r_fshared;			/* stores reach the file */
};

struct vo_proc {
	struct vm_proc *o_vm;
	int o_pid;
	int o_nr;
	struct vo_range o_r[VO_MAXRANGES];
	uint64_t o_cap, o_n;		/* private pages: open addressing */
	uint64_t *o_key;		/* vpn + 1; 0 empty; ~0 deleted */
	struct vo_page **o_val;
	uint64_t o_seq;
	/* o_checked is read by other CPUs for progress lines: atomic, aligned */
	uint64_t o_checked __attribute__((aligned(8)));
	uint64_t o_lost, o_wrong_signal, o_signals;
};

static inline void *
vo_zalloc(size_t n)
{
	void *p = vm_host_zalloc(n);
	if (p == NULL)
		__builtin_trap();
	return p;
}

static inline uint64_t
vo_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	return k ^ (k >> 29);
}

static inline struct vo_page **
vo_slot(struct vo_proc *o, uint64_t vpn, bool add)
{
	if (add && 2 * (o->o_n + 1) > o->o_cap) {
		uint64_t oc = o->o_cap, *ok = o->o_key;
		struct vo_page **ov = o->o_val;
		o->o_cap = oc ? 2 * oc : 64;
		o->o_key = vo_zalloc(o->o_cap * sizeof(*o->o_key));
		o->o_val = vo_zalloc(o->o_cap * sizeof(*o->o_val));
		o->o_n = 0;
		for (uint64_t i = 0; i < oc; i++)
			if (ok[i] != 0 && ok[i] != ~0ULL) {
				*vo_slot(o, ok[i] - 1, true) = ov[i];
			}
		vm_host_free(ok);
		vm_host_free(ov);
	}
	if (o->o_cap == 0)
		return NULL;
	uint64_t m = o->o_cap - 1, i = vo_hash(vpn) & m, tomb = ~0ULL;
	for (;; i = (i + 1) & m) {
		if (o->o_key[i] == vpn + 1)
			return &o->o_val[i];
		if (o->o_key[i] == ~0ULL && tomb == ~0ULL)
			tomb = i;
		if (o->o_key[i] == 0) {
			if (!add)
				return NULL;
			if (tomb != ~0ULL)
				i = tomb;
			o->o_key[i] = vpn + 1;
			o->o_val[i] = NULL;
			o->o_n++;
			return &o->o_val[i];
		}
	}
}

static inline void
vo_page_unref(struct vo_page *g)
{
	if (g != NULL && __atomic_sub_fetch(&g->vg_ref, 1, __ATOMIC_ACQ_REL) == 0)
		vm_host_free(g);
}

static inline void
vo_drop(struct vo_proc *o, uint64_t vpn)
{
	struct vo_page **s = vo_slot(o, vpn, false);
	if (s == NULL)
		return;
	vo_page_unref(*s);
	o->o_key[s - o->o_val] = ~0ULL;
}

static inline struct vo_proc *
vo_new(struct vm_proc *p)
{
	struct vo_proc *o = vo_zalloc(sizeof(*o));
	o->o_vm = p;
	o->o_pid = vm_proc_pid(p);
	return o;
}

/* A file of npages zero pages, in the VM and in the model. */
static inline struct vo_file *
vo_file_new(uint64_t npages)
{
	struct vo_file *f = vo_zalloc(sizeof(*f));
	f->vf_vm = vm_file_create(npages);
	if (f->vf_vm == NULL)
		__builtin_trap();
	f->vf_npages = npages;
	f->vf_b = vo_zalloc(npages * PAGE_SIZE);
	return f;
}

/* Close the VM's file (it lives on while mapped) and free the model's;
 * no model range may refer to it any more. */
static inline void
vo_file_free(struct vo_file *f)
{
	vm_file_close(f->vf_vm);
	vm_host_free(f->vf_b);
	vm_host_free(f);
}

static inline struct vo_range *
vo_find(struct vo_proc *o, vaddr_t va)
{
	for (int i = 0; i < o->o_nr; i++)
		if (va >= o->o_r[i].r_start && va < o->o_r[i].r_end)
			return &o->o_r[i];
	return NULL;
}

static inline void
vo_mmap(struct vo_proc *o, vaddr_t va, vsize_t len, vm_prot_t prot, bool shared)
{
	struct vo_range *r = &o->o_r[o->o_nr++];
	*r = (struct vo_range){ .r_start = va, .r_end = va + len, .r_prot = prot };
	if (shared) {
		r->r_sh = vo_zalloc(sizeof(*r->r_sh));
		r->r_sh->vs_ref = 1;
		r->r_sh->vs_npages = len / PAGE_SIZE;
		r->r_sh->vs_pg = vo_zalloc(sizeof(struct vo_page *) * (len / PAGE_SIZE));
	}
}

/* The model of vm_mmap_file(o's process, va, len, prot, shared or private,
 * f, off). */
static inline void
vo_mmap_file(struct vo_proc *o, vaddr_t va, vsize_t len, vm_prot_t prot, bool shared,
    struct vo_file *f, uint64_t off)
{
	o->o_r[o->o_nr++] = (struct vo_range){ .r_start = va, .r_end = va + len,
		.r_prot = prot, .r_file = f, .r_foff = off / PAGE_SIZE, .r_fshared = shared };
}

/* The part [s, e) of range r. */
static inline struct vo_range
vo_piece(const struct vo_range *r, vaddr_t s, vaddr_t e, vm_prot_t prot)
{
	struct vo_range p = *r;
	p.r_start = s;
	p.r_end = e;
	p.r_prot = prot;
	p.r_off += (s - r->r_start) / PAGE_SIZE;
	p.r_foff += (s - r->r_start) / PAGE_SIZE;
	return p;
}

static inline void
vo_shared_unref(struct vo_shared *sh)
{
	if (sh == NULL || --sh->vs_ref > 0)
		return;
	for (uint64_t i = 0; i < sh->vs_npages; i++)
		vo_page_unref(sh->vs_pg[i]);
	vm_host_free(sh->vs_pg);
	vm_host_free(sh);
}

/* Cut [va, end) out of every range (splitting), running fn on the cut
 * parts; mode 0: unmap, 1: set prot. */
static inline void
vo_cut(struct vo_proc *o, vaddr_t va, vaddr_t end, int mode, vm_prot_t prot)
{
	for (int i = 0; i < o->o_nr; i++) {
		struct vo_range r = o->o_r[i];
		if (r.r_end <= va || r.r_start >= end)
			continue;
		vaddr_t s = r.r_start > va ? r.r_start : va, e = r.r_end < end ? r.r_end : end;
		/* The pieces outside stay as they were. */
		int n = 0;
		struct vo_range piece[3];
		if (r.r_start < s)
			piece[n++] = vo_piece(&r, r.r_start, s, r.r_prot);
		if (mode == 1)
			piece[n++] = vo_piece(&r, s, e, prot);
		if (e < r.r_end)
			piece[n++] = vo_piece(&r, e, r.r_end, r.r_prot);
		if (mode == 0)
			for (vaddr_t v = s; v < e; v += PAGE_SIZE)
				vo_drop(o, v / PAGE_SIZE);
		if (r.r_sh != NULL) {
			r.r_sh->vs_ref += n;
			vo_shared_unref(r.r_sh);
		}
		if (n == 0) {
			o->o_r[i] = o->o_r[--o->o_nr];
			i--;
			continue;
		}
		o->o_r[i] = piece[0];
		for (int k = 1; k < n; k++)
			o->o_r[o->o_nr++] = piece[k];
	}
}

static inline void
vo_munmap(struct vo_proc *o, vaddr_t va, vsize_t len)
{
	vo_cut(o, va, va + len, 0, 0);
}

static inline void
vo_mprotect(struct vo_proc *o, vaddr_t va, vsize_t len, vm_prot_t prot)
{
	vo_cut(o, va, va + len, 1, prot);
}

static inline struct vo_proc *
vo_fork(struct vo_proc *o, struct vm_proc *child)
{
	struct vo_proc *c = vo_new(child);
	c->o_nr = o->o_nr;
	for (int i = 0; i < o->o_nr; i++) {
		c->o_r[i] = o->o_r[i];
		if (o->o_r[i].r_sh != NULL)
			o->o_r[i].r_sh->vs_ref++;
	}
	for (uint64_t i = 0; i < o->o_cap; i++)
		if (o->o_key[i] != 0 && o->o_key[i] != ~0ULL && o->o_val[i] != NULL) {
			__atomic_fetch_add(&o->o_val[i]->vg_ref, 1, __ATOMIC_RELAXED);
			*vo_slot(c, o->o_key[i] - 1, true) = o->o_val[i];
		}
	return c;
}

static inline void
vo_free(struct vo_proc *o)
{
	for (uint64_t i = 0; i < o->o_cap; i++)
		if (o->o_key[i] != 0 && o->o_key[i] != ~0ULL)
			vo_page_unref(o->o_val[i]);
	for (int i = 0; i < o->o_nr; i++)
		vo_shared_unref(o->o_r[i].r_sh);
	vm_host_free(o->o_key);
	vm_host_free(o->o_val);
	vm_host_free(o);
}

/* The model page holding va (r its range, not a shared file): NULL reads
 * as zeros - or as the file, in a private file mapping. */
static inline struct vo_page **
vo_page_of(struct vo_proc *o, struct vo_range *r, vaddr_t va, bool add)
{
	if (r->r_sh != NULL)
		return &r->r_sh->vs_pg[r->r_off + (va - r->r_start) / PAGE_SIZE];
	return vo_slot(o, va / PAGE_SIZE, add);
}

static inline uint8_t *
vo_file_page(struct vo_range *r, vaddr_t va)
{
	return r->r_file->vf_b + (r->r_foff + (va - r->r_start) / PAGE_SIZE) * PAGE_SIZE;
}

/* The bytes a load of va's page must see (r its range); NULL: zeros. */
static inline const uint8_t *
vo_load_page(struct vo_proc *o, struct vo_range *r, vaddr_t va)
{
	if (r->r_file != NULL && r->r_fshared)
		return vo_file_page(r, va);
	struct vo_page **pp = vo_page_of(o, r, va, false);
	if (pp != NULL && *pp != NULL)
		return (*pp)->vg_b;
	return r->r_file != NULL ? vo_file_page(r, va) : NULL;
}

/* The bytes a store to va's page writes, made the process's own first
 * where fork's or a private mapping's semantics say so. */
static inline uint8_t *
vo_store_page(struct vo_proc *o, struct vo_range *r, vaddr_t va)
{
	if (r->r_file != NULL && r->r_fshared)
		return vo_file_page(r, va);
	struct vo_page **pp = vo_page_of(o, r, va, true);
	/* A sharer never writes in place, and the count only falls while
	 * shared: copying before dropping our reference is safe. */
	if (*pp == NULL || __atomic_load_n(&(*pp)->vg_ref, __ATOMIC_ACQUIRE) > 1) {
		struct vo_page *n = vo_zalloc(sizeof(*n));
		n->vg_ref = 1;
		const uint8_t *from = *pp != NULL ? (*pp)->vg_b :
		    r->r_file != NULL ? vo_file_page(r, va) : NULL;
		for (unsigned i = 0; from != NULL && i < PAGE_SIZE; i++)
			n->vg_b[i] = from[i];
		vo_page_unref(*pp);
		*pp = n;
	}
	return (*pp)->vg_b;
}

/* The byte a store of sequence seq by pid writes at va. */
static inline uint8_t
vo_value(int pid, vaddr_t va, uint64_t seq)
{
	return (uint8_t)(vo_hash(((uint64_t)pid << 48) ^ (uint64_t)va ^ (seq << 20)) >> 24);
}

/* What the VM must answer for an access of kind (0 load, 1 store, 2
 * fetch) at va: 0 allowed, else the signal kind. */
static inline int
vo_expect(struct vo_proc *o, int kind, vaddr_t va)
{
	static const vm_prot_t need[3] = { VM_PROT_READ, VM_PROT_WRITE, VM_PROT_EXECUTE };
	struct vo_range *r = vo_find(o, va);
	if (r == NULL)
		return VM_FK_NOMAP;
	return (r->r_prot & need[kind]) == need[kind] ? 0 : VM_FK_PROT;
}

/*
 * One access of the running process (o's, on this CPU): size 1..8,
 * naturally aligned.  Checks the outcome against the model (a signal
 * where none is due, or none where one is, counts as wrong) and a load's
 * bytes against the model (each differing byte is lost; the first few are
 * reported).  Returns 0 or the signal kind the VM gave.
 */
static inline int
vo_access(struct vo_proc *o, int kind, vaddr_t va, int size)
{
	int want = vo_expect(o, kind, va);
	uint64_t v = 0;
	int got;
	uint64_t seq = ++o->o_seq;
	if (kind == 1)
		for (int i = 0; i < size; i++)
			v |= (uint64_t)vo_value(o->o_pid, va + i, seq) << (8 * i);
	got = kind == 0 ? vm_uload(va, size, &v) : kind == 1 ? vm_ustore(va, size, v) :
	    vm_ufetch(va);
	__atomic_store_n(&o->o_checked, o->o_checked + 1, __ATOMIC_RELAXED);	/* one writer */
	if (got != want) {
		if (o->o_wrong_signal++ < 5)
			tap_diag("pid %d: %s at %#llx: the VM said %d, the model %d", o->o_pid,
			    kind == 0 ? "load" : kind == 1 ? "store" : "fetch",
			    (unsigned long long)va, got, want);
		return got;
	}
	if (got != 0) {
		o->o_signals++;
		return got;
	}
	if (kind == 2)
		return 0;
	struct vo_range *r = vo_find(o, va);
	unsigned off = (unsigned)(va & PAGE_MASK);
	if (kind == 1) {
		uint8_t *b = vo_store_page(o, r, va);
		for (int i = 0; i < size; i++)
			b[off + i] = (uint8_t)(v >> (8 * i));
		return 0;
	}
	const uint8_t *b = vo_load_page(o, r, va);
	for (int i = 0; i < size; i++) {
		uint8_t want_b = b != NULL ? b[off + i] : 0;
		uint8_t got_b = (uint8_t)(v >> (8 * i));
		if (got_b != want_b && o->o_lost++ < 10)
			tap_diag("LOST: pid %d va %#llx: read %#x, the model says %#x", o->o_pid,
			    (unsigned long long)(va + i), got_b, want_b);
	}
	return 0;
}

/* ---- file I/O: each call checked against the model ---- */

/* The first address of [va, va+len) whose page refuses an access of kind
 * (va+len when none does). */
static inline vaddr_t
vo_first_refused(struct vo_proc *o, int kind, vaddr_t va, uint64_t len)
{
	for (vaddr_t p = va; p < va + len; p = (p & ~(vaddr_t)PAGE_MASK) + PAGE_SIZE)
		if (vo_expect(o, kind, p) != 0)
			return p;
	return va + len;
}

static inline void
vo_io_answer(struct vo_proc *o, const char *what, int got, int want)
{
	__atomic_store_n(&o->o_checked, o->o_checked + 1, __ATOMIC_RELAXED);
	if (got != want && o->o_wrong_signal++ < 5)
		tap_diag("pid %d: %s answered %d, the model %d", o->o_pid, what, got, want);
}

/*
 * read(2) (to_file false) or write(2) between f at off and the running
 * process (o's) at uva: the VM's answer must be the model's (VM_EINVAL
 * outside the file; VM_EFAULT where the user memory refuses the access,
 * the bytes before it copied), and the model copies what the VM copied.
 * Returns the VM's answer.
 */
static inline int
vo_file_rw(struct vo_proc *o, struct vo_file *f, uint64_t off, vaddr_t uva, uint64_t len,
    bool to_file)
{
	bool inside = off <= f->vf_npages * PAGE_SIZE && len <= f->vf_npages * PAGE_SIZE - off;
	vaddr_t stop = inside ? vo_first_refused(o, to_file ? 0 : 1, uva, len) : uva;
	int want = !inside ? VM_EINVAL : stop < uva + len ? VM_EFAULT : 0;
	int got = to_file ? vm_write(f->vf_vm, off, uva, len) : vm_read(f->vf_vm, off, uva, len);
	vo_io_answer(o, to_file ? "write" : "read", got, want);
	for (vaddr_t a = uva; a < stop;) {
		/* A page of the user side at a time. */
		struct vo_range *r = vo_find(o, a);
		vaddr_t pend = (a & ~(vaddr_t)PAGE_MASK) + PAGE_SIZE;
		const uint8_t *lb = to_file ? vo_load_page(o, r, a) : NULL;
		uint8_t *sb = to_file ? NULL : vo_store_page(o, r, a);
		for (; a < stop && a < pend; a++) {
			uint8_t *fb = &f->vf_b[off + (a - uva)];
			if (to_file)
				*fb = lb != NULL ? lb[a & PAGE_MASK] : 0;
			else
				sb[a & PAGE_MASK] = *fb;
		}
	}
	return got;
}

struct vo_sink {
	struct vo_proc *o;
	const uint8_t *want;
	uint64_t at, len;
};

static inline void
vo_sink_cb(const uint8_t *data, size_t n, void *arg)
{
	struct vo_sink *k = arg;
	for (size_t i = 0; i < n; i++, k->at++) {
		uint8_t want = k->at < k->len ? k->want[k->at] : 0;
		if ((k->at >= k->len || data[i] != want) && k->o->o_lost++ < 10)
			tap_diag("LOST: pid %d: sendfile byte %llu is %#x, the file says %#x",
			    k->o->o_pid, (unsigned long long)k->at, data[i], want);
	}
}

/* sendfile(2) of f's [off, off+len) on behalf of o: every byte that
 * reaches the sink must be the file's, and all of them must. */
static inline int
vo_sendfile(struct vo_proc *o, struct vo_file *f, uint64_t off, uint64_t len)
{
	bool inside = off <= f->vf_npages * PAGE_SIZE && len <= f->vf_npages * PAGE_SIZE - off;
	struct vo_sink k = { o, f->vf_b + (inside ? off : 0), 0, len };
	int got = vm_sendfile(f->vf_vm, off, len, vo_sink_cb, &k);
	vo_io_answer(o, "sendfile", got, inside ? 0 : VM_EINVAL);
	if (got == 0 && k.at != len && o->o_lost++ < 10)
		tap_diag("LOST: pid %d: sendfile delivered %llu of %llu bytes", o->o_pid,
		    (unsigned long long)k.at, (unsigned long long)len);
	return got;
}

/* Compare f's disk with the model: the bytes that differ (one caller at a
 * time). */
static inline uint64_t
vo_file_disk_diff(struct vo_file *f)
{
	static uint8_t page[PAGE_SIZE];
	uint64_t bad = 0;
	for (uint64_t i = 0; i < f->vf_npages; i++) {
		if (!vm_file_disk(f->vf_vm, i, page))
			return ~0ULL;
		for (unsigned b = 0; b < PAGE_SIZE; b++)
			if (page[b] != f->vf_b[i * PAGE_SIZE + b] && bad++ < 5)
				tap_diag("disk: file page %llu byte %u is %#x, the model says %#x",
				    (unsigned long long)i, b, page[b], f->vf_b[i * PAGE_SIZE + b]);
	}
	return bad;
}

#endif
