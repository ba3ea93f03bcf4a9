/*
 * sim_pmap.h - the simulated machine as a libpmap host: its struct vm_page
 * and struct lwp, and how to boot the library on it.
 *
 * platform/sim/host.c implements every hook of <pmap/pmap_host.h> and
 * <pmap/amd64_host.h> on top of sim.h.  It is also the reference example
 * of a host: short, and each hook says how it meets its contract.
 */
#ifndef PMAP_SIM_PMAP_H
#define PMAP_SIM_PMAP_H

#include <pmap/pmap.h>

#include "sim.h"

struct vm_page {
	struct pmap_page mdpage;	/* the library's per-page data */
	paddr_t phys_addr;
};

struct lwp {
	pmap_t l_pmap;
	int l_id;
};

struct sim_pmap_config {
	struct sim_config machine;
	enum pmap_sfbuf_mode sfbuf_mode;
	uint32_t clear_features;	/* AMD64_FEAT_* the simulated CPU lacks */
};

void sim_pmap_config_default(struct sim_pmap_config *c);
/* sim_init, then pmap_bootstrap / pmap_cpu_init on every CPU / pmap_init. */
void sim_pmap_boot(const struct sim_pmap_config *c);
/* Tear the machine down (the library's state is simply dropped). */
void sim_pmap_shutdown(void);

struct vm_page *sim_pa_to_vm_page(paddr_t pa);
/* The AMD64_FEAT_* bits the simulated CPU reports. */
uint32_t sim_pmap_features(void);

/* The lwp running on this CPU (NULL: a kernel thread, kernel pmap). */
void sim_set_curlwp(struct lwp *l);

/* Panic catching: while armed on this CPU, pmap_host_panic longjmps to
 * the catcher with the message instead of aborting. */
#include <setjmp.h>
void sim_panic_arm(jmp_buf *jb, char *msg, size_t len);
void sim_panic_disarm(void);

/* Where pmap_host_printf goes: NULL = stdout as is; otherwise each line
 * is prefixed (tests use "# " to keep TAP clean). */
void sim_host_printf_prefix(const char *prefix);

/* Preemption depth on this CPU (tests check it is balanced). */
int sim_preempt_depth(void);
void sim_preempt_reset(int depth);

#endif
