"""What every CKV device does, whatever its role: the core shared by the chapters' modules.

:class:`DeviceCore` holds one device's record, its key-transparency client
(:class:`~ckv.kt_client.KTClient`) and its end of the account's sync channel,
and raises alerts with their evidence. The behaviour of the spec's chapters
builds on it: enrollment (:mod:`ckv.device`), self-monitoring
(:mod:`ckv.self_monitoring`) and automatic verification of contacts
(:mod:`ckv.contact_verification`). Time and randomness are injected; every
exchange with the directory goes through the transport the device was given,
so the same code runs against the in-memory directory, an adversarial one, or
an HTTP client.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ckv.account import (
    AccountKeyPair,
    decode_account_state,
    decode_handle_binding,
    is_capable,
    validate_account_state,
)
from ckv.alerts import (
    alert_code_for,
    exchange_evidence,
    lookup_evidence,
    make_alert,
    transport_evidence,
)
from ckv.cipher_suites import get_suite
from ckv.directory import DirectoryTransport
from ckv.directory.recording import RecordingTransport
from ckv.errors import CKVError, UsageError
from ckv.identity import account_label, parse_label
from ckv.kt_client import KTClient
from ckv.public_code import PublicCode
from ckv.sync import InMemorySyncService, SyncConflictError, SyncSnapshot
from ckv.wire.messages import (
    AccountState,
    Alert,
    AlertCode,
    DeviceCapability,
    DeviceRecord,
    Evidence,
    LabelKind,
    MessagingKey,
    MessagingKeyType,
    OptIn,
    SyncRecord,
)

if TYPE_CHECKING:
    from ckv.contact_verification import ContactRecord

__all__ = ["DeviceCore", "epoch_of"]

_MAX_SYNC_RETRIES = 8
#: How far back a device looks for its account's own newest state.
_MAX_WALK_BACK = 64


def epoch_of(label: bytes, value: bytes) -> int | None:
    """The epoch an own label's value carries, or None if it is no CKV value."""
    try:
        if parse_label(label).kind is LabelKind.account:
            return decode_account_state(value).state.epoch
        return decode_handle_binding(value).binding.epoch
    except CKVError:
        return None


class DeviceCore:
    """One device of one account: its record, its directory client, its sync channel."""

    def __init__(
        self,
        name: str,
        *,
        transport: DirectoryTransport,
        sync: InMemorySyncService,
        clock: Callable[[], int],
        random_bytes: Callable[[int], bytes],
        protocol_version: int = 2,
        software_version: int = 1,
    ) -> None:
        self.name = name
        self.clock = clock
        self.random_bytes = random_bytes
        self.transport = RecordingTransport(transport)
        self.kt = KTClient.connect(self.transport, clock=clock)
        self.config = self.kt.config
        self.suite = self.config.ciphersuite
        self._sync_service = sync
        capabilities = (
            (DeviceCapability.ckv, DeviceCapability.in_person_code, DeviceCapability.public_code)
            if protocol_version >= 2
            else ()
        )
        self.record = DeviceRecord(
            device_id=random_bytes(16),
            protocol_version=protocol_version,
            software_version=software_version,
            capabilities=capabilities,
            messaging_keys=(MessagingKey(key_type=MessagingKeyType.x25519, key=random_bytes(32)),),
            enrolled_at=clock(),
        )
        self.account_id: bytes | None = None
        self._sync_key: bytes | None = None
        self.alerts: list[Alert] = []
        self.contacts: dict[bytes, ContactRecord] = {}
        self._owned: set[bytes] = set()
        self._own_state: AccountState | None = None
        self._codes: dict[bytes, PublicCode] = {}
        self._raised: dict[tuple[object, ...], Alert] = {}
        #: Per own label: the newest version the journal explained, and its epoch.
        self._explained: dict[bytes, tuple[int, int]] = {}

    @property
    def device_id(self) -> bytes:
        """This device's identifier."""
        return self.record.device_id

    @property
    def capable(self) -> bool:
        """Whether this device can take part in CKV (ACCT-005)."""
        return is_capable(self.record)

    def __repr__(self) -> str:
        return f"Device({self.name!r}, {self.device_id.hex()[:8]})"

    def _read_sync(self) -> SyncSnapshot:
        if self.account_id is None or self._sync_key is None:
            msg = f"{self.name} holds no sync key: it is not a capable device of an account"
            raise UsageError(msg, requirement="SYNC-001")
        snapshot = self._sync_service.channel(self.account_id, self._sync_key).read()
        if snapshot is None:
            msg = "the account has no sync record"
            raise UsageError(msg, requirement="SYNC-001")
        return snapshot

    def _update_sync(self, change: Callable[[SyncRecord], SyncRecord]) -> SyncRecord:
        """Apply ``change`` to the sync record with compare-and-swap (SYNC-004)."""
        assert self.account_id is not None
        assert self._sync_key is not None
        channel = self._sync_service.channel(self.account_id, self._sync_key)
        for _ in range(_MAX_SYNC_RETRIES):
            snapshot = self._read_sync()
            record = change(snapshot.record)
            try:
                channel.write(record, generation=snapshot.generation)
            except SyncConflictError:
                continue
            return record
        msg = "the sync record kept changing under this device"
        raise SyncConflictError(msg, requirement="SYNC-004")

    def _pair(self) -> AccountKeyPair:
        record = self._read_sync().record
        return AccountKeyPair(record.account_key, record.account_private_key)

    def journal(self) -> SyncRecord:
        """The account's sync record as this device reads it."""
        return self._read_sync().record

    @property
    def ckv_on(self) -> bool:
        """Whether this device's account had CKV on when this device last checked."""
        return self._own_state is not None and self._own_state.ckv is OptIn.on

    def account_state(self) -> AccountState:
        """The account's current state: the newest version its own devices published.

        A device builds every change on this state, never on a version the journal
        does not explain (one the directory made up): versions are read from the
        greatest down until the journal explains one (SELF-003).
        """
        if self.account_id is None:
            msg = f"{self.name} does not belong to an account"
            raise UsageError(msg)
        label = account_label(self.account_id)
        entries = [e for e in self.journal().entries if e.label == label]
        if not entries:
            msg = "the journal records no state of this account"
            raise UsageError(msg, requirement="SELF-003")
        # The newest state is the explained version with the greatest epoch. Usually that
        # is the journal's newest entry at the greatest version; a replayed old value or a
        # value that never reached the directory makes the device look further back.
        epochs = {e.value_hash: e.epoch for e in entries}
        newest = max(epochs.values())
        lookup = self.kt.lookup(label)
        version, value = lookup.version, lookup.value
        hash_fn = get_suite(self.suite).hash
        best: tuple[int, bytes] | None = None
        for _ in range(_MAX_WALK_BACK):
            epoch = epochs.get(hash_fn(value))
            if epoch is not None and (best is None or epoch > best[0]):
                best = (epoch, value)
                if epoch == newest:
                    break
            if version == 0:
                break
            version -= 1
            value = self.kt.lookup(label, version=version).value
        if best is not None:
            state = validate_account_state(label, best[1], suite=self.suite)
            self._own_state = state
            return state
        msg = "the account's newest state, as its journal records it, is not in the directory"
        raise UsageError(msg, requirement="SELF-003")

    def _raise(
        self,
        code: AlertCode,
        subject: bytes,
        evidence: Sequence[Evidence] | Callable[[], Sequence[Evidence]],
        device_id: bytes = b"",
        *,
        once: tuple[object, ...] | None = None,
    ) -> Alert:
        """Raise an alert; with ``once``, an alert already raised for that key is not repeated."""
        if once is not None:
            known = self._raised.get(once)
            if known is not None:
                return known
        alert = make_alert(
            code,
            subject=subject,
            observed_at=self.clock(),
            directory=self.config,
            evidence=evidence() if callable(evidence) else evidence,
            device_id=device_id,
        )
        self.alerts.append(alert)
        if once is not None:
            self._raised[once] = alert
        return alert

    def _evidence(self, label: bytes, version: int | None = None) -> Evidence:
        request, response = self.kt.evidence_lookup(label, version=version)
        return lookup_evidence(request, response, self.config)

    def _failure_alert(self, error: CKVError, subject: bytes) -> Alert:
        code = alert_code_for(error)
        if code is AlertCode.directory_unreachable:
            return self._raise(code, subject, [transport_evidence(str(error))])
        request, response = self.transport.last_exchange(self.config)
        evidence = exchange_evidence(request, response, error.requirement or "VERIFY-010")
        return self._raise(code, subject, [evidence])
