// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suites for the dma-buf core, against a fake exporter that records
 * every call the core makes to it.
 *
 * Misuse checks WARN; each case that provokes one on purpose wraps the
 * call in EXPECT_MISUSE(), which prints the harness's "EXPECT-WARN begin"
 * and "EXPECT-WARN end" markers around it and checks that the core
 * counted exactly one misuse. A misuse nobody expected fails the case.
 */

#include <kunit/device.h>
#include <kunit/static_stub.h>
#include <kunit/test.h>

#include <linux/anon_inodes.h>
#include <linux/completion.h>
#include <linux/dcache.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/path.h>
#include <linux/scatterlist.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "../dma-buf-internal.h"
#include "dma-buf-test.h"

#define FAKE_PAGES	3
#define FAKE_SIZE	(FAKE_PAGES * PAGE_SIZE - 100)

/* Which callbacks ran with the buffer's lock in the wrong state. */
enum fake_op {
	OP_ATTACH, OP_DETACH, OP_MAP, OP_UNMAP, OP_BEGIN, OP_END,
	OP_KMAP, OP_KUNMAP, OP_KMAP_ATOMIC, OP_KUNMAP_ATOMIC, OP_MMAP,
	OP_SYNC_DEV, OP_SYNC_CPU, OP_MOVE, OP_FAULT, OP_VMAP, OP_VUNMAP,
	OP_RELEASE,
};

struct fake_exporter {
	struct kunit *test;
	void *storage;

	/* What the fake does. */
	int attach_ret;
	int begin_ret;
	int mmap_ret;
	struct sg_table *map_ret;	/* if set, map_dma_buf returns it */
	bool map_null;			/* map_dma_buf breaks its contract */
	unsigned long importer_pgoff;	/* for importer_mmap() */

	/* What the core did. */
	unsigned int calls[OP_RELEASE + 1];
	unsigned long lock_wrong;	/* bit per enum fake_op */
	struct device *attach_dev;
	enum dma_data_direction map_dir, unmap_dir;
	struct sg_table *mapped, *unmapped;
	size_t begin_start, begin_len, end_start, end_len;
	enum dma_data_direction begin_dir, end_dir;
	unsigned long page_num;
	void *unmap_vaddr;
	unsigned long mmap_pgoff;
	struct file *mmap_file;
	/*
	 * The mapping and ownership callbacks in order, as
	 * "<device>.<callback>(<direction>)" and "begin"/"end" words.
	 */
	char log[512];
	bool kmap_null;			/* the kmap callbacks fail */

	/* Moves: what the fake answers, what the core asked. */
	int move_ret;
	bool move_fixes_attach;		/* a move makes attach succeed */
	u64 move_limit;
	unsigned int move_segments;	/* max_segments of the last move */
	struct device *move_dma_dev;	/* dma_dev of the last move */
	unsigned int attach_segments;	/* what the last attach stated */
	bool move_in_end;		/* end_cpu_access tries a move */
	int move_in_end_ret;
	struct page *fault_page;	/* mmap() faults insert it, if set */

	/*
	 * Failure injection: the core's allocation at @fail_site fails (if
	 * @fail_by_site), and the @fail_at-th failure point of a path fails
	 * (if not zero), a point being any allocation of the core or any
	 * callback of the fake that can fail. @points counts them.
	 */
	bool fail_by_site;
	enum dma_buf_alloc_site fail_site;
	unsigned int fail_at, points;
	int tables;			/* handed out by map, not yet unmapped */

	/* Misuse the core reported, and misuse the case asked for. */
	unsigned int misuse;
	unsigned int misuse_expected;
};

#define EXPECT_MISUSE(test, fx, stmt) do {				\
	struct fake_exporter *__fx = (fx);				\
	unsigned int __before = __fx->misuse;				\
									\
	pr_info("dma-buf-test: EXPECT-WARN begin\n");			\
	stmt;								\
	pr_info("dma-buf-test: EXPECT-WARN end\n");			\
	__fx->misuse_expected++;					\
	KUNIT_EXPECT_EQ_MSG(test, __fx->misuse, __before + 1,		\
			    "no misuse reported for: %s", #stmt);	\
} while (0)

/* A failure point of the fake or of the core: does it fail this time? */
static bool fake_point_fails(struct fake_exporter *fx)
{
	return ++fx->points == fx->fail_at;
}

static void fake_record(struct fake_exporter *fx, struct dma_buf *dmabuf,
			enum fake_op op, bool locked)
{
	fx->calls[op]++;
	if (mutex_is_locked(&dmabuf->lock) != locked)
		fx->lock_wrong |= BIT(op);
}

static const char *dir_word(enum dma_data_direction dir)
{
	switch (dir) {
	case DMA_TO_DEVICE:
		return "to";
	case DMA_FROM_DEVICE:
		return "from";
	case DMA_BIDIRECTIONAL:
		return "bidi";
	default:
		return "none";
	}
}

/*
 * Append an event to the log; @attach is NULL for buffer-wide events.
 * Devices are named as the case named them ("<case>.<name>" in sysfs).
 */
static void fake_log(struct fake_exporter *fx, struct dma_buf_attachment *attach,
		     const char *what, enum dma_data_direction dir)
{
	size_t n = strlen(fx->log);
	const char *dev;

	if (attach) {
		dev = strrchr(dev_name(attach->dev), '.');
		dev = dev ? dev + 1 : dev_name(attach->dev);
		snprintf(fx->log + n, sizeof(fx->log) - n, "%s%s.%s(%s)",
			 n ? " " : "", dev, what, dir_word(dir));
	} else {
		snprintf(fx->log + n, sizeof(fx->log) - n, "%s%s",
			 n ? " " : "", what);
	}
}

static int fake_attach(struct dma_buf *dmabuf, struct device *dev,
		       struct dma_buf_attachment *attach)
{
	struct fake_exporter *fx = dmabuf->priv;

	struct dma_buf_attachment *other;

	fake_record(fx, dmabuf, OP_ATTACH, true);
	fx->attach_dev = dev;
	fx->attach_segments = attach->max_segments;
	KUNIT_EXPECT_PTR_EQ(fx->test, attach->dev, dev);
	/* Not on the list before the exporter accepted it. */
	list_for_each_entry(other, &dmabuf->attachments, node)
		KUNIT_EXPECT_PTR_NE(fx->test, other, attach);
	if (fake_point_fails(fx))
		return -ENOSPC;
	return fx->attach_ret;
}

static void fake_detach(struct dma_buf *dmabuf,
			struct dma_buf_attachment *attach)
{
	struct fake_exporter *fx = dmabuf->priv;

	fake_record(fx, dmabuf, OP_DETACH, true);
	/* The cached mapping went back to the exporter first. */
	KUNIT_EXPECT_NULL(fx->test, attach->sgt);
}

static struct sg_table *fake_map(struct dma_buf_attachment *attach,
				 enum dma_data_direction dir)
{
	struct fake_exporter *fx = attach->dmabuf->priv;
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int i;

	fake_record(fx, attach->dmabuf, OP_MAP, true);
	fx->map_dir = dir;
	fake_log(fx, attach, "map", dir);
	if (fake_point_fails(fx))
		return ERR_PTR(-ENOSPC);
	if (fx->map_null)
		return NULL;
	if (fx->map_ret)
		return fx->map_ret;

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	if (sg_alloc_table(sgt, 2, GFP_KERNEL)) {
		kfree(sgt);
		return ERR_PTR(-ENOMEM);
	}
	/* Two segments with made-up DMA addresses. */
	for_each_sgtable_sg(sgt, sg, i) {
		sg_set_buf(sg, fx->storage + i * PAGE_SIZE, PAGE_SIZE);
		sg_dma_address(sg) = 0x10000 * (i + 1);
		sg_dma_len(sg) = PAGE_SIZE;
	}
	fx->mapped = sgt;
	fx->tables++;
	return sgt;
}

static void fake_unmap(struct dma_buf_attachment *attach,
		       struct sg_table *sgt, enum dma_data_direction dir)
{
	struct fake_exporter *fx = attach->dmabuf->priv;

	fake_record(fx, attach->dmabuf, OP_UNMAP, true);
	fx->unmap_dir = dir;
	fx->unmapped = sgt;
	fake_log(fx, attach, "unmap", dir);
	fx->tables--;
	/* Every table the core hands back is one fake_map() allocated. */
	sg_free_table(sgt);
	kfree(sgt);
}

static void fake_sync_for_device(struct dma_buf_attachment *attach,
				 struct sg_table *sgt,
				 enum dma_data_direction dir)
{
	struct fake_exporter *fx = attach->dmabuf->priv;

	fake_record(fx, attach->dmabuf, OP_SYNC_DEV, true);
	/* The exporter's own table, not the importer's copy. */
	KUNIT_EXPECT_PTR_EQ(fx->test, sgt, attach->exporter_sgt);
	KUNIT_EXPECT_EQ(fx->test, dir, attach->dir);
	fake_log(fx, attach, "dev", dir);
}

static void fake_sync_for_cpu(struct dma_buf_attachment *attach,
			      struct sg_table *sgt,
			      enum dma_data_direction dir)
{
	struct fake_exporter *fx = attach->dmabuf->priv;

	fake_record(fx, attach->dmabuf, OP_SYNC_CPU, true);
	KUNIT_EXPECT_PTR_EQ(fx->test, sgt, attach->exporter_sgt);
	KUNIT_EXPECT_EQ(fx->test, dir, attach->dir);
	fake_log(fx, attach, "cpu", dir);
}

static void fake_release(struct dma_buf *dmabuf)
{
	struct fake_exporter *fx = dmabuf->priv;

	fake_record(fx, dmabuf, OP_RELEASE, false);
	/* The kernel mapping, even an idle one, came back first. */
	KUNIT_EXPECT_NULL(fx->test, dmabuf->vmap_ptr);
}

static int fake_begin(struct dma_buf *dmabuf, size_t start, size_t len,
		      enum dma_data_direction dir)
{
	struct fake_exporter *fx = dmabuf->priv;

	/* Without the lock: an exporter that allocates here takes it. */
	fake_record(fx, dmabuf, OP_BEGIN, false);
	fake_log(fx, NULL, "begin", dir);
	fx->begin_start = start;
	fx->begin_len = len;
	fx->begin_dir = dir;
	if (fake_point_fails(fx))
		return -ENOSPC;
	return fx->begin_ret;
}

/* Where a move may put the storage: anywhere the devices reach. */
static const struct dma_buf_constraints anywhere = {
	.dma_limit = U64_MAX,
	.max_segment_size = UINT_MAX,
	.seg_boundary_mask = ULONG_MAX,
};

static void fake_end(struct dma_buf *dmabuf, size_t start, size_t len,
		     enum dma_data_direction dir)
{
	struct fake_exporter *fx = dmabuf->priv;

	/* The access ending still pins the storage; no lock needed. */
	fake_record(fx, dmabuf, OP_END, false);
	fake_log(fx, NULL, "end", dir);
	fx->end_start = start;
	fx->end_len = len;
	fx->end_dir = dir;
	/* A move from here must not deadlock, nor succeed. */
	if (fx->move_in_end)
		fx->move_in_end_ret = mutex_is_locked(&dmabuf->lock) ?
				      -EDEADLK : dma_buf_move(dmabuf, &anywhere);
}

static void *fake_kmap_atomic(struct dma_buf *dmabuf, unsigned long page_num)
{
	struct fake_exporter *fx = dmabuf->priv;

	fake_record(fx, dmabuf, OP_KMAP_ATOMIC, false);
	fx->page_num = page_num;
	if (fake_point_fails(fx) || fx->kmap_null)
		return NULL;
	return fx->storage + page_num * PAGE_SIZE;
}

static void fake_kunmap_atomic(struct dma_buf *dmabuf, unsigned long page_num,
			       void *vaddr)
{
	struct fake_exporter *fx = dmabuf->priv;

	fake_record(fx, dmabuf, OP_KUNMAP_ATOMIC, false);
	fx->page_num = page_num;
	fx->unmap_vaddr = vaddr;
}

static void *fake_kmap(struct dma_buf *dmabuf, unsigned long page_num)
{
	struct fake_exporter *fx = dmabuf->priv;

	/* Inside a CPU access, which pins: no lock on the page path. */
	fake_record(fx, dmabuf, OP_KMAP, false);
	fx->page_num = page_num;
	if (fake_point_fails(fx) || fx->kmap_null)
		return NULL;
	return fx->storage + page_num * PAGE_SIZE;
}

static void fake_kunmap(struct dma_buf *dmabuf, unsigned long page_num,
			void *vaddr)
{
	struct fake_exporter *fx = dmabuf->priv;

	fake_record(fx, dmabuf, OP_KUNMAP, false);
	fx->page_num = page_num;
	fx->unmap_vaddr = vaddr;
}

static void *fake_vmap(struct dma_buf *dmabuf)
{
	struct fake_exporter *fx = dmabuf->priv;

	fake_record(fx, dmabuf, OP_VMAP, true);
	if (fake_point_fails(fx))
		return ERR_PTR(-ENOMEM);
	return fx->storage;
}

static void fake_vunmap(struct dma_buf *dmabuf, void *vaddr)
{
	struct fake_exporter *fx = dmabuf->priv;

	fake_record(fx, dmabuf, OP_VUNMAP, true);
	fx->unmap_vaddr = vaddr;
}

static vm_fault_t fake_fault(struct vm_fault *vmf)
{
	struct dma_buf *dmabuf = vmf->vma->vm_file->private_data;
	struct fake_exporter *fx = dmabuf->priv;
	vm_fault_t ret;

	/* As an exporter that moves must: insert under the buffer's lock. */
	mutex_lock(&dmabuf->lock);
	fx->calls[OP_FAULT]++;
	ret = vmf_insert_pfn(vmf->vma, vmf->address,
			     page_to_pfn(fx->fault_page));
	mutex_unlock(&dmabuf->lock);
	return ret;
}

static const struct vm_operations_struct fake_vm_ops = {
	.fault = fake_fault,
};

static int fake_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct fake_exporter *fx = dmabuf->priv;

	fake_record(fx, dmabuf, OP_MMAP, true);
	fx->mmap_pgoff = vma->vm_pgoff;
	fx->mmap_file = vma->vm_file;
	if (fx->fault_page) {
		vm_flags_set(vma, VM_PFNMAP);
		vma->vm_ops = &fake_vm_ops;
	}
	return fx->mmap_ret;
}

static int fake_move(struct dma_buf *dmabuf,
		     const struct dma_buf_constraints *c)
{
	struct fake_exporter *fx = dmabuf->priv;
	struct dma_buf_attachment *attach;

	fake_record(fx, dmabuf, OP_MOVE, true);
	fake_log(fx, NULL, "move", DMA_NONE);
	fx->move_limit = c->dma_limit;
	fx->move_segments = c->max_segments;
	fx->move_dma_dev = c->dma_dev;
	/* Every cached mapping went back to the exporter first. */
	list_for_each_entry(attach, &dmabuf->attachments, node)
		KUNIT_EXPECT_NULL(fx->test, attach->sgt);
	/* And the kernel mapping the core kept idle: nobody holds it now. */
	KUNIT_EXPECT_NULL(fx->test, dmabuf->vmap_ptr);
	KUNIT_EXPECT_EQ(fx->test, atomic_read(&dmabuf->vmap_count), 0);
	if (fx->move_ret)
		return fx->move_ret;
	if (fx->move_fixes_attach)
		fx->attach_ret = 0;
	return 0;
}

static const struct dma_buf_ops fake_ops = {
	.attach		  = fake_attach,
	.detach		  = fake_detach,
	.map_dma_buf	  = fake_map,
	.unmap_dma_buf	  = fake_unmap,
	.sync_for_device  = fake_sync_for_device,
	.sync_for_cpu	  = fake_sync_for_cpu,
	.release	  = fake_release,
	.begin_cpu_access = fake_begin,
	.end_cpu_access	  = fake_end,
	.kmap_atomic	  = fake_kmap_atomic,
	.kunmap_atomic	  = fake_kunmap_atomic,
	.kmap		  = fake_kmap,
	.kunmap		  = fake_kunmap,
	.vmap		  = fake_vmap,
	.vunmap		  = fake_vunmap,
	.mmap		  = fake_mmap,
	.move		  = fake_move,
};

/* Only what dma_buf_export() requires. */
static const struct dma_buf_ops fake_minimal_ops = {
	.map_dma_buf	  = fake_map,
	.unmap_dma_buf	  = fake_unmap,
	.release	  = fake_release,
	.kmap_atomic	  = fake_kmap_atomic,
	.kmap		  = fake_kmap,
};

static void fake_misuse_hook(void)
{
	struct kunit *test = kunit_get_current_test();
	struct fake_exporter *fx = test->priv;

	fx->misuse++;
}

static bool fake_alloc_fails(enum dma_buf_alloc_site site)
{
	struct kunit *test = kunit_get_current_test();
	struct fake_exporter *fx = test->priv;

	return fake_point_fails(fx) || (fx->fail_by_site && site == fx->fail_site);
}

static int dma_buf_test_init(struct kunit *test)
{
	struct fake_exporter *fx;

	fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);
	if (!fx)
		return -ENOMEM;
	fx->test = test;
	fx->storage = kunit_kzalloc(test, FAKE_PAGES * PAGE_SIZE, GFP_KERNEL);
	if (!fx->storage)
		return -ENOMEM;
	test->priv = fx;
	kunit_activate_static_stub(test, dma_buf_misuse_hook, fake_misuse_hook);
	kunit_activate_static_stub(test, dma_buf_alloc_fails, fake_alloc_fails);
	return 0;
}

static void dma_buf_test_exit(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;

	/* Buffers a kernel thread put are released from a workqueue. */
	flush_delayed_fput();
	KUNIT_EXPECT_EQ_MSG(test, fx->lock_wrong, 0UL,
			    "callbacks (bits of enum fake_op) ran with the buffer lock in the wrong state");
	KUNIT_EXPECT_EQ_MSG(test, fx->misuse, fx->misuse_expected,
			    "unexpected misuse reports");
}

static struct dma_buf *fake_export(struct kunit *test,
				   const struct dma_buf_ops *ops)
{
	struct dma_buf *dmabuf = dma_buf_export(test->priv, ops, FAKE_SIZE,
						O_RDWR);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dmabuf);
	return dmabuf;
}

/* Drop the last reference and wait for the release. */
static void put_and_flush(struct dma_buf *dmabuf)
{
	dma_buf_put(dmabuf);
	flush_delayed_fput();
}

static struct device *test_device(struct kunit *test, const char *name)
{
	struct device *dev = kunit_device_register(test, name);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	return dev;
}

static long do_ioctl(struct file *file, unsigned int cmd, void __user *arg)
{
	return file->f_op->unlocked_ioctl(file, cmd, (unsigned long)arg);
}

/* Userspace memory for ioctl arguments; also gives the test an mm. */
static void __user *user_page(struct kunit *test)
{
	unsigned long addr = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE,
					   PROT_READ | PROT_WRITE,
					   MAP_ANONYMOUS | MAP_PRIVATE, 0);

	KUNIT_ASSERT_FALSE(test, !addr || IS_ERR_VALUE(addr));
	return (void __user *)addr;
}

/* The number of buffers the core's debugfs listing reports. */
static unsigned int live_buffers(struct kunit *test, const char *needle,
				 bool *found)
{
	struct seq_file m = {};
	unsigned int n = 0;
	char *total;
	int ret;

	m.size = 64 * PAGE_SIZE;
	m.buf = kunit_kzalloc(test, m.size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m.buf);
	dma_buf_bufinfo_show(&m, NULL);
	KUNIT_ASSERT_LT(test, m.count, m.size);
	m.buf[m.count] = '\0';
	if (found)
		*found = needle && strstr(m.buf, needle);
	total = strstr(m.buf, "\nTotal ");
	KUNIT_ASSERT_NOT_NULL(test, total);
	ret = sscanf(total, "\nTotal %u objects", &n);
	KUNIT_EXPECT_EQ(test, ret, 1);
	return n;
}

/* --- export ------------------------------------------------------------ */

static void export_rejects_null_priv(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf;

	EXPECT_MISUSE(test, fx,
		      dmabuf = dma_buf_export(NULL, &fake_ops, PAGE_SIZE, O_RDWR));
	KUNIT_EXPECT_EQ(test, PTR_ERR(dmabuf), -EINVAL);
}

static void export_rejects_null_ops(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf;

	EXPECT_MISUSE(test, fx,
		      dmabuf = dma_buf_export(fx, NULL, PAGE_SIZE, O_RDWR));
	KUNIT_EXPECT_EQ(test, PTR_ERR(dmabuf), -EINVAL);
}

struct missing_op {
	const char *name;
	size_t offset;
};

static const struct missing_op missing_ops[] = {
	{ "map_dma_buf", offsetof(struct dma_buf_ops, map_dma_buf) },
	{ "unmap_dma_buf", offsetof(struct dma_buf_ops, unmap_dma_buf) },
	{ "release", offsetof(struct dma_buf_ops, release) },
	{ "kmap", offsetof(struct dma_buf_ops, kmap) },
	{ "kmap_atomic", offsetof(struct dma_buf_ops, kmap_atomic) },
};

KUNIT_ARRAY_PARAM_DESC(missing_op, missing_ops, name);

static void export_rejects_missing_mandatory_op(struct kunit *test)
{
	const struct missing_op *param = test->param_value;
	struct fake_exporter *fx = test->priv;
	struct dma_buf_ops *ops;
	struct dma_buf *dmabuf;

	ops = kunit_kmalloc(test, sizeof(*ops), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ops);
	*ops = fake_ops;
	memset((void *)ops + param->offset, 0, sizeof(void *));

	EXPECT_MISUSE(test, fx,
		      dmabuf = dma_buf_export(fx, ops, PAGE_SIZE, O_RDWR));
	KUNIT_EXPECT_EQ(test, PTR_ERR(dmabuf), -EINVAL);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_RELEASE], 0U);
}

struct bad_export {
	const char *name;
	size_t size;
	int flags;
};

static const struct bad_export bad_exports[] = {
	{ "zero size", 0, O_RDWR },
	{ "size wraps when page-aligned", SIZE_MAX, O_RDWR },
	{ "O_CREAT", PAGE_SIZE, O_RDWR | O_CREAT },
	{ "O_TRUNC", PAGE_SIZE, O_RDWR | O_TRUNC },
};

KUNIT_ARRAY_PARAM_DESC(bad_export, bad_exports, name);

static void export_rejects_bad_size_or_flags(struct kunit *test)
{
	const struct bad_export *param = test->param_value;
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf;

	EXPECT_MISUSE(test, fx,
		      dmabuf = dma_buf_export(fx, &fake_ops, param->size,
					      param->flags));
	KUNIT_EXPECT_EQ(test, PTR_ERR(dmabuf), -EINVAL);
}

static void export_minimal_ops(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_minimal_ops);

	KUNIT_EXPECT_EQ(test, dmabuf->size, (size_t)FAKE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, dmabuf->priv, (void *)fx);
	KUNIT_EXPECT_PTR_EQ(test, dmabuf->ops, &fake_minimal_ops);
	put_and_flush(dmabuf);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_RELEASE], 1U);
}

static void export_file_flags(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *rw, *ro, *none;

	rw = dma_buf_export(fx, &fake_ops, PAGE_SIZE, O_RDWR | O_CLOEXEC);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, rw);
	ro = dma_buf_export(fx, &fake_ops, PAGE_SIZE, O_RDONLY);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ro);
	/* O_ACCMODE, as open(2) takes it: neither, for ioctls only. */
	none = dma_buf_export(fx, &fake_ops, PAGE_SIZE, O_ACCMODE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, none);
	KUNIT_EXPECT_FALSE(test, none->file->f_mode & (FMODE_READ | FMODE_WRITE));
	dma_buf_put(none);

	KUNIT_EXPECT_EQ(test, rw->file->f_flags & O_ACCMODE, O_RDWR);
	KUNIT_EXPECT_TRUE(test, rw->file->f_mode & FMODE_READ);
	KUNIT_EXPECT_TRUE(test, rw->file->f_mode & FMODE_WRITE);
	/* O_CLOEXEC belongs to a descriptor, not to the file. */
	KUNIT_EXPECT_FALSE(test, rw->file->f_flags & O_CLOEXEC);

	KUNIT_EXPECT_EQ(test, ro->file->f_flags & O_ACCMODE, O_RDONLY);
	KUNIT_EXPECT_TRUE(test, ro->file->f_mode & FMODE_READ);
	KUNIT_EXPECT_FALSE(test, ro->file->f_mode & FMODE_WRITE);

	/* Each buffer has an inode and an address space of its own. */
	KUNIT_EXPECT_PTR_NE(test, file_inode(rw->file), file_inode(ro->file));
	KUNIT_EXPECT_PTR_NE(test, rw->file->f_mapping, ro->file->f_mapping);
	KUNIT_EXPECT_PTR_EQ(test, rw->file->f_mapping->host, file_inode(rw->file));
	KUNIT_EXPECT_EQ(test, i_size_read(file_inode(rw->file)), (loff_t)PAGE_SIZE);

	dma_buf_put(rw);
	put_and_flush(ro);
	/* Each of the three, released once. */
	KUNIT_EXPECT_EQ(test, fx->calls[OP_RELEASE], 3U);
}

static void export_records_exporter_name(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *plain, *named;

	plain = fake_export(test, &fake_ops);
	named = dma_buf_export_named(fx, &fake_ops, PAGE_SIZE, O_RDWR,
				     "camera");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, named);

	/* The module name of this test, from its Makefile. */
	KUNIT_EXPECT_STREQ(test, plain->exp_name, "dma_buf_kunit");
	KUNIT_EXPECT_STREQ(test, named->exp_name, "camera");

	dma_buf_put(plain);
	put_and_flush(named);
}

#ifdef CONFIG_MODULE_UNLOAD
static void export_pins_owner_module(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *a, *b;
	struct module *mod;

	mod = kunit_kzalloc(test, sizeof(*mod), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mod);
	mod->state = MODULE_STATE_LIVE;
	atomic_set(&mod->refcnt, 1);
	strscpy(mod->name, "fake_exporter", sizeof(mod->name));
	KUNIT_ASSERT_EQ(test, module_refcount(mod), 0);

	a = dma_buf_export_owner(fx, &fake_ops, PAGE_SIZE, O_RDWR, mod,
				 mod->name);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	b = dma_buf_export_owner(fx, &fake_ops, PAGE_SIZE, O_RDWR, mod,
				 mod->name);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	KUNIT_EXPECT_EQ(test, module_refcount(mod), 2);
	KUNIT_EXPECT_PTR_EQ(test, a->owner, mod);

	put_and_flush(a);
	KUNIT_EXPECT_EQ(test, module_refcount(mod), 1);
	put_and_flush(b);
	KUNIT_EXPECT_EQ(test, module_refcount(mod), 0);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_RELEASE], 2U);

	/* A module on its way out exports nothing. */
	mod->state = MODULE_STATE_GOING;
	a = dma_buf_export_owner(fx, &fake_ops, PAGE_SIZE, O_RDWR, mod,
				 mod->name);
	KUNIT_EXPECT_EQ(test, PTR_ERR(a), -ENODEV);
	KUNIT_EXPECT_EQ(test, module_refcount(mod), 0);
}
#else
static void export_pins_owner_module(struct kunit *test)
{
	kunit_skip(test, "module reference counts need CONFIG_MODULE_UNLOAD");
}
#endif

struct alloc_failure {
	const char *name;
	enum dma_buf_alloc_site site;
};

static const struct alloc_failure alloc_failures[] = {
	{ "struct dma_buf", DMA_BUF_ALLOC_BUFFER },
	{ "inode", DMA_BUF_ALLOC_INODE },
	{ "file", DMA_BUF_ALLOC_FILE },
};

KUNIT_ARRAY_PARAM_DESC(alloc_failure, alloc_failures, name);

static void export_allocation_failure(struct kunit *test)
{
	const struct alloc_failure *param = test->param_value;
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf;
	unsigned int before;

	before = live_buffers(test, NULL, NULL);
	fx->fail_by_site = true;
	fx->fail_site = param->site;
	dmabuf = dma_buf_export(fx, &fake_ops, PAGE_SIZE, O_RDWR);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dmabuf), -ENOMEM);
	flush_delayed_fput();
	KUNIT_EXPECT_EQ(test, fx->calls[OP_RELEASE], 0U);
	KUNIT_EXPECT_EQ(test, live_buffers(test, NULL, NULL), before);
}

static struct vfsmount *no_mount(void)
{
	return NULL;
}

/* The core's filesystem failed to mount at boot: exports fail cleanly. */
static void export_without_core_fs(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf;
	unsigned int before;

	before = live_buffers(test, NULL, NULL);
	kunit_activate_static_stub(test, dma_buf_mount, no_mount);
	dmabuf = dma_buf_export(fx, &fake_ops, PAGE_SIZE, O_RDWR);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dmabuf), -ENODEV);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_RELEASE], 0U);
	KUNIT_EXPECT_EQ(test, live_buffers(test, NULL, NULL), before);
}

/* --- file descriptors and references -------------------------------------- */

static bool fd_is_cloexec(int fd)
{
	bool ret;

	rcu_read_lock();
	ret = close_on_exec(fd, current->files);
	rcu_read_unlock();
	return ret;
}

static void fd_honours_cloexec(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *a = fake_export(test, &fake_ops);
	struct dma_buf *b = fake_export(test, &fake_ops);
	int fa, fb;

	fa = dma_buf_fd(a, O_CLOEXEC);
	KUNIT_ASSERT_GE(test, fa, 0);
	fb = dma_buf_fd(b, 0);
	KUNIT_ASSERT_GE(test, fb, 0);

	KUNIT_EXPECT_TRUE(test, fd_is_cloexec(fa));
	KUNIT_EXPECT_FALSE(test, fd_is_cloexec(fb));

	/* The fds own the only references now. */
	KUNIT_EXPECT_EQ(test, close_fd(fa), 0);
	KUNIT_EXPECT_EQ(test, close_fd(fb), 0);
	flush_delayed_fput();
	KUNIT_EXPECT_EQ(test, fx->calls[OP_RELEASE], 2U);
}

static void fd_rejects_bad_arguments(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	int fd;

	EXPECT_MISUSE(test, fx, fd = dma_buf_fd(NULL, 0));
	KUNIT_EXPECT_EQ(test, fd, -EINVAL);
	EXPECT_MISUSE(test, fx, fd = dma_buf_fd(dmabuf, O_NONBLOCK));
	KUNIT_EXPECT_EQ(test, fd, -EINVAL);
	/* The caller still owns its reference. */
	put_and_flush(dmabuf);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_RELEASE], 1U);
}

static void get_returns_the_buffer(struct kunit *test)
{
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf *got;
	long count;
	int fd;

	get_dma_buf(dmabuf);
	fd = dma_buf_fd(dmabuf, O_CLOEXEC);
	KUNIT_ASSERT_GE(test, fd, 0);
	count = file_count(dmabuf->file);

	got = dma_buf_get(fd);
	KUNIT_ASSERT_PTR_EQ(test, got, dmabuf);
	KUNIT_EXPECT_EQ(test, file_count(dmabuf->file), count + 1);
	dma_buf_put(got);
	KUNIT_EXPECT_EQ(test, file_count(dmabuf->file), count);

	KUNIT_EXPECT_EQ(test, close_fd(fd), 0);
	put_and_flush(dmabuf);
}

static const struct file_operations not_a_dmabuf_fops = {
	.owner = THIS_MODULE,
};

static void get_rejects_bad_fds(struct kunit *test)
{
	struct dma_buf *dmabuf;
	int fd;

	KUNIT_EXPECT_EQ(test, PTR_ERR(dma_buf_get(-1)), -EBADF);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dma_buf_get(INT_MAX)), -EBADF);

	fd = anon_inode_getfd("not-a-dmabuf", &not_a_dmabuf_fops, NULL,
			      O_RDWR | O_CLOEXEC);
	KUNIT_ASSERT_GE(test, fd, 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dma_buf_get(fd)), -EINVAL);
	KUNIT_EXPECT_EQ(test, close_fd(fd), 0);

	/* A closed descriptor is a bad one. */
	dmabuf = fake_export(test, &fake_ops);
	fd = dma_buf_fd(dmabuf, 0);
	KUNIT_ASSERT_GE(test, fd, 0);
	KUNIT_EXPECT_EQ(test, close_fd(fd), 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dma_buf_get(fd)), -EBADF);
	flush_delayed_fput();
}

static void put_rejects_null(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;

	EXPECT_MISUSE(test, fx, dma_buf_put(NULL));
	EXPECT_MISUSE(test, fx, get_dma_buf(NULL));
}

/*
 * The release runs once, after the last of three references is gone: the
 * fd, one from dma_buf_get() and one from get_dma_buf(), in every order.
 */
enum ref { REF_FD, REF_GET, REF_EXTRA };

struct release_order {
	const char *name;
	enum ref order[3];
};

static const struct release_order release_orders[] = {
	{ "fd get extra", { REF_FD, REF_GET, REF_EXTRA } },
	{ "fd extra get", { REF_FD, REF_EXTRA, REF_GET } },
	{ "get fd extra", { REF_GET, REF_FD, REF_EXTRA } },
	{ "get extra fd", { REF_GET, REF_EXTRA, REF_FD } },
	{ "extra fd get", { REF_EXTRA, REF_FD, REF_GET } },
	{ "extra get fd", { REF_EXTRA, REF_GET, REF_FD } },
};

KUNIT_ARRAY_PARAM_DESC(release_order, release_orders, name);

static void release_once_after_last_reference(struct kunit *test)
{
	const struct release_order *p = test->param_value;
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf *got;
	int fd, i;

	get_dma_buf(dmabuf);		/* REF_EXTRA */
	fd = dma_buf_fd(dmabuf, 0);	/* REF_FD: takes over the export's */
	KUNIT_ASSERT_GE(test, fd, 0);
	got = dma_buf_get(fd);		/* REF_GET */
	KUNIT_ASSERT_PTR_EQ(test, got, dmabuf);

	for (i = 0; i < 3; i++) {
		flush_delayed_fput();
		KUNIT_EXPECT_EQ(test, fx->calls[OP_RELEASE], 0U);
		switch (p->order[i]) {
		case REF_FD:
			KUNIT_EXPECT_EQ(test, close_fd(fd), 0);
			break;
		case REF_GET:
			dma_buf_put(got);
			break;
		case REF_EXTRA:
			dma_buf_put(dmabuf);
			break;
		}
	}
	flush_delayed_fput();
	KUNIT_EXPECT_EQ(test, fx->calls[OP_RELEASE], 1U);
	flush_delayed_fput();
	KUNIT_EXPECT_EQ(test, fx->calls[OP_RELEASE], 1U);
}

/* --- attach and detach ---------------------------------------------------- */

static void attach_rejects_null(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct device *dev = test_device(test, "dev");
	struct dma_buf_attachment *attach;

	EXPECT_MISUSE(test, fx, attach = dma_buf_attach(NULL, dev));
	KUNIT_EXPECT_EQ(test, PTR_ERR(attach), -EINVAL);
	EXPECT_MISUSE(test, fx, attach = dma_buf_attach(dmabuf, NULL));
	KUNIT_EXPECT_EQ(test, PTR_ERR(attach), -EINVAL);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_ATTACH], 0U);
	KUNIT_EXPECT_TRUE(test, list_empty(&dmabuf->attachments));
	put_and_flush(dmabuf);
}

static void attach_and_detach(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct device *dev1 = test_device(test, "dev1");
	struct device *dev2 = test_device(test, "dev2");
	struct dma_buf_attachment *a1, *a2, *again;

	a1 = dma_buf_attach(dmabuf, dev1);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a1);
	KUNIT_EXPECT_PTR_EQ(test, fx->attach_dev, dev1);
	a2 = dma_buf_attach(dmabuf, dev2);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a2);
	/* The same device twice: two independent attachments. */
	again = dma_buf_attach(dmabuf, dev1);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, again);
	KUNIT_EXPECT_PTR_NE(test, again, a1);

	KUNIT_EXPECT_EQ(test, fx->calls[OP_ATTACH], 3U);
	KUNIT_EXPECT_PTR_EQ(test, a1->dmabuf, dmabuf);
	KUNIT_EXPECT_PTR_EQ(test, a1->dev, dev1);
	KUNIT_EXPECT_EQ(test, list_count_nodes(&dmabuf->attachments), 3);

	dma_buf_detach(dmabuf, again);
	dma_buf_detach(dmabuf, a1);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_DETACH], 2U);
	KUNIT_EXPECT_EQ(test, list_count_nodes(&dmabuf->attachments), 1);
	KUNIT_EXPECT_PTR_EQ(test, list_first_entry(&dmabuf->attachments,
						   struct dma_buf_attachment,
						   node), a2);
	dma_buf_detach(dmabuf, a2);
	KUNIT_EXPECT_TRUE(test, list_empty(&dmabuf->attachments));
	/* Never mapped: nothing to unmap. */
	KUNIT_EXPECT_EQ(test, fx->calls[OP_UNMAP], 0U);
	put_and_flush(dmabuf);
}

static void attach_error_leaves_nothing(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct device *dev = test_device(test, "dev");
	struct dma_buf_attachment *attach;

	fx->attach_ret = -EIO;
	attach = dma_buf_attach(dmabuf, dev);
	KUNIT_EXPECT_EQ(test, PTR_ERR(attach), -EIO);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_ATTACH], 1U);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_MOVE], 0U);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_DETACH], 0U);
	KUNIT_EXPECT_TRUE(test, list_empty(&dmabuf->attachments));
	put_and_flush(dmabuf);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_RELEASE], 1U);
}

static void attach_allocation_failure(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct device *dev = test_device(test, "dev");
	struct dma_buf_attachment *attach;

	fx->fail_by_site = true;
	fx->fail_site = DMA_BUF_ALLOC_ATTACHMENT;
	attach = dma_buf_attach(dmabuf, dev);
	KUNIT_EXPECT_EQ(test, PTR_ERR(attach), -ENOMEM);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_ATTACH], 0U);
	KUNIT_EXPECT_TRUE(test, list_empty(&dmabuf->attachments));
	put_and_flush(dmabuf);
}

static void detach_rejects_bad_arguments(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *a = fake_export(test, &fake_ops);
	struct dma_buf *b = fake_export(test, &fake_ops);
	struct device *dev = test_device(test, "dev");
	struct dma_buf_attachment *attach;

	attach = dma_buf_attach(a, dev);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	EXPECT_MISUSE(test, fx, dma_buf_detach(NULL, attach));
	EXPECT_MISUSE(test, fx, dma_buf_detach(a, NULL));
	EXPECT_MISUSE(test, fx, dma_buf_detach(b, attach));
	KUNIT_EXPECT_EQ(test, fx->calls[OP_DETACH], 0U);
	KUNIT_EXPECT_EQ(test, list_count_nodes(&a->attachments), 1);
	dma_buf_detach(a, attach);
	dma_buf_put(a);
	put_and_flush(b);
}

static void attach_minimal_ops(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_minimal_ops);
	struct device *dev = test_device(test, "dev");
	struct dma_buf_attachment *attach;

	attach = dma_buf_attach(dmabuf, dev);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	dma_buf_detach(dmabuf, attach);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_ATTACH] + fx->calls[OP_DETACH], 0U);
	put_and_flush(dmabuf);
}

/* --- map and unmap --------------------------------------------------------- */

struct map_fixture {
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
};

static void map_setup(struct kunit *test, struct map_fixture *m)
{
	m->dmabuf = fake_export(test, &fake_ops);
	m->attach = dma_buf_attach(m->dmabuf, test_device(test, "importer"));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, m->attach);
}

static void map_teardown(struct map_fixture *m)
{
	dma_buf_detach(m->dmabuf, m->attach);
	put_and_flush(m->dmabuf);
}

static const enum dma_data_direction directions[] = {
	DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE,
};

static void direction_desc(const enum dma_data_direction *dir, char *desc)
{
	static const char * const names[] = {
		[DMA_BIDIRECTIONAL] = "bidirectional",
		[DMA_TO_DEVICE] = "to device",
		[DMA_FROM_DEVICE] = "from device",
	};

	strscpy(desc, names[*dir], KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(direction, directions, direction_desc);

static void map_direction_reaches_exporter(struct kunit *test)
{
	enum dma_data_direction dir =
		*(const enum dma_data_direction *)test->param_value;
	struct fake_exporter *fx = test->priv;
	struct map_fixture m;
	struct sg_table *sgt, *exported;

	map_setup(test, &m);
	sgt = dma_buf_map_attachment(m.attach, dir);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	exported = fx->mapped;
	KUNIT_EXPECT_EQ(test, fx->map_dir, dir);
	dma_buf_unmap_attachment(m.attach, sgt, dir);

	map_teardown(&m);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_UNMAP], 1U);
	KUNIT_EXPECT_EQ(test, fx->unmap_dir, dir);
	KUNIT_EXPECT_PTR_EQ(test, fx->unmapped, exported);
}

static void map_is_cached(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct sg_table *first, *second;
	struct map_fixture m;

	map_setup(test, &m);
	first = dma_buf_map_attachment(m.attach, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, first);
	second = dma_buf_map_attachment(m.attach, DMA_TO_DEVICE);
	KUNIT_EXPECT_PTR_EQ(test, second, first);
	dma_buf_unmap_attachment(m.attach, second, DMA_TO_DEVICE);
	dma_buf_unmap_attachment(m.attach, first, DMA_TO_DEVICE);

	/* Still cached once every map is balanced. */
	second = dma_buf_map_attachment(m.attach, DMA_TO_DEVICE);
	KUNIT_EXPECT_PTR_EQ(test, second, first);
	dma_buf_unmap_attachment(m.attach, second, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_MAP], 1U);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_UNMAP], 0U);

	map_teardown(&m);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_UNMAP], 1U);
	KUNIT_EXPECT_EQ(test, fx->unmap_dir, DMA_TO_DEVICE);
}

static void map_other_direction_while_in_use(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct sg_table *sgt, *other;
	struct map_fixture m;

	map_setup(test, &m);
	sgt = dma_buf_map_attachment(m.attach, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	other = dma_buf_map_attachment(m.attach, DMA_FROM_DEVICE);
	KUNIT_EXPECT_EQ(test, PTR_ERR(other), -EBUSY);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_MAP], 1U);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_UNMAP], 0U);
	dma_buf_unmap_attachment(m.attach, sgt, DMA_TO_DEVICE);
	map_teardown(&m);
}

static void map_other_direction_replaces_unused(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct sg_table *sgt, *old;
	struct map_fixture m;

	map_setup(test, &m);
	sgt = dma_buf_map_attachment(m.attach, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	old = fx->mapped;
	dma_buf_unmap_attachment(m.attach, sgt, DMA_TO_DEVICE);

	sgt = dma_buf_map_attachment(m.attach, DMA_FROM_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_UNMAP], 1U);
	KUNIT_EXPECT_PTR_EQ(test, fx->unmapped, old);
	KUNIT_EXPECT_EQ(test, fx->unmap_dir, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_MAP], 2U);
	KUNIT_EXPECT_EQ(test, fx->map_dir, DMA_FROM_DEVICE);
	dma_buf_unmap_attachment(m.attach, sgt, DMA_FROM_DEVICE);

	map_teardown(&m);
	KUNIT_EXPECT_EQ(test, fx->unmap_dir, DMA_FROM_DEVICE);
}

static void map_error_is_not_cached(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct map_fixture m;
	struct sg_table *sgt;

	map_setup(test, &m);
	fx->map_ret = ERR_PTR(-ENOSPC);
	sgt = dma_buf_map_attachment(m.attach, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, PTR_ERR(sgt), -ENOSPC);

	fx->map_ret = NULL;
	sgt = dma_buf_map_attachment(m.attach, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_MAP], 2U);
	dma_buf_unmap_attachment(m.attach, sgt, DMA_TO_DEVICE);
	map_teardown(&m);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_UNMAP], 1U);
}

static void map_rejects_bad_arguments(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct map_fixture m;
	struct sg_table *sgt;

	map_setup(test, &m);
	EXPECT_MISUSE(test, fx, sgt = dma_buf_map_attachment(NULL, DMA_TO_DEVICE));
	KUNIT_EXPECT_EQ(test, PTR_ERR(sgt), -EINVAL);
	EXPECT_MISUSE(test, fx, sgt = dma_buf_map_attachment(m.attach, DMA_NONE));
	KUNIT_EXPECT_EQ(test, PTR_ERR(sgt), -EINVAL);
	EXPECT_MISUSE(test, fx, sgt = dma_buf_map_attachment(m.attach, 42));
	KUNIT_EXPECT_EQ(test, PTR_ERR(sgt), -EINVAL);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_MAP], 0U);
	map_teardown(&m);
}

static void unmap_unbalanced_warns(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct sg_table *sgt, bogus = {};
	struct map_fixture m;

	map_setup(test, &m);
	/* Nothing mapped yet. */
	EXPECT_MISUSE(test, fx, dma_buf_unmap_attachment(m.attach, &bogus,
							 DMA_TO_DEVICE));

	sgt = dma_buf_map_attachment(m.attach, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	EXPECT_MISUSE(test, fx, dma_buf_unmap_attachment(m.attach, &bogus,
							 DMA_TO_DEVICE));
	EXPECT_MISUSE(test, fx, dma_buf_unmap_attachment(m.attach, sgt,
							 DMA_FROM_DEVICE));
	EXPECT_MISUSE(test, fx, dma_buf_unmap_attachment(m.attach, NULL,
							 DMA_TO_DEVICE));
	EXPECT_MISUSE(test, fx, dma_buf_unmap_attachment(NULL, sgt,
							 DMA_TO_DEVICE));
	/* None of them counted: one real unmap balances the map. */
	KUNIT_EXPECT_EQ(test, m.attach->map_count, 1U);
	dma_buf_unmap_attachment(m.attach, sgt, DMA_TO_DEVICE);
	EXPECT_MISUSE(test, fx, dma_buf_unmap_attachment(m.attach, sgt,
							 DMA_TO_DEVICE));
	map_teardown(&m);
}

static void detach_while_mapped(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct map_fixture m;
	struct sg_table *sgt;

	map_setup(test, &m);
	sgt = dma_buf_map_attachment(m.attach, DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	EXPECT_MISUSE(test, fx, dma_buf_detach(m.dmabuf, m.attach));
	/* The mapping went back to the exporter all the same. */
	KUNIT_EXPECT_EQ(test, fx->calls[OP_UNMAP], 1U);
	KUNIT_EXPECT_EQ(test, fx->unmap_dir, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_DETACH], 1U);
	put_and_flush(m.dmabuf);
}

static void map_exporter_returns_null(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct map_fixture m;
	struct sg_table *sgt;

	map_setup(test, &m);
	/* An exporter bug, not the importer's misuse: a WARN, no count. */
	fx->map_null = true;
	pr_info("dma-buf-test: EXPECT-WARN begin\n");
	sgt = dma_buf_map_attachment(m.attach, DMA_TO_DEVICE);
	pr_info("dma-buf-test: EXPECT-WARN end\n");
	KUNIT_EXPECT_EQ(test, PTR_ERR(sgt), -EINVAL);
	KUNIT_EXPECT_NULL(test, m.attach->sgt);
	map_teardown(&m);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_UNMAP], 0U);
}

static void map_hides_pages_from_importer(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct scatterlist *a, *b;
	struct sg_table *sgt;
	struct map_fixture m;
	unsigned int i;

	if (!IS_ENABLED(CONFIG_DMA_BUF_DEBUG))
		kunit_skip(test, "page scrambling needs CONFIG_DMA_BUF_DEBUG");

	map_setup(test, &m);
	sgt = dma_buf_map_attachment(m.attach, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_ASSERT_PTR_NE(test, sgt, fx->mapped);
	KUNIT_ASSERT_EQ(test, sgt->nents, fx->mapped->nents);

	b = fx->mapped->sgl;
	for_each_sgtable_sg(sgt, a, i) {
		KUNIT_EXPECT_EQ(test, sg_dma_address(a), sg_dma_address(b));
		KUNIT_EXPECT_EQ(test, sg_dma_len(a), sg_dma_len(b));
		KUNIT_EXPECT_EQ(test, a->length, b->length);
		KUNIT_EXPECT_PTR_NE(test, sg_page(a), sg_page(b));
#ifdef CONFIG_X86_64
		/* A dereference raises a general protection fault. */
		KUNIT_EXPECT_FALSE(test,
				   __is_canonical_address((unsigned long)sg_page(a),
							  boot_cpu_data.x86_virt_bits));
#endif
		/* The exporter's own table is intact. */
		KUNIT_EXPECT_PTR_EQ(test, sg_page(b),
				    virt_to_page(fx->storage + i * PAGE_SIZE));
		b = sg_next(b);
	}
	KUNIT_EXPECT_EQ(test, i, 2U);
	dma_buf_unmap_attachment(m.attach, sgt, DMA_TO_DEVICE);
	map_teardown(&m);
	KUNIT_EXPECT_PTR_EQ(test, fx->unmapped, fx->mapped);
}

/* --- who owns the memory: the sync callbacks ------------------------------- */

/* Check the events since the last check, then forget them. */
static void expect_log(struct kunit *test, const char *events)
{
	struct fake_exporter *fx = test->priv;

	KUNIT_EXPECT_STREQ(test, fx->log, events);
	fx->log[0] = '\0';
}

static struct dma_buf_attachment *attach_dev(struct kunit *test,
					     struct dma_buf *dmabuf,
					     const char *name)
{
	struct dma_buf_attachment *attach;

	attach = dma_buf_attach(dmabuf, test_device(test, name));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	return attach;
}

static struct sg_table *map_ok(struct kunit *test,
			       struct dma_buf_attachment *attach,
			       enum dma_data_direction dir)
{
	struct sg_table *sgt = dma_buf_map_attachment(attach, dir);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	return sgt;
}

/* Map, DMA, unmap, detach: the device owns the memory in between. */
static void sync_per_transfer(struct kunit *test)
{
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf_attachment *a = attach_dev(test, dmabuf, "a");
	struct sg_table *sgt;

	sgt = map_ok(test, a, DMA_TO_DEVICE);
	expect_log(test, "a.map(to) a.dev(to)");
	dma_buf_unmap_attachment(a, sgt, DMA_TO_DEVICE);
	expect_log(test, "a.cpu(to)");
	dma_buf_detach(dmabuf, a);
	/* Already the CPU's: the release does not sync again. */
	expect_log(test, "a.unmap(to)");
	put_and_flush(dmabuf);
}

/* A cached mapping changes hands at every transfer, not only once. */
static void sync_cached_mapping_every_transfer(struct kunit *test)
{
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf_attachment *a = attach_dev(test, dmabuf, "a");
	struct sg_table *sgt;

	sgt = map_ok(test, a, DMA_FROM_DEVICE);
	dma_buf_unmap_attachment(a, sgt, DMA_FROM_DEVICE);
	sgt = map_ok(test, a, DMA_FROM_DEVICE);
	dma_buf_unmap_attachment(a, sgt, DMA_FROM_DEVICE);
	expect_log(test, "a.map(from) a.dev(from) a.cpu(from) a.dev(from) a.cpu(from)");
	dma_buf_detach(dmabuf, a);
	expect_log(test, "a.unmap(from)");
	put_and_flush(dmabuf);
}

/* Several users of one mapping: handed over by the first, back by the last. */
static void sync_nested_maps_once(struct kunit *test)
{
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf_attachment *a = attach_dev(test, dmabuf, "a");
	struct sg_table *sgt;

	sgt = map_ok(test, a, DMA_BIDIRECTIONAL);
	map_ok(test, a, DMA_BIDIRECTIONAL);
	expect_log(test, "a.map(bidi) a.dev(bidi)");
	dma_buf_unmap_attachment(a, sgt, DMA_BIDIRECTIONAL);
	expect_log(test, "");
	dma_buf_unmap_attachment(a, sgt, DMA_BIDIRECTIONAL);
	expect_log(test, "a.cpu(bidi)");
	dma_buf_detach(dmabuf, a);
	put_and_flush(dmabuf);
}

/*
 * Two devices taking turns: each transfer ends with the memory back with
 * the CPU, so the next device is handed what the previous one wrote.
 */
static void sync_two_devices_alternate(struct kunit *test)
{
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf_attachment *a = attach_dev(test, dmabuf, "a");
	struct dma_buf_attachment *b = attach_dev(test, dmabuf, "b");
	struct sg_table *sgt;

	sgt = map_ok(test, a, DMA_FROM_DEVICE);
	dma_buf_unmap_attachment(a, sgt, DMA_FROM_DEVICE);
	expect_log(test, "a.map(from) a.dev(from) a.cpu(from)");
	sgt = map_ok(test, b, DMA_TO_DEVICE);
	dma_buf_unmap_attachment(b, sgt, DMA_TO_DEVICE);
	expect_log(test, "b.map(to) b.dev(to) b.cpu(to)");
	sgt = map_ok(test, a, DMA_FROM_DEVICE);
	dma_buf_unmap_attachment(a, sgt, DMA_FROM_DEVICE);
	expect_log(test, "a.dev(from) a.cpu(from)");
	dma_buf_detach(dmabuf, b);
	dma_buf_detach(dmabuf, a);
	put_and_flush(dmabuf);
}

/* A direction change replaces a mapping that was already synced back. */
static void sync_direction_change(struct kunit *test)
{
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf_attachment *a = attach_dev(test, dmabuf, "a");
	struct sg_table *sgt;

	sgt = map_ok(test, a, DMA_FROM_DEVICE);
	dma_buf_unmap_attachment(a, sgt, DMA_FROM_DEVICE);
	expect_log(test, "a.map(from) a.dev(from) a.cpu(from)");
	sgt = map_ok(test, a, DMA_TO_DEVICE);
	dma_buf_unmap_attachment(a, sgt, DMA_TO_DEVICE);
	expect_log(test, "a.unmap(from) a.map(to) a.dev(to) a.cpu(to)");
	dma_buf_detach(dmabuf, a);
	put_and_flush(dmabuf);
}

/*
 * CPU access while a device holds its mapping: the held mapping comes
 * back to the CPU after the exporter's begin, and goes to the device
 * again after the exporter's end. Unused mappings are not touched.
 */
static void sync_cpu_access_while_held(struct kunit *test)
{
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf_attachment *a = attach_dev(test, dmabuf, "a");
	struct dma_buf_attachment *b = attach_dev(test, dmabuf, "b");
	struct sg_table *sa, *sb;

	sb = map_ok(test, b, DMA_TO_DEVICE);
	dma_buf_unmap_attachment(b, sb, DMA_TO_DEVICE);
	sa = map_ok(test, a, DMA_FROM_DEVICE);
	expect_log(test, "b.map(to) b.dev(to) b.cpu(to) a.map(from) a.dev(from)");

	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, PAGE_SIZE,
						       DMA_FROM_DEVICE), 0);
	expect_log(test, "begin a.cpu(from)");
	dma_buf_end_cpu_access(dmabuf, 0, PAGE_SIZE, DMA_FROM_DEVICE);
	expect_log(test, "end a.dev(from)");

	dma_buf_unmap_attachment(a, sa, DMA_FROM_DEVICE);
	expect_log(test, "a.cpu(from)");
	/* Nothing held: CPU access involves only the exporter. */
	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, PAGE_SIZE,
						       DMA_BIDIRECTIONAL), 0);
	dma_buf_end_cpu_access(dmabuf, 0, PAGE_SIZE, DMA_BIDIRECTIONAL);
	expect_log(test, "begin end");
	dma_buf_detach(dmabuf, b);
	dma_buf_detach(dmabuf, a);
	put_and_flush(dmabuf);
}

/* A failed begin hands nothing over. */
static void sync_not_after_failed_begin(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf_attachment *a = attach_dev(test, dmabuf, "a");
	struct sg_table *sgt;

	sgt = map_ok(test, a, DMA_FROM_DEVICE);
	fx->begin_ret = -ENOMEM;
	KUNIT_EXPECT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, PAGE_SIZE,
						       DMA_FROM_DEVICE), -ENOMEM);
	expect_log(test, "a.map(from) a.dev(from) begin");
	dma_buf_unmap_attachment(a, sgt, DMA_FROM_DEVICE);
	dma_buf_detach(dmabuf, a);
	put_and_flush(dmabuf);
}

/* Detached while in use (a misuse): what the device wrote still counts. */
static void sync_detach_while_held(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf_attachment *a = attach_dev(test, dmabuf, "a");

	map_ok(test, a, DMA_FROM_DEVICE);
	expect_log(test, "a.map(from) a.dev(from)");
	EXPECT_MISUSE(test, fx, dma_buf_detach(dmabuf, a));
	expect_log(test, "a.cpu(from) a.unmap(from)");
	put_and_flush(dmabuf);
}

/* DMA_BUF_IOCTL_SYNC brackets userspace access the same way. */
static void sync_ioctl_hands_over_held(struct kunit *test)
{
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf_attachment *a = attach_dev(test, dmabuf, "a");
	struct dma_buf_sync sync = {
		.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW,
	};
	void __user *arg = user_page(test);
	struct sg_table *sgt;

	sgt = map_ok(test, a, DMA_BIDIRECTIONAL);
	expect_log(test, "a.map(bidi) a.dev(bidi)");
	KUNIT_ASSERT_EQ(test, copy_to_user(arg, &sync, sizeof(sync)), 0);
	KUNIT_EXPECT_EQ(test, do_ioctl(dmabuf->file, DMA_BUF_IOCTL_SYNC, arg), 0);
	expect_log(test, "begin a.cpu(bidi)");
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
	KUNIT_ASSERT_EQ(test, copy_to_user(arg, &sync, sizeof(sync)), 0);
	KUNIT_EXPECT_EQ(test, do_ioctl(dmabuf->file, DMA_BUF_IOCTL_SYNC, arg), 0);
	expect_log(test, "end a.dev(bidi)");
	dma_buf_unmap_attachment(a, sgt, DMA_BIDIRECTIONAL);
	dma_buf_detach(dmabuf, a);
	put_and_flush(dmabuf);
}

/* --- every failure point, in turn ------------------------------------------ */

struct walk_ctx {
	struct kunit *test;
	struct device *dev;
	struct dma_buf *dmabuf;
};

/* Export and give the buffer a descriptor, then close it. */
static int walk_export(struct walk_ctx *w)
{
	struct dma_buf *dmabuf;
	int fd;

	dmabuf = dma_buf_export(w->test->priv, &fake_ops, FAKE_SIZE, O_RDWR);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	fd = dma_buf_fd(dmabuf, O_CLOEXEC);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return fd;
	}
	close_fd(fd);
	return 0;
}

static int walk_attach(struct walk_ctx *w)
{
	struct dma_buf_attachment *attach;

	attach = dma_buf_attach(w->dmabuf, w->dev);
	if (IS_ERR(attach))
		return PTR_ERR(attach);
	dma_buf_detach(w->dmabuf, attach);
	return 0;
}

/* A fresh attachment each time: a cached mapping would hide the map. */
static int walk_map(struct walk_ctx *w)
{
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;

	attach = dma_buf_attach(w->dmabuf, w->dev);
	if (IS_ERR(attach))
		return PTR_ERR(attach);
	sgt = dma_buf_map_attachment(attach, DMA_TO_DEVICE);
	if (!IS_ERR(sgt))
		dma_buf_unmap_attachment(attach, sgt, DMA_TO_DEVICE);
	dma_buf_detach(w->dmabuf, attach);
	return PTR_ERR_OR_ZERO(sgt);
}

static int walk_cpu_access(struct walk_ctx *w)
{
	void *a, *b;
	int ret;

	ret = dma_buf_begin_cpu_access(w->dmabuf, 0, FAKE_SIZE, DMA_TO_DEVICE);
	if (ret)
		return ret;
	a = dma_buf_kmap(w->dmabuf, 0);
	b = a ? dma_buf_kmap_atomic(w->dmabuf, 1) : NULL;
	if (b)
		dma_buf_kunmap_atomic(w->dmabuf, 1, b);
	if (a)
		dma_buf_kunmap(w->dmabuf, 0, a);
	dma_buf_end_cpu_access(w->dmabuf, 0, FAKE_SIZE, DMA_TO_DEVICE);
	return a && b ? 0 : -ENOMEM;
}

struct walk_case {
	const char *name;
	int (*run)(struct walk_ctx *w);
	bool needs_buffer;
};

static const struct walk_case walk_cases[] = {
	{ "export and fd", walk_export },
	{ "attach", walk_attach, true },
	{ "attach and map", walk_map, true },
	{ "begin and kmap", walk_cpu_access, true },
};

KUNIT_ARRAY_PARAM_DESC(walk, walk_cases, name);

/*
 * Make the first, then the second... failure point of a path fail, until
 * the path has no more: each time the failure reaches the caller as an
 * errno, nothing is left behind (no buffer, no attachment, balanced
 * callbacks), and the path then succeeds.
 */
static void every_failure_point(struct kunit *test)
{
	const struct walk_case *p = test->param_value;
	struct fake_exporter *fx = test->priv;
	struct walk_ctx w = { .test = test };
	unsigned int n, buffers;
	int ret;

	w.dev = test_device(test, "walker");
	if (p->needs_buffer)
		w.dmabuf = fake_export(test, &fake_ops);
	buffers = live_buffers(test, NULL, NULL);

	for (n = 1; n < 64; n++) {
		fx->points = 0;
		fx->fail_at = n;
		ret = p->run(&w);
		flush_delayed_fput();
		if (fx->points < n) {
			/* No n-th point: the path ran to its end. */
			KUNIT_EXPECT_EQ(test, ret, 0);
			break;
		}
		KUNIT_EXPECT_LT_MSG(test, ret, 0, "failure point %u was lost", n);
		KUNIT_EXPECT_EQ_MSG(test, live_buffers(test, NULL, NULL), buffers,
				    "failure point %u leaked a buffer", n);
		KUNIT_EXPECT_TRUE_MSG(test, !w.dmabuf ||
				      list_empty(&w.dmabuf->attachments),
				      "failure point %u left an attachment", n);
		KUNIT_EXPECT_EQ_MSG(test, fx->tables, 0,
				    "failure point %u left a mapping", n);

		fx->fail_at = 0;
		KUNIT_EXPECT_EQ_MSG(test, p->run(&w), 0,
				    "the path failed after failure point %u", n);
		flush_delayed_fput();
	}
	fx->fail_at = 0;
	kunit_info(test, "%s: %u failure points\n", p->name, n - 1);
	KUNIT_EXPECT_LT(test, 0U, n - 1);
	if (w.dmabuf)
		put_and_flush(w.dmabuf);
}

/* --- kernel CPU access ----------------------------------------------------- */

struct cpu_range {
	const char *name;
	size_t start;
	size_t len;
};

static const struct cpu_range bad_ranges[] = {
	{ "empty", 0, 0 },
	{ "starts at the end", FAKE_SIZE, 1 },
	{ "ends one byte past", FAKE_SIZE - 10, 11 },
	{ "length overflows", 1, SIZE_MAX },
	{ "start overflows", SIZE_MAX, 2 },
	{ "whole buffer plus one", 0, FAKE_SIZE + 1 },
};

KUNIT_ARRAY_PARAM_DESC(bad_range, bad_ranges, name);

static void cpu_access_range_checked(struct kunit *test)
{
	const struct cpu_range *r = test->param_value;
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	int ret;

	EXPECT_MISUSE(test, fx,
		      ret = dma_buf_begin_cpu_access(dmabuf, r->start, r->len,
						     DMA_FROM_DEVICE));
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	EXPECT_MISUSE(test, fx,
		      dma_buf_end_cpu_access(dmabuf, r->start, r->len,
					     DMA_FROM_DEVICE));
	KUNIT_EXPECT_EQ(test, fx->calls[OP_BEGIN] + fx->calls[OP_END], 0U);
	put_and_flush(dmabuf);
}

static void cpu_access_reaches_exporter(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);

	/* The last byte alone, and the whole buffer. */
	KUNIT_EXPECT_EQ(test, dma_buf_begin_cpu_access(dmabuf, FAKE_SIZE - 1, 1,
						       DMA_TO_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, fx->begin_start, (size_t)FAKE_SIZE - 1);
	KUNIT_EXPECT_EQ(test, fx->begin_len, (size_t)1);
	KUNIT_EXPECT_EQ(test, fx->begin_dir, DMA_TO_DEVICE);
	dma_buf_end_cpu_access(dmabuf, FAKE_SIZE - 1, 1, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, fx->end_start, (size_t)FAKE_SIZE - 1);
	KUNIT_EXPECT_EQ(test, fx->end_len, (size_t)1);
	KUNIT_EXPECT_EQ(test, fx->end_dir, DMA_TO_DEVICE);

	KUNIT_EXPECT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, FAKE_SIZE,
						       DMA_BIDIRECTIONAL), 0);
	KUNIT_EXPECT_EQ(test, fx->begin_len, (size_t)FAKE_SIZE);
	dma_buf_end_cpu_access(dmabuf, 0, FAKE_SIZE, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_BEGIN], 2U);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_END], 2U);
	put_and_flush(dmabuf);
}

static void cpu_access_error_propagates(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);

	fx->begin_ret = -ENOMEM;
	KUNIT_EXPECT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, PAGE_SIZE,
						       DMA_FROM_DEVICE),
			-ENOMEM);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_BEGIN], 1U);
	put_and_flush(dmabuf);
}

static void cpu_access_optional(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_minimal_ops);

	KUNIT_EXPECT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, FAKE_SIZE,
						       DMA_FROM_DEVICE), 0);
	dma_buf_end_cpu_access(dmabuf, 0, FAKE_SIZE, DMA_FROM_DEVICE);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_BEGIN] + fx->calls[OP_END], 0U);
	put_and_flush(dmabuf);
}

static void cpu_access_rejects_bad_arguments(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	int ret;

	EXPECT_MISUSE(test, fx,
		      ret = dma_buf_begin_cpu_access(NULL, 0, 1, DMA_TO_DEVICE));
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	EXPECT_MISUSE(test, fx,
		      ret = dma_buf_begin_cpu_access(dmabuf, 0, 1, DMA_NONE));
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	EXPECT_MISUSE(test, fx, dma_buf_end_cpu_access(NULL, 0, 1, DMA_TO_DEVICE));
	KUNIT_EXPECT_EQ(test, fx->calls[OP_BEGIN] + fx->calls[OP_END], 0U);
	put_and_flush(dmabuf);
}

/*
 * The buffer's name outlives its release as long as its dentry does: an
 * O_PATH descriptor of /proc/<pid>/fd/<n> keeps the dentry, and readlink()
 * then names the buffer from the structure the dentry points to. The
 * freed memory is reused in between, so that reading it would show.
 */
static void name_outlives_release(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	char __user *uname = user_page(test);
	size_t size = sizeof(struct dma_buf);
	void *reuse[64];
	struct path path;
	char *buf, *name;
	unsigned int i;

	KUNIT_ASSERT_EQ(test, copy_to_user(uname, "kept", 5), 0);
	KUNIT_ASSERT_EQ(test, do_ioctl(dmabuf->file, DMA_BUF_SET_NAME_B, uname), 0);
	path = dmabuf->file->f_path;
	path_get(&path);
	put_and_flush(dmabuf);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_RELEASE], 1U);

	for (i = 0; i < ARRAY_SIZE(reuse); i++) {
		reuse[i] = kmalloc(size, GFP_KERNEL);
		if (reuse[i])
			memset(reuse[i], 'X', size);
	}
	buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	name = d_path(&path, buf, PAGE_SIZE);
	KUNIT_EXPECT_FALSE(test, IS_ERR(name));
	if (!IS_ERR(name))
		KUNIT_EXPECT_STREQ(test, name, "/dmabuf:kept");
	for (i = 0; i < ARRAY_SIZE(reuse); i++)
		kfree(reuse[i]);
	path_put(&path);
}

/* The process that exports a buffer owns its memory's accounting. */
static void export_records_owner(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf;
	struct mm_struct *mm;
	long before;

	/* Gives this test's thread an mm of its own, as a process has. */
	user_page(test);
	mm = current->mm;
	KUNIT_ASSERT_NOT_NULL(test, mm);
	before = dma_buf_test_shmem_pages(mm);

	dmabuf = fake_export(test, &fake_ops);
	KUNIT_EXPECT_PTR_EQ(test, dmabuf->acct_mm, mm);
	dma_buf_account_pages(dmabuf, 10);
	KUNIT_EXPECT_EQ(test, dma_buf_test_shmem_pages(mm), before + 10);
	dma_buf_account_pages(dmabuf, -4);
	KUNIT_EXPECT_EQ(test, dma_buf_test_shmem_pages(mm), before + 6);

	/*
	 * An exporter that released the buffer without taking its count
	 * back: the core takes it back, and warns.
	 */
	EXPECT_MISUSE(test, fx, put_and_flush(dmabuf));
	KUNIT_EXPECT_EQ(test, fx->calls[OP_RELEASE], 1U);
	KUNIT_EXPECT_EQ(test, dma_buf_test_shmem_pages(mm), before);
}

/* A kernel thread's buffers are charged to nobody. */
static void kthread_export_has_no_owner(struct kunit *test)
{
	struct dma_buf *dmabuf;

	KUNIT_ASSERT_NULL(test, current->mm);
	dmabuf = fake_export(test, &fake_ops);
	KUNIT_EXPECT_NULL(test, dmabuf->acct_mm);
	KUNIT_EXPECT_NULL(test, dmabuf->acct_memcg);
	/* Nothing to count in. */
	dma_buf_account_pages(dmabuf, 3);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&dmabuf->acct_pages), 0L);
	put_and_flush(dmabuf);
}

/* --- kmap ------------------------------------------------------------------ */

static void kmap_maps_pages(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	unsigned long last = FAKE_PAGES - 1;
	void *vaddr;

	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, FAKE_SIZE,
						       DMA_BIDIRECTIONAL), 0);

	/* The last page is a partial one: size rounds up. */
	vaddr = dma_buf_kmap(dmabuf, last);
	KUNIT_EXPECT_PTR_EQ(test, vaddr, fx->storage + last * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, fx->page_num, last);
	dma_buf_kunmap(dmabuf, last, vaddr);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_KUNMAP], 1U);
	KUNIT_EXPECT_PTR_EQ(test, fx->unmap_vaddr, vaddr);

	vaddr = dma_buf_kmap_atomic(dmabuf, 1);
	KUNIT_EXPECT_PTR_EQ(test, vaddr, fx->storage + PAGE_SIZE);
	dma_buf_kunmap_atomic(dmabuf, 1, vaddr);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_KMAP_ATOMIC], 1U);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_KUNMAP_ATOMIC], 1U);
	KUNIT_EXPECT_PTR_EQ(test, fx->unmap_vaddr, vaddr);

	dma_buf_end_cpu_access(dmabuf, 0, FAKE_SIZE, DMA_BIDIRECTIONAL);
	put_and_flush(dmabuf);
}

static void kmap_atomic_in_atomic_context(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	void *vaddr;

	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, PAGE_SIZE,
						       DMA_TO_DEVICE), 0);
	/* With CONFIG_DEBUG_ATOMIC_SLEEP a sleep in here is reported. */
	preempt_disable();
	vaddr = dma_buf_kmap_atomic(dmabuf, 0);
	if (vaddr)
		memset(vaddr, 0x5a, 16);
	dma_buf_kunmap_atomic(dmabuf, 0, vaddr);
	preempt_enable();
	KUNIT_EXPECT_PTR_EQ(test, vaddr, fx->storage);
	KUNIT_EXPECT_EQ(test, ((u8 *)fx->storage)[15], 0x5a);
	dma_buf_end_cpu_access(dmabuf, 0, PAGE_SIZE, DMA_TO_DEVICE);
	put_and_flush(dmabuf);
}

static void kmap_page_bounds(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	void *vaddr;

	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, FAKE_SIZE,
						       DMA_TO_DEVICE), 0);
	EXPECT_MISUSE(test, fx, vaddr = dma_buf_kmap(dmabuf, FAKE_PAGES));
	KUNIT_EXPECT_NULL(test, vaddr);
	EXPECT_MISUSE(test, fx, vaddr = dma_buf_kmap_atomic(dmabuf, FAKE_PAGES));
	KUNIT_EXPECT_NULL(test, vaddr);
	EXPECT_MISUSE(test, fx, vaddr = dma_buf_kmap(dmabuf, ULONG_MAX));
	KUNIT_EXPECT_NULL(test, vaddr);
	EXPECT_MISUSE(test, fx, vaddr = dma_buf_kmap(NULL, 0));
	KUNIT_EXPECT_NULL(test, vaddr);
	EXPECT_MISUSE(test, fx, vaddr = dma_buf_kmap_atomic(NULL, 0));
	KUNIT_EXPECT_NULL(test, vaddr);
	EXPECT_MISUSE(test, fx, dma_buf_kunmap(dmabuf, FAKE_PAGES, fx->storage));
	EXPECT_MISUSE(test, fx, dma_buf_kunmap_atomic(dmabuf, FAKE_PAGES,
						      fx->storage));
	KUNIT_EXPECT_EQ(test, fx->calls[OP_KMAP] + fx->calls[OP_KMAP_ATOMIC] +
			fx->calls[OP_KUNMAP] + fx->calls[OP_KUNMAP_ATOMIC], 0U);
	dma_buf_end_cpu_access(dmabuf, 0, FAKE_SIZE, DMA_TO_DEVICE);
	put_and_flush(dmabuf);
}

static void kunmap_optional(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_minimal_ops);
	void *vaddr;

	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, FAKE_SIZE,
						       DMA_TO_DEVICE), 0);
	vaddr = dma_buf_kmap(dmabuf, 0);
	KUNIT_EXPECT_PTR_EQ(test, vaddr, fx->storage);
	dma_buf_kunmap(dmabuf, 0, vaddr);
	vaddr = dma_buf_kmap_atomic(dmabuf, 0);
	dma_buf_kunmap_atomic(dmabuf, 0, vaddr);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_KMAP], 1U);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_KMAP_ATOMIC], 1U);
	dma_buf_end_cpu_access(dmabuf, 0, FAKE_SIZE, DMA_TO_DEVICE);
	put_and_flush(dmabuf);
}

/* An exporter whose kmap fails: the caller holds no mapping. */
static void kmap_failure_holds_nothing(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);

	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, FAKE_SIZE,
						       DMA_TO_DEVICE), 0);
	fx->kmap_null = true;
	KUNIT_EXPECT_NULL(test, dma_buf_kmap(dmabuf, 0));
	KUNIT_EXPECT_NULL(test, dma_buf_kmap_atomic(dmabuf, 1));
#ifdef CONFIG_DMA_BUF_DEBUG
	KUNIT_EXPECT_EQ(test, dma_buf_debug_kmaps_held(), 0U);
#endif
	dma_buf_end_cpu_access(dmabuf, 0, FAKE_SIZE, DMA_TO_DEVICE);
	put_and_flush(dmabuf);
}

#ifdef CONFIG_DMA_BUF_DEBUG
static void kmap_at_most_two(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *a = fake_export(test, &fake_ops);
	struct dma_buf *b = fake_export(test, &fake_ops);
	void *p0, *p1, *p2;

	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(a, 0, FAKE_SIZE,
						       DMA_TO_DEVICE), 0);
	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(b, 0, FAKE_SIZE,
						       DMA_TO_DEVICE), 0);
	/* Two at once, across buffers, is the rule's limit... */
	p0 = dma_buf_kmap(a, 0);
	p1 = dma_buf_kmap_atomic(b, 1);
	KUNIT_EXPECT_EQ(test, dma_buf_debug_kmaps_held(), 2U);
	KUNIT_EXPECT_EQ(test, fx->misuse, 0U);
	/* ...a third breaks it. */
	EXPECT_MISUSE(test, fx, p2 = dma_buf_kmap(b, 2));
	dma_buf_kunmap(b, 2, p2);
	dma_buf_kunmap_atomic(b, 1, p1);
	dma_buf_kunmap(a, 0, p0);
	KUNIT_EXPECT_EQ(test, dma_buf_debug_kmaps_held(), 0U);
	dma_buf_end_cpu_access(a, 0, FAKE_SIZE, DMA_TO_DEVICE);
	dma_buf_end_cpu_access(b, 0, FAKE_SIZE, DMA_TO_DEVICE);
	dma_buf_put(a);
	put_and_flush(b);
}

static void kmap_needs_cpu_access(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	void *vaddr;

	EXPECT_MISUSE(test, fx, vaddr = dma_buf_kmap(dmabuf, 0));
	dma_buf_kunmap(dmabuf, 0, vaddr);
	EXPECT_MISUSE(test, fx, vaddr = dma_buf_kmap_atomic(dmabuf, 0));
	dma_buf_kunmap_atomic(dmabuf, 0, vaddr);
	/* And an end without a begin. */
	EXPECT_MISUSE(test, fx, dma_buf_end_cpu_access(dmabuf, 0, 1,
						       DMA_TO_DEVICE));
	put_and_flush(dmabuf);
}
#else
static void kmap_at_most_two(struct kunit *test)
{
	kunit_skip(test, "the kmap limit is checked with CONFIG_DMA_BUF_DEBUG");
}

static void kmap_needs_cpu_access(struct kunit *test)
{
	kunit_skip(test, "the kmap bracket is checked with CONFIG_DMA_BUF_DEBUG");
}
#endif

/*
 * Map page @page_num of @dmabuf, both ways, and expect @expected; undo
 * each mapping. With CONFIG_DMA_BUF_DEBUG each mapping is counted.
 */
static void expect_kmap(struct kunit *test, struct dma_buf *dmabuf,
			unsigned long page_num, void *expected)
{
	unsigned int counted = IS_ENABLED(CONFIG_DMA_BUF_DEBUG) ? 1 : 0;
	void *vaddr;

	vaddr = dma_buf_kmap(dmabuf, page_num);
	KUNIT_EXPECT_PTR_EQ_MSG(test, vaddr, expected, "kmap of page %lu",
				page_num);
	KUNIT_EXPECT_EQ(test, dma_buf_debug_kmaps(dmabuf), counted);
	dma_buf_kunmap(dmabuf, page_num, vaddr);
	vaddr = dma_buf_kmap_atomic(dmabuf, page_num);
	KUNIT_EXPECT_PTR_EQ_MSG(test, vaddr, expected,
				"kmap_atomic of page %lu", page_num);
	KUNIT_EXPECT_EQ(test, dma_buf_debug_kmaps(dmabuf), counted);
	dma_buf_kunmap_atomic(dmabuf, page_num, vaddr);
	KUNIT_EXPECT_EQ(test, dma_buf_debug_kmaps(dmabuf), 0U);
}

/* The exporter was asked to map, and to unmap, @n pages each way. */
static void expect_exporter_kmaps(struct kunit *test, struct fake_exporter *fx,
				  unsigned int n)
{
	KUNIT_EXPECT_EQ(test, fx->calls[OP_KMAP], n);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_KUNMAP], n);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_KMAP_ATOMIC], n);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_KUNMAP_ATOMIC], n);
}

static void publish_runs(struct dma_buf *dmabuf, const unsigned long *pfns,
			 unsigned int order, unsigned long n_pages)
{
	mutex_lock(&dmabuf->lock);
	dma_buf_set_kmap_runs(dmabuf, pfns, order, n_pages);
	mutex_unlock(&dmabuf->lock);
}

/*
 * Runs the exporter published: the core maps their pages itself, from the
 * frame numbers, and asks the exporter for the others and for all pages
 * once the runs are withdrawn. The runs here are two of two pages, the
 * second lower in memory than the first, and hold the buffer's three
 * pages, then two; they are not the fake's storage, so that an address
 * tells who computed it. With highmem the core never uses runs.
 */
static void kmap_of_published_runs(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	bool core = !IS_ENABLED(CONFIG_HIGHMEM);
	unsigned long pfns[2];
	unsigned int calls;
	u8 *runs;

	runs = kunit_kzalloc(test, 4 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, runs);
	KUNIT_ASSERT_TRUE(test, PAGE_ALIGNED(runs));
	pfns[0] = page_to_pfn(virt_to_page(runs + 2 * PAGE_SIZE));
	pfns[1] = page_to_pfn(virt_to_page(runs));

	publish_runs(dmabuf, pfns, 1, FAKE_PAGES);
	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, FAKE_SIZE,
						       DMA_BIDIRECTIONAL), 0);
	expect_kmap(test, dmabuf, 0, core ? runs + 2 * PAGE_SIZE : fx->storage);
	expect_kmap(test, dmabuf, 1, core ? runs + 3 * PAGE_SIZE :
					    fx->storage + PAGE_SIZE);
	expect_kmap(test, dmabuf, 2, core ? runs :
					    fx->storage + 2 * PAGE_SIZE);
	calls = core ? 0 : 3;
	expect_exporter_kmaps(test, fx, calls);
	dma_buf_end_cpu_access(dmabuf, 0, FAKE_SIZE, DMA_BIDIRECTIONAL);

	/* The last page past the runs: the exporter maps it. */
	publish_runs(dmabuf, pfns, 1, 2);
	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, FAKE_SIZE,
						       DMA_BIDIRECTIONAL), 0);
	expect_kmap(test, dmabuf, 2, fx->storage + 2 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, fx->page_num, 2UL);
	expect_kmap(test, dmabuf, 1, core ? runs + 3 * PAGE_SIZE :
					    fx->storage + PAGE_SIZE);
	calls += core ? 1 : 2;
	expect_exporter_kmaps(test, fx, calls);
	dma_buf_end_cpu_access(dmabuf, 0, FAKE_SIZE, DMA_BIDIRECTIONAL);

	/* Withdrawn: every page is the exporter's again. */
	publish_runs(dmabuf, NULL, 0, 0);
	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, FAKE_SIZE,
						       DMA_BIDIRECTIONAL), 0);
	expect_kmap(test, dmabuf, 0, fx->storage);
	expect_exporter_kmaps(test, fx, calls + 1);
	dma_buf_end_cpu_access(dmabuf, 0, FAKE_SIZE, DMA_BIDIRECTIONAL);
	put_and_flush(dmabuf);
}

/*
 * Runs that do not fit the buffer, or published under a CPU access whose
 * mappings may point into the old ones, are misuse and change nothing.
 */
static void kmap_runs_misuse(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	unsigned long pfns[FAKE_PAGES + 1];
	u8 *runs;
	int i;

	runs = kunit_kzalloc(test, (FAKE_PAGES + 1) * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, runs);
	for (i = 0; i < FAKE_PAGES + 1; i++)
		pfns[i] = page_to_pfn(virt_to_page(runs + i * PAGE_SIZE));

	/* Each misuse withdraws the runs published before it. */
	mutex_lock(&dmabuf->lock);
	dma_buf_set_kmap_runs(dmabuf, pfns, 0, FAKE_PAGES);
	EXPECT_MISUSE(test, fx, dma_buf_set_kmap_runs(dmabuf, pfns, 0,
						      FAKE_PAGES + 1));
	dma_buf_set_kmap_runs(dmabuf, pfns, 0, FAKE_PAGES);
	EXPECT_MISUSE(test, fx, dma_buf_set_kmap_runs(dmabuf, NULL, 0, 1));
	dma_buf_set_kmap_runs(dmabuf, pfns, 0, FAKE_PAGES);
	EXPECT_MISUSE(test, fx, dma_buf_set_kmap_runs(dmabuf, pfns, 32, 1));
	mutex_unlock(&dmabuf->lock);
	EXPECT_MISUSE(test, fx, dma_buf_set_kmap_runs(NULL, pfns, 0, 1));

	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, FAKE_SIZE,
						       DMA_TO_DEVICE), 0);
	for (i = 0; i < FAKE_PAGES; i++)
		expect_kmap(test, dmabuf, i, fx->storage + i * PAGE_SIZE);
	expect_exporter_kmaps(test, fx, FAKE_PAGES);
	dma_buf_end_cpu_access(dmabuf, 0, FAKE_SIZE, DMA_TO_DEVICE);

	publish_runs(dmabuf, pfns, 0, FAKE_PAGES);
	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, FAKE_SIZE,
						       DMA_TO_DEVICE), 0);
	mutex_lock(&dmabuf->lock);
	EXPECT_MISUSE(test, fx, dma_buf_set_kmap_runs(dmabuf, pfns, 0,
						      FAKE_PAGES));
	mutex_unlock(&dmabuf->lock);
	for (i = 0; i < FAKE_PAGES; i++)
		expect_kmap(test, dmabuf, i, fx->storage + i * PAGE_SIZE);
	expect_exporter_kmaps(test, fx, 2 * FAKE_PAGES);
	dma_buf_end_cpu_access(dmabuf, 0, FAKE_SIZE, DMA_TO_DEVICE);
	put_and_flush(dmabuf);
}

/* --- vmap ------------------------------------------------------------------ */

/*
 * One kernel mapping per buffer: the exporter is asked once, every caller
 * gets its address. After the last release the core keeps it, pinning
 * nothing, for the next caller; a move and the buffer's release give it
 * back to the exporter (fake_move and fake_release check that it went
 * first). Under the lock (fake_record checks).
 */
static void vmap_shared_and_counted(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	void *a, *b;
	bool found;

	a = dma_buf_vmap(dmabuf);
	KUNIT_ASSERT_PTR_EQ(test, a, fx->storage);
	b = dma_buf_vmap(dmabuf);
	KUNIT_EXPECT_PTR_EQ(test, b, a);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VMAP], 1U);
	live_buffers(test, "\tpinned: 0 mappings held, 0 CPU accesses, 2 kernel mappings\n",
		     &found);
	KUNIT_EXPECT_TRUE(test, found);

	dma_buf_vunmap(dmabuf, b);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VUNMAP], 0U);
	dma_buf_vunmap(dmabuf, a);
	live_buffers(test, "\tpinned:", &found);
	KUNIT_EXPECT_FALSE(test, found);
	mutex_lock(&dmabuf->lock);
	KUNIT_EXPECT_FALSE(test, dma_buf_pinned(dmabuf));
	mutex_unlock(&dmabuf->lock);

	/* Idle, kept: the next caller gets it without the exporter. */
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VUNMAP], 0U);
	a = dma_buf_vmap(dmabuf);
	KUNIT_EXPECT_PTR_EQ(test, a, fx->storage);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VMAP], 1U);
	dma_buf_vunmap(dmabuf, a);

	/* A move gives it back; the next caller asks the exporter again. */
	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &anywhere), 0);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VUNMAP], 1U);
	KUNIT_EXPECT_PTR_EQ(test, fx->unmap_vaddr, a);
	a = dma_buf_vmap(dmabuf);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VMAP], 2U);
	dma_buf_vunmap(dmabuf, a);

	/* So does the release, of the idle one. */
	put_and_flush(dmabuf);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VUNMAP], 2U);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_RELEASE], 1U);
}

/*
 * Idle kernel mappings hold at most 256 MiB of the vmalloc space
 * altogether: a bigger one goes back to the exporter at the last
 * release.
 */
static void vmap_idle_within_budget(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf;
	void *vaddr;

	dmabuf = dma_buf_export(fx, &fake_ops, SZ_256M + PAGE_SIZE, O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dmabuf);
	vaddr = dma_buf_vmap(dmabuf);
	KUNIT_ASSERT_PTR_EQ(test, vaddr, fx->storage);
	dma_buf_vunmap(dmabuf, vaddr);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VUNMAP], 1U);
	KUNIT_EXPECT_NULL(test, dmabuf->vmap_ptr);
	vaddr = dma_buf_vmap(dmabuf);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VMAP], 2U);
	dma_buf_vunmap(dmabuf, vaddr);
	put_and_flush(dmabuf);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VUNMAP], 2U);
}

struct vmap_user {
	struct dma_buf *dmabuf;
	void *expected;
	unsigned long rounds, wrong;
	struct completion done;
	bool stop;
};

static int vmap_user_fn(void *data)
{
	struct vmap_user *u = data;
	void *vaddr;

	while (!READ_ONCE(u->stop)) {
		vaddr = dma_buf_vmap(u->dmabuf);
		if (vaddr != u->expected)
			u->wrong++;
		if (!IS_ERR(vaddr))
			dma_buf_vunmap(u->dmabuf, vaddr);
		u->rounds++;
		cond_resched();
	}
	complete(&u->done);
	return 0;
}

/*
 * A kept mapping is taken and released without the lock while moves come
 * and go: every move finds nobody holding it and takes it away first
 * (fake_move checks), every caller gets a mapping, and both happen.
 */
static void vmap_kept_races_moves(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct task_struct *task;
	struct vmap_user *u;
	unsigned int i, moved = 0, busy = 0;
	int ret;

	u = kunit_kzalloc(test, sizeof(*u), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, u);
	u->dmabuf = dmabuf;
	u->expected = fx->storage;
	init_completion(&u->done);
	task = kthread_run(vmap_user_fn, u, "vmap-user");
	if (IS_ERR(task)) {
		KUNIT_FAIL(test, "no vmap thread: %ld", PTR_ERR(task));
		put_and_flush(dmabuf);
		return;
	}
	for (i = 0; i < 20000 && (i < 2000 || !moved || !busy); i++) {
		ret = dma_buf_move(dmabuf, &anywhere);
		if (!ret)
			moved++;
		else if (ret == -EBUSY)
			busy++;
		else
			KUNIT_FAIL(test, "move: %d", ret);
		cond_resched();
	}
	WRITE_ONCE(u->stop, true);
	wait_for_completion(&u->done);

	KUNIT_EXPECT_EQ(test, u->wrong, 0UL);
	KUNIT_EXPECT_GT(test, u->rounds, 0UL);
	KUNIT_EXPECT_GT(test, moved, 0U);
	kunit_info(test, "%lu mappings, %u moves, %u refused while held",
		   u->rounds, moved, busy);
	/* Each move gave back the kept mapping it found. */
	KUNIT_EXPECT_LE(test, fx->calls[OP_VUNMAP], moved);
	put_and_flush(dmabuf);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VUNMAP], fx->calls[OP_VMAP]);
}

/*
 * When the vmalloc space runs out, the idle kernel mappings go back to
 * their exporters; a held one stays, and so does one whose buffer's lock
 * is taken (the purge may run under it).
 */
static void vmap_purged_when_vmalloc_runs_out(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	unsigned long freed = 0;
	void *vaddr;

	vaddr = dma_buf_vmap(dmabuf);
	KUNIT_ASSERT_PTR_EQ(test, vaddr, fx->storage);
	dma_buf_vmap_purge(NULL, 0, &freed);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VUNMAP], 0U);
	dma_buf_vunmap(dmabuf, vaddr);

	mutex_lock(&dmabuf->lock);
	dma_buf_vmap_purge(NULL, 0, &freed);
	mutex_unlock(&dmabuf->lock);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VUNMAP], 0U);

	dma_buf_vmap_purge(NULL, 0, &freed);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VUNMAP], 1U);
	KUNIT_EXPECT_GE(test, freed, (unsigned long)FAKE_PAGES);
	KUNIT_EXPECT_NULL(test, dmabuf->vmap_ptr);
	/* The next caller maps anew. */
	vaddr = dma_buf_vmap(dmabuf);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VMAP], 2U);
	dma_buf_vunmap(dmabuf, vaddr);
	put_and_flush(dmabuf);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VUNMAP], 2U);
}

/*
 * A mapping the core does not keep counts its holders up to 2^30 - 1:
 * one more is refused, and the count never reads as an idle kept
 * mapping that a move would take away.
 */
static void vmap_holders_overflow(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf;
	void *a, *b;

	dmabuf = dma_buf_export(fx, &fake_ops, SZ_256M + PAGE_SIZE, O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dmabuf);
	a = dma_buf_vmap(dmabuf);
	KUNIT_ASSERT_PTR_EQ(test, a, fx->storage);
	/* Not kept (too big): as if 2^30 - 1 callers held it. */
	KUNIT_ASSERT_EQ(test, atomic_read(&dmabuf->vmap_count), 1);
	atomic_set(&dmabuf->vmap_count, BIT(30) - 1);
	b = dma_buf_vmap(dmabuf);
	KUNIT_EXPECT_EQ(test, PTR_ERR(b), -EOVERFLOW);
	mutex_lock(&dmabuf->lock);
	KUNIT_EXPECT_TRUE(test, dma_buf_pinned(dmabuf));
	mutex_unlock(&dmabuf->lock);
	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &anywhere), -EBUSY);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VUNMAP], 0U);

	atomic_set(&dmabuf->vmap_count, 1);
	dma_buf_vunmap(dmabuf, a);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VUNMAP], 1U);
	put_and_flush(dmabuf);
}

/* The exporter's error reaches the caller and leaves nothing behind. */
static void vmap_failure_holds_nothing(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	void *vaddr;

	fx->points = 0;
	fx->fail_at = 1;
	vaddr = dma_buf_vmap(dmabuf);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vaddr), -ENOMEM);
	fx->fail_at = 0;
	/* Not pinned by the failed call. */
	mutex_lock(&dmabuf->lock);
	KUNIT_EXPECT_FALSE(test, dma_buf_pinned(dmabuf));
	mutex_unlock(&dmabuf->lock);
	vaddr = dma_buf_vmap(dmabuf);
	KUNIT_EXPECT_PTR_EQ(test, vaddr, fx->storage);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VMAP], 2U);
	dma_buf_vunmap(dmabuf, vaddr);
	put_and_flush(dmabuf);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VUNMAP], 1U);
}

static void vmap_needs_exporter_support(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_minimal_ops);
	void *vaddr;

	KUNIT_EXPECT_EQ(test, PTR_ERR(dma_buf_vmap(dmabuf)), -EOPNOTSUPP);
	EXPECT_MISUSE(test, fx, vaddr = dma_buf_vmap(NULL));
	KUNIT_EXPECT_EQ(test, PTR_ERR(vaddr), -EINVAL);
	EXPECT_MISUSE(test, fx, dma_buf_vunmap(NULL, fx->storage));
	put_and_flush(dmabuf);
}

/*
 * A release that does not match a mapping is reported and changes
 * nothing; a mapping still held when the buffer goes is given back.
 */
static void vunmap_misuse(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	void *vaddr;

	EXPECT_MISUSE(test, fx, dma_buf_vunmap(dmabuf, fx->storage));
	vaddr = dma_buf_vmap(dmabuf);
	KUNIT_ASSERT_PTR_EQ(test, vaddr, fx->storage);
	EXPECT_MISUSE(test, fx, dma_buf_vunmap(dmabuf, vaddr + 1));
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VUNMAP], 0U);

	EXPECT_MISUSE(test, fx, put_and_flush(dmabuf));
	KUNIT_EXPECT_EQ(test, fx->calls[OP_VUNMAP], 1U);
	KUNIT_EXPECT_PTR_EQ(test, fx->unmap_vaddr, vaddr);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_RELEASE], 1U);
}

/* --- negotiation helpers --------------------------------------------------- */

static void constraints_of_one_device(struct kunit *test)
{
	struct device *dev;
	struct dma_buf_constraints c;

	dev = dma_buf_test_device(test, "d28", DMA_BIT_MASK(28), 0, SZ_8K,
				  SZ_64K - 1);
	dma_buf_device_constraints(dev, &c);
	KUNIT_EXPECT_EQ(test, c.dma_limit, dma_buf_test_phys(DMA_BIT_MASK(28)));
	KUNIT_EXPECT_EQ(test, c.max_segment_size, SZ_8K);
	KUNIT_EXPECT_EQ(test, c.seg_boundary_mask, SZ_64K - 1UL);

	/* The segment limits alone leave the address limit as it was. */
	c = (struct dma_buf_constraints){ .dma_limit = 12345 };
	dma_buf_device_segment_limits(dev, &c);
	KUNIT_EXPECT_EQ(test, c.dma_limit, 12345ULL);
	KUNIT_EXPECT_EQ(test, c.max_segment_size, SZ_8K);
	KUNIT_EXPECT_EQ(test, c.seg_boundary_mask, SZ_64K - 1UL);

	/* A bus limit below the mask wins. */
	dev = dma_buf_test_device(test, "bus", DMA_BIT_MASK(32),
				  DMA_BIT_MASK(26), SZ_64K, ULONG_MAX);
	dma_buf_device_constraints(dev, &c);
	KUNIT_EXPECT_EQ(test, c.dma_limit, dma_buf_test_phys(DMA_BIT_MASK(26)));

	/* A device without parameters gets the DMA API's defaults. */
	dev = test_device(test, "plain");
	dma_buf_device_constraints(dev, &c);
	KUNIT_EXPECT_EQ(test, c.dma_limit, DMA_BIT_MASK(32));
	KUNIT_EXPECT_EQ(test, c.max_segment_size, SZ_64K);
	KUNIT_EXPECT_EQ(test, c.seg_boundary_mask, ULONG_MAX);
}

static void constraints_intersect_attached(struct kunit *test)
{
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf_attachment *a[3];
	struct dma_buf_constraints c;
	struct device *devs[3];
	unsigned int i, n;

	mutex_lock(&dmabuf->lock);
	n = dma_buf_attachments_constraints(dmabuf, &c);
	mutex_unlock(&dmabuf->lock);
	KUNIT_EXPECT_EQ(test, n, 0U);
	KUNIT_EXPECT_EQ(test, c.dma_limit, U64_MAX);
	KUNIT_EXPECT_EQ(test, c.max_segment_size, UINT_MAX);
	KUNIT_EXPECT_EQ(test, c.seg_boundary_mask, ULONG_MAX);

	devs[0] = dma_buf_test_device(test, "wide", DMA_BIT_MASK(32), 0,
				      SZ_1M, ULONG_MAX);
	devs[1] = dma_buf_test_device(test, "narrow", DMA_BIT_MASK(24), 0,
				      SZ_64K, ULONG_MAX);
	devs[2] = dma_buf_test_device(test, "boundary", DMA_BIT_MASK(30), 0,
				      SZ_16K, SZ_32K - 1);
	for (i = 0; i < 3; i++) {
		a[i] = dma_buf_attach(dmabuf, devs[i]);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a[i]);
	}

	mutex_lock(&dmabuf->lock);
	n = dma_buf_attachments_constraints(dmabuf, &c);
	mutex_unlock(&dmabuf->lock);
	KUNIT_EXPECT_EQ(test, n, 3U);
	KUNIT_EXPECT_EQ(test, c.dma_limit, dma_buf_test_phys(DMA_BIT_MASK(24)));
	KUNIT_EXPECT_EQ(test, c.max_segment_size, SZ_16K);
	KUNIT_EXPECT_EQ(test, c.seg_boundary_mask, SZ_32K - 1UL);

	/* Detaching the narrowest device widens the limit. */
	dma_buf_detach(dmabuf, a[1]);
	mutex_lock(&dmabuf->lock);
	n = dma_buf_attachments_constraints(dmabuf, &c);
	mutex_unlock(&dmabuf->lock);
	KUNIT_EXPECT_EQ(test, n, 2U);
	KUNIT_EXPECT_EQ(test, c.dma_limit, dma_buf_test_phys(DMA_BIT_MASK(30)));

	dma_buf_detach(dmabuf, a[0]);
	dma_buf_detach(dmabuf, a[2]);
	put_and_flush(dmabuf);
}

static bool always_translated(struct device *dev)
{
	return true;
}

/*
 * The test's devices named "iommu*" sit behind a translating IOMMU (KUnit
 * names a device "<test>.<name>").
 */
static bool translated_by_name(struct device *dev)
{
	const char *name = strchr(dev_name(dev), '.');

	return name && !strncmp(name + 1, "iommu", 5);
}

/*
 * The strictest segment statement of the attached importers reaches the
 * exporter, but not that of a device behind a translating IOMMU; a device
 * alone states none.
 */
static void constraints_narrow_segments(struct kunit *test)
{
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct fake_exporter *fx = test->priv;
	struct dma_buf_attachment *any, *four, *one, *mmu;
	struct dma_buf_constraints c;

	kunit_activate_static_stub(test, dma_buf_translated, translated_by_name);
	dma_buf_device_constraints(test_device(test, "alone"), &c);
	KUNIT_EXPECT_EQ(test, c.max_segments, 0U);

	any = dma_buf_attach(dmabuf, test_device(test, "any"));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, any);
	KUNIT_EXPECT_EQ(test, fx->attach_segments, 0U);
	four = dma_buf_attach_segments(dmabuf, test_device(test, "four"), 4);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, four);
	KUNIT_EXPECT_EQ(test, fx->attach_segments, 4U);
	mmu = dma_buf_attach_segments(dmabuf, test_device(test, "iommu0"), 1);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mmu);
	KUNIT_EXPECT_EQ(test, fx->attach_segments, 1U);

	mutex_lock(&dmabuf->lock);
	dma_buf_attachments_constraints(dmabuf, &c);
	mutex_unlock(&dmabuf->lock);
	KUNIT_EXPECT_EQ(test, c.max_segments, 4U);

	one = dma_buf_attach_segments(dmabuf, test_device(test, "one"), 1);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, one);
	mutex_lock(&dmabuf->lock);
	dma_buf_attachments_constraints(dmabuf, &c);
	mutex_unlock(&dmabuf->lock);
	KUNIT_EXPECT_EQ(test, c.max_segments, 1U);

	/* A move narrows to them too. */
	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &anywhere), 0);
	KUNIT_EXPECT_EQ(test, fx->move_segments, 1U);

	dma_buf_detach(dmabuf, one);
	mutex_lock(&dmabuf->lock);
	dma_buf_attachments_constraints(dmabuf, &c);
	mutex_unlock(&dmabuf->lock);
	KUNIT_EXPECT_EQ(test, c.max_segments, 4U);
	dma_buf_detach(dmabuf, four);
	dma_buf_detach(dmabuf, mmu);
	mutex_lock(&dmabuf->lock);
	dma_buf_attachments_constraints(dmabuf, &c);
	mutex_unlock(&dmabuf->lock);
	KUNIT_EXPECT_EQ(test, c.max_segments, 0U);
	dma_buf_detach(dmabuf, any);
	put_and_flush(dmabuf);
}

/*
 * A late importer that needs fewer pieces than the storage has: the
 * exporter says -ERANGE, and the core moves the storage with the new
 * importer's statement in the constraints, then asks again.
 */
static void late_segments_move_storage(struct kunit *test)
{
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct fake_exporter *fx = test->priv;
	struct dma_buf_attachment *a;

	fx->attach_ret = -ERANGE;
	fx->move_fixes_attach = true;
	a = dma_buf_attach_segments(dmabuf, test_device(test, "one"), 1);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_MOVE], 1U);
	KUNIT_EXPECT_EQ(test, fx->move_segments, 1U);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_ATTACH], 2U);
	dma_buf_detach(dmabuf, a);
	put_and_flush(dmabuf);
}

/* Runs of a fake storage: fake_runs[i] pages at frame fake_pfns[i]. */
struct fake_layout {
	unsigned long pfns[4], runs[4];
	unsigned int n;
};

static unsigned long fake_layout_run(void *data, pgoff_t pgoff,
				     unsigned long *len)
{
	const struct fake_layout *l = data;
	unsigned int i;

	for (i = 0; i < l->n; i++) {
		if (pgoff < l->runs[i]) {
			*len = l->runs[i] - pgoff;
			return l->pfns[i] + pgoff;
		}
		pgoff -= l->runs[i];
	}
	*len = 1;
	return 0;
}

struct segments_case {
	const char *name;
	struct fake_layout layout;
	unsigned int max_segments;
	bool translated, bounced;
	int expect;
};

/* FAKE_PAGES (3) pages in one to three runs. */
static const struct segments_case segments_cases[] = {
	{ "any number", { { 10, 20, 30 }, { 1, 1, 1 }, 3 }, 0, false, false, 0 },
	{ "one run, one piece", { { 10 }, { 3 }, 1 }, 1, false, false, 0 },
	{ "adjacent runs are one piece", { { 10, 11, 12 }, { 1, 1, 1 }, 3 },
	  1, false, false, 0 },
	{ "three pieces for one", { { 10, 20, 30 }, { 1, 1, 1 }, 3 },
	  1, false, false, -ERANGE },
	{ "two pieces for two", { { 10, 11, 30 }, { 1, 1, 1 }, 3 },
	  2, false, false, 0 },
	{ "two pieces for one", { { 10, 11, 30 }, { 1, 1, 1 }, 3 },
	  1, false, false, -ERANGE },
	{ "behind an IOMMU", { { 10, 20, 30 }, { 1, 1, 1 }, 3 },
	  1, true, false, 0 },
	{ "bounced: each run", { { 10, 11, 12 }, { 1, 1, 1 }, 3 },
	  2, false, true, -ERANGE },
	{ "bounced: one run", { { 10 }, { 3 }, 1 }, 1, false, true, 0 },
	{ "no storage yet", { }, 1, false, false, 0 },
	{ "no storage yet, bounced: memory of its own", { }, 1, false, true, 0 },
	{ "no storage yet, bounced: a piece each", { }, 3, false, true, 0 },
};

static void segments_case_desc(const struct segments_case *p, char *desc)
{
	strscpy(desc, p->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(segments, segments_cases, segments_case_desc);

static phys_addr_t bounce_everything(struct device *dev)
{
	return dma_buf_test_phys(SZ_1G - 1);
}

static size_t bounce_holds_a_page(struct device *dev)
{
	return PAGE_SIZE;
}

static size_t bounce_holds_4m(struct device *dev)
{
	return SZ_4M;
}

/* dma_buf_check_segments() counts pieces as the device will see them. */
static void check_segments(struct kunit *test)
{
	const struct segments_case *p = test->param_value;
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf_attachment attach = {
		.dmabuf = dmabuf,
		.dev = test_device(test, "importer"),
		.max_segments = p->max_segments,
	};
	struct fake_layout layout = p->layout;

	if (p->translated)
		kunit_activate_static_stub(test, dma_buf_translated,
					   always_translated);
	if (p->bounced)
		kunit_activate_static_stub(test, dma_buf_bounce_limit,
					   bounce_everything);
	/* One run fits one bounce buffer; otherwise a page each. */
	if (p->bounced && p->layout.n == 1)
		kunit_activate_static_stub(test, dma_buf_max_mapping_size,
					   bounce_holds_4m);
	else if (p->bounced)
		kunit_activate_static_stub(test, dma_buf_max_mapping_size,
					   bounce_holds_a_page);
	KUNIT_EXPECT_EQ(test, dma_buf_check_segments(&attach,
						     layout.n ? fake_layout_run :
						     NULL, &layout),
			p->expect);
	EXPECT_MISUSE(test, fx, dma_buf_check_segments(NULL, fake_layout_run,
						       &layout));
	put_and_flush(dmabuf);
}

static bool always_shared(struct device *dev)
{
	return true;
}

/* Under @dmabuf's lock, as exporters call it. */
static int check_segments_locked(struct dma_buf *dmabuf, struct device *dev,
				 unsigned int max_segments,
				 struct fake_layout *layout)
{
	struct dma_buf_attachment attach = {
		.dmabuf = dmabuf,
		.dev = dev,
		.max_segments = max_segments,
	};
	int ret;

	mutex_lock(&dmabuf->lock);
	ret = dma_buf_check_segments(&attach, layout ? fake_layout_run : NULL,
				     layout);
	mutex_unlock(&dmabuf->lock);
	return ret;
}

/*
 * A device whose every mapping is bounced, a page at most each here, and
 * whose importer takes the buffer in fewer pieces than that: only memory
 * the DMA API allocates for it will do. The core names it in the
 * constraints (dma_dev), and a late attach moves the storage with it
 * named. Existing storage is refused for it (the exporter knows whether
 * it is the device's own), and so is a second such device, without a
 * move; two named in a move leave no memory at all. A device that takes
 * a piece a page needs nothing of its own. In a confidential VM, where
 * that memory would be shared with the host, the device is refused.
 */
static void own_memory_for_bounced_device(struct kunit *test)
{
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct fake_exporter *fx = test->priv;
	struct device *one = test_device(test, "one");
	struct device *other = test_device(test, "other");
	struct fake_layout layout = { { 10 }, { FAKE_PAGES }, 1 };
	struct dma_buf_constraints c;
	struct dma_buf_attachment *a;

	kunit_activate_static_stub(test, dma_buf_bounce_limit, bounce_everything);
	kunit_activate_static_stub(test, dma_buf_max_mapping_size,
				   bounce_holds_a_page);
	KUNIT_EXPECT_EQ(test, check_segments_locked(dmabuf, one, 1, NULL), 0);
	KUNIT_EXPECT_EQ(test, check_segments_locked(dmabuf, one, 1, &layout),
			-ERANGE);

	fx->attach_ret = -ERANGE;
	fx->move_fixes_attach = true;
	a = dma_buf_attach_segments(dmabuf, one, 1);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_MOVE], 1U);
	KUNIT_EXPECT_PTR_EQ(test, fx->move_dma_dev, one);
	KUNIT_EXPECT_EQ(test, fx->move_segments, 1U);
	mutex_lock(&dmabuf->lock);
	dma_buf_attachments_constraints(dmabuf, &c);
	mutex_unlock(&dmabuf->lock);
	KUNIT_EXPECT_PTR_EQ(test, c.dma_dev, one);
	KUNIT_EXPECT_NE(test, c.dma_limit, 0ULL);

	/* The same device again may; another may not, and nothing moves. */
	KUNIT_EXPECT_EQ(test, check_segments_locked(dmabuf, one, 1, NULL), 0);
	KUNIT_EXPECT_EQ(test, check_segments_locked(dmabuf, other, 1, NULL),
			-ERANGE);
	fx->attach_ret = -ERANGE;
	KUNIT_EXPECT_EQ(test, PTR_ERR(dma_buf_attach_segments(dmabuf, other, 1)),
			-ERANGE);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_MOVE], 1U);
	dma_buf_device_constraints(other, &c);
	c.dma_dev = other;
	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &c), -ERANGE);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_MOVE], 1U);
	/* Pieces of a page each for three pages: nothing of its own. */
	KUNIT_EXPECT_EQ(test, check_segments_locked(dmabuf, other, FAKE_PAGES,
						    &layout), 0);
	dma_buf_device_constraints(other, &c);
	KUNIT_EXPECT_NULL(test, c.dma_dev);

	dma_buf_detach(dmabuf, a);
	KUNIT_EXPECT_EQ(test, check_segments_locked(dmabuf, other, 1, NULL), 0);
	/* In a confidential VM no exporter could give it such memory. */
	kunit_activate_static_stub(test, dma_buf_dma_memory_shared,
				   always_shared);
	KUNIT_EXPECT_EQ(test, check_segments_locked(dmabuf, other, 1, NULL),
			-ERANGE);
	kunit_deactivate_static_stub(test, dma_buf_dma_memory_shared);
	mutex_lock(&dmabuf->lock);
	dma_buf_attachments_constraints(dmabuf, &c);
	mutex_unlock(&dmabuf->lock);
	KUNIT_EXPECT_NULL(test, c.dma_dev);
	put_and_flush(dmabuf);
}

static phys_addr_t bounce_at_1g(struct device *dev)
{
	return dma_buf_test_phys(SZ_1G - 1);
}

static size_t bounce_holds_256k(struct device *dev)
{
	return SZ_256K;
}

static phys_addr_t fake_lowest_ram;

static phys_addr_t lowest_ram_stub(void)
{
	return fake_lowest_ram;
}

static void check_reach(struct kunit *test)
{
	struct device *dev = dma_buf_test_device(test, "d28", DMA_BIT_MASK(28),
						 0, SZ_64K, ULONG_MAX);
	struct device *d32 = dma_buf_test_device(test, "d32", DMA_BIT_MASK(32),
						 0, SZ_64K, ULONG_MAX);
	struct dma_buf_constraints c;
	struct device *d1m;
	phys_addr_t limit32;

	KUNIT_EXPECT_EQ(test, dma_buf_check_reach(dev, 0), 0);
	KUNIT_EXPECT_EQ(test, dma_buf_check_reach(dev,
						  dma_buf_test_phys(SZ_256M - 1)),
			0);
	KUNIT_EXPECT_EQ(test, dma_buf_check_reach(dev,
						  dma_buf_test_phys(SZ_256M)),
			-ERANGE);
	/* dma_map_resource() does not translate: a BAR's address is its own. */
	KUNIT_EXPECT_EQ(test, dma_buf_check_resource_reach(dev, SZ_256M - 1), 0);
	KUNIT_EXPECT_EQ(test, dma_buf_check_resource_reach(dev, SZ_256M),
			-ERANGE);

	/* All RAM 1 GiB further up: the 28-bit device reaches nothing. */
	limit32 = dma_buf_test_phys(DMA_BIT_MASK(32));
	fake_lowest_ram = dma_buf_test_phys(SZ_1G);
	kunit_activate_static_stub(test, dma_buf_lowest_ram, lowest_ram_stub);
	dma_buf_device_constraints(dev, &c);
	KUNIT_EXPECT_EQ(test, c.dma_limit, 0ULL);
	KUNIT_EXPECT_EQ(test, dma_buf_check_reach(dev, 0), -ERANGE);
	dma_buf_device_constraints(d32, &c);
	KUNIT_EXPECT_EQ(test, c.dma_limit, limit32);
	kunit_deactivate_static_stub(test, dma_buf_lowest_ram);

	/*
	 * Every mapping bounced through buffers that end 1 GiB above the
	 * lowest RAM: pages
	 * may lie anywhere for the 32-bit device; the 28-bit one reaches no
	 * memory at all, not even before storage exists. Memory without
	 * pages is never bounced.
	 */
	kunit_activate_static_stub(test, dma_buf_bounce_limit, bounce_at_1g);
	dma_buf_device_constraints(d32, &c);
	KUNIT_EXPECT_EQ(test, c.dma_limit, U64_MAX);
	KUNIT_EXPECT_EQ(test, dma_buf_check_reach(d32, SZ_2G + SZ_1G), 0);
	dma_buf_device_constraints(dev, &c);
	KUNIT_EXPECT_EQ(test, c.dma_limit, 0ULL);
	KUNIT_EXPECT_EQ(test, dma_buf_check_reach(dev, 0), -ERANGE);
	KUNIT_EXPECT_EQ(test, dma_buf_check_resource_reach(dev, SZ_256M - 1), 0);
	kunit_deactivate_static_stub(test, dma_buf_bounce_limit);

	/*
	 * A mapping bounced in one piece is no longer than a bounce buffer:
	 * segments are cut to it, whatever the device accepts. A device
	 * that reaches all memory is never bounced (unless swiotlb=force)
	 * and keeps its own segment size.
	 */
	d1m = dma_buf_test_device(test, "d1m", DMA_BIT_MASK(64), 0, SZ_1M,
				  ULONG_MAX);
	kunit_activate_static_stub(test, dma_buf_max_mapping_size,
				   bounce_holds_256k);
	dma_buf_device_constraints(d1m, &c);
	KUNIT_EXPECT_EQ(test, c.max_segment_size, SZ_256K);
	c.max_segment_size = 0;
	dma_buf_device_segment_limits(d1m, &c);
	KUNIT_EXPECT_EQ(test, c.max_segment_size, SZ_256K);
	kunit_deactivate_static_stub(test, dma_buf_max_mapping_size);
	dma_buf_device_constraints(d1m, &c);
	KUNIT_EXPECT_EQ(test, c.max_segment_size, SZ_1M);

	/* Behind a translating IOMMU any memory is reachable. */
	kunit_activate_static_stub(test, dma_buf_translated, always_translated);
	KUNIT_EXPECT_EQ(test, dma_buf_check_reach(dev,
						  dma_buf_test_phys(SZ_256M)),
			0);
	KUNIT_EXPECT_EQ(test, dma_buf_check_resource_reach(dev, SZ_2G + SZ_1G), 0);
	dma_buf_device_constraints(dev, &c);
	KUNIT_EXPECT_EQ(test, c.dma_limit, U64_MAX);
}

struct segment_case {
	const char *name;
	unsigned int max_seg;
	unsigned long boundary;
	u64 addr, len, expect;
};

static const struct segment_case segment_cases[] = {
	{ "limited by length", SZ_64K, ULONG_MAX, 0, SZ_4K, SZ_4K },
	{ "limited by max segment", SZ_64K, ULONG_MAX, 0, SZ_1M, SZ_64K },
	{ "limited by boundary", SZ_1M, SZ_64K - 1, 0xf000, SZ_1M, 0x1000 },
	{ "starts on a boundary", SZ_1M, SZ_64K - 1, SZ_64K, SZ_1M, SZ_64K },
	{ "boundary and max", SZ_8K, SZ_64K - 1, 0xf000, SZ_1M, 0x1000 },
	{ "empty", SZ_64K, ULONG_MAX, SZ_4K, 0, 0 },
	{ "no boundary, top of memory", UINT_MAX, ULONG_MAX,
	  ULONG_MAX - SZ_4K + 1, SZ_4K, SZ_4K },
};

KUNIT_ARRAY_PARAM_DESC(segment, segment_cases, name);

static void segment_len_respects_constraints(struct kunit *test)
{
	const struct segment_case *p = test->param_value;
	struct dma_buf_constraints c = {
		.dma_limit = U64_MAX,
		.max_segment_size = p->max_seg,
		.seg_boundary_mask = p->boundary,
	};

	KUNIT_EXPECT_EQ(test, (u64)dma_buf_segment_len(&c, p->addr, p->len),
			p->expect);
}

/*
 * The scatterlist of a large buffer is built in time linear in its pages,
 * whatever the constraints: here 896 MiB of contiguous pages cut into
 * one-page segments, for which a walk that rescans each contiguous run
 * from its start takes some 25 billion steps and keeps the CPU for
 * minutes (the soft-lockup detector reports it after 20 seconds).
 */
static void segment_walk_is_linear(struct kunit *test)
{
	unsigned int n = (SZ_512M + SZ_256M + SZ_128M) >> PAGE_SHIFT, i;
	unsigned long base = PHYS_PFN(dma_buf_lowest_ram() + SZ_16M);
	struct dma_buf_constraints c = {
		.dma_limit = U64_MAX,
		.max_segment_size = PAGE_SIZE,
		.seg_boundary_mask = ULONG_MAX,
	};
	struct sg_table *sgt;
	struct page **pages;

	if (!pfn_valid(base + n - 1))
		kunit_skip(test, "needs 912 MiB of memory");
	pages = kvmalloc_array(n, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	for (i = 0; i < n; i++)
		pages[i] = pfn_to_page(base + i);

	sgt = dma_buf_pages_to_sgt(pages, n, &c, GFP_KERNEL);
	KUNIT_EXPECT_FALSE(test, IS_ERR(sgt));
	if (!IS_ERR(sgt)) {
		KUNIT_EXPECT_EQ(test, sgt->orig_nents, n);
		sg_free_table(sgt);
		kfree(sgt);
	}
	c.max_segment_size = SZ_64K;
	sgt = dma_buf_pages_to_sgt(pages, n, &c, GFP_KERNEL);
	KUNIT_EXPECT_FALSE(test, IS_ERR(sgt));
	if (!IS_ERR(sgt)) {
		KUNIT_EXPECT_EQ(test, sgt->orig_nents, n / 16);
		sg_free_table(sgt);
		kfree(sgt);
	}
	kvfree(pages);
}

/*
 * Arrays of pages laid out in memory in several ways, and the segments
 * each must give under constraints that limit nothing: only pages that
 * follow each other in memory, in array order, share a segment. The
 * frame numbers are relative to a base inside one piece of the memory
 * map, or, for the last cases, two pages before the start of a piece (a
 * memory section with classic SPARSEMEM, where the next page in memory
 * is not the next struct page).
 */
struct follow_case {
	const char *name;
	bool across_piece;
	unsigned int n, nseg;
	unsigned long pfn[4];
	unsigned int seg[4];
};

static const struct follow_case follow_cases[] = {
	{ "contiguous", false, 4, 1, { 0, 1, 2, 3 }, { 4 } },
	{ "one page", false, 1, 1, { 5 }, { 1 } },
	{ "a gap", false, 4, 2, { 0, 1, 3, 4 }, { 2, 2 } },
	{ "backwards", false, 2, 2, { 1, 0 }, { 1, 1 } },
	{ "a page twice", false, 4, 2, { 0, 1, 1, 2 }, { 2, 2 } },
	{ "into the next piece", true, 4, 1, { 0, 1, 2, 3 }, { 4 } },
	{ "a gap at the piece's start", true, 3, 2, { 0, 1, 3 }, { 2, 1 } },
	{ "piece's start twice", true, 4, 2, { 1, 2, 2, 3 }, { 2, 2 } },
};

KUNIT_ARRAY_PARAM_DESC(follow, follow_cases, name);

static void segments_follow_memory(struct kunit *test)
{
	const struct follow_case *p = test->param_value;
	struct dma_buf_constraints c = {
		.dma_limit = U64_MAX,
		.max_segment_size = SZ_1G,
		.seg_boundary_mask = ULONG_MAX,
	};
#if defined(CONFIG_SPARSEMEM)
	unsigned long piece = PAGES_PER_SECTION;
#else
	unsigned long piece = SZ_128M >> PAGE_SHIFT;
#endif
	unsigned long base, start;
	struct page *pages[4];
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int i, k = 0;

	/* Only struct pages are looked at: no need to own the memory. */
	start = ALIGN(PHYS_PFN(dma_buf_lowest_ram()) + 2, piece);
	base = p->across_piece ? start - 2 : start + 8;
	if (!pfn_valid(base) || !pfn_valid(base + 4))
		kunit_skip(test, "no memory at frames %#lx to %#lx", base,
			   base + 4);
	for (i = 0; i < p->n; i++)
		pages[i] = pfn_to_page(base + p->pfn[i]);

	sgt = dma_buf_pages_to_sgt(pages, p->n, &c, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_EQ(test, sgt->orig_nents, p->nseg);
	for_each_sgtable_sg(sgt, sg, i) {
		if (i >= p->nseg)
			break;
		KUNIT_EXPECT_PTR_EQ_MSG(test, sg_page(sg), pages[k],
					"segment %u", i);
		KUNIT_EXPECT_EQ_MSG(test, sg->offset, 0U, "segment %u", i);
		KUNIT_EXPECT_EQ_MSG(test, sg->length, p->seg[i] * PAGE_SIZE,
				    "segment %u", i);
		k += p->seg[i];
	}
	sg_free_table(sgt);
	kfree(sgt);
}

/* --- userspace interface --------------------------------------------------- */

static void llseek_reports_size(struct kunit *test)
{
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);

	KUNIT_EXPECT_EQ(test, vfs_llseek(dmabuf->file, 0, SEEK_END),
			(loff_t)FAKE_SIZE);
	KUNIT_EXPECT_EQ(test, vfs_llseek(dmabuf->file, 0, SEEK_SET), 0);
	KUNIT_EXPECT_EQ(test, vfs_llseek(dmabuf->file, 0, SEEK_CUR), -EINVAL);
	KUNIT_EXPECT_EQ(test, vfs_llseek(dmabuf->file, 1, SEEK_SET), -EINVAL);
	KUNIT_EXPECT_EQ(test, vfs_llseek(dmabuf->file, -1, SEEK_END), -EINVAL);
	KUNIT_EXPECT_EQ(test, vfs_llseek(dmabuf->file, 0, SEEK_DATA), -EINVAL);
	put_and_flush(dmabuf);
}

struct sync_case {
	const char *name;
	u64 flags;
	int ret;			/* of the ioctl */
	enum fake_op op;		/* the callback it reaches, if ret == 0 */
	enum dma_data_direction dir;
};

static const struct sync_case sync_cases[] = {
	{ "start read", DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ, 0, OP_BEGIN,
	  DMA_FROM_DEVICE },
	{ "start write", DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE, 0, OP_BEGIN,
	  DMA_TO_DEVICE },
	{ "start rw", DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW, 0, OP_BEGIN,
	  DMA_BIDIRECTIONAL },
	{ "end read", DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ, 0, OP_END,
	  DMA_FROM_DEVICE },
	{ "end write", DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE, 0, OP_END,
	  DMA_TO_DEVICE },
	{ "end rw", DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW, 0, OP_END,
	  DMA_BIDIRECTIONAL },
	{ "no direction", DMA_BUF_SYNC_START, -EINVAL },
	{ "end without direction", DMA_BUF_SYNC_END, -EINVAL },
	{ "unknown bit 3", DMA_BUF_SYNC_RW | BIT(3), -EINVAL },
	{ "unknown bit 63", DMA_BUF_SYNC_RW | BIT_ULL(63), -EINVAL },
	{ "all bits", ~0ULL, -EINVAL },
};

KUNIT_ARRAY_PARAM_DESC(sync, sync_cases, name);

static void sync_ioctl(struct kunit *test)
{
	const struct sync_case *p = test->param_value;
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf_sync sync = { .flags = p->flags };
	void __user *arg = user_page(test);

	KUNIT_ASSERT_EQ(test, copy_to_user(arg, &sync, sizeof(sync)), 0);
	KUNIT_EXPECT_EQ(test, do_ioctl(dmabuf->file, DMA_BUF_IOCTL_SYNC, arg),
			(long)p->ret);
	if (p->ret) {
		KUNIT_EXPECT_EQ(test, fx->calls[OP_BEGIN] + fx->calls[OP_END], 0U);
	} else if (p->op == OP_BEGIN) {
		KUNIT_EXPECT_EQ(test, fx->calls[OP_BEGIN], 1U);
		KUNIT_EXPECT_EQ(test, fx->calls[OP_END], 0U);
		KUNIT_EXPECT_EQ(test, fx->begin_start, (size_t)0);
		KUNIT_EXPECT_EQ(test, fx->begin_len, (size_t)FAKE_SIZE);
		KUNIT_EXPECT_EQ(test, fx->begin_dir, p->dir);
	} else {
		KUNIT_EXPECT_EQ(test, fx->calls[OP_END], 1U);
		KUNIT_EXPECT_EQ(test, fx->calls[OP_BEGIN], 0U);
		KUNIT_EXPECT_EQ(test, fx->end_len, (size_t)FAKE_SIZE);
		KUNIT_EXPECT_EQ(test, fx->end_dir, p->dir);
	}
	put_and_flush(dmabuf);
}

static void sync_ioctl_errors(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf_sync sync = {
		.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ,
	};
	void __user *arg = user_page(test);

	KUNIT_ASSERT_EQ(test, copy_to_user(arg, &sync, sizeof(sync)), 0);
	fx->begin_ret = -ENOSPC;
	KUNIT_EXPECT_EQ(test, do_ioctl(dmabuf->file, DMA_BUF_IOCTL_SYNC, arg),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, do_ioctl(dmabuf->file, DMA_BUF_IOCTL_SYNC, NULL),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, do_ioctl(dmabuf->file, _IO('b', 7), arg),
			-ENOTTY);
	KUNIT_EXPECT_EQ(test, do_ioctl(dmabuf->file, _IOW('x', 0, u64), arg),
			-ENOTTY);
	put_and_flush(dmabuf);
}

static void fdinfo_text(struct kunit *test, struct dma_buf *dmabuf, char *buf,
			size_t size)
{
	struct seq_file m = { .buf = buf, .size = size };

	dmabuf->file->f_op->show_fdinfo(&m, dmabuf->file);
	KUNIT_ASSERT_LT(test, m.count, size);
	buf[m.count] = '\0';
}

static void set_name_and_fdinfo(struct kunit *test)
{
	static const char longest[] = "0123456789abcdefghijklmnopqrstu";
	static const char too_long[] = "0123456789abcdefghijklmnopqrstuv";
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	char __user *uname = user_page(test);
	char *text, *path, size_line[32];

	text = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, text);
	fdinfo_text(test, dmabuf, text, PAGE_SIZE);
	snprintf(size_line, sizeof(size_line), "size:\t%zu\n", (size_t)FAKE_SIZE);
	KUNIT_EXPECT_NOT_NULL(test, strstr(text, size_line));
	KUNIT_EXPECT_NULL(test, strstr(text, "\nname:\t"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(text, "exp_name:\tdma_buf_kunit\n"));

	KUNIT_ASSERT_EQ(test, copy_to_user(uname, longest, sizeof(longest)), 0);
	KUNIT_EXPECT_EQ(test, do_ioctl(dmabuf->file, DMA_BUF_SET_NAME_A, uname), 0);
	KUNIT_EXPECT_STREQ(test, dmabuf->name, longest);

	KUNIT_ASSERT_EQ(test, copy_to_user(uname, too_long, sizeof(too_long)), 0);
	KUNIT_EXPECT_EQ(test, do_ioctl(dmabuf->file, DMA_BUF_SET_NAME_B, uname),
			-EINVAL);
	KUNIT_EXPECT_STREQ(test, dmabuf->name, longest);

	/* Control characters would forge lines in fdinfo and debugfs. */
	KUNIT_ASSERT_EQ(test, copy_to_user(uname, "a\nsize:\t1", sizeof("a\nsize:\t1")), 0);
	KUNIT_EXPECT_EQ(test, do_ioctl(dmabuf->file, DMA_BUF_SET_NAME_B, uname),
			-EINVAL);
	KUNIT_ASSERT_EQ(test, copy_to_user(uname, "tab\there", sizeof("tab\there")), 0);
	KUNIT_EXPECT_EQ(test, do_ioctl(dmabuf->file, DMA_BUF_SET_NAME_B, uname),
			-EINVAL);
	KUNIT_ASSERT_EQ(test, copy_to_user(uname, "del\x7f", sizeof("del\x7f")), 0);
	KUNIT_EXPECT_EQ(test, do_ioctl(dmabuf->file, DMA_BUF_SET_NAME_B, uname),
			-EINVAL);
	KUNIT_EXPECT_STREQ(test, dmabuf->name, longest);
	/* UTF-8 is fine. */
	KUNIT_ASSERT_EQ(test, copy_to_user(uname, "caf\xc3\xa9", sizeof("caf\xc3\xa9")), 0);
	KUNIT_EXPECT_EQ(test, do_ioctl(dmabuf->file, DMA_BUF_SET_NAME_B, uname), 0);
	KUNIT_EXPECT_STREQ(test, dmabuf->name, "caf\xc3\xa9");

	KUNIT_ASSERT_EQ(test, copy_to_user(uname, "frame", 6), 0);
	KUNIT_EXPECT_EQ(test, do_ioctl(dmabuf->file, DMA_BUF_SET_NAME_B, uname), 0);
	KUNIT_EXPECT_EQ(test, do_ioctl(dmabuf->file, DMA_BUF_SET_NAME_A, NULL),
			-EFAULT);
	KUNIT_EXPECT_STREQ(test, dmabuf->name, "frame");

	fdinfo_text(test, dmabuf, text, PAGE_SIZE);
	KUNIT_EXPECT_NOT_NULL(test, strstr(text, "\nname:\tframe\n"));

	path = d_path(&dmabuf->file->f_path, text, PAGE_SIZE);
	KUNIT_ASSERT_FALSE(test, IS_ERR(path));
	KUNIT_EXPECT_STREQ(test, path, "/dmabuf:frame");

	/* No memory to keep a new name: the old one stays. */
	fx->fail_by_site = true;
	fx->fail_site = DMA_BUF_ALLOC_NAME;
	KUNIT_ASSERT_EQ(test, copy_to_user(uname, "other", 6), 0);
	KUNIT_EXPECT_EQ(test, do_ioctl(dmabuf->file, DMA_BUF_SET_NAME_B, uname),
			-ENOMEM);
	KUNIT_EXPECT_STREQ(test, dmabuf->name, "frame");
	fx->fail_by_site = false;

	/* An empty name is a name, shown empty (as in Linux 6.12). */
	KUNIT_ASSERT_EQ(test, copy_to_user(uname, "", 1), 0);
	KUNIT_EXPECT_EQ(test, do_ioctl(dmabuf->file, DMA_BUF_SET_NAME_B, uname), 0);
	KUNIT_ASSERT_NOT_NULL(test, dmabuf->name);
	KUNIT_EXPECT_STREQ(test, dmabuf->name, "");
	fdinfo_text(test, dmabuf, text, PAGE_SIZE);
	KUNIT_EXPECT_NOT_NULL(test, strstr(text, "\nname:\t\n"));
	path = d_path(&dmabuf->file->f_path, text, PAGE_SIZE);
	KUNIT_ASSERT_FALSE(test, IS_ERR(path));
	KUNIT_EXPECT_STREQ(test, path, "/dmabuf:");
	put_and_flush(dmabuf);
}

static void bufinfo_lists_buffers(struct kunit *test)
{
	struct dma_buf *dmabuf;
	struct device *dev;
	struct dma_buf_attachment *attach;
	unsigned int before;
	char line[64];
	bool found;

	before = live_buffers(test, NULL, NULL);
	dmabuf = dma_buf_export_named(test->priv, &fake_ops, FAKE_SIZE, O_RDWR,
				      "bufinfo-test");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dmabuf);
	dev = test_device(test, "bufinfo-dev");
	attach = dma_buf_attach(dmabuf, dev);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);

	KUNIT_EXPECT_EQ(test, live_buffers(test, "bufinfo-test", &found),
			before + 1);
	KUNIT_EXPECT_TRUE(test, found);
	/* Each attached device as "<driver> <device>". */
	snprintf(line, sizeof(line), "\tattached: %s %s\n",
		 dev_driver_string(dev), dev_name(dev));
	live_buffers(test, line, &found);
	KUNIT_EXPECT_TRUE(test, found);

	dma_buf_detach(dmabuf, attach);
	live_buffers(test, "bufinfo-dev", &found);
	KUNIT_EXPECT_FALSE(test, found);
	put_and_flush(dmabuf);
	KUNIT_EXPECT_EQ(test, live_buffers(test, "bufinfo-test", &found),
			before);
	KUNIT_EXPECT_FALSE(test, found);
}

struct bufinfo_reader {
	struct completion started, done;
	int ret;
};

static int bufinfo_reader_fn(void *data)
{
	struct bufinfo_reader *r = data;
	struct seq_file m = { .size = PAGE_SIZE };

	allow_signal(SIGKILL);
	complete(&r->started);
	m.buf = kzalloc(m.size, GFP_KERNEL);
	r->ret = m.buf ? dma_buf_bufinfo_show(&m, NULL) : -ENOMEM;
	kfree(m.buf);
	complete(&r->done);
	return 0;
}

/*
 * The listing waits for each buffer's lock, which an exporter may hold
 * for long (filling a large buffer): a reader waiting there can be
 * killed, and gets EINTR.
 */
static void bufinfo_reader_killable(struct kunit *test)
{
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct bufinfo_reader *r;
	struct task_struct *task;
	bool returned;

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	init_completion(&r->started);
	init_completion(&r->done);

	mutex_lock(&dmabuf->lock);
	task = kthread_run(bufinfo_reader_fn, r, "bufinfo-reader");
	if (IS_ERR(task)) {
		mutex_unlock(&dmabuf->lock);
		KUNIT_FAIL(test, "no reader thread: %ld", PTR_ERR(task));
		put_and_flush(dmabuf);
		return;
	}
	wait_for_completion(&r->started);
	msleep(100);
	send_sig(SIGKILL, task, 1);
	returned = wait_for_completion_timeout(&r->done, 5 * HZ);
	mutex_unlock(&dmabuf->lock);
	KUNIT_EXPECT_TRUE_MSG(test, returned,
			      "the killed reader waited for the buffer's lock");
	if (!returned)
		wait_for_completion(&r->done);
	KUNIT_EXPECT_EQ(test, r->ret, -EINTR);
	put_and_flush(dmabuf);
}

/* --- mmap ------------------------------------------------------------------ */

struct mmap_case {
	const char *name;
	unsigned long pages, pgoff, flags;
	bool no_mmap_op;
	int open_flags;		/* of the buffer's file */
	unsigned long prot;
	long ret;
};

#define RW	(PROT_READ | PROT_WRITE)

static const struct mmap_case mmap_cases[] = {
	{ "whole buffer", FAKE_PAGES, 0, MAP_SHARED, false, O_RDWR, RW, 0 },
	{ "last page", 1, FAKE_PAGES - 1, MAP_SHARED, false, O_RDWR, RW, 0 },
	{ "one page too many", FAKE_PAGES + 1, 0, MAP_SHARED, false, O_RDWR, RW,
	  -EINVAL },
	{ "offset past the end", 1, FAKE_PAGES, MAP_SHARED, false, O_RDWR, RW,
	  -EINVAL },
	{ "private", 1, 0, MAP_PRIVATE, false, O_RDWR, RW, -EINVAL },
	{ "private read-only", 1, 0, MAP_PRIVATE, false, O_RDONLY, PROT_READ,
	  0 },
	{ "private read-only of a writable buffer", 1, 0, MAP_PRIVATE, false,
	  O_RDWR, PROT_READ, 0 },
	{ "read-only buffer, shared", 1, 0, MAP_SHARED, false, O_RDONLY,
	  PROT_READ, 0 },
	{ "read-only buffer, writable", 1, 0, MAP_SHARED, false, O_RDONLY, RW,
	  -EACCES },
	{ "exporter without mmap", 1, 0, MAP_SHARED, true, O_RDWR, RW, -ENODEV },
};

KUNIT_ARRAY_PARAM_DESC(mmap, mmap_cases, name);

static void mmap_through_fd(struct kunit *test)
{
	const struct mmap_case *p = test->param_value;
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf;
	struct vm_area_struct *vma;
	unsigned long addr;

	dmabuf = dma_buf_export(test->priv, p->no_mmap_op ? &fake_minimal_ops :
				&fake_ops, FAKE_SIZE, p->open_flags);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dmabuf);
	user_page(test);
	addr = vm_mmap(dmabuf->file, 0, p->pages * PAGE_SIZE, p->prot, p->flags,
		       p->pgoff << PAGE_SHIFT);
	if (p->ret) {
		KUNIT_EXPECT_EQ(test, (long)addr, p->ret);
		KUNIT_EXPECT_EQ(test, fx->calls[OP_MMAP], 0U);
		put_and_flush(dmabuf);
		return;
	}
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(addr));
	KUNIT_EXPECT_EQ(test, fx->calls[OP_MMAP], 1U);
	KUNIT_EXPECT_EQ(test, fx->mmap_pgoff, p->pgoff);
	KUNIT_EXPECT_PTR_EQ(test, fx->mmap_file, dmabuf->file);
	/* The mapping is found through the buffer's own address space. */
	KUNIT_EXPECT_TRUE(test, mapping_mapped(dmabuf->file->f_mapping));

	mmap_read_lock(current->mm);
	vma = find_vma(current->mm, addr);
	KUNIT_EXPECT_TRUE(test, vma && (vma->vm_flags & VM_DONTEXPAND));
	/* A private view can never become a writable copy. */
	if (vma && p->flags == MAP_PRIVATE)
		KUNIT_EXPECT_FALSE(test, vma->vm_flags & VM_MAYWRITE);
	mmap_read_unlock(current->mm);

	KUNIT_EXPECT_EQ(test, vm_munmap(addr, p->pages * PAGE_SIZE), 0);
	put_and_flush(dmabuf);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_RELEASE], 1U);
}

static int importer_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct dma_buf *dmabuf = file->private_data;
	struct fake_exporter *fx = dmabuf->priv;

	return dma_buf_mmap(dmabuf, vma, fx->importer_pgoff);
}

static const struct file_operations importer_fops = {
	.owner = THIS_MODULE,
	.mmap = importer_mmap,
};

static void mmap_for_importer(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct file *importer;
	unsigned long addr;
	int ret;

	importer = anon_inode_getfile("importer", &importer_fops, dmabuf,
				      O_RDWR);
	KUNIT_ASSERT_FALSE(test, IS_ERR(importer));
	user_page(test);

	/* Pages 1 and 2 of the buffer: inside. */
	fx->importer_pgoff = 1;
	addr = vm_mmap(importer, 0, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(addr));
	KUNIT_EXPECT_EQ(test, fx->mmap_pgoff, 1UL);
	KUNIT_EXPECT_PTR_EQ(test, fx->mmap_file, dmabuf->file);
	/*
	 * The mapping is in the buffer's address space, where an exporter's
	 * unmap_mapping_range() finds it, not in the importer's.
	 */
	KUNIT_EXPECT_TRUE(test, mapping_mapped(dmabuf->file->f_mapping));
	KUNIT_EXPECT_FALSE(test, mapping_mapped(importer->f_mapping));
	KUNIT_EXPECT_EQ(test, vm_munmap(addr, 2 * PAGE_SIZE), 0);

	/* Pages 1 to 3: one past the end. */
	addr = vm_mmap(importer, 0, 3 * PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, 0);
	KUNIT_EXPECT_EQ(test, (long)addr, -EINVAL);

	/* An offset whose end overflows. */
	fx->importer_pgoff = ULONG_MAX;
	addr = vm_mmap(importer, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, 0);
	KUNIT_EXPECT_EQ(test, (long)addr, -EINVAL);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_MMAP], 1U);

	EXPECT_MISUSE(test, fx, ret = dma_buf_mmap(NULL, NULL, 0));
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);

	fput(importer);
	put_and_flush(dmabuf);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_RELEASE], 1U);
}

/* --- moving storage ------------------------------------------------------- */

/* The ways a buffer's storage gets pinned, and how each ends. */
struct pin_way {
	const char *name;
	void (*pin)(struct kunit *test, struct dma_buf *dmabuf, void **state);
	void (*unpin)(struct kunit *test, struct dma_buf *dmabuf, void *state);
};

static void pin_by_mapping(struct kunit *test, struct dma_buf *dmabuf,
			   void **state)
{
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;

	attach = dma_buf_attach(dmabuf, test_device(test, "holder"));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	sgt = dma_buf_map_attachment(attach, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	*state = attach;
}

static void unpin_mapping(struct kunit *test, struct dma_buf *dmabuf,
			  void *state)
{
	struct dma_buf_attachment *attach = state;

	dma_buf_unmap_attachment(attach, attach->sgt, DMA_TO_DEVICE);
}

static void pin_by_cpu_access(struct kunit *test, struct dma_buf *dmabuf,
			      void **state)
{
	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, PAGE_SIZE,
						       DMA_BIDIRECTIONAL), 0);
}

static void unpin_cpu_access(struct kunit *test, struct dma_buf *dmabuf,
			     void *state)
{
	dma_buf_end_cpu_access(dmabuf, 0, PAGE_SIZE, DMA_BIDIRECTIONAL);
}

static void pin_by_kmap(struct kunit *test, struct dma_buf *dmabuf,
			void **state)
{
	pin_by_cpu_access(test, dmabuf, state);
	*state = dma_buf_kmap(dmabuf, 1);
	KUNIT_ASSERT_NOT_NULL(test, *state);
}

static void unpin_kmap(struct kunit *test, struct dma_buf *dmabuf,
		       void *state)
{
	dma_buf_kunmap(dmabuf, 1, state);
	unpin_cpu_access(test, dmabuf, NULL);
}

static void pin_by_vmap(struct kunit *test, struct dma_buf *dmabuf,
			void **state)
{
	*state = dma_buf_vmap(dmabuf);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, *state);
}

static void unpin_vmap(struct kunit *test, struct dma_buf *dmabuf,
		       void *state)
{
	dma_buf_vunmap(dmabuf, state);
}

static const struct pin_way pin_ways[] = {
	{ "an importer's mapping", pin_by_mapping, unpin_mapping },
	{ "a kernel CPU access", pin_by_cpu_access, unpin_cpu_access },
	{ "a kmap inside a CPU access", pin_by_kmap, unpin_kmap },
	{ "the kernel mapping", pin_by_vmap, unpin_vmap },
};

KUNIT_ARRAY_PARAM_DESC(pin_way, pin_ways, name);

/*
 * Pinned storage cannot move, and a device that cannot reach it is
 * refused; once the pin is gone both work.
 */
static void move_refused_while_pinned(struct kunit *test)
{
	const struct pin_way *way = test->param_value;
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf_attachment *attach;
	void *state = NULL;

	way->pin(test, dmabuf, &state);
	mutex_lock(&dmabuf->lock);
	KUNIT_EXPECT_TRUE(test, dma_buf_pinned(dmabuf));
	mutex_unlock(&dmabuf->lock);
	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &anywhere), -EBUSY);

	fx->attach_ret = -ERANGE;
	fx->move_fixes_attach = true;
	attach = dma_buf_attach(dmabuf, test_device(test, "late"));
	KUNIT_EXPECT_EQ(test, PTR_ERR(attach), -ERANGE);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_MOVE], 0U);

	way->unpin(test, dmabuf, state);
	mutex_lock(&dmabuf->lock);
	KUNIT_EXPECT_FALSE(test, dma_buf_pinned(dmabuf));
	mutex_unlock(&dmabuf->lock);
	attach = dma_buf_attach(dmabuf, test_device(test, "late2"));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_MOVE], 1U);
	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &anywhere), 0);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_MOVE], 2U);

	dma_buf_detach(dmabuf, attach);
	if (way->pin == pin_by_mapping)
		dma_buf_detach(dmabuf, state);
	put_and_flush(dmabuf);
}

/*
 * The exporter's end_cpu_access runs without the buffer's lock, and the
 * access ending pins the storage until it returns: a move tried from it
 * (which takes the lock, as one from another task would) is refused with
 * -EBUSY instead of deadlocking or moving pages the CPU may still be
 * writing back, and a move right after the end goes ahead.
 */
static void end_cpu_access_pins_until_it_returns(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);

	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, PAGE_SIZE,
						       DMA_TO_DEVICE), 0);
	fx->move_in_end = true;
	dma_buf_end_cpu_access(dmabuf, 0, PAGE_SIZE, DMA_TO_DEVICE);
	fx->move_in_end = false;
	KUNIT_EXPECT_EQ(test, fx->calls[OP_END], 1U);
	KUNIT_EXPECT_EQ(test, fx->move_in_end_ret, -EBUSY);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_MOVE], 0U);

	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &anywhere), 0);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_MOVE], 1U);
	put_and_flush(dmabuf);
}

/*
 * The documented order: cached mappings nobody holds go back to the
 * exporter, then the exporter moves; the next map asks the exporter
 * again. All of it under the buffer's lock (fake_record checks).
 */
static void move_drops_cached_mappings_first(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf_attachment *a, *b;
	struct sg_table *sgt;

	a = dma_buf_attach(dmabuf, test_device(test, "a"));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	b = dma_buf_attach(dmabuf, test_device(test, "b"));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	sgt = dma_buf_map_attachment(a, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	dma_buf_unmap_attachment(a, sgt, DMA_TO_DEVICE);
	sgt = dma_buf_map_attachment(b, DMA_FROM_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	dma_buf_unmap_attachment(b, sgt, DMA_FROM_DEVICE);

	fx->log[0] = '\0';
	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &anywhere), 0);
	/* Newest attachment first, as the list is kept. */
	KUNIT_EXPECT_STREQ(test, fx->log, "b.unmap(from) a.unmap(to) move");
	KUNIT_EXPECT_NULL(test, a->sgt);
	KUNIT_EXPECT_NULL(test, b->sgt);
	KUNIT_EXPECT_EQ(test, fx->tables, 0);

	fx->log[0] = '\0';
	sgt = dma_buf_map_attachment(a, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_STREQ(test, fx->log, "a.map(to) a.dev(to)");
	dma_buf_unmap_attachment(a, sgt, DMA_TO_DEVICE);

	/* A failed move leaves the buffer usable; the error is passed on. */
	fx->move_ret = -ENOMEM;
	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &anywhere), -ENOMEM);
	sgt = dma_buf_map_attachment(a, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	dma_buf_unmap_attachment(a, sgt, DMA_TO_DEVICE);

	dma_buf_detach(dmabuf, a);
	dma_buf_detach(dmabuf, b);
	put_and_flush(dmabuf);
	KUNIT_EXPECT_EQ(test, fx->lock_wrong, 0UL);
}

/*
 * Userspace mappings of the buffer are zapped: the next access faults
 * again, and a move without one does not disturb them.
 */
static void move_zaps_userspace_mappings(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf;
	unsigned long addr;
	u32 __user *p;
	u32 v = 0;

	fx->fault_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	KUNIT_ASSERT_NOT_NULL(test, fx->fault_page);
	dmabuf = fake_export(test, &fake_ops);
	user_page(test);
	addr = vm_mmap(dmabuf->file, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(addr));
	p = (u32 __user *)addr;

	KUNIT_EXPECT_EQ(test, put_user(0x1234u, p), 0);
	KUNIT_EXPECT_EQ(test, get_user(v, p), 0);
	KUNIT_EXPECT_EQ(test, v, 0x1234u);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_FAULT], 1U);

	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &anywhere), 0);
	KUNIT_EXPECT_EQ(test, get_user(v, p), 0);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_FAULT], 2U);
	KUNIT_EXPECT_EQ(test, v, 0x1234u);

	/* Refused: nothing is zapped. */
	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, PAGE_SIZE,
						       DMA_TO_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &anywhere), -EBUSY);
	dma_buf_end_cpu_access(dmabuf, 0, PAGE_SIZE, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, get_user(v, p), 0);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_FAULT], 2U);

	KUNIT_EXPECT_EQ(test, vm_munmap(addr, PAGE_SIZE), 0);
	put_and_flush(dmabuf);
	__free_page(fx->fault_page);
}

/* The exporter is asked for what every attached device can reach. */
static void move_narrows_to_attached_devices(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf_constraints c = anywhere;
	struct dma_buf_attachment *attach;

	/* 32 bits: RAM starts at 1 GiB on some machines (arm64 virt). */
	attach = dma_buf_attach(dmabuf, dma_buf_test_device(test, "d32",
							    DMA_BIT_MASK(32),
							    0, SZ_64K,
							    ULONG_MAX));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &c), 0);
	KUNIT_EXPECT_EQ(test, fx->move_limit,
			dma_buf_test_phys(DMA_BIT_MASK(32)));

	/* A tighter request wins. */
	c.dma_limit = SZ_16M - 1;
	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &c), 0);
	KUNIT_EXPECT_EQ(test, fx->move_limit, (u64)SZ_16M - 1);

	/* Nowhere to go: refused before anything is touched. */
	c.dma_limit = 0;
	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &c), -ERANGE);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_MOVE], 2U);

	dma_buf_detach(dmabuf, attach);
	put_and_flush(dmabuf);
}

/*
 * A late device the exporter refuses makes the core move the storage
 * within its reach and ask again; a failed move fails the attach
 * with its error; an exporter that cannot move keeps -ERANGE.
 */
static void late_attach_moves_storage(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf_attachment *attach;
	struct device *dev;

	dev = dma_buf_test_device(test, "d32", DMA_BIT_MASK(32), 0, SZ_64K,
				  ULONG_MAX);
	fx->attach_ret = -ERANGE;
	fx->move_fixes_attach = true;
	attach = dma_buf_attach(dmabuf, dev);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_ATTACH], 2U);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_MOVE], 1U);
	KUNIT_EXPECT_EQ(test, fx->move_limit,
			dma_buf_test_phys(DMA_BIT_MASK(32)));
	dma_buf_detach(dmabuf, attach);

	fx->attach_ret = -ERANGE;
	fx->move_ret = -ENOMEM;
	attach = dma_buf_attach(dmabuf, dev);
	KUNIT_EXPECT_EQ(test, PTR_ERR(attach), -ENOMEM);
	KUNIT_EXPECT_TRUE(test, list_empty(&dmabuf->attachments));

	/* Moved, and still out of reach: the exporter's answer stands. */
	fx->move_ret = 0;
	fx->move_fixes_attach = false;
	attach = dma_buf_attach(dmabuf, dev);
	KUNIT_EXPECT_EQ(test, PTR_ERR(attach), -ERANGE);
	put_and_flush(dmabuf);
}

static const struct dma_buf_ops fake_unmovable_ops = {
	.attach		  = fake_attach,
	.map_dma_buf	  = fake_map,
	.unmap_dma_buf	  = fake_unmap,
	.release	  = fake_release,
	.kmap_atomic	  = fake_kmap_atomic,
	.kmap		  = fake_kmap,
};

static void move_needs_exporter_support(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_unmovable_ops);
	struct dma_buf_attachment *attach;
	int ret;

	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &anywhere), -EOPNOTSUPP);
	fx->attach_ret = -ERANGE;
	attach = dma_buf_attach(dmabuf, test_device(test, "late"));
	KUNIT_EXPECT_EQ(test, PTR_ERR(attach), -ERANGE);
	KUNIT_EXPECT_EQ(test, fx->calls[OP_ATTACH], 1U);

	EXPECT_MISUSE(test, fx, ret = dma_buf_move(NULL, &anywhere));
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	EXPECT_MISUSE(test, fx, ret = dma_buf_move(dmabuf, NULL));
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	put_and_flush(dmabuf);
}

/* DMA_BUF_IOCTL_SYNC brackets caches; it does not pin. */
static void sync_ioctl_does_not_pin(struct kunit *test)
{
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	struct dma_buf_sync __user *arg = user_page(test);
	struct dma_buf_sync sync = {
		.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW,
	};

	KUNIT_ASSERT_EQ(test, copy_to_user(arg, &sync, sizeof(sync)), 0);
	KUNIT_ASSERT_EQ(test, do_ioctl(dmabuf->file, DMA_BUF_IOCTL_SYNC, arg),
			0);
	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &anywhere), 0);
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
	KUNIT_ASSERT_EQ(test, copy_to_user(arg, &sync, sizeof(sync)), 0);
	KUNIT_EXPECT_EQ(test, do_ioctl(dmabuf->file, DMA_BUF_IOCTL_SYNC, arg),
			0);
	put_and_flush(dmabuf);
}

#ifdef CONFIG_DMA_BUF_DEBUG
/*
 * Ending the access under a kmap is a misuse; the kmap still pins until
 * it is unmapped.
 */
static void kmap_outliving_access_still_pins(struct kunit *test)
{
	struct fake_exporter *fx = test->priv;
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	void *vaddr;

	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, PAGE_SIZE,
						       DMA_FROM_DEVICE), 0);
	vaddr = dma_buf_kmap(dmabuf, 0);
	KUNIT_ASSERT_NOT_NULL(test, vaddr);
	EXPECT_MISUSE(test, fx, dma_buf_end_cpu_access(dmabuf, 0, PAGE_SIZE,
						       DMA_FROM_DEVICE));
	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &anywhere), -EBUSY);
	dma_buf_kunmap(dmabuf, 0, vaddr);
	KUNIT_EXPECT_EQ(test, dma_buf_move(dmabuf, &anywhere), 0);
	put_and_flush(dmabuf);
}
#else
static void kmap_outliving_access_still_pins(struct kunit *test)
{
	kunit_skip(test, "kmaps are counted per buffer with CONFIG_DMA_BUF_DEBUG");
}
#endif

/* bufinfo shows a pinned buffer as such, and only while it is. */
static void bufinfo_shows_pins(struct kunit *test)
{
	struct dma_buf *dmabuf = fake_export(test, &fake_ops);
	bool found;

	live_buffers(test, "\tpinned:", &found);
	KUNIT_EXPECT_FALSE(test, found);
	KUNIT_ASSERT_EQ(test, dma_buf_begin_cpu_access(dmabuf, 0, PAGE_SIZE,
						       DMA_TO_DEVICE), 0);
	live_buffers(test, "\tpinned: 0 mappings held, 1 CPU accesses, 0 kernel mappings\n",
		     &found);
	KUNIT_EXPECT_TRUE(test, found);
	dma_buf_end_cpu_access(dmabuf, 0, PAGE_SIZE, DMA_TO_DEVICE);
	live_buffers(test, "\tpinned:", &found);
	KUNIT_EXPECT_FALSE(test, found);
	put_and_flush(dmabuf);
}

static struct kunit_case dma_buf_core_cases[] = {
	KUNIT_CASE(export_rejects_null_priv),
	KUNIT_CASE(export_rejects_null_ops),
	KUNIT_CASE_PARAM(export_rejects_missing_mandatory_op,
			 missing_op_gen_params),
	KUNIT_CASE_PARAM(export_rejects_bad_size_or_flags,
			 bad_export_gen_params),
	KUNIT_CASE(export_minimal_ops),
	KUNIT_CASE(export_file_flags),
	KUNIT_CASE(export_records_exporter_name),
	KUNIT_CASE(export_pins_owner_module),
	KUNIT_CASE_PARAM(export_allocation_failure, alloc_failure_gen_params),
	KUNIT_CASE(export_without_core_fs),
	KUNIT_CASE(name_outlives_release),
	KUNIT_CASE(export_records_owner),
	KUNIT_CASE(kthread_export_has_no_owner),
	KUNIT_CASE(fd_honours_cloexec),
	KUNIT_CASE(fd_rejects_bad_arguments),
	KUNIT_CASE(get_returns_the_buffer),
	KUNIT_CASE(get_rejects_bad_fds),
	KUNIT_CASE(put_rejects_null),
	KUNIT_CASE_PARAM(release_once_after_last_reference,
			 release_order_gen_params),
	KUNIT_CASE(attach_rejects_null),
	KUNIT_CASE(attach_and_detach),
	KUNIT_CASE(attach_error_leaves_nothing),
	KUNIT_CASE(attach_allocation_failure),
	KUNIT_CASE(detach_rejects_bad_arguments),
	KUNIT_CASE(attach_minimal_ops),
	KUNIT_CASE_PARAM(map_direction_reaches_exporter, direction_gen_params),
	KUNIT_CASE(map_is_cached),
	KUNIT_CASE(map_other_direction_while_in_use),
	KUNIT_CASE(map_other_direction_replaces_unused),
	KUNIT_CASE(map_error_is_not_cached),
	KUNIT_CASE(map_rejects_bad_arguments),
	KUNIT_CASE(unmap_unbalanced_warns),
	KUNIT_CASE(detach_while_mapped),
	KUNIT_CASE(map_exporter_returns_null),
	KUNIT_CASE(map_hides_pages_from_importer),
	KUNIT_CASE(sync_per_transfer),
	KUNIT_CASE(sync_cached_mapping_every_transfer),
	KUNIT_CASE(sync_nested_maps_once),
	KUNIT_CASE(sync_two_devices_alternate),
	KUNIT_CASE(sync_direction_change),
	KUNIT_CASE(sync_cpu_access_while_held),
	KUNIT_CASE(sync_not_after_failed_begin),
	KUNIT_CASE(sync_detach_while_held),
	KUNIT_CASE(sync_ioctl_hands_over_held),
	KUNIT_CASE_PARAM(every_failure_point, walk_gen_params),
	KUNIT_CASE_PARAM(cpu_access_range_checked, bad_range_gen_params),
	KUNIT_CASE(cpu_access_reaches_exporter),
	KUNIT_CASE(cpu_access_error_propagates),
	KUNIT_CASE(cpu_access_optional),
	KUNIT_CASE(cpu_access_rejects_bad_arguments),
	KUNIT_CASE(kmap_maps_pages),
	KUNIT_CASE(kmap_atomic_in_atomic_context),
	KUNIT_CASE(kmap_page_bounds),
	KUNIT_CASE(kunmap_optional),
	KUNIT_CASE(kmap_failure_holds_nothing),
	KUNIT_CASE(kmap_at_most_two),
	KUNIT_CASE(kmap_needs_cpu_access),
	KUNIT_CASE(kmap_of_published_runs),
	KUNIT_CASE(kmap_runs_misuse),
	KUNIT_CASE(vmap_shared_and_counted),
	KUNIT_CASE(vmap_idle_within_budget),
	KUNIT_CASE(vmap_kept_races_moves),
	KUNIT_CASE(vmap_holders_overflow),
	KUNIT_CASE(vmap_purged_when_vmalloc_runs_out),
	KUNIT_CASE(vmap_failure_holds_nothing),
	KUNIT_CASE(vmap_needs_exporter_support),
	KUNIT_CASE(vunmap_misuse),
	{}
};

static struct kunit_suite dma_buf_core_suite = {
	.name = "dma_buf_core",
	.init = dma_buf_test_init,
	.exit = dma_buf_test_exit,
	.test_cases = dma_buf_core_cases,
};

static struct kunit_case dma_buf_negotiation_cases[] = {
	KUNIT_CASE(constraints_of_one_device),
	KUNIT_CASE(constraints_intersect_attached),
	KUNIT_CASE(constraints_narrow_segments),
	KUNIT_CASE(late_segments_move_storage),
	KUNIT_CASE_PARAM(check_segments, segments_gen_params),
	KUNIT_CASE(own_memory_for_bounced_device),
	KUNIT_CASE(check_reach),
	KUNIT_CASE(segment_walk_is_linear),
	KUNIT_CASE_PARAM(segments_follow_memory, follow_gen_params),
	KUNIT_CASE_PARAM(segment_len_respects_constraints,
			 segment_gen_params),
	{}
};

static struct kunit_suite dma_buf_negotiation_suite = {
	.name = "dma_buf_negotiation",
	.init = dma_buf_test_init,
	.exit = dma_buf_test_exit,
	.test_cases = dma_buf_negotiation_cases,
};

static struct kunit_case dma_buf_file_cases[] = {
	KUNIT_CASE(llseek_reports_size),
	KUNIT_CASE_PARAM(sync_ioctl, sync_gen_params),
	KUNIT_CASE(sync_ioctl_errors),
	KUNIT_CASE(set_name_and_fdinfo),
	KUNIT_CASE(bufinfo_lists_buffers),
	KUNIT_CASE(bufinfo_reader_killable),
	KUNIT_CASE_PARAM(mmap_through_fd, mmap_gen_params),
	KUNIT_CASE(mmap_for_importer),
	{}
};

static struct kunit_case dma_buf_move_cases[] = {
	KUNIT_CASE_PARAM(move_refused_while_pinned, pin_way_gen_params),
	KUNIT_CASE(end_cpu_access_pins_until_it_returns),
	KUNIT_CASE(move_drops_cached_mappings_first),
	KUNIT_CASE(move_zaps_userspace_mappings),
	KUNIT_CASE(move_narrows_to_attached_devices),
	KUNIT_CASE(late_attach_moves_storage),
	KUNIT_CASE(move_needs_exporter_support),
	KUNIT_CASE(sync_ioctl_does_not_pin),
	KUNIT_CASE(kmap_outliving_access_still_pins),
	KUNIT_CASE(bufinfo_shows_pins),
	{}
};

static struct kunit_suite dma_buf_move_suite = {
	.name = "dma_buf_move",
	.init = dma_buf_test_init,
	.exit = dma_buf_test_exit,
	.test_cases = dma_buf_move_cases,
};

static struct kunit_suite dma_buf_file_suite = {
	.name = "dma_buf_file",
	.init = dma_buf_test_init,
	.exit = dma_buf_test_exit,
	.test_cases = dma_buf_file_cases,
};

kunit_test_suites(&dma_buf_core_suite, &dma_buf_negotiation_suite,
		  &dma_buf_file_suite, &dma_buf_move_suite);

MODULE_DESCRIPTION("KUnit tests for the dma-buf core");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
