/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals shared by the dma-buf core's files and its KUnit suites. Not
 * for exporters or importers.
 */
#ifndef __DMA_BUF_INTERNAL_H
#define __DMA_BUF_INTERNAL_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/dma-buf.h>
#include <linux/types.h>

struct device;
struct dma_buf;
struct seq_file;
struct sg_table;
struct vfsmount;

/*
 * Seed 003: an importer holds at most two kmaps at once (so that it can
 * copy from one page to another), because the backing storage may be in
 * highmem. CONFIG_DMA_BUF_DEBUG checks it.
 */
#define DMA_BUF_KMAP_MAX	2

/*
 * &dma_buf.cpu_access: the number of kernel CPU accesses in progress, and
 * a bit that keeps new ones from pinning without the buffer's lock (see
 * dma_buf_block_cpu_access()). A count up to 2^30 - 1: more tasks than a
 * machine has.
 */
#define DMA_BUF_CPU_BLOCKED		BIT(30)
#define DMA_BUF_CPU_ACCESS_COUNT	(DMA_BUF_CPU_BLOCKED - 1)

/* The number of kernel CPU accesses in progress on @dmabuf. */
static inline unsigned int dma_buf_cpu_accesses(struct dma_buf *dmabuf)
{
	return atomic_read(&dmabuf->cpu_access) & DMA_BUF_CPU_ACCESS_COUNT;
}

void dma_buf_misuse_hook(void);

/**
 * dma_buf_misuse() - check for a caller's misuse of the kernel API
 * @cond: true if the caller broke a rule
 *
 * WARNs once per call site, and lets the KUnit suites count every
 * occurrence through a static stub on dma_buf_misuse_hook().
 *
 * Context: Any context.
 * Return: @cond.
 */
#define dma_buf_misuse(cond) ({					\
	bool __misuse = !!(cond);					\
	if (unlikely(__misuse))						\
		dma_buf_misuse_hook();					\
	WARN_ON_ONCE(__misuse);						\
})

/* The core's allocations, for dma_buf_alloc_fails(). */
enum dma_buf_alloc_site {
	DMA_BUF_ALLOC_BUFFER,		/* struct dma_buf */
	DMA_BUF_ALLOC_INODE,		/* the buffer's inode */
	DMA_BUF_ALLOC_FILE,		/* the buffer's file */
	DMA_BUF_ALLOC_ATTACHMENT,	/* struct dma_buf_attachment */
	DMA_BUF_ALLOC_NAME,		/* the copy of a DMA_BUF_SET_NAME name */
	DMA_BUF_ALLOC_DEBUG_COPY,	/* CONFIG_DMA_BUF_DEBUG's table copy */
};

bool dma_buf_alloc_fails(enum dma_buf_alloc_site site);

#if IS_ENABLED(CONFIG_KUNIT)
struct vfsmount *dma_buf_mount(void);
bool dma_buf_translated(struct device *dev);
phys_addr_t dma_buf_bounce_limit(struct device *dev);
phys_addr_t dma_buf_lowest_ram(void);
size_t dma_buf_max_mapping_size(struct device *dev);
bool dma_buf_dma_memory_shared(struct device *dev);
int dma_buf_bufinfo_show(struct seq_file *s, void *unused);
int dma_buf_vmap_purge(struct notifier_block *nb, unsigned long action,
		       void *freed);
#endif

#ifdef CONFIG_DMA_BUF_DEBUG
void dma_buf_debug_kmap(struct dma_buf *dmabuf);
void dma_buf_debug_kunmap(struct dma_buf *dmabuf);
void dma_buf_debug_end_access(struct dma_buf *dmabuf);
unsigned int dma_buf_debug_kmaps(struct dma_buf *dmabuf);
struct sg_table *dma_buf_debug_wrap(struct sg_table *sgt);
void dma_buf_debug_unwrap(struct sg_table *copy);
unsigned int dma_buf_debug_kmaps_held(void);
#else
static inline void dma_buf_debug_kmap(struct dma_buf *dmabuf)
{
}

static inline void dma_buf_debug_kunmap(struct dma_buf *dmabuf)
{
}

static inline void dma_buf_debug_end_access(struct dma_buf *dmabuf)
{
}

static inline unsigned int dma_buf_debug_kmaps(struct dma_buf *dmabuf)
{
	return 0;
}

static inline struct sg_table *dma_buf_debug_wrap(struct sg_table *sgt)
{
	return sgt;
}

static inline void dma_buf_debug_unwrap(struct sg_table *copy)
{
}
#endif

#endif /* __DMA_BUF_INTERNAL_H */
