"""The KEYTRANS log tree: shape, hashing, batch proofs and their rejection (KEYTRANS §3.2, §11.8,
§12.1).

Oracles independent of ``ckv.log_tree``: a recursive root written from §3.2's definition of a
left-balanced tree, and a recursive "which nodes must the proof carry" written from §12.1's
prose (subtrees holding a proven leaf or a retained head are computed, the rest supplied as
balanced heads). The module's own prover and verifier use a flat, iterative tiling instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ckv import log_tree as lt
from ckv import wire
from ckv.errors import UsageError, VerificationError
from ckv.wire import messages

# --------------------------------------------------------------------------------------
# Independent oracles
# --------------------------------------------------------------------------------------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _split(lo: int, hi: int) -> int:
    """Where the left-balanced tree over leaves [lo, hi) splits (§3.2)."""
    width = hi - lo
    p = 1
    while p * 2 < width:
        p *= 2
    return lo + p


def _ref_content(values: list[bytes], lo: int, hi: int) -> bytes:
    """hashContent of the subtree over leaves [lo, hi), computed top-down (§3.2, §11.8)."""
    if hi - lo == 1:
        return b"\x00" + values[lo]
    mid = _split(lo, hi)
    return b"\x01" + _h(_ref_content(values, lo, mid) + _ref_content(values, mid, hi))


def _ref_root(values: list[bytes]) -> bytes:
    return _ref_content(values, 0, len(values))[1:]


def _is_pow2(x: int) -> bool:
    return x > 0 and x & (x - 1) == 0


def _ref_copath(size: int, leaves: set[int], retained_size: int) -> list[tuple[int, int]]:
    """The heads a batch proof carries, read from §12.1's prose, recursively over the tree."""
    retained = set(lt.full_subtrees(retained_size))

    def has_known(lo: int, hi: int) -> bool:
        return any(lo <= x < hi for x in leaves) or any(
            lo <= s and s + w <= hi for s, w in retained
        )

    def balanced_pieces(lo: int, hi: int) -> list[tuple[int, int]]:
        if _is_pow2(hi - lo):
            return [(lo, hi - lo)]
        mid = _split(lo, hi)
        return balanced_pieces(lo, mid) + balanced_pieces(mid, hi)

    def walk(lo: int, hi: int) -> list[tuple[int, int]]:
        holds_leaf = any(lo <= x < hi for x in leaves)
        if (lo, hi - lo) in retained and not holds_leaf:
            return []
        if not has_known(lo, hi):
            return balanced_pieces(lo, hi)
        if hi - lo == 1:
            return []
        mid = _split(lo, hi)
        return walk(lo, mid) + walk(mid, hi)

    return walk(0, size)


def _values(n: int, salt: int = 0) -> list[bytes]:
    return [_h(salt.to_bytes(4, "big") + i.to_bytes(8, "big")) for i in range(n)]


_TREES: dict[int, tuple[list[bytes], lt.LogTree]] = {}


def _tree(n: int) -> tuple[list[bytes], lt.LogTree]:
    """A shared tree of at least ``n`` leaves (proofs are made at size ``n``)."""
    cap = 1 << max(n - 1, 1).bit_length()
    if cap not in _TREES:
        values = _values(cap)
        _TREES[cap] = (values, lt.LogTree.from_leaves(values))
    return _TREES[cap]


# --------------------------------------------------------------------------------------
# Valid batch requests, as a strategy
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    size: int
    retained_size: int
    leaves: tuple[int, ...]
    values: tuple[bytes, ...]

    @cached_property
    def proof(self) -> messages.InclusionProof:
        return _tree(self.size)[1].batch_proof(self.leaves, self.retained_size, size=self.size)

    @cached_property
    def root(self) -> bytes:
        return _tree(self.size)[1].root(self.size)

    @cached_property
    def retained(self) -> lt.FullSubtrees | None:
        if not self.retained_size:
            return None
        return lt.FullSubtrees.from_leaves(self.values[: self.retained_size])

    def leaf_map(self) -> dict[int, bytes]:
        return {i: self.values[i] for i in self.leaves}

    def verify(self, **changes: object) -> lt.BatchResult:
        args: dict[str, object] = {
            "size": self.size,
            "proof": self.proof,
            "leaves": self.leaf_map(),
            "retained": self.retained,
            "expected_root": self.root,
        }
        args.update(changes)
        return lt.verify_batch(**args)  # type: ignore[arg-type]


@st.composite
def batches(
    draw: st.DrawFn, max_size: int = 200, min_leaves: int = 0, *, retained: bool = False
) -> Batch:
    size = draw(st.integers(1, max_size))
    if retained:
        retained_size = draw(st.integers(1, size))
    else:
        retained_size = draw(st.one_of(st.just(0), st.integers(0, size)))
    leaves = draw(
        st.lists(st.integers(0, size - 1), min_size=min_leaves, max_size=6, unique=True).map(
            lambda xs: tuple(sorted(xs))
        )
    )
    values, _ = _tree(size)
    return Batch(size, retained_size, leaves, tuple(values[:size]))


def _rejected(exc: pytest.ExceptionInfo[VerificationError], allowed: set[str]) -> None:
    assert exc.value.requirement in allowed, exc.value.diagnostics()
    assert exc.value.requirement is not None
    assert exc.value.requirement.startswith("LOG-")


# --------------------------------------------------------------------------------------
# Tree math (§3.2): flat indices, full subtrees
# --------------------------------------------------------------------------------------


@pytest.mark.req("LOG-001")
def test_flat_indices() -> None:
    assert [lt.node_index(i, 1) for i in range(4)] == [0, 2, 4, 6]
    assert lt.node_index(0, 2) == 1
    assert lt.node_index(0, 4) == 3
    assert lt.node_index(4, 2) == 9
    assert lt.node_index(8, 8) == 23
    for index in range(2000):
        start, width = lt.node_range(index)
        assert lt.node_index(start, width) == index
    for start, width in [(1, 2), (3, 4), (0, 3), (-1, 1), (0, 0)]:
        with pytest.raises(UsageError):
            lt.node_index(start, width)


@pytest.mark.req("LOG-001")
def test_full_subtrees() -> None:
    assert lt.full_subtrees(0) == []
    assert lt.full_subtrees(1) == [(0, 1)]
    assert lt.full_subtrees(13) == [(0, 8), (8, 4), (12, 1)]
    assert lt.full_subtree_indices(13) == [7, 19, 24]
    for n in range(1, 300):
        parts = lt.full_subtrees(n)
        assert len(parts) == n.bit_count()
        assert sum(w for _, w in parts) == n
        assert all(_is_pow2(w) and s % w == 0 for s, w in parts)


@pytest.mark.req("LOG-004", "LOG-005", "LOG-006")
def test_draft_figures() -> None:
    # §3.2, inclusion of leaf 2 in a six-leaf tree: leaves 0-1, leaf 3, leaves 4-5.
    assert lt.batch_copath(6, [2]) == [(0, 2), (3, 1), (4, 2)]
    # §3.2, consistency from 5 to 7 leaves: leaves 5 and 6 (the verifier has 0-3 and 4).
    assert lt.batch_copath(7, [], 5) == [(5, 1), (6, 1)]


@pytest.mark.req("LOG-004", "LOG-005", "LOG-006", "LOG-011")
def test_draft_worked_example() -> None:
    """Appendix "CombinedTreeProof Implementation", worked example: 13 entries, retained 4,
    leaves 7, 11 and 12 proven; the proof is leaves 4-5, leaf 6, leaves 8-9 and leaf 10, and
    the user retains leaves 0-7, 8-11 and 12."""
    assert lt.batch_copath(13, [7, 11, 12], 4) == [(4, 2), (6, 1), (8, 2), (10, 1)]
    assert lt.batch_copath_indices(13, [7, 11, 12], 4) == [9, 12, 17, 20]
    values, tree = _tree(13)
    proof = tree.batch_proof([7, 11, 12], 4, size=13)
    assert proof.elements == (tree.node(9), tree.node(12), tree.node(17), tree.node(20))
    result = lt.verify_batch(
        13,
        proof,
        {7: values[7], 11: values[11], 12: values[12]},
        lt.FullSubtrees.from_leaves(values[:4]),
        expected_root=tree.root(13),
    )
    assert result.full_subtrees.size == 13
    assert result.full_subtrees.heads == (tree.node(7), tree.node(19), tree.node(24))


@pytest.mark.req("LOG-004", "LOG-005", "LOG-006")
@given(batches(max_size=70))
def test_copath_matches_the_drafts_recursive_reading(batch: Batch) -> None:
    got = lt.batch_copath(batch.size, batch.leaves, batch.retained_size)
    assert got == _ref_copath(batch.size, set(batch.leaves), batch.retained_size)
    # LOG-004: heads of balanced subtrees only, within the tree; LOG-006: left to right.
    assert all(_is_pow2(w) and s % w == 0 and s + w <= batch.size for s, w in got)
    assert [s for s, _ in got] == sorted(s for s, _ in got)


@pytest.mark.req("LOG-005", "LOG-006")
@given(batches(max_size=120))
def test_tiling_covers_every_leaf_once(batch: Batch) -> None:
    pieces = [
        p
        for p in lt.tiling(batch.size, batch.leaves, batch.retained_size)
        if p[0] != lt.PieceKind.CHECK
    ]
    pos = 0
    for _, start, width, _ in pieces:
        assert start == pos
        pos += width
    assert pos == batch.size


# --------------------------------------------------------------------------------------
# Hashing (§11.8) and the two ways to grow a tree
# --------------------------------------------------------------------------------------


@pytest.mark.req("LOG-002")
def test_leaf_value_hashes_the_encoded_log_entry() -> None:
    entry = messages.LogEntry(timestamp=1_700_000_000_000, prefix_tree=bytes(range(32)))
    encoded = wire.encode(entry)
    assert len(encoded) == 8 + 32
    assert lt.leaf_value(entry) == _h(encoded)
    for suite in messages.CipherSuite:
        if suite is messages.CipherSuite.reserved:
            with pytest.raises(UsageError):
                lt.hash_for_suite(suite)
        else:
            assert lt.leaf_value(entry, suite=suite) == _h(encoded)


@pytest.mark.req("LOG-003")
def test_parent_value_prefixes() -> None:
    a, b = _h(b"a"), _h(b"b")
    assert lt.parent_value(a, b, left_is_leaf=True, right_is_leaf=True) == _h(
        b"\x00" + a + b"\x00" + b
    )
    assert lt.parent_value(a, b, left_is_leaf=False, right_is_leaf=True) == _h(
        b"\x01" + a + b"\x00" + b
    )
    assert lt.parent_value(a, b, left_is_leaf=False, right_is_leaf=False) == _h(
        b"\x01" + a + b"\x01" + b
    )


@pytest.mark.req("LOG-001", "LOG-002", "LOG-003")
def test_roots_match_the_recursive_definition() -> None:
    values = _values(70, salt=1)
    tree = lt.LogTree()
    state = lt.FullSubtrees.empty()
    for n in range(1, 71):
        tree.append_leaf(values[n - 1])
        state = state.append(values[n - 1])
        want = _ref_root(values[:n])
        assert tree.root() == want
        assert state.root() == want
        assert tree.full_subtrees() == state
        assert len(state.heads) == n.bit_count()
    # A log keeps its history: every earlier root and every earlier set of full subtrees.
    for n in range(1, 71):
        assert tree.root(n) == _ref_root(values[:n])
        assert tree.full_subtrees(n) == lt.FullSubtrees.from_leaves(values[:n])
    for index in range(70):
        assert tree.leaf(index) == values[index]


def test_custom_hash_function() -> None:
    def sha512_256(data: bytes) -> bytes:
        return hashlib.sha512(data).digest()[:32]

    values = _values(11)
    tree = lt.LogTree.from_leaves(values, hash_fn=sha512_256)
    assert tree.hash_fn is sha512_256
    assert tree.root() != lt.LogTree.from_leaves(values).root()
    proof = tree.batch_proof([3, 9], 6)
    result = lt.verify_batch(
        11,
        proof,
        {3: values[3], 9: values[9]},
        lt.FullSubtrees.from_leaves(values[:6], hash_fn=sha512_256),
        expected_root=tree.root(),
        hash_fn=sha512_256,
    )
    assert result.full_subtrees == tree.full_subtrees()


@pytest.mark.req("LOG-012")
def test_usage_errors() -> None:
    values, tree = _tree(8)
    with pytest.raises(UsageError):
        lt.FullSubtrees.empty().root()
    with pytest.raises(UsageError):
        lt.LogTree().root()
    with pytest.raises(UsageError):
        lt.FullSubtrees(3, (values[0],))
    with pytest.raises(UsageError):
        tree.append_leaf(b"short")
    with pytest.raises(UsageError):
        tree.leaf(8)
    with pytest.raises(UsageError):
        tree.node(2 * 8 + 1)  # leaves [8, 10) lie beyond the tree
    with pytest.raises(UsageError):
        tree.batch_proof([0], size=9)
    with pytest.raises(UsageError):
        list(lt.tiling(4, [1, 1], 0))
    for size, leaves, retained in [(0, [], 0), (4, [4], 0), (4, [-1], 0), (4, [], 5)]:
        with pytest.raises(UsageError) as exc:
            lt.batch_copath(size, leaves, retained)
        assert exc.value.requirement == "LOG-012"
    proof = tree.batch_proof([1], size=8)
    with pytest.raises(UsageError):
        lt.verify_batch(0, proof, {})
    with pytest.raises(UsageError):
        lt.verify_batch(8, proof, {8: values[0]})
    with pytest.raises(UsageError):
        lt.verify_batch(8, proof, {1: values[1][:31]})
    with pytest.raises(UsageError):
        lt.verify_batch(4, proof, {1: values[1]}, lt.FullSubtrees.from_leaves(values[:5]))
    bad = lt.FullSubtrees(4, (b"\x00" * 31,))
    with pytest.raises(UsageError):
        lt.verify_batch(8, tree.batch_proof([], 4, size=8), {}, bad)
    with pytest.raises(UsageError):
        lt.verify_batch(8, tree.batch_proof([1], 4, size=8), {1: values[1]}, bad)


@pytest.mark.req("LOG-013")
def test_a_proof_too_large_to_encode_is_refused() -> None:
    values = _values(1 << 17)
    tree = lt.LogTree.from_leaves(values)
    with pytest.raises(UsageError) as exc:
        tree.batch_proof(range(0, 1 << 17, 2))
    assert exc.value.requirement == "LOG-013"


# --------------------------------------------------------------------------------------
# Proofs the prover builds verify
# --------------------------------------------------------------------------------------


@pytest.mark.req("LOG-005", "LOG-007", "LOG-009", "LOG-010", "LOG-011")
@given(batches())
def test_prover_proofs_verify(batch: Batch) -> None:
    proof = batch.proof
    assert len(proof.elements) == len(
        lt.batch_copath(batch.size, batch.leaves, batch.retained_size)
    )
    # Through the wire, as a user receives it.
    proof = wire.decode(messages.InclusionProof, wire.encode(proof))
    result = batch.verify(proof=proof)
    assert result.root == batch.root == _ref_root(list(batch.values[: batch.size]))
    assert result.full_subtrees == _tree(batch.size)[1].full_subtrees(batch.size)
    # Without a known root, the same root comes back for the signature check.
    assert batch.verify(expected_root=None).root == batch.root


@pytest.mark.req("LOG-010", "LOG-011")
def test_consistency_chain_of_a_user() -> None:
    """A user who retains only full subtrees follows the log across many sizes."""
    values, tree = _tree(300)
    state: lt.FullSubtrees | None = None
    sizes = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 256, 257, 300]
    for k, size in enumerate(sizes):
        leaves = sorted({(7 * k) % size, size - 1, (size // 3)})
        proof = tree.batch_proof(leaves, state.size if state else 0, size=size)
        result = lt.verify_batch(
            size, proof, {i: values[i] for i in leaves}, state, expected_root=tree.root(size)
        )
        state = result.full_subtrees
    assert state == tree.full_subtrees(300)


def test_same_size_needs_no_elements() -> None:
    _, tree = _tree(12)
    retained = tree.full_subtrees(12)
    proof = tree.batch_proof([], 12, size=12)
    assert proof.elements == ()
    assert lt.verify_batch(12, proof, {}, retained).root == tree.root(12)


# --------------------------------------------------------------------------------------
# Must-reject: mutations of a valid proof, request and retained state
# --------------------------------------------------------------------------------------

_ANY = {"LOG-008", "LOG-009", "LOG-010"}
_VALUE = {"LOG-009", "LOG-010"}


@pytest.mark.req("LOG-009", "LOG-010")
@given(batches(), st.data())
def test_reject_bit_flip_in_any_element(batch: Batch, data: st.DataObject) -> None:
    elements = list(batch.proof.elements)
    assume(elements)
    i = data.draw(st.integers(0, len(elements) - 1))
    bit = data.draw(st.integers(0, 8 * len(elements[i]) - 1))
    flipped = bytearray(elements[i])
    flipped[bit // 8] ^= 1 << (bit % 8)
    elements[i] = bytes(flipped)
    with pytest.raises(VerificationError) as exc:
        batch.verify(proof=messages.InclusionProof(elements=tuple(elements)))
    _rejected(exc, _VALUE)


@pytest.mark.req("LOG-008")
@given(batches(), st.data())
def test_reject_truncated_proof(batch: Batch, data: st.DataObject) -> None:
    elements = list(batch.proof.elements)
    assume(elements)
    i = data.draw(st.integers(0, len(elements) - 1))
    del elements[i]
    with pytest.raises(VerificationError) as exc:
        batch.verify(proof=tuple(elements))
    _rejected(exc, {"LOG-008"})
    assert exc.value.expected == len(elements) + 1
    assert exc.value.computed == len(elements)


@pytest.mark.req("LOG-008")
@given(batches(), st.data())
def test_reject_extended_proof(batch: Batch, data: st.DataObject) -> None:
    elements = list(batch.proof.elements)
    i = data.draw(st.integers(0, len(elements)))
    extra = data.draw(st.sampled_from([*elements, bytes(32), b"\xff" * 32]))
    elements.insert(i, extra)
    with pytest.raises(VerificationError) as exc:
        batch.verify(proof=tuple(elements))
    _rejected(exc, {"LOG-008"})


@pytest.mark.req("LOG-009", "LOG-010")
@given(batches(), st.data())
def test_reject_reordered_proof(batch: Batch, data: st.DataObject) -> None:
    elements = list(batch.proof.elements)
    assume(len(set(elements)) >= 2)
    permuted = data.draw(st.permutations(elements))
    assume(permuted != elements)
    with pytest.raises(VerificationError) as exc:
        batch.verify(proof=tuple(permuted))
    _rejected(exc, _VALUE)


@pytest.mark.req("LOG-008")
@given(batches(), st.data())
def test_reject_element_of_wrong_length(batch: Batch, data: st.DataObject) -> None:
    elements = list(batch.proof.elements)
    assume(elements)
    i = data.draw(st.integers(0, len(elements) - 1))
    elements[i] = data.draw(st.binary(max_size=40).filter(lambda b: len(b) != 32))
    with pytest.raises(VerificationError) as exc:
        batch.verify(proof=tuple(elements))
    _rejected(exc, {"LOG-008"})


def _recording(calls: list[bytes]) -> lt.HashFn:
    def hash_fn(data: bytes) -> bytes:
        calls.append(data)
        return _h(data)

    return hash_fn


@pytest.mark.req("LOG-008", "LOG-009", "LOG-010")
@given(batches(), st.data())
def test_reject_wrong_tree_size(batch: Batch, data: st.DataObject) -> None:
    """A proof checked against another tree size is refused, unless the two sizes make the
    verifier do exactly the same hashing, which the root then cannot tell apart.

    That happens: for 86 leaves and leaf 80 the last element is the head of leaves 84-85, and
    for 88 leaves the head of leaves 84-87, hashed in the same place with the same prefix. The
    tree head signature covers the size, which is what binds it (LOG-009).
    """
    low = max(1, batch.retained_size, (batch.leaves[-1] + 1) if batch.leaves else 0)
    wrong = data.draw(st.integers(low, batch.size + 40).filter(lambda n: n != batch.size))
    honest: list[bytes] = []
    batch.verify(hash_fn=_recording(honest))
    replayed: list[bytes] = []
    try:
        batch.verify(size=wrong, hash_fn=_recording(replayed))
    except VerificationError as exc:
        assert exc.requirement in _ANY
    else:
        assert replayed == honest


def test_two_sizes_can_share_a_root() -> None:
    """The example of the docstring above, pinned."""
    values, tree = _tree(86)
    proof = tree.batch_proof([80], size=86)
    assert lt.batch_copath(86, [80]) == [(0, 64), (64, 16), (81, 1), (82, 2), (84, 2)]
    assert lt.batch_copath(88, [80]) == [(0, 64), (64, 16), (81, 1), (82, 2), (84, 4)]
    as_88 = lt.verify_batch(88, proof, {80: values[80]}, expected_root=tree.root(86))
    assert as_88.full_subtrees.size == 88


def test_a_proof_of_nothing_binds_no_size() -> None:
    values, tree = _tree(2)
    proof = tree.batch_proof([], size=1)
    assert proof.elements == (values[0],)
    # As a tree of two leaves, its one element is the head of leaves 0-1: the root is the same.
    assert lt.verify_batch(2, proof, {}, expected_root=tree.root(1)).root == values[0]


@pytest.mark.req("LOG-008", "LOG-009", "LOG-010")
@given(batches(retained=True), st.data())
def test_reject_wrong_retained_size(batch: Batch, data: st.DataObject) -> None:
    """The user's heads, claimed for another size with as many full subtrees."""
    retained = batch.retained
    assume(retained is not None)
    assert retained is not None
    count = retained.size.bit_count()
    others = [m for m in range(1, batch.size + 1) if m != retained.size and m.bit_count() == count]
    assume(others)
    wrong = data.draw(st.sampled_from(others))
    with pytest.raises(VerificationError) as exc:
        batch.verify(retained=lt.FullSubtrees(wrong, retained.heads))
    _rejected(exc, _ANY)


@pytest.mark.req("LOG-009", "LOG-010")
@given(batches(retained=True), st.data())
def test_reject_wrong_retained_head(batch: Batch, data: st.DataObject) -> None:
    retained = batch.retained
    assume(retained is not None)
    assert retained is not None
    heads = list(retained.heads)
    i = data.draw(st.integers(0, len(heads) - 1))
    bit = data.draw(st.integers(0, 255))
    flipped = bytearray(heads[i])
    flipped[bit // 8] ^= 1 << (bit % 8)
    heads[i] = bytes(flipped)
    with pytest.raises(VerificationError) as exc:
        batch.verify(retained=lt.FullSubtrees(retained.size, tuple(heads)))
    _rejected(exc, _VALUE)


@pytest.mark.req("LOG-009", "LOG-010")
@given(batches(min_leaves=1), st.data())
def test_reject_wrong_leaf_value(batch: Batch, data: st.DataObject) -> None:
    leaves = batch.leaf_map()
    i = data.draw(st.sampled_from(sorted(leaves)))
    bit = data.draw(st.integers(0, 255))
    flipped = bytearray(leaves[i])
    flipped[bit // 8] ^= 1 << (bit % 8)
    leaves[i] = bytes(flipped)
    with pytest.raises(VerificationError) as exc:
        batch.verify(leaves=leaves)
    _rejected(exc, _VALUE)


@pytest.mark.req("LOG-009")
@given(batches(), st.binary(min_size=32, max_size=32))
def test_reject_wrong_root(batch: Batch, root: bytes) -> None:
    assume(root != batch.root)
    with pytest.raises(VerificationError) as exc:
        batch.verify(expected_root=root)
    _rejected(exc, {"LOG-009"})


@pytest.mark.req("LOG-007", "LOG-008")
@given(
    st.integers(1, 300),
    st.lists(st.binary(max_size=34), max_size=20),
    st.lists(st.integers(0, 299), max_size=4, unique=True),
    st.data(),
)
def test_garbage_proofs_only_ever_raise_verification_errors(
    size: int, elements: list[bytes], leaves: list[int], data: st.DataObject
) -> None:
    leaves = [x for x in leaves if x < size]
    values, tree = _tree(size)
    retained_size = data.draw(st.integers(0, size))
    retained = tree.full_subtrees(retained_size) if retained_size else None
    try:
        lt.verify_batch(size, elements, {i: values[i] for i in leaves}, retained)
    except VerificationError as exc:
        assert exc.requirement in _ANY
    else:
        # Only the one honest proof gets through (without a root to compare, any proof of
        # the right shape does: the signature over the root is what rejects it then).
        assert len(elements) == len(lt.batch_copath(size, leaves, retained_size))
        assert all(len(e) == 32 for e in elements)


# --------------------------------------------------------------------------------------
# §12.1's edge case: proven leaves inside a retained subtree
# --------------------------------------------------------------------------------------


@pytest.mark.req("LOG-010")
def test_retained_head_is_checked_even_when_the_proof_recomputes_it() -> None:
    """A proof that is correct for the new root, but for a history other than the one the user
    retained, must be refused. A verifier that computed the root from the leaf and the proof
    alone (which is possible here: the proof covers the retained subtree) would accept it."""
    values, tree = _tree(16)
    proof = tree.batch_proof([3], 8, size=16)
    honest = tree.full_subtrees(8)
    assert honest.heads == (tree.node(7),)
    # The proof alone determines the root: it is leaf 3's whole copath.
    assert lt.verify_batch(16, proof, {3: values[3]}, None, expected_root=tree.root(16))
    forked = lt.FullSubtrees(8, (_h(b"another history"),))
    for expected_root in (tree.root(16), None):
        with pytest.raises(VerificationError) as exc:
            lt.verify_batch(16, proof, {3: values[3]}, forked, expected_root=expected_root)
        assert exc.value.requirement == "LOG-010"
        assert exc.value.expected == forked.heads[0].hex()
        assert exc.value.computed == tree.node(7).hex()
    assert lt.verify_batch(16, proof, {3: values[3]}, honest, expected_root=tree.root(16))


@pytest.mark.req("LOG-010")
def test_retained_single_leaf_is_checked_against_the_proven_leaf() -> None:
    """The smallest case: the retained subtree is the proven leaf itself (size 5, leaf 4)."""
    values, tree = _tree(8)
    retained = tree.full_subtrees(5)
    assert lt.batch_copath(8, [4], 5) == [(5, 1), (6, 2)]
    proof = tree.batch_proof([4], 5, size=8)
    assert lt.verify_batch(8, proof, {4: values[4]}, retained, expected_root=tree.root(8))
    forked = lt.FullSubtrees(5, (retained.heads[0], _h(b"not leaf 4")))
    with pytest.raises(VerificationError) as exc:
        lt.verify_batch(8, proof, {4: values[4]}, forked, expected_root=tree.root(8))
    assert exc.value.requirement == "LOG-010"


@pytest.mark.req("LOG-010")
@given(batches(min_leaves=1, retained=True), st.data())
def test_every_retained_head_holding_a_proven_leaf_is_checked(
    batch: Batch, data: st.DataObject
) -> None:
    retained = batch.retained
    assume(retained is not None)
    assert retained is not None
    holding = [
        i
        for i, (s, w) in enumerate(lt.full_subtrees(retained.size))
        if any(s <= x < s + w for x in batch.leaves)
    ]
    assume(holding)
    i = data.draw(st.sampled_from(holding))
    heads = list(retained.heads)
    heads[i] = _h(heads[i])
    for expected_root in (batch.root, None):
        with pytest.raises(VerificationError) as exc:
            batch.verify(
                retained=lt.FullSubtrees(retained.size, tuple(heads)),
                expected_root=expected_root,
            )
        assert exc.value.requirement == "LOG-010"
