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
 * and 1 GiB buffers. The V4L2 rows (v4l2_rows()) need vivid's capture and
 * output nodes, the contiguous one (contig_rows()) vivid's second instance
 * with vb2-dma-contig and a CMA area (cma=). The same binary runs on both
 * kernels of make bench: the ABI is the same. Exit status 0 if every
 * operation worked; nothing is asserted about time.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
#include <linux/videodev2.h>

#define HEAP	"/dev/dma_heap/system"
#define UDMABUF	"/dev/udmabuf"
#define MIB	(1024UL * 1024)

/* The V4L2 rows: an HD frame, YUYV, through vivid's camera and display. */
#define FRAME_W		1280
#define FRAME_H		720
#define NBUF		3
#define WARMUP		5

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

/*
 * The V4L2 rows: frames from vivid's capture node (a camera) to its output
 * node (a display), through buffers the two share (a system heap buffer
 * queued as V4L2_MEMORY_DMABUF on both) or, the way without dma-buf, each
 * frame copied from the camera's MMAP buffer into one of the display's.
 * Both kernels run the same vivid; the rows differ in what the hand-over
 * costs: QBUF and DQBUF on both queues, and the memcpy in the copy row.
 * Only the process's calls are timed, not its waits in poll(): the frame
 * period is idle time, which -icount sleep=off would count as instructions,
 * and vivid's drawing of the frame (its kernel thread) is the same in both
 * rows. The figure is instructions per frame shown, after WARMUP frames.
 */
struct v4l2_path {
	int cam, disp;
	__u32 memory;
	size_t len;			/* bytes of a frame */
	int fd[NBUF];			/* DMABUF: the shared buffers */
	unsigned char *cam_map[NBUF];	/* MMAP: each node's buffers */
	unsigned char *disp_map[NBUF];
	int disp_free[NBUF];		/* MMAP: display buffers not queued */
};

static int vivid_node(__u32 cap)
{
	struct v4l2_capability c;
	char path[32];
	int i, fd;

	for (i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&c, 0, sizeof(c));
		if (!ioctl(fd, VIDIOC_QUERYCAP, &c) &&
		    !strcmp((const char *)c.driver, "vivid") &&
		    (c.device_caps & cap) && (c.device_caps & V4L2_CAP_STREAMING))
			return fd;
		close(fd);
	}
	fprintf(stderr, "dmabuf-bench: no vivid node with capability %#x\n", cap);
	exit(1);
}

static void xioctl(int fd, unsigned long req, void *arg, const char *what)
{
	if (ioctl(fd, req, arg)) {
		fprintf(stderr, "dmabuf-bench: %s: %s\n", what, strerror(errno));
		exit(1);
	}
}

static size_t v4l2_frame_format(int node, __u32 type)
{
	struct v4l2_format f = { .type = type };

	xioctl(node, VIDIOC_G_FMT, &f, "VIDIOC_G_FMT");
	f.fmt.pix.width = FRAME_W;
	f.fmt.pix.height = FRAME_H;
	f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	f.fmt.pix.field = V4L2_FIELD_NONE;
	f.fmt.pix.bytesperline = 0;
	f.fmt.pix.sizeimage = 0;
	xioctl(node, VIDIOC_S_FMT, &f, "VIDIOC_S_FMT");
	if (f.fmt.pix.width != FRAME_W || f.fmt.pix.height != FRAME_H ||
	    f.fmt.pix.pixelformat != V4L2_PIX_FMT_YUYV) {
		fprintf(stderr, "dmabuf-bench: vivid gave %ux%u for %ux%u YUYV\n",
			f.fmt.pix.width, f.fmt.pix.height, FRAME_W, FRAME_H);
		exit(1);
	}
	return f.fmt.pix.sizeimage;
}

static void v4l2_qbuf(int node, __u32 type, __u32 memory, __u32 index,
		      int fd, size_t len)
{
	struct v4l2_buffer b = {
		.type = type, .memory = memory, .index = index,
		.bytesused = V4L2_TYPE_IS_OUTPUT(type) ? len : 0,
		.field = V4L2_FIELD_NONE,
	};

	if (memory == V4L2_MEMORY_DMABUF) {
		b.m.fd = fd;
		b.length = len;
	}
	xioctl(node, VIDIOC_QBUF, &b, "VIDIOC_QBUF");
}

static __u32 v4l2_dqbuf(int node, __u32 type, __u32 memory)
{
	struct v4l2_buffer b = { .type = type, .memory = memory };

	xioctl(node, VIDIOC_DQBUF, &b, "VIDIOC_DQBUF");
	if (b.flags & V4L2_BUF_FLAG_ERROR) {
		fprintf(stderr, "dmabuf-bench: a frame came back with an error\n");
		exit(1);
	}
	return b.index;
}

static void v4l2_reqbufs(int node, __u32 type, __u32 memory, __u32 count)
{
	struct v4l2_requestbuffers r = {
		.count = count, .type = type, .memory = memory,
	};

	xioctl(node, VIDIOC_REQBUFS, &r, "VIDIOC_REQBUFS");
	/* A driver may give more than asked (vivid: at least two). */
	if (count ? r.count < count : r.count) {
		fprintf(stderr, "dmabuf-bench: %u buffers, not %u\n", r.count, count);
		exit(1);
	}
}

static unsigned char *v4l2_map(int node, __u32 type, __u32 index)
{
	struct v4l2_buffer b = {
		.type = type, .memory = V4L2_MEMORY_MMAP, .index = index,
	};
	void *p;

	xioctl(node, VIDIOC_QUERYBUF, &b, "VIDIOC_QUERYBUF");
	p = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, node,
		 b.m.offset);
	if (p == MAP_FAILED) {
		perror("dmabuf-bench: mmap of a V4L2 buffer");
		exit(1);
	}
	return p;
}

/*
 * @frames frames from camera to display, the first WARMUP untimed: the
 * instructions of the timed calls per frame the display gave back.
 */
static uint64_t v4l2_frames(struct v4l2_path *v, unsigned int frames)
{
	const __u32 cap = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	const __u32 out = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	struct pollfd pfd[2] = {
		{ .fd = v->cam, .events = POLLIN },
		{ .fd = v->disp, .events = POLLOUT },
	};
	unsigned int shown = 0, i, k, o;
	uint64_t t, timed = 0;
	__u32 type;

	for (i = 0; i < NBUF; i++) {
		v4l2_qbuf(v->cam, cap, v->memory, i, v->fd[i], v->len);
		v->disp_free[i] = 1;
	}
	for (type = cap; type <= out; type++)
		xioctl(type == cap ? v->cam : v->disp, VIDIOC_STREAMON, &type,
		       "VIDIOC_STREAMON");
	while (shown < frames + WARMUP) {
		if (poll(pfd, 2, 10000) <= 0) {
			fprintf(stderr, "dmabuf-bench: no frame in 10 s\n");
			exit(1);
		}
		t = now();
		if (pfd[0].revents & POLLIN) {
			k = v4l2_dqbuf(v->cam, cap, v->memory);
			if (v->memory == V4L2_MEMORY_DMABUF) {
				/* The camera's buffer goes to the display. */
				v4l2_qbuf(v->disp, out, v->memory, k, v->fd[k],
					  v->len);
			} else {
				/* A free display buffer gets a copy. */
				for (o = 0; o < NBUF && !v->disp_free[o]; o++)
					;
				if (o < NBUF) {
					memcpy(v->disp_map[o], v->cam_map[k],
					       v->len);
					v->disp_free[o] = 0;
					v4l2_qbuf(v->disp, out, v->memory, o,
						  -1, v->len);
				}
				v4l2_qbuf(v->cam, cap, v->memory, k, -1, v->len);
			}
		}
		if (pfd[1].revents & POLLOUT) {
			o = v4l2_dqbuf(v->disp, out, v->memory);
			if (v->memory == V4L2_MEMORY_DMABUF)
				v4l2_qbuf(v->cam, cap, v->memory, o, v->fd[o],
					  v->len);
			else
				v->disp_free[o] = 1;
			shown++;
		}
		if (pfd[0].revents & ~POLLIN || pfd[1].revents & ~POLLOUT) {
			fprintf(stderr, "dmabuf-bench: poll: %#x %#x\n",
				pfd[0].revents, pfd[1].revents);
			exit(1);
		}
		if (shown > WARMUP)
			timed += now() - t;
	}
	for (type = cap; type <= out; type++)
		xioctl(type == cap ? v->cam : v->disp, VIDIOC_STREAMOFF, &type,
		       "VIDIOC_STREAMOFF");
	return timed / frames;
}

/* The node of vivid whose sysfs name is @name, or exit. */
static int vivid_node_named(const char *name)
{
	char path[64], text[64];
	int i, fd, n;

	for (i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "/sys/class/video4linux/video%d/name",
			 i);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
		text[n > 0 ? n : 0] = 0;
		text[strcspn(text, "\n")] = 0;
		if (strcmp(text, name))
			continue;
		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0)
			return fd;
	}
	fprintf(stderr, "dmabuf-bench: no %s (vivid.n_devs=2 vivid.allocators=0,1)\n",
		name);
	exit(1);
}

/*
 * A buffer of 8 MiB that a device taking it in one piece (vivid's second
 * instance, vb2-dma-contig) imports and maps first: ALLOC, REQBUFS,
 * QBUF, REQBUFS 0, close. Upstream has no negotiation: its user picks
 * the CMA heap, whose ALLOC takes the block (/dev/dma_heap/reserved, the
 * default CMA area). Here the system heap's first map takes one block
 * because the importer said so. Instructions per buffer.
 */
static void contig_rows(unsigned int iters)
{
	const __u32 cap = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	unsigned int i, n = iters / 50 ? iters / 50 : 1;
	struct dma_heap_allocation_data data = {
		.len = 8 * MIB,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	struct v4l2_format f = { .type = cap }, saved;
	int cam, heap_fd;
	uint64_t t;

	heap_fd = open("/dev/dma_heap/reserved", O_RDONLY | O_CLOEXEC);
	if (heap_fd < 0)
		heap_fd = heap;
	cam = vivid_node_named("vivid-001-vid-cap");
	xioctl(cam, VIDIOC_G_FMT, &f, "VIDIOC_G_FMT");
	saved = f;
	f.fmt.pix.width = 1920;
	f.fmt.pix.height = 1080;
	f.fmt.pix.pixelformat = V4L2_PIX_FMT_XRGB32;
	f.fmt.pix.bytesperline = 0;
	f.fmt.pix.sizeimage = 0;
	xioctl(cam, VIDIOC_S_FMT, &f, "VIDIOC_S_FMT");
	if (f.fmt.pix.sizeimage > data.len) {
		fprintf(stderr, "dmabuf-bench: a frame of %u bytes\n",
			f.fmt.pix.sizeimage);
		exit(1);
	}

	t = settle_now();
	for (i = 0; i < n; i++) {
		data.fd = 0;	/* upstream refuses anything else (EINVAL) */
		if (ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, &data)) {
			perror("dmabuf-bench: ALLOC of 8 MiB");
			exit(1);
		}
		v4l2_reqbufs(cam, cap, V4L2_MEMORY_DMABUF, 1);
		v4l2_qbuf(cam, cap, V4L2_MEMORY_DMABUF, 0, data.fd, data.len);
		v4l2_reqbufs(cam, cap, V4L2_MEMORY_DMABUF, 0);
		close(data.fd);
	}
	row("contig_8m_alloc_first_use", now() - t, n);
	if (heap_fd != heap)
		close(heap_fd);
	xioctl(cam, VIDIOC_S_FMT, &saved, "VIDIOC_S_FMT");
	close(cam);
}

static void v4l2_rows(unsigned int iters)
{
	const __u32 cap = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	const __u32 out = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	unsigned int frames = iters / 20 ? iters / 20 : 1, i;
	struct v4l2_path v = { .fd = { -1, -1, -1 } };
	struct v4l2_format cam_fmt = { .type = cap }, disp_fmt = { .type = out };
	size_t len;

	v.cam = vivid_node(V4L2_CAP_VIDEO_CAPTURE);
	v.disp = vivid_node(V4L2_CAP_VIDEO_OUTPUT);
	/* Given back at the end: vivid keeps a format for the next user. */
	xioctl(v.cam, VIDIOC_G_FMT, &cam_fmt, "VIDIOC_G_FMT");
	xioctl(v.disp, VIDIOC_G_FMT, &disp_fmt, "VIDIOC_G_FMT");
	v.len = v4l2_frame_format(v.cam, cap);
	if (v4l2_frame_format(v.disp, out) != v.len) {
		fprintf(stderr, "dmabuf-bench: the display's frame differs\n");
		exit(1);
	}

	/* Shared: one system heap buffer per slot, on both queues. */
	len = (v.len + page_size - 1) / page_size * page_size;
	v.memory = V4L2_MEMORY_DMABUF;
	for (i = 0; i < NBUF; i++)
		v.fd[i] = alloc(len);
	v.len = len;
	v4l2_reqbufs(v.cam, cap, v.memory, NBUF);
	v4l2_reqbufs(v.disp, out, v.memory, NBUF);
	row("v4l2_frame_shared", v4l2_frames(&v, frames), 1);
	v4l2_reqbufs(v.cam, cap, v.memory, 0);
	v4l2_reqbufs(v.disp, out, v.memory, 0);
	for (i = 0; i < NBUF; i++) {
		close(v.fd[i]);
		v.fd[i] = -1;
	}

	/* Copied: each node's own buffers, a memcpy between them. */
	v.memory = V4L2_MEMORY_MMAP;
	v4l2_reqbufs(v.cam, cap, v.memory, NBUF);
	v4l2_reqbufs(v.disp, out, v.memory, NBUF);
	for (i = 0; i < NBUF; i++) {
		v.cam_map[i] = v4l2_map(v.cam, cap, i);
		v.disp_map[i] = v4l2_map(v.disp, out, i);
	}
	row("v4l2_frame_copied", v4l2_frames(&v, frames), 1);
	for (i = 0; i < NBUF; i++) {
		munmap(v.cam_map[i], v.len);
		munmap(v.disp_map[i], v.len);
	}
	v4l2_reqbufs(v.cam, cap, v.memory, 0);
	v4l2_reqbufs(v.disp, out, v.memory, 0);
	xioctl(v.cam, VIDIOC_S_FMT, &cam_fmt, "VIDIOC_S_FMT");
	xioctl(v.disp, VIDIOC_S_FMT, &disp_fmt, "VIDIOC_S_FMT");
	close(v.cam);
	close(v.disp);
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
	v4l2_rows(iters);
	contig_rows(iters);
	close(heap);
	return ret;
}
