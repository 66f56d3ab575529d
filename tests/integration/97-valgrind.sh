#!/bin/bash
# The example programs (relaymail-send --dump, a send to relaymail-sink,
# the sink itself) and some unit tests under valgrind, as make
# check-valgrind runs them: no memory error, no definite or indirect
# leak.
source "$(dirname "$0")/lib/common.sh"

it_init 97-valgrind
cd "$top" || exit 1

tests/hardening/run_valgrind.sh >"$work/run.log" 2>&1
cat "$work/run.log"
grep -q '^not ok - ' "$work/run.log" && it_failed=1
it_count=$((it_count + $(grep -c '^ok - \|^not ok - ' "$work/run.log")))
it_finish
