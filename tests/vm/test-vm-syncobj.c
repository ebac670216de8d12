/* SPDX-License-Identifier: MIT */
/*
 * Guest side (suite vm-guest): DRM timeline syncobjs of the virtio-gpu device as a PipeWire
 * explicit-sync peer uses them, chained with a real pending fence and with lavapipe.
 * 1. CPU-signalled points: query, wait, eventfds for "available" and "signalled", export.
 * 2. A vgem write fence (pending) becomes timeline point 1: the WAIT_AVAILABLE eventfd fires
 *    at once, the signal eventfd only after the fence; the point exported as a sync_file and
 *    imported into lavapipe as a SYNC_FD semaphore holds the copy back until the fence is
 *    signalled, and the copy then reads the new pixels.
 * 3. lavapipe's completion exported as a sync_file becomes timeline point 2.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "test.h"
#include "vm-dmabuf.h"
#include "vm-pattern.h"
#include "syncobj.h"
#include "vm-vk.h"

#define WIDTH 32u
#define HEIGHT 32u
#define SECOND_NS 1000000000ull
#define MS_NS 1000000ull

enum { OLD = 0x1a, NEW = 0x1b };

struct bed {
	int drm;
	int vgem;
	struct cr_vm_vk *vk;
	struct cr_dmabuf_alloc_vgem_bo bo;
	struct cr_vm_vk_image *img;
	struct cr_vm_vk_buffer *dst;
	uint64_t watch_ns; /* see test-vm-implicit-sync.c */
};

/* 1 when @fd polls readable within @timeout_ms, 0 if not, -1 on error. */
static int readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int ret = poll(&pfd, 1, timeout_ms);
	return ret < 0 ? -1 : ret;
}

static struct cr_vm_vk_job *submit_read(struct bed *bed, int sync, bool export)
{
	memset(bed->dst->map, 0, WIDTH * HEIGHT * 4);
	struct cr_vm_vk_copy copy = {
		.src_image = bed->img,
		.dst = bed->dst,
		.wait_sync_file = sync,
		.export_sync_file = export,
	};
	return cr_vm_vk_copy_submit(bed->vk, &copy);
}

static bool holds(struct bed *bed, uint32_t seed)
{
	uint32_t x = 0, y = 0, got = 0;
	return CHECK_MSG(cr_vm_pattern_check(bed->dst->map, WIDTH * 4, WIDTH, HEIGHT, seed, &x, &y,
					     &got),
			 "expected pattern 0x%02x; pixel (%u, %u) is 0x%08x", seed, x, y, got);
}

static void case_cpu_points(struct bed *bed)
{
	cr_test_log("1. CPU-signalled timeline points, eventfds, export");
	uint32_t t = 0;
	if (!CHECK(cr_syncobj_create(bed->drm, &t)))
		return;
	uint64_t value = 99;
	CHECK(cr_syncobj_query(bed->drm, t, &value));
	CHECK_EQ_UINT(value, 0);
	int avail = cr_syncobj_eventfd(bed->drm, t, 1, true);
	int signalled = cr_syncobj_eventfd(bed->drm, t, 1, false);
	int later = cr_syncobj_eventfd(bed->drm, t, 3, false);
	if (CHECK(avail >= 0) && CHECK(signalled >= 0) && CHECK(later >= 0)) {
		CHECK_EQ_INT(readable(avail, 0), 0);
		CHECK_EQ_INT(readable(signalled, 0), 0);
		CHECK_EQ_INT(cr_syncobj_wait(bed->drm, t, 1, false, 0), 0);

		CHECK(cr_syncobj_signal(bed->drm, t, 1));
		CHECK_EQ_INT(readable(avail, 1000), 1);
		CHECK_EQ_INT(readable(signalled, 1000), 1);
		CHECK_EQ_INT(cr_syncobj_wait(bed->drm, t, 1, false, 0), 1);
		CHECK(cr_syncobj_query(bed->drm, t, &value));
		CHECK_EQ_UINT(value, 1);

		CHECK(cr_syncobj_signal(bed->drm, t, 2));
		CHECK_EQ_INT(readable(later, 0), 0);
		CHECK(cr_syncobj_signal(bed->drm, t, 3));
		CHECK_EQ_INT(readable(later, 1000), 1);
		CHECK(cr_syncobj_query(bed->drm, t, &value));
		CHECK_EQ_UINT(value, 3);

		int sync = cr_syncobj_export_sync_file(bed->drm, t, 2);
		if (CHECK(sync >= 0)) {
			CHECK_EQ_INT(cr_vm_sync_file_wait(sync, 0), 1);
			close(sync);
		}
	}
	if (avail >= 0)
		close(avail);
	if (signalled >= 0)
		close(signalled);
	if (later >= 0)
		close(later);
	cr_syncobj_destroy(bed->drm, t);
}

static void case_pending_chain(struct bed *bed)
{
	cr_test_log("2. pending vgem fence -> timeline point -> sync_file -> lavapipe wait");
	uint32_t t = 0;
	if (!CHECK(cr_syncobj_create(bed->drm, &t)))
		return;
	int avail = cr_syncobj_eventfd(bed->drm, t, 1, true);
	int signalled = cr_syncobj_eventfd(bed->drm, t, 1, false);
	uint32_t fence;
	if (!CHECK(avail >= 0) || !CHECK(signalled >= 0) ||
	    !CHECK(cr_dmabuf_alloc_vgem_fence_attach(bed->vgem, bed->bo.handle, true, &fence)))
		goto close_fds;
	cr_vm_pattern_fill(bed->bo.map, bed->bo.stride, WIDTH, HEIGHT, OLD);
	CHECK_EQ_INT(cr_syncobj_wait(bed->drm, t, 1, true, 0), 0);
	CHECK_EQ_INT(readable(avail, 0), 0);

	int producer = cr_vm_dmabuf_export_sync_file(bed->bo.dmabuf, DMA_BUF_SYNC_READ);
	if (CHECK(producer >= 0)) {
		CHECK(cr_syncobj_import_sync_file(bed->drm, t, 1, producer));
		close(producer);
	}
	/* Available (a fence is attached) but not signalled. */
	CHECK_EQ_INT(readable(avail, 1000), 1);
	CHECK_EQ_INT(cr_syncobj_wait(bed->drm, t, 1, true, 0), 1);
	CHECK_EQ_INT(cr_syncobj_wait(bed->drm, t, 1, false, 0), 0);
	CHECK_EQ_INT(readable(signalled, 0), 0);
	uint64_t value = 99;
	CHECK(cr_syncobj_query(bed->drm, t, &value));
	CHECK_EQ_UINT(value, 0);

	int sync = cr_syncobj_export_sync_file(bed->drm, t, 1);
	if (CHECK(sync >= 0))
		CHECK_EQ_INT(cr_vm_sync_file_wait(sync, 0), 0);
	struct cr_vm_vk_job *job = submit_read(bed, sync, false); /* sync is taken */
	cr_vm_sleep_ns(bed->watch_ns);
	if (job)
		CHECK_EQ_INT(cr_vm_vk_job_poll(bed->vk, job), 0);
	CHECK_EQ_INT(readable(signalled, 0), 0);

	cr_vm_pattern_fill(bed->bo.map, bed->bo.stride, WIDTH, HEIGHT, NEW);
	CHECK(cr_dmabuf_alloc_vgem_fence_signal(bed->vgem, fence));
	if (CHECK(job != NULL) && CHECK_EQ_INT(cr_vm_vk_job_wait(bed->vk, job, 5 * SECOND_NS), 1))
		holds(bed, NEW);
	CHECK_EQ_INT(readable(signalled, 1000), 1);
	CHECK(cr_syncobj_query(bed->drm, t, &value));
	CHECK_EQ_UINT(value, 1);
	cr_vm_vk_job_destroy(bed->vk, job);
close_fds:
	if (avail >= 0)
		close(avail);
	if (signalled >= 0)
		close(signalled);
	cr_syncobj_destroy(bed->drm, t);
}

static void case_vulkan_to_timeline(struct bed *bed)
{
	cr_test_log("3. lavapipe's completion -> sync_file -> timeline point");
	uint32_t t = 0;
	if (!CHECK(cr_syncobj_create(bed->drm, &t)))
		return;
	CHECK(cr_syncobj_signal(bed->drm, t, 1));
	int ev = cr_syncobj_eventfd(bed->drm, t, 2, false);
	CHECK(ev >= 0);
	cr_vm_pattern_fill(bed->bo.map, bed->bo.stride, WIDTH, HEIGHT, OLD);
	struct cr_vm_vk_job *job = submit_read(bed, -1, true);
	if (CHECK(job != NULL)) {
		int done = cr_vm_vk_job_export_sync_file(bed->vk, job);
		if (CHECK(done >= 0)) {
			CHECK(cr_syncobj_import_sync_file(bed->drm, t, 2, done));
			close(done);
		}
		CHECK_EQ_INT(cr_syncobj_wait(bed->drm, t, 2, false, 5 * (int64_t)SECOND_NS), 1);
		if (ev >= 0)
			CHECK_EQ_INT(readable(ev, 1000), 1);
		uint64_t value = 0;
		CHECK(cr_syncobj_query(bed->drm, t, &value));
		CHECK_EQ_UINT(value, 2);
		CHECK_EQ_INT(cr_vm_vk_job_poll(bed->vk, job), 1);
		holds(bed, OLD);
	}
	cr_vm_vk_job_destroy(bed->vk, job);
	if (ev >= 0)
		close(ev);
	cr_syncobj_destroy(bed->drm, t);
}

static void measure_watch(struct bed *bed)
{
	cr_vm_pattern_fill(bed->bo.map, bed->bo.stride, WIDTH, HEIGHT, OLD);
	uint64_t t0 = cr_vm_now_ns();
	struct cr_vm_vk_job *job = submit_read(bed, -1, false);
	if (CHECK(job != NULL) &&
	    CHECK_EQ_INT(cr_vm_vk_job_wait(bed->vk, job, 10 * SECOND_NS), 1) && holds(bed, OLD)) {
		uint64_t took = cr_vm_now_ns() - t0;
		bed->watch_ns = 5 * took;
		if (bed->watch_ns < 300 * MS_NS)
			bed->watch_ns = 300 * MS_NS;
		if (bed->watch_ns > 3 * SECOND_NS)
			bed->watch_ns = 3 * SECOND_NS;
	}
	cr_vm_vk_job_destroy(bed->vk, job);
}

int main(void)
{
	if (!getenv("CR_VM_GUEST"))
		return cr_test_skip("guest-side test: run the vm suite (tests/vm/run-in-vm.sh)");

	struct bed bed = { .drm = -1, .vgem = -1, .bo = { .dmabuf = -1 } };
	bed.drm = cr_dmabuf_alloc_open_drm("virtio_gpu", false);
	if (!CHECK(bed.drm >= 0))
		return cr_test_result();
	bool syncobj, timeline;
	cr_syncobj_caps(bed.drm, &syncobj, &timeline);
	if (!CHECK(syncobj) || !CHECK(timeline))
		goto close_drm;
	case_cpu_points(&bed);

	bed.vk = cr_vm_vk_create();
	bed.vgem = cr_dmabuf_alloc_open_drm("vgem", true);
	if (!CHECK_MSG(bed.vk != NULL, "no lavapipe device") || !CHECK(bed.vgem >= 0) ||
	    !CHECK(cr_dmabuf_alloc_vgem_bo_init(&bed.bo, bed.vgem, WIDTH, HEIGHT)))
		goto out;
	bed.img = cr_vm_vk_image_import(bed.vk, bed.bo.dmabuf, WIDTH, HEIGHT, bed.bo.stride,
					VK_FORMAT_B8G8R8A8_UNORM);
	bed.dst = cr_vm_vk_buffer_create_host(bed.vk, WIDTH * HEIGHT * 4);
	if (!CHECK(bed.img != NULL) || !CHECK(bed.dst != NULL))
		goto out;
	measure_watch(&bed);
	if (bed.watch_ns == 0)
		goto out;
	case_pending_chain(&bed);
	case_vulkan_to_timeline(&bed);
out:
	if (bed.vk) {
		cr_vm_vk_buffer_destroy(bed.vk, bed.dst);
		cr_vm_vk_image_destroy(bed.vk, bed.img);
	}
	if (bed.vgem >= 0) {
		cr_dmabuf_alloc_vgem_bo_finish(&bed.bo, bed.vgem);
		close(bed.vgem);
	}
	cr_vm_vk_destroy(bed.vk);
close_drm:
	close(bed.drm);
	return cr_test_result();
}
