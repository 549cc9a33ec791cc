#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# check.sh PROJECT SRC KOBJ ARCH
#
# The quality gates over every C file and header of the project:
#   - the base tree's scripts/checkpatch.pl --strict -f: no ERROR, no
#     WARNING (CHECKs are shown; each one kept is justified in the commit
#     that adds it);
#   - scripts/kernel-doc -none -Wall: no output at all;
#   - a C=2 W=1 build of the project's kernel objects (sparse on every
#     file, extra compiler warnings): no warning in a project file.
set -u

# checkpatch's SPDX check runs scripts/spdxcheck.py with the python3 on
# PATH; it needs Debian's python3-ply and python3-git, which only the
# system interpreter has.
PATH=/usr/bin:$PATH

project=$1 src=$2 kobj=$3 arch=$4
cd "$project" || exit 1
files=$(git ls-files -co --exclude-standard -- '*.c' '*.h' | grep -v '^harness/' | sort)
[ -n "$files" ] || { echo "check: no C files"; exit 1; }
fail=0

# checkpatch validates SPDX tags only in a git checkout of a kernel tree,
# and the base tree is a tarball. A git repository in it would change the
# kernel's release string (scripts/setlocalversion), so checkpatch gets a
# root of its own: links to the base tree, and LICENSES/ committed once.
root=$(dirname "$kobj")/../checkpatch-root
if [ ! -d "$root/.git" ]; then
	rm -rf "$root"
	mkdir -p "$root"
	for f in "$src"/*; do
		[ "$(basename "$f")" = LICENSES ] || ln -s "$f" "$root/"
	done
	cp -r "$src/LICENSES" "$root/"
	git -C "$root" init -q
	git -C "$root" add LICENSES
	git -C "$root" -c user.name=check -c user.email=check@localhost \
		commit -q -m "LICENSES of the base tree"
fi

echo "=== checkpatch --strict ==="
# shellcheck disable=SC2086
out=$(perl "$src/scripts/checkpatch.pl" --root="$root" --strict -f --terse \
	--no-summary --show-types $files 2>&1)
[ -n "$out" ] && echo "$out"
if echo "$out" | grep -qE ': (ERROR|WARNING):'; then
	echo "check: checkpatch found errors or warnings"
	fail=1
fi

echo "=== kernel-doc -Wall ==="
# shellcheck disable=SC2086
out=$(perl "$src/scripts/kernel-doc" -none -Wall $files 2>&1)
if [ -n "$out" ]; then
	echo "$out"
	echo "check: kernel-doc warnings"
	fail=1
fi

echo "=== sparse (C=2) and W=1 ==="
dirs=$(echo "$files" | grep -E '^drivers/.*\.c$' | xargs -n1 dirname | sort -u | sed 's|$|/|')
# shellcheck disable=SC2086
out=$(make -s -C "$src" O="$kobj" ARCH="$arch" C=2 W=1 $dirs 2>&1)
status=$?
out=$(echo "$out" | sed "s|^$src/||; s|^\\.\\./src/||")
# Only findings in the project's own files count; report them with the
# project-relative path.
mine=$(echo "$out" | grep -E "^($(echo "$files" | sed 's/[.]/\\./g' | paste -sd'|')):[0-9]+" || true)
if [ $status -ne 0 ]; then
	echo "$out"
	echo "check: the C=2 W=1 build failed"
	fail=1
elif [ -n "$mine" ]; then
	echo "$mine"
	echo "check: sparse or W=1 warnings"
	fail=1
fi

[ $fail -eq 0 ] && echo "check: clean ($(echo "$files" | wc -l) files)"
exit $fail
