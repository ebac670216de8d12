/* SPDX-License-Identifier: MIT */
#include "daemon.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pipewire/pipewire.h>
#include <spa/utils/result.h>

#include "core/kernels.h"
#include "core/log.h"
#include "core/syncobj.h"
#include "core/vk-device.h"
#include "core/vk-objects.h"
#include "notify.h"
#include "portal.h"
#include "pw-access.h"
#include "relay.h"
#include "xdg.h"

#define TOPIC "daemon"

/* PipeWire reconnection backoff (DESIGN.md, "Life of a relay"). */
#define RECONNECT_FIRST_MS 100
#define RECONNECT_MAX_MS 5000
/* Device loss: attempts to recreate the device, the first at once, then after 250 ms doubling
 * (about 4 s in all) before giving up; and losses in a row of recreated devices that were lost
 * again before their kernels were ready, before giving up on a device that keeps failing. */
#define RECOVER_TRIES 5
/* At exit: how long streams that are still connecting are waited for, checked how often. */
#define SETTLE_MAX_MS 500
#define SETTLE_TICK_MS 10
#define RECOVER_FIRST_MS 250
#define RELOST_MAX 5

struct daemon;

/* One configured relay and, in portal mode, its session and the portal's PipeWire remote. */
struct relay_slot {
	struct daemon *d;
	const struct cr_relay_config *cfg;
	struct cr_relay *relay;
	struct cr_portal_session *session;
	enum cr_portal_state portal_state;
	struct pw_core *portal_core; /**< on the fd of OpenPipeWireRemote */
	struct spa_hook portal_listener;
	bool portal_core_dead; /**< its connection failed: dropped from the next idle event */
};

struct daemon {
	const struct cr_config *cfg;
	struct pw_main_loop *main_loop;
	struct pw_loop *loop;
	struct pw_context *context;
	struct pw_core *in_core, *out_core;
	struct spa_hook in_listener, out_listener;
	struct cr_pw_access *access; /**< allowed-clients on out_core's nodes */
	bool connected;
	bool ready;
	unsigned backoff_ms;
	struct spa_source *reconnect_timer;
	struct spa_source *idle_event; /**< teardown that must not run inside a callback */
	bool lost_pipewire;
	struct spa_source *watchdog;
	struct cr_vk_device *dev;
	dev_t drm_node; /**< the DRM device that chose @dev, to choose it again */
	/* Cold start: the kernel variants READY waits for (kernels.h). */
	struct cr_kernels *kernels;
	uint32_t kernels_needed;
	/* Device loss (STYLE.md: a sticky flag, one recovery on idle). */
	struct cr_daemon_test_hooks hooks;
	bool device_lost;     /**< reported by a relay; the idle event recovers */
	bool recovering;      /**< from the loss until the new device's kernels are ready */
	unsigned recover_tries;   /**< failed attempts to recreate the device, this loss */
	unsigned recoveries;      /**< devices recreated since start */
	unsigned quick_losses;    /**< recreated devices in a row lost before their kernels */
	uint64_t lost_ms;
	struct spa_source *recover_timer;
	struct spa_source *kernels_source; /**< @kernels' fd on the loop (on_kernels()) */
	bool stopping; /**< quit() was called: also ends the wait for the kernels */
	int drm_fd;
	char state_dir[4096];
	bool have_state_dir;
	struct cr_portal *portal;
	struct spa_source *portal_io, *portal_timer;
	struct relay_slot slots[CR_CONFIG_MAX_RELAYS];
	unsigned n_slots;
	char status[1024];
	int exit_code;
	unsigned settle_ticks; /**< at exit: settle_streams()'s checks so far */
};

static void quit(struct daemon *d, int code)
{
	if (code > d->exit_code)
		d->exit_code = code;
	d->stopping = true;
	pw_main_loop_quit(d->main_loop);
}

/* One STATUS line for all relays: "a: relaying; b: portal dialog open". */
static void update_status(struct daemon *d)
{
	char status[sizeof(d->status)];
	size_t used = 0;
	if (d->stopping)
		return; /* teardown: relays dropping their sources is no news */
	status[0] = '\0';
	if (!d->connected)
		used += (size_t)snprintf(status, sizeof(status), "PipeWire unreachable, "
						   "reconnecting; ");
	if (d->recovering || d->device_lost)
		used += (size_t)snprintf(status + used, sizeof(status) - used,
					 "Vulkan device lost, recreating it; ");
	else if (d->recoveries)
		used += (size_t)snprintf(status + used, sizeof(status) - used,
					 "Vulkan device recreated after %u loss%s; ", d->recoveries,
					 d->recoveries == 1 ? "" : "es");
	for (unsigned i = 0; i < d->n_slots && used < sizeof(status); i++) {
		const struct relay_slot *s = &d->slots[i];
		enum cr_relay_state rs = cr_relay_get_state(s->relay);
		const char *what = rs == CR_RELAY_RELAYING ? "relaying"
				 : rs == CR_RELAY_LOST	   ? "source lost"
							   : "waiting for source";
		if (s->session && rs != CR_RELAY_RELAYING) {
			switch (s->portal_state) {
			case CR_PORTAL_DIALOG:
				what = rs == CR_RELAY_LOST ? "source lost, portal dialog open"
							   : "portal dialog open";
				break;
			case CR_PORTAL_CANCELLED:
				what = "portal dialog cancelled (reload to ask again)";
				break;
			case CR_PORTAL_RETRYING:
				what = rs == CR_RELAY_LOST ? "source lost, portal retrying"
							   : "portal retrying";
				break;
			default:
				break;
			}
		}
		used += (size_t)snprintf(status + used, sizeof(status) - used, "%s%s: %s",
					 i ? "; " : "", s->cfg->name, what);
	}
	if (strcmp(status, d->status) == 0)
		return;
	snprintf(d->status, sizeof(d->status), "%s", status);
	if (d->ready)
		cr_notify_status(d->status);
	cr_log_info(TOPIC, "status: %s", d->status);
}

static void on_signal(void *data, int signal_number)
{
	struct daemon *d = data;
	cr_log_info(TOPIC, "signal %d: stopping", signal_number);
	quit(d, 0);
}

/* SIGHUP (systemctl --user reload castrelay): portal sessions whose dialog was cancelled ask
 * again; those waiting for their backoff retry now. */
static void on_sighup(void *data, int signal_number)
{
	struct daemon *d = data;
	cr_log_info(TOPIC, "SIGHUP: asking the portal again for relays without a session");
	for (unsigned i = 0; i < d->n_slots; i++)
		if (d->slots[i].session)
			cr_portal_session_reopen(d->slots[i].session);
}

static void schedule_reconnect(struct daemon *d)
{
	unsigned ms = d->backoff_ms;
	d->backoff_ms = d->backoff_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : d->backoff_ms * 2;
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };
	pw_loop_update_timer(d->loop, d->reconnect_timer, &ts, NULL, false);
}

static void on_core_error(void *data, uint32_t id, int seq, int res, const char *message)
{
	struct daemon *d = data;
	if (id == PW_ID_CORE && res == -EPIPE) {
		if (!d->lost_pipewire)
			cr_log_warn(TOPIC, "lost the connection to PipeWire (%s): every relay waits; "
					   "reconnecting", message);
		/* The cores are destroyed from an idle event, not inside their own callback. */
		d->lost_pipewire = true;
		pw_loop_signal_event(d->loop, d->idle_event);
		return;
	}
	cr_log_warn(TOPIC, "PipeWire error on object %u: %s (%s)", id, message, spa_strerror(res));
}

static const struct pw_core_events core_events = {
	PW_VERSION_CORE_EVENTS,
	.error = on_core_error,
};

/* The portal's remote failed: that relay's source is lost; the session will be closed or
 * restarted by the portal module. */
static void on_portal_core_error(void *data, uint32_t id, int seq, int res, const char *message)
{
	struct relay_slot *s = data;
	if (id != PW_ID_CORE || res != -EPIPE) {
		cr_log_warn(TOPIC, "%s: portal PipeWire error on object %u: %s (%s)", s->cfg->name,
			    id, message, spa_strerror(res));
		return;
	}
	cr_log_warn(TOPIC, "%s: the portal's PipeWire connection closed (%s)", s->cfg->name,
		    message);
	s->portal_core_dead = true;
	pw_loop_signal_event(s->d->loop, s->d->idle_event);
}

static const struct pw_core_events portal_core_events = {
	PW_VERSION_CORE_EVENTS,
	.error = on_portal_core_error,
};

static void drop_portal_core(struct relay_slot *s)
{
	if (!s->portal_core)
		return;
	cr_relay_set_source(s->relay, NULL, NULL, SPA_ID_INVALID);
	spa_hook_remove(&s->portal_listener);
	pw_core_disconnect(s->portal_core);
	s->portal_core = NULL;
	s->portal_core_dead = false;
}

static void on_portal_state(void *data, enum cr_portal_state state, const char *message)
{
	struct relay_slot *s = data;
	s->portal_state = state;
	update_status(s->d);
}

static void on_portal_stream(void *data, int fd, uint32_t node_id, uint64_t serial,
			     uint32_t width, uint32_t height)
{
	struct relay_slot *s = data;
	struct daemon *d = s->d;
	drop_portal_core(s);
	if (!d->connected) {
		close(fd); /* PipeWire is away: the portal session restarts after reconnecting */
		return;
	}
	struct pw_properties *props = pw_properties_new(PW_KEY_APP_NAME, "castrelayd", NULL);
	pw_properties_setf(props, PW_KEY_CLIENT_NAME, "castrelayd (portal input of %s)",
			   s->cfg->name);
	/* Consume on the portal's fd, which shows only the shared node; never handed on. */
	s->portal_core = pw_context_connect_fd(d->context, fd, props, 0);
	if (!s->portal_core) {
		cr_log_error(TOPIC, "%s: cannot connect to the portal's PipeWire remote: %s",
			     s->cfg->name, strerror(errno));
		return;
	}
	pw_core_add_listener(s->portal_core, &s->portal_listener, &portal_core_events, s);
	char target[64];
	snprintf(target, sizeof(target), "portal node %u", node_id);
	cr_log_info(TOPIC, "%s: portal stream: node %u%s%s", s->cfg->name, node_id,
		    width ? ", " : "", width ? "with a size" : "");
	cr_relay_set_source(s->relay, s->portal_core, target, node_id);
}

static void on_portal_closed(void *data)
{
	struct relay_slot *s = data;
	drop_portal_core(s);
	update_status(s->d);
}

static const struct cr_portal_session_events portal_events = {
	.state = on_portal_state,
	.stream = on_portal_stream,
	.closed = on_portal_closed,
};

static void update_portal_source(struct daemon *d)
{
	uint32_t events = cr_portal_get_events(d->portal);
	pw_loop_update_io(d->loop, d->portal_io,
			  ((events & POLLIN) ? SPA_IO_IN : 0) | ((events & POLLOUT) ? SPA_IO_OUT : 0));
	uint64_t deadline = cr_portal_get_deadline_ns(d->portal);
	struct timespec now, ts = { 0, 0 };
	if (deadline != UINT64_MAX) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		uint64_t t = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
		uint64_t wait = deadline > t ? deadline - t : 1;
		ts = (struct timespec){ (time_t)(wait / 1000000000ull),
					(long)(wait % 1000000000ull) };
	}
	pw_loop_update_timer(d->loop, d->portal_timer, &ts, NULL, false);
}

static void on_portal_io(void *data, int fd, uint32_t mask)
{
	struct daemon *d = data;
	cr_portal_dispatch(d->portal);
	update_portal_source(d);
}

static void on_portal_timer(void *data, uint64_t expirations)
{
	on_portal_io(data, -1, 0);
}

static void on_relay_state(void *data, struct cr_relay *relay)
{
	update_status(data);
}

static void on_relay_fatal(void *data, struct cr_relay *relay, const char *message)
{
	struct daemon *d = data;
	cr_log_error(TOPIC, "relay '%s': %s", cr_relay_name(relay), message);
	quit(d, 1);
}

static void schedule_recovery(struct daemon *d);

static void on_relay_device_lost(void *data, struct cr_relay *relay)
{
	struct daemon *d = data;
	cr_log_warn(TOPIC, "relay '%s': the Vulkan device was lost", cr_relay_name(relay));
	schedule_recovery(d);
}

static const struct cr_relay_events relay_events = {
	.state = on_relay_state,
	.fatal = on_relay_fatal,
	.device_lost = on_relay_device_lost,
};

static void on_watchdog(void *data, uint64_t expirations)
{
	cr_notify_watchdog();
}

/* ---- cold start: the kernels are compiled on their worker while the loop runs ---- */

/* The Vulkan device: the configured one, else the one behind d->drm_node. */
static bool open_vulkan(struct daemon *d)
{
	d->dev = cr_vk_device_create_for_drm(d->cfg->vulkan_device, d->drm_node);
	if (!d->dev)
		cr_log_error(TOPIC, "no usable Vulkan device (see the messages above)");
	return d->dev != NULL;
}

static struct cr_kernels *create_kernels(struct cr_vk_device *dev)
{
	char dir[4096];
	bool have_dir = cr_xdg_dir(CR_XDG_CACHE, dir, sizeof(dir));
	if (have_dir && !cr_xdg_mkdirs(dir)) {
		cr_log_warn(TOPIC, "cannot create %s (%s): no pipeline cache file", dir,
			    strerror(errno));
		have_dir = false;
	}
	return cr_kernels_create(dev, have_dir ? dir : NULL);
}

/* Every needed variant of the current kernels is ready or failed (none between devices). */
static bool kernels_settled(struct daemon *d)
{
	uint32_t m = d->kernels_needed;
	return d->kernels &&
	       (cr_kernels_ready(d->kernels, m) | cr_kernels_failed(d->kernels, m)) == m;
}

static void finish_recovery(struct daemon *d);

/* The kernels' fd: a variant got ready or failed. Before READY, wait_kernels() runs the loop
 * until they are settled; after a device loss, the recovery ends with them. */
static void on_kernels(void *data, int fd, uint32_t mask)
{
	struct daemon *d = data;
	cr_kernels_ack(d->kernels);
	if (!kernels_settled(d))
		return;
	if (!cr_kernels_ready(d->kernels, CR_KERNELS_BUFFERS) && d->dev->lost) {
		schedule_recovery(d); /* lost while warming up: new kernels on a new device */
		return;
	}
	if (!d->ready)
		pw_main_loop_quit(d->main_loop);
	if (d->recovering)
		finish_recovery(d);
}

/* The device's kernels, watched on the loop, the needed variants requested. */
static bool start_kernels(struct daemon *d)
{
	d->kernels = create_kernels(d->dev);
	if (!d->kernels)
		return false;
	d->kernels_source = pw_loop_add_io(d->loop, cr_kernels_get_fd(d->kernels), SPA_IO_IN, false,
					   on_kernels, d);
	if (!d->kernels_source) {
		cr_kernels_destroy(d->kernels);
		d->kernels = NULL;
		return false;
	}
	cr_kernels_request(d->kernels, d->kernels_needed);
	return true;
}

/* Runs the loop (PipeWire stays serviced) until every needed variant is ready or failed, also
 * across a device loss meanwhile; false when the buffer kernel failed or the daemon is stopping
 * (a signal, a fatal relay, a device that cannot be recreated). */
static bool wait_kernels(struct daemon *d)
{
	uint32_t todo = d->kernels_needed & ~cr_kernels_ready(d->kernels, d->kernels_needed);
	if (todo)
		cr_log_info(TOPIC, "compiling %d kernel variant(s)...", __builtin_popcount(todo));
	while (!d->stopping && !kernels_settled(d))
		pw_main_loop_run(d->main_loop);
	if (d->stopping)
		return false;
	if (cr_kernels_failed(d->kernels, d->kernels_needed))
		cr_log_warn(TOPIC, "some kernel variants failed to build: their frames are dropped");
	return cr_kernels_ready(d->kernels, CR_KERNELS_BUFFERS);
}

/* ---- device loss: the GPU side is rebuilt on idle, the PipeWire nodes stay ------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* SIGUSR2 with CASTRELAY_TEST_DEVICE_LOST: the device fails at its next submit or wait. */
static void on_sigusr2(void *data, int signal_number)
{
	struct daemon *d = data;
	if (!d->dev)
		return; /* between devices: nothing to lose */
	bool wait = d->hooks.device_lost == CR_DAEMON_FAULT_WAIT;
	cr_log_warn(TOPIC, "SIGUSR2: the next %s loses the Vulkan device "
			   "(CASTRELAY_TEST_DEVICE_LOST, for tests only)",
		    wait ? "fence wait" : "queue submission");
	cr_vk_device_inject_lost(d->dev, wait ? CR_VK_FAULT_WAIT : CR_VK_FAULT_SUBMIT);
}

/* Called from the failing call's stack (through a relay): only a flag and an idle event. */
static void schedule_recovery(struct daemon *d)
{
	if (d->device_lost)
		return;
	d->device_lost = true;
	d->lost_ms = now_ms();
	pw_loop_signal_event(d->loop, d->idle_event);
}

static void drop_kernels(struct daemon *d)
{
	if (d->kernels_source)
		pw_loop_destroy_source(d->loop, d->kernels_source);
	d->kernels_source = NULL;
	cr_kernels_destroy(d->kernels);
	d->kernels = NULL;
}

/* A recreated device's kernels are settled: frames were dropped (and counted) until now. */
static void finish_recovery(struct daemon *d)
{
	if (!cr_kernels_ready(d->kernels, CR_KERNELS_BUFFERS)) {
		cr_log_error(TOPIC, "the recreated Vulkan device cannot build the kernel: exiting");
		quit(d, 1);
		return;
	}
	d->recovering = false;
	d->quick_losses = 0;
	cr_log_info(TOPIC, "frames flow again: kernels ready %" PRIu64 " ms after the device "
			   "was lost", now_ms() - d->lost_ms);
	update_status(d);
}

/* One attempt at a new device, its kernels and every relay's pipeline; false when the device
 * or its kernels cannot be created (the relays stay suspended). */
static bool recreate_device(struct daemon *d)
{
	if (d->hooks.device_fails > 0) {
		d->hooks.device_fails--;
		cr_log_warn(TOPIC, "not recreating the Vulkan device, on purpose "
				   "(CASTRELAY_TEST_DEVICE_FAILS, for tests only)");
		return false;
	}
	if (!open_vulkan(d))
		return false;
	if (!start_kernels(d)) {
		cr_vk_device_destroy(d->dev);
		d->dev = NULL;
		return false;
	}
	for (unsigned i = 0; i < d->n_slots; i++) {
		if (!cr_relay_resume_gpu(d->slots[i].relay, d->kernels)) {
			for (unsigned k = 0; k < i; k++)
				cr_relay_suspend_gpu(d->slots[k].relay);
			drop_kernels(d);
			cr_vk_device_destroy(d->dev);
			d->dev = NULL;
			return false;
		}
	}
	return true;
}

static void try_recreate(struct daemon *d)
{
	if (!recreate_device(d)) {
		if (++d->recover_tries >= RECOVER_TRIES) {
			cr_log_error(TOPIC, "cannot recreate the Vulkan device after %u attempts: "
					    "exiting", d->recover_tries);
			quit(d, 1);
			return;
		}
		unsigned ms = RECOVER_FIRST_MS << (d->recover_tries - 1);
		cr_log_warn(TOPIC, "cannot recreate the Vulkan device (attempt %u of %u): next "
				   "attempt in %u ms", d->recover_tries, RECOVER_TRIES, ms);
		struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };
		pw_loop_update_timer(d->loop, d->recover_timer, &ts, NULL, false);
		update_status(d);
		return;
	}
	d->recoveries++;
	cr_log_warn(TOPIC, "recreated the Vulkan device %s %" PRIu64 " ms after it was lost "
			   "(recovery %u, attempt %u); the output nodes kept their ids",
		    cr_vk_device_name(d->dev), now_ms() - d->lost_ms, d->recoveries,
		    d->recover_tries + 1);
	d->recover_tries = 0;
	/* Already settled (a cached build), or that comes through the fd. */
	on_kernels(d, -1, 0);
	update_status(d);
}

static void on_recover_timer(void *data, uint64_t expirations)
{
	try_recreate(data);
}

/*
 * On idle, never inside the failing call: every relay drops what it holds of the device (its
 * jobs, its input stream, its output's exported buffers; the output nodes stay), then the
 * kernels and the device go, and a new device is made, with the same choice.
 */
static void recover(struct daemon *d)
{
	d->device_lost = false;
	/* Still recovering from the last loss: that device never got its kernels ready. */
	if (d->recovering && ++d->quick_losses >= RELOST_MAX) {
		cr_log_error(TOPIC, "%u recreated Vulkan devices in a row were lost before their "
				    "kernels were ready: exiting", d->quick_losses);
		quit(d, 1);
		return;
	}
	d->recovering = true;
	cr_log_warn(TOPIC, "the Vulkan device %s was lost: rebuilding the GPU side of %u "
			   "relay(s)", cr_vk_device_name(d->dev), d->n_slots);
	update_status(d);
	for (unsigned i = 0; i < d->n_slots; i++)
		cr_relay_suspend_gpu(d->slots[i].relay);
	drop_kernels(d);
	cr_vk_device_destroy(d->dev);
	d->dev = NULL;
	d->recover_tries = 0;
	try_recreate(d);
}

static struct pw_core *connect_core(struct daemon *d, struct spa_hook *listener, const char *role)
{
	struct pw_properties *props = pw_properties_new(PW_KEY_APP_NAME, "castrelayd", NULL);
	pw_properties_setf(props, PW_KEY_CLIENT_NAME, "castrelayd (%s)", role);
	struct pw_core *core = pw_context_connect(d->context, props, 0);
	if (!core)
		return NULL;
	pw_core_add_listener(core, listener, &core_events, d);
	return core;
}

static bool streams_connecting(struct daemon *d)
{
	for (unsigned i = 0; i < d->n_slots; i++)
		if (cr_relay_connecting(d->slots[i].relay))
			return true;
	return false;
}

static void on_settle_timer(void *data, uint64_t expirations)
{
	struct daemon *d = data;
	if (!streams_connecting(d) || ++d->settle_ticks >= SETTLE_MAX_MS / SETTLE_TICK_MS)
		pw_main_loop_quit(d->main_loop);
}

/*
 * At exit, before the streams go: a stream created just before (by a recovery, for a source
 * that appeared, after reconnecting) is given up to SETTLE_MAX_MS to leave the connecting
 * state. PipeWire 1.4 frees an exported node's port mixes only once the server has sent the
 * node its transport (module-client-node's clean_node()), so a stream destroyed while it
 * connects leaks them, and LeakSanitizer reports it.
 */
static void settle_streams(struct daemon *d)
{
	if (!streams_connecting(d))
		return;
	struct spa_source *timer = pw_loop_add_timer(d->loop, on_settle_timer, d);
	if (!timer)
		return;
	struct timespec ts = { 0, SETTLE_TICK_MS * 1000000 };
	d->settle_ticks = 0;
	pw_loop_update_timer(d->loop, timer, &ts, &ts, false);
	pw_main_loop_run(d->main_loop);
	pw_loop_destroy_source(d->loop, timer);
}

static void disconnect(struct daemon *d)
{
	for (unsigned i = 0; i < d->n_slots; i++) {
		struct relay_slot *s = &d->slots[i];
		/* The portal's node lived in the old PipeWire: a new session after reconnecting. */
		cr_portal_session_destroy(s->session);
		s->session = NULL;
		drop_portal_core(s);
		cr_relay_disconnect(s->relay);
	}
	cr_pw_access_destroy(d->access);
	d->access = NULL;
	if (d->out_core) {
		spa_hook_remove(&d->out_listener);
		pw_core_disconnect(d->out_core);
		d->out_core = NULL;
	}
	if (d->in_core) {
		spa_hook_remove(&d->in_listener);
		pw_core_disconnect(d->in_core);
		d->in_core = NULL;
	}
	d->connected = false;
}

/* Two connections: a portal's fd sees only the shared node, so outputs have their own. */
static bool connect_all(struct daemon *d)
{
	d->in_core = connect_core(d, &d->in_listener, "input");
	if (d->in_core)
		d->out_core = connect_core(d, &d->out_listener, "output");
	if (!d->out_core) {
		int err = errno;
		disconnect(d);
		errno = err;
		return false;
	}
	d->connected = true;
	d->access = cr_pw_access_create(d->out_core, d->in_core, d->cfg);
	if (!d->access)
		return false;
	for (unsigned i = 0; i < d->n_slots; i++) {
		struct relay_slot *s = &d->slots[i];
		if (!cr_relay_connect(s->relay, d->out_core))
			return false;
		if (s->cfg->source_kind == CR_SOURCE_TARGET) {
			cr_relay_set_source(s->relay, d->in_core, s->cfg->source, SPA_ID_INVALID);
			continue;
		}
		s->portal_state = CR_PORTAL_STARTING;
		s->session = cr_portal_session_create(d->portal, s->cfg->name, &s->cfg->portal,
						      d->have_state_dir ? d->state_dir : NULL,
						      &portal_events, s);
		if (!s->session)
			return false;
	}
	if (d->portal)
		update_portal_source(d);
	return true;
}

static void on_reconnect(void *data, uint64_t expirations)
{
	struct daemon *d = data;
	if (d->connected)
		return;
	if (!connect_all(d)) {
		cr_log_debug(TOPIC, "PipeWire not reachable yet (%s): next try in %u ms",
			     strerror(errno), d->backoff_ms);
		schedule_reconnect(d);
		return;
	}
	cr_log_info(TOPIC, "connected to PipeWire again: relays restored");
	d->backoff_ms = RECONNECT_FIRST_MS;
	update_status(d);
}

static void on_idle(void *data, uint64_t count)
{
	struct daemon *d = data;
	for (unsigned i = 0; i < d->n_slots; i++)
		if (d->slots[i].portal_core_dead)
			drop_portal_core(&d->slots[i]);
	if (d->lost_pipewire) {
		d->lost_pipewire = false;
		disconnect(d);
		update_status(d);
		d->backoff_ms = RECONNECT_FIRST_MS;
		schedule_reconnect(d);
	}
	if (d->device_lost && !d->stopping)
		recover(d);
}

/* The DRM device first: the Vulkan device that drives the same GPU is preferred. */
static bool open_devices(struct daemon *d)
{
	const struct cr_config *cfg = d->cfg;
	dev_t drm_node = 0;
	d->drm_fd = -1;
	if (strcmp(cfg->drm_device, "none") != 0) {
		const char *path = cfg->drm_device[0] ? cfg->drm_device : NULL;
		d->drm_fd = cr_syncobj_device_open(path);
		if (d->drm_fd < 0 && path) {
			cr_log_error(TOPIC, "--drm-device %s is unusable for explicit sync (see "
					    "above); use none to turn explicit sync off", path);
			return false;
		}
		struct stat st;
		if (d->drm_fd >= 0 && fstat(d->drm_fd, &st) == 0)
			drm_node = st.st_rdev;
		if (d->drm_fd < 0)
			cr_log_info(TOPIC, "no DRM render node with timeline syncobjs: explicit sync "
					   "(SPA_META_SyncTimeline) is not offered");
	}
	d->drm_node = drm_node;
	if (!open_vulkan(d)) {
		if (d->drm_fd >= 0)
			close(d->drm_fd);
		d->drm_fd = -1;
		return false;
	}
	return true;
}

/* At exit every Vulkan object made must be gone (vk-objects.h): a leak is an error. */
static void report_vk_objects(void)
{
	struct cr_vk_objects objects;
	char text[512];
	cr_vk_objects_get(&objects);
	cr_vk_objects_format(&objects, text, sizeof(text));
	if (strcmp(text, "none") != 0)
		cr_log_error(TOPIC, "Vulkan objects left at exit: %s", text);
	else
		cr_log_info(TOPIC, "Vulkan objects left at exit: none");
}

static bool needs_portal(const struct cr_config *cfg)
{
	for (unsigned i = 0; i < cfg->n_relays; i++)
		if (cfg->relays[i].source_kind == CR_SOURCE_PORTAL)
			return true;
	return false;
}

static bool start_portal(struct daemon *d)
{
	d->portal = cr_portal_create();
	if (!d->portal)
		return false;
	d->portal_io = pw_loop_add_io(d->loop, cr_portal_get_fd(d->portal), SPA_IO_IN, false,
				      on_portal_io, d);
	d->portal_timer = pw_loop_add_timer(d->loop, on_portal_timer, d);
	d->have_state_dir = cr_xdg_dir(CR_XDG_STATE, d->state_dir, sizeof(d->state_dir));
	if (!d->have_state_dir)
		cr_log_warn(TOPIC, "no state directory (neither $STATE_DIRECTORY, "
				   "$XDG_STATE_HOME nor $HOME): restore tokens are not kept");
	return d->portal_io && d->portal_timer;
}

int cr_daemon_run(const struct cr_config *cfg, const struct cr_daemon_test_hooks *hooks)
{
	struct daemon d = { .cfg = cfg, .drm_fd = -1, .backoff_ms = RECONNECT_FIRST_MS };
	if (hooks)
		d.hooks = *hooks;
	int code = 1;

	pw_init(NULL, NULL);
	d.main_loop = pw_main_loop_new(NULL);
	if (!d.main_loop)
		goto out_deinit;
	d.loop = pw_main_loop_get_loop(d.main_loop);
	pw_loop_add_signal(d.loop, SIGINT, on_signal, &d);
	pw_loop_add_signal(d.loop, SIGTERM, on_signal, &d);
	pw_loop_add_signal(d.loop, SIGHUP, on_sighup, &d);
	if (d.hooks.device_lost != CR_DAEMON_FAULT_NONE)
		pw_loop_add_signal(d.loop, SIGUSR2, on_sigusr2, &d);
	d.reconnect_timer = pw_loop_add_timer(d.loop, on_reconnect, &d);
	d.recover_timer = pw_loop_add_timer(d.loop, on_recover_timer, &d);
	d.idle_event = pw_loop_add_event(d.loop, on_idle, &d);
	d.context = pw_context_new(d.loop, NULL, 0);
	if (!d.context || !d.reconnect_timer || !d.recover_timer || !d.idle_event)
		goto out_loop;
	if (!open_devices(&d))
		goto out_context;
	for (unsigned i = 0; i < cfg->n_relays; i++)
		d.kernels_needed |= cr_kernels_needed(d.dev, cfg->relays[i].dmabuf);
	if (!start_kernels(&d))
		goto out_dev;
	if (needs_portal(cfg) && !start_portal(&d))
		goto out_portal;
	for (unsigned i = 0; i < cfg->n_relays; i++) {
		struct relay_slot *s = &d.slots[i];
		s->d = &d;
		s->cfg = &cfg->relays[i];
		s->relay = cr_relay_create(d.loop, d.kernels, d.drm_fd, s->cfg, &relay_events, &d);
		if (!s->relay)
			goto out_relays;
		d.n_slots++;
	}
	if (!connect_all(&d)) {
		if (d.n_slots && !d.connected)
			cr_log_warn(TOPIC, "cannot connect to PipeWire (%s); is pipewire running for "
					   "this user (XDG_RUNTIME_DIR=%s)? Retrying with backoff",
				    strerror(errno), getenv("XDG_RUNTIME_DIR") ?: "(unset)");
		if (d.connected)
			goto out_relays; /* a relay could not be set up: logged */
		schedule_reconnect(&d);
	}

	if (!wait_kernels(&d)) {
		code = d.stopping ? d.exit_code : 1; /* SIGTERM while compiling: a clean exit */
		goto out_relays;
	}

	uint64_t wd_us = cr_notify_watchdog_interval_us();
	if (wd_us) {
		d.watchdog = pw_loop_add_timer(d.loop, on_watchdog, &d);
		struct timespec ts = { (time_t)(wd_us / 1000000), (long)(wd_us % 1000000) * 1000 };
		pw_loop_update_timer(d.loop, d.watchdog, &ts, &ts, false);
	}
	update_status(&d);
	d.ready = true;
	cr_notify_ready(d.status);
	cr_log_info(TOPIC, "running %u relay(s) on %s", cfg->n_relays, cr_vk_device_name(d.dev));

	pw_main_loop_run(d.main_loop);
	code = d.exit_code;
	cr_notify_stopping();
	if (d.watchdog)
		pw_loop_destroy_source(d.loop, d.watchdog);

out_relays:
	if (d.connected)
		settle_streams(&d);
	disconnect(&d);
	for (unsigned i = 0; i < d.n_slots; i++)
		cr_relay_destroy(d.slots[i].relay);
out_portal:
	if (d.portal_timer)
		pw_loop_destroy_source(d.loop, d.portal_timer);
	if (d.portal_io)
		pw_loop_destroy_source(d.loop, d.portal_io);
	cr_portal_destroy(d.portal);
	drop_kernels(&d);
out_dev:
	cr_vk_device_destroy(d.dev);
	report_vk_objects();
	if (d.drm_fd >= 0)
		close(d.drm_fd);
out_context:
	pw_context_destroy(d.context);
out_loop:
	if (d.idle_event)
		pw_loop_destroy_source(d.loop, d.idle_event);
	if (d.reconnect_timer)
		pw_loop_destroy_source(d.loop, d.reconnect_timer);
	if (d.recover_timer)
		pw_loop_destroy_source(d.loop, d.recover_timer);
	pw_main_loop_destroy(d.main_loop);
out_deinit:
	pw_deinit();
	return code;
}
