// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite of the system heap: storage allocated at first use where
 * every attached device reaches it, existing storage moved for a device
 * that cannot reach it (or that device refused while the storage is
 * pinned), scatterlists cut to each device's constraints, kernel mappings
 * of highmem pages.
 *
 * The devices are KUnit devices given the DMA masks and segment limits of
 * real hardware; with no IOMMU their DMA addresses are physical addresses.
 */

#include <kunit/static_stub.h>
#include <kunit/test.h>

#include <linux/cpumask.h>
#include <linux/dma-buf.h>
#include <linux/dma-direct.h>
#include <linux/dma-heap.h>
#include <linux/dma-mapping.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/tracepoint.h>
#include <trace/events/dma.h>

#include "../dma-buf-internal.h"
#include "../heaps/system_heap.h"
#include "dma-buf-test.h"

static struct dma_buf *heap_buffer(struct kunit *test, size_t len)
{
	struct dma_buf *dmabuf = system_heap_allocate(NULL, len, O_RDWR, 0);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dmabuf);
	return dmabuf;
}

static void heap_put(struct dma_buf *dmabuf)
{
	dma_buf_put(dmabuf);
	flush_delayed_fput();
}

/* The order of the run that holds page @page_num of the storage. */
static unsigned int run_order(struct dma_buf *dmabuf, unsigned long page_num)
{
	return folio_order(page_folio(system_heap_page(dmabuf, page_num)));
}

/* Populate the storage through the CPU access path. */
static void populate(struct kunit *test, struct dma_buf *dmabuf)
{
	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, dmabuf->size,
						       DMA_BIDIRECTIONAL), 0);
	dma_buf_end_cpu_access(dmabuf, 0, dmabuf->size, DMA_BIDIRECTIONAL);
}

static phys_addr_t highest_phys(struct dma_buf *dmabuf)
{
	phys_addr_t last = 0;
	unsigned long i;

	for (i = 0; i < dmabuf->size >> PAGE_SHIFT; i++)
		last = max(last, page_to_phys(system_heap_page(dmabuf, i)) +
			   PAGE_SIZE - 1);
	return last;
}

static void storage_allocated_at_first_use(struct kunit *test)
{
	struct dma_buf *dmabuf = heap_buffer(test, 8 * PAGE_SIZE);
	struct dma_buf_attachment *attach;
	struct device *dev;
	unsigned long i;
	u8 *vaddr;

	KUNIT_EXPECT_STREQ(test, dmabuf->exp_name, "system");
	KUNIT_EXPECT_NULL(test, system_heap_page(dmabuf, 0));
	dev = dma_buf_test_device(test, "dev", DMA_BIT_MASK(32), 0, SZ_64K,
				  ULONG_MAX);
	attach = dma_buf_attach(dmabuf, dev);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	/* Attaching allocates nothing... */
	KUNIT_EXPECT_NULL(test, system_heap_page(dmabuf, 0));

	/* ...CPU access does, and the new memory reads as zero. */
	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, dmabuf->size,
						       DMA_FROM_DEVICE), 0);
	for (i = 0; i < 8; i++) {
		KUNIT_ASSERT_NOT_NULL(test, system_heap_page(dmabuf, i));
		vaddr = dma_buf_kmap(dmabuf, i);
		KUNIT_ASSERT_NOT_NULL(test, vaddr);
		KUNIT_EXPECT_NULL(test, memchr_inv(vaddr, 0, PAGE_SIZE));
		dma_buf_kunmap(dmabuf, i, vaddr);
	}
	dma_buf_end_cpu_access(dmabuf, 0, dmabuf->size, DMA_FROM_DEVICE);
	dma_buf_detach(dmabuf, attach);
	heap_put(dmabuf);
}

static void storage_allocated_by_first_map(struct kunit *test)
{
	struct dma_buf *dmabuf = heap_buffer(test, 4 * PAGE_SIZE);
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;

	attach = dma_buf_attach(dmabuf, dma_buf_test_device(test, "dev",
							    DMA_BIT_MASK(32), 0,
							    SZ_64K, ULONG_MAX));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	sgt = dma_buf_map_attachment(attach, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_NOT_NULL(test, system_heap_page(dmabuf, 3));
	dma_buf_unmap_attachment(attach, sgt, DMA_TO_DEVICE);
	dma_buf_detach(dmabuf, attach);
	heap_put(dmabuf);
}

/*
 * A device that reaches only ZONE_DMA (the first 16 MiB on x86, 4 GiB on
 * arm64): the narrowest reach the page allocator can honour everywhere.
 */
static u64 zone_dma_mask(struct kunit *test)
{
	u64 mask = dma_buf_test_zone_dma_mask();

	if (!mask)
		kunit_skip(test, "all memory of this machine is in ZONE_DMA");
	return mask;
}

/*
 * A device that reaches only ZONE_DMA, attached before first use: every
 * page lands within its reach, and its DMA addresses are the pages' own
 * (nothing was bounced).
 */
static void narrow_device_gets_reachable_pages(struct kunit *test)
{
	u64 mask = zone_dma_mask(test);
	struct dma_buf *dmabuf = heap_buffer(test, 32 * PAGE_SIZE);
	struct dma_buf_attachment *narrow, *wide;
	struct device *dev;
	struct page *page;
	size_t pos = 0, off;
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int i;

	wide = dma_buf_attach(dmabuf, dma_buf_test_device(test, "wide",
							  DMA_BIT_MASK(64), 0,
							  SZ_64K, ULONG_MAX));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, wide);
	dev = dma_buf_test_device(test, "narrow", mask, 0, SZ_64K, ULONG_MAX);
	narrow = dma_buf_attach(dmabuf, dev);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, narrow);

	sgt = dma_buf_map_attachment(narrow, DMA_FROM_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_LE(test, highest_phys(dmabuf), dma_buf_test_phys(mask));

	for_each_sgtable_dma_sg(sgt, sg, i) {
		KUNIT_EXPECT_LE(test, sg_dma_address(sg) + sg_dma_len(sg) - 1,
				mask);
		for (off = 0; off < sg_dma_len(sg); off += PAGE_SIZE) {
			page = system_heap_page(dmabuf, pos >> PAGE_SHIFT);
			KUNIT_EXPECT_EQ(test, sg_dma_address(sg) + off,
					phys_to_dma(dev, page_to_phys(page)));
			pos += PAGE_SIZE;
		}
	}
	KUNIT_EXPECT_EQ(test, pos, dmabuf->size);

	dma_buf_unmap_attachment(narrow, sgt, DMA_FROM_DEVICE);
	dma_buf_detach(dmabuf, narrow);
	dma_buf_detach(dmabuf, wide);
	heap_put(dmabuf);
}

/*
 * Write (@write) or check a word naming each page at its start and its
 * end, through kmap.
 */
static void stamps(struct kunit *test, struct dma_buf *dmabuf, u32 tag,
		   bool write)
{
	enum dma_data_direction dir = write ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	unsigned long i, n = dmabuf->size >> PAGE_SHIFT;
	u32 *p, *last;

	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, dmabuf->size,
						       dir), 0);
	for (i = 0; i < n; i++) {
		p = dma_buf_kmap(dmabuf, i);
		KUNIT_ASSERT_NOT_NULL(test, p);
		last = &p[PAGE_SIZE / sizeof(*p) - 1];
		if (write) {
			p[0] = tag + i;
			*last = (u32)~(tag + i);
		} else {
			KUNIT_EXPECT_EQ_MSG(test, p[0], tag + i, "page %lu", i);
			KUNIT_EXPECT_EQ_MSG(test, *last, (u32)~(tag + i),
					    "page %lu", i);
		}
		dma_buf_kunmap(dmabuf, i, p);
	}
	dma_buf_end_cpu_access(dmabuf, 0, dmabuf->size, dir);
}

/*
 * Write @tag + n into the third word of every page n through dma_buf_kmap(),
 * inside a CPU access, and expect it in the page at that place in the
 * storage (system_heap_page()).
 */
static void kmap_reaches_storage(struct kunit *test, struct dma_buf *dmabuf,
				 u32 tag)
{
	unsigned long i, n = dmabuf->size >> PAGE_SHIFT, bad = 0, first_bad = 0;
	u32 *p;

	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, dmabuf->size,
						       DMA_TO_DEVICE), 0);
	for (i = 0; i < n; i++) {
		p = dma_buf_kmap(dmabuf, i);
		KUNIT_ASSERT_NOT_NULL(test, p);
		p[2] = tag + i;
		dma_buf_kunmap(dmabuf, i, p);
	}
	dma_buf_end_cpu_access(dmabuf, 0, dmabuf->size, DMA_TO_DEVICE);
	for (i = 0; i < n; i++) {
		p = kmap_local_page(system_heap_page(dmabuf, i));
		if (p[2] != tag + i && !bad++)
			first_bad = i;
		kunmap_local(p);
	}
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "first wrong page: %lu", first_bad);
}

/*
 * Pages one buffer wrote and freed read as zero in the buffers that get
 * them next. The page allocator hands single pages just freed back first,
 * from the per-CPU list of the CPU that freed them, so the case stays on
 * one CPU: it frees a buffer of 8 single pages and takes new ones until
 * one reuses a page of it, and fails if none of 4 does, so that it cannot
 * pass without the reuse it is about.
 */
static void freed_pages_read_zero_when_reused(struct kunit *test)
{
	struct dma_buf *bufs[4], *dmabuf;
	const struct cpumask *cpu;
	unsigned long freed[8], pfn, i;
	int j, n, reused = 0;
	bool old;
	u8 *vaddr;

	/* Each case runs in a thread of its own, which ends with it. */
	cpu = cpumask_of(raw_smp_processor_id());
	KUNIT_ASSERT_EQ(test, set_cpus_allowed_ptr(current, cpu), 0);

	dmabuf = heap_buffer(test, ARRAY_SIZE(freed) * PAGE_SIZE);
	stamps(test, dmabuf, 0xa5000000, true);
	for (i = 0; i < ARRAY_SIZE(freed); i++)
		freed[i] = page_to_pfn(system_heap_page(dmabuf, i));
	heap_put(dmabuf);

	for (n = 0; n < ARRAY_SIZE(bufs) && !reused; n++) {
		bufs[n] = heap_buffer(test, ARRAY_SIZE(freed) * PAGE_SIZE);
		KUNIT_ASSERT_EQ(test,
				dma_buf_begin_cpu_access(bufs[n], 0,
							 bufs[n]->size,
							 DMA_FROM_DEVICE), 0);
		for (i = 0; i < ARRAY_SIZE(freed); i++) {
			pfn = page_to_pfn(system_heap_page(bufs[n], i));
			old = false;
			for (j = 0; j < ARRAY_SIZE(freed); j++)
				old |= freed[j] == pfn;
			reused += old;
			vaddr = dma_buf_kmap(bufs[n], i);
			KUNIT_ASSERT_NOT_NULL(test, vaddr);
			KUNIT_EXPECT_NULL_MSG(test,
					      memchr_inv(vaddr, 0, PAGE_SIZE),
					      "buffer %d, page %lu (%s)", n, i,
					      old ? "freed before" : "new");
			dma_buf_kunmap(bufs[n], i, vaddr);
		}
		dma_buf_end_cpu_access(bufs[n], 0, bufs[n]->size,
				       DMA_FROM_DEVICE);
	}
	for (j = 0; j < n; j++)
		heap_put(bufs[j]);
	KUNIT_EXPECT_GT_MSG(test, reused, 0,
			    "none of %d new buffers got a freed page", n);
}

/*
 * Storage placed with no device attached comes from above ZONE_DMA (the
 * last resort). A device that reaches only ZONE_DMA attaching afterwards
 * is refused with -ERANGE while the storage is pinned (a mapping held, a
 * CPU access in progress); once it is idle, the storage moves into the
 * device's reach with its bytes, and the attach succeeds.
 */
static void late_device_out_of_reach_moves(struct kunit *test)
{
	u64 mask = zone_dma_mask(test);
	struct dma_buf *dmabuf = heap_buffer(test, 16 * PAGE_SIZE);
	struct dma_buf_attachment *attach, *wide;
	struct device *narrow;
	struct sg_table *sgt;

	stamps(test, dmabuf, 0x5a000000, true);
	KUNIT_ASSERT_GT_MSG(test, highest_phys(dmabuf), dma_buf_test_phys(mask),
			    "storage placed without constraints landed in ZONE_DMA");

	wide = dma_buf_attach(dmabuf, dma_buf_test_device(test, "wide",
							  DMA_BIT_MASK(64), 0,
							  SZ_64K, ULONG_MAX));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, wide);
	sgt = dma_buf_map_attachment(wide, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	narrow = dma_buf_test_device(test, "narrow", mask, 0, SZ_64K,
				     ULONG_MAX);
	attach = dma_buf_attach(dmabuf, narrow);
	KUNIT_EXPECT_EQ(test, PTR_ERR(attach), -ERANGE);
	dma_buf_unmap_attachment(wide, sgt, DMA_TO_DEVICE);

	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, PAGE_SIZE,
						       DMA_FROM_DEVICE), 0);
	attach = dma_buf_attach(dmabuf, narrow);
	KUNIT_EXPECT_EQ(test, PTR_ERR(attach), -ERANGE);
	dma_buf_end_cpu_access(dmabuf, 0, PAGE_SIZE, DMA_FROM_DEVICE);
	KUNIT_EXPECT_GT(test, highest_phys(dmabuf), dma_buf_test_phys(mask));

	attach = dma_buf_attach(dmabuf, narrow);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	KUNIT_EXPECT_LE(test, highest_phys(dmabuf), dma_buf_test_phys(mask));
	stamps(test, dmabuf, 0x5a000000, false);

	/* The wide device's next mapping is of the new storage. */
	sgt = dma_buf_map_attachment(wide, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_LE(test, sg_dma_address(sgt->sgl),
			(dma_addr_t)dma_buf_test_phys(mask));
	dma_buf_unmap_attachment(wide, sgt, DMA_TO_DEVICE);

	dma_buf_detach(dmabuf, attach);
	dma_buf_detach(dmabuf, wide);
	heap_put(dmabuf);
}

/*
 * A device that reaches into the storage's last run but not to its end
 * cannot use the storage as it lies: attaching it moves the storage
 * within its reach, as for a device that reaches none of it.
 */
static void device_reaching_part_of_a_run_moves(struct kunit *test)
{
	struct dma_buf *dmabuf = heap_buffer(test, 16 * PAGE_SIZE);
	struct dma_buf_attachment *attach;
	struct dma_buf_constraints c;
	phys_addr_t start, limit;
	struct device *half;

	stamps(test, dmabuf, 0x6e000000, true);
	/* One run of 16 pages: the device reaches its first half. */
	KUNIT_ASSERT_EQ(test, run_order(dmabuf, 0), 4U);
	start = page_to_phys(system_heap_page(dmabuf, 0));
	limit = start + 8 * PAGE_SIZE - 1;
	KUNIT_ASSERT_GT(test, start, dma_buf_test_phys(zone_dma_mask(test)));
	half = dma_buf_test_device(test, "half", DMA_BIT_MASK(64), limit, SZ_64K,
				   ULONG_MAX);
	dma_buf_device_constraints(half, &c);
	if (c.dma_limit != limit)
		kunit_skip(test, "the device reaches all memory through swiotlb here");

	attach = dma_buf_attach(dmabuf, half);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	KUNIT_EXPECT_LE(test, highest_phys(dmabuf), limit);
	stamps(test, dmabuf, 0x6e000000, false);
	dma_buf_detach(dmabuf, attach);
	heap_put(dmabuf);
}

/*
 * A move keeps every byte and the owner's accounting; on a highmem
 * kernel it goes from highmem to lowmem and back. After each move
 * dma_buf_kmap() reaches the new pages, not the old ones (the runs the
 * heap published to the core are the new storage's).
 */
static void move_between_zones(struct kunit *test)
{
	struct dma_buf_constraints c = {
		.max_segment_size = UINT_MAX,
		.seg_boundary_mask = ULONG_MAX,
	};
	struct dma_buf *dmabuf = heap_buffer(test, 8 * PAGE_SIZE);
	struct page *before;
	unsigned long i;

	stamps(test, dmabuf, 0x11000000, true);
	before = system_heap_page(dmabuf, 0);

#ifdef CONFIG_HIGHMEM
	/* The last byte of lowmem (max_low_pfn is not exported to modules). */
	c.dma_limit = __pa(high_memory - 1);
#else
	c.dma_limit = highest_phys(dmabuf);
#endif
	KUNIT_ASSERT_EQ(test, dma_buf_move(dmabuf, &c), 0);
	KUNIT_EXPECT_PTR_NE(test, system_heap_page(dmabuf, 0), before);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_FALSE_MSG(test, PageHighMem(system_heap_page(dmabuf, i)),
				       "page %lu is highmem", i);
	stamps(test, dmabuf, 0x11000000, false);
	kmap_reaches_storage(test, dmabuf, 0x22000000);

	c.dma_limit = U64_MAX;
	KUNIT_ASSERT_EQ(test, dma_buf_move(dmabuf, &c), 0);
	if (IS_ENABLED(CONFIG_HIGHMEM))
		for (i = 0; i < 8; i++)
			KUNIT_EXPECT_TRUE_MSG(test,
					      PageHighMem(system_heap_page(dmabuf, i)),
					      "page %lu is not highmem", i);
	stamps(test, dmabuf, 0x11000000, false);
	kmap_reaches_storage(test, dmabuf, 0x33000000);
	heap_put(dmabuf);
}

struct segment_limits {
	const char *name;
	unsigned int max_seg;
	unsigned long boundary;
};

static const struct segment_limits segment_limits[] = {
	{ "no limits", UINT_MAX, ULONG_MAX },
	{ "64K segments, 64K boundary", SZ_64K, SZ_64K - 1 },
	{ "8K segments", SZ_8K, ULONG_MAX },
	{ "16K boundary", SZ_1M, SZ_16K - 1 },
	{ "8K segments, 16K boundary", SZ_8K, SZ_16K - 1 },
	{ "one page", PAGE_SIZE, PAGE_SIZE - 1 },
};

KUNIT_ARRAY_PARAM_DESC(segment_limits, segment_limits, name);

static unsigned int longest_segment(struct sg_table *sgt)
{
	struct scatterlist *sg;
	unsigned int i, longest = 0;

	for_each_sgtable_dma_sg(sgt, sg, i)
		longest = max(longest, sg_dma_len(sg));
	return longest;
}

static void segments_respect_device_limits(struct kunit *test)
{
	const struct segment_limits *p = test->param_value;
	/* Two runs of each length but the shortest: whole ones and cut ones. */
	struct dma_buf *dmabuf = heap_buffer(test,
					     (2 * 256 + 2 * 16 + 1) * PAGE_SIZE);
	struct dma_buf_attachment *free_a, *limited_a;
	struct sg_table *free_sgt, *sgt;
	struct scatterlist *sg;
	dma_addr_t first, last;
	phys_addr_t start;
	size_t total = 0;
	unsigned int i;

	free_a = dma_buf_attach(dmabuf, dma_buf_test_device(test, "free",
							    DMA_BIT_MASK(32), 0,
							    SZ_1M, ULONG_MAX));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, free_a);
	limited_a = dma_buf_attach(dmabuf,
				   dma_buf_test_device(test, "limited",
						       DMA_BIT_MASK(32), 0,
						       p->max_seg, p->boundary));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, limited_a);

	/* Runs of pages are contiguous: an unlimited device sees long ones. */
	free_sgt = dma_buf_map_attachment(free_a, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, free_sgt);
	KUNIT_ASSERT_GT(test, longest_segment(free_sgt), SZ_16K);

	sgt = dma_buf_map_attachment(limited_a, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	for_each_sgtable_dma_sg(sgt, sg, i) {
		first = sg_dma_address(sg);
		last = first + sg_dma_len(sg) - 1;
		KUNIT_EXPECT_LE(test, sg_dma_len(sg), p->max_seg);
		KUNIT_EXPECT_EQ_MSG(test, first & ~(dma_addr_t)p->boundary,
				    last & ~(dma_addr_t)p->boundary,
				    "segment %pad+%u crosses a boundary", &first,
				    sg_dma_len(sg));
		total += sg_dma_len(sg);
	}
	KUNIT_EXPECT_EQ(test, total, dmabuf->size);
	/* The segments are the buffer's bytes, in order (no IOMMU here). */
	total = 0;
	for_each_sgtable_dma_sg(sgt, sg, i) {
		start = page_to_phys(system_heap_page(dmabuf,
						      total >> PAGE_SHIFT)) +
			offset_in_page(total);
		KUNIT_EXPECT_EQ_MSG(test, dma_to_phys(limited_a->dev,
						      sg_dma_address(sg)),
				    start, "segment %u", i);
		total += sg_dma_len(sg);
	}

	dma_buf_unmap_attachment(free_a, free_sgt, DMA_TO_DEVICE);
	dma_buf_unmap_attachment(limited_a, sgt, DMA_TO_DEVICE);
	dma_buf_detach(dmabuf, free_a);
	dma_buf_detach(dmabuf, limited_a);
	heap_put(dmabuf);
}

/*
 * CPU access while two devices hold mappings of the same pages: each
 * held mapping is synced as the DMA API expects a mapped table to be.
 * With CONFIG_DMA_API_DEBUG (make test DEBUG=1) a sync of memory the
 * device did not map, or in another direction, is reported and fails the
 * run, and so are overlapping writable mappings made with implicit cache
 * maintenance: both devices here map the same pages for writing.
 */
static void cpu_access_syncs_held_mappings(struct kunit *test)
{
	struct dma_buf *dmabuf = heap_buffer(test, 40 * PAGE_SIZE);
	struct dma_buf_attachment *a, *b;
	struct sg_table *sa, *sb;
	u8 *vaddr;

	a = dma_buf_attach(dmabuf, dma_buf_test_device(test, "a",
						       DMA_BIT_MASK(32), 0,
						       SZ_8K, ULONG_MAX));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	b = dma_buf_attach(dmabuf, dma_buf_test_device(test, "b",
						       DMA_BIT_MASK(32), 0,
						       SZ_64K, ULONG_MAX));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	sa = dma_buf_map_attachment(a, DMA_FROM_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sa);
	sb = dma_buf_map_attachment(b, DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sb);

	/* A range across segment ends of both devices. */
	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 3 * PAGE_SIZE + 5,
						       17 * PAGE_SIZE,
						       DMA_TO_DEVICE), 0);
	vaddr = dma_buf_kmap(dmabuf, 4);
	KUNIT_ASSERT_NOT_NULL(test, vaddr);
	vaddr[0] = 0xa5;
	dma_buf_kunmap(dmabuf, 4, vaddr);
	dma_buf_end_cpu_access(dmabuf, 3 * PAGE_SIZE + 5, 17 * PAGE_SIZE,
			       DMA_TO_DEVICE);

	dma_buf_unmap_attachment(a, sa, DMA_FROM_DEVICE);
	dma_buf_unmap_attachment(b, sb, DMA_BIDIRECTIONAL);
	dma_buf_detach(dmabuf, a);
	dma_buf_detach(dmabuf, b);
	heap_put(dmabuf);
}

/* Write through one kind of mapping, read through the other. */
static void kmap_reads_and_writes(struct kunit *test)
{
	struct dma_buf *dmabuf = heap_buffer(test, 8 * PAGE_SIZE);
	unsigned long i;
	u32 *p, *q, v;

	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, dmabuf->size,
						       DMA_BIDIRECTIONAL), 0);
	for (i = 0; i < 8; i++) {
		p = dma_buf_kmap(dmabuf, i);
		KUNIT_ASSERT_NOT_NULL(test, p);
		v = 0xc0de0000 + i;
		p[0] = v;
		p[PAGE_SIZE / sizeof(*p) - 1] = ~v;
		dma_buf_kunmap(dmabuf, i, p);
	}
	for (i = 0; i < 8; i++) {
		p = dma_buf_kmap_atomic(dmabuf, i);
		KUNIT_ASSERT_NOT_NULL(test, p);
		v = 0xc0de0000 + i;
		KUNIT_EXPECT_EQ(test, p[0], v);
		KUNIT_EXPECT_EQ(test, p[PAGE_SIZE / sizeof(*p) - 1], ~v);
		/* The page itself, mapped independently of the heap. */
		q = kmap_local_page(system_heap_page(dmabuf, i));
		KUNIT_EXPECT_EQ(test, q[0], v);
		kunmap_local(q);
		dma_buf_kunmap_atomic(dmabuf, i, p);
	}
	dma_buf_end_cpu_access(dmabuf, 0, dmabuf->size, DMA_BIDIRECTIONAL);
	heap_put(dmabuf);
}

/*
 * dma_buf_vmap() allocates the storage of a new buffer and shows its
 * pages at one linear address, in order (highmem ones too on i386); the
 * storage cannot move while it is mapped, and a mapping after a move shows
 * the new storage.
 */
static void vmap_is_a_linear_view(struct kunit *test)
{
	struct dma_buf *dmabuf = heap_buffer(test, 8 * PAGE_SIZE);
	struct dma_buf_constraints c = {
		.dma_limit = U64_MAX,
		.max_segment_size = UINT_MAX,
		.seg_boundary_mask = ULONG_MAX,
	};
	unsigned long i;
	u32 *v, *q;

	v = dma_buf_vmap(dmabuf);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, v);
	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, dmabuf->size,
						       DMA_BIDIRECTIONAL), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(v, 0, dmabuf->size));
	for (i = 0; i < 8; i++)
		v[i * PAGE_SIZE / sizeof(*v) + 1] = 0x7e570000 + i;
	for (i = 0; i < 8; i++) {
		q = kmap_local_page(system_heap_page(dmabuf, i));
		KUNIT_EXPECT_EQ(test, q[1], 0x7e570000 + i);
		kunmap_local(q);
	}
	dma_buf_end_cpu_access(dmabuf, 0, dmabuf->size, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &c), -EBUSY);
	dma_buf_vunmap(dmabuf, v);
	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &c), 0);

	/*
	 * The mapping the core kept idle went with the old storage: a new
	 * one shows the moved bytes, and writes reach the new pages.
	 */
	v = dma_buf_vmap(dmabuf);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, v);
	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, dmabuf->size,
						       DMA_BIDIRECTIONAL), 0);
	for (i = 0; i < 8; i++) {
		KUNIT_EXPECT_EQ(test, v[i * PAGE_SIZE / sizeof(*v) + 1],
				0x7e570000 + i);
		v[i * PAGE_SIZE / sizeof(*v) + 2] = 0x3d0e0000 + i;
	}
	for (i = 0; i < 8; i++) {
		q = kmap_local_page(system_heap_page(dmabuf, i));
		KUNIT_EXPECT_EQ(test, q[2], 0x3d0e0000 + i);
		kunmap_local(q);
	}
	dma_buf_end_cpu_access(dmabuf, 0, dmabuf->size, DMA_BIDIRECTIONAL);
	dma_buf_vunmap(dmabuf, v);
	heap_put(dmabuf);
}

/*
 * Storage comes in runs of 1 MiB where memory allows (a fresh test
 * machine has plenty): each run one compound allocation, its pages in
 * order, so that it is freed at once and maps as few long segments.
 */
static void storage_in_long_runs(struct kunit *test)
{
	struct dma_buf *dmabuf = heap_buffer(test, SZ_2M + 16 * PAGE_SIZE);
	unsigned long i, run = 256;
	struct page *first;

	populate(test, dmabuf);
	for (i = 0; i < 2 * run; i++) {
		first = system_heap_page(dmabuf, i - i % run);
		KUNIT_ASSERT_PTR_EQ_MSG(test, system_heap_page(dmabuf, i),
					first + i % run, "page %lu", i);
	}
	for (i = 0; i < 2 * run; i += run)
		KUNIT_EXPECT_EQ(test, run_order(dmabuf, i), 8U);
	/* The tail: one run of 64 KiB. */
	KUNIT_EXPECT_EQ(test, run_order(dmabuf, 2 * run), 4U);
	heap_put(dmabuf);
}

/* Every 1 MiB run but the first fails; shorter runs come as asked. */
static struct page *one_long_run(u64 limit, unsigned int order, gfp_t gfp)
{
	struct kunit *test = kunit_get_current_test();
	unsigned int *long_runs = test->priv;

	if (order == 8 && (*long_runs)++)
		return NULL;
	return alloc_pages(GFP_HIGHUSER | gfp, order);
}

/*
 * When long runs cannot be had, the storage takes shorter ones, and the
 * arrays that track the runs, sized for the best case, grow: the runs
 * taken before keep their pages, and a device's segments, built from the
 * runs' pages, are the pages that kmap finds by frame number.
 */
static void storage_in_shorter_runs_when_long_ones_fail(struct kunit *test)
{
	struct dma_buf *dmabuf = heap_buffer(test, SZ_2M + SZ_1M);
	struct dma_buf_attachment *a;
	struct scatterlist *sg;
	struct sg_table *sgt;
	size_t pos = 0, off;
	unsigned long bad = 0, first_bad = 0;
	unsigned int i;

	test->priv = kunit_kzalloc(test, sizeof(unsigned int), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, test->priv);
	kunit_activate_static_stub(test, dma_buf_alloc_pages_below,
				   one_long_run);
	populate(test, dmabuf);
	kunit_deactivate_static_stub(test, dma_buf_alloc_pages_below);
	KUNIT_EXPECT_EQ(test, run_order(dmabuf, 0), 8U);
	KUNIT_EXPECT_EQ(test, run_order(dmabuf, 256), 4U);
	KUNIT_EXPECT_EQ(test, run_order(dmabuf, 767), 4U);

	a = dma_buf_attach(dmabuf, dma_buf_test_device(test, "dev",
						       DMA_BIT_MASK(64), 0,
						       SZ_64K, ULONG_MAX));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	sgt = dma_buf_map_attachment(a, DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	for_each_sgtable_dma_sg(sgt, sg, i) {
		for (off = 0; off < sg_dma_len(sg); off += PAGE_SIZE) {
			struct page *page = system_heap_page(dmabuf,
							     pos >> PAGE_SHIFT);

			if (sg_dma_address(sg) + off !=
			    phys_to_dma(a->dev, page_to_phys(page)) && !bad++)
				first_bad = pos >> PAGE_SHIFT;
			pos += PAGE_SIZE;
		}
	}
	KUNIT_EXPECT_EQ(test, pos, dmabuf->size);
	KUNIT_EXPECT_EQ_MSG(test, bad, 0UL,
			    "segments miss pages, the first page %lu",
			    first_bad);
	dma_buf_unmap_attachment(a, sgt, DMA_BIDIRECTIONAL);
	dma_buf_detach(dmabuf, a);
	heap_put(dmabuf);
}

/*
 * A buffer of one run of each length (256 + 16 + 1 pages): dma_buf_kmap()
 * finds a page from the runs (the core in the 1 MiB run, the heap in the
 * others), dma_buf_vmap() maps the page array built from them, and both
 * reach the page at that place in the storage.
 */
static void kmap_and_vmap_find_each_run(struct kunit *test)
{
	unsigned long i, n = 256 + 16 + 1, bad = 0, first_bad = 0;
	struct dma_buf *dmabuf = heap_buffer(test, n * PAGE_SIZE);
	u32 *v;

	populate(test, dmabuf);
	KUNIT_EXPECT_EQ(test, run_order(dmabuf, 0), 8U);
	KUNIT_EXPECT_EQ(test, run_order(dmabuf, 256), 4U);
	KUNIT_EXPECT_EQ(test, run_order(dmabuf, 272), 0U);
	kmap_reaches_storage(test, dmabuf, 0x6b6d0000);

	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, dmabuf->size,
						       DMA_BIDIRECTIONAL), 0);

	v = dma_buf_vmap(dmabuf);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, v);
	for (i = 0, bad = 0; i < n; i++) {
		if (v[i * PAGE_SIZE / sizeof(*v) + 2] != 0x6b6d0000 + i && !bad++)
			first_bad = i;
	}
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "first wrong page: %lu", first_bad);
	dma_buf_vunmap(dmabuf, v);
	dma_buf_end_cpu_access(dmabuf, 0, dmabuf->size, DMA_BIDIRECTIONAL);
	heap_put(dmabuf);
}

/* On a highmem kernel, storage placed without constraints is highmem. */
static void storage_in_highmem(struct kunit *test)
{
	struct dma_buf *dmabuf;
	unsigned long i;

	if (!IS_ENABLED(CONFIG_HIGHMEM))
		kunit_skip(test, "no highmem on this kernel (ARCH=i386 has it)");

	dmabuf = heap_buffer(test, 8 * PAGE_SIZE);
	populate(test, dmabuf);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_TRUE_MSG(test, PageHighMem(system_heap_page(dmabuf, i)),
				      "page %lu is not highmem", i);
	heap_put(dmabuf);
}

/*
 * The pages count in the footprint of the process that allocated the
 * buffer (as the OOM killer sees it) from their first use to the
 * buffer's release, not before.
 */
static void storage_counts_in_owner_footprint(struct kunit *test)
{
	struct dma_buf *dmabuf;
	struct mm_struct *mm;
	unsigned long addr;
	long before;

	/* Gives this test's thread an mm, as the allocating process has. */
	addr = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_FALSE(test, !addr || IS_ERR_VALUE(addr));
	mm = current->mm;
	before = dma_buf_test_shmem_pages(mm);

	dmabuf = heap_buffer(test, 8 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, dma_buf_test_shmem_pages(mm), before);
	populate(test, dmabuf);
	KUNIT_EXPECT_EQ(test, dma_buf_test_shmem_pages(mm), before + 8);
	heap_put(dmabuf);
	KUNIT_EXPECT_EQ(test, dma_buf_test_shmem_pages(mm), before);
}

/*
 * A fatal signal stops a population: the caller gets EINTR and no
 * storage, and the buffer populates normally once the signal is gone.
 */
static void population_stops_at_fatal_signal(struct kunit *test)
{
	struct dma_buf *dmabuf = heap_buffer(test, 64 * PAGE_SIZE);

	allow_signal(SIGKILL);
	send_sig(SIGKILL, current, 0);
	KUNIT_EXPECT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, dmabuf->size,
						       DMA_BIDIRECTIONAL), -EINTR);
	flush_signals(current);
	disallow_signal(SIGKILL);
	KUNIT_EXPECT_NULL(test, system_heap_page(dmabuf, 0));

	populate(test, dmabuf);
	KUNIT_EXPECT_NOT_NULL(test, system_heap_page(dmabuf, 63));
	heap_put(dmabuf);
}

static void too_large_fails_without_trying(struct kunit *test)
{
	size_t len = (totalram_pages() + 1) << PAGE_SHIFT;

	KUNIT_EXPECT_EQ(test, PTR_ERR(system_heap_allocate(NULL, len, O_RDWR, 0)),
			-ENOMEM);
}

/* --- the DMA API calls of each mapping lifetime ---------------------------- */

/*
 * The rules of "coherency" in the core's documentation, checked where
 * they reach the hardware: the DMA API calls the system heap makes, seen
 * through the DMA API's own trace points. On arm64 the test devices are
 * not cache-coherent, and each of these calls is cache maintenance.
 */

enum dma_call_kind { MAP_SG, UNMAP_SG, SYNC_DEV, SYNC_CPU };

struct dma_call {
	enum dma_call_kind kind;
	unsigned int dev;		/* index in the case's devices */
	enum dma_data_direction dir;
};

#define MAX_DMA_CALLS	16

struct dma_call_log {
	struct device *devs[2];
	struct dma_call calls[MAX_DMA_CALLS];
	atomic_t n;
	/* map or unmap without DMA_ATTR_SKIP_CPU_SYNC: the core syncs. */
	atomic_t implicit_syncs;
};

static void log_call(struct dma_call_log *log, struct device *dev,
		     enum dma_call_kind kind, enum dma_data_direction dir)
{
	unsigned int i, n;

	for (i = 0; i < ARRAY_SIZE(log->devs); i++) {
		if (dev != log->devs[i])
			continue;
		n = atomic_inc_return(&log->n) - 1;
		if (n < MAX_DMA_CALLS)
			log->calls[n] = (struct dma_call){ kind, i, dir };
		return;
	}
}

static void probe_map_sg(void *data, struct device *dev,
			 struct scatterlist *sgl, int nents, int ents,
			 enum dma_data_direction dir, unsigned long attrs)
{
	struct dma_call_log *log = data;

	log_call(log, dev, MAP_SG, dir);
	if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC))
		atomic_inc(&log->implicit_syncs);
}

static void probe_unmap_sg(void *data, struct device *dev,
			   struct scatterlist *sgl, int nents,
			   enum dma_data_direction dir, unsigned long attrs)
{
	struct dma_call_log *log = data;

	log_call(log, dev, UNMAP_SG, dir);
	if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC))
		atomic_inc(&log->implicit_syncs);
}

static void probe_sync_dev(void *data, struct device *dev,
			   struct scatterlist *sgl, int nents,
			   enum dma_data_direction dir)
{
	log_call(data, dev, SYNC_DEV, dir);
}

static void probe_sync_cpu(void *data, struct device *dev,
			   struct scatterlist *sgl, int nents,
			   enum dma_data_direction dir)
{
	log_call(data, dev, SYNC_CPU, dir);
}

/*
 * The probes, attached by trace point name: the DMA API does not export its
 * trace points to modules, and this suite is a module where the system heap
 * is one. check_trace_callback_type_*() keeps each probe's type checked
 * against its trace point's prototype all the same.
 */
static const struct {
	const char *name;
	void *probe;
} dma_probes[] = {
	{ "dma_map_sg", probe_map_sg },
	{ "dma_unmap_sg", probe_unmap_sg },
	{ "dma_sync_sg_for_device", probe_sync_dev },
	{ "dma_sync_sg_for_cpu", probe_sync_cpu },
};

struct dma_trace_points {
	struct tracepoint *tp[ARRAY_SIZE(dma_probes)];
	bool registered[ARRAY_SIZE(dma_probes)];
	struct dma_call_log *log;
};

static void find_dma_trace_point(struct tracepoint *tp, void *priv)
{
	struct dma_trace_points *points = priv;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dma_probes); i++)
		if (!strcmp(tp->name, dma_probes[i].name))
			points->tp[i] = tp;
}

static void stop_dma_call_log(void *data)
{
	struct dma_trace_points *points = data;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dma_probes); i++)
		if (points->registered[i])
			tracepoint_probe_unregister(points->tp[i],
						    dma_probes[i].probe,
						    points->log);
	tracepoint_synchronize_unregister();
}

static struct dma_call_log *start_dma_call_log(struct kunit *test)
{
	struct dma_call_log *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);
	struct dma_trace_points *points;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, log);
	for (i = 0; i < ARRAY_SIZE(log->devs); i++)
		log->devs[i] = dma_buf_test_device(test, i ? "b" : "a",
						   DMA_BIT_MASK(64), 0, SZ_64K,
						   ULONG_MAX);
	if (!dma_dev_need_sync(log->devs[0]))
		kunit_skip(test, "the DMA API skips every sync here (CONFIG_DMA_NEED_SYNC=n)");
	/*
	 * Without trace points, the calls below are left out of the build
	 * (kunit_skip() does not return): the kernel has no
	 * for_each_kernel_tracepoint() then.
	 */
	if (!IS_ENABLED(CONFIG_TRACEPOINTS))
		kunit_skip(test, "no DMA API trace points (needs CONFIG_TRACEPOINTS)");
	check_trace_callback_type_dma_map_sg(probe_map_sg);
	check_trace_callback_type_dma_unmap_sg(probe_unmap_sg);
	check_trace_callback_type_dma_sync_sg_for_device(probe_sync_dev);
	check_trace_callback_type_dma_sync_sg_for_cpu(probe_sync_cpu);
	points = kunit_kzalloc(test, sizeof(*points), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, points);
	points->log = log;
	for_each_kernel_tracepoint(find_dma_trace_point, points);
	for (i = 0; i < ARRAY_SIZE(dma_probes); i++)
		if (!points->tp[i])
			kunit_skip(test, "the kernel has no trace point %s",
				   dma_probes[i].name);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, stop_dma_call_log,
							points), 0);
	for (i = 0; i < ARRAY_SIZE(dma_probes); i++) {
		KUNIT_ASSERT_EQ(test, tracepoint_probe_register(points->tp[i],
								dma_probes[i].probe,
								log), 0);
		points->registered[i] = true;
	}
	return log;
}

/* One transfer of @a's device: map, (DMA), unmap. */
static void transfer(struct kunit *test, struct dma_buf_attachment *a,
		     enum dma_data_direction dir)
{
	struct sg_table *sgt = dma_buf_map_attachment(a, dir);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	dma_buf_unmap_attachment(a, sgt, dir);
}

struct lifetime_case {
	const char *name;
	void (*run)(struct kunit *test, struct dma_buf *dmabuf,
		    struct dma_buf_attachment **a);
	struct dma_call calls[MAX_DMA_CALLS];
	unsigned int n;
};

static void per_transfer(struct kunit *test, struct dma_buf *dmabuf,
			 struct dma_buf_attachment **a)
{
	transfer(test, a[0], DMA_FROM_DEVICE);
}

static void cached_across_transfers(struct kunit *test, struct dma_buf *dmabuf,
				    struct dma_buf_attachment **a)
{
	transfer(test, a[0], DMA_TO_DEVICE);
	transfer(test, a[0], DMA_TO_DEVICE);
}

static void two_devices_alternating(struct kunit *test, struct dma_buf *dmabuf,
				    struct dma_buf_attachment **a)
{
	transfer(test, a[0], DMA_FROM_DEVICE);
	transfer(test, a[1], DMA_BIDIRECTIONAL);
	transfer(test, a[0], DMA_FROM_DEVICE);
}

static void direction_change(struct kunit *test, struct dma_buf *dmabuf,
			     struct dma_buf_attachment **a)
{
	transfer(test, a[0], DMA_TO_DEVICE);
	transfer(test, a[0], DMA_FROM_DEVICE);
}

static void cpu_access_while_held(struct kunit *test, struct dma_buf *dmabuf,
				  struct dma_buf_attachment **a)
{
	struct sg_table *sgt = dma_buf_map_attachment(a[0], DMA_BIDIRECTIONAL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, PAGE_SIZE,
						       PAGE_SIZE, DMA_FROM_DEVICE),
			0);
	dma_buf_end_cpu_access(dmabuf, PAGE_SIZE, PAGE_SIZE, DMA_FROM_DEVICE);
	dma_buf_unmap_attachment(a[0], sgt, DMA_BIDIRECTIONAL);
}

#define TO	DMA_TO_DEVICE
#define FROM	DMA_FROM_DEVICE
#define BIDI	DMA_BIDIRECTIONAL

static const struct lifetime_case lifetime_cases[] = {
	{ "mapped per transfer", per_transfer,
	  { { MAP_SG, 0, FROM }, { SYNC_DEV, 0, FROM }, { SYNC_CPU, 0, FROM },
	    { UNMAP_SG, 0, FROM } }, 4 },
	{ "cached across transfers", cached_across_transfers,
	  { { MAP_SG, 0, TO }, { SYNC_DEV, 0, TO }, { SYNC_CPU, 0, TO },
	    { SYNC_DEV, 0, TO }, { SYNC_CPU, 0, TO }, { UNMAP_SG, 0, TO } }, 6 },
	{ "two devices alternating", two_devices_alternating,
	  { { MAP_SG, 0, FROM }, { SYNC_DEV, 0, FROM }, { SYNC_CPU, 0, FROM },
	    { MAP_SG, 1, BIDI }, { SYNC_DEV, 1, BIDI }, { SYNC_CPU, 1, BIDI },
	    { SYNC_DEV, 0, FROM }, { SYNC_CPU, 0, FROM },
	    { UNMAP_SG, 0, FROM }, { UNMAP_SG, 1, BIDI } }, 10 },
	{ "direction change", direction_change,
	  { { MAP_SG, 0, TO }, { SYNC_DEV, 0, TO }, { SYNC_CPU, 0, TO },
	    { UNMAP_SG, 0, TO }, { MAP_SG, 0, FROM }, { SYNC_DEV, 0, FROM },
	    { SYNC_CPU, 0, FROM }, { UNMAP_SG, 0, FROM } }, 8 },
	{ "CPU access while a device holds a mapping", cpu_access_while_held,
	  { { MAP_SG, 0, BIDI }, { SYNC_DEV, 0, BIDI }, { SYNC_CPU, 0, BIDI },
	    { SYNC_DEV, 0, BIDI }, { SYNC_CPU, 0, BIDI },
	    { UNMAP_SG, 0, BIDI } }, 6 },
};

KUNIT_ARRAY_PARAM_DESC(lifetime, lifetime_cases, name);

static const char * const dma_call_names[] = {
	[MAP_SG] = "map_sg", [UNMAP_SG] = "unmap_sg",
	[SYNC_DEV] = "sync_for_device", [SYNC_CPU] = "sync_for_cpu",
};

/*
 * Both devices attached from the start, the storage populated by the CPU
 * first; the lifetime's calls, then detaching both, which releases the
 * cached mappings without syncing again.
 */
static void dma_api_calls_of_each_lifetime(struct kunit *test)
{
	const struct lifetime_case *p = test->param_value;
	struct dma_call_log *log = start_dma_call_log(test);
	struct dma_buf *dmabuf = heap_buffer(test, 4 * PAGE_SIZE);
	struct dma_buf_attachment *a[2];
	unsigned int i, n;

	for (i = 0; i < 2; i++) {
		a[i] = dma_buf_attach(dmabuf, log->devs[i]);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a[i]);
	}
	populate(test, dmabuf);
	p->run(test, dmabuf, a);
	for (i = 0; i < 2; i++)
		dma_buf_detach(dmabuf, a[i]);
	heap_put(dmabuf);

	n = atomic_read(&log->n);
	KUNIT_EXPECT_EQ(test, n, p->n);
	for (i = 0; i < min3(n, p->n, (unsigned int)MAX_DMA_CALLS); i++) {
		const struct dma_call *got = &log->calls[i], *want = &p->calls[i];

		KUNIT_EXPECT_TRUE_MSG(test, got->kind == want->kind &&
				      got->dev == want->dev &&
				      got->dir == want->dir,
				      "call %u: %s of device %u, direction %d; expected %s of device %u, direction %d",
				      i, dma_call_names[got->kind], got->dev,
				      got->dir, dma_call_names[want->kind],
				      want->dev, want->dir);
	}
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&log->implicit_syncs), 0,
			    "a mapping made or released with implicit cache maintenance");
}

/* How many pieces of consecutive pages @dmabuf's storage comes in. */
static unsigned int pieces(struct dma_buf *dmabuf)
{
	unsigned long i, pfn, next = 0;
	unsigned int n = 0;

	for (i = 0; i < dmabuf->size >> PAGE_SHIFT; i++) {
		pfn = page_to_pfn(system_heap_page(dmabuf, i));
		if (!n || pfn != next)
			n++;
		next = pfn + 1;
	}
	return n;
}

/* Is a device's mapping one run of consecutive DMA addresses? */
static bool dma_contiguous(struct sg_table *sgt, size_t len)
{
	dma_addr_t next = sg_dma_address(sgt->sgl);
	struct scatterlist *sg;
	size_t total = 0;
	int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (sg_dma_address(sg) != next)
			return false;
		next += sg_dma_len(sg);
		total += sg_dma_len(sg);
	}
	return total == len;
}

struct block_case {
	const char *name;
	size_t len;
	bool cma;
};

static const struct block_case block_cases[] = {
	{ "1 MiB and a page, from the page allocator", SZ_1M + PAGE_SIZE },
	{ "4 MiB, from the page allocator", SZ_4M },
	{ "1080p RGB32 (8,294,400 bytes), from CMA", 8294400, true },
};

static void block_case_desc(const struct block_case *p, char *desc)
{
	strscpy(desc, p->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(block, block_cases, block_case_desc);

/*
 * An importer that takes the buffer in one piece, attached before first
 * use: the storage is one block of consecutive pages, zeroed, and the
 * device's mapping one run of consecutive DMA addresses.
 */
static void one_block_for_one_piece(struct kunit *test)
{
	const struct block_case *p = test->param_value;
	struct dma_buf_attachment *attach;
	struct dma_buf *dmabuf;
	struct sg_table *sgt;
	unsigned long i;
	u8 *v;

	if (p->cma && !IS_ENABLED(CONFIG_DMA_CMA))
		kunit_skip(test, "no CMA in this kernel (CONFIG_DMA_CMA)");
	dmabuf = heap_buffer(test, p->len);
	attach = dma_buf_attach_segments(dmabuf,
					 dma_buf_test_device(test, "contig",
							     DMA_BIT_MASK(32), 0,
							     SZ_64K, ULONG_MAX),
					 1);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	sgt = dma_buf_map_attachment(attach, DMA_FROM_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_EQ(test, pieces(dmabuf), 1U);
	KUNIT_EXPECT_TRUE(test, dma_contiguous(sgt, PAGE_ALIGN(p->len)));
	/* Aligned as its 1 MiB runs must be (segment boundaries). */
	KUNIT_EXPECT_EQ(test, page_to_pfn(system_heap_page(dmabuf, 0)) % 256,
			0UL);
	dma_buf_unmap_attachment(attach, sgt, DMA_FROM_DEVICE);

	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, dmabuf->size,
						       DMA_FROM_DEVICE), 0);
	for (i = 0; i < dmabuf->size >> PAGE_SHIFT; i++) {
		v = dma_buf_kmap(dmabuf, i);
		KUNIT_EXPECT_NULL_MSG(test, memchr_inv(v, 0, PAGE_SIZE),
				      "page %lu", i);
		dma_buf_kunmap(dmabuf, i, v);
	}
	dma_buf_end_cpu_access(dmabuf, 0, dmabuf->size, DMA_FROM_DEVICE);
	dma_buf_detach(dmabuf, attach);
	heap_put(dmabuf);
}

/*
 * Runs that follow no run handed out before: a run that would is kept
 * aside (a spacer) until the test frees it, and another one is taken.
 */
struct spacers {
	struct page *page[32];
	unsigned int order[32], n;
	unsigned long start[8], end[8];
	unsigned int runs;
};

static bool touches_a_run(struct spacers *sp, unsigned long pfn,
			  unsigned int order)
{
	unsigned int i;

	for (i = 0; i < sp->runs; i++)
		if (pfn == sp->end[i] || pfn + (1UL << order) == sp->start[i])
			return true;
	return false;
}

static struct page *spaced_runs(u64 limit, unsigned int order, gfp_t gfp)
{
	struct kunit *test = kunit_get_current_test();
	struct spacers *sp = test->priv;
	struct page *page;

	for (;;) {
		page = alloc_pages(GFP_HIGHUSER | gfp, order);
		if (!page || !touches_a_run(sp, page_to_pfn(page), order) ||
		    sp->n == ARRAY_SIZE(sp->page))
			break;
		sp->order[sp->n] = order;
		sp->page[sp->n++] = page;
	}
	if (page && sp->runs < ARRAY_SIZE(sp->start)) {
		sp->start[sp->runs] = page_to_pfn(page);
		sp->end[sp->runs++] = page_to_pfn(page) + (1UL << order);
	}
	return page;
}

static void free_spacers(struct spacers *sp)
{
	while (sp->n) {
		sp->n--;
		__free_pages(sp->page[sp->n], sp->order[sp->n]);
	}
}

/*
 * Storage in runs that do not follow each other, and a device that takes
 * the buffer in one piece attaches late: refused while a mapping pins the
 * storage, then the storage moves into one block with every byte.
 */
static void late_one_piece_moves_idle_storage(struct kunit *test)
{
	struct dma_buf_attachment *wide, *contig;
	struct dma_buf *dmabuf;
	struct device *dev;
	struct sg_table *sgt;
	struct spacers *sp;

	sp = kunit_kzalloc(test, sizeof(*sp), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sp);
	test->priv = sp;
	dmabuf = heap_buffer(test, 2 * SZ_1M + SZ_64K);
	kunit_activate_static_stub(test, dma_buf_alloc_pages_below, spaced_runs);
	stamps(test, dmabuf, 0x3c000000, true);
	kunit_deactivate_static_stub(test, dma_buf_alloc_pages_below);
	free_spacers(sp);
	KUNIT_ASSERT_EQ(test, pieces(dmabuf), 3U);

	wide = dma_buf_attach(dmabuf, dma_buf_test_device(test, "wide",
							  DMA_BIT_MASK(64), 0,
							  SZ_64K, ULONG_MAX));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, wide);
	sgt = dma_buf_map_attachment(wide, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	dev = dma_buf_test_device(test, "contig", DMA_BIT_MASK(32), 0, SZ_64K,
				  ULONG_MAX);
	contig = dma_buf_attach_segments(dmabuf, dev, 1);
	KUNIT_EXPECT_EQ(test, PTR_ERR(contig), -ERANGE);
	KUNIT_EXPECT_EQ(test, pieces(dmabuf), 3U);
	dma_buf_unmap_attachment(wide, sgt, DMA_TO_DEVICE);

	/* A device that takes two pieces is not enough to move it either. */
	contig = dma_buf_attach_segments(dmabuf, dev, 3);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, contig);
	KUNIT_EXPECT_EQ(test, pieces(dmabuf), 3U);
	dma_buf_detach(dmabuf, contig);

	contig = dma_buf_attach_segments(dmabuf, dev, 1);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, contig);
	KUNIT_EXPECT_EQ(test, pieces(dmabuf), 1U);
	stamps(test, dmabuf, 0x3c000000, false);
	sgt = dma_buf_map_attachment(contig, DMA_FROM_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_TRUE(test, dma_contiguous(sgt, dmabuf->size));
	dma_buf_unmap_attachment(contig, sgt, DMA_FROM_DEVICE);

	dma_buf_detach(dmabuf, contig);
	dma_buf_detach(dmabuf, wide);
	heap_put(dmabuf);
}

static bool always_translated(struct device *dev)
{
	return true;
}

/*
 * Behind a translating IOMMU a device that takes the buffer in one piece
 * costs no block: the storage stays in runs (1 MiB ones here).
 */
static void no_block_behind_an_iommu(struct kunit *test)
{
	struct dma_buf *dmabuf = heap_buffer(test, 2 * SZ_1M);
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;

	kunit_activate_static_stub(test, dma_buf_translated, always_translated);
	attach = dma_buf_attach_segments(dmabuf,
					 dma_buf_test_device(test, "mmu",
							     DMA_BIT_MASK(32), 0,
							     SZ_64K, ULONG_MAX),
					 1);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	populate(test, dmabuf);
	KUNIT_EXPECT_EQ(test, run_order(dmabuf, 0), 8U);
	KUNIT_EXPECT_EQ(test, run_order(dmabuf, SZ_1M >> PAGE_SHIFT), 8U);
	sgt = dma_buf_map_attachment(attach, DMA_FROM_DEVICE);
	KUNIT_EXPECT_NOT_ERR_OR_NULL(test, sgt);
	if (!IS_ERR(sgt))
		dma_buf_unmap_attachment(attach, sgt, DMA_FROM_DEVICE);
	dma_buf_detach(dmabuf, attach);
	heap_put(dmabuf);
}

/*
 * When no block is to be had, the use fails with ENOMEM, and a buffer
 * freed gives its block back: 8 MiB blocks, which only CMA has, until
 * the area is used up.
 */
static void no_block_left_is_enomem(struct kunit *test)
{
	struct dma_buf *bufs[64];
	struct dma_buf_attachment *attach[64];
	struct device *dev;
	unsigned int n, i;
	int ret = 0;

	if (!IS_ENABLED(CONFIG_DMA_CMA))
		kunit_skip(test, "no CMA in this kernel (CONFIG_DMA_CMA)");
	dev = dma_buf_test_device(test, "contig", DMA_BIT_MASK(32), 0, SZ_64K,
				  ULONG_MAX);
	for (n = 0; n < ARRAY_SIZE(bufs); n++) {
		bufs[n] = heap_buffer(test, SZ_8M);
		attach[n] = dma_buf_attach_segments(bufs[n], dev, 1);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach[n]);
		ret = dma_buf_begin_cpu_access(bufs[n], 0, SZ_8M,
					       DMA_TO_DEVICE);
		if (ret)
			break;
		dma_buf_end_cpu_access(bufs[n], 0, SZ_8M, DMA_TO_DEVICE);
	}
	KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
	KUNIT_EXPECT_GT_MSG(test, n, 0U, "not one 8 MiB block: is cma= set?");
	kunit_info(test, "%u blocks of 8 MiB, then ENOMEM", n);
	if (n < ARRAY_SIZE(bufs) && n > 0) {
		/* The last buffer got nothing; the first one's block comes back. */
		dma_buf_detach(bufs[0], attach[0]);
		heap_put(bufs[0]);
		KUNIT_EXPECT_EQ(test, dma_buf_begin_cpu_access(bufs[n], 0, SZ_8M,
							       DMA_TO_DEVICE), 0);
		dma_buf_end_cpu_access(bufs[n], 0, SZ_8M, DMA_TO_DEVICE);
		KUNIT_EXPECT_EQ(test, pieces(bufs[n]), 1U);
		bufs[0] = NULL;
	}
	for (i = 0; i <= n && i < ARRAY_SIZE(bufs); i++) {
		if (!bufs[i])
			continue;
		dma_buf_detach(bufs[i], attach[i]);
		heap_put(bufs[i]);
	}
}

/* Every mapping bounced, through buffers the devices reach. */
static phys_addr_t bounce_everything(struct device *dev)
{
	return dma_buf_test_phys(SZ_1G - 1);
}

static size_t bounce_holds_256k(struct device *dev)
{
	return SZ_256K;
}

/* For the rest of @test, every device's mappings go to 256 KiB bounce buffers. */
static void bounce_all_mappings(struct kunit *test)
{
	kunit_activate_static_stub(test, dma_buf_bounce_limit,
				   bounce_everything);
	kunit_activate_static_stub(test, dma_buf_max_mapping_size,
				   bounce_holds_256k);
}

/* Write @tag into the first word of page @page_num, or check it is there. */
static void stamp_page(struct kunit *test, struct dma_buf *dmabuf,
		       unsigned long page_num, u32 tag, bool check)
{
	u32 *v;

	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, dmabuf->size,
						       DMA_BIDIRECTIONAL), 0);
	v = dma_buf_kmap(dmabuf, page_num);
	if (check)
		KUNIT_EXPECT_EQ(test, *v, tag);
	else
		*v = tag;
	dma_buf_kunmap(dmabuf, page_num, v);
	dma_buf_end_cpu_access(dmabuf, 0, dmabuf->size, DMA_BIDIRECTIONAL);
}

/*
 * A device whose every mapping is bounced through 256 KiB bounce buffers
 * takes 2 MiB in one piece only in memory the DMA API allocated for it:
 * idle storage in runs moves there when it attaches, with its bytes; its
 * mapping is that memory's own DMA addresses, one run of them, not a
 * bounce buffer's; the storage holds a reference to it as long as it
 * lies there. A second device that needs the same is refused while the
 * first is attached, mapped or not; one that takes eight pieces maps the
 * block through bounce buffers as any memory, and while it holds that
 * mapping the first device's detach leaves the storage where it is; once
 * the first device is gone, the second one's late attach moves the
 * storage into memory of its own, which its detach gives back (the
 * storage moving out into ordinary memory).
 */
static void own_memory_for_a_bounced_device(struct kunit *test)
{
	struct dma_buf *dmabuf = heap_buffer(test, 2 * SZ_1M);
	struct dma_buf_attachment *attach, *eight, *second;
	struct device *dev, *dev2;
	unsigned int refs, refs2;
	struct sg_table *sgt;
	unsigned long pfn;

	dev = dma_buf_test_device(test, "bounced", DMA_BIT_MASK(32), 0, SZ_1M,
				  ULONG_MAX);
	dev2 = dma_buf_test_device(test, "second", DMA_BIT_MASK(32), 0, SZ_1M,
				   ULONG_MAX);
	refs = kref_read(&dev->kobj.kref);
	refs2 = kref_read(&dev2->kobj.kref);
	stamp_page(test, dmabuf, 511, 0xfeedf00d, false);
	pfn = page_to_pfn(system_heap_page(dmabuf, 0));
	KUNIT_ASSERT_GT(test, pieces(dmabuf), 0U);

	bounce_all_mappings(test);
	attach = dma_buf_attach_segments(dmabuf, dev, 1);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	KUNIT_EXPECT_NE(test, page_to_pfn(system_heap_page(dmabuf, 0)), pfn);
	KUNIT_EXPECT_EQ(test, pieces(dmabuf), 1U);
	KUNIT_EXPECT_EQ(test, kref_read(&dev->kobj.kref), refs + 1);
	stamp_page(test, dmabuf, 511, 0xfeedf00d, true);

	sgt = dma_buf_map_attachment(attach, DMA_FROM_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_TRUE(test, dma_contiguous(sgt, SZ_2M));
	KUNIT_EXPECT_EQ(test, sg_dma_address(sgt->sgl),
			phys_to_dma(dev, page_to_phys(system_heap_page(dmabuf, 0))));
	second = dma_buf_attach_segments(dmabuf, dev2, 1);
	KUNIT_EXPECT_EQ(test, PTR_ERR(second), -ERANGE);
	dma_buf_unmap_attachment(attach, sgt, DMA_FROM_DEVICE);
	second = dma_buf_attach_segments(dmabuf, dev2, 1);
	KUNIT_EXPECT_EQ(test, PTR_ERR(second), -ERANGE);
	KUNIT_EXPECT_EQ(test, kref_read(&dev2->kobj.kref), refs2);

	/*
	 * Eight pieces of 256 KiB hold it, through bounce buffers; while
	 * they are mapped the first device's detach cannot move the storage
	 * out of its memory.
	 */
	eight = dma_buf_attach_segments(dmabuf, dev2, 8);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, eight);
	sgt = dma_buf_map_attachment(eight, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_EQ(test, sgt->orig_nents, 8U);
	dma_buf_detach(dmabuf, attach);
	KUNIT_EXPECT_EQ(test, kref_read(&dev->kobj.kref), refs + 1);
	dma_buf_unmap_attachment(eight, sgt, DMA_TO_DEVICE);
	dma_buf_detach(dmabuf, eight);

	/* The first device gone, the second gets memory of its own... */
	second = dma_buf_attach_segments(dmabuf, dev2, 1);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, second);
	KUNIT_EXPECT_EQ(test, kref_read(&dev->kobj.kref), refs);
	KUNIT_EXPECT_EQ(test, kref_read(&dev2->kobj.kref), refs2 + 1);
	stamp_page(test, dmabuf, 511, 0xfeedf00d, true);
	/* ...given back as it detaches, the bytes moving out with them. */
	dma_buf_detach(dmabuf, second);
	KUNIT_EXPECT_EQ(test, kref_read(&dev2->kobj.kref), refs2);
	stamp_page(test, dmabuf, 511, 0xfeedf00d, true);
	heap_put(dmabuf);
}

static struct page *no_own_memory(struct device *dev, unsigned long n_pages,
				  u64 limit, dma_addr_t *dma_handle, gfp_t gfp)
{
	return NULL;
}

/*
 * Memory the DMA API cannot allocate for such a device fails its use with
 * ENOMEM and leaves nothing: no storage, nothing accounted, no reference
 * to the device; the next use, with memory to be had, gets it.
 */
static void failed_own_memory_leaves_nothing(struct kunit *test)
{
	struct dma_buf *dmabuf = heap_buffer(test, 2 * SZ_1M);
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	struct device *dev;
	unsigned int refs;

	dev = dma_buf_test_device(test, "bounced", DMA_BIT_MASK(32), 0, SZ_1M,
				  ULONG_MAX);
	refs = kref_read(&dev->kobj.kref);
	bounce_all_mappings(test);
	attach = dma_buf_attach_segments(dmabuf, dev, 1);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	kunit_activate_static_stub(test, dma_buf_alloc_for_device,
				   no_own_memory);
	sgt = dma_buf_map_attachment(attach, DMA_FROM_DEVICE);
	KUNIT_EXPECT_EQ(test, PTR_ERR(sgt), -ENOMEM);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&dmabuf->acct_pages), 0L);
	KUNIT_EXPECT_EQ(test, kref_read(&dev->kobj.kref), refs);
	kunit_deactivate_static_stub(test, dma_buf_alloc_for_device);

	sgt = dma_buf_map_attachment(attach, DMA_FROM_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_TRUE(test, dma_contiguous(sgt, SZ_2M));
	KUNIT_EXPECT_EQ(test, kref_read(&dev->kobj.kref), refs + 1);
	dma_buf_unmap_attachment(attach, sgt, DMA_FROM_DEVICE);
	dma_buf_detach(dmabuf, attach);
	heap_put(dmabuf);
	KUNIT_EXPECT_EQ(test, kref_read(&dev->kobj.kref), refs);
}

/*
 * Bounced, each scatterlist entry goes to a bounce buffer of its own: a
 * block is mapped as few entries as the device takes, across the runs
 * that describe it (one entry for two pages here). A device whose segment
 * boundary cuts any storage into more pieces than it takes gets memory of
 * its own, its segments cut at the boundary but one run of DMA addresses.
 */
static void bounced_block_in_few_entries(struct kunit *test)
{
	struct dma_buf *dmabuf = heap_buffer(test, 2 * PAGE_SIZE);
	struct dma_buf *big = heap_buffer(test, SZ_128K);
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;

	bounce_all_mappings(test);
	attach = dma_buf_attach_segments(dmabuf,
					 dma_buf_test_device(test, "bounced",
							     DMA_BIT_MASK(32), 0,
							     SZ_64K, ULONG_MAX),
					 1);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	sgt = dma_buf_map_attachment(attach, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_EQ(test, sgt->orig_nents, 1U);
	dma_buf_unmap_attachment(attach, sgt, DMA_TO_DEVICE);
	dma_buf_detach(dmabuf, attach);

	attach = dma_buf_attach_segments(big,
					 dma_buf_test_device(test, "boundary",
							     DMA_BIT_MASK(32), 0,
							     SZ_256K, SZ_64K - 1),
					 1);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	sgt = dma_buf_map_attachment(attach, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_TRUE(test, dma_contiguous(sgt, SZ_128K));
	KUNIT_EXPECT_EQ(test, sgt->nents,
			(unsigned int)((sg_dma_address(sgt->sgl) & (SZ_64K - 1) ?
					1 : 0) + 2));
	dma_buf_unmap_attachment(attach, sgt, DMA_TO_DEVICE);
	dma_buf_detach(big, attach);
	heap_put(big);
	heap_put(dmabuf);
}

static struct page *no_buddy(u64 limit, unsigned int order, gfp_t gfp)
{
	return NULL;
}

/*
 * CMA's runs are aligned as the page allocator's blocks: to their next
 * power of two, at most 1 MiB, even after a page of CMA went before.
 */
static void cma_runs_aligned(struct kunit *test)
{
	struct page *pad, *run;

	if (!IS_ENABLED(CONFIG_DMA_CMA))
		kunit_skip(test, "no CMA in this kernel (CONFIG_DMA_CMA)");
	kunit_activate_static_stub(test, dma_buf_alloc_pages_below, no_buddy);
	pad = dma_buf_alloc_contiguous(1, U64_MAX, 0);
	KUNIT_ASSERT_NOT_NULL_MSG(test, pad, "no CMA: is cma= set?");
	run = dma_buf_alloc_contiguous(300, U64_MAX, 0);
	KUNIT_EXPECT_NOT_NULL(test, run);
	if (run) {
		KUNIT_EXPECT_EQ(test, page_to_pfn(run) % 256, 0UL);
		dma_buf_free_contiguous(run, 300);
	}
	run = dma_buf_alloc_contiguous(20, U64_MAX, 0);
	KUNIT_EXPECT_NOT_NULL(test, run);
	if (run) {
		KUNIT_EXPECT_EQ(test, page_to_pfn(run) % 32, 0UL);
		dma_buf_free_contiguous(run, 20);
	}
	dma_buf_free_contiguous(pad, 1);
}

static struct page *no_block(unsigned long n_pages, u64 limit, gfp_t gfp)
{
	return NULL;
}

/*
 * A block that cannot be had fails the use with ENOMEM and leaves the
 * buffer as it was: no storage, nothing accounted, and the next use,
 * with blocks to be had again, gets one.
 */
static void failed_block_leaves_nothing(struct kunit *test)
{
	struct dma_buf *dmabuf = heap_buffer(test, SZ_1M + PAGE_SIZE);
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;

	attach = dma_buf_attach_segments(dmabuf,
					 dma_buf_test_device(test, "contig",
							     DMA_BIT_MASK(32), 0,
							     SZ_64K, ULONG_MAX),
					 1);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	kunit_activate_static_stub(test, dma_buf_alloc_contiguous, no_block);
	sgt = dma_buf_map_attachment(attach, DMA_FROM_DEVICE);
	KUNIT_EXPECT_EQ(test, PTR_ERR(sgt), -ENOMEM);
	KUNIT_EXPECT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, dmabuf->size,
						       DMA_FROM_DEVICE),
			-ENOMEM);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&dmabuf->acct_pages), 0L);
	kunit_deactivate_static_stub(test, dma_buf_alloc_contiguous);

	sgt = dma_buf_map_attachment(attach, DMA_FROM_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_EQ(test, pieces(dmabuf), 1U);
	dma_buf_unmap_attachment(attach, sgt, DMA_FROM_DEVICE);
	dma_buf_detach(dmabuf, attach);
	heap_put(dmabuf);
}

static struct kunit_case system_heap_cases[] = {
	KUNIT_CASE(failed_block_leaves_nothing),
	KUNIT_CASE(own_memory_for_a_bounced_device),
	KUNIT_CASE(failed_own_memory_leaves_nothing),
	KUNIT_CASE(cma_runs_aligned),
	KUNIT_CASE(bounced_block_in_few_entries),
	KUNIT_CASE_PARAM(one_block_for_one_piece, block_gen_params),
	KUNIT_CASE(late_one_piece_moves_idle_storage),
	KUNIT_CASE(no_block_behind_an_iommu),
	KUNIT_CASE(no_block_left_is_enomem),
	KUNIT_CASE(storage_allocated_at_first_use),
	KUNIT_CASE(storage_allocated_by_first_map),
	KUNIT_CASE(freed_pages_read_zero_when_reused),
	KUNIT_CASE(narrow_device_gets_reachable_pages),
	KUNIT_CASE(late_device_out_of_reach_moves),
	KUNIT_CASE(device_reaching_part_of_a_run_moves),
	KUNIT_CASE(move_between_zones),
	KUNIT_CASE_PARAM(segments_respect_device_limits,
			 segment_limits_gen_params),
	KUNIT_CASE(cpu_access_syncs_held_mappings),
	KUNIT_CASE(storage_counts_in_owner_footprint),
	KUNIT_CASE(population_stops_at_fatal_signal),
	KUNIT_CASE(kmap_reads_and_writes),
	KUNIT_CASE(vmap_is_a_linear_view),
	KUNIT_CASE(storage_in_long_runs),
	KUNIT_CASE(storage_in_shorter_runs_when_long_ones_fail),
	KUNIT_CASE(kmap_and_vmap_find_each_run),
	KUNIT_CASE(storage_in_highmem),
	KUNIT_CASE(too_large_fails_without_trying),
	{}
};

static struct kunit_suite system_heap_suite = {
	.name = "system_heap",
	.test_cases = system_heap_cases,
};

static struct kunit_case system_heap_dma_api_cases[] = {
	KUNIT_CASE_PARAM(dma_api_calls_of_each_lifetime, lifetime_gen_params),
	{}
};

static struct kunit_suite system_heap_dma_api_suite = {
	.name = "system_heap_dma_api",
	.test_cases = system_heap_dma_api_cases,
};

kunit_test_suites(&system_heap_suite, &system_heap_dma_api_suite);

MODULE_DESCRIPTION("KUnit tests for the dma-buf system heap");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
