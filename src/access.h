/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Who may watch a relay's output: castrelay.allowed-clients rules, matched against the
 * properties of the PipeWire client that owns a consumer node (pw-access.h applies them).
 * Pure: SPA-JSON text and property dictionaries, no connection.
 *
 * Syntax (the match rules of PipeWire's and WirePlumber's configuration files):
 *
 *     [ { application.process.binary = "obs" }
 *       { pipewire.access = "flatpak" application.name = "~^org\\.chromium\\." } ]
 *
 * A client is allowed when one object matches; an object matches when every one of its keys
 * does. A value is compared as text with the client's property of that key; "~REGEX" is a POSIX
 * extended regular expression searched in it (not anchored: use ^ and $); null requires the
 * property to be absent. Numbers and booleans are compared as they are written. An empty array
 * allows nobody; an empty object is refused (it would allow everyone).
 */
#include <stdbool.h>
#include <stddef.h>

#include <spa/utils/dict.h>

/** The longest rule text castrelay.conf or the command line may give. */
#define CR_ACCESS_TEXT_MAX 4096

/** A configured rule set, checked when read (cr_access_config_set()), compiled per connection. */
struct cr_access_config {
	bool set; /**< false: no rule, every client may watch */
	char text[CR_ACCESS_TEXT_MAX]; /**< the SPA-JSON array, as written */
};

/** Why a rule text was refused. */
struct cr_access_error {
	const char *at; /**< where in the text given (NULL: unknown) */
	char key[128];  /**< the offending part, e.g. "[1].application.name" ("" for the whole) */
	char why[256];  /**< what is wrong and what is accepted, naming the value */
};

struct cr_access_rules;

/**
 * Compiles @len bytes of @text, an SPA-JSON array of rule objects (see above). Returns NULL
 * and fills @err on a bad rule (or when out of memory), naming the object and key.
 */
struct cr_access_rules *cr_access_rules_parse(const char *text, size_t len,
					      struct cr_access_error *err);

/** Frees @rules (and their compiled regular expressions). NULL is a no-op. */
void cr_access_rules_destroy(struct cr_access_rules *rules);

/** True when one object of @rules matches every one of its keys in @props (NULL: none). */
bool cr_access_rules_match(const struct cr_access_rules *rules, const struct spa_dict *props);

/**
 * Writes @rules as one line of SPA-JSON (values quoted) into @buf (@len bytes, truncated when
 * short), for --check-config and logs.
 */
void cr_access_rules_format(const struct cr_access_rules *rules, char *buf, size_t len);

/** cr_access_rules_format() of a set @cfg's rules into @buf; "" when @cfg is not set. */
void cr_access_config_format(const struct cr_access_config *cfg, char *buf, size_t len);

/**
 * Checks @len bytes of @text with cr_access_rules_parse() and stores them in @cfg (set).
 * Returns false and fills @err when the rules are bad or longer than CR_ACCESS_TEXT_MAX - 1;
 * @cfg is then unchanged.
 */
bool cr_access_config_set(struct cr_access_config *cfg, const char *text, size_t len,
			  struct cr_access_error *err);
