#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# mmu-diff.sh - the real MMU referees the simulated one.
#
# usage: mmu-diff.sh SEED COUNT [BUILD_DIR]
#
# Boots build/pc/kernel.elf (or $PC_KERNEL) under QEMU in MMU-probe mode
# (kernel command line "mmuprobe seed=SEED count=COUNT"; see
# platform/pc/<arch>/mmuprobe.c), runs BUILD_DIR/bin/mmuprobe (default
# build/release) with the same seed and the configuration the kernel's
# header line reports, and compares the two outputs line by line.  Prints
# the first few differing pairs and, as its last line,
#
#     mmu-diff: COUNT probes, K differ
#
# exiting 1 when K > 0 (or when either side failed to produce its lines).
#
# A/D bits on a walk that faults are the architecture's choice: the
# simulated MMU sets A in the non-leaf entries it got past (default) or
# nothing (--ad-none).  PC_MMU_AD=upper|none picks one; the default, auto,
# runs the simulated tool both ways and keeps the one that matches the
# machine (it says which).  Measured here: TCG sets A (upper), the KVM of
# the development host does not (none).
#
# QEMU's TCG has two bugs the simulated MMU rightly does not copy; under
# TCG (unless PC_MMU_STRICT=1) lines that differ only by them are counted
# separately, not as differences:
#   - a reserved-bit page fault reports P=0 in the error code (hardware
#     reports P=1: every entry on the walk was present);
#   - a walk through a 1 GiB leaf sets A in the leaf even when the access
#     then faults (QEMU sets A in a PDPTE before it looks at PS; it does
#     not do that for 2 MiB and 4 KiB leaves).
#
# PC_ARCH=i386: the 32-bit kernel (build/pc-i386/kernel.elf, booted with
# $PC_MEM or 1088M of RAM), legacy 32-bit paging; the simulated tool runs
# with --arch=i386 (plus --no-pse/--no-pge as the header says).  PSE-36:
# the simulated MMU models a CPU without it (MAXPHYADDR 32: bits 21:13 of
# a 4 MiB PDE reserved), the machine under QEMU has it - QEMU's TCG always
# takes PDE bits 20:13 as physical-address bits 39:32 and reserves bit 21
# only (M = 40), and hardware that enumerates PSE-36 does the same with
# M = min(MAXPHYADDR, 40).  The kernel reports which (a "# mmuprobe:
# PSE-36 ..." line), and the tool gets --pse36=M to model it: under TCG
# always M = 40; on hardware the CPUID values.  Under TCG with CPUID
# PSE-36 = 0 (PC_CPU_FLAGS=-pse36) that is a third TCG bug, not counted
# (unless PC_MMU_STRICT=1, which leaves the tool without PSE-36).  Such a
# page lies above 4 GiB, where neither machine has RAM: a line where the
# tool reached raw:0x1... or higher and the machine reached no slot of the
# arena (raw:...) compares without the address, and is counted apart.  Of
# the TCG bugs above the reserved-bit one applies; there are no 1 GiB
# pages.
#
# Environment: PC_ARCH (amd64|i386), PC_KERNEL, PC_ACCEL (kvm|tcg|auto),
# QEMU, PC_TIMEOUT, PC_MEM (i386 only; amd64 uses run-qemu.sh's default),
# PC_CPU_FLAGS (run-qemu.sh), PC_MMUPROBE_ARGS (more kernel command-line
# words, e.g. no-1g, no-pse), PC_MMU_AD, PC_MMU_STRICT, PC_MMU_SHOW
# (differing pairs to print, default 5).

set -u

prog=mmu-diff
[ $# -ge 2 ] && [ $# -le 3 ] || {
	sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2
	exit 2
}
seed=$1
count=$2
bdir=${3:-build/release}
root=$(cd "$(dirname "$0")/../.." && pwd) || exit 2
cd "$root" || exit 2
arch=${PC_ARCH:-amd64}
case $arch in
amd64) kernel=${PC_KERNEL:-build/pc/kernel.elf}; qemu_args=() ;;
i386) kernel=${PC_KERNEL:-build/pc-i386/kernel.elf}; qemu_args=(--mem "${PC_MEM:-1088M}") ;;
*) echo "$prog: PC_ARCH must be amd64 or i386, not $arch" >&2; exit 2 ;;
esac
tool=$bdir/bin/mmuprobe
show=${PC_MMU_SHOW:-5}

fail() {
	echo "$prog: $*" >&2
	echo "mmu-diff: $count probes, $count differ"
	exit 1
}

[ -x "$tool" ] || fail "$tool is not built (make $tool)"
[ -f "$kernel" ] || fail "$kernel is not built (make -f platform/pc/pc.mk)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmu-diff.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# The real machine.  One CPU is enough: the probes run on CPU 0.
platform/pc/run-qemu.sh "$kernel" --smp 1 "${qemu_args[@]}" --timeout "${PC_TIMEOUT:-900}" \
    --append "mmuprobe seed=$seed count=$count ${PC_MMUPROBE_ARGS-}" \
    >"$tmp/raw" 2>"$tmp/err"
qstatus=$?
sed -n 's/^# \(mmuprobe seed=.*\)$/\1/p; s/^# \(probe [0-9][0-9]*\) /\1 /p' \
    "$tmp/raw" >"$tmp/hw"
header=$(head -n 1 "$tmp/hw")
machine=$(sed -n 's/^# mmuprobe: \(.*\); on the boot page tables$/\1/p' "$tmp/raw")
if [ "$qstatus" != 0 ] || [ -z "$header" ]; then
	cat "$tmp/err" >&2
	grep -v '^# probe ' "$tmp/raw" | tail -n 20 >&2
	fail "the kernel did not complete the probe run (runner status $qstatus)"
fi
case $header in
"mmuprobe seed=$seed count=$count "*) ;;
*) fail "unexpected header from the kernel: $header" ;;
esac

# The simulated tool, configured as the header says.
args=(--seed "$seed" --count "$count")
for w in $header; do
	case $w in
	maxphyaddr=*) args+=(--maxphyaddr "${w#maxphyaddr=}") ;;
	no-smep) args+=(--no-smep) ;;
	no-smap) args+=(--no-smap) ;;
	nxe) args+=(--no-vary-nxe) ;;
	no-user) args+=(--no-user) ;;
	no-1g) args+=(--no-1g) ;;
	arch=i386) args+=(--arch=i386) ;;
	no-pse) args+=(--no-pse) ;;
	no-pge) args+=(--no-pge) ;;
	esac
done

tcg=0
case $machine in *TCGTCGTCGTCG*) tcg=1 ;; esac
[ "${PC_MMU_STRICT:-0}" = 1 ] && tcg=0

# i386: PSE-36 (see the top).  pse36_bug: TCG's PSE-36 behind CPUID's back.
i386=0
[ "$arch" = i386 ] && i386=1
pse36_bug=0
pse36_note=
case " $header " in *" no-pse "*) ;; *" arch=i386 "*)
	m=$(sed -n 's/^# mmuprobe: PSE-36 yes, MAXPHYADDR \([0-9][0-9]*\):.*/\1/p' "$tmp/raw")
	if [ -n "$m" ]; then
		[ "$m" -gt 40 ] && m=40
		[ "$tcg" = 1 ] && m=40		# TCG's walker ignores MAXPHYADDR here
		args+=("--pse36=$m")
		pse36_note="the CPU has PSE-36 (--pse36=$m)"
	elif [ "$tcg" = 1 ]; then
		args+=(--pse36=40)
		pse36_bug=1
	fi
esac

# compare HW SIM: writes $tmp/cmp.out (differing pairs), prints
# "DIFFER QUIRK_RSVD QUIRK_1G ABOVE_4G".
compare() {
	: >"$tmp/cmp.out"
	awk -v tcg="$tcg" -v i386="$i386" -v out="$tmp/cmp.out" -v count="$count" '
	function ec(line,   m) {
		if (match(line, /-> PF ec=0x[0-9a-f]+/))
			return substr(line, RSTART + 11, RLENGTH - 11)
		return ""
	}
	function hex(s,   i, v, c) {
		v = 0
		for (i = 1; i <= length(s); i++) {
			c = index("0123456789abcdef", substr(s, i, 1)) - 1
			v = v * 16 + c
		}
		return v
	}
	function tohex(v,   s, d) {
		s = ""
		do { d = v % 16; s = substr("0123456789abcdef", d + 1, 1) s; v = int(v / 16) } while (v > 0)
		return s
	}
	FNR == NR { hw[FNR] = $0; nhw = FNR; next }
	{ sim[FNR] = $0; nsim = FNR }
	END {
		differ = 0; qr = 0; qg = 0; qh = 0
		if (hw[1] != sim[1]) {
			printf "header differs:\n  hw:  %s\n  sim: %s\n", hw[1], sim[1] > out
			differ++
		}
		for (i = 2; i <= count + 1; i++) {
			h = hw[i]; s = sim[i]
			if (h == s && h != "")
				continue
			# i386: the tool reached a PSE-36 page above 4 GiB (nine
			# hex digits or more), where there is no RAM: the machine
			# reached no slot of the arena.
			if (i386 && h != "" && match(s, /-> ok pa=raw:0x[0-9a-f]+ ad=/) &&
			    RLENGTH >= 28) {
				sok = substr(s, RSTART, RLENGTH)
				n = h
				sub(/-> ok pa=raw:0x[0-9a-f]+ ad=/, sok, n)
				if (n == s) { qh++; continue }
			}
			if (tcg && h != "" && s != "") {
				n = h
				e = ec(n)
				# Reserved-bit fault without P: add P, as hardware does.
				if (e != "" && int(hex(e) / 8) % 2 == 1 && hex(e) % 2 == 0) {
					sub(/-> PF ec=0x[0-9a-f]+/, "-> PF ec=0x" tohex(hex(e) + 1), n)
					if (n == s) { qr++; continue }
				}
				# A in a faulting 1 GiB leaf: two entries, a fault.
				if (!i386 && n ~ /-> PF / && n ~ / ad=[-A][-D]\/A[-D]$/) {
					m = n
					sub(/\/A.$/, "/-" substr(n, length(n), 1), m)
					if (m == s) { qg++; continue }
				}
			}
			differ++
			if (differ <= '"$show"')
				printf "  hw:  %s\n  sim: %s\n", h == "" ? "(missing)" : h,
				    s == "" ? "(missing)" : s > out
		}
		printf "%d %d %d %d\n", differ, qr, qg, qh
	}' "$tmp/hw" "$1"
}

run_sim() {	# $1 = upper|none
	if [ "$1" = none ]; then
		"$tool" "${args[@]}" --ad-none >"$tmp/sim.$1"
	else
		"$tool" "${args[@]}" >"$tmp/sim.$1"
	fi || fail "$tool ${args[*]} failed"
}

ad=${PC_MMU_AD:-auto}
case $ad in
upper|none)
	run_sim "$ad"
	read -r differ qr qg qh < <(compare "$tmp/sim.$ad")
	;;
auto)
	run_sim upper
	read -r d_up qr_up qg_up qh_up < <(compare "$tmp/sim.upper")
	cp "$tmp/cmp.out" "$tmp/cmp.upper"
	run_sim none
	read -r d_no qr_no qg_no qh_no < <(compare "$tmp/sim.none")
	if [ "$d_up" -le "$d_no" ]; then
		ad=upper; differ=$d_up; qr=$qr_up; qg=$qg_up; qh=$qh_up
		cp "$tmp/cmp.upper" "$tmp/cmp.out"
	else
		ad=none; differ=$d_no; qr=$qr_no; qg=$qg_no; qh=$qh_no
	fi
	;;
*) fail "PC_MMU_AD must be upper, none or auto" ;;
esac

echo "$prog: real machine: $machine; simulated: $tool ${args[*]}$([ "$ad" = none ] && echo ' --ad-none')"
if [ "$ad" = none ]; then
	echo "$prog: a faulting walk sets no A bit on this machine (--ad-none)"
else
	echo "$prog: a faulting walk sets A in the non-leaf entries it passed (default)"
fi
if [ "$i386" = 1 ]; then
	[ -n "$pse36_note" ] && echo "$prog: $pse36_note"
	[ "$pse36_bug" = 1 ] && echo "$prog: QEMU TCG bug: 4 MiB PDE bits 20:13 are PSE-36 address bits although CPUID says no PSE-36 (simulated with --pse36=40)"
	if [ "$tcg" = 1 ] && [ "$qr" -gt 0 ]; then
		echo "$prog: QEMU TCG bugs not counted: $qr reserved-bit faults without P in the error code"
	fi
	if [ "$qh" -gt 0 ]; then
		echo "$prog: $qh accesses to PSE-36 pages above 4 GiB (no RAM there: the machine reached no slot) compared without the address"
	fi
elif [ "$tcg" = 1 ] && [ $((qr + qg)) -gt 0 ]; then
	echo "$prog: QEMU TCG bugs not counted: $qr reserved-bit faults without P in the error code, $qg faulting walks that set A in a 1 GiB leaf"
fi
if [ "$differ" -gt 0 ]; then
	echo "$prog: first differing lines (hw = real MMU, sim = simulated):"
	cat "$tmp/cmp.out"
fi
echo "mmu-diff: $count probes, $differ differ"
[ "$differ" -eq 0 ]
