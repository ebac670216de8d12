#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The capture-time stamp tools/bench.sh measures latency with (src/tools/stamp.h): testsrc
# --stamp writes each frame's pts into the pixels, castrelayd crops and scales them to NV12, and
# castrelay-sink --stamp reads every frame's stamp where the crop and scale put it. castrelayd
# carries the header pts through too, so the two ages of each frame must agree to within the
# stamp's microsecond truncation; a rectangle that misses the stamp must be reported as misread.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

# 640x480, crop 80,60,480,360 -> 240x180 NV12: the stamp 200,240,256,12 lands at 60,90,128,6.
start_testsrc castrelay-testsrc --size 640x480 --format BGRx --fps 30 --stamp 200,240,256,12
start_daemon t1 --source castrelay-testsrc --name t1 --crop 80,60,480,360 --scale 240x180 \
	--format NV12
run_sink 30 --target castrelay.t1 --frames 40 --stamp 60,90,128,6
check_eq "castrelay-sink exit status" "$CR_RC" 0
check_match "negotiated format" "$(sink_line format)" '^NV12 240x180'
line=$(sink_line stamp)
cr_log "stamp: $line; latency_us: $(sink_line latency_us)"
check_match "every frame's stamp read" "$line" '^read=40 bad=0 '
diff_us=$(sed -n 's/.*max_pts_diff_us=\([0-9.]*\).*/\1/p' <<<"$line")
check "stamp and pts ages agree to 1 us (largest difference $diff_us us)" \
	awk -v d="${diff_us:-x}" 'BEGIN { exit !(d != "x" && d + 0 <= 1.0) }'
# A rectangle off the stamp reads garbage: every frame is counted as misread.
run_sink 30 --target castrelay.t1 --frames 10 --stamp 0,0,128,6
check_eq "castrelay-sink exit status (misplaced stamp)" "$CR_RC" 0
check_match "misread stamps are refused, not turned into latencies" "$(sink_line stamp)" \
	'^read=0 bad=10'
stop_daemon t1
cr_finish
