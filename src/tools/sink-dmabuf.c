/* SPDX-License-Identifier: MIT */
#include "sink-dmabuf.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/dma-buf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cr-params.h"
#include "frame.h"

struct cr_sink_dmabuf *cr_sink_dmabuf_create(int fd, uint64_t fallback_size)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		fprintf(stderr, "sink: cannot stat DMA-BUF fd %d: %s\n", fd, strerror(errno));
		return NULL;
	}
	off_t end = lseek(fd, 0, SEEK_END);
	uint64_t size = end > 0 ? (uint64_t)end : fallback_size;
	if (size == 0 || size > SIZE_MAX) {
		fprintf(stderr, "sink: DMA-BUF fd %d has no usable size (lseek: %lld, producer: "
			"%" PRIu64 ")\n", fd, (long long)end, fallback_size);
		return NULL;
	}
	void *data = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
	if (data == MAP_FAILED) {
		fprintf(stderr, "sink: cannot map %" PRIu64 " bytes of DMA-BUF fd %d: %s\n", size,
			fd, strerror(errno));
		return NULL;
	}
	struct cr_sink_dmabuf *map = calloc(1, sizeof(*map));
	if (map == NULL) {
		fprintf(stderr, "sink: out of memory\n");
		munmap(data, (size_t)size);
		return NULL;
	}
	*map = (struct cr_sink_dmabuf){
		.fd = fd,
		.data = data,
		.size = size,
		.dev = (uint64_t)st.st_dev,
		.ino = (uint64_t)st.st_ino,
	};
	return map;
}

void cr_sink_dmabuf_destroy(struct cr_sink_dmabuf *map)
{
	if (map == NULL)
		return;
	munmap((void *)map->data, (size_t)map->size);
	free(map);
}

bool cr_sink_dmabuf_holds(const struct cr_sink_dmabuf *map, int fd)
{
	struct stat st;
	if (fd == map->fd)
		return true;
	return fstat(fd, &st) == 0 && (uint64_t)st.st_dev == map->dev &&
	       (uint64_t)st.st_ino == map->ino;
}

/* The kernel restarts nothing here: EINTR and EAGAIN mean "ask again" (as libdrm does). */
static int sync_ioctl(int fd, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags };
	int res;
	do {
		res = ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
	} while (res < 0 && (errno == EINTR || errno == EAGAIN));
	return res < 0 ? -errno : 0;
}

bool cr_sink_dmabuf_begin_read(struct cr_sink_dmabuf *map)
{
	if (map->no_sync)
		return true;
	int res = sync_ioctl(map->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	if (res == -ENOTTY) {
		/* Not a DMA-BUF: castrelay-testsrc --memfd-dmabuf hands out memfds. */
		map->no_sync = true;
		return true;
	}
	if (res < 0) {
		fprintf(stderr, "sink: DMA_BUF_IOCTL_SYNC(START|READ) on fd %d: %s\n", map->fd,
			strerror(-res));
		return false;
	}
	return true;
}

void cr_sink_dmabuf_end_read(struct cr_sink_dmabuf *map)
{
	if (map->no_sync)
		return;
	int res = sync_ioctl(map->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	if (res < 0)
		fprintf(stderr, "sink: DMA_BUF_IOCTL_SYNC(END|READ) on fd %d: %s\n", map->fd,
			strerror(-res));
}

/*
 * Plane @i of @rows rows of @row_bytes, @stride apart, starting @start bytes into block @b:
 * every byte read must lie in the chunk, the block and the mapping, and its offset from the
 * start of the mapping must fit cr_plane_layout.
 */
static bool place_plane(unsigned i, const struct cr_sink_dmabuf_block *b, uint64_t start,
			uint32_t stride, uint32_t rows, uint64_t row_bytes, uint64_t map_size,
			struct cr_plane_layout *layout, char *why, size_t why_len)
{
	if (stride < row_bytes) {
		snprintf(why, why_len, "plane %u: stride %u is shorter than a row of %" PRIu64
			 " bytes", i, stride, row_bytes);
		return false;
	}
	uint64_t end = start + (uint64_t)(rows - 1) * stride + row_bytes;
	if (end > (uint64_t)b->offset + b->size) {
		snprintf(why, why_len, "plane %u: needs bytes %" PRIu64 "..%" PRIu64 " of its "
			 "block, the chunk has %u..%" PRIu64, i, start, end, b->offset,
			 (uint64_t)b->offset + b->size);
		return false;
	}
	if (end > b->maxsize) {
		snprintf(why, why_len, "plane %u: ends at byte %" PRIu64 " of a %u-byte block", i,
			 end, b->maxsize);
		return false;
	}
	if (b->mapoffset + end > map_size) {
		snprintf(why, why_len, "plane %u: ends at byte %" PRIu64 " of a %" PRIu64
			 "-byte DMA-BUF", i, b->mapoffset + end, map_size);
		return false;
	}
	if (b->mapoffset + start > UINT32_MAX) {
		snprintf(why, why_len, "plane %u: offset %" PRIu64 " is too large", i,
			 b->mapoffset + start);
		return false;
	}
	layout->offset[i] = (uint32_t)(b->mapoffset + start);
	layout->stride[i] = stride;
	return true;
}

bool cr_sink_dmabuf_layout(const struct cr_format_info *fmt, uint32_t width, uint32_t height,
			   const struct cr_sink_dmabuf_block *blocks, uint32_t n_blocks,
			   uint64_t map_size, struct cr_plane_layout *layout, char *why,
			   size_t why_len)
{
	uint32_t cw = cr_frame_chroma_size(width), ch = cr_frame_chroma_size(height);
	uint32_t n_planes = fmt->n_planes;
	bool single = n_blocks < n_planes;

	if (n_planes == 0 || n_planes > 3 || (single && n_blocks != 1)) {
		snprintf(why, why_len, "%u blocks for the %u planes of %s", n_blocks, n_planes,
			 fmt->name);
		return false;
	}
	for (uint32_t i = 0; i < (single ? 1 : n_planes); i++) {
		if (blocks[i].size == 0) {
			snprintf(why, why_len, "plane %u: empty chunk", i);
			return false;
		}
		if (blocks[i].stride <= 0) {
			snprintf(why, why_len, "plane %u: chunk stride %d", i, blocks[i].stride);
			return false;
		}
	}

	/* cr_frame_layout() computes the chroma offsets in 32 bits (about 2.5 strides a row). */
	if (single && (uint64_t)blocks[0].stride * ((uint64_t)height + 2) * 2 > UINT32_MAX) {
		snprintf(why, why_len, "plane 0: stride %d is too large", blocks[0].stride);
		return false;
	}
	struct cr_plane_layout derived;
	if (single &&
	    !cr_frame_layout(fmt, width, height, (uint32_t)blocks[0].stride, &derived)) {
		snprintf(why, why_len, "plane 0: stride %d is shorter than a row", blocks[0].stride);
		return false;
	}
	*layout = (struct cr_plane_layout){ .n_planes = n_planes };
	for (uint32_t i = 0; i < n_planes; i++) {
		const struct cr_sink_dmabuf_block *b = &blocks[single ? 0 : i];
		uint64_t row_bytes = (uint64_t)width * fmt->bytes_per_pixel;
		uint32_t rows = height;
		if (i > 0) {
			row_bytes = fmt->out_kind == CR_OUT_NV12 ? 2 * (uint64_t)cw : cw;
			rows = ch;
		}
		uint64_t start = b->offset + (single ? (uint64_t)derived.offset[i] : 0);
		uint32_t stride = single ? derived.stride[i] : (uint32_t)b->stride;
		if (!place_plane(i, b, start, stride, rows, row_bytes, map_size, layout, why,
				 why_len))
			return false;
	}
	/* Only informative here: the frame's planes need not be contiguous. */
	layout->size = map_size;
	return true;
}
