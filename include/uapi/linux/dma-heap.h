/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Userspace interface of a dma-buf heap: a character device under
 * /dev/dma_heap/ that allocates buffers and returns them as dma-buf file
 * descriptors.
 *
 * The numbers and layouts below are the ones existing Linux userspace is
 * compiled against; they must never change.
 */
#ifndef _UAPI_LINUX_DMA_HEAP_H
#define _UAPI_LINUX_DMA_HEAP_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * File descriptor flags an allocation may ask for. O_CLOEXEC and O_ACCMODE
 * come from <fcntl.h> in userspace, <linux/fcntl.h> in the kernel. The
 * access mode is open(2)'s: O_RDONLY, O_WRONLY, O_RDWR, or O_ACCMODE for
 * a descriptor that neither reads nor writes (it cannot be mapped).
 */
#define DMA_HEAP_VALID_FD_FLAGS (O_CLOEXEC | O_ACCMODE)

/* No heap flag is defined yet: heap_flags must be zero. */
#define DMA_HEAP_VALID_HEAP_FLAGS (0ULL)

/**
 * struct dma_heap_allocation_data - argument of DMA_HEAP_IOCTL_ALLOC
 * @len: size of the buffer to allocate, in bytes; rounded up to whole
 *	 pages
 * @fd: must be zero; on return, the new dma-buf file descriptor
 * @fd_flags: flags of the new file descriptor, within
 *	      DMA_HEAP_VALID_FD_FLAGS
 * @heap_flags: flags of the allocation, within DMA_HEAP_VALID_HEAP_FLAGS
 *
 * The structure may grow at its end. The kernel accepts a shorter one
 * (missing fields read as zero) and a longer one (fields it does not know
 * are ignored); the ioctl number carries the size userspace was built with.
 * One too short to hold @fd is refused with EINVAL, and nothing is
 * allocated.
 */
struct dma_heap_allocation_data {
	__u64 len;
	__u32 fd;
	__u32 fd_flags;
	__u64 heap_flags;
};

#define DMA_HEAP_IOC_MAGIC	'H'

#define DMA_HEAP_IOCTL_ALLOC	_IOWR(DMA_HEAP_IOC_MAGIC, 0x0, \
				      struct dma_heap_allocation_data)

#endif /* _UAPI_LINUX_DMA_HEAP_H */
