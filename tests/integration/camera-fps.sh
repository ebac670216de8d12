#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --camera publishes the node with media.role=Camera (what the Camera portal and browsers look
# for); --fps caps the output rate: of a 30 fps source at most about a third of the frames
# leave a 10 fps relay, the rest are counted as rate-limited, and never more out than in.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30
start_daemon cam --source castrelay-testsrc --name cam --camera --fps 10 --scale 160x120
node=castrelay.cam
check_eq "media.role" "$(node_prop $node media.role)" Camera
check_eq "media.class" "$(node_prop $node media.class)" Video/Source
check_eq "castrelay.fps" "$(node_prop $node castrelay.fps)" 10

run_sink 30 --target $node --frames 25 --verify 320x240
check_eq "castrelay-sink exit status" "$CR_RC" 0
check_eq "frames with a pixel off" "$(sink_verify mismatched_frames)" 0
# Counters are published once a second: wait for a snapshot that includes the consumer's run.
check "frames.out counts the 25 frames" poll_until 5 \
	sh -c "[ \"\$(pw-dump | jq -r '.[] | select(.info.props[\"node.name\"]==\"$node\") | .info.props[\"castrelay.frames.out\"]')\" -ge 25 ]"
props=$(pw_dump_node $node | jq -c .info.props)
prop() { jq -r --arg k "$1" '.[$k] // empty | tostring' <<<"$props"; }
in=$(prop castrelay.frames.in)
out=$(prop castrelay.frames.out)
limited=$(prop castrelay.frames.rate-limited)
cr_log "frames in=$in out=$out rate-limited=$limited"
check_int_ge "rate-limited frames (about 2 of every 3)" "$limited" "$out"
check_int_le "frames out <= frames in" "$out" "$in"
# The source's pts advance 33.3 ms a frame; a 10 fps cap lets one in three through (with 10%
# slack for jitter, at most one in two).
check_int_le "frames out at most half of frames in" "$((out * 2))" "$in"
stop_daemon cam
cr_finish
