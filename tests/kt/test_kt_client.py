"""The KEYTRANS client and the honest in-memory directory (spec/kt/client.md).

Honest runs: contacts that look labels up and monitor them across many entries
and heartbeats; two devices owning one label (sibling devices) that publish,
monitor and catch up on each other's versions; the directory's validator;
lookup evidence; gossip views whose consistency proofs are those the log would
give. The misbehaving directory is in test_directory_adversary.py.
"""

from __future__ import annotations

import copy
import hashlib
import random
from dataclasses import replace
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckv import log_tree
from ckv.cipher_suites import get_suite
from ckv.client_state import ClientState
from ckv.demo import Clock as DemoClock
from ckv.demo import SeededRandom, demo_configuration
from ckv.directory import (
    DirectoryRefused,
    DirectoryTransport,
    DirectoryUnavailable,
    RefusalReason,
)
from ckv.directory.memory import InMemoryDirectory
from ckv.distinguished_walk import verify_distinguished
from ckv.errors import CKVError, UsageError, VerificationError
from ckv.kt_client import (
    GossipEntry,
    HeadGossip,
    KTClient,
    consistency_proofs,
    verify_gossip,
    verify_lookup_evidence,
)
from ckv.transparency_log import LogKeys
from ckv.wire import messages

ED = messages.CipherSuite.KT_128_SHA256_Ed25519
T0 = 1_700_000_000_000
MINUTE = 60_000
RMW = 10 * MINUTE
MAX_BEHIND = 60 * MINUTE
SUITE = get_suite(ED)
Clock = partial(DemoClock, T0)
Rng = SeededRandom


def _key(name: str) -> bytes:
    return hashlib.sha256(b"ckv kt client " + name.encode()).digest()


LOG_SK, VRF_SK = _key("log signature"), _key("log vrf")
CONFIG = demo_configuration(LOG_SK, VRF_SK, ED)
KEYS = LogKeys(CONFIG, LOG_SK, VRF_SK)


LABELS = [b"user%d@example.com" % i for i in range(8)]


def seed(directory: InMemoryDirectory, clock: Clock, entries: int, rng: random.Random) -> None:
    """Grow the directory by ``entries`` entries, one a minute, of 1-2 label updates each."""
    for _ in range(entries):
        clock.tick()
        requests = []
        for label in rng.sample(LABELS, rng.randint(1, 2)):
            greatest = directory.greatest_version(label)
            version = 0 if greatest is None else greatest + 1
            requests.append(
                messages.UpdateRequest(
                    last=None,
                    label=label,
                    greatest_version=greatest,
                    values=(messages.LabelValue(value=b"%s v%d" % (label, version)),),
                )
            )
        answers = directory.update_batch(requests)
        assert not any(isinstance(a, DirectoryRefused) for a in answers)


def make(entries: int = 30, *, seed_value: int = 1) -> tuple[InMemoryDirectory, Clock]:
    clock = Clock()
    directory = InMemoryDirectory(KEYS, clock=clock, random_bytes=Rng(b"client %d" % seed_value))
    seed(directory, clock, entries, random.Random(seed_value))
    return directory, clock


def retained_root_matches(client: KTClient, directory: InMemoryDirectory) -> bool:
    state = client.state
    assert state.tree_size is not None
    return state.full_subtrees.root() == directory.log.root(state.tree_size)


# -- the transport contract ------------------------------------------------------------------


@pytest.mark.req("DIRAPI-007")
def test_the_directory_and_its_handles_are_transports() -> None:
    directory, _ = make(1)
    assert isinstance(directory, DirectoryTransport)
    assert isinstance(directory.client("alice"), DirectoryTransport)
    assert directory.client("alice").configuration() == CONFIG
    assert issubclass(DirectoryUnavailable, CKVError)
    assert issubclass(DirectoryRefused, CKVError)
    audited = LogKeys(
        replace(CONFIG, mode=messages.DeploymentMode.thirdPartyAuditing), LOG_SK, VRF_SK
    )
    with pytest.raises(UsageError):
        InMemoryDirectory(audited, clock=Clock())


@pytest.mark.req("DIRAPI-001", "KT-007")
def test_connect_pins_a_configuration_within_the_profile() -> None:
    directory, clock = make(1)
    client = KTClient.connect(directory.client("alice"), clock=clock)
    assert client.config == CONFIG
    weak = replace(CONFIG, max_behind=25 * 60 * MINUTE)
    with pytest.raises(VerificationError) as info:
        KTClient(weak, directory.client("alice"), clock=clock)
    assert info.value.requirement == "KT-007"


# -- contacts -------------------------------------------------------------------------------


@pytest.mark.req("OPS-010", "OPS-013", "KT-006", "DIRAPI-002", "DIRAPI-003")
def test_contacts_look_up_and_monitor_across_many_entries_and_heartbeats() -> None:
    """Lookups, greatest and fixed, then monitoring until every pair is covered."""
    directory, clock = make(20)
    rng = random.Random(7)
    contacts = [KTClient(CONFIG, directory.client(f"contact{i}"), clock=clock) for i in range(3)]
    lookups = 0
    monitored = 0
    for tick in range(60):
        seed(directory, clock, 1, rng)
        if tick % 4 == 0:
            for contact in contacts:
                label = rng.choice(LABELS)
                greatest = directory.greatest_version(label)
                if greatest is None:
                    continue
                version = rng.randrange(greatest + 1) if rng.random() < 0.3 else None
                before = contact.state.tree_size or 0
                found = contact.lookup(label, version=version)
                lookups += 1
                assert found.version == (greatest if version is None else version)
                assert found.value == directory.value(label, found.version)
                assert found.tree_size == directory.size >= before
                assert found.request.label == label
                # The keys the lookup learned are the log's own.
                for v, output in found.vrf_outputs.items():
                    assert output == directory.log.vrf_output(label, v)
                for v, commitment in found.commitments.items():
                    assert commitment == directory.log.commitment(label, v)
                monitored += found.must_monitor
        if tick % 6 == 5:
            for contact in contacts:
                contact.monitor()
        for contact in contacts:
            if contact.state.tree_size is not None:
                assert retained_root_matches(contact, directory)
    assert lookups > 30
    assert monitored > 5
    # Heartbeats only, until every pair is covered by a distinguished entry (KEYTRANS §8.2).
    for _ in range(40):
        clock.tick(4 * MINUTE)
        directory.heartbeat()
        reports = [contact.monitor() for contact in contacts]
        if not any(report.remaining for report in reports):
            break
    assert not any(contact.monitoring() for contact in contacts)
    for contact in contacts:
        contact.lookup(LABELS[0])
        assert contact.state.tree_size == directory.size
        assert retained_root_matches(contact, directory)


@pytest.mark.req("OPS-014", "DIRAPI-009", "OPS-010")
def test_a_refused_lookup_leaves_the_state_alone() -> None:
    directory, clock = make(5)
    client = KTClient(CONFIG, directory.client("alice"), clock=clock)
    client.lookup(LABELS[0] if directory.greatest_version(LABELS[0]) is not None else LABELS[1])
    state = client.state
    with pytest.raises(DirectoryRefused) as info:
        client.lookup(b"nobody@example.com")
    assert info.value.reason is RefusalReason.NOT_FOUND
    assert info.value.requirement == "OPS-014"
    assert client.state == state


@pytest.mark.req("DIRAPI-004", "OPS-010")
def test_lookup_evidence_verifies_from_an_empty_state() -> None:
    directory, clock = make(25)
    client = KTClient(CONFIG, directory.client("alice"), clock=clock)
    label = next(label for label in LABELS if directory.greatest_version(label) is not None)
    client.lookup(label)
    state = client.state
    seed(directory, clock, 3, random.Random(3))
    request, response = client.evidence_lookup(label)
    # Evidence does not move the client's own state.
    assert client.state == state
    assert request.last is None
    result = verify_lookup_evidence(CONFIG, request, response, clock())
    assert result.value == directory.value(label, result.version)
    # A fixed version too.
    request0, response0 = client.evidence_lookup(label, version=0)
    assert request0.version == 0
    assert verify_lookup_evidence(CONFIG, request0, response0, clock()).version == 0
    assert client.state == state
    # It still verifies later, at the time it is about.
    clock.tick(10 * MAX_BEHIND)
    verify_lookup_evidence(CONFIG, request, response, T0 + 30 * MINUTE)
    # A lookup made with `last` is not evidence.
    with pytest.raises(VerificationError) as info:
        verify_lookup_evidence(CONFIG, replace(request, last=3), response, T0 + 30 * MINUTE)
    assert info.value.requirement == "DIRAPI-004"
    # Evidence whose value was swapped does not verify.
    forged = replace(response, value=replace(response.value, value=b"forged"))
    with pytest.raises(VerificationError):
        verify_lookup_evidence(CONFIG, request, forged, T0 + 30 * MINUTE)


# -- owners ---------------------------------------------------------------------------------


@pytest.mark.req("OPS-025", "OPS-027", "OPS-033", "DIRAPI-006", "DIRAPI-010", "OPS-010")
def test_sibling_devices_publish_monitor_and_catch_up() -> None:
    """Two devices own one label: each learns the other's versions, verified."""
    directory, clock = make(30)
    label = b"owned@example.com"
    for i in range(3):
        clock.tick()
        directory.update(
            messages.UpdateRequest(
                last=None,
                label=label,
                greatest_version=directory.greatest_version(label),
                values=(messages.LabelValue(value=b"operator %d" % i),),
            )
        )
    devices = [KTClient(CONFIG, directory.client(f"device{i}"), clock=clock) for i in range(2)]
    for device in devices:
        status = device.own(label)
        assert status.greatest is None or status.greatest <= (
            directory.greatest_version(label) or 0
        )
        learned = device.catch_up(label)
        assert device.owner_status(label).greatest == directory.greatest_version(label)
        for version, value in learned:
            assert directory.value(label, version) == value
    rng = random.Random(11)
    made: dict[int, bytes] = {}
    reported = caught = 0
    for round_ in range(24):
        seed(directory, clock, 1, rng)
        clock.tick()
        i = rng.randrange(2)
        device, sibling = devices[i], devices[1 - i]
        value = b"device%d key %d" % (i, round_)
        result = device.publish(label, [value])
        assert result.versions == (directory.greatest_version(label),)
        made[result.versions[0]] = value
        # Whatever the directory reported on the way is the sibling's.
        for version, seen in result.foreign:
            assert made[version] == seen
            reported += 1
        if round_ % 5 == 4:
            for version, seen in sibling.catch_up(label):
                assert made[version] == seen
                caught += 1
        if round_ % 3 == 2:
            for d in devices:
                d.owner_monitor(label)
        for j, d in enumerate(devices):
            # DIRAPI-010: the directory's record of each device's start is the device's own.
            assert directory.owner_start(f"device{j}", label) == d.owner_status(label).start
    assert reported > 3
    assert caught > 1
    for device in devices:
        device.catch_up(label)
        assert device.owner_status(label).greatest == directory.greatest_version(label)
    for _ in range(40):
        clock.tick(4 * MINUTE)
        directory.heartbeat()
        statuses = [device.owner_monitor(label) for device in devices]
        if not any(status.pending for status in statuses):
            break
    for j, device in enumerate(devices):
        status = device.owner_status(label)
        assert not status.pending
        assert status.start == directory.owner_start(f"device{j}", label)
        assert device.state.tree_size == directory.size
        assert retained_root_matches(device, directory)


@pytest.mark.req("OPS-020", "DIRAPI-006")
def test_owning_a_new_label() -> None:
    directory, clock = make(12)
    client = KTClient(CONFIG, directory.client("alice"), clock=clock)
    label = b"brand-new@example.com"
    status = client.own(label)
    assert status.greatest is None
    assert client.catch_up(label) == []
    clock.tick()
    result = client.publish(label, [b"first", b"second"])
    assert result.versions == (0, 1)
    assert not result.foreign
    assert directory.value(label, 1) == b"second"
    assert client.lookup(label).value == b"second"
    with pytest.raises(UsageError):
        client.publish(LABELS[0], [b"not mine"])
    with pytest.raises(UsageError):
        client.publish(label, [])


def _refuse_bad(label: bytes, value: bytes, version: int) -> None:
    del label, version
    if value.startswith(b"bad"):
        raise VerificationError("the value is not signed by the account key", requirement="X-1")


@pytest.mark.req("DIRAPI-011", "DIRAPI-003", "OPS-010", "DIRAPI-013")
def test_the_validator_refuses_values_and_nothing_is_written() -> None:
    clock = Clock()
    seen: list[tuple[bytes, bytes, int]] = []

    def validator(label: bytes, value: bytes, version: int) -> None:
        seen.append((label, value, version))
        _refuse_bad(label, value, version)

    directory = InMemoryDirectory(KEYS, clock=clock, random_bytes=Rng(b"v"), validator=validator)
    seed(directory, clock, 12, random.Random(4))
    label = b"owner@example.com"
    client = KTClient(CONFIG, directory.client("owner"), clock=clock)
    client.own(label)
    clock.tick()
    client.publish(label, [b"good 0"])
    size, owner, state = directory.size, client.owner_status(label), client.state
    clock.tick()
    with pytest.raises(DirectoryRefused) as info:
        client.publish(label, [b"good 1", b"bad 2"])
    assert info.value.reason is RefusalReason.VALUE_REJECTED
    assert info.value.requirement == "X-1"
    assert directory.size == size
    assert directory.greatest_version(label) == 0
    assert client.owner_status(label) == owner
    assert client.state == state
    assert seen[-2:] == [(label, b"good 1", 1), (label, b"bad 2", 2)]
    result = client.publish(label, [b"good 1"])
    assert result.versions == (1,)
    # A batch: refused requests write nothing, the others share one entry; a second
    # request for a label in one batch is refused (DIRAPI-013).
    requests = [
        messages.UpdateRequest(
            last=None, label=other, greatest_version=None, values=(messages.LabelValue(value=v),)
        )
        for other, v in (
            (b"a@example.com", b"bad first"),
            (b"b@example.com", b"b 0"),
            (b"c@example.com", b"c 0"),
            (b"c@example.com", b"c 1"),
        )
    ]
    size = directory.size
    clock.tick()
    answers = directory.update_batch(requests)
    assert [type(a) for a in answers] == [
        DirectoryRefused,
        messages.UpdateResponse,
        messages.UpdateResponse,
        DirectoryRefused,
    ]
    refusal = answers[3]
    assert isinstance(refusal, DirectoryRefused)
    assert refusal.requirement == "DIRAPI-013"
    assert directory.size == size + 1
    assert seen[-3:] == [
        (b"a@example.com", b"bad first", 0),
        (b"b@example.com", b"b 0", 0),
        (b"c@example.com", b"c 0", 0),
    ]
    assert directory.greatest_version(b"a@example.com") is None
    assert directory.greatest_version(b"c@example.com") == 0


# -- gossip ---------------------------------------------------------------------------------


@pytest.mark.req("FORK-001", "FORK-007", "DIRAPI-012")
def test_honest_clients_gossip_consistent_heads() -> None:
    directory, clock = make(40)
    alice = KTClient(CONFIG, directory.client("alice"), clock=clock)
    bob = KTClient(CONFIG, directory.client("bob"), clock=clock)
    alice.lookup(LABELS[0])
    gossip_a = alice.tree_head_for_gossip()
    seed(directory, clock, 15, random.Random(5))
    gossip_b = bob.tree_head_for_gossip()
    assert gossip_a.entries
    assert gossip_b.entries
    assert alice.compare_with_peer(gossip_b) is None
    assert bob.compare_with_peer(gossip_a) is None
    # Each view is one the log signed, with the log's own consistency proof.
    for gossip in (gossip_a, gossip_b):
        head = verify_gossip(CONFIG, gossip)
        for entry, root in zip(gossip.entries, head.heads, strict=True):
            common = entry.position + 1
            size = entry.view.tree_head.tree_size
            assert root == directory.log.root(common)
            proof = directory.log.batch_proof([], common, size=size)
            assert entry.view.consistency == proof


@pytest.mark.req("DIRAPI-012")
def test_a_peer_gossip_that_does_not_verify_is_refused() -> None:
    directory, clock = make(40)
    alice = KTClient(CONFIG, directory.client("alice"), clock=clock)
    bob = KTClient(CONFIG, directory.client("bob"), clock=clock)
    alice.tree_head_for_gossip()
    honest = bob.tree_head_for_gossip()
    entry = honest.entries[-1]
    view = entry.view
    flipped = bytes([view.full_subtrees[0][0] ^ 1]) + view.full_subtrees[0][1:]
    mutations = [
        replace(view, full_subtrees=(flipped, *view.full_subtrees[1:])),
        replace(view, full_subtrees=view.full_subtrees[:-1]),
        replace(view, tree_head=replace(view.tree_head, tree_size=view.tree_head.tree_size + 1)),
    ]
    if view.consistency.elements:
        elements = view.consistency.elements
        mutations.append(
            replace(
                view,
                consistency=messages.InclusionProof(
                    elements=(bytes([elements[0][0] ^ 1]) + elements[0][1:], *elements[1:])
                ),
            )
        )
    for bad in mutations:
        gossip = HeadGossip((*honest.entries[:-1], GossipEntry(entry.position, bad)))
        with pytest.raises(VerificationError) as info:
            alice.compare_with_peer(gossip)
        assert info.value.requirement == "DIRAPI-012"
    disordered = HeadGossip(tuple(reversed(honest.entries)))
    with pytest.raises(VerificationError) as info:
        alice.compare_with_peer(disordered)
    assert info.value.requirement == "DIRAPI-012"


@settings(max_examples=25)
@given(
    st.integers(min_value=2, max_value=300).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.integers(min_value=0, max_value=n),
            st.lists(st.integers(min_value=0, max_value=n - 1), max_size=6, unique=True),
        )
    ),
    st.data(),
)
@pytest.mark.req("FORK-003", "LOG-003")
def test_consistency_proofs_read_off_a_batch_proof(
    params: tuple[int, int, list[int]], data: st.DataObject
) -> None:
    """The proofs derived from a batch proof are the log's own consistency proofs."""
    n, retained_size, proven = params
    leaves_values = [hashlib.sha256(b"leaf %d" % i).digest() for i in range(n)]
    tree = log_tree.LogTree.from_leaves(leaves_values)
    proven = sorted(proven)
    # The sizes a walk asks for: x + 1 for a proven leaf, or a prefix of the retained tree.
    retained_prefixes = list(
        __import__("itertools").accumulate(w for _, w in log_tree.full_subtrees(retained_size))
    )
    candidates = sorted({x + 1 for x in proven} | set(retained_prefixes))
    if not candidates:
        return
    sizes = data.draw(st.lists(st.sampled_from(candidates), min_size=1, unique=True))
    proof = tree.batch_proof(proven, retained_size)
    retained = tree.full_subtrees(retained_size) if retained_size else None
    leaves = {x: leaves_values[x] for x in proven}
    proofs = consistency_proofs(n, proof, leaves, retained, sizes)
    for common in sizes:
        assert proofs[common] == tree.batch_proof([], common)


@pytest.mark.req("FORK-007", "DIRAPI-002")
def test_a_state_from_a_walk_is_what_the_client_keeps() -> None:
    directory, clock = make(30)
    client = KTClient(CONFIG, directory.client("alice"), clock=clock)
    client.lookup(LABELS[1] if directory.greatest_version(LABELS[1]) is not None else LABELS[0])
    before = copy.deepcopy(client.state)
    recent = client.refresh_distinguished()
    assert recent.entries
    assert client.recent == recent
    assert client.state.tree_size == directory.size
    # The same walk from the state before verifies to the same state.
    request = messages.DistinguishedRequest(last=before.tree_size, stop=None)
    response = directory.distinguished(request)
    _, state = verify_distinguished(before, CONFIG, request, response, clock())
    assert state == client.state
    assert isinstance(ClientState.initial(), ClientState)


OPS = st.sampled_from(
    ["entry", "quiet", "publish0", "publish1", "monitor0", "monitor1", "catch0", "catch1", "look"]
)


@settings(max_examples=12)
@given(st.lists(OPS, min_size=5, max_size=30), st.integers(min_value=0, max_value=2**16))
@pytest.mark.req("DIRAPI-010", "DIRAPI-006", "OPS-010", "OPS-025")
def test_random_owner_and_contact_histories_verify(ops: list[str], salt: int) -> None:
    """Any interleaving of sibling devices and a contact verifies, and the starts agree."""
    directory, clock = make(12, seed_value=salt)
    label = b"owned@example.com"
    devices = [KTClient(CONFIG, directory.client(f"d{i}"), clock=clock) for i in range(2)]
    contact = KTClient(CONFIG, directory.client("contact"), clock=clock)
    for device in devices:
        device.own(label)
    made: dict[int, bytes] = {}
    rng = random.Random(salt)
    for n, op in enumerate(ops):
        if op == "entry":
            seed(directory, clock, 1, rng)
        elif op == "quiet":
            clock.tick(rng.choice([2, 5, 9]) * MINUTE)
            directory.heartbeat()
        elif op.startswith("publish"):
            i = int(op[-1])
            clock.tick(1000)
            value = b"d%d v%d" % (i, n)
            result = devices[i].publish(label, [value])
            made[result.versions[0]] = value
            assert all(made[v] == seen for v, seen in result.foreign)
        elif op.startswith("monitor"):
            devices[int(op[-1])].owner_monitor(label)
        elif op.startswith("catch"):
            for v, seen in devices[int(op[-1])].catch_up(label):
                assert made[v] == seen
        elif made:
            found = contact.lookup(label)
            assert made[found.version] == found.value
            contact.monitor()
        for i, device in enumerate(devices):
            assert directory.owner_start(f"d{i}", label) == device.owner_status(label).start
