// SPDX-License-Identifier: GPL-2.0-only
/*
 * Buffer memory under pressure: the process that asks for more than
 * there is gets ENOMEM or SIGBUS (or is the OOM killer's victim), every
 * other process survives, a memory cgroup's limit holds, and all memory
 * comes back. (That a fatal signal stops a population, and that readers
 * of the debugfs listing can be killed while they wait, is checked by
 * the KUnit suites: populating all of this guest's memory takes a tenth
 * of a second, too little to interrupt from here.)
 *
 * The system heap allocates a buffer's pages at first use; these tests
 * use DMA_BUF_IOCTL_SYNC and a first touch through mmap() for that.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "dmabuf-util.h"

#define MiB		(1024UL * 1024)
#define CGROUP_ROOT	"/sys/fs/cgroup"
#define CGROUP		CGROUP_ROOT "/dmabuf-test"

static int open_heap(void)
{
	return open(SYSTEM_HEAP, O_RDONLY | O_CLOEXEC);
}

static int populate_by_sync(int fd)
{
	int ret = buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);

	if (!ret)
		buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
	return ret;
}

static sigjmp_buf bus_jump;

static void on_sigbus(int sig)
{
	siglongjmp(bus_jump, 1);
}

/*
 * Populate by touching the first byte through a mapping: 0, or -EFAULT
 * for a SIGBUS, or -errno of mmap().
 */
static int populate_by_touch(int fd, size_t size)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	unsigned char *p;
	int ret = 0;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(bus_jump, 1))
		ret = -EFAULT;
	else
		p[0] = 1;
	sigaction(SIGBUS, &old, NULL);
	munmap(p, size);
	return ret;
}

/* Report of the process that takes all memory, over a pipe. */
struct hog_report {
	int mode;		/* 0 ALLOC failed, 1 SYNC, 2 first touch */
	int err;		/* its errno (EFAULT: SIGBUS) */
	long mib;		/* populated before that */
};

static const char * const hog_modes[] = { "ALLOC", "SYNC", "first touch" };

/* Allocate and populate 8 MiB buffers until one fails; keep them all. */
static void hog(int heap, int report_fd, int wait_fd)
{
	struct hog_report r = {};
	size_t size = 8 * MiB;
	char c;
	int fd;

	for (;;) {
		fd = heap_alloc(heap, size, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			r.mode = 0;
			r.err = -fd;
			break;
		}
		/* Alternate the two ways a first use allocates. */
		r.mode = 1 + (r.mib / 8) % 2;
		r.err = -(r.mode == 1 ? populate_by_sync(fd) :
			  populate_by_touch(fd, size));
		if (r.err)
			break;
		r.mib += 8;
	}
	if (write(report_fd, &r, sizeof(r)) != sizeof(r))
		_exit(2);
	/* Hold everything until told to go (or killed). */
	if (read(wait_fd, &c, 1) < 0)
		_exit(3);
	_exit(0);
}

/* What the bystander holds: published, so that its stores are kept. */
char *bystander_memory[2];

/* Touch @mib MiB of fresh anonymous memory, kept; 0 if it all came. */
static int touch_anon(long mib, char **keep)
{
	size_t size = mib * MiB, i;
	char *p = malloc(size);

	if (!p)
		return -1;
	for (i = 0; i < size; i += 4096)
		p[i] = 1;
	*keep = p;
	return 0;
}

/*
 * A bystander holding some memory, waiting; told to go, it asks for more
 * and reports whether it got it.
 */
static void bystander(int ready_fd, int go_fd, int done_fd)
{
	char c = 'r';

	if (touch_anon(48, &bystander_memory[0]))
		_exit(2);
	if (write(ready_fd, &c, 1) != 1 || read(go_fd, &c, 1) != 1)
		_exit(3);
	c = touch_anon(32, &bystander_memory[1]) ? 'f' : 'k';
	if (write(done_fd, &c, 1) != 1)
		_exit(4);
	/* Stay until the parent closes the pipe. */
	while (read(go_fd, &c, 1) > 0)
		;
	_exit(0);
}

/*
 * One process allocates buffers until memory runs out; it is the one
 * that fails (ENOMEM or SIGBUS), or the one the OOM killer picks, and a
 * bystander holding more ordinary memory than the others survives, even
 * when it asks for more afterwards. Then all memory comes back.
 */
TEST(exhaustion_hurts_only_the_allocator)
{
	int to_b[2], from_b[2], b_ready[2], from_h[2], to_h[2];
	long avail_before, avail_after;
	int heap, before, status, fd;
	struct hog_report r;
	pid_t b, h;
	ssize_t n;
	char c;

	heap = open_heap();
	if (heap < 0)
		SKIP(return, "%s: %s (needs CONFIG_DMABUF_HEAPS_SYSTEM)",
		     SYSTEM_HEAP, strerror(errno));
	before = live_buffers();
	avail_before = meminfo_kb("MemAvailable");
	ASSERT_LT(0, avail_before);
	ASSERT_EQ(0, pipe(to_b));
	ASSERT_EQ(0, pipe(from_b));
	ASSERT_EQ(0, pipe(b_ready));

	b = fork();
	ASSERT_LE(0, b);
	if (!b) {
		close(to_b[1]);
		close(heap);
		bystander(b_ready[1], to_b[0], from_b[1]);
	}
	close(to_b[0]);
	close(from_b[1]);
	close(b_ready[1]);
	ASSERT_EQ(1, read(b_ready[0], &c, 1));

	/* The OOM killer may run from here on; its victim is checked below. */
	log_to_kernel("mem-pressure: EXPECT-REPORT begin oom");
	ASSERT_EQ(0, pipe(from_h));
	ASSERT_EQ(0, pipe(to_h));
	h = fork();
	ASSERT_LE(0, h);
	if (!h) {
		close(to_h[1]);
		close(from_h[0]);
		close(to_b[1]);
		close(from_b[0]);
		hog(heap, from_h[1], to_h[0]);
	}
	close(from_h[1]);
	close(to_h[0]);

	n = read(from_h[0], &r, sizeof(r));
	if (n == sizeof(r)) {
		TH_LOG("the allocator got %ld MiB, then %s failed: %s", r.mib,
		       hog_modes[r.mode], strerror(r.err));
		EXPECT_TRUE(r.err == ENOMEM || r.err == EFAULT);
		/* SIGBUS only for a first touch. */
		EXPECT_TRUE(r.err != EFAULT || r.mode == 2);
	} else {
		TH_LOG("the allocator was killed before it could report");
	}

	/* The bystander wants more now, while the allocator holds on. */
	c = 'g';
	ASSERT_EQ(1, write(to_b[1], &c, 1));
	ASSERT_EQ(1, read(from_b[0], &c, 1)) TH_LOG("the bystander died");
	EXPECT_EQ('k', c);

	/* Let the allocator go, or find it killed by the OOM killer. */
	close(to_h[1]);
	ASSERT_EQ(h, waitpid(h, &status, 0));
	EXPECT_TRUE((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
		    (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
		TH_LOG("allocator status %#x", status);
	if (WIFSIGNALED(status))
		TH_LOG("the OOM killer chose the allocator");
	log_to_kernel("mem-pressure: EXPECT-REPORT end oom");

	/* The bystander was never killed. */
	close(to_b[1]);
	ASSERT_EQ(b, waitpid(b, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("bystander status %#x", status);

	/*
	 * Every buffer was freed, and the memory is there again: a buffer
	 * of all but 128 MiB of what was available at the start fills.
	 */
	if (before >= 0)
		EXPECT_EQ(before, live_buffers());
	avail_after = meminfo_kb("MemAvailable");
	TH_LOG("MemAvailable %ld kB before, %ld kB after", avail_before,
	       avail_after);
	fd = heap_alloc(heap, (avail_before / 1024 - 128) * MiB,
			O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, populate_by_sync(fd));
	close(fd);
	close(heap);
}

static long cg_read(const char *file)
{
	char path[128], buf[64] = "";
	long v = -1;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", CGROUP, file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) > 0)
		v = strtol(buf, NULL, 10);
	close(fd);
	return v;
}

#define CG_BUFFERS	12

/*
 * In the cgroup: allocate (without touching) one 16 MiB buffer and
 * CG_BUFFERS of 8 MiB, and send them to the parent, which stays outside.
 */
static void allocate_in_cgroup(int heap, int sock)
{
	char pid[16];
	int i, fd;

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (write_file(CGROUP "/cgroup.procs", pid))
		_exit(2);
	for (i = 0; i <= CG_BUFFERS; i++) {
		fd = heap_alloc(heap, (i ? 8 : 16) * MiB, O_RDWR | O_CLOEXEC);
		if (fd < 0 || send_fd(sock, fd, i))
			_exit(3);
		close(fd);
	}
	_exit(0);
}

/*
 * A buffer's pages are charged to the memory cgroup of the process that
 * allocated it, also when another process (here, one outside the cgroup)
 * makes them come at first use; they are uncharged when the buffer is
 * freed, and the cgroup's memory.max holds: past it, the use that needs
 * the pages fails, in whichever process.
 */
TEST(cgroup_memory_max_holds)
{
	long limit = 64 * MiB, base, after_alloc, with_pages, after_close;
	int heap, sv[2], status, fds[CG_BUFFERS + 1], i, limit_err = 0;
	long populated = 0;
	uint32_t word;
	pid_t pid;

	heap = open_heap();
	if (heap < 0)
		SKIP(return, "%s: %s (needs CONFIG_DMABUF_HEAPS_SYSTEM)",
		     SYSTEM_HEAP, strerror(errno));
	if (access(CGROUP_ROOT "/cgroup.subtree_control", W_OK))
		SKIP(return, "no cgroup2 at %s (needs CONFIG_MEMCG)", CGROUP_ROOT);
	ASSERT_EQ(0, write_file(CGROUP_ROOT "/cgroup.subtree_control", "+memory"));
	rmdir(CGROUP);
	ASSERT_EQ(0, mkdir(CGROUP, 0755));
	ASSERT_EQ(0, write_file(CGROUP "/memory.max", "67108864"));
	base = cg_read("memory.current");

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		allocate_in_cgroup(heap, sv[1]);
	for (i = 0; i <= CG_BUFFERS; i++) {
		fds[i] = recv_fd(sv[0], &word);
		ASSERT_LE(0, fds[i]);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* The allocator is gone; this process, outside, uses the buffers. */
	after_alloc = cg_read("memory.current");
	ASSERT_EQ(0, populate_by_sync(fds[0]));
	with_pages = cg_read("memory.current");
	close(fds[0]);
	after_close = cg_read("memory.current");
	TH_LOG("memory.current: %ld at start, %ld after ALLOC, %ld with the pages, %ld after close",
	       base, after_alloc, with_pages, after_close);
	/* Hardly anything before first use, the buffer's size at it, none after. */
	EXPECT_GT(base + 1 * (long)MiB, after_alloc);
	EXPECT_LE(after_alloc + 16 * (long)MiB, with_pages);
	EXPECT_GT(after_alloc + 1 * (long)MiB, after_close);

	/* Past the limit: SYNC fails with ENOMEM, a first touch is SIGBUS. */
	for (i = 1; i < CG_BUFFERS; i++) {
		limit_err = -populate_by_sync(fds[i]);
		if (limit_err)
			break;
		populated += 8;
	}
	TH_LOG("populated %ld MiB under a %ld MiB limit, then: %s", populated,
	       limit / (long)MiB, strerror(limit_err));
	EXPECT_GE(limit / (long)MiB, populated);
	EXPECT_LE(32, populated);
	EXPECT_EQ(ENOMEM, limit_err);
	EXPECT_EQ(-EFAULT, populate_by_touch(fds[CG_BUFFERS], 8 * MiB));

	for (i = 1; i <= CG_BUFFERS; i++)
		close(fds[i]);
	EXPECT_EQ(0, rmdir(CGROUP));
	close(sv[0]);
	close(sv[1]);
	close(heap);
}

TEST_HARNESS_MAIN
