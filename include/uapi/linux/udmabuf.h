/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Userspace interface of /dev/udmabuf: turns ranges of memfds (shmem or
 * hugetlbfs) into a dma-buf whose storage is those memfds' own pages.
 *
 * The numbers and layouts below are the ones existing Linux userspace is
 * compiled against (QEMU, crosvm, the kernel's selftests); they must never
 * change. Each structure has the same size and field offsets on 32-bit
 * and 64-bit ABIs, so that no compat translation is needed. See
 * Documentation/userspace-api/udmabuf.rst.
 */
#ifndef _UAPI_LINUX_UDMABUF_H
#define _UAPI_LINUX_UDMABUF_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The new dma-buf file descriptor is close-on-exec. */
#define UDMABUF_FLAGS_CLOEXEC	0x01

/**
 * struct udmabuf_create - argument of UDMABUF_CREATE
 * @memfd: the memfd whose pages become the buffer's storage.
 * @flags: UDMABUF_FLAGS_CLOEXEC or 0. Other bits are ignored, as they
 *	always were.
 * @offset: first byte of the range in the memfd; a multiple of the page
 *	size.
 * @size: size of the range and of the buffer, in bytes; a non-zero
 *	multiple of the page size, within the memfd.
 */
struct udmabuf_create {
	__u32 memfd;
	__u32 flags;
	__u64 offset;
	__u64 size;
};

/**
 * struct udmabuf_create_item - one range of UDMABUF_CREATE_LIST
 * @memfd: the memfd holding the range.
 * @__pad: padding, ignored.
 * @offset: first byte of the range in the memfd; a multiple of the page
 *	size.
 * @size: size of the range in bytes; a multiple of the page size.
 */
struct udmabuf_create_item {
	__u32 memfd;
	__u32 __pad;
	__u64 offset;
	__u64 size;
};

/**
 * struct udmabuf_create_list - argument of UDMABUF_CREATE_LIST
 * @flags: as &udmabuf_create.flags.
 * @count: number of ranges in @list, at most the list_limit module
 *	parameter.
 * @list: the ranges, laid end to end in the buffer in this order.
 */
struct udmabuf_create_list {
	__u32 flags;
	__u32 count;
	struct udmabuf_create_item list[];
};

/* Both return the new dma-buf file descriptor. */
#define UDMABUF_CREATE		_IOW('u', 0x42, struct udmabuf_create)
#define UDMABUF_CREATE_LIST	_IOW('u', 0x43, struct udmabuf_create_list)

#endif /* _UAPI_LINUX_UDMABUF_H */
