"""The cryptographic layer against katie's vectors: commitment.json, vrf.json, tree-head.json."""

from __future__ import annotations

from pathlib import Path

import pytest

import ckv.interop.crypto_vectors  # noqa: F401 - registers the handlers
from ckv.interop import Status, run_file

FILES = {
    # file: (primitive, number of cases)
    "commitment.json": ("commitment", 7),
    "vrf.json": ("vrf", 11),
    "tree-head.json": ("tree-head", 9),
}


@pytest.mark.req(
    "SUITE-004",
    "SUITE-005",
    "SUITE-006",
    "SUITE-007",
    "SUITE-011",
    "SUITE-012",
    "SUITE-013",
    "SUITE-015",
    "SUITE-017",
    "SUITE-018",
    "SUITE-020",
    "SUITE-026",
)
@pytest.mark.parametrize("name", sorted(FILES))
def test_vector_file(interop_dir: Path, name: str) -> None:
    report = run_file(interop_dir / name)
    primitive, cases = FILES[name]
    assert report.implemented
    assert report.primitive == primitive
    failures = {n: o.detail for n, o in report.outcomes.items() if o.status is not Status.PASS}
    assert failures == {}
    assert report.count(Status.FAIL) == 0
    assert report.count(Status.DIVERGENCE) == 0
    assert report.count(Status.PASS) == cases


def test_must_reject_cases_are_rejected_for_the_right_reason(interop_dir: Path) -> None:
    expected = {
        "commitment.json": ("wrong-opening-does-not-verify", "SUITE-015"),
        "vrf.json": ("proof-for-another-version-does-not-verify", "SUITE-011"),
    }
    for name, (case, requirement) in expected.items():
        outcome = run_file(interop_dir / name).outcomes[case]
        assert outcome.status is Status.PASS
        assert requirement in outcome.detail
