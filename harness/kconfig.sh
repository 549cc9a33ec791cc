#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# [CROSS_COMPILE=prefix] kconfig.sh SRC OBJ ARCH FRAGMENT...
#
# Write OBJ/.config: allnoconfig with the fragments merged on top
# (KCONFIG_ALLCONFIG; a later fragment overrides an earlier one), then
# check that every symbol the fragments ask for survived; a symbol dropped
# for an unmet dependency is an error, not a silently different kernel.
# Re-running with unchanged inputs leaves the configuration, and therefore
# the build, as it was.
#
# With KCONFIG_DEFINED_ONLY=1, symbols that no Kconfig file of SRC defines
# are not checked (a prefix of the patch series, before the patch that
# adds them).
set -eu

src=$1 obj=$2 arch=$3
shift 3
mkdir -p "$obj"
# The last assignment of each symbol, in the order of the fragments.
awk '
	/^CONFIG_[A-Za-z0-9_]+=/ { sym = $0; sub(/=.*/, "", sym) }
	/^# CONFIG_[A-Za-z0-9_]+ is not set/ { sym = $2 }
	sym != "" { if (!(sym in val)) order[n++] = sym; val[sym] = $0; sym = "" }
	END { for (i = 0; i < n; i++) print val[order[i]] }
' "$@" > "$obj/.fragment"
# With the compiler of the build (CROSS_COMPILE), whose abilities some
# symbols depend on.
make -s -C "$src" O="$obj" ARCH="$arch" CROSS_COMPILE="${CROSS_COMPILE:-}" \
	KCONFIG_ALLCONFIG="$obj/.fragment" allnoconfig >/dev/null

# KCONFIG_DEFINED_ONLY=1 (make check-patches, on a prefix of the series):
# a symbol no Kconfig file of SRC defines yet is left out of the check.
defined() {
	[ "${KCONFIG_DEFINED_ONLY:-0}" = 1 ] || return 0
	sym=${1#CONFIG_}
	grep -rqE "^[[:space:]]*(menu)?config[[:space:]]+$sym\$" --include='Kconfig*' "$src"
}

bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF "$line" "$obj/.config" || ! defined "${line%%=*}" || {
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
