#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A renegotiation storm (issue #14, faults): the source changes size and format every 10
# frames for 1000 frames (castrelay-testsrc --cycle, DMA-BUF-like buffers, so GPU jobs hold
# buffers that the renegotiations remove). castrelayd follows each time: its output has the
# source's size (no crop or scale), so the consumer is renegotiated too, and every frame it gets
# is verified against the pattern of a source of its size (castrelay-sink --verify-follow).
# Before and after the storm castrelayd relays a plain source to a verifying consumer; its fds,
# RSS and Vulkan objects are the same then.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

plain=(--size 320x240 --format BGRx --fps 60 --memfd-dmabuf)
start_testsrc castrelay-testsrc "${plain[@]}"
start_daemon s1 --source castrelay-testsrc --name s1 -v
pid=$(bg_pid castrelayd)
run_sink 30 --target castrelay.s1 --frames 30 --skip 5 --verify 320x240
check_sink_report 25 "BGRx 320x240"
declare -A before after
sleep 1.2 # the node's properties are published once a second, not a readiness wait
figures before "$pid" castrelay.s1
in0=$(node_int castrelay.s1 castrelay.frames.in)
renegotiated0=$(grep -c 'output format now' "$(bg_log castrelayd)")

# The storm: four sizes, four formats, 100 renegotiations.
bg_stop testsrc TERM 5
check "castrelay.s1 is lost" wait_for_prop castrelay.s1 castrelay.source.state lost 10
start_testsrc castrelay-testsrc --fps 60 --frames 1000 --memfd-dmabuf --cycle-every 10 \
	--cycle 320x240:BGRx,256x192:RGBx,160x120:BGRA,240x180:RGBA
bg_start watcher "$CR_SINK" --target castrelay.s1 --frames 1000000 --timeout 600 \
	--verify-follow --print-format
t0=$(now_ms)
bg_unwatch testsrc
check "the source sends its 1000 frames and exits" bg_wait testsrc 120
cr_log "the storm took $(($(now_ms) - t0)) ms"
check_eq "the source's exit status" "$CR_RC" 0
check_file_contains "the source renegotiated 100 times" "$(bg_log testsrc)" \
	"testsrc: cycle: 100 renegotiations, 1000 frames"
bg_stop watcher INT 5
log=$(bg_log watcher)
in1=$(node_int castrelay.s1 castrelay.frames.in)
renegotiated=$(($(grep -c 'output format now' "$(bg_log castrelayd)") - renegotiated0))
sizes=$(sed -n 's/^negotiated: BGRx \([0-9]*x[0-9]*\) .*/\1/p' "$log" | sort -u | tr '\n' ' ')
cr_log "castrelayd: frames.in +$((in1 - in0)), output renegotiated $renegotiated times;" \
	"consumer: $(sink_line frames "$log") frames, $(grep -c '^negotiated:' "$log")" \
	"formats ($sizes), verify: $(sink_line verify "$log")"
# Bounds that hold on a slow machine too: the sanitizer build gets through about half as much
# (899 in, 431 to the consumer, measured on 2 cores).
check_int_ge "frames castrelayd took in during the storm (of 1000)" "$((in1 - in0))" 750
check_int_ge "times castrelayd's output followed the source's size" "$renegotiated" 95
check_eq "the sizes the consumer was given" "$sizes" "160x120 240x180 256x192 320x240 "
check_int_ge "formats the consumer was given" "$(grep -c '^negotiated:' "$log")" 95
check_int_ge "frames the consumer received during the storm" "$(sink_line frames "$log")" 250
check_int_ge "of which verified" "$(sink_verify checked "$log")" 250
check_eq "frames with a wrong pixel" "$(sink_verify mismatched_frames "$log")" 0
check_eq "stale frames (number did not advance)" "$(sink_verify stale "$log")" 0
check "castrelayd is running" bg_running castrelayd

# After the storm: the plain source again, as before.
start_testsrc castrelay-testsrc "${plain[@]}"
run_sink 30 --target castrelay.s1 --frames 30 --skip 5 --verify 320x240
check_sink_report 25 "BGRx 320x240"
sleep 1.2
figures after "$pid" castrelay.s1
check_flat "before and after 100 renegotiations" before after
stop_daemon s1
cr_finish
