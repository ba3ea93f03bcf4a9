// SPDX-License-Identifier: BSD-2-Clause
/*
 * bench_mmu - cost of a simulated access: TLB hit (micro-TLB and main
 * table) and a full page walk.  Prints nanoseconds per access and
 * translations per second per CPU thread.  A benchmark, not a test: it
 * asserts nothing; compare the lines of one run with each other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"
#include <pmap/amd64_pte.h>

static uint64_t root;

static uint64_t
page(void)
{
	uint64_t pa;
	if (sim_page_alloc(&pa) != 0) {
		fprintf(stderr, "bench_mmu: out of memory\n");
		_Exit(1);
	}
	memset(sim_phys_ptr(pa), 0, 4096);
	return pa;
}

static void
map4k(uint64_t va, uint64_t pa)
{
	uint64_t table = root;
	for (int l = AMD64_LVL_PML4; l > AMD64_LVL_PT; l--) {
		uint64_t *e = (uint64_t *)sim_phys_ptr(table) + amd64_pt_index(va, l);
		if (!(*e & PG_P))
			*e = page() | PG_P | PG_RW;
		table = *e & PG_FRAME;
	}
	((uint64_t *)sim_phys_ptr(table))[amd64_pt_index(va, 1)] = pa | PG_P | PG_RW;
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

#define BASE 0x0000100000000000ULL

static void
measure(const char *what, unsigned npages, unsigned iters, bool invlpg)
{
	uint64_t v, sum = 0;
	for (unsigned i = 0; i < npages; i++)	/* warm up */
		sim_load(BASE + (uint64_t)i * 4096, 8, &v, 0);
	double t0 = now();
	for (unsigned i = 0; i < iters; i++) {
		uint64_t va = BASE + (uint64_t)(i % npages) * 4096;
		if (invlpg)
			sim_invlpg(va);
		sim_load(va, 8, &v, 0);
		sum += v;
	}
	double ns = (now() - t0) / iters;
	printf("%-44s %8.2f ns/access %10.1f M translations/s\n", what, ns, 1e3 / ns);
	(void)sum;
}

static void
run(void *arg)
{
	(void)arg;
	root = page();
	uint64_t data = page();
	for (unsigned i = 0; i < 4096; i++)
		map4k(BASE + (uint64_t)i * 4096, data);
	sim_write_cr3(root);

	measure("TLB hit, 16 pages (micro-TLB)", 16, 50000000, false);
	measure("TLB hit, 4096 pages (main TLB table)", 4096, 20000000, false);
	measure("page walk (INVLPG before each access)", 4096, 2000000, true);
	double t0 = now();
	for (unsigned i = 0; i < 2000000; i++)
		sim_invlpg(BASE + (uint64_t)(i % 4096) * 4096);
	printf("%-44s %8.2f ns\n", "  of which INVLPG alone", (now() - t0) / 2000000);
}

int
main(void)
{
	struct sim_config c;
	sim_config_default(&c);
	c.ncpus = 1;
	sim_init(&c);
	sim_run_on(0, run, NULL);
	sim_fini();
	return 0;
}
