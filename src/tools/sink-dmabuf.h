/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * CPU reads of the DMA-BUF behind one buffer of castrelay-sink --dmabuf: a read-only shared
 * mapping made once per buffer, reads bracketed with DMA_BUF_IOCTL_SYNC, and the validation
 * of the plane layout a producer states per frame (its chunks) against that mapping. Kernel
 * uapi only, no PipeWire. Messages go to stderr. One thread (castrelay-sink's main loop).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmabuf.h"

struct cr_sink_dmabuf {
	int fd;              /**< borrowed: the buffer's fd, open as long as the buffer exists */
	const uint8_t *data; /**< PROT_READ, MAP_SHARED mapping of the whole fd */
	uint64_t size;       /**< bytes mapped */
	uint64_t dev, ino;   /**< identity of the file, to recognise other fds of the same one */
	bool no_sync;        /**< DMA_BUF_IOCTL_SYNC is not supported (ENOTTY: a memfd) */
};

/**
 * Maps @fd (borrowed; it must stay open until cr_sink_dmabuf_destroy()) read-only. The size is
 * what lseek(SEEK_END) reports (DMA-BUFs and memfds support it), or @fallback_size (the
 * producer's mapoffset + maxsize) when lseek cannot tell. Returns NULL (message printed) when
 * the fd cannot be mapped or the size is 0.
 */
struct cr_sink_dmabuf *cr_sink_dmabuf_create(int fd, uint64_t fallback_size);

/** Unmaps and frees; does not close the fd. NULL is a no-op. */
void cr_sink_dmabuf_destroy(struct cr_sink_dmabuf *map);

/** True when @fd (borrowed) refers to the mapped file: the same fd or another one of it. */
bool cr_sink_dmabuf_holds(const struct cr_sink_dmabuf *map, int fd);

/**
 * Before the CPU reads: DMA_BUF_IOCTL_SYNC(START | READ), which waits for the buffer's writers
 * (implicit fences). A memfd handed out as a DMA-BUF answers ENOTTY: that is remembered and
 * the read goes ahead. Returns false (message printed) on any other failure: then the buffer
 * must not be read and cr_sink_dmabuf_end_read() must not be called.
 */
bool cr_sink_dmabuf_begin_read(struct cr_sink_dmabuf *map);

/** After the CPU read: DMA_BUF_IOCTL_SYNC(END | READ); failures are printed. */
void cr_sink_dmabuf_end_read(struct cr_sink_dmabuf *map);

/**
 * One block (spa_data) of a DMA-BUF buffer as its producer describes it. The block is the
 * bytes [mapoffset, mapoffset + maxsize) of the fd; its chunk says where in the block the
 * plane starts (offset), how many bytes it has (size) and how far apart its rows are (stride).
 * All values are the peer's and unchecked.
 */
struct cr_sink_dmabuf_block {
	uint32_t mapoffset;
	uint32_t maxsize;
	uint32_t offset;
	uint32_t size;
	int32_t stride;
};

/**
 * The plane layout of a @width x @height frame of @fmt (relative to the start of a mapping of
 * @map_size bytes) from @n_blocks blocks: one block per plane (what castrelayd's DMA-BUF
 * output sends), or a single block for a planar format, whose chroma planes then lie where
 * GStreamer's default layout derived from the chunk stride puts them (cr_frame_layout()).
 * Every byte a reader of the visible pixels touches must lie inside its chunk, its block and
 * the mapping. Returns false with a one-line reason in @why (of @why_len bytes) for a layout
 * that cannot be read. Pure.
 */
bool cr_sink_dmabuf_layout(const struct cr_format_info *fmt, uint32_t width, uint32_t height,
			   const struct cr_sink_dmabuf_block *blocks, uint32_t n_blocks,
			   uint64_t map_size, struct cr_plane_layout *layout, char *why,
			   size_t why_len);
