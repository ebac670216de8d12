#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# (a) Identity relay over SHM: castrelay-testsrc 320x240 BGRx -> castrelayd (no crop, no scale)
# -> castrelay-sink verifying every pixel against the CPU reference.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30
start_daemon t1 --source castrelay-testsrc --name t1
run_sink 30 --target castrelay.t1 --frames 35 --skip 5 --verify 320x240
check_sink_report 30 "BGRx 320x240"
check_eq "castrelay.input.transport" "$(node_prop castrelay.t1 castrelay.input.transport)" shm
check_file_contains "the source is consumed by the relay" "$(bg_log testsrc)" \
	"testsrc: streaming castrelay-testsrc 320x240 BGRx"
stop_daemon t1
cr_finish
