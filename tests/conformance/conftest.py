"""Shared fixtures of the conformance-suite tests."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ckv.conformance.vectors import REPO

HERE = Path(__file__).resolve().parent
ADAPTERS = REPO / "conformance" / "adapters"


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    """The committed vectors."""
    return REPO / "conformance" / "vectors"


@pytest.fixture(scope="session")
def reference_cmd() -> list[str]:
    """The reference adapter, run with this interpreter."""
    return [sys.executable, str(ADAPTERS / "reference" / "adapter.py")]


@pytest.fixture(scope="session")
def broken_cmd() -> Callable[[str], list[str]]:
    """The command of a deliberately broken adapter, by script name."""
    return lambda name: [sys.executable, str(ADAPTERS / "broken" / f"{name}.py")]


@pytest.fixture(scope="session")
def fake_cmd() -> Callable[[str, str], list[str]]:
    """The command of the misbehaving test adapter (see fake_adapter.py)."""
    return lambda mode, trigger: [sys.executable, str(HERE / "fake_adapter.py"), mode, trigger]


@pytest.fixture(scope="session")
def node_cmd() -> list[str]:
    """The Node.js adapter; the test is skipped when node is not installed."""
    exe = shutil.which("node")
    if exe is None:
        pytest.skip("node is not installed")
    return [exe, str(ADAPTERS / "node" / "adapter.mjs")]
