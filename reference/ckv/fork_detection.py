"""Fork detection (KEYTRANS §10.2) and transferable fork evidence (CKV).

Two users who obtained the log's recent distinguished heads over different
channels compare the lists of log roots (:func:`compare_roots`). When the lists
do not overlap as an honest log's would, the log has shown the two users
different histories. A :class:`~ckv.wire.messages.ForkEvidence` then lets anyone
check that claim from bytes alone: two tree heads the log signed, each with the
full-subtree heads of the log at a size both claim to share and a consistency
proof from that size to the signed one. If both signatures verify over the
roots those proofs give, and the two shared prefixes have different roots, the
log signed two incompatible views of itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ckv.errors import ErrorCode, UsageError, VerificationError
from ckv.log_tree import FullSubtrees, LogTree, verify_batch
from ckv.tree_head import verify_tree_head
from ckv.wire.messages import (
    Configuration,
    DistinguishedHead,
    ForkEvidence,
    ForkView,
    TreeHead,
)

__all__ = [
    "RootComparison",
    "compare_roots",
    "fork_view",
    "verify_fork_evidence",
]


@dataclass(frozen=True, slots=True)
class RootComparison:
    """The outcome of comparing two lists of distinguished roots."""

    #: True when the lists overlap as an honest log's would.
    consistent: bool
    #: How far one list is shifted against the other at the overlap (0 = same window).
    shift: int | None = None
    #: Whether either list was empty, which leaves nothing to compare.
    inconclusive: bool = False


def compare_roots(
    ours: DistinguishedHead | Sequence[bytes], theirs: DistinguishedHead | Sequence[bytes]
) -> RootComparison:
    """Compare the roots of the recent distinguished entries from two channels (§10.2).

    The lists hold the log roots at the recent distinguished entries, left to
    right. They are consistent when one is a prefix or a suffix of the other with
    at least one root in common: the two channels saw the same log, perhaps one
    distinguished entry apart.
    """
    a = list(ours.heads if isinstance(ours, DistinguishedHead) else ours)
    b = list(theirs.heads if isinstance(theirs, DistinguishedHead) else theirs)
    if len(a) != len(b):
        msg = f"root lists must be the same length to compare ({len(a)} vs {len(b)})"
        raise UsageError(msg, requirement="FORK-001")
    n = len(a)
    if n == 0:
        return RootComparison(consistent=True, inconclusive=True)
    # FORK-001: consistent iff one list, shifted by x, matches the other on n - x roots.
    for x in range(n):
        if a[: n - x] == b[x:] or b[: n - x] == a[x:]:
            return RootComparison(consistent=True, shift=x)
    return RootComparison(consistent=False)


def fork_view(log: LogTree, tree_head: TreeHead, common_size: int) -> ForkView:
    """One side of the evidence, built from a log tree that has the signed size."""
    retained = log.full_subtrees(common_size)
    proof = log.batch_proof([], retained_size=common_size, size=tree_head.tree_size)
    return ForkView(tree_head=tree_head, full_subtrees=tuple(retained.heads), consistency=proof)


def _fail(message: str) -> VerificationError:
    return VerificationError(
        f"fork evidence: {message}", requirement="FORK-003", code=ErrorCode.PROOF_INVALID
    )


def _view_root(config: Configuration, common_size: int, view: ForkView, which: str) -> bytes:
    size = view.tree_head.tree_size
    if not 0 < common_size <= size:
        raise _fail(
            f"the {which} view's tree size {size} does not contain the common size {common_size}"
        )
    if len(view.full_subtrees) != common_size.bit_count():
        raise _fail(
            f"the {which} view has {len(view.full_subtrees)} full-subtree heads, a log "
            f"of {common_size} entries has {common_size.bit_count()}"
        )
    shared = FullSubtrees(common_size, tuple(view.full_subtrees))
    try:
        result = verify_batch(size, view.consistency, {}, shared)
        verify_tree_head(config, view.tree_head, result.root)
    except VerificationError as exc:
        raise _fail(f"the {which} view does not verify: {exc}") from None
    return shared.root()


def verify_fork_evidence(evidence: ForkEvidence) -> tuple[bytes, bytes]:
    """Check that ``evidence`` proves a fork; returns the two conflicting roots.

    Raises :class:`VerificationError` (FORK-003) when either view fails to verify,
    or when both views agree on the shared prefix (no fork shown).
    """
    config, common = evidence.config, evidence.common_size
    # FORK-003: each view's signature verifies over the root its own proof gives,
    # and the prefix of `common` entries it commits to has a root of its own.
    first = _view_root(config, common, evidence.first, "first")
    second = _view_root(config, common, evidence.second, "second")
    if first == second:
        raise _fail(f"both views give the same root for the first {common} entries: no fork")
    return first, second
