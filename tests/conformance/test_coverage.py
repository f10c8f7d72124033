"""Requirement coverage: the table, and the MUSTs this suite is responsible for."""

from __future__ import annotations

import pytest

from ckv.conformance.coverage import collect, read_requirements, render_table
from ckv.conformance.vectors import REPO


@pytest.mark.req("CONF-015")
def test_coverage_table() -> None:
    cov = collect()
    table = render_table(cov)
    assert any("MUST level" in line for line in table.splitlines()[-2:])
    # The vectors cite only requirements the spec defines (tests elsewhere are not ours).
    assert [r for r in cov.unknown if cov.vectors.get(r)] == []
    # Every MUST of the areas the vectors are about is covered by something.
    areas = ("WIRE-", "SUITE-", "LOG-", "PREFIX-", "SEARCH-", "OPS-", "FORK-", "PVC-", "CONF-")
    missing = [r for r in cov.uncovered_musts() if r.startswith(areas)]
    assert missing == []
    cited = {r for r in cov.vectors if cov.vectors[r]}
    assert {"WIRE-004", "WIRE-008", "SUITE-018", "LOG-009", "PREFIX-018", "PVC-011"} <= cited


@pytest.mark.req("CONF-015")
def test_levels_are_read_from_the_spec() -> None:
    reqs = read_requirements(REPO / "spec")
    assert reqs["CONF-004"].level == "MUST"
    assert reqs["CONF-004"].must
    assert all(r.source.endswith(".md") for r in reqs.values())
