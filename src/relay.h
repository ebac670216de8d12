/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * One relay: pw-input -> pipeline -> pw-output, with its counters published as castrelay.*
 * node properties about once a second. Main-loop thread.
 */
#include <pipewire/pipewire.h>

#include "config.h"

struct cr_relay;
struct cr_kernels;

/** Called when the relay cannot go on (source missing, device lost). */
typedef void (*cr_relay_fatal_fn)(void *data, const char *relay, const char *message);

/**
 * Starts relay @cfg (borrowed, must outlive the relay): consumes on @in_core, publishes on
 * @out_core (separate connections: a portal's fd hides every other node), processes with
 * @kernels (borrowed, the device's kernels; must outlive the relay).
 * @drm_fd (borrowed, -1: none) is a DRM node with timeline syncobjs for explicit sync on both
 * sides. Returns NULL and logs on failure.
 */
struct cr_relay *cr_relay_create(struct pw_core *in_core, struct pw_core *out_core,
				 struct cr_kernels *kernels, int drm_fd,
				 const struct cr_relay_config *cfg,
				 cr_relay_fatal_fn fatal, void *data);

/** Stops and frees the relay, returning every buffer it holds. NULL is a no-op. */
void cr_relay_destroy(struct cr_relay *relay);
