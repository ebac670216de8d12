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
#include "core/sync-file.h"
#include "pw-timeline.h"

#define TOPIC "pw-input"
#define N_FORMATS 7
#define MAX_MODIFIERS 16
#define CURSOR_META_SIZE(w, h) \
	(sizeof(struct spa_meta_cursor) + sizeof(struct spa_meta_bitmap) + (w) * (h) * 4)

/* Every format the kernel reads, in order of preference: 8-bit RGB (exact and cheapest), then
 * 10-bit RGB, then NV12 (lossy already, and chroma at half resolution). */
static const uint32_t offered[N_FORMATS] = {
	DRM_FORMAT_XRGB8888, DRM_FORMAT_XBGR8888, DRM_FORMAT_ARGB8888, DRM_FORMAT_ABGR8888,
	DRM_FORMAT_XRGB2101010, DRM_FORMAT_XBGR2101010, DRM_FORMAT_NV12,
};

struct cr_pw_input {
	struct pw_loop *loop;
	char *target;

	struct pw_stream *stream;
	struct spa_hook stream_listener;
	bool dmabuf_offered;
	uint64_t dropped[CR_PW_INPUT_MAX_RENEGOTIATIONS]; /**< modifiers whose import failed */
	uint32_t n_dropped;
	struct spa_source *renegotiate;

	struct cr_video_format format;
	bool have_format;

	/* Explicit sync (SPA_META_SyncTimeline): offered when drm_fd >= 0. */
	int drm_fd;          /**< borrowed; -1: explicit sync not offered */
	bool explicit_sync;  /**< the current buffers carry timelines */
	bool skip_sync;      /**< CASTRELAY_TEST_SKIP_SYNC: tests only */
	bool have_seq, seq_advances; /**< the producer's header sequence numbers move on */
	uint64_t last_seq;
	struct pw_buffer *parked;     /**< newest frame, waiting for its acquire point */
	int parked_fd;                /**< its WAIT_AVAILABLE eventfd */
	struct spa_source *parked_source;
	const struct cr_pw_input_events *events;
	void *data;
	struct cr_pw_input_stats stats;
};

static bool was_dropped(const struct cr_pw_input *in, uint64_t modifier)
{
	for (uint32_t i = 0; i < in->n_dropped; i++)
		if (in->dropped[i] == modifier)
			return true;
	return false;
}

/* The importable modifiers of @fourcc that we offer now: none when DMA-BUFs are off, never
 * DRM_FORMAT_MOD_INVALID, none whose import failed. */
static uint32_t offer_modifiers(struct cr_pw_input *in, uint32_t fourcc, uint64_t *mods,
				uint32_t max)
{
	uint64_t all[MAX_MODIFIERS];
	uint32_t n_all = 0, n = 0;
	if (in->dmabuf_offered)
		n_all = in->events->modifiers(in->data, fourcc, all, MAX_MODIFIERS);
	for (uint32_t k = 0; k < n_all && n < max; k++)
		if (all[k] != DRM_FORMAT_MOD_INVALID && !was_dropped(in, all[k]))
			mods[n++] = all[k];
	return n;
}

static bool offered_modifier(struct cr_pw_input *in, const struct cr_video_format *format)
{
	uint64_t mods[MAX_MODIFIERS];
	uint32_t n = offer_modifiers(in, format->info->fourcc, mods, MAX_MODIFIERS);
	for (uint32_t i = 0; i < n; i++)
		if (mods[i] == format->modifier)
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
		uint64_t mods[MAX_MODIFIERS];
		uint32_t n_mods = offer_modifiers(in, offered[i], mods, MAX_MODIFIERS);
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
	if (in->format.has_modifier && !offered_modifier(in, &in->format)) {
		cr_log_error(TOPIC, "source fixated modifier 0x%016llx for %s, which we did not "
				    "offer%s", (unsigned long long)in->format.modifier,
			     in->format.info->name,
			     was_dropped(in, in->format.modifier) ? " (any more: its import failed)"
								  : "");
		pw_stream_set_error(in->stream, -EINVAL, "modifier 0x%016llx was not offered",
				    (unsigned long long)in->format.modifier);
		return;
	}
	in->have_format = true;
	if (in->format.has_modifier)
		cr_log_info(TOPIC, "negotiated %s %ux%u over DMA-BUF, modifier 0x%016llx",
			    in->format.info->name, in->format.width, in->format.height,
			    (unsigned long long)in->format.modifier);
	else
		cr_log_info(TOPIC, "negotiated %s %ux%u over SHM", in->format.info->name,
			    in->format.width, in->format.height);

	uint8_t buffer[2048];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	const struct spa_pod *params[8];
	uint32_t n = 0;
	in->explicit_sync = false;
	uint32_t n_planes = in->format.info->n_planes;
	/* A LINEAR layout has the format's planes; other modifiers may add memory planes (aux
	 * planes of compressed layouts) that only the producer knows: any count up to what a
	 * descriptor holds, the producer's Buffers param fixes it. */
	uint32_t max_planes = in->format.modifier == DRM_FORMAT_MOD_LINEAR ? n_planes
									     : CR_DMABUF_MAX_PLANES;
	/* Explicit sync first when we have a DRM device for syncobjs (dma-buf.dox). */
	if (in->format.has_modifier && in->drm_fd >= 0) {
		params[n++] = cr_pw_format_build_buffers_dmabuf(&b, n_planes, max_planes, 4, true);
		params[n++] = cr_pw_format_build_meta(&b, SPA_META_SyncTimeline,
						      sizeof(struct spa_meta_sync_timeline));
	}
	if (in->format.has_modifier)
		params[n++] = cr_pw_format_build_buffers_dmabuf(&b, n_planes, max_planes, 4, false);
	else
		params[n++] = cr_pw_format_build_buffers(&b, false, n_planes, 4, 0, 0);
	params[n++] = cr_pw_format_build_meta(&b, SPA_META_Header,
					      sizeof(struct spa_meta_header));
	params[n++] = cr_pw_format_build_meta(&b, SPA_META_VideoCrop,
					      sizeof(struct spa_meta_region));
	params[n++] = cr_pw_format_build_meta(&b, SPA_META_VideoTransform,
					      sizeof(struct spa_meta_videotransform));
	params[n++] = cr_pw_format_build_meta_range(&b, SPA_META_VideoDamage,
						    sizeof(struct spa_meta_region) * CR_DAMAGE_MAX,
						    sizeof(struct spa_meta_region),
						    sizeof(struct spa_meta_region) * 64);
	/* Producers fix their cursor meta size (mutter: 384x384 bitmaps, others 64x64 or less):
	 * accept anything from position-only to a 512x512 bitmap. */
	params[n++] = cr_pw_format_build_meta_range(&b, SPA_META_Cursor, CURSOR_META_SIZE(64, 64),
						    sizeof(struct spa_meta_cursor),
						    CURSOR_META_SIZE(512, 512));
	pw_stream_update_params(in->stream, params, n);
	in->events->format(in->data, &in->format);
}

/*
 * What add_buffer learnt about a buffer, kept in pw_buffer.user_data for its lifetime: the
 * token of its frames. A buffer removed while its frame is held (a GPU job still reads it when
 * the producer goes, or PipeWire goes) is detached (@buffer NULL) and freed when it is given
 * back, never queued again.
 */
struct cr_pw_input_buffer {
	struct pw_buffer *buffer; /**< NULL once the stream removed it */
	/** events.import's handle (DMA-BUF) or events.import_shm's; NULL: SHM frames are
	 * handed as mapped data, or a DMA-BUF's import failed */
	void *import;
	bool dmabuf;   /**< the buffer's memory is DMA-BUF */
	uint32_t n_planes; /**< the leading DmaBuf datas */
	bool pending;      /**< not imported yet: the producer had not written its layout */
	/** Bytes of each plane's DMA-BUF, for the per-frame layout check. */
	uint64_t plane_size[CR_DMABUF_MAX_PLANES];
	struct cr_pw_timeline timeline; /**< .meta NULL: no explicit sync */
	int acquire_fd; /**< the acquire point's sync_file until the relay takes it, or -1 */
	bool held;      /**< delivered or parked, not given back yet */
	bool seen;      /**< last_* are valid */
	uint64_t last_acquire; /**< acquire point when we last took it (explicit sync) */
	uint64_t last_seq;     /**< header seq when we last took it */
};

/* Frames of @imp are read where they lie, after the buffer was handed to us: a DMA-BUF, or
 * shared memory imported (a copied SHM frame is taken at once). */
static bool in_place(const struct cr_pw_input_buffer *imp)
{
	return imp->dmabuf || imp->import;
}

/*
 * PipeWire 1.4's async links can hand a consumer the same buffer again when the producer had
 * nothing new for a cycle (the port's tee copies the last io state), also after we gave it
 * back and the producer started rewriting it. Such a repeat is not a frame: it is recognised
 * by the acquire point (explicit sync) or the header's sequence number it had last time.
 */
static bool repeated(struct cr_pw_input *in, struct cr_pw_input_buffer *imp,
		     struct spa_buffer *buf)
{
	if (!imp || !in_place(imp))
		return false;
	if (imp->held)
		return true;
	const struct spa_meta_header *h = spa_buffer_find_meta_data(buf, SPA_META_Header,
								    sizeof(*h));
	uint64_t acquire = imp->timeline.meta ? imp->timeline.meta->acquire_point : 0;
	uint64_t seq = h ? h->seq : 0;
	/* Sequence numbers count only once the producer is seen to advance them. */
	if (h && in->have_seq && seq != in->last_seq)
		in->seq_advances = true;
	in->have_seq = h != NULL;
	in->last_seq = seq;
	bool same = imp->seen && (imp->timeline.meta ? acquire == imp->last_acquire
						     : h && in->seq_advances && seq == imp->last_seq);
	imp->seen = true;
	imp->last_acquire = acquire;
	imp->last_seq = seq;
	return same;
}

/*
 * Imports the DMA-BUF of @b once, with the plane layout in its chunks: an image is bound to
 * it (pw-input only learns at import whether the pipeline reads an image). Producers that
 * fill their chunks only when they queue a frame (plane 0's stride is still 0 in add_buffer)
 * get the buffer imported at its first frame, @first_frame; a LINEAR stride still 0 then is
 * the format's default, as planes_from_buffer() reads it. A failed import drops the modifier.
 */
static void import_buffer(struct cr_pw_input *in, struct pw_buffer *b, bool first_frame)
{
	struct cr_pw_input_buffer *imp = b->user_data;
	imp->pending = !first_frame && imp->n_planes > 0 &&
		       b->buffer->datas[0].chunk->stride <= 0;
	if (imp->pending)
		return;
	struct cr_dmabuf buf;
	cr_pw_input_frame_dmabuf(&in->format, b->buffer, imp->n_planes, &buf);
	char why[200];
	if (!cr_dmabuf_validate(&buf, why, sizeof(why))) {
		/* The producer's mistake, not our device's: no renegotiation, the buffer's frames
		 * are skipped as corrupt. */
		cr_log_warn(TOPIC, "not importing a DMA-BUF with modifier 0x%016llx: %s",
			    (unsigned long long)buf.modifier, why);
		return;
	}
	imp->import = in->events->import(in->data, &buf);
	if (imp->import)
		return;
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

/* Shared memory read in place: the leading MemFd datas, one per plane at most, imported
 * once. Without (MemPtr, or the device cannot) frames are handed as mapped data. */
static void import_shm(struct cr_pw_input *in, struct pw_buffer *b)
{
	const struct spa_buffer *buf = b->buffer;
	struct cr_pipeline_shm_block blocks[CR_DMABUF_MAX_PLANES];
	uint32_t n = 0, max = in->format.info ? in->format.info->n_planes : 1;
	if (!in->events->import_shm)
		return;
	while (n < buf->n_datas && n < max && n < CR_DMABUF_MAX_PLANES &&
	       buf->datas[n].type == SPA_DATA_MemFd && buf->datas[n].fd >= 0) {
		const struct spa_data *d = &buf->datas[n];
		blocks[n] = (struct cr_pipeline_shm_block){
			.fd = (int)d->fd, .offset = d->mapoffset, .size = d->maxsize,
		};
		n++;
	}
	/* Planes in separate blocks must all be imported, or none is. */
	if (n == 0 || (n < max && n < buf->n_datas))
		return;
	struct cr_pw_input_buffer *imp = b->user_data;
	imp->import = in->events->import_shm(in->data, blocks, n);
}

static void on_add_buffer(void *data, struct pw_buffer *b)
{
	struct cr_pw_input *in = data;
	struct cr_pw_input_buffer *imp = calloc(1, sizeof(*imp));
	b->user_data = imp;
	if (!imp) {
		pw_stream_set_error(in->stream, -ENOMEM, "out of memory");
		return;
	}
	imp->buffer = b;
	imp->acquire_fd = -1;
	imp->dmabuf = b->buffer->datas[0].type == SPA_DATA_DmaBuf;
	if (!imp->dmabuf) {
		import_shm(in, b);
		return;
	}
	/* Kept even when the import fails: the release point must still be signalled. */
	if (in->drm_fd >= 0 && cr_pw_timeline_present(b->buffer)) {
		in->explicit_sync = cr_pw_timeline_import(&imp->timeline, in->drm_fd, b->buffer);
		if (!in->explicit_sync)
			pw_stream_set_error(in->stream, -EIO, "cannot import the SyncTimeline syncobjs");
	}
	imp->n_planes = cr_pw_input_frame_dmabuf_planes(b->buffer, imp->plane_size);
	import_buffer(in, b, false);
}

static void unpark(struct cr_pw_input *in)
{
	if (in->parked_source)
		pw_loop_destroy_source(in->loop, in->parked_source);
	if (in->parked_fd >= 0)
		close(in->parked_fd);
	in->parked = NULL;
	in->parked_fd = -1;
	in->parked_source = NULL;
}

/* Gives @b back to the producer; with explicit sync, its release point is signalled first
 * (also for frames never read: the producer waits for it before reusing the buffer). */
static void give_back(struct cr_pw_input *in, struct pw_buffer *b)
{
	struct cr_pw_input_buffer *imp = b->user_data;
	if (in->parked == b)
		unpark(in);
	if (imp)
		imp->held = false;
	if (imp && imp->acquire_fd >= 0) {
		close(imp->acquire_fd);
		imp->acquire_fd = -1;
	}
	if (imp && imp->timeline.meta) {
		if (cr_pw_timeline_release(&imp->timeline))
			in->stats.released++;
	}
	pw_stream_queue_buffer(in->stream, b);
}

/* The stream no longer has @imp's buffer: everything of it goes but a held token. */
static void forget_buffer(struct cr_pw_input *in, struct cr_pw_input_buffer *imp)
{
	struct pw_buffer *b = imp->buffer;
	b->user_data = NULL;
	if (in->parked == b)
		unpark(in);
	if (imp->acquire_fd >= 0)
		close(imp->acquire_fd);
	imp->acquire_fd = -1;
	/* The syncobjs go with the buffer; a held frame's release point is never signalled. */
	cr_pw_timeline_finish(&imp->timeline, b->buffer);
	/* The pipeline frees a source that a job still reads once that job is done. */
	if (imp->import)
		in->events->release_import(in->data, imp->import);
	imp->import = NULL;
	imp->buffer = NULL;
	if (imp->held) {
		in->stats.removed_held++;
		return; /* freed by cr_pw_input_release() */
	}
	free(imp);
}

static void on_remove_buffer(void *data, struct pw_buffer *b)
{
	struct cr_pw_input *in = data;
	if (b->user_data)
		forget_buffer(in, b->user_data);
}

static void on_renegotiate(void *data, uint64_t count)
{
	struct cr_pw_input *in = data;
	uint8_t buffer[8192];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	const struct spa_pod *params[2 * N_FORMATS];
	uint32_t n = build_formats(in, &b, params);
	pw_stream_update_params(in->stream, params, n);
}

static bool frame_from_buffer(struct cr_pw_input *in, struct pw_buffer *b,
			      struct cr_pw_input_frame *f)
{
	const struct cr_pw_input_buffer *imp = b->user_data;
	bool ok = cr_pw_input_frame_read(&in->format, b->buffer,
					 imp && imp->import ? imp->plane_size : NULL, f);
	f->import = imp ? imp->import : NULL;
	return ok;
}

/* Hands @b to the owner; with explicit sync its acquire point has a fence by now, exported as
 * a sync_file for the GPU to wait on (cr_pw_input_take_acquire()). */
static void deliver(struct cr_pw_input *in, struct pw_buffer *b)
{
	struct cr_pw_input_buffer *imp = b->user_data;
	struct cr_pw_input_frame frame;
	if (!imp) { /* its allocation failed: the stream is in error */
		give_back(in, b);
		return;
	}
	imp->held = true;
	if (imp->pending)
		import_buffer(in, b, true);
	if (!frame_from_buffer(in, b, &frame)) {
		in->stats.corrupt++;
		give_back(in, b);
		return;
	}
	if (imp->timeline.meta && !in->skip_sync) {
		imp->acquire_fd = cr_pw_timeline_acquire_sync_file(&imp->timeline);
		if (imp->acquire_fd < 0) {
			give_back(in, b);
			return;
		}
		frame.explicit_sync = true;
	}
	in->events->frame(in->data, &frame, imp);
}

static void on_acquire_available(void *data, int fd, uint32_t mask)
{
	struct cr_pw_input *in = data;
	struct pw_buffer *b = in->parked;
	unpark(in);
	if (b)
		deliver(in, b);
}

/* Explicit sync: a frame whose acquire point has no fence yet waits, off the loop's critical
 * path, on an eventfd (DRM_IOCTL_SYNCOBJ_EVENTFD); a newer frame replaces it. */
static void park(struct cr_pw_input *in, struct pw_buffer *b)
{
	struct cr_pw_input_buffer *imp = b->user_data;
	in->parked_fd = cr_pw_timeline_acquire_eventfd(&imp->timeline);
	if (in->parked_fd < 0) {
		give_back(in, b);
		return;
	}
	in->parked = b;
	imp->held = true;
	in->parked_source = pw_loop_add_io(in->loop, in->parked_fd, SPA_IO_IN, false,
					   on_acquire_available, in);
	in->stats.acquire_waits++;
}

static void on_process(void *data)
{
	struct cr_pw_input *in = data;
	struct pw_buffer *b, *newest = NULL;
	while ((b = pw_stream_dequeue_buffer(in->stream)) != NULL) {
		struct cr_pw_input_buffer *imp = b->user_data;
		if (repeated(in, imp, b->buffer)) {
			/* Not queued again: it went (or goes) back to the producer once. */
			cr_log_debug(TOPIC, "a buffer came again with the same frame: ignored");
			in->stats.repeated++;
			continue;
		}
		if (imp && imp->timeline.meta)
			cr_pw_timeline_promise(&imp->timeline);
		in->stats.received++;
		if (newest) {
			give_back(in, newest);
			in->stats.skipped++;
		}
		newest = b;
	}
	if (!newest)
		return;
	if (in->parked) {
		give_back(in, in->parked);
		in->stats.skipped++;
	}
	if (!in->have_format) {
		give_back(in, newest);
		return;
	}
	struct cr_pw_input_buffer *imp = newest->user_data;
	if (imp && imp->timeline.meta && !in->skip_sync) {
		int ready = cr_pw_timeline_acquire_available(&imp->timeline);
		if (ready < 0) {
			in->stats.corrupt++;
			give_back(in, newest);
			return;
		}
		if (ready == 0) {
			park(in, newest);
			return;
		}
	}
	deliver(in, newest);
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
				       const char *node_name, bool dmabuf, int drm_fd,
				       const struct cr_pw_input_events *events, void *data)
{
	struct cr_pw_input *in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	in->drm_fd = dmabuf ? drm_fd : -1;
	in->parked_fd = -1;
	in->skip_sync = cr_sync_test_skip();
	in->events = events;
	in->data = data;
	in->dmabuf_offered = dmabuf;
	in->target = strdup(target);
	if (!in->target)
		goto err_free;

	in->loop = pw_context_get_main_loop(pw_core_get_context(core));
	in->renegotiate = pw_loop_add_event(in->loop, on_renegotiate, in);

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
		goto err_event;
	}
	pw_stream_add_listener(in->stream, &in->stream_listener, &stream_events, in);

	uint8_t buffer[8192];
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
err_event:
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
	unpark(in);
	pw_stream_destroy(in->stream);
	/* pw_stream_destroy() emitted remove_buffer for every buffer: held tokens are detached. */
	pw_loop_destroy_source(in->loop, in->renegotiate);
	free(in->target);
	free(in);
}

void cr_pw_input_release(struct cr_pw_input *in, struct cr_pw_input_buffer *token)
{
	if (!token->buffer) {
		free(token); /* removed while held: nothing to give back */
		return;
	}
	give_back(in, token->buffer);
}

bool cr_pw_input_intact(struct cr_pw_input *in, const struct cr_pw_input_buffer *token)
{
	if (!token->buffer)
		return false; /* counted as removed_held */
	if (!in_place(token) || !token->seen)
		return true;
	const struct spa_meta_header *h = spa_buffer_find_meta_data(token->buffer->buffer,
								    SPA_META_Header, sizeof(*h));
	bool intact = token->timeline.meta
			      ? token->timeline.meta->acquire_point == token->last_acquire
			      : !h || h->seq == token->last_seq;
	if (!intact)
		in->stats.overwritten++;
	return intact;
}

int cr_pw_input_take_acquire(struct cr_pw_input *in, struct cr_pw_input_buffer *token)
{
	int fd = token->acquire_fd;
	token->acquire_fd = -1;
	return fd;
}

const char *cr_pw_input_sync(const struct cr_pw_input *in)
{
	if (!in->have_format || !in->explicit_sync)
		return NULL;
	return in->skip_sync ? "none" : "explicit";
}

bool cr_pw_input_connecting(const struct cr_pw_input *in)
{
	return pw_stream_get_state(in->stream, NULL) == PW_STREAM_STATE_CONNECTING;
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
