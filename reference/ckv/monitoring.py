"""Monitoring a label, both sides (KEYTRANS §8.2, §8.3, §13.2, §13.3, §13.4).

* Contact Monitoring: :func:`answer_contact_monitor` (the log) and
  :func:`verify_contact_monitor` (the user, returning the new monitoring map).
* Owner Initialization: :func:`answer_owner_init` and :func:`verify_owner_init`
  (returning a new :class:`OwnerState`).
* Owner Monitoring: :func:`answer_owner_monitor` and :func:`verify_owner_monitor`.

Each answer runs the same algorithms of :mod:`ckv.combined_tree` the user runs,
recording; each verification consumes the proof and returns new state only once
everything, the ``FullTreeHead`` included, has verified (OPS-010). Sans-IO: the
clock (``now_ms``) is passed in. Normative description: spec/kt/operations.md.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from ckv import binary_ladder as bl
from ckv import combined_tree as ct
from ckv import implicit_search_tree as ibst
from ckv.cipher_suites import get_suite
from ckv.client_state import ClientState
from ckv.errors import UsageError, VerificationError
from ckv.search import (
    SearchLogView,
    conclude_response,
    greatest_at,
    new_tree_size,
    response_full_tree_head,
    response_recorder,
)
from ckv.wire import messages

__all__ = [
    "OwnerState",
    "answer_contact_monitor",
    "answer_owner_init",
    "answer_owner_monitor",
    "conclude",
    "first_entry_with",
    "full_tree_head_for",
    "greatest_at",
    "init_ladder_versions",
    "new_tree_size",
    "verify_contact_monitor",
    "verify_owner_init",
    "verify_owner_monitor",
]


def _fail(
    requirement: str, message: str, *, expected: object = None, computed: object = None
) -> VerificationError:
    return VerificationError(message, requirement=requirement, expected=expected, computed=computed)


# -- what the owner keeps -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OwnerState:
    """A label owner's state (§8.3, §9.1).

    ``start`` is the rightmost distinguished entry verified; ``history`` the
    owner's record of its greatest version as of entries, ascending by position
    (one pair for the starting position, then one per processed update);
    ``vrf_outputs`` and ``commitments`` what the owner knows per version (VRF
    outputs also for versions that never existed, as ladders reach for them);
    ``entries`` its contact monitoring map (§9.1 step 4).
    """

    start: int
    history: tuple[tuple[int, int], ...] = ()
    vrf_outputs: Mapping[int, bytes] = field(default_factory=dict)
    commitments: Mapping[int, bytes] = field(default_factory=dict)
    entries: Mapping[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        positions = [p for p, _ in self.history]
        versions = [v for _, v in self.history]
        if positions != sorted(positions) or versions != sorted(versions):
            msg = "an owner's history ascends in both position and version"
            raise UsageError(msg)

    @property
    def greatest(self) -> int | None:
        """The greatest version the owner knows of, or None."""
        return self.history[-1][1] if self.history else None

    @property
    def last_insert(self) -> int:
        """Where the greatest version was inserted, or the starting position."""
        return max(self.start, self.history[-1][0]) if self.history else self.start

    def expected(self, x: int) -> int | None:
        """The greatest version the owner expects to exist as of entry ``x``."""
        i = bisect.bisect_right(self.history, (x, bl.MAX_VERSION + 1))
        return self.history[i - 1][1] if i else None


# -- shared by the operations -------------------------------------------------------------


def first_entry_with(log: ct.LogView, label: bytes, version: int) -> int | None:
    """The first entry whose prefix tree holds ``version`` of ``label`` (None: none)."""
    key = log.vrf_output(label, version)
    lo, hi = 0, log.size
    while lo < hi:
        mid = (lo + hi) // 2
        if log.prefix_tree(mid).get(key) is None:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < log.size else None


def full_tree_head_for(
    log: SearchLogView, config: messages.Configuration, signing_key: bytes, last: int | None
) -> messages.FullTreeHead:
    """``same`` if the user already has the log's size, else a freshly signed head.

    Under ``thirdPartyAuditing`` an ``updated`` head carries the log's
    ``AuditorTreeHead`` (see :func:`ckv.search.response_full_tree_head`).
    """
    return response_full_tree_head(log, config, signing_key, last)


def conclude(
    state: ClientState,
    config: messages.Configuration,
    consumer: ct.Consumer,
    head: messages.FullTreeHead,
    now_ms: int,
) -> tuple[ct.CombinedResult, ClientState]:
    """Finish a consumed proof, verify the ``FullTreeHead`` and build the new state.

    See :func:`ckv.search.conclude_response` (OPS-019; under ``thirdPartyAuditing``
    also the ``AuditorTreeHead``, OPS-036 to OPS-038).
    """
    return conclude_response(state, config, consumer, head, now_ms)


def _check_usable(config: messages.Configuration, last: int | None, state: ClientState) -> None:
    del config  # every deployment mode is verified
    # OPS-011: the request advertised the size of the state it is verified against.
    if last != state.tree_size:
        msg = f"the request advertised {last}, the state is of size {state.tree_size}"
        raise UsageError(msg)


def _map(entries: Sequence[messages.MonitorMapEntry]) -> dict[int, int]:
    return {e.position: e.version for e in entries}


def _check_map_request(
    log: ct.LogView, label: bytes, entries: Sequence[messages.MonitorMapEntry]
) -> None:
    """§13.2 / §13.4: sorted, no duplicates, each position on its version's direct path."""
    positions = [e.position for e in entries]
    versions = [e.version for e in entries]
    # OPS-015: ascending positions, no duplicate position or version.
    if any(b <= a for a, b in pairwise(positions)) or len(set(versions)) != len(versions):
        msg = "monitoring map entries must ascend by position with no duplicate version"
        raise UsageError(msg, requirement="OPS-015")
    n = log.size
    for e in entries:
        first = first_entry_with(log, label, e.version) if e.position < n else None
        # OPS-015: the position is the first entry holding the version or on its direct path.
        if first is None or (e.position != first and e.position not in ibst.direct_path(first, n)):
            msg = f"map entry ({e.position}, {e.version}) is not on that version's direct path"
            raise UsageError(msg, requirement="OPS-015")


# -- Contact Monitoring (§13.2) -----------------------------------------------------------


def answer_contact_monitor(
    log: SearchLogView,
    config: messages.Configuration,
    signing_key: bytes,
    request: messages.ContactMonitorRequest,
) -> messages.ContactMonitorResponse:
    """The log's ``ContactMonitorResponse`` (§13.2), after validating the request."""
    head = full_tree_head_for(log, config, signing_key, request.last)
    _check_map_request(log, request.label, request.entries)
    recorder = response_recorder(log, request.label, request.last, head)
    ct.update_view(recorder, request.last)
    ct.contact_monitor(recorder, _map(request.entries), config.reasonable_monitoring_window)
    return messages.ContactMonitorResponse(full_tree_head=head, monitor=recorder.finish())


def verify_contact_monitor(
    state: ClientState,
    config: messages.Configuration,
    request: messages.ContactMonitorRequest,
    response: messages.ContactMonitorResponse,
    now_ms: int,
    *,
    vrf_outputs: Mapping[int, bytes],
    commitments: Mapping[int, bytes],
) -> tuple[dict[int, int], ClientState]:
    """Verify a ``ContactMonitorResponse`` (§13.2); return the new map and state.

    ``vrf_outputs`` and ``commitments`` are what the user learned about the
    label's versions when it searched for them. Nothing is returned, and the
    caller keeps its state, if anything fails (OPS-010).
    """
    _check_usable(config, request.last, state)
    n = new_tree_size(state, response.full_tree_head)
    consumer = ct.Consumer(
        response.monitor,
        n,
        vrf_outputs=vrf_outputs,
        commitments=commitments,
        retained=state.retained(),
        suite=config.ciphersuite,
    )
    ct.update_view(consumer, state.tree_size)
    new_map = ct.contact_monitor(
        consumer, _map(request.entries), config.reasonable_monitoring_window
    )
    _, new_state = conclude(state, config, consumer, response.full_tree_head, now_ms)
    # OPS-010: only now is anything returned.
    return new_map, new_state


# -- Owner Initialization (§13.3) ---------------------------------------------------------


def init_ladder_versions(greatest_versions: Sequence[int]) -> tuple[int, ...]:
    """§8.3 step 3: version 0 and every version of a ladder for a claimed version, ascending."""
    versions = {0}
    for g in greatest_versions:
        versions.update(bl.base_binary_ladder(g))
    return tuple(sorted(versions))


def answer_owner_init(
    log: SearchLogView,
    config: messages.Configuration,
    signing_key: bytes,
    request: messages.OwnerInitRequest,
) -> messages.OwnerInitResponse:
    """The log's ``OwnerInitResponse`` (§13.3).

    Refuses (OPS-020, raised while recording) a start that is not an unexpired
    distinguished entry.
    """
    head = full_tree_head_for(log, config, signing_key, request.last)
    if not 0 <= request.start < log.size:
        msg = f"start {request.start} is not an entry of a log of {log.size}"
        raise UsageError(msg, requirement="OPS-020")
    label = request.label
    recorder = response_recorder(log, label, request.last, head)
    ct.update_view(recorder, request.last)
    entries = ct.owner_init_entries(
        recorder, request.start, config.reasonable_monitoring_window, config.maximum_lifetime
    )
    greatest: list[int] = []
    for x in entries:
        g = greatest_at(log, label, x)
        if g is None:
            break
        greatest.append(g)
    ct.owner_init_ladders(recorder, entries, greatest)
    start_tree = log.prefix_tree(request.start)
    steps = tuple(
        messages.BinaryLadderStep(
            proof=log.vrf_proof(label, v), commitment=start_tree.get(log.vrf_output(label, v))
        )
        for v in init_ladder_versions(greatest)
    )
    return messages.OwnerInitResponse(
        full_tree_head=head,
        greatest_versions=tuple(greatest),
        binary_ladder=steps,
        init=recorder.finish(),
    )


def _ladder_keys(
    config: messages.Configuration,
    label: bytes,
    versions: Sequence[int],
    steps: Sequence[messages.BinaryLadderStep],
    requirement: str,
) -> tuple[dict[int, bytes], dict[int, bytes]]:
    # OPS-022 / OPS-031: one BinaryLadderStep per expected version.
    if len(steps) != len(versions):
        raise _fail(
            requirement,
            f"the binary ladder has {len(steps)} steps; versions {list(versions)} need one each",
            expected=len(versions),
            computed=len(steps),
        )
    suite = get_suite(config.ciphersuite)
    outputs: dict[int, bytes] = {}
    commitments: dict[int, bytes] = {}
    for version, step in zip(versions, steps, strict=True):
        # OPS-005: every VRF proof verifies for its label-version pair.
        outputs[version] = suite.vrf_verify(config.vrf_public_key, label, version, step.proof)
        if step.commitment is not None:
            commitments[version] = step.commitment
    return outputs, commitments


def verify_owner_init(
    state: ClientState,
    config: messages.Configuration,
    request: messages.OwnerInitRequest,
    response: messages.OwnerInitResponse,
    now_ms: int,
) -> tuple[OwnerState, ClientState]:
    """Verify an ``OwnerInitResponse`` (§13.3); return the owner's and the user's state."""
    _check_usable(config, request.last, state)
    greatest = response.greatest_versions
    versions = init_ladder_versions(greatest)
    outputs, commitments = _ladder_keys(
        config, request.label, versions, response.binary_ladder, "OPS-022"
    )
    missing = [g for g in greatest if g not in commitments]
    # OPS-022: a commitment for each claimed greatest version.
    if missing:
        raise _fail("OPS-022", f"no commitment for claimed greatest versions {missing}")
    n = new_tree_size(state, response.full_tree_head)
    # OPS-020: the starting position is an entry of the new tree.
    if not 0 <= request.start < n:
        raise _fail("OPS-020", f"start {request.start} is not an entry of a log of {n}")
    consumer = ct.Consumer(
        response.init,
        n,
        vrf_outputs=outputs,
        commitments=commitments,
        retained=state.retained(),
        suite=config.ciphersuite,
    )
    ct.update_view(consumer, state.tree_size)
    rmw = config.reasonable_monitoring_window
    entries = ct.owner_init_entries(consumer, request.start, rmw, config.maximum_lifetime)
    # OPS-021 and OPS-023 are checked in owner_init_ladders.
    ct.owner_init_ladders(consumer, entries, greatest)
    _, new_state = conclude(state, config, consumer, response.full_tree_head, now_ms)
    history = ((request.start, greatest[0]),) if greatest else ()
    owner = OwnerState(request.start, history, outputs, commitments, {})
    # OPS-010: only now is anything returned.
    return owner, new_state


# -- Owner Monitoring (§13.4) -------------------------------------------------------------


def answer_owner_monitor(
    log: SearchLogView,
    config: messages.Configuration,
    signing_key: bytes,
    request: messages.OwnerMonitorRequest,
    *,
    max_ladders: int | None = None,
) -> messages.OwnerMonitorResponse:
    """The log's ``OwnerMonitorResponse`` (§13.4), after validating the request.

    Stops before an entry whose greatest version is above the owner's advertised
    one (the owner must first process that update, §9.1), and after
    ``max_ladders`` ladders if given (OPS-027).
    """
    head = full_tree_head_for(log, config, signing_key, request.last)
    label = request.label
    _check_map_request(log, label, request.entries)
    n = log.size
    # OPS-024: start is an entry of the tree.
    if not 0 <= request.start < n:
        msg = f"start {request.start} is not an entry of a log of {n}"
        raise UsageError(msg, requirement="OPS-024")
    current = greatest_at(log, label, n - 1)
    at_start = greatest_at(log, label, request.start)
    advertised = request.greatest_version
    # OPS-024: greatest_version absent or at most the label's greatest, and present and at
    # least the version at start when one existed there.
    if advertised is not None and (current is None or advertised > current):
        msg = f"greatest_version {advertised} is above the label's greatest {current}"
        raise UsageError(msg, requirement="OPS-024")
    if at_start is not None and (advertised is None or advertised < at_start):
        msg = f"greatest_version {advertised} is below version {at_start} existing at start"
        raise UsageError(msg, requirement="OPS-024")
    recorder = response_recorder(log, label, request.last, head)
    ct.update_view(recorder, request.last)
    rmw = config.reasonable_monitoring_window
    ct.contact_monitor(recorder, _map(request.entries), rmw, owner_start=request.start)
    ladders = 0
    limit = -1 if advertised is None else advertised

    def expected(x: int) -> int | None:
        nonlocal ladders
        ladders += 1
        return greatest_at(log, label, x)

    def stop(x: int) -> bool:
        g = greatest_at(log, label, x)
        over = (-1 if g is None else g) > limit
        return over or (max_ladders is not None and ladders >= max_ladders)

    ct.owner_monitor(recorder, request.start, expected, rmw, stop)
    return messages.OwnerMonitorResponse(full_tree_head=head, monitor=recorder.finish())


def verify_owner_monitor(
    state: ClientState,
    config: messages.Configuration,
    owner: OwnerState,
    request: messages.OwnerMonitorRequest,
    response: messages.OwnerMonitorResponse,
    *,
    now_ms: int,
) -> tuple[OwnerState, ClientState]:
    """Verify an ``OwnerMonitorResponse`` (§13.4); return the new owner and user state.

    The request must describe ``owner`` (its map, start and greatest version).
    The walk of §8.3 stops where the proof is exhausted (OR13/kt notes); the new
    ``start`` is the rightmost entry whose ladder verified.
    """
    _check_usable(config, request.last, state)
    if (
        _map(request.entries) != dict(owner.entries)
        or request.start != owner.start
        or request.greatest_version != owner.greatest
    ):
        msg = "the OwnerMonitorRequest does not describe the owner's state"
        raise UsageError(msg)
    n = new_tree_size(state, response.full_tree_head)
    consumer = ct.Consumer(
        response.monitor,
        n,
        vrf_outputs=owner.vrf_outputs,
        commitments=owner.commitments,
        retained=state.retained(),
        suite=config.ciphersuite,
    )
    ct.update_view(consumer, state.tree_size)
    rmw = config.reasonable_monitoring_window
    new_map = ct.contact_monitor(consumer, dict(owner.entries), rmw, owner_start=owner.start)
    stop: Callable[[int], bool] = lambda _x: consumer.exhausted()  # noqa: E731
    reached = ct.owner_monitor(consumer, owner.start, owner.expected, rmw, stop)
    _, new_state = conclude(state, config, consumer, response.full_tree_head, now_ms)
    start = owner.start if reached is None else max(owner.start, reached)
    new_owner = OwnerState(start, owner.history, owner.vrf_outputs, owner.commitments, new_map)
    # OPS-010: only now is anything returned.
    return new_owner, new_state
