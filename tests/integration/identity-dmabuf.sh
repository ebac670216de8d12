#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# (c) Identity relay of DMA-BUF input: castrelay-testsrc --memfd-dmabuf hands out memfds as
# LINEAR DmaBuf data (what lavapipe can import on a machine without DRM devices); the relay must
# import them as DMA-BUFs (castrelay.input.transport=dmabuf) and relay exact pixels. Stopped
# with SIGINT: exit 0.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30 --memfd-dmabuf
start_daemon t1 --source castrelay-testsrc --name t1
run_sink 30 --target castrelay.t1 --frames 35 --skip 5 --verify 320x240
check_sink_report 30 "BGRx 320x240"
check_eq "castrelay.input.transport" "$(node_prop castrelay.t1 castrelay.input.transport)" dmabuf
check_eq "castrelay.input.modifier (LINEAR)" "$(node_prop castrelay.t1 castrelay.input.modifier)" \
	0x0000000000000000
check_eq "castrelay.input.planes (offset:stride)" \
	"$(node_prop castrelay.t1 castrelay.input.planes)" 0:1280
check_file_contains "the source negotiated DMA-BUF" "$(bg_log testsrc)" "testsrc: transport dmabuf"
stop_daemon t1 INT
cr_finish
