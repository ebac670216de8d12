#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# (i) A real third-party consumer: GStreamer's pipewiresrc records 10 frames of the relay
# (scaled to 160x120, so that a consumer wrongly linked to the source itself could not pass),
# and the recorded pixels are checked against the CPU reference.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc
need_prog gst-launch-1.0 gst-inspect-1.0 python3
gst-inspect-1.0 pipewiresrc >/dev/null 2>&1 ||
	cr_skip "GStreamer's pipewiresrc is missing (package gstreamer1.0-pipewire)"
pw_env_start

start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30
start_daemon t1 --source castrelay-testsrc --name t1 --crop 0,0,320,240 --scale 160x120 -v
raw=$CR_TEST_DIR/frames.raw
# node.dont-fallback: a missing target must fail, not silently link another source.
run_fg gst 60 gst-launch-1.0 -e \
	pipewiresrc target-object=castrelay.t1 num-buffers=10 \
	'stream-properties=props,node.dont-fallback=(string)true' \
	! video/x-raw,format=BGRx,width=160,height=120 \
	! filesink location="$raw"
check_eq "gst-launch-1.0 exit status" "$CR_RC" 0
check_eq "bytes recorded (10 frames of 160x120 BGRx)" "$(stat -c %s "$raw" 2>/dev/null)" \
	$((10 * 160 * 120 * 4))
run_fg check-raw 60 python3 "$CR_SOURCE_ROOT/tests/lib/check-raw-frames.py" \
	"$raw" 160x120 BGRx 320x240 0,0,320,240 10
check_eq "recorded pixels match the reference and advance" "$CR_RC" 0
# Where the Vulkan driver exports DMA-BUFs (the vm suite runs this script in its guest), the
# node offers DMA-BUF first; pipewiresrc 1.4 built against GStreamer 1.22 has no DMA_DRM caps
# (that needs GStreamer >= 1.24) and takes the shared-memory variant of the same node.
check_file_contains "castrelayd announced the output" "$(bg_log castrelayd)" "DMA-BUF output"
if grep -q 'DMA-BUF output offered' "$(bg_log castrelayd)"; then
	check_file_contains "pipewiresrc got shared memory from a DMA-BUF-capable node" \
		"$(bg_log castrelayd)" "the consumer took shared memory"
	cr_log "DMA-BUF output was offered; pipewiresrc negotiated shared memory"
fi
stop_daemon t1
cr_finish
