"""Vector kinds of the trees: log-tree batch proofs, prefix-tree proofs, binary ladders.

* ``kt.log-tree.verify`` -- verify a batch inclusion and consistency proof (§12.1)
  against retained full subtrees; output the root, the heads to retain, the cut root.
* ``kt.prefix-tree.verify`` -- verify a batch ``PrefixProof`` (§12.2) for a list of
  search keys against a root.
* ``kt.binary-ladder`` -- the versions of search and monitoring ladders (§5, §6.2,
  §8.1) and the user's reading of a ladder's outcomes, with the must-reject
  readings (too few or too many outcomes, contradictions, absent versions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ckv import binary_ladder as bl
from ckv import wire
from ckv.conformance._util import Rng, flip_bit, hexb
from ckv.conformance.schemas import HEX
from ckv.conformance.vectors import Note, VectorFile, VectorKind, register
from ckv.errors import UsageError
from ckv.log_tree import FullSubtrees, LogTree, verify_batch
from ckv.prefix_tree import PrefixTree, verify_prefix_proof
from ckv.wire.messages import PrefixProof, PrefixSearchResultType

__all__: list[str] = []

JSON = Any


def _obj(props: dict[str, JSON], optional: Sequence[str] = ()) -> JSON:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": sorted(k for k in props if k not in optional),
        "properties": props,
    }


_HEXES = {"type": "array", "items": HEX}
_UINT = {"type": "integer", "minimum": 0}

# -- kt.log-tree.verify -------------------------------------------------------------------

LOG_NOTES = {
    "ModifiedElement": Note("AUTH_BYPASS", "A bit of a proof element is flipped (LOG-009)."),
    "MissingElement": Note("PROOF_SHAPE", "The proof lacks an element (LOG-008)."),
    "ExtraElement": Note("PROOF_SHAPE", "The proof has an element too many (LOG-008)."),
    "ElementSize": Note("PROOF_SHAPE", "An element is not Hash.Nh bytes (LOG-008)."),
    "WrongLeaf": Note("AUTH_BYPASS", "A proven leaf value differs from the one in the tree."),
    "WrongRetained": Note(
        "ROLLBACK", "A retained head differs: the log is not an extension of it (LOG-010)."
    ),
    "WrongRoot": Note("AUTH_BYPASS", "The computed root differs from the trusted one (LOG-009)."),
    "BadRequest": Note("PROOF_SHAPE", "The request names no valid tree (LOG-012)."),
    "SwappedElements": Note("PROOF_SHAPE", "Two elements are in the wrong order (LOG-006)."),
}


def handle_log(request: JSON) -> JSON:
    """Reference handler of ``kt.log-tree.verify``."""
    retained = request.get("retained")
    kept = None
    if retained is not None:
        kept = FullSubtrees(int(retained["size"]), tuple(hexb(h) for h in retained["heads"]))
    leaves = {int(i): hexb(v) for i, v in request["leaves"]}
    if len(leaves) != len(request["leaves"]):
        raise UsageError("a leaf index is given twice", requirement="LOG-012")
    root = request.get("root")
    result = verify_batch(
        int(request["tree_size"]),
        [hexb(e) for e in request["proof"]],
        leaves,
        kept,
        expected_root=None if root is None else hexb(root),
        cut=request.get("cut"),
    )
    return {
        "root": result.root.hex(),
        "full_subtrees": [h.hex() for h in result.full_subtrees.heads],
        "cut_root": None if result.cut_root is None else result.cut_root.hex(),
    }


def _log_file() -> VectorFile:
    vf = VectorFile(
        path="kt/log-tree.json",
        kind="kt.log-tree.verify",
        short="log",
        description="Verify batch inclusion and consistency proofs of the log tree (KEYTRANS "
        "§12.1) with SHA-256; leaves are given as their leaf values.",
        parameters={"hash": "SHA-256"},
    )
    rng = Rng("ckv log tree vectors")
    tree = LogTree.from_leaves(rng(32) for _ in range(100))
    shapes: list[tuple[int, tuple[int, ...], int, int | None]] = [
        (1, (0,), 0, None),
        (2, (1,), 0, None),
        (3, (0, 2), 0, None),
        (7, (), 4, None),
        (8, (5,), 0, None),
        (13, (2, 3, 12), 5, None),
        (64, (63,), 32, None),
        (100, (0, 50, 99), 77, None),
        (100, (), 64, None),
        (100, (70,), 64, 90),
        (37, (4,), 21, 30),
    ]

    def add(  # noqa: PLR0917 - a row of the vector table
        name: str, what: str, reqs: Sequence[str], result: str, req: JSON, flags: Sequence[str] = ()
    ) -> None:
        vf.add_reference(
            handle_log,
            name=name,
            description=what,
            requirements=reqs,
            result=result,
            input=req,
            flags=flags,
        )

    for size, leaves, retained_size, cut in shapes:
        proof = [
            e.hex() for e in tree.batch_proof(leaves, retained_size, size=size, cut=cut).elements
        ]
        req: dict[str, Any] = {
            "tree_size": size,
            "leaves": [[i, tree.leaf(i).hex()] for i in leaves],
            "retained": None
            if retained_size == 0
            else {
                "size": retained_size,
                "heads": [h.hex() for h in tree.full_subtrees(retained_size).heads],
            },
            "proof": proof,
            "cut": cut,
            "root": None,
        }
        tag = f"size {size}, leaves {list(leaves)}, retained {retained_size}, cut {cut}"
        add(
            "valid",
            tag,
            ["LOG-004", "LOG-005", "LOG-006", "LOG-007", "LOG-011"]
            + (["LOG-014", "LOG-015"] if cut else []),
            "valid",
            req,
        )
        add(
            "trusted-root",
            f"{tag}, the trusted root given",
            ["LOG-009"],
            "valid",
            req | {"root": tree.root(size).hex()},
        )
        add(
            "wrong-root",
            f"{tag}, another trusted root",
            ["LOG-009"],
            "invalid",
            req | {"root": flip_bit(tree.root(size), 1).hex()},
            ["WrongRoot"],
        )
        if proof:
            for idx in sorted({0, len(proof) - 1}):
                mutated = list(proof)
                mutated[idx] = flip_bit(bytes.fromhex(proof[idx]), 4).hex()
                add(
                    "modified-element",
                    f"{tag}, element {idx} bit 4 flipped",
                    ["LOG-009"],
                    "invalid",
                    req | {"root": tree.root(size).hex(), "proof": mutated},
                    ["ModifiedElement"],
                )
            add(
                "missing-element",
                f"{tag}, last element removed",
                ["LOG-008"],
                "invalid",
                req | {"proof": proof[:-1]},
                ["MissingElement"],
            )
            add(
                "element-size",
                f"{tag}, element 0 one byte short",
                ["LOG-008"],
                "invalid",
                req | {"proof": [proof[0][:-2], *proof[1:]]},
                ["ElementSize"],
            )
            if len(proof) > 1 and proof[0] != proof[1]:
                add(
                    "swapped-elements",
                    f"{tag}, elements 0 and 1 swapped",
                    ["LOG-006", "LOG-009"],
                    "invalid",
                    req
                    | {"root": tree.root(size).hex(), "proof": [proof[1], proof[0], *proof[2:]]},
                    ["SwappedElements"],
                )
        add(
            "extra-element",
            f"{tag}, one element appended",
            ["LOG-008"],
            "invalid",
            req | {"proof": [*proof, rng(32).hex()]},
            ["ExtraElement"],
        )
        if leaves:
            i = leaves[0]
            bad = [[i, flip_bit(tree.leaf(i), 0).hex()], *req["leaves"][1:]]
            add(
                "wrong-leaf",
                f"{tag}, leaf {i}'s value altered",
                ["LOG-009"],
                "invalid",
                req | {"root": tree.root(size).hex(), "leaves": bad},
                ["WrongLeaf"],
            )
        if retained_size:
            heads = list(req["retained"]["heads"])
            heads[0] = flip_bit(bytes.fromhex(heads[0]), 7).hex()
            add(
                "wrong-retained",
                f"{tag}, first retained head altered",
                ["LOG-009", "LOG-010"],
                "invalid",
                req
                | {
                    "root": tree.root(size).hex(),
                    "retained": {"size": retained_size, "heads": heads},
                },
                ["WrongRetained"],
            )
    base: dict[str, Any] = {"leaves": [], "retained": None, "proof": [], "cut": None, "root": None}
    add(
        "bad-request",
        "tree size 0",
        ["LOG-012"],
        "invalid",
        base | {"tree_size": 0},
        ["BadRequest"],
    )
    add(
        "bad-request",
        "leaf index 5 in a tree of 5",
        ["LOG-012"],
        "invalid",
        base | {"tree_size": 5, "leaves": [[5, rng(32).hex()]]},
        ["BadRequest"],
    )
    return vf


# -- kt.prefix-tree.verify ----------------------------------------------------------------

PREFIX_NOTES = {
    "ModifiedElement": Note("AUTH_BYPASS", "A bit of a proof element is flipped (PREFIX-018)."),
    "MissingElement": Note("PROOF_SHAPE", "The proof lacks an element (PREFIX-017)."),
    "ExtraElement": Note("PROOF_SHAPE", "The proof has an element too many (PREFIX-017)."),
    "WrongCommitment": Note("AUTH_BYPASS", "An included key's commitment differs (PREFIX-015)."),
    "WrongRoot": Note("AUTH_BYPASS", "The proof is checked against another root (PREFIX-018)."),
    "ResultCount": Note(
        "PROOF_SHAPE", "The number of results differs from the keys' (PREFIX-012)."
    ),
    "WrongResultType": Note(
        "AUTH_BYPASS", "A result claims the wrong kind of answer (PREFIX-013)."
    ),
    "WrongDepth": Note(
        "PROOF_SHAPE", "A result's depth is not where the search ended (PREFIX-009)."
    ),
    "Truncated": Note("CODEC", "The proof's encoding is cut short (WIRE-004)."),
}


def handle_prefix(request: JSON) -> JSON:
    """Reference handler of ``kt.prefix-tree.verify``."""
    proof = wire.decode(PrefixProof, hexb(request["proof"]))
    commitments = [None if c is None else hexb(c) for c in request["commitments"]]
    verify_prefix_proof(
        hexb(request["root"]), [hexb(k) for k in request["keys"]], proof, commitments
    )
    return None


def _prefix_file() -> VectorFile:
    vf = VectorFile(
        path="kt/prefix-tree.json",
        kind="kt.prefix-tree.verify",
        short="prefix",
        description="Verify batch PrefixProofs (KEYTRANS §12.2) with SHA-256 and 32-byte keys; "
        "`commitments[i]` is the expected commitment of an included key, null for an absent one.",
        parameters={"hash": "SHA-256", "key_size": 32},
    )
    rng = Rng("ckv prefix tree vectors")
    present = {rng(32): rng(32) for _ in range(40)}
    tree = PrefixTree.from_leaves(present)
    root = tree.root()
    keys_present = list(present)

    def add(  # noqa: PLR0917 - a row of the vector table
        name: str,
        what: str,
        reqs: Sequence[str],
        result: str,
        keys: Sequence[bytes],
        commitments: Sequence[bytes | None],
        proof: bytes,
        root: bytes = root,
        flags: Sequence[str] = (),
    ) -> None:
        req = {
            "root": root.hex(),
            "keys": [k.hex() for k in keys],
            "commitments": [None if c is None else c.hex() for c in commitments],
            "proof": proof.hex(),
        }
        vf.add_reference(
            handle_prefix,
            name=name,
            description=what,
            requirements=reqs,
            result=result,
            input=req,
            flags=flags,
        )

    empty = PrefixTree()
    add(
        "valid",
        "no searches in an empty tree",
        ["PREFIX-007", "PREFIX-010"],
        "valid",
        [],
        [],
        wire.encode(empty.prove([])),
        empty.root(),
    )
    absent_key = rng(32)
    add(
        "valid",
        "one absent key in an empty tree",
        ["PREFIX-007"],
        "valid",
        [absent_key],
        [None],
        wire.encode(empty.prove([absent_key])),
        empty.root(),
    )
    batches = [
        [keys_present[0]],
        [rng(32)],
        [keys_present[1], rng(32), keys_present[2]],
        [keys_present[3], keys_present[3]],
        [*keys_present[4:12], rng(32), rng(32)],
    ]
    for bi, keys in enumerate(batches):
        commitments = [present.get(k) for k in keys]
        proof = tree.prove(keys)
        data = wire.encode(proof)
        tag = f"batch {bi}: {len(keys)} key(s), {sum(c is not None for c in commitments)} present"
        add(
            "valid",
            tag,
            ["PREFIX-008", "PREFIX-009", "PREFIX-010", "PREFIX-014", "PREFIX-015"],
            "valid",
            keys,
            commitments,
            data,
        )
        add(
            "wrong-root",
            f"{tag}; another root",
            ["PREFIX-018"],
            "invalid",
            keys,
            commitments,
            data,
            flip_bit(root, 3),
            ["WrongRoot"],
        )
        elements = list(proof.elements)
        if elements:
            for idx in sorted({0, len(elements) - 1}):
                mutated = [*elements]
                mutated[idx] = flip_bit(mutated[idx], 9)
                add(
                    "modified-element",
                    f"{tag}; element {idx} bit 9 flipped",
                    ["PREFIX-018"],
                    "invalid",
                    keys,
                    commitments,
                    wire.encode(replace(proof, elements=tuple(mutated))),
                    flags=["ModifiedElement"],
                )
            add(
                "missing-element",
                f"{tag}; last element removed",
                ["PREFIX-017"],
                "invalid",
                keys,
                commitments,
                wire.encode(replace(proof, elements=tuple(elements[:-1]))),
                flags=["MissingElement"],
            )
        add(
            "extra-element",
            f"{tag}; one element appended",
            ["PREFIX-017"],
            "invalid",
            keys,
            commitments,
            wire.encode(replace(proof, elements=(*elements, rng(32)))),
            flags=["ExtraElement"],
        )
        add(
            "result-count",
            f"{tag}; last result removed",
            ["PREFIX-012"],
            "invalid",
            keys,
            commitments,
            wire.encode(replace(proof, results=proof.results[:-1])),
            flags=["ResultCount"],
        )
        for i, c in enumerate(commitments):
            if c is not None:
                wrong = list(commitments)
                wrong[i] = flip_bit(c, 0)
                add(
                    "wrong-commitment",
                    f"{tag}; commitment of key {i} altered",
                    ["PREFIX-015", "PREFIX-018"],
                    "invalid",
                    keys,
                    wrong,
                    data,
                    flags=["WrongCommitment"],
                )
                break
        first = proof.results[0]
        deeper = replace(first, depth=first.depth + 1)
        add(
            "wrong-depth",
            f"{tag}; result 0 one level deeper",
            ["PREFIX-009", "PREFIX-018"],
            "invalid",
            keys,
            commitments,
            wire.encode(replace(proof, results=(deeper, *proof.results[1:]))),
            flags=["WrongDepth"],
        )
        if first.result_type is PrefixSearchResultType.inclusion:
            other = replace(first, result_type=PrefixSearchResultType.nonInclusionParent)
            add(
                "wrong-result-type",
                f"{tag}; inclusion claimed as nonInclusionParent",
                ["PREFIX-013", "PREFIX-018"],
                "invalid",
                keys,
                commitments,
                wire.encode(replace(proof, results=(other, *proof.results[1:]))),
                flags=["WrongResultType"],
            )
        add(
            "truncated",
            f"{tag}; encoding cut by one byte",
            ["WIRE-004"],
            "invalid",
            keys,
            commitments,
            data[:-1],
            flags=["Truncated"],
        )
    return vf


# -- kt.binary-ladder ---------------------------------------------------------------------

LADDER_NOTES = {
    "TooFewOutcomes": Note("PROOF_SHAPE", "The ladder stops before it decides (SEARCH-014)."),
    "TooManyOutcomes": Note("PROOF_SHAPE", "Outcomes follow the deciding lookup (SEARCH-012)."),
    "Contradiction": Note("AUTH_BYPASS", "No greatest version fits the outcomes (SEARCH-015)."),
    "AbsentInMonitoring": Note(
        "AUTH_BYPASS", "A monitoring ladder proves a version absent (SEARCH-017)."
    ),
    "MonitoringCount": Note(
        "PROOF_SHAPE", "A monitoring ladder has the wrong length (SEARCH-017)."
    ),
}


def handle_ladder(request: JSON) -> JSON:
    """Reference handler of ``kt.binary-ladder`` (operation in ``request["operation"]``)."""
    op = request["operation"]
    left = request.get("left_inclusion") or ()
    right = request.get("right_non_inclusion") or ()
    if op == "base":
        return {"versions": list(bl.base_binary_ladder(request["greatest"]))}
    if op == "search":
        versions = bl.search_binary_ladder(request["target"], request["greatest"], left, right)
        return {"versions": list(versions)}
    if op == "monitoring":
        return {"versions": list(bl.monitoring_binary_ladder(request["target"]))}
    if op == "interpret-search":
        reading = bl.interpret_search_ladder(request["target"], request["outcomes"], left, right)
        return {
            "verdict": reading.verdict,
            "looked_up": list(reading.looked_up),
            "lowest": reading.lowest,
            "highest": reading.highest,
        }
    if op == "verify-monitoring":
        return {
            "versions": list(bl.verify_monitoring_ladder(request["target"], request["outcomes"]))
        }
    msg = f"unknown ladder operation {op!r}"
    raise UsageError(msg)


def _ladder_file() -> VectorFile:
    vf = VectorFile(
        path="kt/binary-ladder.json",
        kind="kt.binary-ladder",
        short="ladder",
        description="Binary ladders (KEYTRANS §5, §6.2, §8.1): the versions looked up, and the "
        "user's reading of a ladder's outcomes (true = inclusion).",
        parameters={},
    )

    def add(  # noqa: PLR0917 - a row of the vector table
        name: str, what: str, reqs: Sequence[str], result: str, req: JSON, flags: Sequence[str] = ()
    ) -> None:
        full = {
            "greatest": None,
            "target": None,
            "outcomes": None,
            "left_inclusion": [],
            "right_non_inclusion": [],
        } | req
        vf.add_reference(
            handle_ladder,
            name=name,
            description=what,
            requirements=reqs,
            result=result,
            input=full,
            flags=flags,
        )

    for g in (None, 0, 1, 2, 5, 6, 7, 8, 100, 1000, 65535, 4294967294, 4294967295):
        add(
            "base",
            f"base ladder for greatest version {g}",
            ["SEARCH-011"],
            "valid",
            {"operation": "base", "greatest": g},
        )
    for target, g, left, right in [
        (0, 0, [], []),
        (5, 9, [], []),
        (9, 5, [], []),
        (7, 7, [3], []),
        (12, 40, [], [63]),
        (3, None, [], []),
    ]:
        add(
            "search",
            f"search ladder: target {target}, greatest {g}, left {left}, right {right}",
            ["SEARCH-012", "SEARCH-013"],
            "valid",
            {
                "operation": "search",
                "target": target,
                "greatest": g,
                "left_inclusion": left,
                "right_non_inclusion": right,
            },
        )
    for t in (0, 1, 6, 13, 1000):
        add(
            "monitoring",
            f"monitoring ladder for version {t}",
            ["SEARCH-016"],
            "valid",
            {"operation": "monitoring", "target": t},
        )
    for target, g in [(5, 9), (9, 5), (5, 5), (0, None), (300, 1000)]:
        versions = bl.search_binary_ladder(target, g)
        have = -1 if g is None else g
        outcomes = [v <= have for v in versions]
        req = {"operation": "interpret-search", "target": target, "outcomes": outcomes}
        tag = f"target {target}, greatest {g}"
        add("interpret", f"honest outcomes, {tag}", ["SEARCH-014"], "valid", req)
        add(
            "too-few",
            f"{tag}, last outcome missing",
            ["SEARCH-014"],
            "invalid",
            req | {"outcomes": outcomes[:-1]},
            ["TooFewOutcomes"],
        )
        add(
            "too-many",
            f"{tag}, an outcome after the verdict",
            ["SEARCH-012"],
            "invalid",
            req | {"outcomes": [*outcomes, True]},
            ["TooManyOutcomes"],
        )
    add(
        "contradiction",
        "left inclusion of 9 with right non-inclusion of 4",
        ["SEARCH-015"],
        "invalid",
        {
            "operation": "interpret-search",
            "target": 5,
            "outcomes": [],
            "left_inclusion": [9],
            "right_non_inclusion": [4],
        },
        ["Contradiction"],
    )
    for t in (0, 6, 13):
        versions = bl.monitoring_binary_ladder(t)
        req = {"operation": "verify-monitoring", "target": t, "outcomes": [True] * len(versions)}
        add("verify-monitoring", f"all inclusions for version {t}", ["SEARCH-017"], "valid", req)
        add(
            "monitoring-absent",
            f"version {t}: last lookup proven absent",
            ["SEARCH-017"],
            "invalid",
            req | {"outcomes": [True] * (len(versions) - 1) + [False]},
            ["AbsentInMonitoring"],
        )
        add(
            "monitoring-count",
            f"version {t}: one outcome too many",
            ["SEARCH-017"],
            "invalid",
            req | {"outcomes": [True] * (len(versions) + 1)},
            ["MonitoringCount"],
        )
    return vf


# -- kt.tree-math.accumulated ------------------------------------------------------------------

MATH_NOTES = {
    "SizeRange": Note("INPUT_RANGE", "A tree size outside 1 .. 2^64 - 1 (SEARCH-003)."),
}
#: The text lines each function folds into the digest, one per size (or version).
MATH_LINES = {
    "implicit-search-tree": "for n = 1 .. max: 'n root=R parents=P0,P1,...' where R is the "
    "root of the implicit binary search tree of n entries and Pi the parent of entry i "
    "(- for the root); one line per n, each ending in a newline",
    "frontier": "for n = 1 .. max: 'n frontier=F0,F1,...' with the frontier entries of a "
    "tree of n entries, left to right",
    "log-tree-full-subtrees": "for n = 1 .. max: 'n [s,e) [s,e) ...' with the leaf ranges of "
    "the full subtrees of a log tree of n leaves, left to right",
    "base-binary-ladder": "for g = 0 .. max: 'g v0,v1,...' with the versions of the base "
    "binary ladder for greatest version g",
}


def _math_lines(function: str, maximum: int) -> list[str]:
    from ckv import implicit_search_tree as ibst  # noqa: PLC0415
    from ckv.log_tree import full_subtrees  # noqa: PLC0415

    if function == "base-binary-ladder":
        return [f"{g} {','.join(map(str, bl.base_binary_ladder(g)))}" for g in range(maximum + 1)]
    ibst.check_size(maximum)
    lines = []
    for n in range(1, maximum + 1):
        if function == "implicit-search-tree":
            parents = ",".join(
                "-" if (p := ibst.parent(x, n)) is None else str(p) for x in range(n)
            )
            lines.append(f"{n} root={ibst.root(n)} parents={parents}")
        elif function == "frontier":
            lines.append(f"{n} frontier={','.join(map(str, ibst.frontier(n)))}")
        elif function == "log-tree-full-subtrees":
            lines.append(f"{n} " + " ".join(f"[{s},{s + w})" for s, w in full_subtrees(n)))
        else:
            msg = f"unknown function {function!r}"
            raise UsageError(msg)
    return lines


def handle_math(request: JSON) -> JSON:
    """Reference handler of ``kt.tree-math.accumulated``: SHA-256 over the lines."""
    import hashlib  # noqa: PLC0415

    lines = _math_lines(str(request["function"]), int(request["max"]))
    digest = hashlib.sha256("".join(f"{line}\n" for line in lines).encode()).hexdigest()
    return {"lines": len(lines), "sha256": digest}


def _math_file() -> VectorFile:
    vf = VectorFile(
        path="kt/tree-math.json",
        kind="kt.tree-math.accumulated",
        short="math",
        description="Accumulated tree math: the SHA-256 of text lines listing, for every size "
        "up to `max`, the values of one function (KEYTRANS §4.1, §3.2, §5). Lines: "
        + "; ".join(f"{k}: {v}" for k, v in MATH_LINES.items())
        + ". Numbers are decimal without leading zeros.",
        parameters={},
    )
    for function, maximum, reqs in [
        ("implicit-search-tree", 1, ["SEARCH-001"]),
        ("implicit-search-tree", 300, ["SEARCH-001"]),
        ("frontier", 300, ["SEARCH-001", "SEARCH-009"]),
        ("log-tree-full-subtrees", 1000, ["LOG-001", "LOG-004"]),
        ("base-binary-ladder", 2000, ["SEARCH-011"]),
    ]:
        vf.add_reference(
            handle_math,
            name=function,
            description=f"{function} for every size up to {maximum}",
            requirements=reqs,
            result="valid",
            input={"function": function, "max": maximum},
        )
    vf.add_reference(
        handle_math,
        name="size-range",
        description="the implicit search tree of 0 entries does not exist",
        requirements=["SEARCH-003"],
        result="invalid",
        input={"function": "implicit-search-tree", "max": 0},
        flags=["SizeRange"],
    )
    return vf


_LADDER_INPUT = _obj(
    {
        "operation": {
            "enum": ["base", "search", "monitoring", "interpret-search", "verify-monitoring"]
        },
        "greatest": {"anyOf": [_UINT, {"type": "null"}]},
        "target": {"anyOf": [_UINT, {"type": "null"}]},
        "outcomes": {"anyOf": [{"type": "array", "items": {"type": "boolean"}}, {"type": "null"}]},
        "left_inclusion": {"type": "array", "items": _UINT},
        "right_non_inclusion": {"type": "array", "items": _UINT},
    }
)

register(
    VectorKind(
        name="kt.log-tree.verify",
        description="Verify a log-tree batch proof (KEYTRANS §12.1).",
        generate=lambda: [_log_file()],
        input_schema=_obj(
            {
                "tree_size": _UINT,
                "leaves": {
                    "type": "array",
                    "items": {
                        "type": "array",
                        "prefixItems": [_UINT, HEX],
                        "minItems": 2,
                        "maxItems": 2,
                    },
                },
                "retained": {"anyOf": [{"type": "null"}, _obj({"size": _UINT, "heads": _HEXES})]},
                "proof": _HEXES,
                "cut": {"anyOf": [_UINT, {"type": "null"}]},
                "root": {"anyOf": [HEX, {"type": "null"}]},
            }
        ),
        output_schema=_obj(
            {"root": HEX, "full_subtrees": _HEXES, "cut_root": {"anyOf": [HEX, {"type": "null"}]}}
        ),
        notes=LOG_NOTES,
        handler=handle_log,
    )
)
register(
    VectorKind(
        name="kt.prefix-tree.verify",
        description="Verify a batch PrefixProof against a root (KEYTRANS §12.2).",
        generate=lambda: [_prefix_file()],
        input_schema=_obj(
            {
                "root": HEX,
                "keys": _HEXES,
                "commitments": {"type": "array", "items": {"anyOf": [HEX, {"type": "null"}]}},
                "proof": HEX,
            }
        ),
        output_schema={"type": "null"},
        notes=PREFIX_NOTES,
        handler=handle_prefix,
    )
)
register(
    VectorKind(
        name="kt.tree-math.accumulated",
        description="Accumulated tree math: one digest over every size up to a bound.",
        generate=lambda: [_math_file()],
        input_schema=_obj({"function": {"enum": sorted(MATH_LINES)}, "max": _UINT}),
        output_schema=_obj({"lines": _UINT, "sha256": HEX}),
        notes=MATH_NOTES,
        handler=handle_math,
    )
)
register(
    VectorKind(
        name="kt.binary-ladder",
        description="Binary ladders: versions looked up, and reading their outcomes "
        "(§5, §6.2, §8.1).",
        generate=lambda: [_ladder_file()],
        input_schema=_LADDER_INPUT,
        output_schema={
            "anyOf": [
                _obj({"versions": {"type": "array", "items": _UINT}}),
                _obj(
                    {
                        "verdict": {"enum": [-1, 0, 1]},
                        "looked_up": {"type": "array", "items": _UINT},
                        "lowest": {"type": "integer", "minimum": -1},
                        "highest": {"type": "integer", "minimum": -1},
                    }
                ),
            ]
        },
        notes=LADDER_NOTES,
        handler=handle_ladder,
    )
)
