#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# SPA_META_VideoDamage passes through (issue 4): the source announces one damaged rectangle on
# every frame (castrelay-testsrc --damage); the relay maps it through its crop, transform and
# scale and announces it on its output. castrelay-sink --expect-damage computes the same
# mapping (src/core/damage.c, checked against the kernel's arithmetic by the damage unit
# test) and counts the frames whose damage is exactly it, the whole frame (the first frame,
# and whatever follows a change of geometry), or anything else. A source without damage
# meta makes every output frame fully damaged.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

# sink_damage FIELD : one field of the sink's "damage: ..." line.
sink_damage() {
	sink_line damage | tr ' ' '\n' | sed -n "s/^$1=//p"
}

check_damage_report() {
	local what=$1 min_mapped=$2
	check_eq "$what: frames without damage meta" "$(sink_damage absent)" 0
	check_eq "$what: frames with unexpected damage" "$(sink_damage other)" 0
	check_int_ge "$what: frames with the mapped damage" "$(sink_damage mapped)" "$min_mapped"
	cr_log "$what: $(sink_line damage)"
}

start_testsrc src --size 320x240 --fps 30 --damage 40,30,64,48
start_daemon dmg --source src --name dmg --crop 20,10,200,150 --scale 100x75
run_sink 30 --target castrelay.dmg --frames 24 --verify 320x240 --crop 20,10,200,150 \
	--expect-damage 40,30,64,48
check_sink_report 24 "BGRx 100x75"
check_damage_report "crop and scale" 20
stop_daemon dmg
bg_stop testsrc INT 10

start_testsrc src --size 320x240 --fps 30 --damage 200,100,30,100 --transform 1
start_daemon dmg --source src --name dmg --scale 120x160
run_sink 30 --target castrelay.dmg --frames 24 --verify 320x240 --transform 1 \
	--expect-damage 200,100,30,100
check_sink_report 24 "BGRx 120x160"
check_damage_report "rotated and scaled" 20
stop_daemon dmg
bg_stop testsrc INT 10

start_testsrc src --size 320x240 --fps 30
start_daemon dmg --source src --name dmg
run_sink 30 --target castrelay.dmg --frames 12 --verify 320x240 --expect-damage 0,0,1,1
check_sink_report 12 "BGRx 320x240"
check_eq "no source damage: frames not fully damaged" \
	"$(($(sink_damage mapped) + $(sink_damage other) + $(sink_damage absent)))" 0
check_int_ge "no source damage: fully damaged frames" "$(sink_damage full)" 12
stop_daemon dmg
cr_finish
