#!/bin/bash
# The example programs and some unit tests under valgrind (make
# check-valgrind): any memory error or a definite or indirect leak fails
# the line. One "ok - valgrind NAME" / "not ok - valgrind NAME" line per
# run; exits non-zero if any failed.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
bin="$top/build/bin"
work="$top/build/valgrind"
failed=0

rm -rf "$work"
mkdir -p "$work"
cd "$top" || exit 1

vg() {
	local name=$1 log="$work/$1.log"
	shift
	if valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect "$@" >"$log" 2>&1; then
		echo "ok - valgrind $name"
		return 0
	fi
	echo "not ok - valgrind $name"
	grep -E '^==[0-9]+==' "$log" | head -n 30 | sed 's/^/#   /'
	failed=1
	return 1
}

if ! command -v valgrind >/dev/null 2>&1; then
	echo "not ok - valgrind is installed (scripts/deps.sh installs it)"
	exit 1
fi

# A message with every part kind, printed rather than sent.
printf 'attached bytes\n' >"$work/note.txt"
vg "relaymail-send --dump" "$bin/relaymail-send" --dump \
	--from 'Jörg <j@example.com>' --to b@example.net --cc c@example.org \
	--bcc d@example.org --subject 'Grüße, a long subject' \
	--text 'hello' --html '<p>hello</p>' --attach "$work/note.txt" \
	--header 'X-Test: 1'

# A send over SMTP to relaymail-sink (itself under valgrind).
mkdir -p "$work/sink"
valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect \
	"$bin/relaymail-sink" --dir "$work/sink" --port 0 \
	--port-file "$work/sink.port" --max-messages 1 \
	>"$work/sink.log" 2>&1 </dev/null &
sink=$!
for _ in $(seq 1 300); do
	[ -s "$work/sink.port" ] && break
	sleep 0.1
done
vg "relaymail-send to relaymail-sink" "$bin/relaymail-send" \
	--url "smtp://127.0.0.1:$(cat "$work/sink.port" 2>/dev/null)" \
	--from a@example.com --to b@example.net --subject hi --text hello
# --max-messages 1: the sink ends by itself after the message.
for _ in $(seq 1 300); do
	kill -0 "$sink" 2>/dev/null || break
	sleep 0.1
done
kill "$sink" 2>/dev/null
wait "$sink"
status=$?
if [ "$status" -eq 0 ] && [ -s "$work/sink/1.eml" ]; then
	echo "ok - valgrind relaymail-sink"
else
	echo "not ok - valgrind relaymail-sink (exit status $status)"
	grep -E '^==[0-9]+==' "$work/sink.log" | head -n 30 | sed 's/^/#   /'
	failed=1
fi

# Unit tests that cover the message writer, the encoders and the SMTP
# dialogue (threads and TLS included).
for t in test_message test_encode test_smtp_reply test_smtp_tls; do
	[ -x "build/tests/$t" ] || continue
	vg "$t" "build/tests/$t"
done
exit "$failed"
