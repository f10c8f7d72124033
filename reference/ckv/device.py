"""A CKV device: enrollment, self-monitoring and automatic verification of contacts.

:class:`Device` is one device of one account. The enrollment operations of the
spec chapter "Enrollment and opt-in" are here: each builds the next account
state (:mod:`ckv.enrollment`), records it in the journal first (SYNC-003) and
then publishes it. Self-monitoring and the verification of contacts come from
:class:`~ckv.self_monitoring.SelfMonitoring` and
:class:`~ckv.contact_verification.ContactVerification`.

Alerts the device raises are appended to :attr:`Device.alerts` and returned by
the call that raised them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ckv import wire
from ckv.account import (
    AccountKeyPair,
    generate_account_key,
    sign_handle_binding,
)
from ckv.cipher_suites import get_suite
from ckv.contact_verification import ContactRecord, ContactVerification
from ckv.directory import DirectoryRefused
from ckv.enrollment import (
    add_device,
    create_account,
    disable_ckv,
    enable_ckv,
    remove_device,
    rotate_account_key,
)
from ckv.errors import UsageError
from ckv.identity import account_label, handle_label, new_account_id
from ckv.self_monitoring import SelfMonitoring
from ckv.sync import SYNC_KEY_SIZE
from ckv.wire.messages import (
    AccountState,
    Handle,
    HandleBinding,
    JournalDevice,
    JournalEntry,
    SignedAccountState,
    SyncRecord,
)

__all__ = ["ContactRecord", "Device"]


class Device(SelfMonitoring, ContactVerification):
    """One device of one account (see the module docstring)."""

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
