/* SPDX-License-Identifier: MIT */
/*
 * A producer's metas (Header, VideoCrop, VideoTransform, VideoDamage, Cursor, SyncTimeline,
 * and types we did not ask for): what the producer wrote, in a meta of the size PipeWire
 * declares, which need not be the size of the struct it should hold (buffer-input.h: the
 * format part, then the metas part). The frame's datas are a valid LINEAR DMA-BUF layout, so
 * that every input reaches the metas: cr_pw_input_frame_read(), then the relay's cursor
 * (cr_pw_input_frame_cursor_update(), which copies a bitmap that bitmap_offset, the bitmap's
 * offset, stride and size place in the meta). Accepted: the frame was read and every meta we
 * use was taken: header, crop, transform, damage (regions, not "everything"), and a cursor
 * bitmap where the cursor meta points at one.
 *
 * Checked: as fuzz-buffer (cr_fuzz_buffer_check_frame()); ASan sees any read outside a meta.
 */
#include "buffer-input.h"
#include "core/log.h"

static bool cursor_taken(const struct cr_pw_input_frame *f,
			 const struct cr_pw_input_frame_cursor *c)
{
	return f->cursor && (f->cursor->id == 0 || f->cursor->bitmap_offset == 0 || c->width);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cr_log_set_level(CR_LOG_ERROR);
	struct cr_fuzz_reader r = { data, size };
	struct cr_fuzz_buffer b = { 0 };
	uint64_t sizes[CR_DMABUF_MAX_PLANES] = { 0 };
	cr_fuzz_buffer_read_format(&r, &b);
	cr_fuzz_buffer_default_datas(&b, sizes);
	cr_fuzz_buffer_read_metas(&r, &b);

	struct cr_pw_input_frame f;
	struct cr_pw_input_frame_cursor *cursor = cr_fuzz_buffer_cursor();
	bool ok = cr_pw_input_frame_read(&b.format, &b.buf, sizes, &f);
	if (ok)
		cr_fuzz_buffer_check_frame(&b, sizes, &f, cursor);
	for (uint32_t i = 0; ok && i < b.buf.n_metas; i++) {
		switch (b.metas[i].type) {
		case SPA_META_Header:
			ok = f.has_header;
			break;
		case SPA_META_VideoCrop:
			ok = f.has_crop;
			break;
		case SPA_META_VideoTransform: {
			const struct spa_meta_videotransform *vt = b.metas[i].data;
			ok = b.metas[i].size >= sizeof(*vt) && f.transform == vt->transform;
			break;
		}
		case SPA_META_VideoDamage:
			ok = !f.damage.full;
			break;
		case SPA_META_Cursor:
			ok = cursor_taken(&f, cursor);
			break;
		}
	}
	cr_fuzz_verdict = ok ? CR_FUZZ_ACCEPTED : CR_FUZZ_REJECTED;
	cr_fuzz_buffer_finish(&b);
	return 0;
}
