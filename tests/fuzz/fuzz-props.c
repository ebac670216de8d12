/* SPDX-License-Identifier: MIT */
/*
 * Live control: the input is the Props object pod a client sets on the output node
 * (`pw-cli set-param NODE Props '{ params = [ "crop.x" 100 ... ] }'`), as PipeWire hands it to
 * the stream: an object pod whose size fits the message, anything inside. It goes through
 * cr_pw_format_parse_props() into the keys of cr_config_apply_key(), as the relay applies
 * them: each key into a pending copy of the settings, committed only when every key was
 * valid. Accepted: at least one key and all of them valid.
 *
 * Checked: every key and value handed over are NUL-terminated strings inside their bounds
 * (ASan: inside the pod); a rejected key leaves the settings unchanged and says why, naming
 * the key; accepted settings stay in range; and the redaction list survives its text form
 * (cr_config_format_redact() read back by the "redact" key).
 */
#include <string.h>

#include <spa/pod/pod.h>

#include "config.h"
#include "fuzz.h"
#include "pw-format.h"

struct control {
	struct cr_relay_settings settings, pending;
	unsigned keys;
	bool error;
};

static void check_settings(const struct cr_relay_settings *s)
{
	const struct cr_rect *c = &s->crop;
	CR_FUZZ_CHECK(!s->has_crop || (c->w > 0 && c->h > 0));
	CR_FUZZ_CHECK(c->x <= 16384 && c->y <= 16384 && c->w <= 16384 && c->h <= 16384);
	CR_FUZZ_CHECK(s->scale_w <= 16384 && s->scale_h <= 16384);
	CR_FUZZ_CHECK(s->n_redact <= CR_PIPELINE_MAX_REDACT);
	for (uint32_t i = 0; i < s->n_redact; i++)
		CR_FUZZ_CHECK(s->redact[i].w >= 1 && s->redact[i].h >= 1);
	CR_FUZZ_CHECK(s->pixelate <= 256 && s->fps <= 1000);
	CR_FUZZ_CHECK(s->cursor == CR_CURSOR_EMBED || s->cursor == CR_CURSOR_HIDE ||
		      s->cursor == CR_CURSOR_META);
}

static void on_key(void *data, const char *key, const char *value)
{
	struct control *c = data;
	char why[256];
	CR_FUZZ_CHECK(key != NULL && value != NULL && strlen(value) < 512);
	struct cr_relay_settings before;
	memcpy(&before, &c->pending, sizeof(before));
	c->keys++;
	if (!cr_config_apply_key(&c->pending, key, value, why, sizeof(why))) {
		CR_FUZZ_CHECK(memcmp(&before, &c->pending, sizeof(before)) == 0);
		CR_FUZZ_CHECK(why[0] != '\0' && strncmp(why, key, strnlen(key, 64)) == 0);
		c->error = true;
		return;
	}
	check_settings(&c->pending);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cr_fuzz_verdict = CR_FUZZ_REJECTED;
	/* What the protocol guarantees: an object pod, 8-byte aligned, inside the message. */
	if (size < sizeof(struct spa_pod))
		return 0;
	struct spa_pod *pod = malloc(size);
	CR_FUZZ_CHECK(pod != NULL);
	memcpy(pod, data, size);
	if (SPA_POD_SIZE(pod) > size || !spa_pod_is_object(pod)) {
		free(pod);
		return 0;
	}
	struct control c = { .settings = { .cursor = CR_CURSOR_EMBED } };
	c.pending = c.settings;
	int n = cr_pw_format_parse_props(pod, on_key, &c);
	CR_FUZZ_CHECK(n < 0 ? c.keys == 0 : (unsigned)n == c.keys);
	if (n > 0 && !c.error) {
		c.settings = c.pending;
		cr_fuzz_verdict = CR_FUZZ_ACCEPTED;
		char text[1024], why[256];
		struct cr_relay_settings back = c.settings;
		cr_config_format_redact(&c.settings, text, sizeof(text));
		back.n_redact = 0;
		CR_FUZZ_CHECK(cr_config_apply_key(&back, "redact", text, why, sizeof(why)));
		CR_FUZZ_CHECK(back.n_redact == c.settings.n_redact);
		CR_FUZZ_CHECK(memcmp(back.redact, c.settings.redact,
				     sizeof(back.redact[0]) * back.n_redact) == 0);
	}
	free(pod);
	return 0;
}
