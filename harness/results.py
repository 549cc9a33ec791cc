#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Count test results and find kernel reports in the logs of a test run.

  results.py kunit KUNIT_OUTPUT COUNTS
      Read kunit.py's output, write "passed failed skipped" to COUNTS.
  results.py selftests RESULTS_LOG COUNTS [LABEL]
      Read the guest's results channel (TAP between @@BEGIN/@@END markers),
      print every test's result (prefixed with [LABEL], the guest pass),
      then how long the programs ran (the end markers carry it), and
      write the counts.
  results.py splats LOG [LABEL]
      Fail if the kernel log LOG holds a kernel report of any class in
      REPORT_CLASSES (BUG, Oops, panic, WARNING, KASAN/UBSAN, lockdep,
      kmemleak, DMA-API debugging, RCU stalls, scheduling while atomic,
      hung tasks and lockups, page allocation failures, OOM kills, x86 PAT
      complaints, VM_FAULT_OOM leaks) that no test declared.
  results.py hostcheck RESULTS_LOG BACKING_FILE [COUNTS [LABEL]]
      Check, on the host, what the guest asked for with lines
      "HOST-CHECK ivshmem marker=HEX at=N offset=N len=N seed=N" on its
      results channel: that the ivshmem backing file holds the marker once
      and, at OFFSET bytes past the buffer's start (AT bytes before the
      marker), LEN bytes of the edu device's pattern.
      With COUNTS, at least one check is required, and the results are
      written there.
  results.py testbed RESULTS_LOG KERNEL_LOG DEBUG COUNTS
      Check the test bed itself: the guest reported two CPUs online (and,
      with DEBUG=1, a preemptible kernel) on its results channel, and its
      kernel log says it brought up two CPUs.
  results.py stress CONSOLE_LOG [PROGRAMS]
      The verdict line of make stress: operations done, data mismatches,
      kernel reports, leaked buffers; exit 1 if any of the last three,
      or if one of the PROGRAMS kselftest programs of the run (default 1,
      dmabuf-stress; 3 with KCSAN=1) failed, passed nothing or gave no
      totals. A KCSAN report whose title and frames name nothing of the
      project's is listed, not counted.
  results.py fuzz CONSOLE_LOG
      The verdict of make fuzz (guest/fuzz-run): how many calls trinity
      ran, what the feeder made, which of the project's entry points and
      ioctls the calls reached, and the run's kernel reports; exit 1 if
      trinity ran nothing or reached none of the entry points, the feeder
      made nothing, failed or did not live to the end, or the kernel
      reported anything.
  results.py summary COUNTS...
      Print the one-line total; exit 1 if anything failed.

Declared reports: a test that provokes a report on purpose puts a line
"EXPECT-REPORT begin CLASS[,CLASS...]" into the kernel log before the call
(pr_info() in KUnit, a write to /dev/kmsg from userspace) and
"EXPECT-REPORT end CLASS[,CLASS...]" after it; "EXPECT-WARN begin|end"
declares the class "warning". Only the classes in DECLARABLE (an ordinary
WARN, a page allocation failure, an OOM kill) can be declared; every other
class is a bug wherever it appears.
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


def selftests(log, counts, label=''):
    passed = failed = skipped = 0
    current = None
    seen = plan = 0
    prog_failed = False
    where = f'[{label}] ' if label else ''
    times = {}

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
            print(f'not ok {where}{name}: ' + '; '.join(problems))
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
            if len(parts) > 3 and parts[3].isdigit():
                times[current] = int(parts[3]) / 100
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
            print(f'SKIP    {where}{current}: {desc}')
        elif verdict == 'ok':
            passed += 1
            print(f'PASS    {where}{current}: {desc}')
        else:
            failed += 1
            prog_failed = True
            print(f'FAIL    {where}{current}: {desc}')
    if current is not None:
        print(f'not ok {where}{current}: did not finish (guest stopped)')
        failed += 1
    if passed + failed + skipped == 0:
        print('selftests: no results on the results channel: counted as one failure')
        failed = 1
    if times:
        longest = sorted(times.items(), key=lambda t: -t[1])[:4]
        print(f'time    {where}{len(times)} programs, {sum(times.values()):.0f} s; '
              'longest: ' + ', '.join(f'{n} {t:.0f} s' for n, t in longest))
    write_counts(counts, passed, failed, skipped)
    return 1 if failed else 0


# Every class of kernel report the scanner knows, with the patterns that
# start one. Only the first line of a report is matched; the stack dump
# that follows is not counted again.
REPORT_CLASSES = [
    ('bug', [r'\bBUG: ', r'kernel BUG at ', r'Bad rss-counter state',
             r'list_(add|del) corruption', r'refcount_t: ']),
    ('oops', [r'\bOops\b', r'general protection fault', r'stack-protector',
              r'Unable to handle kernel', r'Internal error: ']),
    ('panic', [r'Kernel panic']),
    ('warning', [r'WARNING: CPU: \d+ PID: \d+ at ']),
    ('kasan', [r'KASAN: ', r'UBSAN: ']),
    ('lockdep', [r'possible circular locking', r'possible recursive locking',
                 r'inconsistent lock state', r'DEBUG_LOCKS_WARN_ON',
                 r'lockdep is turned off', r'suspicious RCU usage',
                 r'bad unlock balance', r'held lock freed',
                 r'possible irq lock inversion', r'lock held when returning']),
    ('kmemleak', [r'unreferenced object', r'suspected memory leak']),
    # An error names the driver and the device; the boot lines do not.
    ('dma-api', [r'DMA-API: \S+ \S+: ', r'DMA-API: .*(out of memory|ENOMEM)',
                 r'guest: dma-api errors: [1-9]']),
    ('rcu-stall', [r'rcu: INFO: ', r'INFO: \S+ (self-)?detected (expedited )?stall',
                   r'rcu_tasks\S* detected stalls']),
    ('sched-atomic', [r'scheduling while atomic', r'sleeping function called from invalid context']),
    ('hung-task', [r'INFO: task \S+ blocked for more than', r'soft lockup', r'hard LOCKUP']),
    ('page-alloc', [r'page allocation failure: ', r'vmalloc error: ',
                    r'SLUB: Unable to allocate memory']),
    ('oom', [r'invoked oom-killer', r'Out of memory: Killed process',
             r'System is deadlocked on memory']),
    ('pat', [r'x86/PAT: \S+:\d+ ', r'x86/PAT: (reserve_ram_pages_type|memtype_reserve) failed']),
    ('vm-fault-oom', [r'Huh VM_FAULT_OOM leaked out']),
]
COMPILED = [(name, re.compile('|'.join(pats))) for name, pats in REPORT_CLASSES]
# Classes a test may provoke on purpose, inside a declared window. The
# others mean a bug whoever provoked them.
DECLARABLE = {'warning', 'page-alloc', 'oom'}
DECLARE = re.compile(r'EXPECT-(REPORT|WARN) (begin|end)\b ?([\w,-]*)')


def report_class(line):
    for name, rx in COMPILED:
        if rx.search(line):
            return name
    return None


def splats(log, label):
    """Print every kernel report of LOG not declared by a test; 1 if any."""
    return 1 if count_reports(log, label) else 0


# A KCSAN report is the project's when its title or a frame of either
# stack names a function of the core, a heap, udmabuf, the edu importer or
# vb2's dma-buf code (GCC's clones, .part.N or .constprop.N, included), or
# a frame lies in a module of the project.
PROJECT_FN = (r'(?:\w*(?:dma_buf|dmabuf|dma_heap)\w*|(?:system_heap|ivshmem|edu)_\w+|'
              r'udmabuf\w*|vb2_(?:dc|dma_sg|vmalloc)_\w+|vb2_core_expbuf)(?:\.\w+)*')
PROJECT_FRAME = re.compile(r'^\s*(?:\[[^]]*\]\s*)?(?:\?\s*)?' + PROJECT_FN + r'\+0x'
                           r'|\[(system_heap|ivshmem_heap|edu_dmabuf|udmabuf)\]')
PROJECT_TITLE = re.compile(r'(?:^|[ /])' + PROJECT_FN + r'(?:$|[ /])')
KCSAN_START = re.compile(r'BUG: KCSAN: (.*)')
KCSAN_END = re.compile(r'^(\[\s*[\d.]+\]\s*)?={20,}')


def kcsan_reports(log):
    """KCSAN's reports in LOG: (line number, title, the project's?)."""
    found, current = [], None
    try:
        lines = open(log, errors='replace').readlines()
    except FileNotFoundError:
        return found
    for no, raw in enumerate(lines, 1):
        line = clean(raw)
        m = KCSAN_START.search(line)
        if m:
            title = m.group(1)
            current = [no, title, bool(PROJECT_TITLE.search(title.split(' in ', 1)[-1]))]
            found.append(current)
        elif current and KCSAN_END.search(line):
            current = None
        elif current and PROJECT_FRAME.search(line):
            current[2] = True
    return [tuple(r) for r in found]


def count_reports(log, label, skip=()):
    """Print every kernel report of LOG not declared by a test, but those
    on the lines SKIP; their number."""
    bad = []
    windows = {}
    try:
        f = open(log, errors='replace')
    except FileNotFoundError:
        print(f'{label}: {log}: no kernel log: counted as one failure')
        return 1
    with f:
        for no, raw in enumerate(f, 1):
            line = clean(raw)
            m = DECLARE.search(line)
            if m:
                kind, edge, classes = m.groups()
                names = ['warning'] if kind == 'WARN' else classes.split(',')
                for name in names:
                    if name not in DECLARABLE:
                        bad.append((no, f'a test declared report class "{name}", '
                                        f'which no test may provoke: {line}'))
                        continue
                    n = windows.get(name, 0) + (1 if edge == 'begin' else -1)
                    windows[name] = max(0, n)
                continue
            cls = report_class(line)
            if cls and not windows.get(cls) and no not in skip:
                bad.append((no, f'[{cls}] {line.strip()}'))
    for no, line in bad[:20]:
        print(f'{label}: {log}:{no}: {line}')
    if bad:
        counts = {}
        for _, line in bad:
            c = line[1:line.index(']')] if line.startswith('[') else 'declaration'
            counts[c] = counts.get(c, 0) + 1
        what = ', '.join(f'{n} {c}' for c, n in sorted(counts.items()))
        print(f'{label}: {len(bad)} kernel report(s) in {log} ({what}): counted as one failure')
    return len(bad)


TOTALS = re.compile(r'# Totals: pass:(\d+) fail:(\d+) ')
STRESS = re.compile(r'stress: (\d+) operations, (\d+) data mismatches, (-?\d+) leaked buffers')


def stress(console, programs=1):
    """The verdict of make stress: its counts and the run's kernel reports;
    PROGRAMS kselftest programs ran (dmabuf-stress included), each must
    end with a Totals line that passed something and failed nothing."""
    m = None
    try:
        for line in open(console, errors='replace'):
            m = STRESS.search(clean(line)) or m
    except FileNotFoundError:
        pass
    # Data races elsewhere in the kernel are listed, not counted: make
    # stress KCSAN=1 answers for the project's code.
    elsewhere = [r for r in kcsan_reports(console) if not r[2]]
    for no, title, _ in elsewhere:
        print(f'stress: {console}:{no}: KCSAN outside the project (not counted): {title}')
    reports = count_reports(console, 'stress', {r[0] for r in elsewhere})
    if not m:
        print(f'stress: the guest gave no result (see {console}); {reports} kernel reports')
        return 1
    ops, mismatches, leaked = (int(g) for g in m.groups())
    # make stress KCSAN=1 runs two selftest programs first: every program
    # must say it passed tests and failed none.
    failed, totals = 0, 0
    for line in open(console, errors='replace'):
        t = TOTALS.search(clean(line))
        if t:
            passed, fails = int(t.group(1)), int(t.group(2))
            totals += 1
            failed += fails or not passed
            print(f'stress: selftests: {passed} passed, {fails} failed')
    if totals != int(programs):
        print(f'stress: {totals} of {programs} selftest programs reported their totals')
        failed += 1
    print(f'stress: {ops} operations, {mismatches} data mismatches, '
          f'{reports} kernel reports, {leaked} leaked buffers')
    return 1 if mismatches or reports or leaked or failed else 0


TRINITY_RAN = re.compile(r'fuzz: trinity calls: (\d+)')
FEEDER = re.compile(r'feeder: (\d+) buffers \((.*)\), (\d+) refused, (\d+) failed')
REACH = re.compile(r'fuzz: (reached|not reached|cannot probe) (\S+)( .*)?$')


def fuzz(console):
    """The verdict of make fuzz."""
    calls, feeder, reached, missed, unprobed = None, None, [], [], []
    try:
        lines = [clean(raw).rstrip('\n') for raw in open(console, errors='replace')]
    except FileNotFoundError:
        lines = []
    for line in lines:
        m = TRINITY_RAN.search(line)
        if m:
            calls = int(m.group(1))
        m = FEEDER.search(line)
        if m:
            feeder = m
        m = REACH.search(line)
        if m:
            what, fn, rest = m.group(1), m.group(2), (m.group(3) or '').strip()
            if what == 'reached':
                reached.append(f'{fn} {rest}')
            elif what == 'not reached':
                missed.append(fn)
            else:
                unprobed.append(fn)
    reports = count_reports(console, 'fuzz')
    for r in reached:
        print(f'fuzz: reached {r}')
    if missed:
        print(f'fuzz: not reached: {" ".join(missed)}')
    if unprobed:
        print(f'fuzz: could not count (inlined or absent): {" ".join(unprobed)}')
    bad = False
    if feeder:
        made, failed = int(feeder.group(1)), int(feeder.group(4))
        print(f'fuzz: the feeder made {made} buffers ({feeder.group(2)}), '
              f'{feeder.group(3)} refused (edu reach, vivid queue busy), '
              f'{failed} operations failed')
        bad = not made or failed
    else:
        print('fuzz: the feeder did not report: killed or stuck')
        bad = True
    # Trinity reaching none of the probes means its victims are wrong.
    if not reached and (missed or unprobed):
        print('fuzz: trinity reached none of the project\'s entry points')
        bad = True
    counted = reached or missed
    if counted and not any(r.startswith(('dma_buf_file_', 'dma_buf_ioctl', 'dma_buf_llseek',
                                         'dma_buf_show_fdinfo')) for r in reached):
        print('fuzz: trinity reached no operation of a dma-buf fd '
              '(it uses only fds it opened itself: see README, Fuzzing)')
    print(f'fuzz: {calls if calls is not None else "no count of"} calls, '
          f'{reports} kernel reports')
    return 1 if not calls or bad or reports else 0


HOST_CHECK = re.compile(r'HOST-CHECK ivshmem marker=([0-9a-f]+) at=(\d+) offset=(\d+) '
                        r'len=(\d+) seed=(\d+)')


def edu_pattern(seed, i):
    """Byte i of the edu device's pattern (edu_dmabuf_pattern() in the uapi)."""
    x = (seed + (i & 0xffffffff) * 0x9e3779b1) & 0xffffffff
    x ^= x >> 15
    x = (x * 0x2c1b3c6d) & 0xffffffff
    x ^= x >> 12
    return x & 0xff


def hostcheck(log, backing, counts=None, label=''):
    passed = failed = 0
    try:
        requests = [HOST_CHECK.search(clean(line)) for line in open(log, errors='replace')]
    except FileNotFoundError:
        requests = []
    for m in filter(None, requests):
        marker = bytes.fromhex(m.group(1))
        at, offset, length, seed = (int(g) for g in m.groups()[1:])
        try:
            with open(backing, 'rb') as f:
                memory = f.read()
        except OSError as e:
            memory = b''
            print(f'host check: {backing}: {e}')
        # The buffer is where its marker is, if the marker is there once.
        found = memory.find(marker)
        if found < 0 or memory.find(marker, found + 1) >= 0 or found < at:
            data = b''
            where = f'the marker of the buffer ({"not" if found < 0 else "not once"} in {backing})'
        else:
            start = found - at + offset
            data = memory[start:start + length]
            where = f'{length} bytes at offset {start} of {backing}'
        bad = [i for i in range(length)
               if i >= len(data) or data[i] != edu_pattern(seed, i)]
        if label:
            where = f'[{label}] {where}'
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


CPUS = 2


def testbed(results, kernel_log, debug, counts):
    checks = []
    guest = None
    try:
        for line in open(results, errors='replace'):
            m = re.match(r'TESTBED nproc=(\d+) version=(.*)$', clean(line))
            if m:
                guest = (int(m.group(1)), m.group(2))
    except FileNotFoundError:
        pass
    if guest is None:
        checks.append((False, 'the guest did not report its CPUs'))
    else:
        checks.append((guest[0] == CPUS, f'the guest has {guest[0]} CPUs online (nproc), {CPUS} expected'))
        if debug == '1':
            checks.append(('PREEMPT' in guest[1].split(),
                           f'the debug guest kernel is preemptible ("{guest[1]}")'))
    up = None
    try:
        for line in open(kernel_log, errors='replace'):
            m = re.search(r'smp: Brought up \d+ nodes?, (\d+) CPUs?', clean(line))
            if m:
                up = int(m.group(1))
    except FileNotFoundError:
        pass
    checks.append((up == CPUS, f'the kernel brought up {up if up is not None else "no secondary"} CPUs, {CPUS} expected'))
    for ok, what in checks:
        print(f'{"PASS" if ok else "FAIL"}    testbed: {what}')
    passed = sum(1 for ok, _ in checks if ok)
    write_counts(counts, passed, len(checks) - passed, 0)
    return 0 if passed == len(checks) else 1


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
    if cmd == 'selftests' and len(argv) in (4, 5):
        return selftests(*argv[2:])
    if cmd == 'splats' and len(argv) in (3, 4):
        return splats(argv[2], argv[3] if len(argv) == 4 else 'log')
    if cmd == 'hostcheck' and len(argv) in (4, 5, 6):
        return hostcheck(*argv[2:])
    if cmd == 'stress' and len(argv) in (3, 4):
        return stress(*argv[2:])
    if cmd == 'fuzz' and len(argv) == 3:
        return fuzz(argv[2])
    if cmd == 'testbed' and len(argv) == 6:
        return testbed(argv[2], argv[3], argv[4], argv[5])
    if cmd == 'summary' and len(argv) > 2:
        return summary(argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
