/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Logging for the core library, which must not depend on PipeWire. Messages go to stderr
 * as "castrelay.<topic>: <level>: message"; when stderr is the journal (see cr_log_init())
 * each line starts with its syslog priority, "<3>" error, "<4>" warning, "<6>" info, "<7>"
 * debug, so that `journalctl -p warning` selects them. Main-loop thread only for configuration;
 * cr_log() itself is thread-safe (one fprintf per line).
 */
#include <stdarg.h>

enum cr_log_level {
	CR_LOG_ERROR = 0,
	CR_LOG_WARN,
	CR_LOG_INFO,
	CR_LOG_DEBUG,
};

/**
 * Sets the level (as cr_log_set_level()) and checks once whether stderr is the journal:
 * $JOURNAL_STREAM ("DEV:INODE", set by systemd, sd-daemon(3)) names the device and inode of
 * stderr. Lines then carry the priority prefix; otherwise they are plain. Call before other
 * threads log.
 */
void cr_log_init(enum cr_log_level level);

/** Messages above @level are dropped. The default is CR_LOG_WARN. */
void cr_log_set_level(enum cr_log_level level);

/** Logs one line; @topic is the module name without the "castrelay." prefix. */
void cr_log(enum cr_log_level level, const char *topic, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define cr_log_error(topic, ...) cr_log(CR_LOG_ERROR, topic, __VA_ARGS__)
#define cr_log_warn(topic, ...) cr_log(CR_LOG_WARN, topic, __VA_ARGS__)
#define cr_log_info(topic, ...) cr_log(CR_LOG_INFO, topic, __VA_ARGS__)
#define cr_log_debug(topic, ...) cr_log(CR_LOG_DEBUG, topic, __VA_ARGS__)
