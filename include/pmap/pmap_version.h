// SPDX-License-Identifier: BSD-2-Clause
/*
 * pmap_version.h - which libpmap this is (included by <pmap/pmap.h>).
 *
 * MAJOR.MINOR.PATCH.  What the number promises:
 *
 *  - Stable: the pmap(9) API of <pmap/pmap.h> - every function and type
 *    of NetBSD's pmap(9), FreeBSD's pmap_quick_enter_page(9) and sf_buf(9),
 *    pmap_kenter_temporary, pmap_qenter/pmap_qremove, the bootstrap calls
 *    (pmap_bootstrap, pmap_cpu_init, pmap_init, struct pmap_bootinfo) and
 *    pmap_tlb_intr - and the hook headers a kernel implements
 *    (<pmap/pmap_host.h> and the machine's <pmap/<arch>_host.h>): names,
 *    signatures, and the contracts their comments and the manual state.
 *    A PATCH release changes none of them.  A MINOR release may add to
 *    them; from 1.0 on only a MAJOR release removes or changes anything,
 *    before 1.0 a MINOR release may, and NEWS says what and why.
 *  - Not stable: the binary interface (the library is a static archive:
 *    rebuild it with the headers you include), the size and members of
 *    the library's structures (a kernel embeds a zeroed struct pmap_page
 *    and never looks inside), the defaults of <pmap/pmap_config.h>, the
 *    testing and debugging aids (counters, limits, consistency walkers,
 *    pmap_mapping_info, pmap_dump), the interface between pmap/ and arch/
 *    (pmap_md_*), the simulated machine, the portable test API and the
 *    build's targets.
 *
 * 0.9.0 is the first numbered version: the API is complete and tested on
 * two machines, but no kernel has adopted it yet; 1.0.0 follows the first
 * adoption.  NEWS lists what each version changed.
 */
#ifndef PMAP_PMAP_VERSION_H
#define PMAP_PMAP_VERSION_H

#define PMAP_VERSION_MAJOR 0
#define PMAP_VERSION_MINOR 9
#define PMAP_VERSION_PATCH 0

/* One number for #if: 0.9.0 is 900, 1.2.3 is 10203. */
#define PMAP_VERSION_NUMBER \
	(PMAP_VERSION_MAJOR * 10000 + PMAP_VERSION_MINOR * 100 + PMAP_VERSION_PATCH)

/* "0.9.0": a string literal made from the three numbers above. */
#define PMAP_VERSION_STR_(x) #x
#define PMAP_VERSION_XSTR_(x) PMAP_VERSION_STR_(x)
#define PMAP_VERSION_STRING \
	PMAP_VERSION_XSTR_(PMAP_VERSION_MAJOR) "." \
	PMAP_VERSION_XSTR_(PMAP_VERSION_MINOR) "." \
	PMAP_VERSION_XSTR_(PMAP_VERSION_PATCH)

#endif /* !PMAP_PMAP_VERSION_H */
