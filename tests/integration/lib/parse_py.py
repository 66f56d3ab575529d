"""Parses one message with Python's email package and prints what it read
as JSON (the schema compare.py reads). Parsing uses the strict policy, so
any defect the parser notices is an error, as is any part it cannot
decode.

usage: parse_py.py MESSAGE.eml

tests/verify/verify.py reads its messages through walk_parts and
addresses too.
"""
import email
import email.policy
import hashlib
import json
import sys


def addresses(msg, name):
    header = msg[name]
    if header is None:
        return []
    return [{"name": a.display_name, "address": a.addr_spec}
            for a in header.addresses]


def part_info(part):
    # The bytes after the transfer encoding is undone, as sent.
    data = part.get_payload(decode=True) or b""
    cid = part.get("Content-ID")
    return {
        "filename": part.get_filename(),
        "content_type": part.get_content_type(),
        "content_id": str(cid).strip().strip("<>") if cid else None,
        "disposition": part.get_content_disposition(),
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def is_body(part, found):
    """The first inline text/plain or text/html part without a name."""
    ctype = part.get_content_type()
    return (ctype in ("text/plain", "text/html") and ctype not in found
            and part.get_content_disposition() != "attachment"
            and part.get_filename() is None)


def walk_parts(msg):
    found, attachments, defects = {}, [], list(msg.defects)
    for part in msg.walk():
        defects.extend(part.defects)
        if part.is_multipart():
            continue
        if is_body(part, found):
            found[part.get_content_type()] = part.get_content()
        else:
            attachments.append(part_info(part))
    return found, attachments, defects


def parse(path):
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.strict)
    bodies, attachments, defects = walk_parts(msg)
    return {
        "parser": "python-email",
        "subject": str(msg["Subject"]) if msg["Subject"] else None,
        "from": addresses(msg, "From"),
        "to": addresses(msg, "To"),
        "cc": addresses(msg, "Cc"),
        "reply_to": addresses(msg, "Reply-To"),
        "message_id": str(msg["Message-ID"] or ""),
        "date": str(msg["Date"] or ""),
        "mime_version": str(msg["MIME-Version"] or ""),
        "content_type": msg.get_content_type(),
        "text": bodies.get("text/plain"),
        "html": bodies.get("text/html"),
        "attachments": attachments,
        "headers": sorted({k.lower() for k in msg.keys()}),
        "defects": [repr(d) for d in defects],
    }


if __name__ == "__main__":
    json.dump(parse(sys.argv[1]), sys.stdout, ensure_ascii=False, indent=1)
    print()
