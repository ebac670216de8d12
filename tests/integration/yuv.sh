#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# NV12 and I420 outputs (issue 6): pixels verified against the CPU reference with the matrix
# and range the output format announces, so a relay that converts with one matrix and
# announces another fails; castrelay.output.color shows what was done.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30
start_daemon nv12 --source castrelay-testsrc --name nv12 --format NV12 --crop 16,8,288,224 \
	--scale 144x112
run_sink 30 --target castrelay.nv12 --format NV12 --frames 15 --verify 320x240 \
	--crop 16,8,288,224
check_sink_report 15 "NV12 144x112 bt709 limited"
check_eq "castrelay.output.color" "$(node_prop castrelay.nv12 castrelay.output.color)" \
	"bt709 limited"
stop_daemon nv12

# Odd output size, BT.601 full range, I420.
start_daemon i420 --source castrelay-testsrc --name i420 --format I420 --scale 161x121 \
	--color-matrix bt601 --color-range full
run_sink 30 --target castrelay.i420 --format I420 --frames 15 --verify 320x240
check_sink_report 15 "I420 161x121 bt601 full"
stop_daemon i420
cr_finish
