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

# 4 fps: the verifier knows frame numbers modulo 256 and takes a jump of 128 or more for one
# back, and a recovery under TCG takes up to about 25 s (kernels compiled anew).
start_testsrc castrelay-testsrc --size 128x96 --fps 4 --dmabuf udmabuf
export CASTRELAY_TEST_DEVICE_LOST=submit
start_daemon d1 --source castrelay-testsrc --name d1 -v
unset CASTRELAY_TEST_DEVICE_LOST
pid=$(bg_pid castrelayd)
node_id=$(pw_dump_node castrelay.d1 | jq -r .id)
bg_start watcher "$CR_SINK" --target castrelay.d1 --dmabuf --frames 1000000 --timeout 900 \
	--verify 128x96
# The first frame waits for llvmpipe to compile the kernel under TCG: generous deadlines.
check "frames reach the consumer" wait_for_int castrelay.d1 castrelay.frames.out 8 240
# READY: every kernel variant is built (their warm-up jobs' objects are gone).
check "castrelayd is ready" wait_for_log castrelayd 'running 1 relay' 240
check_eq "castrelay.input.transport" "$(node_prop castrelay.d1 castrelay.input.transport)" dmabuf
check_eq "castrelay.output.transport" "$(node_prop castrelay.d1 castrelay.output.transport)" \
	dmabuf
declare -A before after
figures before "$pid" castrelay.d1
for n in 1; do # one loss: under TCG each costs the whole kernel set again
	out=$(node_int castrelay.d1 castrelay.frames.out)
	t0=$(now_ms)
	kill -USR2 "$pid"
	check "loss $n: castrelayd rebuilt its GPU side" \
		wait_for_int castrelay.d1 castrelay.vk.recoveries "$n" 40
	check "loss $n: frames flow again" \
		wait_for_int castrelay.d1 castrelay.frames.out $((out + 8)) 40
	cr_log "loss $n: 8 frames out again $(($(now_ms) - t0)) ms after SIGUSR2"
	check "loss $n: the recreated device's kernels are all built" poll_until 40 sh -c \
		"[ \$(grep -c 'frames flow again: kernels ready' '$(bg_log castrelayd)') -ge $n ]"
	check_eq "loss $n: the output node keeps its id" \
		"$(pw_dump_node castrelay.d1 | jq -r .id)" "$node_id"
	check_eq "loss $n: castrelay.output.transport" \
		"$(node_prop castrelay.d1 castrelay.output.transport)" dmabuf
	check_eq "loss $n: castrelay.input.transport" \
		"$(node_prop castrelay.d1 castrelay.input.transport)" dmabuf
done
sleep 1.2 # the node's properties are published once a second, not a readiness wait
figures after "$pid" castrelay.d1
check_eq "the output was renegotiated for buffers of the new device" \
	"$(grep -c 'renegotiating the output: its DMA-BUFs are to be exported anew' \
		"$(bg_log castrelayd)")" 1
check_flat "before and after the loss" before after 32768
bg_stop watcher INT 5
log=$(bg_log watcher)
check_eq "the consumer got DMA-BUFs" "$(sink_line transport "$log")" dmabuf
check_int_ge "frames verified across the losses" "$(sink_verify checked "$log")" 30
check_eq "frames with a wrong pixel" "$(sink_verify mismatched_frames "$log")" 0
check_eq "stale frames" "$(sink_verify stale "$log")" 0
stop_daemon d1
cr_finish
