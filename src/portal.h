/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * ScreenCast portal sessions (org.freedesktop.portal.ScreenCast over the session bus, sd-bus).
 * One struct cr_portal holds the bus connection; each portal relay has one
 * struct cr_portal_session that walks CreateSession -> SelectSources -> Start ->
 * OpenPipeWireRemote, keeps its restore token in <state dir>/<relay>.token (0600), and after a
 * Closed session starts again by itself with backoff (1 s doubling to 60 s). Every Request's
 * Response is awaited through cr_portal_dispatch(), never by blocking.
 *
 * The owner's loop polls cr_portal_get_fd() for cr_portal_get_events() and wakes at
 * cr_portal_get_deadline_ns(), then calls cr_portal_dispatch(). This header has no sd-bus or
 * PipeWire types. Main-loop thread only. Event callbacks run inside cr_portal_dispatch(); they
 * must not destroy their own session or the portal (do it after dispatch returns).
 */
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct cr_portal;
struct cr_portal_session;

/** What a session is doing, for logs, STATUS and castrelay.source.state. */
enum cr_portal_state {
	CR_PORTAL_STARTING,  /**< calls in flight, no dialog expected (or not yet) */
	CR_PORTAL_DIALOG,    /**< Start is waiting for the user (no valid restore token) */
	CR_PORTAL_STREAMING, /**< the stream was handed over (events.stream) */
	CR_PORTAL_RETRYING,  /**< closed or failed; a new session starts after the backoff */
	CR_PORTAL_CANCELLED, /**< the user cancelled: nothing until cr_portal_session_reopen() */
};

struct cr_portal_session_events {
	/** The state changed; @message says what happened and what comes next (also logged). */
	void (*state)(void *data, enum cr_portal_state state, const char *message);
	/**
	 * The session streams: @fd (taken: the callee owns it) is the PipeWire remote of
	 * OpenPipeWireRemote, which shows only the shared node; @node_id is that node (Start's
	 * streams), @serial its object.serial where the portal gave "pipewire-serial" (0: none);
	 * @width/@height its "size" (0: not given).
	 */
	void (*stream)(void *data, int fd, uint32_t node_id, uint64_t serial, uint32_t width,
		       uint32_t height);
	/** The session ended (Closed, or the portal went away): the fd given by stream is stale. */
	void (*closed)(void *data);
};

/**
 * Connects to the session bus ($DBUS_SESSION_BUS_ADDRESS, else the user bus) and waits for the
 * bus daemon's Hello reply (the request paths contain our unique name; the portal is not
 * contacted yet). Returns NULL and logs on failure (no session bus: portal mode cannot work).
 * A connection that fails later is logged by cr_portal_dispatch() and not reopened.
 */
struct cr_portal *cr_portal_create(void);

/**
 * Destroys every session still open (cr_portal_session_destroy: their pointers become invalid),
 * writes the queued Session.Close calls out, then closes the bus. NULL is a no-op.
 */
void cr_portal_destroy(struct cr_portal *portal);

/** The bus fd to poll (borrowed: the portal owns it; the same fd for the portal's life). */
int cr_portal_get_fd(const struct cr_portal *portal);

/** poll(2) events for that fd (POLLIN, POLLOUT). */
uint32_t cr_portal_get_events(const struct cr_portal *portal);

/** CLOCK_MONOTONIC ns of the next timeout (bus or backoff), UINT64_MAX for none. */
uint64_t cr_portal_get_deadline_ns(const struct cr_portal *portal);

/** Processes bus traffic and expired timers; calls session events. Never blocks. */
void cr_portal_dispatch(struct cr_portal *portal);

/**
 * Starts a session for relay @relay_name (copied) with @cfg (copied). @state_dir (copied)
 * holds restore tokens; NULL keeps none (a dialog every time). @events (copied; NULL or NULL
 * members: not told) receive @data. Returns NULL and logs on failure (also for a @relay_name
 * that cannot name a file); otherwise the first events come from cr_portal_dispatch().
 */
struct cr_portal_session *cr_portal_session_create(struct cr_portal *portal,
						   const char *relay_name,
						   const struct cr_portal_source *cfg,
						   const char *state_dir,
						   const struct cr_portal_session_events *events,
						   void *data);

/** Closes the session (Session.Close) and frees it; no events after this. NULL is a no-op. */
void cr_portal_session_destroy(struct cr_portal_session *session);

/**
 * SIGHUP: a cancelled session asks again (a dialog); a retrying one retries now. A streaming
 * or starting session is left alone.
 */
void cr_portal_session_reopen(struct cr_portal_session *session);

/** "starting", "dialog", "streaming", "retrying", "cancelled". */
const char *cr_portal_state_name(enum cr_portal_state state);
