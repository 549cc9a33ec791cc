#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# no-rebuild.sh PROJECT TREE ARCH
#
# With nothing changed, building a guest kernel again compiles nothing.
# For the normal and the debug guest kernel of ARCH (in TREE/ARCH/guest
# and TREE/ARCH-debug/guest): make kernel (a no-op when make test has
# built it), then make kernel again, which must leave every object,
# archive, module and vmlinux as it was. Lists what was made again and
# fails if anything was.
set -u

project=$1 tree=$2 arch=$3
fail=0
for debug in 0 1; do
	obj=$tree/$arch$([ $debug = 1 ] && echo -debug)/guest
	build() {
		make -C "$project" --no-print-directory ARCH="$arch" \
			DEBUG=$debug kernel >/dev/null 2>&1
	}
	build || { echo "no-rebuild: the build of $obj failed"; fail=1; continue; }
	stamp=$(mktemp)
	sleep 1
	build || { echo "no-rebuild: the second build of $obj failed"; fail=1; }
	made=$(find "$obj" -newer "$stamp" \( -name '*.o' -o -name '*.a' -o \
		-name '*.ko' -o -name vmlinux \) | sed "s|^$obj/||" | sort)
	rm -f "$stamp"
	if [ -n "$made" ]; then
		echo "$made" | head -20
		echo "no-rebuild: $(echo "$made" | wc -l) files of $obj made again with nothing changed"
		fail=1
	else
		echo "no-rebuild: $obj: a second build made nothing"
	fi
done
exit $fail
