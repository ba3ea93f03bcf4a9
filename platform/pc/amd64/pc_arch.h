// SPDX-License-Identifier: BSD-2-Clause
/*
 * pc_arch.h - what the amd64 kernel's services look like where the two
 * machines differ: the trap frame, the jmp_buf, the width of a page-table
 * entry, and the direct map.  Included by pc.h; code shared by both arches
 * uses only the PC_TF_* accessors, never the register names.
 */
#ifndef PC_ARCH_H
#define PC_ARCH_H

#include <stdint.h>

#define PC_ARCH_NAME    "amd64"
#define PC_KERNEL_FILE  "build/pc/kernel.elf"

/* Trap frame as pushed by the entry stubs (lowest address first). */
struct pc_trapframe {
	uint64_t tf_r15, tf_r14, tf_r13, tf_r12, tf_r11, tf_r10, tf_r9, tf_r8;
	uint64_t tf_rbp, tf_rdi, tf_rsi, tf_rdx, tf_rcx, tf_rbx, tf_rax;
	uint64_t tf_vector;
	uint64_t tf_err;        /* error code, 0 if the vector has none */
	uint64_t tf_rip, tf_cs, tf_rflags, tf_rsp, tf_ss;  /* hardware part */
};

/* The frame's registers under arch-neutral names (lvalues). */
#define PC_TF_PC(tf)     ((tf)->tf_rip)
#define PC_TF_FP(tf)     ((tf)->tf_rbp)
#define PC_TF_FLAGS(tf)  ((tf)->tf_rflags)
#define PC_TF_CS(tf)     ((tf)->tf_cs)
#define PC_TF_RET(tf)    ((tf)->tf_rax)
/* The value a probe stub leaves behind (a load's result, the fetch
 * probe's %rdx). */
#define PC_TF_VALUE(tf)  ((tf)->tf_rdx)

/* Callee-saved registers, %rsp, %rip and RFLAGS (so IF and AC come back). */
typedef struct pc_jmp_buf_s {
	uint64_t jb_regs[9];
} pc_jmp_buf[1];

/* A page-table entry of the boot tables (4-level paging). */
typedef uint64_t pc_pte_t;
#define PC_PTE_XD       0x8000000000000000ULL   /* execute-disable (NX) */
#define PC_PTE_FRAME    0x000ffffffffff000ULL
/* Walk levels of the boot tables: 4 = PML4E ... 1 = PTE. */
#define PC_PT_LEVELS    4

/* Lowest address a kernel stack frame can be at (backtraces stop below). */
#define PC_KERNEL_VA_MIN PC_DMAP_BASE

/* Direct map: every PA below pc_dmap_end() has VA PC_DMAP_BASE + pa.
 * amd64 only; shared code uses pc_phys_map(). */
static inline void *
pc_phys_to_dmap(uint64_t pa)
{
	return (void *)(uintptr_t)(PC_DMAP_BASE + pa);
}
uint64_t pc_dmap_end(void);

/* The page allocator hands out single frames from the bottom up. */
#define PC_ALLOC_TOP_DOWN 0

/* At most this many bytes through pc_phys_map() at a time (the direct
 * map has no limit). */
#define PC_PHYS_MAP_MAX  (~(size_t)0)

/* RAM at or above this is left alone: the allocator takes all RAM the map reports. */
#define PC_PHYS_LIMIT (~0ULL)

#ifdef PC_INTERNAL_H
/* ---- private to platform/pc ---- */
/* Store %%eax/%%rax (a long) %%ecx/%%rcx times (memset). */
#define PC_REP_STOS_LONG "rep stosq"

struct pc_tss {
	uint32_t tss_reserved0;
	uint64_t tss_rsp[3];
	uint64_t tss_ist[8];            /* [0] is the reserved slot before
					 * IST1, so tss_ist[n] is ISTn */
	uint64_t tss_reserved2;
	uint16_t tss_reserved3;
	uint16_t tss_iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct pc_tss) == 104, "TSS layout");
_Static_assert(sizeof(struct pc_trapframe) == 22 * 8, "trap frame layout");

/* Where the CPU finds the ring-0 stack on a trap from ring 3.  RSP0 is
 * not 8-byte aligned (offset 4); x86 allows the unaligned store. */
#define PC_TSS_SP0_PTR(c) \
	((void *)((char *)&(c)->c_tss + __builtin_offsetof(struct pc_tss, tss_rsp)))
#define PC_TSS_SET_SP0(c, v)  ((c)->c_tss.tss_rsp[0] = (v))

/* EFER bits the APs copy from the boot CPU (long mode, NX). */
#define PC_AP_EFER_BITS (PC_EFER_LME | PC_EFER_NXE)

extern uint64_t pc_boot_pml4[512];
extern uint64_t pc_boot_pdpt_low[512];
#endif /* PC_INTERNAL_H */

#endif /* PC_ARCH_H */
