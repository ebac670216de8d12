/* SPDX-License-Identifier: MIT */
/*
 * castrelay.conf: the input is one file's text, parsed as castrelayd parses each file it reads
 * (cr_config_parse_text(): top-level keys, relays with source target or portal, crop, scale,
 * redact, lost, ...), then a second time into the same configuration, as a conf.d drop-in
 * that replaces relays of the same name. Accepted: the first parse succeeded.
 *
 * Checked: an accepted text leaves a configuration that castrelayd can run (at most
 * CR_CONFIG_MAX_RELAYS relays with distinct valid names and a source, every value within the
 * ranges castrelay.conf(5) gives); a rejected one writes exactly one line
 * "castrelayd: fuzz.conf:LINE: ..." naming the file, and the second parse of an accepted text
 * succeeds and keeps the relay count.
 */
#include <ctype.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

#define ORIGIN "fuzz.conf"

static bool name_ok(const char *name, size_t size)
{
	size_t len = strnlen(name, size);
	if (len == 0 || len == size)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("-_.", name[i]))
			return false;
	return true;
}

static void check_rect(const struct cr_rect *r)
{
	CR_FUZZ_CHECK(r->w >= 1 && r->w <= 16384 && r->h >= 1 && r->h <= 16384);
	CR_FUZZ_CHECK(r->x <= 16384 && r->y <= 16384);
}

static void check_relay(const struct cr_relay_config *r)
{
	const struct cr_relay_settings *s = &r->settings;
	CR_FUZZ_CHECK(name_ok(r->name, sizeof(r->name)));
	size_t source_len = strnlen(r->source, sizeof(r->source));
	CR_FUZZ_CHECK(source_len > 0 && source_len < sizeof(r->source));
	CR_FUZZ_CHECK((r->source_kind == CR_SOURCE_PORTAL) == (strcmp(r->source, "portal") == 0));
	CR_FUZZ_CHECK(r->format != NULL);
	CR_FUZZ_CHECK(r->format == cr_format_info_from_name(r->format->name));
	CR_FUZZ_CHECK(r->matrix == CR_COLOR_BT709 || r->matrix == CR_COLOR_BT601);
	CR_FUZZ_CHECK(r->lost == CR_LOST_NOTHING || r->lost == CR_LOST_BLACK);
	const uint32_t types = CR_PORTAL_TYPE_MONITOR | CR_PORTAL_TYPE_WINDOW;
	CR_FUZZ_CHECK(r->portal.types != 0 && (r->portal.types & ~types) == 0);
	CR_FUZZ_CHECK(r->portal.cursor_mode == CR_PORTAL_CURSOR_HIDDEN ||
		      r->portal.cursor_mode == CR_PORTAL_CURSOR_EMBEDDED ||
		      r->portal.cursor_mode == CR_PORTAL_CURSOR_METADATA);
	if (s->has_crop)
		check_rect(&s->crop);
	CR_FUZZ_CHECK((s->scale_w == 0) == (s->scale_h == 0));
	CR_FUZZ_CHECK(s->scale_w <= 16384 && s->scale_h <= 16384);
	CR_FUZZ_CHECK(s->n_redact <= CR_PIPELINE_MAX_REDACT);
	for (uint32_t i = 0; i < s->n_redact; i++)
		check_rect(&s->redact[i]);
	CR_FUZZ_CHECK(s->pixelate <= 256 && s->fps <= 1000);
	CR_FUZZ_CHECK(s->cursor == CR_CURSOR_EMBED || s->cursor == CR_CURSOR_HIDE ||
		      s->cursor == CR_CURSOR_META);
}

static void check_config(const struct cr_config *cfg)
{
	CR_FUZZ_CHECK(cfg->n_relays <= CR_CONFIG_MAX_RELAYS);
	CR_FUZZ_CHECK(strnlen(cfg->vulkan_device, sizeof(cfg->vulkan_device)) <
		      sizeof(cfg->vulkan_device));
	CR_FUZZ_CHECK(strnlen(cfg->drm_device, sizeof(cfg->drm_device)) < sizeof(cfg->drm_device));
	for (unsigned i = 0; i < cfg->n_relays; i++) {
		check_relay(&cfg->relays[i]);
		for (unsigned k = 0; k < i; k++)
			CR_FUZZ_CHECK(strcmp(cfg->relays[i].name, cfg->relays[k].name) != 0);
	}
}

/* Parses @text into @cfg; on failure checks the one message line. */
static bool parse(struct cr_config *cfg, const char *text)
{
	char *msg = NULL;
	size_t msg_len = 0;
	FILE *err = open_memstream(&msg, &msg_len);
	CR_FUZZ_CHECK(err != NULL);
	bool ok = cr_config_parse_text(cfg, text, ORIGIN, err);
	CR_FUZZ_CHECK(fclose(err) == 0);
	if (ok) {
		CR_FUZZ_CHECK(msg_len == 0);
	} else {
		const char *prefix = "castrelayd: " ORIGIN;
		CR_FUZZ_CHECK(strncmp(msg, prefix, strlen(prefix)) == 0);
		CR_FUZZ_CHECK(msg_len > strlen(prefix) + 2 && msg[msg_len - 1] == '\n');
		CR_FUZZ_CHECK(strchr(msg, '\n') == msg + msg_len - 1);
	}
	free(msg);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* As read_file(): the bytes, NUL-terminated (an embedded NUL ends the text). */
	char *text = malloc(size + 1);
	CR_FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	static struct cr_config cfg;
	cr_config_init(&cfg);
	bool ok = parse(&cfg, text);
	cr_fuzz_verdict = ok ? CR_FUZZ_ACCEPTED : CR_FUZZ_REJECTED;
	if (ok) {
		check_config(&cfg);
		unsigned n = cfg.n_relays;
		CR_FUZZ_CHECK(parse(&cfg, text));
		CR_FUZZ_CHECK(cfg.n_relays == n);
		check_config(&cfg);
	}
	free(text);
	return 0;
}
