#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs $CR_REAL_DAEMON with every stderr line prefixed by the wall clock ($EPOCHREALTIME), and a
# first "stamp-stderr: start" line, so that a benchmark can time the daemon's own messages.
printf '%s stamp-stderr: start\n' "$EPOCHREALTIME" >&2
exec "$CR_REAL_DAEMON" "$@" 2> >(while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done >&2)
