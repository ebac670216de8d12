/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static enum cr_log_level current_level = CR_LOG_WARN;
static bool journal;

static const char *const level_names[] = {
	[CR_LOG_ERROR] = "error",
	[CR_LOG_WARN] = "warning",
	[CR_LOG_INFO] = "info",
	[CR_LOG_DEBUG] = "debug",
};

/* sd-daemon(3)'s SD_ERR, SD_WARNING, SD_INFO and SD_DEBUG, without linking libsystemd into
 * the core: journald reads a leading "<N>" on a stream line as the syslog priority. */
static const char *const priorities[] = {
	[CR_LOG_ERROR] = "<3>",
	[CR_LOG_WARN] = "<4>",
	[CR_LOG_INFO] = "<6>",
	[CR_LOG_DEBUG] = "<7>",
};

/* systemd.exec(5): JOURNAL_STREAM is "DEV:INODE" of the stream it connected stdout/stderr to;
 * it is inherited, so it holds only while stderr still is that stream. */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	char end;
	struct stat st;
	if (!env || sscanf(env, "%llu:%llu%c", &dev, &ino, &end) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void cr_log_init(enum cr_log_level level)
{
	current_level = level;
	journal = stderr_is_journal();
}

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
	fprintf(stderr, "%scastrelay.%s: %s: %s\n", journal ? priorities[level] : "", topic,
		level_names[level], msg);
}
