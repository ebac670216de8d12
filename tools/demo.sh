#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# castrelay in one command: installs what is missing, builds ./build, and relays a test pattern
#
#   castrelay-testsrc 1280x720 --> castrelayd (crop 320,180,640,360, scale 480x270, GPU)
#     --> castrelay-sink (90 frames, every pixel checked against the CPU reference)
#
# then prints frames, frame rate, latency and where three of the frames were saved as PNG.
# Uses the PipeWire of this session when one answers; otherwise starts a private PipeWire and
# WirePlumber for the duration of the demo. Everything it starts is stopped when it ends,
# also on Ctrl-C.
#
# Usage: tools/demo.sh        (PNGs in ./demo-out/; CR_BUILD_DIR=dir builds elsewhere than ./build)
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
out=$root/demo-out

bash tools/deps.sh || exit 1
build=${CR_BUILD_DIR:-build}
if [ -d "$build/meson-private" ]; then
	meson setup --reconfigure "$build" >/dev/null || exit 1
else
	meson setup "$build" || exit 1
fi
ninja -C "$build" || exit 1

CR_BUILD_ROOT=$(cd "$build" && pwd) || exit 1
export CR_BUILD_ROOT CR_TEST_NAME=demo
# shellcheck source=tests/lib/castrelay.sh
. "$root/tests/lib/castrelay.sh"
need_castrelay daemon testsrc sink
cr_tmpdir_init

session_pipewire() {
	[ -n "${XDG_RUNTIME_DIR:-}" ] && [ -S "${PIPEWIRE_RUNTIME_DIR:-$XDG_RUNTIME_DIR}/pipewire-0" ] &&
		timeout --foreground 5 pw-cli info 0 >/dev/null 2>&1
}
if session_pipewire; then
	cr_log "using the PipeWire of this session (${PIPEWIRE_RUNTIME_DIR:-$XDG_RUNTIME_DIR})"
else
	cr_log "no PipeWire answers for this user: starting a private one for the demo"
	pw_env_start
fi

mkdir -p "$out" || exit 1
rm -f "$out"/frame-*.png

start_testsrc castrelay-testsrc --size 1280x720 --format BGRx --fps 30
start_daemon demo --source castrelay-testsrc --name demo --crop 320,180,640,360 --scale 480x270
run_sink 60 --target castrelay.demo --frames 90 --png-dir "$out" --png-every 30 \
	--verify 1280x720 --crop 320,180,640,360
check_sink_report 90 "BGRx 480x270"

echo
echo "castrelay demo: 1280x720 test pattern, cropped to 640x360 at 320,180, scaled to 480x270"
echo "  frames:      $(sink_line frames)"
echo "  fps:         $(sink_line fps)"
echo "  latency_us:  $(sink_line latency_us)"
echo "  first frame: $(sink_line first_frame_ms) ms from its capture to the consumer"
echo "  format:      $(sink_line format)"
echo "  verify:      $(sink_line verify)"
echo "  transport:   in $(node_prop castrelay.demo castrelay.input.transport)," \
	"out $(node_prop castrelay.demo castrelay.output.transport)"
echo "  PNGs:        $(find "$out" -maxdepth 1 -name 'frame-*.png' | sort | tr '\n' ' ')"
echo

stop_daemon demo
cr_finish
