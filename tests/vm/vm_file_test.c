// SPDX-License-Identifier: BSD-2-Clause
/*
 * vm_file_test.c - files in the VM layer (vm/), checked by the integrity
 * oracle: shared file mappings (stores reach the file and every other
 * mapping; msync writes back exactly the dirty pages; the pagedaemon
 * writes dirty file pages back and page-in reads them again), private
 * file mappings (the file shows through until a store copies the page;
 * fork's copy-on-write on top), read/write/sendfile through sf_bufs
 * (unaligned, across pages, with the user side faulting, EINVAL and
 * EFAULT exactly), a write(2) dirtying a page no pmap saw being written,
 * and several processes on every CPU working their files under memory
 * pressure.  Every load is compared with the model, every file's disk
 * with the model's bytes.
 */
#include "vm_util.h"

#define VM_PAGES	64
#define FMAP		((vaddr_t)0x10000000)	/* a file's shared mapping */
#define FMAP2		((vaddr_t)0x18000000)	/* another mapping of it */
#define PMAP_AT		((vaddr_t)0x20000000)	/* a private file mapping */
#define UBUF		((vaddr_t)0x30000000)	/* a process's buffer (anonymous) */

static const vm_prot_t RW = VM_PROT_READ | VM_PROT_WRITE;

static struct vm_stats
stats(void)
{
	struct vm_stats s;
	vm_get_stats(&s);
	return s;
}

static struct vo_proc *
proc_with_buffer(int pages)
{
	struct vm_proc *p = vm_proc_create();
	struct vo_proc *o = vo_new(p);
	if (vm_mmap(p, UBUF, (vsize_t)pages * PAGE_SIZE, RW, VM_MAP_PRIVATE) != 0)
		__builtin_trap();
	vo_mmap(o, UBUF, (vsize_t)pages * PAGE_SIZE, RW, false);
	return o;
}

static void
done(struct vo_proc *o)
{
	vm_switch(NULL);
	vm_exit(o->o_vm);
	vo_free(o);
}

/* ---- shared file mappings, msync, write-back by the pagedaemon ---- */

static void
t_shared(void)
{
	struct vo_file *f = vo_file_new(8);
	struct vo_proc *o = proc_with_buffer(1);
	struct vm_proc *p = o->o_vm;
	is_int(vm_mmap_file(p, FMAP, 8 * PAGE_SIZE, RW, VM_MAP_SHARED, f->vf_vm, 0), 0,
	    "map an 8-page file shared");
	vo_mmap_file(o, FMAP, 8 * PAGE_SIZE, RW, true, f, 0);
	is_int(vm_residency(p, FMAP), VM_RES_FILE, "an untouched page of it is on its disk");
	touch(o, FMAP, 8, 0);
	ok(clean_run(o), "a new file reads as zeros");
	touch(o, FMAP, 8, 1);
	is_int(vm_residency(p, FMAP + 3 * PAGE_SIZE), VM_RES_SHARED, "a written page is resident");

	/* A second process maps part of it elsewhere, read-only. */
	struct vo_proc *o2 = vo_new(vm_proc_create());
	is_int(vm_mmap_file(o2->o_vm, FMAP2, 4 * PAGE_SIZE, VM_PROT_READ, VM_MAP_SHARED,
	    f->vf_vm, 2 * PAGE_SIZE), 0, "another process maps pages 2..5 read-only");
	vo_mmap_file(o2, FMAP2, 4 * PAGE_SIZE, VM_PROT_READ, true, f, 2 * PAGE_SIZE);
	touch(o2, FMAP2, 4, 0);
	ok(clean_run(o2), "it reads the first process's stores");
	vm_switch(o2->o_vm);
	is_int(vo_access(o2, 1, FMAP2, 8), VM_FK_PROT, "and may not store there");
	vm_switch(NULL);

	/* msync: exactly the dirty pages go back, once. */
	struct vm_stats s0 = stats();
	is_int(vm_msync(p, FMAP, 8 * PAGE_SIZE), 0, "msync the mapping");
	struct vm_stats s1 = stats();
	is_u64(s1.vs_file_writebacks - s0.vs_file_writebacks, 8, "8 dirty pages written back");
	is_u64(vo_file_disk_diff(f), 0, "the disk holds what the stores wrote");
	is_int(vm_msync(p, FMAP, 8 * PAGE_SIZE), 0, "msync again");
	is_u64(stats().vs_file_writebacks - s1.vs_file_writebacks, 0, "nothing was dirty");
	vm_switch(p);
	vo_access(o, 1, FMAP + 5 * PAGE_SIZE + 8, 8);
	vm_switch(NULL);
	uint8_t disk[PAGE_SIZE];
	vm_file_disk(f->vf_vm, 5, disk);
	bool same = true;
	for (unsigned b = 0; b < PAGE_SIZE; b++)
		same &= disk[b] == f->vf_b[5 * PAGE_SIZE + b];
	ok(!same, "a store after it is not on the disk yet");
	is_int(vm_msync(p, FMAP + 4 * PAGE_SIZE, 2 * PAGE_SIZE), 0, "msync pages 4..5");
	is_u64(stats().vs_file_writebacks - s1.vs_file_writebacks, 1,
	    "only the page stored to went back");
	is_u64(vo_file_disk_diff(f), 0, "the disk has it");
	is_int(vm_msync(p, FMAP + 6 * PAGE_SIZE, 4 * PAGE_SIZE), VM_ENOMEM,
	    "msync over a hole: ENOMEM");
	is_int(vm_msync(p, FMAP + 1, PAGE_SIZE), VM_EINVAL, "msync misaligned: EINVAL");

	/* The pagedaemon writes back what it takes, and page-in reads it. */
	touch(o, FMAP, 3, 1);
	touch(o2, FMAP2, 1, 0);
	vm_switch(NULL);
	s0 = stats();
	vm_pagedaemon(VM_PAGES);
	s1 = stats();
	is_int(vm_residency(p, FMAP + 1 * PAGE_SIZE), VM_RES_FILE, "the pagedaemon took the file's pages");
	is_u64((s1.vs_pageouts_file + s1.vs_file_writebacks) -
	    (s0.vs_pageouts_file + s0.vs_file_writebacks), 3,
	    "and wrote back the 3 dirty ones (laundered or at eviction), no more");
	is_u64(vo_file_disk_diff(f), 0, "the disk holds every store");
	touch(o, FMAP, 8, 0);
	touch(o2, FMAP2, 4, 0);
	ok(clean_run(o) && clean_run(o2), "both processes read it all back");
	ok(stats().vs_faults[VM_FK_FILEIN] - s1.vs_faults[VM_FK_FILEIN] >= 8,
	    "as page-ins from the file");

	/* fork shares a shared file mapping. */
	vm_switch(NULL);
	struct vo_proc *oc = vo_fork(o, vm_fork(p));
	touch(oc, FMAP + 6 * PAGE_SIZE, 2, 1);
	touch(o, FMAP + 6 * PAGE_SIZE, 2, 0);
	touch(o2, FMAP2, 4, 0);
	ok(clean_run(o) && clean_run(oc), "a child's stores reach the parent's mapping");
	vm_ok("shared file mappings");
	audit_ok("shared file mappings");

	/* Closing the file does not unmap it: it lives while mapped. */
	struct vm_file *vf = f->vf_vm;
	vm_file_close(vf);
	f->vf_vm = NULL;
	touch(o, FMAP, 8, 0);
	ok(clean_run(o), "the file closed, its mapping still reads it");
	done(oc);
	done(o2);
	done(o);
	is_u64(stats().vs_files, 0, "the last unmapping released the file");
	is_u64(stats().vs_pages_used, 0, "and its pages");
	vm_host_free(f->vf_b);
	vm_host_free(f);
}

/* ---- private file mappings ---- */

static void
t_private(void)
{
	struct vo_file *f = vo_file_new(6);
	struct vo_proc *o = proc_with_buffer(6);
	struct vm_proc *p = o->o_vm;
	/* The file gets contents by write(2) from the buffer. */
	touch(o, UBUF, 6, 1);
	is_int(vo_file_rw(o, f, 0, UBUF, 6 * PAGE_SIZE, true), 0, "write 6 pages to the file");
	is_int(vm_mmap_file(p, PMAP_AT, 6 * PAGE_SIZE, RW, VM_MAP_PRIVATE, f->vf_vm, 0), 0,
	    "map it private, read-write");
	vo_mmap_file(o, PMAP_AT, 6 * PAGE_SIZE, RW, false, f, 0);
	touch(o, PMAP_AT, 6, 0);
	ok(clean_run(o), "the private mapping reads the file");
	struct vm_stats s0 = stats();
	touch(o, PMAP_AT, 2, 1);
	struct vm_stats s1 = stats();
	is_u64(s1.vs_faults[VM_FK_COW] - s0.vs_faults[VM_FK_COW], 2,
	    "a store to each of two pages copies it (2 COW breaks)");
	is_int(vm_residency(p, PMAP_AT), VM_RES_PRIVATE, "a written page is the process's own");
	is_int(vm_residency(p, PMAP_AT + 4 * PAGE_SIZE), VM_RES_SHARED,
	    "an unwritten one is the file's");
	vm_fsync(f->vf_vm);
	is_u64(vo_file_disk_diff(f), 0, "the file did not change");

	/* write(2) to the file shows through the unwritten pages only. */
	vm_switch(p);
	vo_access(o, 1, UBUF, 8);
	vo_access(o, 1, UBUF + PAGE_SIZE, 8);
	is_int(vo_file_rw(o, f, 0, UBUF, 8, true), 0, "write 8 bytes at page 0 of the file");
	is_int(vo_file_rw(o, f, 4 * PAGE_SIZE, UBUF + PAGE_SIZE, 8, true), 0,
	    "and at page 4");
	touch(o, PMAP_AT, 6, 0);
	ok(clean_run(o), "the copied page 0 kept its own data, page 4 shows the new file");

	/* fork: copies are COW between parent and child, the file shows through both. */
	vm_switch(NULL);
	struct vo_proc *oc = vo_fork(o, vm_fork(p));
	touch(oc, PMAP_AT, 6, 1);
	touch(o, PMAP_AT, 6, 0);
	touch(oc, PMAP_AT, 6, 0);
	ok(clean_run(o) && clean_run(oc), "the child's stores are its own");
	vm_fsync(f->vf_vm);
	is_u64(vo_file_disk_diff(f), 0, "and never reach the file");

	/* Everything out and back: copies from swap, file pages from the file. */
	vm_switch(NULL);
	vm_pagedaemon(VM_PAGES);
	is_u64(stats().vs_pages_used, 0, "the pagedaemon took every page");
	touch(o, PMAP_AT, 6, 0);
	touch(oc, PMAP_AT, 6, 0);
	ok(clean_run(o) && clean_run(oc), "private copies and file pages came back right");
	vm_ok("private file mappings");
	audit_ok("private file mappings");
	done(oc);
	done(o);
	vo_file_free(f);
	is_u64(stats().vs_pages_used, 0, "no page left");
}

/* ---- read/write/sendfile ---- */

static void
t_io(void)
{
	struct vo_file *f = vo_file_new(5);
	struct vo_proc *o = proc_with_buffer(6);
	struct vm_proc *p = o->o_vm;
	touch(o, UBUF, 6, 1);
	/* Unaligned in every way, across pages. */
	is_int(vo_file_rw(o, f, 100, UBUF + 3, 2 * PAGE_SIZE + 77, true), 0,
	    "write 8269 bytes at file offset 100 from a buffer at +3");
	is_int(vo_file_rw(o, f, 3 * PAGE_SIZE - 5, UBUF + 3 * PAGE_SIZE + 8, 2 * PAGE_SIZE + 5, true),
	    0, "write up to the end of the file");
	is_int(vo_file_rw(o, f, 61, UBUF + 2 * PAGE_SIZE + 1, 3 * PAGE_SIZE, false), 0,
	    "read 3 pages from offset 61 to +1");
	touch(o, UBUF, 6, 0);
	ok(clean_run(o), "the buffer holds what the file held");
	is_int(vo_file_rw(o, f, 5 * PAGE_SIZE - 4, UBUF, 8, false), VM_EINVAL,
	    "a read past the end: EINVAL");
	is_int(vo_file_rw(o, f, 5 * PAGE_SIZE, UBUF, 0, false), 0, "an empty read at the end: 0");
	is_int(vo_sendfile(o, f, 0, 5 * PAGE_SIZE), 0, "sendfile the whole file");
	is_int(vo_sendfile(o, f, 4095, 4099), 0, "sendfile an unaligned middle");
	is_int(vo_sendfile(o, f, 4 * PAGE_SIZE, PAGE_SIZE + 1), VM_EINVAL,
	    "sendfile past the end: EINVAL");

	/* The user side faults: a hole, a read-only page. */
	vm_munmap(p, UBUF + 5 * PAGE_SIZE, PAGE_SIZE);
	vo_munmap(o, UBUF + 5 * PAGE_SIZE, PAGE_SIZE);
	is_int(vo_file_rw(o, f, 0, UBUF + 4 * PAGE_SIZE + 16, 2 * PAGE_SIZE, false), VM_EFAULT,
	    "a read into a buffer running into a hole: EFAULT, the bytes before it copied");
	is_int(vo_file_rw(o, f, 0, UBUF + 4 * PAGE_SIZE + 16, 2 * PAGE_SIZE, true), VM_EFAULT,
	    "a write from it: EFAULT, the bytes before it written");
	vm_mprotect(p, UBUF + 3 * PAGE_SIZE, PAGE_SIZE, VM_PROT_READ);
	vo_mprotect(o, UBUF + 3 * PAGE_SIZE, PAGE_SIZE, VM_PROT_READ);
	is_int(vo_file_rw(o, f, 10, UBUF + 2 * PAGE_SIZE + 8, 2 * PAGE_SIZE, false), VM_EFAULT,
	    "a read into a read-only page: EFAULT");
	is_int(vo_file_rw(o, f, 10, UBUF + 3 * PAGE_SIZE, 100, true), 0,
	    "a write from a read-only page works");
	touch(o, UBUF, 3, 0);
	vo_sendfile(o, f, 0, 5 * PAGE_SIZE);
	ok(clean_run(o), "after the faults, buffer and file are what the model says");

	/* A write(2) dirties a page the pmap never saw written: the pagedaemon
	 * must still write it back. */
	vm_fsync(f->vf_vm);
	is_u64(vo_file_disk_diff(f), 0, "fsync: the disk is current");
	vm_switch(p);
	vo_access(o, 1, UBUF + 16, 8);
	is_int(vo_file_rw(o, f, 2 * PAGE_SIZE + 40, UBUF + 16, 8, true), 0,
	    "write 8 bytes to a clean resident page");
	vm_switch(NULL);
	vm_pagedaemon(VM_PAGES);
	is_u64(stats().vs_pages_used, 0, "the pagedaemon took every page");
	is_u64(vo_file_disk_diff(f), 0, "the written bytes reached the disk");

	/* The user buffer paged out: the copies fault it back in. */
	vm_switch(p);
	is_int(vo_file_rw(o, f, 0, UBUF, PAGE_SIZE, true), 0, "write from a paged-out buffer");
	vm_switch(NULL);
	vm_pagedaemon(VM_PAGES);
	vm_switch(p);
	is_int(vo_file_rw(o, f, PAGE_SIZE, UBUF + PAGE_SIZE, 2 * PAGE_SIZE, false), 0,
	    "read into a paged-out buffer from paged-out file pages");
	touch(o, UBUF, 3, 0);
	is_int(vo_sendfile(o, f, 0, 5 * PAGE_SIZE), 0, "sendfile of pages read back in");
	ok(clean_run(o), "every byte where the model says");
	ok(stats().vs_sendfile_pages >= 10 && stats().vs_file_read_pages > 0 &&
	    stats().vs_file_write_pages > 0, "the copies went through sf_bufs, page by page");
	vm_ok("file I/O");
	done(o);
	vo_file_free(f);
	audit_ok("file I/O");
}

/* ---- files under memory pressure on every CPU ---- */

#define NFP		4
#define FPAGES		20
#define STATIC_PAGES	12
#define QUANTA		40

static struct vo_proc *fprocs[NFP];
static struct vo_file *ffile[NFP], *fstatic;

static void
file_worker(void *arg)
{
	int me = (int)(uintptr_t)arg;
	struct vo_proc *o = fprocs[me];
	struct vo_file *f = ffile[me];
	uint64_t rng = ptest_seed() * 131 + (uint64_t)me;
	for (int q = 0; q < QUANTA; q++) {
		vm_switch(o->o_vm);
		for (int k = 0; k < 40; k++) {
			uint64_t r = ptest_rand(&rng);
			uint64_t off = (r >> 8) % (FPAGES * PAGE_SIZE - 64);
			uint64_t len = 1 + (r >> 32) % 6000;
			if (off + len > FPAGES * PAGE_SIZE)
				len = FPAGES * PAGE_SIZE - off;
			vaddr_t ub = UBUF + (r >> 24) % 64;
			switch (r % 16) {
			case 0: vo_file_rw(o, f, off, ub, len < 2 * PAGE_SIZE ? len : 2 * PAGE_SIZE, true); break;
			case 1: vo_file_rw(o, f, off, ub, len < 2 * PAGE_SIZE ? len : 2 * PAGE_SIZE, false); break;
			case 2: vo_sendfile(o, fstatic, off % (STATIC_PAGES * PAGE_SIZE / 2), len); break;
			case 3: vo_sendfile(o, f, off, len); break;
			case 4: vm_msync(o->o_vm, FMAP, FPAGES * PAGE_SIZE); break;
			default: {
				int size = 1 << ((r >> 4) % 4);
				vaddr_t va = ((r >> 6) & 1 ? FMAP : UBUF) +
				    (vaddr_t)((r >> 12) % ((r >> 6) & 1 ? FPAGES * PAGE_SIZE :
				    3 * PAGE_SIZE)) / (vaddr_t)size * (vaddr_t)size;
				vo_access(o, (r >> 40) % 3 == 0 ? 1 : 0, va, size);
			}
			}
		}
		vm_switch(NULL);
	}
}

static void
t_pressure(void)
{
	int n = ptest_ncpus() < NFP ? ptest_ncpus() : NFP;
	fstatic = vo_file_new(STATIC_PAGES);
	for (int i = 0; i < n; i++) {
		fprocs[i] = proc_with_buffer(3);
		ffile[i] = vo_file_new(FPAGES);
		vm_mmap_file(fprocs[i]->o_vm, FMAP, FPAGES * PAGE_SIZE, RW, VM_MAP_SHARED,
		    ffile[i]->vf_vm, 0);
		vo_mmap_file(fprocs[i], FMAP, FPAGES * PAGE_SIZE, RW, true, ffile[i], 0);
	}
	/* The static file's contents, written once before the others start. */
	touch(fprocs[0], UBUF, 3, 1);
	for (int pg = 0; pg < STATIC_PAGES; pg += 3)
		vo_file_rw(fprocs[0], fstatic, (uint64_t)pg * PAGE_SIZE, UBUF, 3 * PAGE_SIZE, true);
	vm_switch(NULL);
	for (int cpu = 1; cpu < n; cpu++)
		ptest_run_async(cpu, file_worker, (void *)(uintptr_t)cpu);
	file_worker((void *)0);
	for (int cpu = 1; cpu < n; cpu++)
		ptest_wait(cpu);
	struct vm_stats s = stats();
	uint64_t lost = 0, wrong = 0, checked = 0, disk = 0;
	for (int i = 0; i < n; i++) {
		lost += fprocs[i]->o_lost;
		wrong += fprocs[i]->o_wrong_signal;
		checked += fprocs[i]->o_checked;
		vm_fsync(ffile[i]->vf_vm);
		disk += vo_file_disk_diff(ffile[i]);
	}
	tap_diag("%llu checked accesses and calls on %d CPUs, %d pages of memory: %llu file "
	    "page-ins, %llu dirty file pages written back at eviction, %llu by msync/laundry, "
	    "%llu pages sent, %llu read, %llu written", (unsigned long long)checked, n,
	    VM_PAGES, (unsigned long long)s.vs_faults[VM_FK_FILEIN],
	    (unsigned long long)s.vs_pageouts_file, (unsigned long long)s.vs_file_writebacks,
	    (unsigned long long)s.vs_sendfile_pages, (unsigned long long)s.vs_file_read_pages,
	    (unsigned long long)s.vs_file_write_pages);
	ok(s.vs_faults[VM_FK_FILEIN] > 0 && s.vs_pageouts_file + s.vs_file_writebacks > 0,
	    "memory smaller than the files: file pages went out and came back");
	is_u64(lost, 0, "no byte lost");
	is_u64(wrong, 0, "every call answered as the model says");
	is_u64(disk, 0, "every file's disk holds its bytes after fsync");
	vm_ok("files under pressure");
	audit_ok("files under pressure");
	for (int i = 0; i < n; i++) {
		done(fprocs[i]);
		vo_file_free(ffile[i]);
	}
	vo_file_free(fstatic);
	is_u64(stats().vs_pages_used, 0, "every page back");
	is_u64(stats().vs_files, 0, "every file gone");
}

static void
t_errors(void)
{
	struct vo_file *f = vo_file_new(2);
	struct vm_proc *p = vm_proc_create();
	is_int(vm_mmap_file(p, FMAP, 3 * PAGE_SIZE, RW, VM_MAP_SHARED, f->vf_vm, 0), VM_EINVAL,
	    "mapping past the end of the file: EINVAL");
	is_int(vm_mmap_file(p, FMAP, PAGE_SIZE, RW, VM_MAP_SHARED, f->vf_vm, 100), VM_EINVAL,
	    "an unaligned file offset: EINVAL");
	is_int(vm_mmap_file(p, FMAP, PAGE_SIZE, RW, VM_MAP_SHARED, f->vf_vm, 2 * PAGE_SIZE),
	    VM_EINVAL, "an offset at the end: EINVAL");
	is_int(vm_mmap_file(p, FMAP, PAGE_SIZE, RW, VM_MAP_SHARED | VM_MAP_PRIVATE, f->vf_vm, 0),
	    VM_EINVAL, "shared and private at once: EINVAL");
	is_int(vm_mmap_file(p, FMAP, PAGE_SIZE, RW, VM_MAP_PRIVATE, f->vf_vm, PAGE_SIZE), 0,
	    "the last page of it: fine");
	is_int(vm_mmap_file(p, FMAP, PAGE_SIZE, RW, VM_MAP_SHARED, f->vf_vm, 0), VM_EINVAL,
	    "over an existing mapping: EINVAL");
	ok(vm_file_create(0) == NULL, "a file of no pages: NULL");
	uint8_t page[PAGE_SIZE];
	ok(!vm_file_disk(f->vf_vm, 2, page), "vm_file_disk past the end: false");
	vm_exit(p);
	vo_file_free(f);
	is_u64(stats().vs_files, 0, "nothing left");
}

PTEST_SUITE(vm_file)
{
	struct vm_config c = { .vc_pages = VM_PAGES, .vc_launder = true,
		.vc_swap_sfbuf = ptest_seed() % 2 == 0 };
	is_int(vm_boot(&c), 0, "vm_boot with %d pages, page-outs through %s", VM_PAGES,
	    c.vc_swap_sfbuf ? "sf_bufs" : "quick mappings");
	t_errors();
	t_shared();
	t_private();
	t_io();
	t_pressure();
	char text[256];
	bool good = vm_shutdown(text, sizeof(text));
	ok(good, "vm_shutdown: no page, swap slot or file left");
	if (!good)
		tap_diag("%s", text);
}
