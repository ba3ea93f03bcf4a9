// SPDX-License-Identifier: BSD-2-Clause
/*
 * pmap_config.h - compile-time options of libpmap, with their defaults.
 *
 * Every option can be overridden with -D on the command line (or in a
 * header the host includes first).  Bad combinations fail here, at compile
 * time, not at run time.
 */
#ifndef PMAP_CONFIG_H
#define PMAP_CONFIG_H

/* Most CPUs the library will ever see (cpu ids are 0 .. PMAP_MAXCPUS-1). */
#ifndef PMAP_MAXCPUS
#define PMAP_MAXCPUS 64
#endif

/*
 * Deferred invalidation: each CPU queues up to this many addresses between
 * pmap_update() calls; one more and the queue collapses into a full flush
 * of the affected address spaces.  32 INVLPGs cost about as much as
 * refilling a TLB after a full flush on current x86 parts.
 */
#ifndef PMAP_TLB_MAXVA
#define PMAP_TLB_MAXVA 32
#endif

/*
 * A CPU waiting for other CPUs to acknowledge a TLB shootdown gives up
 * after this many calls of pmap_host_spin_wait() and panics, naming the
 * CPUs that never answered (interrupts off for good on them, or an IPI the
 * host does not deliver).  Generous: seconds on real hardware.  Changed at
 * run time with pmap_set_shootdown_timeout().
 */
#ifndef PMAP_SHOOTDOWN_SPINS
#define PMAP_SHOOTDOWN_SPINS (1ULL << 28)
#endif

/* Number of temporary sf_buf mappings in mapped (no-direct-map) mode. */
#ifndef PMAP_SFBUF_COUNT
#define PMAP_SFBUF_COUNT 64
#endif

/* Pages in the pmap_kenter_temporary() window (crash dumps). */
#ifndef PMAP_KTEMP_PAGES
#define PMAP_KTEMP_PAGES 16
#endif

/*
 * Expensive self-checks: after every pmap_enter, pmap_remove,
 * pmap_protect and pmap_unwire of a user pmap the whole pmap is checked
 * (pmap_check_pmap: pv entries against PTEs, resident and wired counts,
 * page-table-page counts), and after every page-side operation the page
 * (pmap_check_page).  Off by default; `make check` runs suites with it on.
 * The walkers themselves are always built.
 */
#ifndef PMAP_DIAGNOSTIC
#define PMAP_DIAGNOSTIC 0
#endif

/* Physical memory segments pmap_bootstrap() accepts. */
#ifndef PMAP_MAXSEGS
#define PMAP_MAXSEGS 16
#endif

/* Kernel image ranges pmap_bootstrap() maps. */
#ifndef PMAP_MAXKRANGES
#define PMAP_MAXKRANGES 16
#endif

#if PMAP_MAXCPUS < 1 || PMAP_MAXCPUS > 64
#error "PMAP_MAXCPUS must be 1..64 (CPU sets are one 64-bit word)"
#endif
#if PMAP_TLB_MAXVA < 1 || PMAP_TLB_MAXVA > 512
#error "PMAP_TLB_MAXVA must be 1..512"
#endif
#if PMAP_SFBUF_COUNT < 1
#error "PMAP_SFBUF_COUNT must be at least 1"
#endif
#if PMAP_KTEMP_PAGES < 1
#error "PMAP_KTEMP_PAGES must be at least 1"
#endif

#endif /* PMAP_CONFIG_H */
