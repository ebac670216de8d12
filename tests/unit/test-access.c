/* SPDX-License-Identifier: MIT */
/* allowed-clients rules: what matches (all keys of one object, any object, exact, ~regex,
 * null, numbers), what is refused and how the message names it, and how castrelay.conf and
 * --allow-client carry them into the configuration. */
#include <stdlib.h>

#include "access.h"
#include "config-args.h"
#include "config.h"
#include "test.h"

static struct cr_access_rules *parse(const char *text)
{
	struct cr_access_error err;
	struct cr_access_rules *rules = cr_access_rules_parse(text, strlen(text), &err);
	CHECK_MSG(rules != NULL, "'%s' refused: %s: %s", text, err.key, err.why);
	return rules;
}

/* @text is refused; the error names @key, contains @needle and points at @at_text. */
static void expect_refused(const char *text, const char *key, const char *needle,
			   const char *at_text)
{
	struct cr_access_error err;
	struct cr_access_rules *rules = cr_access_rules_parse(text, strlen(text), &err);
	if (!CHECK_MSG(rules == NULL, "'%s' was accepted", text)) {
		cr_access_rules_destroy(rules);
		return;
	}
	CHECK_EQ_STR(err.key, key);
	CHECK_MSG(strstr(err.why, needle) != NULL, "'%s': message '%s' lacks '%s'", text, err.why,
		  needle);
	if (at_text)
		CHECK_MSG(err.at && strncmp(err.at, at_text, strlen(at_text)) == 0,
			  "'%s': error at '%.20s', expected at '%s'", text,
			  err.at ? err.at : "NULL", at_text);
}

static bool matches(const struct cr_access_rules *rules, const char *binary, const char *access,
		    const char *name)
{
	struct spa_dict_item items[3];
	uint32_t n = 0;
	if (binary)
		items[n++] = SPA_DICT_ITEM_INIT("application.process.binary", binary);
	if (access)
		items[n++] = SPA_DICT_ITEM_INIT("pipewire.access", access);
	if (name)
		items[n++] = SPA_DICT_ITEM_INIT("application.name", name);
	struct spa_dict dict = SPA_DICT_INIT(items, n);
	return cr_access_rules_match(rules, &dict);
}

static void test_match(void)
{
	cr_test_log("every key of one object, any object");
	struct cr_access_rules *r = parse("[ { application.process.binary = obs } "
					  "{ pipewire.access = \"flatpak\" "
					  "  application.name = \"~^org\\\\.chromium\\\\.\" } ]");
	if (!r)
		return;
	CHECK(matches(r, "obs", NULL, NULL));
	CHECK(matches(r, "obs", "flatpak", "x"));
	CHECK(!matches(r, "obs-studio", NULL, NULL)); /* exact, not a prefix */
	CHECK(!matches(r, "OBS", NULL, NULL));
	CHECK(matches(r, "chrome", "flatpak", "org.chromium.Chromium"));
	CHECK(!matches(r, "chrome", "unrestricted", "org.chromium.Chromium")); /* one key off */
	CHECK(!matches(r, "chrome", "flatpak", "orgXchromium.Chromium"));       /* \. is a dot */
	CHECK(!matches(r, "chrome", "flatpak", NULL)); /* an absent key does not match */
	CHECK(!matches(r, NULL, NULL, NULL));
	CHECK(!cr_access_rules_match(r, NULL));
	cr_access_rules_destroy(r);

	cr_test_log("regular expressions are searched, not anchored");
	r = parse("[ { application.name = \"~view\" } ]");
	if (r) {
		CHECK(matches(r, NULL, NULL, "other-viewer"));
		CHECK(!matches(r, NULL, NULL, "castrelay-sink"));
		cr_access_rules_destroy(r);
	}

	cr_test_log("null: the property must be absent; numbers compare as written");
	r = parse("[ { pipewire.access = null application.process.binary = 42 } ]");
	if (r) {
		CHECK(matches(r, "42", NULL, NULL));
		CHECK(!matches(r, "42", "unrestricted", NULL));
		CHECK(!matches(r, "042", NULL, NULL));
		cr_access_rules_destroy(r);
	}

	cr_test_log("an empty array allows nobody");
	r = parse("[ ]");
	if (r) {
		CHECK(!matches(r, "obs", "unrestricted", "obs"));
		cr_access_rules_destroy(r);
	}
}

static void test_format(void)
{
	char buf[256];
	struct cr_access_rules *r = parse("[ { a = b c = null } # a comment\n"
					  "  { d = \"~^x\\\\.y$\" } ]");
	if (!r)
		return;
	cr_access_rules_format(r, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "[ { a = \"b\" c = null } { d = \"~^x\\\\.y$\" } ]");
	/* What it writes reads back the same. */
	struct cr_access_rules *again = parse(buf);
	char buf2[256];
	if (again) {
		cr_access_rules_format(again, buf2, sizeof(buf2));
		CHECK_EQ_STR(buf2, buf);
	}
	cr_access_rules_format(r, buf, 8);
	CHECK_EQ_INT(strlen(buf), 7); /* truncated, terminated */
	cr_access_rules_destroy(again);
	cr_access_rules_destroy(r);
}

static void test_refused(void)
{
	expect_refused("{ a = b }", "", "must be an array", "{");
	expect_refused("\"obs\"", "", "must be an array", "\"obs\"");
	expect_refused("[ obs ]", "[0]", "must be an object", "obs");
	expect_refused("[ { a = b } { } ]", "[1]", "empty rule would allow every client", "{ }");
	expect_refused("[ { a = b } { c = [ 1 ] } ]", "[1].c", "(got an array)", "[ 1 ]");
	expect_refused("[ { a = { x = 1 } } ]", "[0].a", "(got an object)", "{ x");
	expect_refused("[ { application.name = \"~(\" } ]", "[0].application.name",
		       "invalid regular expression '('", "\"~(\"");
	expect_refused("[ { a = b ", "[0]", "SPA-JSON syntax error", NULL);
	expect_refused("", "", "(got nothing)", NULL);
}

/* castrelay.conf: the error names file, line and the whole key path. */
static void test_config_file(void)
{
	static struct cr_config cfg;
	char err[1024] = "";
	cr_test_log("castrelay.conf keys");
	cr_config_init(&cfg);
	FILE *f = fmemopen(err, sizeof(err), "w");
	bool ok = cr_config_parse_text(&cfg,
		"castrelay.allowed-clients = [ { application.process.binary = obs } ]\n"
		"castrelay.relays = [\n"
		"  { name = a source = { target = x } }\n"
		"  { name = b source = { target = y }\n"
		"    allowed-clients = [ ] }\n"
		"]\n", "test.conf", f);
	fclose(f);
	CHECK_MSG(ok, "refused: %s", err);
	CHECK(cfg.allowed_clients.set);
	CHECK(!cfg.relays[0].allowed_clients.set);
	CHECK(cfg.relays[1].allowed_clients.set);
	CHECK_EQ_STR(cfg.relays[1].allowed_clients.text, "[ ]");
	char shown[256];
	cr_access_config_format(&cfg.allowed_clients, shown, sizeof(shown));
	CHECK_EQ_STR(shown, "[ { application.process.binary = \"obs\" } ]");

	cr_config_init(&cfg);
	memset(err, 0, sizeof(err));
	f = fmemopen(err, sizeof(err), "w");
	ok = cr_config_parse_text(&cfg,
		"castrelay.relays = [\n"
		"  { name = a source = { target = x }\n"
		"    allowed-clients = [\n"
		"      { application.name = ok }\n"
		"      { application.name = \"~[\" }\n"
		"    ] }\n"
		"]\n", "bad.conf", f);
	fclose(f);
	CHECK(!ok);
	CHECK_MSG(strstr(err, "castrelayd: bad.conf:5: relays[0].allowed-clients[1]."
			      "application.name: invalid regular expression '['") == err,
		  "message: %s", err);

	cr_config_init(&cfg);
	memset(err, 0, sizeof(err));
	f = fmemopen(err, sizeof(err), "w");
	ok = cr_config_parse_text(&cfg, "castrelay.allowed-clients = \"obs\"\n", "bad.conf", f);
	fclose(f);
	CHECK(!ok);
	CHECK_MSG(strstr(err, "bad.conf:1: castrelay.allowed-clients: must be an array") != NULL,
		  "message: %s", err);
}

static void test_cli(void)
{
	static struct cr_config cfg;
	char err[1024], shown[256];
	cr_test_log("--allow-client");
	const char *args[] = { "--source", "x", "--allow-client", "application.process.binary=obs",
			       "--allow-client", "pipewire.access = flatpak application.name = "
			       "\"~^org\\\\.\"", NULL };
	CHECK_EQ_INT(config_parse_args(&cfg, args, err, sizeof(err)), CR_CONFIG_RUN);
	CHECK(cfg.allowed_clients.set);
	CHECK(!cfg.relays[0].allowed_clients.set);
	cr_access_config_format(&cfg.allowed_clients, shown, sizeof(shown));
	CHECK_EQ_STR(shown, "[ { application.process.binary = \"obs\" } { pipewire.access = "
			    "\"flatpak\" application.name = \"~^org\\\\.\" } ]");

	const char *bad[] = { "--source", "x", "--allow-client", "application.name = \"~(\"",
			      NULL };
	CHECK_EQ_INT(config_parse_args(&cfg, bad, err, sizeof(err)), CR_CONFIG_USAGE);
	CHECK_MSG(strstr(err, "castrelayd: --allow-client: application.name: invalid regular "
			      "expression '('") == err, "message: %s", err);
	const char *empty[] = { "--source", "x", "--allow-client", "", NULL };
	CHECK_EQ_INT(config_parse_args(&cfg, empty, err, sizeof(err)), CR_CONFIG_USAGE);
	CHECK_MSG(strstr(err, "empty rule") != NULL, "message: %s", err);
}

int main(void)
{
	test_match();
	test_format();
	test_refused();
	test_config_file();
	test_cli();
	return cr_test_result();
}
