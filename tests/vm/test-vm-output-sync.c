/* SPDX-License-Identifier: MIT */
/*
 * vm-guest: castrelay does not rewrite an output DMA-BUF that a consumer is still reading.
 * A pending vgem fence, exported as a sync_file and attached to our exported output buffer as
 * a reader (DMA_BUF_IOCTL_IMPORT_SYNC_FILE, READ) stands in for a consumer's GPU still
 * sampling the previous frame. The pipeline's next job writing that buffer must not complete
 * until the fence signals; a pipeline made with CASTRELAY_TEST_SKIP_SYNC=1 completes at once,
 * which shows the test can fail.
 */
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <drm_fourcc.h>

#include "dmabuf-alloc.h"
#include "kernels.h"
#include "pipeline.h"
#include "sync-file.h"
#include "test.h"
#include "vk-device.h"

#define WIDTH 64
#define HEIGHT 48

static void on_done(void *job_data, const struct cr_pipeline_result *res, void *data)
{
	*(int *)job_data = res->ok ? 1 : -1;
}

/* Polls the pipeline's completion fd for @timeout_ms; returns the job's state (0: pending). */
static int wait_job(struct cr_pipeline *pipe, const int *state, int timeout_ms)
{
	struct pollfd pfd = { .fd = cr_pipeline_get_fd(pipe), .events = POLLIN };
	while (*state == 0 && poll(&pfd, 1, timeout_ms) > 0)
		cr_pipeline_dispatch(pipe);
	return *state;
}

/* One job writing the exported output while a reader's fence is pending on it. Returns
 * whether the job stayed pending until the fence was signalled. */
static bool job_waits_for_reader(struct cr_pipeline *pipe, int vgem,
				 struct cr_dmabuf_alloc_vgem_bo *bo, const char *what)
{
	const struct cr_format_info *bgrx = cr_format_info_from_fourcc(DRM_FORMAT_XRGB8888);
	static uint32_t pixels[WIDTH * HEIGHT];
	int out_fd = -1;
	struct cr_pipeline_output *out = cr_pipeline_export_output(pipe, WIDTH * HEIGHT * 4,
								   &out_fd);
	if (!CHECK_MSG(out != NULL, "%s: export an output buffer", what))
		return false;
	/* A warm-up job: the kernel is compiled before anything is timed. */
	struct cr_pipeline_frame in = { .format = bgrx, .width = WIDTH, .height = HEIGHT,
					.stride = WIDTH * 4, .data = pixels,
					.size = sizeof(pixels) };
	struct cr_pipeline_target target = { .format = bgrx, .width = WIDTH, .height = HEIGHT,
					     .output = out };
	int state = 0;
	CHECK(cr_pipeline_submit(pipe, &in, &target, &state));
	CHECK_EQ_INT(wait_job(pipe, &state, 120000), 1);

	uint32_t fence = 0;
	bool waited = false;
	if (!CHECK(cr_dmabuf_alloc_vgem_fence_attach(vgem, bo->handle, true, &fence)))
		goto out;
	int sync_fd = cr_sync_file_export(bo->dmabuf, CR_SYNC_WRITE);
	CHECK_MSG(sync_fd >= 0, "export the pending vgem fence: %d", sync_fd);
	CHECK(!cr_sync_file_signalled(sync_fd));
	CHECK_EQ_INT(cr_sync_file_import(out_fd, sync_fd, CR_SYNC_READ), 0);
	close(sync_fd);

	state = 0;
	CHECK(cr_pipeline_submit(pipe, &in, &target, &state));
	int early = wait_job(pipe, &state, 500);
	cr_test_log("%s: job state %d while the reader's fence is pending", what, early);
	waited = early == 0;
	CHECK(cr_dmabuf_alloc_vgem_fence_signal(vgem, fence));
	CHECK_EQ_INT(wait_job(pipe, &state, 10000), 1);
out:
	cr_pipeline_output_destroy(pipe, out);
	close(out_fd);
	return waited;
}

int main(void)
{
	if (!getenv("CR_VM_GUEST")) {
		fprintf(stderr, "guest-side test: run the vm suite (tests/vm/run-in-vm.sh)\n");
		return CR_TEST_SKIP;
	}
	struct cr_vk_device *dev = cr_vk_device_create("llvmpipe");
	if (!CHECK(dev != NULL))
		return cr_test_result();
	unsetenv("CASTRELAY_TEST_SKIP_SYNC");
	/* Before the first job, as the daemon does before READY (kernels.h). */
	struct cr_kernels *kernels = cr_kernels_create(dev, NULL);
	if (kernels && !cr_kernels_wait(kernels, CR_KERNELS_BUFFERS))
		fprintf(stderr, "some kernel variants failed to build\n");
	struct cr_pipeline *sync = cr_pipeline_create(kernels, on_done, NULL);
	setenv("CASTRELAY_TEST_SKIP_SYNC", "1", 1);
	struct cr_pipeline *nosync = cr_pipeline_create(kernels, on_done, NULL);
	unsetenv("CASTRELAY_TEST_SKIP_SYNC");
	int vgem = cr_dmabuf_alloc_open_drm("vgem", true);
	struct cr_dmabuf_alloc_vgem_bo bo = { .dmabuf = -1 };
	if (CHECK(sync && nosync && vgem >= 0) &&
	    CHECK(cr_pipeline_can_export_dmabuf(sync)) &&
	    CHECK(cr_dmabuf_alloc_vgem_bo_init(&bo, vgem, 16, 16))) {
		CHECK_MSG(job_waits_for_reader(sync, vgem, &bo, "with sync"),
			  "the job must wait for the reader's fence");
		CHECK_MSG(!job_waits_for_reader(nosync, vgem, &bo, "CASTRELAY_TEST_SKIP_SYNC"),
			  "without waiting the job completes at once (the test can fail)");
	}
	cr_dmabuf_alloc_vgem_bo_finish(&bo, vgem);
	if (vgem >= 0)
		close(vgem);
	cr_pipeline_destroy(nosync);
	cr_pipeline_destroy(sync);
	cr_kernels_destroy(kernels);
	cr_vk_device_destroy(dev);
	return cr_test_result();
}
