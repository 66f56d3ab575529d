"""Compares what a parser read (parse_py.py or parse_node.js output) with
what the test sent, field by field, attachments byte for byte (by their
SHA-256). Prints one line per difference and exits 1 if there is any.

usage: compare.py EXPECTED.json PARSED.json

EXPECTED.json holds the fields to check; a field left out is not checked:
  subject, text, html: strings
  from, to, cc, reply_to: lists of {"name": ..., "address": ...}
  attachments: list of {"filename", "content_type", "sha256", "size",
                        "content_id" (optional)}
  absent_headers: header names that must not appear (such as "bcc")
"""
import json
import re
import sys


def norm_text(s):
    if s is None:
        return None
    return s.replace("\r\n", "\n").rstrip("\n")


def norm_addrs(lst):
    return [(a.get("name") or "", a.get("address") or "") for a in lst]


def diff(problems, field, want, got):
    if want != got:
        problems.append("%s: sent %r, parsed %r" % (field, want, got))


def compare_attachment(problems, want, got):
    name = want["filename"]
    for key in ("content_type", "sha256", "size", "content_id"):
        if key not in want:
            continue
        have = got.get(key)
        if key == "content_type" and have:
            have = have.split(";")[0].strip().lower()
        diff(problems, "attachment %r %s" % (name, key), want[key], have)


def compare_attachments(problems, want, got):
    by_name = {}
    for a in got:
        by_name.setdefault(a.get("filename"), []).append(a)
    for w in want:
        found = by_name.get(w["filename"])
        if not found:
            problems.append("attachment %r: missing (parsed names: %r)" %
                            (w["filename"], [a.get("filename") for a in got]))
            continue
        compare_attachment(problems, w, found.pop(0))
    extra = [a.get("filename") for lst in by_name.values() for a in lst]
    if extra:
        problems.append("unexpected attachments: %r" % extra)


def compare_basics(problems, got):
    mid = got.get("message_id", "").strip().strip("<>")
    if not re.fullmatch(r"[^<>@\s]+@[^<>@\s]+", mid):
        problems.append("message_id: not <left@right>: %r" %
                        got.get("message_id"))
    if not got.get("date"):
        problems.append("date: missing")
    if got.get("defects"):
        problems.append("defects: %r" % got["defects"])


def compare(want, got):
    problems = []
    compare_basics(problems, got)
    if "subject" in want:
        diff(problems, "subject", want["subject"], got.get("subject"))
    for field in ("from", "to", "cc", "reply_to"):
        if field in want:
            diff(problems, field, norm_addrs(want[field]),
                 norm_addrs(got.get(field, [])))
    for field in ("text", "html"):
        if field in want:
            diff(problems, field, norm_text(want[field]),
                 norm_text(got.get(field)))
    if "attachments" in want:
        compare_attachments(problems, want["attachments"],
                            got.get("attachments", []))
    for name in want.get("absent_headers", []):
        if name.lower() in got.get("headers", []):
            problems.append("header %r: present but must not be" % name)
    return problems


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        want = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        got = json.load(f)
    problems = compare(want, got)
    for p in problems:
        print("%s: %s" % (got.get("parser", "parser"), p))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
