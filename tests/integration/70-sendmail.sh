#!/bin/bash
# relaymail-sendmail as programs use /usr/sbin/sendmail: a message on
# stdin through relaymail-sink over SMTP, read back with Python's email
# package; -t, -f, -F, -i/-oi, recipients as arguments, Bcc removed; the
# configuration files and RELAYMAIL_URL; exit codes; the spool when the
# relay is down or defers some recipients, and -q; -oem.
source "$(dirname "$0")/lib/common.sh"

it_init 70-sendmail
unset RELAYMAIL_URL RELAYMAIL_PASSWORD RELAYMAIL_OAUTH_TOKEN RELAYMAIL_SPOOL
sm="$bin/relaymail-sendmail"
export HOME="$work/home"
mkdir -p "$HOME"

if start_sink "$work/sink"; then
	ok "relaymail-sink starts"
else
	not_ok "relaymail-sink starts"
	it_finish
fi
url="smtp://127.0.0.1:$sink_port"
n=0

# Sends stdin with the arguments through the sink and waits for the
# stored copy; sets $eml and $env to the files it stored.
via_sink() {
	RELAYMAIL_URL=$url "$sm" "$@" || return
	n=$((n + 1))
	eml="$work/sink/$n.eml"
	env="$work/sink/$n.json"
	wait_for_file "$env"
}

# sends NAME ARGS...: via_sink in this shell (so $eml and $env stay set),
# reported as one check.
sends() {
	local name=$1
	shift
	if via_sink "$@" >"$work/last.out" 2>&1; then
		ok "$name"
	else
		not_ok "$name"
		sed 's/^/#   /' "$work/last.out"
	fi
}

# pyq FILE EXPR...: asserts Python expressions about the parsed message
# m (email.message.EmailMessage), its raw bytes b and the envelope e.
pyq() {
	"$py" - "$@" <<'PY'
import email, email.header, email.policy, json, sys
b = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(b, policy=email.policy.default)
e = json.load(open(sys.argv[2])) if sys.argv[2] != "-" else {}
body = m.get_content().replace("\r\n", "\n") if not m.is_multipart() else ""
for expr in sys.argv[3:]:
    assert eval(expr), expr
PY
}

msg1=$'From: Ann <ann@example.com>\nTo: Bob <bob@example.org>\nCc: carl@example.net\nBcc: hidden@example.com,\n\tsecret@example.com\nSubject: cron output\n\nline one\n.\nnot read'

sends "-t: exits 0" -t <<<"$msg1"
check "-t: envelope has To, Cc and both Bcc; MAIL FROM is From" \
	pyq "$eml" "$env" \
	'sorted(e["rcpt_to"]) == ["bob@example.org", "carl@example.net", "hidden@example.com", "secret@example.com"]' \
	'e["mail_from"] == "ann@example.com"' 'not e["bare_lf"]'
check "-t: Bcc is gone from the message" pyq "$eml" - \
	'm["Bcc"] is None' 'b"hidden" not in b' 'b"secret@" not in b'
check "-t: header and body as sent; Date and Message-ID added" \
	pyq "$eml" - 'm["Subject"] == "cron output"' \
	'm["To"].addresses[0].display_name == "Bob"' \
	'm["Date"] is not None' 'm["Message-ID"].startswith("<")' \
	'body == "line one\n"'

sends "-oi: a lone dot does not end the input" -oi -t <<<"$msg1"
check "-oi: the dot line and what follows arrived" pyq "$eml" - \
	'body == "line one\n.\nnot read\n"'
sends "-i: same as -oi" -i -t <<<"$msg1"
check "-i: the dot line arrived" pyq "$eml" - '"not read" in body'
sends "-ti: flags may come together" -ti <<<"$msg1"
check "-ti: -t and -i both apply" pyq "$eml" "$env" '"not read" in body' \
	'len(e["rcpt_to"]) == 4'

sends "arguments: recipients without -t" -f bounce@example.com x@example.com 'Y <y@example.com>' \
	<<<"$msg1"
check "arguments: only they get it, MAIL FROM is -f; To stays" \
	pyq "$eml" "$env" \
	'sorted(e["rcpt_to"]) == ["x@example.com", "y@example.com"]' \
	'e["mail_from"] == "bounce@example.com"' \
	'm["To"].addresses[0].addr_spec == "bob@example.org"' \
	'm["Bcc"] is None'

sends "-t with arguments: both sets get it" -t extra@example.com <<<"$msg1"
check "-t with arguments: five recipients" pyq "$eml" "$env" \
	'len(e["rcpt_to"]) == 5' '"extra@example.com" in e["rcpt_to"]'

sends "-F: a From is made from -f and -F when missing" -f me@example.com -F 'Jörg Bär' to@example.com \
	<<<$'Subject: no from\n\nbody'
check "-F: the name is encoded and reads back" pyq "$eml" "$env" \
	'm["From"].addresses[0].display_name == "Jörg Bär"' \
	'm["From"].addresses[0].addr_spec == "me@example.com"' \
	'e["mail_from"] == "me@example.com"' 'body == "body\n"'
long_name='Jörg Bär-Øresund Åkesson Ünal Çelik Ðorđević Łukasiewicz Ñúñez'
sends "-F: a long name is made of several encoded words" -f me@example.com -F "$long_name" to@example.com \
	<<<$'Subject: long name\n\nbody'
# Python's parsed address puts a space between adjacent encoded-words,
# which RFC 2047 6.2 drops; its header decoder follows the RFC.
check "-F: each line within 78 octets; the name reads back whole" \
	pyq "$eml" "$env" \
	"str(email.header.make_header(email.header.decode_header(email.message_from_bytes(b)['From']))) == '$long_name <me@example.com>'" \
	'm["From"].addresses[0].addr_spec == "me@example.com"' \
	'all(len(l) <= 78 for l in b.split(b"\r\n"))'

# The mbox postmark line is dropped before any field is added in front.
sends "postmark: -t with From, Date and Message-ID to add" -t \
	<<<$'From me@example.com Mon Jan  1 00:00:00 2024\nTo: a@example.com\nSubject: postmarked\n\nhi'
check "postmark: the header is read, the line is gone" pyq "$eml" "$env" \
	'e["rcpt_to"] == ["a@example.com"]' 'm["Subject"] == "postmarked"' \
	'm["Date"] is not None' 'm["Message-ID"] is not None' \
	'b"Jan  1" not in b' 'body == "hi\n"'

sends "CRLF input: stays CRLF, no doubled line ends" to@example.com \
	< <(printf 'From: a@example.com\r\nSubject: crlf\r\n\r\nx\r\ny\r\n')
check "CRLF input: body reads back" pyq "$eml" "$env" \
	'body == "x\ny\n"' 'not e["bare_lf"]' \
	'b"\r\r" not in b'
sends "8-bit: a UTF-8 body goes out" to@example.com \
	<<<$'From: a@example.com\nSubject: 8bit\n\nGr\xc3\xbc\xc3\x9fe'
check "8-bit: announced with BODY=8BITMIME, arrives intact" \
	pyq "$eml" "$env" 'e["body_8bitmime"]' '"Grüße" in b.decode()'
check "8-bit: an ASCII message is not announced" pyq "$work/sink/1.eml" \
	"$work/sink/1.json" 'not e["body_8bitmime"]'

# Configuration: /etc/relaymail.conf cannot be touched here, so -C and
# ~/.relaymail are used; RELAYMAIL_URL wins over both.
printf '# relay\nurl = %s\n' "$url" >"$HOME/.relaymail"
check_status "config: ~/.relaymail gives the URL" 0 \
	"$sm" to@example.com <<<$'From: a@example.com\n\nconfig'
n=$((n + 1))
check "config: the sink got it" wait_for_file "$work/sink/$n.json"
printf 'url = smtp://127.0.0.1:1\n' >"$HOME/.relaymail"
printf 'url = %s\nspool = %s\n' "$url" "$work/cspool" >"$work/c.conf"
check_status "config: -C FILE is read instead" 0 \
	"$sm" -C "$work/c.conf" to@example.com <<<$'From: a@example.com\n\nC'
n=$((n + 1))
check "config: the sink got it too" wait_for_file "$work/sink/$n.json"
RELAYMAIL_URL=$url check_status "config: RELAYMAIL_URL wins" 0 \
	"$sm" to@example.com <<<$'From: a@example.com\n\nenv'
n=$((n + 1))
check "config: and the sink got that" wait_for_file "$work/sink/$n.json"
printf 'colour = blue\n' >"$work/bad.conf"
check_status "config: an unknown key exits 78" 78 \
	"$sm" -C "$work/bad.conf" to@example.com <<<$'From: a@example.com\n\nx'
check_grep "config: and names file and line" 'bad.conf:1: unknown key' \
	"$last_output"
rm -f "$HOME/.relaymail"
check_status "config: no URL anywhere exits 78" 78 \
	"$sm" to@example.com <<<$'From: a@example.com\n\nx'

check_status "usage: an unknown option exits 64" 64 "$sm" -Z x@example.com
check_status "usage: no recipient and no -t exits 64" 64 "$sm" <<<"x"
check_status "usage: an unknown option with a terminal escape exits 64" 64 \
	"$sm" $'-Z\e[31m' x@example.com
check_grep "usage: and shows the escape, not the byte" \
	'^relaymail-sendmail: unknown option: -Z\\x1b\[31m$' "$last_output"
check_status "usage: a line break in -f exits 64" 64 \
	"$sm" -f $'a@example.com\nBcc: x@example.com' b@example.com <<<"x"
check_status "usage: --help exits 0" 0 "$sm" --help
check_grep "usage: --help shows the options" '\[-t\].*\[-f sender\]' \
	"$last_output"
check_status "data: a bad address exits 65" 65 env RELAYMAIL_URL="$url" \
	"$sm" -t <<<$'From: a@example.com\nTo: not an address\n\nx'
check_status "file: a missing file:// folder exits 73, as relaymail-send" \
	73 env RELAYMAIL_URL="file://$work/nowhere" \
	"$sm" b@example.com <<<$'From: a@example.com\nSubject: x\n\nx'
check_grep "file: the error names the folder" "$work/nowhere" \
	"$last_output"

# The spool: a relay that is down.
export RELAYMAIL_SPOOL="$work/spool"
down=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
msg2=$'From: ann@example.com\nTo: bob@example.org\nBcc: hush@example.com\nSubject: later\n\nspooled body'
RELAYMAIL_URL="smtp://127.0.0.1:$down" check_status \
	"spool: relay down: exits 0, the message is kept" 0 "$sm" -t <<<"$msg2"
check_grep "spool: and says where" 'spooled as .*/spool/.*\.msg' \
	"$last_output"
spooled=("$RELAYMAIL_SPOOL"/*.msg)
check_grep "spool: one file, no temporary left" '^1 0$' \
	"${#spooled[@]} $(find "$RELAYMAIL_SPOOL" -name '.*' -type f | wc -l)"
check_grep "spool: file and folder are private" '^700 600$' \
	"$(stat -c %a "$RELAYMAIL_SPOOL") $(stat -c %a "${spooled[0]}")"
spool_id=$(grep -m1 '^Message-ID:' "${spooled[0]}" | tr -d '\r')
RELAYMAIL_URL="smtp://127.0.0.1:$down" check_status \
	"spool: -bp lists it" 0 "$sm" -bp
check_grep "spool: -bp shows the file" "$(basename "${spooled[0]}")" \
	"$last_output"
RELAYMAIL_URL="smtp://127.0.0.1:$down" check_status \
	"spool: -q with the relay still down exits 75" 75 "$sm" -q
check "spool: the file is still there" test -f "${spooled[0]}"
RELAYMAIL_URL=$url check_status "spool: -q with the relay up exits 0" 0 \
	"$sm" -q
n=$((n + 1))
check "spool: the sink got it" wait_for_file "$work/sink/$n.json"
check "spool: same Message-ID, Bcc recipient kept, Bcc field gone" \
	pyq "$work/sink/$n.eml" "$work/sink/$n.json" \
	"m['Message-ID'] == '${spool_id#Message-ID: }'" \
	'"hush@example.com" in e["rcpt_to"]' 'm["Bcc"] is None' \
	'body == "spooled body\n"'
check_grep "spool: empty afterwards" '^0$' \
	"$(find "$RELAYMAIL_SPOOL" -type f | wc -l)"

# A relay that defers one recipient (451) and refuses another (550).
cat >"$work/picky.py" <<'PY'
import socket, sys
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
open(sys.argv[1], "w").write(str(srv.getsockname()[1]))
c, _ = srv.accept()
f = c.makefile("rb")
c.sendall(b"220 picky ESMTP\r\n")
while True:
    line = f.readline()
    if not line:
        break
    cmd = line.upper()
    if cmd.startswith(b"EHLO"):
        c.sendall(b"250-picky\r\n250 PIPELINING\r\n")
    elif cmd.startswith(b"RCPT") and b"LATER" in cmd:
        c.sendall(b"451 4.2.0 try later\r\n")
    elif cmd.startswith(b"RCPT") and b"NOBODY" in cmd:
        c.sendall(b"550 5.1.1 no such user\r\n")
    elif cmd.startswith(b"DATA"):
        c.sendall(b"354 go\r\n")
        while f.readline() not in (b".\r\n", b""):
            pass
        c.sendall(b"250 2.0.0 queued as P1\r\n")
    elif cmd.startswith(b"QUIT"):
        c.sendall(b"221 bye\r\n")
        break
    else:
        c.sendall(b"250 ok\r\n")
PY
"$py" "$work/picky.py" "$work/picky.port" &
picky=$!
at_exit stop_pid "$picky"
wait_for_file "$work/picky.port"
RELAYMAIL_URL="smtp://127.0.0.1:$(cat "$work/picky.port")" check_status \
	"partial: a refused recipient exits 67" 67 "$sm" ok@example.com \
	later@example.com nobody@example.com <<<$'From: a@example.com\n\nhi'
check_grep "partial: says which was deferred and refused" \
	'later@example.com> deferred.*|nobody@example.com> refused' \
	"$last_output"
spooled=("$RELAYMAIL_SPOOL"/*.msg)
check "partial: only the deferred recipient is spooled" \
	grep -qx 'rcpt later@example.com' "${spooled[0]}"
check_grep "partial: and no other" '^1$' \
	"$(grep -c '^rcpt ' "${spooled[0]}")"
RELAYMAIL_URL=$url check_status "partial: -q sends it to the sink" 0 \
	"$sm" -q
n=$((n + 1))
check "partial: the sink got it for later@ only" \
	pyq "$work/sink/$n.eml" "$work/sink/$n.json" \
	'e["rcpt_to"] == ["later@example.com"]'

# Deferred and refused with none taken: the deferred one is still kept.
rm -f "$RELAYMAIL_SPOOL"/*.msg
"$py" "$work/picky.py" "$work/picky2.port" &
picky=$!
at_exit stop_pid "$picky"
wait_for_file "$work/picky2.port"
RELAYMAIL_URL="smtp://127.0.0.1:$(cat "$work/picky2.port")" check_status \
	"none taken: a refused recipient exits 67" 67 "$sm" \
	later@example.com nobody@example.com <<<$'From: a@example.com\n\nhi'
spooled=("$RELAYMAIL_SPOOL"/*.msg)
check "none taken: the deferred recipient is spooled" \
	grep -qx 'rcpt later@example.com' "${spooled[0]}"
check_grep "none taken: and not the refused one" '^1$' \
	"$(grep -c '^rcpt ' "${spooled[0]}")"
RELAYMAIL_URL=$url check_status "none taken: -q sends it to the sink" 0 \
	"$sm" -q
n=$((n + 1))
check "none taken: the sink got it for later@ only" \
	pyq "$work/sink/$n.eml" "$work/sink/$n.json" \
	'e["rcpt_to"] == ["later@example.com"]'

# A queue run that serves some recipients and is deferred for others
# replaces the spool file in place: one file, with the others only.
rm -f "$RELAYMAIL_SPOOL"/*.msg
RELAYMAIL_URL="smtp://127.0.0.1:$down" check_status \
	"requeue: spooled while the relay is down" \
	0 "$sm" ok@example.com later@example.com <<<$'From: a@example.com\n\nhi'
before=("$RELAYMAIL_SPOOL"/*.msg)
"$py" "$work/picky.py" "$work/picky3.port" &
picky=$!
at_exit stop_pid "$picky"
wait_for_file "$work/picky3.port"
RELAYMAIL_URL="smtp://127.0.0.1:$(cat "$work/picky3.port")" check_status \
	"requeue: -q with one recipient deferred exits 75" 75 "$sm" -q
after=("$RELAYMAIL_SPOOL"/*.msg)
check_grep "requeue: still one file, under the same name" \
	"^1 ${before[0]}\$" "${#after[@]} ${after[0]}"
check "requeue: it holds the deferred recipient only" \
	grep -qx 'rcpt later@example.com' "${after[0]}"
check_grep "requeue: and no other" '^1$' "$(grep -c '^rcpt ' "${after[0]}")"
check_grep "requeue: no temporary is left" '^0$' \
	"$(find "$RELAYMAIL_SPOOL" -name '.tmp-*' | wc -l)"

# Temporaries left by a spooling run that was killed: a day old goes,
# a fresh one (perhaps still being written) stays.
rm -f "$RELAYMAIL_SPOOL"/*.msg
echo partial >"$RELAYMAIL_SPOOL/.tmp-OLD123"
touch -d '2 days ago' "$RELAYMAIL_SPOOL/.tmp-OLD123"
echo partial >"$RELAYMAIL_SPOOL/.tmp-NEW123"
RELAYMAIL_URL=$url check_status "stale: -q with nothing spooled exits 0" 0 \
	"$sm" -q
check "stale: the day-old temporary is gone" \
	test ! -e "$RELAYMAIL_SPOOL/.tmp-OLD123"
check "stale: the fresh one stays" test -e "$RELAYMAIL_SPOOL/.tmp-NEW123"
rm -f "$RELAYMAIL_SPOOL/.tmp-NEW123"

# What else may lie in the spool folder: a FIFO is not waited on and a
# symbolic link is not followed; both are left alone, and said.
rm -f "$RELAYMAIL_SPOOL"/*.msg
mkfifo "$RELAYMAIL_SPOOL/1-fifo.msg"
printf 'relaymail-spool 1\nsender \nextract 0\nrcpt l@example.com\n\n%s' \
	$'From: a@example.com\n\nlinked\n' >"$work/elsewhere.msg"
ln -s "$work/elsewhere.msg" "$RELAYMAIL_SPOOL/0-link.msg"
RELAYMAIL_URL=$url check_status "odd files: -q does not wait on a FIFO" 75 \
	timeout 20 "$sm" -q
check_grep "odd files: both are said to be no regular files" '^2$' \
	"$(grep -c 'is not a regular file; left alone' <<<"$last_output")"
check "odd files: the link is neither followed nor removed" \
	test -L "$RELAYMAIL_SPOOL/0-link.msg"
check_status "odd files: -bp does not wait on the FIFO either" 0 \
	timeout 20 "$sm" -bp
rm -f "$RELAYMAIL_SPOOL/1-fifo.msg" "$RELAYMAIL_SPOOL/0-link.msg"

# A spool that sent messages cannot be removed from: nothing is sent,
# or every queue run would send them again. As root, nobody runs -q.
ro_spool="$work/ro-spool"
mkdir -m 700 "$ro_spool"
printf 'relaymail-spool 1\nsender \nextract 0\nrcpt ro@example.com\n\n%s' \
	$'From: a@example.com\n\nread-only\n' >"$ro_spool/1-ro.msg"
at_exit chmod 700 "$ro_spool"
as_spool_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
	else
		"$@"
	fi
}
[ "$(id -u)" -eq 0 ] && chown -R nobody "$ro_spool"
chmod 500 "$ro_spool"
RELAYMAIL_URL=$url RELAYMAIL_SPOOL=$ro_spool check_status \
	"read-only spool: -q sends nothing and exits 73" 73 \
	as_spool_owner "$sm" -q
check_grep "read-only spool: and says why" \
	'cannot remove sent messages from .*ro-spool' "$last_output"
check "read-only spool: the message is still spooled, unsent" \
	test -f "$ro_spool/1-ro.msg" -a ! -e "$work/sink/$((n + 1)).json"

# Refused for good: a message over the sink's size limit is not spooled.
stop_pid "$sink_pid"
start_sink "$work/small" --max-size 2000
small="smtp://127.0.0.1:$sink_port"
big=$(printf 'From: a@example.com\nTo: b@example.com\nSubject: big\n\n'
	head -c 6000 /dev/zero | tr '\0' 'x' | fold -w 70)
RELAYMAIL_URL=$small check_status "refused: too big exits 69" 69 \
	"$sm" -t <<<"$big"
check_grep "refused: nothing spooled" '^0$' \
	"$(find "$RELAYMAIL_SPOOL" -type f | wc -l)"
RELAYMAIL_URL=$small check_status "-oem: the error is mailed back, exit 0" \
	0 "$sm" -oem -t <<<"$big"
check "-oem: the report reached the sender" wait_for_file "$work/small/1.json"
check "-oem: it says why, to the From address" \
	pyq "$work/small/1.eml" "$work/small/1.json" \
	'e["rcpt_to"] == ["a@example.com"]' \
	'e["mail_from"] == "a@example.com"' \
	'"could not be delivered" in body' \
	'"Subject: big" in body'
RELAYMAIL_URL=$small check_status "-oeq: quiet, same exit status" 69 \
	"$sm" -oeq -t <<<"$big"
check_grep "-oeq: nothing on stderr" '^$' "$last_output"

# A bounce (-f '' or -f '<>', the null sender) keeps MAIL FROM:<> through
# the spool, and no error report answers it: a report to a bounce's From
# could bounce in turn (RFC 5321 section 4.5.5, RFC 3834).
bounce=$'From: MAILER-DAEMON@example.com\nTo: b@example.com\nSubject: bounce\n\nreturned\n'
RELAYMAIL_URL="smtp://127.0.0.1:$down" check_status \
	"null sender: -f '' spooled while the relay is down" 0 \
	"$sm" -f '' -t <<<"$bounce"
RELAYMAIL_URL=$small check_status "null sender: -q sends it" 0 "$sm" -q
check "null sender: the sink got it" wait_for_file "$work/small/2.json"
check "null sender: still MAIL FROM:<> after the spool" \
	pyq "$work/small/2.eml" "$work/small/2.json" 'e["mail_from"] == ""'
RELAYMAIL_URL="smtp://127.0.0.1:$down" check_status \
	"null sender: a big bounce spooled" 0 "$sm" -f '' -t <<<"$big"
RELAYMAIL_URL=$small check_status "null sender: -q -oem, refused for good" \
	0 "$sm" -q -oem
check_grep "null sender: -q -oem mails no report" \
	'not mailed back: .*null sender' "$last_output"
RELAYMAIL_URL=$small check_status "null sender: -f '<>' -oem keeps 69" 69 \
	"$sm" -f '<>' -oem -t <<<"$big"
check_grep "null sender: -f '<>' -oem says why no report" \
	'not mailed back: .*null sender' "$last_output"
check "null sender: the sink got no report" test ! -e "$work/small/3.json"
RELAYMAIL_URL=$small check_status "null sender: no From: one is added" 0 \
	"$sm" -f '<>' b@example.com <<<$'Subject: no from\n\nbody'
check "null sender: From is the account, MAIL FROM:<>" \
	pyq "$work/small/3.eml" "$work/small/3.json" 'e["mail_from"] == ""' \
	'"@" in m["From"] and "<>" not in m["From"]'

# A report the relay refuses as well: the first failure's status, said.
stop_pid "$sink_pid"
start_sink "$work/tiny" --max-size 200
RELAYMAIL_URL="smtp://127.0.0.1:$sink_port" check_status \
	"-oem: a refused report keeps the first status" 69 \
	"$sm" -oem -t <<<"$big"
check_grep "-oem: and says the report failed too" \
	'could not be mailed back either' "$last_output"

# DKIM from the URL options signs the message as it is sent (Bcc gone).
openssl genrsa -out "$work/dkim.pem" 2048 2>/dev/null
mkdir -p "$work/signed"
dkim_url="file://$work/signed?dkim_key=$work/dkim.pem"
dkim_url+="&dkim_selector=s1&dkim_domain=example.com"
signed=$'From: a@example.com\nTo: b@example.org\nBcc: c@example.net\n'
signed+=$'Subject: signed\n\nbody\n.dot'
RELAYMAIL_URL=$dkim_url check_status "dkim: a signed raw message is written" \
	0 "$sm" -t <<<"$signed"
check "dkim: the signature verifies (python3-dkim)" \
	"$py" - "$work/signed" "$bin/relaymail-send" "$work/dkim.pem" <<'PY'
import dkim, glob, subprocess, sys
out = subprocess.run([sys.argv[2], "--dkim-dns-record", "--dkim-key",
                      sys.argv[3], "--dkim-selector", "s1", "--dkim-domain",
                      "example.com"], capture_output=True, text=True,
                     check=True).stdout
txt = "".join(out.split("IN TXT", 1)[1].replace('"', "").split())
files = glob.glob(sys.argv[1] + "/*.eml")
assert len(files) == 1, files
msg = open(files[0], "rb").read()
assert b"c@example.net" not in msg
assert dkim.verify(msg, dnsfunc=lambda name, timeout=5: txt.encode())
PY

it_finish
