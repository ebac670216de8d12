/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <spa/utils/json.h>

#include "cr-config.h"

#define MAX_DIMENSION 16384

void cr_config_init(struct cr_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
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

/* ---- castrelay.conf ------------------------------------------------------------------ */

static bool json_u32(struct spa_json *it, const char *key, uint32_t *v, const char *origin,
		     FILE *err)
{
	int x;
	if (spa_json_get_int(it, &x) <= 0 || x < 0 || x > MAX_DIMENSION) {
		fprintf(err, "castrelayd: %s: '%s' must be an integer 0..%d\n", origin, key,
			MAX_DIMENSION);
		return false;
	}
	*v = (uint32_t)x;
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
		if (strcmp(key, "name") == 0 || strcmp(key, "format") == 0) {
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
			char k2[64];
			const char *v2;
			while (spa_json_object_next(&sub, k2, sizeof(k2), &v2) > 0) {
				static const char *const names[] = { "x", "y", "width", "height" };
				int idx = -1;
				for (int i = crop ? 0 : 2; i < 4; i++)
					if (strcmp(k2, names[i]) == 0)
						idx = i;
				if (idx < 0) {
					fprintf(err, "castrelayd: %s: %s.%s is not known\n", origin,
						key, k2);
					return false;
				}
				struct spa_json one;
				spa_json_init(&one, v2, strlen(v2));
				if (!json_u32(&one, k2, &v[idx], origin, err))
					return false;
			}
			if (v[2] == 0 || v[3] == 0) {
				fprintf(err, "castrelayd: %s: %s needs width and height > 0\n",
					origin, key);
				return false;
			}
			if (crop) {
				r->has_crop = true;
				r->crop = (struct cr_rect){ v[0], v[1], v[2], v[3] };
			} else {
				r->scale_w = v[2];
				r->scale_h = v[3];
			}
		} else {
			fprintf(err, "castrelayd: %s: relay key '%s' is not known or has the wrong "
				     "type (name, source = { target }, crop = { x y width height }, "
				     "scale = { width height }, format)\n", origin, key);
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
		if (strcmp(key, "castrelay.relays") != 0 || !spa_json_is_array(val, len)) {
			fprintf(err, "castrelayd: %s: unknown top-level key '%s' (expected "
				     "castrelay.relays = [ ... ] or vulkan.device)\n", origin, key);
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
			memset(r, 0, sizeof(*r));
			r->format = cr_format_info_from_name("BGRx");
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
		"      --vulkan-device DEV Vulkan device index or part of its name\n"
		"      --no-dmabuf         accept shared-memory input only\n",
		cr_format_names());
}

enum cr_config_result cr_config_parse_args(struct cr_config *cfg, int argc, char **argv,
					   FILE *out, FILE *err)
{
	enum { OPT_CHECK = 256, OPT_CROP, OPT_SCALE, OPT_FORMAT, OPT_VKDEV, OPT_NO_DMABUF };
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
		{ "no-dmabuf", no_argument, NULL, OPT_NO_DMABUF },
		{ NULL, 0, NULL, 0 },
	};
	struct cr_relay_config cli = { .format = cr_format_info_from_name("BGRx") };
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
			have_cli = true;
			break;
		case 'n':
			if (!set_string(cli.name, sizeof(cli.name), optarg, "--name", err))
				return CR_CONFIG_USAGE;
			have_cli = true;
			break;
		case OPT_CROP:
			if (!cr_config_parse_rect(optarg, &cli.crop)) {
				fprintf(err, "castrelayd: --crop '%s': expected X,Y,W,H with W and H "
					     "in 1..%d\n", optarg, MAX_DIMENSION);
				return CR_CONFIG_USAGE;
			}
			cli.has_crop = true;
			have_cli = true;
			break;
		case OPT_SCALE:
			if (!cr_config_parse_size(optarg, &cli.scale_w, &cli.scale_h)) {
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
		case OPT_NO_DMABUF:
			dmabuf = false;
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
