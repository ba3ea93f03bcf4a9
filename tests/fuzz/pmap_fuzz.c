// SPDX-License-Identifier: BSD-2-Clause
/*
 * pmap_fuzz.c - libFuzzer target: the fuzzer's bytes choose a sequence of
 * pmap operations (every choice the random suite makes with its
 * generator), which runs on a 3-CPU simulated machine in strict TLB mode
 * and is checked step by step against the reference model of
 * tests/lib/pmap_model.h; then everything is torn down and must come back.
 * Any disagreement, inconsistency, TLB-audit violation, page freed while
 * a TLB still holds it, or leaked page aborts, which libFuzzer reports
 * with the input that caused it.
 *
 *   make fuzz FUZZ_TIME=60            run for a minute, corpus in build/fuzz/corpus
 *   build/fuzz/pmap_fuzz crash-...    replay a reported input
 */
#include <stdio.h>
#include <stdlib.h>

/* A small world, so short inputs revisit the same page, slot and CPU. */
#define NPM	2
#define NSLOT	8
#define NPAGE	4
#define NKSLOT	2
#include "ptest_util.h"
#include "pmap_model.h"
#include "sim_pmap.h"

static const uint8_t *fz_data;
static size_t fz_len, fz_pos;
static bool fz_done;
static uint64_t baseline_free;

static uint64_t
next_byte(void)
{
	if (fz_pos >= fz_len) {
		fz_done = true;
		return 0;
	}
	return fz_data[fz_pos++];
}

static void
die(void)
{
	fflush(stdout);
	abort();
}

static void
free_violation(const char *report)
{
	fprintf(stderr, "pmap_fuzz: %s\n", report);
	die();
}

static void
run_input(void *arg)
{
	(void)arg;
	model_next = next_byte;
	model_on_fail = die;
	model_setup();
	step = 0;
	while (!fz_done && step < 8192)
		model_step();
	model_teardown();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct sim_pmap_config c;
	sim_pmap_config_default(&c);
	c.machine.ncpus = 3;
	c.machine.mem_size = 32ULL << 20;
	sim_host_printf_prefix("# ");
	sim_pmap_boot(&c);
	sim_set_free_violation_hook(free_violation);
	baseline_free = sim_pages_free();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_data = data;
	fz_len = size;
	fz_pos = 0;
	fz_done = false;
	sim_run_on(0, run_input, NULL);
	/* The kenter slots lie in KVA whose page tables exist from boot, so
	 * every page - pv chunks, page tables, pmaps, data - must be back. */
	if (sim_pages_free() != baseline_free) {
		fprintf(stderr, "pmap_fuzz: %lld pages not returned\n",
		    (long long)baseline_free - (long long)sim_pages_free());
		die();
	}
	return 0;
}
