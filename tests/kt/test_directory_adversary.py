"""A directory that misbehaves on command, and the check of the client that catches it.

Each test runs :class:`~ckv.directory.adversary.AdversarialDirectory` honestly for a
while, gives one command, and shows the :class:`~ckv.kt_client.KTClient` check that
notices: an injected or replayed version is seen by the owner's catch-up and by a
contact's lookup; a fork yields ForkEvidence when two clients exchange heads; a
silent directory raises DirectoryUnavailable; a stale one trips max_behind; a
tampered proof fails verification. After every failure the client's state is what
it was before (OPS-010, DIRAPI-003) and an honest response still verifies.
"""

from __future__ import annotations

import copy
import hashlib
import random
from collections.abc import Callable
from functools import partial

import pytest

from ckv import wire
from ckv.cipher_suites import get_suite
from ckv.demo import Clock as DemoClock
from ckv.demo import SeededRandom, demo_configuration
from ckv.directory import DirectoryRefused, DirectoryUnavailable
from ckv.directory.adversary import AdversarialDirectory, tamper_response
from ckv.errors import UsageError, VerificationError
from ckv.fork_detection import verify_fork_evidence
from ckv.kt_client import KTClient, verify_gossip
from ckv.transparency_log import LogKeys
from ckv.wire import messages

ED = messages.CipherSuite.KT_128_SHA256_Ed25519
CM = messages.DeploymentMode.contactMonitoring
T0 = 1_700_000_000_000
MINUTE = 60_000
RMW = 10 * MINUTE
MAX_BEHIND = 60 * MINUTE
SUITE = get_suite(ED)
Clock = partial(DemoClock, T0)
Rng = SeededRandom


def _key(name: str) -> bytes:
    return hashlib.sha256(b"ckv directory adversary " + name.encode()).digest()


LOG_SK, VRF_SK = _key("log signature"), _key("log vrf")
CONFIG = demo_configuration(LOG_SK, VRF_SK, ED)
KEYS = LogKeys(CONFIG, LOG_SK, VRF_SK)
LABELS = [b"contact%d@example.com" % i for i in range(6)]
VICTIM = b"victim@example.com"


def _request(directory: AdversarialDirectory, label: bytes, value: bytes) -> messages.UpdateRequest:
    return messages.UpdateRequest(
        last=None,
        label=label,
        greatest_version=directory.greatest_version(label),
        values=(messages.LabelValue(value=value),),
    )


def grow(directory: AdversarialDirectory, clock: Clock, entries: int, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(entries):
        clock.tick()
        labels = rng.sample(LABELS, 2)
        answers = directory.update_batch(
            [_request(directory, label, b"%s %d" % (label, clock())) for label in labels]
        )
        assert not any(isinstance(a, DirectoryRefused) for a in answers)


class World:
    """An adversarial directory, its clock, an owner device and a contact."""

    def __init__(self, entries: int = 30) -> None:
        self.clock = Clock()
        self.directory = AdversarialDirectory(KEYS, clock=self.clock, random_bytes=Rng(b"adv"))
        grow(self.directory, self.clock, entries, 1)
        self.owner = self.client("owner")
        self.owner.own(VICTIM)
        self.clock.tick()
        self.owner.publish(VICTIM, [b"owner key 0"])
        grow(self.directory, self.clock, 5, 2)
        self.clock.tick()
        self.owner.publish(VICTIM, [b"owner key 1"])
        self.contact = self.client("contact")
        self.contact.lookup(VICTIM)

    def client(self, name: str) -> KTClient:
        return KTClient(CONFIG, self.directory.client(name), clock=self.clock)


def snapshot(client: KTClient) -> object:
    owners = {label: o.owner for label, o in client._owned.items()}
    monitoring = {label: dict(pairs) for label, pairs in client.monitoring().items()}
    return copy.deepcopy((client.state, monitoring, owners, client._contacts))


def rejected(client: KTClient, call: Callable[[], object]) -> VerificationError:
    """Run ``call``, which must fail verification and leave ``client`` as it was."""
    before = snapshot(client)
    with pytest.raises(VerificationError) as info:
        call()
    # OPS-010 / DIRAPI-003: a rejected response changes nothing.
    assert snapshot(client) == before
    return info.value


# -- inject and rollback --------------------------------------------------------------------


@pytest.mark.req("OPS-027", "DIRAPI-006", "KT-006")
def test_an_injected_version_is_seen_by_the_owner_and_by_contacts() -> None:
    """The owner's catch-up reports a version it did not make; a lookup shows it too."""
    w = World()
    w.clock.tick()
    w.directory.inject(VICTIM, b"the directory's key")
    grow(w.directory, w.clock, 3, 3)
    # Honest owner monitoring stops before the entry holding it (OPS-027): no alarm there.
    w.owner.owner_monitor(VICTIM)
    status = w.owner.owner_status(VICTIM)
    assert status.greatest == 1
    learned = w.owner.catch_up(VICTIM)
    assert learned == [(2, b"the directory's key")]
    found = w.contact.lookup(VICTIM)
    assert (found.version, found.value) == (2, b"the directory's key")
    # The owner's next publish comes after it.
    w.clock.tick()
    assert w.owner.publish(VICTIM, [b"owner key 3"]).versions == (3,)


@pytest.mark.req("DIRAPI-006")
def test_a_version_injected_while_the_owner_publishes_is_reported() -> None:
    w = World()
    w.clock.tick()
    w.directory.inject(VICTIM, b"injected")
    w.clock.tick()
    result = w.owner.publish(VICTIM, [b"owner key 3"])
    assert result.foreign == ((2, b"injected"),)
    assert result.versions == (3,)


@pytest.mark.req("DIRAPI-006")
def test_a_rolled_back_version_is_a_new_version_with_an_old_value() -> None:
    """A replayed state: the directory republishes version 0's value as version 3."""
    w = World()
    w.clock.tick()
    w.owner.publish(VICTIM, [b"owner key 2"])
    first = w.contact.lookup(VICTIM)
    assert first.value == b"owner key 2"
    w.clock.tick()
    w.directory.rollback(VICTIM, 0)
    found = w.contact.lookup(VICTIM)
    # Verified, newer, and holding what an older version held: the CKV layer's epoch
    # check (a value's epoch must increase) is what names it a rollback.
    assert found.version == first.version + 1
    assert found.value == b"owner key 0"
    assert w.owner.catch_up(VICTIM) == [(3, b"owner key 0")]
    with pytest.raises(UsageError):
        w.directory.rollback(VICTIM, 99)


# -- fork -----------------------------------------------------------------------------------


@pytest.mark.req("FORK-001", "FORK-002", "FORK-003", "DIRAPI-012")
def test_a_fork_passes_each_clients_checks_and_gossip_yields_evidence() -> None:
    w = World()
    alice, bob = w.client("alice"), w.client("bob")
    alice.lookup(VICTIM)
    bob.lookup(VICTIM)
    # Before the fork the heads agree.
    assert alice.compare_with_peer(bob.tree_head_for_gossip()) is None
    w.clock.tick()
    shared = w.directory.fork(["bob"], label=VICTIM, value=b"forged key")
    for _ in range(12):
        w.clock.tick(4 * MINUTE)
        w.directory.heartbeat()
    a, b = w.directory.branch(0), w.directory.branch(1)
    assert a.size == b.size
    assert a.root(shared) == b.root(shared)
    assert a.root() != b.root()
    # Each view verifies on its own: bob is shown the forged key, alice the owner's.
    assert bob.lookup(VICTIM).value == b"forged key"
    assert alice.lookup(VICTIM).value == b"owner key 1"
    gossip_a = alice.tree_head_for_gossip()
    gossip_b = bob.tree_head_for_gossip()
    evidence = alice.compare_with_peer(gossip_b)
    assert evidence is not None
    assert evidence.common_size > shared
    # FORK-003: the evidence convinces a third party from its bytes alone.
    data = wire.encode(evidence, suite=ED, mode=CM)
    decoded = wire.decode(messages.ForkEvidence, data, suite=ED)
    first, second = verify_fork_evidence(decoded)
    assert first == a.root(evidence.common_size)
    assert second == b.root(evidence.common_size)
    # Bob finds it from his side too.
    assert bob.compare_with_peer(gossip_a) is not None
    # A client of the same branch agrees with bob.
    carol = w.client("carol")
    assert carol.compare_with_peer(gossip_a) is None
    assert verify_gossip(CONFIG, gossip_a) != verify_gossip(CONFIG, gossip_b)
    with pytest.raises(UsageError):
        w.directory.fork(["alice"], label=VICTIM, value=b"again")


# -- silence --------------------------------------------------------------------------------


@pytest.mark.req("DIRAPI-008", "DIRAPI-003")
def test_a_silent_directory_raises_directory_unavailable() -> None:
    w = World()
    w.contact.lookup(LABELS[0])
    w.directory.go_silent(on=True, clients=["contact"])
    before = snapshot(w.contact)
    calls: list[Callable[[], object]] = [
        lambda: w.contact.lookup(VICTIM),
        w.contact.monitor,
        lambda: w.contact.evidence_lookup(VICTIM),
        w.contact.tree_head_for_gossip,
        lambda: w.contact.own(b"new@example.com"),
    ]
    for call in calls:
        with pytest.raises(DirectoryUnavailable):
            call()
    assert snapshot(w.contact) == before
    # Only the chosen client: the owner still gets answers.
    w.clock.tick()
    w.owner.publish(VICTIM, [b"owner key 2"])
    # Everyone, then back.
    w.directory.go_silent(on=True)
    with pytest.raises(DirectoryUnavailable):
        w.owner.owner_monitor(VICTIM)
    with pytest.raises(DirectoryUnavailable):
        w.directory.client("anyone").configuration()
    w.directory.go_silent(on=False)
    with pytest.raises(DirectoryUnavailable):
        w.contact.lookup(VICTIM)
    w.directory.go_silent(on=False, clients=["contact"])
    assert w.contact.lookup(VICTIM).value == b"owner key 2"
    # The owner's start was re-established after the failed monitoring (DIRAPI-005).
    w.clock.tick()
    assert w.owner.publish(VICTIM, [b"owner key 3"]).versions == (3,)


# -- stale ----------------------------------------------------------------------------------


@pytest.mark.req("SUITE-020", "OPS-012", "OPS-010", "DIRAPI-003")
def test_a_stale_directory_trips_max_behind() -> None:
    w = World()
    w.directory.serve_stale(on=True, clients=["contact"])
    grow(w.directory, w.clock, 5, 4)
    # Within max_behind the frozen log still verifies.
    w.contact.lookup(VICTIM)
    w.clock.tick(MAX_BEHIND)
    w.directory.heartbeat()
    assert w.contact.monitoring()
    for call in (lambda: w.contact.lookup(VICTIM), w.contact.monitor):
        error = rejected(w.contact, call)
        assert error.requirement == "SUITE-020"
    fresh = w.client("contact")
    error = rejected(fresh, lambda: fresh.lookup(VICTIM))
    assert error.requirement == "SUITE-020"
    # Other clients see the live log; when the contact does again, it verifies.
    assert w.owner.lookup(VICTIM).tree_size == w.directory.size
    w.directory.serve_stale(on=False, clients=["contact"])
    assert w.contact.lookup(VICTIM).tree_size == w.directory.size
    with pytest.raises(UsageError):
        w.directory.serve_stale(on=True, size=w.directory.size + 1)


# -- tamper ---------------------------------------------------------------------------------


@pytest.mark.req("OPS-010", "DIRAPI-003")
def test_a_tampered_lookup_and_monitor_fail_verification() -> None:
    w = World()
    grow(w.directory, w.clock, 3, 5)
    w.directory.tamper(client="contact")
    error = rejected(w.contact, lambda: w.contact.lookup(VICTIM))
    assert error.requirement
    assert w.contact.lookup(VICTIM).value == b"owner key 1"
    assert w.contact.monitoring()
    grow(w.directory, w.clock, 2, 6)
    w.directory.tamper(client="contact")
    rejected(w.contact, w.contact.monitor)
    w.contact.monitor()
    w.directory.tamper()
    rejected(w.contact, w.contact.tree_head_for_gossip)
    w.directory.tamper()
    rejected(w.contact, lambda: w.contact.evidence_lookup(VICTIM))


@pytest.mark.req("OPS-010", "DIRAPI-005")
def test_a_tampered_owner_monitor_is_rejected_and_the_owner_resyncs() -> None:
    """After a rejected monitoring response the owner re-advertises its start first."""
    w = World()
    for _ in range(6):
        w.clock.tick(4 * MINUTE)
        w.directory.heartbeat()
    w.directory.tamper(client="owner")
    rejected(w.owner, lambda: w.owner.owner_monitor(VICTIM))
    w.clock.tick()
    result = w.owner.publish(VICTIM, [b"owner key 2"])
    assert result.versions == (2,)
    assert w.directory.owner_start("owner", VICTIM) == w.owner.owner_status(VICTIM).start


@pytest.mark.req("OPS-010", "DIRAPI-006")
def test_a_tampered_update_response_is_rejected_and_reported_later() -> None:
    """The update is in the log but its proof was tampered: the next publish reports it."""
    w = World()
    w.directory.tamper(client="owner")
    w.clock.tick()
    rejected(w.owner, lambda: w.owner.publish(VICTIM, [b"owner key 2"]))
    assert w.directory.value(VICTIM, 2) == b"owner key 2"
    w.clock.tick()
    result = w.owner.publish(VICTIM, [b"owner key 3"])
    assert result.foreign == ((2, b"owner key 2"),)
    assert result.versions == (3,)


def test_tamper_response_flips_one_bit_of_the_proof() -> None:
    w = World()
    request = messages.SearchRequest(last=None, label=VICTIM, version=None)
    honest = w.directory.search(request)
    tampered = tamper_response(honest)
    assert tampered != honest
    assert tampered.search.inclusion != honest.search.inclusion
    with pytest.raises(UsageError):
        tamper_response(b"not a response")
