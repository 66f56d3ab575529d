#!/bin/bash
# gmail+oauth:// through relaymail-send against two loopback fakes: the
# OAuth2 token endpoint (tests/fakes/token_endpoint.py) and nodemailer's
# smtp-server with STARTTLS, accepting XOAUTH2 only with a token the
# endpoint issued (lib/smtp_server.js --oauth). Checked: the token is
# fetched and used, a refused token gets the error challenge answered
# and exactly one refresh, a token that is always refused is not
# refreshed in a loop, a dead refresh token is reported, no log line
# shows a token or secret; and sendgrid+smtp:// logs in as "apikey".
source "$(dirname "$0")/lib/common.sh"
source "$itlib/certs.sh"

it_init 45-gmail-oauth
unset RELAYMAIL_URL RELAYMAIL_PASSWORD RELAYMAIL_OAUTH_TOKEN
send="$bin/relaymail-send"
client_id=client-1.apps.example
client_secret=GOCSPX-it-s3cr3t
refresh=1//it-refresh-r3fr3sh

check "a test CA and server certificate are made" \
	make_certs "$work/certs" || it_finish

"$py" "$top/tests/fakes/token_endpoint.py" --dir "$work/tok" \
	--client-id "$client_id" --client-secret "$client_secret" \
	--refresh-token "$refresh" 2>"$work/tok.log" &
at_exit stop_pid "$!"
mkdir -p "$work/tok"
touch "$work/tok/valid"
node "$itlib/smtp_server.js" --dir "$work/out" \
	--port-file "$work/port" --key "$work/certs/server.key" \
	--cert "$work/certs/server.pem" --oauth "$work/tok/valid" \
	--login "apikey:SG.it-key" >"$work/server.log" 2>&1 </dev/null &
at_exit stop_pid "$!"
if wait_for_file "$work/tok/port" && wait_for_file "$work/port"; then
	ok "the token endpoint and smtp-server start"
else
	not_ok "the token endpoint and smtp-server start"
	sed 's/^/#   /' "$work/tok.log" "$work/server.log"
	it_finish
fi
tport=$(cat "$work/tok/port")
port=$(cat "$work/port")

export RM_IT_CLIENT_SECRET=$client_secret
printf '%s\n' "$refresh" >"$work/refresh"
url="gmail+oauth://me%40gmail.com@default?endpoint=smtp://localhost:$port"
url+="&tls=required&client_id=$client_id"
url+="&client_secret_env=RM_IT_CLIENT_SECRET"
url+="&refresh_token_file=$work/refresh"
url+="&token_endpoint=http://127.0.0.1:$tport/token"
msg=(--ca-file "$work/certs/ca.pem" --from me@gmail.com
	--to friend@example.org --subject "OAuth test" --text hello --verbose)

count() { cat "$work/tok/count" 2>/dev/null || echo 0; }
mode() { printf '%s\n' "$1" >"$work/tok/mode"; }
auths() { grep -c "^XOAUTH2 " "$work/out/auth.log" 2>/dev/null || echo 0; }
logs=()

# 1. A fresh token is fetched and accepted.
mode ok
check_status "ok: relaymail-send exits 0" 0 "$send" --url "$url" "${msg[@]}"
logs+=("$last_output")
check_grep "ok: one token request" '^1$' "$(count)"
check_grep "ok: the message came in as me@gmail.com over TLS" \
	'"user":"me@gmail.com","tls":true' "$(cat "$work/out/1.json" 2>&1)"

# 2. The first token is refused: challenge answered, one refresh.
mode stale-first
before=$(count) auth_before=$(auths)
check_status "refused once: relaymail-send exits 0" 0 \
	"$send" --url "$url" "${msg[@]}"
out=$last_output
logs+=("$out")
check_grep "refused once: exactly one refresh" "^$((before + 2))$" \
	"$(count)"
check_grep "refused once: two XOAUTH2 attempts" "^$((auth_before + 2))$" \
	"$(auths)"
check_grep "refused once: the error challenge is answered with an \
empty line, then 535" 'S: 334 .*
.*C: $
.*S: 535' "$(printf '%s\n' "$out" | grep -E 'S: 334|C: $|S: 535' |
	head -3 | tr -d '\r')"
check_grep "refused once: the message went on the second session" \
	'"user":"me@gmail.com"' "$(cat "$work/out/2.json" 2>&1)"

# 3. Every token is refused: one refresh, one retry, no loop.
mode stale-always
before=$(count) auth_before=$(auths)
check_status "always refused: exits 69 (unavailable)" 69 \
	"$send" --url "$url" "${msg[@]}"
out=$last_output
logs+=("$out")
check_grep "always refused: exactly one refresh" "^$((before + 2))$" \
	"$(count)"
check_grep "always refused: exactly two XOAUTH2 attempts" \
	"^$((auth_before + 2))$" "$(auths)"
check_grep "always refused: the JSON reason and what to do are shown" \
	'"status":"401".*Gmail refused the OAuth2 token' "$out"

# 4. A dead refresh token.
mode invalid_grant
auth_before=$(auths)
check_status "invalid_grant: exits 69" 69 "$send" --url "$url" "${msg[@]}"
out=$last_output
logs+=("$out")
check_grep "invalid_grant: reported with what to do" \
	'invalid_grant.*authorise the app again' "$out"
check_grep "invalid_grant: no AUTH was tried" "^$auth_before$" "$(auths)"

# 5. No log line shows a token or a secret.
all=$(printf '%s\n' "${logs[@]}")
if printf '%s\n' "$all" | grep -Eq "ya29\.|$client_secret|$refresh"; then
	not_ok "no log line shows a token or secret"
	printf '%s\n' "$all" | grep -E "ya29\.|$client_secret|$refresh" |
		sed 's/^/#   /' | head -5
else
	ok "no log line shows a token or secret"
fi
check_grep "the transcript shows the AUTH line redacted" \
	'C: AUTH XOAUTH2 <redacted>' "$all"

# 6. A preset through the same independent server.
sg="sendgrid+smtp://SG.it-key@default?tls=required"
sg+="&endpoint=smtp://localhost:$port"
check_status "sendgrid+smtp: the key logs in as apikey" 0 "$send" \
	--url "$sg" --ca-file "$work/certs/ca.pem" --from me@example.com \
	--to friend@example.org --subject preset --text hi
check_grep "sendgrid+smtp: the session user is apikey" '"user":"apikey"' \
	"$(cat "$work/out/3.json" 2>&1)"

it_finish
