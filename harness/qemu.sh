#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# qemu.sh MODE KERNEL INITRD LOGDIR
#
# Boot the test-bed guest. MODE is "batch" (the guest runs its command and
# powers off; a watchdog kills it after GUEST_TIMEOUT seconds) or
# "interactive" (make shell: no watchdog).
#
# The test bed, at fixed PCI slots on bus 0 (see README.md):
#   00:04.0  edu, QEMU's default 28-bit DMA mask
#   00:05.0  edu, dma_mask=0xffffffff (32 bits); the device cannot report
#            it, so the kernel command line tells the importer
#            (edu_dmabuf.dma_bits=00:05.0=32)
#   00:06.0  ivshmem-plain, 64 MiB of memory shared with the host file
#            LOGDIR/ivshmem.bin (created anew for each boot), BAR 2
#
# Serial ports:
#   ttyS0  console: kernel log and the command's output, on stdout and in
#          LOGDIR/console.log;
#   ttyS1  results channel, LOGDIR/results.log: the guest's exit status and
#          the selftests' TAP, never interleaved with kernel messages.
#
# The console log is scanned for kernel reports (results.py splats) unless
# QEMU_SCAN=0 (make test counts them itself): in batch mode a report fails
# the run, in interactive mode it is printed when the guest stops.
#
# Exit status: the guest command's, parsed from the results channel; 1 if
# the command succeeded but the kernel log holds a report; 124 if the
# watchdog fired; 125 if the guest stopped without reporting a status
# (panic, triple fault).
set -u

mode=$1 kernel=$2 initrd=$3 logdir=$4
timeout_s=${GUEST_TIMEOUT:-300}
mkdir -p "$logdir"
console="$logdir/console.log"
results="$logdir/results.log"
rm -f "$console" "$results" "$logdir/ivshmem.bin"

set -- qemu-system-x86_64 \
	-nodefaults -no-user-config \
	-machine pc -accel tcg -m 1024 -smp 2 \
	-nographic -no-reboot -nic none \
	-serial mon:stdio -serial "file:$results" \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 no_timer_check acpi=noirq kunit.enable=0 edu_dmabuf.dma_bits=00:05.0=32 ${GUEST_APPEND:-}" \
	-device edu,addr=04.0 \
	-device edu,dma_mask=0xffffffff,addr=05.0 \
	-object memory-backend-file,id=ivshmem,size=64M,share=on,mem-path="$logdir/ivshmem.bin" \
	-device ivshmem-plain,memdev=ivshmem,addr=06.0

scan() {
	[ "${QEMU_SCAN:-1}" = 1 ] || return 0
	python3 "$(dirname "$0")/results.py" splats "$console" guest
}

if [ "$mode" = interactive ]; then
	"$@" 2>&1 | tee "$console"
	scan || echo "harness: warning: the guest's kernel log ($console) holds the reports above" >&2
	exit 0
fi

# The pipe to tee must not hide the watchdog's verdict: qemu's status goes
# through a file.
status_file="$logdir/.qemu-status"
{ timeout -k 10 "$timeout_s" "$@" < /dev/null; echo $? > "$status_file"; } 2>&1 |
	tee "$console"
qemu_status=$(cat "$status_file")
rm -f "$status_file"

if [ "$qemu_status" -eq 124 ] || [ "$qemu_status" -eq 137 ]; then
	echo "harness: the guest did not power off within ${timeout_s}s (GUEST_TIMEOUT); killed it" >&2
	exit 124
fi

status=$(sed -n 's/^GUEST-EXIT: \([0-9]*\).*/\1/p' "$results" 2>/dev/null | tail -n 1)
if [ -z "$status" ]; then
	echo "harness: the guest stopped without reporting an exit status (qemu exited with $qemu_status; see $console)" >&2
	exit 125
fi
[ "$status" -eq 0 ] || echo "harness: the guest command exited with status $status" >&2
if ! scan; then
	echo "harness: the guest's kernel log ($console) holds the reports above" >&2
	[ "$status" -eq 0 ] && status=1
fi
exit "$status"
