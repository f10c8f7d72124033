"""The KEYTRANS prefix tree (§3.3, §11.9, §12.2) and the §15.2 before/after evaluation.

Unit tests follow the draft's own figures; property tests build random trees,
prove random batches, and then break the proofs in every way the verifier must
notice. Most property tests use 2-byte keys so that small trees have deep,
crowded shapes; the wire-sized tests use 32-byte keys.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Sequence

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ckv import wire
from ckv.errors import UsageError, VerificationError
from ckv.prefix_tree import (
    PrefixTree,
    evaluate_before_after,
    evaluate_prefix_proof,
    key_bit,
    leaf_value,
    parent_value,
    reconstruct,
    shared_prefix_bits,
    verify_prefix_proof,
)
from ckv.wire.messages import PrefixLeaf, PrefixProof, PrefixSearchResult
from ckv.wire.messages import PrefixSearchResultType as T

ZERO = bytes(32)
KEY2 = st.binary(min_size=2, max_size=2)


def c(n: int) -> bytes:
    """A distinct 32-byte commitment."""
    return hashlib.sha256(n.to_bytes(4, "big")).digest()


def key5(bits: str) -> bytes:
    """A 32-byte key starting with the given bits (the draft's 5-bit figure keys)."""
    return (int(bits, 2) << (256 - len(bits))).to_bytes(32, "big")


def tree2(keys: Sequence[bytes]) -> PrefixTree:
    return PrefixTree.from_leaves({k: c(i) for i, k in enumerate(keys)}, key_size=2)


def commitments_for(tree: PrefixTree, keys: Sequence[bytes]) -> list[bytes | None]:
    return [tree.get(k) for k in keys]


def assert_rejects(
    root: bytes,
    keys: Sequence[bytes],
    proof: PrefixProof,
    commitments: Sequence[bytes | None],
    requirements: set[str] | None = None,
) -> VerificationError:
    with pytest.raises(VerificationError) as info:
        verify_prefix_proof(root, keys, proof, commitments)
    assert info.value.requirement is not None
    assert info.value.requirement.startswith("PREFIX-")
    if requirements is not None:
        assert info.value.requirement in requirements, info.value.diagnostics()
    return info.value


# -- hashing and shape -----------------------------------------------------------------------


@pytest.mark.req("PREFIX-001", "PREFIX-005", "PREFIX-006", "PREFIX-007")
def test_hashing_and_bits() -> None:
    key = bytes([0b1010_0000]) + bytes(31)
    assert [key_bit(key, i) for i in range(4)] == [1, 0, 1, 0]
    assert shared_prefix_bits(key, key) == 256
    assert shared_prefix_bits(key, bytes(32)) == 0
    assert leaf_value(key, c(1)) == hashlib.sha256(b"\x02" + key + c(1)).digest()
    assert parent_value(c(1), ZERO) == hashlib.sha256(b"\x03" + c(1) + ZERO).digest()
    assert PrefixTree().root() == ZERO
    assert PrefixTree().insert(key, c(1)).root() == leaf_value(key, c(1))


def depths(tree: PrefixTree, keys: Sequence[bytes]) -> list[int]:
    return [r.depth for r in tree.prove(keys).results]


@pytest.mark.req("PREFIX-002", "PREFIX-006", "PREFIX-009")
def test_draft_figures() -> None:
    """§3.3's two figures: five keys, then 01101 added."""
    figure = ["00010", "00101", "10001", "10111", "11011"]
    keys = [key5(b) for b in figure]
    tree = PrefixTree.from_leaves({k: c(i) for i, k in enumerate(keys)})
    assert depths(tree, keys) == [3, 3, 3, 3, 2]
    leaves = [leaf_value(k, c(i)) for i, k in enumerate(keys)]
    left = parent_value(parent_value(leaves[0], leaves[1]), ZERO)  # "0" has no "01" child
    right = parent_value(parent_value(leaves[2], leaves[3]), leaves[4])
    assert tree.root() == parent_value(left, right)
    added = tree.insert(key5("01101"), c(5))
    assert depths(added, [*keys, key5("01101")]) == [3, 3, 3, 3, 2, 2]
    # The search for 01000 ends at the missing child "01": one below its parent.
    assert tree.prove([key5("01000")]).results[0] == PrefixSearchResult(
        result_type=T.nonInclusionParent, depth=2
    )


@pytest.mark.req("PREFIX-002", "PREFIX-003")
@given(keys=st.lists(KEY2, min_size=1, max_size=24, unique=True), data=st.data())
def test_shape_depends_only_on_the_key_set(keys: list[bytes], data: st.DataObject) -> None:
    order = data.draw(st.permutations(keys))
    gone = data.draw(st.lists(st.sampled_from(keys), unique=True))
    tree = PrefixTree(key_size=2)
    for k in order:
        tree = tree.insert(k, c(keys.index(k)))
    for k in gone:
        tree = tree.remove(k)
    kept = [k for k in keys if k not in gone]
    expected = {k: c(keys.index(k)) for k in kept}
    assert tree.root() == PrefixTree.from_leaves(expected, key_size=2).root()
    assert dict(tree.items()) == expected
    assert [k for k, _ in tree.items()] == sorted(kept)
    assert len(tree) == len(kept)


@pytest.mark.req("PREFIX-002")
@given(keys=st.lists(KEY2, min_size=2, max_size=24, unique=True))
def test_leaf_depth_is_one_past_the_longest_shared_prefix(keys: list[bytes]) -> None:
    tree = tree2(keys)
    for k, depth in zip(keys, depths(tree, keys), strict=True):
        longest = max(shared_prefix_bits(k, other) for other in keys if other != k)
        assert depth == longest + 1


@pytest.mark.req("PREFIX-004")
def test_mutation_refusals() -> None:
    a, b = key5("0"), key5("1")
    tree = PrefixTree().insert(a, c(1))
    with pytest.raises(UsageError):
        tree.insert(a, c(2))
    with pytest.raises(UsageError):
        tree.remove(b)
    with pytest.raises(UsageError):
        tree.replace(b, c(2))
    with pytest.raises(UsageError):
        tree.update(insert={b: c(2)}, remove=[b])
    with pytest.raises(UsageError):
        tree.insert(b"short", c(2))
    with pytest.raises(UsageError):
        tree.insert(b, b"short")
    with pytest.raises(UsageError):
        tree.apply([], [PrefixLeaf(vrf_output=a, commitment=c(9))])
    with pytest.raises(UsageError):
        PrefixTree.from_leaves([(a, c(1)), (a, c(2))])
    assert tree.replace(a, c(2)).get(a) == c(2)
    assert tree.get(a) == c(1)  # the old version is untouched


@pytest.mark.req("PREFIX-003")
def test_versions_share_structure_and_stay_valid() -> None:
    rng = random.Random(7)
    keys = [rng.randbytes(32) for _ in range(200)]
    versions = [PrefixTree()]
    for i, k in enumerate(keys):
        versions.append(versions[-1].insert(k, c(i)))
    versions.append(versions[-1].update(remove=keys[:50], replace={keys[60]: c(999)}))
    roots = [v.root() for v in versions]
    for size in (0, 1, 17, 200):
        old = versions[size]
        assert old.root() == roots[size]
        assert len(old) == size
        batch = keys[:3] + keys[150:153]
        verify_prefix_proof(roots[size], batch, old.prove(batch), commitments_for(old, batch))
    assert versions[-1].get(keys[60]) == c(999)
    assert versions[-2].get(keys[60]) == c(60)


@pytest.mark.req("PREFIX-026")
def test_leaf_at() -> None:
    tree = PrefixTree.from_leaves({key5("00"): c(1), key5("01"): c(2), key5("1"): c(3)})
    assert tree.leaf_at(key5("1"), 1)
    assert not tree.leaf_at(key5("0"), 1)
    assert tree.leaf_at(key5("01"), 2)
    assert not tree.leaf_at(key5("111"), 3)


# -- proofs ----------------------------------------------------------------------------------


@st.composite
def proved(draw: st.DrawFn) -> tuple[PrefixTree, list[bytes], PrefixProof]:
    """A tree of 2-byte keys and a proof for a batch of present and absent keys (repeats too)."""
    keys = draw(st.lists(KEY2, max_size=24, unique=True))
    tree = tree2(keys)
    pool = st.sampled_from(keys) | KEY2 if keys else KEY2
    batch = draw(st.lists(pool, min_size=1, max_size=8))
    return tree, batch, tree.prove(batch)


@pytest.mark.req("PREFIX-008", "PREFIX-009", "PREFIX-010", "PREFIX-018")
@given(case=proved())
def test_proofs_verify_and_give_the_root(case: tuple[PrefixTree, list[bytes], PrefixProof]) -> None:
    tree, batch, proof = case
    commitments = commitments_for(tree, batch)
    assert evaluate_prefix_proof(batch, proof, commitments) == tree.root()
    verify_prefix_proof(tree.root(), batch, proof, commitments)
    assert reconstruct(batch, proof, commitments).value == tree.root()
    for key, result in zip(batch, proof.results, strict=True):
        assert (result.result_type == T.inclusion) == (key in tree)
        if result.result_type == T.nonInclusionLeaf:
            assert result.leaf is not None
            assert tree.get(result.leaf.vrf_output) == result.leaf.commitment


@pytest.mark.req("PREFIX-010")
def test_copath_elements_are_left_to_right() -> None:
    """A lone search in a full 3-level tree lists left siblings top-down, then right ones."""
    keys = [bytes([i << 5]) + bytes(1) for i in range(8)]
    tree = tree2(keys)
    # Search 011: siblings are 1 (right, depth 1), 00 (left, depth 2), 010 (left, depth 3).
    proof = tree.prove([keys[3]])
    leaves = [leaf_value(k, c(i)) for i, k in enumerate(keys)]
    subtree_00 = parent_value(leaves[0], leaves[1])
    subtree_1 = parent_value(parent_value(leaves[4], leaves[5]), parent_value(leaves[6], leaves[7]))
    assert proof.elements == (subtree_00, leaves[2], subtree_1)


@pytest.mark.req("PREFIX-010", "PREFIX-017")
def test_empty_batch_and_empty_tree() -> None:
    tree = tree2([b"\x00\x01", b"\x80\x00"])
    proof = tree.prove([])
    assert proof.elements == (tree.root(),)
    assert evaluate_prefix_proof([], proof) == tree.root()
    with pytest.raises(VerificationError) as info:
        evaluate_prefix_proof([], PrefixProof(results=(), elements=()))
    assert info.value.requirement == "PREFIX-017"
    empty = PrefixTree()
    keys = [key5("0"), key5("1")]
    proof = empty.prove(keys)
    assert proof.elements == ()
    assert all(
        r == PrefixSearchResult(result_type=T.nonInclusionParent, depth=0) for r in proof.results
    )
    verify_prefix_proof(ZERO, keys, proof)


@pytest.mark.req("PREFIX-011")
def test_prover_refuses_what_cannot_be_encoded() -> None:
    a = bytes(32)
    b = bytes(31) + b"\x01"  # shares 255 bits with a: leaves at depth 256
    tree = PrefixTree().insert(a, c(1)).insert(b, c(2))
    assert tree.root()  # the tree itself is fine
    with pytest.raises(UsageError) as info:
        tree.prove([a])
    assert info.value.requirement == "PREFIX-011"
    with pytest.raises(UsageError):
        PrefixTree().prove([a] * 256)


@pytest.mark.req("PREFIX-005", "PREFIX-006")
def test_hash_is_a_parameter() -> None:
    def sha3(data: bytes) -> bytes:
        return hashlib.sha3_256(data).digest()

    keys = [key5("00"), key5("01"), key5("1")]
    tree = PrefixTree.from_leaves({k: c(i) for i, k in enumerate(keys)}, hash_fn=sha3)
    assert tree.root() != PrefixTree.from_leaves({k: c(i) for i, k in enumerate(keys)}).root()
    proof = tree.prove(keys)
    verify_prefix_proof(tree.root(), keys, proof, [c(0), c(1), c(2)], hash_fn=sha3)
    with pytest.raises(VerificationError):
        verify_prefix_proof(tree.root(), keys, proof, [c(0), c(1), c(2)])


@pytest.mark.req("PREFIX-008", "PREFIX-009", "PREFIX-010", "PREFIX-018")
def test_wire_sized_batches_round_trip() -> None:
    rng = random.Random(1)
    keys = [rng.randbytes(32) for _ in range(500)]
    tree = PrefixTree.from_leaves({k: c(i) for i, k in enumerate(keys)})
    for _ in range(20):
        batch = rng.sample(keys, 3) + [rng.randbytes(32) for _ in range(3)]
        proof = tree.prove(batch)
        decoded = wire.decode(PrefixProof, wire.encode(proof))
        verify_prefix_proof(tree.root(), batch, decoded, commitments_for(tree, batch))


# -- must reject -----------------------------------------------------------------------------


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(out)


@pytest.mark.req("PREFIX-018")
@given(case=proved(), data=st.data())
def test_rejects_a_flipped_element_bit(
    case: tuple[PrefixTree, list[bytes], PrefixProof], data: st.DataObject
) -> None:
    tree, batch, proof = case
    assume(proof.elements)
    i = data.draw(st.integers(0, len(proof.elements) - 1))
    bit = data.draw(st.integers(0, 255))
    elements = list(proof.elements)
    elements[i] = flip(elements[i], bit)
    bad = dataclasses.replace(proof, elements=tuple(elements))
    assert_rejects(tree.root(), batch, bad, commitments_for(tree, batch), {"PREFIX-018"})


@pytest.mark.req("PREFIX-017", "PREFIX-019")
@given(case=proved(), data=st.data())
def test_rejects_truncated_or_extended_elements(
    case: tuple[PrefixTree, list[bytes], PrefixProof], data: st.DataObject
) -> None:
    tree, batch, proof = case
    elements = list(proof.elements)
    how = data.draw(st.sampled_from(["drop", "append", "insert", "short"]))
    if how == "drop":
        assume(elements)
        del elements[data.draw(st.integers(0, len(elements) - 1))]
    elif how == "append":
        elements.append(data.draw(st.binary(min_size=32, max_size=32)))
    elif how == "insert":
        elements.insert(data.draw(st.integers(0, len(elements))), ZERO)
    else:
        assume(elements)
        i = data.draw(st.integers(0, len(elements) - 1))
        elements[i] = elements[i][:31]
    bad = dataclasses.replace(proof, elements=tuple(elements))
    expected = {"PREFIX-019"} if how == "short" else {"PREFIX-017"}
    assert_rejects(tree.root(), batch, bad, commitments_for(tree, batch), expected)


@pytest.mark.req("PREFIX-018")
@given(case=proved(), data=st.data())
def test_rejects_reordered_elements(
    case: tuple[PrefixTree, list[bytes], PrefixProof], data: st.DataObject
) -> None:
    tree, batch, proof = case
    elements = list(proof.elements)
    assume(len(set(elements)) > 1)
    permuted = data.draw(st.permutations(elements))
    assume(permuted != elements)
    bad = dataclasses.replace(proof, elements=tuple(permuted))
    assert_rejects(tree.root(), batch, bad, commitments_for(tree, batch), {"PREFIX-018"})


@st.composite
def wrong_result(draw: st.DrawFn, tree: PrefixTree, proof: PrefixProof) -> PrefixProof:
    """The proof with one result's type, depth or leaf changed."""
    i = draw(st.integers(0, len(proof.results) - 1))
    old = proof.results[i]
    how = draw(st.sampled_from(["type", "depth", "leaf"]))
    new: PrefixSearchResult
    if how == "type":
        kind = draw(st.sampled_from([k for k in T if k != old.result_type]))
        leaf = old.leaf
        if kind == T.nonInclusionLeaf and leaf is None:
            items = list(tree.items())
            assume(items)
            k, v = draw(st.sampled_from(items))
            leaf = PrefixLeaf(vrf_output=k, commitment=v)
        new = PrefixSearchResult(
            result_type=kind, leaf=leaf if kind == T.nonInclusionLeaf else None, depth=old.depth
        )
    elif how == "depth":
        depth = draw(st.integers(0, 16).filter(lambda d: d != old.depth))
        new = dataclasses.replace(old, depth=depth)
    else:
        items = [
            PrefixLeaf(vrf_output=k, commitment=v)
            for k, v in tree.items()
            if old.leaf is None or k != old.leaf.vrf_output
        ]
        assume(items)
        substitute = draw(st.sampled_from(items))
        new = PrefixSearchResult(result_type=T.nonInclusionLeaf, leaf=substitute, depth=old.depth)
    assume(new != old)
    results = list(proof.results)
    results[i] = new
    return dataclasses.replace(proof, results=tuple(results))


@pytest.mark.req("PREFIX-013", "PREFIX-014", "PREFIX-015", "PREFIX-016", "PREFIX-017", "PREFIX-018")
@given(case=proved(), data=st.data())
def test_rejects_a_wrong_result(
    case: tuple[PrefixTree, list[bytes], PrefixProof], data: st.DataObject
) -> None:
    tree, batch, proof = case
    bad = data.draw(wrong_result(tree, proof))
    # Give every search its real commitment, so an inclusion result has one to check.
    commitments = [tree.get(k) or c(10_000) for k in batch]
    assert_rejects(tree.root(), batch, bad, commitments)


@pytest.mark.req("PREFIX-018")
@given(case=proved(), data=st.data())
def test_rejects_a_wrong_commitment(
    case: tuple[PrefixTree, list[bytes], PrefixProof], data: st.DataObject
) -> None:
    tree, batch, proof = case
    included = [i for i, r in enumerate(proof.results) if r.result_type == T.inclusion]
    assume(included)
    i = data.draw(st.sampled_from(included))
    commitments = commitments_for(tree, batch)
    # Every search for that key gets the wrong commitment (else PREFIX-016 fires first).
    commitments = [
        c(10_001) if k == batch[i] else v for k, v in zip(batch, commitments, strict=True)
    ]
    # A nonInclusionLeaf result naming that leaf contradicts the commitment first.
    assert_rejects(tree.root(), batch, proof, commitments, {"PREFIX-016", "PREFIX-018"})


@pytest.mark.req("PREFIX-016", "PREFIX-018")
@given(case=proved(), data=st.data())
def test_rejects_an_inclusion_proof_for_another_key(
    case: tuple[PrefixTree, list[bytes], PrefixProof], data: st.DataObject
) -> None:
    tree, batch, proof = case
    included = [i for i, r in enumerate(proof.results) if r.result_type == T.inclusion]
    assume(included)
    i = data.draw(st.sampled_from(included))
    other = data.draw(KEY2.filter(lambda k: k != batch[i]))
    keys = [other if k == batch[i] else k for k in batch]
    commitments = [tree.get(batch[i]) if k == other else tree.get(k) for k in keys]
    with pytest.raises(VerificationError) as info:
        verify_prefix_proof(tree.root(), keys, proof, commitments)
    assert info.value.requirement is not None


@pytest.mark.req("PREFIX-012")
@given(case=proved())
def test_rejects_a_missing_or_extra_result(
    case: tuple[PrefixTree, list[bytes], PrefixProof],
) -> None:
    tree, batch, proof = case
    commitments = commitments_for(tree, batch)
    fewer = dataclasses.replace(proof, results=proof.results[:-1])
    assert_rejects(tree.root(), batch, fewer, commitments, {"PREFIX-012"})
    more = dataclasses.replace(proof, results=(*proof.results, proof.results[0]))
    assert_rejects(tree.root(), batch, more, commitments, {"PREFIX-012"})


FIGURE = [key5(b) for b in ["00010", "00101", "10001", "10111", "11011"]]


def figure() -> PrefixTree:
    return PrefixTree.from_leaves({k: c(i) for i, k in enumerate(FIGURE)})


@pytest.mark.req("PREFIX-013", "PREFIX-014", "PREFIX-015", "PREFIX-016")
def test_rejects_results_inconsistent_with_the_keys() -> None:
    tree = figure()
    root = tree.root()
    absent = key5("00011")  # ends at the leaf 00010, depth 3
    proof = tree.prove([absent])
    result = proof.results[0]
    assert result.result_type == T.nonInclusionLeaf

    def with_result(new: PrefixSearchResult) -> PrefixProof:
        return dataclasses.replace(proof, results=(new,))

    # The leaf found is the searched key itself.
    own = PrefixLeaf(vrf_output=absent, commitment=c(0))
    bad = with_result(dataclasses.replace(result, leaf=own))
    assert_rejects(root, [absent], bad, [None], {"PREFIX-014"})
    # The leaf does not share the prefix the search walked.
    far = PrefixLeaf(vrf_output=FIGURE[2], commitment=c(2))
    assert_rejects(
        root, [absent], with_result(dataclasses.replace(result, leaf=far)), [None], {"PREFIX-014"}
    )
    # A nonInclusionLeaf without its leaf, a leaf on another type, a reserved type.
    assert_rejects(
        root, [absent], with_result(dataclasses.replace(result, leaf=None)), [None], {"PREFIX-013"}
    )
    carrying = PrefixSearchResult(result_type=T.nonInclusionParent, leaf=own, depth=3)
    assert_rejects(root, [absent], with_result(carrying), [None], {"PREFIX-013"})
    reserved = PrefixSearchResult(result_type=T.reserved, depth=3)
    assert_rejects(root, [absent], with_result(reserved), [None], {"PREFIX-013"})
    # An inclusion result with no commitment to check it against.
    proof_in = tree.prove([FIGURE[0]])
    assert_rejects(root, [FIGURE[0]], proof_in, [None], {"PREFIX-015"})
    # Two searches for one key that disagree; a search ending on another's path.
    double = tree.prove([FIGURE[0], FIGURE[0]])
    split = dataclasses.replace(
        double, results=(double.results[0], dataclasses.replace(double.results[1], depth=2))
    )
    assert_rejects(root, [FIGURE[0]] * 2, split, [c(0), c(0)], {"PREFIX-016"})
    assert_rejects(root, [FIGURE[0]] * 2, double, [c(0), c(1)], {"PREFIX-016"})


@pytest.mark.req("PREFIX-013")
def test_rejects_a_depth_beyond_the_key() -> None:
    tree = PrefixTree(key_size=1).insert(b"\x00", c(1)).insert(b"\x01", c(2))
    proof = tree.prove([b"\x00"])
    assert proof.results[0].depth == 8
    deeper = dataclasses.replace(proof, results=(dataclasses.replace(proof.results[0], depth=9),))
    assert_rejects(tree.root(), [b"\x00"], deeper, [c(1)], {"PREFIX-013"})
    verify_prefix_proof(tree.root(), [b"\x00"], proof, [c(1)])


def test_caller_mistakes_are_usage_errors() -> None:
    tree = figure()
    proof = tree.prove(FIGURE[:2])
    with pytest.raises(UsageError):
        evaluate_prefix_proof([FIGURE[0], b"short"], proof, [c(0), c(1)])
    with pytest.raises(UsageError):
        evaluate_prefix_proof(FIGURE[:2], proof, [c(0)])


# -- before / after --------------------------------------------------------------------------


@st.composite
def mutations(draw: st.DrawFn) -> tuple[PrefixTree, list[PrefixLeaf], list[PrefixLeaf]]:
    keys = draw(st.lists(KEY2, max_size=20, unique=True))
    tree = tree2(keys)
    removed_keys = sorted(draw(st.lists(st.sampled_from(keys), unique=True)) if keys else [])
    replaced = draw(st.lists(st.sampled_from(removed_keys), unique=True)) if removed_keys else []
    fresh = draw(st.lists(KEY2.filter(lambda k: k not in keys), unique=True, max_size=6))
    added = [PrefixLeaf(vrf_output=k, commitment=c(50_000 + i)) for i, k in enumerate(fresh)]
    added += [PrefixLeaf(vrf_output=k, commitment=c(60_000)) for k in replaced]
    added.sort(key=lambda leaf: leaf.vrf_output)
    removed = [PrefixLeaf(vrf_output=k, commitment=tree.get(k) or ZERO) for k in removed_keys]
    assume(added or removed)
    return tree, added, removed


@pytest.mark.req("PREFIX-023", "PREFIX-025", "PREFIX-026")
@given(case=mutations())
def test_before_after_equals_rebuilding(
    case: tuple[PrefixTree, list[PrefixLeaf], list[PrefixLeaf]],
) -> None:
    tree, added, removed = case
    keys = [a.vrf_output for a in added] + [r.vrf_output for r in removed]
    proof = tree.prove(keys)
    result = evaluate_before_after(added, removed, proof, previous_root=tree.root())
    truth = tree.apply(added, removed).root()
    assert result.before == tree.root()
    if result.determined:
        assert result.after == truth
        assert result.uncovered == ()
    else:
        leaves = [u for u in result.uncovered if tree.leaf_at(u.prefix, u.depth)]
        assert result.after_given(leaves) == truth


@pytest.mark.req("PREFIX-025", "PREFIX-026")
def test_before_after_examples() -> None:
    a, b, d = key5("00"), key5("01"), key5("1")
    tree = PrefixTree.from_leaves({a: c(1), b: c(2), d: c(3)})
    leaf = PrefixLeaf(vrf_output=a, commitment=c(1))
    # Removing 00 leaves 01 alone under 0: it moves up, but the proof cannot tell.
    result = evaluate_before_after([], [leaf], tree.prove([a]))
    assert result.after is None
    assert [(u.depth, u.prefix) for u in result.uncovered] == [(2, key5("01"))]
    assert result.after_given(result.uncovered) == tree.remove(a).root()
    assert result.after_assuming_no_collapse != tree.remove(a).root()
    with pytest.raises(UsageError):
        result.after_given([dataclasses.replace(result.uncovered[0], depth=1)])
    # Removing both leaves under 0 with 1 supplied: determined; the zero stand-in case.
    two = PrefixTree.from_leaves({a: c(1), b: c(2)})
    both = [leaf, PrefixLeaf(vrf_output=b, commitment=c(2))]
    result = evaluate_before_after([], both, two.prove([a, b]))
    assert result.after == ZERO
    # Replacement in place.
    new = PrefixLeaf(vrf_output=a, commitment=c(9))
    result = evaluate_before_after([new], [leaf], tree.prove([a, a]))
    assert result.after == tree.replace(a, c(9)).root()
    # A first log entry: everything lands in the empty root slot.
    first = [PrefixLeaf(vrf_output=k, commitment=c(i)) for i, k in enumerate([a, b, d])]
    result = evaluate_before_after(first, [], PrefixTree().prove([a, b, d]))
    assert (result.before, result.after) == (ZERO, PrefixTree().apply(first, []).root())


@pytest.mark.req("PREFIX-020", "PREFIX-021", "PREFIX-022", "PREFIX-023", "PREFIX-024")
def test_before_after_rejections() -> None:
    a, b, d = key5("00"), key5("01"), key5("1")
    tree = PrefixTree.from_leaves({a: c(1), b: c(2)})
    la = PrefixLeaf(vrf_output=a, commitment=c(1))
    ld = PrefixLeaf(vrf_output=d, commitment=c(3))

    def rejects(
        requirement: str,
        added: list[PrefixLeaf],
        removed: list[PrefixLeaf],
        proof: PrefixProof,
        **kw: bytes,
    ) -> None:
        with pytest.raises(VerificationError) as info:
            evaluate_before_after(added, removed, proof, **kw)
        assert info.value.requirement == requirement, info.value.diagnostics()

    rejects("PREFIX-020", [ld, ld], [], tree.prove([d, d]))
    rejects("PREFIX-020", [], [la, la], tree.prove([a, a]))
    rejects("PREFIX-021", [la], [], tree.prove([a]))
    rejects("PREFIX-022", [], [ld], tree.prove([d]))
    rejects("PREFIX-023", [ld], [], tree.prove([d]), previous_root=c(77))
    rejects("PREFIX-012", [ld], [], tree.prove([]))
    # A proof the plain verifier accepts, but that shows a leaf beside an empty child.
    odd = PrefixProof(
        results=(PrefixSearchResult(result_type=T.inclusion, depth=1),), elements=(ZERO,)
    )
    root = parent_value(leaf_value(a, c(1)), ZERO)
    verify_prefix_proof(root, [a], odd, [c(1)])
    rejects("PREFIX-024", [], [la], odd)
    empty_pair = PrefixProof(
        results=(PrefixSearchResult(result_type=T.nonInclusionParent, depth=1),), elements=(ZERO,)
    )
    rejects("PREFIX-024", [ld], [], empty_pair)
