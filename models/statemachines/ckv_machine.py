"""A Hypothesis state machine over the CKV reference: enrollment and an adversarial directory.

Random sequences of honest account changes (enroll and remove devices, turn CKV
on and off, rotate the account key, compare codes) run against an in-memory
directory; at some point the directory may misbehave once (inject a device,
drop one, replay an old state, replace the account key, fork a device's view,
go silent). After every step, every device runs the checks it must run within a
monitoring window (self-monitoring, automatic verification of its contacts,
gossip of tree heads) and the machine checks three invariants:

* **silence** — while the directory is honest, no device raises an alert other
  than ``contact_ckv_off`` for a contact that really turned CKV off;
* **detection** — after a misbehaviour, the alerts the spec assigns to it are
  raised by the devices it assigns them to, in that same monitoring round;
* **no unenrolled key** — every device record a contact accepted was enrolled
  by the account (or an alert was raised about that contact).

The machine also keeps a trace of the action facts the Tamarin models use
(``Enrolled``, ``AcceptDevice``, ``OwnerPublished``, ``Served``,
``AcceptState``, ``OwnerFetched``, ``Alert``), built from what the reference
did, and checks the models' lemmas as predicates over it after every step:
``device_record_authentic`` (models/tamarin/enrollment.spthy),
``alert_soundness`` and ``owner_monitoring_detects_injection``
(models/tamarin/monitoring.spthy). A state ``st`` is a pair (version, hash of
the value): a value the owner published once and the directory serves again at
a later version is a different state, as SELF-003 reads it.

The machine is the "model" of spec chapter "Automatic verification and alerts";
tests/models/test_ckv_machine.py runs it.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from ckv import wire
from ckv.account import generate_account_key, sign_device_record
from ckv.demo import SeededRandom, World, build_world
from ckv.device import Device
from ckv.identity import account_label, handle_label, parse_handle
from ckv.wire.messages import AlertCode, OptIn, SignedAccountState

__all__ = ["CKVMachine"]

_MINUTE = 60_000
_HANDLES = {"alice": parse_handle("alice@example.org"), "bob": parse_handle("bob@example.org")}
_STATE_CONTEXT = b"CKV-v1 account state\x00"


class CKVMachine(RuleBasedStateMachine):
    """Two accounts, their devices, and a directory that may misbehave once."""

    def __init__(self) -> None:
        super().__init__()
        self.world: World
        self.accounts: dict[str, list[Device]] = {}
        self.ever_enrolled: dict[str, set[bytes]] = {}
        self.attack: str | None = None
        self.target: str | None = None
        #: (device name, alert code) pairs the spec requires after the attack.
        self.expected: set[tuple[str, AlertCode]] = set()
        #: Alert codes each device may raise without a misbehaviour (contact_ckv_off).
        self.allowed: dict[str, set[AlertCode]] = {}
        self.counter = 0
        #: The action facts of the run, in order: (name, arguments).
        self.trace: list[tuple[str, tuple[object, ...]]] = []

    # -- set-up ------------------------------------------------------------------------

    @initialize(seed=st.binary(min_size=4, max_size=4))
    def setup(self, seed: bytes) -> None:
        self.world = build_world(b"machine " + seed)
        for name in ("alice", "bob"):
            first = self._device(f"{name}-phone")
            first.create_account([_HANDLES[name]])
            first.enable_ckv()
            self.accounts[name] = [first]
            self.ever_enrolled[name] = {first.device_id}
            self._act("Enrolled", name, first.device_id, wire.encode(first.record))

    def _device(self, key: str, *, protocol_version: int = 2) -> Device:
        self.counter += 1
        name = f"{key}-{self.counter}"  # also the device's client id at the directory
        return self.world.device(name, name, protocol_version=protocol_version)

    def _other(self, name: str) -> str:
        return "bob" if name == "alice" else "alice"

    def _ckv_on(self, name: str) -> bool:
        return self.accounts[name][0].account_state().ckv is OptIn.on

    def _tick(self, minutes: int = 1) -> None:
        for _ in range(minutes):
            self.world.clock.advance(_MINUTE)
            if self.world.directory.heartbeat_due():
                self.world.directory.heartbeat()

    # -- honest account changes ----------------------------------------------------------

    @precondition(lambda self: self.attack is None)
    @rule(name=st.sampled_from(["alice", "bob"]), by=st.integers(0, 3))
    def enroll(self, name: str, by: int) -> None:
        devices = self.accounts[name]
        if len(devices) >= 3:
            return
        new = self._device(f"{name}-device")
        devices[by % len(devices)].enroll(new)
        devices.append(new)
        self.ever_enrolled[name].add(new.device_id)
        self._act("Enrolled", name, new.device_id, wire.encode(new.record))

    @precondition(lambda self: self.attack is None)
    @rule(name=st.sampled_from(["alice", "bob"]), by=st.integers(0, 3))
    def remove(self, name: str, by: int) -> None:
        devices = self.accounts[name]
        if len(devices) < 2:
            return
        leaving = devices.pop()
        devices[by % len(devices)].sign_out(leaving.device_id)

    @precondition(lambda self: self.attack is None)
    @rule(name=st.sampled_from(["alice", "bob"]), by=st.integers(0, 3), on=st.booleans())
    def set_ckv(self, name: str, by: int, on: bool) -> None:
        devices = self.accounts[name]
        if on == self._ckv_on(name):
            return
        device = devices[by % len(devices)]
        if on:
            device.enable_ckv()
        else:
            device.disable_ckv()
            # Contacts that had CKV on are told, and that is not a false alarm.
            for contact in self.accounts[self._other(name)]:
                self.allowed.setdefault(contact.name, set()).add(AlertCode.contact_ckv_off)

    @precondition(lambda self: self.attack is None)
    @rule(name=st.sampled_from(["alice", "bob"]), by=st.integers(0, 3))
    def rotate(self, name: str, by: int) -> None:
        devices = self.accounts[name]
        devices[by % len(devices)].rotate_account_key()

    @precondition(lambda self: self.attack is None)
    @rule(name=st.sampled_from(["alice", "bob"]))
    def compare_codes(self, name: str) -> None:
        other = self._other(name)
        viewer, subject = self.accounts[name][0], self.accounts[other][0]
        contact = viewer.contacts.get(handle_label(_HANDLES[other]))
        if viewer.ckv_on and contact is not None and contact.state is not None:
            viewer.verify_contact(_HANDLES[other])
            viewer.mark_verified(_HANDLES[other], subject.public_code())

    @rule(minutes=st.integers(1, 9))
    def wait(self, minutes: int) -> None:
        self._tick(minutes)

    # -- the directory misbehaves ----------------------------------------------------------

    def _forged(self, name: str, **changes: object) -> bytes:
        owner = self.accounts[name][0]
        state = replace(owner.account_state(), **changes)  # type: ignore[arg-type]
        forger = generate_account_key(owner.suite, owner.account_id or b"", SeededRandom(b"x"))
        signature = forger.sign(_STATE_CONTEXT, wire.encode(state))
        return wire.encode(SignedAccountState(state=state, signature=signature))

    def _expect(self, name: str, owner_code: AlertCode, contact_code: AlertCode | None) -> None:
        self.target = name
        for device in self.accounts[name]:
            self.expected.add((device.name, owner_code))
        if contact_code is not None and self._ckv_on(self._other(name)):
            for device in self.accounts[self._other(name)]:
                self.expected.add((device.name, contact_code))

    @precondition(lambda self: self.attack is None)
    @rule(name=st.sampled_from(["alice", "bob"]))
    def inject_device(self, name: str) -> None:
        owner = self.accounts[name][0]
        state = owner.account_state()
        forger = generate_account_key(owner.suite, owner.account_id or b"", SeededRandom(b"i"))
        fake = replace(owner.record, device_id=SeededRandom(b"fake")(16))
        value = self._forged(
            name, devices=(*state.devices, sign_device_record(forger, fake)), epoch=state.epoch + 1
        )
        self.world.directory.inject(account_label(owner.account_id or b""), value)
        self.attack = "inject"
        self._expect(name, AlertCode.owner_unrecognized_device, AlertCode.unrecognized_device)

    @precondition(lambda self: self.attack is None)
    @rule(name=st.sampled_from(["alice", "bob"]))
    def drop_device(self, name: str) -> None:
        owner = self.accounts[name][0]
        state = owner.account_state()
        value = self._forged(name, devices=state.devices[:-1], epoch=state.epoch + 1)
        self.world.directory.inject(account_label(owner.account_id or b""), value)
        self.attack = "drop"
        self._expect(name, AlertCode.owner_state_mismatch, AlertCode.signature_invalid)

    @precondition(lambda self: self.attack is None)
    @rule(name=st.sampled_from(["alice", "bob"]))
    def replay_old_state(self, name: str) -> None:
        owner = self.accounts[name][0]
        label = account_label(owner.account_id or b"")
        self.world.directory.rollback(label, 0)
        self.attack = "rollback"
        self._expect(name, AlertCode.owner_state_mismatch, AlertCode.rollback)

    @precondition(lambda self: self.attack is None)
    @rule(name=st.sampled_from(["alice", "bob"]))
    def replace_key(self, name: str) -> None:
        owner = self.accounts[name][0]
        state = owner.account_state()
        forger = generate_account_key(owner.suite, owner.account_id or b"", SeededRandom(b"k"))
        fake = replace(
            state,
            account_key=forger.public,
            epoch=state.epoch + 1,
            devices=tuple(sign_device_record(forger, d.record) for d in state.devices),
        )
        signature = forger.sign(_STATE_CONTEXT, wire.encode(fake))
        value = wire.encode(SignedAccountState(state=fake, signature=signature))
        self.world.directory.inject(account_label(owner.account_id or b""), value)
        self.attack = "replace_key"
        self._expect(name, AlertCode.owner_state_mismatch, AlertCode.account_key_replaced)

    @precondition(lambda self: self.attack is None)
    @rule(name=st.sampled_from(["alice", "bob"]))
    def fork(self, name: str) -> None:
        victim = self.accounts[name][-1]
        subject = self.accounts[self._other(name)][0]
        value = self._forged(self._other(name), epoch=10_000)
        label = account_label(subject.account_id or b"")
        self.world.directory.fork({victim.name}, label=label, value=value)
        self.attack = "fork"
        self.target = name
        self.expected.add((victim.name, AlertCode.fork_detected))
        self.expected.add((subject.name, AlertCode.fork_detected))

    @precondition(lambda self: self.attack is None)
    @rule(name=st.sampled_from(["alice", "bob"]))
    def go_silent(self, name: str) -> None:
        device = self.accounts[name][0]
        self.world.directory.go_silent(on=True, clients=[device.name])
        self.attack = "silent"
        self.target = name
        self.expected.add((device.name, AlertCode.directory_unreachable))

    # -- the trace of Tamarin action facts ----------------------------------------------------

    def _act(self, name: str, *args: object) -> None:
        fact = (name, args)
        if fact not in self.trace:
            self.trace.append(fact)

    def _states(self, name: str) -> list[tuple[int, bytes]]:
        """(version, value hash) of every version of an account's label the directory holds."""
        owner = self.accounts[name][0]
        label = account_label(owner.account_id or b"")
        greatest = self.world.directory.greatest_version(label)
        out = []
        for version in range(0 if greatest is None else greatest + 1):
            value = self.world.directory.value(label, version)
            if value is not None:
                out.append((version, hashlib.sha256(value).digest()))
        return out

    def _record_trace(self) -> None:
        """Add the facts of the round just run: what was served, published, accepted, alerted."""
        for name, devices in self.accounts.items():
            published = {e.value_hash for e in devices[0].journal().entries}
            seen: set[bytes] = set()
            for version, digest in self._states(name):
                st = (version, digest)
                self._act("Served", name, st)
                # SELF-003: the first version that holds a journal value is the owner's.
                if digest in published and digest not in seen:
                    self._act("OwnerPublished", name, st)
                seen.add(digest)
                if any(d.capable for d in devices):
                    self._act("OwnerFetched", name, st)  # every capable device monitors
            label = account_label(devices[0].account_id or b"")
            for note in devices[0].account_alerts():
                if note.label == label:
                    value = self.world.directory.value(label, note.version) or b""
                    self._act("Alert", name, (note.version, hashlib.sha256(value).digest()))
            for viewer in (d for other, ds in self.accounts.items() if other != name for d in ds):
                contact = viewer.contacts.get(handle_label(_HANDLES[name]))
                if contact is None or contact.state is None or contact.account_version is None:
                    continue
                value = self.world.directory.value(label, contact.account_version) or b""
                st = (contact.account_version, hashlib.sha256(value).digest())
                self._act("AcceptState", viewer.name, name, st)
                for device in contact.state.devices:
                    self._act("AcceptDevice", viewer.name, name, wire.encode(device.record))

    def _before(self, fact: tuple[str, tuple[object, ...]]) -> list[tuple[str, tuple[object, ...]]]:
        return self.trace[: self.trace.index(fact)]

    @invariant()
    def tamarin_lemmas_hold_over_the_trace(self) -> None:
        for fact in self.trace:
            name, args = fact
            if name == "AcceptDevice":
                # device_record_authentic: accepted only if a device of the account enrolled it.
                _, aid, rec = args
                assert any(
                    n == "Enrolled" and a[0] == aid and a[2] == rec for n, a in self._before(fact)
                ), f"device_record_authentic fails: {args[0]} accepted a record nobody enrolled"
            elif name == "Alert":
                # alert_soundness: an alert names a served state the owner never published.
                aid, st = args
                assert ("Served", (aid, st)) in self._before(fact), "alert_soundness: not served"
                assert ("OwnerPublished", (aid, st)) not in self.trace, (
                    f"alert_soundness fails: an alert about {aid}'s own state {st[0]}"
                )
            elif name == "AcceptState":
                # owner_monitoring_detects_injection: a state a contact accepted and the owner
                # fetched is the owner's own, or the owner was alerted about it.
                _, aid, st = args
                if ("OwnerFetched", (aid, st)) in self.trace:
                    assert ("OwnerPublished", (aid, st)) in self.trace or (
                        "Alert",
                        (aid, st),
                    ) in self.trace, f"owner_monitoring_detects_injection fails for {aid} {st[0]}"

    # -- the monitoring round and the invariants ------------------------------------------------

    def _round(self) -> dict[str, set[AlertCode]]:
        """Every check a device runs within one monitoring window."""
        raised: dict[str, set[AlertCode]] = {}
        everyone = [d for devices in self.accounts.values() for d in devices]
        for device in everyone:
            found = list(device.self_monitor())
            for name, devices in self.accounts.items():
                if device in devices:
                    continue
                found += device.verify_contact(_HANDLES[name]).alerts
            raised.setdefault(device.name, set()).update(a.code for a in found)
        if self.attack == "fork":
            self._tick(40)  # distinguished entries after the fork, on both branches
            for device in everyone:
                for peer in everyone:
                    if device is not peer:
                        for alert in device.gossip(peer):
                            raised.setdefault(device.name, set()).add(alert.code)
        return raised

    @invariant()
    def alerts_are_the_ones_the_spec_assigns(self) -> None:
        if not self.accounts:
            return
        before = {d.name: {a.code for a in d.alerts} for ds in self.accounts.values() for d in ds}
        raised = self._round()
        for device, now in raised.items():
            codes = now | before.get(device, set())
            unexpected = codes - self.allowed.get(device, set())
            if self.attack is None:
                # Silence: an honest directory causes no alert.
                assert not unexpected, f"{device} raised {sorted(c.name for c in unexpected)}"
        for device, code in self.expected:
            # Detection: within this monitoring round.
            got = raised.get(device, set()) | before.get(device, set())
            assert code in got, f"{device} did not raise {code.name} after {self.attack}"
        self.expected.clear()
        self._record_trace()

    @invariant()
    def no_unenrolled_device_without_an_alert(self) -> None:
        for name in self.accounts:
            for viewer in (d for other, ds in self.accounts.items() if other != name for d in ds):
                contact = viewer.contacts.get(handle_label(_HANDLES[name]))
                if contact is None or contact.state is None or contact.alerts:
                    continue
                used = {d.record.device_id for d in contact.state.devices}
                assert used <= self.ever_enrolled[name], f"{viewer.name} uses an unenrolled device"
