/* SPDX-License-Identifier: MIT */
#include "pw-input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <spa/param/video/format-utils.h>
#include <spa/utils/result.h>

#include "core/log.h"

#define TOPIC "pw-input"
#define N_FORMATS 4
#define CURSOR_META_SIZE(w, h) \
	(sizeof(struct spa_meta_cursor) + sizeof(struct spa_meta_bitmap) + (w) * (h) * 4)

static const uint32_t offered[N_FORMATS] = {
	DRM_FORMAT_XRGB8888, DRM_FORMAT_XBGR8888, DRM_FORMAT_ARGB8888, DRM_FORMAT_ABGR8888,
};

struct cr_pw_input {
	struct pw_core *core;
	struct pw_loop *loop;
	struct pw_registry *registry;
	struct spa_hook registry_listener;
	struct spa_hook core_listener;
	int sync_seq;
	char *target;
	uint32_t source_id; /**< SPA_ID_INVALID until found */
	bool lookup_done;

	struct pw_stream *stream;
	struct spa_hook stream_listener;
	bool dmabuf_offered;
	uint64_t dropped[CR_PW_INPUT_MAX_RENEGOTIATIONS]; /**< modifiers whose import failed */
	uint32_t n_dropped;
	struct spa_source *renegotiate;

	struct cr_video_format format;
	bool have_format;
	const struct cr_pw_input_events *events;
	void *data;
	struct cr_pw_input_stats stats;
};

static bool matches_target(const struct cr_pw_input *in, const struct spa_dict *props)
{
	const char *name = spa_dict_lookup(props, PW_KEY_NODE_NAME);
	const char *serial = spa_dict_lookup(props, PW_KEY_OBJECT_SERIAL);
	return (name && strcmp(name, in->target) == 0) ||
	       (serial && strcmp(serial, in->target) == 0);
}

static void on_registry_global(void *data, uint32_t id, uint32_t permissions, const char *type,
			       uint32_t version, const struct spa_dict *props)
{
	struct cr_pw_input *in = data;
	if (strcmp(type, PW_TYPE_INTERFACE_Node) != 0 || !props || !matches_target(in, props))
		return;
	const char *klass = spa_dict_lookup(props, PW_KEY_MEDIA_CLASS);
	if (!klass || (strcmp(klass, "Video/Source") != 0 &&
		       strcmp(klass, "Stream/Output/Video") != 0)) {
		char msg[256];
		snprintf(msg, sizeof(msg), "source '%s' is a %s node, not a video source",
			 in->target, klass ? klass : "(no media.class)");
		in->events->error(in->data, msg);
		return;
	}
	in->source_id = id;
	cr_log_info(TOPIC, "source '%s' is node %u (%s)", in->target, id, klass);
}

static void on_registry_global_remove(void *data, uint32_t id)
{
	struct cr_pw_input *in = data;
	if (id != in->source_id)
		return;
	in->source_id = SPA_ID_INVALID;
	cr_log_warn(TOPIC, "source '%s' went away; waiting for it to come back", in->target);
}

static const struct pw_registry_events registry_events = {
	PW_VERSION_REGISTRY_EVENTS,
	.global = on_registry_global,
	.global_remove = on_registry_global_remove,
};

static void on_core_done(void *data, uint32_t id, int seq)
{
	struct cr_pw_input *in = data;
	if (id != PW_ID_CORE || seq != in->sync_seq || in->lookup_done)
		return;
	in->lookup_done = true;
	if (in->source_id == SPA_ID_INVALID) {
		char msg[300];
		snprintf(msg, sizeof(msg),
			 "source '%s' not found: no video node has that node.name or "
			 "object.serial (list them with: pw-dump | grep -A2 Video/Source)",
			 in->target);
		in->events->error(in->data, msg);
	}
}

static const struct pw_core_events core_events = {
	PW_VERSION_CORE_EVENTS,
	.done = on_core_done,
};

static bool was_dropped(const struct cr_pw_input *in, uint64_t modifier)
{
	for (uint32_t i = 0; i < in->n_dropped; i++)
		if (in->dropped[i] == modifier)
			return true;
	return false;
}

/* Per format: the DMA-BUF variant with the importable modifiers first, then shared memory
 * (PipeWire's DMA-BUF negotiation; DRM_FORMAT_MOD_INVALID is never offered). */
static uint32_t build_formats(struct cr_pw_input *in, struct spa_pod_builder *b,
			      const struct spa_pod **params)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < N_FORMATS; i++) {
		const struct cr_format_info *info = cr_format_info_from_fourcc(offered[i]);
		uint64_t all[16], mods[16];
		uint32_t n_all = 0, n_mods = 0;
		if (in->dmabuf_offered)
			n_all = in->events->modifiers(in->data, offered[i], all, 16);
		for (uint32_t k = 0; k < n_all; k++)
			if (all[k] != DRM_FORMAT_MOD_INVALID && !was_dropped(in, all[k]))
				mods[n_mods++] = all[k];
		if (n_mods > 0)
			params[n++] = cr_pw_format_build_enum(b, info, mods, n_mods);
		params[n++] = cr_pw_format_build_enum(b, info, NULL, 0);
	}
	return n;
}

static void on_param_changed(void *data, uint32_t id, const struct spa_pod *param)
{
	struct cr_pw_input *in = data;
	if (id != SPA_PARAM_Format || param == NULL)
		return;
	char why[160];
	if (!cr_pw_format_parse(param, &in->format, why, sizeof(why))) {
		cr_log_error(TOPIC, "source offered an unusable format: %s", why);
		pw_stream_set_error(in->stream, -EINVAL, "unusable format");
		return;
	}
	if (in->format.has_modifier && in->format.modifier != DRM_FORMAT_MOD_LINEAR) {
		cr_log_error(TOPIC, "source fixated modifier 0x%llx, only LINEAR was offered",
			     (unsigned long long)in->format.modifier);
		pw_stream_set_error(in->stream, -EINVAL, "unexpected modifier");
		return;
	}
	in->have_format = true;
	cr_log_info(TOPIC, "negotiated %s %ux%u over %s", in->format.info->name, in->format.width,
		    in->format.height, in->format.has_modifier ? "DMA-BUF" : "SHM");

	uint8_t buffer[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	const struct spa_pod *params[5];
	params[0] = cr_pw_format_build_buffers(&b, in->format.has_modifier,
					       in->format.info->n_planes, 4, 0, 0);
	params[1] = cr_pw_format_build_meta(&b, SPA_META_Header, sizeof(struct spa_meta_header));
	params[2] = cr_pw_format_build_meta(&b, SPA_META_VideoCrop,
					    sizeof(struct spa_meta_region));
	params[3] = cr_pw_format_build_meta(&b, SPA_META_VideoTransform,
					    sizeof(struct spa_meta_videotransform));
	/* Producers fix their cursor meta size (mutter: 384x384 bitmaps, others 64x64 or less):
	 * accept anything from position-only to a 512x512 bitmap. */
	params[4] = cr_pw_format_build_meta_range(&b, SPA_META_Cursor, CURSOR_META_SIZE(64, 64),
						  sizeof(struct spa_meta_cursor),
						  CURSOR_META_SIZE(512, 512));
	pw_stream_update_params(in->stream, params, 5);
	in->events->format(in->data, &in->format);
}

/* What add_buffer learnt about a DMA-BUF, kept in pw_buffer.user_data for its lifetime. */
struct imported {
	void *import;  /**< events.import's handle */
	uint64_t size; /**< bytes of the DMA-BUF, for the per-frame layout check */
};

static void on_add_buffer(void *data, struct pw_buffer *b)
{
	struct cr_pw_input *in = data;
	struct spa_data *d = &b->buffer->datas[0];
	b->user_data = NULL;
	if (d->type != SPA_DATA_DmaBuf)
		return;
	off_t size = lseek((int)d->fd, 0, SEEK_END);
	struct imported *imp = calloc(1, sizeof(*imp));
	if (!imp)
		return;
	imp->size = size > 0 ? (uint64_t)size : 0;
	struct cr_dmabuf buf = {
		.width = in->format.width,
		.height = in->format.height,
		.fourcc = in->format.info->fourcc,
		.modifier = in->format.modifier,
		.n_planes = 1,
		.planes[0] = { .fd = (int)d->fd, .offset = 0, .stride = 0 },
	};
	imp->import = in->events->import(in->data, &buf);
	if (imp->import) {
		b->user_data = imp;
		return;
	}
	free(imp);
	if (!in->dmabuf_offered || was_dropped(in, buf.modifier))
		return;
	/* Drop the modifier and renegotiate, from a loop event: never inside this callback. */
	in->dropped[in->n_dropped++] = buf.modifier;
	if (in->n_dropped == CR_PW_INPUT_MAX_RENEGOTIATIONS) {
		in->dmabuf_offered = false;
		cr_log_warn(TOPIC, "DMA-BUF import with modifier 0x%llx failed, %u failures: "
				   "offering shared memory only", (unsigned long long)buf.modifier,
			    in->n_dropped);
	} else {
		cr_log_warn(TOPIC, "DMA-BUF import with modifier 0x%llx failed: renegotiating "
				   "without it", (unsigned long long)buf.modifier);
	}
	pw_loop_signal_event(in->loop, in->renegotiate);
}

static void on_remove_buffer(void *data, struct pw_buffer *b)
{
	struct cr_pw_input *in = data;
	struct imported *imp = b->user_data;
	if (imp) {
		in->events->release_import(in->data, imp->import);
		free(imp);
	}
	b->user_data = NULL;
}

static void on_renegotiate(void *data, uint64_t count)
{
	struct cr_pw_input *in = data;
	uint8_t buffer[4096];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	const struct spa_pod *params[2 * N_FORMATS];
	uint32_t n = build_formats(in, &b, params);
	pw_stream_update_params(in->stream, params, n);
}

static bool frame_from_buffer(struct cr_pw_input *in, struct pw_buffer *b,
			      struct cr_pw_input_frame *f)
{
	struct spa_buffer *buf = b->buffer;
	struct spa_data *d = &buf->datas[0];
	char why[200];
	const struct imported *imp = b->user_data;
	*f = (struct cr_pw_input_frame){ .format = &in->format, .import = imp ? imp->import : NULL };

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
	if ((d->chunk->flags & SPA_CHUNK_FLAG_CORRUPTED) || d->chunk->size == 0) {
		cr_log_debug(TOPIC, "skipping a corrupted or empty chunk");
		return false;
	}
	f->offset = d->chunk->offset;
	f->stride = (uint32_t)d->chunk->stride;
	if (d->chunk->stride <= 0)
		f->stride = in->format.width * in->format.info->bytes_per_pixel;
	if (d->type == SPA_DATA_DmaBuf) {
		if (!imp)
			return false;
		f->size = imp->size;
	} else {
		if (!d->data)
			return false;
		f->data = d->data;
		f->size = d->maxsize;
	}
	if (!cr_dmabuf_check_plane(in->format.info, in->format.width, in->format.height,
				   f->offset, f->stride, f->size, why, sizeof(why))) {
		cr_log_warn(TOPIC, "skipping a buffer with an invalid layout: %s", why);
		return false;
	}
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
		    (uint64_t)r.position.x + r.size.width <= in->format.width &&
		    (uint64_t)r.position.y + r.size.height <= in->format.height) {
			f->has_crop = true;
			f->crop = (struct cr_rect){ (uint32_t)r.position.x, (uint32_t)r.position.y,
						    r.size.width, r.size.height };
		}
	}
	return true;
}

static void on_process(void *data)
{
	struct cr_pw_input *in = data;
	struct pw_buffer *b, *newest = NULL;
	while ((b = pw_stream_dequeue_buffer(in->stream)) != NULL) {
		in->stats.received++;
		if (newest) {
			pw_stream_queue_buffer(in->stream, newest);
			in->stats.skipped++;
		}
		newest = b;
	}
	if (!newest || !in->have_format)
		goto requeue;
	struct cr_pw_input_frame frame;
	if (!frame_from_buffer(in, newest, &frame)) {
		in->stats.corrupt++;
		goto requeue;
	}
	in->events->frame(in->data, &frame, newest);
	return;

requeue:
	if (newest)
		pw_stream_queue_buffer(in->stream, newest);
}

static void on_state_changed(void *data, enum pw_stream_state old, enum pw_stream_state state,
			     const char *error)
{
	struct cr_pw_input *in = data;
	cr_log_info(TOPIC, "input stream for '%s': %s%s%s", in->target,
		    pw_stream_state_as_string(state), error ? ": " : "", error ? error : "");
	if (state == PW_STREAM_STATE_UNCONNECTED || state == PW_STREAM_STATE_ERROR)
		in->have_format = false;
}

static const struct pw_stream_events stream_events = {
	PW_VERSION_STREAM_EVENTS,
	.state_changed = on_state_changed,
	.param_changed = on_param_changed,
	.add_buffer = on_add_buffer,
	.remove_buffer = on_remove_buffer,
	.process = on_process,
};

struct cr_pw_input *cr_pw_input_create(struct pw_core *core, const char *target,
				       const char *node_name, bool dmabuf,
				       const struct cr_pw_input_events *events, void *data)
{
	struct cr_pw_input *in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	in->core = core;
	in->events = events;
	in->data = data;
	in->source_id = SPA_ID_INVALID;
	in->dmabuf_offered = dmabuf;
	in->target = strdup(target);
	if (!in->target)
		goto err_free;

	in->loop = pw_context_get_main_loop(pw_core_get_context(core));
	in->renegotiate = pw_loop_add_event(in->loop, on_renegotiate, in);

	in->registry = pw_core_get_registry(core, PW_VERSION_REGISTRY, 0);
	pw_registry_add_listener(in->registry, &in->registry_listener, &registry_events, in);
	pw_core_add_listener(core, &in->core_listener, &core_events, in);
	in->sync_seq = pw_core_sync(core, PW_ID_CORE, 0);

	/* media.type lets WirePlumber honour target.object; dont-fallback and dont-move keep a
	 * missing source from being replaced by another one (DESIGN.md, WirePlumber facts). */
	struct pw_properties *props = pw_properties_new(
		PW_KEY_MEDIA_TYPE, "Video",
		PW_KEY_MEDIA_CATEGORY, "Capture",
		PW_KEY_MEDIA_ROLE, "Screen",
		PW_KEY_NODE_NAME, node_name,
		PW_KEY_TARGET_OBJECT, target,
		"node.dont-fallback", "true",
		"node.dont-move", "true",
		NULL);
	pw_properties_setf(props, PW_KEY_NODE_DESCRIPTION, "castrelay input from %s", target);
	in->stream = pw_stream_new(core, node_name, props);
	if (!in->stream) {
		cr_log_error(TOPIC, "pw_stream_new failed: %s", strerror(errno));
		goto err_listeners;
	}
	pw_stream_add_listener(in->stream, &in->stream_listener, &stream_events, in);

	uint8_t buffer[4096];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	const struct spa_pod *params[2 * N_FORMATS];
	uint32_t n = build_formats(in, &b, params);
	int res = pw_stream_connect(in->stream, PW_DIRECTION_INPUT, PW_ID_ANY,
				    PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS, params,
				    n);
	if (res < 0) {
		cr_log_error(TOPIC, "connecting the input stream failed: %s", spa_strerror(res));
		goto err_stream;
	}
	return in;

err_stream:
	pw_stream_destroy(in->stream);
err_listeners:
	spa_hook_remove(&in->core_listener);
	spa_hook_remove(&in->registry_listener);
	pw_proxy_destroy((struct pw_proxy *)in->registry);
	pw_loop_destroy_source(in->loop, in->renegotiate);
	free(in->target);
err_free:
	free(in);
	return NULL;
}

void cr_pw_input_destroy(struct cr_pw_input *in)
{
	if (!in)
		return;
	pw_stream_destroy(in->stream);
	spa_hook_remove(&in->core_listener);
	spa_hook_remove(&in->registry_listener);
	pw_proxy_destroy((struct pw_proxy *)in->registry);
	pw_loop_destroy_source(in->loop, in->renegotiate);
	free(in->target);
	free(in);
}

void cr_pw_input_release(struct cr_pw_input *in, void *token)
{
	pw_stream_queue_buffer(in->stream, token);
}

const char *cr_pw_input_transport(const struct cr_pw_input *in)
{
	if (!in->have_format)
		return "none";
	return in->format.has_modifier ? "dmabuf" : "shm";
}

const struct cr_pw_input_stats *cr_pw_input_get_stats(const struct cr_pw_input *in)
{
	return &in->stats;
}
