/* SPDX-License-Identifier: MIT */
#include "vk-objects.h"

#include <stdatomic.h>
#include <stdio.h>

static atomic_llong counts[CR_VK_OBJECT_TYPES];

static const char *const names[CR_VK_OBJECT_TYPES] = {
	[CR_VK_OBJECT_INSTANCE] = "instance",
	[CR_VK_OBJECT_DEVICE] = "device",
	[CR_VK_OBJECT_MEMORY] = "memory",
	[CR_VK_OBJECT_BUFFER] = "buffer",
	[CR_VK_OBJECT_IMAGE] = "image",
	[CR_VK_OBJECT_IMAGE_VIEW] = "image-view",
	[CR_VK_OBJECT_SAMPLER] = "sampler",
	[CR_VK_OBJECT_SEMAPHORE] = "semaphore",
	[CR_VK_OBJECT_FENCE] = "fence",
	[CR_VK_OBJECT_COMMAND_POOL] = "command-pool",
	[CR_VK_OBJECT_DESCRIPTOR_POOL] = "descriptor-pool",
	[CR_VK_OBJECT_DESCRIPTOR_SET_LAYOUT] = "descriptor-set-layout",
	[CR_VK_OBJECT_PIPELINE_LAYOUT] = "pipeline-layout",
	[CR_VK_OBJECT_PIPELINE] = "pipeline",
	[CR_VK_OBJECT_PIPELINE_CACHE] = "pipeline-cache",
	[CR_VK_OBJECT_SHADER_MODULE] = "shader-module",
};

void cr_vk_objects_add(enum cr_vk_object type, int n)
{
	atomic_fetch_add_explicit(&counts[type], n, memory_order_relaxed);
}

void cr_vk_objects_get(struct cr_vk_objects *objects)
{
	for (unsigned i = 0; i < CR_VK_OBJECT_TYPES; i++)
		objects->count[i] = atomic_load_explicit(&counts[i], memory_order_relaxed);
}

int64_t cr_vk_objects_total(const struct cr_vk_objects *objects)
{
	int64_t total = 0;
	for (unsigned i = 0; i < CR_VK_OBJECT_TYPES; i++)
		total += objects->count[i];
	return total;
}

const char *cr_vk_object_name(enum cr_vk_object type)
{
	return type < CR_VK_OBJECT_TYPES ? names[type] : "unknown";
}

void cr_vk_objects_format(const struct cr_vk_objects *objects, char *text, size_t len)
{
	size_t used = 0;
	if (len == 0)
		return;
	text[0] = '\0';
	for (unsigned i = 0; i < CR_VK_OBJECT_TYPES && used < len; i++)
		if (objects->count[i] != 0)
			used += (size_t)snprintf(text + used, len - used, "%s%s=%lld",
						 used ? " " : "", names[i],
						 (long long)objects->count[i]);
	if (used == 0)
		snprintf(text, len, "none");
}
