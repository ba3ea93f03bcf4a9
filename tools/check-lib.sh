#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# check-lib.sh - is this libpmap.a one a kernel can link?  Run by
# `make lib` on what it built:
#
#	tools/check-lib.sh ARCH path/to/libpmap.a
#
# 1. No FPU or SIMD code: a kernel does not save those registers on entry.
#    objdump -d of every member, failing on any use of an x87, MMX, SSE,
#    AVX or AVX-512 register (%st, %mm0-7, %xmm/%ymm/%zmm, %k0-7), any x87
#    instruction (f...) and the state instructions that name no register
#    (emms, ldmxcsr/stmxcsr, fxsave/fxrstor, xsave/xrstor, vzeroupper).
# 2. Nothing from outside but the hooks: every symbol the members leave
#    undefined, less those another member defines, must be a host hook
#    (pmap_host_*), memset or memcpy - on i386 also libatomic's
#    __atomic_*_8, which GCC calls for 64-bit atomics without FPU or SSE.
# 3. No name a kernel may already use: every global symbol the library
#    defines starts with pmap_ or sf_buf_ (a helper shared between the
#    library's files is pmap_-prefixed too, or static).
#
# Tools: $NM (default nm) and $OBJDUMP (default objdump), as make lib
# passes them (CROSS_COMPILE).  Prints one summary line, or every problem
# and exits 1.

arch=$1 lib=$2
NM=${NM:-nm}
OBJDUMP=${OBJDUMP:-objdump}
if [ -z "$arch" ] || [ ! -f "$lib" ]; then
	echo "usage: $0 amd64|i386 path/to/libpmap.a" >&2
	exit 2
fi

fail=0

# ---- 1. FPU and SIMD ----
fpu=$("$OBJDUMP" -d --no-show-raw-insn "$lib" | awk '
	/^[^ \t].*:[ \t]+file format/ { obj = $1; sub(/:$/, "", obj); next }
	/^[0-9a-f]+ <.*>:$/ { fn = $2; next }
	/^ *[0-9a-f]+:\t/ {
		insn = $0; sub(/^ *[0-9a-f]+:\t/, "", insn)
		bad = insn ~ /%([xyz]mm[0-9]+|mm[0-7]|st\>|st\(|k[0-7]\>)/
		# The mnemonic: the first word that is not a prefix.
		n = split(insn, w, /[ \t]+/)
		for (i = 1; i < n && w[i] ~ /^(lock|rep|repz|repnz|repe|repne|data16|data32|addr16|addr32|[c-gs]s|notrack|bnd|xacquire|xrelease|rex.*)$/; i++)
			;
		m = w[i]
		if (m ~ /^f/ && m != "fs")
			bad = 1		# x87 (and femms, fxsave, fxrstor)
		if (m ~ /^(emms|v?ldmxcsr|v?stmxcsr|xsave.*|xrstor.*|vzeroupper|vzeroall)$/)
			bad = 1
		if (bad)
			printf "  %s %s %s\n", obj, fn, insn
	}')
if [ -n "$fpu" ]; then
	echo "check-lib: $lib uses FPU or SIMD state (a kernel's interrupts do not save it):"
	echo "$fpu" | head -40
	[ "$(echo "$fpu" | wc -l)" -gt 40 ] && echo "  ... ($(echo "$fpu" | wc -l) instructions)"
	fail=1
fi

# ---- 2. undefined symbols ----
defined=$("$NM" -g --defined-only "$lib" | awk 'NF >= 3 { print $NF }' | sort -u)
undefined=$("$NM" -g -u "$lib" | awk '$1 == "U" { print $2 }' | sort -u)
allowed='^(pmap_host_[A-Za-z0-9_]+|memset|memcpy)$'
[ "$arch" = i386 ] && allowed='^(pmap_host_[A-Za-z0-9_]+|memset|memcpy|__atomic_[a-z_]+_8)$'
external=$(echo "$undefined" | grep -vxF "$defined" | grep -v '^$')
bad_ext=$(echo "$external" | grep -vE "$allowed" | grep -v '^$')
if [ -n "$bad_ext" ]; then
	echo "check-lib: $lib needs symbols that are not host hooks, memset or memcpy:"
	echo "$bad_ext" | sed 's/^/  /'
	fail=1
fi

# ---- 3. global names ----
offenders=$(echo "$defined" | grep -vE '^(pmap_|sf_buf_)' | grep -v '^$')
if [ -n "$offenders" ]; then
	echo "check-lib: $lib defines global symbols outside pmap_* and sf_buf_* (a kernel's own"
	echo "  names may collide; prefix them with pmap_, or make them static):"
	echo "$offenders" | sed 's/^/  /'
	fail=1
fi

[ $fail = 0 ] || exit 1
echo "check-lib: $lib ($arch): no FPU/SIMD instructions," \
	"$(echo "$external" | grep -c .) external symbols (hooks, memset/memcpy$([ "$arch" = i386 ] &&
	echo ', __atomic_*_8')), $(echo "$defined" | grep -c .) global symbols"
