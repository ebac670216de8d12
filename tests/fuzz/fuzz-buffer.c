/* SPDX-License-Identifier: MIT */
/*
 * A producer's buffer as pw-input reads it (buffer-input.h has the encoding: format, datas
 * with chunks, metas). As in add_buffer: a DMA-BUF buffer's planes are counted and sized
 * (cr_pw_input_frame_dmabuf_planes()), described for import (cr_pw_input_frame_dmabuf()) and
 * validated (cr_dmabuf_validate(): a valid one counts as imported); then, as for each frame,
 * cr_pw_input_frame_read() and the cursor. Accepted: the frame was read (not skipped).
 *
 * Checked: the plane count and sizes are the datas'; a validated descriptor has the planes it
 * was given; an accepted frame's planes lie inside their memory (SHM rows are all read),
 * its metas hold only valid values (cr_fuzz_buffer_check_frame()); a SyncTimeline counts as
 * present only with its whole meta and room for the two syncobj datas. (Its syncobjs go to
 * the kernel, which checks them: there is no DRM device to fuzz that with.)
 */
#include "buffer-input.h"
#include "core/log.h"
#include "pw-timeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cr_log_set_level(CR_LOG_ERROR);
	struct cr_fuzz_reader r = { data, size };
	struct cr_fuzz_buffer b = { 0 };
	cr_fuzz_buffer_read_format(&r, &b);
	cr_fuzz_buffer_read_datas(&r, &b);
	cr_fuzz_buffer_read_metas(&r, &b);

	uint64_t sizes[CR_DMABUF_MAX_PLANES] = { 0 };
	const uint64_t *imported = NULL;
	if (b.datas[0].type == SPA_DATA_DmaBuf) {
		uint32_t n = cr_pw_input_frame_dmabuf_planes(&b.buf, sizes);
		CR_FUZZ_CHECK(n >= 1 && n <= CR_DMABUF_MAX_PLANES && n <= b.buf.n_datas);
		for (uint32_t i = 0; i < n; i++)
			CR_FUZZ_CHECK(b.datas[i].type == SPA_DATA_DmaBuf);
		CR_FUZZ_CHECK(n == CR_DMABUF_MAX_PLANES || n == b.buf.n_datas ||
			      b.datas[n].type != SPA_DATA_DmaBuf);
		struct cr_dmabuf desc;
		char why[200] = "";
		cr_pw_input_frame_dmabuf(&b.format, &b.buf, n, &desc);
		CR_FUZZ_CHECK(desc.n_planes == n && desc.fourcc == b.format.info->fourcc);
		if (cr_dmabuf_validate(&desc, why, sizeof(why))) {
			imported = sizes;
			for (uint32_t i = 0; i < n; i++)
				CR_FUZZ_CHECK(desc.planes[i].offset < sizes[i]);
		} else {
			CR_FUZZ_CHECK(why[0] != '\0');
		}
	}
	struct cr_pw_input_frame f;
	bool ok = cr_pw_input_frame_read(&b.format, &b.buf, imported, &f);
	cr_fuzz_verdict = ok ? CR_FUZZ_ACCEPTED : CR_FUZZ_REJECTED;
	if (ok) {
		cr_fuzz_buffer_check_frame(&b, imported, &f, cr_fuzz_buffer_cursor());
	}
	if (cr_pw_timeline_present(&b.buf)) {
		const struct spa_meta *m = spa_buffer_find_meta(&b.buf, SPA_META_SyncTimeline);
		CR_FUZZ_CHECK(m && m->size >= sizeof(struct spa_meta_sync_timeline));
		CR_FUZZ_CHECK(b.buf.n_datas >= 3);
	}
	cr_fuzz_buffer_finish(&b);
	return 0;
}
