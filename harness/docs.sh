#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# docs.sh SRC PROJECT OUT
#
# Render the project's documentation to HTML with the base tree's Sphinx
# setup (Documentation/conf.py and its extensions: kernel-doc, automarkup,
# cdomain), as make htmldocs would, but only the project's documents:
# Documentation/driver-api/dma-buf.rst and the project's pages of
# Documentation/userspace-api/, under an index of their own. The kernel-doc
# comments come from the overlaid tree SRC. The HTML lands in OUT/html
# (OUT/html/index.html).
#
# Fails if Sphinx or kernel-doc warns about anything (every document
# rendered is the project's), or if an exported symbol of the core is
# missing from the API pages (doc-coverage.py).
set -eu

src=$(cd "$1" && pwd) project=$(cd "$2" && pwd) out=$3
mkdir -p "$out"
out=$(cd "$out" && pwd)

command -v sphinx-build >/dev/null || {
	echo "docs: sphinx-build missing: run 'make deps' (python3-sphinx)" >&2
	exit 1
}

stage=$out/rst
rm -rf "$stage" "$out/html" "$out/doctrees"
mkdir -p "$stage"
docs=$(cd "$project/Documentation" && find . -name '*.rst' | sed 's|^\./||' | sort)
for f in $docs; do
	mkdir -p "$stage/$(dirname "$f")"
	cp "$project/Documentation/$f" "$stage/$f"
done
{
	echo "========================================"
	echo "dma-buf: sharing buffers between drivers"
	echo "========================================"
	echo
	echo "The dma-buf subsystem as designed on the kernel mailing lists in"
	echo "2011 and 2012: the kernel interface for exporters and importers,"
	echo "and the file interface userspace sees."
	echo
	echo ".. toctree::"
	echo "   :maxdepth: 2"
	echo
	for f in $docs; do
		echo "   ${f%.rst}"
	done
} > "$stage/index.rst"

log=$out/sphinx.log
version=$(cat "$src/.base-version")
# The base tree's conf.py finds its extensions relative to the working
# directory, as under make htmldocs.
status=0
(cd "$src/Documentation" &&
	PYTHONDONTWRITEBYTECODE=1 sphinx-build -q -b html -c . \
		-d "$out/doctrees" \
		-D version="$version" -D release="$version" \
		-D kerneldoc_srctree="$src" \
		-D kerneldoc_bin="$src/scripts/kernel-doc" \
		"$stage" "$out/html") > "$log" 2>&1 || status=$?
cat "$log"
if [ $status -ne 0 ]; then
	echo "docs: sphinx-build failed ($status)" >&2
	exit 1
fi
# Warnings about the project's documents or sources fail; those about the
# machine (no graphviz for kfigure, say) are only shown.
if grep -i -E 'warning|error' "$log" |
   grep -q -E "$stage|kernel-doc|drivers/dma-buf|include/(uapi/)?linux/(dma-|udmabuf|edu-)"; then
	echo "docs: Sphinx or kernel-doc warned about the project's documentation (above)" >&2
	exit 1
fi
python3 "$project/harness/doc-coverage.py" "$project" --html "$out/html"
echo "docs: $out/html/index.html"
