#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Cold start (issue #11; DESIGN.md, "Cold start and the pipeline cache"): tools/demo.sh's chain
# (castrelay-testsrc 1280x720 -> castrelayd crop 320,180,640,360 scale 480x270 -> verifying
# castrelay-sink) with Mesa's shader cache off and an empty castrelay cache directory. The
# daemon compiles and warms up its kernel before READY=1, so no frame waits for lavapipe's
# first-dispatch compile: every frame verifies, none is stale, and no frame stalls (latency p99
# under a generous 500 ms: a stall of seconds is the bug, not a performance figure). A second
# daemon then starts with the pipeline cache file the first one wrote. The first-frame latency
# and the time to READY of both runs are printed, not asserted.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

export MESA_SHADER_CACHE_DISABLE=true
export XDG_CACHE_HOME=$CR_TEST_DIR/cache
mkdir -p "$XDG_CACHE_HOME" || cr_broken "cannot create $XDG_CACHE_HOME"
unset CACHE_DIRECTORY

start_testsrc castrelay-testsrc --size 1280x720 --format BGRx --fps 30

# run_chain LABEL : one daemon from start to stop, one consumer.
run_chain() {
	local label=$1 t0 ready_ms p99_us
	t0=$(now_ms)
	start_daemon demo -v --source castrelay-testsrc --name demo --crop 320,180,640,360 \
		--scale 480x270
	# READY comes after the kernels: 5-10 s on lavapipe with no Mesa cache, on 2 cores.
	check "castrelayd is ready ($label)" wait_for_log castrelayd "daemon: info: running [0-9]+ relay" 60
	ready_ms=$(($(now_ms) - t0))
	run_sink 30 --target castrelay.demo --frames 60 --verify 1280x720 --crop 320,180,640,360
	check_sink_report 60 "BGRx 480x270"
	p99_us=$(sink_line latency_us | sed -n 's/.*p99=\([0-9]*\).*/\1/p')
	check_int_le "latency p99 in us ($label): no stall" "${p99_us:-999999999}" 500000
	cr_log "$label: READY after ${ready_ms} ms; first_frame_ms=$(sink_line first_frame_ms)" \
		"first_frame_after_start_ms=$(sink_line first_frame_after_start_ms)" \
		"latency_us: $(sink_line latency_us)"
	grep -E 'kernels: info' "$(bg_log castrelayd)" | sed 's/^/# /'
	stop_daemon demo
}

run_chain cold
cache_files=("$XDG_CACHE_HOME"/castrelay/pipeline-*.cache)
check "the pipeline cache file was written under \$XDG_CACHE_HOME/castrelay" \
	test -s "${cache_files[0]}"
run_chain warm
check_file_contains "the second daemon loaded the pipeline cache file" \
	"$(bg_log castrelayd)" "kernels: info: pipeline cache:"
cr_finish
