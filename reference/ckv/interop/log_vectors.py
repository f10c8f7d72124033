"""Interop cases of the log tree: ``log-math.json``, ``log-tree.json``, ``log-append.json``.

Each handler recomputes what the vector records from the vector's inputs alone, and
for ``log-tree`` also verifies every recorded proof as a user would: against the
full subtrees of the retained size (rebuilt leaf by leaf, not taken from the
prover) and the recorded root.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ckv import log_tree
from ckv.errors import CKVError
from ckv.interop import Case, CaseOutcome, FileMeta, handler
from ckv.wire.codec import codec_for
from ckv.wire.messages import CipherSuite, InclusionProof, LogEntry

__all__ = ["run_log_append_case", "run_log_math_case", "run_log_tree_case"]


def _suite(meta: FileMeta) -> CipherSuite:
    # log-tree.json and log-math.json name no suite; every vector file uses suite 2.
    return CipherSuite(meta.get("cipher_suite", CipherSuite.KT_128_SHA256_Ed25519))


def _entries(raw: Sequence[Mapping[str, Any]]) -> list[LogEntry]:
    return [
        LogEntry(timestamp=int(e["timestamp"]), prefix_tree=bytes.fromhex(e["prefix_tree"]))
        for e in raw
    ]


def _hexes(values: Sequence[bytes]) -> list[str]:
    return [v.hex() for v in values]


@handler("log-math")
def run_log_math_case(meta: FileMeta, case: Case) -> CaseOutcome:
    """Full-subtree and batch-copath node indices (LOG-001, LOG-005, LOG-006)."""
    del meta
    inp = case["input"]
    want = list(case["expect"]["indices"])
    try:
        if inp["kind"] == "full-subtrees":
            got = log_tree.full_subtree_indices(int(inp["size"]))
        elif inp["kind"] == "batch-copath":
            got = log_tree.batch_copath_indices(
                int(inp["size"]), [int(x) for x in inp["leaves"]], int(inp.get("retained_size", 0))
            )
        else:
            return CaseOutcome.failed(f"unknown kind {inp['kind']!r}")
    except CKVError as exc:
        return CaseOutcome.failed(exc.diagnostics())
    if got != want:
        return CaseOutcome.failed(f"indices {got}, vector has {want}")
    return CaseOutcome.passed()


@handler("log-tree")
def run_log_tree_case(meta: FileMeta, case: Case) -> CaseOutcome:
    """Leaf values, root, full subtrees, and every batch proof: built and verified."""
    suite = _suite(meta)
    codec = codec_for(suite)
    hash_fn = log_tree.hash_for_suite(suite)
    expect = case["expect"]
    try:
        tree = log_tree.LogTree(hash_fn=hash_fn)
        values = [tree.append_entry(e, suite=suite) for e in _entries(case["input"]["entries"])]
        if _hexes(values) != list(expect["leaf_values"]):
            return CaseOutcome.failed("leaf values differ from the vector's")
        if tree.root().hex() != expect["root"]:
            return CaseOutcome.failed(f"root {tree.root().hex()}, vector has {expect['root']}")
        if _hexes(tree.full_subtrees().heads) != list(expect["full_subtrees"]):
            return CaseOutcome.failed("full subtree heads differ from the vector's")
        requests = case["input"]["requests"]
        proofs = expect["proofs"]
        if len(requests) != len(proofs):
            return CaseOutcome.failed(f"{len(requests)} requests but {len(proofs)} proofs")
        root = bytes.fromhex(expect["root"])
        for number, (request, recorded) in enumerate(zip(requests, proofs, strict=True)):
            leaves = [int(x) for x in request["proven_leaves"]]
            retained_size = int(request.get("retained_size", 0))
            what = f"request {number} (leaves {leaves}, retained size {retained_size})"
            # The prover's side: the same elements, encoded to the same bytes.
            proof = tree.batch_proof(leaves, retained_size)
            if _hexes(proof.elements) != list(recorded["elements"]):
                return CaseOutcome.failed(f"{what}: elements differ from the vector's")
            if codec.encode(proof).hex() != recorded["proof"]:
                return CaseOutcome.failed(f"{what}: proof encoding differs from the vector's")
            # The user's side: decode katie's bytes and verify them.
            decoded = codec.decode(InclusionProof, bytes.fromhex(recorded["proof"]))
            retained = (
                log_tree.FullSubtrees.from_leaves(values[:retained_size], hash_fn=hash_fn)
                if retained_size
                else None
            )
            result = log_tree.verify_batch(
                tree.size,
                decoded,
                {i: values[i] for i in leaves},
                retained,
                expected_root=root,
                hash_fn=hash_fn,
            )
            if _hexes(result.full_subtrees.heads) != list(expect["full_subtrees"]):
                return CaseOutcome.failed(f"{what}: verifier would retain other heads")
    except CKVError as exc:
        return CaseOutcome.failed(exc.diagnostics())
    return CaseOutcome.passed()


@handler("log-append")
def run_log_append_case(meta: FileMeta, case: Case) -> CaseOutcome:
    """An auditor's append: heads only, then the root they fold to (§15.2, LOG-001)."""
    suite = _suite(meta)
    hash_fn = log_tree.hash_for_suite(suite)
    inp = case["input"]
    expect = case["expect"]
    size = int(inp["size"])
    leaves = [bytes.fromhex(x) for x in inp["leaves"]]
    try:
        entries = _entries(inp["entries"])
        if len(leaves) != size or len(entries) != 1:
            return CaseOutcome.failed("the case must carry every leaf and the one new entry")
        new_leaf = log_tree.leaf_value(entries[0], suite=suite)
        if new_leaf != leaves[-1]:
            return CaseOutcome.failed(f"new leaf {new_leaf.hex()}, vector has {leaves[-1].hex()}")
        before = log_tree.FullSubtrees.from_leaves(leaves[:-1], hash_fn=hash_fn)
        after = before.append(new_leaf, hash_fn=hash_fn)
        if _hexes(after.heads) != list(expect["full_subtrees"]):
            return CaseOutcome.failed("full subtree heads differ from the vector's")
        if after.root(hash_fn=hash_fn).hex() != expect["root"]:
            return CaseOutcome.failed(f"root {after.root(hash_fn=hash_fn).hex()} differs")
        # The same root the long way round: from every leaf.
        full = log_tree.LogTree.from_leaves(leaves, hash_fn=hash_fn)
        if full.root().hex() != expect["root"] or full.full_subtrees() != after:
            return CaseOutcome.failed("the full tree disagrees with the auditor's heads")
    except CKVError as exc:
        return CaseOutcome.failed(exc.diagnostics())
    return CaseOutcome.passed()
