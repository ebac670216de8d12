#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The systemd contract (Type=notify): castrelayd sends READY=1 with a STATUS line once PipeWire
# and Vulkan are up, a STATUS line whenever a relay changes state, WATCHDOG=1 at half the WatchdogSec interval, STOPPING=1 on SIGTERM. A
# private NOTIFY_SOCKET stands in for the service manager. The unit file passes
# systemd-analyze verify with every key known, and has the keys the daemon relies on.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc
need_prog python3
need_prog systemd-analyze
pw_env_start

start_notify_listener

start_testsrc castrelay-testsrc --size 160x120 --fps 30
export NOTIFY_SOCKET=$CR_NOTIFY_SOCKET WATCHDOG_USEC=1000000
start_daemon n1 --source castrelay-testsrc --name n1
unset NOTIFY_SOCKET WATCHDOG_USEC
check "READY=1 with a STATUS line naming the relay" poll_until 10 grep -q \
	'READY=1 | STATUS=n1: ' "$CR_NOTIFY_LOG"
check "a STATUS line (READY's or a later one) says the relay is relaying" poll_until 10 \
	grep -q 'STATUS=n1: relaying' "$CR_NOTIFY_LOG"
check "WATCHDOG=1 pings (every 0.5 s for WatchdogSec=1)" poll_until 5 \
	sh -c "[ \$(grep -c '^WATCHDOG=1' '$CR_NOTIFY_LOG') -ge 2 ]"
stop_daemon n1
check "STOPPING=1 after SIGTERM" poll_until 5 grep -q '^STOPPING=1' "$CR_NOTIFY_LOG"
bg_stop notify TERM 5

unit=$CR_BUILD_ROOT/systemd/castrelay.service
if [ -f "$unit" ]; then
	# verify resolves ExecStart: point it at the built binary in a copy.
	sed "s|^ExecStart=[^ ]*|ExecStart=$CASTRELAYD|" "$unit" >"$CR_TEST_DIR/castrelay.service"
	# --user: pipewire.service is a user unit; the private XDG_RUNTIME_DIR hosts its manager.
	run_fg analyze 30 systemd-analyze --user verify --man=no "$CR_TEST_DIR/castrelay.service"
	check_eq "systemd-analyze verify castrelay.service" "$CR_RC" 0
	# verify only warns about keys it does not know.
	check "systemd-analyze accepts every key of the unit" \
		sh -c "! grep -Ei 'unknown|ignoring|invalid' '$(bg_log analyze)'"
	for key in StateDirectory=castrelay CacheDirectory=castrelay Wants=pipewire.service \
		'ExecReload=kill -HUP \$MAINPID' Restart=on-failure; do
		check "the unit has $key" grep -qx "$key" "$unit"
	done
	check "the unit starts castrelayd without -c (the configuration search)" \
		grep -qx "ExecStart=[^ ]*/castrelayd" "$unit"
	check "the unit does not stop with PipeWire (no BindsTo=)" \
		sh -c "! grep -q '^BindsTo=' '$unit'"
else
	check_fail "the unit was built" "$unit missing"
fi
cr_finish
