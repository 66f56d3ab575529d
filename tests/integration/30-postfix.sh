#!/bin/bash
# relaymail-send through a real Postfix: plain SMTP, submission with
# STARTTLS and AUTH (Dovecot SASL), and implicit TLS. Each delivered
# message is read back by Python's email package and mailparser and
# compared field by field with what was sent.
#
# The test runs its own Postfix and Dovecot (configuration, queue,
# sockets and logs under its work folder, ports from 2525 up on
# 127.0.0.1) and stops them when it ends. It needs root.
source "$(dirname "$0")/lib/common.sh"
source "$itlib/certs.sh"
source "$itlib/postfix.sh"
source "$itlib/fixture.sh"

it_init 30-postfix

if [ "$(id -u)" -ne 0 ]; then
	not_ok "runs as root (Postfix and Dovecot need it)"
	it_finish
fi

# Unix socket paths are limited to 107 bytes; keep the servers' folder
# short even when the checkout lives deep in the file system.
srv_dir="$work/srv"
if [ "${#srv_dir}" -gt 60 ]; then
	srv_dir=$(mktemp -d /tmp/relaymail-pf.XXXXXX)
	at_exit rm -rf "$srv_dir"
fi

check "a test CA and server certificate are made" \
	make_certs "$work/certs" || it_finish
pf_ports
pf_setup "$srv_dir" "$work/certs" "$work/mail"
if pf_start >"$work/start.log" 2>&1 </dev/null; then
	ok "Postfix and Dovecot start"
else
	not_ok "Postfix and Dovecot start"
	tail -n 30 "$work/start.log" "$srv_dir"/log/*.log | sed 's/^/#   /'
	it_finish
fi

fixture_make "$work/fx"
user_enc=${pf_user/@/%40}
unset RELAYMAIL_URL RELAYMAIL_PASSWORD RELAYMAIL_OAUTH_TOKEN

# relaymail-send with the password in its environment, never in argv.
send_pw() {
	RELAYMAIL_PASSWORD=${password-$pf_password} "$bin/relaymail-send" "$@"
}

# The message Postfix delivered for a case, found by its X-Test-Case.
delivered() {
	find_case "$work/mail" "$1"
}

# send_case NAME URL [OPTIONS...]: sends the fixture; checks the exit
# status, the delivery, both parsers and the envelope.
send_case() {
	local name=$1 url=$2 eml
	shift 2
	local send=send_pw
	[[ $url == *@* ]] || send="$bin/relaymail-send"
	check_status "$name: relaymail-send exits 0" 0 \
		$send --url "$url" "${fixture_args[@]}" \
		--header "X-Test-Case: $name" "$@" || return
	if ! eml=$(delivered "$name"); then
		not_ok "$name: Postfix delivered the message"
		tail -n 20 "$srv_dir/log/postfix.log" | sed 's/^/#   /'
		return
	fi
	ok "$name: Postfix delivered the message"
	check_parsed "$name" "$eml" "$work/fx/expected.json"
	check_envelope "$name" "${eml%.eml}.env"
}

# The envelope has every recipient, Bcc included, and the From sender.
check_envelope() {
	local want got
	want=$(printf '%s\n' sender@example.com ada@example.org \
		hidden@example.com joerg@example.com plain@example.net | sort)
	got=$(sort "$2")
	if [ "$got" = "$want" ]; then
		ok "$1: envelope has the sender and all four recipients"
	else
		not_ok "$1: envelope has the sender and all four recipients"
		printf '%s\n' "$got" | sed 's/^/#   got: /'
	fi
}

plain_url="smtp://127.0.0.1:$pf_plain?tls=none"
sub_url="smtp://$user_enc@localhost:$pf_submission?tls=required"
smtps_url="smtps://$user_enc@localhost:$pf_smtps"

send_case plain "$plain_url"
send_case submission "$sub_url" --ca-file "$work/certs/ca.pem"
send_case smtps "$smtps_url" --ca-file "$work/certs/ca.pem"
send_case submission-login "$sub_url&auth=LOGIN" \
	--ca-file "$work/certs/ca.pem"

# Preflight: TLS and AUTH are negotiated and described.
check_status "check: --check over submission exits 0" 0 \
	send_pw --check --url "$sub_url" \
	--ca-file "$work/certs/ca.pem"
check_grep "check: reports TLS 1.2 or newer" 'tls: +TLSv1\.[23]' \
	"$last_output"
check_grep "check: reports the AUTH mechanism" 'auth: +(PLAIN|LOGIN)' \
	"$last_output"
check_grep "check: reports the SIZE limit" 'max size: +10240000' \
	"$last_output"

# The transcript is logged, but never the password or AUTH payload.
check_status "verbose: send with --verbose exits 0" 0 \
	send_pw --url "$sub_url" --verbose \
	--ca-file "$work/certs/ca.pem" "${fixture_args[@]}"
check_grep "verbose: the transcript shows AUTH" '(AUTH|auth)' \
	"$last_output"
secret_b64=$(printf '\0%s\0%s' "$pf_user" "$pf_password" | base64 -w0)
pass_b64=$(printf '%s' "$pf_password" | base64 -w0)
if printf '%s' "$last_output" |
	grep -qF -e "$pf_password" -e "$secret_b64" -e "$pass_b64"; then
	not_ok "verbose: the password never reaches the log"
else
	ok "verbose: the password never reaches the log"
fi

# A wrong password is a permanent failure, and says it is AUTH.
password=wrong check_status "bad password: relaymail-send exits 69" 69 \
	send_pw --url "$sub_url" \
	--ca-file "$work/certs/ca.pem" "${fixture_args[@]}"
check_grep "bad password: the error names authentication" \
	'[Aa]uthentication' "$last_output"
check_grep "bad password: the error shows the server reply 535" \
	'535' "$last_output"

# Without the test CA the server certificate cannot be trusted.
check_status "untrusted: a certificate from an unknown CA fails (69)" 69 \
	send_pw --url "$smtps_url" "${fixture_args[@]}"
check_grep "untrusted: the error says the certificate failed" \
	'[Cc]ertificate' "$last_output"

# A UTF-8 mailbox goes through Postfix with SMTPUTF8 (RFC 6531).
check_status "smtputf8: a UTF-8 recipient is accepted" 0 \
	"$bin/relaymail-send" --url "$plain_url" \
	--from sender@example.com --to "jörg@example.com" \
	--subject "SMTPUTF8" --text "hej" --header "X-Test-Case: utf8"
if eml=$(delivered utf8) && grep -qx 'jörg@example.com' "${eml%.eml}.env"
then
	ok "smtputf8: Postfix delivered it to jörg@example.com"
else
	not_ok "smtputf8: Postfix delivered it to jörg@example.com"
fi

it_finish
