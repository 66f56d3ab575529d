#!/bin/bash
# relaymail-send against nodemailer's smtp-server, an independent SMTP
# implementation: STARTTLS, each AUTH mechanism (PLAIN, LOGIN, CRAM-MD5,
# XOAUTH2), SMTPUTF8, and the SIZE limit. Every received message is
# read back by mailparser and Python's email package and compared field
# by field with what was sent.
source "$(dirname "$0")/lib/common.sh"
source "$itlib/certs.sh"
source "$itlib/fixture.sh"

it_init 40-smtp-server

user=alice@example.com
password='correct horse battery'
token=ya29.test-token
size_limit=200000

check "a test CA and server certificate are made" \
	make_certs "$work/certs" || it_finish

start_server() {
	node "$itlib/smtp_server.js" --dir "$work/out" \
		--port-file "$work/port" --size "$size_limit" \
		--key "$work/certs/server.key" \
		--cert "$work/certs/server.pem" >"$work/server.log" 2>&1 \
		</dev/null &
	server_pid=$!
	at_exit stop_pid "$server_pid"
	wait_for_file "$work/port" && port=$(cat "$work/port")
}

if start_server; then
	ok "smtp-server starts"
else
	not_ok "smtp-server starts"
	sed 's/^/#   /' "$work/server.log"
	it_finish
fi

fixture_make "$work/fx"
unset RELAYMAIL_URL RELAYMAIL_PASSWORD RELAYMAIL_OAUTH_TOKEN
base="smtp://${user/@/%40}@localhost:$port?tls=required"
ca=(--ca-file "$work/certs/ca.pem")

# The stored message of a case (found by its X-Test-Case header).
received() {
	find_case "$work/out" "$1"
}

# json_field FILE EXPR: prints a field of an envelope file.
json_field() {
	"$py" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2], {}, {"d": d}))' "$1" "$2"
}

# auth_case MECH [ENV=VALUE...]: sends the fixture with one mechanism.
auth_case() {
	local mech=$1 eml meta
	shift
	check_status "$mech: relaymail-send exits 0" 0 \
		env "$@" "$bin/relaymail-send" --url "$base&auth=$mech" \
		"${ca[@]}" "${fixture_args[@]}" --header "X-Test-Case: $mech" ||
		return
	if ! eml=$(received "$mech"); then
		not_ok "$mech: smtp-server received the message"
		return
	fi
	ok "$mech: smtp-server received the message"
	meta=${eml%.eml}.json
	check_grep "$mech: the session was authenticated over TLS" \
		"^$user True$" "$(json_field "$meta" 'd["user"], d["tls"]' |
		tr -d "(),'")"
	check_grep "$mech: the envelope has all four recipients" '^4$' \
		"$(json_field "$meta" 'len(d["rcpt_to"])')"
	check_parsed "$mech" "$eml" "$work/fx/expected.json"
}

auth_case PLAIN RELAYMAIL_PASSWORD="$password"
auth_case LOGIN RELAYMAIL_PASSWORD="$password"
auth_case CRAM-MD5 RELAYMAIL_PASSWORD="$password"
auth_case XOAUTH2 RELAYMAIL_OAUTH_TOKEN="$token"

# Refused credentials are permanent failures (exit 69) for each kind.
check_status "bad password (PLAIN) exits 69" 69 \
	env RELAYMAIL_PASSWORD=nope "$bin/relaymail-send" \
	--url "$base&auth=PLAIN" "${ca[@]}" "${fixture_args[@]}"
check_grep "bad password: the error names authentication" \
	'[Aa]uthenticat' "$last_output"
check_status "bad password (CRAM-MD5) exits 69" 69 \
	env RELAYMAIL_PASSWORD=nope "$bin/relaymail-send" \
	--url "$base&auth=CRAM-MD5" "${ca[@]}" "${fixture_args[@]}"
check_status "bad XOAUTH2 token exits 69" 69 \
	env RELAYMAIL_OAUTH_TOKEN=expired "$bin/relaymail-send" \
	--url "$base&auth=XOAUTH2" "${ca[@]}" "${fixture_args[@]}"

# A UTF-8 mailbox needs SMTPUTF8, which smtp-server offers (RFC 6531).
utf8_case() {
	local eml meta
	check_status "smtputf8: a UTF-8 recipient is accepted" 0 \
		env RELAYMAIL_PASSWORD="$password" "$bin/relaymail-send" \
		--url "$base" "${ca[@]}" --from "Sender <$user>" \
		--to "Jörg <jörg@example.com>" --subject "Grüße, Jörg" \
		--text "Hallo Jörg" --header "X-Test-Case: utf8" || return
	eml=$(received utf8) || { not_ok "smtputf8: received"; return; }
	meta=${eml%.eml}.json
	check_grep "smtputf8: MAIL FROM carried SMTPUTF8" '^True$' \
		"$(json_field "$meta" 'd["smtputf8"]')"
	check_grep "smtputf8: RCPT TO was jörg@example.com" \
		'^jörg@example\.com$' "$(json_field "$meta" 'd["rcpt_to"][0]')"
	printf '%s\n' '{"to": [{"name": "Jörg", "address": "jörg@example.com"}],' \
		'"subject": "Grüße, Jörg", "text": "Hallo Jörg"}' \
		>"$work/utf8.json"
	check_parsed smtputf8 "$eml" "$work/utf8.json"
}
utf8_case

# The null reverse path of bounces (RFC 5321 4.5.5): MAIL FROM:<> with
# the SIZE parameter after it, taken by an independent server.
null_path_case() {
	local eml meta
	check_status "null path: --envelope-from '<>' is sent (0)" 0 \
		env RELAYMAIL_PASSWORD="$password" "$bin/relaymail-send" \
		--url "$base" "${ca[@]}" --verbose --from "$user" \
		--to bob@example.com --subject bounce --text bounce \
		--envelope-from '<>' --header "X-Test-Case: nullpath" || return
	check_grep "null path: MAIL FROM:<> went out with SIZE" \
		'C: MAIL FROM:<> SIZE=[0-9]' "$last_output"
	eml=$(received nullpath) || { not_ok "null path: received"; return; }
	meta=${eml%.eml}.json
	check_grep "null path: the envelope's mail_from is empty" '^True$' \
		"$(json_field "$meta" 'd["mail_from"] == ""')"
	check_grep "null path: the From header is unchanged" \
		"^From: $user" "$(cat "$eml")"
}
null_path_case

# Per-recipient replies: the message goes to the accepted ones, and the
# refused ones are listed; with none accepted nothing is sent.
rcpt_case() {
	check_status "recipients: one of three refused still sends (0)" 0 \
		env RELAYMAIL_PASSWORD="$password" "$bin/relaymail-send" \
		--url "$base" "${ca[@]}" --from "$user" --to bob@example.com \
		--to nobody@example.com --cc busy@example.com --subject rcpt \
		--text rcpt --header "X-Test-Case: rcpt"
	check_grep "recipients: the 550 refusal is listed" \
		'nobody@example\.com> refused.*550' "$last_output"
	check_grep "recipients: the 450 refusal is listed" \
		'busy@example\.com> refused.*450' "$last_output"
	check_grep "recipients: only the accepted one got it" \
		'^\["bob@example\.com"\]$' \
		"$(json_field "$(received rcpt | sed 's/eml$/json/')" \
		'__import__("json").dumps(d["rcpt_to"])')"
	check_status "recipients: all refused for good exits 69" 69 \
		env RELAYMAIL_PASSWORD="$password" "$bin/relaymail-send" \
		--url "$base" "${ca[@]}" --from "$user" \
		--to nobody@example.com --text rcpt
	check_status "recipients: all refused for now exits 75" 75 \
		env RELAYMAIL_PASSWORD="$password" "$bin/relaymail-send" \
		--url "$base" "${ca[@]}" --from "$user" \
		--to busy@example.com --text rcpt
}
rcpt_case

# A message over the SIZE limit is refused before it is sent.
oversize_case() {
	local before after
	head -c $((size_limit + 50000)) /dev/zero >"$work/big.bin"
	before=$(find "$work/out" -name '*.eml' | wc -l)
	check_status "size: a message over SIZE exits 69" 69 \
		env RELAYMAIL_PASSWORD="$password" "$bin/relaymail-send" \
		--url "$base" "${ca[@]}" --verbose --from "$user" \
		--to bob@example.com --subject big --text big \
		--attach "$work/big.bin"
	check_grep "size: the error says the message is too big" \
		'(too big|size)' "$last_output"
	if printf '%s\n' "$last_output" | grep -Eq 'C: (MAIL FROM|DATA)'; then
		not_ok "size: neither MAIL nor DATA was sent"
	else
		ok "size: neither MAIL nor DATA was sent"
	fi
	after=$(find "$work/out" -name '*.eml' | wc -l)
	check_grep "size: the server stored nothing" "^$before\$" "$after"
}
oversize_case

it_finish
