// SPDX-License-Identifier: BSD-2-Clause
/*
 * smp_stress_test.c - invalidation under fire: CPUs 1..N-1 keep reading and
 * writing through user mappings (every CPU runs the same user pmap) and
 * through kernel mappings, while CPU 0 removes or write-protects some of
 * them.  Once the operation has returned (pmap_update where the contract
 * defers, nothing more where it does not), EVERY CPU must fault on what
 * was taken away - checked on every CPU, CPU 0 included, in a handshake
 * after the operation - and keep working on what was not.
 *
 * A round:
 *   1. CPU 0 maps NTARGET distinct pages at fresh addresses: each at a user
 *      address (read/write), and at a kernel address, through
 *      pmap_kenter_pa for the pmap_kremove rounds and through
 *      pmap_enter(pmap_kernel()) otherwise.  It clears their modified bits.
 *   2. WARM: every other CPU reads and writes every mapping once (so each
 *      holds a TLB entry for each, dirty) and acknowledges; then it keeps
 *      hammering the same mappings until the next command.
 *   3. CPU 0 applies the round's operation to a random non-empty subset of
 *      the targets (the victims), while the others hammer.
 *   4. CHECK: every CPU performs every access once more and compares it
 *      with what the operation left: a fault with the right error code for
 *      what was taken away, success (and the page's own tag on reads) for
 *      the rest.
 *   5. CPU 0 checks that every page reads as modified (all were written in
 *      step 2) and tears the round down.
 * Operations cycle through pmap_remove, pmap_protect(READ) (user),
 * pmap_kremove, pmap_protect(READ) (kernel), pmap_page_protect(NONE) and
 * pmap_page_protect(READ).  Addresses move around from round to round, so
 * page-table pages are created and freed under the hammering CPUs too.
 *
 * No timing assumptions: the only waits are for acknowledgements.  Each
 * property is reported once, for all rounds together.
 */
#include <stdatomic.h>

#include "ptest_util.h"

#define NPAGES		8	/* managed pages in play */
#define NTARGET		4	/* mappings per round */
#define KSLOTS		64	/* kernel pages the rounds move through */

enum mech {
	M_REMOVE,		/* pmap_remove + pmap_update (user) */
	M_PROTECT,		/* pmap_protect(READ) + pmap_update (user) */
	M_KREMOVE,		/* pmap_kremove + pmap_update */
	M_KPROTECT,		/* pmap_protect(kernel, READ) + pmap_update */
	M_PP_NONE,		/* pmap_page_protect(NONE) */
	M_PP_READ,		/* pmap_page_protect(READ) */
	NMECH
};

static const char *const mech_what[NMECH] = {
	"pmap_remove + pmap_update: user reads and writes of the removed pages fault",
	"pmap_protect(READ) + pmap_update: user writes fault, user reads still work",
	"pmap_kremove + pmap_update: kernel reads and writes of the removed pages fault",
	"pmap_protect(kernel, READ) + pmap_update: kernel writes fault, reads still work",
	"pmap_page_protect(NONE): user and kernel reads and writes fault",
	"pmap_page_protect(READ): user and kernel writes fault, reads still work",
};

/* The four accesses to a target, and what a victim allows afterwards. */
enum { A_UREAD, A_UWRITE, A_KREAD, A_KWRITE, NACC };
static const bool victim_allows[NMECH][NACC] = {
	[M_REMOVE] =	{ false, false, true, true },
	[M_PROTECT] =	{ true, false, true, true },
	[M_KREMOVE] =	{ true, true, false, false },
	[M_KPROTECT] =	{ true, true, true, false },
	[M_PP_NONE] =	{ false, false, false, false },
	[M_PP_READ] =	{ true, false, true, false },
};

struct target {
	int t_page;
	vaddr_t t_uva, t_kva;
	bool t_victim;
};

enum cmd { CMD_WARM = 1, CMD_CHECK, CMD_EXIT };

/* The first failure a CPU saw, for the diagnostics. */
enum fkind { F_NONE, F_WARM, F_UNTOUCHED, F_VICTIM, F_TAG };
struct failure {
	enum fkind f_kind;
	int f_round, f_acc, f_got;
	vaddr_t f_va;
	uint64_t f_extra;	/* error code, or the value read */
};

struct result {
	long r_warm_fail;
	long r_checks[NMECH], r_fail[NMECH];
	long r_untouched, r_untouched_fail;
	long r_reads, r_wrong_tag;
	long r_hammer;
	struct failure r_first;
};

static struct {
	/* Set by CPU 0 before it publishes a command (seq, release). */
	enum mech s_mech;
	int s_round;
	struct target s_tg[NTARGET];
	int s_cmd;
	struct lwp *s_lwp;

	atomic_uint s_seq;
	atomic_uint s_ack[PMAP_MAXCPUS];
	struct result s_res[PMAP_MAXCPUS];	/* written by each CPU itself */
} S;

static struct vm_page *pages[NPAGES];

static uint64_t
tag(int page)
{
	return 0x5712e55000000000ULL | (uint64_t)page;
}

static void
note(struct result *r, enum fkind kind, const struct target *t, int acc, int got,
    uint64_t extra)
{
	if (r->r_first.f_kind != F_NONE)
		return;
	r->r_first = (struct failure){ kind, S.s_round, acc, got,
		acc < A_KREAD ? t->t_uva : t->t_kva, extra };
}

static void
report(int cpu, const struct failure *f)
{
	static const char *const acc_name[NACC] = { "user read", "user write",
		"kernel read", "kernel write" };
	static const char *const what[] = { "", "warm-up", "untouched mapping",
		"after the operation", "wrong page" };
	static const char *const res_name[] = { "ok", "#PF", "#GP" };
	tap_diag("first failure on cpu %d: round %d (%s), %s: %s of %#llx -> %s, "
	    "%s %#llx", cpu, f->f_round, mech_what[f->f_round % NMECH],
	    what[f->f_kind], acc_name[f->f_acc], (unsigned long long)f->f_va,
	    res_name[f->f_got >= 0 && f->f_got <= 2 ? f->f_got : 0],
	    f->f_kind == F_TAG ? "value" : "error code",
	    (unsigned long long)f->f_extra);
}

/* One access; *v gets what a read returned. */
static int
do_access(const struct target *t, int acc, uint64_t *v)
{
	int slot = 8 * (1 + ptest_cpu());	/* each CPU writes its own word */
	switch (acc) {
	case A_UREAD: return ptest_load(t->t_uva, 8, v, PTEST_USER);
	case A_UWRITE: return ptest_store(t->t_uva + slot, 8, (uint64_t)S.s_round, PTEST_USER);
	case A_KREAD: return ptest_load(t->t_kva, 8, v, 0);
	default: return ptest_store(t->t_kva + slot, 8, (uint64_t)S.s_round, 0);
	}
}

static bool
is_read(int acc)
{
	return acc == A_UREAD || acc == A_KREAD;
}

/* A read that works must see the page's own tag. */
static void
check_tag(struct result *r, const struct target *t, int acc, int res, uint64_t v)
{
	if (res != PTEST_OK || !is_read(acc))
		return;
	r->r_reads++;
	if (v != tag(t->t_page)) {
		r->r_wrong_tag++;
		note(r, F_TAG, t, acc, res, v);
	}
}

static void
warm(struct result *r)
{
	for (int i = 0; i < NTARGET; i++) {
		for (int acc = 0; acc < NACC; acc++) {
			uint64_t v = 0;
			int res = do_access(&S.s_tg[i], acc, &v);
			if (res != PTEST_OK) {
				r->r_warm_fail++;
				note(r, F_WARM, &S.s_tg[i], acc, res, ptest_last_fault().pf_code);
			}
			check_tag(r, &S.s_tg[i], acc, res, v);
		}
	}
}

static void
hammer(struct result *r, unsigned seq)
{
	unsigned k = 0;
	while (atomic_load_explicit(&S.s_seq, memory_order_acquire) == seq) {
		const struct target *t = &S.s_tg[k % NTARGET];
		int acc = (int)((k / NTARGET) % NACC);
		uint64_t v = 0;
		int res = do_access(t, acc, &v);
		check_tag(r, t, acc, res, v);
		r->r_hammer++;
		/* Now and then let CPU 0 (a host thread too, on the
		 * simulated machine) have the processor. */
		if (++k % 16 == 0)
			ptest_relax();
	}
}

/* What the fault on a taken-away access must say. */
static bool
fault_ok(enum mech m, int acc, struct ptest_fault f)
{
	bool user = acc == A_UREAD || acc == A_UWRITE;
	bool removed = !victim_allows[m][is_read(acc) ? acc : acc - 1];
	return ptest_fault_is(f, !removed, is_read(acc) ? 0 : 1, user);
}

static void
check(struct result *r)
{
	enum mech m = S.s_mech;
	for (int i = 0; i < NTARGET; i++) {
		const struct target *t = &S.s_tg[i];
		for (int acc = 0; acc < NACC; acc++) {
			uint64_t v = 0;
			int res = do_access(t, acc, &v);
			check_tag(r, t, acc, res, v);
			if (!t->t_victim) {
				r->r_untouched++;
				if (res != PTEST_OK) {
					r->r_untouched_fail++;
					note(r, F_UNTOUCHED, t, acc, res, ptest_last_fault().pf_code);
				}
				continue;
			}
			r->r_checks[m]++;
			bool allowed = victim_allows[m][acc];
			bool good = allowed ? res == PTEST_OK :
			    res == PTEST_PF && fault_ok(m, acc, ptest_last_fault());
			if (!good) {
				r->r_fail[m]++;
				note(r, F_VICTIM, t, acc, res,
				    res == PTEST_OK ? 0 : ptest_last_fault().pf_code);
			}
		}
	}
}

static void
ack(unsigned seq)
{
	atomic_store_explicit(&S.s_ack[ptest_cpu()], seq, memory_order_release);
}

static void
worker(void *arg)
{
	(void)arg;
	struct result *r = &S.s_res[ptest_cpu()];
	unsigned seen = 0;
	ptest_switch(S.s_lwp);
	for (;;) {
		unsigned seq;
		while ((seq = atomic_load_explicit(&S.s_seq, memory_order_acquire)) == seen)
			ptest_relax();
		seen = seq;
		if (S.s_cmd == CMD_EXIT)
			break;
		if (S.s_cmd == CMD_WARM) {
			warm(r);
			ack(seq);
			hammer(r, seq);
		} else {
			check(r);
			ack(seq);
		}
	}
	ptest_switch(NULL);
	ack(seen);
}

/* CPU 0: publish a command and wait until every other CPU has answered. */
static unsigned
command(int cmd)
{
	S.s_cmd = cmd;
	unsigned seq = atomic_load_explicit(&S.s_seq, memory_order_relaxed) + 1;
	atomic_store_explicit(&S.s_seq, seq, memory_order_release);
	return seq;
}

static void
wait_acks(unsigned seq)
{
	for (int c = 1; c < ptest_ncpus(); c++)
		while (atomic_load_explicit(&S.s_ack[c], memory_order_acquire) != seq)
			ptest_relax();
}

/* ---- CPU 0's side of a round ---- */

static vaddr_t kbase;

static vaddr_t
round_uva(int round, int i)
{
	/* Move through leaf tables, middle entries and a second root entry. */
	vaddr_t base = 0x0000000030000000UL + (vaddr_t)(round % 5) * 0x200000UL +
	    (vaddr_t)(round % 3) * (sizeof(vaddr_t) > 4 ? 0x40000000UL : 0x4000000UL) + (vaddr_t)(round % 2) * PTEST_UVA_FAR;
	return base + (vaddr_t)i * PAGE_SIZE * (vaddr_t)(1 + round % 3);
}

static void
set_up(int round, enum mech m, uint64_t *rng, pmap_t upm)
{
	int order[NPAGES];
	for (int i = 0; i < NPAGES; i++)
		order[i] = i;
	for (int i = NPAGES - 1; i > 0; i--) {
		int j = (int)(ptest_rand(rng) % (uint64_t)(i + 1));
		int x = order[i];
		order[i] = order[j];
		order[j] = x;
	}
	int victims = 0;
	S.s_round = round;
	S.s_mech = m;
	for (int i = 0; i < NTARGET; i++) {
		struct target *t = &S.s_tg[i];
		t->t_page = order[i];
		t->t_uva = round_uva(round, i);
		t->t_kva = kbase + (vaddr_t)(((unsigned)round * NTARGET + (unsigned)i) %
		    KSLOTS) * PAGE_SIZE;
		t->t_victim = (ptest_rand(rng) & 1) != 0;
		victims += t->t_victim;
	}
	if (victims == 0)
		S.s_tg[ptest_rand(rng) % NTARGET].t_victim = true;

	for (int i = 0; i < NTARGET; i++) {
		struct target *t = &S.s_tg[i];
		paddr_t pa = ptest_page_pa(pages[t->t_page]);
		pmap_enter(upm, t->t_uva, pa, VM_PROT_READ | VM_PROT_WRITE, 0);
		if (m == M_KREMOVE)
			pmap_kenter_pa(t->t_kva, pa, VM_PROT_READ | VM_PROT_WRITE, 0);
		else
			pmap_enter(pmap_kernel(), t->t_kva, pa, VM_PROT_READ | VM_PROT_WRITE, 0);
	}
	pmap_update(upm);
	pmap_update(pmap_kernel());
	for (int i = 0; i < NTARGET; i++)
		pmap_clear_modify(pages[S.s_tg[i].t_page]);
}

static void
operate(enum mech m, pmap_t upm)
{
	for (int i = 0; i < NTARGET; i++) {
		const struct target *t = &S.s_tg[i];
		if (!t->t_victim)
			continue;
		switch (m) {
		case M_REMOVE:
			pmap_remove(upm, t->t_uva, t->t_uva + PAGE_SIZE);
			break;
		case M_PROTECT:
			pmap_protect(upm, t->t_uva, t->t_uva + PAGE_SIZE, VM_PROT_READ);
			break;
		case M_KREMOVE:
			pmap_kremove(t->t_kva, PAGE_SIZE);
			break;
		case M_KPROTECT:
			pmap_protect(pmap_kernel(), t->t_kva, t->t_kva + PAGE_SIZE,
			    VM_PROT_READ);
			break;
		case M_PP_NONE:
			pmap_page_protect(pages[t->t_page], VM_PROT_NONE);
			break;
		default:
			pmap_page_protect(pages[t->t_page], VM_PROT_READ);
			break;
		}
	}
	/* The deferring operations complete here; page_protect already has. */
	if (m == M_REMOVE || m == M_PROTECT)
		pmap_update(upm);
	else if (m == M_KREMOVE || m == M_KPROTECT)
		pmap_update(pmap_kernel());
}

static void
tear_down(enum mech m, pmap_t upm)
{
	for (int i = 0; i < NTARGET; i++) {
		const struct target *t = &S.s_tg[i];
		pmap_remove(upm, t->t_uva, t->t_uva + PAGE_SIZE);
		if (m == M_KREMOVE)
			pmap_kremove(t->t_kva, PAGE_SIZE);
		else
			pmap_remove(pmap_kernel(), t->t_kva, t->t_kva + PAGE_SIZE);
	}
	pmap_update(upm);
	pmap_update(pmap_kernel());
}

/* A KSLOTS-page kernel window with page tables and nothing mapped, away
 * from the start of the kernel virtual space other suites use. */
static bool
find_kernel_window(void)
{
	vaddr_t vs, ve;
	pmap_virtual_space(&vs, &ve);
	for (vaddr_t w = vs + 0x2000000UL; w + KSLOTS * PAGE_SIZE <= ve &&
	    w < vs + 0x10000000UL; w += 0x200000UL) {
		if (pmap_growkernel(w + KSLOTS * PAGE_SIZE) < w + KSLOTS * PAGE_SIZE)
			return false;
		bool used = false;
		for (int i = 0; i < KSLOTS && !used; i++)
			used = pmap_extract(pmap_kernel(), w + (vaddr_t)i * PAGE_SIZE, NULL);
		if (!used) {
			kbase = w;
			return true;
		}
	}
	return false;
}

#define NPROPS	(NMECH + 5)

PTEST_SUITE(smp_stress)
{
	int n = ptest_ncpus();
	if (n < 2) {
		tap_skip(NPROPS, "needs at least 2 CPUs");
		return;
	}
	if (!find_kernel_window()) {
		tap_bail("smp_stress: no free kernel window");
		return;
	}
	int rounds = 20 + 980 * (int)ptest_scale_percent() / 100;
	uint64_t rng = ptest_seed() * 0x51ab1e + 17;

	for (int i = 0; i < NPAGES; i++)
		pages[i] = page_with(tag(i));
	struct uspace u = uspace_new();
	static const struct result zero;
	atomic_store(&S.s_seq, 0);
	for (int c = 0; c < PMAP_MAXCPUS; c++) {
		atomic_store(&S.s_ack[c], 0);
		S.s_res[c] = zero;
	}
	S.s_lwp = u.us_l;
	ptest_switch(u.us_l);
	for (int c = 1; c < n; c++)
		ptest_run_async(c, worker, NULL);

	long modified_checks = 0, not_modified = 0;
	int first_mod_round = -1;
	for (int round = 0; round < rounds; round++) {
		enum mech m = (enum mech)(round % NMECH);
		set_up(round, m, &rng, u.us_pm);
		wait_acks(command(CMD_WARM));
		operate(m, u.us_pm);
		unsigned seq = command(CMD_CHECK);
		check(&S.s_res[0]);
		wait_acks(seq);
		for (int i = 0; i < NTARGET; i++) {
			modified_checks++;
			if (!pmap_is_modified(pages[S.s_tg[i].t_page]) &&
			    not_modified++ == 0)
				first_mod_round = round;
		}
		tear_down(m, u.us_pm);
	}
	wait_acks(command(CMD_EXIT));
	for (int c = 1; c < n; c++)
		ptest_wait(c);
	ptest_switch(NULL);

	/* Sum up over the CPUs. */
	struct result sum = zero;
	for (int c = 0; c < n; c++) {
		struct result *r = &S.s_res[c];
		sum.r_warm_fail += r->r_warm_fail;
		for (int k = 0; k < NMECH; k++) {
			sum.r_checks[k] += r->r_checks[k];
			sum.r_fail[k] += r->r_fail[k];
		}
		sum.r_untouched += r->r_untouched;
		sum.r_untouched_fail += r->r_untouched_fail;
		sum.r_reads += r->r_reads;
		sum.r_wrong_tag += r->r_wrong_tag;
		sum.r_hammer += r->r_hammer;
		if (r->r_first.f_kind != F_NONE)
			report(c, &r->r_first);
	}
	tap_diag("%d rounds on %d CPUs; %ld accesses while CPU 0 operated", rounds, n,
	    sum.r_hammer);

	is_int(sum.r_warm_fail, 0, "warm-up: every CPU reached every mapping before "
	    "it was changed");
	for (int k = 0; k < NMECH; k++)
		ok(sum.r_fail[k] == 0 && sum.r_checks[k] > 0, "%s, on every CPU "
		    "(%ld checks, %ld wrong)", mech_what[k], sum.r_checks[k], sum.r_fail[k]);
	ok(sum.r_untouched_fail == 0 && sum.r_untouched > 0, "mappings the operation "
	    "did not touch keep working on every CPU (%ld checks, %ld wrong)",
	    sum.r_untouched, sum.r_untouched_fail);
	ok(sum.r_wrong_tag == 0 && sum.r_reads > 0, "every read that worked saw its "
	    "own page (%ld reads, %ld wrong)", sum.r_reads, sum.r_wrong_tag);
	ok(not_modified == 0, "every page written through its mappings reads as "
	    "modified after the operation (%ld checks, %ld wrong)", modified_checks,
	    not_modified);
	if (not_modified != 0)
		tap_diag("first page not modified: round %d (%s)", first_mod_round,
		    mech_what[first_mod_round % NMECH]);

	int incons = 0;
	for (int i = 0; i < NPAGES; i++) {
		pmap_page_protect(pages[i], VM_PROT_NONE);
		incons += pmap_is_referenced(pages[i]) ? 0 : 1;
	}
	is_int(incons, 0, "every page reads as referenced at the end");
	audit_ok("the stress rounds");
	uspace_free(&u);
	for (int i = 0; i < NPAGES; i++)
		ptest_page_free(pages[i]);
}
