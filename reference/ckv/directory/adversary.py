"""A key directory that misbehaves on command, for tests, demos and models.

:class:`AdversarialDirectory` is an :class:`~ckv.directory.memory.InMemoryDirectory`
(same log, same answer functions, same validator) with commands that make it
lie. Clients are told apart by their transport handles: ``directory.client("alice")``
returns the transport of client ``"alice"``, and every per-client command takes
``clients`` (``None``: every client, the anonymous one included).

* :meth:`~AdversarialDirectory.inject`: publish a version of a label that its owner
  did not make, bypassing the validator.
* :meth:`~AdversarialDirectory.rollback`: republish the value of an older version
  as a new version (a replayed state).
* :meth:`~AdversarialDirectory.fork`: from now on show the chosen clients another
  branch of the log, signed with the same key, in which a label has a forged
  version. The branches advance in lock step: each entry sequenced on one is
  matched by an entry with the same timestamp on the other (a heartbeat), so that
  both have the same size and distinguished entries, and two clients of different
  branches who exchange their distinguished heads find a size at which the roots
  differ (FORK-001, FORK-003).
* :meth:`~AdversarialDirectory.go_silent`: every call raises
  :class:`~ckv.directory.DirectoryUnavailable`.
* :meth:`~AdversarialDirectory.serve_stale`: answer from the log as it was at a
  frozen size, whatever the clock says, so that a client's ``max_behind`` check
  fires once the clock has moved on (SUITE-020).
* :meth:`~AdversarialDirectory.tamper`: flip one bit of the proof in the next
  response.

The two branches are two :class:`~ckv.transparency_log.TransparencyLog` driven by
:class:`ckv._testing.malicious_log.ForkingLog`; until the fork they are identical
bit for bit (their commitment openings come from one source, replayed).
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import fields, is_dataclass, replace
from typing import Any, TypeVar

from ckv._testing.malicious_log import ForkingLog, LogAt
from ckv.directory import DirectoryUnavailable
from ckv.directory.memory import Clock, InMemoryDirectory, Validator
from ckv.errors import UsageError
from ckv.search import SearchLogView
from ckv.transparency_log import (
    LogKeys,
    RandomBytes,
    SequencedEntry,
    TransparencyLog,
    UpdateResult,
)
from ckv.wire import messages

__all__ = ["AdversarialDirectory", "tamper_response"]

_R = TypeVar("_R")

#: A command's scope: these client ids, or every client (None).
Clients = Collection[str] | None


class _ReplayedRandom:
    """One source of random bytes for two branches: the second replays the first."""

    def __init__(self, source: RandomBytes) -> None:
        self._source = source
        self._queue: deque[bytes] = deque()
        self._joined = True
        self._ends = 0

    def split(self) -> None:
        """From now on each end draws from the source on its own."""
        self._joined = False
        self._queue.clear()

    def end(self) -> RandomBytes:
        """The next end: the first draws and records, the second replays."""
        first = self._ends == 0
        self._ends += 1

        def draw(n: int) -> bytes:
            if first:
                data = self._source(n)
                if self._joined:
                    self._queue.append(data)
                return data
            if self._joined and self._queue:
                data = self._queue.popleft()
                if len(data) == n:
                    return data
            return self._source(n)

        return draw


def _flip(data: bytes) -> bytes:
    return bytes([data[0] ^ 0x01]) + data[1:]


def _tamper_proof(proof: messages.CombinedTreeProof) -> messages.CombinedTreeProof | None:
    inclusion = proof.inclusion
    if inclusion.elements:
        elements = (_flip(inclusion.elements[0]), *inclusion.elements[1:])
        return replace(proof, inclusion=replace(inclusion, elements=elements))
    if proof.prefix_roots:
        return replace(proof, prefix_roots=(_flip(proof.prefix_roots[0]), *proof.prefix_roots[1:]))
    for i, prefix in enumerate(proof.prefix_proofs):
        if prefix.elements:
            changed = replace(prefix, elements=(_flip(prefix.elements[0]), *prefix.elements[1:]))
            proofs = (*proof.prefix_proofs[:i], changed, *proof.prefix_proofs[i + 1 :])
            return replace(proof, prefix_proofs=proofs)
    return None


def tamper_response(response: _R) -> _R:
    """``response`` with one bit of its proof flipped.

    The bit is the first of the ``CombinedTreeProof``'s first inclusion element, or
    failing that of its first prefix root or prefix proof element; a response whose
    proof has none of them gets its tree head signature flipped instead.
    """
    if not is_dataclass(response) or isinstance(response, type):
        msg = f"cannot tamper with a {type(response).__name__}"
        raise UsageError(msg)
    changes: dict[str, Any] = {}
    for f in fields(response):
        value = getattr(response, f.name)
        if isinstance(value, messages.CombinedTreeProof):
            tampered = _tamper_proof(value)
            if tampered is not None:
                changes[f.name] = tampered
                break
    if not changes:
        head = getattr(response, "full_tree_head", None)
        if not isinstance(head, messages.FullTreeHead) or head.tree_head is None:
            msg = "the response has nothing to tamper with"
            raise UsageError(msg)
        signed = replace(head.tree_head, signature=_flip(head.tree_head.signature))
        changes["full_tree_head"] = replace(head, tree_head=signed)
    result: _R = replace(response, **changes)
    return result


class AdversarialDirectory(InMemoryDirectory):
    """An :class:`InMemoryDirectory` that misbehaves on command (see the module docstring)."""

    def __init__(
        self,
        keys: LogKeys,
        *,
        clock: Clock,
        random_bytes: RandomBytes = secrets.token_bytes,
        validator: Validator | None = None,
    ) -> None:
        self._random = _ReplayedRandom(random_bytes)
        self._forking = ForkingLog(keys, self._random.end)
        self._forked: set[str] = set()
        self._silent: set[str | None] = set()
        self._stale: dict[str | None, int] = {}
        self._tamper: list[str | None] = []
        super().__init__(keys, clock=clock, random_bytes=random_bytes, validator=validator)

    # -- the hooks --------------------------------------------------------------------------

    def _create_log(self, keys: LogKeys, random_bytes: RandomBytes) -> TransparencyLog:
        del keys, random_bytes
        return self._forking.branch(0)

    @property
    def forked(self) -> bool:
        """Whether the log has forked."""
        return self._forking.fork_size is not None

    def branch(self, i: int) -> TransparencyLog:
        """Branch ``i`` of the log: 0 the main one, 1 the one forked clients see."""
        return self._forking.branch(i)

    def _branch_of(self, client_id: str) -> TransparencyLog:
        return self._forking.branch(1 if client_id in self._forked else 0)

    def _check_available(self, client_id: str) -> None:
        if None in self._silent or client_id in self._silent:
            msg = f"the directory did not answer client {client_id!r} (silent)"
            raise DirectoryUnavailable(msg)

    def _view(self, client_id: str) -> SearchLogView:
        log = self._branch_of(client_id)
        size = self._stale.get(client_id, self._stale.get(None))
        return log if size is None else LogAt(log, min(size, log.size))

    def _respond(self, client_id: str, response: _R) -> _R:
        for scope in (client_id, None):
            if scope in self._tamper:
                self._tamper.remove(scope)
                return tamper_response(response)
        return response

    def _sequence_update(
        self, client_id: str, requests: Sequence[messages.UpdateRequest], now_ms: int
    ) -> UpdateResult:
        if not self.forked:
            main, _ = self._forking.update(requests, now_ms=now_ms)
            return main
        log = self._branch_of(client_id)
        result = log.update(requests, now_ms=now_ms)
        if result.entry is not None:
            other = self._forking.branch(1 if log is self._forking.branch(0) else 0)
            other.heartbeat(now_ms)
        return result

    def _sequence_heartbeat(self, now_ms: int) -> SequencedEntry:
        main = self._forking.branch(0).heartbeat(now_ms)
        self._forking.branch(1).heartbeat(now_ms)
        return main

    # -- commands ---------------------------------------------------------------------------

    def _publish(self, label: bytes, values: Sequence[bytes], *, branch: int = 0) -> int:
        """Sequence new versions of ``label`` on ``branch`` (both before a fork), unchecked."""
        now = self._clock()
        logs = [self._forking.branch(0), self._forking.branch(1)]
        if not self.forked:
            for log in logs:
                log.stage(label, list(values))
                log.sequence(now)
            return logs[0].size - 1
        target, other = logs[branch], logs[1 - branch]
        target.stage(label, list(values))
        target.sequence(now)
        other.heartbeat(now)
        return target.size - 1

    def inject(self, label: bytes, value: bytes) -> int:
        """Publish a version of ``label`` its owner did not make; returns the entry."""
        return self._publish(label, [value])

    def rollback(self, label: bytes, to_version: int) -> int:
        """Republish the value of ``to_version`` as a new version; returns the entry."""
        old = self.value(label, to_version)
        if old is None:
            msg = f"label {label.hex()} has no value at version {to_version} to replay"
            raise UsageError(msg)
        return self._publish(label, [old])

    def fork(self, clients: Collection[str], *, label: bytes, value: bytes) -> int:
        """Show ``clients`` a branch in which ``label`` has the forged version ``value``.

        The main branch sequences a heartbeat at the same time. Returns the number of
        entries the branches share.
        """
        if self.forked:
            msg = "the directory has already forked"
            raise UsageError(msg)
        shared = self._forking.fork()
        self._random.split()
        self._forked.update(clients)
        self._publish(label, [value], branch=1)
        return shared

    def go_silent(self, on: bool, *, clients: Clients = None) -> None:
        """While on, every call of ``clients`` raises DirectoryUnavailable."""
        for scope in _scopes(clients):
            if on:
                self._silent.add(scope)
            else:
                self._silent.discard(scope)

    def serve_stale(self, on: bool, *, clients: Clients = None, size: int | None = None) -> None:
        """While on, answer ``clients`` from the log at ``size`` entries (default: now)."""
        frozen = self.size if size is None else size
        if not 1 <= frozen <= self.size:
            msg = f"a stale size {frozen} is not in [1, {self.size}]"
            raise UsageError(msg)
        for scope in _scopes(clients):
            if on:
                self._stale[scope] = frozen
            else:
                self._stale.pop(scope, None)

    def tamper(self, *, client: str | None = None) -> None:
        """Flip one bit of the proof in the next response to ``client`` (None: to anyone)."""
        self._tamper.append(client)


def _scopes(clients: Clients) -> list[str | None]:
    return [None] if clients is None else list(clients)
