#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# build-selftests.sh SRC HEADERS OUT ARCH
#
# Build the guest's kselftest programs, static, against the uapi headers
# installed from the guest kernel build (HEADERS): every directory of
# tools/testing/selftests/ named in guest/selftests (the project's own,
# and base-tree conformance tests built unchanged). Write them to OUT with
# a "list" file in the order the guest runs them.
set -eu

src=$1 hdr=$2 out=$3 arch=$4
dirs=$(sed 's/#.*//' "$(dirname "$0")/../guest/selftests")
cc=gcc
[ "$arch" = i386 ] && cc="gcc -m32"

rm -rf "$out"
mkdir -p "$out"
: > "$out/list.new"
for t in $dirs; do
	dir=$src/tools/testing/selftests/$t
	[ -d "$dir" ] || continue
	mkdir -p "$out/build/$t"
	make -s -C "$dir" OUTPUT="$out/build/$t" CC="$cc" ARCH="$arch" \
		KHDR_INCLUDES="-isystem $hdr" >/dev/null
	for p in $(find "$out/build/$t" -maxdepth 1 -type f -perm -u+x | sort); do
		name=$(basename "$p")
		cp "$p" "$out/$name"
		echo "$name" >> "$out/list.new"
	done
done
rm -rf "$out/build"
mv "$out/list.new" "$out/list"
