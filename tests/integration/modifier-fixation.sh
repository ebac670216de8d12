#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# DMA-BUF negotiation with modifiers castrelayd cannot import (issue 4): the source offers
# X_TILED (and Y_TILED) before LINEAR, with DONT_FIXATE, as compositors do. castrelayd offers
# only what Vulkan imports (LINEAR here), so the intersection fixates LINEAR: the relay runs
# on DMA-BUFs, pixels verified, the modifier named in the log, read as buffer memory.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

x_tiled=0x0100000000000001
y_tiled=0x0100000000000002
start_testsrc castrelay-testsrc --size 320x240 --fps 30 --memfd-dmabuf \
	--offer-modifier $x_tiled --offer-modifier $y_tiled
# pw-dump prints 64-bit modifiers as (rounded) JSON numbers: count them and look for LINEAR.
mods=$(pw_dump_node castrelay-testsrc | jq -c '.info.params.EnumFormat[0].modifier | [.[]]')
cr_log "source's first EnumFormat modifiers: $mods"
check_eq "the source offers default + X_TILED, Y_TILED, LINEAR" "$(jq length <<<"$mods")" 4
check_eq "LINEAR is offered last" "$(jq '.[-1]' <<<"$mods")" 0
check "a tiled modifier is the default" test "$(jq '.[0]' <<<"$mods")" != 0
start_daemon mf --source castrelay-testsrc --name mf --scale 160x120 -v
check "castrelay.input.transport is dmabuf" wait_for_prop castrelay.mf \
	castrelay.input.transport dmabuf 15
run_sink 30 --target castrelay.mf --frames 15 --verify 320x240
check_sink_report 15 "BGRx 160x120"
check_file_contains "the source fixated LINEAR" "$(bg_log testsrc)" \
	"testsrc: transport dmabuf (memfd, LINEAR)"
check_file_contains "castrelayd names the negotiated modifier" "$(bg_log castrelayd)" \
	"negotiated BGRx 320x240 over DMA-BUF, modifier 0x0000000000000000"
# lavapipe on the host has no image modifiers: LINEAR is read as buffer memory.
check "castrelay.input.memory is buffer" wait_for_prop castrelay.mf castrelay.input.memory \
	buffer 5
stop_daemon mf
cr_finish
