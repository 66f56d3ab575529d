#!/usr/bin/python3
"""A fake HTTP mail provider on loopback for relaymail's tests.

    fake_provider.py --provider sendgrid|mailgun|ses|postmark|smtp2go
                     --dir DIR --key KEY [--domain D] [--region R]
                     [--sendgrid-capture]

It checks every request strictly (method, path, auth header, content
type, required fields, base64 that decodes, a MIME message that Python's
email package parses; for SES the SigV4 signature, recomputed with
botocore) and records it as DIR/N.json (plus DIR/N.eml for a raw
message). A request that fails a check gets an answer in the provider's
own error format, so the client sees a failure; one whose credentials
are wrong gets the provider's 401 (SES: 403 with a signature error).

Besides the send endpoint each provider answers the read-only request
rm_transport_check makes (CHECK_ENDPOINTS): SendGrid GET /v3/scopes,
Mailgun GET /v4/domains/DOMAIN, SES GET /v2/email/account (GetAccount),
Postmark GET /server, SMTP2GO POST /v3/stats/email_cycle.

What it answers is steered by DIR/mode, read at each request: absent or
"ok" gives the provider's success; otherwise a JSON object
  {"status": 429, "headers": {"Retry-After": "3"}, "body": {...}}
is sent as it stands ("raw_body": TEXT instead of "body" sends TEXT
byte for byte, as JSON), or {"action": "stall", "seconds": 5} waits without
answering, or {"action": "drop"} closes the connection once the request
was read. The port it listens on is written to DIR/port. With
--tls-cert and --tls-key it speaks HTTPS.
"""
import argparse
import base64
import binascii
import email
import email.policy
import json
import os
import socket
import ssl
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
COUNTER = {"n": 0}
LOCK = threading.Lock()


def b64strict(text, what, errors):
    """Decodes base64 that must carry no line breaks or spaces."""
    if not isinstance(text, str):
        errors.append(f"{what}: not a string")
        return b""
    if any(c in text for c in "\r\n \t"):
        errors.append(f"{what}: base64 holds white space or line breaks")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        errors.append(f"{what}: bad base64: {exc}")
        return b""


def parse_mime(data, errors, what="message"):
    msg = email.message_from_bytes(data, policy=email.policy.default)
    for field in ("From", "Subject", "Date", "Message-ID", "MIME-Version"):
        if msg[field] is None:
            errors.append(f"{what}: no {field} header")
    if msg["Bcc"] is not None:
        errors.append(f"{what}: a Bcc header leaked into the message")
    if msg.defects:
        errors.append(f"{what}: defects {msg.defects}")
    return msg


def need(cond, text, errors):
    if not cond:
        errors.append(text)


def header(h, name):
    return h.get(name) or ""


# ---------------------------------------------------------------------------
# Per-provider checks
# ---------------------------------------------------------------------------

def check_sendgrid(req, errors, extra):
    need(req["path"] == "/v3/mail/send", f"path {req['path']}", errors)
    need(header(req["headers"], "Authorization") == f"Bearer {ARGS.key}",
         "Authorization is not Bearer KEY", errors)
    need(header(req["headers"], "Content-Type").startswith(
        "application/json"), "Content-Type is not application/json", errors)
    body = json.loads(req["body"])
    extra["json"] = body
    pers = body.get("personalizations")
    need(isinstance(pers, list) and pers, "no personalizations", errors)
    seen = set()
    for p in pers or []:
        need(p.get("to"), "a personalization without to", errors)
        for kind in ("to", "cc", "bcc"):
            for a in p.get(kind, []):
                need("email" in a, f"{kind} entry without email", errors)
                addr = a.get("email", "").lower()
                need(addr not in seen, f"duplicate address {addr}", errors)
                seen.add(addr)
    need(isinstance(body.get("from"), dict) and "email" in body["from"],
         "no from.email", errors)
    need(not ("reply_to" in body and "reply_to_list" in body),
         "reply_to together with reply_to_list", errors)
    need("subject" in body, "no subject", errors)
    types = [c.get("type") for c in body.get("content", [])]
    need(types in (["text/plain"], ["text/html"],
                   ["text/plain", "text/html"], []),
         f"content types in the wrong order: {types}", errors)
    for i, a in enumerate(body.get("attachments", [])):
        b64strict(a.get("content"), f"attachments[{i}].content", errors)
        need(a.get("filename"), f"attachments[{i}] without filename", errors)
        need(a.get("disposition") in ("attachment", "inline"),
             f"attachments[{i}] disposition", errors)
        if a.get("disposition") == "inline":
            need(a.get("content_id"), f"attachments[{i}] inline without "
                 "content_id", errors)


def split_form(req):
    """Splits multipart/form-data by hand, keeping part bytes exact."""
    ctype = header(req["headers"], "Content-Type")
    boundary = ctype.split("boundary=", 1)[1].strip('"').encode()
    parts = req["raw"].split(b"--" + boundary)
    fields = []
    for chunk in parts[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk[2:].partition(b"\r\n\r\n")
        data = data[:-2] if data.endswith(b"\r\n") else data
        hmsg = email.message_from_bytes(head + b"\r\n\r\n",
                                        policy=email.policy.HTTP)
        name = hmsg.get_param("name", header="content-disposition")
        fname = hmsg.get_param("filename", header="content-disposition")
        fields.append((name, fname, data))
    return fields


def check_mailgun(req, errors, extra):
    want = f"/v3/{ARGS.domain}/messages.mime"
    need(req["path"] == want, f"path {req['path']} is not {want}", errors)
    cred = base64.b64encode(f"api:{ARGS.key}".encode()).decode()
    need(header(req["headers"], "Authorization") == f"Basic {cred}",
         "Authorization is not Basic api:KEY", errors)
    need(header(req["headers"], "Content-Type").startswith(
        "multipart/form-data"), "Content-Type is not form-data", errors)
    fields = split_form(req)
    extra["fields"] = [[n, f, d.decode("utf-8", "replace")]
                       for n, f, d in fields if n != "message"]
    tos = [d for n, _, d in fields if n == "to"]
    need(tos, "no to field", errors)
    msgs = [(f, d) for n, f, d in fields if n == "message"]
    need(len(msgs) == 1 and msgs[0][0], "not exactly one message file",
         errors)
    if msgs:
        extra["eml"] = msgs[0][1]
        parse_mime(msgs[0][1], errors)


class FixedTimeSigV4:
    """botocore's SigV4Auth at the time the request says it was signed."""

    @staticmethod
    def authorization(req, token):
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        access, secret = ARGS.key.split(":", 1)
        creds = Credentials(access, secret, token)
        headers = {"Host": header(req["headers"], "Host")}
        if "Content-Type" in req["headers"]:  # a GET carries none
            headers["Content-Type"] = req["headers"]["Content-Type"]
        aws = AWSRequest(method=req["method"],
                         url="http://" + headers["Host"] + req["path"],
                         data=req["raw"], headers=headers)
        auth = SigV4Auth(creds, "ses", ARGS.region)
        aws.context["timestamp"] = header(req["headers"], "X-Amz-Date")
        auth._modify_request_before_signing(aws)
        canonical = auth.canonical_request(aws)
        sts = auth.string_to_sign(aws, canonical)
        auth._inject_signature_to_request(aws, auth.signature(sts, aws))
        return aws.headers["Authorization"], canonical


def check_ses(req, errors, extra):
    need(req["path"] == "/v2/email/outbound-emails",
         f"path {req['path']}", errors)
    need(header(req["headers"], "Content-Type").startswith(
        "application/json"), "Content-Type is not application/json", errors)
    token = req["headers"].get("X-Amz-Security-Token")
    want, canonical = FixedTimeSigV4.authorization(req, token)
    got = header(req["headers"], "Authorization")
    extra["botocore_canonical"] = canonical
    if got != want:
        extra["signature_mismatch"] = {"got": got, "want": want}
        return
    body = json.loads(req["body"])
    extra["json"] = body
    raw = body.get("Content", {}).get("Raw", {})
    data = b64strict(raw.get("Data"), "Content.Raw.Data", errors)
    extra["eml"] = data
    parse_mime(data, errors)
    dest = body.get("Destination", {})
    need(dest.get("ToAddresses") or dest.get("CcAddresses") or
         dest.get("BccAddresses"), "no Destination", errors)


def check_postmark(req, errors, extra):
    need(req["path"] == "/email", f"path {req['path']}", errors)
    need(header(req["headers"], "X-Postmark-Server-Token") == ARGS.key,
         "X-Postmark-Server-Token is not the token", errors)
    need(header(req["headers"], "Accept") == "application/json",
         "Accept is not application/json", errors)
    need(header(req["headers"], "Content-Type").startswith(
        "application/json"), "Content-Type is not application/json", errors)
    body = json.loads(req["body"])
    extra["json"] = body
    for f in ("From", "To", "Subject"):
        need(isinstance(body.get(f), str), f"no {f}", errors)
    need("TextBody" in body or "HtmlBody" in body, "no body", errors)
    for h in body.get("Headers", []):
        v = h.get("Value", "")
        need(all(0x20 <= ord(c) < 0x7f for c in v),
             f"header {h.get('Name')} value not printable ASCII: {v!r}",
             errors)
    for i, a in enumerate(body.get("Attachments", [])):
        b64strict(a.get("Content"), f"Attachments[{i}].Content", errors)
        need(a.get("Name") and a.get("ContentType"),
             f"Attachments[{i}] without Name or ContentType", errors)
        if "ContentID" in a:
            need(a["ContentID"].startswith("cid:"),
                 f"Attachments[{i}].ContentID without cid:", errors)


def check_smtp2go(req, errors, extra):
    need(req["path"] == "/v3/email/mime", f"path {req['path']}", errors)
    need(header(req["headers"], "X-Smtp2go-Api-Key") == ARGS.key,
         "X-Smtp2go-Api-Key is not the key", errors)
    need(header(req["headers"], "Content-Type").startswith(
        "application/json"), "Content-Type is not application/json", errors)
    body = json.loads(req["body"])
    data = b64strict(body.get("mime_email"), "mime_email", errors)
    extra["eml"] = data
    parse_mime(data, errors)


CHECKS = {"sendgrid": check_sendgrid, "mailgun": check_mailgun,
          "ses": check_ses, "postmark": check_postmark,
          "smtp2go": check_smtp2go}


# ---------------------------------------------------------------------------
# The read-only endpoints of rm_transport_check
# ---------------------------------------------------------------------------

def check_endpoint():
    """(method, path) of the provider's read-only check request."""
    return {"sendgrid": ("GET", "/v3/scopes"),
            "mailgun": ("GET", f"/v4/domains/{ARGS.domain}"),
            "ses": ("GET", "/v2/email/account"),
            "postmark": ("GET", "/server"),
            "smtp2go": ("POST", "/v3/stats/email_cycle")}[ARGS.provider]


def is_check_request(req):
    """A request on the check endpoint's path, or any GET."""
    return req["method"] == "GET" or req["path"] == check_endpoint()[1]


def auth_ok(req, errors, extra):
    """Checks the credentials the way the provider reads them."""
    h = req["headers"]
    p = ARGS.provider
    if p == "sendgrid":
        return header(h, "Authorization") == f"Bearer {ARGS.key}"
    if p == "mailgun":
        cred = base64.b64encode(f"api:{ARGS.key}".encode()).decode()
        return header(h, "Authorization") == f"Basic {cred}"
    if p == "postmark":
        return header(h, "X-Postmark-Server-Token") == ARGS.key
    if p == "smtp2go":
        return header(h, "X-Smtp2go-Api-Key") == ARGS.key
    want, canonical = FixedTimeSigV4.authorization(
        req, h.get("X-Amz-Security-Token"))
    extra["botocore_canonical"] = canonical
    if header(h, "Authorization") != want:
        extra["signature_mismatch"] = {"got": header(h, "Authorization"),
                                       "want": want}
    return header(h, "Authorization") == want


def check_check(req, errors, extra):
    """The check request: method, path, no body on a GET, credentials."""
    extra["kind"] = "check"
    method, path = check_endpoint()
    need(req["method"] == method, f"method {req['method']} is not "
         f"{method}", errors)
    need(req["path"] == path, f"path {req['path']} is not {path}", errors)
    if method == "GET":
        need(req["raw"] == b"", "a GET with a body", errors)
        need("Content-Type" not in req["headers"],
             "a GET with a Content-Type", errors)
    if ARGS.provider == "smtp2go":
        need(header(req["headers"], "Content-Type").startswith(
            "application/json"), "Content-Type is not application/json",
            errors)
        need(isinstance(json.loads(req["body"]), dict),
             "the body is not a JSON object", errors)
    if ARGS.provider in ("sendgrid", "postmark", "mailgun"):
        need(header(req["headers"], "Accept") == "application/json",
             "Accept is not application/json", errors)
    if not errors and not auth_ok(req, errors, extra):
        extra["auth_failed"] = True


def check_success():
    """The provider's answer to a good check request."""
    p = ARGS.provider
    if p == "sendgrid":
        return 200, {}, {"scopes": ["mail.send", "user.profile.read"]}
    if p == "mailgun":
        return 200, {}, {"domain": {"name": ARGS.domain, "state": "active",
                                    "type": "custom"},
                         "receiving_dns_records": [],
                         "sending_dns_records": []}
    if p == "ses":
        return 200, {}, {"SendingEnabled": True,
                         "ProductionAccessEnabled": False,
                         "EnforcementStatus": "HEALTHY",
                         "SendQuota": {"Max24HourSend": 200.0,
                                       "MaxSendRate": 1.0,
                                       "SentLast24Hours": 0.0}}
    if p == "postmark":
        return 200, {}, {"ID": 1, "Name": "Fake Server", "Color": "red"}
    return 200, {}, {"request_id": "req-cycle",
                     "data": {"cycle_start": "2024-01-01T00:00:00Z",
                              "cycle_end": "2024-02-01T00:00:00Z",
                              "cycle_max": 1000, "cycle_used": 10,
                              "cycle_remaining": 990}}


def auth_failure():
    """The provider's answer to wrong credentials."""
    p = ARGS.provider
    if p == "sendgrid":
        return 401, {}, {"errors": [{"field": None,
                                     "message": "authorization required"}]}
    if p == "mailgun":
        return 401, {}, {"message": "Invalid private key"}
    if p == "postmark":
        return 401, {}, {"ErrorCode": 10, "Message": "Request does not "
                         "contain a valid Server token."}
    return 401, {}, {"data": {"error": "Invalid API key",
                              "error_code": "E_ApiResponseCodes."
                              "API_KEY_INVALID"}}


# ---------------------------------------------------------------------------
# Answers
# ---------------------------------------------------------------------------

def success(n):
    p = ARGS.provider
    if p == "sendgrid":
        return 202, {"X-Message-Id": f"fake-sg-{n}"}, None
    if p == "mailgun":
        return 200, {}, {"id": f"<fake-mg-{n}@{ARGS.domain}>",
                         "message": "Queued. Thank you."}
    if p == "ses":
        return 200, {}, {"MessageId": f"fake-ses-{n}"}
    if p == "postmark":
        return 200, {}, {"To": "x", "SubmittedAt": "2024-01-02T03:04:05Z",
                         "MessageID": f"fake-pm-{n}", "ErrorCode": 0,
                         "Message": "OK"}
    return 200, {}, {"request_id": f"req-{n}",
                     "data": {"succeeded": 1, "failed": 0, "failures": [],
                              "email_id": f"fake-s2g-{n}"}}


def check_failure(errors, extra):
    """The provider's own error answer for a request that failed a check."""
    p = ARGS.provider
    text = "fake: " + "; ".join(errors)
    if p == "ses" and "signature_mismatch" in extra:
        return 403, {"x-amzn-ErrorType": "InvalidSignatureException:"}, {
            "message": "The request signature we calculated does not "
            "match the signature you provided. Check your AWS Secret "
            "Access Key and signing method."}
    if p == "sendgrid":
        return 400, {}, {"errors": [{"message": text, "field": None}]}
    if p == "ses":
        return 400, {"x-amzn-ErrorType": "BadRequestException:"}, {
            "message": text}
    if p == "postmark":
        return 422, {}, {"ErrorCode": 300, "Message": text}
    if p == "smtp2go":
        return 400, {}, {"data": {"error": text,
                                  "error_code": "E_ApiResponseCodes.TEST"}}
    return 400, {}, {"message": text}


def read_mode():
    try:
        with open(os.path.join(ARGS.dir, "mode")) as f:
            text = f.read().strip()
    except FileNotFoundError:
        return None
    return None if text in ("", "ok") else json.loads(text)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("fake: " + fmt % args + "\n")

    def answer(self, status, headers, body, raw_body=None):
        data = b"" if body is None else json.dumps(body).encode()
        if raw_body is not None:
            data = raw_body.encode()
        self.send_response_only(status)
        if not any(k.lower() == "date" for k in headers):
            self.send_header("Date", formatdate(usegmt=True))
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.do_POST()

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        with LOCK:
            COUNTER["n"] += 1
            n = COUNTER["n"]
        req = {"method": self.command, "path": self.path,
               "headers": dict(self.headers.items()), "raw": raw,
               "body": raw.decode("utf-8", "replace")}
        errors, extra = [], {}
        checking = is_check_request(req)
        try:
            (check_check if checking else CHECKS[ARGS.provider])(
                req, errors, extra)
        except Exception as exc:  # a malformed request is a failed check
            errors.append(f"unreadable request: {exc!r}")
        self.record(n, req, errors, extra)
        mode = read_mode()
        if errors or "signature_mismatch" in extra:
            self.answer(*check_failure(errors, extra))
        elif extra.get("auth_failed"):
            self.answer(*auth_failure())
        elif mode is None:
            self.answer(*(check_success() if checking else success(n)))
        elif mode.get("action") == "stall":
            time.sleep(mode.get("seconds", 5))
            self.close_connection = True
        elif mode.get("action") == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self.answer(mode["status"], mode.get("headers", {}),
                        mode.get("body", mode.get("raw_body") and {}),
                        mode.get("raw_body"))

    def record(self, n, req, errors, extra):
        out = {k: v for k, v in req.items() if k != "raw"}
        out["errors"] = errors
        eml = extra.pop("eml", None)
        if eml is not None:
            with open(os.path.join(ARGS.dir, f"{n}.eml"), "wb") as f:
                f.write(eml)
        out.update(extra)
        tmp = os.path.join(ARGS.dir, f".{n}.json")
        with open(tmp, "w") as f:
            json.dump(out, f, indent=1)
        os.rename(tmp, os.path.join(ARGS.dir, f"{n}.json"))


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--provider", required=True, choices=sorted(CHECKS))
    ap.add_argument("--dir", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--domain", default="mg.example.com")
    ap.add_argument("--region", default="eu-west-1")
    ap.add_argument("--tls-cert", help="serve HTTPS with this PEM chain")
    ap.add_argument("--tls-key")
    ARGS = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if ARGS.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.tls_cert, ARGS.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    tmp = os.path.join(ARGS.dir, ".port")
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, os.path.join(ARGS.dir, "port"))
    # Ends by itself after an hour so a crashed test leaves nothing behind.
    threading.Timer(3600, lambda: os._exit(0)).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
