// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf-bench: the operations of the dma-buf userspace ABI, timed, and
 * the kernel half (dmabuf_bench.ko, tools/dma-buf/bench/) loaded with
 * buffers of the system heap to work on. Prints "KEY VALUE" lines: the
 * cost of one operation in nanoseconds of the guest's clock, which make
 * bench reads as instructions (QEMU's -icount shift=0), or bytes for the
 * slab rows.
 *
 *   dmabuf-bench [-n ITERS] [-l LIVE] [-m MODULE.ko] [-s]
 *
 * -n scales the repetitions (default 1000), -l the buffers kept alive for
 * the lookup and slab rows (default 100000), -m names the module (default
 * /usr/lib/dma-buf-selftests/dmabuf_bench.ko), -s (smoke) skips the 64 MiB
 * and 1 GiB buffers. The same binary runs on both kernels of make bench:
 * the ABI is the same. Exit status 0 if every operation worked; nothing is
 * asserted about time.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#define HEAP	"/dev/dma_heap/system"
#define UDMABUF	"/dev/udmabuf"
#define MIB	(1024UL * 1024)

static int heap = -1;
static unsigned long page_size;

static uint64_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * The start of a timed loop: first a pause, in which the work earlier
 * loops left behind (RCU callbacks that free files, dentries and inodes)
 * finishes, so that no row pays for another's: 1,000 buffers created and
 * closed in 4 ms left some 800 instructions each to the next row. The
 * pause is idle time, which -icount sleep=off skips.
 */
static uint64_t settle_now(void)
{
	usleep(100000);
	return now();
}

static void row(const char *key, uint64_t total, unsigned int n)
{
	printf("%s %llu\n", key, (unsigned long long)(total / (n ? n : 1)));
}

static int alloc(size_t len)
{
	struct dma_heap_allocation_data data = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};

	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data) < 0) {
		fprintf(stderr, "dmabuf-bench: ALLOC of %zu bytes: %s\n", len,
			strerror(errno));
		exit(1);
	}
	return data.fd;
}

/* A udmabuf of the @len bytes of a new memfd, which it keeps. */
static int udmabuf_new(size_t len)
{
	struct udmabuf_create create = {
		.flags = UDMABUF_FLAGS_CLOEXEC,
		.size = len,
	};
	int dev, fd;

	dev = open(UDMABUF, O_RDWR | O_CLOEXEC);
	create.memfd = memfd_create("dmabuf-bench",
				    MFD_ALLOW_SEALING | MFD_CLOEXEC);
	fd = -1;
	if (dev >= 0 && (int)create.memfd >= 0 &&
	    !ftruncate(create.memfd, len) &&
	    !fcntl(create.memfd, F_ADD_SEALS, F_SEAL_SHRINK))
		fd = ioctl(dev, UDMABUF_CREATE, &create);
	if (fd < 0) {
		perror("dmabuf-bench: " UDMABUF);
		exit(1);
	}
	close(create.memfd);
	close(dev);
	return fd;
}

/* Map @len bytes of @fd, write a byte of every page, unmap. */
static void touch(int fd, size_t len)
{
	char *p;
	size_t off;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("dmabuf-bench: mmap");
		exit(1);
	}
	for (off = 0; off < len; off += page_size)
		p[off] = 1;	/* munmap() below keeps the stores */
	munmap(p, len);
}

/* ALLOC, DMA_BUF_IOCTL_SYNC start and end (which populates), close. */
static uint64_t alloc_sync_close(size_t len, unsigned int n)
{
	struct dma_buf_sync start = { DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };
	struct dma_buf_sync end = { DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW };
	uint64_t t = settle_now();
	unsigned int i;
	int fd;

	for (i = 0; i < n; i++) {
		fd = alloc(len);
		if (ioctl(fd, DMA_BUF_IOCTL_SYNC, &start) ||
		    ioctl(fd, DMA_BUF_IOCTL_SYNC, &end)) {
			perror("dmabuf-bench: DMA_BUF_IOCTL_SYNC");
			exit(1);
		}
		close(fd);
	}
	return now() - t;
}

static void user_rows(unsigned int iters)
{
	unsigned int i, n = iters / 10 ? iters / 10 : 1;
	uint64_t t, alloc4k, full, retouch, sync1m, sync4k;
	int fd;

	t = settle_now();
	for (i = 0; i < iters; i++)
		close(alloc(page_size));
	alloc4k = now() - t;
	row("heap_alloc_close_4k", alloc4k, iters);

	t = settle_now();
	for (i = 0; i < iters; i++)
		close(alloc(MIB));
	row("heap_alloc_close_1m", now() - t, iters);

	t = settle_now();
	for (i = 0; i < n; i++) {
		fd = alloc(MIB);
		touch(fd, MIB);
		close(fd);
	}
	full = now() - t;
	row("heap_alloc_touch_close_1m", full, n);

	fd = alloc(MIB);
	touch(fd, MIB);
	t = settle_now();
	for (i = 0; i < n; i++)
		touch(fd, MIB);
	retouch = now() - t;
	row("heap_retouch_1m", retouch, n);
	close(fd);

	/* What is left of the full cycle: getting and freeing the pages. */
	full /= n;
	retouch /= n;
	alloc4k /= iters;
	row("heap_pages_get_free_1m",
	    full > retouch + alloc4k ? full - retouch - alloc4k : 0, 1);

	/*
	 * The pages of 1 MiB less a page, got and freed, measured: both
	 * kernels get and free a page in the 4 KiB cycle (the project's at
	 * the first SYNC, upstream's at ALLOC).
	 */
	sync1m = alloc_sync_close(MIB, n) / n;
	row("heap_alloc_sync_close_1m", sync1m, 1);
	sync4k = alloc_sync_close(page_size, iters) / iters;
	row("heap_alloc_sync_close_4k", sync4k, 1);
	row("heap_pages_get_free_1m_sync", sync1m > sync4k ? sync1m - sync4k : 0,
	    1);
}

/*
 * mmap + touch + munmap of a udmabuf, whose memfd's pages are all there.
 * Run after the other rows: the memfd's pages, got and freed, would move
 * the figures of the kernel half's rows that follow.
 */
static void udmabuf_rows(unsigned int iters)
{
	unsigned int i, n = iters / 10 ? iters / 10 : 1;
	uint64_t t;
	int fd;

	fd = udmabuf_new(MIB);
	touch(fd, MIB);
	t = settle_now();
	for (i = 0; i < n; i++)
		touch(fd, MIB);
	row("udmabuf_retouch_1m", now() - t, n);
	close(fd);
}

/* Load the kernel half with our buffers, print its rows, unload it. */
static int kernel_rows(const char *path, unsigned int iters,
		       unsigned int live, int smoke)
{
	int kmsg, mod, fds[3], n_fds = smoke ? 1 : 3, i, ret = 0, done = 0;
	char params[256], rec[1024], *msg;
	size_t sizes[3] = { MIB, 64 * MIB, 1024 * MIB }, len;
	int one;

	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	mod = open(path, O_RDONLY | O_CLOEXEC);
	if (kmsg < 0 || mod < 0) {
		fprintf(stderr, "dmabuf-bench: %s: %s\n",
			kmsg < 0 ? "/dev/kmsg" : path, strerror(errno));
		return 1;
	}
	lseek(kmsg, 0, SEEK_END);

	one = alloc(MIB);
	for (i = 0; i < n_fds; i++)
		fds[i] = alloc(sizes[i]);
	len = snprintf(params, sizeof(params),
		       "iters=%u live=%u heap_fd=%d map_fds=", iters, live, one);
	for (i = 0; i < n_fds; i++)
		len += snprintf(params + len, sizeof(params) - len, "%s%d",
				i ? "," : "", fds[i]);
	if (syscall(SYS_finit_module, mod, params, 0)) {
		fprintf(stderr, "dmabuf-bench: loading %s: %s\n", path,
			strerror(errno));
		ret = 1;
	} else if (syscall(SYS_delete_module, "dmabuf_bench", O_NONBLOCK)) {
		perror("dmabuf-bench: unloading dmabuf_bench");
		ret = 1;
	}

	/* Records are "prio,seq,time,flags;text". */
	while (read(kmsg, rec, sizeof(rec) - 1) > 0 || errno == EPIPE) {
		rec[sizeof(rec) - 1] = 0;
		msg = strchr(rec, ';');
		if (!msg || strncmp(msg + 1, "dmabuf_bench: ", 14))
			continue;
		msg += 15;
		*strchrnul(msg, '\n') = 0;
		if (!strncmp(msg, "begin ", 6))
			continue;
		if (!strncmp(msg, "end ", 4)) {
			done = 1;
			if (atoi(msg + 4))
				ret = 1;
			continue;
		}
		printf("%s\n", msg);
	}
	if (!done) {
		fprintf(stderr, "dmabuf-bench: the module reported no end\n");
		ret = 1;
	}
	for (i = 0; i < n_fds; i++)
		close(fds[i]);
	close(one);
	close(mod);
	close(kmsg);
	return ret;
}

int main(int argc, char **argv)
{
	const char *module = "/usr/lib/dma-buf-selftests/dmabuf_bench.ko";
	unsigned int iters = 1000, live = 100000;
	int opt, smoke = 0, ret;

	while ((opt = getopt(argc, argv, "n:l:m:s")) != -1) {
		switch (opt) {
		case 'n':
			iters = strtoul(optarg, NULL, 0);
			break;
		case 'l':
			live = strtoul(optarg, NULL, 0);
			break;
		case 'm':
			module = optarg;
			break;
		case 's':
			smoke = 1;
			break;
		default:
			fprintf(stderr,
				"usage: dmabuf-bench [-n ITERS] [-l LIVE] [-m MODULE.ko] [-s]\n");
			return 2;
		}
	}
	if (!iters)
		iters = 1;
	page_size = sysconf(_SC_PAGESIZE);
	heap = open(HEAP, O_RDONLY | O_CLOEXEC);
	if (heap < 0) {
		perror("dmabuf-bench: " HEAP);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	user_rows(iters);
	ret = kernel_rows(module, iters, live, smoke);
	udmabuf_rows(iters);
	close(heap);
	return ret;
}
