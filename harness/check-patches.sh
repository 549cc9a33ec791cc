#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# check-patches.sh PROJECT BUILD PATCHES JOBS
#
# Prove the series make patches wrote into PATCHES:
# - git am applies it to a pristine, git-initialised copy of the base tree
#   (BUILD/pristine, from patches.py) in BUILD/patches-check/tree;
# - every prefix builds, x86_64, with the project's guest configuration
#   (configs/guest.config, guest-x86.config, guest-x86_64.config,
#   x86_64.config, and guest-media.config from the prefix that ports the
#   last of videobuf2's allocators on), incrementally in one object
#   directory; a prefix is only asked for the options its Kconfig files
#   define (KCONFIG_DEFINED_ONLY), the whole series for all;
# - scripts/checkpatch.pl --strict finds no ERROR or WARNING in any patch
#   (its summary per patch is printed);
# - the KUnit suites pass on the fully patched tree, run with the tree's
#   own tools/testing/kunit/kunit.py and drivers/dma-buf/.kunitconfig, no
#   overlay.
set -eu

project=$(cd "$1" && pwd) build=$(cd "$2" && pwd) patches=$(cd "$3" && pwd)
jobs=${4:-2}
pristine=$build/pristine
check=$build/patches-check
tree=$check/tree
obj=$check/obj

[ -d "$pristine/.git" ] || { echo "check-patches: no $pristine: run make patches" >&2; exit 1; }
set -- "$patches"/[0-9][0-9][0-9][0-9]-*.patch
series=""
for p in "$@"; do
	case "$p" in */0000-cover-letter.patch) ;; *) series="$series $p" ;; esac
done
[ -n "$series" ] || { echo "check-patches: no patches in $patches" >&2; exit 1; }

echo "check-patches: git am onto the pristine base tree"
rm -rf "$tree"
mkdir -p "$check"
git clone -q --shared "$pristine" "$tree"
# shellcheck disable=SC2086
git -C "$tree" -c user.name=check -c user.email=check@localhost am -q $series

echo "check-patches: checkpatch --strict"
# Its SPDX check needs Debian's python3 (python3-ply), as in check.sh.
PATH=/usr/bin:$PATH
fail=0
for p in $series; do
	sum=$(cd "$tree" && perl scripts/checkpatch.pl --strict --show-types "$p" 2>&1 || true)
	if echo "$sum" | grep -qE '^(ERROR|WARNING):'; then
		echo "$sum"
		fail=1
	fi
	printf '  %s: %s\n' "$(basename "$p")" \
		"$(echo "$sum" | grep -E '^total:' | tail -n 1)"
done
[ $fail -eq 0 ] || { echo "check-patches: checkpatch found errors or warnings" >&2; exit 1; }

frags="$project/configs/guest.config $project/configs/guest-x86.config"
frags="$frags $project/configs/guest-x86_64.config $project/configs/x86_64.config"
commits=$(git -C "$tree" rev-list --reverse base..HEAD)
last=$(git -C "$tree" rev-parse HEAD)
# The media drivers build once videobuf2 is ported: from the prefix that
# holds the last of the series' "media:" patches on (none: from the first).
media_from=$(git -C "$tree" log --format='%H %s' base..HEAD |
	awk '$2 == "media:" { print $1; exit }')
media=$([ -z "$media_from" ] && echo "$project/configs/guest-media.config")
n=0
for c in $commits; do
	n=$((n + 1))
	git -C "$tree" checkout -q "$c"
	[ "$c" = "$media_from" ] && media="$project/configs/guest-media.config"
	echo "check-patches: building prefix $n: $(git -C "$tree" log -1 --format=%s)"
	lenient=1
	[ "$c" = "$last" ] && lenient=0
	# shellcheck disable=SC2086
	KCONFIG_DEFINED_ONLY=$lenient "$project/harness/kconfig.sh" "$tree" "$obj" x86_64 \
		$frags $media
	make -s -C "$tree" O="$obj" ARCH=x86_64 -j"$jobs" bzImage modules ||
		{ echo "check-patches: prefix $n does not build" >&2; exit 1; }
done

echo "check-patches: KUnit on the patched tree (its own kunit.py and .kunitconfig)"
# No PC keyboard or mouse: their late "input:" lines can break the KTAP
# header for kunit.py (see kunit.sh).
(cd "$tree" && python3 tools/testing/kunit/kunit.py run --arch=x86_64 \
	--build_dir="$check/kunit" --jobs="$jobs" --qemu_args="-smp 2" \
	--kernel_args="no_timer_check i8042.nokbd i8042.noaux" \
	--kunitconfig=drivers/dma-buf) \
	> "$check/kunit.log" 2>&1 || {
	tail -n 40 "$check/kunit.log"
	echo "check-patches: KUnit failed on the patched tree ($check/kunit.log)" >&2
	exit 1
}
grep -E 'Testing complete' "$check/kunit.log" | tail -n 1
echo "check-patches: $n patches apply, build one by one, pass checkpatch and KUnit"
