/* SPDX-License-Identifier: MIT */
#include "testsrc-buffer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *const kind_names[] = {
	[CR_TESTSRC_BUFFER_MEMFD] = "memfd",
	[CR_TESTSRC_BUFFER_UDMABUF] = "udmabuf",
	[CR_TESTSRC_BUFFER_HEAP] = "heap",
	[CR_TESTSRC_BUFFER_VGEM] = "vgem",
};

bool cr_testsrc_buffer_kind_from_name(const char *name, enum cr_testsrc_buffer_kind *kind)
{
	/* memfd is not a --dmabuf value: --memfd-dmabuf says it. */
	for (int k = CR_TESTSRC_BUFFER_UDMABUF; k <= CR_TESTSRC_BUFFER_VGEM; k++) {
		if (strcmp(name, kind_names[k]) == 0) {
			*kind = (enum cr_testsrc_buffer_kind)k;
			return true;
		}
	}
	return false;
}

const char *cr_testsrc_buffer_kind_name(enum cr_testsrc_buffer_kind kind)
{
	return kind <= CR_TESTSRC_BUFFER_VGEM ? kind_names[kind] : "?";
}

static int create_memfd(size_t size)
{
	int fd = memfd_create("castrelay-testsrc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		fprintf(stderr, "testsrc: memfd_create: %s\n", strerror(errno));
		return -1;
	}
	if (ftruncate(fd, (off_t)size) < 0) {
		int saved = errno;
		fprintf(stderr, "testsrc: ftruncate(memfd): %s\n", strerror(saved));
		close(fd);
		errno = saved;
		return -1;
	}
	/* Consumers may rely on the size never changing under their mapping. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
		fprintf(stderr, "testsrc: cannot seal the memfd: %s\n", strerror(errno));
	return fd;
}

struct cr_testsrc_buffer *cr_testsrc_buffer_create(enum cr_testsrc_buffer_kind kind, size_t size,
						   uint32_t stride, int vgem_fd)
{
	struct cr_testsrc_buffer *buf = calloc(1, sizeof(*buf));
	if (buf == NULL)
		return NULL;
	buf->kind = kind;
	buf->fd = -1;
	buf->vgem_fd = -1;
	buf->bo.dmabuf = -1;

	/* udmabuf takes whole pages only; the heap rounds up by itself. */
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t mapped = (size + page - 1) / page * page;

	switch (kind) {
	case CR_TESTSRC_BUFFER_MEMFD:
		buf->fd = create_memfd(size);
		mapped = size;
		break;
	case CR_TESTSRC_BUFFER_UDMABUF:
		/* dmabuf-alloc seals the memfd against shrinking; only the DMA-BUF is kept. */
		buf->fd = cr_dmabuf_alloc_udmabuf(mapped, NULL);
		break;
	case CR_TESTSRC_BUFFER_HEAP:
		buf->fd = cr_dmabuf_alloc_heap(mapped);
		break;
	case CR_TESTSRC_BUFFER_VGEM:
		/* A 32 bpp dumb buffer one row of @stride bytes wide: its pitch is >= stride. */
		if (!cr_dmabuf_alloc_vgem_bo_init(&buf->bo, vgem_fd, (stride + 3) / 4,
						  (uint32_t)((size + stride - 1) / stride)))
			goto err_free;
		buf->vgem_fd = vgem_fd;
		buf->fd = buf->bo.dmabuf;
		buf->map = buf->bo.map;
		buf->size = buf->bo.size;
		return buf;
	}
	if (buf->fd < 0)
		goto err_free;
	buf->map = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, buf->fd, 0);
	if (buf->map == MAP_FAILED) {
		int saved = errno;
		fprintf(stderr, "testsrc: mmap of a %s buffer: %s\n", kind_names[kind],
			strerror(saved));
		close(buf->fd);
		free(buf);
		errno = saved;
		return NULL;
	}
	buf->size = mapped;
	return buf;

err_free:
	free(buf);
	return NULL;
}

void cr_testsrc_buffer_destroy(struct cr_testsrc_buffer *buf)
{
	if (buf == NULL)
		return;
	/* A forgotten vgem fence would stall every reader for vgem's 10 s timeout. */
	cr_testsrc_buffer_signal(buf);
	if (buf->kind == CR_TESTSRC_BUFFER_VGEM) {
		cr_dmabuf_alloc_vgem_bo_finish(&buf->bo, buf->vgem_fd);
	} else {
		munmap(buf->map, buf->size);
		close(buf->fd);
	}
	free(buf);
}

bool cr_testsrc_buffer_begin_write(struct cr_testsrc_buffer *buf)
{
	if (buf->kind == CR_TESTSRC_BUFFER_MEMFD)
		return true;
	return cr_dmabuf_alloc_cpu_access(buf->fd, true, true);
}

void cr_testsrc_buffer_end_write(struct cr_testsrc_buffer *buf)
{
	if (buf->kind != CR_TESTSRC_BUFFER_MEMFD)
		cr_dmabuf_alloc_cpu_access(buf->fd, false, true);
}

bool cr_testsrc_buffer_fence(struct cr_testsrc_buffer *buf)
{
	if (buf->kind != CR_TESTSRC_BUFFER_VGEM || buf->fenced) {
		fprintf(stderr, "testsrc: cannot fence a %s buffer%s\n", kind_names[buf->kind],
			buf->fenced ? " twice" : "");
		return false;
	}
	if (!cr_dmabuf_alloc_vgem_fence_attach(buf->vgem_fd, buf->bo.handle, true, &buf->fence))
		return false;
	buf->fenced = true;
	return true;
}

bool cr_testsrc_buffer_signal(struct cr_testsrc_buffer *buf)
{
	if (!buf->fenced)
		return true;
	buf->fenced = false;
	return cr_dmabuf_alloc_vgem_fence_signal(buf->vgem_fd, buf->fence);
}
