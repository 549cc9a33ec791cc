/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dma-buf heaps: character devices under /dev/dma_heap/ from which
 * userspace allocates dma-bufs. See Documentation/driver-api/dma-buf.rst.
 */
#ifndef __LINUX_DMA_HEAP_H
#define __LINUX_DMA_HEAP_H

#include <linux/err.h>
#include <linux/init.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/types.h>

struct dma_buf;
struct dma_heap;
struct module;

/* Longest heap name, including the terminating NUL. */
#define DMA_HEAP_NAME_LEN	32

/**
 * struct dma_heap_ops - what a heap provides
 */
struct dma_heap_ops {
	/**
	 * @allocate: Mandatory. Called for DMA_HEAP_IOCTL_ALLOC in the
	 * allocating process's context, without locks; may sleep. @len is a
	 * non-zero multiple of PAGE_SIZE; @fd_flags (O_CLOEXEC and an access
	 * mode other than O_ACCMODE) are the file flags to export with;
	 * @heap_flags are within DMA_HEAP_VALID_HEAP_FLAGS. Returns the new
	 * buffer with one reference, which the framework hands to a new fd,
	 * or an ERR_PTR(): -ENOMEM when the memory is not there (without
	 * trying, when @len exceeds what the heap could ever provide).
	 */
	struct dma_buf *(*allocate)(struct dma_heap *heap, size_t len,
				    u32 fd_flags, u64 heap_flags);

	/**
	 * @release: Optional. Called once the heap is unregistered and the
	 * last open file of its device node is closed, without locks; may
	 * sleep. From then on the heap's memory, the &struct dma_heap
	 * included, may be freed. A heap without it must stay valid for as
	 * long as its module is loaded (a static heap).
	 */
	void (*release)(struct dma_heap *heap);
};

/**
 * struct dma_heap - a heap
 * @name: the heap's name: its device node is /dev/dma_heap/@name. At most
 *	DMA_HEAP_NAME_LEN - 1 characters, no '/'.
 * @ops: the heap's operations.
 * @priv: the heap's private data.
 *
 * Embedded in the heap driver's data; filled in before
 * dma_heap_register(), untouched by the driver afterwards.
 */
struct dma_heap {
	const char *name;
	const struct dma_heap_ops *ops;
	void *priv;

	/* private: set up by dma_heap_register() */
	struct kref ref;
	struct module *owner;
	struct list_head node;
	struct miscdevice misc;
	char misc_name[DMA_HEAP_NAME_LEN + 9];
	char nodename[DMA_HEAP_NAME_LEN + 9];
};

#ifdef CONFIG_DMABUF_HEAPS
int dma_heap_register_owner(struct dma_heap *heap, struct module *owner);
void dma_heap_unregister(struct dma_heap *heap);
#else
static inline int dma_heap_register_owner(struct dma_heap *heap,
					  struct module *owner)
{
	return -ENODEV;
}

static inline void dma_heap_unregister(struct dma_heap *heap)
{
}
#endif

/**
 * dma_heap_register() - create a heap's device node
 * @heap: the heap, with @heap->name and @heap->ops set.
 *
 * The calling module owns the device node: an open /dev/dma_heap/ file
 * pins it.
 *
 * Context: Process context. May sleep.
 * Return: 0, or a negative errno: -EINVAL (with a WARN) for a heap without
 * ops or with an invalid name, -EBUSY if the name is taken, -ENODEV
 * without CONFIG_DMABUF_HEAPS, or an error from misc_register().
 */
#define dma_heap_register(heap) dma_heap_register_owner(heap, THIS_MODULE)

#endif /* __LINUX_DMA_HEAP_H */
