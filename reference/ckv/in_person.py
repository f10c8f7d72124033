"""In-person code comparison: a commit-then-reveal short-code exchange (spec: in-person-code).

Two users who want to verify each other run this exchange over the messaging
channel, then read the resulting 8-digit code to each other in person (or on a
call they trust). The exchange is Vaudenay-style: the initiator commits to its
random value before it sees the responder's, and the responder sends its own
random value before it sees the initiator's, so a man in the middle who
substitutes keys must fix both sides' codes before learning the value that
decides one of them. Each attempt succeeds for him with probability about
``10**-8`` (:data:`CODE_DIGITS`), and :class:`AttemptLimiter` bounds the
attempts.

The core is sans-IO: a :class:`Party` takes and returns wire bytes
(``IpcMessage``), and randomness (``rng``) and time (``clock``) are injected.
Transitions are the declarative table :data:`TRANSITIONS`.

Example::

    alice = Party(Role.INITIATOR, own_key=alice_key, limiter=AttemptLimiter(), clock=now)
    bob = Party(Role.RESPONDER, own_key=bob_key, limiter=AttemptLimiter(), clock=now)
    reveal = alice.receive(bob.receive(alice.start()))
    bob.receive(reveal)
    assert alice.code == bob.code          # the users compare these
    alice.confirm_match()
    card = mark_as_verified(ContactCard(name="Bob"), alice)
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from ckv import wire
from ckv.cipher_suites import get_suite
from ckv.errors import CKVError, ErrorCode, UsageError, VerificationError
from ckv.wire.messages import (
    AccountPublicKey,
    CipherSuite,
    IpcAbort,
    IpcAbortReason,
    IpcCodeInput,
    IpcCommit,
    IpcCommitInput,
    IpcMessage,
    IpcMessageType,
    IpcResponse,
    IpcReveal,
)

__all__ = [
    "CODE_DIGITS",
    "MAX_FAILURES",
    "PROTOCOL_VERSION",
    "TRANSITIONS",
    "WINDOW_SECONDS",
    "AttemptLimiter",
    "ContactCard",
    "Event",
    "LocalComparison",
    "Party",
    "PublicCodeHook",
    "Role",
    "State",
    "code_value",
    "commitment",
    "compare_locally",
    "format_code",
    "mark_as_verified",
]

#: The only version of the exchange (``IpcMessage.version``).
PROTOCOL_VERSION = 1
#: Decimal digits of the code the users compare (about 26.6 bits).
CODE_DIGITS = 8
#: Size in bytes of each party's random value and of the session ID.
RANDOM_SIZE = 32
SESSION_ID_SIZE = 16
#: Failed attempts per contact allowed within :data:`WINDOW_SECONDS`.
MAX_FAILURES = 5
WINDOW_SECONDS = 24 * 60 * 60

_COMMIT_LABEL = b"CKV in-person code v1: commit"
_CODE_LABEL = b"CKV in-person code v1: code"

# Requirement IDs (spec/ckv/in-person-code.md).
REQ_DECODE = "IPC-001"
REQ_VERSION = "IPC-002"
REQ_SUITE = "IPC-003"
REQ_SESSION = "IPC-004"
REQ_ORDER = "IPC-005"
REQ_RANDOM = "IPC-006"
REQ_COMMIT = "IPC-007"
REQ_OPEN = "IPC-008"
REQ_PEER_KEY = "IPC-009"
REQ_CODE = "IPC-010"
REQ_DISPLAY = "IPC-011"
REQ_VERIFIED = "IPC-012"
REQ_LIMIT = "IPC-013"
REQ_FAILURE = "IPC-014"
REQ_RETRY = "IPC-015"
REQ_PUBLIC_CODE = "IPC-016"


class Role(enum.Enum):
    """Which side of the exchange a party plays."""

    INITIATOR = "initiator"
    RESPONDER = "responder"


class State(enum.Enum):
    """States of one party in one session."""

    IDLE = "idle"
    COMMIT_SENT = "commit sent"
    AWAIT_REVEAL = "awaiting reveal"
    COMPARE = "comparing codes"
    VERIFIED = "verified"
    FAILED = "failed"


class Event(enum.Enum):
    """What moves a party from one state to the next."""

    SEND_COMMIT = "send IpcCommit"
    RECEIVE_COMMIT = "receive IpcCommit / send IpcResponse"
    RECEIVE_RESPONSE = "receive IpcResponse / send IpcReveal"
    RECEIVE_REVEAL = "receive IpcReveal"
    CONFIRM_MATCH = "user confirms the codes match"
    REPORT_MISMATCH = "user reports the codes differ"
    SEND_ABORT = "send IpcAbort"
    RECEIVE_ABORT = "receive IpcAbort"
    REJECT = "reject a message"


def _transitions() -> dict[tuple[Role, State, Event], State]:
    table = {
        (Role.INITIATOR, State.IDLE, Event.SEND_COMMIT): State.COMMIT_SENT,
        (Role.INITIATOR, State.COMMIT_SENT, Event.RECEIVE_RESPONSE): State.COMPARE,
        (Role.RESPONDER, State.IDLE, Event.RECEIVE_COMMIT): State.AWAIT_REVEAL,
        (Role.RESPONDER, State.AWAIT_REVEAL, Event.RECEIVE_REVEAL): State.COMPARE,
    }
    for role in Role:
        table[role, State.COMPARE, Event.CONFIRM_MATCH] = State.VERIFIED
        table[role, State.COMPARE, Event.REPORT_MISMATCH] = State.FAILED
        for state in (State.IDLE, State.COMMIT_SENT, State.AWAIT_REVEAL, State.COMPARE):
            if (role, state) in {
                (Role.INITIATOR, State.AWAIT_REVEAL),
                (Role.RESPONDER, State.COMMIT_SENT),
            }:
                continue
            for event in (Event.SEND_ABORT, Event.RECEIVE_ABORT, Event.REJECT):
                table[role, state, event] = State.FAILED
        table[role, State.FAILED, Event.SEND_ABORT] = State.FAILED
    return table


#: Every allowed transition: ``(role, state, event) -> next state``. A message or
#: action whose event has no entry for the party's role and state is rejected
#: (IPC-005). The spec's state diagram is drawn from this table.
TRANSITIONS: Mapping[tuple[Role, State, Event], State] = MappingProxyType(_transitions())

_RECEIVE_EVENT = {
    IpcMessageType.commit: Event.RECEIVE_COMMIT,
    IpcMessageType.response: Event.RECEIVE_RESPONSE,
    IpcMessageType.reveal: Event.RECEIVE_REVEAL,
    IpcMessageType.abort: Event.RECEIVE_ABORT,
}


# -- primitives -----------------------------------------------------------------


def commitment(value: IpcCommitInput, suite: CipherSuite) -> bytes:
    """IPC-007: ``Hash(label_commit || IpcCommitInput)``."""
    return get_suite(suite).hash(_COMMIT_LABEL + wire.encode(value, suite=suite))


def code_value(value: IpcCodeInput, suite: CipherSuite, digits: int = CODE_DIGITS) -> int:
    """IPC-010: the first 8 bytes of ``Hash(label_code || IpcCodeInput)``, mod ``10**digits``.

    ``digits`` other than :data:`CODE_DIGITS` exist for statistical tests only.
    """
    if not 1 <= digits <= 19:  # a uint64 has 19 full decimal digits
        msg = f"digits must be between 1 and 19, got {digits}"
        raise UsageError(msg, requirement=REQ_CODE)
    digest = get_suite(suite).hash(_CODE_LABEL + wire.encode(value, suite=suite))
    modulus: int = 10**digits
    return int.from_bytes(digest[:8], "big") % modulus


def format_code(value: int, digits: int = CODE_DIGITS) -> str:
    """The code as the users read it: zero-padded, in groups of four digits."""
    text = f"{value:0{digits}d}"
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


# -- attempt limiting -------------------------------------------------------------


class AttemptLimiter:
    """Failed attempts with one contact (IPC-013, IPC-014); time in seconds, injected."""

    __slots__ = ("_failures", "max_failures", "window")

    def __init__(self, max_failures: int = MAX_FAILURES, window: int = WINDOW_SECONDS) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: list[int] = []

    def _prune(self, now: int) -> None:
        self._failures = [t for t in self._failures if now - t < self.window]

    def failures(self, now: int) -> int:
        """How many failures lie within the window ending at ``now``."""
        self._prune(now)
        return len(self._failures)

    def retry_after(self, now: int) -> int | None:
        """The first time a new attempt is allowed, or None if one is allowed now."""
        self._prune(now)
        if len(self._failures) < self.max_failures:
            return None
        return sorted(self._failures)[len(self._failures) - self.max_failures] + self.window

    def check(self, now: int) -> None:
        """Raise UsageError (IPC-013) if a new session may not start at ``now``."""
        when = self.retry_after(now)
        # IPC-013: with MAX_FAILURES failures within the window, no new session starts;
        # IPC-015: the error says when the next attempt is allowed.
        if when is not None:
            msg = (
                f"{len(self._failures)} failed code comparisons with this contact within "
                f"{self.window} s; the next attempt is allowed at t={when}"
            )
            raise UsageError(msg, requirement=REQ_LIMIT)

    def record_failure(self, now: int) -> None:
        """IPC-014: count a session that ended without a confirmed match."""
        self._failures.append(now)


# -- the contact card ---------------------------------------------------------------

#: Computes a contact's public verification code from its account key and the
#: session's cipher suite (the public-code module provides it; injected so that this
#: module does not depend on it). For ``ckv.public_code``, for example::
#:
#:     lambda k, suite: str(PublicCode.for_key(
#:         AccountKey(key=k.key, key_type=k.key_type, account_id=k.account_id, suite=suite)))
PublicCodeHook = Callable[[AccountPublicKey, CipherSuite], str]


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactCard:
    """The fields of a contact card this layer reads and writes."""

    name: str
    #: The contact's account key, stored by "Mark as Verified".
    verified_account_key: AccountPublicKey | None = None
    #: The contact's public verification code (from :data:`PublicCodeHook`), if computed.
    verification_code: str | None = None


# -- the state machine ----------------------------------------------------------------


def _reject(
    message: str, requirement: str, expected: object = None, computed: object = None
) -> VerificationError:
    return VerificationError(
        message,
        requirement=requirement,
        code=ErrorCode.PROOF_INVALID,
        expected=expected,
        computed=computed,
    )


class Party:
    """One user's side of one session of the exchange."""

    def __init__(  # every argument is an independent injected input
        self,
        role: Role,
        *,
        own_key: AccountPublicKey,
        limiter: AttemptLimiter,
        clock: Callable[[], int],
        suite: CipherSuite = wire.DEFAULT_SUITE,
        rng: Callable[[int], bytes] = os.urandom,
        expected_peer_key: AccountPublicKey | None = None,
    ) -> None:
        self.role = role
        self.suite = suite
        self.own_key = own_key
        self.expected_peer_key = expected_peer_key
        self.limiter = limiter
        self._clock = clock
        self._rng = rng
        self.state = State.IDLE
        self.session_id: bytes | None = None
        self.peer_key: AccountPublicKey | None = None
        self._random: bytes | None = None
        self._commitment: bytes | None = None
        self._peer_random: bytes | None = None
        self.code_input: IpcCodeInput | None = None

    # transitions

    def _step(self, event: Event) -> None:
        nxt = TRANSITIONS.get((self.role, self.state, event))
        # IPC-005: only the events the transition table lists for this state are allowed
        # (received messages are checked before they get here; this is a local misuse).
        if nxt is None:
            msg = f"{self.role.value} in state {self.state.value!r} cannot {event.value}"
            raise UsageError(msg, requirement=REQ_ORDER)
        if nxt is State.FAILED and self.state is not State.FAILED and self.state is not State.IDLE:
            # IPC-014: every session that got past its first message and ends without a
            # confirmed match counts as a failed attempt.
            self.limiter.record_failure(self._clock())
        self.state = nxt

    def _fresh(self, size: int) -> bytes:
        value = self._rng(size)
        # IPC-006: random values are fresh and of the stated size.
        if len(value) != size:
            msg = f"rng returned {len(value)} bytes, expected {size}"
            raise UsageError(msg, requirement=REQ_RANDOM)
        return value

    def _envelope(self, message_type: IpcMessageType, **body: object) -> bytes:
        assert self.session_id is not None  # set before any message is built
        message = IpcMessage(
            version=PROTOCOL_VERSION,
            ciphersuite=self.suite,
            session_id=self.session_id,
            message_type=message_type,
            **body,  # type: ignore[arg-type]
        )
        return wire.encode(message, suite=self.suite)

    # outgoing

    def start(self) -> bytes:
        """Initiator: begin a session; returns the ``IpcMessage(commit)`` to send."""
        if self.role is not Role.INITIATOR:
            msg = "only the initiator starts a session"
            raise UsageError(msg, requirement=REQ_ORDER)
        self.limiter.check(self._clock())
        self.session_id = self._fresh(SESSION_ID_SIZE)
        self._random = self._fresh(RANDOM_SIZE)
        # IPC-007: the commitment binds version, suite, session, own key and own random.
        self._commitment = commitment(
            IpcCommitInput(
                version=PROTOCOL_VERSION,
                ciphersuite=self.suite,
                session_id=self.session_id,
                account_key=self.own_key,
                random=self._random,
            ),
            self.suite,
        )
        self._step(Event.SEND_COMMIT)
        return self._envelope(
            IpcMessageType.commit,
            commit=IpcCommit(account_key=self.own_key, commitment=self._commitment),
        )

    def abort(self, reason: IpcAbortReason = IpcAbortReason.user_cancelled) -> bytes | None:
        """End the session; returns the ``IpcMessage(abort)`` to send (None before any)."""
        self._step(Event.SEND_ABORT)
        if self.session_id is None:
            return None
        return self._envelope(IpcMessageType.abort, abort=IpcAbort(reason=reason))

    def confirm_match(self) -> None:
        """The user saw the same code on both devices (enables Mark as Verified)."""
        self._step(Event.CONFIRM_MATCH)

    def report_mismatch(self) -> bytes:
        """The codes differ: the session fails; returns the abort to send."""
        self._step(Event.REPORT_MISMATCH)
        return self._envelope(
            IpcMessageType.abort, abort=IpcAbort(reason=IpcAbortReason.codes_differ)
        )

    # incoming

    def receive(self, data: bytes) -> bytes | None:
        """Process one received ``IpcMessage``; returns the reply to send, if any.

        Raises VerificationError naming the requirement for any message that is
        malformed, out of order, from another session or that fails a check; the
        session has then failed.
        """
        try:
            return self._receive(data)
        except CKVError:
            if (self.role, self.state, Event.REJECT) in TRANSITIONS:
                self._step(Event.REJECT)
            raise

    def _receive(self, data: bytes) -> bytes | None:
        try:
            message = wire.decode(IpcMessage, data, suite=self.suite)
        except CKVError as exc:
            # IPC-001: every message is the canonical encoding of an IpcMessage.
            raise _reject(f"malformed IpcMessage: {exc}", REQ_DECODE) from exc
        # IPC-002: only version 1 is accepted.
        if message.version != PROTOCOL_VERSION:
            msg = f"unsupported version {message.version}"
            raise _reject(msg, REQ_VERSION, PROTOCOL_VERSION, message.version)
        # IPC-003: the cipher suite is the session's.
        if message.ciphersuite != self.suite:
            msg = f"cipher suite {message.ciphersuite.name} is not the session's"
            raise _reject(msg, REQ_SUITE, self.suite, message.ciphersuite)
        event = _RECEIVE_EVENT[message.message_type]
        # IPC-005: the message type must be the one the state expects (ordering, replay).
        if (self.role, self.state, event) not in TRANSITIONS:
            msg = (
                f"{self.role.value} in state {self.state.value!r} does not accept "
                f"a {message.message_type.name} message"
            )
            raise _reject(msg, REQ_ORDER)
        # IPC-004: after the first message, every message carries the session's ID.
        if self.session_id is not None and message.session_id != self.session_id:
            msg = "message belongs to another session"
            raise _reject(msg, REQ_SESSION, self.session_id.hex(), message.session_id.hex())
        if message.abort is not None:
            self._step(Event.RECEIVE_ABORT)
            return None
        if message.commit is not None:
            return self._on_commit(message.session_id, message.commit)
        if message.response is not None:
            return self._on_response(message.response)
        assert message.reveal is not None  # the decoder guarantees one case
        self._on_reveal(message.reveal)
        return None

    def _check_peer_key(self, key: AccountPublicKey) -> None:
        # IPC-009: the peer's key differs from ours (no reflection) and, when the
        # directory gave one, equals the key we expect for the contact.
        if key == self.own_key:
            msg = "the peer's account key equals our own (reflected message)"
            raise _reject(msg, REQ_PEER_KEY)
        if self.expected_peer_key is not None and key != self.expected_peer_key:
            msg = "the peer's account key is not the one the directory holds for the contact"
            raise _reject(msg, REQ_PEER_KEY, self.expected_peer_key, key)

    def _on_commit(self, session_id: bytes, commit: IpcCommit) -> bytes:
        self.limiter.check(self._clock())
        self._check_peer_key(commit.account_key)
        self.session_id = session_id
        self.peer_key = commit.account_key
        self._commitment = commit.commitment
        # IPC-006: the responder's random value is drawn only now, after the commitment.
        self._random = self._fresh(RANDOM_SIZE)
        self._step(Event.RECEIVE_COMMIT)
        return self._envelope(
            IpcMessageType.response,
            response=IpcResponse(account_key=self.own_key, random=self._random),
        )

    def _on_response(self, response: IpcResponse) -> bytes:
        self._check_peer_key(response.account_key)
        self.peer_key = response.account_key
        self._peer_random = response.random
        self._step(Event.RECEIVE_RESPONSE)
        self._derive()
        assert self._random is not None  # drawn in start()
        return self._envelope(IpcMessageType.reveal, reveal=IpcReveal(random=self._random))

    def _on_reveal(self, reveal: IpcReveal) -> None:
        assert self.session_id is not None  # set on the commit
        assert self.peer_key is not None
        opened = commitment(
            IpcCommitInput(
                version=PROTOCOL_VERSION,
                ciphersuite=self.suite,
                session_id=self.session_id,
                account_key=self.peer_key,
                random=reveal.random,
            ),
            self.suite,
        )
        # IPC-008: the revealed value must open the commitment received earlier.
        if opened != self._commitment:
            msg = "the revealed random value does not open the initiator's commitment"
            assert self._commitment is not None
            raise _reject(msg, REQ_OPEN, self._commitment.hex(), opened.hex())
        self._peer_random = reveal.random
        self._step(Event.RECEIVE_REVEAL)
        self._derive()

    def _derive(self) -> None:
        assert self.session_id is not None
        assert self.peer_key is not None
        assert self._random is not None
        assert self._peer_random is not None
        assert self._commitment is not None
        initiator = self.role is Role.INITIATOR
        self.code_input = IpcCodeInput(
            version=PROTOCOL_VERSION,
            ciphersuite=self.suite,
            session_id=self.session_id,
            initiator_key=self.own_key if initiator else self.peer_key,
            responder_key=self.peer_key if initiator else self.own_key,
            commitment=self._commitment,
            initiator_random=self._random if initiator else self._peer_random,
            responder_random=self._peer_random if initiator else self._random,
        )

    # results

    @property
    def code(self) -> str:
        """The code to compare (IPC-010), available once the exchange is complete."""
        # IPC-011: no code before both random values are known and the commitment opened.
        if self.code_input is None or self.state not in {State.COMPARE, State.VERIFIED}:
            msg = f"no code to show in state {self.state.value!r}"
            raise UsageError(msg, requirement=REQ_DISPLAY)
        return format_code(code_value(self.code_input, self.suite))


def mark_as_verified(
    card: ContactCard, party: Party, public_code: PublicCodeHook | None = None
) -> ContactCard:
    """IPC-012/IPC-016: store the contact's account key (and public code) after a match.

    ``public_code`` is the hook for the public verification code module: given the
    contact's account key and the suite, it returns the code to store in
    ``verification_code`` (see :data:`PublicCodeHook`).
    """
    # IPC-012: only a session whose codes the user confirmed marks a contact verified.
    if party.state is not State.VERIFIED or party.peer_key is None:
        msg = f"cannot mark as verified in state {party.state.value!r}"
        raise UsageError(msg, requirement=REQ_VERIFIED)
    # IPC-016: store the public verification code of the verified key when we can compute it.
    code = (
        public_code(party.peer_key, party.suite)
        if public_code is not None
        else card.verification_code
    )
    return replace(card, verified_account_key=party.peer_key, verification_code=code)


# -- local comparison (``ckv code compare``) -----------------------------------------------


@dataclass(frozen=True, slots=True)
class LocalComparison:
    """Both sides of one exchange run locally."""

    initiator_code: str
    responder_code: str
    #: The three messages, in order: commit, response, reveal.
    messages: tuple[bytes, bytes, bytes]

    @property
    def match(self) -> bool:
        """Whether the two codes agree."""
        return self.initiator_code == self.responder_code


def compare_locally(
    initiator_key: AccountPublicKey,
    responder_key: AccountPublicKey,
    *,
    suite: CipherSuite = wire.DEFAULT_SUITE,
    rng: Callable[[int], bytes] = os.urandom,
) -> LocalComparison:
    """Run both parties of the exchange in memory and return both codes.

    Honest parties always agree; ``rng`` makes the run deterministic (it serves
    the session ID and both random values, in that order).
    """
    clock = _zero_clock
    initiator = Party(
        Role.INITIATOR,
        own_key=initiator_key,
        limiter=AttemptLimiter(),
        clock=clock,
        suite=suite,
        rng=rng,
    )
    responder = Party(
        Role.RESPONDER,
        own_key=responder_key,
        limiter=AttemptLimiter(),
        clock=clock,
        suite=suite,
        rng=rng,
    )
    commit = initiator.start()
    response = responder.receive(commit)
    assert response is not None  # a commit always gets a response
    reveal = initiator.receive(response)
    assert reveal is not None  # a response always gets a reveal
    responder.receive(reveal)
    return LocalComparison(initiator.code, responder.code, (commit, response, reveal))


def _zero_clock() -> int:
    return 0
