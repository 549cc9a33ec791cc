/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dma-buf: sharing buffers between drivers.
 *
 * An exporter wraps memory it owns in a struct dma_buf backed by a file;
 * importers attach their devices to it and ask the exporter for a
 * scatterlist of DMA addresses for each. See
 * Documentation/driver-api/dma-buf.rst.
 */
#ifndef __LINUX_DMA_BUF_H
#define __LINUX_DMA_BUF_H

#include <linux/dma-direction.h>
#include <linux/err.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/pfn.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <uapi/linux/dma-buf.h>

#include <asm/page.h>

struct device;
struct dma_buf;
struct dma_buf_attachment;
struct dma_buf_constraints;
struct file;
struct mem_cgroup;
struct mm_struct;
struct module;
struct page;
struct sg_table;
struct vm_area_struct;
struct vm_fault;

/**
 * struct dma_buf_ops - what an exporter provides for its buffers
 *
 * Unless a callback says otherwise, the core calls it with the buffer's
 * &dma_buf.lock held, in process context, and it may sleep. An exporter
 * therefore never takes &dma_buf.lock itself inside a callback; it may
 * take it from code the core does not call, such as its mmap fault
 * handler. Mandatory callbacks are checked by dma_buf_export().
 */
struct dma_buf_ops {
	/**
	 * @attach: Optional. Called by dma_buf_attach() when @dev attaches,
	 * before the attachment is visible on &dma_buf.attachments. An
	 * exporter whose storage already exists checks here that @dev can
	 * reach it (dma_buf_check_reach()) and that it comes in no more
	 * pieces than the importer stated (dma_buf_check_segments()), and
	 * may set &dma_buf_attachment.priv. Returns 0, or a negative errno
	 * that dma_buf_attach() passes on (-ERANGE for a device that cannot
	 * reach the storage or take it in so few pieces).
	 */
	int (*attach)(struct dma_buf *dmabuf, struct device *dev,
		      struct dma_buf_attachment *attach);

	/**
	 * @detach: Optional. Called by dma_buf_detach() after the core has
	 * released the attachment's cached mapping and removed it from
	 * &dma_buf.attachments, with &dma_buf.lock held (it may move the
	 * storage with dma_buf_move_locked()). Cannot fail.
	 */
	void (*detach)(struct dma_buf *dmabuf,
		       struct dma_buf_attachment *attach);

	/**
	 * @map_dma_buf: Mandatory. Called by dma_buf_map_attachment() when
	 * the attachment has no cached mapping in direction @dir. Allocates
	 * the backing storage if it does not exist yet (reachable by every
	 * attached device, see dma_buf_attachments_constraints()), and
	 * returns an &sg_table mapped for &dma_buf_attachment.dev in @dir:
	 * only its DMA addresses and lengths are for the importer, which
	 * never sees a &struct page. Returns an ERR_PTR() on failure, never
	 * NULL.
	 */
	struct sg_table *(*map_dma_buf)(struct dma_buf_attachment *attach,
					enum dma_data_direction dir);

	/**
	 * @unmap_dma_buf: Mandatory. Called with the table @map_dma_buf
	 * returned and its direction, when the core drops its cached
	 * mapping: at dma_buf_detach(), or when the attachment is mapped in
	 * another direction. The memory belongs to the CPU by then (the core
	 * called @sync_for_cpu when the last importer unmapped), so an
	 * exporter that has @sync_for_cpu unmaps without syncing again
	 * (DMA_ATTR_SKIP_CPU_SYNC). Cannot fail.
	 */
	void (*unmap_dma_buf)(struct dma_buf_attachment *attach,
			      struct sg_table *sgt,
			      enum dma_data_direction dir);

	/**
	 * @sync_for_device: Optional. Hands the memory behind a cached
	 * mapping to the mapping's device: makes what the CPU wrote visible
	 * to it (cache write-back, a copy into a bounce buffer). Called with
	 * the table @map_dma_buf returned and the mapping's direction when
	 * an importer starts using the mapping (dma_buf_map_attachment()
	 * finds it unused, including right after @map_dma_buf created it),
	 * and by dma_buf_end_cpu_access() for every mapping an importer
	 * holds. Typically dma_sync_sgtable_for_device(). Absent for memory
	 * that needs no maintenance (uncached memory, a coherent pool).
	 */
	void (*sync_for_device)(struct dma_buf_attachment *attach,
				struct sg_table *sgt,
				enum dma_data_direction dir);

	/**
	 * @sync_for_cpu: Optional. Hands the memory behind a cached mapping
	 * back to the CPU: makes what the device wrote visible to the CPU
	 * (cache invalidation, a copy out of a bounce buffer). Called with
	 * the mapping's table and direction when its last importer unmaps
	 * it (dma_buf_unmap_attachment()), and by dma_buf_begin_cpu_access()
	 * for every mapping an importer holds. Typically
	 * dma_sync_sgtable_for_cpu().
	 */
	void (*sync_for_cpu)(struct dma_buf_attachment *attach,
			     struct sg_table *sgt,
			     enum dma_data_direction dir);

	/**
	 * @release: Mandatory. Called once, after the last reference to the
	 * buffer is gone (every fd closed, every dma_buf_put() done), without
	 * &dma_buf.lock, from the context of the last fput(). Frees the
	 * backing storage and the exporter's private data. No attachment is
	 * left by then.
	 */
	void (*release)(struct dma_buf *dmabuf);

	/**
	 * @begin_cpu_access: Optional. Called by dma_buf_begin_cpu_access()
	 * and DMA_BUF_IOCTL_SYNC(START) before the CPU accesses the bytes
	 * [@start, @start + @len) in direction @dir (the range is already
	 * checked against the size). Allocates the backing storage and does
	 * whatever the CPU's side needs, so that the kmap callbacks that
	 * follow cannot fail; the core then pins the storage for a kernel
	 * access and calls @sync_for_cpu for the mappings importers hold.
	 * Called WITHOUT &dma_buf.lock, as an access that only pins needs
	 * none: an exporter that allocates here takes the lock itself, so
	 * that the allocation is serialised with attach and map (the system
	 * heap does). The storage may move between this and the pin; an
	 * exporter that moves it leaves the new storage as ready for the
	 * CPU as the old. Returns 0 or a negative errno, which the caller
	 * sees. Absent means CPU access needs no preparation.
	 */
	int (*begin_cpu_access)(struct dma_buf *dmabuf, size_t start,
				size_t len, enum dma_data_direction dir);

	/**
	 * @end_cpu_access: Optional. Called by dma_buf_end_cpu_access() and
	 * DMA_BUF_IOCTL_SYNC(END) after the CPU is done with the range,
	 * before the core calls @sync_for_device for the mappings importers
	 * hold. Called WITHOUT &dma_buf.lock: it hands the CPU's side back
	 * (drains write buffers, cleans caches), for which the storage must
	 * only stay where it is, and for dma_buf_end_cpu_access() the access
	 * ending still pins it until this returns. DMA_BUF_IOCTL_SYNC does
	 * not pin: an exporter that moves its storage and needs it here takes
	 * the lock itself. May sleep. Cannot fail.
	 */
	void (*end_cpu_access)(struct dma_buf *dmabuf, size_t start,
			       size_t len, enum dma_data_direction dir);

	/**
	 * @kmap_atomic: Mandatory. Maps page @page_num of the buffer into the
	 * kernel's address space and returns its address. Called WITHOUT
	 * &dma_buf.lock, possibly in atomic context: must neither sleep nor
	 * fail (preparation belongs in @begin_cpu_access). @page_num is
	 * already checked against the size. Not called for pages in the
	 * runs the exporter published (dma_buf_set_kmap_runs()), which the
	 * core maps itself: those need no callback at all.
	 */
	void *(*kmap_atomic)(struct dma_buf *dmabuf, unsigned long page_num);

	/**
	 * @kunmap_atomic: Optional. Undoes @kmap_atomic, WITHOUT
	 * &dma_buf.lock, possibly in atomic context: must not sleep. Called
	 * only for the pages @kmap_atomic mapped.
	 */
	void (*kunmap_atomic)(struct dma_buf *dmabuf, unsigned long page_num,
			      void *vaddr);

	/**
	 * @kmap: Mandatory. Maps page @page_num of the buffer into the
	 * kernel's address space and returns its address; the caller may
	 * sleep while it holds the mapping. Called WITHOUT &dma_buf.lock,
	 * inside a kernel CPU access: @begin_cpu_access has prepared the
	 * storage and the access pins it, so this looks the page up and
	 * maps it, nothing more. May sleep. Should not fail; returns NULL
	 * if it does. @page_num is already checked against the size. Not
	 * called for pages in the runs the exporter published, as
	 * @kmap_atomic.
	 */
	void *(*kmap)(struct dma_buf *dmabuf, unsigned long page_num);

	/**
	 * @kunmap: Optional. Undoes @kmap, WITHOUT &dma_buf.lock. May
	 * sleep. Cannot fail. Called only for the pages @kmap mapped.
	 */
	void (*kunmap)(struct dma_buf *dmabuf, unsigned long page_num,
		       void *vaddr);

	/**
	 * @vmap: Optional. Maps the whole buffer into the kernel at one
	 * linear address and returns it, allocating the storage first if
	 * it has none yet. Called with &dma_buf.lock held by a
	 * dma_buf_vmap() that finds no mapping: the first, the first after
	 * a move, or the first after the last release of a mapping the core
	 * did not keep. The core shares the address between callers and
	 * counts them. Returns the address or an ERR_PTR() (-ENOMEM).
	 * Absent means dma_buf_vmap() fails with -EOPNOTSUPP.
	 */
	void *(*vmap)(struct dma_buf *dmabuf);

	/**
	 * @vunmap: Optional. Undoes @vmap, with &dma_buf.lock held, once
	 * the last dma_buf_vunmap() released the mapping: at once, or
	 * later if the core kept it idle for the next dma_buf_vmap(), but
	 * always before &dma_buf_ops.move and &dma_buf_ops.release. Cannot
	 * fail.
	 */
	void (*vunmap)(struct dma_buf *dmabuf, void *vaddr);

	/**
	 * @mmap: Optional. Maps the buffer into a userspace @vma, for
	 * mmap() on the buffer's fd and for dma_buf_mmap(). Called with the
	 * process's mmap_lock held for writing and &dma_buf.lock. The core
	 * has checked that the range lies inside the buffer, that the
	 * mapping is shared and has set VM_DONTEXPAND; @vma->vm_pgoff is in
	 * pages from the start of the buffer. Returns 0 or a negative errno.
	 * Without it, mmap() fails with -ENODEV.
	 */
	int (*mmap)(struct dma_buf *dmabuf, struct vm_area_struct *vma);

	/**
	 * @move: Optional. Moves the backing storage to memory at or below
	 * @c->dma_limit, which every attached device can reach. Called by
	 * dma_buf_move() and dma_buf_move_locked() once the storage is idle
	 * (see "moving storage" in Documentation/driver-api/dma-buf.rst):
	 * with &dma_buf.lock held, no mapping held by an importer, no
	 * kernel CPU access in progress, nobody holding the kernel mapping,
	 * every userspace mapping of the buffer zapped, every cached device
	 * mapping already given back through @unmap_dma_buf and an idle
	 * kernel mapping through @vunmap. The exporter allocates the new storage,
	 * copies the bytes (with the CPU: nobody else can touch either copy
	 * meanwhile), switches to it and frees the old. A buffer without
	 * storage yet has nothing to move: return 0, and place it under
	 * @c when it is allocated. Returns 0, or a negative errno with the
	 * old storage intact (-ENOMEM, -EINTR on a fatal signal). Absent
	 * means the storage never moves (a device's memory, a pinned user
	 * range): dma_buf_move() then fails with -EOPNOTSUPP.
	 */
	int (*move)(struct dma_buf *dmabuf,
		    const struct dma_buf_constraints *c);
};

/**
 * struct dma_buf - a buffer shared between drivers
 * @size: size of the buffer in bytes; fixed for its lifetime.
 * @file: the file that backs the buffer. Its reference count is the
 *	buffer's: fds, dma_buf_get() and get_dma_buf() all hold one.
 * @attachments: the &dma_buf_attachment of every attached device, linked
 *	by &dma_buf_attachment.node. Protected by @lock; a kernel CPU access
 *	looks whether it is empty without it.
 * @ops: the exporter's operations.
 * @lock: serialises attach, detach, map, unmap, CPU access and the
 *	exporter's sleeping callbacks on this buffer. Taken inside a
 *	process's mmap_lock, outside any lock of the exporter, and never in
 *	memory reclaim.
 * @priv: the exporter's private data, as passed to dma_buf_export().
 * @owner: the exporting module, pinned while the buffer lives.
 * @exp_name: name of the exporter, shown in fdinfo and debugfs.
 * @name_lock: protects @name; readers may be in any context.
 * @name: name set by userspace with DMA_BUF_SET_NAME, a copy the buffer
 *	owns, or NULL. Freed with the structure.
 * @list_node: entry in the core's list of live buffers (debugfs).
 * @acct_mm: the process that created the buffer (its mm, grabbed), to
 *	whose memory footprint dma_buf_account_pages() adds the buffer's
 *	pages; NULL if a kernel thread exported it. Set at export.
 * @acct_memcg: that process's memory cgroup (referenced), which
 *	dma_buf_charge_begin() charges; NULL without one. Set at export.
 * @acct_pages: pages currently counted in @acct_mm by
 *	dma_buf_account_pages().
 * @cpu_access: number of kernel CPU accesses in progress
 *	(dma_buf_begin_cpu_access() without its end), while which the
 *	storage is pinned, and a bit set while new ones may not pin without
 *	@lock (a move is in progress). Changed without @lock, by
 *	compare-and-exchange against that bit; read anywhere.
 * @vmap_ptr: the buffer's kernel mapping (dma_buf_vmap()), or NULL; with
 *	no holder, an idle one the core keeps for the next dma_buf_vmap().
 *	Set and cleared under @lock; read without it by a holder of a kept
 *	mapping.
 * @vmap_count: in the low bits, the number of dma_buf_vmap() not yet
 *	released, while which the storage is pinned; a high bit while the
 *	core keeps the mapping after the last release. Under @lock, but
 *	holders of a kept mapping come and go without it (compare and
 *	exchange); read anywhere.
 * @kmap_pfns: where dma_buf_kmap() and dma_buf_kmap_atomic() find pages
 *	without calling the exporter: the frame number of the first page of
 *	each run of 2^@kmap_order pages that holds the buffer's first
 *	@kmap_pages pages, in order (dma_buf_set_kmap_runs()). Set under
 *	@lock while no kernel CPU access is in progress; read without a
 *	lock inside one, which pins the storage.
 * @kmap_pages: how many pages from the start of the buffer @kmap_pfns
 *	covers; 0 if the exporter published no runs. As @kmap_pfns.
 * @kmap_order: the order of each run of @kmap_pfns. As @kmap_pfns.
 * @kmap_run_mask: 2^@kmap_order - 1. As @kmap_pfns.
 * @cpu_blocked: how many of the buffer's lock holders (a move, a new
 *	publication of kmap runs inside it) keep kernel CPU accesses from
 *	pinning without @lock; the bit in @cpu_access is set while it is
 *	not zero. Protected by @lock.
 * @kmaps: with CONFIG_DMA_BUF_DEBUG, number of page mappings of the
 *	buffer (dma_buf_kmap(), dma_buf_kmap_atomic()) not yet unmapped.
 *
 * The structure lives until the last reference to its file's dentry is
 * gone (see "Lifetime" in Documentation/driver-api/dma-buf.rst), which
 * may be after the buffer was released: only @name stays meaningful then.
 */
struct dma_buf {
	size_t size;
	struct file *file;
	struct list_head attachments;
	const struct dma_buf_ops *ops;
	struct mutex lock;		/* see @lock above */
	void *priv;
	struct module *owner;
	const char *exp_name;
	spinlock_t name_lock;		/* protects @name */
	unsigned int kmap_order;	/* next to @name_lock: no hole */
	const char *name;
	struct list_head list_node;
	struct mm_struct *acct_mm;
	struct mem_cgroup *acct_memcg;
	atomic_long_t acct_pages;
	atomic_t cpu_access;
	atomic_t vmap_count;		/* next to @cpu_access: no hole */
	void *vmap_ptr;
	const unsigned long *kmap_pfns;
	unsigned int kmap_pages;
	unsigned int kmap_run_mask;
	unsigned int cpu_blocked;
#ifdef CONFIG_DMA_BUF_DEBUG
	atomic_t kmaps;
#endif
};

/**
 * struct dma_buf_attachment - a device attached to a buffer
 * @dmabuf: the buffer.
 * @dev: the attached device.
 * @node: entry in &dma_buf.attachments.
 * @priv: the exporter's data for this attachment.
 * @sgt: the cached mapping for @dev as the importer sees it, or NULL.
 *	Core-private; protected by &dma_buf.lock.
 * @exporter_sgt: the table the exporter returned for @sgt: the same
 *	table, or with CONFIG_DMA_BUF_DEBUG the original of which @sgt is a
 *	copy with scrambled page pointers. Core-private; protected by
 *	&dma_buf.lock.
 * @dir: direction of @sgt. Core-private; protected by &dma_buf.lock.
 * @map_count: number of dma_buf_map_attachment() calls on @sgt not yet
 *	balanced by dma_buf_unmap_attachment(). Core-private; protected by
 *	&dma_buf.lock.
 * @max_segments: the most pieces, each contiguous in the device's DMA
 *	address space, in which the importer can take the buffer, as it
 *	stated to dma_buf_attach_segments(); 0 for any number. Set before
 *	&dma_buf_ops.attach is called, constant afterwards.
 *
 * A device that attaches twice gets two independent attachments.
 */
struct dma_buf_attachment {
	struct dma_buf *dmabuf;
	struct device *dev;
	struct list_head node;
	void *priv;
	struct sg_table *sgt;
	struct sg_table *exporter_sgt;
	enum dma_data_direction dir;
	unsigned int map_count;
	unsigned int max_segments;
};

/**
 * typedef dma_buf_run_fn - where a run of a buffer's pages lies
 * @data: the exporter's data, as given to dma_buf_map_window().
 * @pgoff: a page of the buffer, in pages from its start.
 * @len: set to how many pages from @pgoff on lie at consecutive frames,
 *	at least 1.
 *
 * Return: The frame number of page @pgoff.
 */
typedef unsigned long (*dma_buf_run_fn)(void *data, pgoff_t pgoff,
					unsigned long *len);

/**
 * struct dma_buf_constraints - what a set of devices can all work with
 * @dma_limit: highest physical address every device can reach by DMA,
 *	inclusive; 0 if one of them can reach no memory at all.
 * @max_segment_size: longest scatterlist segment every device accepts,
 *	in bytes.
 * @seg_boundary_mask: no segment may cross an address boundary aligned to
 *	(@seg_boundary_mask + 1); the strictest of the devices' masks.
 * @max_segments: the storage must come in at most this many pieces of
 *	consecutive physical addresses (0: any number); the strictest of the
 *	importers' statements (dma_buf_attach_segments()) that count here:
 *	not that of a device behind a translating IOMMU, which maps any
 *	pages at consecutive DMA addresses.
 * @dma_dev: the device, if any, that can only be given the buffer in
 *	memory the DMA API allocated for it (dma_buf_alloc_for_device()):
 *	its every mapping is bounced, and its importer takes the buffer in
 *	fewer pieces than bounce buffers would make (see "negotiation").
 *	An exporter that allocates storage for the constraints allocates
 *	it so, or fails with -ERANGE. NULL if no device needs it; no buffer
 *	can have two (@dma_limit is then 0).
 *
 * Filled in by dma_buf_device_constraints() and
 * dma_buf_attachments_constraints(); the segment limits alone by
 * dma_buf_device_segment_limits().
 */
struct dma_buf_constraints {
	u64 dma_limit;
	unsigned int max_segment_size;
	unsigned long seg_boundary_mask;
	unsigned int max_segments;
	struct device *dma_dev;
};

#ifdef CONFIG_DMA_SHARED_BUFFER

struct dma_buf *dma_buf_export_owner(void *priv,
				     const struct dma_buf_ops *ops,
				     size_t size, int flags,
				     struct module *owner,
				     const char *exp_name);
int dma_buf_fd(struct dma_buf *dmabuf, int flags);
struct dma_buf *dma_buf_get(int fd);
void dma_buf_put(struct dma_buf *dmabuf);
void get_dma_buf(struct dma_buf *dmabuf);

struct dma_buf_attachment *dma_buf_attach(struct dma_buf *dmabuf,
					  struct device *dev);
struct dma_buf_attachment *dma_buf_attach_segments(struct dma_buf *dmabuf,
						   struct device *dev,
						   unsigned int max_segments);
void dma_buf_detach(struct dma_buf *dmabuf,
		    struct dma_buf_attachment *attach);
struct sg_table *dma_buf_map_attachment(struct dma_buf_attachment *attach,
					enum dma_data_direction dir);
void dma_buf_unmap_attachment(struct dma_buf_attachment *attach,
			      struct sg_table *sgt,
			      enum dma_data_direction dir);

int dma_buf_begin_cpu_access(struct dma_buf *dmabuf, size_t start,
			     size_t len, enum dma_data_direction dir);
void dma_buf_end_cpu_access(struct dma_buf *dmabuf, size_t start,
			    size_t len, enum dma_data_direction dir);
void *__dma_buf_kmap_atomic(struct dma_buf *dmabuf, unsigned long page_num);
void __dma_buf_kunmap_atomic(struct dma_buf *dmabuf, unsigned long page_num,
			     void *vaddr);
void *__dma_buf_kmap(struct dma_buf *dmabuf, unsigned long page_num);
void __dma_buf_kunmap(struct dma_buf *dmabuf, unsigned long page_num,
		      void *vaddr);
void dma_buf_set_kmap_runs(struct dma_buf *dmabuf, const unsigned long *pfns,
			   unsigned int order, unsigned long n_pages);

/**
 * dma_buf_in_kmap_runs() - does the core map this page itself?
 * @dmabuf: the buffer, not NULL.
 * @page_num: the page, in PAGE_SIZE units from the start of the buffer.
 *
 * True if page @page_num lies in the runs the exporter published with
 * dma_buf_set_kmap_runs(). Never with CONFIG_HIGHMEM: a highmem page needs
 * kmap_local_page(), which the exporter does.
 *
 * Context: Any context, inside a kernel CPU access.
 * Return: true if the core maps the page from the runs.
 */
static __always_inline bool dma_buf_in_kmap_runs(const struct dma_buf *dmabuf,
						 unsigned long page_num)
{
	return !IS_ENABLED(CONFIG_HIGHMEM) &&
	       page_num < READ_ONCE(dmabuf->kmap_pages);
}

/**
 * dma_buf_kmap_run_page() - the kernel address of a page in the runs
 * @dmabuf: the buffer, not NULL.
 * @page_num: a page for which dma_buf_in_kmap_runs() is true.
 *
 * The page's address in the kernel's linear map, computed from its run's
 * first frame number. The index is clamped, so that a mispredicted bound
 * check cannot read past the runs speculatively.
 *
 * Context: Any context, inside a kernel CPU access.
 * Return: The page's kernel address.
 */
static __always_inline void *dma_buf_kmap_run_page(const struct dma_buf *dmabuf,
						   unsigned long page_num)
{
	unsigned long pfn;

	page_num = array_index_nospec(page_num, dmabuf->kmap_pages);
	pfn = dmabuf->kmap_pfns[page_num >> dmabuf->kmap_order] +
	      (page_num & dmabuf->kmap_run_mask);
	return __va(PFN_PHYS(pfn));
}

/*
 * Does the caller map (and unmap) page @page_num of @dmabuf inline? Not
 * for a NULL @dmabuf, which the core reports, nor with
 * CONFIG_DMA_BUF_DEBUG, which counts every mapping out of line.
 */
static __always_inline bool dma_buf_kmap_inline(const struct dma_buf *dmabuf,
						unsigned long page_num)
{
	return !IS_ENABLED(CONFIG_DMA_BUF_DEBUG) && likely(dmabuf) &&
	       dma_buf_in_kmap_runs(dmabuf, page_num);
}

/**
 * dma_buf_kmap_atomic() - map a page of a buffer without sleeping
 * @dmabuf: the buffer.
 * @page_num: the page, in PAGE_SIZE units from the start of the buffer.
 *
 * The caller must not sleep until dma_buf_kunmap_atomic() and holds at
 * most two page mappings at once (see "Kernel CPU access" in
 * Documentation/driver-api/dma-buf.rst). A page in the runs the exporter
 * published is mapped here, inline; any other goes to
 * &dma_buf_ops.kmap_atomic.
 *
 * Context: Any context; does not sleep. Call between
 * dma_buf_begin_cpu_access() and dma_buf_end_cpu_access().
 * Return: The page's kernel address; NULL (with a WARN) for a NULL
 * @dmabuf or a page past the end of the buffer.
 */
static inline void *dma_buf_kmap_atomic(struct dma_buf *dmabuf,
					unsigned long page_num)
{
	if (dma_buf_kmap_inline(dmabuf, page_num))
		return dma_buf_kmap_run_page(dmabuf, page_num);
	return __dma_buf_kmap_atomic(dmabuf, page_num);
}

/**
 * dma_buf_kunmap_atomic() - unmap a page mapped with dma_buf_kmap_atomic()
 * @dmabuf: the buffer.
 * @page_num: the page given to dma_buf_kmap_atomic().
 * @vaddr: the address it returned.
 *
 * Context: Any context; does not sleep.
 * Return: Nothing; cannot fail.
 */
static inline void dma_buf_kunmap_atomic(struct dma_buf *dmabuf,
					 unsigned long page_num, void *vaddr)
{
	if (!dma_buf_kmap_inline(dmabuf, page_num))
		__dma_buf_kunmap_atomic(dmabuf, page_num, vaddr);
}

/**
 * dma_buf_kmap() - map a page of a buffer into the kernel
 * @dmabuf: the buffer.
 * @page_num: the page, in PAGE_SIZE units from the start of the buffer.
 *
 * The caller may sleep while it holds the mapping and holds at most two
 * page mappings at once (see "Kernel CPU access" in
 * Documentation/driver-api/dma-buf.rst). No lock is taken: the caller's
 * CPU access pins the storage. A page in the runs the exporter published
 * is mapped here, inline; any other goes to &dma_buf_ops.kmap.
 *
 * Context: Process context; may sleep. Call between
 * dma_buf_begin_cpu_access() and dma_buf_end_cpu_access().
 * Return: The page's kernel address; NULL (with a WARN) for a NULL
 * @dmabuf or a page past the end of the buffer, NULL if the exporter
 * could not map it.
 */
static inline void *dma_buf_kmap(struct dma_buf *dmabuf,
				 unsigned long page_num)
{
	might_sleep();
	if (dma_buf_kmap_inline(dmabuf, page_num))
		return dma_buf_kmap_run_page(dmabuf, page_num);
	return __dma_buf_kmap(dmabuf, page_num);
}

/**
 * dma_buf_kunmap() - unmap a page mapped with dma_buf_kmap()
 * @dmabuf: the buffer.
 * @page_num: the page given to dma_buf_kmap().
 * @vaddr: the address it returned.
 *
 * Context: Process context; may sleep.
 * Return: Nothing; cannot fail.
 */
static inline void dma_buf_kunmap(struct dma_buf *dmabuf,
				  unsigned long page_num, void *vaddr)
{
	might_sleep();
	if (!dma_buf_kmap_inline(dmabuf, page_num))
		__dma_buf_kunmap(dmabuf, page_num, vaddr);
}

void *dma_buf_vmap(struct dma_buf *dmabuf);
void dma_buf_vunmap(struct dma_buf *dmabuf, void *vaddr);
int dma_buf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma,
		 unsigned long pgoff);
vm_fault_t dma_buf_fault_lock(struct dma_buf *dmabuf, struct vm_fault *vmf);
vm_fault_t dma_buf_fault_retry(struct vm_fault *vmf);
int dma_buf_move(struct dma_buf *dmabuf, const struct dma_buf_constraints *c);
int dma_buf_move_locked(struct dma_buf *dmabuf,
			const struct dma_buf_constraints *c);
bool dma_buf_pinned(struct dma_buf *dmabuf);

void dma_buf_device_constraints(struct device *dev,
				struct dma_buf_constraints *c);
void dma_buf_device_segment_limits(struct device *dev,
				   struct dma_buf_constraints *c);
unsigned int dma_buf_attachments_constraints(struct dma_buf *dmabuf,
					     struct dma_buf_constraints *c);
int dma_buf_check_reach(struct device *dev, phys_addr_t last);
int dma_buf_check_segments(const struct dma_buf_attachment *attach,
			   dma_buf_run_fn run, void *data);
int dma_buf_check_resource_reach(struct device *dev, phys_addr_t last);
size_t dma_buf_segment_len(const struct dma_buf_constraints *c, u64 addr,
			   u64 len);
struct page *dma_buf_alloc_pages_below(u64 limit, unsigned int order,
				       gfp_t gfp);
struct page *dma_buf_alloc_contiguous(unsigned long n_pages, u64 limit,
				      gfp_t gfp);
void dma_buf_free_contiguous(struct page *page, unsigned long n_pages);
struct page *dma_buf_alloc_for_device(struct device *dev,
				      unsigned long n_pages, u64 limit,
				      dma_addr_t *dma_handle, gfp_t gfp);
void dma_buf_free_for_device(struct device *dev, struct page *page,
			     unsigned long n_pages, dma_addr_t dma_handle);
struct sg_table *dma_buf_pages_to_sgt(struct page **pages,
				      unsigned int n_pages,
				      const struct dma_buf_constraints *c,
				      gfp_t gfp);
struct sg_table *dma_buf_map_pages(struct dma_buf_attachment *attach,
				   struct page **pages, unsigned int n_pages,
				   enum dma_data_direction dir);
void dma_buf_unmap_pages(struct dma_buf_attachment *attach,
			 struct sg_table *sgt, enum dma_data_direction dir);
void dma_buf_sync_pages_for_device(struct dma_buf_attachment *attach,
				   struct sg_table *sgt,
				   enum dma_data_direction dir);
void dma_buf_sync_pages_for_cpu(struct dma_buf_attachment *attach,
				struct sg_table *sgt,
				enum dma_data_direction dir);
vm_fault_t dma_buf_map_window(struct vm_fault *vmf, unsigned long n_pages,
			      dma_buf_run_fn run, void *data);
struct mem_cgroup *dma_buf_charge_begin(struct dma_buf *dmabuf);
void dma_buf_charge_end(struct mem_cgroup *old);
void dma_buf_account_pages(struct dma_buf *dmabuf, long nr_pages);

#else /* !CONFIG_DMA_SHARED_BUFFER */

static inline struct dma_buf *
dma_buf_export_owner(void *priv, const struct dma_buf_ops *ops, size_t size,
		     int flags, struct module *owner, const char *exp_name)
{
	return ERR_PTR(-ENODEV);
}

static inline int dma_buf_fd(struct dma_buf *dmabuf, int flags)
{
	return -ENODEV;
}

static inline struct dma_buf *dma_buf_get(int fd)
{
	return ERR_PTR(-ENODEV);
}

static inline void dma_buf_put(struct dma_buf *dmabuf)
{
}

static inline void get_dma_buf(struct dma_buf *dmabuf)
{
}

static inline struct dma_buf_attachment *
dma_buf_attach(struct dma_buf *dmabuf, struct device *dev)
{
	return ERR_PTR(-ENODEV);
}

static inline struct dma_buf_attachment *
dma_buf_attach_segments(struct dma_buf *dmabuf, struct device *dev,
			unsigned int max_segments)
{
	return ERR_PTR(-ENODEV);
}

static inline void dma_buf_detach(struct dma_buf *dmabuf,
				  struct dma_buf_attachment *attach)
{
}

static inline struct sg_table *
dma_buf_map_attachment(struct dma_buf_attachment *attach,
		       enum dma_data_direction dir)
{
	return ERR_PTR(-ENODEV);
}

static inline void dma_buf_unmap_attachment(struct dma_buf_attachment *attach,
					    struct sg_table *sgt,
					    enum dma_data_direction dir)
{
}

static inline int dma_buf_begin_cpu_access(struct dma_buf *dmabuf,
					   size_t start, size_t len,
					   enum dma_data_direction dir)
{
	return -ENODEV;
}

static inline void dma_buf_end_cpu_access(struct dma_buf *dmabuf,
					  size_t start, size_t len,
					  enum dma_data_direction dir)
{
}

static inline void *dma_buf_kmap_atomic(struct dma_buf *dmabuf,
					unsigned long page_num)
{
	return NULL;
}

static inline void dma_buf_kunmap_atomic(struct dma_buf *dmabuf,
					 unsigned long page_num, void *vaddr)
{
}

static inline void *dma_buf_kmap(struct dma_buf *dmabuf,
				 unsigned long page_num)
{
	return NULL;
}

static inline void dma_buf_kunmap(struct dma_buf *dmabuf,
				  unsigned long page_num, void *vaddr)
{
}

static inline void dma_buf_set_kmap_runs(struct dma_buf *dmabuf,
					 const unsigned long *pfns,
					 unsigned int order,
					 unsigned long n_pages)
{
}

static inline void *dma_buf_vmap(struct dma_buf *dmabuf)
{
	return ERR_PTR(-ENODEV);
}

static inline void dma_buf_vunmap(struct dma_buf *dmabuf, void *vaddr)
{
}

static inline int dma_buf_mmap(struct dma_buf *dmabuf,
			       struct vm_area_struct *vma,
			       unsigned long pgoff)
{
	return -ENODEV;
}

static inline vm_fault_t dma_buf_fault_lock(struct dma_buf *dmabuf,
					    struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static inline vm_fault_t dma_buf_fault_retry(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static inline int dma_buf_move(struct dma_buf *dmabuf,
			       const struct dma_buf_constraints *c)
{
	return -ENODEV;
}

static inline int dma_buf_move_locked(struct dma_buf *dmabuf,
				      const struct dma_buf_constraints *c)
{
	return -ENODEV;
}

static inline bool dma_buf_pinned(struct dma_buf *dmabuf)
{
	return false;
}

static inline void dma_buf_device_constraints(struct device *dev,
					      struct dma_buf_constraints *c)
{
}

static inline void dma_buf_device_segment_limits(struct device *dev,
						 struct dma_buf_constraints *c)
{
}

static inline unsigned int
dma_buf_attachments_constraints(struct dma_buf *dmabuf,
				struct dma_buf_constraints *c)
{
	return 0;
}

static inline int dma_buf_check_reach(struct device *dev, phys_addr_t last)
{
	return -ENODEV;
}

static inline int dma_buf_check_resource_reach(struct device *dev,
					       phys_addr_t last)
{
	return -ENODEV;
}

static inline int dma_buf_check_segments(const struct dma_buf_attachment *attach,
					 dma_buf_run_fn run, void *data)
{
	return -ENODEV;
}

static inline size_t dma_buf_segment_len(const struct dma_buf_constraints *c,
					 u64 addr, u64 len)
{
	return 0;
}

static inline struct page *dma_buf_alloc_pages_below(u64 limit,
						     unsigned int order,
						     gfp_t gfp)
{
	return NULL;
}

static inline struct page *dma_buf_alloc_contiguous(unsigned long n_pages,
						    u64 limit, gfp_t gfp)
{
	return NULL;
}

static inline void dma_buf_free_contiguous(struct page *page,
					   unsigned long n_pages)
{
}

static inline struct page *dma_buf_alloc_for_device(struct device *dev,
						    unsigned long n_pages,
						    u64 limit,
						    dma_addr_t *dma_handle,
						    gfp_t gfp)
{
	return NULL;
}

static inline void dma_buf_free_for_device(struct device *dev,
					   struct page *page,
					   unsigned long n_pages,
					   dma_addr_t dma_handle)
{
}

static inline struct sg_table *
dma_buf_pages_to_sgt(struct page **pages, unsigned int n_pages,
		     const struct dma_buf_constraints *c, gfp_t gfp)
{
	return ERR_PTR(-ENODEV);
}

static inline struct sg_table *
dma_buf_map_pages(struct dma_buf_attachment *attach, struct page **pages,
		  unsigned int n_pages, enum dma_data_direction dir)
{
	return ERR_PTR(-ENODEV);
}

static inline void dma_buf_unmap_pages(struct dma_buf_attachment *attach,
				       struct sg_table *sgt,
				       enum dma_data_direction dir)
{
}

static inline void
dma_buf_sync_pages_for_device(struct dma_buf_attachment *attach,
			      struct sg_table *sgt,
			      enum dma_data_direction dir)
{
}

static inline void
dma_buf_sync_pages_for_cpu(struct dma_buf_attachment *attach,
			   struct sg_table *sgt, enum dma_data_direction dir)
{
}

static inline vm_fault_t dma_buf_map_window(struct vm_fault *vmf,
					    unsigned long n_pages,
					    dma_buf_run_fn run, void *data)
{
	return VM_FAULT_SIGBUS;
}

static inline struct mem_cgroup *dma_buf_charge_begin(struct dma_buf *dmabuf)
{
	return NULL;
}

static inline void dma_buf_charge_end(struct mem_cgroup *old)
{
}

static inline void dma_buf_account_pages(struct dma_buf *dmabuf,
					 long nr_pages)
{
}

#endif /* CONFIG_DMA_SHARED_BUFFER */

/**
 * dma_buf_export() - wrap an exporter's memory in a new dma-buf
 * @priv: the exporter's private data for the buffer; must not be NULL.
 * @ops: the exporter's operations; must provide every mandatory callback.
 * @size: size of the buffer in bytes; must not be zero.
 * @flags: file flags of the buffer: O_RDWR, O_RDONLY or O_WRONLY, plus
 *	optionally O_CLOEXEC (ignored here; see dma_buf_fd()) and O_NONBLOCK.
 *
 * The calling module becomes the buffer's owner and cannot be unloaded
 * until the buffer is released; the buffer's exporter name is the
 * module's name. See dma_buf_export_owner().
 *
 * Context: Process context. May sleep.
 * Return: The new buffer, holding one reference for the caller, or an
 * ERR_PTR(): -EINVAL for a missing or invalid argument, -ENOMEM, -ENODEV
 * if the calling module is being unloaded or dma-buf is not configured.
 */
#define dma_buf_export(priv, ops, size, flags) \
	dma_buf_export_owner(priv, ops, size, flags, THIS_MODULE, KBUILD_MODNAME)

/**
 * dma_buf_export_named() - dma_buf_export() with an explicit exporter name
 * @priv: as for dma_buf_export().
 * @ops: as for dma_buf_export().
 * @size: as for dma_buf_export().
 * @flags: as for dma_buf_export().
 * @exp_name: the name fdinfo and debugfs show for the exporter; must stay
 *	valid for the buffer's lifetime (a string literal).
 *
 * Context: Process context. May sleep.
 * Return: As for dma_buf_export().
 */
#define dma_buf_export_named(priv, ops, size, flags, exp_name) \
	dma_buf_export_owner(priv, ops, size, flags, THIS_MODULE, exp_name)

#endif /* __LINUX_DMA_BUF_H */
