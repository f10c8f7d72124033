"""The log tree against katie's vectors: log-math.json, log-tree.json, log-append.json."""

from __future__ import annotations

from pathlib import Path

import pytest

import ckv.interop.log_vectors  # noqa: F401 - registers the handlers
from ckv.interop import Status, run_file

FILES = {
    # file: (primitive, number of cases)
    "log-math.json": ("log-math", 1679),
    "log-tree.json": ("log-tree", 19),
    "log-append.json": ("log-append", 64),
}


@pytest.mark.req(
    "LOG-001",
    "LOG-002",
    "LOG-003",
    "LOG-004",
    "LOG-005",
    "LOG-006",
    "LOG-007",
    "LOG-009",
    "LOG-010",
    "LOG-011",
)
@pytest.mark.parametrize("name", sorted(FILES))
def test_vector_file(interop_dir: Path, name: str) -> None:
    report = run_file(interop_dir / name)
    primitive, cases = FILES[name]
    assert report.implemented
    assert report.primitive == primitive
    failures = {n: o.detail for n, o in report.outcomes.items() if o.status is Status.FAIL}
    assert failures == {}
    assert report.count(Status.FAIL) == 0
    assert report.count(Status.DIVERGENCE) == 0
    assert report.count(Status.PASS) == cases == len(report.outcomes)
