/* SPDX-License-Identifier: MIT */
/*
 * The kernels' pipeline cache file (kernels.h) on a real device: none at first (ignored), a
 * file named by the device's pipelineCacheUUID, vendor and device id written with a valid
 * header, loaded by the next start; a truncated file, another device's file and garbage are
 * ignored and rewritten. The buffer variant gets ready through the worker and its warm-up
 * dispatch, and a job submitted right after completes. The device-lost test hook fails a
 * submission or a fence wait as a lost device does. No Vulkan object outlives the devices.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <drm_fourcc.h>

#include "kernels.h"
#include "pipeline.h"
#include "test.h"
#include "vk-objects-test.h"
#include "vk-device.h"
#include "vk-format.h"

static char dir[64], path[512];

/* The one pipeline-*.cache file in dir, into path; false when there is none. */
static bool find_cache_file(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;
	while (d && (e = readdir(d)))
		if (strncmp(e->d_name, "pipeline-", 9) == 0 && strstr(e->d_name, ".cache") &&
		    !strstr(e->d_name, ".cache.")) { /* not a temporary file */
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			found = true;
		}
	if (d)
		closedir(d);
	return found;
}

static bool header_of(const struct cr_vk_device *dev)
{
	VkPipelineCacheHeaderVersionOne h;
	int fd = open(path, O_RDONLY);
	bool ok = fd >= 0 && read(fd, &h, sizeof(h)) == (ssize_t)sizeof(h) &&
		  h.vendorID == dev->props.vendorID && h.deviceID == dev->props.deviceID &&
		  memcmp(h.pipelineCacheUUID, dev->props.pipelineCacheUUID, VK_UUID_SIZE) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void write_file(const void *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CREAT, 0600);
	CHECK(fd >= 0 && write(fd, data, size) == (ssize_t)size);
	if (fd >= 0)
		close(fd);
}

/* One start: the cache loaded or not as @want_loaded says; the file valid afterwards. */
static void start(struct cr_vk_device *dev, bool want_loaded, const char *what)
{
	struct cr_kernels *k = cr_kernels_create(dev, dir);
	CHECK_MSG(k != NULL, "%s: cr_kernels_create", what);
	if (!k)
		return;
	struct cr_kernels_stats stats;
	cr_kernels_get_stats(k, &stats);
	CHECK_MSG(stats.cache_loaded == want_loaded, "%s: cache_loaded %d, expected %d", what,
		  stats.cache_loaded, want_loaded);
	CHECK_MSG(cr_kernels_ready(k, CR_KERNELS_BUFFERS) == 0, "%s: nothing ready before asked",
		  what);
	CHECK_MSG(cr_kernels_wait(k, CR_KERNELS_BUFFERS), "%s: the buffer kernel builds", what);
	cr_kernels_get_stats(k, &stats);
	CHECK_MSG(stats.warm_ns[0] > 0, "%s: the warm-up dispatch ran", what);
	cr_test_log("%s: built in %.1f ms, first dispatch %.1f ms", what,
		    (double)stats.build_ns[0] / 1e6, (double)stats.warm_ns[0] / 1e6);
	CHECK_MSG(cr_kernels_pipeline(k, 0) != VK_NULL_HANDLE, "%s: a pipeline", what);
	CHECK_MSG(cr_kernels_pipeline(k, CR_KERNELS_SRC_IMAGE) == VK_NULL_HANDLE,
		  "%s: an image variant that was not asked for is not built", what);
	cr_kernels_destroy(k);
	CHECK_MSG(find_cache_file() && header_of(dev), "%s: a valid cache file afterwards", what);
}

static void on_done(void *job_data, const struct cr_pipeline_result *res, void *data)
{
	*(int *)data = res->ok ? 1 : -1;
}

/* A job right after the wait completes: the pipeline takes the ready variant. */
static void first_job(struct cr_vk_device *dev)
{
	struct cr_kernels *k = cr_kernels_create(dev, NULL);
	int state = 0;
	struct cr_pipeline *pipe = cr_pipeline_create(k, on_done, &state);
	CHECK(pipe != NULL);
	if (!pipe) {
		cr_kernels_destroy(k);
		return;
	}
	const struct cr_format_info *bgrx = cr_format_info_from_fourcc(DRM_FORMAT_XRGB8888);
	static uint32_t pixels[64 * 64];
	struct cr_pipeline_frame in = { .format = bgrx, .width = 64, .height = 64, .stride = 256,
					.data = pixels, .size = sizeof(pixels) };
	struct cr_pipeline_target out = { .format = bgrx, .width = 32, .height = 32 };
	struct cr_pipeline_stats stats;
	/* Not compiled yet: refused and counted, and asked for. */
	CHECK(!cr_pipeline_submit(pipe, &in, &out, NULL));
	cr_pipeline_get_stats(pipe, &stats);
	CHECK_EQ_UINT(stats.dropped_compiling, 1);
	CHECK(cr_kernels_wait(k, CR_KERNELS_BUFFERS));
	CHECK(cr_pipeline_submit(pipe, &in, &out, NULL));
	struct pollfd pfd = { cr_pipeline_get_fd(pipe), POLLIN, 0 };
	while (state == 0 && poll(&pfd, 1, 30000) == 1)
		cr_pipeline_dispatch(pipe);
	CHECK_EQ_INT(state, 1);
	cr_pipeline_destroy(pipe);
	cr_kernels_destroy(k);
}

/*
 * The device-lost test hook (cr_vk_device_inject_lost()) on a device of its own: the loss is
 * sticky, as a real one. At SUBMIT the job is refused; at WAIT it is submitted and comes back
 * failed. Either way the pipeline says the device is lost and takes no more jobs.
 */
static void lost_device(enum cr_vk_fault where)
{
	struct cr_vk_device *dev = cr_vk_device_create(getenv("CR_TEST_VK_DEVICE"));
	struct cr_kernels *k = dev ? cr_kernels_create(dev, NULL) : NULL;
	int state = 0;
	struct cr_pipeline *pipe = k ? cr_pipeline_create(k, on_done, &state) : NULL;
	CHECK(pipe != NULL);
	if (pipe && CHECK(cr_kernels_wait(k, CR_KERNELS_BUFFERS))) {
		const struct cr_format_info *bgrx = cr_format_info_from_fourcc(DRM_FORMAT_XRGB8888);
		static uint32_t pixels[16 * 16];
		struct cr_pipeline_frame in = { .format = bgrx, .width = 16, .height = 16,
						.stride = 64, .data = pixels, .size = sizeof(pixels) };
		struct cr_pipeline_target out = { .format = bgrx, .width = 16, .height = 16 };
		CHECK(!cr_pipeline_device_lost(pipe));
		cr_vk_device_inject_lost(dev, where);
		bool submitted = cr_pipeline_submit(pipe, &in, &out, NULL);
		CHECK_EQ_INT(submitted, where == CR_VK_FAULT_WAIT);
		struct pollfd pfd = { cr_pipeline_get_fd(pipe), POLLIN, 0 };
		while (submitted && state == 0 && poll(&pfd, 1, 30000) == 1)
			cr_pipeline_dispatch(pipe);
		CHECK_EQ_INT(state, submitted ? -1 : 0);
		CHECK(cr_pipeline_device_lost(pipe));
		CHECK(!cr_pipeline_can_submit(pipe));
		CHECK(!cr_pipeline_submit(pipe, &in, &out, NULL));
	}
	cr_pipeline_destroy(pipe);
	cr_kernels_destroy(k);
	cr_vk_device_destroy(dev);
}

int main(void)
{
	struct cr_vk_device *dev = cr_vk_device_create(getenv("CR_TEST_VK_DEVICE"));
	if (!dev)
		return CR_TEST_SKIP;
	snprintf(dir, sizeof(dir), "/tmp/castrelay-kernels.XXXXXX");
	if (!mkdtemp(dir))
		return cr_test_broken("mkdtemp failed");

	CHECK(!find_cache_file());
	start(dev, false, "no file");
	start(dev, true, "the file of the last start");
	write_file("CRAP", 4);
	start(dev, false, "a truncated file");
	VkPipelineCacheHeaderVersionOne other = {
		.headerSize = sizeof(other),
		.headerVersion = VK_PIPELINE_CACHE_HEADER_VERSION_ONE,
		.vendorID = dev->props.vendorID ^ 1,
		.deviceID = dev->props.deviceID,
	};
	memcpy(other.pipelineCacheUUID, dev->props.pipelineCacheUUID, VK_UUID_SIZE);
	write_file(&other, sizeof(other));
	start(dev, false, "another vendor's file");
	other.vendorID = dev->props.vendorID;
	other.pipelineCacheUUID[0] ^= 0xff;
	write_file(&other, sizeof(other));
	start(dev, false, "another driver build's file");
	static uint8_t garbage[4096];
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (uint8_t)(i * 131u + 7u);
	write_file(garbage, sizeof(garbage));
	start(dev, false, "garbage");

	first_job(dev);
	unlink(path);
	rmdir(dir);
	cr_vk_device_destroy(dev);
	lost_device(CR_VK_FAULT_SUBMIT);
	lost_device(CR_VK_FAULT_WAIT);
	check_no_vk_objects();
	return cr_test_result();
}
