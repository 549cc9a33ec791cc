// SPDX-License-Identifier: GPL-2.0-only
/*
 * make bench's programs, once, with tiny counts, so that they cannot rot
 * between benchmark runs: dmabuf-bench (the guest's /usr/bin) and its
 * kernel half, dmabuf_bench.ko, built against this kernel by the harness.
 * Every row of the table must come out with a figure, and the program
 * must exit 0. Nothing is asserted about the figures: a benchmark is not
 * a timed test (make bench measures, under QEMU's -icount).
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"

#define MODULE	"/usr/lib/dma-buf-selftests/dmabuf_bench.ko"

/* Every row the smoke run (-s: no 64 MiB and 1 GiB buffers) prints. */
static const char * const rows[] = {
	"heap_alloc_close_4k", "heap_alloc_close_1m",
	"heap_alloc_touch_close_1m", "heap_retouch_1m", "udmabuf_retouch_1m",
	"heap_pages_get_free_1m", "heap_alloc_sync_close_1m",
	"heap_alloc_sync_close_4k", "heap_pages_get_free_1m_sync",
	"export_put", "slab_per_buffer", "export_put_live",
	"fd_get_put_close", "floor_fd_get_put_close",
	"get_put", "get_put_2000_live", "get_put_live", "attach_detach_1",
	"map_unmap_cached_1", "attach_detach_16", "map_unmap_cached_16",
	"attach_detach_256", "map_unmap_cached_256", "begin_end",
	"begin_end_heap",
	"floor_kmap_kunmap", "floor_kmap_copy_kunmap", "kmap_kunmap",
	"kmap_copy_kunmap", "cpu_view_1m_kmaps", "cpu_view_1m_vmap",
	"cpu_view_1m_vmap_shared", "map_1m",
	"v4l2_frame_shared", "v4l2_frame_copied", "contig_8m_alloc_first_use",
};

TEST(every_row_once)
{
	char line[256], key[64], seen[ARRAY_SIZE(rows)] = { 0 };
	unsigned long long v;
	unsigned int i;
	FILE *p;
	int st;

	if (access(MODULE, R_OK))
		SKIP(return, "%s is not installed (the harness builds it)", MODULE);
	p = popen("dmabuf-bench -s -n 1 -l 10 -m " MODULE, "r");
	ASSERT_NE(NULL, p);
	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, "%63s %llu", key, &v) != 2)
			continue;
		for (i = 0; i < ARRAY_SIZE(rows); i++)
			if (!strcmp(key, rows[i]))
				seen[i]++;
	}
	st = pclose(p);
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		if (seen[i] != 1)
			TH_LOG("row %s: printed %d times", rows[i], seen[i]);
		EXPECT_EQ(1, seen[i]);
	}
}

TEST_HARNESS_MAIN
