/* SPDX-License-Identifier: MIT */
#pragma once
/* For tests that end with every device destroyed: no Vulkan object counted by the core
 * (vk-objects.h) is left, so every create site has its destroy. */
#include "test.h"
#include "vk-objects.h"

static inline void check_no_vk_objects(void)
{
	struct cr_vk_objects o;
	cr_vk_objects_get(&o);
	for (unsigned i = 0; i < CR_VK_OBJECT_TYPES; i++)
		CHECK_MSG(o.count[i] == 0, "%s objects left after teardown: %lld", cr_vk_object_name(i),
			  (long long)o.count[i]);
}
