/* SPDX-License-Identifier: MIT */
#include "pw-format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <spa/buffer/buffer.h>
#include <spa/param/buffers.h>
#include <spa/param/format-utils.h>
#include <spa/param/param.h>
#include <spa/param/props.h>
#include <spa/param/video/format-utils.h>
#include <spa/pod/builder.h>
#include <spa/pod/iter.h>
#include <spa/pod/parser.h>
#include <spa/utils/defs.h>

#include <drm_fourcc.h>

static const struct {
	uint32_t fourcc;
	enum spa_video_format spa;
} spa_map[] = {
	{ DRM_FORMAT_XRGB8888, SPA_VIDEO_FORMAT_BGRx },
	{ DRM_FORMAT_XBGR8888, SPA_VIDEO_FORMAT_RGBx },
	{ DRM_FORMAT_ARGB8888, SPA_VIDEO_FORMAT_BGRA },
	{ DRM_FORMAT_ABGR8888, SPA_VIDEO_FORMAT_RGBA },
	{ DRM_FORMAT_XRGB2101010, SPA_VIDEO_FORMAT_xRGB_210LE },
	{ DRM_FORMAT_XBGR2101010, SPA_VIDEO_FORMAT_xBGR_210LE },
	{ DRM_FORMAT_NV12, SPA_VIDEO_FORMAT_NV12 },
	{ DRM_FORMAT_YUV420, SPA_VIDEO_FORMAT_I420 },
};

enum spa_video_format cr_pw_format_to_spa(const struct cr_format_info *info)
{
	for (size_t i = 0; i < SPA_N_ELEMENTS(spa_map); i++)
		if (spa_map[i].fourcc == info->fourcc)
			return spa_map[i].spa;
	return SPA_VIDEO_FORMAT_UNKNOWN;
}

const struct cr_format_info *cr_pw_format_from_spa(uint32_t format)
{
	for (size_t i = 0; i < SPA_N_ELEMENTS(spa_map); i++)
		if (spa_map[i].spa == format)
			return cr_format_info_from_fourcc(spa_map[i].fourcc);
	return NULL;
}

/*
 * The values of @p (a Choice's alternatives, or the value itself) and their count.
 * spa_pod_get_values() trusts a Choice to hold its header: one whose size is less (a peer's
 * pod, found by fuzzing) would give a count near 2^32 and reads past the pod. NULL for such a
 * Choice.
 */
static const struct spa_pod *prop_values(const struct spa_pod_prop *p, uint32_t *n_vals)
{
	uint32_t choice;
	if (SPA_POD_TYPE(&p->value) == SPA_TYPE_Choice && !spa_pod_is_choice(&p->value))
		return NULL;
	return spa_pod_get_values(&p->value, n_vals, &choice);
}

struct spa_pod *cr_pw_format_build_enum(struct spa_pod_builder *b, const struct cr_format_info *info,
					const uint64_t *modifiers, uint32_t n_modifiers)
{
	struct spa_pod_frame f[2];
	spa_pod_builder_push_object(b, &f[0], SPA_TYPE_OBJECT_Format, SPA_PARAM_EnumFormat);
	spa_pod_builder_add(b,
		SPA_FORMAT_mediaType, SPA_POD_Id(SPA_MEDIA_TYPE_video),
		SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw),
		SPA_FORMAT_VIDEO_format, SPA_POD_Id(cr_pw_format_to_spa(info)),
		0);
	if (n_modifiers > 0) {
		spa_pod_builder_prop(b, SPA_FORMAT_VIDEO_modifier,
				     SPA_POD_PROP_FLAG_MANDATORY | SPA_POD_PROP_FLAG_DONT_FIXATE);
		spa_pod_builder_push_choice(b, &f[1], SPA_CHOICE_Enum, 0);
		spa_pod_builder_long(b, (int64_t)modifiers[0]);
		for (uint32_t i = 0; i < n_modifiers; i++)
			spa_pod_builder_long(b, (int64_t)modifiers[i]);
		spa_pod_builder_pop(b, &f[1]);
	}
	spa_pod_builder_add(b,
		SPA_FORMAT_VIDEO_size, SPA_POD_CHOICE_RANGE_Rectangle(
			&SPA_RECTANGLE(1920, 1080), &SPA_RECTANGLE(1, 1), &SPA_RECTANGLE(16384, 16384)),
		SPA_FORMAT_VIDEO_framerate, SPA_POD_CHOICE_RANGE_Fraction(
			&SPA_FRACTION(30, 1), &SPA_FRACTION(0, 1), &SPA_FRACTION(1000, 1)),
		0);
	return spa_pod_builder_pop(b, &f[0]);
}

struct spa_pod *cr_pw_format_build_fixed(struct spa_pod_builder *b, uint32_t id,
					 const struct cr_format_info *info, uint32_t width,
					 uint32_t height, uint32_t max_fps,
					 enum cr_color_matrix matrix, bool full_range)
{
	return cr_pw_format_build_fixed_dmabuf(b, id, info, width, height, max_fps, matrix,
					       full_range, NULL, 0, false);
}

bool cr_pw_format_needs_fixation(const struct spa_pod *param)
{
	const struct spa_pod_prop *p = spa_pod_find_prop(param, NULL, SPA_FORMAT_VIDEO_modifier);
	return p && (p->flags & SPA_POD_PROP_FLAG_DONT_FIXATE);
}

struct spa_pod *cr_pw_format_build_fixed_dmabuf(struct spa_pod_builder *b, uint32_t id,
						const struct cr_format_info *info, uint32_t width,
						uint32_t height, uint32_t max_fps,
						enum cr_color_matrix matrix, bool full_range,
						const uint64_t *modifiers, uint32_t n_modifiers,
						bool fixated)
{
	struct spa_pod_frame f, c;
	spa_pod_builder_push_object(b, &f, SPA_TYPE_OBJECT_Format, id);
	spa_pod_builder_add(b,
		SPA_FORMAT_mediaType, SPA_POD_Id(SPA_MEDIA_TYPE_video),
		SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw),
		SPA_FORMAT_VIDEO_format, SPA_POD_Id(cr_pw_format_to_spa(info)),
		SPA_FORMAT_VIDEO_size, SPA_POD_Rectangle(&SPA_RECTANGLE(width, height)),
		SPA_FORMAT_VIDEO_framerate, SPA_POD_Fraction(&SPA_FRACTION(0, 1)),
		SPA_FORMAT_VIDEO_maxFramerate, SPA_POD_CHOICE_RANGE_Fraction(
			&SPA_FRACTION(max_fps, 1), &SPA_FRACTION(1, 1), &SPA_FRACTION(max_fps, 1)),
		0);
	if (n_modifiers == 1 && fixated) {
		spa_pod_builder_prop(b, SPA_FORMAT_VIDEO_modifier, SPA_POD_PROP_FLAG_MANDATORY);
		spa_pod_builder_long(b, (int64_t)modifiers[0]);
	} else if (n_modifiers > 0) {
		spa_pod_builder_prop(b, SPA_FORMAT_VIDEO_modifier,
				     SPA_POD_PROP_FLAG_MANDATORY | SPA_POD_PROP_FLAG_DONT_FIXATE);
		spa_pod_builder_push_choice(b, &c, SPA_CHOICE_Enum, 0);
		spa_pod_builder_long(b, (int64_t)modifiers[0]);
		for (uint32_t i = 0; i < n_modifiers; i++)
			spa_pod_builder_long(b, (int64_t)modifiers[i]);
		spa_pod_builder_pop(b, &c);
	}
	if (info->is_yuv)
		spa_pod_builder_add(b,
			SPA_FORMAT_VIDEO_colorMatrix, SPA_POD_Id(matrix == CR_COLOR_BT709
				? SPA_VIDEO_COLOR_MATRIX_BT709 : SPA_VIDEO_COLOR_MATRIX_BT601),
			SPA_FORMAT_VIDEO_colorRange, SPA_POD_Id(full_range
				? SPA_VIDEO_COLOR_RANGE_0_255 : SPA_VIDEO_COLOR_RANGE_16_235),
			0);
	return spa_pod_builder_pop(b, &f);
}

bool cr_pw_format_parse(const struct spa_pod *param, struct cr_video_format *out, char *why,
			size_t why_len)
{
	uint32_t media_type, media_subtype;
	if (spa_format_parse(param, &media_type, &media_subtype) < 0 ||
	    media_type != SPA_MEDIA_TYPE_video || media_subtype != SPA_MEDIA_SUBTYPE_raw) {
		snprintf(why, why_len, "not raw video");
		return false;
	}
	struct spa_video_info_raw raw = { 0 };
	if (spa_format_video_raw_parse(param, &raw) < 0) {
		snprintf(why, why_len, "unparsable raw video format");
		return false;
	}
	*out = (struct cr_video_format){ 0 };
	out->info = cr_pw_format_from_spa(raw.format);
	if (!out->info) {
		snprintf(why, why_len, "unsupported video format %u (accepted: %s)", raw.format,
			 cr_format_names());
		return false;
	}
	if (raw.size.width == 0 || raw.size.height == 0) {
		snprintf(why, why_len, "no frame size");
		return false;
	}
	out->width = raw.size.width;
	out->height = raw.size.height;
	/* SPA's parser skips a property of the wrong type: a modifier that is no Long would read
	 * as 0, which is LINEAR. */
	const struct spa_pod_prop *mod = spa_pod_find_prop(param, NULL, SPA_FORMAT_VIDEO_modifier);
	uint32_t n_mods;
	const struct spa_pod *mods = mod ? prop_values(mod, &n_mods) : NULL;
	if (mod && (!mods || !spa_pod_is_long(mods))) {
		snprintf(why, why_len, "the modifier is not a 64-bit integer (type %u)",
			 mods ? SPA_POD_TYPE(mods) : SPA_POD_TYPE(&mod->value));
		return false;
	}
	out->has_modifier = mod != NULL;
	out->modifier = raw.modifier;
	out->framerate_num = raw.framerate.num;
	out->framerate_denom = raw.framerate.denom ? raw.framerate.denom : 1;
	out->has_color = raw.color_matrix != SPA_VIDEO_COLOR_MATRIX_UNKNOWN;
	out->matrix = raw.color_matrix == SPA_VIDEO_COLOR_MATRIX_BT709 ? CR_COLOR_BT709
								       : CR_COLOR_BT601;
	out->full_range = raw.color_range == SPA_VIDEO_COLOR_RANGE_0_255;
	return true;
}

struct spa_pod *cr_pw_format_build_buffers(struct spa_pod_builder *b, bool dmabuf,
					   uint32_t n_planes, uint32_t buffers, uint32_t size,
					   uint32_t stride)
{
	if (dmabuf)
		return cr_pw_format_build_buffers_dmabuf(b, n_planes, n_planes, buffers, false);
	struct spa_pod_frame f;
	spa_pod_builder_push_object(b, &f, SPA_TYPE_OBJECT_ParamBuffers, SPA_PARAM_Buffers);
	spa_pod_builder_add(b,
		SPA_PARAM_BUFFERS_buffers, SPA_POD_CHOICE_RANGE_Int(buffers, 2, 16),
		SPA_PARAM_BUFFERS_blocks, SPA_POD_Int(1),
		SPA_PARAM_BUFFERS_dataType,
		SPA_POD_CHOICE_FLAGS_Int((1 << SPA_DATA_MemFd) | (1 << SPA_DATA_MemPtr)),
		0);
	/* A consumer leaves size and stride to the producer, who may pad rows. */
	if (size > 0)
		spa_pod_builder_add(b,
			SPA_PARAM_BUFFERS_size, SPA_POD_Int(size),
			SPA_PARAM_BUFFERS_stride, SPA_POD_Int(stride),
			0);
	return spa_pod_builder_pop(b, &f);
}

struct spa_pod *cr_pw_format_build_buffers_sync(struct spa_pod_builder *b, uint32_t n_planes,
						uint32_t buffers)
{
	return cr_pw_format_build_buffers_dmabuf(b, n_planes, n_planes, buffers, true);
}

struct spa_pod *cr_pw_format_build_buffers_dmabuf(struct spa_pod_builder *b, uint32_t n_planes,
						  uint32_t max_planes, uint32_t buffers,
						  bool sync)
{
	uint32_t extra = sync ? 2 : 0;
	struct spa_pod_frame f;
	spa_pod_builder_push_object(b, &f, SPA_TYPE_OBJECT_ParamBuffers, SPA_PARAM_Buffers);
	spa_pod_builder_add(b,
		SPA_PARAM_BUFFERS_buffers, SPA_POD_CHOICE_RANGE_Int(buffers, 2, 16),
		SPA_PARAM_BUFFERS_dataType, SPA_POD_CHOICE_FLAGS_Int(1 << SPA_DATA_DmaBuf),
		0);
	if (max_planes > n_planes)
		spa_pod_builder_add(b, SPA_PARAM_BUFFERS_blocks,
			SPA_POD_CHOICE_RANGE_Int(n_planes + extra, n_planes + extra,
						 max_planes + extra), 0);
	else
		spa_pod_builder_add(b, SPA_PARAM_BUFFERS_blocks, SPA_POD_Int(n_planes + extra), 0);
	if (sync) {
		/* Mandatory: this layout applies exactly when SyncTimeline meta was negotiated. */
		spa_pod_builder_prop(b, SPA_PARAM_BUFFERS_metaType, SPA_POD_PROP_FLAG_MANDATORY);
		spa_pod_builder_int(b, 1 << SPA_META_SyncTimeline);
	}
	return spa_pod_builder_pop(b, &f);
}

uint32_t cr_pw_format_modifiers(const struct spa_pod *param, uint64_t *modifiers, uint32_t max)
{
	const struct spa_pod_prop *p = spa_pod_find_prop(param, NULL, SPA_FORMAT_VIDEO_modifier);
	uint32_t n_vals, n = 0;
	const struct spa_pod *vals = p ? prop_values(p, &n_vals) : NULL;
	if (!vals || !spa_pod_is_long(vals))
		return 0;
	/* An Enum's first value is its default, usually repeated among the alternatives. The
	 * values lie vals->size bytes apart, not necessarily aligned: read them as bytes. */
	const uint8_t *v = SPA_POD_BODY_CONST(vals);
	for (uint32_t i = 0; i < n_vals && n < max; i++) {
		uint64_t mod;
		memcpy(&mod, v + (size_t)i * vals->size, sizeof(mod));
		bool seen = false;
		for (uint32_t k = 0; k < n && !seen; k++)
			seen = modifiers[k] == mod;
		if (!seen)
			modifiers[n++] = mod;
	}
	return n;
}

struct spa_pod *cr_pw_format_build_meta(struct spa_pod_builder *b, uint32_t type, uint32_t size)
{
	return spa_pod_builder_add_object(b, SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
		SPA_PARAM_META_type, SPA_POD_Id(type),
		SPA_PARAM_META_size, SPA_POD_Int(size));
}

struct spa_pod *cr_pw_format_build_meta_range(struct spa_pod_builder *b, uint32_t type,
					      uint32_t def, uint32_t min, uint32_t max)
{
	return spa_pod_builder_add_object(b, SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
		SPA_PARAM_META_type, SPA_POD_Id(type),
		SPA_PARAM_META_size, SPA_POD_CHOICE_RANGE_Int(def, min, max));
}

int cr_pw_format_parse_props(const struct spa_pod *param,
			     void (*key_value)(void *data, const char *key, const char *value),
			     void *data)
{
	const struct spa_pod_prop *prop = spa_pod_find_prop(param, NULL, SPA_PROP_params);
	if (!prop || !spa_pod_is_struct(&prop->value))
		return -EINVAL;
	struct spa_pod_parser prs;
	struct spa_pod_frame f;
	spa_pod_parser_pod(&prs, &prop->value);
	if (spa_pod_parser_push_struct(&prs, &f) < 0)
		return -EPROTO;
	int n = 0;
	for (;;) {
		const char *key;
		struct spa_pod *pod;
		char value[512];
		if (spa_pod_parser_get_string(&prs, &key) < 0 ||
		    spa_pod_parser_get_pod(&prs, &pod) < 0)
			break;
		int32_t i;
		int64_t l;
		float fl;
		double d;
		bool b;
		const char *str;
		if (spa_pod_get_int(pod, &i) == 0)
			snprintf(value, sizeof(value), "%" PRId32, i);
		else if (spa_pod_get_long(pod, &l) == 0)
			snprintf(value, sizeof(value), "%" PRId64, l);
		else if (spa_pod_get_float(pod, &fl) == 0)
			snprintf(value, sizeof(value), "%g", (double)fl);
		else if (spa_pod_get_double(pod, &d) == 0)
			snprintf(value, sizeof(value), "%g", d);
		else if (spa_pod_get_bool(pod, &b) == 0)
			snprintf(value, sizeof(value), "%s", b ? "1" : "0");
		else if (spa_pod_get_string(pod, &str) == 0)
			snprintf(value, sizeof(value), "%s", str);
		else
			snprintf(value, sizeof(value), "(unsupported type %u)", SPA_POD_TYPE(pod));
		key_value(data, key, value);
		n++;
	}
	return n;
}
