#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# portable-oldcpu.t - some suites again on an older CPU (QEMU's CPU model
# with features removed), as the simulated machine runs them with
# --old-cpu: on amd64 without NX, global pages, PCIDs, INVPCID, 1 GiB pages
# and PAT; on i386 without 4 MiB pages (PSE), global pages, SMEP and SMAP.
# PC_OLDCPU_SUITES names them (comma-separated substrings of suite names);
# see portable.t for the other variables.
here=$(dirname "$0")
export PC_APPEND="suite=${PC_OLDCPU_SUITES:-enter,kernel,protect,modref,smp_stress} ${PC_APPEND-}"
case ${PC_ARCH:-amd64} in
i386) old=-pse,-pge,-smep,-smap ;;
*) old=-nx,-pge,-pcid,-invpcid,-pdpe1gb,-pat ;;
esac
export PC_CPU_FLAGS="${PC_CPU_FLAGS:+$PC_CPU_FLAGS,}$old"
[ -n "${PC_TAP_LOG-}" ] && export PC_TAP_LOG="${PC_TAP_LOG%.tap}-oldcpu.tap"
exec "$here/portable.t"
