"""PostgreSQL storage of the directory service, for several processes (STORE-001 to STORE-006).

Several stateless service processes share one database. A publish runs in a
transaction that first takes a transaction-scoped advisory lock, the
database's one publish lock (STORE-005); the process then catches up with the
entries others committed before it sequences its own. Commits use PostgreSQL's
default ``synchronous_commit = on``: acknowledged entries are on disk.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from ckv.service.storage import (
    SCHEMA_VERSION,
    EntryRecord,
    PublishTransaction,
    StorageError,
    group_versions,
)

__all__ = ["PostgresStorage"]

#: The advisory lock key of publishes (any fixed 64-bit number; "CKVlog").
_PUBLISH_LOCK = 0x434B566C6F67

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS ckv_meta (key TEXT PRIMARY KEY, value BYTEA NOT NULL)",
    """CREATE TABLE IF NOT EXISTS ckv_entries (
        position BIGINT PRIMARY KEY,
        timestamp BIGINT NOT NULL,
        prefix_root BYTEA NOT NULL,
        leaf BYTEA NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ckv_versions (
        label BYTEA NOT NULL,
        version BIGINT NOT NULL,
        position BIGINT NOT NULL REFERENCES ckv_entries(position),
        seq INTEGER NOT NULL,
        value BYTEA NOT NULL,
        opening BYTEA NOT NULL,
        vrf_output BYTEA NOT NULL,
        vrf_proof BYTEA NOT NULL,
        PRIMARY KEY (label, version),
        UNIQUE (position, seq))""",
    """CREATE TABLE IF NOT EXISTS ckv_owner_starts (
        client_id TEXT NOT NULL,
        label BYTEA NOT NULL,
        start BIGINT NOT NULL,
        PRIMARY KEY (client_id, label))""",
]

_ENTRIES_AFTER = """
SELECT e.position, e.timestamp, e.prefix_root, e.leaf,
       v.label, v.version, v.value, v.opening, v.vrf_output, v.vrf_proof
FROM ckv_entries e JOIN ckv_versions v ON v.position = e.position
WHERE e.position >= %s ORDER BY e.position, v.seq
"""
_SIZE = "SELECT coalesce(max(position) + 1, 0) FROM ckv_entries"


class _Transaction:
    __slots__ = ("_conn", "committed")

    def __init__(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        self._conn = conn
        self.committed = False

    def entries_after(self, size: int) -> Iterator[EntryRecord]:
        rows = self._conn.execute(_ENTRIES_AFTER, (size,)).fetchall()
        return group_versions(rows)  # type: ignore[arg-type]

    def append(self, entry: EntryRecord) -> None:
        row = self._conn.execute(_SIZE).fetchone()
        count = 0 if row is None else int(row[0])  # type: ignore[call-overload]
        # STORE-001: entries are appended at the next position only, never rewritten.
        if entry.position != count or not entry.versions:
            msg = f"entry {entry.position} is not the next of {count} committed entries"
            raise StorageError(msg, requirement="STORE-001")
        self._conn.execute(
            "INSERT INTO ckv_entries VALUES (%s, %s, %s, %s)",
            (entry.position, entry.timestamp, entry.prefix_root, entry.leaf),
        )
        with self._conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO ckv_versions VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        v.label,
                        v.version,
                        entry.position,
                        i,
                        v.value,
                        v.opening,
                        v.vrf_output,
                        v.vrf_proof,
                    )
                    for i, v in enumerate(entry.versions)
                ],
            )

    def commit(self) -> None:
        self._conn.commit()
        self.committed = True


class PostgresStorage:
    """:class:`~ckv.service.storage.Storage` in a PostgreSQL database shared by processes."""

    def __init__(self, url: str) -> None:
        try:
            self._writer: psycopg.Connection[tuple[object, ...]] = psycopg.connect(url)
            self._reader: psycopg.Connection[tuple[object, ...]] = psycopg.connect(
                url, autocommit=True
            )
            with self._writer.transaction():
                # Processes starting together create the schema one at a time.
                self._writer.execute("SELECT pg_advisory_xact_lock(%s)", (_PUBLISH_LOCK,))
                for statement in _SCHEMA:
                    self._writer.execute(statement)
                self._writer.execute(
                    "INSERT INTO ckv_meta VALUES ('schema', %s) ON CONFLICT DO NOTHING",
                    (str(SCHEMA_VERSION).encode(),),
                )
        except psycopg.Error as error:
            msg = f"cannot open the PostgreSQL database: {error}"
            raise StorageError(msg, requirement="STORE-004") from error
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        stored = self._meta("schema")
        # STORE-004: a database of another layout is refused, never reinterpreted.
        if stored != str(SCHEMA_VERSION).encode():
            msg = f"database layout {stored!r} is not {SCHEMA_VERSION}"
            raise StorageError(msg, requirement="STORE-004")

    def _meta(self, key: str) -> bytes | None:
        with self._read_lock:
            row = self._reader.execute(
                "SELECT value FROM ckv_meta WHERE key = %s", (key,)
            ).fetchone()
        return None if row is None else bytes(row[0])  # type: ignore[call-overload]

    def configuration(self) -> bytes | None:
        """See :meth:`ckv.service.storage.Storage.configuration`."""
        return self._meta("config")

    def initialise(self, configuration: bytes) -> None:
        """See :meth:`ckv.service.storage.Storage.initialise`."""
        with self._write_lock:
            try:
                with self._writer.transaction():
                    self._writer.execute(
                        "INSERT INTO ckv_meta VALUES ('config', %s)", (configuration,)
                    )
            except psycopg.errors.UniqueViolation as error:
                msg = "the database already belongs to a configuration"
                raise StorageError(msg, requirement="STORE-004") from error

    def size(self) -> int:
        """See :meth:`ckv.service.storage.Storage.size`."""
        with self._read_lock:
            row = self._reader.execute(_SIZE).fetchone()
        return 0 if row is None else int(row[0])  # type: ignore[call-overload]

    def entries_after(self, size: int) -> Iterator[EntryRecord]:
        """See :meth:`ckv.service.storage.Storage.entries_after`."""
        with self._read_lock:
            rows = self._reader.execute(_ENTRIES_AFTER, (size,)).fetchall()
        return group_versions(rows)  # type: ignore[arg-type]

    @contextmanager
    def publish(self) -> Iterator[PublishTransaction]:
        """See :meth:`ckv.service.storage.Storage.publish`."""
        with self._write_lock:
            conn = self._writer
            tx = _Transaction(conn)
            try:
                # STORE-005: one publisher at a time, across every process of the database.
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PUBLISH_LOCK,))
                yield tx
            finally:
                if not tx.committed:
                    conn.rollback()

    def owner_start(self, client_id: str, label: bytes) -> int | None:
        """See :meth:`ckv.service.storage.Storage.owner_start`."""
        with self._read_lock:
            row = self._reader.execute(
                "SELECT start FROM ckv_owner_starts WHERE client_id = %s AND label = %s",
                (client_id, label),
            ).fetchone()
        return None if row is None else int(row[0])  # type: ignore[call-overload]

    def set_owner_start(self, client_id: str, label: bytes, start: int) -> None:
        """See :meth:`ckv.service.storage.Storage.set_owner_start`."""
        with self._write_lock, self._writer.transaction():
            self._writer.execute(
                "INSERT INTO ckv_owner_starts VALUES (%s, %s, %s) "
                "ON CONFLICT (client_id, label) DO UPDATE SET start = excluded.start",
                (client_id, label, start),
            )

    def bytes_used(self) -> int:
        """See :meth:`ckv.service.storage.Storage.bytes_used`."""
        with self._read_lock:
            row = self._reader.execute(
                "SELECT sum(pg_total_relation_size(c)) FROM unnest(ARRAY["
                "'ckv_meta', 'ckv_entries', 'ckv_versions', 'ckv_owner_starts']::regclass[]) c"
            ).fetchone()
        return 0 if row is None or row[0] is None else int(row[0])  # type: ignore[call-overload]

    def close(self) -> None:
        """See :meth:`ckv.service.storage.Storage.close`."""
        self._writer.close()
        self._reader.close()
