/* SPDX-License-Identifier: MIT */
#include "notify.h"

#include <stdio.h>

#include <systemd/sd-daemon.h>

void cr_notify_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void cr_notify_status(const char *status)
{
	sd_notifyf(0, "STATUS=%s", status);
}

void cr_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void cr_notify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

uint64_t cr_notify_watchdog_interval_us(void)
{
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec / 2;
}
