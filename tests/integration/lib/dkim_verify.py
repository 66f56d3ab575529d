#!/usr/bin/python3
"""Verifies every DKIM signature of a message with dkimpy.

usage: dkim_verify.py MESSAGE RECORD... [--expect-fail]

Each RECORD file holds a zone-file line as relaymail-send
--dkim-dns-record prints it; the DNS lookups are answered from them, so
nothing leaves the machine. Exits 0 when every signature verifies (or,
with --expect-fail, when none does) and prints one line per signature.
"""
import re
import sys

import dkim


def load_records(paths):
    records = {}
    for path in paths:
        with open(path, encoding="ascii") as f:
            line = f.read().strip()
        name = line.split()[0].lower().rstrip(".")
        value = "".join(re.findall(r'"([^"]*)"', line))
        records[name] = value.encode("ascii")
    return records


def main():
    args = [a for a in sys.argv[1:] if a != "--expect-fail"]
    expect_fail = "--expect-fail" in sys.argv
    with open(args[0], "rb") as f:
        msg = f.read()
    records = load_records(args[1:])

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode("ascii")
        return records.get(name.lower().rstrip("."))

    count = len(re.findall(rb"(?im)^dkim-signature:", msg))
    if count == 0:
        print("dkimpy: no DKIM-Signature")
        return 1
    passed = 0
    for i in range(count):
        d = dkim.DKIM(msg, minkey=1024)
        try:
            good = d.verify(idx=i, dnsfunc=dnsfunc)
        except dkim.DKIMException as e:
            print("dkimpy: signature %d: %s" % (i, e))
            good = False
        print("dkimpy: signature %d: %s" % (i, "pass" if good else "fail"))
        passed += 1 if good else 0
    if expect_fail:
        return 0 if passed == 0 else 1
    return 0 if passed == count else 1


if __name__ == "__main__":
    sys.exit(main())
