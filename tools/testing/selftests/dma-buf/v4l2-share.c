// SPDX-License-Identifier: GPL-2.0-only
/*
 * V4L2 and the project's dma-bufs share buffers: vivid captures into
 * system heap buffers and udmabufs that the edu devices then read by DMA,
 * vivid's own buffers go to edu and to another process, vivid output and
 * vim2m read buffers they did not allocate, and buffers outlive the
 * queues that made them. Every hand-over is checked by checksum, every
 * refusal by its errno.
 *
 * vivid's test pattern is the same in every frame once its moving parts
 * and its text are turned off, so a frame captured into a foreign buffer
 * is compared with one captured into vivid's own (V4L2_MEMORY_MMAP).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/udmabuf.h>
#include <linux/videodev2.h>

#include "../kselftest_harness.h"
#include "dmabuf-util.h"

#define VIVID_CAP	"vivid-000-vid-cap"
#define VIVID_OUT	"vivid-000-vid-out"
/* vivid's second instance: vb2-dma-contig (vivid.allocators=0,1). */
#define VIVID_CONTIG	"vivid-001-vid-cap"
#define VIM2M		"vim2m"
#define UDMABUF		"/dev/udmabuf"

/*
 * vivid capture's format: its smallest webcam size, one byte a pixel.
 * QEMU's edu device finishes a DMA 100 ms after it starts, and the
 * driver reads at most 4095 bytes in two of them: reading a frame of
 * 57,600 bytes takes it 3 seconds in one piece, 6 where each page is a
 * segment of its own, so most cases have it read a little (PEEK_LEN),
 * and a whole frame only where it matters.
 */
#define CAP_WIDTH	320
#define CAP_HEIGHT	180
#define CAP_FOURCC	V4L2_PIX_FMT_GREY

/* vim2m converts RGB24 into YUYV at this size. */
#define M2M_WIDTH	320
#define M2M_HEIGHT	240

/* How long a frame may take, even on the debug kernel under TCG. */
#define FRAME_TIMEOUT_MS 20000

/*
 * What the device reads where a whole frame would take too long: a range
 * across the first page boundary.
 */
#define PEEK_LEN	1024
#define PEEK_OFF(page)	((page) - PEEK_LEN / 2)

/*
 * Where the 28-bit device reaches all of vivid's first buffers (the
 * kernel's own allocations come from low memory first), the queue gets
 * more buffers of BALLAST_SIZE until one lies above 256 MiB: at most
 * BALLAST_BUFS, leaving at least BALLAST_SPARE_KB available.
 */
#define BALLAST_SIZE	(4U << 20)
#define BALLAST_BUFS	56
#define BALLAST_SPARE_KB (96L << 10)

static int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret && errno == EINTR);
	return ret ? -errno : 0;
}

/*
 * Open the video node whose name (/sys/class/video4linux/ENTRY/name) is
 * @name: its fd, or -1 with errno set (ENOENT: no such node).
 */
static int open_video(const char *name)
{
	char path[PATH_MAX];
	int ret = video_node_path(name, path, sizeof(path));

	if (ret) {
		errno = -ret;
		return -1;
	}
	return open(path, O_RDWR | O_CLOEXEC);
}

/* Set the menu control named @name to its item named @item: 0 or -errno. */
static int set_menu_control(int fd, const char *name, const char *item)
{
	struct v4l2_query_ext_ctrl q = { .id = V4L2_CTRL_FLAG_NEXT_CTRL };
	struct v4l2_querymenu m;
	struct v4l2_control c;
	int64_t i;

	while (!xioctl(fd, VIDIOC_QUERY_EXT_CTRL, &q)) {
		if (strcmp(q.name, name) || q.type != V4L2_CTRL_TYPE_MENU) {
			q.id |= V4L2_CTRL_FLAG_NEXT_CTRL;
			continue;
		}
		for (i = q.minimum; i <= q.maximum; i++) {
			memset(&m, 0, sizeof(m));
			m.id = q.id;
			m.index = i;
			if (xioctl(fd, VIDIOC_QUERYMENU, &m) ||
			    strcmp((const char *)m.name, item))
				continue;
			c.id = q.id;
			c.value = i;
			return xioctl(fd, VIDIOC_S_CTRL, &c);
		}
		return -ENOENT;
	}
	return -ENOENT;
}

/* Select the input whose name starts with @prefix: 0 or -errno. */
static int select_input(int fd, const char *prefix)
{
	struct v4l2_input in;
	int index;

	for (index = 0; ; index++) {
		memset(&in, 0, sizeof(in));
		in.index = index;
		if (xioctl(fd, VIDIOC_ENUMINPUT, &in))
			return -ENOENT;
		if (!strncmp((const char *)in.name, prefix, strlen(prefix)))
			return xioctl(fd, VIDIOC_S_INPUT, &index);
	}
}

/*
 * S_FMT: @fourcc at @width x @height (or the current size if @width is
 * 0), the other fields as they are. 0 or -errno; @pix gets what the
 * driver set.
 */
static int set_format(int fd, uint32_t type, uint32_t width, uint32_t height,
		      uint32_t fourcc, struct v4l2_pix_format *pix)
{
	struct v4l2_format f = { .type = type };
	int ret;

	ret = xioctl(fd, VIDIOC_G_FMT, &f);
	if (ret)
		return ret;
	if (width) {
		f.fmt.pix.width = width;
		f.fmt.pix.height = height;
	}
	f.fmt.pix.pixelformat = fourcc;
	f.fmt.pix.bytesperline = 0;
	f.fmt.pix.sizeimage = 0;
	ret = xioctl(fd, VIDIOC_S_FMT, &f);
	*pix = f.fmt.pix;
	return ret;
}

/* REQBUFS: the number of buffers granted, or -errno. */
static int request_buffers(int fd, uint32_t type, uint32_t memory,
			   uint32_t count)
{
	struct v4l2_requestbuffers r = {
		.count = count, .type = type, .memory = memory,
	};
	int ret = xioctl(fd, VIDIOC_REQBUFS, &r);

	return ret ? ret : (int)r.count;
}

/* QBUF; @dmabuf, @length for V4L2_MEMORY_DMABUF. 0 or -errno. */
static int queue_buffer(int fd, uint32_t type, uint32_t memory,
			uint32_t index, int dmabuf, uint32_t length,
			uint32_t bytesused)
{
	struct v4l2_buffer b = {
		.index = index, .type = type, .memory = memory,
		.bytesused = bytesused,
	};

	if (memory == V4L2_MEMORY_DMABUF) {
		b.m.fd = dmabuf;
		b.length = length;
	}
	return xioctl(fd, VIDIOC_QBUF, &b);
}

/* Wait for a done buffer and DQBUF it: 0, -ETIME or -errno. */
static int dequeue_buffer(int fd, uint32_t type, uint32_t memory,
			  struct v4l2_buffer *b)
{
	struct pollfd p = {
		.fd = fd,
		.events = V4L2_TYPE_IS_OUTPUT(type) ? POLLOUT : POLLIN,
	};
	int ret = poll(&p, 1, FRAME_TIMEOUT_MS);

	if (ret < 0)
		return -errno;
	if (!ret)
		return -ETIME;
	memset(b, 0, sizeof(*b));
	b->type = type;
	b->memory = memory;
	return xioctl(fd, VIDIOC_DQBUF, b);
}

static int stream(int fd, uint32_t type, bool on)
{
	int t = type;

	return xioctl(fd, on ? VIDIOC_STREAMON : VIDIOC_STREAMOFF, &t);
}

/* EXPBUF: the new dma-buf fd, or -errno. */
static int export_buffer(int fd, uint32_t type, uint32_t index,
			 uint32_t flags)
{
	struct v4l2_exportbuffer e = {
		.type = type, .index = index, .flags = flags,
	};
	int ret = xioctl(fd, VIDIOC_EXPBUF, &e);

	return ret ? ret : e.fd;
}

/*
 * VIDIOC_CREATE_BUFS of one more buffer of @size bytes in the current
 * format: its index, or -errno.
 */
static int create_buffer(int fd, uint32_t type, uint32_t memory,
			 uint32_t size)
{
	struct v4l2_create_buffers c = { .count = 1, .memory = memory };
	int ret;

	c.format.type = type;
	ret = xioctl(fd, VIDIOC_G_FMT, &c.format);
	c.format.fmt.pix.sizeimage = size;
	if (!ret)
		ret = xioctl(fd, VIDIOC_CREATE_BUFS, &c);
	if (!ret && c.count != 1)
		ret = -ENOMEM;
	return ret ? ret : (int)c.index;
}

/*
 * The highest physical address of a V4L2 MMAP buffer's pages, through a
 * mapping of it, and the CRC of bytes [@off, @off + @len). UINT64_MAX if
 * it cannot tell.
 */
static uint64_t v4l2_buffer_last(int fd, uint32_t type, uint32_t index,
				 size_t off, size_t len, uint32_t *crc)
{
	struct v4l2_buffer b = {
		.index = index, .type = type, .memory = V4L2_MEMORY_MMAP,
	};
	unsigned char *p;
	uint64_t last;

	if (xioctl(fd, VIDIOC_QUERYBUF, &b))
		return UINT64_MAX;
	p = mmap(NULL, b.length, PROT_READ, MAP_SHARED, fd, b.m.offset);
	if (p == MAP_FAILED)
		return UINT64_MAX;
	last = phys_last(p, b.length, sysconf(_SC_PAGESIZE));
	*crc = crc32_bytes(p + off, len);
	munmap(p, b.length);
	return last;
}

/* Byte @i of the frames the CPU writes, for @seed. */
static unsigned char frame_byte(unsigned char seed, size_t i)
{
	return seed ^ (i * 29) ^ (i >> 9);
}

static void fill_frame(unsigned char *p, size_t len, unsigned char seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = frame_byte(seed, i);
}

static uint32_t frame_crc(size_t len, unsigned char seed)
{
	unsigned char *p = malloc(len);
	uint32_t crc;

	if (!p)
		return 0;
	fill_frame(p, len, seed);
	crc = crc32_bytes(p, len);
	free(p);
	return crc;
}

/*
 * The CRC of bytes [@off, @off + @len) of a dma-buf, read through a
 * mapping of it between DMA_BUF_SYNC_START and DMA_BUF_SYNC_END: 0 or
 * -errno.
 */
static int mapped_crc(int fd, size_t off, size_t len, uint32_t *crc)
{
	unsigned char *p = mmap(NULL, off + len, PROT_READ, MAP_SHARED, fd, 0);
	int ret;

	if (p == MAP_FAILED)
		return -errno;
	ret = buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	if (!ret) {
		*crc = crc32_bytes(p + off, len);
		ret = buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	}
	munmap(p, off + len);
	return ret;
}

/* Fill a dma-buf's first @len bytes through a mapping, bracketed: 0 or -errno. */
static int mapped_fill(int fd, size_t len, unsigned char seed)
{
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
				fd, 0);
	int ret;

	if (p == MAP_FAILED)
		return -errno;
	ret = buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	if (!ret) {
		fill_frame(p, len, seed);
		ret = buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	}
	munmap(p, len);
	return ret;
}

/* The CRC of bytes [@off, @off + @len) of a V4L2 MMAP buffer: 0 or -errno. */
static int v4l2_buffer_crc(int fd, const struct v4l2_buffer *b, size_t off,
			   size_t len, uint32_t *crc)
{
	unsigned char *p = mmap(NULL, b->length, PROT_READ, MAP_SHARED, fd,
				b->m.offset);

	if (p == MAP_FAILED)
		return -errno;
	*crc = crc32_bytes(p + off, len);
	munmap(p, b->length);
	return 0;
}

/* A memfd of @size bytes and a udmabuf of all of it. */
struct ubuf {
	int memfd, fd;
	unsigned char *map;
	size_t size;
};

/* 0 or -errno; ubuf_destroy() undoes whatever was done either way. */
static int ubuf_create(int dev, size_t size, struct ubuf *u)
{
	struct udmabuf_create c = {
		.flags = UDMABUF_FLAGS_CLOEXEC, .size = size,
	};

	u->fd = -1;
	u->map = MAP_FAILED;
	u->size = size;
	u->memfd = memfd_create("v4l2-share", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (u->memfd < 0)
		return -errno;
	if (ftruncate(u->memfd, size) ||
	    fcntl(u->memfd, F_ADD_SEALS, F_SEAL_SHRINK))
		return -errno;
	u->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      u->memfd, 0);
	if (u->map == MAP_FAILED)
		return -errno;
	c.memfd = u->memfd;
	u->fd = ioctl(dev, UDMABUF_CREATE, &c);
	return u->fd < 0 ? -errno : 0;
}

static void ubuf_destroy(struct ubuf *u)
{
	if (u->fd >= 0)
		close(u->fd);
	if (u->map != MAP_FAILED)
		munmap(u->map, u->size);
	if (u->memfd >= 0)
		close(u->memfd);
}

static size_t page_align(size_t len)
{
	size_t page = sysconf(_SC_PAGESIZE);

	return (len + page - 1) / page * page;
}

/*
 * vivid's capture node @fd at @width x @height @fourcc, a fixed frame
 * (colour bars, no text, no movement), 30 frames a second at most.
 */
static void setup_vivid(struct __test_metadata *_metadata, int fd,
			uint32_t width, uint32_t height, uint32_t fourcc,
			struct v4l2_pix_format *pix)
{
	struct v4l2_streamparm parm = {
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
	};

	ASSERT_EQ(0, select_input(fd, "Webcam"));
	ASSERT_EQ(0, set_menu_control(fd, "Test Pattern", "75% Colorbar"));
	ASSERT_EQ(0, set_menu_control(fd, "OSD Text Mode", "None"));
	ASSERT_EQ(0, set_menu_control(fd, "Horizontal Movement",
				      "No Movement"));
	ASSERT_EQ(0, set_menu_control(fd, "Vertical Movement", "No Movement"));
	ASSERT_EQ(0, set_format(fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, width, height,
				fourcc, pix));
	ASSERT_EQ(width, pix->width);
	ASSERT_EQ(height, pix->height);
	ASSERT_EQ(fourcc, pix->pixelformat);
	ASSERT_LE(pix->bytesperline * pix->height, pix->sizeimage);
	/* Only sooner frames: the test does not depend on the rate. */
	parm.parm.capture.timeperframe.numerator = 1;
	parm.parm.capture.timeperframe.denominator = 30;
	xioctl(fd, VIDIOC_S_PARM, &parm);
}

static void setup_capture(struct __test_metadata *_metadata, int fd,
			  struct v4l2_pix_format *pix)
{
	setup_vivid(_metadata, fd, CAP_WIDTH, CAP_HEIGHT, CAP_FOURCC, pix);
}

/*
 * Start the capture queue with buffer 0 queued (@dmabuf for
 * V4L2_MEMORY_DMABUF, of @length bytes) and dequeue the frame vivid
 * captured into it. The queue is left streaming.
 */
static void capture_frame(struct __test_metadata *_metadata, int fd,
			  uint32_t memory, int dmabuf, size_t length,
			  const struct v4l2_pix_format *pix,
			  struct v4l2_buffer *b)
{
	const uint32_t type = V4L2_BUF_TYPE_VIDEO_CAPTURE;

	ASSERT_LE(1, request_buffers(fd, type, memory, 1));
	ASSERT_EQ(0, queue_buffer(fd, type, memory, 0, dmabuf, length, 0));
	ASSERT_EQ(0, stream(fd, type, true));
	ASSERT_EQ(0, dequeue_buffer(fd, type, memory, b));
	ASSERT_EQ(0, b->index);
	ASSERT_EQ(pix->sizeimage, b->bytesused);
	ASSERT_EQ(0, b->flags & V4L2_BUF_FLAG_ERROR);
}

/* STREAMOFF and free the queue's buffers. */
static void stop_queue(struct __test_metadata *_metadata, int fd,
		       uint32_t type, uint32_t memory)
{
	ASSERT_EQ(0, stream(fd, type, false));
	ASSERT_EQ(0, request_buffers(fd, type, memory, 0));
}

/*
 * The CRC of a frame vivid captures into its own buffers. Two frames are
 * captured, which must be the same: everything else relies on it.
 */
static uint32_t reference_frame(struct __test_metadata *_metadata, int fd,
				const struct v4l2_pix_format *pix)
{
	const uint32_t type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct v4l2_buffer b;
	uint32_t crc[2] = { 0, 0 };
	int i;

	ASSERT_LE(2, request_buffers(fd, type, V4L2_MEMORY_MMAP, 2));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, queue_buffer(fd, type, V4L2_MEMORY_MMAP, i, -1,
					  0, 0));
	ASSERT_EQ(0, stream(fd, type, true));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, dequeue_buffer(fd, type, V4L2_MEMORY_MMAP, &b));
		ASSERT_EQ(pix->sizeimage, b.bytesused);
		ASSERT_EQ(0, v4l2_buffer_crc(fd, &b, 0, pix->sizeimage,
					     &crc[b.index & 1]));
	}
	stop_queue(_metadata, fd, type, V4L2_MEMORY_MMAP);
	ASSERT_EQ(crc[0], crc[1])
		TH_LOG("vivid's frames differ: its pattern is not fixed");
	return crc[0];
}

/*
 * Capture a frame into vivid capture's own buffer 0 (V4L2_MEMORY_MMAP) on
 * @video and export that buffer: *@fd, with the frame's format, the CRC
 * of the whole frame (*@ref) and of PEEK_LEN bytes at @off (*@peek). The
 * queue is left streaming.
 */
static void exported_frame(struct __test_metadata *_metadata, int video,
			   size_t off, struct v4l2_pix_format *pix,
			   uint32_t *ref, uint32_t *peek, int *fd)
{
	struct v4l2_buffer b;

	setup_capture(_metadata, video, pix);
	capture_frame(_metadata, video, V4L2_MEMORY_MMAP, -1, 0, pix, &b);
	ASSERT_EQ(0, v4l2_buffer_crc(video, &b, 0, pix->sizeimage, ref));
	ASSERT_EQ(0, v4l2_buffer_crc(video, &b, off, PEEK_LEN, peek));
	*fd = export_buffer(video, V4L2_BUF_TYPE_VIDEO_CAPTURE, 0,
			    O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, *fd);
}

FIXTURE(share) {
	long page;
	int heap, edu28, edu32, udmabuf;
	int video;	/* the V4L2 node a case opened */
	int live;	/* buffers alive before the case, or -1 */
};

FIXTURE_SETUP(share)
{
	self->page = sysconf(_SC_PAGESIZE);
	self->video = -1;
	self->edu28 = open(EDU28, O_RDWR | O_CLOEXEC);
	self->edu32 = open(EDU32, O_RDWR | O_CLOEXEC);
	self->udmabuf = open(UDMABUF, O_RDWR | O_CLOEXEC);
	self->heap = open(SYSTEM_HEAP, O_RDONLY | O_CLOEXEC);
	/* -1 without debugfs: the cases that count buffers skip. */
	self->live = live_buffers();
}

FIXTURE_TEARDOWN(share)
{
	int fds[] = {
		self->video, self->heap, self->edu28, self->edu32,
		self->udmabuf,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	/* Whatever V4L2 imported or exported is gone with its holders. */
	if (self->live >= 0)
		EXPECT_EQ(self->live, live_buffers())
			TH_LOG("a buffer outlived every holder");
}

/* Why a case skips: a video node (after open_video()), a device. */
#define NO_NODE "video node %s: %s (needs %s)"
#define VIVID_WHY(node) NO_NODE, node, strerror(errno), "CONFIG_VIDEO_VIVID"
#define VIM2M_WHY NO_NODE, VIM2M, strerror(errno), "CONFIG_VIDEO_VIM2M"
#define NO_EDU32 EDU32 ": missing (needs CONFIG_DMABUF_EDU, the test bed)"
#define NO_EDU28 EDU28 " or " EDU32 ": missing (needs CONFIG_DMABUF_EDU, the test bed)"
#define NO_HEAP SYSTEM_HEAP ": missing (needs CONFIG_DMABUF_HEAPS_SYSTEM)"
#define ALL_REACHED \
	"every buffer vivid allocated lay within 256 MiB: no refusal to check"
#define NO_UDMABUF UDMABUF ": missing (needs CONFIG_UDMABUF)"
#define NO_BUFINFO BUFINFO ": unreadable (needs debugfs, CONFIG_DEBUG_FS)"

/*
 * A frame vivid captured into @fd (@size bytes, a foreign buffer queued
 * as V4L2_MEMORY_DMABUF) is the reference frame, as the 32-bit edu
 * device reads it by DMA and as the CPU reads it through a mapping. The
 * device maps the buffer before the capture, reading a little of what
 * the CPU wrote: a stale copy of that (a bounce buffer not synced again
 * for the next transfer) would show.
 */
static void capture_into(struct __test_metadata *_metadata, int video,
			 int edu32, int fd, size_t size,
			 const struct v4l2_pix_format *pix, uint32_t ref,
			 const unsigned char *memfd_map)
{
	size_t off = PEEK_OFF(sysconf(_SC_PAGESIZE));
	uint32_t dev = 0, cpu = 0;
	struct v4l2_buffer b;

	ASSERT_EQ(0, edu_attach(edu32, fd, true));
	ASSERT_EQ(0, edu_to_device(edu32, fd, off, PEEK_LEN, &dev));
	ASSERT_EQ(0, mapped_crc(fd, off, PEEK_LEN, &cpu));
	ASSERT_EQ(cpu, dev);

	capture_frame(_metadata, video, V4L2_MEMORY_DMABUF, fd, size, pix, &b);
	/* Read while vb2 still holds the buffer, as a consumer would. */
	ASSERT_EQ(0, edu_to_device(edu32, fd, 0, pix->sizeimage, &dev));
	ASSERT_EQ(0, mapped_crc(fd, 0, pix->sizeimage, &cpu));
	EXPECT_EQ(cpu, dev) TH_LOG("the device and the CPU read different bytes");
	EXPECT_EQ(ref, cpu) TH_LOG("the frame differs from one captured by MMAP");
	if (memfd_map)
		EXPECT_EQ(ref, crc32_bytes(memfd_map, pix->sizeimage));
	stop_queue(_metadata, video, V4L2_BUF_TYPE_VIDEO_CAPTURE,
		   V4L2_MEMORY_DMABUF);

	/* vb2 has let go; the bytes stay. */
	ASSERT_EQ(0, edu_to_device(edu32, fd, off, PEEK_LEN, &dev));
	ASSERT_EQ(0, mapped_crc(fd, off, PEEK_LEN, &cpu));
	EXPECT_EQ(cpu, dev);
	ASSERT_EQ(0, edu_attach(edu32, fd, false));
}

/* A system heap buffer as vivid capture's buffer, read by edu and CPU. */
TEST_F_TIMEOUT(share, capture_into_heap_buffer, 120)
{
	struct v4l2_pix_format pix;
	uint32_t ref;
	size_t size;
	int fd;

	if (self->heap < 0)
		SKIP(return, NO_HEAP);
	if (self->edu32 < 0)
		SKIP(return, NO_EDU32);
	self->video = open_video(VIVID_CAP);
	if (self->video < 0)
		SKIP(return, VIVID_WHY(VIVID_CAP));
	setup_capture(_metadata, self->video, &pix);
	ref = reference_frame(_metadata, self->video, &pix);

	size = page_align(pix.sizeimage);
	fd = heap_alloc(self->heap, size, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mapped_fill(fd, pix.sizeimage, 0x6b));
	capture_into(_metadata, self->video, self->edu32, fd, size, &pix, ref,
		     NULL);
	close(fd);
}

/*
 * A udmabuf as vivid capture's buffer: the frame is also in the memfd,
 * read through the memfd's own mapping.
 */
TEST_F_TIMEOUT(share, capture_into_udmabuf, 120)
{
	struct v4l2_pix_format pix;
	struct ubuf u;
	uint32_t ref;

	if (self->udmabuf < 0)
		SKIP(return, NO_UDMABUF);
	if (self->edu32 < 0)
		SKIP(return, NO_EDU32);
	self->video = open_video(VIVID_CAP);
	if (self->video < 0)
		SKIP(return, VIVID_WHY(VIVID_CAP));
	setup_capture(_metadata, self->video, &pix);
	ref = reference_frame(_metadata, self->video, &pix);

	ASSERT_EQ(0, ubuf_create(self->udmabuf, page_align(pix.sizeimage),
				 &u));
	fill_frame(u.map, pix.sizeimage, 0x6b);
	capture_into(_metadata, self->video, self->edu32, u.fd, u.size, &pix,
		     ref, u.map);
	ubuf_destroy(&u);
}

/* What a process that received a buffer saw of it. */
struct seen {
	int32_t err;	/* 0, or the negative errno of the step that failed */
	uint32_t cpu, dev;
};

/*
 * vivid exports the buffer it captured into (VIDIOC_EXPBUF); the 32-bit
 * edu device imports it and reads the frame, and so does the kernel's CPU
 * through the exporter's kmap and vmap. The descriptor goes to a second
 * process over SCM_RIGHTS and is closed here; that process reads the
 * frame through its own mapping and has the device read some of it too.
 */
TEST_F_TIMEOUT(share, exported_buffer_to_edu_and_process, 120)
{
	const uint32_t type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	size_t off = PEEK_OFF(self->page);
	struct seen seen = { .err = -EIO };
	uint32_t ref, peek, crc = 0, word;
	struct v4l2_pix_format pix;
	int sv[2], fd, edu, status;
	pid_t pid;

	if (self->edu32 < 0)
		SKIP(return, NO_EDU32);
	self->video = open_video(VIVID_CAP);
	if (self->video < 0)
		SKIP(return, VIVID_WHY(VIVID_CAP));
	exported_frame(_metadata, self->video, off, &pix, &ref, &peek, &fd);
	ASSERT_LE((off_t)pix.sizeimage, lseek(fd, 0, SEEK_END));
	ASSERT_EQ(0, edu_attach(self->edu32, fd, true));
	ASSERT_EQ(0, edu_to_device(self->edu32, fd, 0, pix.sizeimage, &crc));
	EXPECT_EQ(ref, crc) TH_LOG("edu read other bytes than the capture");
	ASSERT_EQ(0, edu_kmap_crc(self->edu32, fd, 0, pix.sizeimage, &crc));
	EXPECT_EQ(ref, crc) TH_LOG("the exporter's kmap shows other bytes");
	ASSERT_EQ(0, edu_vmap_crc(self->edu32, fd, 0, pix.sizeimage, &crc));
	EXPECT_EQ(ref, crc) TH_LOG("the exporter's vmap shows other bytes");

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int got;

		close(sv[0]);
		close(fd);
		got = recv_fd(sv[1], &word);
		edu = open(EDU32, O_RDWR | O_CLOEXEC);
		seen.err = got < 0 ? got : edu < 0 ? -errno : 0;
		if (!seen.err)
			seen.err = mapped_crc(got, 0, word, &seen.cpu);
		if (!seen.err)
			seen.err = edu_to_device(edu, got, off, PEEK_LEN,
						 &seen.dev);
		_exit(write(sv[1], &seen, sizeof(seen)) == sizeof(seen) ?
		      0 : 1);
	}
	close(sv[1]);
	ASSERT_EQ(0, send_fd(sv[0], fd, pix.sizeimage));
	close(fd);
	ASSERT_EQ((ssize_t)sizeof(seen), read(sv[0], &seen, sizeof(seen)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	close(sv[0]);
	ASSERT_EQ(0, seen.err) TH_LOG("the second process: %s",
				      strerror(-seen.err));
	EXPECT_EQ(ref, seen.cpu) TH_LOG("its mapping shows other bytes");
	EXPECT_EQ(peek, seen.dev) TH_LOG("its device read other bytes");

	stop_queue(_metadata, self->video, type, V4L2_MEMORY_MMAP);
}

/*
 * A heap buffer the CPU filled is the source of vivid output, queued as
 * V4L2_MEMORY_DMABUF with a read-only one behind it (an output queue only
 * reads, so the access-mode rule lets it in): vivid takes the first
 * (sequence 0, the bytes used as queued) and leaves both unchanged.
 */
TEST_F_TIMEOUT(share, heap_buffer_as_vivid_output, 120)
{
	const uint32_t type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	size_t size, off = PEEK_OFF(self->page);
	uint32_t zeros = 0, crc = 0, got = 0;
	struct v4l2_pix_format pix;
	struct v4l2_buffer b;
	int fd, ro;

	if (self->heap < 0)
		SKIP(return, NO_HEAP);
	if (self->edu32 < 0)
		SKIP(return, NO_EDU32);
	self->video = open_video(VIVID_OUT);
	if (self->video < 0)
		SKIP(return, VIVID_WHY(VIVID_OUT));
	/* Small frames if its output scaler allows, as it does by default. */
	ASSERT_EQ(0, set_format(self->video, type, CAP_WIDTH, CAP_HEIGHT,
				V4L2_PIX_FMT_YUYV, &pix));
	ASSERT_EQ(V4L2_PIX_FMT_YUYV, pix.pixelformat);
	ASSERT_LE(pix.bytesperline * pix.height, pix.sizeimage);
	ASSERT_LT(off + PEEK_LEN, pix.sizeimage);
	size = page_align(pix.sizeimage);

	fd = heap_alloc(self->heap, size, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mapped_fill(fd, pix.sizeimage, 0x3d));
	ASSERT_EQ(0, mapped_crc(fd, off, PEEK_LEN, &crc));
	ro = heap_alloc(self->heap, size, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	ASSERT_EQ(0, mapped_crc(ro, 0, pix.sizeimage, &zeros));

	/* vivid output hands a buffer back only when another is queued. */
	ASSERT_LE(2, request_buffers(self->video, type, V4L2_MEMORY_DMABUF, 2));
	ASSERT_EQ(0, queue_buffer(self->video, type, V4L2_MEMORY_DMABUF, 0, fd,
				  size, pix.sizeimage));
	ASSERT_EQ(0, queue_buffer(self->video, type, V4L2_MEMORY_DMABUF, 1, ro,
				  size, pix.sizeimage));
	ASSERT_EQ(0, stream(self->video, type, true));
	ASSERT_EQ(0, dequeue_buffer(self->video, type, V4L2_MEMORY_DMABUF, &b));
	EXPECT_EQ(0, b.index);
	EXPECT_EQ(0, b.sequence);
	EXPECT_EQ(pix.sizeimage, b.bytesused);
	EXPECT_EQ(fd, b.m.fd);
	EXPECT_EQ(0, b.flags & V4L2_BUF_FLAG_ERROR);
	stop_queue(_metadata, self->video, type, V4L2_MEMORY_DMABUF);

	ASSERT_EQ(0, mapped_crc(fd, 0, pix.sizeimage, &got));
	EXPECT_EQ(frame_crc(pix.sizeimage, 0x3d), got);
	ASSERT_EQ(0, edu_to_device(self->edu32, fd, off, PEEK_LEN, &got));
	EXPECT_EQ(crc, got);
	ASSERT_EQ(0, mapped_crc(ro, 0, pix.sizeimage, &got));
	EXPECT_EQ(zeros, got);
	close(ro);
	close(fd);
}

/*
 * One vim2m job, RGB24 in and YUYV out: from @src (or a V4L2 MMAP buffer
 * filled with the same bytes, if @memory is V4L2_MEMORY_MMAP) into @dst
 * (or a V4L2 MMAP buffer). Returns the CRC of the result as read through
 * @dst_map, or the MMAP buffer's mapping.
 */
static uint32_t m2m_job(struct __test_metadata *_metadata, int fd,
			uint32_t memory, const struct v4l2_pix_format *in,
			const struct v4l2_pix_format *out, int src,
			int dst, const unsigned char *dst_map, unsigned char seed)
{
	const uint32_t otype = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	const uint32_t ctype = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct v4l2_buffer b = { .type = otype, .memory = memory };
	unsigned char *p;
	uint32_t crc = 0;
	int ret = 0;

	ASSERT_LE(1, request_buffers(fd, otype, memory, 1));
	ASSERT_LE(1, request_buffers(fd, ctype, memory, 1));
	if (memory == V4L2_MEMORY_MMAP) {
		ASSERT_EQ(0, xioctl(fd, VIDIOC_QUERYBUF, &b));
		p = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, b.m.offset);
		ASSERT_TRUE(p != MAP_FAILED);
		fill_frame(p, in->sizeimage, seed);
		munmap(p, b.length);
	}
	ASSERT_EQ(0, queue_buffer(fd, otype, memory, 0, src,
				  page_align(in->sizeimage), in->sizeimage));
	ASSERT_EQ(0, queue_buffer(fd, ctype, memory, 0, dst,
				  page_align(out->sizeimage), 0));
	ASSERT_EQ(0, stream(fd, otype, true));
	ASSERT_EQ(0, stream(fd, ctype, true));
	ASSERT_EQ(0, dequeue_buffer(fd, ctype, memory, &b));
	ASSERT_EQ(out->sizeimage, b.bytesused);
	ASSERT_EQ(0, b.flags & V4L2_BUF_FLAG_ERROR);
	if (memory == V4L2_MEMORY_MMAP)
		ret = v4l2_buffer_crc(fd, &b, 0, out->sizeimage, &crc);
	else
		crc = crc32_bytes(dst_map, out->sizeimage);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, dequeue_buffer(fd, otype, memory, &b));
	ASSERT_EQ(0, b.flags & V4L2_BUF_FLAG_ERROR);
	stop_queue(_metadata, fd, otype, memory);
	stop_queue(_metadata, fd, ctype, memory);
	return crc;
}

/*
 * vim2m reads a heap buffer (its OUTPUT queue) and writes a udmabuf (its
 * CAPTURE queue); the result, read through the memfd, is what vim2m
 * makes of the same bytes in its own buffers, and the source is
 * unchanged.
 */
TEST_F_TIMEOUT(share, vim2m_heap_in_udmabuf_out, 120)
{
	struct v4l2_pix_format in, out;
	uint32_t crc, ref;
	struct ubuf u;
	int src;

	if (self->heap < 0)
		SKIP(return, NO_HEAP);
	if (self->udmabuf < 0)
		SKIP(return, NO_UDMABUF);
	self->video = open_video(VIM2M);
	if (self->video < 0)
		SKIP(return, VIM2M_WHY);
	ASSERT_EQ(0, set_format(self->video, V4L2_BUF_TYPE_VIDEO_OUTPUT,
				M2M_WIDTH, M2M_HEIGHT, V4L2_PIX_FMT_RGB24,
				&in));
	ASSERT_EQ(0, set_format(self->video, V4L2_BUF_TYPE_VIDEO_CAPTURE,
				M2M_WIDTH, M2M_HEIGHT, V4L2_PIX_FMT_YUYV,
				&out));
	ASSERT_EQ(V4L2_PIX_FMT_RGB24, in.pixelformat);
	ASSERT_EQ(V4L2_PIX_FMT_YUYV, out.pixelformat);
	ASSERT_EQ(M2M_WIDTH * M2M_HEIGHT * 3, in.sizeimage);
	ASSERT_EQ(M2M_WIDTH * M2M_HEIGHT * 2, out.sizeimage);

	src = heap_alloc(self->heap, page_align(in.sizeimage),
			 O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, src);
	ASSERT_EQ(0, mapped_fill(src, in.sizeimage, 0x91));
	ASSERT_EQ(0, ubuf_create(self->udmabuf, page_align(out.sizeimage),
				 &u));
	memset(u.map, 0xee, u.size);

	crc = m2m_job(_metadata, self->video, V4L2_MEMORY_DMABUF, &in, &out,
		      src, u.fd, u.map, 0);
	ref = m2m_job(_metadata, self->video, V4L2_MEMORY_MMAP, &in, &out,
		      -1, -1, NULL, 0x91);
	EXPECT_EQ(ref, crc) TH_LOG("vim2m's result differs from its MMAP one");
	ASSERT_EQ(0, mapped_crc(u.fd, 0, out.sizeimage, &crc));
	EXPECT_EQ(ref, crc);
	ASSERT_EQ(0, mapped_crc(src, 0, in.sizeimage, &crc));
	EXPECT_EQ(frame_crc(in.sizeimage, 0x91), crc);
	ubuf_destroy(&u);
	close(src);
}

/*
 * The 28-bit edu device and buffers vivid allocated with vmalloc (pages
 * anywhere in RAM), exported: attaching is refused with ERANGE exactly
 * where a page lies beyond the device's reach (as /proc/self/pagemap
 * tells through the buffer's V4L2 mapping), or where the device reaches
 * nothing (bounce buffers above 256 MiB), and so is a transfer; a buffer
 * it reaches is read right, and one it does not is read right by the
 * 32-bit device. Each buffer holds a frame.
 */
TEST_F_TIMEOUT(share, narrow_device_refused_where_unreachable, 180)
{
	const uint32_t type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	const uint32_t mem = V4L2_MEMORY_MMAP;
	int fd, i, n, ret, test[3], refused = 0, reached = 0;
	size_t off = PEEK_OFF(self->page);
	uint32_t peek = 0, crc = 0;
	bool reach_any = true, high = false;
	struct v4l2_pix_format pix;
	struct v4l2_buffer b;
	enum dma_path path;
	uint64_t last = 0;

	if (edu28_refused_at_probe())
		SKIP(return, EDU28_REFUSED_WHY);
	if (self->edu28 < 0 || self->edu32 < 0)
		SKIP(return, "%s", NO_EDU28);
	path = dma_path_of(EDU28_SLOT);
	if (path == DMA_TRANSLATED)
		SKIP(return, "behind an IOMMU the 28-bit device reaches every page");
	if (path == DMA_BOUNCED) {
		if (self->heap < 0)
			SKIP(return, "%s", NO_HEAP ", which finds the bounce buffers");
		reach_any = reaches_memory(EDU28_SLOT, MASK28, self->heap,
					   self->edu32);
	}
	self->video = open_video(VIVID_CAP);
	if (self->video < 0)
		SKIP(return, VIVID_WHY(VIVID_CAP));
	setup_capture(_metadata, self->video, &pix);

	/* Two buffers where they fall, and one beyond 256 MiB if need be. */
	ASSERT_LE(2, request_buffers(self->video, type, mem, 2));
	for (i = 0; i < 2; i++)
		high |= v4l2_buffer_last(self->video, type, i, 0, 0, &crc) >
			MASK28;
	for (n = 2; path == DMA_DIRECT && !high && n < 2 + BALLAST_BUFS &&
	     meminfo_kb("MemAvailable") >= BALLAST_SPARE_KB; n++) {
		ASSERT_EQ(n, create_buffer(self->video, type, mem,
					   BALLAST_SIZE));
		last = v4l2_buffer_last(self->video, type, n, 0, 0, &crc);
		ASSERT_NE(UINT64_MAX, last);
		high = last > MASK28;
	}
	if (n > 2)
		TH_LOG("%d more buffers, the last up to %#llx", n - 2,
		       (unsigned long long)last);
	test[0] = 0;
	test[1] = 1;
	test[2] = n - 1;
	n = n > 2 ? 3 : 2;

	for (i = 0; i < n; i++)
		ASSERT_EQ(0, queue_buffer(self->video, type, mem, test[i], -1,
					  0, 0));
	ASSERT_EQ(0, stream(self->video, type, true));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, dequeue_buffer(self->video, type, mem, &b));
		ASSERT_EQ(pix.sizeimage, b.bytesused);
		last = v4l2_buffer_last(self->video, type, b.index, off,
					PEEK_LEN, &peek);
		ASSERT_NE(UINT64_MAX, last)
			TH_LOG("no physical addresses in /proc/self/pagemap");

		fd = export_buffer(self->video, type, b.index,
				   O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		ret = edu_attach(self->edu28, fd, true);
		TH_LOG("buffer %u: pages up to %#llx, attach: %s", b.index,
		       (unsigned long long)last, strerror(-ret));
		if (path == DMA_BOUNCED ? !reach_any : last > MASK28) {
			EXPECT_EQ(-ERANGE, ret);
			EXPECT_EQ(-ERANGE, edu_to_device(self->edu28, fd, off,
							 PEEK_LEN, &crc));
			ASSERT_EQ(0, edu_to_device(self->edu32, fd, off,
						   PEEK_LEN, &crc));
			refused++;
		} else {
			EXPECT_EQ(0, ret);
			ASSERT_EQ(0, edu_to_device(self->edu28, fd, off,
						   PEEK_LEN, &crc));
			reached++;
		}
		EXPECT_EQ(peek, crc);
		if (!ret)
			EXPECT_EQ(0, edu_attach(self->edu28, fd, false));
		close(fd);
	}
	stop_queue(_metadata, self->video, type, mem);
	TH_LOG("%d buffers refused, %d reached", refused, reached);
	if (!refused)
		SKIP(return, "%s", ALL_REACHED);
}

/*
 * Buffers outlive the queue that made them: vivid exports one, the queue
 * is freed (REQBUFS(0)) and the video node closed, and the descriptor, a
 * mapping made before and one made after, the kernel's kmap and the edu
 * device attached before all still see the frame; closing them frees
 * the buffer.
 */
TEST_F_TIMEOUT(share, buffer_outlives_the_queue, 120)
{
	const uint32_t type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	size_t off = PEEK_OFF(self->page);
	uint32_t ref, peek, crc = 0;
	struct v4l2_pix_format pix;
	unsigned char *before;
	size_t size;
	int fd;

	if (self->edu32 < 0)
		SKIP(return, NO_EDU32);
	if (self->live < 0)
		SKIP(return, NO_BUFINFO);
	self->video = open_video(VIVID_CAP);
	if (self->video < 0)
		SKIP(return, VIVID_WHY(VIVID_CAP));
	exported_frame(_metadata, self->video, off, &pix, &ref, &peek, &fd);
	EXPECT_EQ(self->live + 1, live_buffers());
	size = lseek(fd, 0, SEEK_END);
	ASSERT_LE(pix.sizeimage, size);
	before = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(before != MAP_FAILED);
	ASSERT_EQ(0, edu_attach(self->edu32, fd, true));

	stop_queue(_metadata, self->video, type, V4L2_MEMORY_MMAP);
	ASSERT_EQ(0, close(self->video));
	self->video = -1;

	EXPECT_EQ(self->live + 1, live_buffers());
	ASSERT_EQ(0, buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(ref, crc32_bytes(before, pix.sizeimage));
	ASSERT_EQ(0, buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	ASSERT_EQ(0, mapped_crc(fd, 0, pix.sizeimage, &crc));
	EXPECT_EQ(ref, crc);
	ASSERT_EQ(0, edu_kmap_crc(self->edu32, fd, 0, pix.sizeimage, &crc));
	EXPECT_EQ(ref, crc);
	ASSERT_EQ(0, edu_to_device(self->edu32, fd, off, PEEK_LEN, &crc));
	EXPECT_EQ(peek, crc);

	/* The last holders go, one after the other. */
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(self->live + 1, live_buffers());
	ASSERT_EQ(0, close(self->edu32));
	self->edu32 = -1;
	EXPECT_EQ(self->live + 1, live_buffers())
		TH_LOG("freed while still mapped");
	EXPECT_EQ(ref, crc32_bytes(before, pix.sizeimage));
	ASSERT_EQ(0, munmap(before, size));
	EXPECT_EQ(self->live, live_buffers()) TH_LOG("the buffer leaked");
}

/*
 * The last byte of @fd's storage as the 32-bit edu device maps it, where
 * its DMA addresses are physical: UINT64_MAX if that cannot be told.
 */
static uint64_t storage_last(int edu32, int fd)
{
	struct edu_dmabuf_map_info info;
	bool gap;

	if (dma_path_of(EDU32_SLOT) != DMA_DIRECT ||
	    edu_map_info(edu32, fd, &info) || !info.nr_segs)
		return UINT64_MAX;
	return map_last(&info, &gap);
}

/*
 * How long vivid capture holds two heap buffers queued as
 * V4L2_MEMORY_DMABUF: videobuf2's mapping, which pins the storage, lasts
 * from QBUF to DQBUF, and STREAMOFF gives it back for the buffers still
 * queued. While it is held the storage cannot move: the debugfs move
 * control gets EBUSY, and the 28-bit edu device attaching late is refused
 * with ERANGE where the storage lies beyond 256 MiB. Once a buffer is back
 * with userspace, while the other streams on and after STREAMOFF, the
 * storage moves: the late device attaches, reads by DMA the frame vivid
 * captured, and vivid captures the same frame into the moved storage.
 * Where DMA addresses are physical, buffer 0 is placed beyond 256 MiB
 * first (with ballast, as far as memory allows), so that the refusal
 * and the move are what is checked. Behind an IOMMU the late device reaches everything and is never
 * refused; with bounce buffers it is refused exactly where it reaches
 * none.
 */
TEST_F_TIMEOUT(share, late_attach_while_streaming, 120)
{
	const uint32_t type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	const uint32_t mem = V4L2_MEMORY_DMABUF;
	size_t off = PEEK_OFF(self->page);
	int fd[2] = { -1, -1 }, ballast[BALLAST_BUFS], i, n, moved;
	int queued_err, idle_err;
	uint32_t ref, crc = 0, peek = 0;
	struct v4l2_pix_format pix;
	struct v4l2_buffer b;
	enum dma_path path;
	uint64_t last;
	size_t size;

	if (self->heap < 0)
		SKIP(return, NO_HEAP);
	if (self->live < 0)
		SKIP(return, NO_BUFINFO);
	if (access(MOVE_CONTROL, W_OK))
		SKIP(return, "%s: %s (needs debugfs and root)", MOVE_CONTROL,
		     strerror(errno));
	if (edu28_refused_at_probe())
		SKIP(return, EDU28_REFUSED_WHY);
	if (self->edu28 < 0 || self->edu32 < 0)
		SKIP(return, "%s", NO_EDU28);
	self->video = open_video(VIVID_CAP);
	if (self->video < 0)
		SKIP(return, VIVID_WHY(VIVID_CAP));
	setup_capture(_metadata, self->video, &pix);
	ref = reference_frame(_metadata, self->video, &pix);
	/*
	 * Buffers of the ballast's size, larger than a frame: the heap
	 * serves them from the same runs of pages as the ballast.
	 */
	size = BALLAST_SIZE;
	ASSERT_LE(pix.sizeimage, size);

	path = dma_path_of(EDU28_SLOT);
	idle_err = path == DMA_BOUNCED &&
		   !reaches_memory(EDU28_SLOT, MASK28, self->heap, self->edu32) ?
		   -ERANGE : 0;

	for (i = 0; i < 2; i++) {
		fd[i] = heap_alloc(self->heap, size, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd[i]);
		ASSERT_EQ(0, mapped_fill(fd[i], size, i));
	}
	/*
	 * Where DMA addresses are physical, buffer 0's storage (allocated
	 * by the CPU's first touch) is placed beyond the 28-bit device's
	 * reach: ballast from the heap takes the memory below 256 MiB until
	 * a new buffer 0 lands above it.
	 */
	last = storage_last(self->edu32, fd[0]);
	for (n = 0; path == DMA_DIRECT && last <= MASK28 && n < BALLAST_BUFS &&
	     meminfo_kb("MemAvailable") >= BALLAST_SPARE_KB; n++) {
		ballast[n] = heap_alloc(self->heap, BALLAST_SIZE,
					O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, ballast[n]);
		ASSERT_EQ(0, mapped_fill(ballast[n], BALLAST_SIZE, 0));
		moved = heap_alloc(self->heap, size, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, moved);
		ASSERT_EQ(0, mapped_fill(moved, size, 0));
		close(fd[0]);
		fd[0] = moved;
		last = storage_last(self->edu32, fd[0]);
	}
	if (n)
		TH_LOG("%d ballast buffers, buffer 0 up to %#llx", n,
		       (unsigned long long)last);
	while (n)
		close(ballast[--n]);

	ASSERT_LE(2, request_buffers(self->video, type, mem, 2));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, queue_buffer(self->video, type, mem, i, fd[i], 0,
					  0));
	ASSERT_EQ(0, stream(self->video, type, true));

	/* Queued, streaming: pinned, and the late device gets no move. */
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(1, buffer_pinned(fd[i])) TH_LOG("buffer %d queued", i);
		EXPECT_EQ(-EBUSY, move_buffer(fd[i], NULL));
	}
	last = storage_last(self->edu32, fd[0]);
	queued_err = idle_err;
	if (path == DMA_DIRECT) {
		ASSERT_NE(UINT64_MAX, last);
		queued_err = last > MASK28 ? -ERANGE : 0;
	}
	TH_LOG("%s; buffer 0 queued, storage up to %#llx: attach %s",
	       path == DMA_DIRECT ? "direct DMA" :
	       path == DMA_BOUNCED ? "bounce buffers" : "behind an IOMMU",
	       (unsigned long long)last, strerror(-queued_err));
	EXPECT_EQ(queued_err, edu_attach(self->edu28, fd[0], true));
	if (!queued_err)
		ASSERT_EQ(0, edu_attach(self->edu28, fd[0], false));

	/* Back with userspace, the other streaming on: unpinned, it moves. */
	ASSERT_EQ(0, dequeue_buffer(self->video, type, mem, &b));
	ASSERT_EQ(0, b.index);
	ASSERT_EQ(pix.sizeimage, b.bytesused);
	EXPECT_EQ(0, buffer_pinned(fd[0]));
	EXPECT_EQ(1, buffer_pinned(fd[1]));
	ASSERT_EQ(0, mapped_crc(fd[0], off, PEEK_LEN, &peek));
	ASSERT_EQ(idle_err, edu_attach(self->edu28, fd[0], true));
	if (!idle_err) {
		ASSERT_EQ(0, edu_to_device(self->edu28, fd[0], off, PEEK_LEN,
					   &crc));
		EXPECT_EQ(peek, crc);
	}
	ASSERT_EQ(0, mapped_crc(fd[0], 0, pix.sizeimage, &crc));
	EXPECT_EQ(ref, crc) TH_LOG("the frame changed when the storage moved");

	/*
	 * Queued again, over other bytes: vivid captures into the storage
	 * as it is now.
	 */
	ASSERT_EQ(0, mapped_fill(fd[0], size, 0x5a));
	ASSERT_EQ(0, queue_buffer(self->video, type, mem, 0, fd[0], 0, 0));
	EXPECT_EQ(1, buffer_pinned(fd[0]));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, dequeue_buffer(self->video, type, mem, &b));
		ASSERT_EQ(i == 0 ? 1 : 0, b.index);
		ASSERT_EQ(pix.sizeimage, b.bytesused);
		ASSERT_EQ(0, mapped_crc(fd[b.index], 0, pix.sizeimage, &crc));
		EXPECT_EQ(ref, crc) TH_LOG("buffer %u", b.index);
	}
	if (!idle_err) {
		ASSERT_EQ(0, edu_to_device(self->edu28, fd[0], off, PEEK_LEN,
					   &crc));
		EXPECT_EQ(peek, crc);
	}

	/* STREAMOFF gives back the buffer it finds queued: it moves. */
	ASSERT_EQ(0, queue_buffer(self->video, type, mem, 1, fd[1], 0, 0));
	EXPECT_EQ(1, buffer_pinned(fd[1]));
	EXPECT_EQ(-EBUSY, move_buffer(fd[1], NULL));
	ASSERT_EQ(0, stream(self->video, type, false));
	EXPECT_EQ(0, buffer_pinned(fd[1]));
	EXPECT_EQ(0, move_buffer(fd[1], NULL));
	ASSERT_EQ(idle_err, edu_attach(self->edu28, fd[1], true));
	ASSERT_EQ(0, mapped_crc(fd[1], 0, pix.sizeimage, &crc));
	EXPECT_EQ(ref, crc) TH_LOG("the frame changed when the storage moved");
	if (!idle_err) {
		ASSERT_EQ(0, edu_to_device(self->edu28, fd[1], off, PEEK_LEN,
					   &crc));
		EXPECT_EQ(peek, crc);
	}

	ASSERT_EQ(0, request_buffers(self->video, type, mem, 0));
	for (i = 0; i < 2; i++) {
		if (!idle_err)
			EXPECT_EQ(0, edu_attach(self->edu28, fd[i], false));
		close(fd[i]);
	}
}

/*
 * Queue @fd, claiming @length bytes (0: the dma-buf's size), into buffer
 * 0 of vivid capture's DMABUF queue: refused with @err. Then close @fd:
 * as many buffers live as before it was made (@live).
 */
static void refused(struct __test_metadata *_metadata, int video, int fd,
		    uint32_t length, int err, int live, const char *what)
{
	EXPECT_EQ(err, queue_buffer(video, V4L2_BUF_TYPE_VIDEO_CAPTURE,
				    V4L2_MEMORY_DMABUF, 0, fd, length, 0))
		TH_LOG("%s", what);
	close(fd);
	EXPECT_EQ(live, live_buffers())
		TH_LOG("%s: the buffer outlived its refusal", what);
}

/*
 * Bad buffers for vivid capture's DMABUF queue, each refused with its
 * errno and leaving nothing behind: the buffer is freed as soon as this
 * process closes it, and no descriptor is left over. The queue then takes
 * a good buffer and captures into it.
 */
TEST_F_TIMEOUT(share, bad_buffers_refused, 120)
{
	const uint32_t type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	const uint32_t mem = V4L2_MEMORY_DMABUF;
	/* The length queued: left to vb2 (0), the buffer's, a frame's. */
	enum { BY_VB2, BUFFER, FRAME };
	static const struct {
		const char *what;
		bool page;
		int flags, length, err;
	} bad[] = {
		{ "a page, as long as it is", true, O_RDWR, BUFFER, -EINVAL },
		{ "a page, its length left to vb2", true, O_RDWR, BY_VB2,
		  -EINVAL },
		{ "a page claimed to hold a frame", true, O_RDWR, FRAME,
		  -EFAULT },
		{ "read-only", false, O_RDONLY, FRAME, -EBADF },
		{ "read-only, its length left to vb2", false, O_RDONLY, BY_VB2,
		  -EBADF },
	};
	int fd, pipefd[2], free_fd, live;
	struct v4l2_pix_format pix;
	struct v4l2_buffer b;
	unsigned int i;
	size_t size;

	if (self->heap < 0)
		SKIP(return, NO_HEAP);
	if (self->live < 0)
		SKIP(return, NO_BUFINFO);
	self->video = open_video(VIVID_CAP);
	if (self->video < 0)
		SKIP(return, VIVID_WHY(VIVID_CAP));
	setup_capture(_metadata, self->video, &pix);
	size = page_align(pix.sizeimage);
	ASSERT_LT(self->page, pix.sizeimage);
	ASSERT_LE(1, request_buffers(self->video, type, mem, 1));
	free_fd = lowest_free_fd();

	/* Not a dma-buf: no descriptor, a memfd of the right size, a pipe. */
	EXPECT_EQ(-EINVAL, queue_buffer(self->video, type, mem, 0, -1, size,
					0));
	fd = memfd_create("v4l2-share", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, size));
	refused(_metadata, self->video, fd, size, -EINVAL, self->live,
		"a memfd");
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	refused(_metadata, self->video, pipefd[0], size, -EINVAL, self->live,
		"a pipe's read end");
	refused(_metadata, self->video, pipefd[1], size, -EINVAL, self->live,
		"a pipe's write end");

	/*
	 * A page, where a frame needs more: EINVAL whether the length is
	 * the buffer's or left to vb2. Claiming the frame's length for it
	 * gets past vb2's check to vb2-vmalloc's, which answers EFAULT.
	 * Read-only, of the right size: the device would write into it.
	 */
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		live = live_buffers();
		fd = heap_alloc(self->heap, bad[i].page ? self->page : size,
				bad[i].flags | O_CLOEXEC);
		ASSERT_LE(0, fd);
		refused(_metadata, self->video, fd,
			bad[i].length == BUFFER ? self->page :
			bad[i].length == FRAME ? size : 0,
			bad[i].err, live, bad[i].what);
	}
	EXPECT_EQ(free_fd, lowest_free_fd());

	/* The queue is as it was: a good buffer is taken and filled. */
	fd = heap_alloc(self->heap, size, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	capture_frame(_metadata, self->video, mem, fd, size, &pix, &b);
	EXPECT_EQ(fd, b.m.fd);
	stop_queue(_metadata, self->video, type, mem);
	close(fd);
}

/* vivid's dma-contig node for @width x @height XRGB32 frames. */
static void setup_contig(struct __test_metadata *_metadata, int fd,
			 uint32_t width, uint32_t height,
			 struct v4l2_pix_format *pix)
{
	setup_vivid(_metadata, fd, width, height, V4L2_PIX_FMT_XRGB32, pix);
}

/* The frames vivid's dma-contig node captures into heap buffers. */
static const struct contig_frame {
	size_t buffer;
	uint32_t width, height;
} contig_frames[] = {
	{ 1 << 20, 640, 360 },		/* 921,600 bytes */
	{ 4 << 20, 1280, 720 },		/* 3,686,400 bytes */
	{ 8294400, 1920, 1080 },	/* one full-HD RGB32 frame */
};

/*
 * vivid's dma-contig node (vb2-dma-contig: the whole buffer at
 * consecutive DMA addresses, which it checks at QBUF) captures into
 * system heap buffers of 1 MiB, 4 MiB and one 1080p RGB32 frame: the
 * importer says it takes one piece, the heap allocates one block (the
 * page allocator's up to 4 MiB, then CMA's: the frame's 2,025 pages are
 * one more allocation from CMA), and the frame is the one vivid captures
 * into its own buffers. With every mapping bounced (swiotlb=force), where
 * a piece goes to one bounce buffer of at most 256 KiB, the block is
 * memory the DMA API allocated for vivid's device, which it takes without
 * a bounce buffer (from CMA: the DMA API takes any block there first).
 */
TEST_F_TIMEOUT(share, contig_capture_into_heap_buffers, 300)
{
	const uint32_t type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	const struct contig_frame *f;
	struct v4l2_pix_format pix;
	struct v4l2_buffer b;
	long cma_allocs;
	uint32_t ref, crc;
	unsigned int i;
	int fd, holes[HOLES];

	if (self->heap < 0)
		SKIP(return, NO_HEAP);
	self->video = open_video(VIVID_CONTIG);
	if (self->video < 0)
		SKIP(return, NO_NODE, VIVID_CONTIG, strerror(errno),
		     "vivid.n_devs=2 vivid.allocators=0,1 on the command line");
	for (i = 0; i < ARRAY_SIZE(contig_frames); i++) {
		f = &contig_frames[i];
		setup_contig(_metadata, self->video, f->width, f->height, &pix);
		ASSERT_LE(pix.sizeimage, f->buffer);
		ref = reference_frame(_metadata, self->video, &pix);

		cma_allocs = vmstat_counter("cma_alloc_success");
		/* Runs of 1 MiB would be in pieces: only a block will do. */
		ASSERT_EQ(0, heap_holes_make(self->heap, holes));
		fd = heap_alloc(self->heap, f->buffer, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		capture_frame(_metadata, self->video, V4L2_MEMORY_DMABUF, fd,
			      f->buffer, &pix, &b);
		stop_queue(_metadata, self->video, type, V4L2_MEMORY_DMABUF);
		ASSERT_EQ(0, mapped_crc(fd, 0, pix.sizeimage, &crc));
		EXPECT_EQ(ref, crc)
			TH_LOG("%ux%u: the frame differs from one captured by MMAP",
			       f->width, f->height);
		/* Larger than the page allocator's blocks: CMA's pages. */
		if (f->buffer > 4 << 20)
			EXPECT_LT(cma_allocs, vmstat_counter("cma_alloc_success"))
				TH_LOG("%ux%u: the block is not CMA's", f->width,
				       f->height);
		close(fd);
		heap_holes_close(holes);
	}
}

/*
 * A heap buffer first used by the CPU, whose storage came in 1 MiB runs
 * taken from holes between buffers that stay (so that no two runs
 * follow each other), goes to vivid's dma-contig node late: while vivid's
 * vmalloc node holds it queued (pinned), the QBUF fails with ERANGE and
 * the storage stays; once that node lets go, the core moves the idle
 * storage into one block, every byte with it, and the node captures its
 * frame into it. With every mapping bounced, the block is memory the DMA
 * API allocated for vivid's dma-contig device.
 */
TEST_F_TIMEOUT(share, contig_late_attach_moves_idle_buffer, 300)
{
	const uint32_t type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	const uint32_t mem = V4L2_MEMORY_DMABUF;
	struct v4l2_pix_format pix, vpix;
	int holes[HOLES], fd, other, ret;
	uint32_t ref, crc = 0, before = 0;
	struct v4l2_buffer b;

	if (self->heap < 0)
		SKIP(return, NO_HEAP);
	self->video = open_video(VIVID_CONTIG);
	if (self->video < 0)
		SKIP(return, NO_NODE, VIVID_CONTIG, strerror(errno),
		     "vivid.n_devs=2 vivid.allocators=0,1 on the command line");
	other = open_video(VIVID_CAP);
	if (other < 0)
		SKIP(return, VIVID_WHY(VIVID_CAP));
	setup_contig(_metadata, self->video, 1280, 720, &pix);
	ref = reference_frame(_metadata, self->video, &pix);

	ASSERT_EQ(0, heap_holes_make(self->heap, holes));
	fd = heap_alloc(self->heap, 4 << 20, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mapped_fill(fd, 4 << 20, 0x5d));
	ASSERT_EQ(0, mapped_crc(fd, 0, 4 << 20, &before));

	/* Queued on vivid's vmalloc node: mapped, so pinned. */
	setup_capture(_metadata, other, &vpix);
	ASSERT_LE(1, request_buffers(other, type, mem, 1));
	ASSERT_EQ(0, queue_buffer(other, type, mem, 0, fd, 4 << 20, 0));
	ASSERT_LE(1, request_buffers(self->video, type, mem, 1));
	ret = queue_buffer(self->video, type, mem, 0, fd, 4 << 20, 0);
	ASSERT_EQ(0, request_buffers(other, type, mem, 0));
	close(other);
	if (!ret) {
		ASSERT_EQ(0, request_buffers(self->video, type, mem, 0));
		heap_holes_close(holes);
		close(fd);
		SKIP(return, "the runs followed each other after all: one piece");
	}
	EXPECT_EQ(-ERANGE, ret);
	ASSERT_EQ(0, request_buffers(self->video, type, mem, 0));
	ASSERT_EQ(0, mapped_crc(fd, 0, 4 << 20, &crc));
	EXPECT_EQ(before, crc) TH_LOG("the refused attach changed the bytes");

	/* Idle now: moved into one block, the bytes with it. */
	ASSERT_LE(1, request_buffers(self->video, type, mem, 1));
	ASSERT_EQ(0, queue_buffer(self->video, type, mem, 0, fd, 4 << 20, 0));
	ASSERT_EQ(0, request_buffers(self->video, type, mem, 0));
	ASSERT_EQ(0, mapped_crc(fd, 0, 4 << 20, &crc));
	EXPECT_EQ(before, crc) TH_LOG("the move lost bytes");
	capture_frame(_metadata, self->video, mem, fd, 4 << 20, &pix, &b);
	stop_queue(_metadata, self->video, type, mem);
	ASSERT_EQ(0, mapped_crc(fd, 0, pix.sizeimage, &crc));
	EXPECT_EQ(ref, crc) TH_LOG("the frame differs from one captured by MMAP");
	heap_holes_close(holes);
	close(fd);
}

TEST_HARNESS_MAIN
