// SPDX-License-Identifier: BSD-2-Clause
/*
 * host_amd64.c - the amd64 part of libpmap's host on the simulated machine:
 * the instruction hooks of <pmap/amd64_host.h> and the direct map.
 *
 * The machine's host mapping of physical memory is the "direct map" the
 * library writes page tables through (pmap_host_phys_map); the auditor is
 * told that the library's direct-map range maps every page by design.
 */
#include <stdio.h>

#include "sim_host.h"
#include <pmap/amd64_host.h>
#include <pmap/amd64_pte.h>

static uint32_t host_features;

void
sim_host_arch_config(struct sim_pmap_config *c)
{
	c->sfbuf_mode = PMAP_SFBUF_DMAP;
}

void
sim_host_arch_boot(const struct sim_pmap_config *c, struct sim_config *m)
{
	(void)m;
	host_features = (AMD64_FEAT_NX | AMD64_FEAT_PGE | AMD64_FEAT_PCID |
	    AMD64_FEAT_INVPCID | AMD64_FEAT_1G | AMD64_FEAT_SMEP | AMD64_FEAT_SMAP |
	    AMD64_FEAT_PAT) & ~c->clear_features;
}

void
sim_host_arch_booted(void)
{
	sim_audit_direct_map(PMAP_DMAP_BASE, PMAP_DMAP_MAX);
}

void
sim_host_arch_bootinfo(struct pmap_bootinfo *bi)
{
	(void)bi;	/* no kernel image on the simulated amd64 machine */
}

bool sim_pmap_kimage_large(void) { return false; }

bool sim_pmap_have_nx(void) { return (host_features & AMD64_FEAT_NX) != 0; }
bool sim_pmap_have_pat(void) { return (host_features & AMD64_FEAT_PAT) != 0; }

uint32_t
sim_pmap_old_cpu_features(void)
{
	return AMD64_FEAT_PGE | AMD64_FEAT_INVPCID | AMD64_FEAT_PCID | AMD64_FEAT_1G |
	    AMD64_FEAT_NX | AMD64_FEAT_PAT | AMD64_FEAT_SMEP | AMD64_FEAT_SMAP;
}

uint32_t sim_pmap_pcid_feature(void) { return AMD64_FEAT_PCID; }

void *
pmap_host_phys_map(paddr_t pa)
{
	LOOKUP_IN(SIM_HK_PHYS_MAP);
	void *p = sim_phys_ptr(pa);
	LOOKUP_OUT(SIM_HK_PHYS_MAP);
	return p;
}

void *
sim_host_phys_map_call(paddr_t pa)
{
	return pmap_host_phys_map(pa);
}


/* ---- amd64 instructions ---- */

uint32_t
pmap_host_amd64_features(void)
{
	return host_features;
}

int
pmap_host_amd64_maxphyaddr(void)
{
	return sim_maxphyaddr();
}

void
pmap_host_amd64_invlpg(uint64_t va)
{
	HOOK_IN(SIM_HK_INVLPG);
	sim_invlpg(va);
	HOOK_OUT(SIM_HK_INVLPG);
}

void
pmap_host_amd64_invpcid(int type, uint16_t pcid, uint64_t va)
{
	HOOK_IN(SIM_HK_INVPCID);
	if (sim_invpcid(type, pcid, va) != SIM_OK)
		pmap_host_panic("INVPCID type %d pcid %u va %#llx raised #GP", type, pcid,
		    (unsigned long long)va);
	HOOK_OUT(SIM_HK_INVPCID);
}

static uint64_t
read_cr(uint64_t (*rd)(void))
{
	HOOK_IN(SIM_HK_READ_CR);
	uint64_t v = rd();
	HOOK_OUT(SIM_HK_READ_CR);
	return v;
}

uint64_t pmap_host_amd64_rcr0(void) { return read_cr(sim_read_cr0); }
uint64_t pmap_host_amd64_rcr3(void) { return read_cr(sim_read_cr3); }
uint64_t pmap_host_amd64_rcr4(void) { return read_cr(sim_read_cr4); }

void
pmap_host_amd64_lcr0(uint64_t cr0)
{
	HOOK_IN(SIM_HK_LCR0);
	sim_write_cr0(cr0);
	HOOK_OUT(SIM_HK_LCR0);
}

void
pmap_host_amd64_lcr3(uint64_t cr3)
{
	HOOK_IN(SIM_HK_LCR3);
	if (sim_write_cr3(cr3) != SIM_OK)
		pmap_host_panic("MOV to CR3 %#llx raised #GP", (unsigned long long)cr3);
	HOOK_OUT(SIM_HK_LCR3);
}

void
pmap_host_amd64_lcr4(uint64_t cr4)
{
	HOOK_IN(SIM_HK_LCR4);
	if (sim_write_cr4(cr4) != SIM_OK)
		pmap_host_panic("MOV to CR4 %#llx raised #GP", (unsigned long long)cr4);
	HOOK_OUT(SIM_HK_LCR4);
}

/* The library's promise to flush (cpu, pcid) before using it again: the
 * auditor stops checking its entries (which may now be stale, or point at
 * freed tables and pages) until the next load of that PCID.  A point only
 * while the machine explores: it sits inside the library's handshake
 * between a shootdown's completer and an activating CPU. */
void
pmap_host_amd64_pcid_dead(int cpu, uint16_t pcid)
{
	LOOKUP_IN(SIM_HK_PCID_DEAD);
	sim_audit_pcid_dead(cpu, pcid);
	LOOKUP_OUT(SIM_HK_PCID_DEAD);
}

uint64_t
pmap_host_amd64_rdmsr(uint32_t msr)
{
	HOOK_IN(SIM_HK_MSR);
	uint64_t v;
	switch (msr) {
	case MSR_EFER: v = sim_read_efer(); break;
	case MSR_PAT: v = sim_read_pat(); break;
	default: pmap_host_panic("RDMSR of unmodelled MSR %#x", msr);
	}
	HOOK_OUT(SIM_HK_MSR);
	return v;
}

void
pmap_host_amd64_wrmsr(uint32_t msr, uint64_t v)
{
	HOOK_IN(SIM_HK_MSR);
	switch (msr) {
	case MSR_EFER: sim_write_efer(v); break;
	case MSR_PAT: sim_write_pat(v); break;
	default: pmap_host_panic("WRMSR of unmodelled MSR %#x", msr);
	}
	HOOK_OUT(SIM_HK_MSR);
}

