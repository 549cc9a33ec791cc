#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""bench-table.py DIR RUNS ITERS LIVE

The table of make bench, from DIR/{upstream,ours}-N.txt ("KEY VALUE"
lines of dmabuf-bench, N = 1..RUNS): one row per operation with both
kernels' figures (instructions per operation under -icount shift=0, bytes
for the slab row), their ratio, the project's figure before issue 31's
changes (harness/bench-baseline.txt, measured the same way), the physical
floor where there is one, and the row's target with whether it is met. Exit status 1 if two runs of one kernel differ by more than 1% on
any row, or a row is missing.
"""

import os
import sys

# key, label, target: ('up', r) ours/upstream <= r; ('floor', r) ours/floor
# <= r; ('keep', None) a row the project had won before: no worse than
# before (the baseline), within 1%; None: reported only (rows whose figure
# moves by more than 1% from one build to the next, see the docs).
ROWS = [
    ('export_put', 'export + put', ('keep', None)),
    ('export_put_live', 'export + put, LIVE buffers alive', None),
    ('fd_get_put_close', 'fd + get + put + close', ('keep', None)),
    ('attach_detach_1', 'attach + detach, 1 attachment', ('keep', None)),
    ('attach_detach_16', 'attach + detach, 16 attachments', None),
    ('attach_detach_256', 'attach + detach, 256 attachments', None),
    ('map_unmap_cached_1', 'cached map + unmap, 1 attachment', ('keep', None)),
    ('map_unmap_cached_16', 'cached map + unmap, 16 attachments', None),
    ('map_unmap_cached_256', 'cached map + unmap, 256 attachments', None),
    ('begin_end', 'begin + end cpu access', ('up', 1.0)),
    ('begin_end_heap', 'begin + end cpu access, system heap 1 MiB', ('up', 1.0)),
    ('slab_per_buffer', 'slab bytes per live buffer (LIVE alive)', ('keep', None)),
    ('get_put', 'get + put', None),
    ('get_put_2000_live', 'get + put, 2,000 buffers alive', ('keep', None)),
    ('get_put_live', 'get + put, LIVE buffers alive', None),
    ('kmap_kunmap', 'kmap + kunmap of a page', ('floor', 1.1)),
    ('kmap_copy_kunmap', 'kmap + copy 4 KiB + kunmap', ('floor', 1.1)),
    ('cpu_view_1m_kmaps', 'CPU view of 1 MiB: begin, 256 kmaps, end', None),
    ('cpu_view_1m_vmap', 'CPU view of 1 MiB: begin, vmap, vunmap, end', ('up', 1.0)),
    ('cpu_view_1m_vmap_shared', 'the same, a vmap held elsewhere', None),
    ('map_1m', 'attach + map + unmap + detach, 1 MiB', None),
    ('map_64m', 'attach + map + unmap + detach, 64 MiB', None),
    ('map_1024m', 'attach + map + unmap + detach, 1 GiB', None),
    ('heap_alloc_close_4k', 'heap ALLOC + close, 4 KiB', ('keep', None)),
    ('heap_alloc_close_1m', 'heap ALLOC + close, 1 MiB', ('keep', None)),
    ('heap_alloc_touch_close_1m',
     'heap ALLOC + mmap + touch + munmap + close, 1 MiB', ('up', 1.0)),
    ('heap_retouch_1m', 'mmap + touch + munmap, filled 1 MiB', ('up', 1.0)),
    ('udmabuf_retouch_1m', 'mmap + touch + munmap, udmabuf 1 MiB', ('up', 1.0)),
    ('heap_pages_get_free_1m', 'getting and freeing 1 MiB of pages', ('up', 1.0)),
    ('heap_alloc_sync_close_1m', 'heap ALLOC + SYNC start, end + close, 1 MiB', None),
    ('heap_alloc_sync_close_4k', 'heap ALLOC + SYNC start, end + close, 4 KiB', None),
    ('heap_pages_get_free_1m_sync',
     'getting and freeing 1 MiB less a page, through SYNC', None),
    ('v4l2_frame_shared',
     'camera to display, 720p YUYV: a shared buffer, per frame', ('up', 1.0)),
    ('v4l2_frame_copied',
     'camera to display, 720p YUYV: MMAP + memcpy, per frame', None),
    ('contig_8m_alloc_first_use',
     '8 MiB in one piece: ALLOC + first use by vb2-dma-contig (upstream: CMA heap)',
     ('up', 1.0)),
]

FLOORS = {
    'fd_get_put_close': 'floor_fd_get_put_close',
    'kmap_kunmap': 'floor_kmap_kunmap',
    'kmap_copy_kunmap': 'floor_kmap_copy_kunmap',
}


def load(path):
    vals = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                vals[parts[0]] = int(parts[1])
    return vals


def load_baseline():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'bench-baseline.txt')
    return load(path) if os.path.exists(path) else {}


def fmt(v):
    return '—' if v is None else f'{v:,}'


def main():
    d, runs, iters, live = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    bad = []
    res = {}
    for k in ('upstream', 'ours'):
        sets = [load(os.path.join(d, f'{k}-{i}.txt')) for i in range(1, runs + 1)]
        res[k] = sets[0]
        for s in sets[1:]:
            for key, v in sets[0].items():
                w = s.get(key)
                if w is None or abs(w - v) > 0.01 * max(v, w, 1):
                    bad.append(f'{k} {key}: {v} then {w}')

    base = load_baseline()
    live_s = f'{int(live):,}'
    print('| operation | upstream | ours | ours / upstream | ours before | floor | '
          'ours / floor | target | met |')
    print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |')
    rst = ['.. list-table::', '   :header-rows: 1', '',
           *(f'   {"*" if i == 0 else " "} - {h}' for i, h in enumerate(
               ('operation', 'upstream', 'ours', 'ours / upstream', 'before',
                'floor', 'ours / floor', 'target', 'met')))]
    missing = []
    for key, label, target in ROWS:
        up, ours = res['upstream'].get(key), res['ours'].get(key)
        floor = res['ours'].get(FLOORS.get(key, ''))
        if ours is None:
            missing.append(key)
        ratio = f'{ours / up:.2f}' if up and ours is not None else '—'
        fratio = f'{ours / floor:.2f}' if floor and ours is not None else '—'
        tgt, met = '', ''
        if target:
            kind, r = target
            if kind == 'floor' and floor and ours is not None:
                tgt, ok = f'≤ {r} × floor', ours <= r * floor
            elif kind == 'up' and up and ours is not None:
                tgt, ok = f'≤ {r} × upstream', ours <= (r + 0.005) * up
            elif kind == 'keep' and base.get(key) and ours is not None:
                tgt, ok = '≤ before', ours <= 1.01 * base[key]
            else:
                tgt, ok = f'{kind} {r}', False
            met = 'yes' if ok else '**no**'
        cells = (label.replace('LIVE', live_s), fmt(up), fmt(ours), ratio,
                 fmt(base.get(key)), fmt(floor), fratio, tgt, met)
        print('| ' + ' | '.join(cells) + ' |')
        rst += [f'   {"*" if i == 0 else " "} - {c or ""}'.rstrip()
                for i, c in enumerate(cells)]

    m = [res['ours'].get(k) for k in ('map_1m', 'map_64m', 'map_1024m')]
    if all(m):
        # Linear: a MiB of a 1 GiB buffer costs no more than one of 64 MiB.
        linear = m[2] / 1024 <= 1.05 * m[1] / 64
        print(f'\nMap cost per MiB (ours): 1 MiB {m[0]:,}, 64 MiB {m[1] // 64:,}, '
              f'1 GiB {m[2] // 1024:,} instructions: '
              f'{"linear" if linear else "**not linear**"}.')
    print(f'\nIterations: dmabuf-bench -n {iters} -l {live}; {runs} run(s) per kernel; '
          'instructions per operation under QEMU -icount shift=0. '
          '"ours before": the project at 2e8c7cc, before issue 31 '
          '(harness/bench-baseline.txt).')
    with open(os.path.join(d, 'table.rst'), 'w') as f:
        f.write('\n'.join(rst) + '\n')
    if missing:
        print('bench: rows missing from the project\'s run: ' + ', '.join(missing),
              file=sys.stderr)
    if bad:
        print('bench: runs disagree by more than 1%:\n  ' + '\n  '.join(bad),
              file=sys.stderr)
    elif runs > 1:
        print(f'All {runs} runs of each kernel agree within 1% on every row.')
    return 1 if bad or missing else 0


if __name__ == '__main__':
    sys.exit(main())
