// SPDX-License-Identifier: GPL-2.0-only
/*
 * The system heap: /dev/dma_heap/system, buffers of system memory whose
 * pages are allocated at first use, where every device attached by then
 * can reach them.
 */

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <kunit/visibility.h>

#include "system_heap.h"

/**
 * DOC: system heap
 *
 * DMA_HEAP_IOCTL_ALLOC on /dev/dma_heap/system returns a buffer without
 * pages. The pages are allocated by the first operation that needs them:
 * the first dma_buf_map_attachment(), dma_buf_begin_cpu_access() (and
 * DMA_BUF_IOCTL_SYNC), dma_buf_vmap(), or a page fault in a userspace
 * mapping. They then lie below the address limit of every device attached
 * at that moment (dma_buf_attachments_constraints()): a buffer attached to
 * a device with a 28-bit DMA mask before its first use lies below
 * 256 MiB. With no device attached, pages come from anywhere, highmem
 * included. New buffers read as zero.
 *
 * The storage can move (&dma_buf_ops.move): when a device attaches later
 * and cannot reach the pages, the core moves them within its reach unless
 * they are pinned (then the attach fails with -ERANGE), and debugfs can
 * move a buffer on request. A move allocates the new pages (charged as
 * above), copies every page with the CPU (highmem to lowmem and back on
 * 32-bit machines), and frees the old ones; for a moment the buffer's
 * memory is counted twice. The fault handler inserts a page while it
 * holds the buffer's lock, so a fault never maps a page a move is about
 * to free.
 *
 * Pages are allocated in runs of 1 MiB, then 64 KiB, where memory allows,
 * so that devices get few, long segments and the pages come and go in few
 * calls to the page allocator; each attachment's scatterlist is cut to
 * that device's maximum segment size and segment boundary. A first touch
 * through mmap() maps the pages around it that one page table covers (2
 * MiB on x86-64) in one go; the mapping counts in the process's RssFile,
 * as a mapping of any file does. Faults are handled under the mapping's
 * own lock (per-VMA locking), not the process's mmap_lock: they neither
 * wait for the process's mmap() and munmap() of other mappings nor hold
 * them up.
 *
 * The pages, and the array that tracks them, are the memory of the
 * process that allocated the buffer, whoever touches it first: they are
 * charged to that process's memory cgroup (memory.current of the cgroup
 * rises by the buffer's size when the pages come, and falls when the
 * buffer is freed; memory.max holds), and they count in its RssShmem,
 * which the OOM killer weighs. When memory runs out, or the cgroup's
 * limit is reached, the use that needed the pages fails: ALLOC of a
 * buffer larger than the machine's memory and DMA_BUF_IOCTL_SYNC,
 * begin_cpu_access and device maps with ENOMEM, the first touch through
 * mmap() with SIGBUS. The heap never invokes the OOM killer for them and
 * never warns. A fatal signal stops a population in progress (EINTR).
 */

/*
 * Runs of 256 pages, then 16, then single pages (1 MiB, 64 KiB and 4 KiB
 * with 4 KiB pages): long runs are fewer allocations and frees, and few,
 * long segments for devices (cut to each device's limits when mapped).
 */
static const unsigned int system_heap_orders[] = { 8, 4, 0 };

/*
 * The buffer's memory is its owner's (dma_buf_charge_begin()), fails
 * rather than invokes the OOM killer, and fails quietly. Runs are
 * compound pages, so that each is freed at once and userspace mappings
 * take references on them (vm_insert_pages()).
 */
#define SYSTEM_HEAP_GFP		(__GFP_ACCOUNT | __GFP_NOWARN | __GFP_COMP)

struct system_heap_buffer {
	struct dma_buf *dmabuf;
	unsigned int n_pages;
	/* The storage, NULL until first use. Under dmabuf->lock. */
	struct page **pages;
	/* Highest physical address of the storage. Under dmabuf->lock. */
	phys_addr_t last;
};

/* Free the runs that start at @pages[0] and cover @n pages. */
static void system_heap_free_pages(struct page **pages, unsigned int n)
{
	struct folio *folio;
	unsigned int i = 0;

	while (i < n) {
		folio = page_folio(pages[i]);
		i += folio_nr_pages(folio);
		folio_put(folio);
	}
	kvfree(pages);
}

/* A run of at most @n pages below @limit: the longest memory allows. */
static struct page *system_heap_alloc_run(u64 limit, unsigned int n,
					  gfp_t zero, unsigned int *order)
{
	struct page *page;
	unsigned int k;
	gfp_t gfp;

	for (k = 0; k < ARRAY_SIZE(system_heap_orders); k++) {
		*order = system_heap_orders[k];
		if (n < 1U << *order)
			continue;
		/* Long runs are a try; single pages are worth reclaiming. */
		gfp = *order ? __GFP_NORETRY : __GFP_RETRY_MAYFAIL;
		page = dma_buf_alloc_pages_below(limit, *order, zero | gfp |
						 SYSTEM_HEAP_GFP);
		if (page)
			return page;
	}
	return NULL;
}

/*
 * Allocate the storage, below what every attached device can reach,
 * charged to the buffer's owner.
 */
static int system_heap_alloc_storage(struct system_heap_buffer *buf,
				     const struct dma_buf_constraints *c,
				     gfp_t zero)
{
	unsigned int i = 0, order, j;
	struct page **pages, *page;
	phys_addr_t last = 0;

	/* Every entry is written before it is read: no need to zero. */
	pages = kvmalloc_array(buf->n_pages, sizeof(*pages), GFP_KERNEL |
			       __GFP_RETRY_MAYFAIL | __GFP_ACCOUNT |
			       __GFP_NOWARN);
	if (!pages)
		return -ENOMEM;

	while (i < buf->n_pages) {
		/* A buffer of a gigabyte takes a while: stay killable. */
		if (fatal_signal_pending(current)) {
			system_heap_free_pages(pages, i);
			return -EINTR;
		}
		cond_resched();

		page = system_heap_alloc_run(c->dma_limit, buf->n_pages - i,
					     zero, &order);
		if (!page) {
			system_heap_free_pages(pages, i);
			return -ENOMEM;
		}
		for (j = 0; j < 1U << order; j++)
			pages[i++] = page + j;
		last = max(last, page_to_phys(page) + (PAGE_SIZE << order) - 1);
	}

	buf->last = last;
	buf->pages = pages;
	return 0;
}

/* The storage, allocated at first use. */
static int system_heap_populate(struct system_heap_buffer *buf)
{
	struct dma_buf *dmabuf = buf->dmabuf;
	struct dma_buf_constraints c;
	struct mem_cgroup *old;
	int ret;

	lockdep_assert_held(&dmabuf->lock);
	if (buf->pages)
		return 0;

	dma_buf_attachments_constraints(dmabuf, &c);
	old = dma_buf_charge_begin(dmabuf);
	ret = system_heap_alloc_storage(buf, &c, __GFP_ZERO);
	dma_buf_charge_end(old);
	if (!ret)
		dma_buf_account_pages(dmabuf, buf->n_pages);
	return ret;
}

/*
 * Move the storage below @c->dma_limit: every user is shut out (see
 * dma_buf_move()), so the old pages can be copied as they are.
 */
static int system_heap_move(struct dma_buf *dmabuf,
			    const struct dma_buf_constraints *c)
{
	struct system_heap_buffer *buf = dmabuf->priv;
	struct system_heap_buffer new = { .n_pages = buf->n_pages };
	struct mem_cgroup *old;
	unsigned int i;
	int ret;

	lockdep_assert_held(&dmabuf->lock);
	if (!buf->pages)
		return 0;

	old = dma_buf_charge_begin(dmabuf);
	/* Every byte is copied over: no need to zero. */
	ret = system_heap_alloc_storage(&new, c, 0);
	dma_buf_charge_end(old);
	if (ret)
		return ret;

	for (i = 0; i < buf->n_pages; i++) {
		copy_highpage(new.pages[i], buf->pages[i]);
		cond_resched();
	}
	system_heap_free_pages(buf->pages, buf->n_pages);
	buf->pages = new.pages;
	buf->last = new.last;
	return 0;
}

static int system_heap_attach(struct dma_buf *dmabuf, struct device *dev,
			      struct dma_buf_attachment *attach)
{
	struct system_heap_buffer *buf = dmabuf->priv;

	/*
	 * Storage placed before this device came must be within its reach;
	 * before that, the device must reach some memory at all.
	 */
	return dma_buf_check_reach(dev, buf->pages ? buf->last : 0);
}

static struct sg_table *system_heap_map(struct dma_buf_attachment *attach,
					enum dma_data_direction dir)
{
	struct system_heap_buffer *buf = attach->dmabuf->priv;
	int ret;

	ret = system_heap_populate(buf);
	if (ret)
		return ERR_PTR(ret);
	return dma_buf_map_pages(attach, buf->pages, buf->n_pages, dir);
}

static void system_heap_release(struct dma_buf *dmabuf)
{
	struct system_heap_buffer *buf = dmabuf->priv;

	if (buf->pages) {
		system_heap_free_pages(buf->pages, buf->n_pages);
		dma_buf_account_pages(dmabuf, -(long)buf->n_pages);
	}
	kfree(buf);
}

static int system_heap_begin_cpu_access(struct dma_buf *dmabuf, size_t start,
					size_t len, enum dma_data_direction dir)
{
	return system_heap_populate(dmabuf->priv);
}

/*
 * Both page mappings are kmap_local_page(): it works for highmem pages,
 * does not sleep, and may be held across sleeps by the task that took it.
 * Mappings are released in the reverse order they were taken. They run
 * without the buffer's lock, inside a CPU access that populated and pins
 * the storage.
 */
static void *system_heap_kmap(struct dma_buf *dmabuf, unsigned long page_num)
{
	struct system_heap_buffer *buf = dmabuf->priv;

	/* Cannot allocate here: begin_cpu_access must have run. */
	if (WARN_ON_ONCE(!buf->pages))
		return NULL;
	return kmap_local_page(buf->pages[page_num]);
}

static void system_heap_kunmap(struct dma_buf *dmabuf, unsigned long page_num,
			       void *vaddr)
{
	kunmap_local(vaddr);
}

static void *system_heap_vmap(struct dma_buf *dmabuf)
{
	struct system_heap_buffer *buf = dmabuf->priv;
	void *vaddr;
	int ret;

	ret = system_heap_populate(buf);
	if (ret)
		return ERR_PTR(ret);
	vaddr = vmap(buf->pages, buf->n_pages, VM_MAP, PAGE_KERNEL);
	return vaddr ?: ERR_PTR(-ENOMEM);
}

static void system_heap_vunmap(struct dma_buf *dmabuf, void *vaddr)
{
	vunmap(vaddr);
}

/*
 * Map the pages around @vmf's address that one page table covers, in one
 * go: a first touch of a buffer maps up to 2 MiB (x86-64) of it.
 */
static vm_fault_t system_heap_insert(struct system_heap_buffer *buf,
				     struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long table = PTRS_PER_PTE * PAGE_SIZE;
	unsigned long start, end, num;
	pgoff_t first;
	int ret;

	start = max(vma->vm_start, ALIGN_DOWN(vmf->address, table));
	end = min(vma->vm_end, ALIGN_DOWN(vmf->address, table) + table);
	first = vma->vm_pgoff + ((start - vma->vm_start) >> PAGE_SHIFT);
	num = min_t(unsigned long, (end - start) >> PAGE_SHIFT,
		    buf->n_pages - first);

	ret = vm_insert_pages(vma, start, &buf->pages[first], &num);
	/* Some of the range was mapped already: the faulting page alone. */
	if (ret == -EBUSY)
		ret = vm_insert_page(vma, vmf->address,
				     buf->pages[array_index_nospec(vmf->pgoff,
								   buf->n_pages)]);
	if (!ret || ret == -EBUSY)
		return VM_FAULT_NOPAGE;
	return ret == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
}

static vm_fault_t system_heap_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct system_heap_buffer *buf = vma->vm_private_data;
	vm_fault_t fault;
	int ret;

	/* The core checked the mapping's range against the buffer's size. */
	if (vmf->pgoff >= buf->n_pages)
		return VM_FAULT_SIGBUS;

	/* Killed while waiting: no page, and the task dies on its way out. */
	if (mutex_lock_killable(&buf->dmabuf->lock))
		return VM_FAULT_NOPAGE;
	ret = system_heap_populate(buf);
	if (!ret) {
		/* Under the lock: a move must not free the pages meanwhile. */
		fault = system_heap_insert(buf, vmf);
	} else if (ret == -EINTR) {
		fault = VM_FAULT_NOPAGE;
	} else {
		/*
		 * Not VM_FAULT_OOM: the OOM killer would not find this
		 * memory's owner, and the fault would be retried for ever.
		 */
		fault = VM_FAULT_SIGBUS;
	}
	mutex_unlock(&buf->dmabuf->lock);
	return fault;
}

/*
 * Fault-around, for read faults: map what the fault handler would (the
 * page table's worth around the address, more than the core's fault-around
 * range: the pages are all there), where that cannot sleep: the storage is
 * there, the buffer's lock is free and the page table exists (the core
 * calls this under rcu_read_lock()). Otherwise the fault handler does it.
 *
 * Having this callback also tells the mm core that the fault handler does
 * not need mmap_lock: without it, a fault taken under the VMA's own lock
 * is retried under mmap_lock (vmf_can_call_fault()), and faults on the
 * buffer would be serialised with every mmap() and munmap() of the process.
 */
static vm_fault_t system_heap_map_pages(struct vm_fault *vmf,
					pgoff_t start_pgoff, pgoff_t end_pgoff)
{
	struct system_heap_buffer *buf = vmf->vma->vm_private_data;
	vm_fault_t fault = 0;

	if (pmd_none(*vmf->pmd) || !mutex_trylock(&buf->dmabuf->lock))
		return 0;
	if (buf->pages)
		fault = system_heap_insert(buf, vmf);
	mutex_unlock(&buf->dmabuf->lock);
	/* Failures are the fault handler's to report. */
	return fault == VM_FAULT_NOPAGE ? fault : 0;
}

static const struct vm_operations_struct system_heap_vm_ops = {
	.fault = system_heap_fault,
	.map_pages = system_heap_map_pages,
};

static int system_heap_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	/*
	 * Pages are inserted at fault time, a page table's worth at once,
	 * as pages (vm_insert_pages()): no per-page memory type lookup as
	 * for frame numbers, and the mapping holds references on them.
	 */
	vm_flags_set(vma, VM_MIXEDMAP | VM_DONTDUMP);
	vma->vm_ops = &system_heap_vm_ops;
	vma->vm_private_data = dmabuf->priv;
	return 0;
}

static const struct dma_buf_ops system_heap_buf_ops = {
	.attach		  = system_heap_attach,
	.map_dma_buf	  = system_heap_map,
	.unmap_dma_buf	  = dma_buf_unmap_pages,
	.sync_for_device  = dma_buf_sync_pages_for_device,
	.sync_for_cpu	  = dma_buf_sync_pages_for_cpu,
	.release	  = system_heap_release,
	.begin_cpu_access = system_heap_begin_cpu_access,
	.kmap_atomic	  = system_heap_kmap,
	.kunmap_atomic	  = system_heap_kunmap,
	.kmap		  = system_heap_kmap,
	.kunmap		  = system_heap_kunmap,
	.vmap		  = system_heap_vmap,
	.vunmap		  = system_heap_vunmap,
	.mmap		  = system_heap_mmap,
	.move		  = system_heap_move,
};

/**
 * system_heap_allocate() - a new system heap buffer, without storage
 * @heap: the system heap.
 * @len: size in bytes, a non-zero multiple of PAGE_SIZE.
 * @fd_flags: file flags for dma_buf_export().
 * @heap_flags: unused (no flag is defined).
 *
 * Context: Process context. May sleep.
 * Return: The buffer, or ERR_PTR(-ENOMEM), without trying when @len is
 * more than the machine's memory.
 */
VISIBLE_IF_KUNIT struct dma_buf *system_heap_allocate(struct dma_heap *heap,
						      size_t len, u32 fd_flags,
						      u64 heap_flags)
{
	struct system_heap_buffer *buf;
	struct dma_buf *dmabuf;

	if (len >> PAGE_SHIFT > totalram_pages() || len >> PAGE_SHIFT > UINT_MAX)
		return ERR_PTR(-ENOMEM);

	buf = kzalloc(sizeof(*buf), GFP_KERNEL_ACCOUNT);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	buf->n_pages = len >> PAGE_SHIFT;

	dmabuf = dma_buf_export_named(buf, &system_heap_buf_ops, len, fd_flags,
				      "system");
	if (IS_ERR(dmabuf)) {
		kfree(buf);
		return dmabuf;
	}
	buf->dmabuf = dmabuf;
	return dmabuf;
}
EXPORT_SYMBOL_IF_KUNIT(system_heap_allocate);

/**
 * system_heap_page() - a page of a buffer's storage, for the KUnit suites
 * @dmabuf: a system heap buffer.
 * @page_num: the page.
 *
 * Context: Any context; the caller keeps the buffer alive.
 * Return: The page, or NULL before the storage exists.
 */
VISIBLE_IF_KUNIT struct page *system_heap_page(struct dma_buf *dmabuf,
					       unsigned long page_num)
{
	struct system_heap_buffer *buf = dmabuf->priv;

	return buf->pages ? buf->pages[page_num] : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(system_heap_page);

static const struct dma_heap_ops system_heap_ops = {
	.allocate = system_heap_allocate,
};

static struct dma_heap system_heap = {
	.name = "system",
	.ops = &system_heap_ops,
};

static int __init system_heap_init(void)
{
	return dma_heap_register(&system_heap);
}
module_init(system_heap_init);

static void __exit system_heap_exit(void)
{
	dma_heap_unregister(&system_heap);
}
module_exit(system_heap_exit);

MODULE_DESCRIPTION("dma-buf system memory heap, allocated at first use");
MODULE_LICENSE("GPL");
