#!/bin/bash
# The libFuzzer targets of tests/fuzz/ (make fuzz, clang), each run for a
# bounded time from its seeds and regression inputs (make fuzz-ci). A
# crash, a leak, a hang or a broken invariant fails its line. The time
# per target is RM_FUZZ_TIME seconds (default 15); two run at once.
source "$(dirname "$0")/lib/common.sh"

it_init 96-fuzz
cd "$top" || exit 1

if make -j2 fuzz >"$work/build.log" 2>&1; then
	ok "fuzz: targets build with clang libFuzzer, ASan and UBSan"
else
	not_ok "fuzz: targets build with clang libFuzzer, ASan and UBSan"
	tail -n 30 "$work/build.log" | sed 's/^/#   /'
	it_finish
fi

names=()
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	names+=("${name#fuzz_}")
done
FUZZ_TIME=${RM_FUZZ_TIME:-15} FUZZ_JOBS=2 tests/fuzz/run.sh "${names[@]}" \
	>"$work/run.log" 2>&1
cat "$work/run.log"
# run.sh prints the ok / not ok lines; count them into this script's
# result.
grep -q '^not ok - ' "$work/run.log" && it_failed=1
it_count=$((it_count + $(grep -c '^ok - \|^not ok - ' "$work/run.log")))
it_finish
