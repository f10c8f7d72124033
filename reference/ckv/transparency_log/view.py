"""A transparency log as of an earlier size (KEYTRANS §13: answers for a given tree).

:class:`LogAt` serves what a :class:`~ckv.transparency_log.TransparencyLog` held
when it had ``size`` entries: the directory service answers from the entries it
has committed, and tests answer for a tree head a client already holds.
"""

from __future__ import annotations

from collections.abc import Sequence

from ckv.errors import UsageError
from ckv.prefix_tree import PrefixTree
from ckv.transparency_log.log import TransparencyLog
from ckv.wire import messages

__all__ = ["LogAt"]


class LogAt:
    """A :class:`~ckv.transparency_log.TransparencyLog` as of ``size`` entries.

    Implements :class:`~ckv.search.SearchLogView`. The log serves only what existed
    at that size: a later version has no opening or value here.
    """

    __slots__ = ("_log", "_size")

    def __init__(self, log: TransparencyLog, size: int | None = None) -> None:
        n = log.size if size is None else size
        if not 1 <= n <= log.size:
            msg = f"a view of {n} entries of a log of {log.size}"
            raise UsageError(msg)
        self._log = log
        self._size = n

    @property
    def log(self) -> TransparencyLog:
        """The underlying log."""
        return self._log

    @property
    def size(self) -> int:
        """The number of entries of this view."""
        return self._size

    def _check(self, x: int) -> int:
        if not 0 <= x < self._size:
            msg = f"log entry {x} is not in a view of {self._size} entries"
            raise UsageError(msg)
        return x

    def timestamp(self, x: int) -> int:
        """The timestamp of entry ``x``."""
        return self._log.timestamp(self._check(x))

    def prefix_tree(self, x: int) -> PrefixTree:
        """The prefix tree as of entry ``x``."""
        return self._log.prefix_tree(self._check(x))

    def vrf_output(self, label: bytes, version: int) -> bytes:
        """The search key of a label-version pair."""
        return self._log.vrf_output(label, version)

    def vrf_proof(self, label: bytes, version: int) -> bytes:
        """The VRF proof of a label-version pair."""
        return self._log.vrf_proof(label, version)

    def opening(self, label: bytes, version: int) -> bytes | None:
        """The opening of a version existing in this view."""
        record = self._log.record(label, version)
        return record.opening if record is not None and record.position < self._size else None

    def value(self, label: bytes, version: int) -> messages.UpdateValue | None:
        """The ``UpdateValue`` of a version existing in this view."""
        record = self._log.record(label, version)
        return record.update if record is not None and record.position < self._size else None

    def batch_proof(self, leaves: Sequence[int], retained_size: int) -> messages.InclusionProof:
        """The §12.1 batch proof at this size."""
        return self._log.batch_proof(leaves, retained_size, size=self._size)

    def root(self) -> bytes:
        """The log tree root at this size."""
        return self._log.root(self._size)
