#!/bin/bash
# Composite URLs through relaymail-send against two relaymail-sink
# instances on loopback, one of them stopped: failover delivers exactly
# once on the live one, retry alone reports a temporary failure, round
# robin spreads messages with none lost or doubled, and a breaker file
# lets a later process skip the dead relay at once.
source "$(dirname "$0")/lib/common.sh"

it_init 60-route-send
unset RELAYMAIL_URL RELAYMAIL_PASSWORD RELAYMAIL_OAUTH_TOKEN
send="$bin/relaymail-send"

# send ID URL [ARGS...]: one small message whose Message-ID is ID.
send_one() {
	local id=$1 url=$2
	shift 2
	"$send" --url "$url" --from a@example.com --to b@example.net \
		--subject "route $id" --text "message $id" \
		--message-id "$id@route.example" "$@"
}

# count_id DIR ID: how many stored messages carry that Message-ID.
count_id() {
	grep -l "^Message-ID: <$2@route.example>" "$1"/*.eml 2>/dev/null |
		wc -l
}

# start NAME DIR: starts a sink here (not in a subshell, so that its
# pid and port stay known), or ends the script.
start() {
	if start_sink "$2"; then
		ok "$1"
	else
		not_ok "$1"
		it_finish
	fi
}

start "sink a starts" "$work/a"
pid_a=$sink_pid
port_a=$sink_port
start "sink b starts" "$work/b"
port_b=$sink_port
stop_pid "$pid_a"
check "sink a is stopped: its port refuses" \
	sh -c "! (exec 3<>/dev/tcp/127.0.0.1/$port_a) 2>/dev/null"

a="smtp://127.0.0.1:$port_a#a"
b="smtp://127.0.0.1:$port_b#b"

check_status "failover: exits 0 with a down" 0 \
	send_one one "failover($a $b)" --verbose
check_grep "failover: a was tried first and refused" \
	'failover: try 1 on a after 0 ms: transient' "$last_output"
check_grep "failover: b delivered" \
	'failover: try 2 on b after 0 ms: delivered' "$last_output"
wait_for_file "$work/b/1.json"
check_grep "failover: exactly one copy on b" '^1$' \
	"$(count_id "$work/b" one)"

check_status "retry alone on the dead relay: exit 75 (try later)" 75 \
	send_one two "retry($a)?attempts=2&backoff=10ms"
check_grep "retry: the error says why" 'transient' "$last_output"
check_grep "retry: nothing arrived" '^0$' "$(count_id "$work/b" two)"

# A breaker file shared by short-lived processes: the first one learns
# that a is down, the next one skips it without connecting.
brk="$work/breaker"
url="failover($a $b)?breaker=1&breaker_cooldown=60s&breaker_file=$brk"
check_status "breaker: first process fails over" 0 send_one three "$url"
check_status "breaker: second process exits 0" 0 \
	send_one four "$url" --verbose
check_grep "breaker: second process skipped a" \
	'skipping a: its circuit breaker is open' "$last_output"
check_grep "breaker: the file names a" "^a 1 " "$(cat "$brk")"

# Round robin over two live sinks: four processes, four messages, each
# stored exactly once on one of them.
start "sink a restarts" "$work/a2"
a2="smtp://127.0.0.1:$sink_port#a"
for id in r1 r2 r3 r4; do
	check_status "roundrobin: $id exits 0" 0 \
		send_one "$id" "roundrobin($a2 $b)"
done
for id in r1 r2 r3 r4; do
	n=$(( $(count_id "$work/a2" "$id") + $(count_id "$work/b" "$id") ))
	check_grep "roundrobin: $id stored exactly once" '^1$' "$n"
done

# Nested composites parse and deliver through relaymail-send too.
check_status "nested: failover(retry(a) roundrobin(b a2)) exits 0" 0 \
	send_one n1 "failover(retry($a)?attempts=2&backoff=5ms \
		roundrobin($b $a2))"
n=$(( $(count_id "$work/a2" n1) + $(count_id "$work/b" n1) ))
check_grep "nested: stored exactly once" '^1$' "$n"

check_status "bad composite: exit 64 with the reason" 64 \
	send_one bad "failover($a"
check_grep "bad composite: says unbalanced" 'unbalanced' "$last_output"

it_finish
