// SPDX-License-Identifier: BSD-2-Clause
/*
 * host_md.c - the i386 part of libpmap's host on the bare-metal kernel: the
 * hooks of <pmap/i386_host.h>, the boot-time page access the library needs
 * before its own page tables exist, and the boot information.
 *
 *  - pmap_host_phys_tmp_map (pmap_bootstrap only): this CPU's physical
 *    windows (mem_md.c), on the boot page tables;
 *  - pmap_host_i386_kptr: the address itself - this is a kernel, so the
 *    library reaches its windows, recursive slot and metadata through the
 *    MMU like any other code;
 *  - kernel ranges: the kernel window (pa [0, 12 MiB) at 0xc0000000: the
 *    image, the allocator's bitmap, the vm_page array; 4 MiB pages), the
 *    xAPIC page (uncached), the physical windows and the user region, all
 *    in [0xc0000000, 0xc1000000), the kernel-image area of <pmap/pmap_md.h>.
 */
#include "pc_pmap.h"

#include <pmap/i386_host.h>
#include <pmap/pmap_host.h>

static uint32_t host_features;

void
pc_md_read_cpu_features(void)
{
	const struct pc_cpu_features *f = pc_cpu_features();

	host_features = (f->cf_pge ? I386_FEAT_PGE : 0) |
	    (f->cf_pse ? I386_FEAT_PSE : 0) |
	    (f->cf_smep ? I386_FEAT_SMEP : 0) |
	    (f->cf_smap ? I386_FEAT_SMAP : 0);
}

uint32_t
pmap_host_i386_features(void)
{
	return host_features;
}

void *
pmap_host_phys_tmp_map(paddr_t pa)
{
	return pc_phys_map(pa, PAGE_SIZE);
}

void
pmap_host_phys_tmp_unmap(void *p)
{
	pc_phys_unmap(p, PAGE_SIZE);
}

void *
pmap_host_i386_kptr(uint32_t va)
{
	return (void *)(uintptr_t)va;
}

void pmap_host_i386_invlpg(uint32_t va) { pc_invlpg(va); }
uint32_t pmap_host_i386_rcr0(void) { return (uint32_t)pc_read_cr0(); }
void pmap_host_i386_lcr0(uint32_t cr0) { pc_write_cr0(cr0); }
uint32_t pmap_host_i386_rcr3(void) { return (uint32_t)pc_read_cr3(); }
void pmap_host_i386_lcr3(uint32_t cr3) { pc_write_cr3(cr3); }
uint32_t pmap_host_i386_rcr4(void) { return (uint32_t)pc_read_cr4(); }
void pmap_host_i386_lcr4(uint32_t cr4) { pc_write_cr4(cr4); }

void
pc_md_build_bootinfo(struct pmap_bootinfo *bi, enum pmap_sfbuf_mode mode)
{
	const struct pc_mem_range *ram;
	int nram = pc_mem_ranges(&ram);
	struct pc_user_region ur;
	uint64_t va, pa;

	for (int i = 0; i < nram && bi->pb_nsegs < PMAP_MAXSEGS; i++) {
		if (ram[i].mr_start >= 0x100000000ULL)
			break;
		bi->pb_segs[bi->pb_nsegs++] = (struct pmap_segment){
			(paddr_t)ram[i].mr_start,
			(paddr_t)(ram[i].mr_end < 0xfffff000ULL ?
			    ram[i].mr_end : 0xfffff000ULL) };
	}

	/* The kernel window, read/write/execute (no NX on i386 anyway). */
	pc_add_krange(bi, PC_KERNEL_VMA, 0, PC_KWIN_SIZE,
	    VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXECUTE, 0);

	/* xAPIC registers, uncached. */
	if (pc_lapic_mmio_page(&va, &pa))
		pc_add_krange(bi, (vaddr_t)va, (paddr_t)pa, PAGE_SIZE,
		    VM_PROT_READ | VM_PROT_WRITE, PMAP_NOCACHE);

	/* The physical windows: whatever frames; pc_phys_map rewrites them. */
	pc_add_krange(bi, PC_PHYSWIN_VA, 0,
	    PC_MAX_CPUS * PC_PHYSWIN_PER_CPU * PAGE_SIZE,
	    VM_PROT_READ | VM_PROT_WRITE, 0);

	/* Ring-3 probe stubs and their stacks, user-accessible. */
	pc_user_region(&ur);
	pc_add_krange(bi, (vaddr_t)ur.ur_code_va, (paddr_t)ur.ur_code_pa,
	    PAGE_SIZE, VM_PROT_READ | VM_PROT_EXECUTE, PMAP_KRANGE_USER);
	pc_add_krange(bi, (vaddr_t)ur.ur_stack_va, (paddr_t)ur.ur_stack_pa,
	    (vsize_t)ur.ur_stack_size, VM_PROT_READ | VM_PROT_WRITE,
	    PMAP_KRANGE_USER);

	bi->pb_kva_initial = 16u << 20;
	bi->pb_sfbuf_mode = mode;
}

bool
pc_md_translate(uint64_t va, uint64_t *pap)
{
	const volatile uint32_t *pde, *pte;

	if (va >= 0x100000000ULL)
		return false;
	pde = (const volatile uint32_t *)(uintptr_t)(PC_PDIR_VA + (va >> 22) * 4);
	if (!(*pde & PC_PTE_P))
		return false;
	if (*pde & PC_PTE_PS) {
		*pap = (*pde & 0xffc00000u) | (va & 0x3fffff);
		return true;
	}
	pte = (const volatile uint32_t *)(uintptr_t)(PC_PTMAP_VA + (va >> 12) * 4);
	if (!(*pte & PC_PTE_P))
		return false;
	*pap = (*pte & 0xfffff000u) | (va & 0xfff);
	return true;
}

/* 32-bit paging has neither NX nor, in this port, PAT (PCD/PWT only). */
bool pc_md_have_nx(void) { return false; }
bool pc_md_have_pat(void) { return false; }
