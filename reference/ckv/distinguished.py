"""Distinguished log entries (KEYTRANS §6.1) and log entry expiry (§7.1).

An entry is *distinguished* when it is reached by §6.1's recursion: start at
the root with the bracket ``(0, T[n-1])``; an entry whose bracket spans less
than the Reasonable Monitoring Window (RMW) ends the recursion, otherwise it is
distinguished and its left child gets ``(left, T[x])`` and its right child
``(T[x], right)``.

Every function takes the timestamps as a callable ``timestamp_of(position)``
and asks only for the positions it needs; :class:`RecordingTimestamps` keeps
the order of first requests, which is the order a ``CombinedTreeProof``
supplies them in (§12.3).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from ckv import implicit_search_tree as ibst
from ckv.errors import UsageError, VerificationError

__all__ = [
    "Bracket",
    "RecordingTimestamps",
    "TimestampSource",
    "check_lifetime",
    "distinguished_entries",
    "is_distinguished",
    "is_expired",
    "previous_rightmost_distinguished",
    "rightmost_distinguished",
]

TimestampSource = Callable[[int], int]


class RecordingTimestamps:
    """A timestamp source that remembers which positions were asked for, in order.

    Each position is fetched from the underlying source once; repeated requests
    reuse the value and are not recorded again.
    """

    __slots__ = ("_known", "_source", "requested")

    def __init__(self, source: TimestampSource | Mapping[int, int] | Sequence[int]) -> None:
        if callable(source):
            self._source: TimestampSource = source
        else:
            self._source = source.__getitem__
        self._known: dict[int, int] = {}
        #: Positions in the order they were first requested.
        self.requested: list[int] = []

    def __call__(self, position: int) -> int:
        """The timestamp of ``position``, fetched on first request."""
        value = self._known.get(position)
        if value is None:
            try:
                value = self._source(position)
            except (KeyError, IndexError) as exc:
                raise UsageError(f"no timestamp for log entry {position}") from exc
            self._known[position] = value
            self.requested.append(position)
        return value


@dataclass(frozen=True, slots=True)
class Bracket:
    """The timestamps either side of an entry in §6.1's recursion."""

    left: int
    right: int

    @classmethod
    def at_root(cls, rightmost_timestamp: int) -> Bracket:
        """The root's bracket: 0 and the rightmost entry's timestamp."""
        return cls(0, rightmost_timestamp)

    def distinguished(self, rmw: int) -> bool:
        """Whether an entry with this bracket (whose ancestors are distinguished) is."""
        # SEARCH-018: "less than" the RMW ends the recursion; equal is distinguished.
        return self.right - self.left >= rmw

    def to_left(self, timestamp: int) -> Bracket:
        """The bracket of the left child of an entry with timestamp ``timestamp``."""
        return Bracket(self.left, timestamp)

    def to_right(self, timestamp: int) -> Bracket:
        """The bracket of the right child of an entry with timestamp ``timestamp``."""
        return Bracket(timestamp, self.right)


def _check_window(rmw: int) -> None:
    if rmw < 0:
        raise UsageError(f"reasonable monitoring window {rmw} is negative")


def distinguished_entries(n: int, rmw: int, timestamp_of: TimestampSource) -> tuple[int, ...]:
    """Every distinguished entry of a log of ``n`` entries, in position order.

    Runs §6.1's recursion as written (in ``O(number distinguished)`` steps); the
    rightmost and previous-rightmost functions below answer in ``O(log n)``.
    """
    _check_window(rmw)
    if n == 0:
        return ()
    out: list[int] = []
    # Depth-first, left child before right child, as §6.1 step 3 precedes step 4.
    stack: list[tuple[int, Bracket]] = [(ibst.root(n), Bracket.at_root(timestamp_of(n - 1)))]
    while stack:
        x, bracket = stack.pop()
        # SEARCH-018: an entry is distinguished iff its bracket spans at least the RMW.
        if not bracket.distinguished(rmw):
            continue
        out.append(x)
        has_left = ibst.has_left(x)
        has_right = ibst.has_right(x, n)
        if not has_left and not has_right:
            continue
        t_x = timestamp_of(x)
        if has_right:
            stack.append((ibst.right(x, n), bracket.to_right(t_x)))
        if has_left:
            stack.append((ibst.left(x), bracket.to_left(t_x)))
    out.sort()
    return tuple(out)


def _frontier_walk(
    n: int, rmw: int, timestamp_of: TimestampSource
) -> tuple[int | None, int | None, int, int]:
    """Walk the frontier while entries are distinguished.

    Returns (rightmost distinguished, its frontier parent, left bracket of the
    rightmost, T[n-1]); the first is None when no entry is distinguished.
    """
    t_last = timestamp_of(n - 1)
    bracket = Bracket.at_root(t_last)
    # SEARCH-019: nothing is distinguished unless the root is.
    if not bracket.distinguished(rmw):
        return None, None, 0, t_last
    previous: int | None = None
    current = ibst.root(n)
    while current != n - 1:
        nxt = ibst.right(current, n)
        child = bracket.to_right(timestamp_of(current))
        # SEARCH-019: the walk stops at the first frontier entry whose right child is
        # not distinguished.
        if not child.distinguished(rmw):
            break
        previous, current, bracket = current, nxt, child
    return current, previous, bracket.left, t_last


def rightmost_distinguished(n: int, rmw: int, timestamp_of: TimestampSource) -> int | None:
    """The rightmost distinguished entry, or None if no entry is distinguished.

    Because the parent of a distinguished entry is distinguished, it is on the
    frontier (Appendix "Log Entry Maximum Lifetime"): walk the frontier from the
    root. Requests ``T[n-1]`` first, then each frontier entry whose right child
    is examined, in order.
    """
    _check_window(rmw)
    if n == 0:
        return None
    return _frontier_walk(n, rmw, timestamp_of)[0]


def previous_rightmost_distinguished(n: int, rmw: int, timestamp_of: TimestampSource) -> int | None:
    """The rightmost distinguished entry left of the last entry ``n - 1``, or None.

    If the rightmost distinguished entry is not ``n - 1`` it is the answer.
    Otherwise the answer is the last distinguished entry on the right spine of
    ``n - 1``'s left subtree (whose first entry shares ``n - 1``'s bracket), or
    failing that the frontier parent of ``n - 1``.
    """
    _check_window(rmw)
    if n == 0:
        return None
    rightmost, frontier_parent, left_ts, t_last = _frontier_walk(n, rmw, timestamp_of)
    if rightmost is None or rightmost != n - 1:
        return rightmost
    # SEARCH-020: the rightmost distinguished entry is n-1; look left of it.
    best = frontier_parent
    if not ibst.has_left(rightmost):
        return best
    y = ibst.left(rightmost)
    bracket = Bracket(left_ts, t_last)  # the left child of n-1 inherits its bracket
    if not bracket.distinguished(rmw):
        return best
    best = y
    while ibst.has_right(y, n):
        bracket = bracket.to_right(timestamp_of(y))
        if not bracket.distinguished(rmw):
            break
        y = ibst.right(y, n)
        best = y
    return best


def is_distinguished(x: int, n: int, rmw: int, timestamp_of: TimestampSource) -> bool:
    """Whether entry ``x`` is distinguished, decided from its search path alone.

    Requests ``T[n-1]`` and then the timestamps of ``x``'s ancestors, root first,
    stopping at the first ancestor that is not distinguished.
    """
    _check_window(rmw)
    path = ibst.search_path(x, n)
    bracket = Bracket.at_root(timestamp_of(n - 1))
    for here, child in pairwise(path):
        # SEARCH-021: an entry is only reached if every ancestor is distinguished.
        if not bracket.distinguished(rmw):
            return False
        t_here = timestamp_of(here)
        # SEARCH-021: a left step lowers the right edge, a right step raises the left edge.
        bracket = bracket.to_left(t_here) if child < here else bracket.to_right(t_here)
    return bracket.distinguished(rmw)


def is_expired(entry_timestamp: int, rightmost_timestamp: int, max_lifetime: int | None) -> bool:
    """Whether a log entry is expired under a maximum lifetime (§7.1).

    Expired iff ``T[rightmost] - T[entry] >= max_lifetime``; never without one.
    """
    if max_lifetime is None:
        return False
    # SEARCH-022: expired when the age reaches the lifetime ("greater than or equal").
    return rightmost_timestamp - entry_timestamp >= max_lifetime


def check_lifetime(rmw: int, max_lifetime: int | None) -> None:
    """Refuse a configuration whose maximum lifetime is not above zero and the RMW (§7.1)."""
    if max_lifetime is None:
        return
    # SEARCH-023: a maximum lifetime, if defined, exceeds both zero and the RMW.
    if max_lifetime <= 0 or max_lifetime <= rmw:
        raise VerificationError(
            f"maximum lifetime {max_lifetime} must be greater than zero and than the "
            f"reasonable monitoring window {rmw}",
            requirement="SEARCH-023",
            expected=f"> {max(rmw, 0)}",
            computed=max_lifetime,
        )
