// SPDX-License-Identifier: GPL-2.0-only
/*
 * dma-buf core: file-backed buffers shared between drivers, their
 * attachments, device mappings, kernel CPU access and the userspace file
 * interface.
 */

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/memblock.h>
#include <linux/memcontrol.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/pseudo_fs.h>
#include <linux/sched/mm.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/swiotlb.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <uapi/linux/magic.h>

#include <kunit/static_stub.h>
#include <kunit/visibility.h>

#include "dma-buf-internal.h"

/**
 * DOC: overview
 *
 * A dma-buf is a buffer that one driver, the *exporter*, owns and other
 * drivers, the *importers*, use. The exporter calls dma_buf_export() with
 * its private data and a &struct dma_buf_ops; the buffer is backed by a
 * &struct file, so it travels through userspace as a file descriptor
 * (dma_buf_fd(), then dma_buf_get() in the importing driver) or inside
 * the kernel as a pointer with a reference (get_dma_buf()).
 *
 * An importer attaches its &struct device (dma_buf_attach()) and asks for
 * a mapping (dma_buf_map_attachment()): an &sg_table of DMA addresses
 * valid for that device, built by the exporter. The importer programs its
 * device with sg_dma_address() and sg_dma_len() only. It never looks at
 * the pages behind the table: exporter memory may have no &struct page at
 * all (a carve-out unknown to Linux memory management, a remapping unit),
 * and DMA addresses are per device.
 *
 * Because every device attaches before it maps, an exporter may defer
 * allocating the backing storage until the first mapping and then place
 * it where every attached device can reach it; see
 * dma_buf_attachments_constraints().
 *
 * The CPU reaches the buffer from the kernel through
 * dma_buf_begin_cpu_access(), per-page dma_buf_kmap() or
 * dma_buf_kmap_atomic(), and dma_buf_end_cpu_access(); from userspace
 * through mmap() of the fd, bracketed by DMA_BUF_IOCTL_SYNC.
 */

/**
 * DOC: lifetime
 *
 * The buffer's reference count is its file's. dma_buf_export() returns
 * one reference to the exporter; dma_buf_fd() hands that reference to the
 * new file descriptor. Every fd (including copies made by dup(), fork()
 * and SCM_RIGHTS), every dma_buf_get() and every get_dma_buf() holds one;
 * close() and dma_buf_put() drop them, in any order. When the last is
 * gone the core calls &dma_buf_ops.release exactly once, then lets go of
 * the exporting module.
 *
 * The exporting module (the one that called dma_buf_export(); the macro
 * captures THIS_MODULE) is pinned while any of its buffers lives, so
 * rmmod fails with -EBUSY instead of leaving buffers whose operations
 * point into freed module text.
 *
 * An attachment does not hold a reference: an importer keeps the
 * reference it got from dma_buf_get() until after dma_buf_detach().
 *
 * The &struct dma_buf itself lives a little longer than the buffer: the
 * file's dentry points at it (it names the buffer in /proc/<pid>/fd), and
 * a dentry can outlive its file, for instance while a process holds an
 * O_PATH descriptor of /proc/<pid>/fd/<n>. So the release of the file
 * releases the buffer (the exporter's storage, its module, the
 * accounting) and the structure is freed when the dentry goes; in
 * between, readlink() still answers "/dmabuf:<name>".
 */

/**
 * DOC: accounting
 *
 * Memory an exporter allocates because a process asked for a buffer is
 * that process's memory, whenever the exporter allocates it: at export,
 * or later at first use, possibly in another process that received the
 * buffer's fd. dma_buf_export() records the exporting process (its mm)
 * and its memory cgroup; an exporter then
 *
 * - allocates between dma_buf_charge_begin() and dma_buf_charge_end()
 *   with __GFP_ACCOUNT, so that the pages are charged to that cgroup
 *   (memory.current rises, memory.max holds: past it the allocation
 *   fails) and uncharged when they are freed;
 * - allocates with __GFP_RETRY_MAYFAIL | __GFP_NOWARN, so that running
 *   out of memory fails the request of the process that made it
 *   (-ENOMEM, or SIGBUS for a page fault) instead of invoking the OOM
 *   killer or warning, and stops at a fatal signal;
 * - counts the pages with dma_buf_account_pages() while it holds them,
 *   so that they count toward the exporting process's memory footprint
 *   (its RssShmem) as the OOM killer sees it: when memory runs out
 *   elsewhere, the process that holds it in buffers is the one chosen,
 *   not a bystander. fs/exec.c counts argument pages the same way before
 *   they are mapped.
 *
 * A buffer that outlives its exporting process stays charged to the
 * cgroup; the footprint count then goes with the process's mm, which the
 * core keeps until the buffer is released so that the count can be
 * taken back. Buffers exported by kernel threads are charged to nobody.
 */

/**
 * DOC: files
 *
 * Each buffer is backed by an inode of its own, on a small internal
 * pseudo filesystem ("dmabuf"), rather than by the single anonymous inode
 * that most fd-backed kernel objects share. The reason is userspace
 * mmap(): an exporter that moves or evicts its storage must first take
 * away every userspace mapping of it ("shoot down the PTEs"), and the
 * kernel finds those mappings through the address space of the mapped
 * file's inode. With one inode for every buffer, unmap_mapping_range()
 * would reach the mappings of all buffers of all exporters; with an inode
 * per buffer, unmap_mapping_range(dmabuf->file->f_mapping, 0, 0, 1) takes
 * exactly this buffer's mappings, whether they were made through the
 * buffer's fd or through an importer's device file (dma_buf_mmap() moves
 * the mapping to the buffer's file).
 *
 * The inode also gives fstat() the buffer's size and debugfs an inode
 * number, and its dentry names the buffer in /proc/<pid>/fd:
 * "/dmabuf:<name>". The file has no backing store: fsync(), and msync()
 * of a mapping, succeed at once (Linux 6.12 fails them with -EINVAL);
 * coherency with devices is DMA_BUF_IOCTL_SYNC's.
 */

/**
 * DOC: locking
 *
 * Each buffer has a mutex, &dma_buf.lock. The core holds it around every
 * exporter callback except &dma_buf_ops.release (called when nobody else
 * can reach the buffer) and those of CPU access: the four kmap callbacks
 * run inside a kernel CPU access, which pins the storage and has already
 * prepared it, so a page mapping needs no lock and costs little more than
 * the kmap_local_page() the exporter does (in the runs an exporter
 * published, only the computing of the page's address: see "cpu
 * access"); &dma_buf_ops.begin_cpu_access and
 * &dma_buf_ops.end_cpu_access run without it too, and an exporter that
 * allocates in the first takes it there. A kernel CPU access pins the
 * storage without the lock (&dma_buf.cpu_access, a count with a bit
 * that a move sets to keep new pins out) and takes the lock only
 * while a device is attached, to hand the mappings importers hold to the
 * CPU and back. The lock
 * protects &dma_buf.attachments and the mapping cache of every
 * attachment, and it serialises the allocation of deferred storage
 * against attach, so that a device can never attach after the storage
 * was placed without being checked against it.
 *
 * Lock order, outermost first:
 *
 * 1. a process's mmap_lock (mmap() and page faults on the buffer);
 * 2. the core's list of buffers (debugfs);
 * 3. &dma_buf.lock;
 * 4. the exporter's own locks, and memory allocation (which may enter
 *    reclaim).
 *
 * So an exporter callback may allocate memory with GFP_KERNEL but must
 * not touch userspace memory (copy_to_user() and get_user_pages() would
 * take mmap_lock inside &dma_buf.lock), and no memory-reclaim path may
 * take &dma_buf.lock. With lockdep the core teaches this order at boot,
 * so a violation is reported the first time either half happens, not
 * only when both collide.
 */

/**
 * DOC: cpu access
 *
 * Seed of the design: the CPU access interface supports highmem, so it is
 * split into a step that may fail and steps that may not.
 *
 * - dma_buf_begin_cpu_access() prepares the byte range
 *   [start, start + len) for the CPU in one direction: it may allocate or
 *   pin the backing storage and invalidate caches, may sleep, and may fail.
 *   The range must lie inside the buffer.
 * - dma_buf_kmap() maps one page (PAGE_SIZE units from the start of the
 *   buffer) into the kernel; the caller may sleep while holding it.
 *   dma_buf_kmap_atomic() maps one page without sleeping, and the caller
 *   must not sleep until dma_buf_kunmap_atomic(). Neither fails once
 *   begin_cpu_access succeeded; neither may be called without it.
 * - An importer holds at most two page mappings at once, atomic or not,
 *   across all buffers: enough to copy from one page to another, few
 *   enough for the kernel's small window of temporary highmem mappings.
 *   It releases them in the reverse order it took them, from the task
 *   that took them: exporters map pages with kmap_local_page(), whose
 *   mappings are a per-task stack.
 * - dma_buf_end_cpu_access() ends the access; it cannot fail.
 *
 * A page mapping is the hottest path of the interface: an importer that
 * checksums or copies a buffer maps every page in turn. An exporter whose
 * storage lies in the kernel's linear map, in runs of a fixed number of
 * pages (the system heap's 1 MiB runs), publishes the runs' frame numbers
 * with dma_buf_set_kmap_runs(). dma_buf_kmap() and dma_buf_kmap_atomic(),
 * inline functions, then compute such a page's address where they are
 * called, with a bound check and no call, no lock and no callback, and
 * unmapping it is a bound check. The runs cannot change under a mapping:
 * the exporter publishes new ones only while no kernel CPU access is in
 * progress (when it first allocates the storage, when it moves it).
 * Other pages, all pages of other exporters and every page on a kernel
 * with highmem go out of line to the exporter's kmap callbacks; with
 * CONFIG_DMA_BUF_DEBUG every mapping goes out of line, to be counted.
 *
 * An importer that needs the whole buffer at one linear address, a
 * decoder's bitstream parser for one, calls dma_buf_vmap() instead of
 * looping over pages, if the exporter offers &dma_buf_ops.vmap. There is
 * one such mapping per buffer, shared by every caller and counted: the
 * first dma_buf_vmap() asks the exporter, the others take the same
 * address. It pins the storage while someone holds it, and may be held
 * across CPU accesses; the bytes are only coherent inside a begin/end
 * bracket, as with kmap. After the last dma_buf_vunmap() the core keeps
 * the mapping, idle and pinning nothing, for the next dma_buf_vmap(), and
 * a kept mapping is taken and released without the buffer's lock: an
 * importer that maps a buffer for each use (videobuf2 at every
 * VIDIOC_QBUF) pays for the page tables once, and per use about what a
 * kmap costs. The exporter gets the mapping back (&dma_buf_ops.vunmap)
 * before its storage moves and when the buffer is released. The mappings
 * the core keeps hold at most a sixteenth of the kernel's vmalloc space
 * altogether (and never more than 256 MiB): beyond that a new mapping
 * goes back to the exporter with its last holder, as it always did. When
 * the vmalloc space runs out, the idle ones go back at once (a vmap
 * purge notifier).
 *
 * CONFIG_DMA_BUF_DEBUG warns when an importer maps a page outside a
 * begin/end bracket, holds more than two mappings, or ends an access it
 * never began; CONFIG_DEBUG_KMAP_LOCAL catches releases out of order.
 */

/**
 * DOC: exporter
 *
 * An exporter provides &dma_buf_ops.map_dma_buf, &dma_buf_ops.unmap_dma_buf,
 * &dma_buf_ops.release, &dma_buf_ops.kmap and &dma_buf_ops.kmap_atomic;
 * dma_buf_export() refuses an ops table without them. Every other
 * callback is optional and documented with &struct dma_buf_ops.
 *
 * The mapping it returns for an attachment is an &sg_table already mapped
 * for that attachment's device. The core caches it: a second
 * dma_buf_map_attachment() in the same direction returns it without
 * calling the exporter, and the core gives it back to
 * &dma_buf_ops.unmap_dma_buf, with its direction, when the attachment is
 * detached or mapped in another direction.
 *
 * With CONFIG_DMA_BUF_DEBUG an importer gets a copy of the exporter's
 * table in which every page pointer is scrambled (the DMA addresses and
 * lengths are intact), so that an importer that dereferences sg_page()
 * faults at once; the exporter's own table, which it may use for cache
 * maintenance, is untouched.
 */

/**
 * DOC: coherency
 *
 * The same memory is seen by the CPU and by every device that maps it,
 * each possibly through a cache or a bounce buffer of its own (swiotlb,
 * an IOMMU that bounces, a non-coherent SoC). The core therefore treats
 * the memory as owned by one side at a time, and tells the exporter each
 * time ownership of a cached mapping changes, through the optional
 * &dma_buf_ops.sync_for_device and &dma_buf_ops.sync_for_cpu (for memory
 * with pages, dma_sync_sgtable_for_device() and
 * dma_sync_sgtable_for_cpu() with the mapping's own direction):
 *
 * - Mapped per transfer (map, DMA, unmap, and eventually detach): the
 *   device owns the memory from the first dma_buf_map_attachment() of
 *   its cached mapping (sync for the device, which pushes what the CPU
 *   wrote) to the last dma_buf_unmap_attachment() (sync for the CPU,
 *   which brings back what the device wrote). Outside, the CPU owns it:
 *   what the device wrote is visible to kmap, to mmap() after
 *   DMA_BUF_IOCTL_SYNC, and to the next device to map it.
 * - Cached across transfers: the same, at every transfer; the mapping
 *   itself is made and released only once, and its release does not sync
 *   again (the memory is the CPU's by then).
 * - Two devices alternating: each device's transfer starts with a sync
 *   for that device and ends with a sync for the CPU, so the second
 *   device sees what the first wrote, and no stale copy of one device's
 *   ever overwrites the other's data later.
 * - A direction change: only an unused mapping is replaced, and it was
 *   synced for the CPU when its last user unmapped it.
 * - CPU access while a device holds a mapping (a long-lived mapping, such
 *   as a display's): dma_buf_begin_cpu_access() and DMA_BUF_IOCTL_SYNC
 *   START sync every held mapping for the CPU after the exporter's own
 *   &dma_buf_ops.begin_cpu_access, and dma_buf_end_cpu_access() and
 *   SYNC END sync them back for their devices after
 *   &dma_buf_ops.end_cpu_access.
 *
 * A scatterlist mapping is synced as a whole: the DMA API has no partial
 * sync of one, so the byte range of a CPU access bounds what the exporter
 * prepares, not what the core syncs. Exporters of memory that needs no
 * maintenance (uncached or write-combined memory, a coherent pool)
 * provide neither callback. Memory without pages, such as a PCI BAR
 * mapped with dma_map_resource(), is never bounced: a device reaches it
 * directly or through a translating IOMMU, or not at all (see
 * dma_buf_check_resource_reach()).
 */

/**
 * DOC: negotiation
 *
 * Devices differ in what memory they can reach and in the scatterlists
 * they accept. An exporter that allocates its storage when the buffer is
 * first mapped (not when it is exported) asks
 * dma_buf_attachments_constraints() for the intersection of the
 * constraints of every device attached at that moment: the highest
 * physical address all of them reach (DMA mask and bus limit; no limit
 * for a device behind a translating IOMMU or whose mappings are all
 * bounced), the shortest maximum segment size (including what one
 * mapping can bounce) and the strictest segment boundary. It allocates
 * below that limit and splits its scatterlists with dma_buf_segment_len().
 *
 * A device that attaches after the storage exists and cannot reach it is
 * caught at attach time: the exporter's &dma_buf_ops.attach calls
 * dma_buf_check_reach() and answers -ERANGE. If the exporter can move its
 * storage (&dma_buf_ops.move) and the storage is not pinned, the core
 * then moves it below what every attached device and the new one can
 * reach, and the attach succeeds (see "moving storage"). Otherwise
 * dma_buf_attach() fails with -ERANGE: while an importer holds a mapping
 * or a kernel CPU access is in progress, or for storage that cannot move
 * (a PCI BAR, pinned user memory). The alternative, accepting the device,
 * would end in a mapping failure or, on a bus that truncates addresses,
 * in DMA to the wrong memory.
 *
 * A device may also need the buffer in few pieces: one, for a device
 * without scatter-gather that takes a frame at consecutive DMA addresses
 * (videobuf2's dma-contig allocator without an IOMMU). Its importer says
 * how many with dma_buf_attach_segments(); the core keeps the strictest
 * statement of the attached importers in @max_segments of
 * dma_buf_attachments_constraints(), and the exporter allocates its
 * storage in so few pieces of consecutive physical addresses, or, if the
 * storage exists, checks it at attach with dma_buf_check_segments() and
 * answers -ERANGE, after which the core moves the storage as for a
 * device's reach. Behind a translating IOMMU a statement asks nothing of
 * the storage: the DMA API maps any pages at consecutive I/O virtual
 * addresses, and physical contiguity, which is scarce, is not spent on
 * such a device. A device whose every mapping is bounced (swiotlb=force,
 * a confidential VM) takes each segment of memory with pages in a bounce
 * buffer of its own, at most its maximum segment size and
 * dma_max_mapping_size() long (256 KiB with swiotlb's defaults), however
 * contiguous the memory is. When the buffer is longer than the pieces
 * its importer takes make of that, the only memory the device can take
 * so is memory the DMA API allocates for it (dma_alloc_pages(), which it
 * reaches without a bounce buffer, as it does videobuf2's own buffers):
 * the core names the device in @dma_dev of the constraints, and an
 * exporter that allocates at first use allocates the storage so, with
 * dma_buf_alloc_for_device(). The storage then stays tied to that device
 * (it holds a reference to it) until it is freed or moved, and the device
 * maps it without a bounce buffer, every other device through the DMA API
 * as usual (the system heap moves the storage out again when the
 * device's last attachment goes, if it can). Only one device per buffer
 * can have that: a second one is refused with -ERANGE at attach, as is
 * such a device on storage that exists and was not allocated for it and
 * cannot move (pinned, or an exporter that never moves), and such a
 * device in a confidential VM, where that memory would be shared with
 * the host.
 */

/**
 * DOC: moving storage
 *
 * Seed 003 leaves room for exporters that move their storage: to follow
 * a device that attaches late, to compact, to evict. The storage of a
 * buffer is *pinned*, and must stay where it is, while someone holds an
 * address into it:
 *
 * - an importer's mapping, from dma_buf_map_attachment() until the
 *   matching dma_buf_unmap_attachment() (the device may be doing DMA);
 * - a kernel CPU access, from dma_buf_begin_cpu_access() until
 *   dma_buf_end_cpu_access(), which covers every dma_buf_kmap() and
 *   dma_buf_kmap_atomic() (they are only allowed inside it);
 * - the buffer's kernel mapping, from the first dma_buf_vmap() until the
 *   last dma_buf_vunmap().
 *
 * Nothing else pins. A cached mapping that no importer holds, and an idle
 * kernel mapping, are the core's and are given back to the exporter
 * before a move. A userspace mapping
 * does not pin either: its page table entries are zapped before a move
 * and the next access faults in the new storage. Nor can anything pin
 * pages through a userspace mapping: an exporter that moves maps by frame
 * number (VM_PFNMAP, special page table entries), which get_user_pages()
 * refuses, so that no io_uring fixed buffer, vmsplice() or O_DIRECT
 * request keeps using the old pages after a move (counting such pins
 * would let any process that can map a buffer hold it in place for ever,
 * against a late attach of another process's device). DMA_BUF_IOCTL_SYNC does
 * not pin: it brackets cache maintenance, and a process that never ends
 * it must not be able to hold storage in place for ever; after a move the
 * new storage is coherent for the CPU anyway, since the CPU copied it.
 * dma_buf_pinned() tells whether a buffer is pinned; with
 * CONFIG_DMA_BUF_DEBUG the core warns when an access ends while a page of
 * the buffer is still kmapped, which would leave the mapping unpinned.
 *
 * An exporter moves storage with dma_buf_move() (or dma_buf_move_locked()
 * from its callbacks, with &dma_buf.lock held). The core, holding
 * &dma_buf.lock throughout:
 *
 * 1. blocks new users: every map and page fault of the buffer waits for
 *    &dma_buf.lock (exporters' fault handlers take it with
 *    dma_buf_fault_lock(), which waits without the fault's own lock and
 *    killably, and insert the page before they drop it), and so does a
 *    kernel CPU access, which otherwise pins without the lock (the bit
 *    in &dma_buf.cpu_access that dma_buf_block_cpu_access() sets);
 * 2. refuses with -EBUSY if the storage is pinned, with -EOPNOTSUPP if
 *    the exporter has no &dma_buf_ops.move; gives an idle kernel mapping
 *    the core kept back to the exporter (&dma_buf_ops.vunmap), which
 *    keeps out dma_buf_vmap(), a caller of which takes a kept mapping
 *    without the lock: one that took it since the check makes the move
 *    fail with -EBUSY instead;
 * 3. zaps every userspace mapping of the buffer,
 *    unmap_mapping_range() on the buffer's file, wherever it was mapped
 *    (see "files");
 * 4. gives every cached device mapping back to the exporter
 *    (&dma_buf_ops.unmap_dma_buf), so that the next
 *    dma_buf_map_attachment() maps the new storage;
 * 5. calls &dma_buf_ops.move, which copies the bytes and switches to the
 *    new storage;
 * 6. drops &dma_buf.lock, letting users in again.
 *
 * A process writing through mmap() on another CPU loses nothing: a write
 * either lands before step 3, and is copied, or faults after it and waits
 * for the new storage.
 *
 * Importers are never told of a move, because a mapping they hold pins
 * the storage: this is the 2012 design, and it keeps the importer's side
 * of the contract as simple as it is (map, DMA, unmap). Later kernels let
 * "dynamic" importers keep mappings across moves and receive a
 * notification to re-map; that needs a way for the importer to know when
 * its device's DMA to the old storage has finished (fences), which this
 * design does not have. An importer that wants its buffer movable maps
 * per transfer; one that keeps a mapping for a long time (a scan-out
 * buffer) keeps the storage where it is. Either way no importer ever
 * holds an address into storage that has moved.
 *
 * For people and tests, debugfs has a control: writing "FD" or
 * "FD LIMIT" to dma_buf/move moves the buffer behind the writer's file
 * descriptor FD to new storage at or below physical address LIMIT (a
 * number in C notation: decimal, 0x hexadecimal or 0 octal; default:
 * anywhere; nothing may follow either number), within reach of every
 * attached device. The write fails with the errno of dma_buf_move().
 * dma_buf/bufinfo shows a "pinned:" line under a buffer while it is
 * pinned.
 */

/**
 * DOC: access mode
 *
 * A buffer's file has an access mode, set by its exporter (a heap uses the
 * fd_flags of the allocation): O_RDWR, O_RDONLY, O_WRONLY or O_ACCMODE,
 * which neither reads nor writes (open(2)'s value 3). Every
 * descriptor of the buffer shares that file and therefore that mode, and
 * mmap() honours it as for any file. The core cannot tell what a device
 * will do with a mapping (a display reads, a camera writes, many map
 * DMA_BIDIRECTIONAL either way), so importers enforce it: an importer
 * that lets a device write into a buffer it got from userspace checks
 * that the buffer's file was opened for writing (FMODE_WRITE in
 * &dma_buf.file's f_mode) and otherwise fails with -EBADF, as write(2)
 * does on a descriptor not open for writing. Device reads need no check.
 */

static struct vfsmount *dma_buf_mnt;
static const struct file_operations dma_buf_fops;

/* Every live buffer, for debugfs. */
static DEFINE_MUTEX(dma_buf_list_lock);
static LIST_HEAD(dma_buf_list);

/* One lockdep class for every buffer's lock, shared with the priming. */
static struct lock_class_key dma_buf_lock_key;

/**
 * dma_buf_misuse_hook() - called for each misuse dma_buf_misuse() detects
 *
 * Does nothing; the KUnit suites replace it to count misuse, which the
 * WARN reports only once per call site.
 *
 * Context: Any context.
 */
void dma_buf_misuse_hook(void)
{
	KUNIT_STATIC_STUB_REDIRECT(dma_buf_misuse_hook);
}
EXPORT_SYMBOL_IF_KUNIT(dma_buf_misuse_hook);

/**
 * dma_buf_alloc_fails() - a point where an allocation of the core may fail
 * @site: which allocation.
 *
 * Every allocation of the core asks first, so that the KUnit suites can
 * make any one of them fail, in turn or by site; the kernel's own fault
 * injection (failslab, fail_page_alloc) reaches the allocations behind.
 *
 * Context: Any context.
 * Return: false, unless a KUnit case replaced it.
 */
bool dma_buf_alloc_fails(enum dma_buf_alloc_site site)
{
	KUNIT_STATIC_STUB_REDIRECT(dma_buf_alloc_fails, site);
	return false;
}
EXPORT_SYMBOL_IF_KUNIT(dma_buf_alloc_fails);

static struct dma_buf *dma_buf_alloc(void)
{
	if (dma_buf_alloc_fails(DMA_BUF_ALLOC_BUFFER))
		return NULL;
	return kzalloc(sizeof(struct dma_buf), GFP_KERNEL_ACCOUNT);
}

static struct dma_buf_attachment *dma_buf_alloc_attachment(void)
{
	if (dma_buf_alloc_fails(DMA_BUF_ALLOC_ATTACHMENT))
		return NULL;
	return kzalloc(sizeof(struct dma_buf_attachment), GFP_KERNEL_ACCOUNT);
}

/* The core's pseudo filesystem; NULL if it could not be mounted at boot. */
VISIBLE_IF_KUNIT struct vfsmount *dma_buf_mount(void)
{
	KUNIT_STATIC_STUB_REDIRECT(dma_buf_mount);
	return dma_buf_mnt;
}
EXPORT_SYMBOL_IF_KUNIT(dma_buf_mount);

static struct inode *dma_buf_alloc_inode(void)
{
	if (dma_buf_alloc_fails(DMA_BUF_ALLOC_INODE))
		return ERR_PTR(-ENOMEM);
	return alloc_anon_inode(dma_buf_mnt->mnt_sb);
}

static struct file *dma_buf_alloc_file(struct inode *inode, int flags)
{
	if (dma_buf_alloc_fails(DMA_BUF_ALLOC_FILE))
		return ERR_PTR(-ENOMEM);
	return alloc_file_pseudo(inode, dma_buf_mnt, "dmabuf", flags,
				 &dma_buf_fops);
}

static size_t dma_buf_num_pages(const struct dma_buf *dmabuf)
{
	return DIV_ROUND_UP(dmabuf->size, PAGE_SIZE);
}

/*
 * &dma_buf.vmap_count: the holders of the buffer's kernel mapping in the
 * low bits, and DMA_BUF_VMAP_KEPT while the core keeps the mapping after
 * the last holder releases it. While that bit is set holders come and go
 * without &dma_buf.lock; the mapping is made, and taken away, under it.
 */
#define DMA_BUF_VMAP_KEPT	BIT(30)
#define DMA_BUF_VMAP_HOLDERS	(DMA_BUF_VMAP_KEPT - 1)

/* Pages of the kernel mappings the core keeps, held or idle, of every buffer. */
static atomic_long_t dma_buf_kept_vmap_pages;

static unsigned int dma_buf_vmap_holders(const struct dma_buf *dmabuf)
{
	return atomic_read(&dmabuf->vmap_count) & DMA_BUF_VMAP_HOLDERS;
}

/*
 * What keeping @dmabuf's mapping costs the vmalloc space, in pages. An
 * exporter without &dma_buf_ops.vunmap maps nothing of its own for it (a
 * vmalloc buffer's own address): that costs nothing to keep.
 */
static long dma_buf_vmap_cost(const struct dma_buf *dmabuf)
{
	return dmabuf->ops->vunmap ? dma_buf_num_pages(dmabuf) : 0;
}

/*
 * May @dmabuf's new kernel mapping stay after its last holder is gone? If
 * the kept mappings then hold no more than a sixteenth of the vmalloc
 * space and 256 MiB: the budget is reserved.
 */
static bool dma_buf_vmap_keep(const struct dma_buf *dmabuf)
{
	unsigned long limit = min((VMALLOC_END - VMALLOC_START) / 16,
				  (unsigned long)SZ_256M) >> PAGE_SHIFT;
	long cost = dma_buf_vmap_cost(dmabuf);

	if (atomic_long_add_return(cost, &dma_buf_kept_vmap_pages) <= limit)
		return true;
	atomic_long_sub(cost, &dma_buf_kept_vmap_pages);
	return false;
}

/* Take a kept mapping without the lock: its address, or NULL if none. */
static void *dma_buf_vmap_kept(struct dma_buf *dmabuf)
{
	int old = atomic_read(&dmabuf->vmap_count);

	do {
		if (!(old & DMA_BUF_VMAP_KEPT) ||
		    (old & DMA_BUF_VMAP_HOLDERS) == DMA_BUF_VMAP_HOLDERS)
			return NULL;
	} while (!atomic_try_cmpxchg_acquire(&dmabuf->vmap_count, &old,
					     old + 1));
	/* Set before the bit was, and stays while someone holds it. */
	return READ_ONCE(dmabuf->vmap_ptr);
}

/* Release a kept mapping @vaddr without the lock: false if not one. */
static bool dma_buf_vunmap_kept(struct dma_buf *dmabuf, void *vaddr)
{
	int old = atomic_read(&dmabuf->vmap_count);

	do {
		/* Misuse and the last release of the others: the slow path. */
		if (!(old & DMA_BUF_VMAP_KEPT) ||
		    !(old & DMA_BUF_VMAP_HOLDERS) ||
		    vaddr != READ_ONCE(dmabuf->vmap_ptr))
			return false;
	} while (!atomic_try_cmpxchg_release(&dmabuf->vmap_count, &old,
					     old - 1));
	return true;
}

/*
 * Give @dmabuf's kept kernel mapping back to the exporter if nobody holds
 * it: before its storage moves, and when it is released. Returns false if
 * someone holds it (took it without the lock since the caller looked).
 */
static bool dma_buf_drop_kept_vmap(struct dma_buf *dmabuf)
{
	int idle = DMA_BUF_VMAP_KEPT;

	lockdep_assert_held(&dmabuf->lock);
	if (!atomic_try_cmpxchg(&dmabuf->vmap_count, &idle, 0))
		return !(idle & DMA_BUF_VMAP_KEPT);
	if (dmabuf->ops->vunmap)
		dmabuf->ops->vunmap(dmabuf, dmabuf->vmap_ptr);
	atomic_long_sub(dma_buf_vmap_cost(dmabuf), &dma_buf_kept_vmap_pages);
	WRITE_ONCE(dmabuf->vmap_ptr, NULL);
	return true;
}

/* Is [start, start + len) a non-empty range inside the buffer? */
static bool dma_buf_range_ok(const struct dma_buf *dmabuf, size_t start,
			     size_t len)
{
	size_t end;

	return len && !check_add_overflow(start, len, &end) &&
	       end <= dmabuf->size;
}

/*
 * Copy the buffer's name, or "", into @name (DMA_BUF_NAME_LEN bytes), and
 * tell whether it has one: an empty name set with DMA_BUF_SET_NAME is one.
 */
static bool dma_buf_get_name(struct dma_buf *dmabuf, char *name)
{
	bool named;

	spin_lock(&dmabuf->name_lock);
	named = dmabuf->name;
	strscpy(name, dmabuf->name ?: "", DMA_BUF_NAME_LEN);
	spin_unlock(&dmabuf->name_lock);
	return named;
}

/*
 * Record who made the kernel allocate this buffer; see "accounting". A
 * kernel thread working for a process (kthread_use_mm()) counts as it.
 */
static void dma_buf_account_init(struct dma_buf *dmabuf)
{
	struct mm_struct *mm = current->mm;

	if (!mm)
		return;
	mmgrab(mm);
	dmabuf->acct_mm = mm;
	dmabuf->acct_memcg = get_mem_cgroup_from_mm(mm);
}

static void dma_buf_account_release(struct dma_buf *dmabuf)
{
	long left = atomic_long_read(&dmabuf->acct_pages);

	/* An exporter that freed pages without taking their count back. */
	if (dma_buf_misuse(left))
		dma_buf_account_pages(dmabuf, -left);
	mem_cgroup_put(dmabuf->acct_memcg);
	if (dmabuf->acct_mm)
		mmdrop(dmabuf->acct_mm);
}

/*
 * The last reference to the buffer is gone: release it. The structure
 * stays until its dentry goes (dma_buf_d_release()).
 */
static int dma_buf_file_release(struct inode *inode, struct file *file)
{
	struct dma_buf *dmabuf = file->private_data;
	struct module *owner = dmabuf->owner;

	mutex_lock(&dma_buf_list_lock);
	list_del(&dmabuf->list_node);
	mutex_unlock(&dma_buf_list_lock);

	/* An importer that put its reference before detaching. */
	dma_buf_misuse(!list_empty(&dmabuf->attachments));
	/*
	 * The idle kernel mapping goes back to the exporter, and so does the
	 * mapping of one that put its reference before dma_buf_vunmap().
	 */
	if (dmabuf->vmap_ptr) {
		mutex_lock(&dmabuf->lock);
		if (dma_buf_misuse(dma_buf_vmap_holders(dmabuf))) {
			atomic_andnot(DMA_BUF_VMAP_HOLDERS, &dmabuf->vmap_count);
			if (!(atomic_read(&dmabuf->vmap_count) &
			      DMA_BUF_VMAP_KEPT)) {
				if (dmabuf->ops->vunmap)
					dmabuf->ops->vunmap(dmabuf,
							    dmabuf->vmap_ptr);
				WRITE_ONCE(dmabuf->vmap_ptr, NULL);
			}
		}
		dma_buf_drop_kept_vmap(dmabuf);
		mutex_unlock(&dmabuf->lock);
	}

	dmabuf->ops->release(dmabuf);
	dma_buf_account_release(dmabuf);
	module_put(owner);
	return 0;
}

/* Hand an attachment's cached mapping to its device, or back to the CPU. */
static void dma_buf_sync_mapping(struct dma_buf_attachment *attach,
				 bool for_cpu)
{
	const struct dma_buf_ops *ops = attach->dmabuf->ops;

	lockdep_assert_held(&attach->dmabuf->lock);
	if (for_cpu && ops->sync_for_cpu)
		ops->sync_for_cpu(attach, attach->exporter_sgt, attach->dir);
	else if (!for_cpu && ops->sync_for_device)
		ops->sync_for_device(attach, attach->exporter_sgt, attach->dir);
}

/* The same for every mapping an importer is using. */
static void dma_buf_sync_held(struct dma_buf *dmabuf, bool for_cpu)
{
	struct dma_buf_attachment *attach;

	lockdep_assert_held(&dmabuf->lock);
	list_for_each_entry(attach, &dmabuf->attachments, node)
		if (attach->map_count)
			dma_buf_sync_mapping(attach, for_cpu);
}

/*
 * Might an importer hold a mapping that a CPU access must hand over? Not
 * without an attachment; with one, the lock is taken to look. Read
 * without the lock: an attachment made after this look maps after it,
 * and its map hands the memory to its device then; list_add() and
 * list_del() write the head's pointer with WRITE_ONCE().
 */
static bool dma_buf_may_hold_maps(struct dma_buf *dmabuf)
{
	return !list_empty(&dmabuf->attachments);
}

/*
 * A kernel CPU access pins the storage without the buffer's lock (see
 * "moving storage"). &dma_buf.cpu_access holds the number of accesses in
 * progress and one more bit, DMA_BUF_CPU_BLOCKED, which whoever must see
 * every access in progress and let none begin (a move, a new publication
 * of kmap runs) sets under the lock: a pin raises the count with a
 * compare-and-exchange that fails while the bit is set, so the count a
 * blocker reads after setting it is exact, and stays so until it clears
 * it. A pin that finds the bit set waits for the lock and pins under it,
 * after the blocker. Blockers nest (a move publishes runs): the bit goes
 * with the last of them, &dma_buf.cpu_blocked counting them under the
 * lock.
 *
 * With CONFIG_DMA_BUF_DEBUG, pins and unpins take the lock, so that the
 * check that no page mapping outlives the last access sees a count and a
 * number of mappings from one moment.
 */
static void dma_buf_block_cpu_access(struct dma_buf *dmabuf)
{
	lockdep_assert_held(&dmabuf->lock);
	/* Fully ordered: the count read after it is the count from now on. */
	if (!dmabuf->cpu_blocked++)
		atomic_fetch_or(DMA_BUF_CPU_BLOCKED, &dmabuf->cpu_access);
}

static void dma_buf_unblock_cpu_access(struct dma_buf *dmabuf)
{
	lockdep_assert_held(&dmabuf->lock);
	/* Release: the next pin sees what the blocker changed. */
	if (!--dmabuf->cpu_blocked)
		atomic_fetch_andnot_release(DMA_BUF_CPU_BLOCKED,
					    &dmabuf->cpu_access);
}

/*
 * Pin the storage for a kernel CPU access; see above. After the exporter
 * prepared the access the core does not fail it: a wait for a blocker is
 * as short as the move, and is not interrupted.
 */
static __always_inline void dma_buf_pin_cpu_access(struct dma_buf *dmabuf)
{
	int v;

	if (!IS_ENABLED(CONFIG_DMA_BUF_DEBUG)) {
		v = atomic_read(&dmabuf->cpu_access);
		do {
			if (unlikely(v & DMA_BUF_CPU_BLOCKED))
				goto locked;
		/* Acquire: pairs with the release that cleared the bit. */
		} while (!atomic_try_cmpxchg_acquire(&dmabuf->cpu_access, &v,
						     v + 1));
		return;
	}
locked:
	mutex_lock(&dmabuf->lock);
	/* Nobody blocks pins without the lock. */
	atomic_inc(&dmabuf->cpu_access);
	mutex_unlock(&dmabuf->lock);
}

/* Take back a pin; an end without a begin changes nothing. */
static void dma_buf_unpin_cpu_access(struct dma_buf *dmabuf)
{
	int v;

	if (IS_ENABLED(CONFIG_DMA_BUF_DEBUG))
		mutex_lock(&dmabuf->lock);
	v = atomic_read(&dmabuf->cpu_access);
	do {
		if (dma_buf_misuse(!(v & DMA_BUF_CPU_ACCESS_COUNT)))
			goto out;
	/* Release: everything the access did comes before its unpin. */
	} while (!atomic_try_cmpxchg_release(&dmabuf->cpu_access, &v, v - 1));
	dma_buf_debug_end_access(dmabuf);
out:
	if (IS_ENABLED(CONFIG_DMA_BUF_DEBUG))
		mutex_unlock(&dmabuf->lock);
}

/*
 * @pin: a kernel access (dma_buf_begin_cpu_access()), which pins the
 * storage until its end; DMA_BUF_IOCTL_SYNC does not pin (see "moving
 * storage"). The exporter prepares its side without the core's lock
 * (see &dma_buf_ops.begin_cpu_access); the lock serves only to hand the
 * mappings importers hold to the CPU. The storage may move between the
 * exporter's preparation and the pin: the new storage, which the CPU
 * wrote, is as ready for the CPU as the old.
 */
static __always_inline int
__dma_buf_begin_cpu_access(struct dma_buf *dmabuf, size_t start, size_t len,
			   enum dma_data_direction dir, bool pin)
{
	int ret;

	if (dmabuf->ops->begin_cpu_access) {
		ret = dmabuf->ops->begin_cpu_access(dmabuf, start, len, dir);
		if (ret)
			return ret;
	}
	if (pin)
		dma_buf_pin_cpu_access(dmabuf);
	if (unlikely(dma_buf_may_hold_maps(dmabuf))) {
		mutex_lock(&dmabuf->lock);
		dma_buf_sync_held(dmabuf, true);
		mutex_unlock(&dmabuf->lock);
	}
	return 0;
}

static void __dma_buf_end_cpu_access(struct dma_buf *dmabuf, size_t start,
				     size_t len, enum dma_data_direction dir,
				     bool pin)
{
	/*
	 * The exporter hands the CPU's side back without the lock (see
	 * &dma_buf_ops.end_cpu_access); the lock serves only to hand the
	 * mappings importers hold back to their devices.
	 */
	if (dmabuf->ops->end_cpu_access)
		dmabuf->ops->end_cpu_access(dmabuf, start, len, dir);
	if (dma_buf_may_hold_maps(dmabuf)) {
		mutex_lock(&dmabuf->lock);
		dma_buf_sync_held(dmabuf, false);
		mutex_unlock(&dmabuf->lock);
	}
	/* The pin goes last: a move that sees it gone sees the access over. */
	if (pin)
		dma_buf_unpin_cpu_access(dmabuf);
}

/* Can @vma, whose vm_pgoff is an offset into the buffer, map it? */
static int dma_buf_check_mmap(struct dma_buf *dmabuf,
			      struct vm_area_struct *vma)
{
	unsigned long end;

	if (!dmabuf->ops->mmap)
		return -ENODEV;
	if (check_add_overflow(vma->vm_pgoff, vma_pages(vma), &end) ||
	    end > dma_buf_num_pages(dmabuf))
		return -EINVAL;
	/*
	 * A private copy-on-write copy of shared memory is meaningless, but
	 * a private mapping that can never be written is just a view of it.
	 * VM_MAYSHARE, not VM_SHARED: mmap() drops the latter from a shared
	 * mapping of a file not open for writing.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE) && (vma->vm_flags & VM_WRITE))
		return -EINVAL;
	return 0;
}

static int dma_buf_call_mmap(struct dma_buf *dmabuf,
			     struct vm_area_struct *vma)
{
	int ret;

	/* mremap() must never grow the mapping past the buffer. */
	vm_flags_set(vma, VM_DONTEXPAND);
	/* A private view stays read-only: mprotect() cannot make it COW. */
	if (!(vma->vm_flags & VM_MAYSHARE))
		vm_flags_clear(vma, VM_MAYWRITE);

	if (mutex_lock_killable(&dmabuf->lock))
		return -EINTR;
	ret = dmabuf->ops->mmap(dmabuf, vma);
	mutex_unlock(&dmabuf->lock);
	return ret;
}

static int dma_buf_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct dma_buf *dmabuf = file->private_data;
	int ret;

	ret = dma_buf_check_mmap(dmabuf, vma);
	if (ret)
		return ret;
	return dma_buf_call_mmap(dmabuf, vma);
}

static loff_t dma_buf_llseek(struct file *file, loff_t offset, int whence)
{
	struct dma_buf *dmabuf = file->private_data;

	/* Only the two seeks userspace uses to learn the size. */
	if (offset)
		return -EINVAL;
	if (whence == SEEK_END)
		return dmabuf->size;
	if (whence == SEEK_SET)
		return 0;
	return -EINVAL;
}

static long dma_buf_ioctl_sync(struct dma_buf *dmabuf,
			       struct dma_buf_sync __user *arg)
{
	enum dma_data_direction dir;
	struct dma_buf_sync sync;

	if (copy_from_user(&sync, arg, sizeof(sync)))
		return -EFAULT;
	if (sync.flags & ~DMA_BUF_SYNC_VALID_FLAGS_MASK)
		return -EINVAL;

	switch (sync.flags & DMA_BUF_SYNC_RW) {
	case DMA_BUF_SYNC_READ:
		dir = DMA_FROM_DEVICE;
		break;
	case DMA_BUF_SYNC_WRITE:
		dir = DMA_TO_DEVICE;
		break;
	case DMA_BUF_SYNC_RW:
		dir = DMA_BIDIRECTIONAL;
		break;
	default:
		return -EINVAL;
	}

	if (sync.flags & DMA_BUF_SYNC_END) {
		__dma_buf_end_cpu_access(dmabuf, 0, dmabuf->size, dir, false);
		return 0;
	}
	return __dma_buf_begin_cpu_access(dmabuf, 0, dmabuf->size, dir, false);
}

/*
 * Names appear in fdinfo and debugfs, one field of one line: no control
 * character (a newline would forge lines). Bytes from 0x80 up are allowed,
 * for UTF-8.
 */
static bool dma_buf_name_ok(const char *name, long len)
{
	long i;

	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

static long dma_buf_ioctl_set_name(struct dma_buf *dmabuf,
				   const char __user *uname)
{
	char name[DMA_BUF_NAME_LEN];
	const char *old;
	char *copy;
	long len;

	len = strncpy_from_user(name, uname, sizeof(name));
	if (len < 0)
		return len;
	if (len == sizeof(name) || !dma_buf_name_ok(name, len))
		return -EINVAL;

	/*
	 * Few buffers are named: the name is allocated when it is set, not
	 * kept in every buffer, and charged to the process that names it.
	 * An empty name is kept too: fdinfo shows it, as it shows any name.
	 */
	if (dma_buf_alloc_fails(DMA_BUF_ALLOC_NAME))
		return -ENOMEM;
	copy = kmemdup(name, len + 1, GFP_KERNEL_ACCOUNT);
	if (!copy)
		return -ENOMEM;
	spin_lock(&dmabuf->name_lock);
	old = dmabuf->name;
	dmabuf->name = copy;
	spin_unlock(&dmabuf->name_lock);
	kfree(old);
	return 0;
}

static long dma_buf_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct dma_buf *dmabuf = file->private_data;

	switch (cmd) {
	case DMA_BUF_IOCTL_SYNC:
		return dma_buf_ioctl_sync(dmabuf, (void __user *)arg);
	case DMA_BUF_SET_NAME_A:
	case DMA_BUF_SET_NAME_B:
		return dma_buf_ioctl_set_name(dmabuf, (const char __user *)arg);
	default:
		return -ENOTTY;
	}
}

static void dma_buf_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct dma_buf *dmabuf = file->private_data;
	char name[DMA_BUF_NAME_LEN];

	seq_printf(m, "size:\t%zu\n", dmabuf->size);
	/* Not counting the reference the fdinfo reader holds. */
	seq_printf(m, "count:\t%ld\n", file_count(file) - 1);
	seq_printf(m, "exp_name:\t%s\n", dmabuf->exp_name);
	if (dma_buf_get_name(dmabuf, name))
		seq_printf(m, "name:\t%s\n", name);
}

static const struct file_operations dma_buf_fops = {
	.owner		= THIS_MODULE,
	.release	= dma_buf_file_release,
	.mmap		= dma_buf_file_mmap,
	.llseek		= dma_buf_llseek,
	/* msync() of a mapping: nothing to write back (see "files"). */
	.fsync		= noop_fsync,
	.unlocked_ioctl	= dma_buf_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.show_fdinfo	= dma_buf_show_fdinfo,
};

/**
 * dma_buf_export_owner() - wrap an exporter's memory in a new dma-buf
 * @priv: the exporter's private data for the buffer; must not be NULL.
 * @ops: the exporter's operations; must provide map_dma_buf,
 *	unmap_dma_buf, release, kmap and kmap_atomic.
 * @size: size of the buffer in bytes; must not be zero.
 * @flags: file flags: O_RDWR, O_RDONLY, O_WRONLY or O_ACCMODE (neither
 *	read nor write, as open(2) takes it: the file serves ioctls and
 *	passing only), optionally O_NONBLOCK and O_CLOEXEC (the latter has
 *	no meaning for the file itself).
 * @owner: the module that implements @ops; pinned until the buffer is
 *	released.
 * @exp_name: the exporter's name for fdinfo and debugfs; must stay valid
 *	as long as @owner is loaded.
 *
 * Exporters call it through dma_buf_export() or dma_buf_export_named(),
 * which fill in @owner and @exp_name.
 *
 * The calling process (if it is not a kernel thread) is recorded as the
 * one the buffer's memory is charged to; see "accounting" above.
 *
 * Context: Process context. May sleep.
 * Return: The new buffer, holding one reference for the caller, or an
 * ERR_PTR(): -EINVAL (with a WARN) for a missing or invalid argument,
 * -ENODEV if @owner is being unloaded or the core failed to initialise,
 * -ENOMEM.
 */
struct dma_buf *dma_buf_export_owner(void *priv, const struct dma_buf_ops *ops,
				     size_t size, int flags,
				     struct module *owner, const char *exp_name)
{
	struct dma_buf *dmabuf;
	struct inode *inode;
	struct file *file;
	int ret;

	if (dma_buf_misuse(!priv || !ops || !ops->map_dma_buf ||
			   !ops->unmap_dma_buf || !ops->release ||
			   !ops->kmap || !ops->kmap_atomic))
		return ERR_PTR(-EINVAL);
	if (dma_buf_misuse(!size || PAGE_ALIGN(size) < size ||
			   (u64)size > (u64)MAX_LFS_FILESIZE || !exp_name ||
			   (flags & ~(O_ACCMODE | O_CLOEXEC | O_NONBLOCK))))
		return ERR_PTR(-EINVAL);

	if (!dma_buf_mount())
		return ERR_PTR(-ENODEV);
	if (!try_module_get(owner))
		return ERR_PTR(-ENODEV);

	dmabuf = dma_buf_alloc();
	if (!dmabuf) {
		ret = -ENOMEM;
		goto err_module;
	}
	dmabuf->size = size;
	dmabuf->ops = ops;
	dmabuf->priv = priv;
	dmabuf->owner = owner;
	dmabuf->exp_name = exp_name;
	INIT_LIST_HEAD(&dmabuf->attachments);
	__mutex_init(&dmabuf->lock, "&dmabuf->lock", &dma_buf_lock_key);
	spin_lock_init(&dmabuf->name_lock);

	dma_buf_account_init(dmabuf);

	inode = dma_buf_alloc_inode();
	if (IS_ERR(inode)) {
		ret = PTR_ERR(inode);
		goto err_dmabuf;
	}
	inode->i_size = size;

	file = dma_buf_alloc_file(inode, flags & ~O_CLOEXEC);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_inode;
	}
	/*
	 * From here on, fput() frees the inode and calls the release, and
	 * the dentry frees the structure.
	 */
	file->private_data = dmabuf;
	file->f_path.dentry->d_fsdata = dmabuf;
	dmabuf->file = file;

	mutex_lock(&dma_buf_list_lock);
	list_add(&dmabuf->list_node, &dma_buf_list);
	mutex_unlock(&dma_buf_list_lock);
	return dmabuf;

err_inode:
	iput(inode);
err_dmabuf:
	dma_buf_account_release(dmabuf);
	mutex_destroy(&dmabuf->lock);
	kfree(dmabuf);
err_module:
	module_put(owner);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(dma_buf_export_owner);

/**
 * dma_buf_fd() - give a buffer a file descriptor in the current process
 * @dmabuf: the buffer.
 * @flags: 0 or O_CLOEXEC.
 *
 * The new fd takes over the caller's reference: after success the caller
 * no longer owns one and must not dma_buf_put() it.
 *
 * Context: Process context.
 * Return: The file descriptor, or a negative errno: -EINVAL (with a WARN)
 * for a NULL @dmabuf or flags other than O_CLOEXEC, -EMFILE when the
 * process has no free descriptor. On failure the caller keeps its
 * reference.
 */
int dma_buf_fd(struct dma_buf *dmabuf, int flags)
{
	int fd;

	if (dma_buf_misuse(!dmabuf || (flags & ~O_CLOEXEC)))
		return -EINVAL;

	fd = get_unused_fd_flags(flags);
	if (fd < 0)
		return fd;
	fd_install(fd, dmabuf->file);
	return fd;
}
EXPORT_SYMBOL_GPL(dma_buf_fd);

/**
 * dma_buf_get() - look up the buffer behind a file descriptor
 * @fd: a file descriptor of the current process.
 *
 * Context: Process context.
 * Return: The buffer, with a new reference the caller drops with
 * dma_buf_put(); ERR_PTR(-EBADF) if @fd is not an open file descriptor,
 * ERR_PTR(-EINVAL) if it is not a dma-buf.
 */
struct dma_buf *dma_buf_get(int fd)
{
	struct file *file = fget(fd);

	if (!file)
		return ERR_PTR(-EBADF);
	if (file->f_op != &dma_buf_fops) {
		fput(file);
		return ERR_PTR(-EINVAL);
	}
	return file->private_data;
}
EXPORT_SYMBOL_GPL(dma_buf_get);

/**
 * dma_buf_put() - drop a reference to a buffer
 * @dmabuf: the buffer.
 *
 * When it was the last one, the buffer is released: from the context of
 * the caller's return to userspace, or from a workqueue shortly after a
 * kernel thread's call (see fput()).
 *
 * Context: Any context a fput() may be done from.
 */
void dma_buf_put(struct dma_buf *dmabuf)
{
	if (dma_buf_misuse(!dmabuf))
		return;
	fput(dmabuf->file);
}
EXPORT_SYMBOL_GPL(dma_buf_put);

/**
 * get_dma_buf() - take an extra reference to a buffer
 * @dmabuf: the buffer, on which the caller already holds a reference.
 *
 * Context: Any context.
 */
void get_dma_buf(struct dma_buf *dmabuf)
{
	if (dma_buf_misuse(!dmabuf))
		return;
	get_file(dmabuf->file);
}
EXPORT_SYMBOL_GPL(get_dma_buf);

static void dma_buf_constraints_narrow(struct dma_buf_constraints *c,
				       const struct dma_buf_constraints *d)
{
	c->dma_limit = min(c->dma_limit, d->dma_limit);
	c->max_segment_size = min(c->max_segment_size, d->max_segment_size);
	c->seg_boundary_mask = min(c->seg_boundary_mask, d->seg_boundary_mask);
	c->max_segments = min_not_zero(c->max_segments, d->max_segments);
	/* Memory the DMA API allocated for one device is not another's. */
	if (c->dma_dev && d->dma_dev && c->dma_dev != d->dma_dev)
		c->dma_limit = 0;
	c->dma_dev = c->dma_dev ?: d->dma_dev;
}

static void dma_buf_attachment_constraints(const struct dma_buf_attachment *attach,
					   struct dma_buf_constraints *c);

/*
 * @dev cannot reach the storage: move it where @dev and every attached
 * device can, if it is not pinned, and ask the exporter again.
 */
static int dma_buf_attach_moving(struct dma_buf *dmabuf, struct device *dev,
				 struct dma_buf_attachment *attach)
{
	struct dma_buf_constraints c;
	int ret;

	/* Not for a device that no storage would satisfy either. */
	if (!dmabuf->ops->move || dma_buf_check_segments(attach, NULL, NULL))
		return -ERANGE;
	dma_buf_attachment_constraints(attach, &c);
	ret = dma_buf_move_locked(dmabuf, &c);
	if (ret == -EBUSY || ret == -ERANGE)
		return -ERANGE;
	if (ret)
		return ret;
	return dmabuf->ops->attach(dmabuf, dev, attach);
}

/* Both attach calls, without a call from one into the other. */
static __always_inline struct dma_buf_attachment *
__dma_buf_attach(struct dma_buf *dmabuf, struct device *dev,
		 unsigned int max_segments)
{
	struct dma_buf_attachment *attach;
	int ret;

	if (dma_buf_misuse(!dmabuf || !dev))
		return ERR_PTR(-EINVAL);

	attach = dma_buf_alloc_attachment();
	if (!attach)
		return ERR_PTR(-ENOMEM);
	attach->dmabuf = dmabuf;
	attach->dev = dev;
	attach->dir = DMA_NONE;
	attach->max_segments = max_segments;

	if (mutex_lock_killable(&dmabuf->lock)) {
		kfree(attach);
		return ERR_PTR(-EINTR);
	}
	if (dmabuf->ops->attach) {
		ret = dmabuf->ops->attach(dmabuf, dev, attach);
		if (ret == -ERANGE)
			ret = dma_buf_attach_moving(dmabuf, dev, attach);
		if (ret) {
			mutex_unlock(&dmabuf->lock);
			kfree(attach);
			return ERR_PTR(ret);
		}
	}
	list_add(&attach->node, &dmabuf->attachments);
	mutex_unlock(&dmabuf->lock);
	return attach;
}

/**
 * dma_buf_attach_segments() - attach a device that takes a buffer in few
 *	pieces
 * @dmabuf: the buffer, on which the caller holds a reference.
 * @dev: the device that will access the buffer by DMA.
 * @max_segments: the most pieces, each contiguous in @dev's DMA address
 *	space, in which @dev can take the buffer (1 for a device without
 *	scatter-gather that needs the whole buffer at consecutive
 *	addresses); 0 for any number, as dma_buf_attach().
 *
 * As dma_buf_attach(), and the storage will also come in at most
 * @max_segments pieces of consecutive physical addresses: an exporter
 * that allocates at first use allocates it so (see "negotiation"), and
 * one whose storage exists checks it (dma_buf_check_segments()); if it
 * comes in more pieces and can move, the core moves it into few enough,
 * as it does for a device's reach. Behind a translating IOMMU the
 * statement asks nothing of the storage: the IOMMU maps any pages at
 * consecutive addresses. A device whose every mapping is bounced
 * (swiotlb=force) takes each segment of memory with pages in its own
 * bounce buffer, which holds at most its maximum segment size and what
 * dma_max_mapping_size() says (256 KiB with swiotlb's defaults): a buffer
 * longer than @max_segments such segments must be memory the DMA API
 * allocated for @dev (&dma_buf_constraints.dma_dev): an exporter that
 * allocates at first use allocates it so, existing storage moves into
 * such memory if it can, and the device is refused if another attached
 * device needs the same.
 *
 * Context: Process context. Takes &dma_buf.lock; may sleep.
 * Return: The attachment, or an ERR_PTR(): -EINVAL (with a WARN) for a
 * NULL argument, -ENOMEM, -EINTR if a fatal signal came while waiting for
 * the buffer's lock, -ERANGE if @dev cannot reach the buffer's storage or
 * take it in @max_segments pieces and the storage cannot be moved so (it
 * is pinned, it never moves, or no storage could be taken so), -ENOMEM if
 * there was no memory to move it to, or another error of the exporter's
 * &dma_buf_ops.attach or &dma_buf_ops.move.
 */
struct dma_buf_attachment *dma_buf_attach_segments(struct dma_buf *dmabuf,
						   struct device *dev,
						   unsigned int max_segments)
{
	return __dma_buf_attach(dmabuf, dev, max_segments);
}
EXPORT_SYMBOL_GPL(dma_buf_attach_segments);

/**
 * dma_buf_attach() - attach a device to a buffer
 * @dmabuf: the buffer, on which the caller holds a reference.
 * @dev: the device that will access the buffer by DMA.
 *
 * The exporter may refuse a device that cannot reach storage the buffer
 * already has; if the exporter can move the storage and it is not pinned,
 * the core moves it within reach of every attached device and @dev
 * instead (see "moving storage"). The caller keeps its reference to
 * @dmabuf until after dma_buf_detach(). A device that needs the buffer in
 * few pieces attaches with dma_buf_attach_segments() instead.
 *
 * Context: Process context. Takes &dma_buf.lock; may sleep.
 * Return: The attachment, or an ERR_PTR(): -EINVAL (with a WARN) for a
 * NULL argument, -ENOMEM, -EINTR if a fatal signal came while waiting for
 * the buffer's lock, -ERANGE if @dev cannot reach the buffer's storage
 * and the storage cannot move there (it is pinned, or it never moves),
 * -ENOMEM if there was no memory to move it to, or another error of the
 * exporter's &dma_buf_ops.attach or &dma_buf_ops.move.
 */
struct dma_buf_attachment *dma_buf_attach(struct dma_buf *dmabuf,
					  struct device *dev)
{
	return __dma_buf_attach(dmabuf, dev, 0);
}
EXPORT_SYMBOL_GPL(dma_buf_attach);

/* Give the cached mapping back to the exporter. */
static void dma_buf_release_mapping(struct dma_buf_attachment *attach)
{
	struct dma_buf *dmabuf = attach->dmabuf;

	lockdep_assert_held(&dmabuf->lock);
	/* Detached while in use (a misuse): the device's writes still count. */
	if (attach->map_count)
		dma_buf_sync_mapping(attach, true);
	if (attach->sgt != attach->exporter_sgt)
		dma_buf_debug_unwrap(attach->sgt);
	dmabuf->ops->unmap_dma_buf(attach, attach->exporter_sgt, attach->dir);
	attach->sgt = NULL;
	attach->exporter_sgt = NULL;
	attach->dir = DMA_NONE;
	attach->map_count = 0;
}

/**
 * dma_buf_detach() - detach a device from a buffer
 * @dmabuf: the buffer.
 * @attach: the attachment dma_buf_attach() returned for @dmabuf.
 *
 * Releases the attachment's cached mapping, if any, through the
 * exporter's &dma_buf_ops.unmap_dma_buf with the mapping's direction, then
 * frees the attachment. Detaching with a mapping still in use (not
 * balanced by dma_buf_unmap_attachment()) is a bug and warns.
 *
 * Context: Process context. Takes &dma_buf.lock; may sleep.
 */
void dma_buf_detach(struct dma_buf *dmabuf, struct dma_buf_attachment *attach)
{
	if (dma_buf_misuse(!dmabuf || !attach || attach->dmabuf != dmabuf))
		return;

	mutex_lock(&dmabuf->lock);
	if (attach->sgt) {
		dma_buf_misuse(attach->map_count);
		dma_buf_release_mapping(attach);
	}
	list_del(&attach->node);
	if (dmabuf->ops->detach)
		dmabuf->ops->detach(dmabuf, attach);
	mutex_unlock(&dmabuf->lock);
	kfree(attach);
}
EXPORT_SYMBOL_GPL(dma_buf_detach);

/**
 * dma_buf_map_attachment() - get the buffer's DMA addresses for a device
 * @attach: the attachment of the device.
 * @dir: the direction of the device's transfers; not DMA_NONE.
 *
 * The first call asks the exporter (which may allocate the storage now);
 * the mapping is then cached in the attachment, and further calls in the
 * same direction return the same table without calling the exporter. A
 * call in another direction while the cached mapping is unused replaces
 * it (the exporter unmaps the old one and maps anew); while it is in use,
 * the call fails with -EBUSY.
 *
 * The importer uses only sg_dma_address() and sg_dma_len() of the
 * table's DMA entries (for_each_sgtable_dma_sg()), and balances each call
 * with dma_buf_unmap_attachment(). From the first map to the last unmap
 * the memory belongs to the device: the core hands it over with the
 * exporter's &dma_buf_ops.sync_for_device when the mapping's first user
 * maps it, and back with &dma_buf_ops.sync_for_cpu when its last user
 * unmaps it (see "coherency" above).
 *
 * Context: Process context. Takes &dma_buf.lock; may sleep.
 * Return: The mapping, or an ERR_PTR(): -EINVAL (with a WARN) for a NULL
 * @attach or an invalid @dir, -EBUSY as above, -EINTR if a fatal signal
 * came while waiting for the buffer's lock, or the exporter's error.
 */
struct sg_table *dma_buf_map_attachment(struct dma_buf_attachment *attach,
					enum dma_data_direction dir)
{
	struct sg_table *sgt, *exp_sgt;
	struct dma_buf *dmabuf;

	if (dma_buf_misuse(!attach || !attach->dmabuf ||
			   !valid_dma_direction(dir)))
		return ERR_PTR(-EINVAL);
	dmabuf = attach->dmabuf;

	if (mutex_lock_killable(&dmabuf->lock))
		return ERR_PTR(-EINTR);
	if (attach->sgt) {
		if (attach->dir == dir) {
			if (!attach->map_count++)
				dma_buf_sync_mapping(attach, false);
			sgt = attach->sgt;
			goto out;
		}
		if (attach->map_count) {
			sgt = ERR_PTR(-EBUSY);
			goto out;
		}
		dma_buf_release_mapping(attach);
	}

	exp_sgt = dmabuf->ops->map_dma_buf(attach, dir);
	if (!exp_sgt) {
		/* The exporter broke its contract. */
		WARN_ON_ONCE(1);
		exp_sgt = ERR_PTR(-EINVAL);
	}
	if (IS_ERR(exp_sgt)) {
		sgt = exp_sgt;
		goto out;
	}
	sgt = dma_buf_debug_wrap(exp_sgt);
	if (IS_ERR(sgt)) {
		dmabuf->ops->unmap_dma_buf(attach, exp_sgt, dir);
		goto out;
	}
	attach->sgt = sgt;
	attach->exporter_sgt = exp_sgt;
	attach->dir = dir;
	attach->map_count = 1;
	dma_buf_sync_mapping(attach, false);
out:
	mutex_unlock(&dmabuf->lock);
	return sgt;
}
EXPORT_SYMBOL_GPL(dma_buf_map_attachment);

/**
 * dma_buf_unmap_attachment() - balance a dma_buf_map_attachment()
 * @attach: the attachment.
 * @sgt: the table dma_buf_map_attachment() returned.
 * @dir: the direction it was mapped in.
 *
 * The mapping stays cached in the attachment for the next
 * dma_buf_map_attachment(); the exporter's &dma_buf_ops.unmap_dma_buf is
 * called when the attachment is detached. When this was the mapping's
 * last user, the memory goes back to the CPU (&dma_buf_ops.sync_for_cpu):
 * what the device wrote is then visible to dma_buf_begin_cpu_access(),
 * to mmap() after DMA_BUF_IOCTL_SYNC and to other devices' mappings. An
 * unmap that does not match a map (another table, another direction,
 * nothing mapped) is a bug: it warns and changes nothing.
 *
 * Context: Process context. Takes &dma_buf.lock; may sleep.
 */
void dma_buf_unmap_attachment(struct dma_buf_attachment *attach,
			      struct sg_table *sgt,
			      enum dma_data_direction dir)
{
	struct dma_buf *dmabuf;

	if (dma_buf_misuse(!attach || !attach->dmabuf || !sgt))
		return;
	dmabuf = attach->dmabuf;

	mutex_lock(&dmabuf->lock);
	if (!dma_buf_misuse(!attach->map_count || sgt != attach->sgt ||
			    dir != attach->dir) && !--attach->map_count)
		dma_buf_sync_mapping(attach, true);
	mutex_unlock(&dmabuf->lock);
}
EXPORT_SYMBOL_GPL(dma_buf_unmap_attachment);

/**
 * dma_buf_begin_cpu_access() - prepare part of a buffer for the CPU
 * @dmabuf: the buffer.
 * @start: offset of the range in bytes.
 * @len: length of the range in bytes; not zero.
 * @dir: direction of the CPU's access: DMA_FROM_DEVICE to read what the
 *	devices wrote, DMA_TO_DEVICE to write for them, DMA_BIDIRECTIONAL.
 *
 * Must precede dma_buf_kmap() and dma_buf_kmap_atomic(); coherency is
 * guaranteed only inside the range, in the given direction. The exporter
 * may allocate or pin storage here, and the mappings importers hold go
 * back to the CPU until dma_buf_end_cpu_access() (see "coherency"). The
 * storage cannot move until then (see "moving storage").
 *
 * Context: Process context; may sleep. Takes &dma_buf.lock only while a
 * device is attached, to hand the mappings importers hold to the CPU, or
 * to wait for a move in progress; the exporter's
 * &dma_buf_ops.begin_cpu_access may take it. Once the exporter prepared
 * the access, the core does not fail it: those waits are not
 * interrupted.
 * Return: 0, or a negative errno: -EINVAL (with a WARN) for a NULL
 * @dmabuf, an invalid direction or a range not inside the buffer; the
 * exporter's error (-ENOMEM, -EINTR if a fatal signal came while it
 * allocated).
 */
int dma_buf_begin_cpu_access(struct dma_buf *dmabuf, size_t start,
			     size_t len, enum dma_data_direction dir)
{
	might_sleep();
	if (dma_buf_misuse(!dmabuf || !valid_dma_direction(dir) ||
			   !dma_buf_range_ok(dmabuf, start, len)))
		return -EINVAL;

	return __dma_buf_begin_cpu_access(dmabuf, start, len, dir, true);
}
EXPORT_SYMBOL_GPL(dma_buf_begin_cpu_access);

/**
 * dma_buf_end_cpu_access() - end a CPU access begun with
 *	dma_buf_begin_cpu_access()
 * @dmabuf: the buffer.
 * @start: as given to dma_buf_begin_cpu_access().
 * @len: as given to dma_buf_begin_cpu_access().
 * @dir: as given to dma_buf_begin_cpu_access().
 *
 * The exporter's &dma_buf_ops.end_cpu_access hands the CPU's side back,
 * the mappings importers hold go back to their devices, and then the
 * storage is no longer pinned by this access.
 *
 * Context: Process context; may sleep. Takes &dma_buf.lock only while a
 * device is attached, to hand the mappings importers hold back.
 * Return: Nothing; cannot fail.
 */
void dma_buf_end_cpu_access(struct dma_buf *dmabuf, size_t start,
			    size_t len, enum dma_data_direction dir)
{
	might_sleep();
	if (dma_buf_misuse(!dmabuf || !valid_dma_direction(dir) ||
			   !dma_buf_range_ok(dmabuf, start, len)))
		return;
	__dma_buf_end_cpu_access(dmabuf, start, len, dir, true);
}
EXPORT_SYMBOL_GPL(dma_buf_end_cpu_access);

/*
 * The four page-mapping callbacks are called through local pointers: their
 * names, fixed by the API, are also those of the highmem functions, and
 * kunmap_atomic() is a function-like macro.
 */
typedef void *(*dma_buf_kmap_fn)(struct dma_buf *dmabuf,
				 unsigned long page_num);
typedef void (*dma_buf_kunmap_fn)(struct dma_buf *dmabuf,
				  unsigned long page_num, void *vaddr);

/*
 * Is @page_num a page of the buffer? On success it is clamped, so that a
 * mispredicted bound check cannot make an exporter index its page array
 * speculatively past the end.
 */
static __always_inline bool dma_buf_page_ok(struct dma_buf *dmabuf,
					    unsigned long *page_num)
{
	size_t n;

	if (dma_buf_misuse(!dmabuf))
		return false;
	n = dma_buf_num_pages(dmabuf);
	if (dma_buf_misuse(*page_num >= n))
		return false;
	*page_num = array_index_nospec(*page_num, n);
	return true;
}

/*
 * The out-of-line page mapping: the arguments checked, a page of the
 * published runs mapped here, any other by the exporter (@atomic: its
 * kmap_atomic callback), and the mapping counted with
 * CONFIG_DMA_BUF_DEBUG.
 */
static __always_inline void *dma_buf_map_page(struct dma_buf *dmabuf,
					      unsigned long page_num,
					      bool atomic)
{
	dma_buf_kmap_fn map;
	void *vaddr;

	if (!dma_buf_page_ok(dmabuf, &page_num))
		return NULL;
	if (dma_buf_in_kmap_runs(dmabuf, page_num)) {
		vaddr = dma_buf_kmap_run_page(dmabuf, page_num);
	} else {
		map = atomic ? dmabuf->ops->kmap_atomic : dmabuf->ops->kmap;
		vaddr = map(dmabuf, page_num);
	}
	if (vaddr)
		dma_buf_debug_kmap(dmabuf);
	return vaddr;
}

/* Undo dma_buf_map_page(): the exporter unmaps only what it mapped. */
static __always_inline void dma_buf_unmap_page(struct dma_buf *dmabuf,
					       unsigned long page_num,
					       void *vaddr, bool atomic)
{
	dma_buf_kunmap_fn unmap;

	if (!dma_buf_page_ok(dmabuf, &page_num))
		return;
	unmap = atomic ? dmabuf->ops->kunmap_atomic : dmabuf->ops->kunmap;
	if (unmap && !dma_buf_in_kmap_runs(dmabuf, page_num))
		unmap(dmabuf, page_num, vaddr);
	dma_buf_debug_kunmap(dmabuf);
}

/**
 * __dma_buf_kmap_atomic() - dma_buf_kmap_atomic() out of line
 * @dmabuf: the buffer.
 * @page_num: the page, in PAGE_SIZE units from the start of the buffer.
 *
 * What dma_buf_kmap_atomic() does for the pages it does not map inline:
 * checks the arguments, asks the exporter unless the page lies in the
 * published runs, and counts the mapping with CONFIG_DMA_BUF_DEBUG.
 * Importers call dma_buf_kmap_atomic().
 *
 * Context: Any context; does not sleep. Call between
 * dma_buf_begin_cpu_access() and dma_buf_end_cpu_access().
 * Return: As dma_buf_kmap_atomic().
 */
void *__dma_buf_kmap_atomic(struct dma_buf *dmabuf, unsigned long page_num)
{
	return dma_buf_map_page(dmabuf, page_num, true);
}
EXPORT_SYMBOL_GPL(__dma_buf_kmap_atomic);

/**
 * __dma_buf_kunmap_atomic() - dma_buf_kunmap_atomic() out of line
 * @dmabuf: the buffer.
 * @page_num: the page given to dma_buf_kmap_atomic().
 * @vaddr: the address it returned.
 *
 * Importers call dma_buf_kunmap_atomic().
 *
 * Context: Any context; does not sleep.
 * Return: Nothing; cannot fail.
 */
void __dma_buf_kunmap_atomic(struct dma_buf *dmabuf, unsigned long page_num,
			     void *vaddr)
{
	dma_buf_unmap_page(dmabuf, page_num, vaddr, true);
}
EXPORT_SYMBOL_GPL(__dma_buf_kunmap_atomic);

/**
 * __dma_buf_kmap() - dma_buf_kmap() out of line
 * @dmabuf: the buffer.
 * @page_num: the page, in PAGE_SIZE units from the start of the buffer.
 *
 * As __dma_buf_kmap_atomic(), for dma_buf_kmap(). Importers call
 * dma_buf_kmap().
 *
 * Context: Process context; may sleep. Call between
 * dma_buf_begin_cpu_access() and dma_buf_end_cpu_access().
 * Return: As dma_buf_kmap().
 */
void *__dma_buf_kmap(struct dma_buf *dmabuf, unsigned long page_num)
{
	might_sleep();
	return dma_buf_map_page(dmabuf, page_num, false);
}
EXPORT_SYMBOL_GPL(__dma_buf_kmap);

/**
 * __dma_buf_kunmap() - dma_buf_kunmap() out of line
 * @dmabuf: the buffer.
 * @page_num: the page given to dma_buf_kmap().
 * @vaddr: the address it returned.
 *
 * Importers call dma_buf_kunmap().
 *
 * Context: Process context; may sleep.
 * Return: Nothing; cannot fail.
 */
void __dma_buf_kunmap(struct dma_buf *dmabuf, unsigned long page_num,
		      void *vaddr)
{
	might_sleep();
	dma_buf_unmap_page(dmabuf, page_num, vaddr, false);
}
EXPORT_SYMBOL_GPL(__dma_buf_kunmap);

/**
 * dma_buf_set_kmap_runs() - let the core map pages without the exporter
 * @dmabuf: the exporter's buffer.
 * @pfns: the frame number of the first page of each run, in the order of
 *	the buffer's pages; the exporter keeps the array until it publishes
 *	other runs or the buffer is released.
 * @order: each run is 2^@order physically contiguous pages (below 32).
 * @n_pages: how many pages from the start of the buffer the runs hold,
 *	at most the buffer's; 0 withdraws the runs.
 *
 * An exporter whose storage is, from its first page, runs of 2^@order
 * pages in the kernel's linear map (lowmem RAM) publishes them here once
 * it has the storage; dma_buf_kmap() and dma_buf_kmap_atomic() then
 * compute those pages' addresses inline, without a call, and the four
 * kmap callbacks see only the pages past @n_pages. Before it moves or
 * frees that storage, the exporter publishes the new runs or withdraws
 * them. On a kernel with CONFIG_HIGHMEM the core ignores the runs (a
 * highmem page needs kmap_local_page()), and every page goes to the
 * exporter. The core uses at most the first UINT_MAX pages, rounded down
 * to a whole run.
 *
 * Misuse, reported with a WARN: a NULL @dmabuf (nothing changes), runs
 * published while a kernel CPU access is in progress, @n_pages past the
 * end of the buffer, NULL @pfns or an @order of 32 or more with @n_pages
 * not zero. The runs published before are then withdrawn (the exporter
 * may be about to free their storage), and every page goes to the
 * exporter until runs are published again.
 *
 * Context: Process context, with &dma_buf.lock held: from the exporter's
 * callbacks that take the storage (&dma_buf_ops.map_dma_buf,
 * &dma_buf_ops.move, ...) or its own code under that lock (a fault
 * handler, &dma_buf_ops.begin_cpu_access once it took the lock). No
 * kernel CPU access begins meanwhile.
 * Return: Nothing; misuse is reported, not returned.
 */
void dma_buf_set_kmap_runs(struct dma_buf *dmabuf, const unsigned long *pfns,
			   unsigned int order, unsigned long n_pages)
{
	if (dma_buf_misuse(!dmabuf))
		return;
	lockdep_assert_held(&dmabuf->lock);
	/* No access may begin meanwhile, and none may be in progress. */
	dma_buf_block_cpu_access(dmabuf);
	if (dma_buf_misuse(dma_buf_cpu_accesses(dmabuf) ||
			   n_pages > dma_buf_num_pages(dmabuf) ||
			   (n_pages && (!pfns || order >= 32)))) {
		/* The old runs' storage may be going: to the exporter. */
		WRITE_ONCE(dmabuf->kmap_pages, 0);
		goto unblock;
	}

	if (n_pages > UINT_MAX)
		n_pages = UINT_MAX & ~((1UL << order) - 1);
	/* Readers are inside a CPU access, which begins after this. */
	WRITE_ONCE(dmabuf->kmap_pages, 0);
	dmabuf->kmap_pfns = pfns;
	dmabuf->kmap_order = order;
	dmabuf->kmap_run_mask = (1U << order) - 1;
	WRITE_ONCE(dmabuf->kmap_pages, n_pages);
unblock:
	dma_buf_unblock_cpu_access(dmabuf);
}
EXPORT_SYMBOL_GPL(dma_buf_set_kmap_runs);

/*
 * The vmalloc space ran out: give back every idle kernel mapping that can
 * be had without waiting. The caller may hold any buffer's lock (an
 * exporter maps with vmap() under it) or the list's: only trylocks. A
 * buffer on the list is not released meanwhile (its release takes the
 * list's lock first).
 */
VISIBLE_IF_KUNIT int dma_buf_vmap_purge(struct notifier_block *nb,
					unsigned long action, void *freed)
{
	struct dma_buf *dmabuf;
	long cost;

	if (!mutex_trylock(&dma_buf_list_lock))
		return NOTIFY_DONE;
	list_for_each_entry(dmabuf, &dma_buf_list, list_node) {
		if (!mutex_trylock(&dmabuf->lock))
			continue;
		cost = dma_buf_vmap_cost(dmabuf);
		if (atomic_read(&dmabuf->vmap_count) == DMA_BUF_VMAP_KEPT &&
		    dma_buf_drop_kept_vmap(dmabuf))
			*(unsigned long *)freed += cost;
		mutex_unlock(&dmabuf->lock);
	}
	mutex_unlock(&dma_buf_list_lock);
	return NOTIFY_OK;
}
EXPORT_SYMBOL_IF_KUNIT(dma_buf_vmap_purge);

static struct notifier_block dma_buf_vmap_purge_nb = {
	.notifier_call = dma_buf_vmap_purge,
};

/**
 * dma_buf_vmap() - map a whole buffer into the kernel, linearly
 * @dmabuf: the buffer, on which the caller holds a reference.
 *
 * The buffer has one kernel mapping, shared and counted (see "CPU access"
 * above): the first call asks the exporter's &dma_buf_ops.vmap for it
 * (which may allocate the storage), later calls return the same address,
 * as does a call that finds the mapping the core kept after the last
 * dma_buf_vunmap(). The storage is pinned until the last dma_buf_vunmap(). Read and write
 * through the mapping only between dma_buf_begin_cpu_access() and
 * dma_buf_end_cpu_access(), as with dma_buf_kmap().
 *
 * Context: Process context. Takes &dma_buf.lock unless the core kept the
 * mapping; may sleep.
 * Return: The kernel address of the buffer's first byte, or an ERR_PTR():
 * -EINVAL (with a WARN) for a NULL @dmabuf; -EOPNOTSUPP if the exporter
 * has no linear mapping; -EINTR if a fatal signal came while waiting for
 * the lock; -EOVERFLOW if 2^30 - 1 holders hold the mapping already; the
 * exporter's error (-ENOMEM, for one).
 */
void *dma_buf_vmap(struct dma_buf *dmabuf)
{
	void *vaddr;
	int holders;

	might_sleep();
	if (dma_buf_misuse(!dmabuf))
		return ERR_PTR(-EINVAL);
	if (!dmabuf->ops->vmap)
		return ERR_PTR(-EOPNOTSUPP);
	/* Callers must be able to take it, even when a kept mapping spares it. */
	might_lock(&dmabuf->lock);
	vaddr = dma_buf_vmap_kept(dmabuf);
	if (vaddr)
		return vaddr;

	if (mutex_lock_killable(&dmabuf->lock))
		return ERR_PTR(-EINTR);
	/* Kept meanwhile, or not at all: only the lock holder changes that. */
	vaddr = dma_buf_vmap_kept(dmabuf);
	if (vaddr)
		goto out_unlock;
	holders = atomic_read(&dmabuf->vmap_count);
	if ((holders & DMA_BUF_VMAP_KEPT) ||
	    holders == DMA_BUF_VMAP_HOLDERS) {
		/* Kept, or not: as many holders as the count holds. */
		vaddr = ERR_PTR(-EOVERFLOW);
	} else if (holders) {
		atomic_inc(&dmabuf->vmap_count);
		vaddr = dmabuf->vmap_ptr;
	} else {
		vaddr = dmabuf->ops->vmap(dmabuf);
		if (IS_ERR(vaddr))
			goto out_unlock;
		if (WARN_ON_ONCE(!vaddr)) {
			vaddr = ERR_PTR(-ENOMEM);
			goto out_unlock;
		}
		WRITE_ONCE(dmabuf->vmap_ptr, vaddr);
		/* The address first: holders without the lock read it. */
		atomic_set_release(&dmabuf->vmap_count,
				   dma_buf_vmap_keep(dmabuf) ?
				   DMA_BUF_VMAP_KEPT | 1 : 1);
	}
out_unlock:
	mutex_unlock(&dmabuf->lock);
	return vaddr;
}
EXPORT_SYMBOL_GPL(dma_buf_vmap);

/**
 * dma_buf_vunmap() - release a mapping taken with dma_buf_vmap()
 * @dmabuf: the buffer.
 * @vaddr: the address dma_buf_vmap() returned.
 *
 * The last release unpins the storage. The core keeps the mapping, idle,
 * for the next dma_buf_vmap(), and gives it back to the exporter
 * (&dma_buf_ops.vunmap) before the storage moves or when the buffer is
 * released; at once if the mappings the core keeps already held their
 * share of the vmalloc space when this one was made (see "CPU access").
 *
 * Context: Process context. Takes &dma_buf.lock unless the core keeps the
 * mapping; may sleep.
 */
void dma_buf_vunmap(struct dma_buf *dmabuf, void *vaddr)
{
	int holders;

	might_sleep();
	if (dma_buf_misuse(!dmabuf))
		return;
	might_lock(&dmabuf->lock);
	if (dma_buf_vunmap_kept(dmabuf, vaddr))
		return;
	mutex_lock(&dmabuf->lock);
	holders = atomic_read(&dmabuf->vmap_count);
	if (dma_buf_misuse(!(holders & DMA_BUF_VMAP_HOLDERS) ||
			   vaddr != dmabuf->vmap_ptr))
		goto out_unlock;
	/* A kept mapping stays; the others go with their last holder. */
	if (holders & DMA_BUF_VMAP_KEPT) {
		atomic_dec(&dmabuf->vmap_count);
	} else if (!atomic_dec_return(&dmabuf->vmap_count)) {
		if (dmabuf->ops->vunmap)
			dmabuf->ops->vunmap(dmabuf, vaddr);
		WRITE_ONCE(dmabuf->vmap_ptr, NULL);
	}
out_unlock:
	mutex_unlock(&dmabuf->lock);
}
EXPORT_SYMBOL_GPL(dma_buf_vunmap);

/**
 * dma_buf_mmap() - map a buffer into userspace on an importer's behalf
 * @dmabuf: the buffer.
 * @vma: the importer's vma, from its own &file_operations.mmap.
 * @pgoff: offset into the buffer, in pages.
 *
 * For an importer whose own device file maps a buffer it imported. On
 * success @vma belongs to the buffer's file (so the buffer lives as long
 * as the mapping) and the exporter's &dma_buf_ops.mmap has filled it.
 *
 * Context: Process context, with the caller's mmap_lock held for writing,
 * as in &file_operations.mmap. Takes &dma_buf.lock.
 * Return: 0, or a negative errno: -EINVAL for a NULL argument (with a
 * WARN), a range past the end of the buffer or a private mapping; -ENODEV
 * if the exporter does not support mmap; the exporter's error.
 */
int dma_buf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma,
		 unsigned long pgoff)
{
	unsigned long old_pgoff;
	int ret;

	if (dma_buf_misuse(!dmabuf || !vma))
		return -EINVAL;

	old_pgoff = vma->vm_pgoff;
	vma->vm_pgoff = pgoff;
	ret = dma_buf_check_mmap(dmabuf, vma);
	if (ret) {
		vma->vm_pgoff = old_pgoff;
		return ret;
	}
	/*
	 * The mapping now belongs to the buffer's file, as one made through
	 * the buffer's fd does: the exporter sees the same vma either way.
	 */
	vma_set_file(vma, dmabuf->file);
	return dma_buf_call_mmap(dmabuf, vma);
}
EXPORT_SYMBOL_GPL(dma_buf_mmap);

/**
 * dma_buf_fault_lock() - take a buffer's lock in a userspace fault handler
 * @dmabuf: the buffer behind the faulting mapping.
 * @vmf: the fault, as the exporter's &vm_operations_struct.fault got it.
 *
 * An exporter whose storage can move inserts pages with &dma_buf.lock
 * held, so that a move never frees a page the fault is about to map (see
 * "moving storage"). A fault cannot simply sleep on the lock: a move holds
 * it for as long as it copies, and a task killed meanwhile must be able to
 * die, also when the fault comes from a copy the kernel makes from the
 * mapping (write(2) from it), which would otherwise repeat the fault for
 * as long as the lock is held. So when the lock is taken, the fault's own
 * lock (the mapping's, or the process's mmap_lock) is released, the task
 * waits for &dma_buf.lock killably and the fault is retried; a fatal
 * signal ends the wait, and the retry then ends the task's access. A
 * fault that cannot be retried waits in place, killably too.
 *
 * Context: A page fault handler, with the fault's lock held as the mm
 * core passes it. May sleep.
 * Return: 0 with &dma_buf.lock held, which the caller releases before it
 * returns. Otherwise the lock is not held and the handler returns the
 * value: VM_FAULT_RETRY (the fault's lock has been released unless the
 * fault asked not to wait, FAULT_FLAG_RETRY_NOWAIT) or, for a fault that
 * cannot be retried and whose task was killed while it waited,
 * VM_FAULT_SIGBUS.
 */
vm_fault_t dma_buf_fault_lock(struct dma_buf *dmabuf, struct vm_fault *vmf)
{
	if (mutex_trylock(&dmabuf->lock))
		return 0;
	/*
	 * A fault that cannot be retried (a futex's fixup_user_fault())
	 * waits in place, still killably: the task being killed, SIGBUS
	 * ends the kernel's access for it.
	 */
	if (!(vmf->flags & FAULT_FLAG_ALLOW_RETRY))
		return mutex_lock_killable(&dmabuf->lock) ? VM_FAULT_SIGBUS : 0;
	if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)
		return VM_FAULT_RETRY;

	/* The vma may go once its lock is dropped; the buffer stays. */
	get_file(dmabuf->file);
	release_fault_lock(vmf);
	if (!mutex_lock_killable(&dmabuf->lock))
		mutex_unlock(&dmabuf->lock);
	fput(dmabuf->file);
	return VM_FAULT_RETRY;
}
EXPORT_SYMBOL_GPL(dma_buf_fault_lock);

/**
 * dma_buf_fault_retry() - end a fault that a fatal signal interrupted
 * @vmf: the fault, as the exporter's &vm_operations_struct.fault got it.
 *
 * For a fault handler whose work (allocating the storage, say) stopped
 * because the task is being killed: returning VM_FAULT_NOPAGE would let
 * the faulting access run again, and a copy the kernel makes from the
 * mapping would fault again and again. The fault is retried instead, and
 * the mm core ends the access of a task with a fatal signal pending.
 *
 * Context: A page fault handler, with the fault's lock held and
 * &dma_buf.lock released.
 * Return: VM_FAULT_RETRY, with the fault's lock released unless the fault
 * asked not to wait; VM_FAULT_SIGBUS for a fault that cannot be retried.
 */
vm_fault_t dma_buf_fault_retry(struct vm_fault *vmf)
{
	if (!(vmf->flags & FAULT_FLAG_ALLOW_RETRY))
		return VM_FAULT_SIGBUS;
	if (!(vmf->flags & FAULT_FLAG_RETRY_NOWAIT))
		release_fault_lock(vmf);
	return VM_FAULT_RETRY;
}
EXPORT_SYMBOL_GPL(dma_buf_fault_retry);

/**
 * dma_buf_pinned() - must a buffer's storage stay where it is?
 * @dmabuf: the buffer.
 *
 * The storage is pinned while an importer holds a mapping, a kernel CPU
 * access is in progress or someone holds the buffer's kernel mapping (an
 * idle one the core kept does not pin; see "moving storage").
 *
 * Context: Called with &dma_buf.lock held, as in the exporter's
 * callbacks. Kernel CPU accesses begin and end without that lock, and so
 * do holders of a kernel mapping the core kept, so the answer is a
 * snapshot; in &dma_buf_ops.move, where the core keeps both out, it
 * holds.
 * Return: true if the storage is pinned.
 */
bool dma_buf_pinned(struct dma_buf *dmabuf)
{
	struct dma_buf_attachment *attach;

	lockdep_assert_held(&dmabuf->lock);
	if (dma_buf_cpu_accesses(dmabuf) || dma_buf_vmap_holders(dmabuf))
		return true;
	/* Only inside an access; a map outside one was already reported. */
	if (dma_buf_debug_kmaps(dmabuf))
		return true;
	list_for_each_entry(attach, &dmabuf->attachments, node)
		if (attach->map_count)
			return true;
	return false;
}
EXPORT_SYMBOL_GPL(dma_buf_pinned);

/**
 * dma_buf_move_locked() - move a buffer's storage, lock held
 * @dmabuf: the buffer.
 * @c: where the storage should go; the core narrows it to what every
 *	attached device can reach (dma_buf_attachments_constraints()).
 *
 * For an exporter's callbacks, which run with &dma_buf.lock held; see
 * dma_buf_move() and "moving storage" above for the protocol. The lock is
 * held throughout, so no user gets in before the storage is switched.
 *
 * Context: Process context, with &dma_buf.lock held. May sleep.
 * Return: 0 once the storage moved (or if it had none yet); -EINVAL (with
 * a WARN) for a NULL argument; -EOPNOTSUPP if the exporter cannot move
 * its storage; -EBUSY if the storage is pinned; -ERANGE if @c allows no
 * memory at all; the exporter's error from &dma_buf_ops.move (-ENOMEM,
 * -EINTR), with the storage unchanged.
 */
int dma_buf_move_locked(struct dma_buf *dmabuf,
			const struct dma_buf_constraints *c)
{
	struct dma_buf_attachment *attach;
	struct dma_buf_constraints t;
	int ret;

	if (dma_buf_misuse(!dmabuf || !c))
		return -EINVAL;
	lockdep_assert_held(&dmabuf->lock);

	if (!dmabuf->ops->move)
		return -EOPNOTSUPP;
	dma_buf_attachments_constraints(dmabuf, &t);
	dma_buf_constraints_narrow(&t, c);
	if (!t.dma_limit)
		return -ERANGE;

	/* Kernel CPU accesses pin without the lock: keep new ones out. */
	dma_buf_block_cpu_access(dmabuf);
	/*
	 * The kept kernel mapping goes first: it can be taken without the
	 * lock until then.
	 */
	if (dma_buf_pinned(dmabuf) || !dma_buf_drop_kept_vmap(dmabuf)) {
		ret = -EBUSY;
		goto unblock;
	}
	/* The next userspace access faults, and waits for the lock. */
	unmap_mapping_range(dmabuf->file->f_mapping, 0, 0, 1);
	/* Nobody holds these; the next map is of the new storage. */
	list_for_each_entry(attach, &dmabuf->attachments, node)
		if (attach->sgt)
			dma_buf_release_mapping(attach);
	ret = dmabuf->ops->move(dmabuf, &t);
unblock:
	dma_buf_unblock_cpu_access(dmabuf);
	return ret;
}
EXPORT_SYMBOL_GPL(dma_buf_move_locked);

/**
 * dma_buf_move() - move a buffer's storage
 * @dmabuf: the buffer, on which the caller holds a reference.
 * @c: where the storage should go (its @dma_limit, in particular); the
 *	core narrows it to what every attached device can reach.
 *
 * For exporters (and debugfs): refuses while the storage is pinned,
 * otherwise takes every userspace mapping and every cached device mapping
 * of the buffer away and lets the exporter's &dma_buf_ops.move copy the
 * bytes into new storage; see "moving storage" above.
 *
 * Context: Process context. Takes &dma_buf.lock; may sleep.
 * Return: As dma_buf_move_locked(), or -EINTR if a fatal signal came
 * while waiting for the buffer's lock.
 */
int dma_buf_move(struct dma_buf *dmabuf, const struct dma_buf_constraints *c)
{
	int ret;

	if (dma_buf_misuse(!dmabuf || !c))
		return -EINVAL;
	if (mutex_lock_killable(&dmabuf->lock))
		return -EINTR;
	ret = dma_buf_move_locked(dmabuf, c);
	mutex_unlock(&dmabuf->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(dma_buf_move);

/*
 * Does @dev reach memory through an IOMMU that translates its DMA
 * addresses? Then any page can be mapped into its reach. Not in
 * passthrough (an identity domain): its DMA addresses are then physical
 * addresses, as without an IOMMU.
 */
VISIBLE_IF_KUNIT bool dma_buf_translated(struct device *dev)
{
	struct iommu_domain *domain;

	KUNIT_STATIC_STUB_REDIRECT(dma_buf_translated, dev);
	domain = iommu_get_domain_for_dev(dev);
	return domain && iommu_is_dma_domain(domain);
}
EXPORT_SYMBOL_IF_KUNIT(dma_buf_translated);

/*
 * If every mapping of @dev is bounced (swiotlb=force, a confidential VM),
 * the highest physical address of its bounce buffers; otherwise 0.
 */
VISIBLE_IF_KUNIT phys_addr_t dma_buf_bounce_limit(struct device *dev)
{
	KUNIT_STATIC_STUB_REDIRECT(dma_buf_bounce_limit, dev);
	return is_swiotlb_force_bounce(dev) ? default_swiotlb_limit() : 0;
}
EXPORT_SYMBOL_IF_KUNIT(dma_buf_bounce_limit);

/*
 * The longest mapping the DMA API can make for @dev in one piece: what one
 * bounce buffer holds when its mappings may be bounced, else no limit.
 */
VISIBLE_IF_KUNIT size_t dma_buf_max_mapping_size(struct device *dev)
{
	KUNIT_STATIC_STUB_REDIRECT(dma_buf_max_mapping_size, dev);
	return dma_max_mapping_size(dev);
}
EXPORT_SYMBOL_IF_KUNIT(dma_buf_max_mapping_size);

/*
 * Is memory the DMA API allocates for @dev shared with the host (a
 * confidential VM)? No exporter hands such memory out as a buffer.
 */
VISIBLE_IF_KUNIT bool dma_buf_dma_memory_shared(struct device *dev)
{
	KUNIT_STATIC_STUB_REDIRECT(dma_buf_dma_memory_shared, dev);
	return force_dma_unencrypted(dev);
}
EXPORT_SYMBOL_IF_KUNIT(dma_buf_dma_memory_shared);

/*
 * The lowest physical address of RAM, which is not 0 on many arm64 and
 * arm machines: a DMA limit below it reaches no memory.
 */
VISIBLE_IF_KUNIT phys_addr_t dma_buf_lowest_ram(void)
{
	KUNIT_STATIC_STUB_REDIRECT(dma_buf_lowest_ram);
	return PFN_PHYS(min_low_pfn);
}
EXPORT_SYMBOL_IF_KUNIT(dma_buf_lowest_ram);

/*
 * What an importer's statement that @dev takes the buffer in at most
 * @max_segments pieces asks of the storage: nothing behind a translating
 * IOMMU, which maps any pages at consecutive DMA addresses.
 */
static unsigned int dma_buf_device_segments(struct device *dev,
					    unsigned int max_segments)
{
	return max_segments && !dma_buf_translated(dev) ? max_segments : 0;
}

/* The address limit of dma_buf_device_constraints(). */
static u64 dma_buf_device_limit(struct device *dev)
{
	u64 limit = dma_to_phys(dev, min_not_zero(dma_get_mask(dev),
						  dev->bus_dma_limit));
	phys_addr_t bounce = dma_buf_bounce_limit(dev);

	if (dma_buf_translated(dev))
		return U64_MAX;
	if (bounce)
		return bounce <= limit ? U64_MAX : 0;
	if (limit < dma_buf_lowest_ram())
		return 0;
	return limit;
}

/**
 * dma_buf_device_segment_limits() - how one device's segments are cut
 * @dev: the device.
 * @c: its @c->max_segment_size and @c->seg_boundary_mask are filled in
 *	for memory with pages mapped with dma_map_sgtable(); @c->dma_limit
 *	is left alone.
 *
 * Segments are no longer than the device's maximum segment size and than
 * what one mapping can bounce (dma_max_mapping_size()), and do not cross
 * its segment boundary. This is the part of dma_buf_device_constraints()
 * that a &dma_buf_ops.map_dma_buf needs: the device's reach was settled
 * when it attached, and working it out again costs more than the segment
 * limits do.
 *
 * Context: Any context.
 */
void dma_buf_device_segment_limits(struct device *dev,
				   struct dma_buf_constraints *c)
{
	c->max_segment_size = min_not_zero((size_t)dma_get_max_seg_size(dev),
					   dma_buf_max_mapping_size(dev));
	c->seg_boundary_mask = dma_get_seg_boundary(dev);
}
EXPORT_SYMBOL_GPL(dma_buf_device_segment_limits);

/**
 * dma_buf_device_constraints() - what one device can work with
 * @dev: the device.
 * @c: filled in with @dev's constraints for memory with pages, mapped
 *	with dma_map_sgtable().
 *
 * The address limit is the lower of the device's DMA mask and its bus
 * limit, translated to a physical address. A device behind a translating
 * IOMMU has none, since the IOMMU maps any page into its reach (in
 * passthrough it has its limit). A device whose every mapping is bounced
 * (swiotlb=force, a confidential VM) has none either, since only the
 * bounce buffers have to be within its reach. If they are not, or if all
 * RAM lies above its limit, it can reach no memory at all and its limit
 * is 0. Segments are cut as dma_buf_device_segment_limits() says.
 *
 * Context: Any context.
 */
void dma_buf_device_constraints(struct device *dev,
				struct dma_buf_constraints *c)
{
	c->dma_limit = dma_buf_device_limit(dev);
	dma_buf_device_segment_limits(dev, c);
	c->max_segments = 0;
	c->dma_dev = NULL;
}
EXPORT_SYMBOL_GPL(dma_buf_device_constraints);

/*
 * Can @attach's device only be given the buffer in memory the DMA API
 * allocated for it? Its every mapping is bounced, each segment into a
 * bounce buffer of its own (at most what dma_buf_device_segment_limits()
 * says), and its importer takes the buffer in fewer pieces than that
 * makes of it.
 */
static bool dma_buf_needs_own_memory(const struct dma_buf_attachment *attach)
{
	unsigned int limit = dma_buf_device_segments(attach->dev,
						     attach->max_segments);
	struct dma_buf_constraints c;
	u64 seg, most;

	if (!limit || !dma_buf_bounce_limit(attach->dev))
		return false;
	dma_buf_device_segment_limits(attach->dev, &c);
	/* No segment is longer than the boundary's step either. */
	seg = min_t(u64, c.max_segment_size,
		    (u64)c.seg_boundary_mask + 1 ?: U64_MAX);
	return !check_mul_overflow((u64)limit, seg, &most) &&
	       attach->dmabuf->size > most;
}

/* The constraints of @attach: its device's, and its importer's statement. */
static void dma_buf_attachment_constraints(const struct dma_buf_attachment *attach,
					   struct dma_buf_constraints *c)
{
	dma_buf_device_constraints(attach->dev, c);
	c->max_segments = dma_buf_device_segments(attach->dev,
						  attach->max_segments);
	if (dma_buf_needs_own_memory(attach))
		c->dma_dev = attach->dev;
}

/**
 * dma_buf_attachments_constraints() - what every attached device can work
 *	with
 * @dmabuf: the buffer.
 * @c: filled in with the intersection of the constraints of every device
 *	attached to @dmabuf; with none attached, no constraint at all.
 *
 * For exporters that allocate storage at first use: the storage must lie
 * at or below @c->dma_limit, and the scatterlists they build respect
 * @c->max_segment_size and @c->seg_boundary_mask.
 *
 * Context: Called with &dma_buf.lock held (as it is in the exporter's
 * callbacks), so that no device attaches meanwhile.
 * Return: The number of attached devices.
 */
unsigned int dma_buf_attachments_constraints(struct dma_buf *dmabuf,
					     struct dma_buf_constraints *c)
{
	struct dma_buf_attachment *attach;
	struct dma_buf_constraints dc;
	unsigned int n = 0;

	lockdep_assert_held(&dmabuf->lock);

	c->dma_limit = U64_MAX;
	c->max_segment_size = UINT_MAX;
	c->seg_boundary_mask = ULONG_MAX;
	c->max_segments = 0;
	c->dma_dev = NULL;
	list_for_each_entry(attach, &dmabuf->attachments, node) {
		dma_buf_attachment_constraints(attach, &dc);
		dma_buf_constraints_narrow(c, &dc);
		n++;
	}
	return n;
}
EXPORT_SYMBOL_GPL(dma_buf_attachments_constraints);

/* How many segments @c cuts the frames [@start, @end) into. */
static unsigned int dma_buf_pieces_segments(const struct dma_buf_constraints *c,
					    unsigned long start,
					    unsigned long end)
{
	u64 addr = PFN_PHYS((u64)start), left = PFN_PHYS((u64)(end - start));
	unsigned int n = 0;
	size_t seg;

	while (left) {
		seg = dma_buf_segment_len(c, addr, left);
		if (WARN_ON_ONCE(!seg))
			break;
		addr += seg;
		left -= seg;
		n++;
	}
	return n;
}

/**
 * dma_buf_check_segments() - does existing storage come in few enough
 *	pieces for an importer?
 * @attach: the attachment, in the exporter's &dma_buf_ops.attach.
 * @run: where each run of the storage's pages lies (as for
 *	dma_buf_map_window()), or NULL if the storage does not exist yet.
 * @data: the exporter's data for @run.
 *
 * For the &dma_buf_ops.attach of an exporter of memory with pages: counts
 * the pieces of consecutive physical addresses the storage comes in (runs
 * that follow each other in memory are one piece) against what the
 * importer stated (&dma_buf_attachment.max_segments). Behind a translating
 * IOMMU any storage will do. For a device whose every mapping is bounced,
 * each segment of a run (cut at the device's maximum segment size and
 * boundary and at what one mapping can bounce) goes to a bounce buffer of
 * its own and counts, runs that follow each other too (an exporter's
 * scatterlist may keep them apart: one that joins them reports them as
 * one run). If the buffer is longer than so many segments, only memory
 * the DMA API allocates for the device will do (see "negotiation"): such
 * a device is taken before the storage exists unless another attached
 * device needs the same, and refused once it exists (an exporter whose
 * storage was allocated for this device does not ask).
 *
 * Context: Process context, with &dma_buf.lock held
 * (as in &dma_buf_ops.attach), so that no device attaches meanwhile.
 * Return: 0 if the storage comes in few enough pieces; -ERANGE if not,
 * which the exporter returns for the core to move the storage; -EINVAL
 * (with a WARN) for a NULL argument.
 */
int dma_buf_check_segments(const struct dma_buf_attachment *attach,
			   dma_buf_run_fn run, void *data)
{
	unsigned long pgoff = 0, n_pages, pfn, len, start = 0, next = 0;
	struct dma_buf_attachment *other;
	struct dma_buf_constraints c;
	unsigned int limit, pieces = 0;
	bool bounced;

	if (dma_buf_misuse(!attach))
		return -EINVAL;
	limit = dma_buf_device_segments(attach->dev, attach->max_segments);
	if (!limit)
		return 0;
	if (dma_buf_needs_own_memory(attach)) {
		/*
		 * Storage that exists was not allocated for the device; in a
		 * confidential VM, memory allocated for it would be shared
		 * with the host, which no exporter hands out as a buffer.
		 */
		if (run || dma_buf_dma_memory_shared(attach->dev))
			return -ERANGE;
		/* Nor can storage to come be another device's own too. */
		list_for_each_entry(other, &attach->dmabuf->attachments, node)
			if (other->dev != attach->dev &&
			    dma_buf_needs_own_memory(other))
				return -ERANGE;
		return 0;
	}
	if (!run)
		return 0;
	bounced = dma_buf_bounce_limit(attach->dev);
	if (bounced)
		dma_buf_device_segment_limits(attach->dev, &c);

	n_pages = dma_buf_num_pages(attach->dmabuf);
	while (pgoff < n_pages) {
		len = 0;
		pfn = run(data, pgoff, &len);
		len = clamp(len, 1UL, n_pages - pgoff);
		pgoff += len;
		/*
		 * Runs that follow each other in memory are one piece, but
		 * bounced, where an exporter's scatterlist may keep them
		 * apart (an entry per run) and each entry is bounced alone.
		 */
		if (pieces && pfn == next && !bounced) {
			next += len;
			continue;
		}
		/* Bounced, a run goes to a bounce buffer per segment. */
		if (pieces && bounced)
			pieces += dma_buf_pieces_segments(&c, start, next) - 1;
		if (++pieces > limit)
			return -ERANGE;
		start = pfn;
		next = pfn + len;
	}
	if (pieces && bounced)
		pieces += dma_buf_pieces_segments(&c, start, next) - 1;
	return pieces > limit ? -ERANGE : 0;
}
EXPORT_SYMBOL_GPL(dma_buf_check_segments);

/**
 * dma_buf_check_reach() - can a device reach a buffer's storage?
 * @dev: the device about to attach.
 * @last: the highest physical address of the storage (pages, mapped with
 *	dma_map_sgtable()), or 0 if it has none yet.
 *
 * For an exporter's &dma_buf_ops.attach. Before the storage exists only a
 * device that can reach no memory at all is refused (one whose bounce
 * buffers lie out of its reach, see dma_buf_device_constraints()).
 *
 * Context: Any context.
 * Return: 0 if @dev can DMA to every address up to @last; -ERANGE if it
 * cannot, which dma_buf_attach() then returns to the importer.
 */
int dma_buf_check_reach(struct device *dev, phys_addr_t last)
{
	u64 limit = dma_buf_device_limit(dev);

	return limit && last <= limit ? 0 : -ERANGE;
}
EXPORT_SYMBOL_GPL(dma_buf_check_reach);

/**
 * dma_buf_check_resource_reach() - can a device reach memory without pages?
 * @dev: the device about to attach.
 * @last: the highest physical address of the memory (a PCI BAR, say),
 *	which the exporter maps with dma_map_resource().
 *
 * dma_map_resource() never bounces: the device reaches the memory through
 * a translating IOMMU, or directly, below its DMA mask and bus limit.
 *
 * Context: Any context.
 * Return: 0 if @dev can DMA to every address up to @last; -ERANGE if it
 * cannot.
 */
int dma_buf_check_resource_reach(struct device *dev, phys_addr_t last)
{
	if (dma_buf_translated(dev))
		return 0;
	return last <= min_not_zero(dma_get_mask(dev), dev->bus_dma_limit) ?
	       0 : -ERANGE;
}
EXPORT_SYMBOL_GPL(dma_buf_check_resource_reach);

/**
 * dma_buf_segment_len() - length of the next scatterlist segment
 * @c: the constraints to respect.
 * @addr: address at which the segment starts.
 * @len: bytes of contiguous memory available from @addr.
 *
 * For exporters building scatterlists: the longest segment from @addr
 * that neither exceeds @c->max_segment_size nor crosses a
 * @c->seg_boundary_mask boundary.
 *
 * Context: Any context.
 * Return: The segment's length in bytes, at most @len; 0 if @len is 0.
 */
size_t dma_buf_segment_len(const struct dma_buf_constraints *c, u64 addr,
			   u64 len)
{
	u64 to_boundary = (c->seg_boundary_mask & ~addr) + 1ULL;

	/* A boundary mask of all ones means no boundary at all. */
	if (!to_boundary)
		to_boundary = U64_MAX;
	return min3(len, (u64)c->max_segment_size, to_boundary);
}
EXPORT_SYMBOL_GPL(dma_buf_segment_len);

/**
 * dma_buf_charge_begin() - charge allocations to a buffer's owner
 * @dmabuf: the buffer the caller allocates memory for.
 *
 * Until dma_buf_charge_end(), allocations the current task makes with
 * __GFP_ACCOUNT are charged to the memory cgroup of the process that
 * created @dmabuf, whichever process the current task is (see
 * "accounting" above). For exporters that allocate at first use.
 *
 * Context: Process context; pairs with dma_buf_charge_end() in the same
 * task, without sleeping in another charging scope in between.
 * Return: The charging scope that was active before, for
 * dma_buf_charge_end().
 */
struct mem_cgroup *dma_buf_charge_begin(struct dma_buf *dmabuf)
{
	return set_active_memcg(dmabuf->acct_memcg);
}
EXPORT_SYMBOL_GPL(dma_buf_charge_begin);

/**
 * dma_buf_charge_end() - end a scope begun by dma_buf_charge_begin()
 * @old: what dma_buf_charge_begin() returned.
 *
 * Context: Process context, the task that called dma_buf_charge_begin().
 */
void dma_buf_charge_end(struct mem_cgroup *old)
{
	set_active_memcg(old);
}
EXPORT_SYMBOL_GPL(dma_buf_charge_end);

/**
 * dma_buf_account_pages() - count pages in the owner's memory footprint
 * @dmabuf: the buffer.
 * @nr_pages: pages the exporter now holds for @dmabuf (positive) or has
 *	freed (negative).
 *
 * Adds @nr_pages to the shared-memory resident count (RssShmem) of the
 * process that created @dmabuf, which the OOM killer weighs, whether or
 * not the pages are mapped (see "accounting" above). The exporter takes
 * back everything it added before its &dma_buf_ops.release returns.
 *
 * Context: Any context.
 */
void dma_buf_account_pages(struct dma_buf *dmabuf, long nr_pages)
{
	if (!dmabuf->acct_mm)
		return;
	atomic_long_add(nr_pages, &dmabuf->acct_pages);
	add_mm_counter(dmabuf->acct_mm, MM_SHMEMPAGES, nr_pages);
}
EXPORT_SYMBOL_GPL(dma_buf_account_pages);

VISIBLE_IF_KUNIT int dma_buf_bufinfo_show(struct seq_file *s, void *unused)
{
	struct dma_buf_attachment *attach;
	char name[DMA_BUF_NAME_LEN];
	struct dma_buf *dmabuf;
	size_t total = 0;
	unsigned int n = 0, maps;

	seq_printf(s, "%-10s\t%-8s\t%-6s\t%-20s\t%-8s\t%s\n",
		   "size", "flags", "count", "exp_name", "ino", "name");

	/*
	 * A buffer's lock may be held for a long time (an exporter filling
	 * a large buffer): a reader that waits for it can still be killed.
	 */
	if (mutex_lock_killable(&dma_buf_list_lock))
		return -EINTR;
	list_for_each_entry(dmabuf, &dma_buf_list, list_node) {
		dma_buf_get_name(dmabuf, name);
		seq_printf(s, "%-10zu\t%08x\t%-6ld\t%-20s\t%-8lu\t%s\n",
			   dmabuf->size, dmabuf->file->f_flags,
			   file_count(dmabuf->file), dmabuf->exp_name,
			   file_inode(dmabuf->file)->i_ino, name);

		if (mutex_lock_killable(&dmabuf->lock)) {
			mutex_unlock(&dma_buf_list_lock);
			return -EINTR;
		}
		maps = 0;
		list_for_each_entry(attach, &dmabuf->attachments, node) {
			seq_printf(s, "\tattached: %s %s\n",
				   dev_driver_string(attach->dev),
				   dev_name(attach->dev));
			maps += attach->map_count;
		}
		if (dma_buf_pinned(dmabuf))
			seq_printf(s, "\tpinned: %u mappings held, %d CPU accesses, %u kernel mappings\n",
				   maps, dma_buf_cpu_accesses(dmabuf),
				   dma_buf_vmap_holders(dmabuf));
		mutex_unlock(&dmabuf->lock);

		total += dmabuf->size;
		n++;
	}
	mutex_unlock(&dma_buf_list_lock);

	seq_printf(s, "Total %u objects, %zu bytes\n", n, total);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dma_buf_bufinfo_show);

DEFINE_SHOW_ATTRIBUTE(dma_buf_bufinfo);

/* debugfs dma_buf/move: "FD [LIMIT]"; see "moving storage". */
static ssize_t dma_buf_move_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct dma_buf_constraints c = {
		.dma_limit = U64_MAX,
		.max_segment_size = UINT_MAX,
		.seg_boundary_mask = ULONG_MAX,
	};
	char buf[48], *fd_text, *limit_text;
	struct dma_buf *dmabuf;
	int fd, ret;

	if (!count || count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	/* Whole numbers only: "5garbage" is not descriptor 5, nor "5\0x". */
	if (strlen(buf) != count)
		return -EINVAL;
	limit_text = strim(buf);
	fd_text = strsep(&limit_text, " \t");
	if (kstrtoint(fd_text, 10, &fd))
		return -EINVAL;
	if (limit_text &&
	    kstrtoull(skip_spaces(limit_text), 0, &c.dma_limit))
		return -EINVAL;

	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	ret = dma_buf_move(dmabuf, &c);
	dma_buf_put(dmabuf);
	return ret ? ret : count;
}

static const struct file_operations dma_buf_move_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= dma_buf_move_write,
	.llseek	= noop_llseek,
};

/*
 * /proc/<pid>/fd/<n> reads "/dmabuf:<name>", also after the buffer was
 * released if an O_PATH descriptor keeps the dentry: the structure lives
 * as long as the dentry.
 */
static char *dma_buf_dname(struct dentry *dentry, char *buffer, int buflen)
{
	struct dma_buf *dmabuf = dentry->d_fsdata;
	char name[DMA_BUF_NAME_LEN] = "";

	if (dmabuf)
		dma_buf_get_name(dmabuf, name);
	return dynamic_dname(buffer, buflen, "/%s:%s", dentry->d_name.name,
			     name);
}

static void dma_buf_d_release(struct dentry *dentry)
{
	struct dma_buf *dmabuf = dentry->d_fsdata;

	/* NULL only if dma_buf_export() failed before it set it. */
	if (!dmabuf)
		return;
	mutex_destroy(&dmabuf->lock);
	kfree(dmabuf->name);
	kfree(dmabuf);
}

static const struct dentry_operations dma_buf_dentry_ops = {
	.d_dname = dma_buf_dname,
	.d_release = dma_buf_d_release,
};

static int dma_buf_init_fs_context(struct fs_context *fc)
{
	struct pseudo_fs_context *ctx = init_pseudo(fc, DMA_BUF_MAGIC);

	if (!ctx)
		return -ENOMEM;
	ctx->dops = &dma_buf_dentry_ops;
	return 0;
}

static struct file_system_type dma_buf_fs_type = {
	.name		 = "dmabuf",
	.init_fs_context = dma_buf_init_fs_context,
	.kill_sb	 = kill_anon_super,
};

/*
 * Teach lockdep the documented lock order once, at boot: a violation is
 * then reported the first time either half of it happens.
 */
static int __init dma_buf_lockdep_prime(void)
{
	struct mm_struct *mm;
	struct mutex lock;	/* stands for any buffer's lock */

	if (!IS_ENABLED(CONFIG_LOCKDEP))
		return 0;

	mm = mm_alloc();
	if (!mm)
		return -ENOMEM;
	__mutex_init(&lock, "&dmabuf->lock", &dma_buf_lock_key);

	mmap_read_lock(mm);
	mutex_lock(&dma_buf_list_lock);
	mutex_lock(&lock);
	fs_reclaim_acquire(GFP_KERNEL);
	fs_reclaim_release(GFP_KERNEL);
	mutex_unlock(&lock);
	mutex_unlock(&dma_buf_list_lock);
	mmap_read_unlock(mm);

	mutex_destroy(&lock);
	mmput(mm);
	return 0;
}

/* On failure dma_buf_mnt stays NULL, and dma_buf_export() fails. */
static int __init dma_buf_init(void)
{
	struct vfsmount *mnt;
	struct dentry *dir;
	int ret;

	/*
	 * A buffer is a kmalloc-192 object on 64-bit machines without lock
	 * debugging (make bench's slab row): 184 bytes, so 8 more fit; past
	 * them it would be a kmalloc-256 one.
	 */
	BUILD_BUG_ON(IS_ENABLED(CONFIG_64BIT) && !IS_ENABLED(CONFIG_DMA_BUF_DEBUG) &&
		     !IS_ENABLED(CONFIG_DEBUG_MUTEXES) &&
		     !IS_ENABLED(CONFIG_DEBUG_LOCK_ALLOC) &&
		     !IS_ENABLED(CONFIG_DEBUG_SPINLOCK) &&
		     !IS_ENABLED(CONFIG_PREEMPT_RT) &&
		     sizeof(struct dma_buf) > 192);

	ret = dma_buf_lockdep_prime();
	if (ret)
		return ret;

	mnt = kern_mount(&dma_buf_fs_type);
	if (IS_ERR(mnt))
		return PTR_ERR(mnt);
	dma_buf_mnt = mnt;

	dir = debugfs_create_dir("dma_buf", NULL);
	debugfs_create_file("bufinfo", 0444, dir, NULL, &dma_buf_bufinfo_fops);
	debugfs_create_file("move", 0200, dir, NULL, &dma_buf_move_fops);
	/* Cannot fail: it adds to a list. */
	register_vmap_purge_notifier(&dma_buf_vmap_purge_nb);
	return 0;
}
subsys_initcall(dma_buf_init);
