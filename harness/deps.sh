#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# deps.sh [check] ARCH BUILD
#
# Install the Debian packages the project needs (as root on Debian, with
# apt-get); anywhere else print the exact list and fail. With "check", only
# report what is missing, without installing.
#
# ARCH=i386 and ARCH=arm64 also need a busybox of that architecture for
# the guest: busybox-static of another architecture cannot be installed
# beside the amd64 one, so its .deb is downloaded and unpacked into
# BUILD/deps/ARCH. So are Debian's v4l-utils of that architecture and
# every package it depends on (its libraries, the C and C++ runtimes),
# which the guest's v4l2-checks runs. ARCH=arm64 needs Debian's cross
# compiler and qemu-system-aarch64 too.
set -eu

check=0
if [ "${1:-}" = check ]; then
	check=1
	shift
fi
arch=${1:-x86_64}
build=${2:-build}

pkgs="linux-source-6.12 qemu-system-x86 gcc make flex bison bc libelf-dev
libssl-dev cpio python3 python3-ply python3-git sparse busybox-static rsync
kmod xz-utils libc6-dev perl git python3-sphinx patch v4l-utils trinity"
[ "$arch" = i386 ] && pkgs="$pkgs gcc-multilib"
[ "$arch" = arm64 ] && pkgs="$pkgs gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done

foreign_busybox=$build/deps/$arch/bin/busybox
foreign_v4l2=$build/deps/$arch/usr/bin/v4l2-compliance
need_busybox=0 need_v4l2=0
[ "$arch" != x86_64 ] && [ ! -x "$foreign_busybox" ] && need_busybox=1
[ "$arch" != x86_64 ] && [ ! -x "$foreign_v4l2" ] && need_v4l2=1

[ -z "$missing" ] && [ $need_busybox -eq 0 ] && [ $need_v4l2 -eq 0 ] && exit 0

if [ $check -eq 1 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	[ $need_busybox -eq 1 ] && echo "deps: missing the $arch busybox ($foreign_busybox)" >&2
	[ $need_v4l2 -eq 1 ] && echo "deps: missing the $arch v4l-utils ($foreign_v4l2)" >&2
	echo "deps: run 'make deps' (as root on Debian 12)" >&2
	exit 1
fi

if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ] || ! command -v apt-get >/dev/null; then
	echo "deps: this needs root on Debian 12 to install packages with apt-get." >&2
	echo "deps: install these yourself:$missing" >&2
	[ $need_busybox -eq 1 ] && echo "deps: and busybox-static:$arch unpacked into $build/deps/$arch" >&2
	[ $need_v4l2 -eq 1 ] && echo "deps: and v4l-utils:$arch with its dependencies unpacked into $build/deps/$arch" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	apt-get update -q || true
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi

if [ $need_busybox -eq 1 ] || [ $need_v4l2 -eq 1 ]; then
	if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
		dpkg --add-architecture "$arch"
	fi
	# An index that fails to download (a mirror mid-sync) is not fatal
	# if the ones the packages come from arrived.
	apt-get update -q || echo "deps: apt-get update reported errors; trying the download anyway"
	debs="busybox-static:$arch"
	# v4l-utils and what it depends on, recursively: only packages
	# (virtual ones and alternatives print indented or in <>).
	[ $need_v4l2 -eq 1 ] && debs="$debs $(apt-cache depends --recurse \
		--no-recommends --no-suggests --no-conflicts --no-breaks \
		--no-replaces --no-enhances "v4l-utils:$arch" |
		grep "^[a-z0-9].*:$arch\$" | sort -u)"
	tmp=$(mktemp -d)
	# shellcheck disable=SC2086
	(cd "$tmp" && apt-get download $debs)
	mkdir -p "$build/deps/$arch"
	for deb in "$tmp"/*.deb; do
		dpkg-deb -x "$deb" "$build/deps/$arch"
	done
	rm -rf "$tmp"
	[ -x "$foreign_busybox" ] && [ -x "$foreign_v4l2" ]
fi
