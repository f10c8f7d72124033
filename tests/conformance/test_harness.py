"""The harness over real subprocess adapters: reference, Node.js, broken and misbehaving."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from ckv.conformance.harness import ExpectedFailures, load_expected_failures, run
from ckv.conformance.reports import write_reports
from ckv.conformance.vectors import load_vector_files
from ckv.errors import UsageError

PARSE = "ckv.public-code.parse/*"


@pytest.mark.req("CONF-013", "CONF-009", "CONF-010", "CONF-014")
def test_reference_adapter_passes_everything(vectors_dir: Path, reference_cmd: list[str]) -> None:
    """Every case of the suite passes through the reference adapter, as a subprocess."""
    report = run(reference_cmd, vectors_dir, strict_errors=True)
    total = sum(doc["count"] for _, doc in load_vector_files(vectors_dir))
    failures = [(r.id, r.detail) for r in report.results if r.outcome != "pass"]
    assert failures == []
    assert len(report.results) == total
    assert report.ok


@pytest.mark.req("CONF-009", "CONF-010")
def test_node_adapter_passes_what_it_supports(vectors_dir: Path, node_cmd: list[str]) -> None:
    """The Node.js implementation passes the wire and public-code kinds; the rest is unsupported."""
    report = run(node_cmd, vectors_dir, strict_errors=True)
    assert report.ok, [(r.id, r.detail) for r in report.results if r.outcome == "fail"][:5]
    supported = {r.kind for r in report.results if r.outcome == "pass"}
    assert supported == {
        "wire.decode",
        "wire.encode",
        "ckv.public-code.derive",
        "ckv.public-code.parse",
        "kt.tree-math.accumulated",
    }
    assert report.count("pass") > 1000
    assert report.count("unsupported") > 0


@pytest.mark.req("CONF-010", "SUITE-005", "SUITE-018")
def test_suite_fails_an_adapter_that_skips_signature_checks(
    vectors_dir: Path, broken_cmd: Callable[[str], list[str]]
) -> None:
    report = run(
        broken_cmd("skip_signature_check"),
        vectors_dir,
        select=["suite.signature.verify/*", "kt.tree-head.verify/*", "kt.client.session/ed25519-*"],
    )
    assert not report.ok
    failed = {r.id for r in report.results if r.outcome == "fail"}
    assert any(i.startswith("suite.signature.verify/") for i in failed)
    assert any(i.startswith("kt.tree-head.verify/") for i in failed)
    assert "kt.client.session/ed25519-modified-signature-1" in failed


@pytest.mark.req("CONF-010", "WIRE-008")
def test_suite_fails_an_adapter_that_accepts_noncanonical_encodings(
    vectors_dir: Path, broken_cmd: Callable[[str], list[str]]
) -> None:
    report = run(broken_cmd("accept_noncanonical"), vectors_dir, select=["wire.decode/*"])
    assert not report.ok
    failed = [r for r in report.results if r.outcome == "fail"]
    assert failed
    assert all("trailing-bytes" in r.id for r in failed)


@pytest.mark.req("CONF-010", "CONF-011")
def test_expected_failures_are_strict(
    tmp_path: Path,
    vectors_dir: Path,
    broken_cmd: Callable[[str], list[str]],
    reference_cmd: list[str],
) -> None:
    """Listed failures become xfail and the run passes; a listed case that passes fails the run."""
    listing = tmp_path / "broken.txt"
    listing.write_text(
        "# the broken adapter ignores trailing bytes\n"
        "wire.decode/*-trailing-bytes-*  trailing bytes are ignored on purpose\n",
        encoding="utf-8",
    )
    xfails = load_expected_failures(listing)
    report = run(
        broken_cmd("accept_noncanonical"),
        vectors_dir,
        select=["wire.decode/treehead.*", "wire.decode/searchrequest.*"],
        expected_failures=xfails,
    )
    assert report.ok
    assert report.count("xfail") > 0
    assert report.count("fail") == 0
    honest = run(
        reference_cmd, vectors_dir, select=["wire.decode/treehead.*"], expected_failures=xfails
    )
    assert not honest.ok
    assert honest.count("xpass") > 0


def test_expected_failure_needs_a_reason(tmp_path: Path) -> None:
    listing = tmp_path / "x.txt"
    listing.write_text("wire.decode/*\n", encoding="utf-8")
    with pytest.raises(UsageError, match="reason"):
        load_expected_failures(listing)
    assert ExpectedFailures((("a/*", "why"),)).reason("a/b-1") == "why"


@pytest.mark.req("CONF-012")
@pytest.mark.parametrize(
    ("mode", "detail"),
    [("hang", "timeout"), ("exit", "exited"), ("garbage", "not a JSON"), ("badid", "another")],
)
def test_misbehaving_adapter_fails_the_case_and_is_restarted(
    vectors_dir: Path, fake_cmd: Callable[[str, str], list[str]], mode: str, detail: str
) -> None:
    trigger = "parse-canonical-2"
    report = run(fake_cmd(mode, trigger), vectors_dir, select=[PARSE], timeout=1.0)
    bad = [r for r in report.results if r.outcome == "fail"]
    assert [r.id for r in bad] == [f"ckv.public-code.parse/{trigger}"]
    assert detail in bad[0].detail
    assert report.restarts == 1
    assert report.count("pass") == len(report.results) - 1
    assert not report.ok


@pytest.mark.req("CONF-010")
def test_wrong_answer_fails_and_unsupported_kinds_are_skipped(
    vectors_dir: Path, fake_cmd: Callable[[str, str], list[str]]
) -> None:
    report = run(
        fake_cmd("wrong", "parse-empty-1"),
        vectors_dir,
        select=[PARSE, "kt.vrf.verify/*"],
    )
    assert [r.id for r in report.results if r.outcome == "fail"] == [
        "ckv.public-code.parse/parse-empty-1"
    ]
    assert report.count("unsupported") == sum(
        1 for r in report.results if r.kind == "kt.vrf.verify"
    )
    assert not report.ok


@pytest.mark.req("CONF-004", "CONF-010")
def test_wrong_output_fails(vectors_dir: Path, fake_cmd: Callable[[str, str], list[str]]) -> None:
    report = run(fake_cmd("output", "parse-lower-case-1"), vectors_dir, select=[PARSE])
    bad = [r for r in report.results if r.outcome == "fail"]
    assert [r.id for r in bad] == ["ckv.public-code.parse/parse-lower-case-1"]
    assert "output differs" in bad[0].detail


@pytest.mark.req("CONF-010")
def test_reports(
    tmp_path: Path, vectors_dir: Path, fake_cmd: Callable[[str, str], list[str]]
) -> None:
    report = run(fake_cmd("wrong", "parse-canonical-1"), vectors_dir, select=[PARSE])
    paths = write_reports(report, tmp_path)
    root = ET.parse(paths["junit"]).getroot()
    assert root.tag == "testsuites"
    assert len(root.findall(".//testcase")) == len(report.results)
    assert len(root.findall(".//failure")) == 1
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["summary"]["fail"] == 1
    assert data["requirements"]["PVC-009"]["status"] == "fail"
    assert data["requirements"]["PVC-016"]["status"] == "pass"
    html = paths["html"].read_text(encoding="utf-8")
    assert "FAILED" in html
    assert "parse-canonical-1" in html


@pytest.mark.req("CONF-011")
def test_committed_expected_failure_files_parse() -> None:
    from ckv.conformance.vectors import REPO

    files = sorted((REPO / "conformance" / "expected-failures").glob("*.txt"))
    assert files
    for path in files:
        load_expected_failures(path)


@pytest.mark.req("CONF-014", "OPS-010")
def test_sessions_catch_state_lost_on_rejection(
    vectors_dir: Path, fake_cmd: Callable[[str, str], list[str]]
) -> None:
    """An implementation whose state a rejected response changes fails the must-reject sessions."""
    report = run(fake_cmd("forgetful", "-"), vectors_dir, select=["kt.client.session/ed25519-*"])
    outcomes = {r.id: r.outcome for r in report.results}
    assert outcomes["kt.client.session/ed25519-search-twice-1"] == "pass"
    assert outcomes["kt.client.session/ed25519-modified-signature-1"] == "fail"
    assert not report.ok
