"""The specification builds with warnings as errors, and its checks bite."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

#: The `sphinx` fixture of tests/spec/conftest.py: (src, out, *options) -> process.
Sphinx = Callable[..., subprocess.CompletedProcess[str]]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built(spec_build: tuple[Path, subprocess.CompletedProcess[str]]) -> Path:
    out, proc = spec_build
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.req("CONV-001")
def test_spec_builds_with_warnings_as_errors(built: Path) -> None:
    assert (built / "index.html").is_file()
    assert (built / "wire-format.html").is_file()


def test_requirements_are_exported(built: Path) -> None:
    reqs = {r["id"]: r for r in json.loads((built / "requirements.json").read_text())}
    for n in range(1, 14):
        rid = f"WIRE-{n:03d}"
        assert rid in reqs, rid
        assert reqs[rid]["level"] in {"MUST", "MUST NOT", "SHOULD", "SHOULD NOT"}
        assert reqs[rid]["uri"].startswith("wire-format.html#req-")


def test_generated_pages(built: Path) -> None:
    coverage = (built / "coverage.html").read_text()
    assert "WIRE-004" in coverage
    # Requirement -> test, vector file (links into the traceability page) ...
    assert 'href="traceability.html#test-tests-wire-test-codec-py-test-truncation-names' in coverage
    assert 'href="traceability.html#vec-ckv-public-code-parse-json"' in coverage
    # ... and back: test and vector file -> requirement anchors.
    trace = (built / "traceability.html").read_text()
    assert 'id="test-tests-wire-test-codec-py-test-truncation-names-the-field-and-what' in trace
    assert 'id="vec-ckv-public-code-parse-json"' in trace
    assert 'href="ckv/public-code.html#req-PVC-010"' in trace
    assert 'href="wire-format.html#req-WIRE-004"' in trace
    data = {r["id"]: r for r in json.loads((built / "requirements.json").read_text())}
    assert data["PVC-010"]["vectors"]
    assert data["WIRE-004"]["tests"]
    cli = (built / "cli.html").read_text()
    assert "ckv interop keytrans" in cli
    assert "--require-all" in cli
    flows = (built / "kt" / "flows.html").read_text()
    assert flows.count("<svg") >= 10


def test_struct_listings_come_from_the_tls_files(built: Path) -> None:
    html = (built / "wire-format.html").read_text()
    assert "From spec/wire/user-operations.tls" in html
    assert "SearchResponse" in html


def _project(tmp_path: Path, body: str) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "index.md").write_text("# Test\n\n" + body + "\n")
    return src


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("An implementation MUST do this.", "normative statement without a requirement ID"),
        ("Senders SHOULD NOT do that.", "normative statement without a requirement ID"),
        ("{req}`X-001` This is only informative.", "has no BCP 14 key word"),
        ("{req}`lowercase` It MUST work.", "malformed requirement ID"),
        ("```tls\nstruct { uint8 a; } X;\n```", "hand-written `tls` listing"),
        ("```{tls-struct} NoSuchStruct\n```", "not defined in spec/wire"),
    ],
)
def test_spec_checks_fail_the_build(
    tmp_path: Path, body: str, message: str, sphinx: Sphinx
) -> None:
    proc = sphinx(_project(tmp_path, body), tmp_path / "out", "-D", "ckv_check_listings=0")
    assert proc.returncode != 0
    assert message in proc.stderr


def test_a_declaration_missing_from_every_listing_fails(tmp_path: Path, sphinx: Sphinx) -> None:
    proc = sphinx(_project(tmp_path, "```{tls-struct} TreeHead\n```"), tmp_path / "out")
    assert proc.returncode != 0
    assert "SearchResponse (spec/wire/user-operations.tls) is not listed anywhere" in proc.stderr


def test_may_needs_no_id(tmp_path: Path, sphinx: Sphinx) -> None:
    proc = sphinx(
        _project(tmp_path, "A client MAY cache this. {req}`X-001` It MUST check it."),
        tmp_path / "out",
        "-D",
        "ckv_check_listings=0",
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.req("ALERT-001")
def test_registries_are_generated_from_the_code(built: Path) -> None:
    """The alert registry table and the enum registries list every assigned value."""
    from ckv.alerts import REGISTRY
    from ckv.wire.messages import AccountKeyType, DeviceCapability

    alerts = (built / "ckv" / "verification.html").read_text(encoding="utf-8")
    for code, info in REGISTRY.items():
        assert code.name in alerts
        assert info.requirement in alerts
    registries = (built / "registries.html").read_text(encoding="utf-8")
    for value in (*AccountKeyType, *DeviceCapability):
        assert value.name in registries
    assert "13-65535" in registries  # the unassigned alert codes
