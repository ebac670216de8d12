/* SPDX-License-Identifier: MIT */
/*
 * The pure part of src/core/vk-format.c on plain data, no Vulkan instance: every packed fourcc
 * maps to the VkFormat whose bytes are the DRM format's, NV12 to G8_B8R8_2PLANE_420_UNORM (I420
 * and unknown formats to UNDEFINED); the views the kernel reads planes through are the packed
 * format itself, and R8 (Y) and R8G8 (UV) for NV12's two planes, UNDEFINED beyond them; image
 * usages map to the format features they need, and the modifier filter
 * keeps exactly the driver's modifiers that have every needed feature and few enough planes,
 * in the driver's order, never DRM_FORMAT_MOD_INVALID, never more than asked for.
 */
#include <drm_fourcc.h>

#include "test.h"
#include "vk-format.h"

static void test_from_fourcc(void)
{
	static const struct {
		uint32_t fourcc;
		VkFormat format;
	} map[] = {
		{ DRM_FORMAT_XRGB8888, VK_FORMAT_B8G8R8A8_UNORM },
		{ DRM_FORMAT_ARGB8888, VK_FORMAT_B8G8R8A8_UNORM },
		{ DRM_FORMAT_XBGR8888, VK_FORMAT_R8G8B8A8_UNORM },
		{ DRM_FORMAT_ABGR8888, VK_FORMAT_R8G8B8A8_UNORM },
		{ DRM_FORMAT_XRGB2101010, VK_FORMAT_A2R10G10B10_UNORM_PACK32 },
		{ DRM_FORMAT_XBGR2101010, VK_FORMAT_A2B10G10R10_UNORM_PACK32 },
		/* NV12 images: both planes in one two-plane format */
		{ DRM_FORMAT_NV12, VK_FORMAT_G8_B8R8_2PLANE_420_UNORM },
		/* I420: the LINEAR storage-buffer path only */
		{ DRM_FORMAT_YUV420, VK_FORMAT_UNDEFINED },
		/* not castrelay's */
		{ DRM_FORMAT_RGB565, VK_FORMAT_UNDEFINED },
		{ 0, VK_FORMAT_UNDEFINED },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		CHECK_MSG(cr_vk_format_from_fourcc(map[i].fourcc) == map[i].format,
			  "fourcc %.4s: VkFormat %d, expected %d", (const char *)&map[i].fourcc,
			  cr_vk_format_from_fourcc(map[i].fourcc), map[i].format);
}

static void test_plane_view(void)
{
	static const struct {
		uint32_t fourcc, plane;
		VkFormat format;
	} map[] = {
		/* packed: the image's own format, one plane */
		{ DRM_FORMAT_XRGB8888, 0, VK_FORMAT_B8G8R8A8_UNORM },
		{ DRM_FORMAT_XRGB8888, 1, VK_FORMAT_UNDEFINED },
		{ DRM_FORMAT_ABGR8888, 0, VK_FORMAT_R8G8B8A8_UNORM },
		{ DRM_FORMAT_ABGR8888, 1, VK_FORMAT_UNDEFINED },
		{ DRM_FORMAT_XRGB2101010, 0, VK_FORMAT_A2R10G10B10_UNORM_PACK32 },
		{ DRM_FORMAT_XBGR2101010, 0, VK_FORMAT_A2B10G10R10_UNORM_PACK32 },
		{ DRM_FORMAT_XBGR2101010, 1, VK_FORMAT_UNDEFINED },
		/* NV12: Y as R8, UV as R8G8, nothing beyond */
		{ DRM_FORMAT_NV12, 0, VK_FORMAT_R8_UNORM },
		{ DRM_FORMAT_NV12, 1, VK_FORMAT_R8G8_UNORM },
		{ DRM_FORMAT_NV12, 2, VK_FORMAT_UNDEFINED },
		{ DRM_FORMAT_NV12, 3, VK_FORMAT_UNDEFINED },
		/* no image at all */
		{ DRM_FORMAT_YUV420, 0, VK_FORMAT_UNDEFINED },
		{ DRM_FORMAT_YUV420, 1, VK_FORMAT_UNDEFINED },
		{ DRM_FORMAT_YUV420, 2, VK_FORMAT_UNDEFINED },
		{ DRM_FORMAT_RGB565, 0, VK_FORMAT_UNDEFINED },
		{ 0, 0, VK_FORMAT_UNDEFINED },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		CHECK_MSG(cr_vk_format_plane_view(map[i].fourcc, map[i].plane) == map[i].format,
			  "fourcc %.4s plane %u: VkFormat %d, expected %d",
			  (const char *)&map[i].fourcc, map[i].plane,
			  cr_vk_format_plane_view(map[i].fourcc, map[i].plane), map[i].format);
}

static void test_features_for_usage(void)
{
	CHECK_EQ_HEX(cr_vk_format_features_for_usage(0), 0);
	CHECK_EQ_HEX(cr_vk_format_features_for_usage(VK_IMAGE_USAGE_SAMPLED_BIT),
		     VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT);
	CHECK_EQ_HEX(cr_vk_format_features_for_usage(VK_IMAGE_USAGE_STORAGE_BIT),
		     VK_FORMAT_FEATURE_STORAGE_IMAGE_BIT);
	CHECK_EQ_HEX(cr_vk_format_features_for_usage(VK_IMAGE_USAGE_TRANSFER_SRC_BIT),
		     VK_FORMAT_FEATURE_TRANSFER_SRC_BIT);
	CHECK_EQ_HEX(cr_vk_format_features_for_usage(VK_IMAGE_USAGE_TRANSFER_DST_BIT),
		     VK_FORMAT_FEATURE_TRANSFER_DST_BIT);
	/* the usages of the test images: an input filled by a copy, an output read back */
	CHECK_EQ_HEX(cr_vk_format_features_for_usage(VK_IMAGE_USAGE_SAMPLED_BIT |
						     VK_IMAGE_USAGE_TRANSFER_DST_BIT),
		     VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT | VK_FORMAT_FEATURE_TRANSFER_DST_BIT);
	CHECK_EQ_HEX(cr_vk_format_features_for_usage(VK_IMAGE_USAGE_STORAGE_BIT |
						     VK_IMAGE_USAGE_TRANSFER_SRC_BIT),
		     VK_FORMAT_FEATURE_STORAGE_IMAGE_BIT | VK_FORMAT_FEATURE_TRANSFER_SRC_BIT);
}

#define SAMPLED VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT
#define STORAGE VK_FORMAT_FEATURE_STORAGE_IMAGE_BIT
#define XFER_SRC VK_FORMAT_FEATURE_TRANSFER_SRC_BIT
#define XFER_DST VK_FORMAT_FEATURE_TRANSFER_DST_BIT

/* What a driver might list for BGRA8: NVIDIA-like block-linear modifiers (one with a
 * compression aux plane), INVALID (some drivers list it), LINEAR without storage. */
static const VkDrmFormatModifierPropertiesEXT driver[] = {
	{ 0x300000000606010ull, 1, SAMPLED | STORAGE | XFER_SRC | XFER_DST },
	{ DRM_FORMAT_MOD_INVALID, 1, SAMPLED | STORAGE | XFER_SRC | XFER_DST },
	{ 0x300000000606011ull, 1, SAMPLED | XFER_DST },
	{ 0x300000000e08014ull, 2, SAMPLED | STORAGE | XFER_SRC | XFER_DST },
	{ 0x300000000606015ull, 5, SAMPLED | STORAGE | XFER_SRC | XFER_DST },
	{ DRM_FORMAT_MOD_LINEAR, 1, SAMPLED | XFER_SRC | XFER_DST },
};
#define N_DRIVER (sizeof(driver) / sizeof(driver[0]))

/* Runs the filter and checks that it kept exactly driver[want[0..n_want-1]], in that order. */
static void filter_case(const char *what, VkFormatFeatureFlags need, uint32_t max_planes,
			uint32_t max, const uint32_t *want, uint32_t n_want)
{
	struct cr_vk_modifier out[N_DRIVER + 1];
	/* a sentinel behind @max: the filter must not write past its room */
	for (size_t i = 0; i < N_DRIVER + 1; i++)
		out[i] = (struct cr_vk_modifier){ .modifier = 0xdeadull, .n_planes = 99 };
	uint32_t n = cr_vk_format_filter(driver, N_DRIVER, need, max_planes, out, max);
	if (!CHECK_MSG(n == n_want, "%s: kept %u, expected %u", what, n, n_want))
		return;
	for (uint32_t i = 0; i < n; i++) {
		const VkDrmFormatModifierPropertiesEXT *d = &driver[want[i]];
		CHECK_MSG(out[i].modifier == d->drmFormatModifier,
			  "%s: [%u] modifier 0x%llx, expected 0x%llx", what, i,
			  (unsigned long long)out[i].modifier,
			  (unsigned long long)d->drmFormatModifier);
		CHECK_MSG(out[i].n_planes == d->drmFormatModifierPlaneCount,
			  "%s: [%u] %u planes, expected %u", what, i, out[i].n_planes,
			  d->drmFormatModifierPlaneCount);
		CHECK_MSG(out[i].features == d->drmFormatModifierTilingFeatures,
			  "%s: [%u] features 0x%x, expected 0x%x", what, i, out[i].features,
			  d->drmFormatModifierTilingFeatures);
	}
	CHECK_MSG(out[max].modifier == 0xdeadull && out[max].n_planes == 99,
		  "%s: written beyond the room for %u", what, max);
}

static void test_filter(void)
{
	/* every feature, up to 4 planes: INVALID and the 5-plane one go, order stays */
	filter_case("sampled", SAMPLED, 4, N_DRIVER, (const uint32_t[]){ 0, 2, 3, 5 }, 4);
	filter_case("sampled|dst", SAMPLED | XFER_DST, 4, N_DRIVER,
		    (const uint32_t[]){ 0, 2, 3, 5 }, 4);
	/* storage: neither 0x...11 nor LINEAR have it */
	filter_case("storage|src", STORAGE | XFER_SRC, 4, N_DRIVER,
		    (const uint32_t[]){ 0, 3 }, 2);
	/* no features needed: everything but INVALID and too many planes */
	filter_case("none", 0, 4, N_DRIVER, (const uint32_t[]){ 0, 2, 3, 5 }, 4);
	filter_case("5 planes allowed", 0, 5, N_DRIVER, (const uint32_t[]){ 0, 2, 3, 4, 5 }, 5);
	/* single-plane only: the aux-plane layout goes too */
	filter_case("1 plane", SAMPLED, 1, N_DRIVER, (const uint32_t[]){ 0, 2, 5 }, 3);
	/* room for two: the first two in the driver's order */
	filter_case("max 2", SAMPLED, 4, 2, (const uint32_t[]){ 0, 2 }, 2);
	filter_case("max 0", SAMPLED, 4, 0, NULL, 0);
	/* a feature nobody has */
	filter_case("color attachment", VK_FORMAT_FEATURE_COLOR_ATTACHMENT_BIT, 4, N_DRIVER,
		    NULL, 0);

	/* INVALID alone, with every feature, is never kept; an empty list gives nothing */
	VkDrmFormatModifierPropertiesEXT invalid = { DRM_FORMAT_MOD_INVALID, 1, ~0u };
	struct cr_vk_modifier out[2];
	CHECK_EQ_UINT(cr_vk_format_filter(&invalid, 1, SAMPLED, 4, out, 2), 0);
	CHECK_EQ_UINT(cr_vk_format_filter(driver, 0, SAMPLED, 4, out, 2), 0);
}

int main(void)
{
	test_from_fourcc();
	test_plane_view();
	test_features_for_usage();
	test_filter();
	return cr_test_result();
}
