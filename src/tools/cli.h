/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Command-line value parsers shared by castrelay-testsrc and castrelay-sink.
 *
 * Every parser takes the program name and the option it parses so that it can print one
 * complete message on stderr naming the bad value and the accepted form, e.g.
 * "castrelay-sink: invalid --frames value '3x': expected an integer from 1 to 1000000".
 * They return true on success and leave their outputs untouched on failure. Pure functions
 * apart from that message; usable from any thread.
 */
#include <stdbool.h>
#include <stdint.h>

/** Largest width or height accepted by the size and rectangle parsers. */
#define CR_CLI_MAX_DIMENSION 16384u

/** Parses a decimal integer in [@min, @max] (digits only: no sign, no spaces). */
bool cr_cli_parse_u32(const char *prog, const char *option, const char *text, uint32_t min,
		      uint32_t max, uint32_t *out);

/** Parses "WxH" with 1 <= W, H <= CR_CLI_MAX_DIMENSION. */
bool cr_cli_parse_size(const char *prog, const char *option, const char *text, uint32_t *width,
		       uint32_t *height);

/**
 * Parses "X,Y,W,H" into @rect (x, y, width, height) with 1 <= W, H and X + W, Y + H at most
 * CR_CLI_MAX_DIMENSION. Whether it fits a particular source is the caller's check.
 */
bool cr_cli_parse_rect(const char *prog, const char *option, const char *text, uint32_t rect[4]);
