"""Contact and owner monitoring, both sides (KEYTRANS §8.2, §8.3, §13.2-§13.4), monitor.json."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ckv.interop.monitor_vectors  # noqa: F401 - registers the "monitor" handler
from ckv import binary_ladder as bl
from ckv import combined_tree as ct
from ckv import distinguished as dist
from ckv import implicit_search_tree as ibst
from ckv import log_tree
from ckv.client_state import ClientState
from ckv.errors import CKVError, UsageError, VerificationError
from ckv.interop import Status, run_file
from ckv.interop.search_vectors import MemoryLog, demo_log
from ckv.monitoring import (
    OwnerState,
    answer_contact_monitor,
    answer_owner_init,
    answer_owner_monitor,
    first_entry_with,
    greatest_at,
    init_ladder_versions,
    verify_contact_monitor,
    verify_owner_init,
    verify_owner_monitor,
)
from ckv.prefix_tree import PrefixTree
from ckv.search import answer_search, verify_search
from ckv.tree_head import sign_tree_head
from ckv.wire import messages

LABEL = b"alice@example.com"
OTHER = b"bob@example.com"


def _keys(log: MemoryLog, upto: int) -> tuple[dict[int, bytes], dict[int, bytes]]:
    """What a user who searched for every version up to ``upto`` knows."""
    view = log.view()
    tree = view.prefix_tree(view.size - 1)
    outputs = {v: view.vrf_output(LABEL, v) for v in range(2 * upto + 2)}
    commitments = {v: c for v, k in outputs.items() if (c := tree.get(k)) is not None}
    return outputs, commitments


def _log(draw: Callable[[st.SearchStrategy[Any]], Any]) -> tuple[MemoryLog, Any, bytes, int]:
    n = draw(st.integers(2, 28))
    gaps = draw(st.lists(st.integers(0, 30), min_size=n, max_size=n))
    timestamps = [1000 + sum(gaps[: i + 1]) for i in range(n)]
    creates = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    creates[0] = max(1, creates[0])
    updates = [
        [(LABEL, b"v%d.%d" % (i, j)) for j in range(c)] or [(OTHER, b"o%d" % i)]
        for i, c in enumerate(creates)
    ]
    rmw = draw(st.sampled_from([0, 20, 60, 10**9]))
    log, config, key = demo_log(timestamps, updates, rmw=rmw)
    return log, config, key, sum(creates)


def _monitor(  # noqa: PLR0917 - a test helper
    log: MemoryLog,
    config: messages.Configuration,
    key: bytes,
    state: ClientState,
    size: int,
    entries: dict[int, int],
) -> tuple[dict[int, int], ClientState]:
    request = messages.ContactMonitorRequest(
        last=state.tree_size,
        label=LABEL,
        entries=tuple(
            messages.MonitorMapEntry(position=p, version=v) for p, v in sorted(entries.items())
        ),
    )
    response = answer_contact_monitor(log.view(size), config, key, request)
    outputs, commitments = _keys(log, max(entries.values(), default=0))
    return verify_contact_monitor(
        state,
        config,
        request,
        response,
        log.view(size).timestamp(size - 1),
        vrf_outputs=outputs,
        commitments=commitments,
    )


# -- contact monitoring -------------------------------------------------------------------


@pytest.mark.req("OPS-015", "OPS-017", "OPS-018", "OPS-019")
@settings(max_examples=25, deadline=None)
@given(st.data())
def test_contact_monitoring_round_trip(data: st.DataObject) -> None:
    log, config, key, versions = _log(data.draw)
    n = log.size
    picked = data.draw(st.lists(st.integers(0, versions - 1), min_size=1, max_size=3, unique=True))
    firsts = {first_entry_with(log.view(), LABEL, v): v for v in picked}
    entries: dict[int, int] = {}
    for p, v in firsts.items():  # one version per position: the greatest there
        if p is not None:
            entries[p] = max(entries.get(p, v), v)
    if len(set(entries.values())) != len(entries):
        return
    ordered = [entries[p] for p in sorted(entries)]
    if ordered != sorted(ordered):
        return
    start = max(entries) + 1
    sizes = sorted(set(data.draw(st.lists(st.integers(start, n), min_size=1, max_size=3))))
    state = ClientState.initial()
    current = entries
    rmw = config.reasonable_monitoring_window
    for size in sizes:
        if not current:
            break
        new_map, state = _monitor(log, config, key, state, size, current)
        view = log.view(size)
        assert state.tree_size == size
        assert state.full_subtrees.root() == view.root()
        for p, v in new_map.items():
            # Every remaining pair sits at a non-distinguished entry holding its version.
            assert not dist.is_distinguished(p, size, rmw, view.timestamp)
            assert view.prefix_tree(p).get(view.vrf_output(LABEL, v)) is not None
            assert v in current.values()
        current = new_map


@pytest.mark.req("OPS-018")
def test_map_entries_on_the_frontier_need_nothing_and_ancestors_are_inspected() -> None:
    stamps = [1000 + i for i in range(8)]
    log, config, key = demo_log(stamps, [[(LABEL, b"v%d" % i)] for i in range(8)], rmw=10**9)
    # Entry 4's direct path in a tree of 8 is 5, 3, 7: ancestors 5 and 7 are to its right.
    new_map, state = _monitor(log, config, key, ClientState.initial(), 5, {4: 4})
    assert new_map == {4: 4}  # 4 is on the frontier of 5: nothing to inspect
    new_map, _ = _monitor(log, config, key, state, 8, {4: 4})
    assert new_map == {7: 4}  # moved up through 5 to 7, neither distinguished


@pytest.mark.req("OPS-018")
def test_a_distinguished_ancestor_ends_monitoring() -> None:
    stamps = [0, 100, 200, 300, 400, 500, 600, 700]
    log, config, key = demo_log(stamps, [[(LABEL, b"v%d" % i)] for i in range(8)], rmw=50)
    new_map, _ = _monitor(log, config, key, ClientState.initial(), 8, {4: 4})
    assert new_map == {}


@pytest.mark.req("OPS-016")
def test_a_pair_left_of_a_greater_ones_ladder_is_dropped_and_a_lesser_one_is_an_error() -> None:
    stamps = [1000 + i for i in range(8)]
    log, _, _ = demo_log(stamps, [[(LABEL, b"v%d" % i)] for i in range(8)], rmw=10**9)
    recorder = ct.Recorder(log.view(8), LABEL)
    ct.update_view(recorder, None)
    # 6 (version 6) is inspected first, its ancestor 7 gets a ladder for 6; pair (4, 4)
    # reaches 7 too and is dropped as redundant.
    assert ct.contact_monitor(recorder, {4: 4, 6: 6}, 10**9) == {7: 6}
    recorder = ct.Recorder(log.view(8), LABEL)
    ct.update_view(recorder, None)
    with pytest.raises(VerificationError) as info:
        ct.contact_monitor(recorder, {4: 5, 6: 1}, 10**9)
    assert info.value.requirement == "OPS-016"


@pytest.mark.req("OPS-015")
@pytest.mark.parametrize(
    "entries",
    [
        ((4, 4), (2, 2)),  # not ascending
        ((2, 2), (4, 2)),  # duplicate version
        ((0, 2),),  # version 2 first appears at entry 2; 0 is not on its direct path
        ((6, 8),),  # no such version
    ],
)
def test_the_log_refuses_a_malformed_map(entries: tuple[tuple[int, int], ...]) -> None:
    stamps = [1000 + i for i in range(8)]
    log, config, key = demo_log(stamps, [[(LABEL, b"v%d" % i)] for i in range(8)], rmw=10**9)
    request = messages.ContactMonitorRequest(
        last=None,
        label=LABEL,
        entries=tuple(messages.MonitorMapEntry(position=p, version=v) for p, v in entries),
    )
    with pytest.raises(UsageError) as info:
        answer_contact_monitor(log.view(), config, key, request)
    assert info.value.requirement == "OPS-015"


class _ForkedView:
    """A log that, from entry ``cut`` on, no longer holds ``key`` (a rolled-back version)."""

    def __init__(self, log: MemoryLog, cut: int, key: bytes) -> None:
        self._view = log.view()
        self._trees: list[PrefixTree] = []
        suite = log.config.ciphersuite
        self._log = log_tree.LogTree(hash_fn=log_tree.hash_for_suite(suite))
        for x in range(self._view.size):
            tree = self._view.prefix_tree(x)
            if x >= cut:
                tree = tree.remove(key)
            self._trees.append(tree)
            entry = messages.LogEntry(timestamp=self._view.timestamp(x), prefix_tree=tree.root())
            self._log.append_entry(entry, suite=suite)

    @property
    def size(self) -> int:
        return self._view.size

    def timestamp(self, x: int) -> int:
        return self._view.timestamp(x)

    def prefix_tree(self, x: int) -> PrefixTree:
        return self._trees[x]

    def vrf_output(self, label: bytes, version: int) -> bytes:
        return self._view.vrf_output(label, version)

    def batch_proof(self, leaves: Sequence[int], retained_size: int) -> messages.InclusionProof:
        return self._log.batch_proof(leaves, retained_size, size=self.size)

    def root(self) -> bytes:
        return self._log.root(self.size)


class _LyingRecorder(ct.Recorder):
    """Records a monitoring ladder even where its tree lost the version."""

    def monitoring_ladder(self, x: int, target: int) -> tuple[int, ...]:
        tree = self._log.prefix_tree(x)
        versions = bl.monitoring_binary_ladder(target)
        self._out_proofs.append(tree.prove([self._key(v) for v in versions]))
        self._associate_root(x, tree.root())
        return versions


@pytest.mark.req("SEARCH-017", "OPS-010")
def test_monitoring_catches_a_rolled_back_version() -> None:
    stamps = [1000 + i for i in range(8)]
    log, config, key = demo_log(stamps, [[(LABEL, b"v%d" % i)] for i in range(8)], rmw=10**9)
    new_map, state = _monitor(log, config, key, ClientState.initial(), 5, {4: 4})
    assert new_map == {4: 4}
    forked = _ForkedView(log, 5, log.view().vrf_output(LABEL, 3))
    # The honest recorder cannot even build the proof ...
    request = messages.ContactMonitorRequest(
        last=5, label=LABEL, entries=(messages.MonitorMapEntry(position=4, version=4),)
    )
    recorder = ct.Recorder(forked, LABEL, 5)
    ct.update_view(recorder, 5)
    with pytest.raises(VerificationError) as info:
        ct.contact_monitor(recorder, {4: 4}, 10**9)
    assert info.value.requirement == "SEARCH-017"
    # ... and the client rejects the one a lying log builds.
    liar = _LyingRecorder(forked, LABEL, 5)
    ct.update_view(liar, 5)
    ct.contact_monitor(liar, {4: 4}, 10**9)
    head = messages.FullTreeHead(
        head_type=messages.FullTreeHeadType.updated,
        tree_head=sign_tree_head(config, key, 8, forked.root()),
    )
    response = messages.ContactMonitorResponse(full_tree_head=head, monitor=liar.finish())
    outputs, commitments = _keys(log, 4)
    before = state
    with pytest.raises(VerificationError) as info:
        verify_contact_monitor(
            state, config, request, response, 1007, vrf_outputs=outputs, commitments=commitments
        )
    assert info.value.requirement == "SEARCH-017"
    assert state == before


def _contact_fixture() -> tuple[
    messages.Configuration,
    messages.ContactMonitorRequest,
    messages.ContactMonitorResponse,
    dict[int, bytes],
    dict[int, bytes],
]:
    stamps = [1000 + i for i in range(8)]
    log, config, key = demo_log(stamps, [[(LABEL, b"v%d" % i)] for i in range(8)], rmw=10**9)
    request = messages.ContactMonitorRequest(
        last=None,
        label=LABEL,
        entries=(
            messages.MonitorMapEntry(position=2, version=2),
            messages.MonitorMapEntry(position=4, version=4),
        ),
    )
    response = answer_contact_monitor(log.view(), config, key, request)
    outputs, commitments = _keys(log, 4)
    return config, request, response, outputs, commitments


_P = messages.CombinedTreeProof
_CONTACT_TAMPER: dict[str, tuple[Callable[[_P], _P], set[str]]] = {
    "missing prefix proof": (
        lambda p: replace(p, prefix_proofs=p.prefix_proofs[:-1]),
        {"COMBINED-002"},
    ),
    "extra prefix proof": (
        lambda p: replace(p, prefix_proofs=(*p.prefix_proofs, p.prefix_proofs[0])),
        {"COMBINED-004"},
    ),
    "reordered prefix proofs": (
        lambda p: replace(p, prefix_proofs=tuple(reversed(p.prefix_proofs))),
        {"SEARCH-017", "COMBINED-006", "COMBINED-008", "SUITE-018"},
    ),
    "missing timestamp": (lambda p: replace(p, timestamps=p.timestamps[:-1]), {"COMBINED-001"}),
    "extra timestamp": (lambda p: replace(p, timestamps=(*p.timestamps, 2000)), {"COMBINED-003"}),
    "reordered timestamps": (
        lambda p: replace(p, timestamps=tuple(reversed(p.timestamps))),
        {"SEARCH-010", "SUITE-018"},
    ),
}


@pytest.mark.req("COMBINED-001", "COMBINED-002", "COMBINED-003", "COMBINED-004", "OPS-010")
@pytest.mark.parametrize("name", sorted(_CONTACT_TAMPER))
def test_tampered_contact_monitor_response_is_rejected(name: str) -> None:
    config, request, response, outputs, commitments = _contact_fixture()
    assert response.monitor.prefix_proofs, "the fixture must inspect ancestors"
    tamper, allowed = _CONTACT_TAMPER[name]
    bad = replace(response, monitor=tamper(response.monitor))
    state = ClientState.initial()
    with pytest.raises(VerificationError) as info:
        verify_contact_monitor(
            state, config, request, bad, 1007, vrf_outputs=outputs, commitments=commitments
        )
    assert info.value.requirement in allowed, str(info.value)
    assert state == ClientState.initial()


@pytest.mark.req("OPS-017", "SEARCH-017")
def test_a_non_inclusion_where_inclusion_is_expected_is_rejected() -> None:
    config, request, response, outputs, commitments = _contact_fixture()
    # Claim version 6 where the log proved version 4: the ladder is too short and the
    # commitments do not match.
    wrong = replace(request, entries=(messages.MonitorMapEntry(position=4, version=6),))
    with pytest.raises(VerificationError) as info:
        verify_contact_monitor(
            ClientState.initial(),
            config,
            wrong,
            response,
            1007,
            vrf_outputs=outputs,
            commitments=commitments,
        )
    assert info.value.requirement is not None


# -- owner initialization and monitoring --------------------------------------------------


def _owner_log(
    spaced: bool = True,
) -> tuple[MemoryLog, messages.Configuration, bytes, list[int]]:
    n = 16
    stamps = [1000 + (100 * i if spaced else i) for i in range(n)]
    created = [0, 2, 3, 5, 9, 12, 13]
    updates = [[(LABEL, b"v%d" % i)] if i in created else [(OTHER, b"o%d" % i)] for i in range(n)]
    log, config, key = demo_log(stamps, updates, rmw=250)
    return log, config, key, created


def _init(
    log: MemoryLog, config: messages.Configuration, key: bytes, start: int, size: int
) -> tuple[OwnerState, ClientState, messages.OwnerInitResponse]:
    request = messages.OwnerInitRequest(last=None, label=LABEL, start=start)
    response = answer_owner_init(log.view(size), config, key, request)
    owner, state = verify_owner_init(
        ClientState.initial(), config, request, response, log.view(size).timestamp(size - 1)
    )
    return owner, state, response


def _distinguished(log: MemoryLog, size: int, rmw: int) -> list[int]:
    view = log.view(size)
    return list(dist.distinguished_entries(size, rmw, view.timestamp))


@pytest.mark.req("OPS-020", "OPS-021", "OPS-022", "OPS-023")
def test_owner_init_round_trip() -> None:
    log, config, key, _ = _owner_log()
    for start in _distinguished(log, 16, 250):
        owner, state, response = _init(log, config, key, start, 16)
        g = greatest_at(log.view(), LABEL, start)
        assert owner.greatest == g
        assert owner.start == start
        assert state.tree_size == 16
        assert list(response.greatest_versions) == sorted(response.greatest_versions, reverse=True)


@pytest.mark.req("OPS-020")
def test_owner_init_refuses_a_start_that_is_not_distinguished_or_expired() -> None:
    log, config, key, _ = _owner_log()
    not_distinguished = next(x for x in range(16) if x not in set(_distinguished(log, 16, 250)))
    request = messages.OwnerInitRequest(last=None, label=LABEL, start=not_distinguished)
    with pytest.raises(VerificationError) as info:
        answer_owner_init(log.view(), config, key, request)
    assert info.value.requirement == "OPS-020"
    stamps = [1000 + 100 * i for i in range(16)]
    expiring, cfg2, key2 = demo_log(
        stamps, [[(LABEL, b"v%d" % i)] for i in range(16)], rmw=250, max_lifetime=400
    )
    request = messages.OwnerInitRequest(last=None, label=LABEL, start=7)
    with pytest.raises(VerificationError) as info:
        answer_owner_init(expiring.view(), cfg2, key2, request)
    assert info.value.requirement == "OPS-020"


@pytest.mark.req("OPS-021", "OPS-022", "OPS-023", "OPS-010")
@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("ascending", {"OPS-021", "OPS-022"}),
        ("too long", {"OPS-021", "OPS-022"}),
        ("one too low", {"OPS-022", "OPS-023", "SEARCH-014", "SEARCH-012", "COMBINED-008"}),
        ("missing ladder step", {"OPS-022"}),
        ("missing commitment", {"OPS-022"}),
        ("ladder from the wrong entry", {"SEARCH-012", "SEARCH-014", "OPS-023", "SUITE-018"}),
    ],
)
def test_owner_init_rejects_a_bad_response(name: str, allowed: set[str]) -> None:
    log, config, key, _ = _owner_log()
    request = messages.OwnerInitRequest(last=None, label=LABEL, start=13)
    response = answer_owner_init(log.view(), config, key, request)
    gv = response.greatest_versions
    assert len(gv) >= 2
    if name == "ascending":
        bad = replace(response, greatest_versions=tuple(reversed(gv)))
    elif name == "too long":
        bad = replace(response, greatest_versions=(*gv, 0, 0, 0, 0, 0, 0))
    elif name == "one too low":
        bad = replace(response, greatest_versions=(gv[0] - 1, *gv[1:]))
    elif name == "missing ladder step":
        bad = replace(response, binary_ladder=response.binary_ladder[:-1])
    elif name == "missing commitment":
        # The step of the claimed greatest version at the start loses its commitment.
        i = init_ladder_versions(gv).index(gv[0])
        steps = list(response.binary_ladder)
        steps[i] = replace(steps[i], commitment=None)
        bad = replace(response, binary_ladder=tuple(steps))
    else:
        proofs = response.init.prefix_proofs
        bad = replace(response, init=replace(response.init, prefix_proofs=proofs[::-1]))
    state = ClientState.initial()
    with pytest.raises(VerificationError) as info:
        verify_owner_init(state, config, request, bad, 2500)
    assert info.value.requirement in allowed, str(info.value)
    assert state == ClientState.initial()


def _owner_request(owner: OwnerState, last: int | None) -> messages.OwnerMonitorRequest:
    return messages.OwnerMonitorRequest(
        last=last,
        label=LABEL,
        entries=tuple(
            messages.MonitorMapEntry(position=p, version=v)
            for p, v in sorted(owner.entries.items())
        ),
        start=owner.start,
        greatest_version=owner.greatest,
    )


def _history(created: Sequence[int], upto: int) -> tuple[tuple[int, int], ...]:
    return tuple((p, v) for v, p in enumerate(created) if p < upto)


@pytest.mark.req("OPS-024", "OPS-025", "OPS-026", "OPS-027")
@pytest.mark.parametrize("limit", [None, 1, 2])
def test_owner_monitoring_round_trip(limit: int | None) -> None:
    log, config, key, created = _owner_log()
    owner, state, _ = _init(log, config, key, 7, 8)
    # The owner learns of its versions at 9, 12 and 13 (as §9.1 would tell it).
    outputs, commitments = _keys(log, 16)
    owner = OwnerState(7, _history(created, 16), outputs, commitments, {})
    rounds = 0
    while True:
        request = _owner_request(owner, state.tree_size)
        response = answer_owner_monitor(log.view(), config, key, request, max_ladders=limit)
        new_owner, state = verify_owner_monitor(
            state, config, owner, request, response, now_ms=2500
        )
        rounds += 1
        if new_owner.start == owner.start:
            break
        owner = new_owner
        assert rounds < 10
    # The walk ends at the rightmost distinguished entry.
    assert owner.start == max(_distinguished(log, 16, 250))
    if limit == 1:
        assert rounds > 2


@pytest.mark.req("OPS-024")
def test_owner_monitoring_request_checks() -> None:
    log, config, key, created = _owner_log()
    good = messages.OwnerMonitorRequest(
        last=None, label=LABEL, entries=(), start=7, greatest_version=len(created) - 1
    )
    answer_owner_monitor(log.view(), config, key, good)
    for bad in (
        replace(good, start=16),
        replace(good, greatest_version=len(created)),
        replace(good, greatest_version=None),
        replace(good, greatest_version=0),
    ):
        with pytest.raises(UsageError) as info:
            answer_owner_monitor(log.view(), config, key, bad)
        assert info.value.requirement == "OPS-024"


@pytest.mark.req("OPS-025", "OPS-010")
def test_owner_monitoring_catches_an_unexpected_version() -> None:
    log, config, key, created = _owner_log()
    outputs, commitments = _keys(log, 16)
    # The owner believes version 4 (created at 9) does not exist yet: the log's ladders
    # past entry 9 show it, and the owner rejects.
    owner = OwnerState(7, _history(created, 9), outputs, commitments, {})
    honest = OwnerState(7, _history(created, 16), outputs, commitments, {})
    response = answer_owner_monitor(log.view(), config, key, _owner_request(honest, None))
    request = _owner_request(owner, None)
    with pytest.raises(VerificationError) as info:
        verify_owner_monitor(ClientState.initial(), config, owner, request, response, now_ms=2500)
    assert info.value.requirement in {"OPS-025", "SEARCH-012", "SEARCH-014", "COMBINED-008"}


@pytest.mark.req("OPS-025")
def test_the_log_stops_before_a_version_the_owner_does_not_know() -> None:
    log, config, key, created = _owner_log()
    outputs, commitments = _keys(log, 16)
    owner = OwnerState(7, _history(created, 9), outputs, commitments, {})
    response = answer_owner_monitor(log.view(), config, key, _owner_request(owner, None))
    new_owner, _ = verify_owner_monitor(
        ClientState.initial(), config, owner, _owner_request(owner, None), response, now_ms=2500
    )
    assert 7 <= new_owner.start < 9


# -- interop ------------------------------------------------------------------------------


@pytest.mark.req("OPS-015", "OPS-016", "OPS-020", "OPS-021", "OPS-025", "OPS-026")
def test_monitor_vectors(interop_dir: Path) -> None:
    report = run_file(interop_dir / "monitor.json")
    failed = {n: o.detail for n, o in report.outcomes.items() if o.status is Status.FAIL}
    assert not failed
    assert report.count(Status.PASS) == 7
    assert report.outcomes["contact-with-advertised-size"].divergence == "IOP-O03"


def test_errors_are_ckv_errors() -> None:
    assert issubclass(VerificationError, CKVError)
    assert ibst.frontier(8) == (7,)


_OWNER_TAMPER: dict[str, tuple[Callable[[_P], _P], set[str]]] = {
    "missing prefix proof": (
        lambda p: replace(p, prefix_proofs=p.prefix_proofs[:-1]),
        {"COMBINED-002", "COMBINED-005"},
    ),
    "extra prefix proof": (
        lambda p: replace(p, prefix_proofs=(*p.prefix_proofs, p.prefix_proofs[0])),
        {"OPS-025", "SEARCH-012", "SEARCH-014", "COMBINED-004", "COMBINED-006"},
    ),
    "ladder from the wrong entry": (
        lambda p: replace(p, prefix_proofs=p.prefix_proofs[::-1]),
        {"OPS-025", "SEARCH-012", "SEARCH-014", "COMBINED-006", "SUITE-018"},
    ),
    "missing timestamp": (
        lambda p: replace(p, timestamps=p.timestamps[:-1]),
        {"COMBINED-001", "COMBINED-005"},
    ),
    "extra timestamp": (
        lambda p: replace(p, timestamps=(*p.timestamps, 10**6)),
        {"COMBINED-002", "COMBINED-003", "SEARCH-010"},
    ),
}


@pytest.mark.req("OPS-025", "OPS-026", "COMBINED-002", "OPS-010")
@pytest.mark.parametrize("name", sorted(_OWNER_TAMPER))
def test_tampered_owner_monitor_response_is_rejected(name: str) -> None:
    log, config, key, created = _owner_log()
    outputs, commitments = _keys(log, 16)
    owner = OwnerState(7, _history(created, 16), outputs, commitments, {})
    request = _owner_request(owner, None)
    response = answer_owner_monitor(log.view(), config, key, request)
    assert len(response.monitor.prefix_proofs) >= 2
    tamper, allowed = _OWNER_TAMPER[name]
    bad = replace(response, monitor=tamper(response.monitor))
    state = ClientState.initial()
    with pytest.raises(VerificationError) as info:
        verify_owner_monitor(state, config, owner, request, bad, now_ms=2500)
    assert info.value.requirement in allowed, str(info.value)
    assert state == ClientState.initial()


@pytest.mark.req("OPS-025", "OPS-010")
def test_a_ladder_ending_on_another_greatest_version_is_rejected() -> None:
    log, config, key, created = _owner_log()
    outputs, commitments = _keys(log, 16)
    # The owner wrongly expects version 4 (created at 9) from entry 10 on only.
    history = tuple((10 if p == 9 else p, v) for p, v in _history(created, 16))
    owner = OwnerState(7, history, outputs, commitments, {})
    request = _owner_request(owner, None)
    view = log.view()
    recorder = ct.Recorder(view, LABEL)
    ct.update_view(recorder, None)
    rmw = config.reasonable_monitoring_window
    # The log's own walk, for that expectation, stops at entry 9 ...
    with pytest.raises(VerificationError) as info:
        ct.owner_monitor(recorder, 7, owner.expected, rmw, lambda _x: False)
    assert info.value.requirement == "OPS-025"
    # ... and so does the owner's, on the proof that walk recorded.
    head = messages.FullTreeHead(
        head_type=messages.FullTreeHeadType.updated,
        tree_head=sign_tree_head(config, key, view.size, view.root()),
    )
    response = messages.OwnerMonitorResponse(full_tree_head=head, monitor=recorder.finish())
    with pytest.raises(VerificationError) as info:
        verify_owner_monitor(ClientState.initial(), config, owner, request, response, now_ms=2500)
    assert info.value.requirement == "OPS-025"


@pytest.mark.req("OPS-018")
def test_owner_monitoring_leaves_the_final_distinguished_entry_to_the_owner_algorithm() -> None:
    log, config, _, _ = _owner_log()
    rmw = config.reasonable_monitoring_window
    # Entry 12 (version 5) is not distinguished; its parent 13 is.
    for owner_start, want, proofs in ((None, {}, 1), (11, {12: 5}, 0), (13, {}, 1)):
        recorder = ct.Recorder(log.view(), LABEL)
        ct.update_view(recorder, None)
        assert ct.contact_monitor(recorder, {12: 5}, rmw, owner_start=owner_start) == want
        assert len(recorder.finish().prefix_proofs) == proofs


@pytest.mark.req("OPS-013", "OPS-015", "OPS-017", "OPS-018", "OPS-019")
@settings(max_examples=40, deadline=None)
@given(st.data())
def test_searches_then_monitoring_with_expiry(data: st.DataObject) -> None:
    n = data.draw(st.integers(3, 24))
    gaps = data.draw(st.lists(st.integers(0, 40), min_size=n, max_size=n))
    stamps = [1000 + sum(gaps[: i + 1]) for i in range(n)]
    creates = data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    creates[0] = max(1, creates[0])
    updates = [
        [(LABEL, b"v%d.%d" % (i, j)) for j in range(c)] or [(OTHER, b"o%d" % i)]
        for i, c in enumerate(creates)
    ]
    rmw = data.draw(st.sampled_from([10, 50, 200, 10**6, 10**6]))
    lifetime = data.draw(st.sampled_from([None, rmw + 60, rmw + 400]))
    log, config, key = demo_log(stamps, updates, rmw=rmw, max_lifetime=lifetime)
    k = data.draw(st.integers(1, n - 1))
    view = log.view(k)
    greatest = greatest_at(view, LABEL, k - 1)
    if greatest is None:
        return
    # A contact looks up several versions at size k, remembering what it is shown.
    state = ClientState.initial()
    entries: dict[int, int] = {}
    for version in sorted(
        set(data.draw(st.lists(st.integers(0, greatest), min_size=1, max_size=3)))
    ):
        request = messages.SearchRequest(last=state.tree_size, label=LABEL, version=version)
        try:
            response = answer_search(view, config, key, request)
        except ct.SearchRefusedError:
            continue  # expired
        result, state = verify_search(state, config, request, response, view.timestamp(k - 1))
        if result.must_monitor:
            entries[result.terminal] = max(entries.get(result.terminal, version), version)
    by_position = [entries[p] for p in sorted(entries)]
    if (
        not entries
        or len(set(by_position)) != len(by_position)
        or by_position != sorted(by_position)
    ):
        return
    size = data.draw(st.integers(k, n))
    new_map, state = _monitor(log, config, key, state, size, entries)
    assert state.full_subtrees.root() == log.view(size).root()
    assert set(new_map.values()) <= set(entries.values())
