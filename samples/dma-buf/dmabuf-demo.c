// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf-demo: one buffer's journey through the dma-buf test bed, told
 * step by step. The default command of `make run`.
 *
 * Act one: a first process allocates a buffer from the system heap,
 * attaches both edu devices before using it, fills it through a mapping
 * and passes the descriptor to a second process. The second process
 * imports the buffer into both devices, shows where the devices see it,
 * has each device read it by DMA and compares checksums, then has the
 * 32-bit device write a pattern into it, which the first process checks
 * through its mapping.
 *
 * Act two: the same journey on memory without struct page, a buffer of
 * the ivshmem heap in a PCI BAR shared with a file on the host. The
 * 28-bit device is refused; the 32-bit one reads and writes; the kernel's
 * CPU mappings see the device's writes; and the host, after the guest
 * powers off, checks its file for them (make run prints its verdict).
 *
 * Act three: the storage moves. A buffer first used by the 32-bit device
 * lies above 256 MiB; a second process attaches the 28-bit device late;
 * nothing pins the storage, so the core moves it below 256 MiB, and the
 * 28-bit device reads the same bytes by DMA, while the first process,
 * through the mapping it made before the move, still sees them too.
 *
 * Act four: a camera, a processor and a display share one buffer. vivid's
 * capture node (the camera) captures a frame into a system-heap buffer, the
 * 32-bit edu device (the processor) reads it by DMA, and vivid's output
 * node (the display) takes the same buffer; no CPU copies the frame, the
 * CPU only reads it to check each hand-over: the camera wrote the frame it
 * writes into its own buffers, the device received those bytes, and the
 * display left them as they were.
 *
 * Behind a translating IOMMU (make run QEMU_PASS=iommu) the pages may lie
 * anywhere and the 28-bit device reaches the BAR; the checks say so. With
 * every mapping bounced (QEMU_PASS=swiotlb) the 28-bit device reaches no
 * bounce buffer, and the journey stops where it is attached (ERANGE).
 *
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
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/types.h>
#include <linux/videodev2.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/edu-dmabuf.h>

#define HEAP	"/dev/dma_heap/system"
#define BARHEAP	"/dev/dma_heap/ivshmem-0000:00:06.0"
#define BARRES	"/sys/bus/pci/devices/0000:00:06.0/resource"
#define RESULTS	"/dev/results"	/* the harness's results channel */
#define SEED2	0x5eed2012
#define OFF2	1000
#define LEN2	12000
#define BUFINFO	"/sys/kernel/debug/dma_buf/bufinfo"
#define SIZE	(4 * 4096)
#define SEED	0xc0ffee
#define LIMIT28	(256ULL << 20)
/*
 * Act three: a buffer of one 1 MiB run, the largest the system heap hands
 * out, as the ballast's are: it is served from the same free blocks, after
 * the ballast, larger than what lies below LIMIT28, has taken those.
 * (Small buffers come from leftover fragments, anywhere.)
 */
#define MOVE_SIZE	(1024 * 1024)
#define BALLAST		(320 << 20)

static const char * const edu_path[2] = {
	"/dev/edu/0000:00:04.0", "/dev/edu/0000:00:05.0",
};

static const char * const edu_group[2] = {
	"/sys/bus/pci/devices/0000:00:04.0/iommu_group/type",
	"/sys/bus/pci/devices/0000:00:05.0/iommu_group/type",
};

static int failures;
/* Act three moved the storage (the verdict claims it only then). */
static bool storage_moved;

/* Does an IOMMU translate device @d's DMA addresses (make run QEMU_PASS=iommu)? */
static bool translated(int d)
{
	char type[32] = "";
	FILE *f = fopen(edu_group[d], "r");

	if (!f)
		return false;
	if (!fgets(type, sizeof(type), f))
		type[0] = '\0';
	fclose(f);
	return !strncmp(type, "DMA", 3);	/* "identity" in passthrough */
}

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

	/* Close-on-exec, as every descriptor of the demo: lsdmabuf runs. */
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != sizeof(*word))
		die("recvmsg");
	cmsg = CMSG_FIRSTHDR(&msg);
	if (cmsg && cmsg->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

/*
 * Hand @fd and @crc to a second process running @importer, wait until it
 * has finished and count its failures.
 */
static void hand_over(int fd, __u32 crc, int (*importer)(int sock))
{
	int sv[2], status;
	__u32 word;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("socketpair");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		/* The second process gets the buffer over the socket only. */
		close(fd);
		close(sv[0]);
		exit(importer(sv[1]));
	}
	close(sv[1]);
	send_msg(sv[0], fd, crc);
	recv_msg(sv[0], &word);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		die("the second process");
	if (WEXITSTATUS(status))
		failures++;
	close(sv[0]);
}

/* Fill a mapped buffer with @text, bracketed as userspace must; its CRC. */
static __u32 fill(int fd, unsigned char *p, const char *text)
{
	size_t i, n = strlen(text);

	sync_buf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	for (i = 0; i < SIZE; i++)
		p[i] = text[i % n];
	sync_buf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	return crc32_bytes(p, SIZE);
}

/* How many of @len bytes at @p hold the device's pattern for @seed. */
static int count_pattern(int fd, const unsigned char *p, size_t len,
			 __u32 seed)
{
	size_t i;
	int ok = 0;

	sync_buf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	for (i = 0; i < len; i++)
		ok += p[i] == edu_dmabuf_pattern(seed, i);
	sync_buf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	return ok;
}

/* The second process: imports the buffer into both devices. */
static int importer(int sock)
{
	struct edu_dmabuf_map_info info;
	struct edu_dmabuf_xfer x;
	__u32 crc, done = 1;
	int edu[2], fd, d;
	unsigned int i;
	bool below, within;

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
		within = true;
		for (i = 0; i < info.nr_segs && i < EDU_DMABUF_MAX_SEGS; i++) {
			printf("     DMA address %#010llx, %llu bytes\n",
			       (unsigned long long)info.segs[i].addr,
			       (unsigned long long)info.segs[i].len);
			below &= info.segs[i].addr + info.segs[i].len <= LIMIT28;
			within &= info.segs[i].addr + info.segs[i].len - 1 <=
				  info.dma_mask;
		}
		if (translated(d))
			check(within, "the IOMMU maps every page within this device's mask");
		else
			check(below, "every page lies below 256 MiB: the 28-bit device reaches it");
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

static __u32 pattern_crc(__u32 seed, size_t len)
{
	unsigned char *p = malloc(len);
	__u32 crc;
	size_t i;

	if (!p)
		die("malloc");
	for (i = 0; i < len; i++)
		p[i] = edu_dmabuf_pattern(seed, i);
	crc = crc32_bytes(p, len);
	free(p);
	return crc;
}

/* The second process of act two: only the 32-bit device can take part. */
static int bar_importer(int sock)
{
	struct edu_dmabuf_map_info info;
	struct edu_dmabuf_xfer x;
	struct edu_dmabuf_attach a;
	__u32 crc, done = 1;
	int edu28, edu32, fd, err;
	unsigned int i;

	fd = recv_msg(sock, &crc);
	if (fd < 0)
		die("no descriptor in the message");
	printf("13. Process %d received it as fd %d. The 28-bit device tries to attach:\n",
	       getpid(), fd);
	edu28 = open(edu_path[0], O_RDWR | O_CLOEXEC);
	edu32 = open(edu_path[1], O_RDWR | O_CLOEXEC);
	if (edu28 < 0 || edu32 < 0)
		die("/dev/edu");
	a = (struct edu_dmabuf_attach){ .fd = fd };
	err = ioctl(edu28, EDU_DMABUF_IOCTL_ATTACH, &a) ? errno : 0;
	printf("   %s: %s\n", edu_path[0], err ? strerror(err) : "attached");
	if (translated(0))
		check(!err, "attached: the IOMMU maps the BAR into its reach");
	else
		check(err == ERANGE,
		      "refused at attach time with ERANGE: the BAR is above 256 MiB");

	memset(&info, 0, sizeof(info));
	info.fd = fd;
	if (ioctl(edu32, EDU_DMABUF_IOCTL_MAP_INFO, &info))
		die("EDU_DMABUF_IOCTL_MAP_INFO");
	printf("   %s imports it: %u segment%s, DMA addresses from dma_map_resource():\n",
	       edu_path[1], info.nr_segs, info.nr_segs == 1 ? "" : "s");
	for (i = 0; i < info.nr_segs && i < EDU_DMABUF_MAX_SEGS; i++)
		printf("     DMA address %#010llx, %llu bytes\n",
		       (unsigned long long)info.segs[i].addr,
		       (unsigned long long)info.segs[i].len);

	memset(&x, 0, sizeof(x));
	x.fd = fd;
	x.len = SIZE;
	if (ioctl(edu32, EDU_DMABUF_IOCTL_TO_DEVICE, &x))
		die("EDU_DMABUF_IOCTL_TO_DEVICE");
	printf("14. %s read it by DMA: CRC-32 %#010x\n", edu_path[1], x.crc32);
	check(x.crc32 == crc, "the device received exactly what was written into the BAR");

	memset(&x, 0, sizeof(x));
	x.fd = fd;
	x.offset = OFF2;
	x.len = LEN2;
	x.seed = SEED2;
	if (ioctl(edu32, EDU_DMABUF_IOCTL_FROM_DEVICE, &x))
		die("EDU_DMABUF_IOCTL_FROM_DEVICE");
	printf("15. It writes a pattern (seed %#x) into bytes %d to %d by DMA.\n",
	       SEED2, OFF2, OFF2 + LEN2 - 1);
	close(edu28);
	close(edu32);
	close(fd);
	send_msg(sock, -1, done);
	return failures ? 1 : 0;
}

/* The highest DMA address of the mapping of @fd for the device @edu. */
static unsigned long long dma_last(int edu, int fd)
{
	struct edu_dmabuf_map_info info;
	unsigned long long last = 0;
	unsigned int i;

	memset(&info, 0, sizeof(info));
	info.fd = fd;
	if (ioctl(edu, EDU_DMABUF_IOCTL_MAP_INFO, &info))
		die("EDU_DMABUF_IOCTL_MAP_INFO");
	for (i = 0; i < info.nr_segs && i < EDU_DMABUF_MAX_SEGS; i++)
		if (info.segs[i].addr + info.segs[i].len - 1 > last)
			last = info.segs[i].addr + info.segs[i].len - 1;
	return last;
}

/*
 * lsdmabuf (tools/dma-buf) on the buffer behind @fd: its devices and the
 * processes holding it, of which this one and its parent.
 */
static void show_holders(int fd)
{
	char line[256], want[2][32];
	bool seen[2] = { false, false };
	struct stat st;
	bool mine = false;
	FILE *p;
	int i;

	if (fstat(fd, &st))
		die("fstat");
	printf("    lsdmabuf (tools/dma-buf) lists the buffer, from /proc and debugfs:\n");
	snprintf(want[0], sizeof(want[0]), "held by: pid %d,", getppid());
	snprintf(want[1], sizeof(want[1]), "held by: pid %d,", getpid());
	fflush(stdout);
	p = popen("lsdmabuf", "r");
	if (!p)
		die("lsdmabuf");
	while (fgets(line, sizeof(line), p)) {
		/* This buffer's paragraph, up to the next one. */
		if (!strncmp(line, "inode ", 6))
			mine = strtoul(line + 6, NULL, 10) == st.st_ino;
		else if (line[0] != ' ')
			mine = false;
		if (!mine)
			continue;
		printf("      %s", line);
		for (i = 0; i < 2; i++)
			seen[i] |= !!strstr(line, want[i]);
	}
	if (pclose(p))
		die("lsdmabuf");
	check(seen[0] && seen[1],
	      "both processes hold it: the first by fd and mapping, this one by fd");
}

/* Act three's second process: the 28-bit device comes late. */
static int late_importer(int sock)
{
	struct edu_dmabuf_attach a;
	struct edu_dmabuf_xfer x;
	unsigned long long last;
	int edu28, fd, err;
	__u32 crc;

	fd = recv_msg(sock, &crc);
	printf("20. Process %d received it as fd %d. The 28-bit device attaches late;\n"
	       "    no importer holds a mapping and no CPU access is in progress, so\n"
	       "    the core may move the storage where both devices reach it:\n",
	       getpid(), fd);
	edu28 = open(edu_path[0], O_RDWR | O_CLOEXEC);
	if (edu28 < 0)
		die(edu_path[0]);
	a = (struct edu_dmabuf_attach){ .fd = fd };
	err = ioctl(edu28, EDU_DMABUF_IOCTL_ATTACH, &a) ? errno : 0;
	printf("    %s: %s\n", edu_path[0], err ? strerror(err) : "attached");
	check(!err, "a late device out of reach is accepted: the storage follows it");
	last = dma_last(edu28, fd);
	printf("    it sees the buffer up to DMA address %#010llx\n", last);
	check(last < LIMIT28, "every byte lies within the 28-bit device's reach");
	show_holders(fd);

	memset(&x, 0, sizeof(x));
	x.fd = fd;
	x.offset = MOVE_SIZE - SIZE;
	x.len = SIZE;
	if (ioctl(edu28, EDU_DMABUF_IOCTL_TO_DEVICE, &x))
		die("EDU_DMABUF_IOCTL_TO_DEVICE");
	printf("21. The 28-bit device reads the last %d bytes by DMA: CRC-32 %#010x.\n",
	       SIZE, x.crc32);
	check(x.crc32 == crc, "the bytes moved intact: the device received what was written");
	close(edu28);
	close(fd);
	send_msg(sock, -1, 0);
	return failures ? 1 : 0;
}

/* Act three: the storage moves for a device that comes late. */
static void act_three(void)
{
	struct dma_heap_allocation_data alloc = {
		.len = MOVE_SIZE, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	struct dma_heap_allocation_data ballast = {
		.len = BALLAST, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	unsigned long long before, after;
	struct edu_dmabuf_attach a;
	struct edu_dmabuf_xfer x;
	unsigned char *p;
	int heap, edu32;
	__u32 crc, all;
	size_t i;

	printf("\nAct three: the storage moves for a device that comes late\n\n");
	heap = open(HEAP, O_RDONLY | O_CLOEXEC);
	edu32 = open(edu_path[1], O_RDWR | O_CLOEXEC);
	if (heap < 0 || edu32 < 0 || ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc))
		die(HEAP);
	a = (struct edu_dmabuf_attach){ .fd = alloc.fd };
	if (ioctl(alloc.fd, DMA_BUF_SET_NAME, "demo-moving") ||
	    ioctl(edu32, EDU_DMABUF_IOCTL_ATTACH, &a))
		die("attaching the 32-bit device");
	/*
	 * The page allocator hands out low memory first: hold the bottom of
	 * RAM meanwhile, so that the buffer lands where only the 32-bit
	 * device reaches.
	 */
	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &ballast))
		die("allocating the ballast");
	sync_buf(ballast.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	sync_buf(ballast.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	p = mmap(NULL, MOVE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, alloc.fd,
		 0);
	/* The second process must not inherit the mapping: it has its own fd. */
	if (p == MAP_FAILED || madvise(p, MOVE_SIZE, MADV_DONTFORK))
		die("mmap");
	sync_buf(alloc.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	for (i = 0; i < MOVE_SIZE; i++)
		p[i] = "moved, not copied by you. "[i % 26];
	sync_buf(alloc.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	all = crc32_bytes(p, MOVE_SIZE);
	crc = crc32_bytes(p + MOVE_SIZE - SIZE, SIZE);
	memset(&x, 0, sizeof(x));
	x.fd = alloc.fd;
	x.offset = MOVE_SIZE - SIZE;
	x.len = SIZE;
	if (ioctl(edu32, EDU_DMABUF_IOCTL_TO_DEVICE, &x))
		die("EDU_DMABUF_IOCTL_TO_DEVICE");
	before = dma_last(edu32, alloc.fd);
	close(ballast.fd);
	printf("18. Process %d allocated %d bytes and attached only the 32-bit device.\n"
	       "    While a %d MiB ballast buffer held the bottom of RAM, it filled the\n"
	       "    buffer through mmap() (CRC-32 %#010x) and had the device read its\n"
	       "    last %d bytes (CRC-32 %#010x). Placed for that device alone, it lies\n"
	       "    up to DMA address %#010llx. The ballast is gone now.\n",
	       getpid(), MOVE_SIZE, BALLAST >> 20, all, SIZE, x.crc32, before);
	check(x.crc32 == crc, "the 32-bit device read what the CPU wrote");
	if (translated(0))
		printf("    Behind the IOMMU these are I/O virtual addresses: the 28-bit device\n"
		       "    will reach the storage wherever it is, and nothing needs to move.\n");
	else if (before < LIMIT28)
		printf("    It happens to lie below 256 MiB already: the 28-bit device will\n"
		       "    reach it, and nothing needs to move this time.\n");
	else
		printf("    That is above 256 MiB, out of the 28-bit device's reach.\n");
	printf("19. The process keeps its mapping and passes the fd to a second process.\n");

	hand_over(alloc.fd, crc, late_importer);

	after = dma_last(edu32, alloc.fd);
	printf("22. Back in process %d: the 32-bit device now sees the buffer up to\n"
	       "    %#010llx, and the mapping made before the move reads CRC-32 %#010x.\n",
	       getpid(), after, crc32_bytes(p, MOVE_SIZE));
	if (!translated(1) && before >= LIMIT28) {
		check(after < LIMIT28,
		      "the storage moved below 256 MiB, for both devices");
		storage_moved = after < LIMIT28;
	}
	check(crc32_bytes(p, MOVE_SIZE) == all,
	      "the first process sees the same bytes through its old mapping");

	munmap(p, MOVE_SIZE);
	close(edu32);
	close(alloc.fd);
	close(heap);
}

/* Act four: the camera's and the display's frame, YUYV. */
#define FRAME_W	320
#define FRAME_H	180

/*
 * The node of vivid (the test bed's virtual camera and display) whose
 * device capabilities include @cap: its fd, or -1.
 */
static int vivid_node(__u32 cap)
{
	struct v4l2_capability c;
	char path[32];
	int i, fd;

	for (i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&c, 0, sizeof(c));
		if (!ioctl(fd, VIDIOC_QUERYCAP, &c) &&
		    !strcmp((const char *)c.driver, "vivid") &&
		    (c.device_caps & cap) &&
		    (c.device_caps & V4L2_CAP_STREAMING))
			return fd;
		close(fd);
	}
	return -1;
}

/*
 * The same frame every time: no text drawn over vivid's test pattern (the
 * default draws the time). Its "OSD Text Mode" control, by name.
 */
static void camera_without_text(int cam)
{
	struct v4l2_query_ext_ctrl q = { .id = V4L2_CTRL_FLAG_NEXT_CTRL };
	struct v4l2_querymenu m = { 0 };
	struct v4l2_control c = { 0 };

	while (!ioctl(cam, VIDIOC_QUERY_EXT_CTRL, &q) &&
	       strcmp(q.name, "OSD Text Mode"))
		q.id |= V4L2_CTRL_FLAG_NEXT_CTRL;
	if (strcmp(q.name, "OSD Text Mode"))
		die("vivid's OSD Text Mode control");
	m.id = q.id;
	for (m.index = q.minimum; m.index <= q.maximum; m.index++)
		if (!ioctl(cam, VIDIOC_QUERYMENU, &m) &&
		    !strcmp((const char *)m.name, "None"))
			break;
	c.id = q.id;
	c.value = m.index;
	if (m.index > q.maximum || ioctl(cam, VIDIOC_S_CTRL, &c))
		die("no OSD text");
}

/* YUYV at FRAME_W x FRAME_H on a queue of @type: the driver's format. */
static struct v4l2_pix_format frame_format(int node, __u32 type)
{
	struct v4l2_format f = { .type = type };

	if (ioctl(node, VIDIOC_G_FMT, &f))
		die("VIDIOC_G_FMT");
	f.fmt.pix.width = FRAME_W;
	f.fmt.pix.height = FRAME_H;
	f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	f.fmt.pix.bytesperline = 0;
	f.fmt.pix.sizeimage = 0;
	if (ioctl(node, VIDIOC_S_FMT, &f) ||
	    f.fmt.pix.pixelformat != V4L2_PIX_FMT_YUYV)
		die("VIDIOC_S_FMT");
	return f.fmt.pix;
}

static void streaming(int node, __u32 type, bool on)
{
	if (ioctl(node, on ? VIDIOC_STREAMON : VIDIOC_STREAMOFF, &type))
		die(on ? "VIDIOC_STREAMON" : "VIDIOC_STREAMOFF");
}

/* @count buffers of @memory on a queue of @type (0: free them). */
static void queue_buffers(int node, __u32 type, __u32 memory, __u32 count)
{
	struct v4l2_requestbuffers r = {
		.count = count, .type = type, .memory = memory,
	};

	if (ioctl(node, VIDIOC_REQBUFS, &r) || r.count < count)
		die("VIDIOC_REQBUFS");
}

/* The CRC-32 of @fd's first @len bytes, read through a mapping. */
static __u32 mapped_crc(int fd, size_t len)
{
	unsigned char *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	__u32 crc;

	if (p == MAP_FAILED)
		die("mmap");
	sync_buf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	crc = crc32_bytes(p, len);
	sync_buf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	munmap(p, len);
	return crc;
}

/*
 * One frame of the camera, into @fd (V4L2_MEMORY_DMABUF) or, if @fd is
 * -1, into a buffer of its own. Returns the CRC-32 of the frame's @len
 * bytes as the CPU reads them; the dequeued buffer in @b.
 */
static __u32 camera_frame(int cam, int fd, size_t len, struct v4l2_buffer *b)
{
	const __u32 type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	__u32 memory = fd < 0 ? V4L2_MEMORY_MMAP : V4L2_MEMORY_DMABUF;
	unsigned char *p;
	__u32 crc;

	queue_buffers(cam, type, memory, 1);
	*b = (struct v4l2_buffer){ .type = type, .memory = memory };
	b->m.fd = fd;
	if (ioctl(cam, VIDIOC_QBUF, b))
		die("VIDIOC_QBUF (camera)");
	streaming(cam, type, true);
	*b = (struct v4l2_buffer){ .type = type, .memory = memory };
	if (ioctl(cam, VIDIOC_DQBUF, b) || b->bytesused < len)
		die("VIDIOC_DQBUF (camera)");
	if (fd < 0) {
		p = mmap(NULL, b->length, PROT_READ, MAP_SHARED, cam,
			 b->m.offset);
		if (p == MAP_FAILED)
			die("mmap (the camera's buffer)");
		crc = crc32_bytes(p, len);
		munmap(p, b->length);
	} else {
		crc = mapped_crc(fd, len);
	}
	streaming(cam, type, false);
	queue_buffers(cam, type, memory, 0);
	return crc;
}

/* Act four: a camera, a processor and a display share one buffer. */
static void act_four(void)
{
	const __u32 out = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	struct dma_heap_allocation_data alloc = {
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	struct dma_heap_allocation_data next = {
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	struct v4l2_pix_format pix, opix;
	struct edu_dmabuf_attach a;
	struct edu_dmabuf_xfer x;
	int cam, disp, heap, edu32;
	long page = sysconf(_SC_PAGESIZE);
	struct v4l2_buffer b;
	__u32 ref, crc;

	printf("\nAct four: a camera, a processor and a display share one buffer\n\n");
	cam = vivid_node(V4L2_CAP_VIDEO_CAPTURE);
	disp = vivid_node(V4L2_CAP_VIDEO_OUTPUT);
	if (cam < 0 || disp < 0) {
		check(false, "vivid's camera and display are there (CONFIG_VIDEO_VIVID)");
		if (cam >= 0)
			close(cam);
		if (disp >= 0)
			close(disp);
		return;
	}
	camera_without_text(cam);
	pix = frame_format(cam, V4L2_BUF_TYPE_VIDEO_CAPTURE);
	opix = frame_format(disp, out);
	if (opix.sizeimage != pix.sizeimage)
		die("the display's frame differs from the camera's");
	ref = camera_frame(cam, -1, pix.sizeimage, &b);
	printf("23. vivid's camera captures %ux%u YUYV frames of %u bytes. Into a\n"
	       "    buffer of its own, its frame has CRC-32 %#010x.\n",
	       pix.width, pix.height, pix.sizeimage, ref);

	heap = open(HEAP, O_RDONLY | O_CLOEXEC);
	edu32 = open(edu_path[1], O_RDWR | O_CLOEXEC);
	alloc.len = (pix.sizeimage + page - 1) / page * page;
	next.len = alloc.len;
	if (heap < 0 || edu32 < 0 || ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc) ||
	    ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &next))
		die(HEAP);
	a = (struct edu_dmabuf_attach){ .fd = alloc.fd };
	if (ioctl(alloc.fd, DMA_BUF_SET_NAME, "demo-frame") ||
	    ioctl(edu32, EDU_DMABUF_IOCTL_ATTACH, &a))
		die("attaching the 32-bit device");
	printf("24. Process %d allocated %llu bytes from the system heap and attached\n"
	       "    the 32-bit edu device, the processor, before the first use.\n",
	       getpid(), (unsigned long long)alloc.len);

	crc = camera_frame(cam, alloc.fd, pix.sizeimage, &b);
	printf("25. The camera imports the buffer (VIDIOC_QBUF, V4L2_MEMORY_DMABUF) and\n"
	       "    captures frame %u into it: CRC-32 %#010x through a mapping.\n",
	       b.sequence, crc);
	check(crc == ref,
	      "the camera wrote into the shared buffer the frame it writes into its own");

	memset(&x, 0, sizeof(x));
	x.fd = alloc.fd;
	x.len = pix.sizeimage;
	if (ioctl(edu32, EDU_DMABUF_IOCTL_TO_DEVICE, &x))
		die("EDU_DMABUF_IOCTL_TO_DEVICE");
	printf("26. The processor reads the frame by DMA from the same buffer: it\n"
	       "    received CRC-32 %#010x.\n", x.crc32);
	check(x.crc32 == crc, "the processor received the camera's frame");

	/* The display gives a frame back once the next one is queued. */
	queue_buffers(disp, out, V4L2_MEMORY_DMABUF, 2);
	b = (struct v4l2_buffer){
		.type = out, .memory = V4L2_MEMORY_DMABUF, .index = 0,
		.bytesused = pix.sizeimage,
	};
	b.m.fd = alloc.fd;
	if (ioctl(disp, VIDIOC_QBUF, &b))
		die("VIDIOC_QBUF (display)");
	b.index = 1;
	b.m.fd = next.fd;
	if (ioctl(disp, VIDIOC_QBUF, &b))
		die("VIDIOC_QBUF (display)");
	streaming(disp, out, true);
	b = (struct v4l2_buffer){ .type = out, .memory = V4L2_MEMORY_DMABUF };
	if (ioctl(disp, VIDIOC_DQBUF, &b))
		die("VIDIOC_DQBUF (display)");
	streaming(disp, out, false);
	queue_buffers(disp, out, V4L2_MEMORY_DMABUF, 0);
	crc = mapped_crc(alloc.fd, pix.sizeimage);
	printf("27. The display imports the same buffer and shows it as frame %u\n"
	       "    (%u bytes); afterwards the buffer still reads CRC-32 %#010x.\n",
	       b.sequence, b.bytesused, crc);
	check(b.index == 0 && !(b.flags & V4L2_BUF_FLAG_ERROR) &&
	      b.bytesused == pix.sizeimage,
	      "the display took the whole frame from the shared buffer");
	check(crc == ref, "the display left the frame as the camera wrote it");
	printf("28. One buffer went from the camera to the processor to the display;\n"
	       "    the CPU copied nothing, it only read the frame to check.\n");

	close(next.fd);
	close(alloc.fd);
	close(edu32);
	close(heap);
	close(disp);
	close(cam);
}

static unsigned long long bar2_start(void)
{
	unsigned long long start = 0, end, flags;
	FILE *f = fopen(BARRES, "r");
	int i;

	if (!f)
		return 0;
	for (i = 0; i <= 2; i++)
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3)
			start = 0;
	fclose(f);
	return start;
}

/* Act two, on memory without struct page. */
static void act_two(void)
{
	struct dma_heap_allocation_data alloc = {
		.len = SIZE, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	struct edu_dmabuf_map_info info;
	struct edu_dmabuf_xfer x;
	unsigned long long bar2 = bar2_start();
	unsigned char marker[32], *p;
	char hex[2 * sizeof(marker) + 1];
	int heap, edu32, ok;
	size_t i;
	FILE *results;
	__u32 crc;

	printf("\nAct two: the same journey on memory without struct page\n\n");
	heap = open(BARHEAP, O_RDONLY | O_CLOEXEC);
	if (heap < 0 || ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc))
		die(BARHEAP);
	printf("10. Process %d allocated %d bytes from %s: fd %u.\n"
	       "    Its memory is BAR 2 of the ivshmem device (at %#llx), a file on the\n"
	       "    host: no struct page, and placed from the start.\n",
	       getpid(), SIZE, BARHEAP, alloc.fd, bar2);

	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, alloc.fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	crc = fill(alloc.fd, p, "no struct page here. ");
	printf("11. It fills it through a write-combining mapping: CRC-32 %#010x.\n",
	       crc);
	printf("12. It passes the fd to a second process over SCM_RIGHTS.\n");
	hand_over(alloc.fd, crc, bar_importer);

	ok = count_pattern(alloc.fd, p + OFF2, LEN2, SEED2);
	printf("16. Process %d sees %d of %d bytes of the pattern through its mapping;\n",
	       getpid(), ok, LEN2);
	check(ok == LEN2, "the first process sees exactly what the device wrote");

	edu32 = open(edu_path[1], O_RDWR | O_CLOEXEC);
	memset(&x, 0, sizeof(x));
	x.fd = alloc.fd;
	x.offset = OFF2;
	x.len = LEN2;
	if (edu32 < 0 || ioctl(edu32, EDU_DMABUF_IOCTL_KMAP_CRC, &x))
		die("EDU_DMABUF_IOCTL_KMAP_CRC");
	printf("    the kernel, through dma_buf_kmap() on the BAR, reads CRC-32 %#010x.\n",
	       x.crc32);
	check(x.crc32 == pattern_crc(SEED2, LEN2),
	      "the kernel's mapping of the BAR shows the device's writes");

	memset(&info, 0, sizeof(info));
	info.fd = alloc.fd;
	if (ioctl(edu32, EDU_DMABUF_IOCTL_MAP_INFO, &info) || !bar2)
		die("locating the buffer in the BAR");
	if (getrandom(marker, sizeof(marker), 0) != sizeof(marker))
		die("getrandom");
	sync_buf(alloc.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	memcpy(p + SIZE - sizeof(marker), marker, sizeof(marker));
	sync_buf(alloc.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	for (i = 0; i < sizeof(marker); i++)
		sprintf(hex + 2 * i, "%02x", marker[i]);
	printf("17. The device sees the buffer at %#llx (BAR 2 starts at %#llx). The\n"
	       "    process writes a random marker into its last %zu bytes: the host\n"
	       "    finds it in its file after power-off and checks the device's bytes\n"
	       "    next to it.\n",
	       (unsigned long long)info.segs[0].addr, bar2, sizeof(marker));
	results = fopen(RESULTS, "w");
	if (results) {
		fprintf(results,
			"HOST-CHECK ivshmem marker=%s at=%zu offset=%d len=%d seed=%u\n",
			hex, SIZE - sizeof(marker), OFF2, LEN2, SEED2);
		fclose(results);
	}
	close(edu32);
	munmap(p, SIZE);
	close(alloc.fd);
	close(heap);
}

int main(void)
{
	struct dma_heap_allocation_data alloc = {
		.len = SIZE, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	struct edu_dmabuf_attach a;
	struct utsname uts;
	unsigned char *p;
	int heap, edu[2], d, ok;
	__u32 crc;

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
	crc = fill(alloc.fd, p, "dma-buf, 2012 design. ");
	printf("3. It fills the buffer through mmap(), bracketed by DMA_BUF_IOCTL_SYNC:\n"
	       "   \"%.22s...\", CRC-32 %#010x. This first use placed the storage.\n",
	       (char *)p, crc);

	hand_over(alloc.fd, crc, importer);

	ok = count_pattern(alloc.fd, p, SIZE, SEED);
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

	act_two();
	act_three();
	act_four();

	if (failures) {
		printf("\nVerdict: FAIL (%d check%s did not hold)\n", failures,
		       failures == 1 ? "" : "s");
		return 1;
	}
	printf("\nVerdict: PASS (every check held in the guest: the devices read what\n"
	       "the CPU wrote and the CPU reads what a device wrote, through shared\n"
	       "buffers in RAM and in a BAR, %s\n"
	       "and from a camera through a device to a display; the host's check of\n"
	       "its file follows)\n",
	       storage_moved ? "across a move of the storage," :
	       "(the storage had no need to move this time),");
	return 0;
}
