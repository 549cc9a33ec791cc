// SPDX-License-Identifier: GPL-2.0-only
/*
 * The edu importer's own lifetime rules: several processes share a device
 * chunk by chunk, a hung device keeps what it may still write into until
 * it is removed and then lets go of everything, memory allocated for the
 * device goes back before its driver can go, and the driver's defaults
 * name no particular machine.
 *
 * These tests unbind, rebind and reload the driver; the guest runs them
 * after the other edu tests.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "dmabuf-util.h"

#define DRIVER		"/sys/bus/pci/drivers/edu_dmabuf"
#define PARAMS		"/sys/module/edu_dmabuf/parameters"

static void read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);

	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (fd >= 0)
		close(fd);
}

/* The width of a PCI device's DMA mask, as sysfs reports it, or 0. */
static int mask_bits(const char *slot)
{
	char path[128], buf[16];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/dma_mask_bits",
		 slot);
	read_file(path, buf, sizeof(buf));
	return atoi(buf);
}

struct long_xfer {
	int edu, fd, ret;
	size_t size;
	uint32_t crc;
	int done;
};

static void *run_long_xfer(void *arg)
{
	struct long_xfer *t = arg;

	t->ret = edu_to_device(t->edu, t->fd, 0, t->size, &t->crc);
	__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static bool done(struct long_xfer *t)
{
	return __atomic_load_n(&t->done, __ATOMIC_SEQ_CST);
}

/*
 * The device does one chunk at a time and is held for one chunk only: a
 * short transfer from another file, and the close of another file,
 * complete while a long transfer (24 chunks, about five seconds) goes on.
 * Each waits for at most the chunk in flight; had either waited for the
 * whole long transfer, that one would have finished by the time of the
 * check, a second after them.
 */
TEST(transfers_interleave)
{
	struct long_xfer t = { .size = 96 << 10 };
	int heap, other, small, edu;
	uint32_t crc, small_crc, got = 0;
	pthread_t thread;

	heap = open(SYSTEM_HEAP, O_RDONLY | O_CLOEXEC);
	t.edu = open(EDU32, O_RDWR | O_CLOEXEC);
	other = open(EDU32, O_RDWR | O_CLOEXEC);
	if (heap < 0 || t.edu < 0 || other < 0)
		SKIP(return, "%s or %s missing (needs the test bed)",
		     SYSTEM_HEAP, EDU32);
	t.fd = heap_alloc(heap, t.size, O_RDWR | O_CLOEXEC);
	small = heap_alloc(heap, 4096, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, t.fd);
	ASSERT_LE(0, small);
	crc = fill(t.fd, t.size, 0x6b);
	small_crc = fill(small, 64, 0x17);

	ASSERT_EQ(0, pthread_create(&thread, NULL, run_long_xfer, &t));
	usleep(300000);
	ASSERT_FALSE(done(&t)) TH_LOG("the long transfer was not long");

	ASSERT_EQ(0, edu_to_device(other, small, 0, 64, &got));
	EXPECT_EQ(small_crc, got);
	edu = open(EDU32, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, edu);
	ASSERT_EQ(0, edu_attach(edu, small, true));
	EXPECT_EQ(0, close(edu));
	sleep(1);
	EXPECT_FALSE(done(&t))
		TH_LOG("the short transfer or the close waited for the long transfer");

	ASSERT_EQ(0, pthread_join(thread, NULL));
	EXPECT_EQ(0, t.ret);
	EXPECT_EQ(crc, t.crc);
	close(small);
	close(t.fd);
	close(other);
	close(t.edu);
	close(heap);
}

/*
 * A device that does not complete a DMA in time: the call fails with
 * ETIMEDOUT, the device is disabled (EIO), and the buffer it may still
 * write into stays mapped, whoever closes what, until the device is
 * removed; then every reference is gone. The device comes back on rebind.
 * (The 32-bit device: it reaches memory in every pass of make test.)
 */
TEST(timeout_holds_buffer_until_removal)
{
	char old_timeout[32];
	int heap, edu, fd, before;
	uint32_t crc = 0;

	heap = open(SYSTEM_HEAP, O_RDONLY | O_CLOEXEC);
	edu = open(EDU32, O_RDWR | O_CLOEXEC);
	if (heap < 0 || edu < 0 || access(PARAMS "/timeout_ms", W_OK))
		SKIP(return, "%s, %s or %s missing (needs the test bed)",
		     SYSTEM_HEAP, EDU32, PARAMS "/timeout_ms");
	before = live_buffers();
	ASSERT_LE(0, before);
	fd = heap_alloc(heap, 4096, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	/* Through a registered attachment, which has a reference of its own. */
	ASSERT_EQ(0, edu_attach(edu, fd, true));

	/* A DMA takes 100 ms: one millisecond is a hung device. */
	read_file(PARAMS "/timeout_ms", old_timeout, sizeof(old_timeout));
	ASSERT_EQ(0, write_file(PARAMS "/timeout_ms", "1"));
	EXPECT_EQ(-ETIMEDOUT, edu_to_device(edu, fd, 0, 64, &crc));
	ASSERT_EQ(0, write_file(PARAMS "/timeout_ms", old_timeout));
	EXPECT_EQ(-EIO, edu_to_device(edu, fd, 0, 64, &crc));

	ASSERT_EQ(0, close(edu));
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(before + 1, live_buffers())
		TH_LOG("the mapping the device may still use was released");

	ASSERT_EQ(0, write_file(DRIVER "/unbind", EDU32_SLOT));
	EXPECT_EQ(before, live_buffers()) TH_LOG("a reference leaked");

	ASSERT_EQ(0, write_file(DRIVER "/bind", EDU32_SLOT));
	edu = open(EDU32, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, edu);
	fd = heap_alloc(heap, 4096, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, edu_attach(edu, fd, true));
	EXPECT_EQ(0, edu_to_device(edu, fd, 0, 64, &crc));
	close(fd);
	close(edu);
	close(heap);
}

/*
 * Where every mapping is bounced, a buffer the 32-bit device takes in one
 * piece is memory the DMA API allocated for that device (from CMA, where
 * the DMA API takes blocks first). When the device detaches, the storage
 * moves out of it, every byte with it, and the DMA API has its memory
 * back before the driver can be unbound (its debugging would report
 * memory still allocated for the device). The buffer outlives the
 * driver, and the device reads it again after a rebind.
 */
TEST(own_memory_given_back_before_unbind)
{
	const size_t size = 4 << 20, end = 2048;
	uint32_t got = 0;
	int heap, edu, fd;
	long long cma;

	heap = open(SYSTEM_HEAP, O_RDONLY | O_CLOEXEC);
	edu = open(EDU32, O_RDWR | O_CLOEXEC);
	if (heap < 0 || edu < 0)
		SKIP(return, "%s or %s missing (needs the test bed)",
		     SYSTEM_HEAP, EDU32);
	if (dma_path_of(EDU32_SLOT) != DMA_BOUNCED)
		SKIP(return, "32-bit device not bounced here: nothing allocated for it");
	cma = cma_pages_in_use();
	ASSERT_LE(0, cma) TH_LOG("no /sys/kernel/mm/cma (CONFIG_CMA_SYSFS)");
	fd = heap_alloc(heap, size, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, edu_attach_one_piece(edu, fd));
	ASSERT_EQ(0, edu_from_device(edu, fd, size - end, end, 0x77));
	EXPECT_EQ(cma + (long long)(size / sysconf(_SC_PAGESIZE)),
		  cma_pages_in_use()) TH_LOG("not the DMA API's block from CMA");
	ASSERT_EQ(0, edu_attach(edu, fd, false));
	EXPECT_EQ(cma, cma_pages_in_use())
		TH_LOG("the device's memory kept after it detached");
	EXPECT_TRUE(holds_pattern(fd, size, size - end, end, 0x77));

	ASSERT_EQ(0, close(edu));
	ASSERT_EQ(0, write_file(DRIVER "/unbind", EDU32_SLOT));
	ASSERT_EQ(0, write_file(DRIVER "/bind", EDU32_SLOT));
	edu = open(EDU32, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, edu);
	EXPECT_EQ(0, edu_to_device(edu, fd, size - end, end, &got));
	EXPECT_EQ(pattern_crc(0x77, end), got);
	close(fd);
	close(edu);
	close(heap);
}

static int unload(const char *name)
{
	return syscall(__NR_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

/*
 * Without its dma_bits parameter the driver gives every device the edu's
 * own 28 bits: the test bed's 32-bit slot is named on the kernel command
 * line by the harness, not in the driver. Reloaded with modprobe (which
 * reads the command line), the slot is 32-bit again.
 */
TEST(dma_bits_default_names_no_slot)
{
	bool refused;

	if (access(EDU32, F_OK))
		SKIP(return, "%s missing (needs the test bed)", EDU32);
	ASSERT_EQ(32, mask_bits(EDU32_SLOT));

	refused = edu28_refused_at_probe();

	ASSERT_EQ(0, unload("edu_dmabuf"));
	ASSERT_EQ(0, system("insmod $(find /lib/modules -name edu_dmabuf.ko)"));
	if (refused) {
		/* 28 bits reach no memory here: the driver takes neither. */
		EXPECT_NE(0, access(EDU28, F_OK));
		EXPECT_NE(0, access(EDU32, F_OK));
	} else {
		EXPECT_EQ(28, mask_bits(EDU28_SLOT));
		EXPECT_EQ(28, mask_bits(EDU32_SLOT));
	}

	ASSERT_EQ(0, unload("edu_dmabuf"));
	ASSERT_EQ(0, system("modprobe edu_dmabuf"));
	/* Refused at probe again, or 28 bits again. */
	EXPECT_EQ(refused, access(EDU28, F_OK) != 0);
	if (!refused)
		EXPECT_EQ(28, mask_bits(EDU28_SLOT));
	EXPECT_EQ(32, mask_bits(EDU32_SLOT));
}

TEST_HARNESS_MAIN
