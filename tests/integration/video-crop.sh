#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The source's SPA_META_VideoCrop (issue 6; a window shared through the portal arrives as a
# crop region of a larger buffer): without --crop the relay shows just that region, and
# without --scale the output takes its size. A configured --crop takes precedence.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30 --video-crop 40,20,200,100
start_daemon vc --source castrelay-testsrc --name vc
run_sink 30 --target castrelay.vc --frames 18 --skip 3 --verify 320x240 --crop 40,20,200,100
check_sink_report 15 "BGRx 200x100"
stop_daemon vc

start_daemon vc2 --source castrelay-testsrc --name vc2 --crop 0,0,160,120 --scale 80x60
run_sink 30 --target castrelay.vc2 --frames 15 --verify 320x240 --crop 0,0,160,120
check_sink_report 15 "BGRx 80x60"
stop_daemon vc2
cr_finish
