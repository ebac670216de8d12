#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# (b) Crop + scale over SHM: 640x480 source, crop 100,50,400,300, scale to 200x150; every
# received pixel is compared with the CPU reference of the same crop + bilinear scale. The daemon
# is stopped with SIGINT (as by Ctrl-C) and must exit 0.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

start_testsrc castrelay-testsrc --size 640x480 --format BGRx --fps 30
start_daemon t1 --source castrelay-testsrc --name t1 --crop 100,50,400,300 --scale 200x150
run_sink 30 --target castrelay.t1 --frames 35 --skip 5 \
	--verify 640x480 --crop 100,50,400,300
check_sink_report 30 "BGRx 200x150"
check_eq "castrelay.output.size" "$(node_prop castrelay.t1 castrelay.output.size)" 200x150
check_eq "castrelay.input.transport" "$(node_prop castrelay.t1 castrelay.input.transport)" shm
# lavapipe (and NVIDIA, AMD, Intel) import shared memory: no frame is copied by the CPU, on
# either side (the output's memory says "none" now that its consumer has gone).
check_eq "castrelay.input.memory (read in place)" \
	"$(node_prop castrelay.t1 castrelay.input.memory)" host
check "castrelay.frames.out counts the frames" wait_for_int castrelay.t1 castrelay.frames.out 35
check_eq "castrelay.frames.copied-in" "$(node_prop castrelay.t1 castrelay.frames.copied-in)" 0
check_eq "castrelay.frames.copied-out" "$(node_prop castrelay.t1 castrelay.frames.copied-out)" 0
stop_daemon t1 INT
cr_finish
