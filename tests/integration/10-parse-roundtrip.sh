#!/bin/bash
# Builds varied messages with the library (tests/verify/build_samples.c)
# and reads each back with two independent parsers, Python's email
# package (strict policy) and npm mailparser, comparing every field with
# what was built and every attachment byte for byte.
set -u
. "$(dirname "$0")/lib/common.sh"
it_init parse-roundtrip

prog="$work/build_samples"
samples="$work/samples"
mkdir -p "$samples"

# The sample builder links the shared library, which brings its own
# dependencies, so this list never has to follow the library's.
if ! check "build_samples compiles" \
	${CC:-cc} -std=c11 -Wall -Wextra -D_GNU_SOURCE -I"$top/include" \
	$(pkg-config --cflags libcjson) -o "$prog" \
	"$top/tests/verify/build_samples.c" -L"$top/build/lib" -lrelaymail \
	-Wl,-rpath,"$top/build/lib" $(pkg-config --libs libcjson) \
	-lmbedcrypto; then
	it_finish
fi
check "build_samples writes the samples" "$prog" "$samples" || it_finish

for eml in "$samples"/*.eml; do
	name=$(basename "$eml" .eml)
	check "$name (python)" "$py" "$top/tests/verify/verify.py" \
		"$eml" "$samples/$name.json"
	check "$name (node)" node "$top/tests/verify/verify.js" \
		"$eml" "$samples/$name.json"
done

it_finish
