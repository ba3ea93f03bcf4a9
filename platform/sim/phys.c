// SPDX-License-Identifier: BSD-2-Clause
/*
 * phys.c - simulated physical memory and its page allocator.
 *
 * Physical memory covers [0, end of the highest segment); pages outside
 * every segment are holes: readable (as zeroes) but never handed out.  It
 * is one anonymous host mapping (MAP_NORESERVE: only touched pages cost),
 * or - sparse backing, always in a 32-bit process, where a 1.5 GiB
 * contiguous hole in the address space is not guaranteed - a table of
 * 4 MiB chunks, each mapped the first time any byte of it is touched.
 * Either way sim_phys_at() is O(1) and a pointer to a byte is good to the
 * end of its 4 KiB page.
 *
 * The allocator keeps a stack of free page numbers (32-bit: memory ends at
 * or below 16 TiB; one entry per page of RAM, holes cost nothing) and a
 * bitmap saying which pages are free, which is what the auditor checks TLB
 * entries against.  Per GiB of RAM: 1 MiB of stack, 32 KiB of bitmap.
 *
 * Fault injection in the style of SQLite's test_malloc: fail the Nth
 * allocation from now, or each allocation with a seeded probability.  A
 * failing allocation changes nothing but the counters.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim_internal.h"

/* The library's inline direct map (sim_host_inline.h): simulated memory
 * when it is one host mapping, else NULL and 0. */
uint8_t *sim_phys_flat;
uint64_t sim_phys_flat_end;

struct sim_machine sim_m;

void
sim_fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "sim: fatal: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

void
sim_config_default(struct sim_config *c)
{
	memset(c, 0, sizeof(*c));
	c->ncpus = 4;
	c->mem_size = 64ULL << 20;
	c->tlb_mode = SIM_TLB_STRICT;
	c->tlb_capacity = 1536;
	c->seed = 1;
	c->maxphyaddr = 46;
	c->ad_on_fault = SIM_AD_UPPER;
}

void
sim_phys_init(const struct sim_config *c)
{
	struct sim_config *m = &sim_m.m_cfg;
	*m = *c;
	if (m->paging != SIM_PAGING_AMD64 && m->paging != SIM_PAGING_I386)
		sim_fatal("unknown paging mode %d", (int)m->paging);
	sim_m.m_i386 = m->paging == SIM_PAGING_I386;
	if (m->mem_size == 0)
		m->mem_size = 64ULL << 20;
	if (sim_m.m_i386)
		m->maxphyaddr = 32;	/* 32-bit paging without PSE-36 */
	else if (m->maxphyaddr == 0)
		m->maxphyaddr = 46;
	if (!sim_m.m_i386 && (m->maxphyaddr < 36 || m->maxphyaddr > 52))
		sim_fatal("maxphyaddr %d out of range 36..52", m->maxphyaddr);
	if (sizeof(void *) < 8)
		m->phys_sparse = true;
	if (m->nsegs == 0) {
		m->nsegs = 1;
		m->segs[0].start = 1ULL << 20;
		m->segs[0].end = m->segs[0].start + (m->mem_size & ~(SIM_PAGE_SIZE - 1));
	}
	if (m->nsegs > SIM_MAXSEGS)
		sim_fatal("%d segments, at most %d", m->nsegs, SIM_MAXSEGS);

	uint64_t end = 0;
	for (int i = 0; i < m->nsegs; i++) {
		struct sim_segment *s = &m->segs[i];
		if ((s->start | s->end) & (SIM_PAGE_SIZE - 1) || s->end <= s->start)
			sim_fatal("segment %d [%#llx, %#llx) is not page aligned and non-empty",
			    i, (unsigned long long)s->start, (unsigned long long)s->end);
		for (int j = 0; j < i; j++)
			if (s->start < m->segs[j].end && m->segs[j].start < s->end)
				sim_fatal("segments %d and %d overlap", i, j);
		if (s->end > end)
			end = s->end;
	}
	if (end > (1ULL << m->maxphyaddr))
		sim_fatal("memory ends at %#llx, beyond MAXPHYADDR %d",
		    (unsigned long long)end, m->maxphyaddr);

	if (end > (1ULL << 44))
		sim_fatal("memory ends at %#llx, beyond the 16 TiB the allocator handles",
		    (unsigned long long)end);

	sim_m.m_phys_end = end;
	sim_m.m_maxpa_mask = PG_FRAME & ~((1ULL << m->maxphyaddr) - 1);
	sim_m.m_phys = NULL;
	sim_m.m_chunks = NULL;
	sim_m.m_nchunks = 0;
	sim_m.m_phys_fd = -1;
	if (m->phys_aliases) {
		/* Sparse: pages nobody touches take no memory. */
		sim_m.m_phys_fd = memfd_create("sim-phys", MFD_CLOEXEC);
		if (sim_m.m_phys_fd < 0 || ftruncate64(sim_m.m_phys_fd, (off64_t)end) != 0)
			sim_fatal("cannot create the %llu-byte file behind simulated "
			    "memory", (unsigned long long)end);
	}
	if (m->phys_sparse) {
		uint64_t n = (end + SIM_CHUNK_SIZE - 1) >> SIM_CHUNK_SHIFT;
		if (n > SIZE_MAX / sizeof(uint8_t *))
			sim_fatal("%llu chunks of simulated memory: too many for this host",
			    (unsigned long long)n);
		sim_m.m_nchunks = (size_t)n;
		sim_m.m_chunks = calloc(sim_m.m_nchunks, sizeof(uint8_t *));
		if (sim_m.m_chunks == NULL)
			sim_fatal("out of host memory for the chunk table");
	} else {
		if (end > SIZE_MAX)
			sim_fatal("%llu bytes of simulated memory do not fit this host's "
			    "address space", (unsigned long long)end);
		void *p = sim_m.m_phys_fd >= 0 ?
		    mmap64(NULL, (size_t)end, PROT_READ | PROT_WRITE, MAP_SHARED,
		    sim_m.m_phys_fd, 0) :
		    mmap(NULL, (size_t)end, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			sim_fatal("cannot map %llu bytes of simulated memory (try phys_sparse)",
			    (unsigned long long)end);
		sim_m.m_phys = p;
		sim_phys_flat = p;
		sim_phys_flat_end = end;
	}

	uint64_t npages = end / SIM_PAGE_SIZE, nram = 0;
	for (int i = 0; i < m->nsegs; i++)
		nram += (m->segs[i].end - m->segs[i].start) / SIM_PAGE_SIZE;
	sim_m.m_free_map = calloc((size_t)((npages + 63) / 64), sizeof(uint64_t));
	sim_m.m_free_stack = calloc((size_t)nram, sizeof(uint32_t));
	if (sim_m.m_free_map == NULL || sim_m.m_free_stack == NULL)
		sim_fatal("out of host memory for the page allocator");
	pthread_mutex_init(&sim_m.m_alloc_lock, NULL);
	sim_m.m_free_top = 0;
	sim_m.m_npages_total = 0;
	/* Push in descending order so allocation starts at low addresses
	 * (ascending with alloc_top_down). */
	for (int k = 0; k < m->nsegs; k++) {
		int i = m->alloc_top_down ? k : m->nsegs - 1 - k;
		for (uint64_t n = 0; n < (m->segs[i].end - m->segs[i].start) / SIM_PAGE_SIZE; n++) {
			uint64_t pa = m->alloc_top_down ? m->segs[i].start + n * SIM_PAGE_SIZE :
			    m->segs[i].end - (n + 1) * SIM_PAGE_SIZE;
			uint64_t pn = pa / SIM_PAGE_SIZE;
			sim_m.m_free_stack[sim_m.m_free_top++] = (uint32_t)pn;
			sim_m.m_free_map[pn / 64] |= 1ULL << (pn % 64);
			sim_m.m_npages_total++;
		}
	}
	sim_m.m_rng = m->seed ^ 0x5eed0f00dULL;
	sim_m.m_alloc_count = sim_m.m_alloc_fail_count = 0;
	sim_m.m_fail_nth = 0;
	sim_m.m_fail_ppm = 0;
}

uint8_t *
sim_phys_chunk(size_t i)
{
	if (i >= sim_m.m_nchunks)
		sim_fatal("sim_phys_chunk: chunk %zu beyond the end of memory", i);
	void *p = sim_m.m_phys_fd >= 0 ?
	    mmap64(NULL, (size_t)SIM_CHUNK_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    sim_m.m_phys_fd, (off64_t)i << SIM_CHUNK_SHIFT) :
	    mmap(NULL, (size_t)SIM_CHUNK_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		sim_fatal("cannot map a chunk of simulated memory at %#llx",
		    (unsigned long long)i << SIM_CHUNK_SHIFT);
	uint8_t *expect = NULL;
	if (!__atomic_compare_exchange_n(&sim_m.m_chunks[i], &expect, (uint8_t *)p, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		munmap(p, (size_t)SIM_CHUNK_SIZE);	/* another thread was first */
		return expect;
	}
	return p;
}

void
sim_phys_fini(void)
{
	sim_phys_flat = NULL;
	sim_phys_flat_end = 0;
	if (sim_m.m_phys != NULL)
		munmap(sim_m.m_phys, (size_t)sim_m.m_phys_end);
	for (size_t i = 0; i < sim_m.m_nchunks; i++)
		if (sim_m.m_chunks[i] != NULL)
			munmap(sim_m.m_chunks[i], (size_t)SIM_CHUNK_SIZE);
	free(sim_m.m_chunks);
	sim_m.m_chunks = NULL;
	if (sim_m.m_phys_fd >= 0)
		close(sim_m.m_phys_fd);
	sim_m.m_phys_fd = -1;
	sim_m.m_nchunks = 0;
	free(sim_m.m_free_map);
	free(sim_m.m_free_stack);
	pthread_mutex_destroy(&sim_m.m_alloc_lock);
	sim_m.m_phys = NULL;
}

void *
sim_phys_alias_area(size_t npages)
{
	void *p = mmap(NULL, npages * SIM_PAGE_SIZE, PROT_NONE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		sim_fatal("cannot reserve %zu pages for aliases", npages);
	return p;
}

void *
sim_phys_alias(void *at, uint64_t pa)
{
	if (sim_m.m_phys_fd < 0)
		sim_fatal("sim_phys_alias: the machine has no phys_aliases");
	if (pa >= sim_m.m_phys_end)
		sim_fatal("sim_phys_alias: pa %#llx beyond the end of memory",
		    (unsigned long long)pa);
	void *p = mmap64(at, SIM_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
	    sim_m.m_phys_fd, (off64_t)(pa & ~(uint64_t)(SIM_PAGE_SIZE - 1)));
	if (p == MAP_FAILED)
		sim_fatal("cannot alias pa %#llx", (unsigned long long)pa);
	return p;
}

void
sim_phys_unalias(void *at)
{
	if (mmap(at, SIM_PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
	    MAP_NORESERVE, -1, 0) == MAP_FAILED)
		sim_fatal("cannot revoke the alias at %p", at);
}

int
sim_nsegs(void)
{
	return sim_m.m_cfg.nsegs;
}

struct sim_segment
sim_segment(int i)
{
	return sim_m.m_cfg.segs[i];
}

int
sim_maxphyaddr(void)
{
	return sim_m.m_cfg.maxphyaddr;
}

uint64_t
sim_phys_end(void)
{
	return sim_m.m_phys_end;
}

bool
sim_pa_is_ram(uint64_t pa)
{
	for (int i = 0; i < sim_m.m_cfg.nsegs; i++)
		if (pa >= sim_m.m_cfg.segs[i].start && pa < sim_m.m_cfg.segs[i].end)
			return true;
	return false;
}

void *
sim_phys_ptr(uint64_t pa)
{
	if (pa >= sim_m.m_phys_end)
		sim_fatal("sim_phys_ptr: pa %#llx beyond the end of memory %#llx",
		    (unsigned long long)pa, (unsigned long long)sim_m.m_phys_end);
	return sim_phys_at(pa);
}

static void
default_free_violation(const char *report)
{
	sim_fatal("page freed while still referenced: %s", report);
}

void
sim_set_free_violation_hook(void (*fn)(const char *))
{
	sim_m.m_free_violation = fn;
}

void
sim_set_audit_on_free(bool on)
{
	__atomic_store_n(&sim_m.m_cfg.audit_on_free, on, __ATOMIC_RELAXED);
}

int
sim_page_alloc(uint64_t *pap)
{
	pthread_mutex_lock(&sim_m.m_alloc_lock);
	sim_m.m_alloc_count++;
	bool fail = false;
	if (sim_m.m_fail_nth != 0 && --sim_m.m_fail_nth == 0)
		fail = true;
	if (sim_m.m_fail_ppm != 0 &&
	    sim_rng_next(&sim_m.m_rng) % 1000000 < sim_m.m_fail_ppm)
		fail = true;
	if (fail || sim_m.m_free_top == 0) {
		sim_m.m_alloc_fail_count++;
		pthread_mutex_unlock(&sim_m.m_alloc_lock);
		return -1;
	}
	uint64_t pn = sim_m.m_free_stack[--sim_m.m_free_top];
	sim_m.m_free_map[pn / 64] &= ~(1ULL << (pn % 64));
	pthread_mutex_unlock(&sim_m.m_alloc_lock);
	*pap = pn * SIM_PAGE_SIZE;
	return 0;
}

void
sim_page_free(uint64_t pa)
{
	if ((pa & (SIM_PAGE_SIZE - 1)) != 0 || !sim_pa_is_ram(pa))
		sim_fatal("sim_page_free: pa %#llx is not a RAM page", (unsigned long long)pa);
	if (__atomic_load_n(&sim_m.m_cfg.audit_on_free, __ATOMIC_RELAXED)) {
		char text[512];
		if (sim_audit_page_referenced(pa, text, sizeof(text)))
			(sim_m.m_free_violation ? sim_m.m_free_violation
						: default_free_violation)(text);
	}
	pthread_mutex_lock(&sim_m.m_alloc_lock);
	uint64_t pn = pa / SIM_PAGE_SIZE;
	if (sim_free_map_test(pn)) {
		pthread_mutex_unlock(&sim_m.m_alloc_lock);
		sim_fatal("sim_page_free: pa %#llx freed twice", (unsigned long long)pa);
	}
	sim_m.m_free_map[pn / 64] |= 1ULL << (pn % 64);
	sim_m.m_free_stack[sim_m.m_free_top++] = (uint32_t)pn;
	pthread_mutex_unlock(&sim_m.m_alloc_lock);
}

bool
sim_page_free_p(uint64_t pa)
{
	if (pa >= sim_m.m_phys_end)
		return false;
	pthread_mutex_lock(&sim_m.m_alloc_lock);
	bool f = sim_free_map_test(pa / SIM_PAGE_SIZE);
	pthread_mutex_unlock(&sim_m.m_alloc_lock);
	return f;
}

uint64_t
sim_pages_free(void)
{
	pthread_mutex_lock(&sim_m.m_alloc_lock);
	uint64_t n = sim_m.m_free_top;
	pthread_mutex_unlock(&sim_m.m_alloc_lock);
	return n;
}

uint64_t
sim_pages_total(void)
{
	return sim_m.m_npages_total;
}

void
sim_alloc_fail_nth(uint64_t n)
{
	pthread_mutex_lock(&sim_m.m_alloc_lock);
	sim_m.m_fail_nth = n;
	pthread_mutex_unlock(&sim_m.m_alloc_lock);
}

void
sim_alloc_fail_prob(uint32_t ppm)
{
	pthread_mutex_lock(&sim_m.m_alloc_lock);
	sim_m.m_fail_ppm = ppm;
	pthread_mutex_unlock(&sim_m.m_alloc_lock);
}

uint64_t
sim_alloc_count(void)
{
	pthread_mutex_lock(&sim_m.m_alloc_lock);
	uint64_t n = sim_m.m_alloc_count;
	pthread_mutex_unlock(&sim_m.m_alloc_lock);
	return n;
}

uint64_t
sim_alloc_failures(void)
{
	pthread_mutex_lock(&sim_m.m_alloc_lock);
	uint64_t n = sim_m.m_alloc_fail_count;
	pthread_mutex_unlock(&sim_m.m_alloc_lock);
	return n;
}
