#!/bin/bash
# portable-mapped.t - the sf_buf and quick-mapping suites again, with the
# library booted in mapped sf_buf mode (no direct map for sf_bufs), as the
# simulated machine runs them a second time.  PC_MAPPED_SUITES names them
# (comma-separated substrings of suite names; default sfbuf,quick).  See
# portable.t for the other variables.
here=$(dirname "$0")
export PC_APPEND="sfbuf=mapped suite=${PC_MAPPED_SUITES:-sfbuf,quick} ${PC_APPEND-}"
[ -n "${PC_TAP_LOG-}" ] && export PC_TAP_LOG="${PC_TAP_LOG%.tap}-mapped.tap"
exec "$here/portable.t"
