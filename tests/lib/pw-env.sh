# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Test harness for castrelay's shell tests (sourced, bash only).
#
#   . "$CR_SOURCE_ROOT/tests/lib/pw-env.sh"
#   cr_test_init          # temp dir, teardown trap, private XDG/PipeWire/D-Bus environment
#                         # (pw_env_start calls it; cr_tmpdir_init: dir + trap only)
#   pw_env_start          # private D-Bus session bus, pipewire, wireplumber; ready when it returns
#   bg_start NAME CMD...  # background process, output in $CR_TEST_DIR/NAME.log
#   wait_for_node NAME [TIMEOUT_S]
#   node_prop NAME KEY
#   check_eq "what" ACTUAL EXPECTED ...; cr_finish
#
# Exit statuses: 0 pass, 1 fail, 77 skip (something the environment lacks), 99 broken setup.
# Readiness is always polled with a deadline, never waited for with a fixed sleep.
#
# Teardown runs on every exit (also SIGINT, SIGTERM, SIGHUP): the processes started with bg_start
# are stopped in reverse order (SIGTERM, SIGKILL after a bounded wait), their logs are printed
# when the test did not pass, and the temporary directory is removed (kept with CR_TEST_KEEP=1).
# Works as root, without a systemd user session and without any running PipeWire or D-Bus.
#
# In a sanitizer build every process the test starts gets tests/sanitizers/' options
# (sanitizers.sh); a sanitizer report from any of them fails the test at teardown.

CR_TEST_NAME=${CR_TEST_NAME:-$(basename "$0" .sh)}
CR_TEST_DIR=
CR_FAILURES=0
CR_CHECKS=0
# Default deadlines in seconds; slow machines (2 cores, lavapipe) may raise them all at once.
CR_TIMEOUT_SCALE=${CR_TIMEOUT_SCALE:-1}
declare -A CR_BG_PID=()
declare -A CR_BG_STATUS=()
declare -A CR_BG_WATCH=()
CR_BG_ORDER=()

# shellcheck source=tests/lib/sanitizers.sh
. "$(dirname "${BASH_SOURCE[0]}")/sanitizers.sh"

# ---------------------------------------------------------------------------------------------
# Messages and verdicts

cr_log() {
	printf '# %s\n' "$*"
}

cr_skip() {
	printf 'SKIP: %s\n' "$*"
	exit 77
}

cr_broken() {
	printf 'BROKEN: %s\n' "$*" >&2
	exit 99
}

check_pass() {
	CR_CHECKS=$((CR_CHECKS + 1))
	printf 'ok - %s\n' "$1"
}

# check_fail WHAT [DETAIL...]
check_fail() {
	CR_CHECKS=$((CR_CHECKS + 1))
	CR_FAILURES=$((CR_FAILURES + 1))
	printf 'FAIL - %s\n' "$1" >&2
	shift
	local line
	for line in "$@"; do
		printf '    %s\n' "$line" >&2
	done
	return 1
}

# check WHAT CMD... : passes when CMD succeeds.
check() {
	local what=$1
	shift
	if "$@"; then
		check_pass "$what"
	else
		check_fail "$what" "command failed: $*"
	fi
}

check_eq() {
	if [ "$2" = "$3" ]; then
		check_pass "$1: '$2'"
	else
		check_fail "$1" "got:      '$2'" "expected: '$3'"
	fi
}

# check_int_ge WHAT ACTUAL MIN (integers; a non-integer ACTUAL fails)
check_int_ge() {
	if [[ "$2" =~ ^-?[0-9]+$ ]] && [ "$2" -ge "$3" ]; then
		check_pass "$1: $2 >= $3"
	else
		check_fail "$1" "got:      '$2'" "expected: >= $3"
	fi
}

check_int_le() {
	if [[ "$2" =~ ^-?[0-9]+$ ]] && [ "$2" -le "$3" ]; then
		check_pass "$1: $2 <= $3"
	else
		check_fail "$1" "got:      '$2'" "expected: <= $3"
	fi
}

# check_match WHAT STRING ERE
check_match() {
	if [[ "$2" =~ $3 ]]; then
		check_pass "$1"
	else
		check_fail "$1" "got:      '$2'" "expected to match: $3"
	fi
}

# check_file_contains WHAT FILE FIXED-STRING
check_file_contains() {
	if grep -qF -- "$3" "$2" 2>/dev/null; then
		check_pass "$1"
	else
		check_fail "$1" "'$3' not found in $(basename "$2"):" \
			"$(tail -n 20 "$2" 2>/dev/null | sed 's/^/| /')"
	fi
}

# Ends the test: exit 0 when every check passed, 1 otherwise.
cr_finish() {
	if [ "$CR_FAILURES" -eq 0 ] && [ "$CR_CHECKS" -gt 0 ]; then
		printf 'PASS: %s (%d checks)\n' "$CR_TEST_NAME" "$CR_CHECKS"
		exit 0
	fi
	if [ "$CR_CHECKS" -eq 0 ]; then
		printf 'FAIL: %s made no checks\n' "$CR_TEST_NAME" >&2
	else
		printf 'FAIL: %s (%d of %d checks failed)\n' "$CR_TEST_NAME" "$CR_FAILURES" \
			"$CR_CHECKS" >&2
	fi
	exit 1
}

# need_prog PROG... : skips the test when one is missing.
need_prog() {
	local p
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 || cr_skip "'$p' is not installed (tools/deps.sh installs it)"
	done
}

# ---------------------------------------------------------------------------------------------
# Time

# Wall clock in milliseconds without forking (deadlines are checked often, and a test killed by
# meson's timeout has half a second to tear down): cr_now sets CR_NOW; $(now_ms) prints it.
cr_now() {
	local t=${EPOCHREALTIME/[.,]/}
	CR_NOW=$((t / 1000))
}

now_ms() {
	cr_now
	printf '%s' "$CR_NOW"
}

# cr_scaled_ms SECONDS : sets CR_MS to SECONDS * CR_TIMEOUT_SCALE in milliseconds (at least 1 s).
cr_scaled_ms() {
	if [[ "$1" =~ ^[0-9]+$ && "$CR_TIMEOUT_SCALE" =~ ^[0-9]+$ ]]; then
		CR_MS=$(($1 * CR_TIMEOUT_SCALE * 1000))
	else
		CR_MS=$(awk -v t="$1" -v s="$CR_TIMEOUT_SCALE" 'BEGIN { printf "%d", t * s * 1000 }')
	fi
	[ "$CR_MS" -ge 1000 ] || CR_MS=1000
}

# Prints SECONDS scaled by CR_TIMEOUT_SCALE, in whole seconds.
cr_timeout() {
	cr_scaled_ms "$1"
	printf '%s' $((CR_MS / 1000))
}

# poll_until TIMEOUT_S CMD... : runs CMD every 50 ms until it succeeds (0) or the deadline passes
# (1), or a watched background process dies (2, with a message naming it).
poll_until() {
	local deadline
	cr_scaled_ms "$1"
	cr_now
	deadline=$((CR_NOW + CR_MS))
	shift
	while :; do
		"$@" && return 0
		bg_check_watched || return 2
		cr_now
		[ "$CR_NOW" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# ---------------------------------------------------------------------------------------------
# Background processes

# bg_start NAME CMD... : starts CMD in the background with stdin from /dev/null and stdout+stderr
# in $CR_TEST_DIR/NAME.log. The process is "watched": a poll fails early when it exits.
# Must not be called from a subshell (the process must be a child of the test shell).
bg_start() {
	local name=$1
	shift
	[ -n "$CR_TEST_DIR" ] || cr_broken "bg_start before cr_tmpdir_init"
	[ -z "${CR_BG_PID[$name]:-}" ] || cr_broken "bg_start: '$name' is already running"
	# Emptied here, not only by the child's redirection: the child may run later, and a poll
	# of the log meanwhile would read the previous process of that name.
	: >"$CR_TEST_DIR/$name.log"
	"$@" </dev/null >"$CR_TEST_DIR/$name.log" 2>&1 &
	CR_BG_PID[$name]=$!
	CR_BG_WATCH[$name]=1
	unset "CR_BG_STATUS[$name]"
	local known=0 n
	for n in "${CR_BG_ORDER[@]}"; do
		[ "$n" = "$name" ] && known=1
	done
	[ "$known" -eq 1 ] || CR_BG_ORDER+=("$name")
	cr_log "started $name (pid $!): $*"
}

# bg_unwatch NAME : NAME may now exit on its own without failing polls.
bg_unwatch() {
	unset "CR_BG_WATCH[$1]"
}

bg_pid() {
	printf '%s' "${CR_BG_PID[$1]:-}"
}

bg_log() {
	printf '%s' "$CR_TEST_DIR/$1.log"
}

# True while NAME's process exists and is not a zombie.
bg_running() {
	local pid=${CR_BG_PID[$1]:-} stat
	[ -n "$pid" ] || return 1
	[ -r "/proc/$pid/stat" ] || return 1
	read -r stat <"/proc/$pid/stat" 2>/dev/null || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# Reaps NAME when it has exited, recording its status. Returns 0 when reaped.
bg_reap() {
	local name=$1 pid=${CR_BG_PID[$1]:-} rc
	[ -n "$pid" ] || return 0
	bg_running "$name" && return 1
	wait "$pid" 2>/dev/null
	rc=$?
	CR_BG_STATUS[$name]=$rc
	unset "CR_BG_PID[$name]"
	unset "CR_BG_WATCH[$name]"
	return 0
}

# Returns 1 (with a message) when a watched process has exited.
bg_check_watched() {
	local name
	for name in "${!CR_BG_WATCH[@]}"; do
		if ! bg_running "$name"; then
			bg_reap "$name"
			printf '%s exited unexpectedly with status %s; its log:\n' "$name" \
				"${CR_BG_STATUS[$name]:-?}" >&2
			bg_print_log "$name" >&2
			return 1
		fi
	done
	return 0
}

# bg_wait NAME [TIMEOUT_S] : waits for NAME to exit by itself and sets CR_RC to its exit status.
# Returns 0 when it exited, 1 when it is still running at the deadline. Call it from the test
# shell itself, never inside $(...): only the parent can reap a process.
bg_wait() {
	local name=$1 deadline
	cr_scaled_ms "${2:-10}"
	cr_now
	deadline=$((CR_NOW + CR_MS))
	CR_RC=
	bg_unwatch "$name"
	while ! bg_reap "$name"; do
		cr_now
		[ "$CR_NOW" -lt "$deadline" ] || return 1
		sleep 0.02
	done
	CR_RC=${CR_BG_STATUS[$name]:-}
	return 0
}

# bg_stop NAME [SIGNAL] [TIMEOUT_S] : sends SIGNAL (TERM) and waits for the exit; escalates to
# SIGKILL at the deadline. Sets CR_RC to the exit status (128 + n for a signal). Returns 1 when
# the process had to be killed. Not inside $(...), like bg_wait.
bg_stop() {
	local name=$1 sig=${2:-TERM} timeout=${3:-10} pid=${CR_BG_PID[$1]:-} next=0 deadline
	CR_RC=${CR_BG_STATUS[$name]:-}
	[ -n "$pid" ] || return 0
	bg_unwatch "$name"
	cr_scaled_ms "$timeout"
	cr_now
	deadline=$((CR_NOW + CR_MS))
	while ! bg_reap "$name"; do
		cr_now
		# Repeated: a signal that arrives between fork and exec is lost.
		if [ "$CR_NOW" -ge "$next" ]; then
			kill -s "$sig" "$pid" 2>/dev/null
			next=$((CR_NOW + 500))
		fi
		if [ "$CR_NOW" -ge "$deadline" ]; then
			printf '%s did not exit within %ss of SIG%s; killing it\n' "$name" \
				"$timeout" "$sig" >&2
			kill -s KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			CR_BG_STATUS[$name]=$?
			CR_RC=${CR_BG_STATUS[$name]}
			unset "CR_BG_PID[$name]"
			return 1
		fi
		sleep 0.02
	done
	CR_RC=${CR_BG_STATUS[$name]}
	return 0
}

# bg_print_log NAME [MAX_LINES] : prints (the end of) NAME's log. Shell builtins only: it also
# runs in the teardown of a test that meson is about to kill.
bg_print_log() {
	local log="$CR_TEST_DIR/$1.log" max=${2:-200} lines n first more=""
	[ -f "$log" ] || return 0
	mapfile -t lines <"$log"
	n=${#lines[@]}
	first=$((n > max ? n - max : 0))
	[ "$first" -eq 0 ] || more=", last $max"
	printf -- '----- %s log (%s lines%s) -----\n' "$1" "$n" "$more"
	[ "$n" -eq 0 ] || printf '%s\n' "${lines[@]:first}"
	printf -- '----- end of %s log -----\n' "$1"
}

# wait_for_log NAME ERE [TIMEOUT_S] : polls NAME's log for a line matching ERE.
wait_for_log() {
	local name=$1 re=$2 timeout=${3:-10}
	poll_until "$timeout" grep -qE -- "$re" "$CR_TEST_DIR/$name.log"
}

# run_fg NAME TIMEOUT_S CMD... : runs CMD in the foreground with a deadline, output in
# $CR_TEST_DIR/NAME.log (and echoed, indented, afterwards). Sets CR_RC to its exit status
# (124 when the deadline killed it).
run_fg() {
	local name=$1 timeout
	timeout=$(cr_timeout "$2")
	shift 2
	cr_log "running $name (deadline ${timeout}s): $*"
	timeout --foreground -k 5 "$timeout" "$@" </dev/null >"$CR_TEST_DIR/$name.log" 2>&1
	CR_RC=$?
	sed "s/^/  $name| /" "$CR_TEST_DIR/$name.log"
	cr_log "$name exited with status $CR_RC"
}

# ---------------------------------------------------------------------------------------------
# Setup and teardown

cr_teardown() {
	local status=$? i name
	trap - EXIT INT TERM HUP
	set +e
	# Everyone at once first (meson allows 0.5 s after its SIGTERM), then in reverse order.
	for name in "${!CR_BG_PID[@]}"; do
		kill -s TERM "${CR_BG_PID[$name]}" 2>/dev/null
	done
	for ((i = ${#CR_BG_ORDER[@]} - 1; i >= 0; i--)); do
		name=${CR_BG_ORDER[$i]}
		[ -n "${CR_BG_PID[$name]:-}" ] || continue
		bg_stop "$name" TERM 5 >/dev/null
	done
	if [ -n "$CR_TEST_DIR" ] && [ -d "$CR_TEST_DIR" ]; then
		# Every process has exited now, and LeakSanitizer has run in each of them.
		if ! cr_sanitizer_reports "$CR_TEST_DIR/sanitizer" "$CR_TEST_DIR"/*.log >&2; then
			printf 'FAIL: %s: sanitizer report(s) above\n' "$CR_TEST_NAME" >&2
			[ "$status" -ne 0 ] && [ "$status" -ne 77 ] || status=1
		fi
		if [ "$status" -ne 0 ] && [ "$status" -ne 77 ] && [ "$status" -ne 130 ] ||
			[ -n "${CR_TEST_VERBOSE:-}" ]; then
			for name in "${CR_BG_ORDER[@]}"; do
				printf '%s exit status: %s\n' "$name" "${CR_BG_STATUS[$name]:-?}" >&2
				bg_print_log "$name" >&2
			done
		fi
		if [ -n "${CR_TEST_KEEP:-}" ]; then
			printf 'kept %s\n' "$CR_TEST_DIR" >&2
		else
			rm -rf -- "$CR_TEST_DIR"
		fi
	fi
	exit "$status"
}

# Creates the private temporary directory $CR_TEST_DIR and installs the teardown trap.
# Idempotent. Leaves the environment alone (tools/demo.sh may use the user's PipeWire).
cr_tmpdir_init() {
	[ -n "$CR_TEST_DIR" ] && return 0
	CR_TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/castrelay-$CR_TEST_NAME.XXXXXX") ||
		cr_broken "cannot create a temporary directory"
	chmod 0700 "$CR_TEST_DIR"
	trap cr_teardown EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	mkdir "$CR_TEST_DIR/sanitizer" || cr_broken "cannot create $CR_TEST_DIR/sanitizer"
	cr_sanitizer_env "$CR_TEST_DIR/sanitizer"
}

# cr_tmpdir_init, then points every PipeWire/D-Bus/XDG location into it: no client started by
# the test can reach a PipeWire, a session bus or a configuration outside it. Idempotent.
cr_test_init() {
	[ -n "$CR_TEST_DIR" ] && [ "${XDG_RUNTIME_DIR:-}" = "$CR_TEST_DIR/run" ] && return 0
	cr_tmpdir_init
	export XDG_RUNTIME_DIR="$CR_TEST_DIR/run"
	export PIPEWIRE_RUNTIME_DIR="$XDG_RUNTIME_DIR"
	export XDG_CONFIG_HOME="$CR_TEST_DIR/config"
	export XDG_STATE_HOME="$CR_TEST_DIR/state"
	unset PIPEWIRE_REMOTE PIPEWIRE_CORE DBUS_SESSION_BUS_ADDRESS
	mkdir -m 0700 "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME" "$XDG_STATE_HOME" ||
		cr_broken "cannot create directories in $CR_TEST_DIR"
}

pw_ready() {
	timeout --foreground 5 pw-cli info 0 >/dev/null 2>&1
}

wireplumber_ready() {
	# session-services.lua runs after every other component (wireplumber.conf), and sets
	# session.services on WirePlumber's client: the policy is loaded when it appears.
	timeout --foreground 5 pw-dump 2>/dev/null | jq -e 'any(.[]; .type == "PipeWire:Interface:Client"
		and .info.props["application.name"] == "WirePlumber"
		and .info.props["session.services"] != null)' >/dev/null 2>&1
}

dbus_ready() {
	timeout --foreground 5 dbus-send --session --dest=org.freedesktop.DBus --type=method_call \
		--print-reply / org.freedesktop.DBus.GetId >/dev/null 2>&1
}

# Starts a private session bus on $CR_TEST_DIR/bus (no service activation: nothing a test does
# may start a real service or reach the user's bus) and exports DBUS_SESSION_BUS_ADDRESS.
dbus_start() {
	cat >"$CR_TEST_DIR/dbus.conf" <<-EOF
		<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
		 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
		<busconfig>
		  <type>session</type>
		  <listen>unix:path=$CR_TEST_DIR/bus</listen>
		  <auth>EXTERNAL</auth>
		  <policy context="default">
		    <allow send_destination="*" eavesdrop="true"/>
		    <allow eavesdrop="true"/>
		    <allow own="*"/>
		  </policy>
		</busconfig>
	EOF
	bg_start dbus dbus-daemon --nofork --nopidfile --config-file="$CR_TEST_DIR/dbus.conf"
	export DBUS_SESSION_BUS_ADDRESS="unix:path=$CR_TEST_DIR/bus"
	poll_until 10 dbus_ready ||
		cr_broken "the private D-Bus session bus did not come up within 10 s"
}

# Starts a private session bus, pipewire and wireplumber; returns when WirePlumber's policy
# is loaded. Exits 77 when a program is missing and 99 when one does not come up in time.
pw_env_start() {
	need_prog pipewire wireplumber pw-cli pw-dump jq timeout
	cr_test_init

	# A private session bus without service activation: WirePlumber and PipeWire's portal
	# module use it, and nothing a test does may reach the user's bus (a real portal).
	if command -v dbus-daemon >/dev/null 2>&1 && command -v dbus-send >/dev/null 2>&1; then
		dbus_start
	else
		cr_log "dbus-daemon not found: running without a session bus"
	fi

	# No hardware monitors: the test graph holds only what the test creates.
	mkdir -p "$XDG_CONFIG_HOME/wireplumber/wireplumber.conf.d"
	cat >"$XDG_CONFIG_HOME/wireplumber/wireplumber.conf.d/50-castrelay-test.conf" <<-EOF
		# SPDX-License-Identifier: MIT
		wireplumber.profiles = {
		  main = {
		    hardware.audio = disabled
		    hardware.bluetooth = disabled
		    hardware.video-capture = disabled
		  }
		}
	EOF

	bg_start pipewire pipewire
	poll_until 15 pw_ready || cr_broken "pipewire did not come up (pw-cli info 0) within 15 s"
	bg_start wireplumber wireplumber
	poll_until 30 wireplumber_ready || cr_broken "wireplumber did not load its policy within 30 s"
	cr_log "private PipeWire ready in $XDG_RUNTIME_DIR"
}

# ---------------------------------------------------------------------------------------------
# Graph inspection (pw-dump + jq)

# pw_dump_node NAME : the pw-dump object of the node called NAME (empty if none).
pw_dump_node() {
	timeout --foreground 5 pw-dump 2>/dev/null | jq -c --arg n "$1" \
		'first(.[] | select(.type == "PipeWire:Interface:Node"
			and .info.props["node.name"] == $n)) // empty' 2>/dev/null
}

node_exists() {
	[ -n "$(pw_dump_node "$1")" ]
}

# node_prop NAME KEY : prints the property KEY of node NAME (nothing when absent).
node_prop() {
	pw_dump_node "$1" | jq -r --arg k "$2" '.info.props[$k] // empty | tostring' 2>/dev/null
}

# wait_for_node NAME [TIMEOUT_S]
wait_for_node() {
	poll_until "${2:-10}" node_exists "$1"
}

node_absent() {
	! node_exists "$1"
}

# wait_for_node_gone NAME [TIMEOUT_S]
wait_for_node_gone() {
	poll_until "${2:-10}" node_absent "$1"
}

# node_prop_is NAME KEY VALUE : true when the property has that value now.
node_prop_is() {
	[ "$(node_prop "$1" "$2")" = "$3" ]
}

# wait_for_prop NAME KEY VALUE [TIMEOUT_S]
wait_for_prop() {
	poll_until "${4:-10}" node_prop_is "$1" "$2" "$3"
}
