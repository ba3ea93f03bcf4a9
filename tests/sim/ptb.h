// SPDX-License-Identifier: BSD-2-Clause
/*
 * ptb.h - build amd64 (4-level) and i386 (legacy 32-bit) page tables by hand
 * in simulated physical memory, for the MMU tests (no pmap involved).
 */
#ifndef PMAP_TESTS_PTB_H
#define PMAP_TESTS_PTB_H

#include <stdlib.h>
#include <string.h>

#include "i386_paging.h"
#include "sim.h"
#include <pmap/amd64_pte.h>

#define PTB_UPPER (PG_P | PG_RW | PG_US)	/* default non-leaf rights */

/* 8-aligned in a 32-bit process too, for 64-bit atomics. */
typedef uint64_t ptb_u64a __attribute__((aligned(8)));

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
	return __atomic_load_n((ptb_u64a *)sim_phys_ptr(table + 8ULL * idx), __ATOMIC_ACQUIRE);
}

static inline void
ptb_set(uint64_t table, unsigned idx, uint64_t e)
{
	__atomic_store_n((ptb_u64a *)sim_phys_ptr(table + 8ULL * idx), e, __ATOMIC_RELEASE);
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

static inline ptb_u64a *
ptb_ptr(uint64_t slot_pa)
{
	return (ptb_u64a *)sim_phys_ptr(slot_pa);
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

/* ---- i386: a page directory and page tables of 1024 4-byte entries ---- */

static inline unsigned
ptb32_index(uint64_t va, int level)
{
	return (unsigned)(va >> (level == I386_LVL_PD ? I386_PDE_SHIFT : I386_PG_SHIFT)) &
	    (I386_NENT - 1);
}

static inline uint32_t
ptb32_read(uint64_t slot_pa)
{
	return __atomic_load_n((uint32_t *)sim_phys_ptr(slot_pa), __ATOMIC_ACQUIRE);
}

static inline void
ptb32_write(uint64_t slot_pa, uint64_t e)
{
	__atomic_store_n((uint32_t *)sim_phys_ptr(slot_pa), (uint32_t)e, __ATOMIC_RELEASE);
}

/* Physical address of the entry for va at level (2: PDE, 1: PTE) under the
 * page directory pd, creating the page table with PDE bits upper. */
static inline uint64_t
ptb32_slot(uint64_t pd, uint64_t va, int level, uint64_t upper)
{
	uint64_t pde = pd + I386_ENTRY_SIZE * ptb32_index(va, I386_LVL_PD);
	if (level == I386_LVL_PD)
		return pde;
	uint32_t e = ptb32_read(pde);
	if (!(e & PG_P)) {
		e = (uint32_t)(ptb_page() | upper);
		ptb32_write(pde, e);
	}
	return (e & I386_FRAME) + I386_ENTRY_SIZE * ptb32_index(va, I386_LVL_PT);
}

/* Map va -> pa at level (1: 4 KiB; 2: 4 MiB, PS set); returns the slot. */
static inline uint64_t
ptb32_map(uint64_t pd, uint64_t va, uint64_t pa, int level, uint64_t leaf)
{
	uint64_t slot = ptb32_slot(pd, va, level, PTB_UPPER);
	ptb32_write(slot, pa | leaf | (level == I386_LVL_PD ? I386_PG_PS : 0));
	return slot;
}

/* The slot for va at level in an existing tree (0 if the PT is missing). */
static inline uint64_t
ptb32_lookup(uint64_t pd, uint64_t va, int level)
{
	uint64_t pde = pd + I386_ENTRY_SIZE * ptb32_index(va, I386_LVL_PD);
	if (level == I386_LVL_PD)
		return pde;
	uint32_t e = ptb32_read(pde);
	if (!(e & PG_P))
		return 0;
	return (e & I386_FRAME) + I386_ENTRY_SIZE * ptb32_index(va, I386_LVL_PT);
}

#endif
