// SPDX-License-Identifier: BSD-2-Clause
/*
 * host.c - libpmap's host hooks on the bare-metal kernel, and the boot of
 * the library (pc_pmap_boot).
 *
 * Every hook of <pmap/pmap_host.h>, each a few lines over pc.h; the arch's
 * own hooks (<pmap/amd64_host.h>, <pmap/i386_host.h>), how physical memory
 * is reached and what the boot information holds are in <arch>/host_md.c.
 * How the contracts are met:
 *  - vm_page: one per frame of the page allocator, in an array carved out
 *    of physically contiguous frames at boot, mapped for good (the direct
 *    map on amd64, the kernel window on i386: pc_phys_permanent);
 *  - the shootdown IPI is PC_VEC_SHOOTDOWN, whose handler calls
 *    pmap_tlb_intr() (interrupts disabled, EOI after it returns);
 *  - spinning is `pause` with interrupts left as they are: the library
 *    spins with them enabled, so the CPU keeps answering shootdowns;
 *  - nothing is preemptible, so preemption control is a per-CPU counter,
 *    kept to check balance;
 *  - sleep/wakeup: a sequence number per hashed channel; a sleeper halts
 *    with interrupts enabled and a waker sends PC_VEC_WAKE to the CPUs that
 *    are halted in pmap_host_sleep; pc_pmap_signal interrupts a sleep that
 *    asked for it;
 *  - panics go to pc_vpanic, which longjmps to a catcher armed on this CPU
 *    (ptest_catch_panic) or stops the machine.
 */
#include "pc_pmap.h"

#include <pmap/pmap_host.h>

#define PC_EINTR	4

#define HOST_ASSERT(e) do {						\
	if (!(e))							\
		pc_panic("%s: \"%s\" failed", __func__, #e);		\
} while (0)

/* vm_page array: frames [vm_first, vm_first + vm_count). */
static struct vm_page *vm_pages;
static uint64_t vm_first, vm_count;
static const struct pc_mem_range *vm_ranges;
static int vm_nranges;

struct pc_pmap_cpu {
	struct lwp *pk_curlwp;
	int pk_preempt;
	bool pk_midline;	/* pmap_host_printf: inside a line */
	uint32_t pk_signal;	/* (a) a signal is pending */
} __attribute__((aligned(64)));
static struct pc_pmap_cpu pk_cpus[PC_MAX_CPUS];

/* Fault injection (atomics). */
static uint64_t alloc_count, alloc_fail_nth;

/* Sleep queues (atomics). */
#define NSLEEPQ 64
static uint64_t sleepq_seq[NSLEEPQ];
static uint32_t sleepers;		/* CPUs halted in pmap_host_sleep */

static inline struct pc_pmap_cpu *
pk_self(void)
{
	return &pk_cpus[pc_cpu_id()];
}

/* ---- Tier 0 ---- */

void
pmap_host_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pc_vpanic(fmt, ap);
}

void
pmap_host_printf(const char *fmt, ...)
{
	struct pc_pmap_cpu *k = pk_self();
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	pc_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* TAP: every line of library output is a comment.  Callers may
	 * print a line in pieces, so prefix only at line starts. */
	for (char *p = buf; *p != '\0';) {
		char *nl = p;

		while (*nl != '\0' && *nl != '\n')
			nl++;
		if (*nl == '\n')
			nl++;
		pc_printf("%s%.*s", k->pk_midline ? "" : "# ", (int)(nl - p), p);
		k->pk_midline = nl[-1] != '\n';
		p = nl;
	}
}

int
pmap_host_cpu_id(void)
{
	return pc_cpu_id();
}

int
pmap_host_ncpus(void)
{
	return pc_ncpus();
}

int
pc_pmap_page_alloc(paddr_t *pap)
{
	uint64_t pa, n;

	__atomic_fetch_add(&alloc_count, 1, __ATOMIC_RELAXED);
	n = __atomic_load_n(&alloc_fail_nth, __ATOMIC_RELAXED);
	while (n != 0) {
		if (__atomic_compare_exchange_n(&alloc_fail_nth, &n, n - 1, false,
		    __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
			if (n == 1)
				return -1;
			break;
		}
	}
	if (pc_page_alloc(&pa) != 0)
		return -1;
	*pap = pa;
	return 0;
}

void
pc_pmap_alloc_fail_nth(uint64_t n)
{
	__atomic_store_n(&alloc_fail_nth, n, __ATOMIC_RELAXED);
}

uint64_t
pc_pmap_alloc_count(void)
{
	return __atomic_load_n(&alloc_count, __ATOMIC_RELAXED);
}

int
pmap_host_page_alloc(paddr_t *pap)
{
	return pc_pmap_page_alloc(pap);
}

void
pmap_host_page_free(paddr_t pa)
{
	pc_page_free(pa);	/* panics on a double or foreign free */
}

struct vm_page *
pc_pa_to_vm_page(paddr_t pa)
{
	uint64_t i = (pa >> PAGE_SHIFT) - vm_first;

	if (i >= vm_count)
		return NULL;
	/* Frames between the allocator's ranges are not managed. */
	for (int r = 0; r < vm_nranges; r++) {
		if (pa >= vm_ranges[r].mr_start && pa < vm_ranges[r].mr_end)
			return &vm_pages[i];
	}
	return NULL;
}

struct vm_page *
pmap_host_phys_to_page(paddr_t pa)
{
	return pc_pa_to_vm_page(pa);
}

struct pmap_page *
pmap_host_page_md(struct vm_page *pg)
{
	return &pg->mdpage;
}

paddr_t
pc_vm_page_pa(const struct vm_page *pg)
{
	return (vm_first + (uint64_t)(pg - vm_pages)) << PAGE_SHIFT;
}

paddr_t
pmap_host_page_pa(struct vm_page *pg)
{
	return pc_vm_page_pa(pg);
}

pmap_intr_state_t
pmap_host_intr_disable(void)
{
	return (pmap_intr_state_t)pc_intr_disable();
}

void
pmap_host_intr_restore(pmap_intr_state_t s)
{
	pc_intr_restore((pc_intr_state_t)s);
}

/* ---- Tier 1 ---- */

void
pmap_host_preempt_disable(void)
{
	pk_self()->pk_preempt++;
}

void
pmap_host_preempt_enable(void)
{
	struct pc_pmap_cpu *k = pk_self();

	if (--k->pk_preempt < 0)
		pc_panic("cpu %d: preemption enabled more often than disabled",
		    pc_cpu_id());
}

void
pmap_host_spin_wait(void)
{
	pc_cpu_relax();
}

void
pmap_host_send_shootdown(uint64_t cpuset)
{
	pc_send_ipi((uint32_t)cpuset, PC_VEC_SHOOTDOWN);
}

static void
shootdown_intr(struct pc_trapframe *tf, void *arg)
{
	(void)tf;
	(void)arg;
	pmap_tlb_intr();
}

static unsigned
sleepq_of(const void *chan)
{
	uint64_t h = (uint64_t)(uintptr_t)chan;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ULL;
	return (unsigned)(h >> 58) % NSLEEPQ;
}

uint64_t
pmap_host_sleep_prepare(const void *chan)
{
	return __atomic_load_n(&sleepq_seq[sleepq_of(chan)], __ATOMIC_SEQ_CST);
}

int
pmap_host_sleep(const void *chan, uint64_t ticket, bool catch)
{
	struct pc_pmap_cpu *k = pk_self();
	uint32_t me = 1u << pc_cpu_id();
	unsigned q = sleepq_of(chan);

	for (;;) {
		pc_intr_state_t s = pc_intr_disable();
		bool done;

		/* Announce, then look (both seq_cst): a waker that bumps the
		 * sequence after our look sees us and sends the IPI, which
		 * ends the hlt (or is taken right at the sti). */
		__atomic_fetch_or(&sleepers, me, __ATOMIC_SEQ_CST);
		done = __atomic_load_n(&sleepq_seq[q], __ATOMIC_SEQ_CST) != ticket ||
		    (catch && __atomic_load_n(&k->pk_signal, __ATOMIC_SEQ_CST));
		if (!done)
			__asm__ __volatile__("sti; hlt; cli" ::: "memory");
		__atomic_fetch_and(&sleepers, ~me, __ATOMIC_SEQ_CST);
		pc_intr_restore(s);
		if (done)
			break;
	}
	if (catch && __atomic_exchange_n(&k->pk_signal, 0, __ATOMIC_SEQ_CST))
		return PC_EINTR;
	return 0;
}

static void
kick_sleepers(void)
{
	uint32_t who = __atomic_load_n(&sleepers, __ATOMIC_SEQ_CST) &
	    ~(1u << pc_cpu_id());

	if (who != 0)
		pc_send_ipi(who, PC_VEC_WAKE);
}

void
pmap_host_wakeup(const void *chan)
{
	__atomic_fetch_add(&sleepq_seq[sleepq_of(chan)], 1, __ATOMIC_SEQ_CST);
	kick_sleepers();
}

void
pc_pmap_signal(int cpu)
{
	__atomic_store_n(&pk_cpus[cpu].pk_signal, 1, __ATOMIC_SEQ_CST);
	kick_sleepers();
}

struct lwp *
pmap_host_curlwp(void)
{
	return pk_self()->pk_curlwp;
}

pmap_t
pmap_host_lwp_pmap(struct lwp *l)
{
	return l != NULL ? l->l_pmap : pmap_kernel();
}

void
pc_set_curlwp(struct lwp *l)
{
	pk_self()->pk_curlwp = l;
}

int
pc_preempt_depth(void)
{
	return pk_self()->pk_preempt;
}

void
pc_preempt_reset(int depth)
{
	pk_self()->pk_preempt = depth;
}

/* ---- boot ---- */

static void
vm_pages_init(void)
{
	int n = pc_page_ranges(&vm_ranges);
	uint64_t last, pa, bytes;

	HOST_ASSERT(n > 0);
	vm_nranges = n;
	vm_first = vm_ranges[0].mr_start >> PAGE_SHIFT;
	last = vm_ranges[n - 1].mr_end >> PAGE_SHIFT;
	vm_count = last - vm_first;
	bytes = vm_count * sizeof(struct vm_page);
	if (pc_page_alloc_contig((bytes + PAGE_SIZE - 1) / PAGE_SIZE, &pa) != 0)
		pc_panic("no %llu contiguous bytes for the vm_page array",
		    (unsigned long long)bytes);
	vm_pages = pc_phys_permanent(pa, bytes);
	if (vm_pages == NULL)
		pc_panic("the vm_page array at %#llx (%llu bytes) is out of reach",
		    (unsigned long long)pa, (unsigned long long)bytes);
	memset(vm_pages, 0, bytes);
}

void
pc_add_krange(struct pmap_bootinfo *bi, vaddr_t va, paddr_t pa, vsize_t size,
    vm_prot_t prot, u_int flags)
{
	if (bi->pb_nkranges >= PMAP_MAXKRANGES)
		pc_panic("more than %d kernel ranges", PMAP_MAXKRANGES);
	bi->pb_kranges[bi->pb_nkranges++] = (struct pmap_krange){
		.kr_va = va, .kr_pa = pa, .kr_size = size, .kr_prot = prot,
		.kr_flags = flags,
	};
}

static void
cpu_init_here(void *arg)
{
	(void)arg;
	pmap_cpu_init();
}

/* RAM as the library was told about it (ptest_phys_segments). */
struct pmap_segment pc_ram_segs[PMAP_MAXSEGS];
int pc_ram_nsegs;

void
pc_pmap_boot(enum pmap_sfbuf_mode mode)
{
	struct pmap_bootinfo bi;

	pc_md_read_cpu_features();
	vm_pages_init();
	memset(&bi, 0, sizeof(bi));
	pc_md_build_bootinfo(&bi, mode);
	for (int i = 0; i < bi.pb_nsegs; i++)
		pc_ram_segs[i] = bi.pb_segs[i];
	pc_ram_nsegs = bi.pb_nsegs;
	if (pc_intr_register(PC_VEC_SHOOTDOWN, shootdown_intr, NULL) != 0)
		pc_panic("cannot register the shootdown vector");

	pmap_bootstrap(&bi);
	cpu_init_here(NULL);
	for (int i = 1; i < pc_ncpus(); i++)
		pc_run_on(i, cpu_init_here, NULL);
	pmap_init();
}
