"""The search-structure interop vectors all pass, or are documented divergences."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import ckv.interop.search_tree_vectors  # noqa: F401 - registers the handlers
from ckv.interop import Status, run_file

REPO = Path(__file__).resolve().parents[2]
NOTES = REPO / "spec" / "_includes" / "interop-search.md"

# file -> (cases, expected divergences)
FILES = {
    "ibst.json": (38, 0),
    "binary-ladder.json": (76, 0),
    "ladder-interpretation.json": (211, 0),
    "distinguished.json": (42, 0),
    "update-view.json": (190, 15),
}


@pytest.mark.req(
    "SEARCH-001",
    "SEARCH-002",
    "SEARCH-004",
    "SEARCH-011",
    "SEARCH-012",
    "SEARCH-013",
    "SEARCH-014",
    "SEARCH-016",
    "SEARCH-019",
    "SEARCH-020",
)
@pytest.mark.parametrize("name", sorted(FILES))
def test_vector_file(interop_dir: Path, name: str) -> None:
    report = run_file(interop_dir / name)
    assert report.implemented
    failures = {k: o.detail for k, o in report.outcomes.items() if o.status is Status.FAIL}
    assert failures == {}
    cases, divergences = FILES[name]
    assert len(report.outcomes) == cases
    assert report.count(Status.DIVERGENCE) == divergences
    documented = set(re.findall(r"\*\*(IOP-S\d\d)\b", NOTES.read_text(encoding="utf-8")))
    for outcome in report.outcomes.values():
        if outcome.status is Status.DIVERGENCE:
            assert outcome.divergence in documented
