#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# More input and output formats (issue 4): NV12 and 10-bit sources over SHM and over memfd
# DMA-BUFs (NV12 in one buffer and in two disjoint ones), relayed to packed 8-bit, 10-bit and
# NV12 outputs. Every frame is verified against the CPU reference run on the regenerated
# source in its own format (castrelay-sink --source-format); the node says which format came
# in (castrelay.input.format) and over what (castrelay.input.transport).
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

# relay_case RELAY TRANSPORT "INPUT FORMAT" : after a sink run, the relay node's input side.
relay_case() {
	check_eq "castrelay.input.format of $1" \
		"$(node_prop "castrelay.$1" castrelay.input.format)" "$3"
	check_eq "castrelay.input.transport of $1" \
		"$(node_prop "castrelay.$1" castrelay.input.transport)" "$2"
}

# NV12 over SHM (one block, GStreamer's layout), BT.709 limited, to BGRx.
start_testsrc src-nv12 --size 320x240 --format NV12 --fps 30
start_daemon nv12shm --source src-nv12 --name nv12shm
run_sink 30 --target castrelay.nv12shm --frames 18 --skip 3 --verify 320x240 \
	--source-format NV12
check_sink_report 15 "BGRx 320x240"
relay_case nv12shm shm "NV12 320x240"
stop_daemon nv12shm
bg_stop testsrc TERM 10

# NV12 in one memfd DMA-BUF (two planes, one fd), BT.601 full range, cropped and scaled
# into a 10-bit output.
start_testsrc src-nv12d --size 320x240 --format NV12 --fps 30 --memfd-dmabuf \
	--color-matrix bt601 --color-range full
start_daemon nv12dma --source src-nv12d --name nv12dma --crop 16,8,288,224 --scale 144x112 \
	--format xRGB_210LE
run_sink 30 --target castrelay.nv12dma --frames 18 --skip 3 --verify 320x240 \
	--crop 16,8,288,224 --source-format NV12 --source-color-matrix bt601 \
	--source-color-range full
check_sink_report 15 "xRGB_210LE 144x112"
relay_case nv12dma dmabuf "NV12 320x240"
check_file_contains "the NV12 source negotiated DMA-BUF" "$(bg_log testsrc)" \
	"testsrc: transport dmabuf"
stop_daemon nv12dma
bg_stop testsrc TERM 10

# NV12 with disjoint planes (two memfds), rotated by the source's VideoTransform.
start_testsrc src-nv12j --size 320x240 --format NV12 --fps 30 --memfd-dmabuf \
	--disjoint-planes --transform 1
start_daemon nv12dis --source src-nv12j --name nv12dis
run_sink 30 --target castrelay.nv12dis --frames 18 --skip 3 --verify 320x240 \
	--transform 1 --source-format NV12
check_sink_report 15 "BGRx 240x320"
relay_case nv12dis dmabuf "NV12 320x240"
stop_daemon nv12dis
bg_stop testsrc TERM 10

# 10 bits in and out over SHM: exact (tolerance 0), the low 2 bits of every channel included.
start_testsrc src-10 --size 320x240 --format xRGB_210LE --fps 30
start_daemon ten --source src-10 --name ten --format xBGR_210LE
run_sink 30 --target castrelay.ten --frames 18 --skip 3 --verify 320x240 \
	--source-format xRGB_210LE --tolerance 0
check_sink_report 15 "xBGR_210LE 320x240"
relay_case ten shm "xRGB_210LE 320x240"
stop_daemon ten
bg_stop testsrc TERM 10

# 10 bits over a memfd DMA-BUF, scaled into NV12.
start_testsrc src-10d --size 320x240 --format xBGR_210LE --fps 30 --memfd-dmabuf
start_daemon tennv12 --source src-10d --name tennv12 --scale 200x150 --format NV12
run_sink 30 --target castrelay.tennv12 --frames 18 --skip 3 --verify 320x240 \
	--source-format xBGR_210LE
check_sink_report 15 "NV12 200x150 bt709 limited"
relay_case tennv12 dmabuf "xBGR_210LE 320x240"
stop_daemon tennv12
bg_stop testsrc TERM 10

# 8 bits in, 10 bits out: every code expanded exactly to round(c * 1023 / 255).
start_testsrc src-8 --size 320x240 --format BGRx --fps 30
start_daemon expand --source src-8 --name expand --format xRGB_210LE
run_sink 30 --target castrelay.expand --frames 18 --skip 3 --verify 320x240 --tolerance 0
check_sink_report 15 "xRGB_210LE 320x240"
relay_case expand shm "BGRx 320x240"
stop_daemon expand
cr_finish
