// SPDX-License-Identifier: GPL-2.0-only
/*
 * The system heap: /dev/dma_heap/system, buffers of system memory whose
 * pages are allocated at first use, where every device attached by then
 * can reach them.
 */

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pfn.h>
#include <linux/scatterlist.h>
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
 * calls to the page allocator. When an attached importer takes the buffer
 * in fewer pieces than that (dma_buf_attach_segments(): one, for a device
 * without scatter-gather and without an IOMMU), the storage is one block
 * of consecutive pages instead: from the page allocator up to its largest
 * block (4 MiB with 4 KiB pages), otherwise, or when it has no such block
 * free, from the contiguous memory area (CMA, sized by cma= on the kernel
 * command line). Those pages are charged like the others. With no block
 * to be had the use fails with ENOMEM. A device that attaches later and
 * needs fewer pieces than the storage has gets the storage moved into one
 * block if it is idle, and -ERANGE if it is pinned. Importers whose
 * device sits behind a translating IOMMU never cost a block: the IOMMU
 * maps any pages at consecutive addresses. A device whose every mapping
 * is bounced (swiotlb=force) cannot take a block through bounce buffers
 * when the buffer is longer than its pieces of them hold: its block comes
 * from the DMA API, allocated for it (dma_buf_alloc_for_device(), within
 * its coherent DMA mask, charged as above), and the device maps it at the
 * block's own DMA addresses, without a bounce buffer; every other device
 * maps it as any pages. The block holds a reference to that device until
 * it is freed or moves, and a second device that needs the same is
 * refused with -ERANGE. When the last attachment of that device goes, the
 * storage moves out of the block into ordinary memory, so that the memory
 * is normally back before the device's driver can go away. If it cannot
 * move then (another device maps it, a kernel CPU access is in progress,
 * or the owner's memory cgroup has no room for the copy), it stays, with
 * its reference to the device, until it next moves or is freed, as
 * videobuf2-dma-contig's own buffers outlive their driver when exported:
 * unbinding the driver meanwhile makes the DMA API's debugging report the
 * allocation as pending.
 *
 * The heap keeps the runs, not every page (no array of page pointers):
 * an attachment's scatterlist is built run by run, each run cut to that
 * device's maximum segment size and segment boundary, and dma_buf_kmap()
 * finds a page in constant time: the heap
 * publishes its longest runs to the core (dma_buf_set_kmap_runs()), which
 * maps a page in them where dma_buf_kmap() is called, without a call into
 * the heap. A first touch through mmap() maps the pages around it that
 * one page table covers (2 MiB on x86-64) in one go, by frame number
 * (VM_PFNMAP, as remap_pfn_range() would): the rest of the memory manager
 * does not see the pages through the mapping, so madvise() cannot
 * reclaim, split or discard them, get_user_pages() cannot pin them (a pin
 * would hold on to old pages after a move; io_uring's fixed buffers,
 * vmsplice() and O_DIRECT on a mapping fail with EFAULT, as on Linux
 * 6.12), and a mapping adds nothing to its process's resident counts.
 * Faults are handled under the mapping's own lock (per-VMA locking), not
 * the process's mmap_lock: they neither wait for the process's mmap() and
 * munmap() of other mappings nor hold them up. A fault that finds a move
 * in progress waits for it without holding either lock, killably.
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
#define SYSTEM_HEAP_N_ORDERS	ARRAY_SIZE(system_heap_orders)

/*
 * The buffer's memory is its owner's (dma_buf_charge_begin()), fails
 * rather than invokes the OOM killer, and fails quietly. Runs are
 * compound pages, so that each is freed at once; the runs of a block
 * (dma_buf_alloc_contiguous()) are not, and the block is freed whole.
 */
#define SYSTEM_HEAP_GFP		(__GFP_ACCOUNT | __GFP_NOWARN | __GFP_COMP)

/*
 * The storage is kept as its runs, longest first: runs[] holds the frame
 * number of the first page of each, run_pages[] its struct page, and
 * n_runs[k] of them have system_heap_orders[k]. Page n is then found in
 * O(1), the storage comes and goes without a pass over its pages, and a
 * device's scatterlist is built run by run. Both are kept because each
 * has a hot user and converting one into the other costs a memory map
 * lookup (a few loads with classic SPARSEMEM): kmap and the CPU's clearing
 * work from frame numbers, scatterlists, page arrays and freeing from
 * pages. vmap(), which takes an array of pages, gets one filled from the
 * runs for the call. run_pages[] shares runs[]'s
 * allocation, after the room for its frame numbers.
 */
struct system_heap_storage {
	unsigned long *runs;
	struct page **run_pages;
	unsigned int n_runs[SYSTEM_HEAP_N_ORDERS];
	/* Highest physical address of the storage. */
	phys_addr_t last;
	/*
	 * Pages of the one block of consecutive pages the storage is, for
	 * importers that take it in few pieces (dma_buf_alloc_contiguous()),
	 * described as runs like any storage; 0 for storage in runs.
	 */
	unsigned long block;
	/*
	 * The device the block was allocated for by the DMA API, which takes
	 * it at @dma_handle without a bounce buffer
	 * (dma_buf_alloc_for_device()); NULL for other storage.
	 */
	struct device *dma_dev;
	dma_addr_t dma_handle;
};

struct system_heap_buffer {
	struct dma_buf *dmabuf;
	unsigned int n_pages;
	/*
	 * The storage exists, and its runs are published: read without the
	 * lock by system_heap_begin_cpu_access(). Set once, under it.
	 */
	bool ready;
	/* The storage: runs NULL until first use. Under dmabuf->lock. */
	struct system_heap_storage s;
};

/* The frame number of page @n of @s, which holds more than @n pages. */
static unsigned long system_heap_pfn(const struct system_heap_storage *s,
				     unsigned long n)
{
	unsigned int k, first = 0, order = system_heap_orders[0];
	unsigned long span;

	/* Most pages lie in the longest runs: one comparison finds those. */
	if (likely(n < (unsigned long)s->n_runs[0] << order))
		return s->runs[n >> order] + (n & ((1UL << order) - 1));

	for (k = 0; k < SYSTEM_HEAP_N_ORDERS; k++) {
		order = system_heap_orders[k];
		span = (unsigned long)s->n_runs[k] << order;
		if (n < span)
			break;
		n -= span;
		first += s->n_runs[k];
	}
	return s->runs[first + (n >> order)] + (n & ((1UL << order) - 1));
}

/* The first page of run @r of @s. */
static struct page *system_heap_run(const struct system_heap_storage *s,
				    unsigned int r)
{
	return s->run_pages[r];
}

/* Free the block of @s, which starts at @page. */
static void system_heap_free_block(struct system_heap_storage *s,
				   struct page *page)
{
	if (s->dma_dev)
		dma_buf_free_for_device(s->dma_dev, page, s->block,
					s->dma_handle);
	else
		dma_buf_free_contiguous(page, s->block);
	s->block = 0;
	s->dma_dev = NULL;
}

/* Free every run of @s. */
static void system_heap_free_storage(struct system_heap_storage *s)
{
	unsigned int k, r = 0, end = 0;

	if (s->block) {
		system_heap_free_block(s, system_heap_run(s, 0));
		goto free_arrays;
	}
	for (k = 0; k < SYSTEM_HEAP_N_ORDERS; k++) {
		for (end += s->n_runs[k]; r < end; r++)
			folio_put(page_folio(system_heap_run(s, r)));
	}
free_arrays:
	kvfree(s->runs);
	s->runs = NULL;
	s->run_pages = NULL;
}

/* How many runs @n pages take at best, from system_heap_orders[@k] on. */
static unsigned int system_heap_runs_for(unsigned long n, unsigned int k)
{
	unsigned int runs = 0;

	for (; k < SYSTEM_HEAP_N_ORDERS; k++) {
		runs += n >> system_heap_orders[k];
		n &= (1UL << system_heap_orders[k]) - 1;
	}
	return runs;
}

/*
 * Map the page at frame @pfn into the kernel, for kunmap_local(): without
 * highmem, kmap_local_page() is the page's linear address, computed here
 * from the frame number without a lookup in the memory map.
 */
static void *system_heap_map_pfn(unsigned long pfn)
{
	if (!IS_ENABLED(CONFIG_HIGHMEM))
		return __va(PFN_PHYS(pfn));
	return kmap_local_page(pfn_to_page(pfn));
}

/*
 * Zero a new run of 2^@order pages from frame @pfn. The page allocator
 * would zero them for __GFP_ZERO, finding each page's address through the
 * memory map; the heap has the frame numbers. Pages the allocator has
 * cleared already are left alone: with init_on_alloc it zeroes every
 * allocation, with init_on_free every page was zeroed when it was freed.
 */
static void system_heap_clear_run(unsigned long pfn, unsigned int order)
{
	unsigned long i;
	void *vaddr;

	if (want_init_on_free() || want_init_on_alloc(0))
		return;
	for (i = 0; i < 1UL << order; i++) {
		vaddr = system_heap_map_pfn(pfn + i);
		clear_page(vaddr);
		kunmap_local(vaddr);
	}
}

/*
 * A run of at most @n pages below @limit: the longest memory allows, from
 * system_heap_orders[*@k] down. *@k then indexes the run's order: runs
 * only get shorter, so that the storage stays sorted by length.
 */
static struct page *system_heap_alloc_run(u64 limit, unsigned long n,
					  unsigned int *k)
{
	unsigned int order;
	struct page *page;
	gfp_t gfp;

	for (; *k < SYSTEM_HEAP_N_ORDERS; (*k)++) {
		order = system_heap_orders[*k];
		if (n < 1UL << order)
			continue;
		/* Long runs are a try; single pages are worth reclaiming. */
		gfp = order ? __GFP_NORETRY : __GFP_RETRY_MAYFAIL;
		page = dma_buf_alloc_pages_below(limit, order,
						 gfp | SYSTEM_HEAP_GFP);
		if (page)
			return page;
	}
	return NULL;
}

/*
 * Room for @need runs in @s, which has @size and holds @used. One
 * allocation holds both arrays: @size frame numbers, then @size pages.
 */
static int system_heap_grow_runs(struct system_heap_storage *s,
				 unsigned int *size, unsigned int used,
				 unsigned int need)
{
	gfp_t gfp = GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_ACCOUNT |
		    __GFP_NOWARN;
	size_t entry = sizeof(*s->runs) + sizeof(*s->run_pages);
	unsigned long *runs;

	if (need <= *size)
		return 0;
	if (!s->runs) {
		runs = kvmalloc_array(need, entry, gfp);
		if (!runs)
			return -ENOMEM;
	} else {
		runs = kvrealloc(s->runs, array_size(need, entry), gfp);
		if (!runs)
			return -ENOMEM;
		/* The pages move up, past the frame numbers' new room. */
		memmove(runs + need, runs + *size,
			used * sizeof(*s->run_pages));
	}
	s->runs = runs;
	s->run_pages = (struct page **)(runs + need);
	*size = need;
	return 0;
}

/*
 * The storage as one block of @n_pages consecutive pages below
 * @c->dma_limit, for importers that take the buffer in few pieces: from
 * the DMA API for @c->dma_dev if it needs that, otherwise where the page
 * allocator or CMA has one. It is described as runs like any storage, so
 * that every reader of runs works on it unchanged; only freeing it and
 * @c->dma_dev's mapping of it differ.
 */
static int system_heap_alloc_block(struct system_heap_storage *s,
				   unsigned long n_pages,
				   const struct dma_buf_constraints *c,
				   bool zero)
{
	unsigned int k, size = 0, r = 0, order;
	unsigned long i = 0, pfn;
	struct page *page;
	void *vaddr;
	int ret;

	if (c->dma_dev)
		page = dma_buf_alloc_for_device(c->dma_dev, n_pages,
						c->dma_limit, &s->dma_handle,
						SYSTEM_HEAP_GFP & __GFP_ACCOUNT);
	else
		page = dma_buf_alloc_contiguous(n_pages, c->dma_limit,
						SYSTEM_HEAP_GFP & ~__GFP_COMP);
	if (!page)
		return -ENOMEM;
	s->block = n_pages;
	s->dma_dev = c->dma_dev;
	ret = system_heap_grow_runs(s, &size, 0,
				    system_heap_runs_for(n_pages, 0));
	if (ret) {
		system_heap_free_block(s, page);
		return ret;
	}
	pfn = page_to_pfn(page);
	for (k = 0; k < SYSTEM_HEAP_N_ORDERS; k++) {
		order = system_heap_orders[k];
		for (; n_pages - i >= 1UL << order; i += 1UL << order) {
			s->runs[r] = pfn + i;
			s->run_pages[r++] = pfn_to_page(pfn + i);
			s->n_runs[k]++;
		}
	}
	/*
	 * Neither the page allocator's tail nor CMA's pages are cleared, nor
	 * does the DMA API promise to clear its own.
	 */
	for (i = 0; zero && i < n_pages; i++) {
		vaddr = system_heap_map_pfn(pfn + i);
		clear_page(vaddr);
		kunmap_local(vaddr);
	}
	s->last = PFN_PHYS(pfn + n_pages) - 1;
	return 0;
}

/* How many pieces of consecutive pages the runs of @s make. */
static unsigned int system_heap_pieces(const struct system_heap_storage *s)
{
	unsigned int k, r = 0, pieces = 0;
	unsigned long next = 0;

	for (k = 0; k < SYSTEM_HEAP_N_ORDERS; k++) {
		unsigned int end = r + s->n_runs[k];

		for (; r < end; r++) {
			if (!pieces || s->runs[r] != next)
				pieces++;
			next = s->runs[r] + (1UL << system_heap_orders[k]);
		}
	}
	return pieces;
}

/* Allocate @n_pages of storage into @s in runs of system_heap_orders[]. */
static int system_heap_alloc_runs(struct system_heap_storage *s,
				  unsigned long n_pages,
				  const struct dma_buf_constraints *c,
				  bool zero)
{
	unsigned int k = 0, size = 0, r = 0, order;
	unsigned long i = 0, pfn;
	struct page *page;
	int ret;

	while (i < n_pages) {
		/* A buffer of a gigabyte takes a while: stay killable. */
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto free_storage;
		}
		cond_resched();

		page = system_heap_alloc_run(c->dma_limit, n_pages - i, &k);
		if (!page) {
			ret = -ENOMEM;
			goto free_storage;
		}
		/* Sized for the best case; a shorter run than hoped grows it. */
		ret = system_heap_grow_runs(s, &size, r,
					    r + system_heap_runs_for(n_pages - i, k));
		order = system_heap_orders[k];
		if (ret) {
			__free_pages(page, order);
			goto free_storage;
		}
		pfn = page_to_pfn(page);
		if (zero)
			system_heap_clear_run(pfn, order);
		s->run_pages[r] = page;
		s->runs[r++] = pfn;
		s->n_runs[k]++;
		i += 1UL << order;
		s->last = max(s->last, PFN_PHYS(pfn + (1UL << order)) - 1);
	}
	return 0;

free_storage:
	system_heap_free_storage(s);
	return ret;
}

/*
 * Allocate @n_pages of storage into @s, below what every attached device
 * can reach, in at most @c->max_segments pieces if an importer asked for
 * few, charged to the buffer's owner.
 */
static int system_heap_alloc_storage(struct system_heap_storage *s,
				     unsigned long n_pages,
				     const struct dma_buf_constraints *c,
				     bool zero)
{
	int ret;

	*s = (struct system_heap_storage){ };
	/*
	 * Runs where they can do, if the page allocator has them; one block
	 * where they cannot, from the DMA API for a device that needs it.
	 */
	if (c->dma_dev || (c->max_segments &&
			   system_heap_runs_for(n_pages, 0) > c->max_segments))
		return system_heap_alloc_block(s, n_pages, c, zero);
	ret = system_heap_alloc_runs(s, n_pages, c, zero);
	if (ret || !c->max_segments ||
	    system_heap_pieces(s) <= c->max_segments)
		return ret;
	system_heap_free_storage(s);
	*s = (struct system_heap_storage){ };
	return system_heap_alloc_block(s, n_pages, c, zero);
}

/*
 * Write @n pages of @s to @pages, from page @skip on, from the runs'
 * pages: no memory map lookup.
 */
static void system_heap_fill(const struct system_heap_storage *s,
			     unsigned long skip, struct page **pages,
			     unsigned long n)
{
	unsigned int k, r, end = 0, order;
	unsigned long off, span, len, j;
	struct page *page;

	for (k = 0; k < SYSTEM_HEAP_N_ORDERS && n; k++) {
		order = system_heap_orders[k];
		span = (unsigned long)s->n_runs[k] << order;
		r = end;
		end += s->n_runs[k];
		if (skip >= span) {
			skip -= span;
			continue;
		}
		r += skip >> order;
		off = skip & ((1UL << order) - 1);
		skip = 0;
		for (; r < end && n; r++, off = 0) {
			page = system_heap_run(s, r) + off;
			len = min(n, (1UL << order) - off);
			for (j = 0; j < len; j++)
				pages[j] = page + j;
			pages += len;
			n -= len;
		}
	}
}

/* An array of every page of the buffer, for a call that takes one. */
static struct page **system_heap_page_array(struct system_heap_buffer *buf)
{
	struct mem_cgroup *old;
	struct page **pages;

	old = dma_buf_charge_begin(buf->dmabuf);
	pages = kvmalloc_array(buf->n_pages, sizeof(*pages), GFP_KERNEL |
			       __GFP_RETRY_MAYFAIL | __GFP_ACCOUNT |
			       __GFP_NOWARN);
	dma_buf_charge_end(old);
	if (pages)
		system_heap_fill(&buf->s, 0, pages, buf->n_pages);
	return pages;
}

/*
 * Let dma_buf_kmap() find pages without calling the heap: the runs of the
 * longest length the storage has, which come first. In a buffer of 1 MiB
 * or more those are the 1 MiB runs; the few pages in shorter runs after
 * them go to system_heap_kmap().
 */
static void system_heap_publish_runs(struct system_heap_buffer *buf)
{
	const struct system_heap_storage *s = &buf->s;
	unsigned int k = 0;

	while (k < SYSTEM_HEAP_N_ORDERS - 1 && !s->n_runs[k])
		k++;
	dma_buf_set_kmap_runs(buf->dmabuf, s->runs, system_heap_orders[k],
			      (unsigned long)s->n_runs[k] << system_heap_orders[k]);
}

/*
 * Allocate the storage. Not inlined into system_heap_populate(), so that
 * a buffer in use does not set up the constraints and the allocation's
 * frame each time it is mapped or accessed.
 */
static noinline int system_heap_alloc_now(struct system_heap_buffer *buf)
{
	struct dma_buf *dmabuf = buf->dmabuf;
	struct dma_buf_constraints c;
	struct mem_cgroup *old;
	int ret;

	dma_buf_attachments_constraints(dmabuf, &c);
	old = dma_buf_charge_begin(dmabuf);
	ret = system_heap_alloc_storage(&buf->s, buf->n_pages, &c, true);
	dma_buf_charge_end(old);
	if (ret)
		return ret;
	dma_buf_account_pages(dmabuf, buf->n_pages);
	system_heap_publish_runs(buf);
	/* What a CPU access that finds it set reads: all of the above. */
	smp_store_release(&buf->ready, true);
	return 0;
}

/* The storage, allocated at first use. */
static int system_heap_populate(struct system_heap_buffer *buf)
{
	lockdep_assert_held(&buf->dmabuf->lock);
	if (likely(buf->s.runs))
		return 0;
	return system_heap_alloc_now(buf);
}

/*
 * Move the storage below @c->dma_limit: every user is shut out (see
 * dma_buf_move()), so the old pages can be copied as they are.
 */
static int system_heap_move(struct dma_buf *dmabuf,
			    const struct dma_buf_constraints *c)
{
	struct system_heap_buffer *buf = dmabuf->priv;
	struct system_heap_storage new;
	struct mem_cgroup *old;
	unsigned long i;
	int ret;

	lockdep_assert_held(&dmabuf->lock);
	if (!buf->s.runs)
		return 0;

	old = dma_buf_charge_begin(dmabuf);
	/* Every byte is copied over: no need to zero. */
	ret = system_heap_alloc_storage(&new, buf->n_pages, c, false);
	dma_buf_charge_end(old);
	if (ret)
		return ret;

	for (i = 0; i < buf->n_pages; i++) {
		copy_highpage(pfn_to_page(system_heap_pfn(&new, i)),
			      pfn_to_page(system_heap_pfn(&buf->s, i)));
		cond_resched();
	}
	swap(buf->s, new);
	system_heap_publish_runs(buf);
	system_heap_free_storage(&new);
	return 0;
}

static unsigned long system_heap_run_at(void *data, pgoff_t n,
					unsigned long *left);

/*
 * Is @attach's device the one the DMA API allocated the storage for? It
 * then takes the storage at its DMA handle. The storage cannot change
 * while a mapping of it exists (a move gives every mapping back first),
 * so the answer is the same when the mapping is made, synced and undone.
 */
static bool system_heap_own(const struct dma_buf_attachment *attach)
{
	const struct system_heap_buffer *buf = attach->dmabuf->priv;

	return buf->s.dma_dev == attach->dev;
}

static int system_heap_attach(struct dma_buf *dmabuf, struct device *dev,
			      struct dma_buf_attachment *attach)
{
	struct system_heap_buffer *buf = dmabuf->priv;

	/*
	 * Storage placed before this device came must be within its reach,
	 * in few enough pieces for its importer; before that, the device
	 * must reach some memory at all, and be able to take pages in so few
	 * pieces at all.
	 */
	if (!buf->s.runs)
		return dma_buf_check_reach(dev, 0) ?:
		       dma_buf_check_segments(attach, NULL, NULL);
	/* The DMA API allocated it for this device: one piece for it. */
	if (system_heap_own(attach))
		return 0;
	return dma_buf_check_reach(dev, buf->s.last) ?:
	       dma_buf_check_segments(attach, system_heap_run_at, buf);
}

/*
 * The last attachment of the device the DMA API allocated the storage for
 * is gone: give that memory back while the device's driver is still bound
 * (the DMA API's debugging reports memory still allocated for a device
 * whose driver goes away), moving the storage into ordinary memory where
 * the remaining devices reach it. Pinned by another device's mapping or
 * a kernel CPU access, or with no memory to move to, the storage stays
 * until the next move or the buffer's release (see the DOC above): one
 * try, as a detach cannot fail and nothing else knows when the pin ends.
 */
static void system_heap_detach(struct dma_buf *dmabuf,
			       struct dma_buf_attachment *attach)
{
	const struct dma_buf_constraints anywhere = {
		.dma_limit = U64_MAX,
		.max_segment_size = UINT_MAX,
		.seg_boundary_mask = ULONG_MAX,
	};
	struct dma_buf_attachment *other;

	lockdep_assert_held(&dmabuf->lock);
	if (!system_heap_own(attach))
		return;
	list_for_each_entry(other, &dmabuf->attachments, node)
		if (other->dev == attach->dev)
			return;
	dma_buf_move_locked(dmabuf, &anywhere);
}

/*
 * Is every run of @run_len bytes one segment under @c? A run is aligned
 * to its length, as the page allocator's blocks are (and a block's runs,
 * whose start dma_buf_alloc_contiguous() aligns), so it crosses a segment
 * boundary only if the boundary mask lacks one of its offset bits.
 */
static bool system_heap_runs_whole(const struct dma_buf_constraints *c,
				   size_t run_len)
{
	return run_len <= c->max_segment_size &&
	       !((run_len - 1) & ~c->seg_boundary_mask);
}

/*
 * The segments a device with constraints @c sees of @s: each run cut at
 * the device's maximum segment size and segment boundaries. Runs are not
 * joined: they are long already, and an IOMMU joins what it maps. Fills
 * @sgt if not NULL.
 *
 * Return: The number of segments.
 */
static unsigned int system_heap_segments(const struct system_heap_storage *s,
					 const struct dma_buf_constraints *c,
					 struct sg_table *sgt)
{
	struct scatterlist *sg = sgt ? sgt->sgl : NULL;
	unsigned int k, r = 0, end = 0, nents = 0;
	size_t run_len, pos, len;

	/*
	 * One block: segments as long as the device takes them, across its
	 * runs, so that a device whose mappings are bounced gets as few
	 * bounce buffers as dma_buf_check_segments() counted.
	 */
	if (s->block) {
		run_len = (size_t)s->block << PAGE_SHIFT;
		for (pos = 0; pos < run_len; pos += len, nents++) {
			len = dma_buf_segment_len(c, PFN_PHYS(s->runs[0]) + pos,
						  run_len - pos);
			if (!sg)
				continue;
			sg_set_page(sg, pfn_to_page(s->runs[0] +
						    (pos >> PAGE_SHIFT)),
				    len, offset_in_page(pos));
			sg = sg_next(sg);
		}
		return nents;
	}

	for (k = 0; k < SYSTEM_HEAP_N_ORDERS; k++) {
		run_len = PAGE_SIZE << system_heap_orders[k];
		end += s->n_runs[k];
		/*
		 * One segment per run, set without working out its length:
		 * a short step per run, which the DMA API's walk over the
		 * same table takes without rescheduling too.
		 */
		if (system_heap_runs_whole(c, run_len)) {
			nents += s->n_runs[k];
			for (; sg && r < end; r++) {
				sg_set_page(sg, system_heap_run(s, r), run_len, 0);
				sg = sg_next(sg);
			}
			r = end;
			continue;
		}
		for (; r < end; r++) {
			for (pos = 0; pos < run_len; pos += len, nents++) {
				len = dma_buf_segment_len(c, PFN_PHYS(s->runs[r]) +
							  pos, run_len - pos);
				if (!sg)
					continue;
				sg_set_page(sg, system_heap_run(s, r) +
					    (pos >> PAGE_SHIFT), len,
					    offset_in_page(pos));
				sg = sg_next(sg);
			}
			cond_resched();
		}
	}
	return nents;
}

/*
 * The block the DMA API allocated for @attach's device, as that device
 * takes it: from its DMA handle on, without a bounce buffer, in segments
 * cut at its maximum segment size and boundary, which follow each other
 * in its DMA address space.
 */
static struct sg_table *system_heap_map_own(struct dma_buf_attachment *attach)
{
	const struct system_heap_storage *s =
		&((struct system_heap_buffer *)attach->dmabuf->priv)->s;
	size_t size = (size_t)s->block << PAGE_SHIFT, pos, len;
	struct dma_buf_constraints c = {
		.max_segment_size = dma_get_max_seg_size(attach->dev),
		.seg_boundary_mask = dma_get_seg_boundary(attach->dev),
	};
	unsigned int nents = 0;
	struct scatterlist *sg;
	struct mem_cgroup *old;
	struct sg_table *sgt;

	for (pos = 0; pos < size; pos += len, nents++)
		len = dma_buf_segment_len(&c, s->dma_handle + pos, size - pos);

	old = dma_buf_charge_begin(attach->dmabuf);
	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL_ACCOUNT);
	if (sgt && sg_alloc_table(sgt, nents, GFP_KERNEL_ACCOUNT)) {
		kfree(sgt);
		sgt = NULL;
	}
	dma_buf_charge_end(old);
	if (!sgt)
		return ERR_PTR(-ENOMEM);

	sg = sgt->sgl;
	for (pos = 0; pos < size; pos += len, sg = sg_next(sg)) {
		len = dma_buf_segment_len(&c, s->dma_handle + pos, size - pos);
		sg_set_page(sg, pfn_to_page(s->runs[0] + (pos >> PAGE_SHIFT)),
			    len, offset_in_page(pos));
		sg_dma_address(sg) = s->dma_handle + pos;
		sg_dma_len(sg) = len;
	}
	sgt->nents = nents;
	return sgt;
}

static struct sg_table *system_heap_map(struct dma_buf_attachment *attach,
					enum dma_data_direction dir)
{
	struct system_heap_buffer *buf = attach->dmabuf->priv;
	struct dma_buf_constraints c;
	struct mem_cgroup *old;
	struct sg_table *sgt;
	int ret;

	ret = system_heap_populate(buf);
	if (ret)
		return ERR_PTR(ret);
	if (system_heap_own(attach))
		return system_heap_map_own(attach);
	dma_buf_device_segment_limits(attach->dev, &c);
	if (WARN_ON_ONCE(!c.max_segment_size))
		return ERR_PTR(-EINVAL);

	old = dma_buf_charge_begin(attach->dmabuf);
	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL_ACCOUNT);
	if (sgt && sg_alloc_table(sgt, system_heap_segments(&buf->s, &c, NULL),
				  GFP_KERNEL_ACCOUNT)) {
		kfree(sgt);
		sgt = NULL;
	}
	dma_buf_charge_end(old);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	system_heap_segments(&buf->s, &c, sgt);

	ret = dma_map_sgtable(attach->dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	if (ret)
		goto free_table;
	return sgt;

free_table:
	sg_free_table(sgt);
	kfree(sgt);
	return ERR_PTR(ret);
}

/* Undoes system_heap_map(). */
static void system_heap_unmap(struct dma_buf_attachment *attach,
			      struct sg_table *sgt, enum dma_data_direction dir)
{
	if (!system_heap_own(attach)) {
		dma_buf_unmap_pages(attach, sgt, dir);
		return;
	}
	sg_free_table(sgt);
	kfree(sgt);
}

/* Both syncs: the DMA API's own memory is synced by its handle. */
static void system_heap_sync_for_device(struct dma_buf_attachment *attach,
					struct sg_table *sgt,
					enum dma_data_direction dir)
{
	const struct system_heap_buffer *buf = attach->dmabuf->priv;

	if (system_heap_own(attach))
		dma_sync_single_for_device(attach->dev, buf->s.dma_handle,
					   (size_t)buf->s.block << PAGE_SHIFT,
					   dir);
	else
		dma_buf_sync_pages_for_device(attach, sgt, dir);
}

static void system_heap_sync_for_cpu(struct dma_buf_attachment *attach,
				     struct sg_table *sgt,
				     enum dma_data_direction dir)
{
	const struct system_heap_buffer *buf = attach->dmabuf->priv;

	if (system_heap_own(attach))
		dma_sync_single_for_cpu(attach->dev, buf->s.dma_handle,
					(size_t)buf->s.block << PAGE_SHIFT, dir);
	else
		dma_buf_sync_pages_for_cpu(attach, sgt, dir);
}

static void system_heap_release(struct dma_buf *dmabuf)
{
	struct system_heap_buffer *buf = dmabuf->priv;

	if (buf->s.runs) {
		system_heap_free_storage(&buf->s);
		dma_buf_account_pages(dmabuf, -(long)buf->n_pages);
	}
	kfree(buf);
}

/*
 * Called without the buffer's lock: once the storage exists it stays (a
 * move replaces it with storage as ready), and the first use allocates it
 * under the lock, as every other first use does.
 */
static int system_heap_begin_cpu_access(struct dma_buf *dmabuf, size_t start,
					size_t len, enum dma_data_direction dir)
{
	struct system_heap_buffer *buf = dmabuf->priv;
	int ret;

	/* Pairs with the release in system_heap_alloc_now(). */
	if (likely(smp_load_acquire(&buf->ready)))
		return 0;
	if (mutex_lock_killable(&dmabuf->lock))
		return -EINTR;
	ret = system_heap_populate(buf);
	mutex_unlock(&dmabuf->lock);
	return ret;
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
	if (WARN_ON_ONCE(!buf->s.runs))
		return NULL;
	return system_heap_map_pfn(system_heap_pfn(&buf->s, page_num));
}

static void system_heap_kunmap(struct dma_buf *dmabuf, unsigned long page_num,
			       void *vaddr)
{
	kunmap_local(vaddr);
}

static void *system_heap_vmap(struct dma_buf *dmabuf)
{
	struct system_heap_buffer *buf = dmabuf->priv;
	struct page **pages;
	void *vaddr;
	int ret;

	ret = system_heap_populate(buf);
	if (ret)
		return ERR_PTR(ret);
	/* vmap() keeps none of the array. */
	pages = system_heap_page_array(buf);
	if (!pages)
		return ERR_PTR(-ENOMEM);
	vaddr = vmap(pages, buf->n_pages, VM_MAP, PAGE_KERNEL);
	kvfree(pages);
	return vaddr ?: ERR_PTR(-ENOMEM);
}

static void system_heap_vunmap(struct dma_buf *dmabuf, void *vaddr)
{
	vunmap(vaddr);
}

/*
 * The frame of page @n of the buffer @data, and in @left the pages left
 * in its run from there, for dma_buf_map_window().
 */
static unsigned long system_heap_run_at(void *data, pgoff_t n,
					unsigned long *left)
{
	const struct system_heap_storage *s = &((struct system_heap_buffer *)data)->s;
	unsigned int k, first = 0, order = system_heap_orders[0];
	unsigned long span, mask;

	/* A block is one run, whatever runs describe it. */
	if (s->block) {
		*left = s->block - n;
		return s->runs[0] + n;
	}
	for (k = 0; k < SYSTEM_HEAP_N_ORDERS; k++) {
		order = system_heap_orders[k];
		span = (unsigned long)s->n_runs[k] << order;
		if (n < span)
			break;
		n -= span;
		first += s->n_runs[k];
	}
	mask = (1UL << order) - 1;
	*left = mask + 1 - (n & mask);
	return s->runs[first + (n >> order)] + (n & mask);
}

/*
 * Map the pages around @vmf's address that one page table covers, in one
 * go: a first touch of a buffer maps up to 2 MiB (x86-64) of it, by frame
 * number, a run at a time.
 */
static vm_fault_t system_heap_insert(struct system_heap_buffer *buf,
				     struct vm_fault *vmf)
{
	return dma_buf_map_window(vmf, buf->n_pages, system_heap_run_at, buf);
}

static vm_fault_t system_heap_fault(struct vm_fault *vmf)
{
	struct system_heap_buffer *buf = vmf->vma->vm_private_data;
	struct dma_buf *dmabuf = buf->dmabuf;
	vm_fault_t fault;
	int ret;

	/* The core checked the mapping's range against the buffer's size. */
	if (vmf->pgoff >= buf->n_pages)
		return VM_FAULT_SIGBUS;

	/* A move in progress: wait for it, killably, and retry. */
	fault = dma_buf_fault_lock(dmabuf, vmf);
	if (fault)
		return fault;
	ret = system_heap_populate(buf);
	/* Under the lock: a move must not free the pages meanwhile. */
	if (!ret)
		fault = system_heap_insert(buf, vmf);
	mutex_unlock(&dmabuf->lock);

	if (!ret)
		return fault;
	/* Killed while the pages came: the access ends with the task. */
	if (ret == -EINTR)
		return dma_buf_fault_retry(vmf);
	/*
	 * Not VM_FAULT_OOM: the OOM killer would not find this memory's
	 * owner, and the fault would be retried for ever.
	 */
	return VM_FAULT_SIGBUS;
}

/*
 * Fault-around, for read faults: map what the fault handler would (the
 * page table's worth around the address, more than the core's fault-around
 * range: the pages are all there), where that cannot sleep: the storage is
 * there, the buffer's lock is free and the page table exists (the core
 * calls this under rcu_read_lock(), so nothing may be allocated).
 * Otherwise the fault handler does it.
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
	if (buf->s.runs)
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
	 * Pages are mapped at fault time, a page table's worth at once, by
	 * frame number. The mapping holds no reference on them and the
	 * memory manager leaves them alone: madvise() cannot reclaim, split
	 * or discard them, get_user_pages() cannot pin them (a pin would
	 * keep old pages in use after a move), and they do not count again
	 * in the resident size of each process that maps them (they count
	 * once, in the owner's RssShmem).
	 */
	vm_flags_set(vma, VM_PFNMAP | VM_DONTDUMP);
	vma->vm_ops = &system_heap_vm_ops;
	vma->vm_private_data = dmabuf->priv;
	return 0;
}

static const struct dma_buf_ops system_heap_buf_ops = {
	.attach		  = system_heap_attach,
	.detach		  = system_heap_detach,
	.map_dma_buf	  = system_heap_map,
	.unmap_dma_buf	  = system_heap_unmap,
	.sync_for_device  = system_heap_sync_for_device,
	.sync_for_cpu	  = system_heap_sync_for_cpu,
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
	unsigned int k, r = 0, end = 0;
	unsigned long len;

	/*
	 * Run by run, from the frame numbers: apart from system_heap_pfn(),
	 * which kmap uses, and from the run pages that scatterlists, page
	 * arrays and faults use, so that tests comparing them check both.
	 */
	for (k = 0; k < SYSTEM_HEAP_N_ORDERS; k++) {
		len = 1UL << system_heap_orders[k];
		for (end += buf->s.n_runs[k]; r < end; r++) {
			if (page_num < len)
				return pfn_to_page(buf->s.runs[r]) + page_num;
			page_num -= len;
		}
	}
	return NULL;
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
