"""Durability with real processes: SIGKILL the server during publishes, restart it."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest
from service_helpers import Server, fresh_postgres, make_keys, write_keys

from ckv.demo import SeededRandom
from ckv.device import Device
from ckv.directory import DirectoryRefused, DirectoryUnavailable
from ckv.identity import account_label, parse_handle
from ckv.kt_client import KTClient
from ckv.service.client import HttpDirectory
from ckv.sync import InMemorySyncService


def wall() -> int:
    return time.time_ns() // 1_000_000


def _publisher(
    device: Device, stop: threading.Event, acked: list[int], errors: list[BaseException]
) -> None:
    """Toggle CKV until stopped; record each version the directory acknowledged."""
    label = account_label(device.account_id or b"")
    on = False
    while not stop.is_set():
        try:
            if on:
                device.disable_ckv()
            else:
                device.enable_ckv()
            on = not on
            acked.append(device.kt.owner_status(label).greatest or 0)
        except (DirectoryUnavailable, DirectoryRefused) as error:
            acked.append(-1)
            errors.append(error)
            return
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
            return


@pytest.mark.req("STORE-001", "STORE-003", "STORE-006", "API-013")
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sigkill_during_publishes(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        db = str(tmp_path / "db.sqlite")
    else:
        db = fresh_postgres(request.getfixturevalue("postgres_url"))
    keys = write_keys(tmp_path / "keys.json", make_keys())
    server = Server(["--db", db, "--keys", str(keys)])
    port = server.url.rsplit(":", 1)[1]
    http = HttpDirectory(server.url)
    config = http.configuration()
    sync = InMemorySyncService(SeededRandom(b"crash sync"), config.ciphersuite)
    rng = SeededRandom(b"crash devices")
    owner = Device("owner", transport=http.client("owner"), sync=sync, clock=wall, random_bytes=rng)
    owner.create_account([parse_handle("owner@example.org")])
    label = account_label(owner.account_id or b"")
    # A reader whose state (tree head, retained subtrees) spans every restart: each of its
    # lookups checks consistency with what it saw before the crash.
    reader = KTClient.connect(http.client("reader"), clock=wall)
    reader.lookup(label)
    chooser = random.Random(6)
    acknowledged = 0
    try:
        for round_ in range(3):
            stop, acked, errors = threading.Event(), [], []
            publisher = threading.Thread(target=_publisher, args=(owner, stop, acked, errors))
            publisher.start()
            deadline = time.monotonic() + 30
            while not acked and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(chooser.random() * 0.5)
            server.kill()  # SIGKILL, mid-publish or between publishes
            stop.set()
            publisher.join(timeout=60)
            assert all(isinstance(e, DirectoryUnavailable) for e in errors), errors
            assert [a for a in acked if a >= 0], ("no publish acknowledged", round_, acked, errors)
            acknowledged = max(acknowledged, *acked)
            server = Server(["--db", db, "--keys", str(keys), "--port", port])
            # The restarted server serves the last committed entry with valid proofs, and
            # every acknowledged version is there.
            found = reader.lookup(label)
            assert found.version >= acknowledged
            fresh = KTClient.connect(HttpDirectory(server.url, "fresh"), clock=wall)
            assert fresh.lookup(label).version == found.version
            owner = _resume(owner, server.url, sync, rng)
    finally:
        server.stop()


def _resume(old: Device, url: str, sync: InMemorySyncService, rng: SeededRandom) -> Device:
    """The owner's device after a crash: re-learn the account from the directory."""
    del url, sync, rng
    # The device may have had an update in flight; it re-advertises its start (DIRAPI-005)
    # by self-monitoring before it publishes again.
    old.self_monitor()
    return old
