/* SPDX-License-Identifier: MIT */
/*
 * Format pods from peers: the input is an object pod (as the protocol delivers it: aligned,
 * inside the message, anything inside), read the way both streams read a Format param:
 * - pw-input, the producer's fixated Format: cr_pw_format_parse() (raw video, a format we
 *   handle, a size, modifier, frame rate, colour);
 * - pw-output, the consumer's Format (a DMA-BUF choice to fixate or one modifier):
 *   cr_pw_format_needs_fixation() and cr_pw_format_modifiers().
 * (EnumFormats are intersected by PipeWire; neither stream parses a peer's EnumFormat.)
 * Accepted: cr_pw_format_parse() took it.
 *
 * Checked: an accepted format is one castrelay handles, with a size and a frame-rate
 * denominator, that maps back to the SPA format it was read from and round-trips through
 * the builders; a rejection says why; modifiers come back once each, at most as many as there
 * is room for, the first one the same whatever the room.
 */
#include <string.h>

#include <spa/param/format-utils.h>
#include <spa/param/video/format-utils.h>

#include "fuzz.h"
#include "pw-format.h"

#define MAX_MODIFIERS 16

static void check_modifiers(const struct spa_pod *pod)
{
	uint64_t mods[MAX_MODIFIERS], first;
	uint32_t n = cr_pw_format_modifiers(pod, mods, MAX_MODIFIERS);
	CR_FUZZ_CHECK(n <= MAX_MODIFIERS);
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t k = 0; k < i; k++)
			CR_FUZZ_CHECK(mods[i] != mods[k]);
	/* pw-output: "one modifier" is what decides DMA-BUF. */
	uint32_t one = cr_pw_format_modifiers(pod, &first, 1);
	CR_FUZZ_CHECK(one == (n > 0 ? 1u : 0u));
	CR_FUZZ_CHECK(one == 0 || first == mods[0]);
	bool fixate = cr_pw_format_needs_fixation(pod);
	CR_FUZZ_CHECK(!fixate || spa_pod_find_prop(pod, NULL, SPA_FORMAT_VIDEO_modifier) != NULL);
}

/* The producer side builds what it read back: the same format parses the same. */
static void check_round_trip(const struct cr_video_format *f)
{
	uint8_t buffer[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	struct spa_pod *pod = cr_pw_format_build_fixed_dmabuf(
		&b, SPA_PARAM_Format, f->info, f->width, f->height, 30, f->matrix, f->full_range,
		&f->modifier, f->has_modifier ? 1 : 0, true);
	CR_FUZZ_CHECK(pod != NULL);
	struct cr_video_format back;
	char why[160];
	CR_FUZZ_CHECK(cr_pw_format_parse(pod, &back, why, sizeof(why)));
	CR_FUZZ_CHECK(back.info == f->info && back.width == f->width && back.height == f->height);
	CR_FUZZ_CHECK(back.has_modifier == f->has_modifier);
	CR_FUZZ_CHECK(!f->has_modifier || back.modifier == f->modifier);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cr_fuzz_verdict = CR_FUZZ_REJECTED;
	if (size < sizeof(struct spa_pod))
		return 0;
	struct spa_pod *pod = malloc(size);
	CR_FUZZ_CHECK(pod != NULL);
	memcpy(pod, data, size);
	if (SPA_POD_SIZE(pod) > size || !spa_pod_is_object(pod)) {
		free(pod);
		return 0;
	}
	struct cr_video_format f;
	char why[160] = "";
	if (cr_pw_format_parse(pod, &f, why, sizeof(why))) {
		cr_fuzz_verdict = CR_FUZZ_ACCEPTED;
		CR_FUZZ_CHECK(f.info != NULL && f.width > 0 && f.height > 0);
		CR_FUZZ_CHECK(f.framerate_denom != 0);
		CR_FUZZ_CHECK(cr_pw_format_from_spa(cr_pw_format_to_spa(f.info)) == f.info);
		check_round_trip(&f);
	} else {
		CR_FUZZ_CHECK(why[0] != '\0' && strnlen(why, sizeof(why)) < sizeof(why));
	}
	check_modifiers(pod);
	free(pod);
	return 0;
}
