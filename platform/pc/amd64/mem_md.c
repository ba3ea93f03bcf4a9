// SPDX-License-Identifier: BSD-2-Clause
/*
 * mem_md.c - amd64: the direct map and the boot page tables.
 *
 * The final direct map (see pc_layout.h) is built in fresh tables from the
 * allocator and switched into pml4[256]; a 2 MiB chunk below 4 GiB that
 * contains no RAM-like memory (types 1, 3, 4) is mapped PCD|PWT (uncached):
 * that is where the LAPIC and IOAPIC registers live.
 *
 * Boot page tables: the walk behind mem.c's pc_bootpt_enter/remove, and
 * pc_bootpt_lookup; see pc.h for the contract.  The identity map
 * (pml4[0]) is removed once all APs are up (pc_mem_drop_identity).
 */
#include "pc_internal.h"

#define FOUR_GIB            0x100000000ULL

static uint64_t pc_dmap_top;            /* direct map covers [0, top) */

extern char pc_image_end[];

static inline uint64_t
image_pa(const void *kva)
{
	return (uint64_t)(uintptr_t)kva - PC_KERNEL_VMA;
}

void *
pc_phys_map(uint64_t pa, size_t len)
{
	PC_ASSERT(pa + len <= pc_dmap_top || pa + len <= FOUR_GIB);
	return pc_phys_to_dmap(pa);
}

void
pc_phys_unmap(void *p, size_t len)
{
	(void)p;
	(void)len;
}

void *
pc_phys_permanent(uint64_t pa, size_t len)
{
	/* Before pc_md_mem_init the boot tables map [0, 4 GiB). */
	if (pa + len > (pc_dmap_top != 0 ? pc_dmap_top : FOUR_GIB))
		return NULL;
	return pc_phys_to_dmap(pa);
}

/* ---------------------------------------------------------------------
 * Direct map.
 * --------------------------------------------------------------------- */
void
pc_md_mem_init(void)
{
	uint64_t top = PC_MAX(FOUR_GIB,
	    PC_ROUNDUP(pc_mem_highest_ram(), PC_LARGE_PAGE_SIZE));
	bool huge = pc_cpu_features()->cf_pdpe1gb;
	uint64_t pdpt_pa, *pdpt, *pd = NULL;

	if (top > 512 * PC_HUGE_PAGE_SIZE) {
		pc_printf("# pc: direct map limited to 512 GiB\n");
		top = 512 * PC_HUGE_PAGE_SIZE;
	}
	pdpt_pa = pc_mem_alloc_table();
	PC_ASSERT(pdpt_pa != 0 && pdpt_pa < FOUR_GIB);
	pdpt = pc_phys_to_dmap(pdpt_pa);

	for (uint64_t pa = 0; pa < top;) {
		unsigned i3 = (unsigned)(pa >> 30), i2 = (pa >> 21) & 511;

		if (huge && pa >= FOUR_GIB && (pa & (PC_HUGE_PAGE_SIZE - 1)) == 0 &&
		    pa + PC_HUGE_PAGE_SIZE <= top) {
			pdpt[i3] = pa | PC_PTE_P | PC_PTE_RW | PC_PTE_PS;
			pa += PC_HUGE_PAGE_SIZE;
			continue;
		}
		if (pdpt[i3] == 0) {
			uint64_t pd_pa = pc_mem_alloc_table();

			/* Tables for the first 4 GiB come from low memory,
			 * which the boot direct map still reaches. */
			PC_ASSERT(pd_pa != 0 && pd_pa < FOUR_GIB);
			pdpt[i3] = pd_pa | PC_PTE_P | PC_PTE_RW;
		}
		pd = pc_phys_to_dmap(pdpt[i3] & PC_PTE_FRAME);
		pd[i2] = pa | PC_PTE_P | PC_PTE_RW | PC_PTE_PS |
		    (pc_mem_has_ram(pa, pa + PC_LARGE_PAGE_SIZE) ? 0 :
		    PC_PTE_PCD | PC_PTE_PWT);
		pa += PC_LARGE_PAGE_SIZE;
	}
	pc_boot_pml4[256] = pdpt_pa | PC_PTE_P | PC_PTE_RW;
	pc_tlb_flush_local();
	pc_dmap_top = top;
}

uint64_t
pc_dmap_end(void)
{
	return pc_dmap_top;
}

uint64_t
pc_kvtophys(const void *p)
{
	uint64_t va = (uint64_t)(uintptr_t)p;

	/* The kernel window as boot.S maps it: up to the 2 MiB boundary
	 * after the image. */
	if (va >= PC_KERNEL_VMA && va - PC_KERNEL_VMA <
	    PC_ROUNDUP(image_pa(pc_image_end), PC_LARGE_PAGE_SIZE))
		return va - PC_KERNEL_VMA;
	if (va >= PC_DMAP_BASE && va - PC_DMAP_BASE < pc_dmap_top)
		return va - PC_DMAP_BASE;
	pc_panic("pc_kvtophys: %p is neither kernel image nor direct map", p);
}


void
pc_md_mem_summary(void)
{
	pc_printf("# pc: direct map [0, %#lx)\n", pc_dmap_end());
}

/* ---------------------------------------------------------------------
 * Boot page tables.
 * --------------------------------------------------------------------- */
uint64_t
pc_boot_cr3(void)
{
	return image_pa(pc_boot_pml4);
}

static bool
canonical_p(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

/* Walk to the level-1 table for va, creating tables if create is set.
 * Intermediate entries get U/S below the canonical hole, and in the kernel
 * half on the way to a leaf that has it (leaf_bits & PC_PTE_US): the user
 * stub region.  Returns the PTE pointer, or NULL (large page in the way,
 * no memory, or not mapped when !create). */
pc_pte_t *
pc_md_bootpt_walk(uint64_t va, bool create, uint64_t leaf_bits)
{
	uint64_t *table = pc_boot_pml4;
	uint64_t us = (va < 0x0000800000000000ULL || (leaf_bits & PC_PTE_US)) ?
	    PC_PTE_US : 0;

	if (!canonical_p(va))
		return NULL;
	for (int level = 4; level > 1; level--) {
		uint64_t *e = &table[(va >> (12 + 9 * (level - 1))) & 511];

		if (!(*e & PC_PTE_P)) {
			uint64_t pa;

			if (!create || (pa = pc_mem_alloc_table()) == 0)
				return NULL;
			*e = pa | PC_PTE_P | PC_PTE_RW | us;
		} else if (*e & PC_PTE_PS) {
			return NULL;
		} else if (create && us != 0 && !(*e & PC_PTE_US)) {
			/* Only widens: the CPU may keep using the old entry,
			 * which just means a spurious fault at worst. */
			*e |= PC_PTE_US;
		}
		table = pc_phys_to_dmap(*e & PC_PTE_FRAME);
	}
	return &table[(va >> 12) & 511];
}

pc_pte_t *
pc_bootpt_lookup(uint64_t va, int *level)
{
	uint64_t *table = pc_boot_pml4;

	for (int l = 4; l >= 1; l--) {
		uint64_t *e = &table[(va >> (12 + 9 * (l - 1))) & 511];

		*level = l;
		if (!(*e & PC_PTE_P))
			return NULL;
		if (l == 1 || (*e & PC_PTE_PS))
			return e;
		table = pc_phys_to_dmap(*e & PC_PTE_FRAME);
	}
	return NULL;
}

void
pc_mem_drop_identity(void)
{
	/* Every CPU runs at its linked address by now; the caller flushes
	 * all TLBs before anything is mapped at pml4[0] again. */
	pc_boot_pml4[0] = 0;
	pc_tlb_flush_local();
}
