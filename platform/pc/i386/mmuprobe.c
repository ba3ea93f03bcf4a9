// SPDX-License-Identifier: BSD-2-Clause
/*
 * mmuprobe.c - the real MMU as the oracle for the simulated one (i386:
 * legacy 32-bit paging).  See ../amd64/mmuprobe.c for the design; this is
 * the same loop on a two-level table of 4-byte entries.
 *
 * With `mmuprobe` on the kernel command line, pc_main() runs this instead
 * of the test suites: the random probes of tools/mmuprobe/probe_gen.c in
 * its i386 mode, executed by CPU 0 on this machine's MMU, printed exactly
 * as `tools/mmuprobe --arch=i386` prints them for the simulated MMU (header
 * line, then one line per probe), so platform/pc/mmu-diff.sh can compare
 * the two line by line.  Options (command line):
 *   seed=N count=N          as the tool's --seed/--count (1, 100)
 *   no-smep no-smap no-user no-pse no-pge no-vary-nxe
 *                           narrow the configuration (the default is what
 *                           CPUID reports; the header says what was used)
 *
 * Where the arena's data pages are matters: for a 4 MiB leaf the generator
 * puts bits 21:0 of the target's physical address into the virtual
 * address, and the lines print the virtual address.  The simulated tool's
 * arena is the first twelve pages of its RAM, which starts at 1 MiB (page
 * directory, two unused pages, page table, then D0..D7 at 0x104000 ..
 * 0x10b000).  Here the kernel image sits at 1 MiB, so the data pages are
 * eight frames at the same addresses modulo 4 MiB: the lowest run of
 * allocator frames long enough to hold them at that alignment is taken,
 * the page directory and page table come from the same run, the rest is
 * freed.  The run is in the kernel window (pa below 12 MiB), so everything
 * is reached at PC_KERNEL_VMA + pa.
 *
 * It runs before libpmap exists, on an arena page directory: entries
 * 0..255 and 512..1022 are the boot directory's (the kernel window, the
 * platform region with the physical windows and the ring-3 stub region;
 * no G or PS bits there), entry 1023 is recursive for the arena directory
 * itself (the platform's page-table editors work through it), and the
 * probes use entries 256..511 (1..2 GiB) only.  Leaves always frame the
 * region of an arena data page; the one access a probe makes is to a slot
 * of a data page, so the only memory a probe can touch is ours.
 *
 * Per probe, as tools/mmuprobe/main.c does on the simulated CPU: set
 * CR0.WP (and EFER.NXE, which must change nothing in 32-bit paging, where
 * the CPU has the MSR), write the entries, set CR4.PSE/PGE/SMEP/SMAP while
 * toggling CR4.PGE (which flushes every TLB entry, globals included, and
 * the paging-structure caches; a CPU without PGE reloads CR3 instead,
 * there are no global entries then), perform the access (EFLAGS.AC as the
 * probe says), read the entries back and clear them.
 *
 * Which physical address did a successful access reach?  Every 8-byte slot
 * of the data pages holds `mov $imm32, %edx; ret` with imm32 = the slot's
 * own physical address, plus two marker bytes (as on amd64):
 *   - a read (two 4-byte loads, low half first) returns the slot;
 *   - a fetch executes the `mov` (single-stepped, pc_probe_fetch) and
 *     leaves the address in %edx;
 *   - a write (two 4-byte stores) stores a marker that no slot holds; the
 *     data pages are then scanned for it and the slot is restored.
 * (That part, and the access itself, is ../mmuprobe_common.c.)
 * probe_format() prints addresses relative to the arena, so only the
 * identity of the slot matters.
 *
 * PSE-36.  A CPU that has it (CPUID.1:EDX[17]) takes bits (M-20):13 of a
 * 4 MiB PDE as physical-address bits (M-1):32, M = min(MAXPHYADDR, 40);
 * the simulated MMU models a CPU without it (MAXPHYADDR 32: bits 21:13
 * reserved), and the generator sets those bits now and then.  A line
 * "# mmuprobe: PSE-36 ..." says which this CPU is, and mmu-diff.sh tells
 * the tool (--pse36=M; QEMU's TCG behaves so whatever CPUID says).  Such a
 * page lies above 4 GiB, where there is no RAM: a read or a write there
 * reaches no slot (the line says raw:...), and a fetch executes whatever
 * the bus returns there.
 */
#include "pc_mmuprobe.h"

#include <pmap/amd64_pte.h>


#define FOUR_MIB	0x400000ULL
#define ARENA_D0	0x104000ULL	/* tools/mmuprobe's D0 (modulo 4 MiB) */
#define PD_FIRST_PROBE	256		/* the generator's PD slots */
#define PD_END_PROBE	512
#define PD_RECURSIVE	1023
#define NPDE		1024

/* pa is in the kernel window: checked for the whole arena up front. */
static volatile uint32_t *
phys32(uint64_t pa)
{
	return (volatile uint32_t *)(uintptr_t)(PC_KERNEL_VMA + pa);
}

/*
 * The arena: D0..D7 at 0x104000 + i * 4 KiB modulo 4 MiB, the page
 * directory and the page table.  One contiguous run from the bottom of the
 * allocator's memory covers some such address; the frames not used are
 * given back.  Returns false if there is no such run in the kernel window.
 */
#define RUN_PAGES	(FOUR_MIB / PC_PAGE_SIZE + PROBE_NDATA + 2)

static bool
arena_alloc(struct probe_arena *a)
{
	uint64_t run, d0, root, pt;

	if (pc_page_alloc_contig(RUN_PAGES, &run) != 0)
		return false;
	d0 = (run & ~(FOUR_MIB - 1)) + ARENA_D0;
	if (d0 < run)
		d0 += FOUR_MIB;
	/* Two table pages: before D0 if there is room, else after D7. */
	root = d0 >= run + 2 * PC_PAGE_SIZE ? d0 - 2 * PC_PAGE_SIZE :
	    d0 + PROBE_NDATA * PC_PAGE_SIZE;
	pt = root + PC_PAGE_SIZE;
	for (uint64_t pa = run; pa < run + RUN_PAGES * PC_PAGE_SIZE; pa += PC_PAGE_SIZE) {
		bool keep = pa == root || pa == pt ||
		    (pa >= d0 && pa < d0 + PROBE_NDATA * PC_PAGE_SIZE);
		if (!keep)
			pc_page_free(pa);
	}
	a->pa_root = root;
	a->pa_pdpt = a->pa_pd = 0;	/* unused in 32-bit paging */
	a->pa_pt = pt;
	for (int i = 0; i < PROBE_NDATA; i++)
		a->pa_data[i] = d0 + (uint64_t)i * PC_PAGE_SIZE;
	return pc_phys_permanent(run, RUN_PAGES * PC_PAGE_SIZE) != NULL;
}

static bool
cpu_has_pse36(void)
{
	uint32_t a = 1, b, c = 0, d;

	__asm__ __volatile__("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return (d & (1u << 17)) != 0;
}

static void
run_probe(const struct probe_arena *a, const struct probe *p, unsigned n,
    uint64_t cr0, uint64_t cr4, uint64_t efer, bool have_efer, bool have_pge,
    struct probe_result *res)
{
	uint64_t c4;

	pc_write_cr0((cr0 & ~CR0_WP) | (p->p_wp ? CR0_WP : 0));
	if (have_efer)
		pc_wrmsr(MSR_EFER, (efer & ~EFER_NXE) | (p->p_nxe ? EFER_NXE : 0));
	for (int i = 0; i < p->p_nent; i++)
		*phys32(p->p_ent[i].pe_slot) = (uint32_t)p->p_ent[i].pe_value;
	c4 = (cr4 & ~(CR4_SMEP | CR4_SMAP | CR4_PGE | CR4_PSE)) |
	    (p->p_smep ? CR4_SMEP : 0) | (p->p_smap ? CR4_SMAP : 0) |
	    (p->p_pse ? CR4_PSE : 0) | (p->p_pge ? CR4_PGE : 0);
	if (have_pge) {
		pc_write_cr4(c4 ^ CR4_PGE);	/* toggling PGE flushes everything */
		pc_write_cr4(c4);
	} else {
		pc_write_cr4(c4);
		pc_write_cr3(a->pa_root);	/* no global entries without PGE */
	}

	pc_mmuprobe_access(a, p, n, res);
	for (int i = 0; i < p->p_nent; i++) {
		res->pr_after[i] = *phys32(p->p_ent[i].pe_slot);
		*phys32(p->p_ent[i].pe_slot) = 0;
	}
}

int
pc_mmuprobe_main(void)
{
	const struct pc_cpu_features *f = pc_cpu_features();
	struct probe_config cfg = {
		.arch = PROBE_ARCH_I386,
		.maxphyaddr = 32,
		.can_smep = f->cf_smep && !pc_cmdline_flag("no-smep"),
		.can_smap = f->cf_smap && !pc_cmdline_flag("no-smap"),
		/* EFER exists (and NXE may be set) where the CPU has NX. */
		.vary_nxe = f->cf_nx && !pc_cmdline_flag("no-vary-nxe"),
		.can_user = !pc_cmdline_flag("no-user"),
		.can_1g = false,
		.can_pse = f->cf_pse && !pc_cmdline_flag("no-pse"),
		.can_pge = f->cf_pge && !pc_cmdline_flag("no-pge"),
	};
	uint64_t seed = pc_cmdline_u64("seed", 1);
	unsigned count = (unsigned)pc_cmdline_u64("count", 100);
	const volatile uint32_t *boot_pd = phys32(pc_boot_cr3());
	volatile uint32_t *pd;
	struct probe_arena a;
	struct probe_rng rng;
	uint64_t cr0, cr3, cr4, efer = 0, t0;
	pc_intr_state_t s;
	char line[512];

	if (!arena_alloc(&a)) {
		pc_printf("# mmuprobe: no %llu contiguous free frames in the "
		    "kernel window for the arena\n", (unsigned long long)RUN_PAGES);
		return 1;
	}
	pc_mmuprobe_fill(&a);
	pd = phys32(a.pa_root);
	for (int i = 0; i < NPDE; i++) {
		pd[i] = i >= PD_FIRST_PROBE && i < PD_END_PROBE ? 0 : boot_pd[i];
		*phys32(a.pa_pt + 4 * (uint64_t)i) = 0;
	}
	pd[PD_RECURSIVE] = (uint32_t)a.pa_root | (boot_pd[PD_RECURSIVE] & 0xfff);

	pc_printf("# mmuprobe: %s CPU, %s; on the boot page tables\n",
	    f->cf_vendor, f->cf_hv_vendor[0] ? f->cf_hv_vendor : "no hypervisor");
	pc_printf("# mmuprobe: arena D0 at %#llx, page directory at %#llx, "
	    "page table at %#llx\n", (unsigned long long)a.pa_data[0],
	    (unsigned long long)a.pa_root, (unsigned long long)a.pa_pt);
	if (cpu_has_pse36()) {
		unsigned m = f->cf_maxphyaddr < 40 ? f->cf_maxphyaddr : 40;

		pc_printf("# mmuprobe: PSE-36 yes, MAXPHYADDR %u: 4 MiB PDE bits "
		    "%u:13 are physical-address bits %u:32\n", f->cf_maxphyaddr,
		    m - 20, m - 1);
	} else
		pc_printf("# mmuprobe: PSE-36 no: 4 MiB PDE bits 21:13 are reserved\n");
	probe_format_header(line, sizeof(line), &cfg, seed, count);
	pc_printf("%s\n", line);

	/* CPU 0 alone; nothing needs interrupts while the control registers
	 * are in the probes' odd states. */
	s = pc_intr_disable();
	cr0 = pc_read_cr0();
	cr3 = pc_read_cr3();
	cr4 = pc_read_cr4();
	if (f->cf_nx)
		efer = pc_rdmsr(MSR_EFER);
	pc_write_cr3(a.pa_root);
	t0 = pc_uptime_us();
	probe_rng_seed(&rng, seed);
	for (unsigned n = 0; n < count; n++) {
		struct probe p;
		struct probe_result res = { 0 };

		probe_generate(&rng, &cfg, &a, n, &p);
		run_probe(&a, &p, n, cr0, cr4, efer, f->cf_nx, f->cf_pge, &res);
		probe_format(line, sizeof(line), &a, &p, &res);
		pc_printf("%s\n", line);
	}
	pc_write_cr0(cr0);
	if (f->cf_nx)
		pc_wrmsr(MSR_EFER, efer);
	pc_write_cr3(cr3);
	if (f->cf_pge)
		pc_write_cr4(cr4 ^ CR4_PGE);
	pc_write_cr4(cr4);
	pc_write_cr3(cr3);
	pc_intr_restore(s);

	pc_printf("1..1\nok 1 - %u MMU probes ran on the real MMU in %llu ms\n",
	    count, (unsigned long long)((pc_uptime_us() - t0) / 1000));
	return 0;
}
