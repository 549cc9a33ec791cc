// SPDX-License-Identifier: GPL-2.0-only
/*
 * The dma-buf file interface, from userspace, on buffers of the system
 * heap: size, mmap bounds, DMA_BUF_IOCTL_SYNC, DMA_BUF_SET_NAME, fdinfo,
 * /proc/<pid>/fd, the debugfs listing, and buffers shared through fork(),
 * dup() and SCM_RIGHTS.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "dmabuf-util.h"

#define PAGES 4

FIXTURE(buf) {
	long page;
	size_t size;
	int fd;
};

FIXTURE_SETUP(buf)
{
	int heap = open(SYSTEM_HEAP, O_RDONLY | O_CLOEXEC);

	if (heap < 0)
		SKIP(return, "%s: %s (needs CONFIG_DMABUF_HEAPS_SYSTEM)",
		     SYSTEM_HEAP, strerror(errno));
	self->page = sysconf(_SC_PAGESIZE);
	self->size = PAGES * self->page;
	self->fd = heap_alloc(heap, self->size, O_RDWR | O_CLOEXEC);
	close(heap);
	ASSERT_LE(0, self->fd) TH_LOG("alloc: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(buf)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(buf, size_by_lseek_and_fstat)
{
	struct stat st;

	EXPECT_EQ((off_t)self->size, lseek(self->fd, 0, SEEK_END));
	EXPECT_EQ(0, lseek(self->fd, 0, SEEK_SET));
	EXPECT_EQ(-1, lseek(self->fd, 0, SEEK_CUR));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, lseek(self->fd, 1, SEEK_SET));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, lseek(self->fd, -1, SEEK_END));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_EQ((off_t)self->size, st.st_size);
}

TEST_F(buf, mmap_inside_only)
{
	void *p;

	p = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, munmap(p, self->size));

	p = mmap(NULL, self->page, PROT_READ, MAP_SHARED, self->fd,
		 (PAGES - 1) * self->page);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, munmap(p, self->page));

	/* One page too many, an offset at the end, a private mapping. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, self->size + self->page, PROT_READ,
				   MAP_SHARED, self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, self->page, PROT_READ, MAP_SHARED,
				   self->fd, self->size));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, self->page, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
}

/* No page past the end is reachable, even by growing a mapping. */
TEST_F(buf, mremap_cannot_grow)
{
	void *p, *q;

	p = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	q = mremap(p, self->size, self->size + self->page, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, q);
	EXPECT_EQ(EFAULT, errno);
	q = mremap(p, self->size, self->size + self->page, 0);
	EXPECT_EQ(MAP_FAILED, q);
	/* Shrinking is fine. */
	q = mremap(p, self->size, self->page, 0);
	ASSERT_EQ(p, q);
	EXPECT_EQ(0, munmap(q, self->page));
}

/*
 * A private mapping that is never written is only a view: allowed, and it
 * shows the buffer's bytes; it can never be made writable.
 */
TEST_F(buf, private_read_only_view)
{
	unsigned char *w, *r;

	w = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, w);
	r = mmap(NULL, self->size, PROT_READ, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, r) TH_LOG("private read-only mmap: %s",
					strerror(errno));
	ASSERT_EQ(0, buf_sync(self->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
	w[0] = 0x42;
	w[self->size - 1] = 0x24;
	ASSERT_EQ(0, buf_sync(self->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));
	EXPECT_EQ(0x42, r[0]);
	EXPECT_EQ(0x24, r[self->size - 1]);
	EXPECT_EQ(-1, mprotect(r, self->size, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	munmap(r, self->size);
	munmap(w, self->size);
}

TEST_F(buf, data_through_mappings)
{
	unsigned char *a, *b;
	size_t i;

	a = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, a);
	b = mmap(NULL, self->size, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, b);

	ASSERT_EQ(0, buf_sync(self->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW));
	for (i = 0; i < self->size; i++) {
		ASSERT_EQ(0, a[i])
			TH_LOG("new buffer not zero at %zu", i);
	}
	for (i = 0; i < self->size; i++)
		a[i] = i * 7 + 3;
	ASSERT_EQ(0, buf_sync(self->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW));

	/* The other mapping, and a fresh one, see the same memory. */
	for (i = 0; i < self->size; i++) {
		ASSERT_EQ((unsigned char)(i * 7 + 3), b[i])
			TH_LOG("byte %zu", i);
	}
	munmap(a, self->size);
	a = mmap(NULL, self->size, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(0, memcmp(a, b, self->size));
	munmap(a, self->size);
	munmap(b, self->size);
}

TEST_F(buf, sync_flags)
{
	static const uint64_t bad[] = {
		DMA_BUF_SYNC_START, DMA_BUF_SYNC_END, DMA_BUF_SYNC_RW | 8,
		DMA_BUF_SYNC_RW | (1ULL << 63), ~0ULL,
	};
	static const uint64_t good[] = {
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ,
		DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE,
		DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW,
		DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, buf_sync(self->fd, bad[i]))
			TH_LOG("flags %#llx", (unsigned long long)bad[i]);
	}
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		EXPECT_EQ(0, buf_sync(self->fd, good[i]))
			TH_LOG("flags %#llx", (unsigned long long)good[i]);
	}
	EXPECT_EQ(-1, ioctl(self->fd, DMA_BUF_IOCTL_SYNC, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO('b', 9)));
	EXPECT_EQ(ENOTTY, errno);
}

/* The value of "key:\t" in /proc/self/fdinfo/<fd>, or "" if absent. */
/* The value of fdinfo's line @key into @val; false if there is none. */
static bool read_fdinfo(int fd, const char *key, char *val, size_t len)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	val[0] = '\0';
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':' &&
		    line[klen + 1] == '\t') {
			snprintf(val, len, "%s", line + klen + 2);
			val[strcspn(val, "\n")] = '\0';
			found = true;
		}
	}
	fclose(f);
	return found;
}

TEST_F(buf, name_fdinfo_and_link)
{
	char val[64], link[64], path[64], expect[32];
	int dup_fd;
	ssize_t n;

	snprintf(expect, sizeof(expect), "%zu", self->size);
	read_fdinfo(self->fd, "size", val, sizeof(val));
	EXPECT_STREQ(expect, val);
	read_fdinfo(self->fd, "count", val, sizeof(val));
	EXPECT_STREQ("1", val);
	read_fdinfo(self->fd, "exp_name", val, sizeof(val));
	EXPECT_STREQ("system", val);
	/* Never named: no name line, as in Linux 6.12. */
	EXPECT_FALSE(read_fdinfo(self->fd, "name", val, sizeof(val)));

	EXPECT_EQ(0, ioctl(self->fd, DMA_BUF_SET_NAME, "camera-frame"));
	read_fdinfo(self->fd, "name", val, sizeof(val));
	EXPECT_STREQ("camera-frame", val);

	/* 31 characters fit, 32 do not and leave the old name. */
	EXPECT_EQ(0, ioctl(self->fd, DMA_BUF_SET_NAME,
			   "0123456789abcdefghijklmnopqrstu"));
	EXPECT_EQ(-1, ioctl(self->fd, DMA_BUF_SET_NAME,
			    "0123456789abcdefghijklmnopqrstuv"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, DMA_BUF_SET_NAME, NULL));
	EXPECT_EQ(EFAULT, errno);
	read_fdinfo(self->fd, "name", val, sizeof(val));
	EXPECT_STREQ("0123456789abcdefghijklmnopqrstu", val);

	/*
	 * A control character would forge lines in fdinfo and debugfs:
	 * refused, and the old name stays. UTF-8 is fine.
	 */
	EXPECT_EQ(-1, ioctl(self->fd, DMA_BUF_SET_NAME, "x\nname:\tforged"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, DMA_BUF_SET_NAME, "bell\a"));
	EXPECT_EQ(EINVAL, errno);
	read_fdinfo(self->fd, "name", val, sizeof(val));
	EXPECT_STREQ("0123456789abcdefghijklmnopqrstu", val);
	EXPECT_EQ(0, ioctl(self->fd, DMA_BUF_SET_NAME, "cam\xc3\xa9ra"));
	read_fdinfo(self->fd, "name", val, sizeof(val));
	EXPECT_STREQ("cam\xc3\xa9ra", val);

	/* Both request numbers, whatever this program's pointer size. */
	EXPECT_EQ(0, ioctl(self->fd, DMA_BUF_SET_NAME_A, "a"));
	EXPECT_EQ(0, ioctl(self->fd, DMA_BUF_SET_NAME_B, "b"));
	read_fdinfo(self->fd, "name", val, sizeof(val));
	EXPECT_STREQ("b", val);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", self->fd);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = '\0';
	EXPECT_STREQ("/dmabuf:b", link);

	dup_fd = dup(self->fd);
	ASSERT_LE(0, dup_fd);
	read_fdinfo(self->fd, "count", val, sizeof(val));
	EXPECT_STREQ("2", val);
	close(dup_fd);

	/* An empty name is a name, and fdinfo shows it empty (as 6.12). */
	EXPECT_EQ(0, ioctl(self->fd, DMA_BUF_SET_NAME, ""));
	EXPECT_TRUE(read_fdinfo(self->fd, "name", val, sizeof(val)));
	EXPECT_STREQ("", val);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = '\0';
	EXPECT_STREQ("/dmabuf:", link);
}

/*
 * Later kernels' fence ioctls (Linux 5.20's sync_file export and import)
 * are not part of this design, which has no fences: ENOTTY, as for any
 * request a file does not know, so that userspace falls back to
 * DMA_BUF_IOCTL_SYNC as it does on kernels before them.
 */
TEST_F(buf, no_sync_file_ioctls)
{
	struct { uint32_t flags; int32_t fd; } arg = { DMA_BUF_SYNC_RW, -1 };

	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(DMA_BUF_BASE, 2, arg), &arg));
	EXPECT_EQ(ENOTTY, errno)
		TH_LOG("EXPORT_SYNC_FILE: %s", strerror(errno));
	EXPECT_EQ(-1, arg.fd);
	EXPECT_EQ(-1, ioctl(self->fd, _IOW(DMA_BUF_BASE, 3, arg), &arg));
	EXPECT_EQ(ENOTTY, errno)
		TH_LOG("IMPORT_SYNC_FILE: %s", strerror(errno));
}

/* This buffer's line in the debugfs listing, by inode number. */
TEST_F(buf, listed_in_bufinfo)
{
	char line[512], name[64];
	unsigned long long size, ino;
	unsigned int flags;
	long count;
	bool found = false;
	struct stat st;
	FILE *f;
	int n;

	ASSERT_EQ(0, ioctl(self->fd, DMA_BUF_SET_NAME, "listed"));
	ASSERT_EQ(0, fstat(self->fd, &st));
	f = fopen(BUFINFO, "r");
	if (!f)
		SKIP(return, "%s: %s (needs CONFIG_DEBUG_FS, debugfs mounted)",
		     BUFINFO, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		name[0] = '\0';
		n = sscanf(line, "%llu %x %ld system %llu %63s", &size, &flags,
			   &count, &ino, name);
		if (n < 4 || ino != (unsigned long long)st.st_ino)
			continue;
		found = true;
		EXPECT_EQ(self->size, size);
		EXPECT_EQ(O_RDWR, flags & O_ACCMODE);
		EXPECT_EQ(1, count);
		EXPECT_STREQ("listed", name);
	}
	fclose(f);
	EXPECT_TRUE(found);
}

/* A child inherits the fd across fork(); its writes reach the parent. */
TEST_F(buf, shared_across_fork)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		fill(self->fd, self->size, 0x40);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_TRUE(holds_fill(self->fd, self->size, 0x40));
}

/*
 * The parent fills the buffer, sends the fd over a UNIX socket and closes
 * its own; the buffer lives on in the child, which checks the data and
 * writes its own.
 */
TEST_F(buf, passed_over_scm_rights)
{
	int sv[2], status, fd;
	uint32_t word;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sv[0]);
		close(self->fd);
		fd = recv_fd(sv[1], &word);
		if (fd < 0)
			_exit(3);
		if (lseek(fd, 0, SEEK_END) != (off_t)self->size)
			_exit(4);
		if (!holds_fill(fd, self->size, 0x11))
			_exit(5);
		fill(fd, self->size, 0x77);
		/* Hand it back, so the parent sees the child's writes. */
		_exit(send_fd(sv[1], fd, 0) ? 6 : 0);
	}
	close(sv[1]);
	fill(self->fd, self->size, 0x11);
	ASSERT_EQ(0, send_fd(sv[0], self->fd, 0));
	close(self->fd);
	self->fd = recv_fd(sv[0], &word);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(holds_fill(self->fd, self->size, 0x77));
	close(sv[0]);
}

/*
 * The listing: a header line, one line per buffer (size first), a
 * tab-indented line per attached device, and "Total N objects, M bytes".
 * N and M must agree with the buffer lines.
 */
/*
 * readlink() of a descriptor that only holds the path of a buffer (an
 * O_PATH open of /proc/self/fd/<n>) after the buffer's last descriptor
 * is closed: the name must come from memory that is still the buffer's.
 * Between the close and the readlink, other buffers are created and freed
 * so that freed memory is reused at once.
 */
#define READLINK_ROUNDS 2000

TEST(readlink_after_last_close)
{
	char path[64], link[64], name[32], expect[48];
	int heap, fd, opath, churn[4], round, i, before;
	ssize_t n;

	heap = open(SYSTEM_HEAP, O_RDONLY | O_CLOEXEC);
	if (heap < 0)
		SKIP(return, "%s: %s (needs CONFIG_DMABUF_HEAPS_SYSTEM)",
		     SYSTEM_HEAP, strerror(errno));
	before = live_buffers();
	for (round = 0; round < READLINK_ROUNDS; round++) {
		fd = heap_alloc(heap, 4096, O_RDWR);
		ASSERT_LE(0, fd);
		snprintf(name, sizeof(name), "round-%d", round);
		ASSERT_EQ(0, ioctl(fd, DMA_BUF_SET_NAME, name));
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		opath = open(path, O_PATH | O_CLOEXEC);
		ASSERT_LE(0, opath);
		ASSERT_EQ(0, close(fd));

		for (i = 0; i < 4; i++) {
			churn[i] = heap_alloc(heap, 4096, O_RDWR);
			if (churn[i] >= 0)
				ioctl(churn[i], DMA_BUF_SET_NAME, "churn-churn-churn-churn");
		}
		for (i = 0; i < 4; i++)
			if (churn[i] >= 0)
				close(churn[i]);

		snprintf(path, sizeof(path), "/proc/self/fd/%d", opath);
		n = readlink(path, link, sizeof(link) - 1);
		ASSERT_LT(0, n);
		link[n] = '\0';
		snprintf(expect, sizeof(expect), "/dmabuf:%s", name);
		ASSERT_STREQ(expect, link) TH_LOG("round %d", round);
		close(opath);
	}
	/* Every buffer was released, though their dentries outlived them. */
	if (before >= 0)
		EXPECT_EQ(before, live_buffers());
	close(heap);
}

TEST(bufinfo_is_consistent)
{
	unsigned long long size, sum = 0, total_bytes;
	unsigned int lines = 0, total_objects;
	bool header = false, total = false;
	char line[512], *end;
	FILE *f;
	int n;

	f = fopen(BUFINFO, "r");
	if (!f)
		SKIP(return, "%s: %s (needs CONFIG_DEBUG_FS, debugfs mounted)",
		     BUFINFO, strerror(errno));

	while (fgets(line, sizeof(line), f)) {
		ASSERT_FALSE(total) TH_LOG("a line after the total: %s", line);
		if (!header) {
			ASSERT_EQ(0, strncmp(line, "size", 4))
				TH_LOG("header: %s", line);
			header = true;
		} else if (!strncmp(line, "Total ", 6)) {
			n = sscanf(line, "Total %u objects, %llu bytes",
				   &total_objects, &total_bytes);
			ASSERT_EQ(2, n) TH_LOG("total: %s", line);
			total = true;
		} else if (line[0] != '\t') {
			size = strtoull(line, &end, 10);
			ASSERT_TRUE(end != line) TH_LOG("buffer line: %s", line);
			sum += size;
			lines++;
		}
	}
	fclose(f);
	ASSERT_TRUE(header);
	ASSERT_TRUE(total);
	EXPECT_EQ(lines, total_objects);
	EXPECT_EQ(sum, total_bytes);
}

TEST_HARNESS_MAIN
