// SPDX-License-Identifier: BSD-2-Clause
/*
 * sim_pmap.h - the simulated machine as a libpmap host: its struct vm_page
 * and struct lwp, and how to boot the library on it.
 *
 * platform/sim/host.c and host_<arch>.c implement every hook of
 * <pmap/pmap_host.h> and <pmap/<arch>_host.h> on top of sim.h.  It is also the reference example
 * of a host: short, and each hook says how it meets its contract.
 */
#ifndef PMAP_SIM_PMAP_H
#define PMAP_SIM_PMAP_H

#include <pmap/pmap.h>

#include "sim.h"
#include "sim_vm_page.h"

/* The out-of-line direct-map and vm_page hooks, which the library's inline
 * ones (sim_host_inline.h) fall back on. */
void *sim_host_phys_map_call(paddr_t pa);
struct vm_page *sim_host_phys_to_page_call(paddr_t pa);

struct lwp {
	pmap_t l_pmap;
	int l_id;
};

struct sim_pmap_config {
	struct sim_config machine;
	enum pmap_sfbuf_mode sfbuf_mode;
	uint32_t clear_features;	/* <arch>_FEAT_* the simulated CPU lacks */
};

void sim_pmap_config_default(struct sim_pmap_config *c);
/* sim_init, then pmap_bootstrap / pmap_cpu_init on every CPU / pmap_init. */
void sim_pmap_boot(const struct sim_pmap_config *c);
/* Tear the machine down (the library's state is simply dropped). */
void sim_pmap_shutdown(void);

struct vm_page *sim_pa_to_vm_page(paddr_t pa);
/* The simulated CPU: has it execute-disable, a PAT; the feature bits an
 * old CPU lacks (--old-cpu). */
bool sim_pmap_have_nx(void);
/* Is the kernel image mapped with large pages (i386 with PSE)? */
bool sim_pmap_kimage_large(void);
bool sim_pmap_have_pat(void);
uint32_t sim_pmap_old_cpu_features(void);
/* The feature bit of PCIDs (0 on a machine without them: i386). */
uint32_t sim_pmap_pcid_feature(void);

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

/*
 * Interrupt points.  Every host hook the library calls - but the pure
 * lookups (CPU id and count, vm_page fields, CPU features), which are too
 * hot and change nothing; phys_map and phys_to_page, which sit between
 * page-table reads, are points while the machine explores (sim_points_all)
 * - is an interrupt point at its entry and at its exit: pending interrupts
 * are taken there
 * (when this CPU allows them), as a real CPU could take them between any
 * two instructions.  A test can also make something happen at one chosen
 * point: the nth time (1 = the next) CPU cpu passes (hook, when), fn(arg)
 * runs there, on that CPU, once:
 *   SIM_HOOK_PAUSE      at once, whatever the interrupt state - the CPU is
 *                       merely slow at that point (fn typically makes other
 *                       CPUs act and waits for them);
 *   SIM_HOOK_INTERRUPT  as an interrupt: it becomes pending there and runs
 *                       at the first interrupt point (that one included)
 *                       where the CPU takes interrupts, with interrupts
 *                       held back while it runs, like a handler.
 * Arm a CPU before it reaches the point (from itself, or while it is not
 * running library code).
 */
enum sim_hook {
	SIM_HK_ANY = 0,
	SIM_HK_PAGE_ALLOC, SIM_HK_PAGE_FREE, SIM_HK_PHYS_MAP, SIM_HK_PHYS_TO_PAGE,
	SIM_HK_INTR_DISABLE, SIM_HK_INTR_RESTORE, SIM_HK_PREEMPT_DISABLE,
	SIM_HK_PREEMPT_ENABLE, SIM_HK_SPIN_WAIT, SIM_HK_SEND_SHOOTDOWN,
	SIM_HK_SLEEP_PREPARE, SIM_HK_SLEEP, SIM_HK_WAKEUP, SIM_HK_CURLWP,
	SIM_HK_LWP_PMAP, SIM_HK_INVLPG, SIM_HK_INVPCID,
	SIM_HK_READ_CR, SIM_HK_LCR0, SIM_HK_LCR3, SIM_HK_LCR4, SIM_HK_MSR,
	SIM_HK_PCID_DEAD,
	SIM_HK_COUNT
};
#define SIM_HK_ENTRY	0x1
#define SIM_HK_EXIT	0x2
enum sim_hook_kind { SIM_HOOK_PAUSE, SIM_HOOK_INTERRUPT };
void sim_hook_arm(int cpu, enum sim_hook hk, unsigned when, unsigned nth,
    enum sim_hook_kind kind, void (*fn)(void *), void *arg);
void sim_hook_disarm(int cpu);
/* Has the armed point of cpu been reached (and, for an interrupt, run)? */
bool sim_hook_fired(int cpu);
/* Random interrupts: at every interrupt point where a CPU takes
 * interrupts, with probability ppm / 1e6 (seeded per CPU), fn(arg) runs
 * there as an interrupt handler.  ppm 0 stops them. */
void sim_hook_random_interrupts(void (*fn)(void *), void *arg, uint32_t ppm);

/* Hook calls this CPU has made (each is two interrupt points). */
uint64_t sim_hook_calls(int cpu);

/* Preemption depth on this CPU (tests check it is balanced). */
int sim_preempt_depth(void);
void sim_preempt_reset(int depth);

#endif
