/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/log.h"
#include "daemon.h"

static void print_config(const struct cr_config *cfg)
{
	for (unsigned i = 0; i < cfg->n_files; i++)
		printf("file = \"%s\"\n", cfg->files[i]);
	printf("vulkan.device = \"%s\"\n", cfg->vulkan_device);
	printf("drm.device = \"%s\"\n", cfg->drm_device);
	for (unsigned i = 0; i < cfg->n_relays; i++) {
		const struct cr_relay_config *r = &cfg->relays[i];
		const struct cr_relay_settings *st = &r->settings;
		printf("relay %s: source=%s", r->name, r->source);
		if (r->source_kind == CR_SOURCE_PORTAL) {
			char types[64];
			cr_config_format_portal_types(r->portal.types, types, sizeof(types));
			printf(" portal.types=%s portal.cursor=%s portal.persist=%s", types,
			       cr_config_portal_cursor_name(r->portal.cursor_mode),
			       r->portal.persist ? "yes" : "no");
		}
		printf(" format=%s", r->format->name);
		if (r->format->is_yuv)
			printf(" color=%s/%s", cr_color_matrix_name(r->matrix),
			       r->full_range ? "full" : "limited");
		if (st->has_crop)
			printf(" crop=%u,%u,%u,%u", st->crop.x, st->crop.y, st->crop.w, st->crop.h);
		if (st->scale_w)
			printf(" scale=%ux%u", st->scale_w, st->scale_h);
		if (st->n_redact) {
			char redact[512];
			cr_config_format_redact(st, redact, sizeof(redact));
			printf(" redact=%s", redact);
			if (st->pixelate)
				printf(" pixelate=%u", st->pixelate);
		}
		printf(" cursor=%s", cr_config_cursor_name(st->cursor));
		if (st->fps)
			printf(" fps=%u", st->fps);
		printf(" camera=%s dmabuf=%s lost=%s", r->camera ? "yes" : "no",
		       r->dmabuf ? "yes" : "no", cr_config_lost_name(r->lost));
		const struct cr_access_config *access =
			r->allowed_clients.set ? &r->allowed_clients : &cfg->allowed_clients;
		if (access->set) {
			char rules[CR_ACCESS_TEXT_MAX];
			cr_access_config_format(access, rules, sizeof(rules));
			printf(" allowed-clients=%s", rules);
		}
		printf("\n");
	}
}

/*
 * The test hooks (castrelayd(1), FOR TESTS): read here and nowhere else, handed to the daemon.
 * Returns false (message on stderr) for a value that is not understood.
 */
static bool read_test_hooks(struct cr_daemon_test_hooks *hooks)
{
	*hooks = (struct cr_daemon_test_hooks){ 0 };
	const char *lost = getenv("CASTRELAY_TEST_DEVICE_LOST");
	if (lost && *lost) {
		if (strcmp(lost, "submit") == 0) {
			hooks->device_lost = CR_DAEMON_FAULT_SUBMIT;
		} else if (strcmp(lost, "wait") == 0) {
			hooks->device_lost = CR_DAEMON_FAULT_WAIT;
		} else {
			fprintf(stderr, "castrelayd: invalid CASTRELAY_TEST_DEVICE_LOST value '%s': "
					"expected submit or wait\n", lost);
			return false;
		}
	}
	const char *fails = getenv("CASTRELAY_TEST_DEVICE_FAILS");
	if (fails && *fails) {
		char *end = NULL;
		errno = 0;
		unsigned long n = strtoul(fails, &end, 10);
		if (errno || *end || fails[0] == '-' || n > 100) {
			fprintf(stderr, "castrelayd: invalid CASTRELAY_TEST_DEVICE_FAILS value '%s': "
					"expected an integer 0..100\n", fails);
			return false;
		}
		hooks->device_fails = (unsigned)n;
	}
	return true;
}

int main(int argc, char **argv)
{
	static struct cr_config cfg;
	cr_config_init(&cfg);
	switch (cr_config_parse_args(&cfg, argc, argv, stdout, stderr)) {
	case CR_CONFIG_EXIT:
		return 0;
	case CR_CONFIG_USAGE:
		return 2;
	case CR_CONFIG_RUN:
		break;
	}
	if (cfg.check_only) {
		print_config(&cfg);
		return 0;
	}
	struct cr_daemon_test_hooks hooks;
	if (!read_test_hooks(&hooks))
		return 2;
	cr_log_init(cfg.verbosity >= 2 ? CR_LOG_DEBUG
				       : (cfg.verbosity == 1 ? CR_LOG_INFO : CR_LOG_WARN));
	return cr_daemon_run(&cfg, &hooks);
}
