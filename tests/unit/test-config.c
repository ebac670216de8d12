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
			       "--scale", "150x100", "--format", "RGBA", "-vv", NULL };
	CHECK_EQ_INT(parse(&cfg, args), CR_CONFIG_RUN);
	CHECK_EQ_INT(cfg.n_relays, 1);
	const struct cr_relay_config *r = &cfg.relays[0];
	CHECK_EQ_STR(r->source, "screen");
	CHECK_EQ_STR(r->name, "left");
	CHECK(r->has_crop);
	CHECK_EQ_INT(r->crop.x, 10);
	CHECK_EQ_INT(r->crop.y, 20);
	CHECK_EQ_INT(r->crop.w, 300);
	CHECK_EQ_INT(r->crop.h, 200);
	CHECK_EQ_INT(r->scale_w, 150);
	CHECK_EQ_INT(r->scale_h, 100);
	CHECK_EQ_STR(r->format->name, "RGBA");
	CHECK(r->dmabuf);
	CHECK_EQ_INT(cfg.verbosity, 2);

	const char *defaults[] = { "-s", "42", "--no-dmabuf", NULL };
	CHECK_EQ_INT(parse(&cfg, defaults), CR_CONFIG_RUN);
	CHECK_EQ_STR(cfg.relays[0].name, "relay");
	CHECK_EQ_STR(cfg.relays[0].format->name, "BGRx");
	CHECK(!cfg.relays[0].has_crop);
	CHECK_EQ_INT(cfg.relays[0].scale_w, 0);
	CHECK(!cfg.relays[0].dmabuf);
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
		"castrelay.relays = [\n"
		"  { name = \"left\" source = { target = \"screen\" }\n"
		"    crop = { x = 0 y = 8 width = 960 height = 1080 }\n"
		"    scale = { width = 640 height = 720 } format = \"RGBx\" }\n"
		"  { name = \"thumb\" source = { target = \"58\" } }\n"
		"]\n";
	CHECK_MSG(parse_text(&cfg, text), "parse failed: %s", errbuf);
	CHECK_EQ_STR(cfg.vulkan_device, "llvmpipe");
	CHECK_EQ_INT(cfg.n_relays, 2);
	CHECK_EQ_STR(cfg.relays[0].name, "left");
	CHECK_EQ_STR(cfg.relays[0].source, "screen");
	CHECK_EQ_INT(cfg.relays[0].crop.y, 8);
	CHECK_EQ_INT(cfg.relays[0].crop.h, 1080);
	CHECK_EQ_INT(cfg.relays[0].scale_w, 640);
	CHECK_EQ_STR(cfg.relays[0].format->name, "RGBx");
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

int main(void)
{
	test_cli_ok();
	test_cli_rejections();
	test_file();
	return cr_test_result();
}
