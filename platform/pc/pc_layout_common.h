// SPDX-License-Identifier: BSD-2-Clause
/*
 * pc_layout_common.h - the ABI constants both pc kernels share, for C and
 * assembly; each arch's pc_layout.h includes it after its own layout.
 */
#ifndef PC_LAYOUT_COMMON_H
#define PC_LAYOUT_COMMON_H

/* --- interrupt vectors owned by the platform ---------------------------- */
#define PC_VEC_FIRST_FREE   0x30    /* pc_intr_register() range ... */
#define PC_VEC_LAST_FREE    0xef    /* ... inclusive */
#define PC_VEC_WAKE         0xf0    /* wakes an idle CPU (pc_run_*) */
#define PC_VEC_SPURIOUS     0xff    /* LAPIC spurious vector */

/* CPU exceptions that push an error code: #DF #TS #NP #SS #GP #PF #AC #CP
 * #VC #SX (the entry stubs push a zero for every other vector). */
#define PC_VEC_HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || \
	(v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

/* --- per-CPU area offsets reached through %gs --------------------------- */
#define PC_PCPU_SELF        0       /* struct pc_percpu *   */
#define PC_PCPU_ID          8       /* uint32_t logical id  */
#define PC_PCPU_APIC_ID     12      /* uint32_t APIC id     */
#define PC_PCPU_PROBE_RSP   16      /* probe recovery stack pointer */
#define PC_PCPU_SCRATCH     64      /* start of the scratch area */
#define PC_PCPU_SCRATCH_SIZE 512

/* --- isa-debug-exit ----------------------------------------------------- */
#define PC_DEBUG_EXIT_PORT  0xf4

#endif /* PC_LAYOUT_COMMON_H */
