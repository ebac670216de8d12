#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# (g) Bad command-line values and configuration files: castrelayd exits 2 at once, before
# touching PipeWire or Vulkan, with a message that names the bad value (and the file, line and
# key). The configuration search and --check-config's list of files. No PipeWire runs in this
# test: the runtime directory is private and empty, so a daemon that tried to connect would fail
# differently.
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

bad_value portal-types --portal-types monitor,screen
bad_value on-lost --on-lost grey

# Portal options need --source portal.
run_fg no-persist 10 "$CASTRELAYD" --source castrelay-testsrc --no-persist
check_eq "--no-persist without --source portal: exit status" "$CR_RC" 2
check_file_contains "--no-persist: the message says it needs --source portal" \
	"$(bg_log no-persist)" "--no-persist: only with --source portal"

# The configuration search: nothing anywhere names the places searched.
export XDG_CONFIG_DIRS="$CR_TEST_DIR/xdg"
run_fg nothing 10 "$CASTRELAYD"
check_eq "no configuration, no --source: exit status" "$CR_RC" 2
check_file_contains "the message names the directories searched" "$(bg_log nothing)" \
	"in $XDG_CONFIG_HOME/castrelay, $CR_TEST_DIR/xdg/castrelay (see castrelay.conf(5))"

# A bad value in a conf.d file: file, line, key, value.
confd=$XDG_CONFIG_HOME/castrelay/castrelay.conf.d
mkdir -p "$confd" "$CR_TEST_DIR/xdg/castrelay"
printf '%s\n' 'castrelay.relays = [ { name = sys source = { target = castrelay-testsrc } } ]' \
	>"$CR_TEST_DIR/xdg/castrelay/castrelay.conf"
printf '%s\n' 'castrelay.relays = [' '    { name = t1 source = { portal = { } }' \
	'      crop = { x = 0 y = 0 width = -3 height = 10 } }' ']' >"$confd/10-bad.conf"
run_fg conf-error 10 "$CASTRELAYD" --check-config
check_eq "a bad value in a conf.d file: exit status" "$CR_RC" 2
check_file_contains "the message names file, line, key and value" "$(bg_log conf-error)" \
	"$confd/10-bad.conf:3: relays[0].crop.width: must be an integer 1..16384 (got -3)"

# --check-config prints the files in the order they were applied, and the portal keys.
printf '%s\n' 'castrelay.relays = [ { name = t1 source = { portal = { types = [ window ] } }' \
	'  lost = black } ]' >"$confd/10-bad.conf"
run_fg check-config 10 "$CASTRELAYD" --check-config
check_eq "--check-config: exit status" "$CR_RC" 0
check "--check-config lists castrelay.conf, then the conf.d file" \
	diff <(grep '^file = ' "$(bg_log check-config)") \
	<(printf 'file = "%s"\n' "$CR_TEST_DIR/xdg/castrelay/castrelay.conf" "$confd/10-bad.conf")
check_file_contains "--check-config prints the portal options" "$(bg_log check-config)" \
	"relay t1: source=portal portal.types=window portal.cursor=embedded portal.persist=yes"
check_file_contains "--check-config prints lost" "$(bg_log check-config)" "lost=black"
unset XDG_CONFIG_DIRS

run_fg version 10 "$CASTRELAYD" -V
check_eq "-V: exit status" "$CR_RC" 0
if [ -n "${CR_VERSION:-}" ]; then
	check_file_contains "-V prints the project version" "$(bg_log version)" "$CR_VERSION"
fi
cr_finish
