/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Vulkan side of synchronisation with other processes: binary semaphores whose payload is
 * imported from a sync_file (VK_KHR_external_semaphore_fd, SYNC_FD handles), so that a
 * submission waits on the GPU for a producer's fence instead of the CPU, and exportable ones
 * whose signal becomes a sync_file that consumers of our output wait for. Main-loop thread.
 */
#include <stdbool.h>
#include <vulkan/vulkan.h>

struct cr_vk_device;

/** True when @dev can import SYNC_FD payloads into binary semaphores. */
bool cr_vk_sync_can_import_sync_file(struct cr_vk_device *dev);

/**
 * True when @dev can export binary semaphores as SYNC_FD sync_files (the external semaphore
 * properties say exportable). False on NVIDIA's proprietary driver and on lavapipe outside a
 * kernel with udmabuf (DESIGN.md, platform facts).
 */
bool cr_vk_sync_can_export_sync_file(struct cr_vk_device *dev);

/** A binary semaphore for sync_file imports, or VK_NULL_HANDLE (logged). */
VkSemaphore cr_vk_sync_semaphore_create(struct cr_vk_device *dev);

/**
 * Imports @sync_fd (taken: consumed by Vulkan on success, closed here on failure) as the
 * temporary payload of @sem; the next submission waiting on @sem waits for the fence, then the
 * semaphore reverts to its own (unsignalled) payload. Returns false on failure (logged).
 */
bool cr_vk_sync_import_sync_file(struct cr_vk_device *dev, VkSemaphore sem, int sync_fd);

/**
 * A binary semaphore that can be exported with cr_vk_sync_export_sync_file(), or
 * VK_NULL_HANDLE (logged). Only where cr_vk_sync_can_export_sync_file().
 */
VkSemaphore cr_vk_sync_semaphore_create_exportable(struct cr_vk_device *dev);

/**
 * Exports the payload of @sem (from cr_vk_sync_semaphore_create_exportable(), signalled or
 * with its signal operation submitted) as a sync_file: *@sync_fd receives a new fd owned by
 * the caller, or -1 when the driver reports the payload as already signalled (allowed by the
 * Vulkan spec: nothing to wait for). The export unsignals @sem, so it can be signalled again.
 * May block until the signal operation completes on drivers that cannot export pending fences
 * (lavapipe): call it once the work is known to be done. Returns false on failure (logged;
 * @sem may then still be signalled: recreate it).
 */
bool cr_vk_sync_export_sync_file(struct cr_vk_device *dev, VkSemaphore sem, int *sync_fd);

/** Destroys @sem (from either create function; no pending use). VK_NULL_HANDLE: no-op. */
void cr_vk_sync_semaphore_destroy(struct cr_vk_device *dev, VkSemaphore sem);
