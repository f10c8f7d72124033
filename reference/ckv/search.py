"""The Search operation, both sides (KEYTRANS §13.1).

* :func:`answer_search` (the log): builds a ``SearchResponse`` from a
  :class:`SearchLogView`: the binary ladder's VRF proofs and commitments, the
  opening and value of the target version, a ``FullTreeHead`` and the
  ``CombinedTreeProof`` recorded by running the same algorithms the user runs.
* :func:`verify_search` (the user): §13.1 steps 1 to 6, returning the version
  found, its value and the terminal entry, with the new :class:`ClientState`.

Sans-IO: the clock (``now_ms``) is passed in. Normative description:
spec/kt/operations.md (requirement IDs ``OPS-nnn``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from ckv import binary_ladder as bl
from ckv import combined_tree as ct
from ckv import distinguished as dist
from ckv import implicit_search_tree as ibst
from ckv.cipher_suites import get_suite
from ckv.client_state import ClientState, FrontierEntry
from ckv.commitment import compute_commitment, verify_update
from ckv.errors import UsageError, VerificationError
from ckv.log_tree import LogTree
from ckv.tree_head import sign_tree_head, verify_full_tree_head
from ckv.wire import messages

__all__ = [
    "AuditedLogView",
    "SearchLogView",
    "SearchResult",
    "answer_search",
    "conclude_response",
    "response_full_tree_head",
    "response_ladder",
    "response_recorder",
    "verify_search",
]

UpdateViewReading = Literal["draft", "kt05"]


class SearchLogView(ct.LogView, Protocol):
    """A :class:`~ckv.combined_tree.LogView` that can also answer a search.

    ``vrf_proof`` is the VRF proof of a label-version pair; ``opening`` and
    ``value`` its commitment opening and ``UpdateValue`` (None if the log has
    none); ``root`` the log tree root at ``size``. ``ckv.transparency_log``'s
    log has this shape.
    """

    def vrf_proof(self, label: bytes, version: int) -> bytes:
        """The VRF proof of a label-version pair."""
        ...

    def opening(self, label: bytes, version: int) -> bytes | None:
        """The commitment opening of a label-version pair, if it exists."""
        ...

    def value(self, label: bytes, version: int) -> messages.UpdateValue | None:
        """The ``UpdateValue`` of a label-version pair, if it exists."""
        ...

    def root(self) -> bytes:
        """The log tree root at ``size``."""
        ...


@runtime_checkable
class AuditedLogView(SearchLogView, Protocol):
    """A :class:`SearchLogView` of a log with a Third-Party Auditor (``thirdPartyAuditing``).

    ``auditor_tree_head`` is the newest ``AuditorTreeHead`` the log attached;
    ``log_tree`` the log tree itself, which builds the inclusion proof with a cut at
    the auditor's size (LOG-014). ``ckv.transparency_log``'s log has this shape.
    """

    @property
    def auditor_tree_head(self) -> messages.AuditorTreeHead | None:
        """The newest ``AuditorTreeHead`` attached to the log."""
        ...

    @property
    def log_tree(self) -> LogTree:
        """The log tree (read only)."""
        ...


def response_full_tree_head(
    log: SearchLogView, config: messages.Configuration, signing_key: bytes, last: int | None
) -> messages.FullTreeHead:
    """``same`` if the user already has the log's size, else a freshly signed head.

    Under ``thirdPartyAuditing`` an ``updated`` head carries the log's current
    ``AuditorTreeHead`` (KEYTRANS §11.4; OPS-036).
    """
    if last is not None and not 1 <= last <= log.size:
        msg = f"advertised size {last} is not in [1, {log.size}]"
        raise UsageError(msg)
    if last == log.size:
        return messages.FullTreeHead(head_type=messages.FullTreeHeadType.same)
    auditor_head = None
    if config.mode is messages.DeploymentMode.thirdPartyAuditing:
        auditor_head = log.auditor_tree_head if isinstance(log, AuditedLogView) else None
        # OPS-036: a log with a Third-Party Auditor answers only with an auditor's head.
        if auditor_head is None or not 1 <= auditor_head.tree_size <= log.size:
            msg = f"the log has no AuditorTreeHead within its {log.size} entries to serve"
            raise UsageError(msg, requirement="OPS-036")
    return messages.FullTreeHead(
        head_type=messages.FullTreeHeadType.updated,
        tree_head=sign_tree_head(config, signing_key, log.size, log.root()),
        auditor_tree_head=auditor_head,
    )


def response_recorder(
    log: ct.LogView, label: bytes, last: int | None, head: messages.FullTreeHead
) -> ct.Recorder:
    """The :class:`~ckv.combined_tree.Recorder` for a response carrying ``head``.

    Its inclusion proof also gives the root at the auditor's size when ``head``
    carries an ``AuditorTreeHead`` (OPS-036).
    """
    auditor = head.auditor_tree_head
    return ct.Recorder(log, label, last, auditor_size=auditor.tree_size if auditor else None)


def conclude_response(
    state: ClientState,
    config: messages.Configuration,
    consumer: ct.Consumer,
    head: messages.FullTreeHead,
    now_ms: int,
) -> tuple[ct.CombinedResult, ClientState]:
    """Finish a consumed proof, verify the ``FullTreeHead`` and build the new state.

    Under ``thirdPartyAuditing`` the inclusion proof gives the root at the auditor's
    size too, the ``AuditorTreeHead`` is verified over it (§11.3), and the new state
    retains it (OPS-038).
    """
    n = consumer.size
    same = head.head_type is messages.FullTreeHeadType.same
    retained_root = state.full_subtrees.root() if same and state.full_subtrees.size else None
    auditing = config.mode is messages.DeploymentMode.thirdPartyAuditing
    auditor = head.auditor_tree_head if auditing and not same else None
    if auditor is not None:
        # SUITE-025 (§11.3 step 3), before the proof is evaluated at the auditor's size.
        if auditor.tree_size > n:
            raise _fail(
                "SUITE-025",
                f"auditor tree size {auditor.tree_size} exceeds the tree head's {n}",
                expected=f"<= {n}",
                computed=auditor.tree_size,
            )
        # OPS-037: an auditor's tree has at least one entry.
        if auditor.tree_size < 1:
            raise _fail("OPS-037", "auditor tree size 0 has no root", expected=">= 1", computed=0)
    result = consumer.finish(
        state.full_subtrees,
        expected_root=retained_root,
        auditor_size=auditor.tree_size if auditor is not None else None,
    )
    frontier = ibst.frontier(n)
    missing = [x for x in frontier if x not in result.timestamps or x not in result.prefix_roots]
    # COMBINED-011: the proof leaves every entry of the new frontier with a timestamp and root.
    if missing:
        raise _fail("COMBINED-011", f"frontier entries {missing} have no timestamp or prefix root")
    previous = state.auditor_tree_head
    # OPS-012, OPS-019 (§13 steps 5, 6): the FullTreeHead verifies over the recomputed root;
    # OPS-038: an AuditorTreeHead over the root at its size, with the retained one's size
    # for §11.3 step 1.
    verify_full_tree_head(
        config,
        head,
        advertised_size=state.tree_size,
        rightmost_timestamp=result.timestamps[n - 1],
        now_ms=now_ms,
        root=result.root,
        auditor_root=result.auditor_root,
        previous_auditor_tree_size=(
            previous.tree_size if previous is not None and state.tree_size is not None else None
        ),
    )
    new_state = ClientState(
        result.full_subtrees,
        tuple(FrontierEntry(x, result.timestamps[x], result.prefix_roots[x]) for x in frontier),
        head.tree_head if not same else state.tree_head,
        # OPS-038: the last verified AuditorTreeHead is retained.
        auditor if auditor is not None else state.auditor_tree_head,
    )
    return result, new_state


def response_ladder(target: int) -> tuple[int, ...]:
    """The versions of ``SearchResponse.binary_ladder``: the target's binary ladder (§13.1)."""
    return bl.base_binary_ladder(target)


def greatest_at(log: ct.LogView, label: bytes, x: int) -> int | None:
    """The greatest version of ``label`` in entry ``x``'s prefix tree (a ladder search)."""
    tree = log.prefix_tree(x)
    found: int | None = None
    upper = bl.MAX_VERSION + 1
    version = 0
    while version <= bl.MAX_VERSION:
        if tree.get(log.vrf_output(label, version)) is None:
            upper = version
            break
        found = version
        version = 2 * version + 1
    if found is None:
        return None
    while found + 1 < upper:
        mid = (found + upper) // 2
        if tree.get(log.vrf_output(label, mid)) is None:
            upper = mid
        else:
            found = mid
    return found


def answer_search(
    log: SearchLogView,
    config: messages.Configuration,
    signing_key: bytes,
    request: messages.SearchRequest,
    *,
    restart: bool = True,
) -> messages.SearchResponse:
    """The log's ``SearchResponse`` to ``request`` (§13.1).

    Raises :class:`~ckv.combined_tree.SearchRefusedError` when the search has no
    positive answer (no such label or version, or it is expired): the draft has
    no encoding for a negative result (OPS-014). ``restart=False`` records the
    view update as katie does (OR13/kt ``KT-05``), for interop tests only.
    """
    n = log.size
    advertised = request.last
    if advertised is not None and not 1 <= advertised <= n:
        msg = f"advertised size {advertised} is not in [1, {n}]"
        raise UsageError(msg)
    greatest = greatest_at(log, request.label, log.size - 1)
    # OPS-014: only a positive result is answered.
    if greatest is None:
        msg = "the label has no version"
        raise ct.SearchRefusedError(msg, requirement="OPS-014", reason=ct.Refusal.NOT_FOUND)
    target = greatest if request.version is None else request.version
    head = response_full_tree_head(log, config, signing_key, advertised)
    recorder = response_recorder(log, request.label, advertised, head)
    ct.update_view(recorder, advertised, restart=restart)
    rmw = config.reasonable_monitoring_window
    if request.version is None:
        ct.greatest_version_search(recorder, target, rmw)
    else:
        ct.fixed_version_search(recorder, target, rmw, config.maximum_lifetime)
    proof = recorder.finish()
    opening = log.opening(request.label, target)
    value = log.value(request.label, target)
    if opening is None or value is None:
        msg = f"the log has no value stored for version {target}"
        raise ct.SearchRefusedError(msg, requirement="OPS-014", reason=ct.Refusal.NOT_FOUND)
    rightmost = log.prefix_tree(n - 1)
    steps = []
    for version in response_ladder(target):
        commitment = None
        if version != target:
            # OPS-004: a commitment for each other version that exists, none for the target.
            commitment = rightmost.get(log.vrf_output(request.label, version))
        steps.append(
            messages.BinaryLadderStep(
                proof=log.vrf_proof(request.label, version), commitment=commitment
            )
        )
    return messages.SearchResponse(
        full_tree_head=head,
        version=target if request.version is None else None,
        opening=opening,
        value=value,
        binary_ladder=tuple(steps),
        search=proof,
    )


@dataclass(frozen=True, slots=True)
class SearchResult:
    """What a verified ``SearchResponse`` establishes."""

    version: int
    #: ``UpdateValue.value`` of that version (its signature verified where the mode has one).
    value: bytes
    #: The terminal entry of the search (where monitoring starts, §8.2).
    terminal: int
    #: The rightmost distinguished entry of the new tree (None if there is none).
    rightmost_distinguished: int | None
    #: The terminal entry is right of the rightmost distinguished entry: the user
    #: MUST monitor the label-version pair (OPS-013), in every deployment mode (KT-006).
    must_monitor: bool


def _fail(
    requirement: str, message: str, *, expected: object = None, computed: object = None
) -> VerificationError:
    return VerificationError(message, requirement=requirement, expected=expected, computed=computed)


def new_tree_size(
    state: ClientState, head: messages.FullTreeHead, *, requirement: str = "OPS-012"
) -> int:
    """The size of the tree a response's ``FullTreeHead`` moves the user to.

    ``requirement`` names the check that a new size must not be below the retained
    one (OPS-012 for the user operations, FORK-006 for walking distinguished heads).
    """
    if head.head_type is messages.FullTreeHeadType.same:
        size = state.tree_size
        # SUITE-019 is checked again in verify_full_tree_head; without a size nothing runs.
        if size is None:
            msg = "FullTreeHead is `same` but no previous tree size was advertised"
            raise _fail("SUITE-019", msg)
        return size
    if head.tree_head is None:
        raise _fail("SUITE-022", "FullTreeHead `updated` carries no tree head")
    size = head.tree_head.tree_size
    # OPS-012 / FORK-006: the new tree has at least one entry and at least as many as
    # the old one.
    if size < 1 or size < (state.tree_size or 0) or size > ibst.MAX_TREE_SIZE:
        msg = f"tree size {size} is not a size the user can move to from {state.tree_size}"
        raise _fail(requirement, msg, expected=f">= {state.tree_size or 1}", computed=size)
    return size


def verify_response_ladder(
    config: messages.Configuration,
    label: bytes,
    target: int,
    ladder: Sequence[messages.BinaryLadderStep],
    *,
    opening: bytes,
    value: messages.UpdateValue,
    count_requirement: str = "OPS-003",
    target_requirement: str = "OPS-004",
) -> tuple[dict[int, bytes], dict[int, bytes]]:
    """The VRF outputs and commitments a search-style binary ladder gives (§13.1, §14).

    Checks one step per version of the target's ladder (``count_requirement``), no
    commitment on the target's step (``target_requirement``) and every VRF proof
    (SUITE-008 to SUITE-011); the target's commitment is computed from ``opening``
    and ``value``.
    """
    versions = response_ladder(target)
    # OPS-003 / CRED-004: one BinaryLadderStep per version of the target's binary ladder.
    if len(ladder) != len(versions):
        raise _fail(
            count_requirement,
            f"the binary ladder for version {target} has {len(versions)} steps, the response "
            f"carries {len(ladder)}",
            expected=len(versions),
            computed=len(ladder),
        )
    suite = get_suite(config.ciphersuite)
    outputs: dict[int, bytes] = {}
    commitments: dict[int, bytes] = {}
    for version, step in zip(versions, ladder, strict=True):
        if version == target:
            # OPS-004 / CRED-004: no commitment for the target version.
            if step.commitment is not None:
                raise _fail(
                    target_requirement,
                    f"the ladder step of target version {target} has a commitment",
                )
        elif step.commitment is not None:
            commitments[version] = step.commitment
        # OPS-005 / CRED-005: every VRF proof verifies for its label-version pair.
        outputs[version] = suite.vrf_verify(config.vrf_public_key, label, version, step.proof)
    commitments[target] = compute_commitment(
        config.ciphersuite,
        messages.CommitmentValue(opening=opening, label=label, version=target, update=value),
        mode=config.mode,
    )
    return outputs, commitments


def verify_search(
    state: ClientState,
    config: messages.Configuration,
    request: messages.SearchRequest,
    response: messages.SearchResponse,
    now_ms: int,
    *,
    update_view_reading: UpdateViewReading = "draft",
) -> tuple[SearchResult, ClientState]:
    """Verify a ``SearchResponse`` (§13.1 steps 1 to 6); return the result and new state.

    ``state`` is left as it was if anything fails (OPS-010). ``update_view_reading``
    ``"kt05"`` reads the view update as katie builds it (interop only).
    """
    # OPS-011: the request advertised the size of the state it is verified against.
    if request.last != state.tree_size:
        msg = f"the request advertised {request.last}, the state is of size {state.tree_size}"
        raise UsageError(msg)
    # OPS-001: `version` is in the response exactly when the request had none.
    if (request.version is None) == (response.version is None):
        raise _fail(
            "OPS-001",
            "SearchResponse.version must be present exactly when SearchRequest.version is absent",
        )
    target = request.version if request.version is not None else response.version
    if target is None:  # unreachable after OPS-001; keeps the type narrow without assert
        raise _fail("OPS-001", "no target version")
    # OPS-002 (step 1): the value is consumed only once its UpdateSuffix verifies (SUITE-016).
    value = verify_update(config, request.label, target, response.value)
    outputs, commitments = verify_response_ladder(
        config,
        request.label,
        target,
        response.binary_ladder,
        opening=response.opening,
        value=response.value,
    )
    n = new_tree_size(state, response.full_tree_head)
    consumer = ct.Consumer(
        response.search,
        n,
        vrf_outputs=outputs,
        commitments=commitments,
        retained=state.retained(),
        suite=config.ciphersuite,
    )
    ct.update_view(consumer, state.tree_size, restart=update_view_reading == "draft")
    rmw = config.reasonable_monitoring_window
    if request.version is None:
        terminal = ct.greatest_version_search(consumer, target, rmw).terminal
    else:
        terminal = ct.fixed_version_search(consumer, target, rmw, config.maximum_lifetime).terminal
    absent = consumer.proven(n - 1)
    for version, step in zip(response_ladder(target), response.binary_ladder, strict=True):
        # OPS-004: no commitment for a version the rightmost entry proves absent.
        if step.commitment is not None and absent.get(version) is False:
            raise _fail(
                "OPS-004",
                f"the ladder step of version {version} has a commitment, but the rightmost "
                "log entry proves that version absent",
            )
    # OPS-012 (steps 5, 6): the FullTreeHead verifies over the recomputed root.
    result, new_state = conclude_response(state, config, consumer, response.full_tree_head, now_ms)
    timestamps = result.timestamps
    rightmost = dist.rightmost_distinguished(n, rmw, timestamps.__getitem__)
    # OPS-013, KT-006: a pair whose terminal entry is right of the rightmost
    # distinguished entry is monitored, whatever the deployment mode (CKV keeps the
    # contact-monitoring duty even with a third party, in case the two collude).
    must_monitor = rightmost is None or terminal > rightmost
    # OPS-010: only now, with everything verified, is the new state returned.
    return SearchResult(target, value, terminal, rightmost, must_monitor), new_state
