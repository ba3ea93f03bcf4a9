/*
 * pmapsim - the demonstration: libpmap running a small "kernel" on the
 * simulated machine.
 *
 * Three processes share a pool of physical pages (some pages belong to two
 * of them, like a shared library).  CPUs 1..N-1 run the processes' threads:
 * they read and write their pages, and when an access faults, a minimal VM
 * fault handler re-enters the mapping (a soft fault), exactly as a kernel
 * built on pmap(9) would.  Meanwhile CPU 0 plays pagedaemon and
 * munmap/mprotect: it clears referenced bits, cleans modified pages
 * (pmap_clear_modify), write-protects pages for copy-on-write
 * (pmap_page_protect(READ)), evicts pages (pmap_page_protect(NONE)), and
 * removes or protects address ranges (pmap_remove, pmap_protect).  The
 * kernel pmap keeps a few pmap_kenter_pa buffers.
 *
 * Every word a thread reads carries its page's tag, so a stale translation
 * (a missing TLB invalidation) would show up as a "wrong page" read.  At the
 * end the program prints what happened, a dump of one process's page
 * tables, the consistency walkers' result, and as its last line the TLB
 * auditor's verdict over every CPU.
 *
 *   pmapsim [--cpus=N] [--rounds=N] [--seed=N] [--sfbuf=mapped]
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_pmap.h"
#include <pmap/pmap.h>

#define NPROC	3
#define NVA	96		/* pages per process */
#define NPOOL	160		/* physical pages */
#define NKBUF	8

struct proc_state {
	pmap_t pm;
	struct lwp lwp;
	int page_of[NVA];	/* the VM's intent: which pool page backs va */
	bool writable[NVA];
};

static struct proc_state procs[NPROC];
static struct vm_page *pool[NPOOL];
static vaddr_t kbuf;
static int ncpus = 4;
static long rounds = 1500;
static uint64_t seed = 1;

static atomic_bool stop;
static atomic_ulong st_reads, st_writes, st_faults_np, st_faults_prot, st_wrong;
static atomic_ulong st_enter, st_remove, st_protect, st_page_protect_ro,
    st_page_protect_none, st_clear_mod, st_clear_ref, st_cleaned, st_kenter;

static vaddr_t
va_of(int i)
{
	/* Three text/data-like regions per process. */
	static const vaddr_t base[3] = { 0x400000UL, (vaddr_t)(PMAP_USER_MAX / 8 * 7),
		(vaddr_t)(PMAP_USER_MAX / 8) };
	return base[i / 32] + (vaddr_t)(i % 32) * 4096;
}

static uint64_t
tag_of(int page)
{
	return 0x7a6700000000ULL | (uint64_t)page;
}

static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The VM fault handler: the access is allowed by the VM's intent, so make
 * the pmap agree (a soft fault). */
static bool
vm_fault(struct proc_state *p, int i, bool write)
{
	if (write && !p->writable[i])
		return false;	/* a real protection violation: SIGSEGV */
	vm_prot_t prot = VM_PROT_READ | (p->writable[i] ? VM_PROT_WRITE : 0);
	u_int access = write ? VM_PROT_READ | VM_PROT_WRITE : VM_PROT_READ;
	int r = pmap_enter(p->pm, va_of(i), pool[p->page_of[i]]->phys_addr, prot,
	    access | PMAP_CANFAIL);
	pmap_update(p->pm);
	atomic_fetch_add(&st_enter, 1);
	return r == 0;
}

struct thread_arg {
	int cpu;
	uint64_t rng;
};

static void
user_thread(void *arg)
{
	struct thread_arg *t = arg;
	int cur = -1;
	while (!atomic_load(&stop)) {
		/* A context switch now and then. */
		if (cur < 0 || rnd(&t->rng) % 512 == 0) {
			cur = (int)(rnd(&t->rng) % NPROC);
			sim_set_curlwp(&procs[cur].lwp);
			pmap_activate(&procs[cur].lwp);
		}
		struct proc_state *p = &procs[cur];
		int i = (int)(rnd(&t->rng) % NVA);
		bool write = p->writable[i] && rnd(&t->rng) % 3 == 0;
		vaddr_t va = va_of(i) + 8 * (1 + (vaddr_t)t->cpu);
		for (int attempt = 0; attempt < 4; attempt++) {
			uint64_t v;
			int r = write ? sim_store(va, 8, tag_of(p->page_of[i]), SIM_ACC_USER)
				      : sim_load(va - 8 * (1 + (vaddr_t)t->cpu), 8, &v, SIM_ACC_USER);
			if (r == SIM_OK) {
				if (write) {
					atomic_fetch_add(&st_writes, 1);
				} else {
					atomic_fetch_add(&st_reads, 1);
					if (v != tag_of(p->page_of[i]))
						atomic_fetch_add(&st_wrong, 1);
				}
				break;
			}
			struct sim_fault f = sim_last_fault();
			atomic_fetch_add(f.error_code & 1 ? &st_faults_prot : &st_faults_np, 1);
			if (!vm_fault(p, i, write))
				break;
		}
		/* Kernel work: read a kenter'ed buffer. */
		if (rnd(&t->rng) % 16 == 0) {
			uint64_t v;
			sim_load(kbuf + (rnd(&t->rng) % NKBUF) * 4096, 8, &v, 0);
		}
	}
	sim_set_curlwp(NULL);
	pmap_activate(NULL);
}

static void
pagedaemon(uint64_t *rng)
{
	for (long r = 0; r < rounds; r++) {
		int pg = (int)(rnd(rng) % NPOOL);
		struct vm_page *m = pool[pg];
		switch (rnd(rng) % 10) {
		case 0: case 1:
			pmap_clear_reference(m);
			atomic_fetch_add(&st_clear_ref, 1);
			break;
		case 2: case 3:
			if (pmap_clear_modify(m))
				atomic_fetch_add(&st_cleaned, 1);	/* "written back" */
			atomic_fetch_add(&st_clear_mod, 1);
			break;
		case 4:
			pmap_page_protect(m, VM_PROT_READ);	/* copy-on-write */
			atomic_fetch_add(&st_page_protect_ro, 1);
			break;
		case 5: case 6:
			pmap_page_protect(m, VM_PROT_NONE);	/* evict */
			atomic_fetch_add(&st_page_protect_none, 1);
			break;
		case 7: {
			struct proc_state *p = &procs[rnd(rng) % NPROC];
			int i = (int)(rnd(rng) % (NVA - 4));
			pmap_remove(p->pm, va_of(i), va_of(i) + 4 * 4096);	/* munmap-ish */
			pmap_update(p->pm);
			atomic_fetch_add(&st_remove, 1);
			break;
		}
		case 8: {
			struct proc_state *p = &procs[rnd(rng) % NPROC];
			int i = (int)(rnd(rng) % (NVA - 4));
			pmap_protect(p->pm, va_of(i), va_of(i) + 4 * 4096, VM_PROT_READ);
			pmap_update(p->pm);
			atomic_fetch_add(&st_protect, 1);
			break;
		}
		default: {
			int k = (int)(rnd(rng) % NKBUF);
			pmap_kremove(kbuf + (vaddr_t)k * 4096, 4096);
			pmap_kenter_pa(kbuf + (vaddr_t)k * 4096, pool[rnd(rng) % NPOOL]->phys_addr,
			    VM_PROT_READ | VM_PROT_WRITE, 0);
			pmap_update(pmap_kernel());
			atomic_fetch_add(&st_kenter, 1);
			break;
		}
		}
	}
}

static void
setup(void *arg)
{
	(void)arg;
	uint64_t rng = seed;
	for (int i = 0; i < NPOOL; i++) {
		uint64_t pa;
		if (sim_page_alloc(&pa) != 0) {
			fprintf(stderr, "pmapsim: out of simulated memory\n");
			exit(1);
		}
		pool[i] = sim_pa_to_vm_page(pa);
		memset(&pool[i]->mdpage, 0, sizeof(pool[i]->mdpage));
		uint64_t *w = sim_phys_ptr(pa);
		for (int j = 0; j < 512; j++)
			w[j] = tag_of(i);
	}
	for (int p = 0; p < NPROC; p++) {
		procs[p].pm = pmap_create();
		procs[p].lwp.l_pmap = procs[p].pm;
		procs[p].lwp.l_id = p + 1;
		for (int i = 0; i < NVA; i++) {
			/* Region 0 is shared text (same pages in every process). */
			procs[p].page_of[i] = i < 32 ? i : 32 + p * 40 + (int)(rnd(&rng) % 40);
			procs[p].writable[i] = i >= 32;
			vm_prot_t prot = VM_PROT_READ | (procs[p].writable[i] ? VM_PROT_WRITE : 0);
			pmap_enter(procs[p].pm, va_of(i), pool[procs[p].page_of[i]]->phys_addr,
			    prot, 0);
		}
		pmap_update(procs[p].pm);
	}
	vaddr_t vs, ve;
	pmap_virtual_space(&vs, &ve);
	kbuf = vs;
	pmap_growkernel(kbuf + NKBUF * 4096);
	for (int k = 0; k < NKBUF; k++)
		pmap_kenter_pa(kbuf + (vaddr_t)k * 4096, pool[k]->phys_addr,
		    VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_update(pmap_kernel());
}

static void
run_cpu0(void *arg)
{
	uint64_t *rng = arg;
	pagedaemon(rng);
	atomic_store(&stop, true);
}

static void
teardown_check(void *arg)
{
	int *bad = arg;
	for (int p = 0; p < NPROC; p++)
		pmap_check_pmap(procs[p].pm);	/* panics (aborts) on any inconsistency */
	pmap_check_pmap(pmap_kernel());
	for (int i = 0; i < NPOOL; i++)
		pmap_check_page(pool[i]);
	*bad = 0;
}

static void
dump(void *arg)
{
	(void)arg;
	printf("\n--- page tables of process 1 (pmap_dump), first region and one page of "
	    "the second ---\n");
	pmap_dump(procs[0].pm, va_of(0), va_of(32) + 4096);
}

int
main(int argc, char **argv)
{
	struct sim_pmap_config c;
	sim_pmap_config_default(&c);
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--cpus=", 7) == 0)
			ncpus = atoi(argv[i] + 7);
		else if (strncmp(argv[i], "--rounds=", 9) == 0)
			rounds = atol(argv[i] + 9);
		else if (strncmp(argv[i], "--seed=", 7) == 0)
			seed = strtoull(argv[i] + 7, NULL, 0);
		else if (strcmp(argv[i], "--sfbuf=mapped") == 0)
			c.sfbuf_mode = PMAP_SFBUF_MAPPED;
		else {
			fprintf(stderr, "usage: pmapsim [--cpus=N] [--rounds=N] [--seed=N] "
			    "[--sfbuf=mapped]\n");
			return 2;
		}
	}
	if (ncpus < 2 || ncpus > 16) {
		fprintf(stderr, "pmapsim: --cpus must be 2..16\n");
		return 2;
	}
	c.machine.ncpus = ncpus;
	c.machine.seed = seed;
	printf("pmapsim: libpmap on a simulated %d-CPU " PMAP_MACHINE " machine, %llu MiB, strict TLB "
	    "(no silent eviction), seed %llu\n", ncpus,
	    (unsigned long long)(c.machine.mem_size >> 20), (unsigned long long)seed);
	printf("%d processes x %d pages over %d physical pages; CPUs 1-%d run them, CPU 0 "
	    "is pagedaemon/munmap/mprotect for %ld rounds\n", NPROC, NVA, NPOOL, ncpus - 1,
	    rounds);
	sim_pmap_boot(&c);
	sim_run_on(0, setup, NULL);
	sim_stats_reset();

	struct thread_arg ta[16];
	for (int i = 1; i < ncpus; i++) {
		ta[i] = (struct thread_arg){ i, seed * 131 + (uint64_t)i };
		sim_run_async(i, user_thread, &ta[i]);
	}
	uint64_t rng0 = seed ^ 0xd1ce;
	sim_run_on(0, run_cpu0, &rng0);
	for (int i = 1; i < ncpus; i++)
		sim_wait(i);

	struct pmap_counters pc;
	pmap_get_counters(&pc);
	printf("\n--- what happened ---\n");
	printf("user accesses     %8lu reads, %lu writes; %lu read the wrong page\n",
	    atomic_load(&st_reads), atomic_load(&st_writes), atomic_load(&st_wrong));
	printf("page faults       %8lu not-present, %lu protection (all soft: re-entered "
	    "with pmap_enter)\n", atomic_load(&st_faults_np), atomic_load(&st_faults_prot));
	printf("pmap operations   %8lu pmap_enter, %lu pmap_remove, %lu pmap_protect, "
	    "%lu kenter/kremove\n", atomic_load(&st_enter), atomic_load(&st_remove),
	    atomic_load(&st_protect), atomic_load(&st_kenter));
	printf("page operations   %8lu page_protect(READ), %lu page_protect(NONE), "
	    "%lu clear_modify (%lu pages were dirty), %lu clear_reference\n",
	    atomic_load(&st_page_protect_ro), atomic_load(&st_page_protect_none),
	    atomic_load(&st_clear_mod), atomic_load(&st_cleaned), atomic_load(&st_clear_ref));
	printf("shootdowns        %8llu rounds, %llu IPIs sent; %llu INVLPG, %llu full "
	    "flushes\n", (unsigned long long)pc.pc_shootdowns,
	    (unsigned long long)pc.pc_shootdown_ipis, (unsigned long long)pc.pc_page_invalidations,
	    (unsigned long long)pc.pc_full_flushes);
	printf("pv entries        %8llu in %llu chunk pages (first mapping of a page is "
	    "kept in the page itself)\n", (unsigned long long)pc.pc_pv_entries,
	    (unsigned long long)pc.pc_pv_chunks);
	printf("page-table pages  %8llu user + %llu kernel\n",
	    (unsigned long long)pc.pc_ptp_pages, (unsigned long long)pc.pc_kptp_pages);
	for (int p = 0; p < NPROC; p++)
		printf("process %d         %8ld resident, %ld page-table pages\n",
		    p + 1, pmap_resident_count(procs[p].pm), pmap_ptp_count(procs[p].pm));
	printf("kernel pmap       %8ld resident, %ld wired (pmap_kenter_pa buffers)\n",
	    pmap_resident_count(pmap_kernel()), pmap_wired_count(pmap_kernel()));
	printf("\n--- per CPU (simulated MMU) ---\n");
	for (int i = 0; i < ncpus; i++) {
		struct sim_cpu_stats s = sim_cpu_stats(i);
		printf("cpu %d: %9llu accesses, %9llu TLB hits, %7llu walks, %6llu faults, "
		    "%6llu INVLPG, %5llu CR3 loads, %6llu IPIs taken\n", i,
		    (unsigned long long)s.accesses, (unsigned long long)s.tlb_hits,
		    (unsigned long long)s.walks, (unsigned long long)s.page_faults,
		    (unsigned long long)s.invlpg, (unsigned long long)s.cr3_loads,
		    (unsigned long long)s.ipis_taken);
	}

	sim_host_printf_prefix(NULL);
	sim_run_on(0, dump, NULL);
	int bad = 1;
	sim_run_on(0, teardown_check, &bad);
	printf("\nconsistency: every valid managed PTE has exactly one pv entry, counts "
	    "exact: %s\n", bad == 0 ? "yes" : "NO");

	struct sim_audit_report r;
	bool good = sim_audit(&r) && atomic_load(&st_wrong) == 0;
	if (good)
		printf("audit: OK - the TLBs and paging-structure caches of all %d CPUs agree "
		    "with the page tables, none references a free page\n", ncpus);
	else
		printf("audit: VIOLATION - %s\n", atomic_load(&st_wrong) ? "a thread read the "
		    "wrong page" : r.text);
	sim_pmap_shutdown();
	return good ? 0 : 1;
}
