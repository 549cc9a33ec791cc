#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""coverage.py RESULTS_LOG SRC OBJ [FILE...]

Rebuild the gcov counter files the guest sent (dump-gcov) next to the
objects of OBJ/drivers/dma-buf, one set per label, and print the line
coverage gcov reports for each FILE (default: dma-buf.c) under each label.
"""

import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    log, src, obj = argv[1:4]
    files = argv[4:] or ['dma-buf.c']
    dumps, current, lines = {}, None, []
    for raw in open(log, errors='replace'):
        line = raw.replace('\r', '').strip()
        m = re.match(r'@@GCDA (\S+) (\S+)$', line)
        if m:
            current, lines = (m.group(1), m.group(2)), []
        elif line == '@@END' and current:
            dumps.setdefault(current[0], {})[current[1]] = base64.b64decode(''.join(lines))
            current = None
        elif current:
            lines.append(line)
    if not dumps:
        print('coverage: no counters came back from the guest')
        return 1

    objdir = os.path.join(obj, 'drivers', 'dma-buf')
    status = 0
    for label, gcdas in dumps.items():
        for name, data in gcdas.items():
            with open(os.path.join(objdir, name), 'wb') as f:
                f.write(data)
        with tempfile.TemporaryDirectory() as tmp:
            for name in files:
                out = subprocess.run(['gcov', '-o', objdir,
                                      os.path.join(src, 'drivers', 'dma-buf', name)],
                                     cwd=tmp, capture_output=True, text=True).stdout
                m = re.search(r"File '[^']*" + re.escape(name) +
                              r"'\nLines executed:([\d.]+)% of (\d+)", out)
                if m:
                    print(f'coverage ({label}): {name}: {m.group(1)}% of {m.group(2)} lines')
                    report = os.path.join(tmp, name + '.gcov')
                    if os.path.exists(report):
                        shutil.copy(report, os.path.join(obj, f'{name}.{label}.gcov'))
                else:
                    print(f'coverage ({label}): {name}: no data')
                    status = 1
    print(f'annotated sources: {obj}/<file>.<label>.gcov')
    return status


if __name__ == '__main__':
    sys.exit(main(sys.argv))
