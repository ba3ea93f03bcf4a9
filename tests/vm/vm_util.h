// SPDX-License-Identifier: BSD-2-Clause
/*
 * vm_util.h - what the VM suites share: touching pages through the
 * oracle, and the VM's own consistency check as a TAP line.
 */
#ifndef PMAP_TESTS_VM_UTIL_H
#define PMAP_TESTS_VM_UTIL_H

#include "ptest_util.h"
#include "vm_oracle.h"

/* Touch every page of [va, va + n pages) as o's process on this CPU:
 * kind 0 loads, 1 stores, at a few offsets and sizes. */
static inline void
touch(struct vo_proc *o, vaddr_t va, int n, int kind)
{
	vm_switch(o->o_vm);
	for (int i = 0; i < n; i++) {
		vaddr_t p = va + (vaddr_t)i * PAGE_SIZE;
		vo_access(o, kind, p, 8);
		vo_access(o, kind, p + 0x7f0, 4);
		vo_access(o, kind, p + 0xffe, 2);
		vo_access(o, kind, p + 0x101, 1);
	}
}

/* Nothing lost, no wrong signal or answer so far. */
static inline bool
clean_run(struct vo_proc *o)
{
	return o->o_lost == 0 && o->o_wrong_signal == 0;
}

static inline void
vm_ok(const char *what)
{
	char text[256];
	bool good = vm_check(text, sizeof(text));
	ok(good, "%s: the VM's pages and every pmap agree with the maps", what);
	if (!good)
		tap_diag("%s", text);
}

#endif
