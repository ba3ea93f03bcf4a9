// SPDX-License-Identifier: BSD-2-Clause
/*
 * minimal_host.c - the smallest complete host for libpmap: a one-CPU
 * "kernel" for the simulated amd64 machine (platform/sim/sim.h), written
 * the way a hobby kernel would write its own.  amd64 only.
 *
 * It implements every hook the amd64 library calls - <pmap/pmap_host.h>
 * and <pmap/amd64_host.h> - over the machine's primitives alone (memory,
 * one CPU, its MMU and control registers), then boots the library, maps,
 * touches, unmaps and tears down, checking each step through the
 * simulated MMU, and exits 0 only if every check held.  It does not use
 * platform/sim/host.c, which also serves the test harness (interrupt
 * points, panic catchers, many CPUs); this file is the minimum.
 *
 * Where a real kernel differs, the hook's comment says how.  The library
 * itself is plain host code here: it reaches memory through host pointers
 * (sim_phys_ptr) while the simulated CPU's accesses (sim_load/sim_store)
 * go through the page tables the library builds.
 *
 * Build and run: make check-example (build/examples/minimal_host).  The
 * README's "Embedding libpmap in a kernel" walks through it hook by hook.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pmap/pmap_host.h>
#include <pmap/amd64_host.h>
#include <pmap/amd64_pte.h>		/* MSR_*, PGEX_* */

#include "sim.h"

/* ------------------------------------------------------------------ */
/* The kernel's own types                                              */
/* ------------------------------------------------------------------ */

/* RAM: one segment, as a boot loader's memory map would give it. */
#define RAM_START	0x100000UL		/* 1 MiB */
#define RAM_PAGES	1024			/* 4 MiB */
#define RAM_END		(RAM_START + RAM_PAGES * PAGE_SIZE)

/* One per page of RAM; the library's per-page data lives inside. */
struct vm_page {
	struct pmap_page mdpage;	/* zero-initialised, the library's */
	paddr_t phys_addr;
	struct vm_page *free_next;	/* the allocator's free list */
	bool is_free;
};

/* A thread; all the library asks of it is its process's pmap. */
struct lwp {
	pmap_t l_pmap;
	const char *l_name;
};

static struct vm_page vm_pages[RAM_PAGES];	/* static: zeroed */
static struct vm_page *free_list;
static unsigned long free_count;

static struct lwp lwp0 = { NULL, "kernel" };	/* NULL pmap: the kernel's */
static struct lwp *curlwp = &lwp0;		/* one CPU: one pointer */

static int preempt_depth;	/* counters: nothing is preemptible */
static unsigned long intr_off;	/* 1 while "interrupts are disabled" */
static unsigned long n_intr_disable, n_preempt_disable, n_spin, n_page_alloc;

/* The physical page allocator: a free list through the vm_pages. */
static void
ram_init(void)
{
	for (long i = RAM_PAGES - 1; i >= 0; i--) {
		vm_pages[i].phys_addr = RAM_START + (paddr_t)i * PAGE_SIZE;
		vm_pages[i].is_free = true;
		vm_pages[i].free_next = free_list;
		free_list = &vm_pages[i];
		free_count++;
	}
}

static struct vm_page *
ram_alloc(void)
{
	struct vm_page *pg = free_list;
	if (pg == NULL)
		return NULL;
	free_list = pg->free_next;
	pg->is_free = false;
	free_count--;
	return pg;
}

static void
ram_free(struct vm_page *pg)
{
	if (pg->is_free)
		pmap_host_panic("ram_free: page %#lx freed twice", (unsigned long)pg->phys_addr);
	pg->is_free = true;
	pg->free_next = free_list;
	free_list = pg;
	free_count++;
}

/* ------------------------------------------------------------------ */
/* <pmap/pmap_host.h>, tier 0: usable from pmap_bootstrap on           */
/* ------------------------------------------------------------------ */

/* Stop the machine with a message; any lock held, never returns. */
void
pmap_host_panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fflush(stdout);
	fputs("panic: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* Console output (pmap_dump, diagnostics); must not sleep. */
void
pmap_host_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

/* One CPU: always CPU 0 of 1. */
int pmap_host_cpu_id(void) { return 0; }
int pmap_host_ncpus(void) { return 1; }

/* A page for the library's own use (page tables, pv chunks, pmaps), one
 * with a vm_page.  Never sleeps or panics: nonzero when out of memory,
 * and the library decides (ENOMEM with PMAP_CANFAIL, else its panic). */
int
pmap_host_page_alloc(paddr_t *pap)
{
	struct vm_page *pg = ram_alloc();
	if (pg == NULL)
		return -1;
	n_page_alloc++;
	*pap = pg->phys_addr;
	return 0;
}

/* Called only once no TLB or paging-structure cache can reference pa. */
void
pmap_host_page_free(paddr_t pa)
{
	ram_free(pmap_host_phys_to_page(pa));
}

/*
 * A lasting pointer to physical memory, for the library's page tables,
 * pv chunks and pmaps (hot).  A real amd64 kernel returns
 * (void *)(PMAP_DMAP_BASE + pa): its boot direct map at bootstrap, the
 * library's own (same address) from pmap_cpu_init on.  Here the library
 * is host code, so it gets the host's pointer to simulated RAM.
 */
void *
pmap_host_phys_map(paddr_t pa)
{
	return sim_phys_ptr(pa);
}

/* (pmap_host_phys_tmp_map/unmap are for machines without a direct map,
 * i386: the amd64 library never calls them, so they are left out.) */

/* The vm_page of pa, or NULL when pa is not RAM (device memory: the
 * mapping is then unmanaged).  Hot: an index into the array. */
struct vm_page *
pmap_host_phys_to_page(paddr_t pa)
{
	if (pa < RAM_START || pa >= RAM_END)
		return NULL;
	return &vm_pages[(pa - RAM_START) >> PAGE_SHIFT];
}

struct pmap_page *pmap_host_page_md(struct vm_page *pg) { return &pg->mdpage; }
paddr_t pmap_host_page_pa(struct vm_page *pg) { return pg->phys_addr; }

/*
 * Interrupts: disable returns the previous state, restore puts exactly
 * that back, so pairs nest (a real kernel: pushf; cli / popf).  One CPU
 * with no interrupt sources needs nothing more than the state itself.
 */
pmap_intr_state_t
pmap_host_intr_disable(void)
{
	pmap_intr_state_t was = intr_off;
	intr_off = 1;
	n_intr_disable++;
	return was;
}

void
pmap_host_intr_restore(pmap_intr_state_t s)
{
	intr_off = s;
}

/* ------------------------------------------------------------------ */
/* <pmap/pmap_host.h>, tier 1: from pmap_cpu_init / pmap_init on       */
/* ------------------------------------------------------------------ */

/* Preemption: this kernel never preempts, so a nesting depth kept only to
 * check that the library balances it. */
void
pmap_host_preempt_disable(void)
{
	preempt_depth++;
	n_preempt_disable++;
}

void
pmap_host_preempt_enable(void)
{
	if (--preempt_depth < 0)
		pmap_host_panic("preemption enabled more often than disabled");
}

/* Every spin loop: take interrupts if enabled, never sleep (a real kernel:
 * `pause`).  With one CPU nobody else can hold what the library waits
 * for, so the count should stay zero. */
void
pmap_host_spin_wait(void)
{
	n_spin++;
	sim_cpu_relax();
}

/* The TLB-shootdown IPI to every CPU in cpuset, never the caller.  With
 * one CPU there is no one to send it to.  (With more: send a vector whose
 * handler calls pmap_tlb_intr().) */
void
pmap_host_send_shootdown(uint64_t cpuset)
{
	pmap_host_panic("shootdown to %#llx on a one-CPU machine",
	    (unsigned long long)cpuset);
}

/*
 * Sleep/wakeup, for sf_buf_alloc when every mapping is busy (never, with
 * the direct-map sf_bufs used here).  No lost wakeups: a ticket taken
 * before the library drops its lock; sleep returns at once if a wakeup
 * came since.  With one CPU and no interrupts, a sleep not already woken
 * could never end, so that is a panic rather than a hang.
 */
static uint64_t wakeups;

uint64_t
pmap_host_sleep_prepare(const void *chan)
{
	return wakeups;
}

int
pmap_host_sleep(const void *chan, uint64_t ticket, bool catch)
{
	if (wakeups != ticket)
		return 0;
	pmap_host_panic("pmap_host_sleep(%p): nothing could ever wake this CPU", chan);
}

void
pmap_host_wakeup(const void *chan)
{
	wakeups++;
}

/* The running lwp, and an lwp's pmap (NULL: the kernel's). */
struct lwp *pmap_host_curlwp(void) { return curlwp; }

pmap_t
pmap_host_lwp_pmap(struct lwp *l)
{
	return l != NULL && l->l_pmap != NULL ? l->l_pmap : pmap_kernel();
}

/* ------------------------------------------------------------------ */
/* <pmap/amd64_host.h>: the CPU's instructions (this CPU only)         */
/* ------------------------------------------------------------------ */

/* CPUID on a real machine; the simulated CPU has every feature. */
uint32_t
pmap_host_amd64_features(void)
{
	return AMD64_FEAT_NX | AMD64_FEAT_PGE | AMD64_FEAT_PCID | AMD64_FEAT_INVPCID |
	    AMD64_FEAT_1G | AMD64_FEAT_SMEP | AMD64_FEAT_SMAP | AMD64_FEAT_PAT;
}

int pmap_host_amd64_maxphyaddr(void) { return sim_maxphyaddr(); }
void pmap_host_amd64_invlpg(uint64_t va) { sim_invlpg(va); }
uint64_t pmap_host_amd64_rcr0(void) { return sim_read_cr0(); }
void pmap_host_amd64_lcr0(uint64_t cr0) { sim_write_cr0(cr0); }
uint64_t pmap_host_amd64_rcr3(void) { return sim_read_cr3(); }
uint64_t pmap_host_amd64_rcr4(void) { return sim_read_cr4(); }

/* The instructions that can raise #GP: a #GP here is a library bug. */
void
pmap_host_amd64_invpcid(int type, uint16_t pcid, uint64_t va)
{
	if (sim_invpcid(type, pcid, va) != SIM_OK)
		pmap_host_panic("INVPCID type %d pcid %u va %#llx: #GP", type, pcid,
		    (unsigned long long)va);
}

/* A hint for TLB checkers (the PCIDs the library will flush before reuse):
 * a kernel without one does nothing. */
void
pmap_host_amd64_pcid_dead(int cpu, uint16_t pcid)
{
	(void)cpu;
	(void)pcid;
}

void
pmap_host_amd64_lcr3(uint64_t cr3)
{
	if (sim_write_cr3(cr3) != SIM_OK)
		pmap_host_panic("MOV CR3 %#llx: #GP", (unsigned long long)cr3);
}

void
pmap_host_amd64_lcr4(uint64_t cr4)
{
	if (sim_write_cr4(cr4) != SIM_OK)
		pmap_host_panic("MOV CR4 %#llx: #GP", (unsigned long long)cr4);
}

/* The library uses two MSRs: EFER (NXE) and the PAT. */
uint64_t
pmap_host_amd64_rdmsr(uint32_t msr)
{
	if (msr == MSR_EFER)
		return sim_read_efer();
	if (msr == MSR_PAT)
		return sim_read_pat();
	pmap_host_panic("RDMSR %#x", msr);
}

void
pmap_host_amd64_wrmsr(uint32_t msr, uint64_t v)
{
	if (msr == MSR_EFER)
		sim_write_efer(v);
	else if (msr == MSR_PAT)
		sim_write_pat(v);
	else
		pmap_host_panic("WRMSR %#x", msr);
}

/* ------------------------------------------------------------------ */
/* The kernel: boot, then exercise the library                         */
/* ------------------------------------------------------------------ */

static int checks, failures;

#define CHECK(cond, ...) do {						\
	checks++;							\
	if (!(cond)) {							\
		failures++;						\
		printf("FAIL (line %d): ", __LINE__);			\
	} else								\
		printf("ok   ");					\
	printf(__VA_ARGS__);						\
	printf("\n");							\
} while (0)

#define USER	SIM_ACC_USER
#define NOFAULT	(-1)

/* One 8-byte access through this CPU's MMU: NOFAULT, or the page-fault
 * error code (PGEX_*), after checking the fault names va. */
static int
access_va(vaddr_t va, bool write, uint64_t *val, unsigned mode)
{
	int r = write ? sim_store(va, 8, *val, mode) : sim_load(va, 8, val, mode);
	if (r == SIM_OK)
		return NOFAULT;
	struct sim_fault f = sim_last_fault();
	if (r != SIM_PF || f.cr2 != va)
		return -2;
	return (int)f.error_code;
}

static uint64_t
load(vaddr_t va, unsigned mode)
{
	uint64_t v = 0;
	if (access_va(va, false, &v, mode) != NOFAULT)
		v = ~0ULL;
	return v;
}

static int store_fault(vaddr_t va, uint64_t v, unsigned mode) { return access_va(va, true, &v, mode); }
static int load_fault(vaddr_t va, unsigned mode) { uint64_t v; return access_va(va, false, &v, mode); }
static uint64_t phys_word(paddr_t pa) { return *(uint64_t *)sim_phys_ptr(pa); }

/* A context switch, as a kernel's scheduler does it. */
static void
switch_to(struct lwp *l)
{
	pmap_deactivate(curlwp);
	curlwp = l;
	pmap_activate(l);
}

static void
boot(void)
{
	ram_init();
	struct pmap_bootinfo bi;
	memset(&bi, 0, sizeof(bi));
	bi.pb_nsegs = 1;			/* RAM: the direct map covers it */
	bi.pb_segs[0].ps_start = RAM_START;
	bi.pb_segs[0].ps_end = RAM_END;
	bi.pb_nkranges = 0;			/* no kernel image: we are host code */
	bi.pb_kva_initial = 2UL << 20;		/* page tables for 2 MiB of KVA now */
	bi.pb_sfbuf_mode = PMAP_SFBUF_DMAP;
	pmap_bootstrap(&bi);			/* the boot CPU, once */
	pmap_cpu_init();			/* every CPU: loads the kernel's CR3 */
	pmap_init();
	printf("boot: %lu of %d pages free (%lu taken for the kernel's page tables)\n",
	    free_count, RAM_PAGES, n_page_alloc);
}

#define UVA	0x400000UL		/* user text/data */
#define UVA2	0x7f0000000000UL	/* a second, shared mapping */

static void
kernel_main(void *arg)
{
	(void)arg;
	boot();
	unsigned long free0 = free_count;
	struct pmap_counters c0, c;
	pmap_get_counters(&c0);

	/* A process: its pmap, three pages (RW, read-only, RW). */
	struct lwp lwp1 = { pmap_create(), "proc1" };
	pmap_t pm = lwp1.l_pmap;
	struct vm_page *pa = ram_alloc(), *pb = ram_alloc(), *pc = ram_alloc();
	/* The kernel fills page a through the library's direct map, by a
	 * supervisor store on the simulated CPU. */
	uint64_t v = 0x1111111111111111ULL;
	CHECK(store_fault(pmap_map_poolpage(pa->phys_addr), v, 0) == NOFAULT &&
	    phys_word(pa->phys_addr) == v, "kernel store through the direct map");
	pmap_enter(pm, UVA, pa->phys_addr, VM_PROT_READ | VM_PROT_WRITE, VM_PROT_READ);
	pmap_enter(pm, UVA + PAGE_SIZE, pb->phys_addr, VM_PROT_READ, VM_PROT_READ);
	pmap_enter(pm, UVA + 2 * PAGE_SIZE, pc->phys_addr, VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_update(pm);
	switch_to(&lwp1);
	CHECK(pmap_resident_count(pm) == 3, "3 pages resident");

	/* User loads and stores reach the right frames. */
	CHECK(load(UVA, USER) == v, "user load %#lx sees the kernel's store", UVA);
	v = 0x2222222222222222ULL;
	CHECK(store_fault(UVA + 8, v, USER) == NOFAULT && phys_word(pa->phys_addr + 8) == v,
	    "user store %#lx lands in frame %#lx", UVA + 8, (unsigned long)pa->phys_addr);
	CHECK(load_fault(UVA + PAGE_SIZE, USER) == NOFAULT, "user load of the read-only page");
	int e = store_fault(UVA + PAGE_SIZE, 1, USER);
	CHECK(e == (PGEX_P | PGEX_W | PGEX_U), "user store to the read-only page faults "
	    "(error %#x: present, write, user)", e);
	e = load_fault(UVA + 3 * PAGE_SIZE, USER);
	CHECK(e == PGEX_U, "user load of an unmapped page faults (error %#x)", e);

	/* Modified is the page's: set by a write, cleared by clear_modify, set
	 * again by the next write (the TLB entry that cached "dirty" must go). */
	CHECK(!pmap_is_modified(pc), "page c clean after pmap_enter");
	store_fault(UVA + 2 * PAGE_SIZE, 3, USER);
	CHECK(pmap_is_modified(pc), "page c modified after a user store");
	CHECK(pmap_clear_modify(pc) && !pmap_is_modified(pc), "pmap_clear_modify cleans it");
	store_fault(UVA + 2 * PAGE_SIZE, 4, USER);
	CHECK(pmap_is_modified(pc), "the next store marks it modified again");

	/* A second mapping of page a (a pv entry), then pmap_page_protect
	 * removes both, effective at once (no pmap_update needed). */
	pmap_enter(pm, UVA2, pa->phys_addr, VM_PROT_READ, VM_PROT_READ);
	pmap_update(pm);
	pmap_get_counters(&c);
	CHECK(load(UVA2, USER) == 0x1111111111111111ULL && c.pc_pv_entries == 1,
	    "second mapping %#lx of page a: same data, 1 pv entry", UVA2);
	pmap_page_protect(pa, VM_PROT_NONE);
	CHECK(load_fault(UVA, USER) == PGEX_U && load_fault(UVA2, USER) == PGEX_U &&
	    pmap_resident_count(pm) == 2, "pmap_page_protect(NONE): both mappings gone");

	/* A kernel mapping: unmanaged, supervisor-only, removed by kremove. */
	vaddr_t kva, kend;
	pmap_virtual_space(&kva, &kend);
	struct vm_page *pd = ram_alloc();
	pmap_kenter_pa(kva, pd->phys_addr, VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_update(pmap_kernel());
	v = 0x5555555555555555ULL;
	CHECK(store_fault(kva, v, 0) == NOFAULT && phys_word(pd->phys_addr) == v,
	    "kenter %#lx: kernel store lands in frame %#lx", kva, (unsigned long)pd->phys_addr);
	e = load_fault(kva, USER);
	CHECK(e == (PGEX_P | PGEX_U), "user load of the kernel page faults (error %#x)", e);
	CHECK(!pmap_is_modified(pd), "kenter mappings keep no modified bit");
	pmap_kremove(kva, PAGE_SIZE);
	pmap_update(pmap_kernel());
	CHECK(load_fault(kva, 0) == 0, "after kremove+update the kernel load faults");

	/* pmap_remove + pmap_update: the translations are gone, even from the
	 * TLB (the simulated TLB keeps stale entries until invalidated). */
	pmap_remove(pm, UVA, UVA + 3 * PAGE_SIZE);
	pmap_update(pm);
	CHECK(load_fault(UVA + PAGE_SIZE, USER) == PGEX_U &&
	    load_fault(UVA + 2 * PAGE_SIZE, USER) == PGEX_U && pmap_resident_count(pm) == 0,
	    "after pmap_remove+pmap_update the user pages fault");
	CHECK(pmap_is_modified(pc), "page c is still modified with no mapping left");

	/* Teardown: back to the kernel's pmap, destroy, free the pages (the
	 * VM's rule: pmap_page_protect(NONE) before freeing a page). */
	switch_to(&lwp0);
	pmap_destroy(pm);
	struct vm_page *pages[] = { pa, pb, pc, pd };
	for (int i = 0; i < 4; i++) {
		pmap_page_protect(pages[i], VM_PROT_NONE);
		ram_free(pages[i]);
	}
	pmap_get_counters(&c);
	CHECK(free_count == free0, "every page came back (%lu free)", free_count);
	CHECK(c.pc_pv_entries == 0 && c.pc_pv_chunks == 0 && c.pc_ptp_pages == 0 &&
	    c.pc_pmaps == 1 && c.pc_kptp_pages == c0.pc_kptp_pages,
	    "counters back: no pv entries or chunks, no user page tables, 1 pmap");
	CHECK(c.pc_shootdowns == 0 && n_spin == 0 && preempt_depth == 0 && intr_off == 0,
	    "no shootdown, no spin; preemption and interrupts balanced "
	    "(%lu and %lu disables)", n_preempt_disable, n_intr_disable);
}

int
main(void)
{
	struct sim_config cfg;
	sim_config_default(&cfg);
	cfg.ncpus = 1;
	cfg.nsegs = 1;
	cfg.segs[0].start = RAM_START;
	cfg.segs[0].end = RAM_END;
	sim_init(&cfg);				/* power on: CPU 0 waits for work */
	printf("minimal_host: simulated amd64, 1 CPU, %d KiB of RAM at %#lx\n",
	    RAM_PAGES * 4, RAM_START);
	sim_run_on(0, kernel_main, NULL);	/* run the kernel on CPU 0 */
	sim_fini();
	printf("minimal_host: %d checks, %d failed\n", checks, failures);
	return failures == 0 ? 0 : 1;
}
