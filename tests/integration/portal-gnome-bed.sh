#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The headless GNOME screencast bed (tests/lib/gnome-env.sh) with a stand-in portal client
# (tests/lib/portal-client.py) instead of castrelayd: real mutter, xdg-desktop-portal-gnome,
# xdg-desktop-portal and xdg-permission-store from Debian, a window with known content.
#  1. With the grant a user's "remember" leaves: two sessions one after the other, each Start
#     without a dialog, the same token back, 60 frames each with the exact pattern.
#  2. The portal stored the grant again under the same token when the sessions closed.
#  3. Mutter ends the screencast (tests/lib/gnome-env.sh's gnome_stop_screencasts): the client
#     gets Session.Closed, and a new session with the same token starts again without a dialog.
#  4. A restore token without a grant: the GNOME backend opens its chooser, which nobody can click
#     here, so Start gets no Response. This is why the tests pre-seed the grant.
set -u
CR_SOURCE_ROOT=${CR_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$CR_SOURCE_ROOT/tests/lib/pw-env.sh" || exit 99
. "$CR_SOURCE_ROOT/tests/lib/gnome-env.sh" || exit 99
need_prog gst-launch-1.0
gst-inspect-1.0 pipewiresrc >/dev/null 2>&1 || cr_skip "GStreamer's pipewiresrc is not installed"

t_all=$(now_ms)
gnome_env_start
gnome_client_start

client=("$CR_PYTHON" "$CR_SOURCE_ROOT/tests/lib/portal-client.py")

# 1. The pre-seeded grant: two sessions, no dialog.
token=$(gnome_new_token)
gnome_seed_grant "$token"
t0=$(now_ms)
run_fg portal-client 60 "${client[@]}" portal --token "$token" --sessions 2 --frames 60 \
	--timeout "$(cr_timeout 15)"
cr_log "two portal sessions with 60 frames each: $(($(now_ms) - t0)) ms"
log=$(bg_log portal-client)
check_eq "portal client exit status" "$CR_RC" 0
check_eq "sessions started without a chooser" "$(grep -c '^start_ms:' "$log")" 2
check_eq "restore token returned by each Start" "$(sed -n 's/^token: //p' "$log" | sort -u)" "$token"
check_eq "stream size" "$(sed -n 's/^size: //p' "$log" | sort -u)" "1280x720"
check_eq "frames received per session" "$(sed -n 's/^frames: //p' "$log" | sort -u)" 60
check_eq "frames with the right pattern per session" "$(sed -n 's/^good: //p' "$log" | sort -u)" 60
cr_log "exact frames: $(sed -n 's/^exact: //p' "$log" | xargs), fps: $(sed -n 's/^fps: //p' "$log" | xargs)"

# 2. Closing stored the grant again under the same token.
check "the grant is back in the permission store under the same token" gnome_grant_exists "$token"

# 3. The compositor ends each session (as "stop sharing" would): the portal says Closed, the
# grant survives, and the next session with the same token starts without a chooser.
awaiting_closed() {
	[ "$(grep -c '^awaiting: Closed' "$(bg_log ended)")" -ge "$1" ]
}
bg_start ended "${client[@]}" portal --token "$token" --sessions 2 --frames 30 --end compositor \
	--timeout "$(cr_timeout 15)"
for n in 1 2; do
	gnome_wait "session $n's frames, then its wait for Closed" 30 \
		awaiting_closed "$n" ||
		check_fail "session $n of the stand-in reached 'awaiting: Closed'"
	check "mutter ends session $n's screencast" gnome_stop_screencasts
done
bg_wait ended 30
check_eq "stand-in client (sessions ended by the compositor) exit status" "$CR_RC" 0
log=$(bg_log ended)
check_eq "Session.Closed received" "$(grep -c '^closed_ms:' "$log")" 2
check_eq "frames with the right pattern after each restart" \
	"$(sed -n 's/^good: //p' "$log" | xargs)" "30 30"
cr_log "Closed after $(sed -n 's/^closed_ms: //p' "$log" | xargs) ms"
check "the grant is still there after the compositor ended the session" gnome_grant_exists "$token"

# 4. No grant: the chooser. Last, because closing a session whose chooser is open (the client's
# exit does) crashes xdg-desktop-portal-gnome 43.1 (SIGSEGV in libgtk-4) here.
bg_unwatch portal-gnome
stray=$(gnome_new_token)
run_fg no-grant 30 "${client[@]}" portal --token "$stray" --sessions 1 --timeout 5
check_eq "Start with an unknown restore token fails" "$CR_RC" 1
check_file_contains "... because no Response came (a chooser is waiting)" \
	"$(bg_log no-grant)" "Start: no Response within"
# The dialog has no parent window ("" from the client): the backend says so when it creates it.
check_file_contains "xdg-desktop-portal-gnome opened its chooser dialog" "$(bg_log portal-gnome)" \
	"Failed to associate portal window with parent window"
if poll_until 2 bg_reap portal-gnome; then
	cr_log "xdg-desktop-portal-gnome exited with ${CR_BG_STATUS[portal-gnome]} after its" \
		"chooser's session was closed (139: the SIGSEGV seen here with 43.1)"
fi

cr_log "portal-gnome-bed: $(($(now_ms) - t_all)) ms in all"
cr_finish
