"""Building messages: what the C library writes, read back by Python's
email package; errors raised as exceptions naming the field."""

import datetime
import errno

import pytest

import relaymail
from relaymail import InvalidMessageError, Message

from conftest import parse


def full_message(tmp_path) -> Message:
    report = tmp_path / "Grüße.txt"
    report.write_text("report body\n", encoding="utf-8")
    msg = Message(
        from_=("Jörg Bär", "joerg@example.com"),
        to=["bob@example.org", ("Doe, Jo", "jo@example.net")],
        cc="carl@example.com", bcc="hidden@example.com",
        reply_to="replies@example.com",
        subject="Grüße ✉ from Python",
        text="Hello Jörg,\n.a line with a dot\n",
        html='<p>Hello <img src="cid:logo@test"></p>',
        headers={"X-Campaign": "spring"})
    msg.attach(report)
    msg.attach(b"\x89PNG\r\n\x1a\n\x00", filename="logo.png",
               content_id="logo@test")
    msg.attach(bytes(range(256)), filename="data.bin",
               content_type="application/x-test")
    return msg


def test_fields_read_back(tmp_path):
    m = parse(full_message(tmp_path).as_bytes())
    assert m["Subject"] == "Grüße ✉ from Python"
    assert m["From"].addresses[0].display_name == "Jörg Bär"
    assert m["From"].addresses[0].addr_spec == "joerg@example.com"
    assert [a.addr_spec for a in m["To"].addresses] == [
        "bob@example.org", "jo@example.net"]
    assert m["To"].addresses[1].display_name == "Doe, Jo"
    assert m["Cc"].addresses[0].addr_spec == "carl@example.com"
    assert m["Reply-To"].addresses[0].addr_spec == "replies@example.com"
    assert m["X-Campaign"] == "spring"
    assert m["Bcc"] is None


def test_bodies_and_attachments(tmp_path):
    m = parse(full_message(tmp_path).as_bytes())
    assert m.get_content_type() == "multipart/mixed"
    text = m.get_body(("plain",)).get_content()
    assert text.replace("\r\n", "\n") == "Hello Jörg,\n.a line with a dot\n"
    assert "cid:logo@test" in m.get_body(("html",)).get_content()
    files = {p.get_filename(): p for p in m.iter_attachments()}
    assert files["Grüße.txt"].get_content().replace("\r\n", "\n") == \
        "report body\n"
    assert files["data.bin"].get_content() == bytes(range(256))
    assert files["data.bin"].get_content_type() == "application/x-test"
    inline = [p for p in m.walk() if p["Content-ID"] == "<logo@test>"]
    assert inline and inline[0].get_content() == b"\x89PNG\r\n\x1a\n\x00"


def test_bcc_never_written(tmp_path):
    assert b"hidden@example.com" not in full_message(tmp_path).as_bytes()


def test_reproducible_bytes():
    def make():
        return Message(from_="a@example.com", to="b@example.com",
                       subject="same", text="x", reproducible=True)
    first = make().as_bytes()
    assert first == make().as_bytes()
    assert b"Date: Thu, 1 Jan 1970 00:00:00 +0000" in first


def test_date_and_message_id():
    when = datetime.datetime(2024, 1, 2, 3, 4, 5,
                             tzinfo=datetime.timezone(
                                 datetime.timedelta(hours=2)))
    msg = Message(from_="a@example.com", to="b@example.com", text="x",
                  date=when, message_id="id-1@example.com")
    m = parse(msg.as_bytes())
    assert m["Date"].datetime == when
    assert m["Message-ID"] == "<id-1@example.com>"
    assert msg.message_id == "<id-1@example.com>"


def test_bad_address_names_the_field():
    with pytest.raises(InvalidMessageError) as info:
        Message(from_="a@example.com", to=["b@example.com", "not an address"])
    assert info.value.field.startswith("to")
    assert info.value.code == -1
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("kwargs", [
    {"subject": "Hello\r\nBcc: victim@example.org"},
    {"headers": {"X-Tag\r\nBcc": "x"}},
    {"headers": {"X-Tag": "ok\nBcc: victim@example.org"}},
    {"reply_to": ("Alice", "alice@example.com\r\nBcc: victim@example.org")},
])
def test_header_injection_refused(kwargs):
    with pytest.raises(InvalidMessageError):
        Message(from_="a@example.com", to="b@example.com", text="x",
                **kwargs)


def test_managed_header_refused():
    msg = Message(from_="a@example.com")
    with pytest.raises(InvalidMessageError) as info:
        msg.add_header("Subject", "sneaky")
    assert "header" in str(info.value).lower() or info.value.field


def test_incomplete_message():
    with pytest.raises(InvalidMessageError) as info:
        Message(from_="a@example.com", text="no recipient").as_bytes()
    assert info.value.field == "to"


def test_missing_file_is_refused(tmp_path):
    msg = Message(from_="a@example.com")
    path = tmp_path / "nowhere.pdf"
    with pytest.raises(FileNotFoundError) as info:
        msg.attach(path)
    exc = info.value
    assert exc.errno == errno.ENOENT and exc.filename == str(path)
    assert exc.code == relaymail.errors.EIO
    # Code written for the earlier classes still catches it.
    assert isinstance(exc, relaymail.InvalidMessageError)
    assert isinstance(exc, relaymail.LocalFileError)
    assert "nowhere.pdf" in str(exc)


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(relaymail.LocalFileError) as info:
        Message(from_="a@example.com").attach(tmp_path)
    assert isinstance(info.value, OSError)
    assert not isinstance(info.value, FileNotFoundError)


def test_from_bytes_strips_bcc():
    raw = (b"From: a@example.com\nTo: b@example.org\n"
           b"Bcc: hidden@example.com\nSubject: raw\n\nbody\n")
    msg = Message.from_bytes(raw)
    out = msg.as_bytes()
    assert b"hidden" not in out and b"\r\n\r\nbody\r\n" in out
    m = parse(out)
    assert m["Subject"] == "raw" and m["Message-ID"] == msg.message_id


def test_closed_message():
    msg = Message(from_="a@example.com")
    msg.close()
    msg.close()
    with pytest.raises(ValueError):
        msg.set_subject("x")


def test_library_version():
    assert relaymail.library_version().count(".") == 2
