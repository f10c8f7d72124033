"""The one error hierarchy of the CKV reference implementation.

Every error the library raises on purpose derives from :class:`CKVError`. Each
carries, where one applies, the requirement ID of the spec statement that the
failed check enforces, and ``diagnostics()`` renders the one-line explanation
the command line prints.
"""

from __future__ import annotations

import enum

__all__ = [
    "CKVError",
    "DecodeError",
    "EncodeError",
    "ErrorCode",
    "SchemaError",
    "UsageError",
    "VerificationError",
    "WireError",
]


class ErrorCode(enum.StrEnum):
    """Machine-readable classes of failure (also used by the conformance suite)."""

    # Wire decoding and encoding (spec chapter "Wire format").
    TRUNCATED = "TRUNCATED"
    TRAILING_BYTES = "TRAILING_BYTES"
    LENGTH_OUT_OF_RANGE = "LENGTH_OUT_OF_RANGE"
    OPTIONAL_BAD_PRESENCE = "OPTIONAL_BAD_PRESENCE"
    UNKNOWN_ENUM = "UNKNOWN_ENUM"
    TOO_LARGE = "TOO_LARGE"
    TOO_DEEP = "TOO_DEEP"
    MISSING_CONTEXT = "MISSING_CONTEXT"
    BAD_VALUE = "BAD_VALUE"
    # Verification (key transparency and the CKV layer).
    PROOF_INVALID = "PROOF_INVALID"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"


class CKVError(Exception):
    """Base class of every error raised on purpose by the reference implementation."""

    #: Requirement ID (for example ``WIRE-004``) of the check that failed, if any.
    requirement: str | None = None

    def __init__(self, message: str, *, requirement: str | None = None) -> None:
        super().__init__(message)
        if requirement is not None:
            self.requirement = requirement

    def diagnostics(self) -> str:
        """One line for a human: the message and the requirement it enforces."""
        text = str(self)
        if self.requirement and self.requirement not in text:
            text = f"{text} [{self.requirement}]"
        return text


class UsageError(CKVError):
    """The caller used the API or the command line wrongly (a local error)."""


class SchemaError(CKVError):
    """A `.tls` wire definition does not parse or is not well formed."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        where = source or "<schema>"
        if line is not None:
            where = f"{where}:{line}" + (f":{column}" if column is not None else "")
        super().__init__(f"{where}: {message}")
        self.source = source
        self.line = line
        self.column = column


class WireError(CKVError):
    """A value could not be decoded from, or encoded to, its wire form."""

    def __init__(
        self,
        path: str,
        reason: str,
        *,
        code: ErrorCode,
        requirement: str | None = None,
        offset: int | None = None,
    ) -> None:
        where = path if offset is None else f"{path} (byte {offset})"
        super().__init__(f"{where}: {reason}", requirement=requirement)
        self.path = path
        self.reason = reason
        self.code = code
        self.offset = offset


class DecodeError(WireError):
    """Bytes are not the canonical encoding of the requested structure."""


class EncodeError(WireError):
    """A value does not satisfy the constraints of its structure, so it cannot be encoded."""


class VerificationError(CKVError):
    """A proof, signature or protocol check failed."""

    def __init__(
        self,
        message: str,
        *,
        requirement: str,
        code: ErrorCode = ErrorCode.PROOF_INVALID,
        expected: object = None,
        computed: object = None,
    ) -> None:
        super().__init__(message, requirement=requirement)
        self.code = code
        self.expected = expected
        self.computed = computed
