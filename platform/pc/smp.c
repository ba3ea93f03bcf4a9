// SPDX-License-Identifier: BSD-2-Clause
/*
 * smp.c - bringing up the application processors, and cross-calls.
 *
 * Bring-up (CPU 0, interrupts disabled, identity map still present):
 * the MADT lists the CPUs; the trampoline (ap_tramp.S) is copied to
 * PC_AP_TRAMP_PA; then for one AP at a time: fill in the parameter block
 * (CR3, EFER bits, stack, struct pc_cpu, entry point), INIT, 10 ms,
 * STARTUP, 200 us, a second STARTUP if it is not running yet, and wait up
 * to 2 s for the AP to set c_online.  An AP that does not answer is
 * reported and skipped; its logical id is given to the next one, so ids
 * of online CPUs are always 0..pc_ncpus()-1.
 *
 * Cross-call mailbox protocol (one mailbox per target CPU, c_mb_state):
 *
 *   FREE --poster CAS--> CLAIMED --poster writes fn/arg--> POSTED
 *   POSTED --target CAS--> RUNNING --fn returns--> DONE
 *   DONE --poster, in pc_run_wait--> FREE
 *
 * Only the CPU that posted may wait for (and so free) a mailbox.  The
 * poster sends PC_VEC_WAKE after posting; the wake handler does nothing
 * but EOI - its only job is to end the target's `hlt`.  Targets serve the
 * mailbox in pc_idle_loop() and in the wait loops here (pc_mailbox_poll),
 * never from interrupt context, so fn runs with interrupts enabled and may
 * itself take IPIs, cross-call others, and wait.  A CPU waiting to claim a
 * busy mailbox also serves its own, so two CPUs cross-calling each other
 * cannot deadlock.
 */
#include "pc_internal.h"

int pc_madt_ncpus = 1;

#define AP_START_TIMEOUT_US     2000000
#define RUN_WAIT_WARN_US        5000000

int
pc_ncpus_found(void)
{
	return PC_MIN(pc_madt_ncpus, PC_MAX_CPUS);
}

static void
tramp_put(const char *sym, uint64_t v, size_t size)
{
	uint8_t *dst = (uint8_t *)pc_phys_permanent(PC_AP_TRAMP_PA,
	    PC_PAGE_SIZE) + (sym - pc_ap_tramp_start);

	memcpy(dst, &v, size);
}

static bool
wait_online(struct pc_cpu *c, uint64_t us)
{
	uint64_t start = pc_uptime_us();

	while (pc_uptime_us() - start < us) {
		if (__atomic_load_n(&c->c_online, __ATOMIC_ACQUIRE))
			return true;
		pc_cpu_relax();
	}
	return __atomic_load_n(&c->c_online, __ATOMIC_ACQUIRE) != 0;
}

void
pc_smp_start_aps(void)
{
	struct pc_acpi_cpu list[64];
	uint32_t bsp_apic = pc_lapic_id();
	uint64_t lapic_pa = 0;
	size_t tramp_len = (size_t)(pc_ap_tramp_end - pc_ap_tramp_start);
	int n, next = 1;
	const struct pc_mem_range *ram;
	int nram = pc_mem_ranges(&ram);
	bool tramp_in_ram = false;

	pc_cpus[0].c_pub.pcpu_apic_id = bsp_apic;
	__atomic_store_n(&pc_cpus[0].c_online, 1, __ATOMIC_RELEASE);

	n = pc_acpi_find_cpus(list, (int)PC_ARRAY_SIZE(list), &lapic_pa);
	if (n <= 0) {
		pc_printf("# pc: no ACPI MADT; running on the boot CPU only\n");
		return;
	}
	pc_madt_ncpus = n;
	if (!pc_lapic_x2apic && lapic_pa != 0)
		pc_lapic_set_base(lapic_pa);

	for (int i = 0; i < nram; i++) {
		if (ram[i].mr_start <= PC_AP_TRAMP_PA &&
		    PC_AP_TRAMP_PA + PC_PAGE_SIZE <= ram[i].mr_end)
			tramp_in_ram = true;
	}
	PC_ASSERT(tramp_in_ram && tramp_len <= PC_PAGE_SIZE);
	memcpy(pc_phys_permanent(PC_AP_TRAMP_PA, PC_PAGE_SIZE), pc_ap_tramp_start,
	    tramp_len);
	tramp_put(pc_ap_tramp_cr3, pc_boot_cr3(), 4);
	tramp_put(pc_ap_tramp_efer, PC_AP_EFER_BITS == 0 ? 0 :
	    pc_rdmsr(PC_MSR_EFER) & PC_AP_EFER_BITS, 4);
	tramp_put(pc_ap_tramp_entry, (uint64_t)(uintptr_t)pc_ap_entry, 8);

	for (int i = 0; i < n; i++) {
		struct pc_cpu *c;

		if (list[i].ac_apic_id == bsp_apic)
			continue;
		if (next >= PC_MAX_CPUS) {
			pc_printf("# pc: only %d CPUs supported, ignoring the rest\n",
			    PC_MAX_CPUS);
			break;
		}
		c = &pc_cpus[next];
		memset(c, 0, sizeof(*c));
		pc_cpu_early_init(c, (uint32_t)next);
		c->c_pub.pcpu_apic_id = list[i].ac_apic_id;
		tramp_put(pc_ap_tramp_stack, c->c_kstack_top, 8);
		tramp_put(pc_ap_tramp_cpu, (uint64_t)(uintptr_t)c, 8);

		if (pc_lapic_x2apic) {
			pc_lapic_send(c->c_pub.pcpu_apic_id,
			    PC_ICR_INIT | PC_ICR_ASSERT);
		} else {
			pc_lapic_send(c->c_pub.pcpu_apic_id,
			    PC_ICR_INIT | PC_ICR_ASSERT | PC_ICR_LEVEL);
			pc_udelay(200);
			pc_lapic_send(c->c_pub.pcpu_apic_id,
			    PC_ICR_INIT | PC_ICR_LEVEL);        /* de-assert */
		}
		pc_udelay(10000);
		for (int sipi = 0; sipi < 2; sipi++) {
			pc_lapic_send(c->c_pub.pcpu_apic_id, PC_ICR_STARTUP |
			    (uint32_t)(PC_AP_TRAMP_PA >> 12));
			if (wait_online(c, sipi == 0 ? 200 : AP_START_TIMEOUT_US))
				break;
		}
		if (!__atomic_load_n(&c->c_online, __ATOMIC_ACQUIRE)) {
			pc_printf("# pc: CPU with APIC id %u did not start\n",
			    list[i].ac_apic_id);
			continue;
		}
		next++;
		__atomic_store_n(&pc_ncpus_online, next, __ATOMIC_RELEASE);
	}
}

void
pc_ap_main(struct pc_cpu *c)
{
	pc_cpu_load_tables(c);
	pc_lapic_init();
	if (pc_lapic_id() != c->c_pub.pcpu_apic_id)
		pc_panic("AP: APIC id %u, expected %u", pc_lapic_id(),
		    c->c_pub.pcpu_apic_id);
	__atomic_store_n(&c->c_online, 1, __ATOMIC_RELEASE);
	pc_idle_loop();
}

/* ---------------------------------------------------------------------
 * Idle loop and mailbox.
 * --------------------------------------------------------------------- */
void
pc_mailbox_poll(void)
{
	struct pc_cpu *c = pc_cpu_self();
	uint32_t expect = PC_MB_POSTED;
	pc_intr_state_t s;

	if (__atomic_load_n(&c->c_mb_state, __ATOMIC_RELAXED) != PC_MB_POSTED)
		return;
	if (!__atomic_compare_exchange_n(&c->c_mb_state, &expect,
	    PC_MB_RUNNING, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	s = pc_read_rflags();
	__asm__ __volatile__("sti" ::: "memory");
	c->c_mb_fn(c->c_mb_arg);
	if (!(s & PC_RFLAGS_IF))
		__asm__ __volatile__("cli" ::: "memory");
	__atomic_store_n(&c->c_mb_state, PC_MB_DONE, __ATOMIC_RELEASE);
}

void
pc_idle_loop(void)
{
	struct pc_cpu *c = pc_cpu_self();

	for (;;) {
		__asm__ __volatile__("cli" ::: "memory");
		if (__atomic_load_n(&c->c_mb_state, __ATOMIC_ACQUIRE) ==
		    PC_MB_POSTED) {
			pc_mailbox_poll();
			continue;
		}
		/* sti's one-instruction shadow makes "sti; hlt" atomic: a
		 * wake-up IPI that arrives now ends the hlt. */
		__asm__ __volatile__("sti; hlt" ::: "memory");
	}
}

static struct pc_cpu *
run_target(int cpu)
{
	if (cpu < 0 || cpu >= pc_ncpus())
		pc_panic("pc_run: no CPU %d (%d online)", cpu, pc_ncpus());
	if (!pc_intr_enabled_p())
		pc_panic("pc_run: called with interrupts disabled");
	return &pc_cpus[cpu];
}

void
pc_run_start(int cpu, void (*fn)(void *), void *arg)
{
	struct pc_cpu *t = run_target(cpu);
	uint32_t expect;

	if (cpu == pc_cpu_id()) {
		fn(arg);
		return;
	}
	for (;;) {
		expect = PC_MB_FREE;
		if (__atomic_compare_exchange_n(&t->c_mb_state, &expect,
		    PC_MB_CLAIMED, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			break;
		pc_mailbox_poll();
		pc_cpu_relax();
	}
	t->c_mb_fn = fn;
	t->c_mb_arg = arg;
	__atomic_store_n(&t->c_mb_state, PC_MB_POSTED, __ATOMIC_RELEASE);
	pc_send_ipi(1u << cpu, PC_VEC_WAKE);
}

void
pc_run_wait(int cpu)
{
	struct pc_cpu *t = run_target(cpu);
	uint64_t start = pc_uptime_us();
	bool warned = false;
	uint32_t st;

	if (cpu == pc_cpu_id())
		return;
	while ((st = __atomic_load_n(&t->c_mb_state, __ATOMIC_ACQUIRE)) !=
	    PC_MB_DONE) {
		if (st == PC_MB_FREE)
			return;         /* nothing outstanding */
		pc_mailbox_poll();
		pc_cpu_relax();
		if (!warned && pc_uptime_us() - start > RUN_WAIT_WARN_US) {
			pc_printf("# pc: cpu %d still waiting for cpu %d "
			    "(fn %p, state %u)\n", pc_cpu_id(), cpu,
			    (void *)t->c_mb_fn, st);
			warned = true;
		}
	}
	__atomic_store_n(&t->c_mb_state, PC_MB_FREE, __ATOMIC_RELEASE);
}

void
pc_run_on(int cpu, void (*fn)(void *), void *arg)
{
	pc_run_start(cpu, fn, arg);
	pc_run_wait(cpu);
}

void
pc_run_on_mask(uint32_t mask, void (*fn)(void *), void *arg)
{
	int me = pc_cpu_id(), n = pc_ncpus();

	for (int i = 0; i < n && i < 32; i++) {
		if ((mask & (1u << i)) && i != me)
			pc_run_start(i, fn, arg);
	}
	if (mask & (1u << me))
		fn(arg);
	for (int i = 0; i < n && i < 32; i++) {
		if ((mask & (1u << i)) && i != me)
			pc_run_wait(i);
	}
}
