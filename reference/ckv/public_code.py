"""Public verification codes (spec/ckv/public-code.md, requirements PVC-001...).

A public verification code is a short, typeable fingerprint of an account's
public key that its owner can publish and others can save in a contact card and
check against the key directory. It is derived with PBKDF2-HMAC-SHA256 (key
stretching) from a domain-separated encoding of the account key, its key type,
the account identifier and the cipher suite, and written as 24 Crockford base32
characters (22 carrying 110 bits, 2 check characters) in six groups of four.

Example::

    key = AccountKey(key=pub, key_type=1, account_id=b"acct-1",
                     suite=CipherSuite.KT_128_SHA256_Ed25519)
    code = PublicCode.for_key(key)
    print(code)                       # e.g. "7K2M-9QXA-...."
    parse("7k2m 9qxa ...") == code    # case and separators do not matter
    check_card(code, key).state       # CardState.MATCHES
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import cast

import lark
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from ckv.errors import UsageError
from ckv.wire import resources
from ckv.wire.messages import CipherSuite

__all__ = [
    "ALPHABET",
    "CHECK_SYMBOLS",
    "CODE_SYMBOLS",
    "CONTEXT",
    "DATA_BITS",
    "DATA_SYMBOLS",
    "GROUP_SIZE",
    "ITERATIONS",
    "SECURITY_BITS",
    "AccountKey",
    "CardCheck",
    "CardState",
    "PublicCode",
    "PublicCodeError",
    "check_card",
    "code_input",
    "matches",
    "parse",
]

#: Domain-separation string; also the PBKDF2 salt (PVC-002, PVC-004).
CONTEXT = b"CKV public verification code v1"
#: Crockford base32: digits and letters without I, L, O, U (PVC-006).
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: Characters carrying the fingerprint, check characters, total and group size.
DATA_SYMBOLS = 22
CHECK_SYMBOLS = 2
CODE_SYMBOLS = DATA_SYMBOLS + CHECK_SYMBOLS
GROUP_SIZE = 4
DATA_BITS = 5 * DATA_SYMBOLS
#: PBKDF2 iteration count: 2**17 iterations cost an attacker >= 2**18 SHA-256
#: compressions per candidate key (PVC-005), so 110 + 18 = 128 bits of work.
ITERATIONS = 2**17
SECURITY_BITS = DATA_BITS + 18
_DK_LEN = (DATA_BITS + 7) // 8

# Input normalisation: confusable letters and lower case (PVC-009).
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_VALUE.update({ch.lower(): i for ch, i in list(_VALUE.items()) if ch.isalpha()})
_VALUE.update({"O": 0, "o": 0, "I": 1, "i": 1, "L": 1, "l": 1})

_MAX_U16 = 0xFFFF

# -- GF(32) arithmetic for the check characters (PVC-007) ---------------------
# The field is GF(2)[x] / (x^5 + x^2 + 1); alpha = x generates its 31 units.
_POLY = 0b100101
_EXP = [0] * 62
_LOG = [0] * 32
_x = 1
for _i in range(31):
    _EXP[_i] = _EXP[_i + 31] = _x
    _LOG[_x] = _i
    _x <<= 1
    if _x & 0b100000:
        _x ^= _POLY
del _x, _i


def _mul(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _EXP[_LOG[a] + _LOG[b]]


def _div(a: int, b: int) -> int:
    # Callers never divide by zero: b is a fixed nonzero constant or checked.
    if a == 0:
        return 0
    return _EXP[(_LOG[a] - _LOG[b]) % 31]


def _syndromes(values: tuple[int, ...] | list[int]) -> tuple[int, int]:
    """(sum of c_i, sum of alpha^i * c_i) over GF(32); both zero for a valid code."""
    s0 = s1 = 0
    for i, v in enumerate(values):
        s0 ^= v
        s1 ^= _mul(_EXP[i], v)
    return s0, s1


def _check_symbols(data: list[int]) -> tuple[int, int]:
    """The two check characters that make both syndromes of data + checks zero."""
    s0, s1 = _syndromes(data)
    a22, a23 = _EXP[DATA_SYMBOLS], _EXP[DATA_SYMBOLS + 1]
    c22 = _div(s1 ^ _mul(a23, s0), a22 ^ a23)
    return c22, s0 ^ c22


# -- Errors --------------------------------------------------------------------


class PublicCodeError(UsageError):
    """A pasted or typed public verification code is malformed.

    ``position`` is the 1-based character offset in the input text that the
    problem is at (``None`` when it concerns the whole code).
    """

    def __init__(self, message: str, *, requirement: str, position: int | None = None) -> None:
        super().__init__(message, requirement=requirement)
        self.position = position


# -- Input ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountKey:
    """What a public verification code fingerprints (PVC-002).

    ``key`` is the account public key as opaque bytes and ``key_type`` the
    16-bit identifier of its algorithm and encoding (assigned by the CKV
    account-key section; opaque here). ``account_id`` is the directory's stable
    identifier of the account.
    """

    key: bytes
    key_type: int
    account_id: bytes
    suite: CipherSuite


def code_input(account: AccountKey) -> bytes:
    """The domain-separated encoding of an account key that is stretched (PVC-003)."""
    # PVC-015: refuse a key type outside 1..65535, or an account id or key outside
    # 1..65535 bytes (the ranges of PVC-003).
    if not 1 <= account.key_type <= _MAX_U16:
        msg = f"key type {account.key_type} is outside 1..65535"
        raise UsageError(msg, requirement="PVC-015")
    for name, value in (("account id", account.account_id), ("account key", account.key)):
        if not 1 <= len(value) <= _MAX_U16:
            msg = f"{name} is {len(value)} bytes; it must be 1..65535 bytes"
            raise UsageError(msg, requirement="PVC-015")
    suite = CipherSuite(account.suite)
    return b"".join(
        (
            len(CONTEXT).to_bytes(1, "big"),
            CONTEXT,
            suite.value.to_bytes(2, "big"),
            account.key_type.to_bytes(2, "big"),
            len(account.account_id).to_bytes(2, "big"),
            account.account_id,
            len(account.key).to_bytes(2, "big"),
            account.key,
        )
    )


# -- The code ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublicCode:
    """A well-formed public verification code: its 24 character values (0..31)."""

    values: tuple[int, ...]

    @classmethod
    def for_key(cls, account: AccountKey) -> PublicCode:
        """Derive the code of an account key (PVC-004, PVC-005, PVC-007)."""
        # PVC-004/PVC-005: PBKDF2-HMAC-SHA256 over the input, with the stated work factor.
        kdf = PBKDF2HMAC(
            algorithm=hashes.SHA256(), length=_DK_LEN, salt=CONTEXT, iterations=ITERATIONS
        )
        digest = int.from_bytes(kdf.derive(code_input(account)), "big")
        bits = digest >> (8 * _DK_LEN - DATA_BITS)
        data = [(bits >> (5 * (DATA_SYMBOLS - 1 - i))) & 31 for i in range(DATA_SYMBOLS)]
        return cls(values=(*data, *_check_symbols(data)))

    @classmethod
    def from_data(cls, data: list[int] | tuple[int, ...]) -> PublicCode:
        """The code whose 22 data characters have these values (check characters added)."""
        if len(data) != DATA_SYMBOLS or not all(0 <= v < len(ALPHABET) for v in data):
            msg = f"a code has {DATA_SYMBOLS} data characters with values 0..31"
            raise UsageError(msg)
        return cls(values=(*data, *_check_symbols(list(data))))

    def __str__(self) -> str:
        """The canonical text: upper case, groups of four joined by hyphens (PVC-008)."""
        text = "".join(ALPHABET[v] for v in self.values)
        return "-".join(text[i : i + GROUP_SIZE] for i in range(0, len(text), GROUP_SIZE))


@functools.cache
def _parser() -> lark.Lark:
    grammar = (resources.spec_root() / "grammar" / "public-code.lark").read_text(encoding="utf-8")
    return lark.Lark(grammar, parser="lalr")


def _describe(ch: str) -> str:
    return repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"


def parse(text: str) -> PublicCode:
    """Read a code as a person typed or pasted it; raise PublicCodeError saying what and where."""
    # PVC-010: an empty input is rejected.
    if not text.strip(" \t\r\n-"):
        msg = "the code is empty"
        raise PublicCodeError(msg, requirement="PVC-010")
    try:
        tree = _parser().parse(text)
    except lark.exceptions.UnexpectedCharacters as exc:
        # PVC-016: only code characters and separators may appear (PVC-009 grammar).
        # lark types pos_in_stream as None on the base class; it is set here.
        at = cast("int", exc.pos_in_stream)
        pos = at + 1
        ch = text[at]
        n = sum(1 for c in text[:at] if c in _VALUE) + 1
        hint = " (U is not used in codes)" if ch in "Uu" else ""
        msg = (
            f"character {_describe(ch)} at position {pos} (code character {n}) is not "
            f"a code character{hint}; codes use {ALPHABET} and separators (space, hyphen)"
        )
        raise PublicCodeError(msg, requirement="PVC-016", position=pos) from None
    tokens = list(tree.scan_values(lambda v: isinstance(v, lark.Token)))
    # PVC-010: exactly CODE_SYMBOLS characters.
    if len(tokens) != CODE_SYMBOLS:
        extra_at: int | None = None
        if len(tokens) > CODE_SYMBOLS:
            extra_at = (tokens[CODE_SYMBOLS].start_pos or 0) + 1
            where = f"; the extra characters start at position {extra_at}"
        else:
            where = f"; {CODE_SYMBOLS - len(tokens)} missing"
        msg = f"the code has {len(tokens)} characters, expected {CODE_SYMBOLS}{where}"
        raise PublicCodeError(msg, requirement="PVC-010", position=extra_at)
    values = tuple(_VALUE[str(t)] for t in tokens)
    # PVC-011: both check equations must hold.
    s0, s1 = _syndromes(values)
    if s0 or s1:
        positions = [(t.start_pos or 0) + 1 for t in tokens]
        msg = "the check characters do not match: the code was mistyped" + _hint(
            values, s0, s1, positions
        )
        raise PublicCodeError(msg, requirement="PVC-011")
    return PublicCode(values=values)


def _hint(values: tuple[int, ...], s0: int, s1: int, positions: list[int]) -> str:
    """Say which single change would make the code valid, if one would (informative)."""
    hints = []
    v = list(values)
    for i in range(CODE_SYMBOLS - 1):
        if v[i] != v[i + 1]:
            v[i], v[i + 1] = v[i + 1], v[i]
            if _syndromes(v) == (0, 0):
                hints.append(
                    f"characters {i + 1} and {i + 2} (positions {positions[i]} and "
                    f"{positions[i + 1]}) may be swapped"
                )
            v[i], v[i + 1] = v[i + 1], v[i]
    if s0 and s1:
        j = _LOG[_div(s1, s0)]
        if j < CODE_SYMBOLS:
            hints.append(f"character {j + 1} (position {positions[j]}) may be wrong")
    return "; " + "; or ".join(hints) if hints else ""


def matches(code: PublicCode, account: AccountKey) -> bool:
    """Whether a code is the code of this account key (PVC-012)."""
    # PVC-012: a match is equality of all 24 values with the code derived from the key.
    return PublicCode.for_key(account) == code


# -- Contact cards ------------------------------------------------------------------


class CardState(enum.Enum):
    """What a contact card shows next to a saved public verification code (PVC-013)."""

    NOT_CHECKED = "not checked"
    MATCHES = "matches"
    NO_LONGER_MATCHES = "no longer matches"


@dataclass(frozen=True, slots=True)
class CardCheck:
    """The result of checking a saved code against the key the directory serves."""

    code: PublicCode
    state: CardState
    #: The directory key the state refers to (None when not checked).
    checked: AccountKey | None = None

    def recheck(self, directory_key: AccountKey | None) -> CardCheck:
        """Check again, e.g. after the directory's key changed (PVC-014)."""
        # PVC-014: a changed directory key is always checked afresh.
        if directory_key == self.checked and self.state is not CardState.NOT_CHECKED:
            return self
        return check_card(self.code, directory_key)


def check_card(code: PublicCode, directory_key: AccountKey | None) -> CardCheck:
    """Check a saved code against the directory's current key for that contact (PVC-013)."""
    if directory_key is None:
        return CardCheck(code=code, state=CardState.NOT_CHECKED)
    # PVC-013: a check mark only when the code is the code of the directory's key.
    state = CardState.MATCHES if matches(code, directory_key) else CardState.NO_LONGER_MATCHES
    return CardCheck(code=code, state=state, checked=directory_key)
