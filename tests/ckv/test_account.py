"""Identities, account keys, device records, enrollment and the sync channel."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckv import wire
from ckv.account import (
    AccountStateError,
    generate_account_key,
    is_capable,
    public_code_key,
    sign_account_state,
    sign_device_record,
    sign_handle_binding,
    validate_account_state,
    validate_handle_binding,
    verify_device_record,
)
from ckv.alerts import REGISTRY, make_alert, transport_evidence
from ckv.contact_state import TRANSITIONS, CardEvent, CardState, next_state
from ckv.demo import SeededRandom
from ckv.enrollment import (
    LegacyDevicesError,
    add_device,
    create_account,
    disable_ckv,
    enable_ckv,
    remove_device,
    rotate_account_key,
)
from ckv.errors import UsageError, VerificationError
from ckv.identity import (
    account_label,
    handle_label,
    new_account_id,
    normalize_email,
    normalize_phone,
    parse_handle,
    parse_label,
)
from ckv.public_code import code_input
from ckv.sync import InMemorySyncService, SyncConflictError
from ckv.wire.messages import (
    AccountKeyType,
    AlertCode,
    CipherSuite,
    DeviceCapability,
    DeviceRecord,
    DirectoryLabel,
    HandleBinding,
    HandleType,
    LabelKind,
    MessagingKey,
    MessagingKeyType,
    OptIn,
    SignedAccountState,
    SyncRecord,
)

ED = CipherSuite.KT_128_SHA256_Ed25519
P256 = CipherSuite.KT_128_SHA256_P256
NOW = 1_700_000_000_000


Rng = SeededRandom


def device(n: int, *, version: int = 2, capable: bool = True) -> DeviceRecord:
    return DeviceRecord(
        device_id=bytes([n]) * 16,
        protocol_version=version,
        software_version=17_2,
        capabilities=(DeviceCapability.ckv,) if capable else (),
        messaging_keys=(MessagingKey(key_type=MessagingKeyType.x25519, key=bytes([n]) * 32),),
        enrolled_at=NOW,
    )


ALICE_ID = b"\xa1" * 16
PHONE = normalize_phone("+1 (415) 555-0100")
EMAIL = normalize_email("Alice@Example.ORG")


def account(suite: CipherSuite = ED):  # type: ignore[no-untyped-def]
    pair = generate_account_key(suite, ALICE_ID, Rng(b"alice" + bytes([suite])))
    signed = create_account(pair, device(1), [PHONE, EMAIL], NOW)
    return pair, signed


def encoded(signed: SignedAccountState) -> bytes:
    return wire.encode(signed)


# -- identities ---------------------------------------------------------------------------


@pytest.mark.req("IDENT-002", "IDENT-003")
def test_handles_are_normalized() -> None:
    assert normalize_phone("+1 (415) 555-0100").value == b"+14155550100"
    assert normalize_phone("0044 20 7946 0000").value == b"+442079460000"
    assert normalize_email("  Alice@Example.ORG ").value == b"alice@example.org"
    assert parse_handle("tel:+14155550100") == PHONE
    assert parse_handle("mailto:alice@example.org") == EMAIL
    assert parse_handle("alice@EXAMPLE.org").handle_type is HandleType.email


@pytest.mark.req("IDENT-002", "IDENT-003", "IDENT-004")
@pytest.mark.parametrize(
    ("text", "requirement", "fragment"),
    [
        ("415 555 0100", "IDENT-002", "international"),
        ("+0123456789", "IDENT-002", "country code"),
        ("+12", "IDENT-002", "7 to 15 digits"),
        ("+1234567890123456", "IDENT-002", "7 to 15 digits"),
        ("alice@", "IDENT-003", "local@domain"),
        ("@example.org", "IDENT-003", "local@domain"),
        ("al ice@example.org", "IDENT-003", "position 3"),
        ("alice@localhost", "IDENT-003", "fully qualified"),
        ("a" * 250 + "@example.org", "IDENT-004", "at most 250"),
    ],
)
def test_malformed_handles_are_refused(text: str, requirement: str, fragment: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_handle(text)
    assert info.value.requirement == requirement
    assert fragment in str(info.value)


@pytest.mark.req("IDENT-005", "IDENT-006")
def test_labels_round_trip_and_refuse_non_normal_handles() -> None:
    assert parse_label(account_label(ALICE_ID)).account_id == ALICE_ID
    assert parse_label(handle_label(EMAIL)).handle == EMAIL
    assert account_label(ALICE_ID) != handle_label(EMAIL)
    upper = handle_label(replace(EMAIL, value=b"Alice@example.org"))
    with pytest.raises(UsageError, match="not in normal form"):
        parse_label(upper)
    with pytest.raises(UsageError, match="not a CKV directory label"):
        parse_label(b"\x07garbage")
    with pytest.raises(UsageError, match="16 bytes"):
        parse_label(wire.encode(DirectoryLabel(kind=LabelKind.account, account_id=b"x")))


# -- account states -----------------------------------------------------------------------


@pytest.mark.req("ACCT-001", "ACCT-006", "ACCT-007", "ACCT-008", "ENROLL-001")
@pytest.mark.parametrize("suite", [ED, P256])
def test_a_fresh_account_validates(suite: CipherSuite) -> None:
    pair, signed = account(suite)
    assert pair.public.key_type is (
        AccountKeyType.ed25519 if suite is ED else AccountKeyType.ecdsa_p256_sha256
    )
    state = validate_account_state(account_label(ALICE_ID), encoded(signed), suite=suite)
    assert state.epoch == 1
    assert state.ckv is OptIn.off
    assert "private" not in repr(pair) or "bytes>" in repr(pair)
    assert pair.private.hex() not in repr(pair)


@pytest.mark.req("ACCT-007")
@settings(max_examples=25)
@given(bit=st.integers(0, 8 * 64 - 1))
def test_a_device_record_with_a_bad_signature_is_named(bit: int) -> None:
    pair, signed = account()
    record = signed.state.devices[0]
    sig = bytearray(record.signature)
    sig[bit // 8] ^= 1 << (bit % 8)
    forged = replace(record, signature=bytes(sig))
    with pytest.raises(AccountStateError) as info:
        verify_device_record(pair.public, forged)
    assert info.value.requirement == "ACCT-007"
    assert info.value.device_id == record.record.device_id


@pytest.mark.req("ACCT-007", "ACCT-008")
def test_an_injected_device_is_reported_as_such() -> None:
    _pair, signed = account()
    intruder = generate_account_key(ED, ALICE_ID, Rng(b"directory"))
    injected = sign_device_record(intruder, device(66))
    state = replace(signed.state, devices=(*signed.state.devices, injected), epoch=2)
    # Even with the state re-signed by the intruder, the device is what gets named.
    for outer in (signed.signature, intruder.sign(b"CKV-v1 account state\x00", wire.encode(state))):
        value = wire.encode(SignedAccountState(state=state, signature=outer))
        with pytest.raises(AccountStateError) as info:
            validate_account_state(account_label(ALICE_ID), value, suite=ED)
        assert info.value.requirement == "ACCT-007"
        assert info.value.device_id == bytes([66]) * 16


@pytest.mark.req("ACCT-008", "ACCT-009", "ACCT-010", "ACCT-011", "ACCT-001")
def test_account_state_must_rejects() -> None:
    pair, signed = account()
    label = account_label(ALICE_ID)
    flipped = replace(signed, state=replace(signed.state, ckv=OptIn.on))
    cases = [
        (encoded(flipped), "ACCT-008"),
        (encoded(signed)[:-1], "ACCT-009"),
        (encoded(signed) + b"\x00", "ACCT-009"),
    ]
    for value, requirement in cases:
        with pytest.raises(AccountStateError) as info:
            validate_account_state(label, value, suite=ED)
        assert info.value.requirement == requirement
    with pytest.raises(AccountStateError, match="another label") as info:
        validate_account_state(account_label(b"\xb0" * 16), encoded(signed), suite=ED)
    with pytest.raises(AccountStateError) as info:
        validate_account_state(label, encoded(signed), suite=P256)
    assert info.value.requirement == "ACCT-001"
    twice = replace(signed.state, devices=signed.state.devices * 2)
    with pytest.raises(AccountStateError) as info:
        validate_account_state(label, encoded(sign_account_state(pair, twice)), suite=ED)
    assert info.value.requirement == "ACCT-011"


@pytest.mark.req("ACCT-015", "ACCT-012", "ACCT-014", "ENROLL-008")
def test_history_checks() -> None:
    pair, first = account()
    label = account_label(ALICE_ID)
    second = add_device(pair, first.state, device(2), NOW + 1)
    assert validate_account_state(label, encoded(second), suite=ED, previous=first.state)
    # A replay of the first state after the second is a rollback.
    with pytest.raises(AccountStateError) as info:
        validate_account_state(label, encoded(first), suite=ED, previous=second.state)
    assert info.value.requirement == "ACCT-015"
    # A new key handed over by the old one is accepted; a bare new key is not.
    new_pair = generate_account_key(ED, ALICE_ID, Rng(b"alice second key"))
    rotated = rotate_account_key(pair, new_pair, second.state, NOW + 2)
    state = validate_account_state(label, encoded(rotated), suite=ED, previous=second.state)
    assert state.account_key == new_pair.public
    assert all(verify_device_record(new_pair.public, d) is None for d in state.devices)
    bare = sign_account_state(new_pair, replace(rotated.state, rotation=None))
    with pytest.raises(AccountStateError) as info:
        validate_account_state(label, encoded(bare), suite=ED, previous=second.state)
    assert info.value.requirement == "ACCT-012"
    stranger = generate_account_key(ED, b"\xcc" * 16, Rng(b"other"))
    with pytest.raises(UsageError, match="keeps the account id"):
        rotate_account_key(pair, stranger, second.state, NOW)


# -- enrollment ---------------------------------------------------------------------------


@pytest.mark.req("ENROLL-005", "ENROLL-006", "ENROLL-003", "ENROLL-004", "ENROLL-007")
def test_legacy_devices_block_enabling_and_are_listed() -> None:
    pair, signed = account()
    state = add_device(pair, signed.state, device(2), NOW).state
    state = add_device(pair, state, device(3, version=1), NOW).state
    state = add_device(pair, state, device(4, capable=False), NOW).state
    assert [is_capable(d.record) for d in state.devices] == [True, True, False, False]
    with pytest.raises(LegacyDevicesError) as info:
        enable_ckv(pair, state, NOW, names=["phone", "laptop", "old tablet", "old watch"])
    assert info.value.devices == (bytes([3]) * 16, bytes([4]) * 16)
    assert "old tablet" in str(info.value)
    assert "old watch" in str(info.value)
    assert info.value.requirement == "ENROLL-005"
    # Signing both out unblocks; afterwards a legacy device cannot join.
    state = remove_device(pair, state, bytes([3]) * 16, NOW).state
    state = remove_device(pair, state, bytes([4]) * 16, NOW).state
    on = enable_ckv(pair, state, NOW)
    assert validate_account_state(account_label(ALICE_ID), encoded(on), suite=ED).ckv is OptIn.on
    with pytest.raises(LegacyDevicesError):
        add_device(pair, on.state, device(5, version=1), NOW)
    # A state claiming CKV on with a legacy device is refused by readers.
    forced = replace(
        on.state, devices=(*on.state.devices, sign_device_record(pair, device(9, version=1)))
    )
    with pytest.raises(AccountStateError) as err:
        validate_account_state(
            account_label(ALICE_ID), encoded(sign_account_state(pair, forced)), suite=ED
        )
    assert err.value.requirement == "ENROLL-006"
    off = disable_ckv(pair, on.state, NOW)
    assert off.state.ckv is OptIn.off
    assert off.state.epoch == on.state.epoch + 1
    with pytest.raises(UsageError, match="not enrolled"):
        remove_device(pair, state, bytes([3]) * 16, NOW)
    with pytest.raises(UsageError, match="legacy"):
        create_account(pair, device(7, version=1), [], NOW)


# -- handle bindings ----------------------------------------------------------------------


@pytest.mark.req("IDENT-007", "IDENT-008", "IDENT-010")
def test_handle_bindings_must_name_each_other() -> None:
    pair, signed = account()
    state = signed.state
    good = sign_handle_binding(pair, HandleBinding(handle=EMAIL, account_id=ALICE_ID, epoch=1))
    label = handle_label(EMAIL)
    assert validate_handle_binding(label, wire.encode(good), state, EMAIL).account_id == ALICE_ID
    other = normalize_email("mallory@example.org")
    cases = [
        (handle_label(PHONE), good, PHONE, "IDENT-007"),
        (label, replace(good, signature=bytes(64)), EMAIL, "IDENT-008"),
        (
            handle_label(other),
            sign_handle_binding(pair, HandleBinding(handle=other, account_id=ALICE_ID, epoch=1)),
            other,
            "IDENT-010",
        ),
        (
            label,
            sign_handle_binding(
                pair, HandleBinding(handle=EMAIL, account_id=b"\x01" * 16, epoch=1)
            ),
            EMAIL,
            "IDENT-010",
        ),
    ]
    for lab, binding, handle, requirement in cases:
        with pytest.raises(AccountStateError) as info:
            validate_handle_binding(lab, wire.encode(binding), state, handle)
        assert info.value.requirement == requirement


# -- sync channel -------------------------------------------------------------------------


@pytest.mark.req("SYNC-001", "SYNC-002", "SYNC-004", "ACCT-002")
def test_sync_channel_is_sealed_and_refuses_lost_updates() -> None:
    pair, _ = account()
    service = InMemorySyncService(Rng(b"sync nonces"))
    key = Rng(b"sync key")(32)
    phone, laptop = service.channel(ALICE_ID, key), service.channel(ALICE_ID, key)
    record = SyncRecord(
        account_key=pair.public,
        account_private_key=pair.private,
        devices=(),
        entries=(),
        alerts=(),
    )
    assert phone.read() is None
    generation = phone.write(record, generation=0)
    snapshot = laptop.read()
    assert snapshot is not None
    assert snapshot.record == record
    stored = service.ciphertext(ALICE_ID)
    assert stored is not None
    assert pair.private not in stored
    # Two siblings writing on the same read: the second must re-read.
    laptop.write(record, generation=generation)
    with pytest.raises(SyncConflictError):
        phone.write(record, generation=generation)
    with pytest.raises(VerificationError) as info:
        service.channel(ALICE_ID, bytes(32)).read()
    assert info.value.requirement == "SYNC-002"
    with pytest.raises(UsageError):
        service.channel(ALICE_ID, b"short")


@pytest.mark.req("PVC-003", "ACCT-001")
@pytest.mark.parametrize("suite", [ED, P256])
def test_public_code_input_ends_with_the_account_public_key(suite: CipherSuite) -> None:
    pair, _ = account(suite)
    data = code_input(public_code_key(pair.public))
    assert data.endswith(suite.to_bytes(2, "big") + wire.encode(pair.public))


@pytest.mark.req("IDENT-001", "ACCT-003")
def test_identifiers_are_sixteen_random_bytes() -> None:
    rng = Rng(b"ids")
    assert len(new_account_id(rng)) == 16
    assert new_account_id(rng) != new_account_id(rng)
    with pytest.raises(UsageError):
        new_account_id(lambda n: b"\x00" * (n - 1))
    with pytest.raises(UsageError, match="16 bytes"):
        account_label(b"\x01" * 15)
    assert len(device(1).device_id) == 16


@pytest.mark.req("ACCT-004")
def test_signatures_are_bound_to_their_context() -> None:
    """A device-record signature is no account-state signature, and vice versa."""
    pair, signed = account()
    record = signed.state.devices[0]
    # The same signature bytes over the other object's context must not verify.
    swapped = replace(signed, signature=record.signature)
    with pytest.raises(AccountStateError) as info:
        validate_account_state(account_label(ALICE_ID), encoded(swapped), suite=ED)
    assert info.value.requirement == "ACCT-008"
    raw = pair.sign(b"", wire.encode(signed.state))  # no context string at all
    with pytest.raises(AccountStateError):
        validate_account_state(
            account_label(ALICE_ID), encoded(replace(signed, signature=raw)), suite=ED
        )


@pytest.mark.req("ACCT-013", "ACCT-005")
def test_a_handle_listed_twice_is_refused() -> None:
    pair, signed = account()
    twice = replace(signed.state, handles=(EMAIL, EMAIL))
    with pytest.raises(AccountStateError) as info:
        validate_account_state(
            account_label(ALICE_ID), encoded(sign_account_state(pair, twice)), suite=ED
        )
    assert info.value.requirement == "ACCT-013"
    assert is_capable(device(1))
    assert not is_capable(device(2, version=1))
    assert not is_capable(device(3, capable=False))


@pytest.mark.req("IDENT-009")
def test_a_handle_value_that_is_no_binding_is_refused() -> None:
    _, signed = account()
    with pytest.raises(AccountStateError) as info:
        validate_handle_binding(handle_label(EMAIL), b"\x00\x01", signed.state, EMAIL)
    assert info.value.requirement == "IDENT-009"


@pytest.mark.req("ALERT-001", "ALERT-002")
def test_the_registry_covers_every_code_once() -> None:
    codes = [c for c in AlertCode if c is not AlertCode.reserved]
    assert sorted(REGISTRY) == sorted(codes)
    assert len({info.requirement for info in REGISTRY.values()}) >= 10
    for code, info in REGISTRY.items():
        assert info.code is code
        assert info.evidence
    with pytest.raises(UsageError) as err:
        make_alert(
            AlertCode.rollback,
            subject=b"",
            observed_at=0,
            directory=None,  # type: ignore[arg-type]
            evidence=[transport_evidence("x")],
        )
    assert err.value.requirement == "ALERT-002"


@pytest.mark.req("CARD-001", "CARD-002", "CARD-003")
def test_contact_state_table() -> None:
    assert next_state(CardState.UNVERIFIED, CardEvent.MARK_VERIFIED) is CardState.VERIFIED
    assert next_state(CardState.VERIFIED, CardEvent.KEY_CHANGED) is CardState.CHANGED
    assert next_state(CardState.CHANGED, CardEvent.KEY_MATCHES) is CardState.VERIFIED
    # CARD-002: no entry, no change.
    assert next_state(CardState.UNVERIFIED, CardEvent.KEY_CHANGED) is CardState.UNVERIFIED
    assert next_state(CardState.CKV_OFF, CardEvent.MARK_VERIFIED) is CardState.CKV_OFF
    # CARD-003: from every state.
    for state in CardState:
        assert next_state(state, CardEvent.ALERT_RAISED) is CardState.ALERT
        assert next_state(state, CardEvent.CONTACT_DISABLED) is CardState.CKV_OFF
    # CARD-001: every entry changes the state (the table lists changes only).
    assert all(new is not old for (old, _), new in TRANSITIONS.items() if old is not new)
    assert len(TRANSITIONS) == 9 + 2 * len(CardState) - 1
