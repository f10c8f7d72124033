"""ECVRF-EDWARDS25519-SHA512-TAI (RFC 9381 §5.5), the VRF of ``KT_128_SHA256_Ed25519``.

Point arithmetic is libsodium's, through PyNaCl's bindings. Points are their
32-byte encodings (RFC 8032 §5.1.2); integers are little-endian (RFC 9381 §5.5).

libsodium's scalar multiplication refuses points outside the prime-order
subgroup, while RFC 9381 verification must accept a public key or a ``Gamma``
with a torsion component (only small-order keys are refused, by
``ECVRF_validate_key``). :meth:`Edwards25519Group.mul` therefore splits such a
point into its prime-order and torsion parts, both computed with libsodium,
when the direct multiplication is refused. Honest proofs never take that path.
"""

from __future__ import annotations

import hashlib

from nacl import bindings as sodium
from nacl.exceptions import RuntimeError as SodiumError

from ckv.errors import UsageError
from ckv.vrf._ecvrf import Ecvrf

__all__ = ["ECVRF_EDWARDS25519_SHA512_TAI", "IDENTITY", "SMALL_ORDER", "Edwards25519Group"]

#: The field prime and the prime order of the base point (RFC 8032 §5.1).
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
#: The encoding of the identity element (x = 0, y = 1).
IDENTITY = (1).to_bytes(32, "little")

#: The canonical encodings of the eight points of order dividing 8 (the identity, the
#: point of order 2, two of order 4 and four of order 8). tests/kt/test_vrf.py derives
#: the same set independently.
SMALL_ORDER = frozenset(
    bytes.fromhex(h)
    for h in (
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    )
)

_INV8 = pow(8, -1, L).to_bytes(32, "little")
_Y_MASK = (1 << 255) - 1
_SK_LEN = 32


class Edwards25519Group:
    """The group operations RFC 9381 needs, for edwards25519 with SHA-512."""

    name = "ECVRF-EDWARDS25519-SHA512-TAI"
    suite_string = b"\x03"
    pt_len = 32
    q_len = 32
    q = L
    h_len = 64

    __slots__ = ()

    def hash(self, data: bytes) -> bytes:
        """SHA-512."""
        return hashlib.sha512(data).digest()

    def string_to_int(self, data: bytes) -> int:
        """Little-endian (RFC 9381 §5.5)."""
        return int.from_bytes(data, "little")

    def int_to_string(self, n: int, length: int) -> bytes:
        """Little-endian (RFC 9381 §5.5)."""
        return n.to_bytes(length, "little")

    def string_to_point(self, data: bytes) -> bytes | None:
        """RFC 8032 §5.1.3 decoding, strictly: non-canonical encodings are INVALID."""
        if len(data) != self.pt_len:
            return None
        y = int.from_bytes(data, "little") & _Y_MASK
        # RFC 8032 §5.1.3 step 1: y must be below p.
        if y >= P:
            return None
        # RFC 8032 §5.1.3 step 4: x = 0 (y = 1 or y = -1) with the sign bit set.
        if data[31] & 0x80 and y in (1, P - 1):
            return None
        # Steps 2-3: libsodium recovers x and fails if (y^2 - 1)/(d y^2 + 1) has no root.
        try:
            sodium.crypto_core_ed25519_add(data, IDENTITY)
        except SodiumError:
            return None
        return data

    def point_to_string(self, point: bytes) -> bytes:
        """Points are kept encoded."""
        return point

    def hash_to_point(self, hash_string: bytes) -> bytes | None:
        """``string_to_point`` of the first 32 octets (RFC 9381 §5.5)."""
        return self.string_to_point(hash_string[:32])

    def clear_cofactor(self, point: bytes) -> bytes:
        """``8 * point``, as three doublings."""
        add = sodium.crypto_core_ed25519_add
        p2 = add(point, point)
        p4 = add(p2, p2)
        return add(p4, p4)

    def is_identity(self, point: bytes) -> bool:
        """Whether ``point`` is the identity (encodings are canonical)."""
        return point == IDENTITY

    def is_small_order(self, point: bytes) -> bool:
        """Whether ``8 * point`` is the identity: one of eight canonical encodings."""
        return point in SMALL_ORDER

    def base_mul_secret(self, n: int) -> bytes:
        """``n * B``."""
        n %= L
        if n == 0:
            return IDENTITY
        return sodium.crypto_scalarmult_ed25519_base_noclamp(n.to_bytes(32, "little"))

    def base_mul(self, n: int) -> bytes:
        """``n * B`` for a public scalar."""
        return self.base_mul_secret(n)

    def mul_secret(self, n: int, point: bytes) -> bytes:
        """``n * point`` for a point of the prime-order subgroup."""
        n %= L
        if n == 0:
            return IDENTITY
        return sodium.crypto_scalarmult_ed25519_noclamp(n.to_bytes(32, "little"), point)

    def mul(self, n: int, point: bytes) -> bytes:
        """``n * point`` for ``0 <= n < 2^255`` and any point on the curve."""
        if n == 0:
            return IDENTITY
        try:
            return sodium.crypto_scalarmult_ed25519_noclamp(n.to_bytes(32, "little"), point)
        except SodiumError:
            # Refused: the point is not in the prime-order subgroup (or n*point is the identity).
            return self._mul_any(n, point)

    def _mul_any(self, n: int, point: bytes) -> bytes:
        """``n * point`` through the decomposition point = main + torsion."""
        eight_p = self.clear_cofactor(point)
        if eight_p == IDENTITY:
            return self._small_mul(n % 8, point)
        # 8 * point lies in the prime-order subgroup; (8^-1 mod L) * (8 * point) is the
        # prime-order component of point, and what remains has order dividing 8.
        main = sodium.crypto_scalarmult_ed25519_noclamp(_INV8, eight_p)
        torsion = sodium.crypto_core_ed25519_sub(point, main)
        m = n % L
        main_part = (
            IDENTITY
            if m == 0
            else sodium.crypto_scalarmult_ed25519_noclamp(m.to_bytes(32, "little"), main)
        )
        return sodium.crypto_core_ed25519_add(main_part, self._small_mul(n % 8, torsion))

    @staticmethod
    def _small_mul(m: int, point: bytes) -> bytes:
        acc = IDENTITY
        for _ in range(m):
            acc = sodium.crypto_core_ed25519_add(acc, point)
        return acc

    def sub(self, a: bytes, b: bytes) -> bytes:
        """``a - b``."""
        return sodium.crypto_core_ed25519_sub(a, b)

    def secret_scalar(self, secret_key: bytes) -> int:
        """``x`` from the 32-byte secret key (RFC 8032 §5.1.5), reduced modulo L."""
        if len(secret_key) != _SK_LEN:
            msg = f"an Ed25519 VRF secret key is {_SK_LEN} bytes, not {len(secret_key)}"
            raise UsageError(msg)
        h = bytearray(hashlib.sha512(secret_key).digest()[:32])
        h[0] &= 248
        h[31] &= 127
        h[31] |= 64
        return int.from_bytes(h, "little") % L

    def nonce(self, secret_key: bytes, x: int, h_string: bytes) -> int:  # noqa: ARG002
        """``ECVRF_nonce_generation_RFC8032`` (RFC 9381 §5.4.2.2)."""
        prefix = hashlib.sha512(secret_key).digest()[32:]
        return int.from_bytes(hashlib.sha512(prefix + h_string).digest(), "little") % L


#: ECVRF-EDWARDS25519-SHA512-TAI; ``VRF.Np`` = 80, 64-byte output (KEYTRANS truncates it).
ECVRF_EDWARDS25519_SHA512_TAI: Ecvrf[bytes] = Ecvrf(Edwards25519Group())
