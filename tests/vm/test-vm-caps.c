/* SPDX-License-Identifier: MIT */
/*
 * Guest side (suite vm-guest, run by the vm suite inside the QEMU guest): every capability the
 * vm test bed promises is there and works on real DMA-BUFs. A missing one fails the test: the
 * bed exists to test these paths, so a silently skipped capability would hide a broken bed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "test.h"
#include "vm-dmabuf.h"
#include "vm-pattern.h"
#include "syncobj.h"
#include "vm-vk.h"

#define SIZE (64u * 1024u)
#define WIDTH 64u
#define HEIGHT 48u
#define SECOND_NS 1000000000ull

/* A just-allocated DMA-BUF has no fences: its sync_file must be signalled at once. */
static void check_idle_sync_file(int dmabuf)
{
	int sync = cr_vm_dmabuf_export_sync_file(dmabuf, DMA_BUF_SYNC_READ);
	if (!CHECK_MSG(sync >= 0, "EXPORT_SYNC_FILE: %s", strerror(errno)))
		return;
	CHECK_EQ_INT(cr_vm_sync_file_wait(sync, 0), 1);
	CHECK_EQ_INT(cr_vm_sync_file_status(sync), 1);
	close(sync);
}

/* What the CPU writes through one mapping is read through the DMA-BUF's own mmap. */
static void check_cpu_roundtrip(int writer_fd, int dmabuf, uint32_t seed)
{
	void *w = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, writer_fd, 0);
	void *r = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, dmabuf, 0);
	if (CHECK(w != MAP_FAILED) && CHECK(r != MAP_FAILED)) {
		uint32_t x = 0, y = 0, got = 0;
		cr_vm_pattern_fill(w, 256, 64, SIZE / 256, seed);
		CHECK_MSG(cr_vm_pattern_check(r, 256, 64, SIZE / 256, seed, &x, &y, &got),
			  "pixel (%u, %u) is 0x%08x", x, y, got);
	}
	if (w != MAP_FAILED)
		munmap(w, SIZE);
	if (r != MAP_FAILED)
		munmap(r, SIZE);
}

/* lavapipe imports @dmabuf as a buffer, copies it out and the bytes are the pattern. */
static void check_gpu_read(struct cr_vm_vk *vk, int dmabuf, uint32_t seed, const char *what)
{
	cr_test_log("lavapipe reads a %s DMA-BUF imported as a buffer", what);
	struct cr_vm_vk_buffer *src = cr_vm_vk_buffer_import(vk, dmabuf, SIZE);
	struct cr_vm_vk_buffer *dst = cr_vm_vk_buffer_create_host(vk, SIZE);
	if (CHECK(src != NULL) && CHECK(dst != NULL)) {
		memset(dst->map, 0, SIZE);
		struct cr_vm_vk_copy copy = { .src_buffer = src, .dst = dst, .wait_sync_file = -1 };
		struct cr_vm_vk_job *job = cr_vm_vk_copy_submit(vk, &copy);
		if (CHECK(job != NULL) &&
		    CHECK_EQ_INT(cr_vm_vk_job_wait(vk, job, 10 * SECOND_NS), 1)) {
			uint32_t x = 0, y = 0, got = 0;
			CHECK_MSG(cr_vm_pattern_check(dst->map, 256, 64, SIZE / 256, seed, &x, &y,
						      &got),
				  "pixel (%u, %u) is 0x%08x", x, y, got);
		}
		cr_vm_vk_job_destroy(vk, job);
	}
	cr_vm_vk_buffer_destroy(vk, dst);
	cr_vm_vk_buffer_destroy(vk, src);
}

static void check_udmabuf(struct cr_vm_vk *vk)
{
	cr_test_log("udmabuf from a sealed memfd");
	int memfd = -1;
	int dmabuf = cr_dmabuf_alloc_udmabuf(SIZE, &memfd);
	if (!CHECK_MSG(dmabuf >= 0, "UDMABUF_CREATE: %s", strerror(errno)))
		return;
	CHECK_EQ_INT(lseek(dmabuf, 0, SEEK_END), SIZE);
	check_cpu_roundtrip(memfd, dmabuf, 1);
	check_idle_sync_file(dmabuf);
	if (vk)
		check_gpu_read(vk, dmabuf, 1, "udmabuf");
	close(memfd);
	close(dmabuf);
}

static void check_heap(struct cr_vm_vk *vk)
{
	cr_test_log("system dma-heap");
	int dmabuf = cr_dmabuf_alloc_heap(SIZE);
	if (!CHECK_MSG(dmabuf >= 0, "DMA_HEAP_IOCTL_ALLOC: %s", strerror(errno)))
		return;
	CHECK_EQ_INT(lseek(dmabuf, 0, SEEK_END), SIZE);
	check_cpu_roundtrip(dmabuf, dmabuf, 2);
	check_idle_sync_file(dmabuf);
	if (vk)
		check_gpu_read(vk, dmabuf, 2, "dma-heap");
	close(dmabuf);
}

static void check_vgem(struct cr_vm_vk *vk)
{
	cr_test_log("vgem dumb buffer, PRIME export, write fence");
	int vgem = cr_dmabuf_alloc_open_drm("vgem", true);
	if (!CHECK(vgem >= 0))
		return;
	struct cr_dmabuf_alloc_vgem_bo bo;
	if (!CHECK(cr_dmabuf_alloc_vgem_bo_init(&bo, vgem, WIDTH, HEIGHT)))
		goto close_vgem;
	CHECK_GE_INT(bo.stride, WIDTH * 4);
	CHECK_GE_INT(bo.size, (uint64_t)bo.stride * HEIGHT);
	check_idle_sync_file(bo.dmabuf);

	/* An unsignalled write fence makes a READ sync_file pending until it is signalled. */
	uint32_t fence;
	if (CHECK(cr_dmabuf_alloc_vgem_fence_attach(vgem, bo.handle, true, &fence))) {
		int sync = cr_vm_dmabuf_export_sync_file(bo.dmabuf, DMA_BUF_SYNC_READ);
		if (CHECK(sync >= 0)) {
			CHECK_EQ_INT(cr_vm_sync_file_wait(sync, 0), 0);
			CHECK_EQ_INT(cr_vm_sync_file_status(sync), 0);
		}
		CHECK(cr_dmabuf_alloc_vgem_fence_signal(vgem, fence));
		if (sync >= 0) {
			CHECK_EQ_INT(cr_vm_sync_file_wait(sync, 1000), 1);
			CHECK_EQ_INT(cr_vm_sync_file_status(sync), 1);
			close(sync);
		}
	}

	if (vk) {
		cr_test_log("lavapipe reads a vgem DMA-BUF imported as a LINEAR image");
		cr_vm_pattern_fill(bo.map, bo.stride, WIDTH, HEIGHT, 3);
		struct cr_vm_vk_image *img = cr_vm_vk_image_import(vk, bo.dmabuf, WIDTH, HEIGHT,
								   bo.stride,
								   VK_FORMAT_B8G8R8A8_UNORM);
		struct cr_vm_vk_buffer *dst = cr_vm_vk_buffer_create_host(vk, WIDTH * HEIGHT * 4);
		if (CHECK(img != NULL) && CHECK(dst != NULL)) {
			struct cr_vm_vk_copy copy = {
				.src_image = img, .dst = dst, .wait_sync_file = -1,
			};
			struct cr_vm_vk_job *job = cr_vm_vk_copy_submit(vk, &copy);
			if (CHECK(job != NULL) &&
			    CHECK_EQ_INT(cr_vm_vk_job_wait(vk, job, 10 * SECOND_NS), 1)) {
				uint32_t x = 0, y = 0, got = 0;
				CHECK_MSG(cr_vm_pattern_check(dst->map, WIDTH * 4, WIDTH, HEIGHT, 3,
							      &x, &y, &got),
					  "pixel (%u, %u) is 0x%08x", x, y, got);
			}
			cr_vm_vk_job_destroy(vk, job);
		}
		cr_vm_vk_buffer_destroy(vk, dst);
		cr_vm_vk_image_destroy(vk, img);
	}
	cr_dmabuf_alloc_vgem_bo_finish(&bo, vgem);
close_vgem:
	close(vgem);
}

static void check_virtio_gpu(void)
{
	cr_test_log("virtio-gpu DRM device with timeline syncobjs");
	int fd = cr_dmabuf_alloc_open_drm("virtio_gpu", false);
	if (!CHECK(fd >= 0))
		return;
	bool syncobj, timeline;
	cr_syncobj_caps(fd, &syncobj, &timeline);
	CHECK(syncobj);
	CHECK(timeline);
	uint32_t handle = 0;
	if (CHECK(cr_syncobj_create(fd, &handle))) {
		int ev = cr_syncobj_eventfd(fd, handle, 1, true);
		CHECK_MSG(ev >= 0, "DRM_IOCTL_SYNCOBJ_EVENTFD: %s", strerror(errno));
		if (ev >= 0)
			close(ev);
	}
	cr_syncobj_destroy(fd, handle);
	close(fd);
}

/* The bed's promise to the host: no network, nothing written outside the build directory. */
static void check_isolation(void)
{
	cr_test_log("isolation: no network interface but lo, the host's root is read-only");
	DIR *dir = opendir("/sys/class/net");
	if (CHECK(dir != NULL)) {
		struct dirent *e;
		while ((e = readdir(dir)) != NULL)
			if (e->d_name[0] != '.')
				CHECK_EQ_STR(e->d_name, "lo");
		closedir(dir);
	}
	errno = 0;
	int fd = open("/castrelay-vm-write-probe", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int err = errno;
	CHECK_MSG(fd < 0 && err == EROFS, "creating a file in / gave fd %d (%s)", fd,
		  strerror(err));
	if (fd >= 0) {
		close(fd);
		unlink("/castrelay-vm-write-probe");
	}
}

static void check_lavapipe(struct cr_vm_vk *vk)
{
	cr_test_log("lavapipe: %s", vk->device_name);
	CHECK(strstr(vk->device_name, "llvmpipe") != NULL);
	CHECK(vk->ext.external_memory_fd);
	CHECK(vk->ext.external_memory_dma_buf);
	CHECK(vk->ext.image_drm_format_modifier);
	CHECK(vk->ext.external_semaphore_fd);
	CHECK(cr_vm_vk_dmabuf_buffer_importable(vk));
	CHECK(cr_vm_vk_format_has_modifier(vk, VK_FORMAT_B8G8R8A8_UNORM, 0 /* LINEAR */));
	bool import, export;
	cr_vm_vk_sync_fd_features(vk, &import, &export);
	CHECK(import);
	CHECK(export);
}

int main(void)
{
	if (!getenv("CR_VM_GUEST"))
		return cr_test_skip("guest-side test: run the vm suite (tests/vm/run-in-vm.sh)");

	/* Kernel-only checks first: they run even when Vulkan is broken. */
	check_isolation();
	check_virtio_gpu();
	uint64_t t0 = cr_vm_now_ns();
	struct cr_vm_vk *vk = cr_vm_vk_create();
	cr_test_log("Vulkan instance and device created in %.1f s",
		    (double)(cr_vm_now_ns() - t0) / 1e9);
	if (CHECK_MSG(vk != NULL, "no lavapipe device"))
		check_lavapipe(vk);
	check_udmabuf(vk);
	check_heap(vk);
	check_vgem(vk);
	cr_vm_vk_destroy(vk);
	return cr_test_result();
}
