// SPDX-License-Identifier: GPL-2.0-only
/*
 * Moving a buffer's storage under its users: the debugfs control
 * (dma_buf/move), the bytes a move keeps, the frames it changes, and
 * processes writing through mmap() on both CPUs while the storage moves
 * again and again. Needs root (debugfs, frame numbers in pagemap).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/memfd.h>
#include <linux/udmabuf.h>

#include "../kselftest_harness.h"
#include "dmabuf-util.h"

#define BUF_SIZE	(1024 * 1024)
#define WRITERS		2
/* Rounds of each writer: every word of its share, written and read back. */
#define ROUNDS		400

FIXTURE(move) {
	long page;
	int heap;
};

FIXTURE_SETUP(move)
{
	self->page = sysconf(_SC_PAGESIZE);
	self->heap = open(SYSTEM_HEAP, O_RDONLY | O_CLOEXEC);
	if (self->heap < 0)
		SKIP(return, "%s: %s (needs CONFIG_DMABUF_HEAPS_SYSTEM)",
		     SYSTEM_HEAP, strerror(errno));
	if (access(MOVE_CONTROL, W_OK))
		SKIP(return, "%s: %s (needs debugfs, mounted, and root)",
		     MOVE_CONTROL, strerror(errno));
}

FIXTURE_TEARDOWN(move)
{
	if (self->heap >= 0)
		close(self->heap);
}

/*
 * The physical address of a buffer's first byte and of its last, as the
 * 32-bit edu device sees them where its DMA addresses are physical: the
 * frames of a VM_PFNMAP mapping are not in /proc/self/pagemap. false
 * where they cannot be seen that way.
 */
static bool storage_span(int fd, uint64_t *first, uint64_t *last)
{
	struct edu_dmabuf_map_info info;
	bool gap, ok;
	int edu;

	if (dma_path_of(EDU32_SLOT) != DMA_DIRECT)
		return false;
	edu = open(EDU32, O_RDWR | O_CLOEXEC);
	if (edu < 0)
		return false;
	ok = !edu_map_info(edu, fd, &info) && info.nr_segs;
	close(edu);
	if (!ok)
		return false;
	*first = info.segs[0].addr;
	*last = map_last(&info, &gap);
	return true;
}

/*
 * Does some memory zone lie wholly at or below @limit? The system heap
 * serves a limit that falls inside a zone by one try in that zone, then
 * from a zone below the limit; with no such zone (arm64's virt, whose
 * 1 GiB of RAM is all ZONE_DMA) a limit inside RAM is best effort.
 */
static bool zone_below(uint64_t limit, long page)
{
	unsigned long long start = 0, spanned = 0;
	bool found = false, have = false;
	char line[256];
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f) && !found) {
		if (!strncmp(line, "Node ", 5)) {
			spanned = 0;
			have = false;
		}
		sscanf(line, " spanned %llu", &spanned);
		if (sscanf(line, " start_pfn: %llu", &start) == 1)
			have = true;
		if (have && spanned) {
			found = (start + spanned) * page - 1 <= limit;
			have = false;
		}
	}
	fclose(f);
	return found;
}

/*
 * A move keeps every byte, seen through a mapping made before it; takes
 * new frames (the old storage is still held while the new one is
 * allocated); honours the limit it is given. A buffer without storage
 * yet has nothing to move.
 */
TEST_F(move, keeps_bytes_and_takes_new_frames)
{
	uint64_t low = lowest_ram(), first = 0, last = 0, moved, end;
	bool seen;
	char limit[32];
	unsigned char *m;
	uint32_t crc;
	int fd;

	fd = heap_alloc(self->heap, BUF_SIZE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	/* Nothing to move yet; the storage is still allocated at first use. */
	EXPECT_EQ(0, move_buffer(fd, NULL));

	crc = fill(fd, BUF_SIZE, 0x3c);
	m = mmap(NULL, BUF_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(crc, crc32_bytes(m, BUF_SIZE));
	seen = storage_span(fd, &first, &last);
	if (!seen)
		TH_LOG("%s",
		       "frames not visible (edu DMA addresses are not physical here): bytes checked only");

	ASSERT_EQ(0, move_buffer(fd, NULL));
	EXPECT_EQ(crc, crc32_bytes(m, BUF_SIZE));
	if (seen) {
		ASSERT_TRUE(storage_span(fd, &moved, &end));
		EXPECT_NE(first, moved);
	}

	/* Below RAM's start + 256 MiB: all of it lies there afterwards. */
	ASSERT_NE(UINT64_MAX, low);
	if (zone_below(low + (256ULL << 20) - 1, self->page)) {
		snprintf(limit, sizeof(limit), "%#llx",
			 (unsigned long long)(low + (256ULL << 20) - 1));
		ASSERT_EQ(0, move_buffer(fd, limit));
		EXPECT_EQ(crc, crc32_bytes(m, BUF_SIZE));
		if (seen) {
			ASSERT_TRUE(storage_span(fd, &moved, &end));
			EXPECT_LE(end, low + (256ULL << 20) - 1);
		}
	} else {
		TH_LOG("%s",
		       "no memory zone lies below RAM's start + 256 MiB here: a limit inside a zone is best effort, not checked");
	}
	EXPECT_TRUE(holds_fill(fd, BUF_SIZE, 0x3c));

	munmap(m, BUF_SIZE);
	close(fd);
}

/* What the control refuses, with the errno dma_buf_move() documents. */
TEST_F(move, bad_requests)
{
	struct udmabuf_create create = { .size = BUF_SIZE };
	int fd, memfd, dev, other;

	fd = heap_alloc(self->heap, BUF_SIZE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, write_file(MOVE_CONTROL, "buffer"));
	EXPECT_EQ(-EINVAL, write_file(MOVE_CONTROL, "\n"));
	EXPECT_EQ(-EBADF, write_file(MOVE_CONTROL, "9999"));
	EXPECT_EQ(-EINVAL, move_buffer(self->heap, NULL));
	/* A limit below which no memory can be: nothing moves. */
	EXPECT_EQ(-ERANGE, move_buffer(fd, "0"));
	close(fd);

	/* Storage that cannot move: the pages of a memfd (udmabuf). */
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev >= 0) {
		memfd = memfd_create("move", MFD_ALLOW_SEALING | MFD_CLOEXEC);
		ASSERT_LE(0, memfd);
		ASSERT_EQ(0, ftruncate(memfd, BUF_SIZE));
		ASSERT_EQ(0, fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK));
		create.memfd = memfd;
		create.flags = UDMABUF_FLAGS_CLOEXEC;
		other = ioctl(dev, UDMABUF_CREATE, &create);
		ASSERT_LE(0, other);
		EXPECT_EQ(-EOPNOTSUPP, move_buffer(other, NULL));
		close(other);
		close(memfd);
		close(dev);
	} else {
		TH_LOG("no /dev/udmabuf (%s): its case not checked",
		       strerror(errno));
	}

	/* Nor a device's memory: the ivshmem BAR. */
	dev = open(IVSHMEM_HEAP, O_RDONLY | O_CLOEXEC);
	if (dev >= 0) {
		other = heap_alloc(dev, self->page, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, other);
		EXPECT_EQ(-EOPNOTSUPP, move_buffer(other, NULL));
		close(other);
		close(dev);
	} else {
		TH_LOG("no %s (%s): its case not checked", IVSHMEM_HEAP,
		       strerror(errno));
	}
}

/*
 * A device that stays attached across moves (its mapping cached by the
 * core between transfers) reads and writes the new storage after each:
 * the core gave its cached mapping back before the move.
 */
TEST_F(move, dma_after_move_reads_new_storage)
{
	size_t len = 2 * self->page;
	unsigned char *m;
	uint32_t crc, got = 0;
	int fd, edu;

	edu = open(EDU32, O_RDWR | O_CLOEXEC);
	if (edu < 0)
		SKIP(return, "%s: %s (needs CONFIG_DMABUF_EDU, the test bed)",
		     EDU32, strerror(errno));
	fd = heap_alloc(self->heap, 16 * self->page, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, edu_attach(edu, fd, true));
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);

	crc = fill(fd, len, 0x11);
	ASSERT_EQ(0, edu_to_device(edu, fd, 0, len, &got));
	ASSERT_EQ(crc, got);

	ASSERT_EQ(0, move_buffer(fd, NULL));
	crc = fill(fd, len, 0x22);
	ASSERT_EQ(0, edu_to_device(edu, fd, 0, len, &got));
	EXPECT_EQ(crc, got) TH_LOG("the device read stale storage after a move");

	ASSERT_EQ(0, move_buffer(fd, NULL));
	ASSERT_EQ(0, edu_from_device(edu, fd, 0, len, 33));
	ASSERT_EQ(0, buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(pattern_crc(33, len), crc32_bytes(m, len));
	EXPECT_EQ(0, buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	/* And the device's bytes move along with the rest. */
	ASSERT_EQ(0, move_buffer(fd, NULL));
	EXPECT_EQ(pattern_crc(33, len), crc32_bytes(m, len));

	EXPECT_EQ(0, edu_attach(edu, fd, false));
	munmap(m, len);
	close(fd);
	close(edu);
}

struct writer {
	pthread_t thread;
	uint32_t *words;
	size_t n_words;
	unsigned int id, cpu;
	size_t lost;		/* words that did not read back */
	size_t first_lost;
	uint32_t got, want;
};

static atomic_bool writers_done;

/*
 * Word i belongs to writer i % WRITERS. Each round writes every word of
 * the writer's share, then reads each back: a write that landed in the
 * old storage after the copy would read back as the previous round's.
 */
static void *write_rounds(void *arg)
{
	struct writer *w = arg;
	cpu_set_t set;
	unsigned int r;
	uint32_t v;
	size_t i;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	for (r = 1; r <= ROUNDS; r++) {
		/* Atomic accesses: each one reaches memory, in order. */
		for (i = w->id; i < w->n_words; i += WRITERS)
			__atomic_store_n(&w->words[i], r << 8 | w->id,
					 __ATOMIC_RELAXED);
		for (i = w->id; i < w->n_words; i += WRITERS) {
			v = __atomic_load_n(&w->words[i], __ATOMIC_RELAXED);
			if (v != (r << 8 | w->id) && !w->lost++) {
				w->first_lost = i;
				w->got = v;
				w->want = r << 8 | w->id;
			}
		}
	}
	return NULL;
}

static void *move_until_done(void *arg)
{
	int fd = *(int *)arg;
	long moves = 0, failed = 0;

	while (!atomic_load(&writers_done)) {
		if (move_buffer(fd, NULL))
			failed++;
		else
			moves++;
	}
	return (void *)(failed ? -failed : moves);
}

/*
 * Two threads, one on each CPU, write through one mapping while a third
 * moves the storage as fast as it can: no write is lost, every move
 * succeeds, and afterwards the buffer holds the last round of both.
 */
TEST_F(move, writers_on_both_cpus_lose_nothing)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN), moves;
	struct writer w[WRITERS];
	pthread_t mover;
	size_t i, lost = 0;
	unsigned int k;
	uint32_t *m;
	void *ret;
	int fd;

	fd = heap_alloc(self->heap, BUF_SIZE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	m = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	if (cpus < 2)
		TH_LOG("one CPU online: the writers share it");

	atomic_store(&writers_done, false);
	ASSERT_EQ(0, pthread_create(&mover, NULL, move_until_done, &fd));
	for (k = 0; k < WRITERS; k++) {
		w[k] = (struct writer){
			.words = m, .n_words = BUF_SIZE / sizeof(*m),
			.id = k, .cpu = cpus > 1 ? k % cpus : 0,
		};
		ASSERT_EQ(0, pthread_create(&w[k].thread, NULL, write_rounds,
					    &w[k]));
	}
	for (k = 0; k < WRITERS; k++)
		pthread_join(w[k].thread, NULL);
	atomic_store(&writers_done, true);
	pthread_join(mover, &ret);
	moves = (long)ret;

	EXPECT_LT(0, moves) TH_LOG("%ld moves failed", -moves);
	for (k = 0; k < WRITERS; k++) {
		if (w[k].lost)
			TH_LOG("writer %u: %zu words lost, first word %zu: %#x, wrote %#x",
			       k, w[k].lost, w[k].first_lost, w[k].got,
			       w[k].want);
		lost += w[k].lost;
	}
	EXPECT_EQ(0, lost);
	for (i = 0; i < BUF_SIZE / sizeof(*m); i++)
		if (m[i] != (ROUNDS << 8 | (uint32_t)(i % WRITERS)))
			break;
	EXPECT_EQ(BUF_SIZE / sizeof(*m), i)
		TH_LOG("word %zu holds %#x after the writers", i, m[i]);
	TH_LOG("%ld moves during %d rounds of %d writers", moves, ROUNDS,
	       WRITERS);

	munmap(m, BUF_SIZE);
	close(fd);
}

TEST_HARNESS_MAIN
