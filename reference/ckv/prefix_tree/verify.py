"""Verifying a batch ``PrefixProof`` (KEYTRANS §12.2).

A verifier knows the search keys it asked about and, for each search the proof
answers with ``inclusion``, the commitment it expects that key to map to. From
those, the results and the copath ``elements`` it recomputes the root
(:func:`evaluate_prefix_proof`) and compares it with the root it trusts
(:func:`verify_prefix_proof`).

Every way a proof can be malformed ends in :class:`~ckv.errors.VerificationError`
naming the requirement it breaks; a caller's own mistakes (keys of different
lengths, a commitment list of the wrong length) are :class:`~ckv.errors.UsageError`.

:func:`reconstruct` is the same evaluation, keeping the part of the tree the
proof reveals; the §15.2 before/after evaluation is built on it.
"""

from __future__ import annotations

from collections.abc import Sequence

from ckv.errors import ErrorCode, UsageError, VerificationError
from ckv.prefix_tree.hashing import (
    LEAF_TAG,
    PARENT_TAG,
    HashFunction,
    digest_size,
    sha256,
    shared_prefix_bits,
    tagged,
)
from ckv.prefix_tree.tree import _split_point
from ckv.wire.messages import PrefixProof, PrefixSearchResultType

__all__ = [
    "SkeletonLeaf",
    "SkeletonMissing",
    "SkeletonNode",
    "SkeletonOpaque",
    "SkeletonParent",
    "evaluate_prefix_proof",
    "reconstruct",
    "verify_prefix_proof",
]

_INCLUSION = PrefixSearchResultType.inclusion
_NON_INCLUSION_LEAF = PrefixSearchResultType.nonInclusionLeaf
_NON_INCLUSION_PARENT = PrefixSearchResultType.nonInclusionParent

# A terminal node's identity: None for a missing child, (key, commitment) for a leaf.
_Ident = tuple[bytes, bytes] | None


def _fail(
    requirement: str, message: str, expected: object = None, computed: object = None
) -> VerificationError:
    return VerificationError(
        message,
        requirement=requirement,
        code=ErrorCode.PROOF_INVALID,
        expected=expected,
        computed=computed,
    )


# What each search's result says, checked against its key: per search, the depth of
# its terminal node, the node's value and its identity; and the key length in bits.
_Searches = tuple[list[int], list[bytes], list[_Ident], int]


def _check_inputs(keys: Sequence[bytes], commitments: Sequence[bytes | None] | None) -> int:
    """Caller-side checks; returns the key length in bits."""
    if not keys:
        return 0
    size = len(keys[0])
    if size == 0 or (len(keys) > 1 and len(set(map(len, keys))) != 1):
        raise UsageError("search keys must be non-empty byte strings of one length")
    if commitments is not None and len(commitments) != len(keys):
        raise UsageError(f"{len(commitments)} commitments given for {len(keys)} search keys")
    return 8 * size


def _searches(
    keys: Sequence[bytes],
    proof: PrefixProof,
    commitments: Sequence[bytes | None] | None,
    hash_fn: HashFunction,
    nh: int,
) -> _Searches:
    nbits = _check_inputs(keys, commitments)
    results = proof.results
    # PREFIX-012: exactly one result per search key, in the order requested.
    if len(results) != len(keys):
        raise _fail(
            "PREFIX-012",
            f"proof has {len(results)} search results for {len(keys)} search keys",
            expected=len(keys),
            computed=len(results),
        )
    # PREFIX-019: every copath element is one hash value.
    elements = proof.elements
    if elements and len(b"".join(elements)) != nh * len(elements):
        index = next((i for i, element in enumerate(elements) if len(element) != nh), 0)
        raise _fail("PREFIX-019", f"element {index} is not {nh} bytes")
    zero = bytes(nh)
    base = tagged(hash_fn, LEAF_TAG)
    count = len(keys)
    depths = [0] * count
    values = [zero] * count
    idents: list[_Ident] = [None] * count
    for index in range(count):
        key = keys[index]
        result = results[index]
        depth = result.depth
        kind = result.result_type
        # PREFIX-013: a defined result type, and a depth that a key of this length can reach.
        if not 0 <= depth <= nbits:
            raise _fail("PREFIX-013", f"result {index}: depth {depth!r} is out of range")
        depths[index] = depth
        if kind is _NON_INCLUSION_PARENT:
            if result.leaf is not None:
                raise _fail("PREFIX-013", f"result {index}: nonInclusionParent carries a leaf")
            continue
        if kind is _INCLUSION:
            if result.leaf is not None:
                raise _fail("PREFIX-013", f"result {index}: inclusion carries a leaf")
            commitment = None if commitments is None else commitments[index]
            # PREFIX-015: an inclusion result is checked against the expected commitment.
            if commitment is None:
                raise _fail(
                    "PREFIX-015",
                    f"result {index}: inclusion, but no commitment is known for the key",
                )
            if len(commitment) != nh:
                raise _fail("PREFIX-015", f"result {index}: commitment is not {nh} bytes")
            found = key
        elif kind is _NON_INCLUSION_LEAF:
            leaf = result.leaf
            if leaf is None:
                raise _fail("PREFIX-013", f"result {index}: nonInclusionLeaf without its leaf")
            found = leaf.vrf_output
            commitment = leaf.commitment
            if len(found) != len(key) or len(commitment) != nh:
                raise _fail("PREFIX-014", f"result {index}: the leaf's fields have the wrong size")
            # PREFIX-014: the leaf found is not the key searched for, and lies on its path.
            if found == key:
                raise _fail(
                    "PREFIX-014",
                    f"result {index}: nonInclusionLeaf names the searched key itself",
                )
            shared = shared_prefix_bits(key, found)
            if shared < depth:
                raise _fail(
                    "PREFIX-014",
                    f"result {index}: the leaf shares {shared} leading bits with the searched "
                    f"key, but the search ends at depth {depth}",
                    expected=f">= {depth}",
                    computed=shared,
                )
        else:
            raise _fail("PREFIX-013", f"result {index}: result type {kind!r} is not defined")
        idents[index] = (found, commitment)
        # PREFIX-005: the terminal leaf's value.
        if base is None:
            values[index] = hash_fn(LEAF_TAG + found + commitment)
        else:
            hasher = base.copy()
            hasher.update(found + commitment)
            values[index] = hasher.digest()
    return depths, values, idents, nbits


def _terminal_here(s: _Searches, order: list[int], lo: int, hi: int, depth: int) -> int | None:
    """If some search of ``order[lo:hi]`` ends at ``depth``, check they all end at that node.

    Returns the search index standing for the node, or ``None`` if all go deeper.
    """
    depths, _, idents, _ = s
    first = None
    for i in range(lo, hi):
        if depths[order[i]] == depth:
            first = order[i]
            break
    if first is None:
        return None
    ident = idents[first]
    for i in range(lo, hi):
        j = order[i]
        # PREFIX-016: searches reaching one node agree on what it is, and no search ends
        # at a node another search passes through.
        if depths[j] != depth:
            raise _fail(
                "PREFIX-016",
                f"search {first} ends at depth {depth} on the path search {j} follows to "
                f"depth {depths[j]}",
            )
        if idents[j] != ident:
            raise _fail(
                "PREFIX-016",
                f"searches {first} and {j} end at the same node but describe it differently",
            )
    return first


def _too_few(count: int) -> VerificationError:
    # PREFIX-017: the proof holds exactly the elements the searches need.
    return _fail(
        "PREFIX-017", f"proof has {count} elements, too few for its searches", computed=count
    )


def evaluate_prefix_proof(
    keys: Sequence[bytes],
    proof: PrefixProof,
    commitments: Sequence[bytes | None] | None = None,
    *,
    hash_fn: HashFunction = sha256,
) -> bytes:
    """The root value that ``proof`` gives for searches of ``keys`` (§12.2).

    ``commitments[i]`` is the commitment expected for ``keys[i]``; it is needed
    (and used) only where the result for ``keys[i]`` is ``inclusion``.
    """
    nh = digest_size(hash_fn)
    s = _searches(keys, proof, commitments, hash_fn, nh)
    elements = proof.elements
    total = len(elements)
    count = len(keys)
    if count == 0:
        # PREFIX-010, PREFIX-017: no search path, so the one element is the root itself.
        if total != 1:
            raise _fail("PREFIX-017", f"a proof of no searches has 1 element, not {total}")
        return elements[0]
    depths, values, _, nbits = s
    base = tagged(hash_fn, PARENT_TAG)

    def path(index: int, key: int, top: int, pos: int) -> tuple[bytes, int]:
        """Hash one search's path (``key`` as an integer) from its terminal up to depth ``top``."""
        depth = depths[index]
        steps = depth - top
        value = values[index]
        if steps == 0:
            return value, pos
        if pos + steps > total:
            raise _too_few(total)
        # The key's bits from depth `top` to the terminal, as text (a 1 bit set above
        # them keeps leading zeros): iterating over it bottom-up is cheaper than
        # shifting an integer once per level.
        text = bin((key >> (nbits - depth)) | (1 << depth))[-steps:]
        # The copath of one path, left to right: siblings on the left top-down, then
        # siblings on the right bottom-up. Walk bottom-up from both ends of that run.
        ones = text.count("1")
        left_at = pos + ones - 1
        right_at = pos + ones
        if base is not None:
            copy = base.copy
            for bit in reversed(text):
                node = copy()
                if bit == "1":
                    node.update(elements[left_at] + value)
                    left_at -= 1
                else:
                    node.update(value + elements[right_at])
                    right_at += 1
                value = node.digest()
            return value, pos + steps
        for bit in reversed(text):
            if bit == "1":
                value = hash_fn(PARENT_TAG + elements[left_at] + value)
                left_at -= 1
            else:
                value = hash_fn(PARENT_TAG + value + elements[right_at])
                right_at += 1
        return value, pos + steps

    if count == 1:
        root, used = path(0, int.from_bytes(keys[0], "big"), 0, 0)
    else:
        order = sorted(range(count), key=keys.__getitem__)
        ints = [int.from_bytes(keys[i], "big") for i in order]
        sorted_depths = [depths[i] for i in order]
        position = [0]

        def subtree(depth: int, lo: int, hi: int) -> bytes:
            if hi - lo == 1:
                value, position[0] = path(order[lo], ints[lo], depth, position[0])
                return value
            if min(sorted_depths[lo:hi]) == depth:
                here = _terminal_here(s, order, lo, hi, depth)
                if here is not None:
                    return values[here]
            split = _split_point(ints, lo, hi, depth, nbits)
            if split == lo:
                if position[0] >= total:
                    raise _too_few(total)
                left = elements[position[0]]
                position[0] += 1
                right = subtree(depth + 1, lo, hi)
            elif split == hi:
                left = subtree(depth + 1, lo, hi)
                if position[0] >= total:
                    raise _too_few(total)
                right = elements[position[0]]
                position[0] += 1
            else:
                left = subtree(depth + 1, lo, split)
                right = subtree(depth + 1, split, hi)
            if base is None:
                return hash_fn(PARENT_TAG + left + right)
            node = base.copy()
            node.update(left + right)
            return node.digest()

        root = subtree(0, 0, count)
        used = position[0]
    # PREFIX-017: an element the searches do not need is an error, not padding.
    if used != total:
        raise _fail(
            "PREFIX-017",
            f"proof has {total} elements but its searches use {used}",
            expected=used,
            computed=total,
        )
    return root


def verify_prefix_proof(
    root: bytes,
    keys: Sequence[bytes],
    proof: PrefixProof,
    commitments: Sequence[bytes | None] | None = None,
    *,
    hash_fn: HashFunction = sha256,
) -> None:
    """Check that ``proof`` answers the searches for ``keys`` in the tree whose root is ``root``."""
    computed = evaluate_prefix_proof(keys, proof, commitments, hash_fn=hash_fn)
    # PREFIX-018: the recomputed root is the trusted one.
    if computed != root:
        raise _fail(
            "PREFIX-018",
            f"prefix proof gives root {computed.hex()}, expected {root.hex()}",
            expected=root,
            computed=computed,
        )


# -- the revealed part of the tree ------------------------------------------------------------


class SkeletonOpaque:
    """A copath element: a subtree known only by its value (all-zero: empty)."""

    __slots__ = ("depth", "path", "value")

    def __init__(self, value: bytes, depth: int, path: int) -> None:
        self.value = value
        self.depth = depth
        #: The node's first ``depth`` key bits, as an integer.
        self.path = path


class SkeletonMissing:
    """The missing child where ``nonInclusionParent`` searches end."""

    __slots__ = ("depth", "searches", "value")

    def __init__(self, depth: int, searches: list[int], value: bytes) -> None:
        self.depth = depth
        #: All-zero: the stand-in value of a missing child.
        self.value = value
        #: Indices (into the requested keys) of the searches that end here.
        self.searches = searches


class SkeletonLeaf:
    """A leaf where ``inclusion`` or ``nonInclusionLeaf`` searches end."""

    __slots__ = ("commitment", "depth", "key", "searches", "value")

    def __init__(
        self, key: bytes, commitment: bytes, value: bytes, depth: int, searches: list[int]
    ) -> None:
        self.key = key
        self.commitment = commitment
        self.value = value
        self.depth = depth
        #: Indices (into the requested keys) of the searches that end here.
        self.searches = searches


class SkeletonParent:
    """A parent on some search's path."""

    __slots__ = ("depth", "left", "right", "value")

    def __init__(self, left: SkeletonNode, right: SkeletonNode, value: bytes, depth: int) -> None:
        self.left = left
        self.right = right
        self.value = value
        self.depth = depth


SkeletonNode = SkeletonOpaque | SkeletonMissing | SkeletonLeaf | SkeletonParent


def reconstruct(
    keys: Sequence[bytes],
    proof: PrefixProof,
    commitments: Sequence[bytes | None] | None = None,
    *,
    hash_fn: HashFunction = sha256,
) -> SkeletonNode:
    """The part of the tree ``proof`` reveals; checks as :func:`evaluate_prefix_proof` does.

    The root node's ``value`` is the root value the proof gives.
    """
    nh = digest_size(hash_fn)
    s = _searches(keys, proof, commitments, hash_fn, nh)
    elements = proof.elements
    total = len(elements)
    count = len(keys)
    if count == 0:
        if total != 1:
            raise _fail("PREFIX-017", f"a proof of no searches has 1 element, not {total}")
        return SkeletonOpaque(elements[0], 0, 0)
    _, values, idents, nbits = s
    order = sorted(range(count), key=keys.__getitem__)
    ints = [int.from_bytes(keys[i], "big") for i in order]
    position = [0]

    def element(depth: int, path: int) -> SkeletonOpaque:
        if position[0] >= total:
            raise _too_few(total)
        node = SkeletonOpaque(elements[position[0]], depth, path)
        position[0] += 1
        return node

    def subtree(depth: int, lo: int, hi: int) -> SkeletonNode:
        here = _terminal_here(s, order, lo, hi, depth)
        if here is not None:
            searches = [order[i] for i in range(lo, hi)]
            ident = idents[here]
            if ident is None:
                return SkeletonMissing(depth, searches, values[here])
            return SkeletonLeaf(ident[0], ident[1], values[here], depth, searches)
        split = _split_point(ints, lo, hi, depth, nbits)
        path = ints[lo] >> (nbits - depth - 1)
        left: SkeletonNode
        right: SkeletonNode
        if split == lo:
            left = element(depth + 1, path & ~1)
            right = subtree(depth + 1, lo, hi)
        elif split == hi:
            left = subtree(depth + 1, lo, hi)
            right = element(depth + 1, path | 1)
        else:
            left = subtree(depth + 1, lo, split)
            right = subtree(depth + 1, split, hi)
        value = hash_fn(PARENT_TAG + left.value + right.value)
        return SkeletonParent(left, right, value, depth)

    root = subtree(0, 0, count)
    # PREFIX-017: an element the searches do not need is an error, not padding.
    if position[0] != total:
        raise _fail(
            "PREFIX-017",
            f"proof has {total} elements but its searches use {position[0]}",
            expected=position[0],
            computed=total,
        )
    return root
