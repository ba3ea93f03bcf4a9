#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# soak.sh - run portable suites over many seeds on the simulated machine,
# each seed one replayable run: with the deterministic scheduler it is one
# schedule, with threads one more stress run.
#
#   tests/soak.sh [-b BUILD] [-j JOBS] [-s A..B] [-m MODES] [SUITE ...]
#
#   -b BUILD   build directory (default build/asan)
#   -j JOBS    runs at once (default: the number of CPUs)
#   -s A..B    seeds A to B inclusive (default 1..100)
#   -m MODES   comma-separated: threads, random, pct, spec (speculative
#              TLB fills, threads) (default threads,random,pct)
#   SUITE      suite names (default: explore random concurrency smp_stress
#              races)
#
# Prints a progress line every ten seconds, then for every run that failed
# its suite, seed, mode and the command that replays it, and last
#   soak: R runs, F failed, M model-checked operations, T s
# where M counts the random suite's steps checked against the reference
# model.  Exit status 1 if any run failed.
set -u
build=build/asan
jobs=$(nproc 2>/dev/null || echo 2)
seeds=1..100
modes=threads,random,pct
while getopts b:j:s:m:h opt; do
	case $opt in
	b) build=$OPTARG ;;
	j) jobs=$OPTARG ;;
	s) seeds=$OPTARG ;;
	m) modes=$OPTARG ;;
	*) sed -n '3,/^set/s/^# \{0,1\}//p' "$0" | sed '$d'; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
suites=${*:-explore random concurrency smp_stress races}
first=${seeds%%..*}
last=${seeds##*..}
case $first$last in *[!0-9]*|'') echo "soak: -s wants A..B" >&2; exit 2 ;; esac

args_of() {
	case $1 in
	threads) echo "" ;;
	random) echo "--sched=random" ;;
	pct) echo "--sched=pct" ;;
	spec) echo "--spec=100000" ;;
	*) echo "soak: unknown mode $1" >&2; exit 2 ;;
	esac
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/soak.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
# One line per run: suite seed mode.
for s in $suites; do
	[ -x "$build/tests/portable/${s}_test" ] || { echo "soak: no $build/tests/portable/${s}_test (make VARIANT=... all)" >&2; exit 2; }
	for m in ${modes//,/ }; do
		args_of "$m" > /dev/null || exit 2
		for ((seed = first; seed <= last; seed++)); do
			echo "$s $seed $m"
		done
	done
done > "$tmp/runs"
total=$(wc -l < "$tmp/runs")

run_one() {
	local s=$1 seed=$2 m=$3 out
	# PMAP_TEST_EXEC: a prefix for the command (qemu-i386 for 32-bit
	# programs on a host that cannot run them).
	out=$(PTEST_TIMEOUT=${PTEST_TIMEOUT:-600} ${PMAP_TEST_EXEC:-} "$build/tests/portable/${s}_test" --seed="$seed" \
	    $(args_of "$m") 2>&1)
	local rc=$?
	local steps
	steps=$(printf '%s\n' "$out" | awk '/^ok .* random steps match/ {
		for (i = 1; i < NF; i++) if ($(i + 1) == "random") n += $i } END { print n + 0 }')
	if [ $rc -ne 0 ] || printf '%s\n' "$out" | grep -q '^not ok'; then
		echo "FAIL $s $seed $m $steps"
		printf '%s\n' "$out" | grep -E '^not ok|^# |^Bail' | head -8 | sed 's/^/    /'
	else
		echo "PASS $s $seed $m $steps"
	fi
}
export -f run_one args_of
export build

start=$(date +%s)
(
	xargs -P "$jobs" -L 1 bash -c 'run_one "$@"' _ < "$tmp/runs" > "$tmp/results"
) &
pid=$!
last_report=$start
while kill -0 $pid 2>/dev/null; do
	sleep 1
	now=$(date +%s)
	[ $((now - last_report)) -ge 10 ] || continue
	last_report=$now
	done_n=$(grep -c '^\(PASS\|FAIL\)' "$tmp/results" 2>/dev/null)
	failed=$(grep -c '^FAIL' "$tmp/results" 2>/dev/null)
	echo "soak: $done_n/$total runs, $failed failed, $((now - start)) s"
done
wait $pid

failed=0
while read -r verdict s seed m steps; do
	[ "$verdict" = FAIL ] || continue
	failed=$((failed + 1))
	echo "soak: FAILED $s seed $seed ($m): replay with" \
	    "$build/tests/portable/${s}_test --seed=$seed $(args_of "$m")"
done < "$tmp/results"
grep '^    ' "$tmp/results" | head -40
ops=$(awk '/^(PASS|FAIL)/ { n += $5 } END { print n + 0 }' "$tmp/results")
runs=$(grep -c '^\(PASS\|FAIL\)' "$tmp/results")
echo "soak: $runs runs, $failed failed, $ops model-checked operations, $(( $(date +%s) - start )) s"
[ "$failed" -eq 0 ]
