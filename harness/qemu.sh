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
# ARCH (default x86_64) picks the machine: pc or q35 (x86_64, i386), or
# arm64's virt with a GICv3 and highmem=off, so that PCI BARs stay below
# 4 GiB as on the pc (the ivshmem BAR must be within the 32-bit edu's
# reach). On virt, RAM starts at 1 GiB: the 28-bit edu reaches none of it.
#
# The DMA path (QEMU_PASS, default plain), each a pass of make test:
#   plain     the pc machine; devices reach memory directly
#   swiotlb   the same, booted with swiotlb=force: every mapping is
#             bounced through a separate buffer
#   iommu     a q35 machine with QEMU's intel-iommu, booted with
#             intel_iommu=on: device addresses are translated
#   iommu-pt  the same in passthrough (iommu=pt): the IOMMU is there, the
#             addresses are physical
#   hugetlb   the plain machine with 3 GiB of RAM instead of 1, 2 GiB of
#             it reserved at boot as huge pages (hugepages=), for the
#             tests that need that much (see guest/selftests)
# The devices keep their slots on bus 0 in every pass. The guest learns
# its pass from testbed_pass= on the kernel command line.
#
# Serial ports:
#   ttyS0  console (ttyAMA0 on arm64): kernel log and the command's output,
#          on stdout and in LOGDIR/console.log;
#   ttyS1  results channel (a virtio console, hvc0, on arm64; the guest
#          calls it /dev/results), LOGDIR/results.log: the guest's exit
#          status and the selftests' TAP, never interleaved with kernel
#          messages.
#
# QEMU_QUIET=1 (make run) keeps the kernel off the story: the kernel's
# console moves to a port of its own (ttyS2) saved in LOGDIR/kernel.log,
# whose path is printed, and the guest's init writes the command's output
# to ttyS0 alone (testbed_story=); on arm64 the kernel keeps the UART
# (into LOGDIR/kernel.log) and the story takes a virtio console, hvc1; and
# what the firmware prints before it is left out of stdout (it stays in
# LOGDIR/console.log). When the run fails, the kernel log is shown from
# where init started.
#
# The kernel log (the console log, or LOGDIR/kernel.log with QEMU_QUIET=1)
# is scanned for kernel reports (results.py splats) unless QEMU_SCAN=0
# (make test counts them itself): in batch mode a report fails the run, in
# interactive mode it is printed when the guest stops.
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
kernel_log="$logdir/kernel.log"
rm -f "$console" "$results" "$kernel_log" "$logdir/ivshmem.bin"
quiet=${QEMU_QUIET:-0}
[ "$mode" = batch ] || quiet=0

mem=1024
# vivid's second instance, a capture node that allocates with
# vb2-dma-contig (the whole buffer at consecutive DMA addresses), for
# v4l2-share; cma=: 64 MiB of contiguous memory for the system heap's
# blocks and dma-contig's own buffers (two 1080p RGB32 frames of 8 MiB).
vivid="vivid.n_devs=2 vivid.node_types=0xe1d3d,0x1 vivid.allocators=0,1"
case ${ARCH:-x86_64}/${QEMU_PASS:-plain} in
x86_64/plain | i386/plain)
	machine="-machine pc" append="" ;;
x86_64/swiotlb | i386/swiotlb)
	machine="-machine pc" append="swiotlb=force" ;;
x86_64/iommu | i386/iommu)
	machine="-machine q35 -device intel-iommu,intremap=off"
	append="intel_iommu=on" ;;
x86_64/iommu-pt | i386/iommu-pt)
	machine="-machine q35 -device intel-iommu,intremap=off"
	append="intel_iommu=on iommu=pt" ;;
x86_64/hugetlb)
	machine="-machine pc" append="hugepages=1024" mem=3072 ;;
# Without PAE, i386's huge pages are 4 MiB.
i386/hugetlb)
	machine="-machine pc" append="hugepages=512" mem=3072 ;;
arm64/plain)
	machine="-machine virt,gic-version=3,highmem=off" append="" ;;
arm64/swiotlb)
	machine="-machine virt,gic-version=3,highmem=off" append="swiotlb=force" ;;
arm64/hugetlb)
	machine="-machine virt,gic-version=3,highmem=off" append="hugepages=1024"
	mem=3072 ;;
*)	echo "qemu.sh: no pass ${QEMU_PASS:-plain} on ${ARCH:-x86_64}" >&2
	exit 2 ;;
esac

stdio_port="-serial mon:stdio"
if [ "${ARCH:-x86_64}" = arm64 ]; then
	qemu="qemu-system-aarch64 -cpu cortex-a57"
	cmdline="console=ttyAMA0"
	# virt has one UART: the results channel is a virtio console.
	results_port="-device virtio-serial-pci,addr=07.0 -chardev file,id=results,path=$results -device virtconsole,chardev=results"
	# The kernel keeps the UART, which works from the first message; the
	# story takes a second virtio console, there by the time init runs.
	if [ "$quiet" = 1 ]; then
		cmdline="console=ttyAMA0 testbed_story=hvc1"
		stdio_port="-serial file:$kernel_log"
		results_port="$results_port -chardev stdio,id=story -device virtconsole,chardev=story"
	fi
else
	qemu=qemu-system-x86_64
	cmdline="console=ttyS0 acpi=noirq"
	results_port="-serial file:$results"
	if [ "$quiet" = 1 ]; then
		cmdline="console=ttyS2 acpi=noirq testbed_story=ttyS0"
		results_port="$results_port -serial file:$kernel_log"
	fi
fi
# The guest's init sends its diagnostics (kmemleak) to the kernel log.
[ "$quiet" = 1 ] && cmdline="$cmdline printk.devkmsg=on"
[ "$quiet" = 1 ] || kernel_log=$console

# $qemu, $machine, $stdio_port and $results_port are split on purpose
# (the IOMMU must come before the devices).
# shellcheck disable=SC2086
set -- $qemu \
	-nodefaults -no-user-config \
	$machine -accel tcg -m $mem -smp 2 \
	-nographic -no-reboot -nic none \
	$stdio_port $results_port \
	-kernel "$kernel" -initrd "$initrd" \
	-append "$cmdline panic=-1 no_timer_check kunit.enable=0 edu_dmabuf.dma_bits=00:05.0=32 $vivid cma=64M testbed_pass=${QEMU_PASS:-plain} $append ${GUEST_APPEND:-}" \
	-device edu,addr=04.0 \
	-device edu,dma_mask=0xffffffff,addr=05.0 \
	-object memory-backend-file,id=ivshmem,size=64M,share=on,mem-path="$logdir/ivshmem.bin" \
	-device ivshmem-plain,memdev=ivshmem,addr=06.0

scan() {
	[ "${QEMU_SCAN:-1}" = 1 ] || return 0
	python3 "$(dirname "$0")/results.py" splats "$kernel_log" guest
}

# QEMU_QUIET=1: stdout from the guest init's first line on, without the
# firmware's banner and screen controls before it.
story() {
	if [ "$quiet" = 1 ]; then
		awk '!p && /guest: kernel/ { sub(/.*guest: kernel/, "guest: kernel"); p = 1 }
		     p { print; fflush() }'
	else
		cat
	fi
}

# QEMU_QUIET=1: where the kernel's messages went, and on failure what they
# were from the start of init (or all of them, if init never started).
show_kernel_log() {
	[ "$quiet" = 1 ] || return 0
	echo "harness: kernel log: $kernel_log"
	[ "$1" -eq 0 ] && return 0
	echo "harness: the kernel's messages, from the start of init:"
	awk 'NR == FNR { if (/Run \/init as init process/) from = FNR; next }
	     FNR >= from' "$kernel_log" "$kernel_log" 2>/dev/null | tr -d '\r'
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
	tee "$console" | story
qemu_status=$(cat "$status_file")
rm -f "$status_file"

if [ "$qemu_status" -eq 124 ] || [ "$qemu_status" -eq 137 ]; then
	show_kernel_log 124
	echo "harness: the guest did not power off within ${timeout_s}s (GUEST_TIMEOUT); killed it" >&2
	exit 124
fi

status=$(sed -n 's/^GUEST-EXIT: \([0-9]*\).*/\1/p' "$results" 2>/dev/null | tail -n 1)
if [ -z "$status" ]; then
	show_kernel_log 125
	echo "harness: the guest stopped without reporting an exit status (qemu exited with $qemu_status; see $kernel_log)" >&2
	exit 125
fi
[ "$status" -eq 0 ] || echo "harness: the guest command exited with status $status" >&2
if ! scan; then
	echo "harness: the guest's kernel log ($kernel_log) holds the reports above" >&2
	[ "$status" -eq 0 ] && status=1
fi
show_kernel_log "$status"
exit "$status"
