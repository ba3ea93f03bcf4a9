// SPDX-License-Identifier: BSD-2-Clause
/*
 * sim_host.h - between the machine-independent part of the simulated
 * machine's host (host.c) and each machine's part (host_<arch>.c: the
 * instruction hooks, how the library reaches physical memory, the CPU's
 * features and how the machine is configured for it).
 */
#ifndef PMAP_SIM_HOST_H
#define PMAP_SIM_HOST_H

#include <pmap/pmap_host.h>

#include "sim_pmap.h"

/* An interrupt point at a hook's entry or exit (see sim_pmap.h). */
void sim_host_ipoint(enum sim_hook hk, unsigned when);
#define HOOK_IN(hk)	sim_host_ipoint((hk), SIM_HK_ENTRY)
#define HOOK_OUT(hk)	sim_host_ipoint((hk), SIM_HK_EXIT)
/* The pure lookups are points only when the machine explores (the
 * deterministic scheduler or speculative fills): they sit between the
 * library's page-table reads, but cost too much to be points always. */
#define LOOKUP_IN(hk)	do { if (sim_points_all) HOOK_IN(hk); } while (0)
#define LOOKUP_OUT(hk)	do { if (sim_points_all) HOOK_OUT(hk); } while (0)

/* The machine's defaults in a fresh configuration (sim_pmap_config_default). */
void sim_host_arch_config(struct sim_pmap_config *c);
/* Before sim_init: the CPU's features from c, the machine's settings in m. */
void sim_host_arch_boot(const struct sim_pmap_config *c, struct sim_config *m);
/* After sim_init, before pmap_bootstrap. */
void sim_host_arch_booted(void);
/* The machine's part of the boot information (the kernel image). */
void sim_host_arch_bootinfo(struct pmap_bootinfo *bi);

#endif /* PMAP_SIM_HOST_H */
