#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# native32.sh - can this host run 32-bit x86 programs natively?  Exit 0 if
# a program built with `$CC -m32` runs; 1 if it builds but the kernel will
# not run it (no IA-32 emulation: some kernels, sandboxes and VMs leave it
# out), 2 if it does not build.
cc=${CC:-gcc}
d=$(mktemp -d "${TMPDIR:-/tmp}/native32.XXXXXX") || exit 2
trap 'rm -rf "$d"' EXIT
printf 'int main(void) { return 0; }\n' > "$d/t.c"
"$cc" -m32 "$d/t.c" -o "$d/t" 2>/dev/null || exit 2
"$d/t" 2>/dev/null || exit 1
exit 0
