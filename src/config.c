/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <spa/utils/json.h>

#include "cr-config.h"

#define MAX_DIMENSION 16384

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
	if (errno || x > MAX_DIMENSION * 4ul)
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
	if (*end != '\0' || v[2] == 0 || v[3] == 0 || v[2] > MAX_DIMENSION ||
	    v[3] > MAX_DIMENSION)
		return false;
	*r = (struct cr_rect){ v[0], v[1], v[2], v[3] };
	return true;
}

bool cr_config_parse_size(const char *s, uint32_t *w, uint32_t *h)
{
	char *end;
	if (!parse_u32(s, &end, w) || *end++ != 'x' || !parse_u32(end, &end, h) || *end != '\0')
		return false;
	return *w >= 1 && *h >= 1 && *w <= MAX_DIMENSION && *h <= MAX_DIMENSION;
}

bool cr_config_check_relay(const struct cr_relay_config *r, const char *origin, FILE *err)
{
	if (r->source[0] == '\0') {
		fprintf(err, "castrelayd: %s: relay '%s' has no source\n", origin, r->name);
		return false;
	}
	if (r->name[0] == '\0') {
		fprintf(err, "castrelayd: %s: a relay has no name\n", origin);
		return false;
	}
	for (const char *c = r->name; *c; c++) {
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.') {
			fprintf(err, "castrelayd: %s: relay name '%s': only letters, digits, '-', "
				     "'_' and '.' are accepted\n", origin, r->name);
			return false;
		}
	}
	return true;
}

static bool set_string(char *dst, size_t size, const char *value, const char *what, FILE *err)
{
	if (strlen(value) >= size) {
		fprintf(err, "castrelayd: %s '%s' is too long (at most %zu characters)\n", what,
			value, size - 1);
		return false;
	}
	strcpy(dst, value);
	return true;
}

const char *cr_config_cursor_name(enum cr_cursor_mode mode)
{
	return mode == CR_CURSOR_HIDE ? "hide" : (mode == CR_CURSOR_META ? "meta" : "embed");
}

bool cr_config_parse_cursor(const char *s, enum cr_cursor_mode *mode)
{
	if (strcmp(s, "embed") == 0)
		*mode = CR_CURSOR_EMBED;
	else if (strcmp(s, "hide") == 0)
		*mode = CR_CURSOR_HIDE;
	else if (strcmp(s, "meta") == 0)
		*mode = CR_CURSOR_META;
	else
		return false;
	return true;
}

static bool parse_matrix(const char *s, enum cr_color_matrix *m)
{
	if (strcmp(s, "bt709") == 0)
		*m = CR_COLOR_BT709;
	else if (strcmp(s, "bt601") == 0)
		*m = CR_COLOR_BT601;
	else
		return false;
	return true;
}

static bool parse_range(const char *s, bool *full)
{
	if (strcmp(s, "limited") == 0)
		*full = false;
	else if (strcmp(s, "full") == 0)
		*full = true;
	else
		return false;
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
		int n = snprintf(buf + at, len - at, "%s%u,%u,%u,%u", i ? ";" : "", r->x, r->y, r->w,
				 r->h);
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

/* ---- castrelay.conf ------------------------------------------------------------------ */

/* { x = .. y = .. width = .. height = .. } (only width and height unless @with_origin). */
static bool parse_rect_object(struct spa_json *sub, const char *what, bool with_origin,
			      uint32_t v[4], const char *origin, FILE *err)
{
	static const char *const names[] = { "x", "y", "width", "height" };
	char k2[64];
	const char *v2;
	int l2;
	while ((l2 = spa_json_object_next(sub, k2, sizeof(k2), &v2)) > 0) {
		int idx = -1, x;
		for (int i = with_origin ? 0 : 2; i < 4; i++)
			if (strcmp(k2, names[i]) == 0)
				idx = i;
		if (idx < 0) {
			fprintf(err, "castrelayd: %s: %s.%s is not known\n", origin, what, k2);
			return false;
		}
		if (spa_json_parse_int(v2, l2, &x) <= 0 || x < 0 || x > MAX_DIMENSION) {
			fprintf(err, "castrelayd: %s: %s.%s must be an integer 0..%d\n", origin, what,
				k2, MAX_DIMENSION);
			return false;
		}
		v[idx] = (uint32_t)x;
	}
	if (v[2] == 0 || v[3] == 0) {
		fprintf(err, "castrelayd: %s: %s needs width and height > 0\n", origin, what);
		return false;
	}
	return true;
}

static bool parse_relay_object(struct spa_json *obj, struct cr_relay_config *r, const char *origin,
			       FILE *err)
{
	char key[64], str[CR_CONFIG_TARGET_MAX];
	const char *val;
	int len;
	while ((len = spa_json_object_next(obj, key, sizeof(key), &val)) > 0) {
		struct spa_json sub;
		if (strcmp(key, "cursor") == 0 || strcmp(key, "color.matrix") == 0 ||
		    strcmp(key, "color.range") == 0) {
			bool ok = spa_json_parse_stringn(val, len, str, sizeof(str)) > 0;
			if (ok && key[0] == 'c' && key[1] == 'u')
				ok = cr_config_parse_cursor(str, &r->settings.cursor);
			else if (ok && strcmp(key, "color.matrix") == 0)
				ok = parse_matrix(str, &r->matrix);
			else if (ok)
				ok = parse_range(str, &r->full_range);
			if (!ok) {
				fprintf(err, "castrelayd: %s: %s must be one of %s\n", origin, key,
					key[1] == 'u' ? "\"embed\", \"hide\", \"meta\""
						      : (strcmp(key, "color.matrix") == 0
								 ? "\"bt601\", \"bt709\""
								 : "\"limited\", \"full\""));
				return false;
			}
		} else if (strcmp(key, "fps") == 0 || strcmp(key, "pixelate") == 0) {
			int x;
			int max = key[0] == 'f' ? 1000 : 256;
			if (spa_json_parse_int(val, len, &x) <= 0 || x < 0 || x > max) {
				fprintf(err, "castrelayd: %s: %s must be an integer 0..%d\n", origin,
					key, max);
				return false;
			}
			if (key[0] == 'f')
				r->settings.fps = (uint32_t)x;
			else
				r->settings.pixelate = (uint32_t)x;
		} else if (strcmp(key, "camera") == 0) {
			if (spa_json_parse_bool(val, len, &r->camera) <= 0) {
				fprintf(err, "castrelayd: %s: camera must be true or false\n", origin);
				return false;
			}
		} else if (strcmp(key, "redact") == 0 && spa_json_is_array(val, len)) {
			struct spa_json arr, one;
			spa_json_enter(obj, &arr);
			while (spa_json_enter_object(&arr, &one) > 0) {
				if (r->settings.n_redact == CR_PIPELINE_MAX_REDACT) {
					fprintf(err, "castrelayd: %s: more than %d redact rectangles\n",
						origin, CR_PIPELINE_MAX_REDACT);
					return false;
				}
				uint32_t v[4] = { 0 };
				if (!parse_rect_object(&one, "redact", true, v, origin, err))
					return false;
				r->settings.redact[r->settings.n_redact++] =
					(struct cr_rect){ v[0], v[1], v[2], v[3] };
			}
		} else if (strcmp(key, "name") == 0 || strcmp(key, "format") == 0) {
			if (spa_json_parse_stringn(val, len, str, sizeof(str)) <= 0) {
				fprintf(err, "castrelayd: %s: '%s' must be a string\n", origin, key);
				return false;
			}
			if (key[0] == 'n') {
				if (!set_string(r->name, sizeof(r->name), str, "name", err))
					return false;
			} else if (!(r->format = cr_format_info_from_name(str))) {
				fprintf(err, "castrelayd: %s: format '%s' is not one of %s\n", origin,
					str, cr_format_names());
				return false;
			}
		} else if (strcmp(key, "source") == 0 && spa_json_is_object(val, len)) {
			spa_json_enter(obj, &sub);
			char k2[64];
			const char *v2;
			int l2;
			while ((l2 = spa_json_object_next(&sub, k2, sizeof(k2), &v2)) > 0) {
				if (strcmp(k2, "target") != 0) {
					fprintf(err, "castrelayd: %s: source.%s is not known (only "
						     "source.target for now)\n", origin, k2);
					return false;
				}
				if (spa_json_parse_stringn(v2, l2, r->source, sizeof(r->source)) <= 0) {
					fprintf(err, "castrelayd: %s: source.target must be a string\n",
						origin);
					return false;
				}
			}
		} else if ((strcmp(key, "crop") == 0 || strcmp(key, "scale") == 0) &&
			   spa_json_is_object(val, len)) {
			bool crop = key[0] == 'c';
			uint32_t v[4] = { 0 };
			spa_json_enter(obj, &sub);
			if (!parse_rect_object(&sub, key, crop, v, origin, err))
				return false;
			if (crop) {
				r->settings.has_crop = true;
				r->settings.crop = (struct cr_rect){ v[0], v[1], v[2], v[3] };
			} else {
				r->settings.scale_w = v[2];
				r->settings.scale_h = v[3];
			}
		} else {
			fprintf(err, "castrelayd: %s: relay key '%s' is not known or has the wrong "
				     "type (name, source = { target }, crop = { x y width height }, "
				     "scale = { width height }, format, color.matrix, color.range, "
				     "redact = [ { x y width height } ], pixelate, cursor, fps, "
				     "camera)\n", origin, key);
			return false;
		}
	}
	return true;
}

bool cr_config_parse_text(struct cr_config *cfg, const char *text, const char *origin, FILE *err)
{
	struct spa_json top;
	char key[64];
	const char *val;
	int len;
	if (spa_json_begin_object_relax(&top, text, strlen(text)) <= 0) {
		fprintf(err, "castrelayd: %s: not a SPA-JSON object\n", origin);
		return false;
	}
	while ((len = spa_json_object_next(&top, key, sizeof(key), &val)) > 0) {
		if (strcmp(key, "vulkan.device") == 0) {
			if (spa_json_parse_stringn(val, len, cfg->vulkan_device,
						   sizeof(cfg->vulkan_device)) <= 0) {
				fprintf(err, "castrelayd: %s: vulkan.device must be a string\n",
					origin);
				return false;
			}
			continue;
		}
		if (strcmp(key, "drm.device") == 0) {
			if (spa_json_parse_stringn(val, len, cfg->drm_device,
						   sizeof(cfg->drm_device)) <= 0) {
				fprintf(err, "castrelayd: %s: drm.device must be a string\n", origin);
				return false;
			}
			continue;
		}
		if (strcmp(key, "castrelay.relays") != 0 || !spa_json_is_array(val, len)) {
			fprintf(err, "castrelayd: %s: unknown top-level key '%s' (expected "
				     "castrelay.relays = [ ... ], vulkan.device or drm.device)\n",
				origin, key);
			return false;
		}
		struct spa_json arr, obj;
		spa_json_enter(&top, &arr);
		while (spa_json_enter_object(&arr, &obj) > 0) {
			if (cfg->n_relays == CR_CONFIG_MAX_RELAYS) {
				fprintf(err, "castrelayd: %s: more than %d relays\n", origin,
					CR_CONFIG_MAX_RELAYS);
				return false;
			}
			struct cr_relay_config *r = &cfg->relays[cfg->n_relays];
			cr_config_relay_init(r);
			if (!parse_relay_object(&obj, r, origin, err) ||
			    !cr_config_check_relay(r, origin, err))
				return false;
			cfg->n_relays++;
		}
	}
	if (spa_json_get_error(&top, text, NULL)) {
		fprintf(err, "castrelayd: %s: SPA-JSON syntax error\n", origin);
		return false;
	}
	return true;
}

static bool parse_file(struct cr_config *cfg, const char *path, FILE *err)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		fprintf(err, "castrelayd: cannot read config file '%s': %s\n", path, strerror(errno));
		return false;
	}
	char *text = NULL;
	size_t cap = 0, len = 0;
	bool ok = true;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *t = realloc(text, cap);
			if (!t) {
				ok = false;
				break;
			}
			text = t;
		}
		size_t n = fread(text + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	if (ok) {
		text[len] = '\0';
		ok = cr_config_parse_text(cfg, text, path, err);
	}
	free(text);
	return ok;
}

/* ---- command line ---------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: castrelayd [OPTIONS]\n"
		"Relays a PipeWire video source through Vulkan compute passes to a new node.\n\n"
		"  -c, --config FILE       read relays from FILE (SPA-JSON, see castrelay.conf(5))\n"
		"      --check-config      parse the configuration, print it and exit\n"
		"  -v, --verbose           more log output (repeat for debug)\n"
		"  -V, --version           print the version and exit\n"
		"  -h, --help              this text\n"
		"One relay from the command line:\n"
		"  -s, --source TARGET     node.name or object.serial of the video source\n"
		"  -n, --name NAME         output node castrelay.NAME (default: relay)\n"
		"      --crop X,Y,W,H      crop rectangle in source pixels\n"
		"      --scale WxH         output size (1..16384; default: the cropped size)\n"
		"      --format FMT        output format: %s (default BGRx)\n"
		"      --color-matrix M    YUV outputs: bt709 (default) or bt601\n"
		"      --color-range R     YUV outputs: limited (default) or full\n"
		"      --redact X,Y,W,H    black out a rectangle in source pixels (repeatable, 16)\n"
		"      --pixelate N        pixelate redactions in N-pixel blocks instead\n"
		"      --cursor MODE       embed (default), hide or meta (SPA_META_Cursor)\n"
		"      --fps N             output frame-rate cap (default: none)\n"
		"      --camera            publish as a camera (media.role=Camera)\n"
		"      --vulkan-device DEV Vulkan device index or part of its name\n"
		"      --drm-device PATH   DRM node for explicit sync (default: the first render\n"
		"                          node with timeline syncobjs; none: explicit sync off)\n"
		"      --no-dmabuf         accept shared-memory input only\n",
		cr_format_names());
}

enum cr_config_result cr_config_parse_args(struct cr_config *cfg, int argc, char **argv,
					   FILE *out, FILE *err)
{
	enum {
		OPT_CHECK = 256, OPT_CROP, OPT_SCALE, OPT_FORMAT, OPT_VKDEV, OPT_NO_DMABUF,
		OPT_MATRIX, OPT_RANGE, OPT_REDACT, OPT_PIXELATE, OPT_CURSOR, OPT_FPS, OPT_CAMERA,
		OPT_DRMDEV,
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
		{ NULL, 0, NULL, 0 },
	};
	struct cr_relay_config cli;
	cr_config_relay_init(&cli);
	strcpy(cli.name, "relay");
	bool have_cli = false, dmabuf = true;
	const char *config_file = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:vVhs:n:", options, NULL)) != -1) {
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
			if (!set_string(cli.source, sizeof(cli.source), optarg, "--source", err))
				return CR_CONFIG_USAGE;
			cr_config_set_source(&cli);
			have_cli = true;
			break;
		case 'n':
			if (!set_string(cli.name, sizeof(cli.name), optarg, "--name", err))
				return CR_CONFIG_USAGE;
			have_cli = true;
			break;
		case OPT_CROP:
			if (!cr_config_parse_rect(optarg, &cli.settings.crop)) {
				fprintf(err, "castrelayd: --crop '%s': expected X,Y,W,H with W and H "
					     "in 1..%d\n", optarg, MAX_DIMENSION);
				return CR_CONFIG_USAGE;
			}
			cli.settings.has_crop = true;
			have_cli = true;
			break;
		case OPT_SCALE:
			if (!cr_config_parse_size(optarg, &cli.settings.scale_w,
						  &cli.settings.scale_h)) {
				fprintf(err, "castrelayd: --scale '%s': expected WxH with W and H in "
					     "1..%d\n", optarg, MAX_DIMENSION);
				return CR_CONFIG_USAGE;
			}
			have_cli = true;
			break;
		case OPT_FORMAT:
			if (!(cli.format = cr_format_info_from_name(optarg))) {
				fprintf(err, "castrelayd: --format '%s': expected one of %s\n", optarg,
					cr_format_names());
				return CR_CONFIG_USAGE;
			}
			have_cli = true;
			break;
		case OPT_VKDEV:
			if (!set_string(cfg->vulkan_device, sizeof(cfg->vulkan_device), optarg,
					"--vulkan-device", err))
				return CR_CONFIG_USAGE;
			break;
		case OPT_DRMDEV:
			if (!set_string(cfg->drm_device, sizeof(cfg->drm_device), optarg,
					"--drm-device", err))
				return CR_CONFIG_USAGE;
			break;
		case OPT_NO_DMABUF:
			dmabuf = false;
			break;
		case OPT_MATRIX:
			if (!parse_matrix(optarg, &cli.matrix)) {
				fprintf(err, "castrelayd: --color-matrix '%s': expected bt709 or "
					     "bt601\n", optarg);
				return CR_CONFIG_USAGE;
			}
			have_cli = true;
			break;
		case OPT_RANGE:
			if (!parse_range(optarg, &cli.full_range)) {
				fprintf(err, "castrelayd: --color-range '%s': expected limited or "
					     "full\n", optarg);
				return CR_CONFIG_USAGE;
			}
			have_cli = true;
			break;
		case OPT_REDACT:
			if (cli.settings.n_redact == CR_PIPELINE_MAX_REDACT ||
			    !cr_config_parse_rect(optarg,
						  &cli.settings.redact[cli.settings.n_redact])) {
				fprintf(err, "castrelayd: --redact '%s': expected X,Y,W,H with W and "
					     "H in 1..%d, at most %d times\n", optarg, MAX_DIMENSION,
					CR_PIPELINE_MAX_REDACT);
				return CR_CONFIG_USAGE;
			}
			cli.settings.n_redact++;
			have_cli = true;
			break;
		case OPT_PIXELATE:
			if (!parse_bounded(optarg, 1, 256, &cli.settings.pixelate)) {
				fprintf(err, "castrelayd: --pixelate '%s': expected a block size "
					     "1..256\n", optarg);
				return CR_CONFIG_USAGE;
			}
			have_cli = true;
			break;
		case OPT_CURSOR:
			if (!cr_config_parse_cursor(optarg, &cli.settings.cursor)) {
				fprintf(err, "castrelayd: --cursor '%s': expected embed, hide or "
					     "meta\n", optarg);
				return CR_CONFIG_USAGE;
			}
			have_cli = true;
			break;
		case OPT_FPS:
			if (!parse_bounded(optarg, 1, 1000, &cli.settings.fps)) {
				fprintf(err, "castrelayd: --fps '%s': expected an integer 1..1000\n",
					optarg);
				return CR_CONFIG_USAGE;
			}
			have_cli = true;
			break;
		case OPT_CAMERA:
			cli.camera = true;
			have_cli = true;
			break;
		case ':':
			fprintf(err, "castrelayd: option '%s' needs a value\n", argv[optind - 1]);
			return CR_CONFIG_USAGE;
		default:
			fprintf(err, "castrelayd: unknown option '%s' (see --help)\n",
				argv[optind - 1]);
			return CR_CONFIG_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(err, "castrelayd: unexpected argument '%s' (see --help)\n", argv[optind]);
		return CR_CONFIG_USAGE;
	}
	if (config_file && !parse_file(cfg, config_file, err))
		return CR_CONFIG_USAGE;
	if (have_cli) {
		if (!cr_config_check_relay(&cli, "command line", err))
			return CR_CONFIG_USAGE;
		if (cfg->n_relays == CR_CONFIG_MAX_RELAYS) {
			fprintf(err, "castrelayd: more than %d relays\n", CR_CONFIG_MAX_RELAYS);
			return CR_CONFIG_USAGE;
		}
		cfg->relays[cfg->n_relays++] = cli;
	}
	if (cfg->n_relays == 0) {
		fprintf(err, "castrelayd: nothing to relay: give --source TARGET or -c FILE "
			     "(see --help)\n");
		return CR_CONFIG_USAGE;
	}
	for (unsigned i = 0; i < cfg->n_relays; i++)
		cfg->relays[i].dmabuf = dmabuf;
	for (unsigned i = 0; i < cfg->n_relays; i++)
		for (unsigned j = 0; j < i; j++)
			if (strcmp(cfg->relays[i].name, cfg->relays[j].name) == 0) {
				fprintf(err, "castrelayd: two relays are named '%s'\n",
					cfg->relays[i].name);
				return CR_CONFIG_USAGE;
			}
	return CR_CONFIG_RUN;
}
