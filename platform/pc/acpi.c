// SPDX-License-Identifier: BSD-2-Clause
/*
 * acpi.c - just enough ACPI to enumerate CPUs: RSDP -> RSDT/XSDT -> MADT.
 *
 * The RSDP is searched where the ACPI spec says firmware puts it on a
 * BIOS machine: the first KiB of the EBDA (segment at 0x40e) and the BIOS
 * area 0xe0000-0xfffff, on 16-byte boundaries.  Every table's checksum is
 * verified.  Tables are copied out of physical memory a page at a time
 * (pc_phys_map), as the kernel of either arch can reach it.
 *
 * The MADT's processor entries (type 0, local APIC, and type 9, x2APIC)
 * with the "enabled" flag are returned in table order, which is the order
 * in which CPUs get their logical ids (CPU 0 is always the boot CPU).
 * Online-capable but disabled entries (hot-plug slots) are skipped.
 */
#include "pc_internal.h"

struct acpi_rsdp {
	char rsdp_sig[8];               /* "RSD PTR " */
	uint8_t rsdp_cksum;
	char rsdp_oem[6];
	uint8_t rsdp_rev;
	uint32_t rsdp_rsdt;
	uint32_t rsdp_len;              /* rev >= 2 from here on */
	uint64_t rsdp_xsdt;
	uint8_t rsdp_xcksum;
	uint8_t rsdp_reserved[3];
} PC_PACKED;

struct acpi_sdt {
	char sdt_sig[4];
	uint32_t sdt_len;
	uint8_t sdt_rev;
	uint8_t sdt_cksum;
	char sdt_oem[6];
	char sdt_oem_table[8];
	uint32_t sdt_oem_rev;
	uint32_t sdt_creator;
	uint32_t sdt_creator_rev;
} PC_PACKED;

struct acpi_madt {
	struct acpi_sdt madt_hdr;
	uint32_t madt_lapic_addr;
	uint32_t madt_flags;
} PC_PACKED;

#define MADT_LAPIC              0
#define MADT_LAPIC_OVERRIDE     5
#define MADT_X2APIC             9
#define MADT_ENABLED            1

static bool
checksum_ok(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + b[i]);
	return sum == 0;
}

/* Copy [pa, pa + len) out of physical memory, a page at a time. */
static void
phys_copy_in(void *dst, uint64_t pa, size_t len)
{
	uint8_t *d = dst;

	while (len > 0) {
		size_t n = PC_MIN(len, PC_PAGE_SIZE - (size_t)(pa & (PC_PAGE_SIZE - 1)));
		const void *p = pc_phys_map(pa, n);

		memcpy(d, p, n);
		pc_phys_unmap((void *)(uintptr_t)p, n);
		d += n;
		pa += n;
		len -= n;
	}
}

static bool
rsdp_scan(uint64_t start, uint64_t end, struct acpi_rsdp *out)
{
	for (uint64_t pa = start; pa + sizeof(struct acpi_rsdp) <= end;
	    pa += 16) {
		phys_copy_in(out, pa, sizeof(*out));
		if (memcmp(out->rsdp_sig, "RSD PTR ", 8) == 0 &&
		    checksum_ok(out, 20))
			return true;
	}
	return false;
}

/* Tables are copied into these (they are read once, at boot, on CPU 0). */
#define ACPI_TABLE_MAX  16384
static uint8_t acpi_root[ACPI_TABLE_MAX] PC_ALIGNED(8);
static uint8_t acpi_table[ACPI_TABLE_MAX] PC_ALIGNED(8);

/* The table at pa, copied into buf, if its header and checksum are sane
 * and it fits (and, with sig, has that signature); else NULL. */
static const struct acpi_sdt *
sdt_at(uint64_t pa, uint8_t *buf, const char *sig)
{
	struct acpi_sdt h;
	uint64_t top = pc_mem_highest_ram();

	if (pa == 0 || pa + sizeof(h) > PC_MAX(top, 0x100000000ULL))
		return NULL;
	phys_copy_in(&h, pa, sizeof(h));
	if (h.sdt_len < sizeof(h) || h.sdt_len > ACPI_TABLE_MAX ||
	    (sig != NULL && memcmp(h.sdt_sig, sig, 4) != 0))
		return NULL;
	phys_copy_in(buf, pa, h.sdt_len);
	if (!checksum_ok(buf, h.sdt_len))
		return NULL;
	return (const struct acpi_sdt *)buf;
}

static const struct acpi_sdt *
find_table(const char sig[4])
{
	struct acpi_rsdp rsdp;
	const struct acpi_sdt *root;
	uint16_t ebda_seg;
	bool xsdt;
	size_t n, esz;

	phys_copy_in(&ebda_seg, 0x40e, sizeof(ebda_seg));
	if (!rsdp_scan((uint64_t)ebda_seg << 4, ((uint64_t)ebda_seg << 4) + 1024,
	    &rsdp) && !rsdp_scan(0xe0000, 0x100000, &rsdp))
		return NULL;
	xsdt = rsdp.rsdp_rev >= 2 && rsdp.rsdp_xsdt != 0 &&
	    rsdp.rsdp_len <= sizeof(rsdp) && checksum_ok(&rsdp, rsdp.rsdp_len);
	root = sdt_at(xsdt ? rsdp.rsdp_xsdt : rsdp.rsdp_rsdt, acpi_root, NULL);
	if (root == NULL)
		return NULL;
	esz = xsdt ? 8 : 4;
	n = (root->sdt_len - sizeof(*root)) / esz;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *ep = (const uint8_t *)(root + 1) + i * esz;
		uint64_t pa = 0;
		const struct acpi_sdt *t;

		memcpy(&pa, ep, esz);
		t = sdt_at(pa, acpi_table, sig);
		if (t != NULL)
			return t;
	}
	return NULL;
}

int
pc_acpi_find_cpus(struct pc_acpi_cpu *out, int max, uint64_t *lapic_pa)
{
	const struct acpi_madt *madt =
	    (const struct acpi_madt *)find_table("APIC");
	const uint8_t *p, *end;
	int n = 0;

	if (madt == NULL)
		return -1;
	*lapic_pa = madt->madt_lapic_addr;
	p = (const uint8_t *)(madt + 1);
	end = (const uint8_t *)madt + madt->madt_hdr.sdt_len;
	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		uint32_t flags, apic, uid;

		switch (p[0]) {
		case MADT_LAPIC:
			memcpy(&flags, p + 4, 4);
			apic = p[3];
			uid = p[2];
			if ((flags & MADT_ENABLED) && n < max) {
				out[n].ac_apic_id = apic;
				out[n].ac_uid = uid;
				n++;
			}
			break;
		case MADT_X2APIC:
			memcpy(&apic, p + 4, 4);
			memcpy(&flags, p + 8, 4);
			memcpy(&uid, p + 12, 4);
			if ((flags & MADT_ENABLED) && n < max) {
				out[n].ac_apic_id = apic;
				out[n].ac_uid = uid;
				n++;
			}
			break;
		case MADT_LAPIC_OVERRIDE:
			memcpy(lapic_pa, p + 4, 8);
			break;
		default:
			break;
		}
		p += p[1];
	}
	return n;
}
