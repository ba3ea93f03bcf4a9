// SPDX-License-Identifier: BSD-2-Clause
/*
 * mem_md.c - i386: reaching physical memory without a direct map, and the
 * boot page tables.
 *
 * Physical memory.  pa [0, PC_KWIN_SIZE) is the kernel window, mapped for
 * good at PC_KERNEL_VMA + pa (boot.S, then the library's kernel range).
 * Anything else goes through this CPU's PC_PHYSWIN_PER_CPU physical
 * windows in the platform region: pc_phys_map() rewrites their PTEs
 * through the recursive slot and invalidates them on this CPU only (no
 * other CPU uses them; a stale copy another CPU may hold speculatively is
 * never used).  The recursive slot is in the boot directory and in every
 * directory the library builds, and the platform region's page table is
 * shared by all of them, so the windows work the same before and after
 * the switch to the library's page tables.  After the switch the PTEs are
 * the library's (a kernel range): only the frame is rewritten, every
 * other bit (G, the library's wired bit) is kept.
 *
 * Boot page tables: the walk behind mem.c's pc_bootpt_enter/remove goes
 * through the recursive slot too.  The identity map (pd[0..2]) is removed
 * once all APs are up (pc_mem_drop_identity).
 */
#include "pc_internal.h"

#define PDE_PS          PC_PTE_PS
#define NPDE            1024

/* Windows in use, a bit each, per CPU (only the owner touches its word;
 * pc_phys_map is not for interrupt handlers). */
static uint32_t physwin_used[PC_MAX_CPUS];

_Static_assert(PC_PHYSWIN_VA + PC_MAX_CPUS * PC_PHYSWIN_PER_CPU * PC_PAGE_SIZE <=
    PC_USER_CODE_VA, "the physical windows overlap the user region");
_Static_assert(PC_PHYSWIN_PER_CPU <= 32, "one word of window bits per CPU");

static inline volatile pc_pte_t *
ptmap_pte(uint32_t va)
{
	return (volatile pc_pte_t *)(uintptr_t)(PC_PTMAP_VA + (va >> 12) * 4);
}

static inline volatile pc_pte_t *
ptmap_pde(uint32_t va)
{
	return (volatile pc_pte_t *)(uintptr_t)(PC_PDIR_VA + (va >> 22) * 4);
}

static inline uint64_t
image_pa(const void *kva)
{
	return (uint64_t)(uintptr_t)kva - PC_KERNEL_VMA;
}

void *
pc_phys_permanent(uint64_t pa, size_t len)
{
	if (pa + len > PC_KWIN_SIZE || pa + len < pa)
		return NULL;
	return (void *)(uintptr_t)(PC_KERNEL_VMA + pa);
}

void *
pc_phys_map(uint64_t pa, size_t len)
{
	void *p = pc_phys_permanent(pa, len);
	uint32_t off = (uint32_t)(pa & (PC_PAGE_SIZE - 1));
	uint32_t n = (uint32_t)((off + len + PC_PAGE_SIZE - 1) / PC_PAGE_SIZE);
	int cpu = pc_cpu_id();
	uint32_t used, want, base;

	if (p != NULL)
		return p;
	if (pa + len > 0x100000000ULL || len == 0 || n > PC_PHYSWIN_PER_CPU)
		pc_panic("pc_phys_map: [%#llx, +%#llx) is beyond 4 GiB or more "
		    "than %d windows", (unsigned long long)pa,
		    (unsigned long long)len, PC_PHYSWIN_PER_CPU);
	used = physwin_used[cpu];
	want = (n == 32 ? ~0u : (1u << n) - 1);
	for (base = 0; base + n <= PC_PHYSWIN_PER_CPU; base++) {
		if ((used & (want << base)) == 0)
			break;
	}
	if (base + n > PC_PHYSWIN_PER_CPU)
		pc_panic("pc_phys_map: cpu %d: no %u free windows (in use %#x)",
		    cpu, n, used);
	physwin_used[cpu] = used | (want << base);
	uint32_t va = PC_PHYSWIN_VA +
	    ((uint32_t)cpu * PC_PHYSWIN_PER_CPU + base) * PC_PAGE_SIZE;
	uint32_t frame = (uint32_t)(pa & ~(uint64_t)(PC_PAGE_SIZE - 1));
	for (uint32_t i = 0; i < n; i++) {
		volatile pc_pte_t *pte = ptmap_pte(va + i * PC_PAGE_SIZE);
		pc_pte_t old = *pte;
		pc_pte_t bits = (old & PC_PTE_P) ? (old & 0xfff) :
		    (PC_PTE_RW | PC_PTE_A | PC_PTE_D);

		*pte = (frame + i * PC_PAGE_SIZE) | bits | PC_PTE_P | PC_PTE_RW;
		pc_invlpg(va + i * PC_PAGE_SIZE);
	}
	return (void *)(uintptr_t)(va + off);
}

void
pc_phys_unmap(void *p, size_t len)
{
	uint32_t va = (uint32_t)(uintptr_t)p;
	uint32_t first = PC_PHYSWIN_VA +
	    (uint32_t)pc_cpu_id() * PC_PHYSWIN_PER_CPU * PC_PAGE_SIZE;
	uint32_t off = va & (PC_PAGE_SIZE - 1), n, base;

	if (va >= PC_KERNEL_VMA && va - PC_KERNEL_VMA < PC_KWIN_SIZE)
		return;
	if (va < first || va >= first + PC_PHYSWIN_PER_CPU * PC_PAGE_SIZE)
		pc_panic("pc_phys_unmap: %p is not one of cpu %d's windows", p,
		    pc_cpu_id());
	n = (uint32_t)((off + len + PC_PAGE_SIZE - 1) / PC_PAGE_SIZE);
	base = (va - first) / PC_PAGE_SIZE;
	/* The PTEs stay: the next map of a window rewrites and invalidates. */
	physwin_used[pc_cpu_id()] &= ~(((n == 32 ? ~0u : (1u << n) - 1)) << base);
}

void
pc_md_mem_init(void)
{
	/* Nothing to build: no direct map. */
}

void
pc_md_mem_summary(void)
{
	pc_printf("# pc: no direct map; kernel window pa [0, %#x), the rest "
	    "through %d windows per CPU\n", PC_KWIN_SIZE, PC_PHYSWIN_PER_CPU);
}

uint64_t
pc_kvtophys(const void *p)
{
	uint32_t va = (uint32_t)(uintptr_t)p;
	volatile pc_pte_t *pde;

	if (va >= PC_KERNEL_VMA && va - PC_KERNEL_VMA < PC_KWIN_SIZE)
		return va - PC_KERNEL_VMA;
	pde = ptmap_pde(va);
	if (va >= PC_PLAT_VA && va < PC_PLAT_VA + PC_LARGE_PAGE_SIZE &&
	    (*pde & PC_PTE_P) && (*ptmap_pte(va) & PC_PTE_P))
		return (*ptmap_pte(va) & (uint32_t)PC_PTE_FRAME) | (va & 0xfff);
	pc_panic("pc_kvtophys: %p is neither the kernel window nor the "
	    "platform region", p);
}

/* ---------------------------------------------------------------------
 * Boot page tables.
 * --------------------------------------------------------------------- */
uint64_t
pc_boot_cr3(void)
{
	return image_pa(pc_boot_pd);
}

/* The PTE for va in the current tables, creating the page table if create
 * is set (U/S on the PDE below the kernel half, and on the way to a leaf
 * that has it); NULL if a 4 MiB page is in the way or no frame is left. */
pc_pte_t *
pc_md_bootpt_walk(uint64_t va64, bool create, uint64_t leaf_bits)
{
	uint32_t va = (uint32_t)va64;
	volatile pc_pte_t *pde = ptmap_pde(va);
	pc_pte_t us = (va < PC_KERNEL_VMA || (leaf_bits & PC_PTE_US)) ?
	    PC_PTE_US : 0;

	if (va64 >= PC_PTMAP_VA)        /* beyond 4 GiB, or the PTmap itself */
		return NULL;
	if (!(*pde & PC_PTE_P)) {
		uint64_t pa;

		if (!create || (pa = pc_mem_alloc_table()) == 0)
			return NULL;
		*pde = (pc_pte_t)pa | PC_PTE_P | PC_PTE_RW | us;
		/* The PTmap page of a PDE that was empty cannot be cached. */
	} else if (*pde & PDE_PS) {
		return NULL;
	} else if (create && us != 0 && !(*pde & PC_PTE_US)) {
		*pde |= PC_PTE_US;      /* only widens */
	}
	return (pc_pte_t *)ptmap_pte(va);
}

pc_pte_t *
pc_bootpt_lookup(uint64_t va, int *level)
{
	volatile pc_pte_t *pde = ptmap_pde((uint32_t)va);

	*level = 2;
	if (va >= 0x100000000ULL || !(*pde & PC_PTE_P))
		return NULL;
	if (*pde & PDE_PS)
		return (pc_pte_t *)pde;
	*level = 1;
	if (!(*ptmap_pte((uint32_t)va) & PC_PTE_P))
		return NULL;
	return (pc_pte_t *)ptmap_pte((uint32_t)va);
}

void
pc_mem_drop_identity(void)
{
	/* Every CPU runs at its linked address by now; the caller flushes
	 * all TLBs before anything is mapped there again. */
	for (unsigned i = 0; i < PC_KWIN_SIZE >> 22; i++)
		pc_boot_pd[i] = 0;
	pc_tlb_flush_local();
}
