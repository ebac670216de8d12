/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Guest-side helpers of the vm test bed (tests/vm/run-in-vm.sh): real DMA-BUFs from the three
 * providers the guest kernel has (udmabuf, the system dma-heap, vgem), vgem's test fences, and
 * the implicit-sync uapi on any DMA-BUF (DMA_BUF_IOCTL_EXPORT/IMPORT_SYNC_FILE). Kernel uapi
 * and libdrm only. Every function logs the failing call with errno to stderr and returns
 * -1/false/NULL; errno is preserved for the caller. Any thread, no shared state.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Opens the DRM node of the device whose kernel driver is @driver ("vgem", "virtio_gpu"):
 * the primary node (/dev/dri/cardN) when @primary, else the render node. Returns a new fd
 * (O_RDWR | O_CLOEXEC) or -1 with a log line naming the drivers that were found.
 */
int cr_vm_dmabuf_open_drm(const char *driver, bool primary);

/**
 * Allocates a DMA-BUF of @size bytes (a multiple of the page size) from udmabuf: a sealed
 * memfd handed to /dev/udmabuf (UDMABUF_CREATE). When @memfd is not NULL the memfd is returned
 * there (the caller closes it; both map the same pages), else it is closed. Returns the
 * DMA-BUF fd or -1.
 */
int cr_vm_dmabuf_udmabuf(size_t size, int *memfd);

/** Allocates a DMA-BUF of @size bytes from /dev/dma_heap/system. Returns the fd or -1. */
int cr_vm_dmabuf_heap(size_t size);

/** A vgem dumb buffer (32 bits per pixel), exported as a DMA-BUF and mapped for the CPU. */
struct cr_vm_vgem_bo {
	uint32_t handle;  /**< GEM handle on the vgem fd it was created on */
	int dmabuf;       /**< owned PRIME export (O_RDWR | O_CLOEXEC) */
	uint32_t width;
	uint32_t height;
	uint32_t stride;  /**< bytes, as chosen by the kernel */
	uint64_t size;    /**< bytes */
	void *map;        /**< shared, writable mapping of the whole buffer */
};

/**
 * Creates a @width x @height vgem buffer on @vgem_fd (borrowed: a primary node, dumb buffers
 * are not allowed on render nodes), exports it and maps it into @bo. Returns false on failure
 * with nothing left to free.
 */
bool cr_vm_vgem_bo_init(struct cr_vm_vgem_bo *bo, int vgem_fd, uint32_t width, uint32_t height);

/** Unmaps, closes and frees what cr_vm_vgem_bo_init() made; safe on a zeroed @bo. */
void cr_vm_vgem_bo_finish(struct cr_vm_vgem_bo *bo, int vgem_fd);

/**
 * Attaches a new, unsignalled vgem fence to buffer @handle (DRM_IOCTL_VGEM_FENCE_ATTACH), as a
 * writer when @write (exclusive: readers' implicit sync waits for it) or as a reader. The fence
 * id is returned in @fence for cr_vm_vgem_fence_signal(). vgem signals a forgotten fence by
 * itself after 10 s (with an error status), so tests keep fences pending for less than that.
 */
bool cr_vm_vgem_fence_attach(int vgem_fd, uint32_t handle, bool write, uint32_t *fence);

/** Signals the vgem fence @fence (DRM_IOCTL_VGEM_FENCE_SIGNAL). */
bool cr_vm_vgem_fence_signal(int vgem_fd, uint32_t fence);

/**
 * DMA_BUF_IOCTL_EXPORT_SYNC_FILE on @dmabuf (borrowed) with @flags DMA_BUF_SYNC_READ and/or
 * DMA_BUF_SYNC_WRITE (what the caller intends to do: READ waits for writers only). Returns a
 * new sync_file fd or -1 (ENOTTY: not a DMA-BUF or a kernel before 5.20).
 */
int cr_vm_dmabuf_export_sync_file(int dmabuf, uint32_t flags);

/**
 * DMA_BUF_IOCTL_IMPORT_SYNC_FILE: adds the fence of @sync_file (borrowed) to @dmabuf
 * (borrowed) as a writer (DMA_BUF_SYNC_WRITE) or a reader (DMA_BUF_SYNC_READ).
 */
bool cr_vm_dmabuf_import_sync_file(int dmabuf, int sync_file, uint32_t flags);

/**
 * State of the fence behind @sync_file (borrowed; a sync_file polls readable once signalled):
 * 1 signalled, 0 pending, -1 not pollable. Waits at most @timeout_ms (0: just looks).
 */
int cr_vm_sync_file_wait(int sync_file, int timeout_ms);

/**
 * The status the kernel reports for @sync_file (SYNC_IOC_FILE_INFO): 1 signalled, 0 pending,
 * negative errno when its fence signalled with an error (vgem's 10 s expiry gives -ETIMEDOUT),
 * or INT32_MIN when the ioctl failed.
 */
int32_t cr_vm_sync_file_status(int sync_file);

/** Monotonic clock in nanoseconds. */
uint64_t cr_vm_now_ns(void);

/** Sleeps @ns nanoseconds (resumed after signals). */
void cr_vm_sleep_ns(uint64_t ns);
