"""Updating a view of the log (KEYTRANS §4.2) and the timestamp checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ckv import implicit_search_tree as ibst
from ckv import update_view as uv
from ckv.errors import UsageError, VerificationError

CLOCK = {"now": 10_000, "max_ahead": 500, "max_behind": 2_000}


def _verify(
    plan: uv.ViewUpdate, stamps: list[int], retained: dict[int, int] | None
) -> dict[int, int]:
    return uv.verify_update_view(plan, stamps, retained, **CLOCK)


@pytest.mark.req("SEARCH-004")
def test_worked_example_from_four_to_thirteen() -> None:
    # Appendix "CombinedTreeProof Implementation": timestamps = [T_7, T_11, T_12].
    plan = uv.plan_update_view(13, 4)
    assert plan.entries == (7, 11, 12)
    assert plan.frontier == (7, 11, 12)
    assert not plan.restarted


@pytest.mark.req("SEARCH-004")
def test_first_time_user_gets_the_frontier() -> None:
    plan = uv.plan_update_view(50)
    assert plan.entries == plan.frontier == (31, 47, 49)


@pytest.mark.req("SEARCH-004")
def test_restart_clause() -> None:
    # Entry 3 (the user's rightmost at size 4) is still on the frontier of 7 entries; the
    # direct path adds nothing, so the walk restarts at entry 3 (IOP-S01, OR13/kt DRAFT-06).
    plan = uv.plan_update_view(7, 4)
    assert plan.restarted
    assert plan.entries == (5, 6)
    assert uv.plan_update_view(1000, 512).entries == (767, 895, 959, 991, 999)
    # Up to date: nothing to supply, and no restart either.
    same = uv.plan_update_view(9, 9)
    assert same.entries == ()
    assert not same.restarted


@pytest.mark.req("SEARCH-004")
@pytest.mark.parametrize("n", range(1, 140))
def test_plan_properties(n: int) -> None:
    new_frontier = ibst.frontier(n)
    for m in range(1, n + 1):
        plan = uv.plan_update_view(n, m)
        entries = plan.entries
        old_frontier = set(ibst.frontier(m))
        assert plan.frontier == new_frontier
        assert list(entries) == sorted(set(entries))
        assert all(x >= m for x in entries)
        if m == n:
            assert entries == ()
            continue
        # The rightmost new entry, whose timestamp the clock check needs, is always given.
        assert entries[-1] == n - 1
        # Every new frontier entry is either supplied or retained from the old frontier.
        assert set(new_frontier) <= set(entries) | old_frontier
        # Entries come from the direct path of m-1 and then the new frontier.
        assert set(entries) <= set(ibst.direct_path(m - 1, n)) | set(new_frontier)
        # The chain starts from a log entry related to the retained one: m-1 is in the
        # left subtree of the first supplied entry, or the first is on its right spine.
        first = entries[0]
        assert ibst.in_left_subtree(m - 1, first, n) or (
            plan.restarted and ibst.in_right_subtree(first, m - 1, n)
        )


@pytest.mark.req("SEARCH-005")
def test_shrinking_log_is_rejected() -> None:
    with pytest.raises(VerificationError) as info:
        uv.plan_update_view(7, 8)
    assert info.value.requirement == "SEARCH-005"
    with pytest.raises(VerificationError) as info:
        uv.plan_update_view(0)
    assert info.value.requirement == "SEARCH-005"
    with pytest.raises(UsageError):
        uv.plan_update_view(7, 0)


@st.composite
def view_update(draw: st.DrawFn) -> tuple[uv.ViewUpdate, list[int], dict[int, int] | None]:
    """An honest update: non-decreasing timestamps for every entry, rightmost near the clock."""
    n = draw(st.integers(1, 3000) | st.integers(1, ibst.MAX_TREE_SIZE))
    advertised = draw(st.none() | st.integers(1, n) | st.integers(max(1, n - 40), n))
    step = draw(st.integers(0, 3))
    burst = draw(st.integers(1, 8))

    def stamp(x: int) -> int:  # non-decreasing, with runs of equal timestamps
        return CLOCK["now"] - ((n - 1 - x) // burst) * step

    plan = uv.plan_update_view(n, advertised)
    retained = None if advertised is None else {x: stamp(x) for x in ibst.frontier(advertised)}
    return plan, [stamp(x) for x in plan.entries], retained


@pytest.mark.req("SEARCH-006", "SEARCH-007", "SEARCH-008", "SEARCH-009")
@given(view_update())
def test_honest_update_is_accepted(
    case: tuple[uv.ViewUpdate, list[int], dict[int, int] | None],
) -> None:
    plan, stamps, retained = case
    new = _verify(plan, stamps, retained)
    assert list(new) == list(plan.frontier)
    assert new[plan.new_size - 1] == CLOCK["now"]


@pytest.mark.req("SEARCH-007")
@given(view_update(), st.data())
def test_any_out_of_order_timestamp_is_rejected(
    case: tuple[uv.ViewUpdate, list[int], dict[int, int] | None], data: st.DataObject
) -> None:
    plan, stamps, retained = case
    if not stamps or (retained is None and len(stamps) == 1):
        return
    # Push one supplied timestamp below its predecessor (the retained rightmost for the first).
    lo = 0 if retained is not None else 1
    i = data.draw(st.integers(lo, len(stamps) - 1))
    before = stamps[i - 1] if i > 0 else retained[plan.advertised - 1]  # type: ignore[index]
    bad = [*stamps]
    bad[i] = before - data.draw(st.integers(1, 10**6))
    with pytest.raises(VerificationError) as info:
        _verify(plan, bad, retained)
    assert info.value.requirement == "SEARCH-007"


@pytest.mark.req("SEARCH-006")
@given(view_update(), st.booleans())
def test_wrong_number_of_timestamps_is_rejected(
    case: tuple[uv.ViewUpdate, list[int], dict[int, int] | None], longer: bool
) -> None:
    plan, stamps, retained = case
    if not longer and not stamps:
        return
    bad = [*stamps, stamps[-1] if stamps else CLOCK["now"]] if longer else stamps[:-1]
    with pytest.raises(VerificationError) as info:
        _verify(plan, bad, retained)
    assert info.value.requirement == "SEARCH-006"


@pytest.mark.req("SEARCH-008")
def test_clock_bounds() -> None:
    now, ahead, behind = CLOCK["now"], CLOCK["max_ahead"], CLOCK["max_behind"]
    uv.check_clock(now + ahead, now, ahead, behind)  # inclusive bounds
    uv.check_clock(now - behind, now, ahead, behind)
    for t in (now + ahead + 1, now - behind - 1):
        with pytest.raises(VerificationError) as info:
            uv.check_clock(t, now, ahead, behind)
        assert info.value.requirement == "SEARCH-008"
    # Through the update itself: the rightmost entry of a first-time view is too old.
    plan = uv.plan_update_view(3)
    with pytest.raises(VerificationError) as info:
        _verify(plan, [1, now - behind - 1], None)
    assert info.value.requirement == "SEARCH-008"
    # An up-to-date user's retained rightmost entry is checked too.
    with pytest.raises(VerificationError) as info:
        _verify(uv.plan_update_view(3, 3), [], {1: 0, 2: now + ahead + 1})
    assert info.value.requirement == "SEARCH-008"


def test_retained_state_must_match_the_advertised_size() -> None:
    plan = uv.plan_update_view(13, 4)
    with pytest.raises(UsageError):
        _verify(plan, [1, 2, CLOCK["now"]], {2: 0})
    with pytest.raises(UsageError):
        _verify(uv.plan_update_view(3), [1, CLOCK["now"]], {1: 0})


# --- The monotonic ledger of every timestamp a user holds (§12.3). ---


@pytest.mark.req("SEARCH-010")
@given(st.lists(st.integers(0, 50), min_size=1, max_size=60), st.randoms())
def test_ledger_accepts_monotone_in_any_order(gaps: list[int], rnd: object) -> None:
    stamps = []
    t = 0
    for g in gaps:
        t += g
        stamps.append(t)
    order = list(range(len(stamps)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    ledger = uv.TimestampLedger()
    for x in order:
        ledger.add(x, stamps[x])
        ledger.add(x, stamps[x])  # repeating the same value is not an error
    assert ledger.items() == list(enumerate(stamps))


@pytest.mark.req("SEARCH-010")
@given(st.lists(st.integers(0, 50), min_size=2, max_size=60), st.data())
def test_ledger_rejects_any_inversion(gaps: list[int], data: st.DataObject) -> None:
    stamps = []
    t = 0
    for g in gaps:
        t += g + 1  # strictly increasing, so any swap inverts
        stamps.append(t)
    i = data.draw(st.integers(0, len(stamps) - 2))
    j = data.draw(st.integers(i + 1, len(stamps) - 1))
    ledger = uv.TimestampLedger({x: s for x, s in enumerate(stamps) if x not in (i, j)})

    def swap() -> None:
        ledger.add(i, stamps[j])
        ledger.add(j, stamps[i])

    with pytest.raises(VerificationError) as info:
        swap()
    assert info.value.requirement == "SEARCH-010"


@pytest.mark.req("SEARCH-010")
def test_ledger_rejects_a_second_timestamp() -> None:
    ledger = uv.TimestampLedger({3: 10})
    with pytest.raises(VerificationError) as info:
        ledger.add(3, 11)
    assert info.value.requirement == "SEARCH-010"
    assert 3 in ledger
    assert len(ledger) == 1
    assert ledger.get(4) is None


@pytest.mark.req("SEARCH-010")
def test_ledger_checks_both_neighbours() -> None:
    ledger = uv.TimestampLedger({2: 50, 5: 100})
    with pytest.raises(VerificationError) as info:
        ledger.add(3, 101)  # above the entry to its right
    assert info.value.requirement == "SEARCH-010"
    with pytest.raises(VerificationError) as info:
        ledger.add(4, 49)  # below the entry to its left
    assert info.value.requirement == "SEARCH-010"
    ledger.add(3, 50)
    ledger.add(4, 100)
    assert ledger.items() == [(2, 50), (3, 50), (4, 100), (5, 100)]
