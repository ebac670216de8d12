#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A consumer that stops reading for 10 s (issue #14, faults; castrelay-sink --pause-after
# --pause-ms: it takes no buffer, so castrelayd's output pool runs dry). castrelayd's input is
# never blocked: castrelay.frames.in keeps rising at the source's rate and the source never
# runs out of buffers (its DMA-BUF-like buffers are held by GPU jobs, so a relay that stalled
# would hold them); the frames that cannot go out are dropped and counted
# (castrelay.frames.dropped); when the consumer reads again it gets what waited, then fresh
# frames, all verified. fds, RSS and Vulkan objects are flat.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

# 10 fps: the consumer's verifier knows frame numbers modulo 256 and takes a jump of 128 or
# more for one back; the pause jumps about 100.
start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 10 --memfd-dmabuf
start_daemon c1 --source castrelay-testsrc --name c1 -v
pid=$(bg_pid castrelayd)
bg_start watcher "$CR_SINK" --target castrelay.c1 --frames 1000000 --timeout 600 \
	--verify 320x240 --pause-after 30 --pause-ms 10000
check "the consumer stops reading after 30 frames" wait_for_log watcher \
	'not reading for 10000 ms after 30 frames' 30
declare -A before after
figures before "$pid" castrelay.c1
# The node's counters are published once a second, together: read from one pw-dump, 2.2 s
# and 8.2 s into the pause, so that both are of inside it and after the buffers in flight
# when it began went out. The sleeps are the scenario's clock.
sleep 2.2
read -r in0 out0 drop0 < <(node_ints castrelay.c1 castrelay.frames.in castrelay.frames.out \
	castrelay.frames.dropped)
sleep 6
read -r in1 out1 drop1 < <(node_ints castrelay.c1 castrelay.frames.in castrelay.frames.out \
	castrelay.frames.dropped)
check "the consumer is still there, not reading" bg_running watcher
cr_log "6 s in the pause: frames.in +$((in1 - in0)), frames.out +$((out1 - out0))," \
	"frames.dropped +$((drop1 - drop0))"
check_int_ge "frames in while the consumer did not read (10 fps, 6 s)" "$((in1 - in0))" 50
check_int_le "frames out meanwhile: none, the consumer holds every buffer" "$((out1 - out0))" 0
check_int_ge "frames dropped meanwhile: every frame in (up to 2 in flight)" \
	"$((drop1 - drop0))" "$((in1 - in0 - 2))"
check "castrelay.frames.dropped shows in pw-dump" sh -c \
	"pw-dump | jq -e '.[] | select(.info.props[\"node.name\"]==\"castrelay.c1\")
		| .info.props[\"castrelay.frames.dropped\"] | tonumber > $drop0' >/dev/null"
check "the source never ran out of buffers (the input was never blocked)" \
	sh -c "! grep -q 'out of buffers' '$(bg_log testsrc)'"
check "the consumer reads again after 10 s" wait_for_log watcher 'reading again after' 10
check "frames reach the consumer again" wait_for_int castrelay.c1 castrelay.frames.out \
	$((out1 + 20)) 10
sleep 1.2
figures after "$pid" castrelay.c1
check_flat "before and after the stalled consumer" before after
bg_stop watcher INT 5
log=$(bg_log watcher)
pause=$(sink_line pause "$log")
cr_log "consumer: $pause"
check_match "the consumer's pause is over" "$pause" ' done=yes '
check_match "buffers were waiting for the consumer when it read again" "$pause" \
	' backlog=[1-9][0-9]* '
check_match "fresh frames came after those" "$pause" ' frames_after=([2-9][0-9]|[1-9][0-9]{2,})$'
check_eq "frames with a wrong pixel" "$(sink_verify mismatched_frames "$log")" 0
check_eq "stale frames (number did not advance)" "$(sink_verify stale "$log")" 0
check_int_ge "frames verified" "$(sink_verify checked "$log")" 60
stop_daemon c1
cr_finish
