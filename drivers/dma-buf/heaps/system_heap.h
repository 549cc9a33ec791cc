/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The system heap's functions that its KUnit suite calls directly.
 */
#ifndef __SYSTEM_HEAP_H
#define __SYSTEM_HEAP_H

#include <linux/types.h>

struct dma_buf;
struct dma_heap;
struct page;

#if IS_ENABLED(CONFIG_KUNIT)
struct dma_buf *system_heap_allocate(struct dma_heap *heap, size_t len,
				     u32 fd_flags, u64 heap_flags);
struct page *system_heap_page(struct dma_buf *dmabuf, unsigned long page_num);
#endif

#endif /* __SYSTEM_HEAP_H */
