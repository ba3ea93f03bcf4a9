#!/bin/bash
# portable.t - prove wrapper: libpmap's portable suites on the real MMU.
#
#	prove -v platform/pc/t/portable.t
#
# Builds build/pc/kernel.elf (quietly, on stderr) and runs it with
# run-qemu.sh, whose stdout is the TAP stream of every suite in
# tests/portable.  PC_APPEND is the kernel command line (see ptest_pc.c:
# sfbuf=mapped, suite=NAME,..., seed=N, scale=N); PC_RUN_ARGS passes runner
# options (e.g. '--accel tcg'); PC_ACCEL, PC_SMP, PC_MEM, PC_TIMEOUT work
# too.  With PC_TAP_LOG set, the TAP stream is also written to that file.
# (prove hands a .t file to perl, and perl runs the interpreter named on a
# #! line that does not mention perl.)

set -o pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd) || exit 1
cd "$root" || exit 1
if ! make -s -f platform/pc/pc.mk build/pc/kernel.elf >&2; then
	echo "Bail out! cannot build the libpmap kernel"
	exit 1
fi
args=(--timeout "${PC_TIMEOUT:-900}")
[ -n "${PC_APPEND-}" ] && args+=(--append "$PC_APPEND")
# shellcheck disable=SC2206
args+=(${PC_RUN_ARGS-})
if [ -n "${PC_TAP_LOG-}" ]; then
	platform/pc/run-qemu.sh build/pc/kernel.elf "${args[@]}" | tee "$PC_TAP_LOG"
else
	exec platform/pc/run-qemu.sh build/pc/kernel.elf "${args[@]}"
fi
