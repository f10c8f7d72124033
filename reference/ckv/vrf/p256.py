"""ECVRF-P256-SHA256-TAI (RFC 9381 §5.5), the VRF of ``KT_128_SHA256_P256``.

Libraries, and why (see also the spec's implementation notes):

* ``cryptography`` decodes compressed SEC1 points (it checks ``x < p`` and that
  the point is on the curve) and computes multiples of the base point.
* ``pycryptodome``'s :class:`~Crypto.PublicKey.ECC.EccPoint` does the rest of
  the point arithmetic: multiples of an arbitrary point, addition and
  negation, which ``cryptography`` does not expose.
* ``ecdsa`` (python-ecdsa) provides RFC 6979's deterministic nonce, which
  RFC 9381 §5.4.2.1 prescribes for this ciphersuite.

Points are ``EccPoint`` objects; integers are big-endian (RFC 9381 §5.5).
"""

from __future__ import annotations

import hashlib
from typing import cast

from Crypto.Math.Numbers import Integer
from Crypto.PublicKey.ECC import EccPoint  # type: ignore[attr-defined]
from cryptography.hazmat.primitives.asymmetric import ec
from ecdsa.rfc6979 import generate_k  # type: ignore[import-untyped]

from ckv.errors import UsageError
from ckv.vrf._ecvrf import Ecvrf

__all__ = ["ECVRF_P256_SHA256_TAI", "P256Group"]

_CURVE = "p256"
_SECP256R1 = ec.SECP256R1()

#: The field prime and the group order of P-256 (SEC 2, §2.4.2).
P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
Q = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

_SK_LEN = 32


def _public(n: int) -> int:
    """A scalar marked public, so that pycryptodome uses its faster variable-time path.

    ``EccPoint.__mul__`` is annotated with ``int`` but takes a public ``Integer``
    (documented on ``EccPoint.__imul__``); the cast only tells the type checker.
    """
    return cast("int", Integer(n, public=True))


class P256Group:
    """The group operations RFC 9381 needs, for NIST P-256 with SHA-256."""

    name = "ECVRF-P256-SHA256-TAI"
    suite_string = b"\x01"
    pt_len = 33
    q_len = 32
    q = Q
    h_len = 32

    __slots__ = ("_infinity",)

    def __init__(self) -> None:
        self._infinity = EccPoint(0, 0, _CURVE)

    def hash(self, data: bytes) -> bytes:
        """SHA-256."""
        return hashlib.sha256(data).digest()

    def string_to_int(self, data: bytes) -> int:
        """Big-endian (RFC 9381 §5.5)."""
        return int.from_bytes(data, "big")

    def int_to_string(self, n: int, length: int) -> bytes:
        """Big-endian (RFC 9381 §5.5)."""
        return n.to_bytes(length, "big")

    def string_to_point(self, data: bytes) -> EccPoint | None:
        """SEC1 §2.3.4 decoding of a compressed point; anything else is INVALID."""
        if len(data) != self.pt_len or data[0] not in (2, 3):
            return None
        try:
            numbers = ec.EllipticCurvePublicKey.from_encoded_point(_SECP256R1, data)
        except ValueError:
            return None
        pub = numbers.public_numbers()
        return EccPoint(pub.x, pub.y, _CURVE)

    def point_to_string(self, point: EccPoint) -> bytes:
        """SEC1 §2.3.3 encoding with point compression (the identity is ``00``)."""
        if point.is_point_at_infinity():
            return b"\x00"
        x, y = point.xy
        return bytes((2 | (y & 1),)) + x.to_bytes(32, "big")

    def hash_to_point(self, hash_string: bytes) -> EccPoint | None:
        """``string_to_point(0x02 || hash_string)`` (RFC 9381 §5.5)."""
        return self.string_to_point(b"\x02" + hash_string)

    def clear_cofactor(self, point: EccPoint) -> EccPoint:
        """The cofactor of P-256 is 1."""
        return point

    def is_identity(self, point: EccPoint) -> bool:
        """Whether ``point`` is the point at infinity."""
        return point.is_point_at_infinity()

    def is_small_order(self, point: EccPoint) -> bool:
        """With cofactor 1, only the identity."""
        return point.is_point_at_infinity()

    def base_mul_secret(self, n: int) -> EccPoint:
        """``n * B`` through ``cryptography`` (constant time in OpenSSL)."""
        if n % Q == 0:
            return self._infinity.copy()
        pub = ec.derive_private_key(n % Q, _SECP256R1).public_key().public_numbers()
        return EccPoint(pub.x, pub.y, _CURVE)

    def base_mul(self, n: int) -> EccPoint:
        """``n * B`` for a public scalar."""
        return self.base_mul_secret(n)

    def mul(self, n: int, point: EccPoint) -> EccPoint:
        """``n * point`` for a public scalar (variable time)."""
        return point * _public(n % Q)

    def mul_secret(self, n: int, point: EccPoint) -> EccPoint:
        """``n * point`` for a secret scalar (pycryptodome blinds it)."""
        return point * (n % Q)

    def sub(self, a: EccPoint, b: EccPoint) -> EccPoint:
        """``a - b``."""
        return a + (-b)

    def secret_scalar(self, secret_key: bytes) -> int:
        """``x``: the secret key is the 32-byte big-endian scalar, ``1 <= x < q``."""
        if len(secret_key) != _SK_LEN:
            msg = f"a P-256 VRF secret key is {_SK_LEN} bytes, not {len(secret_key)}"
            raise UsageError(msg)
        x = int.from_bytes(secret_key, "big")
        if not 0 < x < Q:
            msg = "a P-256 VRF secret key must be a scalar in [1, q-1]"
            raise UsageError(msg)
        return x

    def nonce(self, secret_key: bytes, x: int, h_string: bytes) -> int:  # noqa: ARG002
        """``ECVRF_nonce_generation_RFC6979`` (RFC 9381 §5.4.2.1): RFC 6979 §3.2, m = h_string."""
        k: int = generate_k(Q, x, hashlib.sha256, hashlib.sha256(h_string).digest())
        return k


#: ECVRF-P256-SHA256-TAI; ``VRF.Np`` = 81, 32-byte output.
ECVRF_P256_SHA256_TAI: Ecvrf[EccPoint] = Ecvrf(P256Group())
