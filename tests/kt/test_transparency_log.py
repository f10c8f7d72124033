"""The server-side state of a KEYTRANS log (KEYTRANS §3, §9, §13.5, §15; spec/kt/log-operation.md).

Every accessor is checked against a brute-force recomputation: a model of which
label-version pairs exist at which entry, fresh prefix and log trees built from
it, and the §15.2 before/after evaluation of each entry's ``AuditorUpdate``.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckv import wire
from ckv.cipher_suites import VrfResult, get_suite
from ckv.commitment import verify_commitment, verify_update
from ckv.errors import UsageError, VerificationError
from ckv.log_tree import LogTree, leaf_value
from ckv.prefix_tree import PrefixTree, evaluate_before_after
from ckv.transparency_log import (
    HEARTBEAT_LABEL,
    LogKeys,
    OutcomeKind,
    ServiceOperator,
    TransparencyLog,
    heartbeat_value,
    make_auditor_update,
)
from ckv.tree_head import sign_auditor_tree_head, verify_full_tree_head, verify_tree_head
from ckv.wire.messages import (
    CipherSuite,
    CommitmentValue,
    Configuration,
    DeploymentMode,
    LabelValue,
    LogEntry,
    ManagerUpdateRequest,
    PrefixLeaf,
    UpdateRequest,
    UpdateSuffix,
    UpdateValue,
)

ED = CipherSuite.KT_128_SHA256_Ed25519
P256 = CipherSuite.KT_128_SHA256_P256
CM = DeploymentMode.contactMonitoring
TPM = DeploymentMode.thirdPartyManagement
TPA = DeploymentMode.thirdPartyAuditing
T0 = 1_700_000_000_000
ZERO = bytes(32)


def _key(name: str) -> bytes:
    return hashlib.sha256(name.encode()).digest()


LOG_SK, LEAF_SK, AUDITOR_SK, VRF_SK = (_key(n) for n in ("log", "leaf", "auditor", "vrf"))


def make_config(mode: DeploymentMode = CM, suite: CipherSuite = ED) -> Configuration:
    s = get_suite(suite)
    return Configuration(
        ciphersuite=suite,
        mode=mode,
        signature_public_key=s.signature_public_key(LOG_SK),
        vrf_public_key=s.vrf_public_key(VRF_SK),
        leaf_public_key=s.signature_public_key(LEAF_SK) if mode is TPM else None,
        max_auditor_lag=600_000 if mode is TPA else None,
        auditor_start_pos=0 if mode is TPA else None,
        auditor_public_key=s.signature_public_key(AUDITOR_SK) if mode is TPA else None,
        max_ahead=60_000,
        max_behind=3_600_000,
        reasonable_monitoring_window=86_400_000,
        maximum_lifetime=14 * 86_400_000,
    )


class Rng:
    """A deterministic ``random_bytes``: SHA-256 in counter mode over a seed."""

    def __init__(self, seed: bytes = b"seed") -> None:
        self.seed = seed
        self.counter = 0

    def __call__(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256(self.seed + self.counter.to_bytes(8, "big")).digest()
            self.counter += 1
        return out[:n]


def make_log(
    mode: DeploymentMode = CM, suite: CipherSuite = ED, seed: bytes = b"seed"
) -> TransparencyLog:
    keys = LogKeys(make_config(mode, suite), LOG_SK, VRF_SK)
    return TransparencyLog(keys, random_bytes=Rng(seed))


def request(label: bytes, greatest: int | None, *values: bytes) -> UpdateRequest:
    return UpdateRequest(
        last=None,
        label=label,
        greatest_version=greatest,
        values=tuple(LabelValue(value=v) for v in values),
    )


# -- a brute-force model of the log -------------------------------------------------------------


@dataclass
class Model:
    """What the log should hold: per label, each version's (position, value or None if skipped)."""

    labels: dict[bytes, list[tuple[int, bytes | None]]] = field(default_factory=dict)
    timestamps: list[int] = field(default_factory=list)

    def add(self, label: bytes, position: int, value: bytes | None) -> None:
        self.labels.setdefault(label, []).append((position, value))


def check_against_model(log: TransparencyLog, model: Model, *, check_vrf: bool = True) -> None:
    """Every accessor answers what a recomputation from the model gives."""
    config = log.config
    suite = get_suite(config.ciphersuite)
    assert log.size == len(model.timestamps)
    fresh = LogTree()
    leaves = []
    for x in range(log.size):
        assert log.timestamp(x) == model.timestamps[x]
        expected: dict[bytes, bytes] = {
            log.vrf_output(label, v): log.commitment(label, v) or b"missing"
            for label, versions in model.labels.items()
            for v, (position, value) in enumerate(versions)
            if position <= x
        }
        tree = log.prefix_tree(x)
        assert dict(tree.items()) == expected
        assert tree.root() == PrefixTree.from_leaves(expected).root()
        # The log tree leaf is Hash(LogEntry{timestamp, prefix tree root}).
        leaf = leaf_value(
            LogEntry(timestamp=model.timestamps[x], prefix_tree=tree.root()),
            suite=config.ciphersuite,
        )
        assert log.log_tree.leaf(x) == leaf
        leaves.append(leaf)
        fresh.append_leaf(leaf)
        assert log.root(x + 1) == fresh.root()
        assert log.root(x + 1) == LogTree.from_leaves(leaves).root()
        assert log.batch_proof([x], 0, size=x + 1) == fresh.batch_proof([x], 0)
        # §15.2: the auditor reproduces the previous and the new prefix roots.
        audit = log.auditor_update(x)
        previous = log.prefix_tree(x - 1).root() if x else ZERO
        outcome = evaluate_before_after(audit.added, audit.removed, audit.proof)
        assert outcome.before == previous
        assert outcome.after == tree.root()
        assert audit.timestamp == model.timestamps[x]
        keys = [leaf.vrf_output for leaf in audit.added]
        assert keys == sorted(keys)
        for label, versions in model.labels.items():
            created = [v for v, (position, _) in enumerate(versions) if position == x]
            assert list(log.versions_created_at(label, x)) == created
            present = [v for v, (position, _) in enumerate(versions) if position <= x]
            assert log.greatest_version(label, x) == (present[-1] if present else None)
    for label, versions in model.labels.items():
        assert log.greatest_version(label) == len(versions) - 1
        assert log.commitment(label, len(versions)) is None
        for v, (position, value) in enumerate(versions):
            record = log.record(label, v)
            assert record is not None
            assert record.position == position
            if value is None:
                assert log.commitment(label, v) == ZERO
                assert log.value(label, v) is None
                assert log.opening(label, v) is None
                continue
            update = log.value(label, v)
            opening = log.opening(label, v)
            commitment = log.commitment(label, v)
            assert update is not None
            assert opening is not None
            assert commitment is not None
            assert verify_update(config, label, v, update) == value
            verify_commitment(
                config.ciphersuite,
                commitment,
                CommitmentValue(opening=opening, label=label, version=v, update=update),
                mode=config.mode,
            )
            if check_vrf:
                output = suite.vrf_verify(config.vrf_public_key, label, v, log.vrf_proof(label, v))
                assert output == log.vrf_output(label, v)


# -- keys ---------------------------------------------------------------------------------------


@pytest.mark.req("LOGOP-001")
def test_keys_must_match_the_configuration() -> None:
    config = make_config()
    LogKeys(config, LOG_SK, VRF_SK)
    with pytest.raises(UsageError) as caught:
        LogKeys(config, LEAF_SK, VRF_SK)
    assert caught.value.requirement == "LOGOP-001"
    with pytest.raises(UsageError) as caught:
        LogKeys(config, LOG_SK, LEAF_SK)
    assert caught.value.requirement == "LOGOP-001"
    with pytest.raises(UsageError):
        ServiceOperator(make_config(TPM), LOG_SK)
    with pytest.raises(UsageError):
        ServiceOperator(config, LEAF_SK)


# -- sequencing ---------------------------------------------------------------------------------


@pytest.mark.req("LOGOP-002", "LOGOP-006", "LOGOP-018")
@pytest.mark.parametrize("suite", [ED, P256])
def test_a_small_log_matches_the_model(suite: CipherSuite) -> None:
    log = make_log(suite=suite)
    model = Model()
    change = log.stage(b"alice", [b"a0", b"a1"])
    assert (change.position, change.first_version, change.count) == (0, 0, 2)
    log.stage(b"bob", [b"b0"])
    assert log.pending_count == 3
    # Staged versions are not yet in the accessors' view.
    assert log.greatest_version(b"alice") is None
    entry = log.sequence(T0)
    model.timestamps.append(T0)
    for v in (b"a0", b"a1"):
        model.add(b"alice", 0, v)
    model.add(b"bob", 0, b"b0")
    assert entry.position == 0
    assert entry.prefix_root == log.prefix_tree(0).root()
    assert [c.label for c in entry.changes] == [b"alice", b"bob"]
    assert entry.auditor_update is None
    log.heartbeat(T0 + 1)
    model.timestamps.append(T0 + 1)
    model.add(HEARTBEAT_LABEL, 1, heartbeat_value(T0 + 1))
    log.stage(b"alice", [b"a2"])
    log.sequence(T0 + 2)
    model.timestamps.append(T0 + 2)
    model.add(b"alice", 2, b"a2")
    check_against_model(log, model)
    assert log.labels() == [b"alice", b"bob", HEARTBEAT_LABEL]


@pytest.mark.req("LOGOP-002", "LOGOP-006", "LOGOP-007", "LOGOP-014", "LOGOP-015")
def test_a_long_history_of_batched_updates_matches_the_model() -> None:
    """200 entries: many labels, many versions per label, heartbeats among them."""
    rng = random.Random(7)
    log = make_log()
    model = Model()
    labels = [f"user-{i}".encode() for i in range(40)]
    now = T0
    for x in range(200):
        now += rng.choice((0, 1, 1000, 60_000))
        if rng.random() < 0.3:
            log.heartbeat(now)
            model.add(HEARTBEAT_LABEL, x, heartbeat_value(now))
        else:
            chosen = rng.sample(labels, rng.randint(1, 3))
            requests = []
            for label in chosen:
                count = rng.choice((1, 1, 1, 2, 3))
                values = [f"{label.decode()}@{x}.{i}".encode() for i in range(count)]
                requests.append(request(label, log.greatest_version(label), *values))
                for value in values:
                    model.add(label, x, value)
            result = log.update(requests, now_ms=now)
            assert result.entry is not None
            assert result.entry.position == x
            assert all(o.kind is OutcomeKind.CREATED for o in result.outcomes)
        model.timestamps.append(now)
    assert log.size == 200
    check_against_model(log, model, check_vrf=False)
    # VRF proofs for a sample of the pairs (each costs a VRF verification).
    suite = get_suite(ED)
    for label in labels[:5]:
        for v in range(len(model.labels.get(label, []))):
            proof = log.vrf_proof(label, v)
            assert suite.vrf_verify(log.config.vrf_public_key, label, v, proof) == (
                log.vrf_output(label, v)
            )


@pytest.mark.req("LOGOP-003", "LOGOP-019")
def test_the_clock_may_not_go_backwards() -> None:
    log = make_log()
    log.stage(b"alice", [b"a0"])
    log.sequence(T0)
    log.heartbeat(T0)  # the same millisecond is allowed (§15.2 step 1 uses >=)
    root = log.root()
    log.stage(b"alice", [b"a1"])
    with pytest.raises(UsageError) as caught:
        log.sequence(T0 - 1)
    assert caught.value.requirement == "LOGOP-003"
    assert (log.size, log.root(), log.pending_count) == (2, root, 1)
    # update() refuses before applying any request, so nothing it would create is staged.
    with pytest.raises(UsageError) as caught:
        log.update([request(b"bob", None, b"b0")], now_ms=T0 - 1)
    assert caught.value.requirement == "LOGOP-003"
    assert log.pending_count == 1
    with pytest.raises(UsageError) as caught:
        log.heartbeat(-1)
    assert caught.value.requirement in {"LOGOP-003", "LOGOP-014"}
    with pytest.raises(UsageError) as caught:
        log.sequence(2**64)
    assert caught.value.requirement == "LOGOP-003"
    entry = log.sequence(T0 + 5)
    assert entry.timestamp == T0 + 5
    assert log.greatest_version(b"alice") == 1


@pytest.mark.req("LOGOP-014")
def test_heartbeats() -> None:
    log = make_log()
    assert log.heartbeat_due(T0)
    first = log.heartbeat(T0)
    # KT-008: a heartbeat adds a version of the heartbeat label, so it changes the tree.
    assert [c.label for c in first.changes] == [HEARTBEAT_LABEL]
    assert log.value(HEARTBEAT_LABEL, 0).value == T0.to_bytes(8, "big")
    assert log.prefix_tree(0).root() != ZERO
    assert not log.heartbeat_due(T0 + 1_799_999)
    assert log.heartbeat_due(T0 + 1_800_000)
    log.stage(b"alice", [b"a0"])
    with pytest.raises(UsageError) as caught:
        log.heartbeat(T0 + 1)
    assert caught.value.requirement == "LOGOP-014"
    log.sequence(T0 + 1)
    entry = log.heartbeat(T0 + 2)
    assert [(c.label, c.first_version) for c in entry.changes] == [(HEARTBEAT_LABEL, 1)]
    assert entry.prefix_root == log.prefix_tree(2).root() != log.prefix_tree(1).root()


@pytest.mark.req("LOGOP-004", "LOGOP-006")
def test_runs_are_deterministic_given_clock_and_randomness() -> None:
    def run(seed: bytes) -> list[bytes]:
        log = make_log(TPA, seed=seed)
        out = []
        for x in range(6):
            log.update(
                [
                    request(f"l{i}".encode(), log.greatest_version(f"l{i}".encode()), b"v")
                    for i in range(x % 3 + 1)
                ],
                now_ms=T0 + x,
            )
            out.append(log.root())
            update = log.auditor_update(x)
            out.append(wire.encode(update, suite=ED, mode=TPA))
            out.append(wire.encode(log.sign_tree_head(), suite=ED, mode=TPA))
        return out

    assert run(b"one") == run(b"one")
    assert run(b"one") != run(b"two")


@pytest.mark.req("LOGOP-004")
def test_openings_come_from_the_injected_source() -> None:
    drawn: list[bytes] = []

    def source(n: int) -> bytes:
        drawn.append(bytes([len(drawn) + 1]) * n)
        return drawn[-1]

    log = TransparencyLog(LogKeys(make_config(), LOG_SK, VRF_SK), random_bytes=source)
    log.stage(b"alice", [b"a0", b"a1"])
    log.sequence(T0)
    assert [log.opening(b"alice", 0), log.opening(b"alice", 1)] == drawn
    bad = TransparencyLog(LogKeys(make_config(), LOG_SK, VRF_SK), random_bytes=lambda _n: b"x")
    with pytest.raises(UsageError) as caught:
        bad.stage(b"alice", [b"a0"])
    assert caught.value.requirement == "LOGOP-004"
    assert bad.pending_count == 0


@pytest.mark.req("LOGOP-005")
def test_openings_can_be_deleted() -> None:
    log = make_log()
    log.stage(b"alice", [b"a0"])
    log.sequence(T0)
    commitment = log.commitment(b"alice", 0)
    root = log.root()
    log.delete_opening(b"alice", 0)
    assert log.opening(b"alice", 0) is None
    assert log.commitment(b"alice", 0) == commitment
    assert log.root() == root
    with pytest.raises(UsageError):
        log.delete_opening(b"alice", 1)


@pytest.mark.req("LOGOP-009", "LOGOP-021")
def test_accessors_for_pairs_that_do_not_exist() -> None:
    log = make_log()
    log.stage(b"alice", [b"a0"])
    log.sequence(T0)
    assert log.commitment(b"alice", 5) is None
    assert log.commitment(b"nobody", 0) is None
    assert log.greatest_version(b"nobody") is None
    assert log.greatest_version(b"nobody", 0) is None
    assert list(log.versions_created_at(b"nobody", 0)) == []
    # VRF outputs exist for every pair: a search ladder looks up versions that do not exist.
    proof = log.vrf_proof(b"nobody", 3)
    suite = get_suite(ED)
    assert suite.vrf_verify(log.config.vrf_public_key, b"nobody", 3, proof) == log.vrf_output(
        b"nobody", 3
    )
    for bad in (lambda: log.value(b"alice", 1), lambda: log.opening(b"nobody", 0)):
        with pytest.raises(UsageError):
            bad()
    for bad_x in (-1, 1):
        with pytest.raises(UsageError):
            log.timestamp(bad_x)
        with pytest.raises(UsageError):
            log.prefix_tree(bad_x)
    with pytest.raises(UsageError) as caught:
        log.vrf_output(b"alice", 2**32)
    assert caught.value.requirement == "LOGOP-009"


# -- §13.5 --------------------------------------------------------------------------------------


@pytest.mark.req("LOGOP-006", "LOGOP-007", "LOGOP-008")
def test_update_request_semantics() -> None:
    log = make_log()
    result = log.update([request(b"alice", None, b"a0", b"a1", b"a2")], now_ms=T0)
    (outcome,) = result.outcomes
    assert (outcome.kind, outcome.position, outcome.versions) == (OutcomeKind.CREATED, 0, (0, 1, 2))
    assert [log.value(b"alice", v).value for v in range(3)] == [b"a0", b"a1", b"a2"]  # type: ignore[union-attr]
    log.update([request(b"alice", 2, b"a3")], now_ms=T0 + 1)
    root = log.root()

    # Behind: the values are disregarded; the response is about version greatest+1 and
    # the versions created with it.
    result = log.update(
        [request(b"alice", 0, b"ignored"), request(b"alice", None), request(b"alice", 2)],
        now_ms=T0 + 2,
    )
    assert result.entry is None
    assert [(o.kind, o.position, o.versions) for o in result.outcomes] == [
        (OutcomeKind.EXISTING, 0, (1, 2)),
        (OutcomeKind.EXISTING, 0, (0, 1, 2)),
        (OutcomeKind.EXISTING, 1, (3,)),
    ]
    assert (log.size, log.root()) == (2, root)

    # Rejected: ahead of the log, or nothing to create at the current version.
    rejected = [
        request(b"alice", 4, b"x"),
        request(b"alice", 3),
        request(b"bob", 0, b"x"),
        request(b"bob", None),
    ]
    result = log.update(rejected, now_ms=T0 + 3)
    assert result.entry is None
    for outcome in result.outcomes:
        assert outcome.kind is OutcomeKind.REJECTED
        assert outcome.error is not None
        assert outcome.error.requirement == "LOGOP-008"
    assert (log.size, log.root()) == (2, root)


@pytest.mark.req("LOGOP-006", "LOGOP-007", "LOGOP-019")
def test_requests_in_one_batch_see_each_other() -> None:
    log = make_log()
    result = log.update(
        [
            request(b"alice", None, b"a0"),
            request(b"alice", 0, b"a1", b"a2"),
            request(b"alice", 1, b"ignored"),
            request(b"alice", 0, b"conflict-is-stale"),
            request(b"bob", 7, b"rejected"),
            request(b"bob", None, b"b0"),
        ],
        now_ms=T0,
    )
    kinds = [(o.kind, o.position, o.versions) for o in result.outcomes]
    assert kinds == [
        (OutcomeKind.CREATED, 0, (0,)),
        (OutcomeKind.CREATED, 0, (1, 2)),
        (OutcomeKind.EXISTING, 0, (2,)),
        (OutcomeKind.EXISTING, 0, (1, 2)),
        (OutcomeKind.REJECTED, None, ()),
        (OutcomeKind.CREATED, 0, (0,)),
    ]
    assert result.entry is not None
    assert [(c.label, c.first_version, c.count) for c in result.entry.changes] == [
        (b"alice", 0, 1),
        (b"alice", 1, 2),
        (b"bob", 0, 1),
    ]
    assert log.greatest_version(b"alice") == 2


@pytest.mark.req("LOGOP-009")
def test_wire_bounds() -> None:
    log = make_log()
    for label, values in ((b"", [b"x"]), (b"x" * 256, [b"x"]), (b"alice", [b"x"] * 256)):
        with pytest.raises(UsageError) as caught:
            log.stage(label, values)
        assert caught.value.requirement == "LOGOP-009"
    with pytest.raises(UsageError):
        log.stage(b"alice", [])
    assert log.pending_count == 0


@pytest.mark.req("LOGOP-010", "LOGOP-022")
def test_request_type_and_suffix_follow_the_mode() -> None:
    log = make_log()
    managed = ManagerUpdateRequest(
        last=None, label=b"a", greatest_version=None, values=(), signed_version=0
    )
    (outcome,) = log.update([managed], now_ms=T0).outcomes
    assert outcome.error is not None
    assert outcome.error.requirement == "LOGOP-010"
    signed = UpdateValue(value=b"v", suffix=UpdateSuffix(signature=bytes(64)))
    with pytest.raises(UsageError) as caught:
        log.stage(b"a", [signed])
    assert caught.value.requirement == "LOGOP-022"


# -- §15.1 --------------------------------------------------------------------------------------


@pytest.mark.req("LOGOP-010", "LOGOP-011", "LOGOP-012", "LOGOP-013", "LOGOP-021")
def test_management_skips_versions_the_operator_signed_but_the_manager_never_got() -> None:
    config = make_config(TPM)
    log = TransparencyLog(LogKeys(config, LOG_SK, VRF_SK), random_bytes=Rng())
    operator = ServiceOperator(config, LEAF_SK)
    model = Model()
    first = operator.authorize(request(b"alice", None, b"a0"))
    assert first.signed_version == 0
    log.update([first], now_ms=T0)
    model.timestamps.append(T0)
    model.add(b"alice", 0, b"a0")
    # Two requests are authorized but lost on the way to the Manager.
    operator.authorize(request(b"alice", 0, b"lost1", b"lost2"))
    operator.authorize(request(b"alice", 0, b"lost3"))
    third = operator.authorize(request(b"alice", 0, b"a4", b"a5"))
    assert third.signed_version == 4
    (outcome,) = log.update([third], now_ms=T0 + 1).outcomes
    model.timestamps.append(T0 + 1)
    for v in (None, None, None, b"a4", b"a5"):
        model.add(b"alice", 1, v)
    assert (outcome.kind, outcome.position, outcome.versions, outcome.skipped_versions) == (
        OutcomeKind.CREATED,
        1,
        (4, 5),
        3,
    )
    assert [log.commitment(b"alice", v) for v in (1, 2, 3)] == [ZERO] * 3
    assert log.record(b"alice", 2).skipped  # type: ignore[union-attr]
    # A stale greatest_version reports the entry with the skipped versions.
    (outcome,) = log.update(
        [operator.authorize(request(b"alice", 0, b"stale"))], now_ms=T0 + 2
    ).outcomes
    assert (outcome.kind, outcome.position, outcome.versions, outcome.skipped_versions) == (
        OutcomeKind.EXISTING,
        1,
        (4, 5),
        3,
    )
    check_against_model(log, model)

    # LOGOP-011: a signed version below the next version is refused.
    stale = ManagerUpdateRequest(
        last=None,
        label=b"alice",
        greatest_version=5,
        values=(operator.sign(b"alice", 5, b"again"),),
        signed_version=5,
    )
    # LOGOP-010: a value signed for another version, or not signed, is refused.
    wrong_version = ManagerUpdateRequest(
        last=None,
        label=b"alice",
        greatest_version=5,
        values=(operator.sign(b"alice", 7, b"x"),),
        signed_version=6,
    )
    unsigned = ManagerUpdateRequest(
        last=None,
        label=b"alice",
        greatest_version=5,
        values=(UpdateValue(value=b"x", suffix=UpdateSuffix()),),
        signed_version=6,
    )
    # LOGOP-013: no values means signed_version zero.
    no_values = ManagerUpdateRequest(
        last=None, label=b"alice", greatest_version=5, values=(), signed_version=6
    )
    plain = request(b"alice", 5, b"x")
    root = log.root()
    result = log.update([stale, wrong_version, unsigned, no_values, plain], now_ms=T0 + 3)
    assert result.entry is None
    assert [o.error.requirement for o in result.outcomes] == [  # type: ignore[union-attr]
        "LOGOP-011",
        "LOGOP-010",
        "LOGOP-010",
        "LOGOP-013",
        "LOGOP-010",
    ]
    assert log.root() == root
    with pytest.raises(UsageError) as caught:
        log.stage(b"alice", [b"bytes are not signed"])
    assert caught.value.requirement == "LOGOP-010"


@pytest.mark.req("LOGOP-012")
def test_skips_after_created_versions_in_one_batch() -> None:
    config = make_config(TPM)
    log = TransparencyLog(LogKeys(config, LOG_SK, VRF_SK), random_bytes=Rng())
    operator = ServiceOperator(config, LEAF_SK)
    first = operator.authorize(request(b"carol", None, b"c0"))
    operator.authorize(request(b"carol", 0, b"lost"))
    second = operator.authorize(request(b"carol", 0, b"c2"))
    second = ManagerUpdateRequest(
        last=None, label=b"carol", greatest_version=0, values=second.values, signed_version=2
    )
    result = log.update([first, second], now_ms=T0)
    assert [(o.kind, o.versions, o.skipped_versions) for o in result.outcomes] == [
        (OutcomeKind.CREATED, (0,), 0),
        (OutcomeKind.CREATED, (2,), 1),
    ]
    assert result.entry is not None
    assert [(list(c.versions), list(c.unskipped)) for c in result.entry.changes] == [
        ([0], [0]),
        ([1, 2], [2]),
    ]
    assert [log.value(b"carol", v) is None for v in range(3)] == [False, True, False]
    # A stale request is answered with the entry and its unskipped versions from version 1.
    (outcome,) = log.update(
        [operator.authorize(request(b"carol", 0, b"stale"))], now_ms=T0
    ).outcomes
    assert (outcome.kind, outcome.versions, outcome.skipped_versions) == (
        OutcomeKind.EXISTING,
        (2,),
        1,
    )


@pytest.mark.req("LOGOP-012")
def test_stage_with_signed_version_skips() -> None:
    config = make_config(TPM)
    log = TransparencyLog(LogKeys(config, LOG_SK, VRF_SK), random_bytes=Rng())
    operator = ServiceOperator(config, LEAF_SK)
    change = log.stage(b"bob", [operator.sign(b"bob", 2, b"b2")], signed_version=2)
    assert (change.first_version, change.skipped_versions, change.count) == (0, 2, 3)
    assert list(change.unskipped) == [2]
    entry = log.sequence(T0)
    assert entry.changes == (change,)
    assert list(log.versions_created_at(b"bob", 0)) == [0, 1, 2]
    # Dummy leaves are in the prefix tree with an all-zero commitment.
    assert log.prefix_tree(0).get(log.vrf_output(b"bob", 0)) == ZERO
    with pytest.raises(UsageError) as caught:
        log.stage(b"bob", [operator.sign(b"bob", 2, b"again")], signed_version=2)
    assert caught.value.requirement == "LOGOP-011"


# -- §15.2 and tree heads -----------------------------------------------------------------------


@pytest.mark.req("LOGOP-015", "LOGOP-016", "LOGOP-017")
def test_audited_entries() -> None:
    log = make_log(TPA)
    entry = log.heartbeat(T0)
    assert entry.auditor_update == log.auditor_update(0)
    assert entry.auditor_update is not None
    # KT-008: a heartbeat adds one leaf, so its update can be audited (AUDIT-003).
    assert len(entry.auditor_update.added) == 1
    for i in range(5):
        log.stage(f"l{i}".encode(), [b"v"] * 50)
    with pytest.raises(UsageError) as caught:
        log.stage(b"one-too-many", [b"v"] * 6)
    assert caught.value.requirement == "LOGOP-016"
    log.stage(b"last", [b"v"] * 5)
    assert log.pending_count == 255
    entry = log.sequence(T0 + 1)
    update = entry.auditor_update
    assert update is not None
    assert len(update.added) == len(update.proof.results) == 255
    outcome = evaluate_before_after(
        update.added, update.removed, update.proof, previous_root=log.prefix_tree(0).root()
    )
    assert outcome.after == log.prefix_tree(1).root()
    log.stage(b"x", [b"v"])
    entry = log.sequence(T0 + 2)
    entry = log.heartbeat(T0 + 3)
    assert entry.auditor_update is not None
    outcome = evaluate_before_after(
        entry.auditor_update.added,
        (),
        entry.auditor_update.proof,
        previous_root=log.prefix_tree(2).root(),
    )
    assert outcome.after == log.prefix_tree(3).root()
    # Outside thirdPartyAuditing there is no bound at the staging step, and no update is sent,
    # but an update can still be built for an entry of at most 255 keys.
    plain = make_log()
    plain.stage(b"big", [b"v"] * 200)
    plain.stage(b"bigger", [b"v"] * 100)
    assert plain.sequence(T0).auditor_update is None
    with pytest.raises(UsageError) as caught:
        plain.auditor_update(0)
    assert caught.value.requirement == "LOGOP-016"


@pytest.mark.req("LOGOP-015")
def test_make_auditor_update_sorts_and_refuses_repeats() -> None:
    a = PrefixLeaf(vrf_output=b"\x80" + bytes(31), commitment=b"\x01" * 32)
    b = PrefixLeaf(vrf_output=b"\x01" + bytes(31), commitment=b"\x02" * 32)
    tree = PrefixTree()
    update = make_auditor_update(tree, T0, [a, b])
    assert update.added == (b, a)
    with pytest.raises(UsageError) as caught:
        make_auditor_update(tree, T0, [a, a])
    assert caught.value.requirement == "LOGOP-015"
    after = tree.update(insert=[(a.vrf_output, a.commitment)])
    removal = make_auditor_update(after, T0, [], [a])
    outcome = evaluate_before_after(removal.added, removal.removed, removal.proof)
    assert (outcome.before, outcome.after) == (after.root(), ZERO)


def _vector_cases(interop_dir: Path) -> list[dict[str, object]]:
    data = json.loads((interop_dir / "auditor-update.json").read_text())
    return list(data["cases"])


@pytest.mark.req("LOGOP-015")
def test_auditor_updates_match_the_peer_encoding(interop_dir: Path) -> None:
    """katie's encoding of every accepted update."""
    checked = 0
    for case in _vector_cases(interop_dir):
        inp: dict[str, object] = case["input"]  # type: ignore[assignment]
        expect: dict[str, object] = case["expect"]  # type: ignore[assignment]

        def leaves(name: str, inp: dict[str, object] = inp) -> list[PrefixLeaf]:
            return [
                PrefixLeaf(
                    vrf_output=bytes.fromhex(item["vrf_output"]),
                    commitment=bytes.fromhex(item["commitment"]),
                )
                for item in inp[name]  # type: ignore[attr-defined]
            ]

        previous = PrefixTree().update(
            insert=[(x.vrf_output, x.commitment) for x in leaves("entries")]
        )
        assert previous.root().hex() == inp["prefix_root"] or not leaves("entries")
        # A CKV log never sends a change-nothing update (LOGOP-017), and the rejected
        # cases are about the auditor's verdict, which the auditor tests replay.
        if expect["verdict"] != "accepted":
            continue
        ours = make_auditor_update(
            previous,
            inp["timestamp"],  # type: ignore[arg-type]
            leaves("added"),
            leaves("removed"),
        )
        assert wire.encode(ours, suite=ED, mode=TPA).hex() == expect["encoding"], case["name"]
        checked += 1
    assert checked == 6


@pytest.mark.req("LOGOP-020")
def test_tree_heads_and_auditor_heads() -> None:
    log = make_log(TPA)
    config = log.config
    for x in range(3):
        log.stage(f"l{x}".encode(), [b"v"])
        log.sequence(T0 + x)
    head = log.sign_tree_head()
    verify_tree_head(config, head, log.root())
    verify_tree_head(config, log.sign_tree_head(2), log.root(2))
    with pytest.raises(UsageError):
        log.full_tree_head()
    good = sign_auditor_tree_head(config, AUDITOR_SK, T0 + 1, 2, log.root(2))
    bad_time = sign_auditor_tree_head(config, AUDITOR_SK, T0 + 2, 2, log.root(2))
    bad_root = sign_auditor_tree_head(config, AUDITOR_SK, T0 + 1, 2, log.root(3))
    too_big = sign_auditor_tree_head(config, AUDITOR_SK, T0 + 3, 4, log.root(3))
    for bad in (bad_time, bad_root, too_big):
        with pytest.raises(VerificationError) as caught:
            log.attach_auditor_tree_head(bad)
        assert caught.value.requirement == "LOGOP-020"
    assert log.auditor_tree_head is None
    log.attach_auditor_tree_head(good)
    older = sign_auditor_tree_head(config, AUDITOR_SK, T0, 1, log.root(1))
    with pytest.raises(VerificationError) as caught:
        log.attach_auditor_tree_head(older)
    assert caught.value.requirement == "LOGOP-020"
    full = log.full_tree_head()
    verified = verify_full_tree_head(
        config,
        full,
        advertised_size=None,
        rightmost_timestamp=log.timestamp(2),
        now_ms=T0 + 10,
        root=log.root(),
        auditor_root=log.root(2),
    )
    assert verified.tree_size == 3
    with pytest.raises(UsageError):
        make_log().attach_auditor_tree_head(good)


# -- properties ---------------------------------------------------------------------------------


def _fast_vrf(label: bytes, version: int) -> VrfResult:
    digest = hashlib.sha512(label + version.to_bytes(4, "big")).digest()
    return VrfResult(digest[:32], digest + bytes(16))


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("heartbeat"), st.integers(0, 5)),
        st.tuples(
            st.just("update"),
            st.integers(0, 5),
            st.lists(
                st.tuples(
                    st.sampled_from([b"a", b"b", b"c", b"d"]), st.integers(-1, 2), st.integers(0, 3)
                ),
                max_size=4,
            ),
        ),
    ),
    max_size=12,
)


@pytest.mark.req("LOGOP-002", "LOGOP-006", "LOGOP-007", "LOGOP-008")
@settings(max_examples=40)
@given(OPERATIONS)
def test_any_sequence_of_requests_matches_the_model(operations: list[tuple]) -> None:  # type: ignore[type-arg]
    keys = LogKeys(make_config(), LOG_SK, VRF_SK)
    log = TransparencyLog(keys, random_bytes=Rng(), evaluate_vrf=_fast_vrf)
    model = Model()
    now = T0
    for op in operations:
        now += op[1]
        if op[0] == "heartbeat":
            model.add(HEARTBEAT_LABEL, log.size, heartbeat_value(now))
            log.heartbeat(now)
            model.timestamps.append(now)
            continue
        position = log.size
        requests = []
        created = False
        for label, offset, count in op[2]:
            versions = model.labels.get(label, [])
            current = len(versions) - 1 if versions else None
            claimed: int | None
            if current is None:
                claimed = 0 if offset < 0 else None  # 0 is ahead of a label with no version
            else:
                claimed = current - offset
                if claimed < 0:
                    claimed = None
            values = [bytes([count, i]) for i in range(count)]
            requests.append(request(label, claimed, *values))
            if claimed == current and values:
                for value in values:
                    model.add(label, position, value)
                created = True
        result = log.update(requests, now_ms=now)
        assert (result.entry is not None) == created
        if created:
            model.timestamps.append(now)
    check_against_model(log, model, check_vrf=False)


@pytest.mark.req("AUDIT-001", "AUDIT-003", "AUDIT-006", "LOGOP-014", "LOGOP-015", "KT-008")
def test_the_auditor_accepts_every_entry_of_an_audited_log() -> None:
    """CKV's log and CKV's auditor agree entry by entry, heartbeats included."""
    from ckv.auditing import AuditorState, audit, sign_audited_head

    rng = random.Random(3)
    log = make_log(TPA)
    config = log.config
    state = AuditorState.genesis()
    now = T0
    labels = [f"user-{i}".encode() for i in range(12)]
    for x in range(60):
        now += rng.choice((1, 1000, 30 * 60_000))
        if rng.random() < 0.3:
            entry = log.heartbeat(now)
        else:
            label = rng.choice(labels)
            entry = log.update(
                [request(label, log.greatest_version(label), b"k%d" % x)], now_ms=now
            ).entry
        assert entry is not None
        assert entry.auditor_update is not None
        result = audit(state, entry.auditor_update, rmw=config.reasonable_monitoring_window)
        state = result.state
        assert result.tree_size == log.size
        assert result.log_root == log.root()
        log.attach_auditor_tree_head(sign_audited_head(config, AUDITOR_SK, result))
    assert log.auditor_tree_head is not None
    assert log.auditor_tree_head.tree_size == log.size
