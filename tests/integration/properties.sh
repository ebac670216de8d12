#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# (e) The output node's properties, as pw-dump shows them: media.class, node.name, the
# castrelay.* description of the relay, and frame counters that grow while a consumer runs.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink

# counter_above NODE KEY MIN : the property is an integer > MIN.
# shellcheck disable=SC2317 # called through poll_until
counter_above() {
	local v
	v=$(node_prop "$1" "$2")
	[[ "$v" =~ ^[0-9]+$ ]] && [ "$v" -gt "$3" ]
}

pw_env_start

start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30
start_daemon t1 --source castrelay-testsrc --name t1 --crop 0,0,320,240 --scale 160x120 \
	--format BGRx
node=castrelay.t1

check_eq "media.class" "$(node_prop $node media.class)" Video/Source
check_eq "castrelay.source" "$(node_prop $node castrelay.source)" castrelay-testsrc

# Counters only move while frames flow: run a consumer for the rest of the test.
bg_start sink "$CR_SINK" --target $node --frames 100000 --timeout 120
check "castrelay.output.format becomes BGRx" wait_for_prop $node castrelay.output.format BGRx 15
check "castrelay.output.size becomes 160x120" wait_for_prop $node castrelay.output.size 160x120 15
check_eq "castrelay.input.transport" "$(node_prop $node castrelay.input.transport)" shm
# Buffers are negotiated a moment after the format: the transport says none until then.
check "castrelay.output.transport becomes shm (lavapipe here cannot export DMA-BUFs)" \
	wait_for_prop $node castrelay.output.transport shm 15

for key in castrelay.frames.in castrelay.frames.out; do
	if poll_until 15 counter_above $node $key 0; then
		first=$(node_prop $node $key)
		check_pass "$key is counting: $first"
		# Published about once a second: two updates must fit in 5 s.
		if poll_until 5 counter_above $node $key "$first"; then
			check_pass "$key grows: $first -> $(node_prop $node $key)"
		else
			check_fail "$key grows" "stayed at $(node_prop $node $key) for 5 s"
		fi
	else
		check_fail "$key is counting" "value: '$(node_prop $node $key)'"
	fi
done
# One snapshot, so that the counters are compared at the same moment.
props=$(pw_dump_node $node | jq -c .info.props)
prop() { jq -r --arg k "$1" '.[$k] // empty | tostring' <<<"$props"; }
check_match "castrelay.frames.dropped is a count" "$(prop castrelay.frames.dropped)" '^[0-9]+$'
check_match "castrelay.sync (DESIGN.md: explicit|implicit|none)" "$(prop castrelay.sync)" \
	'^(explicit|implicit|none)$'
check_match "node.description is set" "$(prop node.description)" '.'
check_int_le "frames.out <= frames.in ($(prop castrelay.frames.in))" \
	"$(prop castrelay.frames.out)" "$(prop castrelay.frames.in)"

check "castrelay-sink is still consuming" bg_running sink
bg_stop sink TERM 10
stop_daemon t1
cr_finish
