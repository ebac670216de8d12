/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * The publishing side of a relay: a Video/Source node (DRIVER, ALLOC_BUFFERS) with MemFd
 * buffers allocated here, a Header meta with pts and sequence numbers, and castrelay.*
 * properties. Lazy: cr_pw_output_streaming() is false while no consumer is linked, and the
 * relay then does no GPU work. Main-loop thread.
 */
#include <stdbool.h>
#include <stdint.h>

#include <pipewire/pipewire.h>

#include "core/dmabuf.h"

struct cr_pw_output;

/**
 * Creates the node on @core (borrowed) with @props (taken; node.name etc.); it is connected
 * once the format is known (cr_pw_output_set_format()). Returns NULL and logs on failure.
 */
struct cr_pw_output *cr_pw_output_create(struct pw_core *core, struct pw_properties *props);

/** Disconnects and frees. NULL is a no-op. */
void cr_pw_output_destroy(struct cr_pw_output *out);

/**
 * Sets the published format: connects the stream the first time, renegotiates when it
 * changes, does nothing when it is unchanged. Returns false on failure (logged).
 */
bool cr_pw_output_set_format(struct cr_pw_output *out, const struct cr_format_info *info,
			     uint32_t width, uint32_t height, uint32_t max_fps);

/** True while a consumer is linked and buffers are negotiated. */
bool cr_pw_output_streaming(const struct cr_pw_output *out);

/**
 * Publishes one frame: copies @height rows of @stride bytes from @pixels into a free buffer,
 * stamps pts/seq and triggers the graph. Returns false when no buffer is free (the consumer is
 * behind): the frame is dropped by the caller.
 */
bool cr_pw_output_push(struct cr_pw_output *out, const void *pixels, uint32_t stride,
		       uint32_t height, uint64_t pts_ns);

/** Updates node properties (castrelay.* status); cheap to call about once a second. */
void cr_pw_output_update_props(struct cr_pw_output *out, const struct spa_dict *dict);

/** The node's id in the graph, or SPA_ID_INVALID before it is exported. */
uint32_t cr_pw_output_node_id(const struct cr_pw_output *out);
