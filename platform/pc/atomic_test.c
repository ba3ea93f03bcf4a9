// SPDX-License-Identifier: BSD-2-Clause
/*
 * atomic_test.c - the real machine's own suite "atomic64": the 8-byte
 * atomics the library and the platform use, on the CPU that runs them.
 *
 * On i386 they are platform/pc/i386/atomic64.S (a LOCK CMPXCHG8B loop
 * each); on amd64 the compiler's instructions.  The values are checked
 * on one CPU (carries and borrows across the 32-bit halves), then every
 * CPU hammers one counter with increments and decrements while CPU 0
 * interrupts the others with IPIs: the final count must be exact, and
 * EFLAGS must stay what the kernel runs with.  The second half is a
 * regression test for a QEMU 7.2 TCG bug that atomic64.S works around
 * (see there): a CMPXCHG8B retried after an ADC of 0xffffffff left
 * garbage (TF, VM, IOPL 3) in EFLAGS once the vCPU next left its
 * execution loop - which an IPI makes it do - and the kernel then
 * triple-faulted on a single-step trap.
 */
#include "pc_pmap.h"
#include "ptest.h"
#include "tap.h"

#define A64_VECTOR	(PC_VEC_FIRST_FREE + 7)
#define A64_OPS		20000	/* per CPU: pairs of +k and -k */
/* EFLAGS bits the kernel never runs with: TF, DF, IOPL, NT, RF, VM, AC
 * (no SMAP window is open here), VIF, VIP. */
#define A64_BAD_FLAGS	0x001f7500ul

static uint64_t a64_ctr;		/* __atomic */
static uint64_t a64_word;		/* __atomic: and/or/xor target */
static int a64_go, a64_done;		/* __atomic */
static unsigned long a64_badflags[PC_MAX_CPUS];
static uint32_t a64_ipis;		/* __atomic */

static inline unsigned long
a64_flags(void)
{
	unsigned long f;
	__asm__ __volatile__("pushf; pop %0" : "=r"(f) :: "memory");
	return f;
}

static void
a64_ipi(struct pc_trapframe *tf, void *arg)
{
	(void)tf;
	(void)arg;
	__atomic_fetch_add(&a64_ipis, 1, __ATOMIC_RELAXED);
}

#if defined(__i386__)
static uint64_t a64_scratch;

/* The sequence that meets the bug at once: a CMPXCHG8B's flag state (as
 * __atomic_load_8 or a retry leaves it), nothing that sets flags, and a
 * call of __atomic_add_fetch_8 (whose entry sets none either) with a
 * negative value - an ADC of 0xffffffff.  (__atomic_fetch_add_8 met it
 * only on a retry, which made the copy suite fail one run in four.) */
static void
a64_after_cmpxchg8b(uint64_t *p, uint64_t v)
{
	uint32_t args[3] = { (uint32_t)(uintptr_t)p, (uint32_t)v, (uint32_t)(v >> 32) };
	__asm__ __volatile__(
	    "pushl $0\n\t"
	    "pushl 8(%%esi)\n\t"
	    "pushl 4(%%esi)\n\t"
	    "pushl 0(%%esi)\n\t"
	    "movl $0, %%eax\n\t"
	    "movl $0, %%edx\n\t"
	    "movl $0, %%ebx\n\t"
	    "movl $0, %%ecx\n\t"
	    "lock cmpxchg8b (%%edi)\n\t"
	    "call __atomic_add_fetch_8\n\t"
	    "addl $16, %%esp"
	    :: "S"(args), "D"(&a64_scratch)
	    : "eax", "ebx", "ecx", "edx", "memory", "cc");
}
#else
static void
a64_after_cmpxchg8b(uint64_t *p, uint64_t v)
{
	__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}
#endif

/* +k then -k, as the library does with counters: the decrement adds
 * 0xffffffff:(-k) and so carries through the high half. */
static void
a64_hammer(void *arg)
{
	int me = pc_cpu_id();
	uint64_t k = (uint64_t)(uintptr_t)arg;

	while (!__atomic_load_n(&a64_go, __ATOMIC_ACQUIRE))
		pc_cpu_relax();
	for (int i = 0; i < A64_OPS; i++) {
		__atomic_fetch_add(&a64_ctr, k, __ATOMIC_RELAXED);
		a64_after_cmpxchg8b(&a64_ctr, (uint64_t)-k);
		__atomic_sub_fetch(&a64_ctr, k, __ATOMIC_RELAXED);
		__atomic_add_fetch(&a64_ctr, k, __ATOMIC_RELAXED);
		__atomic_fetch_xor(&a64_word, (uint64_t)1 << (me % 64), __ATOMIC_RELAXED);
		unsigned long f = a64_flags();
		if (f & A64_BAD_FLAGS)
			a64_badflags[me] = f;
	}
	__atomic_fetch_add(&a64_done, 1, __ATOMIC_RELEASE);
}

static void
t_values(void)
{
	uint64_t v = 0xffffffffull;
	is_u64(__atomic_add_fetch(&v, 1, __ATOMIC_SEQ_CST), 0x100000000ull,
	    "add carries into the high half");
	is_u64(__atomic_fetch_sub(&v, 1, __ATOMIC_SEQ_CST), 0x100000000ull,
	    "fetch_sub returns the old value");
	is_u64(__atomic_load_n(&v, __ATOMIC_SEQ_CST), 0xffffffffull,
	    "sub borrows from the high half");
	is_u64(__atomic_fetch_add(&v, (uint64_t)-0x100000000ll, __ATOMIC_SEQ_CST),
	    0xffffffffull, "fetch_add of a negative value returns the old value");
	is_u64(v, 0xffffffffffffffffull, "adding -2^32 wraps below zero");
	__atomic_store_n(&v, 0x123456789abcdef0ull, __ATOMIC_SEQ_CST);
	is_u64(__atomic_and_fetch(&v, 0xff00ff00ff00ff00ull, __ATOMIC_SEQ_CST),
	    0x123456789abcdef0ull & 0xff00ff00ff00ff00ull, "and in both halves");
	is_u64(__atomic_or_fetch(&v, 0x1ull | (1ull << 40), __ATOMIC_SEQ_CST),
	    (0x123456789abcdef0ull & 0xff00ff00ff00ff00ull) | 0x1ull | (1ull << 40),
	    "or in both halves");
	is_u64(__atomic_exchange_n(&v, 7, __ATOMIC_SEQ_CST),
	    (0x123456789abcdef0ull & 0xff00ff00ff00ff00ull) | 0x1ull | (1ull << 40),
	    "exchange returns the old value");
	uint64_t want = 8;
	ok(!__atomic_compare_exchange_n(&v, &want, 9, false, __ATOMIC_SEQ_CST,
	    __ATOMIC_SEQ_CST) && want == 7 && v == 7,
	    "a failed compare-exchange reports the value and stores nothing");
	ok(__atomic_compare_exchange_n(&v, &want, 0x100000000ull, false,
	    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) && v == 0x100000000ull,
	    "a compare-exchange stores the new value");
}

static void
t_contended(void)
{
	int n = ptest_ncpus();
	if (n < 2) {
		tap_skip(2, "one CPU: nothing contends");
		return;
	}
	pc_intr_register(A64_VECTOR, a64_ipi, NULL);	/* (in range: cannot fail) */
	__atomic_store_n(&a64_ctr, 0x00000000fffffff0ull, __ATOMIC_RELAXED);
	__atomic_store_n(&a64_word, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&a64_go, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&a64_done, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&a64_ipis, 0, __ATOMIC_RELAXED);
	for (int cpu = 0; cpu < n; cpu++)
		a64_badflags[cpu] = 0;
	uint32_t others = pc_cpus_all_mask() & ~(1u << pc_cpu_id());
	for (int cpu = 1; cpu < n; cpu++)
		ptest_run_async(cpu, a64_hammer, (void *)(uintptr_t)(cpu * 0x11));
	__atomic_store_n(&a64_go, 1, __ATOMIC_RELEASE);
	/* CPU 0 interrupts the others until they are done. */
	while (__atomic_load_n(&a64_done, __ATOMIC_ACQUIRE) < n - 1) {
		pc_send_ipi(others, A64_VECTOR);
		for (int i = 0; i < 200; i++)
			pc_cpu_relax();
	}
	for (int cpu = 1; cpu < n; cpu++)
		ptest_wait(cpu);
	pc_intr_register(A64_VECTOR, NULL, NULL);
	uint64_t xor = 0;
	for (int cpu = 1; cpu < n; cpu++)
		if (A64_OPS % 2)
			xor ^= (uint64_t)1 << (cpu % 64);
	ok(__atomic_load_n(&a64_ctr, __ATOMIC_RELAXED) == 0x00000000fffffff0ull &&
	    __atomic_load_n(&a64_word, __ATOMIC_RELAXED) == xor,
	    "%d CPUs x %d rounds of 8-byte add/sub/xor under %u IPIs: every update "
	    "counted (counter %#llx)", n - 1, A64_OPS, __atomic_load_n(&a64_ipis,
	    __ATOMIC_RELAXED), (unsigned long long)a64_ctr);
	int bad = 0;
	for (int cpu = 1; cpu < n; cpu++)
		if (a64_badflags[cpu] != 0) {
			tap_diag("cpu %d saw EFLAGS %#lx", cpu, a64_badflags[cpu]);
			bad++;
		}
	is_int(bad, 0, "EFLAGS stay clean of TF, DF, IOPL, NT, VM and AC");
}

PTEST_SUITE(atomic64)
{
	t_values();
	t_contended();
}
