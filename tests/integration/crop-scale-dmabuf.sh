#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# (d) Crop + scale of DMA-BUF input (memfd as LINEAR DmaBuf): 640x480 -> crop 100,50,400,300
# -> 200x150, pixels verified, castrelay.input.transport=dmabuf.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

start_testsrc castrelay-testsrc --size 640x480 --format BGRx --fps 30 --memfd-dmabuf
start_daemon t1 --source castrelay-testsrc --name t1 --crop 100,50,400,300 --scale 200x150
run_sink 30 --target castrelay.t1 --frames 35 --skip 5 \
	--verify 640x480 --crop 100,50,400,300
check_sink_report 30 "BGRx 200x150"
check_eq "castrelay.output.size" "$(node_prop castrelay.t1 castrelay.output.size)" 200x150
check_eq "castrelay.input.transport" "$(node_prop castrelay.t1 castrelay.input.transport)" dmabuf
check_file_contains "the source negotiated DMA-BUF" "$(bg_log testsrc)" "testsrc: transport dmabuf"
stop_daemon t1
cr_finish
