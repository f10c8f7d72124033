"""A directory whose log survives crashes: the in-memory directory over a Storage (STORE-nnn).

:class:`DurableDirectory` is an :class:`~ckv.directory.memory.InMemoryDirectory`
(the same answer functions, the same acceptance validator, the same owner
starting positions) whose log is rebuilt from, and written through to, a
:class:`~ckv.service.storage.Storage`:

* Start: every stored entry is replayed into a fresh
  :class:`~ckv.transparency_log.TransparencyLog`. The stored openings feed the
  log's ``random_bytes`` and the stored VRF results its ``evaluate_vrf``, so the
  rebuilt log is the same bit for bit; each replayed entry's prefix tree root and
  log tree leaf are checked against the stored ones (STORE-003).
* Publish: under the storage's publish lock the directory catches up with entries
  other processes wrote, sequences the entry in memory, appends it and commits;
  only then is it visible to readers and acknowledged (STORE-001, STORE-005).
* Read: every answer is computed on the log as of its last committed entry
  (STORE-006), so a reader never sees an entry a crash could take back.

A failed write leaves the in-memory log ahead of the database; the directory
then refuses to answer until it has rebuilt its log from the database.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar, cast

from ckv import wire
from ckv.cipher_suites import VrfResult, get_suite
from ckv.directory import DirectoryRefused, DirectoryUnavailable, RefusalReason
from ckv.directory.memory import ANONYMOUS, Clock, InMemoryDirectory, Validator
from ckv.directory.policy import ckv_validator
from ckv.search import SearchLogView
from ckv.service.storage import EntryRecord, PublishTransaction, Storage, StorageError
from ckv.service.storage import StoredVersion as StoredPair
from ckv.transparency_log import (
    LogAt,
    LogKeys,
    RandomBytes,
    SequencedEntry,
    TransparencyLog,
    UpdateResult,
)
from ckv.wire import messages

__all__ = ["DurableDirectory", "open_directory"]

_R = TypeVar("_R")
_EMPTY_SUFFIX = messages.UpdateSuffix()


def _size(log: TransparencyLog) -> int:
    return log.size


class _Replay:
    """The log's randomness and VRF: stored values while replaying, fresh ones otherwise."""

    def __init__(self, keys: LogKeys, random_bytes: RandomBytes) -> None:
        self._random = random_bytes
        self._suite = get_suite(keys.config.ciphersuite)
        self._secret = keys.vrf_private_key
        self.openings: deque[bytes] = deque()
        self.vrf: dict[tuple[bytes, int], VrfResult] = {}

    def random_bytes(self, n: int) -> bytes:
        if self.openings:
            return self.openings.popleft()
        return self._random(n)

    def evaluate_vrf(self, label: bytes, version: int) -> VrfResult:
        stored = self.vrf.pop((label, version), None)
        if stored is not None:
            return stored
        return self._suite.vrf_prove(self._secret, label, version)


class _Starts:
    """Owners' starting positions (DIRAPI-010), kept in the storage, shared by processes.

    Writes are buffered and flushed after the directory's state lock is released,
    so a reader never waits for the database's write lock while holding it.
    """

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._pending: dict[tuple[str, bytes], int] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, bytes], default: int | None = None) -> int | None:
        with self._lock:
            pending = self._pending.get(key)
        if pending is not None:
            return pending
        found = self._storage.owner_start(*key)
        return default if found is None else found

    def __setitem__(self, key: tuple[str, bytes], start: int) -> None:
        with self._lock:
            self._pending[key] = start

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        for (client_id, label), start in pending.items():
            self._storage.set_owner_start(client_id, label, start)


class DurableDirectory(InMemoryDirectory):
    """An :class:`InMemoryDirectory` whose log lives in a :class:`Storage` (module docstring)."""

    def __init__(
        self,
        keys: LogKeys,
        storage: Storage,
        *,
        clock: Clock,
        random_bytes: RandomBytes = secrets.token_bytes,
        validator: Validator | None = None,
    ) -> None:
        self._storage = storage
        self._replay = _Replay(keys, random_bytes)
        self._publish_lock = threading.Lock()
        self._state_lock = threading.RLock()
        self._committed = 0
        self._poisoned = False
        self._tx: PublishTransaction | None = None
        self._starting = True
        encoded = wire.encode(keys.config, suite=keys.config.ciphersuite)
        stored = storage.configuration()
        if stored is None:
            storage.initialise(encoded)
        # STORE-004: a database serves the configuration it was created with, and no other.
        elif stored != encoded:
            msg = "the database belongs to another directory configuration"
            raise StorageError(msg, requirement="STORE-004")
        base_clock = clock

        def monotone() -> int:
            # LOGOP-003: never ask the log for a time before its last entry (clocks of
            # several processes may disagree by a little).
            log = getattr(self, "_log", None)
            now = base_clock()
            if log is not None and log.size:
                now = max(now, log.timestamp(log.size - 1))
            return now

        super().__init__(keys, clock=monotone, random_bytes=random_bytes, validator=validator)
        self._starting = False
        self._starts = cast("dict[tuple[str, bytes], int]", _Starts(storage))

    # -- building the log from storage --------------------------------------------------------

    def _create_log(self, keys: LogKeys, random_bytes: RandomBytes) -> TransparencyLog:
        del random_bytes
        replay = self._replay
        log = TransparencyLog(
            keys, random_bytes=replay.random_bytes, evaluate_vrf=replay.evaluate_vrf
        )
        self._apply(log, self._storage.entries_after(0))
        return log

    def _apply(self, log: TransparencyLog, entries: Iterable[EntryRecord]) -> None:
        """Replay stored entries into ``log`` and check each one's root and leaf."""
        replay = self._replay
        for entry in entries:
            if entry.position != log.size:
                msg = f"stored entry {entry.position} follows {log.size} entries in memory"
                raise StorageError(msg, requirement="STORE-003")
            for pair in entry.versions:
                replay.vrf[pair.label, pair.version] = VrfResult(pair.vrf_output, pair.vrf_proof)
                replay.openings.append(pair.opening)
                change = log.stage(
                    pair.label, [messages.UpdateValue(value=pair.value, suffix=_EMPTY_SUFFIX)]
                )
                if change.first_version != pair.version:
                    msg = (
                        f"stored version {pair.version} of label {pair.label.hex()} replays "
                        f"as version {change.first_version}"
                    )
                    raise StorageError(msg, requirement="STORE-003")
            sequenced = log.sequence(entry.timestamp)
            replay.vrf.clear()
            replay.openings.clear()
            # STORE-003: the replayed entry is the one that was published, bit for bit.
            if sequenced.prefix_root != entry.prefix_root or sequenced.leaf != entry.leaf:
                msg = f"stored entry {entry.position} does not replay to its recorded root"
                raise StorageError(msg, requirement="STORE-003")
        self._committed = log.size

    def _record(self, entry: SequencedEntry) -> EntryRecord:
        pairs = []
        for change in entry.changes:
            for version in change.versions:
                record = self._log.record(change.label, version)
                if record is None or record.update is None or record.opening is None:
                    msg = f"version {version} of {change.label.hex()} has nothing to store"
                    raise StorageError(msg, requirement="STORE-002")
                pairs.append(
                    StoredPair(
                        change.label,
                        version,
                        record.update.value,
                        record.opening,
                        record.vrf_output,
                        record.vrf_proof,
                    )
                )
        return EntryRecord(
            entry.position, entry.timestamp, entry.prefix_root, entry.leaf, tuple(pairs)
        )

    def _persist(self, tx: PublishTransaction, entry: SequencedEntry) -> None:
        try:
            tx.append(self._record(entry))
            tx.commit()
        except Exception as error:
            # The log in memory is now ahead of the database: rebuild before answering.
            self._poisoned = True
            msg = f"entry {entry.position} could not be stored: {error}"
            raise DirectoryUnavailable(msg) from error
        # STORE-006: readers see the entry once, and only once, it is committed.
        self._committed = entry.position + 1

    def _catch_up(self, tx: PublishTransaction | None) -> None:
        """Apply entries other processes committed (caller holds the publish lock)."""
        with self._state_lock:
            if self._poisoned:
                self._log = self._create_log(self._keys, self._replay.random_bytes)
                self._poisoned = False
                return
            source = self._storage if tx is None else tx
            self._apply(self._log, source.entries_after(self._log.size))

    def refresh(self) -> None:
        """Catch up with entries other processes committed, unless a publish is under way."""
        if not self._poisoned and self._storage.size() <= self._log.size:
            return
        if self._publish_lock.acquire(blocking=False):
            try:
                self._catch_up(None)
            finally:
                self._publish_lock.release()
        if self._poisoned:
            msg = "the directory is rebuilding its log after a failed write"
            raise DirectoryUnavailable(msg)

    # -- hooks ----------------------------------------------------------------------------------

    def _view(self, client_id: str) -> SearchLogView:
        del client_id
        # STORE-006: answers come from the committed entries only.
        return LogAt(self._log, self._committed)

    def _sequence_update(
        self, client_id: str, requests: Sequence[messages.UpdateRequest], now_ms: int
    ) -> UpdateResult:
        del client_id
        tx = self._tx
        assert tx is not None, "updates run inside update_batch"
        with self._state_lock:
            result = self._log.update(requests, now_ms=now_ms)
        if result.entry is not None:
            self._persist(tx, result.entry)
        return result

    def _sequence_heartbeat(self, now_ms: int) -> SequencedEntry:
        if self._starting:
            if self._log.size:
                # A restart: the stored log is served as it is.
                return cast("SequencedEntry", None)
            with self._storage.publish() as tx:
                # STORE-005: another process may have created the first entry meanwhile.
                self._apply(self._log, tx.entries_after(0))
                if _size(self._log):
                    return cast("SequencedEntry", None)
                entry = self._log.heartbeat(now_ms)
                self._persist(tx, entry)
                return entry
        with self._publish_lock, self._storage.publish() as tx:
            self._catch_up(tx)
            with self._state_lock:
                entry = self._log.heartbeat(self._clock())
            self._persist(tx, entry)
            return entry

    # -- the transport, made durable and thread-safe --------------------------------------------

    @property
    def storage(self) -> Storage:
        """The storage the log lives in."""
        return self._storage

    @property
    def committed_size(self) -> int:
        """The number of committed entries (what readers are answered from)."""
        return self._committed

    def update_batch(
        self, requests: Sequence[messages.UpdateRequest], *, client_id: str = ANONYMOUS
    ) -> tuple[messages.UpdateResponse | DirectoryRefused, ...]:
        """Validate, sequence and commit one entry; answers once it is durable (STORE-001)."""
        with self._publish_lock, self._storage.publish() as tx:
            self._catch_up(tx)
            self._tx = tx
            try:
                # Only this thread changes the log while it holds the publish lock, so the
                # validator reads it without the state lock.
                answers = super().update_batch(requests, client_id=client_id)
            finally:
                self._tx = None
        cast("_Starts", self._starts).flush()
        return answers

    def _answer_update(
        self,
        client_id: str,
        view: SearchLogView,
        request: messages.UpdateRequest,
        position: int,
    ) -> messages.UpdateResponse:
        with self._state_lock:
            return super()._answer_update(client_id, view, request, position)

    def _locked(self, call: Callable[[], _R]) -> _R:
        self.refresh()
        with self._state_lock:
            result = call()
        cast("_Starts", self._starts).flush()
        return result

    def search(
        self, request: messages.SearchRequest, *, client_id: str = ANONYMOUS
    ) -> messages.SearchResponse:
        """KEYTRANS §13.1 on the committed log."""
        return self._locked(
            lambda: super(DurableDirectory, self).search(request, client_id=client_id)
        )

    def contact_monitor(
        self, request: messages.ContactMonitorRequest, *, client_id: str = ANONYMOUS
    ) -> messages.ContactMonitorResponse:
        """KEYTRANS §13.2 on the committed log."""
        return self._locked(
            lambda: super(DurableDirectory, self).contact_monitor(request, client_id=client_id)
        )

    def owner_init(
        self, request: messages.OwnerInitRequest, *, client_id: str = ANONYMOUS
    ) -> messages.OwnerInitResponse:
        """KEYTRANS §13.3 on the committed log; the start is stored (DIRAPI-010)."""
        return self._locked(
            lambda: super(DurableDirectory, self).owner_init(request, client_id=client_id)
        )

    def owner_monitor(
        self, request: messages.OwnerMonitorRequest, *, client_id: str = ANONYMOUS
    ) -> messages.OwnerMonitorResponse:
        """KEYTRANS §13.4 on the committed log; the start is stored (DIRAPI-010)."""
        return self._locked(
            lambda: super(DurableDirectory, self).owner_monitor(request, client_id=client_id)
        )

    def distinguished(
        self, request: messages.DistinguishedRequest, *, client_id: str = ANONYMOUS
    ) -> messages.DistinguishedResponse:
        """KEYTRANS §13.6 on the committed log."""
        return self._locked(
            lambda: super(DurableDirectory, self).distinguished(request, client_id=client_id)
        )

    def auditor_update(self, position: int) -> messages.AuditorUpdate:
        """The ``AuditorUpdate`` of committed entry ``position`` (KEYTRANS §15.2): the feed."""

        def answer() -> messages.AuditorUpdate:
            if not 0 <= position < self._committed:
                msg = f"entry {position} is not among the {self._committed} committed entries"
                raise DirectoryRefused(msg, reason=RefusalReason.NOT_FOUND, requirement="API-012")
            return self._log.auditor_update(position)

        return self._locked(answer)

    def tree_head(self) -> messages.FullTreeHead:
        """A freshly signed head at the committed size."""
        return self._locked(lambda: self._log.full_tree_head(self._committed))


def open_directory(
    keys: LogKeys,
    storage: Storage,
    *,
    clock: Clock,
    random_bytes: RandomBytes = secrets.token_bytes,
) -> DurableDirectory:
    """A :class:`DurableDirectory` with CKV's acceptance policy (DIR-001, DIR-002)."""
    made: list[DurableDirectory] = []

    def value_at(label: bytes, version: int) -> bytes | None:
        return made[0].value(label, version)

    def greatest(label: bytes) -> int | None:
        return made[0].greatest_version(label)

    validator = ckv_validator(keys.config.ciphersuite, value_at, greatest)
    directory = DurableDirectory(
        keys, storage, clock=clock, random_bytes=random_bytes, validator=validator
    )
    made.append(directory)
    return directory
