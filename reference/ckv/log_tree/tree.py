"""Holding a log tree: every balanced head, or only the full subtrees.

A log keeps every balanced head (:class:`LogTree`); a user or an auditor keeps only
the heads of the full subtrees (:class:`FullSubtrees`) (KEYTRANS §3.2, §4.2, §15.2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ckv.errors import UsageError
from ckv.log_tree.hashing import (
    LEAF_PREFIX,
    PARENT_PREFIX,
    HashFn,
    digest_size,
    fold_contents,
    leaf_value,
    sha256,
)
from ckv.log_tree.shape import (
    MAX_ELEMENTS,
    MAX_TREE_SIZE,
    PieceKind,
    full_subtrees,
    node_range,
    tiling,
)
from ckv.wire import messages

__all__ = ["FullSubtrees", "LogTree"]

_LEAF = LEAF_PREFIX
_PARENT = PARENT_PREFIX
_ELEMENT = PieceKind.ELEMENT


@dataclass(frozen=True, slots=True)
class FullSubtrees:
    """The head values of the full subtrees of a tree of ``size`` leaves, left to right.

    This is all a user retains of the log tree between queries, and all an auditor
    holds (KEYTRANS §4.2, §15.2): ``popcount(size)`` values.
    """

    size: int
    heads: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not 0 <= self.size <= MAX_TREE_SIZE:
            msg = f"tree size {self.size} is not in [0, 2^64-1]"
            raise UsageError(msg, requirement="LOG-012")
        if len(self.heads) != self.size.bit_count():
            msg = (
                f"a tree of size {self.size} has {self.size.bit_count()} full subtrees, "
                f"but {len(self.heads)} heads were given"
            )
            raise UsageError(msg, requirement="LOG-012")

    @classmethod
    def _trusted(cls, size: int, heads: tuple[bytes, ...]) -> FullSubtrees:
        """Build without the checks of ``__post_init__``, for values this module computed."""
        self = object.__new__(cls)
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "heads", heads)
        return self

    @classmethod
    def empty(cls) -> FullSubtrees:
        """The state before any leaf."""
        return cls(0, ())

    @classmethod
    def from_leaves(cls, leaves: Iterable[bytes], *, hash_fn: HashFn = sha256) -> FullSubtrees:
        """The full subtrees of the tree over these leaf values."""
        state = cls.empty()
        for value in leaves:
            state = state.append(value, hash_fn=hash_fn)
        return state

    def widths(self) -> list[int]:
        """The number of leaves under each head, left to right."""
        return [w for _, w in full_subtrees(self.size)]

    def append(self, leaf: bytes, *, hash_fn: HashFn = sha256) -> FullSubtrees:
        """The full subtrees after appending one leaf value: ``O(log n)``.

        The new leaf becomes a full subtree of width 1; while the rightmost two full
        subtrees have the same width they merge into their parent, as a carry
        propagates in a binary counter.
        """
        if len(leaf) != digest_size(hash_fn):
            msg = f"a leaf value is {digest_size(hash_fn)} bytes, not {len(leaf)}"
            raise UsageError(msg)
        heads = list(self.heads)
        size = self.size
        content = _LEAF + leaf
        width = 1
        # The low bits of ``size`` that are one are exactly the widths the new leaf merges with.
        while size & width:
            left = heads.pop()
            content = _PARENT + hash_fn((_LEAF if width == 1 else _PARENT) + left + content)
            width <<= 1
        heads.append(content[1:])
        return FullSubtrees(size + 1, tuple(heads))

    def root(self, *, hash_fn: HashFn = sha256) -> bytes:
        """The root value of the tree these are the full subtrees of (LOG-001)."""
        if not self.size:
            msg = "an empty log tree has no root"
            raise UsageError(msg, requirement="LOG-012")
        widths = self.widths()
        return fold_contents(
            [(_LEAF if w == 1 else _PARENT) + h for h, w in zip(self.heads, widths, strict=True)],
            hash_fn,
        )


class LogTree:
    """An append-only log tree that keeps the head of every balanced subtree.

    Values live in one flat buffer indexed by node: node ``x`` occupies bytes
    ``[x*Nh, (x+1)*Nh)``. A tree of ``n`` leaves has ``2n - 1`` such slots (one more is
    reserved for the next parent), so a million leaves take 64 MB with SHA-256.
    """

    __slots__ = ("_hash", "_nh", "_nodes", "_root", "_size", "_zero")

    def __init__(self, *, hash_fn: HashFn = sha256) -> None:
        self._hash = hash_fn
        self._nh = digest_size(hash_fn)
        self._nodes = bytearray()
        self._size = 0
        self._root: bytes | None = None
        self._zero = bytes(self._nh)

    @classmethod
    def from_leaves(cls, leaves: Iterable[bytes], *, hash_fn: HashFn = sha256) -> LogTree:
        """A tree over these leaf values."""
        tree = cls(hash_fn=hash_fn)
        for value in leaves:
            tree.append_leaf(value)
        return tree

    @property
    def size(self) -> int:
        """The number of leaves (log entries)."""
        return self._size

    @property
    def hash_fn(self) -> HashFn:
        """The hash function the tree was built with."""
        return self._hash

    def __len__(self) -> int:
        return self._size

    @property
    def storage_bytes(self) -> int:
        """Bytes of node values held (``2 * Nh`` per leaf)."""
        return len(self._nodes)

    def append_entry(
        self,
        entry: messages.LogEntry,
        *,
        suite: messages.CipherSuite = messages.CipherSuite.KT_128_SHA256_Ed25519,
    ) -> bytes:
        """Append a log entry; returns its leaf value (LOG-002)."""
        value = leaf_value(entry, suite=suite)
        self.append_leaf(value)
        return value

    def append_leaf(self, value: bytes) -> None:
        """Append a leaf value: one write, plus one hash per balanced subtree it completes."""
        nh = self._nh
        if len(value) != nh:
            msg = f"a leaf value is {nh} bytes, not {len(value)}"
            raise UsageError(msg)
        if self._size >= MAX_TREE_SIZE:
            msg = "the log tree is full"
            raise UsageError(msg, requirement="LOG-012")
        nodes = self._nodes
        nodes += value
        nodes += self._zero
        n = self._size + 1
        self._size = n
        self._root = None
        hash_fn = self._hash
        content = _LEAF + value
        half = 1
        # Leaf n-1 completes the balanced subtree [n - 2*half, n) for every 2*half dividing n.
        while not n & half:
            start = n - 2 * half
            left = 2 * start + half - 1
            off = left * nh
            value = hash_fn((_LEAF if half == 1 else _PARENT) + nodes[off : off + nh] + content)
            off = (2 * start + 2 * half - 1) * nh
            nodes[off : off + nh] = value
            content = _PARENT + value
            half <<= 1

    def leaf(self, index: int) -> bytes:
        """The value of leaf ``index``."""
        if not 0 <= index < self._size:
            msg = f"leaf {index} is not in a tree of size {self._size}"
            raise UsageError(msg)
        return self._value(2 * index)

    def node(self, index: int) -> bytes:
        """The head value of the balanced subtree with flat index ``index``."""
        start, width = node_range(index)
        if start + width > self._size:
            msg = f"node {index} is not a balanced subtree of a tree of size {self._size}"
            raise UsageError(msg)
        return self._value(index)

    def _value(self, index: int) -> bytes:
        off = index * self._nh
        return bytes(self._nodes[off : off + self._nh])

    def _size_arg(self, size: int | None) -> int:
        if size is None:
            return self._size
        if not 0 <= size <= self._size:
            msg = f"size {size} is not in [0, {self._size}]"
            raise UsageError(msg, requirement="LOG-012")
        return size

    def full_subtrees(self, size: int | None = None) -> FullSubtrees:
        """The full subtrees of the tree as it was at ``size`` leaves (default: now)."""
        n = self._size_arg(size)
        return FullSubtrees(n, tuple(self._value(2 * s + w - 1) for s, w in full_subtrees(n)))

    def root(self, size: int | None = None) -> bytes:
        """The root value of the tree as it was at ``size`` leaves (default: now)."""
        n = self._size_arg(size)
        if n == self._size and self._root is not None:
            return self._root
        if not n:
            msg = "an empty log tree has no root"
            raise UsageError(msg, requirement="LOG-012")
        root = fold_contents(
            [
                (_LEAF if w == 1 else _PARENT) + self._value(2 * s + w - 1)
                for s, w in full_subtrees(n)
            ],
            self._hash,
        )
        if n == self._size:
            self._root = root
        return root

    def batch_proof(
        self,
        leaves: Iterable[int],
        retained_size: int = 0,
        *,
        size: int | None = None,
        cut: int | None = None,
    ) -> messages.InclusionProof:
        """The batch proof for ``leaves`` against a verifier who retained ``retained_size``.

        ``size`` is the tree size the proof is for (default: the current size). The
        elements are the heads of the pieces of :func:`tiling` that the verifier cannot
        compute, left to right (LOG-004, LOG-005, LOG-006). With ``cut`` (an
        ``AuditorTreeHead.tree_size``), the proof also gives the root at ``cut`` leaves
        (LOG-014).
        """
        n = self._size_arg(size)
        order = sorted(set(leaves))
        value = self._value
        elements = tuple(
            value(2 * s + w - 1)
            for kind, s, w, _ in tiling(n, order, retained_size, cut)
            if kind is _ELEMENT
        )
        if len(elements) > MAX_ELEMENTS:
            msg = f"the proof needs {len(elements)} elements; an InclusionProof holds 65535"
            raise UsageError(msg, requirement="LOG-013")
        return messages.InclusionProof(elements=elements)
