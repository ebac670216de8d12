#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# First-frame latency of castrelayd, cold and warm (issue #11, README "Cold start"): the demo's
# chain (castrelay-testsrc 1280x720 BGRx 30 fps -> castrelayd crop 320,180,640,360 scale 480x270
# -> verifying castrelay-sink), one fresh daemon per run, with castrelay's pipeline cache and the
# driver's own shader cache each empty/off or warm. Prints one RESULT line per run:
#   ready_ms            castrelayd's start to its "running N relay(s)" line (stderr timestamps)
#   first_frame_ms      the consumer's first frame: the source's capture time -> arrival
#   first_frame_after_start_ms   the consumer's start -> its first frame
#   latency_us, frames, verify   as castrelay-sink reports them
# Checks that every frame verifies and none stalls (p99 < 500 ms); the figures are printed, not
# asserted. meson test -C build --benchmark --suite bench first-frame (lavapipe), or on a GPU:
#   CR_VKDEV=NVIDIA meson test -C build --benchmark --suite bench first-frame
# Environment: CR_VKDEV (--vulkan-device, default llvmpipe), CR_RUNS (space-separated
# LABEL:CASTRELAY_CACHE(empty|keep):DRIVER_CACHE(off|on) specs; default below).
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
# castrelayd's stderr lines stamped with the wall clock, for ready_ms.
export CR_REAL_DAEMON=$CASTRELAYD CASTRELAYD=$CR_SOURCE_ROOT/tests/bench/stamp-stderr.sh
VKDEV=${CR_VKDEV:-llvmpipe}
pw_env_start

export XDG_CACHE_HOME=$CR_TEST_DIR/cache
mkdir -p "$XDG_CACHE_HOME" "$CR_TEST_DIR/driver-cache" || cr_broken "cannot create cache directories"
unset CACHE_DIRECTORY
start_testsrc castrelay-testsrc --size 1280x720 --format BGRx --fps 30

# driver_cache off|on: Mesa's and NVIDIA's shader disk caches, in one directory of the test.
driver_cache() {
	if [ "$1" = on ]; then
		export MESA_SHADER_CACHE_DISABLE=false MESA_SHADER_CACHE_DIR=$CR_TEST_DIR/driver-cache
		export __GL_SHADER_DISK_CACHE=1 __GL_SHADER_DISK_CACHE_PATH=$CR_TEST_DIR/driver-cache
		export __GL_SHADER_DISK_CACHE_SKIP_CLEANUP=1
	else
		export MESA_SHADER_CACHE_DISABLE=true __GL_SHADER_DISK_CACHE=0
		export __GL_SHADER_DISK_CACHE_PATH=$(mktemp -d "$CR_TEST_DIR/driver-off.XXXXXX")
		unset MESA_SHADER_CACHE_DIR __GL_SHADER_DISK_CACHE_SKIP_CLEANUP
	fi
}

# run_chain LABEL CASTRELAY_CACHE DRIVER_CACHE
run_chain() {
	local label=$1 log ts0 tsr p99_us
	[ "$2" = empty ] && rm -rf "$XDG_CACHE_HOME/castrelay"
	driver_cache "$3"
	cr_log "== $label: castrelay cache $2 ($(ls "$XDG_CACHE_HOME/castrelay" 2>/dev/null | xargs))," \
		"driver cache $3 ($(du -sk "$CR_TEST_DIR/driver-cache" | cut -f1) KB)"
	start_daemon demo -v --vulkan-device "$VKDEV" --source castrelay-testsrc --name demo \
		--crop 320,180,640,360 --scale 480x270
	check "castrelayd is ready ($label)" wait_for_log castrelayd "daemon: info: running [0-9]+ relay" 120
	log=$(bg_log castrelayd)
	ts0=$(sed -n 's/^\([0-9.]*\) stamp-stderr: start$/\1/p' "$log" | head -1)
	tsr=$(grep -E 'daemon: info: running [0-9]+ relay' "$log" | head -1 | cut -d' ' -f1)
	run_sink 30 --target castrelay.demo --frames 60 --verify 1280x720 --crop 320,180,640,360
	check_sink_report 60 "BGRx 480x270"
	p99_us=$(sink_line latency_us | sed -n 's/.*p99=\([0-9]*\).*/\1/p')
	check_int_le "latency p99 in us ($label): no stall" "${p99_us:-999999999}" 500000
	grep -E 'kernels: info|vk-device: info' "$log" | cut -d' ' -f2- | sed 's/^/# /'
	printf 'RESULT %s device=%s ready_ms=%s first_frame_ms=%s first_frame_after_start_ms=%s latency_us="%s" frames=%s verify="%s"\n' \
		"$label" "$VKDEV" "$(awk -v a="$ts0" -v b="$tsr" 'BEGIN{printf "%.0f", (b-a)*1000}')" \
		"$(sink_line first_frame_ms)" "$(sink_line first_frame_after_start_ms)" \
		"$(sink_line latency_us)" "$(sink_line frames)" "$(sink_line verify)"
	stop_daemon demo
}

for spec in ${CR_RUNS:-cold-1:empty:off warm-cr-1:keep:off cold-2:empty:off warm-cr-2:keep:off \
	fill-driver:keep:on warm-both-1:keep:on warm-both-2:keep:on driver-only:empty:on}; do
	IFS=: read -r a b c <<<"$spec"
	run_chain "$a" "$b" "$c"
done
cr_finish
