#!/bin/bash
# Runs libFuzzer targets for a bounded time each (make fuzz-ci):
#
#   FUZZ_TIME=20 FUZZ_JOBS=2 tests/fuzz/run.sh NAME...
#
# Each target build-fuzz/fuzz_NAME starts from its seeds
# (tests/fuzz/corpus/NAME) and its regression inputs
# (tests/fuzz/regressions/NAME); new inputs go to build-fuzz/corpus/NAME,
# never into the repository. A crash, leak, timeout or sanitizer report
# fails the target; the input is kept in build-fuzz/artifacts/. Prints
# "ok - fuzz NAME" or "not ok - fuzz NAME" per target and exits non-zero
# when any failed.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
out="$top/build-fuzz"
time_each=${FUZZ_TIME:-20}
jobs=${FUZZ_JOBS:-2}

# DKIM key seeds are made here rather than committed: real keys of
# each kind the loader takes.
pem_seeds() {
	local dir=$1
	command -v openssl >/dev/null 2>&1 || return 0
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 \
		-out "$dir/rsa_pkcs8.pem" 2>/dev/null
	openssl genrsa -traditional -out "$dir/rsa_pkcs1.pem" 1024 \
		2>/dev/null || openssl genrsa -out "$dir/rsa_pkcs1.pem" 1024 \
		2>/dev/null
	openssl genpkey -algorithm ed25519 -out "$dir/ed25519.pem" 2>/dev/null
	openssl ecparam -name prime256v1 -genkey -noout \
		-out "$dir/ec.pem" 2>/dev/null
	return 0
}

run_one() {
	local name=$1 work="$out/corpus/$1" log="$out/logs/$1.log"
	local dirs=("$work" "$top/tests/fuzz/corpus/$name")
	mkdir -p "$work" "$out/artifacts" "$out/logs"
	[ "$name" = pem ] && pem_seeds "$work"
	[ -d "$top/tests/fuzz/regressions/$name" ] &&
		dirs+=("$top/tests/fuzz/regressions/$name")
	# rss_limit bounds memory; -timeout flags an input that hangs.
	"$out/fuzz_$name" -max_total_time="$time_each" -timeout=10 \
		-rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/$name-" "${dirs[@]}" \
		>"$log" 2>&1
}

report() {
	local name=$1 status=$2 log="$out/logs/$1.log" runs
	if [ "$status" -eq 0 ]; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "ok - fuzz $name (${runs:-?} runs)"
		return 0
	fi
	echo "not ok - fuzz $name (exit status $status)"
	grep -E 'ERROR|SUMMARY|invariant|runtime error|Test unit written' \
		"$log" | head -n 20 | sed 's/^/#   /'
	return 1
}

main() {
	local failed=0 name i=0 pids=() names=()
	for name in "$@"; do
		if [ ! -x "$out/fuzz_$name" ]; then
			echo "not ok - fuzz $name (not built: make fuzz)"
			failed=1
			continue
		fi
		run_one "$name" &
		pids+=($!)
		names+=("$name")
		# At most $jobs at once.
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
			wait -n
		done
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}"
		report "${names[$i]}" $? || failed=1
	done
	return "$failed"
}

main "$@"
