#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# (f) A source that does not exist yet: castrelayd says so, naming the source and how to list
# sources, keeps running (waiting is not an error: a screencast node often appears later), and
# relays it as soon as it appears. An unusable --drm-device is a configuration error: exit 1
# with the path named.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

bg_start castrelayd "$CASTRELAYD" --source latecomer --name t1
check "the message names the missing source and that castrelayd waits" wait_for_log castrelayd \
	"source 'latecomer' not found: .*pw-dump.*waiting for it to appear" 15
check "castrelayd keeps running" bg_running castrelayd
check "no castrelay.t1 node before the source has a format" node_absent castrelay.t1
start_testsrc latecomer --size 320x240 --format BGRx --fps 30
check "castrelay.t1 appears with the source" wait_for_node castrelay.t1 15
run_sink 30 --target castrelay.t1 --frames 20 --skip 5 --verify 320x240
check_sink_report 15 "BGRx 320x240"
check_eq "castrelay.source.state" "$(node_prop castrelay.t1 castrelay.source.state)" relaying
stop_daemon t1

# A DRM node for explicit sync that cannot be used is a runtime error naming the path, not a
# silent fallback (CI has no /dev/dri at all; a regular file is no DRM node either).
: >"$CR_TEST_DIR/not-a-drm-node"
run_fg drm-device 30 "$CASTRELAYD" --source nosuchnode --name t2 \
	--drm-device "$CR_TEST_DIR/not-a-drm-node"
check_eq "--drm-device unusable: exit status" "$CR_RC" 1
check_file_contains "--drm-device unusable: the message names the path" \
	"$(bg_log drm-device)" "--drm-device $CR_TEST_DIR/not-a-drm-node is unusable"
cr_finish
