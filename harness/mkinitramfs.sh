#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# mkinitramfs.sh OUT BUSYBOX MODROOT SELFTESTS BASE_VERSION
#
# Environment: RUN_CMD_FILE (a file holding the guest command, a shell
# command line), RUN_FILES_FILE (a file holding the host files for
# /usr/local/bin, space separated), RUN_INTERACTIVE=1 (make shell).
#
# Write OUT/initrd.cpio, the guest's initramfs: two concatenated newc
# archives (the kernel unpacks both).
#   base.cpio  busybox, init, the guest scripts, the kernel modules from
#              MODROOT (modules_install output) and the selftest programs
#              in SELFTESTS (a directory with a "list" file);
#   run.cpio   this run's command (/etc/guest-cmd), the user's files in
#              /usr/local/bin and, with RUN_FUZZ=1 (make fuzz), Debian's
#              trinity with the libraries it loads.
set -eu

out=$1 busybox=$2 modroot=$3 selftests=$4 base_version=$5
cmd=true
[ -n "${RUN_CMD_FILE:-}" ] && cmd=$(cat "$RUN_CMD_FILE")
files=""
[ -n "${RUN_FILES_FILE:-}" ] && files=$(cat "$RUN_FILES_FILE")
interactive=${RUN_INTERACTIVE:-0}
fuzz=${RUN_FUZZ:-0}
here=$(cd "$(dirname "$0")/.." && pwd)

stage=$out/initramfs
rm -rf "$stage" "$out/run-stage"
mkdir -p "$stage/bin" "$stage/sbin" "$stage/etc" "$stage/usr/bin" "$stage/usr/sbin" \
	"$stage/usr/lib/dma-buf-selftests"
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
cp "$here/guest/init" "$stage/init"
# The guest's scripts (its C helpers come built, with the selftests).
for f in "$here"/guest/*; do
	case "$f" in */init | *.c) continue ;; esac
	[ -f "$f" ] && [ -x "$f" ] && cp "$f" "$stage/usr/bin/"
done
echo "$base_version" > "$stage/etc/base-version"
if [ -d "$modroot/lib/modules" ]; then
	mkdir -p "$stage/lib"
	cp -a "$modroot/lib/modules" "$stage/lib/"
	# Load every module the project builds, in dependency order, but
	# the KUnit suites' (*_kunit), which guest/kunit-modules loads.
	find "$stage/lib/modules" -name '*.ko' -exec basename {} .ko \; |
		grep -v 'test\|kunit' | sort > "$stage/etc/guest-modules"
fi
if [ -d "$selftests" ]; then
	cp -a "$selftests/." "$stage/usr/lib/dma-buf-selftests/"
	rm -rf "$stage/usr/lib/dma-buf-selftests/bin"
	[ -d "$selftests/bin" ] && cp -a "$selftests/bin/." "$stage/usr/bin/"
fi
# Real V4L2 userspace, unchanged: Debian's v4l2-compliance and v4l2-ctl
# (v4l-utils) with the shared libraries they load, at the paths the
# loader expects. For an x86_64 guest, the host's (make deps installs
# them); for i386 and arm64, those of the guest's architecture, which
# make deps ARCH=... unpacks beside its busybox (BUILD/deps/ARCH).
v4l2_root=
if [ "${ARCH:-x86_64}" = x86_64 ]; then
	[ "$(uname -m)" = x86_64 ] && v4l2_root=/
else
	v4l2_root=$(cd "$(dirname "$busybox")/.." && pwd)
fi
if [ -n "$v4l2_root" ]; then
	# What the anchor kernel fails of v4l2-compliance (guest/v4l2-checks).
	[ -f "$here/harness/v4l2-anchor.txt" ] &&
		cp "$here/harness/v4l2-anchor.txt" "$stage/etc/v4l2-anchor"
	for prog in v4l2-compliance v4l2-ctl; do
		bin=$v4l2_root/usr/bin/$prog
		[ -x "$bin" ] || { echo "mkinitramfs: $bin missing: run make deps" >&2; exit 1; }
		cp "$bin" "$stage/usr/bin/"
	done
	"$here/harness/needed-libs.sh" "$v4l2_root" "$v4l2_root/usr/bin/v4l2-compliance" \
		"$v4l2_root/usr/bin/v4l2-ctl" | while read -r lib; do
		mkdir -p "$stage/$(dirname "$lib")"
		cp -L "$v4l2_root/$lib" "$stage/$lib"
	done
fi
(cd "$stage" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) > "$out/base.cpio"

run=$out/run-stage
mkdir -p "$run/etc" "$run/usr/local/bin"
printf '%s\n' "$cmd" > "$run/etc/guest-cmd"
[ "$interactive" = 1 ] && : > "$run/etc/guest-interactive"
for f in $files; do
	[ -f "$f" ] || { echo "GUEST_FILES: $f is not a file" >&2; exit 1; }
	cp "$f" "$run/usr/local/bin/"
	chmod +x "$run/usr/local/bin/$(basename "$f")"
done
if [ "$fuzz" = 1 ]; then
	[ -x /usr/bin/trinity ] || { echo "mkinitramfs: /usr/bin/trinity missing: run make deps" >&2; exit 1; }
	mkdir -p "$run/usr/bin"
	cp /usr/bin/trinity "$run/usr/bin/"
	"$here/harness/needed-libs.sh" / /usr/bin/trinity | while read -r lib; do
		mkdir -p "$run/$(dirname "$lib")"
		cp -L "/$lib" "$run/$lib"
	done
fi
(cd "$run" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) > "$out/run.cpio"

cat "$out/base.cpio" "$out/run.cpio" > "$out/initrd.cpio"
