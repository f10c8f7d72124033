"""Prefix tree node values and search-key bits (KEYTRANS §3.3, §11.9).

A search key is read as a string of bits, most significant bit of its first
byte first; bit 0 selects the root's child, bit 1 the child below that, and so
on. A ``0`` bit goes left and a ``1`` bit goes right (§3.3).

The hash function is a parameter everywhere: a callable from bytes to the
digest, SHA-256 unless the caller passes another (§17.1's suites both use
SHA-256). ``Hash.Nh`` is the length of its output.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _hashlib import HASH

__all__ = [
    "LEAF_TAG",
    "PARENT_TAG",
    "HashFunction",
    "digest_size",
    "key_bit",
    "leaf_value",
    "parent_value",
    "sha256",
    "shared_prefix_bits",
    "tagged",
]

#: A hash function: bytes in, digest out.
HashFunction = Callable[[bytes], bytes]

#: PREFIX-005: the first byte hashed for a leaf (§11.9).
LEAF_TAG = b"\x02"
#: PREFIX-006: the first byte hashed for a parent (§11.9).
PARENT_TAG = b"\x03"

_SIZES: dict[HashFunction, int] = {}
# Shared, never updated after creation: callers only copy() them.
_TAGGED: dict[bytes, HASH] = {}


def sha256(data: bytes) -> bytes:
    """SHA-256, the hash of both KEYTRANS cipher suites (§17.1)."""
    return hashlib.sha256(data).digest()


def digest_size(hash_fn: HashFunction) -> int:
    """``Hash.Nh`` of a hash function: the length of its output (cached)."""
    size = _SIZES.get(hash_fn)
    if size is None:
        size = _SIZES[hash_fn] = len(hash_fn(b""))
    return size


def leaf_value(vrf_output: bytes, commitment: bytes, hash_fn: HashFunction = sha256) -> bytes:
    """The value of a leaf: ``Hash(0x02 || vrf_output || commitment)`` (PREFIX-005)."""
    return hash_fn(LEAF_TAG + vrf_output + commitment)


def parent_value(left: bytes, right: bytes, hash_fn: HashFunction = sha256) -> bytes:
    """The value of a parent: ``Hash(0x03 || left || right)`` (PREFIX-006).

    Pass ``Hash.Nh`` zero bytes for a child that does not exist.
    """
    return hash_fn(PARENT_TAG + left + right)


def tagged(hash_fn: HashFunction, tag: bytes) -> HASH | None:
    """For the default hash only: a SHA-256 object already fed ``tag``, to ``copy()`` per node.

    Copying it and feeding the rest gives the same digest as ``sha256(tag + rest)``
    with one allocation and one Python call fewer, which is most of the cost of a
    node above the hash itself. ``None`` for any other hash function.
    """
    if hash_fn is not sha256:
        return None
    base = _TAGGED.get(tag)
    if base is None:
        base = _TAGGED[tag] = hashlib.sha256(tag)
    return base


def key_bit(key: bytes, index: int) -> int:
    """Bit ``index`` of a search key, most significant bit of byte 0 first (PREFIX-001)."""
    return (key[index >> 3] >> (7 - (index & 7))) & 1


def shared_prefix_bits(a: bytes, b: bytes) -> int:
    """How many leading bits two equally long keys have in common (``8 * len`` if equal)."""
    diff = int.from_bytes(a, "big") ^ int.from_bytes(b, "big")
    return 8 * len(a) - diff.bit_length()
