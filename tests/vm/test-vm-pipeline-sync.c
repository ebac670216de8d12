/* SPDX-License-Identifier: MIT */
/*
 * Guest side (suite vm-guest): implicit sync on input through the real castrelay pipeline
 * (src/core/pipeline.c), proven with pixels. A vgem buffer plays a producer's frame buffer,
 * imported once with cr_pipeline_import_dmabuf() as the daemon does per pw_buffer. Per frame:
 * the buffer holds the old pattern, an unsignalled vgem write fence is the producer's GPU write
 * in flight, the job is submitted, and only then does the write land (the new pattern through
 * the CPU mapping) and the fence signal. An identity BGRx -> BGRx job must deliver the new
 * pattern, every time.
 *
 * 1. Late writes, synchronised: many frames with 0-5 ms between submit and the write landing;
 *    no result may come while the fence is pending, none may be stale (old pattern) or mixed.
 *    cr_pipeline_submit() must return at once (the wait happens on the GPU).
 * 2. The same loop on a second pipeline of the same device created with
 *    CASTRELAY_TEST_SKIP_SYNC=1 must see stale or mixed frames: the test can fail.
 * 3. cr_pipeline_sync_mode(): "none" before any DMA-BUF frame, "implicit" after a vgem frame,
 *    "none" with the skip switch and for a memfd (no fences to export); a udmabuf (fences
 *    exportable, none pending) gives exact pixels and "implicit", and a pending fence imported
 *    into it (DMA_BUF_IOCTL_IMPORT_SYNC_FILE) is waited for like vgem's own.
 * 4. Not asserted: the latency that implicit sync adds per frame against the skip pipeline,
 *    interleaved in the same run, vgem input (its fence already signalled) to an exported
 *    output DMA-BUF: in, export + import + semaphore wait; out, the wait for readers and our
 *    own fence put on the output (export + IMPORT_SYNC_FILE). Printed as one "sync-latency:"
 *    line with p50/p99 of the latency and of the CPU cost of those exports and imports.
 *
 * One Vulkan device for everything: creating one on lavapipe costs seconds in the TCG guest,
 * and the first job of a pipeline compiles its kernel (about 33 s without a shader cache, see
 * tests/vm/meson.build). 64x48 frames keep a job at a few ms under TCG (320x240: 250 ms).
 *
 * One-off: tests/vm/run-in-vm.sh --build BUILD
 *              --env VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.json
 *              -- BUILD/tests/vm/test-vm-pipeline-sync
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <linux/dma-buf.h>

#include "kernels.h"
#include "pipeline.h"
#include "test.h"
#include "vk-device.h"
#include "vm-dmabuf.h"
#include "vm-pattern.h"

#define WIDTH 64u
#define HEIGHT 48u
#define LATE_FRAMES 240u
#define BENCH_FRAMES 300u
#define UDMABUF_FRAMES 12u
#define MAX_DELAY_MS 5u
#define RESULT_TIMEOUT_MS 8000
#define WARM_UP_TIMEOUT_MS 90000
#define MAX_JOBS (2 * LATE_FRAMES + 2 * BENCH_FRAMES + UDMABUF_FRAMES + 16)
/*
 * Longest acceptable cr_pipeline_submit() with a pending fence. A submit that waited for the
 * fence would return only at vgem's 10 s expiry (the test signals it after submit returns);
 * TCG stalls of a few hundred ms must not fail the test.
 */
#define SUBMIT_LIMIT_NS (2000ull * 1000 * 1000)
/* BGRx: the x byte is not compared (the kernel may write 0xff there). */
#define RGB_MASK 0x00ffffffu

struct job {
	bool called, ok;
	uint64_t done_ns;
	const uint8_t *map; /* the exported output written, mapped; NULL: host readback */
	uint64_t fence_ns;  /* cr_pipeline_result.fence_ns */
};

struct bed {
	struct cr_vk_device *dev;
	struct cr_pipeline *sync, *skip; /* skip: created with CASTRELAY_TEST_SKIP_SYNC=1 */
	const struct cr_format_info *bgrx;
	int vgem;
	struct cr_dmabuf_alloc_vgem_bo bo;
	struct cr_pipeline_source *bo_sync, *bo_skip; /* bo imported into each pipeline */
	uint32_t *out; /* copy of the last result, WIDTH x HEIGHT, tightly packed */
	/*
	 * Every submission gets its own record, never reused: a job that was given up on may
	 * still be delivered later (at the latest by cr_pipeline_destroy()).
	 */
	struct job jobs[MAX_JOBS];
	unsigned n_jobs;
};

enum verdict { FRESH, STALE, MIXED };

struct late_stats {
	unsigned frames, fresh, stale, mixed, lost;
	unsigned early;      /* results that came while the fence was still pending */
	unsigned watched;    /* frames watched pending for >= 3 ms */
	uint64_t max_submit_ns;
};

static void on_done(void *job_data, const struct cr_pipeline_result *res, void *data)
{
	struct bed *bed = data;
	struct job *job = job_data;
	job->done_ns = cr_vm_now_ns();
	job->called = true;
	job->fence_ns = res->fence_ns;
	const uint8_t *pixels = res->pixels ? res->pixels : job->map;
	job->ok = res->ok && pixels;
	if (job->ok)
		for (uint32_t y = 0; y < HEIGHT; y++)
			memcpy(bed->out + (size_t)y * WIDTH,
			       pixels + res->layout.offset[0] + (size_t)y * res->layout.stride[0],
			       WIDTH * 4);
}

/* Waits up to @timeout_ms for the pipeline's fd and dispatches; true once @job was delivered. */
static bool poll_job(struct cr_pipeline *pipe, struct job *job, int timeout_ms)
{
	struct pollfd pfd = { .fd = cr_pipeline_get_fd(pipe), .events = POLLIN };
	uint64_t deadline = cr_vm_now_ns() + (uint64_t)timeout_ms * 1000000u;
	while (!job->called) {
		uint64_t now = cr_vm_now_ns();
		int left = now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
		int ret = poll(&pfd, 1, left);
		if (ret > 0)
			cr_pipeline_dispatch(pipe);
		else if (ret == 0 || cr_vm_now_ns() >= deadline)
			break;
	}
	return job->called;
}

/* An exported output DMA-BUF, mapped so that results can be read where consumers read them. */
struct output {
	struct cr_pipeline_output *out;
	int fd;
	uint8_t *map;
	size_t size;
};

/*
 * Submits an identity job, into @output when not NULL (else a host readback); returns its
 * record, or NULL when the submission failed.
 */
static struct job *submit_to(struct bed *bed, struct cr_pipeline *pipe,
			     struct cr_pipeline_source *src, uint32_t stride,
			     const struct output *output)
{
	if (!CHECK_LT_INT(bed->n_jobs, MAX_JOBS))
		return NULL;
	struct job *job = &bed->jobs[bed->n_jobs++];
	job->map = output ? output->map : NULL;
	struct cr_pipeline_frame in = {
		.format = bed->bgrx, .width = WIDTH, .height = HEIGHT, .stride = stride,
		.source = src,
	};
	struct cr_pipeline_target out = { .format = bed->bgrx, .width = WIDTH, .height = HEIGHT,
					  .output = output ? output->out : NULL };
	return cr_pipeline_submit(pipe, &in, &out, job) ? job : NULL;
}

static struct job *submit(struct bed *bed, struct cr_pipeline *pipe,
			  struct cr_pipeline_source *src, uint32_t stride)
{
	return submit_to(bed, pipe, src, stride, NULL);
}

/* Which of pattern @old / @new the last result holds, exactly, or MIXED. */
static enum verdict classify(const struct bed *bed, uint32_t old, uint32_t new)
{
	size_t n_new = 0, n_old = 0;
	for (uint32_t y = 0; y < HEIGHT; y++)
		for (uint32_t x = 0; x < WIDTH; x++) {
			uint32_t got = bed->out[(size_t)y * WIDTH + x] & RGB_MASK;
			n_new += got == (cr_vm_pattern_pixel(new, x, y) & RGB_MASK);
			n_old += got == (cr_vm_pattern_pixel(old, x, y) & RGB_MASK);
		}
	size_t all = (size_t)WIDTH * HEIGHT;
	return n_new == all ? FRESH : n_old == all ? STALE : MIXED;
}

static void fill_bo(struct bed *bed, uint32_t seed)
{
	cr_vm_pattern_fill(bed->bo.map, bed->bo.stride, WIDTH, HEIGHT, seed);
}

/*
 * One late write: old pattern, pending write fence, submit, watch it pending for @delay_ms
 * (0: just look), new pattern, signal, collect. Returns false when the bed itself failed.
 */
static bool late_frame(struct bed *bed, struct cr_pipeline *pipe, struct cr_pipeline_source *src,
		       uint32_t seed, unsigned delay_ms, struct late_stats *st)
{
	uint32_t old = seed, new = seed + 1;
	fill_bo(bed, old);
	uint32_t fence;
	if (!CHECK(cr_dmabuf_alloc_vgem_fence_attach(bed->vgem, bed->bo.handle, true, &fence)))
		return false;
	uint64_t t0 = cr_vm_now_ns();
	struct job *job = submit(bed, pipe, src, bed->bo.stride);
	uint64_t submit_ns = cr_vm_now_ns() - t0;
	if (!CHECK_MSG(job != NULL, "frame %u: cr_pipeline_submit failed", st->frames)) {
		cr_dmabuf_alloc_vgem_fence_signal(bed->vgem, fence);
		return false;
	}
	if (submit_ns > st->max_submit_ns)
		st->max_submit_ns = submit_ns;
	/* The producer is still writing: a correct consumer has nothing to deliver yet. */
	if (poll_job(pipe, job, (int)delay_ms))
		st->early++;
	if (delay_ms >= 3)
		st->watched++;
	fill_bo(bed, new);
	bool signalled = CHECK(cr_dmabuf_alloc_vgem_fence_signal(bed->vgem, fence));
	st->frames++;
	if (!poll_job(pipe, job, RESULT_TIMEOUT_MS) || !job->ok) {
		st->lost++;
		return signalled && job->called;
	}
	switch (classify(bed, old, new)) {
	case FRESH: st->fresh++; break;
	case STALE: st->stale++; break;
	case MIXED: st->mixed++; break;
	}
	return signalled;
}

static void late_loop(struct bed *bed, struct cr_pipeline *pipe, struct cr_pipeline_source *src,
		      uint32_t seed_base, struct late_stats *st)
{
	*st = (struct late_stats){ 0 };
	for (unsigned i = 0; i < LATE_FRAMES; i++) {
		/* Delays 0..5 ms in a scrambled order; patterns encode the frame number. */
		unsigned delay_ms = (i * 7u + i / 6u) % (MAX_DELAY_MS + 1);
		if (!late_frame(bed, pipe, src, seed_base + 2 * i, delay_ms, st))
			break;
	}
	cr_test_log("  %u frames: %u fresh, %u stale, %u mixed, %u lost; %u results while the "
		    "fence was pending (%u frames watched >= 3 ms); slowest submit %.2f ms",
		    st->frames, st->fresh, st->stale, st->mixed, st->lost, st->early, st->watched,
		    (double)st->max_submit_ns / 1e6);
}

static void case_late_writes(struct bed *bed)
{
	struct late_stats st;
	cr_test_log("1. late writes under a pending vgem write fence, synchronised pipeline");
	CHECK_EQ_STR(cr_pipeline_sync_mode(bed->sync), "none"); /* no DMA-BUF frame yet */
	late_loop(bed, bed->sync, bed->bo_sync, 0x10000, &st);
	CHECK_EQ_UINT(st.frames, LATE_FRAMES);
	CHECK_EQ_UINT(st.fresh, LATE_FRAMES);
	CHECK_EQ_UINT(st.stale, 0);
	CHECK_EQ_UINT(st.mixed, 0);
	CHECK_EQ_UINT(st.lost, 0);
	CHECK_EQ_UINT(st.early, 0);
	CHECK_MSG(st.max_submit_ns < SUBMIT_LIMIT_NS, "cr_pipeline_submit took %.1f ms with a "
		  "pending fence: the main thread waited", (double)st.max_submit_ns / 1e6);
	cr_test_log("3. sync mode after vgem frames: %s", cr_pipeline_sync_mode(bed->sync));
	CHECK_EQ_STR(cr_pipeline_sync_mode(bed->sync), "implicit");

	cr_test_log("2. the same loop with CASTRELAY_TEST_SKIP_SYNC=1 must go wrong");
	late_loop(bed, bed->skip, bed->bo_skip, 0x20000, &st);
	CHECK_EQ_UINT(st.frames, LATE_FRAMES);
	CHECK_EQ_UINT(st.lost, 0);
	CHECK_MSG(st.stale + st.mixed > 0, "no stale or mixed frame without sync: the test "
		  "cannot tell a consumer that ignores implicit sync from a correct one");
	cr_test_log("3. sync mode with the skip switch: %s", cr_pipeline_sync_mode(bed->skip));
	CHECK_EQ_STR(cr_pipeline_sync_mode(bed->skip), "none");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static double percentile_us(uint64_t *v, unsigned n, unsigned pct)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	unsigned i = (n * pct + 99) / 100;
	return (double)v[i ? i - 1 : 0] / 1e3;
}

/*
 * One frame whose producer already finished (fence attached and signalled), written into
 * @output; 0 on failure.
 */
static uint64_t bench_frame(struct bed *bed, struct cr_pipeline *pipe,
			    struct cr_pipeline_source *src, const struct output *output,
			    uint32_t seed, uint64_t *submit_ns, uint64_t *fence_ns, unsigned *wrong)
{
	fill_bo(bed, seed);
	uint32_t fence;
	if (!CHECK(cr_dmabuf_alloc_vgem_fence_attach(bed->vgem, bed->bo.handle, true,
						     &fence)) ||
	    !CHECK(cr_dmabuf_alloc_vgem_fence_signal(bed->vgem, fence)))
		return 0;
	uint64_t t0 = cr_vm_now_ns();
	struct job *job = submit_to(bed, pipe, src, bed->bo.stride, output);
	*submit_ns = cr_vm_now_ns() - t0;
	if (!CHECK(job != NULL) || !CHECK(poll_job(pipe, job, RESULT_TIMEOUT_MS)) ||
	    !CHECK(job->ok))
		return 0;
	*fence_ns = job->fence_ns;
	*wrong += classify(bed, seed ^ 0x5555, seed) != FRESH;
	return job->done_ns - t0;
}

static bool output_init(struct output *o, struct cr_pipeline *pipe,
			const struct cr_format_info *format)
{
	struct cr_plane_layout layout;
	cr_format_plane_layout(format, WIDTH, HEIGHT, &layout);
	*o = (struct output){ .fd = -1, .size = layout.size };
	o->out = cr_pipeline_export_output(pipe, o->size, &o->fd);
	if (!CHECK(o->out != NULL))
		return false;
	void *map = mmap(NULL, o->size, PROT_READ, MAP_SHARED, o->fd, 0);
	if (!CHECK(map != MAP_FAILED))
		return false;
	o->map = map;
	return true;
}

static void output_finish(struct output *o, struct cr_pipeline *pipe)
{
	if (o->map)
		munmap(o->map, o->size);
	cr_pipeline_output_destroy(pipe, o->out);
	if (o->fd >= 0)
		close(o->fd);
}

static double percentile_i64_us(int64_t *v, unsigned n, unsigned pct)
{
	qsort(v, n, sizeof(*v), cmp_i64);
	unsigned i = (n * pct + 99) / 100;
	return (double)v[i ? i - 1 : 0] / 1e3;
}

static void case_bench(struct bed *bed)
{
	cr_test_log("4. latency added by implicit sync (vgem in, its fence already signalled; "
		    "exported DMA-BUF out), %u frames each, interleaved", BENCH_FRAMES);
	struct output outs[2] = { { .fd = -1 }, { .fd = -1 } }; /* 0: with sync, 1: without */
	if (!output_init(&outs[0], bed->sync, bed->bgrx) ||
	    !output_init(&outs[1], bed->skip, bed->bgrx))
		goto finish;
	static uint64_t lat[2][BENCH_FRAMES], sub[2][BENCH_FRAMES], fence[2][BENCH_FRAMES];
	unsigned wrong[2] = { 0, 0 }, n = 0;
	for (unsigned i = 0; i < BENCH_FRAMES; i++, n++) {
		/* Alternate which pipeline goes first, so that neither always follows the other. */
		for (unsigned k = 0; k < 2; k++) {
			unsigned w = (k + i) % 2;
			lat[w][i] = bench_frame(bed, w ? bed->skip : bed->sync,
						w ? bed->bo_skip : bed->bo_sync, &outs[w],
						0x30000 + 4 * i + 2 * w, &sub[w][i], &fence[w][i],
						&wrong[w]);
			if (lat[w][i] == 0)
				break;
		}
		if (lat[0][i] == 0 || lat[1][i] == 0)
			break;
	}
	CHECK_EQ_UINT(n, BENCH_FRAMES);
	CHECK_EQ_UINT(wrong[0], 0);
	CHECK_EQ_UINT(wrong[1], 0);
	CHECK_EQ_STR(cr_pipeline_output_fence_mode(bed->sync), "attached");
	CHECK_EQ_STR(cr_pipeline_output_fence_mode(bed->skip), "none");
	if (n < 2)
		goto finish;
	/* Neighbouring frames share the guest's momentary speed: their difference is steadier. */
	static int64_t diff[BENCH_FRAMES];
	for (unsigned i = 0; i < n; i++)
		diff[i] = (int64_t)lat[0][i] - (int64_t)lat[1][i];
	double add50 = percentile_i64_us(diff, n, 50), add99 = percentile_i64_us(diff, n, 99);
	double with50 = percentile_us(lat[0], n, 50), with99 = percentile_us(lat[0], n, 99);
	double wo50 = percentile_us(lat[1], n, 50), wo99 = percentile_us(lat[1], n, 99);
	double sw50 = percentile_us(sub[0], n, 50), sw99 = percentile_us(sub[0], n, 99);
	double swo50 = percentile_us(sub[1], n, 50), swo99 = percentile_us(sub[1], n, 99);
	double f50 = percentile_us(fence[0], n, 50), f99 = percentile_us(fence[0], n, 99);
	printf("sync-latency: %ux%u BGRx, vgem DMA-BUF in -> exported DMA-BUF out, %u frames "
	       "each, interleaved; per frame, submit -> result: implicit sync p50=%.0f p99=%.0f us, "
	       "none p50=%.0f p99=%.0f us, added (pair differences) p50=%.0f p99=%.0f us; CPU: "
	       "cr_pipeline_submit (fence export+import in and out) implicit p50=%.0f p99=%.0f us, "
	       "none p50=%.0f p99=%.0f us; our output fence (export+import at delivery) p50=%.0f "
	       "p99=%.0f us\n",
	       WIDTH, HEIGHT, n, with50, with99, wo50, wo99, add50, add99, sw50, sw99, swo50,
	       swo99, f50, f99);
	fflush(stdout);
finish:
	output_finish(&outs[1], bed->skip);
	output_finish(&outs[0], bed->sync);
}

/*
 * A udmabuf: its fences can be exported (none pending: the pipeline's wait is a no-op) and a
 * foreign pending fence can be put on it with IMPORT_SYNC_FILE, which the pipeline must honour.
 */
static void case_udmabuf(struct bed *bed)
{
	cr_test_log("3. udmabuf: exact pixels and sync mode, without and with a pending fence");
	size_t size = ((size_t)WIDTH * 4 * HEIGHT + 4095) & ~(size_t)4095;
	int memfd = -1;
	int udmabuf = cr_dmabuf_alloc_udmabuf(size, &memfd);
	if (!CHECK(udmabuf >= 0))
		return;
	void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	struct cr_dmabuf desc = {
		.width = WIDTH, .height = HEIGHT, .fourcc = DRM_FORMAT_XRGB8888,
		.modifier = DRM_FORMAT_MOD_LINEAR, .n_planes = 1,
		.planes[0] = { udmabuf, 0, WIDTH * 4 },
	};
	struct cr_pipeline_source *src = cr_pipeline_import_dmabuf(bed->sync, &desc);
	if (!CHECK(map != MAP_FAILED) || !CHECK(src != NULL))
		goto unmap;

	unsigned fresh = 0, implicit = 0, early = 0;
	for (unsigned i = 0; i < UDMABUF_FRAMES; i++) {
		uint32_t old = 0x40000 + 2 * i, new = old + 1;
		bool fenced = i % 2; /* odd frames: a pending vgem fence imported as a writer */
		cr_vm_pattern_fill(map, WIDTH * 4, WIDTH, HEIGHT, fenced ? old : new);
		uint32_t fence = 0;
		if (fenced) {
			if (!CHECK(cr_dmabuf_alloc_vgem_fence_attach(bed->vgem, bed->bo.handle,
								      true, &fence)))
				break;
			int pending = cr_vm_dmabuf_export_sync_file(bed->bo.dmabuf,
								    DMA_BUF_SYNC_READ);
			if (CHECK(pending >= 0)) {
				CHECK(cr_vm_dmabuf_import_sync_file(udmabuf, pending,
								    DMA_BUF_SYNC_WRITE));
				close(pending);
			}
		}
		struct job *job = submit(bed, bed->sync, src, WIDTH * 4);
		bool submitted = CHECK(job != NULL);
		if (submitted && fenced) {
			early += poll_job(bed->sync, job, 3);
			cr_vm_pattern_fill(map, WIDTH * 4, WIDTH, HEIGHT, new);
		}
		if (fenced)
			CHECK(cr_dmabuf_alloc_vgem_fence_signal(bed->vgem, fence));
		if (!submitted)
			break;
		if (CHECK(poll_job(bed->sync, job, RESULT_TIMEOUT_MS)) && CHECK(job->ok))
			fresh += classify(bed, old, new) == FRESH;
		implicit += strcmp(cr_pipeline_sync_mode(bed->sync), "implicit") == 0;
	}
	cr_test_log("  %u frames: %u exact, %u synchronised (\"implicit\"), %u early results",
		    UDMABUF_FRAMES, fresh, implicit, early);
	CHECK_EQ_UINT(fresh, UDMABUF_FRAMES);
	CHECK_EQ_UINT(implicit, UDMABUF_FRAMES);
	CHECK_EQ_UINT(early, 0);
unmap:
	cr_pipeline_source_destroy(bed->sync, src);
	if (map != MAP_FAILED)
		munmap(map, size);
	close(memfd);
	close(udmabuf);
}

/* A memfd imports (lavapipe accepts it as a DMA-BUF) but has no fences: "none", exact pixels. */
static void case_memfd(struct bed *bed)
{
	cr_test_log("3. memfd (not a DMA-BUF, no fences to export): sync mode none");
	size_t size = (size_t)WIDTH * 4 * HEIGHT;
	int memfd = memfd_create("test-vm-pipeline-sync", MFD_CLOEXEC);
	if (!CHECK(memfd >= 0) || !CHECK_EQ_INT(ftruncate(memfd, (off_t)size), 0))
		goto close_memfd;
	void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (!CHECK(map != MAP_FAILED))
		goto close_memfd;
	cr_vm_pattern_fill(map, WIDTH * 4, WIDTH, HEIGHT, 0x50001);
	struct cr_dmabuf desc = {
		.width = WIDTH, .height = HEIGHT, .fourcc = DRM_FORMAT_XRGB8888,
		.modifier = DRM_FORMAT_MOD_LINEAR, .n_planes = 1,
		.planes[0] = { memfd, 0, WIDTH * 4 },
	};
	struct cr_pipeline_source *src = cr_pipeline_import_dmabuf(bed->sync, &desc);
	if (!src) {
		/* Not what this test is about: lavapipe's acceptance of memfds is a quirk. */
		cr_test_log("  lavapipe did not import a memfd here: case not run");
		goto unmap;
	}
	struct job *job = submit(bed, bed->sync, src, WIDTH * 4);
	if (CHECK(job != NULL) && CHECK(poll_job(bed->sync, job, RESULT_TIMEOUT_MS)) &&
	    CHECK(job->ok))
		CHECK_EQ_INT(classify(bed, 0x50000, 0x50001), FRESH);
	CHECK_EQ_STR(cr_pipeline_sync_mode(bed->sync), "none");
	cr_pipeline_source_destroy(bed->sync, src);
unmap:
	munmap(map, size);
close_memfd:
	if (memfd >= 0)
		close(memfd);
}

/*
 * The first job of a pipeline also compiles its kernel in llvmpipe (lazily, at the first
 * dispatch), which takes seconds under TCG: run it on SHM input, outside any timed or
 * fenced frame. Returns false when the pipeline does not work at all.
 */
static bool warm_up(struct bed *bed, struct cr_pipeline *pipe, const char *name)
{
	cr_vm_pattern_fill(bed->bo.map, bed->bo.stride, WIDTH, HEIGHT, 0x7);
	struct cr_pipeline_frame in = {
		.format = bed->bgrx, .width = WIDTH, .height = HEIGHT, .stride = bed->bo.stride,
		.data = bed->bo.map, .size = bed->bo.size,
	};
	struct cr_pipeline_target out = { .format = bed->bgrx, .width = WIDTH, .height = HEIGHT };
	struct job *job = &bed->jobs[bed->n_jobs++];
	uint64_t t0 = cr_vm_now_ns();
	if (!CHECK(cr_pipeline_submit(pipe, &in, &out, job)) ||
	    !CHECK_MSG(poll_job(pipe, job, WARM_UP_TIMEOUT_MS), "%s: no first result in %d s",
		       name, WARM_UP_TIMEOUT_MS / 1000) ||
	    !CHECK(job->ok))
		return false;
	cr_test_log("%s: first job (kernel compilation) took %.1f s", name,
		    (double)(job->done_ns - t0) / 1e9);
	return CHECK_EQ_INT(classify(bed, 0x6, 0x7), FRESH);
}

static struct cr_pipeline_source *import_bo(struct bed *bed, struct cr_pipeline *pipe)
{
	struct cr_dmabuf desc = {
		.width = WIDTH, .height = HEIGHT, .fourcc = DRM_FORMAT_XRGB8888,
		.modifier = DRM_FORMAT_MOD_LINEAR, .n_planes = 1,
		.planes[0] = { bed->bo.dmabuf, 0, bed->bo.stride },
	};
	return cr_pipeline_import_dmabuf(pipe, &desc);
}

int main(void)
{
	if (!getenv("CR_VM_GUEST"))
		return cr_test_skip("guest-side test: run the vm suite (tests/vm/run-in-vm.sh)");

	static struct bed bed = { .vgem = -1, .bo = { .dmabuf = -1 } };
	bed.bgrx = cr_format_info_from_fourcc(DRM_FORMAT_XRGB8888);
	bed.out = calloc((size_t)WIDTH * HEIGHT, 4);
	uint64_t t0 = cr_vm_now_ns();
	bed.dev = cr_vk_device_create("llvmpipe");
	if (!bed.dev || !bed.out)
		return cr_test_broken("no lavapipe device");
	cr_test_log("device: %s (created in %.1f s)", cr_vk_device_name(bed.dev),
		    (double)(cr_vm_now_ns() - t0) / 1e9);

	/* The switch is read when a pipeline is created: one pipeline each way, one device. */
	unsetenv("CASTRELAY_TEST_SKIP_SYNC");
	/* Before the first job, as the daemon does before READY (kernels.h). */
	struct cr_kernels *kernels = cr_kernels_create(bed.dev, NULL);
	if (kernels && !cr_kernels_wait(kernels, CR_KERNELS_BUFFERS))
		fprintf(stderr, "some kernel variants failed to build\n");
	bed.sync = cr_pipeline_create(kernels, on_done, &bed);
	setenv("CASTRELAY_TEST_SKIP_SYNC", "1", 1);
	bed.skip = cr_pipeline_create(kernels, on_done, &bed);
	unsetenv("CASTRELAY_TEST_SKIP_SYNC");
	if (!CHECK(bed.sync != NULL) || !CHECK(bed.skip != NULL) ||
	    !CHECK(cr_pipeline_can_import_dmabuf(bed.sync)))
		goto destroy_pipelines;

	bed.vgem = cr_dmabuf_alloc_open_drm("vgem", true);
	if (!CHECK(bed.vgem >= 0) ||
	    !CHECK(cr_dmabuf_alloc_vgem_bo_init(&bed.bo, bed.vgem, WIDTH, HEIGHT)))
		goto close_vgem;
	bed.bo_sync = import_bo(&bed, bed.sync);
	bed.bo_skip = import_bo(&bed, bed.skip);
	if (!CHECK(bed.bo_sync != NULL) || !CHECK(bed.bo_skip != NULL))
		goto destroy_sources;

	if (!warm_up(&bed, bed.sync, "with sync") || !warm_up(&bed, bed.skip, "without sync"))
		goto destroy_sources;
	case_late_writes(&bed);
	case_bench(&bed);
	case_udmabuf(&bed);
	case_memfd(&bed);

destroy_sources:
	cr_pipeline_source_destroy(bed.sync, bed.bo_sync);
	cr_pipeline_source_destroy(bed.skip, bed.bo_skip);
close_vgem:
	if (bed.vgem >= 0) {
		cr_dmabuf_alloc_vgem_bo_finish(&bed.bo, bed.vgem);
		close(bed.vgem);
	}
destroy_pipelines:
	cr_pipeline_destroy(bed.skip);
	cr_pipeline_destroy(bed.sync);
	cr_kernels_destroy(kernels);
	cr_vk_device_destroy(bed.dev);
	free(bed.out);
	return cr_test_result();
}
