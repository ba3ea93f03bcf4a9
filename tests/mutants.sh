#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# mutants.sh - measure the suites: apply each realistic bug of
# tests/mutants.txt alone to a scratch copy of the tree, build, run the
# suites, and count the bugs they catch.
#
#   tests/mutants.sh [-k] [-n NAME-PATTERN]
#
#   -k   keep the scratch tree (its path is printed)
#   -n   only the mutants whose description matches the pattern (grep -E)
#
# A mutant is killed when `make test` (every suite and its variant runs,
# each given 90 s: a hang counts as caught; under qemu-i386 every suite
# once and the speculative-fill variants, given 300 s each) or the
# explorer (200 schedules of the explore suite, random walk and PCT; for a
# bug in the i386 port 40 of explore and of copy, under qemu-i386 where
# the host cannot run 32-bit programs) fails; a mutant that does not build
# is reported apart.  Prints
#   mutants: K of N killed
# and the survivors.  Exit status 0 whatever the score: it is a
# measurement, run before resolving an issue that touches the core.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
keep=0
pattern=.
while getopts kn:h opt; do
	case $opt in
	k) keep=1 ;;
	n) pattern=$OPTARG ;;
	*) sed -n '3,/^set/s/^# \{0,1\}//p' "$0" | sed '$d'; exit 2 ;;
	esac
done
command -v perl >/dev/null || { echo "mutants: perl is needed" >&2; exit 2; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/mutants.XXXXXX") || exit 1
[ $keep = 1 ] && echo "mutants: scratch tree $scratch" || trap 'rm -rf "$scratch"' EXIT
(cd "$here" && tar --exclude=./build --exclude=./.git -cf - .) | (cd "$scratch" && tar -xf -)
cd "$scratch" || exit 1
nproc=$(nproc 2>/dev/null || echo 2)
echo "mutants: building the unmutated tree"
make -j"$nproc" all > build.log 2>&1 || { tail -20 build.log; echo "mutants: the tree does not build"; exit 1; }

# Split the list into one file per mutant: NNN.name, NNN.file, NNN.old, NNN.new.
mkdir -p mut
perl -e '
	local $/; my $all = <STDIN>;
	my $i = 0;
	for my $blk (split /^=== /m, $all) {
		next unless $blk =~ /\A(.*?)\n--- (\S+)\n(.*?)\n\+\+\+\n(.*)\z/s;
		my ($name, $file, $old, $new) = ($1, $2, $3, $4);
		$new =~ s/\n\z//;
		$i++;
		my $n = sprintf("mut/%03d", $i);
		for (["name", $name], ["file", $file], ["old", $old], ["new", $new]) {
			open(my $fh, ">", "$n.$_->[0]") or die; print $fh $_->[1]; close $fh;
		}
	}' < tests/mutants.txt

# Under qemu-i386 the suites run once each, without make test's variants;
# these are speculative-fill ones (of VARIANT_RUNS in the Makefile; not
# random_test, which takes over 300 s there), which
# alone reach a TLB entry the library never made itself.
spec_runs() {
	local b=$1 w=$2 t rc=0
	for t in switch_test smp_stress_test; do
		echo "mutants: $t --spec=100000"
		PTEST_TIMEOUT=300 $w "$b/tests/portable/$t" --spec=100000 || rc=1
	done
	echo "mutants: concurrency_test --sfbuf=mapped --spec=100000"
	PTEST_TIMEOUT=300 $w "$b/tests/portable/concurrency_test" --sfbuf=mapped \
	    --spec=100000 || rc=1
	return $rc
}

total=0 killed=0 broken=0
survivors=()
for f in mut/*.name; do
	n=${f%.name}
	name=$(cat "$f")
	echo "$name" | grep -qE "$pattern" || continue
	file=$(cat "$n.file")
	total=$((total + 1))
	cp "$file" "$n.orig"
	if ! perl -e '
		local $/;
		open(my $o, "<", $ARGV[0]) or die; my $old = <$o>;
		open(my $w, "<", $ARGV[1]) or die; my $new = <$w>;
		open(my $s, "<", $ARGV[2]) or die; my $src = <$s>;
		my $count = () = $src =~ /\Q$old\E/g;
		exit 3 if $count != 1;
		$src =~ s/\Q$old\E/$new/;
		open(my $d, ">", $ARGV[2]) or die; print $d $src;' "$n.old" "$n.new" "$file"; then
		echo "mutants: STALE (text not found once) - $name"
		broken=$((broken + 1))
		continue
	fi
	# A bug in a port is run on that port; the MI core's on amd64.
	arch=amd64 bdir=build/release
	case $file in arch/i386/*) arch=i386 bdir=build/i386/release ;; esac
	# The i386 port's windows race in the copy suite too; a host that
	# cannot run 32-bit programs runs them under qemu-i386, as
	# check-qemu-user does (fewer schedules: it is slower).
	soak=(-s 1..100 -m random,pct explore) wrap= swrap=
	[ $arch = i386 ] && soak=(-s 1..20 -m random,pct explore copy)
	# (qemu-i386 does not always deliver the suites' own SIGALRM timeout to
	# a CPU spinning in a hung mutant: timeout(1) ends such a run.)
	if [ $arch = i386 ] && ! tests/native32.sh; then
		wrap="timeout -k 5 300 qemu-i386" swrap="timeout -k 5 120 qemu-i386"
	fi
	verdict=survived
	if ! make ARCH=$arch -j"$nproc" all > "$n.log" 2>&1; then
		verdict=broken
	elif [ -z "$wrap" ] && ! PTEST_TIMEOUT=90 timeout 900 make ARCH=$arch test \
	    >> "$n.log" 2>&1; then
		verdict=killed
	elif [ -n "$wrap" ] && ! PTEST_TIMEOUT=300 timeout 3600 prove --exec "$wrap" --timer \
	    $(find $bdir/tests/sim $bdir/tests/portable $bdir/tests/vm -maxdepth 1 \
	    -type f -perm -u+x ! -name '*.*' | sort) >> "$n.log" 2>&1; then
		verdict=killed
	elif [ -n "$wrap" ] && ! spec_runs "$bdir" "$wrap" >> "$n.log" 2>&1; then
		verdict=killed
	elif ! PTEST_TIMEOUT=90 PMAP_TEST_EXEC=$swrap tests/soak.sh -b $bdir "${soak[@]}" \
	    >> "$n.log" 2>&1; then
		verdict=killed
	fi
	cp "$n.orig" "$file"
	case $verdict in
	killed) killed=$((killed + 1)); echo "mutants: killed   - $name" ;;
	broken) broken=$((broken + 1)); echo "mutants: BROKEN (does not build) - $name" ;;
	*) survivors+=("$name"); echo "mutants: SURVIVED - $name" ;;
	esac
done
make -j"$nproc" all > /dev/null 2>&1
echo "mutants: $killed of $((total - broken)) killed${broken:+ ($broken stale or not building)}"
for s in "${survivors[@]}"; do
	echo "mutants: survivor: $s"
done
exit 0
