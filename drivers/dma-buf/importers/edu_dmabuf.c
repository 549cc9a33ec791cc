// SPDX-License-Identifier: GPL-2.0-only
/*
 * edu_dmabuf: an importer of dma-bufs for QEMU's educational PCI device.
 *
 * The device ("-device edu") has a DMA engine that copies between system
 * memory and a 4 KiB buffer of its own at device address 0x40000, one
 * transfer at a time, each completing 100 ms (virtual time) after it
 * starts, with an interrupt. Its registers are the only thing it exposes
 * over MMIO: its buffer is reachable only by DMA.
 */

#include <linux/crc32.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/refcount.h>
#include <linux/scatterlist.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <uapi/linux/edu-dmabuf.h>

/**
 * DOC: edu importer
 *
 * One device node per edu device, /dev/edu/<PCI name> (the test bed's are
 * /dev/edu/0000:00:04.0 and /dev/edu/0000:00:05.0). Its ioctls take a
 * dma-buf fd and a byte range of the buffer:
 *
 * - EDU_DMABUF_IOCTL_TO_DEVICE: the device reads the range by DMA. Each
 *   chunk it received is sent back by DMA into a buffer of the driver's
 *   own, and the call returns the CRC-32 of what came back: what the
 *   device saw, not what the CPU wrote.
 * - EDU_DMABUF_IOCTL_FROM_DEVICE: the driver hands the device a seeded
 *   pattern (edu_dmabuf_pattern()) by DMA, and the device writes it into
 *   the range by DMA.
 * - EDU_DMABUF_IOCTL_MAP_INFO: the device's DMA mask and the DMA segments
 *   of its mapping of the buffer, or with the flag
 *   EDU_DMABUF_MAP_INFO_PIECES its pieces (segments that follow each
 *   other in the device's DMA address space make one).
 * - EDU_DMABUF_IOCTL_ATTACH and _DETACH: keep the buffer attached to the
 *   device between calls (until detach or close), so that an exporter
 *   that allocates at first use counts the device in. Without them, each
 *   call attaches and detaches around its own work. With the flag
 *   EDU_DMABUF_ATTACH_ONE_PIECE the attachment states that the device
 *   takes the buffer in one piece, contiguous in its DMA address space
 *   (dma_buf_attach_segments()), as a device without scatter-gather
 *   would: the edu device does not need it, but it lets a test see where
 *   exporters place such a buffer.
 * - EDU_DMABUF_IOCTL_KMAP_CRC: no DMA, the kernel CPU's view: the CRC-32
 *   of the range read through dma_buf_kmap() and dma_buf_kmap_atomic()
 *   on alternate pages, or with the flag EDU_DMABUF_XFER_VMAP through
 *   dma_buf_vmap(), inside a CPU-access bracket. Tells whether an
 *   exporter's kernel mappings show what a device wrote.
 *
 * Every call goes through the dma-buf core: dma_buf_get(),
 * dma_buf_attach(), dma_buf_map_attachment(), DMA through the DMA
 * addresses of the mapping and nothing else, then unmap, detach and put.
 * Transfers are cut into chunks of at most 4095 bytes that never cross a
 * segment of the mapping (QEMU 7.2 aborts on a transfer that ends at the
 * very end of the device's buffer). A call holds its reference to the
 * buffer until the device is done, so a descriptor closed meanwhile does
 * not free memory under the DMA.
 *
 * The device does one chunk at a time, and the driver holds the device
 * only for one chunk: transfers of several processes interleave chunk by
 * chunk, and neither close() nor the removal of the device waits for more
 * than the chunk in flight. A transfer, or a process waiting for the
 * device, stops at a signal between chunks.
 *
 * A device writes into a buffer (EDU_DMABUF_IOCTL_FROM_DEVICE) only if the
 * buffer's file is open for writing, as write(2) requires of a
 * descriptor: a buffer allocated O_RDONLY can be read by the device, but
 * a write into it fails with EBADF.
 *
 * Errors: EBADF (not a descriptor, or a device write into a read-only
 * buffer), EINVAL (not a dma-buf, a flag the call does not take, a range
 * that is empty, overflows or leaves the buffer), ERANGE (the buffer's
 * storage is out of the device's reach), EINTR (a signal arrived; the
 * chunk in flight finished, later ones did not start), ETIMEDOUT (the
 * device did not complete within the module parameter timeout_ms; it is
 * then unusable, EIO, and the buffer stays mapped until the device is
 * removed), ENODEV (the device was removed), EEXIST and ENOENT (attach
 * twice, detach what was not attached), EOPNOTSUPP (EDU_DMABUF_XFER_VMAP
 * on a buffer whose exporter has no linear kernel mapping), ENOMEM.
 *
 * The device cannot report its DMA mask: it is 28 bits unless the module
 * parameter dma_bits names the device, as "00:05.0=32" or a
 * comma-separated list of such entries.
 */

#define EDU_REG_ID		0x00
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_ID_MAGIC		0xed	/* low byte of the ID register */
#define EDU_DMA_START		BIT(0)
#define EDU_DMA_TO_RAM		BIT(1)	/* device to memory; else memory to device */
#define EDU_DMA_IRQ		BIT(2)
#define EDU_IRQ_DMA		0x100

#define EDU_BUF_ADDR		0x40000	/* the device's own buffer */
#define EDU_CHUNK		4095
#define EDU_DEFAULT_BITS	28

static char *dma_bits = "";
module_param(dma_bits, charp, 0444);
MODULE_PARM_DESC(dma_bits,
		 "DMA mask width per device, as \"SLOT=BITS[,...]\" with SLOT a PCI name with or without domain; others get 28");

static unsigned int timeout_ms = 5000;
module_param(timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms,
		 "How long one DMA may take before the device is declared hung (ms; transfers take 100)");

/*
 * A buffer a file attached to the device (EDU_DMABUF_IOCTL_ATTACH). It is
 * released when its last user lets go: the registration, until detach,
 * close or removal, and each transfer using it.
 */
struct edu_attachment {
	struct list_head node;		/* on edu->attachments; empty once unregistered */
	refcount_t users;
	struct file *owner;
	struct dma_buf *dmabuf;		/* holds a reference */
	struct dma_buf_attachment *attach;
};

/*
 * A buffer mapped for the device by one call: through its file's
 * registered attachment, or through a temporary one. After a timeout it
 * is parked on edu->parked until the device is removed.
 */
struct edu_mapping {
	struct list_head node;
	struct dma_buf *dmabuf;		/* the call's reference */
	struct edu_attachment *ea;	/* a user reference, or NULL */
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	enum dma_data_direction dir;
};

struct edu_dev {
	struct kref ref;
	/* Serialises the DMA engine, protects everything below. */
	struct mutex lock;
	struct pci_dev *pdev;		/* NULL once the device is removed */
	void __iomem *mmio;
	unsigned int dma_bits;
	bool broken;			/* a transfer timed out */
	unsigned int active;		/* calls using the device; remove waits */
	wait_queue_head_t idle;
	struct completion done;
	void *bounce;			/* one chunk, coherent, the driver's own */
	dma_addr_t bounce_dma;
	struct list_head attachments;
	struct list_head parked;
	struct miscdevice misc;
	char name[32];
	char nodename[32];
};

static void edu_free(struct kref *ref)
{
	struct edu_dev *edu = container_of(ref, struct edu_dev, ref);

	mutex_destroy(&edu->lock);
	kfree(edu);
}

static irqreturn_t edu_irq(int irq, void *data)
{
	struct edu_dev *edu = data;
	u32 status = readl(edu->mmio + EDU_REG_IRQ_STATUS);

	if (!status)
		return IRQ_NONE;
	writel(status, edu->mmio + EDU_REG_IRQ_ACK);
	if (status & EDU_IRQ_DMA)
		complete(&edu->done);
	return IRQ_HANDLED;
}

/* One transfer of the DMA engine, waited for. */
static int edu_dma(struct edu_dev *edu, dma_addr_t src, dma_addr_t dst,
		   u32 len, bool to_ram)
{
	lockdep_assert_held(&edu->lock);

	reinit_completion(&edu->done);
	/* 32-bit writes: the device's masks are at most 32 bits wide. */
	writel(lower_32_bits(src), edu->mmio + EDU_REG_DMA_SRC);
	writel(lower_32_bits(dst), edu->mmio + EDU_REG_DMA_DST);
	writel(len, edu->mmio + EDU_REG_DMA_COUNT);
	writel(EDU_DMA_START | EDU_DMA_IRQ | (to_ram ? EDU_DMA_TO_RAM : 0),
	       edu->mmio + EDU_REG_DMA_CMD);
	/*
	 * Not interruptible: the memory must outlive the DMA. One DMA is
	 * short; callers check for signals between them.
	 */
	/* timeout_ms is a module parameter root may change: read it once. */
	if (!wait_for_completion_timeout(&edu->done,
					 msecs_to_jiffies(READ_ONCE(timeout_ms))))
		return -ETIMEDOUT;
	return 0;
}

/*
 * Take the edu lock for a device that is still there and working; a
 * fatal signal stops the wait.
 */
static int edu_lock_usable(struct edu_dev *edu)
{
	if (mutex_lock_killable(&edu->lock))
		return -EINTR;
	if (!edu->pdev) {
		mutex_unlock(&edu->lock);
		return -ENODEV;
	}
	if (edu->broken) {
		mutex_unlock(&edu->lock);
		return -EIO;
	}
	return 0;
}

/*
 * Start a call that uses the device: the device's removal waits for it
 * to edu_leave(). Returns the device to attach, or an ERR_PTR().
 */
static struct device *edu_enter(struct edu_dev *edu)
{
	struct device *dev;
	int ret;

	ret = edu_lock_usable(edu);
	if (ret)
		return ERR_PTR(ret);
	edu->active++;
	dev = &edu->pdev->dev;
	mutex_unlock(&edu->lock);
	return dev;
}

static void edu_leave(struct edu_dev *edu)
{
	mutex_lock(&edu->lock);
	if (!--edu->active)
		wake_up_all(&edu->idle);
	mutex_unlock(&edu->lock);
}

/* The registered attachment of @dmabuf by @file, if any. */
static struct edu_attachment *edu_find(struct edu_dev *edu, struct file *file,
				       struct dma_buf *dmabuf)
{
	struct edu_attachment *ea;

	lockdep_assert_held(&edu->lock);
	list_for_each_entry(ea, &edu->attachments, node)
		if (ea->owner == file && ea->dmabuf == dmabuf)
			return ea;
	return NULL;
}

static void edu_put_attachment(struct edu_attachment *ea)
{
	if (!refcount_dec_and_test(&ea->users))
		return;
	dma_buf_detach(ea->dmabuf, ea->attach);
	dma_buf_put(ea->dmabuf);
	kfree(ea);
}

/*
 * Map @dmabuf for the device in @dir: through @file's registered
 * attachment if it has one, else through a temporary attachment. The
 * caller is between edu_enter() and edu_leave().
 */
static struct edu_mapping *edu_map(struct edu_dev *edu, struct device *dev,
				   struct file *file, struct dma_buf *dmabuf,
				   enum dma_data_direction dir)
{
	struct edu_mapping *m;
	int ret;

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->dmabuf = dmabuf;
	m->dir = dir;

	mutex_lock(&edu->lock);
	m->ea = edu_find(edu, file, dmabuf);
	if (m->ea)
		refcount_inc(&m->ea->users);
	mutex_unlock(&edu->lock);

	m->attach = m->ea ? m->ea->attach : dma_buf_attach(dmabuf, dev);
	if (IS_ERR(m->attach)) {
		ret = PTR_ERR(m->attach);
		goto err_free;
	}
	m->sgt = dma_buf_map_attachment(m->attach, dir);
	if (IS_ERR(m->sgt)) {
		ret = PTR_ERR(m->sgt);
		goto err_detach;
	}
	return m;

err_detach:
	if (m->ea)
		edu_put_attachment(m->ea);
	else
		dma_buf_detach(dmabuf, m->attach);
err_free:
	kfree(m);
	return ERR_PTR(ret);
}

/* Undo edu_map(); the call's reference to the buffer stays the caller's. */
static void edu_unmap(struct edu_mapping *m)
{
	dma_buf_unmap_attachment(m->attach, m->sgt, m->dir);
	if (m->ea)
		edu_put_attachment(m->ea);
	else
		dma_buf_detach(m->dmabuf, m->attach);
	kfree(m);
}

/*
 * A DMA timed out: the device may still write through the mapping. Keep
 * it, its attachment and the call's reference to the buffer until the
 * device is removed (with bus mastering off), and refuse any further
 * work.
 */
static void edu_park(struct edu_dev *edu, struct edu_mapping *m)
{
	lockdep_assert_held(&edu->lock);
	edu->broken = true;
	dev_err(&edu->pdev->dev, "DMA did not complete; device disabled\n");
	list_add(&m->node, &edu->parked);
}

/*
 * Read a transfer request and look up its buffer, with a reference; the
 * range must be non-empty and inside the buffer.
 */
static struct dma_buf *edu_get_xfer(void __user *arg, struct edu_dmabuf_xfer *x,
				    u32 valid_flags)
{
	struct dma_buf *dmabuf;
	u64 end;

	if (copy_from_user(x, arg, sizeof(*x)))
		return ERR_PTR(-EFAULT);
	if (x->flags & ~valid_flags)
		return ERR_PTR(-EINVAL);
	dmabuf = dma_buf_get(x->fd);
	if (IS_ERR(dmabuf))
		return dmabuf;
	if (!x->len || check_add_overflow(x->offset, x->len, &end) ||
	    end > dmabuf->size) {
		dma_buf_put(dmabuf);
		return ERR_PTR(-EINVAL);
	}
	return dmabuf;
}

/* Move one chunk between memory at @addr and the device, both ways round. */
static int edu_chunk(struct edu_dev *edu, dma_addr_t addr, u32 n,
		     bool to_device, struct edu_dmabuf_xfer *x, u64 pos,
		     u32 *crc)
{
	u8 *bounce = edu->bounce;
	int ret;
	u32 i;

	lockdep_assert_held(&edu->lock);
	if (to_device) {
		ret = edu_dma(edu, addr, EDU_BUF_ADDR, n, false);
		if (!ret)
			ret = edu_dma(edu, EDU_BUF_ADDR, edu->bounce_dma, n, true);
		if (!ret)
			*crc = crc32_le(*crc, bounce, n);
		return ret;
	}

	for (i = 0; i < n; i++)
		bounce[i] = edu_dmabuf_pattern(x->seed, pos + i);
	ret = edu_dma(edu, edu->bounce_dma, EDU_BUF_ADDR, n, false);
	if (!ret)
		ret = edu_dma(edu, EDU_BUF_ADDR, addr, n, true);
	return ret;
}

/*
 * One chunk, holding the device only for it. A timed-out chunk parks the
 * mapping (then owned by the device's removal) and returns -ETIMEDOUT.
 */
static int edu_chunk_locked(struct edu_dev *edu, struct edu_mapping *m,
			    dma_addr_t addr, u32 n, bool to_device,
			    struct edu_dmabuf_xfer *x, u64 pos, u32 *crc)
{
	int ret;

	if (signal_pending(current))
		return -EINTR;
	ret = edu_lock_usable(edu);
	if (ret)
		return ret;
	ret = edu_chunk(edu, addr, n, to_device, x, pos, crc);
	if (ret == -ETIMEDOUT)
		edu_park(edu, m);
	mutex_unlock(&edu->lock);
	return ret;
}

/* Walk the DMA segments of the mapping over the transfer's range. */
static int edu_transfer(struct edu_dev *edu, struct edu_mapping *m,
			struct edu_dmabuf_xfer *x, bool to_device, u32 *crc)
{
	u64 seg_start = 0, from, to, end = x->offset + x->len;
	struct scatterlist *sg;
	unsigned int i;
	u32 n;
	int ret;

	for_each_sgtable_dma_sg(m->sgt, sg, i) {
		from = max_t(u64, x->offset, seg_start);
		to = min_t(u64, end, seg_start + sg_dma_len(sg));
		for (; from < to; from += n) {
			n = min_t(u64, to - from, EDU_CHUNK);
			ret = edu_chunk_locked(edu, m, sg_dma_address(sg) +
					       from - seg_start, n, to_device,
					       x, from - x->offset, crc);
			if (ret)
				return ret;
		}
		seg_start += sg_dma_len(sg);
	}
	return 0;
}

static long edu_ioctl_xfer(struct edu_dev *edu, struct file *file,
			   void __user *arg, bool to_device)
{
	enum dma_data_direction dir = to_device ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	struct edu_dmabuf_xfer x;
	struct edu_mapping *m;
	struct dma_buf *dmabuf;
	struct device *dev;
	u32 crc = ~0U;
	int ret;

	dmabuf = edu_get_xfer(arg, &x, 0);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	/* The device writes only where the buffer's file may be written. */
	if (!to_device && !(dmabuf->file->f_mode & FMODE_WRITE)) {
		ret = -EBADF;
		goto put;
	}

	dev = edu_enter(edu);
	if (IS_ERR(dev)) {
		ret = PTR_ERR(dev);
		goto put;
	}
	m = edu_map(edu, dev, file, dmabuf, dir);
	if (IS_ERR(m)) {
		ret = PTR_ERR(m);
		goto leave;
	}
	ret = edu_transfer(edu, m, &x, to_device, &crc);
	if (ret == -ETIMEDOUT) {
		/* The parked mapping keeps the call's reference. */
		edu_leave(edu);
		return ret;
	}
	edu_unmap(m);
leave:
	edu_leave(edu);
put:
	dma_buf_put(dmabuf);
	if (!ret && to_device) {
		x.crc32 = ~crc;
		if (copy_to_user(arg, &x, sizeof(x)))
			ret = -EFAULT;
	}
	return ret;
}

/* The CRC-32 of [@pos, @end) read through kmap and kmap_atomic in turn. */
static int edu_crc_kmap(struct dma_buf *dmabuf, size_t pos, size_t end,
			u32 *crc)
{
	unsigned long page;
	size_t off, n;
	void *vaddr;

	for (; pos < end; pos += n) {
		page = pos >> PAGE_SHIFT;
		off = offset_in_page(pos);
		n = min_t(size_t, end - pos, PAGE_SIZE - off);
		vaddr = page & 1 ? dma_buf_kmap_atomic(dmabuf, page) :
				   dma_buf_kmap(dmabuf, page);
		if (!vaddr)
			return -ENOMEM;
		*crc = crc32_le(*crc, vaddr + off, n);
		if (page & 1)
			dma_buf_kunmap_atomic(dmabuf, page, vaddr);
		else
			dma_buf_kunmap(dmabuf, page, vaddr);
	}
	return 0;
}

/* The same through the buffer's linear kernel mapping. */
static int edu_crc_vmap(struct dma_buf *dmabuf, size_t pos, size_t end,
			u32 *crc)
{
	void *vaddr = dma_buf_vmap(dmabuf);

	if (IS_ERR(vaddr))
		return PTR_ERR(vaddr);
	*crc = crc32_le(*crc, vaddr + pos, end - pos);
	dma_buf_vunmap(dmabuf, vaddr);
	return 0;
}

/*
 * The kernel CPU's view of a range: page mappings, or with
 * EDU_DMABUF_XFER_VMAP the buffer's linear mapping.
 */
static long edu_ioctl_kmap_crc(void __user *arg)
{
	struct edu_dmabuf_xfer x;
	struct dma_buf *dmabuf;
	u32 crc = ~0U;
	int ret;

	dmabuf = edu_get_xfer(arg, &x, EDU_DMABUF_XFER_VMAP);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);

	ret = dma_buf_begin_cpu_access(dmabuf, x.offset, x.len,
				       DMA_FROM_DEVICE);
	if (ret)
		goto put;
	if (x.flags & EDU_DMABUF_XFER_VMAP)
		ret = edu_crc_vmap(dmabuf, x.offset, x.offset + x.len, &crc);
	else
		ret = edu_crc_kmap(dmabuf, x.offset, x.offset + x.len, &crc);
	dma_buf_end_cpu_access(dmabuf, x.offset, x.len, DMA_FROM_DEVICE);
put:
	dma_buf_put(dmabuf);
	if (!ret) {
		x.crc32 = ~crc;
		if (copy_to_user(arg, &x, sizeof(x)))
			ret = -EFAULT;
	}
	return ret;
}

static long edu_ioctl_map_info(struct edu_dev *edu, struct file *file,
			       struct edu_dmabuf_map_info __user *arg)
{
	struct edu_dmabuf_map_info *info;
	enum dma_data_direction dir;
	struct dma_buf *dmabuf;
	struct edu_mapping *m;
	struct scatterlist *sg;
	dma_addr_t end = 0;
	struct device *dev;
	unsigned int i, n;
	bool pieces;
	int ret;

	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	ret = -EFAULT;
	if (copy_from_user(info, arg, offsetof(typeof(*info), dma_mask)))
		goto free;
	ret = -EINVAL;
	if (info->flags & ~EDU_DMABUF_MAP_INFO_PIECES)
		goto free;
	pieces = info->flags & EDU_DMABUF_MAP_INFO_PIECES;
	dmabuf = dma_buf_get(info->fd);
	ret = PTR_ERR(dmabuf);
	if (IS_ERR(dmabuf))
		goto free;
	/* As a transfer would map it: both ways only if it may be written. */
	dir = dmabuf->file->f_mode & FMODE_WRITE ? DMA_BIDIRECTIONAL :
						   DMA_TO_DEVICE;

	dev = edu_enter(edu);
	ret = PTR_ERR(dev);
	if (IS_ERR(dev))
		goto put;
	m = edu_map(edu, dev, file, dmabuf, dir);
	ret = PTR_ERR(m);
	if (IS_ERR(m))
		goto leave;
	ret = 0;
	info->dma_mask = dma_get_mask(dev);
	for_each_sgtable_dma_sg(m->sgt, sg, i) {
		n = info->nr_segs;
		/* A piece goes on where the last segment ended. */
		if (pieces && n && sg_dma_address(sg) == end) {
			if (n <= EDU_DMABUF_MAX_SEGS)
				info->segs[n - 1].len += sg_dma_len(sg);
		} else {
			if (n < EDU_DMABUF_MAX_SEGS) {
				info->segs[n].addr = sg_dma_address(sg);
				info->segs[n].len = sg_dma_len(sg);
			}
			info->nr_segs++;
		}
		end = sg_dma_address(sg) + sg_dma_len(sg);
	}
	edu_unmap(m);
leave:
	edu_leave(edu);
put:
	dma_buf_put(dmabuf);
	if (!ret && copy_to_user(arg, info, sizeof(*info)))
		ret = -EFAULT;
free:
	kfree(info);
	return ret;
}

static long edu_ioctl_detach(struct edu_dev *edu, struct file *file,
			     struct dma_buf *dmabuf)
{
	struct edu_attachment *ea;
	int ret;

	ret = edu_lock_usable(edu);
	if (ret)
		return ret;
	ea = edu_find(edu, file, dmabuf);
	if (ea)
		list_del_init(&ea->node);
	mutex_unlock(&edu->lock);
	if (!ea)
		return -ENOENT;
	/* Transfers still using it keep it until they are done. */
	edu_put_attachment(ea);
	return 0;
}

static long edu_ioctl_attach(struct edu_dev *edu, struct file *file,
			     void __user *arg, bool attach)
{
	struct edu_dmabuf_attach a;
	struct edu_attachment *ea;
	struct dma_buf *dmabuf;
	struct device *dev;
	int ret;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~(attach ? EDU_DMABUF_ATTACH_ONE_PIECE : 0))
		return -EINVAL;
	dmabuf = dma_buf_get(a.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	if (!attach) {
		ret = edu_ioctl_detach(edu, file, dmabuf);
		goto put;
	}

	ea = kzalloc(sizeof(*ea), GFP_KERNEL);
	if (!ea) {
		ret = -ENOMEM;
		goto put;
	}
	dev = edu_enter(edu);
	if (IS_ERR(dev)) {
		ret = PTR_ERR(dev);
		goto free;
	}
	/*
	 * Attached already: fail before attaching again, which could move
	 * the storage for a statement that is then dropped.
	 */
	mutex_lock(&edu->lock);
	ret = edu_find(edu, file, dmabuf) ? -EEXIST : 0;
	mutex_unlock(&edu->lock);
	if (ret)
		goto leave;
	ea->attach = dma_buf_attach_segments(dmabuf, dev,
					     a.flags & EDU_DMABUF_ATTACH_ONE_PIECE ?
					     1 : 0);
	if (IS_ERR(ea->attach)) {
		ret = PTR_ERR(ea->attach);
		goto leave;
	}
	refcount_set(&ea->users, 1);
	ea->owner = file;
	ea->dmabuf = dmabuf;

	/* Attached without the lock: a concurrent call may have won. */
	mutex_lock(&edu->lock);
	ret = edu_find(edu, file, dmabuf) ? -EEXIST : 0;
	if (!ret) {
		list_add(&ea->node, &edu->attachments);
		/* The registration keeps the reference. */
		dmabuf = NULL;
	}
	mutex_unlock(&edu->lock);
	if (ret)
		dma_buf_detach(dmabuf, ea->attach);
leave:
	edu_leave(edu);
free:
	if (ret)
		kfree(ea);
put:
	if (dmabuf)
		dma_buf_put(dmabuf);
	return ret;
}

static long edu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct edu_dev *edu = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case EDU_DMABUF_IOCTL_TO_DEVICE:
		return edu_ioctl_xfer(edu, file, uarg, true);
	case EDU_DMABUF_IOCTL_FROM_DEVICE:
		return edu_ioctl_xfer(edu, file, uarg, false);
	case EDU_DMABUF_IOCTL_MAP_INFO:
		return edu_ioctl_map_info(edu, file, uarg);
	case EDU_DMABUF_IOCTL_ATTACH:
		return edu_ioctl_attach(edu, file, uarg, true);
	case EDU_DMABUF_IOCTL_DETACH:
		return edu_ioctl_attach(edu, file, uarg, false);
	case EDU_DMABUF_IOCTL_KMAP_CRC:
		return edu_ioctl_kmap_crc(uarg);
	default:
		return -ENOTTY;
	}
}

/*
 * Unregister every attachment of @file (every one, if NULL) and return
 * them on @list for edu_put_list().
 */
static void edu_unregister(struct edu_dev *edu, struct file *file,
			   struct list_head *list)
{
	struct edu_attachment *ea, *tmp;

	lockdep_assert_held(&edu->lock);
	list_for_each_entry_safe(ea, tmp, &edu->attachments, node)
		if (!file || ea->owner == file)
			list_move(&ea->node, list);
}

static void edu_put_list(struct list_head *list)
{
	struct edu_attachment *ea, *tmp;

	list_for_each_entry_safe(ea, tmp, list, node) {
		list_del_init(&ea->node);
		edu_put_attachment(ea);
	}
}

static int edu_open(struct inode *inode, struct file *file)
{
	struct edu_dev *edu = container_of(file->private_data, struct edu_dev,
					   misc);

	kref_get(&edu->ref);
	file->private_data = edu;
	return 0;
}

static int edu_release(struct inode *inode, struct file *file)
{
	struct edu_dev *edu = file->private_data;
	LIST_HEAD(list);

	mutex_lock(&edu->lock);
	edu_unregister(edu, file, &list);
	mutex_unlock(&edu->lock);
	edu_put_list(&list);
	kref_put(&edu->ref, edu_free);
	return 0;
}

static const struct file_operations edu_fops = {
	.owner		= THIS_MODULE,
	.open		= edu_open,
	.release	= edu_release,
	.unlocked_ioctl	= edu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/*
 * The mask width dma_bits gives @pdev, or the edu default. Widths are 24
 * to 32 bits: the driver programs the device's address registers with
 * 32-bit writes.
 */
static unsigned int edu_dma_bits(struct pci_dev *pdev)
{
	const char *name = pci_name(pdev), *p = dma_bits;
	const char *short_name = strchr(name, ':') + 1;
	char entry[32], *eq;
	unsigned int bits;
	size_t len;

	while (p && *p) {
		len = strcspn(p, ",");
		if (len < sizeof(entry)) {
			memcpy(entry, p, len);
			entry[len] = '\0';
			eq = strchr(entry, '=');
			if (eq) {
				*eq = '\0';
				if ((!strcmp(entry, name) ||
				     !strcmp(entry, short_name)) &&
				    !kstrtouint(eq + 1, 10, &bits) &&
				    bits >= 24 && bits <= 32)
					return bits;
			}
		}
		p += len + (p[len] == ',');
	}
	return EDU_DEFAULT_BITS;
}

static void edu_remove(struct pci_dev *pdev)
{
	struct edu_dev *edu = pci_get_drvdata(pdev);
	struct edu_mapping *m, *tmp;
	LIST_HEAD(parked);
	LIST_HEAD(list);

	misc_deregister(&edu->misc);

	mutex_lock(&edu->lock);
	/* Nothing the device still does may reach memory from now on. */
	pci_clear_master(pdev);
	edu->pdev = NULL;
	mutex_unlock(&edu->lock);

	/*
	 * Calls in progress stop at their next chunk and let go of it. The
	 * count changes under the lock and wakes us when it reaches zero;
	 * wait_event() only peeks at it, so an unlocked read will do.
	 */
	wait_event(edu->idle, !READ_ONCE(edu->active));

	mutex_lock(&edu->lock);
	edu_unregister(edu, NULL, &list);
	list_splice_init(&edu->parked, &parked);
	mutex_unlock(&edu->lock);

	list_for_each_entry_safe(m, tmp, &parked, node) {
		struct dma_buf *dmabuf = m->dmabuf;

		list_del(&m->node);
		edu_unmap(m);
		dma_buf_put(dmabuf);
	}
	edu_put_list(&list);
	/* The probe's reference goes with the device's managed resources. */
}

static void edu_put(void *data)
{
	struct edu_dev *edu = data;

	kref_put(&edu->ref, edu_free);
}

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu_dev *edu;
	u32 devid;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0), KBUILD_MODNAME);
	if (ret)
		return ret;

	edu = kzalloc(sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	kref_init(&edu->ref);
	mutex_init(&edu->lock);
	init_waitqueue_head(&edu->idle);
	init_completion(&edu->done);
	INIT_LIST_HEAD(&edu->attachments);
	INIT_LIST_HEAD(&edu->parked);
	edu->pdev = pdev;
	edu->mmio = pcim_iomap_table(pdev)[0];
	/*
	 * Registered before the interrupt, so released after it: the
	 * handler never sees freed state. Open files hold references of
	 * their own.
	 */
	ret = devm_add_action_or_reset(&pdev->dev, edu_put, edu);
	if (ret)
		return ret;

	devid = readl(edu->mmio + EDU_REG_ID);
	if ((devid & 0xff) != EDU_ID_MAGIC) {
		dev_err(&pdev->dev, "not an edu device (ID %#x)\n", devid);
		return -ENODEV;
	}

	edu->dma_bits = edu_dma_bits(pdev);
	ret = dma_set_mask_and_coherent(&pdev->dev,
					DMA_BIT_MASK(edu->dma_bits));
	if (ret)	/* on arm64's virt, RAM starts at 1 GiB */
		return dev_err_probe(&pdev->dev, ret,
				     "a %u-bit DMA mask reaches no memory of this machine\n",
				     edu->dma_bits);
	edu->bounce = dmam_alloc_coherent(&pdev->dev, EDU_CHUNK,
					  &edu->bounce_dma, GFP_KERNEL);
	if (!edu->bounce)
		return -ENOMEM;

	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (ret < 0)
		return ret;
	ret = devm_request_irq(&pdev->dev, pci_irq_vector(pdev, 0), edu_irq,
			       0, KBUILD_MODNAME, edu);
	if (ret)
		return ret;
	pci_set_master(pdev);

	snprintf(edu->name, sizeof(edu->name), "edu-%s", pci_name(pdev));
	snprintf(edu->nodename, sizeof(edu->nodename), "edu/%s",
		 pci_name(pdev));
	edu->misc.minor = MISC_DYNAMIC_MINOR;
	edu->misc.name = edu->name;
	edu->misc.nodename = edu->nodename;
	edu->misc.fops = &edu_fops;
	edu->misc.parent = &pdev->dev;
	pci_set_drvdata(pdev, edu);
	ret = misc_register(&edu->misc);
	if (ret) {
		pci_clear_master(pdev);
		return ret;
	}

	dev_info(&pdev->dev, "/dev/%s, %u-bit DMA mask\n", edu->nodename,
		 edu->dma_bits);
	return 0;
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static struct pci_driver edu_driver = {
	.name		= KBUILD_MODNAME,
	.id_table	= edu_ids,
	.probe		= edu_probe,
	.remove		= edu_remove,
};
module_pci_driver(edu_driver);

MODULE_DESCRIPTION("dma-buf importer for QEMU's edu device");
MODULE_LICENSE("GPL");
