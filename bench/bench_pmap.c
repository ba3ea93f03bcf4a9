/*
 * bench_pmap - the cost of pmap operations over 2^18 pages (1 GiB) on the
 * simulated machine, in nanoseconds per page, and the memory the library
 * spends per mapping.  A benchmark: it asserts nothing and its times are
 * noisy; compare lines of one run, or count instructions with
 *   valgrind --tool=callgrind build/release/bin/bench_pmap --pages=16384
 * which is repeatable.
 *
 *   bench_pmap [--pages=N]     (default 262144)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_pmap.h"

static long npages = 1L << 18;
static struct vm_page **pgs;

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void
line(const char *what, double t0)
{
	printf("%-46s %8.1f ns/page\n", what, (now() - t0) / (double)npages);
}

#define VA0 ((vaddr_t)(PMAP_USER_MAX / 8))	/* 2 GiB aligned on both machines */

static void
run(void *arg)
{
	(void)arg;
	pgs = calloc((size_t)npages, sizeof(*pgs));
	for (long i = 0; i < npages; i++) {
		uint64_t pa;
		if (sim_page_alloc(&pa) != 0) {
			fprintf(stderr, "bench_pmap: out of simulated memory at page %ld\n", i);
			exit(1);
		}
		pgs[i] = sim_pa_to_vm_page(pa);
	}
	pmap_t pm = pmap_create(), pm2 = pmap_create();
	struct lwp l = { .l_pmap = pm };
	sim_set_curlwp(&l);
	pmap_activate(&l);

	double t = now();
	for (long i = 0; i < npages; i++)
		pmap_enter(pm, VA0 + (vaddr_t)i * 4096, pgs[i]->phys_addr,
		    VM_PROT_READ | VM_PROT_WRITE, VM_PROT_READ | VM_PROT_WRITE);
	pmap_update(pm);
	line("pmap_enter (new mapping, first of its page)", t);

	struct pmap_counters c0, c1;
	pmap_get_counters(&c0);
	t = now();
	for (long i = 0; i < npages; i++)
		pmap_enter(pm2, VA0 + (vaddr_t)i * 4096, pgs[i]->phys_addr, VM_PROT_READ, 0);
	pmap_update(pm2);
	line("pmap_enter (second mapping: needs a pv entry)", t);
	pmap_get_counters(&c1);

	t = now();
	paddr_t pa;
	unsigned long sum = 0;
	for (long i = 0; i < npages; i++)
		sum += pmap_extract(pm, VA0 + (vaddr_t)i * 4096, &pa);
	line("pmap_extract", t);

	t = now();
	pmap_protect(pm, VA0, VA0 + (vaddr_t)npages * 4096, VM_PROT_READ);
	pmap_update(pm);
	line("pmap_protect (rw -> r, one call for the range)", t);

	t = now();
	for (long i = 0; i < npages; i++)
		pmap_clear_modify(pgs[i]);
	line("pmap_clear_modify (2 mappings, 1 dirty)", t);

	t = now();
	for (long i = 0; i < npages; i++)
		pmap_page_protect(pgs[i], VM_PROT_READ);
	line("pmap_page_protect(READ) (2 mappings)", t);

	long ptps = pmap_ptp_count(pm) + pmap_ptp_count(pm2);
	t = now();
	pmap_remove(pm, VA0, VA0 + (vaddr_t)npages * 4096);
	pmap_update(pm);
	line("pmap_remove (one call for the range)", t);

	t = now();
	for (long i = 0; i < npages; i++)
		pmap_page_protect(pgs[i], VM_PROT_NONE);
	line("pmap_page_protect(NONE) (1 mapping left)", t);

	printf("%-46s %8.2f bytes/mapping\n", "page-table memory", (double)ptps * 4096.0 /
	    (2.0 * (double)npages));
	printf("%-46s %8.2f bytes/mapping\n", "pv memory, first mapping of a page", 0.0);
	printf("%-46s %8.2f bytes/mapping (%llu chunk pages)\n",
	    "pv memory, each further mapping",
	    (double)(c1.pc_pv_chunks - c0.pc_pv_chunks) * 4096.0 / (double)npages,
	    (unsigned long long)(c1.pc_pv_chunks - c0.pc_pv_chunks));
	sim_set_curlwp(NULL);
	pmap_activate(NULL);
	pmap_destroy(pm);
	pmap_destroy(pm2);
	(void)sum;
}

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--pages=", 8) == 0)
			npages = atol(argv[i] + 8);
		else {
			fprintf(stderr, "usage: bench_pmap [--pages=N]\n");
			return 2;
		}
	}
	struct sim_pmap_config c;
	sim_pmap_config_default(&c);
	c.machine.audit_on_free = false;
	c.machine.mem_size = (uint64_t)npages * 4096 + (256ULL << 20);
	sim_host_printf_prefix("# ");
	sim_pmap_boot(&c);
	printf("bench_pmap: %ld pages (%ld MiB mapped twice), 4 simulated CPUs, pmap "
	    "loaded on CPU 0 only\n", npages, npages >> 8);
	sim_run_on(0, run, NULL);
	sim_pmap_shutdown();
	return 0;
}
