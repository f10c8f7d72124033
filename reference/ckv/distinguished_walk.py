"""Walking the recent distinguished log entries (KEYTRANS §10, §12.3.8, §13.6).

The walk is a right-to-left depth-first search over the distinguished entries
(§10.1), run against a :class:`~ckv.combined_tree.Provider` so that the log
records a ``DistinguishedResponse``'s ``CombinedTreeProof`` with the same code
that the user consumes it with. It asks only for timestamps (§12.3.8: one per
entry that reaches step 2).

CKV's definition of "recent" is the :data:`RECENT_COUNT` rightmost distinguished
entries that are not expired. For each recent entry ``x`` the user computes the
log tree's full subtrees and root at size ``x + 1`` from the response's
inclusion proof (:func:`full_subtrees_at`) and keeps, with the entry's timestamp
and prefix root, the frontier of that tree: a complete view of the log at that
size, which credential verification starts from (§14.2.1) and fork detection
compares (§10.2, :func:`distinguished_head`).

Normative description: spec/kt/fork-detection.md, "Walking distinguished heads"
(requirement IDs ``FORK-004`` onwards).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ckv import combined_tree as ct
from ckv import distinguished as dist
from ckv import implicit_search_tree as ibst
from ckv import log_tree
from ckv.client_state import ClientState, FrontierEntry
from ckv.errors import UsageError, VerificationError
from ckv.fork_detection import RootComparison, compare_roots
from ckv.log_tree.hashing import LEAF_PREFIX, PARENT_PREFIX
from ckv.search import new_tree_size
from ckv.tree_head import sign_tree_head, verify_full_tree_head
from ckv.wire import messages

__all__ = [
    "MAX_RECENT",
    "RECENT_COUNT",
    "DistinguishedEntry",
    "DistinguishedLogView",
    "DistinguishedResult",
    "RecentDistinguished",
    "answer_distinguished",
    "compare_distinguished",
    "distinguished_head",
    "full_subtrees_at",
    "merge_recent",
    "verify_distinguished",
    "walk_distinguished",
]

#: CKV's "recent": the this-many rightmost distinguished entries (never an expired one).
RECENT_COUNT = 4
#: §10.1: a definition of "recent" SHOULD NOT include more than ten entries.
MAX_RECENT = 10


def _fail(
    requirement: str, message: str, *, expected: object = None, computed: object = None
) -> VerificationError:
    return VerificationError(message, requirement=requirement, expected=expected, computed=computed)


# -- the walk ---------------------------------------------------------------------------


def walk_distinguished(
    p: ct.Provider,
    rmw: int,
    max_lifetime: int | None,
    stop: int | None = None,
    *,
    count: int = RECENT_COUNT,
) -> tuple[int, ...]:
    """§10.1: the recent distinguished entries right of ``stop``, right to left.

    Asks ``p`` for the rightmost entry's timestamp (expiry is relative to it),
    then for the timestamp of every entry that reaches step 2, in the order the
    recursion reaches them. An entry is recent when fewer than ``count`` entries
    were enumerated before it (they are all to its right) and it is not expired.
    """
    if not 1 <= count <= MAX_RECENT:
        msg = f"a definition of recent covers 1 to {MAX_RECENT} entries, not {count}"
        raise UsageError(msg, requirement="FORK-004")
    n = p.size
    t_last = p.timestamp(n - 1)
    found: list[int] = []

    def visit(x: int, bracket: dist.Bracket) -> None:
        # Step 1: a non-distinguished entry ends this branch (SEARCH-018's bracket rule).
        if not bracket.distinguished(rmw):
            return
        # FORK-005: every entry that reaches step 2 has its timestamp supplied (§12.3.8).
        t_x = p.timestamp(x)
        # Step 2: the right subtree first.
        if ibst.has_right(x, n):
            visit(ibst.right(x, n), bracket.to_right(t_x))
        # Step 3: the stopping position and everything left of it are not enumerated.
        if stop is not None and x <= stop:
            return
        # Step 4 (FORK-004): recent means among the `count` rightmost and not expired.
        if len(found) >= count or dist.is_expired(t_x, t_last, max_lifetime):
            return
        found.append(x)
        # Step 5: then the left subtree.
        if ibst.has_left(x):
            visit(ibst.left(x), bracket.to_left(t_x))

    visit(ibst.root(n), dist.Bracket.at_root(t_last))
    return tuple(found)


# -- full subtrees at earlier sizes -----------------------------------------------------


def full_subtrees_at(
    size: int,
    proof: messages.InclusionProof,
    leaves: Mapping[int, bytes],
    retained: log_tree.FullSubtrees | None,
    sizes: Collection[int],
    *,
    hash_fn: log_tree.HashFn = log_tree.sha256,
) -> dict[int, log_tree.FullSubtrees]:
    """The full subtrees at each of ``sizes``, read from a batch proof already verified.

    Walks the proof's tiling (:func:`ckv.log_tree.tiling`) left to right with a
    stack of full subtrees; after a piece ending at ``s`` the stack is the full
    subtrees of the tree of ``s`` leaves. Each requested size must end a piece:
    true of ``x + 1`` for a proven leaf ``x`` and for every size whose full
    subtrees are a prefix of the retained ones. The proof must have been
    verified with :func:`ckv.log_tree.verify_batch` (here, by
    :meth:`ckv.combined_tree.Consumer.finish`); this function does not re-check it.
    """
    wanted = set(sizes)
    if not wanted:
        return {}
    last = max(wanted)
    heads = retained.heads if retained is not None else ()
    retained_size = retained.size if retained is not None else 0
    elements = iter(proof.elements)
    stack: list[tuple[int, bytes]] = []  # (width, head value)
    out: dict[int, log_tree.FullSubtrees] = {}
    pos = 0
    for kind, start, width, ref in log_tree.tiling(size, sorted(leaves), retained_size):
        if kind is log_tree.PieceKind.CHECK:
            continue
        if kind is log_tree.PieceKind.ELEMENT:
            value = next(elements)
        elif kind is log_tree.PieceKind.LEAF:
            value = leaves[start]
        else:
            value = heads[ref]
        w, s = width, start
        # Merge with the left sibling while this piece is a right child.
        while s & w:
            left_w, left = stack.pop()
            value = hash_fn(
                (LEAF_PREFIX if left_w == 1 else PARENT_PREFIX)
                + left
                + (LEAF_PREFIX if w == 1 else PARENT_PREFIX)
                + value
            )
            s -= w
            w <<= 1
        stack.append((w, value))
        pos = start + width
        if pos in wanted:
            out[pos] = log_tree.FullSubtrees(pos, tuple(v for _, v in stack))
        if pos >= last:
            break
    missing = wanted - set(out)
    if missing:
        msg = f"sizes {sorted(missing)} do not end a piece of this proof's tiling"
        raise UsageError(msg)
    return out


# -- results ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DistinguishedEntry:
    """A recent distinguished entry and the log as it was when it was the rightmost."""

    position: int
    timestamp: int
    prefix_root: bytes
    #: The log tree root at size ``position + 1``.
    root: bytes
    #: The full subtrees and frontier of the tree of ``position + 1`` entries.
    view: ClientState


@dataclass(frozen=True, slots=True)
class RecentDistinguished:
    """What a user retains of the recent distinguished entries (§14, §14.2.1)."""

    #: The size of the tree the entries were last established in.
    tree_size: int
    #: That tree's rightmost timestamp (expiry is relative to it).
    rightmost_timestamp: int
    #: The recent entries, left to right.
    entries: tuple[DistinguishedEntry, ...] = ()

    @classmethod
    def empty(cls) -> RecentDistinguished:
        """Nothing known yet."""
        return cls(0, 0, ())

    def get(self, position: int) -> DistinguishedEntry | None:
        """The recent entry at ``position``, if known."""
        for entry in self.entries:
            if entry.position == position:
                return entry
        return None

    @property
    def positions(self) -> tuple[int, ...]:
        """The recent positions, left to right."""
        return tuple(e.position for e in self.entries)


@dataclass(frozen=True, slots=True)
class DistinguishedResult:
    """What a verified ``DistinguishedResponse`` establishes."""

    tree_size: int
    #: The entries this walk enumerated (right of the stopping position), left to right.
    walked: tuple[DistinguishedEntry, ...]
    #: The recent entries, merged with those the user retained up to the stopping position.
    recent: RecentDistinguished


def distinguished_head(
    result: DistinguishedResult | RecentDistinguished,
) -> messages.DistinguishedHead:
    """The ``DistinguishedHead`` of the recent entries: their roots, left to right (§10.2)."""
    recent = result.recent if isinstance(result, DistinguishedResult) else result
    return messages.DistinguishedHead(heads=tuple(e.root for e in recent.entries))


def compare_distinguished(
    ours: DistinguishedResult | RecentDistinguished | messages.DistinguishedHead,
    theirs: DistinguishedResult | RecentDistinguished | messages.DistinguishedHead,
) -> RootComparison:
    """Compare two channels' distinguished roots (§10.2, FORK-001, FORK-010).

    Lists of equal length go to :func:`ckv.fork_detection.compare_roots`. Lists of
    different lengths (one view saw an entry expire, or fewer entries exist) are
    consistent when, aligned at some offset, they overlap on at least one root
    and agree wherever both have one.
    """
    a = list(
        (ours if isinstance(ours, messages.DistinguishedHead) else distinguished_head(ours)).heads
    )
    b = list(
        (
            theirs if isinstance(theirs, messages.DistinguishedHead) else distinguished_head(theirs)
        ).heads
    )
    if len(a) == len(b):
        return compare_roots(a, b)
    if not a or not b:
        return RootComparison(consistent=True, inconclusive=True)
    # FORK-010: b[j] is aligned with a[j + offset]; offsets that overlap on >= 1 root.
    for offset in range(-(len(b) - 1), len(a)):
        lo, hi = max(0, -offset), min(len(b), len(a) - offset)
        if all(a[j + offset] == b[j] for j in range(lo, hi)):
            return RootComparison(consistent=True, shift=abs(offset))
    return RootComparison(consistent=False)


def merge_recent(
    known: RecentDistinguished,
    walked: Sequence[DistinguishedEntry],
    *,
    stop: int | None,
    tree_size: int,
    rightmost_timestamp: int,
    max_lifetime: int | None,
    count: int = RECENT_COUNT,
) -> RecentDistinguished:
    """The recent entries after a walk: the retained ones up to ``stop``, then the walked.

    Entries left of ``stop`` keep their status (distinguished entries are stable,
    §6.1) but may have expired since; the ``count`` rightmost unexpired remain.
    """
    kept = [e for e in known.entries if stop is not None and e.position <= stop]
    merged = [
        e
        for e in (*kept, *walked)
        if not dist.is_expired(e.timestamp, rightmost_timestamp, max_lifetime)
    ]
    # FORK-004: at most `count` entries, the rightmost ones.
    return RecentDistinguished(tree_size, rightmost_timestamp, tuple(merged[-count:]))


# -- the log's side ---------------------------------------------------------------------


class DistinguishedLogView(ct.LogView, Protocol):
    """A :class:`~ckv.combined_tree.LogView` that also knows its log tree root."""

    def root(self) -> bytes:
        """The log tree root at ``size``."""
        ...


def answer_distinguished(
    log: DistinguishedLogView,
    config: messages.Configuration,
    signing_key: bytes,
    request: messages.DistinguishedRequest,
) -> messages.DistinguishedResponse:
    """The log's ``DistinguishedResponse`` to ``request`` (§13.6, §12.3.8)."""
    if config.mode is messages.DeploymentMode.thirdPartyAuditing:
        msg = "answer_distinguished does not build auditor tree heads yet (thirdPartyAuditing)"
        raise UsageError(msg)
    n = log.size
    advertised = request.last
    if advertised is not None and not 1 <= advertised <= n:
        msg = f"advertised size {advertised} is not in [1, {n}]"
        raise UsageError(msg)
    recorder = ct.Recorder(log, b"", advertised)
    ct.update_view(recorder, advertised)
    walk_distinguished(
        recorder, config.reasonable_monitoring_window, config.maximum_lifetime, request.stop
    )
    proof = recorder.finish()
    if advertised == n:
        head = messages.FullTreeHead(head_type=messages.FullTreeHeadType.same)
    else:
        head = messages.FullTreeHead(
            head_type=messages.FullTreeHeadType.updated,
            tree_head=sign_tree_head(config, signing_key, n, log.root()),
        )
    return messages.DistinguishedResponse(full_tree_head=head, distinguished=proof)


# -- the user's side --------------------------------------------------------------------


def _entry_view(
    x: int,
    subtrees: log_tree.FullSubtrees,
    timestamps: Mapping[int, int],
    prefix_roots: Mapping[int, bytes],
) -> ClientState:
    frontier = []
    for y in ibst.frontier(x + 1):
        t, r = timestamps.get(y), prefix_roots.get(y)
        # FORK-008: the frontier of the tree at x + 1 is known (the ancestors of x reached step 2).
        if t is None or r is None:
            msg = f"log entry {y}, on the frontier at size {x + 1}, has no timestamp or root"
            raise _fail("FORK-008", msg)
        frontier.append(FrontierEntry(y, t, r))
    return ClientState(subtrees, tuple(frontier))


def verify_distinguished(
    state: ClientState,
    config: messages.Configuration,
    request: messages.DistinguishedRequest,
    response: messages.DistinguishedResponse,
    now_ms: int,
    *,
    known: RecentDistinguished | None = None,
) -> tuple[DistinguishedResult, ClientState]:
    """Verify a ``DistinguishedResponse`` (§13.6); return the result and the new state.

    ``known`` is what the user retained of the recent entries; it is required
    when the request gave a stopping position, which must be one of its
    positions. ``state`` is left as it was if anything fails.
    """
    if config.mode is messages.DeploymentMode.thirdPartyAuditing:
        msg = "verify_distinguished does not verify auditor tree heads yet (thirdPartyAuditing)"
        raise UsageError(msg)
    if request.last != state.tree_size:
        msg = f"the request advertised {request.last}, the state is of size {state.tree_size}"
        raise UsageError(msg)
    known = known or RecentDistinguished.empty()
    # FORK-009: a stopping position is one of the retained recent entries.
    if request.stop is not None and known.get(request.stop) is None:
        msg = f"stopping position {request.stop} is not a retained recent distinguished entry"
        raise UsageError(msg, requirement="FORK-009")
    head = response.full_tree_head
    n = new_tree_size(state, head, requirement="FORK-006")
    consumer = ct.Consumer(
        response.distinguished,
        n,
        vrf_outputs={},
        commitments={},
        retained=state.retained(),
        suite=config.ciphersuite,
    )
    # §13.6 step 1: the view update, then the walk (FORK-005).
    ct.update_view(consumer, state.tree_size)
    rmw, lifetime = config.reasonable_monitoring_window, config.maximum_lifetime
    walked = sorted(walk_distinguished(consumer, rmw, lifetime, request.stop))
    # §13.6 step 2: exact counts and the candidate root (COMBINED-003..010).
    same = head.head_type is messages.FullTreeHeadType.same
    retained_root = state.full_subtrees.root() if same and state.full_subtrees.size else None
    result = consumer.finish(state.full_subtrees, expected_root=retained_root)
    frontier = ibst.frontier(n)
    missing = [x for x in frontier if x not in result.timestamps or x not in result.prefix_roots]
    # COMBINED-011: the new frontier is fully known.
    if missing:
        raise _fail("COMBINED-011", f"frontier entries {missing} have no timestamp or prefix root")
    # §13.6 step 3: the FullTreeHead verifies over the candidate root.
    verify_full_tree_head(
        config,
        head,
        advertised_size=state.tree_size,
        rightmost_timestamp=result.timestamps[n - 1],
        now_ms=now_ms,
        root=result.root,
    )
    # FORK-007: the full subtrees and root at x + 1 for every walked entry x.
    hash_fn = log_tree.hash_for_suite(config.ciphersuite)
    leaves = {
        x: log_tree.leaf_value(
            messages.LogEntry(timestamp=result.timestamps[x], prefix_tree=result.prefix_roots[x]),
            suite=config.ciphersuite,
        )
        for x in consumer.supplied
    }
    retained = state.full_subtrees if state.full_subtrees.size else None
    subtrees = full_subtrees_at(
        n,
        response.distinguished.inclusion,
        leaves,
        retained,
        [x + 1 for x in walked],
        hash_fn=hash_fn,
    )
    entries = []
    for x in walked:
        view = _entry_view(x, subtrees[x + 1], result.timestamps, result.prefix_roots)
        entries.append(
            DistinguishedEntry(
                x,
                result.timestamps[x],
                result.prefix_roots[x],
                subtrees[x + 1].root(hash_fn=hash_fn),
                view,
            )
        )
    t_last = result.timestamps[n - 1]
    recent = merge_recent(
        known,
        entries,
        stop=request.stop,
        tree_size=n,
        rightmost_timestamp=t_last,
        max_lifetime=lifetime,
    )
    new_state = ClientState(
        result.full_subtrees,
        tuple(FrontierEntry(x, result.timestamps[x], result.prefix_roots[x]) for x in frontier),
        head.tree_head if not same else state.tree_head,
        state.auditor_tree_head,
    )
    # OPS-010 applies: the new state only once everything verified.
    return DistinguishedResult(n, tuple(entries), recent), new_state
