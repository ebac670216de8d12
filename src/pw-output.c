/* SPDX-License-Identifier: MIT */
#include "pw-output.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <spa/param/video/format-utils.h>
#include <spa/utils/result.h>

#include <drm_fourcc.h>

#include "core/log.h"
#include "pw-format.h"
#include "pw-timeline.h"

#define TOPIC "pw-output"
#define CURSOR_MAX CR_PW_OUTPUT_CURSOR_MAX
#define CURSOR_META_SIZE(w, h) \
	(sizeof(struct spa_meta_cursor) + sizeof(struct spa_meta_bitmap) + (w) * (h) * 4)
#define MAX_BUFFERS 16
#define MAX_MODIFIERS 16

/* pw_buffer.user_data of a DMA-BUF buffer. */
struct out_buffer {
	void *export;                   /**< events.export's handle */
	struct cr_dmabuf desc;          /**< its planes; the fds are ours, one per plane */
	uint32_t chunk_size[CR_DMABUF_MAX_PLANES]; /**< bytes from each plane's offset */
	struct cr_pw_timeline timeline; /**< .meta NULL: no explicit sync */
	bool ours;                      /**< dequeued and not queued since */
	bool begun;                     /**< its next points are set (cr_pw_timeline_begin()) */
};

/* pw_buffer.user_data of a shared-memory buffer: our memfd, and its import for the GPU to
 * write in place (events.import_shm), made at its first frame. */
struct shm_buffer {
	void *import; /**< NULL: not imported (frames are copied in) */
	bool tried;   /**< import_shm was asked since the buffer came or the device changed */
};

/* A buffer back from the consumer whose release point has not signalled yet. */
struct held {
	struct cr_pw_output *out;
	struct pw_buffer *buffer;
	int fd; /**< release-point eventfd */
	struct spa_source *source;
};

struct cr_pw_output {
	struct pw_stream *stream;
	struct spa_hook listener;
	const struct cr_pw_output_events *events;
	void *data;
	bool connected;
	bool streaming;
	bool cursor_meta;
	bool dmabuf_offered; /**< cleared when the test allocation fails */
	bool dmabuf;         /**< the negotiated buffers are DMA-BUFs */
	uint64_t offer[MAX_MODIFIERS]; /**< exportable modifiers for the current format */
	uint32_t n_offer;
	/* The last test allocation (fds closed): the fixated modifier and its planes. */
	struct cr_dmabuf fixated;
	bool have_fixated;
	bool have_buffers;
	uint64_t generation; /**< bumped whenever buffers may have gone */
	/* Dequeued and free to write, for the next frames. */
	struct pw_buffer *ready[MAX_BUFFERS];
	uint32_t n_ready;
	/* Explicit sync (SPA_META_SyncTimeline), offered for DMA-BUFs when drm_fd >= 0. */
	struct pw_loop *loop;
	int drm_fd;           /**< borrowed; -1: explicit sync not offered */
	bool explicit_sync;   /**< the current buffers carry timelines */
	bool exclusive;       /**< node.exclusive/node.reliable set for explicit sync */
	uint64_t sync_point;  /**< last acquire/release point handed out */
	struct held held[MAX_BUFFERS];
	/* The DMA-BUF buffers, for cr_pw_output_drop_exports(); set while they have an export. */
	struct out_buffer *exported[MAX_BUFFERS];
	bool dropped_exports; /**< since the last cr_pw_output_renegotiate() */
	/* The shared-memory buffers, for cr_pw_output_drop_exports(). */
	struct shm_buffer *shm[MAX_BUFFERS];
	struct cr_pw_output_stats stats;
	const struct cr_format_info *info;
	uint32_t width, height, max_fps;
	enum cr_color_matrix matrix;
	bool full_range;
	struct cr_plane_layout layout;
	uint64_t seq;
};

static void on_state_changed(void *data, enum pw_stream_state old, enum pw_stream_state state,
			     const char *error)
{
	struct cr_pw_output *out = data;
	out->streaming = state == PW_STREAM_STATE_STREAMING;
	cr_log_info(TOPIC, "output stream: %s%s%s", pw_stream_state_as_string(state),
		    error ? ": " : "", error ? error : "");
}

/* What we offer: the DMA-BUF variant first (the exportable modifiers, DONT_FIXATE), then
 * shared memory. */
static uint32_t build_enum_formats(struct cr_pw_output *out, struct spa_pod_builder *b,
				   const struct spa_pod **params)
{
	uint32_t n = 0;
	if (out->dmabuf_offered && out->n_offer > 0)
		params[n++] = cr_pw_format_build_fixed_dmabuf(
			b, SPA_PARAM_EnumFormat, out->info, out->width, out->height, out->max_fps,
			out->matrix, out->full_range, out->offer, out->n_offer, false);
	params[n++] = cr_pw_format_build_fixed(b, SPA_PARAM_EnumFormat, out->info, out->width,
					       out->height, out->max_fps, out->matrix,
					       out->full_range);
	return n;
}

static void modifier_name(uint64_t modifier, char *name, size_t len)
{
	if (modifier == DRM_FORMAT_MOD_LINEAR)
		snprintf(name, len, "LINEAR");
	else
		snprintf(name, len, "0x%016" PRIx64, modifier);
}

static void close_planes(struct cr_dmabuf *desc)
{
	for (uint32_t i = 0; i < desc->n_planes; i++) {
		if (desc->planes[i].fd >= 0)
			close(desc->planes[i].fd);
		desc->planes[i].fd = -1;
	}
}

/*
 * The test allocation: an exported frame with one of the @n @modifiers (the driver picks),
 * freed at once; the chosen modifier and its planes are kept in out->fixated. False (logged)
 * when none of them can be allocated.
 */
static bool test_allocation(struct cr_pw_output *out, const uint64_t *modifiers, uint32_t n)
{
	struct cr_dmabuf desc = { 0 };
	void *handle = n ? out->events->export(out->data, out->info, out->width, out->height,
					       modifiers, n, &desc)
			 : NULL;
	out->have_fixated = handle != NULL;
	if (!handle) {
		char first[24] = "none";
		if (n)
			modifier_name(modifiers[0], first, sizeof(first));
		cr_log_warn(TOPIC, "test allocation of a %s %ux%u DMA-BUF with the consumer's %u "
				   "modifier(s) (first: %s) failed: offering shared memory only",
			    out->info->name, out->width, out->height, n, first);
		out->dmabuf_offered = false;
		return false;
	}
	out->events->release(out->data, handle);
	close_planes(&desc);
	out->fixated = desc;
	char name[24];
	modifier_name(desc.modifier, name, sizeof(name));
	cr_log_info(TOPIC, "fixated output modifier %s (%u plane%s) among the consumer's %u", name,
		    desc.n_planes, desc.n_planes == 1 ? "" : "s", n);
	return true;
}

/*
 * The consumer chose the DMA-BUF variant: fixate the modifier by a test allocation with the
 * modifiers it accepts, in its order, and announce the fixated format first (PipeWire's
 * producer side of DMA-BUF negotiation). When the allocation fails, stop offering DMA-BUFs:
 * the consumer gets shared memory.
 */
static void fixate(struct cr_pw_output *out, const struct spa_pod *param)
{
	uint64_t modifiers[MAX_MODIFIERS];
	uint32_t n_modifiers = cr_pw_format_modifiers(param, modifiers, MAX_MODIFIERS);
	uint8_t buffer[4096];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	const struct spa_pod *params[3];
	uint32_t n = 0;
	if (test_allocation(out, modifiers, n_modifiers))
		params[n++] = cr_pw_format_build_fixed_dmabuf(
			&b, SPA_PARAM_EnumFormat, out->info, out->width, out->height,
			out->max_fps, out->matrix, out->full_range, &out->fixated.modifier, 1,
			true);
	n += build_enum_formats(out, &b, params + n);
	pw_stream_update_params(out->stream, params, n);
}

/* Props { params = [ key value ... ] }: PipeWire's filter-chain convention. */
static void handle_props(struct cr_pw_output *out, const struct spa_pod *param)
{
	int res = cr_pw_format_parse_props(param, out->events->control, out->data);
	if (res == -EINVAL)
		cr_log_warn(TOPIC, "Props without a params struct ignored");
	if (res < 0)
		return;
	out->events->control_done(out->data);
}

/* The out_buffer of @b; NULL for shared-memory buffers. */
static struct out_buffer *dmabuf_of(const struct cr_pw_output *out, struct pw_buffer *b)
{
	return out->dmabuf ? b->user_data : NULL;
}

static void unhold(struct held *h)
{
	if (h->source)
		pw_loop_destroy_source(h->out->loop, h->source);
	if (h->fd >= 0)
		close(h->fd);
	*h = (struct held){ .fd = -1 };
}

static void add_ready(struct cr_pw_output *out, struct pw_buffer *b);

static void on_released(void *data, int fd, uint32_t mask)
{
	struct held *h = data;
	struct cr_pw_output *out = h->out;
	struct pw_buffer *b = h->buffer;
	unhold(h);
	add_ready(out, b);
}

/* Explicit sync: the consumer promised to signal the release point of @b and has not yet;
 * the buffer waits on an eventfd until it has. Returns false when it cannot wait. */
static bool hold(struct cr_pw_output *out, struct pw_buffer *b)
{
	struct out_buffer *ob = b->user_data;
	for (uint32_t i = 0; i < MAX_BUFFERS; i++) {
		struct held *h = &out->held[i];
		if (h->buffer)
			continue;
		h->fd = cr_pw_timeline_release_eventfd(&ob->timeline);
		if (h->fd < 0)
			return false;
		h->out = out;
		h->buffer = b;
		h->source = pw_loop_add_io(out->loop, h->fd, SPA_IO_IN, false, on_released, h);
		out->stats.release_waits++;
		return true;
	}
	return false;
}

/* Forgets @b (NULL: every buffer) in the ready and held lists. */
static void forget(struct cr_pw_output *out, struct pw_buffer *b)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < out->n_ready; i++)
		if (b && out->ready[i] != b)
			out->ready[n++] = out->ready[i];
	out->n_ready = n;
	for (uint32_t i = 0; i < MAX_BUFFERS; i++)
		if (out->held[i].buffer && (!b || out->held[i].buffer == b))
			unhold(&out->held[i]);
}

static void set_sync_props(struct cr_pw_output *out, bool explicit_sync);

static void on_param_changed(void *data, uint32_t id, const struct spa_pod *param)
{
	struct cr_pw_output *out = data;
	if (id == SPA_PARAM_Props && param) {
		handle_props(out, param);
		return;
	}
	if (id != SPA_PARAM_Format)
		return;
	out->generation++;
	forget(out, NULL);
	out->have_buffers = false;
	out->explicit_sync = false;
	if (param == NULL)
		return;
	cr_format_plane_layout(out->info, out->width, out->height, &out->layout);
	if (cr_pw_format_needs_fixation(param)) {
		fixate(out, param);
		return;
	}
	uint8_t buffer[2048];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	const struct spa_pod *params[6];
	uint32_t n = 0;
	uint64_t modifier;
	out->dmabuf = cr_pw_format_modifiers(param, &modifier, 1) == 1;
	/* A consumer that fixated a modifier itself (without our fixation round) still gets
	 * buffers only after a test allocation with it. */
	if (out->dmabuf && !(out->have_fixated && out->fixated.modifier == modifier) &&
	    !test_allocation(out, &modifier, 1)) {
		n = build_enum_formats(out, &b, params);
		pw_stream_update_params(out->stream, params, n);
		return;
	}
	cr_log_info(TOPIC, "the consumer took %s", out->dmabuf ? "DMA-BUF" : "shared memory");
	if (out->exclusive && !(out->dmabuf && out->drm_fd >= 0))
		set_sync_props(out, false);
	uint32_t n_planes = out->dmabuf ? out->fixated.n_planes : out->layout.n_planes;
	/* Explicit sync first when we have a DRM device for syncobjs (dma-buf.dox). */
	if (out->dmabuf && out->drm_fd >= 0) {
		params[n++] = cr_pw_format_build_buffers_sync(&b, n_planes, 4);
		params[n++] = cr_pw_format_build_meta(&b, SPA_META_SyncTimeline,
						      sizeof(struct spa_meta_sync_timeline));
	}
	/* DMA-BUF: one block per plane of the fixated modifier (offsets in the chunks). */
	params[n++] = cr_pw_format_build_buffers(&b, out->dmabuf, n_planes, 4,
						 (uint32_t)out->layout.size, out->layout.stride[0]);
	params[n++] = cr_pw_format_build_meta(&b, SPA_META_Header, sizeof(struct spa_meta_header));
	params[n++] = cr_pw_format_build_meta(&b, SPA_META_VideoDamage,
					      sizeof(struct spa_meta_region) * CR_DAMAGE_MAX);
	if (out->cursor_meta)
		params[n++] = cr_pw_format_build_meta(&b, SPA_META_Cursor,
						      CURSOR_META_SIZE(CURSOR_MAX, CURSOR_MAX));
	pw_stream_update_params(out->stream, params, n);
}

/* With explicit sync PipeWire 1.4 has no way to learn whether the consumer signals release
 * points (the RELEASE meta feature came with 1.5.81): like its video-src-sync example, the
 * node is then exclusive (one consumer per buffer) and reliable ("node.reliable": newer
 * PipeWire honours it, 1.4 ignores it). */
static void set_sync_props(struct cr_pw_output *out, bool explicit_sync)
{
	const char *v = explicit_sync ? "true" : "false";
	out->exclusive = explicit_sync;
	struct spa_dict_item items[] = {
		SPA_DICT_ITEM_INIT(PW_KEY_NODE_EXCLUSIVE, v),
		SPA_DICT_ITEM_INIT("node.reliable", v),
	};
	pw_stream_update_properties(out->stream, &SPA_DICT_INIT_ARRAY(items));
}

/* Bytes from plane @i's offset to the next plane of its buffer, or to the buffer's end. */
static uint32_t plane_bytes(const struct cr_dmabuf *desc, uint32_t i, uint64_t buffer_size)
{
	uint64_t end = buffer_size;
	for (uint32_t k = 0; k < desc->n_planes; k++)
		if (desc->planes[k].offset > desc->planes[i].offset && desc->planes[k].offset < end)
			end = desc->planes[k].offset;
	return end > desc->planes[i].offset ? (uint32_t)(end - desc->planes[i].offset) : 0;
}

static void set_chunks(struct spa_buffer *buf, const struct out_buffer *ob)
{
	for (uint32_t i = 0; i < ob->desc.n_planes; i++) {
		struct spa_chunk *c = buf->datas[i].chunk;
		c->offset = ob->desc.planes[i].offset;
		c->stride = (int32_t)ob->desc.planes[i].stride;
		c->size = ob->chunk_size[i];
		c->flags = 0;
	}
}

static void add_dmabuf(struct cr_pw_output *out, struct pw_buffer *b)
{
	struct out_buffer *ob = calloc(1, sizeof(*ob));
	if (!ob)
		return;
	char name[24];
	modifier_name(out->fixated.modifier, name, sizeof(name));
	ob->export = out->events->export(out->data, out->info, out->width, out->height,
					 &out->fixated.modifier, 1, &ob->desc);
	if (!ob->export) {
		cr_log_error(TOPIC, "exporting a %s %ux%u DMA-BUF with modifier %s failed",
			     out->info->name, out->width, out->height, name);
		free(ob);
		return;
	}
	uint32_t n_planes = ob->desc.n_planes;
	if (ob->desc.modifier != out->fixated.modifier || n_planes != out->fixated.n_planes ||
	    b->buffer->n_datas < n_planes) {
		cr_log_error(TOPIC, "an exported DMA-BUF has %u planes with modifier 0x%016" PRIx64
				    ", %u with %s were negotiated (%u blocks)", n_planes,
			     ob->desc.modifier, out->fixated.n_planes, name, b->buffer->n_datas);
		goto err_export;
	}
	if (out->drm_fd >= 0 && cr_pw_timeline_present(b->buffer)) {
		if (!cr_pw_timeline_create(&ob->timeline, out->drm_fd, b->buffer, n_planes)) {
			cr_log_error(TOPIC, "creating the SyncTimeline syncobjs failed");
			goto err_export;
		}
		if (!out->exclusive)
			set_sync_props(out, true);
		out->explicit_sync = true;
	}
	for (uint32_t i = 0; i < n_planes; i++) {
		struct spa_data *d = &b->buffer->datas[i];
		off_t size = lseek(ob->desc.planes[i].fd, 0, SEEK_END);
		uint64_t bytes = size > 0 ? (uint64_t)size : out->layout.size;
		d->type = SPA_DATA_DmaBuf;
		d->flags = SPA_DATA_FLAG_READABLE;
		d->fd = ob->desc.planes[i].fd;
		d->mapoffset = 0;
		d->maxsize = (uint32_t)SPA_MIN(bytes, UINT32_MAX);
		d->data = NULL;
		/* Consumers that import in add_buffer find the layout there already. */
		ob->chunk_size[i] = plane_bytes(&ob->desc, i, d->maxsize);
	}
	set_chunks(b->buffer, ob);
	b->user_data = ob;
	out->have_buffers = true;
	for (uint32_t i = 0; i < MAX_BUFFERS; i++) {
		if (!out->exported[i]) {
			out->exported[i] = ob;
			break;
		}
	}
	return;

err_export:
	out->events->release(out->data, ob->export);
	close_planes(&ob->desc);
	free(ob);
}

/* We allocate (ALLOC_BUFFERS): exported DMA-BUFs, or sealed memfds any consumer can map. */
static void on_add_buffer(void *data, struct pw_buffer *b)
{
	struct cr_pw_output *out = data;
	struct spa_data *d = &b->buffer->datas[0];
	b->user_data = NULL;
	if (out->dmabuf && (d->type & (1 << SPA_DATA_DmaBuf))) {
		add_dmabuf(out, b);
		return;
	}
	if (!(d->type & (1 << SPA_DATA_MemFd))) {
		cr_log_error(TOPIC, "consumer asked for buffer types 0x%x; only MemFd is offered",
			     d->type);
		return;
	}
	struct shm_buffer *sb = calloc(1, sizeof(*sb));
	if (!sb) {
		cr_log_error(TOPIC, "out of memory");
		return;
	}
	d->maxsize = (uint32_t)out->layout.size;
	int fd = memfd_create("castrelay-output", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		cr_log_error(TOPIC, "memfd_create: %s", strerror(errno));
		free(sb);
		return;
	}
	/* Whole pages, so that the GPU can write into the memfd in place. */
	off_t page = sysconf(_SC_PAGESIZE);
	off_t file_size = ((off_t)d->maxsize + page - 1) / page * page;
	if (ftruncate(fd, file_size) < 0) {
		cr_log_error(TOPIC, "ftruncate %lld: %s", (long long)file_size, strerror(errno));
		close(fd);
		free(sb);
		return;
	}
	fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
	void *map = mmap(NULL, d->maxsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		cr_log_error(TOPIC, "mmap %u: %s", d->maxsize, strerror(errno));
		close(fd);
		free(sb);
		return;
	}
	d->type = SPA_DATA_MemFd;
	d->flags = SPA_DATA_FLAG_READWRITE | SPA_DATA_FLAG_MAPPABLE;
	d->fd = fd;
	d->mapoffset = 0;
	d->data = map;
	b->user_data = sb;
	for (uint32_t i = 0; i < MAX_BUFFERS; i++) {
		if (!out->shm[i]) {
			out->shm[i] = sb;
			break;
		}
	}
	out->have_buffers = true;
}

/* Gives the import of @sb back (the pipeline frees it once a job still writing it is done). */
static void release_shm_import(struct cr_pw_output *out, struct shm_buffer *sb)
{
	if (sb->import)
		out->events->release(out->data, sb->import);
	sb->import = NULL;
	sb->tried = false;
}

static void on_remove_buffer(void *data, struct pw_buffer *b)
{
	struct cr_pw_output *out = data;
	struct spa_data *d = &b->buffer->datas[0];
	out->generation++;
	forget(out, b);
	if (d->type == SPA_DATA_DmaBuf && b->user_data) {
		struct out_buffer *ob = b->user_data;
		for (uint32_t i = 0; i < MAX_BUFFERS; i++)
			if (out->exported[i] == ob)
				out->exported[i] = NULL;
		cr_pw_timeline_finish(&ob->timeline, b->buffer);
		/* The pipeline frees it once a job still writing it is done. */
		out->events->release(out->data, ob->export);
		for (uint32_t i = 0; i < ob->desc.n_planes; i++)
			b->buffer->datas[i].fd = -1;
		close_planes(&ob->desc);
		free(ob);
	} else if (d->type == SPA_DATA_MemFd) {
		struct shm_buffer *sb = b->user_data;
		if (sb) {
			for (uint32_t i = 0; i < MAX_BUFFERS; i++)
				if (out->shm[i] == sb)
					out->shm[i] = NULL;
			release_shm_import(out, sb);
			free(sb);
		}
		if (d->data)
			munmap(d->data, d->maxsize);
		if (d->fd >= 0)
			close((int)d->fd);
	}
	b->user_data = NULL;
	d->data = NULL;
	d->fd = -1;
}

static const struct pw_stream_events stream_events = {
	PW_VERSION_STREAM_EVENTS,
	.state_changed = on_state_changed,
	.param_changed = on_param_changed,
	.add_buffer = on_add_buffer,
	.remove_buffer = on_remove_buffer,
};

struct cr_pw_output *cr_pw_output_create(struct pw_core *core, struct pw_properties *props,
					 bool cursor_meta, bool dmabuf, int drm_fd,
					 const struct cr_pw_output_events *events, void *data)
{
	struct cr_pw_output *out = calloc(1, sizeof(*out));
	if (!out) {
		pw_properties_free(props);
		return NULL;
	}
	out->loop = pw_context_get_main_loop(pw_core_get_context(core));
	out->drm_fd = dmabuf ? drm_fd : -1;
	for (uint32_t i = 0; i < MAX_BUFFERS; i++)
		out->held[i].fd = -1;
	out->events = events;
	out->data = data;
	out->cursor_meta = cursor_meta;
	out->dmabuf_offered = dmabuf;
	const char *name = pw_properties_get(props, PW_KEY_NODE_NAME);
	out->stream = pw_stream_new(core, name ? name : "castrelay", props);
	if (!out->stream) {
		cr_log_error(TOPIC, "pw_stream_new failed: %s", strerror(errno));
		free(out);
		return NULL;
	}
	pw_stream_add_listener(out->stream, &out->listener, &stream_events, out);
	return out;
}

void cr_pw_output_destroy(struct cr_pw_output *out)
{
	if (!out)
		return;
	forget(out, NULL);
	pw_stream_destroy(out->stream);
	free(out);
}

bool cr_pw_output_set_format(struct cr_pw_output *out, const struct cr_format_info *info,
			     uint32_t width, uint32_t height, uint32_t max_fps,
			     enum cr_color_matrix matrix, bool full_range)
{
	if (out->connected && out->info == info && out->width == width &&
	    out->height == height && out->max_fps == max_fps)
		return true;
	out->info = info;
	out->width = width;
	out->height = height;
	out->max_fps = max_fps;
	out->matrix = matrix;
	out->full_range = full_range;
	out->have_fixated = false;
	out->n_offer = 0;
	if (out->dmabuf_offered)
		out->n_offer = out->events->modifiers(out->data, info->fourcc, width, height,
						      out->offer, MAX_MODIFIERS);
	uint8_t buffer[2048];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	const struct spa_pod *params[2];
	uint32_t n = build_enum_formats(out, &b, params);
	if (out->connected) {
		cr_log_info(TOPIC, "output format now %s %ux%u; renegotiating", info->name, width,
			    height);
		return pw_stream_update_params(out->stream, params, n) >= 0;
	}
	int res = pw_stream_connect(out->stream, PW_DIRECTION_OUTPUT, PW_ID_ANY,
				    PW_STREAM_FLAG_DRIVER | PW_STREAM_FLAG_ALLOC_BUFFERS, params, n);
	if (res < 0) {
		cr_log_error(TOPIC, "connecting the output stream failed: %s", spa_strerror(res));
		return false;
	}
	out->connected = true;
	return true;
}

bool cr_pw_output_streaming(const struct cr_pw_output *out)
{
	return out->streaming;
}

bool cr_pw_output_connecting(const struct cr_pw_output *out)
{
	return pw_stream_get_state(out->stream, NULL) == PW_STREAM_STATE_CONNECTING;
}

static void write_cursor(struct spa_buffer *buf, const struct cr_pw_output_cursor *c)
{
	struct spa_meta *m = spa_buffer_find_meta(buf, SPA_META_Cursor);
	if (!m || m->size < sizeof(struct spa_meta_cursor))
		return;
	struct spa_meta_cursor *mc = m->data;
	if (!c || !c->visible) {
		mc->id = 0; /* no cursor */
		return;
	}
	mc->id = 1;
	mc->flags = 0;
	mc->position.x = c->x;
	mc->position.y = c->y;
	mc->hotspot.x = c->hotspot_x;
	mc->hotspot.y = c->hotspot_y;
	mc->bitmap_offset = 0;
	if (!c->pixels || c->width > CURSOR_MAX || c->height > CURSOR_MAX ||
	    m->size < CURSOR_META_SIZE(c->width, c->height))
		return;
	mc->bitmap_offset = sizeof(struct spa_meta_cursor);
	struct spa_meta_bitmap *bm = SPA_PTROFF(mc, mc->bitmap_offset, struct spa_meta_bitmap);
	bm->format = c->spa_format;
	bm->size.width = c->width;
	bm->size.height = c->height;
	bm->stride = (int32_t)(c->width * 4);
	bm->offset = sizeof(struct spa_meta_bitmap);
	for (uint32_t y = 0; y < c->height; y++)
		memcpy(SPA_PTROFF(bm, bm->offset + y * c->width * 4, void),
		       (const uint8_t *)c->pixels + (size_t)y * c->stride, c->width * 4);
}

const struct cr_plane_layout *cr_pw_output_layout(const struct cr_pw_output *out)
{
	return out->have_buffers ? &out->layout : NULL;
}

const struct cr_dmabuf *cr_pw_output_dmabuf(const struct cr_pw_output *out)
{
	return out->have_buffers && out->dmabuf ? &out->fixated : NULL;
}

const char *cr_pw_output_sync(const struct cr_pw_output *out)
{
	return out->have_buffers && out->explicit_sync ? "explicit" : NULL;
}

const struct cr_pw_output_stats *cr_pw_output_get_stats(const struct cr_pw_output *out)
{
	return &out->stats;
}

const char *cr_pw_output_transport(const struct cr_pw_output *out)
{
	if (!out->have_buffers)
		return "none";
	return out->dmabuf ? "dmabuf" : "shm";
}

static void add_ready(struct cr_pw_output *out, struct pw_buffer *b)
{
	if (out->n_ready < MAX_BUFFERS) {
		out->ready[out->n_ready++] = b;
		return;
	}
	/* Cannot happen with at most MAX_BUFFERS buffers; hand it back carrying no frame. */
	struct out_buffer *ob = dmabuf_of(out, b);
	if (ob) {
		/* Nothing to wait for: the consumer skips it (CORRUPTED). */
		if (ob->begun && ob->timeline.meta)
			cr_pw_timeline_publish(&ob->timeline);
		ob->ours = ob->begun = false;
	}
	for (uint32_t i = 0; i < b->buffer->n_datas; i++) {
		b->buffer->datas[i].chunk->size = 0;
		b->buffer->datas[i].chunk->flags = SPA_CHUNK_FLAG_CORRUPTED;
	}
	pw_stream_queue_buffer(out->stream, b);
}

/* The next buffer that may be rewritten: a ready one, else one from the stream whose
 * consumer is done with it (explicit sync: release point signalled or never promised). */
static struct pw_buffer *next_free(struct cr_pw_output *out)
{
	if (out->n_ready > 0)
		return out->ready[--out->n_ready];
	struct pw_buffer *b;
	while ((b = pw_stream_dequeue_buffer(out->stream)) != NULL) {
		struct out_buffer *ob = dmabuf_of(out, b);
		if (ob && ob->ours)
			continue; /* handed back twice (async links): we have it already */
		if (ob)
			ob->ours = true;
		if (!ob || !ob->timeline.meta)
			return b;
		int reusable = cr_pw_timeline_reusable(&ob->timeline);
		cr_log_debug(TOPIC, "a buffer is back: release point %llu%s: %s",
			     (unsigned long long)ob->timeline.meta->release_point,
			     (ob->timeline.meta->flags & SPA_META_SYNC_TIMELINE_UNSCHEDULED_RELEASE)
				     ? " (not promised)" : "",
			     reusable > 0 ? "reusable" : reusable == 0 ? "held" : "error");
		if (reusable != 0)
			return b; /* on error (logged), better a torn frame than a stall */
		if (!hold(out, b))
			return b;
	}
	return NULL;
}

bool cr_pw_output_dequeue(struct cr_pw_output *out, struct cr_pw_output_slot *slot)
{
	struct pw_buffer *b = next_free(out);
	if (!b)
		return false;
	struct out_buffer *ob = dmabuf_of(out, b);
	if (ob && !ob->export) {
		/* Dropped with the device: kept until the renegotiation replaces it. */
		add_ready(out, b);
		return false;
	}
	if (ob && ob->timeline.meta && !ob->begun) {
		cr_pw_timeline_begin(&ob->timeline, ++out->sync_point);
		ob->begun = true;
	}
	struct shm_buffer *sb = out->dmabuf ? NULL : b->user_data;
	if (sb && !sb->tried && out->events->import_shm) {
		struct spa_data *d = &b->buffer->datas[0];
		sb->tried = true;
		sb->import = out->events->import_shm(out->data, (int)d->fd, d->maxsize);
	}
	*slot = (struct cr_pw_output_slot){
		.token = b,
		.export = ob ? ob->export : sb ? sb->import : NULL,
		.shm = sb != NULL,
		.generation = out->generation,
	};
	return true;
}

void cr_pw_output_cancel(struct cr_pw_output *out, struct cr_pw_output_slot *slot)
{
	if (slot->generation != out->generation)
		return; /* its buffer is gone */
	add_ready(out, slot->token);
}

/* SPA_META_VideoDamage: the regions, ended by an invalid (empty) one when there is room. */
static void write_damage(struct cr_pw_output *out, struct spa_buffer *buf,
			 const struct cr_damage *damage)
{
	struct spa_meta *m = spa_buffer_find_meta(buf, SPA_META_VideoDamage);
	if (!m)
		return;
	struct spa_meta_region *r = m->data;
	uint32_t room = m->size / sizeof(*r), n = 0;
	if (room == 0)
		return;
	if (!damage || damage->full || damage->n_rects > room) {
		r[n++].region = (struct spa_region){ { 0, 0 }, { out->width, out->height } };
	} else {
		for (uint32_t i = 0; i < damage->n_rects; i++) {
			const struct cr_rect *c = &damage->rects[i];
			r[n++].region = (struct spa_region){ { (int32_t)c->x, (int32_t)c->y },
							     { c->w, c->h } };
		}
	}
	if (n < room)
		r[n].region = (struct spa_region){ { 0, 0 }, { 0, 0 } };
}

bool cr_pw_output_queue(struct cr_pw_output *out, struct cr_pw_output_slot *slot,
			const void *frame, uint64_t size, uint64_t pts_ns,
			const struct cr_pw_output_cursor *cursor, const struct cr_damage *damage)
{
	if (slot->generation != out->generation)
		return false;
	struct pw_buffer *b = slot->token;
	struct spa_buffer *buf = b->buffer;
	struct spa_data *d = &buf->datas[0];
	/* A frame made for a format that is being renegotiated, or an unusable buffer. */
	bool copy = !slot->export;
	if (size != out->layout.size ||
	    (slot->shm && (size > d->maxsize || !d->data || (copy && !frame)))) {
		cr_pw_output_cancel(out, slot);
		return false;
	}
	struct out_buffer *ob = slot->shm ? NULL : b->user_data;
	if (slot->shm) {
		if (copy)
			memcpy(d->data, frame, size);
		d->chunk->offset = 0;
		d->chunk->stride = (int32_t)out->layout.stride[0];
		d->chunk->size = (uint32_t)size;
		d->chunk->flags = 0;
	} else {
		set_chunks(buf, ob);
	}
	struct spa_meta_header *h = spa_buffer_find_meta_data(buf, SPA_META_Header, sizeof(*h));
	if (h) {
		h->flags = 0;
		h->offset = 0;
		h->pts = (int64_t)pts_ns;
		h->dts_offset = 0;
		h->seq = out->seq;
	}
	if (out->cursor_meta)
		write_cursor(buf, cursor);
	write_damage(out, buf, damage);
	out->seq++;
	/* Our work on the buffer is complete (the pipeline delivers only finished jobs). */
	if (ob && ob->timeline.meta && cr_pw_timeline_publish(&ob->timeline))
		out->stats.published++;
	if (ob)
		ob->begun = false;
	if (ob)
		ob->ours = false;
	pw_stream_queue_buffer(out->stream, b);
	pw_stream_trigger_process(out->stream);
	return true;
}

void cr_pw_output_update_props(struct cr_pw_output *out, const struct spa_dict *dict)
{
	pw_stream_update_properties(out->stream, dict);
}

void cr_pw_output_drop_exports(struct cr_pw_output *out)
{
	/* Shared memory stays; its imports are made again with the next device. */
	for (uint32_t i = 0; i < MAX_BUFFERS; i++)
		if (out->shm[i])
			release_shm_import(out, out->shm[i]);
	for (uint32_t i = 0; i < MAX_BUFFERS; i++) {
		struct out_buffer *ob = out->exported[i];
		if (!ob || !ob->export)
			continue;
		/* The buffer keeps its fds (consumers may still read the last frame). */
		out->events->release(out->data, ob->export);
		ob->export = NULL;
		out->dropped_exports = true;
	}
}

void cr_pw_output_renegotiate(struct cr_pw_output *out)
{
	if (!out->connected)
		return;
	uint64_t offer[MAX_MODIFIERS];
	uint32_t n = out->dmabuf_offered ? out->events->modifiers(out->data, out->info->fourcc,
								  out->width, out->height, offer,
								  MAX_MODIFIERS)
					 : 0;
	bool changed = n != out->n_offer || memcmp(offer, out->offer, n * sizeof(offer[0])) != 0;
	if (!out->dropped_exports && !changed)
		return; /* shared memory buffers are not the device's: nothing to redo */
	out->dropped_exports = false;
	memcpy(out->offer, offer, n * sizeof(offer[0]));
	out->n_offer = n;
	out->have_fixated = false;
	uint8_t buffer[2048];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	const struct spa_pod *params[2];
	uint32_t n_params = build_enum_formats(out, &b, params);
	cr_log_info(TOPIC, "renegotiating the output: its DMA-BUFs are to be exported anew");
	pw_stream_update_params(out->stream, params, n_params);
}
