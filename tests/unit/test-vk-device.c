/* SPDX-License-Identifier: MIT */
/*
 * The Vulkan device choice (cr_vk_device_pick(), the logic behind cr_vk_device_create_for_drm())
 * on plain data: no Vulkan instance is created, so it runs everywhere. An explicit selection
 * wins; else the device whose VK_EXT_physical_device_drm node is the DRM device castrelay
 * uses (primary or render), even over a "better" type; else the best usable type.
 */
#include <sys/sysmacros.h>

#include "test.h"
#include "vk-device.h"

static struct cr_vk_candidate devices[4];
#define N_DEVICES (sizeof(devices) / sizeof(devices[0]))

static void pick(const char *select, dev_t node, int want, bool want_matched)
{
	bool matched = !want_matched;
	int got = cr_vk_device_pick(devices, N_DEVICES, select, node, &matched);
	CHECK_MSG(got == want, "select '%s' node %u:%u: device %d, expected %d",
		  select ? select : "(null)", major(node), minor(node), got, want);
	CHECK_MSG(matched == want_matched, "select '%s' node %u:%u: matched %d",
		  select ? select : "(null)", major(node), minor(node), matched);
}

int main(void)
{
	devices[0] = (struct cr_vk_candidate){ "llvmpipe (LLVM 19)", true, 3, false, 0, 0 };
	devices[1] = (struct cr_vk_candidate){ "AMD Radeon RX 7600", true, 0, true,
					       makedev(226, 0), makedev(226, 128) };
	devices[2] = (struct cr_vk_candidate){ "Intel(R) Graphics", true, 1, true,
					       makedev(226, 1), makedev(226, 129) };
	devices[3] = (struct cr_vk_candidate){ "Old GPU without 1.1", false, 0, true,
					       makedev(226, 2), makedev(226, 130) };
	pick(NULL, 0, 1, false);                     /* discrete first */
	pick("", 0, 1, false);
	pick(NULL, makedev(226, 129), 2, true);      /* the render node of the integrated GPU */
	pick(NULL, makedev(226, 1), 2, true);        /* its primary node */
	pick(NULL, makedev(226, 130), 1, false);     /* unusable device: by type */
	pick(NULL, makedev(226, 200), 1, false);     /* nobody has it: by type */
	pick("llvmpipe", makedev(226, 129), 0, false); /* a selection wins */
	pick("2", makedev(226, 128), 2, false);
	pick("3", 0, -1, false);                     /* selected but unusable */
	pick("nvidia", 0, -1, false);
	struct cr_vk_candidate cpu_only[] = { { "llvmpipe", true, 3, false, 0, 0 } };
	bool matched = true;
	CHECK_EQ_INT(cr_vk_device_pick(cpu_only, 1, NULL, makedev(226, 128), &matched), 0);
	CHECK(!matched);
	return cr_test_result();
}
