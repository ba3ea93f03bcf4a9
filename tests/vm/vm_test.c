// SPDX-License-Identifier: BSD-2-Clause
/*
 * vm_test.c - the VM layer (vm/) on libpmap, checked by the integrity
 * oracle: copy-on-write after fork (both directions, fork of a fork, the
 * COW page not leaked), mprotect/munmap semantics, page-out/page-in round
 * trips with dirty and clean pages, and memory pressure with several
 * processes migrating over every CPU.  Every load is compared with the
 * model; every page freed is checked against every TLB (the simulated
 * machine's free-time audit).
 */
#include "vm_util.h"

#define VM_PAGES	64
#define BASE		((vaddr_t)0x10000000)

static uint64_t
used(void)
{
	struct vm_stats s;
	vm_get_stats(&s);
	return s.vs_pages_used;
}

/* Touch every page of [va, va + n pages): kind 0 loads, 1 stores, at a few
 * offsets and sizes. */
static void
t_cow(void)
{
	struct vm_proc *p = vm_proc_create();
	struct vo_proc *o = vo_new(p);
	is_int(vm_mmap(p, BASE, 16 * PAGE_SIZE, VM_PROT_READ | VM_PROT_WRITE,
	    VM_MAP_PRIVATE), 0, "mmap 16 private pages");
	vo_mmap(o, BASE, 16 * PAGE_SIZE, VM_PROT_READ | VM_PROT_WRITE, false);
	touch(o, BASE, 16, 1);
	is_u64(used(), 16, "16 pages after the parent wrote them");

	struct vm_proc *c = vm_fork(p);
	struct vo_proc *oc = vo_fork(o, c);
	is_u64(used(), 16, "fork copies no page");
	ok(vm_residency(p, BASE) == VM_RES_COW && vm_residency(c, BASE) == VM_RES_COW,
	    "both see the pages as copy-on-write");
	touch(oc, BASE, 8, 1);		/* the child writes the first half */
	touch(oc, BASE, 16, 0);
	touch(o, BASE, 16, 0);		/* the parent still reads its own */
	ok(clean_run(o) && clean_run(oc), "the child's writes are invisible to the parent");
	touch(o, BASE + 8 * PAGE_SIZE, 8, 1);	/* the parent writes the other half */
	touch(oc, BASE, 16, 0);
	ok(clean_run(o) && clean_run(oc), "and the parent's to the child");
	is_u64(used(), 32, "each side copied the half it wrote: 32 pages");
	struct vm_stats s0, s1;
	vm_get_stats(&s0);
	touch(oc, BASE + 8 * PAGE_SIZE, 8, 1);	/* the last sharer writes */
	vm_get_stats(&s1);
	is_u64(used(), 32, "the last sharer writing reuses the page: still 32");
	is_u64(s1.vs_faults[VM_FK_COW_REUSE] - s0.vs_faults[VM_FK_COW_REUSE], 8,
	    "8 copy-on-write faults took the page over without a copy");
	is_u64(s1.vs_faults[VM_FK_COW] - s0.vs_faults[VM_FK_COW], 0, "and copied nothing");

	/* Fork of a fork: the grandchild keeps what the child had. */
	struct vm_proc *g = vm_fork(c);
	struct vo_proc *og = vo_fork(oc, g);
	touch(oc, BASE, 4, 1);
	touch(og, BASE, 16, 0);
	touch(oc, BASE, 16, 0);
	touch(o, BASE, 16, 0);
	ok(clean_run(o) && clean_run(oc) && clean_run(og),
	    "fork of a fork: three generations each read their own bytes");
	vm_ok("after fork and COW");
	audit_ok("fork and COW");

	/* A sharer exiting gives the page back to the other. */
	vm_switch(NULL);
	uint64_t before = used();
	vm_exit(g);
	vo_free(og);
	ok(used() < before, "the grandchild's exit freed the pages only it held (%llu -> %llu)",
	    (unsigned long long)before, (unsigned long long)used());
	ok(vm_residency(c, BASE + 8 * PAGE_SIZE) == VM_RES_PRIVATE,
	    "the child holds its pages alone again");
	vm_exit(c);
	vo_free(oc);
	is_u64(used(), 16, "after the child's exit only the parent's 16 pages are left");
	vm_exit(p);
	vo_free(o);
	is_u64(used(), 0, "and none after the parent's");
	audit_ok("exits");
}

static void
t_mprotect(void)
{
	struct vm_proc *p = vm_proc_create();
	struct vo_proc *o = vo_new(p);
	vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
	is_int(vm_mmap(p, BASE, 4 * PAGE_SIZE, rw, VM_MAP_PRIVATE), 0, "mmap 4 pages");
	vo_mmap(o, BASE, 4 * PAGE_SIZE, rw, false);
	is_int(vm_mmap(p, BASE + PAGE_SIZE, PAGE_SIZE, rw, VM_MAP_PRIVATE), VM_EINVAL,
	    "mmap over a mapping: EINVAL");
	is_int(vm_mmap(p, BASE + 12, PAGE_SIZE, rw, VM_MAP_PRIVATE), VM_EINVAL,
	    "misaligned mmap: EINVAL");
	is_int(vm_mmap(p, PMAP_USER_MAX - PAGE_SIZE, 2 * PAGE_SIZE, rw, VM_MAP_PRIVATE),
	    VM_EINVAL, "mmap past the end of user space: EINVAL");
	touch(o, BASE, 4, 1);

	is_int(vm_mprotect(p, BASE + PAGE_SIZE, 2 * PAGE_SIZE, VM_PROT_READ), 0,
	    "mprotect the middle two pages read-only");
	vo_mprotect(o, BASE + PAGE_SIZE, 2 * PAGE_SIZE, VM_PROT_READ);
	vm_switch(p);
	is_int(vo_access(o, 1, BASE + PAGE_SIZE, 8), VM_FK_PROT, "a store there: SIGSEGV");
	is_int(vo_access(o, 1, BASE, 8), 0, "a store beside it works");
	touch(o, BASE, 4, 0);
	is_int(vm_mprotect(p, BASE, PAGE_SIZE, VM_PROT_NONE), 0, "mprotect a page PROT_NONE");
	vo_mprotect(o, BASE, PAGE_SIZE, VM_PROT_NONE);
	vm_switch(p);
	is_int(vo_access(o, 0, BASE, 8), VM_FK_PROT, "a load there: SIGSEGV");
	is_int(vm_mprotect(p, BASE, 4 * PAGE_SIZE, rw), 0, "everything read-write again");
	vo_mprotect(o, BASE, 4 * PAGE_SIZE, rw);
	touch(o, BASE, 4, 0);
	ok(clean_run(o), "the data survived every protection change");

	/* A modified page made read-only and back keeps its modified state:
	 * paging it out must write it. */
	touch(o, BASE + 3 * PAGE_SIZE, 1, 1);
	vm_mprotect(p, BASE + 3 * PAGE_SIZE, PAGE_SIZE, VM_PROT_READ);
	vo_mprotect(o, BASE + 3 * PAGE_SIZE, PAGE_SIZE, VM_PROT_READ);
	vm_mprotect(p, BASE + 3 * PAGE_SIZE, PAGE_SIZE, rw);
	vo_mprotect(o, BASE + 3 * PAGE_SIZE, PAGE_SIZE, rw);
	vm_switch(NULL);	/* the pagedaemon is a kernel thread */
	/* A CPU that fills its TLB speculatively sets referenced bits on its
	 * own: the clock may need more sweeps. */
	for (int i = 0; i < 8 && vm_residency(p, BASE + 3 * PAGE_SIZE) != VM_RES_SWAPPED; i++)
		vm_pagedaemon(VM_PAGES);
	is_int(vm_residency(p, BASE + 3 * PAGE_SIZE), VM_RES_SWAPPED, "paged out");
	touch(o, BASE, 4, 0);
	ok(clean_run(o), "the bytes written before the protection changes came back from swap");

	is_int(vm_munmap(p, BASE + 2 * PAGE_SIZE, PAGE_SIZE), 0, "munmap a page in the middle");
	vo_munmap(o, BASE + 2 * PAGE_SIZE, PAGE_SIZE);
	vm_switch(p);
	is_int(vo_access(o, 0, BASE + 2 * PAGE_SIZE, 8), VM_FK_NOMAP, "a load there: SIGSEGV");
	touch(o, BASE, 2, 0);
	touch(o, BASE + 3 * PAGE_SIZE, 1, 0);
	is_int(vm_mprotect(p, BASE, 4 * PAGE_SIZE, VM_PROT_READ), VM_ENOMEM,
	    "mprotect over the hole: ENOMEM");
	vm_switch(p);
	is_int(vo_access(o, 1, BASE, 8), 0, "and it changed nothing");
	ok(clean_run(o), "no byte lost, no wrong signal");
	vm_ok("mprotect");
	vm_switch(NULL);
	vm_exit(p);
	vo_free(o);
	is_u64(used(), 0, "exit freed everything");
}

static void
t_pageout(void)
{
	struct vm_proc *p = vm_proc_create();
	struct vo_proc *o = vo_new(p);
	is_int(vm_mmap(p, BASE, 16 * PAGE_SIZE, VM_PROT_READ | VM_PROT_WRITE,
	    VM_MAP_PRIVATE), 0, "mmap 16 pages");
	vo_mmap(o, BASE, 16 * PAGE_SIZE, VM_PROT_READ | VM_PROT_WRITE, false);
	touch(o, BASE, 16, 1);
	vm_switch(NULL);
	struct vm_stats s0, s1, s2;
	vm_get_stats(&s0);
	vm_pagedaemon(VM_PAGES);
	vm_get_stats(&s1);
	is_u64(used(), 0, "the pagedaemon took every page");
	is_u64((s1.vs_pageouts_swap + s1.vs_laundered) - (s0.vs_pageouts_swap + s0.vs_laundered),
	    16, "and wrote each dirty page to swap once");
	is_int(vm_residency(p, BASE + 5 * PAGE_SIZE), VM_RES_SWAPPED, "a page is in swap");
	touch(o, BASE, 16, 0);
	ok(clean_run(o), "every byte came back from swap");
	touch(o, BASE, 4, 1);			/* 4 dirty, 12 clean */
	vm_switch(NULL);
	vm_pagedaemon(VM_PAGES);
	vm_get_stats(&s2);
	is_u64((s2.vs_pageouts_swap + s2.vs_laundered) - (s1.vs_pageouts_swap + s1.vs_laundered),
	    4, "the second page-out writes only the 4 pages written since");
	is_u64((s2.vs_reclaims_clean - s1.vs_reclaims_clean) +
	    (s2.vs_pageouts_swap - s1.vs_pageouts_swap), 16,
	    "every page left, the clean ones without another write");
	is_u64(s2.vs_faults[VM_FK_SWAPIN] - s1.vs_faults[VM_FK_SWAPIN], 16, "16 swap-ins");
	touch(o, BASE, 16, 0);
	ok(clean_run(o), "dirty and clean pages both read back right");
	vm_switch(NULL);
	vm_exit(p);
	vo_free(o);
	struct vm_stats s3;
	vm_get_stats(&s3);
	is_u64(s3.vs_swap_used, 0, "exit released every swap slot");
}

/* ---- memory pressure: processes migrating over every CPU ---- */

#define NPROC	5
#define PPAGES	40
#define QUANTA	60

static struct vo_proc *procs[NPROC];
static int running[NPROC];	/* __atomic: 1 while a CPU runs it */

static void
worker(void *arg)
{
	uint64_t rng = ptest_seed() * 977 + (uint64_t)(uintptr_t)arg;
	for (int q = 0; q < QUANTA; q++) {
		int i = (int)(ptest_rand(&rng) % NPROC);
		int zero = 0;
		while (!__atomic_compare_exchange_n(&running[i], &zero, 1, false,
		    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			zero = 0;
			i = (i + 1) % NPROC;
			ptest_relax();
		}
		struct vo_proc *o = procs[i];
		vm_switch(o->o_vm);
		for (int k = 0; k < 150; k++) {
			uint64_t r = ptest_rand(&rng);
			int size = 1 << (r % 4);
			vaddr_t va = BASE + ((r >> 8) % (PPAGES * PAGE_SIZE)) / (vaddr_t)size *
			    (vaddr_t)size;
			vo_access(o, (r >> 40) % 3 == 0 ? 1 : 0, va, size);
		}
		vm_switch(NULL);
		__atomic_store_n(&running[i], 0, __ATOMIC_RELEASE);
	}
}

static void
t_pressure(void)
{
	/* A wired kernel buffer through all of it: never paged. */
	long kwired = pmap_wired_count(pmap_kernel());
	vaddr_t kb = vm_kbuf_alloc(4);
	ok(kb != 0, "a 4-page wired kernel buffer");
	paddr_t kpa[4];
	for (int i = 0; i < 4; i++) {
		pmap_extract(pmap_kernel(), kb + (vaddr_t)i * PAGE_SIZE, &kpa[i]);
		for (unsigned o = 0; o < PAGE_SIZE; o += 512)
			ptest_store(kb + (vaddr_t)i * PAGE_SIZE + o, 8, 0x6b6275660000ULL + o + (uint64_t)i, 0);
	}
	is_int((int)(pmap_wired_count(pmap_kernel()) - kwired), 4,
	    "the kernel pmap counts its 4 wired pages");
	for (int i = 0; i < NPROC; i++) {
		struct vm_proc *p = vm_proc_create();
		procs[i] = vo_new(p);
		vm_mmap(p, BASE, PPAGES * PAGE_SIZE, VM_PROT_READ | VM_PROT_WRITE, VM_MAP_PRIVATE);
		vo_mmap(procs[i], BASE, PPAGES * PAGE_SIZE, VM_PROT_READ | VM_PROT_WRITE, false);
	}
	/* Two pairs share copy-on-write pages. */
	touch(procs[0], BASE, PPAGES / 2, 1);
	vm_switch(NULL);
	vm_exit(procs[1]->o_vm);
	vo_free(procs[1]);
	struct vm_proc *c = vm_fork(procs[0]->o_vm);
	procs[1] = vo_fork(procs[0], c);
	int n = ptest_ncpus();
	for (int cpu = 1; cpu < n; cpu++)
		ptest_run_async(cpu, worker, (void *)(uintptr_t)cpu);
	worker((void *)0);
	for (int cpu = 1; cpu < n; cpu++)
		ptest_wait(cpu);
	struct vm_stats s;
	vm_get_stats(&s);
	uint64_t lost = 0, wrong = 0, checked = 0;
	for (int i = 0; i < NPROC; i++) {
		lost += procs[i]->o_lost;
		wrong += procs[i]->o_wrong_signal;
		checked += procs[i]->o_checked;
	}
	tap_diag("%llu accesses on %d CPUs over %d pages of memory: %llu page-outs "
	    "(%llu more laundered), "
	    "%llu swap-ins, %llu COW, %llu zero fills, peak %llu pages",
	    (unsigned long long)checked, n, VM_PAGES, (unsigned long long)s.vs_pageouts_swap,
	    (unsigned long long)s.vs_laundered,
	    (unsigned long long)s.vs_faults[VM_FK_SWAPIN],
	    (unsigned long long)s.vs_faults[VM_FK_COW],
	    (unsigned long long)s.vs_faults[VM_FK_ZERO], (unsigned long long)s.vs_pages_peak);
	ok(s.vs_faults[VM_FK_SWAPIN] > 0 && s.vs_pageouts_swap + s.vs_laundered > 0,
	    "memory smaller than the working set: pages went out and came back");
	ok(s.vs_pages_peak <= VM_PAGES, "the VM never held more than its %d pages",
	    VM_PAGES);
	is_u64(lost, 0, "no byte lost in %llu checked accesses", (unsigned long long)checked);
	is_u64(wrong, 0, "no wrong signal");
	vm_ok("memory pressure");
	audit_ok("memory pressure");
	bool same = true;
	for (int i = 0; i < 4; i++) {
		paddr_t pa;
		same &= pmap_extract(pmap_kernel(), kb + (vaddr_t)i * PAGE_SIZE, &pa) &&
		    pa == kpa[i];
		for (unsigned o = 0; o < PAGE_SIZE; o += 512)
			same &= peek(kb + (vaddr_t)i * PAGE_SIZE + o, 0) ==
			    0x6b6275660000ULL + o + (uint64_t)i;
	}
	ok(same, "the wired buffer stayed in its pages, its bytes intact, through %llu "
	    "page-outs", (unsigned long long)(s.vs_pageouts_swap + s.vs_laundered));
	vm_kbuf_free(kb, 4);
	is_int((int)(pmap_wired_count(pmap_kernel()) - kwired), 0, "freed and unwired");
	for (int i = 0; i < NPROC; i++) {
		vm_exit(procs[i]->o_vm);
		vo_free(procs[i]);
	}
	is_u64(used(), 0, "every page back after the exits");
}

PTEST_SUITE(vm)
{
	struct vm_config c = { .vc_pages = VM_PAGES, .vc_launder = true,
		.vc_swap_sfbuf = ptest_seed() % 2 == 0 };
	is_int(vm_boot(&c), 0, "vm_boot with %d pages, page-outs through %s", VM_PAGES,
	    c.vc_swap_sfbuf ? "sf_bufs" : "quick mappings");
	t_cow();
	t_mprotect();
	t_pageout();
	t_pressure();
	char text[256];
	bool good = vm_shutdown(text, sizeof(text));
	ok(good, "vm_shutdown: no page or swap slot left");
	if (!good)
		tap_diag("%s", text);
}
