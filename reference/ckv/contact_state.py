"""The verification state of a contact (spec chapter "Automatic verification and alerts").

What a user's device shows about a contact is one of :class:`CardState`; it
changes only through :data:`TRANSITIONS`, a declarative table from which the
spec's state diagram is drawn at build time. An event with no entry for the
current state leaves the state as it is (CARD-002): the table lists every
change, so a reader of the spec sees them all.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["INITIAL", "TRANSITIONS", "CardEvent", "CardState", "next_state"]


class CardState(enum.Enum):
    """What the device shows for a contact."""

    #: CKV is on on both sides, automatic verification passes, no code was compared.
    UNVERIFIED = "unverified"
    #: As unverified, and the contact's public verification code was compared and
    #: matches the directory's account key (a check mark).
    VERIFIED = "verified"
    #: A code was saved, but the directory's account key no longer matches it.
    CHANGED = "changed"
    #: The contact has CKV off: no automatic verification takes place.
    CKV_OFF = "ckv_off"
    #: An alert about the contact is unresolved.
    ALERT = "alert"


class CardEvent(enum.Enum):
    """What moves a contact between states."""

    #: The users compared codes (in person, or a pasted public code) and they matched.
    MARK_VERIFIED = "mark_verified"
    #: A lookup found the account key the saved code fingerprints.
    KEY_MATCHES = "key_matches"
    #: A lookup found an account key the saved code does not fingerprint.
    KEY_CHANGED = "key_changed"
    #: A lookup found the contact's account with CKV off.
    CONTACT_DISABLED = "contact_disabled"
    #: A lookup found the contact's account with CKV on again.
    CONTACT_ENABLED = "contact_enabled"
    #: Automatic verification raised an alert about the contact.
    ALERT_RAISED = "alert_raised"
    #: The user dismissed the alert, or a later verification no longer raises it.
    ALERT_CLEARED = "alert_cleared"
    #: The user removed the saved code.
    VERIFICATION_REMOVED = "verification_removed"


#: The state of a contact seen for the first time with CKV on.
INITIAL = CardState.UNVERIFIED

_S, _E = CardState, CardEvent


def _table() -> dict[tuple[CardState, CardEvent], CardState]:
    table: dict[tuple[CardState, CardEvent], CardState] = {
        (_S.UNVERIFIED, _E.MARK_VERIFIED): _S.VERIFIED,
        (_S.VERIFIED, _E.KEY_CHANGED): _S.CHANGED,
        (_S.VERIFIED, _E.VERIFICATION_REMOVED): _S.UNVERIFIED,
        (_S.CHANGED, _E.MARK_VERIFIED): _S.VERIFIED,
        (_S.CHANGED, _E.KEY_MATCHES): _S.VERIFIED,
        (_S.CHANGED, _E.VERIFICATION_REMOVED): _S.UNVERIFIED,
        (_S.CKV_OFF, _E.CONTACT_ENABLED): _S.UNVERIFIED,
        (_S.ALERT, _E.ALERT_CLEARED): _S.UNVERIFIED,
        (_S.ALERT, _E.MARK_VERIFIED): _S.VERIFIED,
    }
    # CARD-003: from every state, the contact turning CKV off and an alert are shown.
    for state in CardState:
        if state is not _S.CKV_OFF:
            table[(state, _E.CONTACT_DISABLED)] = _S.CKV_OFF
        table[(state, _E.ALERT_RAISED)] = _S.ALERT
    return table


#: Every change of state: ``(state, event) -> next state`` (CARD-001).
TRANSITIONS: Mapping[tuple[CardState, CardEvent], CardState] = MappingProxyType(_table())


def next_state(state: CardState, event: CardEvent) -> CardState:
    """The state after ``event``; unchanged when the table has no entry (CARD-002)."""
    return TRANSITIONS.get((state, event), state)
