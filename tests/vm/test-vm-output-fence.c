/* SPDX-License-Identifier: MIT */
/*
 * vm-guest: castrelay's own fence on its output DMA-BUFs (implicit sync out). The real pipeline
 * on lavapipe writes frames into an exported output DMA-BUF; in the done callback, which is
 * where pw-output queues the buffer, the test acts as a consumer that just received it:
 *   - the pixels must be the whole new frame (the buffer is never handed out before our work
 *     is complete);
 *   - it exports the buffer's fences as a reader would (DMA_BUF_IOCTL_EXPORT_SYNC_FILE, READ)
 *     and lists them with SYNC_IOC_FILE_INFO: they must have signalled;
 *   - it lists the fences the kernel keeps on the buffer (debugfs dma_buf/bufinfo): a write
 *     fence must be there, named like the fences lavapipe exports from a SYNC_FD semaphore.
 * The kernel leaves already signalled fences out of EXPORT_SYNC_FILE (dma_resv's unlocked
 * iterator skips them; a buffer without pending fences exports the global "stub" fence), and
 * lavapipe exports only completed fences (DESIGN.md), so the consumer's sync_file cannot tell
 * whether ours was attached; debugfs lists every fence with its usage and state, signalled or
 * not. The control is the same run on a pipeline made with CASTRELAY_TEST_SKIP_SYNC=1 (fence
 * attachment off) and the buffer before its first frame: no write fence may be listed there,
 * which shows the test can fail.
 *
 * One-off: tests/vm/run-in-vm.sh --build BUILD
 *              --env VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.json
 *              -- BUILD/tests/vm/test-vm-output-fence
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <linux/dma-buf.h>
#include <linux/sync_file.h>

#include "kernels.h"
#include "pipeline.h"
#include "test.h"
#include "vk-device.h"
#include "vk-sync.h"
#include "vm-dmabuf.h"
#include "vm-pattern.h"

#define WIDTH 64u
#define HEIGHT 48u
#define FRAMES 6u
#define MAX_FENCES 8
#define RESULT_TIMEOUT_MS 90000 /* the first job compiles the kernel (tests/vm/meson.build) */
#define BUFINFO "/sys/kernel/debug/dma_buf/bufinfo"
/* BGRx: the x byte is not compared (the kernel may write 0xff there). */
#define RGB_MASK 0x00ffffffu

struct fence_name {
	char driver[32], timeline[32];
	int32_t status; /* 1 signalled, 0 pending, < 0 error */
};

/* What a consumer finds on the output buffer when the result is delivered. */
struct observation {
	bool delivered, ok;
	bool exact;                 /* every pixel is the new frame */
	int32_t export_status;      /* of the READ export as a whole (SYNC_IOC_FILE_INFO) */
	int n_export;               /* fences in it */
	struct fence_name export[MAX_FENCES];
	int n_listed;               /* fence lines debugfs lists for the buffer, -1: not found */
	int n_write;                /* of them, write fences */
	char listed[MAX_FENCES][128];
	char mode[16];              /* cr_pipeline_output_fence_mode() */
	uint64_t fence_ns;
};

struct run {
	struct cr_pipeline *pipe;
	int fd;
	ino_t ino;
	const uint8_t *map;
	uint32_t seed;
	struct observation obs;
};

/* Lists the fences of sync_file @fd (borrowed) into @names; returns the count or -1. */
static int sync_file_fences(int fd, struct fence_name *names, int max, int32_t *status)
{
	struct sync_file_info info;
	memset(&info, 0, sizeof(info));
	if (ioctl(fd, SYNC_IOC_FILE_INFO, &info) < 0)
		return -1;
	struct sync_fence_info fences[MAX_FENCES];
	memset(fences, 0, sizeof(fences));
	uint32_t n = info.num_fences < MAX_FENCES ? info.num_fences : MAX_FENCES;
	memset(&info, 0, sizeof(info));
	info.num_fences = n;
	info.sync_fence_info = (uint64_t)(uintptr_t)fences;
	if (ioctl(fd, SYNC_IOC_FILE_INFO, &info) < 0)
		return -1;
	*status = info.status;
	for (uint32_t i = 0; i < n && (int)i < max; i++) {
		snprintf(names[i].driver, sizeof(names[i].driver), "%s", fences[i].driver_name);
		snprintf(names[i].timeline, sizeof(names[i].timeline), "%s", fences[i].obj_name);
		names[i].status = fences[i].status;
	}
	return (int)n;
}

/*
 * The fence lines ("write fence:<driver> <timeline> seq N signalled") that debugfs lists under
 * the DMA-BUF with inode @ino; signalled fences are listed too. Returns the count, or -1 when
 * bufinfo cannot be read or does not list the buffer.
 */
static int debugfs_fences(ino_t ino, char lines[][128], int max, int *n_write)
{
	FILE *f = fopen(BUFINFO, "r");
	if (!f)
		return -1;
	char line[512];
	bool found = false, ours = false;
	int n = 0;
	*n_write = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] != '\t') {
			/* size flags mode count exp_name ino name, tab-separated */
			char *save = NULL, *field = strtok_r(line, "\t", &save);
			for (int i = 0; field && i < 5; i++)
				field = strtok_r(NULL, "\t", &save);
			char *end = NULL;
			unsigned long v = field ? strtoul(field, &end, 10) : 0;
			ours = field && end != field && v == (unsigned long)ino;
			found |= ours;
			continue;
		}
		if (!ours || !strstr(line, " fence:"))
			continue;
		if (strncmp(line + 1, "write fence:", 12) == 0)
			(*n_write)++;
		if (n < max)
			snprintf(lines[n], 128, "%.120s", line + 1);
		n++;
	}
	fclose(f);
	return found ? n : -1;
}

static void on_done(void *job_data, const struct cr_pipeline_result *res, void *data)
{
	(void)data;
	struct run *run = job_data;
	struct observation *o = &run->obs;
	*o = (struct observation){ .delivered = true, .ok = res->ok, .n_export = -1,
				   .export_status = INT32_MIN };
	o->fence_ns = res->fence_ns;
	snprintf(o->mode, sizeof(o->mode), "%s", cr_pipeline_output_fence_mode(run->pipe));
	/* First the fences, as close to the delivery as possible, then the pixels. */
	int sync = cr_vm_dmabuf_export_sync_file(run->fd, DMA_BUF_SYNC_READ);
	if (sync >= 0) {
		o->n_export = sync_file_fences(sync, o->export, MAX_FENCES, &o->export_status);
		close(sync);
	}
	o->n_listed = debugfs_fences(run->ino, o->listed, MAX_FENCES, &o->n_write);
	if (!res->ok)
		return;
	size_t exact = 0;
	for (uint32_t y = 0; y < HEIGHT; y++) {
		const uint32_t *row = (const uint32_t *)(run->map + res->layout.offset[0] +
							 (size_t)y * res->layout.stride[0]);
		for (uint32_t x = 0; x < WIDTH; x++)
			exact += (row[x] & RGB_MASK) ==
				 (cr_vm_pattern_pixel(run->seed, x, y) & RGB_MASK);
	}
	o->exact = exact == (size_t)WIDTH * HEIGHT;
}

static bool wait_delivered(struct cr_pipeline *pipe, const struct run *run, int timeout_ms)
{
	struct pollfd pfd = { .fd = cr_pipeline_get_fd(pipe), .events = POLLIN };
	uint64_t deadline = cr_vm_now_ns() + (uint64_t)timeout_ms * 1000000u;
	while (!run->obs.delivered && cr_vm_now_ns() < deadline)
		if (poll(&pfd, 1, 100) > 0)
			cr_pipeline_dispatch(pipe);
	return run->obs.delivered;
}

static void log_observation(const char *what, const struct observation *o)
{
	char buf[512];
	int len = 0;
	for (int i = 0; i < o->n_export && i < MAX_FENCES; i++)
		len += snprintf(buf + len, sizeof(buf) - (size_t)len, "%s[driver \"%s\" timeline \"%s\" "
				"status %d]", i ? ", " : "", o->export[i].driver, o->export[i].timeline,
				o->export[i].status);
	if (len == 0)
		snprintf(buf, sizeof(buf), "(none)");
	cr_test_log("  %s: consumer's EXPORT_SYNC_FILE(READ): %d fence(s), status %d: %s", what,
		    o->n_export, o->export_status, buf);
	cr_test_log("  %s: debugfs lists %d fence(s) on the buffer, %d write:", what, o->n_listed,
		    o->n_write);
	for (int i = 0; i < o->n_listed && i < MAX_FENCES; i++)
		cr_test_log("    %s", o->listed[i]);
	cr_test_log("  %s: output fence mode \"%s\", pixels %s, attach took %.1f us", what, o->mode,
		    o->exact ? "complete" : "NOT the new frame", (double)o->fence_ns / 1e3);
}

/* Whether @line ("write fence:<driver> <timeline> seq ...") names a fence like @ref. */
static bool named_like(const char *line, const struct fence_name *ref)
{
	char want[80];
	snprintf(want, sizeof(want), "fence:%s %s seq", ref->driver, ref->timeline);
	return strstr(line, want) != NULL;
}

/*
 * FRAMES jobs into one exported output on @pipe. With @attach, every delivered buffer must
 * carry a write fence named like @ref (lavapipe's own SYNC_FD export); without, none.
 */
static void run_case(struct cr_pipeline *pipe, const char *name, bool attach,
		     const struct fence_name *ref)
{
	cr_test_log("%s", name);
	const struct cr_format_info *bgrx = cr_format_info_from_fourcc(DRM_FORMAT_XRGB8888);
	struct cr_plane_layout layout;
	cr_format_plane_layout(bgrx, WIDTH, HEIGHT, &layout);
	struct run run = { .pipe = pipe, .fd = -1 };
	struct cr_pipeline_output *out = cr_pipeline_export_output(pipe, layout.size, &run.fd);
	if (!CHECK_MSG(out != NULL, "%s: export an output buffer", name))
		return;
	struct stat st;
	void *map = MAP_FAILED;
	if (!CHECK_EQ_INT(fstat(run.fd, &st), 0))
		goto destroy;
	run.ino = st.st_ino;
	map = mmap(NULL, layout.size, PROT_READ, MAP_SHARED, run.fd, 0);
	if (!CHECK(map != MAP_FAILED))
		goto destroy;
	run.map = map;

	/* The control every case starts from: a buffer nobody wrote yet carries no fence. */
	char lines[MAX_FENCES][128];
	int n_write = -1;
	int n = debugfs_fences(run.ino, lines, MAX_FENCES, &n_write);
	cr_test_log("  before the first frame: debugfs lists %d fence(s), %d write", n, n_write);
	CHECK_MSG(n == 0, "a fresh output buffer lists %d fences (-1: not in %s)", n, BUFINFO);

	struct cr_pipeline_fence_stats before, after;
	cr_pipeline_output_fence_stats(pipe, &before);
	static uint32_t pixels[WIDTH * HEIGHT];
	unsigned delivered = 0, exact = 0, signalled = 0, fenced = 0, like_ref = 0, modes = 0;
	for (unsigned i = 0; i < FRAMES; i++) {
		run.seed = 0x60000 + 16 * i + (attach ? 1 : 2);
		run.obs = (struct observation){ 0 };
		cr_vm_pattern_fill(pixels, WIDTH * 4, WIDTH, HEIGHT, run.seed);
		struct cr_pipeline_frame in = {
			.format = bgrx, .width = WIDTH, .height = HEIGHT, .stride = WIDTH * 4,
			.data = pixels, .size = sizeof(pixels),
		};
		struct cr_pipeline_target target = { .format = bgrx, .width = WIDTH,
						     .height = HEIGHT, .output = out };
		if (!CHECK(cr_pipeline_submit(pipe, &in, &target, &run)) ||
		    !CHECK_MSG(wait_delivered(pipe, &run, RESULT_TIMEOUT_MS), "%s: frame %u not "
			       "delivered", name, i))
			break;
		const struct observation *o = &run.obs;
		if (i == 0 || i == FRAMES - 1)
			log_observation(i == 0 ? "first frame" : "last frame", o);
		delivered += o->ok;
		exact += o->exact;
		signalled += o->n_export >= 1 && o->export_status == 1;
		fenced += o->n_write >= 1;
		for (int k = 0; k < o->n_listed && k < MAX_FENCES; k++)
			if (strncmp(o->listed[k], "write fence:", 12) == 0 && ref &&
			    named_like(o->listed[k], ref)) {
				like_ref++;
				break;
			}
		modes += strcmp(o->mode, attach ? "attached" : "none") == 0;
	}
	cr_pipeline_output_fence_stats(pipe, &after);
	cr_test_log("  %u frames: %u delivered ok, %u complete, %u with a signalled READ export, "
		    "%u carrying a write fence (%u named like lavapipe's), %u in mode \"%s\"; "
		    "stats: %llu attached, %llu already signalled, %llu failed", FRAMES, delivered,
		    exact, signalled, fenced, like_ref, modes, attach ? "attached" : "none",
		    (unsigned long long)(after.attached - before.attached),
		    (unsigned long long)(after.signalled - before.signalled),
		    (unsigned long long)(after.failed - before.failed));
	CHECK_EQ_UINT(delivered, FRAMES);
	CHECK_EQ_UINT(exact, FRAMES);
	CHECK_EQ_UINT(signalled, FRAMES);
	CHECK_EQ_UINT(modes, FRAMES);
	CHECK_EQ_UINT(after.failed - before.failed, 0);
	if (attach) {
		CHECK_EQ_UINT(fenced, FRAMES);
		CHECK_EQ_UINT(like_ref, FRAMES);
		CHECK_EQ_UINT(after.attached - before.attached, FRAMES);
	} else {
		CHECK_EQ_UINT(fenced, 0);
		CHECK_EQ_UINT(after.attached - before.attached, 0);
	}
destroy:
	if (map != MAP_FAILED)
		munmap(map, layout.size);
	cr_pipeline_output_destroy(pipe, out);
	close(run.fd);
}

/*
 * What lavapipe's SYNC_FD exports look like: an empty submission signals an exportable
 * semaphore, exported through the same core function the pipeline uses. Returns false when
 * lavapipe gives no fd (allowed by Vulkan for a signalled payload) or something failed.
 */
static bool lavapipe_fence_name(struct cr_vk_device *dev, struct fence_name *ref)
{
	if (!CHECK(cr_vk_sync_can_export_sync_file(dev)))
		return false;
	VkSemaphore sem = cr_vk_sync_semaphore_create_exportable(dev);
	if (!CHECK(sem != VK_NULL_HANDLE))
		return false;
	VkSubmitInfo si = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.signalSemaphoreCount = 1,
		.pSignalSemaphores = &sem,
	};
	int fd = -1;
	bool ok = CHECK_EQ_INT(vkQueueSubmit(dev->queue, 1, &si, VK_NULL_HANDLE), VK_SUCCESS) &&
		  CHECK(cr_vk_sync_export_sync_file(dev, sem, &fd)) &&
		  CHECK_MSG(fd >= 0, "lavapipe exported no sync_file (fd -1)");
	int32_t status = INT32_MIN;
	if (ok)
		ok = CHECK_EQ_INT(sync_file_fences(fd, ref, 1, &status), 1);
	if (ok)
		cr_test_log("lavapipe's own SYNC_FD export: driver \"%s\" timeline \"%s\" status %d",
			    ref->driver, ref->timeline, ref->status);
	if (fd >= 0)
		close(fd);
	vkQueueWaitIdle(dev->queue);
	cr_vk_sync_semaphore_destroy(dev, sem);
	return ok;
}

int main(void)
{
	if (!getenv("CR_VM_GUEST"))
		return cr_test_skip("guest-side test: run the vm suite (tests/vm/run-in-vm.sh)");
	/* The guest mounts no debugfs; its fence listing is how signalled fences are seen. */
	if (mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL) < 0 && errno != EBUSY)
		return cr_test_broken("cannot mount debugfs: %s", strerror(errno));
	if (access(BUFINFO, R_OK) != 0)
		return cr_test_broken("%s: %s", BUFINFO, strerror(errno));

	struct cr_vk_device *dev = cr_vk_device_create("llvmpipe");
	if (!dev)
		return cr_test_broken("no lavapipe device");
	struct fence_name ref;
	bool have_ref = lavapipe_fence_name(dev, &ref);

	unsetenv("CASTRELAY_TEST_SKIP_SYNC");
	/* Before the first job, as the daemon does before READY (kernels.h). */
	struct cr_kernels *kernels = cr_kernels_create(dev, NULL);
	if (kernels && !cr_kernels_wait(kernels, CR_KERNELS_BUFFERS))
		fprintf(stderr, "some kernel variants failed to build\n");
	struct cr_pipeline *sync = cr_pipeline_create(kernels, on_done, NULL);
	setenv("CASTRELAY_TEST_SKIP_SYNC", "1", 1);
	struct cr_pipeline *skip = cr_pipeline_create(kernels, on_done, NULL);
	unsetenv("CASTRELAY_TEST_SKIP_SYNC");
	if (CHECK(sync != NULL) && CHECK(skip != NULL) &&
	    CHECK(cr_pipeline_can_export_dmabuf(sync))) {
		CHECK_EQ_STR(cr_pipeline_output_fence_mode(sync), "none"); /* no frame yet */
		run_case(sync, "1. our fence on the output DMA-BUF", true, have_ref ? &ref : NULL);
		run_case(skip, "2. control: CASTRELAY_TEST_SKIP_SYNC=1 attaches nothing", false,
			 NULL);
	}
	cr_pipeline_destroy(skip);
	cr_pipeline_destroy(sync);
	cr_kernels_destroy(kernels);
	cr_vk_device_destroy(dev);
	return cr_test_result();
}
