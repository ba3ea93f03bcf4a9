// SPDX-License-Identifier: BSD-2-Clause
/*
 * lapic.c - local APIC (x2APIC or xAPIC), legacy PIC, TSC timekeeping.
 *
 * Mode: x2APIC (MSR interface) whenever CPUID.1:ECX.x2APIC says the CPU
 * has it, decided once on CPU 0 and applied by every CPU in
 * pc_lapic_init(); otherwise xAPIC through its MMIO page, mapped uncached
 * at PC_LAPIC_VA in the kernel half of the boot tables (not through the
 * direct map: a pmap that takes over builds its direct map from RAM only,
 * and must be able to map this one page at the same address,
 * pc_lapic_mmio_page()).
 *
 * Only what the platform needs is set up: software enable with the
 * spurious vector, TPR 0, LVT timer and error masked.  LINT0/LINT1 keep the
 * firmware's settings; the 8259 PICs are remapped to 0x20-0x2f (so their
 * spurious IRQ 7/15 cannot masquerade as exceptions) and fully masked.
 *
 * ICR writes are not atomic in xAPIC mode (high word, then low word) and
 * delivery must be idle first, so pc_lapic_send() disables interrupts
 * around the pair.
 *
 * Time: the TSC is calibrated against PIT channel 2 (10 ms, best of
 * three), which works the same under KVM and TCG.  pc_tsc_measure_hz
 * measures it again over a longer interval (the bench mode does, five
 * times 50 ms), and pc_tsc_cpuid reports what CPUID claims.
 */
#include "pc_internal.h"

bool pc_lapic_x2apic;
static volatile uint32_t *pc_lapic_mmio;
static uint64_t pc_lapic_pa;
static uint64_t pc_tsc_freq;

/* Register offsets as in the xAPIC MMIO page; x2APIC MSR = 0x800 + off/16. */
#define LAPIC_ID        0x020
#define LAPIC_VERSION   0x030
#define LAPIC_TPR       0x080
#define LAPIC_EOI       0x0b0
#define LAPIC_SVR       0x0f0
#define LAPIC_ESR       0x280
#define LAPIC_ICR_LO    0x300
#define LAPIC_ICR_HI    0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_SVR_ENABLE        0x100
#define LAPIC_LVT_MASKED        0x10000
#define LAPIC_ICR_PENDING       0x1000

static uint32_t
lapic_read(uint32_t reg)
{
	if (pc_lapic_x2apic)
		return (uint32_t)pc_rdmsr(0x800 + (reg >> 4));
	return pc_lapic_mmio[reg / 4];
}

static void
lapic_write(uint32_t reg, uint32_t v)
{
	if (pc_lapic_x2apic)
		pc_wrmsr(0x800 + (reg >> 4), v);
	else
		pc_lapic_mmio[reg / 4] = v;
}

void
pc_lapic_set_base(uint64_t pa)
{
	if (pa == 0 || pa == pc_lapic_pa)
		return;
	/* Boot CPU only, before the APs run: a local invalidation is enough. */
	if (pc_bootpt_enter(PC_LAPIC_VA, pa, PC_PTE_RW | PC_PTE_PCD |
	    PC_PTE_PWT) != 0)
		pc_panic("cannot map the local APIC at %#llx",
		    (unsigned long long)pa);
	pc_lapic_pa = pa;
	pc_lapic_mmio = (volatile uint32_t *)(uintptr_t)PC_LAPIC_VA;
}

bool
pc_lapic_mmio_page(uint64_t *va, uint64_t *pa)
{
	if (pc_lapic_x2apic || pc_lapic_mmio == NULL)
		return false;
	*va = PC_LAPIC_VA;
	*pa = pc_lapic_pa;
	return true;
}

void
pc_lapic_init(void)
{
	uint64_t base = pc_rdmsr(PC_MSR_APIC_BASE);

	if (pc_cpu_id() == 0)
		pc_lapic_x2apic = pc_cpu_features()->cf_x2apic;
	if (pc_lapic_x2apic) {
		/* xAPIC -> x2APIC must go through "enabled" first. */
		base |= PC_MSR_APIC_BASE_EN;
		pc_wrmsr(PC_MSR_APIC_BASE, base);
		base |= PC_MSR_APIC_BASE_EXTD;
		pc_wrmsr(PC_MSR_APIC_BASE, base);
	} else {
		base |= PC_MSR_APIC_BASE_EN;
		pc_wrmsr(PC_MSR_APIC_BASE, base);
		if (pc_lapic_mmio == NULL)
			pc_lapic_set_base(base & PC_PTE_FRAME);
	}
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_LVT_ERROR, LAPIC_LVT_MASKED);
	if (!pc_lapic_x2apic) {
		lapic_write(LAPIC_ESR, 0);      /* ESR needs back-to-back */
		lapic_write(LAPIC_ESR, 0);
	}
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | PC_VEC_SPURIOUS);
	lapic_write(LAPIC_EOI, 0);
}

uint32_t
pc_lapic_id(void)
{
	uint32_t id = lapic_read(LAPIC_ID);

	return pc_lapic_x2apic ? id : id >> 24;
}

void
pc_lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

void
pc_lapic_send(uint32_t apic_id, uint32_t icr_low)
{
	pc_intr_state_t s = pc_intr_disable();

	if (pc_lapic_x2apic) {
		pc_wrmsr(0x800 + (LAPIC_ICR_LO >> 4),
		    ((uint64_t)apic_id << 32) | icr_low);
	} else {
		while (lapic_read(LAPIC_ICR_LO) & LAPIC_ICR_PENDING)
			pc_cpu_relax();
		lapic_write(LAPIC_ICR_HI, apic_id << 24);
		lapic_write(LAPIC_ICR_LO, icr_low);
	}
	pc_intr_restore(s);
}

void
pc_send_ipi(uint32_t cpumask, int vector)
{
	int n = pc_ncpus();

	PC_ASSERT(vector >= 0x20 && vector <= 0xff);
	for (int i = 0; i < n && i < 32; i++) {
		if (cpumask & (1u << i))
			pc_lapic_send(pc_cpus[i].c_pub.pcpu_apic_id,
			    PC_ICR_FIXED | (uint32_t)vector);
	}
}

/* ---------------------------------------------------------------------
 * 8259 PIC.
 * --------------------------------------------------------------------- */
void
pc_pic_disable(void)
{
	pc_outb(0x20, 0x11);            /* ICW1: init, ICW4 follows */
	pc_outb(0xa0, 0x11);
	pc_outb(0x21, 0x20);            /* ICW2: vector bases */
	pc_outb(0xa1, 0x28);
	pc_outb(0x21, 0x04);            /* ICW3: slave on IRQ 2 */
	pc_outb(0xa1, 0x02);
	pc_outb(0x21, 0x01);            /* ICW4: 8086 mode */
	pc_outb(0xa1, 0x01);
	pc_outb(0x21, 0xff);            /* mask everything */
	pc_outb(0xa1, 0xff);
}

/* ---------------------------------------------------------------------
 * TSC.
 * --------------------------------------------------------------------- */
uint64_t
pc_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

#define PIT_HZ          1193182u
#define PIT_CAL_COUNT   11932u          /* 10 ms */

/* TSC ticks per second, from the TSC ticks PIT channel 2 takes to count
 * `count` of its 1.193182 MHz periods down (mode 0, gate on, speaker
 * off); 0 if it never finishes (no PIT). */
static uint64_t
tsc_measure_once(uint32_t count)
{
	uint8_t p61 = pc_inb(0x61);
	uint64_t t0, t1;
	uint32_t spins = 0;

	pc_outb(0x61, (uint8_t)((p61 & ~0x02) | 0x01)); /* gate on, no spkr */
	pc_outb(0x43, 0xb0);            /* ch 2, lo/hi, mode 0, binary */
	pc_outb(0x42, count & 0xff);
	pc_outb(0x42, (count >> 8) & 0xff);
	t0 = pc_rdtsc();
	while ((pc_inb(0x61) & 0x20) == 0) {
		if (++spins > 100000000u) {
			pc_outb(0x61, p61);
			return 0;       /* no PIT */
		}
	}
	t1 = pc_rdtsc();
	pc_outb(0x61, p61);
	return (t1 - t0) * PIT_HZ / count;
}

void
pc_tsc_calibrate(void)
{
	uint64_t best = 0;

	for (int i = 0; i < 3; i++) {
		uint64_t hz = tsc_measure_once(PIT_CAL_COUNT);

		if (hz != 0 && (best == 0 || hz < best))
			best = hz;
	}
	if (best == 0) {
		pc_printf("# pc: PIT calibration failed, assuming 1 GHz TSC\n");
		best = 1000000000ull;
	}
	pc_tsc_freq = best;
}

uint64_t
pc_tsc_hz(void)
{
	return pc_tsc_freq;
}

uint64_t
pc_tsc_measure_hz(uint32_t us)
{
	uint64_t count = (uint64_t)us * PIT_HZ / 1000000;
	pc_intr_state_t s;
	uint64_t hz;

	if (count < 1)
		count = 1;
	if (count > 0xffff)
		count = 0xffff;         /* the counter's 16 bits: 54.9 ms */
	s = pc_intr_disable();
	hz = tsc_measure_once((uint32_t)count);
	pc_intr_restore(s);
	return hz;
}

void
pc_tsc_cpuid(struct pc_tsc_cpuid *tc)
{
	const struct pc_cpu_features *f = pc_cpu_features();
	uint32_t r[4];

	tc->tc_leaf15_hz = tc->tc_leaf16_hz = tc->tc_hv_hz = 0;
	pc_cpuid(0, 0, r);
	if (r[0] >= 0x15) {
		/* eax/ebx = TSC / crystal; ecx = crystal Hz (0: not given) */
		pc_cpuid(0x15, 0, r);
		if (r[0] != 0 && r[1] != 0 && r[2] != 0)
			tc->tc_leaf15_hz = (uint64_t)r[2] * r[1] / r[0];
	}
	pc_cpuid(0, 0, r);
	if (r[0] >= 0x16) {
		pc_cpuid(0x16, 0, r);   /* eax = base frequency, MHz */
		tc->tc_leaf16_hz = (uint64_t)(r[0] & 0xffff) * 1000000;
	}
	if (f->cf_hypervisor) {
		/* The hypervisors' timing leaf (VMware's, which KVM and QEMU
		 * offer too): eax = TSC kHz. */
		pc_cpuid(0x40000000, 0, r);
		if (r[0] >= 0x40000010) {
			pc_cpuid(0x40000010, 0, r);
			tc->tc_hv_hz = (uint64_t)r[0] * 1000;
		}
	}
}

static uint64_t
tsc_to_us(uint64_t ticks)
{
	uint64_t hz = pc_tsc_freq ? pc_tsc_freq : 1000000000ull;

	return ticks / hz * 1000000 + ticks % hz * 1000000 / hz;
}

uint64_t
pc_uptime_us(void)
{
	return tsc_to_us(pc_rdtsc() - pc_boot_tsc);
}

void
pc_udelay(uint64_t us)
{
	uint64_t hz = pc_tsc_freq ? pc_tsc_freq : 1000000000ull;
	uint64_t end = pc_rdtsc() + us * (hz / 1000000);

	while ((int64_t)(pc_rdtsc() - end) < 0)
		pc_cpu_relax();
}
