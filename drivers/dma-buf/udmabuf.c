// SPDX-License-Identifier: GPL-2.0-only
/*
 * udmabuf: ranges of memfds exported as dma-bufs, through /dev/udmabuf.
 */

#include <linux/dma-buf.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/hugetlb.h>
#include <linux/io.h>
#include <linux/memfd.h>
#include <linux/minmax.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/pagemap.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <uapi/linux/udmabuf.h>

/**
 * DOC: udmabuf
 *
 * /dev/udmabuf turns ranges of memfds into a dma-buf whose storage is the
 * memfds' own pages: what a process writes through its mapping of the
 * memfd is what a device reads from the buffer, and what a device writes
 * into the buffer the process reads through the memfd. It has the
 * userspace interface of Linux's udmabuf (UDMABUF_CREATE,
 * UDMABUF_CREATE_LIST, see Documentation/userspace-api/udmabuf.rst).
 *
 * The memfd must be sealed against shrinking (F_SEAL_SHRINK) and must not
 * be sealed against writing (F_SEAL_WRITE, F_SEAL_FUTURE_WRITE): the
 * buffer writes into its pages, and a range that could be cut off under
 * it would leave the buffer with pages the memfd no longer has. Ranges
 * come from shmem memfds or hugetlbfs memfds (MFD_HUGETLB), whose huge
 * pages the buffer uses page by page.
 *
 * Every page of the ranges is pinned (memfd_pin_folios(), which first
 * allocates the holes and moves pages out of movable memory) when the
 * buffer is created, and stays pinned until the buffer is released,
 * whatever the process does to the memfd afterwards: closing it, punching
 * holes in it (the memfd then reads new, zeroed pages there while the
 * buffer keeps the old ones), or exiting. The pages stay charged to
 * whoever first allocated them in the memfd; the buffer's own arrays are
 * charged to the process that created it.
 *
 * Since the storage exists from the start and never moves, a device that
 * attaches is refused with -ERANGE when it cannot reach every page
 * (dma_buf_check_reach()), or when its importer needs the buffer in fewer
 * pieces of consecutive pages than the memfd's pages come in
 * (dma_buf_attach_segments(), dma_buf_check_segments()): shmem pages are
 * mostly not consecutive, a huge page's are. Kernel CPU access needs no preparation
 * (begin_cpu_access only syncs the mappings importers hold), both kmap
 * flavours are kmap_local_page(), and dma_buf_vmap() maps the pages at
 * one linear kernel address with vmap(). Userspace mappings of the buffer
 * are the same pages, inserted by frame number at fault time, a page
 * table's worth (2 MiB on x86-64) at once: touching every page of a
 * mapping takes a fault per page table, not a fault per page. Faults are
 * handled under the mapping's own lock (per-VMA locking), not the
 * process's mmap_lock.
 */

static int list_limit = 1024;
module_param(list_limit, int, 0644);
MODULE_PARM_DESC(list_limit, "Most ranges in one UDMABUF_CREATE_LIST (default 1024)");

static int size_limit_mb = 64;
module_param(size_limit_mb, int, 0644);
MODULE_PARM_DESC(size_limit_mb, "Largest buffer, in MiB (default 64)");

/* Seals a memfd must have, and must not have. */
#define UDMABUF_SEALS_WANTED	F_SEAL_SHRINK
#define UDMABUF_SEALS_DENIED	(F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)

/*
 * A buffer. Everything is set at creation, before the buffer is exported,
 * and never changes: no lock is needed to read it.
 */
struct udmabuf {
	/* The storage, one entry per page of the buffer. */
	struct page **pages;
	unsigned int n_pages;
	/* Every pin taken, one per folio per range; @n_pinned of them. */
	struct folio **pinned;
	unsigned int n_pinned;
	/* Highest physical address of the storage. */
	phys_addr_t last;
};

static void udmabuf_free(struct udmabuf *ubuf)
{
	unsigned int i;

	/*
	 * Devices and the CPU may have written the pages behind the page
	 * cache's back; a clean shmem page would be dropped by reclaim.
	 */
	for (i = 0; i < ubuf->n_pinned; i++) {
		folio_lock(ubuf->pinned[i]);
		folio_mark_dirty(ubuf->pinned[i]);
		folio_unlock(ubuf->pinned[i]);
	}
	unpin_folios(ubuf->pinned, ubuf->n_pinned);
	kvfree(ubuf->pinned);
	kvfree(ubuf->pages);
	kfree(ubuf);
}

/* The longest run udmabuf_run() reports: 2 MiB with 4 KiB pages. */
#define UDMABUF_RUN_MAX	512

/*
 * The run of consecutive frames that starts at page @pgoff of the udmabuf
 * @data, as dma_buf_map_pages() joins them into one scatterlist entry (so
 * that dma_buf_check_segments() counts a bounced device's segments as its
 * mappings will come), up to UDMABUF_RUN_MAX pages: page faults call it
 * too (dma_buf_map_window()), and must not walk a long run each time. The
 * cap can only count a piece more than the mapping makes, never fewer, and
 * only in a run longer than 2 MiB, which a bounced device (bounce buffers
 * of at most 256 KiB) takes in eight pieces or more anyway.
 */
static unsigned long udmabuf_run(void *data, pgoff_t pgoff, unsigned long *len)
{
	const struct udmabuf *ubuf = data;
	unsigned long pfn, n = 1;

	pgoff = array_index_nospec(pgoff, ubuf->n_pages);
	pfn = page_to_pfn(ubuf->pages[pgoff]);
	while (n < UDMABUF_RUN_MAX && pgoff + n < ubuf->n_pages &&
	       page_to_pfn(ubuf->pages[pgoff + n]) == pfn + n)
		n++;
	*len = n;
	return pfn;
}

static int udmabuf_attach(struct dma_buf *dmabuf, struct device *dev,
			  struct dma_buf_attachment *attach)
{
	struct udmabuf *ubuf = dmabuf->priv;

	return dma_buf_check_reach(dev, ubuf->last) ?:
	       dma_buf_check_segments(attach, udmabuf_run, ubuf);
}

static struct sg_table *udmabuf_map(struct dma_buf_attachment *attach,
				    enum dma_data_direction dir)
{
	struct udmabuf *ubuf = attach->dmabuf->priv;

	return dma_buf_map_pages(attach, ubuf->pages, ubuf->n_pages, dir);
}

static void udmabuf_release(struct dma_buf *dmabuf)
{
	udmabuf_free(dmabuf->priv);
}

/*
 * Both kernel mappings are kmap_local_page(), which works for highmem
 * pages, neither sleeps nor fails, and may be held across sleeps.
 */
static void *udmabuf_kmap(struct dma_buf *dmabuf, unsigned long page_num)
{
	struct udmabuf *ubuf = dmabuf->priv;

	return kmap_local_page(ubuf->pages[page_num]);
}

static void udmabuf_kunmap(struct dma_buf *dmabuf, unsigned long page_num,
			   void *vaddr)
{
	kunmap_local(vaddr);
}

/* The storage's pages, in order, at one kernel address. */
static void *udmabuf_vmap(struct dma_buf *dmabuf)
{
	struct udmabuf *ubuf = dmabuf->priv;
	void *vaddr;

	vaddr = vmap(ubuf->pages, ubuf->n_pages, VM_MAP, PAGE_KERNEL);
	return vaddr ?: ERR_PTR(-ENOMEM);
}

static void udmabuf_vunmap(struct dma_buf *dmabuf, void *vaddr)
{
	vunmap(vaddr);
}

/*
 * Map the page at @vmf's address and the others that its page table
 * covers (2 MiB on x86-64): the storage is all there from the start, so a
 * first touch maps what a page table holds of it, not a page. By frame
 * number: the pages belong to the memfd. Pages mapped already are left as
 * they are.
 */
static vm_fault_t udmabuf_insert(struct vm_fault *vmf)
{
	struct udmabuf *ubuf = vmf->vma->vm_private_data;

	return dma_buf_map_window(vmf, ubuf->n_pages, udmabuf_run, ubuf);
}

static vm_fault_t udmabuf_fault(struct vm_fault *vmf)
{
	struct udmabuf *ubuf = vmf->vma->vm_private_data;

	/* The core checked the mapping's range against the buffer's size. */
	if (vmf->pgoff >= ubuf->n_pages)
		return VM_FAULT_SIGBUS;
	return udmabuf_insert(vmf);
}

/*
 * Fault-around, for read faults: map what the fault handler would (the
 * page table's worth around the address), where that cannot sleep: the
 * page table exists (the core calls this under rcu_read_lock()), so no
 * page table is allocated. Otherwise the fault handler does it.
 *
 * Having this callback also tells the mm core that the fault handler does
 * not need mmap_lock: without it, every fault taken under the mapping's
 * own lock is retried under mmap_lock (vmf_can_call_fault()).
 */
static vm_fault_t udmabuf_map_pages(struct vm_fault *vmf, pgoff_t start_pgoff,
				    pgoff_t end_pgoff)
{
	struct udmabuf *ubuf = vmf->vma->vm_private_data;

	if (pmd_none(*vmf->pmd) || vmf->pgoff >= ubuf->n_pages)
		return 0;
	/* Failures are the fault handler's to report. */
	return udmabuf_insert(vmf) == VM_FAULT_NOPAGE ? VM_FAULT_NOPAGE : 0;
}

static const struct vm_operations_struct udmabuf_vm_ops = {
	.fault = udmabuf_fault,
	.map_pages = udmabuf_map_pages,
};

static int udmabuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	/*
	 * Shared mappings only, as Linux 6.12's udmabuf: the memfd is there
	 * for a private copy, and a program written for 6.12 may test this.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	/* The pages belong to the memfd: mapped by frame number. */
	vm_flags_set(vma, VM_PFNMAP | VM_DONTDUMP);
	vma->vm_ops = &udmabuf_vm_ops;
	vma->vm_private_data = dmabuf->priv;
	return 0;
}

static const struct dma_buf_ops udmabuf_ops = {
	.attach		 = udmabuf_attach,
	.map_dma_buf	 = udmabuf_map,
	.unmap_dma_buf	 = dma_buf_unmap_pages,
	.sync_for_device = dma_buf_sync_pages_for_device,
	.sync_for_cpu	 = dma_buf_sync_pages_for_cpu,
	.release	 = udmabuf_release,
	.kmap_atomic	 = udmabuf_kmap,
	.kunmap_atomic	 = udmabuf_kunmap,
	.kmap		 = udmabuf_kmap,
	.kunmap		 = udmabuf_kunmap,
	.vmap		 = udmabuf_vmap,
	.vunmap		 = udmabuf_vunmap,
	.mmap		 = udmabuf_mmap,
};

/* -EBADFD for a file that is no memfd, -EINVAL for the wrong seals. */
static int udmabuf_check_seals(struct file *memfd)
{
	long seals;

	if (!shmem_file(memfd) && !is_file_hugepages(memfd))
		return -EBADFD;
	seals = memfd_fcntl(memfd, F_GET_SEALS, 0);
	if (seals < 0)
		return -EBADFD;
	if ((seals & UDMABUF_SEALS_WANTED) != UDMABUF_SEALS_WANTED ||
	    (seals & UDMABUF_SEALS_DENIED))
		return -EINVAL;
	return 0;
}

/*
 * Pin the pages of one range, already checked to be page-aligned and to
 * fit in the buffer, and append them to the buffer's storage. Called with
 * the memfd's inode lock held shared, so that its seals cannot change.
 */
static int udmabuf_pin_range(struct udmabuf *ubuf, struct file *memfd,
			     u64 offset, u64 size)
{
	unsigned int want = size >> PAGE_SHIFT, got = 0, i;
	struct folio **folios = ubuf->pinned + ubuf->n_pinned;
	pgoff_t first = 0;
	long n, j;

	if (!want || offset > LLONG_MAX || size - 1 > LLONG_MAX - offset)
		return -EINVAL;
	/* At most one folio per page: the array has room for them all. */
	n = memfd_pin_folios(memfd, offset, offset + size - 1, folios, want,
			     &first);
	if (n <= 0)
		return n ? n : -EINVAL;
	ubuf->n_pinned += n;

	/* The range starts @first bytes into its first folio. */
	j = first >> PAGE_SHIFT;
	for (i = 0; i < n && got < want; i++, j = 0)
		for (; j < folio_nr_pages(folios[i]) && got < want; j++)
			ubuf->pages[ubuf->n_pages + got++] =
				folio_page(folios[i], j);
	/* The folios cover the range; anything else is a bug of ours. */
	if (WARN_ON_ONCE(got != want))
		return -EINVAL;
	ubuf->n_pages += want;
	return 0;
}

static int udmabuf_add_range(struct udmabuf *ubuf,
			     const struct udmabuf_create_item *item)
{
	struct file *memfd;
	int ret;

	memfd = fget(item->memfd);
	if (!memfd)
		return -EBADFD;
	/* memfd_add_seals() takes the lock for writing. */
	inode_lock_shared(file_inode(memfd));
	ret = udmabuf_check_seals(memfd);
	if (!ret)
		ret = udmabuf_pin_range(ubuf, memfd, item->offset, item->size);
	inode_unlock_shared(file_inode(memfd));
	fput(memfd);
	return ret;
}

/* The buffer's size in pages, or a negative errno. */
static long udmabuf_total_pages(const struct udmabuf_create_item *list,
				u32 count)
{
	u64 limit, pages = 0;
	u32 i;

	/* A module parameter root may change at any time: read it once. */
	limit = (u64)max(READ_ONCE(size_limit_mb), 0) << (20 - PAGE_SHIFT);
	for (i = 0; i < count; i++) {
		if (!PAGE_ALIGNED(list[i].offset) || !PAGE_ALIGNED(list[i].size))
			return -EINVAL;
		/* Bounded by the limit before it can overflow. */
		pages += list[i].size >> PAGE_SHIFT;
		if (pages > limit)
			return -EINVAL;
	}
	if (!pages)
		return -EINVAL;
	/* An administrator's limit beyond what the arrays can index. */
	if (pages > INT_MAX)
		return -ENOMEM;
	return pages;
}

static int udmabuf_create(const struct udmabuf_create_item *list, u32 count,
			  u32 flags)
{
	struct dma_buf *dmabuf;
	struct udmabuf *ubuf;
	unsigned int i;
	long pages;
	int ret;

	pages = udmabuf_total_pages(list, count);
	if (pages < 0)
		return pages;

	ubuf = kzalloc(sizeof(*ubuf), GFP_KERNEL_ACCOUNT);
	if (!ubuf)
		return -ENOMEM;
	ubuf->pages = kvmalloc_array(pages, sizeof(*ubuf->pages),
				     GFP_KERNEL_ACCOUNT);
	ubuf->pinned = kvmalloc_array(pages, sizeof(*ubuf->pinned),
				      GFP_KERNEL_ACCOUNT);
	if (!ubuf->pages || !ubuf->pinned) {
		ret = -ENOMEM;
		goto free_ubuf;
	}

	for (i = 0; i < count; i++) {
		ret = udmabuf_add_range(ubuf, &list[i]);
		if (ret)
			goto free_ubuf;
	}
	for (i = 0; i < ubuf->n_pages; i++)
		ubuf->last = max(ubuf->last,
				 page_to_phys(ubuf->pages[i]) + PAGE_SIZE - 1);

	dmabuf = dma_buf_export(ubuf, &udmabuf_ops,
				(size_t)ubuf->n_pages << PAGE_SHIFT, O_RDWR);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto free_ubuf;
	}
	/* From here the buffer owns @ubuf: its release frees it. */
	ret = dma_buf_fd(dmabuf, flags & UDMABUF_FLAGS_CLOEXEC ? O_CLOEXEC : 0);
	if (ret < 0)
		dma_buf_put(dmabuf);
	return ret;

free_ubuf:
	udmabuf_free(ubuf);
	return ret;
}

static long udmabuf_ioctl_create(void __user *uarg)
{
	struct udmabuf_create create;
	struct udmabuf_create_item item;

	if (copy_from_user(&create, uarg, sizeof(create)))
		return -EFAULT;
	item = (struct udmabuf_create_item) {
		.memfd = create.memfd,
		.offset = create.offset,
		.size = create.size,
	};
	return udmabuf_create(&item, 1, create.flags);
}

static long udmabuf_ioctl_create_list(void __user *uarg)
{
	struct udmabuf_create_list head;
	struct udmabuf_create_item *list;
	long ret;

	if (copy_from_user(&head, uarg, sizeof(head)))
		return -EFAULT;
	/* A module parameter root may change at any time: read it once. */
	if (!head.count || head.count > max(READ_ONCE(list_limit), 0))
		return -EINVAL;
	list = memdup_array_user(uarg + sizeof(head), head.count,
				 sizeof(*list));
	if (IS_ERR(list))
		return PTR_ERR(list);
	ret = udmabuf_create(list, head.count, head.flags);
	kfree(list);
	return ret;
}

static long udmabuf_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	switch (cmd) {
	case UDMABUF_CREATE:
		return udmabuf_ioctl_create((void __user *)arg);
	case UDMABUF_CREATE_LIST:
		return udmabuf_ioctl_create_list((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations udmabuf_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= udmabuf_ioctl,
	/* The structures are laid out alike for 32-bit and 64-bit callers. */
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice udmabuf_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "udmabuf",
	.fops	= &udmabuf_fops,
};
module_misc_device(udmabuf_misc);

MODULE_DESCRIPTION("dma-bufs from memfd ranges (/dev/udmabuf)");
MODULE_LICENSE("GPL");
