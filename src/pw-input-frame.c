/* SPDX-License-Identifier: MIT */
#include "pw-input-frame.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <drm_fourcc.h>

#include "core/log.h"

/* The input stream's messages. */
#define TOPIC "pw-input"
#define CURSOR_MAX CR_PW_INPUT_FRAME_CURSOR_MAX
#define CURSOR_RANGE CR_PW_INPUT_FRAME_CURSOR_RANGE

uint32_t cr_pw_input_frame_dmabuf_planes(const struct spa_buffer *buf, uint64_t *sizes)
{
	uint32_t n = 0;
	/* The same fd for planes in one buffer, different ones for disjoint planes. */
	while (n < buf->n_datas && n < CR_DMABUF_MAX_PLANES &&
	       buf->datas[n].type == SPA_DATA_DmaBuf) {
		off_t size = lseek((int)buf->datas[n].fd, 0, SEEK_END);
		sizes[n] = size > 0 ? (uint64_t)size : 0;
		n++;
	}
	return n;
}

void cr_pw_input_frame_dmabuf(const struct cr_video_format *format, const struct spa_buffer *buf,
			      uint32_t n_planes, struct cr_dmabuf *desc)
{
	*desc = (struct cr_dmabuf){
		.width = format->width,
		.height = format->height,
		.fourcc = format->info->fourcc,
		.modifier = format->modifier,
		.n_planes = n_planes,
	};
	struct cr_plane_layout l;
	cr_format_plane_layout(format->info, desc->width, desc->height, &l);
	for (uint32_t i = 0; i < n_planes; i++) {
		const struct spa_chunk *c = buf->datas[i].chunk;
		uint32_t stride = c->stride > 0 ? (uint32_t)c->stride : 0;
		if (stride == 0 && desc->modifier == DRM_FORMAT_MOD_LINEAR && i < l.n_planes)
			stride = l.stride[i];
		desc->planes[i] = (struct cr_dmabuf_plane){
			.fd = (int)buf->datas[i].fd, .offset = c->offset, .stride = stride,
		};
	}
}

/* Where the planes of @buf lie, into @f (cr_pw_input_frame_read()). False for a buffer to
 * skip. */
static bool read_planes(const struct cr_video_format *format, struct spa_buffer *buf,
			const uint64_t *dmabuf_sizes, struct cr_pw_input_frame *f)
{
	const struct cr_format_info *fmt = format->info;
	uint32_t w = format->width, h = format->height;
	struct cr_dmabuf_plane planes[CR_DMABUF_MAX_PLANES] = { 0 };
	uint64_t sizes[CR_DMABUF_MAX_PLANES] = { 0 };
	struct cr_plane_layout l;
	char why[200];
	bool dmabuf = buf->datas[0].type == SPA_DATA_DmaBuf;
	if (dmabuf && !dmabuf_sizes)
		return false;
	uint32_t n_blocks = 0;
	while (n_blocks < buf->n_datas && n_blocks < fmt->n_planes &&
	       (dmabuf ? buf->datas[n_blocks].type == SPA_DATA_DmaBuf
		       : buf->datas[n_blocks].data != NULL))
		n_blocks++;
	if (n_blocks == 0 || (dmabuf && n_blocks < fmt->n_planes))
		return false;
	bool one_block = n_blocks < fmt->n_planes;
	cr_format_plane_layout(fmt, w, h, &l);
	for (uint32_t i = 0; i < n_blocks; i++) {
		const struct spa_data *d = &buf->datas[i];
		if ((d->chunk->flags & SPA_CHUNK_FLAG_CORRUPTED) || d->chunk->size == 0) {
			cr_log_debug(TOPIC, "skipping a corrupted or empty chunk");
			return false;
		}
		planes[i].offset = d->chunk->offset;
		planes[i].stride = d->chunk->stride > 0 ? (uint32_t)d->chunk->stride : l.stride[i];
		sizes[i] = dmabuf ? dmabuf_sizes[i] : d->maxsize;
	}
	if (one_block) {
		if (!cr_format_plane_layout_stride(fmt, w, h, planes[0].stride, &l)) {
			cr_log_warn(TOPIC, "skipping a buffer with an invalid layout: stride %u is "
					   "less than a row of %u pixels", planes[0].stride, w);
			return false;
		}
		for (uint32_t i = 1; i < fmt->n_planes; i++) {
			planes[i].offset = planes[0].offset + l.offset[i];
			planes[i].stride = l.stride[i];
			sizes[i] = sizes[0];
		}
	}
	/* Other modifiers keep the layout they were imported with (the pipeline rejects a frame
	 * that moved it), and a tiled plane's extent cannot be computed here. */
	bool linear = !dmabuf || format->modifier == DRM_FORMAT_MOD_LINEAR;
	if (linear && !cr_dmabuf_check_planes(fmt, w, h, planes, sizes, why, sizeof(why))) {
		cr_log_warn(TOPIC, "skipping a buffer with an invalid layout: %s", why);
		return false;
	}
	f->offset = planes[0].offset;
	f->stride = planes[0].stride;
	f->size = sizes[0];
	f->data = dmabuf ? NULL : buf->datas[0].data;
	for (uint32_t i = 1; i < fmt->n_planes; i++) {
		bool own = !dmabuf && !one_block;
		f->extra[i - 1] = (struct cr_pipeline_plane){
			.offset = planes[i].offset,
			.stride = planes[i].stride,
			.data = own ? buf->datas[i].data : NULL,
			.size = own ? sizes[i] : 0,
		};
	}
	return true;
}

/*
 * SPA_META_VideoDamage: regions until the first invalid one, clipped to the frame. Without the
 * meta, or with no valid region (producers that never fill it), everything counts as damaged.
 */
static void read_damage(const struct cr_video_format *format, struct spa_buffer *buf,
			struct cr_damage *damage)
{
	cr_damage_clear(damage);
	struct spa_meta *m = spa_buffer_find_meta(buf, SPA_META_VideoDamage);
	struct spa_meta_region *r;
	if (m) {
		spa_meta_for_each(r, m) {
			if (!spa_meta_region_is_valid(r))
				break;
			struct spa_region g = r->region;
			int64_t x0 = SPA_MAX(g.position.x, 0), y0 = SPA_MAX(g.position.y, 0);
			int64_t x1 = SPA_MIN((int64_t)g.position.x + g.size.width,
					     (int64_t)format->width);
			int64_t y1 = SPA_MIN((int64_t)g.position.y + g.size.height,
					     (int64_t)format->height);
			if (x1 > x0 && y1 > y0)
				cr_damage_add(damage, &(struct cr_rect){ (uint32_t)x0, (uint32_t)y0,
									(uint32_t)(x1 - x0),
									(uint32_t)(y1 - y0) });
		}
	}
	if (damage->n_rects == 0)
		cr_damage_set_full(damage);
}

bool cr_pw_input_frame_read(const struct cr_video_format *format, struct spa_buffer *buf,
			    const uint64_t *dmabuf_sizes, struct cr_pw_input_frame *f)
{
	*f = (struct cr_pw_input_frame){ .format = format };
	struct spa_meta_header *h = spa_buffer_find_meta_data(buf, SPA_META_Header, sizeof(*h));
	if (h) {
		if (h->flags & SPA_META_HEADER_FLAG_CORRUPTED) {
			cr_log_debug(TOPIC, "skipping a buffer flagged CORRUPTED");
			return false;
		}
		f->has_header = true;
		f->pts_ns = (uint64_t)h->pts;
		f->seq = h->seq;
	}
	if (!read_planes(format, buf, dmabuf_sizes, f))
		return false;
	struct spa_meta_videotransform *vt =
		spa_buffer_find_meta_data(buf, SPA_META_VideoTransform, sizeof(*vt));
	if (vt && vt->transform <= SPA_META_TRANSFORMATION_Flipped270)
		f->transform = vt->transform;
	struct spa_meta *cm = spa_buffer_find_meta(buf, SPA_META_Cursor);
	if (cm && cm->size >= sizeof(struct spa_meta_cursor)) {
		f->cursor = cm->data;
		f->cursor_size = cm->size;
	}
	struct spa_meta_region *crop = spa_buffer_find_meta_data(buf, SPA_META_VideoCrop,
								 sizeof(*crop));
	if (crop && spa_meta_region_is_valid(crop)) {
		struct spa_region r = crop->region;
		if (r.position.x >= 0 && r.position.y >= 0 &&
		    (uint64_t)r.position.x + r.size.width <= format->width &&
		    (uint64_t)r.position.y + r.size.height <= format->height) {
			f->has_crop = true;
			f->crop = (struct cr_rect){ (uint32_t)r.position.x, (uint32_t)r.position.y,
						    r.size.width, r.size.height };
		}
	}
	read_damage(format, buf, &f->damage);
	return true;
}

void cr_pw_input_frame_cursor_update(struct cr_pw_input_frame_cursor *c,
				     const struct spa_meta_cursor *mc, uint32_t size)
{
	if (!mc)
		return;
	c->visible = mc->id != 0;
	if (!c->visible)
		return;
	c->x = SPA_CLAMP(mc->position.x, -CURSOR_RANGE, CURSOR_RANGE);
	c->y = SPA_CLAMP(mc->position.y, -CURSOR_RANGE, CURSOR_RANGE);
	c->hotspot_x = SPA_CLAMP(mc->hotspot.x, -CURSOR_RANGE, CURSOR_RANGE);
	c->hotspot_y = SPA_CLAMP(mc->hotspot.y, -CURSOR_RANGE, CURSOR_RANGE);
	if (mc->bitmap_offset < sizeof(*mc) ||
	    (uint64_t)mc->bitmap_offset + sizeof(struct spa_meta_bitmap) > size)
		return;
	/* The producer chooses bitmap_offset: the header need not be aligned, copy it. */
	struct spa_meta_bitmap bm;
	memcpy(&bm, SPA_PTROFF(mc, mc->bitmap_offset, const void), sizeof(bm));
	const struct cr_format_info *format = cr_pw_format_from_spa(bm.format);
	if (!format || !format->has_alpha)
		return; /* keep the last bitmap rather than guess */
	uint32_t w = bm.size.width, h = bm.size.height;
	uint64_t stride = bm.stride > 0 ? (uint64_t)bm.stride : (uint64_t)w * 4;
	uint64_t end = (uint64_t)mc->bitmap_offset + bm.offset + stride * (h ? h - 1 : 0) +
		       (uint64_t)w * 4;
	if (w == 0 || h == 0 || w > CURSOR_MAX || h > CURSOR_MAX || stride < (uint64_t)w * 4 ||
	    end > size)
		return;
	if (!c->pixels && !(c->pixels = malloc((size_t)CURSOR_MAX * CURSOR_MAX * 4)))
		return;
	const uint8_t *px = SPA_PTROFF(mc, (size_t)mc->bitmap_offset + bm.offset, const uint8_t);
	for (uint32_t y = 0; y < h; y++)
		memcpy(c->pixels + (size_t)y * w, px + y * stride, (size_t)w * 4);
	c->width = w;
	c->height = h;
	c->format = format;
	c->spa_format = bm.format;
}

void cr_pw_input_frame_cursor_finish(struct cr_pw_input_frame_cursor *c)
{
	free(c->pixels);
	c->pixels = NULL;
	c->width = c->height = 0;
}
