"""The implicit binary search tree (KEYTRANS §4.1, Appendix A)."""

from __future__ import annotations

from functools import cache
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ckv import implicit_search_tree as ibst
from ckv.errors import UsageError

MAX = ibst.MAX_TREE_SIZE


# --- An oracle built from §4.1's inductive definition, not from the bit tricks. ---


@cache
def _definition(n: int) -> dict[int, tuple[int | None, int | None]]:
    """Map each position of a tree of size n to (left child, right child), by §4.1's induction."""
    out: dict[int, tuple[int | None, int | None]] = {}

    def build(size: int, offset: int) -> int | None:
        if size == 0:
            return None
        r = (1 << (size.bit_length() - 1)) - 1  # 2^floor(log2 size) - 1
        lc = build(r, offset)
        rc = build(size - r - 1, offset + r + 1)
        out[offset + r] = (lc, rc)
        return offset + r

    build(n, 0)
    return out


def _definition_parents(n: int) -> dict[int, int]:
    parents: dict[int, int] = {}
    for x, (lc, rc) in _definition(n).items():
        for c in (lc, rc):
            if c is not None:
                parents[c] = x
    return parents


def _appendix_right(x: int, n: int) -> int:
    """Appendix A's loop form of ``right``: the unbounded right child, then left while >= n."""
    k = ibst.level(x)
    y = x ^ (3 << (k - 1))
    while y >= n:
        y = ibst.left(y)
    return y


SMALL = range(1, 160)


@pytest.mark.req("SEARCH-001")
def test_fifty_entry_example() -> None:
    # §4.1: "the root would be entry 31" and "the frontier would be entries: 31, 47, 49".
    assert ibst.root(50) == 31
    assert ibst.frontier(50) == (31, 47, 49)
    # "... until the log roughly doubles in size and a new root is established at entry 63".
    assert ibst.root(63) == 31
    assert ibst.root(64) == 63


@pytest.mark.req("SEARCH-001")
def test_thirteen_entry_worked_example() -> None:
    # Appendix "CombinedTreeProof Implementation", worked example.
    assert ibst.root(13) == 7
    assert ibst.right(7, 13) == 11
    assert ibst.right(11, 13) == 12
    assert ibst.frontier(13) == (7, 11, 12)
    # "The direct path of entry 3 in the new tree consists only of entry 7".
    assert ibst.direct_path(3, 13) == (7,)


@pytest.mark.req("SEARCH-001")
def test_fourteen_entry_figure() -> None:
    # §4.1's figure: 14 entries; the node at 13 has no right child, 12 is its left child.
    assert ibst.root(14) == 7
    assert (ibst.left(7), ibst.right(7, 14)) == (3, 11)
    assert (ibst.left(11), ibst.right(11, 14)) == (9, 13)
    assert ibst.left(13) == 12
    assert not ibst.has_right(13, 14)
    assert ibst.frontier(14) == (7, 11, 13)


@pytest.mark.req("SEARCH-001", "SEARCH-002")
@pytest.mark.parametrize("n", SMALL)
def test_matches_inductive_definition(n: int) -> None:
    tree = _definition(n)
    parents = _definition_parents(n)
    assert sorted(tree) == list(range(n))
    assert ibst.root(n) == next(x for x in tree if x not in parents)
    for x, (lc, rc) in tree.items():
        if lc is None:
            assert not ibst.has_left(x)
            with pytest.raises(UsageError) as info:
                ibst.left(x)
            assert info.value.requirement == "SEARCH-002"
        else:
            assert ibst.left(x) == lc
        if rc is None:
            assert not ibst.has_right(x, n)
            with pytest.raises(UsageError) as info:
                ibst.right(x, n)
            assert info.value.requirement == "SEARCH-002"
        else:
            assert ibst.right(x, n) == rc
            assert _appendix_right(x, n) == rc
        assert ibst.parent(x, n) == parents.get(x)
        # Direct path by walking the definition's parents.
        path = []
        p = parents.get(x)
        while p is not None:
            path.append(p)
            p = parents.get(p)
        assert ibst.direct_path(x, n) == tuple(path)
        assert ibst.search_path(x, n) == (*reversed(path), x)
        # Subtree bounds: the descendants of x by the definition.
        desc = []
        todo = [x]
        while todo:
            y = todo.pop()
            desc.append(y)
            todo.extend(c for c in tree[y] if c is not None)
        assert ibst.subtree_bounds(x, n) == (min(desc), max(desc))
        assert sorted(desc) == list(range(min(desc), max(desc) + 1))
    # The frontier: root, then right children to n - 1.
    walk = [ibst.root(n)]
    while tree[walk[-1]][1] is not None:
        walk.append(tree[walk[-1]][1])  # type: ignore[arg-type]
    assert walk[-1] == n - 1
    assert ibst.frontier(n) == tuple(walk)
    assert [x for x in range(n) if ibst.is_on_frontier(x, n)] == walk


@pytest.mark.req("SEARCH-001")
@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 13, 50, 100])
def test_subtree_relations(n: int) -> None:
    tree = _definition(n)
    for y, (lc, rc) in tree.items():
        left_set: set[int] = set()
        right_set: set[int] = set()
        for child, into in ((lc, left_set), (rc, right_set)):
            todo = [] if child is None else [child]
            while todo:
                z = todo.pop()
                into.add(z)
                todo.extend(c for c in tree[z] if c is not None)
        for x in range(n):
            assert ibst.in_left_subtree(x, y, n) == (x in left_set)
            assert ibst.in_right_subtree(x, y, n) == (x in right_set)
            assert ibst.is_ancestor(y, x, n) == (x in left_set or x in right_set)


@pytest.mark.req("SEARCH-003")
@pytest.mark.parametrize(
    ("fn", "args"),
    [
        (ibst.root, (0,)),
        (ibst.root, (MAX + 1,)),
        (ibst.frontier, (0,)),
        (ibst.right, (3, 3)),
        (ibst.right, (-1, 3)),
        (ibst.direct_path, (5, 5)),
        (ibst.parent, (0, 0)),
        (ibst.level, (-1,)),
    ],
)
def test_out_of_domain_is_refused(fn: object, args: tuple[int, ...]) -> None:
    with pytest.raises(UsageError) as info:
        fn(*args)  # type: ignore[operator]
    assert info.value.requirement == "SEARCH-003"


@pytest.mark.req("SEARCH-002")
def test_largest_tree() -> None:
    # A uint64 tree_size of 2^64-1: 64 frontier entries, the last a leaf.
    assert ibst.root(MAX) == (1 << 63) - 1
    assert len(ibst.frontier(MAX)) == 64
    for fn, args in ((ibst.right, (MAX - 1, MAX)), (ibst.left, (MAX - 1,))):
        with pytest.raises(UsageError) as info:
            fn(*args)  # type: ignore[operator]
        assert info.value.requirement == "SEARCH-002"


sizes = st.integers(min_value=1, max_value=MAX)


@st.composite
def size_and_position(draw: st.DrawFn) -> tuple[int, int]:
    n = draw(sizes)
    x = draw(st.integers(min_value=0, max_value=n - 1))
    return n, x


@pytest.mark.req("SEARCH-001")
@given(size_and_position())
def test_large_trees_are_consistent(nx: tuple[int, int]) -> None:
    n, x = nx
    path = ibst.direct_path(x, n)
    assert (path[-1] if path else x) == ibst.root(n)
    child = x
    for p in path:
        # Every step of the direct path is a real parent-child link.
        assert p < n
        if child < p:
            assert ibst.left(p) == child or ibst.in_left_subtree(child, p, n)
        else:
            assert ibst.in_right_subtree(child, p, n)
        assert ibst.parent(child, n) == p
        child = p
    if ibst.has_right(x, n):
        r = ibst.right(x, n)
        assert r == _appendix_right(x, n)
        assert ibst.parent(r, n) == x
    if ibst.has_left(x):
        assert ibst.parent(ibst.left(x), n) == x
    front = ibst.frontier(n)
    assert front[0] == ibst.root(n)
    assert front[-1] == n - 1
    for a, b in pairwise(front):
        assert ibst.right(a, n) == b
    assert ibst.is_on_frontier(x, n) == (x in front)
