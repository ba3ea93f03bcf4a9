// SPDX-License-Identifier: BSD-2-Clause
/*
 * tap.c - see tap.h.  Not thread-safe by design: checks are made by the
 * test's controlling code; worker CPUs report through their return values.
 */
#include "tap.h"

static int tap_n, tap_failed, tap_planned = -1;
static bool tap_bailed;

void
tap_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tap_vprintf(fmt, ap);
	va_end(ap);
}

void
tap_plan(int n)
{
	tap_planned = n;
	tap_printf("1..%d\n", n);
}

static bool
tap_result(bool cond, const char *fmt, va_list ap)
{
	tap_n++;
	if (!cond)
		tap_failed++;
	tap_printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
	tap_vprintf(fmt, ap);
	tap_printf("\n");
	return cond;
}

bool
tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tap_result(cond, fmt, ap);
	va_end(ap);
	return cond;
}

bool
tap_is_u64(uint64_t got, uint64_t want, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool r = tap_result(got == want, fmt, ap);
	va_end(ap);
	if (!r)
		tap_printf("#   got:      %#llx (%llu)\n#   expected: %#llx (%llu)\n",
		    (unsigned long long)got, (unsigned long long)got,
		    (unsigned long long)want, (unsigned long long)want);
	return r;
}

bool
tap_is_i64(int64_t got, int64_t want, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool r = tap_result(got == want, fmt, ap);
	va_end(ap);
	if (!r)
		tap_printf("#   got:      %lld\n#   expected: %lld\n", (long long)got,
		    (long long)want);
	return r;
}

void
tap_skip(int n, const char *why)
{
	for (int i = 0; i < n; i++)
		tap_printf("ok %d # SKIP %s\n", ++tap_n, why);
}

void
tap_diag(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tap_printf("# ");
	tap_vprintf(fmt, ap);
	tap_printf("\n");
	va_end(ap);
}

void
tap_bail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tap_printf("Bail out! ");
	tap_vprintf(fmt, ap);
	tap_printf("\n");
	va_end(ap);
	tap_bailed = true;
}

int
tap_failures(void)
{
	return tap_failed;
}

int
tap_count(void)
{
	return tap_n;
}

int
tap_done(void)
{
	if (tap_planned < 0)
		tap_printf("1..%d\n", tap_n);
	else if (tap_planned != tap_n)
		tap_printf("# planned %d tests but ran %d\n", tap_planned, tap_n);
	if (tap_failed)
		tap_printf("# failed %d of %d\n", tap_failed, tap_n);
	return (tap_failed || tap_bailed || (tap_planned >= 0 && tap_planned != tap_n)) ? 1 : 0;
}
