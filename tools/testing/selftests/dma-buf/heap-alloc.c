// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every heap from userspace: every rule of DMA_HEAP_IOCTL_ALLOC, zeroed
 * buffers, and the heap module's lifetime. Run for the system heap and for
 * the ivshmem heap (memory without struct page).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "dmabuf-util.h"

FIXTURE(heap) {
	long page;
	int heap;
};

FIXTURE_VARIANT(heap) {
	const char *path;
	const char *module;
};

FIXTURE_VARIANT_ADD(heap, system) {
	.path = SYSTEM_HEAP,
	.module = "system_heap",
};

FIXTURE_VARIANT_ADD(heap, ivshmem) {
	.path = IVSHMEM_HEAP,
	.module = "ivshmem_heap",
};

FIXTURE_SETUP(heap)
{
	self->page = sysconf(_SC_PAGESIZE);
	self->heap = open(variant->path, O_RDONLY | O_CLOEXEC);
	if (self->heap < 0)
		SKIP(return, "%s: %s (needs the %s module and its device)",
		     variant->path, strerror(errno), variant->module);
}

FIXTURE_TEARDOWN(heap)
{
	if (self->heap >= 0)
		close(self->heap);
}

static int alloc_data(int heap, struct dma_heap_allocation_data *data)
{
	return ioctl(heap, DMA_HEAP_IOCTL_ALLOC, data) ? -errno : 0;
}

TEST_F(heap, length_rounded_up_to_pages)
{
	int fd = heap_alloc(self->heap, 2 * self->page + 1, O_RDWR);

	ASSERT_LE(0, fd);
	EXPECT_EQ(3 * self->page, lseek(fd, 0, SEEK_END));
	close(fd);
	fd = heap_alloc(self->heap, 1, O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(self->page, lseek(fd, 0, SEEK_END));
	close(fd);
}

TEST_F(heap, bad_requests)
{
	struct dma_heap_allocation_data data;
	int before = lowest_free_fd();

	data = (struct dma_heap_allocation_data){ .len = 4096, .fd = 1,
						  .fd_flags = O_RDWR };
	EXPECT_EQ(-EINVAL, alloc_data(self->heap, &data)) TH_LOG("fd != 0");
	data = (struct dma_heap_allocation_data){ .len = 4096,
						  .fd_flags = O_RDWR | O_NONBLOCK };
	EXPECT_EQ(-EINVAL, alloc_data(self->heap, &data)) TH_LOG("O_NONBLOCK");
	data = (struct dma_heap_allocation_data){ .len = 4096,
						  .fd_flags = O_RDWR,
						  .heap_flags = 1 };
	EXPECT_EQ(-EINVAL, alloc_data(self->heap, &data)) TH_LOG("heap flag");
	data = (struct dma_heap_allocation_data){ .len = 0,
						  .fd_flags = O_RDWR };
	EXPECT_EQ(-EINVAL, alloc_data(self->heap, &data)) TH_LOG("len 0");
	data = (struct dma_heap_allocation_data){ .len = UINT64_MAX - 10,
						  .fd_flags = O_RDWR };
	EXPECT_EQ(-EINVAL, alloc_data(self->heap, &data)) TH_LOG("len wraps");

	/* Unknown requests. */
	EXPECT_EQ(-1, ioctl(self->heap, _IOWR(DMA_HEAP_IOC_MAGIC, 1,
					      struct dma_heap_allocation_data),
			    &data));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->heap, _IO('x', 0)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->heap, DMA_HEAP_IOCTL_ALLOC, NULL));
	EXPECT_EQ(EFAULT, errno);

	EXPECT_EQ(before, lowest_free_fd());
}

/* More than the machine has: refused at once, without trying. */
TEST_F(heap, more_than_memory)
{
	struct dma_heap_allocation_data data = {
		.len = 1ULL << 50, .fd_flags = O_RDWR,
	};

	EXPECT_EQ(-ENOMEM, alloc_data(self->heap, &data));
	data.len = (uint64_t)sysconf(_SC_PHYS_PAGES) * self->page + self->page;
	EXPECT_EQ(-ENOMEM, alloc_data(self->heap, &data));
}

/* A program built with a shorter structure: missing fields are zero. */
TEST_F(heap, older_shorter_struct)
{
	struct {
		uint64_t len;
		uint32_t fd;
		uint32_t fd_flags;
	} old = { .len = 4096, .fd_flags = O_RDWR | O_CLOEXEC };
	int fd;

	ASSERT_EQ(0, ioctl(self->heap, _IOWR(DMA_HEAP_IOC_MAGIC, 0, old), &old));
	fd = old.fd;
	ASSERT_LT(0, fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

/*
 * One too short to hold the fd field: the new descriptor could not be
 * reported, so nothing is allocated and no descriptor appears.
 */
TEST_F(heap, struct_without_fd_field)
{
	uint64_t len = 4096;
	int next = lowest_free_fd(), before = live_buffers();

	EXPECT_EQ(-1, ioctl(self->heap, _IOWR(DMA_HEAP_IOC_MAGIC, 0, len), &len));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(next, lowest_free_fd());
	if (before >= 0)
		EXPECT_EQ(before, live_buffers());
}

/* A longer one: the unknown tail is neither read nor written. */
TEST_F(heap, newer_longer_struct)
{
	struct {
		struct dma_heap_allocation_data data;
		uint64_t future[3];
	} big = {
		.data = { .len = 4096, .fd_flags = O_RDWR },
		.future = { 0xffffffff, 0x88888888, 0x11111111 },
	};

	ASSERT_EQ(0, ioctl(self->heap, _IOWR(DMA_HEAP_IOC_MAGIC, 0, big), &big));
	EXPECT_LT(0, big.data.fd);
	EXPECT_EQ(0xffffffffULL, big.future[0]);
	EXPECT_EQ(0x88888888ULL, big.future[1]);
	EXPECT_EQ(0x11111111ULL, big.future[2]);
	close(big.data.fd);
}

/* The result cannot be written back: EFAULT, and no descriptor appears. */
TEST_F(heap, read_only_argument)
{
	struct dma_heap_allocation_data *data;
	int before = lowest_free_fd();

	data = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, data);
	data->len = 4096;
	data->fd_flags = O_RDWR;
	ASSERT_EQ(0, mprotect(data, self->page, PROT_READ));
	EXPECT_EQ(-EFAULT, alloc_data(self->heap, data));
	EXPECT_EQ(0U, data->fd);
	EXPECT_EQ(before, lowest_free_fd());
	munmap(data, self->page);
}

TEST_F(heap, fd_flags)
{
	int fd;

	fd = heap_alloc(self->heap, 4096, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	close(fd);

	fd = heap_alloc(self->heap, 4096, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	/* A read-only buffer maps for reading only. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				   MAP_SHARED, fd, 0));
	EXPECT_EQ(EACCES, errno);
	EXPECT_NE(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0));
	close(fd);

	/*
	 * Every bit of O_ACCMODE, as Linux 6.12 takes it (open(2)'s value 3):
	 * a descriptor for ioctls and passing only, which maps neither way.
	 */
	fd = heap_alloc(self->heap, 4096, O_ACCMODE | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(O_ACCMODE, fcntl(fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0, buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(0, buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	close(fd);
}

/* Freed memory never leaks into a new buffer. */
TEST_F(heap, new_buffers_read_zero)
{
	size_t size = 64 * self->page, i;
	unsigned char *p;
	int round, fd;

	for (round = 0; round < 2; round++) {
		fd = heap_alloc(self->heap, size, O_RDWR);
		ASSERT_LE(0, fd);
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, p);
		ASSERT_EQ(0, buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW));
		for (i = 0; i < size; i++) {
			ASSERT_EQ(0, p[i])
				TH_LOG("round %d, byte %zu", round, i);
		}
		memset(p, 0xee, size);
		ASSERT_EQ(0, buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW));
		munmap(p, size);
		close(fd);
	}
}

/*
 * The system heap maps a page table's worth of a buffer at the first
 * touch (up to 2 MiB on x86-64), not a page per fault: touching every
 * page of 1 MiB faults at most twice (the mapping may straddle two page
 * tables), where a fault per page would be 256 faults. Both rounds: a
 * new buffer, and one whose storage is already there.
 */
TEST_F(heap, system_first_touch_maps_in_one_go)
{
	size_t size = 1 << 20, i;
	long before, faults;
	char *p;
	int round, fd;

	if (strcmp(variant->module, "system_heap"))
		SKIP(return, "the ivshmem heap maps its BAR at mmap() time");
	fd = heap_alloc(self->heap, size, O_RDWR);
	ASSERT_LE(0, fd);
	for (round = 0; round < 2; round++) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, p);
		before = minor_faults();
		for (i = 0; i < size; i += self->page)
			p[i] = (char)(i / self->page);
		faults = minor_faults() - before;
		EXPECT_GE(2, faults) TH_LOG("round %d: %ld faults for %zu pages",
					    round, faults, size / self->page);
		for (i = 0; i < size; i += self->page) {
			ASSERT_EQ((char)(i / self->page), p[i])
				TH_LOG("round %d, page %zu", round,
				       i / self->page);
		}
		munmap(p, size);
	}
	close(fd);
}

/*
 * Mappings at different offsets of one buffer see the same pages. The
 * system heap keeps its storage as runs of 256, 16 and single pages and
 * maps a page table's worth at each fault, in batches: a buffer of
 * 256 + 256 + 16 + 1 pages has a run of each length, and mappings that
 * start at its second run, in its 16-page run and at its last page make
 * the fault handler start at each of them. Every page is written through
 * a mapping of the whole buffer and read through the others.
 */
TEST_F(heap, mappings_at_offsets_agree)
{
	static const size_t starts[] = { 256, 300, 512, 520, 528 };
	size_t n = 256 + 256 + 16 + 1, pg = self->page, i, k, len;
	unsigned int *p, *q;
	int fd;

	fd = heap_alloc(self->heap, n * pg, O_RDWR);
	ASSERT_LE(0, fd);
	p = mmap(NULL, n * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < n; i++)
		p[i * pg / sizeof(*p) + 1] = 0x0ff50000 + i;
	for (k = 0; k < ARRAY_SIZE(starts); k++) {
		len = (n - starts[k]) * pg;
		q = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, starts[k] * pg);
		ASSERT_NE(MAP_FAILED, q);
		for (i = 0; i < n - starts[k]; i++) {
			ASSERT_EQ(0x0ff50000 + starts[k] + i,
				  q[i * pg / sizeof(*q) + 1])
				TH_LOG("mapping from page %zu, its page %zu",
				       starts[k], i);
		}
		munmap(q, len);
	}
	munmap(p, n * pg);
	close(fd);
}

/*
 * A mapping laid over part of another inside one page table's window
 * (mmap() with MAP_FIXED of one page, at the buffer's same page or at
 * another) faults in on its own: the heap's window insert is cut to the
 * mapping, maps the page of the buffer that the mapping's offset names,
 * and leaves the entries of the mapping around it as they are. A move
 * (debugfs, as root) then zaps them all, and each mapping faults back its
 * own pages. Writes through every mapping land in the buffer, as a second
 * mapping shows.
 */
TEST_F(heap, system_mappings_inside_a_window_fault_alone)
{
	size_t size = 1 << 20, i, pg = self->page;
	char *p, *q, *r;
	int fd, round;

	if (strcmp(variant->module, "system_heap"))
		SKIP(return, "the ivshmem heap inserts a page per fault");
	fd = heap_alloc(self->heap, size, O_RDWR);
	ASSERT_LE(0, fd);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < size; i += pg)
		p[i] = (char)(i / pg);

	for (round = 0; round < 2; round++) {
		/* Page 5 over itself, page 0 over itself, page 9 at 7. */
		q = mmap(p + 5 * pg, pg, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd, 5 * pg);
		ASSERT_EQ(p + 5 * pg, q);
		r = mmap(p, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 fd, 0);
		ASSERT_EQ(p, r);
		r = mmap(p + 7 * pg, pg, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd, 9 * pg);
		ASSERT_EQ(p + 7 * pg, r);
		EXPECT_EQ(5, p[5 * pg]);
		p[5 * pg + 1] = 0x55;
		EXPECT_EQ(0, p[0]);
		p[1] = 0x5a;
		EXPECT_EQ(9, p[7 * pg]);
		p[7 * pg + 1] = 0x77;
		EXPECT_EQ(6, p[6 * pg]);
		EXPECT_EQ(8, p[8 * pg]);
		/* Then every mapping faults in again, from nothing. */
		if (round || access(MOVE_CONTROL, W_OK))
			break;
		ASSERT_EQ(0, move_buffer(fd, NULL));
	}

	q = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	for (i = 0; i < size; i += pg)
		ASSERT_EQ((char)(i / pg), q[i]) TH_LOG("page %zu", i / pg);
	EXPECT_EQ(0x55, q[5 * pg + 1]);
	EXPECT_EQ(0x5a, q[1]);
	EXPECT_EQ(0x77, q[9 * pg + 1]);
	munmap(q, size);
	munmap(p, size);
	close(fd);
}

/*
 * Faults on a system heap mapping run under the mapping's own lock and are
 * not retried under mmap_lock, which the mm core does for every fault of a
 * mapping whose operations have no map_pages. The kernel counts the
 * retries (vma_lock_retry in /proc/vmstat, CONFIG_PER_VMA_LOCK_STATS).
 * Each round maps the buffer anew and takes a write fault (the fault
 * handler) and, after a move zapped the mapping (the debugfs control: a
 * buffer's mapping is refused MADV_DONTNEED), a read fault (fault-around
 * first, which maps the window while the page table is there): 128 faults
 * in all, each of them a retry if the heap needed mmap_lock. The read
 * faults must find the data the write faults left.
 */
TEST_F(heap, system_faults_not_retried_under_mmap_lock)
{
	size_t size = 1 << 20, pg = self->page;
	long retries, ok, faults;
	int round, fd;
	char *p;

	if (strcmp(variant->module, "system_heap"))
		SKIP(return, "the ivshmem heap maps its BAR at mmap() time");
	if (vmstat_counter("vma_lock_retry") < 0)
		SKIP(return, "no vma_lock_retry in /proc/vmstat (needs CONFIG_PER_VMA_LOCK_STATS)");
	if (access(MOVE_CONTROL, W_OK))
		SKIP(return, "%s: %s (needs debugfs, mounted, and root)",
		     MOVE_CONTROL, strerror(errno));
	fd = heap_alloc(self->heap, size, O_RDWR);
	ASSERT_LE(0, fd);

	retries = vmstat_counter("vma_lock_retry");
	ok = vmstat_counter("vma_lock_success");
	faults = minor_faults();
	for (round = 0; round < 64; round++) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, p);
		p[round * pg] = (char)round;
		ASSERT_EQ(0, move_buffer(fd, NULL));
		ASSERT_EQ((char)round, p[round * pg]);
		munmap(p, size);
	}
	faults = minor_faults() - faults;
	retries = vmstat_counter("vma_lock_retry") - retries;
	ok = vmstat_counter("vma_lock_success") - ok;
	close(fd);

	EXPECT_LE(128, faults);
	EXPECT_LE(128, ok) TH_LOG("%ld faults, %ld under the VMA lock", faults, ok);
	/* Allow for another process's retries, not one per fault of ours. */
	EXPECT_GT(faults / 4, retries)
		TH_LOG("%ld faults, %ld retried", faults, retries);
}

static int unload(const char *name)
{
	return syscall(__NR_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

/*
 * The heap module stays while one of its buffers lives, whether through
 * a descriptor or a mapping alone, and goes once the last one is gone.
 * Runs last: it unloads and reloads the heap.
 */
TEST_F(heap, module_pinned_by_buffers)
{
	char cmd[64];
	void *map;
	int fd;

	fd = heap_alloc(self->heap, 4096, O_RDWR);
	ASSERT_LE(0, fd);
	/* The open device node pins the module too. */
	EXPECT_EQ(-EWOULDBLOCK, unload(variant->module));
	close(self->heap);
	self->heap = -1;

	EXPECT_EQ(-EWOULDBLOCK, unload(variant->module));
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	close(fd);
	EXPECT_EQ(-EWOULDBLOCK, unload(variant->module)) TH_LOG("mapping only");
	munmap(map, 4096);

	ASSERT_EQ(0, unload(variant->module));
	EXPECT_EQ(-1, access(variant->path, F_OK));
	snprintf(cmd, sizeof(cmd), "modprobe %s", variant->module);
	ASSERT_EQ(0, system(cmd));
	EXPECT_EQ(0, access(variant->path, F_OK));
}

TEST_HARNESS_MAIN
