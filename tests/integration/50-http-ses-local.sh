#!/bin/bash
# SES end to end against aws-ses-v2-local (npm), an independent SES v2
# emulator: the standard test message goes through relaymail-send's
# ses:// backend, and the fields the emulator stored (message id, from,
# to, cc, subject, text, HTML, attachments) must match what was built.
# relaymail-send --check reads the account the emulator is given
# (GetAccount, GET /v2/email/account). The emulator checks no signature;
# the strict fake (50-http-fakes) checks that with botocore.
source "$(dirname "$0")/lib/common.sh"
source "$itlib/fixture.sh"

it_init 50-http-ses-local
unset RELAYMAIL_URL RELAYMAIL_PASSWORD RELAYMAIL_OAUTH_TOKEN
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY
send="$bin/relaymail-send"
emulator="$top/tests/node_modules/aws-ses-v2-local/dist/cli.js"

if [ ! -f "$emulator" ]; then
	not_ok "aws-ses-v2-local is installed (cd tests && npm ci)"
	it_finish
fi

port=$("$py" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The account GetAccount answers with (the emulator has none by itself).
export AWS_SES_ACCOUNT='{"DedicatedIpAutoWarmupEnabled":false,
"Details":{"AdditionalContactEmailAddresses":[],"ContactLanguage":"EN",
"MailType":"TRANSACTIONAL","ReviewDetails":{"CaseId":"1","Status":"GRANTED"},
"UseCaseDescription":"tests","WebsiteURL":"https://example.com"},
"EnforcementStatus":"HEALTHY","ProductionAccessEnabled":true,
"SendingEnabled":true,"SendQuota":{"Max24HourSend":50000,"MaxSendRate":14,
"SentLast24Hours":0},"SuppressionAttributes":{"SuppressedReasons":[]}}'
node "$emulator" --port "$port" >"$work/emulator.log" 2>&1 &
at_exit stop_pid "$!"
if ! wait_for_port "$port"; then
	not_ok "aws-ses-v2-local starts"
	sed 's/^/#   /' "$work/emulator.log"
	it_finish
fi
ok "aws-ses-v2-local starts"

fixture_make "$work/fx"
url="ses://AKIDEXAMPLE:secret@us-east-1?endpoint=http://127.0.0.1:$port"
check_status "ses --check: GetAccount answers" 0 "$send" --check \
	--url "$url"
check_grep "ses --check: the account as the emulator holds it" \
	'production access, 50000 messages per 24 h' "$last_output"
check_status "ses: relaymail-send exits 0" 0 "$send" --url "$url" \
	"${fixture_args[@]}"
queue_id=$(printf '%s\n' "$last_output" |
	sed -n 's/.*queue id \([^,]*\),.*/\1/p')

curl -sf "http://127.0.0.1:$port/store" >"$work/store.json"
check "ses: the emulator stored what was built" "$py" - "$work/store.json" \
	"$work/fx/expected.json" "$queue_id" "$work/fx/files" <<'PY'
import base64, email.utils, hashlib, json, os, sys
store, want, queue_id, files = sys.argv[1:5]
emails = json.load(open(store))["emails"]
want = json.load(open(want, encoding="utf-8"))
bad = []
if len(emails) != 1:
    sys.exit(f"the emulator holds {len(emails)} messages")
e = emails[0]
def same(what, got, exp):
    if got != exp:
        bad.append(f"{what}: got {got!r}, want {exp!r}")
same("message id", e["messageId"], queue_id)
name, addr = email.utils.parseaddr(e["from"])
same("from", [{"name": name, "address": addr}], want["from"])
def people(lines):
    return [{"name": n, "address": a}
            for n, a in email.utils.getaddresses(lines)]
same("to", people(e["destination"]["to"]), want["to"])
same("cc", people(e["destination"]["cc"]), want["cc"])
same("subject", e["subject"], want["subject"])
same("text", e["body"]["text"].rstrip("\n"),
     want["text"].replace("\r\n", "\n").rstrip("\n"))
# The emulator's parser inlines cid: images as data: URLs.
logo = open(os.path.join(files, "logo.png"), "rb").read()
inline = 'src="data:image/png;base64,%s"' % base64.b64encode(logo).decode()
same("html", e["body"]["html"].rstrip("\n").replace(
     inline, 'src="cid:logo@relaymail.test"'), want["html"].rstrip("\n"))
got = {a["filename"]: a for a in e["attachments"]}
for w in want["attachments"]:
    a = got.get(w["filename"])
    if a is None:
        bad.append(f"attachment {w['filename']} missing: {sorted(got)}")
        continue
    same(w["filename"] + " size", a["size"], w["size"])
    same(w["filename"] + " type", a["contentType"], w["content_type"])
    data = open(os.path.join(files, w["filename"]), "rb").read()
    same(w["filename"] + " md5", a["checksum"],
         hashlib.md5(data).hexdigest())
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY

it_finish
