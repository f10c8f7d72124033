"""Every encoding katie recorded decodes as the struct it is and re-encodes byte-identically."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ckv import wire
from ckv.interop.wire_vectors import REQUEST_KINDS
from ckv.wire import messages

TREE_HEAD_FIELDS = {
    "configuration": "Configuration",
    "tree_head": "TreeHead",
    "tree_head_tbs": "TreeHeadTBS",
    "full_tree_head_same": "FullTreeHead",
    "full_tree_head_updated": "FullTreeHead",
    "auditor_tree_head": "AuditorTreeHead",
    "auditor_tree_head_tbs": "AuditorTreeHeadTBS",
}


def _cases(directory: Path, name: str) -> list[dict[str, object]]:
    data = json.loads((directory / name).read_text(encoding="utf-8"))
    cases: list[dict[str, object]] = data["cases"]
    return cases


def _roundtrip(struct: str, hex_bytes: str, **ctx: object) -> None:
    encoded = bytes.fromhex(hex_bytes)
    value = wire.decode(struct, encoded, **ctx)
    assert type(value).__name__ == struct
    assert wire.encode(value, **ctx) == encoded


@pytest.mark.req("WIRE-001", "WIRE-002", "WIRE-003", "WIRE-013")
def test_every_request_encoding(interop_dir: Path) -> None:
    cases = _cases(interop_dir, "requests.json")
    seen = set()
    for case in cases:
        inp = case["input"]
        assert isinstance(inp, dict)
        struct = REQUEST_KINDS[inp["kind"]]
        seen.add(struct)
        _roundtrip(struct, case["expect"]["encoding"], mode=inp.get("mode", 1))
    assert len(cases) == 22
    assert seen == set(REQUEST_KINDS.values())


def test_every_tree_head_encoding(interop_dir: Path) -> None:
    count = 0
    for case in _cases(interop_dir, "tree-head.json"):
        mode = messages.DeploymentMode(case["input"]["mode"])
        for key, struct in TREE_HEAD_FIELDS.items():
            if key in case["expect"]:
                _roundtrip(struct, case["expect"][key], mode=mode)
                count += 1
    assert count == 9 * 5 + 3 * 2


def test_request_fields_match_the_vector_inputs(interop_dir: Path) -> None:
    """Decoded field values are the ones the vector says it encoded."""
    for case in _cases(interop_dir, "requests.json"):
        inp = case["input"]
        assert isinstance(inp, dict)
        if inp["kind"] != "search-request":
            continue
        value = wire.decode(messages.SearchRequest, bytes.fromhex(case["expect"]["encoding"]))
        assert value.label == bytes.fromhex(inp["label"])
        assert value.last == inp.get("last")
        assert value.version == inp.get("version")


@pytest.mark.parametrize("name", ["search.json", "monitor.json", "update.json"])
def test_recorded_responses_and_proofs(interop_dir: Path, name: str) -> None:
    """Responses, combined proofs and prefix proofs served by katie's live log."""
    count = 0
    for case in _cases(interop_dir, name):
        inp, exp = case["input"], case["expect"]
        assert isinstance(inp, dict)
        assert isinstance(exp, dict)
        if "response" in exp:
            if name == "search.json":
                struct = "SearchResponse"
                ctx = {"SearchRequest.version": "present" if "version" in inp else "absent"}
            else:
                struct = {
                    "contact": "ContactMonitorResponse",
                    "owner-init": "OwnerInitResponse",
                    "owner-monitor": "OwnerMonitorResponse",
                }[inp.get("operation", "contact")]
                ctx = {}
            _roundtrip(struct, exp["response"], mode=inp["mode"], context=ctx)
            count += 1
        if "proof" in exp:
            _roundtrip("CombinedTreeProof", exp["proof"])
            count += 1
        for proof in exp.get("prefix_proofs", []):
            _roundtrip("PrefixProof", proof["encoding"])
            count += 1
    assert count > 10
