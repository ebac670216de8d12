#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# (h2) A stride-padded DMA-BUF source (memfd as LINEAR DmaBuf, 64 bytes of row padding: the
# stride differs from the natural pitch, see DESIGN.md) cropped, scaled and converted to RGBx.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30 --memfd-dmabuf \
	--stride-pad 64
start_daemon t1 --source castrelay-testsrc --name t1 --crop 10,20,300,200 --scale 150x100 \
	--format RGBx
run_sink 30 --target castrelay.t1 --frames 35 --skip 5 --verify 320x240 --crop 10,20,300,200
check_sink_report 30 "RGBx 150x100"
check_eq "castrelay.input.transport" "$(node_prop castrelay.t1 castrelay.input.transport)" dmabuf
check_eq "castrelay.output.format" "$(node_prop castrelay.t1 castrelay.output.format)" RGBx
check_eq "castrelay.output.size" "$(node_prop castrelay.t1 castrelay.output.size)" 150x100
stop_daemon t1
cr_finish
