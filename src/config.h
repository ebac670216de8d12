/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * castrelayd's configuration: the command line and castrelay.conf (SPA-JSON, as PipeWire's own
 * files). Pure parsing: no PipeWire connection, no Vulkan; errors are written to a caller's
 * stream naming the bad value and what is accepted.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "access.h"
#include "core/color.h"
#include "core/dmabuf.h"
#include "core/pipeline.h"

#define CR_CONFIG_MAX_RELAYS 16
#define CR_CONFIG_NAME_MAX 64
#define CR_CONFIG_TARGET_MAX 256
#define CR_CONFIG_MAX_FILES 32  /**< castrelay.conf and castrelay.conf.d files read */
#define CR_CONFIG_PATH_MAX 512

enum cr_cursor_mode {
	CR_CURSOR_EMBED, /**< composite the SPA_META_Cursor bitmap into the picture */
	CR_CURSOR_HIDE,  /**< drop it */
	CR_CURSOR_META,  /**< pass it on as metadata, coordinates mapped to the output */
};

/** What can change while running (live control through Props); the rest is fixed. */
struct cr_relay_settings {
	bool has_crop;
	struct cr_rect crop;       /**< source pixels */
	uint32_t scale_w, scale_h; /**< 0: the (cropped) input size */
	struct cr_rect redact[CR_PIPELINE_MAX_REDACT]; /**< source pixels */
	uint32_t n_redact;
	uint32_t pixelate; /**< 0: fill redactions with black; else the block size */
	enum cr_cursor_mode cursor;
	uint32_t fps; /**< output frame-rate cap; 0: none */
};

/** Where a relay's frames come from. */
enum cr_source_kind {
	CR_SOURCE_TARGET, /**< an existing node: cr_relay_config.source is its name or serial */
	CR_SOURCE_PORTAL, /**< a ScreenCast portal session of our own (source "portal") */
};

/* org.freedesktop.portal.ScreenCast source types and cursor modes (the portal's bit values). */
#define CR_PORTAL_TYPE_MONITOR 1u
#define CR_PORTAL_TYPE_WINDOW 2u
#define CR_PORTAL_CURSOR_HIDDEN 1u
#define CR_PORTAL_CURSOR_EMBEDDED 2u
#define CR_PORTAL_CURSOR_METADATA 4u

/** source = { portal = { types = [ monitor window ] cursor = "embedded" persist = true } } */
struct cr_portal_source {
	uint32_t types;       /**< CR_PORTAL_TYPE_* bits (default: monitor) */
	uint32_t cursor_mode; /**< one CR_PORTAL_CURSOR_* (default: embedded) */
	bool persist;         /**< persist_mode 2 with a stored restore token (default true) */
};

/** What the output sends while the source is lost. */
enum cr_lost_mode {
	CR_LOST_NOTHING, /**< no frames (default): consumers keep the last picture */
	CR_LOST_BLACK,   /**< black frames at the last frame rate */
};

struct cr_relay_config {
	char name[CR_CONFIG_NAME_MAX];     /**< output node is castrelay.<name> */
	/** node.name or object.serial (CR_SOURCE_TARGET), "portal" (CR_SOURCE_PORTAL) */
	char source[CR_CONFIG_TARGET_MAX];
	enum cr_source_kind source_kind;
	struct cr_portal_source portal; /**< CR_SOURCE_PORTAL */
	enum cr_lost_mode lost;         /**< lost = "nothing" | "black", --on-lost */
	const struct cr_format_info *format;
	enum cr_color_matrix matrix; /**< YUV outputs (default BT.709) */
	bool full_range;             /**< YUV outputs (default limited) */
	bool camera;                 /**< media.role=Camera */
	bool dmabuf; /**< offer DMA-BUF input (default true; --no-dmabuf) */
	struct cr_relay_settings settings;
	/** allowed-clients of this relay; when not set, cr_config.allowed_clients applies */
	struct cr_access_config allowed_clients;
};

struct cr_config {
	struct cr_relay_config relays[CR_CONFIG_MAX_RELAYS];
	unsigned n_relays;
	char vulkan_device[128]; /**< "" = automatic; index or part of the name */
	/** DRM node for explicit-sync syncobjs: "" = the first render node with timeline
	 * syncobjs, "none" = explicit sync off. */
	char drm_device[128];
	/** castrelay.allowed-clients, or the --allow-client options (which replace it): for the
	 * relays without allowed-clients of their own. Not set: everyone may watch. */
	struct cr_access_config allowed_clients;
	int verbosity;           /**< number of -v */
	bool check_only;         /**< --check-config */
	/** The files read, in the order they were applied (-c FILE, or the search). */
	char files[CR_CONFIG_MAX_FILES][CR_CONFIG_PATH_MAX];
	unsigned n_files;
};

enum cr_config_result {
	CR_CONFIG_RUN,   /**< parsed, go on */
	CR_CONFIG_EXIT,  /**< --help/--version printed: exit 0 */
	CR_CONFIG_USAGE, /**< bad usage or value, message written: exit 2 */
};

/** Sets the defaults (no relays, automatic device). */
void cr_config_init(struct cr_config *cfg);

/** Sets a relay's defaults (BGRx, BT.709 limited, portal: monitor, embedded cursor, persist). */
void cr_config_relay_init(struct cr_relay_config *r);

/** Sets @r->source_kind from @r->source: "portal" is CR_SOURCE_PORTAL, anything else a node. */
void cr_config_set_source(struct cr_relay_config *r);

/**
 * Parses the command line into @cfg. With -c FILE, reads that file only; without -c and
 * without a command-line relay (--source and its options), reads castrelay.conf from the first
 * of $XDG_CONFIG_HOME/castrelay (default ~/.config/castrelay) and $XDG_CONFIG_DIRS/castrelay
 * (default /etc/xdg/castrelay) that has one, then every castrelay.conf.d/NAME.conf of those
 * directories ordered by NAME, a NAME in a more specific directory hiding the same NAME in the
 * others; each file goes through cr_config_parse_text(). Options override the files'
 * vulkan.device and drm.device. Messages go to @out (help, version) and @err (errors, each
 * naming the file, line and key, or the option, the bad value and what is accepted).
 */
enum cr_config_result cr_config_parse_args(struct cr_config *cfg, int argc, char **argv,
					   FILE *out, FILE *err);

/**
 * Parses SPA-JSON @text (the contents of one castrelay.conf file; @origin names it in
 * messages) and merges it into @cfg: its vulkan.device and drm.device replace earlier values,
 * a relay whose name an earlier text used replaces that relay in place, other relays are
 * appended. A name used twice in @text is an error. Empty text (or only comments) is accepted.
 * Returns false and writes "ORIGIN:LINE: KEY: why (got VALUE)" to @err; @cfg may then hold
 * part of @text.
 */
bool cr_config_parse_text(struct cr_config *cfg, const char *text, const char *origin, FILE *err);

/** Parses "X,Y,W,H" (W, H > 0). */
bool cr_config_parse_rect(const char *s, struct cr_rect *r);

/** Parses "WxH" (each 1..16384). */
bool cr_config_parse_size(const char *s, uint32_t *w, uint32_t *h);

/** Validates a command-line relay (a source, name characters); writes the reason to @err. */
bool cr_config_check_relay(const struct cr_relay_config *r, const char *origin, FILE *err);

/** "embed" / "hide" / "meta". */
const char *cr_config_cursor_name(enum cr_cursor_mode mode);

/** Parses "embed|hide|meta". */
bool cr_config_parse_cursor(const char *s, enum cr_cursor_mode *mode);

/**
 * Applies one live-control key (crop.x, crop.y, crop.width, crop.height, scale.width,
 * scale.height, redact, pixelate, cursor, fps) given as text to @s. Returns false and writes
 * "key: why" into @why when the key is unknown or the value invalid; @s is then unchanged.
 * "redact" takes "X,Y,W,H;X,Y,W,H…" (empty: none); crop.width 0 removes the crop; scale 0
 * follows the input.
 */
bool cr_config_apply_key(struct cr_relay_settings *s, const char *key, const char *value,
			 char *why, size_t why_len);

/** Formats the redaction list as "X,Y,W,H;…" (the syntax cr_config_apply_key accepts). */
void cr_config_format_redact(const struct cr_relay_settings *s, char *buf, size_t len);

/** "nothing" / "black". */
const char *cr_config_lost_name(enum cr_lost_mode mode);

/** "embedded" / "metadata" / "hidden" for one CR_PORTAL_CURSOR_* value. */
const char *cr_config_portal_cursor_name(uint32_t cursor_mode);

/** Formats CR_PORTAL_TYPE_* bits as "monitor,window" (the syntax of --portal-types). */
void cr_config_format_portal_types(uint32_t types, char *buf, size_t len);
