"""Binary ladders (KEYTRANS §5, §6.2, §8.1, Appendix B) and how a user reads them."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ckv import binary_ladder as bl
from ckv.errors import UsageError, VerificationError

MAX = bl.MAX_VERSION


def _prose_ladder(greatest: int) -> list[int]:
    """§5 read literally, with a simulated log holding versions 0..greatest.

    Lookups above 2^32-1 are not made and count as non-inclusion.
    """
    out: list[int] = []

    def lookup(v: int) -> bool:
        if v <= MAX:
            out.append(v)
        return v <= greatest

    x = 0
    last_included = -1
    while lookup(x):
        last_included = x
        x = 2 * x + 1
    lo, hi = last_included, x
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if lookup(mid):
            lo = mid
        else:
            hi = mid
    return out


def _honest(target: int, greatest: int | None) -> tuple[list[int], list[bool]]:
    """The log's ladder for one entry and its honest outcomes."""
    ladder = list(bl.search_binary_ladder(target, greatest))
    have = -1 if greatest is None else greatest
    return ladder, [v <= have for v in ladder]


def _sign(a: int, b: int) -> int:
    return (a > b) - (a < b)


# --- The draft's own examples. ---


@pytest.mark.req("SEARCH-011")
def test_section_5_example() -> None:
    # §5: greatest version 6 is established by 0, 1, 3 (included), 7 (absent), 5, 6 (included).
    assert bl.base_binary_ladder(6) == (0, 1, 3, 7, 5, 6)


@pytest.mark.req("SEARCH-012", "SEARCH-013", "SEARCH-014")
def test_combined_tree_worked_example() -> None:
    # Appendix "CombinedTreeProof Implementation": target 2, greatest 2.
    assert bl.search_binary_ladder(2, 2) == (0, 1, 3, 2)
    entry_11 = bl.interpret_search_ladder(2, [True, True, False, True])
    assert entry_11.verdict == 0
    assert entry_11.looked_up == (0, 1, 3, 2)
    # Entry 12: 0, 1 and 2 were proven included at entry 11 (to its left) and are
    # omitted; 3 was proven absent only to the left, so it is not.
    assert bl.search_binary_ladder(2, 2, left_inclusion=(0, 1, 2)) == (3,)
    entry_12 = bl.interpret_search_ladder(2, [False], left_inclusion=(0, 1, 2))
    assert entry_12.verdict == 0
    assert entry_12.looked_up == (3,)
    # Treating 3 as omittable (a flat, direction-blind set) would expect no lookups at all.
    with pytest.raises(VerificationError) as info:
        bl.interpret_search_ladder(2, [False], left_inclusion=(0, 1, 2, 3))
    assert info.value.requirement in {"SEARCH-012", "SEARCH-015"}


@pytest.mark.req("SEARCH-011")
def test_base_ladder_matches_prose() -> None:
    for g in range(2100):
        assert list(bl.base_binary_ladder(g)) == _prose_ladder(g)


@pytest.mark.req("SEARCH-011")
@given(st.integers(min_value=0, max_value=MAX))
def test_base_ladder_matches_prose_everywhere(g: int) -> None:
    ladder = bl.base_binary_ladder(g)
    assert list(ladder) == _prose_ladder(g)
    assert g in ladder
    assert all(0 <= v <= MAX for v in ladder)
    assert len(set(ladder)) == len(ladder)


@pytest.mark.req("SEARCH-011")
def test_top_of_the_version_space() -> None:
    # §5: lookups above 2^32-1 are skipped and count as non-inclusion, so 2^32-1 is
    # established by the 33 inclusions 0, 1, 3, ..., 2^32-1 (OR13/kt DRAFT-01; IOP-S03).
    top = bl.base_binary_ladder(MAX)
    assert top == tuple((1 << k) - 1 for k in range(33))
    reading = bl.interpret_search_ladder(MAX, [True] * len(top))
    assert (reading.verdict, reading.lowest, reading.highest) == (0, MAX, MAX)
    assert bl.monitoring_binary_ladder(MAX) == top
    # Just below: 2^32-2 needs the non-inclusion of 2^32-1.
    below = bl.base_binary_ladder(MAX - 1)
    assert below[-1] == MAX - 1
    assert MAX in below
    # KT-01: the peer's ladder does not terminate from 2^31-1 on; this one does.
    for g in ((1 << 31) - 1, 1 << 31, MAX - 2):
        ladder = bl.base_binary_ladder(g)
        assert list(ladder) == _prose_ladder(g)
        assert g in ladder
        assert len(ladder) <= 64


@pytest.mark.req("SEARCH-011")
@pytest.mark.parametrize("bad", [-1, MAX + 1, 1 << 40])
def test_versions_outside_uint32_are_refused(bad: int) -> None:
    for call in (
        lambda: bl.base_binary_ladder(bad),
        lambda: bl.search_binary_ladder(bad, 0),
        lambda: bl.search_binary_ladder(0, bad),
        lambda: bl.search_binary_ladder(0, 0, left_inclusion=[bad]),
        lambda: bl.monitoring_binary_ladder(bad),
        lambda: bl.interpret_search_ladder(bad, []),
        lambda: bl.interpret_search_ladder(0, [True], right_non_inclusion=[bad]),
    ):
        with pytest.raises(UsageError) as info:
            call()
        assert info.value.requirement == "SEARCH-011"


# --- Search ladders: what the log sends. ---


@pytest.mark.req("SEARCH-012")
@pytest.mark.parametrize("target", range(70))
def test_search_ladder_is_a_prefix_of_the_targets_ladder(target: int) -> None:
    # NOTE-01/NOTE-04: indexed on the entry's greatest version, the log's ladder is a prefix
    # of the target's base ladder that ends at the first rung whose outcome disagrees with
    # the target.
    full = bl.base_binary_ladder(target)
    assert bl.search_binary_ladder(target, target) == full
    for g in [None, *range(140)]:
        ladder, outcomes = _honest(target, g)
        assert full[: len(ladder)] == tuple(ladder)
        disagreements = [i for i, v in enumerate(ladder) if outcomes[i] != (v <= target)]
        assert disagreements in ([], [len(ladder) - 1])


@pytest.mark.req("SEARCH-012")
def test_label_without_versions() -> None:
    # An entry where the label does not exist yet: one lookup, version 0, absent.
    assert bl.search_binary_ladder(5, None) == (0,)
    assert bl.base_binary_ladder(None) == (0,)
    reading = bl.interpret_search_ladder(5, [False])
    assert (reading.verdict, reading.lowest, reading.highest) == (-1, -1, -1)


# --- Reading a search ladder: agreement with brute force. ---


def _honest_table(
    target: int, left: frozenset[int], right: frozenset[int], bound: int
) -> dict[tuple[bool, ...], set[int]]:
    """For each outcome sequence an honest log could send, the greatest versions in
    [-1, bound] that produce it (consistent with the versions known from other entries).
    """
    table: dict[tuple[bool, ...], set[int]] = {}
    for g in range(-1, bound + 1):
        if any(v > g for v in left) or any(v <= g for v in right):
            continue
        ladder = bl.search_binary_ladder(target, None if g < 0 else g, left, right)
        table.setdefault(tuple(v <= g for v in ladder), set()).add(g)
    return table


def _check_against_table(
    target: int, left: frozenset[int], right: frozenset[int], max_length: int
) -> None:
    bound = max(bl.base_binary_ladder(target)) + 1
    table = _honest_table(target, left, right, bound)
    for length in range(max_length + 1):
        for outcomes in itertools.product([False, True], repeat=length):
            answers = table.get(outcomes, set())
            try:
                reading = bl.interpret_search_ladder(target, outcomes, left, right)
            except VerificationError as exc:
                assert exc.requirement in {"SEARCH-012", "SEARCH-014", "SEARCH-015"}
                assert not answers, (target, left, right, outcomes, answers)
                continue
            assert answers, (target, left, right, outcomes)
            assert {_sign(g, target) for g in answers} == {reading.verdict}
            # The reported interval is exactly the consistent greatest versions (capped).
            assert min(answers) == reading.lowest
            assert max(answers) == min(reading.highest, bound)


@pytest.mark.req("SEARCH-014", "SEARCH-015", "SEARCH-012")
@pytest.mark.parametrize("target", range(40))
def test_interpretation_agrees_with_brute_force(target: int) -> None:
    # Every outcome sequence up to one longer than the target's full ladder.
    full = bl.base_binary_ladder(target)
    _check_against_table(target, frozenset(), frozenset(), len(full) + 1)


@pytest.mark.req("SEARCH-013", "SEARCH-015")
@pytest.mark.parametrize("target", range(7))
def test_interpretation_with_omissions_agrees_with_brute_force(target: int) -> None:
    rungs = bl.base_binary_ladder(target)
    for left_bits in range(1 << len(rungs)):
        left = frozenset(v for i, v in enumerate(rungs) if left_bits >> i & 1)
        for right_v in [None, *rungs]:
            right = frozenset() if right_v is None else frozenset({right_v})
            _check_against_table(target, left, right, len(rungs))


@pytest.mark.req("SEARCH-014")
@given(st.integers(0, MAX), st.integers(-1, MAX))
def test_honest_ladders_read_back(target: int, greatest: int) -> None:
    ladder, outcomes = _honest(target, None if greatest < 0 else greatest)
    reading = bl.interpret_search_ladder(target, outcomes)
    assert reading.verdict == _sign(greatest, target)
    assert list(reading.looked_up) == ladder
    assert reading.lowest <= greatest <= reading.highest


# --- Must-reject: mutations of honest ladders. ---


@st.composite
def honest_case(draw: st.DrawFn) -> tuple[int, int, list[bool]]:
    target = draw(st.integers(0, 5000) | st.integers(0, MAX))
    greatest = draw(
        st.integers(-1, 5000) | st.integers(max(target - 3, -1), target + 3) | st.integers(-1, MAX)
    )
    greatest = min(greatest, MAX)
    return target, greatest, _honest(target, None if greatest < 0 else greatest)[1]


@pytest.mark.req("SEARCH-012")
@given(honest_case(), st.booleans())
def test_extended_ladder_is_rejected(case: tuple[int, int, list[bool]], extra: bool) -> None:
    target, _, outcomes = case
    with pytest.raises(VerificationError) as info:
        bl.interpret_search_ladder(target, [*outcomes, extra])
    assert info.value.requirement == "SEARCH-012"


@pytest.mark.req("SEARCH-012")
@given(st.integers(0, MAX), st.booleans())
def test_complete_ladder_extended_is_rejected(target: int, extra: bool) -> None:
    _, outcomes = _honest(target, target)
    with pytest.raises(VerificationError) as info:
        bl.interpret_search_ladder(target, [*outcomes, extra])
    assert info.value.requirement == "SEARCH-012"


@pytest.mark.req("SEARCH-014")
@given(honest_case(), st.data())
def test_truncated_ladder_is_rejected(
    case: tuple[int, int, list[bool]], data: st.DataObject
) -> None:
    target, _, outcomes = case
    cut = data.draw(st.integers(0, len(outcomes) - 1))
    with pytest.raises(VerificationError) as info:
        bl.interpret_search_ladder(target, outcomes[:cut])
    assert info.value.requirement == "SEARCH-014"


@pytest.mark.req("SEARCH-012", "SEARCH-014")
@given(honest_case(), st.data())
def test_flipped_outcome_changes_or_rejects(
    case: tuple[int, int, list[bool]], data: st.DataObject
) -> None:
    # Flipping one outcome never yields the same verdict from the same proof length
    # unless it is the last rung, where the direction of the verdict flips.
    target, greatest, outcomes = case
    i = data.draw(st.integers(0, len(outcomes) - 1))
    flipped = [*outcomes]
    flipped[i] = not flipped[i]
    try:
        reading = bl.interpret_search_ladder(target, flipped)
    except VerificationError as exc:
        assert exc.requirement in {"SEARCH-012", "SEARCH-014"}
        return
    assert reading.verdict != _sign(greatest, target)


@pytest.mark.req("SEARCH-015")
def test_omitted_outcomes_that_contradict_the_ladder_are_rejected() -> None:
    # Version 7 was proven included to the left, yet this entry proves 1 absent.
    with pytest.raises(VerificationError) as info:
        bl.interpret_search_ladder(5, [True, False], left_inclusion=[7])
    assert info.value.requirement == "SEARCH-015"
    # A version proven included to the left and absent to the right.
    with pytest.raises(VerificationError) as info:
        bl.interpret_search_ladder(5, [], left_inclusion=[3], right_non_inclusion=[3])
    assert info.value.requirement == "SEARCH-015"


# --- Monitoring ladders. ---


@pytest.mark.req("SEARCH-016")
def test_monitoring_ladder_examples() -> None:
    assert bl.monitoring_binary_ladder(0) == (0,)
    assert bl.monitoring_binary_ladder(6) == (0, 1, 3, 5, 6)
    assert bl.monitoring_binary_ladder(100) == (0, 1, 3, 7, 15, 31, 63, 95, 99, 100)


@pytest.mark.req("SEARCH-016", "SEARCH-017")
@given(st.integers(0, MAX), st.data())
def test_monitoring_ladder_verification(target: int, data: st.DataObject) -> None:
    ladder = bl.monitoring_binary_ladder(target)
    assert ladder == tuple(v for v in bl.base_binary_ladder(target) if v <= target)
    assert ladder[-1] == target
    assert bl.verify_monitoring_ladder(target, [True] * len(ladder)) == ladder
    i = data.draw(st.integers(0, len(ladder) - 1))
    outcomes = [True] * len(ladder)
    outcomes[i] = False
    with pytest.raises(VerificationError) as info:
        bl.verify_monitoring_ladder(target, outcomes)
    assert info.value.requirement == "SEARCH-017"
    cut = data.draw(st.sampled_from([len(ladder) - 1, len(ladder) + 1]))
    with pytest.raises(VerificationError) as info:
        bl.verify_monitoring_ladder(target, [True] * cut)
    assert info.value.requirement == "SEARCH-017"
