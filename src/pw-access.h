/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Enforces allowed-clients (access.h) on the output nodes: watches the registry (clients,
 * nodes, links) and destroys every link from a guarded output node castrelay.NAME to a consumer
 * whose client matches no rule of that relay.
 *
 * Who is judged: the client that owns the consumer node, i.e. the input node of the link (its
 * client.id), never the link's own client.id: WirePlumber creates the links on behalf of the
 * streams it routes, and a link made by anyone else still delivers the frames to the process of
 * the input node. castrelayd's own clients (a relay of a relay) are always allowed; a consumer
 * node without a client (one of the PipeWire daemon itself) or one whose client properties
 * cannot be read is refused. A link is judged once the consumer's client properties are known,
 * and again whenever they change. The first refusal per client and relay is logged as a warning
 * (client id, binary, pid, name, access), later ones at debug level.
 *
 * The registry is read on the connection the output nodes live on, so that a refused link is
 * destroyed before castrelayd answers the negotiation that would give the consumer buffers.
 * Main-loop thread.
 */
#include <pipewire/pipewire.h>

#include "config.h"

struct cr_pw_access;

/**
 * Guards the output nodes of @cfg's relays (borrowed, must outlive the object) that have rules,
 * their own allowed-clients or else @cfg->allowed_clients, on @out_core (borrowed: the
 * connection of the output nodes, until cr_pw_access_destroy()). Clients of @out_core and
 * @in_core (borrowed, NULL: none) are castrelayd's own. Without any rule nothing is watched.
 * Returns NULL and logs on failure.
 */
struct cr_pw_access *cr_pw_access_create(struct pw_core *out_core, struct pw_core *in_core,
					 const struct cr_config *cfg);

/** Stops watching and frees (before the cores are disconnected). NULL is a no-op. */
void cr_pw_access_destroy(struct cr_pw_access *access);
