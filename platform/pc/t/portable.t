#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# portable.t - prove wrapper: libpmap's portable suites on the real MMU.
#
#	prove -v platform/pc/t/portable.t
#
# Builds the kernel of PC_ARCH (amd64, the default: build/pc/kernel.elf;
# i386: build/pc-i386/kernel.elf, booted with 1088 MiB of RAM, more than its
# 1 GiB of kernel address space) quietly, on stderr, and runs it with
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
arch=${PC_ARCH:-amd64}
case $arch in
amd64) kernel=build/pc/kernel.elf ;;
i386) kernel=build/pc-i386/kernel.elf; export PC_MEM=${PC_MEM:-1088M} ;;
*) echo "Bail out! PC_ARCH=$arch: amd64 or i386"; exit 1 ;;
esac
if ! make -s -f platform/pc/pc.mk PC_ARCH="$arch" "$kernel" >&2; then
	echo "Bail out! cannot build the libpmap kernel ($arch)"
	exit 1
fi
args=(--timeout "${PC_TIMEOUT:-900}")
[ -n "${PC_APPEND-}" ] && args+=(--append "$PC_APPEND")
# shellcheck disable=SC2206
args+=(${PC_RUN_ARGS-})
if [ -n "${PC_TAP_LOG-}" ]; then
	platform/pc/run-qemu.sh "$kernel" "${args[@]}" | tee "$PC_TAP_LOG"
else
	exec platform/pc/run-qemu.sh "$kernel" "${args[@]}"
fi
