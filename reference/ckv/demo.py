"""The CKV story, scripted: ``ckv demo`` (spec chapter "Automatic verification and alerts").

Alice (a phone, a laptop and an old tablet) and Bob (a phone and a laptop) use a
directory that starts honest and then misbehaves. Each step prints what the
devices did and every alert they raised, with its registry code and whether a
third party can check its evidence. Everything runs in memory with a
deterministic clock and random source, so the output is the same every time.

:func:`run_story` returns the timeline; tests check that each alert the spec
requires was raised by the right devices, and nothing else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ckv import wire
from ckv.account import generate_account_key, sign_device_record
from ckv.alerts import REGISTRY, check_alert, decode_alert, encode_alert
from ckv.cipher_suites import get_suite
from ckv.device import Device
from ckv.directory import DirectoryTransport
from ckv.directory.adversary import AdversarialDirectory
from ckv.directory.policy import ckv_validator
from ckv.enrollment import LegacyDevicesError
from ckv.errors import CKVError
from ckv.identity import account_label, parse_handle
from ckv.in_person import compare_locally
from ckv.kt_client import verify_lookup_evidence
from ckv.sync import InMemorySyncService
from ckv.transparency_log import LogKeys
from ckv.wire.messages import (
    Alert,
    CipherSuite,
    Configuration,
    DeploymentMode,
    SearchRequest,
    SearchResponse,
    SignedAccountState,
)

__all__ = ["Event", "Story", "World", "build_world", "run_story"]

_MINUTE = 60_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


class SeededRandom:
    """Deterministic bytes: SHA-256 in counter mode over a seed (demo and tests only)."""

    def __init__(self, seed: bytes) -> None:
        self._seed = seed
        self._counter = 0

    def __call__(self, size: int) -> bytes:
        out = bytearray()
        while len(out) < size:
            out += hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
        return bytes(out[:size])


class Clock:
    """A clock the story moves forward by hand."""

    def __init__(self, start: int = T0) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        """Move time forward."""
        self.now += ms

    def tick(self, ms: int = _MINUTE) -> int:
        """Move time forward (a minute by default) and return the new time."""
        self.now += ms
        return self.now


def demo_configuration(
    log_key: bytes, vrf_key: bytes, suite: CipherSuite = CipherSuite.KT_128_SHA256_Ed25519
) -> Configuration:
    """The directory configuration of the story: CKV's profile, a 10-minute window."""
    s = get_suite(suite)
    return Configuration(
        ciphersuite=suite,
        mode=DeploymentMode.contactMonitoring,
        signature_public_key=s.signature_public_key(log_key),
        vrf_public_key=s.vrf_public_key(vrf_key),
        max_ahead=_MINUTE,
        max_behind=60 * _MINUTE,
        reasonable_monitoring_window=10 * _MINUTE,
        maximum_lifetime=140 * _MINUTE,
    )


@dataclass
class World:
    """A directory, a sync service, a clock and the devices of the story."""

    directory: AdversarialDirectory
    sync: InMemorySyncService
    clock: Clock
    random: SeededRandom
    devices: dict[str, Device] = field(default_factory=dict)

    def device(
        self,
        key: str,
        name: str,
        *,
        protocol_version: int = 2,
        transport: DirectoryTransport | None = None,
    ) -> Device:
        """A new device talking to the directory as client ``key``."""
        device = Device(
            name,
            transport=transport if transport is not None else self.directory.client(key),
            sync=self.sync,
            clock=self.clock,
            random_bytes=self.random,
            protocol_version=protocol_version,
        )
        self.devices[key] = device
        return device


def build_world(
    seed: bytes = b"ckv demo", suite: CipherSuite = CipherSuite.KT_128_SHA256_Ed25519
) -> World:
    """The in-memory world of the story."""
    random = SeededRandom(seed)
    clock = Clock()
    log_key, vrf_key = random(32), random(32)
    keys = LogKeys(demo_configuration(log_key, vrf_key, suite), log_key, vrf_key)
    made: list[AdversarialDirectory] = []

    def value_at(label: bytes, version: int) -> bytes | None:
        return made[0].value(label, version)

    def greatest(label: bytes) -> int | None:
        return made[0].greatest_version(label)

    validator = ckv_validator(suite, value_at, greatest)
    directory = AdversarialDirectory(
        keys, clock=clock, random_bytes=SeededRandom(seed + b" log"), validator=validator
    )
    made.append(directory)
    return World(
        directory, InMemorySyncService(SeededRandom(seed + b" sync"), suite), clock, random
    )


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the timeline."""

    at: int
    actor: str
    text: str
    alert: Alert | None = None
    #: For an alert: "complete" or "partial" after a third party's check.
    checked: str = ""


@dataclass
class Story:
    """The timeline of a run."""

    start: int
    events: list[Event] = field(default_factory=list)

    def alerts(self) -> list[tuple[str, str]]:
        """(actor, alert code name) of every alert, in order."""
        return [(e.actor, e.alert.code.name) for e in self.events if e.alert is not None]

    def render(self) -> str:
        """The timeline as people read it."""
        lines = []
        for e in self.events:
            minutes, ms = divmod(e.at - self.start, _MINUTE)
            stamp = f"t+{minutes:3d}:{ms // 1000:02d}"
            if e.alert is None:
                lines.append(f"{stamp}  {e.actor:<15} {e.text}")
                continue
            info = REGISTRY[e.alert.code]
            lines.append(
                f"{stamp}  {e.actor:<15} ALERT {int(e.alert.code):>2} {e.alert.code.name} "
                f"({info.category.value}): {e.text}"
            )
            lines.append(f"{'':9}  {'':<15}   evidence checked by a third party: {e.checked}")
        return "\n".join(lines)


def _third_party(alert: Alert) -> str:
    """Export the alert, decode it and check its evidence as someone else would."""
    data = encode_alert(alert)
    config = alert.directory

    def verify(
        cfg: Configuration, request: SearchRequest, response: SearchResponse, now: int
    ) -> tuple[int, bytes]:
        result = verify_lookup_evidence(cfg, request, response, now)
        return result.version, result.value

    try:
        checked = check_alert(decode_alert(data, config), verify)
    except CKVError as error:
        return f"REFUTED ({error.diagnostics()})"
    how = "the whole claim" if checked.complete else "what the directory published"
    return f"{len(data)} bytes; proves {how}"


def run_story(world: World | None = None, say: Callable[[str], None] | None = None) -> Story:
    """Play the story; ``say`` receives each timeline line as it happens."""
    w = world or build_world()
    story = Story(w.clock())

    def log(actor: str, text: str) -> None:
        story.events.append(Event(w.clock(), actor, text))
        if say is not None:
            say(story.render().splitlines()[-1])

    def report(device: Device, alerts: list[Alert], what: str) -> None:
        if not alerts:
            log(device.name, f"{what}: no alert")
        for alert in alerts:
            info = REGISTRY[alert.code]
            text = info.summary
            if alert.device_id:
                text += f" (device {alert.device_id.hex()[:8]})"
            story.events.append(Event(w.clock(), device.name, text, alert, _third_party(alert)))
            if say is not None:
                for line in story.render().splitlines()[-2:]:
                    say(line)

    def tick(minutes: int = 1) -> None:
        # The directory keeps its log fresh with heartbeat entries (LOGOP-014).
        for _ in range(minutes):
            w.clock.advance(_MINUTE)
            if w.directory.heartbeat_due():
                w.directory.heartbeat()

    alice_handle = parse_handle("+1 415 555 0100")
    bob_handle = parse_handle("bob@example.org")

    # 1. Accounts and devices.
    phone = w.device("alice-phone", "Alice's phone")
    phone.create_account([alice_handle])
    account = (phone.account_id or b"").hex()[:8]
    log(phone.name, f"created Alice's account {account} for {alice_handle.value.decode()}")
    laptop = w.device("alice-laptop", "Alice's laptop")
    phone.enroll(laptop)
    log(phone.name, "enrolled Alice's laptop (signed its device record)")
    tablet = w.device("alice-tablet", "Alice's tablet", protocol_version=1)
    phone.enroll(tablet)
    log(phone.name, "enrolled Alice's old tablet (protocol 1: a legacy device)")
    tick()
    try:
        laptop.enable_ckv()
    except LegacyDevicesError as refusal:
        log(laptop.name, f"turning CKV on refused: {refusal} [{refusal.requirement}]")
    laptop.sign_out(tablet.device_id)
    log(laptop.name, "signed the old tablet out")
    laptop.enable_ckv()
    log(laptop.name, "turned CKV on for all of Alice's devices")
    bob = w.device("bob-phone", "Bob's phone")
    bob.create_account([bob_handle])
    bob_laptop = w.device("bob-laptop", "Bob's laptop")
    bob.enroll(bob_laptop)
    bob.enable_ckv()
    log(
        bob.name,
        f"created Bob's account for {bob_handle.value.decode()}, enrolled his laptop, "
        "turned CKV on",
    )
    tick()
    for device in (phone, laptop, bob, bob_laptop):
        report(device, device.self_monitor(), "self-monitoring")

    # 2. Automatic verification and the in-person code.
    tick()
    contact = phone.verify_contact(bob_handle)
    log(phone.name, f"verified Bob automatically: {contact.card.value}")
    bob.verify_contact(alice_handle)
    comparison = compare_locally(
        phone.journal().account_key,
        bob.journal().account_key,
        suite=phone.suite,
        rng=SeededRandom(b"in person"),
    )
    log(
        phone.name,
        f"in person: Alice's phone shows {comparison.initiator_code}, Bob's phone shows "
        f"{comparison.responder_code}: {'match' if comparison.match else 'DIFFER'}",
    )
    if comparison.match:
        card = phone.mark_verified(bob_handle, bob.public_code())
        log(
            phone.name,
            f"Mark as Verified: Bob's card holds {bob.public_code()} ({card.card.value})",
        )
        card = bob.mark_verified(alice_handle, phone.public_code())
        log(
            bob.name,
            f"Mark as Verified: Alice's card holds {phone.public_code()} ({card.card.value})",
        )

    # 3. The directory injects a device into Bob's account.
    tick(2)
    assert bob.account_id is not None
    state = bob.account_state()
    forger = generate_account_key(bob.suite, bob.account_id, SeededRandom(b"directory's key"))
    fake = replace(bob.record, device_id=SeededRandom(b"fake device")(16), software_version=99)
    forged = replace(
        state, devices=(*state.devices, sign_device_record(forger, fake)), epoch=state.epoch + 1
    )
    value = wire.encode(
        SignedAccountState(
            state=forged, signature=forger.sign(b"CKV-v1 account state\x00", wire.encode(forged))
        )
    )
    w.directory.inject(account_label(bob.account_id), value)
    log("directory", f"injected device {fake.device_id.hex()[:8]} into Bob's account")
    tick()
    for device in (bob, bob_laptop):
        report(device, device.self_monitor(), "self-monitoring")
    contact = phone.verify_contact(bob_handle)
    report(phone, contact.alerts[-1:], "verifying Bob")
    log(phone.name, f"Bob's card: {contact.card.value}")

    # 4. The directory shows Alice's laptop a view of its own.
    tick(2)
    w.directory.fork({"alice-laptop"}, label=account_label(bob.account_id), value=value)
    log("directory", "forked: Alice's laptop now sees a different log from everyone else")
    tick(40)
    forks = laptop.gossip(bob)
    if not forks:
        log(laptop.name, "gossip of distinguished tree heads with Bob's phone: no alert")
    for device, alert in zip((laptop, bob), forks, strict=False):
        report(device, [alert], "gossip of distinguished tree heads")

    # 5. Bob turns CKV off.
    tick(2)
    bob.disable_ckv()
    log(bob.name, "turned CKV off")
    tick()
    contact = phone.verify_contact(bob_handle)
    report(phone, [a for a in contact.alerts if a.code.name == "contact_ckv_off"], "verifying Bob")
    log(phone.name, f"Bob's card: {contact.card.value}")
    return story
