/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * The composition root: PipeWire connections, the Vulkan device, one relay per configured
 * relay, signals and service notification. The only translation unit that sees both PipeWire
 * and Vulkan headers.
 */
#include "config.h"

/**
 * Runs castrelayd with @cfg until SIGINT/SIGTERM (returns 0) or a fatal error: no PipeWire,
 * no Vulkan device, a missing source, PipeWire gone (returns 1, message logged).
 */
int cr_daemon_run(const struct cr_config *cfg);
