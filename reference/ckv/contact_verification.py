"""Automatic verification of contacts (spec chapter "Automatic verification and alerts").

A device resolves a contact's handle through the log, verifies every proof and
signature, keeps what it accepted, monitors it, and raises the alert the
registry assigns when a check fails (VERIFY-001 to VERIFY-011). What it shows
about the contact follows the contact-state table (:mod:`ckv.contact_state`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ckv.account import (
    AccountStateError,
    decode_handle_binding,
    public_code_key,
    validate_account_state,
    validate_handle_binding,
)
from ckv.alerts import (
    alert_code_for,
    fork_evidence,
)
from ckv.contact_state import INITIAL, CardEvent, CardState, next_state
from ckv.device_core import DeviceCore
from ckv.directory import DirectoryRefused, RefusalReason
from ckv.errors import CKVError, UsageError
from ckv.identity import ACCOUNT_ID_SIZE, account_label, handle_label
from ckv.public_code import PublicCode
from ckv.public_code import parse as parse_code
from ckv.wire.messages import (
    AccountState,
    Alert,
    AlertCode,
    Handle,
    OptIn,
)

__all__ = ["ContactRecord", "ContactVerification"]


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


class ContactVerification(DeviceCore):
    """A device's automatic verification of its contacts."""

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

    def gossip(self, peer: ContactVerification) -> list[Alert]:
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
