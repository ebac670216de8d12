# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# A headless, GPU-less GNOME screencast stack for the portal tests (sourced after pw-env.sh;
# defines functions only, starts nothing when sourced):
#
#   . "$CR_SOURCE_ROOT/tests/lib/pw-env.sh"
#   . "$CR_SOURCE_ROOT/tests/lib/gnome-env.sh"
#   gnome_env_start       # pw_env_start (private D-Bus, PipeWire, WirePlumber), then mutter
#                         # --headless with one 1280x720 virtual monitor, xdg-permission-store,
#                         # xdg-desktop-portal-gnome and xdg-desktop-portal on that bus
#   gnome_client_start    # a fullscreen window with the known four-quadrant pattern
#   gnome_seed_grant UUID # what a user's "remember" leaves: no chooser for that restore token
#
# Everything comes from Debian 12 packages (tools/deps.sh): mutter 43, xdg-desktop-portal 1.16,
# xdg-desktop-portal-gnome 43. The private bus has no service activation, so every service is
# started here, in dependency order, and each one's readiness is polled (a bus name, an exported
# interface, a property), never slept for. Every wait prints what it waits for and how long it
# took; teardown (pw-env.sh's trap) stops everything and prints every log on failure.
#
# Why the pre-seeded grant matters: without restore data the GNOME backend answers Start with a
# chooser dialog (a GTK window on mutter's display) that nobody can click in a headless test, and
# the Start request never gets its Response. xdg-desktop-portal keeps a granted restore token in
# the permission store, table "screencast", id = the token (a UUID), app permissions
# { "<app id>": ["yes"] } ("" for an unsandboxed process) and data = the backend's restore data;
# the GNOME backend's (43) format is ('GNOME', uint32 1, <(int64 created_us, int64 last_used_us,
# [(uint32 stream id, uint32 source type 1 = monitor, <'vendor:product:serial'>)])>), the monitor
# named as org.gnome.Mutter.DisplayConfig.GetCurrentState names it. SelectSources with that
# restore_token deletes the entry and hands the data to the backend, which then starts without a
# dialog; Start returns the same token and stores the entry again (and again on Session.Close).

# /usr/bin/python3 on purpose: python3-gi and python3-dbus are Debian packages, and a python3
# earlier in PATH (pyenv, a venv) does not see them.
CR_PYTHON=${CR_PYTHON:-/usr/bin/python3}
GNOME_WAYLAND_DISPLAY=wayland-castrelay
GNOME_MONITOR=${GNOME_MONITOR:-1280x720}
GNOME_PORTAL_PATH=/org/freedesktop/portal/desktop

# gnome_wait WHAT TIMEOUT_S CMD... : polls CMD (poll_until), printing what it waits for and how
# long it took. Returns poll_until's status.
gnome_wait() {
	local what=$1 timeout=$2 t0 rc
	shift 2
	cr_log "waiting for $what (deadline $(cr_timeout "$timeout") s)"
	t0=$(now_ms)
	poll_until "$timeout" "$@"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		cr_log "$what: after $(($(now_ms) - t0)) ms"
	else
		cr_log "$what: not within $(($(now_ms) - t0)) ms"
	fi
	return "$rc"
}

# gnome_bus ARGS... : busctl on the test's private session bus.
gnome_bus() {
	timeout --foreground 5 busctl --user --no-pager "$@"
}

bus_name_owned() {
	[ "$(gnome_bus call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
		NameHasOwner s "$1" 2>/dev/null)" = "b true" ]
}

# gnome_current_state : Mutter's DisplayConfig state as busctl JSON.
gnome_current_state() {
	gnome_bus --json=short call org.gnome.Mutter.DisplayConfig /org/gnome/Mutter/DisplayConfig \
		org.gnome.Mutter.DisplayConfig GetCurrentState
}

# gnome_monitor_match : "vendor:product:serial" of Mutter's first monitor, the string
# xdg-desktop-portal-gnome's restore data names a monitor with.
gnome_monitor_match() {
	gnome_current_state | jq -er '.data[1][0][0] | "\(.[1]):\(.[2]):\(.[3])"'
}

mutter_ready() {
	[ -S "$XDG_RUNTIME_DIR/$GNOME_WAYLAND_DISPLAY" ] &&
		bus_name_owned org.gnome.Mutter.ScreenCast &&
		gnome_monitor_match >/dev/null 2>&1
}

portal_gnome_ready() {
	gnome_bus get-property org.freedesktop.impl.portal.desktop.gnome "$GNOME_PORTAL_PATH" \
		org.freedesktop.impl.portal.ScreenCast AvailableSourceTypes >/dev/null 2>&1
}

portal_ready() {
	local v
	v=$(gnome_bus get-property org.freedesktop.portal.Desktop "$GNOME_PORTAL_PATH" \
		org.freedesktop.portal.ScreenCast AvailableSourceTypes 2>/dev/null) || return 1
	[ "$v" != "u 0" ]
}

# Starts the whole stack; returns when xdg-desktop-portal offers ScreenCast with monitors.
# Exits 77 when a program is missing, 99 when a service does not come up.
gnome_env_start() {
	local libexec=/usr/libexec p t0
	need_prog mutter busctl jq
	for p in xdg-permission-store xdg-desktop-portal-gnome xdg-desktop-portal; do
		[ -x "$libexec/$p" ] || cr_skip "$libexec/$p is not installed (tools/deps.sh installs it)"
	done
	[ -x "$CR_PYTHON" ] || cr_skip "$CR_PYTHON is not installed"
	"$CR_PYTHON" -c 'import gi, dbus' 2>/dev/null ||
		cr_skip "python3-gi or python3-dbus is not installed (tools/deps.sh installs them)"

	t0=$(now_ms)
	pw_env_start
	cr_log "private D-Bus, PipeWire and WirePlumber: $(($(now_ms) - t0)) ms"

	# The desktop's environment, private to the test. GSettings in memory: no dconf daemon, no
	# writes to the user's settings. No accessibility bus. Software GL for mutter's
	# surfaceless EGL renderer (there is no DRM device; mutter 43 also disables DMA-BUF
	# screencasts without hardware acceleration, so frames are shared memory).
	export XDG_DATA_HOME="$CR_TEST_DIR/data" XDG_CACHE_HOME="$CR_TEST_DIR/cache"
	mkdir -m 0700 "$XDG_DATA_HOME" "$XDG_CACHE_HOME" || cr_broken "cannot create directories"
	export XDG_CURRENT_DESKTOP=GNOME XDG_SESSION_TYPE=wayland XDG_SESSION_DESKTOP=gnome
	export GSETTINGS_BACKEND=memory LIBGL_ALWAYS_SOFTWARE=1 NO_AT_BRIDGE=1 GTK_A11Y=none
	export GIO_USE_VFS=local GDK_BACKEND=wayland WAYLAND_DISPLAY=$GNOME_WAYLAND_DISPLAY
	unset DISPLAY

	bg_start mutter mutter --headless --wayland --no-x11 --wayland-display="$GNOME_WAYLAND_DISPLAY" \
		--virtual-monitor "$GNOME_MONITOR"
	gnome_wait "mutter (Wayland socket, org.gnome.Mutter.ScreenCast, a monitor)" 30 mutter_ready ||
		cr_broken "mutter did not come up"
	cr_log "mutter's monitor: $(gnome_monitor_match)"

	bg_start permission-store "$libexec/xdg-permission-store" --replace
	gnome_wait "xdg-permission-store (org.freedesktop.impl.portal.PermissionStore)" 15 \
		bus_name_owned org.freedesktop.impl.portal.PermissionStore ||
		cr_broken "xdg-permission-store did not come up"

	# The backend exports its ScreenCast interface only once it sees Mutter's ScreenCast, and
	# xdg-desktop-portal reads the backend's interfaces when it starts: wait for the interface.
	bg_start portal-gnome "$libexec/xdg-desktop-portal-gnome" --verbose --replace
	gnome_wait "xdg-desktop-portal-gnome (org.freedesktop.impl.portal.ScreenCast)" 30 \
		portal_gnome_ready || cr_broken "xdg-desktop-portal-gnome did not come up"

	bg_start portal "$libexec/xdg-desktop-portal" --verbose --replace
	gnome_wait "xdg-desktop-portal (org.freedesktop.portal.ScreenCast with monitors)" 30 \
		portal_ready || cr_broken "xdg-desktop-portal did not come up"
	cr_log "GNOME screencast stack ready in $(($(now_ms) - t0)) ms"
}

# gnome_client_start : a fullscreen window with gnome-client.py's four-quadrant pattern on
# mutter's display; returns once it has drawn at the monitor's size.
gnome_client_start() {
	bg_start client "$CR_PYTHON" "$CR_SOURCE_ROOT/tests/lib/gnome-client.py"
	gnome_wait "the client window (fullscreen, drawn at $GNOME_MONITOR)" 30 \
		grep -qx "drawn $GNOME_MONITOR" "$(bg_log client)" ||
		cr_broken "the client window did not appear fullscreen"
}

# gnome_seed_grant TOKEN [APP_ID] : writes the permission-store entry a user's "remember this
# choice" leaves for TOKEN: the whole first monitor, granted to APP_ID ("" = unsandboxed).
gnome_seed_grant() {
	local token=$1 app=${2:-} match now
	match=$(gnome_monitor_match) || cr_broken "cannot read mutter's monitor"
	now=$(($(now_ms) * 1000))
	gnome_bus call org.freedesktop.impl.portal.PermissionStore \
		/org/freedesktop/impl/portal/PermissionStore org.freedesktop.impl.portal.PermissionStore \
		Set 'sbsa{sas}v' screencast true "$token" 1 "$app" 1 yes \
		'(suv)' GNOME 1 '(xxa(uuv))' "$now" "$now" 1 0 1 s "$match" ||
		cr_broken "PermissionStore.Set failed"
	cr_log "seeded the screencast grant: token $token, app '$app', monitor '$match'"
}

# gnome_grant_exists TOKEN : the permission store has an entry for TOKEN.
gnome_grant_exists() {
	gnome_bus call org.freedesktop.impl.portal.PermissionStore \
		/org/freedesktop/impl/portal/PermissionStore org.freedesktop.impl.portal.PermissionStore \
		Lookup ss screencast "$1" >/dev/null 2>&1
}

# gnome_new_token : a fresh restore token (xdg-desktop-portal accepts only UUIDs).
gnome_new_token() {
	cat /proc/sys/kernel/random/uuid
}

# gnome_screencast_clients : the PipeWire client ids of mutter's screencast streams (mutter 43
# opens one PipeWire connection per stream).
gnome_screencast_clients() {
	timeout --foreground 5 pw-dump 2>/dev/null | jq -r '.[] | select(.type == "PipeWire:Interface:Node"
		and .info.props["media.class"] == "Stream/Output/Video"
		and .info.props["node.name"] == "mutter") | .info.props["client.id"]' | sort -u
}

# gnome_stop_screencasts : mutter ends every screencast, as when the user stops sharing in
# GNOME Shell (which plain mutter lacks; mutter's Session.Stop answers only the session's
# creator, xdg-desktop-portal-gnome). Destroying a stream's PipeWire client makes mutter see
# EPIPE on its connection, close the stream and its session, and the Closed signal travels
# through xdg-desktop-portal-gnome and xdg-desktop-portal to the portal client. (Destroying only
# the node does not: the stream goes unconnected and mutter keeps the session.)
# Prints how many were stopped; returns 1 when there was none.
gnome_stop_screencasts() {
	local ids id n=0
	ids=$(gnome_screencast_clients)
	for id in $ids; do
		timeout --foreground 5 pw-cli destroy "$id" >/dev/null 2>&1 && n=$((n + 1))
	done
	cr_log "stopped $n mutter screencast stream(s) (PipeWire clients: ${ids//$'\n'/ })"
	[ "$n" -gt 0 ]
}
