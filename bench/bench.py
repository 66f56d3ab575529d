"""relaymail's benchmark harness (run by bench/run.sh, `make bench`).

Starts its own loopback peers, runs every workload for relaymail and for
each peer in alternating rounds (ours, peer, peer, ours, peer, peer...)
so that drift of the machine hits all sides alike, and writes
docs/benchmarks.md: median, min and max over the runs, the ratio of our
median to each peer's, the target, the machine and the versions. It
reports; it never fails because of a time.

Environment:
    BENCH_QUICK=1   fewer messages per run (same number of runs), for a
                    run in under two minutes
    BENCH_RUNS=N    runs per contender (default 7, 5 with BENCH_QUICK;
                    on a shared machine the extra runs steady the medians)
    BENCH_ONLY=a,b  only these workloads (by key), for working on one
    BENCH_OUT=PATH  where to write the report (docs/benchmarks.md)
"""
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(TOP, "build", "bin")
BB = os.path.join(TOP, "build", "bench")
WORK = os.path.join(BB, "work")
PY = "/usr/bin/python3"
QUICK = os.environ.get("BENCH_QUICK") == "1"
RUNS = int(os.environ.get("BENCH_RUNS", "5" if QUICK else "7"))
ONLY = [k for k in os.environ.get("BENCH_ONLY", "").split(",") if k]
OUT = os.environ.get("BENCH_OUT", os.path.join(TOP, "docs", "benchmarks.md"))
NODE_ENV = dict(os.environ, NODE_PATH=os.path.join(TOP, "bench",
                                                    "node_modules"))
FROM, TO = "bench@example.com", "sink@example.com"
SG_KEY = "SG.bench-key"


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Peers: servers started for the run and stopped at the end
# ---------------------------------------------------------------------------

class Servers:
    def __init__(self):
        self.procs = []

    def start(self, argv, port, name, env=None):
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=env,
                             start_new_session=True)
        self.procs.append(p)
        wait_port(port, name)
        return p

    def stop(self):
        for p in reversed(self.procs):
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, name):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen on port %d" % (name, port))


def start_smtp_sink(srv):
    port = free_port()
    argv = ["smtp-sink"]
    if os.geteuid() == 0:
        argv += ["-u", "nobody"]
    srv.start(argv + ["127.0.0.1:%d" % port, "1000"], port, "smtp-sink")
    return port


def start_tls_sink(srv):
    certs = os.path.join(WORK, "certs")
    subprocess.run(["bash", "-c", '. "$1"; make_certs "$2"', "certs",
                    os.path.join(TOP, "tests/integration/lib/certs.sh"),
                    certs], check=True)
    port = free_port()
    srv.start([os.path.join(BB, "tls_sink"), "--cert",
               os.path.join(certs, "server.pem"), "--key",
               os.path.join(certs, "server.key"), "--port", str(port)],
              port, "tls_sink")
    return port, os.path.join(certs, "ca.pem")


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

def make_inputs():
    os.makedirs(WORK, exist_ok=True)
    line = ("The quick brown fox jumps over the lazy dog; the lazy dog "
            "sleeps on.\n")
    body = (line * (10240 // len(line) + 1))[:10240 - 1] + "\n"
    with open(os.path.join(WORK, "body.txt"), "w") as f:
        f.write(body)
    head = ("From: %s\nTo: %s\nSubject: relaymail bench\n"
            "Date: Thu, 1 Jan 2026 00:00:00 +0000\n"
            "Message-ID: <bench@example.com>\nMIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: 7bit\n\n" % (FROM, TO))
    # smtp-source adds CRLF to each line itself; the others get CRLF.
    with open(os.path.join(WORK, "msg_lf.eml"), "w") as f:
        f.write(head + body)
    with open(os.path.join(WORK, "msg.eml"), "w", newline="") as f:
        f.write((head + body).replace("\n", "\r\n"))
    with open(os.path.join(WORK, "msmtprc"), "w") as f:
        f.write("defaults\n")
    os.chmod(os.path.join(WORK, "msmtprc"), 0o600)


def big_file(mb):
    path = os.path.join(WORK, "big_%dmb.bin" % mb)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            for _ in range(mb):
                f.write(os.urandom(1 << 20))
    return path


def curl_config(port, count, ca=None):
    """A curl config that sends count messages over one connection."""
    path = os.path.join(WORK, "curl_%d_%d%s.cfg" % (port, count,
                                                   "_tls" if ca else ""))
    block = ('url = "smtp://%s:%d"\nmail-from = "%s"\n'
             'mail-rcpt = "%s"\nupload-file = "%s"\n'
             % ("localhost" if ca else "127.0.0.1", port, FROM, TO,
                os.path.join(WORK, "msg.eml")))
    if ca:
        block += 'ssl-reqd\ncacert = "%s"\n' % ca
    with open(path, "w") as f:
        f.write("next\n".join([block] * count))
    return path


# ---------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------

class Contender:
    """One side of a workload: a command and how to read its figure."""

    def __init__(self, name, argv, count=1, unit="msg/s", ours=False,
                 env=None, field=None, info=False, stdin=None):
        self.name, self.argv, self.count = name, argv, count
        self.unit, self.ours, self.env = unit, ours, env
        self.field, self.info, self.stdin = field, info, stdin
        self.values, self.error = [], None

    def measure(self):
        if self.error is not None:
            return
        t0 = time.perf_counter()
        try:
            p = subprocess.run(self.argv, capture_output=True, text=True,
                               env=self.env, timeout=600, cwd=WORK,
                               stdin=open(self.stdin) if self.stdin
                               else subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            self.error = "timed out after 600 s"
            return
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            self.error = "exit %d: %s" % (p.returncode,
                                         (p.stderr or p.stdout)[-300:])
            log("%s failed: %s" % (self.name, self.error))
            return
        kv = dict(re.findall(r"(\w+)=([0-9.]+)", p.stdout))
        self.values.append(self.figure(kv, wall))

    def figure(self, kv, wall):
        if self.field is not None:
            return float(kv[self.field])
        elapsed = float(kv.get("elapsed", wall))
        return self.count / elapsed

    def stats(self):
        if not self.values:
            return None
        return (statistics.median(self.values), min(self.values),
                max(self.values))


class Workload:
    def __init__(self, key, title, what, contenders, targets, limits,
                 higher_is_better=True, notes=None):
        self.key, self.title, self.what = key, title, what
        self.notes = notes
        self.contenders, self.targets = contenders, targets
        self.limits = limits
        self.higher = higher_is_better
        self.skipped = None

    def run(self):
        log("%s: %d runs of %s" % (self.key, RUNS,
                                   ", ".join(c.name for c in
                                             self.contenders)))
        for _ in range(RUNS):
            for c in self.contenders:
                c.measure()

    def find(self, name):
        for c in self.contenders:
            if c.name == name:
                return c
        return None


# ---------------------------------------------------------------------------
# The workloads
# ---------------------------------------------------------------------------

def n(full, quick):
    return quick if QUICK else full


def rm_smtp(url, count, threads=1, attach=None):
    argv = [os.path.join(BB, "rm_smtp"), "--url", url, "--count",
            str(count), "--threads", str(threads), "--body",
            os.path.join(WORK, "body.txt")]
    if attach:
        argv += ["--attach", attach]
    return argv


def smtp_source(port, count, sessions):
    return ["smtp-source", "-d", "-s", str(sessions), "-m", str(count),
            "-f", FROM, "-t", TO, "-F", os.path.join(WORK, "msg_lf.eml"),
            "127.0.0.1:%d" % port]


def node_smtp(port, count, mode, tweak=""):
    return ["node", os.path.join(TOP, "bench", "node_smtp.js"), str(port),
            str(count), os.path.join(WORK, "body.txt"), mode, tweak]


def w_reuse(sink):
    c, cs = n(2000, 400), n(200, 40)
    url = "smtp://127.0.0.1:%d?tls=none" % sink
    return Workload(
        "reuse", "2000 messages of 10 KB over one reused connection",
        "%d messages of 10 KB, one recipient, one connection kept open, "
        "into Postfix's smtp-sink. Each relaymail message is built "
        "(From, To, Subject, 10 KB text) and written by the library per "
        "send; smtp-source, curl and smtplib send a prepared 10 KB file. "
        "smtp-source runs with -d (one session for all messages); curl "
        "is one process given a config file of %d transfers joined by "
        "`next`, over which it reuses its connection (curl -v says "
        "\"Re-using existing connection\"); smtplib calls sendmail() on "
        "one SMTP object; nodemailer queues every message on its pool "
        "(nodemailer as shipped sends %d per run: it is slow)." %
        (c, c, cs),
        [Contender("relaymail", rm_smtp(url, c), c, ours=True),
         Contender("smtp-source -s 1", smtp_source(sink, c, 1), c),
         Contender("curl, one process, reused connection",
                   ["curl", "-s", "-K", curl_config(sink, c)], c),
         Contender("Python smtplib", [PY, os.path.join(TOP, "bench",
                                                       "py_smtp.py"),
                                      str(sink), str(c),
                                      os.path.join(WORK, "msg.eml")], c),
         Contender("nodemailer pool (1 connection, TCP_NODELAY)",
                   node_smtp(sink, c, "one", "nodelay"), c, env=NODE_ENV),
         Contender("nodemailer pool (1 connection, as shipped)",
                   node_smtp(sink, cs, "one"), cs, env=NODE_ENV)],
        [("smtp-source -s 1", 1.0), ("curl, one process, reused connection",
                                     1.0),
         ("Python smtplib", 1.0),
         ("nodemailer pool (1 connection, TCP_NODELAY)", 1.0)],
        LIMITS["reuse"])


def w_parallel(sink):
    c = n(2000, 400)
    url = "smtp://127.0.0.1:%d?tls=none" % sink
    return Workload(
        "parallel", "The same over 4 connections",
        "%d messages of 10 KB over 4 connections: relaymail with 4 "
        "threads, each with its own transport; smtp-source with 4 "
        "sessions; nodemailer's default pool (5 connections, 100 messages "
        "each before it reconnects) with all messages queued at once." % c,
        [Contender("relaymail, 4 threads", rm_smtp(url, c, 4), c,
                   ours=True),
         Contender("smtp-source -s 4", smtp_source(sink, c, 4), c),
         Contender("nodemailer default pool (TCP_NODELAY)",
                   node_smtp(sink, c, "default", "nodelay"), c,
                   env=NODE_ENV)],
        [("smtp-source -s 4", 1.0),
         ("nodemailer default pool (TCP_NODELAY)", 5.0)],
        LIMITS["parallel"])


def w_process(sink):
    c, cm = n(200, 30), n(60, 10)
    body = os.path.join(WORK, "body.txt")
    msg = os.path.join(WORK, "msg.eml")
    spawn = os.path.join(BB, "spawn")
    return Workload(
        "process", "One process per message",
        "One process started per 10 KB message, one after the other, "
        "by bench/spawn (posix_spawn, no shell): relaymail-send builds "
        "and sends the message; curl and msmtp send the prepared file. "
        "%d messages per run (%d for msmtp)." % (c, cm),
        [Contender("relaymail-send", [
            spawn, str(c), "--", os.path.join(BIN, "relaymail-send"),
            "--url", "smtp://127.0.0.1:%d" % sink, "--from", FROM, "--to",
            TO, "--subject", "relaymail bench", "--text-file", body], c,
            ours=True),
         Contender("curl", [spawn, str(c), "--", "curl", "-s", "--url",
                            "smtp://127.0.0.1:%d" % sink, "--mail-from",
                            FROM, "--mail-rcpt", TO, "-T", msg], c),
         Contender("msmtp", [spawn, str(cm), "--stdin", msg, "--", "msmtp",
                             "-C", os.path.join(WORK, "msmtprc"),
                             "--host=127.0.0.1", "--port=%d" % sink,
                             "--auth=off", "--tls=off", "--from=" + FROM,
                             TO], cm),
         Contender("relaymail-send --version (start-up alone)",
                   [spawn, str(c), "--", os.path.join(BIN, "relaymail-send"),
                    "--version"], c, unit="processes/s", info=True),
         Contender("C program linked with libcurl (start-up alone)",
                   [spawn, str(c), "--", os.path.join(BB, "curl_floor")],
                   c, unit="processes/s", info=True),
         Contender("C program linked with the other dependencies, no "
                   "libcurl (start-up alone)",
                   [spawn, str(c), "--", os.path.join(BB, "deps_floor")],
                   c, unit="processes/s", info=True)],
        [("curl", 5.0), ("msmtp", 25.0)],
        LIMITS["process"])


def w_tls(tls_port, ca):
    c = n(2000, 400)
    return Workload(
        "starttls", "One reused connection over STARTTLS",
        "%d messages of 10 KB over one connection into bench/tls_sink (a "
        "C sink with OpenSSL that offers STARTTLS), with STARTTLS "
        "required and the certificate verified against the test CA, "
        "against relaymail in plain text into the same sink." % c,
        [Contender("relaymail, STARTTLS", rm_smtp(
            "smtp://localhost:%d?tls=required&ca_file=%s" % (tls_port, ca),
            c), c, ours=True),
         Contender("relaymail, plain", rm_smtp(
             "smtp://127.0.0.1:%d?tls=none" % tls_port, c), c),
         Contender("curl, reused connection, STARTTLS", [
             "curl", "-s", "-K", curl_config(tls_port, c, ca)], c),
         Contender("curl, reused connection, plain", [
             "curl", "-s", "-K", curl_config(tls_port, c)], c)]
        + cipher_floors(),
        [("relaymail, plain", 0.8)],
        LIMITS["starttls"], notes=tls_notes)


def cipher_floors():
    """Sealing 10 KB records alone, in each TLS library: the cipher's
    share of what STARTTLS adds per message."""
    rows = []
    for lib, name in (("mbedtls", "mbedTLS"), ("openssl", "OpenSSL")):
        for cipher, cname in (("chacha20", "ChaCha20-Poly1305"),
                              ("aes128gcm", "AES-128-GCM")):
            rows.append(Contender(
                "%s %s, sealing 10 KB records alone" % (name, cname),
                [os.path.join(BB, "cipher_floor"), "--lib", lib,
                 "--cipher", cipher, "--count", str(n(20000, 5000))],
                unit="MB/s", field="mbps", info=True))
    return rows


def tls_notes(w):
    """What STARTTLS costs each client, per message and as a ratio."""
    out = []
    for tls, plain in (("relaymail, STARTTLS", "relaymail, plain"),
                       ("curl, reused connection, STARTTLS",
                        "curl, reused connection, plain")):
        a, b = w.find(tls).stats(), w.find(plain).stats()
        if a and b:
            out.append("- %s: STARTTLS/plain %.2fx; TLS adds %.0f us per "
                       "message (1/median difference)"
                       % (tls.split(",")[0], a[0] / b[0],
                          (1 / a[0] - 1 / b[0]) * 1e6))
    plain = w.find("relaymail, plain").stats()
    for c in w.contenders:
        if c.field == "mbps" and c.stats() and plain:
            out.append("- %s: %.0f us per 10 KB message, against %.0f us "
                       "for a whole plain relaymail send"
                       % (c.name.split(",")[0], 10240 / c.stats()[0],
                          1e6 / plain[0]))
    return out


def w_build():
    c, cp = n(2000, 300), n(100, 20)
    return Workload(
        "build", "Building text + HTML + two 100 KB attachments",
        "Build and write one message per round: text (2 KB) and HTML "
        "(4 KB) as multipart/alternative, two 100 KB binary attachments "
        "(base64), all in memory, written whole to a sink that drops the "
        "bytes (GMime: a null stream with CRLF line ends; Python: "
        "as_bytes()). %d rounds per run (%d for Python)." % (c, cp),
        [Contender("relaymail", [os.path.join(BB, "rm_build"), str(c)], c,
                   ours=True),
         Contender("GMime 3", [os.path.join(BB, "gmime_build"), str(c)], c),
         Contender("Python email", [PY, os.path.join(TOP, "bench",
                                                     "py_build.py"),
                                    str(cp)], cp)],
        [("GMime 3", 2.0), ("Python email", 20.0)],
        LIMITS["build"])


def w_encode():
    enc = os.path.join(BB, "rm_encode")
    return Workload(
        "encode", "Body encoders on 64 MB",
        "The library's base64 (76-character lines) and quoted-printable "
        "encoders over 64 MB in memory, called as the writer calls them "
        "(into a 64 KB buffer), against memcpy of the same 64 MB in 64 KB "
        "pieces. Base64 reads random bytes; quoted-printable reads French "
        "text (one character in twelve is not ASCII).",
        [Contender("base64", [enc, "base64"], unit="GB/s", ours=True,
                   field="gbps"),
         Contender("quoted-printable", [enc, "qp"], unit="GB/s",
                   ours=True, field="gbps"),
         Contender("memcpy", [enc, "memcpy"], unit="GB/s", field="gbps")],
        [("base64", ">= 2 GB/s"), ("quoted-printable", ">= 0.5 GB/s")],
        LIMITS["encode"])


def w_rss(sink):
    big = big_file(100)
    url = "smtp://127.0.0.1:%d?tls=none" % sink
    return Workload(
        "rss", "One 100 MB attachment over SMTP: peak memory",
        "One message with a 100 MB file attachment (streamed from disk, "
        "base64) sent into smtp-sink. Peak resident set size (VmHWM) read "
        "by the program at its end; the same program sending one "
        "10 KB message is shown as the floor.",
        [Contender("relaymail, peak RSS", rm_smtp(url, 1, attach=big),
                   unit="KB", ours=True, field="rss_peak_kb"),
         Contender("relaymail, one 10 KB message (floor)",
                   rm_smtp(url, 1), unit="KB", field="rss_peak_kb",
                   info=True),
         Contender("C program linked with libcurl, doing nothing",
                   [os.path.join(BB, "curl_floor")], unit="KB",
                   field="rss_peak_kb", info=True),
         Contender("C program linked with the other dependencies, no "
                   "libcurl", [os.path.join(BB, "deps_floor")], unit="KB",
                   field="rss_peak_kb", info=True)],
        [("relaymail, peak RSS", "<= 8192 KB")],
        LIMITS["rss"], higher_is_better=False)


LIMITS = {
    "reuse": (
        "Loopback on a shared 2-core VM: client and smtp-sink take turns "
        "on the same cores, so the figure is a client cost plus a server "
        "cost plus two context switches per round trip. relaymail "
        "pipelines MAIL, RCPT and DATA (RFC 2920) and writes each message "
        "in 64 KB blocks, so it waits for two round trips per message "
        "(after DATA and after the final dot); smtp-source, curl and "
        "smtplib do not pipeline and wait for four. Stock nodemailer "
        "waits a delayed ACK (about 40 ms) per message: Nagle holds its "
        "small final write until the server acknowledges the body; the "
        "TCP_NODELAY row removes that and is the one compared."),
    "parallel": (
        "Two cores for four client connections and the sink: the figure "
        "is bounded by CPU, not by the network. nodemailer runs on one "
        "thread whatever the pool size."),
    "process": (
        "Start-up dominates. relaymail-send links libcurl (the library "
        "parses transport URLs with curl_url()), and loading libcurl and "
        "its ~30 dependent shared libraries costs several times what the "
        "whole SMTP exchange does; the start-up rows show "
        "that floor (a profile of relaymail-send puts its own code under "
        "1% of the samples; perf stat counts about 490 page faults and "
        "4 ms of CPU for a do-nothing program linked with libcurl, "
        "against 50 faults and 0.5 ms without it: mapping and "
        "relocating 37 libraries). curl pays the same start-up, so the ratio to curl cannot "
        "reach 5x while relaymail-send loads libcurl; the last row is "
        "what a process that loads every other dependency but not "
        "libcurl costs. Most of it is not the loader: LD_DEBUG=statistics "
        "puts the dynamic loader at about 1.2 million cycles (under half "
        "a millisecond, three quarters of it relocations); the rest is "
        "the libraries' own initialisers, GnuTLS (pulled in by librtmp and "
        "libldap) and OpenSSL first: a do-nothing program linked with "
        "libgnutls alone starts in about 2 ms, with libssl alone about "
        "1.5 ms. Linking libcurl statically would not help: the URL "
        "functions in Debian's libcurl.a draw in easy.o and through it "
        "every protocol and every dependency. msmtp is held back by "
        "delayed ACKs (small writes without TCP_NODELAY), about 40 ms a "
        "message."),
    "starttls": (
        "The cipher. The handshake happens once per run; what TLS adds "
        "per message is sealing about 10 KB in the client and opening "
        "it in the sink, both on the same two cores. mbedTLS 2.28 (the "
        "TLS library relaymail uses for SMTP) has no assembly for "
        "ChaCha20-Poly1305 and GHASH a block at a time for AES-GCM: the "
        "'sealing alone' rows measure it an order of magnitude slower "
        "than OpenSSL. callgrind counts about 380,000 instructions per "
        "10 KB message in mbedTLS's cipher against 145,000 for the "
        "client's whole plain send (build, scan, write, read replies): "
        "the target allows TLS a quarter of the plain figure's time, and "
        "the cipher alone takes more than twice the client's plain work. "
        "Records are read ahead, one system call per burst of records, "
        "at both ends. relaymail offers ChaCha20-Poly1305 first, the "
        "faster of mbedTLS's two AEAD ciphers here. The client's CPU is "
        "the bottleneck: a sampling profile (perf, cpu-clock) puts "
        "libmbedcrypto at about 37% of the client's time, and the sink's "
        "replies to MAIL, RCPT and DATA are already waiting when the "
        "client comes to read them. Encrypting the body while those "
        "replies are on their way (records sealed and held until 354) "
        "was tried and measured no faster, for that reason, and was not "
        "kept. curl (OpenSSL, TLS 1.3) pays less per byte but has a "
        "slower plain path, so its ratio is higher."),
    "build": (
        "Dominated by base64 of the 200 KB of attachments (about 70% of "
        "the time in the library's encoder); the rest is copying the "
        "attachment bytes in, header encoding and the multipart writer."),
    "encode": (
        "Scalar C, no SIMD. Base64 loads six input bytes at a time and "
        "writes four character pairs from a 4096-entry table (about 1.3 "
        "instructions per input byte), in 57-byte lines with their CRLF; "
        "a SIMD encoder would be several times faster but is not "
        "portable C. Quoted-printable must look at every byte (escape, "
        "keep, or decide by what follows, RFC 2045 6.7 rules 3 and 5): a "
        "class table and a fast path for bytes that need no look-ahead; "
        "this text has a space every six bytes and two escapes every 60 "
        "bytes, each escape writing three bytes. memcpy is the ceiling of "
        "the memory system. On a shared VM these figures move by 30% "
        "between runs."),
    "http": (
        "Both clients wait for each answer before the next send, so the "
        "figure is one HTTP round trip plus the JSON work on each side; "
        "the fake runs on one Node thread on the same two cores. "
        "relaymail builds the JSON with cJSON and sends it with libcurl "
        "on a kept easy handle."),
    "failover": (
        "On loopback a refused connection costs one SYN answered by a "
        "RST, well under a millisecond, so the difference is mostly the "
        "route's own work (parsing the route URL, a second transport, "
        "the attempt records). Against a remote relay that refuses, add "
        "one network round trip; a relay that drops packets instead "
        "costs the connect timeout, which the circuit breaker then "
        "skips."),
    "rss": (
        "The attachment is streamed (57 x 864-byte chunks into a 64 KB "
        "output block), so the 100 MB add only tens of KB to the 10 KB "
        "floor. The peak is the program's shared libraries being "
        "resident: the library links libcurl (for curl_url() and the HTTP "
        "backends), and a C program that links libcurl and does nothing "
        "already peaks near 9 MB; the same program linked with the other "
        "dependencies but not libcurl peaks near 2 MB (the last row). "
        "Even the 1.4 MB of anonymous memory (RssAnon) is mostly "
        "what libcurl's dependencies allocate as they load: the "
        "do-nothing program has as much. The target can be met only by "
        "not loading libcurl for SMTP."),
}


# ---------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------

def sh(cmd):
    try:
        out = subprocess.run(cmd, shell=True, capture_output=True,
                             text=True, timeout=20).stdout
        return out.strip().splitlines()[0] if out.strip() else "?"
    except Exception:
        return "?"


LOAD_AT_START = None


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    return [("CPUs (nproc)", str(os.cpu_count())), ("CPU model", model),
            ("memory", "%d MB" % mem),
            ("kernel", platform.release()),
            ("load average (1, 5, 15 min) at start", LOAD_AT_START),
            ("load average at the end", "%.2f %.2f %.2f" % os.getloadavg())]


def node_pkg(name):
    path = os.path.join(TOP, "bench", "node_modules", name, "package.json")
    try:
        with open(path) as f:
            return json.load(f)["version"]
    except OSError:
        return "not installed"


def versions():
    return [
        ("relaymail", sh(os.path.join(BIN, "relaymail-send") +
                         " --version")),
        ("relaymail commit", os.environ.get("BENCH_COMMIT") or
         sh("git -C '%s' describe --always --dirty 2>/dev/null" % TOP)),
        ("compiler", sh("cc --version")),
        ("mbedTLS", sh("dpkg-query -W -f '${Version}' libmbedtls-dev")),
        ("Postfix (smtp-source, smtp-sink)", sh("postconf -d mail_version")),
        ("curl", sh("curl --version")),
        ("msmtp", sh("msmtp --version")),
        ("Python", sh(PY + " --version")),
        ("Node", sh("node --version")),
        ("nodemailer", node_pkg("nodemailer")),
        ("@sendgrid/mail", node_pkg("@sendgrid/mail")),
        ("GMime", sh("pkg-config --modversion gmime-3.0")),
        ("OpenSSL (tls_sink)", sh("pkg-config --modversion openssl")),
    ]


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "GB/s":
        return "%.2f" % v
    if unit == "KB":
        return "%d" % v
    if unit == "ms":
        return "%.3f" % v
    return "%.0f" % v if v >= 100 else "%.1f" % v


def evaluate(w, target):
    """One target of w: (what is asked, what was measured, verdict).

    (PEER, RATIO): our median over PEER's median, at least RATIO.
    (NAME, ">= X unit" or "<= X unit"): NAME's median against X.
    ("added", BASE, "<= X unit"): our median minus BASE's median.
    """
    ours = [c for c in w.contenders if c.ours][0]
    if target[0] == "added":
        base = w.find(target[1])
        limit = float(re.search(r"[0-9.]+", target[2]).group())
        a, b = ours.stats(), base.stats()
        asked = "added %s vs %s" % (target[2], base.name)
        if a is None or b is None:
            return asked, "-", "not measured"
        added = a[0] - b[0]
        return (asked, "%.3f %s added" % (added, ours.unit),
                "met" if added <= limit else "missed")
    name, goal = target
    if isinstance(goal, str):
        c = w.find(name)
        st = c.stats()
        asked = "%s %s" % (name, goal)
        if st is None:
            return asked, "-", "not measured"
        limit = float(re.search(r"[0-9.]+", goal).group())
        ok = st[0] >= limit if goal.startswith(">=") else st[0] <= limit
        return (asked, "%s %s" % (fmt(st[0], c.unit), c.unit),
                "met" if ok else "missed")
    peer = w.find(name)
    a, b = ours.stats(), peer.stats() if peer else None
    asked = ">= %.1fx %s" % (goal, name)
    if a is None or b is None:
        return asked, "-", "not measured"
    ratio = a[0] / b[0]
    return asked, "%.2fx" % ratio, "met" if ratio >= goal else "missed"


def table_md(w):
    out = ["| contender | median | min | max | unit | runs |",
           "| --- | ---: | ---: | ---: | --- | ---: |"]
    for c in w.contenders:
        st = c.stats()
        label = ("**%s**" % c.name) if c.ours else c.name
        if st is None:
            out.append("| %s | failed: %s | | | %s | 0 |"
                       % (label, (c.error or "no run").replace("|", "/")
                          .replace("\n", " ")[:160], c.unit))
            continue
        out.append("| %s | %s | %s | %s | %s | %d |"
                   % (label, fmt(st[0], c.unit), fmt(st[1], c.unit),
                      fmt(st[2], c.unit), c.unit, len(c.values)))
    return out + [""]


def workload_md(w):
    out = ["## %s" % w.title, "", w.what, ""]
    if w.skipped:
        return out + ["Not measured: %s" % w.skipped, ""]
    out += table_md(w)
    for t in w.targets:
        asked, measured, verdict = evaluate(w, t)
        out.append("- target %s: measured %s: **%s**" % (asked, measured,
                                                         verdict))
    named = [t[0] for t in w.targets] + [t[1] for t in w.targets]
    for o in [c for c in w.contenders if c.ours and c.stats()]:
        for p in w.contenders:
            if p.ours or p.info or p.name in named or not w.higher or \
                    p.stats() is None:
                continue
            out.append("- %s: %.2fx %s (no target)"
                       % (o.name, o.stats()[0] / p.stats()[0], p.name))
    if w.notes:
        out += w.notes(w)
    return out + ["", "What limits it: " + w.limits, ""]


def summary_md(workloads):
    out = ["| workload | target | measured | verdict |",
           "| --- | --- | --- | --- |"]
    for w in workloads:
        if w.skipped:
            out.append("| %s | - | not measured | - |" % w.key)
            continue
        for t in w.targets:
            out.append("| %s | %s | %s | %s |" % ((w.key,) + evaluate(w, t)))
    return out


def write_report(workloads, started, took):
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (bench/run.sh, bench/bench.py) on %s in "
        "%.0f s%s. Do not edit by hand: run `make bench` again." % (
            started, took, " with BENCH_QUICK=1 (fewer messages per run)"
            if QUICK else ""),
        "",
        "Every workload runs each contender %d times in alternating "
        "rounds (ours, then each peer, then ours again...) so that drift "
        "of the machine hits every side alike. Figures are medians with "
        "min and max; ratios are of medians measured in this one run. "
        "All servers are started by the harness on 127.0.0.1. Absolute "
        "figures drift from run to run on a shared machine: the ratios "
        "are what count. The harness reports; it asserts no time." % RUNS,
        "",
        "Timing: programs that can (relaymail's bench programs, smtplib, "
        "nodemailer, @sendgrid/mail, spawn) report their own elapsed "
        "time around the work, interpreter start-up excluded; smtp-source "
        "and curl are timed from outside, process start included (about "
        "1 ms of a run of a second or more). The building and encoding "
        "workloads, which do no I/O, are timed by the process's CPU clock "
        "(CLOCK_PROCESS_CPUTIME_ID, Python's process_time()), so that "
        "other load on a shared machine does not count against either "
        "side; the network workloads cannot be, since the server's work "
        "and the waits are part of them.",
        "",
        "## Summary",
        "",
    ] + summary_md(workloads) + [""]
    for w in workloads:
        lines += workload_md(w)
    lines += ["## Machine", "", "| | |", "| --- | --- |"]
    lines += ["| %s | %s |" % kv for kv in machine()]
    lines += ["", "## Versions", "", "| | |", "| --- | --- |"]
    lines += ["| %s | %s |" % kv for kv in versions()]
    lines.append("")
    with open(OUT, "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(BB, "results.json"), "w") as f:
        json.dump({w.key: {c.name: c.values for c in w.contenders}
                   for w in workloads}, f, indent=1)


# ---------------------------------------------------------------------------

def main():
    global LOAD_AT_START
    LOAD_AT_START = "%.2f %.2f %.2f" % os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    t0 = time.time()
    if os.path.isdir(WORK):
        shutil.rmtree(WORK)
    make_inputs()
    srv = Servers()
    try:
        sink = start_smtp_sink(srv)
        tls_port, ca = start_tls_sink(srv)
        workloads = [w_reuse(sink), w_parallel(sink), w_process(sink),
                     w_tls(tls_port, ca), w_build(), w_encode(),
                     w_rss(sink), w_http(srv), w_failover(sink)]
        for w in workloads:
            if ONLY and w.key not in ONLY:
                w.skipped = "left out by BENCH_ONLY"
                continue
            if not w.skipped:
                w.run()
    finally:
        srv.stop()
    write_report(workloads, started, time.time() - t0)
    log("wrote %s in %.0f s" % (OUT, time.time() - t0))


def start_sendgrid_fake(srv):
    port = free_port()
    srv.start(["node", os.path.join(TOP, "bench", "sendgrid_fake.js"),
               str(port), SG_KEY], port, "sendgrid_fake.js", env=NODE_ENV)
    return port


def w_http(srv):
    c = n(2000, 400)
    port = start_sendgrid_fake(srv)
    url = "sendgrid://%s@default?endpoint=http://127.0.0.1:%d" % (SG_KEY,
                                                                  port)
    return Workload(
        "http", "2000 sends to a loopback SendGrid fake",
        "%d sends, one after the other, over one kept-alive HTTP/1.1 "
        "connection to bench/sendgrid_fake.js (Node's http server on "
        "127.0.0.1: checks the method, path, key and JSON fields, answers "
        "202): relaymail's sendgrid:// transport with endpoint= against "
        "the official @sendgrid/mail (awaiting each send; Node 20 keeps "
        "the connection alive). Same fields, 10 KB text." % c,
        [Contender("relaymail sendgrid://", rm_smtp(url, c), c,
                   unit="req/s", ours=True),
         Contender("@sendgrid/mail", [
             "node", os.path.join(TOP, "bench", "sendgrid_send.js"),
             str(port), SG_KEY, str(c), os.path.join(WORK, "body.txt")],
             c, unit="req/s", env=NODE_ENV)],
        [("@sendgrid/mail", 2.0)],
        LIMITS["http"])


def w_failover(sink):
    c = n(500, 100)
    dead = free_port()
    direct = "smtp://127.0.0.1:%d?tls=none" % sink
    route = "failover(smtp://127.0.0.1:%d?tls=none %s)" % (dead, direct)
    return Workload(
        "failover", "Failover from a relay that refuses connections",
        "Each send opens a fresh transport, sends one 10 KB message and "
        "closes it (%d per run; the figure is the median of one "
        "open-send-close in ms). The failover route's first relay is a "
        "loopback port nobody listens on, so every send is refused there "
        "first and goes on to smtp-sink; the direct row sends to "
        "smtp-sink alone. The added latency is the difference of the "
        "medians." % c,
        [Contender("failover(refused, smtp-sink)",
                   rm_smtp(route, c) + ["--fresh"], unit="ms", ours=True,
                   field="ms_median"),
         Contender("smtp-sink directly", rm_smtp(direct, c) + ["--fresh"],
                   unit="ms", field="ms_median")],
        [("added", "smtp-sink directly", "<= 5 ms")],
        LIMITS["failover"], higher_is_better=False)


if __name__ == "__main__":
    main()
