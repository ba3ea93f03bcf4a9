// SPDX-License-Identifier: BSD-2-Clause
/*
 * host_md.c - the amd64 part of libpmap's host on the bare-metal kernel:
 * the hooks of <pmap/amd64_host.h>, the direct map behind
 * pmap_host_phys_map, and the boot information (direct-map segments, the
 * kernel image section by section, the user region, the xAPIC page).
 *
 * The instructions are the platform's own accessors (pc.h), except
 * INVPCID, which only the library uses; it is issued only when CPUID
 * reports it (the library does not call it otherwise).
 */
#include "pc_pmap.h"

#include <pmap/amd64_host.h>
#include <pmap/amd64_pte.h>
#include <pmap/pmap_host.h>

#define HOST_ASSERT(e) do {						\
	if (!(e))							\
		pc_panic("%s: \"%s\" failed", __func__, #e);		\
} while (0)

static uint32_t host_features;
static int host_maxphyaddr;

void *
pmap_host_phys_map(paddr_t pa)
{
	return pc_phys_to_dmap(pa);
}

uint32_t
pmap_host_amd64_features(void)
{
	return host_features;
}

int
pmap_host_amd64_maxphyaddr(void)
{
	return host_maxphyaddr;
}

/* The instructions: the platform's own accessors (pc.h), except INVPCID,
 * which only the library uses. */
void pmap_host_amd64_invlpg(uint64_t va) { pc_invlpg(va); }

void
pmap_host_amd64_invpcid(int type, uint16_t pcid, uint64_t va)
{
	struct {
		uint64_t pcid, va;
	} desc = { pcid, va };

	if (!(host_features & AMD64_FEAT_INVPCID))
		pc_panic("INVPCID type %d on a CPU without it", type);
	__asm__ __volatile__("invpcid %0, %1"
	    :: "m"(desc), "r"((uint64_t)type) : "memory");
}

uint64_t pmap_host_amd64_rcr0(void) { return pc_read_cr0(); }
void pmap_host_amd64_lcr0(uint64_t cr0) { pc_write_cr0(cr0); }
uint64_t pmap_host_amd64_rcr3(void) { return pc_read_cr3(); }
void pmap_host_amd64_lcr3(uint64_t cr3) { pc_write_cr3(cr3); }
uint64_t pmap_host_amd64_rcr4(void) { return pc_read_cr4(); }
void pmap_host_amd64_lcr4(uint64_t cr4) { pc_write_cr4(cr4); }
uint64_t pmap_host_amd64_rdmsr(uint32_t msr) { return pc_rdmsr(msr); }
/* A hint for TLB checkers; the real MMU needs none. */
void pmap_host_amd64_pcid_dead(int cpu, uint16_t pcid) { (void)cpu; (void)pcid; }
void pmap_host_amd64_wrmsr(uint32_t msr, uint64_t v) { pc_wrmsr(msr, v); }

void
pc_md_read_cpu_features(void)
{
	const struct pc_cpu_features *f = pc_cpu_features();

	host_features = (f->cf_nx ? AMD64_FEAT_NX : 0) |
	    (f->cf_pge ? AMD64_FEAT_PGE : 0) |
	    (f->cf_pcid ? AMD64_FEAT_PCID : 0) |
	    (f->cf_invpcid ? AMD64_FEAT_INVPCID : 0) |
	    (f->cf_pdpe1gb ? AMD64_FEAT_1G : 0) |
	    (f->cf_smep ? AMD64_FEAT_SMEP : 0) |
	    (f->cf_smap ? AMD64_FEAT_SMAP : 0) |
	    (f->cf_pat ? AMD64_FEAT_PAT : 0);
	host_maxphyaddr = (int)f->cf_maxphyaddr;
}

void
pc_md_build_bootinfo(struct pmap_bootinfo *bi, enum pmap_sfbuf_mode mode)
{
	const struct pc_mem_range *ram;
	int nram = pc_mem_ranges(&ram);
	struct pc_image_layout il;
	struct pc_user_region ur;
	uint64_t va, pa;

	/* The direct map: usable RAM only.  Everything else the kernel
	 * reaches after the switch is a kernel range below. */
	for (int i = 0; i < nram; i++) {
		if (bi->pb_nsegs >= PMAP_MAXSEGS) {
			pc_printf("# pc: more than %d RAM ranges; the rest is not "
			    "direct-mapped\n", PMAP_MAXSEGS);
			break;
		}
		bi->pb_segs[bi->pb_nsegs++] = (struct pmap_segment){
			ram[i].mr_start, ram[i].mr_end };
	}

	/* The kernel image at its linked addresses, section by section. */
	pc_image_layout(&il);
#define KPA(v) ((v) - il.il_virt_start + il.il_phys_start)
	pc_add_krange(bi, il.il_text_start, KPA(il.il_text_start),
	    il.il_text_end - il.il_text_start, VM_PROT_READ | VM_PROT_EXECUTE, 0);
	pc_add_krange(bi, il.il_rodata_start, KPA(il.il_rodata_start),
	    il.il_rodata_end - il.il_rodata_start, VM_PROT_READ, 0);
	HOST_ASSERT(il.il_data_end == il.il_bss_start);
	pc_add_krange(bi, il.il_data_start, KPA(il.il_data_start),
	    il.il_bss_end - il.il_data_start, VM_PROT_READ | VM_PROT_WRITE, 0);
#undef KPA

	/* Ring-3 probe stubs and their stacks, user-accessible. */
	pc_user_region(&ur);
	pc_add_krange(bi, ur.ur_code_va, ur.ur_code_pa, PAGE_SIZE,
	    VM_PROT_READ | VM_PROT_EXECUTE, PMAP_KRANGE_USER);
	pc_add_krange(bi, ur.ur_stack_va, ur.ur_stack_pa, ur.ur_stack_size,
	    VM_PROT_READ | VM_PROT_WRITE, PMAP_KRANGE_USER);

	/* xAPIC registers (not RAM, so not in the direct map). */
	if (pc_lapic_mmio_page(&va, &pa))
		pc_add_krange(bi, va, pa, PAGE_SIZE, VM_PROT_READ | VM_PROT_WRITE,
		    PMAP_NOCACHE);

	bi->pb_kva_initial = 16ULL << 20;
	bi->pb_sfbuf_mode = mode;
}

bool
pc_md_translate(uint64_t va, uint64_t *pap)
{
	uint64_t table = pc_read_cr3() & PG_FRAME;

	if ((uint64_t)((int64_t)(va << 16) >> 16) != va)
		return false;		/* non-canonical: #GP, no walk */
	for (int level = 4; level >= 1; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		uint64_t e = __atomic_load_n((uint64_t *)pc_phys_to_dmap(table) +
		    ((va >> shift) & 511), __ATOMIC_RELAXED);
		uint64_t size = 1ULL << shift;

		if (!(e & PG_P))
			return false;
		if (level == 4 && (e & PG_PS))
			return false;
		if (level > 1 && !(e & PG_PS)) {
			table = e & PG_FRAME;
			continue;
		}
		*pap = (e & PG_FRAME & ~(size - 1)) + (va & (size - 1));
		return true;
	}
	return false;
}

bool pc_md_have_nx(void) { return pc_cpu_features()->cf_nx; }
bool pc_md_have_pat(void) { return pc_cpu_features()->cf_pat; }
