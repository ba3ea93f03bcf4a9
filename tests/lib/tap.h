// SPDX-License-Identifier: BSD-2-Clause
/*
 * tap.h - a Test Anything Protocol producer for libpmap's tests.
 *
 * Freestanding: the one output routine, tap_vprintf(), is supplied by the
 * platform (stdio on the simulated machine, the serial line on the real
 * one).  Every check prints "ok N - name" or "not ok N - name" plus
 * diagnostics naming both values; tap_done() prints the plan when it was
 * not given up front and returns the process exit status.
 */
#ifndef PMAP_TESTS_TAP_H
#define PMAP_TESTS_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

void tap_vprintf(const char *fmt, va_list ap);	/* platform */
void tap_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void tap_plan(int n);				/* "1..n" up front */
bool tap_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool tap_is_u64(uint64_t got, uint64_t want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool tap_is_i64(int64_t got, int64_t want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tap_skip(int n, const char *why);
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_bail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int tap_failures(void);
int tap_count(void);
/* Print the trailing plan if none was given; return 0 if all passed. */
int tap_done(void);

#define ok(c, ...)		tap_ok((c), __VA_ARGS__)
#define is_u64(g, w, ...)	tap_is_u64((uint64_t)(g), (uint64_t)(w), __VA_ARGS__)
#define is_int(g, w, ...)	tap_is_i64((int64_t)(g), (int64_t)(w), __VA_ARGS__)

#endif
