// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf-demo: one buffer's journey through the dma-buf test bed, told
 * step by step. The default command of `make run`.
 *
 * A first process allocates a buffer from the system heap, attaches both
 * edu devices before using it, fills it through a mapping and passes the
 * descriptor to a second process. The second process imports the buffer
 * into both devices, shows where the devices see it, has each device read
 * it by DMA and compares checksums, then has the 32-bit device write a
 * pattern into it, which the first process checks through its mapping.
 * Exit status 0 only if every check held.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/types.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/edu-dmabuf.h>

#define HEAP	"/dev/dma_heap/system"
#define BUFINFO	"/sys/kernel/debug/dma_buf/bufinfo"
#define SIZE	(4 * 4096)
#define SEED	0xc0ffee
#define LIMIT28	(256ULL << 20)

static const char * const edu_path[2] = {
	"/dev/edu/0000:00:04.0", "/dev/edu/0000:00:05.0",
};

static int failures;

static void check(bool ok, const char *what)
{
	printf("     %s %s\n", ok ? "ok:  " : "FAIL:", what);
	if (!ok)
		failures++;
}

static void die(const char *what)
{
	printf("     FAIL: %s: %s\n", what, strerror(errno));
	printf("\nVerdict: FAIL (the journey stopped here)\n");
	exit(1);
}

static __u32 crc32_bytes(const unsigned char *p, size_t n)
{
	__u32 crc = ~0U;
	int k;

	while (n--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320U & -(crc & 1));
	}
	return ~crc;
}

static void sync_buf(int fd, __u64 flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	if (ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync))
		die("DMA_BUF_IOCTL_SYNC");
}

/* One message: a descriptor, or none, and a 32-bit word. */
static void send_msg(int sock, int fd, __u32 word)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { .iov_base = &word, .iov_len = sizeof(word) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;

	if (fd >= 0) {
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	if (sendmsg(sock, &msg, 0) != sizeof(word))
		die("sendmsg");
}

static int recv_msg(int sock, __u32 *word)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { .iov_base = word, .iov_len = sizeof(*word) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg;
	int fd = -1;

	if (recvmsg(sock, &msg, 0) != sizeof(*word))
		die("recvmsg");
	cmsg = CMSG_FIRSTHDR(&msg);
	if (cmsg && cmsg->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

/* The second process: imports the buffer into both devices. */
static int importer(int sock)
{
	struct edu_dmabuf_map_info info;
	struct edu_dmabuf_xfer x;
	__u32 crc, done = 1;
	int edu[2], fd, d;
	unsigned int i;
	bool below;

	fd = recv_msg(sock, &crc);
	printf("4. Process %d received the buffer as fd %d over a UNIX socket (SCM_RIGHTS),\n"
	       "   with the CRC-32 the first process computed: %#010x.\n", getpid(), fd, crc);
	if (fd < 0)
		die("no descriptor in the message");

	printf("5. It imports the buffer into both devices (dma_buf_attach, map_attachment):\n");
	for (d = 0; d < 2; d++) {
		edu[d] = open(edu_path[d], O_RDWR | O_CLOEXEC);
		if (edu[d] < 0)
			die(edu_path[d]);
		memset(&info, 0, sizeof(info));
		info.fd = fd;
		if (ioctl(edu[d], EDU_DMABUF_IOCTL_MAP_INFO, &info))
			die("EDU_DMABUF_IOCTL_MAP_INFO");
		printf("   %s, DMA mask %#llx: %u segment%s\n", edu_path[d],
		       (unsigned long long)info.dma_mask, info.nr_segs,
		       info.nr_segs == 1 ? "" : "s");
		below = true;
		for (i = 0; i < info.nr_segs && i < EDU_DMABUF_MAX_SEGS; i++) {
			printf("     DMA address %#010llx, %llu bytes\n",
			       (unsigned long long)info.segs[i].addr,
			       (unsigned long long)info.segs[i].len);
			below &= info.segs[i].addr + info.segs[i].len <= LIMIT28;
		}
		check(below, "every page lies below 256 MiB, within the 28-bit device's reach");
	}

	printf("6. Each device reads the whole buffer by DMA (4095-byte chunks) and\n"
	       "   sends back what it received; the driver checksums that:\n");
	for (d = 0; d < 2; d++) {
		memset(&x, 0, sizeof(x));
		x.fd = fd;
		x.len = SIZE;
		if (ioctl(edu[d], EDU_DMABUF_IOCTL_TO_DEVICE, &x))
			die("EDU_DMABUF_IOCTL_TO_DEVICE");
		printf("   %s received CRC-32 %#010x\n", edu_path[d], x.crc32);
		check(x.crc32 == crc, "the device received exactly what the first process wrote");
	}

	printf("7. The 32-bit device writes a pattern (seed %#x) into the buffer by DMA.\n", SEED);
	memset(&x, 0, sizeof(x));
	x.fd = fd;
	x.len = SIZE;
	x.seed = SEED;
	if (ioctl(edu[1], EDU_DMABUF_IOCTL_FROM_DEVICE, &x))
		die("EDU_DMABUF_IOCTL_FROM_DEVICE");

	close(edu[0]);
	close(edu[1]);
	close(fd);
	send_msg(sock, -1, done);
	return failures ? 1 : 0;
}

static void show_bufinfo(ino_t ino)
{
	char line[512];
	FILE *f = fopen(BUFINFO, "r");
	bool mine = false;
	unsigned long long i;

	if (!f) {
		printf("   (%s: %s)\n", BUFINFO, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] != '\t')
			mine = sscanf(line, "%*s %*s %*s %*s %llu", &i) == 1 &&
			       i == (unsigned long long)ino;
		if (mine || !strncmp(line, "size", 4) ||
		    !strncmp(line, "Total", 5))
			printf("   %s", line);
	}
	fclose(f);
}

int main(void)
{
	struct dma_heap_allocation_data alloc = {
		.len = SIZE, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	struct edu_dmabuf_attach a;
	struct utsname uts;
	unsigned char *p;
	__u32 crc, word;
	int heap, edu[2], sv[2], status, d, ok;
	size_t i;
	pid_t pid;

	uname(&uts);
	printf("dma-buf demo: one buffer's journey (kernel %s, %s)\n\n",
	       uts.release, uts.machine);

	heap = open(HEAP, O_RDONLY | O_CLOEXEC);
	if (heap < 0 || ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc))
		die(HEAP);
	printf("1. Process %d allocated %d bytes from %s: fd %u.\n"
	       "   The system heap gives it no memory yet: it allocates at first use.\n",
	       getpid(), SIZE, HEAP, alloc.fd);
	if (ioctl(alloc.fd, DMA_BUF_SET_NAME, "demo-buffer"))
		die("DMA_BUF_SET_NAME");

	printf("2. It attaches both edu devices before the first use, so that the\n"
	       "   storage is placed where both can reach it:\n");
	for (d = 0; d < 2; d++) {
		edu[d] = open(edu_path[d], O_RDWR | O_CLOEXEC);
		a = (struct edu_dmabuf_attach){ .fd = alloc.fd };
		if (edu[d] < 0 || ioctl(edu[d], EDU_DMABUF_IOCTL_ATTACH, &a))
			die(edu_path[d]);
		printf("   %s attached\n", edu_path[d]);
	}

	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, alloc.fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	sync_buf(alloc.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	for (i = 0; i < SIZE; i++)
		p[i] = "dma-buf, 2012 design. "[i % 22];
	sync_buf(alloc.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	crc = crc32_bytes(p, SIZE);
	printf("3. It fills the buffer through mmap(), bracketed by DMA_BUF_IOCTL_SYNC:\n"
	       "   \"%.22s...\", CRC-32 %#010x. This first use placed the storage.\n",
	       (char *)p, crc);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("socketpair");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		close(sv[0]);
		exit(importer(sv[1]));
	}
	close(sv[1]);
	send_msg(sv[0], alloc.fd, crc);
	recv_msg(sv[0], &word);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		die("the second process");
	if (WEXITSTATUS(status))
		failures++;

	sync_buf(alloc.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	for (i = 0, ok = 0; i < SIZE; i++)
		ok += p[i] == edu_dmabuf_pattern(SEED, i);
	sync_buf(alloc.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	printf("8. Back in process %d, through its mapping: %d of %d bytes hold the\n"
	       "   device's pattern.\n", getpid(), ok, SIZE);
	check(ok == SIZE, "the first process sees exactly what the device wrote");

	printf("9. The kernel's list of live buffers (debugfs dma_buf/bufinfo), this\n"
	       "   buffer with the devices still attached to it:\n");
	{
		struct stat st;

		if (fstat(alloc.fd, &st))
			die("fstat");
		show_bufinfo(st.st_ino);
	}

	munmap(p, SIZE);
	close(edu[0]);
	close(edu[1]);
	close(alloc.fd);
	close(heap);

	if (failures) {
		printf("\nVerdict: FAIL (%d check%s did not hold)\n", failures,
		       failures == 1 ? "" : "s");
		return 1;
	}
	printf("\nVerdict: PASS (every check held: the devices read what the CPU wrote,\n"
	       "and the CPU reads what a device wrote, through one shared buffer)\n");
	return 0;
}
