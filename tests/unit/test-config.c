/* SPDX-License-Identifier: MIT */
/* Command line and castrelay.conf parsing: accepted values land in the config, every rejection
 * names the bad value and what is accepted. */
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-args.h"
#include "config.h"
#include "test.h"

static char errbuf[4096];

static enum cr_config_result parse(struct cr_config *cfg, const char *const *args)
{
	return config_parse_args(cfg, args, errbuf, sizeof(errbuf));
}

static void expect_usage(const char *const *args, const char *needle)
{
	struct cr_config cfg;
	memset(errbuf, 0, sizeof(errbuf));
	CHECK_EQ_INT(parse(&cfg, args), CR_CONFIG_USAGE);
	CHECK_MSG(strstr(errbuf, needle) != NULL, "message '%s' lacks '%s'", errbuf, needle);
}

static void test_cli_ok(void)
{
	struct cr_config cfg;
	const char *args[] = { "--source", "screen", "--name", "left", "--crop", "10,20,300,200",
			       "--scale", "150x100", "--format", "RGBA", "-vv", "--redact",
			       "1,2,3,4", "--redact", "5,6,7,8", "--pixelate", "12", "--cursor",
			       "meta", "--fps", "24", "--camera", "--drm-device", "none", NULL };
	CHECK_EQ_INT(parse(&cfg, args), CR_CONFIG_RUN);
	CHECK_EQ_INT(cfg.n_relays, 1);
	const struct cr_relay_config *r = &cfg.relays[0];
	CHECK_EQ_STR(r->source, "screen");
	CHECK_EQ_STR(r->name, "left");
	CHECK(r->settings.has_crop);
	CHECK_EQ_INT(r->settings.crop.x, 10);
	CHECK_EQ_INT(r->settings.crop.y, 20);
	CHECK_EQ_INT(r->settings.crop.w, 300);
	CHECK_EQ_INT(r->settings.crop.h, 200);
	CHECK_EQ_INT(r->settings.scale_w, 150);
	CHECK_EQ_INT(r->settings.scale_h, 100);
	CHECK_EQ_STR(r->format->name, "RGBA");
	CHECK(r->dmabuf);
	CHECK_EQ_STR(cfg.drm_device, "none");
	CHECK_EQ_INT(cfg.verbosity, 2);
	CHECK_EQ_INT(r->settings.n_redact, 2);
	CHECK_EQ_INT(r->settings.redact[1].x, 5);
	CHECK_EQ_INT(r->settings.redact[1].h, 8);
	CHECK_EQ_INT(r->settings.pixelate, 12);
	CHECK_EQ_INT(r->settings.cursor, CR_CURSOR_META);
	CHECK_EQ_INT(r->settings.fps, 24);
	CHECK(r->camera);

	const char *yuv[] = { "-s", "x", "--format", "NV12", "--color-matrix", "bt601",
			      "--color-range", "full", NULL };
	CHECK_EQ_INT(parse(&cfg, yuv), CR_CONFIG_RUN);
	CHECK_EQ_STR(cfg.relays[0].format->name, "NV12");
	CHECK_EQ_INT(cfg.relays[0].matrix, CR_COLOR_BT601);
	CHECK(cfg.relays[0].full_range);

	const char *defaults[] = { "-s", "42", "--no-dmabuf", NULL };
	CHECK_EQ_INT(parse(&cfg, defaults), CR_CONFIG_RUN);
	CHECK_EQ_STR(cfg.relays[0].name, "relay");
	CHECK_EQ_STR(cfg.relays[0].format->name, "BGRx");
	CHECK(!cfg.relays[0].settings.has_crop);
	CHECK_EQ_INT(cfg.relays[0].settings.scale_w, 0);
	CHECK(!cfg.relays[0].dmabuf);
	CHECK_EQ_INT(cfg.relays[0].matrix, CR_COLOR_BT709);
	CHECK(!cfg.relays[0].full_range);
	CHECK_EQ_INT(cfg.relays[0].settings.cursor, CR_CURSOR_EMBED);
	CHECK(!cfg.relays[0].camera);
}

static void test_cli_rejections(void)
{
	expect_usage((const char *[]){ "--source", "s", "--scale", "0x10", NULL }, "'0x10'");
	expect_usage((const char *[]){ "--source", "s", "--scale", "16385x10", NULL }, "1..16384");
	expect_usage((const char *[]){ "--source", "s", "--scale", "10x", NULL }, "'10x'");
	expect_usage((const char *[]){ "--source", "s", "--crop", "1,2,3", NULL }, "'1,2,3'");
	expect_usage((const char *[]){ "--source", "s", "--crop", "1,2,0,4", NULL }, "X,Y,W,H");
	expect_usage((const char *[]){ "--source", "s", "--crop", "-1,2,3,4", NULL }, "'-1,2,3,4'");
	expect_usage((const char *[]){ "--source", "s", "--format", "YUY9", NULL }, "BGRx|RGBx");
	expect_usage((const char *[]){ "--source", "s", "--cursor", "show", NULL }, "'show'");
	expect_usage((const char *[]){ "--source", "s", "--fps", "0", NULL }, "1..1000");
	expect_usage((const char *[]){ "--source", "s", "--pixelate", "300", NULL }, "'300'");
	expect_usage((const char *[]){ "--source", "s", "--color-matrix", "bt2020", NULL },
		     "'bt2020'");
	expect_usage((const char *[]){ "--source", "s", "--redact", "1,1,0,1", NULL },
		     "'1,1,0,1'");
	expect_usage((const char *[]){ "--source", "s", "--name", "a b", NULL }, "'a b'");
	expect_usage((const char *[]){ "--bogus", NULL }, "'--bogus'");
	expect_usage((const char *[]){ "--source", NULL }, "needs a value");
	expect_usage((const char *[]){ NULL }, "nothing to relay");
	expect_usage((const char *[]){ "-c", "/nonexistent/castrelay.conf", NULL },
		     "/nonexistent/castrelay.conf");
}

static bool parse_text(struct cr_config *cfg, const char *text)
{
	cr_config_init(cfg);
	memset(errbuf, 0, sizeof(errbuf));
	FILE *err = fmemopen(errbuf, sizeof(errbuf), "w");
	bool ok = cr_config_parse_text(cfg, text, "test.conf", err);
	fclose(err);
	return ok;
}

static void test_file(void)
{
	struct cr_config cfg;
	const char *text =
		"# comment\n"
		"vulkan.device = \"llvmpipe\"\n"
		"drm.device = \"/dev/dri/renderD129\"\n"
		"castrelay.relays = [\n"
		"  { name = \"left\" source = { target = \"screen\" }\n"
		"    crop = { x = 0 y = 8 width = 960 height = 1080 }\n"
		"    scale = { width = 640 height = 720 } format = \"RGBx\"\n"
		"    redact = [ { x = 1 y = 2 width = 3 height = 4 } ] pixelate = 6\n"
		"    cursor = \"hide\" fps = 30 camera = true }\n"
		"  { name = \"thumb\" source = { target = \"58\" } }\n"
		"]\n";
	CHECK_MSG(parse_text(&cfg, text), "parse failed: %s", errbuf);
	CHECK_EQ_STR(cfg.vulkan_device, "llvmpipe");
	CHECK_EQ_STR(cfg.drm_device, "/dev/dri/renderD129");
	CHECK_EQ_INT(cfg.n_relays, 2);
	CHECK_EQ_STR(cfg.relays[0].name, "left");
	CHECK_EQ_STR(cfg.relays[0].source, "screen");
	CHECK_EQ_INT(cfg.relays[0].settings.crop.y, 8);
	CHECK_EQ_INT(cfg.relays[0].settings.crop.h, 1080);
	CHECK_EQ_INT(cfg.relays[0].settings.scale_w, 640);
	CHECK_EQ_STR(cfg.relays[0].format->name, "RGBx");
	CHECK_EQ_INT(cfg.relays[0].settings.n_redact, 1);
	CHECK_EQ_INT(cfg.relays[0].settings.redact[0].h, 4);
	CHECK_EQ_INT(cfg.relays[0].settings.pixelate, 6);
	CHECK_EQ_INT(cfg.relays[0].settings.cursor, CR_CURSOR_HIDE);
	CHECK_EQ_INT(cfg.relays[0].settings.fps, 30);
	CHECK(cfg.relays[0].camera);
	CHECK_EQ_STR(cfg.relays[1].source, "58");
	CHECK_EQ_STR(cfg.relays[1].format->name, "BGRx");

	CHECK(!parse_text(&cfg, "castrelay.relays = [ { name = \"x\" } ]"));
	CHECK_EQ_STR(errbuf, "castrelayd: test.conf:1: relays[0]: relay 'x' needs a source = "
			     "{ target = NODE } or { portal = { ... } }\n");
	CHECK(!parse_text(&cfg, "castrelay.relays = [ { name = \"x\" source = { target = \"s\" } "
				"format = \"NV99\" } ]"));
	CHECK_EQ_STR(errbuf, "castrelayd: test.conf:1: relays[0].format: must be one of "
			     "BGRx|RGBx|BGRA|RGBA|xRGB_210LE|xBGR_210LE|NV12|I420 "
			     "(got \"NV99\")\n");
	CHECK(!parse_text(&cfg, "castrelay.relays = [ { name = \"x\" source = { target = \"s\" } "
				"scale = { width = 0 height = 4 } } ]"));
	CHECK_EQ_STR(errbuf, "castrelayd: test.conf:1: relays[0].scale.width: must be an integer "
			     "1..16384 (got 0)\n");
	CHECK(!parse_text(&cfg, "castrelay.relays = [ { name = \"x\" source = { target = \"s\" } "
				"colour = 3 } ]"));
	CHECK_MSG(strstr(errbuf, "test.conf:1: relays[0].colour: unknown key (name, source, ") !=
		  NULL, "%s", errbuf);
	CHECK(!parse_text(&cfg, "relays = [ ]"));
	CHECK_EQ_STR(errbuf, "castrelayd: test.conf:1: relays: unknown top-level key "
			     "(castrelay.relays, vulkan.device, drm.device, "
			     "castrelay.allowed-clients)\n");
}

/* Errors name the file, the line of the bad value, the key as a path, the value and what is
 * accepted. */
static void test_file_errors(void)
{
	struct cr_config cfg;
	static const struct {
		const char *text, *message;
	} cases[] = {
		{ "castrelay.relays = [\n"
		  "  { name = a source = { target = s } }\n"
		  "  { name = b source = { target = s }\n"
		  "    crop = { x = 0 y = 0\n"
		  "             width = -3 height = 10 } }\n"
		  "]\n",
		  "test.conf:5: relays[1].crop.width: must be an integer 1..16384 (got -3)" },
		{ "\n\ncastrelay.relays = [ { name = a source = { target = s }\n"
		  "  fps = 2.5 } ]",
		  "test.conf:4: relays[0].fps: must be an integer 0..1000 (got 2.5)" },
		{ "castrelay.relays = [ { name = a source = { target = s }\n"
		  "  crop = { width = 4 } } ]",
		  "test.conf:2: relays[0].crop: needs width and height" },
		{ "castrelay.relays = [ { name = \"a b\" source = { target = s } } ]",
		  "relays[0].name: only letters, digits, '-', '_' and '.' are accepted "
		  "(got \"a b\")" },
		{ "castrelay.relays = [\n{ name = a source = { target = s } }\n"
		  "{ name = a source = { target = t } } ]",
		  "test.conf:3: relays[1]: relay name 'a' is used twice (first on line 2)" },
		{ "castrelay.relays = [ { name = a\n"
		  " source = { portal = { types = [ monitor screen ] } } } ]",
		  "test.conf:2: relays[0].source.portal.types: must be \"monitor\" or \"window\" "
		  "(got screen)" },
		{ "castrelay.relays = [ { name = a source = { portal = { types = [ ] } } } ]",
		  "relays[0].source.portal.types: needs at least one of \"monitor\" or "
		  "\"window\"" },
		{ "castrelay.relays = [ { name = a source = { portal = { cursor = shown } } } ]",
		  "relays[0].source.portal.cursor: must be \"embedded\", \"metadata\" or "
		  "\"hidden\" (got shown)" },
		{ "castrelay.relays = [ { name = a source = { portal = { persist = 1 } } } ]",
		  "relays[0].source.portal.persist: must be true or false (got 1)" },
		{ "castrelay.relays = [ { name = a source = { target = s portal = { } } } ]",
		  "relays[0].source: takes target or portal, not both" },
		{ "castrelay.relays = [ { name = a source = { } } ]",
		  "relays[0].source: needs target = NODE or portal = { ... }" },
		{ "castrelay.relays = [ { name = a source = { target = s } lost = \"grey\" } ]",
		  "relays[0].lost: must be \"nothing\" or \"black\" (got \"grey\")" },
		{ "castrelay.relays = [ { name = a source = { target = s } crop = 3 } ]",
		  "relays[0].crop: must be an object { x = X y = Y width = W height = H } "
		  "(got 3)" },
		{ "vulkan.device = [ 1 ]", "test.conf:1: vulkan.device: must be a string (got an "
					   "array)" },
		{ "castrelay.relays = [\n { name = a source = { target = s } ]",
		  "test.conf:2: SPA-JSON syntax error: " },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(!parse_text(&cfg, cases[i].text));
		CHECK_MSG(strstr(errbuf, cases[i].message) != NULL, "'%s' lacks '%s'", errbuf,
			  cases[i].message);
	}
	CHECK_MSG(parse_text(&cfg, "# only a comment\n"), "%s", errbuf);
	CHECK_MSG(parse_text(&cfg, ""), "%s", errbuf);
	CHECK_EQ_INT(cfg.n_relays, 0);
}

/* source = { portal = { ... } } and lost fill cr_portal_source and cr_lost_mode. */
static void test_file_portal(void)
{
	struct cr_config cfg;
	const char *text =
		"castrelay.relays = [\n"
		"  { name = p source = { portal = { types = [ monitor window ] cursor = metadata\n"
		"                                    persist = false } } lost = black }\n"
		"  { name = d source = { portal = { } } }\n"
		"  { name = n source = { target = screen } lost = nothing }\n"
		"]\n";
	CHECK_MSG(parse_text(&cfg, text), "%s", errbuf);
	CHECK_EQ_INT(cfg.n_relays, 3);
	const struct cr_relay_config *p = &cfg.relays[0], *d = &cfg.relays[1], *n = &cfg.relays[2];
	CHECK_EQ_INT(p->source_kind, CR_SOURCE_PORTAL);
	CHECK_EQ_STR(p->source, "portal");
	CHECK_EQ_INT(p->portal.types, CR_PORTAL_TYPE_MONITOR | CR_PORTAL_TYPE_WINDOW);
	CHECK_EQ_INT(p->portal.cursor_mode, CR_PORTAL_CURSOR_METADATA);
	CHECK(!p->portal.persist);
	CHECK_EQ_INT(p->lost, CR_LOST_BLACK);
	CHECK_EQ_INT(d->source_kind, CR_SOURCE_PORTAL);
	CHECK_EQ_INT(d->portal.types, CR_PORTAL_TYPE_MONITOR);
	CHECK_EQ_INT(d->portal.cursor_mode, CR_PORTAL_CURSOR_EMBEDDED);
	CHECK(d->portal.persist);
	CHECK_EQ_INT(d->lost, CR_LOST_NOTHING);
	CHECK_EQ_INT(n->source_kind, CR_SOURCE_TARGET);
	CHECK_EQ_STR(n->source, "screen");

	char types[64];
	cr_config_format_portal_types(p->portal.types, types, sizeof(types));
	CHECK_EQ_STR(types, "monitor,window");
	CHECK_EQ_STR(cr_config_portal_cursor_name(p->portal.cursor_mode), "metadata");
	CHECK_EQ_STR(cr_config_lost_name(p->lost), "black");
}

/* --source portal with --portal-types, --portal-cursor, --no-persist; --on-lost for any. */
static void test_cli_portal(void)
{
	struct cr_config cfg;
	const char *args[] = { "--source", "portal", "--portal-types", "window,monitor",
			       "--portal-cursor", "hidden", "--no-persist", "--on-lost", "black",
			       NULL };
	CHECK_EQ_INT(parse(&cfg, args), CR_CONFIG_RUN);
	const struct cr_relay_config *r = &cfg.relays[0];
	CHECK_EQ_INT(r->source_kind, CR_SOURCE_PORTAL);
	CHECK_EQ_INT(r->portal.types, CR_PORTAL_TYPE_MONITOR | CR_PORTAL_TYPE_WINDOW);
	CHECK_EQ_INT(r->portal.cursor_mode, CR_PORTAL_CURSOR_HIDDEN);
	CHECK(!r->portal.persist);
	CHECK_EQ_INT(r->lost, CR_LOST_BLACK);

	const char *defaults[] = { "--source", "portal", NULL };
	CHECK_EQ_INT(parse(&cfg, defaults), CR_CONFIG_RUN);
	CHECK_EQ_INT(cfg.relays[0].portal.types, CR_PORTAL_TYPE_MONITOR);
	CHECK_EQ_INT(cfg.relays[0].portal.cursor_mode, CR_PORTAL_CURSOR_EMBEDDED);
	CHECK(cfg.relays[0].portal.persist);
	CHECK_EQ_INT(cfg.relays[0].lost, CR_LOST_NOTHING);

	expect_usage((const char *[]){ "-s", "portal", "--portal-types", "monitor,screen", NULL },
		     "--portal-types: expected monitor, window or monitor,window (got "
		     "'monitor,screen')");
	expect_usage((const char *[]){ "-s", "portal", "--portal-types", ",", NULL }, "(got ',')");
	expect_usage((const char *[]){ "-s", "portal", "--portal-cursor", "embed", NULL },
		     "--portal-cursor: expected embedded, metadata or hidden (got 'embed')");
	expect_usage((const char *[]){ "-s", "x", "--on-lost", "grey", NULL },
		     "--on-lost: expected nothing or black (got 'grey')");
	expect_usage((const char *[]){ "-s", "screen", "--no-persist", NULL },
		     "--no-persist: only with --source portal");
}

/* Live control keys: valid ones change a copy, invalid ones leave everything as it was. */
static void test_apply_key(void)
{
	struct cr_relay_settings s = { 0 };
	char why[256];
	CHECK(cr_config_apply_key(&s, "crop.x", "100", why, sizeof(why)));
	CHECK(cr_config_apply_key(&s, "crop.width", "640", why, sizeof(why)));
	CHECK(!s.has_crop); /* height still 0 */
	CHECK(cr_config_apply_key(&s, "crop.height", "360", why, sizeof(why)));
	CHECK(s.has_crop);
	CHECK_EQ_INT(s.crop.x, 100);
	CHECK(cr_config_apply_key(&s, "scale.width", "320", why, sizeof(why)));
	CHECK(cr_config_apply_key(&s, "scale.height", "180", why, sizeof(why)));
	CHECK_EQ_INT(s.scale_w, 320);
	CHECK(cr_config_apply_key(&s, "redact", "1,2,3,4;10,20,30,40", why, sizeof(why)));
	CHECK_EQ_INT(s.n_redact, 2);
	CHECK_EQ_INT(s.redact[1].w, 30);
	char text[128];
	cr_config_format_redact(&s, text, sizeof(text));
	CHECK_EQ_STR(text, "1,2,3,4;10,20,30,40");
	CHECK(cr_config_apply_key(&s, "cursor", "hide", why, sizeof(why)));
	CHECK_EQ_INT(s.cursor, CR_CURSOR_HIDE);
	CHECK(cr_config_apply_key(&s, "fps", "15", why, sizeof(why)));
	CHECK_EQ_INT(s.fps, 15);

	struct cr_relay_settings before = s;
	CHECK(!cr_config_apply_key(&s, "crop.x", "-5", why, sizeof(why)));
	CHECK_MSG(strstr(why, "crop.x") && strstr(why, "'-5'"), "%s", why);
	CHECK(!cr_config_apply_key(&s, "redact", "1,2,3", why, sizeof(why)));
	CHECK_MSG(strstr(why, "redact") && strstr(why, "'1,2,3'"), "%s", why);
	CHECK(!cr_config_apply_key(&s, "cursor", "sometimes", why, sizeof(why)));
	CHECK_MSG(strstr(why, "'sometimes'") != NULL, "%s", why);
	CHECK(!cr_config_apply_key(&s, "fps", "2000", why, sizeof(why)));
	CHECK(!cr_config_apply_key(&s, "zoom", "2", why, sizeof(why)));
	CHECK_MSG(strstr(why, "zoom: unknown key") != NULL, "%s", why);
	CHECK_EQ_MEM(&s, &before, sizeof(s));
	CHECK(cr_config_apply_key(&s, "redact", "", why, sizeof(why)));
	CHECK_EQ_INT(s.n_redact, 0);
}

/* ---- the search of castrelay.conf and castrelay.conf.d ---------------------------------- */

static char tree[64];

/* Writes @text to @tree/@rel, creating the directories on the way. */
static void put(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	for (char *p = path + strlen(tree) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0700);
		*p = '/';
	}
	FILE *f = fopen(path, "w");
	if (!CHECK_MSG(f != NULL, "cannot write %s", path))
		return;
	fputs(text, f);
	fclose(f);
}

static const char *at(const char *rel)
{
	static char path[4][512];
	static unsigned next;
	char *p = path[next++ % 4];
	snprintf(p, sizeof(path[0]), "%s/%s", tree, rel);
	return p;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

#define RELAY(name, target) \
	"castrelay.relays = [ { name = " name " source = { target = " target " } } ]\n"

static void test_search(void)
{
	struct cr_config cfg;
	snprintf(tree, sizeof(tree), "/tmp/castrelay-test-config.XXXXXX");
	if (!CHECK(mkdtemp(tree) != NULL))
		return;
	setenv("XDG_CONFIG_HOME", at("home"), 1);
	/* Relative and empty entries are ignored (XDG base directory specification). */
	char dirs[256];
	snprintf(dirs, sizeof(dirs), "%s/sys1:relative/ignored::%s/sys2", tree, tree);
	setenv("XDG_CONFIG_DIRS", dirs, 1);

	/* Nothing anywhere: the error names the directories searched, in order. */
	expect_usage((const char *[]){ NULL }, "nothing to relay");
	char want[512];
	snprintf(want, sizeof(want), "in %s/home/castrelay, %s/sys1/castrelay, %s/sys2/castrelay "
		 "(see castrelay.conf(5))", tree, tree, tree);
	CHECK_MSG(strstr(errbuf, want) != NULL, "'%s' lacks '%s'", errbuf, want);

	/* castrelay.conf: the first of XDG_CONFIG_DIRS that has one (sys2's is not read). */
	put("sys1/castrelay/castrelay.conf", "vulkan.device = sys1\n"
		RELAY("a", "from-sys1") RELAY("z", "z"));
	put("sys2/castrelay/castrelay.conf", "vulkan.device = sys2\n" RELAY("q", "q"));
	/* conf.d: byte order of the names over all directories; the name in the most specific
	 * directory wins; neither "README" nor ".hidden.conf" is read. */
	put("sys2/castrelay/castrelay.conf.d/10-a.conf", RELAY("a", "from-10-a"));
	put("sys1/castrelay/castrelay.conf.d/20-b.conf", RELAY("b", "from-sys1-20-b"));
	put("home/castrelay/castrelay.conf.d/20-b.conf", RELAY("b", "from-home-20-b"));
	put("sys2/castrelay/castrelay.conf.d/30-x.conf", "drm.device = none\n");
	put("home/castrelay/castrelay.conf.d/5-c.conf", "vulkan.device = c\n" RELAY("c", "c"));
	put("home/castrelay/castrelay.conf.d/README", "not a config file");
	put("home/castrelay/castrelay.conf.d/.hidden.conf", "not a config file");
	CHECK_EQ_INT(parse(&cfg, (const char *[]){ NULL }), CR_CONFIG_RUN);
	CHECK_EQ_INT(cfg.n_files, 5);
	CHECK_EQ_STR(cfg.files[0], at("sys1/castrelay/castrelay.conf"));
	CHECK_EQ_STR(cfg.files[1], at("sys2/castrelay/castrelay.conf.d/10-a.conf"));
	CHECK_EQ_STR(cfg.files[2], at("home/castrelay/castrelay.conf.d/20-b.conf"));
	CHECK_EQ_STR(cfg.files[3], at("sys2/castrelay/castrelay.conf.d/30-x.conf"));
	CHECK_EQ_STR(cfg.files[4], at("home/castrelay/castrelay.conf.d/5-c.conf"));
	/* A relay of the same name replaces the earlier one in place; others are appended;
	 * later scalars override earlier ones. */
	CHECK_EQ_INT(cfg.n_relays, 4);
	CHECK_EQ_STR(cfg.relays[0].name, "a");
	CHECK_EQ_STR(cfg.relays[0].source, "from-10-a");
	CHECK_EQ_STR(cfg.relays[1].name, "z");
	CHECK_EQ_STR(cfg.relays[2].name, "b");
	CHECK_EQ_STR(cfg.relays[2].source, "from-home-20-b");
	CHECK_EQ_STR(cfg.relays[3].name, "c");
	CHECK_EQ_STR(cfg.vulkan_device, "c");
	CHECK_EQ_STR(cfg.drm_device, "none");

	/* The command line overrides the files' scalars. */
	CHECK_EQ_INT(parse(&cfg, (const char *[]){ "--vulkan-device", "cli", NULL }),
		     CR_CONFIG_RUN);
	CHECK_EQ_STR(cfg.vulkan_device, "cli");

	/* XDG_CONFIG_HOME's castrelay.conf comes first; an empty conf.d file masks the same
	 * name in the other directories. */
	put("home/castrelay/castrelay.conf", RELAY("h", "h"));
	put("home/castrelay/castrelay.conf.d/30-x.conf", "");
	CHECK_EQ_INT(parse(&cfg, (const char *[]){ NULL }), CR_CONFIG_RUN);
	CHECK_EQ_INT(cfg.n_files, 5);
	CHECK_EQ_STR(cfg.files[0], at("home/castrelay/castrelay.conf"));
	CHECK_EQ_STR(cfg.files[3], at("home/castrelay/castrelay.conf.d/30-x.conf"));
	CHECK_EQ_STR(cfg.drm_device, "");
	CHECK_EQ_STR(cfg.relays[0].name, "h");

	/* -c FILE reads only that file. */
	CHECK_EQ_INT(parse(&cfg, (const char *[]){ "-c", at("sys2/castrelay/castrelay.conf"),
						   NULL }), CR_CONFIG_RUN);
	CHECK_EQ_INT(cfg.n_files, 1);
	CHECK_EQ_INT(cfg.n_relays, 1);
	CHECK_EQ_STR(cfg.relays[0].name, "q");
	CHECK_EQ_STR(cfg.vulkan_device, "sys2");

	/* A command-line relay reads no file: the service's relays are not started twice. */
	CHECK_EQ_INT(parse(&cfg, (const char *[]){ "--source", "s", NULL }), CR_CONFIG_RUN);
	CHECK_EQ_INT(cfg.n_files, 0);
	CHECK_EQ_INT(cfg.n_relays, 1);
	/* ... unless -c FILE asks for one; then the names must differ. */
	expect_usage((const char *[]){ "-c", at("sys2/castrelay/castrelay.conf"), "-s", "s", "-n",
				       "q", NULL }, "--name: a relay of ");

	/* An error in a searched file names that file and its line. */
	put("sys1/castrelay/castrelay.conf.d/40-bad.conf", "\n" RELAY("d", "d") "fps = 3\n");
	expect_usage((const char *[]){ NULL }, "40-bad.conf:3: fps: unknown top-level key");
	remove(at("sys1/castrelay/castrelay.conf.d/40-bad.conf"));

	/* Files without relays. */
	put("home/castrelay/castrelay.conf", "vulkan.device = x\n");
	put("only/castrelay/castrelay.conf", "# nothing\n");
	setenv("XDG_CONFIG_HOME", at("only"), 1);
	setenv("XDG_CONFIG_DIRS", at("none"), 1);
	expect_usage((const char *[]){ NULL }, "nothing to relay: no relays in ");
	CHECK_MSG(strstr(errbuf, at("only/castrelay/castrelay.conf")) != NULL, "%s", errbuf);

	/* Without XDG_CONFIG_HOME: ~/.config; without XDG_CONFIG_DIRS: /etc/xdg. */
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_CONFIG_DIRS");
	setenv("HOME", at("only"), 1);
	expect_usage((const char *[]){ NULL }, "nothing to relay");
	snprintf(want, sizeof(want), "%s/only/.config/castrelay, /etc/xdg/castrelay", tree);
	CHECK_MSG(strstr(errbuf, want) != NULL || strstr(errbuf, "no relays in /etc/xdg"),
		  "'%s' lacks '%s'", errbuf, want);

	nftw(tree, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	test_apply_key();
	test_cli_ok();
	test_cli_rejections();
	test_file();
	test_file_errors();
	test_file_portal();
	test_cli_portal();
	test_search();
	return cr_test_result();
}
