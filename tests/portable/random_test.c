// SPDX-License-Identifier: BSD-2-Clause
/*
 * random_test.c - seeded random sequences of pmap operations checked, step
 * by step, against the reference model of tests/lib/pmap_model.h: 4 seeds
 * of 25,000 steps (scaled on slow machines), each torn down completely;
 * then nothing may be left - no pv entry, chunk, page-table page or page.
 * Any difference is reported with the seed and step.
 */
#include "ptest_util.h"
#include "pmap_model.h"

static uint64_t rng;

static uint64_t
next_random(void)
{
	return ptest_rand(&rng);
}

static void
run_seed(uint64_t seed, long nsteps)
{
	seed_now = seed;
	rng = seed;
	model_next = next_random;
	model_setup();
	int before = failures;
	for (step = 0; step < nsteps && failures - before < 5;)
		model_step();
	model_teardown();
	ok(failures == before, "seed %llu: %ld random steps match the reference model",
	    (unsigned long long)seed, step);
}

PTEST_SUITE(random)
{
	uint64_t pages_before = ptest_pages_free();
	long steps = 25000L * (long)ptest_scale_percent() / 100;
	if (steps < 200)
		steps = 200;
	uint64_t s0 = ptest_seed();
	for (uint64_t i = 0; i < 4; i++)
		run_seed(s0 * 1000 + i, steps);
	struct pmap_counters c;
	pmap_get_counters(&c);
	ok(c.pc_pv_entries == 0 && c.pc_pv_chunks == 0 && c.pc_ptp_pages == 0,
	    "after the last seed no pv entry, pv chunk or user page-table page is left "
	    "(%llu, %llu, %llu)", (unsigned long long)c.pc_pv_entries,
	    (unsigned long long)c.pc_pv_chunks, (unsigned long long)c.pc_ptp_pages);
	is_u64(ptest_pages_free(), pages_before, "every page went back to the allocator");
}
