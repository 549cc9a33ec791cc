#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Count test results and find kernel reports in the logs of a test run.

  results.py kunit KUNIT_OUTPUT COUNTS
      Read kunit.py's output, write "passed failed skipped" to COUNTS.
  results.py selftests RESULTS_LOG COUNTS
      Read the guest's results channel (TAP between @@BEGIN/@@END markers),
      print every test's result, write the counts.
  results.py splats LOG [LABEL]
      Fail if the kernel log LOG holds a report: BUG, Oops, a WARN outside
      a declared window, KASAN, UBSAN, lockdep, kmemleak, DMA-API errors.
  results.py hostcheck RESULTS_LOG BACKING_FILE [COUNTS]
      Check, on the host, what the guest asked for with lines
      "HOST-CHECK ivshmem offset=N len=N seed=N" on its results channel:
      that the ivshmem backing file holds the edu device's pattern there.
      With COUNTS, at least one check is required, and the results are
      written there.
  results.py summary COUNTS...
      Print the one-line total; exit 1 if anything failed.

The expected-WARN convention: a test that provokes a WARN on purpose (a
kernel-API misuse check) prints a line containing "EXPECT-WARN begin"
before the call and "EXPECT-WARN end" after it. An ordinary WARN
("WARNING: CPU: ...") between the two is allowed; nothing else is, and a
lockdep, KASAN or kmemleak report is never allowed anywhere.
"""

import re
import sys

ANSI = re.compile(r'\x1b\[[0-9;]*m')


def clean(line):
    return ANSI.sub('', line).replace('\r', '').rstrip('\n')


def write_counts(path, passed, failed, skipped):
    with open(path, 'w') as f:
        f.write(f'{passed} {failed} {skipped}\n')


def kunit(output, counts):
    summary = None
    with open(output, errors='replace') as f:
        for line in f:
            m = re.search(r'Testing complete\. Ran (\d+) tests?:?(.*)$', clean(line))
            if m:
                summary = m
    if not summary:
        print('kunit: no summary line in kunit.py output: counted as one failure')
        write_counts(counts, 0, 1, 0)
        return 1
    fields = dict((k, int(v)) for k, v in re.findall(r'(\w+): (\d+)', summary.group(2)))
    passed = fields.get('passed', 0)
    failed = fields.get('failed', 0) + fields.get('crashed', 0) + fields.get('errors', 0)
    skipped = fields.get('skipped', 0)
    if passed + failed + skipped == 0:
        print('kunit: no test ran: counted as one failure')
        failed = 1
    write_counts(counts, passed, failed, skipped)
    return 1 if failed else 0


RESULT = re.compile(r'^(not ok|ok) (\d+)\s*-?\s*(.*)$')
PLAN = re.compile(r'^1\.\.(\d+)')


def selftests(log, counts):
    passed = failed = skipped = 0
    current = None
    seen = plan = 0
    prog_failed = False

    def close(name, status):
        nonlocal failed
        problems = []
        if status not in (0, 4):    # 4: KSFT_SKIP
            if not prog_failed:
                problems.append(f'exited with status {status}')
        if plan and seen < plan:
            problems.append(f'reported {seen} of {plan} planned results')
        if not plan and not seen:
            problems.append('reported no results')
        if problems:
            print(f'not ok {name}: ' + '; '.join(problems))
            failed += 1

    try:
        lines = open(log, errors='replace').read().splitlines()
    except FileNotFoundError:
        lines = []
    for raw in lines:
        line = clean(raw)
        if line.startswith('@@BEGIN '):
            current = line.split()[1]
            seen = plan = 0
            prog_failed = False
            continue
        if line.startswith('@@END ') and current:
            parts = line.split()
            status = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else -1
            close(current, status)
            current = None
            continue
        if current is None:
            continue
        m = PLAN.match(line)
        if m:
            plan = int(m.group(1))
            continue
        m = RESULT.match(line)
        if not m:
            continue
        seen += 1
        verdict, desc = m.group(1), m.group(3)
        if '# SKIP' in desc.upper():
            skipped += 1
            print(f'SKIP    {current}: {desc}')
        elif verdict == 'ok':
            passed += 1
            print(f'PASS    {current}: {desc}')
        else:
            failed += 1
            prog_failed = True
            print(f'FAIL    {current}: {desc}')
    if current is not None:
        print(f'not ok {current}: did not finish (guest stopped)')
        failed += 1
    if passed + failed + skipped == 0:
        print('selftests: no results on the results channel: counted as one failure')
        failed = 1
    write_counts(counts, passed, failed, skipped)
    return 1 if failed else 0


# Reports that are never acceptable.
FATAL = [
    'BUG:', 'kernel BUG at', 'Oops', 'general protection fault',
    'Kernel panic', 'KASAN:', 'UBSAN:', 'possible circular locking',
    'possible recursive locking', 'inconsistent lock state',
    'DEBUG_LOCKS_WARN_ON', 'lockdep is turned off', 'unreferenced object',
    'suspected memory leak', 'INFO: task', 'stack-protector',
]
WARN = re.compile(r'WARNING: CPU: \d+ PID: \d+ at ')
DMA_API = re.compile(r'guest: dma-api errors: (\d+)')


def splats(log, label):
    bad = []
    window = 0
    with open(log, errors='replace') as f:
        for no, raw in enumerate(f, 1):
            line = clean(raw)
            if 'EXPECT-WARN begin' in line:
                window += 1
                continue
            if 'EXPECT-WARN end' in line:
                window = max(0, window - 1)
                continue
            if any(p in line for p in FATAL):
                bad.append((no, line))
            elif WARN.search(line) and not window:
                bad.append((no, line))
            else:
                m = DMA_API.search(line)
                if m and int(m.group(1)):
                    bad.append((no, line))
    for no, line in bad[:20]:
        print(f'{label}: {log}:{no}: {line.strip()}')
    if bad:
        print(f'{label}: {len(bad)} kernel report(s) in {log}: counted as one failure')
        return 1
    return 0


HOST_CHECK = re.compile(r'HOST-CHECK ivshmem offset=(\d+) len=(\d+) seed=(\d+)')


def edu_pattern(seed, i):
    """Byte i of the edu device's pattern (edu_dmabuf_pattern() in the uapi)."""
    x = (seed + (i & 0xffffffff) * 0x9e3779b1) & 0xffffffff
    x ^= x >> 15
    x = (x * 0x2c1b3c6d) & 0xffffffff
    x ^= x >> 12
    return x & 0xff


def hostcheck(log, backing, counts=None):
    passed = failed = 0
    try:
        requests = [HOST_CHECK.search(clean(line)) for line in open(log, errors='replace')]
    except FileNotFoundError:
        requests = []
    for m in filter(None, requests):
        offset, length, seed = (int(g) for g in m.groups())
        try:
            with open(backing, 'rb') as f:
                f.seek(offset)
                data = f.read(length)
        except OSError as e:
            data = b''
            print(f'host check: {backing}: {e}')
        bad = [i for i in range(length)
               if i >= len(data) or data[i] != edu_pattern(seed, i)]
        where = f'{length} bytes at offset {offset} of {backing}'
        if bad:
            print(f'FAIL    host check: {where}: {len(bad)} bytes differ from the '
                  f'device\'s pattern (seed {seed}), first at +{bad[0]}')
            failed += 1
        else:
            print(f'PASS    host check: {where} hold exactly the pattern the edu '
                  f'device wrote into the guest\'s BAR (seed {seed})')
            passed += 1
    if counts is not None:
        if passed + failed == 0:
            print('FAIL    host check: the guest asked for none (ivshmem-host did not run?)')
            failed = 1
        write_counts(counts, passed, failed, 0)
    return 1 if failed else 0


def summary(paths):
    passed = failed = skipped = 0
    for p in paths:
        try:
            a, b, c = (int(x) for x in open(p).read().split())
        except (OSError, ValueError):
            print(f'summary: {p} missing: counted as one failure')
            a, b, c = 0, 1, 0
        passed, failed, skipped = passed + a, failed + b, skipped + c
    line = f'{passed} passed, {failed} failed'
    if skipped:
        line += f', {skipped} skipped'
    print(line)
    return 1 if failed else 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ''
    if cmd == 'kunit' and len(argv) == 4:
        return kunit(argv[2], argv[3])
    if cmd == 'selftests' and len(argv) == 4:
        return selftests(argv[2], argv[3])
    if cmd == 'splats' and len(argv) in (3, 4):
        return splats(argv[2], argv[3] if len(argv) == 4 else 'log')
    if cmd == 'hostcheck' and len(argv) in (4, 5):
        return hostcheck(argv[2], argv[3], argv[4] if len(argv) == 5 else None)
    if cmd == 'summary' and len(argv) > 2:
        return summary(argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
