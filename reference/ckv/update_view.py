"""Updating a user's view of the log (KEYTRANS §4.2) and the checks on timestamps.

A returning user advertises the size ``m`` of the last tree it verified and
retains the timestamps of that tree's frontier. To move it to size ``n`` the
log supplies the timestamps of:

1. the entries of the direct path of ``m - 1`` (in the new tree) at or beyond
   ``m``, bottom-up; the last of them is on the new frontier; or, if there are
   none, ``m - 1`` itself is on the new frontier (the 2026-07-28 "restart"
   clause, OR13/kt ``DRAFT-06``/``KT-05``, IOP-S01);
2. the rest of the new frontier after that entry.

A first-time user gets the whole frontier. The user checks that the supplied
timestamps, following its retained rightmost one, never decrease, and that the
new rightmost timestamp is within ``max_ahead`` / ``max_behind`` of its clock.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ckv import implicit_search_tree as ibst
from ckv.errors import UsageError, VerificationError

__all__ = [
    "TimestampLedger",
    "ViewUpdate",
    "check_clock",
    "plan_update_view",
    "verify_update_view",
]


@dataclass(frozen=True, slots=True)
class ViewUpdate:
    """What §4.2 supplies to move a user from ``advertised`` entries to ``new_size``."""

    new_size: int
    #: The size the user last verified; None for a first-time user.
    advertised: int | None
    #: Positions whose timestamps the log supplies, in the order the user checks them.
    entries: tuple[int, ...]
    #: The frontier of the new tree, which the user retains afterwards.
    frontier: tuple[int, ...]
    #: True when the direct path supplied nothing and the restart clause applied
    #: (the log grew while ``advertised - 1`` stayed on the frontier).
    restarted: bool


def plan_update_view(new_size: int, advertised: int | None = None) -> ViewUpdate:
    """The entries whose timestamps §4.2 supplies, for the log and the user alike."""
    if advertised is not None and advertised < 1:
        raise UsageError(f"advertised tree size {advertised} is not a tree size")
    # SEARCH-005: the log's tree is never smaller than what the user already saw.
    if new_size < 1 or (advertised is not None and new_size < advertised):
        raise VerificationError(
            f"new tree size {new_size} is smaller than the advertised size {advertised}"
            if advertised is not None
            else f"tree size {new_size} has no entries",
            requirement="SEARCH-005",
            expected=f">= {advertised if advertised is not None else 1}",
            computed=new_size,
        )
    ibst.check_size(new_size)
    new_frontier = ibst.frontier(new_size)
    # SEARCH-004: a first-time user is given the whole frontier.
    if advertised is None:
        return ViewUpdate(new_size, None, new_frontier, new_frontier, restarted=False)
    if advertised == new_size:
        return ViewUpdate(new_size, advertised, (), new_frontier, restarted=False)
    # SEARCH-004: the direct path of advertised-1 at or beyond the advertised size ...
    path = [x for x in ibst.direct_path(advertised - 1, new_size) if x >= advertised]
    # ... then the remainder of the frontier after the last of them, or, when there is
    # none, after advertised-1 (which is then on the new frontier: the restart clause).
    start = path[-1] if path else advertised - 1
    rest = new_frontier[bisect.bisect_right(new_frontier, start) :]
    return ViewUpdate(new_size, advertised, (*path, *rest), new_frontier, restarted=not path)


def check_clock(rightmost_timestamp: int, now: int, max_ahead: int, max_behind: int) -> None:
    """Check the rightmost entry's timestamp against the local clock (§4.2, §11.4).

    All values are milliseconds since the epoch; both bounds are inclusive.
    """
    # SEARCH-008: at most max_ahead ahead of the local clock ...
    if rightmost_timestamp - now > max_ahead:
        raise VerificationError(
            f"rightmost timestamp {rightmost_timestamp} is {rightmost_timestamp - now} ms "
            f"ahead of the local clock {now}; at most {max_ahead} ms is allowed",
            requirement="SEARCH-008",
            expected=f"<= {now + max_ahead}",
            computed=rightmost_timestamp,
        )
    # SEARCH-008: ... and at most max_behind behind it.
    if now - rightmost_timestamp > max_behind:
        raise VerificationError(
            f"rightmost timestamp {rightmost_timestamp} is {now - rightmost_timestamp} ms "
            f"behind the local clock {now}; at most {max_behind} ms is allowed",
            requirement="SEARCH-008",
            expected=f">= {now - max_behind}",
            computed=rightmost_timestamp,
        )


def verify_update_view(
    plan: ViewUpdate,
    timestamps: Sequence[int],
    retained_frontier: Mapping[int, int] | None,
    *,
    now: int,
    max_ahead: int,
    max_behind: int,
) -> dict[int, int]:
    """Verify the timestamps supplied for ``plan`` and return the new frontier's timestamps.

    ``timestamps`` are the supplied values, one per ``plan.entries``;
    ``retained_frontier`` maps the previous frontier's positions to their
    retained timestamps (None for a first-time user).
    """
    if plan.advertised is None:
        if retained_frontier:
            raise UsageError("a first-time user has no retained frontier")
        retained: Mapping[int, int] = {}
        previous: int | None = None
    else:
        retained = retained_frontier or {}
        if set(retained) != set(ibst.frontier(plan.advertised)):
            raise UsageError(
                f"the retained positions {sorted(retained)} are not the frontier of a tree "
                f"of size {plan.advertised}"
            )
        previous = retained[plan.advertised - 1]
    # SEARCH-006: exactly one timestamp per entry of the plan.
    if len(timestamps) != len(plan.entries):
        raise VerificationError(
            f"updating the view from {plan.advertised} to {plan.new_size} entries needs "
            f"{len(plan.entries)} timestamps, got {len(timestamps)}",
            requirement="SEARCH-006",
            expected=len(plan.entries),
            computed=len(timestamps),
        )
    previous_position = None if plan.advertised is None else plan.advertised - 1
    for position, value in zip(plan.entries, timestamps, strict=True):
        # SEARCH-007: each timestamp is at least the one before it, starting from the
        # retained rightmost timestamp.
        if previous is not None and value < previous:
            raise VerificationError(
                f"timestamp {value} of log entry {position} is less than timestamp "
                f"{previous} of log entry {previous_position}",
                requirement="SEARCH-007",
                expected=f">= {previous}",
                computed=value,
            )
        previous, previous_position = value, position
    supplied = dict(zip(plan.entries, timestamps, strict=True))
    new_frontier: dict[int, int] = {}
    for position in plan.frontier:
        # Every new frontier entry is either supplied or on the retained frontier.
        new_frontier[position] = supplied[position] if position in supplied else retained[position]
    check_clock(new_frontier[plan.new_size - 1], now, max_ahead, max_behind)
    # SEARCH-009: the caller retains the new frontier's positions and timestamps.
    return new_frontier


class TimestampLedger:
    """Every timestamp a user has associated with a log entry, kept monotonic (§12.3).

    A timestamp is accepted only if it is at least every known timestamp to its
    left and at most every known timestamp to its right. Since the ledger is
    monotonic, its neighbours are enough to check.
    """

    __slots__ = ("_positions", "_values")

    def __init__(self, known: Mapping[int, int] | None = None) -> None:
        self._positions: list[int] = []
        self._values: dict[int, int] = {}
        for position, value in sorted((known or {}).items()):
            self.add(position, value)

    def __contains__(self, position: object) -> bool:
        return position in self._values

    def __len__(self) -> int:
        return len(self._positions)

    def get(self, position: int) -> int | None:
        """The timestamp of ``position``, or None if unknown."""
        return self._values.get(position)

    def items(self) -> list[tuple[int, int]]:
        """Every (position, timestamp), in position order."""
        return [(p, self._values[p]) for p in self._positions]

    def add(self, position: int, value: int) -> None:
        """Associate ``value`` with ``position``, or reject it as out of order."""
        known = self._values.get(position)
        if known is not None:
            # SEARCH-010: a log entry has one timestamp.
            if known != value:
                raise VerificationError(
                    f"log entry {position} was given timestamp {value} after {known}",
                    requirement="SEARCH-010",
                    expected=known,
                    computed=value,
                )
            return
        i = bisect.bisect_left(self._positions, position)
        if i > 0:
            left = self._positions[i - 1]
            # SEARCH-010: not less than any known timestamp to its left.
            if value < self._values[left]:
                raise VerificationError(
                    f"timestamp {value} of log entry {position} is less than timestamp "
                    f"{self._values[left]} of log entry {left}",
                    requirement="SEARCH-010",
                    expected=f">= {self._values[left]}",
                    computed=value,
                )
        if i < len(self._positions):
            right = self._positions[i]
            # SEARCH-010: not greater than any known timestamp to its right.
            if value > self._values[right]:
                raise VerificationError(
                    f"timestamp {value} of log entry {position} is greater than timestamp "
                    f"{self._values[right]} of log entry {right}",
                    requirement="SEARCH-010",
                    expected=f"<= {self._values[right]}",
                    computed=value,
                )
        self._positions.insert(i, position)
        self._values[position] = value
