#!/bin/bash
# SendGrid: the JSON relaymail sends for a set of messages is compared
# with what the official @sendgrid/mail client (npm) sends for the same
# messages, both captured by the same strict loopback fake: same
# recipients, subject, content, attachments and headers.
source "$(dirname "$0")/lib/common.sh"

it_init 50-http-sendgrid-official
unset RELAYMAIL_URL RELAYMAIL_PASSWORD RELAYMAIL_OAUTH_TOKEN
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY
send="$bin/relaymail-send"
fakes="$top/tests/fakes"

if [ ! -d "$top/tests/node_modules/@sendgrid/mail" ]; then
	not_ok "@sendgrid/mail is installed (cd tests && npm ci)"
	it_finish
fi

mkdir -p "$work/files"
start_fake sendgrid SG.key fake || { not_ok "the fake starts"; it_finish; }
base="http://127.0.0.1:$port"
cp "$top/examples/data/relaymail.png" "$work/files/logo.png"
printf '%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n' \
	>"$work/files/report.pdf"
n=0

# compare_with_official NAME OFFICIAL.json RELAYMAIL-OPTIONS...: sends
# the message both ways and compares the two requests the fake saw.
compare_with_official() {
	local name=$1 official=$2
	shift 2
	check_status "$name: relaymail sends it" 0 "$send" \
		--url "sendgrid://SG.key@default?endpoint=$base" "$@"
	n=$((n + 1))
	check "$name: @sendgrid/mail sends it" node \
		"$fakes/sendgrid_official.js" "$base" SG.key "$official"
	n=$((n + 1))
	check "$name: both requests carry the same message" "$py" \
		"$fakes/compare_sendgrid.py" "$work/fake/$((n - 1)).json" \
		"$work/fake/$n.json"
}

# 1. Plain text to one recipient.
cat >"$work/m1.json" <<'EOF'
{"to": "bob@example.org", "from": "ann@example.com",
 "subject": "Hello", "text": "Hello Bob,\r\nsee you.",
 "headers": {"Message-ID": "<m1@example.com>"}}
EOF
compare_with_official "plain text" "$work/m1.json" \
	--from ann@example.com --to bob@example.org --subject Hello \
	--text $'Hello Bob,\nsee you.' --message-id m1@example.com

# 2. Names, Cc, Bcc, Reply-To, a non-ASCII subject, text and HTML.
cat >"$work/m2.json" <<'EOF'
{"to": [{"email": "bob@example.org", "name": "Bob Builder"}],
 "cc": [{"email": "carol@example.org", "name": "Carol"}],
 "bcc": [{"email": "dave@example.org"}],
 "from": {"email": "ann@example.com", "name": "Ann Example"},
 "replyTo": {"email": "help@example.com", "name": "Help Desk"},
 "subject": "Grüße – your report",
 "text": "Hallo Jörg", "html": "<p>Hallo <b>Jörg</b></p>",
 "headers": {"Message-ID": "<m2@example.com>", "X-Custom": "v"}}
EOF
compare_with_official "names, cc, bcc, reply-to, html" "$work/m2.json" \
	--from "Ann Example <ann@example.com>" \
	--to "Bob Builder <bob@example.org>" --cc "Carol <carol@example.org>" \
	--bcc dave@example.org --reply-to "Help Desk <help@example.com>" \
	--subject "Grüße – your report" --text "Hallo Jörg" \
	--html "<p>Hallo <b>Jörg</b></p>" --message-id m2@example.com \
	--header "X-Custom: v"

# 3. An attachment and an inline image.
"$py" - "$work" <<'PY'
import base64, json, sys
w = sys.argv[1]
b64 = lambda p: base64.b64encode(open(p, "rb").read()).decode()
json.dump({
    "to": "bob@example.org", "from": "ann@example.com",
    "subject": "Report", "text": "See attached.",
    "html": '<p>See <img src="cid:logo"></p>',
    "attachments": [
        {"content": b64(w + "/files/logo.png"), "filename": "logo.png",
         "type": "image/png", "disposition": "inline",
         "content_id": "logo"},
        {"content": b64(w + "/files/report.pdf"), "filename": "report.pdf",
         "type": "application/pdf", "disposition": "attachment"}],
    "headers": {"Message-ID": "<m3@example.com>"}},
    open(w + "/m3.json", "w"))
PY
compare_with_official "attachment and inline image" "$work/m3.json" \
	--from ann@example.com --to bob@example.org --subject Report \
	--text "See attached." --html '<p>See <img src="cid:logo"></p>' \
	--inline "$work/files/logo.png:logo" --attach "$work/files/report.pdf" \
	--message-id m3@example.com

it_finish
