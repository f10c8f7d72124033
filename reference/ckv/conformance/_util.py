"""Small helpers shared by the vector generators and the reference handlers."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from ckv.errors import CKVError, ErrorCode, UsageError
from ckv.wire.messages import CipherSuite

__all__ = [
    "SUITE_SHORT",
    "Rng",
    "error_of",
    "flip_bit",
    "hexb",
    "suite_named",
]

JSON = Any

#: Short names of the cipher suites, used in file names and IDs.
SUITE_SHORT = {
    CipherSuite.KT_128_SHA256_P256: "p256",
    CipherSuite.KT_128_SHA256_Ed25519: "ed25519",
}
#: The error class of a malformed input a caller gave (not a wire or proof failure).
BAD_INPUT = "BAD_INPUT"
#: The error class of a public verification code that does not parse.
MALFORMED_CODE = "MALFORMED_CODE"


class Rng:
    """Deterministic bytes: SHA-256 in counter mode over a seed (never ``os.urandom``)."""

    def __init__(self, seed: str | bytes) -> None:
        self.seed = seed.encode() if isinstance(seed, str) else seed
        self.counter = 0

    def __call__(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            out += hashlib.sha256(self.seed + self.counter.to_bytes(8, "big")).digest()
            self.counter += 1
        return bytes(out[:n])

    def below(self, n: int) -> int:
        """A number in ``0 .. n-1`` (slightly biased; fine for test data)."""
        return int.from_bytes(self(8), "big") % n


def hexb(value: JSON, what: str = "value") -> bytes:
    """Bytes from a lowercase hex string of a request (UsageError if it is not one)."""
    if not isinstance(value, str):
        msg = f"{what}: expected a hex string, got {type(value).__name__}"
        raise UsageError(msg)
    try:
        return bytes.fromhex(value)
    except ValueError:
        msg = f"{what}: not hex"
        raise UsageError(msg) from None


def flip_bit(data: bytes, bit: int) -> bytes:
    """``data`` with one bit flipped (``bit`` counts from the first byte's high bit)."""
    out = bytearray(data)
    out[(bit // 8) % len(out)] ^= 0x80 >> (bit % 8)
    return bytes(out)


def suite_named(name: JSON) -> CipherSuite:
    """A cipher suite from its name in a vector."""
    try:
        return CipherSuite[str(name)]
    except KeyError:
        msg = f"unknown cipher suite {name!r}"
        raise UsageError(msg) from None


def error_of(exc: CKVError) -> tuple[str, str | None]:
    """The error class and requirement ID an adapter reports for a rejection."""
    from ckv.public_code import PublicCodeError  # noqa: PLC0415 - avoids an import cycle

    if isinstance(exc, PublicCodeError):
        return MALFORMED_CODE, exc.requirement
    code = getattr(exc, "code", None)
    if isinstance(code, ErrorCode):
        return code.value, exc.requirement
    return BAD_INPUT, exc.requirement


def rejects(check: Callable[[], object]) -> CKVError | None:
    """The CKVError ``check`` raises, or None if it accepts (generator self-checks)."""
    try:
        check()
    except CKVError as exc:
        return exc
    return None
