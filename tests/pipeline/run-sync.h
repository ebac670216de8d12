/* SPDX-License-Identifier: MIT */
#pragma once
/* Runs pipeline jobs to completion for tests and benchmarks: submit, poll the completion fd
 * (as the daemon's loop does), dispatch, copy the result out. */
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "pipeline.h"

struct run_sync_result {
	bool called, ok;
	void *pixels; /* caller's buffer of the target's cr_format_plane_layout() size */
	uint64_t gpu_ns;
};

static void run_sync_done(void *job_data, const struct cr_pipeline_result *res, void *data)
{
	struct run_sync_result *r = job_data;
	r->called = true;
	r->ok = res->ok;
	r->gpu_ns = res->gpu_ns;
	if (res->ok && r->pixels)
		memcpy(r->pixels, res->pixels, res->layout.size);
}

/* Returns false when the submission failed or no result came within @timeout_ms. */
static inline bool run_sync_within(struct cr_pipeline *pipe, const struct cr_pipeline_frame *in,
				   const struct cr_pipeline_target *out, struct run_sync_result *r,
				   int timeout_ms)
{
	r->called = false;
	if (!cr_pipeline_submit(pipe, in, out, r))
		return false;
	struct pollfd pfd = { .fd = cr_pipeline_get_fd(pipe), .events = POLLIN };
	while (!r->called) {
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return false;
		cr_pipeline_dispatch(pipe);
	}
	return r->ok;
}

/* run_sync_within() 10 s. */
static inline bool run_sync(struct cr_pipeline *pipe, const struct cr_pipeline_frame *in,
			    const struct cr_pipeline_target *out, struct run_sync_result *r)
{
	return run_sync_within(pipe, in, out, r, 10000);
}
