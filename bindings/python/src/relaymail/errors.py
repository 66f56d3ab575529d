"""The exceptions relaymail raises.

Every failure of the C library becomes a RelaymailError (or a subclass)
carrying the library's detail: the status code and its name, the field at
fault, the reason, the server's reply and, for a send, the Result. The
subclass says what the caller may do next:

- InvalidMessageError: the message or an argument is wrong; fix it.
  LocalFileError, one of them, is a local file that cannot be read (an
  attachment): also an OSError, and a FileNotFoundError or
  PermissionError when that is why.
- TransientError: failed for now; trying again later is safe.
- PermanentError: refused for good (these recipients, or this provider).
- AmbiguousError: the message went out but no answer came back; it may
  have been delivered, so a retry may deliver it twice.
"""

import errno
import os
from typing import TYPE_CHECKING, Optional, Union

from . import _lib

if TYPE_CHECKING:
    from .result import Result

# Status codes (include/relaymail.h); the numbers never change.
EINVAL = -1
ELIMIT = -3
EIO = -4
EURL = -5


def outcome_name(value: int) -> str:
    """The library's name for an rm_outcome value, such as "transient"."""
    return _lib.text(_lib.lib.rm_outcome_name(value))


class RelaymailError(Exception):
    """A call into relaymail failed.

    Attributes:
        code: the negative RM_E* status code.
        code_name: its English name, such as "connection failed".
        field: the field at fault ("to[1]", "subject"), or "".
        reason: what was wrong and why.
        outcome: the outcome class as the C library names it: "none",
            "delivered", "transient", "permanent-recipient",
            "permanent-provider" or "ambiguous".
        reply_code: the SMTP reply code, or 0.
        enhanced_status: the SMTP enhanced status such as "5.1.1", or "".
        http_status: the HTTP status, or 0.
        result: the Result of the send that failed, or None.
    """

    def __init__(self, code: int, code_name: str, field: str = "",
                 reason: str = "", outcome: str = "none",
                 reply_code: int = 0, enhanced_status: str = "",
                 http_status: int = 0,
                 result: "Optional[Result]" = None) -> None:
        self.code = code
        self.code_name = code_name
        self.field = field
        self.reason = reason
        self.outcome = outcome
        self.reply_code = reply_code
        self.enhanced_status = enhanced_status
        self.http_status = http_status
        self.result = result
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = self.code_name
        if self.field:
            text += " [%s]" % self.field
        if self.reason:
            text += ": " + self.reason
        return text


class InvalidMessageError(RelaymailError, ValueError):
    """The message or an argument was refused; nothing was sent."""


class LocalFileError(InvalidMessageError, OSError):
    """A local file, such as an attachment, cannot be read (RM_EIO).

    An OSError as well as an InvalidMessageError: a missing file raises
    LocalFileNotFoundError (a FileNotFoundError), an unreadable one
    LocalFilePermissionError (a PermissionError). errno, strerror and
    filename are set when the file's path is known.
    """

    def __str__(self) -> str:
        # The library's text names the file and the reason already.
        return self._describe()


class LocalFileNotFoundError(LocalFileError, FileNotFoundError):
    """The local file does not exist."""


class LocalFilePermissionError(LocalFileError, PermissionError):
    """The local file exists but may not be read."""


class TransientError(RelaymailError):
    """The send failed for now; it is safe to try again later."""


class PermanentError(RelaymailError):
    """The send was refused for good by the relay or provider."""


class AmbiguousError(RelaymailError):
    """The message went out but no answer came back."""


def _class_for(code: int, outcome: str) -> type:
    if outcome == "transient":
        return TransientError
    if outcome in ("permanent-recipient", "permanent-provider"):
        return PermanentError
    if outcome == "ambiguous":
        return AmbiguousError
    if code == EIO:
        return LocalFileError
    if code in (EINVAL, ELIMIT):
        return InvalidMessageError
    return RelaymailError


def _open_errno(path: Union[str, bytes]) -> int:
    """Why opening path fails now (an errno value), or 0."""
    try:
        with open(path, "rb"):
            return 0
    except OSError as exc:
        return exc.errno or 0


def _file_class(number: int) -> type:
    if number == errno.ENOENT:
        return LocalFileNotFoundError
    if number in (errno.EACCES, errno.EPERM):
        return LocalFilePermissionError
    return LocalFileError


def from_c(code: int, err: "_lib.rm_error",
           result: "Optional[Result]" = None,
           filename: Optional[Union[str, bytes]] = None) -> RelaymailError:
    """The exception for a failed call and the rm_error it filled.

    filename is the local file the call read, if any: a LocalFileError
    then says why through errno and its class, as open() would.
    """
    outcome = outcome_name(err.outcome)
    cls = _class_for(code, outcome)
    number = 0
    if cls is LocalFileError and filename is not None:
        number = _open_errno(filename)
        cls = _file_class(number)
    exc = cls(code, _lib.text(_lib.lib.rm_strerror(code)),
              _lib.text(err.field), _lib.text(err.message), outcome,
              err.reply_code, _lib.text(err.enhanced_status),
              err.http_status, result)
    if isinstance(exc, OSError) and number:
        exc.errno, exc.strerror = number, os.strerror(number)
        exc.filename = filename
    return exc


def check(code: int, err: "_lib.rm_error") -> None:
    """Raises the matching exception when a call returned an error."""
    if code != 0:
        raise from_c(code, err)
