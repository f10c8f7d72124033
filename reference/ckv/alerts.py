"""The alert registry (spec chapter "Automatic verification and alerts").

Every alert a device raises carries an :class:`~ckv.wire.messages.AlertCode`
from :data:`REGISTRY`, which also says what the user is shown (the category),
who raises it, which check raises it and what its evidence lets a third party
check. The spec's registry table is generated from :data:`REGISTRY`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from ckv import wire
from ckv.account import (
    AccountStateError,
    decode_account_state,
    decode_handle_binding,
    validate_account_state,
    validate_handle_binding,
    verify_device_record,
)
from ckv.directory import DirectoryRefused, DirectoryUnavailable
from ckv.errors import CKVError, DecodeError, UsageError, VerificationError
from ckv.fork_detection import verify_fork_evidence
from ckv.identity import parse_label
from ckv.wire.messages import (
    Alert,
    AlertCode,
    Configuration,
    Evidence,
    EvidenceType,
    ExchangeEvidence,
    ForkEvidence,
    LabelKind,
    LookupEvidence,
    OptIn,
    SearchRequest,
    SearchResponse,
)

__all__ = [
    "REGISTRY",
    "AlertInfo",
    "Category",
    "CheckedAlert",
    "LookupVerifier",
    "RaisedBy",
    "alert_code_for",
    "check_alert",
    "decode_alert",
    "decode_lookup",
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


#: The checks whose failure during verification raises a specific alert (VERIFY-007).
_ACCOUNT_ALERTS: dict[str, AlertCode] = {
    "ACCT-007": AlertCode.unrecognized_device,
    "ACCT-012": AlertCode.account_key_replaced,
    "ACCT-015": AlertCode.rollback,
    "IDENT-007": AlertCode.handle_mismatch,
    "IDENT-008": AlertCode.handle_mismatch,
    "IDENT-010": AlertCode.handle_mismatch,
}


def alert_code_for(error: CKVError) -> AlertCode:
    """The alert a failed check raises (VERIFY-007 to VERIFY-010)."""
    if isinstance(error, DirectoryUnavailable | DirectoryRefused):
        return AlertCode.directory_unreachable
    if isinstance(error, AccountStateError):
        return _ACCOUNT_ALERTS.get(error.requirement or "", AlertCode.signature_invalid)
    # VERIFY-009: a tree head older than max_behind.
    if error.requirement == "SUITE-020":
        return AlertCode.directory_stale
    return AlertCode.proof_invalid


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


#: ``verify_lookup(config, request, response, now_ms) -> (version, value)``: verifies a
#: self-contained search from an empty state and returns what it proves.
LookupVerifier = Callable[[Configuration, SearchRequest, SearchResponse, int], tuple[int, bytes]]


@dataclass(frozen=True, slots=True)
class CheckedAlert:
    """What a third party established from an alert's evidence (ALERT-005)."""

    alert: Alert
    #: True when the evidence proves the whole claim; False when it proves only that
    #: the directory published the values (owner alerts, transport and exchange alerts).
    complete: bool
    #: The (label, version) pairs the evidence lookups proved, in order.
    proven: tuple[tuple[bytes, int], ...]


def _claim_failed(alert: Alert, why: str) -> VerificationError:
    msg = f"alert {alert.code.name}: the evidence does not show the claim: {why}"
    return VerificationError(msg, requirement="ALERT-005")


def check_alert(alert: Alert, verify_lookup: LookupVerifier) -> CheckedAlert:
    """Check an alert's evidence as a third party would (ALERT-005).

    Raises :class:`VerificationError` (ALERT-005, or the requirement of the
    failing key-transparency check) when the evidence does not show the claim.
    """
    info = REGISTRY.get(alert.code)
    if info is None:
        msg = f"alert code {int(alert.code)} is not in the registry"
        raise UsageError(msg, requirement="ALERT-001")
    if tuple(e.evidence_type for e in alert.evidence) != info.evidence:
        raise _claim_failed(alert, "its evidence items are not the registry's")
    config = alert.directory
    suite = config.ciphersuite
    proven: list[tuple[bytes, int]] = []
    values: list[bytes] = []
    labels: list[bytes] = []
    for item in alert.evidence:
        if item.lookup is not None:
            request, response = decode_lookup(item.lookup, config)
            # ALERT-003: evidence lookups verify from an empty state.
            if request.last is not None:
                raise _claim_failed(alert, "a lookup advertises retained state")
            version, value = verify_lookup(config, request, response, alert.observed_at)
            proven.append((request.label, version))
            values.append(value)
            labels.append(request.label)
    if alert.code is AlertCode.fork_detected:
        if alert.evidence[0].fork is None or alert.evidence[0].fork.config != config:
            raise _claim_failed(alert, "the fork evidence names another directory")
        verify_fork_evidence(alert.evidence[0].fork)
        return CheckedAlert(alert, complete=True, proven=())
    if not info.transferable or not values:
        return CheckedAlert(alert, complete=False, proven=tuple(proven))
    # The claim about the values the lookups proved.
    label = labels[-1]
    if alert.subject != labels[0]:
        raise _claim_failed(alert, "the subject is not the label looked up")

    def failure_of(check: Callable[[], object]) -> AccountStateError | None:
        try:
            check()
        except AccountStateError as error:
            return error
        return None

    code = alert.code
    if code is AlertCode.contact_ckv_off:
        state = validate_account_state(label, values[0], suite=suite)
        if state.ckv is not OptIn.off:
            raise _claim_failed(alert, "the account state has CKV on")
    elif code is AlertCode.unrecognized_device:
        state = decode_account_state(values[0]).state
        named = [d for d in state.devices if d.record.device_id == alert.device_id]
        if (
            not named
            or failure_of(lambda: verify_device_record(state.account_key, named[0])) is None
        ):
            raise _claim_failed(alert, "the named device's record verifies under the account key")
    elif code in (AlertCode.account_key_replaced, AlertCode.rollback):
        if len(set(labels)) != 1 or proven[1][1] <= proven[0][1]:
            raise _claim_failed(alert, "the lookups are not two versions of one label, in order")
        if parse_label(label).kind is LabelKind.handle:
            # The handle was re-pointed: two bindings of the handle to different accounts.
            first_id = decode_handle_binding(values[0]).binding.account_id
            if code is not AlertCode.account_key_replaced or (
                decode_handle_binding(values[1]).binding.account_id == first_id
            ):
                raise _claim_failed(alert, "both versions bind the handle to one account")
            return CheckedAlert(alert, complete=True, proven=tuple(proven))
        first = validate_account_state(labels[0], values[0], suite=suite)
        error = failure_of(
            lambda: validate_account_state(label, values[1], suite=suite, previous=first)
        )
        want = "ACCT-012" if code is AlertCode.account_key_replaced else "ACCT-015"
        if error is None or error.requirement != want:
            raise _claim_failed(alert, f"the second state does not fail {want} against the first")
    elif code is AlertCode.signature_invalid:
        if parse_label(label).kind is LabelKind.handle:
            error = failure_of(lambda: decode_handle_binding(values[0]))
        else:
            error = failure_of(lambda: validate_account_state(label, values[0], suite=suite))
        if error is None:
            raise _claim_failed(alert, "the value verifies")
    elif code is AlertCode.handle_mismatch:
        handle = parse_label(labels[0]).handle
        state = validate_account_state(labels[1], values[1], suite=suite)
        if (
            handle is None
            or failure_of(lambda: validate_handle_binding(labels[0], values[0], state, handle))
            is None
        ):
            raise _claim_failed(alert, "the handle and the account name each other")
    return CheckedAlert(alert, complete=True, proven=tuple(proven))
