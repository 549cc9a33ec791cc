/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the dma-buf selftests.
 */
#ifndef __DMABUF_UTIL_H
#define __DMABUF_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/edu-dmabuf.h>

#define BUFINFO "/sys/kernel/debug/dma_buf/bufinfo"
#define SYSTEM_HEAP "/dev/dma_heap/system"
#define IVSHMEM_HEAP "/dev/dma_heap/ivshmem-0000:00:06.0"
#define IVSHMEM_RESOURCE "/sys/bus/pci/devices/0000:00:06.0/resource"
#define EDU28 "/dev/edu/0000:00:04.0"
#define EDU32 "/dev/edu/0000:00:05.0"

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

/* CRC-32 as zlib computes it, the device's checksum. */
static inline uint32_t crc32_bytes(const unsigned char *p, size_t n)
{
	uint32_t crc = ~0U;
	int k;

	while (n--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320U & -(crc & 1));
	}
	return ~crc;
}

static inline int edu_to_device(int edu, int fd, uint64_t off, uint64_t len,
				uint32_t *crc)
{
	struct edu_dmabuf_xfer x = { .fd = fd, .offset = off, .len = len };

	if (ioctl(edu, EDU_DMABUF_IOCTL_TO_DEVICE, &x))
		return -errno;
	*crc = x.crc32;
	return 0;
}

static inline int edu_from_device(int edu, int fd, uint64_t off,
				  uint64_t len, uint32_t seed)
{
	struct edu_dmabuf_xfer x = {
		.fd = fd, .offset = off, .len = len, .seed = seed,
	};

	return ioctl(edu, EDU_DMABUF_IOCTL_FROM_DEVICE, &x) ? -errno : 0;
}

static inline int edu_attach(int edu, int fd, bool attach)
{
	struct edu_dmabuf_attach a = { .fd = fd };

	return ioctl(edu, attach ? EDU_DMABUF_IOCTL_ATTACH :
		     EDU_DMABUF_IOCTL_DETACH, &a) ? -errno : 0;
}

static inline int edu_map_info(int edu, int fd, struct edu_dmabuf_map_info *info)
{
	memset(info, 0, sizeof(*info));
	info->fd = fd;
	return ioctl(edu, EDU_DMABUF_IOCTL_MAP_INFO, info) ? -errno : 0;
}

/* The highest DMA address of a mapping, and whether it has a gap. */
static inline uint64_t map_last(const struct edu_dmabuf_map_info *info, bool *gap)
{
	uint64_t last = 0;
	unsigned int i;

	*gap = false;
	for (i = 0; i < info->nr_segs && i < EDU_DMABUF_MAX_SEGS; i++) {
		if (info->segs[i].addr + info->segs[i].len - 1 > last)
			last = info->segs[i].addr + info->segs[i].len - 1;
		if (i && info->segs[i - 1].addr + info->segs[i - 1].len !=
			 info->segs[i].addr)
			*gap = true;
	}
	return last;
}

static inline int send_fd(int sock, int fd, uint32_t word)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { .iov_base = &word, .iov_len = sizeof(word) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == sizeof(word) ? 0 : -errno;
}

static inline int recv_fd(int sock, uint32_t *word)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { .iov_base = word, .iov_len = sizeof(*word) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg;
	int fd;

	if (recvmsg(sock, &msg, 0) != sizeof(*word))
		return -errno;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS)
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

/* The CPU's view through the kernel's page mappings (no DMA). */
static inline int edu_kmap_crc(int edu, int fd, uint64_t off, uint64_t len,
			       uint32_t *crc)
{
	struct edu_dmabuf_xfer x = { .fd = fd, .offset = off, .len = len };

	if (ioctl(edu, EDU_DMABUF_IOCTL_KMAP_CRC, &x))
		return -errno;
	*crc = x.crc32;
	return 0;
}

/* The CRC-32 of the first @len bytes of the device's pattern for @seed. */
static inline uint32_t pattern_crc(uint32_t seed, uint64_t len)
{
	uint32_t crc = ~0U;
	uint64_t i;
	int k;

	for (i = 0; i < len; i++) {
		crc ^= edu_dmabuf_pattern(seed, i);
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320U & -(crc & 1));
	}
	return ~crc;
}

/* The physical address of the ivshmem device's BAR 2, or 0. */
static inline uint64_t ivshmem_bar2(void)
{
	unsigned long long start = 0, end, flags;
	FILE *f = fopen(IVSHMEM_RESOURCE, "r");
	int i;

	if (!f)
		return 0;
	for (i = 0; i <= 2; i++)
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3)
			start = 0;
	fclose(f);
	return start;
}

/* The number of live buffers the debugfs listing reports, or -1. */
static inline int live_buffers(void)
{
	char line[512];
	int n = -1;
	FILE *f = fopen(BUFINFO, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Total %d objects", &n) == 1)
			break;
	fclose(f);
	return n;
}

/*
 * Put a line into the kernel log, in order with the kernel's own
 * messages: how a test declares a report it provokes on purpose
 * ("EXPECT-REPORT begin <class>" ... "EXPECT-REPORT end <class>"; see
 * harness/results.py).
 */
static inline void log_to_kernel(const char *line)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, line, strlen(line)) < 0)
		perror("/dev/kmsg");
	close(fd);
}

/* A /proc/meminfo field, in KiB, or -1. */
static inline long meminfo_kb(const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':') {
			kb = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/* Fill through a mapping, bracketed as userspace must; return the CRC. */
static inline uint32_t fill(int fd, size_t size, unsigned char seed)
{
	unsigned char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
				fd, 0);
	uint32_t crc;
	size_t i;

	if (p == MAP_FAILED)
		return 0;
	buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	for (i = 0; i < size; i++)
		p[i] = seed ^ (i * 131);
	buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	crc = crc32_bytes(p, size);
	munmap(p, size);
	return crc;
}

/* Does the buffer hold what fill() wrote with @seed? */
static inline bool holds_fill(int fd, size_t size, unsigned char seed)
{
	unsigned char *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	bool ok = true;
	size_t i;

	if (p == MAP_FAILED)
		return false;
	buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	for (i = 0; i < size; i++)
		ok &= p[i] == (unsigned char)(seed ^ (i * 131));
	buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	munmap(p, size);
	return ok;
}

/* Does [off, off + len) hold the device's pattern for @seed? */
static inline bool holds_pattern(int fd, size_t size, uint64_t off,
				 uint64_t len, uint32_t seed)
{
	unsigned char *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	bool ok = true;
	uint64_t i;

	if (p == MAP_FAILED)
		return false;
	buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	for (i = 0; i < len; i++)
		ok &= p[off + i] == edu_dmabuf_pattern(seed, i);
	buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	munmap(p, size);
	return ok;
}

#endif /* __DMABUF_UTIL_H */
