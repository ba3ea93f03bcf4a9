// SPDX-License-Identifier: BSD-2-Clause
/*
 * pc.h - services of the bare-metal kernel (platform/pc), on amd64 and i386.
 *
 * What differs between the two machines (trap frame, jmp_buf, page-table
 * entry width, the direct map) is in the arch's pc_arch.h, included here.
 *
 * This is everything code linked into the kernel (the pmap library's
 * pmap_host.h glue, the portable tests, the self-test) may use.  The kernel
 * boots, brings up every CPU, and then calls pc_main() on CPU 0; the return
 * value of pc_main() becomes the QEMU exit status (see pc_exit_status()).
 *
 * Execution model.  There are no threads and no scheduler: CPU 0 runs
 * pc_main(); every other CPU sits in an idle loop (interrupts enabled,
 * `sti; hlt`) and runs functions handed to it with pc_run_on()/pc_run_start().
 * Nothing is preemptible, so a "critical section" is simply a region with
 * interrupts disabled.  Interrupt handlers run with interrupts disabled.
 *
 * Everything here is initialised before pc_main() is called, on every CPU.
 * Functions marked [early] also work in the boot path itself (main.c), as
 * soon as the CPU's descriptor tables and GS base are loaded.
 *
 * Addresses: "va" is a virtual address as an integer, "pa" a physical one.
 * Sizes of probes are 1, 2, 4 or 8 bytes.
 */
#ifndef PC_H
#define PC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pc_layout.h"
#include "pc_arch.h"

#define PC_NORETURN     __attribute__((noreturn))
#define PC_PRINTFLIKE(f, a) __attribute__((format(printf, f, a)))

/* ======================================================================
 * Entry point supplied by the program linked into the kernel.
 * ====================================================================== */

/*
 * Called once on CPU 0 with interrupts enabled, after every service below is
 * up.  Return 0 if everything passed, non-zero if some test failed (the
 * kernel then exits with PC_EXIT_TESTS_FAILED).  To report a catastrophic
 * failure, call pc_panic() instead.
 */
int pc_main(void);

/* ======================================================================
 * Console (COM1, 115200 8N1, polled).
 *
 * Output is buffered per CPU and written a whole line at a time under a
 * console lock, so lines printed by different CPUs never interleave.  A
 * line is flushed at '\n' or when 255 characters are pending.  Safe from
 * interrupt handlers and exception handlers [early].
 * ====================================================================== */
int pc_printf(const char *fmt, ...) PC_PRINTFLIKE(1, 2);
int pc_vprintf(const char *fmt, va_list ap);
/* C99 semantics: writes at most n-1 chars + NUL, returns the full length. */
int pc_snprintf(char *buf, size_t n, const char *fmt, ...) PC_PRINTFLIKE(3, 4);
int pc_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
/* Write the calling CPU's partial line, if any, now. */
void pc_cons_flush(void);
/*
 * Supported conversions: %d %i %u %x %X %o %c %s %p %%, length modifiers
 * hh h l ll z j t, flags - 0 + space #, field width and precision (digits
 * or *).  %p prints 0x followed by 16 hex digits.
 */

/* Multiboot command line given with -append (without the kernel name). */
const char *pc_cmdline(void);

/* ======================================================================
 * Exit, panic, setjmp/longjmp.
 * ====================================================================== */

enum pc_exit_status {
	PC_EXIT_PASS = 0,          /* QEMU exit status 33 */
	PC_EXIT_TESTS_FAILED = 1,  /* QEMU exit status 35: ran to the end */
	PC_EXIT_PANIC = 2,         /* QEMU exit status 37: abnormal stop */
};
/* Flush the console and leave QEMU through isa-debug-exit.  Without the
 * device (a hand-made QEMU command line) the CPU halts instead.  [early] */
PC_NORETURN void pc_exit_status(enum pc_exit_status st);
/* pc_exit(1) == PC_EXIT_PASS, pc_exit(0) == PC_EXIT_PANIC. */
PC_NORETURN void pc_exit(int ok);

/*
 * pc_panic: report a fatal error.  If the calling CPU has armed a panic
 * catcher (pc_panic_catch), the message is saved (pc_panic_message) and
 * control returns to the catcher's pc_setjmp with value 1; the catcher is
 * disarmed first.  Otherwise the message and a backtrace are printed as
 * TAP comments ("# panic: ..."), the other CPUs are stopped, and QEMU exits
 * with PC_EXIT_PANIC.  An unexpected CPU exception behaves like a panic
 * whose message begins "exception".
 */
PC_NORETURN void pc_panic(const char *fmt, ...) PC_PRINTFLIKE(1, 2);
PC_NORETURN void pc_vpanic(const char *fmt, va_list ap);

__attribute__((returns_twice)) int pc_setjmp(pc_jmp_buf env);
/* Returns to env's pc_setjmp with val (1 if val is 0).  The frame that
 * called pc_setjmp must still be live. */
PC_NORETURN void pc_longjmp(pc_jmp_buf env, int val);

/*
 * Panic catching, per CPU, does not nest: pc_panic_catch(env) arms, the next
 * panic on this CPU longjmps to env with 1.  Disarm with pc_panic_uncatch()
 * when the guarded code returns normally.  The message of the last caught
 * panic on this CPU is returned by pc_panic_message().
 *
 *	pc_jmp_buf jb;
 *	if (pc_setjmp(jb) == 0) {
 *		pc_panic_catch(jb);
 *		code_that_may_panic();
 *		pc_panic_uncatch();
 *	} else {
 *		... pc_panic_message() ...
 *	}
 */
void pc_panic_catch(pc_jmp_buf env);
void pc_panic_uncatch(void);
const char *pc_panic_message(void);

/* ======================================================================
 * CPUs, interrupts, IPIs, cross-calls.
 * ====================================================================== */

/*
 * The per-CPU area, reached through the GS base on every CPU.  The first
 * 64 bytes are the platform's; pcpu_scratch belongs to the code linked into
 * the kernel (the pmap glue), zero at boot.  %gs:PC_PCPU_SCRATCH addresses
 * it from assembly.
 */
struct pc_percpu {
	struct pc_percpu *pcpu_self;    /* %gs:0, this structure */
#if UINTPTR_MAX == 0xffffffffu
	uint32_t pcpu_self_pad;         /* keep the offsets of both arches */
#endif
	uint32_t pcpu_id;               /* %gs:8, logical CPU id 0..n-1 */
	uint32_t pcpu_apic_id;          /* %gs:12, local APIC id */
	uint64_t pcpu_md_private[6];    /* platform use only */
	uint8_t pcpu_scratch[PC_PCPU_SCRATCH_SIZE]
	    __attribute__((aligned(64)));
};

static inline struct pc_percpu *
pc_percpu(void)
{
	struct pc_percpu *p;

	__asm__ __volatile__("mov %%gs:0, %0" : "=r"(p));
	return p;
}

/* Logical id of the calling CPU; CPU 0 is the boot CPU.  [early] */
static inline int
pc_cpu_id(void)
{
	uint32_t id;

	__asm__ __volatile__("movl %%gs:8, %0" : "=r"(id));
	return (int)id;
}

int pc_ncpus(void);                         /* CPUs online, >= 1 */
/* CPUs the ACPI MADT lists as enabled (capped at PC_MAX_CPUS); equals
 * pc_ncpus() unless some failed to start. */
int pc_ncpus_found(void);
struct pc_percpu *pc_percpu_of(int cpu);    /* any CPU's area */
uint32_t pc_cpu_apic_id(int cpu);
/* Mask of every online CPU (bit i = CPU i). */
uint32_t pc_cpus_all_mask(void);

/* Interrupt enable state: disable returns the old RFLAGS, restore sets IF
 * back to what it was (and touches no other flag). */
typedef uint64_t pc_intr_state_t;
pc_intr_state_t pc_intr_disable(void);
void pc_intr_restore(pc_intr_state_t s);
bool pc_intr_enabled_p(void);

/*
 * Interrupt handlers.  vector must be in [PC_VEC_FIRST_FREE,
 * PC_VEC_LAST_FREE].  The handler runs on the interrupted CPU's current
 * stack with interrupts disabled; the LAPIC EOI is sent after it returns.
 * Registering replaces a previous handler; NULL unregisters.  Returns 0, or
 * -1 for a vector outside the range.  A vector with no handler is counted
 * and acknowledged (see pc_intr_stray_count()).
 */
typedef void (*pc_intr_handler_t)(struct pc_trapframe *tf, void *arg);
int pc_intr_register(int vector, pc_intr_handler_t fn, void *arg);
uint64_t pc_intr_stray_count(void);

/*
 * Send a fixed-delivery IPI with vector to every CPU whose bit is set in
 * cpumask (bit i = logical CPU i; the caller's own bit sends a self-IPI).
 * Bits of CPUs that are not online are ignored.  Returns immediately after
 * the IPIs are issued; delivery is asynchronous.  Callable with interrupts
 * disabled and from interrupt handlers.
 */
void pc_send_ipi(uint32_t cpumask, int vector);

/*
 * The local APIC register page, when the LAPIC runs in xAPIC mode (MMIO):
 * returns true with *va = PC_LAPIC_VA (mapped uncached in the boot tables)
 * and *pa its physical address.  In x2APIC mode (MSRs) returns false.  A
 * pmap that replaces the boot page tables must map va -> pa read/write,
 * uncached, or IPIs stop working.
 */
bool pc_lapic_mmio_page(uint64_t *va, uint64_t *pa);

/*
 * Cross-calls.  pc_run_on(cpu, fn, arg) makes fn(arg) run on that CPU and
 * waits for it to return; if cpu is the caller, fn is called directly.
 * The target runs fn with interrupts enabled, from its idle loop (other
 * CPUs) or from inside pc_run_wait()/pc_run_on() (a CPU that is itself
 * waiting for a cross-call keeps serving its own mailbox, so two CPUs may
 * call each other).  CPU 0 serves its mailbox only while it waits in these
 * functions.
 *
 * pc_run_start() posts fn without waiting (one outstanding call per target:
 * it first waits for the target's mailbox to be free); pc_run_wait(cpu)
 * waits until it has run.  A call started on the caller's own CPU runs
 * synchronously inside pc_run_start().  Must be called with interrupts
 * enabled (the waits spin, and the target needs a wake-up IPI).
 */
void pc_run_on(int cpu, void (*fn)(void *), void *arg);
void pc_run_start(int cpu, void (*fn)(void *), void *arg);
void pc_run_wait(int cpu);
/* fn(arg) on every CPU in mask (concurrently), caller's own bit included;
 * returns when all have finished. */
void pc_run_on_mask(uint32_t mask, void (*fn)(void *), void *arg);

/* Spin locks.  They do not disable interrupts; combine with
 * pc_intr_disable() when a lock is also taken from an interrupt handler. */
typedef struct {
	volatile uint32_t sl_locked;
	volatile int32_t sl_owner;      /* CPU id of the holder, -1 if free */
} pc_spinlock_t;
#define PC_SPINLOCK_INIT { 0, -1 }
void pc_spin_init(pc_spinlock_t *l);
void pc_spin_lock(pc_spinlock_t *l);
bool pc_spin_trylock(pc_spinlock_t *l);
void pc_spin_unlock(pc_spinlock_t *l);
bool pc_spin_held_p(const pc_spinlock_t *l);  /* held by this CPU */

/* Time: TSC calibrated against the PIT at boot. */
uint64_t pc_rdtsc(void);
uint64_t pc_tsc_hz(void);
uint64_t pc_uptime_us(void);            /* since pc_boot_main() */
void pc_udelay(uint64_t us);
/* The TSC's rate measured now against PIT channel 2 over `us`
 * microseconds (1 PIT period to 54,925 us; interrupts are disabled
 * meanwhile): Hz, or 0 if the PIT does not count.  Does not change
 * pc_tsc_hz().  Any CPU, but one at a time (the PIT is shared). */
uint64_t pc_tsc_measure_hz(uint32_t us);
/* What CPUID says the TSC's rate is, 0 where it says nothing: leaf 0x15
 * (crystal clock x ratio), leaf 0x16 (the processor's base frequency,
 * which is the TSC's on most Intel CPUs) and the hypervisor timing leaf
 * 0x40000010 (TSC kHz). */
struct pc_tsc_cpuid {
	uint64_t tc_leaf15_hz, tc_leaf16_hz, tc_hv_hz;
};
void pc_tsc_cpuid(struct pc_tsc_cpuid *tc);
static inline void
pc_cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

/* ======================================================================
 * CPU features and control registers.
 * ====================================================================== */

struct pc_cpu_features {
	bool cf_pcid, cf_invpcid, cf_smep, cf_smap, cf_pdpe1gb, cf_nx;
	bool cf_x2apic, cf_pge, cf_pat, cf_umip, cf_la57, cf_hypervisor;
	bool cf_pse;                /* 4 MiB pages in 32-bit paging */
	unsigned cf_maxphyaddr;     /* CPUID 0x80000008 EAX[7:0] */
	unsigned cf_maxlinaddr;     /* CPUID 0x80000008 EAX[15:8] */
	char cf_vendor[13];         /* "GenuineIntel", "AuthenticAMD", ... */
	char cf_hv_vendor[13];      /* "KVMKVMKVM", "TCGTCGTCGTCG", "" */
};
const struct pc_cpu_features *pc_cpu_features(void);   /* CPU 0's CPUID */

/*
 * Control-register switches; each acts on the calling CPU only (use
 * pc_run_on_mask to apply one everywhere) and returns the previous setting
 * (0/1), or -1 if the CPU lacks the feature (nothing is changed then).
 * Setting PCIDE requires CR3[11:0] == 0, which holds for the boot tables.
 */
int pc_set_cr0_wp(bool on);
int pc_set_cr4_pge(bool on);
int pc_set_cr4_pcide(bool on);
int pc_set_cr4_smep(bool on);
int pc_set_cr4_smap(bool on);
int pc_set_efer_nxe(bool on);
/* RFLAGS.AC (honoured by SMAP); pushf/popf, so it works without SMAP. */
int pc_set_rflags_ac(bool on);

uint64_t pc_read_cr0(void);
uint64_t pc_read_cr2(void);
uint64_t pc_read_cr3(void);
uint64_t pc_read_cr4(void);
void pc_write_cr0(uint64_t v);
void pc_write_cr3(uint64_t v);
void pc_write_cr4(uint64_t v);
uint64_t pc_rdmsr(uint32_t msr);
void pc_wrmsr(uint32_t msr, uint64_t v);
void pc_invlpg(uint64_t va);
/* Reload CR3 (flushes non-global entries of the current PCID). */
void pc_tlb_flush_local(void);
/* Reload CR3 on every CPU (cross-call); interrupts must be enabled. */
void pc_tlb_flush_all_cpus(void);

/* ======================================================================
 * Physical memory.
 * ====================================================================== */

struct pc_mem_range {
	uint64_t mr_start;      /* page aligned */
	uint64_t mr_end;        /* exclusive, page aligned */
};

/* Usable RAM from the multiboot memory map (type 1), clipped to whole
 * pages, sorted, merged.  Includes RAM below the kernel. */
int pc_mem_ranges(const struct pc_mem_range **rp);
/* The part of it the page allocator manages (above the kernel image, the
 * multiboot data and the allocator's own bitmap). */
int pc_page_ranges(const struct pc_mem_range **rp);

/* Allocate one 4 KiB frame: 0 and *pa set, or -1 if none is free.  The
 * contents are not cleared.  Any CPU, any context. */
int pc_page_alloc(uint64_t *pa);
/* Free a frame from pc_page_alloc; panics on double free or a pa the
 * allocator does not manage. */
void pc_page_free(uint64_t pa);
/* npages physically contiguous frames: 0 and *pa = the first, or -1.  For
 * boot-time tables (a vm_page array); free them one by one. */
int pc_page_alloc_contig(uint64_t npages, uint64_t *pa);
bool pc_page_managed_p(uint64_t pa);
bool pc_page_free_p(uint64_t pa);
void pc_page_counts(uint64_t *total, uint64_t *nfree);

/*
 * Reaching physical memory, on either machine: pc_phys_map(pa, len) returns
 * a pointer to pa, valid for len bytes until the matching pc_phys_unmap(p,
 * len) on the same CPU (pairs nest, last in first out; at most
 * PC_PHYS_MAP_MAX bytes at a time per CPU, page offset included).  On
 * amd64 it is the direct map and unmapping does nothing; on i386 it is the
 * kernel window for low memory and this CPU's own physical windows
 * elsewhere.  Not from interrupt handlers.  Cacheable (write-back).
 */
void *pc_phys_map(uint64_t pa, size_t len);
void pc_phys_unmap(void *p, size_t len);
/* A pointer to [pa, pa + len) that stays valid for good (the direct map,
 * the kernel window), or NULL if no permanent mapping covers it. */
void *pc_phys_permanent(uint64_t pa, size_t len);
/* PA of an address in the kernel window (the image and what pc_layout.h
 * says it covers) or, on amd64, the direct map; panics on anything else. */
uint64_t pc_kvtophys(const void *va);

/* ======================================================================
 * The boot page tables.
 *
 * All CPUs share one root table (pc_boot_cr3(): a PML4 on amd64, a page
 * directory on i386).  These helpers edit it at 4 KiB granularity for code
 * that runs before (or instead of) a pmap: they allocate missing
 * intermediate tables from the page allocator (present, writable, and
 * user-accessible in the user half - below 0x0000800000000000, below
 * 0xc0000000 - so the leaf alone decides U/S; in the kernel half they get
 * U/S, added to existing ones too, only on the way to a leaf entered with
 * PC_PTE_US), refuse to split a large page, and invalidate the calling
 * CPU's TLB for va only.  Other CPUs must be flushed by the caller
 * (pc_tlb_flush_all_cpus) if they may hold the old translation.  On i386
 * they reach the tables through the recursive slot, so they edit whatever
 * tables the CPU runs on: after the switch to a pmap's, do not use them.
 * ====================================================================== */

/* PTE bits as the SDM names them; the low twelve are the same in both
 * paging modes (PC_PTE_XD and PC_PTE_FRAME are in pc_arch.h). */
#define PC_PTE_P        0x001ULL    /* present */
#define PC_PTE_RW       0x002ULL    /* writable */
#define PC_PTE_US       0x004ULL    /* user accessible */
#define PC_PTE_PWT      0x008ULL    /* write-through */
#define PC_PTE_PCD      0x010ULL    /* cache disable */
#define PC_PTE_A        0x020ULL    /* accessed */
#define PC_PTE_D        0x040ULL    /* dirty (leaf) */
#define PC_PTE_PS       0x080ULL    /* page size (PDE/PDPTE) */
#define PC_PTE_G        0x100ULL    /* global (leaf) */

uint64_t pc_boot_cr3(void);
/* Map va -> pa with the given PTE bits (PC_PTE_P is implied).  0 on
 * success; -1 if a large page covers va or no frame is left. */
int pc_bootpt_enter(uint64_t va, uint64_t pa, uint64_t bits);
/* Clear the 4 KiB leaf for va; returns the old entry (0 if none). */
uint64_t pc_bootpt_remove(uint64_t va);
/* Pointer to the entry that maps va at whatever level the walk stops
 * (level 1 = PTE, 2 = PDE, 3 = PDPTE, 4 = PML4E), or NULL with *level set
 * to the level whose entry is not present. */
pc_pte_t *pc_bootpt_lookup(uint64_t va, int *level);

/* The kernel image, as linked (see kernel.ld); all page aligned. */
struct pc_image_layout {
	uint64_t il_phys_start, il_phys_end;      /* [start, end) */
	uint64_t il_virt_start, il_virt_end;
	uint64_t il_text_start, il_text_end;      /* virtual */
	uint64_t il_rodata_start, il_rodata_end;
	uint64_t il_data_start, il_data_end;
	uint64_t il_bss_start, il_bss_end;
};
void pc_image_layout(struct pc_image_layout *il);

/*
 * The user region, in the kernel half (see pc_layout.h): the page holding
 * the ring-3 probe stubs, and one ring-3 stack page per CPU (CPU i's at
 * ur_stack_va + i * PC_PAGE_SIZE; the ur_stack_size bytes are physically
 * contiguous from ur_stack_pa).  A pmap that replaces the boot page tables
 * must keep them mapped at the same VAs (code: P|US, R/X; stacks: P|RW|US,
 * no XD; U/S on the tables above them too) for pc_probe_user_*() to work.
 */
struct pc_user_region {
	uint64_t ur_code_va, ur_code_pa;
	uint64_t ur_stack_va, ur_stack_pa;
	uint64_t ur_stack_size;
};
void pc_user_region(struct pc_user_region *ur);

/* ======================================================================
 * Fault probes.
 *
 * Each probe performs one access, catching any CPU exception it raises.
 * Result: PC_PROBE_OK, or PC_PROBE_FAULT(vector) when it faulted; the
 * details of the last fault on this CPU are in pc_probe_last_fault().
 * Probes run with interrupts disabled for the duration of the access and
 * leave RFLAGS.AC as the caller set it (pc_set_rflags_ac), so SMAP can be
 * tested both ways.
 *
 * pc_probe_exec(va) calls va: it must be mapped to a `ret` (0xc3) or fault
 * on the fetch itself.  pc_probe_ret_insn is a `ret` in the kernel text.
 *
 * pc_probe_fetch(va, &rdx) tests the instruction fetch at va whatever the
 * bytes there: it jumps to va with RFLAGS.TF set and executes exactly one
 * instruction.  PC_PROBE_PF means the fetch itself faulted (a #PF at va
 * with the I/D bit, or - when neither EFER.NXE nor CR4.SMEP is set, so the
 * CPU reports no I/D bit - with CR2 in the first 16 bytes at va).  Any
 * other outcome (the single-step trap, or an exception the instruction
 * raised while executing: #UD, a data #PF, ...) means the fetch succeeded:
 * PC_PROBE_OK, with *rdx = %rdx after that one instruction.  The
 * instruction starts with %rax, %rcx, %rdx, %rsi and %r8-%r11 zero and
 * %rdi = va, so typical data (zero bytes, small patterns) faults harmlessly
 * or does nothing.  The MMU-probe arena puts `mov $imm32, %edx` there.
 * A #GP raised by the jump itself (a non-canonical va) is PC_PROBE_GP.
 *
 * The user variants drop to ring 3 (CPL 3, IF=0) into a stub at
 * PC_USER_CODE_VA, which performs the same access and returns to the kernel
 * by executing `ud2` at a known address; a fault in ring 3 is caught the
 * same way.  An exec target must therefore not be that address.
 * ====================================================================== */
#define PC_PROBE_OK             0
#define PC_PROBE_FAULT(vec)     (0x100 | (vec))
#define PC_PROBE_PF             PC_PROBE_FAULT(14)
#define PC_PROBE_GP             PC_PROBE_FAULT(13)

/* Page-fault error code bits. */
#define PC_PF_P         0x01    /* protection violation (else not present) */
#define PC_PF_W         0x02    /* write */
#define PC_PF_U         0x04    /* user mode */
#define PC_PF_RSVD      0x08    /* reserved bit set in an entry */
#define PC_PF_I         0x10    /* instruction fetch (NXE or SMEP only) */
#define PC_PF_PK        0x20    /* protection key */

struct pc_fault {
	uint64_t cr2;           /* faulting address (#PF only) */
	uint32_t error_code;    /* as pushed by the CPU, 0 if none */
	int vector;             /* 14 for #PF, 13 for #GP, ... */
	uint64_t rip;           /* where it happened */
};

int pc_probe_read(uint64_t va, int size, uint64_t *val);
int pc_probe_write(uint64_t va, int size, uint64_t val);
int pc_probe_exec(uint64_t va);
int pc_probe_user_read(uint64_t va, int size, uint64_t *val);
int pc_probe_user_write(uint64_t va, int size, uint64_t val);
int pc_probe_user_exec(uint64_t va);
int pc_probe_fetch(uint64_t va, uint64_t *rdx);
int pc_probe_user_fetch(uint64_t va, uint64_t *rdx);
/* Fault recorded by the last probe on this CPU that faulted. */
void pc_probe_last_fault(struct pc_fault *f);
extern const char pc_probe_ret_insn[];

/* ======================================================================
 * Freestanding C library subset (standard names: the compiler may emit
 * calls to the mem* functions on its own).
 * ====================================================================== */
void *memset(void *d, int c, size_t n);
void *memcpy(void *__restrict d, const void *__restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strstr(const char *hay, const char *needle);

#endif /* PC_H */
