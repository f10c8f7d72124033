"""`ckv interop keytrans` on the shared KEYTRANS vectors, as a user runs it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ckv.cli import main

#: The files whose every case issue 3 requires to pass (or be a documented divergence).
PART_ONE = [
    "commitment.json",
    "vrf.json",
    "ibst.json",
    "log-math.json",
    "log-tree.json",
    "log-append.json",
    "prefix-tree.json",
    "prefix-mutation.json",
    "auditor-update.json",
    "binary-ladder.json",
    "ladder-interpretation.json",
    "distinguished.json",
    "update-view.json",
    "tree-head.json",
    "requests.json",
]
LINE = re.compile(r"^(\S+\.json): (\d+) passed, (\d+) failed, (\d+) known divergences$")


@pytest.mark.req("KT-001")
def test_every_part_one_vector_passes(
    interop_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["interop", "keytrans", str(interop_dir)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    summary = {m[1]: (int(m[2]), int(m[3]), int(m[4])) for line in out if (m := LINE.match(line))}
    for name in PART_ONE:
        cases = len(json.loads((interop_dir / name).read_text())["cases"])
        passed, failed, diverged = summary[name]
        assert failed == 0, name
        assert passed + diverged == cases, name
    assert re.fullmatch(r"\d+ passed, 0 failed", out[-1])


def test_divergences_cite_documented_notes(
    interop_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["interop", "keytrans", str(interop_dir), "-v"])
    out = capsys.readouterr().out
    cited = set(re.findall(r"DIVERGENCE (IOP-[A-Z]\d\d)", out))
    assert cited, "expected the known divergences to be listed"
    notes = "".join(p.read_text() for p in Path(__file__).resolve().parents[2].glob("spec/**/*.md"))
    for note in cited:
        assert f"**{note} " in notes, f"{note} is not documented in the spec"


def test_a_failing_case_fails_the_command(
    tmp_path: Path, interop_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads((interop_dir / "commitment.json").read_text())
    data["cases"][0]["expect"]["commitment"] = "00" * 32
    (tmp_path / "commitment.json").write_text(json.dumps(data))
    assert main(["interop", "keytrans", str(tmp_path), "-v"]) == 1
    out = capsys.readouterr().out
    assert "commitment.json: 6 passed, 1 failed, 0 known divergences" in out
    assert out.splitlines()[-1] == "6 passed, 1 failed"


def test_bad_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["interop", "keytrans", str(tmp_path / "nope")]) == 1
    assert "not a directory" in capsys.readouterr().err
