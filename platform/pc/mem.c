// SPDX-License-Identifier: BSD-2-Clause
/*
 * mem.c - physical memory: the multiboot memory map and the page-frame
 * allocator.  How physical memory is reached (the direct map on amd64, the
 * kernel window and per-CPU windows on i386) and the boot page tables are
 * the arch's: <arch>/mem_md.c.
 *
 * Boot sequence (pc_mem_init, CPU 0 only, before any other CPU runs):
 *  1. Copy what we need out of the multiboot information (memory map,
 *     command line, extents of the loader's data) while the boot tables
 *     reach it; nothing reads the multiboot data afterwards, so its memory
 *     may be reused.
 *  2. Usable RAM = type-1 map entries, clipped to whole pages, sorted and
 *     merged (pc_mem_ranges).  The allocator manages the part above
 *     max(1 MiB, end of the kernel image, end of the loader's data)
 *     (pc_page_ranges), minus the pages its own bitmap occupies.
 *  3. The arch's part (pc_md_mem_init): on amd64 the final direct map.
 *
 * Allocator: one bit per 4 KiB frame below the highest managed address,
 * 1 = free.  Allocation is next-fit from a moving hint under a spin lock
 * (taken with interrupts disabled, so any context may allocate): upwards
 * from the bottom on amd64, downwards from the top on i386
 * (PC_ALLOC_TOP_DOWN), where that puts every page table and pv chunk the
 * library allocates above the 1 GiB of kernel address space.  Contiguous
 * runs (pc_page_alloc_contig) are first-fit from the bottom.  Freeing
 * checks that the frame is managed and currently allocated, which catches
 * double frees.  Contents of frames are never touched by the allocator.
 */
#include "pc_internal.h"

/* Multiboot (version 1) information, the parts we read. */
struct pc_multiboot_info {
	uint32_t mbi_flags;
	uint32_t mbi_mem_lower, mbi_mem_upper;
	uint32_t mbi_boot_device;
	uint32_t mbi_cmdline;
	uint32_t mbi_mods_count, mbi_mods_addr;
	uint32_t mbi_syms[4];
	uint32_t mbi_mmap_length, mbi_mmap_addr;
} PC_PACKED;

struct pc_multiboot_mmap {
	uint32_t mm_size;               /* of the rest of this entry */
	uint64_t mm_addr;
	uint64_t mm_len;
	uint32_t mm_type;
} PC_PACKED;

struct pc_multiboot_mod {
	uint32_t mod_start, mod_end, mod_cmdline, mod_reserved;
} PC_PACKED;

#define MBI_FLAG_CMDLINE    (1u << 2)
#define MBI_FLAG_MODS       (1u << 3)
#define MBI_FLAG_MMAP       (1u << 6)

#define MMAP_RAM            1
#define MMAP_ACPI_RECLAIM   3
#define MMAP_ACPI_NVS       4

#define PC_MAX_MAP          64
#define FOUR_GIB            0x100000000ULL
#define ONE_MIB             0x100000ULL

struct pc_map_entry {
	uint64_t me_start, me_end;
	uint32_t me_type;
};

static struct pc_map_entry pc_map[PC_MAX_MAP];  /* raw memory map */
static int pc_map_n;
static struct pc_mem_range pc_ram[PC_MAX_MAP];  /* usable RAM */
static int pc_ram_n;
static struct pc_mem_range pc_managed[PC_MAX_MAP];
static int pc_managed_n;
static char pc_cmdline_buf[256];

static pc_spinlock_t pc_page_lock = PC_SPINLOCK_INIT;
static uint64_t *pc_page_bitmap;        /* bit set = frame free */
static uint64_t pc_page_nwords;
static uint64_t pc_page_total, pc_page_nfree, pc_page_hint;


extern char pc_image_start[], pc_image_end[];
extern char pc_text_start[], pc_text_end[];
extern char pc_rodata_start[], pc_rodata_end[];
extern char pc_data_start[], pc_data_end[];
extern char pc_bss_start[], pc_bss_end[];

static inline uint64_t
image_pa(const void *kva)
{
	return (uint64_t)(uintptr_t)kva - (uint64_t)PC_KERNEL_VMA;
}

/* ---------------------------------------------------------------------
 * Memory map.
 * --------------------------------------------------------------------- */
static void
ranges_sort_merge(struct pc_mem_range *r, int *np)
{
	int n = *np, out = 0;

	for (int i = 1; i < n; i++) {           /* insertion sort, n small */
		struct pc_mem_range t = r[i];
		int j = i - 1;

		while (j >= 0 && r[j].mr_start > t.mr_start) {
			r[j + 1] = r[j];
			j--;
		}
		r[j + 1] = t;
	}
	for (int i = 0; i < n; i++) {
		if (r[i].mr_start >= r[i].mr_end)
			continue;
		if (out > 0 && r[i].mr_start <= r[out - 1].mr_end) {
			r[out - 1].mr_end = PC_MAX(r[out - 1].mr_end, r[i].mr_end);
			continue;
		}
		r[out++] = r[i];
	}
	*np = out;
}

static uint64_t
parse_multiboot(uint32_t mbi_pa)
{
	const struct pc_multiboot_info *mbi = pc_phys_permanent(mbi_pa, sizeof(*mbi));
	uint64_t loader_end = mbi_pa + sizeof(*mbi);

	if (mbi == NULL)
		pc_panic("multiboot information at %#x is out of reach", mbi_pa);
	if (!(mbi->mbi_flags & MBI_FLAG_MMAP))
		pc_panic("multiboot: no memory map (flags %#x)", mbi->mbi_flags);

	for (uint32_t off = 0; off + 4 <= mbi->mbi_mmap_length;) {
		const struct pc_multiboot_mmap *e =
		    pc_phys_permanent(mbi->mbi_mmap_addr + off, sizeof(*e));

		if (pc_map_n < PC_MAX_MAP) {
			pc_map[pc_map_n].me_start = e->mm_addr;
			pc_map[pc_map_n].me_end = e->mm_addr + e->mm_len;
			pc_map[pc_map_n].me_type = e->mm_type;
			pc_map_n++;
		}
		off += e->mm_size + 4;
	}
	loader_end = PC_MAX(loader_end,
	    (uint64_t)mbi->mbi_mmap_addr + mbi->mbi_mmap_length);

	if (mbi->mbi_flags & MBI_FLAG_CMDLINE) {
		const char *s = pc_phys_permanent(mbi->mbi_cmdline, 4096);
		size_t len = strnlen(s, 4096);

		loader_end = PC_MAX(loader_end, mbi->mbi_cmdline + len + 1);
		/* The loader puts the kernel's own name first; drop it. */
		while (*s != '\0' && *s != ' ')
			s++;
		while (*s == ' ')
			s++;
		len = strnlen(s, sizeof(pc_cmdline_buf) - 1);
		memcpy(pc_cmdline_buf, s, len);
		pc_cmdline_buf[len] = '\0';
	}
	if (mbi->mbi_flags & MBI_FLAG_MODS) {
		const struct pc_multiboot_mod *m = pc_phys_permanent(
		    mbi->mbi_mods_addr, mbi->mbi_mods_count * sizeof(*m));

		loader_end = PC_MAX(loader_end, (uint64_t)mbi->mbi_mods_addr +
		    mbi->mbi_mods_count * sizeof(*m));
		for (uint32_t i = 0; i < mbi->mbi_mods_count; i++)
			loader_end = PC_MAX(loader_end, (uint64_t)m[i].mod_end);
	}
	return loader_end;
}

const char *
pc_cmdline(void)
{
	return pc_cmdline_buf;
}

int
pc_mem_ranges(const struct pc_mem_range **rp)
{
	*rp = pc_ram;
	return pc_ram_n;
}

int
pc_page_ranges(const struct pc_mem_range **rp)
{
	*rp = pc_managed;
	return pc_managed_n;
}

uint64_t
pc_mem_highest_ram(void)
{
	return pc_ram_n > 0 ? pc_ram[pc_ram_n - 1].mr_end : 0;
}

bool
pc_mem_has_ram(uint64_t start, uint64_t end)
{
	for (int i = 0; i < pc_map_n; i++) {
		const struct pc_map_entry *e = &pc_map[i];

		if (e->me_type != MMAP_RAM && e->me_type != MMAP_ACPI_RECLAIM &&
		    e->me_type != MMAP_ACPI_NVS)
			continue;
		if (e->me_start < end && start < e->me_end)
			return true;
	}
	return false;
}

/* ---------------------------------------------------------------------
 * Page-frame allocator.
 * --------------------------------------------------------------------- */
static bool
bit_get(uint64_t frame)
{
	return (pc_page_bitmap[frame / 64] >> (frame % 64)) & 1;
}

static void
bit_set(uint64_t frame, bool v)
{
	if (v)
		pc_page_bitmap[frame / 64] |= 1ULL << (frame % 64);
	else
		pc_page_bitmap[frame / 64] &= ~(1ULL << (frame % 64));
}

bool
pc_page_managed_p(uint64_t pa)
{
	for (int i = 0; i < pc_managed_n; i++) {
		if (pa >= pc_managed[i].mr_start && pa < pc_managed[i].mr_end)
			return true;
	}
	return false;
}

bool
pc_page_free_p(uint64_t pa)
{
	return pc_page_managed_p(pa) && bit_get(pa / PC_PAGE_SIZE);
}

int
pc_page_alloc(uint64_t *pa)
{
	pc_intr_state_t s = pc_intr_disable();
	int r = -1;

	pc_spin_lock(&pc_page_lock);
	for (uint64_t n = 0; n <= pc_page_nwords; n++) {
		uint64_t w = PC_ALLOC_TOP_DOWN ?
		    (pc_page_hint + pc_page_nwords - n) % pc_page_nwords :
		    (pc_page_hint + n) % pc_page_nwords;

		if (pc_page_bitmap[w] != 0) {
			uint64_t frame = w * 64 + (uint64_t)(PC_ALLOC_TOP_DOWN ?
			    63 - __builtin_clzll(pc_page_bitmap[w]) :
			    __builtin_ctzll(pc_page_bitmap[w]));

			bit_set(frame, false);
			pc_page_nfree--;
			pc_page_hint = w;
			*pa = frame * PC_PAGE_SIZE;
			r = 0;
			break;
		}
	}
	pc_spin_unlock(&pc_page_lock);
	pc_intr_restore(s);
	return r;
}

void
pc_page_free(uint64_t pa)
{
	pc_intr_state_t s;

	if ((pa & (PC_PAGE_SIZE - 1)) != 0 || !pc_page_managed_p(pa))
		pc_panic("pc_page_free: pa %#llx is not a managed frame",
		    (unsigned long long)pa);
	s = pc_intr_disable();
	pc_spin_lock(&pc_page_lock);
	if (bit_get(pa / PC_PAGE_SIZE)) {
		pc_spin_unlock(&pc_page_lock);
		pc_intr_restore(s);
		pc_panic("pc_page_free: pa %#llx freed twice",
		    (unsigned long long)pa);
	}
	bit_set(pa / PC_PAGE_SIZE, true);
	pc_page_nfree++;
	pc_spin_unlock(&pc_page_lock);
	pc_intr_restore(s);
}

int
pc_page_alloc_contig(uint64_t npages, uint64_t *pa)
{
	pc_intr_state_t s;
	int r = -1;

	if (npages == 0)
		return -1;
	s = pc_intr_disable();
	pc_spin_lock(&pc_page_lock);
	for (int i = 0; i < pc_managed_n && r != 0; i++) {
		uint64_t f = pc_managed[i].mr_start / PC_PAGE_SIZE;
		uint64_t fend = pc_managed[i].mr_end / PC_PAGE_SIZE;
		uint64_t run = 0;

		for (; f < fend; f++) {
			run = bit_get(f) ? run + 1 : 0;
			if (run == npages) {
				uint64_t first = f + 1 - npages;

				for (uint64_t g = first; g <= f; g++)
					bit_set(g, false);
				pc_page_nfree -= npages;
				*pa = first * PC_PAGE_SIZE;
				r = 0;
				break;
			}
		}
	}
	pc_spin_unlock(&pc_page_lock);
	pc_intr_restore(s);
	return r;
}

void
pc_page_counts(uint64_t *total, uint64_t *nfree)
{
	if (total != NULL)
		*total = pc_page_total;
	if (nfree != NULL)
		*nfree = __atomic_load_n(&pc_page_nfree, __ATOMIC_RELAXED);
}

uint64_t
pc_mem_alloc_table(void)
{
	uint64_t pa;
	void *p;

	if (pc_page_alloc(&pa) != 0)
		return 0;
	p = pc_phys_map(pa, PC_PAGE_SIZE);
	memset(p, 0, PC_PAGE_SIZE);
	pc_phys_unmap(p, PC_PAGE_SIZE);
	return pa;
}

static void
allocator_init(uint64_t floor)
{
	uint64_t top, bytes;
	int i;

	for (i = 0; i < pc_ram_n; i++) {
		uint64_t s = PC_MAX(pc_ram[i].mr_start, floor);
		uint64_t e = PC_MIN(pc_ram[i].mr_end, PC_PHYS_LIMIT);

		if (s < e) {
			pc_managed[pc_managed_n].mr_start = s;
			pc_managed[pc_managed_n].mr_end = e;
			pc_managed_n++;
		}
	}
	if (pc_managed_n == 0)
		pc_panic("no usable RAM above %#llx", (unsigned long long)floor);
	top = pc_managed[pc_managed_n - 1].mr_end;
	pc_page_nwords = PC_ROUNDUP(top / PC_PAGE_SIZE, 64) / 64;
	bytes = PC_ROUNDUP(pc_page_nwords * 8, PC_PAGE_SIZE);

	/* The bitmap takes the first pages of the first range that holds it
	 * and that is mapped for good (the boot direct map, the kernel
	 * window). */
	for (i = 0; i < pc_managed_n; i++) {
		struct pc_mem_range *r = &pc_managed[i];

		if (r->mr_end - r->mr_start > bytes &&
		    (pc_page_bitmap = pc_phys_permanent(r->mr_start, bytes)) != NULL) {
			r->mr_start += bytes;
			break;
		}
	}
	if (pc_page_bitmap == NULL)
		pc_panic("no room for the page bitmap (%llu bytes)",
		    (unsigned long long)bytes);
	memset(pc_page_bitmap, 0, bytes);
	for (i = 0; i < pc_managed_n; i++) {
		uint64_t f = pc_managed[i].mr_start / PC_PAGE_SIZE;
		uint64_t fend = pc_managed[i].mr_end / PC_PAGE_SIZE;

		pc_page_total += fend - f;
		/* Bit by bit up to a word boundary, then whole words. */
		for (; f < fend && (f % 64) != 0; f++)
			bit_set(f, true);
		for (; f + 64 <= fend; f += 64)
			pc_page_bitmap[f / 64] = ~0ULL;
		for (; f < fend; f++)
			bit_set(f, true);
	}
	pc_page_nfree = pc_page_total;
	pc_page_hint = PC_ALLOC_TOP_DOWN ? pc_page_nwords - 1 :
	    pc_managed[0].mr_start / PC_PAGE_SIZE / 64;
}

void
pc_mem_init(uint32_t mbi_pa)
{
	uint64_t loader_end, floor;

	loader_end = parse_multiboot(mbi_pa);
	for (int i = 0; i < pc_map_n; i++) {
		if (pc_map[i].me_type != MMAP_RAM)
			continue;
		pc_ram[pc_ram_n].mr_start =
		    PC_ROUNDUP(pc_map[i].me_start, PC_PAGE_SIZE);
		pc_ram[pc_ram_n].mr_end =
		    PC_ROUNDDOWN(pc_map[i].me_end, PC_PAGE_SIZE);
		pc_ram_n++;
	}
	ranges_sort_merge(pc_ram, &pc_ram_n);

	floor = PC_MAX(ONE_MIB, image_pa(pc_image_end));
	floor = PC_ROUNDUP(PC_MAX(floor, loader_end), PC_PAGE_SIZE);
	allocator_init(floor);
	pc_md_mem_init();
}

/* ---------------------------------------------------------------------
 * Boot page-table editors: the locking and the entry; the walk is the
 * arch's (pc_md_bootpt_walk).
 * --------------------------------------------------------------------- */
static pc_spinlock_t pc_bootpt_lock = PC_SPINLOCK_INIT;

int
pc_bootpt_enter(uint64_t va, uint64_t pa, uint64_t bits)
{
	pc_intr_state_t s;
	pc_pte_t *pte;

	if ((pa & ~PC_PTE_FRAME) != 0)
		return -1;
	s = pc_intr_disable();
	pc_spin_lock(&pc_bootpt_lock);
	pte = pc_md_bootpt_walk(va, true, bits);
	if (pte != NULL) {
		*(volatile pc_pte_t *)pte = (pc_pte_t)((pa & PC_PTE_FRAME) |
		    (bits & ~PC_PTE_FRAME) | PC_PTE_P);
		pc_invlpg(va);
	}
	pc_spin_unlock(&pc_bootpt_lock);
	pc_intr_restore(s);
	return pte != NULL ? 0 : -1;
}

uint64_t
pc_bootpt_remove(uint64_t va)
{
	pc_intr_state_t s;
	pc_pte_t *pte;
	uint64_t old = 0;

	s = pc_intr_disable();
	pc_spin_lock(&pc_bootpt_lock);
	pte = pc_md_bootpt_walk(va, false, 0);
	if (pte != NULL) {
		old = *(volatile pc_pte_t *)pte;
		*(volatile pc_pte_t *)pte = 0;
		pc_invlpg(va);
	}
	pc_spin_unlock(&pc_bootpt_lock);
	pc_intr_restore(s);
	return old;
}

/* The user region (pc_layout.h): the stub page and one ring-3 stack page
 * per CPU, in .bss (so reachable at their image addresses too, and the
 * stacks physically contiguous), mapped at their user VAs with U/S. */
static uint8_t pc_user_code[PC_PAGE_SIZE] PC_ALIGNED(4096);
static uint8_t pc_user_stacks[PC_MAX_CPUS][PC_PAGE_SIZE] PC_ALIGNED(4096);

void
pc_mem_setup_user_region(void)
{
	struct pc_user_region ur;
	size_t len = (size_t)(pc_ustub_end - pc_ustub_start);

	PC_ASSERT(len <= PC_PAGE_SIZE);
	memset(pc_user_code, 0xcc, PC_PAGE_SIZE);       /* int3 */
	memcpy(pc_user_code, pc_ustub_start, len);
	ur.ur_code_va = PC_USER_CODE_VA;
	ur.ur_code_pa = image_pa(pc_user_code);
	ur.ur_stack_va = PC_USER_STACK_VA;
	ur.ur_stack_pa = image_pa(pc_user_stacks);
	ur.ur_stack_size = sizeof(pc_user_stacks);
	if (pc_bootpt_enter(ur.ur_code_va, ur.ur_code_pa, PC_PTE_US) != 0)
		pc_panic("cannot map the user region");
	for (uint64_t off = 0; off < ur.ur_stack_size; off += PC_PAGE_SIZE) {
		if (pc_bootpt_enter(ur.ur_stack_va + off, ur.ur_stack_pa + off,
		    PC_PTE_US | PC_PTE_RW) != 0)
			pc_panic("cannot map the user stacks");
	}
	pc_probe_user_init(&ur);
}

void
pc_image_layout(struct pc_image_layout *il)
{
	il->il_virt_start = (uint64_t)(uintptr_t)pc_image_start;
	il->il_virt_end = (uint64_t)(uintptr_t)pc_image_end;
	il->il_phys_start = image_pa(pc_image_start);
	il->il_phys_end = image_pa(pc_image_end);
	il->il_text_start = (uint64_t)(uintptr_t)pc_text_start;
	il->il_text_end = (uint64_t)(uintptr_t)pc_text_end;
	il->il_rodata_start = (uint64_t)(uintptr_t)pc_rodata_start;
	il->il_rodata_end = (uint64_t)(uintptr_t)pc_rodata_end;
	il->il_data_start = (uint64_t)(uintptr_t)pc_data_start;
	il->il_data_end = (uint64_t)(uintptr_t)pc_data_end;
	il->il_bss_start = (uint64_t)(uintptr_t)pc_bss_start;
	il->il_bss_end = (uint64_t)(uintptr_t)pc_bss_end;
}
