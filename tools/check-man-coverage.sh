#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# check-man-coverage.sh - every function the public headers declare has an
# entry in the manual pages, and the manual names no function that is gone.
#
# usage: tools/check-man-coverage.sh [-v] [HEADER...]
#
# Run from the top of the tree (make check-man does).  The headers are the
# library's public interface and the hooks a host implements:
#
#   include/pmap/pmap.h          the API (pmap(9), FreeBSD's additions, extras)
#   include/pmap/pmap_host.h     the hooks every host implements
#   include/pmap/pmap_config.h   compile-time options (declares no function)
#   arch/*/include/pmap/pmap_md.h    each machine's types and address map
#   arch/*/include/pmap/*_host.h     each machine's instruction hooks
#
# Not covered: arch/*/include/pmap/*_pte.h, the hardware's bit definitions
# with small helpers for hosts and tools (names from the SDM, not the
# library's interface), and platform/sim/sim.h, the simulated machine's own
# API.  MANDIR (default man) holds the pages, *.[0-9].
#
# A function has an entry when one page lists it in its SYNOPSIS (.Fn or
# .Fo; or names it with .Nm in NAME) and the same page mentions it with .Fn
# outside the SYNOPSIS, i.e. describes it.  Function-like macros (#define
# NAME(...)) count as functions.  Also checked:
#   - every function a SYNOPSIS lists is declared by a public header;
#   - every .Xr to a pmap*, sf_buf* or libpmap page names a page in MANDIR.
# A public header's comment that refers to a man/ page that does not exist
# is reported as a warning.
#
# Exit status: 0 all covered; 1 something is missing (each listed on
# stderr, with the header and line that declares it); 2 usage error.
# -v also prints every function with the page that documents it.

set -u
prog=check-man-coverage
verbose=0

while [ $# -gt 0 ]; do
	case $1 in
	-v) verbose=1 ;;
	-h|--help) sed -n '3,/^$/s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	--) shift; break ;;
	-*) echo "$prog: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done

if [ $# -eq 0 ]; then
	set -- include/pmap/pmap.h include/pmap/pmap_host.h \
	    include/pmap/pmap_config.h arch/*/include/pmap/pmap_md.h \
	    arch/*/include/pmap/*_host.h
fi
mandir=${MANDIR:-man}

for h in "$@"; do
	if [ ! -r "$h" ]; then
		echo "$prog: cannot read header $h" >&2
		exit 2
	fi
done
pages=$(ls "$mandir"/*.[0-9] 2>/dev/null)
if [ -z "$pages" ]; then
	echo "$prog: no manual pages in $mandir/" >&2
	exit 2
fi

tmp=${TMPDIR:-/tmp}/check-man.$$
mkdir "$tmp" || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' INT TERM

# ---- 1. what the headers declare: "name file:line" ----
#
# A small C scanner: comments and string literals are skipped, preprocessor
# lines only yield function-like macros, and at brace depth 0 each
# statement (up to ';') or definition head (up to '{') that has a
# parenthesis is a function whose name is the identifier before its first
# '('.  Typedefs (function pointer types), _Static_assert, function-pointer
# declarators "(*" and __attribute__((...)) are not functions.  extern "C"
# braces are transparent.
awk '
function flush(kind,    s, p, pre, name, i, d, c) {
	s = stmt
	stmt = ""
	# drop __attribute__((...)), parentheses balanced
	while ((p = index(s, "__attribute__")) > 0) {
		i = p + length("__attribute__")
		d = 0
		for (; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c == "(") d++
			else if (c == ")") { d--; if (d == 0) break }
		}
		s = substr(s, 1, p - 1) " " substr(s, i + 1)
	}
	if (s ~ /^[ \t]*typedef[ \t]/ || s ~ /^[ \t]*_Static_assert/)
		return
	p = index(s, "(")
	if (p == 0)
		return
	if (substr(s, p + 1) ~ /^[ \t]*\*/)
		return		# a pointer to function, not a function
	pre = substr(s, 1, p - 1)
	if (!match(pre, /[A-Za-z_][A-Za-z0-9_]*[ \t]*$/))
		return
	name = substr(pre, RSTART, RLENGTH)
	sub(/[ \t]+$/, "", name)
	if (name ~ /^(if|while|for|switch|return|sizeof|_Alignof|__typeof__|typeof|defined)$/)
		return
	print name, FILENAME ":" stmtline
}
FNR == 1 { incomment = 0; inpp = 0; depth = 0; stmt = ""; instr = 0 }
{
	line = $0
	if (inpp) {			# continuation of a preprocessor line
		if (line !~ /\\[ \t]*$/) inpp = 0
		next
	}
	# Strip comments (they may span lines).
	out = ""
	while (length(line) > 0) {
		if (incomment) {
			i = index(line, "*/")
			if (i == 0) { line = ""; break }
			line = substr(line, i + 2)
			incomment = 0
			continue
		}
		i = index(line, "/*")
		j = index(line, "//")
		if (j > 0 && (i == 0 || j < i)) { out = out substr(line, 1, j - 1); break }
		if (i == 0) { out = out line; break }
		out = out substr(line, 1, i - 1) " "
		line = substr(line, i + 2)
		incomment = 1
	}
	line = out
	if (line ~ /^[ \t]*#/) {
		if (match(line, /^[ \t]*#[ \t]*define[ \t]+[A-Za-z_][A-Za-z0-9_]*\(/)) {
			name = substr(line, RSTART, RLENGTH - 1)
			sub(/^[ \t]*#[ \t]*define[ \t]+/, "", name)
			print name, FILENAME ":" FNR
		}
		if (line ~ /\\[ \t]*$/) inpp = 1
		next
	}
	n = length(line)
	for (k = 1; k <= n; k++) {
		c = substr(line, k, 1)
		if (instr) {
			if (c == "\\") k++
			else if (c == "\"") instr = 0
			if (depth == 0) stmt = stmt c
			continue
		}
		if (c == "\"") {
			instr = 1
			if (depth == 0) stmt = stmt c
			continue
		}
		if (c == "{") {
			if (depth == 0) {
				if (stmt ~ /extern[ \t]*"C"[ \t]*$/) { stmt = ""; continue }
				flush()
			}
			depth++
		} else if (c == "}") {
			if (depth == 0) { stmt = ""; continue }	# end of extern "C"
			depth--
			if (depth == 0) stmt = ""
		} else if (c == ";") {
			if (depth == 0) flush()
		} else if (depth == 0) {
			if (stmt ~ /^[ \t]*$/ && c !~ /[ \t]/) stmtline = FNR
			stmt = stmt c
		}
	}
	if (depth == 0 && stmt != "") stmt = stmt " "
}
' "$@" | sort -u -k1,1 > "$tmp/declared"

# ---- 2. what the pages document: "page kind name" ----
#
# kind: syn (.Fn/.Fo in SYNOPSIS), name (.Nm in NAME), body (.Fn/.Fo
# anywhere else), xr (a .Xr target, as NAME.SECTION).
for p in $pages; do
	awk -v page="$p" '
	/^\.Sh[ \t]/ { sec = $0; sub(/^\.Sh[ \t]+/, "", sec); next }
	/^\./ {
		n = split(substr($0, 2), w, /[ \t]+/)
		for (i = 1; i <= n; i++) {
			if ((w[i] == "Fn" || w[i] == "Fo") && i < n) {
				name = w[i + 1]
				gsub(/"/, "", name)
				sub(/\(.*$/, "", name)
				print page, (sec == "SYNOPSIS" ? "syn" : "body"), name
			} else if (w[i] == "Nm" && sec == "NAME" && i < n) {
				name = w[i + 1]
				if (name != ",") print page, "name", name
			} else if (w[i] == "Xr" && i + 2 <= n) {
				print page, "xr", w[i + 1] "." w[i + 2]
			}
		}
	}
	' "$p"
done > "$tmp/documented"

# ---- 3. compare ----
awk -v verbose="$verbose" -v mandir="$mandir" '
FILENAME == ARGV[1] { decl[$1] = $2; order[++nd] = $1; next }
$2 == "syn" || $2 == "name" {
	if (!(($1 SUBSEP $3) in syn)) listed[$3] = listed[$3] " " $1
	syn[$1 SUBSEP $3] = 1
	if ($2 == "syn") synlist[++ns] = $1 SUBSEP $3
	next
}
$2 == "body" { body[$1 SUBSEP $3] = 1; next }
$2 == "xr" { xr[++nx] = $1 SUBSEP $3; next }
END {
	bad = 0
	for (i = 1; i <= nd; i++) {
		f = order[i]
		if (!(f in listed)) {
			missing[++nm] = sprintf("  %-34s %s: in no SYNOPSIS or NAME", f, decl[f])
			continue
		}
		split(substr(listed[f], 2), pg, " ")
		ok = ""
		for (j in pg) if ((pg[j] SUBSEP f) in body) ok = pg[j]
		if (ok == "")
			missing[++nm] = sprintf("  %-34s %s: listed in %s but not described there (no .Fn %s outside the SYNOPSIS)", f, decl[f], substr(listed[f], 2), f)
		else if (verbose)
			printf "%-34s %s\n", f, ok
	}
	if (nm > 0) {
		printf "check-man: %d function%s declared in the public headers %s no manual entry:\n", nm, nm == 1 ? "" : "s", nm == 1 ? "has" : "have" > "/dev/stderr"
		for (i = 1; i <= nm; i++) print missing[i] > "/dev/stderr"
		bad = 1
	}
	for (i = 1; i <= ns; i++) {
		split(synlist[i], a, SUBSEP)
		if (!(a[2] in decl)) {
			printf "check-man: %s lists %s in its SYNOPSIS, but no public header declares it\n", a[1], a[2] > "/dev/stderr"
			bad = 1
		}
	}
	for (i = 1; i <= nx; i++) {
		split(xr[i], a, SUBSEP)
		if (a[2] !~ /^(pmap|sf_buf|libpmap)/) continue
		if (system("test -f \"" mandir "/" a[2] "\"") != 0) {
			sub(/\./, " ", a[2])
			printf "check-man: %s refers to %s (.Xr), which is not a page in %s/\n", a[1], a[2], mandir > "/dev/stderr"
			bad = 1
		}
	}
	exit bad
}
' "$tmp/declared" "$tmp/documented"
status=$?

# ---- 4. man pages the headers point to (a warning) ----
for h in "$@"; do
	sed -n 's|.*\(man/[A-Za-z_0-9]*\.[0-9]\).*|\1 |p' "$h" | sort -u |
	while read -r ref; do
		[ -f "$ref" ] || echo "$prog: warning: $h refers to $ref, which does not exist" >&2
	done
done

ndecl=$(wc -l < "$tmp/declared")
if [ $status -eq 0 ]; then
	echo "manual coverage: $((ndecl)) functions of $# public headers, each with an entry in $mandir/"
fi
exit $status
