#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# test.sh: the body of `make test`, run after the Makefile built the guest
# kernel and initramfs. Runs all KUnit suites (kunit.sh), then the guest
# selftests, checks both kernel logs for reports, prints every result and
# the time each phase took, and ends with one line "N passed, N failed[,
# N skipped]".
#
# Environment (set by the Makefile): PROJECT SRC OUT KUNIT_DIR ARCH KERNEL
# INITRD KUNIT_FRAGS KUNIT_ARGS GUEST_PASSES.
set -u

res=$OUT/results
rm -rf "$res"
mkdir -p "$res"
py="python3 $PROJECT/harness/results.py"

# The time of each phase: the builds the Makefile made before this script
# (from the stamp it left when make test began), KUnit, each guest pass.
times=""
mark=$(cat "$OUT/.test-start" 2>/dev/null || date +%s)
phase_done() {
	now=$(date +%s)
	times="$times$1 $(( (now - mark) / 60 ))m$(( (now - mark) % 60 ))s, "
	mark=$now
}
start=$mark
phase_done build

echo "=== KUnit ($ARCH) ==="
# shellcheck disable=SC2086
"$PROJECT/harness/kunit.sh" "$SRC" "$PROJECT" "$KUNIT_DIR" "$ARCH" \
	"$res/kunit.out" $KUNIT_FRAGS -- $KUNIT_ARGS
$py kunit "$res/kunit.out" "$res/kunit.counts" >/dev/null
if [ -f "$KUNIT_DIR/test.log" ] && ! $py splats "$KUNIT_DIR/test.log" kunit >/dev/null; then
	echo "0 1 0" > "$res/kunit-log.counts"
fi
phase_done KUnit

# The guest selftests once per DMA path (see qemu.sh), each pass with
# its own logs, results and kernel-report scan; the test bed itself is
# checked in the first.
for pass in ${GUEST_PASSES:-plain swiotlb iommu iommu-pt hugetlb}; do
	echo "=== guest selftests ($ARCH, $pass) ==="
	dir=$res/guest-$pass
	QEMU_SCAN=0 QEMU_PASS=$pass "$PROJECT/harness/qemu.sh" batch "$KERNEL" \
		"$INITRD" "$dir"
	echo "--- guest selftest results ($pass) ---"
	$py selftests "$dir/results.log" "$res/selftests-$pass.counts" "$pass"
	# The hugetlb pass runs only the tests that need its memory.
	if [ "$pass" != hugetlb ]; then
		$py hostcheck "$dir/results.log" "$dir/ivshmem.bin" \
			"$res/hostcheck-$pass.counts" "$pass"
	fi
	if ! $py splats "$dir/console.log" "guest ($pass)"; then
		echo "0 1 0" > "$res/guest-log-$pass.counts"
	fi
	if [ ! -f "$res/testbed.counts" ]; then
		$py testbed "$dir/results.log" "$KUNIT_DIR/test.log" \
			"${DEBUG:-0}" "$res/testbed.counts"
	fi
	phase_done "$pass"
done

echo "=== time ($ARCH${DEBUG_LABEL:-}) ==="
mark=$start
phase_done total
echo "${times%, }"

echo "=== summary ($ARCH${DEBUG_LABEL:-}) ==="
$py summary "$res"/*.counts
