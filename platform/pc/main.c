// SPDX-License-Identifier: BSD-2-Clause
/*
 * main.c - boot sequence of CPU 0, from boot.S to pc_main().
 *
 * Order matters; each step may rely only on the ones before it:
 *   1. per-CPU record, IDT, GDT/TSS, GS base   (exceptions now print a dump
 *                                               once the console is up)
 *   2. console                                 (pc_printf, pc_panic)
 *   3. CPUID
 *   4. memory: multiboot map, allocator, final direct map
 *   5. PIC off, TSC calibration, local APIC    (pc_udelay, IPIs)
 *   6. APs via ACPI MADT (needs the identity map and the allocator)
 *   7. interrupts on; identity map dropped on all CPUs; user region mapped
 *   8. pc_main(); its result becomes the QEMU exit status
 * Everything the boot path prints is a TAP comment ("# pc: ...").
 */
#include "pc_internal.h"

uint64_t pc_boot_tsc;

void pc_boot_main(uint32_t magic, uint32_t mbi_pa);

static void
print_summary(void)
{
	const struct pc_cpu_features *f = pc_cpu_features();
	const struct pc_mem_range *r;
	struct pc_image_layout il;
	uint64_t total, nfree;
	int n = pc_mem_ranges(&r);

	pc_printf("# pc: %s, cpu %s%s%s, features: pcid=%d invpcid=%d smep=%d "
	    "smap=%d pdpe1gb=%d nx=%d x2apic=%d pge=%d pse=%d umip=%d la57=%d "
	    "maxphyaddr=%u maxlinaddr=%u\n", PC_ARCH_NAME,
	    f->cf_vendor, f->cf_hypervisor ? ", hypervisor " : "",
	    f->cf_hv_vendor, f->cf_pcid, f->cf_invpcid, f->cf_smep, f->cf_smap,
	    f->cf_pdpe1gb, f->cf_nx, f->cf_x2apic, f->cf_pge, f->cf_pse, f->cf_umip,
	    f->cf_la57, f->cf_maxphyaddr, f->cf_maxlinaddr);
	pc_printf("# pc: %d of %d CPUs online, %s, TSC %llu MHz\n",
	    pc_ncpus(), pc_madt_ncpus, pc_lapic_x2apic ? "x2APIC" : "xAPIC",
	    (unsigned long long)(pc_tsc_hz() / 1000000));
	for (int i = 0; i < n; i++)
		pc_printf("# pc: RAM [0x%09llx, 0x%09llx) %llu KiB\n",
		    (unsigned long long)r[i].mr_start,
		    (unsigned long long)r[i].mr_end,
		    (unsigned long long)((r[i].mr_end - r[i].mr_start) / 1024));
	pc_page_counts(&total, &nfree);
	pc_image_layout(&il);
	pc_printf("# pc: kernel image [%#llx, %#llx) phys, %llu KiB; page "
	    "allocator %llu frames (%llu free)\n",
	    (unsigned long long)il.il_phys_start,
	    (unsigned long long)il.il_phys_end,
	    (unsigned long long)((il.il_phys_end - il.il_phys_start) / 1024),
	    (unsigned long long)total, (unsigned long long)nfree);
	pc_md_mem_summary();
	if (pc_cmdline()[0] != '\0')
		pc_printf("# pc: command line \"%s\"\n", pc_cmdline());
	pc_printf("# pc: boot took %llu ms\n",
	    (unsigned long long)(pc_uptime_us() / 1000));
}

void
pc_boot_main(uint32_t magic, uint32_t mbi_pa)
{
	struct pc_cpu *bsp = &pc_cpus[0];
	int r;

	pc_boot_tsc = pc_rdtsc();
	pc_cpu_early_init(bsp, 0);
	pc_idt_init();
	pc_cpu_load_tables(bsp);
	pc_cons_init();
	pc_printf("\n# pc: libpmap bare-metal kernel (platform/pc)\n");
	if (magic != 0x2badb002)
		pc_panic("not started by a multiboot loader (eax %#x)", magic);

	pc_cpu_detect_features();
	pc_mem_init(mbi_pa);
	pc_pic_disable();
	pc_tsc_calibrate();
	pc_lapic_init();
	pc_smp_start_aps();

	__asm__ __volatile__("sti" ::: "memory");
	pc_mem_drop_identity();
	pc_tlb_flush_all_cpus();
	pc_mem_setup_user_region();
	print_summary();

	r = pc_main();
	pc_exit_status(r == 0 ? PC_EXIT_PASS : PC_EXIT_TESTS_FAILED);
}
