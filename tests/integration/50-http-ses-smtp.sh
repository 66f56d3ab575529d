#!/bin/bash
# ses+smtp://: SES through its SMTP interface with the password derived
# from the secret key. A loopback SMTP server that derives the password
# on its own (in Python) accepts the login only with the right one.
source "$(dirname "$0")/lib/common.sh"
source "$itlib/fixture.sh"

it_init 50-http-ses-smtp
unset RELAYMAIL_URL RELAYMAIL_PASSWORD RELAYMAIL_OAUTH_TOKEN
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_REGION
send="$bin/relaymail-send"
secret='wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
secret_url='wJalrXUtnFEMI%2FK7MDENG%2FbPxRfiCYEXAMPLEKEY'

mkdir -p "$work/smtp"
"$py" "$top/tests/fakes/ses_smtp_server.py" --dir "$work/smtp" \
	--access AKIAEXAMPLE --secret "$secret" --region eu-west-1 \
	2>"$work/smtp.log" &
at_exit stop_pid "$!"
if ! wait_for_file "$work/smtp/port"; then
	not_ok "the SMTP server starts"
	it_finish
fi
port=$(cat "$work/smtp/port")

fixture_make "$work/fx"
base="ses+smtp://AKIAEXAMPLE:$secret_url@eu-west-1:$port"
check_status "ses+smtp: the derived password logs in and the message goes" \
	0 "$send" --url "$base?connect_to=127.0.0.1" "${fixture_args[@]}"
check_parsed "ses+smtp" "$work/smtp/1.eml" "$work/fx/expected.json"
check_grep "ses+smtp: the Bcc recipient is in the envelope" \
	'hidden@example.com' "$(cat "$work/smtp/1.json")"

other="ses+smtp://AKIAEXAMPLE:$secret_url@us-east-1:$port"
check_status "ses+smtp: another region's password is refused (69)" 69 \
	"$send" --url "$other?connect_to=127.0.0.1" \
	--from a@example.com --to b@example.org --text hi
check_grep "ses+smtp: the server's refusal is shown" '535' "$last_output"

AWS_ACCESS_KEY_ID=AKIAEXAMPLE AWS_SECRET_ACCESS_KEY=$secret \
	AWS_REGION=eu-west-1 check_status \
	"ses+smtp: credentials from AWS_* variables" 0 "$send" \
	--url "ses+smtp://default:$port?connect_to=127.0.0.1" \
	--from a@example.com --to b@example.org --text hi

it_finish
