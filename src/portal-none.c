/* SPDX-License-Identifier: MIT */
/* portal.h without sd-bus: cr_portal_create() fails, so no session can exist. */
#include "portal.h"

#include "core/log.h"

const char *cr_portal_state_name(enum cr_portal_state state)
{
	switch (state) {
	case CR_PORTAL_STARTING:
		return "starting";
	case CR_PORTAL_DIALOG:
		return "dialog";
	case CR_PORTAL_STREAMING:
		return "streaming";
	case CR_PORTAL_RETRYING:
		return "retrying";
	case CR_PORTAL_CANCELLED:
		return "cancelled";
	}
	return "unknown";
}

struct cr_portal *cr_portal_create(void)
{
	cr_log_error("portal", "castrelayd was built without sd-bus: portal mode is unavailable");
	return NULL;
}

void cr_portal_destroy(struct cr_portal *portal)
{
}

int cr_portal_get_fd(const struct cr_portal *portal)
{
	return -1;
}

uint32_t cr_portal_get_events(const struct cr_portal *portal)
{
	return 0;
}

uint64_t cr_portal_get_deadline_ns(const struct cr_portal *portal)
{
	return UINT64_MAX;
}

void cr_portal_dispatch(struct cr_portal *portal)
{
}

struct cr_portal_session *cr_portal_session_create(struct cr_portal *portal,
						   const char *relay_name,
						   const struct cr_portal_source *cfg,
						   const char *state_dir,
						   const struct cr_portal_session_events *events,
						   void *data)
{
	return NULL;
}

void cr_portal_session_destroy(struct cr_portal_session *session)
{
}

void cr_portal_session_reopen(struct cr_portal_session *session)
{
}
