#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# (h) RGBx output from a BGRx source whose rows carry 64 bytes of padding (--stride-pad 64):
# the relay must honour the source stride and swap R and B.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30 --stride-pad 64
start_daemon t1 --source castrelay-testsrc --name t1 --format RGBx
run_sink 30 --target castrelay.t1 --frames 35 --skip 5 --verify 320x240
check_sink_report 30 "RGBx 320x240"
check_eq "castrelay.output.format" "$(node_prop castrelay.t1 castrelay.output.format)" RGBx
stop_daemon t1
cr_finish
