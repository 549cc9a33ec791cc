// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ivshmem heap: dma-bufs carved out of the shared-memory BAR of
 * QEMU's ivshmem-plain device, memory that has no struct page.
 */

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/dma-mapping.h>
#include <linux/genalloc.h>
#include <linux/io.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

/**
 * DOC: ivshmem heap
 *
 * Seed of the design: an exporter's memory may have no &struct page at
 * all, a carve-out unknown to Linux memory management, and importers only
 * ever see DMA addresses. This heap makes that case real. It binds QEMU's
 * ivshmem-plain device (PCI 1af4:1110), whose BAR 2 is memory shared with
 * a file on the host, and carves the BAR into buffers with genalloc; each
 * device gets a heap, /dev/dma_heap/ivshmem-<PCI name>, with the system
 * heap's userspace interface.
 *
 * - Importers get an &sg_table whose entries carry only DMA addresses and
 *   lengths, from dma_map_resource() for the importing device, cut to its
 *   segment constraints; no entry has a page.
 * - The storage exists from the allocation on, at a fixed physical
 *   address: a device that cannot reach it (a 28-bit DMA mask, for a BAR
 *   above 256 MiB, without an IOMMU) is refused at attach time with
 *   -ERANGE. The BAR is never bounced: dma_map_resource() has no bounce
 *   buffers. A buffer is one piece of consecutive addresses, which meets
 *   any importer's statement of how few pieces its device takes
 *   (dma_buf_attach_segments()).
 * - Several devices may map a buffer at once. The mappings are made with
 *   DMA_ATTR_SKIP_CPU_SYNC: the BAR is never in a CPU cache, so there is
 *   nothing to sync.
 * - The CPU reaches the BAR through a write-combining kernel mapping:
 *   dma_buf_kmap() and dma_buf_kmap_atomic() return addresses inside it,
 *   and dma_buf_vmap() the buffer's start in it (nothing is mapped anew).
 *   Write-combined memory is never cached, so CPU access needs no cache
 *   maintenance, only ordering: begin_cpu_access is a read barrier (the
 *   CPU's reads come after the device's writes it was told about),
 *   end_cpu_access a write barrier, which also drains the CPU's
 *   write-combining buffers before a device reads.
 * - Userspace maps the BAR's frames write-combining, within the buffer.
 *   The frames are inserted at fault time, page by page, with the cache
 *   mode the heap's own ioremap_wc() reserved for the whole BAR, rather
 *   than remapped at mmap() time: a remapped range is one x86 PAT
 *   reservation per mapping, which a partial munmap(), an mremap() or a
 *   fork() would tear in pieces.
 *
 * Under QEMU without an IOMMU, dma_map_resource() returns the BAR's
 * physical address and another device's DMA to it lands in the host
 * file; behind QEMU's intel-iommu it returns an address the IOMMU
 * translates to the BAR, with the same result. On real hardware,
 * peer-to-peer DMA between devices needs a path through the PCI hierarchy
 * that this heap does not check.
 *
 * The heap's state lives as long as its buffers: unbinding the device
 * removes the heap node at once, but the BAR stays mapped and reserved
 * until the last buffer is released.
 */

#define IVSHMEM_BAR	2

/*
 * The BAR is never in a CPU cache, so its DMA mappings have nothing to
 * sync; saying so also lets several devices map one buffer at once, which
 * DMA-API debugging otherwise reports as overlapping mappings.
 */
#define IVSHMEM_DMA_ATTRS	DMA_ATTR_SKIP_CPU_SYNC

struct ivshmem_heap {
	/* The binding, the heap node (until released) and each buffer. */
	struct kref ref;
	struct pci_dev *pdev;
	void __iomem *bar;		/* write-combining */
	phys_addr_t phys;
	resource_size_t size;
	struct gen_pool *pool;
	bool removed;			/* the device was unbound */
	struct dma_heap heap;
	char name[DMA_HEAP_NAME_LEN];
};

struct ivshmem_buffer {
	struct ivshmem_heap *ih;
	void __iomem *vaddr;
	phys_addr_t phys;
	size_t size;
};

struct ivshmem_attachment {
	struct sg_table sgt;
	dma_addr_t dma;
};

static void ivshmem_heap_free(struct kref *ref)
{
	struct ivshmem_heap *ih = container_of(ref, struct ivshmem_heap, ref);

	gen_pool_destroy(ih->pool);
	iounmap(ih->bar);
	pci_release_region(ih->pdev, IVSHMEM_BAR);
	pci_disable_device(ih->pdev);
	pci_dev_put(ih->pdev);
	kfree(ih);
}

static int ivshmem_attach(struct dma_buf *dmabuf, struct device *dev,
			  struct dma_buf_attachment *attach)
{
	struct ivshmem_buffer *buf = dmabuf->priv;
	struct ivshmem_attachment *a;
	int ret;

	ret = dma_buf_check_resource_reach(dev, buf->phys + buf->size - 1);
	if (ret)
		return ret;
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	attach->priv = a;
	return 0;
}

static void ivshmem_detach(struct dma_buf *dmabuf,
			   struct dma_buf_attachment *attach)
{
	kfree(attach->priv);
}

/* Entries of DMA addresses only, cut to the device's constraints. */
static int ivshmem_fill_sgt(struct sg_table *sgt, struct device *dev,
			    dma_addr_t dma, size_t size)
{
	struct dma_buf_constraints c;
	unsigned int nents = 0;
	struct scatterlist *sg;
	size_t pos, len;
	int ret;

	dma_buf_device_segment_limits(dev, &c);
	for (pos = 0; pos < size; pos += len, nents++)
		len = dma_buf_segment_len(&c, dma + pos, size - pos);
	ret = sg_alloc_table(sgt, nents, GFP_KERNEL);
	if (ret)
		return ret;
	for (pos = 0, sg = sgt->sgl; pos < size; pos += len, sg = sg_next(sg)) {
		len = dma_buf_segment_len(&c, dma + pos, size - pos);
		sg_dma_address(sg) = dma + pos;
		sg_dma_len(sg) = len;
	}
	return 0;
}

static struct sg_table *ivshmem_map(struct dma_buf_attachment *attach,
				    enum dma_data_direction dir)
{
	struct ivshmem_buffer *buf = attach->dmabuf->priv;
	struct ivshmem_attachment *a = attach->priv;
	int ret;

	a->dma = dma_map_resource(attach->dev, buf->phys, buf->size, dir,
				  IVSHMEM_DMA_ATTRS);
	if (dma_mapping_error(attach->dev, a->dma))
		return ERR_PTR(-ENOMEM);
	ret = ivshmem_fill_sgt(&a->sgt, attach->dev, a->dma, buf->size);
	if (ret) {
		dma_unmap_resource(attach->dev, a->dma, buf->size, dir,
				   IVSHMEM_DMA_ATTRS);
		return ERR_PTR(ret);
	}
	return &a->sgt;
}

static void ivshmem_unmap(struct dma_buf_attachment *attach,
			  struct sg_table *sgt, enum dma_data_direction dir)
{
	struct ivshmem_buffer *buf = attach->dmabuf->priv;
	struct ivshmem_attachment *a = attach->priv;

	dma_unmap_resource(attach->dev, a->dma, buf->size, dir,
			   IVSHMEM_DMA_ATTRS);
	sg_free_table(sgt);
}

static void ivshmem_release(struct dma_buf *dmabuf)
{
	struct ivshmem_buffer *buf = dmabuf->priv;
	struct ivshmem_heap *ih = buf->ih;

	gen_pool_free(ih->pool, (unsigned long)buf->vaddr, buf->size);
	kfree(buf);
	kref_put(&ih->ref, ivshmem_heap_free);
}

static int ivshmem_begin_cpu_access(struct dma_buf *dmabuf, size_t start,
				    size_t len, enum dma_data_direction dir)
{
	/* Uncached: nothing to invalidate, only reads to order. */
	rmb();
	return 0;
}

static void ivshmem_end_cpu_access(struct dma_buf *dmabuf, size_t start,
				   size_t len, enum dma_data_direction dir)
{
	/* Drain the write-combining buffers before a device reads. */
	wmb();
}

static void *ivshmem_kmap(struct dma_buf *dmabuf, unsigned long page_num)
{
	struct ivshmem_buffer *buf = dmabuf->priv;

	/* A write-combining I/O mapping, usable as memory on x86. */
	return (void __force *)buf->vaddr + page_num * PAGE_SIZE;
}

/* The buffer's part of the heap's mapping of the BAR: already linear. */
static void *ivshmem_vmap(struct dma_buf *dmabuf)
{
	struct ivshmem_buffer *buf = dmabuf->priv;

	return (void __force *)buf->vaddr;
}

static vm_fault_t ivshmem_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct ivshmem_buffer *buf = vma->vm_private_data;

	if (vmf->pgoff >= buf->size >> PAGE_SHIFT)
		return VM_FAULT_SIGBUS;
	return vmf_insert_pfn_prot(vma, vmf->address,
				   PHYS_PFN(buf->phys) + vmf->pgoff,
				   vma->vm_page_prot);
}

static const struct vm_operations_struct ivshmem_vm_ops = {
	.fault = ivshmem_fault,
};

static int ivshmem_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	/* The core checked the range against the buffer. */
	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTDUMP);
	vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
	vma->vm_ops = &ivshmem_vm_ops;
	vma->vm_private_data = dmabuf->priv;
	return 0;
}

static const struct dma_buf_ops ivshmem_buf_ops = {
	.attach		  = ivshmem_attach,
	.detach		  = ivshmem_detach,
	.map_dma_buf	  = ivshmem_map,
	.unmap_dma_buf	  = ivshmem_unmap,
	.release	  = ivshmem_release,
	.begin_cpu_access = ivshmem_begin_cpu_access,
	.end_cpu_access	  = ivshmem_end_cpu_access,
	.kmap_atomic	  = ivshmem_kmap,
	.kmap		  = ivshmem_kmap,
	.vmap		  = ivshmem_vmap,
	.mmap		  = ivshmem_mmap,
};

static struct dma_buf *ivshmem_allocate(struct dma_heap *heap, size_t len,
					u32 fd_flags, u64 heap_flags)
{
	struct ivshmem_heap *ih = container_of(heap, struct ivshmem_heap, heap);
	struct ivshmem_buffer *buf;
	struct dma_buf *dmabuf;
	unsigned long addr;

	/*
	 * Without a lock: the flag only turns new allocations away once the
	 * device is going. One that races with the removal is safe: the
	 * heap node's reference on @ih lasts until the file it came through
	 * is closed (ivshmem_heap_release()), and its buffer takes its own.
	 */
	if (READ_ONCE(ih->removed))
		return ERR_PTR(-ENODEV);
	if (len > ih->size)
		return ERR_PTR(-ENOMEM);

	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	addr = gen_pool_alloc(ih->pool, len);
	if (!addr) {
		kfree(buf);
		return ERR_PTR(-ENOMEM);
	}
	buf->ih = ih;
	buf->vaddr = (void __iomem *)addr;
	buf->phys = gen_pool_virt_to_phys(ih->pool, addr);
	buf->size = len;
	memset_io(buf->vaddr, 0, len);
	/* Drain the zeroes from the write-combining buffers before any DMA. */
	wmb();

	kref_get(&ih->ref);
	dmabuf = dma_buf_export_named(buf, &ivshmem_buf_ops, len, fd_flags,
				      ih->name);
	if (IS_ERR(dmabuf)) {
		gen_pool_free(ih->pool, addr, len);
		kfree(buf);
		kref_put(&ih->ref, ivshmem_heap_free);
	}
	return dmabuf;
}

/* The heap node is gone and its last open file closed. */
static void ivshmem_heap_release(struct dma_heap *heap)
{
	struct ivshmem_heap *ih = container_of(heap, struct ivshmem_heap, heap);

	kref_put(&ih->ref, ivshmem_heap_free);
}

static const struct dma_heap_ops ivshmem_heap_ops = {
	.allocate = ivshmem_allocate,
	.release = ivshmem_heap_release,
};

static int ivshmem_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct ivshmem_heap *ih;
	int ret;

	if (!(pci_resource_flags(pdev, IVSHMEM_BAR) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, IVSHMEM_BAR) < PAGE_SIZE)
		return -ENODEV;

	ih = kzalloc(sizeof(*ih), GFP_KERNEL);
	if (!ih)
		return -ENOMEM;
	kref_init(&ih->ref);
	ih->phys = pci_resource_start(pdev, IVSHMEM_BAR);
	ih->size = pci_resource_len(pdev, IVSHMEM_BAR);

	/* Not managed: the state outlives the binding while buffers live. */
	ret = pci_enable_device(pdev);
	if (ret)
		goto err_free;
	ret = pci_request_region(pdev, IVSHMEM_BAR, KBUILD_MODNAME);
	if (ret)
		goto err_disable;
	ih->bar = ioremap_wc(ih->phys, ih->size);
	if (!ih->bar) {
		ret = -ENOMEM;
		goto err_release_region;
	}
	ih->pool = gen_pool_create(PAGE_SHIFT, dev_to_node(&pdev->dev));
	if (!ih->pool) {
		ret = -ENOMEM;
		goto err_unmap;
	}
	ret = gen_pool_add_virt(ih->pool, (unsigned long)ih->bar, ih->phys,
				ih->size, dev_to_node(&pdev->dev));
	if (ret)
		goto err_destroy_pool;
	ih->pdev = pci_dev_get(pdev);

	snprintf(ih->name, sizeof(ih->name), "ivshmem-%s", pci_name(pdev));
	ih->heap.name = ih->name;
	ih->heap.ops = &ivshmem_heap_ops;
	/* The heap node's reference, dropped by ivshmem_heap_release(). */
	kref_get(&ih->ref);
	ret = dma_heap_register(&ih->heap);
	if (ret) {
		kref_put(&ih->ref, ivshmem_heap_free);
		/* The binding's reference now unwinds everything. */
		kref_put(&ih->ref, ivshmem_heap_free);
		return ret;
	}
	pci_set_drvdata(pdev, ih);
	dev_info(&pdev->dev, "/dev/dma_heap/%s: %pa bytes at %pa\n", ih->name,
		 &ih->size, &ih->phys);
	return 0;

err_destroy_pool:
	gen_pool_destroy(ih->pool);
err_unmap:
	iounmap(ih->bar);
err_release_region:
	pci_release_region(pdev, IVSHMEM_BAR);
err_disable:
	pci_disable_device(pdev);
err_free:
	kfree(ih);
	return ret;
}

static void ivshmem_remove(struct pci_dev *pdev)
{
	struct ivshmem_heap *ih = pci_get_drvdata(pdev);

	WRITE_ONCE(ih->removed, true);
	dma_heap_unregister(&ih->heap);
	kref_put(&ih->ref, ivshmem_heap_free);
}

static const struct pci_device_id ivshmem_ids[] = {
	{ PCI_DEVICE(0x1af4, 0x1110) },
	{ }
};
MODULE_DEVICE_TABLE(pci, ivshmem_ids);

static struct pci_driver ivshmem_driver = {
	.name		= KBUILD_MODNAME,
	.id_table	= ivshmem_ids,
	.probe		= ivshmem_probe,
	.remove		= ivshmem_remove,
};
module_pci_driver(ivshmem_driver);

MODULE_DESCRIPTION("dma-buf heap of QEMU ivshmem shared memory, without struct page");
MODULE_LICENSE("GPL");
