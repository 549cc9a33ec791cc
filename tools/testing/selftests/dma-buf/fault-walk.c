// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every allocation of every user-reachable path fails in turn. With the
 * kernel's fault injection (CONFIG_FAULT_INJECTION, FAILSLAB,
 * FAIL_PAGE_ALLOC; the debug kernels of `make test DEBUG=1`), writing n to
 * /proc/thread-self/fail-nth makes the n-th slab or page allocation of
 * this thread's next calls fail. Each path is walked from n = 1 until it
 * no longer reaches an n-th allocation; for every n the call fails with
 * an errno (or SIGBUS, for a page fault) or succeeds through a fallback,
 * nothing is left behind (the debugfs buffer count is back, and the pages
 * taken from CMA and charged to the walk's memory cgroup, where a path
 * allocates blocks; kmemleak's scan at the end of the guest run finds no
 * leak), the kernel log holds no report but the allocation-failure
 * messages this test provokes, and the same call succeeds right after.
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
#include <unistd.h>

#include "../kselftest_harness.h"
#include "dmabuf-util.h"

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define CGROUP_ROOT	"/sys/fs/cgroup"
#define WALK_CGROUP	CGROUP_ROOT "/dmabuf-fault-walk"
#define DEBUGFS		"/sys/kernel/debug"
#define MAX_POINTS	500
#define BUF_SIZE	(64 << 10)

/*
 * Let every allocation count (sleeping ones, highmem, order 0), quietly:
 * only fail-nth makes one fail, since the probabilities stay zero.
 */
static const char *setup_injection(void)
{
	static const char * const knobs[][2] = {
		{ DEBUGFS "/failslab/ignore-gfp-wait", "N" },
		{ DEBUGFS "/failslab/verbose", "0" },
		{ DEBUGFS "/fail_page_alloc/ignore-gfp-wait", "N" },
		{ DEBUGFS "/fail_page_alloc/ignore-gfp-highmem", "N" },
		{ DEBUGFS "/fail_page_alloc/min-order", "0" },
		{ DEBUGFS "/fail_page_alloc/verbose", "0" },
	};
	unsigned int i;

	if (access(FAIL_NTH, W_OK))
		return "no " FAIL_NTH " (needs fault injection: make test DEBUG=1)";
	for (i = 0; i < ARRAY_SIZE(knobs); i++)
		if (write_file(knobs[i][0], knobs[i][1]))
			return "failslab or fail_page_alloc knobs missing in debugfs";
	return NULL;
}

static int nth_fd = -1;

/* Arm the n-th allocation of this thread to fail (0: disarm). */
static void arm(int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	if (pwrite(nth_fd, buf, len, 0) != len)
		abort();
}

/* How many allocations were still to come before the failure; 0: it came. */
static int remaining(void)
{
	char buf[16] = "";

	if (pread(nth_fd, buf, sizeof(buf) - 1, 0) <= 0)
		abort();
	return atoi(buf);
}

struct walk_env {
	int system, ivshmem, edu32;
	unsigned char *window;	/* a 2 MiB-aligned, page-tabled area */
};

/* One path: setup, the call under test, cleanup. */
struct path {
	const char *name;
	int (*setup)(struct walk_env *env, int *fd);
	int (*call)(struct walk_env *env, int fd);
	void (*cleanup)(struct walk_env *env, int fd, int ret);
};

static int new_buffer(struct walk_env *env, int *fd)
{
	*fd = heap_alloc(env->system, BUF_SIZE, O_RDWR | O_CLOEXEC);
	return *fd < 0 ? *fd : 0;
}

static int no_setup(struct walk_env *env, int *fd)
{
	*fd = -1;
	return 0;
}

static void close_fd(struct walk_env *env, int fd, int ret)
{
	if (fd >= 0)
		close(fd);
}

static int call_alloc(int heap)
{
	int fd = heap_alloc(heap, BUF_SIZE, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int alloc_system(struct walk_env *env, int fd)
{
	return call_alloc(env->system);
}

static int alloc_ivshmem(struct walk_env *env, int fd)
{
	return call_alloc(env->ivshmem);
}

/*
 * mmap() of the buffer, into a window whose page tables exist, so that
 * only the mapping's own allocations are walked.
 */
static int map_buffer(struct walk_env *env, int fd)
{
	void *p = mmap(env->window + 64 * 4096, BUF_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_FIXED, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	return 0;
}

static void unmap_and_close(struct walk_env *env, int fd, int ret)
{
	munmap(env->window + 64 * 4096, BUF_SIZE);
	close(fd);
}

static int mapped_buffer(struct walk_env *env, int *fd)
{
	int ret = new_buffer(env, fd);

	if (!ret)
		ret = map_buffer(env, *fd);
	return ret;
}

static sigjmp_buf bus_jump;

static void on_sigbus(int sig)
{
	siglongjmp(bus_jump, 1);
}

/* The first touch populates the buffer: SIGBUS reads as -EFAULT. */
static int first_touch(struct walk_env *env, int fd)
{
	if (sigsetjmp(bus_jump, 1))
		return -EFAULT;
	env->window[64 * 4096] = 1;
	return 0;
}

static int sync_start(struct walk_env *env, int fd)
{
	return buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
}

static void sync_end_and_close(struct walk_env *env, int fd, int ret)
{
	if (!ret)
		buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
	close(fd);
}

static int set_name(struct walk_env *env, int fd)
{
	return ioctl(fd, DMA_BUF_SET_NAME, "walked") ? -errno : 0;
}

static int edu_attach_call(struct walk_env *env, int fd)
{
	return edu_attach(env->edu32, fd, true);
}

static void edu_detach_and_close(struct walk_env *env, int fd, int ret)
{
	if (!ret)
		edu_attach(env->edu32, fd, false);
	close(fd);
}

static int edu_to_device_call(struct walk_env *env, int fd)
{
	uint32_t crc;

	return edu_to_device(env->edu32, fd, 0, 64, &crc);
}

static int edu_from_device_call(struct walk_env *env, int fd)
{
	return edu_from_device(env->edu32, fd, 0, 64, 5);
}

static int edu_map_info_call(struct walk_env *env, int fd)
{
	static struct edu_dmabuf_map_info info;

	return edu_map_info(env->edu32, fd, &info);
}

/*
 * A buffer the 32-bit device attached to, stating that it takes it in one
 * piece, so that its first use allocates one block: of the page allocator
 * (two runs' worth) or of CMA (one 1080p RGB32 frame); with every mapping
 * bounced, both of the DMA API, for the device. The first use
 * walked is the CPU's (DMA_BUF_IOCTL_SYNC), not a device mapping: the
 * DMA API's debugging (CONFIG_DMA_API_DEBUG) tracks each segment of a
 * mapping in a radix tree whose nodes it allocates without a fallback,
 * and turns itself off for the rest of the run when one fails; a block's
 * mapping has many segments (the device takes 64 KiB in one).
 */
static int one_piece_buffer(struct walk_env *env, int *fd, size_t size)
{
	int ret;

	*fd = heap_alloc(env->system, size, O_RDWR | O_CLOEXEC);
	if (*fd < 0)
		return *fd;
	ret = edu_attach_one_piece(env->edu32, *fd);
	if (ret)
		close(*fd);
	return ret;
}

static int block_buffer(struct walk_env *env, int *fd)
{
	return one_piece_buffer(env, fd, (1 << 20) + 4096);
}

static int cma_buffer(struct walk_env *env, int *fd)
{
	return one_piece_buffer(env, fd, 8294400);
}

static void sync_end_detach_and_close(struct walk_env *env, int fd, int ret)
{
	if (!ret)
		buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
	edu_attach(env->edu32, fd, false);
	close(fd);
}

static bool one_piece(const struct path *p)
{
	return p->setup == block_buffer || p->setup == cma_buffer;
}

/* memory.current of the walk's memory cgroup, or -1. */
static long long walk_cgroup_memory(void)
{
	long long n = -1;
	FILE *f = fopen(WALK_CGROUP "/memory.current", "r");

	if (f) {
		if (fscanf(f, "%lld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/*
 * Slack for what the memory cgroup keeps charged besides the buffers:
 * each CPU's stock of precharged pages (64) and 256 KiB of slab pages. A
 * block left charged on an error path is larger (257 pages, or 2,025
 * from CMA) on a machine of up to 2 CPUs, as the test bed's.
 */
static long long charge_slack(void)
{
	return (sysconf(_SC_NPROCESSORS_CONF) * 64 + 64) *
	       sysconf(_SC_PAGESIZE);
}

static const struct path paths[] = {
	{ "system heap ALLOC", no_setup, alloc_system, close_fd },
	{ "ivshmem heap ALLOC", no_setup, alloc_ivshmem, close_fd },
	{ "mmap", new_buffer, map_buffer, unmap_and_close },
	{ "mmap first touch", mapped_buffer, first_touch, unmap_and_close },
	{ "DMA_BUF_IOCTL_SYNC", new_buffer, sync_start, sync_end_and_close },
	{ "DMA_BUF_SET_NAME", new_buffer, set_name, close_fd },
	{ "edu ATTACH", new_buffer, edu_attach_call, edu_detach_and_close },
	{ "edu TO_DEVICE", new_buffer, edu_to_device_call, close_fd },
	{ "edu FROM_DEVICE", new_buffer, edu_from_device_call, close_fd },
	{ "edu MAP_INFO", new_buffer, edu_map_info_call, close_fd },
	{ "SYNC, one piece in a block", block_buffer, sync_start,
	  sync_end_detach_and_close },
	{ "SYNC, one piece from CMA", cma_buffer, sync_start,
	  sync_end_detach_and_close },
};

FIXTURE(walk) {
	struct walk_env env;
	bool cgroup;
};

FIXTURE_VARIANT(walk) {
	unsigned int path;
};

FIXTURE_VARIANT_ADD(walk, system_alloc) { .path = 0 };
FIXTURE_VARIANT_ADD(walk, ivshmem_alloc) { .path = 1 };
FIXTURE_VARIANT_ADD(walk, mmap) { .path = 2 };
FIXTURE_VARIANT_ADD(walk, first_touch) { .path = 3 };
FIXTURE_VARIANT_ADD(walk, sync) { .path = 4 };
FIXTURE_VARIANT_ADD(walk, set_name) { .path = 5 };
FIXTURE_VARIANT_ADD(walk, edu_attach) { .path = 6 };
FIXTURE_VARIANT_ADD(walk, edu_to_device) { .path = 7 };
FIXTURE_VARIANT_ADD(walk, edu_from_device) { .path = 8 };
FIXTURE_VARIANT_ADD(walk, edu_map_info) { .path = 9 };
FIXTURE_VARIANT_ADD(walk, sync_one_piece_block) { .path = 10 };
FIXTURE_VARIANT_ADD(walk, sync_one_piece_cma) { .path = 11 };

FIXTURE_SETUP(walk)
{
	struct sigaction sa = { .sa_handler = on_sigbus };
	const char *why = setup_injection();
	unsigned char *area;

	if (why)
		SKIP(return, "%s", why);
	self->env.system = open(SYSTEM_HEAP, O_RDONLY | O_CLOEXEC);
	self->env.ivshmem = open(IVSHMEM_HEAP, O_RDONLY | O_CLOEXEC);
	self->env.edu32 = open(EDU32, O_RDWR | O_CLOEXEC);
	if (self->env.system < 0 || self->env.ivshmem < 0 ||
	    self->env.edu32 < 0)
		SKIP(return, "the test bed's heaps or %s missing", EDU32);
	/*
	 * The blocks are charged to the buffer owner's memory cgroup: one of
	 * the walk's own shows any of them left behind.
	 */
	if (one_piece(&paths[variant->path])) {
		char pid[16];

		snprintf(pid, sizeof(pid), "%d", getpid());
		ASSERT_EQ(0, write_file(CGROUP_ROOT "/cgroup.subtree_control",
					"+memory"))
			TH_LOG("no cgroup2 at %s (CONFIG_MEMCG)", CGROUP_ROOT);
		rmdir(WALK_CGROUP);
		ASSERT_EQ(0, mkdir(WALK_CGROUP, 0755));
		self->cgroup = true;
		ASSERT_EQ(0, write_file(WALK_CGROUP "/cgroup.procs", pid));
	}
	nth_fd = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nth_fd);
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));

	/*
	 * A window of 2 MiB with a page of its own touched: its page tables
	 * exist, so that faults in it allocate only what the buffer needs.
	 */
	area = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	self->env.window = (unsigned char *)(((unsigned long)area + (2 << 20) - 1) &
					     ~((2UL << 20) - 1));
	self->env.window[0] = 1;
}

FIXTURE_TEARDOWN(walk)
{
	char pid[16];

	if (nth_fd >= 0)
		close(nth_fd);
	nth_fd = -1;
	if (self->cgroup) {
		snprintf(pid, sizeof(pid), "%d", getpid());
		write_file(CGROUP_ROOT "/cgroup.procs", pid);
		rmdir(WALK_CGROUP);
	}
}

/*
 * One run of the path with its n-th allocation failing (none if 0): the
 * call's result in @ret, and whether the call got to an n-th allocation.
 * False if the setup failed (it runs without injection).
 */
static bool run_path(const struct path *p, struct walk_env *env, int n,
		     int *ret, bool *reached)
{
	int fd;

	if (p->setup(env, &fd))
		return false;
	arm(n);
	*ret = p->call(env, fd);
	*reached = n && !remaining();
	arm(0);
	p->cleanup(env, fd, *ret);
	return true;
}

TEST_F(walk, every_allocation_fails_in_turn)
{
	const struct path *p = &paths[variant->path];
	bool touch = p->call == first_touch, reached;
	long cma = vmstat_counter("cma_alloc_success");
	int n, ret, before, failed = 0;
	long long cma_pages, charged, now;

	/*
	 * Once for real: warms this process up, so that its own page faults
	 * take no part; from then on nothing of it may fault.
	 */
	ASSERT_TRUE(run_path(p, &self->env, 0, &ret, &reached));
	ASSERT_EQ(0, ret);
	/* Where addresses are physical or bounced, the frame's block is CMA's. */
	if (p->setup == cma_buffer &&
	    dma_path_of(EDU32_SLOT) != DMA_TRANSLATED)
		ASSERT_EQ(cma + 1, vmstat_counter("cma_alloc_success"));
	ASSERT_EQ(0, mlockall(MCL_CURRENT));
	before = live_buffers();
	ASSERT_LE(0, before);
	cma_pages = cma_pages_in_use();
	charged = walk_cgroup_memory();
	if (one_piece(p)) {
		ASSERT_LE(0, cma_pages) TH_LOG("no /sys/kernel/mm/cma (CONFIG_CMA_SYSFS)");
		ASSERT_LE(0, charged);
	}

	log_to_kernel("fault-walk: EXPECT-REPORT begin page-alloc");
	for (n = 1; n <= MAX_POINTS; n++) {
		ASSERT_TRUE(run_path(p, &self->env, n, &ret, &reached));
		if (!reached) {
			/* The call ended before an n-th allocation. */
			EXPECT_EQ(0, ret) TH_LOG("%s: %s with no failure", p->name,
						 strerror(-ret));
			break;
		}
		if (ret)
			failed++;
		/* ENOMEM, or SIGBUS for a fault; a fallback may succeed. */
		EXPECT_TRUE(!ret || ret == -ENOMEM || (touch && ret == -EFAULT))
			TH_LOG("%s, allocation %d failing: %s", p->name, n,
			       strerror(-ret));
		EXPECT_EQ(before, live_buffers())
			TH_LOG("%s, allocation %d failing: a buffer leaked",
			       p->name, n);
		if (one_piece(p)) {
			EXPECT_EQ(cma_pages, cma_pages_in_use())
				TH_LOG("%s, allocation %d failing: CMA pages kept",
				       p->name, n);
			now = walk_cgroup_memory();
			EXPECT_TRUE(now >= 0 && now < charged + charge_slack())
				TH_LOG("%s, allocation %d failing: %lld charged, from %lld",
				       p->name, n, now, charged);
		}
		ASSERT_TRUE(run_path(p, &self->env, 0, &ret, &reached));
		EXPECT_EQ(0, ret) TH_LOG("%s fails after allocation %d failed",
					 p->name, n);
	}
	log_to_kernel("fault-walk: EXPECT-REPORT end page-alloc");
	munlockall();
	/* Past the last point n is MAX_POINTS + 1: the walk was cut short. */
	EXPECT_GE(MAX_POINTS, n) TH_LOG("%s: more than %d allocations?",
					p->name, MAX_POINTS);
	TH_LOG("%s: %d failure points, %d of them failed the call", p->name,
	       n - 1, failed);
}

TEST_HARNESS_MAIN
