// SPDX-License-Identifier: BSD-2-Clause
/*
 * probe_gen.h - random MMU probes, shared by the simulated machine's probe
 * tool and the bare-metal kernel, so both print the same lines for the
 * same seed and the real MMU can referee the software one.
 *
 * A probe is one random path of paging-structure entries (PML4E, PDPTE,
 * PDE, PTE, or a 2M/1G leaf) with random rights, cache bits, A/D bits,
 * ignored bits, sometimes a cleared P or a reserved bit, plus one random
 * access (read, write or fetch; user or supervisor; EFLAGS.AC) under
 * random CR0.WP, CR4.SMEP, CR4.SMAP and EFER.NXE.
 *
 * The tables live in an "arena" of pages the platform supplies: a root,
 * one page per level below it, and PROBE_NDATA data pages.  Leaves always
 * frame an arena data page, so a real machine only ever touches RAM it
 * owns.  Physical addresses are printed relative to the arena ("D3+0x1a8")
 * so the two machines' lines compare equal although their arenas differ.
 *
 * The platform runs the probe (write the entries, set the control bits,
 * flush every TLB, perform the access, read the entries back) and hands
 * the outcome to probe_format().  Freestanding: no libc.
 *
 * i386 mode (probe_config.arch = PROBE_ARCH_I386): legacy 32-bit paging
 * (SDM vol. 3A 4.3).  The path is a PDE in the root (the page directory)
 * and, unless the PDE is a 4 MiB leaf, a PTE in pa_pt; entries are 4 bytes
 * (pe_value < 2^32; pa_pdpt and pa_pd are unused).  A probe also chooses
 * CR4.PSE (a PDE with PS=1 and PSE=0 references pa_pt, so that the walk
 * stays in the arena) and CR4.PGE; EFER.NXE still varies (it must have no
 * effect).  VAs use PD slots 256..511 (1..2 GiB); the others belong to the
 * platform.  The lines have the same format, with " pse"/" ---" and
 * " pge"/" ---" after the NXE column.
 */
#ifndef PMAP_PROBE_GEN_H
#define PMAP_PROBE_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROBE_NDATA	8

/* Access kinds (same values as the simulator's SIM_* flags). */
#define PROBE_READ	0
#define PROBE_WRITE	1
#define PROBE_FETCH	2
#define PROBE_TYPE	0x3
#define PROBE_USER	0x4
#define PROBE_AC	0x8

struct probe_arena {
	uint64_t pa_root;		/* PML4; its upper half belongs to the platform */
	uint64_t pa_pdpt, pa_pd, pa_pt;
	uint64_t pa_data[PROBE_NDATA];
};

enum probe_arch {
	PROBE_ARCH_AMD64 = 0,		/* 4-level paging */
	PROBE_ARCH_I386,		/* 32-bit paging (CR4.PAE = 0) */
};

struct probe_config {
	enum probe_arch arch;		/* default (0): amd64 */
	int maxphyaddr;			/* i386: 32 */
	bool can_smep, can_smap;
	bool vary_nxe;			/* may a probe run with EFER.NXE = 0? */
	bool can_user;			/* may a probe run at CPL 3? */
	bool can_1g;			/* 1 GiB pages (amd64) */
	bool can_pse;			/* 4 MiB pages (i386): may CR4.PSE be 1? */
	bool can_pge;			/* global pages: may CR4.PGE be 1? */
};

struct probe_entry {
	int pe_level;			/* 4 = PML4E ... 1 = PTE (i386: 2 = PDE) */
	uint64_t pe_slot;		/* physical address of the entry */
	uint64_t pe_value;		/* what to write there */
};

struct probe {
	unsigned p_index;
	uint64_t p_va;
	unsigned p_access;		/* PROBE_* */
	enum probe_arch p_arch;
	bool p_wp, p_smep, p_smap, p_nxe;
	bool p_pse, p_pge;		/* i386 only */
	int p_nent;			/* entries on the path, root first */
	struct probe_entry p_ent[4];
};

struct probe_result {
	int pr_vector;			/* 0 = no fault, 14 = #PF, 13 = #GP */
	uint32_t pr_ec;			/* page-fault error code */
	uint64_t pr_cr2;
	uint64_t pr_pa;			/* physical address accessed, when no fault */
	uint64_t pr_after[4];		/* the entries read back after the access */
};

/* xorshift-style RNG carried by the caller. */
struct probe_rng {
	uint64_t s;
};

void probe_rng_seed(struct probe_rng *r, uint64_t seed);
uint64_t probe_rng_next(struct probe_rng *r);

/* Generate probe number index. */
void probe_generate(struct probe_rng *r, const struct probe_config *cfg,
    const struct probe_arena *arena, unsigned index, struct probe *p);

/* One line, no newline, NUL-terminated; returns its length. */
size_t probe_format(char *buf, size_t len, const struct probe_arena *arena,
    const struct probe *p, const struct probe_result *res);

/* Header line describing the configuration (both machines print it). */
size_t probe_format_header(char *buf, size_t len, const struct probe_config *cfg,
    uint64_t seed, unsigned count);

#endif
