// SPDX-License-Identifier: GPL-2.0-only
/*
 * CONFIG_DMA_BUF_DEBUG: checks of the importer's side of the contract
 * that cost too much for production kernels.
 *
 * - kmap only between begin_cpu_access and end_cpu_access, and no access
 *   ended while a page of the buffer is still mapped (the storage is
 *   pinned only until then);
 * - at most DMA_BUF_KMAP_MAX page mappings held at once by a task, across
 *   all buffers (seed 003). Counted per task, in task context only: a map
 *   and its unmap are expected from the same task;
 * - importers never read sg_page(): an importer gets a copy of the
 *   exporter's table whose page pointers are scrambled, so that a
 *   dereference faults.
 */

#include <linux/dma-buf.h>
#include <linux/err.h>
#include <linux/hashtable.h>
#include <linux/preempt.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include <kunit/visibility.h>

#include "dma-buf-internal.h"

/*
 * XORed into the page part of each scatterlist entry's page_link. It keeps
 * the two low bits (chain and end markers, which sg_next() reads) and
 * flips the top four: a kernel pointer becomes non-canonical on x86_64
 * and a user address on 32-bit kernels, so sg_page() points at nothing
 * the kernel may touch.
 */
#define DMA_BUF_SG_MANGLE	(~0UL << (BITS_PER_LONG - 4) & ~SG_PAGE_LINK_MASK)

struct dma_buf_kmap_holder {
	struct hlist_node node;
	const struct task_struct *task;
	unsigned int count;
};

static DEFINE_HASHTABLE(dma_buf_kmap_holders, 6);
static DEFINE_SPINLOCK(dma_buf_kmap_lock);

static struct dma_buf_kmap_holder *dma_buf_kmap_holder_find(void)
{
	struct dma_buf_kmap_holder *h;

	lockdep_assert_held(&dma_buf_kmap_lock);
	hash_for_each_possible(dma_buf_kmap_holders, h, node,
			       (unsigned long)current)
		if (h->task == current)
			return h;
	return NULL;
}

/**
 * dma_buf_debug_kmaps_held() - page mappings the current task holds
 *
 * Context: Task context.
 * Return: The number of dma_buf_kmap() and dma_buf_kmap_atomic() mappings
 * the current task has not unmapped yet, over all buffers.
 */
unsigned int dma_buf_debug_kmaps_held(void)
{
	struct dma_buf_kmap_holder *h;
	unsigned int count = 0;
	unsigned long flags;

	spin_lock_irqsave(&dma_buf_kmap_lock, flags);
	h = dma_buf_kmap_holder_find();
	if (h)
		count = h->count;
	spin_unlock_irqrestore(&dma_buf_kmap_lock, flags);
	return count;
}
EXPORT_SYMBOL_IF_KUNIT(dma_buf_debug_kmaps_held);

/**
 * dma_buf_debug_kmap() - account for a new page mapping of @dmabuf
 * @dmabuf: the buffer
 *
 * Warns if no kernel CPU access is in progress on @dmabuf, or if the
 * current task now holds more than DMA_BUF_KMAP_MAX mappings.
 *
 * Context: Any context; does not sleep.
 */
void dma_buf_debug_kmap(struct dma_buf *dmabuf)
{
	struct dma_buf_kmap_holder *h;
	unsigned int count = 0;
	unsigned long flags;

	dma_buf_misuse(!dma_buf_cpu_accesses(dmabuf));
	atomic_inc(&dmabuf->kmaps);
	if (!in_task())
		return;

	spin_lock_irqsave(&dma_buf_kmap_lock, flags);
	h = dma_buf_kmap_holder_find();
	if (!h) {
		/* Bookkeeping only: without memory, this map goes uncounted. */
		h = kzalloc(sizeof(*h), GFP_ATOMIC | __GFP_NOWARN);
		if (h) {
			h->task = current;
			hash_add(dma_buf_kmap_holders, &h->node,
				 (unsigned long)current);
		}
	}
	if (h)
		count = ++h->count;
	spin_unlock_irqrestore(&dma_buf_kmap_lock, flags);

	dma_buf_misuse(count > DMA_BUF_KMAP_MAX);
}

/**
 * dma_buf_debug_end_access() - check the end of a kernel CPU access
 * @dmabuf: the buffer, whose &dma_buf.cpu_access was just decremented
 *
 * Warns if the last access in progress ended while a page of the buffer
 * is still mapped: the storage would no longer be pinned under it.
 *
 * Context: Any context; does not sleep.
 */
void dma_buf_debug_end_access(struct dma_buf *dmabuf)
{
	if (!dma_buf_cpu_accesses(dmabuf))
		dma_buf_misuse(atomic_read(&dmabuf->kmaps) > 0);
}

/**
 * dma_buf_debug_kmaps() - page mappings of a buffer not yet unmapped
 * @dmabuf: the buffer
 *
 * Context: Any context.
 * Return: The number of dma_buf_kmap() and dma_buf_kmap_atomic() mappings
 * of @dmabuf, by any task, not unmapped yet.
 */
unsigned int dma_buf_debug_kmaps(struct dma_buf *dmabuf)
{
	return atomic_read(&dmabuf->kmaps);
}

/**
 * dma_buf_debug_kunmap() - account for the end of a page mapping
 * @dmabuf: the buffer
 *
 * Context: Any context; does not sleep.
 */
void dma_buf_debug_kunmap(struct dma_buf *dmabuf)
{
	struct dma_buf_kmap_holder *h;
	unsigned long flags;

	atomic_dec(&dmabuf->kmaps);
	if (!in_task())
		return;

	spin_lock_irqsave(&dma_buf_kmap_lock, flags);
	h = dma_buf_kmap_holder_find();
	if (h && !--h->count) {
		hash_del(&h->node);
		kfree(h);
	}
	spin_unlock_irqrestore(&dma_buf_kmap_lock, flags);
}

/**
 * dma_buf_debug_wrap() - the importer's copy of an exporter's table
 * @sgt: the table the exporter returned from &dma_buf_ops.map_dma_buf.
 *
 * The copy has the same entries, DMA addresses and lengths, but scrambled
 * page pointers. The exporter keeps its own table intact for its cache
 * maintenance.
 *
 * Context: Process context; may sleep.
 * Return: The copy, or ERR_PTR(-ENOMEM).
 */
struct sg_table *dma_buf_debug_wrap(struct sg_table *sgt)
{
	struct scatterlist *src, *dst;
	struct sg_table *copy;
	unsigned long bits;
	unsigned int i;

	if (dma_buf_alloc_fails(DMA_BUF_ALLOC_DEBUG_COPY))
		return ERR_PTR(-ENOMEM);
	copy = kzalloc(sizeof(*copy), GFP_KERNEL);
	if (!copy)
		return ERR_PTR(-ENOMEM);
	if (sg_alloc_table(copy, sgt->orig_nents, GFP_KERNEL)) {
		kfree(copy);
		return ERR_PTR(-ENOMEM);
	}

	dst = copy->sgl;
	for_each_sgtable_sg(sgt, src, i) {
		/* The copy keeps its own chain and end markers. */
		bits = dst->page_link & SG_PAGE_LINK_MASK;
		*dst = *src;
		dst->page_link = ((src->page_link & ~SG_PAGE_LINK_MASK) ^
				  DMA_BUF_SG_MANGLE) | bits;
		dst = sg_next(dst);
	}
	copy->nents = sgt->nents;
	return copy;
}

/**
 * dma_buf_debug_unwrap() - free a copy made by dma_buf_debug_wrap()
 * @copy: the copy.
 *
 * Context: Any context.
 */
void dma_buf_debug_unwrap(struct sg_table *copy)
{
	sg_free_table(copy);
	kfree(copy);
}
