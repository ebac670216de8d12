#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds castrelay with --werror in ./build and runs the default test suites: unit, integration
# and, where tests/vm exists, vm; then unit and integration again in a sanitizer build, and the
# fuzz suite in a clang build, ./build-fuzz-clang (see their blocks below). (gpu and bench are
# run explicitly: meson test -C build --suite gpu, meson test -C build --benchmark.) This is
# what CI runs (.ci/run).
#
# Usage: tools/test.sh [MESON-TEST-ARGS...]   e.g. tools/test.sh --timeout-multiplier 3
# (CR_BUILD_DIR=dir uses another build directory than ./build.)
#
# A skipped test (exit 77) fails the run unless CR_ALLOW_SKIP names it: a space- or
# comma-separated list of test names or glob patterns, matched against the full name
# ("castrelay:integration / gstreamer") and the short one ("gstreamer").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${CR_BUILD_DIR:-build}

bash tools/deps.sh --vm

if [ -d "$build/meson-private" ]; then
	meson setup --reconfigure --werror "$build"
else
	meson setup --werror "$build"
fi
ninja -C "$build"

suites=(--suite unit --suite integration)
[ -f tests/vm/meson.build ] && suites+=(--suite vm)
rm -f "$build/meson-logs/testlog.json"
status=0
meson test -C "$build" --print-errorlogs "${suites[@]}" "$@" || status=$?

log=$build/meson-logs/testlog.json
if [ ! -s "$log" ]; then
	echo "test.sh: meson wrote no $log" >&2
	exit 1
fi

allowed() {
	local name=$1 short=${1##* / } pattern patterns
	IFS=', ' read -r -a patterns <<<"${CR_ALLOW_SKIP:-}"
	for pattern in "${patterns[@]}"; do
		# shellcheck disable=SC2053 # glob patterns are the point
		[[ $name == $pattern || $short == $pattern ]] && return 0
	done
	return 1
}

# check_skips LOG : reports the skipped tests of meson's testlog.json LOG, counts the unexpected.
unexpected=0
check_skips() {
	local log=$1 name reason
	while IFS= read -r name; do
		reason=$(jq -r --arg n "$name" 'select(.name == $n) | .stdout // ""' "$log" |
			sed -n 's/^SKIP: //p' | head -n 1) || true
		if allowed "$name"; then
			echo "test.sh: skipped (allowed by CR_ALLOW_SKIP): $name${reason:+: $reason}"
		else
			echo "test.sh: UNEXPECTED SKIP: $name${reason:+: $reason}" >&2
			unexpected=$((unexpected + 1))
		fi
	done < <(jq -r 'select(.result == "SKIP") | .name' "$log")
}
check_skips "$log"

# --- sanitizers (issue #14) ------------------------------------------------------------------
# The unit and integration suites again, built with AddressSanitizer (LeakSanitizer included)
# and UndefinedBehaviorSanitizer in their own build directory ($CR_SANITIZE_BUILD_DIR, default
# build-sanitize). Options and suppressions: tests/sanitizers/ (tests/lib/sanitizers.sh); a
# report fails the test that caused it. Not the vm suite (ASan under QEMU TCG is too slow).
# lavapipe's shader compiler runs about 5x slower under ASan's allocator, so the Mesa shader
# cache that the run above filled is shared with every test here, also with those that move
# XDG_CACHE_HOME (the GNOME bed); demo-cold still disables it, as it means to.
# CR_SANITIZE=0 leaves this block out (printed).
if [ "${CR_SANITIZE:-1}" = 0 ]; then
	echo "test.sh: the sanitizer build is left out (CR_SANITIZE=0)"
else
	san_build=${CR_SANITIZE_BUILD_DIR:-build-sanitize}
	san_opts=(--werror "-Db_sanitize=address,undefined" -Db_lundef=false
		-Dc_args=-fno-sanitize-recover=undefined)
	if [ -d "$san_build/meson-private" ]; then
		meson setup --reconfigure "${san_opts[@]}" "$san_build"
	else
		meson setup "${san_opts[@]}" "$san_build"
	fi
	ninja -C "$san_build"
	rm -f "$san_build/meson-logs/testlog.json"
	san_t0=$SECONDS
	(
		# shellcheck source=tests/lib/sanitizers.sh
		. tests/lib/sanitizers.sh
		cr_sanitizer_env "" # no report directory: reports go to stderr, into meson's log
		export MESA_SHADER_CACHE_DIR=${MESA_SHADER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}}
		export CR_TIMEOUT_SCALE=${CR_TIMEOUT_SCALE:-2}
		meson test -C "$san_build" --print-errorlogs --suite unit --suite integration \
			--timeout-multiplier 3 "$@"
	) || status=$?
	echo "test.sh: sanitizer suites took $((SECONDS - san_t0)) s"
	if [ -s "$san_build/meson-logs/testlog.json" ]; then
		check_skips "$san_build/meson-logs/testlog.json"
	else
		echo "test.sh: meson wrote no $san_build/meson-logs/testlog.json" >&2
		[ "$status" -ne 0 ] || status=1
	fi
fi
# --- end of sanitizers -----------------------------------------------------------------------

if [ "$unexpected" -gt 0 ]; then
	echo "test.sh: $unexpected unexpected skip(s); list them in CR_ALLOW_SKIP to accept them" >&2
	[ "$status" -ne 0 ] || status=1
fi
# --- fuzz (tests/fuzz/) ----------------------------------------------------------------------
# The libFuzzer targets in a clang build of their own (ASan, UBSan, coverage), each run for
# CR_FUZZ_TIME seconds (default 60; two at a time on two cores, about 3 minutes); only the
# fuzzers are built there. CR_FUZZ_BUILD_DIR=dir uses another directory than ./build-fuzz-clang.
fuzz_build=${CR_FUZZ_BUILD_DIR:-build-fuzz-clang}
fuzz_status=0
if [ -d "$fuzz_build/meson-private" ]; then
	CC=clang meson setup --reconfigure --werror -Dfuzz=enabled "$fuzz_build" >/dev/null
else
	CC=clang meson setup --werror -Dfuzz=enabled "$fuzz_build" >/dev/null
fi || fuzz_status=$?
[ "$fuzz_status" -ne 0 ] || ninja -C "$fuzz_build" fuzzers || fuzz_status=$?
[ "$fuzz_status" -ne 0 ] ||
	meson test -C "$fuzz_build" --no-rebuild --print-errorlogs --suite fuzz || fuzz_status=$?
if [ "$fuzz_status" -ne 0 ]; then
	echo "test.sh: the fuzz step failed (status $fuzz_status; crash inputs and how to" \
		"reproduce them are in $fuzz_build/meson-logs/testlog.txt)" >&2
	[ "$status" -ne 0 ] || status=1
fi
# --- end fuzz ---------------------------------------------------------------------------------

if [ "$status" -eq 0 ]; then
	echo "test.sh: all tests passed"
else
	echo "test.sh: FAILED (meson test status and skips above)" >&2
fi
exit "$status"
