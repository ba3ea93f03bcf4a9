// SPDX-License-Identifier: BSD-2-Clause
/*
 * sim_vm_page.h - the simulated machine's struct vm_page: what the VM of
 * this host keeps per physical page, with the library's struct pmap_page
 * inside.  Apart from sim_pmap.h because the library's inline hooks
 * (sim_host_inline.h) need it and nothing else of the host.  Include
 * <pmap/pmap.h> first.
 */
#ifndef PMAP_SIM_VM_PAGE_H
#define PMAP_SIM_VM_PAGE_H

struct vm_page {
	struct pmap_page mdpage;	/* the library's per-page data */
	paddr_t phys_addr;
};

#endif
