"""Log tree shape in flat node indices, and how a batch proof cuts it (KEYTRANS §3.2, §12.1).

Leaf ``i`` is node ``2i``; the balanced subtree over leaves ``[start, start + width)``
(``width`` a power of two, ``start`` a multiple of ``width``) is node
``2*start + width - 1``. Only balanced subtrees have indices, because only their heads
ever travel in a proof (LOG-004).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence

from ckv.errors import UsageError

__all__ = [
    "MAX_ELEMENTS",
    "MAX_TREE_SIZE",
    "Piece",
    "PieceKind",
    "batch_copath",
    "batch_copath_indices",
    "check_request",
    "full_subtree_indices",
    "full_subtrees",
    "node_index",
    "node_range",
    "tiling",
]

#: ``TreeHead.tree_size`` is a uint64 (KEYTRANS §11.2).
MAX_TREE_SIZE = (1 << 64) - 1

#: ``InclusionProof.elements`` holds at most 2^16-1 values (KEYTRANS §12.1).
MAX_ELEMENTS = (1 << 16) - 1


def node_index(start: int, width: int) -> int:
    """Flat index of the balanced subtree over leaves ``[start, start + width)``."""
    if width < 1 or width & (width - 1) or start < 0 or start % width:
        msg = f"leaves [{start}, {start + width}) are not a balanced subtree"
        raise UsageError(msg)
    return 2 * start + width - 1


def node_range(index: int) -> tuple[int, int]:
    """``(start, width)`` of the balanced subtree with flat index ``index``."""
    if index < 0:
        msg = f"node index {index} is negative"
        raise UsageError(msg)
    # The level of a node is the number of trailing one bits of its index.
    width = ((index ^ (index + 1)) + 1) >> 1
    return (index + 1 - width) >> 1, width


def full_subtrees(size: int) -> list[tuple[int, int]]:
    """``(start, width)`` of the full subtrees of a tree of ``size`` leaves, left to right.

    They are the largest balanced subtrees: one per one bit of ``size``, from the
    highest bit down (KEYTRANS §4.2).
    """
    if size < 0:
        msg = f"tree size {size} is negative"
        raise UsageError(msg)
    out: list[tuple[int, int]] = []
    start = 0
    bit = size.bit_length()
    while bit:
        bit -= 1
        width = 1 << bit
        if size & width:
            out.append((start, width))
            start += width
    return out


def full_subtree_indices(size: int) -> list[int]:
    """Flat indices of the full subtrees of a tree of ``size`` leaves, left to right."""
    return [2 * s + w - 1 for s, w in full_subtrees(size)]


class PieceKind(enum.IntEnum):
    """What one piece of a tiling is, from the verifier's point of view."""

    #: A balanced subtree whose head value the proof supplies.
    ELEMENT = 0
    #: A leaf being proven; the verifier computed its value itself.
    LEAF = 1
    #: A retained full subtree with no proven leaf in it; its retained head is used.
    RETAINED = 2
    #: Not a piece: the retained full subtree ``ref`` has just been recomputed from
    #: the pieces inside it, and must equal the retained head (LOG-010).
    CHECK = 3


#: ``(kind, start, width, ref)``: ``ref`` is the retained head's position for
#: RETAINED and CHECK, and 0 otherwise.
Piece = tuple[PieceKind, int, int, int]

_ELEMENT, _LEAF_PIECE, _RETAINED, _CHECK = (
    PieceKind.ELEMENT,
    PieceKind.LEAF,
    PieceKind.RETAINED,
    PieceKind.CHECK,
)


def _gap(a: int, b: int) -> Iterator[Piece]:
    """Cut leaves ``[a, b)`` into the fewest balanced subtrees, left to right."""
    while a < b:
        # The largest width that ``a`` is aligned to and that still fits before ``b``.
        width = 1 << ((b - a).bit_length() - 1)
        if a:
            low = a & -a
            width = min(low, width)
        yield (_ELEMENT, a, width, 0)
        a += width


def check_request(
    size: int, leaves: Sequence[int], retained_size: int, cut: int | None = None
) -> None:
    """Refuse a batch request that names no tree (LOG-012), or a cut outside it (LOG-016).

    ``leaves`` must be sorted, without repeats.
    """
    if not 1 <= size <= MAX_TREE_SIZE:
        msg = f"tree size {size} is not in [1, 2^64-1]"
        raise UsageError(msg, requirement="LOG-012")
    if not 0 <= retained_size <= size:
        msg = f"retained size {retained_size} is not in [0, tree size {size}]"
        raise UsageError(msg, requirement="LOG-012")
    previous = -1
    for leaf in leaves:
        if leaf <= previous:
            msg = "proven leaves must be given in increasing order, without repeats"
            raise UsageError(msg, requirement="LOG-012")
        previous = leaf
    if leaves and (leaves[0] < 0 or leaves[-1] >= size):
        bad = leaves[0] if leaves[0] < 0 else leaves[-1]
        msg = f"proven leaf {bad} is not in a tree of size {size}"
        raise UsageError(msg, requirement="LOG-012")
    # LOG-016: a cut point is a tree size from 1 to the proof's tree size.
    if cut is not None and not 1 <= cut <= size:
        msg = f"cut point {cut} is not in [1, tree size {size}]"
        raise UsageError(msg, requirement="LOG-016")


def _cut_gap(a: int, b: int, cut: int) -> Iterator[Piece]:
    """:func:`_gap`, but never across ``cut``: a gap holding it is cut there first (LOG-014)."""
    if a < cut < b:
        yield from _gap(a, cut)
        yield from _gap(cut, b)
    else:
        yield from _gap(a, b)


def tiling(
    size: int, leaves: Sequence[int], retained_size: int = 0, cut: int | None = None
) -> Iterator[Piece]:
    """The pieces of a batch proof, left to right (KEYTRANS §12.1; LOG-005, LOG-006).

    ``leaves`` are the proven leaf indices, sorted, without repeats; the verifier has
    retained the full subtrees of ``retained_size``. Every leaf of ``[0, size)`` lies in
    exactly one piece. A retained full subtree that holds a proven leaf is cut into
    pieces like the rest of the tree, and followed by a CHECK marker.

    ``cut`` (KEYTRANS §12.3, an ``AuditorTreeHead.tree_size``) is a second tree size
    whose root the proof must also give: no piece straddles it, and a retained full
    subtree strictly containing it is opened as if it held a proven leaf (LOG-014).
    """
    check_request(size, leaves, retained_size, cut)
    # A cut at 0 would never fall strictly inside anything: "no cut".
    c = cut or 0
    j = 0
    count = len(leaves)
    for ref, (start, width) in enumerate(full_subtrees(retained_size)):
        end = start + width
        if (j == count or leaves[j] >= end) and not start < c < end:
            yield (_RETAINED, start, width, ref)
        else:
            pos = start
            while j < count and leaves[j] < end:
                leaf = leaves[j]
                if leaf > pos:
                    yield from _cut_gap(pos, leaf, c)
                yield (_LEAF_PIECE, leaf, 1, 0)
                pos = leaf + 1
                j += 1
            yield from _cut_gap(pos, end, c)
            yield (_CHECK, start, width, ref)
    pos = retained_size
    while j < count:
        leaf = leaves[j]
        if leaf > pos:
            yield from _cut_gap(pos, leaf, c)
        yield (_LEAF_PIECE, leaf, 1, 0)
        pos = leaf + 1
        j += 1
    yield from _cut_gap(pos, size, c)


def batch_copath(
    size: int, leaves: Iterable[int], retained_size: int = 0, cut: int | None = None
) -> list[tuple[int, int]]:
    """``(start, width)`` of every balanced subtree whose head a batch proof carries, in order."""
    order = sorted(set(leaves))
    return [(s, w) for kind, s, w, _ in tiling(size, order, retained_size, cut) if kind is _ELEMENT]


def batch_copath_indices(
    size: int, leaves: Iterable[int], retained_size: int = 0, cut: int | None = None
) -> list[int]:
    """Flat indices of the nodes a batch proof carries, in order (as log-math.json lists them)."""
    return [2 * s + w - 1 for s, w in batch_copath(size, leaves, retained_size, cut)]
