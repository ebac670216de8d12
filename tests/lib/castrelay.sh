# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# castrelay helpers for the integration tests and tools/demo.sh, on top of pw-env.sh:
# where the binaries are, starting the test source / the daemon, running the verifying sink and
# reading its report.
#
# Paths come from meson (tests/meson.build sets them); for a manual run they default to the
# build directory $CR_BUILD_ROOT (default: <source>/build):
#   CR_BUILD_ROOT=build-tests bash tests/integration/identity-shm.sh

CR_SOURCE_ROOT=${CR_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
CR_BUILD_ROOT=${CR_BUILD_ROOT:-$CR_SOURCE_ROOT/build}
CASTRELAYD=${CASTRELAYD:-$CR_BUILD_ROOT/src/castrelayd}
CR_TESTSRC=${CR_TESTSRC:-$CR_BUILD_ROOT/src/tools/castrelay-testsrc}
CR_SINK=${CR_SINK:-$CR_BUILD_ROOT/src/tools/castrelay-sink}

# shellcheck source=tests/lib/pw-env.sh
. "$CR_SOURCE_ROOT/tests/lib/pw-env.sh"

# The integration suite runs on Mesa's software Vulkan (lavapipe), as CI does, also on machines
# with a GPU: its expectations (memfd imported as DMA-BUF, SHM output) are lavapipe's. The gpu
# suite exercises real GPUs. CR_TEST_VK_DRIVER_FILES overrides the choice.
cr_select_vulkan_driver() {
	local icd=${CR_TEST_VK_DRIVER_FILES:-}
	if [ -z "$icd" ]; then
		for icd in /usr/share/vulkan/icd.d/lvp_icd.json \
			/usr/share/vulkan/icd.d/lvp_icd.x86_64.json ""; do
			[ -z "$icd" ] || [ -f "$icd" ] && break
		done
	fi
	[ -n "$icd" ] || return 0
	export VK_DRIVER_FILES="$icd"
	export VK_ICD_FILENAMES="$icd"
}

# need_castrelay daemon|testsrc|sink... : skips when a binary has not been built.
need_castrelay() {
	local what path
	for what in "$@"; do
		case "$what" in
		daemon) path=$CASTRELAYD ;;
		testsrc) path=$CR_TESTSRC ;;
		sink) path=$CR_SINK ;;
		*) cr_broken "need_castrelay: unknown binary '$what'" ;;
		esac
		[ -x "$path" ] || cr_skip "$path has not been built"
	done
}

# start_testsrc NAME ARGS... : runs castrelay-testsrc as NAME; returns once its node exists.
# A source that does not come up fails the test (it is part of the tree under test).
start_testsrc() {
	local name=$1
	shift
	bg_start testsrc "$CR_TESTSRC" --name "$name" "$@"
	if ! wait_for_node "$name" 15; then
		check_fail "castrelay-testsrc publishes node '$name'"
		cr_finish
	fi
	check_pass "castrelay-testsrc publishes node '$name'"
}

# Background jobs of a non-interactive shell start with SIGINT ignored; a daemon started from a
# terminal has it at its default. Reset it so that SIGINT tests what a user's Ctrl-C does.
CR_DEFAULT_SIGINT=()
if env --default-signal=INT true 2>/dev/null; then
	CR_DEFAULT_SIGINT=(env --default-signal=INT)
fi

# start_daemon RELAY ARGS... : runs castrelayd ARGS; returns once node castrelay.RELAY exists.
start_daemon() {
	local relay=$1
	shift
	bg_start castrelayd "${CR_DEFAULT_SIGINT[@]}" "$CASTRELAYD" "$@"
	if ! wait_for_node "castrelay.$relay" 30; then
		if grep -qi 'no Vulkan device' "$(bg_log castrelayd)"; then
			cr_skip "castrelayd found no Vulkan device (is mesa-vulkan-drivers installed?)"
		fi
		check_fail "castrelayd publishes node 'castrelay.$relay'"
		cr_finish
	fi
	check_pass "castrelayd publishes node 'castrelay.$relay'"
}

# stop_daemon RELAY [SIGNAL] : SIGTERM (or SIGNAL); checks the documented exit status 0 and that
# the node is gone.
stop_daemon() {
	local sig=${2:-TERM}
	bg_stop castrelayd "$sig" 15
	check_eq "castrelayd exit status after SIG$sig" "$CR_RC" 0
	check "node castrelay.$1 is gone after castrelayd exited" wait_for_node_gone "castrelay.$1" 5
}

# run_sink TIMEOUT_S ARGS... : runs castrelay-sink in the foreground; CR_RC is its status.
run_sink() {
	local timeout=$1
	shift
	run_fg sink "$((timeout + 15))" "$CR_SINK" --timeout "$timeout" "$@"
	# Ctrl-C (or meson's SIGTERM) reached the sink too and it reported that: the shell itself
	# does not run its INT trap when the foreground child handled the signal.
	if grep -q '^sink: interrupted' "$CR_TEST_DIR/sink.log"; then
		cr_log "interrupted"
		exit 130
	fi
}

# sink_line KEY [LOG] : the value after "KEY: " in the sink's report.
sink_line() {
	sed -n "s/^$1: //p" "${2:-$CR_TEST_DIR/sink.log}" | tail -n 1
}

# sink_verify FIELD [LOG] : one field of the "verify: checked=N ..." line.
sink_verify() {
	sink_line verify "${2:-}" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# check_sink_report MIN_FRAMES "FORMAT WxH" : the sink exited 0 after receiving at least
# MIN_FRAMES frames of the expected format, every one of them verified against the CPU
# reference, none mismatched, none stale.
check_sink_report() {
	local min=$1 format=$2
	check_eq "castrelay-sink exit status" "$CR_RC" 0
	check_int_ge "frames received" "$(sink_line frames)" "$min"
	check_eq "negotiated format at the consumer" "$(sink_line format)" "$format"
	check_int_ge "frames verified against the CPU reference" "$(sink_verify checked)" "$min"
	check_eq "frames with a pixel off by more than the tolerance" \
		"$(sink_verify mismatched_frames)" 0
	check_eq "stale frames (number did not advance)" "$(sink_verify stale)" 0
	cr_log "max_error=$(sink_verify max_error) fps=$(sink_line fps)" \
		"latency_us: $(sink_line latency_us)"
}

cr_select_vulkan_driver

# start_notify_listener : a stand-in for the service manager. Sets CR_NOTIFY_SOCKET (for
# NOTIFY_SOCKET) and CR_NOTIFY_LOG, where every datagram becomes one line, its fields joined
# by " | ".
start_notify_listener() {
	need_prog python3
	CR_NOTIFY_SOCKET=$CR_TEST_DIR/notify.sock
	CR_NOTIFY_LOG=$CR_TEST_DIR/notify-messages.log
	: >"$CR_NOTIFY_LOG"
	bg_start notify python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "a", buffering=1)
while True:
    out.write(s.recv(4096).decode().replace("\n", " | ") + "\n")
' "$CR_NOTIFY_SOCKET" "$CR_NOTIFY_LOG"
	check "the notify listener is up" poll_until 5 test -S "$CR_NOTIFY_SOCKET"
}

# ---------------------------------------------------------------------------------------------
# Fault tests: what a long-running castrelayd holds, and its counters

# node_int NODE KEY : an integer property of NODE (castrelay.frames.out...), 0 when absent.
node_int() {
	local v
	v=$(node_prop "$1" "$2")
	[[ "$v" =~ ^[0-9]+$ ]] || v=0
	printf '%s' "$v"
}

# node_ints NODE KEY... : the integer properties KEY... of NODE from one pw-dump (published
# together, so they agree with each other), space-separated; 0 for an absent one.
node_ints() {
	local node=$1
	shift
	pw_dump_node "$node" | jq -r '[$ARGS.positional[] as $k | .info.props[$k] // 0 |
		tostring | if test("^[0-9]+$") then . else "0" end] | join(" ")' --args "$@"
}

node_int_ge() { # node_int_ge NODE KEY MIN : KEY has reached MIN
	[ "$(node_int "$1" "$2")" -ge "$3" ]
}

# wait_for_int NODE KEY MIN [TIMEOUT_S] : polls until the integer property KEY reaches MIN.
wait_for_int() {
	poll_until "${4:-10}" node_int_ge "$1" "$2" "$3"
}

# figures VAR PID NODE : VAR[fds], VAR[rss] (kB), VAR[vk] (castrelay.vk.objects) and
# VAR[vk_types] (castrelay.vk.object-types) of the castrelayd with PID and its node NODE. The
# node's properties are published once a second: wait that long after a change.
figures() {
	local -n fig=$1
	fig[fds]=$(find "/proc/$2/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	fig[rss]=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$2/status")
	fig[vk]=$(node_prop "$3" castrelay.vk.objects)
	fig[vk_types]=$(node_prop "$3" castrelay.vk.object-types)
}

# vk_type TYPES NAME : the count of NAME in a castrelay.vk.object-types value (0 when absent).
vk_type() {
	local n
	n=$(tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p")
	printf '%s' "${n:-0}"
}

# check_flat WHAT BEFORE AFTER [RSS_SLACK_KB] : AFTER's fds at most 2 above BEFORE's, its RSS
# at most RSS_SLACK_KB (default 8 MiB) above, its Vulkan objects the same, type by type, but
# buffers and memory: a relay's pipeline makes a slot's staging and readback buffers on the
# slot's first use, and its second slot is used only when two frames were ever in flight at
# once, so one relay's count may differ by those 2. Prints the figures as a "# " line.
# In a sanitizer build the RSS slack is 4 times larger: ASan's allocator keeps what the first
# device rebuilds allocated (device-lost's d2, three devices made: +18 MB there, +0.6 MB in a
# normal build), and LeakSanitizer checks for leaks at every exit instead.
check_flat() {
	local -n b=$2 a=$3
	local slack=${4:-8192} t nb
	cr_sanitized && slack=$((slack * 4))
	cr_log "$1: fds ${b[fds]} -> ${a[fds]}, RSS ${b[rss]} -> ${a[rss]} kB," \
		"Vulkan objects ${b[vk]} -> ${a[vk]} (${a[vk_types]})"
	check_int_le "$1: castrelayd's fds (before: ${b[fds]})" "${a[fds]}" "$((b[fds] + 2))"
	check_int_le "$1: castrelayd's RSS in kB (before: ${b[rss]}, +$slack allowed)" \
		"${a[rss]}" "$((b[rss] + slack))"
	check_int_ge "$1: live Vulkan objects counted" "${a[vk]}" 1
	check_eq "$1: live Vulkan objects by type, but buffers and memory" \
		"$(sed -E 's/ ?(buffer|memory)=[0-9]+//g' <<<"${a[vk_types]}")" \
		"$(sed -E 's/ ?(buffer|memory)=[0-9]+//g' <<<"${b[vk_types]}")"
	for t in buffer memory; do
		nb=$(vk_type "${b[vk_types]}" $t)
		check_int_le "$1: live Vulkan $t objects (before: $nb, a second slot's 2 allowed)" \
			"$(vk_type "${a[vk_types]}" $t)" $((nb + 2))
		check_int_ge "$1: live Vulkan $t objects (before: $nb)" \
			"$(vk_type "${a[vk_types]}" $t)" $((nb - 2))
	done
}
