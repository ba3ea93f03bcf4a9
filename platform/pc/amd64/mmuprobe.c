// SPDX-License-Identifier: BSD-2-Clause
/*
 * mmuprobe.c - the real MMU as the oracle for the simulated one.
 *
 * With `mmuprobe` on the kernel command line, pc_main() runs this instead
 * of the test suites: the random probes of tools/mmuprobe/probe_gen.c,
 * executed by CPU 0 on this machine's MMU, printed exactly as
 * tools/mmuprobe/main.c prints them for the simulated MMU (header line,
 * then one line per probe), so platform/pc/mmu-diff.sh can compare the two
 * line by line.  Options (command line):
 *   seed=N count=N          as the tool's --seed/--count (1, 100)
 *   no-smep no-smap no-user no-1g no-vary-nxe
 *                           narrow the configuration (the default is what
 *                           CPUID reports; the header says what was used)
 *   arena=PA                physical address of data page D0 (0x104000)
 *
 * Where the arena's data pages are matters: for a 2 MiB or 1 GiB leaf the
 * generator puts the low bits of the target's physical address into the
 * virtual address, and the lines print the virtual address.  The
 * simulated tool's arena is the first twelve pages of its RAM, which
 * starts at 1 MiB (root, PDPT, PD, PT, then D0..D7 at 0x104000..0x10b000),
 * so by default the data pages here sit at those very addresses - RAM
 * below the kernel image (which starts at 2 MiB) that nothing else uses.
 * The four table pages come from the page allocator.
 *
 * It runs before libpmap exists, on a copy of the boot page tables: they
 * carry neither XD nor G bits, so EFER.NXE may be switched off and on at
 * will.  The arena's PML4 takes entry 0 and entries 256..511 from the boot
 * PML4 (the kernel, its direct map and the ring-3 stub region); probes use
 * only entries 1..4.  Leaves always frame arena data pages, so the only
 * memory a probe can touch is ours.
 *
 * Per probe, as tools/mmuprobe/main.c does on the simulated CPU: set
 * CR0.WP and EFER.NXE, write the entries, set CR4.SMEP/SMAP while toggling
 * CR4.PGE (which flushes every TLB entry, globals included, and the
 * paging-structure caches), perform the access (RFLAGS.AC as the probe
 * says), read the entries back and clear them.
 *
 * Which physical address did a successful access reach?  Every 8-byte slot
 * of the data pages holds `mov $imm32, %edx; ret` with imm32 = the slot's
 * own physical address (the arena is below 4 GiB), plus two marker bytes:
 *   - a read returns the slot, whose imm32 is its address;
 *   - a fetch executes the `mov` (single-stepped, pc_probe_fetch) and
 *     leaves the address in %edx;
 *   - a write stores a marker that no slot holds; the data pages are then
 *     scanned for it and the slot is restored.
 * (That part, and the access itself, is ../mmuprobe_common.c.)
 * probe_format() prints addresses relative to the arena, so only the
 * identity of the slot matters.
 */
#include "pc_mmuprobe.h"

#include <pmap/amd64_pte.h>


static volatile uint64_t *
phys64(uint64_t pa)
{
	return (volatile uint64_t *)pc_phys_to_dmap(pa);
}

#define ARENA_DEFAULT	0x104000ULL	/* tools/mmuprobe's D0 */

/* [pa, pa + len) is usable RAM outside the kernel image and outside what
 * the page allocator manages (so nothing else owns it). */
static bool
unowned_ram_p(uint64_t pa, uint64_t len)
{
	const struct pc_mem_range *r;
	struct pc_image_layout il;
	bool ram = false;
	int n = pc_mem_ranges(&r);

	for (int i = 0; i < n; i++)
		ram |= pa >= r[i].mr_start && pa + len <= r[i].mr_end;
	n = pc_page_ranges(&r);
	for (int i = 0; i < n; i++) {
		if (pa < r[i].mr_end && r[i].mr_start < pa + len)
			return false;
	}
	pc_image_layout(&il);
	if (pa < il.il_phys_end && il.il_phys_start < pa + len)
		return false;
	return ram && pa >= 0x100000 && pa + len <= 0x100000000ULL;
}

static uint64_t
arena_page(void)
{
	uint64_t pa;

	if (pc_page_alloc(&pa) != 0)
		pc_panic("mmuprobe: out of memory for the arena");
	if (pa + PAGE_SIZE > 0x100000000ULL)
		pc_panic("mmuprobe: arena page %#lx above 4 GiB", pa);
	memset(pc_phys_to_dmap(pa), 0, PAGE_SIZE);
	return pa;
}

static uint64_t
read_cr0(void)
{
	uint64_t v;

	__asm__ __volatile__("movq %%cr0, %0" : "=r"(v));
	return v;
}

static void
run_probe(const struct probe_arena *a, const struct probe *p, unsigned n,
    uint64_t cr0, uint64_t cr4, uint64_t efer, struct probe_result *res)
{
	uint64_t c4;

	pc_write_cr0((cr0 & ~CR0_WP) | (p->p_wp ? CR0_WP : 0));
	pc_wrmsr(MSR_EFER, (efer & ~EFER_NXE) | (p->p_nxe ? EFER_NXE : 0));
	for (int i = 0; i < p->p_nent; i++)
		*phys64(p->p_ent[i].pe_slot) = p->p_ent[i].pe_value;
	c4 = (cr4 & ~(CR4_SMEP | CR4_SMAP | CR4_PGE)) |
	    (p->p_smep ? CR4_SMEP : 0) | (p->p_smap ? CR4_SMAP : 0);
	pc_write_cr4(c4 | CR4_PGE);	/* toggling PGE flushes everything */
	pc_write_cr4(c4);

	pc_mmuprobe_access(a, p, n, res);
	for (int i = 0; i < p->p_nent; i++) {
		res->pr_after[i] = *phys64(p->p_ent[i].pe_slot);
		*phys64(p->p_ent[i].pe_slot) = 0;
	}
}

int
pc_mmuprobe_main(void)
{
	const struct pc_cpu_features *f = pc_cpu_features();
	struct probe_config cfg = {
		.maxphyaddr = (int)f->cf_maxphyaddr,
		.can_smep = f->cf_smep && !pc_cmdline_flag("no-smep"),
		.can_smap = f->cf_smap && !pc_cmdline_flag("no-smap"),
		.vary_nxe = f->cf_nx && !pc_cmdline_flag("no-vary-nxe"),
		.can_user = !pc_cmdline_flag("no-user"),
		.can_1g = f->cf_pdpe1gb && !pc_cmdline_flag("no-1g"),
	};
	uint64_t seed = pc_cmdline_u64("seed", 1);
	unsigned count = (unsigned)pc_cmdline_u64("count", 100);
	const uint64_t *boot_pml4 = pc_phys_to_dmap(pc_boot_cr3());
	struct probe_arena a;
	struct probe_rng rng;
	uint64_t cr0, cr3, cr4, efer, t0, data;
	uint64_t *root;
	pc_intr_state_t s;
	char line[512];

	if (!f->cf_nx) {
		/* Without NX, XD is always reserved; the generator assumes
		 * EFER.NXE can be set. */
		pc_printf("# mmuprobe: this CPU has no NX; not supported\n");
		return 1;
	}
	a.pa_root = arena_page();
	a.pa_pdpt = arena_page();
	a.pa_pd = arena_page();
	a.pa_pt = arena_page();
	data = pc_cmdline_u64("arena", ARENA_DEFAULT);
	if ((data & PAGE_MASK) != 0 || !unowned_ram_p(data, PROBE_NDATA * PAGE_SIZE)) {
		pc_printf("# mmuprobe: arena=%#lx is not free RAM below 4 GiB\n", data);
		return 1;
	}
	for (int i = 0; i < PROBE_NDATA; i++)
		a.pa_data[i] = data + (uint64_t)i * PAGE_SIZE;
	pc_mmuprobe_fill(&a);
	root = pc_phys_to_dmap(a.pa_root);
	root[0] = boot_pml4[0];
	for (int i = 256; i < 512; i++)
		root[i] = boot_pml4[i];

	pc_printf("# mmuprobe: %s CPU, %s; on the boot page tables\n",
	    f->cf_vendor, f->cf_hv_vendor[0] ? f->cf_hv_vendor : "no hypervisor");
	probe_format_header(line, sizeof(line), &cfg, seed, count);
	pc_printf("%s\n", line);

	/* CPU 0 alone; nothing needs interrupts while the control registers
	 * are in the probes' odd states. */
	s = pc_intr_disable();
	cr0 = read_cr0();
	cr3 = pc_read_cr3();
	cr4 = pc_read_cr4();
	efer = pc_rdmsr(MSR_EFER);
	pc_write_cr3(a.pa_root);
	t0 = pc_uptime_us();
	probe_rng_seed(&rng, seed);
	for (unsigned n = 0; n < count; n++) {
		struct probe p;
		struct probe_result res = { 0 };

		probe_generate(&rng, &cfg, &a, n, &p);
		run_probe(&a, &p, n, cr0, cr4, efer, &res);
		probe_format(line, sizeof(line), &a, &p, &res);
		pc_printf("%s\n", line);
	}
	pc_write_cr0(cr0);
	pc_wrmsr(MSR_EFER, efer);
	pc_write_cr3(cr3);
	pc_write_cr4(cr4 | CR4_PGE);
	pc_write_cr4(cr4);
	pc_intr_restore(s);

	pc_printf("1..1\nok 1 - %u MMU probes ran on the real MMU in %lu ms\n",
	    count, (pc_uptime_us() - t0) / 1000);
	return 0;
}
