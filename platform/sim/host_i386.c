// SPDX-License-Identifier: BSD-2-Clause
/*
 * host_i386.c - the i386 part of libpmap's host on the simulated machine:
 * the instruction hooks of <pmap/i386_host.h>, and how the library's code
 * reaches memory on a machine with no direct map.
 *
 *  - The machine runs legacy 32-bit paging (SIM_PAGING_I386) with 1.5 GiB
 *    of RAM by default: more than the kernel's 1 GiB of address space, so
 *    nothing can lean on a direct map.
 *  - pmap_host_phys_tmp_map (bootstrap only, before paging) is the
 *    machine's host pointer to the page, as a kernel with paging off would
 *    use the physical address.
 *  - pmap_host_i386_kptr translates a kernel virtual address through the
 *    calling CPU's MMU - TLB, paging-structure caches and all - so every
 *    window, the recursive slot and the metadata area are used as the
 *    hardware would use them: a stale entry the library forgot to
 *    invalidate hands it the wrong page.  A kernel-mode fault there is a
 *    library bug: it panics with the fault.
 *  - A CPU's private windows (its table window and page windows) are
 *    handed out as host aliases of the page (sim_phys_alias), one alias
 *    page per window.  When the library invalidates the window on its
 *    CPU and the PTE no longer maps that page, the alias is revoked: a
 *    pointer the library keeps past the end of its window then faults
 *    (SIGSEGV), as it does on the hardware, instead of still reaching the
 *    page through the host's memory.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sim_host.h"
#include <pmap/i386_host.h>

static uint32_t host_features;

/* Aliases of the private windows: page i of the area stands for window
 * page i (PMAP_KVA_BASE + i * PAGE_SIZE); only its owner CPU touches it. */
#define NWINDOWS	(PMAP_CPU_WINDOWS_SIZE / PAGE_SIZE)
static uint8_t *alias_area;
static uint64_t alias_pa[NWINDOWS];
static bool alias_mapped[NWINDOWS];

/* The "kernel image": text at pa 1-4 MiB in 4 KiB pages, data at 4-12 MiB
 * in two 4 MiB pages (PMAP_KIMAGE_BASE + pa, as i386 kernels link). */
#define KIMAGE_PA_END	(16ULL << 20)

void
sim_host_arch_bootinfo(struct pmap_bootinfo *bi)
{
	bi->pb_nkranges = 2;
	bi->pb_kranges[0] = (struct pmap_krange){ .kr_va = PMAP_KIMAGE_BASE + 0x100000,
		.kr_pa = 0x100000, .kr_size = 0x300000,
		.kr_prot = VM_PROT_READ | VM_PROT_EXECUTE };
	bi->pb_kranges[1] = (struct pmap_krange){ .kr_va = PMAP_KIMAGE_BASE + 0x400000,
		.kr_pa = 0x400000, .kr_size = 0x800000,
		.kr_prot = VM_PROT_READ | VM_PROT_WRITE };
}

bool sim_pmap_kimage_large(void) { return (host_features & I386_FEAT_PSE) != 0; }

void
sim_host_arch_config(struct sim_pmap_config *c)
{
	c->sfbuf_mode = PMAP_SFBUF_MAPPED;
	/* More RAM than the 1 GiB of kernel address space, the pages above
	 * it handed out first: nothing may lean on a direct map. */
	c->machine.mem_size = 1536ULL << 20;
	c->machine.alloc_top_down = true;
	c->machine.phys_aliases = true;
}

void
sim_host_arch_boot(const struct sim_pmap_config *c, struct sim_config *m)
{
	host_features = (I386_FEAT_PGE | I386_FEAT_PSE | I386_FEAT_SMEP |
	    I386_FEAT_SMAP) & ~c->clear_features;
	m->paging = SIM_PAGING_I386;
	m->maxphyaddr = 32;
	/* RAM from 16 MiB; below it a kernel image the bootstrap maps with
	 * 4 MiB pages where it is aligned (sim_host_arch_bootinfo). */
	if (m->nsegs == 0) {
		uint64_t size = m->mem_size != 0 ? m->mem_size : 64ULL << 20;
		m->nsegs = 1;
		m->segs[0] = (struct sim_segment){ KIMAGE_PA_END, KIMAGE_PA_END + size };
	}
	if (c->sfbuf_mode != PMAP_SFBUF_MAPPED) {
		fprintf(stderr, "i386 has no direct map: sf_bufs are always mapped\n");
		abort();
	}
}

static int
window_owner(uint64_t va)
{
	return va >> 32 ? -1 : pmap_cpu_window_owner((vaddr_t)va);
}

void
sim_host_arch_booted(void)
{
	/* Other CPUs' speculative copies of a CPU's own windows are never
	 * used (pmap_md.h): the auditor leaves them alone. */
	sim_audit_private_windows(window_owner);
	if (alias_area == NULL)
		alias_area = sim_phys_alias_area(NWINDOWS);
	for (unsigned i = 0; i < NWINDOWS; i++) {
		if (alias_mapped[i])
			sim_phys_unalias(alias_area + (size_t)i * PAGE_SIZE);
		alias_mapped[i] = false;
	}
}

/* The calling CPU's private window that va lies in, or -1. */
static int
own_window(uint32_t va)
{
	if (alias_area == NULL || window_owner(va) != pmap_host_cpu_id())
		return -1;
	return (int)((va - PMAP_KVA_BASE) >> 12);
}

/* What the current page tables map window page va to: the frame, or ~0
 * (a walk in software, touching no TLB). */
static uint64_t
window_frame(uint32_t va)
{
	uint64_t cr3 = sim_read_cr3() & ~(uint64_t)0xfff;
	uint32_t pde = *(uint32_t *)sim_phys_ptr(cr3 + 4 * (va >> 22));
	if (!(pde & 1) || (pde & 0x80))
		return ~0ULL;
	uint32_t pte = *(uint32_t *)sim_phys_ptr((pde & ~0xfffu) + 4 * ((va >> 12) & 1023));
	return (pte & 1) ? (pte & ~0xfffu) : ~0ULL;
}

bool sim_pmap_have_nx(void) { return false; }
bool sim_pmap_have_pat(void) { return false; }

uint32_t sim_pmap_pcid_feature(void) { return 0; }

uint32_t
sim_pmap_old_cpu_features(void)
{
	return I386_FEAT_PGE | I386_FEAT_PSE | I386_FEAT_SMEP | I386_FEAT_SMAP;
}

void *
pmap_host_phys_tmp_map(paddr_t pa)
{
	LOOKUP_IN(SIM_HK_PHYS_MAP);
	void *p = sim_phys_ptr(pa);
	LOOKUP_OUT(SIM_HK_PHYS_MAP);
	return p;
}

void
pmap_host_phys_tmp_unmap(void *p)
{
	(void)p;
}

void *
pmap_host_i386_kptr(uint32_t va)
{
	LOOKUP_IN(SIM_HK_PHYS_MAP);
	struct sim_xlate x = sim_translate(va, SIM_WRITE);
	if (x.result != SIM_OK)
		pmap_host_panic("library access to kernel va %#x faulted (error code %#x)",
		    va, x.fault.error_code);
	uint64_t frame = x.pa & ~(uint64_t)(SIM_PAGE_SIZE - 1);
	int w = own_window(va);
	void *p;
	if (w >= 0) {
		uint8_t *at = alias_area + (size_t)w * PAGE_SIZE;
		if (!alias_mapped[w] || alias_pa[w] != frame) {
			sim_phys_alias(at, frame);
			alias_pa[w] = frame;
			alias_mapped[w] = true;
		}
		p = at + (va & (SIM_PAGE_SIZE - 1));
	} else {
		p = (char *)sim_phys_ptr(frame) + (va & (SIM_PAGE_SIZE - 1));
	}
	LOOKUP_OUT(SIM_HK_PHYS_MAP);
	return p;
}

uint32_t
pmap_host_i386_features(void)
{
	return host_features;
}

void
pmap_host_i386_invlpg(uint32_t va)
{
	HOOK_IN(SIM_HK_INVLPG);
	sim_invlpg(va);
	int w = own_window(va);
	if (w >= 0 && alias_mapped[w] && window_frame(va) != alias_pa[w]) {
		sim_phys_unalias(alias_area + (size_t)w * PAGE_SIZE);
		alias_mapped[w] = false;
	}
	HOOK_OUT(SIM_HK_INVLPG);
}

static uint32_t
read_cr(uint64_t (*rd)(void))
{
	HOOK_IN(SIM_HK_READ_CR);
	uint32_t v = (uint32_t)rd();
	HOOK_OUT(SIM_HK_READ_CR);
	return v;
}

uint32_t pmap_host_i386_rcr0(void) { return read_cr(sim_read_cr0); }
uint32_t pmap_host_i386_rcr3(void) { return read_cr(sim_read_cr3); }
uint32_t pmap_host_i386_rcr4(void) { return read_cr(sim_read_cr4); }

void
pmap_host_i386_lcr0(uint32_t cr0)
{
	HOOK_IN(SIM_HK_LCR0);
	sim_write_cr0(cr0);
	HOOK_OUT(SIM_HK_LCR0);
}

void
pmap_host_i386_lcr3(uint32_t cr3)
{
	HOOK_IN(SIM_HK_LCR3);
	if (sim_write_cr3(cr3) != SIM_OK)
		pmap_host_panic("MOV to CR3 %#x raised #GP", cr3);
	HOOK_OUT(SIM_HK_LCR3);
}

void
pmap_host_i386_lcr4(uint32_t cr4)
{
	HOOK_IN(SIM_HK_LCR4);
	if (sim_write_cr4(cr4) != SIM_OK)
		pmap_host_panic("MOV to CR4 %#x raised #GP", cr4);
	HOOK_OUT(SIM_HK_LCR4);
}
