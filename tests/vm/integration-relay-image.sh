#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm-guest: the relay on the Vulkan image path (DRM format modifiers). The guest's lavapipe has
# VK_EXT_image_drm_format_modifier with LINEAR only, which castrelayd normally reads and writes
# as storage buffers; CASTRELAY_TEST_LINEAR_IMAGES=1 makes it import and export LINEAR DMA-BUFs
# of packed formats as images instead, the path that tiled modifiers take on real GPUs. Real
# DMA-BUFs (udmabuf) from two castrelay-testsrc, one castrelayd (one lavapipe device: seconds
# under TCG) with two relays, 8-bit cropped and scaled, and 10-bit; consumers that take
# DMA-BUFs (castrelay-sink --dmabuf) get the exported images, pixels verified, and the nodes
# say castrelay.{input,output}.memory=image with the LINEAR modifier; a consumer without
# DMA-BUF support gets shared memory from the same relay, written in place (host).
# Guest only (tests/vm/run-in-vm.sh); skips (77) elsewhere.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
[ -n "${CR_VM_GUEST:-}" ] || cr_skip "guest-side test: run the vm suite (tests/vm/run-in-vm.sh)"
need_castrelay daemon testsrc sink
pw_env_start

size=128x96
linear=0x0000000000000000
bg_start testsrc-8 "$CR_TESTSRC" --name src-8 --size $size --fps 15 --dmabuf udmabuf
bg_start testsrc-10 "$CR_TESTSRC" --name src-10 --size $size --fps 15 --dmabuf udmabuf \
	--format xRGB_210LE
check "castrelay-testsrc publishes node src-8" wait_for_node src-8 15
check "castrelay-testsrc publishes node src-10" wait_for_node src-10 15

config="$CR_TEST_DIR/castrelay.conf"
cat >"$config" <<CONF
castrelay.relays = [
  { name = "crop" source = { target = "src-8" }
    crop = { x = 8 y = 4 width = 96 height = 80 } scale = { width = 80 height = 64 } }
  { name = "ten" source = { target = "src-10" } format = "xRGB_210LE" }
]
CONF
export CASTRELAY_TEST_LINEAR_IMAGES=1
start_daemon crop -c "$config" -v
unset CASTRELAY_TEST_LINEAR_IMAGES
check "castrelayd publishes node castrelay.ten" wait_for_node castrelay.ten 30
check_file_contains "castrelayd runs LINEAR through images" "$(bg_log castrelayd)" \
	"CASTRELAY_TEST_LINEAR_IMAGES=1"

# props_case RELAY SIDE MEMORY : castrelay.SIDE.memory of castrelay.RELAY becomes MEMORY.
props_case() {
	check "castrelay.$1 castrelay.$2.memory is $3" \
		wait_for_prop "castrelay.$1" "castrelay.$2.memory" "$3" 10
}

cr_log "--- 8-bit, cropped and scaled, image in and out"
# In the background, so that the node's output side can be read while it is linked; named
# "sink" so that check_sink_report reads its report. The first frame waits for llvmpipe to
# compile the kernel (a minute under TCG without a warm shader cache): generous deadlines.
# 150 frames (about 15 s at 10 fps under TCG) keep the consumer linked while the properties,
# refreshed once a second, are read.
bg_start sink "$CR_SINK" --timeout 240 --target castrelay.crop --dmabuf --frames 150 --skip 2 \
	--verify $size --crop 8,4,96,80
check "castrelay.crop castrelay.output.transport is dmabuf" \
	wait_for_prop castrelay.crop castrelay.output.transport dmabuf 240
props_case crop output image
check "castrelay.crop castrelay.output.modifier is LINEAR" \
	wait_for_prop castrelay.crop castrelay.output.modifier $linear 5
props_case crop input image
check_eq "castrelay.crop castrelay.input.transport" \
	"$(node_prop castrelay.crop castrelay.input.transport)" dmabuf
check_eq "castrelay.crop castrelay.input.modifier" \
	"$(node_prop castrelay.crop castrelay.input.modifier)" $linear
check "castrelay.crop castrelay.input.planes: the source's row pitch" \
	wait_for_prop castrelay.crop castrelay.input.planes 0:512 5
bg_wait sink 240
check_sink_report 148 "BGRx 80x64"
check_eq "the consumer got DMA-BUFs" "$(sink_line transport)" dmabuf
check_file_contains "castrelayd fixated the output modifier by a test allocation" \
	"$(bg_log castrelayd)" "fixated output modifier LINEAR"
check_file_contains "src-8 negotiated a udmabuf" "$(bg_log testsrc-8)" \
	"testsrc: transport dmabuf (udmabuf, LINEAR)"

cr_log "--- the same relay to a consumer without DMA-BUF support"
bg_start sink "$CR_SINK" --timeout 120 --target castrelay.crop --frames 60 --skip 2 \
	--verify $size --crop 8,4,96,80
check "castrelay.crop castrelay.output.transport is shm" \
	wait_for_prop castrelay.crop castrelay.output.transport shm 120
# The shared memory is castrelayd's memfd, imported: the kernel writes it in place.
props_case crop output host
check_eq "castrelay.crop castrelay.output.modifier" \
	"$(node_prop castrelay.crop castrelay.output.modifier)" none
bg_wait sink 120
check_sink_report 58 "BGRx 80x64"
check_eq "the consumer got shared memory" "$(sink_line transport)" shm

cr_log "--- 10-bit, image in and out"
run_sink 240 --target castrelay.ten --dmabuf --format xRGB_210LE --frames 20 --skip 2 \
	--verify $size --source-format xRGB_210LE
check_sink_report 18 "xRGB_210LE $size"
check_eq "the 10-bit consumer got DMA-BUFs" "$(sink_line transport)" dmabuf
props_case ten input image
check_eq "castrelay.ten castrelay.input.format" \
	"$(node_prop castrelay.ten castrelay.input.format)" "xRGB_210LE $size"

stop_daemon crop
cr_finish
