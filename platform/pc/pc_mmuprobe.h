// SPDX-License-Identifier: BSD-2-Clause
/*
 * pc_mmuprobe.h - the part of the MMU-probe mode both kernels share
 * (mmuprobe_common.c), for <arch>/mmuprobe.c.
 */
#ifndef PC_MMUPROBE_H
#define PC_MMUPROBE_H

#include "pc_pmap.h"
#include "probe_gen.h"

/* Write every slot of the arena's data pages with its pattern. */
void pc_mmuprobe_fill(const struct probe_arena *a);
/* Make probe n's access (its ring, type and RFLAGS.AC) through the tables
 * already in place and fill in res: the vector, error code and CR2 of a
 * fault, or the physical address of the slot reached (~0 if none). */
void pc_mmuprobe_access(const struct probe_arena *a, const struct probe *p,
    unsigned n, struct probe_result *res);

#endif /* PC_MMUPROBE_H */
