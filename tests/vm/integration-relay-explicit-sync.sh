#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm-guest: explicit synchronisation (SPA_META_SyncTimeline) on both sides of castrelayd, with
# the guest's virtio-gpu timeline syncobjs.
#  1. castrelay-testsrc --dmabuf udmabuf --sync-timeline --late-writes 20 queues every other
#     frame with the buffer's previous picture and an acquire point that only signals 20 ms
#     later, with the write. udmabufs carry no implicit fences, so only the acquire point can
#     tell castrelayd to wait. castrelay-sink --sync-timeline --hold-release 100 waits for our
#     acquire points and signals each release point 100 ms after the buffer went back, checking
#     that castrelayd did not rewrite it meanwhile (torn=0, early=0). Over 200 frames: no
#     stale, no mismatched frame; castrelay.sync says explicit; castrelayd waited for acquire
#     points and for release points, and signalled its own acquire points; testsrc saw every
#     release point it was promised within a second (also for the frames castrelayd dropped).
#     PipeWire 1.4's async links sometimes hand a buffer over twice, or back to its producer
#     before the consumer could promise its release: both ends recognise those (repeated=,
#     overwritten=, castrelay.frames.corrupt) and never count or publish them as frames.
#  2. A second consumer links and, while it runs, the output size changes twice (live control):
#     new output buffers with new syncobjs each time. Its frames verify, and castrelayd's fd
#     count once it left is what it was before it came.
#  3. vgem buffers: the acquire point carries the producer's pending vgem fence at once, so
#     castrelayd hands it to the GPU (a SYNC_FD semaphore wait) instead of waiting on the loop.
#  4. CASTRELAY_TEST_SKIP_SYNC=1 (acquire points ignored): the sink must see stale or mismatched
#     frames, which proves that part 1 can fail.
# Guest only (tests/vm/run-in-vm.sh); skips (77) elsewhere.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
[ -n "${CR_VM_GUEST:-}" ] || cr_skip "guest-side test: run the vm suite (tests/vm/run-in-vm.sh)"
need_castrelay daemon testsrc sink
pw_env_start

size=128x96
frames=${CR_EXPLICIT_SYNC_FRAMES:-200}

# testsrc_report FIELD : one field of testsrc's "testsrc: sync-timeline: ..." line.
testsrc_report() {
	sed -n 's/^testsrc: sync-timeline: //p' "$(bg_log testsrc)" | tail -n 1 | tr ' ' '\n' |
		sed -n "s/^$1=//p"
}

# sink_sync FIELD : one field of the sink's "sync: explicit ..." line.
sink_sync() {
	sink_line sync | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# daemon_fds : castrelayd's open file descriptors, the fewest of 50 looks: a frame waiting
# for its acquire point holds an eventfd for a moment, which is no growth.
daemon_fds() {
	local i n min=
	for i in $(seq 50); do
		n=$(find "/proc/$(bg_pid castrelayd)/fd" -mindepth 1 -maxdepth 1 | wc -l)
		[ -z "$min" ] || [ "$n" -lt "$min" ] && min=$n
	done
	echo "$min"
}

# fds_at_most N : castrelayd has at most N fds now (transient ones come and go).
fds_at_most() {
	[ "$(find "/proc/$(bg_pid castrelayd)/fd" -mindepth 1 -maxdepth 1 | wc -l)" -le "$1" ]
}

cr_log "--- 1. explicit sync in and out, late acquire points, held release points"
start_testsrc src --size "$size" --fps 60 --dmabuf udmabuf --sync-timeline --late-writes 20
start_daemon ex --source src --name ex -v
run_sink 300 --target castrelay.ex --frames "$frames" --verify "$size" --dmabuf \
	--sync-timeline --hold-release 100
check_sink_report "$frames" "BGRx $size"
check_eq "castrelay-sink: acquire points that did not signal" "$(sink_sync acquire_timeouts)" 0
check_eq "castrelay-sink: held frames rewritten before their release" "$(sink_sync torn)" 0
check_eq "castrelay-sink: buffers back with a new frame before their release" \
	"$(sink_sync early)" 0
check_int_ge "castrelay-sink: release points signalled" "$(sink_sync released)" "$frames"
cr_log "castrelay-sink: $(sink_line sync)"
check_file_contains "castrelay-testsrc negotiated explicit sync" "$(bg_log testsrc)" \
	"testsrc: explicit sync (SyncTimeline)"
wait_for_prop castrelay.ex castrelay.sync explicit 5
check_eq "castrelay.sync" "$(node_prop castrelay.ex castrelay.sync)" explicit
check_int_ge "acquire points castrelayd waited for" \
	"$(node_prop castrelay.ex castrelay.sync.acquire-waits)" 1
check_int_ge "release points castrelayd waited for" \
	"$(node_prop castrelay.ex castrelay.sync.release-waits)" 1
check_int_ge "acquire points castrelayd signalled" \
	"$(node_prop castrelay.ex castrelay.sync.published)" "$frames"
check_int_ge "frames castrelayd dropped (their release points count too)" \
	"$(node_prop castrelay.ex castrelay.frames.dropped)" 1
check_eq "node.exclusive of the explicit-sync output" \
	"$(node_prop castrelay.ex node.exclusive)" true
cr_log "acquire-waits=$(node_prop castrelay.ex castrelay.sync.acquire-waits)" \
	"release-waits=$(node_prop castrelay.ex castrelay.sync.release-waits)" \
	"released=$(node_prop castrelay.ex castrelay.sync.released)" \
	"dropped=$(node_prop castrelay.ex castrelay.frames.dropped)"

cr_log "--- 2. renegotiation while a consumer is linked: the output size changes twice"
check "castrelayd dropped the first consumer's buffers" \
	wait_for_prop castrelay.ex castrelay.output.transport none 10
fds_before=$(daemon_fds)
fd_targets() {
	find "/proc/$(bg_pid castrelayd)/fd" -mindepth 1 -maxdepth 1 -printf '%l\n' |
		sed 's/[0-9]\+/N/g' | sort | uniq -c
}
fd_targets >"$CR_TEST_DIR/fds-before"
id=$(pw_dump_node castrelay.ex | jq -r .id)
frames_out_ge() { [ "$(node_prop castrelay.ex castrelay.frames.out)" -ge "$1" ]; }
out0=$(node_prop castrelay.ex castrelay.frames.out)
bg_start sink2 "$CR_SINK" --timeout 300 --target castrelay.ex --frames 90 --verify "$size" \
	--dmabuf --sync-timeline
check "frames reach the second consumer" poll_until 120 frames_out_ge $((out0 + 20))
run_fg pwcli 10 pw-cli set-param "$id" Props '{ params = [ "scale.width" 64 "scale.height" 48 ] }'
check "castrelay.output.size becomes 64x48" \
	wait_for_prop castrelay.ex castrelay.output.size 64x48 30
check "frames flow after the renegotiation" poll_until 120 frames_out_ge $((out0 + 45))
run_fg pwcli 10 pw-cli set-param "$id" Props '{ params = [ "scale.width" 128 "scale.height" 96 ] }'
bg_wait sink2 300
check_eq "second consumer: exit status" "$CR_RC" 0
log2=$(bg_log sink2)
check_eq "second consumer: mismatched frames" "$(sink_verify mismatched_frames "$log2")" 0
check_eq "second consumer: stale frames" "$(sink_verify stale "$log2")" 0
check_eq "second consumer: acquire points that did not signal" \
	"$(sink_line sync "$log2" | tr ' ' '\n' | sed -n 's/^acquire_timeouts=//p')" 0
cr_log "second consumer: $(sink_line verify "$log2"); $(sink_line sync "$log2")"
check "castrelayd dropped the second consumer's buffers" \
	wait_for_prop castrelay.ex castrelay.output.transport none 10
poll_until 10 fds_at_most "$fds_before"
fds_after=$(daemon_fds)
cr_log "castrelayd fds: $fds_before before, $fds_after after"
check_int_le "castrelayd fds after the renegotiations" "$fds_after" "$fds_before"
if [ "$fds_after" -gt "$fds_before" ]; then
	fd_targets >"$CR_TEST_DIR/fds-after"
	diff "$CR_TEST_DIR/fds-before" "$CR_TEST_DIR/fds-after" >&2
fi
stop_daemon ex
bg_stop testsrc INT 10
check_eq "testsrc: release points not signalled within 1 s" \
	"$(testsrc_report release_timeouts)" 0
cr_log "testsrc: $(sed -n 's/^testsrc: sync-timeline: //p' "$(bg_log testsrc)")"

cr_log "--- 3. vgem: the acquire point carries a pending fence; the GPU waits for it"
start_testsrc src --size "$size" --fps 30 --dmabuf vgem --sync-timeline --late-writes 20
start_daemon ex --source src --name ex -v
run_sink 300 --target castrelay.ex --frames 100 --verify "$size" --dmabuf --sync-timeline
check_sink_report 100 "BGRx $size"
check_eq "castrelay.sync (vgem)" "$(node_prop castrelay.ex castrelay.sync)" explicit
stop_daemon ex
bg_stop testsrc INT 10
check_eq "testsrc (vgem): release points not signalled within 1 s" \
	"$(testsrc_report release_timeouts)" 0

cr_log "--- 4. acquire points ignored (CASTRELAY_TEST_SKIP_SYNC=1): the check must fail"
start_testsrc src --size "$size" --fps 30 --dmabuf udmabuf --sync-timeline --late-writes 20
CASTRELAY_TEST_SKIP_SYNC=1 start_daemon ex --source src --name ex -v
unsynced=$((frames / 2))
run_sink 300 --target castrelay.ex --frames "$unsynced" --verify "$size" --dmabuf \
	--sync-timeline
check_eq "castrelay-sink exit status (verification failed)" "$CR_RC" 1
stale=$(sink_verify stale)
mismatched=$(sink_verify mismatched_frames)
check_int_ge "stale + mismatched frames without waiting" "$((${stale:-0} + ${mismatched:-0}))" 1
cr_log "without waiting: stale=$stale mismatched_frames=$mismatched of $(sink_verify checked)"
wait_for_prop castrelay.ex castrelay.sync none 5
check_eq "castrelay.sync without waiting" "$(node_prop castrelay.ex castrelay.sync)" none
stop_daemon ex
cr_finish
