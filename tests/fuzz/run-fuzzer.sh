#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One libFuzzer target for a bounded time, the fuzz suite's test:
#   run-fuzzer.sh FUZZER SEED-DIR WORK-DIR [LIBFUZZER-OPTION...]
# starts from the seeds and WORK-DIR/corpus, adds what it finds to WORK-DIR/corpus (never to
# the seed directory), and fails on any crash, sanitizer report, leak, timeout (10 s for one
# input) or memory blow-up (2 GiB), leaving the input as WORK-DIR/crash-* (leak-*, timeout-*,
# oom-*) and saying how to reproduce it. CR_FUZZ_TIME sets the seconds (default 60).
set -euo pipefail
fuzzer=$1 seeds=$2 work=$3
shift 3
seconds=${CR_FUZZ_TIME:-60}
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
	echo "run-fuzzer: CR_FUZZ_TIME must be a number of seconds above 0 (got '$seconds')" >&2
	exit 1
fi
mkdir -p "$work/corpus"
rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*
status=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 -artifact_prefix="$work/" \
	"$@" "$work/corpus" "$seeds" || status=$?
if [ "$status" -ne 0 ]; then
	for input in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
		[ -e "$input" ] || continue
		echo "run-fuzzer: reproduce with: $fuzzer $input"
		echo "run-fuzzer: once fixed, keep it: cp $input $seeds/crash-WHAT"
	done
	echo "run-fuzzer: $(basename "$fuzzer") failed (status $status)" >&2
	exit 1 # never 77, which meson would take for a skip
fi
