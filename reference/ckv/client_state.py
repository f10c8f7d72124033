"""What a user retains between queries to a Transparency Log (KEYTRANS §4.2, §13).

A :class:`ClientState` is immutable. Verifying a response returns a *new* state
only once the response has been verified in full; a failed verification raises
and the caller still holds the old one (§13: queries that fail verification
MUST NOT modify the user's state, OPS-010).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ckv import implicit_search_tree as ibst
from ckv.combined_tree import RetainedEntry
from ckv.errors import UsageError
from ckv.log_tree import FullSubtrees
from ckv.wire import messages

__all__ = ["ClientState", "FrontierEntry"]


@dataclass(frozen=True, slots=True)
class FrontierEntry:
    """A log entry on the frontier of the last verified tree."""

    position: int
    timestamp: int
    prefix_root: bytes


@dataclass(frozen=True, slots=True)
class ClientState:
    """The last verified tree: its full subtrees, frontier entries and tree heads."""

    full_subtrees: FullSubtrees
    frontier: tuple[FrontierEntry, ...] = ()
    tree_head: messages.TreeHead | None = None
    auditor_tree_head: messages.AuditorTreeHead | None = None

    def __post_init__(self) -> None:
        size = self.full_subtrees.size
        want = ibst.frontier(size) if size else ()
        if tuple(e.position for e in self.frontier) != want:
            msg = f"a state of size {size} retains the frontier {want}"
            raise UsageError(msg)

    @classmethod
    def initial(cls) -> ClientState:
        """The state of a user that has never verified a tree head."""
        return cls(FullSubtrees.empty())

    @property
    def tree_size(self) -> int | None:
        """The size to advertise in ``last``, or None for a first-time user."""
        return self.full_subtrees.size or None

    def retained(self) -> Mapping[int, RetainedEntry]:
        """The frontier as the combined tree engine takes it."""
        return {e.position: RetainedEntry(e.timestamp, e.prefix_root) for e in self.frontier}

    @property
    def rightmost_timestamp(self) -> int | None:
        """The timestamp of the last verified tree's rightmost entry."""
        return self.frontier[-1].timestamp if self.frontier else None
