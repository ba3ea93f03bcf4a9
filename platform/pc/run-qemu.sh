#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# run-qemu.sh - boot a platform/pc kernel under QEMU and turn its serial
# output into a clean TAP stream on stdout.
#
# usage: run-qemu.sh KERNEL [options] [-- extra qemu arguments]
#   --gdb             start paused with a gdb stub on :1234 (-s -S), with
#                     qemu-system-i386 for a 32-bit kernel; no
#                     timeout unless --timeout is given
#   --timeout SECS    kill QEMU after SECS seconds (default 120, 0 = never)
#   --append STRING   kernel command line (multiboot), e.g. selftest.crash=panic
#   --accel kvm|tcg|auto   (default auto, or $PC_ACCEL)
#   --smp N           CPUs (default 4, or $PC_SMP)
#   --mem SIZE        RAM (default 512M, or $PC_MEM)
#   --cpu-flags F     CPU features to add/remove, appended to the CPU model
#                     (-cpu max,F or -cpu host,F), e.g. -nx,-pge (or
#                     $PC_CPU_FLAGS)
#   -h, --help
#
# Accelerator: "auto" uses KVM with -cpu host if /dev/kvm can be opened
# read-write and KVM can actually create this machine (same CPU model,
# flags, CPUs and memory, left paused), else TCG with -cpu max.  The
# choice and the reason are printed on stderr.
#
# Output: TAP lines from the kernel ("1..N", "ok", "not ok", "# ...",
# "Bail out!") pass through; any other serial output (firmware noise) is
# turned into a "# " comment; blank lines and terminal escapes are dropped.
# The stream ends with "Bail out! <reason>" and a non-zero exit status if
# QEMU timed out, QEMU exited without the kernel's exit code (triple fault
# or reset: -no-reboot makes QEMU quit on those), the kernel panicked, the
# plan is missing, or the number of tests does not match the plan.
#
# QEMU's stderr is passed through to stderr.  If it reports a KVM internal
# error (QEMU then pauses the guest instead of exiting), QEMU is stopped at
# once and that becomes the bail-out reason.
#
# Exit status: 0 all tests passed; 1 some test failed or bail out;
# 2 usage error.  The kernel reports through isa-debug-exit (port 0xf4):
# QEMU status 33 = pass, 35 = tests failed, 37 = panic (see pc.h).

set -u

prog=run-qemu
kernel=
gdb=0
timeout_s=
append=
accel=${PC_ACCEL:-auto}
smp=${PC_SMP:-4}
mem=${PC_MEM:-512M}
cpu_flags=${PC_CPU_FLAGS-}
qemu=${QEMU:-qemu-system-x86_64}
extra=()

usage() {
	sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--gdb) gdb=1 ;;
	--timeout) [ $# -ge 2 ] || usage; timeout_s=$2; shift ;;
	--timeout=*) timeout_s=${1#*=} ;;
	--append) [ $# -ge 2 ] || usage; append=$2; shift ;;
	--append=*) append=${1#*=} ;;
	--accel) [ $# -ge 2 ] || usage; accel=$2; shift ;;
	--accel=*) accel=${1#*=} ;;
	--smp) [ $# -ge 2 ] || usage; smp=$2; shift ;;
	--mem) [ $# -ge 2 ] || usage; mem=$2; shift ;;
	--cpu-flags) [ $# -ge 2 ] || usage; cpu_flags=$2; shift ;;
	--cpu-flags=*) cpu_flags=${1#*=} ;;
	-h|--help) usage ;;
	--) shift; extra=("$@"); break ;;
	-*) echo "$prog: unknown option $1" >&2; usage ;;
	*) [ -z "$kernel" ] || usage; kernel=$1 ;;
	esac
	shift
done

bail() {
	echo "Bail out! $*"
	exit 1
}

[ -n "$kernel" ] || usage
[ -f "$kernel" ] || bail "kernel image not found: $kernel"
# A 32-bit kernel (ELF class 1) under gdb: QEMU's x86_64 gdb stub talks
# 64-bit registers, which a gdb debugging a 32-bit image rejects, so use
# qemu-system-i386 then (same package) unless $QEMU says otherwise.
elf_class=$(od -An -tu1 -j4 -N1 "$kernel" 2>/dev/null | tr -d ' ')
if [ "$gdb" = 1 ] && [ "$elf_class" = 1 ] && [ -z "${QEMU-}" ]; then
	qemu=qemu-system-i386
fi
command -v "$qemu" >/dev/null 2>&1 || bail "$qemu not installed (apt-get install qemu-system-x86)"
if [ -z "$timeout_s" ]; then
	if [ "$gdb" = 1 ]; then timeout_s=0; else timeout_s=${PC_TIMEOUT:-120}; fi
fi
case $timeout_s in
''|*[!0-9]*) echo "$prog: --timeout wants whole seconds" >&2; exit 2 ;;
esac

# KVM may exist but be unusable: no permission, or no VMX/SVM underneath
# (nested virtualisation off).  Opening the device is the first test;
# creating a VM (QEMU with no machine, quitting at once) is the real one.
kvm_problem() {
	[ -e /dev/kvm ] || { echo "no /dev/kvm"; return; }
	if ! ( exec 3<>/dev/kvm ) 2>/dev/null; then
		echo "/dev/kvm cannot be opened read-write"; return
	fi
	if ! echo quit | timeout 20 "$qemu" -machine none -accel kvm \
	    -nodefaults -display none -monitor stdio >/dev/null 2>&1; then
		echo "/dev/kvm opens but KVM cannot create a VM"; return
	fi
	# The machine we will really run, created and left paused: a nested
	# KVM may refuse the host CPU model's MSRs (seen: QEMU 7.2 aborting
	# on MSR 0x10a, IA32_ARCH_CAPABILITIES) long after /dev/kvm opened.
	if ! echo quit | timeout 20 "$qemu" -machine pc -accel kvm \
	    -cpu "host${cpu_flags:+,$cpu_flags}" -smp "$smp" -m "$mem" \
	    -nodefaults -display none -monitor stdio -S >/dev/null 2>&1; then
		echo "KVM cannot start this machine (-cpu host${cpu_flags:+,$cpu_flags})"
		return
	fi
}

case $accel in
auto)
	why=$(kvm_problem)
	if [ -z "$why" ]; then accel=kvm; else accel=tcg; fi
	;;
kvm) why=$(kvm_problem); [ -z "$why" ] || bail "KVM requested but $why" ;;
tcg) why="TCG requested" ;;
*) echo "$prog: --accel must be kvm, tcg or auto" >&2; exit 2 ;;
esac
if [ "$accel" = kvm ]; then
	accel_args=(-accel kvm -cpu "host${cpu_flags:+,$cpu_flags}")
	echo "$prog: accelerator KVM (-cpu host${cpu_flags:+,$cpu_flags})" >&2
else
	accel_args=(-accel tcg -cpu "max${cpu_flags:+,$cpu_flags}")
	echo "$prog: accelerator TCG (-cpu max${cpu_flags:+,$cpu_flags}): $why" >&2
fi

# (the commas below are QEMU syntax, not array separators)
# shellcheck disable=SC2054
qemu_args=(
	-machine pc "${accel_args[@]}" -smp "$smp" -m "$mem"
	-nodefaults -display none -serial stdio -no-reboot
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
	-kernel "$kernel"
)
[ -n "$append" ] && qemu_args+=(-append "$append")
if [ "$gdb" = 1 ]; then
	qemu_args+=(-s -S)
	cat >&2 <<EOF
$prog: QEMU is waiting for gdb on localhost:1234.  Attach with
$prog:   gdb $kernel -ex 'target remote :1234'
$prog: Use hbreak for breakpoints set before the kernel enables paging
$prog: (e.g. hbreak pc_boot_main), then continue.
EOF
fi
qemu_args+=("${extra[@]}")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-qemu.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

if [ "$timeout_s" -gt 0 ]; then
	runner=(timeout -k 5 "$timeout_s")
else
	runner=()
fi

# Copy QEMU's stderr; on a KVM internal error stop QEMU (after a moment,
# so its register dump gets printed) and leave the reason in $tmp/fatal.
watch_stderr() {
	local line
	while IFS= read -r line; do
		printf '%s\n' "$line" >&2
		case $line in
		*"KVM internal error"*)
			printf '%s\n' "$line" > "$tmp/fatal"
			( sleep 1; kill "$(cat "$tmp/pid" 2>/dev/null)" 2>/dev/null ) &
			;;
		*"Terminated via GDBstub"*)
			printf '%s\n' "gdb ended the session" > "$tmp/fatal"
			;;
		esac
	done
}

start=$(date +%s.%N)
"${runner[@]}" "$qemu" "${qemu_args[@]}" -pidfile "$tmp/pid" </dev/null \
    2> >(watch_stderr) |
awk -v state="$tmp/state" '
BEGIN { plan = -1; tests = 0; failed = 0; bailed = 0; panic = "" }
{
	line = $0
	gsub(/\r/, "", line)
	gsub(/\033\[[0-9;?]*[A-Za-z]/, "", line)     # terminal escapes
	gsub(/\033[^[]/, "", line)
	gsub(/[\001-\010\013-\037\177]/, "", line)   # other controls
	if (line ~ /^[ \t]*$/)
		next
	if (bailed) {
		print "# " line
	} else if (line ~ /^(not )?ok([ \t]|$)/) {
		tests++
		if (line ~ /^not ok/ && line !~ /#[ \t]*[Tt][Oo][Dd][Oo]/)
			failed++
		print line
	} else if (line ~ /^1\.\.[0-9]+/ && plan < 0) {
		plan = line
		sub(/^1\.\./, "", plan)
		sub(/[^0-9].*$/, "", plan)
		plan += 0
		print line
	} else if (line ~ /^Bail out!/) {
		bailed = 1
		print line
	} else if (line ~ /^#/) {
		if (line ~ /^# panic: /)
			panic = substr(line, 10)
		print line
	} else {
		print "# " line
	}
	fflush()
}
END {
	printf "%d %d %d %d\n", plan, tests, failed, bailed > state
	printf "%s\n", panic > (state ".panic")
}'
qemu_status=${PIPESTATUS[0]}
wait                    # also for the stderr watcher (bash >= 5.1)
end=$(date +%s.%N)

read -r plan tests failed bailed < "$tmp/state" || bail "TAP filter failed"
panic=$(cat "$tmp/state.panic")
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
echo "$prog: QEMU exit status $qemu_status after ${elapsed}s" >&2

[ "$bailed" = 1 ] && exit 1
[ -s "$tmp/fatal" ] && bail "QEMU: $(cat "$tmp/fatal")"

case $qemu_status in
33|35) ;;
37) bail "kernel panic: ${panic:-see the messages above}" ;;
124|137) bail "timeout: no exit from the kernel after ${timeout_s}s (hang?)" ;;
0) bail "QEMU stopped without the kernel's exit code (triple fault or reset?)" ;;
*) bail "QEMU failed (exit status $qemu_status)" ;;
esac

[ "$plan" -ge 0 ] || bail "the kernel printed no TAP plan"
[ "$tests" -eq "$plan" ] || bail "planned $plan tests but ran $tests"
if [ "$qemu_status" = 35 ] || [ "$failed" -gt 0 ]; then
	exit 1
fi
exit 0
