#!/usr/bin/perl
# SPDX-License-Identifier: BSD-2-Clause
# stats.pl - summarise a (thinned) lackey trace read on stdin:
# record counts by kind, distinct 4 KiB pages touched (any kind, counting
# both pages when an access straddles a boundary), min/max address, and
# number of lines that do not match the record format, and the address
# regions (touched pages grouped where the gap between them is < 1 MiB).
# usage: gzip -dc x.trace.gz | perl stats.pl
use strict;
use warnings;
no warnings "portable";   # 64-bit hex addresses are fine on this perl
my (%cnt, %pages, $min, $max);
my $bad = 0;
while (<STDIN>) {
    unless (/^(?:I  | ([LSM]) )([0-9a-f]+),([0-9]+)$/) { $bad++; next; }
    my $k = defined $1 ? $1 : 'I';
    my $a = hex $2;          # perl has 64-bit integers here
    my $end = $a + ($3 ? $3 - 1 : 0);
    $cnt{$k}++;
    $pages{$_} = 1 for ($a >> 12) .. ($end >> 12);
    $min = $a if !defined $min || $a < $min;
    $max = $end if !defined $max || $end > $max;
}
my $tot = 0; $tot += $_ for values %cnt;
printf "records %d (I %d, L %d, S %d, M %d)\n", $tot, map { $cnt{$_} // 0 } qw(I L S M);
printf "footprint %d pages\n", scalar keys %pages;
printf "addresses 0x%x .. 0x%x\n", $min // 0, $max // 0;
printf "bad lines %d\n", $bad;
# address regions: runs of touched pages with gaps < 1 MiB between them
my @p = sort { $a <=> $b } keys %pages;
my @r;
for my $pg (@p) {
    if (@r && $pg - $r[-1][1] < 256) { $r[-1][1] = $pg; $r[-1][2]++; }
    else { push @r, [$pg, $pg, 1]; }
}
printf "region 0x%x .. 0x%x  %d pages\n", $_->[0] << 12, ($_->[1] << 12) + 4095, $_->[2] for @r;
