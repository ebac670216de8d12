/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * The plane descriptor of a frame buffer: the currency between the PipeWire side and the
 * Vulkan side. Also the table of pixel formats castrelay understands, keyed by DRM fourcc
 * (the SPA video format is mapped to it by pw-format), and validation of a peer's buffer
 * layout before anything touches it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CR_DMABUF_MAX_PLANES 4

struct cr_dmabuf_plane {
	int fd;          /**< borrowed: owned by whoever filled the descriptor */
	uint32_t offset; /**< bytes */
	uint32_t stride; /**< bytes */
};

struct cr_dmabuf {
	uint32_t width;
	uint32_t height;
	uint32_t fourcc;   /**< DRM_FORMAT_* */
	uint64_t modifier; /**< DRM_FORMAT_MOD_* */
	uint32_t n_planes;
	struct cr_dmabuf_plane planes[CR_DMABUF_MAX_PLANES];
};

struct cr_format_info {
	uint32_t fourcc;   /**< DRM_FORMAT_* */
	const char *name;  /**< the SPA/GStreamer name: "BGRx" */
	uint32_t layout;   /**< CR_LAYOUT_* of shaders/cr-params.h, for packed formats */
	uint32_t n_planes;
	uint32_t bytes_per_pixel; /**< of plane 0 */
	bool has_alpha;
	uint32_t out_kind; /**< CR_OUT_*: how the planes lie (also for inputs) */
	bool is_yuv;
	uint32_t depth;    /**< bits per channel: 8 or 10 */
	bool readable;     /**< the kernel reads it as input (packed RGB and NV12; not I420) */
};

/** Where the planes of a frame lie in one buffer. */
struct cr_plane_layout {
	uint32_t n_planes;
	uint32_t offset[3]; /**< bytes */
	uint32_t stride[3]; /**< bytes */
	uint64_t size;      /**< bytes of the whole frame */
};

/**
 * The layout castrelay produces for @fmt at @width x @height: GStreamer's default layout
 * (rows padded to 4 bytes; chroma planes after a luma plane of even height), which is what
 * single-block PipeWire consumers assume for planar formats.
 */
void cr_format_plane_layout(const struct cr_format_info *fmt, uint32_t width, uint32_t height,
			    struct cr_plane_layout *layout);

/**
 * GStreamer's default layout of @fmt at @width x @height for a first plane whose rows are
 * @stride bytes apart (0: the default stride of cr_format_plane_layout()): the layout of a
 * planar frame that a producer sends in one block with only the chunk stride. NV12's UV plane
 * has the Y stride; I420's U and V planes have round_up_4(ceil(stride / 2)); chroma starts
 * after round_up_2(height) Y rows. Returns false when @stride is shorter than a row.
 */
bool cr_format_plane_layout_stride(const struct cr_format_info *fmt, uint32_t width,
				   uint32_t height, uint32_t stride,
				   struct cr_plane_layout *layout);

/**
 * The bytes per row and the number of rows that plane @plane of a @width x @height frame of
 * @fmt covers (chroma planes: rounded-up half resolution). @plane < fmt->n_planes.
 */
void cr_format_plane_size(const struct cr_format_info *fmt, uint32_t plane, uint32_t width,
			  uint32_t height, uint32_t *row_bytes, uint32_t *rows);

/** The format with DRM fourcc @fourcc, or NULL when castrelay does not handle it. */
const struct cr_format_info *cr_format_info_from_fourcc(uint32_t fourcc);

/** The format named @name ("BGRx", case-sensitive as in SPA), or NULL. */
const struct cr_format_info *cr_format_info_from_name(const char *name);

/**
 * "BGRx|RGBx|BGRA|RGBA|xRGB_210LE|xBGR_210LE|NV12|I420": the names accepted by
 * cr_format_info_from_name().
 */
const char *cr_format_names(void);

/**
 * True when fds @a and @b (borrowed) refer to one buffer: the same fd, or dups of one file (a
 * DMA-BUF has one inode however often it is passed around). Planes in one buffer share a
 * memory import; planes in different ones are disjoint.
 */
bool cr_dmabuf_same_buffer(int a, int b);

/**
 * Checks a buffer's layout against its format before import. LINEAR: plane count, every
 * plane's stride (at least the plane's row, cr_format_plane_size(); multiple of 4), offset
 * (multiple of 4) and that the plane fits inside its own fd (size found with lseek(SEEK_END),
 * which works on DMA-BUFs and memfds; planes may share an fd or lie in disjoint ones). Any
 * other modifier (tiled, compressed: the layout is the driver's, and memory planes may
 * outnumber the format's): 1 to CR_DMABUF_MAX_PLANES planes, each with an fd that has a size
 * and an offset inside it, and a non-zero stride for plane 0; DRM_FORMAT_MOD_INVALID is
 * rejected. Borrows the fds. Returns false and writes a one-line reason naming the plane and
 * the bad value into @why on rejection.
 */
bool cr_dmabuf_validate(const struct cr_dmabuf *buf, char *why, size_t why_len);

/**
 * Checks every plane of a frame of @fmt at @width x @height per frame (peers may change chunk
 * offsets and strides at any time): @planes[i] gives plane i's offset and stride (the fds are
 * ignored), @sizes[i] the bytes of the buffer (mapping or DMA-BUF) holding it, for i below
 * fmt->n_planes. Same rules and reason reporting as cr_dmabuf_validate() for LINEAR; for
 * shared memory and LINEAR DMA-BUFs only (other modifiers keep their import's layout).
 */
bool cr_dmabuf_check_planes(const struct cr_format_info *fmt, uint32_t width, uint32_t height,
			    const struct cr_dmabuf_plane *planes, const uint64_t *sizes,
			    char *why, size_t why_len);

/**
 * Checks plane 0 of @size bytes (a mapped SHM buffer or a whole DMA-BUF) with @stride and
 * @offset against @fmt and the frame size, per frame: peers may change chunk offsets and
 * strides at any time. Same rules and reason reporting as cr_dmabuf_validate().
 */
bool cr_dmabuf_check_plane(const struct cr_format_info *fmt, uint32_t width, uint32_t height,
			    uint32_t offset, uint32_t stride, uint64_t size, char *why,
			    size_t why_len);
