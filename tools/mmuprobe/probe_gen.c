// SPDX-License-Identifier: BSD-2-Clause
/*
 * probe_gen.c - see probe_gen.h.  Freestanding.
 */
#include "probe_gen.h"

#include <pmap/amd64_pte.h>

void
probe_rng_seed(struct probe_rng *r, uint64_t seed)
{
	/* Hash the seed first: the generator's state advances by a constant,
	 * so seeding it with seed * constant would make seed N+1 replay
	 * seed N's stream one draw later. */
	uint64_t z = seed + 0x1234567ULL;
	z = (z ^ (z >> 33)) * 0xff51afd7ed558ccdULL;
	z = (z ^ (z >> 33)) * 0xc4ceb9fe1a85ec53ULL;
	r->s = z ^ (z >> 33);
}

uint64_t
probe_rng_next(struct probe_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* true with probability num/den */
static bool
chance(struct probe_rng *r, unsigned num, unsigned den)
{
	return probe_rng_next(r) % den < num;
}

static uint64_t
below(struct probe_rng *r, uint64_t n)
{
	return probe_rng_next(r) % n;
}

/*
 * Random bits for one entry: rights biased towards "allowed" so that a fair
 * share of probes gets through to the leaf, random cache and A/D bits,
 * random ignored bits, and rarely P=0 or a reserved bit.
 */
static uint64_t
random_bits(struct probe_rng *r, const struct probe_config *cfg, int level, bool leaf)
{
	uint64_t e = 0;
	if (!chance(r, 1, 16))
		e |= PG_P;
	if (chance(r, 3, 4))
		e |= PG_RW;
	if (chance(r, 3, 4))
		e |= PG_US;
	if (chance(r, 1, 2))
		e |= PG_PWT;
	if (chance(r, 1, 2))
		e |= PG_PCD;
	if (chance(r, 1, 2))
		e |= PG_A;
	if (leaf && chance(r, 1, 2))
		e |= PG_D;
	if (chance(r, 1, 2))
		e |= PG_G;		/* ignored above the leaf */
	if (leaf && level == AMD64_LVL_PT && chance(r, 1, 2))
		e |= PG_PAT_4K;
	if (leaf && level > AMD64_LVL_PT && chance(r, 1, 2))
		e |= PG_PAT_LG;
	if (chance(r, 1, 4))
		e |= PG_XD;
	/* Ignored bits: 11:9 everywhere, 58:52 (62:59 are PKE's). */
	e |= below(r, 8) << 9;
	e |= below(r, 128) << 52;
	/* Reserved-bit mischief. */
	if (chance(r, 1, 24)) {
		int width = 52 - cfg->maxphyaddr;
		if (width > 0)
			e |= 1ULL << (cfg->maxphyaddr + (int)below(r, (uint64_t)width));
	}
	if (level == AMD64_LVL_PML4 && chance(r, 1, 32))
		e |= PG_PS;
	return e;
}

/* ---- i386: 32-bit paging (SDM vol. 3A 4.3, tables 4-4 .. 4-6) ---- */

#define I386P_FRAME	0xfffff000ULL	/* PTE, or PDE of a table: bits 31:12 */
#define I386P_FRAME_4M	0xffc00000ULL	/* 4 MiB PDE: bits 31:22 */
#define I386P_PDE_SHIFT	22
#define I386P_NENT	1024
#define I386P_LVL_PT	1
#define I386P_LVL_PD	2

/* Random bits of one 32-bit entry: the amd64 flags minus XD and bits 52+,
 * PAT at bit 7 (PTE) or 12 (4 MiB PDE). */
static uint64_t
random_bits_i386(struct probe_rng *r, int level, bool leaf)
{
	uint64_t e = 0;
	if (!chance(r, 1, 16))
		e |= PG_P;
	if (chance(r, 3, 4))
		e |= PG_RW;
	if (chance(r, 3, 4))
		e |= PG_US;
	if (chance(r, 1, 2))
		e |= PG_PWT;
	if (chance(r, 1, 2))
		e |= PG_PCD;
	if (chance(r, 1, 2))
		e |= PG_A;
	if (leaf && chance(r, 1, 2))
		e |= PG_D;
	if (chance(r, 1, 2))
		e |= PG_G;		/* ignored above the leaf */
	if (leaf && level == I386P_LVL_PT && chance(r, 1, 2))
		e |= PG_PAT_4K;
	if (leaf && level == I386P_LVL_PD && chance(r, 1, 2))
		e |= PG_PAT_LG;
	e |= below(r, 8) << 9;	/* ignored bits 11:9 */
	return e;
}

static void
probe_generate_i386(struct probe_rng *r, const struct probe_config *cfg,
    const struct probe_arena *a, struct probe *p)
{
	uint64_t target = a->pa_data[below(r, PROBE_NDATA)] + 8 * below(r, 512);

	/* Mostly PSE on; a 4 MiB leaf in 3 of 8 probes that have it. */
	p->p_pse = cfg->can_pse && chance(r, 3, 4);
	bool big = p->p_pse && below(r, 8) >= 5;
	/* With PSE off, PS=1 in the PDE now and then: it must be ignored. */
	bool ps_ignored = !p->p_pse && chance(r, 1, 4);

	uint64_t va = (256 + below(r, 256)) << I386P_PDE_SHIFT;
	va |= big ? (target & ((1ULL << I386P_PDE_SHIFT) - 1)) :
	    ((below(r, I386P_NENT) << 12) | (target & 0xfff));
	p->p_va = va;

	p->p_nent = 0;
	struct probe_entry *pde = &p->p_ent[p->p_nent++];
	pde->pe_level = I386P_LVL_PD;
	pde->pe_slot = a->pa_root + 4 * (va >> I386P_PDE_SHIFT);
	uint64_t e = random_bits_i386(r, I386P_LVL_PD, big);
	if (big) {
		e |= (target & I386P_FRAME_4M) | PG_PS;
		/* Sometimes a reserved bit (21:13 with MAXPHYADDR 32). */
		if (chance(r, 1, 16))
			e |= (1ULL << 13) << below(r, 9);
	} else {
		e |= a->pa_pt | (ps_ignored ? PG_PS : 0);
	}
	pde->pe_value = e;
	if (!big) {
		struct probe_entry *pte = &p->p_ent[p->p_nent++];
		pte->pe_level = I386P_LVL_PT;
		pte->pe_slot = a->pa_pt + 4 * ((va >> 12) & (I386P_NENT - 1));
		pte->pe_value = random_bits_i386(r, I386P_LVL_PT, true) | (target & I386P_FRAME);
	}

	p->p_access = (unsigned)below(r, 3);
	if (cfg->can_user && chance(r, 1, 2))
		p->p_access |= PROBE_USER;
	if (chance(r, 1, 2))
		p->p_access |= PROBE_AC;
	p->p_wp = chance(r, 3, 4);
	p->p_smep = cfg->can_smep && chance(r, 1, 2);
	p->p_smap = cfg->can_smap && chance(r, 1, 2);
	p->p_nxe = cfg->vary_nxe && chance(r, 1, 2);	/* no effect in 32-bit paging */
	p->p_pge = cfg->can_pge && chance(r, 1, 2);
}

void
probe_generate(struct probe_rng *r, const struct probe_config *cfg,
    const struct probe_arena *a, unsigned index, struct probe *p)
{
	p->p_index = index;
	p->p_arch = cfg->arch;
	p->p_pse = p->p_pge = false;
	if (cfg->arch == PROBE_ARCH_I386) {
		probe_generate_i386(r, cfg, a, p);
		return;
	}

	/* The byte accessed: an 8-byte slot of a data page. */
	uint64_t target = a->pa_data[below(r, PROBE_NDATA)] + 8 * below(r, 512);

	/* Leaf level: mostly 4K, some 2M, a few 1G. */
	int leaf = AMD64_LVL_PT;
	uint64_t pick = below(r, 8);
	if (pick >= 5)
		leaf = AMD64_LVL_PD;
	if (pick == 7 && cfg->can_1g)
		leaf = AMD64_LVL_PDPT;

	/* VA: PML4 slots 1..4 (slot 0 and the upper half are the platform's). */
	uint64_t lsize = amd64_level_size(leaf);
	uint64_t va = (1 + below(r, 4)) << AMD64_L4_SHIFT;
	for (int l = AMD64_LVL_PDPT; l > leaf; l--)
		va |= below(r, 512) << (AMD64_L1_SHIFT + 9 * (l - 1));
	va |= target & (lsize - 1);
	p->p_va = va;

	uint64_t tables[5] = { 0, a->pa_pt, a->pa_pd, a->pa_pdpt, a->pa_root };
	p->p_nent = 0;
	for (int l = AMD64_LVL_PML4; l >= leaf; l--) {
		bool is_leaf = l == leaf;
		uint64_t e = random_bits(r, cfg, l, is_leaf);
		if (is_leaf) {
			uint64_t frame = target & ~(lsize - 1);
			e |= frame;
			if (l > AMD64_LVL_PT) {
				e |= PG_PS;
				/* Sometimes a misaligned large frame (reserved). */
				if (chance(r, 1, 16))
					e |= (1ULL << 13) << below(r, (l == 2 ? 8 : 17));
			}
		} else {
			e |= tables[l - 1];
			if (l != AMD64_LVL_PML4)
				e &= ~PG_PS;
		}
		struct probe_entry *pe = &p->p_ent[p->p_nent++];
		pe->pe_level = l;
		pe->pe_slot = tables[l] + 8ULL * amd64_pt_index(va, l);
		pe->pe_value = e;
	}

	p->p_access = (unsigned)below(r, 3);
	if (cfg->can_user && chance(r, 1, 2))
		p->p_access |= PROBE_USER;
	if (chance(r, 1, 2))
		p->p_access |= PROBE_AC;
	p->p_wp = chance(r, 3, 4);
	p->p_smep = cfg->can_smep && chance(r, 1, 2);
	p->p_smap = cfg->can_smap && chance(r, 1, 2);
	p->p_nxe = !cfg->vary_nxe || chance(r, 3, 4);
}

/* ---- formatting, without libc ---- */

struct out {
	char *o_buf;
	size_t o_len, o_pos;
};

static void
put_c(struct out *o, char c)
{
	if (o->o_pos + 1 < o->o_len)
		o->o_buf[o->o_pos] = c;
	o->o_pos++;
}

static void
put_s(struct out *o, const char *s)
{
	while (*s)
		put_c(o, *s++);
}

static void
put_hex(struct out *o, uint64_t v)
{
	char tmp[17];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v != 0);
	put_s(o, "0x");
	while (n > 0)
		put_c(o, tmp[--n]);
}

static void
put_dec(struct out *o, uint64_t v)
{
	char tmp[21];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		put_c(o, tmp[--n]);
}

static void
finish(struct out *o)
{
	if (o->o_len == 0)
		return;
	o->o_buf[o->o_pos < o->o_len ? o->o_pos : o->o_len - 1] = 0;
}

/* Print pa relative to the arena when it falls in a data page. */
static void
put_pa(struct out *o, const struct probe_arena *a, uint64_t pa)
{
	for (int i = 0; i < PROBE_NDATA; i++) {
		if (pa >= a->pa_data[i] && pa < a->pa_data[i] + 4096) {
			put_c(o, 'D');
			put_dec(o, (uint64_t)i);
			put_c(o, '+');
			put_hex(o, pa - a->pa_data[i]);
			return;
		}
	}
	put_s(o, "raw:");
	put_hex(o, pa);
}

size_t
probe_format(char *buf, size_t len, const struct probe_arena *a, const struct probe *p,
    const struct probe_result *res)
{
	struct out o = { buf, len, 0 };
	static const char *const kinds[] = { "R", "W", "X", "?" };
	put_s(&o, "probe ");
	put_dec(&o, p->p_index);
	put_s(&o, " va=");
	put_hex(&o, p->p_va);
	put_c(&o, ' ');
	put_s(&o, kinds[p->p_access & PROBE_TYPE]);
	put_s(&o, (p->p_access & PROBE_USER) ? "U" : "S");
	put_s(&o, (p->p_access & PROBE_AC) ? " ac" : " --");
	put_s(&o, p->p_wp ? " wp" : " --");
	put_s(&o, p->p_smep ? " smep" : " ----");
	put_s(&o, p->p_smap ? " smap" : " ----");
	put_s(&o, p->p_nxe ? " nxe" : " ---");
	if (p->p_arch == PROBE_ARCH_I386) {
		put_s(&o, p->p_pse ? " pse" : " ---");
		put_s(&o, p->p_pge ? " pge" : " ---");
	}
	put_s(&o, " :");
	for (int i = 0; i < p->p_nent; i++) {
		/* The entry as written, minus the physical address (arena-relative).
		 * An i386 4 MiB leaf keeps bits 21:12 (PAT, reserved bits). */
		uint64_t v = p->p_ent[i].pe_value, frame = PG_FRAME;
		if (p->p_arch == PROBE_ARCH_I386 && p->p_ent[i].pe_level == I386P_LVL_PD &&
		    (v & PG_PS) && p->p_pse)
			frame = I386P_FRAME_4M;
		put_c(&o, ' ');
		put_hex(&o, v & ~frame);
	}
	put_s(&o, " -> ");
	if (res->pr_vector == 14) {
		put_s(&o, "PF ec=");
		put_hex(&o, res->pr_ec);
		if (res->pr_cr2 != p->p_va) {
			put_s(&o, " cr2=");
			put_hex(&o, res->pr_cr2);
		}
	} else if (res->pr_vector == 13) {
		put_s(&o, "GP");
	} else if (res->pr_vector != 0) {
		put_s(&o, "vector ");
		put_dec(&o, (uint64_t)res->pr_vector);
	} else {
		put_s(&o, "ok pa=");
		put_pa(&o, a, res->pr_pa);
	}
	put_s(&o, " ad=");
	for (int i = 0; i < p->p_nent; i++) {
		uint64_t e = res->pr_after[i];
		if (i)
			put_c(&o, '/');
		put_c(&o, (e & PG_A) ? 'A' : '-');
		/* D exists only in leaves; elsewhere bit 6 is ignored, print it raw. */
		put_c(&o, (e & PG_D) ? 'D' : '-');
	}
	finish(&o);
	return o.o_pos;
}

size_t
probe_format_header(char *buf, size_t len, const struct probe_config *cfg, uint64_t seed,
    unsigned count)
{
	struct out o = { buf, len, 0 };
	put_s(&o, "mmuprobe seed=");
	put_dec(&o, seed);
	put_s(&o, " count=");
	put_dec(&o, count);
	put_s(&o, " maxphyaddr=");
	put_dec(&o, (uint64_t)cfg->maxphyaddr);
	put_s(&o, cfg->can_smep ? " smep" : " no-smep");
	put_s(&o, cfg->can_smap ? " smap" : " no-smap");
	put_s(&o, cfg->vary_nxe ? " vary-nxe" : " nxe");
	put_s(&o, cfg->can_user ? " user" : " no-user");
	if (cfg->arch == PROBE_ARCH_I386) {
		put_s(&o, " arch=i386");
		put_s(&o, cfg->can_pse ? " pse" : " no-pse");
		put_s(&o, cfg->can_pge ? " pge" : " no-pge");
	} else {
		put_s(&o, cfg->can_1g ? " 1g" : " no-1g");
	}
	finish(&o);
	return o.o_pos;
}
