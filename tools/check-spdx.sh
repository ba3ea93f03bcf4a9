#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# check-spdx.sh - every source file of the tree says its licence: an
# `SPDX-License-Identifier: BSD-2-Clause` line as its first line, or its
# second after a `#!` line, in the file's own comment syntax:
#
#	// SPDX-License-Identifier: BSD-2-Clause        .c, .h
#	/* SPDX-License-Identifier: BSD-2-Clause */     .S, .ld
#	.\" SPDX-License-Identifier: BSD-2-Clause        manual pages (mdoc)
#	# SPDX-License-Identifier: BSD-2-Clause         shell, perl, python,
#	                                                Makefile, *.mk, *.t,
#	                                                *.txt, *.cmake, *.pc.in
#
# "Source file" means every file of the tree (git's tracked files plus new,
# not ignored ones; outside a git checkout, every file) except the ones
# exempt() below matches, which are documentation and data:
#
#	build/*           generated (the build directory)
#	*.md              documentation (README, traces/README, ...)
#	LICENSE NEWS      the licence text itself, the release notes
#	.gitignore        configuration of git, not of the project
#	traces/*.gz       recorded data (valgrind lackey traces)
#
# A new kind of file is a source file until exempt() names it.
# Prints every file without the line and exits 1, or one summary line.
# Usage: tools/check-spdx.sh   (from anywhere; `make check-spdx`)

cd "$(dirname "$0")/.." || exit 2

exempt() {
	case "$1" in
	build/*|*.md|LICENSE|NEWS|.gitignore|traces/*.gz) return 0 ;;
	esac
	return 1
}

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	list() { git ls-files --cached --others --exclude-standard; }
else
	list() { find . -path ./build -prune -o -path ./.git -prune -o -type f -print |
		sed 's|^\./||'; }
fi

tag='SPDX-License-Identifier: BSD-2-Clause'
bad=$(list | sort -u | while IFS= read -r f; do
	[ -f "$f" ] || continue		# deleted, not yet committed
	exempt "$f" && continue
	l1=$(sed -n 1p "$f")
	case "$l1" in
	*"$tag"*) continue ;;
	'#!'*) sed -n 2p "$f" | grep -qF "$tag" && continue ;;
	esac
	echo "$f"
done)

if [ -n "$bad" ]; then
	echo "check-spdx: no '$tag' line first (second after #!) in:"
	echo "$bad" | sed 's/^/  /'
	echo "check-spdx: $(echo "$bad" | wc -l) files; add the line (see tools/check-spdx.sh" \
		"for each file type's comment) or, for documentation and data, exempt the pattern there"
	exit 1
fi
echo "check-spdx: every source file has '$tag' ($(list | sort -u | while IFS= read -r f; do
	[ -f "$f" ] && ! exempt "$f" && echo; done | wc -l) files)"
