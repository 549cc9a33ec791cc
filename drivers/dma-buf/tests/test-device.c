// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers of the dma-buf KUnit suites: devices with the DMA constraints
 * of real hardware, and a process's footprint as the OOM killer sees it.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/device.h>
#include <linux/mm.h>

#include "dma-buf-test.h"

struct dma_buf_test_device {
	struct device *dev;
	struct device_dma_parameters parms;
};

/**
 * dma_buf_test_device() - a KUnit device with DMA constraints
 * @test: the test; the device goes away with it.
 * @name: the device's name (and its driver's).
 * @mask: its DMA mask.
 * @bus_limit: its bus DMA limit, 0 for none.
 * @max_seg: its maximum segment size.
 * @boundary: its segment boundary mask.
 *
 * Context: Process context, in a KUnit test.
 * Return: The device. Fails the test if it cannot be created.
 */
struct device *dma_buf_test_device(struct kunit *test, const char *name,
				   u64 mask, u64 bus_limit,
				   unsigned int max_seg,
				   unsigned long boundary)
{
	struct dma_buf_test_device *td;

	td = kunit_kzalloc(test, sizeof(*td), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, td);
	td->dev = kunit_device_register(test, name);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, td->dev);
	td->dev->coherent_dma_mask = mask;
	td->dev->dma_mask = &td->dev->coherent_dma_mask;
	td->dev->bus_dma_limit = bus_limit;
	td->parms.max_segment_size = max_seg;
	td->parms.segment_boundary_mask = boundary;
	td->dev->dma_parms = &td->parms;
	return td->dev;
}

/**
 * dma_buf_test_shmem_pages() - a process's shared-memory resident count
 * @mm: the process's mm.
 *
 * The exact RssShmem count, summed over CPUs (get_mm_counter() reads it
 * without the per-CPU deltas).
 *
 * Context: Process context.
 * Return: The count, in pages.
 */
long dma_buf_test_shmem_pages(struct mm_struct *mm)
{
	return percpu_counter_sum(&mm->rss_stat[MM_SHMEMPAGES]);
}
