// SPDX-License-Identifier: GPL-2.0-only
/*
 * dma-buf heaps: the /dev/dma_heap/<name> device nodes and their
 * DMA_HEAP_IOCTL_ALLOC.
 */

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <uapi/linux/dma-heap.h>

#include "dma-buf-internal.h"

/**
 * DOC: heaps
 *
 * A heap is a device node, /dev/dma_heap/<name>, that allocates dma-bufs
 * for userspace with DMA_HEAP_IOCTL_ALLOC, with the ABI of Linux's
 * dma-buf heaps: the same structure, numbers and flag checks, so that
 * existing programs and the kernel's own dmabuf-heap selftest work
 * unchanged. A heap driver fills in a &struct dma_heap and calls
 * dma_heap_register(); the framework parses and checks the request and
 * calls the heap's &dma_heap_ops.allocate with a valid length.
 *
 * The request structure may grow. The ioctl number carries the size of
 * the structure the program was built with: a shorter one is read with
 * its missing fields as zero, a longer one with its unknown tail ignored,
 * and only as many bytes as the program passed are written back. A
 * structure too short to hold the fd field is refused with EINVAL: the
 * new descriptor could not be reported.
 *
 * The new descriptor appears in the process only once the result was
 * written back: a program whose argument is not writable gets EFAULT and
 * no descriptor, and the buffer is freed.
 *
 * A heap that belongs to a device (and goes away with it) provides
 * &dma_heap_ops.release: dma_heap_unregister() removes the device node at
 * once, and the release follows when the last file opened on the node is
 * closed. Buffers allocated from the heap are the heap driver's to keep
 * alive; they hold references to their exporting module, not to the heap.
 */

/* Every registered heap, so that a name is never registered twice. */
static DEFINE_MUTEX(dma_heap_list_lock);
static LIST_HEAD(dma_heap_list);

static struct dma_heap *dma_heap_from_file(struct file *file)
{
	struct miscdevice *misc = file->private_data;

	return container_of(misc, struct dma_heap, misc);
}

static long dma_heap_alloc(struct dma_heap *heap, void __user *uarg,
			   unsigned int usize)
{
	struct dma_heap_allocation_data data = {};
	unsigned int size = min_t(unsigned int, usize, sizeof(data));
	struct dma_buf *dmabuf;
	u64 len;
	int fd;

	if (usize < offsetofend(struct dma_heap_allocation_data, fd))
		return -EINVAL;
	if (copy_from_user(&data, uarg, size))
		return -EFAULT;

	if (data.fd || (data.fd_flags & ~DMA_HEAP_VALID_FD_FLAGS) ||
	    (data.heap_flags & ~DMA_HEAP_VALID_HEAP_FLAGS))
		return -EINVAL;

	/*
	 * Whole pages; zero, or a length that wraps when rounded, is invalid.
	 * 64-bit arithmetic throughout: PAGE_MASK is only as wide as a long.
	 */
	len = data.len + PAGE_SIZE - 1;
	if (!data.len || len < data.len)
		return -EINVAL;
	len &= ~(u64)(PAGE_SIZE - 1);
	/* More than an address space holds can never be allocated. */
	if (len > SIZE_MAX)
		return -ENOMEM;

	dmabuf = heap->ops->allocate(heap, len, data.fd_flags, data.heap_flags);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);

	fd = get_unused_fd_flags(data.fd_flags & O_CLOEXEC);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return fd;
	}

	data.fd = fd;
	if (copy_to_user(uarg, &data, size)) {
		put_unused_fd(fd);
		dma_buf_put(dmabuf);
		return -EFAULT;
	}
	/* The descriptor takes over the allocation's reference. */
	fd_install(fd, dmabuf->file);
	return 0;
}

static long dma_heap_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct dma_heap *heap = dma_heap_from_file(file);

	/* Any size of the request structure; only its type and number count. */
	if (_IOC_TYPE(cmd) != DMA_HEAP_IOC_MAGIC ||
	    _IOC_NR(cmd) != _IOC_NR(DMA_HEAP_IOCTL_ALLOC) ||
	    _IOC_DIR(cmd) != (_IOC_READ | _IOC_WRITE))
		return -EINVAL;
	return dma_heap_alloc(heap, (void __user *)arg, _IOC_SIZE(cmd));
}

static void dma_heap_free(struct kref *ref)
{
	struct dma_heap *heap = container_of(ref, struct dma_heap, ref);

	if (heap->ops->release)
		heap->ops->release(heap);
}

/*
 * An open device node pins the heap's module and the heap. misc_open()
 * runs this under the lock misc_deregister() takes, and try_module_get()
 * fails once the module is on its way out: no open can slip past the
 * heap's removal.
 */
static int dma_heap_open(struct inode *inode, struct file *file)
{
	struct dma_heap *heap = dma_heap_from_file(file);

	if (!try_module_get(heap->owner))
		return -ENODEV;
	kref_get(&heap->ref);
	return 0;
}

static int dma_heap_release(struct inode *inode, struct file *file)
{
	struct dma_heap *heap = dma_heap_from_file(file);
	struct module *owner = heap->owner;

	/* The heap's release is the module's code: put it first. */
	kref_put(&heap->ref, dma_heap_free);
	module_put(owner);
	return 0;
}

static const struct file_operations dma_heap_fops = {
	.owner		= THIS_MODULE,
	.open		= dma_heap_open,
	.release	= dma_heap_release,
	.unlocked_ioctl	= dma_heap_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/**
 * dma_heap_register_owner() - create a heap's device node
 * @heap: the heap, with @heap->name and @heap->ops set.
 * @owner: the module that implements the heap; an open device node pins
 *	it. Heap drivers call dma_heap_register(), which passes their own.
 *
 * Context: Process context. May sleep.
 * Return: 0, or a negative errno: -EINVAL (with a WARN) for a heap without
 * an allocate operation or with an invalid name, -EBUSY if the name is
 * taken, or another error from misc_register().
 */
int dma_heap_register_owner(struct dma_heap *heap, struct module *owner)
{
	struct dma_heap *other;
	int ret;

	if (dma_buf_misuse(!heap || !heap->ops || !heap->ops->allocate ||
			   !heap->name || !heap->name[0] ||
			   strchr(heap->name, '/') ||
			   strlen(heap->name) >= DMA_HEAP_NAME_LEN))
		return -EINVAL;

	snprintf(heap->misc_name, sizeof(heap->misc_name), "dma_heap-%s",
		 heap->name);
	snprintf(heap->nodename, sizeof(heap->nodename), "dma_heap/%s",
		 heap->name);
	heap->owner = owner;
	kref_init(&heap->ref);

	heap->misc.minor = MISC_DYNAMIC_MINOR;
	heap->misc.name = heap->misc_name;
	heap->misc.nodename = heap->nodename;
	heap->misc.fops = &dma_heap_fops;

	mutex_lock(&dma_heap_list_lock);
	list_for_each_entry(other, &dma_heap_list, node) {
		if (!strcmp(other->name, heap->name)) {
			ret = -EBUSY;
			goto unlock;
		}
	}
	ret = misc_register(&heap->misc);
	if (!ret)
		list_add(&heap->node, &dma_heap_list);
unlock:
	mutex_unlock(&dma_heap_list_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(dma_heap_register_owner);

/**
 * dma_heap_unregister() - remove a heap's device node
 * @heap: a heap dma_heap_register() succeeded for.
 *
 * The device node disappears at once; &dma_heap_ops.release, if any, is
 * called when the last file opened on it is closed (possibly before this
 * returns). Buffers allocated from the heap live on until their last
 * reference is gone; the heap driver keeps what they need until then.
 *
 * Context: Process context. May sleep.
 */
void dma_heap_unregister(struct dma_heap *heap)
{
	mutex_lock(&dma_heap_list_lock);
	list_del(&heap->node);
	misc_deregister(&heap->misc);
	mutex_unlock(&dma_heap_list_lock);
	kref_put(&heap->ref, dma_heap_free);
}
EXPORT_SYMBOL_GPL(dma_heap_unregister);
