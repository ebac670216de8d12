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
#   cr_sanitized                   true when castrelayd is built with AddressSanitizer
#   cr_sanitizer_stderr_asan_options  ASAN_OPTIONS without log_path (reports on stderr)
#   cr_sanitizer_reports REPORT_DIR LOG...
#                                  prints every report found (ASan/LSan in REPORT_DIR, UBSan in
#                                  the LOGs: in a build with both, UBSan writes to stderr whatever
#                                  log_path says; ASan/LSan too, from a process that got no
#                                  log_path); returns 1 when there is one

CR_SANITIZER_FILES=$(cd "$(dirname "${BASH_SOURCE[0]}")/../sanitizers" && pwd)
CR_SANITIZER_LOG_ERE='^[^ ]+:[0-9]+:[0-9]+: runtime error: |^==[0-9]+==ERROR: (Address|Leak)Sanitizer'

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
	# Ours first: a value the caller set wins (later ones do), but the report directory.
	export ASAN_OPTIONS="$asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}${dir:+:log_path=$dir/asan}"
	# print_suppressions=0: a suppressed leak leaves no file behind that would read as a report.
	export LSAN_OPTIONS="suppressions=$CR_SANITIZER_FILES/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
	export UBSAN_OPTIONS="$ubsan:suppressions=$CR_SANITIZER_FILES/ubsan.supp${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
	# PipeWire unloads its modules and SPA plugins in pw_deinit(); LeakSanitizer symbolises at
	# exit, so a leak inside one would read "<unknown module>" and no suppression could name it.
	export PIPEWIRE_DLCLOSE=false
}

# cr_sanitized : true when castrelayd ($CASTRELAYD) is built with AddressSanitizer. Such a
# build runs at a fraction of a normal one's speed (its C code about 2x slower, lavapipe's LLVM
# compile about 5x under ASan's allocator), so a test whose figure is a speed may need another
# bound there; say why where it does.
cr_sanitized() {
	if [ -z "${CR_SANITIZED:-}" ]; then
		CR_SANITIZED=0
		ldd "${CASTRELAYD:-}" 2>/dev/null | grep -q 'libasan' && CR_SANITIZED=1
	fi
	[ "$CR_SANITIZED" = 1 ]
}

# cr_sanitizer_stderr_asan_options : ASAN_OPTIONS without the report directory, for a process
# that cannot write there (a sandboxed unit): its reports then go to its stderr.
cr_sanitizer_stderr_asan_options() {
	printf '%s' "${ASAN_OPTIONS%:log_path=*}"
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
	# In the logs: UBSan's "file:line:col: runtime error:" lines, and ASan or LSan reports of a
	# process that had no report directory (one started with an environment of its own).
	for file in "$@"; do
		[ -f "$file" ] || continue
		grep -qE "$CR_SANITIZER_LOG_ERE" "$file" || continue
		found=1
		printf -- '----- sanitizer report in %s -----\n' "${file##*/}"
		grep -E -A 40 "$CR_SANITIZER_LOG_ERE" "$file"
	done
	[ "$found" -eq 0 ]
}
