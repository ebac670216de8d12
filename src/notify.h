/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Service manager notification (sd_notify). Without systemd support compiled in, or when not
 * run by systemd, every call is a no-op. Main-loop thread.
 */
#include <stdbool.h>
#include <stdint.h>

/** READY=1 with a STATUS line. */
void cr_notify_ready(const char *status);

/** A new STATUS line (what each relay is doing). */
void cr_notify_status(const char *status);

/** STOPPING=1. */
void cr_notify_stopping(void);

/** WATCHDOG=1. */
void cr_notify_watchdog(void);

/** The interval at which to call cr_notify_watchdog() (half the limit), or 0 when disabled. */
uint64_t cr_notify_watchdog_interval_us(void);
