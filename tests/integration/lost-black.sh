#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lost = black (--on-lost black): while the source is away, castrelay.t1 stays and sends black
# frames at the source's last rate; a consumer that links meanwhile records black pixels; when
# the source returns, the pattern comes back. The default (lost = nothing) is covered by
# source-restart.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
need_prog gst-launch-1.0 python3
pw_env_start

start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30
start_daemon t1 --source castrelay-testsrc --name t1 --scale 160x120 --on-lost black -v
run_sink 30 --target castrelay.t1 --frames 10 --verify 320x240 --crop 0,0,320,240
check_sink_report 10 "BGRx 160x120"
bg_stop testsrc KILL 5
check "castrelay.source.state is lost" wait_for_prop castrelay.t1 castrelay.source.state lost 10
check_file_contains "the black frames are announced" "$(bg_log castrelayd)" \
	"sending black frames every"

raw=$CR_TEST_DIR/black.raw
run_fg gst 60 gst-launch-1.0 -e \
	pipewiresrc target-object=castrelay.t1 num-buffers=15 \
	'stream-properties=props,node.dont-fallback=(string)true' \
	! video/x-raw,format=BGRx,width=160,height=120 ! filesink location="$raw"
check_eq "gst-launch-1.0 recorded while the source is lost (exit status)" "$CR_RC" 0
check_eq "bytes recorded (15 frames of 160x120 BGRx)" "$(stat -c %s "$raw" 2>/dev/null)" \
	$((15 * 160 * 120 * 4))
nonblack=$(python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
print(sum(1 for i in range(0, len(d), 4) if d[i] or d[i + 1] or d[i + 2]))' "$raw")
check_eq "pixels that are not black while the source is lost" "$nonblack" 0
rate=$(sed -n 's/.*sending black frames every \([0-9.]*\) ms.*/\1/p' "$(bg_log castrelayd)" |
	tail -n 1)
cr_log "black frame period: $rate ms (the source ran at 30 fps: 33.3 ms)"
check "the black frame period follows the source's rate (25..45 ms)" \
	awk -v r="$rate" 'BEGIN { exit !(r >= 25 && r <= 45) }'

start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30
check "castrelay.t1 relays again" wait_for_prop castrelay.t1 castrelay.source.state relaying 10
run_sink 30 --target castrelay.t1 --frames 20 --skip 5 --verify 320x240 --crop 0,0,320,240
check_sink_report 15 "BGRx 160x120"
stop_daemon t1
cr_finish
