"""The end-to-end encrypted sync channel between an account's devices (chapter "Accounts").

The account private key and the account's journal (what its devices published)
travel only through this channel. :class:`SyncChannel` is the interface a
device uses; :class:`InMemorySyncService` is the reference's stand-in for the
service that stores the record: it only ever sees a ciphertext, sealed with
ChaCha20-Poly1305 under a sync key that exists on the account's devices alone.
Writes are compare-and-swap on a generation number, so that two siblings
writing at once cannot lose each other's journal entries (SYNC-004).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from ckv import wire
from ckv.errors import CKVError, DecodeError, UsageError, VerificationError
from ckv.wire.messages import CipherSuite, SyncRecord

__all__ = [
    "SYNC_KEY_SIZE",
    "InMemorySyncService",
    "SyncChannel",
    "SyncConflictError",
    "SyncSnapshot",
]

#: SYNC-001: the sync key is 32 random bytes held by the account's devices only.
SYNC_KEY_SIZE = 32
_NONCE_SIZE = 12
_AAD = b"CKV-v1 sync record"


class SyncConflictError(CKVError):
    """Another device wrote the record since it was read: read again and retry."""


@dataclass(frozen=True, slots=True)
class SyncSnapshot:
    """A decrypted sync record and the generation it was read at."""

    record: SyncRecord
    generation: int


class SyncChannel(Protocol):
    """What a device needs from the sync channel."""

    def read(self) -> SyncSnapshot | None:
        """The current record, or None if the account has none yet."""
        ...

    def write(self, record: SyncRecord, *, generation: int) -> int:
        """Replace the record read at ``generation``; return the new generation.

        Raises :class:`SyncConflictError` if another write came first.
        """
        ...


@dataclass
class _Stored:
    generation: int
    ciphertext: bytes


@dataclass
class InMemorySyncService:
    """The storage side of the sync channel: ciphertexts per account, nothing else."""

    random_bytes: Callable[[int], bytes]
    suite: CipherSuite = CipherSuite.KT_128_SHA256_Ed25519
    _records: dict[bytes, _Stored] = field(default_factory=dict)

    def ciphertext(self, account_id: bytes) -> bytes | None:
        """What the service holds for an account (tests check it reveals nothing)."""
        stored = self._records.get(account_id)
        return stored.ciphertext if stored else None

    def channel(self, account_id: bytes, sync_key: bytes) -> _DeviceChannel:
        """A device's end of the channel, holding the sync key (SYNC-001)."""
        if len(sync_key) != SYNC_KEY_SIZE:
            msg = f"a sync key is {SYNC_KEY_SIZE} bytes, not {len(sync_key)}"
            raise UsageError(msg, requirement="SYNC-001")
        return _DeviceChannel(self, account_id, ChaCha20Poly1305(sync_key))

    def _get(self, account_id: bytes) -> _Stored | None:
        return self._records.get(account_id)

    def _put(self, account_id: bytes, generation: int, ciphertext: bytes) -> int:
        current = self._records.get(account_id)
        current_generation = current.generation if current else 0
        # SYNC-004: a write based on an old read is refused, never merged silently.
        if generation != current_generation:
            msg = (
                f"the sync record is at generation {current_generation}; this write was "
                f"based on generation {generation}"
            )
            raise SyncConflictError(msg, requirement="SYNC-004")
        self._records[account_id] = _Stored(generation + 1, ciphertext)
        return generation + 1


@dataclass
class _DeviceChannel:
    service: InMemorySyncService
    account_id: bytes
    aead: ChaCha20Poly1305

    def _aad(self, generation: int) -> bytes:
        return _AAD + self.account_id + generation.to_bytes(8, "big")

    def read(self) -> SyncSnapshot | None:
        stored = self.service._get(self.account_id)
        if stored is None:
            return None
        nonce, sealed = stored.ciphertext[:_NONCE_SIZE], stored.ciphertext[_NONCE_SIZE:]
        try:
            # SYNC-002: the record is authenticated with the account id and generation.
            plain = self.aead.decrypt(nonce, sealed, self._aad(stored.generation))
            record = wire.decode(SyncRecord, plain, suite=self.service.suite)
        except (InvalidTag, DecodeError):
            msg = "the sync record does not decrypt under this device's sync key"
            raise VerificationError(msg, requirement="SYNC-002") from None
        return SyncSnapshot(record, stored.generation)

    def write(self, record: SyncRecord, *, generation: int) -> int:
        plain = wire.encode(record, suite=self.service.suite)
        nonce = self.service.random_bytes(_NONCE_SIZE)
        # SYNC-002: sealed under the sync key; the service stores only this ciphertext.
        sealed = self.aead.encrypt(nonce, plain, self._aad(generation + 1))
        return self.service._put(self.account_id, generation, nonce + sealed)
