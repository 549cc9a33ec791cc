#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# test.sh: the body of `make test`, run after the Makefile built the guest
# kernel and initramfs. Boots the guest once per pass and runs the guest
# selftests; in the first pass, the guest kernel also runs the KUnit
# suites (modules the guest loads with kunit.enable=1, see
# guest/kunit-modules), whose KTAP the base tree's kunit.py reads from
# the kernel log. Checks the kernel logs for reports, prints every result
# and the time each phase took, and ends with one line "N passed, N
# failed[, N skipped]".
#
# Environment (set by the Makefile): PROJECT SRC OUT ARCH KERNEL INITRD
# GUEST_PASSES.
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

# The KUnit suites of the plain pass's kernel log, read by the base tree's
# kunit.py: those built in, which ran at boot (before the kernel started
# init), then each module's, between the markers guest/kunit-modules
# writes. kunit.py gives each part its verdict and counts; a case skipped
# is listed with its reason.
kunit_part() { # NAME LOG
	echo "=== KUnit ($ARCH${DEBUG_LABEL:-}): $1 ==="
	python3 "$SRC/tools/testing/kunit/kunit.py" parse "$2" \
		> "$res/kunit-$1.out" 2>&1
	cat "$res/kunit-$1.out"
	sed -n 's/^\[[^]]*\] *ok [0-9]* \(.*\) # SKIP \(.*[^ ]\) *$/SKIP    kunit: \1: \2/p' "$2"
	$py kunit "$res/kunit-$1.out" "$res/kunit-$1.counts" >/dev/null
}
kunit_results() { # CONSOLE_LOG
	tr -d '\r' < "$1" > "$res/kunit-console.log"
	sed -n '1,/Run \/init as init process/p' "$res/kunit-console.log" \
		> "$res/kunit-builtin.log"
	kunit_part builtin "$res/kunit-builtin.log"
	for m in $(sed -n 's/.*@@KUNIT-BEGIN \([^ ]*\)$/\1/p' "$res/kunit-console.log"); do
		sed -n "/@@KUNIT-BEGIN $m\$/,/@@KUNIT-END $m /p" \
			"$res/kunit-console.log" > "$res/kunit-$m.log"
		kunit_part "$m" "$res/kunit-$m.log"
	done
}

# The guest selftests once per DMA path (see qemu.sh), each pass with
# its own logs, results and kernel-report scan; the test bed itself is
# checked in the first.
for pass in ${GUEST_PASSES:-plain swiotlb iommu iommu-pt hugetlb}; do
	echo "=== guest selftests ($ARCH, $pass) ==="
	dir=$res/guest-$pass
	# The plain pass runs the KUnit suites too. Without the PC's
	# keyboard and mouse, no "input:" line probed from the other CPU
	# lands inside their KTAP at boot.
	append=""
	[ "$pass" = plain ] && append="kunit.enable=1 i8042.nokbd i8042.noaux"
	QEMU_SCAN=0 QEMU_PASS=$pass GUEST_APPEND="$append" \
		"$PROJECT/harness/qemu.sh" batch "$KERNEL" "$INITRD" "$dir"
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
		$py testbed "$dir/results.log" "$dir/console.log" \
			"${DEBUG:-0}" "$res/testbed.counts"
	fi
	[ "$pass" = plain ] && kunit_results "$dir/console.log"
	phase_done "$pass"
done
# Every part, or a failure: the plain pass may not have run, or a module
# may not have been loaded. The modules are those guest/kunit-modules
# loads.
kunit_mods=$(sed -n 's/^mods="\(.*\)"$/\1/p' "$PROJECT/guest/kunit-modules")
for part in builtin $kunit_mods; do
	case " ${GUEST_PASSES:-plain} " in *" plain "*) ;; *) break ;; esac
	[ -f "$res/kunit-$part.counts" ] && continue
	echo "test: no KUnit results of $part (they run in the plain pass)"
	echo "0 1 0" > "$res/kunit-missing-$part.counts"
done

echo "=== time ($ARCH${DEBUG_LABEL:-}) ==="
mark=$start
phase_done total
echo "${times%, }"

echo "=== summary ($ARCH${DEBUG_LABEL:-}) ==="
$py summary "$res"/*.counts
