// SPDX-License-Identifier: GPL-2.0-only
/*
 * Real DMA through dma-bufs: QEMU's edu devices (the test bed's 28-bit
 * device at 00:04.0 and 32-bit one at 00:05.0) import system heap
 * buffers that processes pass around as descriptors.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "dmabuf-util.h"

#define LOW_256M (256ULL << 20)

/*
 * Probe and test buffers alike: large enough to be allocated in the
 * heap's 64 KiB runs, as the ballast is, so that they compete for the
 * same free blocks (small requests are served from leftover fragments).
 * The ballast comes in pieces just short of 1 MiB, so that the heap
 * makes them of 64 KiB runs too, not of its 1 MiB runs, which are taken
 * from other, larger free blocks and would leave the small ones below
 * 256 MiB to the probes: 32 pieces, 30 MiB, after each probe.
 */
#define PLACED_SIZE	(256 << 10)
#define BALLAST_PIECE	(960 << 10)
#define BALLAST_PIECES	32
#define BALLAST_MAX	(24 * (BALLAST_PIECES + 1))

/*
 * Fill memory with ballast until a buffer placed with no device attached
 * lands above 256 MiB, so that naive placement demonstrably misses the
 * 28-bit device. Return that buffer (placed), or -1. The ballast buffers'
 * descriptors are stored in @ballast (closed by the caller).
 */
static int high_buffer(int heap, int edu32, size_t size, int *ballast,
		       int *nr_ballast)
{
	struct edu_dmabuf_map_info info;
	int fd;
	bool gap;

	int piece;

	*nr_ballast = 0;
	while (*nr_ballast + 1 + BALLAST_PIECES <= BALLAST_MAX) {
		fd = heap_alloc(heap, size, O_RDWR);
		if (fd < 0 || buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW) ||
		    buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW) ||
		    edu_map_info(edu32, fd, &info))
			return -1;
		if (map_last(&info, &gap) >= LOW_256M)
			return fd;
		/*
		 * Kept, not freed: freed pages would come straight back to
		 * the next probe from the per-CPU free lists.
		 */
		ballast[(*nr_ballast)++] = fd;
		for (piece = 0; piece < BALLAST_PIECES; piece++) {
			fd = heap_alloc(heap, BALLAST_PIECE, O_RDWR);
			if (fd < 0 ||
			    buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW) ||
			    buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW))
				return -1;
			ballast[(*nr_ballast)++] = fd;
		}
	}
	return -1;
}

static void close_all(int *fds, int n)
{
	while (n--)
		close(fds[n]);
}

/*
 * Open a heap and both edu devices; on failure, return why (the caller
 * skips), with what could not be opened at -1.
 */
static const char *open_test_bed(const char *heap_path, int *heap,
				 int *edu28, int *edu32)
{
	static char why[160];

	*edu28 = -1;
	*edu32 = -1;
	*heap = open(heap_path, O_RDONLY | O_CLOEXEC);
	if (*heap < 0) {
		snprintf(why, sizeof(why),
			 "%s: %s (needs its heap driver, the test bed)",
			 heap_path, strerror(errno));
		return why;
	}
	*edu28 = open(EDU28, O_RDWR | O_CLOEXEC);
	*edu32 = open(EDU32, O_RDWR | O_CLOEXEC);
	/* Without the 28-bit device where it reaches nothing. */
	if ((*edu28 < 0 && !edu28_refused_at_probe()) || *edu32 < 0) {
		snprintf(why, sizeof(why),
			 "%s or %s missing (needs CONFIG_DMABUF_EDU, the test bed)",
			 EDU28, EDU32);
		return why;
	}
	return NULL;
}

static void close_test_bed(int heap, int edu28, int edu32)
{
	int fds[] = { heap, edu28, edu32 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Why the 28-bit device takes no part, where it reaches no memory. */
#define REFUSAL_CHECKED \
	"; narrow_device_refused_where_it_reaches_nothing checks the refusal"

static const char *unreachable_why(enum dma_path path)
{
	if (edu28_refused_at_probe())
		return EDU28_REFUSED_WHY REFUSAL_CHECKED;
	if (path == DMA_BOUNCED)
		return "the 28-bit device cannot reach this guest's bounce buffers (swiotlb=force)"
		       REFUSAL_CHECKED;
	return "the 28-bit device reaches no memory here (RAM starts above 256 MiB)"
	       REFUSAL_CHECKED;
}

FIXTURE(edu) {
	long page;
	int heap, edu28, edu32;
	enum dma_path path28, path32;
	bool reach28;
};

FIXTURE_SETUP(edu)
{
	const char *why;

	self->page = sysconf(_SC_PAGESIZE);
	why = open_test_bed(SYSTEM_HEAP, &self->heap, &self->edu28,
			    &self->edu32);
	if (why)
		SKIP(return, "%s", why);
	self->path28 = dma_path_of(EDU28_SLOT);
	self->path32 = dma_path_of(EDU32_SLOT);
	self->reach28 = self->edu28 >= 0 &&
			reaches_memory(EDU28_SLOT, MASK28, self->heap,
				       self->edu32);
}

FIXTURE_TEARDOWN(edu)
{
	close_test_bed(self->heap, self->edu28, self->edu32);
}

/*
 * Process A allocates, attaches the 28-bit device before the first use
 * (so the storage lands where it reaches), fills the buffer through a
 * mapping and sends the descriptor and its CRC to process B over
 * SCM_RIGHTS, then closes everything. B hands the buffer to the device;
 * the CRC of what the device received equals A's.
 */
TEST_F(edu, scm_rights_to_28bit_device)
{
	size_t size = 3 * self->page;
	int sv[2], status, fd;
	uint32_t crc = 0, got = 0;
	pid_t pid;

	if (!self->reach28)
		SKIP(return, "%s", unreachable_why(self->path28));

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {			/* process A */
		close(sv[1]);
		fd = heap_alloc(self->heap, size, O_RDWR);
		if (fd < 0 || edu_attach(self->edu28, fd, true))
			_exit(2);
		crc = fill(fd, size, 0x5c);
		if (send_fd(sv[0], fd, crc))
			_exit(3);
		_exit(0);
	}
	close(sv[0]);
	fd = recv_fd(sv[1], &crc);	/* process B */
	ASSERT_LE(0, fd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* A is gone; B's descriptor is the only reference. */
	ASSERT_EQ(0, edu_to_device(self->edu28, fd, 0, size, &got));
	EXPECT_EQ(crc, got);
	close(fd);
	close(sv[1]);
}

/*
 * The other way: B has the 32-bit device write a seeded pattern into the
 * buffer A allocated; A sees exactly that pattern through its mapping.
 */
TEST_F(edu, scm_rights_from_32bit_device)
{
	size_t size = 2 * self->page;
	int sv[2], status, fd, ret;
	uint32_t word;
	pid_t pid;

	fd = heap_alloc(self->heap, size, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {			/* process B */
		close(sv[0]);
		close(fd);
		fd = recv_fd(sv[1], &word);
		if (fd < 0)
			_exit(2);
		ret = edu_from_device(self->edu32, fd, 0, size, word);
		_exit(ret ? 3 : 0);
	}
	close(sv[1]);
	ASSERT_EQ(0, send_fd(sv[0], fd, 0xfeed1234));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(holds_pattern(fd, size, 0, size, 0xfeed1234));
	close(fd);
	close(sv[0]);
}

/*
 * Both devices attached before first use: the storage lies below 256 MiB,
 * where the 28-bit device reaches, and both devices work on it.
 */
TEST_F(edu, both_devices_one_buffer)
{
	int ballast[BALLAST_MAX], nr_ballast = 0, fd, control;
	struct edu_dmabuf_map_info info;
	size_t size = PLACED_SIZE;
	uint32_t crc = 0;
	bool gap;

	if (!self->reach28)
		SKIP(return, "%s", unreachable_why(self->path28));
	if (self->path28 == DMA_TRANSLATED) {
		/* Placement does not matter behind the IOMMU: the data does. */
		TH_LOG("behind an IOMMU: the storage may lie anywhere");
		fd = heap_alloc(self->heap, size, O_RDWR);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, edu_attach(self->edu28, fd, true));
		ASSERT_EQ(0, edu_attach(self->edu32, fd, true));
		goto data;
	}

	/* A control buffer placed with no device attached lands high... */
	control = high_buffer(self->heap, self->edu32, size, ballast,
			      &nr_ballast);
	ASSERT_LE(0, control)
		TH_LOG("no buffer landed above 256 MiB after %d ballast and probe buffers",
		       nr_ballast);
	ASSERT_EQ(0, edu_map_info(self->edu32, control, &info));
	TH_LOG("placed without devices: up to %#llx (%d ballast/probe buffers)",
	       (unsigned long long)map_last(&info, &gap), nr_ballast);
	close(control);

	/* ...one with both devices attached before first use does not. */
	fd = heap_alloc(self->heap, size, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, edu_attach(self->edu28, fd, true));
	ASSERT_EQ(0, edu_attach(self->edu32, fd, true));

	ASSERT_EQ(0, edu_map_info(self->edu32, fd, &info));
	EXPECT_EQ(0xffffffffULL, info.dma_mask);
	EXPECT_LT(map_last(&info, &gap), LOW_256M);
	ASSERT_EQ(0, edu_map_info(self->edu28, fd, &info));
	EXPECT_EQ((1ULL << 28) - 1, info.dma_mask);
	EXPECT_LT(map_last(&info, &gap), LOW_256M);

data:
	/* One device writes, the other reads what it wrote. */
	ASSERT_EQ(0, edu_from_device(self->edu32, fd, 100, 5000, 42));
	ASSERT_EQ(0, edu_to_device(self->edu28, fd, 100, 5000, &crc));
	EXPECT_EQ(pattern_crc(42, 5000), crc);
	/* The kernel's CPU mappings show the device's writes too. */
	ASSERT_EQ(0, edu_kmap_crc(self->edu28, fd, 100, 5000, &crc));
	EXPECT_EQ(pattern_crc(42, 5000), crc);
	EXPECT_TRUE(holds_pattern(fd, size, 100, 5000, 42));

	EXPECT_EQ(0, edu_attach(self->edu28, fd, false));
	EXPECT_EQ(0, edu_attach(self->edu32, fd, false));
	close(fd);
	close_all(ballast, nr_ballast);
}

/* Poll the debugfs listing until the buffer shows as pinned (~5 s). */
static bool wait_pinned(int fd)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (buffer_pinned(fd) == 1)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * Storage placed for others lies above 256 MiB, and the 28-bit device
 * comes late. While the 32-bit device is in the middle of a DMA (the
 * storage pinned by its mapping), the 28-bit device is refused with
 * ERANGE. Once the buffer is idle the storage moves below 256 MiB with
 * every byte and the device works on it: a mapping made before the move
 * reads the same bytes, and the 32-bit device's next mapping and DMA are
 * of the new storage. Behind a translating IOMMU nothing needs to
 * move; where the device reaches no memory at all it stays refused.
 */
TEST_F(edu, late_narrow_device_moves_idle_buffer)
{
	int ballast[BALLAST_MAX], nr_ballast, fd, status;
	size_t dma_len = 4 * self->page;
	struct edu_dmabuf_map_info info;
	uint32_t crc = 0, got = 0;
	unsigned char *m;
	pid_t pid;
	bool gap;

	if (self->edu28 < 0)
		SKIP(return, "%s", unreachable_why(self->path28));
	fd = high_buffer(self->heap, self->edu32, PLACED_SIZE, ballast,
			 &nr_ballast);
	ASSERT_LE(0, fd)
		TH_LOG("no buffer landed above 256 MiB after %d ballast and probe buffers",
		       nr_ballast);
	crc = fill(fd, PLACED_SIZE, 0x61);
	m = mmap(NULL, PLACED_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(crc, crc32_bytes(m, PLACED_SIZE));

	if (!self->reach28) {
		EXPECT_EQ(-ERANGE, edu_to_device(self->edu28, fd, 0, 16, &got));
		EXPECT_EQ(-ERANGE, edu_from_device(self->edu28, fd, 0, 16, 1));
		EXPECT_EQ(-ERANGE, edu_attach(self->edu28, fd, true));
		EXPECT_EQ(-ERANGE, edu_map_info(self->edu28, fd, &info));
		goto out;
	}
	if (self->path28 == DMA_TRANSLATED) {
		EXPECT_EQ(0, edu_to_device(self->edu28, fd, 0, dma_len, &got));
		EXPECT_EQ(crc32_bytes(m, dma_len), got);
		ASSERT_EQ(0, edu_map_info(self->edu28, fd, &info));
		EXPECT_LT(map_last(&info, &gap), LOW_256M);
		goto out;
	}

	/* Where addresses are physical, high_buffer() placed it above. */
	ASSERT_EQ(0, edu_map_info(self->edu32, fd, &info));
	ASSERT_LE(LOW_256M, map_last(&info, &gap));

	/* Pinned: the 32-bit device reads the buffer meanwhile. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(edu_to_device(self->edu32, fd, 0, dma_len, &got) ||
		      got != crc32_bytes(m, dma_len));
	ASSERT_TRUE(wait_pinned(fd)) TH_LOG("the DMA never showed as a pin");
	EXPECT_EQ(-ERANGE, edu_attach(self->edu28, fd, true));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	EXPECT_EQ(0, buffer_pinned(fd));

	/* Idle: it moves, and the 28-bit device gets it. */
	ASSERT_EQ(0, edu_attach(self->edu28, fd, true));
	EXPECT_EQ(crc, crc32_bytes(m, PLACED_SIZE));
	ASSERT_EQ(0, edu_map_info(self->edu28, fd, &info));
	EXPECT_LT(map_last(&info, &gap), LOW_256M);
	ASSERT_EQ(0, edu_map_info(self->edu32, fd, &info));
	EXPECT_LT(map_last(&info, &gap), LOW_256M);
	EXPECT_EQ(0, edu_to_device(self->edu28, fd, PLACED_SIZE - dma_len,
				   dma_len, &got));
	EXPECT_EQ(crc32_bytes(m + PLACED_SIZE - dma_len, dma_len), got);

	/* The 32-bit device writes into the new storage, seen through m. */
	ASSERT_EQ(0, edu_from_device(self->edu32, fd, 0, dma_len, 7));
	ASSERT_EQ(0, buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(pattern_crc(7, dma_len), crc32_bytes(m, dma_len));
	EXPECT_EQ(0, buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	EXPECT_EQ(0, edu_attach(self->edu28, fd, false));
out:
	munmap(m, PLACED_SIZE);
	close(fd);
	close_all(ballast, nr_ballast);
}

/*
 * A device that reaches no memory at all (its mappings are bounced through
 * buffers above its mask, as in the swiotlb pass; or the machine's RAM
 * starts above it, as on arm64's virt) is refused with ERANGE as soon as
 * it attaches, even to a buffer without storage, and is never handed an
 * address it cannot reach; where the DMA API refuses its mask outright
 * (arm64's virt), the driver refuses the device at probe. Elsewhere a
 * fresh buffer takes it.
 */
TEST_F(edu, narrow_device_refused_where_it_reaches_nothing)
{
	struct edu_dmabuf_map_info info;
	int fd, expect;
	uint32_t crc;

	fd = heap_alloc(self->heap, self->page, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	if (self->edu28 < 0) {
		/* The DMA API refused the mask: no device, and the log says why. */
		EXPECT_TRUE(kmsg_contains("edu_dmabuf " EDU28_SLOT,
					  "28-bit DMA mask reaches no memory"));
		EXPECT_EQ(0, edu_to_device(self->edu32, fd, 0, 64, &crc));
		close(fd);
		return;
	}
	expect = self->reach28 ? 0 : -ERANGE;
	EXPECT_EQ(expect, edu_attach(self->edu28, fd, true));
	EXPECT_EQ(expect, edu_map_info(self->edu28, fd, &info));
	EXPECT_EQ(expect, edu_to_device(self->edu28, fd, 0, 64, &crc));
	if (!expect)
		EXPECT_EQ(0, edu_attach(self->edu28, fd, false));
	/* The 32-bit device reaches memory in every pass. */
	EXPECT_EQ(0, edu_to_device(self->edu32, fd, 0, 64, &crc));
	close(fd);
}

/* Buffers the 32-bit device takes in one piece, as vivid's dma-contig node does. */
static const size_t one_piece_sizes[] = {
	1 << 20,	/* one of the heap's runs: one piece with or without */
	4 << 20,	/* the page allocator's largest block */
	8294400,	/* one 1080p RGB32 frame: 2,025 pages, from CMA */
};

/* What the device writes at each end of a buffer: one chunk's worth. */
#define END_LEN	2048

/* The device writes END_LEN bytes at each end of @fd; 0, or its -errno. */
static int device_writes_both_ends(int edu, int fd, size_t size, uint32_t seed)
{
	return edu_from_device(edu, fd, 0, END_LEN, seed) ?:
	       edu_from_device(edu, fd, size - END_LEN, END_LEN, seed + 1);
}

static bool holds_both_ends(int fd, size_t size, uint32_t seed)
{
	return holds_pattern(fd, size, 0, END_LEN, seed) &&
	       holds_pattern(fd, size, size - END_LEN, END_LEN, seed + 1);
}

/* Slots of the bounce buffers in use (2 KiB each), or -1 if unreadable. */
static long swiotlb_slots_used(void)
{
	FILE *f = fopen("/sys/kernel/debug/swiotlb/io_tlb_used", "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

#define SWIOTLB_SLOT	2048

/*
 * The 32-bit device attaches, stating that it takes the buffer in one
 * piece (as a device without scatter-gather would), to buffers of 1 MiB,
 * 4 MiB and one 1080p RGB32 frame allocated after making holes, so that
 * runs of 1 MiB would come apart. Where DMA addresses are physical, the
 * buffer is one block at consecutive addresses: the page allocator's up
 * to 4 MiB, the frame's from CMA (one more allocation there). With every
 * mapping bounced (swiotlb=force), where a bounce buffer holds at most one
 * of the device's segments (64 KiB), the block is memory the DMA API
 * allocated for the device, which it maps without a bounce buffer: the
 * attachment's mapping, which stays until it detaches, takes no slot of
 * the bounce buffers (segments bounced into slots that happen to follow
 * each other would look like one piece), while a buffer of 64 KiB is
 * bounced in one piece; the frame's block is CMA's, where the DMA API
 * takes blocks first. Behind a translating IOMMU the IOMMU makes one
 * piece of any pages: no block is needed and no CMA is spent. The
 * device's DMA at both ends lands where the CPU reads it.
 */
TEST_F(edu, one_piece_where_the_device_needs_it)
{
	bool translated = self->path32 == DMA_TRANSLATED;
	bool bounced = self->path32 == DMA_BOUNCED;
	struct edu_dmabuf_map_info info;
	int holes[HOLES], fd;
	long cma, slots = 0;
	unsigned int i;
	size_t size;

	ASSERT_EQ(0, heap_holes_make(self->heap, holes));
	for (i = 0; i < ARRAY_SIZE(one_piece_sizes); i++) {
		size = one_piece_sizes[i];
		fd = heap_alloc(self->heap, size, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		cma = vmstat_counter("cma_alloc_success");
		ASSERT_LE(0, cma) TH_LOG("no cma_alloc_success in /proc/vmstat (CONFIG_CMA)");
		if (bounced) {
			slots = swiotlb_slots_used();
			ASSERT_LE(0, slots) TH_LOG("no swiotlb/io_tlb_used in debugfs");
		}
		ASSERT_EQ(0, edu_attach_one_piece(self->edu32, fd));
		ASSERT_EQ(0, device_writes_both_ends(self->edu32, fd, size, 2 * i));
		EXPECT_TRUE(holds_both_ends(fd, size, 2 * i));
		ASSERT_EQ(0, edu_map_pieces(self->edu32, fd, &info));
		EXPECT_EQ(1U, info.nr_segs) TH_LOG("%zu bytes in %u pieces", size,
						   info.nr_segs);
		EXPECT_EQ(size, info.segs[0].len);
		/* Up to 4 MiB, the page allocator's block or CMA's. */
		if (translated) {
			EXPECT_EQ(cma, vmstat_counter("cma_alloc_success"))
				TH_LOG("%zu bytes behind an IOMMU: taken from CMA",
				       size);
		} else if (size > 4 << 20) {
			EXPECT_EQ(cma + 1, vmstat_counter("cma_alloc_success"))
				TH_LOG("%zu bytes: not one allocation from CMA",
				       size);
		}
		/* A few slots are another mapping's; a bounced piece takes all. */
		if (bounced)
			EXPECT_GT(slots + (long)(size / SWIOTLB_SLOT / 2),
				  swiotlb_slots_used())
				TH_LOG("%zu bytes: bounced", size);
		EXPECT_EQ(0, edu_attach(self->edu32, fd, false));
		close(fd);
	}
	if (bounced) {
		size = 64 << 10;
		fd = heap_alloc(self->heap, size, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		slots = swiotlb_slots_used();
		ASSERT_EQ(0, edu_attach_one_piece(self->edu32, fd));
		ASSERT_EQ(0, device_writes_both_ends(self->edu32, fd, size, 9));
		EXPECT_TRUE(holds_both_ends(fd, size, 9));
		ASSERT_EQ(0, edu_map_pieces(self->edu32, fd, &info));
		EXPECT_EQ(1U, info.nr_segs);
		EXPECT_LE(slots + (long)(size / SWIOTLB_SLOT), swiotlb_slots_used())
			TH_LOG("64 KiB not bounced");
		EXPECT_EQ(0, edu_attach(self->edu32, fd, false));
		close(fd);
	}
	heap_holes_close(holes);
}

#define CMA_BLOCK	(8 << 20)
#define CMA_TRIES_MAX	64

/*
 * Buffers of 8 MiB that the 32-bit device takes in one piece, until CMA
 * is used up (two more than CmaTotal holds): where DMA addresses are
 * physical, and with every mapping bounced (where the blocks come from
 * the DMA API, which takes them from CMA too, and beyond 4 MiB only
 * there), a first use that finds no block fails with ENOMEM and loses
 * nothing: every buffer before it holds what the device wrote, still in
 * one piece; the failed one works in runs once the statement is gone; a
 * block given back is had again; nothing is left when all are closed.
 * Behind a translating IOMMU no block is needed: all of them are taken,
 * none from CMA.
 */
TEST_F(edu, one_piece_enomem_when_cma_is_used_up)
{
	bool translated = self->path32 == DMA_TRANSLATED;
	int fds[CMA_TRIES_MAX], n, i, ret = 0, live, tries;
	struct edu_dmabuf_map_info info;
	long cma, cma_kb;

	/* More blocks than the contiguous memory area holds. */
	cma_kb = meminfo_kb("CmaTotal");
	ASSERT_LT(0, cma_kb) TH_LOG("no CmaTotal in /proc/meminfo (cma= on the command line)");
	tries = cma_kb / (CMA_BLOCK >> 10) + 2;
	ASSERT_GE(CMA_TRIES_MAX, tries) TH_LOG("%ld KiB of CMA: too many blocks", cma_kb);
	live = live_buffers();
	ASSERT_LE(0, live);
	cma = vmstat_counter("cma_alloc_success");
	ASSERT_LE(0, cma);
	for (n = 0; n < tries && !ret; n++) {
		fds[n] = heap_alloc(self->heap, CMA_BLOCK, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fds[n]);
		ASSERT_EQ(0, edu_attach_one_piece(self->edu32, fds[n]));
		ret = device_writes_both_ends(self->edu32, fds[n], CMA_BLOCK,
					      2 * n);
	}
	if (translated) {
		EXPECT_EQ(0, ret);
		EXPECT_EQ(cma, vmstat_counter("cma_alloc_success"));
	} else {
		ASSERT_EQ(-ENOMEM, ret) TH_LOG("%d blocks of 8 MiB: CMA never ran out",
					       n);
		ASSERT_LE(2, n) TH_LOG("not one block of 8 MiB from CMA");
		EXPECT_EQ(cma + n - 1, vmstat_counter("cma_alloc_success"));
		/* The one that found no block, without the statement. */
		EXPECT_EQ(0, edu_attach(self->edu32, fds[n - 1], false));
		EXPECT_EQ(0, device_writes_both_ends(self->edu32, fds[n - 1],
						     CMA_BLOCK, 2 * (n - 1)));
		/* A block given back is a block to be had. */
		EXPECT_EQ(0, edu_attach(self->edu32, fds[0], false));
		close(fds[0]);
		fds[0] = heap_alloc(self->heap, CMA_BLOCK, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fds[0]);
		ASSERT_EQ(0, edu_attach_one_piece(self->edu32, fds[0]));
		ASSERT_EQ(0, device_writes_both_ends(self->edu32, fds[0],
						     CMA_BLOCK, 0));
	}
	for (i = 0; i < n; i++) {
		EXPECT_TRUE(holds_both_ends(fds[i], CMA_BLOCK, 2 * i))
			TH_LOG("buffer %d lost what the device wrote", i);
		if (i < n - 1 || translated) {
			EXPECT_EQ(0, edu_map_pieces(self->edu32, fds[i], &info));
			EXPECT_EQ(1U, info.nr_segs) TH_LOG("buffer %d in %u pieces",
							   i, info.nr_segs);
			/* The device's file holds a reference until detached. */
			EXPECT_EQ(0, edu_attach(self->edu32, fds[i], false));
		}
		close(fds[i]);
	}
	EXPECT_EQ(live, live_buffers());
}

/*
 * ATTACH of a buffer this file attached already fails with EEXIST before
 * it attaches again: a one-piece statement that is then dropped moves
 * nothing (a frame's buffer made after holes stays in its pieces) and
 * takes no block.
 */
TEST_F(edu, second_attach_moves_nothing)
{
	struct edu_dmabuf_map_info info;
	int holes[HOLES], fd;
	unsigned int pieces;
	long cma;

	ASSERT_EQ(0, heap_holes_make(self->heap, holes));
	fd = heap_alloc(self->heap, 8294400, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, edu_attach(self->edu32, fd, true));
	ASSERT_EQ(0, edu_map_pieces(self->edu32, fd, &info));
	pieces = info.nr_segs;
	cma = vmstat_counter("cma_alloc_success");
	EXPECT_EQ(-EEXIST, edu_attach_one_piece(self->edu32, fd));
	ASSERT_EQ(0, edu_map_pieces(self->edu32, fd, &info));
	EXPECT_EQ(pieces, info.nr_segs);
	EXPECT_EQ(cma, vmstat_counter("cma_alloc_success"));
	EXPECT_EQ(0, edu_attach(self->edu32, fd, false));
	close(fd);
	heap_holes_close(holes);
}

/* A child inherits the descriptor across fork(); dup() works too. */
TEST_F(edu, fork_and_dup)
{
	size_t size = self->page;
	uint32_t crc = 0, got = 0;
	int fd, copy, status;
	pid_t pid;

	fd = heap_alloc(self->heap, size, O_RDWR);
	ASSERT_LE(0, fd);
	crc = fill(fd, size, 9);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(edu_to_device(self->edu32, fd, 0, size, &got) || got != crc);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	copy = dup(fd);
	ASSERT_LE(0, copy);
	close(fd);
	ASSERT_EQ(0, edu_to_device(self->edu32, copy, 0, size, &got));
	EXPECT_EQ(crc, got);
	close(copy);
}

/*
 * A buffer of several DMA segments (the device takes at most 64 KiB in
 * one): a transfer across a segment's end is cut there and continues at
 * the next one, preferably across a gap between the segments.
 */
TEST_F(edu, across_discontiguous_segments)
{
	struct edu_dmabuf_map_info info;
	size_t size = 17 * self->page;
	uint64_t off, seg_end = 0;
	uint32_t crc = 0;
	int fd = -1, tries;
	bool gap = false;

	/* 16 pages come as one run; the 17th rarely right after it. */
	for (tries = 0; tries < 8 && !gap; tries++) {
		if (fd >= 0)
			close(fd);
		fd = heap_alloc(self->heap, size, O_RDWR);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, edu_map_info(self->edu32, fd, &info));
		map_last(&info, &gap);
	}
	if (info.nr_segs < 2)
		SKIP(return, "one DMA segment (an IOMMU maps the buffer contiguously)");
	TH_LOG("%u segments, %s", info.nr_segs, gap ? "with a gap" : "contiguous");
	for (unsigned int i = 1; i < info.nr_segs; i++) {
		seg_end += info.segs[i - 1].len;
		if (info.segs[i - 1].addr + info.segs[i - 1].len !=
		    info.segs[i].addr)
			break;
	}
	/* 3000 bytes on each side of the segments' end. */
	off = seg_end - 3000;

	ASSERT_EQ(0, edu_from_device(self->edu32, fd, off, 6000, 77));
	EXPECT_TRUE(holds_pattern(fd, size, off, 6000, 77));
	ASSERT_EQ(0, edu_to_device(self->edu32, fd, off, 6000, &crc));
	EXPECT_EQ(pattern_crc(77, 6000), crc);
	close(fd);
}

TEST_F(edu, bad_input)
{
	struct edu_dmabuf_map_info info = {};
	struct edu_dmabuf_attach a = {};
	struct edu_dmabuf_xfer x = {};
	int fd, pipefd[2], null;
	uint32_t crc = 0;

	fd = heap_alloc(self->heap, self->page, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe(pipefd));
	null = open("/dev/null", O_RDWR);
	ASSERT_LE(0, null);

	EXPECT_EQ(-EINVAL, edu_to_device(self->edu32, pipefd[0], 0, 16, &crc));
	EXPECT_EQ(-EINVAL, edu_to_device(self->edu32, null, 0, 16, &crc));
	EXPECT_EQ(-EINVAL, edu_attach(self->edu32, null, true));
	EXPECT_EQ(-EBADF, edu_to_device(self->edu32, -1, 0, 16, &crc));
	EXPECT_EQ(-EBADF, edu_from_device(self->edu32, 999, 0, 16, 1));
	EXPECT_EQ(-EINVAL, edu_to_device(self->edu32, fd, 0, 0, &crc));
	EXPECT_EQ(-EINVAL, edu_to_device(self->edu32, fd, 1, self->page, &crc));
	EXPECT_EQ(-EINVAL, edu_to_device(self->edu32, fd, self->page, 1, &crc));
	EXPECT_EQ(-EINVAL, edu_from_device(self->edu32, fd, UINT64_MAX, 2, 1));
	EXPECT_EQ(-EINVAL, edu_from_device(self->edu32, fd, 2, UINT64_MAX, 1));

	x.fd = fd;
	x.len = 16;
	x.flags = EDU_DMABUF_XFER_VMAP;
	EXPECT_EQ(-1, ioctl(self->edu32, EDU_DMABUF_IOCTL_TO_DEVICE, &x));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->edu32, EDU_DMABUF_IOCTL_FROM_DEVICE, &x));
	EXPECT_EQ(EINVAL, errno);
	x.flags = EDU_DMABUF_XFER_VMAP << 1;
	EXPECT_EQ(-1, ioctl(self->edu32, EDU_DMABUF_IOCTL_KMAP_CRC, &x));
	EXPECT_EQ(EINVAL, errno);
	x.flags = EDU_DMABUF_XFER_VMAP;
	EXPECT_EQ(0, ioctl(self->edu32, EDU_DMABUF_IOCTL_KMAP_CRC, &x));
	EXPECT_EQ(-1, ioctl(self->edu32, EDU_DMABUF_IOCTL_TO_DEVICE, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->edu32, _IO('E', 99)));
	EXPECT_EQ(ENOTTY, errno);

	EXPECT_EQ(-ENOENT, edu_attach(self->edu32, fd, false));
	/* Flags: one known to ATTACH, none to DETACH or MAP_INFO. */
	a.fd = fd;
	a.flags = EDU_DMABUF_ATTACH_ONE_PIECE << 1;
	EXPECT_EQ(-1, ioctl(self->edu32, EDU_DMABUF_IOCTL_ATTACH, &a));
	EXPECT_EQ(EINVAL, errno);
	a.flags = EDU_DMABUF_ATTACH_ONE_PIECE;
	EXPECT_EQ(-1, ioctl(self->edu32, EDU_DMABUF_IOCTL_DETACH, &a));
	EXPECT_EQ(EINVAL, errno);
	info.fd = fd;
	info.flags = EDU_DMABUF_MAP_INFO_PIECES << 1;
	EXPECT_EQ(-1, ioctl(self->edu32, EDU_DMABUF_IOCTL_MAP_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, edu_attach(self->edu32, fd, true));
	EXPECT_EQ(-EEXIST, edu_attach(self->edu32, fd, true));
	EXPECT_EQ(0, edu_attach(self->edu32, fd, false));

	close(null);
	close(pipefd[0]);
	close(pipefd[1]);
	close(fd);
}

/*
 * A buffer whose file is not open for writing can be read by the device,
 * not written: EBADF, as write(2) on such a descriptor.
 */
TEST_F(edu, read_only_buffer_not_written)
{
	struct edu_dmabuf_map_info info;
	unsigned char zero[16] = {};
	uint32_t crc = 0;
	int fd;

	fd = heap_alloc(self->heap, self->page, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBADF, edu_from_device(self->edu32, fd, 0, 16, 7));
	/* Reading works, and the buffer is still as new: zeroes. */
	EXPECT_EQ(0, edu_to_device(self->edu32, fd, 0, 16, &crc));
	EXPECT_EQ(crc32_bytes(zero, sizeof(zero)), crc);
	EXPECT_EQ(0, edu_map_info(self->edu32, fd, &info));
	/* Attached for both directions, it still may not be written. */
	EXPECT_EQ(0, edu_attach(self->edu32, fd, true));
	EXPECT_EQ(-EBADF, edu_from_device(self->edu32, fd, 0, 16, 7));
	EXPECT_EQ(0, edu_attach(self->edu32, fd, false));
	close(fd);
}

/*
 * More memory than a 28-bit device can ever reach, for a buffer attached
 * to it before first use: the use that needs the pages fails with ENOMEM,
 * and quietly (no allocation-failure report in the kernel log).
 */
TEST_F(edu, narrow_device_beyond_its_reach)
{
	struct edu_dmabuf_map_info info;
	size_t size = 320 << 20;
	int fd;

	if (!self->reach28)
		SKIP(return, "%s", unreachable_why(self->path28));
	if (self->path28 == DMA_TRANSLATED)
		SKIP(return, "behind an IOMMU the device reaches all memory");

	fd = heap_alloc(self->heap, size, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, edu_attach(self->edu28, fd, true));
	EXPECT_EQ(-ENOMEM, buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW));
	EXPECT_EQ(-ENOMEM, edu_map_info(self->edu28, fd, &info));
	EXPECT_EQ(0, edu_attach(self->edu28, fd, false));
	close(fd);
}

static void on_alarm(int sig)
{
}

/*
 * A signal during a transfer: the chunk in flight completes, the call
 * either finishes or stops with EINTR, and the device and the buffer are
 * fine afterwards.
 */
TEST_F(edu, signal_during_transfer)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_usec = 250000 } };
	size_t size = 4 * self->page;
	uint32_t crc, got = 0;
	int fd, ret;

	fd = heap_alloc(self->heap, size, O_RDWR);
	ASSERT_LE(0, fd);
	crc = fill(fd, size, 3);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	ret = edu_to_device(self->edu32, fd, 0, size, &got);
	EXPECT_TRUE(ret == 0 || ret == -EINTR) TH_LOG("ret %d", ret);
	if (!ret)
		EXPECT_EQ(crc, got);
	ASSERT_EQ(0, edu_to_device(self->edu32, fd, 0, size, &got));
	EXPECT_EQ(crc, got);
	close(fd);
}

struct xfer_thread {
	int edu, fd, ret;
	size_t size;
	uint32_t crc;
};

static void *run_xfer(void *arg)
{
	struct xfer_thread *t = arg;

	t->ret = edu_to_device(t->edu, t->fd, 0, t->size, &t->crc);
	return NULL;
}

/*
 * The descriptor is closed while the device reads the buffer: the call
 * holds the buffer until the device is done, and the data is intact.
 */
TEST_F(edu, close_during_transfer)
{
	struct xfer_thread t = { .edu = self->edu32, .size = 3 * self->page };
	pthread_t thread;
	uint32_t crc = 0;

	t.fd = heap_alloc(self->heap, t.size, O_RDWR);
	ASSERT_LE(0, t.fd);
	crc = fill(t.fd, t.size, 0x21);
	ASSERT_EQ(0, pthread_create(&thread, NULL, run_xfer, &t));
	usleep(150000);
	EXPECT_EQ(0, close(t.fd));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	EXPECT_EQ(0, t.ret);
	EXPECT_EQ(crc, t.crc);
}

/*
 * Memory without struct page: buffers of the ivshmem heap, carved out of
 * a PCI BAR that SeaBIOS places below 4 GiB but above 256 MiB.
 */
FIXTURE(bar) {
	long page;
	uint64_t bar2;
	int heap, edu28, edu32;
	enum dma_path path28, path32;
};

FIXTURE_SETUP(bar)
{
	const char *why;

	self->page = sysconf(_SC_PAGESIZE);
	why = open_test_bed(IVSHMEM_HEAP, &self->heap, &self->edu28,
			    &self->edu32);
	if (why)
		SKIP(return, "%s", why);
	self->bar2 = ivshmem_bar2();
	ASSERT_NE(0, self->bar2);
	self->path28 = dma_path_of(EDU28_SLOT);
	self->path32 = dma_path_of(EDU32_SLOT);
}

FIXTURE_TEARDOWN(bar)
{
	close_test_bed(self->heap, self->edu28, self->edu32);
}

/* The device's DMA addresses are the BAR's: no RAM, no struct page. */
TEST_F(bar, dma_addresses_are_the_bar)
{
	struct edu_dmabuf_map_info info;
	unsigned int i;
	int fd;

	if (self->path32 == DMA_TRANSLATED)
		SKIP(return, "behind an IOMMU the device sees the BAR at an IOVA");

	fd = heap_alloc(self->heap, 3 * self->page, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, edu_map_info(self->edu32, fd, &info));
	ASSERT_LE(1U, info.nr_segs);
	for (i = 0; i < info.nr_segs; i++) {
		EXPECT_LE(self->bar2, info.segs[i].addr);
		EXPECT_LT(info.segs[i].addr + info.segs[i].len,
			  self->bar2 + (64ULL << 20) + 1);
	}
	EXPECT_LE(LOW_256M, self->bar2) TH_LOG("BAR 2 at %#llx",
					       (unsigned long long)self->bar2);
	close(fd);
}

/*
 * The 28-bit device cannot reach the BAR: refused at attach, ERANGE (a BAR
 * is never bounced). Behind a translating IOMMU it reaches it.
 */
TEST_F(bar, out_of_28bit_reach)
{
	struct edu_dmabuf_map_info info;
	uint32_t crc = 0, got = 0;
	int fd;

	if (self->edu28 < 0)
		SKIP(return, "%s", EDU28_REFUSED_WHY);
	fd = heap_alloc(self->heap, self->page, O_RDWR);
	ASSERT_LE(0, fd);
	if (self->path28 == DMA_TRANSLATED) {
		crc = fill(fd, self->page, 0x2d);
		EXPECT_EQ(0, edu_to_device(self->edu28, fd, 0, self->page, &got));
		EXPECT_EQ(crc, got);
		close(fd);
		return;
	}
	EXPECT_EQ(-ERANGE, edu_attach(self->edu28, fd, true));
	EXPECT_EQ(-ERANGE, edu_to_device(self->edu28, fd, 0, 16, &crc));
	EXPECT_EQ(-ERANGE, edu_from_device(self->edu28, fd, 0, 16, 1));
	EXPECT_EQ(-ERANGE, edu_map_info(self->edu28, fd, &info));
	close(fd);
}

/*
 * A process fills a BAR buffer through its (write-combining) mapping and
 * passes it over SCM_RIGHTS; the 32-bit device reads what it wrote.
 */
TEST_F(bar, scm_rights_to_32bit_device)
{
	size_t size = 3 * self->page;
	uint32_t crc, got = 0;
	int sv[2], status, fd;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sv[1]);
		fd = heap_alloc(self->heap, size, O_RDWR);
		if (fd < 0)
			_exit(2);
		crc = fill(fd, size, 0x3a);
		_exit(send_fd(sv[0], fd, crc) ? 3 : 0);
	}
	close(sv[0]);
	fd = recv_fd(sv[1], &crc);
	ASSERT_LE(0, fd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_EQ(0, edu_to_device(self->edu32, fd, 0, size, &got));
	EXPECT_EQ(crc, got);
	close(fd);
	close(sv[1]);
}

#define PAT_LIST "/sys/kernel/debug/x86/pat_memtype_list"

/* The number of memory-type reservations x86 PAT tracks, or -1. */
static int pat_entries(void)
{
	char line[256];
	int n = 0;
	FILE *f = fopen(PAT_LIST, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

/*
 * Mappings of the BAR cut in pieces, shrunk, moved, grown (refused) and
 * inherited by a child: the bytes stay right, and no memory-type
 * reservation is torn or leaked (x86 PAT complains in the kernel log if
 * one is, which fails the run).
 */
TEST_F(bar, mapping_changes_leave_pat_clean)
{
	size_t page = self->page, size = 16 * page, i;
	unsigned char *p, *q, *moved;
	int fd, before, status;
	pid_t pid;

	before = pat_entries();
	if (before < 0)
		SKIP(return, "%s: %s (x86 with PAT and debugfs)", PAT_LIST,
		     strerror(errno));
	fd = heap_alloc(self->heap, size, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < size; i++)
		p[i] = i / page;

	/* A hole in the middle. */
	ASSERT_EQ(0, munmap(p + 4 * page, 4 * page));
	EXPECT_EQ(3, p[3 * page]);
	EXPECT_EQ(8, p[8 * page]);
	/* The first part shrunk in place. */
	q = mremap(p, 4 * page, 2 * page, 0);
	ASSERT_EQ(p, q);
	EXPECT_EQ(1, q[page]);
	/* The tail moved elsewhere. */
	moved = mmap(NULL, 8 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	ASSERT_NE(MAP_FAILED, moved);
	q = mremap(p + 8 * page, 8 * page, 8 * page,
		   MREMAP_MAYMOVE | MREMAP_FIXED, moved);
	ASSERT_EQ(moved, q);
	EXPECT_EQ(8, moved[0]);
	EXPECT_EQ(15, moved[7 * page]);
	/* Growing past the buffer is refused. */
	EXPECT_EQ(MAP_FAILED, mremap(moved, 8 * page, 9 * page, 0));
	/* A child inherits the pieces, writes, and exits. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		moved[page] = 0x77;
		_exit(p[0] != 0 || moved[2 * page] != 10);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(0x77, moved[page]);

	munmap(p, 2 * page);
	munmap(moved, 8 * page);
	close(fd);
	EXPECT_EQ(before, pat_entries());
}

/* The device writes into the BAR; the mapping and kmap both show it. */
TEST_F(bar, device_writes_seen_by_cpu)
{
	size_t size = 3 * self->page;
	uint32_t crc = 0;
	int fd;

	fd = heap_alloc(self->heap, size, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, edu_from_device(self->edu32, fd, 300, 9000, 0xbadcafe));
	EXPECT_TRUE(holds_pattern(fd, size, 300, 9000, 0xbadcafe));
	ASSERT_EQ(0, edu_kmap_crc(self->edu32, fd, 300, 9000, &crc));
	EXPECT_EQ(pattern_crc(0xbadcafe, 9000), crc);
	close(fd);
}

/*
 * Who sees what, in every combination the coherency rules cover (see
 * "Coherency" in Documentation/driver-api/dma-buf.rst), for both heaps,
 * with the devices attached for the buffer's life or mapping it per
 * transfer. The swiotlb pass of make test bounces every mapping, so that
 * a sync that is missing or in the wrong place loses bytes here.
 */
/* The CRC-32 of bytes [off, off + len) of what fill() writes for @seed. */
static uint32_t fill_crc(unsigned char seed, size_t off, size_t len)
{
	unsigned char *p = malloc(len);
	uint32_t crc;
	size_t i;

	if (!p)
		return 0;
	for (i = 0; i < len; i++)
		p[i] = seed ^ ((off + i) * 131);
	crc = crc32_bytes(p, len);
	free(p);
	return crc;
}

FIXTURE(coherent) {
	size_t size;
	int heap, edu28, edu32, fd;
	bool two;		/* the 28-bit device takes part too */
};

FIXTURE_VARIANT(coherent) {
	const char *heap;
	bool attached;
};

FIXTURE_VARIANT_ADD(coherent, system_attached) { SYSTEM_HEAP, true };
FIXTURE_VARIANT_ADD(coherent, system_per_transfer) { SYSTEM_HEAP, false };
FIXTURE_VARIANT_ADD(coherent, ivshmem_attached) { IVSHMEM_HEAP, true };
FIXTURE_VARIANT_ADD(coherent, ivshmem_per_transfer) { IVSHMEM_HEAP, false };

FIXTURE_SETUP(coherent)
{
	const char *why;

	self->fd = -1;
	why = open_test_bed(variant->heap, &self->heap, &self->edu28,
			    &self->edu32);
	if (why)
		SKIP(return, "%s", why);
	/*
	 * Two pages: several chunks, a page end inside the device's partial
	 * write below, kmap and kmap_atomic on alternate pages. Each chunk
	 * costs the edu device 200 ms, so no more.
	 */
	self->size = 2 * sysconf(_SC_PAGESIZE);
	self->fd = heap_alloc(self->heap, self->size, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	if (variant->attached) {
		ASSERT_EQ(0, edu_attach(self->edu32, self->fd, true));
		/* Before first use, so that the storage lands within its reach. */
		self->two = self->edu28 >= 0 &&
			    !edu_attach(self->edu28, self->fd, true);
	}
}

FIXTURE_TEARDOWN(coherent)
{
	if (self->fd >= 0)
		close(self->fd);
	close_test_bed(self->heap, self->edu28, self->edu32);
}

TEST_F(coherent, every_direction)
{
	size_t size = self->size;
	uint32_t crc, got = 0;

	/* The CPU writes through a mapping, a device reads. */
	crc = fill(self->fd, size, 0x31);
	ASSERT_EQ(0, edu_to_device(self->edu32, self->fd, 0, size, &got));
	EXPECT_EQ(crc, got);

	/* A device writes, the CPU reads through a mapping... */
	ASSERT_EQ(0, edu_from_device(self->edu32, self->fd, 0, size, 0x5151));
	EXPECT_TRUE(holds_pattern(self->fd, size, 0, size, 0x5151));
	/* ...and through the kernel's page mappings and linear mapping. */
	ASSERT_EQ(0, edu_kmap_crc(self->edu32, self->fd, 0, size, &got));
	EXPECT_EQ(pattern_crc(0x5151, size), got);
	ASSERT_EQ(0, edu_vmap_crc(self->edu32, self->fd, 0, size, &got));
	EXPECT_EQ(pattern_crc(0x5151, size), got);

	/* The CPU writes over it: no stale copy of the device's comes back. */
	crc = fill(self->fd, size, 0x47);
	ASSERT_EQ(0, edu_to_device(self->edu32, self->fd, 0, size, &got));
	EXPECT_EQ(crc, got);
	EXPECT_TRUE(holds_fill(self->fd, size, 0x47));

	/* A device writes part of it; the rest is still the CPU's. */
	ASSERT_EQ(0, edu_from_device(self->edu32, self->fd, 100, 5000, 0x77));
	EXPECT_TRUE(holds_pattern(self->fd, size, 100, 5000, 0x77));
	ASSERT_EQ(0, edu_kmap_crc(self->edu32, self->fd, 0, 100, &got));
	EXPECT_EQ(fill_crc(0x47, 0, 100), got);
	ASSERT_EQ(0, edu_kmap_crc(self->edu32, self->fd, 5100, size - 5100, &got));
	EXPECT_EQ(fill_crc(0x47, 5100, size - 5100), got);
	ASSERT_EQ(0, edu_vmap_crc(self->edu32, self->fd, 100, 5000, &got));
	EXPECT_EQ(pattern_crc(0x77, 5000), got);
	ASSERT_EQ(0, edu_vmap_crc(self->edu32, self->fd, 5100, size - 5100, &got));
	EXPECT_EQ(fill_crc(0x47, 5100, size - 5100), got);
	crc = fill(self->fd, size, 0x47);
	ASSERT_EQ(0, edu_to_device(self->edu32, self->fd, 0, size, &got));
	EXPECT_EQ(crc, got);

	if (!self->two) {
		TH_LOG("one device: the 28-bit device does not reach this buffer here");
		return;
	}
	/* Two devices in turn: each reads what the other wrote. */
	ASSERT_EQ(0, edu_from_device(self->edu32, self->fd, 0, size, 0x33));
	ASSERT_EQ(0, edu_to_device(self->edu28, self->fd, 0, size, &got));
	EXPECT_EQ(pattern_crc(0x33, size), got);
	ASSERT_EQ(0, edu_from_device(self->edu28, self->fd, 0, size, 0x28));
	ASSERT_EQ(0, edu_to_device(self->edu32, self->fd, 0, size, &got));
	EXPECT_EQ(pattern_crc(0x28, size), got);
	EXPECT_TRUE(holds_pattern(self->fd, size, 0, size, 0x28));
}

TEST_HARNESS_MAIN
