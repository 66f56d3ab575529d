#!/bin/bash
# make demo: sends one demonstration message with relaymail-send.
#
# With RELAYMAIL_URL unset, it starts relaymail-sink on 127.0.0.1 (a free
# port) in a temporary folder, sends the message there over SMTP, prints
# what the sink received (the envelope, then the message), and stops the
# sink. With RELAYMAIL_URL set, it sends there instead; DEMO_FROM and
# DEMO_TO set the addresses, RELAYMAIL_PASSWORD the password, and
# DEMO_VERBOSE=1 shows the (redacted) SMTP transcript.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/build/bin"
from=${DEMO_FROM:-"relaymail demo <demo@relaymail.test>"}
to=${DEMO_TO:-"Jörg Müller <joerg@example.com>"}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/relaymail-demo.XXXXXX")
sink_pid=""

cleanup() {
	if [ -n "$sink_pid" ] && kill -0 "$sink_pid" 2>/dev/null; then
		kill -TERM "$sink_pid"
		wait "$sink_pid" || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# The attachment: a small CSV report made on the spot.
make_files() {
	printf 'city,greeting\nKöln,Grüß Gott\nMalmö,Hej\nKyōto,こんにちは\n' \
		>"$tmp/greetings.csv"
}

send() {
	local verbose=()
	[ "${DEMO_VERBOSE:-}" = 1 ] && verbose=(--verbose)
	"$bin/relaymail-send" "${verbose[@]}" "$@" \
		--from "$from" --to "$to" \
		--subject "Grüße from relaymail ✉" \
		--text $'Hello!\n\nThis message was built and sent by relaymail.\nThe HTML part shows the logo inline; the CSV is attached.\n' \
		--html '<h1>Grüße from relaymail ✉</h1><p>Built and sent by <b>relaymail</b>.</p><p><img src="cid:logo@relaymail" alt="relaymail logo" width="16" height="16"></p>' \
		--attach "$tmp/greetings.csv" \
		--inline "$top/examples/data/relaymail.png:logo@relaymail" \
		--header "X-Mailer-Demo: make demo"
}

start_sink() {
	"$bin/relaymail-sink" --dir "$tmp/sink" --port 0 \
		--port-file "$tmp/port" --quiet &
	sink_pid=$!
	for _ in $(seq 1 100); do
		[ -s "$tmp/port" ] && return 0
		sleep 0.1
	done
	echo "demo: relaymail-sink did not start" >&2
	return 1
}

show_received() {
	local n
	for n in $(seq 1 100); do
		[ -s "$tmp/sink/1.json" ] && break
		sleep 0.1
	done
	echo
	echo "==== envelope received by relaymail-sink (1.json) ===="
	cat "$tmp/sink/1.json"
	echo
	echo "==== message received by relaymail-sink (1.eml) ===="
	tr -d '\r' <"$tmp/sink/1.eml"
	echo "==== end of message ===="
}

main() {
	make_files
	if [ -n "${RELAYMAIL_URL:-}" ]; then
		echo "demo: sending to the relay in RELAYMAIL_URL"
		send
		return
	fi
	start_sink
	local url="smtp://127.0.0.1:$(cat "$tmp/port")"
	echo "demo: relaymail-sink listens on ${url#smtp://}"
	echo "demo: relaymail-send --url $url ..."
	send --url "$url"
	show_received
}

main
