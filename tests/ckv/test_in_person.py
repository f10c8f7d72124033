"""In-person code comparison: honest runs, the man in the middle, rejections, limits, wire."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckv import wire
from ckv.errors import CKVError, UsageError, VerificationError
from ckv.in_person import (
    CODE_DIGITS,
    MAX_FAILURES,
    PROTOCOL_VERSION,
    TRANSITIONS,
    WINDOW_SECONDS,
    AttemptLimiter,
    ContactCard,
    Event,
    Party,
    Role,
    State,
    code_value,
    commitment,
    compare_locally,
    format_code,
    mark_as_verified,
)
from ckv.wire import strategies
from ckv.wire.messages import (
    AccountKeyType,
    AccountPublicKey,
    CipherSuite,
    IpcAbortReason,
    IpcCodeInput,
    IpcCommit,
    IpcCommitInput,
    IpcMessage,
    IpcMessageType,
    IpcResponse,
    IpcReveal,
)

SUITE = wire.DEFAULT_SUITE
ALICE = AccountPublicKey(key_type=AccountKeyType.ed25519, account_id=b"alice", key=bytes(range(32)))
BOB = AccountPublicKey(
    key_type=AccountKeyType.ed25519, account_id=b"bob", key=bytes(range(100, 132))
)
MALLORY = AccountPublicKey(key_type=AccountKeyType.ed25519, account_id=b"bob", key=b"\xee" * 32)


def seeded(seed: int) -> Callable[[int], bytes]:
    gen = random.Random(seed)
    return gen.randbytes


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


def pair(seed: int = 0, clock: Clock | None = None, **kwargs: object) -> tuple[Party, Party, Clock]:
    clock = clock or Clock()
    rng = seeded(seed)
    a = Party(Role.INITIATOR, own_key=ALICE, limiter=AttemptLimiter(), clock=clock, rng=rng)
    b = Party(
        Role.RESPONDER,
        own_key=BOB,
        limiter=AttemptLimiter(),
        clock=clock,
        rng=rng,
        **kwargs,  # type: ignore[arg-type]
    )
    return a, b, clock


def run(a: Party, b: Party) -> tuple[bytes, bytes, bytes]:
    commit = a.start()
    response = b.receive(commit)
    assert response is not None
    reveal = a.receive(response)
    assert reveal is not None
    assert b.receive(reveal) is None
    return commit, response, reveal


def envelope(session_id: bytes, **body: object) -> bytes:
    kind = next(iter(body))
    message = IpcMessage(
        version=PROTOCOL_VERSION,
        ciphersuite=SUITE,
        session_id=session_id,
        message_type=IpcMessageType[kind],
        **body,  # type: ignore[arg-type]
    )
    return wire.encode(message, suite=SUITE)


def rejects(requirement: str, fn: Callable[[], object]) -> CKVError:
    with pytest.raises(CKVError) as info:
        fn()
    assert info.value.requirement == requirement, info.value
    return info.value


# -- honest runs -------------------------------------------------------------------


@pytest.mark.req("IPC-007", "IPC-008", "IPC-010", "IPC-011")
@given(
    a_key=st.binary(min_size=1, max_size=64),
    b_key=st.binary(min_size=1, max_size=64),
    key_type=st.sampled_from(list(AccountKeyType)[1:]),
    seed=st.integers(0, 2**32),
    suite=st.sampled_from(sorted(CipherSuite)[1:]),
)
def test_honest_runs_agree(
    a_key: bytes, b_key: bytes, key_type: AccountKeyType, seed: int, suite: CipherSuite
) -> None:
    a = AccountPublicKey(key_type=key_type, account_id=b"a", key=a_key)
    b = AccountPublicKey(key_type=key_type, account_id=b"b", key=b_key)
    result = compare_locally(a, b, suite=suite, rng=seeded(seed))
    assert result.match
    digits = result.initiator_code.replace(" ", "")
    assert len(digits) == CODE_DIGITS
    assert digits.isdigit()


def test_code_depends_on_keys_and_randoms() -> None:
    base = compare_locally(ALICE, BOB, rng=seeded(1))
    assert compare_locally(ALICE, BOB, rng=seeded(1)) == base
    assert compare_locally(ALICE, BOB, rng=seeded(2)).initiator_code != base.initiator_code
    assert compare_locally(ALICE, MALLORY, rng=seeded(1)).initiator_code != base.initiator_code


def test_format_code() -> None:
    assert format_code(1234) == "0000 1234"
    assert format_code(12345678) == "1234 5678"
    rejects("IPC-010", lambda: code_value(None, SUITE, digits=0))  # type: ignore[arg-type]


@pytest.mark.req("IPC-012", "IPC-016")
def test_mark_as_verified_stores_the_contact_key_and_public_code() -> None:
    a, b, _ = pair()
    run(a, b)
    card = ContactCard(name="Bob")
    rejects("IPC-012", lambda: mark_as_verified(card, a))
    a.confirm_match()
    stored = mark_as_verified(
        card, a, public_code=lambda key, suite: f"{suite.name}:{key.account_id.decode()}"
    )
    assert stored.verified_account_key == BOB
    assert stored.verification_code == f"{SUITE.name}:bob"
    assert mark_as_verified(card, a).verification_code is None
    b.report_mismatch()
    rejects("IPC-012", lambda: mark_as_verified(card, b))
    rejects("IPC-011", lambda: b.code)  # a failed session shows no code


# -- the man in the middle -----------------------------------------------------------


def mitm_run(
    seed: int, a_rng: Callable[[int], bytes] | None = None, grind_digits: int | None = None
) -> tuple[Party, Party]:
    """Mallory relays between Alice and Bob, substituting his key on both sides.

    He commits to Bob before he learns Bob's random value and must answer Alice
    before he learns hers. With ``grind_digits`` he uses everything he knows: once
    Bob's code is fixed, he searches for a random value to send Alice that makes
    her (``grind_digits``-digit) code equal Bob's, guessing her unknown random
    value as zeros.
    """
    gen = random.Random(seed)
    clock = Clock()
    a = Party(
        Role.INITIATOR,
        own_key=ALICE,
        limiter=AttemptLimiter(),
        clock=clock,
        rng=a_rng or gen.randbytes,
    )
    b = Party(Role.RESPONDER, own_key=BOB, limiter=AttemptLimiter(), clock=clock, rng=gen.randbytes)
    commit = wire.decode(IpcMessage, a.start(), suite=SUITE)
    sid = commit.session_id
    m_random_to_bob = gen.randbytes(32)
    m_commitment = commitment(
        IpcCommitInput(
            version=PROTOCOL_VERSION,
            ciphersuite=SUITE,
            session_id=sid,
            account_key=MALLORY,
            random=m_random_to_bob,
        ),
        SUITE,
    )
    response = b.receive(
        envelope(sid, commit=IpcCommit(account_key=MALLORY, commitment=m_commitment))
    )
    assert response is not None
    bob_random = wire.decode(IpcMessage, response, suite=SUITE).response
    assert bob_random is not None
    # Mallory may even pass Bob's random value on; it does not help him.
    to_alice = bob_random.random
    if grind_digits is not None:
        assert commit.commit is not None
        bob_view = IpcCodeInput(
            version=PROTOCOL_VERSION,
            ciphersuite=SUITE,
            session_id=sid,
            initiator_key=MALLORY,
            responder_key=BOB,
            commitment=m_commitment,
            initiator_random=m_random_to_bob,
            responder_random=bob_random.random,
        )
        target = code_value(bob_view, SUITE, grind_digits)
        guess = replace(
            bob_view,
            initiator_key=ALICE,
            responder_key=MALLORY,
            commitment=commit.commit.commitment,
            initiator_random=bytes(32),
        )
        for k in range(10 ** (grind_digits + 2)):
            to_alice = k.to_bytes(32, "big")
            if code_value(replace(guess, responder_random=to_alice), SUITE, grind_digits) == target:
                break
    reveal = a.receive(envelope(sid, response=IpcResponse(account_key=MALLORY, random=to_alice)))
    assert reveal is not None
    b.receive(envelope(sid, reveal=IpcReveal(random=m_random_to_bob)))
    return a, b


@pytest.mark.req("IPC-007", "IPC-010")
def test_mitm_matches_at_the_stated_rate_with_a_small_code() -> None:
    # With 2-digit codes, the adversary should win with probability 1/100 per run.
    runs, digits = 3000, 2
    wins = 0
    for seed in range(runs):
        a, b = mitm_run(seed)
        assert a.code_input is not None
        assert b.code_input is not None
        wins += code_value(a.code_input, SUITE, digits) == code_value(b.code_input, SUITE, digits)
    # Expected 30, standard deviation about 5.4: accept within about 4 sigma.
    assert 9 <= wins <= 52, wins


@pytest.mark.req("IPC-007", "IPC-010")
def test_grinding_mitm_does_no_better() -> None:
    # Mallory searches for the value he sends Alice; without her random value he
    # still wins only at the rate of a blind guess (1/10 for 1-digit codes).
    runs, digits = 500, 1
    wins = 0
    for seed in range(runs):
        a, b = mitm_run(seed, grind_digits=digits)
        assert a.code_input is not None
        assert b.code_input is not None
        wins += code_value(a.code_input, SUITE, digits) == code_value(b.code_input, SUITE, digits)
    # Expected 50, standard deviation about 6.7: accept within about 4 sigma.
    assert 23 <= wins <= 77, wins


@pytest.mark.req("IPC-010")
def test_every_code_input_field_matters() -> None:
    _, b, _ = pair()
    a2, _, _ = pair()
    run(a2, b)
    base = b.code_input
    assert base is not None
    changed = {
        "session_id": b"\x00" * 16,
        "initiator_key": MALLORY,
        "responder_key": MALLORY,
        "commitment": b"\x00" * 32,
        "initiator_random": b"\x00" * 32,
        "responder_random": b"\x00" * 32,
        "ciphersuite": CipherSuite.KT_128_SHA256_P256,
    }
    for field, value in changed.items():
        other = replace(base, **{field: value})  # type: ignore[arg-type]
        assert code_value(other, SUITE) != code_value(base, SUITE), field
    for key in (
        replace(ALICE, key_type=AccountKeyType.ecdsa_p256_sha256),
        replace(ALICE, account_id=b"alicf"),
    ):
        assert code_value(replace(base, initiator_key=key), SUITE) != code_value(base, SUITE)


@pytest.mark.req("IPC-007", "IPC-010")
def test_mitm_cannot_steer_the_initiator_code() -> None:
    # Everything Mallory sends is fixed before Alice reveals her random value, so
    # Bob's code is fixed too, while Alice's code is a fresh hash of her random
    # value: for the real size the match probability is at most that of one
    # value of a uniform 64-bit integer reduced mod 10^8.
    codes_bob, codes_alice = set(), set()
    for k in range(50):
        draws = iter([b"\x05" * 16, random.Random(f"alice-{k}").randbytes(32)])

        def a_rng(n: int, draws: object = draws) -> bytes:
            value = next(draws)  # type: ignore[call-overload]
            assert len(value) == n
            return bytes(value)

        a, b = mitm_run(7, a_rng=a_rng)
        codes_bob.add(b.code)
        codes_alice.add(a.code)
    assert len(codes_bob) == 1
    assert len(codes_alice) == 50
    worst = Fraction(-(-(2**64) // 10**CODE_DIGITS), 2**64)
    assert worst <= Fraction(1, 10**CODE_DIGITS) * (1 + Fraction(1, 2**37))


# -- rejections ----------------------------------------------------------------------


@pytest.mark.req("IPC-008")
def test_reveal_that_does_not_open_the_commitment_is_rejected() -> None:
    a, b, clock = pair()
    commit = a.start()
    b.receive(commit)
    sid = wire.decode(IpcMessage, commit, suite=SUITE).session_id
    err = rejects(
        "IPC-008", lambda: b.receive(envelope(sid, reveal=IpcReveal(random=b"\x01" * 32)))
    )
    assert isinstance(err, VerificationError)
    assert b.state is State.FAILED
    assert b.limiter.failures(clock.now) == 1


@pytest.mark.req("IPC-005")
def test_ordering_and_replay() -> None:
    a, b, _ = pair()
    sid = b"\x00" * 16
    # A reveal before any commit.
    rejects("IPC-005", lambda: b.receive(envelope(sid, reveal=IpcReveal(random=b"\x02" * 32))))
    a, b, _ = pair()
    commit = a.start()
    rejects("IPC-005", lambda: a.receive(commit))  # the initiator never takes a commit
    a, b, _ = pair()
    commit = a.start()
    response = b.receive(commit)
    assert response is not None
    rejects("IPC-005", lambda: b.receive(commit))  # replayed commit
    a, b, _ = pair()
    commit, response, reveal = run(a, b)
    rejects("IPC-005", lambda: a.receive(response))  # replayed response
    a2, b2, _ = pair()
    run(a2, b2)
    rejects("IPC-005", lambda: b2.receive(reveal))  # replayed reveal
    rejects("IPC-005", a.start)
    rejects("IPC-005", b.start)


@pytest.mark.req("IPC-002", "IPC-003", "IPC-004", "IPC-001", "IPC-009")
def test_bad_headers_keys_and_bytes() -> None:
    def fresh() -> tuple[Party, Party, IpcMessage]:
        a, b, _ = pair()
        return a, b, wire.decode(IpcMessage, a.start(), suite=SUITE)

    a, b, m = fresh()
    bad = wire.encode(replace(m, version=2), suite=SUITE)
    rejects("IPC-002", lambda: b.receive(bad))
    a, b, m = fresh()
    other = CipherSuite.KT_128_SHA256_P256
    bad = wire.encode(replace(m, ciphersuite=other), suite=SUITE)
    rejects("IPC-003", lambda: b.receive(bad))
    a, b, m = fresh()
    response = b.receive(wire.encode(m, suite=SUITE))
    assert response is not None
    r = wire.decode(IpcMessage, response, suite=SUITE)
    bad = wire.encode(replace(r, session_id=b"\xff" * 16), suite=SUITE)
    rejects("IPC-004", lambda: a.receive(bad))
    a, b, m = fresh()
    rejects("IPC-001", lambda: b.receive(wire.encode(m, suite=SUITE)[:-1]))
    a, b, m = fresh()
    rejects("IPC-001", lambda: b.receive(wire.encode(m, suite=SUITE) + b"\x00"))
    # Reflection: Alice's own commit comes back to a responder holding her key.
    a, _, m = fresh()
    mirror = Party(Role.RESPONDER, own_key=ALICE, limiter=AttemptLimiter(), clock=Clock())
    rejects("IPC-009", lambda: mirror.receive(wire.encode(m, suite=SUITE)))
    # A responder that knows Alice's key from the directory refuses another one.
    _, b, m = fresh()
    b.expected_peer_key = MALLORY
    rejects("IPC-009", lambda: b.receive(wire.encode(m, suite=SUITE)))


@pytest.mark.req("IPC-001", "IPC-002", "IPC-003", "IPC-004", "IPC-005", "IPC-008")
@settings(max_examples=60)
@given(which=st.integers(0, 2), position=st.integers(0, 10**6), bit=st.integers(0, 7))
def test_any_bit_flip_is_rejected_or_changes_a_code(which: int, position: int, bit: int) -> None:
    a, b, _ = pair(seed=position)
    messages: list[bytes] = []
    try:
        commit = a.start()
        messages.append(commit)
        if which == 0:
            commit = _flip(commit, position, bit)
        response = b.receive(commit)
        assert response is not None
        if which == 1:
            response = _flip(response, position, bit)
        reveal = a.receive(response)
        assert reveal is not None
        if which == 2:
            reveal = _flip(reveal, position, bit)
        b.receive(reveal)
    except VerificationError as exc:
        assert exc.requirement is not None
        assert exc.requirement.startswith("IPC-")
        return
    assert a.code != b.code


def _flip(data: bytes, position: int, bit: int) -> bytes:
    i = position % len(data)
    return data[:i] + bytes([data[i] ^ (1 << bit)]) + data[i + 1 :]


@pytest.mark.req("IPC-011")
def test_abort_and_no_code_before_the_exchange_completes() -> None:
    a, b, clock = pair()
    rejects("IPC-011", lambda: a.code)
    commit = a.start()
    rejects("IPC-011", lambda: a.code)
    b.receive(commit)
    rejects("IPC-011", lambda: b.code)
    abort = b.abort(IpcAbortReason.user_cancelled)
    assert abort is not None
    assert a.receive(abort) is None
    assert a.state is State.FAILED
    assert b.state is State.FAILED
    assert a.limiter.failures(clock.now) == 1
    assert b.limiter.failures(clock.now) == 1
    rejects("IPC-011", lambda: a.code)
    idle = Party(Role.INITIATOR, own_key=ALICE, limiter=AttemptLimiter(), clock=clock)
    assert idle.abort() is None
    assert idle.limiter.failures(clock.now) == 0


# -- attempt limits -----------------------------------------------------------------


@pytest.mark.req("IPC-013", "IPC-014", "IPC-015")
def test_attempt_limit_and_window() -> None:
    clock = Clock()
    limiter = AttemptLimiter()
    start = clock.now
    for k in range(MAX_FAILURES):
        a = Party(Role.INITIATOR, own_key=ALICE, limiter=limiter, clock=clock, rng=seeded(k))
        b = Party(Role.RESPONDER, own_key=BOB, limiter=AttemptLimiter(), clock=clock)
        run(a, b)
        a.report_mismatch()
        clock.now += 60
    blocked = Party(Role.INITIATOR, own_key=ALICE, limiter=limiter, clock=clock)
    err = rejects("IPC-013", blocked.start)
    assert f"t={start + WINDOW_SECONDS}" in str(err)  # IPC-015: tells when to retry
    assert limiter.retry_after(clock.now) == start + WINDOW_SECONDS
    clock.now = start + WINDOW_SECONDS
    a = Party(Role.INITIATOR, own_key=ALICE, limiter=limiter, clock=clock)
    b = Party(Role.RESPONDER, own_key=BOB, limiter=AttemptLimiter(), clock=clock)
    run(a, b)
    a.confirm_match()
    assert limiter.failures(clock.now) == MAX_FAILURES - 1  # a match is not a failure


@pytest.mark.req("IPC-013")
def test_responder_refuses_when_limited() -> None:
    clock = Clock()
    limiter = AttemptLimiter(max_failures=1)
    limiter.record_failure(clock.now)
    a = Party(Role.INITIATOR, own_key=ALICE, limiter=AttemptLimiter(), clock=clock)
    b = Party(Role.RESPONDER, own_key=BOB, limiter=limiter, clock=clock)
    err = rejects("IPC-013", lambda: b.receive(a.start()))
    assert isinstance(err, UsageError)
    assert b.state is State.FAILED
    assert b.abort(IpcAbortReason.rate_limited) is None  # no session to name yet


# -- the transition table ---------------------------------------------------------


@pytest.mark.req("IPC-005")
def test_transition_table_shape() -> None:
    for role in Role:
        reachable = {State.IDLE}
        frontier = [State.IDLE]
        while frontier:
            s = frontier.pop()
            for (r, src, _), dst in TRANSITIONS.items():
                if r is role and src is s and dst not in reachable:
                    reachable.add(dst)
                    frontier.append(dst)
        assert State.VERIFIED in reachable
        assert not any(r is role and src is State.VERIFIED for (r, src, _) in TRANSITIONS)
    assert (Role.RESPONDER, State.IDLE, Event.RECEIVE_REVEAL) not in TRANSITIONS


# -- wire ----------------------------------------------------------------------------

IPC_STRUCTS = [
    "IpcCommit",
    "IpcResponse",
    "IpcReveal",
    "IpcAbort",
    "IpcMessage",
    "IpcCommitInput",
    "IpcCodeInput",
]


@pytest.mark.req("IPC-001")
@pytest.mark.parametrize("struct", IPC_STRUCTS)
@settings(max_examples=25)
@given(data=st.data())
def test_wire_round_trip(struct: str, data: st.DataObject) -> None:
    value = data.draw(strategies.values(struct, {}, suite=SUITE))
    encoding = wire.encode(value, suite=SUITE)
    assert wire.decode(struct, encoding, suite=SUITE) == value


def test_protocol_messages_round_trip() -> None:
    a, b, _ = pair()
    for message in run(a, b):
        decoded = wire.decode(IpcMessage, message, suite=SUITE)
        assert wire.encode(decoded, suite=SUITE) == message


def test_cli_compare_shows_both_codes(capsys: pytest.CaptureFixture[str]) -> None:
    from ckv.cli import main

    assert main(["code", "compare", "--key-a", "11" * 32, "--key-b", "22" * 32]) == 0
    out = capsys.readouterr().out.splitlines()
    initiator = next(x for x in out if x.startswith("initiator shows: "))
    responder = next(x for x in out if x.startswith("responder shows: "))
    assert initiator.split(": ")[1] == responder.split(": ")[1]
    assert len(initiator.split(": ")[1].replace(" ", "")) == 8
    assert main(["code", "compare", "--key-a", "zz"]) == 1
    assert "--key-a is not hex" in capsys.readouterr().err


@pytest.mark.req("IPC-006")
def test_random_values_are_fresh_and_the_responder_draws_only_after_the_commitment() -> None:
    draws: list[tuple[str, int]] = []

    def counting(name: str) -> Callable[[int], bytes]:
        source = random.Random(name)

        def draw(n: int) -> bytes:
            draws.append((name, n))
            return source.randbytes(n)

        return draw

    alice = Party(
        Role.INITIATOR,
        own_key=ALICE,
        limiter=AttemptLimiter(),
        clock=lambda: 0,
        rng=counting("alice"),
    )
    bob = Party(
        Role.RESPONDER, own_key=BOB, limiter=AttemptLimiter(), clock=lambda: 0, rng=counting("bob")
    )
    commit = alice.start()
    assert [name for name, _ in draws] == ["alice", "alice"]  # session id, then random
    assert not any(name == "bob" for name, _ in draws)
    bob.receive(commit)
    assert ("bob", 32) in draws
    # Two sessions with the default generator never share random values.
    first = Party(Role.INITIATOR, own_key=ALICE, limiter=AttemptLimiter(), clock=lambda: 0)
    second = Party(Role.INITIATOR, own_key=ALICE, limiter=AttemptLimiter(), clock=lambda: 0)
    assert first.start() != second.start()
    short = Party(
        Role.INITIATOR,
        own_key=ALICE,
        limiter=AttemptLimiter(),
        clock=lambda: 0,
        rng=lambda n: b"\x00" * (n - 1),
    )
    with pytest.raises(UsageError) as info:
        short.start()
    assert info.value.requirement == "IPC-006"
