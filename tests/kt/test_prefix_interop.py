"""The prefix tree against katie's vectors: prefix-tree.json and prefix-mutation.json."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import ckv.interop.prefix_vectors  # noqa: F401 - registers the handlers until the lead wires it in
from ckv.interop import Status, run_file


@pytest.mark.req(
    "PREFIX-002",
    "PREFIX-005",
    "PREFIX-006",
    "PREFIX-008",
    "PREFIX-009",
    "PREFIX-010",
    "PREFIX-018",
)
def test_prefix_tree_vectors(interop_dir: Path) -> None:
    report = run_file(interop_dir / "prefix-tree.json")
    assert report.implemented
    failed = {n: o.detail for n, o in report.outcomes.items() if o.status is Status.FAIL}
    assert failed == {}
    assert report.count(Status.DIVERGENCE) == 0
    assert report.count(Status.PASS) == len(report.outcomes) == 11


@pytest.mark.req("PREFIX-003", "PREFIX-023", "PREFIX-025", "PREFIX-026")
def test_prefix_mutation_vectors(interop_dir: Path) -> None:
    report = run_file(interop_dir / "prefix-mutation.json")
    assert report.implemented
    failed = {n: o.detail for n, o in report.outcomes.items() if o.status is Status.FAIL}
    assert failed == {}
    divergences = {
        n: o.divergence for n, o in report.outcomes.items() if o.status is Status.DIVERGENCE
    }
    # IOP-P03: exactly the cases the vector marks `sibling_uncovered`.
    assert divergences == {"remove-beside-a-leaf": "IOP-P03", "remove-beside-a-parent": "IOP-P03"}
    assert report.count(Status.PASS) == 6


@pytest.mark.req("PREFIX-025")
def test_katie_reads_the_zero_element_as_a_node(interop_dir: Path) -> None:
    """IOP-P04: katie's value for remove-every-leaf is Hash(0x03 || 0 || 0), no collapse."""
    data = json.loads((interop_dir / "prefix-mutation.json").read_text(encoding="utf-8"))
    case = next(c for c in data["cases"] if c["name"] == "remove-every-leaf")
    assert case["expect"]["after"] == "00" * 32
    assert case["expect"]["peer_after"] == hashlib.sha256(b"\x03" + bytes(64)).hexdigest()
