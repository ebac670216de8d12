/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <spa/utils/json.h>

#include "cr-config.h"

#define MAX_DIMENSION 16384
#define MAX_FILE_SIZE (1024 * 1024)
#define MAX_SEARCH_DIRS 16

/* ---- errors ---------------------------------------------------------------------------- */

/* Writes @s with control characters escaped: keys and values come from the file, and a
 * newline in one (a quoted key may hold one) must not split the message. */
static void put_escaped(FILE *err, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\n')
			fputs("\\n", err);
		else if (c < 0x20 || c == 0x7f)
			fprintf(err, "\\x%02x", c);
		else
			fputc(c, err);
	}
}

/* Every configuration error goes through here: "castrelayd: [ORIGIN[:LINE]: ][KEY: ]MESSAGE",
 * ORIGIN being a file (LINE > 0 where known) or "command line", KEY a path such as
 * relays[1].crop.width or an option; one line whatever the text holds. */
__attribute__((format(printf, 5, 0)))
static void vreport(FILE *err, const char *origin, int line, const char *key, const char *fmt,
		    va_list ap)
{
	char msg[2048];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fputs("castrelayd: ", err);
	if (origin) {
		put_escaped(err, origin);
		if (line > 0)
			fprintf(err, ":%d", line);
		fputs(": ", err);
	}
	if (key) {
		put_escaped(err, key);
		fputs(": ", err);
	}
	put_escaped(err, msg);
	fputc('\n', err);
}

__attribute__((format(printf, 4, 5)))
static bool report(FILE *err, const char *origin, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(err, origin, 0, key, fmt, ap);
	va_end(ap);
	return false;
}

/* snprintf that says whether all of it fitted (ignored for key paths: a truncated one only
 * shortens a message). */
__attribute__((format(printf, 3, 4)))
static bool format_fits(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < size;
}

/* ---- names and values ------------------------------------------------------------------ */

struct name_value {
	const char *name;
	uint32_t value;
};

static const struct name_value cursor_modes[] = {
	{ "embed", CR_CURSOR_EMBED }, { "hide", CR_CURSOR_HIDE }, { "meta", CR_CURSOR_META },
	{ NULL, 0 },
};
static const struct name_value matrices[] = {
	{ "bt709", CR_COLOR_BT709 }, { "bt601", CR_COLOR_BT601 }, { NULL, 0 },
};
static const struct name_value ranges[] = { { "limited", 0 }, { "full", 1 }, { NULL, 0 } };
static const struct name_value lost_modes[] = {
	{ "nothing", CR_LOST_NOTHING }, { "black", CR_LOST_BLACK }, { NULL, 0 },
};
static const struct name_value portal_types[] = {
	{ "monitor", CR_PORTAL_TYPE_MONITOR }, { "window", CR_PORTAL_TYPE_WINDOW }, { NULL, 0 },
};
static const struct name_value portal_cursors[] = {
	{ "embedded", CR_PORTAL_CURSOR_EMBEDDED },
	{ "metadata", CR_PORTAL_CURSOR_METADATA },
	{ "hidden", CR_PORTAL_CURSOR_HIDDEN },
	{ NULL, 0 },
};

static bool lookup(const struct name_value *t, const char *s, uint32_t *v)
{
	for (; t->name; t++) {
		if (strcmp(t->name, s) == 0) {
			*v = t->value;
			return true;
		}
	}
	return false;
}

static const char *name_of(const struct name_value *t, uint32_t v)
{
	for (; t->name; t++)
		if (t->value == v)
			return t->name;
	return "?";
}

/* "a, b or c" (@quote: "\"a\", \"b\" or \"c\"") */
static const char *accepted(const struct name_value *t, bool quote, char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = '\0';
	for (unsigned i = 0; t[i].name && at < len; i++) {
		const char *sep = i == 0 ? "" : (t[i + 1].name ? ", " : " or ");
		int n = snprintf(buf + at, len - at, quote ? "%s\"%s\"" : "%s%s", sep, t[i].name);
		at += n > 0 ? (size_t)n : 0;
	}
	return buf;
}

const char *cr_config_cursor_name(enum cr_cursor_mode mode)
{
	return name_of(cursor_modes, mode);
}

bool cr_config_parse_cursor(const char *s, enum cr_cursor_mode *mode)
{
	uint32_t v;
	if (!lookup(cursor_modes, s, &v))
		return false;
	*mode = v;
	return true;
}

const char *cr_config_lost_name(enum cr_lost_mode mode)
{
	return name_of(lost_modes, mode);
}

const char *cr_config_portal_cursor_name(uint32_t cursor_mode)
{
	return name_of(portal_cursors, cursor_mode);
}

void cr_config_format_portal_types(uint32_t types, char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = '\0';
	for (const struct name_value *t = portal_types; t->name && at < len; t++) {
		if (!(types & t->value))
			continue;
		int n = snprintf(buf + at, len - at, "%s%s", at ? "," : "", t->name);
		at += n > 0 ? (size_t)n : 0;
	}
}

/* ---- defaults and shared value parsers ------------------------------------------------- */

void cr_config_init(struct cr_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

void cr_config_relay_init(struct cr_relay_config *r)
{
	*r = (struct cr_relay_config){
		.format = cr_format_info_from_name("BGRx"),
		.matrix = CR_COLOR_BT709,
		.portal = {
			.types = CR_PORTAL_TYPE_MONITOR,
			.cursor_mode = CR_PORTAL_CURSOR_EMBEDDED,
			.persist = true,
		},
	};
}

void cr_config_set_source(struct cr_relay_config *r)
{
	r->source_kind = strcmp(r->source, "portal") == 0 ? CR_SOURCE_PORTAL : CR_SOURCE_TARGET;
}

static bool parse_u32(const char *s, char **end, uint32_t *v)
{
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	unsigned long x = strtoul(s, end, 10);
	if (errno || x > MAX_DIMENSION)
		return false;
	*v = (uint32_t)x;
	return true;
}

bool cr_config_parse_rect(const char *s, struct cr_rect *r)
{
	uint32_t v[4];
	char *end = (char *)s;
	for (int i = 0; i < 4; i++) {
		if (!parse_u32(end, &end, &v[i]))
			return false;
		if (i < 3 && *end++ != ',')
			return false;
	}
	if (*end != '\0' || v[2] == 0 || v[3] == 0)
		return false;
	*r = (struct cr_rect){ v[0], v[1], v[2], v[3] };
	return true;
}

bool cr_config_parse_size(const char *s, uint32_t *w, uint32_t *h)
{
	char *end;
	if (!parse_u32(s, &end, w) || *end++ != 'x' || !parse_u32(end, &end, h) || *end != '\0')
		return false;
	return *w >= 1 && *h >= 1;
}

static bool name_ok(const char *name)
{
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			return false;
	return name[0] != '\0';
}

#define NAME_RULE "only letters, digits, '-', '_' and '.' are accepted"

bool cr_config_check_relay(const struct cr_relay_config *r, const char *origin, FILE *err)
{
	if (r->source[0] == '\0')
		return report(err, origin, NULL, "relay '%s' has no source (give --source TARGET "
					   "or --source portal)", r->name);
	if (!name_ok(r->name))
		return report(err, origin, "--name", NAME_RULE " (got '%s')", r->name);
	return true;
}

static bool set_string(char *dst, size_t size, const char *value, const char *option,
		       FILE *err)
{
	if (strlen(value) >= size)
		return report(err, NULL, option, "at most %zu characters (got '%s')", size - 1,
			      value);
	strcpy(dst, value);
	return true;
}

static bool parse_bounded(const char *s, uint32_t lo, uint32_t hi, uint32_t *v)
{
	char *end;
	return parse_u32(s, &end, v) && *end == '\0' && *v >= lo && *v <= hi;
}

static bool parse_redact_list(const char *s, struct cr_relay_settings *out)
{
	uint32_t n = 0;
	char buf[1024];
	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	for (char *save = NULL, *tok = strtok_r(buf, "; ", &save); tok;
	     tok = strtok_r(NULL, "; ", &save)) {
		if (n == CR_PIPELINE_MAX_REDACT || !cr_config_parse_rect(tok, &out->redact[n]))
			return false;
		n++;
	}
	out->n_redact = n;
	return true;
}

void cr_config_format_redact(const struct cr_relay_settings *s, char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = '\0';
	for (uint32_t i = 0; i < s->n_redact && at < len; i++) {
		const struct cr_rect *r = &s->redact[i];
		int n = snprintf(buf + at, len - at, "%s%u,%u,%u,%u", i ? ";" : "", r->x, r->y,
				 r->w, r->h);
		at += n > 0 ? (size_t)n : 0;
	}
}

bool cr_config_apply_key(struct cr_relay_settings *s, const char *key, const char *value,
			 char *why, size_t why_len)
{
	struct cr_relay_settings t = *s;
	uint32_t v = 0;
	bool ok = true;
	const char *expect = "";
	static const struct {
		const char *key;
		size_t offset;
	} dims[] = {
		{ "crop.x", offsetof(struct cr_relay_settings, crop.x) },
		{ "crop.y", offsetof(struct cr_relay_settings, crop.y) },
		{ "crop.width", offsetof(struct cr_relay_settings, crop.w) },
		{ "crop.height", offsetof(struct cr_relay_settings, crop.h) },
		{ "scale.width", offsetof(struct cr_relay_settings, scale_w) },
		{ "scale.height", offsetof(struct cr_relay_settings, scale_h) },
	};
	size_t dim = 0;
	while (dim < sizeof(dims) / sizeof(dims[0]) && strcmp(key, dims[dim].key) != 0)
		dim++;
	if (dim < sizeof(dims) / sizeof(dims[0])) {
		ok = parse_bounded(value, 0, MAX_DIMENSION, &v);
		expect = "an integer 0..16384";
		*(uint32_t *)((char *)&t + dims[dim].offset) = v;
		t.has_crop = t.crop.w > 0 && t.crop.h > 0;
		/* Setting one of a scale pair to 0 clears both: follow the input. */
		if ((t.scale_w == 0) != (t.scale_h == 0) && key[0] == 's' && s->scale_w &&
		    s->scale_h)
			t.scale_w = t.scale_h = 0;
	} else if (strcmp(key, "redact") == 0) {
		ok = parse_redact_list(value, &t);
		expect = "X,Y,W,H;X,Y,W,H... (at most 16, W and H >= 1), or empty";
	} else if (strcmp(key, "pixelate") == 0) {
		ok = parse_bounded(value, 0, 256, &v);
		expect = "a block size 0..256 (0: fill black)";
		t.pixelate = v;
	} else if (strcmp(key, "cursor") == 0) {
		ok = cr_config_parse_cursor(value, &t.cursor);
		expect = "embed, hide or meta";
	} else if (strcmp(key, "fps") == 0) {
		ok = parse_bounded(value, 0, 1000, &v);
		expect = "an integer 0..1000 (0: no cap)";
		t.fps = v;
	} else {
		snprintf(why, why_len, "%s: unknown key (crop.x, crop.y, crop.width, crop.height, "
			 "scale.width, scale.height, redact, pixelate, cursor, fps)", key);
		return false;
	}
	if (!ok) {
		snprintf(why, why_len, "%s: invalid value '%s', expected %s", key, value, expect);
		return false;
	}
	*s = t;
	return true;
}

/* ---- castrelay.conf: values ------------------------------------------------------------ */

/* One text being parsed; errors name its origin and the line of the offending value. */
struct text_ctx {
	struct cr_config *cfg;
	const char *text;
	const char *origin;
	FILE *err;
	uint32_t relays_here;                 /* bit i: relays[i] was set by this text */
	int relay_line[CR_CONFIG_MAX_RELAYS]; /* where, for "named twice" */
};

static int line_at(const char *text, const char *at)
{
	int line = 1;
	for (const char *p = text; p < at && *p; p++)
		line += *p == '\n';
	return line;
}

__attribute__((format(printf, 4, 5)))
static bool fail_at(const struct text_ctx *c, const char *at, const char *key, const char *fmt,
		    ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(c->err, c->origin, at ? line_at(c->text, at) : 0, key, fmt, ap);
	va_end(ap);
	return false;
}

/* The loop over @iter ended with an error: the parser's reason and the line where it stopped. */
static bool syntax_error(const struct text_ctx *c, struct spa_json *iter)
{
	struct spa_error_location loc = { 0 };
	if (!spa_json_get_error(iter, c->text, &loc))
		return fail_at(c, NULL, NULL, "SPA-JSON syntax error");
	return fail_at(c, iter->cur, NULL, "SPA-JSON syntax error: %s", loc.reason);
}

/* A value as the text spells it, for "(got ...)". */
struct got {
	char s[72];
};

static struct got got(const char *val, int len)
{
	struct got g;
	if (spa_json_is_object(val, len))
		snprintf(g.s, sizeof(g.s), "an object");
	else if (spa_json_is_array(val, len))
		snprintf(g.s, sizeof(g.s), "an array");
	else if (len > 64)
		snprintf(g.s, sizeof(g.s), "%.60s...", val);
	else
		snprintf(g.s, sizeof(g.s), "%.*s", len, val);
	return g;
}

static bool get_uint(const struct text_ctx *c, const char *val, int len, const char *key,
		     uint32_t lo, uint32_t hi, uint32_t *out)
{
	char buf[32], *end = buf;
	long x = -1;
	if (len > 0 && len < (int)sizeof(buf) && (isdigit((unsigned char)*val) || *val == '-')) {
		memcpy(buf, val, len);
		buf[len] = '\0';
		errno = 0;
		x = strtol(buf, &end, 10);
	}
	if (errno || end == buf || *end != '\0' || x < (long)lo || x > (long)hi)
		return fail_at(c, val, key, "must be an integer %u..%u (got %s)", lo, hi,
			       got(val, len).s);
	*out = (uint32_t)x;
	return true;
}

static bool get_bool(const struct text_ctx *c, const char *val, int len, const char *key,
		     bool *out)
{
	if (spa_json_parse_bool(val, len, out) <= 0)
		return fail_at(c, val, key, "must be true or false (got %s)", got(val, len).s);
	return true;
}

static bool get_string(const struct text_ctx *c, const char *val, int len, const char *key,
		       char *out, size_t size)
{
	char buf[1024];
	if (spa_json_is_container(val, len) || spa_json_is_null(val, len))
		return fail_at(c, val, key, "must be a string (got %s)", got(val, len).s);
	if (spa_json_parse_stringn(val, len, buf, sizeof(buf)) <= 0 || strlen(buf) >= size)
		return fail_at(c, val, key, "at most %zu characters (got %s)", size - 1,
			       got(val, len).s);
	strcpy(out, buf);
	return true;
}

static bool get_enum(const struct text_ctx *c, const char *val, int len, const char *key,
		     const struct name_value *names, uint32_t *out)
{
	char s[64], list[128];
	if (spa_json_is_container(val, len) ||
	    spa_json_parse_stringn(val, len, s, sizeof(s)) <= 0 || !lookup(names, s, out))
		return fail_at(c, val, key, "must be %s (got %s)",
			       accepted(names, true, list, sizeof(list)), got(val, len).s);
	return true;
}

/* { x = .. y = .. width = .. height = .. } at @at, entered as @obj; x and y only when
 * @with_origin. */
static bool parse_rect(const struct text_ctx *c, struct spa_json *obj, const char *at,
		       const char *key, bool with_origin, struct cr_rect *out)
{
	static const char *const names[] = { "x", "y", "width", "height" };
	uint32_t v[4] = { 0 };
	bool seen[4] = { false };
	char k[64], path[128];
	const char *val;
	int len;
	while ((len = spa_json_object_next(obj, k, sizeof(k), &val)) > 0) {
		int i = with_origin ? 0 : 2;
		while (i < 4 && strcmp(k, names[i]) != 0)
			i++;
		format_fits(path, sizeof(path), "%s.%s", key, k);
		if (i == 4)
			return fail_at(c, val, path, "unknown key (%s)",
				       with_origin ? "x, y, width, height" : "width, height");
		if (!get_uint(c, val, len, path, i < 2 ? 0 : 1, MAX_DIMENSION, &v[i]))
			return false;
		seen[i] = true;
	}
	if (len < 0)
		return syntax_error(c, obj);
	if (!seen[2] || !seen[3])
		return fail_at(c, at, key, "needs width and height");
	*out = (struct cr_rect){ v[0], v[1], v[2], v[3] };
	return true;
}

static bool enter_rect(const struct text_ctx *c, struct spa_json *parent, const char *val,
		       int len, const char *key, bool with_origin, struct cr_rect *out)
{
	struct spa_json obj;
	if (!spa_json_is_object(val, len))
		return fail_at(c, val, key, "must be an object { %swidth = W height = H } (got %s)",
			       with_origin ? "x = X y = Y " : "", got(val, len).s);
	spa_json_enter(parent, &obj);
	return parse_rect(c, &obj, val, key, with_origin, out);
}

/* castrelay.allowed-clients / allowed-clients at @val, a value of the container @parent. */
static bool get_access(const struct text_ctx *c, struct spa_json *parent, const char *val,
		       int len, const char *key, struct cr_access_config *out)
{
	struct cr_access_error e;
	char path[256];
	/* An array is handed over whole; a broken one up to the end, for the parser to say
	 * where it breaks. */
	int whole = spa_json_is_array(val, len) ? spa_json_container_len(parent, val, len) : len;
	if (cr_access_config_set(out, val, whole > 0 ? (size_t)whole : strlen(val), &e))
		return true;
	format_fits(path, sizeof(path), "%s%s", key, e.key);
	return fail_at(c, e.at ? e.at : val, path, "%s", e.why);
}

/* ---- castrelay.conf: relays ------------------------------------------------------------ */

static bool parse_redact(const struct text_ctx *c, struct spa_json *obj, const char *val,
			 int len, const char *key, struct cr_relay_settings *s)
{
	struct spa_json arr;
	char path[128];
	if (!spa_json_is_array(val, len))
		return fail_at(c, val, key, "must be an array [ { x = X y = Y width = W height = H "
					    "} ... ] (got %s)", got(val, len).s);
	spa_json_enter(obj, &arr);
	s->n_redact = 0;
	while ((len = spa_json_next(&arr, &val)) > 0) {
		format_fits(path, sizeof(path), "%s[%u]", key, s->n_redact);
		if (s->n_redact == CR_PIPELINE_MAX_REDACT)
			return fail_at(c, val, path, "at most %d rectangles",
				       CR_PIPELINE_MAX_REDACT);
		if (!enter_rect(c, &arr, val, len, path, true, &s->redact[s->n_redact]))
			return false;
		s->n_redact++;
	}
	return len == 0 || syntax_error(c, &arr);
}

static bool parse_portal(const struct text_ctx *c, struct spa_json *obj, const char *key,
			 struct cr_portal_source *p)
{
	char k[64], path[128], list[128];
	const char *val;
	int len;
	while ((len = spa_json_object_next(obj, k, sizeof(k), &val)) > 0) {
		format_fits(path, sizeof(path), "%s.%s", key, k);
		if (strcmp(k, "types") == 0) {
			struct spa_json arr;
			const char *v2;
			int l2;
			uint32_t bit;
			if (!spa_json_is_array(val, len))
				return fail_at(c, val, path, "must be an array of %s (got %s)",
					       accepted(portal_types, true, list, sizeof(list)),
					       got(val, len).s);
			spa_json_enter(obj, &arr);
			p->types = 0;
			while ((l2 = spa_json_next(&arr, &v2)) > 0) {
				if (!get_enum(c, v2, l2, path, portal_types, &bit))
					return false;
				p->types |= bit;
			}
			if (l2 < 0)
				return syntax_error(c, &arr);
			if (p->types == 0)
				return fail_at(c, val, path, "needs at least one of %s",
					       accepted(portal_types, true, list, sizeof(list)));
		} else if (strcmp(k, "cursor") == 0) {
			if (!get_enum(c, val, len, path, portal_cursors, &p->cursor_mode))
				return false;
		} else if (strcmp(k, "persist") == 0) {
			if (!get_bool(c, val, len, path, &p->persist))
				return false;
		} else {
			return fail_at(c, val, path, "unknown key (types, cursor, persist)");
		}
	}
	return len == 0 || syntax_error(c, obj);
}

static bool parse_source(const struct text_ctx *c, struct spa_json *obj, const char *val,
			 int len, const char *key, struct cr_relay_config *r)
{
	struct spa_json src;
	char k[64], path[128];
	const char *v2;
	int l2;
	bool target = false, portal = false;
	if (!spa_json_is_object(val, len))
		return fail_at(c, val, key, "must be an object { target = NODE } or { portal = { "
					    "... } } (got %s)", got(val, len).s);
	spa_json_enter(obj, &src);
	while ((l2 = spa_json_object_next(&src, k, sizeof(k), &v2)) > 0) {
		format_fits(path, sizeof(path), "%s.%s", key, k);
		if (strcmp(k, "target") == 0) {
			if (!get_string(c, v2, l2, path, r->source, sizeof(r->source)))
				return false;
			if (r->source[0] == '\0')
				return fail_at(c, v2, path, "must not be empty (a node.name or "
							    "object.serial)");
			cr_config_set_source(r);
			target = true;
		} else if (strcmp(k, "portal") == 0) {
			struct spa_json p;
			if (!spa_json_is_object(v2, l2))
				return fail_at(c, v2, path, "must be an object { types = [ ... ] "
							    "cursor = ... persist = ... } (got %s)",
					       got(v2, l2).s);
			spa_json_enter(&src, &p);
			if (!parse_portal(c, &p, path, &r->portal))
				return false;
			strcpy(r->source, "portal");
			r->source_kind = CR_SOURCE_PORTAL;
			portal = true;
		} else {
			return fail_at(c, v2, path, "unknown key (target, portal)");
		}
	}
	if (l2 < 0)
		return syntax_error(c, &src);
	if (target && portal)
		return fail_at(c, val, key, "takes target or portal, not both");
	if (!target && !portal)
		return fail_at(c, val, key, "needs target = NODE or portal = { ... }");
	return true;
}

#define RELAY_KEYS "name, source, crop, scale, format, color.matrix, color.range, redact, " \
		   "pixelate, cursor, fps, camera, lost, allowed-clients"

/* One relay object at @at, entered as @obj. */
static bool parse_relay(const struct text_ctx *c, struct spa_json *obj, const char *at,
			const char *key, struct cr_relay_config *r)
{
	char k[64], path[128], str[64];
	const char *val;
	int len;
	uint32_t u;
	while ((len = spa_json_object_next(obj, k, sizeof(k), &val)) > 0) {
		format_fits(path, sizeof(path), "%s.%s", key, k);
		bool ok = true;
		if (strcmp(k, "name") == 0) {
			ok = get_string(c, val, len, path, r->name, sizeof(r->name));
			if (ok && !name_ok(r->name))
				return fail_at(c, val, path, NAME_RULE " (got %s)",
					       got(val, len).s);
		} else if (strcmp(k, "source") == 0) {
			ok = parse_source(c, obj, val, len, path, r);
		} else if (strcmp(k, "crop") == 0) {
			ok = enter_rect(c, obj, val, len, path, true, &r->settings.crop);
			r->settings.has_crop = ok;
		} else if (strcmp(k, "scale") == 0) {
			struct cr_rect s = { 0 };
			ok = enter_rect(c, obj, val, len, path, false, &s);
			r->settings.scale_w = s.w;
			r->settings.scale_h = s.h;
		} else if (strcmp(k, "format") == 0) {
			ok = get_string(c, val, len, path, str, sizeof(str));
			if (ok && !(r->format = cr_format_info_from_name(str)))
				return fail_at(c, val, path, "must be one of %s (got %s)",
					       cr_format_names(), got(val, len).s);
		} else if (strcmp(k, "color.matrix") == 0) {
			ok = get_enum(c, val, len, path, matrices, &u);
			r->matrix = ok ? u : r->matrix;
		} else if (strcmp(k, "color.range") == 0) {
			ok = get_enum(c, val, len, path, ranges, &u);
			r->full_range = ok && u;
		} else if (strcmp(k, "redact") == 0) {
			ok = parse_redact(c, obj, val, len, path, &r->settings);
		} else if (strcmp(k, "pixelate") == 0) {
			ok = get_uint(c, val, len, path, 0, 256, &r->settings.pixelate);
		} else if (strcmp(k, "cursor") == 0) {
			ok = get_enum(c, val, len, path, cursor_modes, &u);
			r->settings.cursor = ok ? u : r->settings.cursor;
		} else if (strcmp(k, "fps") == 0) {
			ok = get_uint(c, val, len, path, 0, 1000, &r->settings.fps);
		} else if (strcmp(k, "camera") == 0) {
			ok = get_bool(c, val, len, path, &r->camera);
		} else if (strcmp(k, "lost") == 0) {
			ok = get_enum(c, val, len, path, lost_modes, &u);
			r->lost = ok ? u : r->lost;
		} else if (strcmp(k, "allowed-clients") == 0) {
			ok = get_access(c, obj, val, len, path, &r->allowed_clients);
		} else {
			return fail_at(c, val, path, "unknown key (" RELAY_KEYS ")");
		}
		if (!ok)
			return false;
	}
	if (len < 0)
		return syntax_error(c, obj);
	if (r->name[0] == '\0')
		return fail_at(c, at, key, "needs a name");
	if (r->source[0] == '\0')
		return fail_at(c, at, key, "relay '%s' needs a source = { target = NODE } or "
					   "{ portal = { ... } }", r->name);
	return true;
}

/* A relay named like one of an earlier text replaces it; twice in one text is an error. */
static bool merge_relay(struct text_ctx *c, const char *at, const char *key,
			const struct cr_relay_config *r)
{
	struct cr_config *cfg = c->cfg;
	unsigned i = 0;
	while (i < cfg->n_relays && strcmp(cfg->relays[i].name, r->name) != 0)
		i++;
	if (i < cfg->n_relays && (c->relays_here & (1u << i)))
		return fail_at(c, at, key, "relay name '%s' is used twice (first on line %d)",
			       r->name, c->relay_line[i]);
	if (i == CR_CONFIG_MAX_RELAYS)
		return fail_at(c, at, key, "more than %d relays", CR_CONFIG_MAX_RELAYS);
	if (i == cfg->n_relays)
		cfg->n_relays++;
	cfg->relays[i] = *r;
	c->relays_here |= 1u << i;
	c->relay_line[i] = line_at(c->text, at);
	return true;
}

static bool parse_relays(struct text_ctx *c, struct spa_json *top, const char *val, int len)
{
	struct spa_json arr;
	char path[32];
	if (!spa_json_is_array(val, len))
		return fail_at(c, val, "castrelay.relays", "must be an array [ { ... } ... ] "
							   "(got %s)", got(val, len).s);
	spa_json_enter(top, &arr);
	for (unsigned i = 0; (len = spa_json_next(&arr, &val)) > 0; i++) {
		struct spa_json obj;
		struct cr_relay_config r;
		format_fits(path, sizeof(path), "relays[%u]", i);
		if (!spa_json_is_object(val, len))
			return fail_at(c, val, path, "must be an object { name = ... source = "
						     "{ ... } ... } (got %s)", got(val, len).s);
		spa_json_enter(&arr, &obj);
		cr_config_relay_init(&r);
		if (!parse_relay(c, &obj, val, path, &r) || !merge_relay(c, val, path, &r))
			return false;
	}
	return len == 0 || syntax_error(c, &arr);
}

bool cr_config_parse_text(struct cr_config *cfg, const char *text, const char *origin, FILE *err)
{
	struct text_ctx c = { .cfg = cfg, .text = text, .origin = origin, .err = err };
	struct spa_json top;
	char key[64];
	const char *val;
	int len, res;
	/* Empty, or only comments: nothing to do (an empty conf.d file masks one of the same
	 * name in a less specific directory). */
	if ((res = spa_json_begin_object_relax(&top, text, strlen(text))) == 0)
		return true;
	if (res < 0)
		return syntax_error(&c, &top);
	while ((len = spa_json_object_next(&top, key, sizeof(key), &val)) > 0) {
		bool ok;
		if (strcmp(key, "vulkan.device") == 0)
			ok = get_string(&c, val, len, key, cfg->vulkan_device,
					sizeof(cfg->vulkan_device));
		else if (strcmp(key, "drm.device") == 0)
			ok = get_string(&c, val, len, key, cfg->drm_device,
					sizeof(cfg->drm_device));
		else if (strcmp(key, "castrelay.relays") == 0)
			ok = parse_relays(&c, &top, val, len);
		else if (strcmp(key, "castrelay.allowed-clients") == 0)
			ok = get_access(&c, &top, val, len, key, &cfg->allowed_clients);
		else
			return fail_at(&c, val, key, "unknown top-level key (castrelay.relays, "
						     "vulkan.device, drm.device, "
						     "castrelay.allowed-clients)");
		if (!ok)
			return false;
	}
	return len == 0 || syntax_error(&c, &top);
}

/* ---- castrelay.conf: files and where they are searched --------------------------------- */

/* Reads and parses @path. A missing file is not an error when @missing_ok (*found false). */
static bool read_file(struct cr_config *cfg, const char *path, bool missing_ok, bool *found,
		      FILE *err)
{
	*found = false;
	FILE *f = fopen(path, "re");
	if (!f && missing_ok && (errno == ENOENT || errno == ENOTDIR))
		return true;
	if (!f)
		return report(err, path, NULL, "cannot read the configuration file: %s",
			      strerror(errno));
	*found = true;
	if (cfg->n_files == CR_CONFIG_MAX_FILES || strlen(path) >= CR_CONFIG_PATH_MAX) {
		fclose(f);
		return report(err, path, NULL, "more than %d files, or a path longer than %d",
			      CR_CONFIG_MAX_FILES, CR_CONFIG_PATH_MAX - 1);
	}
	char *text = malloc(MAX_FILE_SIZE + 1);
	size_t len = text ? fread(text, 1, MAX_FILE_SIZE + 1, f) : 0;
	bool ok = text && !ferror(f) && len <= MAX_FILE_SIZE;
	int error = errno;
	fclose(f);
	if (!ok) {
		free(text);
		return report(err, path, NULL, "cannot read the configuration file: %s",
			      len > MAX_FILE_SIZE ? "larger than 1 MiB" : strerror(error));
	}
	text[len] = '\0';
	strcpy(cfg->files[cfg->n_files++], path);
	ok = cr_config_parse_text(cfg, text, path, err);
	free(text);
	return ok;
}

struct search_dirs {
	char dir[MAX_SEARCH_DIRS][CR_CONFIG_PATH_MAX]; /* .../castrelay, most specific first */
	unsigned n;
};

static void add_dir(struct search_dirs *d, const char *base, size_t len, const char *sub)
{
	/* The XDG base directory specification: relative paths are invalid, ignore them. */
	if (len == 0 || base[0] != '/' || d->n == MAX_SEARCH_DIRS)
		return;
	int n = snprintf(d->dir[d->n], sizeof(d->dir[0]), "%.*s%s/castrelay", (int)len, base, sub);
	if (n > 0 && (size_t)n < sizeof(d->dir[0]))
		d->n++;
}

/* $XDG_CONFIG_HOME (default ~/.config), then each of $XDG_CONFIG_DIRS (default /etc/xdg). */
static void find_search_dirs(struct search_dirs *d)
{
	const char *home = getenv("XDG_CONFIG_HOME");
	const char *dirs = getenv("XDG_CONFIG_DIRS");
	d->n = 0;
	if (home && home[0] == '/')
		add_dir(d, home, strlen(home), "");
	else if ((home = getenv("HOME")))
		add_dir(d, home, strlen(home), "/.config");
	if (!dirs || dirs[0] == '\0')
		dirs = "/etc/xdg";
	for (const char *p = dirs; *p; p += *p == ':') {
		size_t len = strcspn(p, ":");
		add_dir(d, p, len, "");
		p += len;
	}
}

struct dropin {
	char name[256];
	unsigned dir;
};

static int compare_dropins(const void *a, const void *b)
{
	return strcmp(((const struct dropin *)a)->name, ((const struct dropin *)b)->name);
}

/* castrelay.conf.d/NAME.conf of every directory, a NAME in a more specific directory hiding
 * the same NAME in the less specific ones; sorted by NAME (bytewise, as LC_ALL=C). */
static bool list_dropins(const struct search_dirs *d, struct dropin *out, unsigned max,
			 unsigned *n, FILE *err)
{
	char path[CR_CONFIG_PATH_MAX + 32];
	*n = 0;
	for (unsigned i = 0; i < d->n; i++) {
		DIR *dir = NULL;
		if (format_fits(path, sizeof(path), "%s/castrelay.conf.d", d->dir[i]))
			dir = opendir(path);
		else
			errno = ENAMETOOLONG;
		if (!dir && (errno == ENOENT || errno == ENOTDIR))
			continue;
		if (!dir)
			return report(err, path, NULL, "cannot read the directory: %s",
				      strerror(errno));
		for (struct dirent *e; (e = readdir(dir));) {
			size_t len = strlen(e->d_name);
			if (e->d_name[0] == '.' || len <= 5 || len >= sizeof(out->name) ||
			    strcmp(e->d_name + len - 5, ".conf") != 0)
				continue;
			unsigned j = 0;
			while (j < *n && strcmp(out[j].name, e->d_name) != 0)
				j++;
			if (j < *n)
				continue;
			if (*n == max) {
				closedir(dir);
				return report(err, path, NULL, "more than %u configuration files",
					      max);
			}
			strcpy(out[*n].name, e->d_name);
			out[(*n)++].dir = i;
		}
		closedir(dir);
	}
	qsort(out, *n, sizeof(*out), compare_dropins);
	return true;
}

/* castrelay.conf from the first directory that has one, then every conf.d file. */
static bool read_searched(struct cr_config *cfg, const struct search_dirs *d, FILE *err)
{
	struct dropin dropins[CR_CONFIG_MAX_FILES];
	char path[CR_CONFIG_PATH_MAX + 300];
	bool found = false;
	unsigned n;
	for (unsigned i = 0; i < d->n && !found; i++) {
		if (!format_fits(path, sizeof(path), "%s/castrelay.conf", d->dir[i]) ||
		    !read_file(cfg, path, true, &found, err))
			return false;
	}
	if (!list_dropins(d, dropins, CR_CONFIG_MAX_FILES, &n, err))
		return false;
	for (unsigned i = 0; i < n; i++) {
		if (!format_fits(path, sizeof(path), "%s/castrelay.conf.d/%s",
				 d->dir[dropins[i].dir], dropins[i].name) ||
		    !read_file(cfg, path, false, &found, err))
			return false;
	}
	return true;
}

static bool nothing_to_relay(const struct cr_config *cfg, const struct search_dirs *d,
			     bool searched, FILE *err)
{
	char list[2048];
	size_t at = 0;
	list[0] = '\0';
	for (unsigned i = 0; i < (cfg->n_files ? cfg->n_files : d->n) && at < sizeof(list); i++) {
		int n = snprintf(list + at, sizeof(list) - at, "%s%s", i ? ", " : "",
				 cfg->n_files ? cfg->files[i] : d->dir[i]);
		at += n > 0 ? (size_t)n : 0;
	}
	if (cfg->n_files)
		return report(err, NULL, NULL, "nothing to relay: no relays in %s (add "
					       "castrelay.relays, or give --source TARGET)", list);
	if (searched)
		return report(err, NULL, NULL, "nothing to relay: no --source TARGET, -c FILE, "
					       "or castrelay.conf or castrelay.conf.d/*.conf in "
					       "%s (see castrelay.conf(5))", d->n ? list : "(none: "
					       "neither XDG_CONFIG_HOME, HOME nor XDG_CONFIG_DIRS "
					       "name a directory)");
	return report(err, NULL, NULL, "nothing to relay: give --source TARGET or -c FILE "
				       "(see --help)");
}

/* ---- command line ---------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: castrelayd [OPTIONS]\n"
		"Relays a PipeWire video source through Vulkan compute passes to a new node.\n\n"
		"  -c, --config FILE       read relays from FILE only (SPA-JSON, see\n"
		"                          castrelay.conf(5)); without -c and --source:\n"
		"                          castrelay.conf and castrelay.conf.d/*.conf of\n"
		"                          $XDG_CONFIG_HOME/castrelay, $XDG_CONFIG_DIRS/castrelay\n"
		"      --check-config      parse the configuration, print the files read and the\n"
		"                          relays, and exit\n"
		"  -v, --verbose           more log output (repeat for debug)\n"
		"  -V, --version           print the version and exit\n"
		"  -h, --help              this text\n"
		"One relay from the command line:\n"
		"  -s, --source TARGET     node.name or object.serial of the video source, or\n"
		"                          portal (a ScreenCast portal session of our own)\n"
		"  -n, --name NAME         output node castrelay.NAME (default: relay)\n"
		"      --crop X,Y,W,H      crop rectangle in source pixels\n"
		"      --scale WxH         output size (1..16384; default: the cropped size)\n"
		"      --format FMT        output format: %s (default BGRx)\n"
		"      --color-matrix M    YUV outputs: bt709 (default) or bt601\n"
		"      --color-range R     YUV outputs: limited (default) or full\n"
		"      --redact X,Y,W,H    black out a rectangle in source pixels (repeatable,\n"
		"                          16 at most)\n"
		"      --pixelate N        pixelate redactions in N-pixel blocks instead\n"
		"      --cursor MODE       embed (default), hide or meta (SPA_META_Cursor)\n"
		"      --fps N             output frame-rate cap (default: none)\n"
		"      --camera            publish as a camera (media.role=Camera)\n"
		"      --on-lost MODE      while the source is lost send nothing (default) or\n"
		"                          black frames\n"
		"      --portal-types LIST with --source portal: monitor (default), window or\n"
		"                          monitor,window\n"
		"      --portal-cursor M   with --source portal: embedded (default), metadata or\n"
		"                          hidden\n"
		"      --no-persist        with --source portal: no restore token, ask every time\n"
		"      --vulkan-device DEV Vulkan device index or part of its name\n"
		"      --drm-device PATH   DRM node for explicit sync (default: the first render\n"
		"                          node with timeline syncobjs; none: explicit sync off)\n"
		"      --no-dmabuf         accept shared-memory input only\n"
		"      --allow-client MATCH only clients matching one MATCH may watch, e.g.\n"
		"                          'application.process.binary = obs' (repeatable;\n"
		"                          replaces castrelay.allowed-clients)\n"
		"See castrelayd(1) and castrelay.conf(5).\n",
		cr_format_names());
}

static bool parse_portal_types(const char *s, uint32_t *types)
{
	char buf[64];
	uint32_t bit;
	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	*types = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!lookup(portal_types, tok, &bit))
			return false;
		*types |= bit;
	}
	return *types != 0;
}

/* --option VALUE from a table: sets *v or reports what is accepted. */
static bool option_enum(const char *option, const char *value, const struct name_value *names,
			uint32_t *v, FILE *err)
{
	char list[128];
	if (lookup(names, value, v))
		return true;
	return report(err, NULL, option, "expected %s (got '%s')",
		      accepted(names, false, list, sizeof(list)), value);
}

/* --allow-client MATCH: one more rule object { MATCH } in @rules (a "[ ... ]" being built). */
static bool add_allow_client(char *rules, size_t size, const char *match, FILE *err)
{
	struct cr_access_error e;
	char one[CR_ACCESS_TEXT_MAX];
	size_t used = strlen(rules);
	if (!format_fits(one, sizeof(one), "[ { %s } ]", match))
		return report(err, NULL, "--allow-client", "at most %d characters (got '%.40s...')",
			      CR_ACCESS_TEXT_MAX - 8, match);
	struct cr_access_rules *parsed = cr_access_rules_parse(one, strlen(one), &e);
	if (!parsed) {
		/* The key without the "[0]" of the one object built here. */
		const char *key = strncmp(e.key, "[0].", 4) == 0 ? e.key + 4 : NULL;
		return report(err, NULL, "--allow-client", "%s%s%s (in '%s'; expected "
			      "KEY = VALUE ..., VALUE exact, \"~REGEX\" or null)", key ? key : "",
			      key ? ": " : "", e.why, match);
	}
	cr_access_rules_destroy(parsed);
	/* "[ { a } ]" + "{ b } ]": the closing bracket moves to the end. */
	if (used == 0 ? !format_fits(rules, size, "%s", one)
		      : !format_fits(rules + used - 1, size - used + 1, "%s", one + 2))
		return report(err, NULL, "--allow-client", "at most %d characters of rules in all",
			      CR_ACCESS_TEXT_MAX - 1);
	return true;
}

/* The command-line relay goes after those of -c FILE, under a name of its own. */
static bool add_cli_relay(struct cr_config *cfg, const struct cr_relay_config *cli,
			  const char *config_file, FILE *err)
{
	if (!cr_config_check_relay(cli, "command line", err))
		return false;
	for (unsigned i = 0; i < cfg->n_relays; i++)
		if (strcmp(cfg->relays[i].name, cli->name) == 0)
			return report(err, NULL, "--name", "a relay of %s is named '%s' too",
				      config_file ? config_file : "the configuration", cli->name);
	if (cfg->n_relays == CR_CONFIG_MAX_RELAYS)
		return report(err, NULL, NULL, "more than %d relays", CR_CONFIG_MAX_RELAYS);
	cfg->relays[cfg->n_relays++] = *cli;
	return true;
}

enum cr_config_result cr_config_parse_args(struct cr_config *cfg, int argc, char **argv,
					   FILE *out, FILE *err)
{
	enum {
		OPT_CHECK = 256, OPT_CROP, OPT_SCALE, OPT_FORMAT, OPT_VKDEV, OPT_NO_DMABUF,
		OPT_MATRIX, OPT_RANGE, OPT_REDACT, OPT_PIXELATE, OPT_CURSOR, OPT_FPS, OPT_CAMERA,
		OPT_DRMDEV, OPT_ON_LOST, OPT_PORTAL_TYPES, OPT_PORTAL_CURSOR, OPT_NO_PERSIST,
		OPT_ALLOW_CLIENT,
	};
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "source", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "crop", required_argument, NULL, OPT_CROP },
		{ "scale", required_argument, NULL, OPT_SCALE },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "vulkan-device", required_argument, NULL, OPT_VKDEV },
		{ "drm-device", required_argument, NULL, OPT_DRMDEV },
		{ "no-dmabuf", no_argument, NULL, OPT_NO_DMABUF },
		{ "color-matrix", required_argument, NULL, OPT_MATRIX },
		{ "color-range", required_argument, NULL, OPT_RANGE },
		{ "redact", required_argument, NULL, OPT_REDACT },
		{ "pixelate", required_argument, NULL, OPT_PIXELATE },
		{ "cursor", required_argument, NULL, OPT_CURSOR },
		{ "fps", required_argument, NULL, OPT_FPS },
		{ "camera", no_argument, NULL, OPT_CAMERA },
		{ "on-lost", required_argument, NULL, OPT_ON_LOST },
		{ "portal-types", required_argument, NULL, OPT_PORTAL_TYPES },
		{ "portal-cursor", required_argument, NULL, OPT_PORTAL_CURSOR },
		{ "no-persist", no_argument, NULL, OPT_NO_PERSIST },
		{ "allow-client", required_argument, NULL, OPT_ALLOW_CLIENT },
		{ NULL, 0, NULL, 0 },
	};
	struct cr_relay_config cli;
	cr_config_relay_init(&cli);
	strcpy(cli.name, "relay");
	bool have_cli = false, dmabuf = true;
	const char *config_file = NULL, *vulkan_device = NULL, *drm_device = NULL;
	const char *portal_option = NULL;
	char allow_clients[CR_ACCESS_TEXT_MAX] = ""; /* "[ { MATCH } ... ]" */
	uint32_t u;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:vVhs:n:", options, NULL)) != -1) {
		bool ok = true;
		switch (c) {
		case 'c':
			config_file = optarg;
			break;
		case OPT_CHECK:
			cfg->check_only = true;
			break;
		case 'v':
			cfg->verbosity++;
			break;
		case 'V':
			fprintf(out, "castrelayd %s\n", CR_VERSION);
			return CR_CONFIG_EXIT;
		case 'h':
			usage(out);
			return CR_CONFIG_EXIT;
		case 's':
			ok = set_string(cli.source, sizeof(cli.source), optarg, "--source", err);
			cr_config_set_source(&cli);
			break;
		case 'n':
			ok = set_string(cli.name, sizeof(cli.name), optarg, "--name", err);
			break;
		case OPT_CROP:
			ok = cr_config_parse_rect(optarg, &cli.settings.crop) ||
			     report(err, NULL, "--crop", "expected X,Y,W,H with X and Y in 0..%d, "
					     "W and H in 1..%d (got '%s')", MAX_DIMENSION,
				    MAX_DIMENSION, optarg);
			cli.settings.has_crop = true;
			break;
		case OPT_SCALE:
			ok = cr_config_parse_size(optarg, &cli.settings.scale_w,
						  &cli.settings.scale_h) ||
			     report(err, NULL, "--scale", "expected WxH with W and H in 1..%d (got "
					     "'%s')", MAX_DIMENSION, optarg);
			break;
		case OPT_FORMAT:
			ok = (cli.format = cr_format_info_from_name(optarg)) ||
			     report(err, NULL, "--format", "expected one of %s (got '%s')",
				    cr_format_names(), optarg);
			break;
		case OPT_VKDEV:
			vulkan_device = optarg;
			ok = set_string(cfg->vulkan_device, sizeof(cfg->vulkan_device), optarg,
					"--vulkan-device", err);
			break;
		case OPT_DRMDEV:
			drm_device = optarg;
			ok = set_string(cfg->drm_device, sizeof(cfg->drm_device), optarg,
					"--drm-device", err);
			break;
		case OPT_NO_DMABUF:
			dmabuf = false;
			break;
		case OPT_MATRIX:
			ok = option_enum("--color-matrix", optarg, matrices, &u, err);
			cli.matrix = ok ? u : cli.matrix;
			break;
		case OPT_RANGE:
			ok = option_enum("--color-range", optarg, ranges, &u, err);
			cli.full_range = ok && u;
			break;
		case OPT_REDACT:
			ok = (cli.settings.n_redact < CR_PIPELINE_MAX_REDACT &&
			      cr_config_parse_rect(optarg,
						   &cli.settings.redact[cli.settings.n_redact])) ||
			     report(err, NULL, "--redact", "expected X,Y,W,H with W and H in "
					     "1..%d, at most %d times (got '%s')", MAX_DIMENSION,
				    CR_PIPELINE_MAX_REDACT, optarg);
			cli.settings.n_redact++;
			break;
		case OPT_PIXELATE:
			ok = parse_bounded(optarg, 1, 256, &cli.settings.pixelate) ||
			     report(err, NULL, "--pixelate", "expected a block size 1..256 (got "
					     "'%s')", optarg);
			break;
		case OPT_CURSOR:
			ok = option_enum("--cursor", optarg, cursor_modes, &u, err);
			cli.settings.cursor = ok ? u : cli.settings.cursor;
			break;
		case OPT_FPS:
			ok = parse_bounded(optarg, 1, 1000, &cli.settings.fps) ||
			     report(err, NULL, "--fps", "expected an integer 1..1000 (got '%s')",
				    optarg);
			break;
		case OPT_CAMERA:
			cli.camera = true;
			break;
		case OPT_ON_LOST:
			ok = option_enum("--on-lost", optarg, lost_modes, &u, err);
			cli.lost = ok ? u : cli.lost;
			break;
		case OPT_PORTAL_TYPES:
			portal_option = "--portal-types";
			ok = parse_portal_types(optarg, &cli.portal.types) ||
			     report(err, NULL, "--portal-types", "expected monitor, window or "
					     "monitor,window (got '%s')", optarg);
			break;
		case OPT_PORTAL_CURSOR:
			portal_option = "--portal-cursor";
			ok = option_enum("--portal-cursor", optarg, portal_cursors,
					 &cli.portal.cursor_mode, err);
			break;
		case OPT_NO_PERSIST:
			portal_option = "--no-persist";
			cli.portal.persist = false;
			break;
		case OPT_ALLOW_CLIENT:
			ok = add_allow_client(allow_clients, sizeof(allow_clients), optarg, err);
			break;
		case ':':
			ok = report(err, NULL, argv[optind - 1], "needs a value");
			break;
		default:
			ok = report(err, NULL, NULL, "unknown option '%s' (see --help)",
				    argv[optind - 1]);
			break;
		}
		if (!ok)
			return CR_CONFIG_USAGE;
		/* --source, --name and the options after them describe the command-line relay. */
		have_cli |= (c == 's' || c == 'n' || c >= OPT_CROP) && c != OPT_VKDEV &&
			    c != OPT_DRMDEV && c != OPT_NO_DMABUF && c != OPT_ALLOW_CLIENT;
	}
	if (optind < argc) {
		report(err, NULL, NULL, "unexpected argument '%s' (see --help)", argv[optind]);
		return CR_CONFIG_USAGE;
	}
	if (portal_option && cli.source_kind != CR_SOURCE_PORTAL) {
		report(err, NULL, portal_option, "only with --source portal");
		return CR_CONFIG_USAGE;
	}

	/* -c FILE: that file only. Without it, the searched files, unless the command line
	 * gives a relay: a quick relay from a terminal must not start the service's relays
	 * a second time. */
	struct search_dirs dirs;
	bool found, searched = false;
	find_search_dirs(&dirs);
	if (config_file && !read_file(cfg, config_file, false, &found, err))
		return CR_CONFIG_USAGE;
	if (!config_file && !have_cli) {
		searched = true;
		if (!read_searched(cfg, &dirs, err))
			return CR_CONFIG_USAGE;
	}
	/* The command line overrides the files. */
	if (vulkan_device)
		strcpy(cfg->vulkan_device, vulkan_device);
	if (drm_device)
		strcpy(cfg->drm_device, drm_device);
	if (allow_clients[0]) {
		struct cr_access_error e;
		if (!cr_access_config_set(&cfg->allowed_clients, allow_clients,
					  strlen(allow_clients), &e)) {
			report(err, NULL, "--allow-client", "%s", e.why); /* checked one by one */
			return CR_CONFIG_USAGE;
		}
	}
	if (have_cli && !add_cli_relay(cfg, &cli, config_file, err))
		return CR_CONFIG_USAGE;
	if (cfg->n_relays == 0) {
		nothing_to_relay(cfg, &dirs, searched, err);
		return CR_CONFIG_USAGE;
	}
	for (unsigned i = 0; i < cfg->n_relays; i++)
		cfg->relays[i].dmabuf = dmabuf;
	return CR_CONFIG_RUN;
}
