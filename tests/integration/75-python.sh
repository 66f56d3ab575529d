#!/bin/bash
# The Python binding (bindings/python): its pytest suite run with Debian's
# Python against the library in build/lib, sending through relaymail-sink
# and the file transport. Each pytest test becomes one "ok -" line.
source "$(dirname "$0")/lib/common.sh"

it_init 75-python
unset RELAYMAIL_URL RELAYMAIL_PASSWORD RELAYMAIL_OAUTH_TOKEN

if ! "$py" -m pytest --version >/dev/null 2>&1; then
	not_ok "pytest is installed (scripts/deps.sh installs python3-pytest)"
	it_finish
fi

# The package is used from the source tree; the library is the one just
# built, found through RELAYMAIL_LIBRARY as an installed program would.
export PYTHONPATH="$top/bindings/python/src"
export PYTHONDONTWRITEBYTECODE=1
export RELAYMAIL_LIBRARY="$top/build/lib/librelaymail.so"
export RELAYMAIL_SINK="$bin/relaymail-sink"

(cd "$top/bindings/python" &&
	"$py" -m pytest -v -p no:cacheprovider --basetemp="$work/tmp" \
		tests) >"$work/pytest.log" 2>&1
status=$?

# "tests/test_x.py::test_y PASSED [ 10%]" -> "ok - python: test_x::test_y"
awk '
/::.* (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)/ {
	name = $1
	sub(/^tests\//, "", name)
	sub(/\.py::/, "::", name)
	if ($2 == "PASSED" || $2 == "XFAIL")
		print "ok - python: " name
	else
		print "not ok - python: " name " (" $2 ")"
}' "$work/pytest.log" >"$work/lines"
cat "$work/lines"
it_count=$(wc -l <"$work/lines")
it_failed=$(grep -c '^not ok' "$work/lines")

if [ "$status" -ne 0 ] || [ "$it_failed" -ne 0 ]; then
	sed 's/^/#   /' "$work/pytest.log" | tail -n 60
	[ "$status" -ne 0 ] && [ "$it_failed" -eq 0 ] &&
		not_ok "pytest exits 0 (status $status)"
fi
it_finish
