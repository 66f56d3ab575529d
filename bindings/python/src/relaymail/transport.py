"""Transport: a relay opened from a URL, used to send messages."""

import ctypes
import os
from dataclasses import dataclass
from typing import Callable, Optional

from . import _lib
from .errors import check, from_c
from .message import Message
from .result import Result, from_handle

LOG_LEVELS = {"error": 0, "warn": 1, "info": 2, "debug": 3}

# Receives (level name, line); passwords and tokens never reach it.
LogFunction = Callable[[str, str], None]


@dataclass(frozen=True)
class CheckInfo:
    """What a preflight check learned about the server."""

    greeting: str
    extensions: str
    tls: str
    auth_mechanism: str
    max_size: int


def _b(value: Optional[str]) -> Optional[bytes]:
    return None if value is None else value.encode("utf-8")


class Transport:
    """A way to send mail: file://DIR, smtp://, smtps:// and whatever
    else the C library supports (see docs/urls.md).

    Use it as a context manager so the connection is closed (QUIT)::

        with Transport.from_url("smtp://relay.example.com:587") as t:
            result = t.send(msg)

    One transport must be used from one thread at a time.
    """

    def __init__(self, handle: int, log_ref: object = None) -> None:
        self._handle = handle
        self._log_ref = log_ref   # keeps the C callback alive

    @classmethod
    def from_url(cls, url: Optional[str] = None, *,
                 password: Optional[str] = None,
                 oauth_token: Optional[str] = None,
                 ca_file: Optional[str] = None,
                 log: Optional[LogFunction] = None,
                 log_level: str = "info") -> "Transport":
        """Opens a transport. url defaults to the RELAYMAIL_URL
        environment variable. Opening checks the URL but does not
        connect; the first send or check() does. No URL at all, like a
        bad one, raises PermanentError with code RM_EURL.

        password and oauth_token keep secrets out of the URL. log
        receives the library's log lines up to log_level ("error",
        "warn", "info" or "debug", which includes the SMTP transcript).
        """
        from_env = url is None
        if from_env:
            url = os.environ.get("RELAYMAIL_URL", "")
        opts = _lib.rm_transport_opts()
        opts.version = _lib.RM_TRANSPORT_OPTS_VERSION
        opts.log_level = LOG_LEVELS[log_level]
        opts.ca_file = _b(ca_file)
        opts.password = _b(password)
        opts.oauth_token = _b(oauth_token)
        ref = None
        if log is not None:
            ref = _lib.LOG_FN(lambda level, line, user: log(
                _lib.text(_lib.lib.rm_log_level_name(level)),
                _lib.text(line)))
            opts.log = ref
        handle = ctypes.c_void_p()
        err = _lib.rm_error()
        rc = _lib.lib.rm_transport_open(ctypes.byref(handle), _b(url),
                                        ctypes.byref(opts), ctypes.byref(err))
        if rc != 0 and from_env and not url:
            # The library refuses the empty URL; say where one comes from.
            err.message = b"no URL given and RELAYMAIL_URL is not set"
        check(rc, err)
        return cls(handle.value, ref)

    @property
    def name(self) -> str:
        """The scheme, such as "smtp" or "file"."""
        return _lib.text(_lib.lib.rm_transport_name(self._live()))

    def _live(self) -> int:
        if not self._handle:
            raise ValueError("the transport is closed")
        return self._handle

    def send(self, message: Message) -> Result:
        """Sends one message and returns what the relay said.

        Returns when the relay took the message for at least one
        recipient (result.rejected lists any it refused). Raises
        TransientError, PermanentError or AmbiguousError, each carrying
        the Result, when it did not; InvalidMessageError when the
        message is incomplete (no From, no recipient, no content).
        """
        result = ctypes.c_void_p()
        err = _lib.rm_error()
        check(_lib.lib.rm_result_new(ctypes.byref(result),
                                     ctypes.byref(err)), err)
        try:
            rc = _lib.lib.rm_send(self._live(), message.handle,
                                  result.value, ctypes.byref(err))
            copy = from_handle(result.value)
        finally:
            _lib.lib.rm_result_free(result.value)
        if rc != 0:
            raise from_c(rc, err, copy)
        return copy

    def check(self) -> CheckInfo:
        """Connects, negotiates TLS and authenticates as a send would,
        without sending mail, and describes the server."""
        info = _lib.rm_check_info()
        err = _lib.rm_error()
        check(_lib.lib.rm_transport_check(self._live(), ctypes.byref(info),
                                          ctypes.byref(err)), err)
        return CheckInfo(_lib.text(info.greeting),
                         _lib.text(info.extensions), _lib.text(info.tls),
                         _lib.text(info.auth_mechanism), info.max_size)

    def close(self) -> None:
        """Says goodbye to the server and frees the transport."""
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            _lib.lib.rm_transport_close(handle)

    def __enter__(self) -> "Transport":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # At interpreter exit the module may be gone before the object.
        try:
            self.close()
        except Exception:
            pass
