#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# ir.sh - instructions per page for each line of bench_pmap's main table,
# counted by callgrind: unlike the times of `make bench`, repeatable on a
# noisy machine, so two versions of the library compare exactly.
#
#   bench/ir.sh [build dir] [pages]      (defaults: build/release 4096)
#
# bench_pmap --main-only --reps=1 runs each line once, each the call of
# one function of its own (bench_op_<name> in bench/bench_ops.c) over all the
# pages; callgrind counts inside that function only, so the count is
# exactly what the line times, whatever else the program does.
# The first count includes the simulated host's hooks the operation calls
# (what make bench times); the second leaves them out: the library alone.
set -eu
b=${1:-build/release}
n=${2:-4096}
command -v valgrind >/dev/null || { echo "ir.sh: valgrind is not installed"; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
printf '%-20s %10s %14s   %s\n' "operation" "instr/page" "without hooks" "(bench_pmap's line)"
for spec in \
    "enter_ro:pmap_enter, read-only, first of its page" \
    "remove_ro:pmap_remove of those" \
    "enter_first:pmap_enter, new mapping, first of its page" \
    "enter_second:pmap_enter, second mapping (pv entry)" \
    "extract:pmap_extract" \
    "protect:pmap_protect rw -> r" \
    "clear_modify:pmap_clear_modify" \
    "page_protect_read:pmap_page_protect(READ)" \
    "remove:pmap_remove, 2 mappings" \
    "page_protect_none:pmap_page_protect(NONE)" \
    "fork:fork (protect, pmap_copy, enter child)"; do
	op=${spec%%:*}
	what=${spec#*:}
	# The compiler may rename a static function it specialises
	# (op_x.isra.0, op_x.constprop.0): count those too.
	valgrind --tool=callgrind --callgrind-out-file="$out" \
		--toggle-collect="bench_op_$op" --toggle-collect="bench_op_$op.*" \
		"$b/bin/bench_pmap" --main-only --reps=1 --pages="$n" >/dev/null 2>&1
	ir=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
	# The host's share: the inclusive cost of every pmap_host_* hook
	# (the simulated machine's, which a real kernel's would replace).
	host=$(callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null | awk '
		$NF ~ /^\/.*:pmap_host_[a-z0-9_]+$/ { gsub(",", "", $1); n += $1 }
		END { print n + 0 }')
	printf '%-20s %10d %14d   %s\n' "$op" $((ir / n)) $(((ir - host) / n)) "$what"
done
