#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm-guest: implicit synchronisation with a producer whose "GPU" is still rendering when it
# hands a buffer over. castrelay-testsrc --dmabuf vgem --late-writes 20 fences every buffer with
# a vgem write fence; every other one is queued with the fence unsignalled and the picture of the
# buffer's previous use, and its frame is written and the fence signalled 20 ms later.
# castrelayd must wait for the fences: over 200 frames the sink sees no stale and no mismatched
# frame, and castrelay.sync=implicit. Then the same with CASTRELAY_TEST_SKIP_SYNC=1 in
# castrelayd's environment (no waits): the sink must see stale or mismatched frames, which
# proves that the first half can fail.
# Guest only (tests/vm/run-in-vm.sh); skips (77) elsewhere.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
[ -n "${CR_VM_GUEST:-}" ] || cr_skip "guest-side test: run the vm suite (tests/vm/run-in-vm.sh)"
need_castrelay daemon testsrc sink
pw_env_start

size=128x96
frames=${CR_LATE_WRITES_FRAMES:-200}
start_testsrc src --size "$size" --fps 30 --dmabuf vgem --late-writes 20

cr_log "--- with implicit sync"
start_daemon late --source src --name late -v
cr_now
t0=$CR_NOW
# The first frame waits for llvmpipe to compile the kernel (a minute under TCG without a warm
# shader cache): a generous deadline, not a sleep.
run_sink 300 --target castrelay.late --frames "$frames" --verify "$size"
cr_now
cr_log "$frames frames in $((CR_NOW - t0)) ms"
check_sink_report "$frames" "BGRx $size"
check_file_contains "castrelay-testsrc negotiated a vgem DMA-BUF" "$(bg_log testsrc)" \
	"testsrc: transport dmabuf (vgem, LINEAR)"
check_eq "castrelay.input.transport" "$(node_prop castrelay.late castrelay.input.transport)" \
	dmabuf
wait_for_prop castrelay.late castrelay.sync implicit 5
check_eq "castrelay.sync" "$(node_prop castrelay.late castrelay.sync)" implicit
stop_daemon late
# The second daemon's log replaces this one, which explains a failure so far.
[ "$CR_FAILURES" -eq 0 ] || bg_print_log castrelayd >&2

cr_log "--- without sync (CASTRELAY_TEST_SKIP_SYNC=1): the check must fail"
CASTRELAY_TEST_SKIP_SYNC=1 start_daemon late --source src --name late -v
check_file_contains "castrelayd skips synchronisation" "$(bg_log castrelayd)" \
	"CASTRELAY_TEST_SKIP_SYNC=1"
unsynced=$((frames / 2))
run_sink 300 --target castrelay.late --frames "$unsynced" --verify "$size"
check_eq "castrelay-sink exit status (verification failed)" "$CR_RC" 1
check_int_ge "frames received" "$(sink_line frames)" "$unsynced"
stale=$(sink_verify stale)
mismatched=$(sink_verify mismatched_frames)
check_int_ge "stale + mismatched frames without sync" "$((${stale:-0} + ${mismatched:-0}))" 1
cr_log "without sync: stale=$stale mismatched_frames=$mismatched of $(sink_verify checked)"
wait_for_prop castrelay.late castrelay.sync none 5
check_eq "castrelay.sync without sync" "$(node_prop castrelay.late castrelay.sync)" none
stop_daemon late
cr_finish
