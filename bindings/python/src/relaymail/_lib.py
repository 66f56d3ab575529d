"""Loading of the shared library and the C declarations, for ctypes.

The library is looked for, in order, at the path in the RELAYMAIL_LIBRARY
environment variable, in the build tree of a source checkout (build/lib
above this file), and where the system's linker finds it
(ctypes.util.find_library, then the soname librelaymail.so.0).
"""

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import List, Optional

SONAME = "librelaymail.so.0"

RM_ERROR_FIELD_MAX = 64
RM_ERROR_MESSAGE_MAX = 512
RM_ATTACHMENT_OPTS_VERSION = 1
RM_TRANSPORT_OPTS_VERSION = 1


class rm_error(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_int),
        ("outcome", ctypes.c_int),
        ("field", ctypes.c_char * RM_ERROR_FIELD_MAX),
        ("message", ctypes.c_char * RM_ERROR_MESSAGE_MAX),
        ("reply_code", ctypes.c_int),
        ("enhanced_status", ctypes.c_char * 16),
        ("http_status", ctypes.c_int),
        ("reserved", ctypes.c_void_p * 4),
    ]


class rm_attachment_opts(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint),
        ("filename", ctypes.c_char_p),
        ("content_type", ctypes.c_char_p),
        ("content_id", ctypes.c_char_p),
    ]


LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


class rm_transport_opts(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint),
        ("log", LOG_FN),
        ("log_user", ctypes.c_void_p),
        ("log_level", ctypes.c_int),
        ("ca_file", ctypes.c_char_p),
        ("password", ctypes.c_char_p),
        ("oauth_token", ctypes.c_char_p),
    ]


class rm_recipient_status(ctypes.Structure):
    _fields_ = [
        ("address", ctypes.c_char_p),
        ("accepted", ctypes.c_int),
        ("outcome", ctypes.c_int),
        ("reply_code", ctypes.c_int),
        ("enhanced_status", ctypes.c_char_p),
        ("text", ctypes.c_char_p),
        ("reserved", ctypes.c_void_p * 4),
    ]


class rm_attempt(ctypes.Structure):
    _fields_ = [
        ("transport", ctypes.c_char_p),
        ("outcome", ctypes.c_int),
        ("status", ctypes.c_int),
        ("reply_code", ctypes.c_int),
        ("enhanced_status", ctypes.c_char_p),
        ("http_status", ctypes.c_int),
        ("text", ctypes.c_char_p),
        ("recipients", ctypes.c_size_t),
        ("latency_ms", ctypes.c_longlong),
        ("wait_ms_before", ctypes.c_longlong),
        ("retry_after_ms", ctypes.c_longlong),
        ("reserved", ctypes.c_void_p * 4),
    ]


class rm_check_info(ctypes.Structure):
    _fields_ = [
        ("greeting", ctypes.c_char * 256),
        ("extensions", ctypes.c_char * 1024),
        ("tls", ctypes.c_char * 64),
        ("auth_mechanism", ctypes.c_char * 32),
        ("max_size", ctypes.c_ulonglong),
        ("reserved", ctypes.c_void_p * 4),
    ]


def _candidates() -> List[str]:
    """The paths to try, in order."""
    found: List[str] = []
    env = os.environ.get("RELAYMAIL_LIBRARY")
    if env:
        found.append(env)
    # A source checkout: ROOT/bindings/python/src/relaymail/_lib.py.
    here = Path(__file__).resolve().parents
    if here[1].name == "src" and here[3].name == "bindings":
        lib = here[4] / "build" / "lib" / "librelaymail.so"
        if lib.exists():
            found.append(str(lib))
    name = ctypes.util.find_library("relaymail")
    if name:
        found.append(name)
    found.append(SONAME)
    return found


def _load() -> ctypes.CDLL:
    errors = []
    for path in _candidates():
        try:
            loaded = ctypes.CDLL(path)
            loaded.rm_version_string   # a library of this name, but ours?
            return loaded
        except (OSError, AttributeError) as exc:
            # The loader's own text usually starts with the path already.
            text = str(exc)
            errors.append(text if path in text else "%s: %s" % (path, text))
    raise ImportError(
        "relaymail: cannot load the C library librelaymail "
        "(set RELAYMAIL_LIBRARY to its path): " + "; ".join(errors))


lib = _load()

# Where the library was loaded from (as given to the loader).
path = lib._name

P = ctypes.c_void_p
INT = ctypes.c_int
STR = ctypes.c_char_p
ERR = ctypes.POINTER(rm_error)
SIZE = ctypes.c_size_t


def _declare(name: str, restype, *argtypes) -> None:
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)


def _declare_optional(name: str, restype, *argtypes) -> bool:
    """Declares a function that older libraries may lack."""
    if not hasattr(lib, name):
        return False
    _declare(name, restype, *argtypes)
    return True


_declare("rm_version", ctypes.c_uint)
_declare("rm_version_string", STR)
_declare("rm_strerror", STR, INT)
_declare("rm_outcome_name", STR, INT)
_declare("rm_log_level_name", STR, INT)

_declare("rm_message_new", INT, ctypes.POINTER(P), ERR)
_declare("rm_message_free", None, P)
for _name in ("rm_message_set_from", "rm_message_set_sender",
              "rm_message_add_to", "rm_message_add_cc",
              "rm_message_add_bcc", "rm_message_add_reply_to"):
    _declare(_name, INT, P, STR, STR, ERR)
_declare("rm_message_set_envelope_from", INT, P, STR, ERR)
_declare("rm_message_set_subject", INT, P, STR, ERR)
_declare("rm_message_set_date", INT, P, ctypes.c_long, INT, ERR)
_declare("rm_message_set_message_id", INT, P, STR, ERR)
_declare("rm_message_message_id", STR, P)
_declare("rm_message_set_in_reply_to", INT, P, STR, ERR)
_declare("rm_message_add_reference", INT, P, STR, ERR)
_declare("rm_message_add_header", INT, P, STR, STR, ERR)
_declare("rm_message_set_text", INT, P, ctypes.c_char_p, SIZE, ERR)
_declare("rm_message_set_html", INT, P, ctypes.c_char_p, SIZE, ERR)
_declare("rm_message_attach_data", INT, P, ctypes.c_char_p, SIZE,
         ctypes.POINTER(rm_attachment_opts), ERR)
_declare("rm_message_attach_file", INT, P, STR,
         ctypes.POINTER(rm_attachment_opts), ERR)
_declare("rm_message_set_reproducible", INT, P, INT, ERR)
_declare("rm_message_write_mem", INT, P, ctypes.POINTER(ctypes.c_void_p),
         ctypes.POINTER(SIZE), ERR)
_declare("rm_free", None, P)
HAVE_RAW = _declare_optional("rm_message_new_raw", INT, ctypes.POINTER(P),
                             ctypes.c_char_p, SIZE, ERR)
_declare_optional("rm_message_clear_recipients", INT, P, ERR)

_declare("rm_result_new", INT, ctypes.POINTER(P), ERR)
_declare("rm_result_free", None, P)
_declare("rm_result_outcome", INT, P)
_declare("rm_result_reply_code", INT, P)
_declare("rm_result_enhanced_status", STR, P)
_declare("rm_result_http_status", INT, P)
_declare("rm_result_text", STR, P)
_declare("rm_result_queue_id", STR, P)
_declare("rm_result_message_id", STR, P)
_declare("rm_result_transport", STR, P)
_declare("rm_result_retry_after_ms", ctypes.c_longlong, P)
_declare("rm_result_recipient_count", SIZE, P)
_declare("rm_result_recipient", INT, P, SIZE,
         ctypes.POINTER(rm_recipient_status))
_declare("rm_result_rejected_count", SIZE, P)
HAVE_ATTEMPTS = _declare_optional("rm_result_attempt_count", SIZE, P)
_declare_optional("rm_result_attempt", INT, P, SIZE,
                  ctypes.POINTER(rm_attempt))
HAVE_URL_MASK = _declare_optional("rm_url_mask", INT, STR,
                                  ctypes.POINTER(ctypes.c_void_p), ERR)

_declare("rm_transport_open", INT, ctypes.POINTER(P), STR,
         ctypes.POINTER(rm_transport_opts), ERR)
_declare("rm_transport_close", None, P)
_declare("rm_transport_name", STR, P)
_declare("rm_send", INT, P, P, P, ERR)
_declare("rm_transport_check", INT, P, ctypes.POINTER(rm_check_info), ERR)


def text(value: Optional[bytes]) -> str:
    """A C string from the library as Python text."""
    return value.decode("utf-8", "replace") if value else ""
