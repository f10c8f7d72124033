"""Shared by the specification tests: running Sphinx, and one build of the real spec."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

Sphinx = Callable[..., "subprocess.CompletedProcess[str]"]


def run_sphinx(src: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Build ``src`` to HTML with the project's configuration, warnings as errors."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-c",
            str(REPO / "docs"),
            *extra,
            str(src),
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="session")
def sphinx() -> Sphinx:
    """The function that runs Sphinx (see :func:`run_sphinx`)."""
    return run_sphinx


@pytest.fixture(scope="session")
def spec_build(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One build of the real specification, shared by every test that reads it."""
    out = tmp_path_factory.mktemp("spec")
    return out, run_sphinx(REPO / "spec", out)
