#!/usr/bin/perl
# SPDX-License-Identifier: BSD-2-Clause
# thin.pl - thin a Valgrind lackey --trace-mem=yes log (stdin -> stdout).
#
#   * lines that are not I/L/S/M records (e.g. "==123== ..." headers) are dropped;
#   * every data record (" L ", " S ", " M ") is kept unchanged;
#   * an "I  " record is kept only when its 4 KiB page (addr >> 12) differs
#     from the page of the previous kept I record;
#   * optional MAX (first argument): stop after MAX output records
#     (0 = no limit); the cut is always at a record boundary;
#   * optional SKIP (second argument): drop the first SKIP records of the
#     thinned stream before output starts (to skip a long process startup).
#     The thinning state is reset at that point, so the window opens with
#     the I record of the page it is executing in.
#
# usage: perl thin.pl [MAX [SKIP]] < lackey.log > trace
#
# Kept lines are printed byte for byte as lackey wrote them.
use strict;
use warnings;

my ($max, $skip) = (@ARGV, 0, 0);
die "usage: thin.pl [MAX [SKIP]]\n"
    unless @ARGV <= 2 && $max =~ /^\d+$/ && $skip =~ /^\d+$/;

my $last_ipage = '';
my $n = 0;
while (my $line = <STDIN>) {
    if ($line =~ /^ [LSM] [0-9a-f]+,[0-9]+$/) {
        # data record: always kept
    } elsif ($line =~ /^I  ([0-9a-f]+),[0-9]+$/) {
        # page = address without its low 3 hex digits (== addr >> 12),
        # compared as a canonical string so 64-bit addresses need no math.
        my $page = $1;
        $page = length($page) > 3 ? substr($page, 0, -3) : '0';
        $page =~ s/^0+(?=.)//;
        next if $page eq $last_ipage;
        $last_ipage = $page;
    } else {
        next;
    }
    if ($skip) {
        $last_ipage = '' if --$skip == 0;
        next;
    }
    print $line;
    last if $max && ++$n >= $max;
}
