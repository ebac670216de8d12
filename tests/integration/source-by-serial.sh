#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --source also accepts an object.serial: the relay finds the test source by its serial number
# and relays verified frames.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30
serial=$(node_prop castrelay-testsrc object.serial)
check_match "castrelay-testsrc has an object.serial" "$serial" '^[0-9]+$'
start_daemon t1 --source "$serial" --name t1 --scale 160x120
run_sink 30 --target castrelay.t1 --frames 15 --skip 5 --verify 320x240
check_sink_report 10 "BGRx 160x120"
stop_daemon t1
cr_finish
