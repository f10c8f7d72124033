"""Credentials: standard, provisional, and their final verification (KEYTRANS §14).

A credential is a greatest-version search for a label that its owner sends to
another user directly, anchored at a recent distinguished log entry that the
receiver already knows (from :mod:`ckv.distinguished_walk`):

* **standard**: a search ladder in the distinguished entry's own prefix tree;
  verified against the prefix root the receiver retained for that entry.
* **provisional**: a signed tree head right of the entry and the
  ``CombinedTreeProof`` of a view update from ``position + 1`` to that size and a
  greatest-version search, consumed from the receiver's retained view of the log
  at ``position + 1``. It is *initially* verified, then queued until *final*
  verification: the terminal entry turns out to be distinguished, or a
  :class:`~ckv.wire.messages.CredentialUpdate` extends its view to the first
  distinguished entry right of the terminal entry.

Verification never touches the receiver's :class:`~ckv.client_state.ClientState`
(§14: "MUST NOT have any effect"): nothing here takes or returns one. The
builders (:func:`standard_credential`, :func:`provisional_credential`,
:func:`credential_update`) read a log view, as a label owner's client would
assemble them from the log's answers.

Normative description: spec/kt/credentials.md (requirement IDs ``CRED-nnn``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from ckv import binary_ladder as bl
from ckv import combined_tree as ct
from ckv import distinguished as dist
from ckv import implicit_search_tree as ibst
from ckv.client_state import ClientState, FrontierEntry
from ckv.commitment import verify_update
from ckv.distinguished_walk import RecentDistinguished
from ckv.errors import CKVError, UsageError, VerificationError
from ckv.prefix_tree import PrefixTree, evaluate_prefix_proof
from ckv.search import SearchLogView, response_ladder, verify_response_ladder
from ckv.tree_head import sign_tree_head, verify_tree_head
from ckv.wire import messages

__all__ = [
    "CredentialQueue",
    "PendingCredential",
    "QueueOutcome",
    "UnknownDistinguishedEntryError",
    "VerifiedCredential",
    "credential_update",
    "finalize_credential",
    "is_expired",
    "monitor_path",
    "provisional_credential",
    "standard_credential",
    "verify_credential",
]

_INCLUSION = messages.PrefixSearchResultType.inclusion
_STANDARD = messages.CredentialType.standard
_PROVISIONAL = messages.CredentialType.provisional


class UnknownDistinguishedEntryError(VerificationError):
    """The receiver knows no recent distinguished entry the credential needs.

    CRED-002: an application MUST NOT use this error as a prompt to ask the
    Transparency Log for anything.
    """


def _fail(
    requirement: str, message: str, *, expected: object = None, computed: object = None
) -> VerificationError:
    return VerificationError(message, requirement=requirement, expected=expected, computed=computed)


# -- results ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifiedCredential:
    """A credential whose verification is complete."""

    label: bytes
    version: int
    #: ``UpdateValue.value`` (its signature verified where the mode has one).
    value: bytes
    position: int
    credential_type: messages.CredentialType


@dataclass(frozen=True, slots=True)
class PendingCredential:
    """A provisional credential that passed initial verification (§14.2).

    Its contents may be used; it is kept until final verification. ``view`` is
    the credential's own view of the log (size ``tree_head.tree_size``), used
    only to verify its ``CredentialUpdate``, never for anything else (CRED-017).
    """

    label: bytes
    version: int
    value: bytes
    position: int
    #: The terminal entry of the credential's greatest-version search.
    terminal: int
    #: The prefix root the credential's proof gives for the terminal entry.
    terminal_prefix_root: bytes
    view: ClientState
    #: VRF outputs and commitments of the ladder versions (for monitoring ladders).
    vrf_outputs: Mapping[int, bytes] = field(repr=False)
    commitments: Mapping[int, bytes] = field(repr=False)

    def verified(self) -> VerifiedCredential:
        """The credential, finally verified."""
        return VerifiedCredential(self.label, self.version, self.value, self.position, _PROVISIONAL)


# -- shared steps -----------------------------------------------------------------------


def _known_entry(recent: RecentDistinguished, position: int) -> None:
    # CRED-001 (step 1): the receiver knows a recent distinguished entry at `position`.
    if recent.get(position) is None:
        msg = (
            f"no recently issued distinguished log entry is known at position {position} "
            f"(known: {list(recent.positions)})"
        )
        raise UnknownDistinguishedEntryError(msg, requirement="CRED-001")


class _Checked(NamedTuple):
    """The outcome of §14 steps 2 to 4."""

    value: bytes
    outputs: dict[int, bytes]
    commitments: dict[int, bytes]


def _check_ladder(config: messages.Configuration, credential: messages.Credential) -> _Checked:
    """§14 steps 2 to 4: the value, the ladder's shape, VRF outputs and commitments."""
    target = credential.version
    # CRED-003 (step 2): the value's UpdateSuffix verifies where the mode signs updates.
    value = verify_update(config, credential.label, target, credential.value)
    # CRED-004 (step 3): one step per version of the target's binary ladder, and no
    # commitment for the target; CRED-005 (step 4): every VRF proof verifies, and the
    # target's commitment is computed from `opening` and `value`.
    outputs, commitments = verify_response_ladder(
        config,
        credential.label,
        target,
        credential.binary_ladder,
        opening=credential.opening,
        value=credential.value,
        count_requirement="CRED-004",
        target_requirement="CRED-004",
    )
    return _Checked(value, outputs, commitments)


def _check_no_absent_commitment(
    credential: messages.Credential, absent: Mapping[int, bool]
) -> None:
    for version, step in zip(
        response_ladder(credential.version), credential.binary_ladder, strict=True
    ):
        # CRED-004: no commitment for a version the proof shows absent.
        if step.commitment is not None and absent.get(version) is False:
            msg = (
                f"the ladder step of version {version} has a commitment; the proof shows it absent"
            )
            raise _fail("CRED-004", msg)


# -- verification -----------------------------------------------------------------------


def _verify_standard(
    credential: messages.Credential, recent: RecentDistinguished, checked: _Checked
) -> VerifiedCredential:
    value, outputs, commitments = checked
    proof = credential.distinguished
    # CRED-006: a standard credential carries `distinguished` and nothing of the other type.
    if proof is None or credential.tree_head is not None or credential.search is not None:
        raise _fail("CRED-006", "a standard credential carries exactly the `distinguished` proof")
    target = credential.version
    outcomes = [r.result_type is _INCLUSION for r in proof.results]
    reading = bl.interpret_search_ladder(target, outcomes)
    # CRED-007 (§14.1 step 1): the ladder ends consistent with `version` being the greatest.
    if reading.verdict != 0:
        relation = "above" if reading.verdict > 0 else "below"
        msg = (
            f"the ladder in log entry {credential.position} shows the greatest version "
            f"{relation} the credential's version {target}"
        )
        raise _fail("CRED-007", msg)
    keys: list[bytes] = []
    expected: list[bytes | None] = []
    for version, included in zip(reading.looked_up, outcomes, strict=True):
        commitment = commitments.get(version) if included else None
        # CRED-007: every included version has a commitment from the credential.
        if included and commitment is None:
            msg = f"version {version} is proven included but the credential has no commitment"
            raise _fail("CRED-007", msg)
        keys.append(outputs[version])
        expected.append(commitment)
    root = evaluate_prefix_proof(keys, proof, expected)
    _check_no_absent_commitment(credential, dict(zip(reading.looked_up, outcomes, strict=True)))
    entry = recent.get(credential.position)
    if entry is None:  # checked in CRED-001; keeps the type narrow
        raise _fail("CRED-001", "unknown position")
    # CRED-008 (§14.1 step 2): the proof gives the entry's retained prefix root.
    if root != entry.prefix_root:
        raise _fail(
            "CRED-008",
            f"the ladder gives prefix root {root.hex()} for log entry {credential.position}, "
            f"whose retained prefix root is {entry.prefix_root.hex()}",
            expected=entry.prefix_root.hex(),
            computed=root.hex(),
        )
    return VerifiedCredential(credential.label, target, value, credential.position, _STANDARD)


def _verify_provisional(
    config: messages.Configuration,
    credential: messages.Credential,
    recent: RecentDistinguished,
    checked: _Checked,
) -> PendingCredential:
    value, outputs, commitments = checked
    head, proof = credential.tree_head, credential.search
    # CRED-006: a provisional credential carries `tree_head` and `search`, not `distinguished`.
    if head is None or proof is None or credential.distinguished is not None:
        raise _fail("CRED-006", "a provisional credential carries exactly `tree_head`, `search`")
    position = credential.position
    entry = recent.get(position)
    if entry is None:  # checked in CRED-001
        raise _fail("CRED-001", "unknown position")
    n = head.tree_size
    # CRED-009 (§14.2 step 1): the tree head is of a tree that extends right of `position`.
    if not position < n <= ibst.MAX_TREE_SIZE:
        msg = f"the tree head's size {n} is not greater than the position {position}"
        raise _fail("CRED-009", msg, expected=f"> {position}", computed=n)
    start = entry.view
    consumer = ct.Consumer(
        proof,
        n,
        vrf_outputs=outputs,
        commitments=commitments,
        retained=start.retained(),
        suite=config.ciphersuite,
    )
    # CRED-010 (step 2): a view update from position + 1, then a greatest-version search ...
    ct.update_view(consumer, position + 1)
    terminal = ct.greatest_version_search(
        consumer, credential.version, config.reasonable_monitoring_window
    ).terminal
    # CRED-010: ... whose terminal entry is right of `position` (else: a standard credential).
    if terminal <= position:
        msg = (
            f"the search's terminal entry {terminal} is not right of position {position}: "
            "a standard credential could have been produced"
        )
        raise _fail("CRED-010", msg, expected=f"> {position}", computed=terminal)
    _check_no_absent_commitment(credential, consumer.proven(n - 1))
    # CRED-011 (step 3): the root from `search.inclusion` and the retained full subtrees ...
    result = consumer.finish(start.full_subtrees)
    frontier = ibst.frontier(n)
    missing = [x for x in frontier if x not in result.timestamps or x not in result.prefix_roots]
    # COMBINED-011: the credential's view has a complete frontier (kept for its update).
    if missing:
        raise _fail("COMBINED-011", f"frontier entries {missing} have no timestamp or prefix root")
    # CRED-011 (step 4): ... is the root the tree head's signature verifies over.
    verify_tree_head(config, head, result.root)
    view = ClientState(
        result.full_subtrees,
        tuple(FrontierEntry(x, result.timestamps[x], result.prefix_roots[x]) for x in frontier),
        head,
    )
    return PendingCredential(
        credential.label,
        credential.version,
        value,
        position,
        terminal,
        result.prefix_roots[terminal],
        view,
        outputs,
        commitments,
    )


def verify_credential(
    config: messages.Configuration,
    credential: messages.Credential,
    recent: RecentDistinguished,
) -> VerifiedCredential | PendingCredential:
    """Verify a credential against the receiver's recent distinguished entries (§14).

    A standard credential is verified completely; a provisional one is
    *initially* verified and returned as a :class:`PendingCredential` to queue.
    Takes no :class:`~ckv.client_state.ClientState` and changes nothing (CRED-017).
    """
    if config.mode is messages.DeploymentMode.thirdPartyAuditing:
        msg = "credentials under thirdPartyAuditing are not supported yet"
        raise UsageError(msg)
    _known_entry(recent, credential.position)
    checked = _check_ladder(config, credential)
    if credential.credential_type is _STANDARD:
        return _verify_standard(credential, recent, checked)
    if credential.credential_type is _PROVISIONAL:
        return _verify_provisional(config, credential, recent, checked)
    msg = f"credential type {credential.credential_type!r} is neither standard nor provisional"
    raise _fail("CRED-006", msg)


# -- the monitoring path of a CredentialUpdate ------------------------------------------


def monitor_path(p: ct.Provider, terminal: int, version: int, rmw: int) -> tuple[int | None, bool]:
    """§8.2 for one map entry (``terminal`` -> ``version``): returns where it ends.

    Asks for the timestamps on the path from the root to ``terminal``'s parent,
    stopping at the first non-distinguished entry; if ``terminal`` is not
    distinguished, a monitoring ladder from each entry of its direct path to its
    right, up to and including the first distinguished one. Returns the last
    entry inspected (``terminal`` itself when it is distinguished; None when
    the path has no entry right of ``terminal``) and whether it is distinguished.
    """
    n = p.size
    bracket = dist.Bracket.at_root(p.timestamp(n - 1))
    distinguished: set[int] = set()
    path = ibst.search_path(terminal, n)
    for i, here in enumerate(path):
        # Step 1 / 2.3: distinguished iff every ancestor is and its bracket spans the RMW.
        if not bracket.distinguished(rmw):
            break
        distinguished.add(here)
        if here == terminal:
            break
        child = path[i + 1]
        t_here = p.timestamp(here)
        bracket = bracket.to_left(t_here) if child < here else bracket.to_right(t_here)
    if terminal in distinguished:
        return terminal, True
    inspect: list[int] = []
    for y in ibst.direct_path(terminal, n):
        if y < terminal:
            continue
        inspect.append(y)
        if y in distinguished:
            break
    for y in inspect:
        p.monitoring_ladder(y, version)
    if not inspect:
        return None, False
    return inspect[-1], inspect[-1] in distinguished


def _update_target(pending: PendingCredential, recent: RecentDistinguished) -> int | None:
    """The leftmost recent distinguished entry at or right of the terminal entry."""
    return next((x for x in recent.positions if x >= pending.terminal), None)


def finalize_credential(
    config: messages.Configuration,
    pending: PendingCredential,
    recent: RecentDistinguished,
    update: messages.CredentialUpdate | None = None,
) -> VerifiedCredential | None:
    """Try to finally verify a provisional credential (§14.2); None if not yet possible.

    First way: the terminal entry is a known recent distinguished entry, and the
    credential's prefix root for it matches. Second way: ``update`` extends the
    credential's view to ``D + 1``, where ``D`` is the leftmost known recent
    distinguished entry right of the terminal entry, and its root there matches
    the retained one. Returns None (nothing is asked of the log, CRED-014) when
    no such entry is known, or no update was given yet.
    """
    terminal_entry = recent.get(pending.terminal)
    if terminal_entry is not None:
        # CRED-013: the terminal entry's prefix root from the credential is the retained one.
        if terminal_entry.prefix_root != pending.terminal_prefix_root:
            raise _fail(
                "CRED-013",
                f"the credential gives prefix root {pending.terminal_prefix_root.hex()} for "
                f"distinguished log entry {pending.terminal}, retained: "
                f"{terminal_entry.prefix_root.hex()}",
                expected=terminal_entry.prefix_root.hex(),
                computed=pending.terminal_prefix_root.hex(),
            )
        return pending.verified()
    target = _update_target(pending, recent)
    # CRED-014 (update step 1): without a known entry right of the terminal, wait (no request).
    if target is None or update is None:
        return None
    entry = recent.get(target)
    n = pending.view.tree_size or 0
    if entry is None or target + 1 < n:
        # The first distinguished entry lies inside the credential's own tree: no update can
        # extend that view to it (see spec/kt/credentials.md, open issue).
        return None
    consumer = ct.Consumer(
        update.monitor,
        target + 1,
        vrf_outputs=pending.vrf_outputs,
        commitments=pending.commitments,
        retained=pending.view.retained(),
        suite=config.ciphersuite,
    )
    # CRED-015 (update step 2): the view update from the credential's size to D + 1 ...
    ct.update_view(consumer, n)
    if config.mode is messages.DeploymentMode.contactMonitoring:
        # ... and, in Contact Monitoring mode, the monitoring path from the terminal entry.
        end, reached = monitor_path(
            consumer, pending.terminal, pending.version, config.reasonable_monitoring_window
        )
        # CRED-015: the path reaches a distinguished entry of that tree or D itself, unless
        # D is in the terminal entry's right subtree: then the terminal entry is an ancestor
        # of D, distinguished with it (KEYTRANS appendix on the RMW, case 2).
        if not (reached or end == target or ibst.is_ancestor(pending.terminal, target, target + 1)):
            raise _fail(
                "CRED-015",
                f"the monitoring path from log entry {pending.terminal} ends at {end}: "
                f"neither a distinguished entry nor the distinguished entry {target}, and "
                f"{target} is not in the terminal entry's subtree",
            )
    result = consumer.finish(pending.view.full_subtrees)
    # CRED-016 (update step 3): the root at D + 1 is the one retained for D.
    if result.root != entry.root:
        raise _fail(
            "CRED-016",
            f"the update gives log root {result.root.hex()} at size {target + 1}; the root "
            f"retained for distinguished log entry {target} is {entry.root.hex()}",
            expected=entry.root.hex(),
            computed=result.root.hex(),
        )
    return pending.verified()


def is_expired(position: int, recent: RecentDistinguished) -> bool:
    """Whether a credential anchored at ``position`` is expired (§14, CRED-019)."""
    return recent.get(position) is None


# -- the queue --------------------------------------------------------------------------


@dataclass(slots=True)
class _Queued:
    pending: PendingCredential
    updates: list[messages.CredentialUpdate] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class QueueOutcome:
    """What one pass over the queue settled."""

    finalized: tuple[VerifiedCredential, ...] = ()
    #: Credentials whose final verification failed, with the error.
    failed: tuple[tuple[PendingCredential, CKVError], ...] = ()
    #: Expired before final verification: get a CredentialUpdate from the log (CRED-019).
    expired: tuple[PendingCredential, ...] = ()


class CredentialQueue:
    """Provisional credentials awaiting final verification, and their updates (CRED-012, -018).

    Independent of the user's :class:`~ckv.client_state.ClientState` and of
    every other credential (CRED-017): each entry is verified on its own view.
    """

    def __init__(self) -> None:
        self._items: dict[int, _Queued] = {}
        self._next = 0

    def __len__(self) -> int:
        return len(self._items)

    def add(self, pending: PendingCredential) -> int:
        """Queue an initially verified credential; returns its handle."""
        handle = self._next
        self._next += 1
        self._items[handle] = _Queued(pending)
        return handle

    def add_update(self, handle: int, update: messages.CredentialUpdate) -> None:
        """Queue an update for a credential, even before it can be verified (CRED-018)."""
        item = self._items.get(handle)
        if item is None:
            msg = f"no queued credential {handle}"
            raise UsageError(msg)
        item.updates.append(update)

    def process(self, config: messages.Configuration, recent: RecentDistinguished) -> QueueOutcome:
        """Try every queued credential against the current recent entries."""
        finalized: list[VerifiedCredential] = []
        failed: list[tuple[PendingCredential, CKVError]] = []
        expired: list[PendingCredential] = []
        for handle, item in list(self._items.items()):
            outcome: VerifiedCredential | None = None
            error: CKVError | None = None
            for update in (None, *item.updates):
                try:
                    outcome = finalize_credential(config, item.pending, recent, update)
                except CKVError as exc:
                    error = exc
                    continue
                if outcome is not None:
                    break
            if outcome is not None:
                finalized.append(outcome)
                del self._items[handle]
            elif error is not None:
                failed.append((item.pending, error))
                del self._items[handle]
            elif is_expired(item.pending.position, recent):
                expired.append(item.pending)
        return QueueOutcome(tuple(finalized), tuple(failed), tuple(expired))


# -- building (the label owner's side) --------------------------------------------------


def _greatest_in(tree: PrefixTree, key_of: _KeyOf) -> int | None:
    """The greatest version of a label present in ``tree``, by exponential then binary search."""
    found: int | None = None
    upper = bl.MAX_VERSION + 1
    version = 0
    while version <= bl.MAX_VERSION:
        if tree.get(key_of(version)) is None:
            upper = version
            break
        found = version
        version = 2 * version + 1
    if found is None:
        return None
    while found + 1 < upper:
        mid = (found + upper) // 2
        if tree.get(key_of(mid)) is None:
            upper = mid
        else:
            found = mid
    return found


class _KeyOf:
    __slots__ = ("_cache", "_label", "_log")

    def __init__(self, log: SearchLogView, label: bytes) -> None:
        self._log, self._label = log, label
        self._cache: dict[int, bytes] = {}

    def __call__(self, version: int) -> bytes:
        key = self._cache.get(version)
        if key is None:
            key = self._cache[version] = self._log.vrf_output(self._label, version)
        return key


def _ladder_steps(
    log: SearchLogView, label: bytes, target: int, tree: PrefixTree, key_of: _KeyOf
) -> tuple[messages.BinaryLadderStep, ...]:
    return tuple(
        messages.BinaryLadderStep(
            proof=log.vrf_proof(label, v),
            commitment=None if v == target else tree.get(key_of(v)),
        )
        for v in response_ladder(target)
    )


def _opening_value(
    log: SearchLogView, label: bytes, version: int
) -> tuple[bytes, messages.UpdateValue]:
    opening, value = log.opening(label, version), log.value(label, version)
    if opening is None or value is None:
        msg = f"the log has no value stored for version {version}"
        raise UsageError(msg)
    return opening, value


def standard_credential(log: SearchLogView, label: bytes, position: int) -> messages.Credential:
    """A standard credential for ``label`` at distinguished entry ``position`` (§14.1)."""
    ibst.check_position(position, log.size)
    key_of = _KeyOf(log, label)
    tree = log.prefix_tree(position)
    target = _greatest_in(tree, key_of)
    if target is None:
        msg = f"the label has no version in log entry {position}"
        raise UsageError(msg)
    keys = []
    # The target's own ladder, until the verdict is known (no omissions: one entry).
    for version in bl.base_binary_ladder(target):
        key = key_of(version)
        keys.append(key)
        if (tree.get(key) is not None) != (version <= target):
            break
    opening, value = _opening_value(log, label, target)
    return messages.Credential(
        label=label,
        version=target,
        opening=opening,
        value=value,
        binary_ladder=_ladder_steps(log, label, target, tree, key_of),
        position=position,
        credential_type=_STANDARD,
        distinguished=tree.prove(keys),
    )


def provisional_credential(
    log: SearchLogView,
    config: messages.Configuration,
    signing_key: bytes,
    label: bytes,
    position: int,
) -> messages.Credential:
    """A provisional credential for ``label`` from ``position`` to ``log.size`` (§14.2).

    Refuses (CRED-021) when the search's terminal entry is not right of
    ``position``: a standard credential must be made then. ``signing_key`` is
    the log's: the tree head is one the log issued.
    """
    n = log.size
    if not 0 <= position < n - 1:
        msg = f"position {position} leaves no entry to its right in a log of {n}"
        raise UsageError(msg)
    key_of = _KeyOf(log, label)
    rightmost = log.prefix_tree(n - 1)
    target = _greatest_in(rightmost, key_of)
    if target is None:
        msg = "the label has no version"
        raise UsageError(msg)
    recorder = ct.Recorder(log, label, position + 1)
    ct.update_view(recorder, position + 1)
    terminal = ct.greatest_version_search(
        recorder, target, config.reasonable_monitoring_window
    ).terminal
    # CRED-021: a provisional credential only when its terminal entry is right of position.
    if terminal <= position:
        msg = f"version {target} is in log entry {position}: make a standard credential"
        raise UsageError(msg, requirement="CRED-021")
    proof = recorder.finish()
    opening, value = _opening_value(log, label, target)
    return messages.Credential(
        label=label,
        version=target,
        opening=opening,
        value=value,
        binary_ladder=_ladder_steps(log, label, target, rightmost, key_of),
        position=position,
        credential_type=_PROVISIONAL,
        tree_head=sign_tree_head(config, signing_key, n, log.root()),
        search=proof,
    )


class _Truncated:
    """A log view seen as of a smaller size (the algorithms read only entries left of it)."""

    def __init__(self, log: SearchLogView, size: int) -> None:
        self._log, self.size = log, size

    def timestamp(self, x: int) -> int:
        return self._log.timestamp(x)

    def prefix_tree(self, x: int) -> PrefixTree:
        return self._log.prefix_tree(x)

    def vrf_output(self, label: bytes, version: int) -> bytes:
        return self._log.vrf_output(label, version)

    def batch_proof(self, leaves: Sequence[int], retained_size: int) -> messages.InclusionProof:
        del leaves, retained_size
        msg = "a truncated view gives no proofs"
        raise UsageError(msg)


def credential_update(
    log: SearchLogView, config: messages.Configuration, credential: messages.Credential
) -> messages.CredentialUpdate:
    """The ``CredentialUpdate`` of a provisional credential to ``log.size`` = ``D + 1`` (§14.2).

    ``log`` is the log as of one entry past ``D``, the first distinguished entry
    right of the credential's terminal entry.
    """
    head = credential.tree_head
    if credential.credential_type is not _PROVISIONAL or head is None:
        msg = "only a provisional credential has an update"
        raise UsageError(msg)
    n = head.tree_size
    if log.size < n:
        msg = f"the log view ({log.size}) is smaller than the credential's tree ({n})"
        raise UsageError(msg)
    rmw = config.reasonable_monitoring_window
    # The terminal entry, found as the receiver found it: over the credential's tree.
    probe = ct.Recorder(_Truncated(log, n), credential.label, credential.position + 1)
    terminal = ct.greatest_version_search(probe, credential.version, rmw).terminal
    recorder = ct.Recorder(log, credential.label, n)
    ct.update_view(recorder, n)
    if config.mode is messages.DeploymentMode.contactMonitoring:
        monitor_path(recorder, terminal, credential.version, rmw)
    return messages.CredentialUpdate(monitor=recorder.finish())
