/* SPDX-License-Identifier: MIT */
#include "pw-source-watch.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define TOPIC "pw-source"

struct cr_pw_source_watch {
	struct pw_core *core;
	struct pw_registry *registry;
	struct spa_hook registry_listener;
	struct spa_hook core_listener;
	int sync_seq;
	bool synced;
	char *target;
	uint32_t want_id; /**< SPA_ID_INVALID: match by name or serial */
	uint32_t id;      /**< the node found, SPA_ID_INVALID while there is none */
	const struct cr_pw_source_watch_events *events;
	void *data;
};

static bool matches(const struct cr_pw_source_watch *w, uint32_t id, const struct spa_dict *props)
{
	if (w->want_id != SPA_ID_INVALID)
		return id == w->want_id;
	const char *name = spa_dict_lookup(props, PW_KEY_NODE_NAME);
	const char *serial = spa_dict_lookup(props, PW_KEY_OBJECT_SERIAL);
	return (name && strcmp(name, w->target) == 0) ||
	       (serial && strcmp(serial, w->target) == 0);
}

static void on_global(void *data, uint32_t id, uint32_t permissions, const char *type,
		      uint32_t version, const struct spa_dict *props)
{
	struct cr_pw_source_watch *w = data;
	if (strcmp(type, PW_TYPE_INTERFACE_Node) != 0 || !props || w->id != SPA_ID_INVALID ||
	    !matches(w, id, props))
		return;
	const char *klass = spa_dict_lookup(props, PW_KEY_MEDIA_CLASS);
	if (!klass || (strcmp(klass, "Video/Source") != 0 &&
		       strcmp(klass, "Stream/Output/Video") != 0)) {
		cr_log_warn(TOPIC, "node %u matches source '%s' but is a %s node, not a video "
				   "source: ignored", id, w->target, klass ? klass : "(no media.class)");
		return;
	}
	const char *serial = spa_dict_lookup(props, PW_KEY_OBJECT_SERIAL);
	w->id = id;
	cr_log_info(TOPIC, "source '%s' is node %u (%s, serial %s)", w->target, id, klass,
		    serial ? serial : "none");
	w->events->found(w->data, id, serial ? strtoull(serial, NULL, 10) : 0);
}

static void on_global_remove(void *data, uint32_t id)
{
	struct cr_pw_source_watch *w = data;
	if (id != w->id)
		return;
	w->id = SPA_ID_INVALID;
	cr_log_info(TOPIC, "source '%s' (node %u) went away", w->target, id);
	w->events->gone(w->data);
}

static const struct pw_registry_events registry_events = {
	PW_VERSION_REGISTRY_EVENTS,
	.global = on_global,
	.global_remove = on_global_remove,
};

static void on_core_done(void *data, uint32_t id, int seq)
{
	struct cr_pw_source_watch *w = data;
	if (id != PW_ID_CORE || seq != w->sync_seq || w->synced)
		return;
	w->synced = true;
	if (w->id == SPA_ID_INVALID)
		w->events->missing(w->data);
}

static const struct pw_core_events core_events = {
	PW_VERSION_CORE_EVENTS,
	.done = on_core_done,
};

struct cr_pw_source_watch *cr_pw_source_watch_create(struct pw_core *core, const char *target,
						     uint32_t node_id,
						     const struct cr_pw_source_watch_events *events,
						     void *data)
{
	struct cr_pw_source_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->target = strdup(target);
	if (!w->target)
		goto err_free;
	w->core = core;
	w->want_id = node_id;
	w->id = SPA_ID_INVALID;
	w->events = events;
	w->data = data;
	w->registry = pw_core_get_registry(core, PW_VERSION_REGISTRY, 0);
	if (!w->registry) {
		cr_log_error(TOPIC, "cannot get the PipeWire registry");
		goto err_target;
	}
	pw_registry_add_listener(w->registry, &w->registry_listener, &registry_events, w);
	pw_core_add_listener(core, &w->core_listener, &core_events, w);
	w->sync_seq = pw_core_sync(core, PW_ID_CORE, 0);
	return w;

err_target:
	free(w->target);
err_free:
	free(w);
	return NULL;
}

void cr_pw_source_watch_destroy(struct cr_pw_source_watch *w)
{
	if (!w)
		return;
	spa_hook_remove(&w->core_listener);
	spa_hook_remove(&w->registry_listener);
	pw_proxy_destroy((struct pw_proxy *)w->registry);
	free(w->target);
	free(w);
}
