// SPDX-License-Identifier: BSD-2-Clause
/*
 * amd64_host.h - the x86-64 instructions libpmap's amd64 layer executes,
 * supplied by the host: inline assembly on real hardware (platform/pc),
 * calls into the software MMU on the simulated machine (platform/sim).
 *
 * All of them act on the calling CPU only, may be called with any lock
 * held and with interrupts in any state, and never sleep.
 */
#ifndef PMAP_AMD64_HOST_H
#define PMAP_AMD64_HOST_H

#include <stdbool.h>
#include <stdint.h>

/* Features the CPU has (CPUID); read once by pmap_bootstrap. */
#define AMD64_FEAT_NX		(1u << 0)	/* EFER.NXE / XD bit */
#define AMD64_FEAT_PGE		(1u << 1)	/* global pages */
#define AMD64_FEAT_PCID		(1u << 2)
#define AMD64_FEAT_INVPCID	(1u << 3)
#define AMD64_FEAT_1G		(1u << 4)	/* 1 GiB pages */
#define AMD64_FEAT_SMEP		(1u << 5)
#define AMD64_FEAT_SMAP		(1u << 6)
#define AMD64_FEAT_PAT		(1u << 7)
uint32_t pmap_host_amd64_features(void);
int pmap_host_amd64_maxphyaddr(void);

void pmap_host_amd64_invlpg(uint64_t va);
void pmap_host_amd64_invpcid(int type, uint16_t pcid, uint64_t va);
uint64_t pmap_host_amd64_rcr0(void);
void pmap_host_amd64_lcr0(uint64_t cr0);
uint64_t pmap_host_amd64_rcr3(void);
void pmap_host_amd64_lcr3(uint64_t cr3);
uint64_t pmap_host_amd64_rcr4(void);
void pmap_host_amd64_lcr4(uint64_t cr4);
uint64_t pmap_host_amd64_rdmsr(uint32_t msr);
void pmap_host_amd64_wrmsr(uint32_t msr, uint64_t v);

/*
 * A hint, not an instruction: from now on the library will not use what
 * CPU cpu caches under PCID pcid before flushing it (the address space it
 * was handed to was changed, or destroyed, while cpu was not running it).
 * Those entries may go stale, and may point at pages and page tables given
 * back to the host; a checker of TLBs against page tables (the simulated
 * machine's auditor) stops checking them until pcid is loaded again.  Real
 * hardware: do nothing.  Called on any CPU, about any CPU, with any lock
 * held and interrupts in any state; never sleeps.
 */
void pmap_host_amd64_pcid_dead(int cpu, uint16_t pcid);

#endif /* PMAP_AMD64_HOST_H */
