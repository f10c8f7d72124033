"""The prefix tree roots before and after one log entry, from one proof (KEYTRANS §15.2).

A Third-Party Auditor receives, for each new log entry, the leaves added and
removed and one batch proof in the *previous* entry's prefix tree for their
search keys (added first, then removed). From those alone it must compute the
previous root, to compare with its state (§15.2 step 6), and the new root, to
put in the log entry it signs over (step 7).

The previous root is always determined. The new one is not always: removing a
leaf can leave a subtree whose only remaining content is a copath element, and
whether the tree's canonical shape (PREFIX-002) then promotes that subtree
depends on whether it is a single leaf or a parent, which its value does not
reveal. :func:`evaluate_before_after` does not guess (PREFIX-026): it reports
the new root as undetermined, names the copath nodes whose kind decides it, and
lets a caller that knows their kinds (for example one holding the previous
tree, see :meth:`ckv.prefix_tree.PrefixTree.leaf_at`) finish the computation.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from ckv.errors import ErrorCode, UsageError, VerificationError
from ckv.prefix_tree.hashing import LEAF_TAG, PARENT_TAG, HashFunction, digest_size, sha256
from ckv.prefix_tree.verify import (
    SkeletonLeaf,
    SkeletonMissing,
    SkeletonNode,
    SkeletonOpaque,
    SkeletonParent,
    reconstruct,
)
from ckv.wire.messages import PrefixLeaf, PrefixProof, PrefixSearchResultType

__all__ = ["BeforeAfter", "UncoveredSibling", "evaluate_before_after"]

_EMPTY = 0
_LEAF = 1
_PARENT = 2
_UNKNOWN = 3  # a non-empty copath node that may be a leaf or a parent

# (kind, value, the copath node when the kind is unknown)
_After = tuple[int, bytes, SkeletonOpaque | None]


@dataclass(frozen=True, slots=True)
class UncoveredSibling:
    """A copath node whose kind (leaf or parent) decides the new root.

    It is the only thing left in a subtree whose other content the update
    removed: if it is a leaf, PREFIX-003 moves it up; if a parent, it stays.
    """

    #: Depth of the node in the previous tree.
    depth: int
    #: A search key whose first ``depth`` bits are the node's path; the other bits are zero.
    prefix: bytes
    #: The node's value, as the proof lists it.
    value: bytes


@dataclass(frozen=True, slots=True)
class BeforeAfter:
    """The outcome of :func:`evaluate_before_after`."""

    #: Root of the previous log entry's prefix tree (§15.2 step 6).
    before: bytes
    #: Root of the new log entry's prefix tree (§15.2 step 7), or ``None`` when the
    #: proof does not determine it (see :attr:`uncovered`).
    after: bytes | None
    #: The copath nodes whose kind decides the new root; empty exactly when ``after`` is set.
    uncovered: tuple[UncoveredSibling, ...]
    _finish: Callable[[frozenset[tuple[int, bytes]]], bytes] = field(repr=False, compare=False)

    @property
    def determined(self) -> bool:
        """Whether the proof alone determines the new root."""
        return self.after is not None

    def after_given(self, leaves: Collection[UncoveredSibling]) -> bytes:
        """The new root if exactly the ``leaves`` among :attr:`uncovered` are leaves.

        Every other uncovered node is taken to be a parent. Only a caller that
        knows the kinds (PREFIX-026) may use the result as the new root.
        """
        chosen = frozenset((u.depth, u.prefix) for u in leaves)
        known = {(u.depth, u.prefix) for u in self.uncovered}
        if not chosen <= known:
            raise UsageError("after_given: a node given is not among the uncovered siblings")
        return self._finish(chosen)

    @property
    def after_assuming_no_collapse(self) -> bytes:
        """The new root if every uncovered node is a parent.

        This is the value katie's ``EvaluateBeforeAfter`` returns (OR13/kt
        DRAFT-04); it is the new root only when that assumption holds.
        """
        return self._finish(frozenset())


def _fail(requirement: str, message: str) -> VerificationError:
    return VerificationError(message, requirement=requirement, code=ErrorCode.PROOF_INVALID)


def _empty(node: SkeletonNode, zero: bytes) -> bool:
    """Whether a node of the previous tree is visibly empty (a missing child or a zero element)."""
    return isinstance(node, SkeletonMissing) or (
        isinstance(node, SkeletonOpaque) and node.value == zero
    )


def _check_shape(node: SkeletonNode, zero: bytes) -> None:
    """PREFIX-024: the part of the previous tree the proof reveals has the canonical shape."""
    stack = [node]
    while stack:
        current = stack.pop()
        if not isinstance(current, SkeletonParent):
            continue
        left, right = current.left, current.right
        for child, sibling in ((left, right), (right, left)):
            if _empty(sibling, zero) and (_empty(child, zero) or isinstance(child, SkeletonLeaf)):
                what = "a leaf" if isinstance(child, SkeletonLeaf) else "nothing"
                raise _fail(
                    "PREFIX-024",
                    f"the proof shows a parent at depth {current.depth} holding {what} beside "
                    "an empty child, which the previous tree's shape cannot contain",
                )
        stack.append(left)
        stack.append(right)


def evaluate_before_after(
    added: Sequence[PrefixLeaf],
    removed: Sequence[PrefixLeaf],
    proof: PrefixProof,
    *,
    previous_root: bytes | None = None,
    hash_fn: HashFunction = sha256,
) -> BeforeAfter:
    """The prefix tree roots before and after applying ``added`` and ``removed`` (§15.2).

    ``proof`` is the batch proof in the previous tree for the keys of ``added``
    then ``removed``. A key in both lists is replaced: its previous commitment is
    the one in ``removed``. When ``previous_root`` is given, the computed previous
    root must equal it (§15.2 step 6). The order of each list (§15.2 step 2) is
    the caller's to check; a key twice in one list is refused here.
    """
    nh = digest_size(hash_fn)
    zero = bytes(nh)
    added_map: dict[bytes, bytes] = {}
    removed_map: dict[bytes, bytes] = {}
    for name, leaves, table in (("added", added, added_map), ("removed", removed, removed_map)):
        for leaf in leaves:
            # PREFIX-020: a key is added, or removed, at most once per update.
            if leaf.vrf_output in table:
                raise _fail("PREFIX-020", f"key {leaf.vrf_output.hex()} is twice in {name}")
            table[leaf.vrf_output] = leaf.commitment
    keys = [leaf.vrf_output for leaf in added] + [leaf.vrf_output for leaf in removed]
    commitments: list[bytes | None] = [removed_map.get(leaf.vrf_output) for leaf in added]
    commitments += [leaf.commitment for leaf in removed]
    results = proof.results
    if len(results) == len(keys):
        for index, leaf in enumerate(added):
            kind = results[index].result_type
            # PREFIX-021: a key added without being removed was absent before (§15.2 step 3).
            if leaf.vrf_output not in removed_map and kind == PrefixSearchResultType.inclusion:
                raise _fail(
                    "PREFIX-021",
                    f"added key {leaf.vrf_output.hex()} is already in the previous tree",
                )
        for index, leaf in enumerate(removed, start=len(added)):
            kind = results[index].result_type
            # PREFIX-022: a removed key was present before (§15.2 step 4).
            if kind != PrefixSearchResultType.inclusion:
                raise _fail(
                    "PREFIX-022",
                    f"removed key {leaf.vrf_output.hex()} is not in the previous tree "
                    f"(result {getattr(kind, 'name', kind)})",
                )
    # PREFIX-023: the previous root comes from the proof and the commitments in `removed`.
    skeleton = reconstruct(keys, proof, commitments, hash_fn=hash_fn)
    before = skeleton.value
    if previous_root is not None and before != previous_root:
        raise VerificationError(
            f"the update's proof gives previous root {before.hex()}, expected "
            f"{previous_root.hex()}",
            requirement="PREFIX-023",
            code=ErrorCode.PROOF_INVALID,
            expected=previous_root,
            computed=before,
        )
    _check_shape(skeleton, zero)
    nbits = 8 * len(keys[0]) if keys else 0
    n_added = len(added)

    def rebuild(leaves: list[tuple[bytes, bytes]], depth: int) -> _After:
        """The canonical subtree at ``depth`` over ``leaves`` (sorted by key)."""
        if not leaves:
            return _EMPTY, zero, None
        if len(leaves) == 1:
            key, commitment = leaves[0]
            return _LEAF, hash_fn(LEAF_TAG + key + commitment), None
        bit_shift = nbits - depth - 1
        lefts = [leaf for leaf in leaves if not (int.from_bytes(leaf[0], "big") >> bit_shift) & 1]
        rights = leaves[len(lefts) :]
        left = rebuild(lefts, depth + 1)[1]
        right = rebuild(rights, depth + 1)[1]
        return _PARENT, hash_fn(PARENT_TAG + left + right), None

    def terminal(node: SkeletonLeaf | SkeletonMissing) -> _After:
        """A terminal slot after the update: what stays, what is replaced, what lands there."""
        leaves: list[tuple[bytes, bytes]] = []
        if isinstance(node, SkeletonLeaf):
            if node.key not in removed_map:
                leaves.append((node.key, node.commitment))
            elif node.key in added_map:
                leaves.append((node.key, added_map[node.key]))
        for index in node.searches:
            if index < n_added:
                key = added[index].vrf_output
                if key not in removed_map:
                    leaves.append((key, added_map[key]))
        leaves.sort()
        return rebuild(leaves, node.depth)

    def finish(assume_leaf: frozenset[tuple[int, bytes]], found: list[SkeletonOpaque]) -> bytes:
        def walk(node: SkeletonNode) -> _After:
            if isinstance(node, SkeletonOpaque):
                if node.value == zero:
                    # PREFIX-025: an all-zero element stands for an empty subtree.
                    return _EMPTY, zero, None
                return _UNKNOWN, node.value, node
            if not isinstance(node, SkeletonParent):
                return terminal(node)
            left = walk(node.left)
            right = walk(node.right)
            if left[0] == _EMPTY and right[0] == _EMPTY:
                return _EMPTY, zero, None
            if left[0] != _EMPTY and right[0] != _EMPTY:
                return _PARENT, hash_fn(PARENT_TAG + left[1] + right[1]), None
            alone, sibling_before = (right, node.left) if left[0] == _EMPTY else (left, node.right)
            kind = alone[0]
            opaque = alone[2]
            if kind == _UNKNOWN and opaque is not None and not _empty(sibling_before, zero):
                # PREFIX-026: the update emptied this node's sibling, and whether the node
                # moves up depends on its kind, which the proof does not show.
                found.append(opaque)
                prefix = _prefix(opaque, nbits)
                kind = _LEAF if (opaque.depth, prefix) in assume_leaf else _PARENT
            elif kind == _UNKNOWN:
                # Beside an empty child in the previous tree: canonically a parent.
                kind = _PARENT
            if kind == _LEAF:
                # PREFIX-025: a leaf left alone under a parent takes the parent's place.
                return _LEAF, alone[1], None
            if alone is left:
                return _PARENT, hash_fn(PARENT_TAG + left[1] + zero), None
            return _PARENT, hash_fn(PARENT_TAG + zero + right[1]), None

        return walk(skeleton)[1]

    found: list[SkeletonOpaque] = []
    first = finish(frozenset(), found)
    uncovered = tuple(
        UncoveredSibling(depth=o.depth, prefix=_prefix(o, nbits), value=o.value) for o in found
    )
    return BeforeAfter(
        before=before,
        after=None if uncovered else first,
        uncovered=uncovered,
        _finish=lambda assume: finish(assume, []),
    )


def _prefix(node: SkeletonOpaque, nbits: int) -> bytes:
    return (node.path << (nbits - node.depth)).to_bytes(nbits // 8, "big")
