"""The prefix tree a Transparency Log holds, and the proofs it serves (KEYTRANS §3.3, §12.2).

:class:`PrefixTree` is persistent: every mutation returns a new tree that
shares every node it did not change with the tree it came from, and no tree is
ever modified after it is built. A log keeps one :class:`PrefixTree` per log
entry and can serve a proof from any of them at the cost of a proof from the
newest; an entry that changes ``m`` keys of an ``n``-key tree costs about
``m * (log2(n) + 1)`` new nodes, everything else is shared.

Parent values are computed lazily, on the first call that needs them
(:meth:`PrefixTree.root` or :meth:`PrefixTree.prove`), and then cached in the
node; caching is the only write a node ever sees, and it is idempotent.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence

from ckv.errors import UsageError
from ckv.prefix_tree.hashing import (
    LEAF_TAG,
    PARENT_TAG,
    HashFunction,
    digest_size,
    sha256,
    tagged,
)
from ckv.wire.messages import PrefixLeaf, PrefixProof, PrefixSearchResult, PrefixSearchResultType

__all__ = ["MAX_DEPTH", "MAX_RESULTS", "PrefixTree"]

#: ``uint8 depth`` (§12.2): the deepest terminal node a proof can describe.
MAX_DEPTH = 255
#: ``PrefixSearchResult results<0..2^8-1>`` (§12.2): the most searches one proof can answer.
MAX_RESULTS = 255

_INSERT = 0
_REMOVE = 1
_REPLACE = 2

_INCLUSION = PrefixSearchResultType.inclusion
_NON_INCLUSION_LEAF = PrefixSearchResultType.nonInclusionLeaf
_NON_INCLUSION_PARENT = PrefixSearchResultType.nonInclusionParent


class _Leaf:
    """A key and its commitment; ``value`` is ``Hash(0x02 || key || commitment)``."""

    __slots__ = ("commitment", "key", "value")

    def __init__(self, key: bytes, commitment: bytes, value: bytes) -> None:
        self.key = key
        self.commitment = commitment
        self.value = value


class _Parent:
    """A shared prefix; ``value`` is computed on first use (``None`` until then)."""

    __slots__ = ("left", "right", "value")

    def __init__(self, left: _Node | None, right: _Node | None) -> None:
        self.left = left
        self.right = right
        self.value: bytes | None = None


_Node = _Leaf | _Parent


def _split_point(ints: Sequence[int], lo: int, hi: int, depth: int, nbits: int) -> int:
    """The first index in sorted ``ints[lo:hi]`` (sharing ``depth`` bits) with bit ``depth`` set."""
    shift = nbits - depth - 1
    boundary = (((ints[lo] >> (shift + 1)) << 1) | 1) << shift
    return bisect_left(ints, boundary, lo, hi)


class _Sorted:
    """Leaves sorted by key, with their keys as integers, to build subtrees from."""

    __slots__ = ("ints", "leaves", "nbits")

    def __init__(self, leaves: Sequence[_Leaf], ints: Sequence[int], nbits: int) -> None:
        self.leaves = leaves
        self.ints = ints
        self.nbits = nbits

    def build(self, lo: int, hi: int, depth: int) -> _Node | None:
        """The canonical subtree (PREFIX-002) at ``depth`` over ``leaves[lo:hi]``."""
        count = hi - lo
        if count == 0:
            return None
        if count == 1:
            return self.leaves[lo]
        split = _split_point(self.ints, lo, hi, depth, self.nbits)
        return _Parent(self.build(lo, split, depth + 1), self.build(split, hi, depth + 1))


class PrefixTree:
    """An immutable prefix tree from search keys (VRF outputs) to commitments.

    ``hash_fn`` is the cipher suite's hash (SHA-256 by default) and ``key_size``
    the length of a search key, ``VRF.Nh`` (32 by default). Commitments are
    ``Hash.Nh`` bytes.
    """

    __slots__ = ("_hash", "_key_size", "_leaf_base", "_nh", "_parent_base", "_root", "_size")

    def __init__(self, *, hash_fn: HashFunction = sha256, key_size: int = 32) -> None:
        if key_size < 1:
            raise UsageError(f"key_size must be positive, not {key_size}")
        self._hash = hash_fn
        self._key_size = key_size
        self._nh = digest_size(hash_fn)
        self._leaf_base = tagged(hash_fn, LEAF_TAG)
        self._parent_base = tagged(hash_fn, PARENT_TAG)
        self._root: _Node | None = None
        self._size = 0

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def from_leaves(
        cls,
        leaves: Mapping[bytes, bytes] | Iterable[tuple[bytes, bytes]],
        *,
        hash_fn: HashFunction = sha256,
        key_size: int = 32,
    ) -> PrefixTree:
        """A tree holding ``leaves`` (key -> commitment); refuses a key given twice."""
        return cls(hash_fn=hash_fn, key_size=key_size).update(insert=leaves)

    def _derive(self, root: _Node | None, size: int) -> PrefixTree:
        tree = object.__new__(PrefixTree)
        tree._hash = self._hash
        tree._key_size = self._key_size
        tree._nh = self._nh
        tree._leaf_base = self._leaf_base
        tree._parent_base = self._parent_base
        tree._root = root
        tree._size = size
        return tree

    # -- reading --------------------------------------------------------------------------------

    @property
    def hash_fn(self) -> HashFunction:
        """The hash function of the tree's cipher suite."""
        return self._hash

    @property
    def key_size(self) -> int:
        """The length of a search key in bytes (``VRF.Nh``)."""
        return self._key_size

    def __len__(self) -> int:
        return self._size

    def __contains__(self, key: object) -> bool:
        return isinstance(key, bytes) and len(key) == self._key_size and self.get(key) is not None

    def __repr__(self) -> str:
        return f"PrefixTree(<{self._size} leaves>)"

    def get(self, key: bytes) -> bytes | None:
        """The commitment stored for ``key``, or ``None`` if the key is absent."""
        self._check_key(key)
        node = self._root
        depth = 0
        while isinstance(node, _Parent):
            node = node.right if (key[depth >> 3] >> (7 - (depth & 7))) & 1 else node.left
            depth += 1
        if node is not None and node.key == key:
            return node.commitment
        return None

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every ``(key, commitment)`` pair, in ascending key order."""
        stack: list[_Node] = [] if self._root is None else [self._root]
        while stack:
            node = stack.pop()
            if isinstance(node, _Leaf):
                yield node.key, node.commitment
                continue
            if node.right is not None:
                stack.append(node.right)
            if node.left is not None:
                stack.append(node.left)

    def leaf_at(self, key: bytes, depth: int) -> bool:
        """Whether the node reached by following the first ``depth`` bits of ``key`` is a leaf.

        This is what resolves an uncovered sibling of a before/after evaluation
        (PREFIX-026) for a party that holds the previous tree.
        """
        self._check_key(key)
        node = self._root
        for level in range(depth):
            if not isinstance(node, _Parent):
                return False
            node = node.right if (key[level >> 3] >> (7 - (level & 7))) & 1 else node.left
        return isinstance(node, _Leaf)

    def root(self) -> bytes:
        """The root value (§11.9); ``Hash.Nh`` zero bytes for the empty tree (PREFIX-007)."""
        return self._value(self._root)

    def _value(self, node: _Node | None) -> bytes:
        if node is None:
            return bytes(self._nh)
        value = node.value
        if value is None:
            assert isinstance(node, _Parent)
            # PREFIX-006: a parent hashes its children's values, all-zero for a missing child.
            children = self._value(node.left) + self._value(node.right)
            base = self._parent_base
            if base is None:
                value = self._hash(PARENT_TAG + children)
            else:
                hasher = base.copy()
                hasher.update(children)
                value = hasher.digest()
            node.value = value
        return value

    # -- mutation -------------------------------------------------------------------------------

    def insert(self, key: bytes, commitment: bytes) -> PrefixTree:
        """A tree that also maps ``key`` to ``commitment``; refuses a key already present."""
        return self.update(insert=((key, commitment),))

    def remove(self, key: bytes) -> PrefixTree:
        """A tree without ``key``; refuses a key that is absent."""
        return self.update(remove=(key,))

    def replace(self, key: bytes, commitment: bytes) -> PrefixTree:
        """A tree mapping the present ``key`` to a new ``commitment``."""
        return self.update(replace=((key, commitment),))

    def apply(self, added: Sequence[PrefixLeaf], removed: Sequence[PrefixLeaf]) -> PrefixTree:
        """Apply one log entry's change as §15.2 lists it in an ``AuditorUpdate``.

        Each element of ``removed`` must be present with exactly that commitment.
        A key in both lists is replaced in place (its new commitment is the one in
        ``added``); every other key of ``added`` is inserted.
        """
        replaced = {leaf.vrf_output for leaf in added} & {leaf.vrf_output for leaf in removed}
        for leaf in removed:
            current = self.get(leaf.vrf_output)
            if current != leaf.commitment:
                state = "absent" if current is None else "present with another commitment"
                raise UsageError(f"removed leaf {leaf.vrf_output.hex()} is {state}")
        return self.update(
            insert=[(a.vrf_output, a.commitment) for a in added if a.vrf_output not in replaced],
            replace=[(a.vrf_output, a.commitment) for a in added if a.vrf_output in replaced],
            remove=[r.vrf_output for r in removed if r.vrf_output not in replaced],
        )

    def update(
        self,
        *,
        insert: Mapping[bytes, bytes] | Iterable[tuple[bytes, bytes]] = (),
        remove: Iterable[bytes] = (),
        replace: Mapping[bytes, bytes] | Iterable[tuple[bytes, bytes]] = (),
    ) -> PrefixTree:
        """Apply a batch of changes at once; each key may appear in only one of them.

        Refuses (UsageError) inserting a present key (PREFIX-004), and removing or
        replacing an absent one; the tree is unchanged when it refuses.
        """
        changes: list[_Change] = []
        for op, pairs in ((_INSERT, insert), (_REPLACE, replace)):
            items = pairs.items() if isinstance(pairs, Mapping) else pairs
            changes.extend(
                (self._key_int(key), key, op, self._leaf(key, commitment))
                for key, commitment in items
            )
        changes.extend((self._key_int(key), key, _REMOVE, None) for key in remove)
        if not changes:
            return self
        changes.sort(key=lambda change: change[0])
        ints = [change[0] for change in changes]
        for i in range(1, len(ints)):
            if ints[i] == ints[i - 1]:
                raise UsageError(f"key {changes[i][1].hex()} appears twice in one update")
        batch = _Update(changes, ints, 8 * self._key_size)
        root = batch.apply(self._root, 0, 0, len(changes))
        return self._derive(root, self._size + batch.delta)

    def _check_key(self, key: bytes) -> None:
        if len(key) != self._key_size:
            raise UsageError(f"a search key is {self._key_size} bytes, not {key!r:.80}")

    def _key_int(self, key: bytes) -> int:
        self._check_key(key)
        return int.from_bytes(key, "big")

    def _leaf(self, key: bytes, commitment: bytes) -> _Leaf:
        if len(commitment) != self._nh:
            raise UsageError(f"a commitment is {self._nh} bytes, not {commitment!r:.80}")
        # PREFIX-005: a leaf's value binds its search key and its commitment.
        base = self._leaf_base
        if base is None:
            return _Leaf(key, commitment, self._hash(LEAF_TAG + key + commitment))
        hasher = base.copy()
        hasher.update(key + commitment)
        return _Leaf(key, commitment, hasher.digest())

    # -- proofs ---------------------------------------------------------------------------------

    def prove(self, keys: Sequence[bytes]) -> PrefixProof:
        """One batch ``PrefixProof`` for ``keys``, results in the order given (§12.2).

        A key may be repeated; each occurrence gets its own result (PREFIX-008).
        Refuses more than 255 keys, and a terminal node deeper than 255, since
        neither can be encoded (PREFIX-011).
        """
        count = len(keys)
        if count > MAX_RESULTS:
            raise UsageError(f"one PrefixProof answers at most {MAX_RESULTS} searches, not {count}")
        for key in keys:
            self._check_key(key)
        if count == 0:
            # PREFIX-010: with no search path the fewest values that give the root is the root.
            return PrefixProof(results=(), elements=(self.root(),))
        prover = _Prover(self, keys)
        prover.walk(self._root, 0, 0, count)
        return PrefixProof(
            results=tuple(r for r in prover.results if r is not None),
            elements=tuple(prover.elements),
        )


_Change = tuple[int, bytes, int, _Leaf | None]


class _Update:
    """One batch of changes, sorted by key, applied to a tree by path copying."""

    __slots__ = ("changes", "delta", "ints", "nbits")

    def __init__(self, changes: list[_Change], ints: list[int], nbits: int) -> None:
        self.changes = changes
        self.ints = ints
        self.nbits = nbits
        #: How many keys the batch adds, net of the ones it removes.
        self.delta = 0

    def apply(self, node: _Node | None, depth: int, lo: int, hi: int) -> _Node | None:
        """The subtree ``node`` at ``depth`` after ``changes[lo:hi]``, in canonical shape."""
        if isinstance(node, _Parent):
            split = _split_point(self.ints, lo, hi, depth, self.nbits)
            left = node.left
            right = node.right
            if lo < split:
                left = self.apply(left, depth + 1, lo, split)
            if split < hi:
                right = self.apply(right, depth + 1, split, hi)
            # PREFIX-003: removing keys restores the shape of the remaining key set:
            # a parent left with one leaf and no other child is replaced by that leaf.
            if left is None and (right is None or isinstance(right, _Leaf)):
                return right
            if right is None and isinstance(left, _Leaf):
                return left
            return _Parent(left, right)
        # An empty slot or a leaf: gather what the slot holds afterwards and rebuild it.
        kept: list[tuple[int, _Leaf]] = []
        existing = node
        for i in range(lo, hi):
            key_int, key, op, leaf = self.changes[i]
            if existing is not None and key == existing.key:
                if op == _INSERT:
                    # PREFIX-004: a key maps to one commitment; inserting it again is refused.
                    raise UsageError(f"key {key.hex()} is already present")
                if op == _REPLACE:
                    assert leaf is not None
                    kept.append((key_int, leaf))
                else:
                    self.delta -= 1
                existing = None
            elif op == _INSERT:
                assert leaf is not None
                kept.append((key_int, leaf))
                self.delta += 1
            else:
                raise UsageError(f"key {key.hex()} is absent")
        if existing is not None:
            kept.append((int.from_bytes(existing.key, "big"), existing))
            kept.sort(key=lambda item: item[0])
        slot = _Sorted([item[1] for item in kept], [item[0] for item in kept], self.nbits)
        return slot.build(0, len(kept), depth)


class _Prover:
    """The state of one batch proof being built: searches sorted by key, output so far."""

    __slots__ = ("elements", "ints", "nbits", "order", "results", "sorted_keys", "tree")

    def __init__(self, tree: PrefixTree, keys: Sequence[bytes]) -> None:
        self.tree = tree
        self.nbits = 8 * tree.key_size
        self.order = sorted(range(len(keys)), key=keys.__getitem__)
        self.sorted_keys = [keys[i] for i in self.order]
        self.ints = [int.from_bytes(key, "big") for key in self.sorted_keys]
        self.results: list[PrefixSearchResult | None] = [None] * len(keys)
        self.elements: list[bytes] = []

    def walk(self, node: _Node | None, depth: int, lo: int, hi: int) -> None:
        """Answer the searches ``lo:hi`` (sorted order), which all reach ``node`` at ``depth``."""
        value = self.tree._value
        elements = self.elements
        while isinstance(node, _Parent):
            split = _split_point(self.ints, lo, hi, depth, self.nbits)
            if split == lo:
                # PREFIX-010: the copath node to the left comes before anything to its right.
                elements.append(value(node.left))
                node = node.right
            elif split == hi:
                self.walk(node.left, depth + 1, lo, hi)
                elements.append(value(node.right))
                return
            else:
                self.walk(node.left, depth + 1, lo, split)
                lo = split
                node = node.right
            depth += 1
        if depth > MAX_DEPTH:
            # PREFIX-011: uint8 depth cannot describe this tree; refuse rather than saturate.
            msg = f"a search ends at depth {depth}, beyond what PrefixSearchResult.depth can encode"
            raise UsageError(msg, requirement="PREFIX-011")
        order = self.order
        results = self.results
        if node is None:
            # PREFIX-009: the depth of a missing child is that of the slot, one below its parent.
            result = PrefixSearchResult(result_type=_NON_INCLUSION_PARENT, depth=depth)
            for i in range(lo, hi):
                results[order[i]] = result
            return
        included = PrefixSearchResult(result_type=_INCLUSION, depth=depth)
        other = PrefixSearchResult(
            result_type=_NON_INCLUSION_LEAF,
            leaf=PrefixLeaf(vrf_output=node.key, commitment=node.commitment),
            depth=depth,
        )
        for i in range(lo, hi):
            results[order[i]] = included if self.sorted_keys[i] == node.key else other
