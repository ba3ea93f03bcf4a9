// SPDX-License-Identifier: BSD-2-Clause
/*
 * pc_arch.h - what the i386 kernel's services look like where the two
 * machines differ (see ../amd64/pc_arch.h for the other one): the trap
 * frame, the jmp_buf, 32-bit page-table entries, and no direct map.
 */
#ifndef PC_ARCH_H
#define PC_ARCH_H

#include <stdint.h>

#define PC_ARCH_NAME    "i386"
#define PC_KERNEL_FILE  "build/pc-i386/kernel.elf"

/*
 * Trap frame as the entry stubs leave it (lowest address first): the data
 * segment registers, PUSHA, vector and error code, then what the CPU
 * pushed.  tf_esp and tf_ss exist only for a trap from ring 3 (a trap
 * within ring 0 stays on the same stack and does not push them).
 */
struct pc_trapframe {
	uint32_t tf_gs, tf_fs, tf_es, tf_ds;
	uint32_t tf_edi, tf_esi, tf_ebp, tf_pusha_esp;
	uint32_t tf_ebx, tf_edx, tf_ecx, tf_eax;
	uint32_t tf_vector;
	uint32_t tf_err;        /* error code, 0 if the vector has none */
	uint32_t tf_eip, tf_cs, tf_eflags;      /* hardware part */
	uint32_t tf_esp, tf_ss;                 /* ... from ring 3 only */
};

#define PC_TF_PC(tf)     ((tf)->tf_eip)
#define PC_TF_FP(tf)     ((tf)->tf_ebp)
#define PC_TF_FLAGS(tf)  ((tf)->tf_eflags)
#define PC_TF_CS(tf)     ((tf)->tf_cs)
#define PC_TF_RET(tf)    ((tf)->tf_eax)
/* What a probe stub leaves behind: a load's result in %ecx:%edx (the
 * stubs clear %ecx for loads narrower than 8 bytes), the fetch probe's
 * %edx (and %ecx, zero). */
#define PC_TF_VALUE(tf)  (((uint64_t)(tf)->tf_ecx << 32) | (tf)->tf_edx)

/* %ebx, %esi, %edi, %ebp, %esp, %eip, EFLAGS. */
typedef struct pc_jmp_buf_s {
	uint32_t jb_regs[8];
} pc_jmp_buf[1];

/* A page-table entry of the boot tables (32-bit paging). */
typedef uint32_t pc_pte_t;
#define PC_PTE_XD       0ULL            /* no NX without PAE */
#define PC_PTE_FRAME    0xfffff000ULL
#define PC_PT_LEVELS    2

#define PC_KERNEL_VA_MIN PC_KERNEL_VMA

/* Single frames come from the top of RAM down, so what the library
 * allocates lies beyond the kernel's 1 GiB of address space. */
#define PC_ALLOC_TOP_DOWN 1

/* pc_phys_map: PC_PHYSWIN_PER_CPU pages at a time per CPU. */
#define PC_PHYS_MAP_MAX  ((PC_PHYSWIN_PER_CPU - 1) * PC_PAGE_SIZE)

/* RAM at or above this is left alone: 32-bit paging without PAE reaches 4 GiB. */
#define PC_PHYS_LIMIT 0x100000000ULL

#ifdef PC_INTERNAL_H
/* ---- private to platform/pc ---- */
/* Store %%eax/%%rax (a long) %%ecx/%%rcx times (memset). */
#define PC_REP_STOS_LONG "rep stosl"

struct pc_tss {
	uint32_t tss_link;
	uint32_t tss_esp0, tss_ss0;
	uint32_t tss_other[22];         /* esp1 ... ldt: unused */
	uint16_t tss_trap;
	uint16_t tss_iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct pc_tss) == 104, "TSS layout");
_Static_assert(sizeof(struct pc_trapframe) == 19 * 4, "trap frame layout");

#define PC_TSS_SP0_PTR(c)     ((void *)&(c)->c_tss.tss_esp0)
#define PC_TSS_SET_SP0(c, v)  ((c)->c_tss.tss_esp0 = (uint32_t)(v))

/* No EFER bits for the APs: legacy paging. */
#define PC_AP_EFER_BITS 0

extern uint32_t pc_boot_pd[1024];
#endif /* PC_INTERNAL_H */

#endif /* PC_ARCH_H */
