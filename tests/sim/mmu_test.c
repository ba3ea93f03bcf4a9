// SPDX-License-Identifier: BSD-2-Clause
/*
 * mmu_test.c - the simulated MMU against the rules of Intel SDM vol. 3A
 * chapter 4 - 4-level paging (amd64 mode) and 32-bit paging (i386 mode,
 * section 4.3) - with page tables built by hand (no pmap).
 *
 * Every case states the rule it checks; the expected values (error codes,
 * which bits get set) are the SDM's, not whatever the model happens to do.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "ptb.h"
#include "tap.h"

#define VA1	0x0000000040201000ULL	/* an ordinary user-half address */
#define VA2	0x0000000040202000ULL
#define KVA	0xffff800000345000ULL	/* upper half */

static uint64_t root;
static uint64_t pg_a, pg_b;	/* two data pages */

static const char *
ecname(uint32_t ec)
{
	static char buf[64];
	snprintf(buf, sizeof(buf), "%s%s%s%s%s", ec & PGEX_P ? "P" : "-", ec & PGEX_W ? "W" : "R",
	    ec & PGEX_U ? "U" : "S", ec & PGEX_RSVD ? "+RSVD" : "", ec & PGEX_I ? "+I" : "");
	return buf;
}

/* Fresh address space and default control registers on this CPU. */
static void
fresh(void)
{
	root = ptb_page();
	pg_a = ptb_page();
	pg_b = ptb_page();
	*(uint64_t *)sim_phys_ptr(pg_a) = 0xaaaaaaaaaaaaaaaaULL;
	*(uint64_t *)sim_phys_ptr(pg_b) = 0xbbbbbbbbbbbbbbbbULL;
	sim_write_cr4(CR4_PAE);		/* PGE off first: flushes everything */
	sim_write_cr0(CR0_PG | CR0_WP);
	sim_write_efer(EFER_NXE);
	sim_write_pat(PAT_POWERON);
	sim_write_cr3(root);
}

/* Expect a page fault with this error code at va. */
static void
expect_pf(int r, uint64_t va, uint32_t ec, const char *what)
{
	struct sim_fault f = sim_last_fault();
	bool good = r == SIM_PF && f.cr2 == va && f.error_code == ec;
	ok(good, "%s: #PF %s at %#llx", what, ecname(ec), (unsigned long long)va);
	if (!good)
		tap_diag("got result %d, cr2 %#llx, error code %#x (%s)", r,
		    (unsigned long long)f.cr2, f.error_code, ecname(f.error_code));
}

static int
rd(uint64_t va, unsigned fl, uint64_t *v)
{
	uint64_t dummy;
	return sim_load(va, 8, v ? v : &dummy, fl);
}

static int
wr(uint64_t va, unsigned fl)
{
	return sim_store(va, 8, 0x1234, fl);
}

/* ---- walks and leaves ---- */

static void
t_walk_basic(void)
{
	fresh();
	ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW | PG_US);
	uint64_t v = 0;
	is_int(rd(VA1, 0, &v), SIM_OK, "4K read succeeds");
	is_u64(v, 0xaaaaaaaaaaaaaaaaULL, "4K read returns the frame's data");
	struct sim_xlate x = sim_translate(VA1 + 0x123, SIM_READ);
	is_u64(x.pa, pg_a + 0x123, "4K translation keeps the page offset");
	is_int(x.level, 1, "leaf level 1");

	uint64_t big = 0x0000000080000000ULL;	/* 2 GiB: 2M and 1G aligned */
	uint64_t frame2m = 0x0000000000400000ULL;
	ptb_map(root, big, frame2m, 2, PG_P | PG_RW);
	x = sim_translate(big + 0x12345, SIM_READ);
	ok(x.result == SIM_OK && x.pa == frame2m + 0x12345 && x.level == 2,
	    "2M page: pa = frame + bits 20:0 (got %#llx level %d)",
	    (unsigned long long)x.pa, x.level);

	uint64_t g1 = 0x0000004000000000ULL;	/* 256 GiB */
	ptb_map(root, g1, 0x40000000ULL, 3, PG_P | PG_RW);
	x = sim_translate(g1 + 0x3456789, SIM_READ);
	ok(x.result == SIM_OK && x.pa == 0x40000000ULL + 0x3456789 && x.level == 3,
	    "1G page: pa = frame + bits 29:0 (got %#llx level %d)",
	    (unsigned long long)x.pa, x.level);

	is_int(rd(0x0000800000000000ULL, 0, NULL), SIM_GP, "non-canonical address: #GP, not #PF");
	is_int(sim_last_fault().vector, 13, "non-canonical fault vector 13");
}

static void
t_not_present(void)
{
	fresh();
	/* Not present at each level in turn. */
	for (int level = AMD64_LVL_PML4; level >= AMD64_LVL_PT; level--) {
		fresh();
		uint64_t slot = ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW | PG_US);
		(void)slot;
		uint64_t e = ptb_lookup(root, VA1, level);
		ptb_write(e, ptb_read(e) & ~PG_P);
		char what[64];
		snprintf(what, sizeof(what), "P=0 in the level-%d entry, supervisor read", level);
		expect_pf(rd(VA1, 0, NULL), VA1, 0, what);
	}
	fresh();
	expect_pf(wr(VA1, 0), VA1, PGEX_W, "unmapped, supervisor write");
	expect_pf(rd(VA1, SIM_ACC_USER, NULL), VA1, PGEX_U, "unmapped, user read");
	expect_pf(wr(VA1, SIM_ACC_USER), VA1, PGEX_W | PGEX_U, "unmapped, user write");
	expect_pf(sim_fetch(VA1, 0), VA1, PGEX_I, "unmapped, fetch with NXE=1 reports I/D");
	sim_write_efer(0);
	expect_pf(sim_fetch(VA1, 0), VA1, 0, "unmapped, fetch with NXE=0 and SMEP=0: no I/D");
	sim_write_cr4(CR4_PAE | CR4_SMEP);
	expect_pf(sim_fetch(VA1, 0), VA1, PGEX_I, "unmapped, fetch with SMEP=1 reports I/D");
}

static void
t_reserved(void)
{
	const uint32_t rsvd = PGEX_P | PGEX_RSVD;
	uint64_t above = 1ULL << 46;	/* MAXPHYADDR is 46 in this machine */

	fresh();
	uint64_t pte = ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW);
	ptb_write(pte, ptb_read(pte) | above);
	expect_pf(rd(VA1, 0, NULL), VA1, rsvd, "PTE address bit 46 (>= MAXPHYADDR)");

	fresh();
	ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW);
	uint64_t pde = ptb_lookup(root, VA1, 2);
	ptb_write(pde, ptb_read(pde) | (1ULL << 51));
	expect_pf(wr(VA1, 0), VA1, rsvd | PGEX_W, "non-leaf PDE address bit 51");

	fresh();
	ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW);
	uint64_t pml4e = ptb_lookup(root, VA1, 4);
	ptb_write(pml4e, ptb_read(pml4e) | PG_PS);
	expect_pf(rd(VA1, SIM_ACC_USER, NULL), VA1, rsvd | PGEX_U, "PS=1 in a PML4E");

	fresh();
	uint64_t big = 0x0000000080000000ULL;
	uint64_t s2 = ptb_map(root, big, 0x400000, 2, PG_P | PG_RW);
	ptb_write(s2, ptb_read(s2) | (1ULL << 13));
	expect_pf(rd(big, 0, NULL), big, rsvd, "2M leaf with frame bit 13 set (misaligned)");
	ptb_write(s2, (ptb_read(s2) & ~(1ULL << 13)) | PG_PAT_LG);
	is_int(rd(big, 0, NULL), SIM_OK, "2M leaf with bit 12 (PAT) set is legal");

	fresh();
	uint64_t g1 = 0x0000004000000000ULL;
	uint64_t s3 = ptb_map(root, g1, 0x40000000ULL, 3, PG_P | PG_RW);
	ptb_write(s3, ptb_read(s3) | (1ULL << 21));
	expect_pf(rd(g1, 0, NULL), g1, rsvd, "1G leaf with frame bit 21 set (misaligned)");

	fresh();
	ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW | PG_XD);
	is_int(rd(VA1, 0, NULL), SIM_OK, "XD with NXE=1 is legal");
	sim_invlpg(VA1);
	sim_write_efer(0);
	expect_pf(rd(VA1, 0, NULL), VA1, rsvd, "XD with NXE=0 is reserved");

	fresh();
	pte = ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW);
	ptb_write(pte, ptb_read(pte) | (0x7ffULL << 52) | PG_AVL0 | PG_AVL1 | PG_AVL2);
	is_int(rd(VA1, 0, NULL), SIM_OK, "bits 62:52 and 11:9 are ignored, not reserved");

	/* Reserved beats not-present further down: the walk stops at the first. */
	fresh();
	ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW);
	pde = ptb_lookup(root, VA1, 2);
	pte = ptb_lookup(root, VA1, 1);
	ptb_write(pde, ptb_read(pde) | above);
	ptb_write(pte, 0);
	expect_pf(rd(VA1, 0, NULL), VA1, rsvd, "RSVD in PDE is reported before P=0 in the PTE");
}

static void
t_rights(void)
{
	/* R/W is ANDed across levels. */
	fresh();
	ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW | PG_US);
	uint64_t pde = ptb_lookup(root, VA1, 2);
	ptb_write(pde, ptb_read(pde) & ~PG_RW);
	expect_pf(wr(VA1, 0), VA1, PGEX_P | PGEX_W, "PDE R/W=0: supervisor write with WP=1");
	sim_write_cr0(CR0_PG);
	is_int(wr(VA1, 0), SIM_OK, "PDE R/W=0: supervisor write with WP=0 succeeds");
	sim_write_cr0(CR0_PG | CR0_WP);
	expect_pf(wr(VA1, SIM_ACC_USER), VA1, PGEX_P | PGEX_W | PGEX_U,
	    "PDE R/W=0: user write");
	sim_write_cr0(CR0_PG);
	expect_pf(wr(VA1, SIM_ACC_USER), VA1, PGEX_P | PGEX_W | PGEX_U,
	    "user writes honour R/W even with WP=0");

	/* U/S is ANDed across levels. */
	fresh();
	ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW | PG_US);
	uint64_t pml4e = ptb_lookup(root, VA1, 4);
	ptb_write(pml4e, ptb_read(pml4e) & ~PG_US);
	expect_pf(rd(VA1, SIM_ACC_USER, NULL), VA1, PGEX_P | PGEX_U, "PML4E U/S=0: user read");
	is_int(rd(VA1, 0, NULL), SIM_OK, "PML4E U/S=0: supervisor read");

	/* XD is ORed across levels. */
	fresh();
	ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW | PG_US);
	uint64_t pdpte = ptb_lookup(root, VA1, 3);
	ptb_write(pdpte, ptb_read(pdpte) | PG_XD);
	expect_pf(sim_fetch(VA1, 0), VA1, PGEX_P | PGEX_I, "PDPTE XD=1: supervisor fetch");
	expect_pf(sim_fetch(VA1, SIM_ACC_USER), VA1, PGEX_P | PGEX_U | PGEX_I,
	    "PDPTE XD=1: user fetch");
	is_int(rd(VA1, SIM_ACC_USER, NULL), SIM_OK, "PDPTE XD=1: user read is fine");

	/* SMEP. */
	fresh();
	ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW | PG_US);
	is_int(sim_fetch(VA1, 0), SIM_OK, "supervisor fetch from a user page, SMEP=0");
	sim_write_cr4(CR4_PAE | CR4_SMEP);
	expect_pf(sim_fetch(VA1, 0), VA1, PGEX_P | PGEX_I,
	    "supervisor fetch from a user page, SMEP=1");

	/* SMAP. */
	fresh();
	ptb_map(root, VA1, pg_a, 1, PG_P | PG_US);	/* read-only user page */
	sim_write_cr4(CR4_PAE | CR4_SMAP);
	expect_pf(rd(VA1, 0, NULL), VA1, PGEX_P, "SMAP: supervisor read of a user page, AC=0");
	is_int(rd(VA1, SIM_ACC_AC, NULL), SIM_OK, "SMAP: supervisor read with AC=1");
	expect_pf(wr(VA1, SIM_ACC_AC), VA1, PGEX_P | PGEX_W,
	    "SMAP+AC: write to a read-only user page with WP=1");
	sim_write_cr0(CR0_PG);
	is_int(wr(VA1, SIM_ACC_AC), SIM_OK, "SMAP+AC: same write with WP=0 succeeds");
	expect_pf(wr(VA1, 0), VA1, PGEX_P | PGEX_W, "SMAP, AC=0: write faults even with WP=0");
	is_int(rd(VA1, SIM_ACC_USER, NULL), SIM_OK, "SMAP does not affect user reads");

	/* Supervisor page from user mode. */
	fresh();
	ptb_map(root, KVA, pg_a, 1, PG_P | PG_RW);
	expect_pf(rd(KVA, SIM_ACC_USER, NULL), KVA, PGEX_P | PGEX_U, "user read of a supervisor page");
}

static void
t_accessed_dirty(void)
{
	fresh();
	uint64_t pte = ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW | PG_US);
	uint64_t pde = ptb_lookup(root, VA1, 2), pdpte = ptb_lookup(root, VA1, 3),
		 pml4e = ptb_lookup(root, VA1, 4);
	is_int(rd(VA1, 0, NULL), SIM_OK, "read");
	ok((ptb_read(pml4e) & ptb_read(pdpte) & ptb_read(pde) & ptb_read(pte) & PG_A) != 0,
	    "a read sets A at every level");
	ok(((ptb_read(pml4e) | ptb_read(pdpte) | ptb_read(pde) | ptb_read(pte)) & PG_D) == 0,
	    "a read sets D nowhere");
	is_int(wr(VA1, 0), SIM_OK, "write");
	ok((ptb_read(pte) & PG_D) != 0, "a write sets D in the PTE");
	ok(((ptb_read(pml4e) | ptb_read(pdpte) | ptb_read(pde)) & PG_D) == 0,
	    "a write sets D only at the leaf");

	fresh();
	uint64_t big = 0x0000000080000000ULL;
	uint64_t s2 = ptb_map(root, big, 0x400000, 2, PG_P | PG_RW);
	is_int(wr(big + 8, 0), SIM_OK, "write through a 2M page");
	ok((ptb_read(s2) & (PG_A | PG_D)) == (PG_A | PG_D), "A and D set in the 2M PDE leaf");

	/* A faulting walk (PTE not present) with SIM_AD_UPPER sets A above. */
	fresh();
	pte = ptb_map(root, VA1, pg_a, 1, PG_RW);	/* P=0 */
	pde = ptb_lookup(root, VA1, 2);
	expect_pf(rd(VA1, 0, NULL), VA1, 0, "read of a not-present PTE");
	ok((ptb_read(pde) & PG_A) != 0, "AD_UPPER: A set in the PDE the faulting walk used");
	ok((ptb_read(pte) & PG_A) == 0, "no A in the not-present PTE");

	/* A protection fault at the leaf sets no A/D in the leaf. */
	fresh();
	pte = ptb_map(root, VA1, pg_a, 1, PG_P);
	expect_pf(wr(VA1, SIM_ACC_USER), VA1, PGEX_P | PGEX_W | PGEX_U, "user write, read-only");
	ok((ptb_read(pte) & (PG_A | PG_D)) == 0, "a faulting access sets no A/D in the leaf");
}

/* ---- TLB behaviour ---- */

static void
t_tlb_stale(void)
{
	fresh();
	uint64_t pte = ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW);
	uint64_t v;
	rd(VA1, 0, &v);
	ptb_write(pte, pg_b | PG_P | PG_RW);	/* change the frame, no INVLPG */
	rd(VA1, 0, &v);
	is_u64(v, 0xaaaaaaaaaaaaaaaaULL, "strict TLB: changed PTE without INVLPG still reads the old page");
	sim_invlpg(VA1);
	rd(VA1, 0, &v);
	is_u64(v, 0xbbbbbbbbbbbbbbbbULL, "after INVLPG the new page is read");

	ptb_write(pte, 0);	/* unmap, no INVLPG */
	is_int(rd(VA1, 0, &v), SIM_OK, "unmapped PTE without INVLPG: stale entry still used");
	sim_invlpg(VA1);
	expect_pf(rd(VA1, 0, &v), VA1, 0, "after INVLPG the unmapped page faults");

	/* Not-present translations are never cached. */
	fresh();
	pte = ptb_map(root, VA1, pg_a, 1, PG_RW);	/* P=0 */
	expect_pf(rd(VA1, 0, &v), VA1, 0, "not present");
	ptb_write(pte, pg_a | PG_P | PG_RW);
	is_int(rd(VA1, 0, &v), SIM_OK, "a not-present translation is not cached: no INVLPG needed");

	/* A stale entry with fewer rights faults, and the fault drops it. */
	fresh();
	pte = ptb_map(root, VA1, pg_a, 1, PG_P);
	rd(VA1, 0, &v);
	ptb_write(pte, ptb_read(pte) | PG_RW);	/* upgrade without INVLPG */
	expect_pf(wr(VA1, 0), VA1, PGEX_P | PGEX_W, "write through a cached read-only entry faults");
	is_int(wr(VA1, 0), SIM_OK, "the fault dropped the entry: retry re-walks and succeeds");
}

static void
t_tlb_dirty(void)
{
	fresh();
	uint64_t pte = ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW);
	is_int(wr(VA1, 0), SIM_OK, "write fills a dirty TLB entry");
	ok((ptb_read(pte) & PG_D) != 0, "D set");
	ptb_write(pte, ptb_read(pte) & ~PG_D);	/* software clears D, no INVLPG */
	is_int(wr(VA1, 0), SIM_OK, "write again");
	ok((ptb_read(pte) & PG_D) == 0,
	    "entry cached dirty: the write does not set D again (a lost modification)");
	sim_invlpg(VA1);
	wr(VA1, 0);
	ok((ptb_read(pte) & PG_D) != 0, "after INVLPG the write sets D");

	fresh();
	pte = ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW);
	rd(VA1, 0, NULL);
	ok((ptb_read(pte) & PG_D) == 0, "read fills a clean entry");
	is_int(wr(VA1, 0), SIM_OK, "write through the clean entry");
	ok((ptb_read(pte) & PG_D) != 0, "a write through a clean entry re-walks and sets D");

	fresh();
	pte = ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW);
	rd(VA1, 0, NULL);
	ptb_write(pte, ptb_read(pte) & ~PG_RW);	/* write-protect, no INVLPG */
	expect_pf(wr(VA1, 0), VA1, PGEX_P | PGEX_W,
	    "clean entry, PTE write-protected meanwhile: the re-walk faults");
	ok((ptb_read(pte) & PG_D) == 0, "and D stays clear");
}

static void
t_global(void)
{
	fresh();
	sim_write_cr4(CR4_PAE | CR4_PGE);
	uint64_t pte = ptb_map(root, KVA, pg_a, 1, PG_P | PG_RW | PG_G);
	rd(KVA, 0, NULL);
	ptb_write(pte, pg_b | PG_P | PG_RW | PG_G);
	sim_write_cr3(root);
	uint64_t v;
	rd(KVA, 0, &v);
	is_u64(v, 0xaaaaaaaaaaaaaaaaULL, "a global entry survives a CR3 write");
	sim_invpcid(INVPCID_ALL, 0, 0);
	rd(KVA, 0, &v);
	is_u64(v, 0xaaaaaaaaaaaaaaaaULL, "a global entry survives INVPCID type 3");
	sim_invpcid(INVPCID_CTX, 0, 0);
	rd(KVA, 0, &v);
	is_u64(v, 0xaaaaaaaaaaaaaaaaULL, "a global entry survives INVPCID type 1");
	sim_invpcid(INVPCID_ALL_GLOBAL, 0, 0);
	rd(KVA, 0, &v);
	is_u64(v, 0xbbbbbbbbbbbbbbbbULL, "a global entry dies with INVPCID type 2");

	ptb_write(pte, pg_a | PG_P | PG_RW | PG_G);
	sim_invlpg(KVA);
	rd(KVA, 0, &v);
	is_u64(v, 0xaaaaaaaaaaaaaaaaULL, "INVLPG drops a global entry");

	ptb_write(pte, pg_b | PG_P | PG_RW | PG_G);
	sim_write_cr4(CR4_PAE);		/* PGE 1 -> 0 */
	rd(KVA, 0, &v);
	is_u64(v, 0xbbbbbbbbbbbbbbbbULL, "toggling CR4.PGE flushes global entries");

	/* G without CR4.PGE: an ordinary entry, gone with CR3. */
	ptb_write(pte, pg_a | PG_P | PG_RW | PG_G);
	sim_write_cr3(root);
	rd(KVA, 0, &v);
	ptb_write(pte, pg_b | PG_P | PG_RW | PG_G);
	sim_write_cr3(root);
	rd(KVA, 0, &v);
	is_u64(v, 0xbbbbbbbbbbbbbbbbULL, "G is ignored while CR4.PGE=0");
}

static void
t_pcid(void)
{
	fresh();
	uint64_t root2 = ptb_page();
	uint64_t pte1 = ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW);
	ptb_map(root2, VA1, pg_b, 1, PG_P | PG_RW);
	is_int(sim_write_cr3(root | 5), SIM_OK, "CR3 low bits are PWT/PCD with PCIDE=0");
	is_int(sim_write_cr4(CR4_PAE | CR4_PCIDE), SIM_GP,
	    "setting CR4.PCIDE with CR3[11:0] != 0 is #GP");
	sim_write_cr3(root);
	is_int(sim_write_cr3(root | CR3_NOFLUSH), SIM_GP, "CR3 bit 63 with PCIDE=0 is #GP");
	is_int(sim_invpcid(INVPCID_ADDR, 1, VA1), SIM_GP, "INVPCID type 0, PCID 1 with PCIDE=0: #GP");
	is_int(sim_write_cr4(CR4_PAE | CR4_PCIDE), SIM_OK, "PCIDE on");

	uint64_t v;
	sim_write_cr3(root | 1);
	rd(VA1, 0, &v);
	is_u64(v, 0xaaaaaaaaaaaaaaaaULL, "PCID 1 reads page A");
	ptb_write(pte1, pg_b | PG_P | PG_RW);	/* change PCID 1's mapping */
	sim_write_cr3(root2 | 2);
	rd(VA1, 0, &v);
	is_u64(v, 0xbbbbbbbbbbbbbbbbULL, "PCID 2 reads page B");
	sim_invlpg(VA1);			/* while PCID 2 is loaded */
	sim_write_cr3(root | 1 | CR3_NOFLUSH);
	rd(VA1, 0, &v);
	is_u64(v, 0xaaaaaaaaaaaaaaaaULL, "INVLPG under PCID 2 left PCID 1's entry alone");
	sim_write_cr3(root2 | 2 | CR3_NOFLUSH);
	is_int(sim_invpcid(INVPCID_ADDR, 1, VA1), SIM_OK, "INVPCID type 0 for PCID 1");
	sim_write_cr3(root | 1 | CR3_NOFLUSH);
	rd(VA1, 0, &v);
	is_u64(v, 0xbbbbbbbbbbbbbbbbULL, "INVPCID type 0 dropped PCID 1's entry");

	ptb_write(pte1, pg_a | PG_P | PG_RW);
	sim_write_cr3(root | 1 | CR3_NOFLUSH);
	rd(VA1, 0, &v);
	is_u64(v, 0xbbbbbbbbbbbbbbbbULL, "CR3 load with bit 63 keeps the PCID's entries");
	sim_write_cr3(root | 1);
	rd(VA1, 0, &v);
	is_u64(v, 0xaaaaaaaaaaaaaaaaULL, "CR3 load without bit 63 flushes the new PCID");

	ptb_write(pte1, pg_b | PG_P | PG_RW);
	sim_write_cr3(root2 | 2 | CR3_NOFLUSH);
	sim_invpcid(INVPCID_CTX, 1, 0);
	sim_write_cr3(root | 1 | CR3_NOFLUSH);
	rd(VA1, 0, &v);
	is_u64(v, 0xbbbbbbbbbbbbbbbbULL, "INVPCID type 1 flushed PCID 1");
	is_int(sim_invpcid(INVPCID_ADDR, 1, 0x0000800000000000ULL), SIM_GP,
	    "INVPCID type 0 with a non-canonical address: #GP");
	is_int(sim_invpcid(4, 1, 0), SIM_GP, "INVPCID type 4: #GP");

	ptb_write(pte1, pg_a | PG_P | PG_RW);
	sim_write_cr4(CR4_PAE);			/* PCIDE 1 -> 0 flushes all */
	sim_write_cr3(root);
	rd(VA1, 0, &v);
	is_u64(v, 0xaaaaaaaaaaaaaaaaULL, "clearing PCIDE flushed everything");
}

static void
t_psc(void)
{
	/* Replace a page table (PDE points elsewhere) without invalidation. */
	fresh();
	ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW);
	ptb_map(root, VA2, pg_a, 1, PG_P | PG_RW);
	uint64_t v;
	rd(VA1, 0, &v);			/* fills the PDE cache for VA1's 2M region */
	uint64_t pde = ptb_lookup(root, VA1, 2);
	uint64_t newpt = ptb_page();
	ptb_set(newpt, amd64_pt_index(VA2, 1), pg_b | PG_P | PG_RW);
	ptb_write(pde, newpt | PG_P | PG_RW | PG_US);
	rd(VA2, 0, &v);			/* VA2 not in the TLB: a walk, from the PDE cache */
	is_u64(v, 0xaaaaaaaaaaaaaaaaULL,
	    "paging-structure cache: a walk still uses the replaced page table");
	struct sim_audit_report r;
	bool clean = sim_audit(&r);
	ok(!clean && strcmp(r.rule, "stale-psc") == 0,
	    "auditor reports the stale PDE-cache entry (%s)", r.text);
	sim_invlpg(0x0000000000001000ULL);	/* any address: flushes all PSC entries */
	sim_invlpg(VA2);
	rd(VA2, 0, &v);
	is_u64(v, 0xbbbbbbbbbbbbbbbbULL, "after INVLPG the new page table is walked");
	sim_invlpg(VA1);		/* VA1 is not in the new table */
	ok(sim_audit(&r), "auditor clean after the flush (%s)", r.text);
}

static void
t_memtype(void)
{
	fresh();
	ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW);
	is_int(sim_translate(VA1, SIM_READ).memtype, MT_WB, "PAT index 0: WB");
	ptb_map(root, VA2, pg_a, 1, PG_P | PG_RW | PG_PCD | PG_PWT);
	is_int(sim_translate(VA2, SIM_READ).memtype, MT_UC, "PCD|PWT (index 3): UC");
	ptb_map(root, VA2 + 0x1000, pg_a, 1, PG_P | PG_RW | PG_PCD);
	is_int(sim_translate(VA2 + 0x1000, SIM_READ).memtype, MT_UCM, "PCD (index 2): UC-");
	sim_write_pat((PAT_POWERON & ~(0xffULL << 40)) | ((uint64_t)MT_WC << 40));
	ptb_map(root, VA2 + 0x2000, pg_a, 1, PG_P | PG_RW | PG_PAT_4K | PG_PWT);
	is_int(sim_translate(VA2 + 0x2000, SIM_READ).memtype, MT_WC,
	    "PAT|PWT (index 5) after programming PA5 = WC");
}

/* ---- interrupts ---- */

static atomic_int handled[SIM_MAXCPUS];
static atomic_int stage;

static void
count_handler(int vec)
{
	(void)vec;
	atomic_fetch_add(&handled[sim_cpu_id()], 1);
}

static void
crit_body(void *arg)
{
	(void)arg;
	sim_intr_disable();
	atomic_store(&stage, 1);
	while (atomic_load(&stage) != 2)
		sim_cpu_relax();
	uint64_t v;
	sim_load(KVA, 8, &v, 0);	/* an access boundary inside the section */
	atomic_store(&stage, handled[sim_cpu_id()] == 0 ? 3 : 99);
	sim_intr_restore();
	atomic_store(&stage, handled[sim_cpu_id()] == 1 ? 4 : 98);
}

static void
t_ipi(void)
{
	sim_set_intr_handler(1, count_handler);
	for (int i = 0; i < SIM_MAXCPUS; i++)
		atomic_store(&handled[i], 0);
	sim_send_ipi(0xe, 1);		/* CPUs 1-3, idle */
	/* Wait by the clock, not by a spin count: on a loaded host the
	 * targets' threads may not run for a while. */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		sim_cpu_relax();
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while ((handled[1] == 0 || handled[2] == 0 || handled[3] == 0) &&
	    t1.tv_sec - t0.tv_sec < 20);
	ok(handled[1] == 1 && handled[2] == 1 && handled[3] == 1 && handled[0] == 0,
	    "an IPI reaches each idle target once (%d %d %d, self %d)", handled[1],
	    handled[2], handled[3], handled[0]);

	atomic_store(&handled[1], 0);
	atomic_store(&stage, 0);
	sim_run_async(1, crit_body, NULL);
	while (atomic_load(&stage) != 1)
		sim_cpu_relax();
	sim_send_ipi(1ULL << 1, 1);
	atomic_store(&stage, 2);
	sim_wait(1);
	is_int(atomic_load(&stage), 4,
	    "an IPI is held back inside a critical section and taken at its end");
}

/* Two CPUs interrupt each other and each waits for the other's answer:
 * a waiting CPU keeps taking interrupts, so neither is stuck. */
static atomic_int acked[SIM_MAXCPUS];

static void
ack_handler(int vec)
{
	(void)vec;
	atomic_fetch_add(&acked[sim_cpu_id()], 1);
}

static bool
peer_acked(void *arg)
{
	int *want = arg;
	return atomic_load(&acked[want[0]]) >= want[1];
}

static void
mutual(void *arg)
{
	int peer = *(int *)arg;
	for (int i = 1; i <= 200; i++) {
		sim_send_ipi(1ULL << peer, 2);
		int want[2] = { peer, i };
		sim_cpu_wait(peer_acked, want);
	}
}

static void
t_mutual_ipi(void)
{
	sim_set_intr_handler(2, ack_handler);
	atomic_store(&acked[1], 0);
	atomic_store(&acked[2], 0);
	int p1 = 2, p2 = 1;
	sim_run_async(1, mutual, &p1);
	sim_run_async(2, mutual, &p2);
	sim_wait(1);
	sim_wait(2);
	ok(atomic_load(&acked[1]) >= 200 && atomic_load(&acked[2]) >= 200,
	    "two CPUs that interrupt each other and wait for the answer both finish "
	    "(%d and %d interrupts taken)", atomic_load(&acked[1]), atomic_load(&acked[2]));
}

/* ---- auditor ---- */

static void
t_audit(void)
{
	fresh();
	ptb_map(root, VA1, pg_a, 1, PG_P | PG_RW);
	struct sim_audit_report r;
	rd(VA1, 0, NULL);
	ok(sim_audit(&r), "auditor: clean state passes (%s)", r.text);

	sim_tlb_plant(VA2, 1, pg_b, 0, true, false, false, false, false);
	ok(!sim_audit(&r) && strcmp(r.rule, "stale-translation") == 0 && r.va == VA2 &&
	    r.cpu == 0, "auditor catches a planted stale entry: %s", r.text);
	sim_invlpg(VA2);

	uint64_t freed = ptb_page();
	sim_page_free(freed);
	sim_tlb_plant(VA2, 1, freed, 0, true, false, false, false, false);
	ok(!sim_audit(&r) && strcmp(r.rule, "freed-page") == 0,
	    "auditor catches an entry pointing at a freed page: %s", r.text);
	sim_invlpg(VA2);

	uint64_t pte = ptb_lookup(root, VA1, 1);
	wr(VA1, 0);
	ptb_write(pte, ptb_read(pte) & ~PG_D);
	ok(!sim_audit(&r) && strcmp(r.rule, "stale-dirty") == 0,
	    "auditor catches a TLB entry cached dirty after D was cleared: %s", r.text);
	sim_invlpg(VA1);

	rd(VA1, 0, NULL);
	ptb_write(pte, ptb_read(pte) & ~PG_RW);
	ok(!sim_audit(&r) && strcmp(r.rule, "stale-rights") == 0,
	    "auditor catches a writable entry after write-protection: %s", r.text);
	sim_invlpg(VA1);
	ok(sim_audit(&r), "clean again after INVLPG (%s)", r.text);
}

static char free_report[512];
static void
free_hook(const char *text)
{
	snprintf(free_report, sizeof(free_report), "%s", text);
}

static void
t_audit_on_free(void)
{
	fresh();
	uint64_t data = ptb_page();
	uint64_t pte = ptb_map(root, VA1, data, 1, PG_P | PG_RW);
	rd(VA1, 0, NULL);
	ptb_write(pte, 0);		/* unmapped but not invalidated */
	sim_set_free_violation_hook(free_hook);
	sim_set_audit_on_free(true);
	free_report[0] = 0;
	sim_page_free(data);
	sim_set_audit_on_free(false);
	ok(strstr(free_report, "freed-page") != NULL,
	    "freeing a page a TLB still maps is reported at once: %s", free_report);
	sim_invlpg(VA1);
}

/* ---- capacity mode and allocator ---- */

static void
t_capacity(void)
{
	fresh();
	for (int i = 0; i < 64; i++)
		ptb_map(root, VA1 + (uint64_t)i * 4096, pg_a, 1, PG_P | PG_RW);
	for (int i = 0; i < 64; i++)
		rd(VA1 + (uint64_t)i * 4096, 0, NULL);
	struct sim_cpu_stats s = sim_cpu_stats(sim_cpu_id());
	ok(s.tlb_entries + s.psc_entries <= 16,
	    "capacity mode keeps at most 16 entries (%llu TLB + %llu PSC)",
	    (unsigned long long)s.tlb_entries, (unsigned long long)s.psc_entries);
}

static void
t_allocator(void)
{
	uint64_t before = sim_pages_free(), pa;
	sim_alloc_fail_nth(3);
	int r1 = sim_page_alloc(&pa);
	sim_page_free(pa);
	int r2 = sim_page_alloc(&pa);
	sim_page_free(pa);
	int r3 = sim_page_alloc(&pa);
	int r4 = sim_page_alloc(&pa);
	ok(r1 == 0 && r2 == 0 && r3 == -1 && r4 == 0, "fail-nth(3) fails exactly the third allocation");
	sim_page_free(pa);
	is_u64(sim_pages_free(), before, "a failed allocation changes nothing");
	ok(sim_page_free_p(pa), "the free map knows a freed page");
	sim_alloc_fail_prob(1000000);
	ok(sim_page_alloc(&pa) == -1, "probability 1: every allocation fails");
	sim_alloc_fail_prob(0);
	ok(sim_page_alloc(&pa) == 0 && !sim_page_free_p(pa), "probability 0: allocation works again");
	sim_page_free(pa);
}

/* ================================================================== */
/* i386 mode: legacy 32-bit paging (SDM vol. 3A 4.3)                   */
/* ================================================================== */

#define V32_E	0x40200000ULL	/* PT index 0x200: an 8-byte-aligned PTE slot */
#define V32_1	0x40201000ULL
#define V32_2	0x40202000ULL	/* same 4 MiB region (same PDE) as V32_1 */
#define V32_3	0x40203000ULL
#define K32	0xc0345000ULL	/* a "kernel" address */
#define BIG32	0x80000000ULL	/* a 4 MiB-aligned address */
#define F4M	0x40000000ULL	/* 4 MiB-aligned RAM frames the tests never allocate */
#define F4M2	0x40400000ULL
#define AAAA	0xaaaaaaaaaaaaaaaaULL
#define BBBB	0xbbbbbbbbbbbbbbbbULL
#define RAM_END32 ((1ULL << 20) + (1536ULL << 20))	/* one segment at 1 MiB */

/* Fresh page directory and default control registers (PSE on, PGE off). */
static void
fresh32(void)
{
	root = ptb_page();
	pg_a = ptb_page();
	pg_b = ptb_page();
	*(uint64_t *)sim_phys_ptr(pg_a) = AAAA;
	*(uint64_t *)sim_phys_ptr(pg_b) = BBBB;
	sim_write_cr4(CR4_PSE);		/* PGE off: flushes everything if it was on */
	sim_write_cr0(CR0_PG | CR0_WP);
	sim_write_efer(0);
	sim_write_pat(PAT_POWERON);
	sim_write_cr3(root);
	/* The untracked 4 MiB frames: first page zero (a page table of nothing
	 * when PS is ignored), a marker in the middle. */
	memset(sim_phys_ptr(F4M), 0, SIM_PAGE_SIZE);
	memset(sim_phys_ptr(F4M2), 0, SIM_PAGE_SIZE);
	*(uint64_t *)sim_phys_ptr(F4M + 0x200000) = 0x1111;
	*(uint64_t *)sim_phys_ptr(F4M2 + 0x200000) = 0x2222;
	/* F4M/F4M2 are RAM nobody allocated: exempt the 4 MiB va from the
	 * freed-page rule (the other rules still apply). */
	sim_audit_direct_map(BIG32, BIG32 + I386_SIZE_4M);
}

static uint64_t
rd32(uint64_t va)
{
	uint64_t v = 0;
	if (sim_load(va, 8, &v, 0) != SIM_OK)
		return 0xdeadULL;
	return v;
}

static void
t32_walk(void)
{
	is_int(sim_maxphyaddr(), 32, "i386: MAXPHYADDR forced to 32 (config said 46)");
	is_u64(sim_pages_total(), (1536ULL << 20) / SIM_PAGE_SIZE, "i386: 1.5 GiB of RAM");
	fresh32();
	ptb32_map(root, V32_1, pg_a, 1, PG_P | PG_RW | PG_US);
	uint64_t v = 0;
	is_int(rd(V32_1, 0, &v), SIM_OK, "i386: 4K read succeeds");
	is_u64(v, AAAA, "i386: 4K read returns the frame's data");
	struct sim_xlate x = sim_translate(V32_1 + 0x123, SIM_READ);
	ok(x.result == SIM_OK && x.pa == pg_a + 0x123 && x.level == 1,
	    "i386: 4K translation keeps the page offset (got %#llx level %d)",
	    (unsigned long long)x.pa, x.level);
	uint64_t s1 = ptb32_lookup(root, V32_1, 1);
	ptb32_write(s1 + 4, pg_b | PG_P | PG_RW);
	is_u64(rd32(V32_2), BBBB, "i386: PTEs are 4 bytes: the next page's PTE is 4 bytes on");
	ok(ptb32_lookup(root, V32_1, 2) == root + 4 * (V32_1 >> 22),
	    "i386: the PDE is PD[va >> 22]");

	ptb32_map(root, BIG32, F4M, 2, PG_P | PG_RW);
	x = sim_translate(BIG32 + 0x123456, SIM_READ);
	ok(x.result == SIM_OK && x.pa == F4M + 0x123456 && x.level == 2,
	    "4M page: pa = frame + bits 21:0, level 2 (got %#llx level %d)",
	    (unsigned long long)x.pa, x.level);
	is_int(sim_store(BIG32 + 0x3ffff8, 8, 0x1122334455667788ULL, 0), SIM_OK,
	    "store to the last quadword of a 4M page");
	is_u64(*(uint64_t *)sim_phys_ptr(F4M + 0x3ffff8), 0x1122334455667788ULL,
	    "the store landed at frame + offset");

	/* The top of the 1.5 GiB machine, through a 4M and a 4K page. */
	uint64_t top4m = (RAM_END32 & ~(I386_SIZE_4M - 1)) - I386_SIZE_4M;
	uint64_t last = RAM_END32 - SIM_PAGE_SIZE;
	ok(sim_pa_is_ram(last) && !sim_pa_is_ram(RAM_END32), "RAM ends at %#llx",
	    (unsigned long long)RAM_END32);
	ptb32_map(root, BIG32 + I386_SIZE_4M, top4m, 2, PG_P | PG_RW);
	sim_store(BIG32 + 2 * I386_SIZE_4M - 8, 8, 0x77, 0);
	is_u64(*(uint64_t *)sim_phys_ptr(top4m + I386_SIZE_4M - 8), 0x77,
	    "a store to the end of the highest 4M frame reaches that RAM");
	ptb32_map(root, V32_3, last, 1, PG_P | PG_RW);
	sim_store(V32_3 + 0xff8, 8, 0x5a5a, 0);
	is_u64(*(uint64_t *)((char *)sim_phys_ptr(last) + 0xff8), 0x5a5a,
	    "the last RAM page: sim_phys_ptr of its start is good for the whole page");
	ptb32_map(root, V32_E, RAM_END32, 1, PG_P | PG_RW);
	is_u64(rd32(V32_E), ~0ULL, "a page past the end of RAM reads all ones");

	is_int(rd(1ULL << 32, 0, NULL), SIM_GP, "i386: va >= 2^32 is a caller bug: SIM_GP");
	is_int(sim_last_fault().vector, 13, "with vector 13");
	is_int(sim_walk_pure(sim_cpu_id(), root, (1ULL << 32) + V32_1, SIM_READ).result, SIM_GP,
	    "sim_walk_pure of va >= 2^32: SIM_GP");
	x = sim_walk_pure(sim_cpu_id(), root, BIG32 + 0x2345, SIM_WRITE);
	ok(x.result == SIM_OK && x.level == 2 && x.pa == F4M + 0x2345,
	    "sim_walk_pure in i386 mode walks 4-byte entries and 4M leaves");
}

static void
t32_registers(void)
{
	fresh32();
	ptb32_map(root, V32_1, pg_a, 1, PG_P | PG_RW);
	is_int(sim_write_cr3(root | (1ULL << 32)), SIM_GP, "i386: CR3 bit 32 set: #GP");
	is_int(sim_write_cr3(root | CR3_NOFLUSH), SIM_GP, "i386: CR3 bit 63 set: #GP");
	is_u64(sim_read_cr3(), root, "a refused CR3 load changes nothing");
	is_int(sim_write_cr3(root | CR3_PWT | CR3_PCD | 0x7), SIM_OK,
	    "CR3 with PWT, PCD and ignored bits 2:0 is accepted");
	is_u64(rd32(V32_1), AAAA, "the low bits of CR3 are not part of the PD address");
	is_int(sim_write_cr4(CR4_PSE | CR4_PCIDE), SIM_GP, "i386: CR4.PCIDE=1 is #GP");
	is_int(sim_write_cr4(CR4_PSE | CR4_PAE), SIM_GP, "i386: CR4.PAE=1 is refused (SIM_GP)");
	is_u64(sim_read_cr4(), CR4_PSE, "CR4 unchanged, PAE reads 0");
	bool all_gp = true;
	for (int type = 0; type < 4; type++)
		all_gp = all_gp && sim_invpcid(type, 0, V32_1) == SIM_GP;
	ok(all_gp, "i386: INVPCID of every type is SIM_GP");
	sim_write_efer(EFER_NXE);
	is_u64(sim_read_efer(), EFER_NXE, "i386: EFER is kept as written");
}

static void
t32_pse(void)
{
	fresh32();
	/* F4M doubles as a page table: its PTE for BIG32 + 0x5000 maps pg_a. */
	ptb32_write(F4M + 4 * ptb32_index(BIG32 + 0x5000, 1), pg_a | PG_P | PG_RW);
	uint64_t pde = ptb32_lookup(root, BIG32, 2);
	ptb32_write(pde, F4M | PG_P | PG_RW | I386_PG_PS);
	sim_write_cr4(0);
	struct sim_xlate x = sim_translate(BIG32 + 0x5010, SIM_READ);
	ok(x.result == SIM_OK && x.level == 1 && x.pa == pg_a + 0x10,
	    "CR4.PSE=0: PS is ignored, the PDE references a page table (got %#llx level %d)",
	    (unsigned long long)x.pa, x.level);
	expect_pf(rd(BIG32 + 0x6000, 0, NULL), BIG32 + 0x6000, 0,
	    "CR4.PSE=0: a page that table does not map is not present");
	sim_write_cr4(CR4_PSE);
	sim_invlpg(BIG32 + 0x5000);
	x = sim_translate(BIG32 + 0x5010, SIM_READ);
	ok(x.result == SIM_OK && x.level == 2 && x.pa == F4M + 0x5010,
	    "CR4.PSE=1: the same PDE maps a 4M page (got %#llx level %d)",
	    (unsigned long long)x.pa, x.level);
	sim_invlpg(BIG32);

	/* Bits 21:13 of a 4 MiB PDE are reserved with MAXPHYADDR 32. */
	int bad = -1;
	for (int b = 13; b <= 21; b++) {
		ptb32_write(pde, F4M | (1ULL << b) | PG_P | PG_RW | I386_PG_PS);
		int r = rd(BIG32 + 0x10, 0, NULL);
		if (r != SIM_PF || sim_last_fault().error_code != (PGEX_P | PGEX_RSVD))
			bad = b;
		sim_invlpg(BIG32);
	}
	ok(bad < 0, "4M PDE: each of bits 21:13 is a RSVD fault (first miss: bit %d)", bad);
	ptb32_write(pde, F4M | (1ULL << 17) | PG_P | PG_RW | PG_US | I386_PG_PS);
	expect_pf(wr(BIG32, SIM_ACC_USER), BIG32, PGEX_P | PGEX_W | PGEX_U | PGEX_RSVD,
	    "4M PDE bit 17, user write");
	sim_write_cr4(0);
	expect_pf(rd(BIG32 + 0x7000, 0, NULL), BIG32 + 0x7000, 0,
	    "the same PDE with CR4.PSE=0: bits 21:13 are table address bits, no RSVD");
	sim_write_cr4(CR4_PSE);
	sim_invlpg(BIG32);
	ptb32_write(pde, F4M | PG_PAT_LG | PG_P | PG_RW | I386_PG_PS);
	sim_write_pat((PAT_POWERON & ~(0xffULL << 32)) | ((uint64_t)MT_WC << 32));
	x = sim_translate(BIG32, SIM_READ);
	ok(x.result == SIM_OK && x.memtype == MT_WC,
	    "4M PDE bit 12 is PAT, not reserved (PAT index 4 = WC)");

	/* PTEs and PDEs that reference tables have no reserved bits. */
	fresh32();
	uint64_t pte = ptb32_map(root, V32_1, pg_a, 1, PG_P | PG_RW);
	ptb32_write(pte, ptb32_read(pte) | PG_PWT | PG_PCD | PG_A | PG_D | PG_PAT_4K | PG_G |
	    PG_AVL0 | PG_AVL1 | PG_AVL2);
	uint64_t pde1 = ptb32_lookup(root, V32_1, 2);
	ptb32_write(pde1, ptb32_read(pde1) | PG_D | PG_G | PG_AVL0 | PG_AVL1 | PG_AVL2);
	is_int(rd(V32_1, 0, NULL), SIM_OK, "every bit of a PTE and of a table PDE may be set");
	is_int(sim_translate(V32_1, SIM_READ).memtype, MT_UC,
	    "PTE bit 7 is PAT: index 7 (PAT|PCD|PWT) = UC");
}

static void
t32_errors(void)
{
	for (int level = 2; level >= 1; level--) {
		fresh32();
		ptb32_map(root, V32_1, pg_a, 1, PG_P | PG_RW | PG_US);
		uint64_t e = ptb32_lookup(root, V32_1, level);
		ptb32_write(e, ptb32_read(e) & ~PG_P);
		char what[64];
		snprintf(what, sizeof(what), "i386: P=0 in the level-%d entry", level);
		expect_pf(rd(V32_1, 0, NULL), V32_1, 0, what);
	}
	fresh32();
	sim_write_efer(EFER_NXE);	/* no effect in this mode */
	expect_pf(wr(V32_1, 0), V32_1, PGEX_W, "i386: unmapped, supervisor write");
	expect_pf(rd(V32_1, SIM_ACC_USER, NULL), V32_1, PGEX_U, "i386: unmapped, user read");
	expect_pf(wr(V32_1, SIM_ACC_USER), V32_1, PGEX_W | PGEX_U, "i386: unmapped, user write");
	expect_pf(sim_fetch(V32_1, 0), V32_1, 0,
	    "i386: unmapped fetch, SMEP=0: no I/D even with EFER.NXE=1");
	sim_write_cr4(CR4_PSE | CR4_SMEP);
	expect_pf(sim_fetch(V32_1, 0), V32_1, PGEX_I, "i386: unmapped fetch, SMEP=1: I/D");
	expect_pf(sim_fetch(V32_1, SIM_ACC_USER), V32_1, PGEX_U | PGEX_I,
	    "i386: unmapped user fetch, SMEP=1: I/D");

	/* Protection. */
	fresh32();
	ptb32_map(root, V32_1, pg_a, 1, PG_P);		/* read-only, supervisor */
	expect_pf(rd(V32_1, SIM_ACC_USER, NULL), V32_1, PGEX_P | PGEX_U,
	    "i386: user read of a supervisor page");
	expect_pf(sim_fetch(V32_1, SIM_ACC_USER), V32_1, PGEX_P | PGEX_U,
	    "i386: user fetch of a supervisor page, SMEP=0: no I/D");
	expect_pf(wr(V32_1, 0), V32_1, PGEX_P | PGEX_W, "i386: supervisor write, read-only, WP=1");
	sim_write_cr0(CR0_PG);
	is_int(wr(V32_1, 0), SIM_OK, "i386: supervisor write, read-only, WP=0 succeeds");
	sim_write_cr0(CR0_PG | CR0_WP);
	expect_pf(wr(V32_1, 0), V32_1, PGEX_P | PGEX_W,
	    "i386: WP back to 1: the same write faults (rights apply at access time)");
	ptb32_map(root, V32_2, pg_a, 1, PG_P | PG_US);	/* read-only, user */
	expect_pf(wr(V32_2, SIM_ACC_USER), V32_2, PGEX_P | PGEX_W | PGEX_U,
	    "i386: user write, read-only user page");
	sim_write_cr0(CR0_PG);
	expect_pf(wr(V32_2, SIM_ACC_USER), V32_2, PGEX_P | PGEX_W | PGEX_U,
	    "i386: user writes honour R/W with WP=0");
	sim_write_cr0(CR0_PG | CR0_WP);

	/* R/W and U/S are ANDed across the PDE and the PTE. */
	fresh32();
	ptb32_map(root, V32_1, pg_a, 1, PG_P | PG_RW | PG_US);
	uint64_t pde = ptb32_lookup(root, V32_1, 2);
	ptb32_write(pde, ptb32_read(pde) & ~PG_RW);
	expect_pf(wr(V32_1, 0), V32_1, PGEX_P | PGEX_W, "i386: PDE R/W=0, supervisor write");
	ptb32_write(pde, (ptb32_read(pde) | PG_RW) & ~PG_US);
	sim_invlpg(V32_1);
	expect_pf(rd(V32_1, SIM_ACC_USER, NULL), V32_1, PGEX_P | PGEX_U,
	    "i386: PDE U/S=0, user read");
	is_int(wr(V32_1, 0), SIM_OK, "i386: PDE U/S=0, supervisor write");

	/* No XD: with 4-byte entries the "bit 63" of an 8-byte view is bit 31
	 * of the next PTE; nothing may read it as execute-disable. */
	fresh32();
	sim_write_efer(EFER_NXE);
	uint64_t pte = ptb32_map(root, V32_E, pg_a, 1, PG_P | PG_US);
	ptb32_write(pte + 4, 0x80000000ULL | PG_P | PG_US);
	is_int(sim_fetch(V32_E, SIM_ACC_USER), SIM_OK,
	    "i386: user fetch from a read-only user page succeeds (no XD), NXE=1");
	is_int(sim_fetch(V32_E, 0), SIM_OK, "i386: supervisor fetch from a user page, SMEP=0");
	sim_write_cr4(CR4_PSE | CR4_SMEP);
	expect_pf(sim_fetch(V32_E, 0), V32_E, PGEX_P | PGEX_I,
	    "i386: supervisor fetch from a user page, SMEP=1");
	is_int(sim_fetch(V32_E, SIM_ACC_USER), SIM_OK, "i386: SMEP does not stop user fetches");

	/* SMAP. */
	fresh32();
	ptb32_map(root, V32_1, pg_a, 1, PG_P | PG_US);
	sim_write_cr4(CR4_PSE | CR4_SMAP);
	expect_pf(rd(V32_1, 0, NULL), V32_1, PGEX_P, "i386: SMAP, supervisor read of a user page");
	is_int(rd(V32_1, SIM_ACC_AC, NULL), SIM_OK, "i386: SMAP, the same read with AC=1");
	expect_pf(wr(V32_1, SIM_ACC_AC), V32_1, PGEX_P | PGEX_W,
	    "i386: SMAP+AC, write to a read-only user page with WP=1");
}

static void
t32_accessed_dirty(void)
{
	fresh32();
	uint64_t pte = ptb32_map(root, V32_E, pg_a, 1, PG_P | PG_RW | PG_US);
	uint64_t pde = ptb32_lookup(root, V32_E, 2);
	ptb32_write(pte + 4, 0x12345000ULL | PG_P);	/* the neighbour PTE */
	is_int(rd(V32_E, 0, NULL), SIM_OK, "i386: read");
	ok((ptb32_read(pde) & ptb32_read(pte) & PG_A) != 0, "i386: a read sets A in the PDE and the PTE");
	ok(((ptb32_read(pde) | ptb32_read(pte)) & PG_D) == 0, "i386: a read sets D nowhere");
	is_int(wr(V32_E, 0), SIM_OK, "i386: write");
	ok((ptb32_read(pte) & PG_D) != 0, "i386: a write sets D in the PTE");
	ok((ptb32_read(pde) & PG_D) == 0, "i386: and not in the PDE that references the table");
	is_u64(ptb32_read(pte + 4), 0x12345000ULL | PG_P,
	    "i386: A/D updates are 4 bytes wide: the neighbour PTE is untouched");

	uint64_t s2 = ptb32_map(root, BIG32, F4M, 2, PG_P | PG_RW);
	rd(BIG32, 0, NULL);
	ok((ptb32_read(s2) & (PG_A | PG_D)) == PG_A, "i386: a read through a 4M page sets A only");
	is_int(wr(BIG32 + 8, 0), SIM_OK, "i386: write through the clean 4M entry");
	ok((ptb32_read(s2) & (PG_A | PG_D)) == (PG_A | PG_D),
	    "i386: the write re-walks and sets D in the 4M PDE");

	fresh32();
	pte = ptb32_map(root, V32_1, pg_a, 1, PG_RW);	/* P=0 */
	pde = ptb32_lookup(root, V32_1, 2);
	expect_pf(rd(V32_1, 0, NULL), V32_1, 0, "i386: read of a not-present PTE");
	ok((ptb32_read(pde) & PG_A) != 0, "i386 AD_UPPER: A set in the PDE the faulting walk used");
	ok((ptb32_read(pte) & PG_A) == 0, "i386: no A in the not-present PTE");

	fresh32();
	pte = ptb32_map(root, V32_1, pg_a, 1, PG_P);
	expect_pf(wr(V32_1, SIM_ACC_USER), V32_1, PGEX_P | PGEX_W | PGEX_U,
	    "i386: user write, supervisor read-only page");
	ok((ptb32_read(pte) & (PG_A | PG_D)) == 0, "i386: a faulting access sets no A/D in the leaf");
}

static void
t32_tlb(void)
{
	fresh32();
	uint64_t pte = ptb32_map(root, V32_1, pg_a, 1, PG_P | PG_RW);
	rd32(V32_1);
	ptb32_write(pte, pg_b | PG_P | PG_RW);
	is_u64(rd32(V32_1), AAAA, "i386: changed PTE without INVLPG: the old page is read");
	sim_invlpg(V32_1);
	is_u64(rd32(V32_1), BBBB, "i386: after INVLPG the new page is read");
	ptb32_write(pte, 0);
	is_int(rd(V32_1, 0, NULL), SIM_OK, "i386: unmapped PTE without INVLPG: stale entry used");
	sim_invlpg(V32_1);
	expect_pf(rd(V32_1, 0, NULL), V32_1, 0, "i386: after INVLPG the unmapped page faults");

	uint64_t pde = ptb32_map(root, BIG32, F4M, 2, PG_P | PG_RW);
	is_u64(rd32(BIG32 + 0x200000), 0x1111, "i386: 4M page read");
	ptb32_write(pde, F4M2 | PG_P | PG_RW | I386_PG_PS);
	is_u64(rd32(BIG32 + 0x200000), 0x1111, "i386: 4M PDE changed without INVLPG: old frame");
	sim_invlpg(BIG32 + 0x3ff000);
	is_u64(rd32(BIG32 + 0x200000), 0x2222,
	    "i386: INVLPG of another address inside the 4M page drops its entry");

	struct sim_cpu_stats s0 = sim_cpu_stats(sim_cpu_id());
	rd32(BIG32 + 0x200000);
	rd32(BIG32 + 0x201000);
	rd32(BIG32 + 0x200008);
	struct sim_cpu_stats s1 = sim_cpu_stats(sim_cpu_id());
	ok(s1.walks == s0.walks && s1.tlb_hits - s0.tlb_hits == 3,
	    "i386: accesses anywhere in a cached 4M page are TLB hits (%llu walks, %llu hits)",
	    (unsigned long long)(s1.walks - s0.walks),
	    (unsigned long long)(s1.tlb_hits - s0.tlb_hits));
	ok(sim_tlb_present(BIG32 + 0x3ff123), "sim_tlb_present sees the 4M entry");
	sim_invlpg(BIG32 + 0x1000);
	ok(!sim_tlb_present(BIG32), "and not after INVLPG");
}

static void
t32_psc(void)
{
	fresh32();
	ptb32_map(root, V32_1, pg_a, 1, PG_P | PG_RW);
	ptb32_map(root, V32_2, pg_a, 1, PG_P | PG_RW);
	ptb32_map(root, V32_3, pg_a, 1, PG_P | PG_RW);
	rd32(V32_1);			/* caches the PDE of V32_1's 4M region */
	struct sim_cpu_stats st = sim_cpu_stats(sim_cpu_id());
	ok(st.psc_entries == 1 && st.tlb_entries == 1,
	    "i386: one walk caches one PDE and one translation (%llu PSC, %llu TLB)",
	    (unsigned long long)st.psc_entries, (unsigned long long)st.tlb_entries);
	uint64_t pde = ptb32_lookup(root, V32_1, 2);
	uint64_t newpt = ptb_page();
	ptb32_write(newpt + 4 * ptb32_index(V32_1, 1), pg_a | PG_P | PG_RW);
	ptb32_write(newpt + 4 * ptb32_index(V32_2, 1), pg_b | PG_P | PG_RW);
	ptb32_write(newpt + 4 * ptb32_index(V32_3, 1), pg_b | PG_P | PG_RW);
	ptb32_write(pde, newpt | PG_P | PG_RW | PG_US);
	struct sim_audit_report r;
	ok(!sim_audit(&r) && strcmp(r.rule, "stale-psc") == 0 && strstr(r.text, "PDE-cache"),
	    "i386: the auditor reports the stale PDE-cache entry (%s)", r.text);
	is_u64(rd32(V32_2), AAAA, "i386: a walk from the stale PDE-cache entry uses the old table");
	sim_invlpg(0x00001000ULL);	/* another 4M region */
	is_u64(rd32(V32_3), BBBB, "i386: INVLPG of any address drops every PDE-cache entry");
	is_u64(rd32(V32_2), AAAA, "i386: ... but not V32_2's TLB entry");
	sim_invlpg(V32_2);
	ok(sim_audit(&r), "i386: auditor clean after the flushes (%s)", r.text);

	fresh32();
	ptb32_map(root, V32_1, pg_a, 1, PG_P | PG_RW);
	ptb32_map(root, V32_3, pg_a, 1, PG_P | PG_RW);
	rd32(V32_1);
	pde = ptb32_lookup(root, V32_1, 2);
	newpt = ptb_page();
	ptb32_write(newpt + 4 * ptb32_index(V32_3, 1), pg_b | PG_P | PG_RW);
	ptb32_write(pde, newpt | PG_P | PG_RW);
	sim_write_cr3(root);
	st = sim_cpu_stats(sim_cpu_id());
	is_u64(st.psc_entries, 0, "i386: MOV to CR3 drops the PDE cache");
	is_u64(rd32(V32_3), BBBB, "i386: after MOV to CR3 the new page table is walked");

	fresh32();
	ptb32_map(root, BIG32, F4M, 2, PG_P | PG_RW);
	rd32(BIG32);
	st = sim_cpu_stats(sim_cpu_id());
	ok(st.psc_entries == 0 && st.tlb_entries == 1,
	    "i386: a 4M PDE is a leaf, not a PDE-cache entry (%llu PSC)",
	    (unsigned long long)st.psc_entries);
}

static void
t32_global(void)
{
	fresh32();
	sim_write_cr4(CR4_PSE | CR4_PGE);
	uint64_t pte = ptb32_map(root, K32, pg_a, 1, PG_P | PG_RW | PG_G);
	uint64_t pde4m = ptb32_map(root, BIG32, F4M, 2, PG_P | PG_RW | PG_G);
	uint64_t ng = ptb32_map(root, V32_1, pg_a, 1, PG_P | PG_RW);
	rd32(K32);
	rd32(BIG32 + 0x200000);
	rd32(V32_1);
	ptb32_write(pte, pg_b | PG_P | PG_RW | PG_G);
	ptb32_write(pde4m, F4M2 | PG_P | PG_RW | PG_G | I386_PG_PS);
	ptb32_write(ng, pg_b | PG_P | PG_RW);
	sim_write_cr3(root);
	is_u64(rd32(K32), AAAA, "i386: a global 4K entry survives MOV to CR3");
	is_u64(rd32(BIG32 + 0x200000), 0x1111, "i386: a global 4M entry survives MOV to CR3");
	is_u64(rd32(V32_1), BBBB, "i386: a non-global entry does not");
	sim_invlpg(K32);
	is_u64(rd32(K32), BBBB, "i386: INVLPG drops a global entry");
	sim_write_cr4(CR4_PSE);		/* PGE 1 -> 0 */
	is_u64(rd32(BIG32 + 0x200000), 0x2222, "i386: clearing CR4.PGE flushes global entries");

	ptb32_write(pte, pg_a | PG_P | PG_RW | PG_G);
	rd32(K32);
	ptb32_write(pte, pg_b | PG_P | PG_RW | PG_G);
	sim_write_cr3(root);
	is_u64(rd32(K32), BBBB, "i386: G is ignored while CR4.PGE=0");
	ptb32_write(pte, pg_a | PG_P | PG_RW | PG_G);
	sim_write_cr4(CR4_PSE | CR4_PGE);	/* PGE 0 -> 1 */
	is_u64(rd32(K32), AAAA, "i386: setting CR4.PGE flushes too");
}

/* 4.10.4.1 names PGE, PCIDE, PAE and SMEP as the CR4 bits whose change
 * invalidates; a CR4.PSE change does not, so the model keeps the entries. */
static void
t32_pse_change(void)
{
	fresh32();
	ptb32_map(root, BIG32, F4M, 2, PG_P | PG_RW);
	is_u64(rd32(BIG32 + 0x200000), 0x1111, "i386: a 4M page");
	sim_write_cr4(0);		/* PSE 1 -> 0: the PDE now references a table */
	is_u64(rd32(BIG32 + 0x200000), 0x1111,
	    "clearing CR4.PSE invalidates nothing: the 4M entry is still used");
	struct sim_audit_report r;
	ok(!sim_audit(&r) && strcmp(r.rule, "stale-translation") == 0 && strstr(r.text, "TLB 4M"),
	    "the auditor flags the 4M entry the page tables no longer give (%s)", r.text);
	sim_invlpg(BIG32);
	expect_pf(rd(BIG32 + 0x200000, 0, NULL), BIG32 + 0x200000, 0,
	    "after INVLPG the walk goes through the (empty) page table");
	sim_write_cr4(CR4_PSE);
}

static void
dump_line(const char *line, void *arg)
{
	char *buf = arg;
	size_t n = strlen(buf);
	snprintf(buf + n, 2048 - n, "%s\n", line);
}

static void
t32_audit(void)
{
	fresh32();
	ptb32_map(root, V32_1, pg_a, 1, PG_P | PG_RW);
	ptb32_map(root, BIG32, F4M, 2, PG_P | PG_RW);
	rd32(V32_1);
	rd32(BIG32);
	struct sim_audit_report r;
	ok(sim_audit(&r), "i386 auditor: clean state passes (%s)", r.text);

	char dump[2048] = "";
	sim_tlb_dump(sim_cpu_id(), dump_line, dump);
	ok(strstr(dump, "TLB 4M") && strstr(dump, "TLB 4K") && strstr(dump, "PDE-cache") &&
	    !strstr(dump, "PDPTE"), "sim_tlb_dump names the i386 entries");

	sim_tlb_plant(V32_2, 1, pg_b, 0, true, false, false, false, false);
	ok(!sim_audit(&r) && strcmp(r.rule, "stale-translation") == 0 && r.va == V32_2,
	    "i386 auditor catches a planted stale 4K entry: %s", r.text);
	sim_invlpg(V32_2);
	sim_tlb_plant(BIG32, 2, F4M2, 0, true, false, false, false, false);
	ok(!sim_audit(&r) && strcmp(r.rule, "stale-translation") == 0 && r.va == BIG32,
	    "i386 auditor catches a 4M entry with the wrong frame: %s", r.text);
	sim_invlpg(BIG32);

	uint64_t freed = ptb_page();
	sim_page_free(freed);
	sim_tlb_plant(V32_2, 1, freed, 0, true, false, false, false, false);
	ok(!sim_audit(&r) && strcmp(r.rule, "freed-page") == 0,
	    "i386 auditor catches an entry pointing at a freed page: %s", r.text);
	sim_invlpg(V32_2);

	uint64_t pte = ptb32_lookup(root, V32_1, 1);
	wr(V32_1, 0);
	ptb32_write(pte, ptb32_read(pte) & ~PG_D);
	ok(!sim_audit(&r) && strcmp(r.rule, "stale-dirty") == 0,
	    "i386 auditor catches an entry cached dirty after D was cleared: %s", r.text);
	sim_invlpg(V32_1);
	rd32(V32_1);
	ptb32_write(pte, ptb32_read(pte) & ~PG_RW);
	ok(!sim_audit(&r) && strcmp(r.rule, "stale-rights") == 0,
	    "i386 auditor catches a writable entry after write-protection: %s", r.text);
	sim_invlpg(V32_1);
	ok(sim_audit(&r), "i386: clean again after INVLPG (%s)", r.text);

	/* Free-time checks. */
	fresh32();
	uint64_t data = ptb_page();
	pte = ptb32_map(root, V32_1, data, 1, PG_P | PG_RW);
	rd32(V32_1);
	ptb32_write(pte, 0);
	sim_set_free_violation_hook(free_hook);
	sim_set_audit_on_free(true);
	free_report[0] = 0;
	sim_page_free(data);
	ok(strstr(free_report, "freed-page") != NULL,
	    "i386: freeing a page a TLB still maps is reported at once: %s", free_report);
	uint64_t pde = ptb32_lookup(root, V32_2, 2);
	ptb32_map(root, V32_2, pg_a, 1, PG_P | PG_RW);
	uint64_t pt = ptb32_read(pde) & I386_FRAME;
	sim_invlpg(V32_1);
	rd32(V32_2);
	ptb32_write(pde, 0);
	free_report[0] = 0;
	sim_page_free(pt);
	ok(strstr(free_report, "freed-table") != NULL,
	    "i386: freeing a page table the PDE cache still holds is reported: %s", free_report);
	sim_set_audit_on_free(false);
	sim_write_cr3(root);
}

static void
run_i386(void *arg)
{
	(void)arg;
	t32_walk();
	t32_registers();
	t32_pse();
	t32_errors();
	t32_accessed_dirty();
	t32_tlb();
	t32_psc();
	t32_global();
	t32_pse_change();
	t32_audit();
}

static void
run_i386_ad_none(void *arg)
{
	(void)arg;
	fresh32();
	uint64_t pte = ptb32_map(root, V32_1, pg_a, 1, PG_RW);	/* P=0 */
	uint64_t pde = ptb32_lookup(root, V32_1, 2);
	expect_pf(rd(V32_1, 0, NULL), V32_1, 0, "i386 AD_NONE: read of a not-present PTE");
	ok(((ptb32_read(pde) | ptb32_read(pte)) & PG_A) == 0,
	    "i386 AD_NONE: a faulting walk sets no A anywhere");
}

/* Every access point makes a speculative fill (spec_fill_ppm = 10^6). */
static void
run_i386_spec(void *arg)
{
	(void)arg;
	fresh32();
	/* 16 pages 64 PTEs apart, so that a fill - the first present entry
	 * from a random index on - reaches each often. */
	uint64_t ptes[16], base = 0x40000000ULL, stride = 64 * 4096;
	for (int i = 0; i < 16; i++)
		ptes[i] = ptb32_map(root, base + (uint64_t)i * stride, pg_a, 1, PG_P | PG_RW);
	uint64_t pde4m = ptb32_map(root, BIG32, F4M, 2, PG_P | PG_RW);
	struct sim_cpu_stats s0 = sim_cpu_stats(sim_cpu_id());
	for (int i = 0; i < 3000; i++)
		rd(base, 0, NULL);		/* the only page ever accessed */
	struct sim_cpu_stats s1 = sim_cpu_stats(sim_cpu_id());
	ok(s1.spec_fills - s0.spec_fills >= 3000, "i386: %llu speculative fills",
	    (unsigned long long)(s1.spec_fills - s0.spec_fills));
	int with_a = 0, cached = 0;
	for (int i = 1; i < 16; i++) {
		with_a += (ptb32_read(ptes[i]) & PG_A) != 0;
		cached += sim_tlb_present(base + (uint64_t)i * stride);
	}
	ok(with_a == 15 && cached == 15,
	    "i386: pages never accessed were walked (A set: %d of 15) and cached (%d)",
	    with_a, cached);
	ok((ptb32_read(pde4m) & PG_A) && sim_tlb_present(BIG32 + 0x123000),
	    "i386: the 4M page was filled speculatively too");
	struct sim_audit_report r;
	ok(sim_audit(&r), "i386: speculative fills agree with the page tables (%s)", r.text);
	ptb32_write(ptes[7], pg_b | PG_P | PG_RW);	/* no INVLPG */
	ok(!sim_audit(&r) && strcmp(r.rule, "stale-translation") == 0 &&
	    r.va == base + 7 * stride,
	    "i386: a page never accessed, remapped without INVLPG, is stale in the TLB: %s",
	    r.text);
	sim_invlpg(base + 7 * stride);

	uint64_t far = 0xfe000000ULL;
	ptb32_map(root, far, pg_b, 1, PG_P | PG_RW);
	sim_spec_fill_va(far);
	sim_spec_fill_va(far + (1ULL << 32));	/* beyond 32 bits: ignored */
	ok(sim_tlb_present(far), "i386: sim_spec_fill_va caches the translation");
}

static void
run_i386_capacity(void *arg)
{
	(void)arg;
	fresh32();
	for (int i = 0; i < 64; i++)
		ptb32_map(root, V32_E + (uint64_t)i * 4096, pg_a, 1, PG_P | PG_RW);
	for (int i = 0; i < 64; i++)
		rd(V32_E + (uint64_t)i * 4096, 0, NULL);
	struct sim_cpu_stats s = sim_cpu_stats(sim_cpu_id());
	ok(s.tlb_entries + s.psc_entries <= 16,
	    "i386 capacity mode keeps at most 16 entries (%llu TLB + %llu PSC)",
	    (unsigned long long)s.tlb_entries, (unsigned long long)s.psc_entries);
	is_u64(rd32(V32_E + 63 * 4096), AAAA, "i386 capacity mode: translations still work");
}

static void
run_main(void *arg)
{
	(void)arg;
	t_walk_basic();
	t_not_present();
	t_reserved();
	t_rights();
	t_accessed_dirty();
	t_tlb_stale();
	t_tlb_dirty();
	t_global();
	t_pcid();
	t_psc();
	t_memtype();
	t_ipi();
	t_mutual_ipi();
	t_audit();
	t_audit_on_free();
	t_allocator();
}

static void
run_ad_none(void *arg)
{
	(void)arg;
	fresh();
	uint64_t pte = ptb_map(root, VA1, pg_a, 1, PG_RW);	/* P=0 */
	uint64_t pde = ptb_lookup(root, VA1, 2), pml4e = ptb_lookup(root, VA1, 4);
	expect_pf(rd(VA1, 0, NULL), VA1, 0, "AD_NONE: read of a not-present PTE");
	ok(((ptb_read(pde) | ptb_read(pml4e) | ptb_read(pte)) & PG_A) == 0,
	    "AD_NONE: a faulting walk sets no A anywhere");
}

static void
run_capacity(void *arg)
{
	(void)arg;
	t_capacity();
}

int
main(void)
{
	struct sim_config cfg;
	sim_config_default(&cfg);
	sim_init(&cfg);
	sim_run_on(0, run_main, NULL);
	sim_fini();

	cfg.ad_on_fault = SIM_AD_NONE;
	sim_init(&cfg);
	sim_run_on(2, run_ad_none, NULL);
	sim_fini();

	cfg.ad_on_fault = SIM_AD_UPPER;
	cfg.tlb_mode = SIM_TLB_CAPACITY;
	cfg.tlb_capacity = 16;
	sim_init(&cfg);
	sim_run_on(1, run_capacity, NULL);
	sim_fini();

	/* The i386 machine: legacy 32-bit paging, 1.5 GiB of RAM, sparse
	 * backing (forced in a 32-bit process; chosen here in a 64-bit one so
	 * that both backings are exercised). */
	sim_config_default(&cfg);
	cfg.paging = SIM_PAGING_I386;
	cfg.mem_size = 1536ULL << 20;
	cfg.phys_sparse = true;
	sim_init(&cfg);
	sim_run_on(0, run_i386, NULL);
	sim_fini();

	cfg.ad_on_fault = SIM_AD_NONE;
	sim_init(&cfg);
	sim_run_on(1, run_i386_ad_none, NULL);
	sim_fini();

	cfg.ad_on_fault = SIM_AD_UPPER;
	cfg.spec_fill_ppm = 1000000;
	sim_init(&cfg);
	sim_run_on(2, run_i386_spec, NULL);
	sim_fini();

	cfg.spec_fill_ppm = 0;
	cfg.tlb_mode = SIM_TLB_CAPACITY;
	cfg.tlb_capacity = 16;
	sim_init(&cfg);
	sim_run_on(3, run_i386_capacity, NULL);
	sim_fini();
	return tap_done();
}
