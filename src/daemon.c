/* SPDX-License-Identifier: MIT */
#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <pipewire/pipewire.h>
#include <spa/utils/result.h>

#include "core/kernels.h"
#include "core/log.h"
#include "core/syncobj.h"
#include "core/vk-device.h"
#include "notify.h"
#include "relay.h"
#include "xdg.h"

#define TOPIC "daemon"

struct daemon {
	struct pw_main_loop *loop;
	struct pw_context *context;
	struct pw_core *in_core, *out_core;
	struct spa_hook in_listener, out_listener;
	struct spa_source *watchdog;
	int exit_code;
	/* Cold start: the kernel variants READY waits for (kernels.h). */
	struct cr_kernels *kernels;
	uint32_t kernels_needed;
	bool stopping; /**< quit() was called: also ends the wait for the kernels */
};

static void quit(struct daemon *d, int code)
{
	if (code > d->exit_code)
		d->exit_code = code;
	d->stopping = true;
	pw_main_loop_quit(d->loop);
}

static void on_signal(void *data, int signal_number)
{
	struct daemon *d = data;
	cr_log_info(TOPIC, "signal %d: stopping", signal_number);
	quit(d, 0);
}

static void on_core_error(void *data, uint32_t id, int seq, int res, const char *message)
{
	struct daemon *d = data;
	if (id == PW_ID_CORE && res == -EPIPE) {
		cr_log_error(TOPIC, "lost the connection to PipeWire: %s", message);
		quit(d, 1);
		return;
	}
	cr_log_warn(TOPIC, "PipeWire error on object %u: %s (%s)", id, message, spa_strerror(res));
}

static const struct pw_core_events core_events = {
	PW_VERSION_CORE_EVENTS,
	.error = on_core_error,
};

static void on_relay_fatal(void *data, const char *relay, const char *message)
{
	struct daemon *d = data;
	fprintf(stderr, "castrelayd: relay '%s': %s\n", relay, message);
	quit(d, 1);
}

static void on_watchdog(void *data, uint64_t expirations)
{
	cr_notify_watchdog();
}

/* ---- cold start: the kernels are compiled on their worker while the loop runs ---- */

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

static bool kernels_settled(struct daemon *d)
{
	uint32_t m = d->kernels_needed;
	return (cr_kernels_ready(d->kernels, m) | cr_kernels_failed(d->kernels, m)) == m;
}

static void on_kernels(void *data, int fd, uint32_t mask)
{
	struct daemon *d = data;
	cr_kernels_ack(d->kernels);
	if (kernels_settled(d))
		pw_main_loop_quit(d->loop);
}

/* Runs the loop (PipeWire stays serviced) until every needed variant is ready or failed; false
 * when the buffer kernel failed or the daemon is stopping (a signal, a fatal relay). */
static bool wait_kernels(struct daemon *d, struct pw_loop *loop)
{
	uint32_t todo = d->kernels_needed & ~cr_kernels_ready(d->kernels, d->kernels_needed);
	if (todo) {
		cr_log_info(TOPIC, "compiling %d kernel variant(s)...", __builtin_popcount(todo));
		struct spa_source *src = pw_loop_add_io(loop, cr_kernels_get_fd(d->kernels),
							SPA_IO_IN, false, on_kernels, d);
		if (!src)
			return false;
		if (!kernels_settled(d) && !d->stopping)
			pw_main_loop_run(d->loop);
		pw_loop_destroy_source(loop, src);
		if (d->stopping)
			return false;
	}
	if (cr_kernels_failed(d->kernels, d->kernels_needed))
		cr_log_warn(TOPIC, "some kernel variants failed to build: their frames are dropped");
	return kernels_settled(d) && cr_kernels_ready(d->kernels, CR_KERNELS_BUFFERS);
}

static struct pw_core *connect_core(struct daemon *d, struct spa_hook *listener, const char *role)
{
	struct pw_properties *props = pw_properties_new(PW_KEY_APP_NAME, "castrelayd", NULL);
	pw_properties_setf(props, PW_KEY_CLIENT_NAME, "castrelayd (%s)", role);
	struct pw_core *core = pw_context_connect(d->context, props, 0);
	if (!core) {
		fprintf(stderr, "castrelayd: cannot connect to PipeWire (%s): %s; is pipewire running "
				"for this user (XDG_RUNTIME_DIR=%s)?\n", role, strerror(errno),
			getenv("XDG_RUNTIME_DIR") ? getenv("XDG_RUNTIME_DIR") : "(unset)");
		return NULL;
	}
	pw_core_add_listener(core, listener, &core_events, d);
	return core;
}

int cr_daemon_run(const struct cr_config *cfg)
{
	struct daemon d = { 0 };
	struct cr_relay *relays[CR_CONFIG_MAX_RELAYS] = { 0 };
	struct cr_vk_device *dev = NULL;
	int code = 1;

	pw_init(NULL, NULL);
	d.loop = pw_main_loop_new(NULL);
	if (!d.loop)
		goto out_deinit;
	struct pw_loop *loop = pw_main_loop_get_loop(d.loop);
	pw_loop_add_signal(loop, SIGINT, on_signal, &d);
	pw_loop_add_signal(loop, SIGTERM, on_signal, &d);
	d.context = pw_context_new(loop, NULL, 0);
	if (!d.context)
		goto out_loop;
	/* Two connections: with a portal the input fd sees only the shared node. */
	d.in_core = connect_core(&d, &d.in_listener, "input");
	if (!d.in_core)
		goto out_context;
	d.out_core = connect_core(&d, &d.out_listener, "output");
	if (!d.out_core)
		goto out_in_core;

	/* The DRM device first: the Vulkan device that drives the same GPU is preferred. */
	int drm_fd = -1;
	dev_t drm_node = 0;
	if (strcmp(cfg->drm_device, "none") != 0) {
		const char *path = cfg->drm_device[0] ? cfg->drm_device : NULL;
		drm_fd = cr_syncobj_device_open(path);
		if (drm_fd < 0 && path) {
			fprintf(stderr, "castrelayd: --drm-device %s is unusable for explicit sync "
					"(see above); use none to turn explicit sync off\n", path);
			goto out_out_core;
		}
		struct stat st;
		if (drm_fd >= 0 && fstat(drm_fd, &st) == 0)
			drm_node = st.st_rdev;
		if (drm_fd < 0)
			cr_log_info(TOPIC, "no DRM render node with timeline syncobjs: explicit sync "
					   "(SPA_META_SyncTimeline) is not offered");
	}
	dev = cr_vk_device_create_for_drm(cfg->vulkan_device, drm_node);
	if (!dev) {
		fprintf(stderr, "castrelayd: no usable Vulkan device (see the messages above)\n");
		goto out_drm;
	}
	/* Cold start: the worker compiles from now on, while the relays come up. */
	d.kernels = create_kernels(dev);
	if (!d.kernels)
		goto out_dev;
	for (unsigned i = 0; i < cfg->n_relays; i++)
		d.kernels_needed |= cr_kernels_needed(dev, cfg->relays[i].dmabuf);
	cr_kernels_request(d.kernels, d.kernels_needed);
	for (unsigned i = 0; i < cfg->n_relays; i++) {
		relays[i] = cr_relay_create(d.in_core, d.out_core, d.kernels, drm_fd,
					    &cfg->relays[i], on_relay_fatal, &d);
		if (!relays[i])
			goto out_relays;
	}
	if (!wait_kernels(&d, loop)) {
		code = d.stopping ? d.exit_code : 1; /* SIGTERM while compiling: a clean exit */
		goto out_relays;
	}

	uint64_t wd_us = cr_notify_watchdog_interval_us();
	if (wd_us) {
		d.watchdog = pw_loop_add_timer(loop, on_watchdog, &d);
		struct timespec ts = { (time_t)(wd_us / 1000000), (long)(wd_us % 1000000) * 1000 };
		pw_loop_update_timer(loop, d.watchdog, &ts, &ts, false);
	}
	char status[256];
	snprintf(status, sizeof(status), "relaying %u source(s) on %s", cfg->n_relays,
		 cr_vk_device_name(dev));
	cr_notify_ready(status);
	cr_log_info(TOPIC, "%s", status);

	pw_main_loop_run(d.loop);
	code = d.exit_code;
	cr_notify_stopping();
	if (d.watchdog)
		pw_loop_destroy_source(loop, d.watchdog);

out_relays:
	for (unsigned i = 0; i < cfg->n_relays; i++)
		cr_relay_destroy(relays[i]);
	cr_kernels_destroy(d.kernels);
out_dev:
	cr_vk_device_destroy(dev);
out_drm:
	if (drm_fd >= 0)
		close(drm_fd);
out_out_core:
	spa_hook_remove(&d.out_listener);
	pw_core_disconnect(d.out_core);
out_in_core:
	spa_hook_remove(&d.in_listener);
	pw_core_disconnect(d.in_core);
out_context:
	pw_context_destroy(d.context);
out_loop:
	pw_main_loop_destroy(d.loop);
out_deinit:
	pw_deinit();
	return code;
}
