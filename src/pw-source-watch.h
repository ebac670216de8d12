/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Watches a PipeWire registry for a relay's source node: by node.name or object.serial (a
 * configured target) or by global id (the node a portal session handed out). Reports when it
 * appears and when it goes, as often as that happens; the owner (re)creates its input stream
 * then, because WirePlumber destroys a stream whose target vanished (DESIGN.md). Main-loop
 * thread.
 */
#include <stdint.h>

#include <pipewire/pipewire.h>

struct cr_pw_source_watch;

struct cr_pw_source_watch_events {
	/** The source exists as node @id with @serial (its object.serial; 0 when absent). */
	void (*found)(void *data, uint32_t id, uint64_t serial);
	/** The node reported by found went away. */
	void (*gone)(void *data);
	/**
	 * The registry has been read once and no such node exists (yet): found follows if it
	 * appears later. Not called when it was found first.
	 */
	void (*missing)(void *data);
};

/**
 * Starts watching @core (borrowed) for @target (copied): a node.name or object.serial, or,
 * when @node_id is not SPA_ID_INVALID, that global id (then @target only names it in logs).
 * Nodes that match but are not video sources (media.class Video/Source or
 * Stream/Output/Video) are logged and ignored. Events come from the loop, never from inside
 * this call. Returns NULL and logs on failure.
 */
struct cr_pw_source_watch *cr_pw_source_watch_create(struct pw_core *core, const char *target,
						     uint32_t node_id,
						     const struct cr_pw_source_watch_events *events,
						     void *data);

/** Stops watching and frees. NULL is a no-op. */
void cr_pw_source_watch_destroy(struct cr_pw_source_watch *watch);
