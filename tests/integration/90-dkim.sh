#!/bin/bash
# DKIM: messages signed by relaymail are verified by two independent
# verifiers, dkimpy (Debian's python3-dkim) and mailauth (npm), with
# their DNS lookups answered locally from the records relaymail-send
# --dkim-dns-record prints. Covered: every canonicalization pair, RSA
# keys of 1024, 2048 and 4096 bits, Ed25519 beside RSA, file-streamed
# attachments, non-ASCII and long folded headers, an empty body,
# trailing blank lines, List-Unsubscribe, a trip through relaymail-sink
# over SMTP (dot-stuffing) and one through Postfix (as root). A changed
# header or body fails both verifiers. Keys are made here with openssl.
source "$(dirname "$0")/lib/common.sh"
source "$itlib/fixture.sh"

it_init 90-dkim
unset RELAYMAIL_URL RELAYMAIL_PASSWORD RELAYMAIL_OAUTH_TOKEN
keys="$work/keys"
mkdir -p "$keys"
domain=example.com

# ---------------------------------------------------------------------
# Keys and their DNS records

make_key() {
	local name=$1 bits=$2
	if [ "$bits" = ed25519 ]; then
		openssl genpkey -algorithm ed25519 -out "$keys/$name.pem"
	else
		openssl genrsa -out "$keys/$name.pem" "$bits"
	fi
}

for k in rsa1024:1024 rsa2048:2048 rsa4096:4096 ed:ed25519; do
	name=${k%%:*}
	check "key: openssl makes $name" make_key "$name" "${k#*:}" || it_finish
	check "key: relaymail-send prints the DNS record of $name" \
		sh -c '"$1" --dkim-dns-record --dkim-key "$2" \
		--dkim-selector "$3" --dkim-domain "$4" >"$5"' _ \
		"$bin/relaymail-send" "$keys/$name.pem" "$name" "$domain" \
		"$keys/$name.rec" || it_finish
done
check_grep "record: zone-file form with the key type" \
	'^rsa2048\._domainkey\.example\.com\. IN TXT "v=DKIM1; k=rsa; p=MII' \
	"$(cat "$keys/rsa2048.rec")"
check_grep "record: strings of at most 255 octets" '^[^"]*("[^"]{1,255}" ?)+$' \
	"$(cat "$keys/rsa4096.rec")"
records=("$keys"/*.rec)

# ---------------------------------------------------------------------
# Verifiers

# verify NAME FILE [--expect-fail]: both verifiers, every signature.
verify() {
	local name=$1 eml=$2
	shift 2
	local what=verifies
	[ "${1:-}" = --expect-fail ] && what=rejects
	check "$name: dkimpy $what" \
		"$py" "$itlib/dkim_verify.py" "$eml" "${records[@]}" "$@"
	check "$name: mailauth $what" \
		node "$itlib/dkim_verify.js" "$eml" "${records[@]}" "$@"
}

# signed NAME URL-OPTIONS [relaymail-send options]: sends through the
# file transport into its own folder, sets $eml to the message.
signed() {
	local name=$1 opts=$2 dir="$work/out/$1"
	shift 2
	mkdir -p "$dir"
	eml=
	check_status "$name: relaymail-send signs and stores it" 0 \
		"$bin/relaymail-send" --url "file://$dir?$opts" \
		--from "Ann Example <ann@$domain>" --to bob@example.org "$@" ||
		return 1
	eml=$(ls "$dir"/*.eml)
}

key_opts() {
	echo "dkim_key=$keys/$1.pem&dkim_selector=$1&dkim_domain=$domain$2"
}

text=$'Hello Bob,  \n\twith  tabs\tand trailing spaces   \n\n.dot line\n\n\n'

# ---------------------------------------------------------------------
# Canonicalization pairs and key sizes

for c in simple/simple simple/relaxed relaxed/simple relaxed/relaxed; do
	signed "canon $c" "$(key_opts rsa2048 "&dkim_canon=$c")" \
		--subject "Canon  $c   spaced" --text "$text" \
		--html "<p>Hi   Bob</p>  " && verify "canon $c" "$eml"
	check_grep "canon $c: c= says so" "c=$c;" "$(head -c 300 "$eml")"
done

for k in rsa1024 rsa4096; do
	signed "size $k" "$(key_opts $k)" --subject "Key $k" --text "$text" &&
		verify "size $k" "$eml"
done

signed "ed25519 and rsa" "$(key_opts ed)" --subject "Two signatures" \
	--text "$text" --dkim-key "$keys/rsa2048.pem" \
	--dkim-selector rsa2048 --dkim-domain "$domain" &&
	verify "ed25519 and rsa" "$eml"
check_grep "ed25519 and rsa: both algorithms signed" \
	'a=ed25519-sha256.*a=rsa-sha256|a=rsa-sha256.*a=ed25519-sha256' \
	"$(tr -d '\r\n' <"$eml")"

signed "expiry" "$(key_opts rsa2048 "&dkim_expire=3600")" \
	--subject "Expires" --text "$text" && verify "expiry" "$eml"

# ---------------------------------------------------------------------
# Message shapes

fixture_make "$work/fx"
head -c 300000 /dev/urandom >"$work/fx/files/random.bin"
signed "attachments" "$(key_opts rsa2048 "&dkim_canon=simple/simple")" \
	"${fixture_args[@]:2}" --attach "$work/fx/files/random.bin" &&
	verify "attachments" "$eml"

long_subject=$(printf 'word%d ' $(seq 1 60))
rcpts=$(printf 'Rëcipient %d <r%d@example.org>, ' $(seq 1 12 | sed 'p'))
signed "folded headers" "$(key_opts rsa2048 "&dkim_canon=simple/relaxed")" \
	--subject "Grüße ✉ $long_subject" --cc "${rcpts%, }" \
	--header "X-Long: $long_subject" --header "X-Umlaut: Jörg über Öl" \
	--text "$text" && verify "folded headers" "$eml"
check_grep "folded headers: the fields are folded" $'^\t|^ ' \
	"$(sed -n '/^Subject:/,/^[A-Z]/p' "$eml")"

# UTF-8 addresses written raw (RFC 6532), as the file transport does.
mkdir -p "$work/out/utf8"
check_status "utf-8 addresses: relaymail-send signs and stores it" 0 \
	"$bin/relaymail-send" \
	--url "file://$work/out/utf8?$(key_opts rsa2048 "&dkim_canon=simple")" \
	--from "Jörg <jörg@$domain>" --to "Ünï Näme <ü@bücher.example>" \
	--subject "Grüße" --text "$text"
eml=$(ls "$work/out/utf8"/*.eml)
check_grep "utf-8 addresses: the From is raw UTF-8" '^From: .*<jörg@' \
	"$(cat "$eml")"
verify "utf-8 addresses" "$eml"

signed "empty body" "$(key_opts rsa2048 "&dkim_canon=simple/simple")" \
	--subject "Empty" --text "" && verify "empty body" "$eml"
signed "empty body relaxed" "$(key_opts rsa2048)" \
	--subject "Empty" --text "" && verify "empty body relaxed" "$eml"

signed "blank lines" "$(key_opts rsa2048 "&dkim_canon=simple/simple")" \
	--subject "Blank" --text $'last line\n\n\n\n\n' &&
	verify "blank lines" "$eml"

unsub="<mailto:u@example.com>, <https://example.com/u>"
signed "list-unsubscribe" "$(key_opts rsa2048)" --subject "News" \
	--text "news" --header "List-Unsubscribe: $unsub" \
	--header "List-Unsubscribe-Post: List-Unsubscribe=One-Click" &&
	verify "list-unsubscribe" "$eml"
check_grep "list-unsubscribe: both fields are signed" \
	'list-unsubscribe:\s*list-unsubscribe-post' \
	"$(tr -d '\r\n\t' <"$eml" | head -c 600)"

# ---------------------------------------------------------------------
# Tampering

tamper() {
	local name=$1 expr=$2 out="$work/tampered-$1.eml"
	"$py" -c 'import re, sys
data = open(sys.argv[1], "rb").read()
new = re.sub(sys.argv[2].encode(), sys.argv[3].encode(), data, count=1)
assert new != data
open(sys.argv[4], "wb").write(new)' "$base" "$expr" "$3" "$out"
	verify "tampered $name" "$out" --expect-fail
}

signed "tamper base" "$(key_opts rsa2048)" --subject "Original" \
	--text "Pay 10 EUR" --dkim-key "$keys/ed.pem" \
	--dkim-selector ed --dkim-domain "$domain" &&
	verify "tamper base" "$eml"
base=$eml
tamper subject 'Subject: Original' 'Subject: 0riginal'
tamper body 'Pay 10 EUR' 'Pay 99 EUR'
tamper from 'From: Ann Example' 'From: Ann Exampel'

# ---------------------------------------------------------------------
# HTTP providers that take raw MIME, against the loopback fake provider

# http_case PROVIDER KEY URL-USER HOST: sends a signed message to the
# fake, which keeps the MIME it got as N.eml; both verifiers read it.
http_case() {
	local p=$1 dir="$work/http-$1" port opts
	if ! start_fake "$p" "$2" "http-$p"; then
		not_ok "$p: the fake provider starts"
		return
	fi
	opts=$(key_opts rsa2048)
	check_status "$p: relaymail-send signs and posts the MIME" 0 \
		env -u http_proxy -u HTTP_PROXY "$bin/relaymail-send" \
		--url "$p://$3@$4?endpoint=http://127.0.0.1:$port&$opts" \
		--from "ann@$domain" --to bob@example.org --subject "Via $p" \
		--text "$text" --attach "$work/fx/files/report.bin" &&
		verify "$p" "$dir/1.eml"
}

http_case mailgun key-123 key-123 mg.example.com
http_case ses 'AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' \
	'AKIDEXAMPLE:wJalrXUtnFEMI%2FK7MDENG%2BbPxRfiCYEXAMPLEKEY' eu-west-1
http_case smtp2go api-123 api-123 default
check_status "sendgrid: DKIM options are refused (the provider signs)" 69 \
	"$bin/relaymail-send" \
	--url "sendgrid://SG.key@default?$(key_opts rsa2048)" \
	--from "ann@$domain" --to bob@example.org --text x
check_grep "sendgrid: the error says why" "the provider builds and signs" \
	"$(tr -d "\n" <<<"$last_output")"

# ---------------------------------------------------------------------
# Over SMTP: relaymail-sink (dot-stuffed on the wire)

if start_sink "$work/sink"; then
	ok "sink: relaymail-sink starts"
	check_status "sink: relaymail-send signs and sends over SMTP" 0 \
		"$bin/relaymail-send" \
		--url "smtp://127.0.0.1:$sink_port?$(key_opts rsa2048)" \
		--from "ann@$domain" --to bob@example.org --subject "Via sink" \
		--text $'.leading dot\n..two dots\n.\nend\n' \
		--attach "$work/fx/files/report.bin"
	if wait_for_file "$work/sink/1.json"; then
		verify "sink" "$work/sink/1.eml"
	else
		not_ok "sink: the message was stored"
	fi
else
	not_ok "sink: relaymail-sink starts"
fi

# ---------------------------------------------------------------------
# Through Postfix (root only: it runs a private instance)

if [ "$(id -u)" -eq 0 ] && command -v postfix >/dev/null; then
	source "$itlib/certs.sh"
	source "$itlib/postfix.sh"
	# A short path for the Unix sockets, open to Postfix's own users.
	srv_dir=$(mktemp -d /tmp/relaymail-dkim.XXXXXX)
	chmod 755 "$srv_dir"
	at_exit rm -rf "$srv_dir"
	make_certs "$work/certs" >/dev/null 2>&1
	pf_ports
	pf_setup "$srv_dir" "$work/certs" "$work/mail"
	if pf_start >"$work/pf-start.log" 2>&1 </dev/null; then
		ok "postfix: starts"
		pf_opts=$(key_opts rsa2048)
		check_status "postfix: relaymail-send signs and sends" 0 \
			"$bin/relaymail-send" \
			--url "smtp://127.0.0.1:$pf_plain?tls=none&$pf_opts" \
			"${fixture_args[@]}" --header "X-Test-Case: dkim" \
			--dkim-key "$keys/ed.pem" --dkim-selector ed \
			--dkim-domain "$domain"
		if pf_eml=$(find_case "$work/mail" dkim); then
			check_grep "postfix: Postfix added its Received field" \
				'^Received: ' "$(cat "$pf_eml")"
			verify "postfix" "$pf_eml"
		else
			not_ok "postfix: delivered the message"
			tail -n 20 "$srv_dir/log/postfix.log" | sed 's/^/#   /'
		fi
	else
		not_ok "postfix: starts"
		tail -n 20 "$work/pf-start.log" | sed 's/^/#   /'
	fi
fi

it_finish
