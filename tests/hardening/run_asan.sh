#!/bin/bash
# Runs every unit test binary of a sanitizer build (make check-asan):
#
#   tests/hardening/run_asan.sh BUILD_DIR
#
# from the top of the repository, with UBSan halting on its first report
# and AddressSanitizer's leak check on. One line per binary: "ok - asan
# NAME (N tests)" or "not ok - asan NAME"; exits non-zero if any failed.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-build-asan}
logs="$top/$dir/test-logs"
failed=0
ran=0

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1

mkdir -p "$logs"
cd "$top" || exit 1
for bin in "$dir"/tests/test_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	log="$logs/$name.log"
	ran=$((ran + 1))
	timeout -k 10 240 "$bin" >"$log" 2>&1
	status=$?
	passed=$(sed -n 's/^\[  *PASSED  *\] \([0-9]*\) test.*/\1/p' "$log" |
		awk '{ n += $1 } END { print n + 0 }')
	reports='runtime error:\|ERROR: AddressSanitizer\|ERROR: LeakSanitizer'
	if [ "$status" -eq 0 ] && ! grep -q "$reports" "$log"; then
		echo "ok - asan $name ($passed tests)"
		continue
	fi
	failed=1
	echo "not ok - asan $name (exit status $status)"
	grep -E 'runtime error|ERROR:|SUMMARY|FAILED|#[0-9] ' "$log" |
		head -n 25 | sed 's/^/#   /'
done
if [ "$ran" -eq 0 ]; then
	echo "not ok - asan: no unit test binary in $dir/tests"
	failed=1
fi
exit "$failed"
