/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * The memory behind one buffer of castrelay-testsrc: a sealed memfd (shared memory, or handed
 * out as a DMA-BUF with --memfd-dmabuf) or a real DMA-BUF from udmabuf, the system dma-heap or
 * vgem (dmabuf-alloc.h), mapped for the CPU. CPU writes to a real DMA-BUF are bracketed with
 * DMA_BUF_IOCTL_SYNC; a vgem buffer can carry an unsignalled write fence while the CPU
 * "renders" late. Kernel uapi only, no PipeWire. Errors are printed on stderr. One thread
 * (castrelay-testsrc's main loop).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmabuf-alloc.h"

enum cr_testsrc_buffer_kind {
	CR_TESTSRC_BUFFER_MEMFD,   /**< memfd_create, sealed */
	CR_TESTSRC_BUFFER_UDMABUF, /**< /dev/udmabuf over a sealed memfd */
	CR_TESTSRC_BUFFER_HEAP,    /**< /dev/dma_heap/system */
	CR_TESTSRC_BUFFER_VGEM,    /**< vgem dumb buffer, PRIME export */
};

struct cr_testsrc_buffer {
	enum cr_testsrc_buffer_kind kind;
	int fd;        /**< owned: the memfd or DMA-BUF to hand out */
	void *map;     /**< shared writable mapping of @size bytes */
	size_t size;   /**< bytes mapped, at least what was asked for */
	int vgem_fd;   /**< borrowed, VGEM only */
	struct cr_dmabuf_alloc_vgem_bo bo; /**< VGEM only */
	bool fenced;   /**< a vgem write fence is attached and not signalled yet */
	uint32_t fence;
};

/**
 * Parses "udmabuf", "heap" or "vgem" (the values of --dmabuf). Returns false for anything
 * else, leaving @kind untouched.
 */
bool cr_testsrc_buffer_kind_from_name(const char *name, enum cr_testsrc_buffer_kind *kind);

/** "memfd", "udmabuf", "heap" or "vgem". */
const char *cr_testsrc_buffer_kind_name(enum cr_testsrc_buffer_kind kind);

/**
 * Allocates and maps at least @size bytes of @kind. VGEM needs @vgem_fd (borrowed, a vgem
 * primary node that outlives the buffer) and @stride (bytes, a multiple of 4) to size the
 * dumb buffer; the others ignore both. Returns NULL (errno set, message printed) on failure.
 */
struct cr_testsrc_buffer *cr_testsrc_buffer_create(enum cr_testsrc_buffer_kind kind, size_t size,
						   uint32_t stride, int vgem_fd);

/** Signals a pending fence, unmaps and frees everything; NULL is a no-op. */
void cr_testsrc_buffer_destroy(struct cr_testsrc_buffer *buf);

/**
 * Before the CPU writes: for a real DMA-BUF, DMA_BUF_IOCTL_SYNC(START | WRITE), which blocks
 * until the buffer's readers and writers are done. Returns false (printed) when the ioctl
 * failed; the write may still go ahead.
 */
bool cr_testsrc_buffer_begin_write(struct cr_testsrc_buffer *buf);

/** After the CPU wrote: DMA_BUF_IOCTL_SYNC(END | WRITE) for a real DMA-BUF. */
void cr_testsrc_buffer_end_write(struct cr_testsrc_buffer *buf);

/**
 * VGEM only: attaches a new unsignalled write fence, so that readers' implicit sync waits for
 * cr_testsrc_buffer_signal(). Call between begin_write and end_write (beginning a write waits
 * for this very fence). Returns false (printed) on failure or for another kind.
 */
bool cr_testsrc_buffer_fence(struct cr_testsrc_buffer *buf);

/** Signals the fence of cr_testsrc_buffer_fence(), if one is pending. */
bool cr_testsrc_buffer_signal(struct cr_testsrc_buffer *buf);
