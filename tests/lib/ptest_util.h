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

#endif
