"""The tutorial "Validate your implementation" works as written (spec/tutorial.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TUTORIAL = REPO / "spec" / "tutorial.md"
ADAPTER = REPO / "conformance" / "adapters" / "tutorial" / "adapter.py"


@pytest.mark.req("CONF-009", "CONF-010")
def test_the_tutorial_adapter_runs_as_the_tutorial_says(tmp_path: Path) -> None:
    reports = tmp_path / "tutorial"
    command = f"{sys.executable} {ADAPTER}"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ckv",
            "conformance",
            "run",
            "--impl",
            command,
            "--reports",
            str(reports),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    totals = proc.stdout.strip().splitlines()[-2]
    # The tutorial quotes this line; only the time may differ.
    text = TUTORIAL.read_text(encoding="utf-8")
    quoted = re.search(r"^conformance of tutorial: .*$", text, re.MULTILINE)
    assert quoted is not None
    assert re.sub(r"\(.*s\)$", "", quoted.group()) == re.sub(r"\(.*s\)$", "", totals)
    assert " 12 pass, 0 fail" in totals
    for name in ("junit.xml", "report.json", "report.html"):
        assert (reports / name).is_file()
    # The adapter shown in the tutorial is the file that ran.
    assert ":language: python" in text
    assert "conformance/adapters/tutorial/adapter.py" in text
