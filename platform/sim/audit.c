// SPDX-License-Identifier: BSD-2-Clause
/*
 * audit.c - check every CPU's cached translations against the truth.
 *
 * Rules (each names a way a pmap loses data or leaks memory):
 *
 *  stale-translation   a TLB entry maps a page the page tables no longer map
 *                      there, or to another frame, or with another size.
 *  stale-rights        a TLB entry grants a right (write, user, execute) the
 *                      page tables no longer grant.
 *  stale-dirty         a TLB entry was filled dirty but the PTE's D is clear
 *                      now: the next write through it sets no D and the
 *                      modification is lost.
 *  stale-memtype       a TLB entry has another PAT memory type.
 *  stale-psc           a paging-structure-cache entry points at another
 *                      table than the page tables do, or at none, or grants
 *                      more rights.
 *  freed-page          a TLB entry maps a page that is on the free list.
 *  freed-table         a paging-structure-cache entry, or CR3, points at a
 *                      page-table page that is on the free list.
 *
 * Entries are checked against the root that owns their PCID: the current
 * CR3 for the current PCID and for global entries, the last CR3 loaded with
 * that PCID otherwise (unless the owner said it will flush that PCID before
 * using it again, sim_audit_pcid_dead()).
 *
 * The same rules hold in i386 mode (one PCID, 4K/4M pages, PDE cache
 * only): the walks and sizes come from the mode's geometry.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim_internal.h"

bool sim_mmu_audit_walk(struct sim_cpu *c, uint64_t root, uint64_t va, int stop_level,
    uint64_t *entry, uint64_t *frame, int *level, bool *rw, bool *us, bool *xd,
    unsigned *pat);

struct audit_ctx {
	struct sim_cpu *a_cpu;
	struct sim_audit_report *a_r;
	bool a_found;
};

static const char *
kind_name(unsigned kind)
{
	switch (kind) {
	case 1: return "TLB 4K";
	case 2: return sim_i386() ? "TLB 4M" : "TLB 2M";
	case 3: return "TLB 1G";
	case 5: return "PDE-cache";
	case 6: return "PDPTE-cache";
	case 7: return "PML4E-cache";
	default: return "?";
	}
}

static void
report(struct audit_ctx *a, const struct tc_entry *e, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
report(struct audit_ctx *a, const struct tc_entry *e, const char *rule, const char *fmt, ...)
{
	if (a->a_found)
		return;
	a->a_found = true;
	struct sim_audit_report *r = a->a_r;
	r->ok = false;
	r->cpu = a->a_cpu->c_id;
	r->pcid = e->te_pcid;
	r->va = e->te_va;
	r->rule = rule;
	int n = snprintf(r->text, sizeof(r->text),
	    "%s: cpu %d pcid %u va %#" PRIx64 ": %s entry {pa %#" PRIx64 "%s%s%s%s%s}: ",
	    rule, a->a_cpu->c_id, e->te_pcid, e->te_va, kind_name(e->te_kind), e->te_pa,
	    e->te_rw ? " rw" : " ro", e->te_us ? " user" : " sup", e->te_xd ? " nx" : "",
	    e->te_dirty ? " dirty" : "", e->te_global ? " global" : "");
	if (n < 0 || (size_t)n >= sizeof(r->text))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->text + n, sizeof(r->text) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* First free page in [pa, pa + len), or ~0. */
static uint64_t
first_free(uint64_t pa, uint64_t len)
{
	pthread_mutex_lock(&sim_m.m_alloc_lock);
	uint64_t found = ~0ULL;
	for (uint64_t p = pa; p < pa + len && p < sim_m.m_phys_end; p += SIM_PAGE_SIZE) {
		if (sim_free_map_test(p / SIM_PAGE_SIZE)) {
			found = p;
			break;
		}
	}
	pthread_mutex_unlock(&sim_m.m_alloc_lock);
	return found;
}

static bool
in_direct_map(const struct tc_entry *e)
{
	if (e->te_kind >= TC_KIND_PSC(AMD64_LVL_PD))
		return false;	/* page tables are never exempt */
	uint64_t va = e->te_va;
	if (va >> 47)
		va |= 0xffff000000000000ULL;
	return va >= sim_m.m_dmap_start && va < sim_m.m_dmap_end;
}

/* Another CPU's copy of a CPU's private window (sim_audit_private_windows)? */
static bool
foreign_window(const struct sim_cpu *c, const struct tc_entry *e)
{
	if (sim_m.m_window_owner == NULL || e->te_kind >= TC_KIND_PSC(AMD64_LVL_PD))
		return false;
	int owner = sim_m.m_window_owner(e->te_va);
	return owner >= 0 && owner != c->c_id;
}

void
sim_audit_private_windows(int (*owner)(uint64_t va))
{
	sim_m.m_window_owner = owner;
}

void
sim_audit_direct_map(uint64_t start, uint64_t end)
{
	sim_m.m_dmap_start = start;
	sim_m.m_dmap_end = end;
}

/* An entry of a PCID other than the current one that its owner promised
 * to flush before using it again (sim_audit_pcid_dead): never used, so it
 * may be stale and may point at freed pages. */
static bool
pcid_dead(const struct sim_cpu *c, const struct tc_entry *e)
{
	uint16_t cur = (c->c_cr4 & CR4_PCIDE) ? (uint16_t)(c->c_cr3 & CR3_PCID_MASK) : 0;
	return !e->te_global && e->te_pcid != cur && c->c_pcid_dead[e->te_pcid];
}

static void
audit_entry(const struct tc_entry *e, void *arg)
{
	struct audit_ctx *a = arg;
	struct sim_cpu *c = a->a_cpu;
	if (a->a_found || !tc_live(c, e) || foreign_window(c, e))
		return;
	bool psc = e->te_kind >= TC_KIND_PSC(AMD64_LVL_PD);
	uint16_t cur = (c->c_cr4 & CR4_PCIDE) ? (uint16_t)(c->c_cr3 & CR3_PCID_MASK) : 0;
	uint64_t root;
	if (e->te_global || e->te_pcid == cur) {
		root = c->c_cr3 & CR3_FRAME;
	} else {
		if (pcid_dead(c, e))
			return;
		root = c->c_pcid_root[e->te_pcid];
	}

	uint64_t size = psc ? sim_level_size(e->te_kind - 3) : sim_level_size(e->te_kind);
	uint64_t f = in_direct_map(e) ? ~0ULL : first_free(e->te_pa, psc ? SIM_PAGE_SIZE : size);
	if (f != ~0ULL) {
		report(a, e, psc ? "freed-table" : "freed-page",
		    "physical page %#" PRIx64 " is free", f);
		return;
	}

	uint64_t ent = 0, frame = 0;
	int level = 0;
	bool rw = false, us = false, xd = false;
	unsigned pat = 0;
	int want = psc ? e->te_kind - 3 : AMD64_LVL_PT;
	bool ok = sim_mmu_audit_walk(c, root, e->te_va, want, &ent, &frame, &level, &rw,
	    &us, &xd, &pat);
	if (psc) {
		if (!ok || level != want || sim_leaf_p(c, ent, level)) {
			report(a, e, "stale-psc", "page tables (root %#" PRIx64 ") have "
			    "%s entry %#" PRIx64 " at level %d", root,
			    ok ? "leaf" : "no valid", ent, level);
		} else if (frame != e->te_pa) {
			report(a, e, "stale-psc", "page tables (root %#" PRIx64 ") point at "
			    "table %#" PRIx64 " (entry %#" PRIx64 ")", root, frame, ent);
		} else if ((e->te_rw && !rw) || (e->te_us && !us) || (!e->te_xd && xd)) {
			report(a, e, "stale-psc", "page tables grant less: entry %#" PRIx64
			    " rw %d user %d nx %d", ent, rw, us, xd);
		}
		return;
	}
	if (!ok) {
		report(a, e, "stale-translation", "page tables (root %#" PRIx64 ") have "
		    "no valid entry (level %d entry %#" PRIx64 ")", root, level, ent);
		return;
	}
	if (level != e->te_kind || frame != e->te_pa) {
		report(a, e, "stale-translation", "page tables map %#" PRIx64 " with a "
		    "level-%d entry %#" PRIx64 " (frame %#" PRIx64 ")", e->te_va, level, ent,
		    frame);
		return;
	}
	if ((e->te_rw && !rw) || (e->te_us && !us) || (!e->te_xd && xd)) {
		report(a, e, "stale-rights", "page tables grant rw %d user %d nx %d "
		    "(leaf %#" PRIx64 ")", rw, us, xd, ent);
		return;
	}
	if (e->te_dirty && !(ent & PG_D)) {
		report(a, e, "stale-dirty", "leaf %#" PRIx64 " has D clear; a write "
		    "through this entry would not set it", ent);
		return;
	}
	if (e->te_pat != pat) {
		report(a, e, "stale-memtype", "leaf %#" PRIx64 " selects PAT entry %u, "
		    "cached %u", ent, pat, e->te_pat);
		return;
	}
}

bool
sim_audit(struct sim_audit_report *r)
{
	memset(r, 0, sizeof(*r));
	r->ok = true;
	r->cpu = -1;
	snprintf(r->text, sizeof(r->text), "ok");
	for (int i = 0; i < sim_m.m_ncpus; i++) {
		struct sim_cpu *c = &sim_m.m_cpus[i];
		struct audit_ctx a = { .a_cpu = c, .a_r = r };
		pthread_mutex_lock(&c->c_tlb_lock);
		uint64_t root = c->c_cr3 & CR3_FRAME;
		if (root != 0 && first_free(root, SIM_PAGE_SIZE) != ~0ULL) {
			struct tc_entry fake = { .te_pa = root };
			report(&a, &fake, "freed-table", "CR3 points at free page %#" PRIx64, root);
		}
		tc_foreach(&c->c_tc, audit_entry, &a);
		pthread_mutex_unlock(&c->c_tlb_lock);
		if (a.a_found)
			return false;
	}
	return true;
}

void
sim_audit_pcid_dead(int cpu, uint16_t pcid)
{
	if (cpu < 0 || cpu >= sim_m.m_ncpus || pcid > CR3_PCID_MASK)
		sim_fatal("sim_audit_pcid_dead: bad cpu %d / pcid %u", cpu, pcid);
	struct sim_cpu *c = &sim_m.m_cpus[cpu];
	pthread_mutex_lock(&c->c_tlb_lock);
	c->c_pcid_dead[pcid] = 1;
	uint16_t cur = (c->c_cr4 & CR4_PCIDE) ? (uint16_t)(c->c_cr3 & CR3_PCID_MASK) : 0;
	if (sim_m.m_cfg.pcid_dead_drop && pcid != cur)
		sim_mmu_drop_pcid_locked(c, pcid);
	pthread_mutex_unlock(&c->c_tlb_lock);
}

struct ref_ctx {
	struct sim_cpu *r_c;
	uint64_t r_pa;
	int r_cpu;
	char *r_text;
	size_t r_len;
	bool r_found;
};

static void
ref_entry(const struct tc_entry *e, void *arg)
{
	struct ref_ctx *r = arg;
	if (r->r_found || !tc_live(r->r_c, e) || in_direct_map(e) || foreign_window(r->r_c, e) ||
	    pcid_dead(r->r_c, e))
		return;
	bool psc = e->te_kind >= TC_KIND_PSC(AMD64_LVL_PD);
	uint64_t size = psc ? SIM_PAGE_SIZE : sim_level_size(e->te_kind);
	if (r->r_pa >= e->te_pa && r->r_pa < e->te_pa + size) {
		r->r_found = true;
		snprintf(r->r_text, r->r_len, "%s: page %#" PRIx64 " freed while cpu %d "
		    "pcid %u holds a %s entry for va %#" PRIx64 " -> %#" PRIx64,
		    psc ? "freed-table" : "freed-page", r->r_pa, r->r_cpu, e->te_pcid,
		    kind_name(e->te_kind), e->te_va, e->te_pa);
	}
}

bool
sim_audit_page_referenced(uint64_t pa, char *text, size_t len)
{
	for (int i = 0; i < sim_m.m_ncpus; i++) {
		struct sim_cpu *c = &sim_m.m_cpus[i];
		struct ref_ctx r = { .r_c = c, .r_pa = pa, .r_cpu = i, .r_text = text, .r_len = len };
		pthread_mutex_lock(&c->c_tlb_lock);
		if ((c->c_cr3 & CR3_FRAME) == pa) {
			snprintf(text, len, "freed-table: page %#" PRIx64 " freed while it is "
			    "cpu %d's CR3", pa, i);
			r.r_found = true;
		} else {
			tc_foreach(&c->c_tc, ref_entry, &r);
		}
		pthread_mutex_unlock(&c->c_tlb_lock);
		if (r.r_found)
			return true;
	}
	return false;
}

struct dump_ctx {
	struct sim_cpu *c;
	void (*out)(const char *, void *);
	void *arg;
};

static void
dump_entry(const struct tc_entry *e, void *arg)
{
	struct dump_ctx *d = arg;
	char line[200];
	if (!tc_live(d->c, e))
		return;
	snprintf(line, sizeof(line), "%-11s pcid %3u va %#18" PRIx64 " -> %#14" PRIx64
	    "%s%s%s%s%s pat %u", kind_name(e->te_kind), e->te_pcid, e->te_va, e->te_pa,
	    e->te_rw ? " rw" : " ro", e->te_us ? " user" : " sup", e->te_xd ? " nx" : "",
	    e->te_dirty ? " dirty" : "", e->te_global ? " global" : "", e->te_pat);
	d->out(line, d->arg);
}

void
sim_tlb_dump(int cpu, void (*out)(const char *, void *), void *arg)
{
	if (cpu < 0 || cpu >= sim_m.m_ncpus)
		return;
	struct sim_cpu *c = &sim_m.m_cpus[cpu];
	struct dump_ctx d = { c, out, arg };
	pthread_mutex_lock(&c->c_tlb_lock);
	tc_foreach(&c->c_tc, dump_entry, &d);
	pthread_mutex_unlock(&c->c_tlb_lock);
}
