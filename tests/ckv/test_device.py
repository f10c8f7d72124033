"""Devices end to end: enrollment, self-monitoring, automatic verification and alerts.

Every test runs real devices against an in-memory directory (honest, or
misbehaving on command) and checks the alerts the spec assigns, that each
alert's evidence convinces a third party, and that an honest directory causes
none.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ckv import wire
from ckv.account import generate_account_key, sign_account_state, sign_device_record
from ckv.alerts import REGISTRY, check_alert, decode_alert, encode_alert
from ckv.contact_state import CardState
from ckv.demo import SeededRandom, World, build_world, run_story
from ckv.device import Device
from ckv.directory import DirectoryRefused
from ckv.enrollment import LegacyDevicesError
from ckv.errors import CKVError, UsageError
from ckv.identity import account_label, handle_label, parse_handle
from ckv.kt_client import verify_lookup_evidence
from ckv.wire.messages import (
    Alert,
    AlertCode,
    Configuration,
    EvidenceType,
    HandleBinding,
    OptIn,
    SearchRequest,
    SearchResponse,
    SignedAccountState,
    SignedHandleBinding,
)

ALICE = parse_handle("+14155550100")
BOB = parse_handle("bob@example.org")
_CONTEXT_STATE = b"CKV-v1 account state\x00"


def verify(
    config: Configuration, request: SearchRequest, response: SearchResponse, now: int
) -> tuple[int, bytes]:
    result = verify_lookup_evidence(config, request, response, now)
    return result.version, result.value


def third_party(alert: Alert) -> bool:
    """Check an alert from its exported bytes alone; True when the whole claim is shown."""
    return check_alert(decode_alert(encode_alert(alert), alert.directory), verify).complete


def codes(alerts: list[Alert]) -> list[str]:
    return [a.code.name for a in alerts]


def tick(world: World, minutes: int = 1) -> None:
    for _ in range(minutes):
        world.clock.advance(60_000)
        if world.directory.heartbeat_due():
            world.directory.heartbeat()


@pytest.fixture
def world() -> World:
    """Alice (phone, laptop) and Bob (phone, laptop), both with CKV on, who know each other."""
    w = build_world(b"test devices")
    phone = w.device("alice-phone", "Alice's phone")
    phone.create_account([ALICE])
    phone.enroll(w.device("alice-laptop", "Alice's laptop"))
    phone.enable_ckv()
    bob = w.device("bob-phone", "Bob's phone")
    bob.create_account([BOB])
    bob.enroll(w.device("bob-laptop", "Bob's laptop"))
    bob.enable_ckv()
    tick(w)
    for device in w.devices.values():
        assert device.self_monitor() == []
    assert phone.verify_contact(BOB).alerts == []
    assert bob.verify_contact(ALICE).alerts == []
    return w


def forged_state(owner: Device, **changes: object) -> bytes:
    """A state of ``owner``'s account the directory made up, signed with a key of its own."""
    assert owner.account_id is not None
    state = replace(owner.account_state(), **changes)  # type: ignore[arg-type]
    forger = generate_account_key(owner.suite, owner.account_id, SeededRandom(b"forger"))
    signature = forger.sign(_CONTEXT_STATE, wire.encode(state))
    return wire.encode(SignedAccountState(state=state, signature=signature))


# -- an honest directory ------------------------------------------------------------------


@pytest.mark.req("VERIFY-011", "SELF-001", "SELF-002", "SELF-003", "ENROLL-002", "ENROLL-004")
@pytest.mark.req("ENROLL-008", "CARD-004", "SYNC-003", "DIR-001", "DIR-002", "IDENT-011")
@pytest.mark.req("VERIFY-003", "VERIFY-004")
def test_an_honest_directory_never_causes_an_alert(world: World) -> None:
    w = world
    phone, laptop = w.devices["alice-phone"], w.devices["alice-laptop"]
    bob, bob_laptop = w.devices["bob-phone"], w.devices["bob-laptop"]
    phone.mark_verified(BOB, bob.public_code())
    watch = w.device("alice-watch", "Alice's watch")
    laptop.enroll(watch)  # the laptop enrolls; the phone has to learn it
    tick(w)
    phone.sign_out(watch.device_id)
    tick(w)
    bob_laptop.rotate_account_key()  # Bob's laptop rotates; Bob's phone must follow
    tick(w, 3)
    for device in w.devices.values():
        if device is not watch:
            assert device.self_monitor() == [], device
    contact = phone.verify_contact(BOB)
    assert contact.alerts == []
    # CARD-004: the saved code no longer matches the rotated key: changed, not an alert.
    assert contact.card is CardState.CHANGED
    phone.mark_verified(BOB, bob.public_code())
    assert phone.contacts[handle_label(BOB)].card is CardState.VERIFIED
    assert phone.monitor_contacts() == []
    assert [d.alerts for d in w.devices.values()] == [[]] * len(w.devices)
    assert len(phone.journal().entries) >= 4


@pytest.mark.req("ENROLL-005", "ENROLL-003")
def test_legacy_devices_block_enabling_until_signed_out() -> None:
    w = build_world(b"legacy")
    phone = w.device("p", "phone")
    phone.create_account([ALICE])
    tablet = w.device("t", "old tablet", protocol_version=1)
    watch = w.device("w", "old watch", protocol_version=1)
    phone.enroll(tablet)
    phone.enroll(watch)
    with pytest.raises(LegacyDevicesError) as refusal:
        phone.enable_ckv()
    assert refusal.value.devices == (tablet.device_id, watch.device_id)
    assert "old tablet" in str(refusal.value)
    assert "old watch" in str(refusal.value)
    phone.sign_out(tablet.device_id)
    with pytest.raises(LegacyDevicesError) as refusal:
        phone.enable_ckv()
    assert refusal.value.devices == (watch.device_id,)
    phone.sign_out(watch.device_id)
    phone.enable_ckv()
    assert phone.account_state().ckv is OptIn.on
    with pytest.raises(LegacyDevicesError):
        phone.enroll(w.device("x", "another old one", protocol_version=1))


@pytest.mark.req("DIR-001")
def test_the_directory_refuses_and_never_stores_a_bad_device_record(world: World) -> None:
    w = world
    bob = w.devices["bob-phone"]
    assert bob.account_id is not None
    label = account_label(bob.account_id)
    before = w.directory.greatest_version(label)
    stranger = generate_account_key(bob.suite, bob.account_id, SeededRandom(b"stranger"))
    state = bob.account_state()
    bad = replace(
        state,
        devices=(
            *state.devices,
            sign_device_record(stranger, replace(bob.record, device_id=b"\x77" * 16)),
        ),
        epoch=state.epoch + 1,
    )
    signed = sign_account_state(bob._pair(), bad)
    with pytest.raises(DirectoryRefused, match="not signed by the account key"):
        bob.kt.publish(label, [wire.encode(signed)])
    assert w.directory.greatest_version(label) == before


# -- misbehaviour -------------------------------------------------------------------------


@pytest.mark.req("ACCT-007", "SELF-004", "VERIFY-007", "ALERT-002", "ALERT-003", "ALERT-005")
@pytest.mark.req("SELF-006")
def test_an_injected_device_alerts_owner_and_contacts(world: World) -> None:
    w = world
    bob, bob_laptop, phone = (
        w.devices["bob-phone"],
        w.devices["bob-laptop"],
        w.devices["alice-phone"],
    )
    fake = replace(bob.record, device_id=b"\xee" * 16)
    forger = generate_account_key(bob.suite, bob.account_id or b"", SeededRandom(b"f"))
    state = bob.account_state()
    value = forged_state(
        bob, devices=(*state.devices, sign_device_record(forger, fake)), epoch=state.epoch + 1
    )
    w.directory.inject(account_label(bob.account_id or b""), value)
    tick(w)
    for device in (bob, bob_laptop):
        (alert,) = device.self_monitor()
        assert alert.code is AlertCode.owner_unrecognized_device
        assert alert.device_id == fake.device_id
        assert not third_party(alert)  # proves only what the directory published
        assert device.self_monitor() == []  # raised once, not at every check
        # SELF-006: every device of the account shows the owner alerts.
        (note,) = device.account_alerts()
        assert AlertCode(note.code) is AlertCode.owner_unrecognized_device
        assert note.device_id == fake.device_id
    contact = phone.verify_contact(BOB)
    (alert,) = contact.alerts
    assert alert.code is AlertCode.unrecognized_device
    assert alert.device_id == fake.device_id
    assert contact.card is CardState.ALERT
    assert third_party(alert)
    # VERIFY-002: the last accepted state is kept; the fake device is not used.
    assert contact.state is not None
    assert fake.device_id not in [d.record.device_id for d in contact.state.devices]
    # A doctored alert is refuted: the evidence must show the claim.
    other = replace(alert, device_id=bob.device_id)
    with pytest.raises(CKVError, match="verifies under the account key"):
        check_alert(other, verify)


@pytest.mark.req("ACCT-015", "SELF-005", "VERIFY-007")
def test_a_rollback_alerts_owner_and_contacts(world: World) -> None:
    w = world
    bob, phone = w.devices["bob-phone"], w.devices["alice-phone"]
    label = account_label(bob.account_id or b"")
    w.directory.rollback(label, 0)  # replay the account's first state (CKV off, one device)
    tick(w)
    assert codes(bob.self_monitor()) == ["owner_state_mismatch"]
    contact = phone.verify_contact(BOB)
    assert codes(contact.alerts) == ["rollback"]
    assert third_party(contact.alerts[0])
    assert [e.evidence_type for e in contact.alerts[0].evidence] == [EvidenceType.lookup] * 2


@pytest.mark.req("ACCT-012", "VERIFY-007")
def test_a_replaced_account_key_alerts_contacts(world: World) -> None:
    w = world
    bob, phone = w.devices["bob-phone"], w.devices["alice-phone"]
    assert bob.account_id is not None
    forger = generate_account_key(bob.suite, bob.account_id, SeededRandom(b"new key"))
    state = bob.account_state()
    fake = replace(
        state,
        account_key=forger.public,
        epoch=state.epoch + 1,
        devices=tuple(sign_device_record(forger, d.record) for d in state.devices),
    )
    w.directory.inject(account_label(bob.account_id), wire.encode(sign_account_state(forger, fake)))
    tick(w)
    contact = phone.verify_contact(BOB)
    assert codes(contact.alerts) == ["account_key_replaced"]
    assert third_party(contact.alerts[0])
    assert codes(bob.self_monitor()) == ["owner_state_mismatch"]


@pytest.mark.req("VERIFY-006", "ENROLL-007", "CARD-003")
def test_contact_turning_ckv_off_is_told_once(world: World) -> None:
    w = world
    bob, phone = w.devices["bob-phone"], w.devices["alice-phone"]
    bob.disable_ckv()
    tick(w)
    contact = phone.verify_contact(BOB)
    assert codes(contact.alerts) == ["contact_ckv_off"]
    assert contact.card is CardState.CKV_OFF
    assert third_party(contact.alerts[0])
    assert codes(phone.verify_contact(BOB).alerts) == ["contact_ckv_off"]
    bob.enable_ckv()
    tick(w)
    assert phone.verify_contact(BOB).card is CardState.UNVERIFIED
    # A contact first seen with CKV off raises nothing.
    carol = w.device("carol", "Carol's phone")
    carol_handle = parse_handle("carol@example.org")
    carol.create_account([carol_handle])
    assert phone.verify_contact(carol_handle).alerts == []
    assert phone.contacts[handle_label(carol_handle)].card is CardState.CKV_OFF


@pytest.mark.req("VERIFY-008", "VERIFY-009", "VERIFY-010", "ALERT-004")
def test_unavailable_stale_and_tampered_directories(world: World) -> None:
    w = world
    phone = w.devices["alice-phone"]
    w.directory.go_silent(on=True, clients=["alice-phone"])
    assert codes(phone.verify_contact(BOB).alerts[-1:]) == ["directory_unreachable"]
    w.directory.go_silent(on=False, clients=["alice-phone"])
    w.directory.serve_stale(on=True, clients=["alice-phone"])
    tick(w, 90)  # past max_behind (one hour)
    assert codes(phone.verify_contact(BOB).alerts[-1:]) == ["directory_stale"]
    w.directory.serve_stale(on=False, clients=["alice-phone"])
    w.directory.tamper(client="alice-phone")
    alerts = phone.verify_contact(BOB).alerts
    assert alerts[-1].code is AlertCode.proof_invalid
    (evidence,) = alerts[-1].evidence
    assert evidence.exchange is not None
    assert evidence.exchange.response  # the bytes received are kept
    assert phone.verify_contact(BOB).card is CardState.ALERT


@pytest.mark.req("IDENT-010", "IDENT-008", "VERIFY-001")
def test_a_handle_pointed_at_another_account(world: World) -> None:
    w = world
    bob, phone = w.devices["bob-phone"], w.devices["alice-phone"]
    mallory = w.device("mallory", "Mallory's phone")
    mallory.create_account([parse_handle("mallory@example.org")])
    mallory.enable_ckv()
    pair = mallory._pair()
    binding = HandleBinding(handle=BOB, account_id=mallory.account_id or b"", epoch=9)
    value = wire.encode(
        SignedHandleBinding(
            binding=binding, signature=pair.sign(b"CKV-v1 handle binding\x00", wire.encode(binding))
        )
    )
    w.directory.inject(handle_label(BOB), value)
    tick(w)
    contact = phone.verify_contact(BOB)
    assert codes(contact.alerts) == ["account_key_replaced"]
    assert third_party(contact.alerts[0])
    assert "owner_state_mismatch" in codes(bob.self_monitor())
    # A new contact sees the handle and the account disagree.
    dave = w.device("dave", "Dave's phone")
    dave.create_account([parse_handle("dave@example.org")])
    dave.enable_ckv()
    alerts = dave.verify_contact(BOB).alerts
    assert codes(alerts) == ["handle_mismatch"]
    assert third_party(alerts[0])


@pytest.mark.req("VERIFY-005", "FORK-001")
def test_gossip_between_devices_exposes_a_fork(world: World) -> None:
    w = world
    laptop, bob = w.devices["alice-laptop"], w.devices["bob-phone"]
    label = account_label(bob.account_id or b"")
    w.directory.fork({"alice-laptop"}, label=label, value=forged_state(bob, epoch=50))
    tick(w, 40)
    alerts = laptop.gossip(bob)
    assert codes(alerts) == ["fork_detected", "fork_detected"]
    assert all(third_party(a) for a in alerts)


def test_the_demo_story_raises_what_the_spec_requires() -> None:
    story = run_story()
    assert story.alerts() == [
        ("Bob's phone", "owner_unrecognized_device"),
        ("Bob's laptop", "owner_unrecognized_device"),
        ("Alice's phone", "unrecognized_device"),
        ("Alice's laptop", "fork_detected"),
        ("Bob's phone", "fork_detected"),
        ("Alice's phone", "contact_ckv_off"),
    ]
    text = story.render()
    assert "REFUTED" not in text
    assert "[ENROLL-005]" in text
    for code in (1, 2, 8, 10):
        assert f"ALERT {code:>2} {AlertCode(code).name}" in text
    assert all(info.code in AlertCode for info in REGISTRY.values())


def test_marking_verified_needs_the_right_code(world: World) -> None:
    phone, bob = world.devices["alice-phone"], world.devices["alice-laptop"]
    with pytest.raises(UsageError, match="not the public verification code"):
        phone.mark_verified(BOB, bob.public_code())
