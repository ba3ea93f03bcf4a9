// SPDX-License-Identifier: BSD-2-Clause
/*
 * vm.h - a small virtual-memory system built on libpmap.
 *
 * The client a pmap exists for: address spaces of map entries (anonymous
 * private and shared memory, and files of a small in-memory file store,
 * mapped private or shared), a fault handler (zero fill, copy-on-write,
 * page-in from swap or from a file), fork and exit, read/write/sendfile
 * copying file data through sf_bufs, msync, a clock pagedaemon that
 * writes dirty anonymous pages to a swap area and dirty file pages back to
 * their file, wired kernel buffers the pagedaemon never takes, and a
 * crash-dump walk of physical memory through
 * pmap_kenter_temporary.  It uses nothing but
 * <pmap/pmap.h> and the portable test API (tests/lib/ptest.h), so it runs
 * on every machine and arch the library runs on.
 *
 * Locking: one VM lock (a spin lock whose waiters keep taking interrupts,
 * so shootdowns sent by its holder are answered) serialises every change
 * to address spaces, objects, anons and pages.  User accesses
 * (vm_uload/vm_ustore/vm_ufetch) run without it, on the MMU, in parallel
 * on every CPU: only the pmap keeps them coherent with what the VM does
 * under the lock - which is the point.
 *
 * Errors: a call with bad arguments (misaligned, out of user space) returns
 * an errno value and changes nothing.
 */
#ifndef PMAP_VM_VM_H
#define PMAP_VM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pmap/pmap.h>

/* errno values the VM returns (the usual numbers). */
#define VM_EINVAL	22
#define VM_ENOMEM	12
#define VM_EFAULT	14

struct vm_config {
	uint64_t vc_pages;	/* physical pages the VM may hold (the "RAM") */
	uint64_t vc_swap_pages;	/* swap slots; 0: 1 << 20 */
	/* The pagedaemon runs when free pages fall below vc_low and frees
	 * until vc_high are free; 0: 1/32 and 1/16 of vc_pages (at least 2, 4) */
	uint64_t vc_low, vc_high;
	/* Clean (write back) dirty referenced pages as the clock passes them,
	 * so that evicting them later is cheap (the laundry). */
	bool vc_launder;
	/* How page-ins and page-outs reach a page: an sf_buf (true) or a quick
	 * mapping (false). */
	bool vc_swap_sfbuf;
};

/* The host supplies the VM's own kernel memory (zeroed; NULL when none). */
void *vm_host_zalloc(size_t size);
void vm_host_free(void *p);

/* Take the VM's memory budget; on CPU 0, after the library is booted. */
int vm_boot(const struct vm_config *c);
/* Every process must have exited, checks that the
 * VM holds no page and no swap slot (returns false and says why in text if
 * it does), then releases the VM's own memory. */
bool vm_shutdown(char *text, size_t len);

/* ---- processes ---- */

struct vm_proc;
struct vm_proc *vm_proc_create(void);
/* fork: a child with a copy-on-write copy of p's private memory and the
 * same shared memory; NULL when out of memory. */
struct vm_proc *vm_fork(struct vm_proc *p);
/* exit: every mapping and page of p's address space goes.  p must not be
 * running on any CPU. */
void vm_exit(struct vm_proc *p);
int vm_proc_pid(const struct vm_proc *p);
pmap_t vm_proc_pmap(const struct vm_proc *p);
/* Context switch on this CPU: deactivate what ran, activate p (NULL: a
 * kernel thread). */
void vm_switch(struct vm_proc *p);
struct vm_proc *vm_curproc(void);

/* ---- address space ---- */

#define VM_MAP_PRIVATE	0x1	/* copy-on-write: fork gives the child a copy */
#define VM_MAP_SHARED	0x2	/* fork shares it; writes reach the object */
#define VM_MAP_FILE	0x4	/* (vm_map_entry only) backed by a file */

/* Map anonymous memory [va, va+len) at exactly va (page aligned, in user
 * space, over nothing mapped).  VM_MAP_PRIVATE: copy-on-write at fork;
 * VM_MAP_SHARED: one shared object, fork shares it.  0 or VM_EINVAL (bad
 * arguments, overlap). */
int vm_mmap(struct vm_proc *p, vaddr_t va, vsize_t len, vm_prot_t prot, int flags);
/* Unmap whatever is mapped in [va, va+len) (may split entries). */
int vm_munmap(struct vm_proc *p, vaddr_t va, vsize_t len);
/* Change the protection of [va, va+len), which must be mapped entirely
 * (else VM_ENOMEM, as POSIX says, changing nothing). */
int vm_mprotect(struct vm_proc *p, vaddr_t va, vsize_t len, vm_prot_t prot);

/* ---- files ---- */

/*
 * A file of the in-memory file store: npages pages, all zero at first,
 * kept on a "disk" (host memory) and cached in pages of the VM's memory
 * while in use - the same page for every mapping, read, write and
 * sendfile, so they all see one another's data.  A dirty cached page goes
 * back to the disk when the pagedaemon takes it, on vm_msync/vm_fsync, or
 * as the laundry passes.
 */
struct vm_file;
/* A new file (NULL when out of kernel memory). */
struct vm_file *vm_file_create(uint64_t npages);
/* Drop the creator's handle: the file (its pages and disk) goes when the
 * last mapping of it goes too.  No read/write/sendfile may be running on it. */
void vm_file_close(struct vm_file *f);
uint64_t vm_file_pages(const struct vm_file *f);

/* Map [va, va+len) of p to the file's pages from byte offset off (page
 * aligned; the range must lie inside the file).  VM_MAP_SHARED: stores
 * reach the file; VM_MAP_PRIVATE: a store copies the page first (the
 * copy is p's own, copy-on-write at fork), pages never written show the
 * file as it is now.  0 or VM_EINVAL. */
int vm_mmap_file(struct vm_proc *p, vaddr_t va, vsize_t len, vm_prot_t prot, int flags,
    struct vm_file *f, uint64_t off);

/* read(2)/write(2) at a file offset: copy len bytes between the file and
 * the running process's memory at uva (the user side takes faults as user
 * accesses do), a page at a time through an sf_buf.  0; VM_EINVAL when the
 * range is not inside the file; VM_EFAULT when the user memory faulted
 * (the bytes before it were copied); VM_ENOMEM when no page could be found. */
int vm_read(struct vm_file *f, uint64_t off, vaddr_t uva, vsize_t len);
int vm_write(struct vm_file *f, uint64_t off, vaddr_t uva, vsize_t len);
/* sendfile(2): the file's bytes [off, off+len) handed to sink in order,
 * read by the kernel through sf_bufs (several pages in flight at once, as
 * a socket buffer holds them) with no copy into the process.  0,
 * VM_EINVAL or VM_ENOMEM. */
int vm_sendfile(struct vm_file *f, uint64_t off, uint64_t len,
    void (*sink)(const uint8_t *data, size_t n, void *arg), void *arg);
/* Write back the dirty pages of the shared file mappings in [va, va+len),
 * which must be mapped entirely (else VM_ENOMEM, nothing written). */
int vm_msync(struct vm_proc *p, vaddr_t va, vsize_t len);
/* Write back every dirty cached page of f. */
void vm_fsync(struct vm_file *f);
/* What the disk holds for page i of f (zeros where never written back);
 * false when i is past the end. */
bool vm_file_disk(struct vm_file *f, uint64_t i, uint8_t *page);

/* ---- faults and user accesses ---- */

enum vm_fault_kind {
	VM_FK_ZERO,		/* zero fill of a new anonymous page */
	VM_FK_COW,		/* copy-on-write break: the page copied */
	VM_FK_COW_REUSE,	/* write to a COW page no one else shares any more */
	VM_FK_SWAPIN,		/* page-in from swap */
	VM_FK_FILEIN,		/* page-in from a file */
	VM_FK_SOFT,		/* the page was resident: mapped again */
	VM_FK_PROT,		/* SIGSEGV: the mapping forbids the access */
	VM_FK_NOMAP,		/* SIGSEGV: nothing mapped there */
	VM_FK_OOM,		/* no memory could be found */
	VM_FK_COUNT
};

/* Resolve a fault of p at va for access (VM_PROT_READ/WRITE/EXECUTE):
 * the kind of fault it was; the access may be retried unless the kind is
 * VM_FK_PROT, VM_FK_NOMAP or VM_FK_OOM. */
enum vm_fault_kind vm_fault(struct vm_proc *p, vaddr_t va, vm_prot_t access);

/* Accesses by the running process (vm_curproc() on this CPU) through the
 * MMU in user mode, taking and resolving its faults: 0, or the failing
 * kind (VM_FK_PROT, VM_FK_NOMAP, VM_FK_OOM - a signal) with nothing
 * stored.  size 1, 2, 4 or 8, naturally aligned. */
int vm_uload(vaddr_t va, int size, uint64_t *val);
int vm_ustore(vaddr_t va, int size, uint64_t val);
int vm_ufetch(vaddr_t va);

/* ---- the kernel's wired buffers ---- */

/* npages of zeroed kernel memory entered wired in the kernel pmap (at most
 * 64 pages in all): never paged out.  Its kernel address, 0 when out of
 * memory or kernel VA. */
vaddr_t vm_kbuf_alloc(unsigned npages);
void vm_kbuf_free(vaddr_t kva, unsigned npages);

/* ---- the pagedaemon ---- */

/* Run the clock until at least target pages are free or a full sweep
 * finds nothing more to take; the number of pages freed.  The allocator
 * runs it by itself below the low-water mark. */
uint64_t vm_pagedaemon(uint64_t target);

/* ---- observing ---- */

struct vm_stats {
	uint64_t vs_faults[VM_FK_COUNT];
	uint64_t vs_pageouts_swap;	/* dirty anonymous pages written to swap */
	uint64_t vs_pageouts_file;	/* dirty file pages written back when evicted */
	uint64_t vs_file_writebacks;	/* file pages written back by msync/fsync/laundry */
	uint64_t vs_file_read_pages, vs_file_write_pages, vs_sendfile_pages;
	uint64_t vs_files;		/* files open or mapped */
	uint64_t vs_reclaims_clean;	/* clean pages dropped without I/O */
	uint64_t vs_laundered;		/* pages cleaned but kept resident */
	uint64_t vs_daemon_runs, vs_daemon_scanned, vs_daemon_referenced;
	uint64_t vs_forks, vs_exits;
	uint64_t vs_pages, vs_pages_used, vs_pages_peak, vs_pages_wired;
	uint64_t vs_swap_used, vs_swap_peak;
	uint64_t vs_sfbuf_copies, vs_quick_copies;	/* pages copied through each */
	uint64_t vs_enter_retries;	/* pmap_enter ENOMEM retried after a reclaim */
};
void vm_get_stats(struct vm_stats *s);

/* What backs p's page at va, for a residency map. */
enum vm_residency {
	VM_RES_NONE = '.',	/* nothing there yet (never touched) */
	VM_RES_PRIVATE = 'R',	/* resident, this process's own */
	VM_RES_COW = 'C',	/* resident, shared copy-on-write with others */
	VM_RES_SHARED = 'S',	/* resident page of a shared mapping / file */
	VM_RES_FILE = 'f',	/* a file's page, not resident (on its disk) */
	VM_RES_WIRED = 'W',	/* resident and wired */
	VM_RES_SWAPPED = 's',	/* in swap */
};
enum vm_residency vm_residency(struct vm_proc *p, vaddr_t va);
/* p's map entries in address order: the ith, false past the last. */
bool vm_map_entry(struct vm_proc *p, int i, vaddr_t *start, vaddr_t *end,
    vm_prot_t *prot, int *flags);

/* Crash-dump walk: every page of physical memory (ptest_phys_segments)
 * mapped in turn with pmap_kenter_temporary and checksummed through that
 * mapping by kernel loads; cb gets each page's address and checksum.
 * Returns the pages walked.  Run it with the other CPUs quiet. */
uint64_t vm_dump_walk(void (*cb)(paddr_t pa, uint64_t sum, void *arg), void *arg);
/* The same checksum of a page-sized buffer, so a caller can compare. */
uint64_t vm_checksum(const uint8_t *page);
/* The physical address of the resident page p has at va, if any. */
bool vm_resident_pa(struct vm_proc *p, vaddr_t va, paddr_t *pa);

/* Check the VM's own invariants (page counts, anon references, every
 * resident private page mapped at most where the map says) and the pmaps'
 * (pmap_check_pmap/pmap_check_page); false with the first problem. */
bool vm_check(char *text, size_t len);

#endif
