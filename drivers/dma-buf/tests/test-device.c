// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers of the dma-buf KUnit suites: devices with the DMA constraints
 * of real hardware, and a process's footprint as the OOM killer sees it.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <kunit/visibility.h>
#include <linux/device.h>
#include <linux/dma-direct.h>
#include <linux/memblock.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "../dma-buf-internal.h"
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
 * Where RAM does not start at physical address 0 (arm64), the device's
 * DMA address 0 is the lowest RAM, as the dma-ranges of such machines'
 * buses say: a mask then means the same amount of memory on every
 * architecture, and dma_buf_test_phys() turns it into the physical limit.
 * On arm64 the device is not cache-coherent, so the DMA API does cache
 * maintenance for it.
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
	struct bus_dma_region *map;
	phys_addr_t base;

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

	base = dma_buf_lowest_ram();
	if (base) {
		/* Freed with the device, by the driver core. */
		map = kcalloc(2, sizeof(*map), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, map);
		map[0].cpu_start = base;
		map[0].dma_start = 0;
		map[0].size = (u64)PHYS_ADDR_MAX - base + 1;
		td->dev->dma_range_map = map;
	}
	return td->dev;
}
EXPORT_SYMBOL_IF_KUNIT(dma_buf_test_device);

/**
 * dma_buf_test_phys() - the physical limit of a test device's DMA limit
 * @dma_limit: a DMA mask or bus limit of a device from
 *	dma_buf_test_device().
 *
 * Context: Any context.
 * Return: The highest physical address the device reaches.
 */
phys_addr_t dma_buf_test_phys(u64 dma_limit)
{
	return dma_buf_lowest_ram() + dma_limit;
}
EXPORT_SYMBOL_IF_KUNIT(dma_buf_test_phys);

/**
 * dma_buf_test_zone_dma_mask() - a mask that reaches exactly ZONE_DMA
 *
 * For a device from dma_buf_test_device(): one that reaches ZONE_DMA and
 * nothing above, the narrowest reach the page allocator can honour on
 * every architecture (16 MiB on x86, 4 GiB on arm64).
 *
 * Context: Any context.
 * Return: The mask, or 0 if this machine has no memory above ZONE_DMA.
 */
u64 dma_buf_test_zone_dma_mask(void)
{
	if (PFN_PHYS(max_pfn) - 1 <= zone_dma_limit)
		return 0;
	return zone_dma_limit - dma_buf_lowest_ram();
}
EXPORT_SYMBOL_IF_KUNIT(dma_buf_test_zone_dma_mask);

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
EXPORT_SYMBOL_IF_KUNIT(dma_buf_test_shmem_pages);
