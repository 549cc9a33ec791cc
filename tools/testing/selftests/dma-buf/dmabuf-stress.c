// SPDX-License-Identifier: GPL-2.0-only
/*
 * Several processes on every CPU do random things to buffers of both
 * heaps for a while: allocate, map and write, SYNC, name, read fdinfo,
 * the debugfs listing and /proc/self/fd links, dup, fork, pass over
 * SCM_RIGHTS, close, move their storage (debugfs), and have the edu
 * devices read (checked by CRC) and write (checked through a mapping)
 * them. Every buffer's contents are
 * known to the process that wrote them, so that a lost or misplaced byte
 * shows as a mismatch.
 *
 * STRESS_SECONDS (default 10) sets the duration, STRESS_WORKERS (default
 * 4) the number of processes, STRESS_SEED the random seed. The last line
 * reads "stress: N operations, M data mismatches, L leaked buffers"; the
 * host adds the kernel reports of the run (make stress).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "dmabuf-util.h"

#define SLOTS		24
#define MAX_SIZE	(256 << 10)

/* A buffer a worker holds, with what it holds. */
struct slot {
	int fd;
	size_t size;
	bool ivshmem;
	bool frozen;		/* shared with another process: no more writes */
	uint32_t crc;		/* of its contents, if known */
	bool known;
	bool edu28;		/* attached to the 28-bit device before first use */
};

struct worker {
	struct slot slots[SLOTS];
	int system, ivshmem, edu28, edu32;
	int sock[2];		/* to itself: SCM_RIGHTS round trips */
	unsigned int seed;
	unsigned long ops, mismatches;
};

static unsigned int rnd(struct worker *w, unsigned int n)
{
	return rand_r(&w->seed) % n;
}

static struct slot *pick(struct worker *w, bool used)
{
	unsigned int i, start = rnd(w, SLOTS);

	for (i = 0; i < SLOTS; i++) {
		struct slot *s = &w->slots[(start + i) % SLOTS];
		bool in_use = s->fd >= 0;

		if (in_use == used)
			return s;
	}
	return NULL;
}

static void drop(struct slot *s)
{
	close(s->fd);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

static uint32_t zero_crc(size_t size)
{
	static unsigned char zero[MAX_SIZE];

	return crc32_bytes(zero, size);
}

static void op_alloc(struct worker *w)
{
	struct slot *s = pick(w, false);

	if (!s)
		return;
	s->ivshmem = rnd(w, 5) == 0;
	s->size = (1 + rnd(w, MAX_SIZE / 4096)) * 4096;
	s->fd = heap_alloc(s->ivshmem ? w->ivshmem : w->system, s->size,
			   O_RDWR | O_CLOEXEC);
	if (s->fd < 0) {
		s->fd = -1;
		return;
	}
	/* A new buffer reads as zero. */
	s->known = true;
	s->crc = zero_crc(s->size);
	if (!s->ivshmem && rnd(w, 3) == 0 && !edu_attach(w->edu28, s->fd, true))
		s->edu28 = true;
}

/* Write through a mapping, bracketed by SYNC. */
static void op_write(struct worker *w)
{
	struct slot *s = pick(w, true);

	if (!s || s->frozen)
		return;
	s->crc = fill(s->fd, s->size, rnd(w, 256));
	s->known = s->crc != 0;
}

/* Check the contents through a mapping. */
static void op_verify(struct worker *w)
{
	struct slot *s = pick(w, true);
	unsigned char *p;
	uint32_t crc;

	if (!s || !s->known)
		return;
	p = mmap(NULL, s->size, PROT_READ, MAP_SHARED, s->fd, 0);
	if (p == MAP_FAILED)
		return;
	buf_sync(s->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	crc = crc32_bytes(p, s->size);
	buf_sync(s->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	munmap(p, s->size);
	if (crc != s->crc) {
		w->mismatches++;
		fprintf(stderr, "stress: mismatch through a mapping (%zu bytes%s)\n",
			s->size, s->ivshmem ? ", ivshmem" : "");
	}
}

/* A device reads the buffer: the CRC it saw is the one written. */
static void op_dma_read(struct worker *w)
{
	struct slot *s = pick(w, true);
	uint32_t crc = 0;
	int edu, ret;

	if (!s || !s->known)
		return;
	edu = s->edu28 && rnd(w, 2) ? w->edu28 : w->edu32;
	ret = edu_to_device(edu, s->fd, 0, s->size > 8192 ? 8192 : s->size, &crc);
	if (ret)
		return;
	if (s->size <= 8192 && crc != s->crc) {
		w->mismatches++;
		fprintf(stderr, "stress: the device read something else (%zu bytes)\n",
			s->size);
	}
}

/* A device writes a pattern; the mapping must show it. */
static void op_dma_write(struct worker *w)
{
	struct slot *s = pick(w, true);
	uint32_t seed = rand_r(&w->seed);
	size_t len;

	if (!s || s->frozen)
		return;
	len = s->size > 8192 ? 8192 : s->size;
	if (edu_from_device(s->edu28 ? w->edu28 : w->edu32, s->fd, 0, len, seed))
		return;
	if (!holds_pattern(s->fd, s->size, 0, len, seed)) {
		w->mismatches++;
		fprintf(stderr, "stress: the device's write is not in the mapping\n");
	}
	/* The rest of the buffer is as it was; the whole is not known now. */
	s->known = false;
}

static void op_name_and_read(struct worker *w)
{
	struct slot *s = pick(w, true);
	char name[32], path[64], link[64], buf[512];
	int fd;

	if (!s)
		return;
	snprintf(name, sizeof(name), "w%u-%u", w->seed % 1000, rnd(w, 100000));
	ioctl(s->fd, DMA_BUF_SET_NAME, name);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", s->fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf)) < 0)
			w->mismatches++;
		close(fd);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s->fd);
	if (readlink(path, link, sizeof(link)) < 0)
		w->mismatches++;
	if (rnd(w, 8) == 0)
		live_buffers();
}

static void op_dup(struct worker *w)
{
	struct slot *s = pick(w, true), *t = pick(w, false);

	if (!s || !t)
		return;
	*t = *s;
	t->fd = dup(s->fd);
	if (t->fd < 0) {
		t->fd = -1;
		return;
	}
	/* Two names of one buffer: no more writes through either. */
	s->frozen = true;
	t->frozen = true;
	t->edu28 = false;
}

static void op_scm_rights(struct worker *w)
{
	struct slot *s = pick(w, true);
	uint32_t word;
	int fd;

	if (!s || send_fd(w->sock[0], s->fd, 7))
		return;
	fd = recv_fd(w->sock[1], &word);
	if (fd < 0) {
		w->mismatches++;
		return;
	}
	/* The received descriptor (the same file) replaces the original. */
	close(s->fd);
	s->fd = fd;
}

/* A child inherits everything, checks a buffer, and exits. */
static void op_fork(struct worker *w)
{
	struct worker child;
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return;
	if (!pid) {
		child = *w;
		child.mismatches = 0;
		op_verify(&child);
		op_dma_read(&child);
		_exit(child.mismatches ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) == pid &&
	    !(WIFEXITED(status) && !WEXITSTATUS(status)))
		w->mismatches++;
}

/*
 * Move a buffer's storage through debugfs (make stress runs as root): the
 * contents stay what they were, which the next verify or DMA checks. Only
 * these answers are right: done, or pinned meanwhile by another process's
 * DMA, or no memory to move to; a BAR never moves.
 */
static void op_move(struct worker *w)
{
	struct slot *s = pick(w, true);
	int ret;

	if (!s || access(MOVE_CONTROL, W_OK))
		return;
	ret = move_buffer(s->fd, NULL);
	if (s->ivshmem ? ret != -EOPNOTSUPP :
	    ret && ret != -EBUSY && ret != -ENOMEM) {
		w->mismatches++;
		fprintf(stderr, "stress: moving a %s buffer: %s\n",
			s->ivshmem ? "BAR" : "system heap", strerror(-ret));
	}
}

static void op_close(struct worker *w)
{
	struct slot *s = pick(w, true);

	if (s)
		drop(s);
}

static void (*const ops[])(struct worker *w) = {
	op_alloc, op_alloc, op_write, op_write, op_verify, op_verify,
	op_dma_read, op_dma_write, op_name_and_read, op_dup, op_scm_rights,
	op_fork, op_close, op_close, op_move,
};

static void worker(unsigned int seed, double end, int report_fd)
{
	struct worker w = { .seed = seed };
	struct timespec ts;
	unsigned int i;
	unsigned long r[2];

	for (i = 0; i < SLOTS; i++)
		w.slots[i].fd = -1;
	w.system = open(SYSTEM_HEAP, O_RDONLY | O_CLOEXEC);
	w.ivshmem = open(IVSHMEM_HEAP, O_RDONLY | O_CLOEXEC);
	w.edu28 = open(EDU28, O_RDWR | O_CLOEXEC);
	w.edu32 = open(EDU32, O_RDWR | O_CLOEXEC);
	/* Without the 28-bit device where it reaches no memory. */
	if (w.system < 0 || w.ivshmem < 0 || w.edu32 < 0 ||
	    (w.edu28 < 0 && !edu28_refused_at_probe()) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, w.sock))
		_exit(2);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec + ts.tv_nsec / 1e9 >= end)
			break;
		ops[rnd(&w, ARRAY_SIZE(ops))](&w);
		w.ops++;
	}
	for (i = 0; i < SLOTS; i++)
		if (w.slots[i].fd >= 0)
			drop(&w.slots[i]);
	r[0] = w.ops;
	r[1] = w.mismatches;
	if (write(report_fd, r, sizeof(r)) != sizeof(r))
		_exit(3);
	_exit(0);
}

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 0) : def;
}

FIXTURE(stress) {
	int dummy;
};

FIXTURE_SETUP(stress)
{
	if (access(SYSTEM_HEAP, R_OK) || access(IVSHMEM_HEAP, R_OK) ||
	    (access(EDU28, R_OK) && !edu28_refused_at_probe()) ||
	    access(EDU32, R_OK))
		SKIP(return, "needs both heaps and both edu devices (the test bed)");
}

FIXTURE_TEARDOWN(stress)
{
}

TEST_F_TIMEOUT(stress, random_operations, 24 * 3600)
{
	long seconds = env_long("STRESS_SECONDS", 10);
	long workers = env_long("STRESS_WORKERS", 4);
	unsigned int seed = env_long("STRESS_SEED", time(NULL));
	unsigned long ops = 0, mismatches = 0, r[2];
	int pipefd[2], i, status, before, leaked;
	struct timespec ts;
	double end;
	pid_t pid;

	before = live_buffers();
	ASSERT_LE(0, before);
	ASSERT_EQ(0, pipe(pipefd));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec + ts.tv_nsec / 1e9 + seconds;
	TH_LOG("%ld workers for %ld s, seed %u", workers, seconds, seed);
	for (i = 0; i < workers; i++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			worker(seed + i, end, pipefd[1]);
	}
	for (i = 0; i < workers; i++) {
		ASSERT_LT(0, wait(&status));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("a worker ended with status %#x", status);
	}
	close(pipefd[1]);
	while (read(pipefd[0], r, sizeof(r)) == sizeof(r)) {
		ops += r[0];
		mismatches += r[1];
	}
	close(pipefd[0]);
	leaked = live_buffers() - before;
	printf("stress: %lu operations, %lu data mismatches, %d leaked buffers\n",
	       ops, mismatches, leaked);
	EXPECT_EQ(0, mismatches);
	EXPECT_EQ(0, leaked);
	EXPECT_LT(0, ops);
}

TEST_HARNESS_MAIN
