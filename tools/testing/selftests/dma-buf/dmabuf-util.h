/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the dma-buf selftests.
 */
#ifndef __DMABUF_UTIL_H
#define __DMABUF_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/edu-dmabuf.h>

#define BUFINFO "/sys/kernel/debug/dma_buf/bufinfo"
#define MOVE_CONTROL "/sys/kernel/debug/dma_buf/move"
#define SYSTEM_HEAP "/dev/dma_heap/system"
#define IVSHMEM_HEAP "/dev/dma_heap/ivshmem-0000:00:06.0"
#define IVSHMEM_RESOURCE "/sys/bus/pci/devices/0000:00:06.0/resource"
#define EDU28_SLOT "0000:00:04.0"
#define EDU32_SLOT "0000:00:05.0"
#define EDU28 "/dev/edu/" EDU28_SLOT
#define EDU32 "/dev/edu/" EDU32_SLOT

/* How a device's DMA reaches memory in this guest (make test's passes). */
enum dma_path {
	DMA_DIRECT,		/* DMA addresses are physical addresses */
	DMA_BOUNCED,		/* swiotlb=force: every mapping is bounced */
	DMA_TRANSLATED,		/* behind an IOMMU that translates */
};

static inline enum dma_path dma_path_of(const char *slot)
{
	char path[128], line[1024] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group/type",
		 slot);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
		/* "DMA" or "DMA-FQ"; "identity" in passthrough. */
		if (!strncmp(line, "DMA", 3))
			return DMA_TRANSLATED;
	}
	f = fopen("/proc/cmdline", "r");
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
		if (strstr(line, "swiotlb=force"))
			return DMA_BOUNCED;
	}
	return DMA_DIRECT;
}

/* The lowest physical address of RAM, from /proc/iomem, or UINT64_MAX. */
static inline uint64_t lowest_ram(void)
{
	unsigned long long start, end, low = UINT64_MAX;
	char line[256];
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		return UINT64_MAX;
	while (fgets(line, sizeof(line), f))
		if (line[0] != ' ' && strstr(line, ": System RAM") &&
		    sscanf(line, "%llx-%llx", &start, &end) == 2 && start < low)
			low = start;
	fclose(f);
	return low;
}

#define MASK28 ((1ULL << 28) - 1)

/*
 * Did the driver refuse the 28-bit device at probe, because its mask
 * reaches no memory of this machine (arm64's virt, whose RAM starts at
 * 1 GiB)? The device is there, without a driver, and RAM starts above
 * 256 MiB.
 */
static inline bool edu28_refused_at_probe(void)
{
	return !access("/sys/bus/pci/devices/" EDU28_SLOT, F_OK) &&
	       access("/sys/bus/pci/devices/" EDU28_SLOT "/driver", F_OK) &&
	       lowest_ram() > MASK28;
}

/* Does a record of the kernel log contain both @a and @b? */
static inline bool kmsg_contains(const char *a, const char *b)
{
	char rec[1024];
	bool found = false;
	ssize_t n;
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	while (fd >= 0 && !found &&
	       ((n = read(fd, rec, sizeof(rec) - 1)) > 0 ||
		(n < 0 && errno == EPIPE))) {
		if (n <= 0)
			continue;
		rec[n] = '\0';
		found = strstr(rec, a) && strstr(rec, b);
	}
	if (fd >= 0)
		close(fd);
	return found;
}

#define EDU28_REFUSED_WHY \
	"the 28-bit device reaches no memory on this machine (RAM starts above 256 MiB): the driver refused it at probe"

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

#define HOLES 8

/* Close what heap_holes_make() kept. */
static inline void heap_holes_close(int fds[HOLES])
{
	int i;

	for (i = 0; i < HOLES; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/*
 * Eight 1 MiB buffers of @heap given their storage, then every other one
 * closed: the page allocator hands the next 1 MiB runs out of those
 * holes, most recently freed first, so that the runs of a buffer
 * allocated next follow no other run of it. The four kept stay in @fds
 * (-1 where closed) until heap_holes_close(). 0, or -errno with nothing
 * kept.
 */
static inline int heap_holes_make(int heap, int fds[HOLES])
{
	int i, ret = 0;

	for (i = 0; i < HOLES; i++)
		fds[i] = -1;
	for (i = 0; i < HOLES && !ret; i++) {
		fds[i] = heap_alloc(heap, 1 << 20, O_RDWR | O_CLOEXEC);
		if (fds[i] < 0)
			ret = fds[i];
		else
			ret = buf_sync(fds[i], DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW) ?:
			      buf_sync(fds[i], DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
	}
	if (ret) {
		heap_holes_close(fds);
		return ret;
	}
	for (i = 1; i < HOLES; i += 2) {
		close(fds[i]);
		fds[i] = -1;
	}
	return 0;
}

/* The lowest fd number not in use: shows whether a call leaked one. */
static inline int lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

/* Write @text into the file at @path: 0 or a negative errno. */
static inline int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Minor page faults this process has taken so far. The structure is
 * written first: the kernel counts the faults before it copies them out,
 * so a stack page the copy faulted in would count in the next call.
 */
static inline long minor_faults(void)
{
	struct rusage ru;

	memset(&ru, 0, sizeof(ru));
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/*
 * Counter @name of /proc/vmstat, or -1 if the kernel has none by that
 * name. Reads into a static buffer, so that after a first call a call
 * takes no page fault of its own.
 */
static inline long vmstat_counter(const char *name)
{
	static char text[32768];
	size_t len = strlen(name), used = 0;
	char *line;
	ssize_t n;
	int fd;

	fd = open("/proc/vmstat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (used < sizeof(text) - 1 &&
	       (n = read(fd, text + used, sizeof(text) - 1 - used)) > 0)
		used += n;
	close(fd);
	text[used] = '\0';
	for (line = text; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (!strncmp(line, name, len) && line[len] == ' ')
			return atol(line + len + 1);
	}
	return -1;
}

/*
 * The highest physical address of a range of this process's memory, from
 * /proc/self/pagemap (root sees frame numbers), or UINT64_MAX if a page
 * is not present.
 */
static inline uint64_t phys_last(const void *addr, size_t len, long page)
{
	uint64_t entry, last = 0;
	size_t i;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return UINT64_MAX;
	for (i = 0; i < len; i += page) {
		off_t at = ((uintptr_t)addr + i) / page * sizeof(entry);

		if (pread(fd, &entry, sizeof(entry), at) != sizeof(entry) ||
		    !(entry >> 63) || !(entry & ((1ULL << 55) - 1))) {
			last = UINT64_MAX;
			break;
		}
		entry = (entry & ((1ULL << 55) - 1)) * page + page - 1;
		if (entry > last)
			last = entry;
	}
	close(fd);
	return last;
}

/*
 * In how many pieces of consecutive frames a range of this process's
 * memory lies, from /proc/self/pagemap, or 0 if a page is not present.
 */
static inline unsigned int phys_pieces(const void *addr, size_t len,
				       long page)
{
	uint64_t entry, pfn, next = 0;
	unsigned int pieces = 0;
	size_t i;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	for (i = 0; i < len; i += page) {
		off_t at = ((uintptr_t)addr + i) / page * sizeof(entry);

		if (pread(fd, &entry, sizeof(entry), at) != sizeof(entry) ||
		    !(entry >> 63) || !(entry & ((1ULL << 55) - 1))) {
			pieces = 0;
			break;
		}
		pfn = entry & ((1ULL << 55) - 1);
		if (!pieces || pfn != next)
			pieces++;
		next = pfn + 1;
	}
	close(fd);
	return pieces;
}

/*
 * Move a buffer's storage through debugfs (below @limit, a number in any
 * C notation, or anywhere if NULL): 0 or -errno.
 */
static inline int move_buffer(int fd, const char *limit)
{
	char req[64];

	snprintf(req, sizeof(req), "%d%s%s", fd, limit ? " " : "",
		 limit ? limit : "");
	return write_file(MOVE_CONTROL, req);
}

/*
 * Does the debugfs listing show the buffer as pinned (an importer's
 * mapping held, a kernel CPU access in progress)? -1 if it does not
 * list the buffer.
 */
static inline int buffer_pinned(int fd)
{
	unsigned long long size, ino;
	char line[512], flags[32], count[32], exp[64];
	int found = -1;
	struct stat st;
	FILE *f;

	if (fstat(fd, &st))
		return -1;
	f = fopen(BUFINFO, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] != '\t') {
			if (found >= 0)
				break;
			if (sscanf(line, "%llu %31s %31s %63s %llu", &size, flags,
				   count, exp, &ino) == 5 && ino == st.st_ino)
				found = 0;
		} else if (found >= 0 && !strncmp(line, "\tpinned:", 8)) {
			found = 1;
		}
	}
	fclose(f);
	return found;
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

/* Attach, stating that the device takes the buffer in one piece. */
static inline int edu_attach_one_piece(int edu, int fd)
{
	struct edu_dmabuf_attach a = {
		.fd = fd, .flags = EDU_DMABUF_ATTACH_ONE_PIECE,
	};

	return ioctl(edu, EDU_DMABUF_IOCTL_ATTACH, &a) ? -errno : 0;
}

static inline int edu_map_info(int edu, int fd, struct edu_dmabuf_map_info *info)
{
	memset(info, 0, sizeof(*info));
	info->fd = fd;
	return ioctl(edu, EDU_DMABUF_IOCTL_MAP_INFO, info) ? -errno : 0;
}

/*
 * Like edu_map_info(), but reporting pieces: segments that follow each
 * other in the device's DMA address space are one.
 */
static inline int edu_map_pieces(int edu, int fd,
				 struct edu_dmabuf_map_info *info)
{
	memset(info, 0, sizeof(*info));
	info->fd = fd;
	info->flags = EDU_DMABUF_MAP_INFO_PIECES;
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

/*
 * The highest physical address of the bounce buffers, where every mapping
 * is bounced (swiotlb=force). The kernel says at boot on some machines
 * ("software IO TLB: mapped [mem START-END]", arm64); elsewhere the end
 * of one bounced mapping, of a page of @heap for the 32-bit device @edu32,
 * tells where the pool lies (a pool straddling the limit asked about would
 * be misjudged). UINT64_MAX if neither says.
 */
static inline uint64_t bounce_buffers_end(int heap, int edu32)
{
	struct edu_dmabuf_map_info info;
	unsigned long long start, end, last = UINT64_MAX;
	bool gap;
	char rec[1024], *p;
	ssize_t n;
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	while (fd >= 0 && ((n = read(fd, rec, sizeof(rec) - 1)) > 0 ||
			   (n < 0 && errno == EPIPE))) {
		if (n <= 0)
			continue;
		rec[n] = '\0';
		p = strstr(rec, "software IO TLB: mapped [mem ");
		if (p && sscanf(p, "software IO TLB: mapped [mem %llx-%llx",
				&start, &end) == 2)
			last = end;
	}
	if (fd >= 0)
		close(fd);
	if (last != UINT64_MAX)
		return last;
	fd = heap_alloc(heap, sysconf(_SC_PAGESIZE), O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return UINT64_MAX;
	if (!edu_map_info(edu32, fd, &info) && info.nr_segs)
		last = map_last(&info, &gap);
	close(fd);
	return last;
}

/*
 * Does a device whose DMA mask is @mask reach any memory in this guest?
 * Not if its mappings are bounced through buffers above the mask, nor
 * where RAM starts above the mask (arm64's virt machine starts at 1 GiB);
 * always behind a translating IOMMU. @heap and @edu32 (the 32-bit
 * device) serve to find the bounce buffers.
 */
static inline bool reaches_memory(const char *slot, uint64_t mask, int heap,
				  int edu32)
{
	switch (dma_path_of(slot)) {
	case DMA_TRANSLATED:
		return true;
	case DMA_BOUNCED:
		return bounce_buffers_end(heap, edu32) <= mask;
	default:
		return lowest_ram() <= mask;
	}
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

/*
 * The CPU's view through the kernel's mappings (no DMA): page mappings,
 * or with EDU_DMABUF_XFER_VMAP in @flags the buffer's linear mapping.
 */
static inline int edu_cpu_crc(int edu, int fd, uint64_t off, uint64_t len,
			      uint32_t flags, uint32_t *crc)
{
	struct edu_dmabuf_xfer x = {
		.fd = fd, .flags = flags, .offset = off, .len = len,
	};

	if (ioctl(edu, EDU_DMABUF_IOCTL_KMAP_CRC, &x))
		return -errno;
	*crc = x.crc32;
	return 0;
}

/* The CPU's view through the kernel's page mappings (no DMA). */
static inline int edu_kmap_crc(int edu, int fd, uint64_t off, uint64_t len,
			       uint32_t *crc)
{
	return edu_cpu_crc(edu, fd, off, len, 0, crc);
}

/* The CPU's view through the buffer's linear kernel mapping (no DMA). */
static inline int edu_vmap_crc(int edu, int fd, uint64_t off, uint64_t len,
			       uint32_t *crc)
{
	return edu_cpu_crc(edu, fd, off, len, EDU_DMABUF_XFER_VMAP, crc);
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

/*
 * Pages allocated from the contiguous memory areas and not released, as
 * /sys/kernel/mm/cma/ counts them (CONFIG_CMA_SYSFS), or -1 without it.
 */
static inline long long cma_pages_in_use(void)
{
	static const char * const counters[] = {
		"alloc_pages_success", "release_pages_success",
	};
	long long total = 0, n;
	char path[PATH_MAX];
	struct dirent *de;
	unsigned int i;
	bool any = false;
	FILE *f;
	DIR *dir = opendir("/sys/kernel/mm/cma");

	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		for (i = 0; i < 2; i++) {
			snprintf(path, sizeof(path), "/sys/kernel/mm/cma/%s/%s",
				 de->d_name, counters[i]);
			f = fopen(path, "r");
			if (!f)
				continue;
			if (fscanf(f, "%lld", &n) == 1) {
				total += i ? -n : n;
				any = true;
			}
			fclose(f);
		}
	}
	closedir(dir);
	return any ? total : -1;
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

/*
 * The /dev path of the V4L2 node whose name (in
 * /sys/class/video4linux/ENTRY/name) is @name, written to @path: 0, or
 * -ENOENT if the guest has no such node.
 */
static inline int video_node_path(const char *name, char *path, size_t len)
{
	char file[PATH_MAX], text[64];
	DIR *dir = opendir("/sys/class/video4linux");
	struct dirent *de;
	int ret = -ENOENT;
	FILE *f;

	if (!dir)
		return ret;
	while (ret && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "/sys/class/video4linux/%s/name",
			 de->d_name);
		f = fopen(file, "r");
		if (!f)
			continue;
		if (!fgets(text, sizeof(text), f))
			text[0] = '\0';
		fclose(f);
		text[strcspn(text, "\n")] = '\0';
		if (!strcmp(text, name)) {
			snprintf(path, len, "/dev/%s", de->d_name);
			ret = 0;
		}
	}
	closedir(dir);
	return ret;
}

#endif /* __DMABUF_UTIL_H */
