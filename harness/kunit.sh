#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# kunit.sh [--build-only] SRC PROJECT BUILD_DIR ARCH OUTPUT FRAGMENT...
#	[-- KUNIT_ARGS...]
#
# Run every KUnit suite of the project under QEMU with the base tree's
# kunit.py: each .kunitconfig the project has, plus the FRAGMENTs (the
# architecture's, and DEBUG=1's), in BUILD_DIR. kunit.py's output goes to
# stdout and OUTPUT; the raw kernel log stays in BUILD_DIR/test.log.
# Then the kernel log is checked for reports (see results.py splats).
#
# --build-only configures and builds that kernel without running it (for
# make check, which needs every project option compiled).
set -u

action=run
if [ "$1" = --build-only ]; then
	action=build
	shift
fi
src=$1 project=$2 dir=$3 arch=$4 output=$5
shift 5
set -f
configs=""
for k in $(cd "$project" && find drivers -name .kunitconfig | sort); do
	configs="$configs --kunitconfig=$src/$k"
done
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	configs="$configs --kunitconfig=$1"
	shift
done
[ "${1:-}" = -- ] && shift

# On QEMU's virt machine RAM starts at 1 GiB: with 5 GiB of it, some lies
# above ZONE_DMA (4 GiB), as the placement cases need.
# cma=: the system heap's blocks for importers that take a buffer in one
# piece (its no_block_left_is_enomem case uses the area up).
cross="" qemu_args="-smp 2" kernel_args="no_timer_check cma=32M"
if [ "$arch" = arm64 ]; then
	cross="--cross_compile=aarch64-linux-gnu-"
	qemu_args="$qemu_args -m 5G"
else
	# The PC's keyboard and mouse are probed asynchronously: their
	# "input: ..." lines, printed from the other CPU, can land between
	# the KTAP header lines, which kunit.py then cannot parse.
	kernel_args="$kernel_args i8042.nokbd i8042.noaux"
fi

mkdir -p "$dir"
rm -f "$dir/test.log"
status_file=$dir/.kunit-status
# shellcheck disable=SC2086
if [ $action = build ]; then
	python3 "$src/tools/testing/kunit/kunit.py" build --arch="$arch" \
		--build_dir="$dir" --jobs="${JOBS:-2}" $cross $configs
	exit $?
fi
# Two CPUs, as in the guest; no_timer_check: a busy host must not make
# the kernel give up on the timer interrupt at boot. kunit.py joins its
# --kernel_args with spaces into QEMU's -append.
# shellcheck disable=SC2086
{ python3 "$src/tools/testing/kunit/kunit.py" run --arch="$arch" $cross \
	--build_dir="$dir" --jobs="${JOBS:-2}" --timeout="${KUNIT_TIMEOUT:-900}" \
	--qemu_args="$qemu_args" --kernel_args="$kernel_args" \
	$configs "$@"; echo $? > "$status_file"; } 2>&1 | tee "$output"
status=$(cat "$status_file")

if [ -f "$dir/test.log" ]; then
	# kunit.py's summary says which cases were skipped, not why. A case
	# or suite all of whose parts skipped has no reason of its own.
	sed -n 's/^ *ok [0-9]* \(.*\) # SKIP \([^ \r][^\r]*\)\r*$/SKIP    kunit: \1: \2/p' \
		"$dir/test.log" | tr -d '\r'
	python3 "$project/harness/results.py" splats "$dir/test.log" kunit || status=1
fi
exit "$status"
