#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# build-selftests.sh SRC HEADERS OUT ARCH
#
# Build the guest's programs, static, against the uapi headers installed
# from the guest kernel build (HEADERS):
# - the kselftest programs of every directory of tools/testing/selftests/
#   named in guest/selftests (the project's own, and base-tree conformance
#   tests built unchanged), and the guest scripts it names (guest/NAME),
#   into OUT with a "list" file in the order the guest runs them: a line
#   per program, its name followed, for an entry limited to some passes
#   of make test, by "pass=NAME[,NAME...]";
# - the project's sample programs, samples/dma-buf/*.c (the demo), its
#   tools, tools/dma-buf/*.c (lsdmabuf), and the guest's own helpers,
#   guest/*.c, into OUT/bin, which becomes the guest's /usr/bin.
set -eu

src=$1 hdr=$2 out=$3 arch=$4
# One word per entry: "path" or "path@pass=...".
entries=$(sed 's/#.*//; s/^[[:space:]]*//; s/[[:space:]]*$//; s/[[:space:]][[:space:]]*/@/g' \
	"$(dirname "$0")/../guest/selftests")
case $arch in
# Large-file offsets, as 32-bit distributions build their programs: the
# udmabuf conformance test truncates a memfd to 2 GiB.
i386)	cc="gcc -m32 -D_FILE_OFFSET_BITS=64" ;;
arm64)	cc=aarch64-linux-gnu-gcc ;;
*)	cc=gcc ;;
esac
# The guest has no C library to load: every program is static, also
# those whose Makefile does not ask for it.
cc="$cc -static"

rm -rf "$out"
mkdir -p "$out"
: > "$out/list.new"
built=" "
for line in $entries; do
	entry=${line%%@*}
	tag=""
	[ "$entry" = "$line" ] || tag=" ${line#*@}"
	# A script of the project's guest/ directory (guest/NAME).
	case "$entry" in
	guest/*)
		name=${entry#guest/}
		cp "$(dirname "$0")/../guest/$name" "$out/$name"
		echo "$name$tag" >> "$out/list.new"
		continue
		;;
	esac
	# A directory (every program it lists), or directory/program.
	if [ -d "$src/tools/testing/selftests/$entry" ]; then
		t=$entry
	else
		t=${entry%/*}
	fi
	dir=$src/tools/testing/selftests/$t
	[ -d "$dir" ] || { echo "guest/selftests: no $dir" >&2; exit 1; }
	case "$built" in
	*" $t "*) ;;
	*)
		mkdir -p "$out/build/$t"
		make -s -C "$dir" OUTPUT="$out/build/$t" CC="$cc" ARCH="$arch" \
			KHDR_INCLUDES="-isystem $hdr" >/dev/null
		built="$built$t "
		;;
	esac
	if [ "$entry" != "$t" ]; then
		progs=${entry##*/}
	else
		progs=$(make -s -C "$dir" emit_tests | sed 's/.*://')
	fi
	for name in $progs; do
		if grep -q "^$name\( \|$\)" "$out/list.new"; then
			echo "guest/selftests: two programs named $name" >&2
			exit 1
		fi
		cp "$out/build/$t/$name" "$out/$name"
		echo "$name$tag" >> "$out/list.new"
	done
done
rm -rf "$out/build"
mv "$out/list.new" "$out/list"

mkdir -p "$out/bin"
for c in "$(dirname "$0")"/../samples/dma-buf/*.c "$(dirname "$0")"/../guest/*.c \
	 "$(dirname "$0")"/../tools/dma-buf/*.c; do
	[ -f "$c" ] || continue
	# shellcheck disable=SC2086
	$cc -static -O2 -Wall -isystem "$hdr" -o "$out/bin/$(basename "$c" .c)" "$c"
done
