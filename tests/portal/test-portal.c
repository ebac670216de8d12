/* SPDX-License-Identifier: MIT */
/*
 * cr_portal against tests/lib/fake-portal.py on a private bus (run by run-portal-test.sh,
 * which sets DBUS_SESSION_BUS_ADDRESS and CR_TEST_STATE_DIR and starts the fake with
 * --node-id 42 --serial 4242 --size 1280x720). The test runs its own poll() loop, as the
 * daemon does, and asks the fake what it saw through org.castrelay.FakePortal.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "core/log.h"
#include "portal.h"
#include "test.h"

#define FAKE_BUS "org.freedesktop.portal.Desktop"
#define FAKE_PATH "/org/freedesktop/portal/desktop"
#define FAKE_IFACE "org.castrelay.FakePortal"

struct rec {
	enum cr_portal_state state;
	unsigned n_states[CR_PORTAL_CANCELLED + 1];
	unsigned n_stream, n_closed;
	int fd;
	uint32_t node_id, width, height;
	uint64_t serial;
	uint64_t stream_at_ns;
};

static sd_bus *ctl;
static const char *state_dir;
static char log_path[4096];
static int real_stderr = -1;
static off_t log_mark;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_state(void *data, enum cr_portal_state state, const char *message)
{
	struct rec *r = data;
	r->state = state;
	r->n_states[state]++;
	cr_test_log("event state %s: %s", cr_portal_state_name(state), message);
}

static void on_stream(void *data, int fd, uint32_t node_id, uint64_t serial, uint32_t width,
		      uint32_t height)
{
	struct rec *r = data;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = fd;
	r->node_id = node_id;
	r->serial = serial;
	r->width = width;
	r->height = height;
	r->n_stream++;
	r->stream_at_ns = now_ns();
}

static void on_closed(void *data)
{
	struct rec *r = data;
	r->n_closed++;
}

static const struct cr_portal_session_events events = {
	.state = on_state,
	.stream = on_stream,
	.closed = on_closed,
};

static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->state = CR_PORTAL_STARTING;
}

static void rec_finish(struct rec *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

/* One turn of the daemon's loop: poll the bus fd until the portal's deadline or @max_ms. */
static void turn(struct cr_portal *portal, int max_ms)
{
	struct pollfd pfd = {
		.fd = cr_portal_get_fd(portal),
		.events = (short)cr_portal_get_events(portal),
	};
	uint64_t deadline = cr_portal_get_deadline_ns(portal), now = now_ns();
	int timeout = max_ms;
	if (deadline != UINT64_MAX) {
		uint64_t left_ms = deadline > now ? (deadline - now + 999999) / 1000000 : 0;
		if (left_ms < (uint64_t)timeout)
			timeout = (int)left_ms;
	}
	poll(&pfd, 1, timeout);
	cr_portal_dispatch(portal);
}

static void run_for(struct cr_portal *portal, int ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000u;
	while (now_ns() < end)
		turn(portal, 20);
}

static bool wait_state(struct cr_portal *portal, struct rec *r, enum cr_portal_state state,
		       int ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000u;
	while (r->state != state && now_ns() < end)
		turn(portal, 20);
	return CHECK_MSG(r->state == state, "state %s after %d ms, expected %s",
			 cr_portal_state_name(r->state), ms, cr_portal_state_name(state));
}

/* --- the fake's control interface (blocking calls on a connection of our own) --------------- */

static bool control(const char *method, const char *arg)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int r = arg ? sd_bus_call_method(ctl, FAKE_BUS, FAKE_PATH, FAKE_IFACE, method, &err,
					 &reply, "s", arg)
		    : sd_bus_call_method(ctl, FAKE_BUS, FAKE_PATH, FAKE_IFACE, method, &err,
					 &reply, "");
	bool ok = CHECK_MSG(r >= 0, "%s: %s", method, err.message ? err.message : strerror(-r));
	sd_bus_error_free(&err);
	sd_bus_message_unref(reply);
	return ok;
}

static bool control_b(const char *method, bool arg)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	int r = sd_bus_call_method(ctl, FAKE_BUS, FAKE_PATH, FAKE_IFACE, method, &err, NULL, "b",
				   (int)arg);
	bool ok = CHECK_MSG(r >= 0, "%s: %s", method, err.message ? err.message : strerror(-r));
	sd_bus_error_free(&err);
	return ok;
}

/* Stats()[@key]: a uint32 into @u, or a string into @s (@len bytes). */
static bool stat_get(const char *key, uint32_t *u, char *s, size_t len)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	bool found = false;
	int r = sd_bus_call_method(ctl, FAKE_BUS, FAKE_PATH, FAKE_IFACE, "Stats", &err, &reply,
				   "");
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
		const char *k = NULL, *v = NULL;
		r = sd_bus_message_read(reply, "s", &k);
		if (r >= 0 && strcmp(k, key) == 0 && u) {
			r = sd_bus_message_read(reply, "v", "u", u);
			found = r >= 0;
		} else if (r >= 0 && strcmp(k, key) == 0) {
			r = sd_bus_message_read(reply, "v", "s", &v);
			if (r >= 0)
				snprintf(s, len, "%s", v);
			found = r >= 0;
		} else if (r >= 0) {
			r = sd_bus_message_skip(reply, "v");
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
	}
	CHECK_MSG(r >= 0 && found, "Stats()[%s]: %s", key,
		  err.message ? err.message : r < 0 ? strerror(-r) : "missing");
	sd_bus_error_free(&err);
	sd_bus_message_unref(reply);
	return found;
}

static uint32_t stat_u(const char *key)
{
	uint32_t v = UINT32_MAX;
	stat_get(key, &v, NULL, 0);
	return v;
}

static void stat_s(const char *key, char *buf, size_t len)
{
	buf[0] = '\0';
	stat_get(key, NULL, buf, len);
}

/* Polls the fake (while turning our loop) until Stats()[@key] reaches @want. */
static bool wait_stat(struct cr_portal *portal, const char *key, uint32_t want, int ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000u;
	uint32_t v = stat_u(key);
	while (v < want && now_ns() < end) {
		if (portal)
			turn(portal, 20);
		else
			poll(NULL, 0, 20);
		v = stat_u(key);
	}
	return CHECK_MSG(v >= want, "Stats()[%s] is %u after %d ms, expected %u", key, v, ms,
			 want);
}

/* --- our own log lines (stderr goes to a file; each case copies its part back) --------------- */

static unsigned log_count(const char *needle)
{
	char buf[65536];
	unsigned n = 0;
	int fd = open(log_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t len = pread(fd, buf, sizeof(buf) - 1, log_mark);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	for (const char *p = buf; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Starts a case: what was logged so far is copied to the real stderr and skipped. */
static void log_next_case(const char *name)
{
	char buf[8192];
	int fd = open(log_path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	fflush(stderr);
	while (fd >= 0 && (n = pread(fd, buf, sizeof(buf), log_mark)) > 0) {
		if (write(real_stderr, buf, (size_t)n) != n)
			break;
		log_mark += n;
	}
	if (fd >= 0)
		close(fd);
	if (name)
		cr_test_log("case: %s", name);
}

static bool read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return true;
}

static void token_path(const char *relay, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.token", state_dir, relay);
}

static void check_stream(const struct rec *r)
{
	struct stat st;
	CHECK_EQ_INT(r->n_stream, 1);
	if (CHECK(r->fd >= 0) && CHECK(fstat(r->fd, &st) == 0))
		CHECK_MSG(S_ISSOCK(st.st_mode), "the stream fd is not a socket (mode 0%o)",
			  (unsigned)st.st_mode);
	CHECK_EQ_UINT(r->node_id, 42);
	CHECK_EQ_UINT(r->serial, 4242);
	CHECK_EQ_UINT(r->width, 1280);
	CHECK_EQ_UINT(r->height, 720);
}

/* The stored token is the fake's last one, 0600, in a 0700 directory. */
static void check_token_stored(const char *relay)
{
	char path[4096], stored[512], issued[512];
	struct stat st;
	token_path(relay, path, sizeof(path));
	stat_s("last_token", issued, sizeof(issued));
	CHECK(issued[0] != '\0');
	if (CHECK_MSG(read_file(path, stored, sizeof(stored)), "%s: %s", path, strerror(errno)))
		CHECK_EQ_STR(stored, issued);
	if (CHECK(stat(path, &st) == 0))
		CHECK_EQ_HEX(st.st_mode & 07777, 0600);
	if (CHECK(stat(state_dir, &st) == 0))
		CHECK_EQ_HEX(st.st_mode & 07777, 0700);
}

static const struct cr_portal_source persist_cfg = {
	.types = CR_PORTAL_TYPE_MONITOR,
	.cursor_mode = CR_PORTAL_CURSOR_EMBEDDED,
	.persist = true,
};

int main(void)
{
	char path[4096], token1[512], token2[512], got[512];
	const char *tmp = getenv("CR_TEST_TMPDIR");
	state_dir = getenv("CR_TEST_STATE_DIR");
	if (!tmp || !state_dir || !getenv("DBUS_SESSION_BUS_ADDRESS"))
		return cr_test_broken("run me through tests/portal/run-portal-test.sh "
				      "(CR_TEST_TMPDIR, CR_TEST_STATE_DIR, a private bus)");
	snprintf(log_path, sizeof(log_path), "%s/test-portal.stderr", tmp);
	int log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	real_stderr = dup(STDERR_FILENO);
	if (log_fd < 0 || real_stderr < 0 || dup2(log_fd, STDERR_FILENO) < 0)
		return cr_test_broken("cannot redirect stderr to %s: %s", log_path,
				      strerror(errno));
	close(log_fd);
	cr_log_set_level(CR_LOG_INFO);
	if (sd_bus_open_user(&ctl) < 0)
		return cr_test_broken("cannot connect to the private bus");

	struct cr_portal *portal = cr_portal_create();
	if (!CHECK(portal != NULL))
		return cr_test_result();

	/* 1. A first session shows a dialog, hands over the fd and node, keeps the token. */
	log_next_case("first session: a dialog, the stream, the token stored");
	struct rec a;
	rec_init(&a);
	struct cr_portal_session *sa =
		cr_portal_session_create(portal, "desk", &persist_cfg, state_dir, &events, &a);
	CHECK(sa != NULL);
	CHECK_EQ_UINT(a.n_states[CR_PORTAL_STARTING], 0); /* events come from dispatch */
	wait_state(portal, &a, CR_PORTAL_STREAMING, 5000);
	CHECK_EQ_UINT(a.n_states[CR_PORTAL_DIALOG], 1);
	CHECK_EQ_UINT(stat_u("dialogs"), 1);
	CHECK_EQ_UINT(stat_u("starts"), 1);
	check_stream(&a);
	check_token_stored("desk");
	stat_s("last_token", token1, sizeof(token1));

	/* 2. Destroying it closes the portal session. */
	log_next_case("destroy sends Session.Close");
	uint32_t closes = stat_u("closes");
	cr_portal_session_destroy(sa);
	wait_stat(portal, "closes", closes + 1, 3000);
	rec_finish(&a);

	/* 3. The next session of that relay sends the token back: no dialog. */
	log_next_case("a second session restores with the token, no dialog");
	uint32_t dialogs = stat_u("dialogs"), valid = stat_u("tokens_valid");
	struct rec b;
	rec_init(&b);
	struct cr_portal_session *sb =
		cr_portal_session_create(portal, "desk", &persist_cfg, state_dir, &events, &b);
	wait_state(portal, &b, CR_PORTAL_STREAMING, 5000);
	CHECK_EQ_UINT(b.n_states[CR_PORTAL_DIALOG], 0);
	CHECK_EQ_UINT(stat_u("dialogs"), dialogs);
	CHECK_EQ_UINT(stat_u("tokens_valid"), valid + 1);
	stat_s("last_received_token", got, sizeof(got));
	CHECK_EQ_STR(got, token1);
	check_stream(&b);
	check_token_stored("desk");
	stat_s("last_token", token2, sizeof(token2));
	CHECK(strcmp(token1, token2) != 0);
	cr_portal_session_destroy(sb);
	rec_finish(&b);

	/* 4. A token the portal refuses: one log line, a dialog, the new token stored. */
	log_next_case("a refused token falls back to a dialog, logged");
	control("ForgetTokens", NULL);
	dialogs = stat_u("dialogs");
	uint32_t refused = stat_u("tokens_refused");
	struct rec c;
	rec_init(&c);
	struct cr_portal_session *sc =
		cr_portal_session_create(portal, "desk", &persist_cfg, state_dir, &events, &c);
	CHECK(sc != NULL); /* left to cr_portal_destroy() in case 11 */
	wait_state(portal, &c, CR_PORTAL_STREAMING, 5000);
	CHECK_EQ_UINT(log_count("the portal refused relay desk's restore token"), 1);
	CHECK_EQ_UINT(stat_u("tokens_refused"), refused + 1);
	CHECK_EQ_UINT(stat_u("dialogs"), dialogs + 1);
	CHECK_EQ_UINT(c.n_states[CR_PORTAL_DIALOG], 1);
	CHECK_EQ_UINT(c.n_states[CR_PORTAL_RETRYING], 0);
	check_stream(&c);
	check_token_stored("desk");

	/* 5. The portal closes the streaming session: closed, retrying, a silent new session. */
	log_next_case("Closed mid-stream: a new session after the 1 s backoff, no dialog");
	dialogs = stat_u("dialogs");
	valid = stat_u("tokens_valid");
	c.n_stream = 0;
	uint64_t closed_at = now_ns();
	control("CloseAll", NULL);
	wait_state(portal, &c, CR_PORTAL_RETRYING, 3000);
	CHECK_EQ_UINT(c.n_closed, 1);
	wait_state(portal, &c, CR_PORTAL_STREAMING, 5000);
	CHECK_MSG(c.stream_at_ns - closed_at >= 900000000u, "streaming again after %.3f s",
		  (double)(c.stream_at_ns - closed_at) / 1e9);
	CHECK_EQ_UINT(stat_u("dialogs"), dialogs);
	CHECK_EQ_UINT(stat_u("tokens_valid"), valid + 1);
	CHECK_EQ_UINT(c.n_states[CR_PORTAL_DIALOG], 1); /* still the one of case 4 */
	check_stream(&c);
	check_token_stored("desk");

	/* 6. The portal leaves the bus (NameOwnerChanged): the same as Closed. */
	log_next_case("the portal leaves the bus and comes back: silent restart");
	c.n_stream = 0;
	c.n_closed = 0;
	dialogs = stat_u("dialogs");
	control("Vanish", NULL);
	wait_state(portal, &c, CR_PORTAL_RETRYING, 3000);
	CHECK_EQ_UINT(c.n_closed, 1);
	wait_state(portal, &c, CR_PORTAL_STREAMING, 5000);
	CHECK_EQ_UINT(stat_u("dialogs"), dialogs);
	check_stream(&c);

	/* 7. Cancel: CANCELLED, no dialog by itself, reopen asks again. */
	log_next_case("cancel: no new dialog until reopen");
	control("SetNextDialog", "cancel");
	dialogs = stat_u("dialogs");
	struct rec d;
	rec_init(&d);
	struct cr_portal_session *sd =
		cr_portal_session_create(portal, "cancelme", &persist_cfg, state_dir, &events, &d);
	wait_state(portal, &d, CR_PORTAL_CANCELLED, 5000);
	CHECK_EQ_UINT(log_count("relay cancelme: the screen-share dialog was cancelled; "
				"not asking again until SIGHUP "
				"(systemctl --user reload castrelay)"), 1);
	CHECK_EQ_UINT(stat_u("dialogs"), dialogs + 1);
	run_for(portal, 2500);
	CHECK_EQ_UINT(stat_u("dialogs"), dialogs + 1);
	CHECK_EQ_INT(d.state, CR_PORTAL_CANCELLED);
	CHECK_EQ_UINT(d.n_stream, 0);
	token_path("cancelme", path, sizeof(path));
	CHECK(access(path, F_OK) < 0);
	cr_portal_session_reopen(sd);
	wait_state(portal, &d, CR_PORTAL_STREAMING, 5000);
	CHECK_EQ_UINT(stat_u("dialogs"), dialogs + 2);
	check_stream(&d);
	cr_portal_session_destroy(sd);
	rec_finish(&d);

	/* 8. A failed dialog retries with backoff; reopen retries at once. */
	log_next_case("a failed dialog: retrying, and reopen retries now");
	control("SetNextDialog", "fail");
	struct rec e;
	rec_init(&e);
	struct cr_portal_session *se =
		cr_portal_session_create(portal, "failing", &persist_cfg, state_dir, &events, &e);
	wait_state(portal, &e, CR_PORTAL_RETRYING, 5000);
	CHECK_EQ_UINT(log_count("the portal answered Start with error 2"), 1);
	uint64_t reopened_at = now_ns();
	cr_portal_session_reopen(se);
	CHECK_EQ_INT(e.state, CR_PORTAL_STARTING);
	wait_state(portal, &e, CR_PORTAL_STREAMING, 5000);
	CHECK_MSG(e.stream_at_ns - reopened_at < 900000000u, "reopen streamed after %.3f s",
		  (double)(e.stream_at_ns - reopened_at) / 1e9);
	check_stream(&e);
	cr_portal_session_destroy(se);
	rec_finish(&e);

	/* 9. A garbage token file is ignored with a warning: a dialog. */
	log_next_case("a garbage token file is ignored");
	token_path("junk", path, sizeof(path));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (CHECK(fd >= 0)) {
		CHECK(write(fd, "not a\ttoken\n", 12) == 12);
		close(fd);
	}
	uint32_t received = stat_u("tokens_received");
	dialogs = stat_u("dialogs");
	struct rec f;
	rec_init(&f);
	struct cr_portal_session *sf =
		cr_portal_session_create(portal, "junk", &persist_cfg, state_dir, &events, &f);
	wait_state(portal, &f, CR_PORTAL_STREAMING, 5000);
	CHECK_EQ_UINT(log_count("junk.token: not a restore token"), 1);
	CHECK_EQ_UINT(stat_u("tokens_received"), received);
	CHECK_EQ_UINT(stat_u("dialogs"), dialogs + 1);
	check_token_stored("junk");
	cr_portal_session_destroy(sf);
	rec_finish(&f);

	/* 10. persist = false: neither sends nor keeps a token. */
	log_next_case("persist = false keeps no token");
	struct cr_portal_source transient = persist_cfg;
	transient.persist = false;
	struct rec g;
	rec_init(&g);
	struct cr_portal_session *sg =
		cr_portal_session_create(portal, "transient", &transient, state_dir, &events, &g);
	wait_state(portal, &g, CR_PORTAL_STREAMING, 5000);
	CHECK_EQ_UINT(g.n_states[CR_PORTAL_DIALOG], 1);
	token_path("transient", path, sizeof(path));
	CHECK(access(path, F_OK) < 0);
	cr_portal_session_destroy(sg);
	rec_finish(&g);

	/* 11. A portal that ignores handle_token: the returned Request handles are followed. */
	log_next_case("Request handles other than the predicted ones are followed");
	control_b("SetLegacyHandles", true);
	cr_log_set_level(CR_LOG_DEBUG); /* the module says when it follows another handle */
	struct rec h;
	rec_init(&h);
	struct cr_portal_session *sh =
		cr_portal_session_create(portal, "legacy", &transient, state_dir, &events, &h);
	wait_state(portal, &h, CR_PORTAL_STREAMING, 5000);
	check_stream(&h);
	CHECK_EQ_UINT(log_count("CreateSession's request is"), 1);
	CHECK_EQ_UINT(log_count("SelectSources's request is"), 1);
	CHECK_EQ_UINT(log_count("Start's request is"), 1);
	cr_log_set_level(CR_LOG_INFO);
	control_b("SetLegacyHandles", false);
	cr_portal_session_destroy(sh);
	rec_finish(&h);

	/* 12. Destroying the portal closes the sessions still open. */
	log_next_case("cr_portal_destroy closes the remaining session");
	closes = stat_u("closes");
	cr_portal_destroy(portal);
	wait_stat(NULL, "closes", closes + 1, 3000);
	rec_finish(&c);

	log_next_case(NULL);
	sd_bus_flush_close_unref(ctl);
	dup2(real_stderr, STDERR_FILENO);
	close(real_stderr);
	return cr_test_result();
}
