#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# pc-bench.sh - libpmap's operations timed inside the bare-metal kernel
# under QEMU (platform/pc, bench mode: platform/pc/bench_pc.c), for each
# arch the real machine runs, set beside this host's Linux doing the same
# page-table work at the same page count (bench/linux_bench), in the
# vs-linux lines of `make bench`:
#
#     vs-linux <operation> <pages> <libpmap ns/page> <linux ns/page> <ratio>
#
# ratio = linux / libpmap (above 1: libpmap faster).  The libpmap figures
# are bench/bench_ops.c, the very code bench_pmap times on the simulated
# machine, TSC-timed; the Linux figures are measured once, first, before
# any QEMU runs.  `make pc-bench` runs this; it is a benchmark, not a test.
#
# usage: bench/pc-bench.sh [--pages N] [--reps R] [--arches "amd64 i386"]
#                          [--linux PATH] [--smoke]
#   --pages N    page count of every figure (default 65536, or $PC_BENCH_PAGES)
#   --reps R     best of R, both sides (default 3, or $PC_BENCH_REPS)
#   --arches A   the kernels to run (default "amd64 i386", or $PC_BENCH_ARCHES)
#   --linux P    the host tool (default build/release/bin/linux_bench)
#   --smoke      no Linux and no figures: boot each kernel in bench mode at
#                64 pages, once (unless --pages/--reps say otherwise), and
#                check that it passes its checks and prints every line,
#                well-formed (make check runs this: a few seconds)
# Also read: PC_ACCEL (kvm|tcg|auto, for run-qemu.sh), PC_SMP (CPUs,
# default 4), PC_BENCH_MEM (RAM; default: 512M or what N needs on amd64,
# 1088M on i386), PC_TIMEOUT (seconds per kernel, default 900; 120 with
# --smoke), QEMU.
#
# Under TCG (no usable /dev/kvm) QEMU emulates the CPU and its MMU in
# software: every libpmap figure, and so every ratio, then measures the
# emulator, not page-table hardware.  The output says so.
#
# Exit status: 0 if every arch ran and printed well-formed lines; 1 if
# one did not (the others still run); 2 for bad arguments.

set -u
set -o pipefail

prog=pc-bench
root=$(cd "$(dirname "$0")/.." && pwd) || exit 1
cd "$root" || exit 1

pages=${PC_BENCH_PAGES-}
reps=${PC_BENCH_REPS-}
arches=${PC_BENCH_ARCHES:-amd64 i386}
linux_bench=build/release/bin/linux_bench
smoke=0

usage() {
	sed -n '/^# usage:/,/^[^#]/{/^#/s/^# \{0,1\}//p;}' "$0" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--pages) [ $# -ge 2 ] || usage; pages=$2; shift ;;
	--pages=*) pages=${1#*=} ;;
	--reps) [ $# -ge 2 ] || usage; reps=$2; shift ;;
	--reps=*) reps=${1#*=} ;;
	--arches) [ $# -ge 2 ] || usage; arches=$2; shift ;;
	--arches=*) arches=${1#*=} ;;
	--linux) [ $# -ge 2 ] || usage; linux_bench=$2; shift ;;
	--linux=*) linux_bench=${1#*=} ;;
	--smoke) smoke=1 ;;
	-h|--help) usage ;;
	*) echo "$prog: unknown argument $1" >&2; usage ;;
	esac
	shift
done
if [ "$smoke" = 1 ]; then
	pages=${pages:-64}
	reps=${reps:-1}
	timeout=${PC_TIMEOUT:-120}
	prog=pc-bench-smoke
else
	pages=${pages:-65536}
	reps=${reps:-3}
	timeout=${PC_TIMEOUT:-900}
fi
case $pages in ''|*[!0-9]*|0) echo "$prog: --pages wants a positive number, not '$pages'" >&2; exit 2 ;; esac
case $reps in ''|*[!0-9]*|0) echo "$prog: --reps wants a positive number, not '$reps'" >&2; exit 2 ;; esac
for a in $arches; do
	case $a in amd64|i386) ;; *) echo "$prog: no kernel for arch '$a' (amd64, i386)" >&2; exit 2 ;; esac
done
if [ "$smoke" = 0 ] && [ ! -x "$linux_bench" ]; then
	echo "$prog: $linux_bench is missing: make build/release/bin/linux_bench" \
		"(make pc-bench builds it)" >&2
	exit 1
fi
qemu=${QEMU:-qemu-system-x86_64}
if ! command -v "$qemu" >/dev/null 2>&1; then
	echo "$prog: $qemu is not installed (Debian: qemu-system-x86): nothing to run" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# ---- 1. Linux, first, with no QEMU running ----
if [ "$smoke" = 1 ]; then
	echo "$prog: the bench mode of each kernel at $pages pages, best of $reps: its checks" \
		"pass and its lines are well-formed (the figures are not looked at)"
elif ! "$linux_bench" --pages="$pages" --reps="$reps" > "$tmp/linux" 2>&1; then
	echo "$prog: $linux_bench failed:" >&2
	sed 's/^/  /' "$tmp/linux" >&2
	exit 1
else
	release=$(sed -n 's/^linux-bench: Linux \([^ ]*\).*/\1/p' "$tmp/linux")
	echo "$prog: libpmap in the bare-metal kernel under QEMU (platform/pc, bench mode) and"
	echo "$prog: this host's Linux ${release:-?} doing the same page-table work, $pages pages,"
	echo "$prog: best of $reps; ns/page; ratio = linux / libpmap (above 1: libpmap faster)"
	sed -n 's/^linux-bench: /linux: /p' "$tmp/linux"
fi

# The RAM a kernel gets for N pages: amd64 the pages, 5% for page tables,
# pv chunks and the arrays, and 128 MiB for the rest, in 64 MiB steps, at
# least 512 MiB (run-qemu.sh's default); i386 1088 MiB, as pc-portable
# boots it - more than its 1 GiB of kernel address space (its vm_page
# array caps it at ~1.2 GiB: N up to about 2^17 fits).
mem_for() {
	local need=$(( pages / 256 + pages / 256 / 20 + 128 ))
	need=$(( (need + 63) / 64 * 64 ))
	case $1 in
	amd64) [ "$need" -gt 512 ] && echo "${need}M" || echo 512M ;;
	i386) echo 1088M ;;
	esac
}

# The kernel's lines (file $1) as bench_pc.c promises them: one machine
# line; one figure per operation, the four compared ones among them, none
# twice; the shootdown rows of 4 sizes x 2 operations x 2 placements.
# Prints what is wrong and fails.
well_formed() {
	awk -v pages="$pages" '
	function bad(why) { print why; nbad++ }
	/^pc-bench-machine / {
		nmach++
		if ($0 !~ / arch=[a-z0-9]+ / || $0 !~ / accel=[^ ]+ / || $0 !~ / tsc_hz=[1-9][0-9]* /)
			bad("machine line without arch, accel or tsc_hz: " $0)
		next
	}
	/^pc-bench / {
		if (NF != 4 || $2 !~ /^[a-z_0-9]+$/ || $3 != pages || $4 !~ /^[0-9]+\.[0-9]$/)
			bad("malformed: " $0)
		else if ($2 in op)
			bad("twice: " $2)
		op[$2] = 1
		nop++
		next
	}
	/^pc-bench-update / {
		if (NF != 7 || $2 !~ /^(protect|remove)$/ || $3 !~ /^[0-9]+$/ || $4 !~ /^[0-9]+$/ ||
		    $5 !~ /^[0-9]+$/ || $6 !~ /^[0-9]+$/ || $7 !~ /^[0-9]+$/)
			bad("malformed: " $0)
		nupd++
		next
	}
	END {
		if (nmach != 1)
			bad(nmach + 0 " pc-bench-machine lines (1 wanted)")
		split("enter protect fork remove", cmp, " ")
		for (i = 1; i <= 4; i++)
			if (!(cmp[i] in op))
				bad("no pc-bench line for " cmp[i])
		if (nupd != 16)
			bad(nupd + 0 " pc-bench-update lines (16 wanted)")
		exit nbad > 0
	}' "$1"
}

# ---- 2. Each arch's kernel ----
status=0
for arch in $arches; do
	case $arch in
	amd64) kernel=build/pc/kernel.elf ;;
	i386) kernel=build/pc-i386/kernel.elf ;;
	esac
	mem=${PC_BENCH_MEM:-$(mem_for "$arch")}
	[ "$smoke" = 1 ] || echo
	if ! make -s -f platform/pc/pc.mk PC_ARCH="$arch" "$kernel" > "$tmp/$arch.build" 2>&1; then
		echo "$prog: $arch: cannot build $kernel:"
		tail -20 "$tmp/$arch.build" | sed 's/^/  /'
		status=1
		continue
	fi
	if ! platform/pc/run-qemu.sh "$kernel" --mem "$mem" --timeout "$timeout" \
	    --append "bench pages=$pages reps=$reps" > "$tmp/$arch.out" 2> "$tmp/$arch.err"; then
		echo "$prog: $arch: the bench kernel failed:"
		grep -E '^(not ok|Bail out!|# panic)' "$tmp/$arch.out" | sed 's/^/  /'
		tail -3 "$tmp/$arch.err" | sed 's/^/  /'
		status=1
		continue
	fi
	# Kernel lines come through run-qemu.sh as "# " comments.
	sed -n 's/^# \(pc-bench[-a-z]* .*\)/\1/p' "$tmp/$arch.out" > "$tmp/$arch.lines"
	if ! bad=$(well_formed "$tmp/$arch.lines"); then
		echo "$prog: $arch: the bench kernel's lines are not what they should be:"
		printf '%s\n' "$bad" | sed 's/^/  /'
		status=1
		continue
	fi
	machine=$(sed -n 's/^pc-bench-machine //p' "$tmp/$arch.lines")
	field() { printf '%s\n' "$machine" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
	accel=$(field accel)
	if [ "$smoke" = 1 ]; then
		echo "$prog: $arch (${accel:-?}): $(grep -c '^pc-bench ' "$tmp/$arch.lines")" \
			"operations, $(grep -c '^pc-bench-update ' "$tmp/$arch.lines") update" \
			"rows, $(grep -c '^ok ' "$tmp/$arch.out") checks passed"
		continue
	fi
	# run-qemu.sh: "accelerator TCG (-cpu max): why" or "accelerator KVM (-cpu host)"
	how=$(sed -n 's/^run-qemu: accelerator [A-Z]* //p' "$tmp/$arch.err")
	echo "$prog: $arch kernel under QEMU/${accel:-?} ${how:-}, $(field cpus) CPUs" \
		"($(field vendor)), $mem of RAM"
	sed -n "s/^# pc-bench: \(TSC .*\|main table: .*\)/$prog: \1/p" "$tmp/$arch.out"
	case $accel in
	KVM) echo "$prog: KVM: the real MMU; INVLPG, CR3 loads and IPIs are the hardware's" \
		"(under a nested hypervisor, its emulation of some)" ;;
	*) echo "$prog: ${accel:-?}: QEMU emulates the CPU and its MMU in software (no usable" \
		"/dev/kvm): these libpmap figures, and the ratios, measure the emulator," \
		"not page-table hardware" ;;
	esac
	awk -v pages="$pages" '
	FNR == NR {
		if ($1 == "linux" && $3 == pages) {
			if ($4 == "unavailable") { why[$2] = $0; sub(/^linux [a-z]+ [0-9]+ /, "", why[$2]) }
			else lin[$2] = $4
		}
		next
	}
	$1 == "pc-bench" { lib[$2] = $4; order[n++] = $2 }
	END {
		split("enter protect fork remove", cmp, " ")
		for (i = 1; i <= 4; i++) {
			op = cmp[i]
			if (!(op in lib))
				printf "vs-linux %s: the kernel printed no figure\n", op
			else if (!(op in lin))
				printf "linux %s: %s\n", op, (op in why) ? why[op] : "not measured"
			else
				printf "vs-linux %s %d %.1f %.1f %.2f\n", op, pages, lib[op], lin[op],
				    lin[op] / lib[op]
			seen[op] = 1
		}
		for (i = 0; i < n; i++)
			if (!(order[i] in seen))
				printf "pc-bench %s %d %s\n", order[i], pages, lib[order[i]]
	}' "$tmp/linux" "$tmp/$arch.lines"
	sed -n 's/^# pc-bench: \(pmap_copy\|page tables\)/\1/p' "$tmp/$arch.out" | sed "s/^/$prog: /"
	# Shootdown rounds: one row per size, the pmap active on every CPU
	# and then on CPU 0 only.
	awk -v prog="$prog" '
	$1 == "pc-bench-update" {
		key = $3 " " ($4 > 1 ? "all" : "one") " " $2
		cell[key] = sprintf("%2d %3d %11.1f", $5, $6, $7 / 1000)
		if (!($3 in seen)) { seen[$3] = 1; sizes[n++] = $3 }
		if ($4 > 1) ncpus = $4
	}
	END {
		if (n == 0)
			exit
		printf "%s: pmap_update after pmap_protect (rw -> r) / pmap_remove of written pages:\n", prog
		printf "%s: shootdown rounds, IPIs, and us for the call and its update (best of the runs)\n", prog
		printf "%8s  %-38s  %s\n", "", "active on CPUs 0-" ncpus - 1, "active on CPU 0 only"
		printf "%8s  %-18s  %-18s  %-18s  %s\n", "pages", "protect", "remove", "protect", "remove"
		for (i = 0; i < n; i++) {
			s = sizes[i]
			printf "%8s  %-18s  %-18s  %-18s  %s\n", s, cell[s " all protect"],
			    cell[s " all remove"], cell[s " one protect"], cell[s " one remove"]
		}
	}' "$tmp/$arch.lines"
	grep -q '^not ok' "$tmp/$arch.out" && { grep '^not ok' "$tmp/$arch.out"; status=1; }
done
exit $status
