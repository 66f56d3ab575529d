"""Python's smtplib as a peer: sends N copies of a prepared message over
one reused connection and prints "elapsed=SECONDS sent=N".

    py_smtp.py PORT N MESSAGE_FILE

The message bytes are read once (smtplib is handed bytes, as an
application that already has the message would); the clock covers the
connection, EHLO, every MAIL/RCPT/DATA and QUIT.
"""
import smtplib
import sys
import time


def main():
    port, count, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    with open(path, "rb") as f:
        msg = f.read()
    t0 = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as s:
        s.ehlo()
        for _ in range(count):
            s.sendmail("bench@example.com", ["sink@example.com"], msg)
    print("elapsed=%.6f sent=%d" % (time.perf_counter() - t0, count))


if __name__ == "__main__":
    main()
