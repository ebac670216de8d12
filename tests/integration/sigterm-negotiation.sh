#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# SIGTERM at awkward moments (issue #14, faults): while the kernel is being compiled before
# READY, while the input stream negotiates with a source that is just starting (at several
# delays),
# while the output negotiates with a consumer that just linked, during a renegotiation storm
# with a consumer linked, and while the GPU side is being rebuilt after a device loss. Each time
# castrelayd exits 0 within the harness's deadline, its node is gone, it destroyed every
# Vulkan object it made (it logs what is left at exit) and no sanitizer reported anything (for
# builds with ASan/UBSan).
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

# term WHAT : SIGTERM now; castrelayd exits 0 cleanly.
term() {
	local t0 log
	t0=$(now_ms)
	bg_stop castrelayd TERM 15
	check_eq "$1: exit status after SIGTERM" "$CR_RC" 0
	cr_log "$1: exited $(($(now_ms) - t0)) ms after SIGTERM"
	check "$1: node castrelay.t1 is gone" wait_for_node_gone castrelay.t1 5
	log=$(bg_log castrelayd)
	check_file_contains "$1: no Vulkan object was left" "$log" \
		"Vulkan objects left at exit: none"
	check "$1: no sanitizer report" sh -c \
		"! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$log'"
	check "$1: stopped on the signal" grep -q 'signal 15: stopping' "$log"
}

# Before READY: the kernel is compiled on its worker; the loop answers the signal.
bg_start castrelayd "${CR_DEFAULT_SIGINT[@]}" "$CASTRELAYD" --source castrelay-testsrc --name t1 -v
check "the kernel is being compiled" wait_for_log castrelayd 'compiling 1 kernel variant' 15
term "while compiling the kernel"

# A source appears and the input negotiates (in about 10 ms here): SIGTERM 0 to 50 ms after
# it was started, each time logging the last step the input had reached.
reached=()
for delay in 0 0.005 0.01 0.015 0.02 0.03 0.05; do
	# Its first DMA-BUF import fails on purpose: one more negotiation round, a longer window.
	bg_start castrelayd env "${CR_DEFAULT_SIGINT[@]:1}" CASTRELAY_TEST_FAIL_IMPORTS=1 \
		"$CASTRELAYD" --source castrelay-testsrc --name t1 -v
	check "delay $delay: castrelayd waits for its source" wait_for_log castrelayd \
		'waiting for it to appear' 15
	check "delay $delay: castrelayd is ready" wait_for_log castrelayd 'running 1 relay' 15
	bg_start testsrc "$CR_TESTSRC" --name castrelay-testsrc --size 320x240 --format BGRx \
		--fps 30 --memfd-dmabuf
	sleep "$delay" # the moment of the signal is the scenario, not a readiness wait
	term "input negotiation, SIGTERM $delay s after the source started"
	# How far the input had got when the signal came: the last step logged before it.
	step=$(sed '/signal 15: stopping/q' "$(bg_log castrelayd)" | sed -nE \
		-e 's/.*input stream for .*: (connecting|paused|streaming)$/\1/p' \
		-e 's/.*failed: renegotiating.*/renegotiating/p' \
		-e 's/.*negotiated BGRx 320x240 over.*/format-set/p' | tail -n 1)
	reached+=("${delay}s:${step:-no-source-yet}")
	bg_stop testsrc TERM 5
done
cr_log "how far the input had got at SIGTERM: ${reached[*]}"

# A consumer links and the output negotiates.
start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30 --memfd-dmabuf
start_daemon t1 --source castrelay-testsrc --name t1 -v
check "relaying" wait_for_prop castrelay.t1 castrelay.source.state relaying 15
bg_start consumer "$CR_SINK" --target castrelay.t1 --frames 1000000 --timeout 600
bg_unwatch consumer
check "the output negotiates with the consumer" wait_for_log castrelayd \
	'output stream: paused' 15
term "while the output negotiates"
bg_stop consumer KILL 5

# A renegotiation every 2 frames, a consumer linked.
bg_stop testsrc TERM 5
start_testsrc castrelay-testsrc --fps 60 --memfd-dmabuf --cycle-every 2 \
	--cycle 320x240:BGRx,256x192:RGBx,160x120:BGRA
start_daemon t1 --source castrelay-testsrc --name t1 -v
bg_start consumer "$CR_SINK" --target castrelay.t1 --frames 1000000 --timeout 600
bg_unwatch consumer
check "the storm goes on" poll_until 20 sh -c \
	"[ \$(grep -c 'output format now' '$(bg_log castrelayd)') -ge 10 ]"
term "during a renegotiation storm"
bg_stop consumer KILL 5
bg_stop testsrc TERM 5

# While the GPU side is rebuilt after a device loss (the input renegotiates then too).
start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30 --memfd-dmabuf
export CASTRELAY_TEST_DEVICE_LOST=submit
start_daemon t1 --source castrelay-testsrc --name t1 -v
unset CASTRELAY_TEST_DEVICE_LOST
bg_start consumer "$CR_SINK" --target castrelay.t1 --frames 1000000 --timeout 600
bg_unwatch consumer
check "frames flow" wait_for_int castrelay.t1 castrelay.frames.out 10 20
kill -USR2 "$(bg_pid castrelayd)"
check "the device is being rebuilt" wait_for_log castrelayd 'rebuilding the GPU side' 10
term "while recovering from a lost device"
bg_stop consumer KILL 5
cr_finish
