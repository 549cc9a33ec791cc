#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""doc-coverage.py PROJECT [--html DIR]

Every symbol the core exports (EXPORT_SYMBOL or EXPORT_SYMBOL_GPL in
drivers/dma-buf/*.c) must be in the API pages: it has a kernel-doc comment
("name() - ..."), and some ".. kernel-doc::" directive of the project's
Documentation/ pulls it in (its file with :export:, or its name in
:functions: or :identifiers:, or its file with no option at all). With
--html, the rendered pages (make docs) must also carry its C declaration
(an element with id "c.<name>").

Prints what is missing and exits 1, or says how many symbols it checked.
"""

import glob
import os
import re
import sys

EXPORT = re.compile(r'^EXPORT_SYMBOL(?:_GPL)?\((\w+)\);', re.M)
DIRECTIVE = re.compile(r'^\.\. kernel-doc::\s*(\S+)\s*$')
OPTION = re.compile(r'^\s+:(\w+):\s*(.*)$')


def directives(project):
    """(file, {option: value}) for every kernel-doc directive."""
    found = []
    for rst in glob.glob(os.path.join(project, 'Documentation', '**', '*.rst'),
                         recursive=True):
        with open(rst, encoding='utf-8') as f:
            lines = f.read().splitlines()
        for i, line in enumerate(lines):
            m = DIRECTIVE.match(line)
            if not m:
                continue
            opts = {}
            for nxt in lines[i + 1:]:
                o = OPTION.match(nxt)
                if not o:
                    break
                opts[o.group(1)] = o.group(2)
            found.append((m.group(1), opts))
    return found


def covered(name, path, found):
    for file, opts in found:
        listed = (opts.get('functions', '') + ' ' +
                  opts.get('identifiers', '')).split()
        if name in listed:
            return True
        if file != path:
            continue
        if 'export' in opts:
            # ":export:" alone means this file's exports.
            if not opts['export'].strip() or path in opts['export'].split():
                return True
        if not opts:
            return True
    return False


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    project = args[0]
    html = args[2] if len(args) > 2 and args[1] == '--html' else None

    found = directives(project)
    pages = ''
    if html:
        for page in glob.glob(os.path.join(html, '**', '*.html'),
                              recursive=True):
            with open(page, encoding='utf-8') as f:
                pages += f.read()

    missing = []
    checked = 0
    for path in sorted(glob.glob(os.path.join(project, 'drivers', 'dma-buf',
                                              '*.c'))):
        rel = os.path.relpath(path, project)
        with open(path, encoding='utf-8') as f:
            text = f.read()
        for name in EXPORT.findall(text):
            checked += 1
            if not re.search(r'/\*\*\n \* ' + re.escape(name) + r'\(\) - ',
                             text):
                missing.append(f'{rel}: {name}() has no kernel-doc comment')
            elif not covered(name, rel, found):
                missing.append(f'{rel}: {name}() is in no .. kernel-doc:: '
                               'directive of Documentation/')
            elif html and f'id="c.{name}"' not in pages:
                missing.append(f'{rel}: {name}() is not in the HTML pages '
                               f'under {html}')
    for m in missing:
        print(f'doc-coverage: {m}')
    if missing:
        return 1
    print(f'doc-coverage: {checked} exported symbols of the core, all in the '
          f'API pages{" (HTML checked)" if html else ""}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
