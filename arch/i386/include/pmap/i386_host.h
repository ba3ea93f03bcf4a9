// SPDX-License-Identifier: BSD-2-Clause
/*
 * i386_host.h - what the i386 layer of libpmap needs from its host beyond
 * <pmap/pmap_host.h>: the CPU's features and a few instructions, and how
 * its own code reaches kernel virtual memory.
 *
 * Every hook may be called with interrupts disabled and any library lock
 * held; none may sleep.  All are "hot" except the feature query.
 */
#ifndef PMAP_I386_HOST_H
#define PMAP_I386_HOST_H

#include <stdint.h>

/* Features the CPU has (CPUID); read once by pmap_bootstrap. */
#define I386_FEAT_PGE		(1u << 0)	/* global pages (CR4.PGE) */
#define I386_FEAT_PSE		(1u << 1)	/* 4 MiB pages (CR4.PSE) */
#define I386_FEAT_SMEP		(1u << 2)
#define I386_FEAT_SMAP		(1u << 3)
uint32_t pmap_host_i386_features(void);

void pmap_host_i386_invlpg(uint32_t va);
uint32_t pmap_host_i386_rcr0(void);
void pmap_host_i386_lcr0(uint32_t cr0);
uint32_t pmap_host_i386_rcr3(void);
void pmap_host_i386_lcr3(uint32_t cr3);
uint32_t pmap_host_i386_rcr4(void);
void pmap_host_i386_lcr4(uint32_t cr4);

/*
 * The pointer through which the library's code reaches kernel virtual
 * address va, valid for the 4 KiB page holding it.  A kernel returns
 * (void *)va: the library then uses its own mappings (the recursive slot,
 * its per-CPU windows, its metadata area) as the hardware sees them.  A
 * simulator translates va through the calling CPU's MMU, TLB included, so
 * a window the library forgot to invalidate shows as the wrong page.
 * Called with paging on (after pmap_cpu_init on this CPU); the library
 * holds preemption off whenever the mapping behind va is per-CPU.
 */
void *pmap_host_i386_kptr(uint32_t va);

#endif /* PMAP_I386_HOST_H */
