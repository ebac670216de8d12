/* SPDX-License-Identifier: MIT */
/* Command line and castrelay.conf parsing: accepted values land in the config, every rejection
 * names the bad value and what is accepted. */
#include <stdlib.h>

#include "config.h"
#include "test.h"

static char errbuf[4096];

static enum cr_config_result parse(struct cr_config *cfg, const char *const *args)
{
	char *argv[32];
	int argc = 0;
	argv[argc++] = (char *)"castrelayd";
	for (; *args; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	cr_config_init(cfg);
	FILE *err = fmemopen(errbuf, sizeof(errbuf), "w");
	FILE *out = fopen("/dev/null", "w");
	enum cr_config_result r = cr_config_parse_args(cfg, argc, argv, out, err);
	fclose(err);
	fclose(out);
	return r;
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
	CHECK_MSG(strstr(errbuf, "no source") != NULL, "%s", errbuf);
	CHECK(!parse_text(&cfg, "castrelay.relays = [ { name = \"x\" source = { target = \"s\" } "
				"format = \"NV99\" } ]"));
	CHECK_MSG(strstr(errbuf, "'NV99'") != NULL, "%s", errbuf);
	CHECK(!parse_text(&cfg, "castrelay.relays = [ { name = \"x\" source = { target = \"s\" } "
				"scale = { width = 0 height = 4 } } ]"));
	CHECK_MSG(strstr(errbuf, "scale") != NULL, "%s", errbuf);
	CHECK(!parse_text(&cfg, "castrelay.relays = [ { name = \"x\" source = { target = \"s\" } "
				"colour = 3 } ]"));
	CHECK_MSG(strstr(errbuf, "'colour'") != NULL, "%s", errbuf);
	CHECK(!parse_text(&cfg, "relays = [ ]"));
	CHECK_MSG(strstr(errbuf, "'relays'") != NULL, "%s", errbuf);
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

int main(void)
{
	test_apply_key();
	test_cli_ok();
	test_cli_rejections();
	test_file();
	return cr_test_result();
}
