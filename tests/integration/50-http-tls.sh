#!/bin/bash
# HTTPS to a provider: the certificate is verified (against the CA file
# given by ca_file= or --ca-file, else the system's), so a server whose
# certificate no trusted CA signed is refused before any request goes
# out, permanently for that provider. --check over HTTPS names the TLS
# version the handshake chose, and refuses an unknown CA the same way.
source "$(dirname "$0")/lib/common.sh"
source "$itlib/certs.sh"

it_init 50-http-tls
unset RELAYMAIL_URL RELAYMAIL_PASSWORD RELAYMAIL_OAUTH_TOKEN
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY
send="$bin/relaymail-send"
certs="$work/certs"
msg=(--from a@example.com --to b@example.org --subject hi --text hi)

if ! make_certs "$certs"; then
	not_ok "the test certificates are made"
	it_finish
fi

# start_tls_fake NAME CERT KEY: a Postmark fake over HTTPS; sets port.
start_tls_fake() {
	start_fake postmark pm-token "$1" --tls-cert "$2" --tls-key "$3"
}

start_tls_fake good "$certs/server.pem" "$certs/server.key" ||
	not_ok "the HTTPS fake starts"
good="postmark://pm-token@default?endpoint=https://localhost:$port"
check_status "https: trusted through ca_file= exits 0" 0 \
	"$send" --url "$good&ca_file=$certs/ca.pem" "${msg[@]}"
check_status "https: trusted through --ca-file exits 0" 0 \
	"$send" --url "$good" --ca-file "$certs/ca.pem" "${msg[@]}"
check_status "https: an unknown CA is refused (69)" 69 \
	"$send" --url "$good" "${msg[@]}"
check_grep "https: the error says why" 'certificate|SSL|issuer' \
	"$last_output"
check_grep "https: nothing reached the provider" '^2$' \
	"$(find "$work/good" -name '[0-9]*.json' | wc -l)"
check_status "https --check: trusted through ca_file= exits 0" 0 \
	"$send" --check --url "$good&ca_file=$certs/ca.pem"
check_grep "https --check: names the TLS version" '^tls: +TLSv1\.[23]' \
	"$last_output"
check_status "https --check: an unknown CA is refused (69)" 69 \
	"$send" --check --url "$good"

start_tls_fake rogue "$certs/other.pem" "$certs/other.key" ||
	not_ok "the rogue HTTPS fake starts"
rogue="postmark://pm-token@default?endpoint=https://localhost:$port"
check_status "https: a certificate from another CA is refused (69)" 69 \
	"$send" --url "$rogue&ca_file=$certs/ca.pem" "${msg[@]}"

it_finish
