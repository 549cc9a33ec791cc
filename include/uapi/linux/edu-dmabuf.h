/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The edu dma-buf importer: DMA between dma-bufs and QEMU's educational
 * PCI device ("edu"). One device node per device, /dev/edu/<PCI name>,
 * for example /dev/edu/0000:00:04.0.
 */
#ifndef _UAPI_LINUX_EDU_DMABUF_H
#define _UAPI_LINUX_EDU_DMABUF_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * struct edu_dmabuf_xfer - a transfer between a buffer and the device
 * @fd: the dma-buf.
 * @flags: zero, or for EDU_DMABUF_IOCTL_KMAP_CRC, EDU_DMABUF_XFER_VMAP.
 * @offset: first byte of the buffer to transfer.
 * @len: number of bytes; not zero, and [@offset, @offset + @len) lies
 *	inside the buffer.
 * @seed: EDU_DMABUF_IOCTL_FROM_DEVICE: the seed of the pattern the device
 *	writes (see edu_dmabuf_pattern()).
 * @crc32: EDU_DMABUF_IOCTL_TO_DEVICE: on return, the CRC-32 (as zlib's
 *	crc32()) of the bytes the device received, as the device sends them
 *	back. EDU_DMABUF_IOCTL_KMAP_CRC: the CRC-32 of the bytes as the
 *	kernel's CPU reads them.
 */
struct edu_dmabuf_xfer {
	__s32 fd;
	__u32 flags;
	__u64 offset;
	__u64 len;
	__u32 seed;
	__u32 crc32;
};

/*
 * EDU_DMABUF_IOCTL_KMAP_CRC reads the range through the buffer's linear
 * kernel mapping (dma_buf_vmap()) instead of page by page.
 */
#define EDU_DMABUF_XFER_VMAP	0x1U

/* The largest number of segments EDU_DMABUF_IOCTL_MAP_INFO reports. */
#define EDU_DMABUF_MAX_SEGS	64

/**
 * struct edu_dmabuf_segment - one DMA segment of a mapping
 * @addr: DMA address as the device sees it.
 * @len: length in bytes.
 */
struct edu_dmabuf_segment {
	__u64 addr;
	__u64 len;
};

/**
 * struct edu_dmabuf_map_info - how the device sees a buffer
 * @fd: the dma-buf.
 * @flags: zero, or EDU_DMABUF_MAP_INFO_PIECES.
 * @dma_mask: on return, the device's DMA mask.
 * @nr_segs: on return, the number of DMA segments of the mapping (with
 *	EDU_DMABUF_MAP_INFO_PIECES, of pieces).
 * @pad: padding, ignored.
 * @segs: on return, the first EDU_DMABUF_MAX_SEGS of them.
 *
 * Maps the buffer for the device (allocating the storage if the exporter
 * defers it) exactly as a transfer would, reports the mapping, and unmaps.
 */
struct edu_dmabuf_map_info {
	__s32 fd;
	__u32 flags;
	__u64 dma_mask;
	__u32 nr_segs;
	__u32 pad;
	struct edu_dmabuf_segment segs[EDU_DMABUF_MAX_SEGS];
};

/*
 * EDU_DMABUF_IOCTL_MAP_INFO reports pieces instead of segments: segments
 * whose DMA addresses follow each other make one piece (the device takes
 * at most 64 KiB in one segment, so that a buffer contiguous in its DMA
 * address space comes in several segments but one piece). Where every
 * mapping is bounced (swiotlb=force), each segment goes to a bounce
 * buffer of its own, and pieces are where those happen to lie: segments
 * bounced into neighbouring slots make one piece by chance. Memory an
 * exporter had the DMA API allocate for the device (a buffer attached
 * with EDU_DMABUF_ATTACH_ONE_PIECE that bounce buffers would cut up) is
 * not bounced: one piece, at its own address.
 */
#define EDU_DMABUF_MAP_INFO_PIECES	0x1U

/**
 * struct edu_dmabuf_attach - keep a buffer attached to the device
 * @fd: the dma-buf.
 * @flags: EDU_DMABUF_IOCTL_ATTACH: zero or EDU_DMABUF_ATTACH_ONE_PIECE.
 *	EDU_DMABUF_IOCTL_DETACH: zero.
 */
struct edu_dmabuf_attach {
	__s32 fd;
	__u32 flags;
};

/*
 * EDU_DMABUF_IOCTL_ATTACH: the device states that it takes the buffer in
 * one piece, contiguous in its DMA address space, as a device without
 * scatter-gather would (dma_buf_attach_segments() with one segment). The
 * edu device needs no such thing (the driver transfers segment by
 * segment); the flag shows how exporters place a buffer for such a
 * device: in one physically contiguous block where DMA addresses are
 * physical, anywhere behind an IOMMU that translates, in memory the DMA
 * API allocated for the device where every mapping is bounced through
 * buffers smaller than the buffer. The attachment's mappings then come in
 * one piece (EDU_DMABUF_MAP_INFO_PIECES). The call fails with ERANGE
 * where the buffer cannot be had in one piece (its storage is pinned in
 * more, its exporter cannot move it, or, bounced, another device has the
 * buffer's memory allocated for it already), and with ENOMEM where
 * idle storage had to move into one block and none was to be had; a
 * first use that finds no block fails with ENOMEM. A buffer this file
 * attached already gets EEXIST, the storage untouched (unless two calls
 * for the same buffer race: both attach, one gets EEXIST).
 */
#define EDU_DMABUF_ATTACH_ONE_PIECE	0x1U

#define EDU_DMABUF_IOC_MAGIC	'E'

/* DMA a range of the buffer into the device; returns its CRC-32. */
#define EDU_DMABUF_IOCTL_TO_DEVICE \
	_IOWR(EDU_DMABUF_IOC_MAGIC, 0, struct edu_dmabuf_xfer)
/* The device writes a seeded pattern into a range of the buffer. */
#define EDU_DMABUF_IOCTL_FROM_DEVICE \
	_IOW(EDU_DMABUF_IOC_MAGIC, 1, struct edu_dmabuf_xfer)
/* Report the device's mapping of a buffer. */
#define EDU_DMABUF_IOCTL_MAP_INFO \
	_IOWR(EDU_DMABUF_IOC_MAGIC, 2, struct edu_dmabuf_map_info)
/*
 * Attach the buffer to the device until EDU_DMABUF_IOCTL_DETACH or until
 * this file is closed, so that an exporter that allocates at first use
 * sees the device among the buffer's attachments. Transfers on the
 * buffer use this attachment.
 */
#define EDU_DMABUF_IOCTL_ATTACH \
	_IOW(EDU_DMABUF_IOC_MAGIC, 3, struct edu_dmabuf_attach)
#define EDU_DMABUF_IOCTL_DETACH \
	_IOW(EDU_DMABUF_IOC_MAGIC, 4, struct edu_dmabuf_attach)
/*
 * No DMA: the CRC-32 of a range as the kernel's CPU reads it, through
 * dma_buf_kmap() and dma_buf_kmap_atomic() on alternate pages (or
 * dma_buf_vmap(), with EDU_DMABUF_XFER_VMAP), between
 * dma_buf_begin_cpu_access() and dma_buf_end_cpu_access().
 */
#define EDU_DMABUF_IOCTL_KMAP_CRC \
	_IOWR(EDU_DMABUF_IOC_MAGIC, 5, struct edu_dmabuf_xfer)

/**
 * edu_dmabuf_pattern() - byte @i of the pattern for @seed
 * @seed: the seed given to EDU_DMABUF_IOCTL_FROM_DEVICE.
 * @i: the byte's position from the start of the transfer.
 *
 * Return: the byte the device writes at @offset + @i.
 */
static __inline__ __u8 edu_dmabuf_pattern(__u32 seed, __u64 i)
{
	__u32 x = seed + (__u32)i * 0x9e3779b1u;

	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	x ^= x >> 12;
	return (__u8)x;
}

#endif /* _UAPI_LINUX_EDU_DMABUF_H */
