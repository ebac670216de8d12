/* SPDX-License-Identifier: MIT */
#include "sync-file.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/dma-buf.h>

static uint32_t kernel_flags(uint32_t flags)
{
	return ((flags & CR_SYNC_READ) ? DMA_BUF_SYNC_READ : 0) |
	       ((flags & CR_SYNC_WRITE) ? DMA_BUF_SYNC_WRITE : 0);
}

int cr_sync_file_export(int dmabuf_fd, uint32_t flags)
{
	struct dma_buf_export_sync_file args = { .flags = kernel_flags(flags), .fd = -1 };
	int res;
	do {
		res = ioctl(dmabuf_fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &args);
	} while (res < 0 && (errno == EINTR || errno == EAGAIN));
	return res < 0 ? -errno : args.fd;
}

int cr_sync_file_import(int dmabuf_fd, int sync_fd, uint32_t flags)
{
	struct dma_buf_import_sync_file args = { .flags = kernel_flags(flags), .fd = sync_fd };
	int res;
	do {
		res = ioctl(dmabuf_fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &args);
	} while (res < 0 && (errno == EINTR || errno == EAGAIN));
	return res < 0 ? -errno : 0;
}

bool cr_sync_file_wait(int sync_fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = sync_fd, .events = POLLIN };
	int res;
	do {
		res = poll(&pfd, 1, timeout_ms);
	} while (res < 0 && errno == EINTR);
	return res > 0 && (pfd.revents & POLLIN);
}

bool cr_sync_file_signalled(int sync_fd)
{
	return cr_sync_file_wait(sync_fd, 0);
}

bool cr_sync_test_skip(void)
{
	const char *skip = getenv("CASTRELAY_TEST_SKIP_SYNC");
	return skip && strcmp(skip, "1") == 0;
}
