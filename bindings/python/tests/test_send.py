"""Sending through the loopback peers of the C tests: relaymail-sink over
SMTP and the file:// transport; results and exceptions."""

import socket
import threading

import pytest

import relaymail
from relaymail import (AmbiguousError, Message, PermanentError,
                       RelaymailError, TransientError, Transport)

from conftest import parse


def simple(**extra) -> Message:
    args = dict(from_="Ann <ann@example.com>", to="bob@example.org",
                cc="carl@example.net", bcc="hidden@example.com",
                subject="Grüße über SMTP", text="hello\n")
    args.update(extra)
    return Message(**args)


def test_send_through_sink(sink):
    with Transport.from_url(sink.url) as t:
        assert t.name == "smtp"
        result = t.send(simple())
    assert result.delivered and result.outcome == "delivered"
    assert result.queue_id == "1"
    assert result.transport == "smtp"
    assert result.reply_code == 250
    assert sorted(r.address for r in result.recipients) == [
        "bob@example.org", "carl@example.net", "hidden@example.com"]
    assert all(r.accepted for r in result.recipients)
    assert result.rejected == []
    m, envelope, raw = sink.received(1)
    assert envelope["mail_from"] == "ann@example.com"
    assert sorted(envelope["rcpt_to"]) == [
        "bob@example.org", "carl@example.net", "hidden@example.com"]
    assert m["Subject"] == "Grüße über SMTP"
    assert m["Message-ID"] == result.message_id
    assert b"hidden@example.com" not in raw


def test_two_sends_one_transport(sink):
    with Transport.from_url(sink.url) as t:
        t.send(simple(subject="one"))
        t.send(simple(subject="two"))
    assert sink.received(1)[0]["Subject"] == "one"
    assert sink.received(2)[0]["Subject"] == "two"


def test_attachment_through_sink(sink, tmp_path):
    msg = simple()
    msg.attach(bytes(range(256)) * 10, filename="blob.bin")
    relaymail.send(msg, sink.url)
    m, _, _ = sink.received(1)
    files = {p.get_filename(): p.get_content() for p in m.iter_attachments()}
    assert files["blob.bin"] == bytes(range(256)) * 10


def test_raw_message_through_sink(sink):
    raw = (b"From: a@example.com\r\nTo: b@example.org\r\n"
           b"Bcc: secret@example.com\r\nSubject: raw\r\n\r\n.dot line\r\n")
    result = relaymail.send(Message.from_bytes(raw), sink.url)
    m, envelope, stored = sink.received(1)
    assert sorted(envelope["rcpt_to"]) == ["b@example.org",
                                           "secret@example.com"]
    assert b"secret" not in stored and b"\r\n.dot line\r\n" in stored
    assert m["Message-ID"] == result.message_id


def test_url_from_environment(sink, monkeypatch):
    monkeypatch.setenv("RELAYMAIL_URL", sink.url)
    assert relaymail.send(simple()).delivered


@pytest.mark.parametrize("url", [None, ""])
def test_no_url_at_all(monkeypatch, url):
    monkeypatch.delenv("RELAYMAIL_URL", raising=False)
    with pytest.raises(PermanentError) as info:
        Transport.from_url(url)
    assert info.value.field == "url"
    assert info.value.code == relaymail.errors.EURL
    assert info.value.code_name == "bad transport URL"
    assert ("RELAYMAIL_URL" in info.value.reason) == (url is None)


@pytest.mark.parametrize("url", ["gopher://example.com", "file:outbox"])
def test_bad_url(url):
    with pytest.raises(PermanentError) as info:
        Transport.from_url(url)
    assert info.value.code == relaymail.errors.EURL
    assert info.value.code_name == "bad transport URL"
    # The library's name for the code is said once, not again as reason.
    assert str(info.value).count("bad transport URL") == 1


def test_no_url_and_bad_url_are_alike(monkeypatch):
    monkeypatch.delenv("RELAYMAIL_URL", raising=False)
    caught = []
    for url in (None, "no scheme"):
        with pytest.raises(RelaymailError) as info:
            Transport.from_url(url)
        caught.append(info.value)
    none, bad = caught
    assert type(none) is type(bad)
    assert (none.code, none.code_name, none.field, none.outcome) == \
        (bad.code, bad.code_name, bad.field, bad.outcome)


def test_file_transport(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with Transport.from_url("file://%s" % out) as t:
        result = t.send(simple())
    files = list(out.glob("*.eml"))
    assert len(files) == 1 and result.queue_id == files[0].name
    assert parse(files[0].read_bytes())["Subject"] == "Grüße über SMTP"


def test_transient_when_relay_is_down(closed_port):
    with Transport.from_url("smtp://127.0.0.1:%d" % closed_port) as t:
        with pytest.raises(TransientError) as info:
            t.send(simple())
    err = info.value
    assert err.outcome == "transient"
    assert err.result is not None and err.result.outcome == "transient"
    assert not err.result.delivered


def test_permanent_when_too_big(small_sink):
    with Transport.from_url(small_sink.url) as t:
        with pytest.raises(PermanentError) as info:
            t.send(simple(text="x" * 5000))
    assert info.value.outcome == "permanent-provider"
    assert info.value.result.outcome == "permanent-provider"


def silent_after_data(port_holder, ready):
    """A server that takes the whole message, then closes unanswered."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port_holder.append(srv.getsockname()[1])
    ready.set()
    conn, _ = srv.accept()
    f = conn.makefile("rb")
    conn.sendall(b"220 mute ESMTP\r\n")
    for line in f:
        if line.upper().startswith(b"EHLO"):
            conn.sendall(b"250 mute\r\n")
        elif line.upper().startswith(b"DATA"):
            conn.sendall(b"354 go\r\n")
            for body in f:
                if body == b".\r\n":
                    break
            break
        else:
            conn.sendall(b"250 ok\r\n")
    conn.close()
    srv.close()


def test_ambiguous_when_no_answer_after_data():
    port, ready = [], threading.Event()
    thread = threading.Thread(target=silent_after_data, args=(port, ready))
    thread.start()
    ready.wait(30)
    try:
        with Transport.from_url("smtp://127.0.0.1:%d" % port[0]) as t:
            with pytest.raises(AmbiguousError) as info:
                t.send(simple())
        assert info.value.result.outcome == "ambiguous"
    finally:
        thread.join(30)


def test_log_callback_gets_the_transcript(sink):
    lines = []
    with Transport.from_url(sink.url, log=lambda lvl, line:
                            lines.append((lvl, line)),
                            log_level="debug") as t:
        t.send(simple())
    assert any("MAIL FROM" in line for _, line in lines)
    assert {lvl for lvl, _ in lines} <= {"error", "warn", "info", "debug"}


def test_check(sink):
    with Transport.from_url(sink.url) as t:
        info = t.check()
    assert "PIPELINING" in info.extensions
    assert info.tls == "none"


def test_one_transport_per_thread(sink):
    errors = []

    def worker(n):
        try:
            with Transport.from_url(sink.url) as t:
                for i in range(2):
                    t.send(simple(subject="thread %d #%d" % (n, i)))
        except Exception as exc:   # reported below, in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    subjects = sorted(sink.received(n)[0]["Subject"] for n in range(1, 7))
    assert subjects == sorted("thread %d #%d" % (n, i)
                              for n in range(3) for i in range(2))


def test_failover_attempts(sink, closed_port):
    url = "failover(smtp://127.0.0.1:%d %s)" % (closed_port, sink.url)
    with Transport.from_url(url) as t:
        assert t.name == "failover"
        result = t.send(simple())
    assert result.delivered
    assert [a.outcome for a in result.attempts] == ["transient",
                                                    "delivered"]
    assert str(closed_port) in result.attempts[0].transport
    assert result.attempts[1].reply_code == 250
    assert sink.received(1)[0]["Subject"] == "Grüße über SMTP"


def test_mask_url():
    masked = relaymail.mask_url("smtp://me:s3cret@relay.example.com:587")
    assert "s3cret" not in masked and "relay.example.com" in masked
