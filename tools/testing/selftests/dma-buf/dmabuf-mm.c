// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the rest of the kernel does to a buffer's mapping, for the buffers
 * of every exporter (the system heap, the ivshmem heap, udmabuf): every
 * madvise() advice, mlock(), mprotect(), mremap(), msync() and fork(), on
 * part of a mapping and on all of it, each returning promptly with the
 * result the userspace documentation gives, killable, and losing no byte;
 * get_user_pages(), which cannot take a buffer's pages (io_uring fixed
 * buffers, vmsplice(), process_vm_readv(), /proc/PID/mem), so that no pin
 * outlives a move; the footprint a mapping adds to its process; and a
 * task killed while the kernel copies from a mapping whose fault waits for
 * the buffer's lock; kernel CPU accesses racing with moves.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/io_uring.h>
#include <linux/memfd.h>
#include <linux/udmabuf.h>

#include "../kselftest_harness.h"
#include "dmabuf-util.h"

#ifndef MADV_COLD
#define MADV_COLD		20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT		21
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED	24
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE		25
#endif

/* Two 1 MiB runs of the system heap; a page table's worth on x86-64. */
#define BUF_SIZE	(2 << 20)
/* How long one operation on a mapping may take, and then dying. */
#define DEADLINE_MS	20000
#define DEATH_MS	5000

enum exporter { SYSTEM, IVSHMEM, UDMABUF };

FIXTURE(mm) {
	long page;
	int fd;
	int memfd;
	uint32_t crc;
};

FIXTURE_VARIANT(mm) {
	enum exporter exporter;
	/* Its mappings are VM_IO (a BAR): MADV_DOFORK is refused. */
	bool io;
	/* Maps privately, a read-only view (udmabuf refuses, as 6.12). */
	bool views;
};

FIXTURE_VARIANT_ADD(mm, system_heap) { .exporter = SYSTEM, .views = true };
FIXTURE_VARIANT_ADD(mm, ivshmem_heap) {
	.exporter = IVSHMEM, .io = true, .views = true,
};

FIXTURE_VARIANT_ADD(mm, udmabuf) { .exporter = UDMABUF };

/* A udmabuf of a new memfd of @size bytes: its fd, or -errno. */
static int udmabuf_new(size_t size, int *memfd)
{
	struct udmabuf_create c = { .size = size };
	int dev, fd, err;

	*memfd = memfd_create("dmabuf-mm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (*memfd < 0)
		return -errno;
	if (ftruncate(*memfd, size) ||
	    fcntl(*memfd, F_ADD_SEALS, F_SEAL_SHRINK))
		return -errno;
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	c.memfd = *memfd;
	c.flags = UDMABUF_FLAGS_CLOEXEC;
	fd = ioctl(dev, UDMABUF_CREATE, &c);
	err = errno;
	close(dev);
	return fd < 0 ? -err : fd;
}

FIXTURE_SETUP(mm)
{
	const char *heap_path = variant->exporter == IVSHMEM ? IVSHMEM_HEAP :
				SYSTEM_HEAP;
	int heap;

	self->page = sysconf(_SC_PAGESIZE);
	self->fd = -1;
	self->memfd = -1;
	if (variant->exporter == UDMABUF) {
		self->fd = udmabuf_new(BUF_SIZE, &self->memfd);
		if (self->fd == -ENOENT)
			SKIP(return, "/dev/udmabuf: %s (needs CONFIG_UDMABUF)",
			     strerror(ENOENT));
		ASSERT_LE(0, self->fd) TH_LOG("udmabuf: %s",
					      strerror(-self->fd));
	} else {
		heap = open(heap_path, O_RDONLY | O_CLOEXEC);
		if (heap < 0)
			SKIP(return, "%s: %s (needs the heap's driver and device)",
			     heap_path, strerror(errno));
		self->fd = heap_alloc(heap, BUF_SIZE, O_RDWR | O_CLOEXEC);
		close(heap);
		ASSERT_LE(0, self->fd) TH_LOG("alloc: %s", strerror(-self->fd));
	}
	self->crc = fill(self->fd, BUF_SIZE, 0x5a);
	ASSERT_NE(0, self->crc);
}

FIXTURE_TEARDOWN(mm)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->memfd >= 0)
		close(self->memfd);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How a child running one operation ended. */
struct outcome {
	bool hung;		/* still running at the deadline */
	bool unkillable;	/* and still alive DEATH_MS after SIGKILL */
	int status;		/* its wait status otherwise */
	int err;		/* the operation's errno (0: success) */
	bool data_ok;		/* the buffer read back intact afterwards */
};

struct report {
	int err;
	int data_ok;
};

/* Wait up to @ms for @pid; true once it is gone. */
static bool reap(pid_t pid, long ms, int *status)
{
	long end = now_ms() + ms;

	do {
		if (waitpid(pid, status, WNOHANG) == pid)
			return true;
		usleep(2000);
	} while (now_ms() < end);
	return false;
}

/*
 * Run @op(@arg) in a child, which reports its errno and whether the data
 * survived through a pipe, and give it DEADLINE_MS: an operation that
 * spins in the kernel neither returns nor, often, dies of SIGKILL.
 */
static struct outcome in_child(int (*op)(void *arg), void *arg)
{
	struct outcome o = { .err = -1 };
	struct report r;
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return o;
	pid = fork();
	if (!pid) {
		close(p[0]);
		r.err = op(arg);
		r.data_ok = r.err >= 0 ? 1 : 0;
		if (r.err > 0xffff) {
			r.data_ok = 0;
			r.err -= 0x10000;
		}
		if (write(p[1], &r, sizeof(r)) != sizeof(r))
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return o;
	}
	if (!reap(pid, DEADLINE_MS, &o.status)) {
		o.hung = true;
		kill(pid, SIGKILL);
		o.unkillable = !reap(pid, DEATH_MS, &o.status);
		close(p[0]);
		return o;
	}
	if (read(p[0], &r, sizeof(r)) == sizeof(r)) {
		o.err = r.err;
		o.data_ok = r.data_ok;
	}
	close(p[0]);
	return o;
}

/* What a child checks after its operation: the bytes fill() wrote. */
static bool intact(const unsigned char *m, size_t off, size_t len)
{
	size_t i;

	for (i = off; i < off + len; i++)
		if (m[i] != (unsigned char)(0x5a ^ (i * 131)))
			return false;
	return true;
}

/* Encode an operation's result: the errno, plus 0x10000 if data broke. */
static int result(int ret, bool ok)
{
	int err = ret ? errno : 0;

	return ok ? err : err + 0x10000;
}

struct advice_case {
	const char *name;
	int advice;
	/* The documented result (0 or an errno), for a shared mapping. */
	int err;
	/* The same for a mapping of I/O memory, where it differs. */
	int err_io;
	/* Exists only with CONFIG_TRANSPARENT_HUGEPAGE or CONFIG_KSM. */
	bool thp, ksm;
};

/*
 * Every advice, and what it does to a buffer's mapping (see "Mappings" in
 * Documentation/userspace-api/dma-buf.rst): buffers are mapped by frame
 * number (VM_PFNMAP), so the advices that act on pages, which such a
 * mapping does not have as far as the memory manager is concerned, are
 * refused, and the others only set flags on the mapping.
 */
static const struct advice_case advices[] = {
	{ "NORMAL", MADV_NORMAL, 0, 0 },
	{ "RANDOM", MADV_RANDOM, 0, 0 },
	{ "SEQUENTIAL", MADV_SEQUENTIAL, 0, 0 },
	{ "WILLNEED", MADV_WILLNEED, 0, 0 },
	{ "DONTNEED", MADV_DONTNEED, EINVAL, EINVAL },
	{ "DONTNEED_LOCKED", MADV_DONTNEED_LOCKED, EINVAL, EINVAL },
	{ "FREE", MADV_FREE, EINVAL, EINVAL },
	{ "REMOVE", MADV_REMOVE, ENODEV, ENODEV },
	{ "COLD", MADV_COLD, EINVAL, EINVAL },
	{ "PAGEOUT", MADV_PAGEOUT, EINVAL, EINVAL },
	{ "HUGEPAGE", MADV_HUGEPAGE, 0, 0, .thp = true },
	{ "NOHUGEPAGE", MADV_NOHUGEPAGE, 0, 0, .thp = true },
	{ "COLLAPSE", MADV_COLLAPSE, EINVAL, EINVAL, .thp = true },
	{ "DONTFORK", MADV_DONTFORK, 0, 0 },
	{ "DOFORK", MADV_DOFORK, 0, EINVAL },
	{ "WIPEONFORK", MADV_WIPEONFORK, EINVAL, EINVAL },
	{ "KEEPONFORK", MADV_KEEPONFORK, 0, 0 },
	{ "DONTDUMP", MADV_DONTDUMP, 0, 0 },
	{ "DODUMP", MADV_DODUMP, EINVAL, EINVAL },
	{ "POPULATE_READ", MADV_POPULATE_READ, EINVAL, EINVAL },
	{ "POPULATE_WRITE", MADV_POPULATE_WRITE, EINVAL, EINVAL },
	{ "MERGEABLE", MADV_MERGEABLE, 0, 0, .ksm = true },
	{ "UNMERGEABLE", MADV_UNMERGEABLE, 0, 0, .ksm = true },
};

struct advice_arg {
	int fd;
	int advice;
	size_t off, len;
};

/* Map all of the buffer, touch it, advise on part of it, read it back. */
static int advise(void *p)
{
	struct advice_arg *a = p;
	unsigned char *m;
	int ret;

	m = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
	if (m == MAP_FAILED)
		return result(-1, false);
	if (!intact(m, 0, BUF_SIZE))
		return result(0, false);
	ret = madvise(m + a->off, a->len, a->advice);
	return result(ret, intact(m, 0, BUF_SIZE));
}

TEST_F(mm, every_madvise_advice)
{
	bool thp = !access("/sys/kernel/mm/transparent_hugepage", F_OK);
	bool ksm = !access("/sys/kernel/mm/ksm", F_OK);
	const struct { const char *name; size_t off, len; } ranges[] = {
		/* Inside the first 1 MiB run of the system heap. */
		{ "part", 4 * self->page, 8 * self->page },
		{ "all", 0, BUF_SIZE },
	};
	struct advice_arg a = { .fd = self->fd };
	struct outcome o;
	unsigned int i, r;
	int want;

	TH_LOG("transparent huge pages %s, KSM %s", thp ? "on" : "off",
	       ksm ? "on" : "off");
	for (i = 0; i < ARRAY_SIZE(advices); i++) {
		want = variant->io ? advices[i].err_io : advices[i].err;
		/* An advice the kernel was built without. */
		if ((advices[i].thp && !thp) || (advices[i].ksm && !ksm))
			want = EINVAL;
		for (r = 0; r < ARRAY_SIZE(ranges); r++) {
			a.advice = advices[i].advice;
			a.off = ranges[r].off;
			a.len = ranges[r].len;
			o = in_child(advise, &a);
			EXPECT_FALSE(o.hung)
				TH_LOG("MADV_%s on %s of the mapping: still running after %d ms%s",
				       advices[i].name, ranges[r].name,
				       DEADLINE_MS, o.unkillable ?
				       ", and SIGKILL did not end it" : "");
			if (o.hung)
				continue;
			EXPECT_EQ(want, o.err)
				TH_LOG("MADV_%s on %s: %s, documented: %s",
				       advices[i].name, ranges[r].name,
				       strerror(o.err), strerror(want));
			EXPECT_TRUE(o.data_ok)
				TH_LOG("MADV_%s on %s: the bytes changed",
				       advices[i].name, ranges[r].name);
		}
	}
	/* The buffer is whole after all of it, seen afresh. */
	EXPECT_TRUE(holds_fill(self->fd, BUF_SIZE, 0x5a));
}

struct op_arg {
	int fd;
	long page;
	int which;
	bool views;
};

enum { OP_MLOCK, OP_MLOCK_PART, OP_MLOCKALL, OP_MPROTECT, OP_MPROTECT_PART,
	OP_PRIVATE_WRITE, OP_MREMAP_MOVE, OP_MREMAP_PART, OP_MREMAP_GROW,
	OP_MREMAP_SHRINK, OP_MSYNC, OP_MSYNC_PART, OP_FORK, OP_COUNT };

static const char * const op_names[OP_COUNT] = {
	"mlock + munlock of all", "mlock + munlock of part",
	"mlockall + munlockall", "mprotect of all", "mprotect of part",
	"mprotect(PROT_WRITE) of a private view", "mremap to a new place",
	"mremap of part to a new place", "mremap growing the mapping",
	"mremap shrinking the mapping", "msync of all", "msync of part",
	"fork with shared and private views",
};

/* The documented result of each operation (see the userspace page). */
static const int op_errs[OP_COUNT] = {
	[OP_PRIVATE_WRITE] = EACCES,
	[OP_MREMAP_GROW] = EFAULT,
};

/* The child of OP_FORK: checks both views, writes through the shared. */
static int forked_child(unsigned char *shared, const unsigned char *priv)
{
	if (!intact(shared, 0, BUF_SIZE) || !intact(priv, 0, BUF_SIZE))
		return 1;
	shared[5] = 0xee;
	/* A private view of a buffer is a view: it sees the write. */
	return priv[5] == 0xee ? 0 : 1;
}

static int other_op(void *p)
{
	struct op_arg *a = p;
	size_t part = 16 * a->page;
	unsigned char *m, *n, *v;
	int ret = 0, st;
	bool ok;
	pid_t pid;

	m = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
	if (m == MAP_FAILED)
		return result(-1, false);
	switch (a->which) {
	case OP_MLOCK:
		ret = mlock(m, BUF_SIZE) ?: munlock(m, BUF_SIZE);
		break;
	case OP_MLOCK_PART:
		ret = mlock(m + part, part) ?: munlock(m + part, part);
		break;
	case OP_MLOCKALL:
		ret = mlockall(MCL_CURRENT | MCL_FUTURE) ?: munlockall();
		break;
	case OP_MPROTECT:
	case OP_MPROTECT_PART:
		n = a->which == OP_MPROTECT ? m : m + part;
		ret = mprotect(n, part, PROT_READ) ?:
		      mprotect(n, part, PROT_NONE) ?:
		      mprotect(n, part, PROT_READ | PROT_WRITE);
		if (!ret) {
			/* Writable again: a write lands and stays. */
			n[1] ^= 0xff;
			n[1] ^= 0xff;
		}
		break;
	case OP_PRIVATE_WRITE:
		v = mmap(NULL, BUF_SIZE, PROT_READ, MAP_PRIVATE, a->fd, 0);
		if (v == MAP_FAILED)
			return result(-1, intact(m, 0, BUF_SIZE));
		ret = mprotect(v, BUF_SIZE, PROT_READ | PROT_WRITE);
		ok = intact(v, 0, BUF_SIZE);
		return result(ret, ok && intact(m, 0, BUF_SIZE));
	case OP_MREMAP_MOVE:
		n = mremap(m, BUF_SIZE, BUF_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED,
			   m + 2 * BUF_SIZE);
		/* The old place may have been taken: then anywhere. */
		if (n == MAP_FAILED)
			n = mremap(m, BUF_SIZE, BUF_SIZE, MREMAP_MAYMOVE);
		if (n == MAP_FAILED)
			return result(-1, false);
		return result(0, intact(n, 0, BUF_SIZE));
	case OP_MREMAP_PART:
		v = mmap(NULL, part, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		if (v == MAP_FAILED)
			return result(-1, false);
		n = mremap(m + part, part, part, MREMAP_MAYMOVE | MREMAP_FIXED,
			   v);
		if (n == MAP_FAILED)
			return result(-1, false);
		/* The moved part keeps its offset into the buffer. */
		for (ok = true, st = 0; st < (int)part; st++)
			ok &= n[st] == (unsigned char)(0x5a ^ ((part + st) * 131));
		return result(0, ok && intact(m, 0, part) &&
			      intact(m, 2 * part, BUF_SIZE - 2 * part));
	case OP_MREMAP_GROW:
		n = mremap(m, BUF_SIZE, 2 * BUF_SIZE, MREMAP_MAYMOVE);
		ret = n == MAP_FAILED ? -1 : 0;
		if (!ret)
			m = n;
		break;
	case OP_MREMAP_SHRINK:
		n = mremap(m, BUF_SIZE, BUF_SIZE / 2, 0);
		if (n == MAP_FAILED)
			return result(-1, false);
		return result(0, intact(n, 0, BUF_SIZE / 2));
	case OP_MSYNC:
		ret = msync(m, BUF_SIZE, MS_SYNC) ?:
		      msync(m, BUF_SIZE, MS_ASYNC) ?:
		      msync(m, BUF_SIZE, MS_INVALIDATE);
		break;
	case OP_MSYNC_PART:
		ret = msync(m + part, part, MS_SYNC) ?:
		      msync(m + part, part, MS_ASYNC | MS_INVALIDATE);
		break;
	case OP_FORK:
		/* Without private views, a second shared one. */
		v = mmap(NULL, BUF_SIZE, PROT_READ, a->views ? MAP_PRIVATE :
			 MAP_SHARED, a->fd, 0);
		if (v == MAP_FAILED)
			return result(-1, false);
		pid = fork();
		if (!pid)
			_exit(forked_child(m, v));
		if (pid < 0 || waitpid(pid, &st, 0) != pid)
			return result(-1, false);
		ok = WIFEXITED(st) && !WEXITSTATUS(st) && m[5] == 0xee &&
		     v[5] == 0xee;
		/* Put the byte back for the checks after. */
		m[5] = (unsigned char)(0x5a ^ (5 * 131));
		return result(0, ok && intact(v, 0, BUF_SIZE));
	}
	return result(ret, intact(m, 0, BUF_SIZE));
}

TEST_F(mm, mlock_mprotect_mremap_msync_fork)
{
	struct op_arg a = {
		.fd = self->fd, .page = self->page, .views = variant->views,
	};
	struct outcome o;
	int want;

	for (a.which = 0; a.which < OP_COUNT; a.which++) {
		want = op_errs[a.which];
		/* udmabuf: the private view is refused by mmap() itself. */
		if (a.which == OP_PRIVATE_WRITE && !variant->views)
			want = EINVAL;
		o = in_child(other_op, &a);
		EXPECT_FALSE(o.hung)
			TH_LOG("%s: still running after %d ms%s",
			       op_names[a.which], DEADLINE_MS, o.unkillable ?
			       ", and SIGKILL did not end it" : "");
		if (o.hung)
			continue;
		EXPECT_EQ(want, o.err)
			TH_LOG("%s: %s, documented: %s", op_names[a.which],
			       strerror(o.err), strerror(want));
		EXPECT_TRUE(o.data_ok)
			TH_LOG("%s: the bytes changed", op_names[a.which]);
	}
	EXPECT_TRUE(holds_fill(self->fd, BUF_SIZE, 0x5a));
}

/* io_uring_register(IORING_REGISTER_BUFFERS) of @len bytes at @addr. */
static int uring_register(void *addr, size_t len)
{
	struct io_uring_params params = { };
	struct iovec iov = { .iov_base = addr, .iov_len = len };
	int ring, ret, err;

	ring = syscall(__NR_io_uring_setup, 4, &params);
	if (ring < 0)
		return -errno;
	ret = syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS,
		      &iov, 1);
	err = errno;
	close(ring);
	return ret < 0 ? -err : 0;
}

/*
 * Nothing that pins user pages can pin a buffer's: io_uring's fixed
 * buffers, vmsplice(), process_vm_readv() and /proc/PID/mem all fail, as
 * on Linux 6.12, where buffers are mapped by frame number too. The
 * kernel's own copies from and to a mapping (read(), write()) work. So a
 * move never leaves a pinned old page behind: after one, the mapping and
 * the kernel's copies see the same bytes.
 */
TEST_F(mm, user_page_pins_refused)
{
	unsigned char *m, got[64], *page;
	struct iovec local, remote;
	int pipefd[2], sv[2], tmp;
	char path[64];
	ssize_t n;
	pid_t pid;

	m = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_TRUE(intact(m, 0, BUF_SIZE));

	if (access("/proc/sys/kernel/io_uring_disabled", F_OK)) {
		TH_LOG("io_uring: not in this kernel (CONFIG_IO_URING)");
	} else {
		n = uring_register(m, BUF_SIZE);
		EXPECT_EQ(-EFAULT, n)
			TH_LOG("io_uring fixed buffer: %s", strerror(-n));
	}

	ASSERT_EQ(0, pipe(pipefd));
	local.iov_base = m;
	local.iov_len = self->page;
	n = vmsplice(pipefd[1], &local, 1, 0);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EFAULT, errno) TH_LOG("vmsplice: %s", strerror(errno));
	close(pipefd[0]);
	close(pipefd[1]);

	/* Another process's view of this one's mapping. */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	if (!pid) {
		char c;

		close(sv[0]);
		/* Wait for the parent, then go. */
		if (read(sv[1], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	ASSERT_LT(0, pid);
	close(sv[1]);
	remote.iov_base = m;
	remote.iov_len = sizeof(got);
	local.iov_base = got;
	local.iov_len = sizeof(got);
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EFAULT, errno)
		TH_LOG("process_vm_readv: %s", strerror(errno));
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	tmp = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, tmp);
	n = pread(tmp, got, sizeof(got), (off_t)(uintptr_t)m);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EIO, errno) TH_LOG("/proc/PID/mem: %s", strerror(errno));
	close(tmp);
	ASSERT_EQ(1, write(sv[0], "x", 1));
	close(sv[0]);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));

	/* The kernel's copies: from the mapping into a file, and back. */
	tmp = memfd_create("copies", MFD_CLOEXEC);
	ASSERT_LE(0, tmp);
	ASSERT_EQ(BUF_SIZE, write(tmp, m, BUF_SIZE));
	page = malloc(self->page);
	ASSERT_NE(NULL, page);
	memset(page, 0xa5, self->page);
	ASSERT_EQ(self->page, pwrite(tmp, page, self->page, 0));

	if (variant->exporter == SYSTEM && !access(MOVE_CONTROL, W_OK)) {
		/* No pin holds the old storage: the move goes ahead. */
		EXPECT_EQ(0, move_buffer(self->fd, NULL));
		EXPECT_TRUE(intact(m, 0, BUF_SIZE));
	}
	/* read() into the mapping lands where the mapping reads. */
	ASSERT_EQ(self->page, pread(tmp, m, self->page, 0));
	EXPECT_EQ(0, memcmp(m, page, self->page));
	if (variant->exporter == SYSTEM && !access(MOVE_CONTROL, W_OK)) {
		EXPECT_EQ(0, move_buffer(self->fd, NULL));
		EXPECT_EQ(0, memcmp(m, page, self->page));
	}
	/* Put fill()'s bytes back for the cases after this one. */
	for (n = 0; n < self->page; n++)
		m[n] = (unsigned char)(0x5a ^ (n * 131));
	EXPECT_TRUE(intact(m, 0, BUF_SIZE));
	free(page);
	close(tmp);
	munmap(m, BUF_SIZE);
}

/* A field of /proc/self/status, in KiB, or -1. */
static long status_kb(const char *field)
{
	static char text[4096];
	size_t len = strlen(field);
	char *line;
	ssize_t n;
	int fd;

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	for (line = text; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (!strncmp(line, field, len) && line[len] == ':')
			return atol(line + len + 1);
	}
	return -1;
}

/*
 * A mapping adds nothing to its process's resident counts: the pages are
 * the buffer's, counted once, in the RssShmem of the process that
 * allocated a heap buffer (or of the memfd's users, for udmabuf), not
 * again in RssFile of everyone who maps it, which would make the OOM
 * killer weigh an owner that maps its own buffer twice.
 */
TEST_F(mm, mapping_adds_nothing_to_rss)
{
	long file0, shmem0, file1, shmem1;
	unsigned char *m;
	size_t i;

	/* A fresh buffer, counted when its pages come at the first touch. */
	if (variant->exporter == SYSTEM) {
		int heap = open(SYSTEM_HEAP, O_RDONLY | O_CLOEXEC);

		ASSERT_LE(0, heap);
		close(self->fd);
		self->fd = heap_alloc(heap, BUF_SIZE, O_RDWR | O_CLOEXEC);
		close(heap);
		ASSERT_LE(0, self->fd);
	}
	file0 = status_kb("RssFile");
	shmem0 = status_kb("RssShmem");
	ASSERT_LE(0, file0);
	m = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		 0);
	ASSERT_NE(MAP_FAILED, m);
	/* Every page, read: a new buffer's zeros, or fill()'s bytes. */
	for (i = 0; i < BUF_SIZE; i += self->page)
		ASSERT_EQ(variant->exporter == SYSTEM ? 0 :
			  (unsigned char)(0x5a ^ (i * 131)), m[i]);
	file1 = status_kb("RssFile");
	shmem1 = status_kb("RssShmem");
	/* A few pages of the program's own text may come in meanwhile. */
	EXPECT_GT(64, file1 - file0)
		TH_LOG("RssFile grew by %ld KiB for a %d KiB buffer",
		       file1 - file0, BUF_SIZE >> 10);
	/* The heap's owner, this process, is charged for the pages. */
	EXPECT_EQ(variant->exporter == SYSTEM ? BUF_SIZE >> 10 : 0,
		  shmem1 - shmem0)
		TH_LOG("RssShmem grew by %ld KiB", shmem1 - shmem0);
	munmap(m, BUF_SIZE);
}

FIXTURE(lock) {
	long page;
	int heap;
};

FIXTURE_SETUP(lock)
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

FIXTURE_TEARDOWN(lock)
{
	if (self->heap >= 0)
		close(self->heap);
}

/*
 * A buffer whose move takes long enough for a fault to wait for it: the
 * CPU copies it, sharing its CPU with a busy loop.
 */
#define BIG_SIZE	(128 << 20)
#define MOVES		6

struct mover {
	int fd;
	atomic_int started, ended;
	long start_ms[MOVES], end_ms[MOVES];
	int err;
};

static bool on_cpu(pid_t tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return !sched_setaffinity(tid, sizeof(set), &set);
}

static void *mover_loop(void *p)
{
	struct mover *mv = p;
	int i, ret;

	if (!on_cpu(0, 0))
		mv->err = -errno;
	for (i = 0; i < MOVES && !mv->err; i++) {
		mv->start_ms[i] = now_ms();
		atomic_store(&mv->started, i + 1);
		ret = move_buffer(mv->fd, NULL);
		mv->end_ms[i] = now_ms();
		atomic_store(&mv->ended, i + 1);
		if (ret)
			mv->err = ret;
	}
	return NULL;
}

/*
 * The kernel copies from a mapping (write() to a file) while another
 * thread moves the buffer, which holds the buffer's lock while it copies:
 * the copy's faults wait for the lock. The mover shares its CPU with a
 * busy loop, so that it is off its CPU at times while it holds the lock.
 * SIGKILL must end the task at once: not leave it retrying the fault in
 * the kernel until the move is over.
 */
TEST_F(lock, killed_while_fault_waits)
{
	struct mover mv = { };
	pthread_t thread;
	unsigned char *m;
	long killed = 0, died = 0;
	int status = 0, out, i, move = -1;
	pid_t victim, hog;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs: one for the move, one for the fault");
	mv.fd = heap_alloc(self->heap, BIG_SIZE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, mv.fd);
	m = mmap(NULL, BIG_SIZE, PROT_READ, MAP_SHARED, mv.fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	/* The storage, before anything waits for it. */
	ASSERT_EQ(0, m[0]);
	out = memfd_create("sink", MFD_CLOEXEC);
	ASSERT_LE(0, out);

	hog = fork();
	if (!hog) {
		on_cpu(0, 0);
		for (;;)
			;
	}
	ASSERT_LT(0, hog);
	victim = fork();
	if (!victim) {
		on_cpu(0, 1);
		/* Copy the buffer out again and again, in the kernel. */
		for (;;)
			if (pwrite(out, m, BIG_SIZE, 0) < 0)
				_exit(1);
	}
	ASSERT_LT(0, victim);
	ASSERT_EQ(0, pthread_create(&thread, NULL, mover_loop, &mv));

	/* Kill the victim early in the second move, while it waits. */
	while (atomic_load(&mv.started) < 2 && !mv.err &&
	       atomic_load(&mv.ended) < MOVES)
		usleep(1000);
	usleep(20000);
	killed = now_ms();
	kill(victim, SIGKILL);
	if (reap(victim, MOVES * 10000, &status))
		died = now_ms();

	pthread_join(thread, NULL);
	kill(hog, SIGKILL);
	waitpid(hog, NULL, 0);
	ASSERT_EQ(0, mv.err) TH_LOG("move: %s", strerror(-mv.err));
	ASSERT_NE(0, died) TH_LOG("the task did not die");
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	for (i = 0; i < MOVES; i++)
		if (mv.start_ms[i] <= killed && killed < mv.end_ms[i])
			move = i;
	ASSERT_LE(0, move) TH_LOG("no move was in progress at the kill");
	TH_LOG("move %d: %ld ms; killed %ld ms into it, dead %ld ms later",
	       move + 1, mv.end_ms[move] - mv.start_ms[move],
	       killed - mv.start_ms[move], died - killed);
	/*
	 * Well before the move's end: a task that waited for the lock dies
	 * when the move ends, give or take the mover's way back to
	 * userspace on its shared CPU.
	 */
	EXPECT_LT(died + 30, mv.end_ms[move])
		TH_LOG("the killed task lived until the move ended");

	munmap(m, BIG_SIZE);
	close(out);
	close(mv.fd);
}

#define RACE_SECONDS	10
#define KMAPPERS	3

struct race {
	int fd, edu;
	atomic_bool stop;
	atomic_long accesses;
	atomic_int err;		/* a kmapper's error, read by the mover */
};

static void *kmapper(void *p)
{
	struct race *r = p;
	uint32_t crc;
	int ret;

	while (!atomic_load(&r->stop)) {
		/* Short accesses: many of them, each a pin to race with. */
		ret = edu_kmap_crc(r->edu, r->fd, 0, 1, &crc);
		if (ret) {
			atomic_store(&r->err, ret);
			break;
		}
		atomic_fetch_add(&r->accesses, 1);
	}
	return NULL;
}

/*
 * Kernel CPU accesses (the edu driver's page-mapped checksum, no DMA) on
 * several CPUs while the buffer moves again and again: every access pins
 * the storage or waits for the move, no move loses the pages a kmap
 * computes from, and two accesses overlapping are no misuse. Afterwards
 * the kernel's view of the buffer is the mapping's. A kernel report
 * (the core's misuse WARN, KASAN's use-after-free) fails the run too.
 */
TEST_F(lock, kernel_accesses_race_moves)
{
	long moves = 0, busy = 0, half, end, t;
	pthread_t thread[KMAPPERS];
	int i, started, ret = 0;
	struct race r = { };
	unsigned char *m;
	uint32_t crc = 0;

	r.edu = open(EDU32, O_RDWR | O_CLOEXEC);
	if (r.edu < 0)
		SKIP(return, "%s: %s (needs the edu importer)", EDU32,
		     strerror(errno));
	r.fd = heap_alloc(self->heap, self->page, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, r.fd);
	ASSERT_NE(0, fill(r.fd, self->page, 0x21));

	/*
	 * One access at a time first, so that moves find the buffer idle
	 * between them; then several, which overlap one another.
	 */
	ASSERT_EQ(0, pthread_create(&thread[0], NULL, kmapper, &r));
	started = 1;
	half = now_ms() + RACE_SECONDS * 500;
	end = half + RACE_SECONDS * 500;
	while ((t = now_ms()) < end && !atomic_load(&r.err)) {
		/*
		 * A thread that cannot start ends the loop (no ASSERT here:
		 * the threads started share r, on this stack, until joined).
		 */
		if (t > half && started < KMAPPERS) {
			ret = -pthread_create(&thread[started], NULL, kmapper,
					      &r);
			if (ret)
				break;
			started++;
		}
		ret = move_buffer(r.fd, NULL);
		if (ret == -EBUSY) {
			busy++;
			ret = 0;
		} else if (!ret) {
			moves++;
		} else {
			break;
		}
	}
	atomic_store(&r.stop, true);
	while (started--)
		pthread_join(thread[started], NULL);
	EXPECT_EQ(0, atomic_load(&r.err))
		TH_LOG("KMAP_CRC: %s", strerror(-atomic_load(&r.err)));
	EXPECT_EQ(0, ret) TH_LOG("move or pthread_create: %s", strerror(-ret));
	TH_LOG("%ld moves, %ld refused while pinned, %ld kernel accesses",
	       moves, busy, atomic_load(&r.accesses));
	EXPECT_LT(0, moves);

	/* New bytes through the mapping: the kernel's page mappings agree. */
	m = mmap(NULL, self->page, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, buf_sync(r.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
	for (i = 0; i < self->page; i++)
		m[i] = (unsigned char)(i * 13 + 1);
	ASSERT_EQ(0, buf_sync(r.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));
	ASSERT_EQ(0, edu_kmap_crc(r.edu, r.fd, 0, self->page, &crc));
	EXPECT_EQ(crc32_bytes(m, self->page), crc)
		TH_LOG("the kernel maps other pages than the mapping shows");
	munmap(m, self->page);
	close(r.fd);
	close(r.edu);
}

/* The move control reads a whole descriptor number, not a prefix. */
TEST_F(lock, move_control_wants_a_number)
{
	char req[64];
	int fd;

	fd = heap_alloc(self->heap, self->page, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	snprintf(req, sizeof(req), "%dgarbage", fd);
	EXPECT_EQ(-EINVAL, write_file(MOVE_CONTROL, req));
	snprintf(req, sizeof(req), "%d 0x1000000junk", fd);
	EXPECT_EQ(-EINVAL, write_file(MOVE_CONTROL, req));
	snprintf(req, sizeof(req), "%d\n", fd);
	EXPECT_EQ(0, write_file(MOVE_CONTROL, req));
	close(fd);
}

TEST_HARNESS_MAIN
