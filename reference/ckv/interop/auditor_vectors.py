"""Interop cases for the Third-Party Auditor: ``auditor-update.json`` (KEYTRANS §15.2)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ckv import implicit_search_tree as ibst
from ckv.auditing import AuditorState, audit
from ckv.errors import CKVError
from ckv.interop import Case, CaseOutcome, FileMeta, handler
from ckv.log_tree import FullSubtrees, sha256
from ckv.prefix_tree import PrefixTree, evaluate_before_after
from ckv.wire import codec_for
from ckv.wire.messages import AuditorUpdate, CipherSuite, LogEntry, PrefixLeaf

#: katie's refusal wording -> the CKV requirement whose check must refuse the same update.
PEER_REASONS = {
    "update timestamp is less than rightmost timestamp": "AUDIT-001",
    "list of added prefix tree entries is invalid": "AUDIT-002",
    "wrong number of copath nodes provided": "AUDIT-003",
    "prefix tree leaf is not eligible for removal": "AUDIT-004",
    "unexpected number of prefix proof results": "PREFIX-012",
    "proof shows inclusion for added leaf": "PREFIX-021",
    "proof shows non-inclusion for removed leaf": "PREFIX-022",
}


def _leaves(items: Iterable[Mapping[str, str]]) -> tuple[PrefixLeaf, ...]:
    return tuple(
        PrefixLeaf(
            vrf_output=bytes.fromhex(x["vrf_output"]), commitment=bytes.fromhex(x["commitment"])
        )
        for x in items
    )


def _state(inp: Mapping[str, Any]) -> AuditorState:
    """The auditor state the case starts from, as katie's auditor held it."""
    size = int(inp["log_size"])
    heads = tuple(bytes.fromhex(h) for h in inp["log_full_subtrees"])
    stamps = list(inp["frontier_timestamps"])
    frontier = tuple(zip(ibst.frontier(size), stamps, strict=True)) if size else ()
    entries = _leaves(inp["entries"])
    tree = PrefixTree.from_leaves((leaf.vrf_output, leaf.commitment) for leaf in entries)
    pending = tuple((int(x["position"]), bytes.fromhex(x["vrf_output"])) for x in inp["inserted"])
    return AuditorState(
        FullSubtrees(size, heads), frontier, bytes.fromhex(str(inp["prefix_root"])), pending, tree
    )


@handler("auditor-update")
def run_auditor_case(meta: FileMeta, case: Case) -> CaseOutcome:
    """Replay katie's auditor: same verdict, and for an accepted update the same log root."""
    codec = codec_for(CipherSuite(meta.get("cipher_suite", 2)))
    inp, exp = case["input"], case["expect"]
    encoded = bytes.fromhex(exp["encoding"])
    update = codec.decode(AuditorUpdate, encoded)
    if codec.encode(update) != encoded:  # pragma: no cover - the codec is canonical
        return CaseOutcome.failed("the AuditorUpdate does not re-encode byte-identically")
    if (
        update.timestamp != inp["timestamp"]
        or update.added != _leaves(inp["added"])
        or update.removed != _leaves(inp["removed"])
    ):
        return CaseOutcome.failed("the encoding does not carry the case's timestamp and leaves")
    state = _state(inp)
    if state.prefix_tree is not None and state.prefix_tree.root() != state.prefix_root:
        return CaseOutcome.failed("the case's entries do not build its prefix_root")
    try:
        result = audit(state, update, rmw=int(inp["window"]))
    except CKVError as exc:
        if exp["verdict"] != "rejected":
            return CaseOutcome.failed(f"katie accepts, CKV rejects: {exc.diagnostics()}")
        # The refusal must come from the same check as katie's.
        expected = PEER_REASONS.get(str(exp.get("peer_detail")))
        if expected is None or exc.requirement != expected:
            return CaseOutcome.failed(
                f"rejected by {exc.requirement}, katie by "
                f"{exp.get('peer_detail')!r} (expected {expected})"
            )
        return CaseOutcome.passed(f"rejected: {exc.diagnostics()}")
    if exp["verdict"] == "rejected":
        return CaseOutcome.failed(f"katie rejects ({exp.get('peer_detail')}), CKV accepts")
    if result.tree_size != exp["tree_size"]:
        return CaseOutcome.failed(f"tree size {result.tree_size} != {exp['tree_size']}")
    if result.log_root.hex() == exp["log_root"]:
        return CaseOutcome.passed()
    # IOP-P03 (OR13-kt DRAFT-04): where the proof leaves the new prefix root open,
    # katie assumes no collapse; CKV's auditor settles it from its own tree. It is a
    # known divergence only if katie's root is exactly the one that guess produces.
    ba = evaluate_before_after(
        update.added, update.removed, update.proof, previous_root=state.prefix_root
    )
    if not ba.determined:
        guessed = LogEntry(timestamp=update.timestamp, prefix_tree=ba.after_assuming_no_collapse)
        log = state.log.append(sha256(codec.encode(guessed)))
        if log.root().hex() == exp["log_root"]:
            return CaseOutcome.diverges(
                "IOP-P03",
                "katie's log root is built on the no-collapse guess; CKV's is "
                "built on the prefix tree the log actually holds",
            )
    return CaseOutcome.failed(f"log root {result.log_root.hex()} != {exp['log_root']}")
