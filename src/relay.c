/* SPDX-License-Identifier: MIT */
#include "relay.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <drm_fourcc.h>
#include <spa/param/video/raw.h>

#include "core/log.h"
#include "core/pipeline.h"
#include "core/vk-objects.h"
#include "pw-input.h"
#include "pw-output.h"
#include "pw-source-watch.h"

#define TOPIC "relay"
/* Whatever cursor is taken from a producer can also be passed on in the output's meta. */
#define CURSOR_MAX CR_PW_OUTPUT_CURSOR_MAX
_Static_assert(CR_PW_INPUT_FRAME_CURSOR_MAX <= CURSOR_MAX, "input cursors fit the output meta");

/* Black frames while the source is lost (lost = "black"): a tiny black BGRx picture the kernel
 * scales to the output size and converts to its format. */
#define BLACK_SIZE 16
static const uint32_t black_pixels[BLACK_SIZE * BLACK_SIZE];

struct job {
	bool in_use;
	/** input buffer held while the GPU reads it (DMA-BUF), or NULL */
	struct cr_pw_input_buffer *token;
	uint64_t pts_ns;
	bool has_pts;
	struct cr_pw_output_cursor cursor; /**< for cursor=meta, in output coordinates */
	uint32_t *cursor_pixels;           /**< its bitmap as it was at submit time */
	struct cr_pw_output_slot slot;     /**< the output buffer the frame goes to */
	struct cr_damage damage;           /**< output pixels changed since the last frame out */
};

struct cr_relay {
	const struct cr_relay_config *cfg;
	enum cr_relay_state state;
	const struct cr_relay_events *events;
	void *events_data;
	int drm_fd;
	/* The source: where to look for it, the watch that finds it, its stream once found. */
	struct pw_core *in_core;
	char target[CR_CONFIG_TARGET_MAX];
	struct cr_pw_source_watch *watch;
	struct spa_source *black_timer;
	uint64_t last_in_ns;      /**< arrival of the last input frame, 0: none yet */
	uint64_t frame_period_ns; /**< smoothed input frame interval, for black frames */
	uint64_t inputs;          /**< input streams created, for castrelay.source.streams */
	bool announce;            /**< publish the properties at the next frame out */
	/* Counters of input streams that are gone, so the node's figures never go back. */
	struct cr_pw_input_stats past;
	struct cr_relay_settings settings; /**< live: changed through Props */
	struct cr_relay_settings pending;  /**< collects one set-param's keys */
	bool pending_error;
	struct pw_loop *loop;
	/* The GPU side: NULL between cr_relay_suspend_gpu() and cr_relay_resume_gpu(). */
	struct cr_pipeline *pipe;
	struct spa_source *pipe_source;
	bool lost_reported;  /**< events.device_lost was called for this pipeline */
	bool import_dmabuf, export_dmabuf; /**< what the device can do, as first created */
	uint64_t recoveries; /**< cr_relay_resume_gpu() calls, for castrelay.vk.recoveries */
	/** The source node (its object.serial) the input stream is for; "" when none. */
	char in_target[32];
	struct spa_source *stats_timer;
	struct cr_pw_input *in;
	struct cr_pw_output *out;

	struct job jobs[CR_PIPELINE_SLOTS];
	bool have_format;
	struct cr_video_format in_format;
	uint32_t out_w, out_h;
	bool crop_warned;
	bool swap_axes; /**< the source's VideoTransform rotates by 90 or 270 degrees */
	uint32_t meta_crop_w, meta_crop_h; /**< the source's VideoCrop size, 0 when none */
	struct cr_pw_input_frame_cursor cursor; /**< the producer's */
	/* Output damage of frames not yet published (dropped frames' changes are still owed). */
	struct cr_damage damage;
	/* The last input frame's planes (offset, stride), for castrelay.input.planes. */
	struct cr_plane_layout in_planes;
	/* castrelay.{input,output}.memory: the last import / export is read / written as an
	 * image (true) or a storage buffer; the last SHM frame was read / written in place
	 * (imported host memory) rather than copied. */
	bool in_image, out_image;
	bool in_host, out_host;
	/* castrelay.frames.copied-in / copied-out: SHM frames whose pixels the CPU copied into
	 * a staging buffer / out of the readback buffer (0 where shared memory imports). */
	uint64_t copied_in, copied_out;
	bool have_cursor_rect;
	struct cr_rect cursor_rect; /**< source pixels of the last embedded cursor */
	struct cr_rect damage_crop; /**< crop and transform of the last frame's damage */
	uint32_t damage_transform;
	uint64_t last_out_pts;
	bool have_last_out;

	uint64_t frames_out;
	uint64_t dropped; /**< also frames that arrived while no consumer was linked */
	uint64_t rate_limited;
	uint64_t latency_sum_ns, latency_count, last_latency_us;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *input_transport(const struct cr_relay *r)
{
	return r->in ? cr_pw_input_transport(r->in) : "none";
}

/* castrelay.sync: explicit (SyncTimeline), implicit (DMA-BUF fences) or none. */
static const char *input_sync(const struct cr_relay *r)
{
	if (strcmp(input_transport(r), "dmabuf") != 0)
		return "none";
	const char *explicit = cr_pw_input_sync(r->in);
	return explicit ? explicit : r->pipe ? cr_pipeline_sync_mode(r->pipe) : "none";
}

/* "OFFSET:STRIDE,..." of @l, or "none". */
static void format_planes(const struct cr_plane_layout *l, char *text, size_t len)
{
	snprintf(text, len, "none");
	size_t used = 0;
	for (uint32_t i = 0; l && i < l->n_planes && used < len; i++)
		used += (size_t)snprintf(text + used, len - used, "%s%u:%u", i ? "," : "",
					 l->offset[i], l->stride[i]);
}

/* The same for the planes of a DMA-BUF (memory planes: up to CR_DMABUF_MAX_PLANES). */
static void format_dmabuf_planes(const struct cr_dmabuf *d, char *text, size_t len)
{
	size_t used = 0;
	for (uint32_t i = 0; i < d->n_planes && used < len; i++)
		used += (size_t)snprintf(text + used, len - used, "%s%u:%u", i ? "," : "",
					 d->planes[i].offset, d->planes[i].stride);
}

/* castrelay.{input,output}.memory: how the GPU reads or writes the frames. */
static const char *memory_name(const char *transport, bool image, bool host)
{
	if (strcmp(transport, "dmabuf") == 0)
		return image ? "image" : "buffer";
	if (strcmp(transport, "shm") == 0 && host)
		return "host"; /* shared memory imported, read / written in place */
	return transport; /* "shm" (copied through host memory), "none" */
}

/* castrelay.output.sync: explicit (SyncTimeline), implicit (DMA-BUFs queued only once our
 * writes are complete) or none (shared memory: copied before queueing). */
static const char *output_sync(const struct cr_relay *r)
{
	if (strcmp(cr_pw_output_transport(r->out), "dmabuf") != 0)
		return "none";
	const char *explicit = cr_pw_output_sync(r->out);
	return explicit ? explicit : "implicit";
}

/* Input counters over every input stream this relay has had. */
static void input_stats(const struct cr_relay *r, struct cr_pw_input_stats *st)
{
	*st = r->past;
	if (!r->in)
		return;
	const struct cr_pw_input_stats *now = cr_pw_input_get_stats(r->in);
	st->received += now->received;
	st->skipped += now->skipped;
	st->corrupt += now->corrupt;
	st->repeated += now->repeated;
	st->overwritten += now->overwritten;
	st->released += now->released;
	st->acquire_waits += now->acquire_waits;
	st->removed_held += now->removed_held;
}

const char *cr_relay_state_name(enum cr_relay_state state)
{
	switch (state) {
	case CR_RELAY_WAITING:
		return "waiting";
	case CR_RELAY_RELAYING:
		return "relaying";
	case CR_RELAY_LOST:
		return "lost";
	}
	return "unknown";
}

static void publish_props(struct cr_relay *r)
{
	if (!r->out)
		return;
	struct cr_pw_input_stats stats;
	input_stats(r, &stats);
	const struct cr_pw_input_stats *st = &stats;
	const struct cr_relay_settings *s = &r->settings;
	const struct cr_pw_output_stats *ost = cr_pw_output_get_stats(r->out);
	char in_fmt[64] = "none", out_size[32] = "none", counters[14][24], lat[24];
	char crop[64] = "none", scale[32] = "input", redact[512], fps[16] = "0", color[32] = "";
	if (r->have_format)
		snprintf(in_fmt, sizeof(in_fmt), "%s %ux%u", r->in_format.info->name,
			 r->in_format.width, r->in_format.height);
	if (r->out_w)
		snprintf(out_size, sizeof(out_size), "%ux%u", r->out_w, r->out_h);
	if (s->has_crop)
		snprintf(crop, sizeof(crop), "%u,%u,%u,%u", s->crop.x, s->crop.y, s->crop.w,
			 s->crop.h);
	if (s->scale_w)
		snprintf(scale, sizeof(scale), "%ux%u", s->scale_w, s->scale_h);
	cr_config_format_redact(s, redact, sizeof(redact));
	snprintf(fps, sizeof(fps), "%u", s->fps);
	if (r->cfg->format->is_yuv)
		snprintf(color, sizeof(color), "%s %s", cr_color_matrix_name(r->cfg->matrix),
			 r->cfg->full_range ? "full" : "limited");
	/* in = out + dropped + corrupt (+ at most CR_PIPELINE_SLOTS in flight). */
	snprintf(counters[0], sizeof(counters[0]), "%" PRIu64, st->received);
	snprintf(counters[1], sizeof(counters[1]), "%" PRIu64, r->frames_out);
	snprintf(counters[2], sizeof(counters[2]), "%" PRIu64,
		 r->dropped + st->skipped + st->removed_held);
	snprintf(counters[3], sizeof(counters[3]), "%" PRIu64, st->corrupt + st->overwritten);
	snprintf(counters[4], sizeof(counters[4]), "%" PRIu64, r->rate_limited);
	char in_mod[32] = "none", out_mod[32] = "none", in_planes[96], out_planes[96];
	if (r->have_format && r->in_format.has_modifier)
		snprintf(in_mod, sizeof(in_mod), "0x%016" PRIx64, r->in_format.modifier);
	const struct cr_dmabuf *out_dmabuf = cr_pw_output_dmabuf(r->out);
	format_planes(r->in_planes.n_planes ? &r->in_planes : NULL, in_planes, sizeof(in_planes));
	if (out_dmabuf) {
		snprintf(out_mod, sizeof(out_mod), "0x%016" PRIx64, out_dmabuf->modifier);
		format_dmabuf_planes(out_dmabuf, out_planes, sizeof(out_planes));
	} else {
		format_planes(cr_pw_output_layout(r->out), out_planes, sizeof(out_planes));
	}
	snprintf(counters[5], sizeof(counters[5]), "%" PRIu64, st->released);
	snprintf(counters[6], sizeof(counters[6]), "%" PRIu64, st->acquire_waits);
	snprintf(counters[7], sizeof(counters[7]), "%" PRIu64, ost->published);
	snprintf(counters[8], sizeof(counters[8]), "%" PRIu64, ost->release_waits);
	if (r->latency_count) {
		r->last_latency_us = r->latency_sum_ns / r->latency_count / 1000;
		r->latency_sum_ns = r->latency_count = 0;
	}
	snprintf(lat, sizeof(lat), "%" PRIu64, r->last_latency_us);
	snprintf(counters[9], sizeof(counters[9]), "%" PRIu64, r->inputs);
	/* The process's live Vulkan objects (every relay shares the device): flat across
	 * faults, or something leaks. */
	struct cr_vk_objects objects;
	char object_types[512];
	cr_vk_objects_get(&objects);
	cr_vk_objects_format(&objects, object_types, sizeof(object_types));
	snprintf(counters[10], sizeof(counters[10]), "%" PRId64, cr_vk_objects_total(&objects));
	snprintf(counters[11], sizeof(counters[11]), "%" PRIu64, r->recoveries);
	snprintf(counters[12], sizeof(counters[12]), "%" PRIu64, r->copied_in);
	snprintf(counters[13], sizeof(counters[13]), "%" PRIu64, r->copied_out);
	struct spa_dict_item items[] = {
		SPA_DICT_ITEM_INIT("castrelay.source", r->cfg->source),
		SPA_DICT_ITEM_INIT("castrelay.source.state", cr_relay_state_name(r->state)),
		SPA_DICT_ITEM_INIT("castrelay.source.streams", counters[9]),
		SPA_DICT_ITEM_INIT("castrelay.input.transport", input_transport(r)),
		SPA_DICT_ITEM_INIT("castrelay.input.format", in_fmt),
		SPA_DICT_ITEM_INIT("castrelay.input.modifier", in_mod),
		SPA_DICT_ITEM_INIT("castrelay.input.planes", in_planes),
		SPA_DICT_ITEM_INIT("castrelay.input.memory",
				   memory_name(input_transport(r), r->in_image, r->in_host)),
		SPA_DICT_ITEM_INIT("castrelay.output.modifier", out_mod),
		SPA_DICT_ITEM_INIT("castrelay.output.planes", out_planes),
		SPA_DICT_ITEM_INIT("castrelay.output.transport", cr_pw_output_transport(r->out)),
		SPA_DICT_ITEM_INIT("castrelay.output.memory",
				   memory_name(cr_pw_output_transport(r->out), r->out_image,
					       r->out_host)),
		SPA_DICT_ITEM_INIT("castrelay.output.format", r->cfg->format->name),
		SPA_DICT_ITEM_INIT("castrelay.output.size", out_size),
		SPA_DICT_ITEM_INIT("castrelay.output.color", color),
		SPA_DICT_ITEM_INIT("castrelay.sync", input_sync(r)),
		SPA_DICT_ITEM_INIT("castrelay.output.sync", output_sync(r)),
		SPA_DICT_ITEM_INIT("castrelay.output.fence",
				   r->pipe ? cr_pipeline_output_fence_mode(r->pipe) : "none"),
		SPA_DICT_ITEM_INIT("castrelay.sync.released", counters[5]),
		SPA_DICT_ITEM_INIT("castrelay.sync.acquire-waits", counters[6]),
		SPA_DICT_ITEM_INIT("castrelay.sync.published", counters[7]),
		SPA_DICT_ITEM_INIT("castrelay.sync.release-waits", counters[8]),
		SPA_DICT_ITEM_INIT("castrelay.crop", crop),
		SPA_DICT_ITEM_INIT("castrelay.scale", scale),
		SPA_DICT_ITEM_INIT("castrelay.redact", redact),
		SPA_DICT_ITEM_INIT("castrelay.cursor", cr_config_cursor_name(s->cursor)),
		SPA_DICT_ITEM_INIT("castrelay.fps", fps),
		SPA_DICT_ITEM_INIT("castrelay.frames.in", counters[0]),
		SPA_DICT_ITEM_INIT("castrelay.frames.out", counters[1]),
		SPA_DICT_ITEM_INIT("castrelay.frames.dropped", counters[2]),
		SPA_DICT_ITEM_INIT("castrelay.frames.corrupt", counters[3]),
		SPA_DICT_ITEM_INIT("castrelay.frames.rate-limited", counters[4]),
		SPA_DICT_ITEM_INIT("castrelay.frames.copied-in", counters[12]),
		SPA_DICT_ITEM_INIT("castrelay.frames.copied-out", counters[13]),
		SPA_DICT_ITEM_INIT("castrelay.latency.us", lat),
		SPA_DICT_ITEM_INIT("castrelay.vk.objects", counters[10]),
		SPA_DICT_ITEM_INIT("castrelay.vk.object-types", object_types),
		SPA_DICT_ITEM_INIT("castrelay.vk.recoveries", counters[11]),
	};
	cr_pw_output_update_props(r->out, &SPA_DICT_INIT_ARRAY(items));
}

static void on_stats_timer(void *data, uint64_t expirations)
{
	publish_props(data);
}

/* The crop in effect: the configured one clipped to the source, else the source's VideoCrop
 * meta (@meta may be NULL), else the whole frame. False when the crop misses the source. */
static bool effective_crop(struct cr_relay *r, const struct cr_rect *meta, struct cr_rect *crop)
{
	uint32_t w = r->in_format.width, h = r->in_format.height;
	if (!r->settings.has_crop) {
		*crop = meta ? *meta : (struct cr_rect){ 0, 0, w, h };
		return true;
	}
	struct cr_rect c = r->settings.crop;
	if (c.x >= w || c.y >= h) {
		if (!r->crop_warned)
			cr_log_warn(TOPIC, "%s: crop %u,%u %ux%u lies outside the %ux%u source; "
					   "dropping frames", r->cfg->name, c.x, c.y, c.w, c.h, w, h);
		r->crop_warned = true;
		return false;
	}
	c.w = c.x + c.w > w ? w - c.x : c.w;
	c.h = c.y + c.h > h ? h - c.y : c.h;
	*crop = c;
	return true;
}

/* Output size: the configured scale, else the configured crop, else the source's VideoCrop
 * (a window being shared: the output follows its size), else the input. */
static void update_output_size(struct cr_relay *r)
{
	cr_damage_set_full(&r->damage);
	const struct cr_relay_settings *s = &r->settings;
	uint32_t w = s->scale_w, h = s->scale_h;
	if (!w && s->has_crop) {
		w = s->crop.w;
		h = s->crop.h;
	}
	if (!w && r->meta_crop_w) {
		w = r->meta_crop_w;
		h = r->meta_crop_h;
	}
	if (!w && r->have_format) {
		w = r->in_format.width;
		h = r->in_format.height;
	}
	/* A rotated picture keeps its shape unless a size was asked for. */
	if (w && !s->scale_w && r->swap_axes) {
		uint32_t t = w;
		w = h;
		h = t;
	}
	/* No source now (lost, or PipeWire came back before it): the size the node had. */
	if (!w) {
		w = r->out_w;
		h = r->out_h;
	}
	if (!w || !r->out)
		return;
	r->out_w = w;
	r->out_h = h;
	cr_pw_output_set_format(r->out, r->cfg->format, w, h, s->fps ? s->fps : 1000,
				r->cfg->matrix, r->cfg->full_range);
}

static void set_state(struct cr_relay *r, enum cr_relay_state state)
{
	if (r->state == state)
		return;
	r->state = state;
	/* The first frame after a change is shown at once, not at the next second. */
	r->announce = true;
	publish_props(r);
	r->events->state(r->events_data, r);
}

static void on_input_format(void *data, const struct cr_video_format *format)
{
	struct cr_relay *r = data;
	r->in_format = *format;
	r->have_format = true;
	r->crop_warned = false;
	update_output_size(r);
	if (r->state != CR_RELAY_RELAYING)
		cr_log_info(TOPIC, "%s: relaying '%s' (%s %ux%u)", r->cfg->name, r->target,
			    format->info->name, format->width, format->height);
	set_state(r, CR_RELAY_RELAYING);
	publish_props(r);
}

static void *on_input_import(void *data, const struct cr_dmabuf *buf)
{
	struct cr_relay *r = data;
	struct cr_pipeline_source *src = cr_pipeline_import_dmabuf(r->pipe, buf);
	if (src)
		r->in_image = cr_pipeline_source_is_image(src);
	return src;
}

static void *on_input_import_shm(void *data, const struct cr_pipeline_shm_block *blocks,
				 uint32_t n_blocks)
{
	struct cr_relay *r = data;
	return cr_pipeline_import_shm(r->pipe, blocks, n_blocks);
}

static uint32_t on_input_modifiers(void *data, uint32_t fourcc, uint64_t *modifiers,
				   uint32_t max)
{
	struct cr_relay *r = data;
	return cr_pipeline_input_modifiers(r->pipe, fourcc, modifiers, max);
}

static void on_input_release_import(void *data, void *handle)
{
	struct cr_relay *r = data;
	cr_pipeline_source_destroy(r->pipe, handle);
}

/* True when the device is lost (seen by one of our calls, or another relay's: it is shared).
 * The owner hears it once per pipeline and recovers on idle, never in this call stack. */
static bool device_lost(struct cr_relay *r)
{
	if (!cr_pipeline_device_lost(r->pipe))
		return false;
	if (!r->lost_reported) {
		r->lost_reported = true;
		r->events->device_lost(r->events_data, r);
	}
	return true;
}

static struct job *take_job(struct cr_relay *r)
{
	for (unsigned i = 0; i < CR_PIPELINE_SLOTS; i++)
		if (!r->jobs[i].in_use)
			return &r->jobs[i];
	return NULL;
}

/* True when the cursor bitmap's rectangle (source pixels) touches a redaction. */
static bool redacted(const struct cr_relay_settings *s, const struct cr_pw_input_frame_cursor *c)
{
	int64_t x0 = (int64_t)c->x - c->hotspot_x, y0 = (int64_t)c->y - c->hotspot_y;
	int64_t x1 = x0 + c->width, y1 = y0 + c->height;
	for (uint32_t i = 0; i < s->n_redact; i++) {
		const struct cr_rect *r = &s->redact[i];
		if (x0 < (int64_t)r->x + r->w && x1 > r->x && y0 < (int64_t)r->y + r->h && y1 > r->y)
			return true;
	}
	return false;
}

/*
 * The cursor for cursor=meta: position mapped from source into output pixels (the source's
 * VideoTransform is not applied to it), bitmap copied into the job so that later frames
 * cannot change it before it is published. A cursor whose bitmap touches a redacted
 * rectangle is not shown: redaction covers the cursor in every mode.
 */
static void output_cursor(struct cr_relay *r, const struct cr_rect *crop, struct job *job)
{
	const struct cr_pw_input_frame_cursor *c = &r->cursor;
	struct cr_pw_output_cursor *out = &job->cursor;
	*out = (struct cr_pw_output_cursor){
		.visible = c->visible && c->width && !redacted(&r->settings, c),
	};
	if (!out->visible)
		return;
	if (!job->cursor_pixels &&
	    !(job->cursor_pixels = malloc((size_t)CURSOR_MAX * CURSOR_MAX * 4))) {
		out->visible = false;
		return;
	}
	memcpy(job->cursor_pixels, c->pixels, (size_t)c->width * c->height * 4);
	out->x = (int32_t)(((int64_t)c->x - crop->x) * r->out_w / crop->w);
	out->y = (int32_t)(((int64_t)c->y - crop->y) * r->out_h / crop->h);
	out->hotspot_x = c->hotspot_x;
	out->hotspot_y = c->hotspot_y;
	out->pixels = job->cursor_pixels;
	out->width = c->width;
	out->height = c->height;
	out->stride = c->width * 4;
	out->spa_format = c->spa_format;
}

/* The frame-rate cap: a frame is due when its pts is at least 90% of a period after the last
 * published one (the slack absorbs producer jitter). Never more frames out than in. */
static bool due(struct cr_relay *r, uint64_t pts)
{
	if (!r->settings.fps || !r->have_last_out)
		return true;
	uint64_t period = 1000000000ull / r->settings.fps;
	return pts >= r->last_out_pts + period * 9 / 10 || pts < r->last_out_pts;
}

/*
 * Adds the output damage of input frame @f: its own damage (the source's VideoDamage) and,
 * when the cursor is composited, where the cursor was and is, mapped through the crop, the
 * transform and the scale. Accumulated until a frame is published.
 */
static void add_damage(struct cr_relay *r, const struct cr_pw_input_frame *f,
		       const struct cr_rect *crop, bool embed)
{
	struct cr_rect m;
	if (!crop) {
		cr_damage_set_full(&r->damage);
		return;
	}
	/* A moved crop or a new transform changes every output pixel. */
	if (memcmp(crop, &r->damage_crop, sizeof(*crop)) != 0 ||
	    f->transform != r->damage_transform)
		cr_damage_set_full(&r->damage);
	r->damage_crop = *crop;
	r->damage_transform = f->transform;
	struct cr_damage src = f->damage;
	struct cr_rect cur = { 0 };
	if (embed) {
		int32_t x = r->cursor.x - r->cursor.hotspot_x, y = r->cursor.y - r->cursor.hotspot_y;
		int32_t x1 = x + (int32_t)r->cursor.width, y1 = y + (int32_t)r->cursor.height;
		x = SPA_MAX(x, 0), y = SPA_MAX(y, 0);
		if (x1 > x && y1 > y)
			cur = (struct cr_rect){ (uint32_t)x, (uint32_t)y, (uint32_t)(x1 - x),
						(uint32_t)(y1 - y) };
		cr_damage_add(&src, &cur);
	}
	if (r->have_cursor_rect)
		cr_damage_add(&src, &r->cursor_rect);
	r->cursor_rect = cur;
	r->have_cursor_rect = cur.w > 0;
	if (src.full) {
		cr_damage_set_full(&r->damage);
		return;
	}
	for (uint32_t i = 0; i < src.n_rects; i++)
		if (cr_damage_map_rect(&src.rects[i], crop, f->transform, r->out_w, r->out_h, &m))
			cr_damage_add(&r->damage, &m);
}

/* The input's frame interval, smoothed, for black frames at the last rate. */
static void note_input_frame(struct cr_relay *r)
{
	uint64_t now = now_ns();
	if (r->last_in_ns && now > r->last_in_ns) {
		uint64_t d = now - r->last_in_ns;
		r->frame_period_ns = r->frame_period_ns ? (r->frame_period_ns * 7 + d) / 8 : d;
	}
	r->last_in_ns = now;
}

static void on_input_frame(void *data, const struct cr_pw_input_frame *f,
			   struct cr_pw_input_buffer *token)
{
	struct cr_relay *r = data;
	struct cr_rect crop;
	struct job *job;
	note_input_frame(r);
	cr_pw_input_frame_cursor_update(&r->cursor, f->cursor, f->cursor_size);
	uint32_t mw = f->has_crop ? f->crop.w : 0, mh = f->has_crop ? f->crop.h : 0;
	if (r->swap_axes != (bool)(f->transform & 1u) || r->meta_crop_w != mw ||
	    r->meta_crop_h != mh) {
		r->swap_axes = f->transform & 1u;
		r->meta_crop_w = mw;
		r->meta_crop_h = mh;
		update_output_size(r);
	}
	bool have_crop = effective_crop(r, f->has_crop ? &f->crop : NULL, &crop);
	add_damage(r, f, have_crop ? &crop : NULL,
		   r->settings.cursor == CR_CURSOR_EMBED && r->cursor.visible && r->cursor.width);
	/* Lazy: nobody watches the output, so no GPU work at all. */
	if (!cr_pw_output_streaming(r->out)) {
		r->dropped++;
		goto release;
	}
	uint64_t pts = f->has_header ? f->pts_ns : now_ns();
	if (!due(r, pts)) {
		r->rate_limited++;
		r->dropped++;
		goto release;
	}
	if (!have_crop || device_lost(r) || !cr_pipeline_can_submit(r->pipe) ||
	    !(job = take_job(r))) {
		r->dropped++;
		goto release;
	}
	/* The output buffer is taken first, so that a DMA-BUF is written in place and a
	 * consumer that is behind costs no GPU work. */
	struct cr_pw_output_slot slot;
	if (!cr_pw_output_dequeue(r->out, &slot)) {
		r->dropped++;
		goto release;
	}
	const struct cr_relay_settings *s = &r->settings;
	struct cr_pipeline_cursor cursor = {
		.pixels = r->cursor.pixels,
		.width = r->cursor.width,
		.height = r->cursor.height,
		.stride = r->cursor.width * 4,
		.format = r->cursor.format,
		.x = r->cursor.x - r->cursor.hotspot_x,
		.y = r->cursor.y - r->cursor.hotspot_y,
	};
	bool embed = s->cursor == CR_CURSOR_EMBED && r->cursor.visible && r->cursor.width;
	struct cr_pipeline_frame in = {
		.format = f->format->info,
		.width = f->format->width,
		.height = f->format->height,
		.offset = f->offset,
		.stride = f->stride,
		.source = f->import,
		.data = f->data,
		.size = f->size,
		/* YUV input: as announced, else as the relay's own YUV settings say */
		.matrix = f->format->has_color ? f->format->matrix : r->cfg->matrix,
		.full_range = f->format->has_color ? f->format->full_range : r->cfg->full_range,
		.crop = crop,
		.transform = f->transform,
		.cursor = embed ? &cursor : NULL,
		.explicit_acquire = f->explicit_sync,
		.acquire_fd = cr_pw_input_take_acquire(r->in, token),
	};
	memcpy(in.extra, f->extra, sizeof(in.extra));
	r->in_planes.n_planes = f->format->info->n_planes;
	r->in_planes.offset[0] = f->offset;
	r->in_planes.stride[0] = f->stride;
	for (uint32_t i = 1; i < r->in_planes.n_planes && i < 3; i++) {
		r->in_planes.offset[i] = f->extra[i - 1].offset;
		r->in_planes.stride[i] = f->extra[i - 1].stride;
	}
	struct cr_pipeline_target out = {
		.format = r->cfg->format,
		.width = r->out_w,
		.height = r->out_h,
		.matrix = r->cfg->matrix,
		.full_range = r->cfg->full_range,
		.n_redact = s->n_redact,
		.pixelate = s->pixelate > 0,
		.pixelate_block = s->pixelate,
		.output = slot.export,
	};
	memcpy(out.redact, s->redact, sizeof(out.redact));
	job->in_use = true;
	job->token = f->import ? token : NULL;
	job->pts_ns = pts;
	job->has_pts = f->has_header;
	job->slot = slot;
	job->cursor = (struct cr_pw_output_cursor){ 0 };
	if (s->cursor == CR_CURSOR_META)
		output_cursor(r, &crop, job);
	job->damage = r->damage;
	cr_damage_clear(&r->damage);
	if (!cr_pipeline_submit(r->pipe, &in, &out, job)) {
		cr_damage_merge(&r->damage, &job->damage);
		job->in_use = false;
		cr_pw_output_cancel(r->out, &slot);
		r->dropped++;
		device_lost(r);
		goto release;
	}
	r->last_out_pts = pts;
	r->have_last_out = true;
	r->in_host = in.source != NULL;
	r->copied_in += in.source == NULL;
	/* Copied SHM pixels were taken at submit; a buffer read in place is held until done. */
	if (job->token)
		return;
release:
	cr_pw_input_release(r->in, token);
}

static void on_pipeline_done(void *job_data, const struct cr_pipeline_result *res, void *data)
{
	struct cr_relay *r = data;
	struct job *job = job_data;
	bool intact = true;
	if (job->token) {
		intact = cr_pw_input_intact(r->in, job->token);
		cr_pw_input_release(r->in, job->token);
	}
	job->in_use = false;
	if (!res->ok || !intact) {
		cr_pw_output_cancel(r->out, &job->slot);
		cr_damage_merge(&r->damage, &job->damage);
		if (res->ok)
			return; /* overwritten by its producer: counted as corrupt */
		r->dropped++;
		device_lost(r);
		return;
	}
	bool meta = r->settings.cursor == CR_CURSOR_META;
	if (!cr_pw_output_queue(r->out, &job->slot, res->pixels, res->layout.size, job->pts_ns,
				meta ? &job->cursor : NULL, &job->damage)) {
		cr_damage_merge(&r->damage, &job->damage);
		r->dropped++;
		return;
	}
	r->frames_out++;
	r->out_host = job->slot.shm && job->slot.export;
	r->copied_out += res->pixels != NULL;
	if (r->announce) {
		r->announce = false;
		publish_props(r);
	}
	uint64_t now = now_ns();
	if (job->has_pts && now > job->pts_ns) {
		r->latency_sum_ns += now - job->pts_ns;
		r->latency_count++;
	}
}

static void on_pipeline_fd(void *data, int fd, uint32_t mask)
{
	struct cr_relay *r = data;
	cr_pipeline_dispatch(r->pipe);
}

/* Live control: keys are validated one by one into a copy; one bad key rejects the whole
 * set-param and the old settings stay. */
static void on_control(void *data, const char *key, const char *value)
{
	struct cr_relay *r = data;
	char why[256];
	if (!cr_config_apply_key(&r->pending, key, value, why, sizeof(why))) {
		cr_log_warn(TOPIC, "%s: rejected control %s", r->cfg->name, why);
		r->pending_error = true;
	}
}

static void on_control_done(void *data)
{
	struct cr_relay *r = data;
	if (!r->pending_error) {
		r->settings = r->pending;
		r->crop_warned = false;
		r->have_last_out = false;
		cr_log_info(TOPIC, "%s: controls applied", r->cfg->name);
		update_output_size(r);
		publish_props(r);
	}
	r->pending = r->settings;
	r->pending_error = false;
}

static const struct cr_pw_input_events input_events = {
	.modifiers = on_input_modifiers,
	.format = on_input_format,
	.import = on_input_import,
	.import_shm = on_input_import_shm,
	.release_import = on_input_release_import,
	.frame = on_input_frame,
};

static uint32_t on_output_modifiers(void *data, uint32_t fourcc, uint32_t width,
				    uint32_t height, uint64_t *modifiers, uint32_t max)
{
	struct cr_relay *r = data;
	if (!r->pipe)
		return 0; /* no device now: cr_relay_resume_gpu() offers them again */
	return cr_pipeline_output_modifiers(r->pipe, fourcc, width, height, modifiers, max);
}

static void *on_output_export(void *data, const struct cr_format_info *info, uint32_t width,
			      uint32_t height, const uint64_t *modifiers, uint32_t n_modifiers,
			      struct cr_dmabuf *desc)
{
	struct cr_relay *r = data;
	if (!r->pipe)
		return NULL;
	struct cr_pipeline_output *out = cr_pipeline_export_frame(r->pipe, info, width, height,
								  modifiers, n_modifiers, desc);
	if (out)
		r->out_image = cr_pipeline_output_is_image(out);
	return out;
}

static void *on_output_import_shm(void *data, int fd, uint64_t size)
{
	struct cr_relay *r = data;
	return r->pipe ? cr_pipeline_output_from_shm(r->pipe, fd, size) : NULL;
}

static void on_output_release(void *data, void *handle)
{
	struct cr_relay *r = data;
	cr_pipeline_output_destroy(r->pipe, handle);
}

static const struct cr_pw_output_events output_events = {
	.modifiers = on_output_modifiers,
	.export = on_output_export,
	.import_shm = on_output_import_shm,
	.release = on_output_release,
	.control = on_control,
	.control_done = on_control_done,
};

/* Lost, with lost = "black": one black frame per input frame period, while consumers watch. */
static void on_black_timer(void *data, uint64_t expirations)
{
	struct cr_relay *r = data;
	struct job *job;
	struct cr_pw_output_slot slot;
	if (!r->out || !r->out_w || !cr_pw_output_streaming(r->out) || !r->pipe ||
	    device_lost(r) || !cr_pipeline_can_submit(r->pipe) || !(job = take_job(r)))
		return;
	if (!cr_pw_output_dequeue(r->out, &slot))
		return;
	struct cr_pipeline_frame in = {
		.format = cr_format_info_from_fourcc(DRM_FORMAT_XRGB8888),
		.width = BLACK_SIZE,
		.height = BLACK_SIZE,
		.stride = BLACK_SIZE * 4,
		.data = black_pixels,
		.size = sizeof(black_pixels),
		.crop = { 0, 0, BLACK_SIZE, BLACK_SIZE },
		.acquire_fd = -1,
	};
	struct cr_pipeline_target out = {
		.format = r->cfg->format,
		.width = r->out_w,
		.height = r->out_h,
		.matrix = r->cfg->matrix,
		.full_range = r->cfg->full_range,
		.output = slot.export,
	};
	*job = (struct job){
		.in_use = true,
		.pts_ns = now_ns(),
		.slot = slot,
		.cursor_pixels = job->cursor_pixels,
	};
	cr_damage_set_full(&job->damage);
	if (!cr_pipeline_submit(r->pipe, &in, &out, job)) {
		job->in_use = false;
		cr_pw_output_cancel(r->out, &slot);
	}
}

static void start_black(struct cr_relay *r)
{
	if (r->cfg->lost != CR_LOST_BLACK || !r->out_w)
		return;
	uint64_t period = r->frame_period_ns ? r->frame_period_ns : 1000000000ull / 30;
	if (period < 1000000ull)
		period = 1000000ull;
	struct timespec ts = { (time_t)(period / 1000000000ull), (long)(period % 1000000000ull) };
	pw_loop_update_timer(r->loop, r->black_timer, &ts, &ts, false);
	cr_log_info(TOPIC, "%s: sending black frames every %.1f ms while the source is lost",
		    r->cfg->name, (double)period / 1e6);
}

static void stop_black(struct cr_relay *r)
{
	struct timespec zero = { 0, 0 };
	pw_loop_update_timer(r->loop, r->black_timer, &zero, &zero, false);
}

/* The input stream goes; jobs still reading its buffers keep detached tokens (pw-input). */
static void drop_input(struct cr_relay *r)
{
	if (!r->in)
		return;
	struct cr_pw_input_stats st;
	input_stats(r, &st);
	cr_pw_input_destroy(r->in);
	r->in = NULL;
	r->past = st;
	r->have_format = false;
	r->last_in_ns = 0;
}

/* The input stream for r->in_target; none while the GPU side is suspended (its imports
 * would need the device): cr_relay_resume_gpu() creates it then. */
static void create_input(struct cr_relay *r)
{
	char in_name[160];
	if (!r->pipe || !r->in_core || !r->in_target[0])
		return;
	snprintf(in_name, sizeof(in_name), "castrelay.%s.input", r->cfg->name);
	r->in = cr_pw_input_create(r->in_core, r->in_target, in_name, r->cfg->dmabuf, r->drm_fd,
				   &input_events, r);
	if (!r->in) {
		cr_log_error(TOPIC, "%s: cannot create the input stream for '%s'", r->cfg->name,
			     r->target);
		return;
	}
	r->inputs++;
	publish_props(r);
}

static void on_source_found(void *data, uint32_t id, uint64_t serial)
{
	struct cr_relay *r = data;
	drop_input(r);
	stop_black(r);
	/* The serial names exactly this node: a later node of the same name is found anew. */
	snprintf(r->in_target, sizeof(r->in_target), "%" PRIu64, serial ? serial : id);
	create_input(r);
}

static void on_source_gone(void *data)
{
	struct cr_relay *r = data;
	drop_input(r);
	r->in_target[0] = '\0';
	bool was = r->state != CR_RELAY_WAITING;
	cr_log_warn(TOPIC, "%s: source '%s' is gone; castrelay.%s stays%s and its input "
			   "returns when the source does", r->cfg->name, r->target, r->cfg->name,
		    r->cfg->lost == CR_LOST_BLACK ? ", sending black frames," : "");
	if (was) {
		set_state(r, CR_RELAY_LOST);
		start_black(r);
	}
}

static void on_source_missing(void *data)
{
	struct cr_relay *r = data;
	cr_log_warn(TOPIC, "%s: source '%s' not found: no video node has that node.name or "
			   "object.serial (list them with: pw-dump | grep -A2 Video/Source); "
			   "waiting for it to appear", r->cfg->name, r->target);
}

static const struct cr_pw_source_watch_events watch_events = {
	.found = on_source_found,
	.gone = on_source_gone,
	.missing = on_source_missing,
};

void cr_relay_set_source(struct cr_relay *r, struct pw_core *core, const char *target,
			 uint32_t node_id)
{
	cr_pw_source_watch_destroy(r->watch);
	r->watch = NULL;
	bool had = r->in != NULL;
	drop_input(r);
	r->in_target[0] = '\0';
	r->in_core = core;
	if (!core) {
		if (had || r->state == CR_RELAY_RELAYING) {
			set_state(r, CR_RELAY_LOST);
			start_black(r);
		}
		publish_props(r);
		return;
	}
	snprintf(r->target, sizeof(r->target), "%s", target);
	r->watch = cr_pw_source_watch_create(core, target, node_id, &watch_events, r);
	if (!r->watch)
		r->events->fatal(r->events_data, r, "cannot watch the PipeWire registry");
}

bool cr_relay_connect(struct cr_relay *r, struct pw_core *out_core)
{
	char node_name[128];
	snprintf(node_name, sizeof(node_name), "castrelay.%s", r->cfg->name);
	struct pw_properties *props = pw_properties_new(
		PW_KEY_MEDIA_CLASS, "Video/Source",
		PW_KEY_MEDIA_TYPE, "Video",
		PW_KEY_MEDIA_CATEGORY, "Capture",
		PW_KEY_NODE_NAME, node_name,
		"castrelay.source", r->cfg->source,
		NULL);
	/* The Camera portal and browsers list nodes with media.role=Camera as webcams. */
	if (r->cfg->camera)
		pw_properties_set(props, PW_KEY_MEDIA_ROLE, "Camera");
	pw_properties_setf(props, PW_KEY_NODE_DESCRIPTION, "castrelay %s (from %s)",
			   r->cfg->name, r->cfg->source);
	cr_log_info(TOPIC, "%s: DMA-BUF input %s, DMA-BUF output %s", r->cfg->name,
		    r->import_dmabuf ? "offered" : "off", r->export_dmabuf ? "offered" : "off");
	r->out = cr_pw_output_create(out_core, props, true, r->export_dmabuf, r->drm_fd,
				     &output_events, r);
	if (!r->out)
		return false;
	/* The node keeps the size it had: consumers linked before a PipeWire restart find it
	 * again as it was. */
	update_output_size(r);
	publish_props(r);
	return true;
}

void cr_relay_disconnect(struct cr_relay *r)
{
	stop_black(r);
	cr_pw_source_watch_destroy(r->watch);
	r->watch = NULL;
	/* Jobs give their output buffers back before the output stream goes. */
	if (r->pipe)
		cr_pipeline_drain(r->pipe);
	drop_input(r);
	cr_pw_output_destroy(r->out);
	r->out = NULL;
	r->in_core = NULL;
	r->in_target[0] = '\0';
	set_state(r, r->state == CR_RELAY_WAITING ? CR_RELAY_WAITING : CR_RELAY_LOST);
}

/* The GPU side: a pipeline on @kernels and its completion fd on the loop. */
static bool attach_pipeline(struct cr_relay *r, struct cr_kernels *kernels)
{
	r->pipe = cr_pipeline_create(kernels, on_pipeline_done, r);
	if (!r->pipe)
		return false;
	r->pipe_source = pw_loop_add_io(r->loop, cr_pipeline_get_fd(r->pipe), SPA_IO_IN, false,
					on_pipeline_fd, r);
	if (!r->pipe_source) {
		cr_pipeline_destroy(r->pipe);
		r->pipe = NULL;
		return false;
	}
	r->lost_reported = false;
	return true;
}

static void detach_pipeline(struct cr_relay *r)
{
	if (r->pipe_source)
		pw_loop_destroy_source(r->loop, r->pipe_source);
	r->pipe_source = NULL;
	cr_pipeline_destroy(r->pipe);
	r->pipe = NULL;
}

struct cr_relay *cr_relay_create(struct pw_loop *loop, struct cr_kernels *kernels, int drm_fd,
				 const struct cr_relay_config *cfg,
				 const struct cr_relay_events *events, void *data)
{
	struct cr_relay *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->cfg = cfg;
	r->settings = r->pending = cfg->settings;
	r->events = events;
	r->events_data = data;
	r->loop = loop;
	r->drm_fd = drm_fd;
	r->state = CR_RELAY_WAITING;
	if (!attach_pipeline(r, kernels))
		goto err_free;
	r->import_dmabuf = cfg->dmabuf && cr_pipeline_can_import_dmabuf(r->pipe);
	r->export_dmabuf = cfg->dmabuf && cr_pipeline_can_export_dmabuf(r->pipe);
	r->stats_timer = pw_loop_add_timer(r->loop, on_stats_timer, r);
	r->black_timer = pw_loop_add_timer(r->loop, on_black_timer, r);
	if (!r->stats_timer || !r->black_timer)
		goto err_sources;
	struct timespec interval = { 1, 0 };
	pw_loop_update_timer(r->loop, r->stats_timer, &interval, &interval, false);
	return r;

err_sources:
	if (r->black_timer)
		pw_loop_destroy_source(r->loop, r->black_timer);
	if (r->stats_timer)
		pw_loop_destroy_source(r->loop, r->stats_timer);
	detach_pipeline(r);
err_free:
	free(r);
	return NULL;
}

void cr_relay_suspend_gpu(struct cr_relay *r)
{
	if (!r->pipe)
		return;
	cr_log_info(TOPIC, "%s: dropping everything of the lost device: jobs, input stream%s",
		    r->cfg->name, r->out ? ", exported output buffers" : "");
	stop_black(r);
	/* Nothing in flight gives anything back later; this pipeline reports no more losses. */
	r->lost_reported = true;
	cr_pipeline_drain(r->pipe);
	/* Its buffers' imports are the device's; the stream comes back for the same source. */
	drop_input(r);
	if (r->out)
		cr_pw_output_drop_exports(r->out);
	detach_pipeline(r);
	publish_props(r);
}

bool cr_relay_resume_gpu(struct cr_relay *r, struct cr_kernels *kernels)
{
	if (r->pipe)
		return true;
	if (!attach_pipeline(r, kernels))
		return false;
	r->recoveries++;
	/* Exported output buffers were dropped: the consumers get new ones. Shared memory
	 * outputs are ours, not the device's, and stay as they are. */
	if (r->out)
		cr_pw_output_renegotiate(r->out);
	create_input(r);
	if (r->state == CR_RELAY_LOST)
		start_black(r);
	publish_props(r);
	return true;
}

void cr_relay_destroy(struct cr_relay *r)
{
	if (!r)
		return;
	cr_relay_disconnect(r);
	pw_loop_destroy_source(r->loop, r->black_timer);
	pw_loop_destroy_source(r->loop, r->stats_timer);
	detach_pipeline(r);
	cr_pw_input_frame_cursor_finish(&r->cursor);
	for (unsigned i = 0; i < CR_PIPELINE_SLOTS; i++)
		free(r->jobs[i].cursor_pixels);
	free(r);
}

bool cr_relay_connecting(const struct cr_relay *r)
{
	return (r->in && cr_pw_input_connecting(r->in)) ||
	       (r->out && cr_pw_output_connecting(r->out));
}

enum cr_relay_state cr_relay_get_state(const struct cr_relay *r)
{
	return r->state;
}

const char *cr_relay_name(const struct cr_relay *r)
{
	return r->cfg->name;
}
