"""relaymail: build MIME messages and send them through mail relays.

A Python binding (ctypes) of the relaymail C library::

    import relaymail

    msg = relaymail.Message(from_="Ann <ann@example.com>",
                            to="bob@example.org", subject="Hello",
                            text="Hi Bob!")
    with relaymail.Transport.from_url("smtp://relay.example.com") as t:
        result = t.send(msg)
    print(result.queue_id)

The C library is found through RELAYMAIL_LIBRARY, a source checkout's
build/lib, or the system's library path.
"""

from . import _lib
from .errors import (AmbiguousError, InvalidMessageError, LocalFileError,
                     LocalFileNotFoundError, LocalFilePermissionError,
                     PermanentError, RelaymailError, TransientError)
from .message import Message
from .result import Attempt, RecipientStatus, Result
from .transport import CheckInfo, Transport

__version__ = "0.1.0"

__all__ = [
    "AmbiguousError", "Attempt", "CheckInfo", "InvalidMessageError",
    "LocalFileError", "LocalFileNotFoundError", "LocalFilePermissionError",
    "Message", "PermanentError", "RecipientStatus", "RelaymailError",
    "Result", "TransientError", "Transport", "library_version", "mask_url",
    "send",
]


def library_version() -> str:
    """The version of the C library in use, such as "0.1.0"."""
    return _lib.text(_lib.lib.rm_version_string())


def mask_url(url: str) -> str:
    """The URL with its secrets (passwords, API keys, tokens) replaced by
    "****", for logs and error messages."""
    import ctypes
    from .errors import check
    out = ctypes.c_void_p()
    err = _lib.rm_error()
    check(_lib.lib.rm_url_mask(url.encode("utf-8"), ctypes.byref(out),
                               ctypes.byref(err)), err)
    try:
        return _lib.text(ctypes.string_at(out.value))
    finally:
        _lib.lib.rm_free(out.value)


def send(message: Message, url: "str | None" = None) -> Result:
    """Opens a transport (url, or RELAYMAIL_URL), sends one message and
    closes it again."""
    with Transport.from_url(url) as transport:
        return transport.send(message)
