/* SPDX-License-Identifier: MIT */
#include "portal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "core/log.h"
#include "xdg.h"

#define TOPIC "portal"

#define PORTAL_BUS "org.freedesktop.portal.Desktop"
#define PORTAL_PATH "/org/freedesktop/portal/desktop"
#define SCREENCAST_IFACE "org.freedesktop.portal.ScreenCast"
#define REQUEST_IFACE "org.freedesktop.portal.Request"
#define SESSION_IFACE "org.freedesktop.portal.Session"

#define NS_PER_S UINT64_C(1000000000)
#define BACKOFF_MIN_NS (1 * NS_PER_S)
#define BACKOFF_MAX_NS (60 * NS_PER_S)
/* Portals hand out UUIDs; anything much longer is not a token of theirs. */
#define TOKEN_MAX 256

/* The call a session waits for. */
enum step {
	STEP_NONE,
	STEP_CREATE,
	STEP_SELECT,
	STEP_START,
	STEP_OPEN,
};

struct cr_portal {
	sd_bus *bus;
	/* Our unique name as the Request and Session object paths spell it: ":1.42" -> "1_42". */
	char sender[128];
	sd_bus_slot *owner_slot;
	struct cr_portal_session *sessions;
	uint32_t n_tokens;
	bool bus_failed; /* logged once */
};

struct cr_portal_session {
	struct cr_portal *portal;
	struct cr_portal_session *next;
	char relay_name[CR_CONFIG_NAME_MAX];
	struct cr_portal_source cfg;
	char *state_dir;  /* NULL: no restore tokens */
	char *token_path; /* <state_dir>/<relay_name>.token */
	struct cr_portal_session_events events;
	void *data;

	enum cr_portal_state state;
	enum step step;
	char *request_path;
	sd_bus_slot *response_slot;
	sd_bus_slot *call_slot;
	char *session_handle;
	sd_bus_slot *closed_slot;

	char *restore_token; /* NULL: none */
	bool token_sent;     /* this session's SelectSources carried restore_token */
	bool streamed;       /* events.stream was called for this session */
	uint32_t node_id, width, height;
	uint64_t serial;

	uint64_t retry_at_ns; /* 0: no retry scheduled */
	uint64_t backoff_ns;
};

static const char *const state_names[] = {
	[CR_PORTAL_STARTING] = "starting",
	[CR_PORTAL_DIALOG] = "dialog",
	[CR_PORTAL_STREAMING] = "streaming",
	[CR_PORTAL_RETRYING] = "retrying",
	[CR_PORTAL_CANCELLED] = "cancelled",
};

static const char *const step_methods[] = {
	[STEP_NONE] = "(none)",
	[STEP_CREATE] = "CreateSession",
	[STEP_SELECT] = "SelectSources",
	[STEP_START] = "Start",
	[STEP_OPEN] = "OpenPipeWireRemote",
};

const char *cr_portal_state_name(enum cr_portal_state state)
{
	if ((unsigned)state >= sizeof(state_names) / sizeof(state_names[0]))
		return "unknown";
	return state_names[state];
}

static const char *or_none(const char *s)
{
	return s ? s : "(none)";
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 3, 4)))
static void set_state(struct cr_portal_session *s, enum cr_portal_state state, const char *fmt,
		      ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->state = state;
	/* The user has to act on these (or know that we wait): seen at the default level. */
	bool warn = state == CR_PORTAL_RETRYING || state == CR_PORTAL_CANCELLED;
	cr_log(warn ? CR_LOG_WARN : CR_LOG_INFO, TOPIC, "relay %s: %s", s->relay_name, msg);
	if (s->events.state)
		s->events.state(s->data, state, msg);
}

/* --- restore tokens ----------------------------------------------------------------------- */

static bool valid_token(const char *token, size_t len)
{
	if (len == 0 || len > TOKEN_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (token[i] <= ' ' || token[i] > '~')
			return false;
	}
	return true;
}

static void load_token(struct cr_portal_session *s)
{
	char buf[TOKEN_MAX + 2];
	int fd = open(s->token_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			cr_log_warn(TOPIC, "relay %s: ignoring %s: %s", s->relay_name,
				    s->token_path, strerror(errno));
		return;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int err = errno;
	close(fd);
	if (n < 0) {
		cr_log_warn(TOPIC, "relay %s: ignoring %s: %s", s->relay_name, s->token_path,
			    strerror(err));
		return;
	}
	size_t len = (size_t)n;
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	if (!valid_token(buf, len) || strlen(buf) != len) {
		cr_log_warn(TOPIC, "relay %s: ignoring %s: not a restore token (%zd bytes; "
			    "expected 1 to %d printable characters and a newline)",
			    s->relay_name, s->token_path, n, TOKEN_MAX);
		return;
	}
	s->restore_token = strdup(buf);
}

/* Written to a temporary file and renamed: a crash leaves the old token or the new one. */
static bool store_token(struct cr_portal_session *s)
{
	char tmp[4096];
	if (!cr_xdg_mkdirs(s->state_dir)) {
		cr_log_warn(TOPIC, "relay %s: cannot create %s: %s; the restore token is not kept",
			    s->relay_name, s->state_dir, strerror(errno));
		return false;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", s->token_path) >= (int)sizeof(tmp))
		return false;
	int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
	if (fd < 0) {
		cr_log_warn(TOPIC, "relay %s: cannot create %s: %s; the restore token is not kept",
			    s->relay_name, tmp, strerror(errno));
		return false;
	}
	size_t len = strlen(s->restore_token);
	bool ok = write(fd, s->restore_token, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
		  fsync(fd) == 0;
	int err = errno;
	if (close(fd) < 0 && ok) {
		ok = false;
		err = errno;
	}
	if (!ok || rename(tmp, s->token_path) < 0) {
		if (ok)
			err = errno;
		cr_log_warn(TOPIC, "relay %s: cannot write %s: %s; the restore token is not kept",
			    s->relay_name, s->token_path, strerror(err));
		unlink(tmp);
		return false;
	}
	return true;
}

static void drop_token(struct cr_portal_session *s)
{
	free(s->restore_token);
	s->restore_token = NULL;
	if (s->token_path && unlink(s->token_path) < 0 && errno != ENOENT)
		cr_log_warn(TOPIC, "relay %s: cannot remove %s: %s", s->relay_name, s->token_path,
			    strerror(errno));
}

/* --- calls -------------------------------------------------------------------------------- */

static void send_close(struct cr_portal *portal, const char *path, const char *iface)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(portal->bus, &m, PORTAL_BUS, path, iface, "Close");
	if (r >= 0)
		r = sd_bus_message_set_expect_reply(m, 0);
	if (r >= 0)
		r = sd_bus_send(portal->bus, m, NULL);
	if (r < 0)
		cr_log_warn(TOPIC, "cannot send %s.Close to %s: %s", iface, path, strerror(-r));
	sd_bus_message_unref(m);
}

/* Forgets the call in flight and the session (sending Close when @close). */
static void end_session(struct cr_portal_session *s, bool close)
{
	if (close && s->session_handle)
		send_close(s->portal, s->session_handle, SESSION_IFACE);
	else if (close && s->request_path && s->step == STEP_CREATE)
		send_close(s->portal, s->request_path, REQUEST_IFACE);
	s->response_slot = sd_bus_slot_unref(s->response_slot);
	s->call_slot = sd_bus_slot_unref(s->call_slot);
	s->closed_slot = sd_bus_slot_unref(s->closed_slot);
	free(s->request_path);
	s->request_path = NULL;
	free(s->session_handle);
	s->session_handle = NULL;
	s->step = STEP_NONE;
	s->streamed = false;
}

/* @what says what happened, without a capital or a full stop. */
static void schedule_retry(struct cr_portal_session *s, const char *what)
{
	end_session(s, true);
	s->retry_at_ns = now_ns() + s->backoff_ns;
	uint64_t wait_ns = s->backoff_ns;
	s->backoff_ns = s->backoff_ns * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : s->backoff_ns * 2;
	set_state(s, CR_PORTAL_RETRYING, "%s; starting a new portal session in %" PRIu64 " s%s",
		  what, wait_ns / NS_PER_S,
		  s->restore_token ? " (with the restore token: no dialog)" : "");
}

static void begin_session(struct cr_portal_session *s);

static void fail(struct cr_portal_session *s, const char *what)
{
	if (s->step == STEP_START && s->token_sent) {
		cr_log_warn(TOPIC, "the portal refused relay %s's restore token (%s); asking with "
			    "a dialog", s->relay_name, what);
		drop_token(s);
		begin_session(s);
		return;
	}
	schedule_retry(s, what);
}

static void cancelled(struct cr_portal_session *s)
{
	end_session(s, true);
	set_state(s, CR_PORTAL_CANCELLED, "the screen-share dialog was cancelled; not asking again "
		  "until SIGHUP (systemctl --user reload castrelay)");
}

static int on_response(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);

/* Subscribes to Response on @path, replacing an earlier subscription. */
static bool watch_request(struct cr_portal_session *s, const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return false;
	s->response_slot = sd_bus_slot_unref(s->response_slot);
	free(s->request_path);
	s->request_path = copy;
	/* Sender left out: a match on a well-known name needs its owner tracked, and the path is
	 * ours alone (it contains our unique name). */
	int r = sd_bus_match_signal_async(s->portal->bus, &s->response_slot, NULL, path,
					  REQUEST_IFACE, "Response", on_response, NULL, s);
	if (r < 0) {
		cr_log_warn(TOPIC, "relay %s: cannot watch %s: %s", s->relay_name, path,
			    strerror(-r));
		return false;
	}
	return true;
}

/*
 * A method call of @s->step that returns a Request handle. The Response match on the predicted
 * handle is installed before the call (the bus handles our AddMatch first: one connection's
 * messages are processed in order), as the Request documentation asks.
 */
static sd_bus_message *new_request(struct cr_portal_session *s, char *token, size_t token_len)
{
	struct cr_portal *portal = s->portal;
	char path[512];
	sd_bus_message *m = NULL;
	snprintf(token, token_len, "castrelay%" PRIu32, ++portal->n_tokens);
	snprintf(path, sizeof(path), PORTAL_PATH "/request/%s/%s", portal->sender, token);
	if (!watch_request(s, path))
		return NULL;
	int r = sd_bus_message_new_method_call(portal->bus, &m, PORTAL_BUS, PORTAL_PATH,
					       SCREENCAST_IFACE, step_methods[s->step]);
	if (r < 0) {
		cr_log_warn(TOPIC, "relay %s: cannot build %s: %s", s->relay_name,
			    step_methods[s->step], strerror(-r));
		return NULL;
	}
	return m;
}

static int on_request_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct cr_portal_session *s = userdata;
	const char *handle = NULL;
	char what[512];
	s->call_slot = sd_bus_slot_unref(s->call_slot);
	const sd_bus_error *err = sd_bus_message_get_error(m);
	if (err) {
		snprintf(what, sizeof(what), "%s failed: %s: %s", step_methods[s->step], err->name,
			 err->message ? err->message : "(no message)");
		fail(s, what);
		return 0;
	}
	if (sd_bus_message_read(m, "o", &handle) < 0) {
		snprintf(what, sizeof(what), "%s returned a reply of type '%s', not a Request "
			 "handle", step_methods[s->step],
			 or_none(sd_bus_message_get_signature(m, true)));
		fail(s, what);
		return 0;
	}
	/* Portals before 0.9 did not use handle_token; follow the handle they gave. */
	if (strcmp(handle, s->request_path) != 0) {
		cr_log_debug(TOPIC, "relay %s: %s's request is %s, not %s", s->relay_name,
			     step_methods[s->step], handle, s->request_path);
		if (!watch_request(s, handle))
			schedule_retry(s, "cannot watch the portal's request");
	}
	return 0;
}

/* Takes @m (unreferenced in every case). */
static bool send_request(struct cr_portal_session *s, sd_bus_message *m)
{
	int r = sd_bus_call_async(s->portal->bus, &s->call_slot, m, on_request_reply, s, 0);
	sd_bus_message_unref(m);
	if (r < 0) {
		cr_log_warn(TOPIC, "relay %s: cannot call %s: %s", s->relay_name,
			    step_methods[s->step], strerror(-r));
		return false;
	}
	return true;
}

static bool call_create_session(struct cr_portal_session *s)
{
	char token[32], session_token[48];
	s->step = STEP_CREATE;
	sd_bus_message *m = new_request(s, token, sizeof(token));
	if (!m)
		return false;
	snprintf(session_token, sizeof(session_token), "castrelay_session%" PRIu32,
		 s->portal->n_tokens);
	int r = sd_bus_message_append(m, "a{sv}", 2, "handle_token", "s", token,
				      "session_handle_token", "s", session_token);
	if (r < 0) {
		sd_bus_message_unref(m);
		return false;
	}
	return send_request(s, m);
}

static bool call_select_sources(struct cr_portal_session *s)
{
	char token[32];
	s->step = STEP_SELECT;
	sd_bus_message *m = new_request(s, token, sizeof(token));
	if (!m)
		return false;
	s->token_sent = s->cfg.persist && s->restore_token;
	int r = sd_bus_message_append(m, "o", s->session_handle);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}", "handle_token", "s", token,
					  "types", "u", s->cfg.types, "multiple", "b", 0,
					  "cursor_mode", "u", s->cfg.cursor_mode);
	if (r >= 0 && s->cfg.persist)
		r = sd_bus_message_append(m, "{sv}", "persist_mode", "u", 2);
	if (r >= 0 && s->token_sent)
		r = sd_bus_message_append(m, "{sv}", "restore_token", "s", s->restore_token);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r < 0) {
		sd_bus_message_unref(m);
		return false;
	}
	return send_request(s, m);
}

static bool call_start(struct cr_portal_session *s)
{
	char token[32];
	s->step = STEP_START;
	sd_bus_message *m = new_request(s, token, sizeof(token));
	if (!m)
		return false;
	int r = sd_bus_message_append(m, "osa{sv}", s->session_handle, "", 1, "handle_token", "s",
				      token);
	if (r < 0) {
		sd_bus_message_unref(m);
		return false;
	}
	if (s->token_sent)
		set_state(s, CR_PORTAL_STARTING, "starting the portal session with the restore "
			  "token (no dialog expected)");
	else
		set_state(s, CR_PORTAL_DIALOG, "waiting for the user to choose what to share in "
			  "the portal's dialog");
	return send_request(s, m);
}

static int on_open_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct cr_portal_session *s = userdata;
	char what[512];
	int fd = -1;
	s->call_slot = sd_bus_slot_unref(s->call_slot);
	const sd_bus_error *err = sd_bus_message_get_error(m);
	if (err) {
		snprintf(what, sizeof(what), "OpenPipeWireRemote failed: %s: %s", err->name,
			 err->message ? err->message : "(no message)");
		fail(s, what);
		return 0;
	}
	if (sd_bus_message_read(m, "h", &fd) < 0) {
		snprintf(what, sizeof(what), "OpenPipeWireRemote returned '%s', not a file "
			 "descriptor", or_none(sd_bus_message_get_signature(m, true)));
		fail(s, what);
		return 0;
	}
	/* The message owns its fd. Ours is close-on-exec: whoever holds the remote sees the
	 * shared screen, so it must never reach another process (README, "Who can see"). */
	int own = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (own < 0) {
		snprintf(what, sizeof(what), "cannot duplicate the PipeWire fd: %s",
			 strerror(errno));
		fail(s, what);
		return 0;
	}
	s->step = STEP_NONE;
	s->streamed = true;
	if (s->events.stream)
		s->events.stream(s->data, own, s->node_id, s->serial, s->width, s->height);
	else
		close(own);
	set_state(s, CR_PORTAL_STREAMING, "streaming PipeWire node %" PRIu32 " (serial %" PRIu64
		  ", %" PRIu32 "x%" PRIu32 "); if the portal closes the session, a new one starts "
		  "by itself", s->node_id, s->serial, s->width, s->height);
	return 0;
}

static bool call_open_remote(struct cr_portal_session *s)
{
	sd_bus_message *m = NULL;
	s->step = STEP_OPEN;
	int r = sd_bus_message_new_method_call(s->portal->bus, &m, PORTAL_BUS, PORTAL_PATH,
					       SCREENCAST_IFACE, "OpenPipeWireRemote");
	if (r >= 0)
		r = sd_bus_message_append(m, "oa{sv}", s->session_handle, 0);
	if (r >= 0)
		r = sd_bus_call_async(s->portal->bus, &s->call_slot, m, on_open_reply, s, 0);
	sd_bus_message_unref(m);
	if (r < 0) {
		cr_log_warn(TOPIC, "relay %s: cannot call OpenPipeWireRemote: %s", s->relay_name,
			    strerror(-r));
		return false;
	}
	return true;
}

/* --- session life ------------------------------------------------------------------------- */

static int on_session_closed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct cr_portal_session *s = userdata;
	bool streamed = s->streamed;
	end_session(s, false);
	if (streamed && s->events.closed)
		s->events.closed(s->data);
	schedule_retry(s, "the portal closed the session");
	return 0;
}

static void begin_session(struct cr_portal_session *s)
{
	end_session(s, true);
	s->retry_at_ns = 0;
	s->token_sent = false;
	set_state(s, CR_PORTAL_STARTING, "asking the portal for a screen-cast session");
	if (!call_create_session(s))
		schedule_retry(s, "cannot call CreateSession");
}

/* Reads a variant of type @contents into @value; skips one of another type and returns 0. */
static int read_variant(sd_bus_message *m, const char *key, const char *contents, void *value)
{
	const char *have = NULL;
	int r = sd_bus_message_peek_type(m, NULL, &have);
	if (r < 0)
		return r;
	if (!have || strcmp(have, contents) != 0) {
		cr_log_warn(TOPIC, "ignoring the portal's '%s' of type '%s' (expected '%s')", key,
			    or_none(have), contents);
		return sd_bus_message_skip(m, "v");
	}
	r = sd_bus_message_enter_container(m, 'v', contents);
	if (r >= 0)
		r = sd_bus_message_read_basic(m, contents[0], value);
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	return r < 0 ? r : 1;
}

static int read_size(sd_bus_message *m, struct cr_portal_session *s)
{
	int32_t w = 0, h = 0;
	int r = sd_bus_message_read(m, "v", "(ii)", &w, &h);
	if (r < 0)
		return sd_bus_message_skip(m, "v");
	if (w > 0 && h > 0 && w <= 65536 && h <= 65536) {
		s->width = (uint32_t)w;
		s->height = (uint32_t)h;
	} else {
		cr_log_warn(TOPIC, "relay %s: ignoring the portal's stream size %" PRId32 "x%"
			    PRId32, s->relay_name, w, h);
	}
	return r;
}

/* Reads the first stream of "streams" (a variant a(ua{sv})); returns 1 when there was one. */
static int read_streams(sd_bus_message *m, struct cr_portal_session *s)
{
	int found = 0;
	int r = sd_bus_message_enter_container(m, 'v', "a(ua{sv})");
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(m, 'a', "(ua{sv})");
	while (r >= 0 && !found &&
	       (r = sd_bus_message_enter_container(m, 'r', "ua{sv}")) > 0) {
		r = sd_bus_message_read(m, "u", &s->node_id);
		if (r >= 0)
			r = sd_bus_message_enter_container(m, 'a', "{sv}");
		while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
			const char *key = NULL;
			r = sd_bus_message_read(m, "s", &key);
			if (r >= 0 && strcmp(key, "size") == 0)
				r = read_size(m, s);
			else if (r >= 0 && strcmp(key, "pipewire-serial") == 0)
				r = read_variant(m, key, "t", &s->serial);
			else if (r >= 0)
				r = sd_bus_message_skip(m, "v");
			if (r >= 0)
				r = sd_bus_message_exit_container(m);
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(m); /* a{sv} */
		if (r >= 0)
			r = sd_bus_message_exit_container(m); /* (ua{sv}) */
		if (r >= 0)
			found = 1;
	}
	/* multiple=false: one stream. Any further ones are skipped with the rest of the array. */
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	return r < 0 ? r : found;
}

/* The Response results of @s->step. Returns false (and fills @what) when they are unusable. */
static bool read_results(sd_bus_message *m, struct cr_portal_session *s, char *what,
			 size_t what_len)
{
	const char *handle = NULL, *token = NULL;
	int streams = 0;
	s->node_id = 0;
	s->serial = 0;
	s->width = s->height = 0;
	int r = sd_bus_message_enter_container(m, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key = NULL, *have = NULL;
		r = sd_bus_message_read(m, "s", &key);
		if (r < 0)
			break;
		if (s->step == STEP_CREATE && strcmp(key, "session_handle") == 0) {
			/* Documented as 's' (a historical mistake); some portals send 'o'. */
			r = sd_bus_message_peek_type(m, NULL, &have);
			if (r >= 0)
				r = read_variant(m, key, have && strcmp(have, "o") == 0 ? "o" : "s",
						 &handle);
		} else if (s->step == STEP_START && strcmp(key, "streams") == 0) {
			r = read_streams(m, s);
			streams = r > 0;
		} else if (s->step == STEP_START && strcmp(key, "restore_token") == 0) {
			r = read_variant(m, key, "s", &token);
		} else {
			r = sd_bus_message_skip(m, "v");
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r < 0) {
		snprintf(what, what_len, "cannot parse the portal's %s results: %s",
			 step_methods[s->step], strerror(-r));
		return false;
	}
	if (s->step == STEP_CREATE) {
		if (!handle || !sd_bus_object_path_is_valid(handle)) {
			snprintf(what, what_len, "CreateSession returned no valid session_handle "
				 "('%s')", or_none(handle));
			return false;
		}
		s->session_handle = strdup(handle);
		return s->session_handle != NULL;
	}
	if (s->step == STEP_START) {
		if (!streams) {
			snprintf(what, what_len, "Start returned no streams");
			return false;
		}
		if (token && s->cfg.persist && s->token_path) {
			if (!valid_token(token, strlen(token))) {
				cr_log_warn(TOPIC, "relay %s: ignoring the portal's restore token "
					    "'%.64s': not printable ASCII of 1 to %d characters",
					    s->relay_name, token, TOKEN_MAX);
			} else {
				free(s->restore_token);
				s->restore_token = strdup(token);
				if (s->restore_token)
					store_token(s);
			}
		} else if (s->token_sent) {
			/* Tokens are single-use: the one we sent is spent. */
			drop_token(s);
		}
	}
	return true;
}

static bool watch_session(struct cr_portal_session *s)
{
	int r = sd_bus_match_signal_async(s->portal->bus, &s->closed_slot, NULL, s->session_handle,
					  SESSION_IFACE, "Closed", on_session_closed, NULL, s);
	if (r < 0)
		cr_log_warn(TOPIC, "relay %s: cannot watch %s: %s", s->relay_name,
			    s->session_handle, strerror(-r));
	return r >= 0;
}

static int on_response(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct cr_portal_session *s = userdata;
	uint32_t code = 0;
	char what[512];
	s->response_slot = sd_bus_slot_unref(s->response_slot);
	/* The method's reply is of no further use once its Response is here. */
	s->call_slot = sd_bus_slot_unref(s->call_slot);
	if (sd_bus_message_read(m, "u", &code) < 0) {
		snprintf(what, sizeof(what), "the portal's %s Response has type '%s', not 'ua{sv}'",
			 step_methods[s->step], or_none(sd_bus_message_get_signature(m, true)));
		fail(s, what);
		return 0;
	}
	if (code == 1) {
		cancelled(s);
		return 0;
	}
	if (code != 0) {
		snprintf(what, sizeof(what), "the portal answered %s with error %" PRIu32,
			 step_methods[s->step], code);
		fail(s, what);
		return 0;
	}
	if (!read_results(m, s, what, sizeof(what))) {
		fail(s, what);
		return 0;
	}
	bool ok = false;
	switch (s->step) {
	case STEP_CREATE:
		ok = watch_session(s) && call_select_sources(s);
		break;
	case STEP_SELECT:
		ok = call_start(s);
		break;
	case STEP_START:
		s->backoff_ns = BACKOFF_MIN_NS;
		ok = call_open_remote(s);
		break;
	case STEP_NONE:
	case STEP_OPEN:
		return 0;
	}
	if (!ok)
		schedule_retry(s, "cannot make the next portal call");
	return 0;
}

/* The portal left the bus (or was replaced): its sessions are gone without a Closed. */
static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct cr_portal *portal = userdata;
	const char *name = NULL, *old_owner = NULL, *new_owner = NULL;
	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
		return 0;
	if (strcmp(name, PORTAL_BUS) != 0 || old_owner[0] == '\0')
		return 0;
	cr_log_info(TOPIC, "%s left the bus%s", PORTAL_BUS,
		    new_owner[0] ? " and came back as another process" : "");
	for (struct cr_portal_session *s = portal->sessions; s; s = s->next) {
		if (s->state == CR_PORTAL_RETRYING || s->state == CR_PORTAL_CANCELLED)
			continue;
		bool streamed = s->streamed;
		end_session(s, false);
		if (streamed && s->events.closed)
			s->events.closed(s->data);
		schedule_retry(s, "the portal left the bus");
	}
	return 0;
}

/* --- public ------------------------------------------------------------------------------- */

struct cr_portal *cr_portal_create(void)
{
	const char *unique = NULL;
	struct cr_portal *portal = calloc(1, sizeof(*portal));
	if (!portal)
		return NULL;
	int r = sd_bus_open_user(&portal->bus);
	if (r < 0) {
		cr_log_error(TOPIC, "cannot connect to the session bus "
			     "(DBUS_SESSION_BUS_ADDRESS=%s): %s; portal mode needs it",
			     or_none(getenv("DBUS_SESSION_BUS_ADDRESS")), strerror(-r));
		goto free_portal;
	}
	/* Waits for the bus daemon's Hello reply (not for the portal). */
	r = sd_bus_get_unique_name(portal->bus, &unique);
	if (r < 0 || unique[0] != ':' || strlen(unique) >= sizeof(portal->sender)) {
		cr_log_error(TOPIC, "the session bus gave no usable unique name: %s",
			     r < 0 ? strerror(-r) : unique);
		goto unref_bus;
	}
	size_t i = 0;
	for (const char *p = unique + 1; *p; p++)
		portal->sender[i++] = *p == '.' ? '_' : *p;
	portal->sender[i] = '\0';
	r = sd_bus_add_match_async(portal->bus, &portal->owner_slot,
				   "type='signal',sender='org.freedesktop.DBus',"
				   "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
				   "arg0='" PORTAL_BUS "'",
				   on_name_owner_changed, NULL, portal);
	if (r < 0) {
		cr_log_error(TOPIC, "cannot watch %s on the session bus: %s", PORTAL_BUS,
			     strerror(-r));
		goto unref_bus;
	}
	cr_log_debug(TOPIC, "connected to the session bus as %s", unique);
	return portal;

unref_bus:
	sd_bus_unref(portal->bus);
free_portal:
	free(portal);
	return NULL;
}

void cr_portal_destroy(struct cr_portal *portal)
{
	if (!portal)
		return;
	while (portal->sessions)
		cr_portal_session_destroy(portal->sessions);
	sd_bus_slot_unref(portal->owner_slot);
	/* Writes the queued Close calls out before closing. */
	sd_bus_flush_close_unref(portal->bus);
	free(portal);
}

int cr_portal_get_fd(const struct cr_portal *portal)
{
	return sd_bus_get_fd(portal->bus);
}

uint32_t cr_portal_get_events(const struct cr_portal *portal)
{
	int r = sd_bus_get_events(portal->bus);
	return r < 0 ? 0 : (uint32_t)r;
}

uint64_t cr_portal_get_deadline_ns(const struct cr_portal *portal)
{
	uint64_t deadline = UINT64_MAX, usec = UINT64_MAX;
	if (sd_bus_get_timeout(portal->bus, &usec) >= 0 && usec != UINT64_MAX)
		deadline = usec > UINT64_MAX / 1000 ? UINT64_MAX : usec * 1000;
	for (const struct cr_portal_session *s = portal->sessions; s; s = s->next) {
		if (s->retry_at_ns && s->retry_at_ns < deadline)
			deadline = s->retry_at_ns;
	}
	return deadline;
}

void cr_portal_dispatch(struct cr_portal *portal)
{
	int r;
	while ((r = sd_bus_process(portal->bus, NULL)) > 0)
		;
	if (r < 0 && !portal->bus_failed)
		cr_log_error(TOPIC, "the session bus connection failed: %s; portal sessions cannot "
			     "continue", strerror(-r));
	portal->bus_failed = portal->bus_failed || r < 0;
	uint64_t now = now_ns();
	for (struct cr_portal_session *s = portal->sessions; s; s = s->next) {
		if (s->retry_at_ns && s->retry_at_ns <= now)
			begin_session(s);
	}
}

struct cr_portal_session *cr_portal_session_create(struct cr_portal *portal,
						   const char *relay_name,
						   const struct cr_portal_source *cfg,
						   const char *state_dir,
						   const struct cr_portal_session_events *events,
						   void *data)
{
	size_t name_len = strlen(relay_name);
	if (name_len == 0 || name_len >= CR_CONFIG_NAME_MAX || strchr(relay_name, '/') ||
	    relay_name[0] == '.') {
		cr_log_error(TOPIC, "relay name '%s' cannot name a token file (1 to %d characters, "
			     "no '/', not starting with '.')", relay_name, CR_CONFIG_NAME_MAX - 1);
		return NULL;
	}
	struct cr_portal_session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->portal = portal;
	memcpy(s->relay_name, relay_name, name_len + 1);
	s->cfg = *cfg;
	if (events)
		s->events = *events;
	s->data = data;
	s->backoff_ns = BACKOFF_MIN_NS;
	if (state_dir) {
		s->state_dir = strdup(state_dir);
		if (!s->state_dir || asprintf(&s->token_path, "%s/%s.token", state_dir,
					      relay_name) < 0) {
			s->token_path = NULL;
			goto free_session;
		}
		if (cfg->persist)
			load_token(s);
	}
	s->next = portal->sessions;
	portal->sessions = s;
	/* Due at once: the first events come from cr_portal_dispatch(), when the caller holds
	 * the session. */
	s->retry_at_ns = 1;
	return s;

free_session:
	free(s->state_dir);
	free(s);
	return NULL;
}

void cr_portal_session_destroy(struct cr_portal_session *session)
{
	if (!session)
		return;
	end_session(session, true);
	for (struct cr_portal_session **p = &session->portal->sessions; *p; p = &(*p)->next) {
		if (*p == session) {
			*p = session->next;
			break;
		}
	}
	free(session->restore_token);
	free(session->token_path);
	free(session->state_dir);
	free(session);
}

void cr_portal_session_reopen(struct cr_portal_session *session)
{
	if (session->state == CR_PORTAL_CANCELLED) {
		cr_log_info(TOPIC, "relay %s: asked to reopen: showing the screen-share dialog "
			    "again", session->relay_name);
		begin_session(session);
	} else if (session->state == CR_PORTAL_RETRYING) {
		cr_log_info(TOPIC, "relay %s: asked to reopen: retrying now",
			    session->relay_name);
		begin_session(session);
	}
}
