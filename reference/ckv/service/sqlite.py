"""SQLite storage of the directory service: one file, nothing to set up (STORE-001 to STORE-006).

The database runs in WAL mode with ``synchronous=FULL``: a commit returns only
once its WAL frames are on disk, so an acknowledged entry survives a crash of
the process or the machine, and readers never block the writer. A publish runs
in a ``BEGIN IMMEDIATE`` transaction, SQLite's single writer lock, so several
processes on one machine can share the file.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ckv.service.storage import (
    SCHEMA_VERSION,
    EntryRecord,
    PublishTransaction,
    StorageError,
    group_versions,
)

__all__ = ["SQLiteStorage"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    position INTEGER PRIMARY KEY,
    timestamp INTEGER NOT NULL,
    prefix_root BLOB NOT NULL,
    leaf BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    label BLOB NOT NULL,
    version INTEGER NOT NULL,
    position INTEGER NOT NULL REFERENCES entries(position),
    seq INTEGER NOT NULL,
    value BLOB NOT NULL,
    opening BLOB NOT NULL,
    vrf_output BLOB NOT NULL,
    vrf_proof BLOB NOT NULL,
    PRIMARY KEY (label, version)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS versions_by_entry ON versions (position, seq);
CREATE TABLE IF NOT EXISTS owner_starts (
    client_id TEXT NOT NULL,
    label BLOB NOT NULL,
    start INTEGER NOT NULL,
    PRIMARY KEY (client_id, label)
) WITHOUT ROWID;
"""

_ENTRIES_AFTER = """
SELECT e.position, e.timestamp, e.prefix_root, e.leaf,
       v.label, v.version, v.value, v.opening, v.vrf_output, v.vrf_proof
FROM entries e JOIN versions v ON v.position = e.position
WHERE e.position >= ? ORDER BY e.position, v.seq
"""


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # STORE-001: a commit is on disk before the service acknowledges it.
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def _append(conn: sqlite3.Connection, entry: EntryRecord) -> None:
    (count,) = conn.execute("SELECT coalesce(max(position) + 1, 0) FROM entries").fetchone()
    # STORE-001: entries are appended at the next position only, never rewritten.
    if entry.position != count or not entry.versions:
        msg = f"entry {entry.position} is not the next of {count} committed entries"
        raise StorageError(msg, requirement="STORE-001")
    conn.execute(
        "INSERT INTO entries VALUES (?, ?, ?, ?)",
        (entry.position, entry.timestamp, entry.prefix_root, entry.leaf),
    )
    conn.executemany(
        "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (v.label, v.version, entry.position, i, v.value, v.opening, v.vrf_output, v.vrf_proof)
            for i, v in enumerate(entry.versions)
        ],
    )


class _Transaction:
    __slots__ = ("_conn", "committed")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.committed = False

    def entries_after(self, size: int) -> Iterator[EntryRecord]:
        return group_versions(self._conn.execute(_ENTRIES_AFTER, (size,)).fetchall())

    def append(self, entry: EntryRecord) -> None:
        _append(self._conn, entry)

    def commit(self) -> None:
        self._conn.execute("COMMIT")
        self.committed = True


class SQLiteStorage:
    """:class:`~ckv.service.storage.Storage` in one SQLite file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = str(path)
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._writer = _connect(self._path)
            self._reader = _connect(self._path)
            self._writer.executescript(_SCHEMA)
        except sqlite3.Error as error:
            msg = f"cannot open the SQLite database {self._path}: {error}"
            raise StorageError(msg, requirement="STORE-004") from error
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._check_schema()

    def _check_schema(self) -> None:
        row = self._reader.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None:
            self._writer.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION).encode(),)
            )
            return
        # STORE-004: a database of another layout is refused, never reinterpreted.
        if bytes(row[0]) != str(SCHEMA_VERSION).encode():
            msg = f"database layout {bytes(row[0]).decode()!r} is not {SCHEMA_VERSION}"
            raise StorageError(msg, requirement="STORE-004")

    def configuration(self) -> bytes | None:
        """See :meth:`ckv.service.storage.Storage.configuration`."""
        with self._read_lock:
            row = self._reader.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()
        return None if row is None else bytes(row[0])

    def initialise(self, configuration: bytes) -> None:
        """See :meth:`ckv.service.storage.Storage.initialise`."""
        with self._write_lock:
            try:
                self._writer.execute("INSERT INTO meta VALUES ('config', ?)", (configuration,))
            except sqlite3.IntegrityError as error:
                msg = "the database already belongs to a configuration"
                raise StorageError(msg, requirement="STORE-004") from error

    def size(self) -> int:
        """See :meth:`ckv.service.storage.Storage.size`."""
        with self._read_lock:
            (count,) = self._reader.execute(
                "SELECT coalesce(max(position) + 1, 0) FROM entries"
            ).fetchone()
        return int(count)

    def entries_after(self, size: int) -> Iterator[EntryRecord]:
        """See :meth:`ckv.service.storage.Storage.entries_after`."""
        with self._read_lock:
            rows = self._reader.execute(_ENTRIES_AFTER, (size,)).fetchall()
        return group_versions(rows)

    @contextmanager
    def publish(self) -> Iterator[PublishTransaction]:
        """See :meth:`ckv.service.storage.Storage.publish`."""
        with self._write_lock:
            conn = self._writer
            # STORE-005: one publisher at a time, across processes sharing the file.
            conn.execute("BEGIN IMMEDIATE")
            tx = _Transaction(conn)
            try:
                yield tx
            finally:
                if not tx.committed:
                    conn.execute("ROLLBACK")

    def owner_start(self, client_id: str, label: bytes) -> int | None:
        """See :meth:`ckv.service.storage.Storage.owner_start`."""
        with self._read_lock:
            row = self._reader.execute(
                "SELECT start FROM owner_starts WHERE client_id = ? AND label = ?",
                (client_id, label),
            ).fetchone()
        return None if row is None else int(row[0])

    def set_owner_start(self, client_id: str, label: bytes, start: int) -> None:
        """See :meth:`ckv.service.storage.Storage.set_owner_start`."""
        with self._write_lock:
            self._writer.execute(
                "INSERT INTO owner_starts VALUES (?, ?, ?) "
                "ON CONFLICT (client_id, label) DO UPDATE SET start = excluded.start",
                (client_id, label, start),
            )

    def bytes_used(self) -> int:
        """See :meth:`ckv.service.storage.Storage.bytes_used`."""
        with self._write_lock:
            self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        total = 0
        for suffix in ("", "-wal", "-shm"):
            path = Path(self._path + suffix)
            if path.exists():
                total += path.stat().st_size
        return total

    def close(self) -> None:
        """See :meth:`ckv.service.storage.Storage.close`."""
        self._writer.close()
        self._reader.close()
