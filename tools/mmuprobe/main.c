// SPDX-License-Identifier: BSD-2-Clause
/*
 * mmuprobe - run random MMU probes through the simulated MMU and print one
 * line per probe (see probe_gen.h for what a probe is).
 *
 *   mmuprobe [--arch=amd64|i386] --seed N --count N [--maxphyaddr N]
 *            [--no-smep] [--no-smap] [--no-vary-nxe] [--no-user] [--no-1g]
 *            [--no-pse] [--no-pge] [--ad-none] [--pse36[=M]]
 *
 * --arch=i386 runs the machine in legacy 32-bit paging mode (4-byte
 * entries, 4 MiB pages with CR4.PSE; --maxphyaddr and --no-1g do not
 * apply there).
 *
 * --pse36[=M] (i386): model a CPU with PSE-36 and M = min(MAXPHYADDR, 40)
 * (default 40), as every CPU QEMU offers is (its TCG whatever CPUID says):
 * bits (M-20):13 of a 4 MiB PDE are physical-address bits (M-1):32, only
 * bits 21:(M-19) are reserved.  The simulated MMU itself has no PSE-36
 * (MAXPHYADDR 32, bits 21:13 reserved), so the tool hands it the PDE
 * without those address bits - same rights, same A/D updates - and puts
 * them back into the address reached (above 4 GiB, where neither machine
 * has RAM: the line says raw:0x...) and into the entry read back.
 *
 * The real machine prints the same lines for the same seed and options;
 * `make mmu-diff` compares them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_gen.h"
#include "sim.h"
#include <pmap/amd64_pte.h>

static struct probe_config cfg = {
	.maxphyaddr = 46, .can_smep = true, .can_smap = true, .vary_nxe = true,
	.can_user = true, .can_1g = true, .can_pse = true, .can_pge = true,
};
static uint64_t seed = 1;
static unsigned count = 100;
static int pse36_m;		/* --pse36=M; 0: no PSE-36 (the simulated MMU's own) */

/* The PSE-36 address bits of a 4 MiB PDE (--pse36), or 0. */
static uint64_t
pse36_bits(const struct probe *p, const struct probe_entry *e)
{
	if (pse36_m <= 32 || p->p_arch != PROBE_ARCH_I386 || !p->p_pse ||
	    e->pe_level != 2 || !(e->pe_value & PG_PS))
		return 0;
	return e->pe_value & (((1ULL << (pse36_m - 32)) - 1) << 13);
}

static uint64_t
page(void)
{
	uint64_t pa;
	if (sim_page_alloc(&pa) != 0) {
		fprintf(stderr, "mmuprobe: out of simulated memory\n");
		exit(1);
	}
	memset(sim_phys_ptr(pa), 0, 4096);
	return pa;
}

/* A paging-structure entry: 8 bytes (8-aligned, for 64-bit atomics in a
 * 32-bit process too), or 4 in i386 mode. */
typedef uint64_t u64a __attribute__((aligned(8)));

static void
put_entry(uint64_t pa, uint64_t v)
{
	if (cfg.arch == PROBE_ARCH_I386)
		__atomic_store_n((uint32_t *)sim_phys_ptr(pa), (uint32_t)v, __ATOMIC_RELEASE);
	else
		__atomic_store_n((u64a *)sim_phys_ptr(pa), v, __ATOMIC_RELEASE);
}

static uint64_t
get_entry(uint64_t pa)
{
	if (cfg.arch == PROBE_ARCH_I386)
		return __atomic_load_n((uint32_t *)sim_phys_ptr(pa), __ATOMIC_ACQUIRE);
	return __atomic_load_n((u64a *)sim_phys_ptr(pa), __ATOMIC_ACQUIRE);
}

static void
run(void *arg)
{
	(void)arg;
	struct probe_arena a;
	a.pa_root = page();
	a.pa_pdpt = page();
	a.pa_pd = page();
	a.pa_pt = page();
	for (int i = 0; i < PROBE_NDATA; i++)
		a.pa_data[i] = page();

	char line[512];
	probe_format_header(line, sizeof(line), &cfg, seed, count);
	puts(line);

	struct probe_rng rng;
	probe_rng_seed(&rng, seed);
	for (unsigned n = 0; n < count; n++) {
		struct probe p;
		struct probe_result res = { 0 };
		probe_generate(&rng, &cfg, &a, n, &p);

		uint64_t cr4 = (p.p_smep ? CR4_SMEP : 0) | (p.p_smap ? CR4_SMAP : 0);
		if (cfg.arch == PROBE_ARCH_I386)
			cr4 |= (p.p_pse ? CR4_PSE : 0) | (p.p_pge ? CR4_PGE : 0);
		else
			cr4 |= CR4_PAE;
		sim_write_cr0(CR0_PG | (p.p_wp ? CR0_WP : 0));
		sim_write_efer(p.p_nxe ? EFER_NXE : 0);
		sim_write_cr3(a.pa_root);
		for (int i = 0; i < p.p_nent; i++)
			put_entry(p.p_ent[i].pe_slot,
			    p.p_ent[i].pe_value & ~pse36_bits(&p, &p.p_ent[i]));
		/* Toggling PGE flushes everything (PSE changes flush nothing). */
		if (sim_write_cr4(cr4 ^ CR4_PGE) != SIM_OK || sim_write_cr4(cr4) != SIM_OK) {
			fprintf(stderr, "mmuprobe: MOV to CR4 %#llx refused\n",
			    (unsigned long long)cr4);
			exit(1);
		}

		struct sim_xlate x = sim_translate(p.p_va, p.p_access);
		res.pr_vector = x.result == SIM_OK ? 0 : x.fault.vector;
		res.pr_ec = x.fault.error_code;
		res.pr_cr2 = x.fault.cr2;
		res.pr_pa = x.pa | ((pse36_bits(&p, &p.p_ent[0]) >> 13) << 32);
		for (int i = 0; i < p.p_nent; i++) {
			res.pr_after[i] = get_entry(p.p_ent[i].pe_slot) |
			    pse36_bits(&p, &p.p_ent[i]);
			put_entry(p.p_ent[i].pe_slot, 0);
		}
		probe_format(line, sizeof(line), &a, &p, &res);
		puts(line);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: mmuprobe [--arch=amd64|i386] --seed N --count N "
	    "[--maxphyaddr N] [--no-smep] [--no-smap] [--no-vary-nxe] [--no-user] "
	    "[--no-1g] [--no-pse] [--no-pge] [--ad-none] [--pse36[=M]]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct sim_config sc;
	sim_config_default(&sc);
	sc.ncpus = 1;
	sc.mem_size = 16ULL << 20;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--seed") == 0 && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (strcmp(a, "--count") == 0 && i + 1 < argc)
			count = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (strcmp(a, "--maxphyaddr") == 0 && i + 1 < argc)
			cfg.maxphyaddr = atoi(argv[++i]);
		else if (strcmp(a, "--no-smep") == 0)
			cfg.can_smep = false;
		else if (strcmp(a, "--no-smap") == 0)
			cfg.can_smap = false;
		else if (strcmp(a, "--no-vary-nxe") == 0)
			cfg.vary_nxe = false;
		else if (strcmp(a, "--no-user") == 0)
			cfg.can_user = false;
		else if (strcmp(a, "--no-1g") == 0)
			cfg.can_1g = false;
		else if (strcmp(a, "--no-pse") == 0)
			cfg.can_pse = false;
		else if (strcmp(a, "--no-pge") == 0)
			cfg.can_pge = false;
		else if (strcmp(a, "--arch=amd64") == 0)
			cfg.arch = PROBE_ARCH_AMD64;
		else if (strcmp(a, "--arch=i386") == 0)
			cfg.arch = PROBE_ARCH_I386;
		else if (strcmp(a, "--ad-none") == 0)
			sc.ad_on_fault = SIM_AD_NONE;
		else if (strcmp(a, "--pse36") == 0)
			pse36_m = 40;
		else if (strncmp(a, "--pse36=", 8) == 0) {
			pse36_m = atoi(a + 8);
			if (pse36_m < 32 || pse36_m > 40)
				usage();
		}
		else
			usage();
	}
	if (cfg.arch == PROBE_ARCH_I386) {
		sc.paging = SIM_PAGING_I386;
		cfg.maxphyaddr = 32;	/* what the machine forces */
		cfg.can_1g = false;
	}
	sc.maxphyaddr = cfg.maxphyaddr;
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	sim_init(&sc);
	sim_run_on(0, run, NULL);
	sim_fini();
	return 0;
}
