"""Tree heads: signing and verifying them (KEYTRANS §11.2, §11.3, §11.4).

Which key signs what depends on the deployment mode:

* ``TreeHead`` is signed over ``TreeHeadTBS`` and always verified with
  ``Configuration.signature_public_key``. That key belongs to the Third-Party
  Manager under ``thirdPartyManagement`` and to the Service Operator
  otherwise (§11.2); ``leaf_public_key`` never verifies a tree head.
* ``AuditorTreeHead`` (``thirdPartyAuditing`` only) is signed by the auditor over
  ``AuditorTreeHeadTBS`` and verified with ``Configuration.auditor_public_key``.

The roots the signatures cover are never taken from the server: the caller
computes the candidate root of the log tree at the signed size (from the log
tree proofs) and passes it in. Current time is passed in too (``now_ms``), so
every function here is pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from ckv import wire
from ckv.cipher_suites import get_suite
from ckv.errors import UsageError, VerificationError
from ckv.wire.messages import (
    AuditorTreeHead,
    AuditorTreeHeadTBS,
    Configuration,
    DeploymentMode,
    FullTreeHead,
    FullTreeHeadType,
    TreeHead,
    TreeHeadTBS,
)

__all__ = [
    "VerifiedTreeHead",
    "auditor_tree_head_tbs",
    "check_clock",
    "sign_auditor_tree_head",
    "sign_tree_head",
    "tree_head_tbs",
    "verify_auditor_tree_head",
    "verify_full_tree_head",
    "verify_tree_head",
]

REQ_CONFIG = "SUITE-017"
REQ_TREE_HEAD_SIGNATURE = "SUITE-018"
REQ_SAME = "SUITE-019"
REQ_CLOCK = "SUITE-020"
REQ_GROWS = "SUITE-021"
REQ_SHAPE = "SUITE-022"
REQ_AUDITOR_START = "SUITE-023"
REQ_AUDITOR_LAG = "SUITE-024"
REQ_AUDITOR_SIZE = "SUITE-025"
REQ_AUDITOR_SIGNATURE = "SUITE-026"


def _fail(
    requirement: str, message: str, *, expected: object = None, computed: object = None
) -> VerificationError:
    return VerificationError(message, requirement=requirement, expected=expected, computed=computed)


def _encode(config: Configuration, value: object) -> bytes:
    return wire.encode(value, suite=config.ciphersuite, mode=config.mode)


# -- §11.2 -----------------------------------------------------------------------------


def tree_head_tbs(config: Configuration, tree_size: int, root: bytes) -> bytes:
    """The encoding of ``TreeHeadTBS{config, tree_size, root}`` (KEYTRANS §11.2)."""
    # SUITE-017: the signed structure embeds the whole Configuration as the verifier holds it.
    return _encode(config, TreeHeadTBS(config=config, tree_size=tree_size, root=root))


def sign_tree_head(
    config: Configuration, private_key: bytes, tree_size: int, root: bytes
) -> TreeHead:
    """A ``TreeHead`` signed with the key of ``config.signature_public_key``.

    That is the Third-Party Manager's key under ``thirdPartyManagement`` and the
    Service Operator's otherwise.
    """
    suite = get_suite(config.ciphersuite)
    if suite.signature_public_key(private_key) != config.signature_public_key:
        msg = "the signing key does not match Configuration.signature_public_key"
        raise UsageError(msg, requirement=REQ_TREE_HEAD_SIGNATURE)
    signature = suite.sign(private_key, tree_head_tbs(config, tree_size, root))
    return TreeHead(tree_size=tree_size, signature=signature)


def verify_tree_head(config: Configuration, tree_head: TreeHead, root: bytes) -> None:
    """Verify ``tree_head.signature`` over ``TreeHeadTBS`` for the caller's candidate root."""
    tbs = tree_head_tbs(config, tree_head.tree_size, root)
    # SUITE-018: the TreeHead signature verifies over TreeHeadTBS with
    # Configuration.signature_public_key (the Manager's key under thirdPartyManagement).
    get_suite(config.ciphersuite).verify(
        config.signature_public_key,
        tbs,
        tree_head.signature,
        requirement=REQ_TREE_HEAD_SIGNATURE,
    )


# -- §11.3 -----------------------------------------------------------------------------


def _require_auditing(config: Configuration) -> bytes:
    if config.mode is not DeploymentMode.thirdPartyAuditing or config.auditor_public_key is None:
        msg = f"auditor tree heads exist only under thirdPartyAuditing, not {config.mode.name}"
        raise UsageError(msg)
    return config.auditor_public_key


def auditor_tree_head_tbs(
    config: Configuration, timestamp: int, tree_size: int, root: bytes
) -> bytes:
    """The encoding of ``AuditorTreeHeadTBS`` (KEYTRANS §11.3)."""
    tbs = AuditorTreeHeadTBS(config=config, timestamp=timestamp, tree_size=tree_size, root=root)
    return _encode(config, tbs)


def sign_auditor_tree_head(
    config: Configuration, private_key: bytes, timestamp: int, tree_size: int, root: bytes
) -> AuditorTreeHead:
    """An ``AuditorTreeHead`` signed with the key of ``config.auditor_public_key``."""
    auditor_key = _require_auditing(config)
    suite = get_suite(config.ciphersuite)
    if suite.signature_public_key(private_key) != auditor_key:
        msg = "the signing key does not match Configuration.auditor_public_key"
        raise UsageError(msg, requirement=REQ_AUDITOR_SIGNATURE)
    signature = suite.sign(private_key, auditor_tree_head_tbs(config, timestamp, tree_size, root))
    return AuditorTreeHead(timestamp=timestamp, tree_size=tree_size, signature=signature)


def verify_auditor_tree_head(
    config: Configuration,
    auditor_tree_head: AuditorTreeHead,
    *,
    tree_head_size: int,
    rightmost_timestamp: int,
    root: bytes,
    previous_auditor_tree_size: int | None,
) -> None:
    """The four steps of KEYTRANS §11.3.

    ``tree_head_size`` is the size of the log's ``TreeHead``; ``rightmost_timestamp``
    the timestamp of the log's rightmost entry; ``root`` the caller's candidate
    log tree root at ``auditor_tree_head.tree_size``; ``previous_auditor_tree_size``
    the ``tree_size`` of the auditor tree head in the tree head the user
    advertised, or ``None`` if the user advertised none.
    """
    auditor_key = _require_auditing(config)
    assert config.auditor_start_pos is not None
    assert config.max_auditor_lag is not None
    ath = auditor_tree_head
    # SUITE-023 (§11.3 step 1): the previously seen auditor head reaches the current
    # auditor's starting position.
    if previous_auditor_tree_size is not None and (
        previous_auditor_tree_size < config.auditor_start_pos
    ):
        raise _fail(
            REQ_AUDITOR_START,
            f"previous auditor tree size {previous_auditor_tree_size} is below "
            f"auditor_start_pos {config.auditor_start_pos}",
            expected=config.auditor_start_pos,
            computed=previous_auditor_tree_size,
        )
    # SUITE-024 (§11.3 step 2): the auditor is not ahead of the log, nor behind it by more
    # than max_auditor_lag.
    if rightmost_timestamp < ath.timestamp:
        raise _fail(
            REQ_AUDITOR_LAG,
            f"auditor timestamp {ath.timestamp} is after the rightmost log entry's "
            f"{rightmost_timestamp}",
        )
    if rightmost_timestamp - ath.timestamp > config.max_auditor_lag:
        raise _fail(
            REQ_AUDITOR_LAG,
            f"auditor lags the log by {rightmost_timestamp - ath.timestamp} ms, more than "
            f"max_auditor_lag = {config.max_auditor_lag} ms",
            expected=config.max_auditor_lag,
            computed=rightmost_timestamp - ath.timestamp,
        )
    # SUITE-025 (§11.3 step 3): the auditor has not seen more of the log than the log's head.
    if ath.tree_size > tree_head_size:
        raise _fail(
            REQ_AUDITOR_SIZE,
            f"auditor tree size {ath.tree_size} exceeds the tree head's {tree_head_size}",
            expected=tree_head_size,
            computed=ath.tree_size,
        )
    # SUITE-026 (§11.3 step 4): the auditor's signature verifies over AuditorTreeHeadTBS
    # with Configuration.auditor_public_key.
    get_suite(config.ciphersuite).verify(
        auditor_key,
        auditor_tree_head_tbs(config, ath.timestamp, ath.tree_size, root),
        ath.signature,
        requirement=REQ_AUDITOR_SIGNATURE,
    )


# -- §11.4 -----------------------------------------------------------------------------


def check_clock(config: Configuration, rightmost_timestamp: int, now_ms: int) -> None:
    """The rightmost entry's timestamp lies within ``max_ahead``/``max_behind`` of now."""
    # SUITE-020: now - max_behind <= rightmost timestamp <= now + max_ahead.
    if rightmost_timestamp - now_ms > config.max_ahead:
        raise _fail(
            REQ_CLOCK,
            f"rightmost log entry is {rightmost_timestamp - now_ms} ms ahead of the local "
            f"clock, more than max_ahead = {config.max_ahead} ms",
            expected=config.max_ahead,
            computed=rightmost_timestamp - now_ms,
        )
    if now_ms - rightmost_timestamp > config.max_behind:
        raise _fail(
            REQ_CLOCK,
            f"rightmost log entry is {now_ms - rightmost_timestamp} ms behind the local "
            f"clock, more than max_behind = {config.max_behind} ms",
            expected=config.max_behind,
            computed=now_ms - rightmost_timestamp,
        )


@dataclass(frozen=True, slots=True)
class VerifiedTreeHead:
    """What a verified ``FullTreeHead`` establishes."""

    #: The size of the log the response is relative to.
    tree_size: int
    #: Whether the log sent a new tree head (``updated``) or kept the advertised one.
    updated: bool


def verify_full_tree_head(
    config: Configuration,
    full_tree_head: FullTreeHead,
    *,
    advertised_size: int | None,
    rightmost_timestamp: int,
    now_ms: int,
    root: bytes | None = None,
    auditor_root: bytes | None = None,
    previous_auditor_tree_size: int | None = None,
) -> VerifiedTreeHead:
    """Verify a ``FullTreeHead`` (KEYTRANS §11.4).

    ``advertised_size`` is the tree size the user advertised (``None`` if none);
    ``rightmost_timestamp`` the timestamp of the rightmost log entry of the tree
    the response refers to (retained for ``same``, from the view update for
    ``updated``); ``now_ms`` the local clock. For ``updated``, ``root`` is the
    candidate log tree root at ``tree_head.tree_size``; under
    ``thirdPartyAuditing``, ``auditor_root`` is the candidate root at the auditor
    tree head's size and ``previous_auditor_tree_size`` as in
    :func:`verify_auditor_tree_head`.
    """
    auditing = config.mode is DeploymentMode.thirdPartyAuditing
    if full_tree_head.head_type is FullTreeHeadType.same:
        # SUITE-019 (§11.4 step 1): `same` answers only a request that advertised a size.
        if advertised_size is None:
            raise _fail(REQ_SAME, "FullTreeHead is `same` but no previous tree size was advertised")
        # SUITE-022: `same` carries no tree head.
        if full_tree_head.tree_head is not None or full_tree_head.auditor_tree_head is not None:
            raise _fail(REQ_SHAPE, "FullTreeHead `same` must not carry a tree head")
        check_clock(config, rightmost_timestamp, now_ms)
        return VerifiedTreeHead(advertised_size, updated=False)

    tree_head = full_tree_head.tree_head
    # SUITE-022: `updated` carries a TreeHead, and an AuditorTreeHead exactly when the log
    # has a Third-Party Auditor.
    if full_tree_head.head_type is not FullTreeHeadType.updated or tree_head is None:
        raise _fail(REQ_SHAPE, "FullTreeHead is neither `same` nor `updated` with a tree head")
    if auditing != (full_tree_head.auditor_tree_head is not None):
        raise _fail(
            REQ_SHAPE,
            f"FullTreeHead under {config.mode.name} must "
            f"{'' if auditing else 'not '}carry an auditor tree head",
        )
    # SUITE-021 (§11.4 step 2.1): a new tree head is larger than the advertised one.
    if advertised_size is not None and tree_head.tree_size <= advertised_size:
        raise _fail(
            REQ_GROWS,
            f"updated tree size {tree_head.tree_size} is not greater than the advertised "
            f"{advertised_size}",
            expected=f"> {advertised_size}",
            computed=tree_head.tree_size,
        )
    if root is None:
        msg = "verify_full_tree_head needs the candidate root of an updated tree head"
        raise UsageError(msg)
    # SUITE-018 (§11.4 step 2.2).
    verify_tree_head(config, tree_head, root)
    # SUITE-020: the clock bounds hold for the new rightmost entry too (§4.2).
    check_clock(config, rightmost_timestamp, now_ms)
    if full_tree_head.auditor_tree_head is not None:
        if auditor_root is None:
            msg = "verify_full_tree_head needs the candidate root at the auditor's tree size"
            raise UsageError(msg)
        # SUITE-023 to SUITE-026 (§11.4 step 2.3).
        verify_auditor_tree_head(
            config,
            full_tree_head.auditor_tree_head,
            tree_head_size=tree_head.tree_size,
            rightmost_timestamp=rightmost_timestamp,
            root=auditor_root,
            previous_auditor_tree_size=previous_auditor_tree_size,
        )
    return VerifiedTreeHead(tree_head.tree_size, updated=True)
