// SPDX-License-Identifier: BSD-2-Clause
/*
 * pmapsim - real programs' memory traces, a forking server and other
 * built-in workloads run by the VM layer (vm/) on libpmap, on the simulated
 * machine, every load checked by the integrity oracle
 * (tests/lib/vm_oracle.h).
 *
 *   pmapsim [--trace=FILE]... [--fork] [--churn] [--storm] [--pageout] [--files]
 *           [--mem=PAGES] [--cpus=N] [--seed=N] [--quantum=N] [--sfbuf=dmap|mapped]
 *           [--no-launder] [--no-map] [--no-pcid] [--sched=random|pct]
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
 * the signals the model predicts).  --storm adds a COW storm: a process
 * that writes all of a private heap, then forks rounds of children at
 * once that each write every page of it in a random order while it keeps
 * writing too - many copy-on-write breaks of the same pages on several
 * CPUs at a time, and reuse by the last sharer.  --pageout adds a sweep:
 * a region larger than a small --mem, written and read in turn, pass
 * after pass, so that the pagedaemon pages all of it out and back in.
 * --files adds a file server: a static file and a data file; the server
 * maps the data file shared and the static one private, and forks clients
 * that read(2) and write(2) them through sf_bufs into their buffers,
 * sendfile(2) them, store to the shared mapping, store to the private one
 * (copy-on-write from the file), and msync; at the end each file's disk,
 * after fsync, must hold exactly the model's bytes.
 * Processes are scheduled round-robin over the CPUs, --quantum accesses at
 * a time, moving between CPUs; the VM has --mem pages of memory and pages
 * out to swap when that is less than the working set.  --no-pcid runs
 * them on a CPU without PCIDs (amd64), so every switch of address space
 * flushes the TLB - for comparing the per-CPU TLB counters of the summary;
 * --sched runs the CPUs one at a time under the deterministic scheduler
 * (seeded by --seed), so that those counters repeat from run to run.
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

enum { P_TRACE, P_SERVER, P_CHILD, P_CHURN, P_STORM, P_STORMKID, P_SWEEP, P_FSERVER,
	P_FCLIENT };

struct sproc {
	int s_kind;
	struct vo_proc *s_o;
	struct trace *s_t;
	uint64_t s_pos;		/* trace: next record; sweep: next page; storm
				 * child: its pages not yet written, a bit
				 * each; others: accesses left (storm: in
				 * this round) */
	uint64_t s_rng;
	int s_gen;		/* generation (server 0); storm: rounds begun,
				 * its children's round */
	int s_state;		/* 0 runnable, 1 running, 2 done */
	int s_lastcpu;		/* where its last quantum ran (-1: none yet) */
};

static struct trace traces[MAXTRACES];
static int ntraces;
static bool fork_workload, churn_workload, storm_workload, pageout_workload;
static bool files_workload, launder = true, show_map = true, no_pcid;
static enum sim_sched_mode sched = SIM_SCHED_OFF;
static uint64_t mem_pages = 256, seed = 1, quantum = 2000;
static int ncpus = 4;

static struct sproc procs[MAXPROCS];
static int nprocs;		/* under rq_mtx */
static int rq_mtx, shared_mtx;
static uint64_t regions_made, signals, children_left;
static int storm_live;		/* storm children forked and not yet exited */
/* Updated atomically by every CPU: 8-byte aligned even on i386. */
typedef uint64_t peak_t __attribute__((aligned(8)));
static peak_t peak_pv, peak_ptp;
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
/* COW storm: a heap its owner writes all of, then forks a round of
 * children at once that each write every page of it, until they have all
 * exited and the next round begins. */
#define STORM		((vaddr_t)0x60000000)
#define STORM_PAGES	64
#define STORM_ROUNDS	8
#define STORM_KIDS	6
/* Page-out sweep: a region swept in address order, a writing pass and a
 * reading pass in turn. */
#define SWEEP		((vaddr_t)0x70000000)
#define SWEEP_PAGES	384
#define SWEEP_PASSES	4

/* File server: a static file (written once, then only read: mapped
 * private, read, sent) and a data file (mapped shared, read, written,
 * sent, msync'ed) - every access to the data file under shared_mtx, the
 * model's lock for what several processes see. */
#define FBUF		((vaddr_t)0x50000000)	/* each process's I/O buffer */
#define FBUF_PAGES	6
#define FDATA		((vaddr_t)0x54000000)	/* the data file, shared */
#define FDATA_PAGES	24
#define FSTATIC		((vaddr_t)0x58000000)	/* the static file, private */
#define FSTATIC_PAGES	32
#define FCLIENTS	16
#define FCLIENT_QUANTA	12

/* A storm child keeps the pages it has still to write as bits of s_pos. */
_Static_assert(STORM_PAGES <= 64, "a storm child's pages must fit a uint64_t mask");
/* Slots of procs[] are never reused: all of every workload must fit. */
_Static_assert(MAXTRACES + 1 + CHILDREN + 1 + 1 + STORM_ROUNDS * STORM_KIDS + 1 + 1 +
    FCLIENTS <= MAXPROCS, "MAXPROCS is too small for the workloads");

static struct vo_file *fdata, *fstatic;
static uint64_t fclients_left;

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
	return (va >= SHM && va < SHM + SHM_PAGES * PAGE_SIZE) ||
	    (va >= FDATA && va < FDATA + FDATA_PAGES * PAGE_SIZE);
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
		.s_gen = gen, .s_rng = rng, .s_lastcpu = -1 };
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

/* Pages a storm child writes in a quantum; the parent's accesses in one
 * during a round. */
static uint64_t
storm_batch(void)
{
	return quantum / 256 > 0 ? quantum / 256 : 1;
}

/* A store (or load) of a random size at a random naturally aligned place
 * of storm page pg. */
static vaddr_t
storm_access(struct sproc *s, int kind, unsigned pg)
{
	uint64_t r = ptest_rand(&s->s_rng);
	int size = 1 << (r % 4);
	vaddr_t va = STORM + (vaddr_t)pg * PAGE_SIZE +
	    (vaddr_t)((r >> 8) % PAGE_SIZE) / (vaddr_t)size * (vaddr_t)size;
	access1(s, kind, va, size);
	return va;
}

/* COW storm.  A child writes each page of the heap once, in a random
 * order, reading back what it wrote (its own copy) and somewhere else
 * (the parent's bytes as of the fork, or its own).  The parent writes all
 * of the heap, forks a round of children at once - every page COW-shared
 * STORM_KIDS + 1 ways, so the children's breaks of one page race each
 * other and the parent's on other CPUs - and keeps writing while they
 * run; once they have all exited, what the parent did not break it holds
 * alone, mapped read-only: the next round's writes reuse it.  The parent's
 * accesses during a round are few and counted: its quanta are cheap next
 * to the children's faults, and unbounded it would spin through millions
 * of them while it waits. */
static bool
storm_quantum(struct sproc *s)
{
	if (s->s_kind == P_STORMKID) {
		for (uint64_t k = 0; k < storm_batch() && s->s_pos != 0; k++) {
			/* The pick-th page of those still to write. */
			int left = __builtin_popcountll(s->s_pos);
			int pick = (int)(ptest_rand(&s->s_rng) % (uint64_t)left);
			unsigned pg = 0;
			while ((s->s_pos >> pg & 1) == 0 || pick-- > 0)
				pg++;
			s->s_pos &= ~(1ULL << pg);
			vaddr_t va = storm_access(s, 1, pg);
			access1(s, 0, va & ~(vaddr_t)7, 8);
			storm_access(s, 0, (unsigned)(ptest_rand(&s->s_rng) % STORM_PAGES));
		}
		return s->s_pos == 0;
	}
	if (__atomic_load_n(&storm_live, __ATOMIC_ACQUIRE) > 0) {
		/* A round is on: write (COW breaks from this side) and read. */
		for (uint64_t k = 0; k < storm_batch() && s->s_pos > 0; k++, s->s_pos--) {
			unsigned pg = (unsigned)(ptest_rand(&s->s_rng) % STORM_PAGES);
			storm_access(s, s->s_pos % 2 == 0 ? 1 : 0, pg);
		}
		return false;
	}
	if (s->s_gen == STORM_ROUNDS)
		return true;
	for (unsigned pg = 0; pg < STORM_PAGES; pg++)
		storm_access(s, 1, pg);
	/* Counted before any child can run, let alone exit. */
	__atomic_fetch_add(&storm_live, STORM_KIDS, __ATOMIC_RELAXED);
	s->s_gen++;
	s->s_pos = 2 * STORM_PAGES;
	for (int k = 0; k < STORM_KIDS; k++)
		new_proc(P_STORMKID, do_fork(s->s_o), ~0ULL >> (64 - STORM_PAGES), s->s_gen,
		    ptest_rand(&s->s_rng));
	return false;
}

/* Page-out sweep: some pages a quantum, in address order; a writing pass
 * stores at a few places of each page, a reading pass loads them and one
 * place never written (zeros, even after a trip through swap). */
static bool
sweep_quantum(struct sproc *s)
{
	static const unsigned off[] = { 0, PAGE_SIZE / 4 + 8, PAGE_SIZE / 2 + 16,
		PAGE_SIZE - 8 };
	uint64_t n = quantum / 64 > 0 ? quantum / 64 : 1;
	for (uint64_t k = 0; k < n && s->s_pos < SWEEP_PASSES * SWEEP_PAGES; k++, s->s_pos++) {
		bool writing = s->s_pos / SWEEP_PAGES % 2 == 0;
		vaddr_t pg = SWEEP + (vaddr_t)(s->s_pos % SWEEP_PAGES) * PAGE_SIZE;
		for (unsigned i = 0; i < sizeof(off) / sizeof(off[0]); i++)
			access1(s, writing ? 1 : 0, pg + off[i], 8);
		if (!writing)
			access1(s, 0, pg + PAGE_SIZE / 4 * 3, 8);
	}
	return s->s_pos == SWEEP_PASSES * SWEEP_PAGES;
}

/* One operation of the file server or a client, the kind chosen by r. */
static void
file_op(struct sproc *s, uint64_t r)
{
	struct vo_proc *o = s->s_o;
	uint64_t len = 1 + (r >> 40) % (2 * PAGE_SIZE);
	vaddr_t ub = FBUF + (vaddr_t)((r >> 20) % (2 * PAGE_SIZE));
	uint64_t doff = (r >> 8) % (FDATA_PAGES * PAGE_SIZE - len);
	uint64_t soff = (r >> 8) % (FSTATIC_PAGES * PAGE_SIZE - len);
	int size = 1 << ((r >> 4) % 4);
	switch (r % 16) {
	case 0:		/* read(2) of the data file into the buffer */
	case 1:		/* write(2) of the buffer to the data file */
		spin_lock(&shared_mtx);
		vo_file_rw(o, fdata, doff, ub, len, r % 16 == 1);
		spin_unlock(&shared_mtx);
		break;
	case 2:		/* sendfile(2) of the data file */
		spin_lock(&shared_mtx);
		vo_sendfile(o, fdata, doff, len);
		spin_unlock(&shared_mtx);
		break;
	case 3:
	case 4:		/* sendfile(2) of the static file, the server's bread */
		vo_sendfile(o, fstatic, soff, len);
		break;
	case 5:		/* read(2) of the static file */
		vo_file_rw(o, fstatic, soff, ub, len, false);
		break;
	case 6:
		spin_lock(&shared_mtx);
		if (vm_msync(o->o_vm, FDATA, FDATA_PAGES * PAGE_SIZE) != 0)
			o->o_wrong_signal++;
		spin_unlock(&shared_mtx);
		break;
	case 7:
	case 8:
	case 9:		/* the static file's private mapping: mostly loads */
		access1(s, (r >> 30) % 4 == 0 ? 1 : 0, FSTATIC + (vaddr_t)((r >> 12) %
		    (FSTATIC_PAGES * PAGE_SIZE)) / (vaddr_t)size * (vaddr_t)size, size);
		break;
	case 10:
	case 11:
	case 12:	/* the buffer */
		access1(s, (r >> 30) % 2, FBUF + (vaddr_t)((r >> 12) %
		    (FBUF_PAGES * PAGE_SIZE)) / (vaddr_t)size * (vaddr_t)size, size);
		break;
	default:	/* the data file's shared mapping */
		access1(s, (r >> 30) % 2, FDATA + (vaddr_t)((r >> 12) %
		    (FDATA_PAGES * PAGE_SIZE)) / (vaddr_t)size * (vaddr_t)size, size);
	}
}

/* The file server forks its clients over time, serving as well; a client
 * serves FCLIENT_QUANTA quanta and exits. */
static bool
file_quantum(struct sproc *s)
{
	if (s->s_kind == P_FSERVER && s->s_gen == 0) {
		/* First: the static file's contents, from the buffer. */
		for (vaddr_t va = FBUF; va < FBUF + FBUF_PAGES * PAGE_SIZE; va += 64)
			access1(s, 1, va, 8);
		for (uint64_t off = 0; off < FSTATIC_PAGES * PAGE_SIZE; off += 4 * PAGE_SIZE)
			vo_file_rw(s->s_o, fstatic, off, FBUF, 4 * PAGE_SIZE, true);
		s->s_gen = 1;
	}
	for (uint64_t k = 0; k < quantum / 16 + 1; k++)
		file_op(s, ptest_rand(&s->s_rng));
	if (s->s_kind == P_FCLIENT)
		return --s->s_pos == 0;
	uint64_t n = __atomic_load_n(&fclients_left, __ATOMIC_RELAXED);
	if (n > 0 && __atomic_compare_exchange_n(&fclients_left, &n, n - 1, false,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		new_proc(P_FCLIENT, do_fork(s->s_o), FCLIENT_QUANTA, 2, ptest_rand(&s->s_rng));
	return __atomic_load_n(&fclients_left, __ATOMIC_RELAXED) == 0;
}

/* Take one of the fork server's children to fork: false when none is
 * left.  The server and its children fork on several CPUs at once: a
 * load then a decrement could take the last one twice and wrap the count
 * (the server would never finish, procs[] would overflow). */
static bool
take_child(void)
{
	uint64_t n = __atomic_load_n(&children_left, __ATOMIC_RELAXED);
	while (n > 0 && !__atomic_compare_exchange_n(&children_left, &n, n - 1, false,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		continue;
	return n > 0;
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
	if (s->s_kind == P_STORM || s->s_kind == P_STORMKID)
		return storm_quantum(s);
	if (s->s_kind == P_SWEEP)
		return sweep_quantum(s);
	if (s->s_kind == P_FSERVER || s->s_kind == P_FCLIENT)
		return file_quantum(s);
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
	if (forks && take_child()) {
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

/* Per CPU (its own thread writes it): quanta of a process that last ran on
 * this CPU too - a switch back, the kernel having run in between - and
 * what the MMU did in them. */
struct back {
	uint64_t b_quanta, b_accesses, b_misses, b_walks;
};
static struct back backs[16];

static void
peak_max(peak_t *peak, uint64_t v)
{
	uint64_t o = __atomic_load_n(peak, __ATOMIC_RELAXED);
	while (v > o && !__atomic_compare_exchange_n(peak, &o, v, false, __ATOMIC_RELAXED,
	    __ATOMIC_RELAXED))
		continue;
}

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
		bool back = s->s_lastcpu == cpu;
		struct sim_cpu_stats s0 = sim_cpu_counters(cpu);
		bool done = run_quantum(s);
		if (back) {
			struct sim_cpu_stats s1 = sim_cpu_counters(cpu);
			backs[cpu].b_quanta++;
			backs[cpu].b_accesses += s1.accesses - s0.accesses;
			backs[cpu].b_misses += (s1.accesses - s1.tlb_hits) -
			    (s0.accesses - s0.tlb_hits);
			backs[cpu].b_walks += s1.walks - s0.walks;
		}
		s->s_lastcpu = cpu;
		vm_switch(NULL);
		if (done && (s->s_kind == P_CHILD || s->s_kind == P_STORMKID ||
		    s->s_kind == P_FCLIENT)) {
			/* Children exit; the traces, the server and the storm's
			 * parent stay for the map. */
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
			/* Only once its pages are gone: the storm's next round
			 * must find the parent their last sharer. */
			if (s->s_kind == P_STORMKID)
				__atomic_fetch_sub(&storm_live, 1, __ATOMIC_RELEASE);
		}
		__atomic_store_n(&s->s_state, done ? 2 : 0, __ATOMIC_RELEASE);
		/* Every CPU samples the peaks: a lone process (--pageout) may
		 * never run on CPU 0. */
		struct pmap_counters pc;
		pmap_get_counters(&pc);
		peak_max(&peak_pv, pc.pc_pv_entries);
		peak_max(&peak_ptp, pc.pc_ptp_pages);
		if (cpu == 0) {
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

static const char *
proc_name(struct sproc *s)
{
	switch (s->s_kind) {
	case P_TRACE:	return s->s_t->t_name;
	case P_SERVER:	return "forking server";
	case P_CHURN:	return "allocator churn";
	case P_STORM:	return "COW storm";
	case P_STORMKID: return "storm child";
	case P_SWEEP:	return "page-out sweep";
	case P_FSERVER:	return "file server";
	case P_FCLIENT:	return "file client";
	default:	return "child";
	}
}

static void
residency_map(struct sproc *s)
{
	struct vm_proc *p = s->s_o->o_vm;
	printf("pid %d (%s):\n", vm_proc_pid(p), proc_name(s));
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
			printf("  %#14llx %c%c%c %s %s  %s\n", (unsigned long long)va,
			    prot & VM_PROT_READ ? 'r' : '-', prot & VM_PROT_WRITE ? 'w' : '-',
			    prot & VM_PROT_EXECUTE ? 'x' : '-',
			    flags & VM_MAP_SHARED ? "shared " : "private",
			    flags & VM_MAP_FILE ? "file" : "anon", row);
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
	for (int i = 0; i < o->o_nr; i++) {	/* (the other CPUs are done) */
		struct vo_range *r = &o->o_r[i];
		for (vaddr_t va = r->r_start; va < r->r_end; va += PAGE_SIZE) {
			paddr_t pa;
			if (!vm_resident_pa(o->o_vm, va, &pa))
				continue;
			const uint8_t *want = vo_load_page(o, r, va);
			if (want == NULL)
				want = zero;
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

/* A new process with pages of private read-write memory at va, in the VM
 * and in the model. */
static struct vo_proc *
anon_proc(vaddr_t va, uint64_t pages)
{
	struct vo_proc *o = vo_new(vm_proc_create());
	vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
	if (vm_mmap(o->o_vm, va, pages * PAGE_SIZE, rw, VM_MAP_PRIVATE) != 0)
		abort();
	vo_mmap(o, va, pages * PAGE_SIZE, rw, false);
	return o;
}

static void
body(void *arg)
{
	struct result *res = arg;
	struct vm_config vc = { .vc_pages = mem_pages, .vc_launder = launder,
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
		struct vo_proc *o = anon_proc(HEAP, HEAP_PAGES);
		vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
		vm_mmap(o->o_vm, SHM, SHM_PAGES * PAGE_SIZE, rw, VM_MAP_SHARED);
		vo_mmap(o, SHM, SHM_PAGES * PAGE_SIZE, rw, true);
		children_left = CHILDREN;
		new_proc(P_SERVER, o, 1ULL << 62, 0, seed * 7919);
	}
	if (churn_workload)
		new_proc(P_CHURN, vo_new(vm_proc_create()), CHURN_QUANTA, 0, seed * 104729);
	if (storm_workload)
		new_proc(P_STORM, anon_proc(STORM, STORM_PAGES), 0, 0, seed * 1299709);
	if (files_workload) {
		struct vo_proc *o = anon_proc(FBUF, FBUF_PAGES);
		vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
		fdata = vo_file_new(FDATA_PAGES);
		fstatic = vo_file_new(FSTATIC_PAGES);
		vm_mmap_file(o->o_vm, FDATA, FDATA_PAGES * PAGE_SIZE, rw, VM_MAP_SHARED,
		    fdata->vf_vm, 0);
		vo_mmap_file(o, FDATA, FDATA_PAGES * PAGE_SIZE, rw, true, fdata, 0);
		vm_mmap_file(o->o_vm, FSTATIC, FSTATIC_PAGES * PAGE_SIZE, rw, VM_MAP_PRIVATE,
		    fstatic->vf_vm, 0);
		vo_mmap_file(o, FSTATIC, FSTATIC_PAGES * PAGE_SIZE, rw, false, fstatic, 0);
		fclients_left = FCLIENTS;
		new_proc(P_FSERVER, o, 0, 0, seed * 32452843);
	}
	if (pageout_workload)
		new_proc(P_SWEEP, anon_proc(SWEEP, SWEEP_PAGES), 0, 0, seed * 15485863);
	clock_gettime(CLOCK_MONOTONIC, &t_start);
	for (int c = 1; c < ncpus; c++)
		ptest_run_async(c, cpu_loop, (void *)(uintptr_t)c);
	cpu_loop((void *)0);
	for (int c = 1; c < ncpus; c++)
		ptest_wait(c);
	double secs = elapsed();
	/* Each file's disk after fsync must hold exactly the model's bytes:
	 * what differs is lost. */
	uint64_t disk_lost = 0;
	for (int i = 0; files_workload && i < 2; i++) {
		struct vo_file *f = i == 0 ? fdata : fstatic;
		vm_fsync(f->vf_vm);
		disk_lost += vo_file_disk_diff(f);
	}

	struct vm_stats st;
	vm_get_stats(&st);
	struct pmap_counters pc;
	pmap_get_counters(&pc);
	res->checked = exited_checked;
	res->lost = exited_lost + disk_lost;
	for (int i = 0; i < nprocs; i++)
		if (procs[i].s_o != NULL) {
			res->checked += procs[i].s_o->o_checked;
			res->lost += procs[i].s_o->o_lost + procs[i].s_o->o_wrong_signal;
		}
	printf("\n--- what happened (%.1f s) ---\n", secs);
	printf("processes       %d (%d traces%s%s%s%s%s), %" PRIu64 " forks, %" PRIu64
	    " exits, %" PRIu64 " trace regions made on first touch, %" PRIu64 " signals\n",
	    nprocs, ntraces, fork_workload ? ", a forking server and its children" : "",
	    churn_workload ? ", allocator churn" : "",
	    storm_workload ? ", a COW storm and its children" : "",
	    pageout_workload ? ", a page-out sweep" : "",
	    files_workload ? ", a file server and its clients" : "",
	    st.vs_forks, st.vs_exits, regions_made, signals);
	printf("faults          %" PRIu64 " zero fill, %" PRIu64 " COW copy, %" PRIu64
	    " COW reuse, %" PRIu64 " swap-in, %" PRIu64 " file page-in, %" PRIu64 " soft, %"
	    PRIu64 " SIGSEGV, %" PRIu64 " out of memory\n", st.vs_faults[VM_FK_ZERO],
	    st.vs_faults[VM_FK_COW], st.vs_faults[VM_FK_COW_REUSE], st.vs_faults[VM_FK_SWAPIN],
	    st.vs_faults[VM_FK_FILEIN], st.vs_faults[VM_FK_SOFT],
	    st.vs_faults[VM_FK_PROT] + st.vs_faults[VM_FK_NOMAP], st.vs_faults[VM_FK_OOM]);
	if (files_workload)
		printf("files           %" PRIu64 " pages read(2), %" PRIu64 " written(2), %"
		    PRIu64 " sent by sendfile(2), all through sf_bufs; dirty pages written "
		    "back: %" PRIu64 " at eviction, %" PRIu64 " by msync/fsync/laundry; disk "
		    "after fsync: %" PRIu64 " bytes differ from the model\n",
		    st.vs_file_read_pages, st.vs_file_write_pages, st.vs_sendfile_pages,
		    st.vs_pageouts_file, st.vs_file_writebacks, disk_lost);
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
		printf("cpu %d           %9" PRIu64 " accesses, %7" PRIu64 " TLB misses, %7" PRIu64
		    " walks, %6" PRIu64 " faults, %6" PRIu64 " INVLPG, %5" PRIu64 " CR3 loads (%"
		    PRIu64 " kept the TLB), %6" PRIu64 " IPIs taken\n", c, s.accesses,
		    s.accesses - s.tlb_hits, s.walks, s.page_faults, s.invlpg, s.cr3_loads,
		    s.cr3_keeps, s.ipis_taken);
	}
	for (int c = 0; c < ncpus; c++) {
		const struct back *b = &backs[c];
		printf("cpu %d back      %9" PRIu64 " quanta of a process back on this CPU: %9"
		    PRIu64 " accesses, %7" PRIu64 " TLB misses, %7" PRIu64 " walks (%.2f misses "
		    "per 1000 accesses)\n", c, b->b_quanta, b->b_accesses, b->b_misses,
		    b->b_walks, b->b_accesses ? 1000.0 * (double)b->b_misses /
		    (double)b->b_accesses : 0.0);
	}
	if (show_map) {
		printf("\n--- residency (R own, C copy-on-write, S shared or file, s swapped, "
		    "f on the file's disk, . untouched; 64 pages a line) ---\n");
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
	if (files_workload) {
		vo_file_free(fdata);
		vo_file_free(fstatic);
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
		else if (strcmp(a, "--storm") == 0)
			storm_workload = true;
		else if (strcmp(a, "--pageout") == 0)
			pageout_workload = true;
		else if (strcmp(a, "--files") == 0)
			files_workload = true;
		else if (strcmp(a, "--no-launder") == 0)
			launder = false;
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
		else if (strcmp(a, "--no-pcid") == 0)
			no_pcid = true;
		else if (strcmp(a, "--sched=random") == 0)
			sched = SIM_SCHED_RANDOM;
		else if (strcmp(a, "--sched=pct") == 0)
			sched = SIM_SCHED_PCT;
		else
			die2("unknown argument \"%s\"\nusage: pmapsim [--trace=FILE]... [--fork] "
			    "[--churn] [--storm] [--pageout] [--files] [--mem=PAGES] [--cpus=N] "
			    "[--seed=N] [--quantum=N] [--sfbuf=dmap|mapped] [--no-launder] "
			    "[--no-map] [--no-pcid] [--sched=random|pct]", a);
	}
	if (ntraces == 0 && !fork_workload && !churn_workload && !storm_workload &&
	    !pageout_workload && !files_workload)
		die2("nothing to run: give --trace=FILE, --fork, --churn, --storm, --pageout "
		    "and/or --files");
	struct sim_pmap_config c;
	sim_pmap_config_default(&c);
	if (sfbuf != NULL)
		c.sfbuf_mode = strcmp(sfbuf, "mapped") == 0 ? PMAP_SFBUF_MAPPED : PMAP_SFBUF_DMAP;
	c.machine.ncpus = ncpus;
	c.machine.seed = seed;
	if (no_pcid)
		c.clear_features |= sim_pmap_pcid_feature();
	c.machine.sched = sched;
	c.machine.sched_seed = seed;
	/* The address spaces of exited processes must not pile up in the
	 * TLBs (see sim.h): thousands of them over a run. */
	c.machine.pcid_dead_drop = true;
	/* Enough for the VM and the page tables; the dump walks all of it. */
	if (c.machine.mem_size == 0 || c.machine.mem_size > (128ULL << 20))
		c.machine.mem_size = 128ULL << 20;
	/* The storm's at its peak: the parent's heap and a round's copies. */
	uint64_t footprint = (fork_workload ? HEAP_PAGES + SHM_PAGES : 0) +
	    (churn_workload ? SLOTS * SLOT_PAGES : 0) +
	    (storm_workload ? STORM_PAGES * (1 + STORM_KIDS) : 0) +
	    (pageout_workload ? SWEEP_PAGES : 0) +
	    (files_workload ? FDATA_PAGES + FSTATIC_PAGES + FBUF_PAGES * (1 + FCLIENTS) : 0);
	printf("pmapsim: the VM layer on libpmap, simulated %d-CPU " PMAP_MACHINE " machine%s, "
	    "strict TLB, %s, seed %llu\n", ncpus, sim_pmap_pcid_feature() == 0 ? "" :
	    no_pcid ? " without PCIDs" : " with PCIDs", sched == SIM_SCHED_RANDOM ?
	    "random-walk scheduler" : sched == SIM_SCHED_PCT ? "PCT scheduler" :
	    "CPUs as threads", (unsigned long long)seed);
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
	if (storm_workload)
		printf("  COW storm: %d-page heap (private), %d rounds of %d children forked at "
		    "once, each writing every page\n", STORM_PAGES, STORM_ROUNDS, STORM_KIDS);
	if (files_workload)
		printf("  file server: a %d-page static file (mapped private, read, sent) and a "
		    "%d-page data file (mapped shared, read, written, sent, msync'ed), %d "
		    "clients forked over time\n", FSTATIC_PAGES, FDATA_PAGES, FCLIENTS);
	if (pageout_workload)
		printf("  page-out sweep: %d pages (private), %d passes, writing and reading "
		    "in turn\n", SWEEP_PAGES, SWEEP_PASSES);
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
