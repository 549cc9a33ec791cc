#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# check-patches.sh PROJECT BUILD PATCHES JOBS
#
# Prove the series make patches wrote into PATCHES:
# - git am applies it to a pristine, git-initialised copy of the base tree
#   (BUILD/pristine, from patches.py) in BUILD/patches-check/tree;
# - scripts/checkpatch.pl --strict finds no ERROR or WARNING in any patch
#   (its summary per patch is printed);
# - every prefix builds, x86_64, with the project's guest configuration
#   (configs/guest.config, guest-x86.config, guest-x86_64.config,
#   x86_64.config, and guest-media.config from the prefix that ports the
#   last of videobuf2's allocators on; a prefix is only asked for the
#   options its Kconfig files define, KCONFIG_DEFINED_ONLY), as far as an
#   error of the series can appear: each prefix compiles, incrementally in
#   one object directory, the objects of the series' own C files and
#   every object that includes a header the series changes (the guest
#   kernel of make test says which); the whole series is checked to be
#   the tree make test built its guest kernel from (the same files but
#   where the series places the project's Kconfig menu, MAINTAINERS and a
#   documentation index, and the same configuration), so that build,
#   with the KUnit suites the guest runs, stands for its. Without that
#   guest build, every prefix is built whole.
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
# holds the last of the series' "media: ...: port to ..." patches on (none:
# from the first).
media_from=$(git -C "$tree" log --format='%H %s' base..HEAD |
	awk '$2 == "media:" && / port to / { print $1; exit }')
media=""
[ -n "$media_from" ] || media="$project/configs/guest-media.config"

# Where an error of a prefix can appear: the objects the series' own C
# files make, and every object that includes a header the series
# changes. The guest kernel of make test (the same configuration) tells
# which objects include which headers; without it, a full build decides.
guest=$build/x86_64/guest
series_c=$(git -C "$tree" diff --name-only base..HEAD -- '*.c')
series_h=$(git -C "$tree" diff --name-only base..HEAD -- '*.h')
users=""
if [ -f "$guest/vmlinux" ] && [ -n "$series_h" ]; then
	users=$(cd "$guest" && grep -rlF --include='.*.o.cmd' \
		"$(echo "$series_h" | sed "s|^|$build/src/|")" . |
		sed 's|^\./||; s|/\.\([^/]*\)\.cmd$|/\1|' | sort -u)
fi
full=0
[ -f "$guest/vmlinux" ] || full=1

n=0
for c in $commits; do
	n=$((n + 1))
	git -C "$tree" checkout -q "$c"
	[ "$c" = "$media_from" ] && media="$project/configs/guest-media.config"
	lenient=1
	[ "$c" = "$last" ] && lenient=0
	# shellcheck disable=SC2086
	KCONFIG_DEFINED_ONLY=$lenient "$project/harness/kconfig.sh" "$tree" "$obj" x86_64 \
		$frags $media
	if [ $full = 1 ]; then
		echo "check-patches: building prefix $n: $(git -C "$tree" log -1 --format=%s)"
		make -s -C "$tree" O="$obj" ARCH=x86_64 -j"$jobs" bzImage modules ||
			{ echo "check-patches: prefix $n does not build" >&2; exit 1; }
		continue
	fi
	# The objects of this prefix among those, whose sources it has;
	# outside drivers/dma-buf/ (the media drivers) once it configures them.
	targets=""
	for o in $(echo "$series_c" | sed 's/\.c$/.o/') $users; do
		# What the configuration builds (the guest kernel has it), of
		# which this prefix has the source.
		[ -f "$guest/$o" ] && [ -f "$tree/${o%.o}.c" ] || continue
		case "$o" in
		drivers/dma-buf/*) ;;
		*) [ -n "$media" ] || continue ;;
		esac
		case " $targets " in *" $o "*) ;; *) targets="$targets $o" ;; esac
	done
	echo "check-patches: compiling prefix $n ($(echo $targets | wc -w) objects): $(git -C "$tree" log -1 --format=%s)"
	# shellcheck disable=SC2086
	make -s -C "$tree" O="$obj" ARCH=x86_64 -j"$jobs" $targets ||
		{ echo "check-patches: prefix $n does not build" >&2; exit 1; }
done

# The whole series: the same sources as the overlay tree that make test
# built its guest kernel from, and the same configuration, so that build
# is this tree's. Only the files where the series composes what the
# overlay adds differently may differ (the Kconfig menu's place,
# MAINTAINERS, the documentation's index), the demo (samples/dma-buf/,
# a userspace program the harness builds from the project itself), and
# the overlay's own records; a file the overlay has and the series lacks
# is an error.
if [ $full = 0 ]; then
	echo "check-patches: the series is the tree make test built"
	diff -rq --exclude=.git "$tree" "$build/src" > "$check/tree.diff" 2>&1 || true
	bad=$(grep -v -e "^Only in $tree/samples: dma-buf$" \
		-e "^Only in $build/src: \(\.base-version\|\.patched-files\|\.pristine-orig\|\.project-files\|Kconfig\.base\|Kconfig\.project\)$" \
		-e "^Files $tree/\(Kconfig\|drivers/dma-buf/Kconfig\|MAINTAINERS\|Documentation/userspace-api/index.rst\) and .* differ$" \
		"$check/tree.diff" || true)
	[ -z "$bad" ] || {
		echo "$bad"
		echo "check-patches: the series and the overlay tree differ" >&2
		exit 1
	}
	sorted() { grep '^CONFIG_' "$1" | sort; }
	sorted "$obj/.config" > "$check/series.config"
	sorted "$guest/.config" > "$check/guest.config"
	cmp -s "$check/series.config" "$check/guest.config" || {
		diff "$check/series.config" "$check/guest.config" | head -20
		echo "check-patches: the series configures another kernel than make test's" >&2
		exit 1
	}
fi

echo "check-patches: $n patches apply, pass checkpatch and build one by one"
