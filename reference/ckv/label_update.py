"""Updating a label, both sides (KEYTRANS §9.1, §13.5).

* The log: :func:`check_update_request` decides what an ``UpdateRequest`` asks
  for (create new versions, or report existing ones from a given entry) and
  refuses the requests §13.5 rejects; after the log has inserted the versions,
  :func:`answer_update` builds the ``UpdateResponse`` from a log view, recording
  the ``CombinedTreeProof`` by running §9.1 as the owner will.
* The owner: :func:`verify_update_response` runs §13.5's seven steps and returns
  the new :class:`~ckv.monitoring.OwnerState` (history, VRF outputs,
  commitments, and a contact monitoring pair where §9.1 step 4 adds one) with
  the new :class:`~ckv.client_state.ClientState`, only once all has verified.
  :func:`follow_up_request` is the request a further ``UpdateResponse`` to the
  same request is processed as (§13.5, last paragraph).

Normative description: spec/kt/operations.md (requirement IDs ``OPS-nnn``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ckv import binary_ladder as bl
from ckv import combined_tree as ct
from ckv.cipher_suites import get_suite
from ckv.client_state import ClientState
from ckv.commitment import compute_commitment, verify_update
from ckv.errors import UsageError, VerificationError
from ckv.monitoring import (
    OwnerState,
    conclude,
    first_entry_with,
    full_tree_head_for,
    greatest_at,
    new_tree_size,
)
from ckv.search import SearchLogView, response_recorder
from ckv.wire import messages

__all__ = [
    "UpdateResult",
    "answer_update",
    "check_update_request",
    "follow_up_request",
    "update_ladder_versions",
    "verify_update_response",
]

_MANAGED = messages.DeploymentMode.thirdPartyManagement


def _fail(
    requirement: str, message: str, *, expected: object = None, computed: object = None
) -> VerificationError:
    return VerificationError(message, requirement=requirement, expected=expected, computed=computed)


def update_ladder_versions(previous: int | None, greatest: int) -> tuple[int, ...]:
    """The versions of ``UpdateResponse.binary_ladder`` (§9.1), ascending.

    The ladder of the new greatest version and, with more than one new
    version, each new version; minus the ladder of ``previous`` (the owner
    knows those outputs), or minus version 0 when there was no previous version.
    """
    first = 0 if previous is None else previous + 1
    if greatest < first:
        msg = f"greatest version {greatest} is not above the previous {previous}"
        raise UsageError(msg)
    versions = set(bl.base_binary_ladder(greatest))
    if greatest > first:
        versions.update(range(first, greatest + 1))
    versions.difference_update(bl.base_binary_ladder(previous) if previous is not None else (0,))
    return tuple(sorted(versions))


# -- the log ------------------------------------------------------------------------------


def check_update_request(log: ct.LogView, request: messages.UpdateRequest) -> int | None:
    """What ``request`` asks of the log as of ``log``: §13.5's three cases.

    Returns the entry where version ``greatest_version + 1`` was created, when
    the owner is behind (the response reports it and ``values`` is disregarded);
    None when new versions are to be created from ``values``. Refuses (OPS-034)
    a ``greatest_version`` above the label's, or equal to it with no values.
    """
    current = greatest_at(log, request.label, log.size - 1) if log.size else None
    claimed = request.greatest_version
    # OPS-034: the owner cannot know of a version the log does not have.
    if claimed is not None and (current is None or claimed > current):
        msg = f"greatest_version {claimed} is above the label's greatest version {current}"
        raise UsageError(msg, requirement="OPS-034")
    if claimed == current:
        # OPS-034: nothing to create and nothing to report.
        if not request.values:
            msg = "the owner is up to date and sends no values"
            raise UsageError(msg, requirement="OPS-034")
        return None
    following = 0 if claimed is None else claimed + 1
    return first_entry_with(log, request.label, following)


def answer_update(
    log: SearchLogView,
    config: messages.Configuration,
    signing_key: bytes,
    request: messages.UpdateRequest,
    position: int,
    *,
    owner_start: int,
    skipped: int = 0,
) -> messages.UpdateResponse:
    """The ``UpdateResponse`` for the versions created at entry ``position`` (§13.5).

    ``log`` already holds them; ``owner_start`` is the starting position the log
    recorded for the owner (§8.3), which §9.1 step 2.1 depends on; ``skipped``
    how many of the new versions (the lowest) are skipped versions (§14). The
    response reports existing versions (non-empty ``values``) unless the request's
    values are exactly the unskipped values created at ``position``.
    """
    label = request.label
    n = log.size
    if not 0 <= position < n:
        msg = f"position {position} is not an entry of a log of {n}"
        raise UsageError(msg)
    head = full_tree_head_for(log, config, signing_key, request.last)
    previous = greatest_at(log, label, position - 1) if position else None
    greatest = greatest_at(log, label, position)
    first = 0 if previous is None else previous + 1
    if greatest is None or greatest < first:
        msg = f"entry {position} creates no version of the label"
        raise UsageError(msg)
    if request.greatest_version != previous:
        msg = f"the owner knows version {request.greatest_version}, the entry follows {previous}"
        raise UsageError(msg)
    if skipped and config.mode is not _MANAGED:
        msg = "only thirdPartyManagement skips versions"
        raise UsageError(msg)
    unskipped = range(first + skipped, greatest + 1)
    stored = [(log.opening(label, v), log.value(label, v)) for v in unskipped]
    info: list[messages.UpdateInfo] = []
    values: list[messages.LabelValue] = []
    for opening, value in stored:
        if opening is None or value is None:
            msg = "the log has no opening or value for a new version"
            raise UsageError(msg)
        info.append(messages.UpdateInfo(opening=opening, suffix=value.suffix))
        values.append(messages.LabelValue(value=value.value))
    reporting = request.values != tuple(values)
    owner_insert = first_entry_with(log, label, previous) if previous is not None else None
    skip_through = max(owner_start, owner_insert if owner_insert is not None else owner_start)
    recorder = response_recorder(log, label, request.last, head)
    ct.update_view(recorder, request.last)
    ct.label_update(
        recorder,
        position,
        count=greatest - first + 1,
        previous=previous,
        skip_through=skip_through,
        expected=lambda x: greatest_at(log, label, max(x, owner_start)),
        rmw=config.reasonable_monitoring_window,
    )
    tree = log.prefix_tree(n - 1)
    steps = []
    for v in update_ladder_versions(previous, greatest):
        # OPS-031: commitments only for versions below the owner's greatest version.
        below = previous is not None and v < previous
        steps.append(
            messages.BinaryLadderStep(
                proof=log.vrf_proof(label, v),
                commitment=tree.get(log.vrf_output(label, v)) if below else None,
            )
        )
    return messages.UpdateResponse(
        full_tree_head=head,
        position=position,
        skipped_versions=skipped if config.mode is _MANAGED else None,
        values=tuple(values) if reporting else (),
        info=tuple(info),
        binary_ladder=tuple(steps),
        update=recorder.finish(),
    )


# -- the owner ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """What a verified ``UpdateResponse`` establishes."""

    position: int
    #: The first new version (skipped ones included) and the new greatest version.
    first: int
    greatest: int
    #: The values of the unskipped new versions, ascending by version.
    values: tuple[bytes, ...]
    #: Whether the log reported existing versions rather than creating the requested ones.
    reported: bool
    #: Whether the entry is distinguished in the current tree (no contact pair added).
    distinguished: bool


def follow_up_request(
    request: messages.UpdateRequest, response: messages.UpdateResponse, result: UpdateResult
) -> messages.UpdateRequest:
    """The request a further ``UpdateResponse`` to ``request`` is processed as (§13.5)."""
    head = response.full_tree_head
    size = head.tree_head.tree_size if head.tree_head is not None else request.last
    return messages.UpdateRequest(
        last=size,
        label=request.label,
        greatest_version=result.greatest,
        values=request.values if response.values else (),
    )


def verify_update_response(
    state: ClientState,
    config: messages.Configuration,
    owner: OwnerState,
    request: messages.UpdateRequest,
    response: messages.UpdateResponse,
    *,
    now_ms: int,
) -> tuple[UpdateResult, OwnerState, ClientState]:
    """Verify an ``UpdateResponse`` (§13.5 steps 1 to 7) against the owner's state.

    Returns the result with the new owner and user state; ``owner`` and ``state``
    are untouched if anything fails (OPS-010).
    """
    # OPS-011: the request advertised the state's size and the owner's greatest version.
    if request.last != state.tree_size or request.greatest_version != owner.greatest:
        msg = "the UpdateRequest does not match the user's and the owner's state"
        raise UsageError(msg)
    label = request.label
    position = response.position
    # OPS-028 (step 1): the new versions are right of the previous ones (or of the start).
    if position <= owner.last_insert:
        raise _fail(
            "OPS-028",
            f"position {position} is not right of entry {owner.last_insert}",
            expected=f"> {owner.last_insert}",
            computed=position,
        )
    # OPS-029 (step 2): one UpdateInfo per value, and at least one.
    values = response.values or request.values
    if len(response.info) != len(values) or not response.info:
        raise _fail(
            "OPS-029",
            f"{len(response.info)} UpdateInfo for {len(values)} values",
            expected=max(len(values), 1),
            computed=len(response.info),
        )
    skipped = response.skipped_versions or 0
    previous = owner.greatest
    first = 0 if previous is None else previous + 1
    greatest = first + skipped + len(values) - 1
    if greatest > bl.MAX_VERSION:
        raise _fail("OPS-029", f"the new versions run past 2^32-1 ({greatest})")
    suite = get_suite(config.ciphersuite)
    commitments: dict[int, bytes] = dict(owner.commitments)
    zero = bytes(suite.hash_nh)
    for v in range(first, first + skipped):
        commitments[v] = zero
    for i, (value, info) in enumerate(zip(values, response.info, strict=True)):
        version = first + skipped + i
        update = messages.UpdateValue(value=value.value, suffix=info.suffix)
        # OPS-030 (step 3): each value's signature verifies (thirdPartyManagement), and no
        # signature is carried otherwise (SUITE-016).
        verify_update(config, label, version, update)
        commitments[version] = compute_commitment(
            config.ciphersuite,
            messages.CommitmentValue(
                opening=info.opening, label=label, version=version, update=update
            ),
            mode=config.mode,
        )
    versions = update_ladder_versions(previous, greatest)
    steps = response.binary_ladder
    # OPS-031 (step 4): one step per version, VRF proofs verify, no commitment above the
    # owner's greatest version.
    if len(steps) != len(versions):
        raise _fail(
            "OPS-031",
            f"the binary ladder has {len(steps)} steps; versions {list(versions)} need one each",
            expected=len(versions),
            computed=len(steps),
        )
    outputs: dict[int, bytes] = dict(owner.vrf_outputs)
    for version, step in zip(versions, steps, strict=True):
        if step.commitment is not None:
            if previous is None or version > previous:
                raise _fail("OPS-031", f"the ladder step of version {version} has a commitment")
            commitments.setdefault(version, step.commitment)
        outputs[version] = suite.vrf_verify(config.vrf_public_key, label, version, step.proof)
    n = new_tree_size(state, response.full_tree_head)
    if position >= n:
        raise _fail("OPS-028", f"position {position} is not an entry of a log of {n}")
    consumer = ct.Consumer(
        response.update,
        n,
        vrf_outputs=outputs,
        commitments=commitments,
        retained=state.retained(),
        suite=config.ciphersuite,
    )
    ct.update_view(consumer, state.tree_size)
    # Step 5 (OPS-032, OPS-033, OPS-035 inside).
    outcome = ct.label_update(
        consumer,
        position,
        count=greatest - first + 1,
        previous=previous,
        skip_through=owner.last_insert,
        expected=lambda x: owner.expected(max(x, owner.start)),
        rmw=config.reasonable_monitoring_window,
    )
    # Steps 6 and 7.
    _, new_state = conclude(state, config, consumer, response.full_tree_head, now_ms)
    entries = dict(owner.entries)
    if not outcome.distinguished:
        entries[position] = greatest
    new_owner = OwnerState(
        owner.start,
        (*owner.history, (position, greatest)),
        outputs,
        commitments,
        entries,
    )
    result = UpdateResult(
        position,
        first,
        greatest,
        tuple(v.value for v in values),
        bool(response.values),
        outcome.distinguished,
    )
    # OPS-010: only now is anything returned.
    return result, new_owner, new_state
