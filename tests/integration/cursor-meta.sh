#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The cursor as metadata, end to end: the source sends a moving cursor as SPA_META_Cursor;
# castrelayd --cursor meta crops and scales the frames without drawing the cursor and passes
# it on as SPA_META_Cursor, its position mapped into the output ((src - crop origin) * output
# size / crop size), hotspot and bitmap unchanged. The consumer checks every pixel against a
# cursor-less CPU reference and every frame's cursor meta against cursor-pattern.h for the
# frame number it recovered; the same consumer fails against --cursor hide (whose meta says
# "no cursor"), so the check can fail.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30 --cursor
start_daemon m1 --source castrelay-testsrc --name m1 --cursor meta --crop 20,10,280,200 \
	--scale 140x100
run_sink 30 --target castrelay.m1 --frames 15 --verify 320x240 --crop 20,10,280,200 \
	--cursor-meta
check_sink_report 15 "BGRx 140x100"
check_int_ge "frames whose cursor meta was checked" "$(sink_verify cursor_checked)" 15
check_eq "cursor meta checked on every verified frame" "$(sink_verify cursor_checked)" \
	"$(sink_verify checked)"
check_eq "castrelay.cursor" "$(node_prop castrelay.m1 castrelay.cursor)" meta
stop_daemon m1

# --cursor hide: the cursor is neither in the frames nor in the metadata. The pixels still
# match, the cursor check fails on every frame.
start_daemon m2 --source castrelay-testsrc --name m2 --cursor hide --crop 20,10,280,200 \
	--scale 140x100
run_sink 30 --target castrelay.m2 --frames 8 --verify 320x240 --crop 20,10,280,200 \
	--cursor-meta
check_eq "a consumer expecting the cursor meta fails without it (exit 1)" "$CR_RC" 1
check_int_ge "frames checked" "$(sink_verify checked)" 8
check_eq "every frame without the cursor meta is mismatched" \
	"$(sink_verify mismatched_frames)" "$(sink_verify checked)"
check_int_le "pixels still match the cursor-less reference: max_error" \
	"$(sink_verify max_error)" 2
# castrelayd offers the meta whatever --cursor says (a live switch to meta needs no
# renegotiation), so it is there and says "no cursor"; a relay without it fails as well.
check_match "the consumer says why" \
	"$(grep -m 1 '^verify: frame' "$CR_TEST_DIR/sink.log")" \
	'no cursor meta on the buffer|the cursor meta says there is no cursor'
stop_daemon m2

# Redaction covers the cursor in every mode: with the source and its surroundings redacted
# (the test cursor also travels just outside the frame), the metadata says "no cursor" on
# every frame; the pixels are all black (the part of the redaction inside the frame is what
# the reference needs).
start_daemon m3 --source castrelay-testsrc --name m3 --cursor meta --redact 0,0,1000,1000
run_sink 30 --target castrelay.m3 --frames 8 --verify 320x240 --redact 0,0,320,240 \
	--cursor-meta
check_eq "a consumer expecting a visible cursor fails (exit 1)" "$CR_RC" 1
check_int_le "pixels match the redacted reference: max_error" "$(sink_verify max_error)" 2
check_match "the cursor meta says there is no cursor" \
	"$(grep -m 1 '^verify: frame' "$CR_TEST_DIR/sink.log")" \
	'the cursor meta says there is no cursor'
stop_daemon m3
cr_finish
