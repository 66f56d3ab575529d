#!/bin/sh
# make bench: builds the benchmark programs and the Node peers, then runs
# every workload and writes docs/benchmarks.md (see bench/bench.py).
# BENCH_QUICK=1 for a short run. Needs the tools `make deps` installs.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

make -s -f bench/Makefile

if [ ! -d bench/node_modules/nodemailer ] ||
   [ ! -d bench/node_modules/@sendgrid/mail ]; then
	(cd bench && npm ci --no-audit --no-fund --loglevel=error)
fi

exec /usr/bin/python3 bench/bench.py
