/* SPDX-License-Identifier: MIT */
#include "buffer-input.h"

#include <string.h>
#include <sanitizer/asan_interface.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm_fourcc.h>

static const uint32_t spa_formats[] = {
	SPA_VIDEO_FORMAT_BGRx, SPA_VIDEO_FORMAT_RGBx, SPA_VIDEO_FORMAT_BGRA,
	SPA_VIDEO_FORMAT_RGBA, SPA_VIDEO_FORMAT_xRGB_210LE, SPA_VIDEO_FORMAT_xBGR_210LE,
	SPA_VIDEO_FORMAT_NV12, SPA_VIDEO_FORMAT_I420,
};

#define MAX_MAP (1u << 16)
#define MAX_FD_SIZE (1u << 24)
#define MAX_META (1u << 20)

void cr_fuzz_buffer_read_format(struct cr_fuzz_reader *r, struct cr_fuzz_buffer *b)
{
	uint8_t index = cr_fuzz_u8(r);
	uint16_t w = cr_fuzz_u16(r), h = cr_fuzz_u16(r);
	uint8_t modifier = cr_fuzz_u8(r);
	b->format = (struct cr_video_format){
		.info = cr_pw_format_from_spa(spa_formats[index % SPA_N_ELEMENTS(spa_formats)]),
		.width = 1 + w % 16384u,
		.height = 1 + h % 16384u,
		.has_modifier = modifier != 0,
		.modifier = modifier == 1 ? DRM_FORMAT_MOD_LINEAR
			    : modifier ? DRM_FORMAT_MOD_NVIDIA_BLOCK_LINEAR_2D(0, 1, 1, 6, 4)
				       : DRM_FORMAT_MOD_INVALID,
		.framerate_denom = 1,
	};
	CR_FUZZ_CHECK(b->format.info != NULL);
	b->buf.datas = b->datas;
	b->buf.metas = b->metas;
}

static void init_data(struct spa_data *d, struct spa_chunk *c)
{
	*d = (struct spa_data){ .fd = -1, .chunk = c };
	*c = (struct spa_chunk){ 0 };
}

void cr_fuzz_buffer_read_datas(struct cr_fuzz_reader *r, struct cr_fuzz_buffer *b)
{
	/* PipeWire allocates the negotiated blocks: at least one. */
	b->buf.n_datas = 1 + cr_fuzz_u8(r) % CR_FUZZ_MAX_DATAS;
	for (uint32_t i = 0; i < b->buf.n_datas; i++) {
		struct spa_data *d = &b->datas[i];
		struct spa_chunk *c = &b->chunks[i];
		init_data(d, c);
		d->type = cr_fuzz_u8(r);
		bool mapped = cr_fuzz_u8(r) & 1;
		d->maxsize = cr_fuzz_u32(r);
		uint32_t fd_size = cr_fuzz_u32(r) % MAX_FD_SIZE;
		c->offset = cr_fuzz_u32(r);
		c->size = cr_fuzz_u32(r);
		c->stride = (int32_t)cr_fuzz_u32(r);
		c->flags = (int32_t)cr_fuzz_u32(r);
		if (mapped) {
			d->maxsize %= MAX_MAP;
			/* At least one byte so that malloc never returns NULL for 0: the size
			 * that ASan watches is still maxsize. */
			d->data = malloc(d->maxsize ? d->maxsize : 1);
			CR_FUZZ_CHECK(d->data != NULL);
		}
		if (d->type == SPA_DATA_DmaBuf) {
			int fd = memfd_create("fuzz-dmabuf", MFD_CLOEXEC);
			CR_FUZZ_CHECK(fd >= 0);
			CR_FUZZ_CHECK(ftruncate(fd, fd_size) == 0);
			d->fd = fd;
		}
	}
}

void cr_fuzz_buffer_default_datas(struct cr_fuzz_buffer *b, uint64_t *sizes)
{
	struct cr_plane_layout l;
	cr_format_plane_layout(b->format.info, b->format.width, b->format.height, &l);
	b->format.has_modifier = true;
	b->format.modifier = DRM_FORMAT_MOD_LINEAR;
	b->buf.n_datas = l.n_planes;
	for (uint32_t i = 0; i < l.n_planes; i++) {
		struct spa_data *d = &b->datas[i];
		init_data(d, &b->chunks[i]);
		d->type = SPA_DATA_DmaBuf;
		d->maxsize = (uint32_t)l.size;
		b->chunks[i] = (struct spa_chunk){
			.offset = l.offset[i], .size = (uint32_t)l.size - l.offset[i],
			.stride = (int32_t)l.stride[i],
		};
		sizes[i] = l.size;
	}
}

/*
 * Meta memory: one 1 MiB arena per meta, allocated once (a fresh malloc of up to 1 MiB per
 * meta and input made the meta target 30 times slower, in ASan's large allocator), with
 * everything past the meta's declared size poisoned: ASan reports a read past it exactly as
 * it would past a malloc of that size. Arenas are 8-byte aligned, as PipeWire's metas.
 */
static uint8_t *meta_memory(uint32_t i, uint32_t size)
{
	static uint8_t *arena[CR_FUZZ_MAX_METAS];
	if (!arena[i]) {
		arena[i] = malloc(MAX_META);
		CR_FUZZ_CHECK(arena[i] != NULL);
	}
	ASAN_POISON_MEMORY_REGION(arena[i], MAX_META);
	ASAN_UNPOISON_MEMORY_REGION(arena[i], size);
	memset(arena[i], 0, size);
	return arena[i];
}

void cr_fuzz_buffer_read_metas(struct cr_fuzz_reader *r, struct cr_fuzz_buffer *b)
{
	b->buf.n_metas = cr_fuzz_u8(r) % (CR_FUZZ_MAX_METAS + 1);
	for (uint32_t i = 0; i < b->buf.n_metas; i++) {
		struct spa_meta *m = &b->metas[i];
		m->type = cr_fuzz_u8(r);
		m->size = cr_fuzz_u32(r) % MAX_META;
		uint32_t n = cr_fuzz_u32(r);
		m->data = meta_memory(i, m->size);
		cr_fuzz_bytes(r, m->data, n < m->size ? n : m->size);
		if (n > m->size) /* content beyond the declared size is not the meta's */
			cr_fuzz_skip(r, n - m->size);
	}
}

void cr_fuzz_buffer_finish(struct cr_fuzz_buffer *b)
{
	for (uint32_t i = 0; i < b->buf.n_datas; i++) {
		free(b->datas[i].data);
		if (b->datas[i].type == SPA_DATA_DmaBuf && b->datas[i].fd >= 0)
			close((int)b->datas[i].fd);
	}
	b->buf.n_datas = b->buf.n_metas = 0;
}

/* Plane @i of @f: where its memory is and how big (NULL base: DMA-BUF, no memory here). */
static void plane_of(const struct cr_fuzz_buffer *b, const uint64_t *sizes,
		     const struct cr_pw_input_frame *f, uint32_t i, const uint8_t **base,
		     uint64_t *size, uint32_t *offset, uint32_t *stride)
{
	bool dmabuf = f->data == NULL;
	if (i == 0) {
		*base = f->data;
		*size = f->size;
		*offset = f->offset;
		*stride = f->stride;
		return;
	}
	const struct cr_pipeline_plane *e = &f->extra[i - 1];
	*offset = e->offset;
	*stride = e->stride;
	if (dmabuf) {
		*base = NULL;
		*size = sizes[i];
	} else if (e->data) {
		*base = e->data;
		*size = e->size;
	} else {
		*base = f->data;
		*size = f->size;
	}
}

static void check_planes(const struct cr_fuzz_buffer *b, const uint64_t *sizes,
			 const struct cr_pw_input_frame *f)
{
	const struct cr_video_format *fmt = &b->format;
	bool dmabuf = f->data == NULL;
	if (dmabuf && fmt->modifier != DRM_FORMAT_MOD_LINEAR)
		return; /* a tiled layout is the driver's to check at import */
	uint64_t end0 = 0;
	for (uint32_t i = 0; i < fmt->info->n_planes; i++) {
		const uint8_t *base;
		uint64_t size;
		uint32_t offset, stride, row_bytes, rows;
		plane_of(b, sizes, f, i, &base, &size, &offset, &stride);
		cr_format_plane_size(fmt->info, i, fmt->width, fmt->height, &row_bytes, &rows);
		CR_FUZZ_CHECK(stride >= row_bytes && rows > 0);
		uint64_t end = (uint64_t)offset + (uint64_t)stride * (rows - 1) + row_bytes;
		CR_FUZZ_CHECK(end <= size);
		if (i == 0)
			end0 = end;
		else if (base == f->data && !dmabuf)
			CR_FUZZ_CHECK(offset >= end0); /* one block: after plane 0 */
		if (!base)
			continue;
		volatile uint8_t sink = 0;
		for (uint32_t y = 0; y < rows; y++) {
			const uint8_t *row = base + offset + (uint64_t)stride * y;
			sink ^= row[0] ^ row[row_bytes - 1];
		}
		(void)sink;
	}
}

static const struct spa_meta *find_meta(const struct cr_fuzz_buffer *b, uint32_t type)
{
	for (uint32_t i = 0; i < b->buf.n_metas; i++)
		if (b->metas[i].type == type)
			return &b->metas[i];
	return NULL;
}

void cr_fuzz_buffer_check_frame(const struct cr_fuzz_buffer *b, const uint64_t *sizes,
				const struct cr_pw_input_frame *f,
				struct cr_pw_input_frame_cursor *cursor)
{
	const struct cr_video_format *fmt = &b->format;
	CR_FUZZ_CHECK(f->format == fmt);
	check_planes(b, sizes, f);
	if (f->has_crop) {
		CR_FUZZ_CHECK(f->crop.w > 0 && f->crop.h > 0);
		CR_FUZZ_CHECK((uint64_t)f->crop.x + f->crop.w <= fmt->width);
		CR_FUZZ_CHECK((uint64_t)f->crop.y + f->crop.h <= fmt->height);
	}
	CR_FUZZ_CHECK(f->transform <= SPA_META_TRANSFORMATION_Flipped270);
	CR_FUZZ_CHECK(f->damage.full || f->damage.n_rects > 0);
	CR_FUZZ_CHECK(f->damage.n_rects <= CR_DAMAGE_MAX);
	for (uint32_t i = 0; i < f->damage.n_rects; i++) {
		const struct cr_rect *r = &f->damage.rects[i];
		CR_FUZZ_CHECK(r->w > 0 && r->h > 0);
		CR_FUZZ_CHECK((uint64_t)r->x + r->w <= fmt->width);
		CR_FUZZ_CHECK((uint64_t)r->y + r->h <= fmt->height);
	}
	const struct spa_meta *cm = find_meta(b, SPA_META_Cursor);
	CR_FUZZ_CHECK(!f->cursor || (cm && f->cursor == cm->data && f->cursor_size == cm->size));
	cr_pw_input_frame_cursor_update(cursor, f->cursor, f->cursor_size);
	/* The relay places the bitmap at position - hotspot and adds its size, in int32_t. */
	if (cursor->visible) {
		int64_t x = (int64_t)cursor->x - cursor->hotspot_x;
		int64_t y = (int64_t)cursor->y - cursor->hotspot_y;
		CR_FUZZ_CHECK(x >= INT32_MIN && x + CR_PW_INPUT_FRAME_CURSOR_MAX <= INT32_MAX);
		CR_FUZZ_CHECK(y >= INT32_MIN && y + CR_PW_INPUT_FRAME_CURSOR_MAX <= INT32_MAX);
	}
	if (cursor->width) {
		CR_FUZZ_CHECK(cursor->height > 0 && cursor->pixels != NULL);
		CR_FUZZ_CHECK(cursor->width <= CR_PW_INPUT_FRAME_CURSOR_MAX &&
			      cursor->height <= CR_PW_INPUT_FRAME_CURSOR_MAX);
		CR_FUZZ_CHECK(cursor->format && cursor->format->has_alpha);
		CR_FUZZ_CHECK(cr_pw_format_from_spa(cursor->spa_format) == cursor->format);
		volatile uint32_t sink = cursor->pixels[cursor->width * cursor->height - 1];
		(void)sink;
	}
}

struct cr_pw_input_frame_cursor *cr_fuzz_buffer_cursor(void)
{
	static struct cr_pw_input_frame_cursor cursor;
	cursor = (struct cr_pw_input_frame_cursor){ .pixels = cursor.pixels };
	return &cursor;
}
