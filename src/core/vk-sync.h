/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Vulkan side of synchronisation with other processes: binary semaphores whose payload is
 * imported from a sync_file (VK_KHR_external_semaphore_fd, SYNC_FD handles), so that a
 * submission waits on the GPU for a producer's fence instead of the CPU. Main-loop thread.
 */
#include <stdbool.h>
#include <vulkan/vulkan.h>

struct cr_vk_device;

/** True when @dev can import SYNC_FD payloads into binary semaphores. */
bool cr_vk_sync_can_import_sync_file(struct cr_vk_device *dev);

/** A binary semaphore for sync_file imports, or VK_NULL_HANDLE (logged). */
VkSemaphore cr_vk_sync_semaphore_create(struct cr_vk_device *dev);

/**
 * Imports @sync_fd (taken: consumed by Vulkan on success, closed here on failure) as the
 * temporary payload of @sem; the next submission waiting on @sem waits for the fence, then the
 * semaphore reverts to its own (unsignalled) payload. Returns false on failure (logged).
 */
bool cr_vk_sync_import_sync_file(struct cr_vk_device *dev, VkSemaphore sem, int sync_fd);
