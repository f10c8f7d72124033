"""Commitments (KEYTRANS §11.6) and the signatures on updates that they carry (§11.5).

A commitment is ``HMAC(Kc, CommitmentValue)`` over the wire encoding of
``CommitmentValue{opening, label, version, update}``, with the suite's hash
and ``Kc``. The ``UpdateValue`` inside depends on the deployment mode: under
``thirdPartyManagement`` its suffix carries the Service Operator's signature
over ``UpdateTBS``, which users verify with ``Configuration.leaf_public_key``
before they use the value.

Randomness is injected: :func:`commit` takes the opening, or a
``random_bytes(n)`` callable to draw it from (by default :func:`secrets.token_bytes`).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from ckv import wire
from ckv.cipher_suites import get_suite
from ckv.errors import ErrorCode, UsageError, VerificationError
from ckv.wire.messages import (
    CipherSuite,
    CommitmentValue,
    Configuration,
    DeploymentMode,
    UpdateSuffix,
    UpdateTBS,
    UpdateValue,
)

__all__ = [
    "Commitment",
    "commit",
    "compute_commitment",
    "encode_commitment_value",
    "sign_update",
    "update_tbs",
    "verify_commitment",
    "verify_update",
]

REQ_COMMITMENT = "SUITE-013"
REQ_OPENING = "SUITE-014"
REQ_OPEN = "SUITE-015"
REQ_UPDATE_SIGNATURE = "SUITE-016"

RandomBytes = Callable[[int], bytes]


@dataclass(frozen=True, slots=True)
class Commitment:
    """A commitment and the opening that opens it."""

    opening: bytes
    commitment: bytes


def encode_commitment_value(
    suite: CipherSuite, value: CommitmentValue, *, mode: DeploymentMode
) -> bytes:
    """The encoding of ``CommitmentValue`` (KEYTRANS §11.6) the HMAC is computed over."""
    return wire.encode(value, suite=suite, mode=mode)


def compute_commitment(
    suite: CipherSuite, value: CommitmentValue, *, mode: DeploymentMode
) -> bytes:
    """``HMAC(Kc, CommitmentValue)`` (KEYTRANS §11.6)."""
    s = get_suite(suite)
    # SUITE-013: the commitment is the suite HMAC, keyed with Kc, of the encoded CommitmentValue.
    return s.hmac(s.kc, encode_commitment_value(suite, value, mode=mode))


def commit(
    suite: CipherSuite,
    label: bytes,
    version: int,
    update: UpdateValue,
    *,
    mode: DeploymentMode,
    opening: bytes | None = None,
    random_bytes: RandomBytes = secrets.token_bytes,
) -> Commitment:
    """Commit to a label-version pair's ``UpdateValue``.

    The opening is ``opening`` if given, else ``random_bytes(Nc)``.
    """
    nc = get_suite(suite).nc
    if opening is None:
        # SUITE-014: a fresh opening is Nc bytes from a cryptographically secure source.
        opening = random_bytes(nc)
    if len(opening) != nc:
        msg = f"a commitment opening is Nc = {nc} bytes, not {len(opening)}"
        raise UsageError(msg, requirement=REQ_OPENING)
    value = CommitmentValue(opening=opening, label=label, version=version, update=update)
    return Commitment(opening, compute_commitment(suite, value, mode=mode))


def verify_commitment(
    suite: CipherSuite, commitment: bytes, value: CommitmentValue, *, mode: DeploymentMode
) -> None:
    """Raise :class:`VerificationError` unless ``value.opening`` opens ``commitment`` to it."""
    nc = get_suite(suite).nc
    # SUITE-015: an opening of the wrong size opens nothing.
    if len(value.opening) != nc:
        raise VerificationError(
            f"commitment opening is {len(value.opening)} bytes, expected Nc = {nc}",
            requirement=REQ_OPEN,
            expected=nc,
            computed=len(value.opening),
        )
    computed = compute_commitment(suite, value, mode=mode)
    # SUITE-015: the recomputed commitment must equal the given one (compared in constant time).
    if not hmac.compare_digest(computed, commitment):
        raise VerificationError(
            f"commitment does not open to label {value.label.hex()} version {value.version}: "
            f"expected {commitment.hex()}, computed {computed.hex()}",
            requirement=REQ_OPEN,
            expected=commitment,
            computed=computed,
        )


# -- §11.5: the Service Operator's signature under thirdPartyManagement ----------------


def update_tbs(config: Configuration, label: bytes, version: int, value: bytes) -> bytes:
    """The encoding of ``UpdateTBS`` (KEYTRANS §11.5)."""
    tbs = UpdateTBS(config=config, label=label, version=version, value=value)
    return wire.encode(tbs, suite=config.ciphersuite, mode=config.mode)


def sign_update(
    config: Configuration, private_key: bytes, label: bytes, version: int, value: bytes
) -> UpdateValue:
    """The ``UpdateValue`` for ``value``, signed with the leaf key under thirdPartyManagement.

    In the other modes the suffix is empty and ``private_key`` is not used.
    """
    if config.mode is not DeploymentMode.thirdPartyManagement:
        return UpdateValue(value=value, suffix=UpdateSuffix())
    signature = get_suite(config.ciphersuite).sign(
        private_key, update_tbs(config, label, version, value)
    )
    return UpdateValue(value=value, suffix=UpdateSuffix(signature=signature))


def verify_update(config: Configuration, label: bytes, version: int, update: UpdateValue) -> bytes:
    """The value of ``update``, once its §11.5 signature (if the mode has one) verifies."""
    managed = config.mode is DeploymentMode.thirdPartyManagement
    signature = update.suffix.signature
    if not managed:
        if signature is not None:
            msg = f"an UpdateValue carries no signature under {config.mode.name}"
            raise UsageError(msg, requirement=REQ_UPDATE_SIGNATURE)
        return update.value
    if signature is None or config.leaf_public_key is None:
        raise VerificationError(
            "thirdPartyManagement: the UpdateValue carries no Service Operator signature",
            requirement=REQ_UPDATE_SIGNATURE,
            code=ErrorCode.SIGNATURE_INVALID,
        )
    # SUITE-016: under thirdPartyManagement, the value is used only once the Service
    # Operator's signature over UpdateTBS verifies with Configuration.leaf_public_key.
    get_suite(config.ciphersuite).verify(
        config.leaf_public_key,
        update_tbs(config, label, version, update.value),
        signature,
        requirement=REQ_UPDATE_SIGNATURE,
    )
    return update.value
