#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# bench.sh PROJECT BUILD OURS_OBJ OURS_MODROOT DMABUF_BENCH JOBS
#
# make bench: the same benchmark on two kernels built from the same
# configuration (configs/guest.config, guest-x86.config, guest-x86_64.config,
# x86_64.config):
#   upstream  the base tree's own dma-buf, pristine (BUILD/pristine), the
#             anchor; its system heap is built in (a bool there, a module
#             here: configs/bench-upstream.config);
#   ours      the project's guest kernel (OURS_OBJ, built by make), with
#             its modules (OURS_MODROOT).
# The kernel half of the benchmark (tools/dma-buf/bench/dmabuf_bench.c) is
# built against each; the userspace half (DMABUF_BENCH, a static binary)
# is the same file for both. Each kernel boots in QEMU with one CPU and
# 2 GiB under -icount shift=0,sleep=off (the guest clock counts
# instructions: a nanosecond is an instruction), -rtc clock=vm from a
# fixed date, noapictimer, norandmaps and nokaslr, so that a run repeats
# exactly, and with the guests' 64 MiB of CMA and second vivid instance
# (vb2-dma-contig) for the contiguous row; its init runs dmabuf-bench and
# powers off.
#
# BENCH_RUNS=N (default 1) boots each kernel N times and fails if any row
# differs between runs by more than 1%. BENCH_ITERS and BENCH_LIVE are
# passed to dmabuf-bench (-n, -l). BENCH_NO_VMAP=y builds the module for
# a project tree older than dma_buf_vmap() (to measure a baseline). A
# kernel report in a run's log (printed by dmesg after the figures) fails
# the benchmark. The table (harness/bench-table.py) is printed and written
# to BUILD/bench/table.md (and as reStructuredText, table.rst, for the
# documentation).
set -eu

project=$1 build=$2 ours_obj=$3 ours_modroot=$4 bench_bin=$5 jobs=$6
runs=${BENCH_RUNS:-1}
iters=${BENCH_ITERS:-1000}
live=${BENCH_LIVE:-100000}
out=$build/bench
mkdir -p "$out"

# The anchor: the base tree's own dma-buf, pristine, the same configuration.
"$project/harness/anchor-kernel.sh" "$project" "$build" "$jobs"
pristine=$build/pristine
up_obj=$out/upstream-obj

# The kernel half, against each kernel.
module() { # NAME SRC OBJ API
	rm -rf "$out/mod-$1"
	mkdir -p "$out/mod-$1"
	cp "$project"/tools/dma-buf/bench/* "$out/mod-$1/"
	make -s -C "$2" O="$3" ARCH=x86_64 M="$out/mod-$1" BENCH_API="$4" \
		BENCH_NO_VMAP="${BENCH_NO_VMAP:-}" modules
}
module upstream "$pristine" "$up_obj" upstream
module ours "$build/src" "$ours_obj" project

# A minimal initramfs per kernel: busybox, the benchmark, the module, and
# for ours the system heap module.
initramfs() { # NAME HEAP_KO
	stage=$out/stage-$1
	rm -rf "$stage"
	mkdir -p "$stage/bin" "$stage/lib" "$stage/proc" "$stage/sys" "$stage/dev"
	cp /bin/busybox "$stage/bin/busybox"
	ln -s busybox "$stage/bin/sh"
	cp "$bench_bin" "$stage/bin/dmabuf-bench"
	cp "$out/mod-$1/dmabuf_bench.ko" "$stage/lib/"
	[ -z "$2" ] || cp "$2" "$stage/lib/system_heap.ko"
	cat > "$stage/init" <<EOF
#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
[ -e /lib/system_heap.ko ] && insmod /lib/system_heap.ko
echo @@BENCH-BEGIN
dmabuf-bench -n $iters -l $live -m /lib/dmabuf_bench.ko
echo "@@BENCH-END \$?"
# After the figures, the kernel's log: loglevel=1 keeps reports off the
# console while the benchmark runs.
dmesg
poweroff -f
EOF
	chmod +x "$stage/init"
	(cd "$stage" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) > "$out/$1.cpio"
}
initramfs upstream ""
initramfs ours "$(find "$ours_modroot" -name system_heap.ko | head -n1)"

boot() { # NAME KERNEL RUN
	log=$out/$1-$3.log
	echo "bench: $1 kernel, run $3 (icount)"
	timeout 1800 qemu-system-x86_64 -machine pc -accel tcg -m 2048 -smp 1 \
		-icount shift=0,sleep=off -rtc base=2026-01-01T00:00:00,clock=vm \
		-nographic -no-reboot -monitor none -serial "file:$log" \
		-kernel "$2" -initrd "$out/$1.cpio" \
		-append "console=ttyS0 loglevel=1 noapictimer norandmaps nokaslr panic=-1 cma=64M vivid.n_devs=2 vivid.node_types=0xe1d3d,0x1 vivid.allocators=0,1" \
		>/dev/null 2>&1 || true
	tr -d '\r' < "$log" |
		awk '/@@BENCH-BEGIN/ { on = 1; next } on { print } /^@@BENCH-END/ { on = 0 }' \
		> "$out/$1-$3.txt"
	grep -q '^@@BENCH-END 0$' "$out/$1-$3.txt" || {
		echo "bench: the $1 run failed; its console:" >&2
		tail -n 40 "$log" >&2
		exit 1
	}
	python3 "$project/harness/results.py" splats "$log" "bench: $1" || {
		echo "bench: the $1 kernel reported a problem ($log)" >&2
		exit 1
	}
}

i=1
while [ "$i" -le "$runs" ]; do
	boot upstream "$up_obj/arch/x86/boot/bzImage" "$i"
	boot ours "$ours_obj/arch/x86/boot/bzImage" "$i"
	i=$((i + 1))
done

# Through a file, not a pipe: the table's check (runs that disagree, a
# row missing) is make bench's exit status.
status=0
python3 "$project/harness/bench-table.py" "$out" "$runs" "$iters" "$live" \
	> "$out/table.md" || status=$?
cat "$out/table.md"
exit "$status"
