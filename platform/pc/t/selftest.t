#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# selftest.t - prove wrapper for the platform/pc self-test kernel.
#
#	prove -v platform/pc/t/selftest.t
#
# Builds build/pc/selftest.elf (quietly, on stderr) and runs it with
# run-qemu.sh, whose stdout is the TAP stream.  Pass runner options through
# PC_RUN_ARGS (e.g. PC_RUN_ARGS='--accel tcg'); PC_ACCEL, PC_SMP, PC_MEM and
# PC_TIMEOUT work too.  (prove hands a .t file to perl, and perl runs the
# interpreter named on a #! line that does not mention perl.)

root=$(cd "$(dirname "$0")/../../.." && pwd) || exit 1
cd "$root" || exit 1
if ! make -s -f platform/pc/pc.mk build/pc/selftest.elf >&2; then
	echo "Bail out! cannot build the self-test kernel"
	exit 1
fi
# shellcheck disable=SC2086
exec platform/pc/run-qemu.sh build/pc/selftest.elf ${PC_RUN_ARGS-}
