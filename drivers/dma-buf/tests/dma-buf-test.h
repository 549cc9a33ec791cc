/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the dma-buf KUnit suites.
 */
#ifndef __DMA_BUF_TEST_H
#define __DMA_BUF_TEST_H

#include <linux/types.h>

struct device;
struct kunit;
struct mm_struct;

struct device *dma_buf_test_device(struct kunit *test, const char *name,
				   u64 mask, u64 bus_limit,
				   unsigned int max_seg,
				   unsigned long boundary);

phys_addr_t dma_buf_test_phys(u64 dma_limit);
u64 dma_buf_test_zone_dma_mask(void);
long dma_buf_test_shmem_pages(struct mm_struct *mm);

#endif /* __DMA_BUF_TEST_H */
