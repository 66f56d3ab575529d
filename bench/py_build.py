"""The peer of rm_build with Python's email package: builds and
serializes N messages of text + HTML + two 100 KB attachments and prints
"elapsed=SECONDS sent=N". The content is the same as bench_data.h makes.
The time is the process's CPU time, as for the C builders.

    py_build.py N
"""
import sys
import time
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid


def repeat(line, n):
    return (line * (n // len(line) + 1))[:n]


def xorshift(n, seed):
    out = bytearray(n)
    for i in range(n):
        seed ^= (seed << 13) & 0xFFFFFFFF
        seed ^= seed >> 17
        seed ^= (seed << 5) & 0xFFFFFFFF
        out[i] = seed & 0xFF
    return bytes(out)


TEXT = repeat("The quick brown fox jumps over the lazy dog, again and "
              "again.\n", 2048)
HTML = repeat("<p>The quick brown fox jumps over the <b>lazy</b> dog."
              "</p>\n", 4096)
ATTACH = [xorshift(100 * 1024, 2463534242 + i) for i in range(2)]


def one():
    m = EmailMessage(policy=SMTP)
    m["From"] = "bench@example.com"
    m["To"] = "sink@example.com"
    m["Subject"] = "relaymail build bench"
    m["Date"] = formatdate(localtime=True)
    m["Message-ID"] = make_msgid(domain="example.com")
    m.set_content(TEXT)
    m.add_alternative(HTML, subtype="html")
    for i, name in enumerate(("first.bin", "second.bin")):
        m.add_attachment(ATTACH[i], maintype="application",
                         subtype="octet-stream", filename=name)
    return len(m.as_bytes())


def main():
    n = int(sys.argv[1])
    size = 0
    t0 = time.process_time()
    for _ in range(n):
        size += one()
    print("elapsed=%.6f sent=%d bytes_each=%d"
          % (time.process_time() - t0, n, size // n))


if __name__ == "__main__":
    main()
