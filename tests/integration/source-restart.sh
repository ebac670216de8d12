#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The output node outlives its source (issue #11): the source (DMA-BUF input, so GPU jobs hold
# its buffers when it goes) is killed and restarted 10 times with 1 s gaps while one consumer
# stays linked. Each time castrelay.source.state goes to lost and back to relaying, frames
# resume within 1 s (printed; asserted with the timeout scale), the output node keeps its id,
# and castrelayd's fds and RSS stay flat. Afterwards a fresh consumer verifies the pixels.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

src_args=(--size 320x240 --format BGRx --fps 30 --memfd-dmabuf)
start_testsrc castrelay-testsrc "${src_args[@]}"
start_daemon t1 --source castrelay-testsrc --name t1 --crop 40,30,240,180 -v
pid=$(bg_pid castrelayd)
node_id=$(pw_dump_node castrelay.t1 | jq -r .id)

# One consumer for the whole test: it counts frames and never verifies (every restart begins
# the pattern again).
bg_start watcher "$CR_SINK" --target castrelay.t1 --frames 1000000 --timeout 600
check "castrelay.t1 relays" wait_for_prop castrelay.t1 castrelay.source.state relaying 15
frames_out() {
	node_prop castrelay.t1 castrelay.frames.out
}
frames_after() { # frames_after N : frames.out has passed N
	local n
	n=$(frames_out)
	[ -n "$n" ] && [ "$n" -gt "$1" ]
}
check "frames reach the consumer" poll_until 15 frames_after 0

fds() {
	find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}
rss_kb() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$pid/status"
}

cr_scaled_ms 1
limit_ms=$CR_MS
resume=()
slow=0
for i in $(seq 1 10); do
	bg_stop testsrc KILL 5
	check "round $i: castrelay.source.state is lost" \
		wait_for_prop castrelay.t1 castrelay.source.state lost 10
	before=$(frames_out)
	# 1 s without a source: the node stays, nothing is sent (lost = nothing).
	sleep 1 # the scenario's gap (a compositor restarting its stream), not a readiness wait
	check_eq "round $i: no frames while the source is away" "$(frames_out)" "$before"
	start_testsrc castrelay-testsrc "${src_args[@]}"
	t0=$(now_ms)
	check "round $i: frames flow again" poll_until 10 frames_after "$before"
	ms=$(($(now_ms) - t0))
	resume+=("$ms")
	[ "$ms" -le "$limit_ms" ] || slow=$((slow + 1))
	check_eq "round $i: the output node keeps its id" "$(pw_dump_node castrelay.t1 | jq -r .id)" \
		"$node_id"
	check "round $i: the consumer is still running" bg_running watcher
	if [ "$i" -eq 2 ]; then
		fds2=$(fds)
		rss2=$(rss_kb)
	fi
done
cr_log "frames resumed after (ms, source node up -> castrelay.frames.out advanced): ${resume[*]}"
check_eq "rounds in which frames took longer than ${limit_ms} ms to resume" "$slow" 0
fds10=$(fds)
rss10=$(rss_kb)
cr_log "castrelayd fds: $fds2 after round 2, $fds10 after round 10; RSS: $rss2 kB, $rss10 kB"
check_int_le "fds after round 10 (round 2: $fds2)" "$fds10" "$((fds2 + 2))"
# Under AddressSanitizer the allocator settles later: castrelayd's RSS climbs to the same
# 165-171 MB whether it starts at 148 MB (shared memory imported, no staging buffers) or at
# 164-170 MB (copied through staging buffers, before a73bbbc): measured +3 to +16 MB from round 2
# to 10 with the imports, +0 to +8 MB without, and +13 to +23 MB with them turned off in the new
# code; in the plain build it is flat to 10 kB. Leaks there are LeakSanitizer's to find.
allow_kb=8192
cr_sanitized && allow_kb=24576
check_int_le "RSS after round 10 in kB (round 2: $rss2 kB, +$((allow_kb / 1024)) MiB allowed)" \
	"$rss10" "$((rss2 + allow_kb))"
check_eq "castrelay.source.streams (one input stream per source appearance)" \
	"$(node_prop castrelay.t1 castrelay.source.streams)" 11
bg_stop watcher INT 5

run_sink 30 --target castrelay.t1 --frames 30 --skip 5 --verify 320x240 --crop 40,30,240,180
check_sink_report 25 "BGRx 240x180"
check_eq "castrelay.input.transport after the restarts" \
	"$(node_prop castrelay.t1 castrelay.input.transport)" dmabuf
check_file_contains "castrelayd logs at info level (-v)" "$(bg_log castrelayd)" \
	"relaying 'castrelay-testsrc'"
check_eq "the output was never renegotiated (same size and format each time)" \
	"$(grep -c 'renegotiating' "$(bg_log castrelayd)")" 0
stop_daemon t1

# A source that comes back with another size: the output follows it (no crop or scale given).
start_daemon t2 --source castrelay-testsrc --name t2 -v
run_sink 30 --target castrelay.t2 --frames 10 --verify 320x240
check_sink_report 10 "BGRx 320x240"
bg_stop testsrc KILL 5
check "castrelay.t2 is lost" wait_for_prop castrelay.t2 castrelay.source.state lost 10
start_testsrc castrelay-testsrc --size 480x270 --format BGRx --fps 30 --memfd-dmabuf
check "castrelay.t2 relays the new source" wait_for_prop castrelay.t2 castrelay.output.size \
	480x270 10
run_sink 30 --target castrelay.t2 --frames 20 --skip 5 --verify 480x270
check_sink_report 15 "BGRx 480x270"
check_file_contains "the output renegotiated for the new size" "$(bg_log castrelayd)" \
	"output format now BGRx 480x270; renegotiating"
stop_daemon t2
cr_finish
