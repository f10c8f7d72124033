"""The ECVRF algorithms of RFC 9381 §5, written once over an abstract group.

The two ciphersuites CKV uses (RFC 9381 §5.5: ECVRF-P256-SHA256-TAI and
ECVRF-EDWARDS25519-SHA512-TAI) differ only in their group, their hash, their
integer byte order and their nonce generation; :class:`Group` is that
difference, and :class:`Ecvrf` is everything else: ``ECVRF_prove`` (§5.1),
``ECVRF_proof_to_hash`` (§5.2), ``ECVRF_verify`` (§5.3), try-and-increment
encoding to the curve (§5.4.1.1), challenge generation (§5.4.3), proof decoding
(§5.4.4) and key validation (§5.4.5).

Verification always runs ``ECVRF_validate_key`` (CKV fixes the RFC's
``validate_key`` parameter to TRUE). Every rejection is a
:class:`~ckv.errors.VerificationError` naming the CKV requirement it enforces.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from ckv.errors import ErrorCode, UsageError, VerificationError

__all__ = ["Ecvrf", "Group"]

P = TypeVar("P")

# Requirement IDs of the checks below (spec/kt/cipher-suites.md).
REQ_PUBLIC_KEY = "SUITE-008"
REQ_VALIDATE_KEY = "SUITE-009"
REQ_PROOF_FORMAT = "SUITE-010"
REQ_CHALLENGE = "SUITE-011"

# Domain separation octets (RFC 9381 §5.2, §5.4.1.1, §5.4.3).
_ENCODE_FRONT = b"\x01"
_CHALLENGE_FRONT = b"\x02"
_PROOF_TO_HASH_FRONT = b"\x03"
_BACK = b"\x00"

#: cLen, the challenge length in octets, for both suites (RFC 9381 §5.5).
C_LEN = 16


class Group(Protocol[P]):
    """The operations RFC 9381 §5 needs from a ciphersuite's group.

    ``P`` is the group's point type. Points handed to ``mul`` and ``sub`` may
    lie outside the prime-order subgroup (a decoded public key or ``Gamma``);
    ``mul_secret`` is only used on points of the prime-order subgroup.
    """

    #: Name of the RFC 9381 ciphersuite, e.g. ``ECVRF-P256-SHA256-TAI``.
    name: str
    #: ``suite_string``: one octet (RFC 9381 §5.5).
    suite_string: bytes
    #: ``ptLen``: the length of an encoded point.
    pt_len: int
    #: ``qLen``: the length of an encoded scalar.
    q_len: int
    #: ``q``: the prime order of the subgroup.
    q: int
    #: ``hLen``: the length of the ciphersuite hash output.
    h_len: int

    def hash(self, data: bytes) -> bytes:
        """The ciphersuite hash function."""
        ...

    def string_to_int(self, data: bytes) -> int:
        """``string_to_int`` (RFC 9381 §5.5)."""
        ...

    def int_to_string(self, n: int, length: int) -> bytes:
        """``int_to_string`` (RFC 9381 §5.5)."""
        ...

    def string_to_point(self, data: bytes) -> P | None:
        """``string_to_point``; ``None`` for INVALID."""
        ...

    def point_to_string(self, point: P) -> bytes:
        """``point_to_string``."""
        ...

    def hash_to_point(self, hash_string: bytes) -> P | None:
        """``interpret_hash_value_as_a_point``; ``None`` for INVALID."""
        ...

    def clear_cofactor(self, point: P) -> P:
        """``cofactor * point``."""
        ...

    def is_identity(self, point: P) -> bool:
        """Whether ``point`` is the identity element."""
        ...

    def is_small_order(self, point: P) -> bool:
        """Whether ``cofactor * point`` is the identity (RFC 9381 §5.4.5)."""
        ...

    def base_mul(self, n: int) -> P:
        """``n * B`` for a public scalar ``0 <= n < q``."""
        ...

    def mul(self, n: int, point: P) -> P:
        """``n * point`` for a public scalar ``0 <= n < q`` and any point on the curve."""
        ...

    def base_mul_secret(self, n: int) -> P:
        """``n * B`` for a secret scalar ``0 <= n < q``."""
        ...

    def mul_secret(self, n: int, point: P) -> P:
        """``n * point`` for a secret scalar and a point of the prime-order subgroup."""
        ...

    def sub(self, a: P, b: P) -> P:
        """``a - b``."""
        ...

    def secret_scalar(self, secret_key: bytes) -> int:
        """The secret scalar ``x`` (reduced modulo ``q``) of a secret key."""
        ...

    def nonce(self, secret_key: bytes, x: int, h_string: bytes) -> int:
        """``ECVRF_nonce_generation`` (RFC 9381 §5.4.2) for this ciphersuite."""
        ...


def _reject(requirement: str, message: str, *, expected: object = None) -> VerificationError:
    return VerificationError(
        message, requirement=requirement, code=ErrorCode.PROOF_INVALID, expected=expected
    )


@dataclass(frozen=True, slots=True)
class _Proof(Generic[P]):
    gamma_string: bytes
    gamma: P
    c: int
    s: int


class Ecvrf(Generic[P]):
    """One ECVRF ciphersuite of RFC 9381: prove, proof_to_hash and verify."""

    __slots__ = ("_group", "proof_size")

    def __init__(self, group: Group[P]) -> None:
        self._group = group
        #: The size of a proof, ``ptLen + cLen + qLen`` (KEYTRANS ``VRF.Np``).
        self.proof_size = group.pt_len + C_LEN + group.q_len

    @property
    def name(self) -> str:
        """The RFC 9381 ciphersuite name."""
        return self._group.name

    @property
    def output_size(self) -> int:
        """The size of ``beta_string`` (the hash length; KEYTRANS may truncate it)."""
        return self._group.h_len

    @property
    def public_key_size(self) -> int:
        """The size of an encoded public key (``ptLen``)."""
        return self._group.pt_len

    # -- keys ------------------------------------------------------------------

    def public_key(self, secret_key: bytes) -> bytes:
        """``PK_string`` of a secret key (RFC 9381 §3.1, §5.5)."""
        g = self._group
        return g.point_to_string(g.base_mul_secret(g.secret_scalar(secret_key)))

    def validate_public_key(self, public_key: bytes) -> P:
        """Decode ``PK_string`` and run ``ECVRF_validate_key`` (RFC 9381 §5.4.5)."""
        g = self._group
        # SUITE-008: the public key must decode to a point on the curve (RFC 9381 §5.3 step 1).
        y = g.string_to_point(public_key) if len(public_key) == g.pt_len else None
        if y is None:
            raise _reject(
                REQ_PUBLIC_KEY,
                f"{g.name} public key {public_key.hex()} ({len(public_key)} bytes) is not the "
                f"encoding of a point on the curve ({g.pt_len} bytes expected)",
            )
        # SUITE-009: ECVRF_validate_key rejects a key whose cofactor multiple is the identity.
        if g.is_small_order(y):
            raise _reject(
                REQ_VALIDATE_KEY,
                f"{g.name} public key {public_key.hex()} is of small order (ECVRF_validate_key)",
            )
        return y

    # -- RFC 9381 §5.4 helpers -------------------------------------------------

    def encode_to_curve(self, salt: bytes, alpha: bytes) -> P:
        """``ECVRF_encode_to_curve_try_and_increment`` (RFC 9381 §5.4.1.1)."""
        g = self._group
        prefix = g.suite_string + _ENCODE_FRONT + salt + alpha
        for ctr in range(256):
            point = g.hash_to_point(g.hash(prefix + bytes((ctr,)) + _BACK))
            if point is None:
                continue
            point = g.clear_cofactor(point)
            if not g.is_identity(point):
                return point
        # Each try fails with probability about 1/2; 256 failures do not happen.
        msg = f"{g.name}: encode_to_curve found no point in 256 tries"  # pragma: no cover
        raise UsageError(msg)  # pragma: no cover

    def _challenge(self, *point_strings: bytes) -> bytes:
        """``ECVRF_challenge_generation`` (RFC 9381 §5.4.3), as the ``cLen`` octets."""
        g = self._group
        data = b"".join((g.suite_string, _CHALLENGE_FRONT, *point_strings, _BACK))
        return g.hash(data)[:C_LEN]

    def _decode_proof(self, pi: bytes) -> _Proof[P]:
        """``ECVRF_decode_proof`` (RFC 9381 §5.4.4)."""
        g = self._group
        # SUITE-010: a proof is exactly ptLen + cLen + qLen octets.
        if len(pi) != self.proof_size:
            raise _reject(
                REQ_PROOF_FORMAT,
                f"{g.name} proof is {len(pi)} bytes, expected {self.proof_size}",
                expected=self.proof_size,
            )
        gamma_string = pi[: g.pt_len]
        gamma = g.string_to_point(gamma_string)
        # SUITE-010: Gamma must decode to a point on the curve.
        if gamma is None:
            raise _reject(
                REQ_PROOF_FORMAT,
                f"{g.name} proof: Gamma {gamma_string.hex()} is not the encoding of a point",
            )
        c = g.string_to_int(pi[g.pt_len : g.pt_len + C_LEN])
        s = g.string_to_int(pi[g.pt_len + C_LEN :])
        # SUITE-010: s must be fully reduced, s < q (RFC 9381 §5.4.4 step 7).
        if s >= g.q:
            raise _reject(REQ_PROOF_FORMAT, f"{g.name} proof: s is not below the group order")
        return _Proof(gamma_string, gamma, c, s)

    def _gamma_to_hash(self, gamma: P) -> bytes:
        g = self._group
        data = b"".join(
            (
                g.suite_string,
                _PROOF_TO_HASH_FRONT,
                g.point_to_string(g.clear_cofactor(gamma)),
                _BACK,
            )
        )
        return g.hash(data)

    # -- RFC 9381 §5.1-§5.3 ----------------------------------------------------

    def prove(self, secret_key: bytes, alpha: bytes) -> bytes:
        """``ECVRF_prove`` (RFC 9381 §5.1): the proof ``pi_string``."""
        return self.prove_and_hash(secret_key, alpha)[0]

    def prove_and_hash(self, secret_key: bytes, alpha: bytes) -> tuple[bytes, bytes]:
        """``ECVRF_prove`` and ``ECVRF_proof_to_hash`` at once: ``(pi, beta)``."""
        # SUITE-012: the proof is RFC 9381 §5.1 exactly, with the suite's deterministic nonce.
        g = self._group
        x = g.secret_scalar(secret_key)
        pk_string = g.point_to_string(g.base_mul_secret(x))
        h = self.encode_to_curve(pk_string, alpha)
        h_string = g.point_to_string(h)
        gamma = g.mul_secret(x, h)
        k = g.nonce(secret_key, x, h_string)
        gamma_string = g.point_to_string(gamma)
        c_string = self._challenge(
            pk_string,
            h_string,
            gamma_string,
            g.point_to_string(g.base_mul_secret(k)),
            g.point_to_string(g.mul_secret(k, h)),
        )
        c = g.string_to_int(c_string)
        s = (k + c * x) % g.q
        pi = gamma_string + c_string + g.int_to_string(s, g.q_len)
        return pi, self._gamma_to_hash(gamma)

    def proof_to_hash(self, pi: bytes) -> bytes:
        """``ECVRF_proof_to_hash`` (RFC 9381 §5.2): ``beta_string`` of a proof.

        This does not verify the proof; it only rejects one that does not decode.
        """
        return self._gamma_to_hash(self._decode_proof(pi).gamma)

    def verify(self, public_key: bytes, alpha: bytes, pi: bytes) -> bytes:
        """``ECVRF_verify`` (RFC 9381 §5.3) with ``validate_key = TRUE``.

        Returns ``beta_string``; raises :class:`VerificationError` if the proof is
        not valid for ``alpha`` under ``public_key``.
        """
        g = self._group
        y = self.validate_public_key(public_key)
        proof = self._decode_proof(pi)
        h = self.encode_to_curve(public_key, alpha)
        u = g.sub(g.base_mul(proof.s), g.mul(proof.c, y))
        v = g.sub(g.mul(proof.s, h), g.mul(proof.c, proof.gamma))
        expected = self._challenge(
            public_key,
            g.point_to_string(h),
            proof.gamma_string,
            g.point_to_string(u),
            g.point_to_string(v),
        )
        # SUITE-011: the challenge recomputed from the proof must equal the proof's c.
        if not hmac.compare_digest(expected, g.int_to_string(proof.c, C_LEN)):
            raise _reject(
                REQ_CHALLENGE,
                f"{g.name} proof does not verify: challenge c = "
                f"{g.int_to_string(proof.c, C_LEN).hex()} but the proof's points give "
                f"{expected.hex()}",
                expected=expected,
            )
        return self._gamma_to_hash(proof.gamma)
