// SPDX-License-Identifier: BSD-2-Clause
/*
 * mmuprobe_common.c - what the two kernels' MMU-probe modes share (see
 * <arch>/mmuprobe.c for the design): the data pages' slot pattern, the
 * access a probe makes and how its outcome becomes a probe_result.  The
 * arch builds the arena, writes the entries, sets the paging controls and
 * reads the entries back.
 *
 * Every 8-byte slot of the data pages holds `mov $imm32, %edx; ret` with
 * imm32 = the slot's own physical address (the arena is below 4 GiB) and
 * two marker bytes: a read returns the slot, a fetch executes the `mov`
 * (single-stepped) and leaves the address in %edx, a write stores a marker
 * no slot holds, which is then searched for and the slot restored.  The
 * data pages must lie in memory mapped for good (pc_phys_permanent).
 */
#include "pc_mmuprobe.h"

#define SLOT_MOV_EDX	0xbaULL		/* mov $imm32, %edx */
#define SLOT_RET	0xc3ULL
#define SLOT_TAG	0x5aa5ULL
#define WRITE_MARK	0x1badc0de00000000ULL

static volatile uint64_t *
slot(uint64_t pa)
{
	volatile uint64_t *p = pc_phys_permanent(pa, 8);

	if (p == NULL)
		pc_panic("mmuprobe: data page %#llx is not mapped for good",
		    (unsigned long long)pa);
	return p;
}

static uint64_t
slot_pattern(uint64_t pa)
{
	return SLOT_MOV_EDX | ((pa & 0xffffffffULL) << 8) | (SLOT_RET << 40) |
	    (SLOT_TAG << 48);
}

static uint64_t
pattern_pa(uint64_t v)
{
	if ((v & 0xff) != SLOT_MOV_EDX || ((v >> 40) & 0xff) != SLOT_RET)
		return ~0ULL;
	return (v >> 8) & 0xffffffffULL;
}

/* The slot a write stored mark in (restored), or ~0. */
static uint64_t
find_written(const struct probe_arena *a, uint64_t mark)
{
	for (int i = 0; i < PROBE_NDATA; i++) {
		for (uint64_t off = 0; off < PC_PAGE_SIZE; off += 8) {
			uint64_t pa = a->pa_data[i] + off;

			if (*slot(pa) == mark) {
				*slot(pa) = slot_pattern(pa);
				return pa;
			}
		}
	}
	return ~0ULL;
}

void
pc_mmuprobe_fill(const struct probe_arena *a)
{
	for (int i = 0; i < PROBE_NDATA; i++) {
		for (uint64_t off = 0; off < PC_PAGE_SIZE; off += 8)
			*slot(a->pa_data[i] + off) = slot_pattern(a->pa_data[i] + off);
	}
}

void
pc_mmuprobe_access(const struct probe_arena *a, const struct probe *p,
    unsigned n, struct probe_result *res)
{
	bool user = (p->p_access & PROBE_USER) != 0;
	uint64_t v = 0;
	int r;

	pc_set_rflags_ac((p->p_access & PROBE_AC) != 0);
	switch (p->p_access & PROBE_TYPE) {
	case PROBE_READ:
		r = user ? pc_probe_user_read(p->p_va, 8, &v) :
		    pc_probe_read(p->p_va, 8, &v);
		break;
	case PROBE_WRITE:
		v = WRITE_MARK | n;
		r = user ? pc_probe_user_write(p->p_va, 8, v) :
		    pc_probe_write(p->p_va, 8, v);
		break;
	default:
		r = user ? pc_probe_user_fetch(p->p_va, &v) :
		    pc_probe_fetch(p->p_va, &v);
		break;
	}
	pc_set_rflags_ac(false);

	if (r == PC_PROBE_OK) {
		res->pr_vector = 0;
		switch (p->p_access & PROBE_TYPE) {
		case PROBE_READ:
			res->pr_pa = pattern_pa(v);
			break;
		case PROBE_WRITE:
			res->pr_pa = find_written(a, v);
			break;
		default:
			res->pr_pa = v & 0xffffffffULL;
			break;
		}
	} else {
		struct pc_fault f;

		pc_probe_last_fault(&f);
		res->pr_vector = f.vector;
		res->pr_ec = f.error_code;
		res->pr_cr2 = f.cr2;
	}
}
