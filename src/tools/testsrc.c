/* SPDX-License-Identifier: MIT */
/*
 * castrelay-testsrc: a PipeWire Video/Source that drives its graph from a timer and fills
 * frame n with the castrelay test pattern (pattern.h). It allocates its own buffer memory
 * (testsrc-buffer.h): memfds, and with --memfd-dmabuf it offers a LINEAR modifier first and
 * hands the memfds out as SPA_DATA_DmaBuf, which lets the DMA-BUF import path of a consumer run
 * on machines without a DRM device; with --dmabuf udmabuf|heap|vgem the DMA-BUFs are real
 * (the vm test bed's guest has all three). Negotiation follows PipeWire's
 * src/examples/video-src-fixate.c; a consumer that takes the format without a modifier gets
 * memfds (SHM). With --cursor every buffer carries SPA_META_Cursor with a bitmap
 * (cursor-pattern.h), filled as in PipeWire's src/examples/video-src.c and as
 * xdg-desktop-portal's cursor_mode=metadata producers (GNOME, KDE) do. With --transform every
 * buffer carries SPA_META_VideoTransform, as compositors send for rotated outputs, and with
 * --video-crop SPA_META_VideoCrop, as window or region screencasts do.
 *
 * --late-writes MS imitates a GPU that is still rendering when the compositor hands a buffer
 * over (implicit sync): every other vgem buffer is queued with an unsignalled vgem write fence
 * and still holding the picture of its previous use; only MS milliseconds later (a timer on
 * the loop) are the new frame's pixels written and the fence signalled (fence_frame() says why
 * not every frame). A consumer that waits for the buffer's implicit fences sees every frame;
 * one that does not sees stale pixels.
 *
 * --sync-timeline offers explicit sync (SPA_META_SyncTimeline, as video-src-sync.c does) with
 * DRM timeline syncobjs from the first render node that has them (virtio-gpu in the guest):
 * each frame's acquire point is signalled once its pixels are written (with --late-writes:
 * late; with vgem buffers the point carries the pending vgem fence at once, so a consumer can
 * hand it to the GPU), and before a buffer is rewritten its release point must have signalled
 * when the consumer promised it (cleared UNSCHEDULED_RELEASE); a release that does not come
 * within a second is counted and reported, as are buffers that came back unpromised.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <spa/param/video/format-utils.h>
#include <spa/pod/builder.h>
#include <spa/utils/list.h>
#include <spa/utils/result.h>
#include <pipewire/pipewire.h>

#include "cli.h"
#include "cr-params.h"
#include "pw-format.h"
#include "pw-timeline.h"
#include "sync-file.h"
#include "syncobj.h"
#include "cursor-pattern.h"
#include "pattern-frame.h"
#include "pattern.h"
#include "stamp.h"
#include "testsrc-buffer.h"

#define PROG "castrelay-testsrc"
#define BUFFERS_DEFAULT 4
#define BUFFERS_MAX 16
#define FLUSH_CYCLES 2
#define CYCLE_MAX 8
#define CURSOR_BYTES (CR_CURSOR_PIXELS * 4)
#define CURSOR_META_SIZE \
	(sizeof(struct spa_meta_cursor) + sizeof(struct spa_meta_bitmap) + CURSOR_BYTES)

struct options {
	const char *name;
	const char *remote;
	uint32_t width;
	uint32_t height;
	uint32_t layout;                         /* CR_LAYOUT_* of @format (packed ones) */
	const struct cr_format_info *format;     /* --format */
	bool disjoint;                           /* --disjoint-planes: NV12 in two buffers */
	enum cr_color_matrix matrix;             /* NV12: --color-matrix (announced too) */
	bool full_range;                         /* NV12: --color-range */
	uint32_t fps;
	uint32_t frames;
	uint32_t stride_pad;
	bool dmabuf;                             /* --memfd-dmabuf or --dmabuf */
	enum cr_testsrc_buffer_kind dmabuf_kind; /* what DMA-BUF buffers are made of */
	uint32_t late_writes_ms;                 /* 0: write before queueing */
	bool sync_timeline;                      /* offer SPA_META_SyncTimeline */
	uint64_t extra_modifiers[4];             /* --offer-modifier: offered before LINEAR */
	uint32_t n_extra_modifiers;
	bool cursor;
	bool have_transform;
	uint32_t transform; /* enum spa_meta_videotransform_value */
	bool have_video_crop;
	uint32_t video_crop[4]; /* x, y, w, h; not checked against --size, on purpose */
	bool have_damage;
	bool have_stamp;      /* --stamp: the pts in the pixels (stamp.h) */
	uint32_t stamp[4];
	uint32_t damage[4]; /* --damage x, y, w, h: announced, not what really changes */
	/* --cycle: the sizes and formats renegotiated in turn, every --cycle-every frames */
	struct {
		uint32_t width, height;
		const struct cr_format_info *format;
	} cycle[CYCLE_MAX];
	uint32_t n_cycle;
	uint32_t cycle_every;
};

/* Our allocation behind one pw_buffer, kept in pw_buffer->user_data. */
struct allocation {
	struct cr_testsrc_buffer *mem;
	struct cr_testsrc_buffer *mem2; /* --disjoint-planes: the UV plane's own buffer */
	/* --late-writes: queued with a pending fence, waiting in testsrc.late for its pixels */
	bool late;
	uint64_t late_frame;
	uint64_t late_due_ns;
	bool late_vgem;  /* the late frame carries a vgem fence to signal */
	struct spa_list link;
	struct cr_pw_timeline timeline; /* --sync-timeline, when negotiated */
	bool ours; /* dequeued and not queued since: a second dequeue is a repeat */
};

enum modifier_mode {
	MODIFIER_NONE,   /* SHM: no modifier property */
	MODIFIER_CHOICE, /* { LINEAR }, MANDATORY | DONT_FIXATE: asks the peer to intersect */
	MODIFIER_FIXED,  /* LINEAR, MANDATORY: the fixated format we announce first */
};

struct testsrc {
	struct options opt;
	struct pw_main_loop *loop;
	struct pw_context *context;
	struct pw_core *core;
	struct spa_hook core_listener;
	struct pw_stream *stream;
	struct spa_hook stream_listener;
	struct spa_source *timer;
	struct spa_source *late_timer;
	struct spa_list late; /* struct allocation.link, in due order */
	int vgem_fd;          /* --dmabuf vgem: the vgem primary node */
	int drm_fd;           /* --sync-timeline: a render node with timeline syncobjs */
	uint64_t sync_point;  /* last acquire/release point handed out */
	uint32_t sync_buffers;     /* buffers that carry a timeline */
	uint32_t release_waits;    /* rewrites that had to wait for a release point */
	uint32_t release_timeouts; /* release points that did not signal within a second */
	uint32_t unscheduled;      /* buffers back without a promised release point */
	uint32_t repeated;         /* buffers dequeued again before we queued them */
	uint32_t stride;             /* of plane 0 */
	struct cr_plane_layout planes; /* a frame in one block: GStreamer's default layout */
	bool have_format;
	bool dmabuf;
	uint64_t frame;       /* number of the next frame to fill */
	uint32_t out_of_buffers;
	uint32_t flush_cycles;
	uint32_t missing_cursor_meta;
	uint32_t missing_transform_meta;
	uint32_t missing_crop_meta;
	uint32_t missing_damage_meta;
	uint32_t late_writes;     /* fenced frames written, fences signalled */
	uint32_t in_time_writes;  /* of which written before queueing */
	uint64_t late_max_ns;   /* largest delay of a late write behind its due time */
	uint32_t cycle_index;     /* --cycle: the entry in use */
	uint32_t cycle_frames;    /* frames sent in it */
	uint32_t renegotiations;  /* --cycle: formats announced after the first */
	uint32_t cursor_format;               /* SPA_VIDEO_FORMAT_RGBA or _BGRA */
	uint8_t cursor_bitmap[CURSOR_BYTES]; /* in cursor_format */
	int exit_status;
};

static uint32_t format_to_spa(const struct testsrc *src)
{
	return cr_pw_format_to_spa(src->opt.format);
}

/* Blocks (spa_data) per buffer: one per plane for DMA-BUFs, as PipeWire wants; SHM in one. */
static uint32_t n_blocks(const struct testsrc *src)
{
	return src->dmabuf ? src->opt.format->n_planes : 1;
}

/* Where block @i's chunk lies: offset in its memory and bytes (the plane, or all of them). */
static void block_extent(const struct testsrc *src, uint32_t i, uint32_t *offset,
			 uint32_t *size)
{
	const struct cr_plane_layout *l = &src->planes;
	uint64_t end = i + 1 < l->n_planes ? l->offset[i + 1] : l->size;
	if (n_blocks(src) == 1) {
		*offset = 0;
		*size = (uint32_t)l->size;
	} else {
		*offset = src->opt.disjoint ? 0 : l->offset[i];
		*size = (uint32_t)(end - l->offset[i]);
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SPA_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void quit(struct testsrc *src, int status)
{
	if (status > src->exit_status)
		src->exit_status = status;
	pw_main_loop_quit(src->loop);
}

/* The stride and plane layout of the current size and format; false when a frame would be
 * too large for a Buffers param. */
static bool set_geometry(struct testsrc *src)
{
	const struct options *o = &src->opt;
	src->stride = (o->width * o->format->bytes_per_pixel + 3) / 4 * 4 + o->stride_pad;
	cr_format_plane_layout_stride(o->format, o->width, o->height, src->stride, &src->planes);
	return src->planes.size <= INT32_MAX;
}

/* Makes --cycle entry @i the current size and format; false as set_geometry(). */
static bool use_cycle_entry(struct testsrc *src, uint32_t i)
{
	src->opt.width = src->opt.cycle[i].width;
	src->opt.height = src->opt.cycle[i].height;
	src->opt.format = src->opt.cycle[i].format;
	src->opt.layout = src->opt.format->layout;
	src->cycle_index = i;
	return set_geometry(src);
}

static const struct spa_pod *build_format(struct testsrc *src, struct spa_pod_builder *b,
					  enum modifier_mode mode)
{
	struct spa_pod_frame f[2];

	spa_pod_builder_push_object(b, &f[0], SPA_TYPE_OBJECT_Format, SPA_PARAM_EnumFormat);
	spa_pod_builder_add(b,
		SPA_FORMAT_mediaType, SPA_POD_Id(SPA_MEDIA_TYPE_video),
		SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw),
		SPA_FORMAT_VIDEO_format, SPA_POD_Id(format_to_spa(src)),
		0);
	if (src->opt.format->is_yuv)
		spa_pod_builder_add(b,
			SPA_FORMAT_VIDEO_colorMatrix, SPA_POD_Id(src->opt.matrix == CR_COLOR_BT709
				? SPA_VIDEO_COLOR_MATRIX_BT709 : SPA_VIDEO_COLOR_MATRIX_BT601),
			SPA_FORMAT_VIDEO_colorRange, SPA_POD_Id(src->opt.full_range
				? SPA_VIDEO_COLOR_RANGE_0_255 : SPA_VIDEO_COLOR_RANGE_16_235),
			0);
	if (mode == MODIFIER_CHOICE) {
		spa_pod_builder_prop(b, SPA_FORMAT_VIDEO_modifier,
				     SPA_POD_PROP_FLAG_MANDATORY | SPA_POD_PROP_FLAG_DONT_FIXATE);
		/* An enum choice lists its default first, then the alternatives: like a
		 * compositor, the --offer-modifier layouts come first and LINEAR last. */
		const struct options *o = &src->opt;
		spa_pod_builder_push_choice(b, &f[1], SPA_CHOICE_Enum, 0);
		spa_pod_builder_long(b, (int64_t)(o->n_extra_modifiers ? o->extra_modifiers[0]
								 : DRM_FORMAT_MOD_LINEAR));
		for (uint32_t i = 0; i < o->n_extra_modifiers; i++)
			spa_pod_builder_long(b, (int64_t)o->extra_modifiers[i]);
		spa_pod_builder_long(b, DRM_FORMAT_MOD_LINEAR);
		spa_pod_builder_pop(b, &f[1]);
	} else if (mode == MODIFIER_FIXED) {
		spa_pod_builder_prop(b, SPA_FORMAT_VIDEO_modifier, SPA_POD_PROP_FLAG_MANDATORY);
		spa_pod_builder_long(b, DRM_FORMAT_MOD_LINEAR);
	}
	spa_pod_builder_add(b,
		SPA_FORMAT_VIDEO_size, SPA_POD_Rectangle(
			&SPA_RECTANGLE(src->opt.width, src->opt.height)),
		SPA_FORMAT_VIDEO_framerate, SPA_POD_Fraction(&SPA_FRACTION(src->opt.fps, 1)),
		0);
	return spa_pod_builder_pop(b, &f[0]);
}

/* The EnumFormats we announce: with --memfd-dmabuf or --dmabuf the modifier variant first. */
static uint32_t build_enum_formats(struct testsrc *src, struct spa_pod_builder *b,
				   const struct spa_pod **params)
{
	uint32_t n = 0;

	if (src->opt.dmabuf)
		params[n++] = build_format(src, b, MODIFIER_CHOICE);
	params[n++] = build_format(src, b, MODIFIER_NONE);
	return n;
}

/* True when the DONT_FIXATE modifier choice offered by the peer contains LINEAR. */
static bool choice_has_linear(const struct spa_pod_prop *prop)
{
	uint32_t n_values, choice;
	const struct spa_pod *values = spa_pod_get_values(&prop->value, &n_values, &choice);

	if (values->type != SPA_TYPE_Long || values->size != sizeof(int64_t))
		return false;
	const int64_t *mods = SPA_POD_BODY_CONST(values);
	for (uint32_t i = 0; i < n_values; i++) {
		if ((uint64_t)mods[i] == DRM_FORMAT_MOD_LINEAR)
			return true;
	}
	return false;
}

static void on_format(struct testsrc *src, const struct spa_pod *param)
{
	uint8_t storage[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(storage, sizeof(storage));
	const struct spa_pod *params[8];
	uint32_t n_params = 0;
	struct spa_video_info_raw info = { 0 };

	src->have_format = false;
	if (param == NULL)
		return;

	if (spa_format_video_raw_parse(param, &info) < 0 ||
	    info.format != format_to_spa(src) ||
	    info.size.width != src->opt.width || info.size.height != src->opt.height) {
		/* --cycle: the link may still settle on what we announced before. */
		if (src->opt.n_cycle)
			return;
		pw_stream_set_error(src->stream, -EINVAL, "unexpected format");
		return;
	}

	const struct spa_pod_prop *mod = spa_pod_find_prop(param, NULL, SPA_FORMAT_VIDEO_modifier);
	if (mod != NULL && !src->opt.dmabuf) {
		pw_stream_set_error(src->stream, -EINVAL, "modifier without a DMA-BUF option");
		return;
	}
	if (mod != NULL && (mod->flags & SPA_POD_PROP_FLAG_DONT_FIXATE)) {
		/*
		 * The peer kept the modifiers it can take; a real producer would test-allocate
		 * with them. Ours can only make LINEAR: announce it fixated in front of the
		 * EnumFormats; PipeWire then renegotiates and sends the fixed Format.
		 */
		if (!choice_has_linear(mod)) {
			pw_stream_set_error(src->stream, -EINVAL, "peer does not accept LINEAR");
			return;
		}
		params[n_params++] = build_format(src, &b, MODIFIER_FIXED);
		n_params += build_enum_formats(src, &b, params + n_params);
		pw_stream_update_params(src->stream, params, n_params);
		return;
	}
	if (mod != NULL && info.modifier != DRM_FORMAT_MOD_LINEAR) {
		pw_stream_set_error(src->stream, -EINVAL, "modifier is not LINEAR");
		return;
	}

	src->dmabuf = mod != NULL;
	src->have_format = true;
	if (src->dmabuf)
		fprintf(stderr, "testsrc: transport dmabuf (%s, LINEAR)\n",
			cr_testsrc_buffer_kind_name(src->opt.dmabuf_kind));
	else
		fprintf(stderr, "testsrc: transport shm\n");
	if (src->opt.late_writes_ms > 0 && !src->dmabuf)
		fprintf(stderr, "testsrc: --late-writes needs the vgem DMA-BUF transport: "
			"writing every frame before queueing it\n");

	uint32_t data_types = src->dmabuf ? 1u << SPA_DATA_DmaBuf :
				(1u << SPA_DATA_MemFd) | (1u << SPA_DATA_MemPtr);
	if (src->dmabuf && src->drm_fd >= 0) {
		/* Explicit sync first; the plain Buffers below when the peer lacks it. */
		params[n_params++] = cr_pw_format_build_buffers_sync(&b, n_blocks(src),
								     BUFFERS_DEFAULT);
		params[n_params++] = spa_pod_builder_add_object(&b,
			SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
			SPA_PARAM_META_type, SPA_POD_Id(SPA_META_SyncTimeline),
			SPA_PARAM_META_size, SPA_POD_Int(sizeof(struct spa_meta_sync_timeline)));
	}
	params[n_params++] = spa_pod_builder_add_object(&b,
		SPA_TYPE_OBJECT_ParamBuffers, SPA_PARAM_Buffers,
		SPA_PARAM_BUFFERS_buffers, SPA_POD_CHOICE_RANGE_Int(BUFFERS_DEFAULT, 2,
								   BUFFERS_MAX),
		SPA_PARAM_BUFFERS_blocks, SPA_POD_Int((int32_t)n_blocks(src)),
		SPA_PARAM_BUFFERS_size, SPA_POD_Int((int32_t)src->planes.size),
		SPA_PARAM_BUFFERS_stride, SPA_POD_Int(src->stride),
		SPA_PARAM_BUFFERS_dataType, SPA_POD_CHOICE_FLAGS_Int(data_types));
	params[n_params++] = spa_pod_builder_add_object(&b,
		SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
		SPA_PARAM_META_type, SPA_POD_Id(SPA_META_Header),
		SPA_PARAM_META_size, SPA_POD_Int(sizeof(struct spa_meta_header)));
	if (src->opt.cursor)
		params[n_params++] = spa_pod_builder_add_object(&b,
			SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
			SPA_PARAM_META_type, SPA_POD_Id(SPA_META_Cursor),
			SPA_PARAM_META_size, SPA_POD_Int(CURSOR_META_SIZE));
	if (src->opt.have_transform)
		params[n_params++] = spa_pod_builder_add_object(&b,
			SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
			SPA_PARAM_META_type, SPA_POD_Id(SPA_META_VideoTransform),
			SPA_PARAM_META_size, SPA_POD_Int(sizeof(struct spa_meta_videotransform)));
	if (src->opt.have_video_crop)
		params[n_params++] = spa_pod_builder_add_object(&b,
			SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
			SPA_PARAM_META_type, SPA_POD_Id(SPA_META_VideoCrop),
			SPA_PARAM_META_size, SPA_POD_Int(sizeof(struct spa_meta_region)));
	if (src->opt.have_damage)
		params[n_params++] = spa_pod_builder_add_object(&b,
			SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
			SPA_PARAM_META_type, SPA_POD_Id(SPA_META_VideoDamage),
			SPA_PARAM_META_size, SPA_POD_Int(sizeof(struct spa_meta_region) * 4));
	pw_stream_update_params(src->stream, params, n_params);
}

static void on_param_changed(void *data, uint32_t id, const struct spa_pod *param)
{
	struct testsrc *src = data;

	if (id == SPA_PARAM_Format)
		on_format(src, param);
}

static void on_add_buffer(void *data, struct pw_buffer *buffer)
{
	struct testsrc *src = data;
	struct spa_buffer *buf = buffer->buffer;
	struct spa_data *d = &buf->datas[0];
	struct allocation *alloc;
	bool as_dmabuf = src->dmabuf && (d->type & (1u << SPA_DATA_DmaBuf));
	bool disjoint = as_dmabuf && src->opt.disjoint;
	/* --disjoint-planes: the Y plane alone here, the UV plane in mem2 */
	size_t size = disjoint ? src->planes.offset[1] : src->planes.size;

	if (buf->n_datas < n_blocks(src) ||
	    (!as_dmabuf && !(d->type & (1u << SPA_DATA_MemFd)))) {
		pw_stream_set_error(src->stream, -ENOTSUP, "no usable data type (0x%x)",
				    buf->n_datas ? d->type : 0);
		return;
	}

	alloc = calloc(1, sizeof(*alloc));
	if (alloc == NULL) {
		pw_stream_set_error(src->stream, -errno, "calloc: %m");
		return;
	}
	spa_list_init(&alloc->link);
	alloc->mem = cr_testsrc_buffer_create(as_dmabuf ? src->opt.dmabuf_kind :
							  CR_TESTSRC_BUFFER_MEMFD,
					      size, src->stride, src->vgem_fd);
	if (alloc->mem != NULL && disjoint) {
		alloc->mem2 = cr_testsrc_buffer_create(src->opt.dmabuf_kind,
						       src->planes.size - src->planes.offset[1],
						       src->planes.stride[1], src->vgem_fd);
		if (alloc->mem2 == NULL) {
			cr_testsrc_buffer_destroy(alloc->mem);
			alloc->mem = NULL;
		}
	}
	if (alloc->mem == NULL) {
		int res = errno ? -errno : -ENOMEM;
		free(alloc);
		pw_stream_set_error(src->stream, res, "cannot allocate a %s buffer: %s",
				    as_dmabuf ? cr_testsrc_buffer_kind_name(src->opt.dmabuf_kind) :
						"memfd", spa_strerror(res));
		return;
	}

	/* One block per plane for DMA-BUFs: the same memory at the plane's offset, or with
	 * --disjoint-planes the UV plane's own. */
	for (uint32_t i = 0; i < n_blocks(src); i++) {
		struct cr_testsrc_buffer *mem = i > 0 && disjoint ? alloc->mem2 : alloc->mem;
		d = &buf->datas[i];
		if (as_dmabuf) {
			d->type = SPA_DATA_DmaBuf;
			d->flags = SPA_DATA_FLAG_READABLE;
		} else {
			d->type = SPA_DATA_MemFd;
			d->flags = SPA_DATA_FLAG_READWRITE | SPA_DATA_FLAG_MAPPABLE;
		}
		d->fd = mem->fd;
		d->mapoffset = 0;
		d->maxsize = (uint32_t)mem->size;
		d->data = mem->map;
	}
	buffer->user_data = alloc;
	if (as_dmabuf && src->drm_fd >= 0 && cr_pw_timeline_present(buf)) {
		if (!cr_pw_timeline_create(&alloc->timeline, src->drm_fd, buf, n_blocks(src))) {
			pw_stream_set_error(src->stream, -EIO, "cannot create timeline syncobjs");
			return;
		}
		if (src->sync_buffers++ == 0)
			fprintf(stderr, "testsrc: explicit sync (SyncTimeline)\n");
	}
}

static void finish_late_write(struct testsrc *src, struct allocation *alloc);

static void on_remove_buffer(void *data, struct pw_buffer *buffer)
{
	struct testsrc *src = data;
	struct allocation *alloc = buffer->user_data;

	if (alloc == NULL)
		return;
	if (alloc->late)
		finish_late_write(src, alloc);
	cr_pw_timeline_finish(&alloc->timeline, buffer->buffer);
	for (uint32_t i = 0; i < buffer->buffer->n_datas && i < n_blocks(src); i++) {
		buffer->buffer->datas[i].data = NULL;
		buffer->buffer->datas[i].fd = -1;
	}
	cr_testsrc_buffer_destroy(alloc->mem2);
	cr_testsrc_buffer_destroy(alloc->mem);
	free(alloc);
	buffer->user_data = NULL;
}

/* The pattern in the source's format (pattern-frame.h), padding included. */
static void fill_frame(struct testsrc *src, struct allocation *alloc, uint64_t frame)
{
	uint8_t *base = alloc->mem->map;
	uint8_t *planes[2] = { base, alloc->mem2 ? alloc->mem2->map
						 : base + src->planes.offset[1] };

	cr_pattern_frame_fill(src->opt.format, src->opt.width, src->opt.height, frame,
			      src->opt.matrix, src->opt.full_range, planes, src->planes.stride);
}

/*
 * The cursor of frame @frame: position (of the hotspot) and the whole bitmap every frame,
 * like video-src.c; the bitmap's top-left corner goes at position - hotspot.
 */
static void fill_cursor(struct testsrc *src, struct spa_buffer *buf, uint64_t frame)
{
	struct spa_meta_cursor *mc = spa_buffer_find_meta_data(buf, SPA_META_Cursor,
							      CURSOR_META_SIZE);
	int32_t x, y;

	if (mc == NULL) {
		/* The consumer did not accept the meta: it gets frames without a cursor. */
		if (src->missing_cursor_meta++ == 0)
			fprintf(stderr, "testsrc: buffers have no cursor meta\n");
		return;
	}
	cr_cursor_pattern_position(frame, src->opt.width, src->opt.height, &x, &y);
	mc->id = 1;
	mc->flags = 0;
	mc->position.x = x;
	mc->position.y = y;
	mc->hotspot.x = CR_CURSOR_HOTSPOT_X;
	mc->hotspot.y = CR_CURSOR_HOTSPOT_Y;
	mc->bitmap_offset = sizeof(*mc);

	struct spa_meta_bitmap *mb = SPA_PTROFF(mc, mc->bitmap_offset, struct spa_meta_bitmap);
	mb->format = src->cursor_format;
	mb->size.width = CR_CURSOR_SIZE;
	mb->size.height = CR_CURSOR_SIZE;
	mb->stride = CR_CURSOR_SIZE * 4;
	mb->offset = sizeof(*mb);
	memcpy(SPA_PTROFF(mb, mb->offset, void), src->cursor_bitmap, CURSOR_BYTES);
}

/* The bitmap in the byte order of the frames: BGRA for BGR sources, RGBA for RGB ones. */
static void init_cursor_bitmap(struct testsrc *src)
{
	bool bgr = src->opt.layout == CR_LAYOUT_BGRX || src->opt.layout == CR_LAYOUT_BGRA;

	src->cursor_format = bgr ? SPA_VIDEO_FORMAT_BGRA : SPA_VIDEO_FORMAT_RGBA;
	for (uint32_t y = 0; y < CR_CURSOR_SIZE; y++) {
		for (uint32_t x = 0; x < CR_CURSOR_SIZE; x++) {
			uint8_t rgba[4], *px = src->cursor_bitmap + (y * CR_CURSOR_SIZE + x) * 4;
			cr_cursor_pattern_rgba(x, y, rgba);
			px[0] = rgba[bgr ? 2 : 0];
			px[1] = rgba[1];
			px[2] = rgba[bgr ? 0 : 2];
			px[3] = rgba[3];
		}
	}
}

/* --stamp: the capture time @pts_ns in the pixels (stamp.h), over what fill_frame() wrote:
 * white or black blocks (8-bit packed formats, NV12's luma and neutral chroma). */
static void write_stamp(struct testsrc *src, struct allocation *alloc, uint64_t pts_ns)
{
	const struct cr_format_info *fmt = src->opt.format;
	const uint32_t *r = src->opt.stamp;
	uint32_t value = cr_stamp_value(pts_ns);
	bool nv12 = fmt->n_planes == 2;
	uint8_t *base = alloc->mem->map;
	uint8_t *uv = alloc->mem2 ? alloc->mem2->map : base + src->planes.offset[1];
	cr_testsrc_buffer_begin_write(alloc->mem);
	if (alloc->mem2)
		cr_testsrc_buffer_begin_write(alloc->mem2);
	for (uint32_t i = 0; i < CR_STAMP_BITS; i++) {
		bool one = (value >> (CR_STAMP_BITS - 1 - i)) & 1u;
		uint32_t x0 = cr_stamp_block_x(r, i), x1 = cr_stamp_block_x(r, i + 1);
		for (uint32_t y = r[1]; y < r[1] + r[3]; y++) {
			uint8_t *row = base + (size_t)y * src->planes.stride[0];
			for (uint32_t x = x0; x < x1; x++) {
				if (nv12) {
					row[x] = one ? 235 : 16;
					uint8_t *c = uv + (size_t)(y / 2) * src->planes.stride[1] +
						     (x / 2) * 2;
					c[0] = c[1] = 128;
				} else {
					uint32_t px = one ? 0xffffffffu : 0xff000000u;
					memcpy(row + (size_t)x * 4, &px, 4);
				}
			}
		}
	}
	if (alloc->mem2)
		cr_testsrc_buffer_end_write(alloc->mem2);
	cr_testsrc_buffer_end_write(alloc->mem);
}

static void write_frame(struct testsrc *src, struct allocation *alloc, uint64_t frame)
{
	cr_testsrc_buffer_begin_write(alloc->mem);
	if (alloc->mem2)
		cr_testsrc_buffer_begin_write(alloc->mem2);
	fill_frame(src, alloc, frame);
	if (alloc->mem2)
		cr_testsrc_buffer_end_write(alloc->mem2);
	cr_testsrc_buffer_end_write(alloc->mem);
}

/* Arms the late-write timer for the earliest pending write, or disarms it. */
static void arm_late_timer(struct testsrc *src)
{
	struct pw_loop *loop = pw_main_loop_get_loop(src->loop);

	if (spa_list_is_empty(&src->late)) {
		pw_loop_update_timer(loop, src->late_timer, NULL, NULL, false);
		return;
	}
	struct allocation *first = spa_list_first(&src->late, struct allocation, link);
	struct timespec due = {
		.tv_sec = (time_t)(first->late_due_ns / SPA_NSEC_PER_SEC),
		.tv_nsec = (long)(first->late_due_ns % SPA_NSEC_PER_SEC),
	};
	pw_loop_update_timer(loop, src->late_timer, &due, NULL, true);
}

/* The "GPU" finished: the frame's pixels land in the buffer, then its fence signals. */
static void finish_late_write(struct testsrc *src, struct allocation *alloc)
{
	uint64_t now = now_ns();

	fill_frame(src, alloc, alloc->late_frame);
	if (alloc->late_vgem) {
		cr_testsrc_buffer_end_write(alloc->mem);
		if (!cr_testsrc_buffer_signal(alloc->mem))
			quit(src, 1);
	} else if (alloc->timeline.meta &&
		   !cr_syncobj_signal(src->drm_fd, alloc->timeline.acquire,
				      alloc->timeline.meta->acquire_point)) {
		quit(src, 1);
	}
	spa_list_remove(&alloc->link);
	alloc->late = false;
	src->late_writes++;
	if (now > alloc->late_due_ns && now - alloc->late_due_ns > src->late_max_ns)
		src->late_max_ns = now - alloc->late_due_ns;
}

static void on_late_timer(void *data, uint64_t expirations)
{
	struct testsrc *src = data;
	uint64_t now = now_ns();
	struct allocation *alloc;

	while (!spa_list_is_empty(&src->late)) {
		alloc = spa_list_first(&src->late, struct allocation, link);
		if (alloc->late_due_ns > now)
			break;
		finish_late_write(src, alloc);
	}
	arm_late_timer(src);
}

/*
 * --sync-timeline: before rewriting a buffer, its release point must have signalled if the
 * consumer promised it. Blocking here is fine for a test producer; a stuck consumer costs a
 * second and is counted.
 */
static void wait_release(struct testsrc *src, struct allocation *alloc)
{
	const struct spa_meta_sync_timeline *m = alloc->timeline.meta;
	if (m->release_point == 0)
		return;
	if (m->flags & SPA_META_SYNC_TIMELINE_UNSCHEDULED_RELEASE) {
		if (src->unscheduled++ == 0)
			fprintf(stderr, "testsrc: a buffer came back without a promised release "
				"point (%" PRIu64 ")\n", m->release_point);
		return;
	}
	if (cr_syncobj_wait(src->drm_fd, alloc->timeline.release, m->release_point, false, 0) == 1)
		return;
	src->release_waits++;
	if (cr_syncobj_wait(src->drm_fd, alloc->timeline.release, m->release_point, false,
			    SPA_NSEC_PER_SEC) != 1 && src->release_timeouts++ == 0)
		fprintf(stderr, "testsrc: release point %" PRIu64 " not signalled within 1 s\n",
			m->release_point);
}

/*
 * --sync-timeline with --late-writes: the acquire point signals with the (late) write. With
 * vgem, the pending vgem fence becomes the point's fence at once: the consumer sees the point
 * available but not signalled, and can let its GPU wait. Otherwise the point has no fence
 * until finish_late_write() signals it from the CPU.
 */
static bool attach_acquire(struct testsrc *src, struct allocation *alloc)
{
	const struct cr_pw_timeline *t = &alloc->timeline;
	if (!alloc->late_vgem)
		return true;
	int fence = cr_sync_file_export(alloc->mem->fd, CR_SYNC_READ);
	if (fence < 0)
		return false;
	bool ok = cr_syncobj_import_sync_file(src->drm_fd, t->acquire, t->meta->acquire_point,
					      fence);
	close(fence);
	return ok;
}

/*
 * --late-writes: every frame gets a vgem write fence before it is queued. Frames with an even
 * number go out with the buffer's previous picture, and on_late_timer() writes them and
 * signals their fence MS milliseconds later; odd ones are written and signalled before they
 * are queued (a GPU that finished in time). The mix is what makes a consumer that does not
 * wait detectable: it shows old pictures between fresh ones, going backwards (stale), where
 * all-late frames would only show a constant lag that no pixel check can tell from latency.
 */
static bool fence_frame(struct testsrc *src, struct allocation *alloc, uint64_t frame)
{
	/* With a timeline only (no vgem), the late acquire point is the only fence. */
	alloc->late_vgem = alloc->mem->kind == CR_TESTSRC_BUFFER_VGEM;
	/* Begin the CPU access before fencing: it waits for all fences, ours included. */
	if (alloc->late_vgem) {
		cr_testsrc_buffer_begin_write(alloc->mem);
		if (!cr_testsrc_buffer_fence(alloc->mem)) {
			fill_frame(src, alloc, frame);
			cr_testsrc_buffer_end_write(alloc->mem);
			return false;
		}
	}
	bool late = frame % 2 == 0, was_empty = spa_list_is_empty(&src->late);
	if (alloc->timeline.meta && !attach_acquire(src, alloc))
		return false;
	alloc->late = true;
	alloc->late_frame = frame;
	alloc->late_due_ns = now_ns();
	if (late)
		alloc->late_due_ns += (uint64_t)src->opt.late_writes_ms * SPA_NSEC_PER_MSEC;
	spa_list_append(&src->late, &alloc->link);
	if (!late) {
		finish_late_write(src, alloc);
		src->in_time_writes++;
	} else if (was_empty) {
		arm_late_timer(src);
	}
	return true;
}

/* --cycle: the next entry is announced; frames wait for its Format (and buffers). */
static void next_format(struct testsrc *src)
{
	uint8_t storage[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(storage, sizeof(storage));
	const struct spa_pod *params[2];

	src->cycle_frames = 0;
	use_cycle_entry(src, (src->cycle_index + 1) % src->opt.n_cycle); /* checked at start */
	if (src->opt.cursor)
		init_cursor_bitmap(src);
	src->have_format = false;
	src->renegotiations++;
	pw_stream_update_params(src->stream, params, build_enum_formats(src, &b, params));
}

static void on_process(void *data)
{
	struct testsrc *src = data;
	struct pw_buffer *b;

	if (!src->have_format || (src->opt.frames > 0 && src->frame >= src->opt.frames))
		return;

	b = pw_stream_dequeue_buffer(src->stream);
	if (b == NULL) {
		/* Consumer too slow: this tick produces nothing. */
		if (src->out_of_buffers++ == 0)
			fprintf(stderr, "testsrc: out of buffers, skipping ticks\n");
		return;
	}

	struct spa_buffer *buf = b->buffer;
	struct spa_data *d = &buf->datas[0];
	bool fits = true;
	for (uint32_t i = 0; i < n_blocks(src); i++) {
		uint32_t offset, size;
		block_extent(src, i, &offset, &size);
		fits = fits && buf->datas[i].data != NULL &&
		       buf->datas[i].maxsize >= (uint64_t)offset + size;
	}

	if (!fits) {
		d->chunk->offset = 0;
		d->chunk->size = 0;
		d->chunk->stride = 0;
		d->chunk->flags = SPA_CHUNK_FLAG_CORRUPTED;
		pw_stream_queue_buffer(src->stream, b);
		return;
	}

	struct allocation *alloc = b->user_data;
	if (alloc->ours) {
		/* Handed back twice (PipeWire 1.4 async links): it is being filled already. */
		if (src->repeated++ == 0)
			fprintf(stderr, "testsrc: a buffer came back twice\n");
		return;
	}
	alloc->ours = true;
	if (alloc->late) {
		/* Back from the consumer before its pixels were due: finish that frame first. */
		finish_late_write(src, alloc);
		arm_late_timer(src);
	}
	struct spa_meta_sync_timeline *stl = alloc->timeline.meta;
	if (stl) {
		wait_release(src, alloc);
		stl->acquire_point = stl->release_point = ++src->sync_point;
		stl->flags |= SPA_META_SYNC_TIMELINE_UNSCHEDULED_RELEASE;
	}
	if (src->opt.late_writes_ms > 0 &&
	    (alloc->mem->kind == CR_TESTSRC_BUFFER_VGEM || stl)) {
		if (!fence_frame(src, alloc, src->frame)) {
			fprintf(stderr, "testsrc: cannot fence a late frame: stopping\n");
			quit(src, 1);
		}
	} else {
		write_frame(src, alloc, src->frame);
		if (stl && !cr_syncobj_signal(src->drm_fd, alloc->timeline.acquire,
					      stl->acquire_point))
			quit(src, 1);
	}
	if (src->opt.cursor)
		fill_cursor(src, buf, src->frame);
	if (src->opt.have_transform) {
		struct spa_meta_videotransform *t = spa_buffer_find_meta_data(buf,
			SPA_META_VideoTransform, sizeof(*t));
		if (t != NULL)
			t->transform = src->opt.transform;
		else if (src->missing_transform_meta++ == 0)
			fprintf(stderr, "testsrc: buffers have no transform meta\n");
	}
	if (src->opt.have_video_crop) {
		struct spa_meta_region *crop = spa_buffer_find_meta_data(buf, SPA_META_VideoCrop,
									 sizeof(*crop));
		if (crop != NULL) {
			crop->region.position.x = (int32_t)src->opt.video_crop[0];
			crop->region.position.y = (int32_t)src->opt.video_crop[1];
			crop->region.size.width = src->opt.video_crop[2];
			crop->region.size.height = src->opt.video_crop[3];
		} else if (src->missing_crop_meta++ == 0) {
			fprintf(stderr, "testsrc: buffers have no video crop meta\n");
		}
	}
	if (src->opt.have_damage) {
		struct spa_meta *m = spa_buffer_find_meta(buf, SPA_META_VideoDamage);
		if (m != NULL && m->size >= 2 * sizeof(struct spa_meta_region)) {
			struct spa_meta_region *r = m->data;
			r[0].region = (struct spa_region){
				{ (int32_t)src->opt.damage[0], (int32_t)src->opt.damage[1] },
				{ src->opt.damage[2], src->opt.damage[3] } };
			r[1].region = (struct spa_region){ { 0, 0 }, { 0, 0 } };
		} else if (src->missing_damage_meta++ == 0) {
			fprintf(stderr, "testsrc: buffers have no video damage meta\n");
		}
	}

	struct spa_meta_header *h = spa_buffer_find_meta_data(buf, SPA_META_Header, sizeof(*h));
	uint64_t pts = now_ns();
	if (src->opt.have_stamp)
		write_stamp(src, alloc, pts);
	if (h != NULL) {
		h->pts = (int64_t)pts;
		h->flags = 0;
		h->seq = src->frame;
		h->dts_offset = 0;
	}
	for (uint32_t i = 0; i < n_blocks(src); i++) {
		struct spa_chunk *c = buf->datas[i].chunk;
		block_extent(src, i, &c->offset, &c->size);
		c->stride = (int32_t)src->planes.stride[i];
		c->flags = SPA_CHUNK_FLAG_NONE;
	}
	alloc->ours = false;
	pw_stream_queue_buffer(src->stream, b);
	src->frame++;
	if (src->opt.n_cycle && ++src->cycle_frames >= src->opt.cycle_every)
		next_format(src);
}

static void on_timeout(void *data, uint64_t expirations)
{
	struct testsrc *src = data;

	/*
	 * After the last frame keep the graph running for FLUSH_CYCLES more cycles before
	 * quitting: a consumer that is not driven by its own data (node.async, the default for
	 * non-RT streams) takes a buffer in a later cycle, and would otherwise miss the last one.
	 */
	if (src->opt.frames > 0 && src->frame >= src->opt.frames &&
	    src->flush_cycles++ >= FLUSH_CYCLES) {
		quit(src, 0);
		return;
	}
	pw_stream_trigger_process(src->stream);
}

static void set_timer(struct testsrc *src, bool run)
{
	struct timespec value = { 0, 1 };
	struct timespec interval = {
		.tv_sec = 0,
		.tv_nsec = (long)(SPA_NSEC_PER_SEC / src->opt.fps),
	};

	if (src->opt.fps == 1)
		interval = (struct timespec){ .tv_sec = 1 };
	pw_loop_update_timer(pw_main_loop_get_loop(src->loop), src->timer,
			     run ? &value : NULL, run ? &interval : NULL, false);
}

static void on_state_changed(void *data, enum pw_stream_state old, enum pw_stream_state state,
			     const char *error)
{
	struct testsrc *src = data;

	switch (state) {
	case PW_STREAM_STATE_ERROR:
		fprintf(stderr, "testsrc: stream error: %s\n", error ? error : "unknown");
		quit(src, 1);
		break;
	case PW_STREAM_STATE_PAUSED:
		set_timer(src, false);
		/* The consumer left after the last frame: no more cycles will come. */
		if (src->opt.frames > 0 && src->frame >= src->opt.frames)
			quit(src, 0);
		break;
	case PW_STREAM_STATE_STREAMING:
		printf("testsrc: streaming %s %ux%u %s\n", src->opt.name, src->opt.width,
		       src->opt.height, src->opt.format->name);
		fflush(stdout);
		/* When another node drives the graph, process() comes on its cycles. */
		if (pw_stream_is_driving(src->stream))
			set_timer(src, true);
		break;
	default:
		break;
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
	struct testsrc *src = data;

	fprintf(stderr, "testsrc: PipeWire error on object %u: %s (%s)\n", id,
		message ? message : "", spa_strerror(res));
	if (id == PW_ID_CORE)
		quit(src, 1);
}

static const struct pw_core_events core_events = {
	PW_VERSION_CORE_EVENTS,
	.error = on_core_error,
};

static void on_signal(void *data, int signal_number)
{
	quit(data, 0);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROG " [OPTION]...\n"
		"A PipeWire Video/Source producing the castrelay test pattern.\n"
		"\n"
		"  --name NAME        node.name (default castrelay-testsrc)\n"
		"  --size WxH         frame size (default 640x480)\n"
		"  --format FMT       BGRx, RGBx, BGRA, RGBA, xRGB_210LE, xBGR_210LE or NV12\n"
		"                     (default BGRx); 10-bit and NV12 as pattern-frame.h says\n"
		"  --color-matrix M   NV12: convert with bt709 (default) or bt601, announced\n"
		"  --color-range R    NV12: limited (default) or full range, announced\n"
		"  --disjoint-planes  NV12 with a DMA-BUF option: the UV plane in a buffer\n"
		"                     (memfd) of its own, as hardware decoders hand out planes\n"
		"  --fps N            frame rate, 1 to 1000 (default 30)\n"
		"  --frames N         stop after N frames, 0 = run until a signal (default 0)\n"
		"  --stride-pad N     extra bytes at the end of each row, 0 to 4096 (default 0)\n"
		"  --memfd-dmabuf     offer a LINEAR DMA-BUF first and hand out memfds as DmaBuf\n"
		"  --dmabuf KIND      offer a LINEAR DMA-BUF first and hand out real DMA-BUFs:\n"
		"                     udmabuf (/dev/udmabuf), heap (/dev/dma_heap/system) or vgem\n"
		"                     (a vgem dumb buffer exported with PRIME)\n"
		"  --late-writes MS   with --dmabuf vgem: fence every buffer with a vgem write\n"
		"                     fence; queue even frames with their buffer's previous\n"
		"                     picture, write them and signal their fence MS (1 to 5000)\n"
		"                     milliseconds later (odd frames are written in time)\n"
		"  --sync-timeline    with a DMA-BUF option: offer explicit sync (SyncTimeline\n"
		"                     meta, timeline syncobjs of the first render node that has\n"
		"                     them); with --late-writes the acquire point of even frames\n"
		"                     signals MS milliseconds after queueing, with the write\n"
		"  --offer-modifier M with a DMA-BUF option: also offer DRM modifier M (0x…, up to\n"
		"                     4 times) before LINEAR, as a compositor offering tiled layouts\n"
		"                     does; buffers are always LINEAR, so M must be refused\n"
		"  --cursor           attach SPA_META_Cursor with a 32x32 bitmap to every frame\n"
		"                     (moving; BGRA for BGR formats, RGBA for RGB ones)\n"
		"  --transform T      attach SPA_META_VideoTransform T (0..7) to every frame\n"
		"  --damage X,Y,W,H   attach SPA_META_VideoDamage with this one region to every\n"
		"                     frame (announced only: the whole pattern still changes)\n"
		"  --stamp X,Y,W,H    write each frame's capture time (its pts in microseconds,\n"
		"                     low 32 bits) into this rectangle as 32 black or white\n"
		"                     blocks, for castrelay-sink --stamp (8-bit packed formats\n"
		"                     and NV12; the pattern there is lost)\n"
		"  --video-crop X,Y,W,H\n"
		"                     attach SPA_META_VideoCrop with this region to every frame\n"
		"                     (not checked against --size)\n"
		"  --cycle WxH:FMT,WxH:FMT[,...]\n"
		"                     renegotiate: start with the first size and format (instead\n"
		"                     of --size and --format), announce the next every\n"
		"                     --cycle-every frames, after the last the first again (2 to 8\n"
		"                     entries); frames wait for each new format\n"
		"  --cycle-every N    with --cycle: frames per entry, 1 to 1000000 (default 10)\n"
		"  --remote NAME      PipeWire remote to connect to (default: the usual one)\n"
		"  -h, --help         show this help\n"
		"\n"
		"Prints 'testsrc: streaming NAME WxH FORMAT' on stdout when a consumer is linked,\n"
		"and the negotiated transport on stderr; with --cycle, 'testsrc: cycle: N\n"
		"renegotiations, F frames' on stderr at the end. Exits 1 when the --dmabuf\n"
		"device is missing.\n");
}

/* --cycle WxH:FMT,...: into opt->cycle; false with a message naming the bad entry. */
static bool parse_cycle(const char *arg, struct options *opt)
{
	char copy[512], *save = NULL;
	if (snprintf(copy, sizeof(copy), "%s", arg) >= (int)sizeof(copy)) {
		fprintf(stderr, PROG ": invalid --cycle value: longer than %zu bytes\n",
			sizeof(copy) - 1);
		return false;
	}
	opt->n_cycle = 0;
	for (char *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
		char *fmt = strchr(e, ':');
		if (fmt)
			*fmt++ = '\0';
		const struct cr_format_info *f = cr_format_info_from_name(fmt ? fmt : "");
		if (opt->n_cycle == CYCLE_MAX || !f || !f->readable) {
			fprintf(stderr, PROG ": invalid --cycle entry '%s%s%s': expected WxH:FMT (FMT "
				"one of --format's), at most %d entries\n", e, fmt ? ":" : "",
				fmt ? fmt : "", CYCLE_MAX);
			return false;
		}
		if (!cr_cli_parse_size(PROG, "--cycle", e, &opt->cycle[opt->n_cycle].width,
				       &opt->cycle[opt->n_cycle].height))
			return false;
		opt->cycle[opt->n_cycle++].format = f;
	}
	if (opt->n_cycle < 2) {
		fprintf(stderr, PROG ": invalid --cycle value '%s': expected at least two "
			"WxH:FMT entries\n", arg);
		return false;
	}
	return true;
}

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct options *opt)
{
	enum { OPT_NAME = 256, OPT_SIZE, OPT_FORMAT, OPT_FPS, OPT_FRAMES, OPT_PAD, OPT_MEMFD_DMABUF,
	       OPT_DMABUF, OPT_LATE_WRITES, OPT_CURSOR, OPT_TRANSFORM, OPT_VIDEO_CROP, OPT_DAMAGE,
	       OPT_STAMP,
	       OPT_REMOTE, OPT_OFFER_MODIFIER, OPT_SYNC_TIMELINE, OPT_COLOR_MATRIX, OPT_COLOR_RANGE,
	       OPT_DISJOINT, OPT_CYCLE, OPT_CYCLE_EVERY };
	static const struct option long_options[] = {
		{ "name", required_argument, NULL, OPT_NAME },
		{ "color-matrix", required_argument, NULL, OPT_COLOR_MATRIX },
		{ "color-range", required_argument, NULL, OPT_COLOR_RANGE },
		{ "disjoint-planes", no_argument, NULL, OPT_DISJOINT },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "fps", required_argument, NULL, OPT_FPS },
		{ "frames", required_argument, NULL, OPT_FRAMES },
		{ "stride-pad", required_argument, NULL, OPT_PAD },
		{ "memfd-dmabuf", no_argument, NULL, OPT_MEMFD_DMABUF },
		{ "dmabuf", required_argument, NULL, OPT_DMABUF },
		{ "late-writes", required_argument, NULL, OPT_LATE_WRITES },
		{ "sync-timeline", no_argument, NULL, OPT_SYNC_TIMELINE },
		{ "offer-modifier", required_argument, NULL, OPT_OFFER_MODIFIER },
		{ "cursor", no_argument, NULL, OPT_CURSOR },
		{ "transform", required_argument, NULL, OPT_TRANSFORM },
		{ "video-crop", required_argument, NULL, OPT_VIDEO_CROP },
		{ "damage", required_argument, NULL, OPT_DAMAGE },
		{ "stamp", required_argument, NULL, OPT_STAMP },
		{ "remote", required_argument, NULL, OPT_REMOTE },
		{ "cycle", required_argument, NULL, OPT_CYCLE },
		{ "cycle-every", required_argument, NULL, OPT_CYCLE_EVERY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	bool ok = true, memfd_dmabuf = false, real_dmabuf = false, have_color = false;
	bool have_size = false, have_every = false;

	*opt = (struct options){
		.name = "castrelay-testsrc",
		.width = 640,
		.height = 480,
		.layout = CR_LAYOUT_BGRX,
		.format = cr_format_info_from_name("BGRx"),
		.matrix = CR_COLOR_BT709,
		.fps = 30,
		.cycle_every = 10,
	};
	while (ok && (c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_NAME:
			opt->name = optarg;
			if (optarg[0] == '\0') {
				fprintf(stderr, PROG ": invalid --name value '': expected a "
					"non-empty node name\n");
				ok = false;
			}
			break;
		case OPT_SIZE:
			ok = cr_cli_parse_size(PROG, "--size", optarg, &opt->width, &opt->height);
			have_size = true;
			break;
		case OPT_CYCLE:
			ok = parse_cycle(optarg, opt);
			break;
		case OPT_CYCLE_EVERY:
			ok = cr_cli_parse_u32(PROG, "--cycle-every", optarg, 1, 1000000,
					      &opt->cycle_every);
			have_every = true;
			break;
		case OPT_FORMAT:
			have_size = true; /* --size or --format: not with --cycle */
			opt->format = cr_format_info_from_name(optarg);
			if (opt->format == NULL || !opt->format->readable) {
				fprintf(stderr, PROG ": invalid --format value '%s': expected "
					"BGRx, RGBx, BGRA, RGBA, xRGB_210LE, xBGR_210LE or NV12\n",
					optarg);
				ok = false;
				break;
			}
			opt->layout = opt->format->layout;
			break;
		case OPT_COLOR_MATRIX:
			have_color = true;
			if (strcmp(optarg, "bt601") == 0 || strcmp(optarg, "bt709") == 0) {
				opt->matrix = optarg[4] == '1' ? CR_COLOR_BT601 : CR_COLOR_BT709;
			} else {
				fprintf(stderr, PROG ": invalid --color-matrix value '%s': "
					"expected bt601 or bt709\n", optarg);
				ok = false;
			}
			break;
		case OPT_COLOR_RANGE:
			have_color = true;
			if (strcmp(optarg, "limited") == 0 || strcmp(optarg, "full") == 0) {
				opt->full_range = optarg[0] == 'f';
			} else {
				fprintf(stderr, PROG ": invalid --color-range value '%s': "
					"expected limited or full\n", optarg);
				ok = false;
			}
			break;
		case OPT_DISJOINT:
			opt->disjoint = true;
			break;
		case OPT_FPS:
			ok = cr_cli_parse_u32(PROG, "--fps", optarg, 1, 1000, &opt->fps);
			break;
		case OPT_FRAMES:
			ok = cr_cli_parse_u32(PROG, "--frames", optarg, 0, UINT32_MAX,
					      &opt->frames);
			break;
		case OPT_PAD:
			ok = cr_cli_parse_u32(PROG, "--stride-pad", optarg, 0, 4096,
					      &opt->stride_pad);
			break;
		case OPT_MEMFD_DMABUF:
			memfd_dmabuf = true;
			opt->dmabuf = true;
			opt->dmabuf_kind = CR_TESTSRC_BUFFER_MEMFD;
			break;
		case OPT_DMABUF:
			real_dmabuf = true;
			opt->dmabuf = true;
			if (!cr_testsrc_buffer_kind_from_name(optarg, &opt->dmabuf_kind)) {
				fprintf(stderr, PROG ": invalid --dmabuf value '%s': expected "
					"udmabuf, heap or vgem\n", optarg);
				ok = false;
			}
			break;
		case OPT_LATE_WRITES:
			/* vgem signals a forgotten fence after 10 s: stay well below. */
			ok = cr_cli_parse_u32(PROG, "--late-writes", optarg, 1, 5000,
					      &opt->late_writes_ms);
			break;
		case OPT_OFFER_MODIFIER: {
			char *end = NULL;
			errno = 0;
			unsigned long long m = strtoull(optarg, &end, 0);
			if (errno || !end || *end || end == optarg || m == DRM_FORMAT_MOD_LINEAR ||
			    m == DRM_FORMAT_MOD_INVALID || opt->n_extra_modifiers == 4) {
				fprintf(stderr, PROG ": invalid --offer-modifier value '%s': expected a "
					"DRM modifier other than LINEAR and INVALID (e.g. 0x%llx), at "
					"most 4 times\n", optarg,
					(unsigned long long)I915_FORMAT_MOD_X_TILED);
				ok = false;
				break;
			}
			opt->extra_modifiers[opt->n_extra_modifiers++] = m;
			break;
		}
		case OPT_CURSOR:
			opt->cursor = true;
			break;
		case OPT_TRANSFORM:
			ok = cr_cli_parse_u32(PROG, "--transform", optarg, 0,
					      SPA_META_TRANSFORMATION_Flipped270, &opt->transform);
			opt->have_transform = true;
			break;
		case OPT_VIDEO_CROP:
			ok = cr_cli_parse_rect(PROG, "--video-crop", optarg, opt->video_crop);
			opt->have_video_crop = true;
			break;
		case OPT_DAMAGE:
			ok = cr_cli_parse_rect(PROG, "--damage", optarg, opt->damage);
			opt->have_damage = true;
			break;
		case OPT_STAMP:
			ok = cr_cli_parse_rect(PROG, "--stamp", optarg, opt->stamp);
			opt->have_stamp = true;
			break;
		case OPT_REMOTE:
			opt->remote = optarg;
			break;
		case OPT_SYNC_TIMELINE:
			opt->sync_timeline = true;
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
	if (opt->n_cycle && have_size) {
		fprintf(stderr, PROG ": --cycle excludes --size and --format: its first entry is "
			"the first size and format\n");
		return 2;
	}
	if (have_every && !opt->n_cycle) {
		fprintf(stderr, PROG ": --cycle-every needs --cycle\n");
		return 2;
	}
	if (memfd_dmabuf && real_dmabuf) {
		fprintf(stderr, PROG ": --memfd-dmabuf and --dmabuf exclude each other\n");
		return 2;
	}
	if (opt->n_extra_modifiers > 0 && !opt->dmabuf) {
		fprintf(stderr, PROG ": --offer-modifier needs --memfd-dmabuf or --dmabuf\n");
		return 2;
	}
	if (opt->late_writes_ms > 0 && !opt->sync_timeline &&
	    !(real_dmabuf && opt->dmabuf_kind == CR_TESTSRC_BUFFER_VGEM)) {
		fprintf(stderr, PROG ": --late-writes needs --dmabuf vgem (only vgem lets a "
			"producer attach its own fences) or --sync-timeline\n");
		return 2;
	}
	if (opt->have_stamp) {
		const uint32_t *r = opt->stamp;
		const struct cr_format_info *f = opt->format;
		if (f->depth != 8 || (f->is_yuv && f->n_planes != 2)) {
			fprintf(stderr, PROG ": --stamp needs an 8-bit packed format or NV12, "
				"not %s\n", f->name);
			return 2;
		}
		if (r[2] < CR_STAMP_BITS || r[3] == 0 || (uint64_t)r[0] + r[2] > opt->width ||
		    (uint64_t)r[1] + r[3] > opt->height) {
			fprintf(stderr, PROG ": --stamp %u,%u,%u,%u must lie inside the %ux%u "
				"frame and be at least %u pixels wide (a block per bit)\n", r[0],
				r[1], r[2], r[3], opt->width, opt->height, CR_STAMP_BITS);
			return 2;
		}
		if (opt->n_cycle || opt->late_writes_ms > 0) {
			fprintf(stderr, PROG ": --stamp excludes --cycle and --late-writes\n");
			return 2;
		}
	}
	if (opt->sync_timeline && !opt->dmabuf) {
		fprintf(stderr, PROG ": --sync-timeline needs --memfd-dmabuf or --dmabuf\n");
		return 2;
	}
	if (have_color && !opt->format->is_yuv) {
		fprintf(stderr, PROG ": --color-matrix and --color-range need --format NV12\n");
		return 2;
	}
	if (opt->disjoint && (!opt->dmabuf || opt->format->n_planes < 2)) {
		fprintf(stderr, PROG ": --disjoint-planes needs --format NV12 and --memfd-dmabuf "
			"or --dmabuf (shared memory comes in one block)\n");
		return 2;
	}
	if (opt->disjoint && opt->late_writes_ms > 0) {
		fprintf(stderr, PROG ": --disjoint-planes and --late-writes exclude each other "
			"(only the first plane's buffer would be fenced)\n");
		return 2;
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'; try '" PROG " --help'.\n",
			argv[optind]);
		return 2;
	}
	return -1;
}

/* Fails early, before PipeWire, when the --dmabuf provider is missing. */
static bool open_dmabuf_device(struct testsrc *src)
{
	if (!src->opt.dmabuf || src->opt.dmabuf_kind == CR_TESTSRC_BUFFER_MEMFD)
		return true;
	if (src->opt.dmabuf_kind == CR_TESTSRC_BUFFER_VGEM) {
		src->vgem_fd = cr_dmabuf_alloc_open_drm("vgem", true);
		if (src->vgem_fd < 0)
			fprintf(stderr, PROG ": --dmabuf vgem: no vgem device (modprobe vgem)\n");
		return src->vgem_fd >= 0;
	}
	struct cr_testsrc_buffer *probe = cr_testsrc_buffer_create(src->opt.dmabuf_kind, 4096, 0,
								   -1);
	if (probe == NULL)
		fprintf(stderr, PROG ": --dmabuf %s: cannot allocate a DMA-BUF\n",
			cr_testsrc_buffer_kind_name(src->opt.dmabuf_kind));
	cr_testsrc_buffer_destroy(probe);
	return probe != NULL;
}

int main(int argc, char **argv)
{
	struct testsrc src = { 0 };
	uint8_t storage[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(storage, sizeof(storage));
	const struct spa_pod *params[2];
	uint32_t n_params;
	char description[256];
	int res;

	res = parse_options(argc, argv, &src.opt);
	if (res >= 0)
		return res;
	bool fits = set_geometry(&src);
	for (uint32_t i = src.opt.n_cycle; fits && i-- > 0;)
		fits = use_cycle_entry(&src, i); /* ends with the first */
	if (!fits) {
		fprintf(stderr, PROG ": a %ux%u frame with --stride-pad %u is too large\n",
			src.opt.width, src.opt.height, src.opt.stride_pad);
		return 2;
	}
	src.exit_status = 0;
	src.vgem_fd = -1;
	src.drm_fd = -1;
	spa_list_init(&src.late);
	init_cursor_bitmap(&src);
	if (!open_dmabuf_device(&src))
		return 1;
	if (src.opt.sync_timeline && (src.drm_fd = cr_syncobj_device_open(NULL)) < 0) {
		fprintf(stderr, PROG ": --sync-timeline: no DRM render node with timeline "
			"syncobjs\n");
		return 1;
	}

	pw_init(&argc, &argv);

	src.loop = pw_main_loop_new(NULL);
	if (src.loop == NULL) {
		fprintf(stderr, "testsrc: cannot create a main loop: %m\n");
		src.exit_status = 1;
		goto out_deinit;
	}
	struct pw_loop *loop = pw_main_loop_get_loop(src.loop);
	pw_loop_add_signal(loop, SIGINT, on_signal, &src);
	pw_loop_add_signal(loop, SIGTERM, on_signal, &src);
	src.timer = pw_loop_add_timer(loop, on_timeout, &src);
	if (src.timer == NULL) {
		fprintf(stderr, "testsrc: cannot create a timer: %m\n");
		src.exit_status = 1;
		goto out_loop;
	}
	src.late_timer = pw_loop_add_timer(loop, on_late_timer, &src);
	if (src.late_timer == NULL) {
		fprintf(stderr, "testsrc: cannot create a timer: %m\n");
		src.exit_status = 1;
		goto out_timer;
	}

	src.context = pw_context_new(loop, NULL, 0);
	if (src.context == NULL) {
		fprintf(stderr, "testsrc: cannot create a PipeWire context: %m\n");
		src.exit_status = 1;
		goto out_timer;
	}
	src.core = pw_context_connect(src.context,
		src.opt.remote ? pw_properties_new(PW_KEY_REMOTE_NAME, src.opt.remote, NULL) :
				 NULL, 0);
	if (src.core == NULL) {
		fprintf(stderr, "testsrc: cannot connect to PipeWire%s%s: %m\n",
			src.opt.remote ? " remote " : "", src.opt.remote ? src.opt.remote : "");
		src.exit_status = 1;
		goto out_context;
	}
	pw_core_add_listener(src.core, &src.core_listener, &core_events, &src);

	snprintf(description, sizeof(description), "castrelay test source %ux%u %s",
		 src.opt.width, src.opt.height, src.opt.format->name);
	src.stream = pw_stream_new(src.core, "castrelay-testsrc", pw_properties_new(
		PW_KEY_MEDIA_CLASS, "Video/Source",
		PW_KEY_MEDIA_TYPE, "Video",
		PW_KEY_MEDIA_CATEGORY, "Capture",
		PW_KEY_MEDIA_ROLE, "Screen",
		PW_KEY_NODE_NAME, src.opt.name,
		PW_KEY_NODE_DESCRIPTION, description,
		NULL));
	if (src.stream == NULL) {
		fprintf(stderr, "testsrc: cannot create a stream: %m\n");
		src.exit_status = 1;
		goto out_core;
	}
	pw_stream_add_listener(src.stream, &src.stream_listener, &stream_events, &src);

	n_params = build_enum_formats(&src, &b, params);
	res = pw_stream_connect(src.stream, PW_DIRECTION_OUTPUT, PW_ID_ANY,
				PW_STREAM_FLAG_DRIVER | PW_STREAM_FLAG_ALLOC_BUFFERS |
				PW_STREAM_FLAG_MAP_BUFFERS, params, n_params);
	if (res < 0) {
		fprintf(stderr, "testsrc: cannot connect the stream: %s\n", spa_strerror(res));
		src.exit_status = 1;
		goto out_stream;
	}

	pw_main_loop_run(src.loop);

out_stream:
	/* Destroying the stream emits state changes that still use the timer. */
	pw_stream_destroy(src.stream);
out_core:
	spa_hook_remove(&src.core_listener);
	pw_core_disconnect(src.core);
out_context:
	pw_context_destroy(src.context);
out_timer:
	if (src.late_timer != NULL)
		pw_loop_destroy_source(loop, src.late_timer);
	pw_loop_destroy_source(loop, src.timer);
out_loop:
	pw_main_loop_destroy(src.loop);
out_deinit:
	pw_deinit();
	if (src.vgem_fd >= 0)
		close(src.vgem_fd);
	if (src.drm_fd >= 0) {
		close(src.drm_fd);
		fprintf(stderr, "testsrc: sync-timeline: buffers=%u release_waits=%u "
			"release_timeouts=%u unscheduled=%u repeated=%u\n", src.sync_buffers,
			src.release_waits, src.release_timeouts, src.unscheduled, src.repeated);
	}
	if (src.opt.n_cycle)
		fprintf(stderr, "testsrc: cycle: %u renegotiations, %" PRIu64 " frames\n",
			src.renegotiations, src.frame);
	if (src.opt.late_writes_ms > 0)
		fprintf(stderr, "testsrc: late writes: %u fenced frames, %u of them written before "
			"queueing; fences signalled at most %" PRIu64 " us after they were due\n",
			src.late_writes, src.in_time_writes, src.late_max_ns / 1000);
	return src.exit_status;
}
