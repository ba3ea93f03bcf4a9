// SPDX-License-Identifier: BSD-2-Clause
/*
 * string.c - the few C library string functions the kernel needs.
 *
 * The mem* functions use the string instructions rather than C loops: a
 * compiler may turn a byte-copy loop back into a call to memcpy, which in
 * memcpy itself would recurse forever.  DF is clear throughout the kernel
 * (the entry paths execute cld), memmove sets it briefly for the backward
 * case.
 */
#include "pc_internal.h"

void *
memset(void *d, int c, size_t n)
{
	void *ret = d;

	/* Whole words first (8 bytes on amd64, 4 on i386): under an
	 * emulating hypervisor every iteration of a string instruction
	 * costs, so do a word at a time. */
	if (((uintptr_t)d & (sizeof(long) - 1)) == 0 && n >= 64) {
		size_t q = n / sizeof(long);
		unsigned long v = (unsigned long)0x0101010101010101ULL * (uint8_t)c;

		__asm__ __volatile__(PC_REP_STOS_LONG
		    : "+D"(d), "+c"(q) : "a"(v) : "memory");
		n &= sizeof(long) - 1;
	}
	__asm__ __volatile__("rep stosb"
	    : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return ret;
}

void *
memcpy(void *__restrict d, const void *__restrict s, size_t n)
{
	void *ret = d;

	__asm__ __volatile__("rep movsb"
	    : "+D"(d), "+S"(s), "+c"(n) :: "memory");
	return ret;
}

void *
memmove(void *d, const void *s, size_t n)
{
	void *ret = d;

	if ((uintptr_t)d <= (uintptr_t)s ||
	    (uintptr_t)d >= (uintptr_t)s + n) {
		__asm__ __volatile__("rep movsb"
		    : "+D"(d), "+S"(s), "+c"(n) :: "memory");
	} else if (n > 0) {
		/* Overlap with d above s: copy from the top down. */
		d = (char *)d + n - 1;
		s = (const char *)s + n - 1;
		__asm__ __volatile__("std; rep movsb; cld"
		    : "+D"(d), "+S"(s), "+c"(n) :: "memory");
	}
	return ret;
}

int
memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (size_t i = 0; i < n; i++) {
		if (p[i] != q[i])
			return p[i] < q[i] ? -1 : 1;
	}
	return 0;
}

size_t
strlen(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return n;
}

size_t
strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n] != '\0')
		n++;
	return n;
}

int
strcmp(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int
strncmp(const char *a, const char *b, size_t n)
{
	for (; n > 0; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (*a == '\0')
			break;
	}
	return 0;
}

char *
strstr(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++) {
		if (strncmp(hay, needle, n) == 0)
			return (char *)(uintptr_t)hay;
	}
	return n == 0 ? (char *)(uintptr_t)hay : NULL;
}
