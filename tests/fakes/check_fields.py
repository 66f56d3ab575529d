#!/usr/bin/python3
"""Compares the JSON fields a provider received with the expected message.

    check_fields.py sendgrid|postmark RECORD.json EXPECTED.json

RECORD.json is the fake provider's record of one request; EXPECTED.json
is what tests/integration/lib/fixture.sh writes. Prints what differs and
exits 1, or exits 0 when subject, from, to, text, HTML and attachments
(bytes, names, types, content ids) all agree.
"""
import base64
import hashlib
import json
import sys
from email.utils import getaddresses


def crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def from_sendgrid(j):
    p = j["personalizations"][0]
    c = {x["type"]: x["value"] for x in j.get("content", [])}
    return {
        "subject": j["subject"],
        "from": [{"name": j["from"].get("name", ""),
                  "address": j["from"]["email"]}],
        "to": [{"name": a.get("name", ""), "address": a["email"]}
               for a in p["to"]],
        "text": c.get("text/plain"), "html": c.get("text/html"),
        "attachments": [
            {"filename": a["filename"], "content_type": a["type"],
             "data": base64.b64decode(a["content"], validate=True),
             "content_id": a.get("content_id")}
            for a in j.get("attachments", [])],
    }


def addresses(text):
    return [{"name": n, "address": a} for n, a in getaddresses([text])]


def from_postmark(j):
    return {
        "subject": j["Subject"],
        "from": addresses(j["From"]),
        "to": addresses(j["To"]),
        "text": j.get("TextBody"), "html": j.get("HtmlBody"),
        "attachments": [
            {"filename": a["Name"], "content_type": a["ContentType"],
             "data": base64.b64decode(a["Content"], validate=True),
             "content_id": a["ContentID"][4:] if "ContentID" in a else None}
            for a in j.get("Attachments", [])],
    }


def compare(got, want):
    bad = []
    for k in ("subject", "from", "to"):
        if got[k] != want[k]:
            bad.append(f"{k}: got {got[k]!r}, want {want[k]!r}")
    for k in ("text", "html"):
        if crlf(got[k] or "") != crlf(want[k]):
            bad.append(f"{k}: got {got[k]!r}, want {want[k]!r}")
    by_name = {a["filename"]: a for a in got["attachments"]}
    if len(by_name) != len(want["attachments"]):
        bad.append(f"attachments: got {sorted(by_name)}")
    for w in want["attachments"]:
        g = by_name.get(w["filename"])
        if g is None:
            bad.append(f"attachment {w['filename']} missing")
            continue
        if hashlib.sha256(g["data"]).hexdigest() != w["sha256"]:
            bad.append(f"attachment {w['filename']}: bytes differ")
        if g["content_type"] != w["content_type"]:
            bad.append(f"attachment {w['filename']}: type "
                       f"{g['content_type']}")
        if g["content_id"] != w.get("content_id"):
            bad.append(f"attachment {w['filename']}: content id "
                       f"{g['content_id']!r}")
    return bad


def main():
    provider, record, expected = sys.argv[1:4]
    rec = json.load(open(record, encoding="utf-8"))
    want = json.load(open(expected, encoding="utf-8"))
    if rec.get("errors"):
        print("the fake refused the request:", rec["errors"])
        return 1
    conv = from_sendgrid if provider == "sendgrid" else from_postmark
    bad = compare(conv(rec["json"]), want)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
