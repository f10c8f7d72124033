"""Several stateless service processes sharing one PostgreSQL database (STORE-005)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from service_helpers import Server, fresh_postgres, make_keys, write_keys

from ckv.demo import SeededRandom
from ckv.device import Device
from ckv.identity import parse_handle
from ckv.service.client import HttpDirectory
from ckv.sync import InMemorySyncService


def wall() -> int:
    return time.time_ns() // 1_000_000


@pytest.mark.req("STORE-005", "STORE-006", "API-007")
def test_two_servers_one_database(tmp_path: Path, postgres_url: str) -> None:
    db = fresh_postgres(postgres_url)
    keys = write_keys(tmp_path / "keys.json", make_keys())
    first = Server(["--db", db, "--keys", str(keys)])
    second = Server(["--db", db, "--keys", str(keys)])
    try:
        one, two = HttpDirectory(first.url), HttpDirectory(second.url)
        config = one.configuration()
        assert two.configuration() == config
        sync = InMemorySyncService(SeededRandom(b"procs sync"), config.ciphersuite)
        rng = SeededRandom(b"procs")
        # Alice's phone talks to the first process, her laptop and Bob to the second; a
        # load balancer could send any request anywhere.
        phone = Device(
            "phone", transport=one.client("phone"), sync=sync, clock=wall, random_bytes=rng
        )
        laptop = Device(
            "laptop", transport=two.client("laptop"), sync=sync, clock=wall, random_bytes=rng
        )
        bob = Device("bob", transport=two.client("bob"), sync=sync, clock=wall, random_bytes=rng)
        phone.create_account([parse_handle("alice@example.org")])
        phone.enroll(laptop)
        laptop.enable_ckv()
        bob.create_account([parse_handle("bob@example.org")])
        record = bob.verify_contact(parse_handle("alice@example.org"))
        assert record.alerts == []
        phone.disable_ckv()
        assert laptop.self_monitor() == []
        assert phone.self_monitor() == []
        assert bob.monitor_contacts() == []
    finally:
        first.stop()
        second.stop()
