# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Sanitizer options for the castrelay binaries of a sanitizer build (meson setup
# -Db_sanitize=address,undefined; tools/test.sh builds one). Sourced by pw-env.sh, which exports
# them for every process a test starts (castrelayd, castrelay-testsrc, castrelay-sink; programs
# built without sanitizers ignore them), and by tools/test.sh for the unit suite. The options and
# suppressions live in tests/sanitizers/, one reason per line.
#
#   cr_sanitizer_env [REPORT_DIR]  exports ASAN_OPTIONS, LSAN_OPTIONS and UBSAN_OPTIONS; with
#                                  REPORT_DIR, ASan and LSan write their reports to
#                                  REPORT_DIR/asan.PID instead of stderr
#   cr_sanitizer_reports REPORT_DIR LOG...
#                                  prints every report found (ASan/LSan in REPORT_DIR, UBSan in
#                                  the LOGs: in a build with both, UBSan writes to stderr whatever
#                                  log_path says); returns 1 when there is one

CR_SANITIZER_FILES=$(cd "$(dirname "${BASH_SOURCE[0]}")/../sanitizers" && pwd)

# cr_sanitizer_options FILE : FILE's options (name=value, '#' starts a comment) joined by ':'.
cr_sanitizer_options() {
	local line out=""
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%%#*}
		line=${line//[[:space:]]/}
		[ -z "$line" ] || out+=${out:+:}$line
	done <"$1"
	printf '%s' "$out"
}

cr_sanitizer_env() {
	local dir=${1:-} asan ubsan
	asan=$(cr_sanitizer_options "$CR_SANITIZER_FILES/asan.options")
	ubsan=$(cr_sanitizer_options "$CR_SANITIZER_FILES/ubsan.options")
	[ -z "$dir" ] || asan+=":log_path=$dir/asan"
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}$asan"
	# print_suppressions=0: a suppressed leak leaves no file behind that would read as a report.
	export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$CR_SANITIZER_FILES/lsan.supp:print_suppressions=0"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}$ubsan:suppressions=$CR_SANITIZER_FILES/ubsan.supp"
}

cr_sanitizer_reports() {
	local dir=$1 file found=0
	shift
	for file in "$dir"/asan.*; do
		[ -s "$file" ] || continue
		found=1
		printf -- '----- sanitizer report %s -----\n' "${file##*/}"
		cat -- "$file"
	done
	for file in "$@"; do
		[ -f "$file" ] || continue
		# file:line:col: runtime error: ... (UBSan's report line)
		grep -qE '^[^ ]+:[0-9]+:[0-9]+: runtime error: ' "$file" || continue
		found=1
		printf -- '----- UndefinedBehaviorSanitizer report in %s -----\n' "${file##*/}"
		grep -E -A 30 ': runtime error: ' "$file"
	done
	[ "$found" -eq 0 ]
}
