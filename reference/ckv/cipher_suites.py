"""KEYTRANS cipher suites (draft §11.1 and §17.1): constants and primitives.

:data:`SUITES` holds the size constants every suite defines (the wire codecs
need them); :func:`get_suite` returns the :class:`Suite` object with the
suite's primitives:

* the hash (SHA-256) and HMAC (for commitments, with ``Kc``);
* the signature algorithm (ECDSA P-256 with SHA-256, or Ed25519);
* the VRF (RFC 9381 ECVRF), wrapped as KEYTRANS uses it: over the encoding of
  a ``VrfInput`` and with the output truncated to ``VRF.Nh`` bytes.

Example::

    suite = get_suite(CipherSuite.KT_128_SHA256_Ed25519)
    digest = suite.hash(data)
    suite.verify(public_key, message, signature)      # raises VerificationError
    result = suite.vrf_prove(vrf_secret, b"alice", 0)  # VrfResult(output, proof)
    output = suite.vrf_verify(vrf_public, b"alice", 0, result.proof)
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ckv.errors import ErrorCode, UsageError, VerificationError
from ckv.vrf import ECVRF_EDWARDS25519_SHA512_TAI, ECVRF_P256_SHA256_TAI, Ecvrf
from ckv.wire.constants import SUITES, SuiteConstants, parse_suite
from ckv.wire.messages import CipherSuite, VrfInput

__all__ = [
    "KC",
    "SUITES",
    "EcdsaP256Sha256",
    "Ed25519Signatures",
    "SignatureScheme",
    "Suite",
    "SuiteConstants",
    "VrfResult",
    "get_suite",
    "parse_suite",
    "vrf_input",
]

# Requirement IDs of the checks in this module (spec/kt/cipher-suites.md).
REQ_SUITE = "SUITE-001"
REQ_P256_KEY = "SUITE-002"
REQ_P256_SIGNATURE = "SUITE-003"
REQ_ED25519_FORMAT = "SUITE-004"
REQ_SIGNATURE = "SUITE-005"

#: ``Kc``, the commitment key shared by both suites (KEYTRANS §17.1).
KC = bytes.fromhex("d821f8790d97709796b4d7903357c3f5")


# -- signatures ---------------------------------------------------------------------


def _bad_signature(requirement: str, message: str) -> VerificationError:
    return VerificationError(message, requirement=requirement, code=ErrorCode.SIGNATURE_INVALID)


class SignatureScheme(Protocol):
    """A suite's signature algorithm over raw public keys and fixed-size signatures."""

    name: str
    public_key_size: int
    signature_size: int

    def public_key(self, private_key: bytes) -> bytes:
        """The encoded public key of a private key."""
        ...

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        """A signature over ``message``."""
        ...

    def verify(
        self, public_key: bytes, message: bytes, signature: bytes, *, requirement: str = ...
    ) -> None:
        """Raise :class:`VerificationError` unless ``signature`` is valid for ``message``."""
        ...


# A verifier checks many signatures under the same few keys (the log's, the auditor's):
# parsed keys are cached. A key that fails to parse raises, and is not cached.


@functools.lru_cache(maxsize=64)
def _p256_public_key(encoded: bytes) -> ec.EllipticCurvePublicKey:
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), encoded)


@functools.lru_cache(maxsize=64)
def _ed25519_public_key(encoded: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(encoded)


class EcdsaP256Sha256:
    """ECDSA over P-256 with SHA-256, as KEYTRANS §17.1 encodes it.

    Public keys are uncompressed SEC1 points (65 bytes); signatures are ``r || s``
    as two 32-byte big-endian integers. A private key is the 32-byte big-endian
    scalar. Signing uses RFC 6979 deterministic nonces.
    """

    name = "ECDSA-P256-SHA256"
    public_key_size = 65
    signature_size = 64
    __slots__ = ()

    _ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

    def _private(self, private_key: bytes) -> ec.EllipticCurvePrivateKey:
        scalar = int.from_bytes(private_key, "big")
        if len(private_key) != 32 or not 0 < scalar < self._ORDER:
            msg = "a P-256 private key is a 32-byte big-endian scalar in [1, n-1]"
            raise UsageError(msg)
        return ec.derive_private_key(scalar, ec.SECP256R1())

    def public_key(self, private_key: bytes) -> bytes:
        """The uncompressed SEC1 encoding of the public key."""
        return (
            self._private(private_key)
            .public_key()
            .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        )

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        """``r || s`` over SHA-256(message), with a deterministic nonce."""
        der = self._private(private_key).sign(
            message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
        )
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def verify(
        self,
        public_key: bytes,
        message: bytes,
        signature: bytes,
        *,
        requirement: str = REQ_SIGNATURE,
    ) -> None:
        """Raise :class:`VerificationError` unless the signature verifies."""
        # SUITE-002: the public key is an uncompressed SEC1 point on P-256.
        if len(public_key) != self.public_key_size or public_key[0] != 4:
            raise _bad_signature(
                REQ_P256_KEY,
                f"P-256 signature public key must be a 65-byte uncompressed point (04 || x || y),"
                f" got {len(public_key)} bytes starting {public_key[:1].hex() or 'nothing'}",
            )
        try:
            key = _p256_public_key(public_key)
        except ValueError:
            raise _bad_signature(
                REQ_P256_KEY, f"P-256 signature public key {public_key.hex()} is not on the curve"
            ) from None
        # SUITE-003: the signature is r || s, 64 bytes, with 0 < r, s < n.
        if len(signature) != self.signature_size:
            raise _bad_signature(
                REQ_P256_SIGNATURE,
                f"P-256 signature must be 64 bytes (r || s), got {len(signature)}",
            )
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        if not (0 < r < self._ORDER and 0 < s < self._ORDER):
            raise _bad_signature(
                REQ_P256_SIGNATURE, "P-256 signature: r and s must lie in [1, n-1]"
            )
        try:
            key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            # SUITE-005 (or the caller's requirement): the signature must verify.
            raise _bad_signature(
                requirement,
                f"ECDSA P-256 signature {signature.hex()} does not verify under public key "
                f"{public_key.hex()} over the {len(message)}-byte message",
            ) from None


class Ed25519Signatures:
    """Ed25519 (RFC 8032): 32-byte public keys and seeds, 64-byte signatures."""

    name = "Ed25519"
    public_key_size = 32
    signature_size = 64
    __slots__ = ()

    @staticmethod
    def _private(private_key: bytes) -> Ed25519PrivateKey:
        if len(private_key) != 32:
            msg = f"an Ed25519 private key is a 32-byte seed, not {len(private_key)} bytes"
            raise UsageError(msg)
        return Ed25519PrivateKey.from_private_bytes(private_key)

    def public_key(self, private_key: bytes) -> bytes:
        """The 32-byte public key of a seed (RFC 8032 §5.1.5)."""
        return self._private(private_key).public_key().public_bytes_raw()

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        """The 64-byte signature (RFC 8032 §5.1.6)."""
        return self._private(private_key).sign(message)

    def verify(
        self,
        public_key: bytes,
        message: bytes,
        signature: bytes,
        *,
        requirement: str = REQ_SIGNATURE,
    ) -> None:
        """Raise :class:`VerificationError` unless the signature verifies (RFC 8032 §5.1.7)."""
        # SUITE-004: Ed25519 public keys are 32 bytes and signatures 64 bytes.
        if len(public_key) != self.public_key_size or len(signature) != self.signature_size:
            raise _bad_signature(
                REQ_ED25519_FORMAT,
                f"Ed25519 needs a 32-byte public key and a 64-byte signature, got "
                f"{len(public_key)} and {len(signature)} bytes",
            )
        try:
            _ed25519_public_key(public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            # SUITE-005 (or the caller's requirement): the signature must verify.
            raise _bad_signature(
                requirement,
                f"Ed25519 signature {signature.hex()} does not verify under public key "
                f"{public_key.hex()} over the {len(message)}-byte message",
            ) from None


# -- the suite object -----------------------------------------------------------------


def vrf_input(label: bytes, version: int) -> bytes:
    """``alpha_string``: the encoding of ``VrfInput{label, version}`` (KEYTRANS §11.7)."""
    # Imported here: ckv.wire.codec imports this module for SUITES.
    from ckv.wire.codec import codec_for  # noqa: PLC0415

    # SUITE-006: alpha_string is the encoding of VrfInput{label, version}.
    return codec_for().encode(VrfInput(label=label, version=version))


@dataclass(frozen=True, slots=True)
class VrfResult:
    """A VRF evaluation: the search key and the proof that justifies it."""

    #: ``VRF.Nh`` bytes: the prefix-tree search key of the label-version pair.
    output: bytes
    #: ``VRF.Np`` bytes.
    proof: bytes


@dataclass(frozen=True, slots=True)
class Suite:
    """The primitives of one cipher suite (KEYTRANS §11.1, §17.1)."""

    id: CipherSuite
    constants: SuiteConstants
    signature: SignatureScheme
    vrf: Ecvrf[Any]
    #: ``Kc`` (KEYTRANS §17.1).
    kc: bytes = KC

    # sizes

    @property
    def hash_nh(self) -> int:
        """``Hash.Nh``."""
        return self.constants.hash_nh

    @property
    def vrf_nh(self) -> int:
        """``VRF.Nh``."""
        return self.constants.vrf_nh

    @property
    def vrf_np(self) -> int:
        """``VRF.Np``."""
        return self.constants.vrf_np

    @property
    def nc(self) -> int:
        """``Nc``, the size of a commitment opening."""
        return self.constants.nc

    # hash and HMAC

    def hash(self, data: bytes) -> bytes:
        """The suite hash, SHA-256."""
        return hashlib.sha256(data).digest()

    def hmac(self, key: bytes, data: bytes) -> bytes:
        """HMAC (RFC 2104) with the suite hash."""
        mac = crypto_hmac.HMAC(key, hashes.SHA256())
        mac.update(data)
        return mac.finalize()

    # signatures

    def signature_public_key(self, private_key: bytes) -> bytes:
        """The encoded signature public key of a private key."""
        return self.signature.public_key(private_key)

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        """Sign ``message`` with the suite's signature algorithm."""
        return self.signature.sign(private_key, message)

    def verify(
        self,
        public_key: bytes,
        message: bytes,
        signature: bytes,
        *,
        requirement: str = REQ_SIGNATURE,
    ) -> None:
        """Raise :class:`VerificationError` (naming ``requirement``) unless it verifies."""
        self.signature.verify(public_key, message, signature, requirement=requirement)

    # VRF

    def vrf_public_key(self, secret_key: bytes) -> bytes:
        """The VRF public key (P-256: compressed SEC1; Ed25519: RFC 8032)."""
        return self.vrf.public_key(secret_key)

    def vrf_prove(self, secret_key: bytes, label: bytes, version: int) -> VrfResult:
        """Evaluate the VRF on a label-version pair (KEYTRANS §11.7)."""
        proof, beta = self.vrf.prove_and_hash(secret_key, vrf_input(label, version))
        # SUITE-007: the output is beta truncated to VRF.Nh bytes.
        return VrfResult(beta[: self.vrf_nh], proof)

    def vrf_verify(self, public_key: bytes, label: bytes, version: int, proof: bytes) -> bytes:
        """The search key of a label-version pair, if ``proof`` is valid for it.

        Raises :class:`VerificationError` (SUITE-008 to SUITE-011) otherwise.
        """
        beta = self.vrf.verify(public_key, vrf_input(label, version), proof)
        # SUITE-007: the output is beta truncated to VRF.Nh bytes.
        return beta[: self.vrf_nh]

    def vrf_output(self, proof: bytes) -> bytes:
        """The output a proof commits to, without verifying it (``proof_to_hash``)."""
        return self.vrf.proof_to_hash(proof)[: self.vrf_nh]


_SUITE_OBJECTS: Mapping[CipherSuite, Suite] = MappingProxyType(
    {
        CipherSuite.KT_128_SHA256_P256: Suite(
            CipherSuite.KT_128_SHA256_P256,
            SUITES[CipherSuite.KT_128_SHA256_P256],
            EcdsaP256Sha256(),
            ECVRF_P256_SHA256_TAI,
        ),
        CipherSuite.KT_128_SHA256_Ed25519: Suite(
            CipherSuite.KT_128_SHA256_Ed25519,
            SUITES[CipherSuite.KT_128_SHA256_Ed25519],
            Ed25519Signatures(),
            ECVRF_EDWARDS25519_SHA512_TAI,
        ),
    }
)


def get_suite(suite: CipherSuite | int) -> Suite:
    """The primitives of a cipher suite; :class:`UsageError` for one CKV does not support."""
    # SUITE-001: only the two suites of KEYTRANS §17.1 are supported.
    try:
        return _SUITE_OBJECTS[CipherSuite(suite)]
    except (ValueError, KeyError):
        known = ", ".join(f"{s.name} ({s.value:#06x})" for s in SUITES)
        msg = f"unsupported cipher suite {suite!r}; CKV supports {known}"
        raise UsageError(msg, requirement=REQ_SUITE) from None
