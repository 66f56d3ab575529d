"""Message: one email, built from keyword arguments and attach calls."""

import ctypes
import datetime
import os
from typing import Iterable, Mapping, Optional, Sequence, Tuple, Union

from . import _lib
from .errors import check, from_c

# An address: "a@example.com", "Ann <a@example.com>", a comma-separated
# list, or a (name, address) pair whose name is plain text.
Address = Union[str, Tuple[str, str]]
Addresses = Union[Address, Iterable[Address], None]
PathLike = Union[str, "os.PathLike[str]"]


def _b(value: Optional[str]) -> Optional[bytes]:
    return None if value is None else value.encode("utf-8")


def _each(addresses: Addresses) -> Iterable[Address]:
    if addresses is None:
        return []
    if isinstance(addresses, (str, tuple)):
        return [addresses]
    return addresses


class Message:
    """An email message, owned by the C library until close() or del.

    Every argument is optional and may be set later with the methods:

        msg = Message(from_="Ann <ann@example.com>", to=["bob@example.org"],
                      subject="Report", text="See attached.")
        msg.attach("report.pdf")
        msg.attach(png_bytes, filename="logo.png", content_id="logo")

    Addresses are strings ("a@x", "Ann <a@x>", "a@x, b@y") or
    (display name, address) pairs; to, cc, bcc and reply_to also take a
    list of those. Bcc recipients get the message but never appear in it.
    headers maps extra header names to values; names the library writes
    itself (From, Subject, ...) are refused.

    Raises InvalidMessageError naming the field when a value is refused
    (an address that does not parse, CR or LF in a header, ...).
    """

    def __init__(self, from_: Optional[Address] = None, to: Addresses = None,
                 cc: Addresses = None, bcc: Addresses = None,
                 reply_to: Addresses = None, subject: Optional[str] = None,
                 text: Optional[str] = None, html: Optional[str] = None,
                 headers: Optional[Mapping[str, str]] = None,
                 sender: Optional[Address] = None,
                 envelope_from: Optional[str] = None,
                 message_id: Optional[str] = None,
                 date: Optional[datetime.datetime] = None,
                 reproducible: bool = False) -> None:
        self._handle = self._new()
        try:
            self._fill(from_, to, cc, bcc, reply_to, subject, text, html,
                       headers, sender, envelope_from, message_id, date,
                       reproducible)
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _new() -> int:
        handle = ctypes.c_void_p()
        err = _lib.rm_error()
        check(_lib.lib.rm_message_new(ctypes.byref(handle),
                                      ctypes.byref(err)), err)
        return handle.value

    def _fill(self, from_, to, cc, bcc, reply_to, subject, text, html,
              headers, sender, envelope_from, message_id, date,
              reproducible) -> None:
        if reproducible:
            self.set_reproducible(True)
        if from_ is not None:
            self.set_from(from_)
        if sender is not None:
            self.set_sender(sender)
        self.add_to(to)
        self.add_cc(cc)
        self.add_bcc(bcc)
        self.add_reply_to(reply_to)
        if envelope_from is not None:
            self.set_envelope_from(envelope_from)
        if subject is not None:
            self.set_subject(subject)
        if text is not None:
            self.set_text(text)
        if html is not None:
            self.set_html(html)
        for name, value in (headers or {}).items():
            self.add_header(name, value)
        if message_id is not None:
            self.set_message_id(message_id)
        if date is not None:
            self.set_date(date)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Message":
        """A message from bytes built elsewhere (RFC 5322), sent as they
        are: the envelope comes from From, Sender, To, Cc and Bcc, Bcc
        fields are removed, line ends become CRLF, and a missing Date or
        Message-ID is added. add_to/add_cc/add_bcc and clear_recipients
        then change only the envelope."""
        if not _lib.HAVE_RAW:
            raise NotImplementedError("the C library lacks raw messages")
        msg = cls.__new__(cls)
        handle = ctypes.c_void_p()
        err = _lib.rm_error()
        check(_lib.lib.rm_message_new_raw(ctypes.byref(handle), data,
                                          len(data), ctypes.byref(err)), err)
        msg._handle = handle.value
        return msg

    # -- lifetime ---------------------------------------------------------

    def close(self) -> None:
        """Frees the C message now; the object is unusable afterwards."""
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            _lib.lib.rm_message_free(handle)

    def __del__(self) -> None:
        # At interpreter exit the module may be gone before the object.
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self) -> "Message":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def handle(self) -> int:
        """The C rm_message pointer, for the library's own calls."""
        if not self._handle:
            raise ValueError("the message is closed")
        return self._handle

    def _call(self, fn, *args) -> "Message":
        err = _lib.rm_error()
        check(fn(self.handle, *args, ctypes.byref(err)), err)
        return self

    # -- addresses --------------------------------------------------------

    def _address(self, fn, address: Address) -> "Message":
        if isinstance(address, tuple):
            name, addr = address
            return self._call(fn, _b(addr), _b(name))
        return self._call(fn, _b(address), None)

    def _addresses(self, fn, addresses: Addresses) -> "Message":
        for address in _each(addresses):
            self._address(fn, address)
        return self

    def set_from(self, address: Address) -> "Message":
        """Sets the From mailbox."""
        return self._address(_lib.lib.rm_message_set_from, address)

    def set_sender(self, address: Address) -> "Message":
        """Sets the Sender mailbox (the agent sending for From)."""
        return self._address(_lib.lib.rm_message_set_sender, address)

    def add_to(self, addresses: Addresses) -> "Message":
        """Adds To recipients."""
        return self._addresses(_lib.lib.rm_message_add_to, addresses)

    def add_cc(self, addresses: Addresses) -> "Message":
        """Adds Cc recipients."""
        return self._addresses(_lib.lib.rm_message_add_cc, addresses)

    def add_bcc(self, addresses: Addresses) -> "Message":
        """Adds Bcc recipients: they get the message, unseen."""
        return self._addresses(_lib.lib.rm_message_add_bcc, addresses)

    def add_reply_to(self, addresses: Addresses) -> "Message":
        """Adds Reply-To addresses."""
        return self._addresses(_lib.lib.rm_message_add_reply_to, addresses)

    def clear_recipients(self) -> "Message":
        """Removes every To, Cc and Bcc recipient."""
        return self._call(_lib.lib.rm_message_clear_recipients)

    def set_envelope_from(self, address: Optional[str]) -> "Message":
        """Sets the bounce address (SMTP MAIL FROM); None restores the
        default, the Sender or else the From address."""
        return self._call(_lib.lib.rm_message_set_envelope_from,
                          _b(address))

    # -- header fields ----------------------------------------------------

    def set_subject(self, subject: str) -> "Message":
        """Sets the Subject (UTF-8 text; CR and LF are refused)."""
        return self._call(_lib.lib.rm_message_set_subject, _b(subject))

    def set_date(self, when: datetime.datetime) -> "Message":
        """Sets the Date; a naive datetime is taken as local time."""
        if when.tzinfo is None:
            when = when.astimezone()
        offset = when.utcoffset() or datetime.timedelta(0)
        return self._call(_lib.lib.rm_message_set_date,
                          int(when.timestamp()),
                          int(offset.total_seconds() // 60))

    def set_message_id(self, message_id: str) -> "Message":
        """Sets the Message-ID ("id@host" or "<id@host>")."""
        return self._call(_lib.lib.rm_message_set_message_id,
                          _b(message_id))

    @property
    def message_id(self) -> str:
        """The Message-ID the message will carry, with angle brackets."""
        return _lib.text(_lib.lib.rm_message_message_id(self.handle))

    def set_in_reply_to(self, message_id: str) -> "Message":
        """Sets In-Reply-To, for a reply."""
        return self._call(_lib.lib.rm_message_set_in_reply_to,
                          _b(message_id))

    def add_reference(self, message_id: str) -> "Message":
        """Adds one msg-id to References."""
        return self._call(_lib.lib.rm_message_add_reference, _b(message_id))

    def add_header(self, name: str, value: str) -> "Message":
        """Adds a header field the library does not manage itself."""
        return self._call(_lib.lib.rm_message_add_header, _b(name),
                          _b(value))

    # -- content ----------------------------------------------------------

    def set_text(self, text: str) -> "Message":
        """Sets the plain text body."""
        data = text.encode("utf-8")
        return self._call(_lib.lib.rm_message_set_text, data, len(data))

    def set_html(self, html: str) -> "Message":
        """Sets the HTML body (with text: multipart/alternative)."""
        data = html.encode("utf-8")
        return self._call(_lib.lib.rm_message_set_html, data, len(data))

    def attach(self, source: Union[bytes, bytearray, PathLike],
               filename: Optional[str] = None,
               content_type: Optional[str] = None,
               content_id: Optional[str] = None) -> "Message":
        """Attaches a file (by path, streamed at each send) or bytes.

        filename is the name shown (default: the file's name; required
        in practice for bytes), content_type defaults from the name's
        extension, and content_id makes the part inline, referenced from
        the HTML as "cid:<content_id>".
        """
        opts = _lib.rm_attachment_opts(_lib.RM_ATTACHMENT_OPTS_VERSION,
                                       _b(filename), _b(content_type),
                                       _b(content_id))
        if isinstance(source, (bytes, bytearray)):
            data = bytes(source)
            return self._call(_lib.lib.rm_message_attach_data, data,
                              len(data), ctypes.byref(opts))
        path = os.fsencode(source)
        err = _lib.rm_error()
        rc = _lib.lib.rm_message_attach_file(self.handle, path,
                                             ctypes.byref(opts),
                                             ctypes.byref(err))
        if rc != 0:
            raise from_c(rc, err, filename=os.fsdecode(source))
        return self

    def set_reproducible(self, on: bool = True) -> "Message":
        """Fixed boundaries, Date and Message-ID: the same bytes each
        time (for tests and golden files)."""
        return self._call(_lib.lib.rm_message_set_reproducible, int(on))

    # -- output -----------------------------------------------------------

    def as_bytes(self) -> bytes:
        """The message as RFC 5322 / MIME bytes (CRLF line ends, no Bcc)."""
        out = ctypes.c_void_p()
        size = ctypes.c_size_t()
        self._call(_lib.lib.rm_message_write_mem, ctypes.byref(out),
                   ctypes.byref(size))
        try:
            return ctypes.string_at(out.value, size.value)
        finally:
            _lib.lib.rm_free(out.value)

    def __bytes__(self) -> bytes:
        return self.as_bytes()
