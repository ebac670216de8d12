/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * The composition root: PipeWire connections, the Vulkan device, one relay per configured
 * relay, signals and service notification. The only translation unit that sees both PipeWire
 * and Vulkan headers.
 */
#include "config.h"

/** Where a simulated device loss strikes (cr_daemon_test_hooks.device_lost). */
enum cr_daemon_fault {
	CR_DAEMON_FAULT_NONE,
	CR_DAEMON_FAULT_SUBMIT, /**< the next queue submission fails */
	CR_DAEMON_FAULT_WAIT,   /**< the next fence wait fails */
};

/**
 * Test hooks, from the environment main() reads (CASTRELAY_TEST_DEVICE_LOST,
 * CASTRELAY_TEST_DEVICE_FAILS); all zero in production.
 */
struct cr_daemon_test_hooks {
	/** Not NONE: SIGUSR2 makes the device fail there with VK_ERROR_DEVICE_LOST. */
	enum cr_daemon_fault device_lost;
	/** After a loss, the first @device_fails attempts to recreate the device fail. */
	unsigned device_fails;
};

/**
 * Runs castrelayd with @cfg until SIGINT/SIGTERM (returns 0) or a fatal error: no Vulkan
 * device, a lost one that cannot be recreated, an unusable DRM device (returns 1, message
 * logged). @hooks (borrowed; NULL: none) are for tests only.
 */
int cr_daemon_run(const struct cr_config *cfg, const struct cr_daemon_test_hooks *hooks);
