// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/udmabuf: the errno of every bad request (those of Linux 6.12),
 * pins that neither leak nor go away early, and the memfd's own pages
 * seen by the edu devices through the dma-buf, both ways.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/falloc.h>
#include <linux/memfd.h>
#include <linux/udmabuf.h>

#include "../kselftest_harness.h"
#include "dmabuf-util.h"

#define UDMABUF "/dev/udmabuf"
#define PARAMS "/sys/module/udmabuf/parameters/"
/* The memfd most cases use, in pages. */
#define MEMFD_PAGES 64

/* A memfd of @size bytes carrying @seals (beyond F_SEAL_SEAL's absence). */
static int memfd_sealed(size_t size, unsigned int seals, unsigned int flags)
{
	int fd = memfd_create("udmabuf-check", MFD_CLOEXEC | flags);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, size) ||
	    (seals && fcntl(fd, F_ADD_SEALS, seals))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A memfd of @size bytes sealed against shrinking, and its mapping. */
static int memfd_mapped(size_t size, unsigned char **map)
{
	int fd = memfd_sealed(size, F_SEAL_SHRINK, MFD_ALLOW_SEALING);

	*map = MAP_FAILED;
	if (fd < 0)
		return -1;
	*map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*map == MAP_FAILED) {
		close(fd);
		return -1;
	}
	return fd;
}

/* UDMABUF_CREATE: the new fd, or -errno. */
static int ub_create(int dev, int memfd, uint64_t offset, uint64_t size,
		     uint32_t flags)
{
	struct udmabuf_create c = {
		.memfd = memfd, .flags = flags, .offset = offset, .size = size,
	};
	int fd = ioctl(dev, UDMABUF_CREATE, &c);

	return fd < 0 ? -errno : fd;
}

/* UDMABUF_CREATE_LIST over @n ranges: the new fd, or -errno. */
static int ub_create_list(int dev, const struct udmabuf_create_item *items,
			  uint32_t n, uint32_t flags)
{
	struct udmabuf_create_list *l;
	int fd;

	l = calloc(1, sizeof(*l) + n * sizeof(*items));
	if (!l)
		return -ENOMEM;
	l->flags = flags;
	l->count = n;
	memcpy(l->list, items, n * sizeof(*items));
	fd = ioctl(dev, UDMABUF_CREATE_LIST, l);
	fd = fd < 0 ? -errno : fd;
	free(l);
	return fd;
}

/* Pages the kernel holds pinned (FOLL_PIN) right now, or -1. */
static long pins_held(void)
{
	unsigned long long v, acquired = 0, released = 0;
	char name[64];
	int found = 0;
	FILE *f;

	/* Fold every CPU's pending counts into the global ones. */
	if (write_file("/proc/sys/vm/stat_refresh", "1"))
		return -1;
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %llu", name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired")) {
			acquired = v;
			found++;
		} else if (!strcmp(name, "nr_foll_pin_released")) {
			released = v;
			found++;
		}
	}
	fclose(f);
	return found == 2 ? (long)(acquired - released) : -1;
}

/* The number a sysfs or procfs file holds, or -1. */
static long read_number(const char *path)
{
	char text[32] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(text, sizeof(text), f))
		text[0] = '\0';
	fclose(f);
	return text[0] ? strtol(text, NULL, 10) : -1;
}

static int write_number(const char *path, long value)
{
	char text[32];

	snprintf(text, sizeof(text), "%ld", value);
	return write_file(path, text);
}

/* Byte @i of the pattern the cases write through the memfd. */
static unsigned char cpu_byte(unsigned char seed, size_t i)
{
	return seed ^ (i * 157) ^ (i >> 12);
}

static void fill_bytes(unsigned char *p, size_t len, unsigned char seed,
		       size_t from)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = cpu_byte(seed, from + i);
}

/* Does @p hold the pattern for bytes [@from, @from + @len)? */
static bool holds_bytes(const unsigned char *p, size_t len,
			unsigned char seed, size_t from)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != cpu_byte(seed, from + i))
			return false;
	return true;
}

FIXTURE(udmabuf) {
	long page;
	size_t size;
	int dev, memfd;
	unsigned char *map;
};

FIXTURE_SETUP(udmabuf)
{
	self->page = sysconf(_SC_PAGESIZE);
	self->size = MEMFD_PAGES * self->page;
	self->memfd = -1;
	self->map = MAP_FAILED;
	self->dev = open(UDMABUF, O_RDWR | O_CLOEXEC);
	if (self->dev < 0)
		SKIP(return, UDMABUF ": %s (needs CONFIG_UDMABUF)",
		     strerror(errno));
	self->memfd = memfd_mapped(self->size, &self->map);
	ASSERT_LE(0, self->memfd);
	fill_bytes(self->map, self->size, 0x3c, 0);
}

FIXTURE_TEARDOWN(udmabuf)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, self->size);
	if (self->memfd >= 0)
		close(self->memfd);
	if (self->dev >= 0)
		close(self->dev);
}

/* Offsets and sizes are whole pages, not zero, inside the memfd. */
TEST_F(udmabuf, bad_ranges)
{
	struct udmabuf_create_item items[2] = {
		{ .memfd = self->memfd, .offset = 0, .size = self->page },
		{ .memfd = self->memfd, .offset = self->page,
		  .size = self->page / 2 },
	};
	int free_fd = lowest_free_fd();
	uint64_t top = UINT64_MAX & ~(uint64_t)(self->page - 1);

	EXPECT_EQ(-EINVAL, ub_create(self->dev, self->memfd, self->page / 2,
				     self->page, 0));
	EXPECT_EQ(-EINVAL, ub_create(self->dev, self->memfd, 0,
				     self->page / 2, 0));
	EXPECT_EQ(-EINVAL, ub_create(self->dev, self->memfd, 0, 0, 0));
	EXPECT_EQ(-EINVAL, ub_create_list(self->dev, items, 2, 0));
	items[1].size = 0;
	EXPECT_EQ(-EINVAL, ub_create_list(self->dev, items, 2, 0));
	/* Past the end, wholly or partly; offsets that wrap around. */
	EXPECT_EQ(-EINVAL, ub_create(self->dev, self->memfd, 0,
				     self->size + self->page, 0));
	EXPECT_EQ(-EINVAL, ub_create(self->dev, self->memfd, self->size,
				     self->page, 0));
	EXPECT_EQ(-EINVAL, ub_create(self->dev, self->memfd,
				     self->size - self->page,
				     2 * self->page, 0));
	EXPECT_EQ(-EINVAL, ub_create(self->dev, self->memfd, top,
				     self->page, 0));
	EXPECT_EQ(-EINVAL, ub_create(self->dev, self->memfd, 1ULL << 63,
				     self->page, 0));
	EXPECT_EQ(free_fd, lowest_free_fd());
}

/* Only memfds: EBADFD for anything else, EINVAL for one not sealable. */
TEST_F(udmabuf, not_a_memfd)
{
	int pipefd[2], null, tmp, heap, buf, free_fd;

	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);
	/* A file of tmpfs is shmem, but was never sealable. */
	tmp = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	ASSERT_LE(0, tmp);
	ASSERT_EQ(0, ftruncate(tmp, self->page));
	free_fd = lowest_free_fd();

	EXPECT_EQ(-EBADFD, ub_create(self->dev, -1, 0, self->page, 0));
	EXPECT_EQ(-EBADFD, ub_create(self->dev, free_fd, 0, self->page, 0));
	EXPECT_EQ(-EBADFD, ub_create(self->dev, pipefd[0], 0, self->page, 0));
	EXPECT_EQ(-EBADFD, ub_create(self->dev, null, 0, self->page, 0));
	EXPECT_EQ(-EBADFD, ub_create(self->dev, self->dev, 0, self->page, 0));
	EXPECT_EQ(-EINVAL, ub_create(self->dev, tmp, 0, self->page, 0));
	/* A dma-buf is no memfd either, not even a udmabuf. */
	buf = ub_create(self->dev, self->memfd, 0, self->page, 0);
	ASSERT_LE(0, buf);
	EXPECT_EQ(-EBADFD, ub_create(self->dev, buf, 0, self->page, 0));
	close(buf);
	heap = open(SYSTEM_HEAP, O_RDONLY | O_CLOEXEC);
	if (heap >= 0) {
		buf = heap_alloc(heap, self->page, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, buf);
		EXPECT_EQ(-EBADFD, ub_create(self->dev, buf, 0, self->page, 0));
		close(buf);
		close(heap);
	}
	EXPECT_EQ(free_fd, lowest_free_fd());
	close(tmp);
	close(null);
	close(pipefd[0]);
	close(pipefd[1]);
}

/*
 * F_SEAL_SHRINK is required, F_SEAL_WRITE and F_SEAL_FUTURE_WRITE are
 * refused (the buffer writes into the pages); other seals do not matter.
 */
TEST_F(udmabuf, seals)
{
	static const struct {
		unsigned int flags, seals;
		int expect;
	} cases[] = {
		{ MFD_ALLOW_SEALING, 0, -EINVAL },
		{ 0, 0, -EINVAL },	/* F_SEAL_SEAL from birth */
		{ MFD_ALLOW_SEALING, F_SEAL_GROW, -EINVAL },
		{ MFD_ALLOW_SEALING, F_SEAL_SHRINK | F_SEAL_WRITE, -EINVAL },
		{ MFD_ALLOW_SEALING, F_SEAL_SHRINK | F_SEAL_FUTURE_WRITE,
		  -EINVAL },
		{ MFD_ALLOW_SEALING, F_SEAL_SHRINK, 0 },
		{ MFD_ALLOW_SEALING, F_SEAL_SHRINK | F_SEAL_GROW, 0 },
		{ MFD_ALLOW_SEALING, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL,
		  0 },
	};
	unsigned int i;
	int fd, buf;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		fd = memfd_sealed(self->page, cases[i].seals, cases[i].flags);
		ASSERT_LE(0, fd);
		buf = ub_create(self->dev, fd, 0, self->page, 0);
		if (cases[i].expect) {
			EXPECT_EQ(cases[i].expect, buf)
				TH_LOG("case %u: seals %#x", i, cases[i].seals);
		} else {
			EXPECT_LE(0, buf)
				TH_LOG("case %u: seals %#x", i, cases[i].seals);
		}
		if (buf >= 0)
			close(buf);
		close(fd);
	}
}

/*
 * list_limit (default 1024) bounds the ranges of one list, size_limit_mb
 * (default 64) the buffer; both are module parameters an administrator
 * may change.
 */
TEST_F(udmabuf, limits)
{
	long list_limit = read_number(PARAMS "list_limit");
	long size_limit = read_number(PARAMS "size_limit_mb");
	struct udmabuf_create_item *items;
	int big, buf, i;

	ASSERT_EQ(1024, list_limit);
	ASSERT_EQ(64, size_limit);
	items = calloc(1025, sizeof(*items));
	ASSERT_NE(NULL, items);
	for (i = 0; i < 1025; i++)
		items[i] = (struct udmabuf_create_item) {
			.memfd = self->memfd, .offset = (i % MEMFD_PAGES) * self->page,
			.size = self->page,
		};
	EXPECT_EQ(-EINVAL, ub_create_list(self->dev, items, 0, 0));
	EXPECT_EQ(-EINVAL, ub_create_list(self->dev, items, 1025, 0));
	buf = ub_create_list(self->dev, items, 1024, 0);
	EXPECT_LE(0, buf);
	if (buf >= 0) {
		EXPECT_EQ(1024 * self->page, lseek(buf, 0, SEEK_END));
		close(buf);
	}

	/* Just under and just over 64 MiB, in a sparse memfd. */
	big = memfd_sealed((64 << 20) + self->page, F_SEAL_SHRINK,
			   MFD_ALLOW_SEALING);
	ASSERT_LE(0, big);
	EXPECT_EQ(-EINVAL, ub_create(self->dev, big, 0,
				     (64 << 20) + self->page, 0));
	items[0] = (struct udmabuf_create_item) {
		.memfd = big, .offset = 0, .size = 64 << 20,
	};
	items[1] = (struct udmabuf_create_item) {
		.memfd = self->memfd, .offset = 0, .size = self->page,
	};
	EXPECT_EQ(-EINVAL, ub_create_list(self->dev, items, 2, 0));
	buf = ub_create(self->dev, big, 0, 64 << 20, 0);
	EXPECT_LE(0, buf);
	if (buf >= 0)
		close(buf);

	/* The parameters take effect at once. */
	ASSERT_EQ(0, write_number(PARAMS "list_limit", 2));
	ASSERT_EQ(0, write_number(PARAMS "size_limit_mb", 1));
	EXPECT_EQ(-EINVAL, ub_create_list(self->dev, items + 1, 3, 0));
	EXPECT_EQ(-EINVAL, ub_create(self->dev, big, 0, 2 << 20, 0));
	buf = ub_create(self->dev, big, 0, 1 << 20, 0);
	EXPECT_LE(0, buf);
	if (buf >= 0)
		close(buf);
	ASSERT_EQ(0, write_number(PARAMS "list_limit", list_limit));
	ASSERT_EQ(0, write_number(PARAMS "size_limit_mb", size_limit));
	close(big);
	free(items);
}

/*
 * UDMABUF_FLAGS_CLOEXEC makes the fd close-on-exec; the buffer is opened
 * read-write. Other flag bits are ignored, as Linux 6.12 ignores them.
 * A bad pointer is EFAULT, an unknown ioctl ENOTTY.
 */
TEST_F(udmabuf, flags_and_calls)
{
	int buf;

	buf = ub_create(self->dev, self->memfd, 0, self->page,
			UDMABUF_FLAGS_CLOEXEC);
	ASSERT_LE(0, buf);
	EXPECT_EQ(FD_CLOEXEC, fcntl(buf, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(buf, F_GETFL) & O_ACCMODE);
	close(buf);
	buf = ub_create(self->dev, self->memfd, 0, self->page, 0);
	ASSERT_LE(0, buf);
	EXPECT_EQ(0, fcntl(buf, F_GETFD) & FD_CLOEXEC);
	close(buf);
	buf = ub_create(self->dev, self->memfd, 0, self->page, 0x80000002);
	ASSERT_LE(0, buf);
	EXPECT_EQ(0, fcntl(buf, F_GETFD) & FD_CLOEXEC);
	close(buf);

	EXPECT_EQ(-1, ioctl(self->dev, UDMABUF_CREATE, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->dev, UDMABUF_CREATE_LIST, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->dev, _IO('u', 0x44), 0));
	EXPECT_EQ(ENOTTY, errno);
}

/*
 * Every page is pinned while the buffer lives, and only then: a request
 * that fails after pinning some ranges lets them all go.
 */
TEST_F(udmabuf, pins_do_not_leak)
{
	struct udmabuf_create_item items[2] = {
		{ .memfd = self->memfd, .offset = 0, .size = self->size },
		{ .memfd = self->memfd, .offset = self->size, .size = self->page },
	};
	long before = pins_held();
	int i, buf, free_fd, unsealed;

	ASSERT_LE(0, before) TH_LOG("no FOLL_PIN counters in /proc/vmstat");
	unsealed = memfd_sealed(self->page, 0, MFD_ALLOW_SEALING);
	ASSERT_LE(0, unsealed);
	free_fd = lowest_free_fd();
	for (i = 0; i < 50; i++) {
		items[1].memfd = self->memfd;
		EXPECT_EQ(-EINVAL, ub_create_list(self->dev, items, 2, 0));
		items[1].memfd = -1;
		EXPECT_EQ(-EBADFD, ub_create_list(self->dev, items, 2, 0));
		items[1].memfd = unsealed;
		items[1].offset = 0;
		EXPECT_EQ(-EINVAL, ub_create_list(self->dev, items, 2, 0));
		items[1].offset = self->size;
	}
	EXPECT_EQ(before, pins_held());
	EXPECT_EQ(free_fd, lowest_free_fd());

	buf = ub_create(self->dev, self->memfd, 0, self->size, 0);
	ASSERT_LE(0, buf);
	/* At least one pin per page (each page is its own folio here). */
	EXPECT_LE(before + MEMFD_PAGES, pins_held());
	close(buf);
	EXPECT_EQ(before, pins_held());
	close(unsealed);
}

/*
 * A child creates the buffer, sends it over a socket, punches a hole in
 * its memfd, closes it and exits. The buffer keeps the pages: the parent
 * reads the child's bytes through a mapping and through the kernel's
 * (kmap); the pages are unpinned when the parent lets go.
 */
TEST_F(udmabuf, pages_outlive_the_memfd)
{
	size_t size = self->size;
	long before = pins_held();
	int sv[2], buf, edu, status;
	unsigned char *p;
	uint32_t word, crc = 0;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		unsigned char *m;
		int mfd = memfd_mapped(size, &m);

		if (mfd < 0)
			_exit(1);
		fill_bytes(m, size, 0xa5, 0);
		buf = ub_create(self->dev, mfd, 0, size, UDMABUF_FLAGS_CLOEXEC);
		if (buf < 0 || send_fd(sv[1], buf, 0))
			_exit(3);
		/* The memfd gets fresh zeroed pages; the buffer keeps its. */
		if (fallocate(mfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      0, size / 2) || m[0] || m[size / 2 - 1])
			_exit(4);
		_exit(0);
	}
	close(sv[1]);
	buf = recv_fd(sv[0], &word);
	ASSERT_LE(0, buf);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status) TH_LOG("child failed at step %d",
				    WEXITSTATUS(status));
	close(sv[0]);
	EXPECT_LE(before + MEMFD_PAGES, pins_held());

	p = mmap(NULL, size, PROT_READ, MAP_SHARED, buf, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(holds_bytes(p, size, 0xa5, 0));
	edu = open(EDU32, O_RDWR | O_CLOEXEC);
	if (edu >= 0) {
		ASSERT_EQ(0, edu_kmap_crc(edu, buf, 0, size, &crc));
		EXPECT_EQ(crc32_bytes(p, size), crc);
		close(edu);
	}
	munmap(p, size);
	close(buf);
	EXPECT_EQ(before, pins_held());
}

/*
 * The memfd's mapping and the buffer's are the same memory, and the
 * ranges of a list lie end to end in their order, also across two
 * memfds.
 */
TEST_F(udmabuf, list_layout)
{
	size_t pg = self->page, total = 6 * pg;
	struct udmabuf_create_item items[3];
	unsigned char *other, *p;
	int mfd2, buf;

	mfd2 = memfd_mapped(4 * pg, &other);
	ASSERT_LE(0, mfd2);
	fill_bytes(other, 4 * pg, 0x77, 0);
	items[0] = (struct udmabuf_create_item){ self->memfd, 0, 10 * pg, 2 * pg };
	items[1] = (struct udmabuf_create_item){ mfd2, 0, 1 * pg, 3 * pg };
	items[2] = (struct udmabuf_create_item){ self->memfd, 0, 0, pg };
	buf = ub_create_list(self->dev, items, 3, UDMABUF_FLAGS_CLOEXEC);
	ASSERT_LE(0, buf);
	EXPECT_EQ((off_t)total, lseek(buf, 0, SEEK_END));
	p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(holds_bytes(p, 2 * pg, 0x3c, 10 * pg));
	EXPECT_TRUE(holds_bytes(p + 2 * pg, 3 * pg, 0x77, pg));
	EXPECT_TRUE(holds_bytes(p + 5 * pg, pg, 0x3c, 0));

	/* Writes through either mapping are seen through the other. */
	p[2 * pg + 5] = 0xee;
	EXPECT_EQ(0xee, other[pg + 5]);
	self->map[7] = 0x11;
	EXPECT_EQ(0x11, p[5 * pg + 7]);
	/*
	 * No private mapping at all, not even a read-only one (a view, for
	 * the heaps' buffers): Linux 6.12's udmabuf refuses them.
	 */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, pg, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, buf, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, pg, PROT_READ, MAP_PRIVATE, buf, 0));
	EXPECT_EQ(EINVAL, errno);
	munmap(p, total);
	munmap(other, 4 * pg);
	close(buf);
	close(mfd2);
}

/*
 * A udmabuf's mapping is filled a page table's worth at a fault (up to
 * 2 MiB on x86-64), not a page per fault: reading every page of 1 MiB
 * through a new mapping faults at most twice (the mapping may straddle
 * two page tables), and so does writing every page of another, where a
 * fault per page would be 256 faults. What the mappings read and write is
 * the memfd's.
 */
TEST_F(udmabuf, first_touch_maps_in_one_go)
{
	size_t size = 1 << 20, pg = self->page, i, bad;
	unsigned char *m, *p;
	long before, faults;
	int memfd, fd, round;

	memfd = memfd_mapped(size, &m);
	ASSERT_LE(0, memfd);
	fill_bytes(m, size, 0x5e, 0);
	fd = ub_create(self->dev, memfd, 0, size, UDMABUF_FLAGS_CLOEXEC);
	ASSERT_LE(0, fd);
	for (round = 0; round < 2; round++) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, p);
		before = minor_faults();
		for (i = 0, bad = 0; i < size; i += pg) {
			if (round)
				p[i] = (unsigned char)(i / pg);
			else
				bad += p[i] != cpu_byte(0x5e, i);
		}
		faults = minor_faults() - before;
		EXPECT_GE(2, faults) TH_LOG("%s: %ld faults for %zu pages",
					    round ? "writes" : "reads", faults,
					    size / pg);
		EXPECT_EQ(0, bad);
		if (!round)
			EXPECT_TRUE(holds_bytes(p, size, 0x5e, 0));
		munmap(p, size);
	}
	for (i = 0; i < size; i += pg)
		ASSERT_EQ((unsigned char)(i / pg), m[i]) TH_LOG("page %zu", i / pg);
	munmap(m, size);
	close(fd);
	close(memfd);
}

/*
 * Mappings that start at different pages of a buffer of two page tables'
 * worth and more (520 pages), whole to its end or a few pages long, see
 * the memfd's pages at those offsets: the fault handler works out the
 * page of the buffer behind each address of the page table it fills from
 * the mapping's offset and bounds. Each page carries its number, as the
 * pattern repeats every 256 pages.
 */
TEST_F(udmabuf, mappings_at_offsets_agree)
{
	static const struct { size_t start, pages; } maps[] = {
		{ 1, 519 }, { 3, 5 }, { 300, 220 }, { 511, 9 }, { 512, 8 },
		{ 519, 1 },
	};
	size_t n = 520, pg = self->page, k, i, len;
	unsigned char *m, *q;
	int memfd, fd;

	memfd = memfd_mapped(n * pg, &m);
	ASSERT_LE(0, memfd);
	fill_bytes(m, n * pg, 0xc3, 0);
	for (i = 0; i < n; i++)
		memcpy(m + i * pg + 8, &i, sizeof(i));
	fd = ub_create(self->dev, memfd, 0, n * pg, UDMABUF_FLAGS_CLOEXEC);
	ASSERT_LE(0, fd);
	for (k = 0; k < ARRAY_SIZE(maps); k++) {
		len = maps[k].pages * pg;
		q = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, maps[k].start * pg);
		ASSERT_NE(MAP_FAILED, q);
		for (i = 0; i < maps[k].pages; i++)
			if (memcmp(q + i * pg, m + (maps[k].start + i) * pg, pg))
				break;
		EXPECT_EQ(maps[k].pages, i)
			TH_LOG("mapping of %zu pages from page %zu: its page %zu differs",
			       maps[k].pages, maps[k].start, i);
		munmap(q, len);
	}
	munmap(m, n * pg);
	close(fd);
	close(memfd);
}

/*
 * A read fault where the page table is already there is handled by
 * fault-around (map_pages, under rcu_read_lock()), which must map the
 * right pages and stay inside the mapping that faulted. An 8-page
 * mapping is filled by a write, its middle 4 pages replaced by a mapping
 * of pages 40 to 43 of the buffer (the page table stays: the pages around
 * are still mapped), and that mapping read: the pages around unchanged,
 * then one fault for pages 40 to 43.
 */
TEST_F(udmabuf, read_fault_around_in_a_mapped_page_table)
{
	size_t pg = self->page, i;
	unsigned char *p, *q;
	long before, faults;
	int fd;

	fd = ub_create(self->dev, self->memfd, 0, self->size,
		       UDMABUF_FLAGS_CLOEXEC);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 8 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = cpu_byte(0x3c, 0);
	q = mmap(p + 2 * pg, 4 * pg, PROT_READ, MAP_SHARED | MAP_FIXED, fd,
		 40 * pg);
	ASSERT_EQ(p + 2 * pg, q);

	/* First, so that the code the check runs is mapped when counting. */
	for (i = 0; i < 8; i++) {
		if (i >= 2 && i < 6)
			continue;
		EXPECT_TRUE(holds_bytes(p + i * pg, pg, 0x3c, i * pg))
			TH_LOG("page %zu of the outer mapping", i);
	}
	before = minor_faults();
	for (i = 0; i < 4; i++)
		EXPECT_TRUE(holds_bytes(q + i * pg, pg, 0x3c, (40 + i) * pg))
			TH_LOG("page %zu of the inner mapping", i);
	faults = minor_faults() - before;
	EXPECT_EQ(1, faults);
	munmap(p, 8 * pg);
	close(fd);
}

/*
 * Faults on a udmabuf mapping run under the mapping's own lock and are
 * not retried under mmap_lock, which the mm core does for every fault of
 * a mapping whose operations have no map_pages. The kernel counts the
 * retries (vma_lock_retry in /proc/vmstat, CONFIG_PER_VMA_LOCK_STATS).
 * Each of 64 rounds maps the buffer twice and takes a read fault on one
 * mapping and a write fault on the other: 128 faults, each of them a
 * retry if the fault handler needed mmap_lock.
 */
TEST_F(udmabuf, faults_not_retried_under_mmap_lock)
{
	size_t size = self->size, pg = self->page;
	long retries, ok, faults;
	unsigned char *p;
	int round, fd;

	if (vmstat_counter("vma_lock_retry") < 0)
		SKIP(return, "no vma_lock_retry in /proc/vmstat (needs CONFIG_PER_VMA_LOCK_STATS)");
	fd = ub_create(self->dev, self->memfd, 0, size, UDMABUF_FLAGS_CLOEXEC);
	ASSERT_LE(0, fd);

	retries = vmstat_counter("vma_lock_retry");
	ok = vmstat_counter("vma_lock_success");
	faults = minor_faults();
	for (round = 0; round < 64; round++) {
		p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, p);
		ASSERT_EQ(cpu_byte(0x3c, round * pg), p[round * pg]);
		munmap(p, size);
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, p);
		p[round * pg + 1] = (unsigned char)round;
		munmap(p, size);
	}
	faults = minor_faults() - faults;
	retries = vmstat_counter("vma_lock_retry") - retries;
	ok = vmstat_counter("vma_lock_success") - ok;
	for (round = 0; round < 64; round++)
		ASSERT_EQ((unsigned char)round, self->map[round * pg + 1]);
	close(fd);

	EXPECT_LE(128, faults);
	EXPECT_LE(128, ok) TH_LOG("%ld faults, %ld under the VMA lock", faults, ok);
	/* Allow for another process's retries, not one per fault of ours. */
	EXPECT_GT(faults / 4, retries)
		TH_LOG("%ld faults, %ld retried", faults, retries);
}

#define NR_HUGEPAGES "/proc/sys/vm/nr_hugepages"

FIXTURE(edu) {
	long page;
	/* nr_hugepages before a case raised it, or -1. */
	long hugepages;
	size_t size;
	int dev, memfd, edu28, edu32, heap;
	unsigned char *map;
};

FIXTURE_SETUP(edu)
{
	self->page = sysconf(_SC_PAGESIZE);
	self->size = MEMFD_PAGES * self->page;
	self->memfd = -1;
	self->edu28 = -1;
	self->edu32 = -1;
	self->heap = -1;
	self->hugepages = -1;
	self->map = MAP_FAILED;
	self->dev = open(UDMABUF, O_RDWR | O_CLOEXEC);
	if (self->dev < 0)
		SKIP(return, UDMABUF ": %s (needs CONFIG_UDMABUF)",
		     strerror(errno));
	self->edu32 = open(EDU32, O_RDWR | O_CLOEXEC);
	if (self->edu32 < 0)
		SKIP(return, "%s: %s (needs CONFIG_DMABUF_EDU, the test bed)",
		     EDU32, strerror(errno));
	self->edu28 = open(EDU28, O_RDWR | O_CLOEXEC);
	self->heap = open(SYSTEM_HEAP, O_RDONLY | O_CLOEXEC);
	self->memfd = memfd_mapped(self->size, &self->map);
	ASSERT_LE(0, self->memfd);
}

FIXTURE_TEARDOWN(edu)
{
	int fds[] = { self->memfd, self->edu28, self->edu32, self->heap,
		      self->dev };
	unsigned int i;

	if (self->map != MAP_FAILED)
		munmap(self->map, self->size);
	if (self->hugepages >= 0)
		EXPECT_EQ(0, write_number(NR_HUGEPAGES, self->hugepages));
	for (i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/*
 * Bytes written through the memfd's own mapping reach the device by DMA;
 * what the device writes is seen through the memfd once the buffer is
 * synced for the CPU. In every DMA path of the test bed (bounce buffers
 * included). The edu device copies 4 KiB per DMA and takes 100 ms of
 * virtual time for each: the ranges are two pages, across two page ends.
 */
TEST_F(edu, round_trip_through_the_memfd)
{
	size_t i, off = 3 * self->page + 100, len = 2 * self->page;
	size_t out = 10 * self->page - 200;
	uint32_t crc = 0, seed = 0x5eed;
	int buf;

	fill_bytes(self->map, self->size, 0x42, 0);
	buf = ub_create(self->dev, self->memfd, 0, self->size,
			UDMABUF_FLAGS_CLOEXEC);
	ASSERT_LE(0, buf);

	ASSERT_EQ(0, edu_to_device(self->edu32, buf, out, len, &crc));
	EXPECT_EQ(crc32_bytes(self->map + out, len), crc);
	ASSERT_EQ(0, edu_kmap_crc(self->edu32, buf, 0, self->size, &crc));
	EXPECT_EQ(crc32_bytes(self->map, self->size), crc);
	ASSERT_EQ(0, edu_vmap_crc(self->edu32, buf, out, len, &crc));
	EXPECT_EQ(crc32_bytes(self->map + out, len), crc);

	ASSERT_EQ(0, edu_from_device(self->edu32, buf, off, len, seed));
	ASSERT_EQ(0, buf_sync(buf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	for (i = 0; i < len; i++)
		if (self->map[off + i] != edu_dmabuf_pattern(seed, i))
			break;
	EXPECT_EQ(len, i) TH_LOG("memfd byte %zu differs from the device's",
				 off + i);
	/* Around the device's write, the CPU's bytes are untouched. */
	EXPECT_TRUE(holds_bytes(self->map, off, 0x42, 0));
	EXPECT_TRUE(holds_bytes(self->map + off + len,
				self->size - off - len, 0x42, off + len));
	EXPECT_EQ(0, buf_sync(buf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));

	/* The same again while the device stays attached (cached mapping). */
	ASSERT_EQ(0, edu_attach(self->edu32, buf, true));
	ASSERT_EQ(0, buf_sync(buf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
	fill_bytes(self->map, self->size, 0x24, 0);
	ASSERT_EQ(0, buf_sync(buf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));
	ASSERT_EQ(0, edu_to_device(self->edu32, buf, out, len, &crc));
	EXPECT_EQ(crc32_bytes(self->map + out, len), crc);
	ASSERT_EQ(0, edu_from_device(self->edu32, buf, off, len, seed + 1));
	ASSERT_EQ(0, buf_sync(buf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(pattern_crc(seed + 1, len), crc32_bytes(self->map + off, len));
	EXPECT_TRUE(holds_bytes(self->map, off, 0x24, 0));
	EXPECT_EQ(0, buf_sync(buf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	/* The kernel's linear mapping shows the device's write too. */
	ASSERT_EQ(0, edu_vmap_crc(self->edu32, buf, off, len, &crc));
	EXPECT_EQ(pattern_crc(seed + 1, len), crc);
	EXPECT_EQ(0, edu_attach(self->edu32, buf, false));
	close(buf);
}

/*
 * The memfd's pages exist before any device attaches, so the 28-bit
 * device is refused with ERANGE unless it reaches all of them: where
 * addresses are physical, exactly when every page lies below 256 MiB
 * (from /proc/self/pagemap); behind a translating IOMMU, always; with
 * bounce buffers, when those lie within its reach.
 */
TEST_F(edu, narrow_device_reaches_or_is_refused)
{
	uint64_t last;
	bool reach;
	int buf, expect;
	uint32_t crc = 0;

	if (self->edu28 < 0)
		SKIP(return, EDU28_REFUSED_WHY);
	fill_bytes(self->map, self->size, 0x99, 0);
	buf = ub_create(self->dev, self->memfd, 0, self->size, 0);
	ASSERT_LE(0, buf);
	/* Where the pages lie once pinned: pinning migrates them out of CMA. */
	last = phys_last(self->map, self->size, self->page);
	ASSERT_NE(UINT64_MAX, last) TH_LOG("no frame numbers in /proc/self/pagemap");
	switch (dma_path_of(EDU28_SLOT)) {
	case DMA_TRANSLATED:
		reach = true;
		break;
	case DMA_BOUNCED:
		ASSERT_LE(0, self->heap);
		reach = reaches_memory(EDU28_SLOT, MASK28, self->heap,
				       self->edu32);
		break;
	default:
		reach = last <= MASK28;
		break;
	}
	expect = reach ? 0 : -ERANGE;
	EXPECT_EQ(expect, edu_attach(self->edu28, buf, true))
		TH_LOG("storage up to %#llx", (unsigned long long)last);
	EXPECT_EQ(expect, edu_to_device(self->edu28, buf, 0, 2 * self->page,
					&crc));
	if (!expect) {
		EXPECT_EQ(crc32_bytes(self->map, 2 * self->page), crc);
		EXPECT_EQ(0, edu_attach(self->edu28, buf, false));
	}
	close(buf);
}

/*
 * Two free huge pages, reserved for the case (until teardown, which puts
 * back the count saved in @saved) if there are not: their size; 0 if the
 * kernel has none to give; -1 without hugetlbfs.
 */
static long two_huge_pages(long *saved)
{
	long hpage = meminfo_kb("Hugepagesize") * 1024, reserved;

	if (hpage <= 0)
		return -1;
	if (meminfo_kb("HugePages_Free") < 2) {
		reserved = read_number(NR_HUGEPAGES);
		if (reserved < 0 || write_number(NR_HUGEPAGES, reserved + 2))
			return -1;
		*saved = reserved;
	}
	return meminfo_kb("HugePages_Free") >= 2 ? hpage : 0;
}

/*
 * A udmabuf's storage exists from the start and never moves, so a device
 * that takes a buffer in one piece (the 32-bit edu with
 * EDU_DMABUF_ATTACH_ONE_PIECE) gets it as its pages lie. The memfd's 64
 * shmem pages: where addresses are physical, only if their frames are
 * consecutive (/proc/self/pagemap), else ERANGE; behind a translating
 * IOMMU always; bounced never (256 KiB is more than one of the device's
 * 64 KiB segments, and each goes to a bounce buffer of its own). 16
 * pages of one huge page are one piece on every path, bounced too: one
 * segment, one bounce buffer, as the buffer's scatterlist joins them.
 */
TEST_F(edu, one_piece_as_the_pages_lie)
{
	enum dma_path path = dma_path_of(EDU32_SLOT);
	size_t len = 16 * self->page;
	struct edu_dmabuf_map_info info;
	unsigned int pieces;
	int buf, mfd, expect;
	unsigned char *m;
	uint32_t crc = 0;
	long hpage;

	fill_bytes(self->map, self->size, 0x3c, 0);
	buf = ub_create(self->dev, self->memfd, 0, self->size, 0);
	ASSERT_LE(0, buf);
	/* Where the pages lie once pinned: pinning migrates them out of CMA. */
	pieces = phys_pieces(self->map, self->size, self->page);
	ASSERT_LT(0U, pieces) TH_LOG("no frame numbers in /proc/self/pagemap");
	if (path == DMA_TRANSLATED)
		expect = 0;
	else if (path == DMA_BOUNCED)
		expect = -ERANGE;
	else
		expect = pieces == 1 ? 0 : -ERANGE;
	/* Asserted: a skip of the second half must not hide a failure. */
	ASSERT_EQ(expect, edu_attach_one_piece(self->edu32, buf))
		TH_LOG("the memfd's pages in %u pieces", pieces);
	if (!expect) {
		ASSERT_EQ(0, edu_map_pieces(self->edu32, buf, &info));
		ASSERT_EQ(1U, info.nr_segs);
		ASSERT_EQ(0, edu_attach(self->edu32, buf, false));
	}
	close(buf);

	hpage = two_huge_pages(&self->hugepages);
	ASSERT_LE(0, hpage) TH_LOG("no hugetlbfs (/proc/meminfo, nr_hugepages)");
	if (!hpage)
		SKIP(return, "no two free huge pages (the shmem half passed)");
	mfd = memfd_sealed(2 * hpage, F_SEAL_SHRINK,
			   MFD_ALLOW_SEALING | MFD_HUGETLB);
	ASSERT_LE(0, mfd);
	m = mmap(NULL, hpage, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, m);
	fill_bytes(m, hpage, 0x5a, 0);
	buf = ub_create(self->dev, mfd, hpage / 2, len, UDMABUF_FLAGS_CLOEXEC);
	ASSERT_LE(0, buf);
	EXPECT_EQ(0, edu_attach_one_piece(self->edu32, buf));
	ASSERT_EQ(0, edu_map_pieces(self->edu32, buf, &info));
	EXPECT_EQ(1U, info.nr_segs);
	EXPECT_EQ(len, info.segs[0].len);
	ASSERT_EQ(0, edu_to_device(self->edu32, buf, 0, 2 * self->page, &crc));
	EXPECT_EQ(crc32_bytes(m + hpage / 2, 2 * self->page), crc);
	EXPECT_EQ(0, edu_attach(self->edu32, buf, false));
	close(buf);
	munmap(m, hpage);
	close(mfd);
}

/* Huge pages of a hugetlbfs memfd serve page by page, across their ends. */
TEST_F(edu, hugetlb_memfd)
{
	long hpage = two_huge_pages(&self->hugepages);
	size_t off, len = 4 * self->page;
	unsigned char *m, *p;
	uint32_t crc = 0;
	int mfd = -1, buf;

	ASSERT_LE(0, hpage) TH_LOG("no hugetlbfs (/proc/meminfo, nr_hugepages)");
	if (hpage)
		mfd = memfd_sealed(2 * hpage, F_SEAL_SHRINK,
				   MFD_ALLOW_SEALING | MFD_HUGETLB);
	if (mfd < 0)
		SKIP(return, "no two free huge pages");
	m = mmap(NULL, 2 * hpage, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, m);
	fill_bytes(m, 2 * hpage, 0x6b, 0);

	/* Two pages at the end of the first huge page, two of the next. */
	off = hpage - 2 * self->page;
	buf = ub_create(self->dev, mfd, off, len, UDMABUF_FLAGS_CLOEXEC);
	ASSERT_LE(0, buf);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, buf, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(holds_bytes(p, len, 0x6b, off));
	ASSERT_EQ(0, edu_to_device(self->edu32, buf, 0, len, &crc));
	EXPECT_EQ(crc32_bytes(m + off, len), crc);
	ASSERT_EQ(0, edu_from_device(self->edu32, buf, 0, len, 77));
	ASSERT_EQ(0, buf_sync(buf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(pattern_crc(77, len), crc32_bytes(m + off, len));
	EXPECT_EQ(0, buf_sync(buf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	/* The kernel's linear mapping of the huge pages' parts agrees. */
	ASSERT_EQ(0, edu_vmap_crc(self->edu32, buf, 0, len, &crc));
	EXPECT_EQ(pattern_crc(77, len), crc);
	/* Misaligned within the huge page is still refused. */
	EXPECT_EQ(-EINVAL, ub_create(self->dev, mfd, off + 512, len, 0));

	munmap(p, len);
	close(buf);
	munmap(m, 2 * hpage);
	close(mfd);
}

TEST_HARNESS_MAIN
