"""The implicit binary search tree over log entries (KEYTRANS §4.1, Appendix A).

The log's entries, numbered ``0 .. n-1``, are read as the in-order listing of a
binary tree: the root is ``2^floor(log2 n) - 1``, its left subtree is the tree
over the entries before it and its right subtree the tree over the entries
after it. Every function here is pure integer arithmetic in ``O(1)`` or
``O(log n)`` steps, and refuses (with :class:`~ckv.errors.UsageError`) to
answer a question the tree has no answer to, such as the left child of a leaf.

Two facts make the arithmetic closed-form. In the unbounded tree an entry
``x`` has level ``k`` = the number of trailing one bits of ``x``; its
subtree covers ``x - 2^k + 1 .. x + 2^k - 1``. The tree of size ``n`` is that
unbounded tree with every position ``>= n`` spliced out (replaced by its left
child), so its subtrees are the unbounded ones cut at ``n - 1``.
"""

from __future__ import annotations

from ckv.errors import UsageError

__all__ = [
    "MAX_TREE_SIZE",
    "check_position",
    "check_size",
    "direct_path",
    "frontier",
    "has_left",
    "has_right",
    "in_left_subtree",
    "in_right_subtree",
    "is_ancestor",
    "is_on_frontier",
    "left",
    "level",
    "parent",
    "right",
    "root",
    "search_path",
    "subtree_bounds",
]

#: The largest tree size a ``uint64 tree_size`` can state (KEYTRANS §11.3).
MAX_TREE_SIZE = (1 << 64) - 1


def check_size(n: int) -> None:
    """Refuse a tree size outside ``1 .. 2^64 - 1``."""
    # SEARCH-003: a tree has between 1 and 2^64-1 entries.
    if not 1 <= n <= MAX_TREE_SIZE:
        raise UsageError(
            f"tree size {n} is outside 1..2^64-1 (SEARCH-003)", requirement="SEARCH-003"
        )


def check_position(x: int, n: int) -> None:
    """Refuse a tree size outside ``1 .. 2^64 - 1`` or a position outside ``0 .. n - 1``."""
    check_size(n)
    # SEARCH-003: a position names an existing entry, 0 <= x < n.
    if not 0 <= x < n:
        raise UsageError(
            f"position {x} is not an entry of a tree of size {n} (SEARCH-003)",
            requirement="SEARCH-003",
        )


def level(x: int) -> int:
    """The level of position ``x``: 0 for a leaf, else one more than its taller child.

    Equal to the number of trailing one bits of ``x`` (Appendix A's ``level``).
    """
    if x < 0:
        raise UsageError(f"position {x} is negative (SEARCH-003)", requirement="SEARCH-003")
    return (x ^ (x + 1)).bit_length() - 1


def root(n: int) -> int:
    """The root of the tree of size ``n``: ``2^floor(log2 n) - 1`` (§4.1)."""
    check_size(n)
    return (1 << (n.bit_length() - 1)) - 1


def has_left(x: int) -> bool:
    """Whether ``x`` has a left child: every entry but a leaf does."""
    return level(x) > 0


def has_right(x: int, n: int) -> bool:
    """Whether ``x`` has a right child in the tree of size ``n``."""
    check_position(x, n)
    return level(x) > 0 and x != n - 1


def left(x: int) -> int:
    """The left child of ``x``; refused for a leaf (Appendix A's ``left``)."""
    k = level(x)
    # SEARCH-002: a leaf has no left child; refuse rather than answer.
    if k == 0:
        raise UsageError(f"entry {x} is a leaf: it has no left child", requirement="SEARCH-002")
    return x - (1 << (k - 1))


def right(x: int, n: int) -> int:
    """The right child of ``x`` in the tree of size ``n``; refused where there is none.

    The right subtree of ``x`` is the implicit tree over the entries
    ``x+1 .. min(x + 2^k - 1, n - 1)``, so its root is ``x + 2^floor(log2 s)``
    with ``s`` its size: the closed form of Appendix A's descending loop.
    """
    check_position(x, n)
    k = level(x)
    # SEARCH-002: a leaf and the rightmost entry have no right child; refuse.
    if k == 0:
        raise UsageError(f"entry {x} is a leaf: it has no right child", requirement="SEARCH-002")
    if x == n - 1:
        raise UsageError(
            f"entry {x} is the rightmost of {n}: it has no right child", requirement="SEARCH-002"
        )
    size = min((1 << k) - 1, n - 1 - x)
    return x + (1 << (size.bit_length() - 1))


def _unbounded_parent(x: int, k: int) -> int:
    # In the unbounded tree, x (level k) is a left child when bit k+1 of x is clear.
    if (x >> (k + 1)) & 1:
        return x - (1 << k)
    return x + (1 << k)


def parent(x: int, n: int) -> int | None:
    """The parent of ``x`` in the tree of size ``n``, or None for the root."""
    check_position(x, n)
    top = root(n)
    if x == top:
        return None
    k = level(x)
    p = _unbounded_parent(x, k)
    # Positions >= n are spliced out: x then hangs from the first ancestor that exists.
    while p >= n:
        k += 1
        p = _unbounded_parent(p, k)
    return p


def direct_path(x: int, n: int) -> tuple[int, ...]:
    """The direct path of ``x``: its parent, the parent's parent, ... up to the root.

    Empty for the root (KEYTRANS §3.1's definition, applied to §4.1's tree).
    """
    check_position(x, n)
    top = root(n)
    out: list[int] = []
    k = level(x)
    p = x
    while p != top:
        p = _unbounded_parent(p, k)
        k += 1
        if p < n:
            out.append(p)
    return tuple(out)


def search_path(x: int, n: int) -> tuple[int, ...]:
    """The entries a descent from the root visits to reach ``x``, root first, ``x`` last."""
    path = list(direct_path(x, n))
    path.reverse()
    path.append(x)
    return tuple(path)


def frontier(n: int) -> tuple[int, ...]:
    """The frontier: the root, its right child, that one's right child, ... to ``n - 1``.

    Closed form: for the set bits ``2^a > 2^b > ...`` of ``n``, the frontier is
    ``2^a - 1, 2^a + 2^b - 1, ...`` (each prefix sum of the set bits, minus one).
    """
    check_size(n)
    out: list[int] = []
    acc = 0
    rest = n
    while rest:
        top_bit = 1 << (rest.bit_length() - 1)
        acc += top_bit
        rest ^= top_bit
        out.append(acc - 1)
    return tuple(out)


def is_on_frontier(x: int, n: int) -> bool:
    """Whether ``x`` is on the frontier of the tree of size ``n``."""
    check_position(x, n)
    # x is on the frontier iff the bits of x + 1 are the high bits of n down to the
    # lowest set bit of x + 1 (see frontier()).
    y = x + 1
    shift = (y & -y).bit_length() - 1
    return (n >> shift) == (y >> shift)


def subtree_bounds(x: int, n: int) -> tuple[int, int]:
    """The first and last positions of the subtree headed by ``x`` (inclusive)."""
    check_position(x, n)
    k = level(x)
    return x - (1 << k) + 1, min(x + (1 << k) - 1, n - 1)


def is_ancestor(y: int, x: int, n: int) -> bool:
    """Whether ``y`` is a proper ancestor of ``x`` (``x`` in the subtree of ``y``, ``x != y``)."""
    check_position(x, n)
    lo, hi = subtree_bounds(y, n)
    return lo <= x <= hi and x != y


def in_left_subtree(x: int, y: int, n: int) -> bool:
    """Whether ``x`` is in the left subtree of ``y`` (in the tree of size ``n``)."""
    check_position(x, n)
    lo, _ = subtree_bounds(y, n)
    return lo <= x < y


def in_right_subtree(x: int, y: int, n: int) -> bool:
    """Whether ``x`` is in the right subtree of ``y`` (in the tree of size ``n``)."""
    check_position(x, n)
    _, hi = subtree_bounds(y, n)
    return y < x <= hi
