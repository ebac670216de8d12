#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# (g) Bad command-line values: castrelayd exits 2 at once, before touching PipeWire or Vulkan,
# with a message that names the bad value. No PipeWire runs in this test: the runtime
# directory is private and empty, so a daemon that tried to connect would fail differently.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon
cr_test_init

# bad_value TEST-ID OPTION VALUE : castrelayd with a good relay apart from OPTION VALUE.
bad_value() {
	local id=$1 option=$2 value=$3
	run_fg "$id" 10 "$CASTRELAYD" --source castrelay-testsrc --name t1 "$option" "$value"
	check_eq "$option $value: exit status" "$CR_RC" 2
	check_file_contains "$option $value: the message names the value" \
		"$(bg_log "$id")" "$value"
}
bad_value scale-zero --scale 0x10
bad_value scale-syntax --scale 640
bad_value crop-short --crop 1,2,3
bad_value crop-zero --crop 0,0,0,10
bad_value format --format YUY9
check_file_contains "--format: the message lists an accepted format" "$(bg_log format)" BGRx

run_fg version 10 "$CASTRELAYD" -V
check_eq "-V: exit status" "$CR_RC" 0
if [ -n "${CR_VERSION:-}" ]; then
	check_file_contains "-V prints the project version" "$(bg_log version)" "$CR_VERSION"
fi
cr_finish
