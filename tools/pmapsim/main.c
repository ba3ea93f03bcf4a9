/*
 * pmapsim - real programs' memory traces and a forking server run by the
 * VM layer (vm/) on libpmap, on the simulated machine, every load checked
 * by the integrity oracle (tests/lib/vm_oracle.h).
 *
 *   pmapsim [--trace=FILE]... [--fork] [--churn] [--mem=PAGES] [--cpus=N] [--seed=N]
 *           [--quantum=N] [--sfbuf=dmap|mapped] [--no-map]
 *
 * Each --trace is one process replaying a Valgrind lackey --trace-mem=yes
 * trace ("I  addr,size", " L addr,size", " S addr,size", " M addr,size";
 * other lines are ignored): its addresses become private anonymous memory
 * on first touch, a 256 KiB region at a time, as a real process's heap and
 * stack would; instruction fetches touch their pages.  --fork adds a
 * forking server: a process with a private heap and a shared region that
 * forks children (which fork grandchildren) that read, write and exit;
 * --churn a process that maps, unmaps and reprotects parts of an arena
 * while it accesses all of it (holes and protections must give exactly
 * the signals the model predicts).
 * Processes are scheduled round-robin over the CPUs, --quantum accesses at
 * a time, moving between CPUs; the VM has --mem pages of memory and pages
 * out to swap when that is less than the working set.
 *
 * Output: a progress line every two seconds, a summary, a residency map
 * per process, and last, exactly:
 *     pmapsim: <N> accesses checked, <K> lost, audit <OK|FAILED>
 * Exit status 0 only when K is 0 and the audit is OK; 2 for bad arguments
 * or an unreadable or malformed trace.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_pmap.h"
#include "ptest.h"
#include "vm.h"
#include "vm_oracle.h"

#define MAXTRACES	16
#define MAXPROCS	256
#define REGION		(256 * 1024)	/* a lazily created trace region */

struct rec {
	uint64_t r_addr;
	uint16_t r_size;
	uint8_t r_kind;		/* 'I', 'L', 'S', 'M' */
};

struct trace {
	const char *t_name;
	struct rec *t_rec;
	uint64_t t_n, t_pages;
};

enum { P_TRACE, P_SERVER, P_CHILD, P_CHURN };

struct sproc {
	int s_kind;
	struct vo_proc *s_o;
	struct trace *s_t;
	uint64_t s_pos;		/* trace: next record; others: accesses left */
	uint64_t s_rng;
	int s_gen;		/* generation (server 0) */
	int s_state;		/* 0 runnable, 1 running, 2 done */
};

static struct trace traces[MAXTRACES];
static int ntraces;
static bool fork_workload, churn_workload, show_map = true;
static uint64_t mem_pages = 256, seed = 1, quantum = 2000;
static int ncpus = 4;

static struct sproc procs[MAXPROCS];
static int nprocs;		/* under rq_mtx */
static int rq_mtx, shared_mtx;
static uint64_t regions_made, signals, children_left;
static uint64_t peak_pv, peak_ptp;
static struct timespec t_start;

#define HEAP		((vaddr_t)0x20000000)
#define HEAP_PAGES	96
#define SHM		((vaddr_t)0x30000000)
#define SHM_PAGES	16
#define CHILDREN	48
/* Allocator churn: slots of an arena mapped, unmapped and reprotected. */
#define ARENA		((vaddr_t)0x40000000)
#define SLOT_PAGES	16
#define SLOTS		8
#define CHURN_QUANTA	300

static void
die2(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "pmapsim: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static uint64_t
number(const char *opt, const char *s, uint64_t lo, uint64_t hi)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 || v < lo || v > hi)
		die2("%s wants a number in %llu..%llu, not \"%s\"", opt,
		    (unsigned long long)lo, (unsigned long long)hi, s);
	return v;
}

static void
spin_lock(int *m)
{
	while (__atomic_exchange_n(m, 1, __ATOMIC_ACQUIRE) != 0)
		while (__atomic_load_n(m, __ATOMIC_RELAXED) != 0)
			ptest_relax();
}

static void
spin_unlock(int *m)
{
	__atomic_store_n(m, 0, __ATOMIC_RELEASE);
}

/* ---- traces ---- */

/* Where a trace address lives in the replaying process: itself where user
 * space is large; on a 32-bit machine each 4 MiB chunk of the trace gets
 * a chunk of its own, in first-touch order. */
struct reloc {
	uint64_t chunk[1024];
	int n;
};

static uint64_t
relocate(struct reloc *rl, uint64_t a, const char *file, unsigned long line)
{
	if ((uint64_t)PMAP_USER_MAX > (1ULL << 40)) {
		if (a < PAGE_SIZE || a >= (uint64_t)PMAP_USER_MAX - PAGE_SIZE)
			die2("%s:%lu: address %#llx is outside user space", file, line,
			    (unsigned long long)a);
		return a;
	}
	uint64_t c = a >> 22;
	int i;
	for (i = 0; i < rl->n && rl->chunk[i] != c; i++)
		continue;
	if (i == rl->n) {
		if (rl->n == 600)
			die2("%s:%lu: the trace spans more 4 MiB chunks than a 32-bit user "
			    "space holds", file, line);
		rl->chunk[rl->n++] = c;
	}
	return 0x08000000ULL + ((uint64_t)i << 22) + (a & ((1u << 22) - 1));
}

static void
load_trace(const char *file)
{
	if (ntraces == MAXTRACES)
		die2("at most %d traces", MAXTRACES);
	FILE *f = fopen(file, "r");
	if (f == NULL)
		die2("%s: %s", file, strerror(errno));
	struct trace *t = &traces[ntraces++];
	t->t_name = file;
	uint64_t cap = 1 << 16;
	t->t_rec = malloc(cap * sizeof(*t->t_rec));
	static struct reloc rl;
	memset(&rl, 0, sizeof(rl));
	char line[512];
	unsigned long ln = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		ln++;
		char kind;
		if (strncmp(line, "I  ", 3) == 0)
			kind = 'I';
		else if (line[0] == ' ' && strchr("LSM", line[1]) != NULL && line[1] != '\0' &&
		    line[2] == ' ')
			kind = line[1];
		else
			continue;	/* not an access record */
		char *p = line + 3, *end;
		errno = 0;
		unsigned long long a = strtoull(p, &end, 16);
		if (end == p || *end != ',' || errno != 0)
			die2("%s:%lu: malformed record (want \"addr,size\" in hex,decimal): %.60s",
			    file, ln, line);
		p = end + 1;
		unsigned long sz = strtoul(p, &end, 10);
		if (end == p || (*end != '\n' && *end != '\0' && *end != '\r') || sz == 0 ||
		    sz > 256)
			die2("%s:%lu: malformed size (want 1..256): %.60s", file, ln, line);
		uint64_t va = relocate(&rl, a, file, ln);
		if (relocate(&rl, a + sz - 1, file, ln) != va + sz - 1)
			die2("%s:%lu: an access straddles two relocated chunks", file, ln);
		if (t->t_n == cap)
			t->t_rec = realloc(t->t_rec, (cap *= 2) * sizeof(*t->t_rec));
		t->t_rec[t->t_n++] = (struct rec){ va, (uint16_t)sz, (uint8_t)kind };
	}
	if (ferror(f))
		die2("%s: read error", file);
	fclose(f);
	if (t->t_n == 0)
		die2("%s: no access records (is it lackey --trace-mem=yes output?)", file);
	/* Footprint: distinct pages. */
	uint64_t hcap = 1;
	while (hcap < 4 * t->t_n)
		hcap <<= 1;
	uint64_t *h = calloc(hcap, sizeof(*h));
	for (uint64_t i = 0; i < t->t_n; i++)
		for (uint64_t pg = t->t_rec[i].r_addr / PAGE_SIZE;
		    pg <= (t->t_rec[i].r_addr + t->t_rec[i].r_size - 1) / PAGE_SIZE; pg++) {
			uint64_t j = vo_hash(pg) & (hcap - 1);
			while (h[j] != 0 && h[j] != pg + 1)
				j = (j + 1) & (hcap - 1);
			if (h[j] == 0) {
				h[j] = pg + 1;
				t->t_pages++;
			}
		}
	free(h);
}

/* ---- running processes ---- */

static bool
shared_va(vaddr_t va)
{
	return va >= SHM && va < SHM + SHM_PAGES * PAGE_SIZE;
}

/* One checked access; a trace region is created on first touch. */
static void
access1(struct sproc *s, int kind, vaddr_t va, int size)
{
	struct vo_proc *o = s->s_o;
	if (s->s_kind == P_TRACE && vo_expect(o, kind, va) == VM_FK_NOMAP) {
		vaddr_t base = va & ~(vaddr_t)(REGION - 1);
		vm_prot_t all = VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXECUTE;
		if (vm_mmap(o->o_vm, base, REGION, all, VM_MAP_PRIVATE) != 0) {
			fprintf(stderr, "pmapsim: cannot map %#llx\n", (unsigned long long)base);
			abort();
		}
		vo_mmap(o, base, REGION, all, false);
		__atomic_fetch_add(&regions_made, 1, __ATOMIC_RELAXED);
	}
	bool sh = shared_va(va);
	if (sh)
		spin_lock(&shared_mtx);
	if (vo_access(o, kind, va, size) != 0)
		__atomic_fetch_add(&signals, 1, __ATOMIC_RELAXED);
	if (sh)
		spin_unlock(&shared_mtx);
}

/* An access of any size and alignment, as naturally aligned pieces. */
static void
access_range(struct sproc *s, int kind, uint64_t va, unsigned size)
{
	uint64_t end = va + size;
	if (kind == 2) {
		for (uint64_t p = va & ~(uint64_t)PAGE_MASK; p < end; p += PAGE_SIZE)
			access1(s, 2, p < va ? va : p, 1);
		return;
	}
	while (va < end) {
		int sz = 8;
		while (sz > 1 && ((va & (uint64_t)(sz - 1)) != 0 || va + (uint64_t)sz > end))
			sz >>= 1;
		access1(s, kind, va, sz);
		va += (uint64_t)sz;
	}
}

static void
new_proc(int kind, struct vo_proc *o, uint64_t work, int gen, uint64_t rng)
{
	spin_lock(&rq_mtx);
	if (nprocs == MAXPROCS) {
		fprintf(stderr, "pmapsim: too many processes\n");
		abort();
	}
	procs[nprocs] = (struct sproc){ .s_kind = kind, .s_o = o, .s_pos = work,
		.s_gen = gen, .s_rng = rng };
	nprocs++;
	spin_unlock(&rq_mtx);
}

static struct vo_proc *
do_fork(struct vo_proc *o)
{
	spin_lock(&shared_mtx);	/* the model's shared objects change hands */
	struct vm_proc *c = vm_fork(o->o_vm);
	struct vo_proc *oc = vo_fork(o, c);
	spin_unlock(&shared_mtx);
	return oc;
}

/* Allocator churn: each quantum maps, unmaps or reprotects part of a slot
 * (the model follows), then makes accesses anywhere in the arena - those
 * that hit a hole or a protection must get the signal the model predicts. */
static bool
churn_quantum(struct sproc *s)
{
	struct vo_proc *o = s->s_o;
	struct vm_proc *p = o->o_vm;
	uint64_t r = ptest_rand(&s->s_rng);
	vaddr_t slot = ARENA + (vaddr_t)(r % SLOTS) * SLOT_PAGES * PAGE_SIZE;
	vsize_t len = (vsize_t)(1 + (r >> 8) % SLOT_PAGES) * PAGE_SIZE;
	vaddr_t va = slot + (vaddr_t)((r >> 16) % (SLOT_PAGES - len / PAGE_SIZE + 1)) * PAGE_SIZE;
	static const vm_prot_t prots[4] = { VM_PROT_READ | VM_PROT_WRITE, VM_PROT_READ,
		VM_PROT_NONE, VM_PROT_READ | VM_PROT_WRITE };
	switch ((r >> 24) % 4) {
	case 0:	/* mmap a whole free slot */
		if (vo_find(o, slot) == NULL && vo_find(o, slot + SLOT_PAGES * PAGE_SIZE - 1) == NULL) {
			bool sh = (r >> 30) % 4 == 0, any = false;
			for (vaddr_t v = slot; v < slot + SLOT_PAGES * PAGE_SIZE; v += PAGE_SIZE)
				any |= vo_find(o, v) != NULL;
			if (!any) {
				vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
				if (vm_mmap(p, slot, SLOT_PAGES * PAGE_SIZE, rw,
				    sh ? VM_MAP_SHARED : VM_MAP_PRIVATE) != 0)
					abort();
				vo_mmap(o, slot, SLOT_PAGES * PAGE_SIZE, rw, sh);
			}
		}
		break;
	case 1:
		vm_munmap(p, va, len);
		vo_munmap(o, va, len);
		break;
	default: {
		bool mapped = true;
		for (vaddr_t v = va; v < va + len; v += PAGE_SIZE)
			mapped &= vo_find(o, v) != NULL;
		int e = vm_mprotect(p, va, len, prots[(r >> 32) % 4]);
		if (e != (mapped ? 0 : VM_ENOMEM)) {
			printf("pmapsim: mprotect answered %d, the model expected %d\n", e,
			    mapped ? 0 : VM_ENOMEM);
			o->o_wrong_signal++;
		}
		if (e == 0)
			vo_mprotect(o, va, len, prots[(r >> 32) % 4]);
	}
	}
	if (o->o_nr > VO_MAXRANGES - 8) {	/* too fragmented: start the arena over */
		vm_munmap(p, ARENA, SLOTS * SLOT_PAGES * PAGE_SIZE);
		vo_munmap(o, ARENA, SLOTS * SLOT_PAGES * PAGE_SIZE);
	}
	for (uint64_t k = 0; k < quantum / 4; k++) {
		uint64_t x = ptest_rand(&s->s_rng);
		int size = 1 << (x % 4);
		vaddr_t a = ARENA + ((x >> 8) % (SLOTS * SLOT_PAGES * PAGE_SIZE)) /
		    (vaddr_t)size * (vaddr_t)size;
		access1(s, (x >> 40) % 3 == 0 ? 1 : 0, a, size);
	}
	return --s->s_pos == 0;
}

/* A quantum of s; true when s is done. */
static bool
run_quantum(struct sproc *s)
{
	vm_switch(s->s_o->o_vm);
	if (s->s_kind == P_TRACE) {
		struct trace *t = s->s_t;
		uint64_t stop = s->s_pos + quantum < t->t_n ? s->s_pos + quantum : t->t_n;
		for (; s->s_pos < stop; s->s_pos++) {
			struct rec *r = &t->t_rec[s->s_pos];
			switch (r->r_kind) {
			case 'I': access_range(s, 2, r->r_addr, r->r_size); break;
			case 'L': access_range(s, 0, r->r_addr, r->r_size); break;
			case 'S': access_range(s, 1, r->r_addr, r->r_size); break;
			default:
				access_range(s, 0, r->r_addr, r->r_size);
				access_range(s, 1, r->r_addr, r->r_size);
			}
		}
		return s->s_pos == t->t_n;
	}
	if (s->s_kind == P_CHURN)
		return churn_quantum(s);
	/* The server and its children: the heap (private, COW after fork)
	 * and the shared region; the server forks, children sometimes too. */
	for (uint64_t k = 0; k < quantum / 4 && s->s_pos > 0; k++, s->s_pos--) {
		uint64_t r = ptest_rand(&s->s_rng);
		int size = 1 << (r % 4);
		bool shm = (r >> 8) % 8 == 0;
		vaddr_t base = shm ? SHM : HEAP;
		uint64_t span = (shm ? SHM_PAGES : HEAP_PAGES) * (uint64_t)PAGE_SIZE;
		vaddr_t va = base + ((r >> 16) % span) / (vaddr_t)size * (vaddr_t)size;
		access1(s, (r >> 40) % 3 == 0 ? 1 : 0, va, size);
	}
	bool forks = s->s_kind == P_SERVER || (s->s_gen < 3 && ptest_rand(&s->s_rng) % 4 == 0);
	if (forks && __atomic_load_n(&children_left, __ATOMIC_RELAXED) > 0) {
		__atomic_fetch_sub(&children_left, 1, __ATOMIC_RELAXED);
		new_proc(P_CHILD, do_fork(s->s_o), 3 * quantum, s->s_gen + 1,
		    ptest_rand(&s->s_rng));
	}
	if (s->s_kind == P_SERVER)
		return __atomic_load_n(&children_left, __ATOMIC_RELAXED) == 0;
	return s->s_pos == 0;
}

static double
elapsed(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t_start.tv_sec) + (double)(t.tv_nsec - t_start.tv_nsec) / 1e9;
}

static uint64_t
checked_total(void)
{
	uint64_t n = 0;
	for (int i = 0; i < nprocs; i++)
		if (procs[i].s_o != NULL)
			n += __atomic_load_n(&procs[i].s_o->o_checked, __ATOMIC_RELAXED);
	return n;
}

static uint64_t exited_checked, exited_lost;

static void
cpu_loop(void *arg)
{
	int cpu = (int)(uintptr_t)arg, next = cpu;
	double last = 0;
	for (;;) {
		spin_lock(&rq_mtx);
		int n = nprocs, pick = -1, live = 0;
		for (int k = 0; k < n; k++) {
			int i = (next + k) % n;
			if (procs[i].s_state != 2)
				live++;
			if (procs[i].s_state == 0 && pick < 0)
				pick = i;
		}
		if (pick >= 0)
			procs[pick].s_state = 1;
		spin_unlock(&rq_mtx);
		if (live == 0)
			break;
		if (pick < 0) {
			ptest_relax();
			continue;
		}
		next = pick + 1;
		struct sproc *s = &procs[pick];
		bool done = run_quantum(s);
		vm_switch(NULL);
		if (done && s->s_kind == P_CHILD) {
			/* Children exit; the traces and the server stay for the map. */
			struct vo_proc *o = s->s_o;
			vm_exit(o->o_vm);
			spin_lock(&shared_mtx);
			__atomic_fetch_add(&exited_checked, o->o_checked, __ATOMIC_RELAXED);
			__atomic_fetch_add(&exited_lost, o->o_lost + o->o_wrong_signal,
			    __ATOMIC_RELAXED);
			spin_lock(&rq_mtx);
			s->s_o = NULL;
			spin_unlock(&rq_mtx);
			vo_free(o);
			spin_unlock(&shared_mtx);
		}
		__atomic_store_n(&s->s_state, done ? 2 : 0, __ATOMIC_RELEASE);
		if (cpu == 0) {
			struct pmap_counters pc;
			pmap_get_counters(&pc);
			if (pc.pc_pv_entries > peak_pv)
				peak_pv = pc.pc_pv_entries;
			if (pc.pc_ptp_pages > peak_ptp)
				peak_ptp = pc.pc_ptp_pages;
			double now = elapsed();
			if (now - last >= 2.0) {
				struct vm_stats st;
				vm_get_stats(&st);
				spin_lock(&rq_mtx);
				uint64_t c = checked_total();
				spin_unlock(&rq_mtx);
				printf("pmapsim: %5.1fs  %" PRIu64 " accesses, %" PRIu64 " page-outs, "
				    "%" PRIu64 " page-ins, %" PRIu64 " COW breaks\n", now,
				    c + exited_checked, st.vs_pageouts_swap + st.vs_laundered,
				    st.vs_faults[VM_FK_SWAPIN], st.vs_faults[VM_FK_COW]);
				fflush(stdout);
				last = now;
			}
		}
	}
}

static void
residency_map(struct sproc *s)
{
	struct vm_proc *p = s->s_o->o_vm;
	printf("pid %d (%s):\n", vm_proc_pid(p), s->s_kind == P_TRACE ? s->s_t->t_name :
	    s->s_kind == P_SERVER ? "forking server" : s->s_kind == P_CHURN ?
	    "allocator churn" : "child");
	vaddr_t st, en;
	vm_prot_t prot;
	int flags, lines = 0, i;
	for (i = 0; vm_map_entry(p, i, &st, &en, &prot, &flags); i++) {
		for (vaddr_t va = st; va < en; va += 64 * PAGE_SIZE) {
			if (lines++ >= 40)
				continue;
			char row[65];
			int n = 0;
			for (vaddr_t v = va; v < en && n < 64; v += PAGE_SIZE)
				row[n++] = (char)vm_residency(p, v);
			row[n] = '\0';
			printf("  %#14llx %c%c%c %s  %s\n", (unsigned long long)va,
			    prot & VM_PROT_READ ? 'r' : '-', prot & VM_PROT_WRITE ? 'w' : '-',
			    prot & VM_PROT_EXECUTE ? 'x' : '-',
			    flags & VM_MAP_SHARED ? "shared " : "private", row);
		}
	}
	if (lines > 40)
		printf("  ... %d more lines\n", lines - 40);
}

/* ---- the crash-dump walk, checked ---- */

struct dumpck {
	uint64_t *sum;		/* by page frame number */
	uint64_t pages, bad, resident, resident_bad;
};

static void
dump_cb(paddr_t pa, uint64_t sum, void *arg)
{
	struct dumpck *d = arg;
	static uint8_t buf[PAGE_SIZE];
	for (unsigned o = 0; o < PAGE_SIZE; o += 8) {
		uint64_t w = ptest_phys_read64(pa + o);
		memcpy(buf + o, &w, 8);
	}
	if (vm_checksum(buf) != sum && d->bad++ < 5)
		printf("dump: page %#llx read through pmap_kenter_temporary is not the page\n",
		    (unsigned long long)pa);
	d->sum[pa / PAGE_SIZE] = sum;
	d->pages++;
}

/* Every resident page of o's must hold what the model says. */
static void
dump_compare(struct dumpck *d, struct vo_proc *o)
{
	static const uint8_t zero[PAGE_SIZE];
	for (int i = 0; i < o->o_nr; i++) {
		struct vo_range *r = &o->o_r[i];
		for (vaddr_t va = r->r_start; va < r->r_end; va += PAGE_SIZE) {
			paddr_t pa;
			if (!vm_resident_pa(o->o_vm, va, &pa))
				continue;
			struct vo_page **pp = vo_page_of(o, r, va, false);
			const uint8_t *want = pp != NULL && *pp != NULL ? (*pp)->vg_b : zero;
			d->resident++;
			if (vm_checksum(want) != d->sum[pa / PAGE_SIZE] && d->resident_bad++ < 5)
				printf("dump: pid %d va %#llx: page %#llx does not hold what the "
				    "model says\n", o->o_pid, (unsigned long long)va,
				    (unsigned long long)pa);
		}
	}
}

struct result {
	uint64_t checked, lost;
	bool audit;
	char why[600];
};

static void
body(void *arg)
{
	struct result *res = arg;
	struct vm_config vc = { .vc_pages = mem_pages, .vc_launder = true,
		.vc_swap_sfbuf = seed % 2 == 0 };
	if (vm_boot(&vc) != 0) {
		fprintf(stderr, "pmapsim: --mem=%llu is too small for the VM\n",
		    (unsigned long long)mem_pages);
		exit(2);
	}
	for (int i = 0; i < ntraces; i++) {
		new_proc(P_TRACE, vo_new(vm_proc_create()), 0, 0, seed + (uint64_t)i);
		procs[nprocs - 1].s_t = &traces[i];
	}
	if (fork_workload) {
		struct vo_proc *o = vo_new(vm_proc_create());
		vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
		vm_mmap(o->o_vm, HEAP, HEAP_PAGES * PAGE_SIZE, rw, VM_MAP_PRIVATE);
		vo_mmap(o, HEAP, HEAP_PAGES * PAGE_SIZE, rw, false);
		vm_mmap(o->o_vm, SHM, SHM_PAGES * PAGE_SIZE, rw, VM_MAP_SHARED);
		vo_mmap(o, SHM, SHM_PAGES * PAGE_SIZE, rw, true);
		children_left = CHILDREN;
		new_proc(P_SERVER, o, 1ULL << 62, 0, seed * 7919);
	}
	if (churn_workload)
		new_proc(P_CHURN, vo_new(vm_proc_create()), CHURN_QUANTA, 0, seed * 104729);
	clock_gettime(CLOCK_MONOTONIC, &t_start);
	for (int c = 1; c < ncpus; c++)
		ptest_run_async(c, cpu_loop, (void *)(uintptr_t)c);
	cpu_loop((void *)0);
	for (int c = 1; c < ncpus; c++)
		ptest_wait(c);
	double secs = elapsed();

	struct vm_stats st;
	vm_get_stats(&st);
	struct pmap_counters pc;
	pmap_get_counters(&pc);
	res->checked = exited_checked;
	res->lost = exited_lost;
	for (int i = 0; i < nprocs; i++)
		if (procs[i].s_o != NULL) {
			res->checked += procs[i].s_o->o_checked;
			res->lost += procs[i].s_o->o_lost + procs[i].s_o->o_wrong_signal;
		}
	printf("\n--- what happened (%.1f s) ---\n", secs);
	printf("processes       %d (%d traces%s), %" PRIu64 " forks, %" PRIu64 " exits, "
	    "%" PRIu64 " trace regions made on first touch, %" PRIu64 " signals\n", nprocs,
	    ntraces, fork_workload ? ", a forking server and its children" :
	    churn_workload ? ", allocator churn" : "",
	    st.vs_forks, st.vs_exits, regions_made, signals);
	printf("faults          %" PRIu64 " zero fill, %" PRIu64 " COW copy, %" PRIu64
	    " COW reuse, %" PRIu64 " swap-in, %" PRIu64 " soft, %" PRIu64 " SIGSEGV, %" PRIu64
	    " out of memory\n", st.vs_faults[VM_FK_ZERO], st.vs_faults[VM_FK_COW],
	    st.vs_faults[VM_FK_COW_REUSE], st.vs_faults[VM_FK_SWAPIN],
	    st.vs_faults[VM_FK_SOFT], st.vs_faults[VM_FK_PROT] + st.vs_faults[VM_FK_NOMAP],
	    st.vs_faults[VM_FK_OOM]);
	printf("memory          %" PRIu64 " pages (peak %" PRIu64 " used); page-outs %" PRIu64
	    " to swap + %" PRIu64 " laundered, %" PRIu64 " clean reclaims; swap peak %" PRIu64
	    " slots; pagedaemon %" PRIu64 " runs, %" PRIu64 " pages scanned\n", st.vs_pages,
	    st.vs_pages_peak, st.vs_pageouts_swap, st.vs_laundered, st.vs_reclaims_clean,
	    st.vs_swap_peak, st.vs_daemon_runs, st.vs_daemon_scanned);
	printf("page copies     %" PRIu64 " through sf_bufs, %" PRIu64 " through quick mappings\n",
	    st.vs_sfbuf_copies, st.vs_quick_copies);
	printf("pmap            %" PRIu64 " shootdown rounds, %" PRIu64 " IPIs; peak %" PRIu64
	    " pv entries, %" PRIu64 " page-table pages\n", pc.pc_shootdowns,
	    pc.pc_shootdown_ipis, peak_pv, peak_ptp);
	for (int c = 0; c < ncpus; c++) {
		struct sim_cpu_stats s = sim_cpu_stats(c);
		printf("cpu %d           %9" PRIu64 " accesses, %9" PRIu64 " TLB hits, %7" PRIu64
		    " walks, %6" PRIu64 " faults, %6" PRIu64 " INVLPG, %5" PRIu64 " CR3 loads, %6"
		    PRIu64 " IPIs taken\n", c, s.accesses, s.tlb_hits, s.walks, s.page_faults,
		    s.invlpg, s.cr3_loads, s.ipis_taken);
	}
	if (show_map) {
		printf("\n--- residency (R own, C copy-on-write, S shared, s swapped, . untouched;"
		    " 64 pages a line) ---\n");
		for (int i = 0; i < nprocs; i++)
			if (procs[i].s_o != NULL)
				residency_map(&procs[i]);
	}

	struct dumpck d = { .sum = calloc(sim_phys_end() / PAGE_SIZE, sizeof(uint64_t)) };
	vm_dump_walk(dump_cb, &d);
	for (int i = 0; i < nprocs; i++)
		if (procs[i].s_o != NULL)
			dump_compare(&d, procs[i].s_o);
	free(d.sum);
	printf("\ndump: %" PRIu64 " pages of physical memory checksummed through "
	    "pmap_kenter_temporary, %" PRIu64 " differ from the memory; %" PRIu64
	    " resident process pages, %" PRIu64 " differ from the model\n", d.pages, d.bad,
	    d.resident, d.resident_bad);

	char text[512];
	res->audit = d.bad == 0 && d.resident_bad == 0;
	if (!res->audit) {
		snprintf(res->why, sizeof(res->why), "the crash-dump walk disagrees (above)");
	} else if (!vm_check(text, sizeof(text))) {
		res->audit = false;
		snprintf(res->why, sizeof(res->why), "VM: %s", text);
	} else if (!ptest_audit(text, sizeof(text))) {
		res->audit = false;
		snprintf(res->why, sizeof(res->why), "TLB: %s", text);
	}
	for (int i = 0; i < nprocs; i++)
		if (procs[i].s_o != NULL) {
			vm_exit(procs[i].s_o->o_vm);
			vo_free(procs[i].s_o);
			procs[i].s_o = NULL;
		}
	if (res->audit && !vm_shutdown(text, sizeof(text))) {
		res->audit = false;
		snprintf(res->why, sizeof(res->why), "%s", text);
	}
	printf("\naudit: %s%s\n", res->audit ? "OK - every mapping is one the VM's maps "
	    "allow, the TLBs of all CPUs agree with the page tables, and every page and "
	    "swap slot came back" : "FAILED - ", res->audit ? "" : res->why);
}

int
main(int argc, char **argv)
{
	const char *sfbuf = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--trace=", 8) == 0)
			load_trace(a + 8);
		else if (strcmp(a, "--fork") == 0)
			fork_workload = true;
		else if (strcmp(a, "--churn") == 0)
			churn_workload = true;
		else if (strncmp(a, "--mem=", 6) == 0)
			mem_pages = number("--mem", a + 6, 16, 1u << 20);
		else if (strncmp(a, "--cpus=", 7) == 0)
			ncpus = (int)number("--cpus", a + 7, 1, 16);
		else if (strncmp(a, "--seed=", 7) == 0)
			seed = number("--seed", a + 7, 0, UINT64_MAX);
		else if (strncmp(a, "--quantum=", 10) == 0)
			quantum = number("--quantum", a + 10, 1, 1u << 24);
		else if (strncmp(a, "--sfbuf=", 8) == 0 &&
		    (strcmp(a + 8, "dmap") == 0 || strcmp(a + 8, "mapped") == 0))
			sfbuf = a + 8;
		else if (strcmp(a, "--no-map") == 0)
			show_map = false;
		else
			die2("unknown argument \"%s\"\nusage: pmapsim [--trace=FILE]... [--fork] "
			    "[--churn] [--mem=PAGES] [--cpus=N] [--seed=N] [--quantum=N] "
			    "[--sfbuf=dmap|mapped] [--no-map]", a);
	}
	if (ntraces == 0 && !fork_workload && !churn_workload)
		die2("nothing to run: give --trace=FILE, --fork and/or --churn");
	struct sim_pmap_config c;
	sim_pmap_config_default(&c);
	if (sfbuf != NULL)
		c.sfbuf_mode = strcmp(sfbuf, "mapped") == 0 ? PMAP_SFBUF_MAPPED : PMAP_SFBUF_DMAP;
	c.machine.ncpus = ncpus;
	c.machine.seed = seed;
	/* Enough for the VM and the page tables; the dump walks all of it. */
	if (c.machine.mem_size == 0 || c.machine.mem_size > (128ULL << 20))
		c.machine.mem_size = 128ULL << 20;
	uint64_t footprint = (fork_workload ? HEAP_PAGES + SHM_PAGES : 0) +
	    (churn_workload ? SLOTS * SLOT_PAGES : 0);
	printf("pmapsim: the VM layer on libpmap, simulated %d-CPU " PMAP_MACHINE " machine, "
	    "strict TLB, seed %llu\n", ncpus, (unsigned long long)seed);
	for (int i = 0; i < ntraces; i++) {
		printf("  trace %s: %" PRIu64 " records, %" PRIu64 " pages touched\n",
		    traces[i].t_name, traces[i].t_n, traces[i].t_pages);
		footprint += traces[i].t_pages;
	}
	if (churn_workload)
		printf("  allocator churn: mmap/munmap/mprotect over %d slots of %d pages, "
		    "%d rounds\n", SLOTS, SLOT_PAGES, CHURN_QUANTA);
	if (fork_workload)
		printf("  forking server: %d-page heap (private), %d-page shared region, "
		    "%d children and grandchildren\n", HEAP_PAGES, SHM_PAGES, CHILDREN);
	printf("  memory: %llu pages for a footprint of %llu pages%s\n",
	    (unsigned long long)mem_pages, (unsigned long long)footprint,
	    mem_pages < footprint ? " (smaller: the pagedaemon will page out)" : "");
	fflush(stdout);
	sim_pmap_boot(&c);
	struct result res;
	memset(&res, 0, sizeof(res));
	sim_run_on(0, body, &res);
	sim_pmap_shutdown();
	printf("pmapsim: %" PRIu64 " accesses checked, %" PRIu64 " lost, audit %s\n",
	    res.checked, res.lost, res.audit ? "OK" : "FAILED");
	return res.lost == 0 && res.audit ? 0 : 1;
}
