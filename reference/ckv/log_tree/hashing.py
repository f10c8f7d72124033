"""Log tree hashing (KEYTRANS §11.8): leaf and parent values, the suite hash."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Protocol

from ckv.errors import UsageError
from ckv.wire import messages
from ckv.wire.codec import codec_for

__all__ = [
    "LEAF_PREFIX",
    "PARENT_PREFIX",
    "HashFn",
    "HashObject",
    "digest_size",
    "fold_contents",
    "hash_for_suite",
    "hash_object",
    "leaf_value",
    "parent_value",
    "sha256",
]

#: A cipher suite's hash function: bytes in, digest out (KEYTRANS §17.1).
HashFn = Callable[[bytes], bytes]

#: hashContent prefix of a leaf (KEYTRANS §11.8).
LEAF_PREFIX = b"\x00"
#: hashContent prefix of a parent (KEYTRANS §11.8).
PARENT_PREFIX = b"\x01"
_LEAF = LEAF_PREFIX
_PARENT = PARENT_PREFIX

_sha256 = hashlib.sha256


def sha256(data: bytes) -> bytes:
    """SHA-256, the hash of both CKV cipher suites (KEYTRANS §17.1)."""
    return _sha256(data).digest()


_DIGEST_SIZES: dict[HashFn, int] = {sha256: 32}


def digest_size(hash_fn: HashFn) -> int:
    """``Hash.Nh`` of a hash function (measured once, then remembered)."""
    nh = _DIGEST_SIZES.get(hash_fn)
    if nh is None:
        nh = _DIGEST_SIZES[hash_fn] = len(hash_fn(b""))
    return nh


class _Digest:
    """Adapts a ``HashFn`` to the ``hashlib`` shape: ``new(data).digest()``."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        self._value = value

    def digest(self) -> bytes:
        return self._value


class HashObject(Protocol):
    """What ``hashlib`` constructors return: an object with ``digest()``."""

    def digest(self) -> bytes:
        """The digest of the data the object was made from."""
        ...


def hash_object(hash_fn: HashFn) -> Callable[[bytes], HashObject]:
    """``hashlib.sha256`` itself for the default hash (one call less per node), else an adapter."""
    if hash_fn is sha256:
        return _sha256
    return lambda data: _Digest(hash_fn(data))


def hash_for_suite(suite: messages.CipherSuite) -> HashFn:
    """The hash function of a cipher suite."""
    if suite in (
        messages.CipherSuite.KT_128_SHA256_P256,
        messages.CipherSuite.KT_128_SHA256_Ed25519,
    ):
        return sha256
    msg = f"unsupported cipher suite {suite!r}"
    raise UsageError(msg)


def leaf_value(
    entry: messages.LogEntry,
    *,
    suite: messages.CipherSuite = messages.CipherSuite.KT_128_SHA256_Ed25519,
) -> bytes:
    """The value of a log tree leaf: the suite hash of the encoded ``LogEntry`` (LOG-002)."""
    return hash_for_suite(suite)(codec_for(suite).encode(entry))


def parent_value(
    left: bytes,
    right: bytes,
    *,
    left_is_leaf: bool,
    right_is_leaf: bool,
    hash_fn: HashFn = sha256,
) -> bytes:
    """The value of a parent node from its children's values (LOG-003)."""
    return hash_fn(
        (_LEAF if left_is_leaf else _PARENT) + left + (_LEAF if right_is_leaf else _PARENT) + right
    )


def fold_contents(contents: Sequence[bytes], hash_fn: HashFn) -> bytes:
    """Root value from the hashContent of the full subtrees, left to right (LOG-001)."""
    acc = contents[-1]
    for content in reversed(contents[:-1]):
        acc = _PARENT + hash_fn(content + acc)
    return acc[1:]
