#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Consumers killed with SIGKILL (issue #14, faults): six times a consumer linked to castrelayd
# is killed: four times while frames flow (it verifies every frame, which keeps it inside a
# frame a good part of the time), twice while it holds every output buffer (castrelay-sink
# --pause-after). castrelayd keeps going each time (the input keeps flowing, the output node
# keeps its id) and a new consumer gets correct frames afterwards; fds, RSS and Vulkan
# objects are the same as before the first kill.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
need_castrelay daemon testsrc sink
pw_env_start

start_testsrc castrelay-testsrc --size 320x240 --format BGRx --fps 30 --memfd-dmabuf
start_daemon k1 --source castrelay-testsrc --name k1 -v
pid=$(bg_pid castrelayd)
node_id=$(pw_dump_node castrelay.k1 | jq -r .id)
run_sink 30 --target castrelay.k1 --frames 30 --skip 5 --verify 320x240
check_sink_report 25 "BGRx 320x240"
declare -A before after
sleep 1.2 # the node's properties are published once a second, not a readiness wait
figures before "$pid" castrelay.k1

for round in 1 2 3 4 5 6; do
	out=$(node_int castrelay.k1 castrelay.frames.out)
	if [ "$round" -le 4 ]; then
		bg_start victim "$CR_SINK" --target castrelay.k1 --frames 1000000 --timeout 600 \
			--verify 320x240
		check "round $round: the consumer gets frames" wait_for_int castrelay.k1 \
			castrelay.frames.out $((out + 15 + round * 7)) 20
	else
		bg_start victim "$CR_SINK" --target castrelay.k1 --frames 1000000 --timeout 600 \
			--verify 320x240 --pause-after 20 --pause-ms 600000
		check "round $round: the consumer holds every buffer" wait_for_log victim \
			'not reading for 600000 ms after 20 frames' 20
		sleep 0.5 # let the last buffers reach it: the scenario, not a readiness wait
	fi
	in=$(node_int castrelay.k1 castrelay.frames.in)
	bg_stop victim KILL 5
	check_eq "round $round: the consumer died of SIGKILL" "$CR_RC" 137
	check "round $round: castrelayd keeps taking frames in" wait_for_int castrelay.k1 \
		castrelay.frames.in $((in + 30)) 10
	check "round $round: castrelayd is running" bg_running castrelayd
	check_eq "round $round: the output node keeps its id" \
		"$(pw_dump_node castrelay.k1 | jq -r .id)" "$node_id"
done

run_sink 30 --target castrelay.k1 --frames 30 --skip 5 --verify 320x240
check_sink_report 25 "BGRx 320x240"
sleep 1.2
figures after "$pid" castrelay.k1
check_flat "before the first and after the sixth killed consumer" before after
check_eq "castrelay.source.state" "$(node_prop castrelay.k1 castrelay.source.state)" relaying
stop_daemon k1
cr_finish
