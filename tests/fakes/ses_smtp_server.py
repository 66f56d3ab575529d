#!/usr/bin/python3
"""A loopback SMTP server that logs in only with an SES SMTP password.

    ses_smtp_server.py --dir DIR --access AKID --secret SECRET --region R

The password it expects is derived here, independently of relaymail, by
AWS's documented algorithm (HMAC-SHA256 chain over "11111111", the
region, "ses", "aws4_request" and "SendRawEmail", version byte 4,
base64). AUTH PLAIN and LOGIN; no TLS (loopback only). Each message is
stored as DIR/N.eml and its envelope as DIR/N.json; DIR/port gets the
port.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import socketserver
import threading

ARGS = None
COUNT = {"n": 0}


def ses_smtp_password(secret, region):
    def sign(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()
    k = sign(("AWS4" + secret).encode(), "11111111")
    for part in (region, "ses", "aws4_request", "SendRawEmail"):
        k = sign(k, part)
    return base64.b64encode(b"\x04" + k).decode()


class Handler(socketserver.StreamRequestHandler):
    def say(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def line(self):
        return self.rfile.readline().decode("utf-8", "replace").rstrip(
            "\r\n")

    def login(self, user, password):
        want = ses_smtp_password(ARGS.secret, ARGS.region)
        self.authed = user == ARGS.access and password == want
        self.say("235 2.7.0 Authentication successful" if self.authed
                 else "535 5.7.8 Authentication Credentials Invalid")

    def auth(self, args):
        parts = args.split()
        if parts[0].upper() == "PLAIN":
            blob = parts[1] if len(parts) > 1 else None
            if blob is None:
                self.say("334 ")
                blob = self.line()
            _, user, password = base64.b64decode(blob).decode().split("\0")
            self.login(user, password)
        elif parts[0].upper() == "LOGIN":
            self.say("334 VXNlcm5hbWU6")
            user = base64.b64decode(self.line()).decode()
            self.say("334 UGFzc3dvcmQ6")
            self.login(user, base64.b64decode(self.line()).decode())
        else:
            self.say("504 5.5.4 Unrecognized authentication type")

    def data(self, env):
        self.say("354 End data with <CR><LF>.<CR><LF>")
        lines = []
        while True:
            raw = self.rfile.readline()
            if raw in (b".\r\n", b""):
                break
            lines.append(raw[1:] if raw.startswith(b"..") else raw)
        COUNT["n"] += 1
        n = COUNT["n"]
        with open(os.path.join(ARGS.dir, f"{n}.eml"), "wb") as f:
            f.write(b"".join(lines))
        with open(os.path.join(ARGS.dir, f"{n}.json"), "w") as f:
            json.dump(env, f)
        self.say(f"250 Ok 0102018c-ses-{n}")

    def handle(self):
        self.authed = False
        env = {"from": None, "rcpts": []}
        self.say("220 email-smtp.amazonaws.com ESMTP SimpleEmailService")
        while True:
            cmd = self.line()
            verb = cmd[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.say("250-email-smtp.amazonaws.com")
                self.say("250-8BITMIME")
                self.say("250-SIZE 10485760")
                self.say("250 AUTH PLAIN LOGIN")
            elif verb == "AUTH":
                self.auth(cmd[5:])
            elif verb == "MAIL":
                if not self.authed:
                    self.say("530 5.7.1 Authentication required")
                    continue
                env = {"from": cmd[10:].split(">")[0].lstrip("<"),
                       "rcpts": []}
                self.say("250 Ok")
            elif verb == "RCPT":
                env["rcpts"].append(cmd[8:].split(">")[0].lstrip("<"))
                self.say("250 Ok")
            elif verb == "DATA":
                self.data(env)
            elif verb in ("RSET", "NOOP"):
                self.say("250 Ok")
            elif verb == "QUIT" or cmd == "":
                self.say("221 Bye")
                return
            else:
                self.say("502 5.5.2 Command not implemented")


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    for a in ("--dir", "--access", "--secret", "--region"):
        ap.add_argument(a, required=True)
    ARGS = ap.parse_args()
    server = socketserver.TCPServer(("127.0.0.1", 0), Handler)
    tmp = os.path.join(ARGS.dir, ".port")
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, os.path.join(ARGS.dir, "port"))
    threading.Timer(3600, lambda: os._exit(0)).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
