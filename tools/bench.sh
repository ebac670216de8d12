#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# castrelayd beside GStreamer doing the same job (issue #13), end to end through a private
# PipeWire: castrelay-testsrc (BGRx, shared memory) -> relay -> castrelay-sink, at 1080p30,
# 1080p60 and 4K30, crop + scale to BGRx and to NV12. Relays:
#
#   castrelayd  castrelayd --crop X,Y,W,H --scale WxH --format FMT
#   gstreamer   gst-launch-1.0 pipewiresrc ! videocrop ! videoscale ! videoconvert !
#               video/x-raw,format=FMT,width=W,height=H ! pipewiresink mode=provide
#   direct      no relay: the consumer linked to the source (the floor of latency)
#
# For each row, over the consumer's window (CR_BENCH_FRAMES frames after CR_BENCH_WARMUP):
# the relay's CPU time per delivered frame (user + system, all threads: its process CPU clock,
# read by castrelay-sink --measure-pid at both ends of the window), latency from the capture
# time in the pixels to arrival, p50 and p99 (castrelay-testsrc --stamp writes each frame's pts
# as 32 black or white blocks inside the crop, castrelay-sink --stamp reads them where crop and
# scale put them: GStreamer restamps the header pts with its running time), delivered fps, the
# relay's peak RSS (VmHWM, read while the consumer runs), and allocations per frame (every malloc,
# calloc, realloc and aligned allocation of every thread of the relay: tests/bench/malloc-count.c
# preloaded). Then one table, with castrelayd's ratios against GStreamer, castrelayd's first
# frame cold and warm (tests/bench/first-frame.sh, run first) and the memcpy floor of one
# source frame on this machine (tests/bench/memcpy-floor.c).
#
# Performance is printed, never asserted: the checks only say that every castrelayd and direct
# row ran, delivered and had every stamp read; a GStreamer row that delivers nothing is printed
# as such (the baseline's failure is not ours).
#
#   meson test -C build --benchmark --suite bench bench -v
#   CR_BUILD_ROOT=build bash tools/bench.sh          (the helpers are looked for in build/tests)
#
#   CR_BENCH_CASES="1080p30 1080p60 4k30"   CR_BENCH_FORMATS="BGRx NV12"
#   CR_BENCH_RELAYS="castrelayd gstreamer direct"
#   CR_BENCH_FRAMES=300  CR_BENCH_WARMUP=60  CR_BENCH_FIRST_FRAME=1 (0: no first-frame runs)
#   CR_TEST_VK_DRIVER_FILES=<icd.json>       another Vulkan driver than lavapipe (a GPU)
. "${CR_SOURCE_ROOT:-$(dirname "$0")/..}/tests/lib/castrelay.sh" || exit 99

shim=$CR_BUILD_ROOT/tests/malloc-count.so
floor=$CR_BUILD_ROOT/tests/memcpy-floor
while [ $# -gt 0 ]; do
	case $1 in
	--malloc-shim) shim=$2; shift 2 ;;
	--memcpy-floor) floor=$2; shift 2 ;;
	*) cr_broken "bench.sh: unknown argument '$1' (--malloc-shim SO, --memcpy-floor BIN)" ;;
	esac
done
need_castrelay daemon testsrc sink
need_prog gst-launch-1.0 gst-inspect-1.0
for e in pipewiresrc pipewiresink videocrop videoscale videoconvert; do
	gst-inspect-1.0 "$e" >/dev/null 2>&1 ||
		cr_skip "GStreamer element $e is missing (tools/deps.sh installs it)"
done
[ -f "$shim" ] || cr_broken "bench.sh: no malloc shim at $shim (ninja -C $CR_BUILD_ROOT)"
[ -x "$floor" ] || cr_broken "bench.sh: no memcpy-floor at $floor (ninja -C $CR_BUILD_ROOT)"

cases=${CR_BENCH_CASES:-1080p30 1080p60 4k30}
formats=${CR_BENCH_FORMATS:-BGRx NV12}
relays=${CR_BENCH_RELAYS:-castrelayd gstreamer direct}
frames=${CR_BENCH_FRAMES:-300}
warmup=${CR_BENCH_WARMUP:-60}
for v in frames warmup; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || cr_broken "bench.sh: CR_BENCH_${v^^} must be a positive number"
done

# case NAME -> "W H FPS CROP_X CROP_Y CROP_W CROP_H OUT_W OUT_H"
case_geometry() {
	case $1 in
	1080p30) echo 1920 1080 30 160 90 1600 900 640 360 ;;
	1080p60) echo 1920 1080 60 160 90 1600 900 640 360 ;;
	4k30) echo 3840 2160 30 320 180 3200 1800 1280 720 ;;
	*) cr_broken "bench.sh: unknown case '$1' (1080p30, 1080p60, 4k30)" ;;
	esac
}

# First-frame latency, cold (castrelay's pipeline cache empty, the driver's shader cache off)
# and warm (both kept): tests/bench/first-frame.sh's chain, in its own private PipeWire, run
# before ours starts. CR_BENCH_FIRST_FRAME=0 leaves it out.
first_frame_log=$(mktemp "${TMPDIR:-/tmp}/castrelay-bench-first-frame.XXXXXX")
if [ "${CR_BENCH_FIRST_FRAME:-1}" != 0 ]; then
	CR_RUNS="cold:empty:off fill:keep:on warm:keep:on" CR_TEST_NAME=bench-first-frame \
		timeout 600 bash "$CR_SOURCE_ROOT/tests/bench/first-frame.sh" >"$first_frame_log" 2>&1
	first_frame_rc=$?
fi

pw_env_start
counts=$CR_TEST_DIR/malloc.count
if [ "${CR_BENCH_FIRST_FRAME:-1}" != 0 ]; then
	check_eq "the first-frame runs (tests/bench/first-frame.sh; log $first_frame_log)" \
		"$first_frame_rc" 0
fi

# start_relay KIND FMT GEOMETRY... : starts the relay; sets target (the node the consumer links
# to) and relay_pid (empty for direct). Returns 1 when the relay's node does not come.
relay_pid= target= device=
start_relay() {
	local kind=$1 fmt=$2 w=$3 h=$4 fps=$5 cx=$6 cy=$7 cw=$8 ch=$9 ow=${10} oh=${11}
	rm -f "$counts"
	relay_pid= target=
	case $kind in
	castrelayd)
		bg_start relay env LD_PRELOAD="$shim" CR_MALLOC_COUNT_FILE="$counts" "$CASTRELAYD" \
			--source castrelay-testsrc --name bench --crop "$cx,$cy,$cw,$ch" \
			--scale "${ow}x$oh" --format "$fmt" -v
		relay_pid=$(bg_pid relay)
		wait_for_node castrelay.bench 60 || return 1
		# The kernel is compiled before the first frame: not in the window.
		wait_for_prop castrelay.bench castrelay.source.state relaying 60 || return 1
		device=$(sed -n 's/.*castrelay.vk-device: info: using \([^(]*\) (.*/\1/p' \
			"$(bg_log relay)" | head -n 1)
		target=castrelay.bench
		;;
	gstreamer)
		bg_start relay env LD_PRELOAD="$shim" CR_MALLOC_COUNT_FILE="$counts" \
			gst-launch-1.0 -q pipewiresrc target-object=castrelay-testsrc \
			'stream-properties=props,node.dont-fallback=(string)true' \
			! videocrop left="$cx" top="$cy" right=$((w - cx - cw)) bottom=$((h - cy - ch)) \
			! videoscale ! videoconvert ! "video/x-raw,format=$fmt,width=$ow,height=$oh" \
			! pipewiresink mode=provide \
			'stream-properties=props,media.class=(string)Video/Source,node.name=(string)gst-bench'
		relay_pid=$(bg_pid relay)
		wait_for_node gst-bench 60 || return 1
		target=gst-bench
		;;
	direct)
		target=castrelay-testsrc
		;;
	esac
}

# peak_rss_kb PID : the process's peak RSS so far (VmHWM), empty once it has gone.
peak_rss_kb() {
	[ -n "$1" ] && sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null
}

# measure_value KEY LINE : KEY=VALUE out of a 'measure:' line.
measure_value() {
	sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"
}

declare -A row=()
order=()
for c in $cases; do
	read -r w h fps cx cy cw ch ow oh <<<"$(case_geometry "$c")"
	# The stamp: a row of 32 blocks in the middle of the crop, half its width wide.
	sx=$(((cx + cw / 4) / 2 * 2)) sy=$(((cy + ch / 2) / 2 * 2))
	sw=$((cw / 2 / 32 * 32)) sh=$((ch / 60 * 2))
	start_testsrc castrelay-testsrc --size "${w}x$h" --format BGRx --fps "$fps" \
		--stamp "$sx,$sy,$sw,$sh"
	for fmt in $formats; do
		for kind in $relays; do
			key="$c $fmt $kind"
			[ "$kind" = direct ] && [ "$fmt" != "${formats%% *}" ] && continue
			order+=("$key")
			cr_log "--- $key: ${w}x$h@$fps crop $cx,$cy,${cw}x$ch -> $fmt ${ow}x$oh"
			if ! start_relay "$kind" "$fmt" "$w" "$h" "$fps" "$cx" "$cy" "$cw" "$ch" \
				"$ow" "$oh"; then
				check_fail "$key: the relay publishes its node"
				bg_stop relay TERM 10
				continue
			fi
			# Where the relay's crop and scale put the stamp.
			stamp_out="$sx,$sy,$sw,$sh"
			[ "$kind" = direct ] || stamp_out="$(((sx - cx) * ow / cw)),$(((sy - cy) * oh / ch))"
			[ "$kind" = direct ] || stamp_out+=",$((sw * ow / cw)),$((sh * oh / ch))"
			measure=(--measure-from "$warmup" --stamp "$stamp_out")
			[ -z "$relay_pid" ] || measure+=(--measure-pid "$relay_pid" --measure-count "$counts")
			total=$((warmup + frames + 1))
			bg_start consumer "$CR_SINK" --target "$target" --frames "$total" \
				--timeout $((total / fps + 60)) "${measure[@]}"
			# The relay's peak RSS, read while the consumer runs (gst-launch-1.0 exits
			# as soon as its consumer goes).
			rss= deadline=$(($(now_ms) + (total / fps + 75) * 1000))
			while bg_running consumer && [ "$(now_ms)" -lt "$deadline" ]; do
				rss=$(peak_rss_kb "$relay_pid") || true
				sleep 0.5
			done
			bg_wait consumer 10 || bg_stop consumer INT 10
			consumer_rc=$CR_RC
			log=$(bg_log consumer)
			line=$(sink_line measure "$log")
			cr_log "$key: measure: $line"
			row[$key.fps]=$(measure_value fps "$line")
			row[$key.p50]=$(measure_value latency_p50_us "$line")
			row[$key.p99]=$(measure_value latency_p99_us "$line")
			row[$key.cpu]=$(measure_value cpu_ms_per_frame "$line")
			row[$key.allocs]=$(measure_value count_per_frame "$line")
			row[$key.rss]=$rss
			row[$key.format]=$(sink_line format "$log")
			if [ "$kind" = gstreamer ]; then
				# The baseline's failures are reported, not ours to fail on.
				[ "$consumer_rc" = 0 ] || row[$key.note]="no frames: $(head -n 1 "$log")"
				cr_log "$key: consumer exit status $consumer_rc${row[$key.note]:+ (${row[$key.note]})}"
			else
				check_eq "$key: the consumer's exit status" "$consumer_rc" 0
				check_match "$key: every stamp read" "$(sink_line stamp "$log")" \
					'^read=[0-9]+ bad=0( |$)'
				check_match "$key: frames measured" "$(measure_value frames "$line")" \
					'^[0-9]+$'
			fi
			if [ "$kind" = castrelayd ]; then
				bg_stop relay TERM 10
				check_eq "$key: the relay's exit status" "$CR_RC" 0
			elif [ -n "$relay_pid" ]; then
				# gst-launch-1.0 stops with an error when its consumer goes
				# ("all buffers have been removed"): not a failure of the row.
				bg_stop relay TERM 10
				cr_log "$key: gst-launch-1.0 exit status $CR_RC"
			fi
		done
	done
	bg_stop testsrc TERM 10
done

ratio() { # ratio A B : A / B, or - when either is missing
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-";
		else printf "%.2f", a / b }'
}
us_ms() { # us_ms US : in milliseconds, 2 decimals
	awk -v u="$1" 'BEGIN { if (u == "") print "-"; else printf "%.2f", u / 1000 }'
}
echo
echo "## tools/bench.sh: $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$CR_SOURCE_ROOT" \
	rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores"
echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "Vulkan: ${device:-unknown} (${VK_DRIVER_FILES:-default driver})"
echo "Window: $frames frames after $warmup; CPU = the relay's user + system time per delivered frame"
echo
echo "| case | output | relay | CPU ms/frame | vs GStreamer | latency p50 ms | p99 ms | p50 vs GStreamer | fps | peak RSS MB | allocs/frame |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for key in "${order[@]}"; do
	read -r c fmt kind <<<"$key"
	g="$c $fmt gstreamer"
	cpu_ratio=- lat_ratio=-
	if [ "$kind" = castrelayd ]; then
		cpu_ratio=$(ratio "${row[$key.cpu]}" "${row[$g.cpu]:-}")
		lat_ratio=$(ratio "${row[$key.p50]}" "${row[$g.p50]:-}")
	fi
	rss=$(awk -v k="${row[$key.rss]}" 'BEGIN { if (k == "") print "-"; else printf "%.0f", k / 1024 }')
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$c" "$fmt" "$kind" \
		"${row[$key.cpu]:--}" "$cpu_ratio" "$(us_ms "${row[$key.p50]}")" \
		"$(us_ms "${row[$key.p99]}")" "$lat_ratio" "${row[$key.fps]:--}" "$rss" \
		"${row[$key.allocs]:--}"
done
for key in "${order[@]}"; do
	[ -z "${row[$key.note]:-}" ] || echo "$key: ${row[$key.note]}"
done
echo
if [ "${CR_BENCH_FIRST_FRAME:-1}" != 0 ]; then
	echo
	echo "First frame, castrelayd on the demo's chain (tests/bench/first-frame.sh): cold = no"
	echo "pipeline cache and no driver shader cache, warm = both kept (the fill run between):"
	sed -n 's/^RESULT \(cold\|warm\) /  \1: /p' "$first_frame_log"
fi
declare -A floored=()
for c in $cases; do
	read -r w h _ <<<"$(case_geometry "$c")"
	[ -z "${floored[${w}x$h]:-}" ] || continue
	floored[${w}x$h]=1
	echo "memcpy floor, one ${w}x$h BGRx frame: $("$floor" $((w * h * 4)) 50)"
done
cr_finish
