/* SPDX-License-Identifier: MIT */
#include "vm-dmabuf.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <xf86drm.h>

static void log_errno(const char *what)
{
	int saved = errno;
	fprintf(stderr, "vm-dmabuf: %s: %s\n", what, strerror(saved));
	errno = saved;
}

uint64_t cr_vm_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void cr_vm_sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000u),
		.tv_nsec = (long)(ns % 1000000000u),
	};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int cr_vm_dmabuf_export_sync_file(int dmabuf, uint32_t flags)
{
	struct dma_buf_export_sync_file args = { .flags = flags, .fd = -1 };
	if (drmIoctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &args) < 0) {
		log_errno("DMA_BUF_IOCTL_EXPORT_SYNC_FILE");
		return -1;
	}
	return args.fd;
}

bool cr_vm_dmabuf_import_sync_file(int dmabuf, int sync_file, uint32_t flags)
{
	struct dma_buf_import_sync_file args = { .flags = flags, .fd = sync_file };
	if (drmIoctl(dmabuf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &args) < 0) {
		log_errno("DMA_BUF_IOCTL_IMPORT_SYNC_FILE");
		return false;
	}
	return true;
}

int cr_vm_sync_file_wait(int sync_file, int timeout_ms)
{
	struct pollfd pfd = { .fd = sync_file, .events = POLLIN };
	int ret;
	do
		ret = poll(&pfd, 1, timeout_ms);
	while (ret < 0 && errno == EINTR);
	if (ret < 0 || (pfd.revents & (POLLERR | POLLNVAL))) {
		log_errno("poll(sync_file)");
		return -1;
	}
	return ret > 0 ? 1 : 0;
}

int32_t cr_vm_sync_file_status(int sync_file)
{
	struct sync_file_info info;
	memset(&info, 0, sizeof(info));
	if (ioctl(sync_file, SYNC_IOC_FILE_INFO, &info) < 0) {
		log_errno("SYNC_IOC_FILE_INFO");
		return INT32_MIN;
	}
	return info.status;
}
