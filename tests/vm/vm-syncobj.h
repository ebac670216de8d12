/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Guest-side helpers of the vm test bed for DRM timeline syncobjs (on the virtio-gpu device:
 * vgem has none), built on libdrm's drmSyncobj* calls. They give the conversions a PipeWire
 * explicit-sync peer needs: a timeline point to and from a sync_file, and an eventfd that
 * fires when a point becomes available or signalled. Every function borrows @drm_fd, logs the
 * failing call with errno to stderr and returns false/-1. Any thread.
 */
#include <stdbool.h>
#include <stdint.h>

/** DRM_CAP_SYNCOBJ and DRM_CAP_SYNCOBJ_TIMELINE of @drm_fd, each false when absent. */
void cr_vm_syncobj_caps(int drm_fd, bool *syncobj, bool *timeline);

/** Creates a syncobj (unsignalled, timeline value 0) into @handle. */
bool cr_vm_syncobj_create(int drm_fd, uint32_t *handle);

/** Destroys @handle; 0 is a no-op. */
void cr_vm_syncobj_destroy(int drm_fd, uint32_t handle);

/** Signals timeline point @point of @handle from the CPU. */
bool cr_vm_syncobj_signal(int drm_fd, uint32_t handle, uint64_t point);

/** The timeline's current (highest signalled) value into @value. */
bool cr_vm_syncobj_query(int drm_fd, uint32_t handle, uint64_t *value);

/**
 * Waits up to @timeout_ns (relative) for @point of @handle to be signalled, or with
 * @available_only for a fence to be attached to it (DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE).
 * Returns 1 when it happened, 0 on timeout, -1 on error.
 */
int cr_vm_syncobj_wait(int drm_fd, uint32_t handle, uint64_t point, bool available_only,
		       int64_t timeout_ns);

/**
 * A new eventfd (EFD_CLOEXEC | EFD_NONBLOCK) that becomes readable when @point of @handle is
 * signalled or, with @available_only, when it gets a fence (DRM_IOCTL_SYNCOBJ_EVENTFD, Linux
 * 6.6). Returns the fd (the caller closes it) or -1.
 */
int cr_vm_syncobj_eventfd(int drm_fd, uint32_t handle, uint64_t point, bool available_only);

/**
 * Exports the fence of @point of @handle as a new sync_file fd (through a temporary binary
 * syncobj: drmSyncobjTransfer, then drmSyncobjExportSyncFile). The point must have a fence
 * (be available). Returns the fd or -1.
 */
int cr_vm_syncobj_export_sync_file(int drm_fd, uint32_t handle, uint64_t point);

/**
 * Makes the fence of @sync_file (borrowed) the fence of @point of @handle (through a temporary
 * binary syncobj: drmSyncobjImportSyncFile, then drmSyncobjTransfer).
 */
bool cr_vm_syncobj_import_sync_file(int drm_fd, uint32_t handle, uint64_t point, int sync_file);
