// SPDX-License-Identifier: BSD-2-Clause
/*
 * vm_host_sim.c - the VM layer's host on the simulated machine: its kernel
 * memory is the host process's heap.
 */
#include <stdlib.h>

#include "vm.h"

void *
vm_host_zalloc(size_t size)
{
	return calloc(1, size);
}

void
vm_host_free(void *p)
{
	free(p);
}
