// SPDX-License-Identifier: BSD-2-Clause
/*
 * sim_host_inline.h - the simulated machine's hot hooks as static inline
 * functions, for the library's own files (PMAP_HOST_INLINE in
 * <pmap/pmap_host.h>; the Makefile builds pmap/ and arch/ with it): the
 * direct map, the vm_page of a physical address and the struct
 * pmap_page inside one become a load or two instead of a call.
 *
 * The fast paths are exactly the out-of-line hooks' answers.  They step
 * aside - calling the hook - whenever the hook would do more: while the
 * machine makes every lookup an interrupt point (sim_points_all: the
 * deterministic schedulers, speculative fills), and, for the direct map,
 * when memory is sparse (no single host mapping of it) or pa is beyond
 * it (the hook's check panics).  A kernel's own inline header would be
 * simpler still: its direct map is an addition, its vm_page array an
 * index.
 */
#ifndef PMAP_SIM_HOST_INLINE_H
#define PMAP_SIM_HOST_INLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "sim_vm_page.h"

extern bool sim_points_all;
/* Simulated memory as one host mapping (NULL and 0 when sparse). */
extern uint8_t *sim_phys_flat;
extern uint64_t sim_phys_flat_end;
/* The host's vm_page array, and which frames are RAM. */
extern struct vm_page *sim_vm_pages;
extern uint8_t *sim_vm_page_ram;
extern uint64_t sim_vm_npages;
/* The hooks themselves, out of line (host_<arch>.c, host.c). */
void *sim_host_phys_map_call(paddr_t pa);
struct vm_page *sim_host_phys_to_page_call(paddr_t pa);

#define PMAP_HOST_INLINE_PHYS_MAP
static inline void *
pmap_host_phys_map(paddr_t pa)
{
	if (__builtin_expect(!sim_points_all && pa < sim_phys_flat_end, 1))
		return sim_phys_flat + pa;
	return sim_host_phys_map_call(pa);
}

#define PMAP_HOST_INLINE_PHYS_TO_PAGE
static inline struct vm_page *
pmap_host_phys_to_page(paddr_t pa)
{
	if (__builtin_expect(sim_points_all, 0))
		return sim_host_phys_to_page_call(pa);
	uint64_t pfn = pa >> 12;
	return pfn < sim_vm_npages && sim_vm_page_ram[pfn] ? &sim_vm_pages[pfn] : NULL;
}

#define PMAP_HOST_INLINE_PAGE_MD
static inline struct pmap_page *
pmap_host_page_md(struct vm_page *pg)
{
	return &pg->mdpage;
}

#define PMAP_HOST_INLINE_PAGE_PA
static inline paddr_t
pmap_host_page_pa(struct vm_page *pg)
{
	return pg->phys_addr;
}

#endif
