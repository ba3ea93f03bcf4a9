// SPDX-License-Identifier: BSD-2-Clause
/*
 * pmap.h - libpmap's public interface.
 *
 * The whole of NetBSD's pmap(9), with NetBSD's signatures, plus FreeBSD's
 * pmap_quick_enter_page(9), sf_buf(9), pmap_kenter_temporary() and
 * pmap_qenter()/pmap_qremove().  The contracts below are the man pages'
 * (see man/pmap.9), stated here where a caller needs them.
 *
 * The host kernel supplies the services listed in <pmap/pmap_host.h>, a
 * struct vm_page that contains a struct pmap_page (see below), and a
 * struct lwp; it calls pmap_bootstrap() once, pmap_cpu_init() on every
 * CPU, then pmap_init().  Everything else may be called on any CPU.
 *
 * Conventions:
 *  - Addresses and sizes must be page aligned unless a function says
 *    otherwise; a caller error (misaligned address, user address in the
 *    kernel pmap, ...) is a panic whose message names the function and the
 *    values (PMAP_KASSERTMSG).
 *  - pmap_enter, pmap_remove, pmap_protect, pmap_kenter_pa, pmap_kremove
 *    may leave TLBs stale until pmap_update() of that pmap is called, on
 *    any CPU; every other function takes effect before it returns.
 *  - Interrupt context: pmap_kenter_pa, pmap_kremove and
 *    pmap_update(pmap_kernel()) only.  Sleeping: only sf_buf_alloc()
 *    without SFB_NOWAIT.
 */
#ifndef PMAP_PMAP_H
#define PMAP_PMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pmap/pmap_config.h>
#include <pmap/pmap_version.h>
#include <pmap/pmap_md.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types (a host that has them already defines PMAP_HAVE_VM_TYPES);
 * vaddr_t, paddr_t, vsize_t and psize_t come from <pmap/pmap_md.h>, at
 * the machine's width ---- */
#ifndef PMAP_HAVE_VM_TYPES
typedef int vm_prot_t;
typedef unsigned int u_int;
#endif

#define VM_PROT_NONE	0x0
#define VM_PROT_READ	0x1
#define VM_PROT_WRITE	0x2
#define VM_PROT_EXECUTE	0x4
#define VM_PROT_ALL	(VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXECUTE)

/* pmap_enter() flags: the low bits are the access type (VM_PROT_*). */
#define PMAP_PROT_MASK		VM_PROT_ALL
#define PMAP_WIRED		0x00000010	/* wired mapping */
#define PMAP_CANFAIL		0x00000020	/* may fail: return ENOMEM, change nothing */
#define PMAP_NOCACHE		0x00000100	/* uncached (UC) */
#define PMAP_WRITE_COMBINE	0x00000200	/* write combining (WC) */
#define PMAP_WRITE_BACK		0x00000400	/* cached (WB), the default */
#define PMAP_NOCACHE_OVR	0x00000800	/* uncached, overridable (UC-) */
#define PMAP_CACHE_MASK		0x00000f00

#ifndef ENOMEM
#define PMAP_ENOMEM 12
#else
#define PMAP_ENOMEM ENOMEM
#endif

typedef struct pmap *pmap_t;
struct vm_page;		/* host-defined; holds a struct pmap_page */
struct lwp;		/* host-defined */
struct proc;		/* host-defined */
struct sf_buf;		/* opaque */

struct pmap_statistics {
	long resident_count;	/* pages mapped */
	long wired_count;	/* pages mapped wired */
};

/*
 * Per-page data the pmap keeps; the host embeds one in every struct
 * vm_page and returns it from pmap_host_page_md().  Zero-initialise it.
 * All fields are private to the library.
 */
struct pmap_pv;			/* further mappings: pv chunk entries */
struct pmap_pv_slot {			/* one mapping, kept in place */
	struct pmap *pv_pmap;
	vaddr_t pv_va;
};

struct pmap_page {
	volatile uint8_t pp_lock;	/* spin lock: pv list, pp_gen (atomic byte) */
	uint8_t pp_attrs;		/* PP_ATTR_* (atomic) */
	uint16_t pp_sfref;		/* sf_buf references, direct-map mode (atomic) */
	uint32_t pp_gen;		/* bumped on every pv list change (pp_lock) */
	struct pmap_pv_slot pp_pv;	/* a mapping, stored in place (pp_lock) */
	struct pmap_pv *pp_pvlist;	/* further mappings (pp_lock) */
	/* Not a union: a page freed by the VM while an idle sf_buf still maps
	 * it may become a page-table page before the library notices. */
	struct sf_buf *pp_sfbuf;	/* its sf_buf, mapped mode (sf_lock) */
	long pp_ptp_nvalid;		/* page-table page: valid entries (pmap lock) */
};

/* ---- bootstrap ---- */

struct pmap_segment {
	paddr_t ps_start, ps_end;	/* [start, end), page aligned */
};

struct pmap_krange {
	vaddr_t kr_va;			/* kernel image range to map */
	paddr_t kr_pa;
	vsize_t kr_size;
	vm_prot_t kr_prot;
	u_int kr_flags;			/* cache mode (PMAP_NOCACHE ...), PMAP_KRANGE_USER */
};
/* A kernel-half range user mode may reach (a trampoline or vsyscall-style
 * page): the leaves and the tables above them carry U/S.  Other kernel
 * leaves stay supervisor-only, since U/S is ANDed across levels. */
#define PMAP_KRANGE_USER	0x00010000

enum pmap_sfbuf_mode {
	PMAP_SFBUF_DMAP = 0,		/* sf_buf kva is the direct-map address */
	PMAP_SFBUF_MAPPED = 1,		/* a cache of temporary kernel mappings */
};

struct pmap_bootinfo {
	int pb_nsegs;
	struct pmap_segment pb_segs[PMAP_MAXSEGS];	/* RAM, for the direct map */
	int pb_nkranges;
	struct pmap_krange pb_kranges[PMAP_MAXKRANGES];	/* kernel image */
	vsize_t pb_kva_initial;		/* KVA to provide page tables for at boot */
	enum pmap_sfbuf_mode pb_sfbuf_mode;
};

/* Build the kernel pmap.  Once, before anything else, on the boot CPU. */
void pmap_bootstrap(const struct pmap_bootinfo *bi);
/* Per-CPU setup: PAT, CR0.WP, CR4.PGE, EFER.NXE, then load the kernel
 * pmap; on each CPU, after pmap_bootstrap(). */
void pmap_cpu_init(void);
/* The host calls this from its TLB-shootdown IPI handler. */
void pmap_tlb_intr(void);

/* ---- pmap(9) ---- */

void pmap_init(void);
void pmap_virtual_space(vaddr_t *vstartp, vaddr_t *vendp);
vaddr_t pmap_steal_memory(vsize_t size, vaddr_t *vstartp, vaddr_t *vendp);
pmap_t pmap_kernel(void);
pmap_t pmap_create(void);
void pmap_destroy(pmap_t pmap);
void pmap_reference(pmap_t pmap);
void pmap_fork(pmap_t src_map, pmap_t dst_map);
long pmap_resident_count(pmap_t pmap);
long pmap_wired_count(pmap_t pmap);
vaddr_t pmap_growkernel(vaddr_t maxkvaddr);
int pmap_enter(pmap_t pmap, vaddr_t va, paddr_t pa, vm_prot_t prot, u_int flags);
void pmap_remove(pmap_t pmap, vaddr_t sva, vaddr_t eva);
void pmap_remove_all(pmap_t pmap);
void pmap_protect(pmap_t pmap, vaddr_t sva, vaddr_t eva, vm_prot_t prot);
void pmap_unwire(pmap_t pmap, vaddr_t va);
bool pmap_extract(pmap_t pmap, vaddr_t va, paddr_t *pap);
void pmap_kenter_pa(vaddr_t va, paddr_t pa, vm_prot_t prot, u_int flags);
void pmap_kremove(vaddr_t va, vsize_t size);
void pmap_copy(pmap_t dst_map, pmap_t src_map, vaddr_t dst_addr, vsize_t len,
    vaddr_t src_addr);
void pmap_update(pmap_t pmap);
void pmap_activate(struct lwp *l);
void pmap_deactivate(struct lwp *l);
void pmap_zero_page(paddr_t pa);
void pmap_copy_page(paddr_t src, paddr_t dst);
void pmap_page_protect(struct vm_page *pg, vm_prot_t prot);
bool pmap_clear_modify(struct vm_page *pg);
bool pmap_clear_reference(struct vm_page *pg);
bool pmap_is_modified(struct vm_page *pg);
bool pmap_is_referenced(struct vm_page *pg);
paddr_t pmap_phys_address(paddr_t cookie);
void pmap_procwr(struct proc *p, vaddr_t va, vsize_t size);

vaddr_t pmap_map_poolpage(paddr_t pa);
paddr_t pmap_unmap_poolpage(vaddr_t va);
void pmap_prefer(vaddr_t hint, vaddr_t *vap, vsize_t sz, int td);
#if PMAP_HAVE_DIRECT_MAP	/* NetBSD: defined only where pool pages need no mapping */
#define PMAP_MAP_POOLPAGE(pa)		pmap_map_poolpage(pa)
#define PMAP_UNMAP_POOLPAGE(va)		pmap_unmap_poolpage(va)
#endif
#define PMAP_PREFER(hint, vap, sz, td)	pmap_prefer((hint), (vap), (sz), (td))
#define PMAP_STEAL_MEMORY
#define PMAP_GROWKERNEL
#define PMAP_FORK
#define PMAP_NEED_PROCWR

/* ---- FreeBSD: temporary kernel mappings ---- */

vaddr_t pmap_quick_enter_page(struct vm_page *m);
void pmap_quick_remove_page(vaddr_t kva);

#define SFB_CATCH	0x01	/* sleep interruptibly; NULL when interrupted */
#define SFB_NOWAIT	0x02	/* NULL instead of sleeping */
#define SFB_CPUPRIVATE	0x04	/* valid on the calling CPU only */
struct sf_buf *sf_buf_alloc(struct vm_page *m, int flags);
void sf_buf_free(struct sf_buf *sf);
vaddr_t sf_buf_kva(struct sf_buf *sf);
struct vm_page *sf_buf_page(struct sf_buf *sf);

void *pmap_kenter_temporary(paddr_t pa, int i);
void pmap_qenter(vaddr_t va, struct vm_page **m, int count);
void pmap_qremove(vaddr_t va, int count);

/* ---- libpmap extras ---- */

/* Counters for the whole library (approximate while CPUs are busy). */
struct pmap_counters {
	uint64_t pc_pv_entries;		/* pv entries allocated from chunks */
	uint64_t pc_pv_chunks;		/* pages holding pv chunks */
	uint64_t pc_ptp_pages;		/* page-table pages of user pmaps */
	uint64_t pc_kptp_pages;		/* page-table pages of the kernel */
	uint64_t pc_shootdowns;		/* shootdown rounds sent to other CPUs */
	uint64_t pc_shootdown_ipis;	/* IPIs those rounds sent */
	uint64_t pc_page_invalidations;		/* single-address invalidations done */
	uint64_t pc_full_flushes;	/* full flushes done */
	uint64_t pc_pmaps;		/* live pmaps, kernel included */
};
void pmap_get_counters(struct pmap_counters *c);

/* Bound pv memory (pages of pv chunks); 0 = no bound.  When the bound or
 * the host allocator is reached, pmap_enter() with PMAP_CANFAIL returns
 * ENOMEM, without it panics naming the bound. */
void pmap_set_pv_limit(uint64_t pages);

/* A shootdown whose targets have not all answered after this many spins
 * (calls of pmap_host_spin_wait) panics, naming them; 0 restores the
 * default, PMAP_SHOOTDOWN_SPINS. */
void pmap_set_shootdown_timeout(uint64_t spins);

/* Where cached translations carry an address-space identifier (amd64:
 * PCIDs), hand out at most n of them per CPU before starting over - which
 * flushes that CPU's translations of every address space; 0 restores the
 * machine's number (4095 PCIDs).  For tests of the wrap-around; no effect
 * on machines without identifiers.  Any CPU, any time. */
void pmap_set_asid_limit(unsigned n);

/* Page-table pages (below the PML4) a pmap holds right now. */
long pmap_ptp_count(pmap_t pmap);

/* Consistency walkers (PMAP_DIAGNOSTIC runs them after every operation;
 * a host may call them any time): panic with a message naming the
 * first inconsistency.  pmap_check_pmap: every valid managed PTE has
 * exactly one pv entry, statistics and page-table-page counts are exact.
 * pmap_check_page: every pv entry of pg has its PTE. */
void pmap_check_pmap(pmap_t pmap);
void pmap_check_page(struct vm_page *pg);

/* Print a readable dump of pm's page tables through pmap_host_printf. */
void pmap_dump(pmap_t pmap, vaddr_t sva, vaddr_t eva);

/* What pmap_extract found, with the leaf entry's meaning decoded. */
struct pmap_mapping_info {
	paddr_t mi_pa;
	vsize_t mi_size;	/* 4K, 2M or 1G */
	vm_prot_t mi_prot;
	bool mi_wired, mi_managed, mi_kenter, mi_global;
	bool mi_referenced, mi_modified;	/* A and D of this mapping */
	unsigned mi_cache;	/* PMAP_NOCACHE ... or 0 for write-back */
};
bool pmap_mapping_info(pmap_t pmap, vaddr_t va, struct pmap_mapping_info *mi);

#ifdef __cplusplus
}
#endif

#endif /* PMAP_PMAP_H */
