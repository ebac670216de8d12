#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# (f) A source that does not exist: castrelayd exits 1 within a bounded time, with the
# documented message, and leaves no node behind. The same for an unusable --drm-device.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon
pw_env_start

t0=$(now_ms)
run_fg castrelayd 30 "$CASTRELAYD" --source nosuchnode --name t1
elapsed=$(($(now_ms) - t0))
check_eq "castrelayd exit status" "$CR_RC" 1
check_int_le "castrelayd gave up within 15 s (ms)" "$elapsed" 15000
# Documented: "castrelayd: source 'X' not found"; the daemon may add context around it.
check_match "the error names the source" "$(grep -m1 "source 'nosuchnode' not found" \
	"$(bg_log castrelayd)")" "^castrelayd: .*source 'nosuchnode' not found"
check "no castrelay.t1 node is left" node_absent castrelay.t1

# A DRM node for explicit sync that cannot be used is a runtime error naming the path, not a
# silent fallback (CI has no /dev/dri at all; a regular file is no DRM node either).
: >"$CR_TEST_DIR/not-a-drm-node"
run_fg drm-device 30 "$CASTRELAYD" --source nosuchnode --name t2 \
	--drm-device "$CR_TEST_DIR/not-a-drm-node"
check_eq "--drm-device unusable: exit status" "$CR_RC" 1
check_file_contains "--drm-device unusable: the message names the path" \
	"$(bg_log drm-device)" "--drm-device $CR_TEST_DIR/not-a-drm-node is unusable"
cr_finish
