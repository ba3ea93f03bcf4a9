// SPDX-License-Identifier: BSD-2-Clause
/*
 * pc_internal.h - private interfaces between the files of platform/pc.
 *
 * struct pc_cpu is the whole per-CPU record; its first member is the public
 * struct pc_percpu, so the GS base points at both.  Fields are annotated
 * with who may touch them:
 *   (c)  only the owning CPU, with interrupts disabled where it matters
 *   (b)  written by the boot CPU before the owner starts, read-only after
 *   (a)  shared, accessed with the atomic builtins named in the comment
 */
#ifndef PC_INTERNAL_H
#define PC_INTERNAL_H

#include "pc.h"

#define PC_ARRAY_SIZE(a)    (sizeof(a) / sizeof((a)[0]))
#define PC_ROUNDUP(x, a)    (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define PC_ROUNDDOWN(x, a)  ((x) & ~((uint64_t)(a) - 1))
#define PC_MIN(a, b)        ((a) < (b) ? (a) : (b))
#define PC_MAX(a, b)        ((a) > (b) ? (a) : (b))
#define PC_UNUSED           __attribute__((unused))
#define PC_PACKED           __attribute__((packed))
#define PC_ALIGNED(n)       __attribute__((aligned(n)))

/* Assertion for platform code; always on (the kernel is small). */
#define PC_ASSERT(e) do {						\
	if (!(e))							\
		pc_panic("assertion \"%s\" failed: %s:%d (%s)",		\
		    #e, __FILE__, __LINE__, __func__);			\
} while (0)

/* ---------------------------------------------------------------------
 * Architectural constants (names follow the SDM).
 * --------------------------------------------------------------------- */
#define PC_CR0_PE       (1ULL << 0)
#define PC_CR0_WP       (1ULL << 16)
#define PC_CR0_PG       (1ULL << 31)
#define PC_CR4_PSE      (1ULL << 4)
#define PC_CR4_PAE      (1ULL << 5)
#define PC_CR4_PGE      (1ULL << 7)
#define PC_CR4_UMIP     (1ULL << 11)
#define PC_CR4_PCIDE    (1ULL << 17)
#define PC_CR4_SMEP     (1ULL << 20)
#define PC_CR4_SMAP     (1ULL << 21)
#define PC_RFLAGS_TF    (1ULL << 8)
#define PC_RFLAGS_IF    (1ULL << 9)
#define PC_RFLAGS_AC    (1ULL << 18)

#define PC_MSR_APIC_BASE        0x0000001b
#define PC_MSR_APIC_BASE_BSP    (1ULL << 8)
#define PC_MSR_APIC_BASE_EXTD   (1ULL << 10)   /* x2APIC mode */
#define PC_MSR_APIC_BASE_EN     (1ULL << 11)
#define PC_MSR_EFER             0xc0000080
#define PC_EFER_LME             (1ULL << 8)
#define PC_EFER_NXE             (1ULL << 11)
#define PC_MSR_GS_BASE          0xc0000101
#define PC_MSR_KERNEL_GS_BASE   0xc0000102

/* ---------------------------------------------------------------------
 * Instruction wrappers.
 * --------------------------------------------------------------------- */
static inline void
pc_outb(uint16_t port, uint8_t v)
{
	__asm__ __volatile__("outb %0, %1" :: "a"(v), "Nd"(port));
}

static inline void
pc_outl(uint16_t port, uint32_t v)
{
	__asm__ __volatile__("outl %0, %1" :: "a"(v), "Nd"(port));
}

static inline uint8_t
pc_inb(uint16_t port)
{
	uint8_t v;

	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void
pc_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ __volatile__("cpuid"
	    : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
	    : "a"(leaf), "c"(sub));
}

static inline uint64_t
pc_read_rflags(void)
{
	unsigned long f;

	__asm__ __volatile__("pushf; pop %0" : "=r"(f) :: "memory");
	return f;
}

static inline void
pc_halt_forever(void)
{
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

#define pc_compiler_barrier() __asm__ __volatile__("" ::: "memory")

/* ---------------------------------------------------------------------
 * Descriptor tables.
 * --------------------------------------------------------------------- */
/* struct pc_tss, PC_TSS_SP0_PTR() and the boot page tables: pc_arch.h. */

/* ---------------------------------------------------------------------
 * Per-CPU record.
 * --------------------------------------------------------------------- */
enum pc_mailbox_state {
	PC_MB_FREE = 0,     /* nobody owns the mailbox */
	PC_MB_CLAIMED,      /* a poster is filling in fn/arg */
	PC_MB_POSTED,       /* fn/arg valid, target has not started */
	PC_MB_RUNNING,      /* target is running fn */
	PC_MB_DONE,         /* fn returned; poster must collect it */
};

#define PC_CONS_LINE    256
#define PC_PANIC_MSG    256

struct pc_cpu {
	struct pc_percpu c_pub;                 /* must be first (GS base) */

	/* Descriptor tables (b): per CPU because each CPU needs its own TSS
	 * descriptor (the busy bit) and IST stacks. */
	uint64_t c_gdt[PC_GDT_ENTRIES] PC_ALIGNED(16);
	struct pc_tss c_tss PC_ALIGNED(16);
	uint64_t c_kstack_top;                  /* (b) */

	/* Online handshake (a: __atomic acquire/release). */
	uint32_t c_online;

	/* Console line buffer (c, interrupts disabled). */
	char c_line[PC_CONS_LINE];
	uint32_t c_line_len;

	/* Kernel-mode probe (c): armed while a probe stub runs. */
	uint32_t c_probe_armed;
	bool c_probe_exec;                      /* exec probe: target valid */
	bool c_probe_fetch;                     /* single-step fetch probe */
	bool c_probe_stepped;                   /* fetch: jumped to target */
	uint64_t c_probe_exec_target;
	uint64_t c_probe_value;                 /* fetch: %rdx afterwards */
	struct pc_fault c_fault;                /* last fault caught */

	/* User-mode probe (c). */
	uint32_t c_user_active;
	pc_jmp_buf c_user_jb;                   /* back to pc_user_call */
	int c_user_result;
	uint64_t c_user_value;
	bool c_user_fetch;                      /* single-step fetch probe */
	bool c_user_stepped;
	uint64_t c_user_target;

	/* Panic catcher (c). */
	struct pc_jmp_buf_s *c_panic_jb;
	char c_panic_msg[PC_PANIC_MSG];
	uint32_t c_in_panic;

	/* Cross-call mailbox: state (a: __atomic), fn/arg written by the
	 * poster between CLAIMED and POSTED. */
	uint32_t c_mb_state;
	void (*c_mb_fn)(void *);
	void *c_mb_arg;
} PC_ALIGNED(64);

_Static_assert(__builtin_offsetof(struct pc_percpu, pcpu_self) == PC_PCPU_SELF,
    "gs:0");
_Static_assert(__builtin_offsetof(struct pc_percpu, pcpu_id) == PC_PCPU_ID,
    "gs:8");
_Static_assert(__builtin_offsetof(struct pc_percpu, pcpu_apic_id) ==
    PC_PCPU_APIC_ID, "gs:12");
_Static_assert(__builtin_offsetof(struct pc_percpu, pcpu_md_private) ==
    PC_PCPU_PROBE_RSP, "gs:16");
_Static_assert(__builtin_offsetof(struct pc_percpu, pcpu_scratch) ==
    PC_PCPU_SCRATCH, "gs:64");
_Static_assert(sizeof(((struct pc_percpu *)0)->pcpu_scratch) >= 256,
    "scratch area");

extern struct pc_cpu pc_cpus[PC_MAX_CPUS];
extern int pc_ncpus_online;

static inline struct pc_cpu *
pc_cpu_self(void)
{
	return (struct pc_cpu *)pc_percpu();
}

/* ---------------------------------------------------------------------
 * Cross-file interfaces, in boot order.
 * --------------------------------------------------------------------- */

/* main.c */
extern uint64_t pc_boot_tsc;

/* cons.c */
void pc_cons_init(void);
void pc_cons_puts_raw(const char *s);   /* unbuffered, no lock: last resort */
void pc_cons_break_lock(void);          /* panic path: stop honouring lock */

/* printf.c */
typedef void (*pc_putc_fn)(int c, void *arg);
int pc_vformat(pc_putc_fn out, void *arg, const char *fmt, va_list ap);

/* cpu.c (shared) and <arch>/cpu_md.c */
void pc_cpu_detect_features(void);
void pc_cpu_early_init(struct pc_cpu *c, uint32_t id);      /* md */
void pc_cpu_load_tables(struct pc_cpu *c);  /* md: GDT, TSS, IDT, GS */
/* Set or clear a CR4 bit the CPU has (have): the old setting, or -1. */
int pc_cpu_set_cr4_bit(bool have, uint64_t bit, bool on);
extern uint8_t pc_kstacks[PC_MAX_CPUS][PC_KSTACK_SIZE];

/* trap.c (shared) and <arch>/trap_md.c */
void pc_idt_init(void);                                     /* md */
void pc_idt_load(void);                                     /* md */
void pc_trap(struct pc_trapframe *tf);
void pc_trap_dump(const struct pc_trapframe *tf);           /* md */
const char *pc_trap_name(uint64_t vector);

/* mem.c (shared: multiboot, allocator) and <arch>/mem_md.c */
struct pc_multiboot_info;
void pc_mem_init(uint32_t mbi_pa);          /* map, allocator, md part */
void pc_md_mem_init(void);                  /* md: after the allocator */
void pc_md_mem_summary(void);               /* md: a "# pc:" line */
void pc_mem_drop_identity(void);            /* md: after SMP bring-up */
void pc_mem_setup_user_region(void);
uint64_t pc_mem_highest_ram(void);
/* Does [start, end) hold memory with RAM-like contents (map types 1, 3
 * and 4)?  Everything else below 4 GiB is mapped uncached. */
bool pc_mem_has_ram(uint64_t start, uint64_t end);
/* md: the boot-table entry for va (level 1), creating the tables above it
 * if create is set (see pc_bootpt_enter for U/S); NULL for a va the boot
 * tables cannot map, a large page in the way, or no frame left. */
pc_pte_t *pc_md_bootpt_walk(uint64_t va, bool create, uint64_t leaf_bits);
/* A zeroed frame for a page table, or 0. */
uint64_t pc_mem_alloc_table(void);

/* lapic.c */
extern bool pc_lapic_x2apic;
void pc_pic_disable(void);
void pc_tsc_calibrate(void);
void pc_lapic_init(void);                   /* on each CPU */
uint32_t pc_lapic_id(void);
void pc_lapic_eoi(void);
void pc_lapic_send(uint32_t apic_id, uint32_t icr_low);
void pc_lapic_set_base(uint64_t pa);
#define PC_ICR_FIXED        0x00000000
#define PC_ICR_NMI          0x00000400
#define PC_ICR_INIT         0x00000500
#define PC_ICR_STARTUP      0x00000600
#define PC_ICR_ASSERT       0x00004000
#define PC_ICR_LEVEL        0x00008000

/* acpi.c */
struct pc_acpi_cpu {
	uint32_t ac_apic_id;
	uint32_t ac_uid;
};
int pc_acpi_find_cpus(struct pc_acpi_cpu *out, int max, uint64_t *lapic_pa);

/* smp.c */
extern int pc_madt_ncpus;
void pc_smp_start_aps(void);
void pc_ap_main(struct pc_cpu *c);
void pc_mailbox_poll(void);
void pc_idle_loop(void) PC_NORETURN;

/* probe.c */
bool pc_probe_trap(struct pc_trapframe *tf);     /* kernel-mode fixup */
/* md: make tf resume at pc_probe_recover, on the stack the probe stub
 * saved in %gs:PC_PCPU_PROBE_RSP, returning result. */
void pc_md_probe_resume(struct pc_trapframe *tf, int result);
/* md: does a #PF on an instruction fetch set the I/D bit right now? */
bool pc_md_fetch_reports_id(void);
/* Ring-3 exception: longjmps back into the probe, or returns true to
 * resume ring 3 (fetch probe stepping), false if no probe is active. */
bool pc_user_trap(struct pc_trapframe *tf);
void pc_probe_user_init(const struct pc_user_region *ur);

/* panic.c */
bool pc_panicking_p(void);
void pc_backtrace(uint64_t fp, uint64_t pc);
void pc_stop_other_cpus(void);
PC_NORETURN void pc_panic_from_trap(struct pc_trapframe *tf);

/* assembly */
extern char pc_ap_tramp_start[], pc_ap_tramp_end[];
extern char pc_ap_tramp_cr3[], pc_ap_tramp_stack[], pc_ap_tramp_cpu[];
extern char pc_ap_tramp_entry[], pc_ap_tramp_efer[];
extern char pc_ap_entry[];
extern char pc_ustub_start[], pc_ustub_end[];
extern char pc_ustub_read1[], pc_ustub_read2[], pc_ustub_read4[];
extern char pc_ustub_read8[];
extern char pc_ustub_write1[], pc_ustub_write2[], pc_ustub_write4[];
extern char pc_ustub_write8[], pc_ustub_exec[], pc_ustub_return[];
extern char pc_probe_stubs_start[], pc_probe_stubs_end[];
extern char pc_probe_recover[];
extern char pc_trap_stubs[];            /* 256 stubs, 16 bytes apart */
extern char pc_boot_stack_top[];
int pc_probe_read_asm(uintptr_t va, int size, uint64_t *out);
int pc_probe_write_asm(uintptr_t va, int size, uint64_t val);
int pc_probe_exec_asm(uintptr_t va);
int pc_probe_fetch_asm(uintptr_t va);
/* Enter ring 3 at pc with the stub's two arguments (a0: the address, a1:
 * the value to store), the given stack and flags; TSS's ring-0 stack
 * pointer (at tss_sp0) is pointed just below this frame. */
PC_NORETURN void pc_user_iret(uintptr_t pc, uintptr_t a0, uint64_t a1,
    uintptr_t usp, void *tss_sp0, uintptr_t flags);

#endif /* PC_INTERNAL_H */
