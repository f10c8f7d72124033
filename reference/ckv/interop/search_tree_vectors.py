"""Interop cases for the search structure (KEYTRANS §4.1, §4.2, §5, §6.1, §6.2, §8.1).

Files: ``ibst.json``, ``binary-ladder.json``, ``ladder-interpretation.json``,
``distinguished.json`` and ``update-view.json``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ckv import binary_ladder, distinguished, update_view
from ckv import implicit_search_tree as ibst
from ckv.errors import CKVError, UsageError
from ckv.interop import Case, CaseOutcome, FileMeta, handler


def _refused(fn: Callable[..., int], *args: int) -> bool:
    try:
        fn(*args)
    except UsageError:
        return True
    return False


def _ints(values: Sequence[Any]) -> list[int]:
    return [int(v) for v in values]


@handler("ibst")
def run_ibst_case(meta: FileMeta, case: Case) -> CaseOutcome:  # noqa: ARG001 - handler signature
    """Root, frontier, and every recorded node's children (null: must be refused)."""
    n = int(case["input"]["size"])
    expect = case["expect"]
    problems: list[str] = []
    if ibst.root(n) != expect["root"]:
        problems.append(f"root {ibst.root(n)} != {expect['root']}")
    if list(ibst.frontier(n)) != expect["frontier"]:
        problems.append(f"frontier {list(ibst.frontier(n))} != {expect['frontier']}")
    for node in expect["nodes"]:
        x = int(node["index"])
        want_left = node["left"]
        want_right = node["right"]
        if want_left is None:
            if not _refused(ibst.left, x):
                problems.append(f"left({x}) answered {ibst.left(x)}, must be refused")
        elif ibst.left(x) != want_left:
            problems.append(f"left({x}) = {ibst.left(x)} != {want_left}")
        if want_right is None:
            if not _refused(ibst.right, x, n):
                problems.append(f"right({x}) answered {ibst.right(x, n)}, must be refused")
        elif ibst.right(x, n) != want_right:
            problems.append(f"right({x}) = {ibst.right(x, n)} != {want_right}")
    if problems:
        return CaseOutcome.failed("; ".join(problems[:5]))
    return CaseOutcome.passed()


@handler("binary-ladder")
def run_binary_ladder_case(meta: FileMeta, case: Case) -> CaseOutcome:  # noqa: ARG001
    """Base (§5), search (§6.2) and monitoring (§8.1) ladders."""
    inp = case["input"]
    want = case["expect"]["versions"]
    kind = inp["kind"]
    if kind == "base":
        got = binary_ladder.base_binary_ladder(int(inp["greatest"]))
    elif kind == "search":
        got = binary_ladder.search_binary_ladder(
            int(inp["target"]),
            int(inp["greatest"]),
            _ints(inp.get("left_inclusion", [])),
            _ints(inp.get("right_non_inclusion", [])),
        )
    elif kind == "monitoring":
        if inp.get("left_inclusion"):
            # The draft has no deduplication for monitoring ladders (DRAFT-09, IOP-S02).
            return CaseOutcome.failed("monitoring case with a non-empty left_inclusion")
        got = binary_ladder.monitoring_binary_ladder(int(inp["target"]))
    else:
        return CaseOutcome.failed(f"unknown kind {kind!r}")
    if list(got) != want:
        return CaseOutcome.failed(f"ladder {list(got)} != {want}")
    return CaseOutcome.passed()


@handler("ladder-interpretation")
def run_ladder_interpretation_case(meta: FileMeta, case: Case) -> CaseOutcome:  # noqa: ARG001
    """The verdict a search ladder's outcomes give about the greatest version."""
    inp = case["input"]
    target = int(inp["target"])
    ladder = _ints(inp["ladder"])
    results = [bool(r) for r in inp["results"]]
    computed = list(binary_ladder.search_binary_ladder(target, int(inp["greatest"])))
    if computed != ladder:
        return CaseOutcome.failed(f"log-side ladder {computed} != {ladder}")
    try:
        reading = binary_ladder.interpret_search_ladder(target, results)
    except CKVError as exc:
        return CaseOutcome.failed(f"rejected: {exc.diagnostics()}")
    if list(reading.looked_up) != ladder:
        return CaseOutcome.failed(f"read versions {list(reading.looked_up)} != {ladder}")
    if reading.verdict != case["expect"]["verdict"]:
        return CaseOutcome.failed(f"verdict {reading.verdict} != {case['expect']['verdict']}")
    return CaseOutcome.passed()


@handler("distinguished")
def run_distinguished_case(meta: FileMeta, case: Case) -> CaseOutcome:  # noqa: ARG001
    """Rightmost and previous-rightmost distinguished entries, and what they asked for."""
    inp = case["input"]
    expect = case["expect"]
    n = int(inp["size"])
    rmw = int(inp["window"])
    stamps = _ints(inp["timestamps"])
    problems: list[str] = []

    rightmost_ts = distinguished.RecordingTimestamps(stamps)
    rightmost = distinguished.rightmost_distinguished(n, rmw, rightmost_ts)
    previous_ts = distinguished.RecordingTimestamps(stamps)
    previous = distinguished.previous_rightmost_distinguished(n, rmw, previous_ts)

    if rightmost != expect.get("rightmost"):
        problems.append(f"rightmost {rightmost} != {expect.get('rightmost')}")
    if previous != expect.get("previous_rightmost"):
        problems.append(f"previous_rightmost {previous} != {expect.get('previous_rightmost')}")
    if rightmost_ts.requested != expect["requested_rightmost"]:
        problems.append(
            f"requested_rightmost {rightmost_ts.requested} != {expect['requested_rightmost']}"
        )
    if previous_ts.requested != expect["requested_previous"]:
        problems.append(
            f"requested_previous {previous_ts.requested} != {expect['requested_previous']}"
        )
    union = sorted(set(rightmost_ts.requested) | set(previous_ts.requested))
    if union != expect["requested"]:
        problems.append(f"requested {union} != {expect['requested']}")

    # Cross-check against §6.1's recursion itself (the definition, not the shortcut).
    if n:
        everything = distinguished.distinguished_entries(n, rmw, stamps.__getitem__)
        by_definition = everything[-1] if everything else None
        before_last = [x for x in everything if x < n - 1]
        if by_definition != rightmost:
            problems.append(f"recursion's rightmost {by_definition} != walk's {rightmost}")
        if (before_last[-1] if before_last else None) != previous:
            problems.append(f"recursion's previous rightmost differs from walk's {previous}")
    if problems:
        return CaseOutcome.failed("; ".join(problems))
    return CaseOutcome.passed()


def _ancestors_only(plan: update_view.ViewUpdate) -> list[int]:
    """The peer's reading (KT-05): the update-view list without the restart clause."""
    if plan.restarted:
        return []
    return list(plan.entries)


@handler("update-view")
def run_update_view_case(meta: FileMeta, case: Case) -> CaseOutcome:  # noqa: ARG001
    """The entries supplied to advance a view; the restart clause is IOP-S01."""
    inp: Mapping[str, Any] = case["input"]
    expect: Mapping[str, Any] = case["expect"]
    n = int(inp["size"])
    advertised = inp.get("advertised")
    plan = update_view.plan_update_view(n, None if advertised is None else int(advertised))
    if advertised is None:
        if list(plan.entries) != expect["entries"] or list(plan.frontier) != expect["frontier"]:
            return CaseOutcome.failed(
                f"entries {list(plan.entries)} / frontier {list(plan.frontier)} != "
                f"{expect['entries']} / {expect['frontier']}"
            )
        return CaseOutcome.passed()
    flagged = bool(expect["right_edge_unchecked"])
    if plan.restarted != flagged:
        return CaseOutcome.failed(
            f"restart clause applied: {plan.restarted}, vector right_edge_unchecked: {flagged}"
        )
    if not plan.restarted:
        if list(plan.entries) != expect["entries"]:
            return CaseOutcome.failed(f"entries {list(plan.entries)} != {expect['entries']}")
        return CaseOutcome.passed()
    # The vector records katie's list, which lacks the 2026-07-28 restart clause.
    if _ancestors_only(plan) != expect["entries"]:
        return CaseOutcome.failed(
            f"katie's reading should be {_ancestors_only(plan)}, vector has {expect['entries']}"
        )
    entries = list(plan.entries)
    if not entries or entries[-1] != n - 1 or entries[0] <= int(advertised) - 1:
        return CaseOutcome.failed(f"draft reading {entries} does not reach entry {n - 1}")
    return CaseOutcome.diverges(
        "IOP-S01",
        f"draft §4.2 restart supplies {entries}; katie (KT-05) supplies nothing",
    )
