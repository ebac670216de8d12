#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm-guest: DMA-BUF output (issue 4). In the guest lavapipe exports buffer memory as DMA-BUFs,
# so castrelayd offers its output as a LINEAR DMA-BUF first (DONT_FIXATE, fixated after a test
# allocation). A consumer that takes DMA-BUFs (castrelay-sink --dmabuf, which maps them) gets
# frames the GPU wrote in place, packed and planar (one block per plane); a consumer without
# DMA-BUF support gets shared memory from the same relay. Pixels verified in every case.
# Guest only (tests/vm/run-in-vm.sh); skips (77) elsewhere.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
[ -n "${CR_VM_GUEST:-}" ] || cr_skip "guest-side test: run the vm suite (tests/vm/run-in-vm.sh)"
need_castrelay daemon testsrc sink
pw_env_start

size=128x96
start_testsrc castrelay-testsrc --size $size --fps 15 --dmabuf udmabuf
config="$CR_TEST_DIR/castrelay.conf"
cat >"$config" <<CONF
castrelay.relays = [
  { name = "rgb" source = { target = "castrelay-testsrc" } scale = { width = 96 height = 72 } }
  { name = "nv12" source = { target = "castrelay-testsrc" } format = "NV12" }
]
CONF
start_daemon rgb -c "$config" -v
check "castrelayd publishes node castrelay.nv12" wait_for_node castrelay.nv12 30
check_file_contains "castrelayd offers DMA-BUF output" "$(bg_log castrelayd)" \
	"DMA-BUF output offered"

# The first frame waits for llvmpipe to compile the kernel under TCG: generous deadlines.
run_sink 240 --target castrelay.rgb --dmabuf --frames 20 --skip 2 --verify $size
check_sink_report 18 "BGRx 96x72"
check_eq "the consumer got DMA-BUFs" "$(sink_line transport)" dmabuf
check "castrelayd fixated the output modifier after a test allocation" poll_until 10 \
	grep -q "fixated output modifier LINEAR" "$(bg_log castrelayd)"

run_sink 240 --target castrelay.nv12 --dmabuf --format NV12 --frames 20 --skip 2 --verify $size
check_sink_report 18 "NV12 128x96 bt709 limited"
check_eq "the consumer got planar DMA-BUFs" "$(sink_line transport)" dmabuf
# While a DMA-BUF consumer is linked the node shows the modifier and the plane layout.
bg_start sinkbg "$CR_SINK" --timeout 240 --target castrelay.nv12 --dmabuf --format NV12 \
	--frames 60 --verify $size
check "castrelay.output.modifier is LINEAR" \
	wait_for_prop castrelay.nv12 castrelay.output.modifier 0x0000000000000000 120
check "castrelay.output.planes: Y then UV (offset:stride)" \
	wait_for_prop castrelay.nv12 castrelay.output.planes 0:128,12288:128 10
bg_wait sinkbg 240
check_eq "the second NV12 consumer: exit status" "$CR_RC" 0

run_sink 240 --target castrelay.rgb --frames 15 --verify $size
check_sink_report 15 "BGRx 96x72"
check_eq "a consumer without DMA-BUF support gets shared memory" "$(sink_line transport)" shm
stop_daemon rgb
cr_finish
