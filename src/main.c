/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "config.h"
#include "core/log.h"
#include "daemon.h"

static void print_config(const struct cr_config *cfg)
{
	printf("vulkan.device = \"%s\"\n", cfg->vulkan_device);
	for (unsigned i = 0; i < cfg->n_relays; i++) {
		const struct cr_relay_config *r = &cfg->relays[i];
		printf("relay %s: source=%s format=%s", r->name, r->source, r->format->name);
		if (r->has_crop)
			printf(" crop=%u,%u,%u,%u", r->crop.x, r->crop.y, r->crop.w, r->crop.h);
		if (r->scale_w)
			printf(" scale=%ux%u", r->scale_w, r->scale_h);
		printf(" dmabuf=%s\n", r->dmabuf ? "yes" : "no");
	}
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
	cr_log_set_level(cfg.verbosity >= 2 ? CR_LOG_DEBUG
					    : (cfg.verbosity == 1 ? CR_LOG_INFO : CR_LOG_WARN));
	return cr_daemon_run(&cfg);
}
