// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers for exporters whose storage is pages: allocation where every
 * attached device can reach it, scatterlists that respect a device's
 * segment constraints, and userspace mappings by frame number.
 */

#include <kunit/static_stub.h>
#include <linux/cma.h>
#include <linux/dma-buf.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/memblock.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/pfn.h>
#include <linux/pgtable.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

static bool dma_buf_pages_below(struct page *page, unsigned int order,
				u64 limit)
{
	return page_to_phys(page) + (PAGE_SIZE << order) - 1 <= limit;
}

/**
 * dma_buf_alloc_pages_below() - allocate pages every byte of which lies
 *	at or below a physical address
 * @limit: highest acceptable physical address, from
 *	dma_buf_attachments_constraints().
 * @order: allocation order, as for alloc_pages(); the pages are compound
 *	if @gfp has __GFP_COMP, otherwise split_page() may split them.
 * @gfp: extra flags (__GFP_ZERO, __GFP_NOWARN, __GFP_RETRY_MAYFAIL,
 *	__GFP_ACCOUNT...); no zone modifier, the helper picks the zone.
 *
 * Pages come from the largest zone that lies wholly below @limit (highmem
 * when every page of the machine does). When @limit falls inside a zone,
 * as a 28-bit mask does inside ZONE_DMA32, the helper tries that zone
 * once without retrying or warning, checks the result, and otherwise
 * falls back to ZONE_DMA when that lies below @limit, as the DMA API's own
 * allocator does. A failure of that fallback is the ordinary answer for
 * more memory than a narrow device can reach, so it never warns either.
 * The helper never hands out pages that a device would need bounce
 * buffers to reach.
 *
 * Context: Process context; may sleep unless @gfp says otherwise.
 * Return: The first page of the allocation, or NULL if no memory below
 * @limit is available.
 */
struct page *dma_buf_alloc_pages_below(u64 limit, unsigned int order,
				       gfp_t gfp)
{
	u64 last_ram = PFN_PHYS((u64)max_pfn) - 1;
	gfp_t zone;
	struct page *page;

	KUNIT_STATIC_STUB_REDIRECT(dma_buf_alloc_pages_below, limit, order, gfp);
	if (limit >= last_ram)
		return alloc_pages(GFP_HIGHUSER | gfp, order);
	if (IS_ENABLED(CONFIG_ZONE_DMA32) && limit >= DMA_BIT_MASK(32))
		return alloc_pages(GFP_USER | __GFP_DMA32 | gfp, order);

	/*
	 * The narrowest zone that may still reach above the limit: a try,
	 * not worth reclaiming for, since the page may lie above the limit.
	 */
	zone = IS_ENABLED(CONFIG_ZONE_DMA32) ? __GFP_DMA32 : 0;
	page = alloc_pages(GFP_USER | zone | (gfp & ~__GFP_RETRY_MAYFAIL) |
			   __GFP_NORETRY | __GFP_NOWARN, order);
	if (page && dma_buf_pages_below(page, order, limit))
		return page;
	if (page)
		__free_pages(page, order);

	if (!IS_ENABLED(CONFIG_ZONE_DMA) || limit < zone_dma_limit)
		return NULL;
	page = alloc_pages(GFP_USER | __GFP_DMA | gfp | __GFP_NOWARN, order);
	/* ZONE_DMA may be smaller than zone_dma_limit says, never larger. */
	if (page && !dma_buf_pages_below(page, order, limit)) {
		__free_pages(page, order);
		page = NULL;
	}
	return page;
}
EXPORT_SYMBOL_GPL(dma_buf_alloc_pages_below);

/*
 * Charge @n_pages pages from @page, which their allocator (CMA) did not
 * charge, to the current memory cgroup, as the page allocator would for
 * __GFP_ACCOUNT; freeing them uncharges them. 0, or -ENOMEM with none of
 * them charged.
 */
static int dma_buf_charge_pages(struct page *page, unsigned long n_pages)
{
	unsigned long i;

	for (i = 0; i < n_pages; i++)
		if (memcg_kmem_charge_page(nth_page(page, i), GFP_KERNEL |
					   __GFP_NOWARN | __GFP_RETRY_MAYFAIL, 0))
			goto uncharge;
	return 0;

uncharge:
	while (i--)
		memcg_kmem_uncharge_page(nth_page(page, i), 0);
	return -ENOMEM;
}

#ifdef CONFIG_DMA_CMA
/*
 * @n_pages from the default contiguous memory area, if it has them below
 * @limit, charged to the current memory cgroup for __GFP_ACCOUNT as the
 * page allocator would charge them.
 */
static struct page *dma_buf_alloc_cma(unsigned long n_pages, u64 limit,
				      gfp_t gfp)
{
	struct cma *cma = dma_contiguous_default_area;
	struct page *page;

	if (!cma)
		return NULL;
	/* Aligned as a block of the page allocator would be, up to 1 MiB. */
	page = cma_alloc(cma, n_pages, min(order_base_2(n_pages), 8), true);
	if (!page)
		return NULL;
	if (PFN_PHYS((u64)page_to_pfn(page) + n_pages) - 1 > limit ||
	    ((gfp & __GFP_ACCOUNT) && dma_buf_charge_pages(page, n_pages))) {
		cma_release(cma, page, n_pages);
		return NULL;
	}
	return page;
}
#else
static struct page *dma_buf_alloc_cma(unsigned long n_pages, u64 limit,
				      gfp_t gfp)
{
	return NULL;
}
#endif

/**
 * dma_buf_alloc_contiguous() - allocate pages at consecutive physical
 *	addresses, every byte at or below a limit
 * @n_pages: how many pages.
 * @limit: highest acceptable physical address, from
 *	dma_buf_attachments_constraints().
 * @gfp: extra flags as for dma_buf_alloc_pages_below(), without
 *	__GFP_COMP; __GFP_ACCOUNT charges the pages to the current memory
 *	cgroup wherever they come from. How hard to retry is the helper's
 *	choice: __GFP_RETRY_MAYFAIL and __GFP_NORETRY are replaced.
 *
 * For exporters whose importers take a buffer in few pieces
 * (&dma_buf_constraints.max_segments). The pages come from the page
 * allocator when they fit one of its blocks (2^MAX_PAGE_ORDER pages,
 * 4 MiB with 4 KiB pages): the block of the next power of two, whose tail
 * is freed at once. Small blocks are worth reclaiming for, without the
 * OOM killer (__GFP_RETRY_MAYFAIL); larger ones only get one try of
 * reclaim and compaction (__GFP_NORETRY). Larger runs, and runs the page
 * allocator cannot give, come from the default contiguous memory area
 * (CONFIG_DMA_CMA, sized by cma= on the kernel command line), if it has
 * them below @limit. Either way the run starts at a multiple of the next
 * power of two of @n_pages, or of 256 pages (1 MiB) if that is smaller,
 * as the exporter's runs of 1 MiB are. Each page is a page of its own
 * with one reference, not cleared: free them with
 * dma_buf_free_contiguous().
 *
 * Context: Process context; may sleep (the area's pages in use are
 * migrated out of it first).
 * Return: The first page, or NULL if no such run could be had.
 */
struct page *dma_buf_alloc_contiguous(unsigned long n_pages, u64 limit,
				      gfp_t gfp)
{
	unsigned int order;
	struct page *page;
	unsigned long i;

	KUNIT_STATIC_STUB_REDIRECT(dma_buf_alloc_contiguous, n_pages, limit,
				   gfp);
	if (!n_pages)
		return NULL;
	order = order_base_2(n_pages);
	if (order <= MAX_PAGE_ORDER) {
		gfp &= ~(__GFP_COMP | __GFP_RETRY_MAYFAIL | __GFP_NORETRY);
		gfp |= order <= PAGE_ALLOC_COSTLY_ORDER ? __GFP_RETRY_MAYFAIL :
							  __GFP_NORETRY;
		page = dma_buf_alloc_pages_below(limit, order,
						 gfp | __GFP_NOWARN);
		if (page) {
			split_page(page, order);
			for (i = n_pages; i < 1UL << order; i++)
				__free_page(nth_page(page, i));
			return page;
		}
	}
	return dma_buf_alloc_cma(n_pages, limit, gfp);
}
EXPORT_SYMBOL_GPL(dma_buf_alloc_contiguous);

/**
 * dma_buf_free_contiguous() - free what dma_buf_alloc_contiguous() gave
 * @page: the first page it returned.
 * @n_pages: as many pages as were asked for.
 *
 * Context: Process context; may sleep.
 */
void dma_buf_free_contiguous(struct page *page, unsigned long n_pages)
{
	unsigned long i;

#ifdef CONFIG_DMA_CMA
	if (dma_contiguous_default_area &&
	    cma_release(dma_contiguous_default_area, page, n_pages))
		return;
#endif
	for (i = 0; i < n_pages; i++)
		__free_page(nth_page(page, i));
}
EXPORT_SYMBOL_GPL(dma_buf_free_contiguous);

/**
 * dma_buf_alloc_for_device() - allocate pages that one device takes
 *	without a bounce buffer
 * @dev: the device, &dma_buf_constraints.dma_dev.
 * @n_pages: how many pages.
 * @limit: highest acceptable physical address, from
 *	dma_buf_attachments_constraints() (the other devices' reach).
 * @dma_handle: set to the DMA address of the first page, for @dev.
 * @gfp: __GFP_ACCOUNT to charge the pages to the current memory cgroup,
 *	wherever they come from; or 0.
 *
 * For exporters of memory with pages, when a device whose every mapping
 * is bounced needs the buffer in fewer pieces than bounce buffers hold
 * (see "negotiation"): dma_alloc_pages() for @dev, in both directions.
 * The pages lie at consecutive addresses, from the contiguous memory area
 * or the page allocator, within @dev's coherent DMA mask, and @dev reaches
 * them at @dma_handle onwards without a bounce buffer (sync them with
 * dma_sync_single_for_device() and dma_sync_single_for_cpu() on that
 * handle); every other device maps them as any pages, with
 * dma_map_sgtable(). They are not compound, and only the DMA API may
 * free them: the exporter keeps them whole and gives them back with
 * dma_buf_free_for_device(). A reference to @dev is held until then, so
 * that the pages outlive its driver. Not cleared. Not in a confidential
 * VM, where the DMA API shares such memory with the host: the kernel
 * maps it apart from ordinary memory, and processes that map the buffer
 * would read the wrong bytes.
 *
 * Context: Process context; may sleep.
 * Return: The first page, or NULL if no such pages could be had (below
 * @limit), or for a device without a coherent DMA mask.
 */
struct page *dma_buf_alloc_for_device(struct device *dev,
				      unsigned long n_pages, u64 limit,
				      dma_addr_t *dma_handle, gfp_t gfp)
{
	size_t size = n_pages << PAGE_SHIFT;
	struct page *page;
	gfp_t flags;

	KUNIT_STATIC_STUB_REDIRECT(dma_buf_alloc_for_device, dev, n_pages,
				   limit, dma_handle, gfp);
	/* dma_alloc_pages() warns about a device without a coherent mask. */
	if (!n_pages || n_pages > SIZE_MAX >> PAGE_SHIFT ||
	    !dev->coherent_dma_mask || force_dma_unencrypted(dev))
		return NULL;
	/* As dma_buf_alloc_contiguous() tries: long blocks only once. */
	flags = GFP_KERNEL | __GFP_NOWARN | (gfp & __GFP_ACCOUNT);
	flags |= get_order(size) <= PAGE_ALLOC_COSTLY_ORDER ?
		 __GFP_RETRY_MAYFAIL : __GFP_NORETRY;
	page = dma_alloc_pages(dev, size, dma_handle, DMA_BIDIRECTIONAL, flags);
	if (!page)
		return NULL;
	/* The page allocator charged its pages; CMA's are charged here. */
	if (PFN_PHYS((u64)page_to_pfn(page) + n_pages) - 1 > limit ||
	    (is_migrate_cma_page(page) && (gfp & __GFP_ACCOUNT) &&
	     dma_buf_charge_pages(page, n_pages))) {
		dma_free_pages(dev, size, page, *dma_handle, DMA_BIDIRECTIONAL);
		return NULL;
	}
	get_device(dev);
	return page;
}
EXPORT_SYMBOL_GPL(dma_buf_alloc_for_device);

/**
 * dma_buf_free_for_device() - free what dma_buf_alloc_for_device() gave
 * @dev: the device it was given for.
 * @page: the first page it returned.
 * @n_pages: as many pages as were asked for.
 * @dma_handle: the DMA address it set.
 *
 * Drops the reference to @dev taken with the pages.
 *
 * Context: Process context; may sleep.
 */
void dma_buf_free_for_device(struct device *dev, struct page *page,
			     unsigned long n_pages, dma_addr_t dma_handle)
{
	KUNIT_STATIC_STUB_REDIRECT(dma_buf_free_for_device, dev, page, n_pages,
				   dma_handle);
	dma_free_pages(dev, n_pages << PAGE_SHIFT, page, dma_handle,
		       DMA_BIDIRECTIONAL);
	put_device(dev);
}
EXPORT_SYMBOL_GPL(dma_buf_free_for_device);

/*
 * How many struct pages, from @page on, lie in its piece of the memory
 * map, inside which the page after @page in memory is @page + 1. The map
 * is one piece with FLATMEM and SPARSEMEM_VMEMMAP; with classic SPARSEMEM
 * each memory section has its own.
 */
static unsigned long dma_buf_memmap_left(struct page *page)
{
#if defined(CONFIG_SPARSEMEM) && !defined(CONFIG_SPARSEMEM_VMEMMAP)
	return PAGES_PER_SECTION -
	       (page_to_pfn(page) & (PAGES_PER_SECTION - 1));
#else
	return ULONG_MAX;
#endif
}

/*
 * How many of @pages[1] to @pages[@limit] continue @pages[0] in physical
 * memory, each right after the one before it. Within a piece of the
 * memory map that is one pointer comparison per page; frame numbers are
 * compared only where a run crosses into the next piece.
 */
static unsigned long dma_buf_pages_following(struct page **pages,
					     unsigned long limit)
{
	unsigned long j = 1, end;
	struct page *next;

	while (j <= limit) {
		/* Up to @pages[end], the run stays in @pages[j - 1]'s piece. */
		end = j - 1 + min(dma_buf_memmap_left(pages[j - 1]) - 1,
				  limit - (j - 1));
		next = pages[j - 1] + 1;
		while (j <= end && pages[j] == next) {
			j++;
			next++;
		}
		if (j <= end || j > limit)
			break;
		/* @pages[j] would be the first page of the next piece. */
		if (page_to_pfn(pages[j]) != page_to_pfn(pages[j - 1]) + 1)
			break;
		j++;
	}
	return j - 1;
}

/*
 * Walk the segments of @pages under @c; with @sgt, fill its entries.
 * Each page is looked at about once: a segment grows page by page only
 * while the memory is contiguous and the constraints allow it, so the
 * walk is linear in the number of pages whatever their layout.
 * Return the number of segments.
 */
static unsigned int dma_buf_walk_segments(struct page **pages,
					  unsigned int n_pages,
					  const struct dma_buf_constraints *c,
					  struct sg_table *sgt, bool can_sleep)
{
	struct scatterlist *sg = sgt ? sgt->sgl : NULL;
	size_t pos = 0, end = (size_t)n_pages << PAGE_SHIFT, len, max;
	unsigned int nents = 0, i;
	unsigned long more;
	struct page *page;

	while (pos < end) {
		i = pos >> PAGE_SHIFT;
		page = pages[i];
		max = dma_buf_segment_len(c, page_to_phys(page) +
					  offset_in_page(pos), end - pos);
		len = PAGE_SIZE - offset_in_page(pos);
		if (len < max) {
			more = min_t(unsigned long,
				     DIV_ROUND_UP(max - len, PAGE_SIZE),
				     n_pages - 1 - i);
			more = dma_buf_pages_following(&pages[i], more);
			len += (size_t)more << PAGE_SHIFT;
		}
		len = min(len, max);
		if (sg) {
			sg_set_page(sg, page, len, offset_in_page(pos));
			sg = sg_next(sg);
		}
		pos += len;
		nents++;
		if (can_sleep)
			cond_resched();
	}
	return nents;
}

/**
 * dma_buf_pages_to_sgt() - build a scatterlist over an array of pages
 * @pages: the storage, in buffer order.
 * @n_pages: number of entries in @pages; not zero.
 * @c: the constraints the segments respect: physically contiguous pages
 *	are merged into one segment up to @c->max_segment_size, and no
 *	segment crosses a @c->seg_boundary_mask boundary.
 * @gfp: allocation flags for the table.
 *
 * For an exporter's &dma_buf_ops.map_dma_buf: build the table with the
 * mapping device's segment limits (dma_buf_device_segment_limits()),
 * then dma_map_sgtable() it for that device.
 *
 * Context: Process context; may sleep (and yields the CPU on long
 * arrays) unless @gfp says otherwise.
 * Return: The table, to be freed with sg_free_table() and kfree(), or an
 * ERR_PTR(): -EINVAL for an empty array or constraints that allow no
 * segment at all, -ENOMEM.
 */
struct sg_table *dma_buf_pages_to_sgt(struct page **pages,
				      unsigned int n_pages,
				      const struct dma_buf_constraints *c,
				      gfp_t gfp)
{
	bool can_sleep = gfpflags_allow_blocking(gfp);
	struct sg_table *sgt;
	unsigned int nents;

	if (!n_pages || !c->max_segment_size)
		return ERR_PTR(-EINVAL);

	nents = dma_buf_walk_segments(pages, n_pages, c, NULL, can_sleep);
	sgt = kzalloc(sizeof(*sgt), gfp);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	if (sg_alloc_table(sgt, nents, gfp)) {
		kfree(sgt);
		return ERR_PTR(-ENOMEM);
	}
	dma_buf_walk_segments(pages, n_pages, c, sgt, can_sleep);
	return sgt;
}
EXPORT_SYMBOL_GPL(dma_buf_pages_to_sgt);

/**
 * dma_buf_map_pages() - map an array of pages for an attachment's device
 * @attach: the attachment, as passed to &dma_buf_ops.map_dma_buf.
 * @pages: the buffer's storage, in buffer order; lives until the mapping
 *	is unmapped.
 * @n_pages: number of entries in @pages; not zero.
 * @dir: the direction, as passed to &dma_buf_ops.map_dma_buf.
 *
 * The body of a &dma_buf_ops.map_dma_buf for storage that is pages: a
 * table cut to the device's constraints (dma_buf_pages_to_sgt()), mapped
 * with dma_map_sgtable() without cache maintenance, since the same pages
 * may be mapped for several devices at once and the core hands the memory
 * over through the sync callbacks (dma_buf_sync_pages_for_device() and
 * dma_buf_sync_pages_for_cpu()). The table is allocated under the
 * buffer's memory cgroup (dma_buf_charge_begin()).
 *
 * Context: Process context, with the buffer's &dma_buf.lock held. May
 * sleep.
 * Return: The mapped table, to be released with dma_buf_unmap_pages(), or
 * an ERR_PTR(): -EINVAL for an empty array, -ENOMEM, or the DMA API's
 * error (-EIO, -ENOMEM) when the device cannot map the pages.
 */
struct sg_table *dma_buf_map_pages(struct dma_buf_attachment *attach,
				   struct page **pages, unsigned int n_pages,
				   enum dma_data_direction dir)
{
	struct dma_buf_constraints c;
	struct mem_cgroup *old;
	struct sg_table *sgt;
	int ret;

	dma_buf_device_segment_limits(attach->dev, &c);
	old = dma_buf_charge_begin(attach->dmabuf);
	sgt = dma_buf_pages_to_sgt(pages, n_pages, &c, GFP_KERNEL_ACCOUNT);
	dma_buf_charge_end(old);
	if (IS_ERR(sgt))
		return sgt;
	ret = dma_map_sgtable(attach->dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	if (ret) {
		sg_free_table(sgt);
		kfree(sgt);
		return ERR_PTR(ret);
	}
	return sgt;
}
EXPORT_SYMBOL_GPL(dma_buf_map_pages);

/**
 * dma_buf_unmap_pages() - undo dma_buf_map_pages()
 * @attach: the attachment.
 * @sgt: the table dma_buf_map_pages() returned.
 * @dir: its direction.
 *
 * Has the signature of &dma_buf_ops.unmap_dma_buf and may be used as one.
 * Unmaps without syncing: the core synced the memory for the CPU when the
 * mapping's last importer unmapped it.
 *
 * Context: Process context, with the buffer's &dma_buf.lock held. May
 * sleep.
 * Return: Nothing; cannot fail.
 */
void dma_buf_unmap_pages(struct dma_buf_attachment *attach,
			 struct sg_table *sgt, enum dma_data_direction dir)
{
	dma_unmap_sgtable(attach->dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	sg_free_table(sgt);
	kfree(sgt);
}
EXPORT_SYMBOL_GPL(dma_buf_unmap_pages);

/**
 * dma_buf_sync_pages_for_device() - hand a page mapping to its device
 * @attach: the attachment.
 * @sgt: a table dma_buf_map_pages() returned.
 * @dir: its direction.
 *
 * Has the signature of &dma_buf_ops.sync_for_device and may be used as
 * one: dma_sync_sgtable_for_device() (cache write-back, copy into bounce
 * buffers).
 *
 * Context: Process context, with the buffer's &dma_buf.lock held.
 * Return: Nothing; cannot fail.
 */
void dma_buf_sync_pages_for_device(struct dma_buf_attachment *attach,
				   struct sg_table *sgt,
				   enum dma_data_direction dir)
{
	dma_sync_sgtable_for_device(attach->dev, sgt, dir);
}
EXPORT_SYMBOL_GPL(dma_buf_sync_pages_for_device);

/**
 * dma_buf_sync_pages_for_cpu() - hand a page mapping back to the CPU
 * @attach: the attachment.
 * @sgt: a table dma_buf_map_pages() returned.
 * @dir: its direction.
 *
 * Has the signature of &dma_buf_ops.sync_for_cpu and may be used as one:
 * dma_sync_sgtable_for_cpu() (cache invalidation, copy out of bounce
 * buffers).
 *
 * Context: Process context, with the buffer's &dma_buf.lock held.
 * Return: Nothing; cannot fail.
 */
void dma_buf_sync_pages_for_cpu(struct dma_buf_attachment *attach,
				struct sg_table *sgt,
				enum dma_data_direction dir)
{
	dma_sync_sgtable_for_cpu(attach->dev, sgt, dir);
}
EXPORT_SYMBOL_GPL(dma_buf_sync_pages_for_cpu);

/* Where dma_buf_map_window()'s page table entries come from. */
struct dma_buf_window {
	struct vm_area_struct *vma;
	dma_buf_run_fn run;
	void *data;
	/* The buffer's page that the next entry maps. */
	pgoff_t pgoff;
	/* Its frame, and the frames left in its run from there. */
	unsigned long pfn, left;
};

static int dma_buf_window_pte(pte_t *pte, unsigned long addr, void *data)
{
	struct dma_buf_window *w = data;

	if (!w->left) {
		w->pfn = w->run(w->data, w->pgoff, &w->left);
		/* A run has at least its first page. */
		if (WARN_ON_ONCE(!w->left))
			return -EINVAL;
	}
	/* One a fault on another CPU mapped already stays as it is. */
	if (pte_none(ptep_get(pte))) {
		set_pte_at(w->vma->vm_mm, addr, pte,
			   pte_mkspecial(pfn_pte(w->pfn, w->vma->vm_page_prot)));
		update_mmu_cache(w->vma, addr, pte);
	}
	w->pgoff++;
	w->pfn++;
	w->left--;
	return 0;
}

/**
 * dma_buf_map_window() - map the page table's worth of a buffer around a
 *	fault, by frame number
 * @vmf: the fault, in a mapping the exporter's &dma_buf_ops.mmap marked
 *	VM_PFNMAP.
 * @n_pages: the buffer's size in pages.
 * @run: returns the frame of page @pgoff of the buffer and, in @len, how
 *	many pages from it on lie at consecutive frames (at least 1).
 * @data: passed to @run.
 *
 * For exporters whose storage is ordinary write-back RAM, which they map
 * into userspace from their fault handler (&vm_operations_struct.fault)
 * or fault-around (&vm_operations_struct.map_pages): maps every page of
 * the buffer that the faulting page's page table covers (2 MiB on
 * x86-64), within the mapping, in one walk of the page table, asking
 * @run once per run of consecutive frames, and leaves entries already
 * present as they are. The entries are special (pte_mkspecial()), as
 * remap_pfn_range() makes them: the memory manager neither counts, nor
 * reclaims, nor lets get_user_pages() pin the pages through the mapping,
 * and a move can take them away with unmap_mapping_range(). No memory
 * type is looked up per page, as vmf_insert_pfn() does: the mapping's
 * protection is the memory's (not for device memory, whose mappings need
 * the memory type vmf_insert_pfn_prot() tracks).
 *
 * Context: A page fault handler, with the fault's lock held and whatever
 * keeps the storage from moving or going (for a storage that moves, the
 * buffer's lock). From map_pages, under rcu_read_lock(), only where the
 * page table exists: nothing is allocated then.
 * Return: VM_FAULT_NOPAGE once the pages are mapped; VM_FAULT_OOM if a
 * page table could not be allocated; VM_FAULT_SIGBUS for a @run that
 * returned no page.
 */
vm_fault_t dma_buf_map_window(struct vm_fault *vmf, unsigned long n_pages,
			      dma_buf_run_fn run, void *data)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long table = PTRS_PER_PTE * PAGE_SIZE;
	struct dma_buf_window w = {
		.vma = vma, .run = run, .data = data,
	};
	unsigned long addr, end;
	int ret;

	addr = max(vma->vm_start, ALIGN_DOWN(vmf->address, table));
	end = min(vma->vm_end, ALIGN_DOWN(vmf->address, table) + table);
	w.pgoff = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
	if (w.pgoff >= n_pages)
		return VM_FAULT_SIGBUS;
	end = min(end, addr + ((n_pages - w.pgoff) << PAGE_SHIFT));

	ret = apply_to_page_range(vma->vm_mm, addr, end - addr,
				  dma_buf_window_pte, &w);
	if (!ret)
		return VM_FAULT_NOPAGE;
	return ret == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
}
EXPORT_SYMBOL_GPL(dma_buf_map_window);
