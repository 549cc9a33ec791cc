#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# anchor-kernel.sh PROJECT BUILD JOBS
#
# The anchor: the base tree built unmodified (BUILD/pristine, committed
# once, shared with make patches) with the project's x86_64 guest
# configuration, the media drivers included, and the base tree's own
# system heap built in (a bool there: configs/bench-upstream.config), in
# BUILD/bench/upstream-obj. make bench measures it beside the project's
# kernel; make v4l2-anchor runs v4l2-compliance on it. Prints nothing on
# success but what the build says.
set -eu

project=$1 build=$2 jobs=$3

python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import patches; patches.pristine_repo(sys.argv[2])' \
	"$project/harness" "$build" >/dev/null
pristine=$build/pristine

frags="$project/configs/guest.config $project/configs/guest-media.config"
frags="$frags $project/configs/guest-x86.config"
frags="$frags $project/configs/guest-x86_64.config $project/configs/x86_64.config"
obj=$build/bench/upstream-obj
# shellcheck disable=SC2086
KCONFIG_DEFINED_ONLY=1 "$project/harness/kconfig.sh" "$pristine" "$obj" x86_64 \
	$frags "$project/configs/bench-upstream.config"
[ -e "$obj/arch/x86/boot/bzImage" ] ||
	echo "anchor: first build of the base tree's own kernel, about 5 minutes on 2 cores"
make -s -C "$pristine" O="$obj" ARCH=x86_64 -j"$jobs" bzImage modules
