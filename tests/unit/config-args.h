/* SPDX-License-Identifier: MIT */
#pragma once
/* castrelayd's command line parsed as main() would: the unit tests' one helper for it. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "test.h"

#define CONFIG_ARGS_MAX 32

/*
 * cr_config_init(), then cr_config_parse_args() on "castrelayd" followed by the NULL-ended
 * @args; what it prints on stderr lands in @err (@len bytes, NUL-terminated), stdout is
 * dropped. More than CONFIG_ARGS_MAX - 2 arguments is a broken test (a failed check).
 */
static inline enum cr_config_result config_parse_args(struct cr_config *cfg,
							 const char *const *args, char *err,
							 size_t len)
{
	char *argv[CONFIG_ARGS_MAX];
	int argc = 0;
	argv[argc++] = (char *)"castrelayd";
	for (; *args; args++) {
		if (argc == CONFIG_ARGS_MAX - 1) {
			CHECK_MSG(false, "more than %d arguments", CONFIG_ARGS_MAX - 2);
			break;
		}
		argv[argc++] = (char *)*args;
	}
	argv[argc] = NULL;
	cr_config_init(cfg);
	memset(err, 0, len);
	FILE *e = fmemopen(err, len - 1, "w");
	FILE *out = fopen("/dev/null", "w");
	enum cr_config_result r = cr_config_parse_args(cfg, argc, argv, out, e);
	fclose(e);
	fclose(out);
	return r;
}
