/*
 * ptb.h - build amd64 page tables by hand in simulated physical memory,
 * for the MMU tests (no pmap involved).
 */
#ifndef PMAP_TESTS_PTB_H
#define PMAP_TESTS_PTB_H

#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include <pmap/amd64_pte.h>

#define PTB_UPPER (PG_P | PG_RW | PG_US)	/* default non-leaf rights */

static inline uint64_t
ptb_page(void)
{
	uint64_t pa;
	if (sim_page_alloc(&pa) != 0)
		abort();
	memset(sim_phys_ptr(pa), 0, SIM_PAGE_SIZE);
	return pa;
}

static inline uint64_t
ptb_get(uint64_t table, unsigned idx)
{
	return __atomic_load_n((uint64_t *)sim_phys_ptr(table + 8ULL * idx), __ATOMIC_ACQUIRE);
}

static inline void
ptb_set(uint64_t table, unsigned idx, uint64_t e)
{
	__atomic_store_n((uint64_t *)sim_phys_ptr(table + 8ULL * idx), e, __ATOMIC_RELEASE);
}

/* Physical address of the entry for va at level, creating tables above it
 * with PTB_UPPER | extra_upper. */
static inline uint64_t
ptb_slot(uint64_t root, uint64_t va, int level, uint64_t upper)
{
	uint64_t table = root;
	for (int l = AMD64_LVL_PML4; l > level; l--) {
		unsigned i = amd64_pt_index(va, l);
		uint64_t e = ptb_get(table, i);
		if (!(e & PG_P)) {
			e = ptb_page() | upper;
			ptb_set(table, i, e);
		}
		table = e & PG_FRAME;
	}
	return table + 8ULL * amd64_pt_index(va, level);
}

static inline uint64_t *
ptb_ptr(uint64_t slot_pa)
{
	return (uint64_t *)sim_phys_ptr(slot_pa);
}

static inline uint64_t
ptb_read(uint64_t slot_pa)
{
	return __atomic_load_n(ptb_ptr(slot_pa), __ATOMIC_ACQUIRE);
}

static inline void
ptb_write(uint64_t slot_pa, uint64_t e)
{
	__atomic_store_n(ptb_ptr(slot_pa), e, __ATOMIC_RELEASE);
}

/* Map va -> pa at level (1: 4K, 2: 2M with PS, 3: 1G with PS). */
static inline uint64_t
ptb_map(uint64_t root, uint64_t va, uint64_t pa, int level, uint64_t leaf)
{
	uint64_t slot = ptb_slot(root, va, level, PTB_UPPER);
	ptb_write(slot, pa | leaf | (level > 1 ? PG_PS : 0));
	return slot;
}

/* Entry for va at level in an existing tree (0 if a table is missing). */
static inline uint64_t
ptb_lookup(uint64_t root, uint64_t va, int level)
{
	uint64_t table = root;
	for (int l = AMD64_LVL_PML4; l > level; l--) {
		uint64_t e = ptb_get(table, amd64_pt_index(va, l));
		if (!(e & PG_P))
			return 0;
		table = e & PG_FRAME;
	}
	return table + 8ULL * amd64_pt_index(va, level);
}

#endif
