"""Distinguished log entries (KEYTRANS §6.1) and expiry (§7.1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ckv import distinguished as dist
from ckv import implicit_search_tree as ibst
from ckv.errors import UsageError, VerificationError


@st.composite
def monotone_log(draw: st.DrawFn, max_size: int = 140) -> list[int]:
    """Non-decreasing timestamps: bursts (gap 0) mixed with pauses of any length."""
    n = draw(st.integers(1, max_size))
    rnd = draw(st.randoms(use_true_random=False))
    burst = draw(st.floats(0, 1))  # how often consecutive entries share a millisecond
    scale = draw(st.sampled_from([1, 10, 1000, 5000]))
    out = []
    t = draw(st.integers(0, 10**6))
    for _ in range(n):
        if rnd.random() >= burst:
            t += rnd.randint(0, scale)
        out.append(t)
    return out


windows = st.one_of(st.just(0), st.integers(0, 50), st.integers(0, 20000))


def _all(stamps: list[int], rmw: int, n: int | None = None) -> tuple[int, ...]:
    size = len(stamps) if n is None else n
    return dist.distinguished_entries(size, rmw, stamps.__getitem__)


@pytest.mark.req("SEARCH-018", "SEARCH-019")
def test_thirteen_entry_worked_example() -> None:
    # T12 - T7 >= RMW > T12 - T11: entry 11 is the rightmost distinguished entry, and 7
    # is distinguished too (bracket 0 .. T12).
    stamps = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 1095, 1100]
    rmw = 1000
    assert stamps[12] - stamps[7] >= rmw > stamps[12] - stamps[11]
    recorder = dist.RecordingTimestamps(stamps)
    assert dist.rightmost_distinguished(13, rmw, recorder) == 11
    assert recorder.requested == [12, 7, 11]  # T_12, then the frontier in order
    assert dist.is_distinguished(7, 13, rmw, stamps.__getitem__)
    assert dist.is_distinguished(11, 13, rmw, stamps.__getitem__)
    assert not dist.is_distinguished(12, 13, rmw, stamps.__getitem__)
    assert 7 in _all(stamps, rmw)
    assert 11 in _all(stamps, rmw)


@pytest.mark.req("SEARCH-018")
def test_window_of_zero_distinguishes_everything() -> None:
    # "less than", not "less than or equal to": a zero RMW makes every entry distinguished,
    # even when every timestamp is equal.
    for n in range(1, 70):
        assert _all([5] * n, 0) == tuple(range(n))
        assert dist.rightmost_distinguished(n, 0, ([5] * n).__getitem__) == n - 1
    # With a window of one, equal timestamps leave only the root's left spine, whose left
    # edge is the initial 0 (distinguished.json's "simultaneous-window-1").
    assert _all([5] * 50, 1) == (0, 1, 3, 7, 15, 31)
    assert _all([5] * 50, 6) == ()


@pytest.mark.req("SEARCH-018", "SEARCH-019", "SEARCH-020")
@given(monotone_log(), windows)
def test_walks_agree_with_the_recursion(stamps: list[int], rmw: int) -> None:
    n = len(stamps)
    everything = _all(stamps, rmw)
    rec = dist.RecordingTimestamps(stamps)
    rightmost = dist.rightmost_distinguished(n, rmw, rec)
    assert rightmost == (everything[-1] if everything else None)
    # The walk reads T[n-1] and frontier entries only.
    assert rec.requested[0] == n - 1
    assert set(rec.requested) <= {n - 1, *ibst.frontier(n)}
    before = [x for x in everything if x < n - 1]
    rec = dist.RecordingTimestamps(stamps)
    assert dist.previous_rightmost_distinguished(n, rmw, rec) == (before[-1] if before else None)
    # The previous-rightmost walk reads only the frontier and the right spine under n-1.
    assert len(rec.requested) == len(set(rec.requested))


@pytest.mark.req("SEARCH-018", "SEARCH-021")
@given(monotone_log(max_size=90), windows)
def test_is_distinguished_from_the_path_alone(stamps: list[int], rmw: int) -> None:
    n = len(stamps)
    everything = set(_all(stamps, rmw))
    for x in range(n):
        rec = dist.RecordingTimestamps(stamps)
        assert dist.is_distinguished(x, n, rmw, rec) == (x in everything)
        # Only T[n-1] and ancestors of x were consulted.
        assert set(rec.requested) <= {n - 1, *ibst.direct_path(x, n)}


@pytest.mark.req("SEARCH-018")
@given(monotone_log(), windows)
def test_parent_of_distinguished_is_distinguished(stamps: list[int], rmw: int) -> None:
    n = len(stamps)
    everything = set(_all(stamps, rmw))
    for x in everything:
        p = ibst.parent(x, n)
        assert p is None or p in everything


@pytest.mark.req("SEARCH-018")
@given(monotone_log(max_size=90), windows)
def test_distinguished_entries_are_stable(stamps: list[int], rmw: int) -> None:
    # §6.1: once distinguished, always distinguished, as the log grows (monotone timestamps).
    previous: set[int] = set()
    for n in range(1, len(stamps) + 1):
        now = set(_all(stamps, rmw, n))
        assert previous <= now, (n, sorted(previous - now))
        previous = now


@pytest.mark.req("SEARCH-019", "SEARCH-022")
@given(monotone_log(), windows, st.integers(1, 30000))
def test_rightmost_is_on_frontier_and_never_expired(
    stamps: list[int], rmw: int, extra: int
) -> None:
    n = len(stamps)
    rightmost = dist.rightmost_distinguished(n, rmw, stamps.__getitem__)
    if rightmost is None:
        return
    assert ibst.is_on_frontier(rightmost, n)
    lifetime = rmw + extra
    dist.check_lifetime(rmw, lifetime)
    assert not dist.is_expired(stamps[rightmost], stamps[n - 1], lifetime)


@pytest.mark.req("SEARCH-022")
def test_expiry_boundary() -> None:
    assert dist.is_expired(1000, 2000, 1000)  # "greater than or equal to"
    assert not dist.is_expired(1001, 2000, 1000)
    assert not dist.is_expired(0, 10**15, None)  # no maximum lifetime: nothing expires
    assert not dist.is_expired(2000, 2000, 1)  # the rightmost entry is never expired


@pytest.mark.req("SEARCH-023")
@pytest.mark.parametrize(("rmw", "lifetime"), [(0, 0), (10, 10), (10, 5), (0, -1)])
def test_lifetime_must_exceed_zero_and_window(rmw: int, lifetime: int) -> None:
    with pytest.raises(VerificationError) as info:
        dist.check_lifetime(rmw, lifetime)
    assert info.value.requirement == "SEARCH-023"


@pytest.mark.req("SEARCH-023")
def test_lifetime_accepted() -> None:
    dist.check_lifetime(10, 11)
    dist.check_lifetime(0, 1)
    dist.check_lifetime(10, None)


def test_empty_log_and_bad_inputs() -> None:
    assert dist.rightmost_distinguished(0, 5, lambda _: 0) is None
    assert dist.previous_rightmost_distinguished(0, 5, lambda _: 0) is None
    assert dist.distinguished_entries(0, 5, lambda _: 0) == ()
    with pytest.raises(UsageError):
        dist.rightmost_distinguished(3, -1, lambda _: 0)
    with pytest.raises(UsageError):
        dist.rightmost_distinguished(3, 0, dist.RecordingTimestamps([1]))


def test_recording_reuses_values() -> None:
    calls: list[int] = []

    def source(x: int) -> int:
        calls.append(x)
        return x

    rec = dist.RecordingTimestamps(source)
    assert rec(3) == 3
    assert rec(3) == 3
    assert rec(1) == 1
    assert calls == [3, 1]
    assert rec.requested == [3, 1]
