#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# check-install.sh - what a kernel project sees after
# `make lib && make install DESTDIR=...`, for one port:
#
#  1. make install into a temporary DESTDIR puts there the public headers,
#     libpmap.a, libpmap.pc and every manual page of man/ (*.3, *.9);
#  2. pkg-config, pointed into the DESTDIR (PKG_CONFIG_LIBDIR and
#     PKG_CONFIG_SYSROOT_DIR), gives Cflags with which a freestanding
#     kernel-style file including <pmap/pmap.h>, <pmap/pmap_host.h> and the
#     machine's hook header compiles - with no libc headers, the library's
#     kernel_cflags, and every header it reads from the installed copy,
#     none from this tree;
#  3. --libs names the installed libpmap.a's directory and -lpmap, and
#     `ld -r` of that file with --libs takes every member from the installed
#     archive, leaving undefined only the hooks (and memset/memcpy; i386
#     with GCC: __atomic_*_8);
#  4. make uninstall leaves no file in the DESTDIR.
#
# Usage: tools/check-install.sh ARCH   (make check-install runs it for each
# port; MAKE, CC, AR, LD, NM and PKG_CONFIG are honoured)

arch=$1
[ -n "$arch" ] || { echo "usage: $0 amd64|i386" >&2; exit 2; }
cd "$(dirname "$0")/.." || exit 2
repo=$(pwd -P)
MAKE=${MAKE:-make}
CC=${CC:-gcc}
LD=${LD:-ld}
NM=${NM:-nm}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
prefix=/usr/local

die() { echo "check-install ($arch): $*"; exit 1; }

command -v "$PKG_CONFIG" >/dev/null ||
	die "needs $PKG_CONFIG (Debian: apt-get install pkgconf)"

dest=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$dest" "$work"' EXIT
dest=$(cd "$dest" && pwd -P)

# ---- 1. install ----
# (The library is built afresh in $work: nothing shared with make lib, which
# make check may be running at the same time.)
$MAKE --no-print-directory ARCH="$arch" LIB_DIR="$work/lib" install DESTDIR="$dest" PREFIX="$prefix" \
	> "$work/install.log" 2>&1 || { cat "$work/install.log"; die "make install failed"; }
inc=$dest$prefix/include/pmap
lib=$dest$prefix/lib/libpmap.a
for f in "$inc/pmap.h" "$inc/pmap_host.h" "$inc/pmap_config.h" "$inc/pmap_version.h" \
		"$inc/pmap_md.h" "$inc/${arch}_host.h" "$inc/${arch}_pte.h" "$lib" \
		"$dest$prefix/lib/pkgconfig/libpmap.pc"; do
	[ -f "$f" ] || die "make install did not install ${f#"$dest"}"
done
nman3=0 nman9=0
for m in man/*.3 man/*.9; do
	[ -f "$m" ] || continue
	s=${m##*.}
	[ -f "$dest$prefix/share/man/man$s/${m##*/}" ] ||
		die "make install did not install $m in share/man/man$s"
	eval "nman$s=\$((nman$s + 1))"
done
[ -f "$inc/i386_host.h" ] && [ "$arch" = amd64 ] && die "the i386 headers were installed for amd64"
nhdr=$(ls "$inc" | wc -l)

# ---- 2. pkg-config --cflags: a kernel file against the installed copy ----
PKG_CONFIG_LIBDIR=$dest$prefix/lib/pkgconfig
PKG_CONFIG_PATH=$PKG_CONFIG_LIBDIR
PKG_CONFIG_SYSROOT_DIR=$dest
PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1
PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
export PKG_CONFIG_LIBDIR PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR \
	PKG_CONFIG_ALLOW_SYSTEM_CFLAGS PKG_CONFIG_ALLOW_SYSTEM_LIBS
cflags=$("$PKG_CONFIG" --cflags libpmap) || die "pkg-config --cflags libpmap failed"
libs=$("$PKG_CONFIG" --libs libpmap) || die "pkg-config --libs libpmap failed"
kcflags=$("$PKG_CONFIG" --variable=kernel_cflags libpmap)
pcarch=$("$PKG_CONFIG" --variable=arch libpmap)
version=$("$PKG_CONFIG" --modversion libpmap)
[ "$pcarch" = "$arch" ] || die "libpmap.pc says arch=$pcarch"
[ -n "$kcflags" ] || die "libpmap.pc has no kernel_cflags"
hv=$(sed -n 's/^#define PMAP_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' \
	include/pmap/pmap_version.h | paste -sd.)
[ "$version" = "$hv" ] || die "libpmap.pc's version $version is not pmap_version.h's $hv"

cat > "$work/kern_vm.c" <<EOF
// SPDX-License-Identifier: BSD-2-Clause
/* A kernel's VM code: the hook headers and the calls a VM system makes. */
#include <pmap/pmap.h>
#include <pmap/pmap_host.h>
#include <pmap/${arch}_host.h>

#if !defined(PMAP_VERSION_NUMBER) || PMAP_VERSION_NUMBER < 900
#error "<pmap/pmap.h> gives no version"
#endif

struct vm_page {
	struct pmap_page mdpage;
	paddr_t phys_addr;
};
struct lwp { pmap_t pmap; };

const char kern_pmap_version[] = PMAP_VERSION_STRING;

void kern_vm_boot(const struct pmap_bootinfo *bi);
int kern_vm_fault(pmap_t pm, vaddr_t va, struct vm_page *pg, vm_prot_t prot);
void kern_vm_io(struct vm_page *pg, struct vm_page **pages, vaddr_t kva);
void kern_vm_fork_exit(pmap_t parent, struct lwp *child, vaddr_t end);

void
kern_vm_boot(const struct pmap_bootinfo *bi)
{
	pmap_bootstrap(bi);
	pmap_cpu_init();
	pmap_init();
}

int
kern_vm_fault(pmap_t pm, vaddr_t va, struct vm_page *pg, vm_prot_t prot)
{
	int error = pmap_enter(pm, va, pg->phys_addr, prot, prot | PMAP_CANFAIL);

	pmap_update(pm);
	return error;
}

void
kern_vm_io(struct vm_page *pg, struct vm_page **pages, vaddr_t kva)
{
	struct sf_buf *sf = sf_buf_alloc(pg, SFB_NOWAIT);
	vaddr_t q;

	if (sf != NULL)
		sf_buf_free(sf);
	q = pmap_quick_enter_page(pg);
	pmap_quick_remove_page(q);
	pmap_qenter(kva, pages, 2);
	pmap_qremove(kva, 2);
	(void)pmap_kenter_temporary(pg->phys_addr, 0);
	pmap_page_protect(pg, VM_PROT_READ);
	(void)pmap_clear_modify(pg);
	pmap_tlb_intr();
}

void
kern_vm_fork_exit(pmap_t parent, struct lwp *child, vaddr_t end)
{
	child->pmap = pmap_create();
	pmap_copy(child->pmap, parent, 0, end, 0);
	pmap_activate(child);
	pmap_remove(child->pmap, 0, end);
	pmap_update(child->pmap);
	pmap_deactivate(child);
	pmap_destroy(child->pmap);
}
EOF
ccinc=$($CC -print-file-name=include)
# shellcheck disable=SC2086
(cd "$work" && $CC $kcflags -nostdinc -isystem "$ccinc" -O2 -Wall -Wextra -Werror \
	$cflags -MD -MF kern_vm.d -c kern_vm.c -o kern_vm.o) ||
	die "a kernel file including <pmap/pmap.h> does not compile with" \
		"\$(pkg-config --cflags libpmap) = $cflags"
from_tree=$(tr ' \\' '\n\n' < "$work/kern_vm.d" | grep "^$repo/")
[ -z "$from_tree" ] || die "the kernel file read headers from the source tree: $from_tree"
from_dest=$(tr ' \\' '\n\n' < "$work/kern_vm.d" | grep -c "^$dest/")
[ "$from_dest" -ge 5 ] || die "the kernel file read only $from_dest headers from the install"

# ---- 3. pkg-config --libs: the installed library, linked ----
libdir=$(cd "$(dirname "$lib")" && pwd -P)
found=
for w in $libs; do
	case "$w" in
	-L*) d=${w#-L}; [ -d "$d" ] && [ "$(cd "$d" && pwd -P)" = "$libdir" ] && found=1 ;;
	esac
done
[ -n "$found" ] || die "pkg-config --libs ($libs) does not name ${libdir#"$dest"}"
case " $libs " in *" -lpmap "*) ;; *) die "pkg-config --libs ($libs) has no -lpmap" ;; esac

ldemu=
[ "$arch" = i386 ] && ldemu="-m elf_i386"
# shellcheck disable=SC2086
(cd "$work" && $LD $ldemu -r -Map=ld.map -o kernel.o kern_vm.o $libs > ld.log 2>&1) ||
	{ cat "$work/ld.log"; die "ld -r kern_vm.o $libs failed"; }
# The map's "Archive member included" section: one line per member taken.
members=$(${AR:-ar} t "$lib" | wc -l)
used=$(grep -c "^$libdir/libpmap\.a(" "$work/ld.map")
[ "$used" -eq "$members" ] || { sed -n '1,/^$/p' "$work/ld.map";
	die "ld -r took $used of the installed libpmap.a's $members members"; }
allowed='^(pmap_host_[A-Za-z0-9_]+|memset|memcpy)$'
[ "$arch" = i386 ] && allowed='^(pmap_host_[A-Za-z0-9_]+|memset|memcpy|__atomic_[a-z_]+_8)$'
unresolved=$("$NM" -u "$work/kernel.o" | awk '{ print $NF }' | grep -vE "$allowed")
[ -z "$unresolved" ] || die "after ld -r, undefined symbols that are not hooks:" $unresolved
"$NM" "$work/kernel.o" | grep -q ' T pmap_enter$' || die "ld -r did not take pmap_enter from the library"
hooks=$("$NM" -u "$work/kernel.o" | grep -c ' pmap_host_')

# ---- 4. uninstall ----
$MAKE --no-print-directory ARCH="$arch" uninstall DESTDIR="$dest" PREFIX="$prefix" \
	> "$work/uninstall.log" 2>&1 || { cat "$work/uninstall.log"; die "make uninstall failed"; }
left=$(cd "$dest" && find . ! -type d)
[ -z "$left" ] || die "make uninstall left:" $left
[ ! -d "$inc" ] || die "make uninstall left the directory ${inc#"$dest"}"

echo "check-install ($arch): make install put $nhdr headers, libpmap.a," \
	"libpmap.pc (version $version) and the manual pages ($nman3 in man3, $nman9 in man9) in a DESTDIR; a kernel file compiled" \
	"with pkg-config --cflags against the installed headers only; ld -r with --libs took" \
	"all $members members of the installed libpmap.a, $hooks hooks left undefined;" \
	"make uninstall left nothing"
