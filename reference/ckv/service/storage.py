"""The storage contract of the directory service (spec chapter "Directory API", STORE-nnn).

A directory service keeps its log in memory (a
:class:`~ckv.transparency_log.TransparencyLog`) and makes it durable through a
:class:`Storage`: every sequenced log entry is written, in one transaction, as
an :class:`EntryRecord` holding everything needed to rebuild the in-memory log
bit for bit (timestamp, and per label-version pair the value, commitment opening,
VRF output and proof, in the order the log staged them), together with the
entry's prefix tree root and log tree leaf, which a replay checks (STORE-003).

Publishing is atomic (STORE-001): :meth:`Storage.publish` opens a
:class:`PublishTransaction` that holds the database's one publish lock (so that
several service processes sharing a database sequence one entry at a time), in
which the service catches up with entries other processes wrote, appends its
entry and commits. An entry is acknowledged only after its commit.

Two backends implement the contract: :mod:`ckv.service.sqlite` (one file, the
default) and :mod:`ckv.service.postgres`. Both run the same test suite.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from ckv.errors import CKVError

__all__ = [
    "SCHEMA_VERSION",
    "EntryRecord",
    "PublishTransaction",
    "Storage",
    "StorageError",
    "StoredVersion",
    "open_storage",
]

#: The layout version a database records; a service refuses any other (STORE-004).
SCHEMA_VERSION = 1


class StorageError(CKVError):
    """The database is unusable: unreachable, of another layout, or inconsistent."""


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """One label-version pair an entry created, as the log staged it (STORE-002)."""

    label: bytes
    version: int
    #: The committed value (``UpdateValue.value``; the suffix is empty under contactMonitoring).
    value: bytes
    #: The commitment opening (``Nc`` bytes).
    opening: bytes
    #: The VRF output (search key) and proof: stored so that a restart evaluates no VRF.
    vrf_output: bytes
    vrf_proof: bytes


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """One sequenced log entry and everything needed to replay it (STORE-002)."""

    position: int
    timestamp: int
    #: ``LogEntry.prefix_tree``: the prefix tree root as of this entry.
    prefix_root: bytes
    #: ``Hash(LogEntry)``: the log tree leaf.
    leaf: bytes
    #: The pairs the entry created, in staging order.
    versions: tuple[StoredVersion, ...]


class PublishTransaction(Protocol):
    """An open publish transaction: holds the publish lock until it ends."""

    def entries_after(self, size: int) -> Iterator[EntryRecord]:
        """Entries at positions ``size`` and above, in order (catching up before a publish)."""
        ...

    def append(self, entry: EntryRecord) -> None:
        """Write one entry; it must be at the next position (STORE-001)."""
        ...

    def commit(self) -> None:
        """Make everything appended durable, then release the lock."""
        ...


class Storage(Protocol):
    """The durable state of one directory (STORE-001 to STORE-006)."""

    def configuration(self) -> bytes | None:
        """The TLS-encoded ``Configuration`` the database belongs to (None: a new database)."""
        ...

    def initialise(self, configuration: bytes) -> None:
        """Record the configuration of a new database (refuses if one is recorded)."""
        ...

    def size(self) -> int:
        """The number of committed entries."""
        ...

    def entries_after(self, size: int) -> Iterator[EntryRecord]:
        """Committed entries at positions ``size`` and above, in order."""
        ...

    def publish(self) -> AbstractContextManager[PublishTransaction]:
        """A publish transaction; rolled back unless committed when the block ends."""
        ...

    def owner_start(self, client_id: str, label: bytes) -> int | None:
        """The starting position recorded for an owner (DIRAPI-010), or None."""
        ...

    def set_owner_start(self, client_id: str, label: bytes, start: int) -> None:
        """Record an owner's starting position (durably, shared by every process)."""
        ...

    def bytes_used(self) -> int:
        """The space the database takes, for benchmarks."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def group_versions(
    rows: Sequence[tuple[int, int, bytes, bytes, bytes, int, bytes, bytes, bytes, bytes]],
) -> Iterator[EntryRecord]:
    """Entries from joined rows, ordered by position then staging order.

    A row is ``(position, timestamp, root, leaf, label, version, value, opening,
    vrf_output, vrf_proof)``.
    """
    current: list[StoredVersion] = []
    head: tuple[int, int, bytes, bytes] | None = None
    for position, timestamp, root, leaf, label, version, value, opening, output, proof in rows:
        if head is not None and head[0] != position:
            yield EntryRecord(*head, versions=tuple(current))
            current = []
        head = (position, timestamp, bytes(root), bytes(leaf))
        current.append(
            StoredVersion(
                bytes(label), version, bytes(value), bytes(opening), bytes(output), bytes(proof)
            )
        )
    if head is not None:
        yield EntryRecord(*head, versions=tuple(current))


def open_storage(url: str) -> Storage:
    """A storage backend from a URL: ``sqlite:///path``, a bare path, or ``postgresql://...``."""
    if url.startswith(("postgresql://", "postgres://")):
        from ckv.service.postgres import PostgresStorage  # noqa: PLC0415 - optional driver

        return PostgresStorage(url)
    from ckv.service.sqlite import SQLiteStorage  # noqa: PLC0415

    path = url.removeprefix("sqlite://").removeprefix("/") if url.startswith("sqlite:") else url
    if url.startswith("sqlite:///"):
        path = "/" + url.removeprefix("sqlite:///")
    return SQLiteStorage(path)
