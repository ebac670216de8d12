/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdio.h>

static enum cr_log_level current_level = CR_LOG_WARN;

static const char *const level_names[] = {
	[CR_LOG_ERROR] = "error",
	[CR_LOG_WARN] = "warning",
	[CR_LOG_INFO] = "info",
	[CR_LOG_DEBUG] = "debug",
};

void cr_log_set_level(enum cr_log_level level)
{
	current_level = level;
}

void cr_log(enum cr_log_level level, const char *topic, const char *fmt, ...)
{
	if (level > current_level)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "castrelay.%s: %s: %s\n", topic, level_names[level], msg);
}
