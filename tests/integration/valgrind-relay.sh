#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# castrelayd under valgrind memcheck (issue #14): castrelay-testsrc 640x480 BGRx over SHM ->
# castrelayd (crop 100,50,400,300, scale 200x150) under memcheck -> castrelay-sink, which
# verifies 30 frames against the CPU reference. castrelayd must exit 0 on SIGTERM and memcheck
# must report no error and no definite leak (--error-exitcode, --leak-check=full,
# --errors-for-leak-kinds=definite; tests/sanitizers/valgrind.supp names what belongs to Mesa or
# PipeWire). lavapipe's LLVM compile of the kernel would take many minutes under memcheck, so
# the same relay first runs under valgrind's no-op tool (--tool=none: valgrind's CPU, no checks)
# and fills Mesa's shader cache, private to this test, which the memcheck run then loads. A
# native run cannot fill it: llvmpipe keys its cache by CPU features, and valgrind's CPU has
# no AVX-512 (a native run's entries would never match). The time of each phase is printed.
# Not registered in a sanitizer build (valgrind cannot run an ASan binary).
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
need_prog valgrind
cr_sanitized && cr_skip "$CASTRELAYD is built with AddressSanitizer, which valgrind cannot run"
pw_env_start

export XDG_CACHE_HOME=$CR_TEST_DIR/cache MESA_SHADER_CACHE_DIR=$CR_TEST_DIR/cache
mkdir -p "$XDG_CACHE_HOME" || cr_broken "cannot create $XDG_CACHE_HOME"
unset CACHE_DIRECTORY MESA_SHADER_CACHE_DISABLE
relay_args=(--source castrelay-testsrc --name vg --crop "100,50,400,300" --scale 200x150 -v)
sink_args=(--target castrelay.vg --verify 640x480 --crop "100,50,400,300")

start_testsrc castrelay-testsrc --size 640x480 --format BGRx --fps 30

# run_under LABEL VALGRIND-ARGS... : castrelayd under valgrind until castrelay.vg exists; sets
# up_ms.
run_under() {
	local label=$1 t0
	shift
	t0=$(now_ms)
	bg_start castrelayd valgrind "$@" "$CASTRELAYD" "${relay_args[@]}"
	if ! wait_for_node castrelay.vg 120; then
		check_fail "castrelayd under $label publishes castrelay.vg within 120 s"
		cr_finish
	fi
	up_ms=$(($(now_ms) - t0))
	check_pass "castrelayd under $label publishes castrelay.vg (after ${up_ms} ms)"
}

# 1. --tool=none: compiles the kernel into the shader cache for valgrind's CPU.
t0=$(now_ms)
run_under nulgrind --tool=none
run_sink 120 "${sink_args[@]}" --frames 10
check_sink_report 10 "BGRx 200x150"
bg_stop castrelayd TERM 60
check_eq "castrelayd's exit status under --tool=none" "$CR_RC" 0
warm_ms=$(($(now_ms) - t0))
cr_log "--tool=none run (fills the shader cache): ${warm_ms} ms"
check "the first run wrote Mesa's shader cache" test -d "$MESA_SHADER_CACHE_DIR/mesa_shader_cache_db"

# 2. The same relay under memcheck.
vg_log=$CR_TEST_DIR/memcheck.log
vg=(--tool=memcheck --error-exitcode=97 --leak-check=full
	--show-leak-kinds=definite --errors-for-leak-kinds=definite --num-callers=40
	--suppressions="$CR_SOURCE_ROOT/tests/sanitizers/valgrind.supp" --gen-suppressions=all
	--log-file="$vg_log")
run_under memcheck "${vg[@]}"
t1=$(now_ms)
run_sink 120 "${sink_args[@]}" --frames 35 --skip 5
frames_ms=$(($(now_ms) - t1))
check_sink_report 30 "BGRx 200x150"
t1=$(now_ms)
bg_stop castrelayd TERM 120
stop_ms=$(($(now_ms) - t1))
check_eq "castrelayd's exit status under memcheck (97: memcheck found errors)" "$CR_RC" 0
check "node castrelay.vg is gone after castrelayd exited" wait_for_node_gone castrelay.vg 5
summary=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: //p' "$vg_log" | tail -n 1)
check_match "memcheck's error summary" "$summary" '^0 errors '
check_match "memcheck found no definite leak" \
	"$(grep -E 'definitely lost:|no leaks are possible' "$vg_log" | tail -n 1)" \
	'definitely lost: 0 bytes|no leaks are possible'
if [ "$CR_FAILURES" -ne 0 ]; then
	sed 's/^/  memcheck| /' "$vg_log" >&2
fi
cr_log "memcheck run: node up after ${up_ms} ms, 35 frames in ${frames_ms} ms, exit (leak" \
	"check) in ${stop_ms} ms; fps=$(sink_line fps) latency_us: $(sink_line latency_us)"
cr_finish
