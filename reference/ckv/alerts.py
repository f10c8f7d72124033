"""The alert registry (spec chapter "Automatic verification and alerts").

Every alert a device raises carries an :class:`~ckv.wire.messages.AlertCode`
from :data:`REGISTRY`, which also says what the user is shown (the category),
who raises it, which check raises it and what its evidence lets a third party
check. The spec's registry table is generated from :data:`REGISTRY`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from ckv import wire
from ckv.errors import DecodeError, UsageError
from ckv.wire.messages import (
    Alert,
    AlertCode,
    Configuration,
    Evidence,
    EvidenceType,
    ExchangeEvidence,
    ForkEvidence,
    LookupEvidence,
    SearchRequest,
    SearchResponse,
)

__all__ = [
    "REGISTRY",
    "AlertInfo",
    "Category",
    "RaisedBy",
    "decode_alert",
    "encode_alert",
    "exchange_evidence",
    "fork_evidence",
    "lookup_evidence",
    "make_alert",
    "transport_evidence",
]


class Category(enum.Enum):
    """What the user is told (the four kinds of alert people see)."""

    TURNED_OFF = "The contact turned CKV off"
    UNRECOGNIZED_DEVICE = "An unrecognized device was added"
    UNAVAILABLE = "CKV is unavailable"
    OTHER_ISSUE = "There is an issue with CKV"


class RaisedBy(enum.Enum):
    """Whose check raises the alert."""

    CONTACT = "a contact's device (automatic verification)"
    OWNER = "the account's own devices (self-monitoring)"
    BOTH = "any device"


@dataclass(frozen=True, slots=True)
class AlertInfo:
    """One registry entry."""

    code: AlertCode
    category: Category
    raised_by: RaisedBy
    #: The requirement whose check raises it.
    requirement: str
    #: The kinds of evidence the alert carries, in order.
    evidence: tuple[EvidenceType, ...]
    #: Whether a third party holding only the directory's public configuration can
    #: check the whole claim from the evidence.
    transferable: bool
    summary: str


_C, _R, _E = Category, RaisedBy, EvidenceType


def _entries() -> dict[AlertCode, AlertInfo]:
    rows = [
        (
            AlertCode.contact_ckv_off,
            _C.TURNED_OFF,
            _R.CONTACT,
            "VERIFY-006",
            (_E.lookup,),
            True,
            "The contact's account state, signed by its account key, has CKV off.",
        ),
        (
            AlertCode.unrecognized_device,
            _C.UNRECOGNIZED_DEVICE,
            _R.CONTACT,
            "ACCT-007",
            (_E.lookup,),
            True,
            "The contact's account state lists a device whose record the account key did not sign.",
        ),
        (
            AlertCode.account_key_replaced,
            _C.UNRECOGNIZED_DEVICE,
            _R.CONTACT,
            "ACCT-012",
            (_E.lookup, _E.lookup),
            True,
            "The contact's account key changed without a rotation signed by the previous key.",
        ),
        (
            AlertCode.directory_unreachable,
            _C.UNAVAILABLE,
            _R.BOTH,
            "VERIFY-008",
            (_E.transport,),
            False,
            "The directory could not be reached, or refused to answer, within the window.",
        ),
        (
            AlertCode.directory_stale,
            _C.UNAVAILABLE,
            _R.BOTH,
            "VERIFY-009",
            (_E.exchange,),
            False,
            "The directory's newest tree head is older than the profile allows.",
        ),
        (
            AlertCode.proof_invalid,
            _C.OTHER_ISSUE,
            _R.BOTH,
            "VERIFY-010",
            (_E.exchange,),
            False,
            "A response from the directory failed a key-transparency check.",
        ),
        (
            AlertCode.signature_invalid,
            _C.OTHER_ISSUE,
            _R.BOTH,
            "ACCT-008",
            (_E.lookup,),
            True,
            "An account state or handle binding is not signed by the account key it names.",
        ),
        (
            AlertCode.fork_detected,
            _C.OTHER_ISSUE,
            _R.BOTH,
            "FORK-001",
            (_E.fork,),
            True,
            "Two tree heads the directory signed cannot both be right: it showed different views.",
        ),
        (
            AlertCode.rollback,
            _C.OTHER_ISSUE,
            _R.CONTACT,
            "ACCT-015",
            (_E.lookup, _E.lookup),
            True,
            "A later version of the account label carries an epoch that does not grow.",
        ),
        (
            AlertCode.owner_unrecognized_device,
            _C.UNRECOGNIZED_DEVICE,
            _R.OWNER,
            "SELF-004",
            (_E.lookup,),
            False,
            "The directory publishes, for your account, a device none of your devices enrolled.",
        ),
        (
            AlertCode.owner_state_mismatch,
            _C.OTHER_ISSUE,
            _R.OWNER,
            "SELF-005",
            (_E.lookup,),
            False,
            "The directory publishes, for your account, a value none of your devices published.",
        ),
        (
            AlertCode.handle_mismatch,
            _C.OTHER_ISSUE,
            _R.CONTACT,
            "IDENT-010",
            (_E.lookup, _E.lookup),
            True,
            "A handle and the account it points at do not name each other.",
        ),
    ]
    return {
        code: AlertInfo(code, category, by, req, evidence, transferable, summary)
        for code, category, by, req, evidence, transferable, summary in rows
    }


#: ALERT-001: every alert code, with its meaning. Codes are never reused.
REGISTRY: Mapping[AlertCode, AlertInfo] = MappingProxyType(_entries())


def lookup_evidence(
    request: SearchRequest, response: SearchResponse, config: Configuration
) -> Evidence:
    """Evidence of what the directory answered to a self-contained search (ALERT-003)."""
    # ALERT-003: a lookup used as evidence advertises no retained state.
    if request.last is not None:
        msg = "evidence lookups are made with `last` absent, so anyone can verify them"
        raise UsageError(msg, requirement="ALERT-003")
    context = {"SearchRequest.version": "absent" if request.version is None else "present"}
    return Evidence(
        evidence_type=EvidenceType.lookup,
        lookup=LookupEvidence(
            request=wire.encode(request, suite=config.ciphersuite, mode=config.mode),
            response=wire.encode(
                response, suite=config.ciphersuite, mode=config.mode, context=context
            ),
        ),
    )


def fork_evidence(evidence: ForkEvidence) -> Evidence:
    """Two conflicting signed views (FORK-003)."""
    return Evidence(evidence_type=EvidenceType.fork, fork=evidence)


def exchange_evidence(request: bytes, response: bytes, requirement: str) -> Evidence:
    """A request and the bytes received for it, and the check that failed (ALERT-004)."""
    return Evidence(
        evidence_type=EvidenceType.exchange,
        exchange=ExchangeEvidence(
            request=request, response=response, requirement=requirement.encode("ascii")
        ),
    )


def transport_evidence(message: str) -> Evidence:
    """What the transport reported (not checkable by a third party)."""
    return Evidence(evidence_type=EvidenceType.transport, message=message.encode("utf-8"))


def make_alert(
    code: AlertCode,
    *,
    subject: bytes,
    observed_at: int,
    directory: Configuration,
    evidence: Sequence[Evidence],
    device_id: bytes = b"",
) -> Alert:
    """An alert with its evidence; the evidence kinds must be the registry's (ALERT-002)."""
    info = REGISTRY[code]
    kinds = tuple(e.evidence_type for e in evidence)
    # ALERT-002: an alert carries exactly the evidence its registry entry names.
    if kinds != info.evidence:
        want = ", ".join(k.name for k in info.evidence)
        got = ", ".join(k.name for k in kinds)
        msg = f"alert {code.name} carries evidence ({want}), not ({got})"
        raise UsageError(msg, requirement="ALERT-002")
    return Alert(
        code=code,
        subject=subject,
        device_id=device_id,
        observed_at=observed_at,
        directory=directory,
        evidence=tuple(evidence),
    )


def encode_alert(alert: Alert) -> bytes:
    """The alert's wire encoding (what a user exports to share it)."""
    return wire.encode(alert, suite=alert.directory.ciphersuite, mode=alert.directory.mode)


def decode_alert(data: bytes, config: Configuration) -> Alert:
    """Decode an alert exported by a device using the directory ``config``."""
    try:
        alert = wire.decode(Alert, data, suite=config.ciphersuite, mode=config.mode)
    except DecodeError as exc:
        msg = f"not an encoded Alert: {exc}"
        raise UsageError(msg, requirement="ALERT-002") from None
    if alert.directory != config:
        msg = "the alert names another directory configuration"
        raise UsageError(msg, requirement="ALERT-002")
    return alert


def decode_lookup(
    evidence: LookupEvidence, config: Configuration
) -> tuple[SearchRequest, SearchResponse]:
    """The search request and response a ``LookupEvidence`` holds."""
    try:
        request = wire.decode(
            SearchRequest, evidence.request, suite=config.ciphersuite, mode=config.mode
        )
        context = {"SearchRequest.version": "absent" if request.version is None else "present"}
        response = wire.decode(
            SearchResponse,
            evidence.response,
            suite=config.ciphersuite,
            mode=config.mode,
            context=context,
        )
    except DecodeError as exc:
        msg = f"the lookup evidence does not decode: {exc}"
        raise UsageError(msg, requirement="ALERT-003") from None
    return request, response
