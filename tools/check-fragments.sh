#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# check-fragments.sh - the build fragments for kernels that build libpmap
# themselves, used as such a kernel would, from outside the tree:
#
#  - libpmap.mk, included by path from another makefile, names this
#    tree's sources and flags (LIBPMAP_DIR found by itself);
#  - libpmap.cmake gives the same sources and the same flags;
#  - a CMake project built with it yields a libpmap.a that passes
#    tools/check-lib.sh (skipped, saying so, where cmake is not installed).
#
# Usage: tools/check-fragments.sh ARCH...   (make check-lib runs it; CC honoured)

repo=$(cd "$(dirname "$0")/.." && pwd -P)
: "${CC:=gcc}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

for arch in "$@"; do
	# libpmap.mk from another directory's makefile.
	printf 'include %s/libpmap.mk\nall:\n\t@echo $(LIBPMAP_SRCS)\n\t@echo $(LIBPMAP_CFLAGS)\n' \
		"$repo" > "$tmp/Makefile"
	mk=$(cd "$tmp" && ${MAKE:-make} -s --no-print-directory LIBPMAP_ARCH="$arch") || {
		echo "check-fragments: libpmap.mk does not evaluate for $arch"; exit 1; }
	mk_srcs=$(echo "$mk" | sed -n 1p)
	mk_flags=$(echo "$mk" | sed -n 2p)
	for f in $mk_srcs; do
		[ -f "$f" ] || { echo "check-fragments: libpmap.mk names $f, which is not there"; fail=1; }
	done
	case " $mk_srcs " in
	*" $repo/arch/$arch/pmap_md.c "*) ;;
	*) echo "check-fragments: libpmap.mk ($arch) lacks $repo/arch/$arch/pmap_md.c: $mk_srcs"; fail=1 ;;
	esac

	if ! command -v cmake >/dev/null; then
		echo "check-fragments: SKIPPED the CMake build ($arch): cmake is not installed"
		continue
	fi
	mkdir -p "$tmp/$arch"
	cat > "$tmp/$arch/CMakeLists.txt" <<EOF2
cmake_minimum_required(VERSION 3.13)
project(libpmap_cmake_check C)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(LIBPMAP_ARCH $arch)
include($repo/libpmap.cmake)
add_library(pmap STATIC \${LIBPMAP_SOURCES})
target_include_directories(pmap PUBLIC \${LIBPMAP_INCLUDES} PRIVATE \${LIBPMAP_PRIVATE_INCLUDES})
execute_process(COMMAND \${CMAKE_C_COMPILER} -print-file-name=include
	OUTPUT_VARIABLE cc_include OUTPUT_STRIP_TRAILING_WHITESPACE)
target_compile_options(pmap PRIVATE \${LIBPMAP_COMPILE_OPTIONS} -nostdinc -isystem \${cc_include}
	-O2 -Wall -Wextra -Werror -Wno-unused-parameter)
string(REPLACE ";" " " srcs "\${LIBPMAP_SOURCES}")
string(REPLACE ";" " " opts "\${LIBPMAP_COMPILE_OPTIONS}")
file(WRITE \${CMAKE_BINARY_DIR}/vars "\${srcs}\n\${opts}\n")
EOF2
	if ! (cd "$tmp/$arch" && CC="$CC" cmake -S . -B build >cmake.log 2>&1 &&
		cmake --build build >>cmake.log 2>&1); then
		tail -20 "$tmp/$arch/cmake.log"
		echo "check-fragments: the CMake build with libpmap.cmake ($arch) failed"
		exit 1
	fi
	cm_srcs=$(sed -n 1p "$tmp/$arch/build/vars")
	cm_flags=$(sed -n 2p "$tmp/$arch/build/vars")
	if [ "$cm_srcs" != "$mk_srcs" ]; then
		echo "check-fragments: sources differ ($arch):"
		echo "  libpmap.mk:    $mk_srcs"
		echo "  libpmap.cmake: $cm_srcs"
		fail=1
	fi
	if [ "$cm_flags" != "$mk_flags" ]; then
		echo "check-fragments: flags differ ($arch):"
		echo "  libpmap.mk:    $mk_flags"
		echo "  libpmap.cmake: $cm_flags"
		fail=1
	fi
	# (make lib has printed the pending renames already: the last line only.)
	if out=$("$repo/tools/check-lib.sh" "$arch" "$tmp/$arch/build/libpmap.a"); then
		echo "$out" | tail -1 | sed "s|$tmp/$arch/build/|CMake's |"
	else
		echo "$out"
		fail=1
	fi
	[ $fail = 0 ] && echo "check-fragments: libpmap.mk and libpmap.cmake agree ($arch," \
		"$(echo $mk_srcs | wc -w) sources)"
done
exit $fail
