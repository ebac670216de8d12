#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Who may watch (issue #14): castrelay.allowed-clients lets castrelay-sink watch and nobody
# else. Two consumers of castrelay.t1: castrelay-sink (allowed: its binary matches) and a copy
# of it named other-viewer (refused). WirePlumber links both, so both links belong to
# WirePlumber's client: the rule is judged on the client that owns the consumer node. The
# refused one gets no frame, its link is destroyed and logged once with its client id, binary
# and pid; a link made by hand to it (pw-link) is destroyed too, without a second warning; the
# allowed consumer keeps receiving verified frames throughout. A bad rule is an error naming
# file:line:key, and --allow-client is checked the same way.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink

# --- the configuration, checked without PipeWire ---------------------------------------------
cr_test_init
bad=$CR_TEST_DIR/bad.conf
cat >"$bad" <<-'EOF'
	castrelay.relays = [
	    { name = "t1" source = { target = "castrelay-testsrc" }
	      allowed-clients = [ { application.process.binary = "castrelay-sink" }
	                          { application.name = "~(unclosed" } ] }
	]
EOF
run_fg bad-rule 10 "$CASTRELAYD" -c "$bad" --check-config
check_eq "a bad rule: exit status" "$CR_RC" 2
check_file_contains "a bad rule is named by file, line and key" "$(bg_log bad-rule)" \
	"castrelayd: $bad:4: relays[0].allowed-clients[1].application.name: invalid regular expression '(unclosed'"
run_fg bad-option 10 "$CASTRELAYD" --source x --allow-client 'pipewire.access = [ ]' --check-config
check_eq "a bad --allow-client: exit status" "$CR_RC" 2
check_file_contains "a bad --allow-client is named" "$(bg_log bad-option)" \
	"castrelayd: --allow-client: pipewire.access: must be a string, a number, a boolean or null (got an array)"

conf=$CR_TEST_DIR/castrelay.conf
cat >"$conf" <<-'EOF'
	# Everyone's relays: only castrelay-sink, and only as a normal (unsandboxed) client.
	castrelay.allowed-clients = [
	    { application.process.binary = "castrelay-sink" pipewire.access = "unrestricted" }
	]
	castrelay.relays = [ { name = "t1" source = { target = "castrelay-testsrc" } } ]
EOF
run_fg check-config 10 "$CASTRELAYD" -c "$conf" --check-config
check_eq "--check-config: exit status" "$CR_RC" 0
check_file_contains "--check-config prints the relay's rules" "$(bg_log check-config)" \
	'allowed-clients=[ { application.process.binary = "castrelay-sink" pipewire.access = "unrestricted" } ]'

# --- two consumers ---------------------------------------------------------------------------
pw_env_start
start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30
# -vv: later refusals of the same client are logged at debug level.
start_daemon t1 -c "$conf" -vv
check_file_contains "the rules are logged at start" "$(bg_log castrelayd)" \
	'castrelay.t1: only clients matching allowed-clients'
out_id=$(pw_dump_node castrelay.t1 | jq -r .id)

frames_out() {
	node_prop castrelay.t1 castrelay.frames.out
}
frames_after() { # frames_after N : castrelay.frames.out has passed N
	local n
	n=$(frames_out)
	[ -n "$n" ] && [ "$n" -gt "$1" ]
}
# links_to NAME : the ids of links from castrelay.t1 to nodes named NAME
links_to() {
	timeout --foreground 5 pw-dump 2>/dev/null | jq -r --argjson o "$out_id" --arg n "$1" '
		[.[] | select(.type == "PipeWire:Interface:Node" and .info.props["node.name"] == $n)
			| .id] as $in
		| .[] | select(.type == "PipeWire:Interface:Link"
			and .info.props["link.output.node"] == $o)
		| select(.info.props["link.input.node"] as $i | any($in[]; . == $i)) | .id' \
		2>/dev/null
}
no_links_to() {
	[ -z "$(links_to "$1")" ]
}

# The allowed consumer stays linked for the whole test (counting, not verifying: it joins the
# pattern midway).
bg_start watcher "$CR_SINK" --target castrelay.t1 --frames 1000000 --timeout 600
check "the allowed consumer receives frames" poll_until 20 frames_after 0
check_int_ge "the allowed consumer is linked (WirePlumber's link)" \
	"$(links_to castrelay-sink | wc -l)" 1

# The refused one: same program, another binary name, so application.process.binary differs.
viewer=$CR_TEST_DIR/other-viewer
cp "$CR_SINK" "$viewer"
before=$(frames_out)
bg_start denied "$viewer" --target castrelay.t1 --frames 5 --timeout 6
denied_pid=$(bg_pid denied)
refusal="castrelay.t1: destroyed link [0-9]+ to node [0-9]+ of client [0-9]+ "
refusal+="\(application.process.binary=other-viewer pipewire.sec.pid=$denied_pid "
check "the refusal is logged with the client's id, binary and pid" \
	wait_for_log castrelayd "$refusal" 15
line=$(grep -m1 'castrelay.t1: destroyed link' "$(bg_log castrelayd)")
cr_log "castrelayd: $line"
check "the refused link is gone" poll_until 5 no_links_to other-viewer

# A link made by hand, by another client (pw-link), to the refused consumer: destroyed too.
port_of() { # port_of NODE_NAME DIRECTION : the first port id of that node
	timeout --foreground 5 pw-dump 2>/dev/null | jq -r --arg n "$1" --arg d "$2" '
		[.[] | select(.type == "PipeWire:Interface:Node" and .info.props["node.name"] == $n)
			| .id] as $in
		| first(.[] | select(.type == "PipeWire:Interface:Port" and .info.direction == $d)
			| select(.info.props["node.id"] as $i | any($in[]; . == $i))) | .id' \
		2>/dev/null
}
in_port=$(port_of other-viewer input)
out_port=$(port_of castrelay.t1 output)
check_match "the ports to link by hand (out '$out_port', in '$in_port')" "$out_port $in_port" \
	'^[0-9]+ [0-9]+$'
# pw-link waits for its link to be set up; castrelayd destroys it, mostly before that (pw-link
# then fails), at times just after (pw-link exits 0): what counts is that it is gone, and that
# castrelayd destroyed it (both checked below).
run_fg pw-link 10 pw-link "$out_port" "$in_port"
cr_log "pw-link exit status: $CR_RC"
check "no link to the refused consumer" poll_until 5 no_links_to other-viewer
check_int_ge "links to the refused consumer destroyed (WirePlumber's, pw-link's)" \
	"$(grep -c 'castrelay.t1: destroyed link .* (application.process.binary=other-viewer' \
		"$(bg_log castrelayd)")" 2
bg_wait denied 20
check "the refused consumer ended with an error (timeout)" test "$CR_RC" -ne 0
check_eq "frames received by the refused consumer" "$(sink_line frames "$(bg_log denied)")" 0
check_eq "the refusal is warned about once" \
	"$(grep -c 'warning: castrelay.t1: destroyed link' "$(bg_log castrelayd)")" 1

# The allowed consumer was served throughout, and a new allowed one gets verified frames.
check "frames flowed to the allowed consumer meanwhile" poll_until 10 frames_after "$before"
check "the allowed consumer is still running" bg_running watcher
check_eq "castrelay.t1 kept its id" "$(pw_dump_node castrelay.t1 | jq -r .id)" "$out_id"
run_sink 30 --target castrelay.t1 --frames 20 --skip 5 --verify 320x240
check_sink_report 15 "BGRx 320x240"
bg_stop watcher INT 5
stop_daemon t1
cr_finish
