#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# kconfig.sh SRC OBJ ARCH FRAGMENT...
#
# Write OBJ/.config: allnoconfig with the fragments merged on top
# (KCONFIG_ALLCONFIG), then check that every symbol a fragment asks for
# survived; a symbol dropped for an unmet dependency is an error, not a
# silently different kernel. Re-running with unchanged inputs leaves the
# configuration, and therefore the build, as it was.
set -eu

src=$1 obj=$2 arch=$3
shift 3
mkdir -p "$obj"
cat "$@" > "$obj/.fragment"
make -s -C "$src" O="$obj" ARCH="$arch" KCONFIG_ALLCONFIG="$obj/.fragment" \
	allnoconfig >/dev/null

bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF "$line" "$obj/.config" || {
			echo "kconfig: $line did not survive (got: $(grep "^${line%%=*}=" "$obj/.config" || echo 'not set'))" >&2
			bad=1
		} ;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym%% *}
		if grep -q "^$sym=" "$obj/.config"; then
			echo "kconfig: $sym should be unset" >&2
			bad=1
		fi ;;
	esac
done < "$obj/.fragment"
[ $bad -eq 0 ] || { echo "kconfig: fragments $* do not apply to $arch" >&2; exit 1; }
