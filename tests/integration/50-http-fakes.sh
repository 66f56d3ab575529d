#!/bin/bash
# relaymail-send with every HTTP backend URL against the loopback fake
# provider (tests/fakes/fake_provider.py), which checks each request
# strictly: the standard test message must come back field by field
# (through both MIME parsers for the raw-MIME providers, from the JSON
# fields for SendGrid and Postmark), the envelope must hold the Bcc
# recipient, and failures must end in the documented exit statuses.
# relaymail-send --check makes each provider's read-only request, which
# the fake checks as strictly, and exits 0, 69 or 75 as a send would.
source "$(dirname "$0")/lib/common.sh"
source "$itlib/fixture.sh"

it_init 50-http-fakes
unset RELAYMAIL_URL RELAYMAIL_PASSWORD RELAYMAIL_OAUTH_TOKEN
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY
send="$bin/relaymail-send"
fakes="$top/tests/fakes"

# The fixture's options without its Bcc (for SMTP2GO, which refuses it).
without_bcc() {
	local skip=0 a
	no_bcc_args=()
	for a in "${fixture_args[@]}"; do
		if [ "$skip" = 1 ]; then skip=0; continue; fi
		if [ "$a" = --bcc ]; then skip=1; continue; fi
		no_bcc_args+=("$a")
	done
}

# A JSON field of the fake's record N of PROVIDER.
record_field() {
	"$py" -c 'import json,sys
r = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    r = r[int(k)] if isinstance(r, list) else r[k]
print(json.dumps(r))' "$work/$1/$2.json" "$3"
}

fixture_make "$work/fx"
fx_args=("${fixture_args[@]}")
without_bcc
fixture_make "$work/fx2" joerg@example.com plain@example.net
fx2_args=("${fixture_args[@]}")

# Raw MIME: the bytes the provider got parse back as the fixture.
raw_case() {
	local provider=$1 key=$2 user=$3 host=$4
	shift 4
	start_fake "$provider" "$key" || { not_ok "$provider: fake"; return; }
	local url="$provider://$user@$host?endpoint=http://127.0.0.1:$port"
	check_status "$provider: relaymail-send exits 0" 0 "$send" \
		--url "$url" "$@"
	check_grep "$provider: the provider's id is the queue id" \
		"queue id .*fake-" "$last_output"
	check_grep "$provider: the fake found nothing wrong" '^\[\]$' \
		"$(record_field "$provider" 1 errors)"
	check_parsed "$provider" "$work/$provider/1.eml" \
		"$work/fx/expected.json"
}

raw_case mailgun key-123 key-123 mg.example.com "${fx_args[@]}"
check_grep "mailgun: the Bcc recipient is in the envelope" \
	'hidden@example.com' "$(record_field mailgun 1 fields)"

ses_key='AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
raw_case ses "$ses_key" \
	'AKIDEXAMPLE:wJalrXUtnFEMI%2FK7MDENG%2BbPxRfiCYEXAMPLEKEY' eu-west-1 \
	"${fx_args[@]}"
check_grep "ses: the Bcc recipient is in Destination" 'hidden@example.com' \
	"$(record_field ses 1 json.Destination.BccAddresses)"

# SES with credentials from the environment and a session token.
AWS_ACCESS_KEY_ID=AKIDEXAMPLE \
AWS_SECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' \
AWS_SESSION_TOKEN=session-token-123 AWS_REGION=eu-west-1 check_status \
	"ses: credentials and region from AWS_* variables" 0 "$send" \
	--url "ses://default?endpoint=http://127.0.0.1:$port" \
	"${fx_args[@]}"
check_grep "ses: the session token was sent (and the signature held)" \
	'"session-token-123"' \
	"$(record_field ses 2 headers.X-Amz-Security-Token)"

raw_case smtp2go api-123 api-123 default "${no_bcc_args[@]}"

# JSON providers: the fields carry the same message.
json_case() {
	local provider=$1 key=$2
	shift 2
	start_fake "$provider" "$key" || { not_ok "$provider: fake"; return; }
	local url="$provider://$key@default?endpoint=http://127.0.0.1:$port"
	check_status "$provider: relaymail-send exits 0" 0 "$send" \
		--url "$url" "$@"
	check "$provider: the JSON fields carry the message" \
		"$py" "$fakes/check_fields.py" "$provider" \
		"$work/$provider/1.json" "$work/fx2/expected.json"
}

json_case sendgrid SG.key "${fx2_args[@]}"
json_case postmark pm-token "${fx2_args[@]}"

# SendGrid refuses a recipient name with a comma: refused before sending.
check_status "sendgrid: a name with a comma is refused before sending" 69 \
	"$send" --url "sendgrid://SG.key@default?endpoint=http://127.0.0.1:9" \
	"${fx_args[@]}"
check_grep "sendgrid: the error names the field" 'cc\[0\]' "$last_output"

# The null reverse path (--envelope-from '<>'): SES's FromEmailAddress
# has no empty form, so it is refused before anything is sent (nothing
# listens on port 9); the others never take an envelope sender from
# the message and send as usual.
ses_user='AKIDEXAMPLE:wJalrXUtnFEMI%2FK7MDENG%2BbPxRfiCYEXAMPLEKEY'
check_status "ses: --envelope-from '<>' is refused before sending" 69 \
	"$send" --url "ses://$ses_user@eu-west-1?endpoint=http://127.0.0.1:9" \
	--from a@example.com --to b@example.org --text hi --envelope-from '<>'
check_grep "ses: the error names envelope_from" 'envelope_from' \
	"$last_output"
null_path_send() { # PROVIDER USER@HOST
	local p
	p=$(cat "$work/$1/port")
	check_status "$1: --envelope-from '<>' sends as usual (0)" 0 "$send" \
		--url "$1://$2?endpoint=http://127.0.0.1:$p" \
		--from a@example.com --to b@example.org --subject bounce \
		--text hi --envelope-from '<>'
}
null_path_send mailgun key-123@mg.example.com
null_path_send smtp2go api-123@default
null_path_send sendgrid SG.key@default
null_path_send postmark pm-token@default

# Failures through relaymail-send: exit statuses and the provider's text.
echo '{"status":401,"body":{"ErrorCode":10,"Message":"Bad token."}}' \
	>"$work/postmark/mode"
check_status "postmark: a bad token exits 69" 69 "$send" \
	--url "postmark://pm-token@default?endpoint=http://127.0.0.1:$port" \
	--from a@example.com --to b@example.org --text hi
check_grep "postmark: the provider's text is shown" 'Bad token' \
	"$last_output"
echo '{"action":"drop"}' >"$work/postmark/mode"
check_status "postmark: a dropped connection exits 75" 75 "$send" \
	--url "postmark://pm-token@default?endpoint=http://127.0.0.1:$port" \
	--from a@example.com --to b@example.org --text hi
check_grep "postmark: the outcome is ambiguous" 'outcome: ambiguous' \
	"$last_output"
check_status "plain http to a remote host is a usage error (64)" 64 \
	"$send" --url "sendgrid://K@default?endpoint=http://example.com" \
	--from a@example.com --to b@example.org --text hi

# --check: each provider's read-only request, and how it ends.
check_case() {
	local provider=$1 key=$2 user=$3 host=$4 greeting=$5 auth=$6
	local dir="check-$provider"
	start_fake "$provider" "$key" "$dir" ||
		{ not_ok "$provider --check: fake"; return; }
	local url="$provider://$user@$host?endpoint=http://127.0.0.1:$port"
	check_status "$provider --check exits 0" 0 "$send" --check \
		--url "$url"
	check_grep "$provider --check: the greeting" "$greeting" \
		"$last_output"
	check_grep "$provider --check: the mechanism" "auth: *$auth\$" \
		"$last_output"
	check_grep "$provider --check: the fake found nothing wrong" \
		'^\[\]$' "$(record_field "$dir" 1 errors)"
	check_grep "$provider --check: nothing was sent" '"check"' \
		"$(record_field "$dir" 1 kind)"
	echo '{"status":429,"body":{}}' >"$work/$dir/mode"
	check_status "$provider --check: 429 exits 75" 75 "$send" --check \
		--url "$url"
	echo '{"status":500}' >"$work/$dir/mode"
	check_status "$provider --check: 500 exits 75" 75 "$send" --check \
		--url "$url"
	echo ok >"$work/$dir/mode"
	check_status "$provider --check: a wrong key exits 69" 69 "$send" \
		--check --url "${url/$user@/$7@}"
	check_grep "$provider --check: says authentication failed" \
		'authentication failed' "$last_output"
}

check_case sendgrid SG.key SG.key default 'scopes include mail.send' \
	Bearer SG.wrong
check_case mailgun key-123 key-123 mg.example.com \
	'domain mg.example.com is active' Basic key-wrong
check_case ses "$ses_key" \
	'AKIDEXAMPLE:wJalrXUtnFEMI%2FK7MDENG%2BbPxRfiCYEXAMPLEKEY' eu-west-1 \
	'credentials accepted in eu-west-1' AWS4-HMAC-SHA256 \
	'AKIDEXAMPLE:wrong'
check_case postmark pm-token pm-token default 'server Fake Server' \
	X-Postmark-Server-Token pm-wrong
check_case smtp2go api-123 api-123 default '990 of 1000 emails left' \
	X-Smtp2go-Api-Key api-wrong
check_status "--check with nothing listening exits 75" 75 "$send" \
	--check --url "postmark://pm-token@default?endpoint=http://127.0.0.1:9"

it_finish
