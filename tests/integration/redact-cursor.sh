#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Redaction and the cursor (issue 6), end to end: the source sends a moving, semi-transparent
# cursor as SPA_META_Cursor; --cursor embed composites it, --cursor hide drops it, and
# --redact rectangles (fill or pixelate) cover everything under them, the cursor included.
# The consumer checks every pixel against the CPU reference built with the same options, and
# a consumer told the wrong options fails (so the checks can fail).
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30 --cursor
start_daemon r1 --source castrelay-testsrc --name r1 --cursor embed \
	--redact 10,10,60,40 --redact 200,150,100,80
run_sink 30 --target castrelay.r1 --frames 15 --verify 320x240 --cursor \
	--redact 10,10,60,40 --redact 200,150,100,80
check_sink_report 15 "BGRx 320x240"
# Without --cursor the consumer's reference lacks the cursor: mismatches prove it is there.
run_sink 30 --target castrelay.r1 --frames 8 --verify 320x240 \
	--redact 10,10,60,40 --redact 200,150,100,80
check_eq "a reference without the cursor does not match (exit 1)" "$CR_RC" 1
check_int_ge "frames that differ from a cursor-less reference" \
	"$(sink_verify mismatched_frames)" 1
stop_daemon r1

start_daemon r2 --source castrelay-testsrc --name r2 --cursor hide --redact 0,0,320,30 \
	--crop 0,0,320,200 --scale 160x100 --format RGBA
run_sink 30 --target castrelay.r2 --frames 15 --verify 320x240 --crop 0,0,320,200 \
	--redact 0,0,320,30
check_sink_report 15 "RGBA 160x100"
check_eq "castrelay.cursor" "$(node_prop castrelay.r2 castrelay.cursor)" hide
check_eq "castrelay.redact" "$(node_prop castrelay.r2 castrelay.redact)" 0,0,320,30
stop_daemon r2
cr_finish
