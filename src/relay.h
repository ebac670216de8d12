/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * One relay: a source (found by cr_pw_source_watch, consumed by pw-input) -> pipeline ->
 * pw-output, with its counters published as castrelay.* node properties about once a second.
 *
 * Its life (DESIGN.md, "Life of a relay"): the pipeline lives as long as the relay; the output
 * node as long as a PipeWire connection (cr_relay_connect() .. cr_relay_disconnect()); the input
 * stream as long as its source node exists (and the Vulkan device it imports into). When the
 * source goes the output node stays with
 * the same id and name (state lost), sending nothing or black frames (lost = "black"); when a
 * node of the same target appears again, a new input stream is created for it. Main-loop
 * thread.
 */
#include <pipewire/pipewire.h>

#include "config.h"

struct cr_relay;
struct cr_kernels;

/** castrelay.source.state */
enum cr_relay_state {
	CR_RELAY_WAITING,  /**< no source yet */
	CR_RELAY_RELAYING, /**< a source is negotiated and frames flow */
	CR_RELAY_LOST,     /**< the source went away; the output node stays */
};

struct cr_relay_events {
	/** cr_relay_get_state() changed. */
	void (*state)(void *data, struct cr_relay *relay);
	/** The relay cannot go on (it cannot watch the registry); @message says why. */
	void (*fatal)(void *data, struct cr_relay *relay, const char *message);
	/**
	 * The Vulkan device was lost (a call of this relay's pipeline failed with
	 * VK_ERROR_DEVICE_LOST, or another user of the device did): frames are dropped until
	 * the owner rebuilds the GPU side, which it must not do from this callback: suspend
	 * and resume from an idle event. Called once per pipeline.
	 */
	void (*device_lost)(void *data, struct cr_relay *relay);
};

/**
 * Creates relay @cfg (borrowed, must outlive the relay) on @loop, processing with @kernels
 * (the device's kernels; both borrowed and must outlive the relay). @drm_fd (borrowed, -1: none) is a DRM node with timeline syncobjs for explicit
 * sync on both sides. Nothing is published until cr_relay_connect(). Returns NULL and logs on
 * failure.
 */
struct cr_relay *cr_relay_create(struct pw_loop *loop, struct cr_kernels *kernels, int drm_fd,
				 const struct cr_relay_config *cfg,
				 const struct cr_relay_events *events, void *data);

/** Disconnects, then frees. NULL is a no-op. */
void cr_relay_destroy(struct cr_relay *relay);

/**
 * Creates the output node castrelay.NAME on @out_core (borrowed, until
 * cr_relay_disconnect()). It is published once its format is known: at the first source
 * format, or at once with the size it had before a reconnection. Returns false and logs on
 * failure.
 */
bool cr_relay_connect(struct cr_relay *relay, struct pw_core *out_core);

/**
 * PipeWire went away (or the daemon stops): waits for the relay's GPU jobs (a bounded wait:
 * at most CR_PIPELINE_SLOTS frames), then drops the source watch, the input and the output.
 * The pipeline and the live settings stay for the next cr_relay_connect().
 */
void cr_relay_disconnect(struct cr_relay *relay);

/**
 * Looks for the source on @core (borrowed, until the next call or cr_relay_disconnect()):
 * @target is a node.name or object.serial, or with @node_id (not SPA_ID_INVALID) that node's
 * global id (a portal's node; @target then only names it). A missing source is logged and
 * waited for. @core NULL: no source for now (a portal session closed): the state becomes
 * lost when a source had been relayed.
 */
void cr_relay_set_source(struct cr_relay *relay, struct pw_core *core, const char *target,
			 uint32_t node_id);

/**
 * The device is lost: waits for the relay's GPU jobs (a bounded wait), destroys the input
 * stream (its buffers were imported into the device) and gives the output's exported
 * DMA-BUFs back (cr_pw_output_drop_exports()), then the pipeline. The output node stays with
 * its id, consumers stay linked; frames are dropped until cr_relay_resume_gpu(). Then the
 * device and @kernels may be destroyed. No-op when already suspended. Not from a relay
 * callback.
 */
void cr_relay_suspend_gpu(struct cr_relay *relay);

/**
 * After cr_relay_suspend_gpu(): a new pipeline on @kernels (borrowed, as at creation); the
 * input stream is created again for the source node it had, and the output renegotiates only
 * when its buffers were exported DMA-BUFs. castrelay.vk.recoveries counts the calls. Returns
 * false (logged) when the pipeline cannot be created; the relay stays suspended.
 */
bool cr_relay_resume_gpu(struct cr_relay *relay, struct cr_kernels *kernels);

/** True while one of the relay's streams waits for the server to create its node. */
bool cr_relay_connecting(const struct cr_relay *relay);

/** The relay's state. */
enum cr_relay_state cr_relay_get_state(const struct cr_relay *relay);

/** "waiting", "relaying", "lost". */
const char *cr_relay_state_name(enum cr_relay_state state);

/** The relay's name (castrelay.NAME). */
const char *cr_relay_name(const struct cr_relay *relay);
