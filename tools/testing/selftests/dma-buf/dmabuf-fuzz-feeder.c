// SPDX-License-Identifier: GPL-2.0-only
/*
 * The companion of make fuzz: while trinity runs as the same user, keeps a
 * changing set of buffers from every exporter alive, so that trinity's
 * calls on the project's nodes meet buffers being created, mapped,
 * written, named, attached to the edu devices and freed.
 *
 *   dmabuf-fuzz-feeder SECONDS PIDFILE
 *   dmabuf-fuzz-feeder --ioctls
 *
 * The second form prints the project's ioctl commands, one per line:
 * decimal, hexadecimal, name (the names of make fuzz's counts).
 *
 * Every few milliseconds one slot is replaced: a buffer of the system
 * heap, of the ivshmem heap, a udmabuf over a sealed memfd, or a buffer
 * exported by vivid's capture node (VIDIOC_EXPBUF), of a random size;
 * some are mapped and written, SYNCed, named, attached to an edu device.
 * Exporters the guest lacks are left out. It ends after SECONDS, or on
 * SIGTERM, with one line: "feeder: N buffers (system A, ivshmem B,
 * udmabuf C, v4l2 D), E refused, F failed", where "refused" counts the
 * edu attaches a device's reach refused (ERANGE) and the vivid exports
 * refused while another process owned its queue (EBUSY), and "failed"
 * anything else that went wrong (ENOMEM, say); a fuzzer may kill it,
 * which the line's absence shows.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/udmabuf.h>
#include <linux/videodev2.h>

#include "../kselftest.h"
#include "dmabuf-util.h"

#define SLOTS		16
#define MAX_PAGES	64

enum kind { SYSTEM, IVSHMEM, UDMABUF, V4L2, KINDS };

struct slot {
	int fd;			/* the buffer, else -1 */
	void *map;
	size_t size;
	int memfd;		/* a udmabuf's memfd, else -1 */
	int edu;		/* the edu device it is attached to, else -1 */
};

static struct slot slots[SLOTS];
static int system_heap = -1, ivshmem_heap = -1, udmabuf_dev = -1;
static int edu[2] = { -1, -1 };
static char vivid_path[PATH_MAX];
static unsigned long made[KINDS], refused, failed;
static atomic_bool stop;

static void on_term(int sig)
{
	atomic_store(&stop, true);
}

/*
 * A device node's fd, or -1 if the guest has no such node (an exporter or
 * a device it lacks); any other failure (EACCES, say) ends the program.
 */
static int open_node(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0 && errno != ENOENT) {
		fprintf(stderr, "feeder: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

/* A buffer exported by vivid's capture queue, or -errno. */
static int v4l2_export(void)
{
	struct v4l2_requestbuffers req = {
		.count = 1, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_MMAP,
	};
	struct v4l2_exportbuffer exp = {
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .flags = O_RDWR | O_CLOEXEC,
	};
	int video = open(vivid_path, O_RDWR | O_CLOEXEC), ret;

	if (video < 0)
		return -errno;
	/* The queue goes with the node's fd; the exported buffer stays. */
	if (ioctl(video, VIDIOC_REQBUFS, &req) ||
	    ioctl(video, VIDIOC_EXPBUF, &exp))
		ret = -errno;
	else
		ret = exp.fd;
	close(video);
	return ret;
}

/* A udmabuf of @size bytes over a new memfd (kept in @s), or -errno. */
static int udmabuf_make(struct slot *s, size_t size)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = size };
	int fd;

	s->memfd = memfd_create("fuzz-feeder", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->memfd < 0)
		return -errno;
	if (ftruncate(s->memfd, size) ||
	    fcntl(s->memfd, F_ADD_SEALS, F_SEAL_SHRINK))
		return -errno;
	c.memfd = s->memfd;
	fd = ioctl(udmabuf_dev, UDMABUF_CREATE, &c);
	return fd < 0 ? -errno : fd;
}

/* An empty slot. */
static void slot_init(struct slot *s)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->memfd = -1;
	s->edu = -1;
}

static void slot_clear(struct slot *s)
{
	if (s->edu >= 0 && edu_attach(s->edu, s->fd, false))
		failed++;
	if (s->map)
		munmap(s->map, s->size);
	if (s->fd >= 0)
		close(s->fd);
	if (s->memfd >= 0)
		close(s->memfd);
	slot_init(s);
}

/* Put a new buffer of a random exporter into the empty slot @s. */
static void slot_fill(struct slot *s, int i)
{
	enum kind kind = rand() % KINDS;
	size_t size = (1 + rand() % MAX_PAGES) * (size_t)getpagesize();
	int fd = -ENODEV, e;
	char name[32];

	switch (kind) {
	case SYSTEM:
		if (system_heap >= 0)
			fd = heap_alloc(system_heap, size, O_RDWR | O_CLOEXEC);
		break;
	case IVSHMEM:
		if (ivshmem_heap >= 0)
			fd = heap_alloc(ivshmem_heap, size, O_RDWR | O_CLOEXEC);
		break;
	case UDMABUF:
		if (udmabuf_dev >= 0)
			fd = udmabuf_make(s, size);
		break;
	case V4L2:
		if (vivid_path[0])
			fd = v4l2_export();
		break;
	default:
		break;
	}
	if (fd < 0) {
		/* vivid's queue is busy while another process owns it. */
		if (fd == -EBUSY)
			refused++;
		else if (fd != -ENODEV)	/* not an exporter this guest lacks */
			failed++;
		slot_clear(s);
		return;
	}
	s->fd = fd;
	made[kind]++;
	if (kind == V4L2)
		size = lseek(fd, 0, SEEK_END);
	s->size = size;

	/* Half are attached to an edu device, the 28-bit one too. */
	e = edu[rand() % 2];
	if (e >= 0 && rand() % 2) {
		int ret = edu_attach(e, fd, true);

		if (!ret)
			s->edu = e;
		else if (ret == -ERANGE)
			refused++;
		else
			failed++;
	}
	if (rand() % 2) {
		s->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			      fd, 0);
		if (s->map == MAP_FAILED) {
			s->map = NULL;
			failed++;
		} else {
			if (buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE))
				failed++;
			memset(s->map, i, size);
			if (buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE))
				failed++;
		}
	}
	snprintf(name, sizeof(name), "fuzz-%d", i);
	if (rand() % 2 && ioctl(fd, DMA_BUF_SET_NAME_B, name))
		failed++;
}

#define IOCTL(cmd)	{ cmd, #cmd }

static const struct {
	unsigned int cmd;
	const char *name;
} ioctls[] = {
	IOCTL(DMA_BUF_IOCTL_SYNC),
	IOCTL(DMA_BUF_SET_NAME_A),
	IOCTL(DMA_BUF_SET_NAME_B),
	IOCTL(DMA_HEAP_IOCTL_ALLOC),
	IOCTL(UDMABUF_CREATE),
	IOCTL(UDMABUF_CREATE_LIST),
	IOCTL(EDU_DMABUF_IOCTL_TO_DEVICE),
	IOCTL(EDU_DMABUF_IOCTL_FROM_DEVICE),
	IOCTL(EDU_DMABUF_IOCTL_MAP_INFO),
	IOCTL(EDU_DMABUF_IOCTL_ATTACH),
	IOCTL(EDU_DMABUF_IOCTL_DETACH),
	IOCTL(EDU_DMABUF_IOCTL_KMAP_CRC),
};

int main(int argc, char **argv)
{
	struct timespec pause = { .tv_nsec = 5 * 1000 * 1000 };
	time_t end;
	unsigned int i;
	FILE *f;

	if (argc == 2 && !strcmp(argv[1], "--ioctls")) {
		for (i = 0; i < ARRAY_SIZE(ioctls); i++)
			printf("%u 0x%x %s\n", ioctls[i].cmd, ioctls[i].cmd,
			       ioctls[i].name);
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: %s SECONDS PIDFILE | --ioctls\n", argv[0]);
		return 2;
	}
	end = time(NULL) + atoi(argv[1]);
	signal(SIGTERM, on_term);
	srand(getpid());

	system_heap = open_node(SYSTEM_HEAP, O_RDONLY);
	ivshmem_heap = open_node(IVSHMEM_HEAP, O_RDONLY);
	udmabuf_dev = open_node("/dev/udmabuf", O_RDWR);
	edu[0] = open_node(EDU28, O_RDWR);
	edu[1] = open_node(EDU32, O_RDWR);
	if (video_node_path("vivid-000-vid-cap", vivid_path, sizeof(vivid_path)))
		vivid_path[0] = '\0';
	for (i = 0; i < SLOTS; i++) {
		slot_init(&slots[i]);
		slot_fill(&slots[i], i);
	}

	/* The slots exist: the fuzzer may start. */
	f = fopen(argv[2], "w");
	if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f)) {
		perror(argv[2]);
		return 1;
	}

	while (!atomic_load(&stop) && time(NULL) < end) {
		i = rand() % SLOTS;
		slot_clear(&slots[i]);
		slot_fill(&slots[i], i);
		nanosleep(&pause, NULL);
	}
	for (i = 0; i < SLOTS; i++)
		slot_clear(&slots[i]);
	printf("feeder: %lu buffers (system %lu, ivshmem %lu, udmabuf %lu, v4l2 %lu), ",
	       made[SYSTEM] + made[IVSHMEM] + made[UDMABUF] + made[V4L2],
	       made[SYSTEM], made[IVSHMEM], made[UDMABUF], made[V4L2]);
	printf("%lu refused, %lu failed\n", refused, failed);
	return failed ? 1 : 0;
}
