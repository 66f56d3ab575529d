#!/bin/bash
# The issue's composite through relaymail-send:
#   failover(smtp://DOWN roundrobin(sendgrid://... mailgun://...))
# with the SMTP relay stopped and the two fake HTTP providers up. Every
# message reaches exactly one provider, once; with a provider answering
# 429 the roundrobin fails over to the other one at once; a provider
# that stalls after the request is an ambiguous outcome, reported with
# exit 75 and not resent to the other provider.
source "$(dirname "$0")/lib/common.sh"

it_init 60-route-http
unset RELAYMAIL_URL RELAYMAIL_PASSWORD RELAYMAIL_OAUTH_TOKEN
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY
send="$bin/relaymail-send"

# count PROVIDER ID: requests to the provider for the message ID that
# passed its checks.
count() {
	grep -l "$2@route.example" "$work/$1"/[0-9]*.json 2>/dev/null |
		xargs -r grep -l '"errors": \[\]' | wc -l
}

send_one() {
	local id=$1
	shift
	"$send" --url "$url" --from a@example.com --to b@example.net \
		--subject "route $id" --text "message $id" \
		--message-id "$id@route.example" "$@"
}

if start_sink "$work/smtp"; then
	ok "the SMTP relay starts"
else
	not_ok "the SMTP relay starts"
	it_finish
fi
stop_pid "$sink_pid"
smtp="smtp://127.0.0.1:$sink_port#smtp"
start_fake sendgrid SG.key || { not_ok "sendgrid fake"; it_finish; }
sg="sendgrid://SG.key@default?endpoint=http://127.0.0.1:$port&timeout=1#sg"
start_fake mailgun key-mg || { not_ok "mailgun fake"; it_finish; }
mg="mailgun://key-mg@mg.example.com?endpoint=http://127.0.0.1:$port#mg"
url="failover($smtp roundrobin($sg $mg))"

for id in m1 m2 m3 m4; do
	check_status "$id: relaymail-send exits 0 with the relay down" 0 \
		send_one "$id" --verbose
	check_grep "$id: the SMTP relay was tried first" \
		'failover: try 1 on smtp after 0 ms: transient' "$last_output"
done
total=0
for id in m1 m2 m3 m4; do
	n=$(( $(count sendgrid "$id") + $(count mailgun "$id") ))
	check_grep "$id: exactly one provider got it, once" '^1$' "$n"
	total=$((total + n))
done
check_grep "four messages, four requests" '^4$' "$total"

# A check goes down the route like a send: past the relay that is down
# to the first provider whose read-only request succeeds.
check_status "check: failover past the relay that is down exits 0" 0 \
	"$send" --check --url "failover($smtp $mg)"
check_grep "check: Mailgun describes itself" '^greeting: *Mailgun API at' \
	"$last_output"
check_status "check: with every member down it exits 75" 75 \
	"$send" --check --url "failover($smtp smtp://127.0.0.1:1)"

echo '{"status": 429, "headers": {"Retry-After": "30"}}' \
	>"$work/sendgrid/mode"
for id in t1 t2; do
	check_status "$id: SendGrid rate limited: exits 0" 0 send_one "$id"
	check_grep "$id: Mailgun took it" '^1$' "$(count mailgun "$id")"
done

echo '{"action": "stall", "seconds": 3}' >"$work/sendgrid/mode"
echo '{"status": 503}' >"$work/mailgun/mode"
check_status "stalled: an ambiguous outcome exits 75" 75 send_one s1 \
	--verbose
check_grep "stalled: reported as ambiguous" 'ambiguous' "$last_output"
check_grep "stalled: SendGrid got the request once, not resent" '^1$' \
	"$(count sendgrid s1)"

it_finish
