"""What a send did: the Result and one RecipientStatus per recipient."""

import ctypes
from dataclasses import dataclass, field
from typing import List

from . import _lib
from .errors import outcome_name


@dataclass(frozen=True)
class RecipientStatus:
    """What happened to one envelope recipient."""

    address: str
    accepted: bool
    outcome: str   # "delivered", "transient" or "permanent-recipient"
    reply_code: int = 0
    enhanced_status: str = ""
    text: str = ""


@dataclass(frozen=True)
class Attempt:
    """One try behind a send: one for a plain transport, one per try on
    each wrapped transport for retry(), failover() and the like."""

    transport: str        # "#name" from the URL, or its masked URL
    outcome: str
    status: int           # 0 or the negative RM_E* code of the try
    reply_code: int = 0
    enhanced_status: str = ""
    http_status: int = 0
    text: str = ""
    recipients: int = 0
    latency: float = 0.0       # seconds
    wait_before: float = 0.0   # seconds waited before the try
    retry_after: float = 0.0   # seconds the server asked to wait


@dataclass(frozen=True)
class Result:
    """The answer to a send, filled whatever happened.

    outcome is one of "delivered", "transient", "permanent-recipient",
    "permanent-provider", "ambiguous" (or "none" when nothing was tried),
    the names rm_outcome_name gives.
    queue_id is the relay's queue id or the provider's message id ("" when
    none came back); retry_after is the wait in seconds the server asked
    for before a retry (0.0 when it gave no hint).
    """

    outcome: str
    reply_code: int = 0
    enhanced_status: str = ""
    http_status: int = 0
    text: str = ""
    queue_id: str = ""
    message_id: str = ""
    transport: str = ""
    retry_after: float = 0.0
    recipients: List[RecipientStatus] = field(default_factory=list)
    attempts: List[Attempt] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        """True when the relay took responsibility for the message."""
        return self.outcome == "delivered"

    @property
    def rejected(self) -> List[RecipientStatus]:
        """The recipients the relay refused."""
        return [r for r in self.recipients if not r.accepted]


def _outcome(value: int) -> str:
    return outcome_name(value)


def _recipients(handle: int) -> List[RecipientStatus]:
    out = []
    st = _lib.rm_recipient_status()
    for i in range(_lib.lib.rm_result_recipient_count(handle)):
        if _lib.lib.rm_result_recipient(handle, i, ctypes.byref(st)) != 0:
            continue
        out.append(RecipientStatus(
            _lib.text(st.address), bool(st.accepted), _outcome(st.outcome),
            st.reply_code, _lib.text(st.enhanced_status),
            _lib.text(st.text)))
    return out


def _attempts(handle: int) -> List[Attempt]:
    out: List[Attempt] = []
    if not _lib.HAVE_ATTEMPTS:
        return out
    a = _lib.rm_attempt()
    for i in range(_lib.lib.rm_result_attempt_count(handle)):
        if _lib.lib.rm_result_attempt(handle, i, ctypes.byref(a)) != 0:
            continue
        out.append(Attempt(
            _lib.text(a.transport), _outcome(a.outcome), a.status,
            a.reply_code, _lib.text(a.enhanced_status), a.http_status,
            _lib.text(a.text), a.recipients, a.latency_ms / 1000.0,
            a.wait_ms_before / 1000.0, a.retry_after_ms / 1000.0))
    return out


def from_handle(handle: int) -> Result:
    """Copies a C rm_result into a Result (the handle stays the caller's)."""
    lib = _lib.lib
    return Result(
        outcome=_outcome(lib.rm_result_outcome(handle)),
        reply_code=lib.rm_result_reply_code(handle),
        enhanced_status=_lib.text(lib.rm_result_enhanced_status(handle)),
        http_status=lib.rm_result_http_status(handle),
        text=_lib.text(lib.rm_result_text(handle)),
        queue_id=_lib.text(lib.rm_result_queue_id(handle)),
        message_id=_lib.text(lib.rm_result_message_id(handle)),
        transport=_lib.text(lib.rm_result_transport(handle)),
        retry_after=lib.rm_result_retry_after_ms(handle) / 1000.0,
        recipients=_recipients(handle),
        attempts=_attempts(handle),
    )
