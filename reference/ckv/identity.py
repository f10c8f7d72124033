"""Identities and labels (spec chapter "Identities and labels").

An *account* is the primary identity: a stable random identifier. *Handles*
(phone numbers and email addresses) are secondary identities that point at an
account. Every label CKV puts in the directory is the wire encoding of a
``DirectoryLabel``; this module normalizes handles and builds and parses those
labels. A handle is never resolved here: resolution goes through the log
(:mod:`ckv.contact_verification`), never through an unauthenticated mapping.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from ckv import wire
from ckv.errors import DecodeError, UsageError
from ckv.wire.messages import DirectoryLabel, Handle, HandleType, LabelKind

__all__ = [
    "ACCOUNT_ID_SIZE",
    "MAX_HANDLE_BYTES",
    "account_label",
    "handle_label",
    "new_account_id",
    "normalize_email",
    "normalize_phone",
    "parse_handle",
    "parse_label",
    "render_handle",
]

#: IDENT-001: account identifiers are 16 random bytes.
ACCOUNT_ID_SIZE = 16
#: IDENT-004: a normalized handle is at most 250 bytes (a label is at most 255).
MAX_HANDLE_BYTES = 250

_PHONE_SEPARATORS = re.compile(r"[\s().\-/]")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_EMAIL_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f<>()\[\]\\,;:\"]")


def new_account_id(random_bytes: Callable[[int], bytes]) -> bytes:
    """A fresh account identifier (IDENT-001)."""
    account_id = random_bytes(ACCOUNT_ID_SIZE)
    if len(account_id) != ACCOUNT_ID_SIZE:
        msg = f"the random source returned {len(account_id)} bytes, not {ACCOUNT_ID_SIZE}"
        raise UsageError(msg)
    return account_id


def normalize_phone(text: str) -> Handle:
    """A phone number in E.164 form: ``+`` and 7 to 15 digits (IDENT-002).

    Spaces, dots, dashes, slashes and parentheses are ignored; a leading ``00``
    is read as ``+``. National numbers (without a country code) are refused: the
    directory cannot know which country was meant.
    """
    compact = _PHONE_SEPARATORS.sub("", text.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    # IDENT-002: only an international number with a country code is a phone handle.
    if not _E164.fullmatch(compact):
        msg = (
            f"{text!r} is not an international phone number: expected '+', a country code "
            "and 7 to 15 digits in all"
        )
        raise UsageError(msg, requirement="IDENT-002")
    return Handle(handle_type=HandleType.phone, value=compact.encode("ascii"))


def normalize_email(text: str) -> Handle:
    """An email address in CKV's normal form: NFC, lower case, trimmed (IDENT-003)."""
    value = unicodedata.normalize("NFC", text.strip()).lower()
    local, at, domain = value.rpartition("@")
    bad = _EMAIL_FORBIDDEN.search(value)
    # IDENT-003: one local part and one domain, no spaces or control characters.
    if not at or not local or not domain or "@" in local or bad is not None:
        where = f" (character {bad.group()!r} at position {bad.start() + 1})" if bad else ""
        msg = f"{text!r} is not an email address of the form local@domain{where}"
        raise UsageError(msg, requirement="IDENT-003")
    if "." not in domain or domain.startswith(".") or domain.endswith("."):
        msg = f"{text!r}: the domain {domain!r} is not a fully qualified domain name"
        raise UsageError(msg, requirement="IDENT-003")
    return _checked(Handle(handle_type=HandleType.email, value=value.encode("utf-8")), text)


def _checked(handle: Handle, text: str) -> Handle:
    # IDENT-004: a normalized handle fits in 250 bytes, so that its label fits in 255.
    if len(handle.value) > MAX_HANDLE_BYTES:
        msg = f"{text!r} is {len(handle.value)} bytes once normalized; at most 250 are allowed"
        raise UsageError(msg, requirement="IDENT-004")
    return handle


def parse_handle(text: str) -> Handle:
    """A handle from what a person typed: ``tel:``/``mailto:`` prefixes or the shape."""
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered.startswith("tel:"):
        return normalize_phone(stripped[4:])
    if lowered.startswith("mailto:"):
        return normalize_email(stripped[7:])
    if "@" in stripped:
        return normalize_email(stripped)
    return normalize_phone(stripped)


def render_handle(handle: Handle) -> str:
    """The handle as people read it."""
    return handle.value.decode("utf-8", errors="replace")


def account_label(account_id: bytes) -> bytes:
    """The directory label of an account (IDENT-005)."""
    if len(account_id) != ACCOUNT_ID_SIZE:
        msg = f"an account id is {ACCOUNT_ID_SIZE} bytes, not {len(account_id)}"
        raise UsageError(msg, requirement="IDENT-001")
    return wire.encode(DirectoryLabel(kind=LabelKind.account, account_id=account_id))


def handle_label(handle: Handle) -> bytes:
    """The directory label of a handle (IDENT-005)."""
    return wire.encode(DirectoryLabel(kind=LabelKind.handle, handle=handle))


def parse_label(label: bytes) -> DirectoryLabel:
    """The ``DirectoryLabel`` a label encodes; refuses anything else (IDENT-006)."""
    try:
        parsed = wire.decode(DirectoryLabel, label)
    except DecodeError as exc:
        msg = f"label {label.hex()} is not a CKV directory label: {exc}"
        raise UsageError(msg, requirement="IDENT-006") from None
    # IDENT-006: account labels carry a 16-byte id; handle labels a normalized handle.
    if parsed.kind is LabelKind.account and len(parsed.account_id or b"") != ACCOUNT_ID_SIZE:
        msg = f"label {label.hex()}: an account id must be {ACCOUNT_ID_SIZE} bytes"
        raise UsageError(msg, requirement="IDENT-006")
    if parsed.kind is LabelKind.handle:
        handle = parsed.handle
        if handle is None:  # pragma: no cover - the codec guarantees it for this kind
            msg = f"label {label.hex()} carries no handle"
            raise UsageError(msg, requirement="IDENT-006")
        text = handle.value.decode("utf-8", errors="replace")
        again = normalize_phone(text) if handle.handle_type is HandleType.phone else None
        if handle.handle_type is HandleType.email:
            again = normalize_email(text)
        if again != handle:
            msg = f"label {label.hex()}: the handle {text!r} is not in normal form"
            raise UsageError(msg, requirement="IDENT-006")
    return parsed
