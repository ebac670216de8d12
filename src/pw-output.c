/* SPDX-License-Identifier: MIT */
#include "pw-output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <spa/param/video/format-utils.h>
#include <spa/utils/result.h>

#include "core/log.h"
#include "pw-format.h"

#define TOPIC "pw-output"

struct cr_pw_output {
	struct pw_stream *stream;
	struct spa_hook listener;
	bool connected;
	bool streaming;
	const struct cr_format_info *info;
	uint32_t width, height, max_fps;
	uint32_t stride;
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

static void on_param_changed(void *data, uint32_t id, const struct spa_pod *param)
{
	struct cr_pw_output *out = data;
	if (id != SPA_PARAM_Format || param == NULL)
		return;
	out->stride = SPA_ROUND_UP_N(out->width * out->info->bytes_per_pixel, 4);
	uint8_t buffer[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	const struct spa_pod *params[2];
	params[0] = cr_pw_format_build_buffers(&b, false, 1, 4, out->stride * out->height,
					       out->stride);
	params[1] = cr_pw_format_build_meta(&b, SPA_META_Header, sizeof(struct spa_meta_header));
	pw_stream_update_params(out->stream, params, 2);
}

/* We allocate (ALLOC_BUFFERS) so that every buffer is a sealed memfd any consumer can map. */
static void on_add_buffer(void *data, struct pw_buffer *b)
{
	struct cr_pw_output *out = data;
	struct spa_data *d = &b->buffer->datas[0];
	if (!(d->type & (1 << SPA_DATA_MemFd))) {
		cr_log_error(TOPIC, "consumer asked for buffer types 0x%x; only MemFd is offered",
			     d->type);
		return;
	}
	d->maxsize = out->stride * out->height;
	int fd = memfd_create("castrelay-output", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		cr_log_error(TOPIC, "memfd_create: %s", strerror(errno));
		return;
	}
	if (ftruncate(fd, d->maxsize) < 0) {
		cr_log_error(TOPIC, "ftruncate %u: %s", d->maxsize, strerror(errno));
		close(fd);
		return;
	}
	fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
	void *map = mmap(NULL, d->maxsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		cr_log_error(TOPIC, "mmap %u: %s", d->maxsize, strerror(errno));
		close(fd);
		return;
	}
	d->type = SPA_DATA_MemFd;
	d->flags = SPA_DATA_FLAG_READWRITE | SPA_DATA_FLAG_MAPPABLE;
	d->fd = fd;
	d->mapoffset = 0;
	d->data = map;
}

static void on_remove_buffer(void *data, struct pw_buffer *b)
{
	struct spa_data *d = &b->buffer->datas[0];
	if (d->data)
		munmap(d->data, d->maxsize);
	if (d->fd >= 0 && d->type == SPA_DATA_MemFd)
		close((int)d->fd);
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

struct cr_pw_output *cr_pw_output_create(struct pw_core *core, struct pw_properties *props)
{
	struct cr_pw_output *out = calloc(1, sizeof(*out));
	if (!out) {
		pw_properties_free(props);
		return NULL;
	}
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
	pw_stream_destroy(out->stream);
	free(out);
}

bool cr_pw_output_set_format(struct cr_pw_output *out, const struct cr_format_info *info,
			     uint32_t width, uint32_t height, uint32_t max_fps)
{
	if (out->connected && out->info == info && out->width == width && out->height == height)
		return true;
	out->info = info;
	out->width = width;
	out->height = height;
	out->max_fps = max_fps;
	uint8_t buffer[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	const struct spa_pod *params[1];
	params[0] = cr_pw_format_build_fixed(&b, SPA_PARAM_EnumFormat, info, width, height,
					     max_fps);
	if (out->connected) {
		cr_log_info(TOPIC, "output format now %s %ux%u; renegotiating", info->name, width,
			    height);
		return pw_stream_update_params(out->stream, params, 1) >= 0;
	}
	int res = pw_stream_connect(out->stream, PW_DIRECTION_OUTPUT, PW_ID_ANY,
				    PW_STREAM_FLAG_DRIVER | PW_STREAM_FLAG_ALLOC_BUFFERS, params, 1);
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

bool cr_pw_output_push(struct cr_pw_output *out, const void *pixels, uint32_t stride,
		       uint32_t height, uint64_t pts_ns)
{
	struct pw_buffer *b = pw_stream_dequeue_buffer(out->stream);
	if (!b)
		return false;
	struct spa_buffer *buf = b->buffer;
	struct spa_data *d = &buf->datas[0];
	uint32_t row = out->width * out->info->bytes_per_pixel;
	if (!d->data || height != out->height || (uint64_t)out->stride * height > d->maxsize) {
		pw_stream_queue_buffer(out->stream, b);
		return false;
	}
	for (uint32_t y = 0; y < height; y++)
		memcpy((uint8_t *)d->data + (size_t)y * out->stride,
		       (const uint8_t *)pixels + (size_t)y * stride, row);
	d->chunk->offset = 0;
	d->chunk->stride = (int32_t)out->stride;
	d->chunk->size = out->stride * height;
	d->chunk->flags = 0;
	struct spa_meta_header *h = spa_buffer_find_meta_data(buf, SPA_META_Header, sizeof(*h));
	if (h) {
		h->flags = 0;
		h->offset = 0;
		h->pts = (int64_t)pts_ns;
		h->dts_offset = 0;
		h->seq = out->seq;
	}
	out->seq++;
	pw_stream_queue_buffer(out->stream, b);
	pw_stream_trigger_process(out->stream);
	return true;
}

void cr_pw_output_update_props(struct cr_pw_output *out, const struct spa_dict *dict)
{
	pw_stream_update_properties(out->stream, dict);
}

uint32_t cr_pw_output_node_id(const struct cr_pw_output *out)
{
	return pw_stream_get_node_id(out->stream);
}
