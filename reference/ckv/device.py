"""A CKV device: enrollment, self-monitoring and automatic verification of contacts.

:class:`Device` ties the pieces together for one device of one account: its
device record, the account key and journal it shares with its siblings over the
sync channel (:mod:`ckv.sync`), and a key-transparency client
(:class:`~ckv.kt_client.KTClient`) that talks to the directory. Time and
randomness are injected; every exchange with the directory goes through the
transport the device was given, so the same code runs against the in-memory
directory, an adversarial one, or an HTTP client.

Alerts the device raises are appended to :attr:`Device.alerts` and returned by
the call that raised them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from ckv import wire
from ckv.account import (
    AccountKeyPair,
    AccountStateError,
    decode_account_state,
    decode_handle_binding,
    generate_account_key,
    is_capable,
    public_code_key,
    sign_handle_binding,
    validate_account_state,
    validate_handle_binding,
)
from ckv.alerts import (
    exchange_evidence,
    fork_evidence,
    lookup_evidence,
    make_alert,
    transport_evidence,
)
from ckv.cipher_suites import get_suite
from ckv.contact_state import INITIAL, CardEvent, CardState, next_state
from ckv.directory import DirectoryRefused, DirectoryTransport, DirectoryUnavailable, RefusalReason
from ckv.enrollment import (
    add_device,
    create_account,
    disable_ckv,
    enable_ckv,
    remove_device,
    rotate_account_key,
)
from ckv.errors import CKVError, UsageError
from ckv.identity import ACCOUNT_ID_SIZE, account_label, handle_label, new_account_id, parse_label
from ckv.kt_client import KTClient
from ckv.public_code import PublicCode
from ckv.public_code import parse as parse_code
from ckv.sync import SYNC_KEY_SIZE, InMemorySyncService, SyncConflictError, SyncSnapshot
from ckv.wire.messages import (
    AccountState,
    Alert,
    AlertCode,
    Configuration,
    ContactMonitorRequest,
    ContactMonitorResponse,
    DeviceCapability,
    DeviceRecord,
    DistinguishedRequest,
    DistinguishedResponse,
    Evidence,
    Handle,
    HandleBinding,
    JournalAlert,
    JournalDevice,
    JournalEntry,
    LabelKind,
    MessagingKey,
    MessagingKeyType,
    OptIn,
    OwnerInitRequest,
    OwnerInitResponse,
    OwnerMonitorRequest,
    OwnerMonitorResponse,
    SearchRequest,
    SearchResponse,
    SignedAccountState,
    SyncRecord,
    UpdateRequest,
    UpdateResponse,
)

__all__ = ["ContactRecord", "Device", "alert_code_for"]

#: The checks whose failure during verification raises a specific alert (VERIFY-007).
_ACCOUNT_ALERTS: dict[str, AlertCode] = {
    "ACCT-007": AlertCode.unrecognized_device,
    "ACCT-012": AlertCode.account_key_replaced,
    "ACCT-015": AlertCode.rollback,
    "IDENT-007": AlertCode.handle_mismatch,
    "IDENT-008": AlertCode.handle_mismatch,
    "IDENT-009": AlertCode.handle_mismatch,
    "IDENT-010": AlertCode.handle_mismatch,
}
_MAX_SYNC_RETRIES = 8
#: How far back a device looks for its account's own newest state.
_MAX_WALK_BACK = 64
_Q = TypeVar("_Q")
_A = TypeVar("_A")


def alert_code_for(error: CKVError) -> AlertCode:
    """The alert a failed check raises (VERIFY-007 to VERIFY-010)."""
    if isinstance(error, DirectoryUnavailable | DirectoryRefused):
        return AlertCode.directory_unreachable
    if isinstance(error, AccountStateError):
        return _ACCOUNT_ALERTS.get(error.requirement or "", AlertCode.signature_invalid)
    # VERIFY-009: a tree head older than max_behind.
    if error.requirement == "SUITE-020":
        return AlertCode.directory_stale
    return AlertCode.proof_invalid


def _epoch_of(label: bytes, value: bytes) -> int | None:
    """The epoch an own label's value carries, or None if it is no CKV value."""
    try:
        if parse_label(label).kind is LabelKind.account:
            return decode_account_state(value).state.epoch
        return decode_handle_binding(value).binding.epoch
    except CKVError:
        return None


class _Recorder:
    """A transport that remembers the last exchange, for exchange evidence (ALERT-004)."""

    def __init__(self, inner: DirectoryTransport) -> None:
        self._inner = inner
        self._last: tuple[object, object] | None = None

    def last_exchange(self, config: Configuration) -> tuple[bytes, bytes]:
        """The last request and response, encoded (empty when none came back)."""
        if self._last is None:
            return b"", b""
        request, response = self._last
        context = None
        if isinstance(request, SearchRequest):
            context = {"SearchRequest.version": "absent" if request.version is None else "present"}
        encoded = [
            b""
            if item is None
            else wire.encode(item, suite=config.ciphersuite, mode=config.mode, context=context)
            for item in (request, response)
        ]
        return encoded[0], encoded[1]

    def _call(self, method: Callable[[_Q], _A], request: _Q) -> _A:
        self._last = (request, None)
        response = method(request)
        self._last = (request, response)
        return response

    def configuration(self) -> Configuration:
        return self._inner.configuration()

    def search(self, request: SearchRequest) -> SearchResponse:
        return self._call(self._inner.search, request)

    def update(self, request: UpdateRequest) -> UpdateResponse:
        return self._call(self._inner.update, request)

    def contact_monitor(self, request: ContactMonitorRequest) -> ContactMonitorResponse:
        return self._call(self._inner.contact_monitor, request)

    def owner_init(self, request: OwnerInitRequest) -> OwnerInitResponse:
        return self._call(self._inner.owner_init, request)

    def owner_monitor(self, request: OwnerMonitorRequest) -> OwnerMonitorResponse:
        return self._call(self._inner.owner_monitor, request)

    def distinguished(self, request: DistinguishedRequest) -> DistinguishedResponse:
        return self._call(self._inner.distinguished, request)


@dataclass
class ContactRecord:
    """What a device remembers about one contact."""

    handle: Handle
    account_id: bytes | None = None
    state: AccountState | None = None
    account_version: int | None = None
    handle_version: int | None = None
    card: CardState = INITIAL
    #: The contact's public verification code, once saved (Mark as Verified).
    saved_code: PublicCode | None = None
    alerts: list[Alert] = field(default_factory=list)


class Device:
    """One device of one account."""

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
        self.transport = _Recorder(transport)
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

    # -- basics ----------------------------------------------------------------------------

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

    def _channel(self) -> object:
        if self.account_id is None or self._sync_key is None:
            msg = f"{self.name} holds no sync key: it is not a capable device of an account"
            raise UsageError(msg, requirement="SYNC-001")
        return self._sync_service.channel(self.account_id, self._sync_key)

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

    # -- enrollment ------------------------------------------------------------------------

    def create_account(self, handles: Sequence[Handle]) -> bytes:
        """Create an account with this device as its first (ENROLL-001); returns the sync key."""
        if self.account_id is not None:
            msg = f"{self.name} already belongs to an account"
            raise UsageError(msg)
        self.account_id = new_account_id(self.random_bytes)
        pair = generate_account_key(self.suite, self.account_id, self.random_bytes)
        signed = create_account(pair, self.record, handles, self.clock())
        self._sync_key = self.random_bytes(SYNC_KEY_SIZE)
        record = SyncRecord(
            account_key=pair.public,
            account_private_key=pair.private,
            devices=(self._journal_device(),),
            entries=(),
            alerts=(),
        )
        channel = self._sync_service.channel(self.account_id, self._sync_key)
        channel.write(record, generation=0)
        self._publish_state(signed)
        for handle in handles:
            self._publish_binding(pair, handle, signed.state.epoch)
        return self._sync_key

    def _journal_device(self, device: Device | None = None) -> JournalDevice:
        device = device or self
        return JournalDevice(
            device_id=device.device_id,
            name=device.name.encode("utf-8"),
            holds_account_key=1 if device.capable else 0,
        )

    def enroll(self, new: Device) -> None:
        """Enroll ``new`` in this device's account (ENROLL-002)."""
        state = self.account_state()
        pair = self._pair()
        signed = add_device(pair, state, new.record, self.clock())
        self._update_sync(lambda r: replace(r, devices=(*r.devices, self._journal_device(new))))
        self._publish_state(signed)
        new.account_id = self.account_id
        if new.capable:
            # ENROLL-002: only a capable device receives the sync key (and with it the
            # account key and the journal). In a deployment this is the devices' own
            # pairing channel; the reference hands the key over directly.
            new._sync_key = self._sync_key
            new._adopt_labels(signed.state)

    def _adopt_labels(self, state: AccountState) -> None:
        assert self.account_id is not None
        self._owned = {account_label(self.account_id), *(handle_label(h) for h in state.handles)}
        for label in sorted(self._owned):
            self.kt.own(label)

    def sign_out(self, device_id: bytes) -> None:
        """Remove a device from the account (ENROLL-004)."""
        signed = remove_device(self._pair(), self.account_state(), device_id, self.clock())
        self._update_sync(
            lambda r: replace(r, devices=tuple(d for d in r.devices if d.device_id != device_id))
        )
        self._publish_state(signed)

    def enable_ckv(self) -> None:
        """Turn CKV on for every device of the account (ENROLL-005)."""
        names = {d.device_id: d.name.decode("utf-8", "replace") for d in self.journal().devices}
        state = self.account_state()
        ordered = [names.get(d.record.device_id, "") for d in state.devices]
        self._publish_state(enable_ckv(self._pair(), state, self.clock(), names=ordered))

    def disable_ckv(self) -> None:
        """Turn CKV off for every device of the account (ENROLL-007)."""
        self._publish_state(disable_ckv(self._pair(), self.account_state(), self.clock()))

    def rotate_account_key(self) -> None:
        """Replace the account key (ENROLL-008)."""
        assert self.account_id is not None
        old = self._pair()
        new = generate_account_key(self.suite, self.account_id, self.random_bytes)
        signed = rotate_account_key(old, new, self.account_state(), self.clock())
        self._update_sync(
            lambda r: replace(r, account_key=new.public, account_private_key=new.private)
        )
        self._publish_state(signed)
        for handle in signed.state.handles:
            self._publish_binding(new, handle, signed.state.epoch)

    def _record_journal(self, label: bytes, epoch: int, value: bytes) -> None:
        entry = JournalEntry(
            label=label,
            epoch=epoch,
            value_hash=get_suite(self.suite).hash(value),
            device_id=self.device_id,
        )
        # SYNC-003: the journal entry is written before the value is published.
        self._update_sync(lambda r: replace(r, entries=(*r.entries, entry)))

    def _publish(self, label: bytes, value: bytes, epoch: int) -> None:
        self._record_journal(label, epoch, value)
        if label not in self._owned:
            self._owned.add(label)
            self.kt.own(label)
        try:
            result = self.kt.publish(label, [value])
        except DirectoryRefused:
            # The directory refused the value, so it will never appear: take the journal
            # entry back (a value that may have reached the directory keeps its entry).
            digest = get_suite(self.suite).hash(value)
            self._update_sync(
                lambda r: replace(
                    r,
                    entries=tuple(
                        e for e in r.entries if not (e.label == label and e.value_hash == digest)
                    ),
                )
            )
            raise
        # SELF-002: versions others created meanwhile are checked like search results.
        for version, foreign in result.foreign:
            self._explain(label, version, foreign)

    def _publish_state(self, signed: SignedAccountState) -> None:
        assert self.account_id is not None
        value = wire.encode(signed)
        self._publish(account_label(self.account_id), value, signed.state.epoch)
        self._own_state = signed.state

    def _publish_binding(self, pair: AccountKeyPair, handle: Handle, epoch: int) -> None:
        assert self.account_id is not None
        binding = HandleBinding(handle=handle, account_id=self.account_id, epoch=epoch)
        value = wire.encode(sign_handle_binding(pair, binding))
        self._publish(handle_label(handle), value, epoch)

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

    # -- alerts ----------------------------------------------------------------------------

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

    # -- self-monitoring -------------------------------------------------------------------

    def self_monitor(self) -> list[Alert]:
        """Monitor the account's own labels and compare with the journal (SELF-001..005)."""
        if not self.capable or self.account_id is None:
            return []
        raised: list[Alert] = []
        for label in sorted(self._owned):
            try:
                self.kt.owner_monitor(label)
                seen = self.kt.catch_up(label)
                latest = self.kt.lookup(label)
            except CKVError as error:
                raised.append(self._failure_alert(error, label))
                continue
            versions = dict(seen)
            versions[latest.version] = latest.value
            for version, value in sorted(versions.items()):
                alert = self._explain(label, version, value)
                if alert is not None:
                    raised.append(alert)
        return raised

    def _explain(self, label: bytes, version: int, value: bytes) -> Alert | None:
        """An owner alert if the journal does not explain ``value`` (SELF-003..005)."""
        once = ("owner", label, version)
        if once in self._raised or self._explained.get(label, (-1, -1))[0] >= version:
            return None  # already judged
        digest = get_suite(self.suite).hash(value)
        record = self.journal()  # SELF-003: read again, a sibling may have just written.
        epoch = _epoch_of(label, value)
        newest = self._explained.get(label, (-1, -1))[1]
        # SELF-003: a journal entry explains the value, and its epoch is newer than that
        # of every earlier version (a replayed old value is not explained).
        if epoch is not None and epoch > newest:
            for entry in record.entries:
                if entry.label == label and entry.value_hash == digest and entry.epoch == epoch:
                    self._explained[label] = (version, epoch)
                    if parse_label(label).kind is LabelKind.account:
                        self._own_state = decode_account_state(value).state
                    return None
        known = {d.device_id for d in record.devices}
        unknown: bytes | None = None
        if parse_label(label).kind is LabelKind.account:
            try:
                state = validate_account_state(label, value, suite=self.suite)
                extra = [
                    d.record.device_id for d in state.devices if d.record.device_id not in known
                ]
                unknown = extra[0] if extra else None
            except AccountStateError as error:
                unknown = error.device_id if error.requirement == "ACCT-007" else None

        def evidence() -> list[Evidence]:
            return [self._evidence(label, version)]

        # SELF-004 / SELF-005: a device nobody enrolled, or any other unexplained value.
        code = (
            AlertCode.owner_unrecognized_device
            if unknown is not None
            else AlertCode.owner_state_mismatch
        )
        alert = self._raise(code, label, evidence, unknown or b"", once=once)
        note = JournalAlert(
            code=int(code),
            label=label,
            version=version,
            device_id=unknown or b"",
            raised_by=self.device_id,
            observed_at=alert.observed_at,
        )
        # SELF-006: the alert goes into the sync record, so every sibling shows it.
        self._update_sync(
            lambda r: (
                r
                if any(a.label == label and a.version == version for a in r.alerts)
                else replace(r, alerts=(*r.alerts, note))
            )
        )
        return alert

    def account_alerts(self) -> list[JournalAlert]:
        """The owner alerts any device of the account raised (SELF-006)."""
        return list(self.journal().alerts)

    # -- automatic verification of contacts ------------------------------------------------

    def verify_contact(self, handle: Handle) -> ContactRecord:
        """Look a contact up and verify everything (VERIFY-001 to VERIFY-010).

        Returns the contact's record; alerts raised are in ``record.alerts`` and
        :attr:`alerts`. A failed check leaves the accepted state as it was
        (VERIFY-002).
        """
        hlabel = handle_label(handle)
        contact = self.contacts.setdefault(hlabel, ContactRecord(handle))
        # VERIFY-001: automatic verification runs while the user's own CKV is on.
        if not self.ckv_on:
            return contact
        try:
            bound = self.kt.lookup(hlabel)
        except DirectoryRefused as refusal:
            if refusal.reason is RefusalReason.NOT_FOUND and contact.state is None:
                return contact  # not in the directory: nobody to verify
            self._contact_alert(contact, self._failure_alert(refusal, hlabel))
            return contact
        except CKVError as error:
            self._contact_alert(contact, self._failure_alert(error, hlabel))
            return contact
        try:
            account_id = decode_handle_binding(bound.value).binding.account_id
        except AccountStateError:
            account_id = None
        if account_id is None or len(account_id) != ACCOUNT_ID_SIZE:
            # IDENT-009: the handle's value is no binding the account key could have made.
            alert = self._raise(
                AlertCode.signature_invalid,
                hlabel,
                lambda: [self._evidence(hlabel, bound.version)],
                once=("contact", hlabel, bound.version),
            )
            self._contact_alert(contact, alert)
            return contact
        if contact.account_id is not None and account_id != contact.account_id:
            # The handle now points at another account: its key is not the one accepted
            # before, and no rotation can hand an account over to another (ACCT-014).
            before = contact.handle_version
            alert = self._raise(
                AlertCode.account_key_replaced,
                hlabel,
                lambda: [self._evidence(hlabel, before), self._evidence(hlabel, bound.version)],
                once=("contact", hlabel, bound.version),
            )
            self._contact_alert(contact, alert)
            return contact
        alabel = account_label(account_id)
        try:
            looked = self.kt.lookup(alabel)
        except CKVError as error:
            self._contact_alert(contact, self._failure_alert(error, alabel))
            return contact
        try:
            # ACCT-015 compares with the newest state accepted before; a search that finds
            # the same version again (its value is fixed by the log) has nothing to compare.
            same = looked.version == contact.account_version
            state = validate_account_state(
                alabel, looked.value, suite=self.suite, previous=None if same else contact.state
            )
            validate_handle_binding(hlabel, bound.value, state, handle)
        except AccountStateError as error:
            code = alert_code_for(error)
            pairs: list[tuple[bytes, int | None]]
            if code is AlertCode.handle_mismatch:
                pairs = [(hlabel, bound.version), (alabel, looked.version)]
            elif code in (AlertCode.rollback, AlertCode.account_key_replaced):
                pairs = [(alabel, contact.account_version), (alabel, looked.version)]
            else:
                pairs = [(alabel, looked.version)]
            alert = self._raise(
                code,
                pairs[0][0],
                lambda: [self._evidence(label, version) for label, version in pairs],
                error.device_id or b"",
                once=("contact", hlabel, alabel, looked.version, bound.version),
            )
            self._contact_alert(contact, alert)
            return contact
        self._accept(contact, state, alabel, looked.version, bound.version)
        return contact

    def _accept(
        self,
        contact: ContactRecord,
        state: AccountState,
        alabel: bytes,
        account_version: int,
        handle_version: int,
    ) -> None:
        previous = contact.state
        contact.account_id = state.account_key.account_id
        contact.state = state
        contact.account_version = account_version
        contact.handle_version = handle_version
        if state.ckv is OptIn.off:
            # VERIFY-006: CKV turned off after it was on is an alert; first seen off is not.
            if previous is not None and previous.ckv is OptIn.on:
                evidence = [self._evidence(alabel, account_version)]
                self._contact_alert(
                    contact, self._raise(AlertCode.contact_ckv_off, alabel, evidence)
                )
            contact.card = next_state(contact.card, CardEvent.CONTACT_DISABLED)
            return
        if contact.card is CardState.CKV_OFF:
            contact.card = next_state(contact.card, CardEvent.CONTACT_ENABLED)
        if contact.saved_code is not None:
            # CARD-004: the saved code is checked against every accepted account key.
            event = (
                CardEvent.KEY_MATCHES
                if self._code_of(state) == contact.saved_code
                else CardEvent.KEY_CHANGED
            )
            contact.card = next_state(contact.card, event)

    def _contact_alert(self, contact: ContactRecord, alert: Alert) -> None:
        if any(known is alert for known in contact.alerts):
            return
        contact.alerts.append(alert)
        contact.card = next_state(contact.card, CardEvent.ALERT_RAISED)

    def mark_verified(self, handle: Handle, code: str) -> ContactRecord:
        """Save a contact's public verification code after codes matched (CARD-004)."""
        contact = self.contacts.get(handle_label(handle))
        if contact is None or contact.state is None:
            msg = "verify the contact before marking it verified"
            raise UsageError(msg)
        parsed = parse_code(code)
        if parsed != self._code_of(contact.state):
            msg = "the code is not the public verification code of the contact's account key"
            raise UsageError(msg, requirement="CARD-004")
        contact.saved_code = parsed
        contact.card = next_state(contact.card, CardEvent.MARK_VERIFIED)
        return contact

    def _code_of(self, state: AccountState) -> PublicCode:
        key = state.account_key
        code = self._codes.get(key.key)
        if code is None:
            code = self._codes[key.key] = PublicCode.for_key(public_code_key(key))
        return code

    def public_code(self) -> str:
        """This account's public verification code."""
        return str(PublicCode.for_key(public_code_key(self.journal().account_key)))

    def monitor_contacts(self) -> list[Alert]:
        """Contact monitoring of every pair, then a fresh search of every contact (VERIFY-003/4)."""
        before = len(self.alerts)
        try:
            self.kt.monitor()
        except CKVError as error:
            self._failure_alert(error, b"")
        for contact in list(self.contacts.values()):
            self.verify_contact(contact.handle)
        return self.alerts[before:]

    def gossip(self, peer: Device) -> list[Alert]:
        """Exchange tree heads with a contact's device and compare them (VERIFY-005)."""
        mine = self.kt.tree_head_for_gossip()
        theirs = peer.kt.tree_head_for_gossip()
        evidence = self.kt.compare_with_peer(theirs)
        if evidence is None:
            evidence = peer.kt.compare_with_peer(mine)
        if evidence is None:
            return []
        item = fork_evidence(evidence)
        return [device._raise(AlertCode.fork_detected, b"", [item]) for device in (self, peer)]
