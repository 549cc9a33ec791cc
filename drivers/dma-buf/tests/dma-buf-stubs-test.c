// SPDX-License-Identifier: GPL-2.0-only
/*
 * The !CONFIG_DMA_SHARED_BUFFER stubs of <linux/dma-buf.h> and the
 * !CONFIG_DMABUF_HEAPS stubs of <linux/dma-heap.h>, compiled and run in a
 * kernel that has both: this file alone is built as if the options were
 * off, so a driver that calls every entry point still builds and gets the
 * documented errors when they are not configured.
 *
 * The two headers must be the first ones included here: any earlier
 * inclusion would have given this file the real declarations.
 */
#undef CONFIG_DMA_SHARED_BUFFER
#undef CONFIG_DMABUF_HEAPS
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

#include <kunit/test.h>
#include <linux/device.h>
#include <linux/fcntl.h>
#include <linux/mm.h>
#include <linux/module.h>

static const struct dma_buf_ops stub_ops;

static void stubs_fail_with_enodev(struct kunit *test)
{
	struct dma_buf_attachment attach = {};
	struct dma_buf_constraints c = {
		.dma_limit = 1, .max_segment_size = 2, .seg_boundary_mask = 3,
	};
	struct dma_buf dmabuf = {};
	struct device dev = {};
	unsigned long pfn = 1;

	KUNIT_EXPECT_EQ(test, PTR_ERR(dma_buf_export(test, &stub_ops,
						     PAGE_SIZE, O_RDWR)),
			-ENODEV);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dma_buf_export_named(test, &stub_ops,
							   PAGE_SIZE, O_RDWR,
							   "stub")),
			-ENODEV);
	KUNIT_EXPECT_EQ(test, dma_buf_fd(&dmabuf, O_CLOEXEC), -ENODEV);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dma_buf_get(0)), -ENODEV);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dma_buf_attach(&dmabuf, &dev)), -ENODEV);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dma_buf_map_attachment(&attach,
							     DMA_TO_DEVICE)),
			-ENODEV);
	KUNIT_EXPECT_EQ(test, dma_buf_begin_cpu_access(&dmabuf, 0, 1,
						       DMA_TO_DEVICE), -ENODEV);
	KUNIT_EXPECT_NULL(test, dma_buf_kmap(&dmabuf, 0));
	KUNIT_EXPECT_NULL(test, dma_buf_kmap_atomic(&dmabuf, 0));
	KUNIT_EXPECT_EQ(test, PTR_ERR(dma_buf_vmap(&dmabuf)), -ENODEV);
	KUNIT_EXPECT_EQ(test, dma_buf_mmap(&dmabuf, NULL, 0), -ENODEV);
	KUNIT_EXPECT_EQ(test, dma_buf_check_reach(&dev, 0), -ENODEV);
	KUNIT_EXPECT_EQ(test, dma_buf_segment_len(&c, 0, PAGE_SIZE), (size_t)0);
	KUNIT_EXPECT_EQ(test, dma_buf_attachments_constraints(&dmabuf, &c), 0U);
	KUNIT_EXPECT_NULL(test, dma_buf_alloc_pages_below(U64_MAX, 0,
							  GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, PTR_ERR(dma_buf_pages_to_sgt(NULL, 1, &c,
							   GFP_KERNEL)),
			-ENODEV);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dma_buf_map_pages(&attach, NULL, 1,
							DMA_TO_DEVICE)),
			-ENODEV);

	/* The void ones do nothing, and touch nothing. */
	dma_buf_put(&dmabuf);
	get_dma_buf(&dmabuf);
	dma_buf_detach(&dmabuf, &attach);
	dma_buf_unmap_attachment(&attach, NULL, DMA_TO_DEVICE);
	dma_buf_end_cpu_access(&dmabuf, 0, 1, DMA_TO_DEVICE);
	dma_buf_kunmap(&dmabuf, 0, NULL);
	dma_buf_kunmap_atomic(&dmabuf, 0, NULL);
	dma_buf_set_kmap_runs(&dmabuf, &pfn, 0, 1);
	KUNIT_EXPECT_EQ(test, dmabuf.kmap_pages, 0U);
	dma_buf_vunmap(&dmabuf, NULL);
	dma_buf_unmap_pages(&attach, NULL, DMA_TO_DEVICE);
	dma_buf_sync_pages_for_device(&attach, NULL, DMA_TO_DEVICE);
	dma_buf_sync_pages_for_cpu(&attach, NULL, DMA_TO_DEVICE);
	dma_buf_device_constraints(&dev, &c);
	KUNIT_EXPECT_EQ(test, c.dma_limit, 1ULL);
	KUNIT_EXPECT_EQ(test, c.max_segment_size, 2U);
	KUNIT_EXPECT_EQ(test, c.seg_boundary_mask, 3UL);
}

static const struct dma_heap_ops stub_heap_ops;

static void heap_stubs_fail_with_enodev(struct kunit *test)
{
	struct dma_heap heap = { .name = "stub", .ops = &stub_heap_ops };

	KUNIT_EXPECT_EQ(test, dma_heap_register(&heap), -ENODEV);
	dma_heap_unregister(&heap);
}

static struct kunit_case dma_buf_stubs_cases[] = {
	KUNIT_CASE(stubs_fail_with_enodev),
	KUNIT_CASE(heap_stubs_fail_with_enodev),
	{}
};

static struct kunit_suite dma_buf_stubs_suite = {
	.name = "dma_buf_stubs",
	.test_cases = dma_buf_stubs_cases,
};

kunit_test_suite(dma_buf_stubs_suite);
