"""The storage contract and the durable directory, run against SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import pytest
from service_helpers import make_keys

from ckv import wire
from ckv.directory import DirectoryUnavailable
from ckv.kt_client import KTClient
from ckv.service.durable import DurableDirectory
from ckv.service.storage import EntryRecord, Storage, StorageError, StoredVersion
from ckv.transparency_log import LogKeys

T0 = 1_767_225_600_000


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def _entry(position: int, label: bytes = b"l") -> EntryRecord:
    pair = StoredVersion(label, position, b"v", bytes(16), bytes(32), bytes(80))
    return EntryRecord(position, T0 + position, bytes(32), bytes(32), (pair,))


def _publish(directory: DurableDirectory, clock: Clock, labels: list[bytes]) -> KTClient:
    client = KTClient.connect(directory.client("owner"), clock=clock)
    for label in labels:
        clock.now += 1000
        client.own(label)
        client.publish(label, [b"value of " + label])
    return client


@pytest.mark.req("STORE-001", "STORE-002")
def test_append_and_read_back(open_store: Callable[[], Storage]) -> None:
    store = open_store()
    assert store.size() == 0
    with store.publish() as tx:
        tx.append(_entry(0))
        tx.append(_entry(1, b"m"))
        tx.commit()
    assert store.size() == 2
    entries = list(store.entries_after(0))
    assert [e.position for e in entries] == [0, 1]
    assert entries[1].versions[0].label == b"m"
    assert [e.position for e in store.entries_after(1)] == [1]


@pytest.mark.req("STORE-001")
def test_uncommitted_publish_leaves_nothing(open_store: Callable[[], Storage]) -> None:
    store = open_store()
    with store.publish() as tx:
        tx.append(_entry(0))
    assert store.size() == 0

    def fail() -> None:
        with store.publish() as tx:
            tx.append(_entry(0))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail()
    assert store.size() == 0
    assert list(store.entries_after(0)) == []


@pytest.mark.req("STORE-001")
def test_append_refuses_a_gap_or_a_rewrite(open_store: Callable[[], Storage]) -> None:
    store = open_store()
    with store.publish() as tx, pytest.raises(StorageError) as excinfo:
        tx.append(_entry(1))
    assert excinfo.value.requirement == "STORE-001"
    with store.publish() as tx:
        tx.append(_entry(0))
        tx.commit()
    with store.publish() as tx, pytest.raises(StorageError):
        tx.append(_entry(0))
    assert store.size() == 1


@pytest.mark.req("STORE-004")
def test_configuration_recorded_once(open_store: Callable[[], Storage]) -> None:
    store = open_store()
    assert store.configuration() is None
    store.initialise(b"config")
    assert store.configuration() == b"config"
    with pytest.raises(StorageError):
        store.initialise(b"other")


def test_owner_starts(open_store: Callable[[], Storage]) -> None:
    store = open_store()
    assert store.owner_start("a", b"l") is None
    store.set_owner_start("a", b"l", 5)
    store.set_owner_start("a", b"l", 7)
    store.set_owner_start("b", b"l", 1)
    assert store.owner_start("a", b"l") == 7
    assert store.owner_start("b", b"l") == 1


@pytest.mark.req("STORE-002", "STORE-003")
def test_restart_rebuilds_the_same_log(open_store: Callable[[], Storage], keys: LogKeys) -> None:
    clock = Clock()
    directory = DurableDirectory(keys, open_store(), clock=clock)
    client = _publish(directory, clock, [b"alice", b"bob", b"alice"[:3]])
    size, root = directory.size, directory.log.root()
    again = DurableDirectory(keys, open_store(), clock=clock)
    assert again.size == size
    assert again.log.root() == root
    # A client that knew the old directory keeps verifying against the rebuilt one.
    client._transport = again.client("owner")
    assert client.lookup(b"bob").value == b"value of bob"
    assert client.monitor() is not None


@pytest.mark.req("STORE-004")
def test_database_of_another_configuration_is_refused(
    open_store: Callable[[], Storage], keys: LogKeys
) -> None:
    DurableDirectory(keys, open_store(), clock=Clock())
    with pytest.raises(StorageError) as excinfo:
        DurableDirectory(make_keys(b"other"), open_store(), clock=Clock())
    assert excinfo.value.requirement == "STORE-004"


@pytest.mark.req("STORE-003")
def test_tampered_database_is_refused(
    open_store: Callable[[], Storage], keys: LogKeys, storage_url: str
) -> None:
    clock = Clock()
    directory = DurableDirectory(keys, open_store(), clock=clock)
    _publish(directory, clock, [b"alice"])
    if storage_url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(storage_url, autocommit=True) as conn:
            conn.execute("UPDATE ckv_versions SET value = 'forged' WHERE label = 'alice'")
    else:
        import sqlite3

        with sqlite3.connect(storage_url) as conn:
            conn.execute("UPDATE versions SET value = x'00' WHERE label = x'616c696365'")
    with pytest.raises(StorageError) as excinfo:
        DurableDirectory(keys, open_store(), clock=clock)
    assert excinfo.value.requirement == "STORE-003"


@pytest.mark.req("STORE-005", "STORE-006")
def test_two_processes_share_one_database(open_store: Callable[[], Storage], keys: LogKeys) -> None:
    """Two directories on one database (as two service processes): each sees the other's."""
    clock = Clock()
    first = DurableDirectory(keys, open_store(), clock=clock)
    second = DurableDirectory(keys, open_store(), clock=clock)
    assert first.log.root() == second.log.root()
    alice = _publish(first, clock, [b"alice"])
    bob = _publish(second, clock, [b"bob"])  # second catches up, then appends
    assert alice.lookup(b"bob").value == b"value of bob"
    assert bob.lookup(b"alice").value == b"value of alice"
    # Interleaved publishes from threads on both: no entry lost, one log.
    errors: list[BaseException] = []

    def work(directory: DurableDirectory, name: bytes) -> None:
        try:
            own = KTClient.connect(directory.client(name.decode()), clock=clock)
            for i in range(4):
                label = name + bytes([48 + i])
                own.own(label)
                own.publish(label, [label])
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [
        threading.Thread(target=work, args=(first, b"x")),
        threading.Thread(target=work, args=(second, b"y")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    first.refresh()
    second.refresh()
    assert first.size == second.size
    assert first.log.root() == second.log.root()
    for name in (b"x", b"y"):
        for i in range(4):
            assert first.greatest_version(name + bytes([48 + i])) == 0


def test_configuration_is_tls_encoded(open_store: Callable[[], Storage], keys: LogKeys) -> None:
    store = open_store()
    DurableDirectory(keys, store, clock=Clock())
    assert store.configuration() == wire.encode(keys.config, suite=keys.config.ciphersuite)


class _FailingCommit:
    """A storage whose next commit fails (the database went away mid-publish)."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.fail_next = False

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    @contextlib.contextmanager
    def publish(self) -> Iterator[object]:
        with self.inner.publish() as tx:
            if self.fail_next:
                self.fail_next = False

                class Tx:
                    def entries_after(self, size: int) -> Iterator[EntryRecord]:
                        return tx.entries_after(size)

                    def append(self, entry: EntryRecord) -> None:
                        tx.append(entry)

                    def commit(self) -> None:
                        raise OSError("disk gone")

                yield Tx()
            else:
                yield tx


@pytest.mark.req("API-008", "STORE-001", "STORE-006")
def test_failed_commit_is_not_acknowledged_and_the_log_is_rebuilt(
    open_store: Callable[[], Storage], keys: LogKeys
) -> None:
    clock = Clock()
    store = _FailingCommit(open_store())
    directory = DurableDirectory(keys, store, clock=clock)  # type: ignore[arg-type]
    client = _publish(directory, clock, [b"alice"])
    size, root = directory.size, directory.log.root()
    store.fail_next = True
    clock.now += 1000
    with pytest.raises(DirectoryUnavailable):
        client.publish(b"alice", [b"second"])
    # Nothing was committed, and nothing uncommitted is ever served.
    assert store.inner.size() == size
    assert client.lookup(b"alice").value == b"value of alice"
    assert directory.size == size
    assert directory.log.root() == root
    clock.now += 1000
    client.publish(b"alice", [b"third"])
    assert client.lookup(b"alice").value == b"third"
    again = DurableDirectory(keys, open_store(), clock=clock)
    assert again.log.root() == directory.log.root()
