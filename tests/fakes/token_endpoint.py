"""A loopback fake of an OAuth2 token endpoint (RFC 6749 section 6,
Google's https://oauth2.googleapis.com/token).

usage: token_endpoint.py --dir DIR --client-id ID --client-secret SECRET
                         --refresh-token TOKEN

It checks each request strictly (POST, form-encoded, grant_type,
client_id, client_secret, refresh_token) and answers according to the
mode in DIR/mode, read at each request (default "ok"):

  ok            200, a new access token "ya29.valid-N", expires_in 3600
  ok:SECONDS    the same with expires_in SECONDS
  stale-first   the next token is "ya29.revoked-N" (the SMTP fake
                refuses it); then the mode becomes ok
  stale-always  every token is revoked
  invalid_grant 400 {"error":"invalid_grant",...}
  5xx           503
  slow          waits 5 s, then answers as ok

Files: DIR/port (the port), DIR/count (requests so far), DIR/N.json
(request N's form fields), DIR/valid (the valid tokens, one a line).
"""
import argparse
import json
import os
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def mode(self):
        try:
            with open(os.path.join(self.server.dir, "mode")) as f:
                return f.read().strip() or "ok"
        except OSError:
            return "ok"

    def record(self, fields):
        self.server.count += 1
        n = self.server.count
        write(os.path.join(self.server.dir, "%d.json" % n),
              json.dumps(fields) + "\n")
        write(os.path.join(self.server.dir, "count"), "%d\n" % n)
        return n

    def check(self, fields):
        a = self.server.args
        ctype = self.headers.get("Content-Type", "")
        if not ctype.startswith("application/x-www-form-urlencoded"):
            return "invalid_request", "not form-encoded"
        if fields.get("grant_type") != "refresh_token":
            return "unsupported_grant_type", "grant_type"
        if fields.get("client_id") != a.client_id:
            return "invalid_client", "client_id"
        if fields.get("client_secret") != a.client_secret:
            return "invalid_client", "client_secret"
        if fields.get("refresh_token") != a.refresh_token:
            return "invalid_grant", "Bad Request"
        return None, None

    def issue(self, n, mode):
        revoked = mode in ("stale-always", "stale-first")
        if mode == "stale-first":
            write(os.path.join(self.server.dir, "mode"), "ok\n")
        token = "ya29.%s-%d" % ("revoked" if revoked else "valid", n)
        if not revoked:
            with open(os.path.join(self.server.dir, "valid"), "a") as f:
                f.write(token + "\n")
        expires = 3600
        if mode.startswith("ok:"):
            expires = int(mode[3:])
        self.answer(200, {"access_token": token, "expires_in": expires,
                          "scope": "https://mail.google.com/",
                          "token_type": "Bearer"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length).decode()
        fields = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
        n = self.record(fields)
        mode = self.mode()
        error, why = self.check(fields)
        if error is not None:
            return self.answer(400 if error != "invalid_client" else 401,
                               {"error": error, "error_description": why})
        if mode == "invalid_grant":
            return self.answer(400, {"error": "invalid_grant",
                                     "error_description": "Token has "
                                     "been expired or revoked."})
        if mode == "5xx":
            return self.answer(503, {"error": "backend_error"})
        if mode == "slow":
            time.sleep(5)
        self.issue(n, mode)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--client-id", required=True)
    p.add_argument("--client-secret", required=True)
    p.add_argument("--refresh-token", required=True)
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.dir = args.dir
    server.args = args
    server.count = 0
    write(os.path.join(args.dir, "port"), "%d\n" % server.server_port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
