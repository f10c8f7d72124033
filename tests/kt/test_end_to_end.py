"""End to end over an in-memory Transparency Log, honest and malicious (KEYTRANS §4-§13).

The honest test drives a :class:`~ckv.transparency_log.TransparencyLog` through a
long history (many labels, many versions, batched updates, heartbeats, expiry)
with contacts that search and monitor and owners that initialize, update and
monitor, and checks that every verification succeeds and every state advances.

Each malicious test shows a user one misbehaviour of the log (built with
:mod:`ckv._testing.malicious_log`) and names, in its docstring and its assertion,
the check that catches it. After every rejection the user's state is exactly what
it was before (OPS-010), and the same state still verifies an honest response.
"""

from __future__ import annotations

import copy
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import pytest

from ckv import binary_ladder as bl
from ckv import combined_tree as ct
from ckv import distinguished as dist
from ckv import wire
from ckv._testing.malicious_log import (
    AlteredHistory,
    ForkingLog,
    LogAt,
    answer_owner_monitor_unstopped,
    answer_search_claiming,
    drop_entry,
    omit_versions,
    replace_version,
    swap_timestamps,
)
from ckv.cipher_suites import get_suite
from ckv.client_state import ClientState
from ckv.commitment import compute_commitment
from ckv.errors import VerificationError
from ckv.fork_detection import compare_roots, fork_view, verify_fork_evidence
from ckv.kt_profile import check_configuration
from ckv.label_update import answer_update, verify_update_response
from ckv.monitoring import (
    OwnerState,
    answer_contact_monitor,
    answer_owner_init,
    answer_owner_monitor,
    verify_contact_monitor,
    verify_owner_init,
    verify_owner_monitor,
)
from ckv.search import SearchLogView, SearchResult, answer_search, verify_search
from ckv.transparency_log import LogKeys, OutcomeKind, TransparencyLog
from ckv.tree_head import sign_tree_head
from ckv.wire import messages

ED = messages.CipherSuite.KT_128_SHA256_Ed25519
CM = messages.DeploymentMode.contactMonitoring
T0 = 1_700_000_000_000
MINUTE = 60_000
# CKV's profile scaled down in time (KT-007 still holds: the window is at most a day, the
# lifetime 14 windows, max_behind at most an hour), so that distinguished entries appear
# every few entries and early entries expire within a few hundred.
RMW = 10 * MINUTE
LIFETIME = 14 * RMW
MAX_BEHIND = 60 * MINUTE
MAX_AHEAD = MINUTE


def _key(name: str) -> bytes:
    return hashlib.sha256(b"ckv end-to-end " + name.encode()).digest()


LOG_SK, VRF_SK = _key("log signature"), _key("log vrf")
SUITE = get_suite(ED)


def make_config(**changes: Any) -> messages.Configuration:
    config = messages.Configuration(
        ciphersuite=ED,
        mode=CM,
        signature_public_key=SUITE.signature_public_key(LOG_SK),
        vrf_public_key=SUITE.vrf_public_key(VRF_SK),
        max_ahead=MAX_AHEAD,
        max_behind=MAX_BEHIND,
        reasonable_monitoring_window=RMW,
        maximum_lifetime=LIFETIME,
    )
    return replace(config, **changes)


class Rng:
    """A deterministic ``random_bytes``: SHA-256 in counter mode over a seed."""

    def __init__(self, seed: bytes) -> None:
        self.seed = seed
        self.counter = 0

    def __call__(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256(self.seed + self.counter.to_bytes(8, "big")).digest()
            self.counter += 1
        return out[:n]


def make_keys() -> LogKeys:
    return LogKeys(make_config(), LOG_SK, VRF_SK)


def make_log(seed: bytes = b"end-to-end") -> TransparencyLog:
    return TransparencyLog(make_keys(), random_bytes=Rng(seed))


def update_request(
    last: int | None, label: bytes, greatest: int | None, values: list[bytes]
) -> messages.UpdateRequest:
    return messages.UpdateRequest(
        last=last,
        label=label,
        greatest_version=greatest,
        values=tuple(messages.LabelValue(value=v) for v in values),
    )


# -- users --------------------------------------------------------------------------------


Keys = tuple[dict[int, bytes], dict[int, bytes]]


def learned(
    config: messages.Configuration,
    request: messages.SearchRequest,
    response: messages.SearchResponse,
    version: int,
) -> Keys:
    """The VRF outputs and commitments a verified search response taught its user."""
    outputs: dict[int, bytes] = {}
    commitments: dict[int, bytes] = {}
    for v, step in zip(bl.base_binary_ladder(version), response.binary_ladder, strict=True):
        outputs[v] = SUITE.vrf_verify(config.vrf_public_key, request.label, v, step.proof)
        if step.commitment is not None:
            commitments[v] = step.commitment
    commitments[version] = compute_commitment(
        config.ciphersuite,
        messages.CommitmentValue(
            opening=response.opening, label=request.label, version=version, update=response.value
        ),
        mode=config.mode,
    )
    return outputs, commitments


@dataclass
class Contact:
    """A user who searches for labels and monitors what it found (KEYTRANS §8.2)."""

    config: messages.Configuration
    state: ClientState = field(default_factory=ClientState.initial)
    maps: dict[bytes, dict[int, int]] = field(default_factory=dict)
    keys: dict[bytes, Keys] = field(default_factory=dict)
    verified: int = 0
    pairs_added: int = 0

    def search(
        self, log: SearchLogView, label: bytes, now: int, version: int | None = None
    ) -> SearchResult:
        request = messages.SearchRequest(last=self.state.tree_size, label=label, version=version)
        response = answer_search(log, self.config, LOG_SK, request)
        before = self.state.tree_size or 0
        result, self.state = verify_search(self.state, self.config, request, response, now)
        assert self.state.tree_size is not None
        assert self.state.tree_size >= before
        outputs, commitments = learned(self.config, request, response, result.version)
        known = self.keys.setdefault(label, ({}, {}))
        known[0].update(outputs)
        known[1].update(commitments)
        pairs = self.maps.setdefault(label, {})
        # OPS-013: a pair right of the rightmost distinguished entry is monitored. A pair that
        # would break the map's order (OPS-015) is left out: an older search covers it.
        if result.must_monitor and all(
            result.terminal > p and result.version > v for p, v in pairs.items()
        ):
            pairs[result.terminal] = result.version
            self.pairs_added += 1
        self.verified += 1
        return result

    def monitor(self, log: SearchLogView, now: int) -> None:
        for label, pairs in list(self.maps.items()):
            if not pairs:
                continue
            request = messages.ContactMonitorRequest(
                last=self.state.tree_size,
                label=label,
                entries=tuple(
                    messages.MonitorMapEntry(position=p, version=v)
                    for p, v in sorted(pairs.items())
                ),
            )
            response = answer_contact_monitor(log, self.config, LOG_SK, request)
            outputs, commitments = self.keys[label]
            new_map, self.state = verify_contact_monitor(
                self.state,
                self.config,
                request,
                response,
                now,
                vrf_outputs=outputs,
                commitments=commitments,
            )
            self.maps[label] = new_map
            self.verified += 1

    @property
    def monitoring(self) -> int:
        return sum(len(m) for m in self.maps.values())


@dataclass
class Owner:
    """A label owner: initializes, verifies its own updates, monitors (KEYTRANS §8.3, §9.1)."""

    config: messages.Configuration
    label: bytes
    state: ClientState = field(default_factory=ClientState.initial)
    owner: OwnerState | None = None
    values: list[bytes] = field(default_factory=list)
    verified: int = 0

    def init(self, log: SearchLogView, now: int) -> None:
        # The start is any unexpired distinguished entry; verify_owner_init checks it (OPS-020).
        start = dist.rightmost_distinguished(log.size, RMW, log.timestamp)
        assert start is not None
        request = messages.OwnerInitRequest(
            last=self.state.tree_size, label=self.label, start=start
        )
        response = answer_owner_init(log, self.config, LOG_SK, request)
        self.owner, self.state = verify_owner_init(self.state, self.config, request, response, now)
        self.verified += 1

    def request(self, values: list[bytes]) -> messages.UpdateRequest:
        assert self.owner is not None
        return update_request(self.state.tree_size, self.label, self.owner.greatest, values)

    def check_update(
        self, log: SearchLogView, request: messages.UpdateRequest, position: int, now: int
    ) -> None:
        assert self.owner is not None
        response = answer_update(
            log, self.config, LOG_SK, request, position, owner_start=self.owner.start
        )
        result, self.owner, self.state = verify_update_response(
            self.state, self.config, self.owner, request, response, now_ms=now
        )
        assert not result.reported
        assert result.values == tuple(v.value for v in request.values)
        self.values.extend(result.values)
        self.verified += 1

    def catch_up(self, log: TransparencyLog, now: int) -> list[bytes]:
        """Learn the versions created since ``start`` from the log's reports (KEYTRANS §13.5)."""
        assert self.owner is not None
        seen: list[bytes] = []
        while self.owner.greatest != log.greatest_version(self.label):
            request = self.request([])
            (outcome,) = log.update([request], now_ms=now).outcomes
            assert outcome.kind is OutcomeKind.EXISTING
            assert outcome.position is not None
            response = answer_update(
                LogAt(log),
                self.config,
                LOG_SK,
                request,
                outcome.position,
                owner_start=self.owner.start,
            )
            result, self.owner, self.state = verify_update_response(
                self.state, self.config, self.owner, request, response, now_ms=now
            )
            assert result.reported
            seen.extend(result.values)
            self.verified += 1
        return seen

    def monitor_request(self) -> messages.OwnerMonitorRequest:
        assert self.owner is not None
        return messages.OwnerMonitorRequest(
            last=self.state.tree_size,
            label=self.label,
            entries=tuple(
                messages.MonitorMapEntry(position=p, version=v)
                for p, v in sorted(self.owner.entries.items())
            ),
            start=self.owner.start,
            greatest_version=self.owner.greatest,
        )

    def monitor(self, log: SearchLogView, now: int) -> None:
        """Owner Monitoring until ``start`` no longer moves (OPS-027)."""
        assert self.owner is not None
        for _ in range(8):
            request = self.monitor_request()
            response = answer_owner_monitor(log, self.config, LOG_SK, request)
            start = self.owner.start
            self.owner, self.state = verify_owner_monitor(
                self.state, self.config, self.owner, request, response, now_ms=now
            )
            self.verified += 1
            if self.owner.start == start:
                return


# -- the honest end-to-end run ------------------------------------------------------------


LABELS = [b"user%02d@example.com" % i for i in range(50)]
OWNED = LABELS[:4]


@pytest.mark.req(
    "OPS-010", "OPS-012", "OPS-013", "OPS-018", "OPS-019", "OPS-025", "OPS-033", "OPS-009"
)
def test_honest_log_end_to_end() -> None:
    """Every operation verifies over a long, busy history with expiry and heartbeats."""
    rng = random.Random(2026)
    log = make_log()
    config = log.config
    check_configuration(config)
    now = T0
    values: dict[bytes, list[bytes]] = {}
    contacts = [Contact(config) for _ in range(3)]
    owners = {label: Owner(config, label) for label in OWNED}
    heartbeats = 0
    batched = 0
    searches = {"greatest": 0, "fixed": 0, "expired": 0}

    def apply(requests: list[messages.UpdateRequest], now: int) -> int:
        result = log.update(requests, now_ms=now)
        assert result.entry is not None
        for request, outcome in zip(requests, result.outcomes, strict=True):
            assert outcome.kind is OutcomeKind.CREATED, outcome.error
            values.setdefault(request.label, []).extend(v.value for v in request.values)
        return result.entry.position

    def busy_tick(now: int) -> None:
        nonlocal batched
        chosen = rng.sample(LABELS[len(OWNED) :], rng.randint(1, 4))
        requests = []
        for label in chosen:
            have = values.get(label, [])
            new = [b"%s key %d" % (label, len(have) + i) for i in range(rng.randint(1, 2))]
            requests.append(update_request(None, label, len(have) - 1 if have else None, new))
        owner_requests = []
        for owner in owners.values():
            if owner.owner is not None and rng.random() < 0.08:
                count = rng.randint(1, 3)
                base = len(values[owner.label])
                new = [b"%s own %d" % (owner.label, base + i) for i in range(count)]
                owner_requests.append((owner, owner.request(new)))
        requests += [r for _, r in owner_requests]
        batched += len(requests) > 1
        position = apply(requests, now)
        for owner, request in owner_requests:
            owner.check_update(LogAt(log), request, position, now)

    # The owned labels are created by the operator, then their owners take over.
    apply([update_request(None, label, None, [b"%s key 0" % label]) for label in OWNED], now)
    expired_probe = (OWNED[0], 0)
    for tick in range(240):
        if tick in {60, 130, 200}:
            # A quiet hour and a half: heartbeats keep the log fresh (LOGOP-014).
            for _ in range(18):
                now += 5 * MINUTE
                if log.heartbeat_due(now):
                    log.heartbeat(now)
                    heartbeats += 1
        now += rng.randint(20, 100) * 1000
        busy_tick(now)
        view = LogAt(log)
        if tick == 25:
            for owner in owners.values():
                owner.init(view, now)
                assert owner.owner is not None
                assert owner.owner.greatest == 0
        if tick % 7 == 3:
            for contact in contacts:
                label = rng.choice([label for label in LABELS if label in values])
                fixed = rng.random() < 0.3
                version = rng.randrange(len(values[label])) if fixed else None
                try:
                    result = contact.search(view, label, now, version)
                except ct.SearchRefusedError as refusal:
                    # OPS-009 / OPS-014: an old version may have expired; the log says so.
                    assert refusal.reason is ct.Refusal.EXPIRED
                    searches["expired"] += 1
                    continue
                searches["fixed" if fixed else "greatest"] += 1
                assert result.value == values[label][result.version]
                if version is None:
                    assert result.version == len(values[label]) - 1
        if tick % 5 == 0:
            for contact in contacts:
                contact.monitor(view, now)
        if tick % 11 == 10:
            for owner in owners.values():
                if owner.owner is not None:
                    owner.monitor(view, now)
        for state in [c.state for c in contacts] + [o.state for o in owners.values()]:
            # Every user's retained tree is a prefix of the log's.
            if state.tree_size is not None:
                assert state.full_subtrees.root() == log.root(state.tree_size)

    # Wind down: heartbeats only, until every monitored pair is covered by a distinguished
    # entry (KEYTRANS §8.2) and every owner's map is empty.
    for _ in range(40):
        now += 4 * MINUTE
        log.heartbeat(now)
        heartbeats += 1
        view = LogAt(log)
        for contact in contacts:
            contact.monitor(view, now)
        for owner in owners.values():
            owner.monitor(view, now)
        if not any(c.monitoring for c in contacts) and not any(
            o.owner is not None and o.owner.entries for o in owners.values()
        ):
            break
    assert not any(c.monitoring for c in contacts)
    for owner in owners.values():
        assert owner.owner is not None
        assert not owner.owner.entries
        assert owner.owner.greatest == len(values[owner.label]) - 1
        assert owner.state.tree_size == log.size
        assert owner.values == values[owner.label][1:]
        assert owner.values
        assert owner.verified > 10
    for contact in contacts:
        before = contact.state.tree_size
        assert before is not None
        result = contact.search(LogAt(log), LABELS[-1], now)
        assert result.value == values[LABELS[-1]][-1]
        assert contact.state.tree_size == log.size >= before
        assert contact.verified > 20
    # The history is long and busy, with heartbeats, batches and many versions per label.
    assert 250 <= log.size <= 400
    assert heartbeats >= 5
    assert batched > 150
    assert len(values) == len(LABELS)
    assert sum(len(v) for v in values.values()) > 600
    assert min(searches.values()) > 0, searches
    assert sum(c.pairs_added for c in contacts) > 10
    # Version 0 of an owned label was created in entry 0, long expired (KEYTRANS §7.1): the
    # log refuses a fixed-version search for it (OPS-014) and the user could not accept one.
    label, version = expired_probe
    request = messages.SearchRequest(last=None, label=label, version=version)
    with pytest.raises(ct.SearchRefusedError) as info:
        answer_search(LogAt(log), config, LOG_SK, request)
    assert info.value.reason is ct.Refusal.EXPIRED
    assert info.value.requirement == "OPS-009"


# -- the malicious log --------------------------------------------------------------------

SMALL_LABELS = [b"contact%d@example.com" % i for i in range(8)]
VICTIM = SMALL_LABELS[0]


@dataclass(frozen=True)
class Small:
    """A short history: 8 labels, the victim label updated often, one entry a minute."""

    log: TransparencyLog
    values: dict[bytes, list[bytes]]

    @property
    def config(self) -> messages.Configuration:
        return self.log.config

    def now(self, size: int | None = None) -> int:
        """A clock reading just after entry ``size - 1`` was sequenced."""
        return self.log.timestamp((size or self.log.size) - 1) + 1000


def _grow(
    log: TransparencyLog,
    values: dict[bytes, list[bytes]],
    entries: int,
    start: int,
    *,
    seed: int,
    tag: bytes = b"",
    victim: bool = True,
) -> None:
    rng = random.Random(seed)
    for i in range(entries):
        labels = [VICTIM] if victim and i % 3 == 0 else rng.sample(SMALL_LABELS[1:], 2)
        requests = []
        for label in labels:
            have = values.setdefault(label, [])
            new = b"%s%s v%d" % (tag, label, len(have))
            requests.append(update_request(None, label, len(have) - 1 if have else None, [new]))
            have.append(new)
        result = log.update(requests, now_ms=start + i * MINUTE)
        assert all(o.kind is OutcomeKind.CREATED for o in result.outcomes)


def _small_history(entries: int = 60) -> Small:
    log = make_log(b"small")
    values: dict[bytes, list[bytes]] = {}
    _grow(log, values, entries, T0, seed=1)
    return Small(log, values)


@cache
def small() -> Small:
    """The shared short history; tests that sequence entries build their own."""
    return _small_history()


def _search(
    state: ClientState,
    view: SearchLogView,
    now: int,
    label: bytes = VICTIM,
    version: int | None = None,
) -> tuple[SearchResult, ClientState, messages.SearchRequest, messages.SearchResponse]:
    request = messages.SearchRequest(last=state.tree_size, label=label, version=version)
    response = answer_search(view, make_config(), LOG_SK, request)
    result, new_state = verify_search(state, make_config(), request, response, now)
    return result, new_state, request, response


Call = Callable[[], object]


def rejected(call: Call, *states: object) -> VerificationError:
    """Run ``call``, which must fail verification, and check it left ``states`` alone."""
    snapshots = [copy.deepcopy(s) for s in states]
    with pytest.raises(VerificationError) as info:
        call()
    for before, after in zip(snapshots, states, strict=True):
        # OPS-010: a rejected response leaves the user's state exactly as it was.
        assert after == before
    return info.value


At40 = tuple[Small, ClientState, SearchResult]


@pytest.fixture
def at_40() -> At40:
    """A contact that verified the victim's greatest version at size 40."""
    s = small()
    result, state, _, _ = _search(ClientState.initial(), LogAt(s.log, 40), s.now(40))
    return s, state, result


# (1) Fork ---------------------------------------------------------------------------------


def _drive_fork() -> tuple[ForkingLog, int]:
    fork = ForkingLog(make_keys(), lambda: Rng(b"fork"))
    values: dict[bytes, list[bytes]] = {}
    for i in range(50):
        label = SMALL_LABELS[i % 4]
        have = values.setdefault(label, [])
        new = b"%s v%d" % (label, len(have))
        fork.update(
            [update_request(None, label, len(have) - 1 if have else None, [new])],
            now_ms=T0 + i * MINUTE,
        )
        have.append(new)
    shared = fork.fork()
    # Same clock, different contents: branch 1 gives the victim a key its owner never made.
    for b, tag in ((0, b"honest"), (1, b"forged")):
        branch = fork.branch(b)
        vals = {k: list(v) for k, v in values.items()}
        for i in range(50, 70):
            label = SMALL_LABELS[i % 4]
            have = vals[label]
            new = b"%s %s v%d" % (tag, label, len(have))
            branch.update(
                [update_request(None, label, len(have) - 1, [new])], now_ms=T0 + i * MINUTE
            )
            have.append(new)
    return fork, shared


@pytest.mark.req("FORK-001", "FORK-002", "FORK-003")
def test_fork_each_view_verifies_and_comparing_distinguished_roots_detects_it() -> None:
    """A fork passes each user's own checks; FORK-001 (KEYTRANS §10.2) detects it.

    Two users are shown two branches signed with the same key. Each verifies its
    branch at the sizes where the recent distinguished entries were the rightmost
    (x + 1 for each such x); the lists of roots they computed are inconsistent
    under FORK-001, and the ForkEvidence of FORK-003 built from the two signed
    heads convinces a third party.
    """
    fork, shared = _drive_fork()
    a, b = fork.branch(0), fork.branch(1)
    n = a.size
    assert b.size == n
    assert [a.timestamp(x) for x in range(n)] == [b.timestamp(x) for x in range(n)]
    recent = list(dist.distinguished_entries(n, RMW, a.timestamp))[-4:]
    assert any(x < shared for x in recent)
    assert any(x >= shared for x in recent)
    roots: list[list[bytes]] = [[], []]
    states: list[dict[int, ClientState]] = [{}, {}]
    honest_peer: list[bytes] = []
    for i, branch in enumerate((a, b)):
        state = ClientState.initial()
        for x in recent:
            size = x + 1
            _, state, _, _ = _search(state, LogAt(branch, size), branch.timestamp(x) + 1000)
            roots[i].append(state.full_subtrees.root())
            states[i][size] = state
    for x in recent:  # a second user of branch 0 agrees with the first
        _, state, _, _ = _search(ClientState.initial(), LogAt(a, x + 1), a.timestamp(x) + 1000)
        honest_peer.append(state.full_subtrees.root())
    assert compare_roots(roots[0], honest_peer).consistent
    comparison = compare_roots(
        messages.DistinguishedHead(heads=tuple(roots[0])),
        messages.DistinguishedHead(heads=tuple(roots[1])),
    )
    # FORK-001: the two lists do not overlap as one history's would.
    assert not comparison.consistent
    assert not comparison.inconclusive
    # FORK-002 / FORK-003: transferable evidence at the first size both views hold and on
    # which they disagree; each side uses the full subtrees its user retained there.
    common = min(x + 1 for x in recent if x >= shared)
    final = recent[-1] + 1
    views = []
    for i, branch in enumerate((a, b)):
        head = states[i][final].tree_head
        assert head is not None
        view = fork_view(branch.log_tree, head, common)
        assert view.full_subtrees == states[i][common].full_subtrees.heads
        views.append(view)
    evidence = messages.ForkEvidence(
        config=make_config(), common_size=common, first=views[0], second=views[1]
    )
    encoded = wire.encode(evidence, suite=ED, mode=CM)
    decoded = wire.decode(messages.ForkEvidence, encoded, suite=ED)
    first, second = verify_fork_evidence(decoded)
    assert first == states[0][common].full_subtrees.root()
    assert second == states[1][common].full_subtrees.root()
    # A log cannot be framed: two views of one branch are no evidence (FORK-003).
    same = replace(evidence, second=views[0])
    error = rejected(lambda: verify_fork_evidence(same))
    assert error.requirement == "FORK-003"


# (2) Rollback -----------------------------------------------------------------------------


@pytest.mark.req("OPS-012", "SUITE-021", "OPS-010")
def test_rollback_to_a_smaller_tree_head_is_rejected(at_40: At40) -> None:
    """SUITE-021 (KEYTRANS §11.4 step 2.1): a head not larger than the advertised size.

    A log that rolled back to 30 entries answers a user who advertised 40 as if it
    were new. The first check to fire is OPS-012 (the tree size the response moves
    the user to is below its own), which is SUITE-021 applied before the proof is
    read; an ``updated`` head at the advertised size itself reaches SUITE-021.
    """
    s, state, _ = at_40
    request = messages.SearchRequest(last=40, label=VICTIM, version=None)
    rolled_back = answer_search(LogAt(s.log, 30), s.config, LOG_SK, replace(request, last=None))
    error = rejected(lambda: verify_search(state, s.config, request, rolled_back, s.now(40)), state)
    assert error.requirement in {"OPS-012", "SUITE-021"}
    # The same size again, as `updated` rather than `same`.
    honest = answer_search(LogAt(s.log, 40), s.config, LOG_SK, request)
    assert honest.full_tree_head.head_type is messages.FullTreeHeadType.same
    replayed = replace(
        honest,
        full_tree_head=messages.FullTreeHead(
            head_type=messages.FullTreeHeadType.updated,
            tree_head=sign_tree_head(s.config, LOG_SK, 40, s.log.root(40)),
        ),
    )
    error = rejected(lambda: verify_search(state, s.config, request, replayed, s.now(40)), state)
    assert error.requirement == "SUITE-021"
    verify_search(state, s.config, request, honest, s.now(40))


@pytest.mark.req("LOG-008", "LOG-009", "LOG-010", "COMBINED-007", "COMBINED-010", "OPS-010")
def test_rollback_that_drops_an_entry_fails_the_consistency_proof(at_40: At40) -> None:
    """COMBINED-010 / LOG-008..LOG-010 (KEYTRANS §12.1): consistency with retained subtrees.

    (a) The log re-signs a history without entry 12, which the user had already
    verified at size 40. The user folds the full subtrees it retained with the
    proof's elements into a root (COMBINED-010), and the log's signature is over
    the root of the shortened history, so SUITE-018 rejects it; had a proven leaf
    or proof fallen in the retained part, the retained heads (LOG-009/LOG-010), a
    retained frontier entry's prefix root (COMBINED-007) or timestamp
    (SEARCH-010) would have fired first.
    (b) The honest response with one element of its consistency (``inclusion``)
    proof dropped fails LOG-008: the proof must hold exactly the elements the
    tiling calls for.
    """
    s, state, _ = at_40
    request = messages.SearchRequest(last=40, label=VICTIM, version=None)
    dropped = drop_entry(LogAt(s.log), ED, 12)
    response = answer_search(dropped, s.config, LOG_SK, request)
    error = rejected(lambda: verify_search(state, s.config, request, response, s.now()), state)
    assert error.requirement in {
        "SUITE-018",
        "COMBINED-007",
        "SEARCH-010",
        "LOG-009",
        "LOG-010",
    }, error
    honest = answer_search(LogAt(s.log), s.config, LOG_SK, request)
    inclusion = honest.search.inclusion
    assert inclusion.elements
    short = replace(
        honest,
        search=replace(
            honest.search, inclusion=replace(inclusion, elements=inclusion.elements[1:])
        ),
    )
    error = rejected(lambda: verify_search(state, s.config, request, short, s.now()), state)
    assert error.requirement == "LOG-008"
    verify_search(state, s.config, request, honest, s.now())


# (3) Omitted version ----------------------------------------------------------------------


@pytest.mark.req("OPS-006", "OPS-010")
def test_claiming_an_older_greatest_version_is_caught_by_the_ladders() -> None:
    """OPS-006 (KEYTRANS §6.3): a ladder shows a version above the claimed greatest.

    The log claims the victim's greatest version is one below the real one and
    sends genuine proofs: the first ladder from an entry holding the newer version
    shows it, and the search fails there.
    """
    s = small()
    real = len(s.values[VICTIM]) - 1
    request = messages.SearchRequest(last=None, label=VICTIM, version=None)
    response = answer_search_claiming(LogAt(s.log), s.config, LOG_SK, request, real - 1)
    state = ClientState.initial()
    error = rejected(lambda: verify_search(state, s.config, request, response, s.now()), state)
    assert error.requirement == "OPS-006"


@pytest.mark.req("SUITE-018", "COMBINED-010", "OPS-010")
def test_omitting_a_version_from_the_prefix_trees_breaks_the_signed_root(at_40: At40) -> None:
    """SUITE-018 via COMBINED-010 (KEYTRANS §11.4, §12.3): proofs that hide a version.

    The log removes the victim's newest version from its prefix trees and proves
    the older one greatest, but keeps the history it signed: the prefix roots the
    user computes give a log root the signature does not cover (SUITE-018). The
    same holds for a user who retained size 40 and is shown a history without any
    version created since (its retained entries are unchanged, so nothing fires
    before the signature).
    """
    s, state40, seen = at_40
    real = len(s.values[VICTIM]) - 1
    assert seen.version < real - 1
    hidden = omit_versions(LogAt(s.log), ED, VICTIM, real - 1, resign=False)
    request = messages.SearchRequest(last=None, label=VICTIM, version=None)
    response = answer_search(hidden, s.config, LOG_SK, request)
    assert response.version == real - 1
    fresh = ClientState.initial()
    error = rejected(lambda: verify_search(fresh, s.config, request, response, s.now()), fresh)
    assert error.requirement == "SUITE-018"
    # Every version created after size 40 hidden from a user who retained size 40.
    hidden = omit_versions(LogAt(s.log), ED, VICTIM, seen.version, resign=False)
    request = messages.SearchRequest(last=40, label=VICTIM, version=None)
    response = answer_search(hidden, s.config, LOG_SK, request)
    assert response.version == seen.version
    error = rejected(lambda: verify_search(state40, s.config, request, response, s.now()), state40)
    assert error.requirement == "SUITE-018"


@pytest.mark.req("COMBINED-007", "LOG-009", "LOG-010", "FORK-001", "OPS-025", "OPS-010")
def test_a_resigned_history_without_a_version() -> None:
    """A signed history without the newest version: consistency, forks, the owner.

    The log re-signs a history from which the victim's version created at entry
    ``c`` is gone. (a) A user who verified a size after ``c`` retained subtrees or
    frontier roots that the new history does not have (KEYTRANS §12.1): the root
    it folds from its retained full subtrees and the proof (COMBINED-010) is not
    the one the log signed (SUITE-018), unless a proof from a retained entry
    (COMBINED-007) or a retained head (LOG-009/LOG-010) fails first. (b) A
    first-time user accepts it: on its own that history is valid, which is a fork,
    and FORK-001 (KEYTRANS §10.2) catches it against a user of the real log. (c)
    The owner, shown the rewritten history, rejects it: while its update is still
    in its monitoring map, the monitoring ladder for it shows the version absent
    (SEARCH-017, KEYTRANS §8.1); once that pair is covered by a distinguished
    entry, a full ladder of its owner monitoring does not show the version it
    expects (OPS-025, KEYTRANS §8.3), or a proof from an entry it retained fails
    COMBINED-007 first.
    """
    log = make_log(b"resigned")
    values: dict[bytes, list[bytes]] = {}
    _grow(log, values, 40, T0, seed=3)
    owner = Owner(make_config(), VICTIM)
    owner.init(LogAt(log), log.timestamp(39) + 1000)
    assert owner.catch_up(log, log.timestamp(39) + 1000)
    assert owner.owner is not None
    request = owner.request([b"the owner's new key"])
    result = log.update([request], now_ms=T0 + 40 * MINUTE)
    assert result.entry is not None
    created = result.entry.position
    owner.check_update(LogAt(log), request, created, T0 + 40 * MINUTE + 1)
    values[VICTIM].append(b"the owner's new key")
    _grow(log, values, 50, T0 + 41 * MINUTE, seed=4, tag=b"later ", victim=False)
    assert log.greatest_version(VICTIM) == owner.owner.greatest
    now = log.timestamp(log.size - 1) + 1000
    # (a) A user who saw the version.
    _, seen, _, _ = _search(ClientState.initial(), LogAt(log, created + 5), now)
    rewritten = omit_versions(LogAt(log), ED, VICTIM, len(values[VICTIM]) - 2, resign=True)
    config = make_config()
    request_seen = messages.SearchRequest(last=seen.tree_size, label=VICTIM, version=None)
    response = answer_search(rewritten, config, LOG_SK, request_seen)
    error = rejected(lambda: verify_search(seen, config, request_seen, response, now), seen)
    assert error.requirement in {"SUITE-018", "COMBINED-007", "LOG-009", "LOG-010"}, error
    # (b) A first-time user accepts the rewritten history; comparing roots catches it.
    _, fooled, _, _ = _search(ClientState.initial(), rewritten, now)
    _, honest, _, _ = _search(ClientState.initial(), LogAt(log), now)
    assert not compare_roots(
        [fooled.full_subtrees.root()], [honest.full_subtrees.root()]
    ).consistent
    # (c) The owner.
    assert owner.owner is not None
    request_owner = owner.monitor_request()
    # The honest answer would refuse the owner's map (its pair names a version this history
    # lacks, OPS-015); the rewriting log answers anyway.
    response_owner = answer_owner_monitor_unstopped(rewritten, config, LOG_SK, request_owner)
    owner_state, client_state = owner.owner, owner.state
    error = rejected(
        lambda: verify_owner_monitor(
            client_state, config, owner_state, request_owner, response_owner, now_ms=now
        ),
        client_state,
        owner_state,
    )
    assert error.requirement == "SEARCH-017", error
    # (c) again, once honest monitoring at 71 entries has emptied the owner's map.
    owner.monitor(LogAt(log, 71), now)
    assert owner.owner is not None
    assert not owner.owner.entries
    request_owner = owner.monitor_request()
    response_owner = answer_owner_monitor_unstopped(rewritten, config, LOG_SK, request_owner)
    owner_state, client_state = owner.owner, owner.state
    error = rejected(
        lambda: verify_owner_monitor(
            client_state, config, owner_state, request_owner, response_owner, now_ms=now
        ),
        client_state,
        owner_state,
    )
    assert error.requirement in {"OPS-025", "COMBINED-007"}, error


# (4) A value that differs between search and monitoring ------------------------------------


@pytest.mark.req("SUITE-018", "COMBINED-010", "SEARCH-017", "OPS-019", "OPS-010")
def test_a_value_replaced_after_the_search_is_caught_by_monitoring() -> None:
    """SUITE-018 via COMBINED-010 (KEYTRANS §8.2, §11.4): monitoring with the searched value.

    A contact finds the victim's greatest version at a non-distinguished entry
    and must monitor it. The log then re-signs a history in which, from a later
    entry on, that version commits to another value (and serves that value to new
    searchers). The contact's monitoring ladders are evaluated with the commitment
    it saw in its search, so the prefix roots it computes for the new entries give
    a log root that the log's signature does not cover.
    """
    s = small()
    config = s.config
    contact = Contact(config)
    size = next(n for n in range(30, 50) if (r := _dry_search(s, n)) is not None and r.must_monitor)
    contact.search(LogAt(s.log, size), VICTIM, s.now(size))
    pairs = contact.maps[VICTIM]
    assert pairs
    ((position, version),) = pairs.items()
    swapped = replace_version(
        LogAt(s.log),
        config,
        VICTIM,
        version,
        b"a key the owner never made",
        from_entry=size,
        opening=bytes(16),
    )
    # A new user searching for that version is not fooled either: the entries before the
    # change still commit to the old value, so its prefix roots miss the signed root.
    fresh = ClientState.initial()
    by_version = messages.SearchRequest(last=None, label=VICTIM, version=version)
    served = answer_search(swapped, config, LOG_SK, by_version)
    assert served.value.value == b"a key the owner never made"
    error = rejected(lambda: verify_search(fresh, config, by_version, served, s.now()), fresh)
    assert error.requirement == "SUITE-018"
    request = messages.ContactMonitorRequest(
        last=contact.state.tree_size,
        label=VICTIM,
        entries=(messages.MonitorMapEntry(position=position, version=version),),
    )
    response = answer_contact_monitor(swapped, config, LOG_SK, request)
    assert response.monitor.prefix_proofs
    outputs, commitments = contact.keys[VICTIM]
    state = contact.state
    error = rejected(
        lambda: verify_contact_monitor(
            state, config, request, response, s.now(), vrf_outputs=outputs, commitments=commitments
        ),
        state,
    )
    assert error.requirement == "SUITE-018"
    # The honest log's monitoring response verifies from the same state.
    contact.monitor(LogAt(s.log), s.now())


def _dry_search(s: Small, size: int) -> SearchResult | None:
    try:
        result, _, _, _ = _search(ClientState.initial(), LogAt(s.log, size), s.now(size))
    except VerificationError:
        return None
    return result


# (5) Timestamps out of order --------------------------------------------------------------


@pytest.mark.req("SEARCH-010", "COMBINED-001", "OPS-010")
def test_timestamps_out_of_order_are_rejected(at_40: At40) -> None:
    """SEARCH-010 (KEYTRANS §4.2, §12.3): timestamps are monotonic across a response.

    (a) The log swaps two timestamps inside an honest response; (b) it re-signs a
    history whose entries 47 and 55 (both on the new frontier, so the view update
    reveals both) carry each other's timestamps, so every proof
    is consistent with the signed root and only monotonicity is left to catch it.
    SEARCH-007 (the first timestamp of a view update against the retained one) is
    the same check at the first association.
    """
    s, state, _ = at_40
    request = messages.SearchRequest(last=40, label=VICTIM, version=None)
    honest = answer_search(LogAt(s.log), s.config, LOG_SK, request)
    stamps = list(honest.search.timestamps)
    assert len(stamps) >= 2
    assert stamps[0] != stamps[1]
    stamps[0], stamps[1] = stamps[1], stamps[0]
    swapped = replace(honest, search=replace(honest.search, timestamps=tuple(stamps)))
    error = rejected(lambda: verify_search(state, s.config, request, swapped, s.now()), state)
    assert error.requirement in {"SEARCH-010", "SEARCH-007"}
    retimed = swap_timestamps(LogAt(s.log), ED, 47, 55)
    response = answer_search(retimed, s.config, LOG_SK, request)
    error = rejected(lambda: verify_search(state, s.config, request, response, s.now()), state)
    assert error.requirement in {"SEARCH-010", "SEARCH-007"}
    verify_search(state, s.config, request, honest, s.now())


# (6) Stale heads --------------------------------------------------------------------------


@pytest.mark.req("SUITE-020", "OPS-012", "OPS-010")
def test_stale_heads_are_rejected(at_40: At40) -> None:
    """SUITE-020 (KEYTRANS §4.2, §11.4): the rightmost timestamp within max_behind of now.

    (a) A log that stopped at 40 entries serves a first-time user an ``updated``
    head over them after the user's clock moved more than ``max_behind`` on; (b)
    it answers ``same`` to a user at 40 whose clock did the same.
    """
    s, state, _ = at_40
    late = s.log.timestamp(39) + MAX_BEHIND + 1
    request = messages.SearchRequest(last=None, label=VICTIM, version=None)
    stale = answer_search(LogAt(s.log, 40), s.config, LOG_SK, request)
    fresh = ClientState.initial()
    error = rejected(lambda: verify_search(fresh, s.config, request, stale, late), fresh)
    assert error.requirement == "SUITE-020"
    request = messages.SearchRequest(last=40, label=VICTIM, version=None)
    same = answer_search(LogAt(s.log, 40), s.config, LOG_SK, request)
    assert same.full_tree_head.head_type is messages.FullTreeHeadType.same
    error = rejected(lambda: verify_search(state, s.config, request, same, late), state)
    assert error.requirement == "SUITE-020"
    # Exactly max_behind is still fresh.
    verify_search(state, s.config, request, same, late - 1)


# (7) A version the owner did not create ----------------------------------------------------


@pytest.mark.req("OPS-025", "OPS-027", "OPS-010", "COMBINED-008")
def test_a_version_the_owner_did_not_create_is_flagged() -> None:
    """OPS-025 (KEYTRANS §8.3): the owner's ladder shows a version it does not know.

    The log inserts a new version of the owner's label itself. (a) Given a ladder
    from a distinguished entry holding it, the owner's monitoring fails. The check
    that fires first is COMBINED-008: the ladder proves the injected version
    included, and the owner has no commitment to it (no response ever gave one), so
    it cannot evaluate the proof; OPS-025, the verdict that the entry's greatest
    version is not the one expected, would follow.
    (b) The honest log stops before that entry (OPS-027), so the owner's start
    stops there; when the owner next updates, the log reports the version it did
    not make (``UpdateResult.reported`` with the injected value), which the owner
    recognises as not its own.
    """
    log = make_log(b"inject")
    values: dict[bytes, list[bytes]] = {}
    _grow(log, values, 30, T0, seed=5)
    config = make_config()
    owner = Owner(config, VICTIM)
    owner.init(LogAt(log), log.timestamp(29) + 1000)
    owner.catch_up(log, log.timestamp(29) + 1000)
    assert owner.owner is not None
    greatest = owner.owner.greatest
    assert greatest == len(values[VICTIM]) - 1
    # The injection, then enough entries for a distinguished entry to hold it.
    log.stage(VICTIM, [b"the log's own key"])
    log.sequence(T0 + 30 * MINUTE)
    values[VICTIM].append(b"the log's own key")
    _grow(log, values, 25, T0 + 31 * MINUTE, seed=6)
    assert log.greatest_version(VICTIM) is not None
    now = log.timestamp(log.size - 1) + 1000
    request = owner.monitor_request()
    response = answer_owner_monitor_unstopped(LogAt(log), config, LOG_SK, request)
    owner_state, client_state = owner.owner, owner.state
    error = rejected(
        lambda: verify_owner_monitor(
            client_state, config, owner_state, request, response, now_ms=now
        ),
        client_state,
        owner_state,
    )
    assert error.requirement in {"COMBINED-008", "OPS-025"}
    # (b) The honest log.
    owner.monitor(LogAt(log), now)
    assert owner.owner.start < 30
    update = owner.request([b"the owner's key"])
    outcome = log.update([update], now_ms=now)
    (answer,) = outcome.outcomes
    assert answer.kind is OutcomeKind.EXISTING
    assert answer.position is not None
    reply = answer_update(
        LogAt(log), config, LOG_SK, update, answer.position, owner_start=owner.owner.start
    )
    result, new_owner, _ = verify_update_response(
        owner.state, config, owner.owner, update, reply, now_ms=now
    )
    assert result.reported
    assert result.values == (b"the log's own key",)
    assert new_owner.greatest == (greatest or 0) + 1


# (8) Signatures ---------------------------------------------------------------------------


@pytest.mark.req("SUITE-017", "SUITE-018", "OPS-010")
def test_tampered_and_misconfigured_tree_head_signatures_are_rejected(at_40: At40) -> None:
    """SUITE-018 (KEYTRANS §11.2, §11.4 step 2.2): the head's signature over TreeHeadTBS.

    (a) One bit of the signature flipped. (b) A head the log's key signed over a
    different Configuration (another monitoring window): SUITE-017 makes the
    signed structure embed the configuration, so the signature does not verify
    under the user's.
    """
    s, state, _ = at_40
    request = messages.SearchRequest(last=40, label=VICTIM, version=None)
    honest = answer_search(LogAt(s.log), s.config, LOG_SK, request)
    head = honest.full_tree_head.tree_head
    assert head is not None
    flipped = bytes([head.signature[0] ^ 0x01]) + head.signature[1:]
    tampered = replace(
        honest,
        full_tree_head=replace(honest.full_tree_head, tree_head=replace(head, signature=flipped)),
    )
    error = rejected(lambda: verify_search(state, s.config, request, tampered, s.now()), state)
    assert error.requirement == "SUITE-018"
    other = make_config(reasonable_monitoring_window=2 * RMW)
    foreign = sign_tree_head(other, LOG_SK, s.log.size, s.log.root())
    misconfigured = replace(
        honest, full_tree_head=replace(honest.full_tree_head, tree_head=foreign)
    )
    error = rejected(lambda: verify_search(state, s.config, request, misconfigured, s.now()), state)
    assert error.requirement == "SUITE-018"
    verify_search(state, s.config, request, honest, s.now())


def test_malicious_views_are_honest_when_unaltered() -> None:
    """The wrappers themselves: an unaltered history is the log, bit for bit."""
    s = small()
    view = LogAt(s.log)
    same = AlteredHistory(view, ED)
    assert same.root() == view.root()
    assert same.log_tree is not None
    assert same.batch_proof([3, 9], 0) == view.batch_proof([3, 9], 0)
    kept = AlteredHistory(view, ED, resign=False)
    assert kept.root() == view.root()
    for x in (0, 17, s.log.size - 1):
        assert same.timestamp(x) == view.timestamp(x)
        assert same.prefix_tree(x).root() == view.prefix_tree(x).root()
    _, state, _, _ = _search(ClientState.initial(), same, s.now())
    assert state.full_subtrees.root() == s.log.root()
