"""The user side of the key directory: one client, many labels (spec/kt/client.md).

:class:`KTClient` is one user's (one device's) client of a CKV key directory. It
keeps one :class:`~ckv.client_state.ClientState` for every label it touches, and
per label what KEYTRANS asks a user to remember: the label-version pairs it must
monitor with the VRF outputs and commitments it learned (KEYTRANS §8.2), and for
the labels it owns an :class:`~ckv.monitoring.OwnerState` (KEYTRANS §8.3, §9.1).

* Contacts: :meth:`KTClient.lookup` (a verified search), :meth:`KTClient.monitor`
  (Contact Monitoring of every pair it must monitor), :meth:`KTClient.evidence_lookup`
  (a search from an empty state, which anyone can check with
  :func:`verify_lookup_evidence`).
* Owners: :meth:`KTClient.own` (Owner Initialization), :meth:`KTClient.publish`
  (an update, verified), :meth:`KTClient.owner_monitor`, :meth:`KTClient.catch_up`
  (the versions others created: sibling devices, or the directory itself).
* Fork detection: :meth:`KTClient.tree_head_for_gossip` walks the recent
  distinguished entries and packs, for each, a signed view of the log a peer can
  check; :meth:`KTClient.compare_with_peer` compares two such packs and returns
  :class:`~ckv.wire.messages.ForkEvidence` when they disagree (FORK-001 to FORK-003).

Every verification failure is a :class:`~ckv.errors.VerificationError` naming its
requirement; transport failures are :class:`~ckv.directory.DirectoryUnavailable`
and refusals :class:`~ckv.directory.DirectoryRefused`. The client's state is
replaced only once a response has verified in full (OPS-010, DIRAPI-003).
Sans-IO in spirit: the transport and the clock are injected; nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from ckv import combined_tree as ct
from ckv import log_tree
from ckv.cipher_suites import get_suite
from ckv.client_state import ClientState
from ckv.commitment import compute_commitment
from ckv.directory import DirectoryRefused, DirectoryTransport, RefusalReason
from ckv.distinguished_walk import (
    RecentDistinguished,
    compare_distinguished,
    verify_distinguished,
    walk_distinguished,
)
from ckv.errors import UsageError, VerificationError
from ckv.fork_detection import verify_fork_evidence
from ckv.kt_profile import check_configuration
from ckv.label_update import UpdateResult, verify_update_response
from ckv.monitoring import (
    OwnerState,
    verify_contact_monitor,
    verify_owner_init,
    verify_owner_monitor,
)
from ckv.search import SearchResult, response_ladder, verify_search
from ckv.tree_head import verify_tree_head
from ckv.wire import messages

__all__ = [
    "Clock",
    "GossipEntry",
    "HeadGossip",
    "KTClient",
    "Lookup",
    "MonitorReport",
    "OwnerStatus",
    "PublishResult",
    "consistency_proofs",
    "verify_gossip",
    "verify_lookup_evidence",
]

#: ``clock()``: the current time in milliseconds since the Unix epoch.
Clock = Callable[[], int]

#: At most this many update rounds in one publish or catch-up (a directory that keeps
#: reporting new versions cannot keep the client busy forever).
MAX_ROUNDS = 64
#: At most this many Owner Monitoring rounds in one call (OPS-027: until start settles).
MAX_MONITOR_ROUNDS = 16

REQ_EVIDENCE = "DIRAPI-004"
REQ_GOSSIP = "DIRAPI-012"


def _fail(
    requirement: str, message: str, *, expected: object = None, computed: object = None
) -> VerificationError:
    return VerificationError(message, requirement=requirement, expected=expected, computed=computed)


# -- results ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lookup:
    """A verified search: what the directory proved about one label (KEYTRANS §13.1)."""

    label: bytes
    version: int
    #: ``UpdateValue.value`` of that version.
    value: bytes
    #: The terminal entry of the search, where monitoring starts (KEYTRANS §8.2).
    terminal: int
    #: Whether the pair must be monitored (OPS-013, KT-006).
    must_monitor: bool
    #: The size of the tree the search was verified in.
    tree_size: int
    request: messages.SearchRequest
    response: messages.SearchResponse
    #: The VRF outputs the response's binary ladder proved, by version.
    vrf_outputs: Mapping[int, bytes]
    #: The commitments it gave (the target's computed from its opening), by version.
    commitments: Mapping[int, bytes]


@dataclass(frozen=True, slots=True)
class MonitorReport:
    """The outcome of one round of Contact Monitoring (KEYTRANS §8.2)."""

    #: The labels whose pairs were monitored, in the order they were.
    checked: tuple[bytes, ...]
    #: The pairs still to monitor, per label (position -> version).
    remaining: Mapping[bytes, Mapping[int, int]]
    tree_size: int | None


@dataclass(frozen=True, slots=True)
class OwnerStatus:
    """An owned label's state after an owner operation."""

    label: bytes
    #: The owner's starting position: the rightmost distinguished entry it verified.
    start: int
    #: The greatest version the owner knows of (None: the label has none).
    greatest: int | None
    #: The owner's own contact monitoring map (position -> version, KEYTRANS §9.1 step 4).
    pending: Mapping[int, int]


@dataclass(frozen=True, slots=True)
class PublishResult:
    """A verified update of an owned label (KEYTRANS §13.5)."""

    label: bytes
    #: The log entry that holds the new versions.
    position: int
    #: The versions the owner's values got, ascending.
    versions: tuple[int, ...]
    #: Versions created by someone else that the directory reported on the way,
    #: as (version, value), ascending: the owner was behind.
    foreign: tuple[tuple[int, bytes], ...]
    #: The exchange that created the owner's versions.
    request: messages.UpdateRequest
    response: messages.UpdateResponse


@dataclass(frozen=True, slots=True)
class GossipEntry:
    """One recent distinguished entry and a signed view of the log at ``position + 1``."""

    position: int
    #: The log's tree head, the full subtrees at ``position + 1`` entries and the
    #: consistency proof between them (the side of a ForkEvidence, FORK-003).
    view: messages.ForkView


@dataclass(frozen=True, slots=True)
class HeadGossip:
    """What a client shows a peer to detect a fork (KEYTRANS §10.2, DIRAPI-012).

    One :class:`GossipEntry` per recent distinguished entry, left to right. The
    roots compared (the ``DistinguishedHead``) are folded from the views, so a
    peer compares only what the log signed (:func:`verify_gossip`).
    """

    entries: tuple[GossipEntry, ...]


@dataclass(slots=True)
class _Contact:
    """What the client keeps for a label it looked up."""

    pairs: dict[int, int] = field(default_factory=dict)
    vrf_outputs: dict[int, bytes] = field(default_factory=dict)
    commitments: dict[int, bytes] = field(default_factory=dict)


@dataclass(slots=True)
class _Owned:
    """What the client keeps for a label it owns."""

    owner: OwnerState
    #: Whether the directory's record of the owner's start is known to match (DIRAPI-005).
    synced: bool = True


# -- evidence -----------------------------------------------------------------------------


def verify_lookup_evidence(
    config: messages.Configuration,
    request: messages.SearchRequest,
    response: messages.SearchResponse,
    now_ms: int,
) -> SearchResult:
    """Check a lookup exchange from an empty state, as a third party would (DIRAPI-004).

    ``now_ms`` is the time the evidence is about (an alert's time): the tree head
    must have been fresh then (SUITE-020).
    """
    # KT-007: the configuration the evidence is verified under is within CKV's profile.
    check_configuration(config)
    # DIRAPI-004: evidence is a search made without `last`, so it verifies on its own.
    if request.last is not None:
        msg = f"a lookup used as evidence advertises no tree size, not {request.last}"
        raise _fail(REQ_EVIDENCE, msg, expected=None, computed=request.last)
    result, _ = verify_search(ClientState.initial(), config, request, response, now_ms)
    return result


def _learned(
    config: messages.Configuration,
    request: messages.SearchRequest,
    response: messages.SearchResponse,
    version: int,
) -> tuple[dict[int, bytes], dict[int, bytes]]:
    """The VRF outputs and commitments of a search response that has verified."""
    suite = get_suite(config.ciphersuite)
    outputs: dict[int, bytes] = {}
    commitments: dict[int, bytes] = {}
    for v, step in zip(response_ladder(version), response.binary_ladder, strict=True):
        # The proofs verified in verify_search; the output is read back without re-verifying.
        outputs[v] = suite.vrf_output(step.proof)
        if step.commitment is not None:
            commitments[v] = step.commitment
    commitments[version] = compute_commitment(
        config.ciphersuite,
        messages.CommitmentValue(
            opening=response.opening, label=request.label, version=version, update=response.value
        ),
        mode=config.mode,
    )
    return outputs, commitments


# -- fork views -----------------------------------------------------------------------------


def consistency_proofs(
    size: int,
    proof: messages.InclusionProof,
    leaves: Mapping[int, bytes],
    retained: log_tree.FullSubtrees | None,
    sizes: Sequence[int],
    *,
    hash_fn: log_tree.HashFn = log_tree.sha256,
) -> dict[int, messages.InclusionProof]:
    """Consistency proofs from each of ``sizes`` to ``size``, read off a verified batch proof.

    ``proof`` must already have verified for ``leaves`` and ``retained`` (here, in
    :func:`~ckv.distinguished_walk.verify_distinguished`), and each of ``sizes``
    must end a piece of its tiling (true of ``x + 1`` for every entry ``x`` a walk
    enumerates, FORK-007). Every piece right of such a size is a balanced subtree
    whose head the verifier knows; the balanced subtrees a proof with no leaves
    from that size consists of are unions of them, so their heads are folded from
    them (LOG-003). The result is the ``consistency`` of a ``ForkView`` (FORK-003).
    """
    if not sizes:
        return {}
    low = min(sizes)
    heads = retained.heads if retained is not None else ()
    retained_size = retained.size if retained is not None else 0
    elements = iter(proof.elements)
    known: dict[tuple[int, int], bytes] = {}
    for kind, start, width, ref in log_tree.tiling(size, sorted(leaves), retained_size):
        if kind is log_tree.PieceKind.CHECK:
            continue
        if kind is log_tree.PieceKind.ELEMENT:
            value = next(elements)
        elif kind is log_tree.PieceKind.LEAF:
            value = leaves[start]
        else:
            value = heads[ref]
        if start >= low:
            known[start, width] = value

    def node(start: int, width: int) -> bytes:
        value = known.get((start, width))
        if value is not None:
            return value
        if width == 1:
            msg = f"leaf {start} is inside a piece of the proof: size {low} does not end a piece"
            raise UsageError(msg)
        half = width // 2
        value = log_tree.parent_value(
            node(start, half),
            node(start + half, half),
            left_is_leaf=half == 1,
            right_is_leaf=half == 1,
            hash_fn=hash_fn,
        )
        known[start, width] = value
        return value

    out: dict[int, messages.InclusionProof] = {}
    for common in sizes:
        pieces = log_tree.tiling(size, [], common)
        out[common] = messages.InclusionProof(
            elements=tuple(
                node(s, w) for kind, s, w, _ in pieces if kind is log_tree.PieceKind.ELEMENT
            )
        )
    return out


def _proven_leaves(
    state: ClientState,
    config: messages.Configuration,
    request: messages.DistinguishedRequest,
    response: messages.DistinguishedResponse,
    size: int,
) -> dict[int, bytes]:
    """The leaves a verified ``DistinguishedResponse``'s inclusion proof proves.

    Re-reads the proof as :func:`~ckv.distinguished_walk.verify_distinguished` did
    (which does not expose them): the view update and the walk, then the counts.
    """
    consumer = ct.Consumer(
        response.distinguished,
        size,
        vrf_outputs={},
        commitments={},
        retained=state.retained(),
        suite=config.ciphersuite,
    )
    ct.update_view(consumer, state.tree_size)
    walk_distinguished(
        consumer, config.reasonable_monitoring_window, config.maximum_lifetime, request.stop
    )
    same = response.full_tree_head.head_type is messages.FullTreeHeadType.same
    retained_root = state.full_subtrees.root() if same and state.full_subtrees.size else None
    result = consumer.finish(state.full_subtrees, expected_root=retained_root)
    return {
        x: log_tree.leaf_value(
            messages.LogEntry(timestamp=result.timestamps[x], prefix_tree=result.prefix_roots[x]),
            suite=config.ciphersuite,
        )
        for x in consumer.supplied
    }


def verify_gossip(config: messages.Configuration, gossip: HeadGossip) -> messages.DistinguishedHead:
    """Check every view of a peer's gossip; return the roots it shows (DIRAPI-012).

    Each view must be one the log signed (the checks of FORK-003 on one side);
    positions ascend. The roots are folded from the views' full subtrees.
    """
    hash_fn = log_tree.hash_for_suite(config.ciphersuite)
    roots: list[bytes] = []
    previous = -1
    for entry in gossip.entries:
        common = entry.position + 1
        view = entry.view
        size = view.tree_head.tree_size
        # DIRAPI-012: positions ascend, and each view is of a tree holding position + 1
        # entries, with one head per full subtree of that many entries.
        if entry.position <= previous or not 0 < common <= size:
            msg = f"gossip entry at {entry.position} (tree size {size}) is out of order or range"
            raise _fail(REQ_GOSSIP, msg)
        if len(view.full_subtrees) != common.bit_count():
            raise _fail(
                REQ_GOSSIP,
                f"gossip entry at {entry.position} has {len(view.full_subtrees)} full-subtree "
                f"heads; {common} entries have {common.bit_count()}",
                expected=common.bit_count(),
                computed=len(view.full_subtrees),
            )
        previous = entry.position
        shared = log_tree.FullSubtrees(common, tuple(view.full_subtrees))
        try:
            result = log_tree.verify_batch(size, view.consistency, {}, shared, hash_fn=hash_fn)
            verify_tree_head(config, view.tree_head, result.root)
        except VerificationError as error:
            msg = f"gossip entry at {entry.position} is not a view the log signed: {error}"
            raise _fail(REQ_GOSSIP, msg) from error
        roots.append(shared.root(hash_fn=hash_fn))
    return messages.DistinguishedHead(heads=tuple(roots))


# -- the client -----------------------------------------------------------------------------


class KTClient:
    """One user's client of a CKV key directory (spec/kt/client.md).

    ``config`` is the directory's ``Configuration`` as the client was provisioned
    with it (DIRAPI-001; :meth:`connect` fetches and checks one); ``transport`` the
    client's channel to the directory; ``clock()`` the time in milliseconds.
    """

    def __init__(
        self,
        config: messages.Configuration,
        transport: DirectoryTransport,
        *,
        clock: Clock,
        state: ClientState | None = None,
    ) -> None:
        # DIRAPI-001: the configuration is within CKV's profile (KT-007).
        check_configuration(config)
        self._config = config
        self._transport = transport
        self._clock = clock
        self._state = state if state is not None else ClientState.initial()
        self._contacts: dict[bytes, _Contact] = {}
        self._owned: dict[bytes, _Owned] = {}
        self._recent = RecentDistinguished.empty()
        self._gossip: HeadGossip | None = None

    @classmethod
    def connect(cls, transport: DirectoryTransport, *, clock: Clock) -> KTClient:
        """A client of the directory whose ``Configuration`` the transport returns.

        Trust on first use: a deployment that provisions the configuration passes it
        to the constructor instead. Checked against CKV's profile (KT-007).
        """
        return cls(transport.configuration(), transport, clock=clock)

    # -- reading --------------------------------------------------------------------------

    @property
    def config(self) -> messages.Configuration:
        """The directory's pinned ``Configuration``."""
        return self._config

    @property
    def state(self) -> ClientState:
        """The last verified tree, shared by every label (DIRAPI-002)."""
        return self._state

    @property
    def recent(self) -> RecentDistinguished:
        """The recent distinguished entries of the last walk."""
        return self._recent

    def monitoring(self) -> Mapping[bytes, Mapping[int, int]]:
        """The label-version pairs still to monitor, per label (position -> version)."""
        return MappingProxyType(
            {
                label: MappingProxyType(dict(c.pairs))
                for label, c in self._contacts.items()
                if c.pairs
            }
        )

    def owner_status(self, label: bytes) -> OwnerStatus:
        """The state of an owned label."""
        return _status(label, self._owned_label(label).owner)

    def _owned_label(self, label: bytes) -> _Owned:
        owned = self._owned.get(label)
        if owned is None:
            msg = f"label {label.hex()} is not owned by this client: call own() first"
            raise UsageError(msg)
        return owned

    # -- contacts ---------------------------------------------------------------------------

    def lookup(self, label: bytes, *, version: int | None = None) -> Lookup:
        """A verified search for ``label``'s greatest version, or ``version`` (KEYTRANS §13.1).

        The pair found is added to the monitoring map when it must be monitored
        (OPS-013), unless a pair of an earlier search already covers it.
        """
        state = self._state
        request = messages.SearchRequest(last=state.tree_size, label=label, version=version)
        response = self._transport.search(request)
        result, new_state = verify_search(state, self._config, request, response, self._clock())
        outputs, commitments = _learned(self._config, request, response, result.version)
        # OPS-010 / DIRAPI-003: everything verified; only now does the state change.
        self._state = new_state
        contact = self._contacts.setdefault(label, _Contact())
        contact.vrf_outputs.update(outputs)
        contact.commitments.update(commitments)
        pairs = contact.pairs
        # OPS-013: a pair right of the rightmost distinguished entry is monitored. A pair
        # that would break the map's order (OPS-015) is left out: an earlier one covers it.
        if result.must_monitor and all(
            result.terminal > p and result.version > v for p, v in pairs.items()
        ):
            pairs[result.terminal] = result.version
        return Lookup(
            label,
            result.version,
            result.value,
            result.terminal,
            result.must_monitor,
            new_state.full_subtrees.size,
            request,
            response,
            MappingProxyType(outputs),
            MappingProxyType(commitments),
        )

    def evidence_lookup(
        self, label: bytes, *, version: int | None = None
    ) -> tuple[messages.SearchRequest, messages.SearchResponse]:
        """A fresh search without ``last``: evidence a third party can verify (DIRAPI-004).

        For the greatest version, or ``version``. The client checks it as a third
        party would (:func:`verify_lookup_evidence`); its own state does not change.
        """
        request = messages.SearchRequest(last=None, label=label, version=version)
        response = self._transport.search(request)
        verify_lookup_evidence(self._config, request, response, self._clock())
        return request, response

    def monitor(self) -> MonitorReport:
        """Contact Monitoring of every pair the client must monitor (KEYTRANS §8.2, §13.2).

        One exchange per label; each replaces the state once it has verified, so a
        failure leaves the labels before it monitored and the rest as they were.
        """
        checked: list[bytes] = []
        for label, contact in self._contacts.items():
            if not contact.pairs:
                continue
            state = self._state
            request = messages.ContactMonitorRequest(
                last=state.tree_size,
                label=label,
                entries=tuple(
                    messages.MonitorMapEntry(position=p, version=v)
                    for p, v in sorted(contact.pairs.items())
                ),
            )
            response = self._transport.contact_monitor(request)
            new_map, new_state = verify_contact_monitor(
                state,
                self._config,
                request,
                response,
                self._clock(),
                vrf_outputs=contact.vrf_outputs,
                commitments=contact.commitments,
            )
            # OPS-010 / DIRAPI-003.
            self._state = new_state
            contact.pairs = new_map
            checked.append(label)
        return MonitorReport(tuple(checked), self.monitoring(), self._state.tree_size)

    # -- owners -----------------------------------------------------------------------------

    def own(self, label: bytes) -> OwnerStatus:
        """Owner Initialization of ``label`` (KEYTRANS §8.3, §13.3).

        The starting position is the rightmost recent distinguished entry of a fresh
        walk (OPS-020). Versions created after it are learned with :meth:`catch_up`.
        """
        recent = self.refresh_distinguished()
        if not recent.entries:
            msg = "the directory has no unexpired distinguished entry to start owning from"
            raise UsageError(msg)
        state = self._state
        request = messages.OwnerInitRequest(
            last=state.tree_size, label=label, start=recent.entries[-1].position
        )
        response = self._transport.owner_init(request)
        owner, new_state = verify_owner_init(state, self._config, request, response, self._clock())
        # OPS-010 / DIRAPI-003.
        self._state = new_state
        self._owned[label] = _Owned(owner)
        return _status(label, owner)

    def _exchange_update(
        self, owned: _Owned, request: messages.UpdateRequest
    ) -> tuple[UpdateResult, messages.UpdateResponse]:
        response = self._transport.update(request)
        result, new_owner, new_state = verify_update_response(
            self._state, self._config, owned.owner, request, response, now_ms=self._clock()
        )
        # OPS-010 / DIRAPI-003.
        self._state = new_state
        owned.owner = new_owner
        return result, response

    def _sync(self, label: bytes, owned: _Owned) -> None:
        # DIRAPI-005: re-advertise the start before updating if the directory may not know it.
        if not owned.synced:
            self.owner_monitor(label)

    def publish(self, label: bytes, values: Sequence[bytes]) -> PublishResult:
        """Add ``values`` as the next versions of an owned label, verified (KEYTRANS §13.5).

        If the owner was behind, the directory reports the versions it missed
        (``PublishResult.foreign``); they are verified and the values are sent again.
        """
        if not values:
            msg = "publish needs at least one value"
            raise UsageError(msg)
        owned = self._owned_label(label)
        self._sync(label, owned)
        wire_values = tuple(messages.LabelValue(value=v) for v in values)
        foreign: list[tuple[int, bytes]] = []
        for _ in range(MAX_ROUNDS):
            request = messages.UpdateRequest(
                last=self._state.tree_size,
                label=label,
                greatest_version=owned.owner.greatest,
                values=wire_values,
            )
            result, response = self._exchange_update(owned, request)
            if result.reported:
                foreign.extend(_versions(result))
                continue
            return PublishResult(
                label,
                result.position,
                tuple(v for v, _ in _versions(result)),
                tuple(foreign),
                request,
                response,
            )
        msg = f"the directory reported new versions of {label.hex()} {MAX_ROUNDS} times in a row"
        raise UsageError(msg)

    def catch_up(self, label: bytes) -> list[tuple[int, bytes]]:
        """Learn the versions of an owned label the owner did not create here (§13.5).

        A verified greatest-version search says how far to go; each version after
        the owner's greatest is then processed from an ``UpdateResponse`` reporting
        it. Returns (version, value) of each, ascending: sibling devices' versions,
        or versions the directory created (the caller compares them with its journal).
        """
        owned = self._owned_label(label)
        self._sync(label, owned)
        try:
            target = self.lookup(label).version
        except DirectoryRefused as refusal:
            if refusal.reason is RefusalReason.NOT_FOUND and owned.owner.greatest is None:
                return []
            raise
        learned: list[tuple[int, bytes]] = []
        for _ in range(MAX_ROUNDS):
            greatest = owned.owner.greatest
            if greatest is not None and greatest >= target:
                return learned
            request = messages.UpdateRequest(
                last=self._state.tree_size, label=label, greatest_version=greatest, values=()
            )
            result, _ = self._exchange_update(owned, request)
            learned.extend(_versions(result))
        msg = f"catching up on {label.hex()} took more than {MAX_ROUNDS} rounds"
        raise UsageError(msg)

    def owner_monitor(self, label: bytes) -> OwnerStatus:
        """Owner Monitoring until the start no longer moves (KEYTRANS §8.3, §13.4; OPS-027)."""
        owned = self._owned_label(label)
        for _ in range(MAX_MONITOR_ROUNDS):
            owner = owned.owner
            state = self._state
            request = messages.OwnerMonitorRequest(
                last=state.tree_size,
                label=label,
                entries=tuple(
                    messages.MonitorMapEntry(position=p, version=v)
                    for p, v in sorted(owner.entries.items())
                ),
                start=owner.start,
                greatest_version=owner.greatest,
            )
            # DIRAPI-005: until a response verifies, the directory's record of the start
            # may differ from the owner's.
            owned.synced = False
            response = self._transport.owner_monitor(request)
            new_owner, new_state = verify_owner_monitor(
                state, self._config, owner, request, response, now_ms=self._clock()
            )
            # OPS-010 / DIRAPI-003.
            self._state = new_state
            owned.owner = new_owner
            owned.synced = True
            if new_owner.start == owner.start:
                break
        return _status(label, owned.owner)

    # -- fork detection ---------------------------------------------------------------------

    def refresh_distinguished(self) -> RecentDistinguished:
        """Walk the recent distinguished entries (KEYTRANS §10.1, §13.6) and keep their views."""
        state = self._state
        request = messages.DistinguishedRequest(last=state.tree_size, stop=None)
        response = self._transport.distinguished(request)
        result, new_state = verify_distinguished(
            state, self._config, request, response, self._clock()
        )
        head = new_state.tree_head
        if head is None:  # a verified state always has a head; keeps the type narrow
            msg = "no signed tree head to build gossip from"
            raise UsageError(msg)
        n = new_state.full_subtrees.size
        hash_fn = log_tree.hash_for_suite(self._config.ciphersuite)
        leaves = _proven_leaves(state, self._config, request, response, n)
        retained = state.full_subtrees if state.full_subtrees.size else None
        proofs = consistency_proofs(
            n,
            response.distinguished.inclusion,
            leaves,
            retained,
            [e.position + 1 for e in result.walked],
            hash_fn=hash_fn,
        )
        entries = tuple(
            GossipEntry(
                e.position,
                messages.ForkView(
                    tree_head=head,
                    full_subtrees=e.view.full_subtrees.heads,
                    consistency=proofs[e.position + 1],
                ),
            )
            for e in result.walked
        )
        # OPS-010 / DIRAPI-003.
        self._state = new_state
        self._recent = result.recent
        self._gossip = HeadGossip(entries)
        return result.recent

    def tree_head_for_gossip(self, *, refresh: bool = True) -> HeadGossip:
        """The client's recent distinguished heads with signed views, for a peer (DIRAPI-012).

        ``refresh`` walks the distinguished entries first (one directory call);
        without it the last walk's views are returned.
        """
        if refresh or self._gossip is None:
            self.refresh_distinguished()
        assert self._gossip is not None
        return self._gossip

    def compare_with_peer(self, peer: HeadGossip) -> messages.ForkEvidence | None:
        """Compare the client's distinguished heads with a peer's (FORK-001, FORK-010).

        Returns None when they are consistent, and a verified ``ForkEvidence``
        (FORK-002, FORK-003) at the leftmost common position where they differ.
        Raises :class:`VerificationError` (DIRAPI-012) if the peer's gossip does not
        verify, and (FORK-001) if the heads are inconsistent but share no position.
        """
        ours = self.tree_head_for_gossip(refresh=False)
        our_head = verify_gossip(self._config, ours)
        their_head = verify_gossip(self._config, peer)
        # FORK-001 / FORK-010: the two lists overlap as one history's would.
        if compare_distinguished(our_head, their_head).consistent:
            return None
        theirs = {
            e.position: (e, root) for e, root in zip(peer.entries, their_head.heads, strict=True)
        }
        for entry, root in zip(ours.entries, our_head.heads, strict=True):
            other = theirs.get(entry.position)
            if other is None or other[1] == root:
                continue
            evidence = messages.ForkEvidence(
                config=self._config,
                common_size=entry.position + 1,
                first=entry.view,
                second=other[0].view,
            )
            # FORK-002 / FORK-003: the evidence convinces a third party.
            verify_fork_evidence(evidence)
            return evidence
        msg = "the distinguished heads are inconsistent but share no position to prove it at"
        raise _fail("FORK-001", msg)


def _status(label: bytes, owner: OwnerState) -> OwnerStatus:
    return OwnerStatus(label, owner.start, owner.greatest, MappingProxyType(dict(owner.entries)))


def _versions(result: UpdateResult) -> list[tuple[int, bytes]]:
    """(version, value) of the unskipped versions an UpdateResult establishes."""
    first = result.greatest - len(result.values) + 1
    return list(zip(range(first, result.greatest + 1), result.values, strict=True))
