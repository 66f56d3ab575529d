#!/usr/bin/python3
"""Compares two SendGrid v3 requests recorded by the fake provider.

    compare_sendgrid.py OURS.json THEIRS.json

The requests must carry the same message: recipients (by kind, with
names), from, reply-to, subject, content (in order, line ends aside),
attachments (bytes, names, types, disposition, content ids), headers,
categories and custom args. Field order and JSON layout do not count.
"""
import base64
import json
import sys


def people(lst):
    return sorted((a["email"].lower(), a.get("name", "")) for a in lst or [])


def one(a):
    return None if a is None else (a["email"].lower(), a.get("name", ""))


def norm(rec):
    if rec.get("errors"):
        sys.exit(f"the fake refused a request: {rec['errors']}")
    j = rec["json"]
    pers = j["personalizations"]
    out = {
        "to": people(sum((p.get("to", []) for p in pers), [])),
        "cc": people(sum((p.get("cc", []) for p in pers), [])),
        "bcc": people(sum((p.get("bcc", []) for p in pers), [])),
        "from": one(j.get("from")),
        "reply_to": one(j.get("reply_to")),
        "reply_to_list": people(j.get("reply_to_list")),
        "subject": j.get("subject"),
        "content": [(c["type"], c["value"].replace("\r\n", "\n"))
                    for c in j.get("content", [])],
        "attachments": sorted(
            (a["filename"], a.get("type"), a.get("disposition",
                                                  "attachment"),
             a.get("content_id"), base64.b64decode(a["content"]))
            for a in j.get("attachments", [])),
        "headers": j.get("headers", {}),
        "categories": sorted(j.get("categories", [])),
        "custom_args": j.get("custom_args", {}),
    }
    return out


def main():
    ours = norm(json.load(open(sys.argv[1], encoding="utf-8")))
    theirs = norm(json.load(open(sys.argv[2], encoding="utf-8")))
    bad = [k for k in ours if ours[k] != theirs[k]]
    for k in bad:
        print(f"{k}:\n  relaymail:      {ours[k]!r}\n"
              f"  @sendgrid/mail: {theirs[k]!r}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
