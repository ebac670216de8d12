/* SPDX-License-Identifier: MIT */
#include "access.h"

#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spa/utils/json.h>

/* Keys and values longer than these are not property names or values anyone sets. */
#define KEY_MAX 128
#define VALUE_MAX 1024

struct match {
	char *key;
	char *value; /* NULL: the property must be absent; else the text after '~' for a regex */
	bool regex;
	regex_t re;
};

struct rule {
	struct match *matches;
	unsigned n_matches;
};

struct cr_access_rules {
	struct rule *rules;
	unsigned n_rules;
};

__attribute__((format(printf, 4, 5)))
static bool fail(struct cr_access_error *err, const char *at, const char *key, const char *fmt,
		 ...)
{
	va_list ap;
	err->at = at;
	snprintf(err->key, sizeof(err->key), "%s", key);
	va_start(ap, fmt);
	vsnprintf(err->why, sizeof(err->why), fmt, ap);
	va_end(ap);
	return false;
}

static bool syntax_error(struct cr_access_error *err, struct spa_json *iter, const char *text,
			 const char *key)
{
	struct spa_error_location loc = { 0 };
	bool have = spa_json_get_error(iter, text, &loc);
	return fail(err, iter->cur, key, "SPA-JSON syntax error%s%s", have ? ": " : "",
		    have ? loc.reason : "");
}

/* A value as the text spells it, for "(got ...)". */
static const char *spelled(const char *val, int len, char *buf, size_t size)
{
	if (spa_json_is_object(val, len))
		return "an object";
	if (spa_json_is_array(val, len))
		return "an array";
	if (len > 60)
		snprintf(buf, size, "%.56s...", val);
	else
		snprintf(buf, size, "%.*s", len, val);
	return buf;
}

static bool parse_match(struct match *m, const char *key, const char *val, int len,
			const char *path, struct cr_access_error *err)
{
	char buf[VALUE_MAX], shown[72];
	if (spa_json_is_container(val, len))
		return fail(err, val, path, "must be a string, a number, a boolean or null (got "
			    "%s)", spelled(val, len, shown, sizeof(shown)));
	m->key = strdup(key);
	if (!m->key)
		return fail(err, val, path, "out of memory");
	if (spa_json_is_null(val, len))
		return true;
	if (spa_json_parse_stringn(val, len, buf, sizeof(buf)) <= 0)
		return fail(err, val, path, "must be a string of at most %d characters (got %s)",
			    VALUE_MAX - 1, spelled(val, len, shown, sizeof(shown)));
	m->regex = buf[0] == '~';
	m->value = strdup(m->regex ? buf + 1 : buf);
	if (!m->value)
		return fail(err, val, path, "out of memory");
	if (!m->regex)
		return true;
	int r = regcomp(&m->re, m->value, REG_EXTENDED | REG_NOSUB);
	if (r != 0) {
		char why[128];
		regerror(r, &m->re, why, sizeof(why));
		m->regex = false; /* nothing to regfree */
		return fail(err, val, path, "invalid regular expression '%s': %s", m->value, why);
	}
	return true;
}

static bool parse_rule(struct rule *rule, struct spa_json *obj, const char *at, const char *text,
		       unsigned index, struct cr_access_error *err)
{
	char key[KEY_MAX], path[KEY_MAX + 16];
	const char *val;
	int len;
	snprintf(path, sizeof(path), "[%u]", index);
	while ((len = spa_json_object_next(obj, key, sizeof(key), &val)) > 0) {
		snprintf(path, sizeof(path), "[%u].%s", index, key);
		if (key[0] == '\0')
			return fail(err, val, path, "a key must not be empty");
		struct match *grown = realloc(rule->matches,
					      (rule->n_matches + 1) * sizeof(*grown));
		if (!grown)
			return fail(err, val, path, "out of memory");
		rule->matches = grown;
		struct match *m = &rule->matches[rule->n_matches++];
		*m = (struct match){ 0 };
		if (!parse_match(m, key, val, len, path, err))
			return false;
	}
	snprintf(path, sizeof(path), "[%u]", index);
	if (len < 0)
		return syntax_error(err, obj, text, path);
	if (rule->n_matches == 0)
		return fail(err, at, path, "an empty rule would allow every client (leave "
			    "allowed-clients out for that); give KEY = VALUE pairs");
	return true;
}

struct cr_access_rules *cr_access_rules_parse(const char *text, size_t len,
					      struct cr_access_error *err)
{
	struct spa_json top, arr, obj;
	const char *val;
	char shown[72];
	int l;
	*err = (struct cr_access_error){ 0 };
	struct cr_access_rules *rules = calloc(1, sizeof(*rules));
	if (!rules) {
		fail(err, NULL, "", "out of memory");
		return NULL;
	}
	spa_json_init(&top, text, len);
	if ((l = spa_json_next(&top, &val)) <= 0 || !spa_json_is_array(val, l)) {
		if (l < 0)
			syntax_error(err, &top, text, "");
		else
			fail(err, l ? val : text, "", "must be an array of rules [ { KEY = VALUE "
			     "... } ... ] (got %s)", l ? spelled(val, l, shown, sizeof(shown))
						      : "nothing");
		goto destroy;
	}
	spa_json_enter(&top, &arr);
	while ((l = spa_json_next(&arr, &val)) > 0) {
		char path[16];
		snprintf(path, sizeof(path), "[%u]", rules->n_rules);
		if (!spa_json_is_object(val, l)) {
			fail(err, val, path, "must be an object { KEY = VALUE ... } (got %s)",
			     spelled(val, l, shown, sizeof(shown)));
			goto destroy;
		}
		struct rule *grown = realloc(rules->rules, (rules->n_rules + 1) * sizeof(*grown));
		if (!grown) {
			fail(err, val, path, "out of memory");
			goto destroy;
		}
		rules->rules = grown;
		struct rule *rule = &rules->rules[rules->n_rules];
		*rule = (struct rule){ 0 };
		rules->n_rules++;
		spa_json_enter(&arr, &obj);
		if (!parse_rule(rule, &obj, val, text, rules->n_rules - 1, err))
			goto destroy;
	}
	if (l < 0) {
		syntax_error(err, &arr, text, "");
		goto destroy;
	}
	return rules;

destroy:
	cr_access_rules_destroy(rules);
	return NULL;
}

void cr_access_rules_destroy(struct cr_access_rules *rules)
{
	if (!rules)
		return;
	for (unsigned i = 0; i < rules->n_rules; i++) {
		struct rule *rule = &rules->rules[i];
		for (unsigned j = 0; j < rule->n_matches; j++) {
			struct match *m = &rule->matches[j];
			if (m->regex)
				regfree(&m->re);
			free(m->key);
			free(m->value);
		}
		free(rule->matches);
	}
	free(rules->rules);
	free(rules);
}

static bool match_one(const struct match *m, const struct spa_dict *props)
{
	const char *have = props ? spa_dict_lookup(props, m->key) : NULL;
	if (!m->value)
		return have == NULL;
	if (!have)
		return false;
	if (m->regex)
		return regexec(&m->re, have, 0, NULL, 0) == 0;
	return strcmp(have, m->value) == 0;
}

bool cr_access_rules_match(const struct cr_access_rules *rules, const struct spa_dict *props)
{
	for (unsigned i = 0; i < rules->n_rules; i++) {
		const struct rule *rule = &rules->rules[i];
		unsigned j = 0;
		while (j < rule->n_matches && match_one(&rule->matches[j], props))
			j++;
		if (j == rule->n_matches)
			return true;
	}
	return false;
}

/* Appends to @buf at *@at, stopping (silently) when it is full. */
__attribute__((format(printf, 4, 5)))
static void append(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	if (*at >= len)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	*at += n > 0 ? (size_t)n : 0;
}

void cr_access_rules_format(const struct cr_access_rules *rules, char *buf, size_t len)
{
	size_t at = 0;
	if (len == 0)
		return;
	buf[0] = '\0';
	append(buf, len, &at, "[");
	for (unsigned i = 0; i < rules->n_rules; i++) {
		const struct rule *rule = &rules->rules[i];
		append(buf, len, &at, " {");
		for (unsigned j = 0; j < rule->n_matches; j++) {
			const struct match *m = &rule->matches[j];
			char value[2 * VALUE_MAX + 4];
			if (!m->value) {
				append(buf, len, &at, " %s = null", m->key);
				continue;
			}
			/* The '~' goes back inside the quotes, as it was written. */
			char raw[VALUE_MAX + 1];
			snprintf(raw, sizeof(raw), "%s%s", m->regex ? "~" : "", m->value);
			spa_json_encode_string(value, sizeof(value), raw);
			append(buf, len, &at, " %s = %s", m->key, value);
		}
		append(buf, len, &at, " }");
	}
	append(buf, len, &at, " ]");
}

bool cr_access_config_set(struct cr_access_config *cfg, const char *text, size_t len,
			  struct cr_access_error *err)
{
	struct cr_access_rules *rules = cr_access_rules_parse(text, len, err);
	if (!rules)
		return false;
	cr_access_rules_destroy(rules);
	if (len >= sizeof(cfg->text))
		return fail(err, text, "", "at most %zu characters of rules (got %zu)",
			    sizeof(cfg->text) - 1, len);
	memcpy(cfg->text, text, len);
	cfg->text[len] = '\0';
	cfg->set = true;
	return true;
}

void cr_access_config_format(const struct cr_access_config *cfg, char *buf, size_t len)
{
	struct cr_access_error err;
	struct cr_access_rules *rules = NULL;
	if (len)
		buf[0] = '\0';
	if (cfg->set && (rules = cr_access_rules_parse(cfg->text, strlen(cfg->text), &err)))
		cr_access_rules_format(rules, buf, len);
	cr_access_rules_destroy(rules);
}
