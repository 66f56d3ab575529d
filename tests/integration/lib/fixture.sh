# The standard test message (sourced after common.sh): a non-ASCII
# subject and names, text with a line starting with a dot, HTML with an
# inline image, and two attachments, one binary and one with a non-ASCII
# name.
#
#   fixture_make DIR [TO...]
#
# writes the attachments into DIR/files, the fields a parser must read
# back into DIR/expected.json, and sets the array fixture_args to the
# relaymail-send options that build the message. The recipients are
# given as plain addresses (default: the three below).

fixture_subject='Grüße from relaymail ✉ — integration test'
fixture_from_name='Relay Mäil Tester'
fixture_from_addr='sender@example.com'
fixture_text=$'Hello Jörg,\n\nthis message came through relaymail.\n.This line starts with a dot.\n..and this one with two.\n\nBye'
fixture_html='<p>Hello <b>Jörg</b>, <img src="cid:logo@relaymail.test" alt="logo"></p>'

fixture_make() {
	local dir=$1
	shift
	local rcpts=("$@")
	[ "${#rcpts[@]}" -gt 0 ] ||
		rcpts=(joerg@example.com plain@example.net ada@example.org)
	mkdir -p "$dir/files"
	"$py" - "$dir/files" <<'PY'
import sys
d = sys.argv[1]
with open(d + "/report.bin", "wb") as f:
    f.write(bytes(range(256)) * 40 + b"\r\n.\r\n\x00end")
with open(d + "/Grüße – notes.txt", "w", encoding="utf-8") as f:
    f.write("Notizen für Jörg\n.dot\nline without end")
PY
	cp "$top/examples/data/relaymail.png" "$dir/files/logo.png"
	fixture_args=(
		--from "$fixture_from_name <$fixture_from_addr>"
		--subject "$fixture_subject"
		--text "$fixture_text"
		--html "$fixture_html"
		--attach "$dir/files/report.bin"
		--attach "$dir/files/Grüße – notes.txt"
		--inline "$dir/files/logo.png:logo@relaymail.test"
		--header "X-Relaymail-Test: fixture"
		--reply-to "\"Support (Billing)\" <support@example.com>"
	)
	fixture_args+=(--to "Jörg Müller <${rcpts[0]}>")
	[ "${#rcpts[@]}" -gt 1 ] && fixture_args+=(--to "${rcpts[1]}")
	[ "${#rcpts[@]}" -gt 2 ] &&
		fixture_args+=(--cc "\"Ada, VP of Engineering\" <${rcpts[2]}>")
	fixture_args+=(--bcc "hidden@example.com")
	fixture_expect "$dir" "${rcpts[@]}"
}

# Writes DIR/expected.json for fixture_make's message.
fixture_expect() {
	local dir=$1
	shift
	FX_SUBJECT=$fixture_subject FX_TEXT=$fixture_text FX_HTML=$fixture_html \
	FX_FROM_NAME=$fixture_from_name FX_FROM_ADDR=$fixture_from_addr \
	"$py" - "$dir" "$@" <<'PY'
import hashlib, json, os, sys
d, rcpts = sys.argv[1], sys.argv[2:]
def att(name, ctype, cid=None):
    data = open(os.path.join(d, "files", name), "rb").read()
    a = {"filename": name, "content_type": ctype, "size": len(data),
         "sha256": hashlib.sha256(data).hexdigest()}
    if cid:
        a["content_id"] = cid
    return a
to = [{"name": "Jörg Müller", "address": rcpts[0]}]
if len(rcpts) > 1:
    to.append({"name": "", "address": rcpts[1]})
want = {
    "subject": os.environ["FX_SUBJECT"],
    "from": [{"name": os.environ["FX_FROM_NAME"],
              "address": os.environ["FX_FROM_ADDR"]}],
    "to": to,
    "text": os.environ["FX_TEXT"],
    "html": os.environ["FX_HTML"],
    "attachments": [
        att("report.bin", "application/octet-stream"),
        att("Grüße – notes.txt", "text/plain"),
        att("logo.png", "image/png", "logo@relaymail.test"),
    ],
    "reply_to": [{"name": "Support (Billing)",
                  "address": "support@example.com"}],
    "absent_headers": ["bcc"],
}
if len(rcpts) > 2:
    want["cc"] = [{"name": "Ada, VP of Engineering", "address": rcpts[2]}]
with open(os.path.join(d, "expected.json"), "w", encoding="utf-8") as f:
    json.dump(want, f, ensure_ascii=False, indent=1)
PY
}

# check_parsed NAME EML EXPECTED: both parsers read EML and agree with
# EXPECTED field by field.
check_parsed() {
	local name=$1 eml=$2 want=$3
	check "$name: Python email reads it back" \
		parse_and_compare "$py" "$itlib/parse_py.py" "$eml" "$want"
	check "$name: mailparser reads it back" \
		parse_and_compare node "$itlib/parse_node.js" "$eml" "$want"
}

parse_and_compare() {
	local tool=$1 script=$2 eml=$3 want=$4 out
	mkdir -p "$work/parsed"
	out="$work/parsed/$(basename "$eml").$(basename "$script").json"
	"$tool" "$script" "$eml" >"$out" || return 1
	"$py" "$itlib/compare.py" "$want" "$out"
}
