/* SPDX-License-Identifier: MIT */
#include "pw-access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "core/log.h"

#define TOPIC "access"

/* One relay whose output node has rules. */
struct guard {
	char node_name[CR_CONFIG_NAME_MAX + 16]; /* castrelay.NAME */
	struct cr_access_rules *rules;
};

struct client {
	struct spa_list link;
	struct cr_pw_access *access;
	uint32_t id;
	struct pw_proxy *proxy;
	struct spa_hook client_listener, proxy_listener;
	struct pw_properties *props; /* NULL until its info arrived: its links wait */
	uint32_t warned;             /* bit i: a refusal for guards[i] was logged */
};

struct node {
	struct spa_list link;
	uint32_t id;
	uint32_t client_id; /* SPA_ID_INVALID: none (a node of the PipeWire daemon) */
	int guard;          /* index into guards of its name, -1: none */
};

/* A link from a guarded output node (others are not kept). */
struct link {
	struct spa_list link;
	uint32_t id;
	uint32_t out_node, in_node;
	bool refused; /* destroyed by us; its global_remove follows */
};

struct cr_pw_access {
	struct pw_core *core, *in_core;
	struct pw_registry *registry;
	struct spa_hook registry_listener, registry_proxy_listener;
	struct guard guards[CR_CONFIG_MAX_RELAYS];
	unsigned n_guards;
	struct spa_list clients, nodes, links;
};

static uint32_t client_id_of(struct pw_core *core)
{
	return core ? pw_proxy_get_bound_id((struct pw_proxy *)pw_core_get_client(core))
		    : SPA_ID_INVALID;
}

static uint32_t parse_id(const struct spa_dict *props, const char *key)
{
	const char *s = props ? spa_dict_lookup(props, key) : NULL;
	char *end;
	if (!s || !*s)
		return SPA_ID_INVALID;
	unsigned long v = strtoul(s, &end, 10);
	return *end || v >= SPA_ID_INVALID ? SPA_ID_INVALID : (uint32_t)v;
}

static struct client *find_client(struct cr_pw_access *a, uint32_t id)
{
	struct client *c;
	spa_list_for_each(c, &a->clients, link)
		if (c->id == id)
			return c;
	return NULL;
}

static struct node *find_node(struct cr_pw_access *a, uint32_t id)
{
	struct node *n;
	spa_list_for_each(n, &a->nodes, link)
		if (n->id == id)
			return n;
	return NULL;
}

static const char *prop(const struct client *c, const char *key)
{
	const char *v = c && c->props ? pw_properties_get(c->props, key) : NULL;
	return v ? v : "(none)";
}

static void refuse(struct cr_pw_access *a, struct link *l, unsigned guard, struct client *c,
		   uint32_t client_id)
{
	const struct guard *g = &a->guards[guard];
	l->refused = true;
	pw_registry_destroy(a->registry, l->id);
	bool first = !c || !(c->warned & (1u << guard));
	if (c)
		c->warned |= 1u << guard;
	char who[512];
	if (client_id == SPA_ID_INVALID)
		snprintf(who, sizeof(who), "node %u, which belongs to no client", l->in_node);
	else
		snprintf(who, sizeof(who), "node %u of client %u (application.process.binary=%s "
			 "pipewire.sec.pid=%s application.name=%s pipewire.access=%s)", l->in_node,
			 client_id, prop(c, PW_KEY_APP_PROCESS_BINARY), prop(c, PW_KEY_SEC_PID),
			 prop(c, PW_KEY_APP_NAME), prop(c, PW_KEY_ACCESS));
	cr_log(first ? CR_LOG_WARN : CR_LOG_DEBUG, TOPIC, "%s: destroyed link %u to %s: no "
	       "allowed-clients rule matches%s", g->node_name, l->id, who,
	       first && c ? "; its further links are destroyed without a warning" : "");
}

/* Decides on @l once the consumer's client properties are known. */
static void judge(struct cr_pw_access *a, struct link *l)
{
	struct node *out = find_node(a, l->out_node);
	uint32_t own = client_id_of(a->core);
	if (l->refused || !out || out->guard < 0 || out->client_id != own)
		return;
	struct node *in = find_node(a, l->in_node);
	uint32_t client_id = in ? in->client_id : SPA_ID_INVALID;
	bool ours = client_id == own || client_id == client_id_of(a->in_core);
	if (client_id != SPA_ID_INVALID && ours)
		return; /* castrelayd itself: a relay of a relay */
	struct client *c = client_id != SPA_ID_INVALID ? find_client(a, client_id) : NULL;
	if (c && !c->props)
		return; /* judged when its info arrives */
	const struct guard *g = &a->guards[out->guard];
	if (c && cr_access_rules_match(g->rules, &c->props->dict)) {
		cr_log_debug(TOPIC, "%s: link %u to node %u of client %u (%s) is allowed",
			     g->node_name, l->id, l->in_node, client_id,
			     prop(c, PW_KEY_APP_PROCESS_BINARY));
		return;
	}
	refuse(a, l, (unsigned)out->guard, c, client_id);
}

/* Judges every link whose consumer node belongs to @c. */
static void judge_client(struct cr_pw_access *a, struct client *c)
{
	struct link *l, *t;
	spa_list_for_each_safe(l, t, &a->links, link) {
		struct node *in = find_node(a, l->in_node);
		if (in && in->client_id == c->id)
			judge(a, l);
	}
}

static void on_client_info(void *data, const struct pw_client_info *info)
{
	struct client *c = data;
	if (c->props && !(info->change_mask & PW_CLIENT_CHANGE_MASK_PROPS))
		return;
	struct pw_properties *props = pw_properties_new_dict(info->props);
	if (!props) {
		cr_log_warn(TOPIC, "out of memory for the properties of client %u", c->id);
		return;
	}
	pw_properties_free(c->props);
	c->props = props;
	judge_client(c->access, c);
}

static const struct pw_client_events client_events = {
	PW_VERSION_CLIENT_EVENTS,
	.info = on_client_info,
};

/* The client could not be read (bound too late, an error): its links are judged without
 * properties, i.e. refused unless it is gone by then. */
static void on_client_proxy_error(void *data, int seq, int res, const char *message)
{
	struct client *c = data;
	cr_log_debug(TOPIC, "client %u cannot be read: %s", c->id, message);
	if (c->props)
		return;
	c->props = pw_properties_new(NULL, NULL);
	if (c->props)
		judge_client(c->access, c);
}

static const struct pw_proxy_events client_proxy_events = {
	PW_VERSION_PROXY_EVENTS,
	.error = on_client_proxy_error,
};

static void free_client(struct client *c)
{
	spa_list_remove(&c->link);
	if (c->proxy) {
		spa_hook_remove(&c->client_listener);
		spa_hook_remove(&c->proxy_listener);
		pw_proxy_destroy(c->proxy);
	}
	pw_properties_free(c->props);
	free(c);
}

static void add_client(struct cr_pw_access *a, uint32_t id)
{
	struct client *c = calloc(1, sizeof(*c));
	if (!c) {
		cr_log_warn(TOPIC, "out of memory for client %u: its links are refused", id);
		return;
	}
	c->access = a;
	c->id = id;
	spa_list_append(&a->clients, &c->link);
	c->proxy = pw_registry_bind(a->registry, id, PW_TYPE_INTERFACE_Client, PW_VERSION_CLIENT,
				    0);
	if (!c->proxy) {
		cr_log_warn(TOPIC, "cannot bind client %u: its links are refused", id);
		c->props = pw_properties_new(NULL, NULL);
		return;
	}
	pw_client_add_listener((struct pw_client *)c->proxy, &c->client_listener, &client_events,
			       c);
	pw_proxy_add_listener(c->proxy, &c->proxy_listener, &client_proxy_events, c);
}

static void add_node(struct cr_pw_access *a, uint32_t id, const struct spa_dict *props)
{
	struct node *n = calloc(1, sizeof(*n));
	if (!n) {
		cr_log_warn(TOPIC, "out of memory for node %u", id);
		return;
	}
	n->id = id;
	n->client_id = parse_id(props, PW_KEY_CLIENT_ID);
	n->guard = -1;
	const char *name = props ? spa_dict_lookup(props, PW_KEY_NODE_NAME) : NULL;
	for (unsigned i = 0; name && i < a->n_guards; i++)
		if (strcmp(name, a->guards[i].node_name) == 0)
			n->guard = (int)i;
	spa_list_append(&a->nodes, &n->link);
}

static void add_link(struct cr_pw_access *a, uint32_t id, const struct spa_dict *props)
{
	uint32_t out_node = parse_id(props, PW_KEY_LINK_OUTPUT_NODE);
	struct node *out = find_node(a, out_node);
	if (!out || out->guard < 0)
		return;
	struct link *l = calloc(1, sizeof(*l));
	if (!l) {
		/* Not kept means not judged: fail closed. */
		cr_log_warn(TOPIC, "out of memory for link %u: destroying it", id);
		pw_registry_destroy(a->registry, id);
		return;
	}
	l->id = id;
	l->out_node = out_node;
	l->in_node = parse_id(props, PW_KEY_LINK_INPUT_NODE);
	spa_list_append(&a->links, &l->link);
	judge(a, l);
}

static void on_global(void *data, uint32_t id, uint32_t permissions, const char *type,
		      uint32_t version, const struct spa_dict *props)
{
	struct cr_pw_access *a = data;
	if (strcmp(type, PW_TYPE_INTERFACE_Client) == 0)
		add_client(a, id);
	else if (strcmp(type, PW_TYPE_INTERFACE_Node) == 0)
		add_node(a, id, props);
	else if (strcmp(type, PW_TYPE_INTERFACE_Link) == 0)
		add_link(a, id, props);
}

static void on_global_remove(void *data, uint32_t id)
{
	struct cr_pw_access *a = data;
	struct client *c = find_client(a, id);
	struct node *n = find_node(a, id);
	struct link *l;
	if (c)
		free_client(c);
	if (n) {
		spa_list_remove(&n->link);
		free(n);
	}
	spa_list_for_each(l, &a->links, link) {
		if (l->id == id) {
			spa_list_remove(&l->link);
			free(l);
			break;
		}
	}
}

static const struct pw_registry_events registry_events = {
	PW_VERSION_REGISTRY_EVENTS,
	.global = on_global,
	.global_remove = on_global_remove,
};

static void on_registry_error(void *data, int seq, int res, const char *message)
{
	cr_log_warn(TOPIC, "PipeWire refused to destroy a link to a guarded node: %s (castrelayd "
		    "needs the X permission on links, as WirePlumber grants unrestricted clients)",
		    message);
}

static const struct pw_proxy_events registry_proxy_events = {
	PW_VERSION_PROXY_EVENTS,
	.error = on_registry_error,
};

struct cr_pw_access *cr_pw_access_create(struct pw_core *out_core, struct pw_core *in_core,
					 const struct cr_config *cfg)
{
	struct cr_pw_access *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->core = out_core;
	a->in_core = in_core;
	spa_list_init(&a->clients);
	spa_list_init(&a->nodes);
	spa_list_init(&a->links);
	for (unsigned i = 0; i < cfg->n_relays; i++) {
		const struct cr_relay_config *r = &cfg->relays[i];
		const struct cr_access_config *ac =
			r->allowed_clients.set ? &r->allowed_clients : &cfg->allowed_clients;
		struct cr_access_error err;
		char text[1024];
		if (!ac->set)
			continue;
		struct guard *g = &a->guards[a->n_guards];
		snprintf(g->node_name, sizeof(g->node_name), "castrelay.%s", r->name);
		/* Checked when the configuration was read: failing here is out of memory. */
		g->rules = cr_access_rules_parse(ac->text, strlen(ac->text), &err);
		if (!g->rules) {
			cr_log_error(TOPIC, "%s: allowed-clients%s: %s", g->node_name, err.key,
				     err.why);
			goto destroy;
		}
		a->n_guards++;
		cr_access_rules_format(g->rules, text, sizeof(text));
		cr_log_info(TOPIC, "%s: only clients matching allowed-clients %s may watch",
			    g->node_name, text);
	}
	if (a->n_guards == 0)
		return a;
	a->registry = pw_core_get_registry(out_core, PW_VERSION_REGISTRY, 0);
	if (!a->registry) {
		cr_log_error(TOPIC, "cannot get the PipeWire registry");
		goto destroy;
	}
	pw_registry_add_listener(a->registry, &a->registry_listener, &registry_events, a);
	pw_proxy_add_listener((struct pw_proxy *)a->registry, &a->registry_proxy_listener,
			      &registry_proxy_events, a);
	return a;

destroy:
	cr_pw_access_destroy(a);
	return NULL;
}

void cr_pw_access_destroy(struct cr_pw_access *a)
{
	if (!a)
		return;
	struct client *c, *ct;
	struct node *n, *nt;
	struct link *l, *lt;
	spa_list_for_each_safe(c, ct, &a->clients, link)
		free_client(c);
	spa_list_for_each_safe(n, nt, &a->nodes, link)
		free(n);
	spa_list_for_each_safe(l, lt, &a->links, link)
		free(l);
	if (a->registry) {
		spa_hook_remove(&a->registry_proxy_listener);
		spa_hook_remove(&a->registry_listener);
		pw_proxy_destroy((struct pw_proxy *)a->registry);
	}
	for (unsigned i = 0; i < a->n_guards; i++)
		cr_access_rules_destroy(a->guards[i].rules);
	free(a);
}
