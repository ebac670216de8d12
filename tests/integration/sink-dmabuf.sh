#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# (c) castrelay-sink --dmabuf negotiates as a DMA-BUF consumer does: against castrelay-testsrc
# --memfd-dmabuf (memfds handed out as LINEAR DmaBuf data, what this machine can do without DRM
# devices) it takes the DMA-BUF variant, maps the buffers itself and verifies exact pixels
# (transport: dmabuf, PNGs written from the mapping); without --dmabuf the same source gives it
# shared memory (transport: shm); with --dmabuf against a source without DMA-BUFs it falls
# back to shared memory. Every run verifies every frame against the CPU reference.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay testsrc sink
pw_env_start

start_testsrc castrelay-testsrc --size 640x480 --format BGRx --fps 30 --memfd-dmabuf

run_sink 30 --target castrelay-testsrc --dmabuf --frames 30 --verify 640x480 \
	--png-dir "$CR_TEST_DIR/png" --png-every 10
check_sink_report 30 "BGRx 640x480"
check_eq "transport with --dmabuf and a DMA-BUF source" "$(sink_line transport)" dmabuf
check_file_contains "the source handed out DMA-BUFs" "$(bg_log testsrc)" \
	"testsrc: transport dmabuf"
pngs=("$CR_TEST_DIR"/png/frame-*.png)
check_eq "PNGs written from the DMA-BUF mapping (every 10th of 30 frames)" "${#pngs[@]}" 3
check_int_ge "bytes of a 640x480 PNG (stored, uncompressed)" "$(stat -c %s "${pngs[0]}")" 921600

run_sink 30 --target castrelay-testsrc --frames 30 --verify 640x480
check_sink_report 30 "BGRx 640x480"
check_eq "transport without --dmabuf" "$(sink_line transport)" shm
check_file_contains "the source handed out shared memory" "$(bg_log testsrc)" \
	"testsrc: transport shm"

bg_stop testsrc INT
start_testsrc castrelay-testsrc --size 640x480 --format BGRx --fps 30
run_sink 30 --target castrelay-testsrc --dmabuf --frames 30 --verify 640x480
check_sink_report 30 "BGRx 640x480"
check_eq "transport with --dmabuf and a source without DMA-BUFs" "$(sink_line transport)" shm
cr_finish
