/* SPDX-License-Identifier: MIT */
#include "relay.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/pipeline.h"
#include "pw-input.h"
#include "pw-output.h"

#define TOPIC "relay"
#define STATS_INTERVAL_NS (1000ull * 1000 * 1000)

struct job {
	bool in_use;
	void *token; /**< input buffer held while the GPU reads it (DMA-BUF), or NULL */
	uint64_t pts_ns;
	bool has_pts;
};

struct cr_relay {
	const struct cr_relay_config *cfg;
	struct pw_loop *loop;
	struct cr_pipeline *pipe;
	struct spa_source *pipe_source;
	struct spa_source *stats_timer;
	struct cr_pw_input *in;
	struct cr_pw_output *out;
	cr_relay_fatal_fn fatal;
	void *fatal_data;

	struct job jobs[CR_PIPELINE_SLOTS];
	bool have_format;
	struct cr_video_format in_format;
	uint32_t out_w, out_h;
	bool crop_warned;

	uint64_t frames_out;
	uint64_t dropped; /**< also frames that arrived while no consumer was linked */
	uint64_t latency_sum_ns, latency_count, last_latency_us;
	uint64_t gpu_sum_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void publish_props(struct cr_relay *r)
{
	const struct cr_pw_input_stats *st = cr_pw_input_get_stats(r->in);
	char in_fmt[64] = "none", out_size[32] = "none", counters[4][24], lat[24];
	if (r->have_format)
		snprintf(in_fmt, sizeof(in_fmt), "%s %ux%u", r->in_format.info->name,
			 r->in_format.width, r->in_format.height);
	if (r->out_w)
		snprintf(out_size, sizeof(out_size), "%ux%u", r->out_w, r->out_h);
	/* in = out + dropped + corrupt (+ at most CR_PIPELINE_SLOTS in flight). */
	snprintf(counters[0], sizeof(counters[0]), "%" PRIu64, st->received);
	snprintf(counters[1], sizeof(counters[1]), "%" PRIu64, r->frames_out);
	snprintf(counters[2], sizeof(counters[2]), "%" PRIu64, r->dropped + st->skipped);
	snprintf(counters[3], sizeof(counters[3]), "%" PRIu64, st->corrupt);
	if (r->latency_count) {
		r->last_latency_us = r->latency_sum_ns / r->latency_count / 1000;
		r->latency_sum_ns = r->latency_count = 0;
	}
	snprintf(lat, sizeof(lat), "%" PRIu64, r->last_latency_us);
	struct spa_dict_item items[] = {
		SPA_DICT_ITEM_INIT("castrelay.source", r->cfg->source),
		SPA_DICT_ITEM_INIT("castrelay.input.transport", cr_pw_input_transport(r->in)),
		SPA_DICT_ITEM_INIT("castrelay.input.format", in_fmt),
		SPA_DICT_ITEM_INIT("castrelay.output.transport", "shm"),
		SPA_DICT_ITEM_INIT("castrelay.output.format", r->cfg->format->name),
		SPA_DICT_ITEM_INIT("castrelay.output.size", out_size),
		SPA_DICT_ITEM_INIT("castrelay.sync", "none"),
		SPA_DICT_ITEM_INIT("castrelay.frames.in", counters[0]),
		SPA_DICT_ITEM_INIT("castrelay.frames.out", counters[1]),
		SPA_DICT_ITEM_INIT("castrelay.frames.dropped", counters[2]),
		SPA_DICT_ITEM_INIT("castrelay.frames.corrupt", counters[3]),
		SPA_DICT_ITEM_INIT("castrelay.latency.us", lat),
	};
	cr_pw_output_update_props(r->out, &SPA_DICT_INIT_ARRAY(items));
}

static void on_stats_timer(void *data, uint64_t expirations)
{
	publish_props(data);
}

/* Output size: --scale, else the crop, else the input. Fixed per input format so that a
 * changing VideoCrop meta is scaled into a stable output instead of renegotiating. */
static void update_output_size(struct cr_relay *r)
{
	const struct cr_relay_config *c = r->cfg;
	uint32_t w = c->scale_w, h = c->scale_h;
	if (!w && c->has_crop) {
		w = c->crop.w;
		h = c->crop.h;
	}
	if (!w && r->have_format) {
		w = r->in_format.width;
		h = r->in_format.height;
	}
	if (!w)
		return;
	r->out_w = w;
	r->out_h = h;
	cr_pw_output_set_format(r->out, c->format, w, h, 1000);
}

static void on_input_error(void *data, const char *message)
{
	struct cr_relay *r = data;
	r->fatal(r->fatal_data, r->cfg->name, message);
}

static void on_input_format(void *data, const struct cr_video_format *format)
{
	struct cr_relay *r = data;
	r->in_format = *format;
	r->have_format = true;
	r->crop_warned = false;
	update_output_size(r);
	publish_props(r);
}

static void *on_input_import(void *data, const struct cr_dmabuf *buf)
{
	struct cr_relay *r = data;
	return cr_pipeline_import_dmabuf(r->pipe, buf);
}

static void on_input_release_import(void *data, void *handle)
{
	struct cr_relay *r = data;
	cr_pipeline_source_destroy(r->pipe, handle);
}

static bool choose_crop(struct cr_relay *r, const struct cr_pw_input_frame *f, struct cr_rect *crop)
{
	uint32_t w = f->format->width, h = f->format->height;
	if (!r->cfg->has_crop) {
		*crop = f->has_crop ? f->crop : (struct cr_rect){ 0, 0, w, h };
		return true;
	}
	/* The configured crop is in source pixels; clip it to what the source sends now. */
	struct cr_rect c = r->cfg->crop;
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

static struct job *take_job(struct cr_relay *r)
{
	for (unsigned i = 0; i < CR_PIPELINE_SLOTS; i++)
		if (!r->jobs[i].in_use)
			return &r->jobs[i];
	return NULL;
}

static void on_input_frame(void *data, const struct cr_pw_input_frame *f, void *token)
{
	struct cr_relay *r = data;
	struct cr_rect crop;
	struct job *job;
	/* Lazy: nobody watches the output, so no GPU work at all. */
	if (!cr_pw_output_streaming(r->out)) {
		r->dropped++;
		goto release;
	}
	if (!cr_pipeline_can_submit(r->pipe) || !(job = take_job(r)) || !choose_crop(r, f, &crop)) {
		r->dropped++;
		goto release;
	}
	struct cr_pipeline_frame in = {
		.format = f->format->info,
		.width = f->format->width,
		.height = f->format->height,
		.offset = f->offset,
		.stride = f->stride,
		.source = f->import,
		.data = f->data,
		.size = f->size,
		.crop = crop,
	};
	struct cr_pipeline_target out = { r->cfg->format, r->out_w, r->out_h };
	*job = (struct job){
		.in_use = true,
		.token = f->import ? token : NULL,
		.pts_ns = f->pts_ns,
		.has_pts = f->has_header,
	};
	if (!cr_pipeline_submit(r->pipe, &in, &out, job)) {
		job->in_use = false;
		r->dropped++;
		if (cr_pipeline_device_lost(r->pipe))
			r->fatal(r->fatal_data, r->cfg->name, "the Vulkan device was lost");
		goto release;
	}
	/* SHM pixels were copied at submit; only an imported DMA-BUF is held until done. */
	if (job->token)
		return;
release:
	cr_pw_input_release(r->in, token);
}

static void on_pipeline_done(void *job_data, const struct cr_pipeline_result *res, void *data)
{
	struct cr_relay *r = data;
	struct job *job = job_data;
	if (job->token)
		cr_pw_input_release(r->in, job->token);
	job->in_use = false;
	if (!res->ok) {
		r->dropped++;
		return;
	}
	r->gpu_sum_ns += res->gpu_ns;
	uint64_t pts = job->has_pts ? job->pts_ns : now_ns();
	if (!cr_pw_output_push(r->out, res->pixels, res->stride, r->out_h, pts)) {
		r->dropped++;
		return;
	}
	r->frames_out++;
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

static const struct cr_pw_input_events input_events = {
	.error = on_input_error,
	.format = on_input_format,
	.import = on_input_import,
	.release_import = on_input_release_import,
	.frame = on_input_frame,
};

struct cr_relay *cr_relay_create(struct pw_core *in_core, struct pw_core *out_core,
				 struct cr_vk_device *dev, const struct cr_relay_config *cfg,
				 cr_relay_fatal_fn fatal, void *data)
{
	struct cr_relay *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->cfg = cfg;
	r->fatal = fatal;
	r->fatal_data = data;
	r->loop = pw_context_get_main_loop(pw_core_get_context(in_core));
	r->pipe = cr_pipeline_create(dev, on_pipeline_done, r);
	if (!r->pipe)
		goto err_free;
	r->pipe_source = pw_loop_add_io(r->loop, cr_pipeline_get_fd(r->pipe), SPA_IO_IN, false,
					on_pipeline_fd, r);

	char node_name[128];
	snprintf(node_name, sizeof(node_name), "castrelay.%s", cfg->name);
	struct pw_properties *props = pw_properties_new(
		PW_KEY_MEDIA_CLASS, "Video/Source",
		PW_KEY_MEDIA_TYPE, "Video",
		PW_KEY_MEDIA_CATEGORY, "Capture",
		PW_KEY_NODE_NAME, node_name,
		"castrelay.source", cfg->source,
		NULL);
	pw_properties_setf(props, PW_KEY_NODE_DESCRIPTION, "castrelay %s (from %s)", cfg->name,
			   cfg->source);
	r->out = cr_pw_output_create(out_core, props);
	if (!r->out)
		goto err_pipe;

	char in_name[160];
	snprintf(in_name, sizeof(in_name), "castrelay.%s.input", cfg->name);
	r->in = cr_pw_input_create(in_core, cfg->source, in_name,
				   cfg->dmabuf && cr_pipeline_can_import_dmabuf(r->pipe),
				   &input_events, r);
	if (!r->in)
		goto err_out;
	update_output_size(r);
	publish_props(r);

	r->stats_timer = pw_loop_add_timer(r->loop, on_stats_timer, r);
	struct timespec interval = { 1, 0 };
	pw_loop_update_timer(r->loop, r->stats_timer, &interval, &interval, false);
	return r;

err_out:
	cr_pw_output_destroy(r->out);
err_pipe:
	pw_loop_destroy_source(r->loop, r->pipe_source);
	cr_pipeline_destroy(r->pipe);
err_free:
	free(r);
	return NULL;
}

void cr_relay_destroy(struct cr_relay *r)
{
	if (!r)
		return;
	pw_loop_destroy_source(r->loop, r->stats_timer);
	/* Unfinished jobs give their input buffers back before the input stream goes; the
	 * stream's remove_buffer then releases imports into a still living pipeline. */
	cr_pipeline_drain(r->pipe);
	cr_pw_input_destroy(r->in);
	cr_pw_output_destroy(r->out);
	pw_loop_destroy_source(r->loop, r->pipe_source);
	cr_pipeline_destroy(r->pipe);
	free(r);
}
