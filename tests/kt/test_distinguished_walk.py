"""Walking distinguished heads (KEYTRANS §10.1, §12.3.8, §13.6) and the glue to fork detection."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckv import combined_tree as ct
from ckv import distinguished as dist
from ckv import implicit_search_tree as ibst
from ckv import log_tree
from ckv.client_state import ClientState
from ckv.distinguished_walk import (
    RECENT_COUNT,
    RecentDistinguished,
    answer_distinguished,
    compare_distinguished,
    distinguished_head,
    full_subtrees_at,
    verify_distinguished,
    walk_distinguished,
)
from ckv.errors import UsageError, VerificationError
from ckv.fork_detection import compare_roots
from ckv.interop.search_vectors import MemoryLog, demo_log
from ckv.tree_head import sign_tree_head
from ckv.wire import messages

FAR = 10**12  # clock bounds wide enough that test timestamps are always fresh


def _log(
    timestamps: Sequence[int], rmw: int, lifetime: int | None
) -> tuple[MemoryLog, messages.Configuration, bytes]:
    return demo_log(
        timestamps, [[] for _ in timestamps], rmw=rmw, max_lifetime=lifetime, clock_bounds=FAR
    )


def _truth(timestamps: Sequence[int], size: int, rmw: int, lifetime: int | None) -> list[int]:
    """The recent entries by definition: the RECENT_COUNT rightmost distinguished, unexpired."""
    every = dist.distinguished_entries(size, rmw, timestamps.__getitem__)
    last = timestamps[size - 1]
    return [x for x in every[-RECENT_COUNT:] if not dist.is_expired(timestamps[x], last, lifetime)]


def _reaching_step_2(n: int, rmw: int, ts: Sequence[int], lifetime: int | None) -> list[int]:
    """An independent transcription of §10.1 (no stop), listing the entries reaching step 2."""
    out: list[int] = []
    found: list[int] = []

    def rec(x: int, lo: int, hi: int) -> None:
        if hi - lo < rmw:
            return
        out.append(x)
        if ibst.has_right(x, n):
            rec(ibst.right(x, n), ts[x], hi)
        if len(found) >= RECENT_COUNT or dist.is_expired(ts[x], ts[n - 1], lifetime):
            return
        found.append(x)
        if ibst.has_left(x):
            rec(ibst.left(x), lo, ts[x])

    rec(ibst.root(n), 0, ts[n - 1])
    return out


@st.composite
def logs(draw: st.DrawFn) -> tuple[list[int], int, int | None]:
    n = draw(st.integers(1, 48))
    gaps = draw(st.lists(st.sampled_from([0, 1, 7, 30, 90]), min_size=n, max_size=n))
    timestamps = []
    t = 1000
    for g in gaps:
        t += g
        timestamps.append(t)
    rmw = draw(st.sampled_from([0, 20, 60, 150]))
    lifetime = draw(st.sampled_from([None, rmw + 1, 3 * rmw + 50]))
    return timestamps, rmw, lifetime


def _walk(
    log: MemoryLog,
    config: messages.Configuration,
    key: bytes,
    state: ClientState,
    size: int,
    *,
    known: RecentDistinguished | None = None,
    stop: int | None = None,
) -> tuple[RecentDistinguished, ClientState]:
    request = messages.DistinguishedRequest(last=state.tree_size, stop=stop)
    response = answer_distinguished(log.view(size), config, key, request)
    result, new_state = verify_distinguished(
        state, config, request, response, log.view(size).timestamp(size - 1), known=known
    )
    return result.recent, new_state


@pytest.mark.req("FORK-004", "FORK-005", "FORK-007", "FORK-008", "FORK-009")
@given(logs(), st.data())
def test_round_trip_finds_the_recent_entries_and_their_roots(
    spec: tuple[list[int], int, int | None], data: st.DataObject
) -> None:
    timestamps, rmw, lifetime = spec
    log, config, key = _log(timestamps, rmw, lifetime)
    n = len(timestamps)
    sizes = sorted(set(data.draw(st.lists(st.integers(1, n), min_size=1, max_size=3))))
    state = ClientState.initial()
    known: RecentDistinguished | None = None
    for size in sizes:
        use_stop = known is not None and known.entries and data.draw(st.booleans())
        stop = known.entries[-1].position if use_stop and known is not None else None
        known, state = _walk(log, config, key, state, size, known=known, stop=stop)
        assert list(known.positions) == _truth(timestamps, size, rmw, lifetime)
        assert state.tree_size == size
        assert state.full_subtrees == log._log.full_subtrees(size)
        for entry in known.entries:
            assert entry.root == log._log.root(entry.position + 1)
            assert entry.view.full_subtrees == log._log.full_subtrees(entry.position + 1)
            assert entry.view.tree_size == entry.position + 1
            assert entry.timestamp == timestamps[entry.position]
            assert entry.prefix_root == log.view(size).prefix_tree(entry.position).root()


@pytest.mark.req("FORK-005")
@given(logs())
def test_the_proof_carries_one_timestamp_per_entry_reaching_step_2(
    spec: tuple[list[int], int, int | None],
) -> None:
    timestamps, rmw, lifetime = spec
    log, config, key = _log(timestamps, rmw, lifetime)
    n = len(timestamps)
    request = messages.DistinguishedRequest(last=None, stop=None)
    proof = answer_distinguished(log.view(), config, key, request).distinguished
    frontier = set(ibst.frontier(n))
    beyond = [x for x in _reaching_step_2(n, rmw, timestamps, lifetime) if x not in frontier]
    # A first-time user gets the frontier, then every other entry that reached step 2.
    want = [timestamps[x] for x in ibst.frontier(n)] + [timestamps[x] for x in beyond]
    assert list(proof.timestamps) == want
    assert proof.prefix_proofs == ()


@pytest.mark.req("FORK-004")
def test_recent_never_includes_an_expired_entry() -> None:
    # Entries 0..6 an hour apart, then a long gap: the old distinguished entries expire.
    timestamps = [i * 100 for i in range(7)] + [5000 + i for i in range(9)]
    log, config, key = _log(timestamps, 100, 1000)
    recent, _ = _walk(log, config, key, ClientState.initial(), len(timestamps))
    last = timestamps[-1]
    every = dist.distinguished_entries(len(timestamps), 100, timestamps.__getitem__)
    assert any(last - timestamps[x] >= 1000 for x in every[-RECENT_COUNT:])
    assert recent.entries
    assert all(last - e.timestamp < 1000 for e in recent.entries)
    assert len(recent.entries) <= RECENT_COUNT


@pytest.mark.req("FORK-004")
def test_count_bounds() -> None:
    log, _, _ = _log([1, 2, 3], 0, None)
    recorder = ct.Recorder(log.view(), b"")
    with pytest.raises(UsageError):
        walk_distinguished(recorder, 0, None, count=11)
    with pytest.raises(UsageError):
        walk_distinguished(recorder, 0, None, count=0)


@pytest.mark.req("FORK-007")
@given(st.integers(1, 70), st.data())
def test_full_subtrees_at_earlier_sizes(size: int, data: st.DataObject) -> None:
    leaves_values = [bytes([i % 256]) * 32 for i in range(size)]
    tree = log_tree.LogTree.from_leaves(leaves_values)
    retained_size = data.draw(st.integers(0, size))
    proven = sorted(set(data.draw(st.lists(st.integers(0, size - 1), max_size=6))))
    proof = tree.batch_proof(proven, retained_size)
    retained = tree.full_subtrees(retained_size) if retained_size else None
    leaves = {x: leaves_values[x] for x in proven}
    log_tree.verify_batch(size, proof, leaves, retained)
    sizes = {x + 1 for x in proven}
    if retained_size:
        sizes.update(
            s + w for s, w in log_tree.full_subtrees(retained_size)
        )  # prefixes of the retained full subtrees
    got = full_subtrees_at(size, proof, leaves, retained, sizes)
    for s in sizes:
        assert got[s] == tree.full_subtrees(s)


def test_full_subtrees_at_refuses_a_size_inside_a_piece() -> None:
    tree = log_tree.LogTree.from_leaves([bytes([i]) * 32 for i in range(8)])
    with pytest.raises(UsageError):
        full_subtrees_at(8, tree.batch_proof([]), {}, None, [3])


# -- must-reject --------------------------------------------------------------------------


LIFETIME = 170


def _timeline(
    lifetime: int = LIFETIME,
) -> tuple[MemoryLog, messages.Configuration, bytes, list[int]]:
    # 30 entries 25 apart, a gap, 10 entries 10 apart; RMW 100, lifetime 170: entry 30 is
    # among the four rightmost distinguished entries at size 40 but expired.
    timestamps = [1000 + 25 * i for i in range(30)] + [2025 + 10 * i for i in range(10)]
    log, config, key = _log(timestamps, 100, lifetime)
    return log, config, key, timestamps


def _answer_with(
    log: MemoryLog,
    config: messages.Configuration,
    key: bytes,
    request: messages.DistinguishedRequest,
    *,
    stop: int | None,
    lifetime: int | None,
    count: int = RECENT_COUNT,
) -> messages.DistinguishedResponse:
    """A dishonest log: the walk run with another stop, lifetime or count, signed properly."""
    view = log.view()
    recorder = ct.Recorder(view, b"", request.last)
    ct.update_view(recorder, request.last)
    walk_distinguished(recorder, config.reasonable_monitoring_window, lifetime, stop, count=count)
    head = messages.FullTreeHead(
        head_type=messages.FullTreeHeadType.updated,
        tree_head=sign_tree_head(config, key, view.size, view.root()),
    )
    return messages.DistinguishedResponse(full_tree_head=head, distinguished=recorder.finish())


def _flip(data: bytes) -> bytes:
    return bytes([data[0] ^ 1]) + data[1:]


Tamper = Callable[[messages.CombinedTreeProof], messages.CombinedTreeProof]

_PROOF_TAMPER: dict[str, tuple[Tamper, set[str]]] = {
    "extra timestamp": (
        lambda p: replace(p, timestamps=(*p.timestamps, p.timestamps[-1])),
        {"COMBINED-003"},
    ),
    "missing timestamp": (
        lambda p: replace(p, timestamps=p.timestamps[:-1]),
        {"COMBINED-001", "COMBINED-005", "SEARCH-010"},
    ),
    "timestamp changed": (
        lambda p: replace(p, timestamps=(*p.timestamps[:-1], p.timestamps[-1] - 1)),
        {"SEARCH-010", "SUITE-018"},
    ),
    "prefix root changed": (
        lambda p: replace(p, prefix_roots=(_flip(p.prefix_roots[0]), *p.prefix_roots[1:])),
        {"SUITE-018"},
    ),
    "extra prefix root": (
        lambda p: replace(p, prefix_roots=(*p.prefix_roots, bytes(32))),
        {"COMBINED-005"},
    ),
    "inclusion element dropped": (
        lambda p: replace(p, inclusion=replace(p.inclusion, elements=p.inclusion.elements[1:])),
        {"LOG-008"},
    ),
}


@pytest.mark.req("COMBINED-001", "COMBINED-003", "COMBINED-005", "FORK-005")
@pytest.mark.parametrize("name", sorted(_PROOF_TAMPER))
def test_tampered_proof_is_rejected(name: str) -> None:
    log, config, key, timestamps = _timeline()
    request = messages.DistinguishedRequest(last=None, stop=None)
    response = answer_distinguished(log.view(), config, key, request)
    tamper, allowed = _PROOF_TAMPER[name]
    bad = replace(response, distinguished=tamper(response.distinguished))
    state = ClientState.initial()
    with pytest.raises(VerificationError) as info:
        verify_distinguished(state, config, request, bad, timestamps[-1])
    assert info.value.requirement in allowed, f"{info.value.requirement}: {info.value}"
    assert state == ClientState.initial()


@pytest.mark.req("FORK-004", "FORK-005", "COMBINED-003")
@pytest.mark.parametrize(
    ("what", "config_lifetime", "lifetime", "count"),
    [
        ("expired entries included", LIFETIME, None, RECENT_COUNT),
        ("more entries than recent", 10**6, 10**6, RECENT_COUNT + 2),
        ("fewer entries than recent", 10**6, 10**6, 1),
    ],
)
def test_a_walk_with_another_definition_of_recent_is_rejected(
    what: str, config_lifetime: int, lifetime: int | None, count: int
) -> None:
    log, config, key, timestamps = _timeline(config_lifetime)
    stop = None
    request = messages.DistinguishedRequest(last=None, stop=None)
    honest = answer_distinguished(log.view(), config, key, request)
    bad = _answer_with(log, config, key, request, stop=stop, lifetime=lifetime, count=count)
    assert bad.distinguished.timestamps != honest.distinguished.timestamps, what
    with pytest.raises(VerificationError) as info:
        verify_distinguished(ClientState.initial(), config, request, bad, timestamps[-1])
    assert info.value.requirement in {"COMBINED-001", "COMBINED-003", "COMBINED-005"}


@pytest.mark.req("FORK-005", "FORK-009", "COMBINED-003")
def test_an_ignored_stopping_position_is_rejected() -> None:
    log, config, key, timestamps = _timeline()
    known, state = _walk(log, config, key, ClientState.initial(), 35)
    stop = known.entries[-1].position
    request = messages.DistinguishedRequest(last=state.tree_size, stop=stop)
    honest = answer_distinguished(log.view(), config, key, request)
    bad = _answer_with(log, config, key, request, stop=None, lifetime=LIFETIME)
    assert bad.distinguished.timestamps != honest.distinguished.timestamps
    with pytest.raises(VerificationError) as info:
        verify_distinguished(state, config, request, bad, timestamps[-1], known=known)
    assert info.value.requirement in {"COMBINED-003", "COMBINED-005"}
    # The honest answer to the same request verifies.
    result, _ = verify_distinguished(state, config, request, honest, timestamps[-1], known=known)
    assert list(result.recent.positions) == _truth(timestamps, 40, 100, LIFETIME)


@pytest.mark.req("FORK-009")
def test_a_stop_must_be_a_retained_entry() -> None:
    log, config, key, timestamps = _timeline()
    request = messages.DistinguishedRequest(last=None, stop=5)
    response = answer_distinguished(log.view(), config, key, request)
    with pytest.raises(UsageError):
        verify_distinguished(ClientState.initial(), config, request, response, timestamps[-1])


@pytest.mark.req("FORK-006", "SUITE-018")
def test_a_head_signed_for_another_root_is_rejected() -> None:
    log, config, key, timestamps = _timeline()
    request = messages.DistinguishedRequest(last=None, stop=None)
    response = answer_distinguished(log.view(), config, key, request)
    head = response.full_tree_head.tree_head
    assert head is not None
    forged = replace(head, signature=sign_tree_head(config, key, 40, bytes(32)).signature)
    bad = replace(response, full_tree_head=replace(response.full_tree_head, tree_head=forged))
    with pytest.raises(VerificationError) as info:
        verify_distinguished(ClientState.initial(), config, request, bad, timestamps[-1])
    assert info.value.requirement == "SUITE-018"


@pytest.mark.req("FORK-006")
def test_a_shrinking_tree_is_rejected() -> None:
    log, config, key, timestamps = _timeline()
    _, state = _walk(log, config, key, ClientState.initial(), 30)
    request = messages.DistinguishedRequest(last=30, stop=None)
    response = answer_distinguished(log.view(30), config, key, request)
    small = answer_distinguished(
        log.view(20), config, key, messages.DistinguishedRequest(last=None, stop=None)
    )
    bad = replace(response, full_tree_head=small.full_tree_head)
    with pytest.raises(VerificationError) as info:
        verify_distinguished(state, config, request, bad, timestamps[29])
    assert info.value.requirement == "FORK-006"


# -- fork detection ---------------------------------------------------------------------------


@pytest.mark.req("FORK-001", "FORK-010")
def test_distinguished_heads_compare_across_channels() -> None:
    log, config, key, timestamps = _timeline()
    a, _ = _walk(log, config, key, ClientState.initial(), 40)
    b, _ = _walk(log, config, key, ClientState.initial(), 36)
    head_a = distinguished_head(a)
    assert list(head_a.heads) == [e.root for e in a.entries]
    assert compare_distinguished(a, a).consistent
    assert compare_distinguished(a, b).consistent
    assert compare_distinguished(head_a, b).consistent
    # A forked log: the same timestamps, a different entry 3.
    forked, _, _ = demo_log(
        timestamps,
        [[(b"x", b"forked")] if i == 3 else [] for i in range(40)],
        rmw=100,
        max_lifetime=LIFETIME,
        clock_bounds=FAR,
    )
    c, _ = _walk(forked, config, key, ClientState.initial(), 40)
    assert c.positions == a.positions
    assert not compare_distinguished(a, c).consistent
    assert not compare_roots(distinguished_head(a), distinguished_head(c)).consistent


@pytest.mark.req("FORK-010")
def test_lists_of_different_lengths() -> None:
    r = [bytes([i]) * 32 for i in range(6)]
    head = messages.DistinguishedHead
    assert compare_distinguished(head(heads=tuple(r[1:5])), head(heads=tuple(r[3:6]))).consistent
    assert compare_distinguished(head(heads=tuple(r[0:4])), head(heads=tuple(r[1:3]))).consistent
    assert compare_distinguished(head(heads=tuple(r[0:4])), head(heads=(r[3], r[0]))).consistent
    assert not compare_distinguished(head(heads=tuple(r[0:4])), head(heads=(r[1], r[5]))).consistent
    assert not compare_distinguished(
        head(heads=tuple(r[0:2])), head(heads=tuple(r[3:6]))
    ).consistent
    assert compare_distinguished(head(heads=()), head(heads=tuple(r[:2]))).inconclusive


@pytest.mark.req("OPS-010")
@settings(max_examples=10)
@given(st.integers(0, 200))
def test_state_is_untouched_by_a_rejected_response(i: int) -> None:
    log, config, key, timestamps = _timeline()
    known, state = _walk(log, config, key, ClientState.initial(), 25)
    request = messages.DistinguishedRequest(last=25, stop=None)
    response = answer_distinguished(log.view(), config, key, request)
    proof = response.distinguished
    if not proof.timestamps:
        return
    j = i % len(proof.timestamps)
    stamps = list(proof.timestamps)
    stamps[j] += 1 + i
    bad = replace(response, distinguished=replace(proof, timestamps=tuple(stamps)))
    before = state
    with pytest.raises(VerificationError):
        verify_distinguished(state, config, request, bad, timestamps[-1], known=known)
    assert state == before
