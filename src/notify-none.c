/* SPDX-License-Identifier: MIT */
/* Built instead of notify.c when castrelay is configured without systemd. */
#include "notify.h"

void cr_notify_ready(const char *status)
{
}

void cr_notify_status(const char *status)
{
}

void cr_notify_stopping(void)
{
}

void cr_notify_watchdog(void)
{
}

uint64_t cr_notify_watchdog_interval_us(void)
{
	return 0;
}
