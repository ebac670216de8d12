/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Real DMA-BUFs for test producers, from the three providers a kernel without a GPU can have:
 * udmabuf (a sealed memfd handed to /dev/udmabuf), the system dma-heap, and vgem dumb buffers
 * exported with PRIME, plus vgem's test fences (the only way to put an unsignalled fence on a
 * DMA-BUF from user space) and CPU access brackets. Used by castrelay-testsrc (--dmabuf) and
 * by the vm test bed (tests/vm/). Kernel uapi and libdrm only, no PipeWire.
 *
 * Every function logs the failing call with errno on stderr ("dmabuf-alloc: ...") and returns
 * -1/false; errno is preserved for the caller. Any thread, no shared state.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Opens the DRM node of the device whose kernel driver is @driver ("vgem", "virtio_gpu"):
 * the primary node (/dev/dri/cardN) when @primary, else the render node. Returns a new fd
 * (O_RDWR | O_CLOEXEC), or -1 with a log line naming the drivers that were found and errno
 * ENODEV when there is none.
 */
int cr_dmabuf_alloc_open_drm(const char *driver, bool primary);

/**
 * Allocates a DMA-BUF of @size bytes (a multiple of the page size) from udmabuf: a sealed
 * memfd handed to /dev/udmabuf (UDMABUF_CREATE). When @memfd is not NULL the memfd is returned
 * there (the caller closes it; both map the same pages), else it is closed. Returns the
 * DMA-BUF fd (O_CLOEXEC) or -1.
 */
int cr_dmabuf_alloc_udmabuf(size_t size, int *memfd);

/** Allocates a DMA-BUF of @size bytes from /dev/dma_heap/system. Returns the fd or -1. */
int cr_dmabuf_alloc_heap(size_t size);

/** A vgem dumb buffer (32 bits per pixel), exported as a DMA-BUF and mapped for the CPU. */
struct cr_dmabuf_alloc_vgem_bo {
	uint32_t handle;  /**< GEM handle on the vgem fd it was created on */
	int dmabuf;       /**< owned PRIME export (O_RDWR | O_CLOEXEC) */
	uint32_t width;
	uint32_t height;
	uint32_t stride;  /**< bytes, as chosen by the kernel */
	uint64_t size;    /**< bytes */
	void *map;        /**< shared, writable mapping of the whole buffer (through the DMA-BUF) */
};

/**
 * Creates a @width x @height vgem buffer on @vgem_fd (borrowed: a primary node, dumb buffers
 * are not allowed on render nodes), exports it and maps it into @bo. Returns false on failure
 * with nothing left to free.
 */
bool cr_dmabuf_alloc_vgem_bo_init(struct cr_dmabuf_alloc_vgem_bo *bo, int vgem_fd,
				  uint32_t width, uint32_t height);

/** Unmaps, closes and frees what cr_dmabuf_alloc_vgem_bo_init() made; safe on a zeroed @bo. */
void cr_dmabuf_alloc_vgem_bo_finish(struct cr_dmabuf_alloc_vgem_bo *bo, int vgem_fd);

/**
 * Attaches a new, unsignalled vgem fence to buffer @handle (DRM_IOCTL_VGEM_FENCE_ATTACH), as a
 * writer when @write (exclusive: readers' implicit sync waits for it) or as a reader. The fence
 * id is returned in @fence for cr_dmabuf_alloc_vgem_fence_signal(). vgem signals a forgotten
 * fence by itself after 10 s (with an error status), so users keep fences pending for less.
 */
bool cr_dmabuf_alloc_vgem_fence_attach(int vgem_fd, uint32_t handle, bool write,
				       uint32_t *fence);

/** Signals the vgem fence @fence (DRM_IOCTL_VGEM_FENCE_SIGNAL). */
bool cr_dmabuf_alloc_vgem_fence_signal(int vgem_fd, uint32_t fence);

/**
 * Brackets CPU access through a mapping of @dmabuf (borrowed) with DMA_BUF_IOCTL_SYNC: @start
 * true before the access, false after it; @write when the CPU writes. Starting a write access
 * waits (blocking) for every fence on the buffer, readers' and writers' alike, our own vgem
 * fences included: start before attaching one.
 */
bool cr_dmabuf_alloc_cpu_access(int dmabuf, bool start, bool write);
