/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the dma-buf selftests.
 */
#ifndef __DMABUF_UTIL_H
#define __DMABUF_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

#define SYSTEM_HEAP "/dev/dma_heap/system"

/* A new buffer's fd, or -errno. */
static inline int heap_alloc(int heap_fd, uint64_t len, uint32_t fd_flags)
{
	struct dma_heap_allocation_data data = {
		.len = len,
		.fd_flags = fd_flags,
	};

	if (ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, &data))
		return -errno;
	return data.fd;
}

/* DMA_BUF_IOCTL_SYNC: 0 or -errno. */
static inline int buf_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
}

/* The lowest fd number not in use: shows whether a call leaked one. */
static inline int lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

#endif /* __DMABUF_UTIL_H */
