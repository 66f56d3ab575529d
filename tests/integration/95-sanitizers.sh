#!/bin/bash
# The whole unit suite built with AddressSanitizer and UBSan into
# build-asan/ (make check-asan) and run there: any sanitizer report, leak
# or failed test fails the binary's line.
source "$(dirname "$0")/lib/common.sh"

it_init 95-sanitizers
cd "$top" || exit 1

if make -j2 B=build-asan OPT="-O1 -g" \
	SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" unit \
	>"$work/build.log" 2>&1; then
	ok "asan: library and unit tests build with ASan and UBSan"
else
	not_ok "asan: library and unit tests build with ASan and UBSan"
	tail -n 30 "$work/build.log" | sed 's/^/#   /'
	it_finish
fi

tests/hardening/run_asan.sh build-asan >"$work/run.log" 2>&1
cat "$work/run.log"
grep -q '^not ok - ' "$work/run.log" && it_failed=1
it_count=$((it_count + $(grep -c '^ok - \|^not ok - ' "$work/run.log")))
it_finish
