#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# castrelay.service as a user runs it (issue #14: hardening verified, never assumed): a systemd
# user manager of an unprivileged user (nobody) starts the built unit against the test's
# private PipeWire, with a target relay and a portal relay (tests/lib/fake-portal.py on the
# test's session bus). Checked: READY, frames verified on both relays, the restore token in
# $STATE_DIRECTORY, the drivers' shader cache in $CACHE_DIRECTORY, and the sandbox really in
# place: its own user, mount, network, IPC and UTS namespaces, / read-only, no capabilities,
# no new privileges, a seccomp filter; a clean stop.
#
# As root the test prepares what a login would give the user (a delegated cgroup; a private
# /run in which /run/systemd/system exists, as on a system booted with systemd) and runs itself
# again as that user with --inner. Without root it cannot, and skips.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
unit=$CR_BUILD_ROOT/systemd/castrelay.service
[ -f "$unit" ] || cr_broken "$unit has not been built"
manager=
for m in /usr/lib/systemd/systemd /lib/systemd/systemd; do
	[ -x "$m" ] && manager=$m && break
done
[ -n "$manager" ] || cr_skip "no systemd binary (the systemd package)"
uid=65534 # nobody

if [ "${1:-}" != --inner ]; then
	need_prog unshare setpriv systemctl
	[ "$(id -u)" -eq 0 ] || cr_skip "needs root to give user $uid a cgroup and a private /run"
	# A delegated cgroup in every hierarchy systemd uses (cgroup v2, or v1 + the v2 one).
	cgroups=()
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		cgroups=("/sys/fs/cgroup/castrelay-test.$$")
	else
		for h in unified systemd; do
			cg=/sys/fs/cgroup/$h/castrelay-test.$$
			[ -d "/sys/fs/cgroup/$h" ] && cgroups+=("$cg")
		done
	fi
	[ "${#cgroups[@]}" -gt 0 ] || cr_skip "no cgroup hierarchy for a user manager"
	unshare -m true 2>/dev/null || cr_skip "no mount namespaces here (unshare -m)"
	remove_cgroups() {
		local cg
		for cg in "${cgroups[@]}"; do
			[ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
		done
	}
	trap remove_cgroups EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	for cg in "${cgroups[@]}"; do
		mkdir "$cg" && chown -R "$uid:$uid" "$cg" || cr_broken "cannot create $cg"
	done
	as_user=(setpriv --reuid="$uid" --regid="$uid" --clear-groups)
	"${as_user[@]}" test -r "$CR_SOURCE_ROOT/tests/lib/castrelay.sh" -a -x "$CASTRELAYD" ||
		cr_broken "user $uid cannot read $CR_SOURCE_ROOT or run $CASTRELAYD"
	cr_log "running as user $uid in a private mount namespace, cgroups ${cgroups[*]}"
	# The user's processes go into the cgroups; this shell stays outside to remove them.
	RT=/run/user/$uid USER_ID=$uid CGROUPS="${cgroups[*]}" timeout --foreground -k 5 \
		"$(cr_timeout 170)" unshare -m --propagation private sh -c '
		mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -p /run/systemd/system "$RT" &&
			chown "$USER_ID:$USER_ID" "$RT" || exit 99
		# What PID 1 creates at boot and user managers rely on: the staging directory of
		# unit namespaces, and the inaccessible nodes that a user cannot mknod itself.
		i=/run/systemd/inaccessible
		mkdir -m 0700 /run/systemd/unit-root && mkdir -m 0755 $i && mkdir -m 0000 $i/dir &&
			install -m 0000 /dev/null $i/reg && mkfifo -m 0000 $i/fifo &&
			mknod -m 0000 $i/chr c 0 0 && mknod -m 0000 $i/blk b 0 0 &&
			python3 -c "import socket, sys
socket.socket(socket.AF_UNIX).bind(sys.argv[1])" $i/sock && chmod 0000 $i/sock || exit 99
		for cg in $CGROUPS; do echo $$ >"$cg/cgroup.procs" || exit 99; done
		exec "$@"' inner "${as_user[@]}" --reset-env env PATH=/usr/bin:/bin \
		TMPDIR=/run/user/$uid HOME=/nonexistent CR_SOURCE_ROOT="$CR_SOURCE_ROOT" CR_BUILD_ROOT="$CR_BUILD_ROOT" \
		CASTRELAYD="$CASTRELAYD" CR_TESTSRC="$CR_TESTSRC" CR_SINK="$CR_SINK" \
		CR_TIMEOUT_SCALE="$CR_TIMEOUT_SCALE" ${CR_TEST_KEEP:+CR_TEST_KEEP=1} \
		bash "$0" --inner
	exit $?
fi

# --- as the user ---------------------------------------------------------------------------
need_prog python3 systemctl
pw_env_start
start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30
# The node's id and serial given up front: the portal then runs no pw-dump of its own while
# castrelayd starts (it can take longer than the portal's 10 s on 2 cores compiling kernels).
src=$(pw_dump_node castrelay-testsrc)
bg_start portal python3 "$CR_SOURCE_ROOT/tests/lib/fake-portal.py" --size 320x240 \
	--node-id "$(jq -r .id <<<"$src")" \
	--serial "$(jq -r '.info.props["object.serial"]' <<<"$src")"
portal_up() {
	dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
		org.freedesktop.DBus.NameHasOwner string:org.freedesktop.portal.Desktop \
		2>/dev/null | grep -q true
}
check "the fake portal owns org.freedesktop.portal.Desktop" poll_until 10 portal_up

export HOME=$CR_TEST_DIR
units=$XDG_CONFIG_HOME/systemd/user
mkdir -p "$units/castrelay.service.d" "$XDG_CONFIG_HOME/castrelay"
# The unit's PrivateTmp= hides /tmp, where a build tree may be (a CI clone): the binary under
# test runs from the test directory, which the unit sees as it sees PipeWire's socket there.
install -m 0755 "$CASTRELAYD" "$CR_TEST_DIR/castrelayd" || cr_broken "cannot copy $CASTRELAYD"
sed "s|^ExecStart=.*|ExecStart=$CR_TEST_DIR/castrelayd -v|" "$unit" >"$units/castrelay.service"
# No journal here: the log goes to a file. In a sanitizer build castrelayd's reports go there
# too (teardown reads unit.log): the sandbox cannot write the test's report directory. And no
# LeakSanitizer in the unit: it stops the threads with ptrace, which the unit's system call
# filter refuses ("LeakSanitizer has encountered a fatal error"); the other tests check the same
# code for leaks outside the sandbox.
cat >"$units/castrelay.service.d/test-log.conf" <<-EOF
	[Service]
	StandardOutput=append:$CR_TEST_DIR/unit.log
	StandardError=append:$CR_TEST_DIR/unit.log
	Environment="ASAN_OPTIONS=$(cr_sanitizer_stderr_asan_options):detect_leaks=0"
EOF
# The test runs PipeWire, WirePlumber and the bus: the user manager must not start its own.
for u in pipewire.socket pipewire.service wireplumber.service pipewire-pulse.socket \
	pipewire-pulse.service dbus.socket dbus.service; do
	ln -s /dev/null "$units/$u"
done
cat >"$XDG_CONFIG_HOME/castrelay/castrelay.conf" <<-'EOF'
	castrelay.relays = [
	    { name = "t1" source = { target = "castrelay-testsrc" } }
	    { name = "screen" source = { portal = { } } }
	]
EOF

# The manager's runtime directory is the one a login gives (systemd derives paths inside it from
# the uid); PipeWire's socket and the bus stay in the test's, passed on below.
user_ctl() {
	XDG_RUNTIME_DIR=/run/user/$uid systemctl --user "$@"
}
XDG_RUNTIME_DIR=/run/user/$uid bg_start usermgr "$manager" --user
manager_up() {
	user_ctl is-system-running 2>/dev/null | grep -qE '^(running|degraded)$'
}
check "the user manager runs" poll_until 20 manager_up
user_ctl import-environment VK_DRIVER_FILES VK_ICD_FILENAMES DBUS_SESSION_BUS_ADDRESS \
	PIPEWIRE_RUNTIME_DIR HOME
run_fg start 120 env XDG_RUNTIME_DIR=/run/user/$uid systemctl --user start castrelay.service
check_eq "systemctl --user start castrelay (Type=notify: after READY=1)" "$CR_RC" 0
show() {
	user_ctl show -p "$1" --value castrelay.service
}
pid=$(show MainPID)
if ! check_match "castrelayd runs (MainPID)" "$pid" '^[1-9][0-9]*$'; then
	user_ctl status --no-pager castrelay.service >&2
	bg_print_log unit >&2
	cr_finish
fi
status_relaying() {
	[[ "$(show StatusText)" == *"t1: relaying; screen: relaying"* ]]
}
check "STATUS: both relays relaying" poll_until 30 status_relaying

# The sandbox, as the kernel sees it.
field() {
	sed -n "s/^$1:[[:space:]]*//p" "/proc/$pid/status"
}
check_eq "NoNewPrivs" "$(field NoNewPrivs)" 1
check_eq "Seccomp (a filter)" "$(field Seccomp)" 2
check_eq "bounding capabilities" "$(field CapBnd)" 0000000000000000
check_eq "effective capabilities" "$(field CapEff)" 0000000000000000
for ns in user mnt net uts; do
	check "castrelayd has its own $ns namespace" \
		test "$(readlink "/proc/$pid/ns/$ns")" != "$(readlink "/proc/self/ns/$ns")"
done
mount_opts() { # mount_opts PATH : the per-mount options of PATH's mount point in castrelayd
	awk -v p="$1" '$5 == p { o = $6 } END { print o }' "/proc/$pid/mountinfo"
}
env_of() {
	tr '\0' '\n' <"/proc/$pid/environ" | sed -n "s/^$1=//p"
}
state=$(env_of STATE_DIRECTORY)
cache=$(env_of CACHE_DIRECTORY)
cr_log "STATE_DIRECTORY=$state CACHE_DIRECTORY=$cache"
check_match "/ is read-only for castrelayd" "$(mount_opts /)" '(^|,)ro(,|$)'
check_match "\$CACHE_DIRECTORY is writable" "$(mount_opts "$cache")" '(^|,)rw(,|$)'
check_match "\$STATE_DIRECTORY is writable" "$(mount_opts "$state")" '(^|,)rw(,|$)'
check_match "/tmp is its own" "$(awk '$5 == "/tmp" { print $5 }' "/proc/$pid/mountinfo")" '^/tmp$'

# Frames on both relays.
run_sink 30 --target castrelay.t1 --frames 20 --skip 5 --verify 320x240
check_sink_report 15 "BGRx 320x240"
run_sink 30 --target castrelay.screen --frames 20 --skip 5 --verify 320x240
check_sink_report 15 "BGRx 320x240"
check "the portal relay's restore token is in \$STATE_DIRECTORY" test -s "$state/screen.token"
check_eq "the token's mode" "$(stat -c %a "$state/screen.token" 2>/dev/null)" 600
check "Mesa's shader cache is in \$CACHE_DIRECTORY" \
	sh -c "ls -d '$cache'/mesa_shader_cache* >/dev/null 2>&1"
check "nothing was written to ~/.cache/mesa_shader_cache*" \
	sh -c "! ls -d '$HOME/.cache'/mesa_shader_cache* >/dev/null 2>&1"

run_fg stop 30 env XDG_RUNTIME_DIR=/run/user/$uid systemctl --user stop castrelay.service
check_eq "systemctl --user stop" "$CR_RC" 0
check_eq "the unit's result" "$(show Result)" success
check_eq "castrelayd's exit status" "$(show ExecMainStatus)" 0
check_eq "restarts" "$(show NRestarts)" 0
[ "$CR_FAILURES" -eq 0 ] || bg_print_log unit >&2
user_ctl exit 2>/dev/null
bg_wait usermgr 10
cr_finish
