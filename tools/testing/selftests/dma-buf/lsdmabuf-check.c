// SPDX-License-Identifier: GPL-2.0-only
/*
 * tools/dma-buf/lsdmabuf against buffers this test creates and knows:
 * their sizes, exporter, names, attached device, and which process holds
 * each by descriptor or by mapping. Needs lsdmabuf on PATH (the guest's
 * /usr/bin) and root (the debugfs listing, other processes' /proc).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "dmabuf-util.h"

/* The tool's whole output, NUL-terminated (malloc'd), or NULL. */
static char *run_tool(const char *cmd)
{
	size_t len = 0, size = 1 << 16;
	char *out = malloc(size);
	FILE *p = popen(cmd, "r");
	size_t n;

	if (!out || !p) {
		free(out);
		if (p)
			pclose(p);
		return NULL;
	}
	while ((n = fread(out + len, 1, size - len - 1, p)) > 0)
		len += n;
	out[len] = '\0';
	if (pclose(p)) {
		free(out);
		return NULL;
	}
	return out;
}

static unsigned long ino_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

FIXTURE(lsdmabuf) {
	int heap;
};

FIXTURE_SETUP(lsdmabuf)
{
	self->heap = open(SYSTEM_HEAP, O_RDONLY | O_CLOEXEC);
	if (self->heap < 0)
		SKIP(return, "%s: %s (needs CONFIG_DMABUF_HEAPS_SYSTEM)",
		     SYSTEM_HEAP, strerror(errno));
	if (system("command -v lsdmabuf >/dev/null"))
		SKIP(return, "lsdmabuf is not on PATH (tools/dma-buf, installed by the harness)");
	if (access(BUFINFO, R_OK))
		SKIP(return, "%s: %s (needs debugfs and root)", BUFINFO,
		     strerror(errno));
}

FIXTURE_TEARDOWN(lsdmabuf)
{
	if (self->heap >= 0)
		close(self->heap);
}

/*
 * Buffer A (3 pages, "lsd-a"): two descriptors in this process, and a
 * mapping without a descriptor in a child. Buffer B (5 pages, "lsd-b"):
 * one descriptor here, attached to the 32-bit edu device when present.
 * The JSON lines and the text name exactly that, and the per-process
 * totals add the sizes up; once everything is closed, neither is listed.
 */
TEST_F(lsdmabuf, holders_sizes_names_devices)
{
	long page = sysconf(_SC_PAGESIZE);
	int a, a2, b, edu, ready[2], go[2], status;
	char expect[512], devices[64] = "[]", *out;
	unsigned long ino_a, ino_b;
	pid_t pid, child;
	char c = 0;
	void *m;

	a = heap_alloc(self->heap, 3 * page, O_RDWR | O_CLOEXEC);
	b = heap_alloc(self->heap, 5 * page, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, ioctl(a, DMA_BUF_SET_NAME, "lsd-a"));
	ASSERT_EQ(0, ioctl(b, DMA_BUF_SET_NAME, "lsd-b"));
	ino_a = ino_of(a);
	ino_b = ino_of(b);
	edu = open(EDU32, O_RDWR | O_CLOEXEC);
	if (edu >= 0) {
		ASSERT_EQ(0, edu_attach(edu, b, true));
		snprintf(devices, sizeof(devices),
			 "[\"edu_dmabuf %s\"]", EDU32_SLOT);
	} else {
		TH_LOG("no %s: buffer B has no device attached", EDU32);
	}

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		m = mmap(NULL, 3 * page, PROT_READ, MAP_SHARED, a, 0);
		close(a);
		close(b);
		if (edu >= 0)
			close(edu);
		if (m == MAP_FAILED || write(ready[1], &c, 1) != 1)
			_exit(1);
		_exit(read(go[0], &c, 1) == 1 ? 0 : 1);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	/* Close-on-exec, as every descriptor here: the tool must not inherit it. */
	a2 = fcntl(a, F_DUPFD_CLOEXEC, a + 1);
	ASSERT_LT(a, a2);
	pid = getpid();

	out = run_tool("lsdmabuf -j");
	ASSERT_NE(NULL, out);
	snprintf(expect, sizeof(expect),
		 "\n{\"inode\":%lu,\"size\":%ld,\"exporter\":\"system\",\"name\":\"lsd-a\",\"devices\":[],\"holders\":[{\"pid\":%d,\"fds\":[%d,%d],\"mappings\":0},{\"pid\":%d,\"fds\":[],\"mappings\":1}]}",
		 ino_a, 3 * page, pid, a, a2, child);
	EXPECT_NE(NULL, strstr(out, expect))
		TH_LOG("no line %s in:\n%s", expect + (expect[0] == '\n'), out);
	snprintf(expect, sizeof(expect),
		 "\n{\"inode\":%lu,\"size\":%ld,\"exporter\":\"system\",\"name\":\"lsd-b\",\"devices\":%s,\"holders\":[{\"pid\":%d,\"fds\":[%d],\"mappings\":0}]}",
		 ino_b, 5 * page, devices, pid, b);
	EXPECT_NE(NULL, strstr(out, expect))
		TH_LOG("no line %s in:\n%s", expect + (expect[0] == '\n'), out);
	snprintf(expect, sizeof(expect),
		 "\n{\"pid\":%d,\"command\":\"lsdmabuf-check\",\"buffers\":2,\"bytes\":%ld}",
		 pid, 8 * page);
	EXPECT_NE(NULL, strstr(out, expect))
		TH_LOG("no line %s in:\n%s", expect + (expect[0] == '\n'), out);
	snprintf(expect, sizeof(expect),
		 "\n{\"pid\":%d,\"command\":\"lsdmabuf-check\",\"buffers\":1,\"bytes\":%ld}",
		 child, 3 * page);
	EXPECT_NE(NULL, strstr(out, expect))
		TH_LOG("no line %s in:\n%s", expect + (expect[0] == '\n'), out);
	free(out);

	out = run_tool("lsdmabuf");
	ASSERT_NE(NULL, out);
	snprintf(expect, sizeof(expect),
		 "inode %lu: %ld bytes, exporter system, name \"lsd-a\"\n  attached: ",
		 ino_a, 3 * page);
	/* No device line for A: the next line is a holder. */
	EXPECT_EQ(NULL, strstr(out, expect));
	snprintf(expect, sizeof(expect),
		 "inode %lu: %ld bytes, exporter system, name \"lsd-a\"\n  held by: pid %d, fd %d,%d\n  held by: pid %d, 1 mapping\n",
		 ino_a, 3 * page, pid, a, a2, child);
	EXPECT_NE(NULL, strstr(out, expect))
		TH_LOG("no line %s in:\n%s", expect + (expect[0] == '\n'), out);
	free(out);

	ASSERT_EQ(1, write(go[1], &c, 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	if (edu >= 0) {
		EXPECT_EQ(0, edu_attach(edu, b, false));
		close(edu);
	}
	close(a);
	close(a2);
	close(b);

	out = run_tool("lsdmabuf -j");
	ASSERT_NE(NULL, out);
	snprintf(expect, sizeof(expect), "\n{\"inode\":%lu,", ino_a);
	EXPECT_EQ(NULL, strstr(out, expect));
	snprintf(expect, sizeof(expect), "\n{\"inode\":%lu,", ino_b);
	EXPECT_EQ(NULL, strstr(out, expect));
	free(out);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

TEST_HARNESS_MAIN
