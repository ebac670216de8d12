#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Live control (issue 6): `pw-cli set-param <node> Props '{ params = [ key value ... ] }'`
# changes crop and scale on the next frame, the node properties show it, and the pixels the
# consumer gets are the new crop. Invalid values are rejected with a log line naming key and
# value, and the old settings stay.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
need_prog pw-cli
pw_env_start

start_testsrc castrelay-testsrc --size 640x480 --format BGRx --fps 30
start_daemon t1 --source castrelay-testsrc --name t1 -v
node=castrelay.t1
check_eq "castrelay.crop before" "$(node_prop $node castrelay.crop)" none
id=$(pw_dump_node $node | jq -r .id)

run_fg pwcli 10 pw-cli set-param "$id" Props \
	'{ params = [ "crop.x" 100 "crop.y" 50 "crop.width" 400 "crop.height" 300 "scale.width" 200 "scale.height" 150 ] }'
check_eq "pw-cli set-param exit status" "$CR_RC" 0
check "castrelay.crop becomes 100,50,400,300" wait_for_prop $node castrelay.crop 100,50,400,300 10
check "castrelay.scale becomes 200x150" wait_for_prop $node castrelay.scale 200x150 10
check "castrelay.output.size becomes 200x150" wait_for_prop $node castrelay.output.size 200x150 10
check_file_contains "castrelayd logged the change" "$(bg_log castrelayd)" "t1: controls applied"

run_sink 30 --target $node --frames 23 --skip 3 --verify 640x480 --crop 100,50,400,300
check_sink_report 20 "BGRx 200x150"

# Rejections: an out-of-range value and an unknown key; nothing changes.
run_fg pwcli 10 pw-cli set-param "$id" Props '{ params = [ "crop.x" 99999 "scale.width" 64 ] }'
check "rejected value logged with key and value" wait_for_log castrelayd \
	"rejected control crop.x: invalid value '99999'" 10
run_fg pwcli 10 pw-cli set-param "$id" Props '{ params = [ "zoom" 2 ] }'
check "unknown key logged" wait_for_log castrelayd "rejected control zoom: unknown key" 10
run_fg pwcli 10 pw-cli set-param "$id" Props '{ params = [ "cursor" "sometimes" ] }'
check "bad cursor mode logged" wait_for_log castrelayd "cursor: invalid value 'sometimes'" 10
check_eq "castrelay.crop unchanged" "$(node_prop $node castrelay.crop)" 100,50,400,300
check_eq "castrelay.scale unchanged (scale.width of the rejected set not applied)" \
	"$(node_prop $node castrelay.scale)" 200x150
check_eq "castrelay.cursor unchanged" "$(node_prop $node castrelay.cursor)" embed

# Redaction and frame-rate cap take strings and integers too.
run_fg pwcli 10 pw-cli set-param "$id" Props '{ params = [ "redact" "0,0,40,40;100,100,8,8" "fps" 12 ] }'
check "castrelay.redact updated" wait_for_prop $node castrelay.redact "0,0,40,40;100,100,8,8" 10
check "castrelay.fps updated" wait_for_prop $node castrelay.fps 12 10
stop_daemon t1
cr_finish
