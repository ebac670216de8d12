#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Runs test-portal (argument 1) against tests/lib/fake-portal.py on a private session bus:
# starts dbus-daemon on a socket in a temporary directory (no service activation, so nothing
# can start a real portal), starts the fake portal there, polls until it owns
# org.freedesktop.portal.Desktop, runs the C test with DBUS_SESSION_BUS_ADDRESS and a state
# directory that does not exist yet (the module creates it, 0700), and tears everything down.
# No PipeWire is needed: without a PipeWire socket the fake hands out one end of a socketpair.
#
# A missing dbus-daemon or python3 with the dbus and gi modules FAILS the test (CI installs
# them with tools/deps.sh): a portal test that skips would hide a broken CI.
#
# Usage: run-portal-test.sh PATH/TO/test-portal   (meson runs it as the unit test "portal";
# CR_TEST_KEEP=1 keeps the temporary directory, CR_TEST_VERBOSE=1 prints the logs on success).
set -u

CR_TEST_NAME=portal
# shellcheck source=../lib/pw-env.sh
. "$(dirname "$0")/../lib/pw-env.sh"

test_bin=${1:?usage: run-portal-test.sh PATH/TO/test-portal}
fake="$(cd "$(dirname "$0")/../lib" && pwd)/fake-portal.py"

fail_setup() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

command -v dbus-daemon >/dev/null 2>&1 ||
	fail_setup "dbus-daemon is not installed (Debian: dbus; tools/deps.sh installs it)"
# pyenv and the like may shadow the system python3 that has the Debian modules.
python=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import dbus, gi' >/dev/null 2>&1; then
		python=$p
		break
	fi
done
[ -n "$python" ] ||
	fail_setup "no python3 with the dbus and gi modules (Debian: python3-dbus python3-gi;" \
		"tools/deps.sh installs them)"

cr_test_init
dbus_start

bg_start fake-portal "$python" "$fake" --node-id 42 --serial 4242 --size 1280x720
portal_owned() {
	timeout --foreground 5 dbus-send --session --dest=org.freedesktop.DBus --type=method_call \
		--print-reply /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
		string:org.freedesktop.portal.Desktop 2>/dev/null | grep -q 'boolean true'
}
poll_until 10 portal_owned || cr_broken "the fake portal did not own its name within 10 s"

export CR_TEST_TMPDIR="$CR_TEST_DIR"
export CR_TEST_STATE_DIR="$CR_TEST_DIR/state/castrelay"
run_fg test-portal 60 ${CR_TEST_VALGRIND:-} "$test_bin"
exit "$CR_RC"
