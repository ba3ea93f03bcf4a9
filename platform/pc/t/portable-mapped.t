#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# portable-mapped.t - the sf_buf and quick-mapping suites again, with the
# library booted in mapped sf_buf mode (no direct map for sf_bufs), as the
# simulated machine runs them a second time.  PC_MAPPED_SUITES names them
# (comma-separated substrings of suite names; default sfbuf,quick).  See
# portable.t for the other variables.
#
# i386 has no direct map, so its sf_bufs are always mapped and portable.t
# ran these suites in mapped mode already: for PC_ARCH=i386 this run is a
# TAP skip that says so.
here=$(dirname "$0")
if [ "${PC_ARCH:-amd64}" = i386 ]; then
	echo "1..0 # SKIP i386 has no direct map: sf_bufs are always mapped, and portable.t ran these suites that way"
	exit 0
fi
export PC_APPEND="sfbuf=mapped suite=${PC_MAPPED_SUITES:-sfbuf,quick} ${PC_APPEND-}"
[ -n "${PC_TAP_LOG-}" ] && export PC_TAP_LOG="${PC_TAP_LOG%.tap}-mapped.tap"
exec "$here/portable.t"
