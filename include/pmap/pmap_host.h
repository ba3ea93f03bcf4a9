// SPDX-License-Identifier: BSD-2-Clause
/*
 * pmap_host.h - everything libpmap needs from the kernel that embeds it.
 *
 * This is the only way the library reaches its host.  A host implements
 * every function below (platform/sim/host.c and platform/pc/host.c are two
 * complete examples).  Each hook says:
 *   - when it is first called ("boot" = from pmap_bootstrap on, before
 *     pmap_init; "run" = after pmap_init),
 *   - whether it may sleep,
 *   - what the library holds when it calls it.
 * The library never calls a hook with interrupts disabled unless the hook
 * says so.  Hooks marked "hot" are called on every mapping operation; keep
 * them short.
 *
 * Each machine's layer needs a few CPU instructions as well; they are in
 * <pmap/amd64_host.h> and <pmap/i386_host.h>, which a host for that
 * machine implements too.
 */
#ifndef PMAP_HOST_H
#define PMAP_HOST_H

#include <pmap/pmap.h>

/*
 * Hot hooks, inline.  A host may hand the library static inline versions
 * of the lookups it makes per PTE, instead of a call each (as lwIP's
 * arch/cc.h does): build the library's own files (pmap/, arch/) with
 * -DPMAP_HOST_INLINE='"my_pmap_inline.h"' naming a header that defines any
 * of these, and for each one it defines, the macro beside it:
 *
 *   pmap_host_phys_map       PMAP_HOST_INLINE_PHYS_MAP
 *   pmap_host_phys_to_page   PMAP_HOST_INLINE_PHYS_TO_PAGE
 *   pmap_host_page_md        PMAP_HOST_INLINE_PAGE_MD
 *   pmap_host_page_pa        PMAP_HOST_INLINE_PAGE_PA
 *
 * Their contracts are the ones below.  The header is included here, after
 * <pmap/pmap.h>, so it sees paddr_t and struct pmap_page; it brings its own
 * struct vm_page.  Everything it does not define stays an extern call, and
 * a library built without PMAP_HOST_INLINE calls every hook
 * (platform/sim/sim_host_inline.h is an example).
 */
#ifdef PMAP_HOST_INLINE
#include PMAP_HOST_INLINE
#endif

/* ---------------- Tier 0: usable from pmap_bootstrap on ---------------- */

/*
 * Stop the machine with a message.  printf-style: %d %u %x %ld %lu %lx
 * %lld %llu %llx %zu %p %s %c, with width, zero padding and the # flag,
 * must be supported.  Never returns.
 * May be called with any lock held and interrupts in any state.  Tests on
 * the simulated machine catch it to check that caller errors are refused.
 */
void pmap_host_panic(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

/* Console output (same format set as pmap_host_panic).  Used by pmap_dump()
 * and diagnostics only; may be slow; may be called with the dumped pmap's
 * lock held (a spin lock: it must not sleep). */
void pmap_host_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* This CPU's id, 0 .. pmap_host_ncpus()-1 (hot).  Stable while preemption
 * is disabled.  The number of CPUs does not change after pmap_bootstrap. */
int pmap_host_cpu_id(void);
int pmap_host_ncpus(void);

/*
 * Allocate one zero-filled or dirty 4 KiB physical page for the library's
 * own use (page-table pages, pv chunks, pmap structures).  Returns 0 and
 * the address, or nonzero when none is available - never sleeps, never
 * panics: the library decides (PMAP_CANFAIL -> ENOMEM, otherwise it panics
 * itself).  Called with a pmap lock held, interrupts enabled.  Every page
 * it returns must have a vm_page (pmap_host_phys_to_page): the library
 * keeps a page table's valid-entry count in its struct pmap_page.
 * pmap_host_page_free gives a page back; the library calls it only once
 * no CPU's TLB or paging-structure cache can reference the page.
 */
int pmap_host_page_alloc(paddr_t *pap);
void pmap_host_page_free(paddr_t pa);

/*
 * Reaching physical memory.  Which of these a host implements depends on
 * the machine (the MD layer is the only caller):
 *
 * pmap_host_phys_map - machines with a direct map (amd64): a lasting
 *   pointer to pa, through which the library reads and writes page tables,
 *   pv chunks and pmap structures and zeroes and copies pages (hot).  On
 *   amd64 the direct map once pmap_cpu_init() has run, at bootstrap the
 *   host's own mapping of RAM.  Must cover every page pmap_host_page_alloc
 *   returns and every page a vm_page describes.
 *
 * pmap_host_phys_tmp_map / pmap_host_phys_tmp_unmap - machines without one
 *   (i386): map pa "for a moment", until the matching unmap, on this CPU,
 *   preemption disabled in between.  Only pmap_bootstrap calls it, to build
 *   the first page tables before the library's own windows exist (a kernel
 *   still running on its boot mapping, or with paging off, returns the
 *   address it can use; a simulator its host pointer).  At most two are
 *   held at once.
 */
#ifndef PMAP_HOST_INLINE_PHYS_MAP
void *pmap_host_phys_map(paddr_t pa);
#endif
void *pmap_host_phys_tmp_map(paddr_t pa);
void pmap_host_phys_tmp_unmap(void *p);

/*
 * The vm_page of a physical address, or NULL when pa is not managed RAM
 * (device memory): NULL makes pmap_enter() create an unmanaged mapping
 * (hot).  pmap_host_page_md returns the struct pmap_page embedded in pg,
 * pmap_host_page_pa the page's physical address (both hot).
 */
#ifndef PMAP_HOST_INLINE_PHYS_TO_PAGE
struct vm_page *pmap_host_phys_to_page(paddr_t pa);
#endif
#ifndef PMAP_HOST_INLINE_PAGE_MD
struct pmap_page *pmap_host_page_md(struct vm_page *pg);
#endif
#ifndef PMAP_HOST_INLINE_PAGE_PA
paddr_t pmap_host_page_pa(struct vm_page *pg);
#endif

/*
 * Interrupts on this CPU (cli/sti, or the host's spl).  disable returns the
 * previous state; restore puts exactly that state back, so the pair nests.
 * The library holds interrupts off only for a few instructions at a time
 * and while it completes a TLB shootdown (it keeps answering other CPUs'
 * shootdowns meanwhile by polling, not by interrupt): around its per-CPU
 * invalidation state, so that an interrupt handler may call
 * pmap_kenter_pa(), pmap_kremove() and pmap_update(pmap_kernel()), and in
 * pmap_activate(), so that an eviction IPI cannot fall between the CR3
 * load and the record of it.  Both may be called with any lock held.
 * While interrupts are off the library calls only: pmap_host_cpu_id,
 * pmap_host_ncpus, pmap_host_phys_map, pmap_host_phys_to_page,
 * pmap_host_page_md, pmap_host_page_pa, pmap_host_preempt_*,
 * pmap_host_spin_wait, pmap_host_send_shootdown, pmap_host_curlwp,
 * pmap_host_lwp_pmap, pmap_host_panic and the MD instruction hooks.
 */
typedef unsigned long pmap_intr_state_t;
pmap_intr_state_t pmap_host_intr_disable(void);
void pmap_host_intr_restore(pmap_intr_state_t s);

/* ---------------- Tier 1: from pmap_init on ---------------- */

/*
 * Preemption control (already from pmap_cpu_init on).  While disabled, the calling thread stays on this
 * CPU and is not switched out.  Nests.  The library disables preemption
 * around per-CPU state (deferred invalidations, quick mappings) and while
 * it holds a spin lock (hot).
 */
void pmap_host_preempt_disable(void);
void pmap_host_preempt_enable(void);

/*
 * Called in every spin loop (waiting for a lock, for shootdown
 * acknowledgements), sometimes with interrupts off (the library polls its
 * own shootdown inbox around it then).  Must let this CPU take interrupts
 * when they are enabled; may pause or yield; must not sleep.
 */
void pmap_host_spin_wait(void);

/*
 * Send the TLB-shootdown IPI to every CPU in set (never the caller).
 * The receiving CPU's handler calls pmap_tlb_intr().  Called with
 * interrupts off, possibly with pmap and page locks held; must not sleep
 * or take locks the IPI handler could need.  Delivery may be
 * asynchronous; the library waits for the acknowledgements itself, and
 * panics naming the CPUs that never answer (pmap_set_shootdown_timeout).
 */
void pmap_host_send_shootdown(uint64_t cpuset);

/*
 * Sleeping, for sf_buf_alloc() when every temporary mapping is busy.
 * Protocol (no lost wakeups): ticket = prepare(chan); drop the library's
 * lock; sleep(chan, ticket, catch) returns at once if wakeup(chan) was
 * called after prepare.  sleep returns 0 when woken, nonzero (EINTR) if
 * catch is true and a signal arrived.  sleep is called with no spin lock
 * held and preemption enabled; prepare and wakeup may be called with the
 * library's sf_buf spin lock held (so they must not sleep).  wakeup wakes
 * every sleeper on chan, not one.
 */
uint64_t pmap_host_sleep_prepare(const void *chan);
int pmap_host_sleep(const void *chan, uint64_t ticket, bool catch);
void pmap_host_wakeup(const void *chan);

/* The lwp running on this CPU, and the pmap of an lwp's process (for
 * pmap_activate/pmap_deactivate).  Called with preemption disabled. */
struct lwp *pmap_host_curlwp(void);
pmap_t pmap_host_lwp_pmap(struct lwp *l);

#endif /* PMAP_HOST_H */
