#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# record.sh - re-record every trace in this folder from scratch.
#
#   cd traces && bash record.sh            # all traces
#   cd traces && bash record.sh gzip cc1   # only some
#
# Needs: valgrind, perl, gzip, sqlite3, gcc (Debian packages).
# Inputs are generated here, deterministically (fixed-seed LCG, no network).
# Each program runs under valgrind's lackey with a minimal fixed environment
# and from a scratch directory, so argv/env (and hence the record counts)
# do not depend on who runs it or where.  Lackey writes the trace to its
# log file (--log-file), not to stdout/stderr: that log is thinned by
# thin.pl and compressed with gzip -9n (no name/timestamp -> stable bytes).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# run NAME MAX SKIP PROGRAM ARGS... : record PROGRAM into $here/NAME.trace.gz
# (stdin of run is passed to PROGRAM, its stdout is discarded).
# The lackey log goes through a FIFO into thin.pl, so no multi-GB temp file
# is needed; once thin.pl has its MAX records the rest of the log is drained.
run() {
	local name=$1 max=$2 skip=$3 rpid rc=0
	shift 3
	echo "recording $name: $*" >&2
	mkfifo "$tmp/$name.log"
	{ perl "$here/thin.pl" "$max" "$skip"; cat >/dev/null; } <"$tmp/$name.log" |
		gzip -9n >"$tmp/$name.trace.gz" &
	rpid=$!
	env -i PATH=/usr/bin:/bin LC_ALL=C \
		valgrind --tool=lackey --trace-mem=yes --log-file="$tmp/$name.log" "$@" >/dev/null || rc=$?
	[ $rc -eq 0 ] || : >"$tmp/$name.log"    # unblock the reader if valgrind never opened it
	wait "$rpid"
	if [ $rc -ne 0 ]; then
		echo "record.sh: $name: valgrind exited with $rc" >&2
		exit 1
	fi
	mv "$tmp/$name.trace.gz" "$here/$name.trace.gz"
	rm -f "$tmp/$name.log"
}

sel=("$@")
want_one() {
	[ ${#sel[@]} -eq 0 ] && return 0
	local s
	for s in "${sel[@]}"; do [ "$s" = "$1" ] && return 0; done
	return 1
}

# --- (a) gzip: compress a 16 KiB generated log file, full run -------------
if want_one gzip; then
	perl -e '
	my $x = 12345; my @op = qw(pmap_enter pmap_remove pmap_protect pmap_extract pmap_kenter pmap_update);
	my ($out, $i) = ("", 0);
	while (length($out) < 16384) {
		$x = ($x * 1103515245 + 12345) % 2147483648;
		$out .= sprintf("%06d %-13s va=0x%08x pa=0x%08x prot=%s\n", $i++,
			$op[($x >> 16) % 6], 0x10000000 + (($x >> 8) & 0xfff) * 4096,
			0x200000 + $i * 4096, (qw(r-- rw- r-x rwx))[($x >> 20) & 3]);
	}
	print substr($out, 0, 16384);' >log.txt
	run gzip 0 0 /bin/gzip -1 -c log.txt
fi

# --- (b) sqlite3: in-memory database, a handful of statements -------------
# The untruncated run is ~2.9M records; its first ~728000 are the dynamic
# loader binding libsqlite3, libreadline, ... (BIND_NOW), then shell start-up.
# The first 760000 records are skipped and the next 350000 kept: end of
# start-up, opening :memory:, CREATE TABLE and the start of the INSERT.
if want_one sqlite3; then
	cat >q.sql <<'EOF'
CREATE TABLE m(id INTEGER PRIMARY KEY, va INTEGER, pa INTEGER, prot TEXT);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<300)
INSERT INTO m SELECT i, (i*7919)%4096*4096, i*4096, substr('r--rw-r-xrwx',(i%4)*3+1,3) FROM c;
CREATE INDEX m_prot ON m(prot, va);
SELECT prot, count(*), min(va), max(va) FROM m GROUP BY prot ORDER BY prot;
SELECT id, va FROM m WHERE prot='rw-' ORDER BY va DESC LIMIT 5;
EOF
	run sqlite3 350000 760000 /usr/bin/sqlite3 :memory: <q.sql
fi

# --- (c) cc1: gcc's compiler proper on a small C file, head of the run -----
# cc1 runs ~6M records of its own initialisation before it even reads the
# source, so only the first 400000 records are kept (loader + early init).
if want_one cc1; then
	cat >small.c <<'EOF'
/* small.c - a tiny page-table walker, compiled by cc1 for a memory trace */
typedef unsigned long u64;
typedef unsigned long size_t;

#define LEVELS 4
#define ENTRIES 512

struct table { u64 e[ENTRIES]; };

static struct table pool[64];
static int next_free;

static struct table *alloc_table(void)
{
	return next_free < 64 ? &pool[next_free++] : 0;
}

static unsigned idx(u64 va, int level)
{
	return (unsigned)(va >> (12 + 9 * level)) & (ENTRIES - 1);
}

int map(struct table *root, u64 va, u64 pa, unsigned prot)
{
	struct table *t = root;
	for (int l = LEVELS - 1; l > 0; l--) {
		u64 *p = &t->e[idx(va, l)];
		if (!(*p & 1)) {
			struct table *n = alloc_table();
			if (!n)
				return -1;
			*p = (u64)n | 1;
		}
		t = (struct table *)(*p & ~(u64)0xfff);
	}
	t->e[idx(va, 0)] = (pa & ~(u64)0xfff) | (prot & 0xffe) | 1;
	return 0;
}

long lookup(const struct table *root, u64 va)
{
	const struct table *t = root;
	for (int l = LEVELS - 1; l >= 0; l--) {
		u64 e = t->e[idx(va, l)];
		if (!(e & 1))
			return -1;
		if (l == 0)
			return (long)((e & ~(u64)0xfff) | (va & 0xfff));
		t = (const struct table *)(e & ~(u64)0xfff);
	}
	return -1;
}

size_t count_mapped(const struct table *t, int level)
{
	size_t n = 0;
	for (int i = 0; i < ENTRIES; i++) {
		if (!(t->e[i] & 1))
			continue;
		n += level ? count_mapped((const struct table *)(t->e[i] & ~(u64)0xfff), level - 1) : 1;
	}
	return n;
}
EOF
	# (the untruncated log of this run would be ~1 GB; it is never stored)
	run cc1 400000 0 "$(gcc -print-prog-name=cc1)" -quiet -O1 small.c -o /dev/null
fi

echo "done: $(cd "$here" && ls -l ./*.trace.gz | awk '{print $5, $9}' | tr '\n' ' ')" >&2
