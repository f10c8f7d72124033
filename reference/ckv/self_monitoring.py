"""Self-monitoring (spec chapter "Self-monitoring").

Every capable device of an account monitors the account's own labels and
compares each value the directory publishes with the account's journal; a value
the journal does not explain raises an owner alert (SELF-001 to SELF-006).
"""

from __future__ import annotations

from dataclasses import replace

from ckv.account import (
    AccountStateError,
    decode_account_state,
    validate_account_state,
)
from ckv.cipher_suites import get_suite
from ckv.device_core import DeviceCore, epoch_of
from ckv.errors import CKVError
from ckv.identity import parse_label
from ckv.wire.messages import (
    Alert,
    AlertCode,
    Evidence,
    JournalAlert,
    LabelKind,
)

__all__ = ["SelfMonitoring"]


class SelfMonitoring(DeviceCore):
    """A device's checks of its own account."""

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
        epoch = epoch_of(label, value)
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
