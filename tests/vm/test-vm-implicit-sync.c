/* SPDX-License-Identifier: MIT */
/*
 * Guest side (suite vm-guest): the self test of the vm test bed's implicit synchronisation.
 * A vgem buffer plays a producer's frame: an unsignalled vgem write fence is the producer's
 * GPU write in flight, the CPU writing the new pattern through the DMA-BUF mapping is that
 * write landing, and signalling the fence is the producer's GPU finishing. lavapipe plays the
 * consumer (castrelay): it imports the buffer and copies it into a host-visible buffer.
 *
 * 1. A consumer that does not wait reads the old pattern while the fence is pending: the bed
 *    can tell a consumer that ignores implicit sync from a correct one (otherwise every sync
 *    test built on it would pass vacuously).
 * 2. A consumer that waits on the sync_file of DMA_BUF_IOCTL_EXPORT_SYNC_FILE, imported as a
 *    temporary SYNC_FD semaphore, stays blocked while the fence is pending and reads the new
 *    pattern: the wait works. Run on the image path, then with the producer in another
 *    thread racing the submit on the buffer path.
 * 3. DMA_BUF_IOCTL_IMPORT_SYNC_FILE (castrelay's implicit out) on a udmabuf: a pending fence
 *    imported as a writer blocks a reader that waits on the buffer's exported sync_file.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "test.h"
#include "vm-dmabuf.h"
#include "vm-pattern.h"
#include "vm-vk.h"

#define WIDTH 64u
#define HEIGHT 48u
#define SECOND_NS 1000000000ull
#define MS_NS 1000000ull

enum { OLD = 0x0a, NEW = 0x0b, NEWER = 0x0c };

struct bed {
	struct cr_vm_vk *vk;
	int vgem;
	struct cr_dmabuf_alloc_vgem_bo bo;
	struct cr_vm_vk_image *img;    /* bo imported as a LINEAR image */
	struct cr_vm_vk_buffer *buf;   /* bo imported as a buffer */
	struct cr_vm_vk_buffer *dst;   /* host-visible readback */
	/*
	 * How long a pending copy is watched before the producer's write lands: several times
	 * what an unsynchronised copy took, so that "still pending" means "waiting", not "slow".
	 */
	uint64_t watch_ns;
};

/* Which pattern the readback holds: OLD, NEW, NEWER or -1 (none: torn or garbage). */
static int readback(struct bed *bed)
{
	static const uint32_t seeds[] = { OLD, NEW, NEWER };
	int i = cr_vm_pattern_which(bed->dst->map, WIDTH * 4, WIDTH, HEIGHT, seeds, 3);
	return i < 0 ? -1 : (int)seeds[i];
}

/* Submits a copy of the image (or buffer) into dst, waiting on @sync (taken) if >= 0. */
static struct cr_vm_vk_job *submit_read(struct bed *bed, bool image, int sync)
{
	memset(bed->dst->map, 0, WIDTH * HEIGHT * 4);
	struct cr_vm_vk_copy copy = {
		.src_image = image ? bed->img : NULL,
		.src_buffer = image ? NULL : bed->buf,
		.dst = bed->dst,
		.wait_sync_file = sync,
	};
	return cr_vm_vk_copy_submit(bed->vk, &copy);
}

/* The bo's stride is the kernel's; the buffer import copies it whole, rows included. */
static int readback_buffer(struct bed *bed)
{
	static const uint32_t seeds[] = { OLD, NEW, NEWER };
	int i = cr_vm_pattern_which(bed->dst->map, bed->bo.stride, WIDTH, HEIGHT, seeds, 3);
	return i < 0 ? -1 : (int)seeds[i];
}

static void fill(struct bed *bed, uint32_t seed)
{
	cr_vm_pattern_fill(bed->bo.map, bed->bo.stride, WIDTH, HEIGHT, seed);
}

static void case_baseline(struct bed *bed)
{
	cr_test_log("baseline: no fence, the copy reads what the CPU wrote");
	fill(bed, OLD);
	uint64_t t0 = cr_vm_now_ns();
	struct cr_vm_vk_job *job = submit_read(bed, true, -1);
	if (CHECK(job != NULL) &&
	    CHECK_EQ_INT(cr_vm_vk_job_wait(bed->vk, job, 10 * SECOND_NS), 1)) {
		uint64_t took = cr_vm_now_ns() - t0;
		CHECK_EQ_INT(readback(bed), OLD);
		bed->watch_ns = 5 * took;
		if (bed->watch_ns < 300 * MS_NS)
			bed->watch_ns = 300 * MS_NS;
		if (bed->watch_ns > 3 * SECOND_NS)
			bed->watch_ns = 3 * SECOND_NS;
		cr_test_log("an unsynchronised copy took %.1f ms; pending copies are watched "
			    "for %.0f ms", (double)took / 1e6, (double)bed->watch_ns / 1e6);
	}
	cr_vm_vk_job_destroy(bed->vk, job);
}

static void case_no_wait_sees_old(struct bed *bed)
{
	cr_test_log("1. a read that ignores the pending write fence sees the old pattern");
	fill(bed, OLD);
	uint32_t fence;
	if (!CHECK(cr_dmabuf_alloc_vgem_fence_attach(bed->vgem, bed->bo.handle, true, &fence)))
		return;
	int sync = cr_vm_dmabuf_export_sync_file(bed->bo.dmabuf, DMA_BUF_SYNC_READ);
	CHECK(sync >= 0);
	CHECK_EQ_INT(cr_vm_sync_file_wait(sync, 0), 0); /* the producer is "busy" */

	struct cr_vm_vk_job *job = submit_read(bed, true, -1);
	/* lavapipe does no implicit sync of its own: the copy completes under the fence. */
	if (CHECK(job != NULL) && CHECK_EQ_INT(cr_vm_vk_job_wait(bed->vk, job, 5 * SECOND_NS), 1))
		CHECK_EQ_INT(readback(bed), OLD);
	CHECK_EQ_INT(cr_vm_sync_file_wait(sync, 0), 0); /* the read really overlapped the fence */

	fill(bed, NEW);
	CHECK(cr_dmabuf_alloc_vgem_fence_signal(bed->vgem, fence));
	CHECK_EQ_INT(cr_vm_sync_file_wait(sync, 1000), 1);
	/* 1, not -ETIMEDOUT: we signalled it, vgem's 10 s expiry did not. */
	CHECK_EQ_INT(cr_vm_sync_file_status(sync), 1);
	cr_vm_vk_job_destroy(bed->vk, job);
	close(sync);
}

static void case_wait_sees_new(struct bed *bed)
{
	cr_test_log("2a. a read waiting on EXPORT_SYNC_FILE blocks, then sees the new pattern "
		    "(image import)");
	fill(bed, OLD);
	uint32_t fence;
	if (!CHECK(cr_dmabuf_alloc_vgem_fence_attach(bed->vgem, bed->bo.handle, true, &fence)))
		return;
	int sync = cr_vm_dmabuf_export_sync_file(bed->bo.dmabuf, DMA_BUF_SYNC_READ);
	if (CHECK(sync >= 0))
		CHECK_EQ_INT(cr_vm_sync_file_wait(sync, 0), 0);
	struct cr_vm_vk_job *job = submit_read(bed, true, sync); /* sync is taken */

	cr_vm_sleep_ns(bed->watch_ns);
	if (job)
		CHECK_EQ_INT(cr_vm_vk_job_poll(bed->vk, job), 0);
	fill(bed, NEW);
	CHECK(cr_dmabuf_alloc_vgem_fence_signal(bed->vgem, fence));
	if (CHECK(job != NULL) && CHECK_EQ_INT(cr_vm_vk_job_wait(bed->vk, job, 5 * SECOND_NS), 1))
		CHECK_EQ_INT(readback(bed), NEW);
	cr_vm_vk_job_destroy(bed->vk, job);
}

struct producer {
	struct bed *bed;
	uint32_t fence;
	uint64_t delay_ns;
	bool signalled;
};

static void *producer_main(void *data)
{
	struct producer *p = data;
	cr_vm_sleep_ns(p->delay_ns);
	fill(p->bed, NEWER);
	p->signalled = cr_dmabuf_alloc_vgem_fence_signal(p->bed->vgem, p->fence);
	return NULL;
}

static void case_wait_sees_new_threaded(struct bed *bed)
{
	cr_test_log("2b. the producer lands its write from another thread while the waiting "
		    "read is submitted (buffer import)");
	fill(bed, OLD);
	struct producer p = { .bed = bed, .delay_ns = bed->watch_ns };
	if (!CHECK(cr_dmabuf_alloc_vgem_fence_attach(bed->vgem, bed->bo.handle, true, &p.fence)))
		return;
	int sync = cr_vm_dmabuf_export_sync_file(bed->bo.dmabuf, DMA_BUF_SYNC_READ);
	CHECK(sync >= 0);
	pthread_t thread;
	if (!CHECK_EQ_INT(pthread_create(&thread, NULL, producer_main, &p), 0)) {
		cr_dmabuf_alloc_vgem_fence_signal(bed->vgem, p.fence);
		if (sync >= 0)
			close(sync);
		return;
	}
	memset(bed->dst->map, 0, bed->buf->size);
	struct cr_vm_vk_copy copy = {
		.src_buffer = bed->buf, .dst = bed->dst, .wait_sync_file = sync,
	};
	struct cr_vm_vk_job *job = cr_vm_vk_copy_submit(bed->vk, &copy);
	if (CHECK(job != NULL) && CHECK_EQ_INT(cr_vm_vk_job_wait(bed->vk, job, 8 * SECOND_NS), 1))
		CHECK_EQ_INT(readback_buffer(bed), NEWER);
	pthread_join(thread, NULL);
	CHECK(p.signalled);
	cr_vm_vk_job_destroy(bed->vk, job);
}

static void case_import_sync_file(struct bed *bed)
{
	cr_test_log("3. IMPORT_SYNC_FILE puts a pending fence on a udmabuf; its readers wait");
	size_t size = 64 * 1024;
	int memfd = -1;
	int udmabuf = cr_dmabuf_alloc_udmabuf(size, &memfd);
	if (!CHECK(udmabuf >= 0))
		return;
	struct cr_vm_vk_buffer *src = cr_vm_vk_buffer_import(bed->vk, udmabuf, size);
	struct cr_vm_vk_buffer *dst = cr_vm_vk_buffer_create_host(bed->vk, size);
	uint32_t fence;
	if (!CHECK(src != NULL) || !CHECK(dst != NULL) ||
	    !CHECK(cr_dmabuf_alloc_vgem_fence_attach(bed->vgem, bed->bo.handle, true, &fence)))
		goto destroy_buffers;

	int pending = cr_vm_dmabuf_export_sync_file(bed->bo.dmabuf, DMA_BUF_SYNC_READ);
	if (CHECK(pending >= 0)) {
		CHECK(cr_vm_dmabuf_import_sync_file(udmabuf, pending, DMA_BUF_SYNC_WRITE));
		close(pending);
	}
	int sync = cr_vm_dmabuf_export_sync_file(udmabuf, DMA_BUF_SYNC_READ);
	if (CHECK(sync >= 0))
		CHECK_EQ_INT(cr_vm_sync_file_wait(sync, 0), 0);
	struct cr_vm_vk_copy copy = { .src_buffer = src, .dst = dst, .wait_sync_file = sync };
	struct cr_vm_vk_job *job = cr_vm_vk_copy_submit(bed->vk, &copy);
	cr_vm_sleep_ns(bed->watch_ns);
	if (job)
		CHECK_EQ_INT(cr_vm_vk_job_poll(bed->vk, job), 0);
	/* The producer's write lands (through the memfd, the udmabuf's backing pages). */
	void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (CHECK(map != MAP_FAILED))
		cr_vm_pattern_fill(map, 256, 64, size / 256, NEW);
	CHECK(cr_dmabuf_alloc_vgem_fence_signal(bed->vgem, fence));
	if (CHECK(job != NULL) && CHECK_EQ_INT(cr_vm_vk_job_wait(bed->vk, job, 5 * SECOND_NS), 1)) {
		uint32_t x = 0, y = 0, got = 0;
		CHECK_MSG(cr_vm_pattern_check(dst->map, 256, 64, size / 256, NEW, &x, &y, &got),
			  "pixel (%u, %u) is 0x%08x", x, y, got);
	}
	cr_vm_vk_job_destroy(bed->vk, job);

	/* The other way: lavapipe's completion (exported as a sync_file) as a writer fence. */
	struct cr_vm_vk_copy copy2 = {
		.src_buffer = src, .dst = dst, .wait_sync_file = -1, .export_sync_file = true,
	};
	job = cr_vm_vk_copy_submit(bed->vk, &copy2);
	if (CHECK(job != NULL)) {
		int done = cr_vm_vk_job_export_sync_file(bed->vk, job);
		if (CHECK(done >= 0)) {
			CHECK(cr_vm_dmabuf_import_sync_file(udmabuf, done, DMA_BUF_SYNC_WRITE));
			close(done);
			int after = cr_vm_dmabuf_export_sync_file(udmabuf, DMA_BUF_SYNC_READ);
			if (CHECK(after >= 0)) {
				CHECK_EQ_INT(cr_vm_sync_file_wait(after, 5000), 1);
				close(after);
			}
		}
	}
	cr_vm_vk_job_destroy(bed->vk, job);
	if (map != MAP_FAILED)
		munmap(map, size);
destroy_buffers:
	cr_vm_vk_buffer_destroy(bed->vk, dst);
	cr_vm_vk_buffer_destroy(bed->vk, src);
	if (memfd >= 0)
		close(memfd);
	close(udmabuf);
}

int main(void)
{
	if (!getenv("CR_VM_GUEST"))
		return cr_test_skip("guest-side test: run the vm suite (tests/vm/run-in-vm.sh)");

	struct bed bed = { .vgem = -1, .bo = { .dmabuf = -1 } };
	bed.vk = cr_vm_vk_create();
	if (!CHECK_MSG(bed.vk != NULL, "no lavapipe device"))
		return cr_test_result();
	bed.vgem = cr_dmabuf_alloc_open_drm("vgem", true);
	if (!CHECK(bed.vgem >= 0) ||
	    !CHECK(cr_dmabuf_alloc_vgem_bo_init(&bed.bo, bed.vgem, WIDTH, HEIGHT)))
		goto out;
	bed.img = cr_vm_vk_image_import(bed.vk, bed.bo.dmabuf, WIDTH, HEIGHT, bed.bo.stride,
					VK_FORMAT_B8G8R8A8_UNORM);
	VkDeviceSize size = (VkDeviceSize)bed.bo.stride * HEIGHT;
	bed.buf = cr_vm_vk_buffer_import(bed.vk, bed.bo.dmabuf, size);
	bed.dst = cr_vm_vk_buffer_create_host(bed.vk, size);
	if (!CHECK(bed.img != NULL) || !CHECK(bed.buf != NULL) || !CHECK(bed.dst != NULL))
		goto out;

	case_baseline(&bed);
	if (bed.watch_ns == 0)
		goto out;
	case_no_wait_sees_old(&bed);
	case_wait_sees_new(&bed);
	case_wait_sees_new_threaded(&bed);
	case_import_sync_file(&bed);
out:
	cr_vm_vk_buffer_destroy(bed.vk, bed.dst);
	cr_vm_vk_buffer_destroy(bed.vk, bed.buf);
	cr_vm_vk_image_destroy(bed.vk, bed.img);
	if (bed.vgem >= 0) {
		cr_dmabuf_alloc_vgem_bo_finish(&bed.bo, bed.vgem);
		close(bed.vgem);
	}
	cr_vm_vk_destroy(bed.vk);
	return cr_test_result();
}
