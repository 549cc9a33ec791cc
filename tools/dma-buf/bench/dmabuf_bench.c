// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel half of make bench: the in-kernel operations of the dma-buf
 * API, timed, on whichever dma-buf the kernel has. Built twice by
 * harness/bench.sh, against the base tree's own dma-buf (BENCH_API=upstream)
 * and against the project's (BENCH_API=project); the few calls whose
 * signatures differ go through the b_*() shim below, so that both builds
 * run the same operations in the same order.
 *
 * dmabuf-bench (tools/dma-buf/dmabuf-bench.c) loads it with the fds of
 * system heap buffers it allocated and reads the results back from the
 * kernel log: one "dmabuf_bench: KEY VALUE" line per row. Under QEMU with
 * -icount shift=0 a nanosecond of guest time is one instruction, so each
 * value is instructions per operation (bytes, for the slab rows).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>

#ifdef BENCH_API_upstream
#include <linux/iosys-map.h>
#endif

static unsigned int iters = 1000;
module_param(iters, uint, 0444);
MODULE_PARM_DESC(iters, "scale: each row runs about iters * 10,000 instructions");
static unsigned int live = 100000;
module_param(live, uint, 0444);
MODULE_PARM_DESC(live, "buffers alive for the slab and lookup rows");
static int heap_fd = -1;
module_param(heap_fd, int, 0444);
MODULE_PARM_DESC(heap_fd, "fd of a 1 MiB system heap buffer");
static int map_fds[3] = { -1, -1, -1 };
static int n_map_fds;
module_param_array(map_fds, int, &n_map_fds, 0444);
MODULE_PARM_DESC(map_fds, "fds of system heap buffers to map (1 MiB, 64 MiB, 1 GiB)");

#define MAX_ATTACH	256

/*
 * Repetitions of an operation of about @cost instructions: enough for a
 * loop to span several timer ticks (some ten million instructions at the
 * default @iters), so that the ticks' share of each figure is the same
 * from one build to the next instead of depending on where one falls.
 */
#define REPS(cost)	((unsigned int)max_t(u64, div_u64((u64)iters * 10000, (cost)), 1))

static struct device *devs[MAX_ATTACH];
static struct device_dma_parameters dma_parms[MAX_ATTACH];
static u64 dma_masks[MAX_ATTACH];
static struct sg_table fake_sgt;
static struct page *fake_page;

/*
 * Let the work earlier loops left behind finish (RCU callbacks that free
 * files, dentries and inodes, kfree_rcu() batches, work items), so that
 * no row pays for another's. The pause is idle time, which -icount
 * sleep=off skips.
 */
static void bench_settle(void)
{
	rcu_barrier();
	msleep(100);
}

/* The start of a timed loop, once the machine has settled. */
static u64 bench_start(void)
{
	bench_settle();
	return ktime_get_ns();
}

static void report(const char *key, u64 total, unsigned int n)
{
	pr_info("%s %llu\n", key, div_u64(total, n ?: 1));
}

/* --- the shim ------------------------------------------------------------ */

static struct sg_table *fake_map(struct dma_buf_attachment *attach,
				 enum dma_data_direction dir)
{
	return &fake_sgt;
}

static void fake_unmap(struct dma_buf_attachment *attach,
		       struct sg_table *sgt, enum dma_data_direction dir)
{
}

static void fake_release(struct dma_buf *dmabuf)
{
}

#ifdef BENCH_API_upstream

static int fake_begin(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	return 0;
}

static int fake_end(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	return 0;
}

/* Upstream caches an importer's mapping only when asked to. */
static const struct dma_buf_ops fake_ops = {
	.cache_sgt_mapping = true,
	.map_dma_buf	  = fake_map,
	.unmap_dma_buf	  = fake_unmap,
	.release	  = fake_release,
	.begin_cpu_access = fake_begin,
	.end_cpu_access	  = fake_end,
};

static struct dma_buf *b_export(void)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);

	info.ops = &fake_ops;
	info.size = PAGE_SIZE;
	info.flags = O_RDWR;
	info.priv = &fake_sgt;
	return dma_buf_export(&info);
}

static struct sg_table *b_map(struct dma_buf_attachment *a)
{
	return dma_buf_map_attachment_unlocked(a, DMA_BIDIRECTIONAL);
}

static void b_unmap(struct dma_buf_attachment *a, struct sg_table *sgt)
{
	dma_buf_unmap_attachment_unlocked(a, sgt, DMA_BIDIRECTIONAL);
}

static int b_begin(struct dma_buf *dmabuf)
{
	return dma_buf_begin_cpu_access(dmabuf, DMA_BIDIRECTIONAL);
}

static void b_end(struct dma_buf *dmabuf)
{
	dma_buf_end_cpu_access(dmabuf, DMA_BIDIRECTIONAL);
}

static void *b_vmap(struct dma_buf *dmabuf)
{
	struct iosys_map map;
	int ret = dma_buf_vmap_unlocked(dmabuf, &map);

	return ret ? ERR_PTR(ret) : map.vaddr;
}

static void b_vunmap(struct dma_buf *dmabuf, void *vaddr)
{
	struct iosys_map map = IOSYS_MAP_INIT_VADDR(vaddr);

	dma_buf_vunmap_unlocked(dmabuf, &map);
}

#define HAVE_KMAP 0
static void *b_kmap(struct dma_buf *dmabuf, unsigned long n)
{
	return NULL;
}

static void b_kunmap(struct dma_buf *dmabuf, unsigned long n, void *vaddr)
{
}

#else

static int fake_begin(struct dma_buf *dmabuf, size_t start, size_t len,
		      enum dma_data_direction dir)
{
	return 0;
}

static void fake_end(struct dma_buf *dmabuf, size_t start, size_t len,
		     enum dma_data_direction dir)
{
}

static void *fake_kmap(struct dma_buf *dmabuf, unsigned long page_num)
{
	return page_address(fake_page);
}

static const struct dma_buf_ops fake_ops = {
	.map_dma_buf	  = fake_map,
	.unmap_dma_buf	  = fake_unmap,
	.release	  = fake_release,
	.begin_cpu_access = fake_begin,
	.end_cpu_access	  = fake_end,
	.kmap		  = fake_kmap,
	.kmap_atomic	  = fake_kmap,
};

static struct dma_buf *b_export(void)
{
	return dma_buf_export(&fake_sgt, &fake_ops, PAGE_SIZE, O_RDWR);
}

static struct sg_table *b_map(struct dma_buf_attachment *a)
{
	return dma_buf_map_attachment(a, DMA_BIDIRECTIONAL);
}

static void b_unmap(struct dma_buf_attachment *a, struct sg_table *sgt)
{
	dma_buf_unmap_attachment(a, sgt, DMA_BIDIRECTIONAL);
}

static int b_begin(struct dma_buf *dmabuf)
{
	return dma_buf_begin_cpu_access(dmabuf, 0, dmabuf->size,
					DMA_BIDIRECTIONAL);
}

static void b_end(struct dma_buf *dmabuf)
{
	dma_buf_end_cpu_access(dmabuf, 0, dmabuf->size, DMA_BIDIRECTIONAL);
}

#ifdef BENCH_NO_VMAP
/* The project before it had dma_buf_vmap() (make bench's baseline runs). */
static void *b_vmap(struct dma_buf *dmabuf)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static void b_vunmap(struct dma_buf *dmabuf, void *vaddr)
{
}
#else
static void *b_vmap(struct dma_buf *dmabuf)
{
	return dma_buf_vmap(dmabuf);
}

static void b_vunmap(struct dma_buf *dmabuf, void *vaddr)
{
	dma_buf_vunmap(dmabuf, vaddr);
}
#endif

#define HAVE_KMAP 1
static void *b_kmap(struct dma_buf *dmabuf, unsigned long n)
{
	return dma_buf_kmap(dmabuf, n);
}

static void b_kunmap(struct dma_buf *dmabuf, unsigned long n, void *vaddr)
{
	dma_buf_kunmap(dmabuf, n, vaddr);
}

#endif

/* --- rows run in a kernel thread: releases are flushed synchronously --- */

static u64 slab_bytes(void)
{
	return (global_node_page_state_pages(NR_SLAB_RECLAIMABLE_B) +
		global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B)) *
		PAGE_SIZE;
}

/* Export and release @n buffers, @n at a time; instructions per buffer. */
static int bench_export(const char *key, unsigned int n)
{
	struct dma_buf **bufs;
	unsigned int i;
	u64 t;

	bufs = kvcalloc(n, sizeof(*bufs), GFP_KERNEL);
	if (!bufs)
		return -ENOMEM;
	t = bench_start();
	for (i = 0; i < n; i++) {
		bufs[i] = b_export();
		if (IS_ERR(bufs[i]))
			break;
	}
	while (i--)
		dma_buf_put(bufs[i]);
	flush_delayed_fput();
	report(key, ktime_get_ns() - t, n);
	kvfree(bufs);
	return 0;
}

static int bench_thread_rows(void)
{
	struct dma_buf **bufs;
	unsigned int i, n = max(live, 1U);
	u64 before;
	int ret;

	ret = bench_export("export_put", REPS(1000));
	if (ret)
		return ret;

	/* Slab per live buffer, and export among many live ones. */
	bufs = kvcalloc(n, sizeof(*bufs), GFP_KERNEL);
	if (!bufs)
		return -ENOMEM;
	flush_delayed_fput();
	/* The export row's frees must be done before counting. */
	bench_settle();
	before = slab_bytes();
	for (i = 0; i < n; i++) {
		bufs[i] = b_export();
		if (IS_ERR(bufs[i])) {
			ret = PTR_ERR(bufs[i]);
			break;
		}
	}
	if (!ret) {
		report("slab_per_buffer", slab_bytes() - before, n);
		ret = bench_export("export_put_live", REPS(1000));
	}
	while (i--)
		dma_buf_put(bufs[i]);
	flush_delayed_fput();
	kvfree(bufs);
	return ret;
}

struct thread_work {
	struct completion done;
	int ret;
};

static int bench_thread(void *data)
{
	struct thread_work *w = data;

	w->ret = bench_thread_rows();
	complete(&w->done);
	return 0;
}

/* --- rows run in the loading process, which has fds ------------------- */

static int fd_floor_release(struct inode *inode, struct file *file)
{
	return 0;
}

static const struct file_operations fd_floor_fops = {
	.release = fd_floor_release,
};

/* fd + get + put + close of a buffer, and of a bare file (the floor). */
static int bench_fds(void)
{
	struct dma_buf *dmabuf, *got;
	unsigned int i, n = REPS(400);
	struct file *file;
	int fd;
	u64 t;

	dmabuf = b_export();
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	t = bench_start();
	for (i = 0; i < n; i++) {
		get_dma_buf(dmabuf);
		fd = dma_buf_fd(dmabuf, O_CLOEXEC);
		if (fd < 0)
			break;
		got = dma_buf_get(fd);
		if (!IS_ERR(got))
			dma_buf_put(got);
		close_fd(fd);
	}
	report("fd_get_put_close", ktime_get_ns() - t, n);

	file = anon_inode_getfile("dmabuf_bench", &fd_floor_fops, NULL, O_RDWR);
	if (!IS_ERR(file)) {
		t = bench_start();
		for (i = 0; i < n; i++) {
			fd = get_unused_fd_flags(O_CLOEXEC);
			if (fd < 0)
				break;
			fd_install(fd, get_file(file));
			fput(fget(fd));
			close_fd(fd);
		}
		report("floor_fd_get_put_close", ktime_get_ns() - t, n);
		fput(file);
	}
	dma_buf_put(dmabuf);
	return 0;
}

/* get + put of a buffer's fd; the caller keeps other buffers alive. */
static void bench_get_put(const char *key)
{
	struct dma_buf *dmabuf, *got;
	unsigned int i, n = REPS(50);
	int fd;
	u64 t;

	dmabuf = b_export();
	if (IS_ERR(dmabuf))
		return;
	fd = dma_buf_fd(dmabuf, O_CLOEXEC);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return;
	}
	t = bench_start();
	for (i = 0; i < n; i++) {
		got = dma_buf_get(fd);
		if (!IS_ERR(got))
			dma_buf_put(got);
	}
	report(key, ktime_get_ns() - t, n);
	close_fd(fd);
}

static int bench_lookups(void)
{
	struct dma_buf **bufs;
	unsigned int i, n = 0;

	bench_get_put("get_put");
	bufs = kvcalloc(max(live, 1U), sizeof(*bufs), GFP_KERNEL);
	if (!bufs)
		return -ENOMEM;
	for (; n < min(live, 2000U); n++) {
		bufs[n] = b_export();
		if (IS_ERR(bufs[n]))
			goto out;
	}
	bench_get_put("get_put_2000_live");
	for (; n < live; n++) {
		bufs[n] = b_export();
		if (IS_ERR(bufs[n]))
			goto out;
	}
	bench_get_put("get_put_live");
out:
	for (i = 0; i < n; i++)
		dma_buf_put(bufs[i]);
	kvfree(bufs);
	return 0;
}

/* attach + detach and cached map + unmap with @others attached as well. */
static struct dma_buf_attachment *held[MAX_ATTACH];

static int bench_attachments(unsigned int others)
{
	struct dma_buf_attachment *a;
	struct dma_buf *dmabuf;
	struct sg_table *sgt;
	unsigned int i, n, h;
	char key[48];
	int ret = 0;
	u64 t;

	dmabuf = b_export();
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	for (h = 0; h < others; h++) {
		held[h] = dma_buf_attach(dmabuf, devs[h + 1]);
		if (IS_ERR(held[h])) {
			ret = PTR_ERR(held[h]);
			goto out;
		}
		sgt = b_map(held[h]);
		if (!IS_ERR(sgt))
			b_unmap(held[h], sgt);
	}

	n = REPS(300);
	t = bench_start();
	for (i = 0; i < n; i++) {
		a = dma_buf_attach(dmabuf, devs[0]);
		if (IS_ERR(a))
			break;
		dma_buf_detach(dmabuf, a);
	}
	snprintf(key, sizeof(key), "attach_detach_%u", others + 1);
	report(key, ktime_get_ns() - t, n);

	a = dma_buf_attach(dmabuf, devs[0]);
	if (IS_ERR(a)) {
		ret = PTR_ERR(a);
		goto out;
	}
	sgt = b_map(a);
	if (!IS_ERR(sgt))
		b_unmap(a, sgt);
	n = REPS(130);
	t = bench_start();
	for (i = 0; i < n; i++) {
		sgt = b_map(a);
		if (IS_ERR(sgt))
			break;
		b_unmap(a, sgt);
	}
	snprintf(key, sizeof(key), "map_unmap_cached_%u", others + 1);
	report(key, ktime_get_ns() - t, n);
	dma_buf_detach(dmabuf, a);
out:
	while (h--)
		dma_buf_detach(dmabuf, held[h]);
	dma_buf_put(dmabuf);
	return ret;
}

/* begin + end of a CPU access of @dmabuf, reported as @key. */
static void bench_begin_end(struct dma_buf *dmabuf, const char *key)
{
	unsigned int i, n = REPS(150);
	u64 t;

	t = bench_start();
	for (i = 0; i < n; i++) {
		if (b_begin(dmabuf))
			break;
		b_end(dmabuf);
	}
	report(key, ktime_get_ns() - t, n);
}

static int bench_cpu_access(void)
{
	struct dma_buf *dmabuf = b_export();

	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	bench_begin_end(dmabuf, "begin_end");
	dma_buf_put(dmabuf);
	return 0;
}

static char copy_dst[PAGE_SIZE];

/*
 * Page mappings of a 1 MiB heap buffer (the project's API only) and the
 * floor: a bare kmap_local_page() pair on a page of its own, with and
 * without a copy of the page by the same routine. Both loops map one
 * page over and over.
 */
static void bench_kmap(struct dma_buf *dmabuf)
{
	unsigned int i, n = REPS(500);
	void *vaddr;
	u64 t;

	t = bench_start();
	for (i = 0; i < n; i++) {
		vaddr = kmap_local_page(fake_page);
		barrier_data(vaddr);
		kunmap_local(vaddr);
	}
	report("floor_kmap_kunmap", ktime_get_ns() - t, n);
	t = bench_start();
	for (i = 0; i < n; i++) {
		vaddr = kmap_local_page(fake_page);
		memcpy(copy_dst, vaddr, PAGE_SIZE);
		barrier_data(copy_dst);
		kunmap_local(vaddr);
	}
	report("floor_kmap_copy_kunmap", ktime_get_ns() - t, n);

	if (!HAVE_KMAP || b_begin(dmabuf))
		return;
	t = bench_start();
	for (i = 0; i < n; i++) {
		vaddr = b_kmap(dmabuf, 1);
		barrier_data(vaddr);
		b_kunmap(dmabuf, 1, vaddr);
	}
	report("kmap_kunmap", ktime_get_ns() - t, n);
	t = bench_start();
	for (i = 0; i < n; i++) {
		vaddr = b_kmap(dmabuf, 1);
		if (vaddr)
			memcpy(copy_dst, vaddr, PAGE_SIZE);
		barrier_data(copy_dst);
		b_kunmap(dmabuf, 1, vaddr);
	}
	report("kmap_copy_kunmap", ktime_get_ns() - t, n);
	b_end(dmabuf);

	/* The old way to see 1 MiB: every page in turn. */
	n = REPS(20000);
	t = bench_start();
	for (i = 0; i < n; i++) {
		unsigned long p;

		if (b_begin(dmabuf))
			break;
		for (p = 0; p < dmabuf->size >> PAGE_SHIFT; p++) {
			vaddr = b_kmap(dmabuf, p);
			barrier_data(vaddr);
			b_kunmap(dmabuf, p, vaddr);
		}
		b_end(dmabuf);
	}
	report("cpu_view_1m_kmaps", ktime_get_ns() - t, n);
}

/* @n times: begin, vmap, vunmap, end. */
static void bench_vmap_loop(struct dma_buf *dmabuf, const char *key,
			    unsigned int n)
{
	unsigned int i;
	void *vaddr;
	u64 t;

	t = bench_start();
	for (i = 0; i < n; i++) {
		if (b_begin(dmabuf))
			break;
		vaddr = b_vmap(dmabuf);
		if (!IS_ERR(vaddr))
			b_vunmap(dmabuf, vaddr);
		b_end(dmabuf);
	}
	report(key, ktime_get_ns() - t, n);
}

/* A linear view of 1 MiB: created each time, and shared with a holder. */
static void bench_vmap(struct dma_buf *dmabuf)
{
	void *held;

	bench_vmap_loop(dmabuf, "cpu_view_1m_vmap", REPS(50000));
	held = b_vmap(dmabuf);
	if (IS_ERR(held))
		return;
	bench_vmap_loop(dmabuf, "cpu_view_1m_vmap_shared", REPS(300));
	b_vunmap(dmabuf, held);
}

/* attach + map + unmap + detach of a whole heap buffer: a device's view. */
static void bench_map_size(struct dma_buf *dmabuf)
{
	unsigned int i, n = REPS(15000 * (dmabuf->size >> 20));
	struct dma_buf_attachment *a;
	struct sg_table *sgt;
	char key[48];
	u64 t;

	/* The storage exists before the clock starts, in both kernels. */
	if (b_begin(dmabuf))
		return;
	b_end(dmabuf);
	t = bench_start();
	for (i = 0; i < n; i++) {
		a = dma_buf_attach(dmabuf, devs[0]);
		if (IS_ERR(a))
			break;
		sgt = b_map(a);
		if (!IS_ERR(sgt))
			b_unmap(a, sgt);
		dma_buf_detach(dmabuf, a);
	}
	snprintf(key, sizeof(key), "map_%zum", dmabuf->size >> 20);
	report(key, ktime_get_ns() - t, n);
}

static int bench_heap_rows(void)
{
	struct dma_buf *dmabuf;
	int i;

	if (heap_fd >= 0) {
		dmabuf = dma_buf_get(heap_fd);
		if (IS_ERR(dmabuf))
			return PTR_ERR(dmabuf);
		/*
		 * begin + end with the exporter's own work and locking, where
		 * bench_cpu_access()'s exporter does nothing; the first pair
		 * gets the pages, before the clock starts.
		 */
		if (!b_begin(dmabuf)) {
			b_end(dmabuf);
			bench_begin_end(dmabuf, "begin_end_heap");
		}
		bench_kmap(dmabuf);
		bench_vmap(dmabuf);
		dma_buf_put(dmabuf);
	}
	for (i = 0; i < n_map_fds; i++) {
		dmabuf = dma_buf_get(map_fds[i]);
		if (IS_ERR(dmabuf))
			return PTR_ERR(dmabuf);
		bench_map_size(dmabuf);
		dma_buf_put(dmabuf);
	}
	return 0;
}

/* --- setup ---------------------------------------------------------------- */

static void bench_devices_put(void)
{
	int i;

	for (i = 0; i < MAX_ATTACH; i++)
		if (!IS_ERR_OR_NULL(devs[i]))
			root_device_unregister(devs[i]);
}

/*
 * Devices that DMA directly, with 64-bit masks and no segment limit. The
 * masks are set as a driver sets them, with dma_set_mask_and_coherent(),
 * which also tells the DMA API whether the device needs cache maintenance
 * (a coherent x86 device does not, and its sync calls return at once).
 */
static int bench_devices_get(void)
{
	char name[32];
	int i, ret;

	for (i = 0; i < MAX_ATTACH; i++) {
		snprintf(name, sizeof(name), "dmabuf_bench.%d", i);
		devs[i] = root_device_register(name);
		if (IS_ERR(devs[i]))
			return PTR_ERR(devs[i]);
		devs[i]->dma_mask = &dma_masks[i];
		devs[i]->dma_parms = &dma_parms[i];
		ret = dma_set_mask_and_coherent(devs[i], DMA_BIT_MASK(64));
		if (ret)
			return ret;
		dma_set_max_seg_size(devs[i], UINT_MAX);
	}
	return 0;
}

static int __init dmabuf_bench_init(void)
{
	struct thread_work w = { .ret = 0 };
	struct task_struct *thread;
	int ret;

	fake_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!fake_page)
		return -ENOMEM;
	ret = sg_alloc_table(&fake_sgt, 1, GFP_KERNEL);
	if (ret)
		goto out_free_page;
	sg_set_page(fake_sgt.sgl, fake_page, PAGE_SIZE, 0);
	sg_dma_address(fake_sgt.sgl) = page_to_phys(fake_page);
	sg_dma_len(fake_sgt.sgl) = PAGE_SIZE;
	ret = bench_devices_get();
	if (ret)
		goto out_put_devices;

	pr_info("begin iters=%u live=%u\n", iters, live);
	init_completion(&w.done);
	thread = kthread_run(bench_thread, &w, "dmabuf_bench");
	if (IS_ERR(thread)) {
		ret = PTR_ERR(thread);
		goto out_put_devices;
	}
	wait_for_completion(&w.done);
	ret = w.ret ?: bench_fds() ?: bench_lookups() ?:
	      bench_attachments(0) ?: bench_attachments(15) ?:
	      bench_attachments(255) ?: bench_cpu_access() ?:
	      bench_heap_rows();
	pr_info("end %d\n", ret);

out_put_devices:
	bench_devices_put();
	sg_free_table(&fake_sgt);
out_free_page:
	__free_page(fake_page);
	return ret;
}
module_init(dmabuf_bench_init);

static void __exit dmabuf_bench_exit(void)
{
}
module_exit(dmabuf_bench_exit);

#ifdef BENCH_API_upstream
/* Upstream exports its API in a symbol namespace. */
MODULE_IMPORT_NS(DMA_BUF);
#endif
MODULE_DESCRIPTION("dma-buf benchmark: in-kernel operations, timed");
MODULE_LICENSE("GPL");
