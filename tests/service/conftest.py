"""Fixtures of the directory service tests: keys, storage backends, live servers."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from service_helpers import Server, fresh_postgres, make_keys

from ckv.service.storage import Storage
from ckv.transparency_log import LogKeys

REPO = Path(__file__).resolve().parents[2]
PG_SCRIPT = REPO / "scripts" / "ckv-postgres.sh"


@pytest.fixture(scope="session")
def keys() -> LogKeys:
    return make_keys()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server on loopback, started (and installed if need be) by the script."""
    if os.environ.get("CKV_POSTGRES_URL"):
        yield os.environ["CKV_POSTGRES_URL"]
        return
    data = Path("/tmp") / f"ckv-pg-{uuid.uuid4().hex[:8]}"
    port = str(20000 + os.getpid() % 20000)
    try:
        out = subprocess.run(
            ["sh", str(PG_SCRIPT), "start", str(data), port],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        stderr = getattr(error, "stderr", "") or ""
        pytest.skip(f"PostgreSQL cannot be installed or started here: {error} {stderr[-300:]}")
    try:
        yield out.stdout.strip()
    finally:
        subprocess.run(["sh", str(PG_SCRIPT), "stop", str(data)], check=False, timeout=120)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgres"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database of each backend (one storage contract, one suite)."""
    if request.param == "sqlite":
        return str(tmp_path / "directory.sqlite")
    return fresh_postgres(request.getfixturevalue("postgres_url"))


@pytest.fixture
def open_store(storage_url: str) -> Iterator[Callable[[], Storage]]:
    from ckv.service.storage import open_storage

    opened: list[Storage] = []

    def make() -> Storage:
        store = open_storage(storage_url)
        opened.append(store)
        return store

    yield make
    for store in opened:
        with contextlib.suppress(Exception):
            store.close()


@pytest.fixture
def start_server() -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(*args: str) -> Server:
        server = Server(list(args))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
