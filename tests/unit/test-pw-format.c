/* SPDX-License-Identifier: MIT */
/* The pod builders and the parser: what castrelay offers is what it then accepts, the
 * DMA-BUF variant carries MANDATORY|DONT_FIXATE modifiers (one or several, in the given
 * order), the SHM variant none; the modifiers a peer's Format offers, in its order; Buffers
 * with a fixed or a ranged plane count. */
#include <drm_fourcc.h>
#include <spa/param/video/format-utils.h>
#include <spa/buffer/buffer.h>
#include <spa/pod/iter.h>

#include "pw-format.h"
#include "test.h"

static void test_enum_dmabuf(void)
{
	uint8_t buffer[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	const struct cr_format_info *info = cr_format_info_from_name("BGRx");
	uint64_t linear = DRM_FORMAT_MOD_LINEAR;
	struct spa_pod *pod = cr_pw_format_build_enum(&b, info, &linear, 1);
	if (!CHECK(pod != NULL))
		return;
	const struct spa_pod_prop *prop =
		spa_pod_find_prop(pod, NULL, SPA_FORMAT_VIDEO_modifier);
	if (!CHECK(prop != NULL))
		return;
	CHECK_EQ_HEX(prop->flags & (SPA_POD_PROP_FLAG_MANDATORY | SPA_POD_PROP_FLAG_DONT_FIXATE),
		     SPA_POD_PROP_FLAG_MANDATORY | SPA_POD_PROP_FLAG_DONT_FIXATE);
	uint32_t n_vals, choice;
	const struct spa_pod *vals = spa_pod_get_values(&prop->value, &n_vals, &choice);
	CHECK_EQ_INT(choice, SPA_CHOICE_Enum);
	CHECK_EQ_INT(n_vals, 2); /* default + one alternative */
	CHECK_EQ_INT(((const int64_t *)SPA_POD_BODY_CONST(vals))[0], 0);
	CHECK(spa_pod_find_prop(pod, NULL, SPA_FORMAT_VIDEO_format) != NULL);

	struct spa_pod *shm = cr_pw_format_build_enum(&b, info, NULL, 0);
	CHECK(shm != NULL && spa_pod_find_prop(shm, NULL, SPA_FORMAT_VIDEO_modifier) == NULL);
}

/* Several modifiers (a device's tiled ones before LINEAR): the first is the Enum's default,
 * every one follows in order; cr_pw_format_modifiers() reads them back once each. */
static void test_enum_modifiers(void)
{
	uint8_t buffer[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	const struct cr_format_info *info = cr_format_info_from_name("BGRA");
	const uint64_t mods[3] = { I915_FORMAT_MOD_Y_TILED, I915_FORMAT_MOD_X_TILED,
				   DRM_FORMAT_MOD_LINEAR };
	struct spa_pod *pod = cr_pw_format_build_enum(&b, info, mods, 3);
	if (!CHECK(pod != NULL))
		return;
	const struct spa_pod_prop *prop =
		spa_pod_find_prop(pod, NULL, SPA_FORMAT_VIDEO_modifier);
	if (!CHECK(prop != NULL))
		return;
	uint32_t n_vals, choice;
	const struct spa_pod *vals = spa_pod_get_values(&prop->value, &n_vals, &choice);
	CHECK_EQ_INT(choice, SPA_CHOICE_Enum);
	CHECK_EQ_INT(n_vals, 4);
	const int64_t *v = SPA_POD_BODY_CONST(vals);
	CHECK_EQ_HEX((uint64_t)v[0], I915_FORMAT_MOD_Y_TILED);
	CHECK_EQ_HEX((uint64_t)v[1], I915_FORMAT_MOD_Y_TILED);
	CHECK_EQ_HEX((uint64_t)v[2], I915_FORMAT_MOD_X_TILED);
	CHECK_EQ_HEX((uint64_t)v[3], DRM_FORMAT_MOD_LINEAR);

	uint64_t got[4] = { 0 };
	CHECK_EQ_UINT(cr_pw_format_modifiers(pod, got, 4), 3);
	CHECK_EQ_HEX(got[0], I915_FORMAT_MOD_Y_TILED);
	CHECK_EQ_HEX(got[1], I915_FORMAT_MOD_X_TILED);
	CHECK_EQ_HEX(got[2], DRM_FORMAT_MOD_LINEAR);
	/* room for fewer: the first ones */
	CHECK_EQ_UINT(cr_pw_format_modifiers(pod, got, 1), 1);
	CHECK_EQ_HEX(got[0], I915_FORMAT_MOD_Y_TILED);

	/* the producer's fixed Format: one modifier, no choice */
	struct spa_pod *fixed = cr_pw_format_build_fixed_dmabuf(&b, SPA_PARAM_Format, info, 64, 32,
								30, CR_COLOR_BT601, false,
								&mods[1], 1, true);
	CHECK(!cr_pw_format_needs_fixation(fixed));
	CHECK_EQ_UINT(cr_pw_format_modifiers(fixed, got, 4), 1);
	CHECK_EQ_HEX(got[0], I915_FORMAT_MOD_X_TILED);
	/* its offer before fixation: a DONT_FIXATE choice */
	struct spa_pod *offer = cr_pw_format_build_fixed_dmabuf(&b, SPA_PARAM_EnumFormat, info, 64,
								32, 30, CR_COLOR_BT601, false,
								mods, 3, false);
	CHECK(cr_pw_format_needs_fixation(offer));
	CHECK_EQ_UINT(cr_pw_format_modifiers(offer, got, 4), 3);
	CHECK_EQ_HEX(got[2], DRM_FORMAT_MOD_LINEAR);
	/* shared memory: none */
	struct spa_pod *shm = cr_pw_format_build_enum(&b, info, NULL, 0);
	CHECK_EQ_UINT(cr_pw_format_modifiers(shm, got, 4), 0);
}

static void test_fixed_roundtrip(void)
{
	uint8_t buffer[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	const char *names[] = { "BGRx", "RGBx", "BGRA", "RGBA", "NV12", "I420", "xRGB_210LE",
				"xBGR_210LE" };
	for (int i = 0; i < 8; i++) {
		const struct cr_format_info *info = cr_format_info_from_name(names[i]);
		b = (struct spa_pod_builder)SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
		bool full = i % 2;
		enum cr_color_matrix m = i == 5 ? CR_COLOR_BT601 : CR_COLOR_BT709;
		struct spa_pod *pod = cr_pw_format_build_fixed(&b, SPA_PARAM_Format, info, 640,
							       360, 60, m, full);
		struct cr_video_format f;
		char why[128];
		CHECK_MSG(cr_pw_format_parse(pod, &f, why, sizeof(why)), "%s: %s", names[i], why);
		CHECK(f.info == info);
		CHECK_EQ_INT(f.width, 640);
		CHECK_EQ_INT(f.height, 360);
		CHECK(!f.has_modifier);
		/* The colour the kernel used is announced for YUV, and only there. */
		CHECK_EQ_INT(f.has_color, info->is_yuv);
		if (info->is_yuv) {
			CHECK_EQ_INT(f.matrix, m);
			CHECK_EQ_INT(f.full_range, full);
		}
	}
}

/* The 10-bit formats by their SPA names: SPA's xRGB_210LE is DRM's XRGB2101010 (both name
 * the 32-bit word from its top bits), not its byte-reversed RGBx_102LE. */
static void test_spa_map(void)
{
	CHECK_EQ_INT(cr_pw_format_to_spa(cr_format_info_from_name("xRGB_210LE")),
		     SPA_VIDEO_FORMAT_xRGB_210LE);
	CHECK_EQ_INT(cr_pw_format_to_spa(cr_format_info_from_name("xBGR_210LE")),
		     SPA_VIDEO_FORMAT_xBGR_210LE);
	CHECK_EQ_HEX(cr_pw_format_from_spa(SPA_VIDEO_FORMAT_xRGB_210LE)->fourcc,
		     DRM_FORMAT_XRGB2101010);
	CHECK_EQ_HEX(cr_pw_format_from_spa(SPA_VIDEO_FORMAT_xBGR_210LE)->fourcc,
		     DRM_FORMAT_XBGR2101010);
	CHECK(cr_pw_format_from_spa(SPA_VIDEO_FORMAT_RGBx_102LE) == NULL);
	CHECK(cr_pw_format_from_spa(SPA_VIDEO_FORMAT_ARGB_210LE) == NULL);
}

static void test_parse_rejects(void)
{
	uint8_t buffer[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	struct spa_pod *pod = spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_Format,
		SPA_PARAM_Format,
		SPA_FORMAT_mediaType, SPA_POD_Id(SPA_MEDIA_TYPE_video),
		SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw),
		SPA_FORMAT_VIDEO_format, SPA_POD_Id(SPA_VIDEO_FORMAT_YUY2),
		SPA_FORMAT_VIDEO_size, SPA_POD_Rectangle(&SPA_RECTANGLE(320, 240)));
	struct cr_video_format f;
	char why[128];
	CHECK(!cr_pw_format_parse(pod, &f, why, sizeof(why)));
	CHECK_MSG(strstr(why, "unsupported video format") != NULL, "%s", why);

	pod = spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_Format, SPA_PARAM_Format,
		SPA_FORMAT_mediaType, SPA_POD_Id(SPA_MEDIA_TYPE_audio),
		SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw));
	CHECK(!cr_pw_format_parse(pod, &f, why, sizeof(why)));
	CHECK_MSG(strstr(why, "not raw video") != NULL, "%s", why);
}

static void test_buffers(void)
{
	uint8_t buffer[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	struct spa_pod *dmabuf = cr_pw_format_build_buffers(&b, true, 1, 4, 0, 0);
	int32_t blocks = 0, data_type = 0;
	CHECK(spa_pod_parse_object(dmabuf, SPA_TYPE_OBJECT_ParamBuffers, NULL,
				   SPA_PARAM_BUFFERS_blocks, SPA_POD_Int(&blocks)) >= 0);
	CHECK_EQ_INT(blocks, 1);
	const struct spa_pod_prop *p = spa_pod_find_prop(dmabuf, NULL, SPA_PARAM_BUFFERS_dataType);
	if (CHECK(p != NULL)) {
		uint32_t n, choice;
		const struct spa_pod *v = spa_pod_get_values(&p->value, &n, &choice);
		data_type = *(const int32_t *)SPA_POD_BODY_CONST(v);
		CHECK_EQ_HEX(data_type, 1 << SPA_DATA_DmaBuf);
	}
	/* A consumer leaves size and stride to the producer. */
	struct spa_pod *shm = cr_pw_format_build_buffers(&b, false, 1, 4, 0, 0);
	CHECK(spa_pod_find_prop(shm, NULL, SPA_PARAM_BUFFERS_stride) == NULL);
	struct spa_pod *out = cr_pw_format_build_buffers(&b, false, 1, 4, 4096, 64);
	int32_t stride = 0;
	CHECK(spa_pod_parse_object(out, SPA_TYPE_OBJECT_ParamBuffers, NULL,
				   SPA_PARAM_BUFFERS_stride, SPA_POD_Int(&stride)) >= 0);
	CHECK_EQ_INT(stride, 64);

	/* A non-LINEAR modifier: the producer decides the memory planes, 1 to 4. */
	struct spa_pod *range = cr_pw_format_build_buffers_dmabuf(&b, 1, 4, 4, false);
	p = spa_pod_find_prop(range, NULL, SPA_PARAM_BUFFERS_blocks);
	if (CHECK(p != NULL)) {
		uint32_t n, choice;
		const struct spa_pod *v = spa_pod_get_values(&p->value, &n, &choice);
		CHECK_EQ_INT(choice, SPA_CHOICE_Range);
		CHECK_EQ_INT(n, 3);
		const int32_t *r = SPA_POD_BODY_CONST(v);
		CHECK_EQ_INT(r[0], 1);
		CHECK_EQ_INT(r[1], 1);
		CHECK_EQ_INT(r[2], 4);
	}
	CHECK(spa_pod_find_prop(range, NULL, SPA_PARAM_BUFFERS_metaType) == NULL);
	/* the same with explicit sync: two syncobj blocks more */
	struct spa_pod *range_sync = cr_pw_format_build_buffers_dmabuf(&b, 1, 4, 4, true);
	p = spa_pod_find_prop(range_sync, NULL, SPA_PARAM_BUFFERS_blocks);
	if (CHECK(p != NULL)) {
		uint32_t n, choice;
		const struct spa_pod *v = spa_pod_get_values(&p->value, &n, &choice);
		const int32_t *r = SPA_POD_BODY_CONST(v);
		CHECK_EQ_INT(choice, SPA_CHOICE_Range);
		CHECK_EQ_INT(r[0], 3);
		CHECK_EQ_INT(r[1], 3);
		CHECK_EQ_INT(r[2], 6);
	}
	p = spa_pod_find_prop(range_sync, NULL, SPA_PARAM_BUFFERS_metaType);
	CHECK(p != NULL && (p->flags & SPA_POD_PROP_FLAG_MANDATORY));
	/* the same plane count at both ends: a fixed value */
	struct spa_pod *two = cr_pw_format_build_buffers_dmabuf(&b, 2, 2, 4, false);
	blocks = 0;
	CHECK(spa_pod_parse_object(two, SPA_TYPE_OBJECT_ParamBuffers, NULL,
				   SPA_PARAM_BUFFERS_blocks, SPA_POD_Int(&blocks)) >= 0);
	CHECK_EQ_INT(blocks, 2);
}

/* The explicit-sync variant: planes + 2 blocks, DMA-BUF only, and a MANDATORY metaType of
 * SyncTimeline, so that PipeWire picks it exactly when both sides offered that meta. */
static void test_buffers_sync(void)
{
	uint8_t buffer[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	struct spa_pod *sync = cr_pw_format_build_buffers_sync(&b, 2, 4);
	int32_t blocks = 0, meta_type = 0;
	CHECK(spa_pod_parse_object(sync, SPA_TYPE_OBJECT_ParamBuffers, NULL,
				   SPA_PARAM_BUFFERS_blocks, SPA_POD_Int(&blocks),
				   SPA_PARAM_BUFFERS_metaType, SPA_POD_Int(&meta_type)) >= 0);
	CHECK_EQ_INT(blocks, 4);
	CHECK_EQ_HEX(meta_type, 1 << SPA_META_SyncTimeline);
	const struct spa_pod_prop *p = spa_pod_find_prop(sync, NULL, SPA_PARAM_BUFFERS_metaType);
	if (CHECK(p != NULL))
		CHECK(p->flags & SPA_POD_PROP_FLAG_MANDATORY);
	p = spa_pod_find_prop(sync, NULL, SPA_PARAM_BUFFERS_dataType);
	if (CHECK(p != NULL)) {
		uint32_t n, choice;
		const struct spa_pod *v = spa_pod_get_values(&p->value, &n, &choice);
		CHECK_EQ_HEX(*(const int32_t *)SPA_POD_BODY_CONST(v), 1 << SPA_DATA_DmaBuf);
	}
}

int main(void)
{
	test_enum_dmabuf();
	test_enum_modifiers();
	test_fixed_roundtrip();
	test_spa_map();
	test_parse_rejects();
	test_buffers();
	test_buffers_sync();
	return cr_test_result();
}
