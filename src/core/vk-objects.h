/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * The live Vulkan objects of this process, per type: created minus destroyed, counted at every
 * create and destroy call in the core (vk-device, vk-buffer, vk-image, vk-sync, kernels,
 * pipeline). Objects freed with their parent are counted with it: command buffers with their
 * pool, descriptor sets with theirs. A leak shows as a count that grows across a fault the
 * daemon recovers from; the daemon publishes the figures as castrelay.vk.objects.
 *
 * No Vulkan types here, so that the PipeWire side can read the figures. Any thread (relaxed
 * atomics: each count is exact, a snapshot of all of them is not taken at one instant).
 */
#include <stddef.h>
#include <stdint.h>

enum cr_vk_object {
	CR_VK_OBJECT_INSTANCE,
	CR_VK_OBJECT_DEVICE,
	CR_VK_OBJECT_MEMORY,
	CR_VK_OBJECT_BUFFER,
	CR_VK_OBJECT_IMAGE,
	CR_VK_OBJECT_IMAGE_VIEW,
	CR_VK_OBJECT_SAMPLER,
	CR_VK_OBJECT_SEMAPHORE,
	CR_VK_OBJECT_FENCE,
	CR_VK_OBJECT_COMMAND_POOL,
	CR_VK_OBJECT_DESCRIPTOR_POOL,
	CR_VK_OBJECT_DESCRIPTOR_SET_LAYOUT,
	CR_VK_OBJECT_PIPELINE_LAYOUT,
	CR_VK_OBJECT_PIPELINE,
	CR_VK_OBJECT_PIPELINE_CACHE,
	CR_VK_OBJECT_SHADER_MODULE,
	CR_VK_OBJECT_TYPES
};

/** A snapshot of the counts, indexed by enum cr_vk_object. */
struct cr_vk_objects {
	int64_t count[CR_VK_OBJECT_TYPES];
};

/** Adds @n (negative: destroyed) to the count of @type. Any thread. */
void cr_vk_objects_add(enum cr_vk_object type, int n);

/** Fills @objects with the current counts. Any thread. */
void cr_vk_objects_get(struct cr_vk_objects *objects);

/** The sum of every count of @objects. */
int64_t cr_vk_objects_total(const struct cr_vk_objects *objects);

/** The name of @type as cr_vk_objects_format() writes it ("memory", "descriptor-pool"). */
const char *cr_vk_object_name(enum cr_vk_object type);

/**
 * Writes "TYPE=N ..." for every type whose count is not 0, in enum order, into @text (@len
 * bytes, truncated when shorter); "none" when every count is 0.
 */
void cr_vk_objects_format(const struct cr_vk_objects *objects, char *text, size_t len);
