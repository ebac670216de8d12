/* SPDX-License-Identifier: MIT */
#include "dmabuf-alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <xf86drm.h>

/*
 * vgem's uapi (include/uapi/drm/vgem_drm.h, MIT) is in neither libdrm nor Debian's
 * linux-libc-dev; the ABI is frozen, so it is restated here.
 */
#define CR_DRM_VGEM_FENCE_ATTACH 0x1
#define CR_DRM_VGEM_FENCE_SIGNAL 0x2
#define CR_VGEM_FENCE_WRITE 0x1

struct cr_drm_vgem_fence_attach {
	uint32_t handle;
	uint32_t flags;
	uint32_t out_fence;
	uint32_t pad;
};

struct cr_drm_vgem_fence_signal {
	uint32_t fence;
	uint32_t flags;
};

#define CR_DRM_IOCTL_VGEM_FENCE_ATTACH \
	DRM_IOWR(DRM_COMMAND_BASE + CR_DRM_VGEM_FENCE_ATTACH, struct cr_drm_vgem_fence_attach)
#define CR_DRM_IOCTL_VGEM_FENCE_SIGNAL \
	DRM_IOW(DRM_COMMAND_BASE + CR_DRM_VGEM_FENCE_SIGNAL, struct cr_drm_vgem_fence_signal)

static void log_errno(const char *what)
{
	int saved = errno;
	fprintf(stderr, "dmabuf-alloc: %s: %s\n", what, strerror(saved));
	errno = saved;
}

int cr_dmabuf_alloc_open_drm(const char *driver, bool primary)
{
	char found[256] = "";
	size_t used = 0;
	for (int i = 0; i < 16; i++) {
		char path[64];
		snprintf(path, sizeof(path), primary ? "/dev/dri/card%d" : "/dev/dri/renderD%d",
			 primary ? i : 128 + i);
		int fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		drmVersionPtr ver = drmGetVersion(fd);
		bool match = ver && strcmp(ver->name, driver) == 0;
		if (ver && used < sizeof(found))
			used += (size_t)snprintf(found + used, sizeof(found) - used, " %s=%s",
						 path, ver->name);
		drmFreeVersion(ver);
		if (match)
			return fd;
		close(fd);
	}
	fprintf(stderr, "dmabuf-alloc: no %s node of driver %s (found:%s)\n",
		primary ? "primary" : "render", driver, used ? found : " none");
	errno = ENODEV;
	return -1;
}

int cr_dmabuf_alloc_udmabuf(size_t size, int *memfd_out)
{
	int dmabuf = -1;
	int memfd = memfd_create("castrelay-udmabuf", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (memfd < 0) {
		log_errno("memfd_create");
		return -1;
	}
	if (ftruncate(memfd, (off_t)size) < 0) {
		log_errno("ftruncate(memfd)");
		goto close_memfd;
	}
	/* udmabuf refuses memfds that could shrink under it (and ones sealed against writes). */
	if (fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0) {
		log_errno("F_ADD_SEALS(F_SEAL_SHRINK)");
		goto close_memfd;
	}
	int dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		log_errno("open(/dev/udmabuf)");
		goto close_memfd;
	}
	struct udmabuf_create create = {
		.memfd = (uint32_t)memfd,
		.flags = UDMABUF_FLAGS_CLOEXEC,
		.offset = 0,
		.size = size,
	};
	dmabuf = ioctl(dev, UDMABUF_CREATE, &create);
	if (dmabuf < 0)
		log_errno("UDMABUF_CREATE");
	close(dev);
	if (dmabuf >= 0 && memfd_out) {
		*memfd_out = memfd;
		return dmabuf;
	}
close_memfd:
	close(memfd);
	return dmabuf;
}

int cr_dmabuf_alloc_heap(size_t size)
{
	int heap = open("/dev/dma_heap/system", O_RDWR | O_CLOEXEC);
	if (heap < 0) {
		log_errno("open(/dev/dma_heap/system)");
		return -1;
	}
	struct dma_heap_allocation_data alloc = {
		.len = size,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	int ret = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc);
	if (ret < 0)
		log_errno("DMA_HEAP_IOCTL_ALLOC");
	close(heap);
	return ret < 0 ? -1 : (int)alloc.fd;
}

bool cr_dmabuf_alloc_vgem_bo_init(struct cr_dmabuf_alloc_vgem_bo *bo, int vgem_fd,
				  uint32_t width, uint32_t height)
{
	memset(bo, 0, sizeof(*bo));
	bo->dmabuf = -1;
	struct drm_mode_create_dumb create = { .width = width, .height = height, .bpp = 32 };
	if (drmIoctl(vgem_fd, DRM_IOCTL_MODE_CREATE_DUMB, &create) < 0) {
		log_errno("DRM_IOCTL_MODE_CREATE_DUMB on vgem");
		return false;
	}
	bo->handle = create.handle;
	bo->width = width;
	bo->height = height;
	bo->stride = create.pitch;
	bo->size = create.size;
	if (drmPrimeHandleToFD(vgem_fd, bo->handle, DRM_CLOEXEC | DRM_RDWR, &bo->dmabuf) < 0) {
		log_errno("drmPrimeHandleToFD on vgem");
		goto close_handle;
	}
	/* The CPU writes through the DMA-BUF itself, as a producer process would. */
	bo->map = mmap(NULL, bo->size, PROT_READ | PROT_WRITE, MAP_SHARED, bo->dmabuf, 0);
	if (bo->map == MAP_FAILED) {
		bo->map = NULL;
		log_errno("mmap of a vgem DMA-BUF");
		goto close_dmabuf;
	}
	return true;

close_dmabuf:
	close(bo->dmabuf);
	bo->dmabuf = -1;
close_handle:
	drmCloseBufferHandle(vgem_fd, bo->handle);
	bo->handle = 0;
	return false;
}

void cr_dmabuf_alloc_vgem_bo_finish(struct cr_dmabuf_alloc_vgem_bo *bo, int vgem_fd)
{
	if (bo->map)
		munmap(bo->map, bo->size);
	if (bo->dmabuf >= 0)
		close(bo->dmabuf);
	if (bo->handle)
		drmCloseBufferHandle(vgem_fd, bo->handle);
	memset(bo, 0, sizeof(*bo));
	bo->dmabuf = -1;
}

bool cr_dmabuf_alloc_vgem_fence_attach(int vgem_fd, uint32_t handle, bool write, uint32_t *fence)
{
	struct cr_drm_vgem_fence_attach attach = {
		.handle = handle,
		.flags = write ? CR_VGEM_FENCE_WRITE : 0,
	};
	if (drmIoctl(vgem_fd, CR_DRM_IOCTL_VGEM_FENCE_ATTACH, &attach) < 0) {
		log_errno("DRM_IOCTL_VGEM_FENCE_ATTACH");
		return false;
	}
	*fence = attach.out_fence;
	return true;
}

bool cr_dmabuf_alloc_vgem_fence_signal(int vgem_fd, uint32_t fence)
{
	struct cr_drm_vgem_fence_signal sig = { .fence = fence };
	if (drmIoctl(vgem_fd, CR_DRM_IOCTL_VGEM_FENCE_SIGNAL, &sig) < 0) {
		log_errno("DRM_IOCTL_VGEM_FENCE_SIGNAL");
		return false;
	}
	return true;
}

bool cr_dmabuf_alloc_cpu_access(int dmabuf, bool start, bool write)
{
	struct dma_buf_sync sync = {
		.flags = (start ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END) |
			 (write ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ),
	};
	if (drmIoctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync) < 0) {
		log_errno(start ? "DMA_BUF_IOCTL_SYNC(START)" : "DMA_BUF_IOCTL_SYNC(END)");
		return false;
	}
	return true;
}
