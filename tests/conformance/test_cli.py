"""`ckv vectors` and `ckv conformance` through their module entry points."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ckv.cli import conformance as conformance_cli
from ckv.cli import vectors as vectors_cli


def test_vectors_generate_then_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, schemas = tmp_path / "v", tmp_path / "s"
    assert (
        vectors_cli.main(["vectors", "generate", "--out", str(out), "--schemas", str(schemas)]) == 0
    )
    assert (out / "MANIFEST.json").is_file()
    assert (out / "WIRE-DEFINITIONS.json").is_file()
    check = ["vectors", "check", "--out", str(out), "--schemas", str(schemas), "--no-regenerate"]
    assert vectors_cli.main(check) == 0
    (out / "kt" / "vrf.ed25519.json").write_text("{}", encoding="utf-8")
    assert (
        vectors_cli.main(
            ["vectors", "check", "--out", str(out), "--schemas", str(schemas), "--no-regenerate"]
        )
        == 1
    )
    assert "problem" in capsys.readouterr().err


def test_conformance_run_writes_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    adapter = Path(conformance_cli.reference_adapter_command()[1])
    code = conformance_cli.main(
        [
            "conformance",
            "run",
            "--impl",
            f"{sys.executable} {adapter}",
            "--select",
            "kt.vrf.verify/*",
            "--reports",
            str(tmp_path),
            "--record",
            str(tmp_path / "transcript.jsonl"),
        ]
    )
    assert code == 0
    lines = (tmp_path / "transcript.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) > 20
    out = capsys.readouterr().out
    assert "0 fail" in out
    assert str(tmp_path / "report.html") in out
    for name in ("junit.xml", "report.json", "report.html"):
        assert (tmp_path / name).is_file()


def test_conformance_run_exits_non_zero_on_failure(tmp_path: Path) -> None:
    broken = Path(conformance_cli.reference_adapter_command()[1]).parent.parent / "broken"
    code = conformance_cli.main(
        [
            "conformance",
            "run",
            "--impl",
            f"{sys.executable} {broken / 'skip_signature_check.py'}",
            "--select",
            "suite.signature.verify/*",
            "--reports",
            str(tmp_path),
        ]
    )
    assert code == 1


def test_coverage_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert conformance_cli.main(["conformance", "coverage", "--musts"]) in {0, 1}
    out = capsys.readouterr().out
    assert "WIRE-004" in out
    assert "MUST" in out


def test_validate_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What `ckv run` ends with: the reference through the harness, and where the reports are."""
    assert conformance_cli.validate_reference(tmp_path) == 0
    out = capsys.readouterr().out
    assert "0 fail" in out
    assert str(tmp_path / "report.html") in out
