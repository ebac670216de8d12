#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm-guest: a lost Vulkan device with DMA-BUFs on both sides (issue #14, faults). In the
# guest lavapipe imports and exports DMA-BUFs, so the relay's input buffers are imported into
# the device and its output buffers are exported by it: after the loss (the test hook,
# CASTRELAY_TEST_DEVICE_LOST) both go with the old device, the input stream is created again
# and the output is renegotiated so that its consumer gets buffers of the new device. The
# consumer (castrelay-sink --dmabuf) stays linked and verifies every frame; fds and Vulkan
# objects are the same before and after. Guest only (tests/vm/run-in-vm.sh).
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
[ -n "${CR_VM_GUEST:-}" ] || cr_skip "guest-side test: run the vm suite (tests/vm/run-in-vm.sh)"
need_castrelay daemon testsrc sink
pw_env_start

start_testsrc castrelay-testsrc --size 128x96 --fps 15 --dmabuf udmabuf
export CASTRELAY_TEST_DEVICE_LOST=submit
start_daemon d1 --source castrelay-testsrc --name d1 -v
unset CASTRELAY_TEST_DEVICE_LOST
pid=$(bg_pid castrelayd)
node_id=$(pw_dump_node castrelay.d1 | jq -r .id)
bg_start watcher "$CR_SINK" --target castrelay.d1 --dmabuf --frames 1000000 --timeout 900 \
	--verify 128x96
# The first frame waits for llvmpipe to compile the kernel under TCG: generous deadlines.
check "frames reach the consumer" wait_for_int castrelay.d1 castrelay.frames.out 15 240
# READY: every kernel variant is built (their warm-up jobs' objects are gone).
check "castrelayd is ready" wait_for_log castrelayd 'running 1 relay' 240
check_eq "castrelay.input.transport" "$(node_prop castrelay.d1 castrelay.input.transport)" dmabuf
check_eq "castrelay.output.transport" "$(node_prop castrelay.d1 castrelay.output.transport)" \
	dmabuf
declare -A before after
figures before "$pid" castrelay.d1
out=$(node_int castrelay.d1 castrelay.frames.out)
t0=$(now_ms)
kill -USR2 "$pid"
check "castrelayd rebuilt its GPU side" wait_for_int castrelay.d1 castrelay.vk.recoveries 1 40
check "frames flow again" wait_for_int castrelay.d1 castrelay.frames.out $((out + 15)) 40
cr_log "15 frames out again $(($(now_ms) - t0)) ms after SIGUSR2"
check "the recreated device's kernels are all built" wait_for_log castrelayd \
	'frames flow again: kernels ready' 120
check_file_contains "the output was renegotiated for buffers of the new device" \
	"$(bg_log castrelayd)" "renegotiating the output: its DMA-BUFs are to be exported anew"
check_eq "the output node keeps its id" "$(pw_dump_node castrelay.d1 | jq -r .id)" "$node_id"
check_eq "castrelay.output.transport after the loss" \
	"$(node_prop castrelay.d1 castrelay.output.transport)" dmabuf
check_eq "castrelay.input.transport after the loss" \
	"$(node_prop castrelay.d1 castrelay.input.transport)" dmabuf
sleep 1.2 # the node's properties are published once a second, not a readiness wait
figures after "$pid" castrelay.d1
check_flat "before and after the loss" before after 32768
bg_stop watcher INT 5
log=$(bg_log watcher)
check_eq "the consumer got DMA-BUFs" "$(sink_line transport "$log")" dmabuf
check_int_ge "frames verified across the loss" "$(sink_verify checked "$log")" 30
check_eq "frames with a wrong pixel" "$(sink_verify mismatched_frames "$log")" 0
check_eq "stale frames" "$(sink_verify stale "$log")" 0
stop_daemon d1
cr_finish
