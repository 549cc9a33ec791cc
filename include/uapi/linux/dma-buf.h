/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Userspace interface of a dma-buf file descriptor.
 *
 * The numbers and layouts below are the ones existing Linux userspace is
 * compiled against; they must never change.
 */
#ifndef _UAPI_LINUX_DMA_BUF_H
#define _UAPI_LINUX_DMA_BUF_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * struct dma_buf_sync - argument of DMA_BUF_IOCTL_SYNC
 * @flags: one of DMA_BUF_SYNC_START or DMA_BUF_SYNC_END, or'ed with the
 *	   direction of the CPU access: DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE
 *	   or DMA_BUF_SYNC_RW. Any other bit is rejected with EINVAL.
 *
 * A process that reads or writes a buffer through mmap() brackets the
 * access with a START and an END call, so that the exporter can make the
 * memory coherent for the CPU before and for the devices after.
 */
struct dma_buf_sync {
	__u64 flags;
};

#define DMA_BUF_SYNC_READ	(1 << 0)
#define DMA_BUF_SYNC_WRITE	(2 << 0)
#define DMA_BUF_SYNC_RW		(DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE)
#define DMA_BUF_SYNC_START	(0 << 2)
#define DMA_BUF_SYNC_END	(1 << 2)
#define DMA_BUF_SYNC_VALID_FLAGS_MASK \
	(DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END)

/* Longest name DMA_BUF_SET_NAME accepts, including the terminating NUL. */
#define DMA_BUF_NAME_LEN	32

#define DMA_BUF_BASE		'b'
#define DMA_BUF_IOCTL_SYNC	_IOW(DMA_BUF_BASE, 0, struct dma_buf_sync)

/*
 * DMA_BUF_SET_NAME takes a pointer to a NUL-terminated string of at most
 * DMA_BUF_NAME_LEN - 1 bytes, shown in /proc/<pid>/fdinfo and debugfs. A
 * longer string, or one holding a control character (a byte below 0x20,
 * or 0x7f), is refused with EINVAL; ENOMEM means there was no memory to
 * keep the name, and the old one stays. Its number encodes the size of a
 * pointer, so it differs between 32-bit and 64-bit userspace; the kernel
 * answers both.
 */
#define DMA_BUF_SET_NAME	_IOW(DMA_BUF_BASE, 1, const char *)
#define DMA_BUF_SET_NAME_A	_IOW(DMA_BUF_BASE, 1, __u32)
#define DMA_BUF_SET_NAME_B	_IOW(DMA_BUF_BASE, 1, __u64)

#endif /* _UAPI_LINUX_DMA_BUF_H */
