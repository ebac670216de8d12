#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Portal mode end to end (issue #11): castrelayd --source portal against tests/lib/fake-portal.py
# on the test's private session bus, which hands out a PipeWire fd of the test's PipeWire and
# the node of castrelay-testsrc. Checked: the first run shows a dialog and stores the restore
# token (0600); the second run sends it back and shows none; Closed mid-stream pauses the relay
# (lost) and a new session brings frames back on the same output node without a dialog; a
# cancelled dialog gives its message and no new dialog until SIGHUP, which asks again; SIGTERM
# while a dialog is open exits 0. The portal's PipeWire fd stays castrelayd's: close-on-exec,
# held by no other process.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
need_prog gdbus
pw_env_start
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || cr_broken "pw_env_start started no session bus"
python=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import dbus, gi' >/dev/null 2>&1; then
		python=$p
		break
	fi
done
[ -n "$python" ] || check_fail "a python3 with the dbus and gi modules (python3-dbus python3-gi)"
[ -n "$python" ] || cr_finish

export XDG_STATE_HOME=$CR_TEST_DIR/state
unset STATE_DIRECTORY
token_file=$XDG_STATE_HOME/castrelay/screen.token

start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30
bg_start portal "$python" "$CR_SOURCE_ROOT/tests/lib/fake-portal.py" \
	--node-name castrelay-testsrc --size 320x240
portal_up() {
	gdbus call --session -d org.freedesktop.DBus -o /org/freedesktop/DBus \
		-m org.freedesktop.DBus.NameHasOwner org.freedesktop.portal.Desktop 2>/dev/null |
		grep -q true
}
check "the fake portal owns org.freedesktop.portal.Desktop" poll_until 10 portal_up

fake() { # fake METHOD [ARGS...]
	gdbus call --session -d org.freedesktop.portal.Desktop -o /org/freedesktop/portal/desktop \
		-m "org.castrelay.FakePortal.$1" "${@:2}"
}
stat_of() { # stat_of NAME : one counter of Stats()
	# gdbus prints "'dialogs': <uint32 1>" (or "<1>")
	fake Stats | grep -o "'$1': <[^>]*>" | grep -o '[0-9]\+>' | tr -d '>' | head -n 1
}
dialogs_above() { # dialogs_above N : more than N dialogs were shown
	local n
	n=$(stat_of dialogs)
	[ -n "$n" ] && [ "$n" -gt "$1" ]
}
relay_ok() { # relay_ok LABEL : a consumer gets verified frames from castrelay.screen
	run_sink 30 --target castrelay.screen --frames 20 --skip 5 --verify 320x240
	check_sink_report 15 "BGRx 320x240"
}
# The fds of PID above 2 that a child would inherit (no O_CLOEXEC in fdinfo's octal flags).
inheritable_fds() {
	local f fd flags
	for f in "/proc/$1/fdinfo/"*; do
		fd=${f##*/}
		[ "$fd" -gt 2 ] || continue
		flags=$(sed -n 's/^flags:[[:space:]]*//p' "$f" 2>/dev/null)
		[ -n "$flags" ] || continue # closed meanwhile
		(((8#$flags & 8#2000000) != 0)) || printf '%s ' "$fd"
	done
}
socket_count() { # socket_count PID
	find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -lname 'socket:*' 2>/dev/null | wc -l
}
# The sockets of castrelayd (pid $1) that another process holds too, the portal that made the
# remote (pid $2) aside: a descriptor passed on (SCM_RIGHTS) or inherited keeps its inode.
sharers() {
	find /proc/[0-9]*/fd -mindepth 1 -maxdepth 1 -lname 'socket:*' -printf '%h %l\n' \
		2>/dev/null | awk -v own="/proc/$1/fd" -v portal="/proc/$2/fd" '
		$1 == own { mine[$2] = 1; next }
		$1 != portal { other[$2] = other[$2] " " $1 }
		END { for (s in mine) if (s in other) printf "%s held by%s; ", s, other[s] }'
}

# 1. First run: a dialog, frames, the token stored.
start_daemon screen --source portal --name screen -v
check_eq "first run: dialogs shown" "$(stat_of dialogs)" 1
relay_ok
check "the restore token is stored" test -s "$token_file"
check_eq "the token file's mode" "$(stat -c %a "$token_file")" 600
check_eq "the stored token is the portal's" "$(cat "$token_file")" \
	"$(fake Stats | sed -n "s/.*'last_token': <'\([^']*\)'>.*/\1/p")"
check_file_contains "the portal's fd is used (input on its own connection)" \
	"$(bg_log castrelayd)" "portal stream: node"
# The portal's PipeWire remote is never exposed (issue #14): with it in use, no descriptor of
# castrelayd survives an exec, and no other process holds any of castrelayd's sockets.
pid=$(bg_pid castrelayd)
# PipeWire input and output, the portal's remote, the session bus.
check_int_ge "castrelayd's sockets" "$(socket_count "$pid")" 4
check_eq "castrelayd's fds without close-on-exec" "$(inheritable_fds "$pid")" ""
check_eq "other processes holding a socket of castrelayd" \
	"$(sharers "$pid" "$(bg_pid portal)")" ""
stop_daemon screen

# 2. Second run: the token goes back, no dialog.
start_daemon screen --source portal --name screen -v
relay_ok
check_eq "second run: no new dialog" "$(stat_of dialogs)" 1
check_eq "second run: the token was valid" "$(stat_of tokens_valid)" 1

# 3. Closed mid-stream: lost, then a new session (silent, with the new token) within ~1 s.
node_id=$(pw_dump_node castrelay.screen | jq -r .id)
sessions=$(stat_of sessions)
fake CloseAll >/dev/null
check "Closed: castrelay.source.state is lost" \
	wait_for_prop castrelay.screen castrelay.source.state lost 5
check "a new session relays again" \
	wait_for_prop castrelay.screen castrelay.source.state relaying 15
check_int_ge "a new session was created" "$(stat_of sessions)" $((sessions + 1))
check_eq "no dialog for the new session" "$(stat_of dialogs)" 1
check_eq "the output node kept its id" "$(pw_dump_node castrelay.screen | jq -r .id)" "$node_id"
relay_ok
stop_daemon screen

# 4. A cancelled dialog: its message, no dialog again by itself; SIGHUP asks again.
rm -f "$token_file"
fake SetNextDialog cancel >/dev/null
bg_start castrelayd "$CASTRELAYD" --source portal --name screen -v
check "the cancel is logged with what comes next" wait_for_log castrelayd \
	"cancelled.*SIGHUP" 15
check_eq "one dialog for the cancelled session" "$(stat_of dialogs)" 2
dialogs_before=$(stat_of dialogs)
# Longer than the first retry (1 s): a cancelled dialog must not come back by itself.
sleep 2.5 # the window in which a wrong retry would show; not a readiness wait
check_eq "no dialog after the cancel without SIGHUP" "$(stat_of dialogs)" "$dialogs_before"
kill -HUP "$(bg_pid castrelayd)"
check "SIGHUP shows the dialog again" poll_until 10 dialogs_above "$dialogs_before"
check "castrelay.screen relays after the new dialog" wait_for_node castrelay.screen 15
relay_ok
stop_daemon screen

# 5. SIGTERM while the dialog is open: exit 0.
rm -f "$token_file"
fake SetNextDialog hold >/dev/null
bg_start castrelayd "$CASTRELAYD" --source portal --name screen -v
check "the dialog is open" poll_until 10 dialogs_above 3
bg_stop castrelayd TERM 10
check_eq "SIGTERM with the dialog open: exit status" "$CR_RC" 0
cr_finish
