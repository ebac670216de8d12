/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * A producer's buffer decoded from fuzz input, as PipeWire hands it to pw-input: the
 * negotiated format, the datas with their chunks (what the producer's Buffers negotiation
 * and buffer announcement give us) and the metas, each with the size PipeWire declares and
 * the bytes the producer wrote. Every meta's memory ends at exactly its declared size and
 * every mapped data at its maxsize, so ASan reports any read past them; DMA-BUF
 * datas get a memfd of the size the input asks for (DMA-BUFs and memfds are both sized with
 * lseek), other datas fd -1.
 *
 * Encoding (little-endian; missing bytes read as 0), written by make-seeds.c:
 *   format:  u8 format (index into BGRx RGBx BGRA RGBA xRGB_210LE xBGR_210LE NV12 I420),
 *            u16 width-1, u16 height-1 (each taken modulo 16384: the EnumFormat's range),
 *            u8 modifier (0: none, SHM; 1: LINEAR; else a tiled one)
 *   datas:   u8 count-1 (modulo CR_FUZZ_MAX_DATAS), then per data: u8 SPA_DATA_* type,
 *            u8 mapped (bit 0: SHM memory present), u32 maxsize (mapped: modulo 64 KiB),
 *            u32 fd size (DmaBuf: modulo 16 MiB), u32 chunk offset, u32 chunk size,
 *            u32 chunk stride (as int32), u32 chunk flags
 *   metas:   u8 count (modulo CR_FUZZ_MAX_METAS + 1), then per meta: u8 SPA_META_* type,
 *            u32 declared size (modulo 1 MiB), u32 n, then n bytes of content (the rest of
 *            the meta is zero)
 */
#include "fuzz.h"
#include "pw-format.h"
#include "pw-input-frame.h"

#define CR_FUZZ_MAX_DATAS 6
#define CR_FUZZ_MAX_METAS 8

struct cr_fuzz_buffer {
	struct cr_video_format format;
	struct spa_buffer buf;
	struct spa_data datas[CR_FUZZ_MAX_DATAS];
	struct spa_chunk chunks[CR_FUZZ_MAX_DATAS];
	struct spa_meta metas[CR_FUZZ_MAX_METAS];
};

/** Decodes the format part into @b->format. */
void cr_fuzz_buffer_read_format(struct cr_fuzz_reader *r, struct cr_fuzz_buffer *b);

/** Decodes the datas part (allocates the mappings, makes the memfds). */
void cr_fuzz_buffer_read_datas(struct cr_fuzz_reader *r, struct cr_fuzz_buffer *b);

/** Gives @b one data per plane of its format in GStreamer's default layout: a LINEAR
 * DMA-BUF of exactly the frame's size, without memory. */
void cr_fuzz_buffer_default_datas(struct cr_fuzz_buffer *b, uint64_t *sizes);

/** Decodes the metas part (each meta's memory is valid until the next call). */
void cr_fuzz_buffer_read_metas(struct cr_fuzz_reader *r, struct cr_fuzz_buffer *b);

/** Frees the mappings, closes the memfds. */
void cr_fuzz_buffer_finish(struct cr_fuzz_buffer *b);

/**
 * What must hold of a frame cr_pw_input_frame_read() accepted from @b, @sizes being the
 * DMA-BUF plane sizes it was given: every plane of SHM and LINEAR frames lies inside its
 * memory (SHM: every row is read, so ASan sees any escape), one-block planes do not overlap,
 * the crop lies in the frame, the transform is a valid one, damage is clipped to the frame,
 * the cursor pointer is the meta's own. Then follows the cursor with
 * cr_pw_input_frame_cursor_update() into @cursor and checks it (a bitmap of at most
 * CR_PW_INPUT_FRAME_CURSOR_MAX square in an alpha format, its pixels readable).
 */
void cr_fuzz_buffer_check_frame(const struct cr_fuzz_buffer *b, const uint64_t *sizes,
				const struct cr_pw_input_frame *f,
				struct cr_pw_input_frame_cursor *cursor);

/**
 * A cursor as the relay starts with (nothing seen), whose bitmap memory is kept from input to
 * input (allocating it for each made the targets slow).
 */
struct cr_pw_input_frame_cursor *cr_fuzz_buffer_cursor(void);
