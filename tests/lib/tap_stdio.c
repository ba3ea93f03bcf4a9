// SPDX-License-Identifier: BSD-2-Clause
/* tap_stdio.c - TAP output for hosted test programs. */
#include <stdio.h>

#include "tap.h"

void
tap_vprintf(const char *fmt, va_list ap)
{
	vfprintf(stdout, fmt, ap);
	fflush(stdout);
}
