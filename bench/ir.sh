#!/bin/sh
# ir.sh - instructions per page for each operation bench_pmap measures,
# counted by callgrind: unlike the times of `make bench`, repeatable on a
# noisy machine, so two versions of the library compare exactly.
#
#   bench/ir.sh [build dir] [pages]      (defaults: build/release 4096)
#
# The first count includes the simulated host's hooks the operation calls
# (what make bench times); the second leaves them out: the library alone.
set -eu
b=${1:-build/release}
n=${2:-4096}
command -v valgrind >/dev/null || { echo "ir.sh: valgrind is not installed"; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
printf '%-22s %10s %14s\n' "operation" "instr/page" "without hooks"
# function : pages touched by all its calls in bench_pmap (multiples of n)
for spec in pmap_enter:2 pmap_extract:1 pmap_protect:1 pmap_clear_modify:1 \
    pmap_page_protect:2 pmap_remove:1; do
	fn=${spec%%:*}
	mult=${spec#*:}
	valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect="$fn" \
		"$b/bin/bench_pmap" --pages="$n" >/dev/null 2>&1
	ir=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
	# The host's share: the inclusive cost of every pmap_host_* hook
	# (the simulated machine's, which a real kernel's would replace).
	host=$(callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null | awk '
		$NF ~ /^\/.*:pmap_host_[a-z0-9_]+$/ { gsub(",", "", $1); n += $1 }
		END { print n + 0 }')
	printf '%-22s %10d %14d\n' "$fn" $((ir / (n * mult))) $(((ir - host) / (n * mult)))
done
