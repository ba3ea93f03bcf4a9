/*
 * mmuprobe.c - the MMU-probe mode of the i386 kernel: not written yet.
 */
#include "pc_pmap.h"

int
pc_mmuprobe_main(void)
{
	pc_printf("# mmuprobe: not available on i386 yet\n");
	return 1;
}
