// SPDX-License-Identifier: BSD-2-Clause
/*
 * sfbuf_test.c - sf_buf(9), in whichever mode the machine booted with (the
 * simulated machine runs this suite in both): kva and page, reference
 * counting, SFB_NOWAIT, sleeping until a buffer is freed, SFB_CATCH,
 * SFB_CPUPRIVATE, and no stale mapping of a page once it is freed.
 */
#include "ptest_util.h"

static void
t_basic(void)
{
	struct vm_page *pg = page_with(0x51);
	struct sf_buf *sf = sf_buf_alloc(pg, 0);
	ok(sf != NULL, "sf_buf_alloc");
	ok(sf_buf_page(sf) == pg, "sf_buf_page returns the page");
	vaddr_t kva = sf_buf_kva(sf);
#ifdef PMAP_MAP_POOLPAGE
	if (ptest_sfbuf_mode() == PMAP_SFBUF_DMAP)
		is_u64(kva, PMAP_MAP_POOLPAGE(ptest_page_pa(pg)),
		    "direct-map mode: the kva is the direct-map address");
	else
#endif
		ok(kva >= PMAP_KVA_BASE && kva < PMAP_KVA_MAX,
		    "mapped mode: the kva is a kernel window (%#llx)", (unsigned long long)kva);
	is_u64(peek(kva, 0), 0x51, "reads the page");
	is_int(ptest_store(kva, 8, 0x52, 0), PTEST_OK, "writes it");
	is_u64(ptest_phys_read64(ptest_page_pa(pg)), 0x52, "the write reached the page");
	struct sf_buf *again = sf_buf_alloc(pg, 0);
	ok(sf_buf_kva(again) == kva, "a second sf_buf of the same page shares the mapping");
	sf_buf_free(again);
	is_u64(peek(kva, 0), 0x52, "still mapped while a reference remains");
	sf_buf_free(sf);
	pmap_page_protect(pg, VM_PROT_NONE);	/* drops an idle mapping */
	audit_ok("sf_buf_free + pmap_page_protect(NONE)");
	ptest_page_free(pg);			/* no TLB may still hold it */
}

/* Exhaustion (mapped mode only: the direct map never runs out). */
static struct vm_page *pool[PMAP_SFBUF_COUNT + 1];
static struct sf_buf *held[PMAP_SFBUF_COUNT];
static int sleeper_state;		/* __atomic */
static struct sf_buf *sleeper_got;

static void
sleeper(void *p)
{
	int flags = (int)(uintptr_t)p;
	__atomic_store_n(&sleeper_state, 1, __ATOMIC_SEQ_CST);
	sleeper_got = sf_buf_alloc(pool[PMAP_SFBUF_COUNT], flags);
	__atomic_store_n(&sleeper_state, 2, __ATOMIC_SEQ_CST);
}

/* Start a sleeper on cpu and give it time to block. */
static void
start_sleeper(int cpu, int flags)
{
	__atomic_store_n(&sleeper_state, 0, __ATOMIC_SEQ_CST);
	ptest_run_async(cpu, sleeper, (void *)(uintptr_t)flags);
	while (__atomic_load_n(&sleeper_state, __ATOMIC_SEQ_CST) == 0)
		ptest_relax();
	for (int i = 0; i < 1000; i++)
		ptest_relax();
}

static void
t_exhaustion(void)
{
	if (ptest_sfbuf_mode() != PMAP_SFBUF_MAPPED) {
		tap_skip(6, "direct-map mode never runs out of sf_bufs");
		return;
	}
	for (int i = 0; i <= PMAP_SFBUF_COUNT; i++)
		pool[i] = page_with((uint64_t)i);
	for (int i = 0; i < PMAP_SFBUF_COUNT; i++)
		held[i] = sf_buf_alloc(pool[i], 0);
	ok(sf_buf_alloc(pool[PMAP_SFBUF_COUNT], SFB_NOWAIT) == NULL,
	    "all %d sf_bufs busy: SFB_NOWAIT returns NULL", PMAP_SFBUF_COUNT);

	/* A sleeper on CPU 1 wakes when one is freed. */
	start_sleeper(1, 0);
	is_int(__atomic_load_n(&sleeper_state, __ATOMIC_SEQ_CST), 1,
	    "without SFB_NOWAIT the caller sleeps");
	sf_buf_free(held[0]);
	ptest_wait(1);
	ok(sleeper_state == 2 && sleeper_got != NULL &&
	    sf_buf_page(sleeper_got) == pool[PMAP_SFBUF_COUNT],
	    "sf_buf_free wakes it and it gets a buffer for its page");
	held[0] = sleeper_got;

	/* SFB_CATCH: a signal ends the sleep with NULL.  The page wanted has
	 * no mapping (pool[0] lost its buffer to the sleeper above). */
	struct vm_page *extra = page_with(0xee);
	pool[PMAP_SFBUF_COUNT] = extra;
	start_sleeper(2, SFB_CATCH);
	is_int(__atomic_load_n(&sleeper_state, __ATOMIC_SEQ_CST), 1,
	    "an SFB_CATCH caller sleeps too");
	ptest_signal(2);
	ptest_wait(2);
	ok(sleeper_state == 2 && sleeper_got == NULL,
	    "SFB_CATCH: a signal interrupts the sleep and sf_buf_alloc returns NULL");
	ok(sf_buf_alloc(extra, SFB_NOWAIT) == NULL, "and nothing was allocated meanwhile");

	for (int i = 0; i < PMAP_SFBUF_COUNT; i++)
		sf_buf_free(held[i]);
	for (int i = 0; i < PMAP_SFBUF_COUNT; i++) {
		pmap_page_protect(pool[i], VM_PROT_NONE);
		ptest_page_free(pool[i]);
	}
	pmap_page_protect(extra, VM_PROT_NONE);
	ptest_page_free(extra);
}

struct priv_job {
	struct vm_page *pg;
	uint64_t val;
	int r;
};

static void
private_use(void *p)
{
	struct priv_job *j = p;
	struct sf_buf *sf = sf_buf_alloc(j->pg, SFB_CPUPRIVATE);
	j->r = ptest_load(sf_buf_kva(sf), 8, &j->val, 0);
	sf_buf_free(sf);
}

/* More pages than sf_bufs, each used on one CPU at a time and then on
 * others: buffers are taken over by new pages again and again, and each
 * use must see its own page (a stale translation would show another). */
#define NPRIV (PMAP_SFBUF_COUNT + 8)
static struct vm_page *priv_pages[NPRIV];

static void
t_cpuprivate(void)
{
	int bad = 0;
	for (int i = 0; i < NPRIV; i++)
		priv_pages[i] = page_with(0x700 + (uint64_t)i);
	for (int round = 0; round < 6; round++) {
		for (int i = 0; i < NPRIV; i++) {
			struct priv_job j = { priv_pages[i], 0, -1 };
			ptest_run_on((round + i) % ptest_ncpus(), private_use, &j);
			bad += j.r != PTEST_OK || j.val != 0x700 + (uint64_t)i;
		}
	}
	is_int(bad, 0, "SFB_CPUPRIVATE buffers reused across %d pages and every CPU "
	    "always map the right page", NPRIV);
	/* The same without SFB_CPUPRIVATE, read from every CPU. */
	bad = 0;
	for (int i = 0; i < NPRIV; i++) {
		struct sf_buf *sf = sf_buf_alloc(priv_pages[i], 0);
		for (int c = 0; c < ptest_ncpus(); c++) {
			struct access a = access_on(c, NULL, sf_buf_kva(sf), ACC_READ, 0, 0);
			bad += a.a_result != PTEST_OK || a.a_val != 0x700 + (uint64_t)i;
		}
		sf_buf_free(sf);
	}
	is_int(bad, 0, "shared sf_bufs taken over by new pages read right on every CPU");
	audit_ok("sf_buf reuse");
	for (int i = 0; i < NPRIV; i++) {
		pmap_page_protect(priv_pages[i], VM_PROT_NONE);
		ptest_page_free(priv_pages[i]);
	}
}

/*
 * An idle sf_buf allocated again for its own page (0 -> 1 reference) must
 * leave the idle list: once every other buffer is taken, it must not be
 * taken over for another page while it is in use.
 */
/* Filler pages, each with an sf_buf held (or NULL): they make the take-over
 * a test wants happen to the one buffer it leaves free. */
static struct vm_page *fill_pg[PMAP_SFBUF_COUNT];
static struct sf_buf *fill_sf[PMAP_SFBUF_COUNT];

static void
fill_pages(int n, uint64_t tag)
{
	for (int i = 0; i < n; i++)
		fill_pg[i] = page_with(tag + (uint64_t)i);
}

static int
fill_buffers(int n, int flags)
{
	int got = 0;
	for (int i = 0; i < n; i++) {
		fill_sf[i] = sf_buf_alloc(fill_pg[i], flags);
		got += fill_sf[i] != NULL;
	}
	return got;
}

static void
fill_release(int n)
{
	for (int i = 0; i < n; i++) {
		if (fill_sf[i] != NULL)
			sf_buf_free(fill_sf[i]);
		pmap_page_protect(fill_pg[i], VM_PROT_NONE);
		ptest_page_free(fill_pg[i]);
	}
}

static void
t_revive(void)
{
	if (ptest_sfbuf_mode() != PMAP_SFBUF_MAPPED) {
		tap_skip(2, "direct-map mode has no idle list");
		return;
	}
	struct vm_page *a = page_with(0xaaa);
	sf_buf_free(sf_buf_alloc(a, 0));		/* idle, still mapping a */
	struct sf_buf *sf = sf_buf_alloc(a, 0);	/* revived */
	vaddr_t kva = sf_buf_kva(sf);
	fill_pages(PMAP_SFBUF_COUNT, 0xb00);
	int got = fill_buffers(PMAP_SFBUF_COUNT, SFB_NOWAIT);
	is_int(got, PMAP_SFBUF_COUNT - 1, "with one buffer revived, %d others can be "
	    "had and then SFB_NOWAIT says none is left", PMAP_SFBUF_COUNT - 1);
	ok(sf_buf_page(sf) == a && peek(kva, 0) == 0xaaa, "the revived buffer still maps "
	    "its page");
	fill_release(PMAP_SFBUF_COUNT);
	sf_buf_free(sf);
	pmap_page_protect(a, VM_PROT_NONE);
	ptest_page_free(a);
}

/*
 * SFB_CPUPRIVATE under speculation: any CPU may cache any present
 * translation at any moment (SDM vol. 3, 4.10.2.3), so a buffer's PTE
 * change must be followed, before a CPU uses the buffer, by that CPU's
 * invalidation - even a CPU that never asked for the buffer.
 */
struct spec_job {
	struct vm_page *pg;
	vaddr_t kva;
	uint64_t val;
	int r;
};

static void
spec_private(void *p)
{
	struct spec_job *j = p;
	struct sf_buf *sf = sf_buf_alloc(j->pg, SFB_CPUPRIVATE);
	j->kva = sf_buf_kva(sf);
	j->r = ptest_load(j->kva, 8, &j->val, 0);
	sf_buf_free(sf);
}

static void
spec_prefetch(void *p)
{
	ptest_prefetch(((struct spec_job *)p)->kva);
}

static void
spec_read(void *p)
{
	struct spec_job *j = p;
	j->r = ptest_load(j->kva, 8, &j->val, 0);
}

static void
t_private_speculation(void)
{
	if (ptest_sfbuf_mode() != PMAP_SFBUF_MAPPED || ptest_ncpus() < 3) {
		tap_skip(3, "needs mapped sf_bufs and 3 CPUs");
		return;
	}
	struct vm_page *a = page_with(0xa1), *c = page_with(0xc1);
	/* Every buffer but one busy: the next take-over reuses that one. */
	fill_pages(PMAP_SFBUF_COUNT - 1, 0xe00);
	fill_buffers(PMAP_SFBUF_COUNT - 1, 0);
	struct spec_job ja = { a, 0, 0, -1 }, jc = { c, 0, 0, -1 };
	ptest_run_on(1, spec_private, &ja);		/* CPU 1: buffer -> a */
	ptest_run_on(2, spec_prefetch, &ja);		/* CPU 2 speculates on it */
	ptest_run_on(1, spec_private, &jc);		/* CPU 1: same buffer -> c */
	ok(ja.r == PTEST_OK && ja.val == 0xa1 && jc.r == PTEST_OK && jc.val == 0xc1 &&
	    jc.kva == ja.kva, "a private buffer taken over for a new page on its CPU");
	struct sf_buf *sf = sf_buf_alloc(c, 0);		/* now for every CPU */
	struct spec_job j2 = { c, sf_buf_kva(sf), 0, -1 };
	ptest_run_on(2, spec_read, &j2);
	ok(j2.r == PTEST_OK && j2.val == 0xc1, "a CPU that speculatively cached the "
	    "buffer's previous page reads the new page once the buffer is shared "
	    "(read %#llx)", (unsigned long long)j2.val);
	sf_buf_free(sf);
	fill_release(PMAP_SFBUF_COUNT - 1);
	pmap_page_protect(a, VM_PROT_NONE);
	pmap_page_protect(c, VM_PROT_NONE);
	audit_ok("private sf_bufs under speculation");
	ptest_page_free(a);
	ptest_page_free(c);
}

/*
 * A page the VM frees while only an idle sf_buf maps it (it has no pv
 * entries: the VM sees it unmapped, and need not call pmap_page_protect)
 * may become one of the library's page tables; taking that sf_buf over for
 * another page later must not touch the page table's bookkeeping.
 */

static void
t_freed_while_idle(void)
{
	if (ptest_sfbuf_mode() != PMAP_SFBUF_MAPPED) {
		tap_skip(3, "direct-map mode keeps no idle mappings");
		return;
	}
	if (ptest_speculates() && ptest_have_auditor()) {
		/* A speculative fill may cache the idle mapping, and the auditor
		 * would (rightly) see the freed page referenced: what this
		 * checks does not depend on speculation. */
		tap_skip(3, "the VM's unannounced free meets speculative fills");
		return;
	}
	fill_pages(PMAP_SFBUF_COUNT, 0x900);
	struct uspace u = uspace_new();
	struct vm_page *data = page_with(0x99);
	struct vm_page *p = page_with(0x77);
	sf_buf_free(sf_buf_alloc(p, 0));	/* idle now, still mapping p */
	ptest_page_free(p);			/* freed as the VM would */
	/* The next pages the library takes for itself may well be p. */
	pmap_enter(u.us_pm, UVA(0), ptest_page_pa(data), VM_PROT_READ, 0);
	pmap_update(u.us_pm);
	fill_buffers(PMAP_SFBUF_COUNT, 0);	/* takes over every buffer */
	check_pmap_ok("sf_buf taken over after its page became a page table", u.us_pm);
	int bad = 0;
	for (int i = 0; i < PMAP_SFBUF_COUNT; i++)
		bad += peek(sf_buf_kva(fill_sf[i]), 0) != 0x900 + (uint64_t)i;
	is_int(bad, 0, "every buffer maps its own page");
	ptest_switch(u.us_l);
	is_u64(peek(UVA(0), PTEST_USER), 0x99, "the page tables still translate");
	ptest_switch(NULL);
	fill_release(PMAP_SFBUF_COUNT);
	uspace_free(&u);
	ptest_page_free(data);
}

PTEST_SUITE(sfbuf)
{
	t_basic();
	t_exhaustion();
	t_cpuprivate();
	t_revive();
	t_private_speculation();
	t_freed_while_idle();
}
