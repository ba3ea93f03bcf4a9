/*
 * mmu_test.c - the simulated amd64 MMU against the rules of Intel SDM
 * vol. 3A chapter 4, with page tables built by hand (no pmap).
 *
 * Every case states the rule it checks; the expected values (error codes,
 * which bits get set) are the SDM's, not whatever the model happens to do.
 */
#include <stdatomic.h>
#include <stdio.h>

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
	for (int spin = 0; spin < 100000 &&
	    (handled[1] == 0 || handled[2] == 0 || handled[3] == 0); spin++)
		sim_cpu_relax();
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
	return tap_done();
}
