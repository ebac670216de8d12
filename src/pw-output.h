/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * The publishing side of a relay: a Video/Source node (DRIVER, ALLOC_BUFFERS) with MemFd
 * buffers allocated here, Header meta with pts and sequence numbers, optionally Cursor meta,
 * castrelay.* properties, and Props (live control) forwarded to the owner. Lazy:
 * cr_pw_output_streaming() is false while no consumer is linked, and the relay then does no
 * GPU work. Main-loop thread.
 */
#include <stdbool.h>
#include <stdint.h>

#include <pipewire/pipewire.h>

#include "core/color.h"
#include "core/dmabuf.h"

struct cr_pw_output;

/** A cursor to publish as SPA_META_Cursor, in output coordinates. */
struct cr_pw_output_cursor {
	bool visible;
	int32_t x, y;               /**< position */
	int32_t hotspot_x, hotspot_y;
	const void *pixels;         /**< bitmap, or NULL to keep the consumer's last one */
	uint32_t width, height, stride;
	uint32_t spa_format;        /**< SPA_VIDEO_FORMAT_RGBA / BGRA */
};

struct cr_pw_output_events {
	/**
	 * One key of a Props { params = [ key value ... ] } set on the node (pw-cli set-param),
	 * the value as text ("100", "embed", "1,2,3,4"). Return false to reject it (logged by
	 * the owner).
	 */
	void (*control)(void *data, const char *key, const char *value);
	/** Called after all keys of one set-param have been delivered. */
	void (*control_done)(void *data);
};

/**
 * Creates the node on @core (borrowed) with @props (taken; node.name etc.); @cursor_meta
 * offers SPA_META_Cursor. It is connected once the format is known
 * (cr_pw_output_set_format()). Returns NULL and logs on failure.
 */
struct cr_pw_output *cr_pw_output_create(struct pw_core *core, struct pw_properties *props,
					 bool cursor_meta,
					 const struct cr_pw_output_events *events, void *data);

/** Disconnects and frees. NULL is a no-op. */
void cr_pw_output_destroy(struct cr_pw_output *out);

/**
 * Sets the published format: connects the stream the first time, renegotiates when it
 * changes, does nothing when it is unchanged. Returns false on failure (logged).
 */
bool cr_pw_output_set_format(struct cr_pw_output *out, const struct cr_format_info *info,
			     uint32_t width, uint32_t height, uint32_t max_fps,
			     enum cr_color_matrix matrix, bool full_range);

/** True while a consumer is linked and buffers are negotiated. */
bool cr_pw_output_streaming(const struct cr_pw_output *out);

/**
 * Publishes one frame of @size bytes laid out as cr_format_plane_layout() says for the
 * current format: copies it into a free buffer, stamps pts/seq (and @cursor when Cursor meta
 * was negotiated; NULL: none visible) and triggers the graph. Returns false when no buffer is
 * free or the size does not match the negotiated format: the caller drops the frame.
 */
bool cr_pw_output_push(struct cr_pw_output *out, const void *frame, uint64_t size,
		       uint64_t pts_ns, const struct cr_pw_output_cursor *cursor);

/** Updates node properties (castrelay.* status); cheap to call about once a second. */
void cr_pw_output_update_props(struct cr_pw_output *out, const struct spa_dict *dict);
