/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Pure SPA pod builders and parsers for castrelay's streams: no stream state, no I/O, so they
 * are unit-tested directly. Formats are named by DRM fourcc on castrelay's side (see
 * src/core/dmabuf.h); this file maps them to and from SPA video formats.
 */
#include <stdbool.h>
#include <stdint.h>

#include <spa/param/video/raw.h>
#include <spa/pod/builder.h>
#include <spa/pod/pod.h>

#include "core/color.h"
#include "core/dmabuf.h"

struct cr_video_format {
	const struct cr_format_info *info;
	uint32_t width, height;
	bool has_modifier;
	uint64_t modifier;
	uint32_t framerate_num, framerate_denom; /**< 0/1 when variable or unknown */
	bool has_color;                          /**< colour matrix/range were given */
	enum cr_color_matrix matrix;
	bool full_range;
};

/** The SPA video format of @info. */
enum spa_video_format cr_pw_format_to_spa(const struct cr_format_info *info);

/** The castrelay format for SPA video format @format, or NULL. */
const struct cr_format_info *cr_pw_format_from_spa(uint32_t format);

/**
 * Builds the consumer's EnumFormat for @info: with @modifiers (n > 0) a DMA-BUF variant whose
 * modifier property is MANDATORY|DONT_FIXATE, else the SHM variant without modifier. Any size
 * and frame rate. Returns the pod inside @b, or NULL when @b overflowed.
 */
struct spa_pod *cr_pw_format_build_enum(struct spa_pod_builder *b, const struct cr_format_info *info,
					const uint64_t *modifiers, uint32_t n_modifiers);

/**
 * Builds a fixed Format / EnumFormat for the producer side: @info at @width x @height, frame
 * rate 0/1 (variable, driven by the input) with max @max_fps; for YUV formats also the colour
 * matrix and range that the kernel used. Returns NULL on overflow.
 */
struct spa_pod *cr_pw_format_build_fixed(struct spa_pod_builder *b, uint32_t id,
					 const struct cr_format_info *info, uint32_t width,
					 uint32_t height, uint32_t max_fps,
					 enum cr_color_matrix matrix, bool full_range);

/**
 * The same with a DMA-BUF modifier property (MANDATORY): @n_modifiers > 1 or !@fixated
 * offers a choice flagged DONT_FIXATE (the producer fixates after the consumer chose, as in
 * PipeWire's video-src-fixate example); @fixated with one modifier states the chosen one.
 */
struct spa_pod *cr_pw_format_build_fixed_dmabuf(struct spa_pod_builder *b, uint32_t id,
						const struct cr_format_info *info, uint32_t width,
						uint32_t height, uint32_t max_fps,
						enum cr_color_matrix matrix, bool full_range,
						const uint64_t *modifiers, uint32_t n_modifiers,
						bool fixated);

/** True when @param's modifier is still an unfixated choice (DONT_FIXATE). */
bool cr_pw_format_needs_fixation(const struct spa_pod *param);

/**
 * Parses a negotiated Format param. Returns false and writes a reason into @why when it is not
 * raw video in a format castrelay handles, has no size, or has a modifier that is no Long.
 */
bool cr_pw_format_parse(const struct spa_pod *param, struct cr_video_format *out, char *why,
			size_t why_len);

/**
 * Builds the explicit-sync variant of the DMA-BUF Buffers param (PipeWire's dma-buf.dox):
 * blocks = @n_planes + 2 (the acquire and release syncobjs follow the planes), with a
 * MANDATORY metaType of SPA_META_SyncTimeline so that it applies exactly when both sides
 * offered that meta. Offer it before the plain variant, with a SyncTimeline Meta param.
 */
struct spa_pod *cr_pw_format_build_buffers_sync(struct spa_pod_builder *b, uint32_t n_planes,
						uint32_t buffers);

/**
 * Builds a DMA-BUF Buffers param whose blocks are the planes: @n_planes, or with @max_planes
 * above it a range @n_planes..@max_planes (default @n_planes) for modifiers whose memory
 * plane count only the producer knows (compressed layouts add aux planes). @sync: the
 * explicit-sync variant of cr_pw_format_build_buffers_sync(), 2 more blocks.
 */
struct spa_pod *cr_pw_format_build_buffers_dmabuf(struct spa_pod_builder *b, uint32_t n_planes,
						  uint32_t max_planes, uint32_t buffers,
						  bool sync);

/**
 * The modifiers of a Format or EnumFormat @param's modifier property, in its order (a
 * choice's default first, each value once), into @modifiers (room for @max). Returns the
 * count; 0 when there is no modifier property.
 */
uint32_t cr_pw_format_modifiers(const struct spa_pod *param, uint64_t *modifiers, uint32_t max);

/**
 * Builds the Buffers param for a negotiated format: DMA-BUF (blocks = planes) when @dmabuf,
 * else MemFd|MemPtr with @size / @stride (both omitted when @size is 0, as a consumer that
 * accepts the producer's padding does); @buffers wanted (min 2).
 */
struct spa_pod *cr_pw_format_build_buffers(struct spa_pod_builder *b, bool dmabuf,
					   uint32_t n_planes, uint32_t buffers, uint32_t size,
					   uint32_t stride);

/** Builds a Meta param for @type (SPA_META_*) of @size bytes. */
struct spa_pod *cr_pw_format_build_meta(struct spa_pod_builder *b, uint32_t type, uint32_t size);

/**
 * Builds a Meta param for @type accepting any size in @min..@max (default @def). PipeWire keeps
 * a meta only when both sides' sizes intersect, and producers fix theirs (a cursor meta sized
 * for 32x32, 64x64 or 384x384 bitmaps), so a consumer offers a range.
 */
struct spa_pod *cr_pw_format_build_meta_range(struct spa_pod_builder *b, uint32_t type,
					      uint32_t def, uint32_t min, uint32_t max);

/**
 * Reads a Props @param's params struct, [ key value ... ] (the SPA_PROP_params convention of
 * PipeWire's filter-chain, what `pw-cli set-param NODE Props '{ params = [ ... ] }'` sends):
 * calls @key_value with each key and its value as text (Int and Long in decimal, Float and
 * Double as "%g", Bool as "1"/"0", String as is, at most 511 bytes; other types as
 * "(unsupported type N)"), in order, until the first pair that is not a string followed by a
 * pod. Both strings are valid during the call only. Returns the number of pairs, -EINVAL when
 * @param has no params struct, -EPROTO when that struct cannot be entered.
 */
int cr_pw_format_parse_props(const struct spa_pod *param,
			     void (*key_value)(void *data, const char *key, const char *value),
			     void *data);
