#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""patches.py PROJECT BUILD OUT

Write the project as a git format-patch series against the pristine base
tree (Linux 6.12 from Debian's linux-source-6.12) into OUT: a cover letter
and one patch per logical change (SERIES below), in an order where every
prefix builds with the project's configuration (make check-patches proves
it).

The pristine tree is unpacked once into BUILD/pristine and committed to a
git repository there; the series is built in BUILD/patches-work by
copying the project's files in, step by step. At each step the kbuild and
Kconfig files of drivers/dma-buf/ are the project's, keeping only what
refers to files present so far: a Makefile line's objects that exist, a
Kconfig option whose code exists, the heaps' and importers' menus once
they exist. MAINTAINERS gains an entry for what the series adds, updated
by every patch. Signed-off-by comes from git config user.name and
user.email (of PROJECT).

The project's patches to base-tree files (patches/, which the overlay
applies: Kconfig keeping the later API's users out, videobuf2 on this
API) join the series as they are,
right after the core, with git am; make check-patches builds the media
drivers from the prefix that holds the last of them on.
"""

import os
import re
import shutil
import subprocess
import sys

TARBALL = '/usr/src/linux-source-6.12.tar.xz'

# What the project replaces in the base tree (harness/prepare-src.sh).
REPLACED = ['drivers/dma-buf', 'tools/testing/selftests/dma-buf',
            'include/linux/dma-buf.h', 'include/linux/dma-heap.h',
            'include/uapi/linux/dma-buf.h', 'include/uapi/linux/dma-heap.h',
            'include/uapi/linux/udmabuf.h']

SERIES = [
    ('dma-buf: replace the buffer-sharing core with the 2012 design',
     ['drivers/dma-buf/Kconfig', 'drivers/dma-buf/Makefile',
      'drivers/dma-buf/dma-buf.c', 'drivers/dma-buf/dma-buf-internal.h',
      'drivers/dma-buf/dma-buf-debug.c', 'drivers/dma-buf/dma-buf-pages.c',
      'include/linux/dma-buf.h', 'include/uapi/linux/dma-buf.h'],
     """\
Replace drivers/dma-buf/ and include/linux/dma-buf.h with the dma-buf core
as it was designed on the mailing lists in 2011 and 2012: buffers backed
by files of their own (an inode per buffer, so that an exporter can zap
the userspace mappings of one buffer), attachments, a mapping cache per
attachment with ownership handed between CPU and devices at map and
unmap, begin/end_cpu_access with kmap and kmap_atomic for highmem, mmap,
constraint negotiation for exporters that allocate at first use, memory
accounting to the process that asked for a buffer, and a protocol to
move storage that nobody pins. Helpers for exporters whose storage is an
array of pages come with it.

The later implementation's fences, reservation objects and sync files go
with the directory this replaces; the project's configuration builds
nothing that uses them. The userspace ABI of the buffer file (SYNC,
SET_NAME, fdinfo, llseek, mmap) is the one Linux userspace already uses.
"""),
    # The project's patches to base-tree files, in their order (PATCHES).
    ('patches', [], ''),
    ('dma-buf: heaps, and the system heap',
     ['drivers/dma-buf/dma-heap.c', 'include/linux/dma-heap.h',
      'include/uapi/linux/dma-heap.h', 'drivers/dma-buf/heaps/Kconfig',
      'drivers/dma-buf/heaps/Makefile', 'drivers/dma-buf/heaps/system_heap.c',
      'drivers/dma-buf/heaps/system_heap.h', 'Kconfig'],
     """\
/dev/dma_heap/<name> character devices with Linux's dma-heap ABI
(DMA_HEAP_IOCTL_ALLOC), and the system heap: buffers of system memory
allocated at first use, below what every device attached by then can
reach, charged to the allocating process, movable while nobody pins
them.
"""),
    ('dma-buf: ivshmem heap, buffers in a PCI BAR',
     ['drivers/dma-buf/heaps/ivshmem_heap.c'],
     """\
A heap per ivshmem-plain device whose buffers are carved from BAR 2:
memory without struct page, mapped for devices with dma_map_resource()
and for the CPU write-combined, shared with a file on the host.
"""),
    ('dma-buf: edu importer, real DMA through dma-bufs',
     ['drivers/dma-buf/importers/Kconfig', 'drivers/dma-buf/importers/Makefile',
      'drivers/dma-buf/importers/edu_dmabuf.c',
      'include/uapi/linux/edu-dmabuf.h'],
     """\
An importer for QEMU's educational PCI device: /dev/edu/<PCI name> takes
a dma-buf fd and has the device read it (with a CRC of what it received)
or write a pattern into it by DMA, through dma_buf_attach() and
dma_buf_map_attachment(), so that every DMA path (direct, bounced,
behind an IOMMU) is exercised by real device transfers.
"""),
    ('dma-buf: udmabuf, memfd ranges as buffers',
     ['drivers/dma-buf/udmabuf.c', 'include/uapi/linux/udmabuf.h'],
     """\
/dev/udmabuf with Linux's ABI: ranges of sealed shmem or hugetlbfs memfds
become dma-bufs whose storage is the memfds' pages, pinned for the
buffer's life.
"""),
    ('dma-buf: KUnit suites',
     ['drivers/dma-buf/.kunitconfig', 'drivers/dma-buf/tests/'],
     """\
KUnit suites of the core against a fake exporter that records every
call (export, attach, map caching and ownership, CPU access, kmap rules,
negotiation, the file interface, moves), of the !CONFIG stubs, and of
the system heap with test devices of real DMA masks, including the DMA
API calls it makes. Run with:

  tools/testing/kunit/kunit.py run --kunitconfig=drivers/dma-buf
"""),
    ('dma-buf: documentation',
     ['Documentation/'],
     """\
The kernel interface (driver-api/dma-buf.rst, with the DOC sections and
kernel-doc of the sources), the buffer file and heap interface for
userspace, and /dev/udmabuf.
"""),
    ('dma-buf: selftests, a demo and lsdmabuf',
     ['tools/testing/selftests/dma-buf/', 'samples/dma-buf/',
      'tools/dma-buf/'],
     """\
kselftests that run in a guest with the test bed's devices (two edu
devices with 28- and 32-bit DMA masks, an ivshmem device), a demo that
tells one buffer's journey between processes and devices, and lsdmabuf,
which lists buffers with their devices and the processes that hold them.
"""),
]

COVER = """\
This series replaces the dma-buf buffer-sharing subsystem of Linux 6.12
with dma-buf as it was designed on the kernel mailing lists in 2011 and
2012: a core that tracks file-backed buffers, their attachments,
map/unmap, begin/end_cpu_access and kmap; heaps (system memory allocated
at first use where every attached device reaches it, and a PCI BAR);
udmabuf; an importer for QEMU's edu device that really DMAs; KUnit
suites, kselftests and documentation.

Design points:
- a buffer is a file with an inode of its own, so an exporter can shoot
  down the userspace mappings of one buffer before moving it;
- importers attach before they map, so an exporter can defer allocation
  and place storage where every attached device reaches it; a device
  that attaches later gets the storage moved within its reach when
  nothing pins it (an importer's mapping or a kernel CPU access), and
  -ERANGE otherwise;
- the core caches one mapping per attachment and hands the memory
  between CPU and devices (sync for device at first map, for CPU at last
  unmap and around CPU access);
- kernel CPU access is split into begin_cpu_access (may fail) and
  kmap/kmap_atomic (may not), for highmem;
- the memory a process makes the kernel allocate is charged to it.

What builds on the series, and what does not: videobuf2 imports and
exports through this core (its three allocators are ported in the
media: patches, which also have its core refuse a read-only dma-buf
where the device writes, hold an imported buffer's mapping only while
the buffer is queued and put a dma-buf an allocator refused, and have
dma-contig ask for its buffer in one piece), and with it the media drivers that use vb2 alone: vivid and vim2m
are tested against v4l2-compliance. The later dma-buf API (fences,
reservation objects, sync files, dynamic importers, dma_buf_export_info,
the _unlocked calls, iosys_map mappings) goes with the directory this
replaces, and every driver written for it stops building: DRM and accel,
IIO, RDMA user memory and mlx5_ib, FunctionFS, virtio's and Xen's
dma-bufs, Tegra host1x and its video decoder, Qualcomm FastRPC, network
devmem, the mbochs sample. A patch makes them depend on
DMA_BUF_FENCE_RESV_API, which this core never sets, so that no
configuration selects them: x86_64_defconfig configures and builds,
without DRM.

Every prefix of the series compiles with the project's configuration,
and the complete series is the tree whose kernel passes the project's
KUnit suites and selftests.
"""


def run(*args, cwd=None, **kw):
    return subprocess.run(args, cwd=cwd, check=True, **kw)


def out(*args, cwd=None):
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def pristine_repo(build):
    """BUILD/pristine: the base tree, committed once."""
    repo = os.path.join(build, 'pristine')
    if os.path.isdir(os.path.join(repo, '.git')):
        return repo
    tmp = repo + '.tmp'
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    print('patches: unpacking the pristine base tree (about a minute, once)',
          flush=True)
    run('tar', '-xJf', TARBALL, '-C', tmp, '--strip-components=1')
    version = out('make', '-s', 'kernelversion', cwd=tmp)
    run('git', 'init', '-q', cwd=tmp)
    # Debian's tarball ignores everything at the top level (.gitignore).
    run('git', 'add', '-A', '-f', cwd=tmp)
    run('git', '-c', 'user.name=base', '-c', 'user.email=base@localhost',
        'commit', '-q', '-m',
        f'Linux {version} (Debian linux-source-6.12)', cwd=tmp)
    run('git', 'tag', 'base', cwd=tmp)
    os.rename(tmp, repo)
    return repo


def project_patches(project):
    """The project's patches to base-tree files, in the overlay's order."""
    top = os.path.join(project, 'patches')
    found = []
    for root, _, names in os.walk(top):
        found += [os.path.relpath(os.path.join(root, n), project)
                  for n in names if n.endswith('.patch')]
    return sorted(found)


def project_files(project):
    files = out('git', 'ls-files', '--', 'drivers', 'include', 'Documentation',
                'tools', 'samples', 'Kconfig', cwd=project).split('\n')
    return sorted(f for f in files if f and
                  os.path.isfile(os.path.join(project, f)))


def in_step(path, prefixes):
    return any(path == p or (p.endswith('/') and path.startswith(p))
               for p in prefixes)


def object_exists(tree, directory, item, makefile_text):
    """Does a kbuild object (x.o or dir/) of directory exist in tree?"""
    if item.endswith('/'):
        return os.path.isfile(os.path.join(tree, directory, item, 'Makefile'))
    base = item[:-2]
    if re.search(r'^' + re.escape(base) + r'-(?:y|objs)\s*:?=', makefile_text,
                 re.M):
        return True
    return os.path.isfile(os.path.join(tree, directory, base + '.c'))


def filter_makefile(tree, directory, text, present_syms):
    """Keep the objects that exist; record which CONFIG_ symbols build some."""
    lines = []
    for line in text.split('\n'):
        m = re.match(r'^(obj-(?:y|\$\(CONFIG_(\w+)\)))(\s*\+=\s*)(.*)$', line)
        if not m:
            lines.append(line)
            continue
        items = [i for i in m.group(4).split()
                 if object_exists(tree, directory, i, text)]
        if m.group(2):
            present_syms.setdefault(m.group(2), False)
            if items:
                present_syms[m.group(2)] = True
        if items:
            lines.append(m.group(1) + m.group(3) + ' '.join(items))
    return '\n'.join(lines)


def filter_kconfig(tree, text, present_syms):
    """Drop options whose code is not there yet and sources of missing files."""
    outl = []
    skipping = False
    for line in text.split('\n'):
        top = line and not line[0].isspace()
        if top:
            skipping = False
            m = re.match(r'^(?:config|menuconfig)\s+(\w+)', line)
            if m and present_syms.get(m.group(1), True) is False:
                skipping = True
            m = re.match(r'^source\s+"([^"]+)"', line)
            if m and not os.path.isfile(os.path.join(tree, m.group(1))):
                continue
        if not skipping:
            outl.append(line)
    return '\n'.join(outl)


def kbuild_files(project, tree):
    """The step's Makefiles and drivers/dma-buf/Kconfig, from the project's."""
    # Every option the project's Makefiles build something for is absent
    # until a Makefile of the step builds something for it.
    present = {}
    dirs = ['drivers/dma-buf/heaps', 'drivers/dma-buf/importers',
            'drivers/dma-buf/tests', 'drivers/dma-buf']
    for d in dirs:
        with open(os.path.join(project, d, 'Makefile')) as f:
            for sym in re.findall(r'^obj-\$\(CONFIG_(\w+)\)', f.read(), re.M):
                present[sym] = False
    for d in dirs:
        mk = os.path.join(tree, d, 'Makefile')
        if os.path.isfile(mk):
            with open(os.path.join(project, d, 'Makefile')) as f:
                text = filter_makefile(tree, d, f.read(), present)
            with open(mk, 'w') as f:
                f.write(text)
    # The project's menu of exporters and importers (its top-level Kconfig
    # under the harness) ends drivers/dma-buf/Kconfig in the series.
    with open(os.path.join(project, 'drivers/dma-buf/Kconfig')) as f:
        kconfig = f.read()
    with open(os.path.join(project, 'Kconfig')) as f:
        menu = f.read()
    menu = menu[menu.index('menu "'):]
    menu = filter_kconfig(tree, menu, present)
    if 'source' in menu:
        kconfig = kconfig.rstrip('\n') + '\n\n' + menu
    for d in ['drivers/dma-buf/heaps', 'drivers/dma-buf/importers']:
        kc = os.path.join(tree, d, 'Kconfig')
        if os.path.isfile(kc):
            with open(os.path.join(project, d, 'Kconfig')) as f:
                text = filter_kconfig(tree, f.read(), present)
            with open(kc, 'w') as f:
                f.write(text)
    with open(os.path.join(tree, 'drivers/dma-buf/Kconfig'), 'w') as f:
        f.write(filter_kconfig(tree, kconfig, present).rstrip('\n') + '\n')


# MAINTAINERS sections of the series, and the paths each lists once they
# exist: every patch that adds files adds its own lines.
MAINTAINERS_SECTIONS = [
    ('DMA BUFFER SHARING (2012 DESIGN)',
     ['Documentation/driver-api/dma-buf.rst',
      'Documentation/userspace-api/dma-buf.rst', 'drivers/dma-buf/',
      'drivers/dma-buf/tests/', 'include/linux/dma-buf.h',
      'include/uapi/linux/dma-buf.h', 'samples/dma-buf/', 'tools/dma-buf/',
      'tools/testing/selftests/dma-buf/']),
    ('DMA-BUF EDU IMPORTER',
     ['drivers/dma-buf/importers/', 'include/uapi/linux/edu-dmabuf.h']),
    ('DMA-BUF HEAPS (2012 DESIGN)',
     ['drivers/dma-buf/dma-heap.c', 'drivers/dma-buf/heaps/',
      'include/linux/dma-heap.h', 'include/uapi/linux/dma-heap.h']),
    ('DMA-BUF IVSHMEM HEAP', ['drivers/dma-buf/heaps/ivshmem_heap.c']),
    ('DMA-BUF UDMABUF (2012 DESIGN)',
     ['Documentation/userspace-api/udmabuf.rst', 'drivers/dma-buf/udmabuf.c',
      'include/uapi/linux/udmabuf.h']),
]


def maintainers(tree, name, email, step_files):
    """The series' sections, with the paths that exist in this step."""
    path = os.path.join(tree, 'MAINTAINERS')
    with open(path) as f:
        text = f.read()
    for title, paths in MAINTAINERS_SECTIONS:
        text = re.sub(r'\n' + re.escape(title) + r'\n.*?\n\n', '\n', text,
                      flags=re.S)
    for title, paths in MAINTAINERS_SECTIONS:
        # A path is listed once the series placed it (not the base's own).
        have = [p for p in paths if any(f == p or f.startswith(p)
                                        for f in step_files)]
        if not have:
            continue
        entry = '\n'.join([title, f'M:\t{name} <{email}>',
                           'L:\tlinux-media@vger.kernel.org',
                           'L:\tdri-devel@lists.freedesktop.org',
                           'S:\tMaintained'] +
                          [f'F:\t{p}' for p in sorted(have)])
        # Before the first section whose title sorts after it.
        for m in re.finditer(r'\n\n([A-Z0-9][^\n]*)\n[A-Z]:\t', text):
            if m.group(1) > title:
                i = m.start() + 2
                text = text[:i] + entry + '\n\n' + text[i:]
                break
    with open(path, 'w') as f:
        f.write(text)


def docs_index(tree):
    """The new userspace pages in the userspace-api toctree."""
    path = os.path.join(tree, 'Documentation/userspace-api/index.rst')
    with open(path) as f:
        text = f.read()
    for page in ['dma-buf', 'udmabuf']:
        if (os.path.isfile(os.path.join(tree, 'Documentation/userspace-api',
                                        page + '.rst')) and
                f'   {page}\n' not in text):
            text = text.replace('   dma-buf-alloc-exchange\n',
                                f'   dma-buf-alloc-exchange\n   {page}\n', 1)
    with open(path, 'w') as f:
        f.write(text)


def main():
    project, build, outdir = (os.path.abspath(a) for a in sys.argv[1:4])
    try:
        name = out('git', 'config', 'user.name', cwd=project)
        email = out('git', 'config', 'user.email', cwd=project)
    except subprocess.CalledProcessError:
        sys.exit('patches: Signed-off-by needs git config user.name and '
                 'user.email')
    repo = pristine_repo(build)
    work = os.path.join(build, 'patches-work')
    shutil.rmtree(work, ignore_errors=True)
    run('git', 'clone', '-q', '--shared', repo, work)
    run('git', 'config', 'user.name', name, cwd=work)
    run('git', 'config', 'user.email', email, cwd=work)

    files = project_files(project)
    placed = set(f for _, paths, _ in SERIES for f in files
                 if in_step(f, paths))
    left = [f for f in files if f not in placed]
    if left:
        sys.exit('patches: project files in no patch: ' + ' '.join(left))

    for n, (subject, paths, body) in enumerate(SERIES):
        if subject == 'patches':
            for p in project_patches(project):
                run('git', 'am', '-q', os.path.join(project, p), cwd=work)
            continue
        if n == 0:
            for r in REPLACED:
                p = os.path.join(work, r)
                if os.path.isdir(p):
                    shutil.rmtree(p)
                elif os.path.exists(p):
                    os.remove(p)
        for f in files:
            if in_step(f, paths) and f != 'Kconfig':
                dst = os.path.join(work, f)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy2(os.path.join(project, f), dst)
        kbuild_files(project, work)
        docs_index(work)
        placed_so_far = [f for f in files
                         if any(in_step(f, p) for _, p, _ in SERIES[:n + 1])]
        maintainers(work, name, email, placed_so_far)
        run('git', 'add', '-A', '-f', cwd=work)
        run('git', 'commit', '-q', '-s', '-m', subject + '\n\n' + body,
            cwd=work)

    shutil.rmtree(outdir, ignore_errors=True)
    order = os.path.join(build, 'patches-order')
    with open(order, 'w') as f:
        f.write('MAINTAINERS\n*\n')
    # Whole rewrites (the core replaces the later one) as such, not as an
    # interleaving of removed and added lines.
    run('git', 'format-patch', '-q', '--cover-letter', f'-O{order}', '-B',
        '--subject-prefix=PATCH', '-o', outdir, 'base..HEAD', cwd=work)
    cover = sorted(os.listdir(outdir))[0]
    path = os.path.join(outdir, cover)
    with open(path) as f:
        text = f.read()
    text = text.replace('*** SUBJECT HERE ***',
                        'dma-buf: the 2012 design of buffer sharing')
    text = text.replace('*** BLURB HERE ***', COVER.rstrip('\n'))
    with open(path, 'w') as f:
        f.write(text)
    count = len(SERIES) - 1 + len(project_patches(project))
    print(f'patches: {count} patches and a cover letter in {outdir}')


if __name__ == '__main__':
    main()
