#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# v4l2-anchor.sh RESULTS_LOG SRC OUTPUT
#
# Write OUTPUT, the anchor of guest/v4l2-checks, from the results channel
# of a guest that ran "v4l2-checks --record" on the base tree's own
# kernel: the tests it fails, one per line ("RUN<TAB>TEST#N<TAB>REASON"),
# after a header saying what was run, and the tool's totals.
set -eu

log=$1 src=$2 output=$3
tr -d '\r' < "$log" | grep -q '^GUEST-EXIT: 0$' ||
	{ echo "v4l2-anchor: the anchor guest failed ($log)" >&2; exit 1; }
{
	echo "# What the anchor fails of v4l2-compliance: the base tree $(cat "$src/.base-version"),"
	echo "# built unmodified with the project's guest configuration (make v4l2-anchor),"
	echo "# $(v4l2-compliance --version 2>/dev/null | head -n 1)."
	tr -d '\r' < "$log" | grep -v '^@@\|^GUEST-EXIT\|^TESTBED'
} > "$output.new"
mv "$output.new" "$output"
echo "v4l2-anchor: $(grep -vc '^#' "$output") failures of the anchor in $output"
