#!/bin/bash
# Runs every test: the cmocka unit binaries (build/tests/test_*) and the
# integration scripts (tests/integration/*.sh), each under a time limit,
# one line per item, and ends with the line "N passed, N failed".
#
#   tests/run.sh [PATTERN...]   only the items whose name holds a PATTERN
#
# Counting: a unit binary adds the numbers of its cmocka "[  PASSED  ] N
# test(s)." and "[  FAILED  ] N test(s)" lines; a script adds its "ok - "
# and "not ok - " lines. An item that crashes, times out, or exits non-zero
# without reporting a failure counts as one failure more. The full output
# of every item is kept in build/test-logs/, and shown for failed items.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
logs="$top/build/test-logs"
item_timeout=${RM_TEST_TIMEOUT:-300}
passed=0
failed=0
failed_items=()

mkdir -p "$logs"

wanted() {
	local name=$1 pattern
	[ "${#patterns[@]}" -eq 0 ] && return 0
	for pattern in "${patterns[@]}"; do
		case "$name" in *"$pattern"*) return 0 ;; esac
	done
	return 1
}

# The sum of the numbers cmocka printed after a marker such as "PASSED".
cmocka_count() {
	local marker=$1 log=$2
	sed -n "s/^\[  *$marker  *\] \([0-9][0-9]*\) test.*/\1/p" "$log" |
		awk '{ n += $1 } END { print n + 0 }'
}

# Adds an item's counts to the totals and prints its line.
record() {
	local name=$1 ok=$2 bad=$3 status=$4 log=$5 note=""
	if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
		bad=1
		note=" (exit status $status)"
		[ "$status" -eq 124 ] && note=" (timed out after ${item_timeout}s)"
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
	if [ "$bad" -eq 0 ]; then
		printf 'PASS %-40s %d passed\n' "$name" "$ok"
		return
	fi
	printf 'FAIL %-40s %d passed, %d failed%s\n' "$name" "$ok" "$bad" "$note"
	failed_items+=("$name")
	sed 's/^/    | /' "$log" | tail -n 80
}

run_unit() {
	local bin=$1 name log status
	name=unit/$(basename "$bin")
	log="$logs/$(basename "$bin").log"
	(cd "$top" && timeout -k 10 "$item_timeout" "$bin") >"$log" 2>&1
	status=$?
	record "$name" "$(cmocka_count PASSED "$log")" \
		"$(cmocka_count FAILED "$log")" "$status" "$log"
}

run_script() {
	local script=$1 name log status ok bad
	name=integration/$(basename "$script" .sh)
	log="$logs/$(basename "$script" .sh).log"
	(cd "$top" && timeout -k 10 "$item_timeout" bash "$script") \
		>"$log" 2>&1 </dev/null
	status=$?
	ok=$(grep -c '^ok - ' "$log")
	bad=$(grep -c '^not ok - ' "$log")
	record "$name" "$ok" "$bad" "$status" "$log"
}

main() {
	local bin script
	shopt -s nullglob
	for bin in "$top"/build/tests/test_*; do
		[ -x "$bin" ] || continue
		wanted "unit/$(basename "$bin")" && run_unit "$bin"
	done
	for script in "$top"/tests/integration/*.sh; do
		wanted "integration/$(basename "$script" .sh)" &&
			run_script "$script"
	done
	if [ "${#failed_items[@]}" -gt 0 ]; then
		echo "failed: ${failed_items[*]} (logs in build/test-logs/)"
	fi
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}

patterns=("$@")
main
