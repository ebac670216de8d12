/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * DRM timeline syncobjs (libdrm's drmSyncobj* calls): what a PipeWire explicit-sync peer
 * (SPA_META_SyncTimeline) needs. Syncobjs are core DRM objects: a syncobj fd made on one
 * device imports into any render node with DRM_CAP_SYNCOBJ_TIMELINE. Conversions: a timeline
 * point to and from a sync_file, and an eventfd that becomes readable when a point gets a
 * fence or signals (DRM_IOCTL_SYNCOBJ_EVENTFD, Linux 6.6), so that waits never block a loop.
 * Every function borrows @drm_fd, logs a failing call with errno and returns false/-1.
 * No state; any thread.
 */
#include <stdbool.h>
#include <stdint.h>

/** DRM_CAP_SYNCOBJ and DRM_CAP_SYNCOBJ_TIMELINE of @drm_fd, each false when absent. */
void cr_syncobj_caps(int drm_fd, bool *syncobj, bool *timeline);

/**
 * Opens a DRM node for timeline syncobjs: @path, or with NULL the first
 * /dev/dri/renderD* that has DRM_CAP_SYNCOBJ_TIMELINE. Returns a new fd (O_CLOEXEC, the caller
 * closes it) or -1; with NULL, "none found" is not logged as an error (explicit sync is then
 * simply not offered), a bad @path is.
 */
int cr_syncobj_device_open(const char *path);

/** Creates a syncobj (unsignalled, timeline value 0) into @handle. */
bool cr_syncobj_create(int drm_fd, uint32_t *handle);

/** Destroys @handle; 0 is a no-op. */
void cr_syncobj_destroy(int drm_fd, uint32_t handle);

/** Imports a syncobj fd (borrowed) into a new @handle (drmSyncobjFDToHandle). */
bool cr_syncobj_import(int drm_fd, int syncobj_fd, uint32_t *handle);

/** Exports @handle as a new syncobj fd (O_CLOEXEC, owned by the caller), or -1. */
int cr_syncobj_export(int drm_fd, uint32_t handle);

/** Signals timeline point @point of @handle from the CPU. */
bool cr_syncobj_signal(int drm_fd, uint32_t handle, uint64_t point);

/** The timeline's current (highest signalled) value into @value. */
bool cr_syncobj_query(int drm_fd, uint32_t handle, uint64_t *value);

/**
 * Waits up to @timeout_ns (relative; 0 polls) for @point of @handle to be signalled, or with
 * @available_only for a fence to be attached to it (DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE).
 * Returns 1 when it happened, 0 on timeout, -1 on error.
 */
int cr_syncobj_wait(int drm_fd, uint32_t handle, uint64_t point, bool available_only,
		    int64_t timeout_ns);

/**
 * A new eventfd (EFD_CLOEXEC | EFD_NONBLOCK) that becomes readable when @point of @handle is
 * signalled or, with @available_only, when it gets a fence. Returns the fd (the caller closes
 * it) or -1.
 */
int cr_syncobj_eventfd(int drm_fd, uint32_t handle, uint64_t point, bool available_only);

/**
 * Exports the fence of @point of @handle as a new sync_file fd (through a temporary binary
 * syncobj: drmSyncobjTransfer, then drmSyncobjExportSyncFile). The point must have a fence
 * (be available). Returns the fd or -1.
 */
int cr_syncobj_export_sync_file(int drm_fd, uint32_t handle, uint64_t point);

/**
 * Makes the fence of @sync_file (borrowed) the fence of @point of @handle (through a temporary
 * binary syncobj: drmSyncobjImportSyncFile, then drmSyncobjTransfer).
 */
bool cr_syncobj_import_sync_file(int drm_fd, uint32_t handle, uint64_t point, int sync_file);
