// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers for exporters whose storage is pages: allocation where every
 * attached device can reach it, and scatterlists that respect a device's
 * segment constraints.
 */

#include <linux/dma-buf.h>
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/memblock.h>
#include <linux/mm.h>
#include <linux/pfn.h>
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
 * @order: allocation order, as for alloc_pages(); the pages are not
 *	compound, so split_page() may split them.
 * @gfp: extra flags (__GFP_ZERO, __GFP_NOWARN, __GFP_NORETRY...); no zone
 *	modifier, the helper picks the zone.
 *
 * Pages come from the largest zone that lies wholly below @limit (highmem
 * when every page of the machine does). When @limit falls inside a zone,
 * as a 28-bit mask does inside ZONE_DMA32, the helper tries that zone
 * once, checks the result, and otherwise falls back to ZONE_DMA when that
 * lies below @limit, as the DMA API's own allocator does. It never hands
 * out pages that a device would need bounce buffers to reach.
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

	if (limit >= last_ram)
		return alloc_pages(GFP_HIGHUSER | gfp, order);
	if (IS_ENABLED(CONFIG_ZONE_DMA32) && limit >= DMA_BIT_MASK(32))
		return alloc_pages(GFP_USER | __GFP_DMA32 | gfp, order);

	/* The narrowest zone that may still reach above the limit. */
	zone = IS_ENABLED(CONFIG_ZONE_DMA32) ? __GFP_DMA32 : 0;
	page = alloc_pages(GFP_USER | zone | gfp | __GFP_NOWARN, order);
	if (page && dma_buf_pages_below(page, order, limit))
		return page;
	if (page)
		__free_pages(page, order);

	if (!IS_ENABLED(CONFIG_ZONE_DMA) || limit < zone_dma_limit)
		return NULL;
	page = alloc_pages(GFP_USER | __GFP_DMA | gfp, order);
	/* ZONE_DMA may be smaller than zone_dma_limit says, never larger. */
	if (page && !dma_buf_pages_below(page, order, limit)) {
		__free_pages(page, order);
		page = NULL;
	}
	return page;
}
EXPORT_SYMBOL_GPL(dma_buf_alloc_pages_below);

/* Bytes of physically contiguous memory from byte @pos of @pages. */
static size_t dma_buf_contiguous(struct page **pages, unsigned int n_pages,
				 size_t pos)
{
	unsigned int first = pos >> PAGE_SHIFT, i;

	for (i = first + 1; i < n_pages; i++)
		if (page_to_pfn(pages[i]) != page_to_pfn(pages[first]) + i - first)
			break;
	return ((size_t)i << PAGE_SHIFT) - pos;
}

/*
 * Walk the segments of @pages under @c; with @sgt, fill its entries.
 * Return the number of segments.
 */
static unsigned int dma_buf_walk_segments(struct page **pages,
					  unsigned int n_pages,
					  const struct dma_buf_constraints *c,
					  struct sg_table *sgt)
{
	struct scatterlist *sg = sgt ? sgt->sgl : NULL;
	size_t pos = 0, end = (size_t)n_pages << PAGE_SHIFT, len;
	unsigned int nents = 0;
	struct page *page;

	while (pos < end) {
		page = pages[pos >> PAGE_SHIFT];
		len = dma_buf_segment_len(c, page_to_phys(page) +
					  offset_in_page(pos),
					  dma_buf_contiguous(pages, n_pages, pos));
		if (sg) {
			sg_set_page(sg, page, len, offset_in_page(pos));
			sg = sg_next(sg);
		}
		pos += len;
		nents++;
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
 * attaching device's constraints (dma_buf_device_constraints()), then
 * dma_map_sgtable() it for that device.
 *
 * Context: Process context; may sleep unless @gfp says otherwise.
 * Return: The table, to be freed with sg_free_table() and kfree(), or an
 * ERR_PTR(): -EINVAL for an empty array or constraints that allow no
 * segment at all, -ENOMEM.
 */
struct sg_table *dma_buf_pages_to_sgt(struct page **pages,
				      unsigned int n_pages,
				      const struct dma_buf_constraints *c,
				      gfp_t gfp)
{
	struct sg_table *sgt;
	unsigned int nents;

	if (!n_pages || !c->max_segment_size)
		return ERR_PTR(-EINVAL);

	nents = dma_buf_walk_segments(pages, n_pages, c, NULL);
	sgt = kzalloc(sizeof(*sgt), gfp);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	if (sg_alloc_table(sgt, nents, gfp)) {
		kfree(sgt);
		return ERR_PTR(-ENOMEM);
	}
	dma_buf_walk_segments(pages, n_pages, c, sgt);
	return sgt;
}
EXPORT_SYMBOL_GPL(dma_buf_pages_to_sgt);
