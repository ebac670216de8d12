/* SPDX-License-Identifier: MIT */
#include "syncobj.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#include "log.h"

#define TOPIC "syncobj"

static void log_errno(const char *what, int err)
{
	/* libdrm's syncobj calls return -errno or -1 with errno set, depending on the call. */
	if (err == -1 || err == 0)
		err = -errno;
	cr_log_error(TOPIC, "%s: %s", what, strerror(-err));
	errno = -err;
}

void cr_syncobj_caps(int drm_fd, bool *syncobj, bool *timeline)
{
	uint64_t value = 0;
	*syncobj = drmGetCap(drm_fd, DRM_CAP_SYNCOBJ, &value) == 0 && value == 1;
	value = 0;
	*timeline = drmGetCap(drm_fd, DRM_CAP_SYNCOBJ_TIMELINE, &value) == 0 && value == 1;
}

static bool has_timeline(int fd)
{
	bool syncobj, timeline;
	cr_syncobj_caps(fd, &syncobj, &timeline);
	return syncobj && timeline;
}

int cr_syncobj_device_open(const char *path)
{
	if (path) {
		int fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			cr_log_error(TOPIC, "cannot open DRM device %s: %s", path, strerror(errno));
			return -1;
		}
		if (!has_timeline(fd)) {
			cr_log_error(TOPIC, "DRM device %s has no timeline syncobjs "
					    "(DRM_CAP_SYNCOBJ_TIMELINE)", path);
			close(fd);
			return -1;
		}
		return fd;
	}
	DIR *dir = opendir("/dev/dri");
	if (!dir)
		return -1;
	int found = -1;
	char best[300] = "";
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (strncmp(e->d_name, "renderD", 7) != 0)
			continue;
		/* The lowest-numbered capable node, as readdir's order is arbitrary. */
		if (best[0] && strcmp(e->d_name, best) >= 0)
			continue;
		char node[300];
		snprintf(node, sizeof(node), "/dev/dri/%s", e->d_name);
		int fd = open(node, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!has_timeline(fd)) {
			close(fd);
			continue;
		}
		if (found >= 0)
			close(found);
		found = fd;
		snprintf(best, sizeof(best), "%s", e->d_name);
	}
	closedir(dir);
	if (found >= 0)
		cr_log_info(TOPIC, "timeline syncobjs on /dev/dri/%s", best);
	return found;
}

bool cr_syncobj_import(int drm_fd, int syncobj_fd, uint32_t *handle)
{
	int ret = drmSyncobjFDToHandle(drm_fd, syncobj_fd, handle);
	if (ret != 0) {
		log_errno("drmSyncobjFDToHandle", ret);
		return false;
	}
	return true;
}

int cr_syncobj_export(int drm_fd, uint32_t handle)
{
	int fd = -1;
	int ret = drmSyncobjHandleToFD(drm_fd, handle, &fd);
	if (ret != 0) {
		log_errno("drmSyncobjHandleToFD", ret);
		return -1;
	}
	return fd;
}

bool cr_syncobj_create(int drm_fd, uint32_t *handle)
{
	int ret = drmSyncobjCreate(drm_fd, 0, handle);
	if (ret != 0) {
		log_errno("drmSyncobjCreate", ret);
		return false;
	}
	return true;
}

void cr_syncobj_destroy(int drm_fd, uint32_t handle)
{
	if (handle)
		drmSyncobjDestroy(drm_fd, handle);
}

bool cr_syncobj_signal(int drm_fd, uint32_t handle, uint64_t point)
{
	int ret = drmSyncobjTimelineSignal(drm_fd, &handle, &point, 1);
	if (ret != 0) {
		log_errno("drmSyncobjTimelineSignal", ret);
		return false;
	}
	return true;
}

bool cr_syncobj_query(int drm_fd, uint32_t handle, uint64_t *value)
{
	int ret = drmSyncobjQuery(drm_fd, &handle, value, 1);
	if (ret != 0) {
		log_errno("drmSyncobjQuery", ret);
		return false;
	}
	return true;
}

int cr_syncobj_wait(int drm_fd, uint32_t handle, uint64_t point, bool available_only,
		       int64_t timeout_ns)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* The ioctl takes an absolute CLOCK_MONOTONIC deadline. */
	int64_t deadline = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + timeout_ns;
	uint32_t flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT;
	if (available_only)
		flags |= DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE;
	int ret = drmSyncobjTimelineWait(drm_fd, &handle, &point, 1, deadline, flags, NULL);
	if (ret == 0)
		return 1;
	if (ret == -ETIME || (ret == -1 && errno == ETIME))
		return 0;
	log_errno("drmSyncobjTimelineWait", ret);
	return -1;
}

int cr_syncobj_eventfd(int drm_fd, uint32_t handle, uint64_t point, bool available_only)
{
	int ev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ev < 0) {
		log_errno("eventfd", -errno);
		return -1;
	}
	uint32_t flags = available_only ? DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE : 0;
	int ret = drmSyncobjEventfd(drm_fd, handle, point, ev, flags);
	if (ret != 0) {
		log_errno("drmSyncobjEventfd", ret);
		close(ev);
		return -1;
	}
	return ev;
}

int cr_syncobj_export_sync_file(int drm_fd, uint32_t handle, uint64_t point)
{
	uint32_t binary = 0;
	int fd = -1;
	if (!cr_syncobj_create(drm_fd, &binary))
		return -1;
	int ret = drmSyncobjTransfer(drm_fd, binary, 0, handle, point, 0);
	if (ret != 0) {
		log_errno("drmSyncobjTransfer(timeline point -> binary)", ret);
		goto destroy;
	}
	ret = drmSyncobjExportSyncFile(drm_fd, binary, &fd);
	if (ret != 0) {
		log_errno("drmSyncobjExportSyncFile", ret);
		fd = -1;
	}
destroy:
	cr_syncobj_destroy(drm_fd, binary);
	return fd;
}

bool cr_syncobj_import_sync_file(int drm_fd, uint32_t handle, uint64_t point, int sync_file)
{
	uint32_t binary = 0;
	bool ok = false;
	if (!cr_syncobj_create(drm_fd, &binary))
		return false;
	int ret = drmSyncobjImportSyncFile(drm_fd, binary, sync_file);
	if (ret != 0) {
		log_errno("drmSyncobjImportSyncFile", ret);
		goto destroy;
	}
	ret = drmSyncobjTransfer(drm_fd, handle, point, binary, 0, 0);
	if (ret != 0) {
		log_errno("drmSyncobjTransfer(binary -> timeline point)", ret);
		goto destroy;
	}
	ok = true;
destroy:
	cr_syncobj_destroy(drm_fd, binary);
	return ok;
}
