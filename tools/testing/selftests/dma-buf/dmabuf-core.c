// SPDX-License-Identifier: GPL-2.0-only
/*
 * dma-buf core, from userspace: the debugfs listing of live buffers.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kselftest_harness.h"

#define BUFINFO "/sys/kernel/debug/dma_buf/bufinfo"

/*
 * The listing: a header line, one line per buffer (size first), a
 * tab-indented line per attached device, and "Total N objects, M bytes".
 * N and M must agree with the buffer lines.
 */
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
