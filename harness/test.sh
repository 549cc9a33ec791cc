#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# test.sh: the body of `make test`, run after the Makefile built the guest
# kernel and initramfs. Runs all KUnit suites (kunit.sh), then the guest
# selftests, checks both kernel logs for reports, prints every result and
# ends with one line "N passed, N failed[, N skipped]".
#
# Environment (set by the Makefile): PROJECT SRC OUT KUNIT_DIR ARCH KERNEL
# INITRD KUNIT_FRAGS KUNIT_ARGS.
set -u

res=$OUT/results
rm -rf "$res"
mkdir -p "$res"
py="python3 $PROJECT/harness/results.py"

echo "=== KUnit ($ARCH) ==="
# shellcheck disable=SC2086
"$PROJECT/harness/kunit.sh" "$SRC" "$PROJECT" "$KUNIT_DIR" "$ARCH" \
	"$res/kunit.out" $KUNIT_FRAGS -- $KUNIT_ARGS
$py kunit "$res/kunit.out" "$res/kunit.counts" >/dev/null
if [ -f "$KUNIT_DIR/test.log" ] && ! $py splats "$KUNIT_DIR/test.log" kunit >/dev/null; then
	echo "0 1 0" > "$res/kunit-log.counts"
fi

echo "=== guest selftests ($ARCH) ==="
QEMU_SCAN=0 "$PROJECT/harness/qemu.sh" batch "$KERNEL" "$INITRD" "$res/guest"
echo "--- guest selftest results ---"
$py selftests "$res/guest/results.log" "$res/selftests.counts"
$py hostcheck "$res/guest/results.log" "$res/guest/ivshmem.bin" "$res/hostcheck.counts"
if ! $py splats "$res/guest/console.log" guest; then
	echo "0 1 0" > "$res/guest-log.counts"
fi
$py testbed "$res/guest/results.log" "$KUNIT_DIR/test.log" "${DEBUG:-0}" "$res/testbed.counts"

echo "=== summary ($ARCH${DEBUG_LABEL:-}) ==="
$py summary "$res"/*.counts
