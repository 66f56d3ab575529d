"""Reads one message with Python's email package (strict policy: every
defect the parser notices is an error) and compares it field by field
with the expectation JSON that tests/verify/build_samples.c wrote.
Attachments are compared byte for byte through their SHA-256.

usage: /usr/bin/python3 verify.py MESSAGE.eml EXPECTED.json

Prints one line per difference and exits 1 if there is any.
"""
import email
import email.policy
import json
import os
import re
import sys

# Which parts are bodies and what a part is: shared with the
# integration scripts (tests/integration/lib/parse_py.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration", "lib"))
import parse_py  # noqa: E402


def wire_problems(raw, utf8_headers):
    """Checks on the bytes themselves: CRLF only, lines <= 998, ASCII
    headers unless the message needs SMTPUTF8 (RFC 6532)."""
    problems = []
    if re.search(rb"(?<!\r)\n|\r(?!\n)", raw):
        problems.append("wire: a bare CR or LF")
    for i, line in enumerate(raw.split(b"\r\n")):
        if len(line) > 998:
            problems.append("wire: line %d is %d octets" % (i + 1,
                                                            len(line)))
    head = raw.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        if any(b > 0x7E for b in line) and not utf8_headers:
            problems.append("wire: 8-bit header line %r" % line[:60])
    return problems


def addresses(msg, name):
    return [[a["name"], a["address"]]
            for a in parse_py.addresses(msg, name)]


def norm_text(s):
    return None if s is None else s.replace("\r\n", "\n").rstrip("\n")


def diff(problems, field, want, got):
    if want != got:
        problems.append("%s: built %r, parsed %r" % (field, want, got))


def compare_attachments(problems, want, got):
    left = list(got)
    for w in want:
        match = [a for a in left if a["filename"] == w["filename"]]
        if not match:
            problems.append("attachment %r: missing (parsed: %r)" %
                            (w["filename"], [a["filename"] for a in left]))
            continue
        left.remove(match[0])
        for key in ("content_type", "sha256", "size", "content_id"):
            if key in w:
                diff(problems, "attachment %r %s" % (w["filename"], key),
                     w[key], match[0][key])
    if left:
        problems.append("unexpected parts: %r" %
                        [a["filename"] for a in left])


def compare_headers(problems, msg, want):
    for name, value in want.get("headers", {}).items():
        got = msg[name]
        diff(problems, "header " + name, value,
             None if got is None else str(got))
    for name in want.get("absent_headers", []):
        if msg[name] is not None:
            problems.append("header %r present but must not be" % name)
    if len(msg.get_all("Date") or []) != 1 or msg["Date"].datetime is None:
        problems.append("Date: not exactly one valid Date")
    mid = str(msg["Message-ID"] or "")
    if not re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", mid):
        problems.append("Message-ID: not <left@right>: %r" % mid)
    diff(problems, "MIME-Version", "1.0", str(msg["MIME-Version"]))


def compare(raw, msg, want):
    problems = wire_problems(raw, want.get("utf8_headers", False))
    bodies, attachments, defects = parse_py.walk_parts(msg)
    if defects:
        problems.append("defects: %r" % defects)
    compare_headers(problems, msg, want)
    if "subject" in want:
        diff(problems, "subject", want["subject"], str(msg["Subject"]))
    for field, name in (("from", "From"), ("to", "To"), ("cc", "Cc"),
                        ("reply_to", "Reply-To")):
        if field in want:
            diff(problems, field,
                 [[a["name"], a["address"]] for a in want[field]],
                 addresses(msg, name))
    for field, ctype in (("text", "text/plain"), ("html", "text/html")):
        diff(problems, field, norm_text(want.get(field)),
             norm_text(bodies.get(ctype)))
    compare_attachments(problems, want.get("attachments", []), attachments)
    return problems


def main():
    with open(sys.argv[1], "rb") as f:
        raw = f.read()
    with open(sys.argv[2], encoding="utf-8") as f:
        want = json.load(f)
    try:
        if want.get("utf8_headers"):
            # RFC 6532 headers: the bytes parser would leave surrogates.
            msg = email.message_from_string(raw.decode("utf-8"),
                                            policy=email.policy.strict)
        else:
            msg = email.message_from_bytes(raw, policy=email.policy.strict)
        problems = compare(raw, msg, want)
    except Exception as e:  # strict policy raises on defects
        problems = ["python email raised %s: %s" % (type(e).__name__, e)]
    for p in problems:
        print("python: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
