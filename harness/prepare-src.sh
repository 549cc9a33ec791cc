#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# prepare-src.sh PROJECT BUILD_SRC [KERNEL_SRC]
#
# Make BUILD_SRC a copy of the base tree with the project overlaid on it.
#
# The base tree is unpacked once from Debian's linux-source-6.12 tarball or,
# when KERNEL_SRC names a tree the user already has, hard-linked from it
# (cp -al; every write below replaces files instead of writing into them, so
# the user's tree is never modified).
#
# The overlay only touches files whose contents changed, so kbuild rebuilds
# only what depends on them. Paths the project owns are mirrored exactly:
# a file in an owned path that the project does not have (a base-tree file,
# or one the project deleted since the last overlay) is removed.
set -eu

project=$1
dst=$2
ksrc=${3:-}
tarball=/usr/src/linux-source-6.12.tar.xz

# Directories that belong to the project entirely.
owned_dirs="drivers/dma-buf tools/testing/selftests/dma-buf"
# Single files the project owns even where the base tree has its own.
owned_files="include/linux/dma-buf.h include/linux/dma-heap.h
include/uapi/linux/dma-buf.h include/uapi/linux/dma-heap.h
include/uapi/linux/udmabuf.h"
# Top-level directories of the project that mirror the kernel tree.
tree_dirs="drivers include Documentation tools"

log() { echo "overlay: $*"; }

if [ ! -f "$dst/Makefile" ]; then
	mkdir -p "$(dirname "$dst")"
	rm -rf "$dst.tmp"
	if [ -n "$ksrc" ]; then
		[ -f "$ksrc/Makefile" ] || { echo "KERNEL_SRC=$ksrc is not a kernel tree" >&2; exit 1; }
		log "linking base tree from $ksrc"
		cp -al "$ksrc" "$dst.tmp" 2>/dev/null || cp -a "$ksrc" "$dst.tmp"
		# A tree the user configured in place cannot take O= builds.
		rm -f "$dst.tmp/.config"
	else
		[ -f "$tarball" ] || { echo "$tarball missing: run 'make deps'" >&2; exit 1; }
		log "unpacking $tarball (about a minute, once)"
		mkdir -p "$dst.tmp"
		tar -xJf "$tarball" -C "$dst.tmp" --strip-components=1
	fi
	# Record the pristine top-level Kconfig before the overlay extends it.
	cp "$dst.tmp/Kconfig" "$dst.tmp/Kconfig.base"
	mv "$dst.tmp" "$dst"
fi

version=$(make -s -C "$dst" kernelversion 2>/dev/null)
log "base tree $version at $dst"

# rsync -c compares contents and writes changed files through a temporary
# file and rename(2): unchanged files keep their mtime, hard links to
# KERNEL_SRC are broken rather than written through.
put() { rsync -rc --no-perms --chmod=ugo=rwX "$@"; }

manifest="$dst/.project-files"
new_manifest="$dst/.project-files.new"
: > "$new_manifest"

for d in $owned_dirs; do
	if [ -d "$project/$d" ]; then
		mkdir -p "$dst/$d"
		put --delete "$project/$d/" "$dst/$d/"
	else
		rm -rf "${dst:?}/$d"
	fi
done

for f in $owned_files; do
	[ -f "$project/$f" ] || rm -f "${dst:?}/$f"
done

# Every other project file under the kernel-tree directories.
(cd "$project" && git ls-files -co --exclude-standard -- $tree_dirs 2>/dev/null ||
	find $tree_dirs -type f 2>/dev/null) | while read -r f; do
	[ -f "$project/$f" ] || continue
	for d in $owned_dirs; do
		case "$f" in "$d"/*) continue 2 ;; esac
	done
	echo "$f" >> "$new_manifest"
	mkdir -p "$dst/$(dirname "$f")"
	put "$project/$f" "$dst/$f"
done

# Files an earlier overlay placed that the project no longer has.
if [ -f "$manifest" ]; then
	sort "$manifest" > "$manifest.old"
	sort "$new_manifest" > "$new_manifest.sorted"
	comm -23 "$manifest.old" "$new_manifest.sorted" | while read -r f; do
		log "removing $f (deleted from the project)"
		rm -f "${dst:?}/$f"
	done
	rm -f "$manifest.old" "$new_manifest.sorted"
fi
mv "$new_manifest" "$manifest"

# Base-tree files the project changes without owning them (videobuf2's
# allocators, ported to this dma-buf API): the git patches in patches/,
# applied in the order of their paths to the pristine files. A file keeps
# its pristine copy in .pristine-orig/ while a patch touches it, and gets
# it back once none does; a file a patch creates goes when the patch goes.
# Patched files are rewritten only when their contents change.
orig=$dst/.pristine-orig
stage=$dst/.patch-stage
plist=$dst/.patched-files
patches=$(cd "$project" && find patches -name '*.patch' 2>/dev/null | LC_ALL=C sort)
for p in $patches; do
	sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$project/$p"
done | LC_ALL=C sort -u > "$plist.new"
while read -r f; do
	for d in $owned_dirs $owned_files; do
		case "$f" in "$d" | "$d"/*)
			echo "patches/: $f belongs to the project: change it there" >&2
			exit 1 ;;
		esac
	done
	if grep -qxF "$f" "$manifest"; then
		echo "patches/: $f is a file of the project: change it there" >&2
		exit 1
	fi
done < "$plist.new"
# Files no patch touches any more: pristine again.
if [ -f "$plist" ]; then
	LC_ALL=C sort "$plist" | LC_ALL=C comm -23 - "$plist.new" | while read -r f; do
		if [ -f "$orig/$f" ]; then
			put "$orig/$f" "$dst/$f"
		else
			rm -f "${dst:?}/$f"
		fi
		rm -f "$orig/$f" "$orig/$f.created"
		log "$f: pristine again"
	done
fi
rm -rf "$stage"
mkdir -p "$stage"
while read -r f; do
	if [ ! -e "$orig/$f" ] && [ ! -e "$orig/$f.created" ]; then
		mkdir -p "$orig/$(dirname "$f")"
		if [ -f "$dst/$f" ]; then
			cp "$dst/$f" "$orig/$f"
		else
			: > "$orig/$f.created"
		fi
	fi
	if [ -f "$orig/$f" ]; then
		mkdir -p "$stage/$(dirname "$f")"
		cp "$orig/$f" "$stage/$f"
	fi
done < "$plist.new"
for p in $patches; do
	if ! patch -p1 -s -f --no-backup-if-mismatch -d "$stage" \
		-i "$project/$p" >"$stage/.log" 2>&1; then
		cat "$stage/.log" >&2
		echo "patches/: $p does not apply to the pristine files" >&2
		exit 1
	fi
done
while read -r f; do
	if [ -f "$stage/$f" ]; then
		mkdir -p "$dst/$(dirname "$f")"
		put "$stage/$f" "$dst/$f"
	else
		rm -f "${dst:?}/$f"
	fi
done < "$plist.new"
rm -rf "$stage"
mv "$plist.new" "$plist"
[ -z "$patches" ] || log "$(echo "$patches" | wc -l) patches applied to base-tree files"

# The project's configuration menu, sourced from the base top-level Kconfig.
put "$project/Kconfig" "$dst/Kconfig.project"
{
	cat "$dst/Kconfig.base"
	echo
	echo 'source "Kconfig.project"'
} > "$dst/Kconfig.new"
if cmp -s "$dst/Kconfig.new" "$dst/Kconfig"; then
	rm "$dst/Kconfig.new"
else
	mv "$dst/Kconfig.new" "$dst/Kconfig"
fi

echo "$version" > "$dst/.base-version"
