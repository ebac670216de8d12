#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm-guest: the whole relay on real DMA-BUFs. Three castrelay-testsrc --dmabuf udmabuf|heap|vgem
# sources (heap with padded rows), one castrelayd (one lavapipe device, which costs seconds
# under TCG) relaying each of them, and castrelay-sink --verify on each output in turn: exact
# pixels, fresh frames, the input negotiated as DMA-BUF (castrelay.input.transport=dmabuf) and
# synchronised through the buffers' implicit fences (castrelay.sync=implicit). A fourth source
# hands out memfds as DMA-BUFs (--memfd-dmabuf), which carry no fences: castrelay.sync=none.
# Last, a --dmabuf vgem --late-writes source read by castrelay-sink itself, which takes shared
# memory only: the source falls back to memfds and writes its frames in time.
# Guest only (tests/vm/run-in-vm.sh); skips (77) elsewhere.
. "${CR_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/castrelay.sh" || exit 99
[ -n "${CR_VM_GUEST:-}" ] || cr_skip "guest-side test: run the vm suite (tests/vm/run-in-vm.sh)"
need_castrelay daemon testsrc sink
pw_env_start

size=128x96
kinds=(udmabuf heap vgem memfd)
declare -A args=(
	[udmabuf]="--dmabuf udmabuf"
	[heap]="--dmabuf heap --stride-pad 64"
	[vgem]="--dmabuf vgem"
	[memfd]="--memfd-dmabuf"
)
declare -A sync=([udmabuf]=implicit [heap]=implicit [vgem]=implicit [memfd]=none)
for kind in "${kinds[@]}"; do
	# start_testsrc runs one source; four run side by side here.
	# shellcheck disable=SC2086 # word splitting of the arguments is intended
	bg_start "testsrc-$kind" "$CR_TESTSRC" --name "src-$kind" --size "$size" --fps 15 \
		${args[$kind]}
	check "castrelay-testsrc ${args[$kind]} publishes node src-$kind" \
		wait_for_node "src-$kind" 15
done

config="$CR_TEST_DIR/castrelay.conf"
{
	echo 'castrelay.relays = ['
	for kind in "${kinds[@]}"; do
		echo "  { name = \"$kind\" source = { target = \"src-$kind\" } }"
	done
	echo ']'
} >"$config"
start_daemon "${kinds[0]}" -c "$config" -v
for kind in "${kinds[@]:1}"; do
	check "castrelayd publishes node castrelay.$kind" wait_for_node "castrelay.$kind" 30
done

for kind in "${kinds[@]}"; do
	cr_log "--- $kind"
	cr_now
	t0=$CR_NOW
	# The first frame waits for llvmpipe to compile the kernel (a minute under TCG without a
	# warm shader cache): a generous deadline, not a sleep.
	run_sink 240 --target "castrelay.$kind" --frames 20 --skip 2 --verify "$size"
	cr_now
	cr_log "$kind: 20 frames in $((CR_NOW - t0)) ms"
	check_sink_report 18 "BGRx $size"
	check_file_contains "src-$kind negotiated a $kind DMA-BUF" "$(bg_log "testsrc-$kind")" \
		"testsrc: transport dmabuf ($kind, LINEAR)"
	check_eq "castrelay.$kind castrelay.input.transport" \
		"$(node_prop "castrelay.$kind" castrelay.input.transport)" dmabuf
	# Node properties are refreshed about once a second.
	wait_for_prop "castrelay.$kind" castrelay.sync "${sync[$kind]}" 5
	check_eq "castrelay.$kind castrelay.sync" \
		"$(node_prop "castrelay.$kind" castrelay.sync)" "${sync[$kind]}"
done

stop_daemon "${kinds[0]}"

cr_log "--- SHM fallback"
bg_start testsrc-fallback "$CR_TESTSRC" --name src-fallback --size "$size" --fps 15 \
	--dmabuf vgem --late-writes 20
check "castrelay-testsrc --dmabuf vgem --late-writes 20 publishes node src-fallback" \
	wait_for_node src-fallback 15
run_sink 60 --target src-fallback --frames 20 --skip 2 --verify "$size"
check_sink_report 18 "BGRx $size"
check_file_contains "src-fallback fell back to shared memory" "$(bg_log testsrc-fallback)" \
	"testsrc: transport shm"
check_file_contains "src-fallback writes in time without DMA-BUFs" \
	"$(bg_log testsrc-fallback)" "testsrc: --late-writes needs the vgem DMA-BUF transport"
cr_finish
