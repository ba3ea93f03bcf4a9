#!/bin/bash
# portable-oldcpu.t - some suites again on a CPU without NX, global pages,
# INVPCID, 1 GiB pages and PAT (QEMU's CPU model with those features
# removed), as the simulated machine runs them with --old-cpu.
# PC_OLDCPU_SUITES names them (comma-separated substrings of suite names);
# see portable.t for the other variables.
here=$(dirname "$0")
export PC_APPEND="suite=${PC_OLDCPU_SUITES:-enter,kernel,protect,modref,smp_stress} ${PC_APPEND-}"
export PC_CPU_FLAGS="${PC_CPU_FLAGS:+$PC_CPU_FLAGS,}-nx,-pge,-invpcid,-pdpe1gb,-pat"
[ -n "${PC_TAP_LOG-}" ] && export PC_TAP_LOG="${PC_TAP_LOG%.tap}-oldcpu.tap"
exec "$here/portable.t"
