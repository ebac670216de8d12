/* SPDX-License-Identifier: MIT */
/*
 * Per-frame cost of the crop+scale+convert pass through the real pipeline (SHM input: the
 * staging copy is included, as in the daemon), with the CPU reference measured in the same
 * run as the baseline. Prints one line per scenario; asserts nothing about speed.
 *
 * Where the device has DRM format modifiers (VK_EXT_image_drm_format_modifier), the packed
 * scenarios run again zero-copy, as the daemon does with DMA-BUFs: a source image and an output
 * image of each modifier usable for both, LINEAR among them as the baseline (the layout the
 * storage-buffer path reads), nothing copied by the CPU.
 *
 * Usage: bench-pipeline [FRAMES]   (CR_TEST_VK_DEVICE selects the device)
 */
#include <stdlib.h>
#include <time.h>

#include <drm_fourcc.h>

#include "kernels.h"
#include "log.h"
#include "reference.h"
#include "run-sync.h"
#include "image-io.h"
#include "test.h"
#include "vk-device.h"
#include "vk-format.h"
#include "vk-image.h"

struct scenario {
	const char *name;
	uint32_t src_w, src_h;
	struct cr_rect crop;
	uint32_t dst_w, dst_h;
	uint32_t dst_fourcc;
};

static const struct scenario scenarios[] = {
	{ "1080p identity BGRx", 1920, 1080, { 0 }, 1920, 1080, DRM_FORMAT_XRGB8888 },
	{ "1080p -> 720p BGRx", 1920, 1080, { 0 }, 1280, 720, DRM_FORMAT_XRGB8888 },
	{ "1080p -> 720p NV12", 1920, 1080, { 0 }, 1280, 720, DRM_FORMAT_NV12 },
	{ "4K -> 1080p BGRx", 3840, 2160, { 0 }, 1920, 1080, DRM_FORMAT_XRGB8888 },
	{ "4K -> 640x360 box", 3840, 2160, { 0 }, 640, 360, DRM_FORMAT_XRGB8888 },
	{ "4K crop 1280x720 -> 640x360", 3840, 2160, { 1000, 500, 1280, 720 }, 640, 360,
	  DRM_FORMAT_XRGB8888 },
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(uint64_t *v, unsigned n, double p)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return (double)v[(unsigned)(p * (n - 1))] / 1000.0;
}

/*
 * One warm-up job (allocations, pipeline caches, the kernel variant built on first use), then
 * @frames timed ones: the GPU time and the wall time of each into @gpu and @wall. @pixels
 * receives the output when it is read back (NULL for image outputs). Returns how many ran.
 */
static unsigned measure(struct cr_pipeline *pipe, const struct cr_pipeline_frame *in,
			const struct cr_pipeline_target *out, void *pixels, unsigned frames,
			uint64_t *gpu, uint64_t *wall)
{
	struct run_sync_result r = { .pixels = pixels };
	run_sync(pipe, in, out, &r);
	unsigned ok = 0;
	for (unsigned f = 0; f < frames; f++) {
		uint64_t t0 = now_ns();
		if (!run_sync(pipe, in, out, &r))
			break;
		wall[ok] = now_ns() - t0;
		gpu[ok++] = r.gpu_ns;
	}
	return ok;
}

/* The packed scenarios from a source image to an output image, per modifier. */
static void bench_images(struct cr_vk_device *dev, struct cr_pipeline *pipe, unsigned frames,
			 uint64_t *gpu, uint64_t *wall)
{
	const uint32_t fourcc = DRM_FORMAT_XRGB8888;
	const VkImageUsageFlags src_usage = VK_IMAGE_USAGE_SAMPLED_BIT |
					    VK_IMAGE_USAGE_TRANSFER_DST_BIT;
	struct cr_vk_modifier sampled[32], storage[32];
	uint32_t n_sampled = cr_vk_format_modifiers(dev, fourcc, src_usage, 0, sampled, 32);
	uint32_t n_storage = cr_vk_format_modifiers(dev, fourcc, VK_IMAGE_USAGE_STORAGE_BIT, 0,
						    storage, 32);
	if (n_sampled == 0 || n_storage == 0) {
		printf("image path: no DRM format modifiers on this device\n");
		return;
	}
	printf("%-30s %18s %10s %10s %10s\n", "scenario (image in and out)", "modifier",
	       "gpu p50", "gpu p99", "frame p50");
	const struct cr_format_info *bgrx = cr_format_info_from_fourcc(fourcc);
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct scenario *s = &scenarios[i];
		if (s->dst_fourcc != fourcc)
			continue;
		uint32_t *pixels = malloc((size_t)s->src_w * s->src_h * 4);
		for (size_t k = 0; k < (size_t)s->src_w * s->src_h; k++)
			pixels[k] = (uint32_t)k * 2654435761u;
		for (uint32_t m = 0; m < n_sampled; m++) {
			uint64_t mod = sampled[m].modifier;
			bool both = false;
			for (uint32_t k = 0; k < n_storage; k++)
				both |= storage[k].modifier == mod;
			if (!both)
				continue;
			struct cr_vk_image *si = cr_vk_image_create(dev, fourcc, s->src_w, s->src_h,
								    &mod, 1, src_usage, false);
			struct cr_vk_image *di = cr_vk_image_create(dev, fourcc, s->dst_w, s->dst_h,
								    &mod, 1,
								    VK_IMAGE_USAGE_STORAGE_BIT,
								    false);
			if (si && !cr_image_io_upload(dev, si, pixels, s->src_w * 4)) {
				cr_vk_image_destroy(dev, si);
				si = NULL;
			}
			struct cr_pipeline_source *src =
				si ? cr_pipeline_source_from_image(pipe, si) : NULL;
			struct cr_pipeline_output *dst =
				di ? cr_pipeline_output_from_image(pipe, di) : NULL;
			if (!src || !dst) {
				printf("%-30s 0x%016llx no images\n", s->name,
				       (unsigned long long)mod);
				cr_pipeline_source_destroy(pipe, src);
				cr_pipeline_output_destroy(pipe, dst);
				continue;
			}
			struct cr_pipeline_frame in = {
				.format = bgrx, .width = s->src_w, .height = s->src_h,
				.offset = si->layout.planes[0].offset,
				.stride = si->layout.planes[0].stride, .source = src, .crop = s->crop,
			};
			struct cr_pipeline_target out = { .format = bgrx, .width = s->dst_w,
							  .height = s->dst_h, .output = dst };
			unsigned ok = measure(pipe, &in, &out, NULL, frames, gpu, wall);
			if (ok < 2)
				printf("%-30s 0x%016llx failed after %u frames\n", s->name,
				       (unsigned long long)mod, ok);
			else
				printf("%-30s 0x%016llx %8.0fus %8.0fus %8.0fus\n", s->name,
				       (unsigned long long)mod, pct(gpu, ok, 0.5),
				       pct(gpu, ok, 0.99), pct(wall, ok, 0.5));
			cr_pipeline_source_destroy(pipe, src);
			cr_pipeline_output_destroy(pipe, dst);
		}
		free(pixels);
	}
	printf("modifier 0x0000000000000000 = LINEAR, the baseline; frame = submit + completion, "
	       "no copies\n");
}

int main(int argc, char **argv)
{
	unsigned frames = argc > 1 ? (unsigned)atoi(argv[1]) : 200;
	if (frames < 2)
		frames = 2;
	struct cr_vk_device *dev = cr_vk_device_create(getenv("CR_TEST_VK_DEVICE"));
	if (!dev)
		return CR_TEST_SKIP;
	/* Compiled (and warmed up) before the first job: no part of what is measured. */
	struct cr_kernels *kernels = cr_kernels_create(dev, NULL);
	if (kernels && !cr_kernels_wait(kernels, CR_KERNELS_ALL))
		fprintf(stderr, "some kernel variants failed to build\n");
	struct cr_pipeline *pipe = cr_pipeline_create(kernels, run_sync_done, NULL);
	if (!pipe)
		return CR_TEST_BROKEN;
	printf("device: %s\n", cr_vk_device_name(dev));
	printf("%-30s %10s %10s %10s %10s %12s\n", "scenario (SHM in)", "gpu p50",
	       "gpu p99", "frame p50", "frame p99", "cpu ref");
	const struct cr_format_info *bgrx = cr_format_info_from_fourcc(DRM_FORMAT_XRGB8888);
	uint64_t *gpu = calloc(frames, sizeof(uint64_t)), *wall = calloc(frames, sizeof(uint64_t));
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct scenario *s = &scenarios[i];
		size_t src_bytes = (size_t)s->src_w * s->src_h * 4;
		uint32_t *src = malloc(src_bytes);
		const struct cr_format_info *df = cr_format_info_from_fourcc(s->dst_fourcc);
		struct cr_plane_layout l;
		cr_format_plane_layout(df, s->dst_w, s->dst_h, &l);
		uint8_t *dst = malloc(l.size);
		for (size_t k = 0; k < src_bytes / 4; k++)
			src[k] = (uint32_t)k * 2654435761u;
		struct cr_pipeline_frame in = {
			.format = bgrx, .width = s->src_w, .height = s->src_h,
			.stride = s->src_w * 4, .data = src, .size = src_bytes, .crop = s->crop,
		};
		struct cr_pipeline_target out = { .format = df, .width = s->dst_w,
						  .height = s->dst_h, .matrix = CR_COLOR_BT709 };
		unsigned ok = measure(pipe, &in, &out, dst, frames, gpu, wall);
		/* Baseline: the same work on the CPU (single-threaded reference). */
		struct cr_rect c = s->crop.w ? s->crop : (struct cr_rect){ 0, 0, s->src_w, s->src_h };
		struct cr_process_params p = {
			.src_stride = s->src_w, .src_width = s->src_w, .src_height = s->src_h,
			.src_layout = bgrx->layout, .crop_x = c.x, .crop_y = c.y, .crop_w = c.w,
			.crop_h = c.h, .out_kind = df->out_kind, .dst_width = s->dst_w,
			.dst_height = s->dst_h, .dst_layout = df->layout,
			.dst_stride = df->out_kind == CR_OUT_PACKED ? l.stride[0] / 4 : l.stride[0],
			.dst_offset1 = l.offset[1], .dst_stride1 = l.stride[1],
			.dst_offset2 = l.offset[2], .dst_stride2 = l.stride[2],
		};
		p.filter_mode = cr_reference_choose_filter(&p);
		cr_color_yuv_rows(CR_COLOR_BT709, false, p.yuv_y, p.yuv_u, p.yuv_v);
		unsigned cpu_runs = 3;
		uint64_t t0 = now_ns();
		for (unsigned k = 0; k < cpu_runs; k++)
			cr_reference_process(&p, src, NULL, dst);
		double cpu_us = (double)(now_ns() - t0) / cpu_runs / 1000.0;
		if (ok < 2)
			printf("%-30s failed after %u frames\n", s->name, ok);
		else
			printf("%-30s %8.0fus %8.0fus %8.0fus %8.0fus %10.0fus\n", s->name,
			       pct(gpu, ok, 0.5), pct(gpu, ok, 0.99), pct(wall, ok, 0.5),
			       pct(wall, ok, 0.99), cpu_us);
		free(src);
		free(dst);
	}
	printf("gpu = submit to fence seen by the waiter thread; frame = staging copy + submit + "
	       "completion + readback copy, as the daemon does; cpu ref = src/core/reference.c, "
	       "one thread, %u runs\n", 3u);
	bench_images(dev, pipe, frames, gpu, wall);
	free(gpu);
	free(wall);
	cr_pipeline_destroy(pipe);
	cr_kernels_destroy(kernels);
	cr_vk_device_destroy(dev);
	return 0;
}
