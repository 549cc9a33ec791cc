#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# needed-libs.sh ROOT PROGRAM...
#
# Print, one per line and relative to ROOT, the program interpreter and
# every shared library the PROGRAMs load, directly or through another
# library, as the loader would find them under ROOT (/ for the host's own
# programs; for another architecture's, the root its Debian packages were
# unpacked into). The PROGRAMs are of one architecture.
set -eu

root=$1
shift

# Where the loader of a Debian system of the programs' architecture looks.
case $(readelf -h "$1" | sed -n 's/^ *Machine: *//p') in
*X86-64*) triplet=x86_64-linux-gnu ;;
*80386*) triplet=i386-linux-gnu ;;
AArch64) triplet=aarch64-linux-gnu ;;
*) echo "needed-libs: $1: an architecture this does not know" >&2; exit 1 ;;
esac
dirs="lib/$triplet usr/lib/$triplet lib64 lib usr/lib"

find_lib() {
	for d in $dirs; do
		if [ -e "$root/$d/$1" ]; then
			echo "$d/$1"
			return 0
		fi
	done
	echo "needed-libs: $1 not found under $root" >&2
	return 1
}

out=""
for prog in "$@"; do
	interp=$(readelf -l "$prog" |
		sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
	[ -z "$interp" ] || out="$out ${interp#/}"
done
queue="$*"
seen=" "
while [ -n "$queue" ]; do
	next=""
	for f in $queue; do
		for lib in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			case "$seen" in *" $lib "*) continue ;; esac
			seen="$seen$lib "
			path=$(find_lib "$lib")
			out="$out $path"
			next="$next $root/$path"
		done
	done
	queue=$next
done
printf '%s\n' $out | sort -u
