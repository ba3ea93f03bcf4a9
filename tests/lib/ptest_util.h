// SPDX-License-Identifier: BSD-2-Clause
/*
 * ptest_util.h - small helpers shared by the portable suites.
 */
#ifndef PMAP_TESTS_PTEST_UTIL_H
#define PMAP_TESTS_PTEST_UTIL_H

#include "ptest.h"

#define UVA(n)	(0x0000000010000000UL + (vaddr_t)(n) * PAGE_SIZE)

/* A user address space with an lwp to run it. */
struct uspace {
	pmap_t us_pm;
	struct lwp *us_l;
};

static inline struct uspace
uspace_new(void)
{
	struct uspace u;
	u.us_pm = pmap_create();
	u.us_l = ptest_lwp_create(u.us_pm);
	return u;
}

static inline void
uspace_free(struct uspace *u)
{
	pmap_remove(u->us_pm, 0, PMAP_USER_MAX);
	pmap_update(u->us_pm);
	ptest_lwp_destroy(u->us_l);
	pmap_destroy(u->us_pm);
}

/* Load 8 bytes; returns the value or ~0 on a fault (check with ptest_load
 * directly when the difference matters). */
static inline uint64_t
peek(vaddr_t va, unsigned flags)
{
	uint64_t v;
	return ptest_load(va, 8, &v, flags) == PTEST_OK ? v : ~0ULL;
}

/* Check the auditor (if this machine has one); report under name. */
static inline void
audit_ok(const char *name)
{
	if (!ptest_have_auditor())
		return;
	char text[512];
	bool good = ptest_audit(text, sizeof(text));
	ok(good, "audit after %s", name);
	if (!good)
		tap_diag("%s", text);
}

/* A managed page filled with its own pattern word. */
static inline struct vm_page *
page_with(uint64_t pattern)
{
	struct vm_page *pg = ptest_page_alloc();
	if (pg != NULL)
		ptest_phys_write64(ptest_page_pa(pg), pattern);
	return pg;
}

/*
 * One access made on another CPU, as a given lwp (its pmap activated
 * there first).  kind: ACC_READ, ACC_WRITE (stores wval), ACC_FETCH.
 */
enum { ACC_READ = 0, ACC_WRITE = 1, ACC_FETCH = 2 };

struct access {
	struct lwp *a_l;
	vaddr_t a_va;
	int a_kind;
	unsigned a_flags;	/* PTEST_USER or 0 */
	uint64_t a_wval;	/* value a write stores */
	int a_result;		/* PTEST_OK / PTEST_PF / PTEST_GP */
	uint64_t a_val;		/* value a read returned */
	struct ptest_fault a_fault;	/* the fault, if a_result is PTEST_PF */
	uint32_t a_code;	/* its error code, the machine's own */
};

static inline void
access_run(void *p)
{
	struct access *a = p;
	ptest_switch(a->a_l);
	switch (a->a_kind) {
	case ACC_READ: a->a_result = ptest_load(a->a_va, 8, &a->a_val, a->a_flags); break;
	case ACC_WRITE: a->a_result = ptest_store(a->a_va, 8, a->a_wval, a->a_flags); break;
	default: a->a_result = ptest_fetch(a->a_va, a->a_flags); break;
	}
	a->a_fault = a->a_result == PTEST_PF ? ptest_last_fault() : (struct ptest_fault){ 0 };
	a->a_code = a->a_fault.pf_code;
}

static inline struct access
access_on(int cpu, struct lwp *l, vaddr_t va, int kind, unsigned flags, uint64_t wval)
{
	struct access a = { l, va, kind, flags, wval, -1, 0, { 0 }, 0 };
	ptest_run_on(cpu, access_run, &a);
	return a;
}

/* A user-mode access on cpu; returns PTEST_OK / PTEST_PF. */
static inline int
uaccess(int cpu, struct lwp *l, vaddr_t va, int kind)
{
	return access_on(cpu, l, va, kind, PTEST_USER, 0x77).a_result;
}

static inline void
park_fn(void *p)
{
	(void)p;
	ptest_switch(NULL);
}

/* Every CPU back to a kernel thread (kernel pmap). */
static inline void
park_all(void)
{
	for (int c = 0; c < ptest_ncpus(); c++)
		ptest_run_on(c, park_fn, NULL);
}

/* Run fn(arg) on cpu and return its int result through a small box. */
struct on_cpu_call {
	int (*oc_fn)(void *);
	void *oc_arg;
	int oc_result;
};

static inline void
on_cpu_tramp(void *p)
{
	struct on_cpu_call *c = p;
	c->oc_result = c->oc_fn(c->oc_arg);
}

static inline int
on_cpu(int cpu, int (*fn)(void *), void *arg)
{
	struct on_cpu_call c = { fn, arg, 0 };
	ptest_run_on(cpu, on_cpu_tramp, &c);
	return c.oc_result;
}

/* Does s contain sub?  (No libc in portable tests.) */
static inline bool
contains(const char *s, const char *sub)
{
	for (; *s != '\0'; s++) {
		const char *a = s, *b = sub;
		while (*a != '\0' && *b != '\0' && *a == *b) {
			a++;
			b++;
		}
		if (*b == '\0')
			return true;
	}
	return *sub == '\0';
}

/* Expect fn(arg) to panic with a message containing each of the given
 * substrings (NULL-terminated list). */
static inline void
expect_panic(const char *name, void (*fn)(void *), void *arg, const char *const *subs)
{
	char msg[512];
	bool panicked = ptest_catch_panic(fn, arg, msg, sizeof(msg));
	bool all = panicked;
	for (int i = 0; panicked && subs[i] != NULL; i++)
		all = all && contains(msg, subs[i]);
	ok(all, "%s: panics naming the function and the values", name);
	tap_diag("  %s", panicked ? msg : "(no panic)");
}

static inline void
check_pmap_fn(void *p)
{
	pmap_check_pmap((pmap_t)p);
}

static inline void
check_page_fn(void *p)
{
	pmap_check_page((struct vm_page *)p);
}

/* The consistency walkers as TAP checks (they panic on a violation). */
static inline bool
check_pmap_ok(const char *name, pmap_t pm)
{
	char msg[512];
	bool bad = ptest_catch_panic(check_pmap_fn, pm, msg, sizeof(msg));
	ok(!bad, "%s: every managed PTE has one pv entry, counts exact", name);
	if (bad)
		tap_diag("%s", msg);
	return !bad;
}

static inline bool
check_page_ok(const char *name, struct vm_page *pg)
{
	char msg[512];
	bool bad = ptest_catch_panic(check_page_fn, pg, msg, sizeof(msg));
	ok(!bad, "%s: every pv entry has its PTE", name);
	if (bad)
		tap_diag("%s", msg);
	return !bad;
}

/* Kernel virtual space for tests: n pages at the start of what
 * pmap_virtual_space hands out, with page tables. */
static inline vaddr_t
test_kva(unsigned n)
{
	vaddr_t s, e;
	pmap_virtual_space(&s, &e);
	pmap_growkernel(s + (vaddr_t)n * PAGE_SIZE);
	return s;
}

#endif
