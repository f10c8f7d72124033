"""Project-wide test configuration: Hypothesis profiles and the shared vectors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# `dev` is quick for iterating; `ci` (what `make test` uses) is derandomized so a
# run can be reproduced exactly, and explores more examples.
settings.register_profile("dev", max_examples=40, deadline=None)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

REPO = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The shared material (`../shared` beside the repository, or $CKV_SHARED)."""
    env = os.environ.get("CKV_SHARED")
    return Path(env) if env else REPO.parent / "shared"


@pytest.fixture(scope="session")
def interop_dir() -> Path:
    """The KEYTRANS interop vectors; skipped only when they are absent and not required."""
    path = shared_dir() / "vectors" / "keytrans-interop"
    if not path.is_dir():
        if os.environ.get("CKV_REQUIRE_SHARED"):
            pytest.fail(f"CKV_REQUIRE_SHARED is set but {path} does not exist")
        pytest.skip(f"KEYTRANS interop vectors not found at {path}")
    return path
