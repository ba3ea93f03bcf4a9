// SPDX-License-Identifier: BSD-2-Clause
/*
 * pc_pmap.h - the bare-metal kernel as a libpmap host: its struct vm_page
 * and struct lwp, how it boots the library, and what host.c offers the
 * test glue (ptest_pc.c) and the MMU-probe mode (mmuprobe.c).
 *
 * host.c implements every hook of <pmap/pmap_host.h>, and <arch>/host_md.c
 * those of the arch's own hook header, on top of pc.h; README.md ("Embedding libpmap in a
 * kernel") walks through it.
 */
#ifndef PC_PMAP_H
#define PC_PMAP_H

#include <pmap/pmap.h>

#include "pc.h"

/* One per frame the page allocator manages (pc_page_ranges()), in one
 * array indexed by frame number, so the physical address is implied by
 * the position (pc_vm_page_pa). */
struct vm_page {
	struct pmap_page mdpage;	/* the library's per-page data */
};

struct lwp {
	pmap_t l_pmap;
	int l_id;
};

/* The TLB-shootdown IPI; its handler calls pmap_tlb_intr(). */
#define PC_VEC_SHOOTDOWN	0xe0

/*
 * Boot the library: vm_page array, struct pmap_bootinfo from the memory map
 * and the image layout, pmap_bootstrap() on CPU 0, pmap_cpu_init() on
 * every CPU, pmap_init().  From then on every CPU runs on the library's
 * kernel page tables.  Call once, on CPU 0, with interrupts enabled.
 */
void pc_pmap_boot(enum pmap_sfbuf_mode mode);

struct vm_page *pc_pa_to_vm_page(paddr_t pa);
paddr_t pc_vm_page_pa(const struct vm_page *pg);

/* The lwp running on this CPU (NULL: a kernel thread, kernel pmap). */
void pc_set_curlwp(struct lwp *l);

/* Preemption-disable depth of this CPU (tests check it is balanced). */
int pc_preempt_depth(void);
void pc_preempt_reset(int depth);

/* Page allocation with fault injection (what pmap_host_page_alloc and the
 * tests' page allocations use): fail the nth allocation from now (1 = the
 * next one; 0 disarms); count attempts. */
int pc_pmap_page_alloc(paddr_t *pap);
void pc_pmap_alloc_fail_nth(uint64_t n);
uint64_t pc_pmap_alloc_count(void);

/* Signals for sleeps that asked for them (SFB_CATCH). */
void pc_pmap_signal(int cpu);

/* The arch's part of the host (<arch>/host_md.c): read the CPU features
 * the library is told about; fill in the boot information (bi is zeroed)
 * with pc_add_krange() for what the kernel needs mapped after the switch. */
void pc_md_read_cpu_features(void);
void pc_md_build_bootinfo(struct pmap_bootinfo *bi, enum pmap_sfbuf_mode mode);
void pc_add_krange(struct pmap_bootinfo *bi, vaddr_t va, paddr_t pa,
    vsize_t size, vm_prot_t prot, u_int flags);

/* What the library can use on this CPU: NX, and PAT for cache modes. */
bool pc_md_have_nx(void);
bool pc_md_have_pat(void);

/* Where va leads in the page tables this CPU runs on (a software walk of
 * the current CR3): true and *pa, or false if it is not mapped. */
bool pc_md_translate(uint64_t va, uint64_t *pa);

/* The MMU-probe mode (<arch>/mmuprobe.c); runs on the boot page tables. */
int pc_mmuprobe_main(void);

/* The bench mode (bench_pc.c): boots libpmap and times bench/bench_ops.c. */
int pc_bench_main(void);

/* What runs this kernel, from CPUID's hypervisor leaf: "TCG", "KVM",
 * another hypervisor's vendor string, or "bare-metal". */
const char *pc_machine_name(void);

/* Command-line helpers: is the bare word present; the value of key=. */
bool pc_cmdline_flag(const char *word);
bool pc_cmdline_value(const char *key, char *buf, size_t len);
uint64_t pc_cmdline_u64(const char *key, uint64_t dflt);

#endif /* PC_PMAP_H */
