/* SPDX-License-Identifier: MIT */
/*
 * castrelay-sink: a PipeWire video consumer for tests and benchmarks. It links to one named
 * node, counts frames, measures latency from the producer's header pts, optionally saves PNGs
 * and verifies every frame of the castrelay test pattern against the CPU reference of the
 * processing kernel (crop, transform, scale, redaction, cursor, conversion to packed RGB or
 * NV12/I420), or the cursor passed on as SPA_META_Cursor. The last lines on stdout are meant to
 * be grepped by scripts. With --dmabuf it negotiates like a DMA-BUF-capable consumer (PipeWire's
 * src/examples/video-play-fixate.c, OBS): per format a LINEAR modifier variant (DONT_FIXATE,
 * the producer fixates it) before the shared memory one, and reads DMA-BUF planes through a
 * read-only mapping made once per buffer (sink-dmabuf.h).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include <drm_fourcc.h>
#include <spa/param/video/format-utils.h>
#include <spa/utils/result.h>
#include <pipewire/pipewire.h>

#include "cli.h"
#include "color.h"
#include "cr-params.h"
#include "damage.h"
#include "dmabuf.h"
#include "frame.h"
#include "png.h"
#include "pw-format.h"
#include "sink-dmabuf.h"
#include "sink-sync.h"
#include "stamp.h"
#include "verify.h"

#define PROG "castrelay-sink"
#define MAX_FRAMES 10000000u
/* SPA_META_Cursor with a bitmap of w x h 4-byte pixels. */
#define CURSOR_META_SIZE(w, h) \
	(sizeof(struct spa_meta_cursor) + sizeof(struct spa_meta_bitmap) + (w) * (h) * 4)

struct options {
	const char *target;
	const char *remote;
	uint32_t frames;
	uint32_t timeout_s;
	uint32_t progress_s; /* --progress: print the frame count this often, 0 = never */
	uint32_t skip;
	const char *png_dir;
	uint32_t png_every;
	bool verify;
	bool verify_follow; /* --verify-follow: the source's size is the negotiated one */
	bool have_crop;
	bool have_transform;
	struct cr_verify_options expect; /* with --verify */
	const struct cr_format_info *format; /* --format, NULL for any */
	bool print_format;
	bool dmabuf; /* offer LINEAR DMA-BUFs before shared memory */
	bool sync_timeline;       /* offer SPA_META_SyncTimeline with DMA-BUFs */
	bool have_damage;         /* --expect-damage */
	uint32_t damage[4];       /* the source's damage rectangle, source pixels */
	uint32_t hold_release_ms; /* signal release points this long after reading */
	uint32_t pause_after;     /* --pause-after: stop reading after this many frames, */
	uint32_t pause_ms;        /* for this long (--pause-ms) */
	/* --measure-from: a window from that frame to the last, with the CPU time of
	 * --measure-pid's process and the count in --measure-count's file over it */
	bool measure;
	uint32_t measure_from;
	pid_t measure_pid;        /* 0: none */
	const char *measure_count; /* NULL: none */
	bool have_stamp;          /* --stamp: latencies from the capture time in the pixels */
	uint32_t stamp[4];
};

/* pw_buffer.user_data of a DMA-BUF buffer. */
struct sink_buffer {
	struct cr_sink_dmabuf *map;        /* NULL: its frames are skipped */
	struct cr_sink_sync_buffer *sync;  /* NULL: no explicit sync */
};

enum transport {
	TRANSPORT_NONE,   /* no format negotiated yet */
	TRANSPORT_SHM,    /* MemFd or MemPtr, mapped by PipeWire */
	TRANSPORT_DMABUF, /* DmaBuf, mapped by us per buffer */
};

struct sink {
	struct options opt;
	struct pw_main_loop *loop;
	struct pw_context *context;
	struct pw_core *core;
	struct spa_hook core_listener;
	struct pw_stream *stream;
	struct spa_hook stream_listener;
	struct spa_source *timer;
	/* --pause-after/--pause-ms: a consumer that stops reading for a while */
	struct spa_source *pause_timer;
	bool paused, pause_done;
	uint32_t backlog;      /* buffers waiting when it read again */
	uint32_t frames_resumed; /* frames at the end of the pause, backlog included */
	struct spa_source *progress_timer; /* --progress, else NULL */
	struct cr_sink_sync *sync; /* --sync-timeline */
	uint8_t *snapshot;         /* --sync-timeline: the frame being verified, copied */
	size_t snapshot_size;
	/* --expect-damage: frames whose VideoDamage was the mapped rectangle, the whole frame,
	 * anything else, or missing */
	uint32_t damage_mapped, damage_full, damage_other, damage_absent;

	bool have_format;    /* a format is set now */
	bool negotiated;     /* a format was set at some point: frame is valid */
	struct cr_frame frame; /* format, size and colour; planes and data per buffer */
	enum transport transport; /* of the current format (the last one, once it is gone) */

	struct cr_verify verify;
	uint8_t *rgb;        /* PNG scratch, width * height * 3 */
	bool png_failed;

	uint64_t *latency_ns; /* one per frame with a header pts */
	uint32_t n_latency;
	uint32_t frames;
	uint32_t skipped;
	uint64_t start_ns;     /* the stream was connected */
	uint64_t first_ns;
	uint64_t first_latency_ns; /* the first frame's, from its capture pts; 0: none */
	uint64_t last_ns;
	uint32_t stamp_bad; /* --stamp: frames whose stamp could not be read */
	/* --stamp: largest difference between a stamp's age and the header pts's, when the
	 * relay carried the pts (both clocks of one frame) */
	bool have_pts_diff;
	uint64_t max_pts_diff_ns;
	/* --measure-from: the window's start and its latest end */
	struct window {
		bool started;
		uint64_t start_ns, end_ns;
		uint32_t first_frame, frames;
		uint32_t first_latency;   /* index into latency_ns */
		clockid_t cpu_clock;      /* of --measure-pid; valid with has_cpu */
		bool has_cpu;
		uint64_t cpu0_ns, cpu_ns;
		const volatile uint64_t *count; /* --measure-count's counter, or NULL */
		uint64_t count0, count1;
	} window;
	int exit_status;
};

/* The formats we take, in order of preference: packed first, then planar YUV. */
static const struct {
	uint32_t spa;
	const char *name; /* of cr_format_info_from_name() */
} formats[] = {
	{ SPA_VIDEO_FORMAT_BGRx, "BGRx" },
	{ SPA_VIDEO_FORMAT_RGBx, "RGBx" },
	{ SPA_VIDEO_FORMAT_BGRA, "BGRA" },
	{ SPA_VIDEO_FORMAT_RGBA, "RGBA" },
	{ SPA_VIDEO_FORMAT_xRGB_210LE, "xRGB_210LE" },
	{ SPA_VIDEO_FORMAT_xBGR_210LE, "xBGR_210LE" },
	{ SPA_VIDEO_FORMAT_NV12, "NV12" },
	{ SPA_VIDEO_FORMAT_I420, "I420" },
};

static const struct cr_format_info *format_from_spa(uint32_t spa_format)
{
	for (size_t i = 0; i < SPA_N_ELEMENTS(formats); i++) {
		if (formats[i].spa == spa_format)
			return cr_format_info_from_name(formats[i].name);
	}
	return NULL;
}

static uint32_t format_to_spa(const struct cr_format_info *fmt)
{
	for (size_t i = 0; i < SPA_N_ELEMENTS(formats); i++) {
		if (strcmp(formats[i].name, fmt->name) == 0)
			return formats[i].spa;
	}
	return SPA_VIDEO_FORMAT_UNKNOWN;
}

/* "BGRx 320x240" or "NV12 320x240 bt709 limited" (matrix and range "unknown" when absent). */
static void describe_format(const struct cr_frame *f, char *text, size_t len)
{
	int n = snprintf(text, len, "%s %ux%u", f->fmt->name, f->width, f->height);
	if (!f->fmt->is_yuv || n < 0 || (size_t)n >= len)
		return;
	if (f->color_known)
		snprintf(text + n, len - (size_t)n, " %s %s", cr_color_matrix_name(f->matrix),
			 f->full_range ? "full" : "limited");
	else
		snprintf(text + n, len - (size_t)n, " unknown unknown");
}

/* The colour description of a YUV format; false when it announced none we know. */
static bool color_from_spa(const struct spa_video_info_raw *info,
			   enum cr_color_matrix *matrix, bool *full_range)
{
	switch (info->color_matrix) {
	case SPA_VIDEO_COLOR_MATRIX_BT601:
		*matrix = CR_COLOR_BT601;
		break;
	case SPA_VIDEO_COLOR_MATRIX_BT709:
		*matrix = CR_COLOR_BT709;
		break;
	default:
		return false;
	}
	switch (info->color_range) {
	case SPA_VIDEO_COLOR_RANGE_16_235:
		*full_range = false;
		return true;
	case SPA_VIDEO_COLOR_RANGE_0_255:
		*full_range = true;
		return true;
	default:
		return false;
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SPA_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void quit(struct sink *sink, int status)
{
	if (status > sink->exit_status)
		sink->exit_status = status;
	pw_main_loop_quit(sink->loop);
}

static void on_format(struct sink *sink, const struct spa_pod *param)
{
	uint8_t storage[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(storage, sizeof(storage));
	const struct spa_pod *params[6];
	uint32_t n_params = 0;
	struct spa_video_info_raw info = { 0 };
	uint32_t media_type, media_subtype;
	const struct cr_format_info *fmt = NULL;
	struct cr_frame frame = { 0 };
	enum cr_color_matrix matrix = CR_COLOR_BT601;
	bool full_range = false, color_known = false;
	char text[128];

	sink->have_format = false;
	if (param == NULL)
		return;

	const struct spa_pod_prop *mod = spa_pod_find_prop(param, NULL, SPA_FORMAT_VIDEO_modifier);
	if (mod != NULL && !sink->opt.dmabuf) {
		pw_stream_set_error(sink->stream, -EINVAL, "modifier without --dmabuf");
		return;
	}
	if (mod != NULL && (mod->flags & SPA_POD_PROP_FLAG_DONT_FIXATE)) {
		/*
		 * The producer still has to fixate the modifier (video-src-fixate.c): it announces
		 * the fixed format, and PipeWire sets that one on both ports.
		 */
		return;
	}

	if (spa_format_parse(param, &media_type, &media_subtype) < 0 ||
	    media_type != SPA_MEDIA_TYPE_video || media_subtype != SPA_MEDIA_SUBTYPE_raw ||
	    spa_format_video_raw_parse(param, &info) < 0 ||
	    (fmt = format_from_spa(info.format)) == NULL ||
	    (sink->opt.format != NULL && fmt != sink->opt.format) || info.size.width == 0 ||
	    info.size.height == 0 || info.size.width > CR_CLI_MAX_DIMENSION ||
	    info.size.height > CR_CLI_MAX_DIMENSION) {
		pw_stream_set_error(sink->stream, -EINVAL, "unsupported format");
		return;
	}
	if (mod != NULL && info.modifier != DRM_FORMAT_MOD_LINEAR) {
		pw_stream_set_error(sink->stream, -EINVAL, "modifier 0x%llx is not LINEAR",
				    (unsigned long long)info.modifier);
		return;
	}
	if (fmt->is_yuv)
		color_known = color_from_spa(&info, &matrix, &full_range);
	frame.fmt = fmt;
	frame.width = info.size.width;
	frame.height = info.size.height;
	cr_frame_set_color(&frame, color_known, matrix, full_range);

	if (sink->opt.png_dir != NULL) {
		uint8_t *rgb = realloc(sink->rgb, (size_t)info.size.width * info.size.height * 3);
		if (rgb == NULL) {
			pw_stream_set_error(sink->stream, -ENOMEM, "no memory for PNG frames");
			return;
		}
		sink->rgb = rgb;
	}
	if (sink->opt.verify_follow &&
	    !cr_verify_set_source_size(&sink->verify, frame.width, frame.height)) {
		pw_stream_set_error(sink->stream, -ENOMEM, "no memory for verification");
		return;
	}
	if (sink->opt.verify && !cr_verify_set_destination(&sink->verify, &frame)) {
		pw_stream_set_error(sink->stream, -ENOMEM, "no memory for verification");
		return;
	}

	sink->frame = frame;
	sink->transport = mod != NULL ? TRANSPORT_DMABUF : TRANSPORT_SHM;
	sink->have_format = true;
	sink->negotiated = true;

	if (sink->opt.print_format) {
		describe_format(&frame, text, sizeof(text));
		printf("negotiated: %s framerate %u/%u\n", text, info.framerate.num,
		       info.framerate.denom);
		fflush(stdout);
	}

	/*
	 * No count, size or stride: the producer chooses them (castrelay-testsrc pads rows with
	 * --stride-pad, and its buffer count is part of what a test exercises). A DMA-BUF has
	 * one block per plane.
	 */
	if (mod != NULL && sink->sync != NULL) {
		params[n_params++] = cr_pw_format_build_buffers_sync(&b, fmt->n_planes, 4);
		params[n_params++] = spa_pod_builder_add_object(&b,
			SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
			SPA_PARAM_META_type, SPA_POD_Id(SPA_META_SyncTimeline),
			SPA_PARAM_META_size, SPA_POD_Int(sizeof(struct spa_meta_sync_timeline)));
	}
	if (mod != NULL)
		params[n_params++] = spa_pod_builder_add_object(&b,
			SPA_TYPE_OBJECT_ParamBuffers, SPA_PARAM_Buffers,
			SPA_PARAM_BUFFERS_blocks, SPA_POD_Int((int32_t)fmt->n_planes),
			SPA_PARAM_BUFFERS_dataType, SPA_POD_CHOICE_FLAGS_Int(1 << SPA_DATA_DmaBuf));
	else
		params[n_params++] = spa_pod_builder_add_object(&b,
			SPA_TYPE_OBJECT_ParamBuffers, SPA_PARAM_Buffers,
			SPA_PARAM_BUFFERS_blocks, SPA_POD_Int(1),
			SPA_PARAM_BUFFERS_dataType, SPA_POD_CHOICE_FLAGS_Int(
				(1 << SPA_DATA_MemFd) | (1 << SPA_DATA_MemPtr)));
	params[n_params++] = spa_pod_builder_add_object(&b,
		SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
		SPA_PARAM_META_type, SPA_POD_Id(SPA_META_Header),
		SPA_PARAM_META_size, SPA_POD_Int(sizeof(struct spa_meta_header)));
	/*
	 * A meta is kept only when both sides' sizes intersect, and producers fix theirs
	 * (castrelayd: 256x256 bitmaps, mutter 384x384, others 64x64 or less): a range from
	 * position-only to a 512x512 bitmap.
	 */
	if (sink->opt.have_damage)
		params[n_params++] = spa_pod_builder_add_object(&b,
			SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
			SPA_PARAM_META_type, SPA_POD_Id(SPA_META_VideoDamage),
			SPA_PARAM_META_size, SPA_POD_CHOICE_RANGE_Int(
				sizeof(struct spa_meta_region) * 16, sizeof(struct spa_meta_region),
				sizeof(struct spa_meta_region) * 64));
	if (sink->opt.expect.cursor_meta)
		params[n_params++] = spa_pod_builder_add_object(&b,
			SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
			SPA_PARAM_META_type, SPA_POD_Id(SPA_META_Cursor),
			SPA_PARAM_META_size, SPA_POD_CHOICE_RANGE_Int(
				CURSOR_META_SIZE(64, 64), sizeof(struct spa_meta_cursor),
				CURSOR_META_SIZE(512, 512)));
	pw_stream_update_params(sink->stream, params, n_params);
}

static void on_param_changed(void *data, uint32_t id, const struct spa_pod *param)
{
	struct sink *sink = data;

	if (id == SPA_PARAM_Format)
		on_format(sink, param);
}

static void save_png(struct sink *sink, const struct cr_frame *frame, uint32_t index)
{
	uint32_t width = frame->width, height = frame->height;
	char path[4096];

	cr_frame_to_rgb(frame, sink->rgb);
	if (snprintf(path, sizeof(path), "%s/frame-%04u.png", sink->opt.png_dir, index) >=
	    (int)sizeof(path)) {
		fprintf(stderr, "sink: --png-dir path too long\n");
		sink->png_failed = true;
		return;
	}
	if (!cr_png_write_rgb(path, width, height, sink->rgb, (size_t)width * 3)) {
		fprintf(stderr, "sink: cannot write %s: %s\n", path, strerror(errno));
		sink->png_failed = true;
	}
}

/*
 * Fills the planes and data of @frame from a usable buffer; false (with *why) for one to skip.
 * Planar frames come in one block whose chunk stride is the Y stride (what castrelayd and
 * GStreamer do); the chroma planes lie where GStreamer's default layout puts them.
 */
static bool frame_planes(struct spa_buffer *buf, struct cr_frame *frame, const char **why)
{
	uint32_t width = frame->width, height = frame->height;
	struct spa_meta_header *h = spa_buffer_find_meta_data(buf, SPA_META_Header, sizeof(*h));

	if (buf->n_datas < 1 || buf->datas[0].data == NULL) {
		*why = "unmapped buffer";
		return false;
	}
	struct spa_data *d = &buf->datas[0];
	if ((h != NULL && (h->flags & SPA_META_HEADER_FLAG_CORRUPTED)) ||
	    (d->chunk->flags & SPA_CHUNK_FLAG_CORRUPTED)) {
		*why = "corrupted";
		return false;
	}
	if (d->chunk->size == 0) {
		*why = "empty chunk";
		return false;
	}
	uint32_t offset = SPA_MIN(d->chunk->offset, d->maxsize);
	uint32_t size = SPA_MIN(d->chunk->size, d->maxsize - offset);
	int32_t s = d->chunk->stride;
	if (s < 0 || !cr_frame_layout(frame->fmt, width, height, (uint32_t)s, &frame->planes)) {
		*why = "chunk stride shorter than a row";
		return false;
	}
	if (cr_frame_extent(frame->fmt, width, height, &frame->planes) > size) {
		*why = "chunk too small for the format";
		return false;
	}
	frame->data = (const uint8_t *)d->data + offset;
	return true;
}

/*
 * Like frame_planes() for a DmaBuf buffer mapped in add_buffer (@map): the planes lie where the
 * chunks of the leading blocks say (sink-dmabuf.h checks them against the mapping: they are
 * the producer's word, per frame). @text (of @len bytes) holds the reason behind *why.
 */
static bool dmabuf_planes(struct spa_buffer *buf, struct cr_sink_dmabuf *map,
			  struct cr_frame *frame, char *text, size_t len, const char **why)
{
	struct spa_meta_header *h = spa_buffer_find_meta_data(buf, SPA_META_Header, sizeof(*h));
	struct cr_sink_dmabuf_block blocks[CR_DMABUF_MAX_PLANES];
	uint32_t n_blocks = 0;

	if (buf->n_datas < 1 || buf->datas[0].type != SPA_DATA_DmaBuf) {
		*why = "not a DmaBuf buffer after a DMA-BUF format";
		return false;
	}
	if (map == NULL) {
		*why = "DMA-BUF not mapped (see above)";
		return false;
	}
	if (h != NULL && (h->flags & SPA_META_HEADER_FLAG_CORRUPTED)) {
		*why = "corrupted";
		return false;
	}
	/* The planes are the leading DmaBuf blocks (sync objects may follow). */
	for (uint32_t i = 0; i < buf->n_datas && n_blocks < frame->fmt->n_planes &&
			     buf->datas[i].type == SPA_DATA_DmaBuf; i++) {
		const struct spa_chunk *c = buf->datas[i].chunk;
		if (c->flags & SPA_CHUNK_FLAG_CORRUPTED) {
			*why = "corrupted";
			return false;
		}
		blocks[n_blocks++] = (struct cr_sink_dmabuf_block){
			.mapoffset = buf->datas[i].mapoffset,
			.maxsize = buf->datas[i].maxsize,
			.offset = c->offset,
			.size = c->size,
			.stride = c->stride,
		};
	}
	if (!cr_sink_dmabuf_layout(frame->fmt, frame->width, frame->height, blocks, n_blocks,
				   map->size, &frame->planes, text, len)) {
		*why = text;
		return false;
	}
	frame->data = map->data;
	return true;
}

/*
 * The cursor metadata of @buf in @c; false when the buffer carries none. Everything is
 * bounds-checked against the meta size (it is the producer's memory): a bitmap that does not
 * fit is handed over without pixels, which verification reports.
 */
static bool read_cursor(struct spa_buffer *buf, struct cr_verify_cursor *c)
{
	struct spa_meta *m = spa_buffer_find_meta(buf, SPA_META_Cursor);
	const struct spa_meta_cursor *mc;
	const struct spa_meta_bitmap *bm;

	if (m == NULL || m->data == NULL || m->size < sizeof(*mc))
		return false;
	mc = m->data;
	*c = (struct cr_verify_cursor){
		.visible = mc->id != 0,
		.x = mc->position.x,
		.y = mc->position.y,
		.hotspot_x = mc->hotspot.x,
		.hotspot_y = mc->hotspot.y,
		.has_bitmap = mc->bitmap_offset != 0,
	};
	if (!c->has_bitmap || mc->bitmap_offset < sizeof(*mc) ||
	    (uint64_t)mc->bitmap_offset + sizeof(*bm) > m->size)
		return true;
	bm = SPA_PTROFF(mc, mc->bitmap_offset, const struct spa_meta_bitmap);
	c->format = format_from_spa(bm->format);
	c->width = bm->size.width;
	c->height = bm->size.height;
	/* no default for a stride of 0: the producer states it, consumers rely on it */
	c->stride = bm->stride > 0 ? (uint32_t)bm->stride : 0;
	uint64_t end = (uint64_t)mc->bitmap_offset + bm->offset +
		       (uint64_t)c->stride * (c->height > 0 ? c->height - 1 : 0) +
		       (uint64_t)c->width * 4;
	if (c->width > 0 && c->height > 0 && bm->offset >= sizeof(*bm) && end <= m->size)
		c->pixels = SPA_PTROFF(bm, bm->offset, const uint8_t);
	return true;
}

/*
 * --expect-damage: the bounding box of the frame's VideoDamage regions is either the source's
 * damage rectangle mapped through the crop, transform and scale (damage.h), or the whole frame
 * (after a change of geometry, and for the first frame).
 */
static void check_damage(struct sink *sink, struct spa_buffer *buf, const struct cr_frame *frame)
{
	struct spa_meta *m = spa_buffer_find_meta(buf, SPA_META_VideoDamage);
	struct spa_meta_region *r;
	int64_t x0 = INT64_MAX, y0 = INT64_MAX, x1 = INT64_MIN, y1 = INT64_MIN;
	if (m == NULL) {
		sink->damage_absent++;
		return;
	}
	spa_meta_for_each(r, m) {
		if (!spa_meta_region_is_valid(r))
			break;
		x0 = SPA_MIN(x0, (int64_t)r->region.position.x);
		y0 = SPA_MIN(y0, (int64_t)r->region.position.y);
		x1 = SPA_MAX(x1, (int64_t)r->region.position.x + r->region.size.width);
		y1 = SPA_MAX(y1, (int64_t)r->region.position.y + r->region.size.height);
	}
	const struct cr_verify_options *e = &sink->opt.expect;
	struct cr_rect crop = { e->crop[0], e->crop[1], e->crop[2], e->crop[3] };
	if (crop.w == 0)
		crop = (struct cr_rect){ 0, 0, e->src_width, e->src_height };
	struct cr_rect d = { sink->opt.damage[0], sink->opt.damage[1], sink->opt.damage[2],
			     sink->opt.damage[3] }, want = { 0 };
	bool mapped = cr_damage_map_rect(&d, &crop, e->transform, frame->width, frame->height,
					 &want);
	if (x0 == 0 && y0 == 0 && x1 == frame->width && y1 == frame->height)
		sink->damage_full++;
	else if (mapped && x0 == want.x && y0 == want.y && x1 == want.x + want.w &&
		 y1 == want.y + want.h)
		sink->damage_mapped++;
	else if (sink->damage_other++ == 0)
		fprintf(stderr, "sink: damage %lld,%lld-%lld,%lld, expected %u,%u %ux%u or the "
			"whole frame\n", (long long)x0, (long long)y0, (long long)x1, (long long)y1,
			want.x, want.y, want.w, want.h);
}

/* Where the pixels of @b are, in @frame; false (with *why) for a buffer to skip. */
static bool buffer_frame(struct sink *sink, struct pw_buffer *b, struct cr_frame *frame,
			 char *text, size_t len, const char **why)
{
	struct sink_buffer *sb = b->user_data;
	if (sink->transport != TRANSPORT_DMABUF)
		return frame_planes(b->buffer, frame, why);
	if (!sb || !sb->map) {
		*why = "unmapped DMA-BUF";
		return false;
	}
	if (sb->sync && !cr_sink_sync_acquire(sink->sync, sb->sync)) {
		*why = "acquire point not signalled";
		return false;
	}
	if (!dmabuf_planes(b->buffer, sb->map, frame, text, len, why))
		return false;
	if (!cr_sink_dmabuf_begin_read(sb->map)) {
		*why = "DMA_BUF_IOCTL_SYNC(START) failed";
		return false;
	}
	return true;
}

/* --measure-count FILE: the counter the malloc shim (tests/bench/malloc-count.c) keeps in the
 * first 8 bytes of FILE, mapped shared. */
static const volatile uint64_t *map_counter(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	void *map = mmap(NULL, sizeof(uint64_t), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	return map == MAP_FAILED ? NULL : map;
}

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	if (clock_gettime(clock, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --measure-from: frame @index arrived at @now; the window runs from frame measure_from to the
 * latest, with --measure-pid's CPU time and --measure-count's count read at both ends. */
static void measure_frame(struct sink *sink, uint32_t index, uint64_t now)
{
	struct window *w = &sink->window;
	if (index < sink->opt.measure_from)
		return;
	if (!w->started) {
		w->started = true;
		w->start_ns = now;
		w->first_frame = index;
		w->first_latency = sink->n_latency ? sink->n_latency - 1 : 0;
		w->has_cpu = sink->opt.measure_pid > 0 &&
			     clock_getcpuclockid(sink->opt.measure_pid, &w->cpu_clock) == 0;
		if (w->has_cpu)
			w->cpu0_ns = clock_ns(w->cpu_clock);
		if (sink->opt.measure_count)
			w->count = map_counter(sink->opt.measure_count);
		if (w->count)
			w->count0 = *w->count;
	}
	w->end_ns = now;
	w->frames = index - w->first_frame;
	if (w->has_cpu)
		w->cpu_ns = clock_ns(w->cpu_clock);
	if (w->count)
		w->count1 = *w->count;
}

/* Longest age a stamp may show: anything older is a misread (a block the consumer's scaling
 * blurred, or a stamp outside the frame). */
#define STAMP_MAX_AGE_US 60000000u
/* What a block may look like at its centre after scaling and YUV conversion: black at most
 * STAMP_BLACK, white at least STAMP_WHITE, its channels at most STAMP_MAX_SPREAD apart. */
#define STAMP_BLACK 80
#define STAMP_WHITE 176
#define STAMP_MAX_SPREAD 48

/* --stamp: the capture time in @f's pixels (stamp.h), as the age at @now into *@age_ns. False
 * (counted in stamp_bad) when the rectangle is outside the frame, a block is neither clearly
 * black nor white, or the age is implausible. */
static bool read_stamp(struct sink *sink, const struct cr_frame *f, uint64_t now,
		       uint64_t *age_ns)
{
	const uint32_t *r = sink->opt.stamp;
	if ((uint64_t)r[0] + r[2] > f->width || (uint64_t)r[1] + r[3] > f->height) {
		sink->stamp_bad++;
		return false;
	}
	uint32_t value = 0, y = r[1] + r[3] / 2;
	for (uint32_t i = 0; i < CR_STAMP_BITS; i++) {
		uint32_t x = (cr_stamp_block_x(r, i) + cr_stamp_block_x(r, i + 1)) / 2;
		uint8_t rgb[3];
		cr_frame_rgb(f, x, y, rgb);
		/* A block is clearly white or black, and grey: anything else is not a stamp. */
		int lo = rgb[0] < rgb[1] ? rgb[0] : rgb[1], hi = rgb[0] > rgb[1] ? rgb[0] : rgb[1];
		lo = rgb[2] < lo ? rgb[2] : lo;
		hi = rgb[2] > hi ? rgb[2] : hi;
		if (hi - lo > STAMP_MAX_SPREAD || (rgb[1] > STAMP_BLACK && rgb[1] < STAMP_WHITE)) {
			sink->stamp_bad++;
			return false;
		}
		value = value << 1 | (rgb[1] >= STAMP_WHITE);
	}
	uint32_t age = cr_stamp_age_us(value, now);
	if (age > STAMP_MAX_AGE_US) {
		sink->stamp_bad++;
		return false;
	}
	*age_ns = (uint64_t)age * 1000u;
	return true;
}

static void note_pts_diff(struct sink *sink, uint64_t stamp_age_ns, uint64_t pts_age_ns)
{
	uint64_t d = stamp_age_ns > pts_age_ns ? stamp_age_ns - pts_age_ns
					       : pts_age_ns - stamp_age_ns;
	sink->have_pts_diff = true;
	if (d > sink->max_pts_diff_ns)
		sink->max_pts_diff_ns = d;
}

static void handle_buffer(struct sink *sink, struct pw_buffer *b)
{
	uint64_t now = now_ns();
	struct spa_buffer *buf = b->buffer;
	const char *why = NULL;
	char text[256];
	struct cr_frame frame;

	if (!sink->have_format)
		return;
	frame = sink->frame;
	if (!buffer_frame(sink, b, &frame, text, sizeof(text), &why)) {
		if (sink->skipped++ < 5)
			fprintf(stderr, "sink: skipping a buffer: %s\n", why);
		struct sink_buffer *sb = sink->transport == TRANSPORT_DMABUF ? b->user_data : NULL;
		if (sb && sb->sync)
			cr_sink_sync_skip(sink->sync, sb->sync);
		return;
	}
	/* Explicit sync: verify a snapshot, and only if the producer did not republish the
	 * buffer meanwhile (cr_sink_sync_intact()). */
	struct sink_buffer *ssb = sink->transport == TRANSPORT_DMABUF ? b->user_data : NULL;
	const void *mapped = frame.data;
	size_t extent = (size_t)cr_frame_extent(frame.fmt, frame.width, frame.height,
						&frame.planes);
	if (ssb && ssb->sync) {
		if (extent > sink->snapshot_size) {
			uint8_t *copy = realloc(sink->snapshot, extent);
			if (copy == NULL) {
				cr_sink_dmabuf_end_read(ssb->map);
				cr_sink_sync_done(sink->sync, ssb->sync, NULL, 0);
				quit(sink, 1);
				return;
			}
			sink->snapshot = copy;
			sink->snapshot_size = extent;
		}
		memcpy(sink->snapshot, frame.data, extent);
		frame.data = sink->snapshot;
		if (!cr_sink_sync_intact(sink->sync, ssb->sync)) {
			cr_sink_dmabuf_end_read(ssb->map);
			cr_sink_sync_done(sink->sync, ssb->sync, NULL, 0);
			return;
		}
	}

	uint32_t index = sink->frames++;
	if (index == 0)
		sink->first_ns = now;
	sink->last_ns = now;

	struct spa_meta_header *h = spa_buffer_find_meta_data(buf, SPA_META_Header, sizeof(*h));
	uint64_t age_ns;
	if (sink->opt.have_stamp ? read_stamp(sink, &frame, now, &age_ns)
				 : h != NULL && h->pts > 0 && (uint64_t)h->pts <= now) {
		if (!sink->opt.have_stamp)
			age_ns = now - (uint64_t)h->pts;
		else if (h != NULL && h->pts > 0 && (uint64_t)h->pts <= now)
			note_pts_diff(sink, age_ns, now - (uint64_t)h->pts);
		sink->latency_ns[sink->n_latency++] = age_ns;
		if (index == 0)
			sink->first_latency_ns = age_ns;
	}

	if (sink->opt.measure)
		measure_frame(sink, index, now);

	if (sink->opt.verify && index >= sink->opt.skip) {
		struct cr_verify_cursor cursor;
		bool has_cursor = sink->opt.expect.cursor_meta && read_cursor(buf, &cursor);
		cr_verify_frame(&sink->verify, &frame, has_cursor ? &cursor : NULL);
	}
	if (sink->opt.have_damage)
		check_damage(sink, buf, &frame);
	if (sink->opt.png_dir != NULL && !sink->png_failed && index % sink->opt.png_every == 0)
		save_png(sink, &frame, index);
	if (sink->transport == TRANSPORT_DMABUF) {
		struct sink_buffer *sb = b->user_data;
		cr_sink_dmabuf_end_read(sb->map);
		if (sb->sync)
			cr_sink_sync_done(sink->sync, sb->sync, mapped, extent);
	}

	if (sink->frames >= sink->opt.frames)
		quit(sink, 0);
}

/*
 * DMA-BUF buffers are mapped here, once per buffer: PipeWire maps only data flagged
 * MAPPABLE, which castrelayd and castrelay-testsrc do not set on DMA-BUFs. Every plane must
 * lie in the first block's file; a buffer with planes in separate DMA-BUFs is left unmapped
 * (one message here) and its frames are skipped.
 */
static void add_dmabuf(struct pw_buffer *b, struct sink_buffer *sb);

static void on_add_buffer(void *data, struct pw_buffer *b)
{
	struct sink *sink = data;
	struct spa_buffer *buf = b->buffer;

	b->user_data = NULL;
	if (buf->n_datas < 1 || buf->datas[0].type != SPA_DATA_DmaBuf)
		return;
	struct sink_buffer *sb = calloc(1, sizeof(*sb));
	if (sb == NULL)
		return;
	b->user_data = sb;
	if (sink->sync != NULL)
		sb->sync = cr_sink_sync_add(sink->sync, buf);
	add_dmabuf(b, sb);
}

/* Maps the planes of @b into @sb->map, or leaves it NULL (its frames are skipped). */
static void add_dmabuf(struct pw_buffer *b, struct sink_buffer *sb)
{
	struct spa_buffer *buf = b->buffer;
	struct cr_sink_dmabuf *map;

	if (buf->datas[0].fd < 0 || buf->datas[0].fd > INT_MAX) {
		fprintf(stderr, "sink: a DMA-BUF buffer without a valid fd: its frames are "
			"skipped\n");
		return;
	}
	map = cr_sink_dmabuf_create((int)buf->datas[0].fd,
				    (uint64_t)buf->datas[0].mapoffset + buf->datas[0].maxsize);
	if (map == NULL)
		return;
	for (uint32_t i = 1; i < buf->n_datas && buf->datas[i].type == SPA_DATA_DmaBuf; i++) {
		int64_t fd = buf->datas[i].fd;
		if (fd < 0 || fd > INT_MAX || !cr_sink_dmabuf_holds(map, (int)fd)) {
			fprintf(stderr, "sink: the planes of a buffer lie in different DMA-BUFs "
				"(not supported): its frames are skipped\n");
			cr_sink_dmabuf_destroy(map);
			return;
		}
	}
	sb->map = map;
}

static void on_remove_buffer(void *data, struct pw_buffer *b)
{
	struct sink *sink = data;
	struct sink_buffer *sb = b->user_data;

	if (sb == NULL)
		return;
	cr_sink_sync_remove(sink->sync, sb->sync);
	cr_sink_dmabuf_destroy(sb->map);
	free(sb);
	b->user_data = NULL;
}

/* --pause-after: stop reading; the buffers stay queued to us, the producer runs dry. */
static void start_pause(struct sink *sink)
{
	struct pw_loop *loop = pw_main_loop_get_loop(sink->loop);
	struct timespec ts = { (time_t)(sink->opt.pause_ms / 1000),
			       (long)(sink->opt.pause_ms % 1000) * 1000000 };

	sink->paused = sink->pause_done = true;
	pw_loop_update_timer(loop, sink->pause_timer, &ts, NULL, false);
	fprintf(stderr, "sink: not reading for %u ms after %u frames\n", sink->opt.pause_ms,
		sink->frames);
}

static void on_process(void *data);

/* The pause is over: everything queued meanwhile first, as a consumer that wakes up. No
 * process event may come by itself: the producer has no free buffer left to send. */
static void on_pause_timer(void *data, uint64_t expirations)
{
	struct sink *sink = data;
	uint32_t before = sink->frames;

	sink->paused = false;
	on_process(sink);
	sink->backlog = sink->frames - before;
	sink->frames_resumed = sink->frames;
	fprintf(stderr, "sink: reading again after %u ms: %u buffers were waiting\n",
		sink->opt.pause_ms, sink->backlog);
}

static void on_process(void *data)
{
	struct sink *sink = data;
	struct pw_buffer *b;

	if (sink->paused)
		return;
	/* Every buffer counts: older ones are not dropped, the point is to see them all. */
	while (sink->frames < sink->opt.frames && !sink->paused &&
	       (b = pw_stream_dequeue_buffer(sink->stream)) != NULL) {
		struct sink_buffer *sb = sink->transport == TRANSPORT_DMABUF ? b->user_data : NULL;
		if (sb && sb->sync) {
			if (cr_sink_sync_repeated(sink->sync, sb->sync))
				continue;
			cr_sink_sync_promise(sb->sync);
		}
		handle_buffer(sink, b);
		pw_stream_queue_buffer(sink->stream, b);
		if (sink->opt.pause_after && !sink->pause_done &&
		    sink->frames >= sink->opt.pause_after)
			start_pause(sink);
	}
}

static void on_state_changed(void *data, enum pw_stream_state old, enum pw_stream_state state,
			     const char *error)
{
	struct sink *sink = data;

	if (state == PW_STREAM_STATE_ERROR) {
		fprintf(stderr, "sink: stream error: %s (target '%s', %u of %u frames arrived)\n",
			error ? error : "unknown", sink->opt.target, sink->frames,
			sink->opt.frames);
		quit(sink, 1);
	}
}

static const struct pw_stream_events stream_events = {
	PW_VERSION_STREAM_EVENTS,
	.state_changed = on_state_changed,
	.param_changed = on_param_changed,
	.add_buffer = on_add_buffer,
	.remove_buffer = on_remove_buffer,
	.process = on_process,
};

static void on_core_error(void *data, uint32_t id, int seq, int res, const char *message)
{
	struct sink *sink = data;

	fprintf(stderr, "sink: PipeWire error on object %u: %s (%s)\n", id,
		message ? message : "", spa_strerror(res));
	if (id == PW_ID_CORE)
		quit(sink, 1);
}

static const struct pw_core_events core_events = {
	PW_VERSION_CORE_EVENTS,
	.error = on_core_error,
};

static void on_signal(void *data, int signal_number)
{
	struct sink *sink = data;

	fprintf(stderr, "sink: interrupted after %u of %u frames\n", sink->frames,
		sink->opt.frames);
	quit(sink, 1);
}

static void on_timeout(void *data, uint64_t expirations)
{
	struct sink *sink = data;

	fprintf(stderr, "sink: timeout after %u s: %u of %u frames arrived from '%s'%s\n",
		sink->opt.timeout_s, sink->frames, sink->opt.frames, sink->opt.target,
		sink->frames == 0 ? " (is the target running, and is WirePlumber?)" : "");
	quit(sink, 1);
}

/* --progress: a long run (tests/bench/soak.sh) samples the count while it goes on. */
static void on_progress(void *data, uint64_t expirations)
{
	struct sink *sink = data;

	printf("progress: frames=%u\n", sink->frames);
	fflush(stdout);
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of the sorted latencies, in microseconds. */
static uint64_t percentile_us(const uint64_t *sorted, uint32_t n, uint32_t pct)
{
	uint64_t rank = ((uint64_t)n * pct + 99) / 100;
	return sorted[rank > 0 ? rank - 1 : 0] / 1000;
}

/* The --measure-from window: 'measure: ...' (the intervals after its first frame). */
static void print_window(struct sink *sink)
{
	const struct window *w = &sink->window;
	if (!w->started || w->frames == 0 || w->end_ns <= w->start_ns) {
		printf("measure: n/a (fewer than 2 frames from frame %u on)\n",
		       sink->opt.measure_from);
		return;
	}
	double seconds = (double)(w->end_ns - w->start_ns) / 1e9;
	printf("measure: frames=%u seconds=%.3f fps=%.2f", w->frames, seconds,
	       (double)w->frames / seconds);
	uint32_t n = sink->n_latency > w->first_latency ? sink->n_latency - w->first_latency : 0;
	if (n > 0) {
		uint64_t *lat = sink->latency_ns + w->first_latency;
		uint64_t *sorted = malloc(n * sizeof(*sorted));
		if (sorted) {
			memcpy(sorted, lat, n * sizeof(*sorted));
			qsort(sorted, n, sizeof(*sorted), compare_u64);
			printf(" latency_p50_us=%llu latency_p99_us=%llu",
			       (unsigned long long)percentile_us(sorted, n, 50),
			       (unsigned long long)percentile_us(sorted, n, 99));
			free(sorted);
		}
	}
	if (w->has_cpu)
		printf(" cpu_ms=%.1f cpu_ms_per_frame=%.3f", (double)(w->cpu_ns - w->cpu0_ns) / 1e6,
		       (double)(w->cpu_ns - w->cpu0_ns) / 1e6 / w->frames);
	else if (sink->opt.measure_pid > 0)
		printf(" cpu_ms=n/a");
	if (w->count)
		printf(" count=%llu count_per_frame=%.2f",
		       (unsigned long long)(w->count1 - w->count0),
		       (double)(w->count1 - w->count0) / w->frames);
	else if (sink->opt.measure_count)
		printf(" count=n/a");
	printf("\n");
}

static void print_results(struct sink *sink)
{
	if (sink->opt.measure)
		print_window(sink);
	printf("frames: %u\n", sink->frames);
	/* Frames per second over the intervals between the first and the last frame. */
	if (sink->frames >= 2 && sink->last_ns > sink->first_ns)
		printf("fps: %.2f\n", (double)(sink->frames - 1) * 1e9 /
		       (double)(sink->last_ns - sink->first_ns));
	else
		printf("fps: n/a\n");
	if (sink->opt.have_stamp && sink->have_pts_diff)
		printf("stamp: read=%u bad=%u max_pts_diff_us=%.3f\n", sink->n_latency,
		       sink->stamp_bad, (double)sink->max_pts_diff_ns / 1000.0);
	else if (sink->opt.have_stamp)
		printf("stamp: read=%u bad=%u\n", sink->n_latency, sink->stamp_bad);
	if (sink->n_latency > 0) {
		qsort(sink->latency_ns, sink->n_latency, sizeof(*sink->latency_ns), compare_u64);
		printf("latency_us: p50=%llu p99=%llu\n",
		       (unsigned long long)percentile_us(sink->latency_ns, sink->n_latency, 50),
		       (unsigned long long)percentile_us(sink->latency_ns, sink->n_latency, 99));
	} else {
		printf("latency_us: n/a\n");
	}
	/* Cold start (DESIGN.md): the first frame's age at arrival, and the wait since connecting. */
	if (sink->first_latency_ns)
		printf("first_frame_ms: %.1f\n", (double)sink->first_latency_ns / 1e6);
	else
		printf("first_frame_ms: n/a\n");
	if (sink->frames > 0)
		printf("first_frame_after_start_ms: %.1f\n",
		       (double)(sink->first_ns - sink->start_ns) / 1e6);
	else
		printf("first_frame_after_start_ms: n/a\n");
	if (sink->negotiated) {
		char text[128];
		describe_format(&sink->frame, text, sizeof(text));
		printf("format: %s\n", text);
	} else {
		printf("format: none\n");
	}
	printf("transport: %s\n", sink->transport == TRANSPORT_DMABUF ? "dmabuf" :
				  sink->transport == TRANSPORT_SHM ? "shm" : "none");
	if (sink->opt.verify) {
		printf("verify: checked=%u mismatched_frames=%u max_error=%u stale=%u",
		       sink->verify.checked, sink->verify.mismatched_frames,
		       sink->verify.max_error, sink->verify.stale);
		if (sink->opt.expect.cursor_meta)
			printf(" cursor_checked=%u", sink->verify.cursor_checked);
		printf("\n");
	}
	if (sink->skipped > 0)
		printf("skipped: %u\n", sink->skipped);
	if (sink->sync != NULL)
		cr_sink_sync_print(sink->sync, stdout);
	if (sink->opt.have_damage)
		printf("damage: mapped=%u full=%u other=%u absent=%u\n", sink->damage_mapped,
		       sink->damage_full, sink->damage_other, sink->damage_absent);
	if (sink->opt.pause_after)
		printf("pause: after=%u ms=%u done=%s backlog=%u frames_after=%u\n",
		       sink->opt.pause_after, sink->opt.pause_ms,
		       sink->pause_done && !sink->paused ? "yes" : "no", sink->backlog,
		       sink->pause_done && !sink->paused ? sink->frames - sink->frames_resumed : 0);
	fflush(stdout);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROG " --target NODE [OPTION]...\n"
		"Consumes video from one PipeWire node, measures it and optionally verifies the\n"
		"castrelay test pattern.\n"
		"\n"
		"  --target NODE       node.name or object.serial to link to (required)\n"
		"  --frames N          stop successfully after N frames (default 30)\n"
		"  --timeout SEC       give up after SEC seconds (default 20)\n"
		"  --progress SEC      print 'progress: frames=N' every SEC seconds\n"
		"  --skip N            do not verify the first N frames (default 0)\n"
		"  --measure-from N    print 'measure:' for the frames from the N-th on (0 is\n"
		"                      the first): frames, seconds, fps, latency p50/p99 and\n"
		"                      with these two, what they count over the same frames:\n"
		"  --measure-pid PID   the CPU time of process PID (cpu_ms, cpu_ms_per_frame)\n"
		"  --measure-count FILE\n"
		"                      the 64-bit counter at the start of FILE, mapped shared\n"
		"                      (tests/bench/malloc-count.c keeps one: count_per_frame)\n"
		"  --stamp X,Y,W,H     take latencies from the capture time castrelay-testsrc\n"
		"                      --stamp wrote in the pixels, found in this rectangle of\n"
		"                      the received frames (after crop and scale), instead of\n"
		"                      the header pts, which some relays restamp\n"
		"  --png-dir DIR       save frames as DIR/frame-NNNN.png (RGB, uncompressed)\n"
		"  --png-every K       with --png-dir: save every K-th frame (default 1)\n"
		"  --format FMT        accept only FMT: BGRx, RGBx, BGRA, RGBA, xRGB_210LE,\n"
		"                      xBGR_210LE, NV12 or I420 (default: any of them, packed\n"
		"                      ones preferred)\n"
		"  --verify SRC_WxH    check frames against the test pattern of a WxH source\n"
		"  --source-format FMT with --verify: the format castrelay-testsrc sent (BGRx,\n"
		"                      RGBx, BGRA, RGBA, xRGB_210LE, xBGR_210LE or NV12; default\n"
		"                      BGRx): its pattern is regenerated in that format\n"
		"  --source-color-matrix M, --source-color-range R\n"
		"                      with --source-format NV12: how the source converted,\n"
		"                      bt709 (default) or bt601, limited (default) or full\n"
		"  --verify-follow     check frames as --verify does, taking the source's size\n"
		"                      from each negotiated format: for a relay without crop or\n"
		"                      scale, whose output follows its source's size (with\n"
		"                      --source-format; excludes --verify and the options below)\n"
		"  --crop X,Y,W,H      with --verify: the source crop (default: whole source)\n"
		"  --transform T       with --verify: the VideoTransform the source announces\n"
		"                      (0..7, as castrelay-testsrc --transform T), applied after\n"
		"                      the crop (default 0)\n"
		"  --redact X,Y,W,H    with --verify: a source rectangle filled with black;\n"
		"                      repeatable, up to 16\n"
		"  --cursor            with --verify: castrelay-testsrc --cursor's cursor is\n"
		"                      embedded in the frames\n"
		"  --cursor-meta       with --verify: castrelay-testsrc --cursor's cursor comes\n"
		"                      as SPA_META_Cursor, its position mapped through --crop\n"
		"                      into the output size, hotspot and bitmap unchanged; the\n"
		"                      frames must not contain it (excludes --cursor and\n"
		"                      --transform)\n"
		"  --tolerance T       with --verify: largest channel or code error allowed, in\n"
		"                      the output's codes (0..1023 for 10-bit ones; default 2)\n"
		"  --print-format      print the negotiated format when it is set\n"
		"  --dmabuf            offer per format a LINEAR DMA-BUF (the producer fixates\n"
		"                      the modifier) before shared memory, and read DMA-BUFs\n"
		"                      through a read-only mapping\n"
		"  --sync-timeline     with --dmabuf: offer explicit sync (SyncTimeline meta;\n"
		"                      timeline syncobjs of the first render node that has them):\n"
		"                      wait for each acquire point, signal each release point\n"
		"  --hold-release MS   with --sync-timeline: signal release points MS (0 to 1000)\n"
		"                      milliseconds after the buffer went back, and check that\n"
		"                      the producer did not rewrite it meanwhile (torn=)\n"
		"  --expect-damage X,Y,W,H\n"
		"                      with --verify: the source announces this damage; count the\n"
		"                      frames whose VideoDamage is it mapped into the output, the\n"
		"                      whole frame, or anything else (damage: line)\n"
		"  --pause-after N     after N frames stop reading (taking buffers) for\n"
		"                      --pause-ms MS (1 to 600000) milliseconds, as a stalled\n"
		"                      consumer does; then read what waited and go on\n"
		"  --pause-ms MS       with --pause-after: how long the pause lasts\n"
		"  --remote NAME       PipeWire remote to connect to\n"
		"  -h, --help          show this help\n"
		"\n"
		"Prints at the end: frames, fps, latency_us (p50, p99), first_frame_ms (the\n"
		"first frame's latency from its capture pts), first_frame_after_start_ms (from\n"
		"connecting to the first frame), format ('NV12 320x240\n"
		"bt709 limited' for YUV: the announced matrix and range, which verification\n"
		"uses), transport (dmabuf or shm; none when no format was set) and, with\n"
		"--verify, 'verify: checked=N mismatched_frames=M max_error=E stale=S',\n"
		"followed by ' cursor_checked=C' with --cursor-meta (a frame with a wrong\n"
		"cursor counts as mismatched), and with --pause-after 'pause: after=N ms=MS\n"
		"done=yes|no backlog=B frames_after=F' (B buffers were waiting when it read\n"
		"again, F frames came after those); 'sink: not reading for MS ms' and 'sink:\n"
		"reading again' on stderr when the pause begins and ends.\n"
		"Exit status: 0 when all frames arrived (verified and fresh with --verify),\n"
		"1 otherwise, 2 for bad usage.\n");
}

static bool rect_inside(const uint32_t r[4], const struct cr_verify_options *expect)
{
	return r[0] + r[2] <= expect->src_width && r[1] + r[3] <= expect->src_height;
}

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct options *opt)
{
	enum { OPT_TARGET = 256, OPT_FRAMES, OPT_TIMEOUT, OPT_PROGRESS, OPT_SKIP, OPT_PNG_DIR, OPT_PNG_EVERY,
	       OPT_FORMAT, OPT_VERIFY, OPT_CROP, OPT_TRANSFORM, OPT_REDACT, OPT_CURSOR,
	       OPT_CURSOR_META, OPT_TOLERANCE, OPT_PRINT_FORMAT, OPT_REMOTE, OPT_DMABUF,
	       OPT_SYNC_TIMELINE, OPT_HOLD_RELEASE, OPT_SOURCE_FORMAT, OPT_SOURCE_MATRIX,
	       OPT_SOURCE_RANGE, OPT_EXPECT_DAMAGE, OPT_PAUSE_AFTER, OPT_PAUSE_MS,
	       OPT_MEASURE_FROM, OPT_MEASURE_PID, OPT_MEASURE_COUNT, OPT_STAMP,
	       OPT_VERIFY_FOLLOW };
	static const struct option long_options[] = {
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "frames", required_argument, NULL, OPT_FRAMES },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "progress", required_argument, NULL, OPT_PROGRESS },
		{ "skip", required_argument, NULL, OPT_SKIP },
		{ "png-dir", required_argument, NULL, OPT_PNG_DIR },
		{ "png-every", required_argument, NULL, OPT_PNG_EVERY },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "verify", required_argument, NULL, OPT_VERIFY },
		{ "verify-follow", no_argument, NULL, OPT_VERIFY_FOLLOW },
		{ "crop", required_argument, NULL, OPT_CROP },
		{ "transform", required_argument, NULL, OPT_TRANSFORM },
		{ "redact", required_argument, NULL, OPT_REDACT },
		{ "cursor", no_argument, NULL, OPT_CURSOR },
		{ "cursor-meta", no_argument, NULL, OPT_CURSOR_META },
		{ "tolerance", required_argument, NULL, OPT_TOLERANCE },
		{ "print-format", no_argument, NULL, OPT_PRINT_FORMAT },
		{ "remote", required_argument, NULL, OPT_REMOTE },
		{ "dmabuf", no_argument, NULL, OPT_DMABUF },
		{ "sync-timeline", no_argument, NULL, OPT_SYNC_TIMELINE },
		{ "hold-release", required_argument, NULL, OPT_HOLD_RELEASE },
		{ "expect-damage", required_argument, NULL, OPT_EXPECT_DAMAGE },
		{ "pause-after", required_argument, NULL, OPT_PAUSE_AFTER },
		{ "pause-ms", required_argument, NULL, OPT_PAUSE_MS },
		{ "measure-from", required_argument, NULL, OPT_MEASURE_FROM },
		{ "measure-pid", required_argument, NULL, OPT_MEASURE_PID },
		{ "measure-count", required_argument, NULL, OPT_MEASURE_COUNT },
		{ "stamp", required_argument, NULL, OPT_STAMP },
		{ "source-format", required_argument, NULL, OPT_SOURCE_FORMAT },
		{ "source-color-matrix", required_argument, NULL, OPT_SOURCE_MATRIX },
		{ "source-color-range", required_argument, NULL, OPT_SOURCE_RANGE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cr_verify_options *expect = &opt->expect;
	bool ok = true, have_every = false, have_source_color = false;
	int c;

	*opt = (struct options){
		.frames = 30,
		.timeout_s = 20,
		.png_every = 1,
		.expect.tolerance = 2,
		.expect.src_matrix = CR_COLOR_BT709,
	};
	while (ok && (c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_TARGET:
			opt->target = optarg;
			break;
		case OPT_FRAMES:
			ok = cr_cli_parse_u32(PROG, "--frames", optarg, 1, MAX_FRAMES,
					      &opt->frames);
			break;
		case OPT_TIMEOUT:
			ok = cr_cli_parse_u32(PROG, "--timeout", optarg, 1, 86400,
					      &opt->timeout_s);
			break;
		case OPT_PROGRESS:
			ok = cr_cli_parse_u32(PROG, "--progress", optarg, 1, 86400,
					      &opt->progress_s);
			break;
		case OPT_SKIP:
			ok = cr_cli_parse_u32(PROG, "--skip", optarg, 0, MAX_FRAMES, &opt->skip);
			break;
		case OPT_MEASURE_FROM:
			ok = cr_cli_parse_u32(PROG, "--measure-from", optarg, 0, MAX_FRAMES,
					      &opt->measure_from);
			opt->measure = true;
			break;
		case OPT_MEASURE_PID: {
			uint32_t pid;
			ok = cr_cli_parse_u32(PROG, "--measure-pid", optarg, 1, INT_MAX, &pid);
			opt->measure_pid = (pid_t)pid;
			break;
		}
		case OPT_MEASURE_COUNT:
			opt->measure_count = optarg;
			break;
		case OPT_STAMP:
			ok = cr_cli_parse_rect(PROG, "--stamp", optarg, opt->stamp);
			opt->have_stamp = ok;
			if (ok && opt->stamp[2] < CR_STAMP_BITS) {
				fprintf(stderr, PROG ": --stamp %s: at least %u pixels wide "
					"(a block per bit)\n", optarg, CR_STAMP_BITS);
				ok = false;
			}
			break;
		case OPT_PNG_DIR:
			opt->png_dir = optarg;
			break;
		case OPT_PNG_EVERY:
			ok = cr_cli_parse_u32(PROG, "--png-every", optarg, 1, MAX_FRAMES,
					      &opt->png_every);
			have_every = true;
			break;
		case OPT_FORMAT:
			opt->format = cr_format_info_from_name(optarg);
			if (opt->format == NULL || format_to_spa(opt->format) ==
						       SPA_VIDEO_FORMAT_UNKNOWN) {
				fprintf(stderr, PROG ": invalid --format value '%s': expected one "
					"of BGRx, RGBx, BGRA, RGBA, xRGB_210LE, xBGR_210LE, NV12, "
					"I420\n", optarg);
				ok = false;
			}
			break;
		case OPT_SOURCE_FORMAT:
			expect->src_format = cr_format_info_from_name(optarg);
			if (expect->src_format == NULL || !expect->src_format->readable) {
				fprintf(stderr, PROG ": invalid --source-format value '%s': "
					"expected one of BGRx, RGBx, BGRA, RGBA, xRGB_210LE, "
					"xBGR_210LE, NV12\n", optarg);
				ok = false;
			}
			break;
		case OPT_SOURCE_MATRIX:
			have_source_color = true;
			if (strcmp(optarg, "bt601") == 0 || strcmp(optarg, "bt709") == 0) {
				expect->src_matrix = optarg[4] == '1' ? CR_COLOR_BT601
								      : CR_COLOR_BT709;
			} else {
				fprintf(stderr, PROG ": invalid --source-color-matrix value '%s': "
					"expected bt601 or bt709\n", optarg);
				ok = false;
			}
			break;
		case OPT_SOURCE_RANGE:
			have_source_color = true;
			if (strcmp(optarg, "limited") == 0 || strcmp(optarg, "full") == 0) {
				expect->src_full_range = optarg[0] == 'f';
			} else {
				fprintf(stderr, PROG ": invalid --source-color-range value '%s': "
					"expected limited or full\n", optarg);
				ok = false;
			}
			break;
		case OPT_VERIFY:
			ok = cr_cli_parse_size(PROG, "--verify", optarg, &expect->src_width,
					       &expect->src_height);
			opt->verify = true;
			break;
		case OPT_VERIFY_FOLLOW:
			opt->verify_follow = true;
			break;
		case OPT_CROP:
			ok = cr_cli_parse_rect(PROG, "--crop", optarg, expect->crop);
			opt->have_crop = true;
			break;
		case OPT_TRANSFORM:
			ok = cr_cli_parse_u32(PROG, "--transform", optarg, 0,
					      CR_TRANSFORM_FLIPPED_270, &expect->transform);
			opt->have_transform = true;
			break;
		case OPT_REDACT:
			if (expect->n_redact == CR_MAX_REDACT) {
				fprintf(stderr, PROG ": too many --redact options: at most %u\n",
					CR_MAX_REDACT);
				ok = false;
				break;
			}
			ok = cr_cli_parse_rect(PROG, "--redact", optarg,
					       expect->redact[expect->n_redact]);
			expect->n_redact += ok ? 1 : 0;
			break;
		case OPT_CURSOR:
			expect->cursor = true;
			break;
		case OPT_CURSOR_META:
			expect->cursor_meta = true;
			break;
		case OPT_TOLERANCE:
			ok = cr_cli_parse_u32(PROG, "--tolerance", optarg, 0, 255,
					      &expect->tolerance);
			break;
		case OPT_PRINT_FORMAT:
			opt->print_format = true;
			break;
		case OPT_REMOTE:
			opt->remote = optarg;
			break;
		case OPT_DMABUF:
			opt->dmabuf = true;
			break;
		case OPT_SYNC_TIMELINE:
			opt->sync_timeline = true;
			break;
		case OPT_EXPECT_DAMAGE:
			ok = cr_cli_parse_rect(PROG, "--expect-damage", optarg, opt->damage);
			opt->have_damage = true;
			break;
		case OPT_HOLD_RELEASE:
			ok = cr_cli_parse_u32(PROG, "--hold-release", optarg, 0, 1000,
					      &opt->hold_release_ms);
			break;
		case OPT_PAUSE_AFTER:
			ok = cr_cli_parse_u32(PROG, "--pause-after", optarg, 1, MAX_FRAMES,
					      &opt->pause_after);
			break;
		case OPT_PAUSE_MS:
			ok = cr_cli_parse_u32(PROG, "--pause-ms", optarg, 1, 600000,
					      &opt->pause_ms);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			return 2;
		}
	}
	if (!ok)
		return 2;
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'; try '" PROG " --help'.\n",
			argv[optind]);
		return 2;
	}
	if ((opt->sync_timeline || opt->hold_release_ms) && !opt->dmabuf) {
		fprintf(stderr, PROG ": --sync-timeline and --hold-release need --dmabuf\n");
		return 2;
	}
	if (opt->have_damage && !opt->verify) {
		fprintf(stderr, PROG ": --expect-damage needs --verify SRC_WxH\n");
		return 2;
	}
	if (!opt->pause_after != !opt->pause_ms) {
		fprintf(stderr, PROG ": --pause-after and --pause-ms go together\n");
		return 2;
	}
	if ((opt->measure_pid || opt->measure_count) && !opt->measure) {
		fprintf(stderr, PROG ": --measure-pid and --measure-count need --measure-from N\n");
		return 2;
	}
	if (opt->hold_release_ms && !opt->sync_timeline) {
		fprintf(stderr, PROG ": --hold-release needs --sync-timeline\n");
		return 2;
	}
	if (opt->target == NULL || opt->target[0] == '\0') {
		fprintf(stderr, PROG ": --target NODE is required (a node.name or "
			"object.serial)\n");
		return 2;
	}
	if (opt->verify_follow && (opt->verify || opt->have_crop || opt->have_transform ||
				   expect->n_redact > 0 || expect->cursor || expect->cursor_meta ||
				   opt->have_damage)) {
		fprintf(stderr, PROG ": --verify-follow excludes --verify, --crop, --transform, "
			"--redact, --cursor, --cursor-meta and --expect-damage: it checks a relay "
			"that passes its source's picture on at the source's size\n");
		return 2;
	}
	if (opt->verify_follow) {
		/* A placeholder size: the first negotiated format sets the real one. */
		opt->verify = true;
		expect->src_width = expect->src_height = 16;
	}
	if (!opt->verify && (opt->have_crop || opt->have_transform || expect->n_redact > 0 ||
			     expect->cursor || expect->cursor_meta)) {
		fprintf(stderr, PROG ": --crop, --transform, --redact, --cursor and --cursor-meta "
			"need --verify SRC_WxH\n");
		return 2;
	}
	if (!opt->verify && expect->src_format != NULL) {
		fprintf(stderr, PROG ": --source-format needs --verify SRC_WxH\n");
		return 2;
	}
	if (have_source_color && (expect->src_format == NULL || !expect->src_format->is_yuv)) {
		fprintf(stderr, PROG ": --source-color-matrix and --source-color-range need "
			"--source-format NV12\n");
		return 2;
	}
	if (expect->cursor_meta && expect->cursor) {
		fprintf(stderr, PROG ": --cursor-meta and --cursor exclude each other: a cursor "
			"passed on as metadata is not in the frames\n");
		return 2;
	}
	if (expect->cursor_meta && expect->transform != CR_TRANSFORM_NONE) {
		fprintf(stderr, PROG ": --cursor-meta cannot be checked with --transform: where "
			"the cursor goes in a transformed output is not defined\n");
		return 2;
	}
	if (have_every && opt->png_dir == NULL) {
		fprintf(stderr, PROG ": --png-every needs --png-dir DIR\n");
		return 2;
	}
	if (opt->png_dir != NULL && mkdir(opt->png_dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, PROG ": cannot create --png-dir '%s': %s\n", opt->png_dir,
			strerror(errno));
		return 2;
	}
	if (opt->have_crop && !rect_inside(expect->crop, expect)) {
		fprintf(stderr, PROG ": invalid --crop value '%u,%u,%u,%u': it must lie inside "
			"the %ux%u source given to --verify\n", expect->crop[0], expect->crop[1],
			expect->crop[2], expect->crop[3], expect->src_width, expect->src_height);
		return 2;
	}
	for (uint32_t i = 0; i < expect->n_redact; i++) {
		const uint32_t *r = expect->redact[i];
		if (!rect_inside(r, expect)) {
			fprintf(stderr, PROG ": invalid --redact value '%u,%u,%u,%u': it must lie "
				"inside the %ux%u source given to --verify\n", r[0], r[1], r[2],
				r[3], expect->src_width, expect->src_height);
			return 2;
		}
	}
	return -1;
}

/*
 * One EnumFormat: of @only, or of all our formats when it is NULL; with @linear a LINEAR
 * modifier the producer has to fixate (an enum of one value, listed as default and as
 * alternative, as cr_pw_format_build_enum() does).
 */
static const struct spa_pod *build_enum_format(struct spa_pod_builder *b,
					      const struct cr_format_info *only, bool linear)
{
	struct spa_pod_frame f[2];

	spa_pod_builder_push_object(b, &f[0], SPA_TYPE_OBJECT_Format, SPA_PARAM_EnumFormat);
	spa_pod_builder_add(b,
		SPA_FORMAT_mediaType, SPA_POD_Id(SPA_MEDIA_TYPE_video),
		SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw),
		0);
	spa_pod_builder_prop(b, SPA_FORMAT_VIDEO_format, 0);
	if (only != NULL) {
		spa_pod_builder_id(b, format_to_spa(only));
	} else {
		/* An enum choice lists its default first, then the alternatives. */
		spa_pod_builder_push_choice(b, &f[1], SPA_CHOICE_Enum, 0);
		spa_pod_builder_id(b, formats[0].spa);
		for (size_t i = 0; i < SPA_N_ELEMENTS(formats); i++)
			spa_pod_builder_id(b, formats[i].spa);
		spa_pod_builder_pop(b, &f[1]);
	}
	if (linear) {
		spa_pod_builder_prop(b, SPA_FORMAT_VIDEO_modifier,
				     SPA_POD_PROP_FLAG_MANDATORY | SPA_POD_PROP_FLAG_DONT_FIXATE);
		spa_pod_builder_push_choice(b, &f[1], SPA_CHOICE_Enum, 0);
		spa_pod_builder_long(b, (int64_t)DRM_FORMAT_MOD_LINEAR);
		spa_pod_builder_long(b, (int64_t)DRM_FORMAT_MOD_LINEAR);
		spa_pod_builder_pop(b, &f[1]);
	}
	/* No colorMatrix or colorRange: the producer chooses, and announces its choice. */
	spa_pod_builder_add(b,
		SPA_FORMAT_VIDEO_size, SPA_POD_CHOICE_RANGE_Rectangle(
			&SPA_RECTANGLE(640, 480), &SPA_RECTANGLE(1, 1),
			&SPA_RECTANGLE(CR_CLI_MAX_DIMENSION, CR_CLI_MAX_DIMENSION)),
		SPA_FORMAT_VIDEO_framerate, SPA_POD_CHOICE_RANGE_Fraction(
			&SPA_FRACTION(30, 1), &SPA_FRACTION(0, 1), &SPA_FRACTION(1000, 1)),
		0);
	return spa_pod_builder_pop(b, &f[0]);
}

/*
 * Our EnumFormats. Without --dmabuf one, listing every format. With it, per format (packed
 * ones first) the LINEAR DMA-BUF variant, then the shared memory one (DESIGN.md, "Protocol
 * rules", consumer 1).
 */
static uint32_t build_enum_formats(struct spa_pod_builder *b, const struct options *opt,
				   const struct spa_pod **params)
{
	uint32_t n = 0;

	if (!opt->dmabuf) {
		params[n++] = build_enum_format(b, opt->format, false);
		return n;
	}
	for (size_t i = 0; i < SPA_N_ELEMENTS(formats); i++) {
		const struct cr_format_info *fmt = cr_format_info_from_name(formats[i].name);
		if (opt->format != NULL && fmt != opt->format)
			continue;
		params[n++] = build_enum_format(b, fmt, true);
		params[n++] = build_enum_format(b, fmt, false);
	}
	return n;
}

int main(int argc, char **argv)
{
	struct sink sink = { 0 };
	uint8_t storage[4096];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(storage, sizeof(storage));
	const struct spa_pod *params[2 * SPA_N_ELEMENTS(formats)];
	uint32_t n_params;
	int res;

	res = parse_options(argc, argv, &sink.opt);
	if (res >= 0)
		return res;

	sink.latency_ns = calloc(sink.opt.frames, sizeof(*sink.latency_ns));
	if (sink.latency_ns == NULL) {
		fprintf(stderr, "sink: out of memory\n");
		return 1;
	}
	if (sink.opt.verify && !cr_verify_init(&sink.verify, &sink.opt.expect)) {
		free(sink.latency_ns);
		return 1;
	}

	pw_init(&argc, &argv);

	sink.loop = pw_main_loop_new(NULL);
	if (sink.loop == NULL) {
		fprintf(stderr, "sink: cannot create a main loop: %m\n");
		sink.exit_status = 1;
		goto out_deinit;
	}
	struct pw_loop *loop = pw_main_loop_get_loop(sink.loop);
	pw_loop_add_signal(loop, SIGINT, on_signal, &sink);
	pw_loop_add_signal(loop, SIGTERM, on_signal, &sink);
	sink.timer = pw_loop_add_timer(loop, on_timeout, &sink);
	if (sink.timer == NULL) {
		fprintf(stderr, "sink: cannot create a timer: %m\n");
		sink.exit_status = 1;
		goto out_loop;
	}
	pw_loop_update_timer(loop, sink.timer,
			     &(struct timespec){ .tv_sec = sink.opt.timeout_s }, NULL, false);
	sink.pause_timer = pw_loop_add_timer(loop, on_pause_timer, &sink);
	if (sink.pause_timer == NULL) {
		fprintf(stderr, "sink: cannot create a timer: %m\n");
		sink.exit_status = 1;
		goto out_timer;
	}
	if (sink.opt.progress_s > 0) {
		struct timespec every = { .tv_sec = sink.opt.progress_s };

		sink.progress_timer = pw_loop_add_timer(loop, on_progress, &sink);
		if (sink.progress_timer == NULL) {
			fprintf(stderr, "sink: cannot create a timer: %m\n");
			sink.exit_status = 1;
			goto out_timer;
		}
		pw_loop_update_timer(loop, sink.progress_timer, &every, &every, false);
	}
	if (sink.opt.sync_timeline &&
	    (sink.sync = cr_sink_sync_create(loop, sink.opt.hold_release_ms)) == NULL) {
		sink.exit_status = 1;
		goto out_timer;
	}

	sink.context = pw_context_new(loop, NULL, 0);
	if (sink.context == NULL) {
		fprintf(stderr, "sink: cannot create a PipeWire context: %m\n");
		sink.exit_status = 1;
		goto out_timer;
	}
	sink.core = pw_context_connect(sink.context,
		sink.opt.remote ? pw_properties_new(PW_KEY_REMOTE_NAME, sink.opt.remote, NULL) :
				  NULL, 0);
	if (sink.core == NULL) {
		fprintf(stderr, "sink: cannot connect to PipeWire%s%s: %m\n",
			sink.opt.remote ? " remote " : "", sink.opt.remote ? sink.opt.remote : "");
		sink.exit_status = 1;
		goto out_context;
	}
	pw_core_add_listener(sink.core, &sink.core_listener, &core_events, &sink);

	/*
	 * WirePlumber honours target.object only for streams with media.type; dont-fallback
	 * keeps it from linking another source when the target is missing, dont-move keeps it
	 * from re-targeting us to the default source later (see DESIGN.md).
	 */
	sink.stream = pw_stream_new(sink.core, "castrelay-sink", pw_properties_new(
		PW_KEY_MEDIA_TYPE, "Video",
		PW_KEY_MEDIA_CATEGORY, "Capture",
		PW_KEY_MEDIA_ROLE, "Screen",
		PW_KEY_TARGET_OBJECT, sink.opt.target,
		"node.dont-fallback", "true", /* WirePlumber keys: no PW_KEY_ macros */
		"node.dont-move", "true",
		NULL));
	if (sink.stream == NULL) {
		fprintf(stderr, "sink: cannot create a stream: %m\n");
		sink.exit_status = 1;
		goto out_core;
	}
	pw_stream_add_listener(sink.stream, &sink.stream_listener, &stream_events, &sink);

	n_params = build_enum_formats(&b, &sink.opt, params);
	for (uint32_t i = 0; i < n_params; i++) {
		if (params[i] == NULL) {
			fprintf(stderr, "sink: the EnumFormats do not fit their buffer\n");
			sink.exit_status = 1;
			goto out_stream;
		}
	}
	sink.start_ns = now_ns();
	res = pw_stream_connect(sink.stream, PW_DIRECTION_INPUT, PW_ID_ANY,
				PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS, params,
				n_params);
	if (res < 0) {
		fprintf(stderr, "sink: cannot connect the stream: %s\n", spa_strerror(res));
		sink.exit_status = 1;
		goto out_stream;
	}

	pw_main_loop_run(sink.loop);

	if (sink.sync != NULL)
		cr_sink_sync_flush(sink.sync);
	print_results(&sink);
	if (sink.frames < sink.opt.frames || sink.png_failed ||
	    (sink.opt.verify && (sink.verify.mismatched_frames > 0 || sink.verify.stale > 0)) ||
	    (sink.sync != NULL && !cr_sink_sync_clean(sink.sync)))
		sink.exit_status = 1;

out_stream:
	pw_stream_destroy(sink.stream);
out_core:
	spa_hook_remove(&sink.core_listener);
	pw_core_disconnect(sink.core);
out_context:
	pw_context_destroy(sink.context);
out_timer:
	cr_sink_sync_destroy(sink.sync);
	if (sink.pause_timer != NULL)
		pw_loop_destroy_source(loop, sink.pause_timer);
	if (sink.progress_timer != NULL)
		pw_loop_destroy_source(loop, sink.progress_timer);
	pw_loop_destroy_source(loop, sink.timer);
out_loop:
	pw_main_loop_destroy(sink.loop);
out_deinit:
	pw_deinit();
	if (sink.opt.verify)
		cr_verify_finish(&sink.verify);
	free(sink.rgb);
	free(sink.snapshot);
	free(sink.latency_ns);
	return sink.exit_status;
}
