"""The HTTP API against a live ``ckv directory serve`` process (SQLite)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_helpers import Server, make_keys, write_keys

from ckv import wire
from ckv.demo import SeededRandom
from ckv.device import Device
from ckv.directory import DirectoryRefused, RefusalReason
from ckv.identity import account_label, parse_handle
from ckv.kt_client import KTClient
from ckv.service.client import HttpDirectory
from ckv.service.openapi import OPERATIONS, openapi_document
from ckv.sync import InMemorySyncService
from ckv.wire import messages

REPO = Path(__file__).resolve().parents[2]


def wall() -> int:
    return time.time_ns() // 1_000_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("api")
    keys = write_keys(tmp / "keys.json", make_keys())
    srv = Server(["--db", str(tmp / "db.sqlite"), "--keys", str(keys), "--max-body", "4096"])
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def world(server: Server) -> dict[str, Device]:
    http = HttpDirectory(server.url)
    config = http.configuration()
    sync = InMemorySyncService(SeededRandom(b"api sync"), config.ciphersuite)
    random = SeededRandom(b"api devices")

    def device(name: str) -> Device:
        return Device(name, transport=http.client(name), sync=sync, clock=wall, random_bytes=random)

    alice, laptop, carol = device("alice"), device("alice-laptop"), device("carol")
    alice.create_account([parse_handle("alice@example.org")])
    alice.enroll(laptop)
    alice.enable_ckv()
    carol.create_account([parse_handle("carol@example.org")])
    return {"alice": alice, "laptop": laptop, "carol": carol}


def post(server: Server, path: str, body: bytes) -> tuple[int, dict[str, object]]:
    status, _, data = HttpDirectory(server.url).request("POST", path, body, retry=False)
    return status, json.loads(data) if status != 200 else {}


@pytest.mark.req("API-001", "API-005")
def test_devices_work_unchanged_over_http(world: dict[str, Device]) -> None:
    carol = world["carol"]
    record = carol.verify_contact(parse_handle("alice@example.org"))
    assert record.alerts == []
    assert world["alice"].self_monitor() == []
    assert world["laptop"].self_monitor() == []
    assert carol.monitor_contacts() == []


@pytest.mark.req("API-005", "DIR-001")
def test_forged_account_state_is_refused_with_422(server: Server, world: dict[str, Device]) -> None:
    alice = world["alice"]
    assert alice.account_id is not None
    label = account_label(alice.account_id)
    http = HttpDirectory(server.url, "forger")
    kt = KTClient.connect(http, clock=wall)
    current = kt.lookup(label)
    forged = bytearray(current.value)
    forged[-1] ^= 1  # the last byte of the account key's signature
    size_before = json.loads(http.request("GET", "/healthz")[2])["size"]
    request = messages.UpdateRequest(
        last=current.tree_size,
        label=label,
        greatest_version=current.version,
        values=(messages.LabelValue(value=bytes(forged)),),
    )
    with pytest.raises(DirectoryRefused) as excinfo:
        http.update(request)
    assert excinfo.value.reason is RefusalReason.VALUE_REJECTED
    assert excinfo.value.requirement is not None
    # Nothing was written.
    assert json.loads(http.request("GET", "/healthz")[2])["size"] == size_before


@pytest.mark.req("API-001")
@pytest.mark.parametrize("name", list(OPERATIONS))
def test_malformed_bodies_get_400(server: Server, name: str) -> None:
    for body in (b"", b"\xff" * 7, b"\x01\x00\x00"):
        status, error = post(server, OPERATIONS[name].path, body)
        assert status == 400, (name, body, error)
        assert error["requirement"] == "API-001"
        assert error["detail"]


@pytest.mark.req("API-002")
def test_oversized_body_gets_413(server: Server) -> None:
    status, error = post(server, "/v1/search", bytes(5000))
    assert status == 413
    assert error["requirement"] == "API-002"


@pytest.mark.req("API-004")
def test_unknown_label_gets_404(server: Server) -> None:
    http = HttpDirectory(server.url)
    with pytest.raises(DirectoryRefused) as excinfo:
        http.search(messages.SearchRequest(last=None, label=b"nobody", version=None))
    assert excinfo.value.reason is RefusalReason.NOT_FOUND


@pytest.mark.req("API-004")
def test_future_and_stale_last_get_4xx(server: Server, world: dict[str, Device]) -> None:
    del world
    http = HttpDirectory(server.url)
    size = json.loads(http.request("GET", "/healthz")[2])["size"]
    label = b"ckv:heartbeat"
    for last in (size + 10, 2**64 - 1):
        body = wire.encode(messages.SearchRequest(last=last, label=label, version=None))
        status, error = post(server, "/v1/search", body)
        assert 400 <= status < 500, (last, error)
        assert str(error["requirement"]).startswith("API-")
    update = messages.UpdateRequest(
        last=size + 100, label=b"ckv:heartbeat", greatest_version=2**32 - 1, values=()
    )
    status, error = post(server, "/v1/update", wire.encode(update))
    assert 400 <= status < 500, error


@pytest.mark.req("API-012")
def test_auditor_feed(server: Server) -> None:
    http = HttpDirectory(server.url)
    update, size = http.auditor_update(0)
    assert size >= 1
    assert isinstance(update, messages.AuditorUpdate)
    status, _, data = http.request("GET", f"/v1/audit/{size + 5}")
    assert status in {400, 404}, data
    status, _, data = http.request("GET", "/v1/audit/minus1")
    assert status == 400
    assert json.loads(data)["requirement"] == "API-012"


@pytest.mark.req("API-011")
def test_openapi_served_and_written(server: Server) -> None:
    status, _, data = HttpDirectory(server.url).request("GET", "/openapi.json")
    assert status == 200
    served = json.loads(data)
    assert set(served["paths"]) >= {op.path for op in OPERATIONS.values()}
    written = json.loads((REPO / "spec" / "openapi.json").read_text())
    assert written == openapi_document()


@pytest.mark.req("API-003")
def test_unknown_route_and_method(server: Server) -> None:
    http = HttpDirectory(server.url)
    status, _, data = http.request("GET", "/v1/nothing")
    assert status == 404
    assert json.loads(data)["requirement"] == "API-003"
    status, _, data = http.request("GET", "/v1/search")
    assert status == 405


@pytest.mark.req("API-010")
def test_no_adversary_routes_by_default(server: Server) -> None:
    status, _, _ = HttpDirectory(server.url).request("POST", "/v1/test/inject", b"{}")
    assert status == 404


@pytest.mark.req("API-006")
def test_rate_limit(tmp_path: Path) -> None:
    keys = write_keys(tmp_path / "keys.json", make_keys())
    srv = Server(
        ["--db", str(tmp_path / "db.sqlite"), "--keys", str(keys), "--rate", "2", "--burst", "3"]
    )
    try:
        http = HttpDirectory(srv.url)
        statuses = [http.request("GET", "/v1/configuration")[0] for _ in range(6)]
        assert statuses[:3] == [200, 200, 200]
        assert 429 in statuses
        status, headers, data = http.request("GET", "/v1/configuration")
        assert status == 429
        assert int(headers["retry-after"]) >= 1
        assert json.loads(data)["requirement"] == "API-006"
    finally:
        srv.stop()


@pytest.mark.req("STORE-006")
def test_searches_verify_while_publishes_run(server: Server, world: dict[str, Device]) -> None:
    """Readers keep being answered, with proofs that verify, while an owner publishes."""
    carol = world["carol"]
    assert carol.account_id is not None
    label = account_label(carol.account_id)
    http = HttpDirectory(server.url)
    stop = threading.Event()
    failures: list[BaseException] = []
    counts = [0, 0]

    def read(i: int) -> None:
        reader = KTClient.connect(http.client(f"reader{i}"), clock=wall)
        while not stop.is_set():
            try:
                reader.lookup(label)
                counts[i] += 1
            except BaseException as error:  # noqa: BLE001
                failures.append(error)
                return

    readers = [threading.Thread(target=read, args=(i,)) for i in range(2)]
    for t in readers:
        t.start()
    before = carol.kt.lookup(label).version
    for _ in range(4):
        carol.enable_ckv()
        carol.disable_ckv()
    stop.set()
    for t in readers:
        t.join()
    assert not failures, failures[0]
    assert min(counts) > 0
    assert carol.kt.lookup(label).version == before + 8


def _valid_bodies(world: dict[str, Device]) -> dict[str, bytes]:
    """One valid request body per operation, from the world's devices."""
    alice = world["alice"]
    label = account_label(alice.account_id or b"")
    size = alice.kt.state.tree_size or 1
    requests: dict[str, object] = {
        "search": messages.SearchRequest(last=size, label=label, version=None),
        "update": messages.UpdateRequest(
            last=size,
            label=label,
            greatest_version=0,
            values=(messages.LabelValue(value=b"\x00" * 40),),
        ),
        "contact_monitor": messages.ContactMonitorRequest(
            last=size, label=label, entries=(messages.MonitorMapEntry(position=0, version=0),)
        ),
        "owner_init": messages.OwnerInitRequest(last=size, label=label, start=0),
        "owner_monitor": messages.OwnerMonitorRequest(
            last=size, label=label, entries=(), start=0, greatest_version=0
        ),
        "distinguished": messages.DistinguishedRequest(last=size, stop=None),
    }
    return {name: wire.encode(request) for name, request in requests.items()}


@pytest.mark.req("API-009", "API-001")
def test_mutated_requests_never_get_5xx(server: Server, world: dict[str, Device]) -> None:
    """Bit flips, truncations and extensions of valid requests: 200 or 4xx, never 5xx."""
    import random

    rng = random.Random(9)
    http = HttpDirectory(server.url, "fuzzer")
    bodies = _valid_bodies(world)
    seen: dict[int, int] = {}
    for name, body in bodies.items():
        path = OPERATIONS[name].path
        for _ in range(25):
            mutated = bytearray(body)
            kind = rng.randrange(3)
            if kind == 0 and mutated:
                i = rng.randrange(len(mutated))
                mutated[i] ^= 1 << rng.randrange(8)
            elif kind == 1:
                del mutated[rng.randrange(len(mutated) + 1) :]
            else:
                mutated += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
            status, _, data = http.request("POST", path, bytes(mutated), retry=False)
            seen[status] = seen.get(status, 0) + 1
            assert status < 500, (name, bytes(mutated).hex(), data)
            if status != 200:
                error = json.loads(data)
                assert str(error["requirement"]).startswith("API-")
                assert error["detail"]
    assert any(400 <= s < 500 for s in seen)
