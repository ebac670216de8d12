#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The source's SPA_META_VideoTransform (issue 6): a source rotated by 90 degrees is relayed
# upright, with the output's shape rotated too when no --scale is given; a flipped one with an
# explicit scale keeps that size. Pixels verified against the reference.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30 --transform 1
start_daemon t90 --source castrelay-testsrc --name t90
run_sink 30 --target castrelay.t90 --frames 18 --skip 3 --verify 320x240 --transform 1
check_sink_report 15 "BGRx 240x320"
stop_daemon t90
bg_stop testsrc TERM 10

start_testsrc castrelay-testsrc --size 320x240 --format RGBx --fps 30 --transform 4
start_daemon tf --source castrelay-testsrc --name tf --scale 200x100
run_sink 30 --target castrelay.tf --frames 15 --verify 320x240 --transform 4
check_sink_report 15 "BGRx 200x100"
stop_daemon tf
cr_finish
