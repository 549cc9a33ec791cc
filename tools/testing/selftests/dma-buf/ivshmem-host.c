// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one check that does not trust the guest: the 32-bit edu device
 * writes a seeded pattern into a buffer of the ivshmem heap, whose memory
 * is a file on the host. The CPU writes a random marker into the same
 * buffer, and this program tells the host what to look for, on its
 * output:
 *
 *	HOST-CHECK ivshmem marker=<hex> at=<byte> offset=<byte> len=<bytes>
 *		seed=<seed>
 *
 * After the guest powers off, the harness finds the marker in the file
 * (the buffer starts "at" bytes before it) and compares the bytes at
 * "offset" in the buffer with the device's pattern. Nothing depends on
 * the device's address for the buffer, which an IOMMU translates. Run it
 * last: a later allocation from the heap would zero the region.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "dmabuf-util.h"

#define OFFSET	1234
#define LEN	10000

/* The marker ends the buffer, past the device's bytes. */
#define MARKER_LEN	32
/* The ivshmem memory of the test bed (harness/qemu.sh). */
#define BAR2_SIZE	(64ULL << 20)

TEST(device_write_checked_by_host)
{
	struct edu_dmabuf_map_info info;
	size_t size = 4 * sysconf(_SC_PAGESIZE), i;
	int heap, edu, fd, ok = 0;
	unsigned char *p;
	unsigned char marker[MARKER_LEN];
	char hex[2 * MARKER_LEN + 1];
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

	/* The guest's own view first; then the marker. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW));
	for (i = 0; i < LEN; i++)
		ok += p[OFFSET + i] == edu_dmabuf_pattern(seed, i);
	ASSERT_EQ(MARKER_LEN, getrandom(marker, MARKER_LEN, 0));
	memcpy(p + size - MARKER_LEN, marker, MARKER_LEN);
	ASSERT_EQ(0, buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW));
	munmap(p, size);
	EXPECT_EQ(LEN, ok);

	/*
	 * Without a translating IOMMU the device's address for the buffer
	 * is its physical address, in the BAR.
	 */
	ASSERT_EQ(0, edu_map_info(edu, fd, &info));
	if (dma_path_of(EDU32_SLOT) != DMA_TRANSLATED) {
		EXPECT_LE(bar2, info.segs[0].addr);
		EXPECT_GT(bar2 + BAR2_SIZE, info.segs[0].addr);
	}
	for (i = 0; i < MARKER_LEN; i++)
		sprintf(hex + 2 * i, "%02x", marker[i]);
	printf("HOST-CHECK ivshmem marker=%s at=%zu offset=%u len=%u seed=%u\n",
	       hex, size - MARKER_LEN, OFFSET, LEN, seed);
	fflush(stdout);
	close(fd);
	close(edu);
	close(heap);
}

TEST_HARNESS_MAIN
