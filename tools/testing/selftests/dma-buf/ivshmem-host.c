// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one check that does not trust the guest: the 32-bit edu device
 * writes a seeded pattern into a buffer of the ivshmem heap, whose memory
 * is a file on the host, and this program tells the host where to look,
 * on its output:
 *
 *	HOST-CHECK ivshmem offset=<byte in the file> len=<bytes> seed=<seed>
 *
 * After the guest powers off, the harness reads the file and compares.
 * Run it last: a later allocation from the heap would zero the region.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "dmabuf-util.h"

#define OFFSET	1234
#define LEN	10000

TEST(device_write_checked_by_host)
{
	struct edu_dmabuf_map_info info;
	size_t size = 4 * sysconf(_SC_PAGESIZE), i;
	int heap, edu, fd, ok = 0;
	unsigned char *p;
	uint64_t bar2;
	uint32_t seed;

	heap = open(IVSHMEM_HEAP, O_RDONLY | O_CLOEXEC);
	if (heap < 0)
		SKIP(return, "%s: %s (needs CONFIG_DMABUF_HEAPS_IVSHMEM, the test bed)",
		     IVSHMEM_HEAP, strerror(errno));
	edu = open(EDU32, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, edu) TH_LOG("%s: %s", EDU32, strerror(errno));
	bar2 = ivshmem_bar2();
	ASSERT_NE(0, bar2);

	/* A seed of this run: a file left by an earlier one cannot pass. */
	seed = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
	fd = heap_alloc(heap, size, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, edu_from_device(edu, fd, OFFSET, LEN, seed));

	/* The guest's own view first. */
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	for (i = 0; i < LEN; i++)
		ok += p[OFFSET + i] == edu_dmabuf_pattern(seed, i);
	ASSERT_EQ(0, buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	munmap(p, size);
	EXPECT_EQ(LEN, ok);

	/* The buffer's place in the BAR is its place in the host's file. */
	ASSERT_EQ(0, edu_map_info(edu, fd, &info));
	ASSERT_LE(bar2, info.segs[0].addr);
	printf("HOST-CHECK ivshmem offset=%llu len=%u seed=%u\n",
	       (unsigned long long)(info.segs[0].addr - bar2 + OFFSET), LEN,
	       seed);
	fflush(stdout);
	close(fd);
	close(edu);
	close(heap);
}

TEST_HARNESS_MAIN
