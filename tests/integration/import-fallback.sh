#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Import failure (issue 4): when a DMA-BUF cannot be imported, castrelayd drops that modifier
# and renegotiates from a loop event; with no importable modifier left the source falls back
# to shared memory, and the relay keeps working (pixels verified). The failure is injected
# with CASTRELAY_TEST_FAIL_IMPORTS (tests only).
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30 --memfd-dmabuf
export CASTRELAY_TEST_FAIL_IMPORTS=1
start_daemon fb --source castrelay-testsrc --name fb --scale 160x120
unset CASTRELAY_TEST_FAIL_IMPORTS
node=castrelay.fb
check "the failed import is logged with its modifier" wait_for_log castrelayd \
	"DMA-BUF import with modifier 0x0 failed: renegotiating without it" 15
check "castrelay.input.transport falls back to shm" wait_for_prop $node \
	castrelay.input.transport shm 15
run_sink 30 --target $node --frames 15 --verify 320x240
check_sink_report 15 "BGRx 160x120"
check_file_contains "the source renegotiated to shared memory" "$(bg_log testsrc)" \
	"testsrc: transport shm"
stop_daemon fb
cr_finish
