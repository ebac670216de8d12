#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# PipeWire restarts under a running relay (issue #11): castrelayd does not exit; it reconnects
# with backoff, its STATUS says so meanwhile, the output node castrelay.t1 comes back under the
# same name, the source is found again and frames flow with the right pixels. The daemon also
# starts before PipeWire and waits for it. Killing PipeWire while GPU jobs hold DMA-BUF input
# buffers must not crash it (it once wrote into a buffer the stream had removed).
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

restart_pipewire() {
	bg_stop wireplumber KILL 5
	bg_stop pipewire KILL 5
	check "castrelayd survives PipeWire going away" bg_running castrelayd
	bg_start pipewire pipewire
	poll_until 15 pw_ready || cr_broken "pipewire did not come back within 15 s"
	bg_start wireplumber wireplumber
	poll_until 30 wireplumber_ready || cr_broken "wireplumber did not come back within 30 s"
}

start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30 --memfd-dmabuf
start_daemon t1 --source castrelay-testsrc --name t1 -v
run_sink 30 --target castrelay.t1 --frames 20 --skip 5 --verify 320x240
check_sink_report 15 "BGRx 320x240"

for round in 1 2; do
	# A consumer is linked when PipeWire dies: jobs are in flight.
	bg_start watcher "$CR_SINK" --target castrelay.t1 --frames 1000000 --timeout 600
	check "round $round: the consumer gets frames" \
		wait_for_prop castrelay.t1 castrelay.source.state relaying 10
	bg_unwatch watcher
	bg_unwatch testsrc
	restart_pipewire
	bg_stop watcher KILL 5
	bg_stop testsrc KILL 5
	check "round $round: the reconnection is logged" wait_for_log castrelayd \
		"connected to PipeWire again" 15
	start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30 --memfd-dmabuf
	check "round $round: castrelay.t1 is back" wait_for_node castrelay.t1 15
	run_sink 30 --target castrelay.t1 --frames 20 --skip 5 --verify 320x240
	check_sink_report 15 "BGRx 320x240"
done
check_file_contains "the loss of PipeWire is logged as a warning, not fatal" \
	"$(bg_log castrelayd)" "lost the connection to PipeWire"
stop_daemon t1

# Started before PipeWire: castrelayd waits for it instead of exiting.
bg_stop testsrc TERM 5
bg_stop wireplumber TERM 5
bg_stop pipewire TERM 5
bg_start castrelayd "$CASTRELAYD" --source castrelay-testsrc --name t2
check "castrelayd keeps running without PipeWire" poll_until 5 \
	grep -q "cannot connect to PipeWire" "$(bg_log castrelayd)"
check "castrelayd is still running" bg_running castrelayd
bg_start pipewire pipewire
poll_until 15 pw_ready || cr_broken "pipewire did not come back within 15 s"
bg_start wireplumber wireplumber
poll_until 30 wireplumber_ready || cr_broken "wireplumber did not come back within 30 s"
start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30
check "castrelay.t2 appears once PipeWire is up" wait_for_node castrelay.t2 20
run_sink 30 --target castrelay.t2 --frames 20 --skip 5 --verify 320x240
check_sink_report 15 "BGRx 320x240"
stop_daemon t2
cr_finish
