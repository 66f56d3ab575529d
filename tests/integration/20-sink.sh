#!/bin/bash
# relaymail-send -> relaymail-sink over SMTP on loopback: the stored
# message is read back by Python's email package and mailparser and
# compared field by field with what was sent; the stored envelope is
# checked; and the sink itself is put through its paces (several
# sessions, --max-messages, SIGTERM, garbage input, loopback only).
source "$(dirname "$0")/lib/common.sh"
source "$itlib/fixture.sh"

it_init 20-sink
unset RELAYMAIL_URL RELAYMAIL_PASSWORD RELAYMAIL_OAUTH_TOKEN
fixture_make "$work/fx"

if start_sink "$work/sink"; then
	ok "relaymail-sink starts on a free port"
else
	not_ok "relaymail-sink starts on a free port"
	it_finish
fi
url="smtp://127.0.0.1:$sink_port"

check_status "send: relaymail-send exits 0" 0 \
	"$bin/relaymail-send" --url "$url" "${fixture_args[@]}"
check_grep "send: the queue id from the sink is reported" 'queue id 1\b' \
	"$last_output"
if wait_for_file "$work/sink/1.json" && [ -s "$work/sink/1.eml" ]; then
	ok "send: the sink stored 1.eml and 1.json"
else
	not_ok "send: the sink stored 1.eml and 1.json"
fi
check_parsed "sink" "$work/sink/1.eml" "$work/fx/expected.json"

check "envelope: MAIL FROM and every RCPT (Bcc too) are as sent" \
	"$py" -c 'import json, sys
d = json.load(open(sys.argv[1]))
want = ["joerg@example.com", "plain@example.net", "ada@example.org",
        "hidden@example.com"]
assert d["mail_from"] == "sender@example.com", d
assert sorted(d["rcpt_to"]) == sorted(want), d
assert not d["bare_lf"], "bare LF in the DATA stream"' "$work/sink/1.json"


# Every line of what went over the wire was within RFC 5321 limits.
check "wire: no line over 998 octets, CRLF everywhere" \
	"$py" -c 'import sys
data = open(sys.argv[1], "rb").read()
lines = data.split(b"\r\n")
assert lines[-1] == b"", "no CRLF at the end"
assert all(b"\n" not in l and b"\r" not in l for l in lines), "bare CR/LF"
assert max(len(l) for l in lines) <= 998, "line too long"' \
	"$work/sink/1.eml"

# A second message over a new session gets the next number.
check_status "second: another send exits 0" 0 \
	"$bin/relaymail-send" --url "$url" --from a@example.com \
	--to b@example.com --subject second --text "two"
check "second: stored as 2.eml" wait_for_file "$work/sink/2.json"

# Lines that start with dots survive SMTP transparency (RFC 5321 4.5.2).
dots=$'first\n.hidden\n.\n..two\n.\r\nlast'
check_status "dots: a text with dot lines is sent" 0 \
	"$bin/relaymail-send" --url "$url" --from a@example.com \
	--to b@example.com --subject dots --text "$dots"
wait_for_file "$work/sink/3.json"
DOTS=$dots "$py" -c 'import json, os
print(json.dumps({"text": os.environ["DOTS"].replace("\r\n", "\n")}))' \
	>"$work/dots.json"
check_parsed "dots" "$work/sink/3.eml" "$work/dots.json"

# The null reverse path of bounces and auto-replies (RFC 5321 4.5.5),
# given as '<>' and as '': MAIL FROM:<>, the From header unchanged.
null_path_case() { # N ARG
	local shown=${2:-"''"}
	check_status "null path $shown: relaymail-send exits 0" 0 \
		"$bin/relaymail-send" --url "$url" --from a@example.com \
		--to b@example.com --subject bounce --text "bounce" \
		--envelope-from "$2"
	wait_for_file "$work/sink/$1.json"
	check "null path $shown: the envelope's mail_from is empty" \
		"$py" -c 'import email, json, sys
d = json.load(open(sys.argv[1] + ".json"))
assert d["mail_from"] == "", d
assert d["rcpt_to"] == ["b@example.com"], d
m = email.message_from_binary_file(open(sys.argv[1] + ".eml", "rb"))
assert m["From"] == "a@example.com", m["From"]' "$work/sink/$1"
}
null_path_case 4 '<>'
null_path_case 5 ''

# One session, several transactions, with RSET and NOOP between them.
check "reuse: two messages in one session, RSET and NOOP" \
	"$py" - "$sink_port" "$work/sink" <<'PY'
import json, os, smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.ehlo("reuse.test")
s.mail("a@example.com")
s.rcpt("b@example.com")
assert s.rset()[0] == 250
assert s.noop()[0] == 250
for n in (1, 2):
    s.sendmail("a@example.com", ["r%d@example.com" % n],
               b"Subject: reuse %d\r\n\r\nbody\r\n" % n)
s.quit()
found = []
for name in os.listdir(sys.argv[2]):
    if name.endswith(".json") and name[:-5].isdigit():
        d = json.load(open(os.path.join(sys.argv[2], name)))
        if d["helo"] == "reuse.test":
            found.append(d["rcpt_to"])
assert sorted(found) == [["r1@example.com"], ["r2@example.com"]], found
PY

# Garbage, overlong lines and out-of-order commands do not hurt the sink.
check "robust: the sink answers garbage and stays up" \
	"$py" - "$sink_port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
f = s.makefile("rb")
assert f.readline().startswith(b"220")
s.sendall(b"\x00\xff\xfe junk\r\n" + b"A" * 100000 + b"\r\nDATA\r\n"
          b"RCPT TO:<x@example.com>\r\nEHLO t\r\nMAIL FROM:<bad\r\n"
          b"MAIL FROM:<a@example.com> SIZE=99999999999\r\nQUIT\r\n")
codes = [f.readline()[:3] for _ in range(4)]
assert codes == [b"500", b"500", b"503", b"503"], codes
rest = f.read()
assert b"\r\n501 " in rest and b"\r\n552 " in rest, rest
assert rest.endswith(b"221 2.0.0 Bye\r\n"), rest
PY
check_status "robust: a normal send still works afterwards" 0 \
	"$bin/relaymail-send" --url "$url" --from a@example.com \
	--to b@example.com --subject third --text "three"

# A CA file that cannot be read is unreadable input (66), found once
# the connection is up.
check_status "input: an unreadable ca_file= exits 66" 66 \
	"$bin/relaymail-send" \
	--url "smtps://127.0.0.1:$sink_port?ca_file=$work/no-ca" \
	--from a@example.com --to b@example.com --text hi
check_grep "input: the ca_file= error says why" \
	'no-ca: No such file or directory' "$last_output"

# SIGTERM ends the sink cleanly (exit status 0).
kill -TERM "$sink_pid"
wait "$sink_pid"
check_grep "signal: the sink exits 0 on SIGTERM" '^0$' "$?"

# --max-messages N: the sink stops by itself after N messages.
max_case() {
	start_sink "$work/max" --max-messages 1 || return 1
	"$bin/relaymail-send" --url "smtp://127.0.0.1:$sink_port" \
		--from a@example.com --to b@example.com --subject one \
		--text one >/dev/null || return 1
	wait "$sink_pid"
}
if max_case; then
	ok "max-messages: the sink exits 0 after one message"
else
	not_ok "max-messages: the sink exits 0 after one message"
fi

check_status "loopback: the sink refuses 0.0.0.0 without --allow-remote" \
	69 "$bin/relaymail-sink" --dir "$work/remote" --listen 0.0.0.0 \
	--port 0
check_grep "loopback: and says why" 'not a loopback' "$last_output"

it_finish
