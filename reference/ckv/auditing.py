"""The Third-Party Auditor (KEYTRANS §15.2).

An auditor never sees the log's data, only one :class:`~ckv.wire.messages.AuditorUpdate`
per log entry: the prefix-tree leaves the entry added and removed, and one batch
proof for their keys in the previous entry's prefix tree. From that it checks
that the log built the entry correctly and computes the new log root, over which
it may sign an ``AuditorTreeHead``.

The auditor's whole state is an :class:`AuditorState`: the full-subtree heads of
the log tree, the timestamps along the log's frontier, the previous prefix-tree
root, the insertions no distinguished entry has published yet (for step 5) and,
when the auditor has followed the log from its first entry, its own copy of the
prefix tree (so it can settle the removals that the proof alone leaves
undetermined, OR13-kt ``DRAFT-04``). :func:`audit` never modifies a state: it
returns the next one, or raises :class:`~ckv.errors.VerificationError` naming the
requirement that the update breaks.
"""

from __future__ import annotations

from dataclasses import dataclass

from ckv import distinguished
from ckv import implicit_search_tree as ibst
from ckv.errors import ErrorCode, UsageError, VerificationError
from ckv.log_tree import FullSubtrees, HashFn, sha256
from ckv.prefix_tree import PrefixTree, evaluate_before_after
from ckv.tree_head import sign_auditor_tree_head
from ckv.wire import codec_for
from ckv.wire.messages import AuditorTreeHead, AuditorUpdate, Configuration, LogEntry, PrefixLeaf

__all__ = ["AuditResult", "AuditorState", "audit", "sign_audited_head"]


@dataclass(frozen=True, slots=True)
class AuditorState:
    """Everything an auditor keeps between two updates."""

    #: Full-subtree heads of the log tree so far (the auditor holds no leaves).
    log: FullSubtrees
    #: ``(position, timestamp)`` of each entry on the log's frontier, left to right.
    frontier: tuple[tuple[int, int], ...]
    #: Root of the newest entry's prefix tree (all zeros before the first entry).
    prefix_root: bytes
    #: ``(position, vrf_output)`` of insertions no distinguished entry has published yet.
    pending: tuple[tuple[int, bytes], ...] = ()
    #: The auditor's own copy of the prefix tree, when it has seen every entry.
    prefix_tree: PrefixTree | None = None

    @classmethod
    def genesis(cls, *, hash_fn: HashFn = sha256) -> AuditorState:
        """The state of an auditor that will see the log from its first entry."""
        tree = PrefixTree(hash_fn=hash_fn)
        return cls(FullSubtrees.empty(), (), tree.root(), (), tree)

    @property
    def size(self) -> int:
        """The number of log entries audited."""
        return self.log.size

    @property
    def rightmost_timestamp(self) -> int | None:
        """The timestamp of the newest entry, if there is one."""
        return self.frontier[-1][1] if self.frontier else None


@dataclass(frozen=True, slots=True)
class AuditResult:
    """An accepted update: the auditor's next state and the log it now vouches for."""

    state: AuditorState
    timestamp: int
    tree_size: int
    log_root: bytes


def _reject(requirement: str, message: str) -> VerificationError:
    return VerificationError(
        f"auditor update rejected: {message}", requirement=requirement, code=ErrorCode.PROOF_INVALID
    )


def _check_sorted(name: str, leaves: tuple[PrefixLeaf, ...]) -> None:
    # AUDIT-002: each list is in strictly ascending order of VRF output (§15.2 step 2).
    for i in range(1, len(leaves)):
        if leaves[i - 1].vrf_output >= leaves[i].vrf_output:
            problem = "repeats" if leaves[i - 1].vrf_output == leaves[i].vrf_output else "is below"
            raise _reject(
                "AUDIT-002",
                f"{name}[{i}] {problem} {name}[{i - 1}]: the list must "
                "be in strictly ascending order of vrf_output",
            )


class _Timestamps:
    """The timestamps an auditor holds: its frontier and the new entry, nothing else."""

    def __init__(self, known: dict[int, int]) -> None:
        self._known = known

    def __call__(self, position: int) -> int:
        if position not in self._known:  # pragma: no cover - the frontier always suffices
            msg = f"the auditor does not hold the timestamp of entry {position}"
            raise UsageError(msg)
        return self._known[position]


def audit(
    state: AuditorState, update: AuditorUpdate, *, rmw: int, hash_fn: HashFn = sha256
) -> AuditResult:
    """Check one ``AuditorUpdate`` against ``state`` (KEYTRANS §15.2 steps 1-7)."""
    n = state.size
    previous = state.rightmost_timestamp
    # AUDIT-001: timestamps never go backwards (§15.2 step 1).
    if previous is not None and update.timestamp < previous:
        raise _reject(
            "AUDIT-001", f"timestamp {update.timestamp} is before the previous entry's {previous}"
        )
    added, removed = tuple(update.added), tuple(update.removed)
    _check_sorted("added", added)
    _check_sorted("removed", removed)
    # AUDIT-003: the entry changes something; with nothing to prove, step 6 has no
    # material to show where the update starts (OR13-kt DRAFT-05).
    if not added and not removed:
        raise _reject(
            "AUDIT-003",
            "the update adds and removes nothing, so the proof cannot "
            "show that it starts from the audited prefix tree",
        )
    # Steps 3, 4 and 6: added keys absent, removed keys present, and the previous root
    # recomputed from the proof and `removed` equals the auditor's (PREFIX-020..024).
    result = evaluate_before_after(
        added, removed, update.proof, previous_root=state.prefix_root, hash_fn=hash_fn
    )

    timestamps = dict(state.frontier)
    timestamps[n] = update.timestamp
    source = _Timestamps(timestamps)
    # AUDIT-004: a removed leaf was published in a distinguished entry before this one
    # (§15.2 step 5). Leaves absent from `pending` were published already.
    if removed:
        latest = distinguished.previous_rightmost_distinguished(n + 1, rmw, source)
        pending = {vrf: position for position, vrf in state.pending}
        for leaf in removed:
            inserted = pending.get(leaf.vrf_output)
            if inserted is not None and (latest is None or latest < inserted):
                raise _reject(
                    "AUDIT-004",
                    f"removed leaf {leaf.vrf_output.hex()} was inserted "
                    f"at entry {inserted} and no distinguished entry has published "
                    "it yet",
                )

    # Step 7: the new prefix root. AUDIT-005: never vouch for a root the auditor
    # cannot determine (PREFIX-026).
    tree = state.prefix_tree
    if tree is not None:
        tree = tree.apply(added, removed)
    if result.determined:
        after = result.after
        assert after is not None
    elif tree is not None:
        after = result.after_given(
            [
                u
                for u in result.uncovered
                if state.prefix_tree is not None and state.prefix_tree.leaf_at(u.prefix, u.depth)
            ]
        )
    else:
        raise _reject(
            "AUDIT-005",
            "the new prefix-tree root depends on nodes the proof does "
            "not cover, and this auditor keeps no copy of the tree to settle it",
        )
    # AUDIT-006: an auditor that keeps the tree checks the proof against it.
    if tree is not None and tree.root() != after:
        raise _reject(
            "AUDIT-006",
            f"the proof gives new root {after.hex()}, the auditor's "
            f"own tree gives {tree.root().hex()}",
        )

    entry = LogEntry(timestamp=update.timestamp, prefix_tree=after)
    log = state.log.append(hash_fn(codec_for().encode(entry)), hash_fn=hash_fn)
    frontier = tuple((x, timestamps[x]) for x in ibst.frontier(n + 1))
    # Insertions stay pending until a distinguished entry at or after them exists;
    # distinguished entries are stable, so a covered insertion stays covered.
    # A removed leaf is no longer pending; a replacement's new leaf is, from entry n.
    rightmost = distinguished.rightmost_distinguished(n + 1, rmw, source)
    removed_keys = {leaf.vrf_output for leaf in removed}
    candidates = [(p, v) for p, v in state.pending if v not in removed_keys]
    candidates += [(n, leaf.vrf_output) for leaf in added]
    pending_next = tuple((p, v) for p, v in candidates if rightmost is None or rightmost < p)
    next_state = AuditorState(log, frontier, after, pending_next, tree)
    return AuditResult(next_state, update.timestamp, n + 1, log.root(hash_fn=hash_fn))


def sign_audited_head(
    config: Configuration, auditor_key: bytes, result: AuditResult
) -> AuditorTreeHead:
    """The ``AuditorTreeHead`` for an accepted update (§15.2 step 8)."""
    return sign_auditor_tree_head(
        config, auditor_key, result.timestamp, result.tree_size, result.log_root
    )
