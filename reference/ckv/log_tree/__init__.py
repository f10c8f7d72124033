"""The KEYTRANS log tree: shape, hashing and batched proofs (KEYTRANS §3.2, §11.8, §12.1).

The tree over ``n`` log entries is the unique left-balanced binary tree with the
entries as leaves, in order. Nodes are named by *flat indices*: leaf ``i`` is node
``2i``, and the balanced subtree over leaves ``[start, start + width)`` (``width`` a
power of two, ``start`` a multiple of ``width``) is node ``2*start + width - 1``.
Only balanced subtrees have indices here, because only their heads ever travel in
a proof (LOG-004).

Three roles use the tree:

* a **log** holds every leaf: :class:`LogTree` appends in ``O(log n)``, keeps the
  head of every balanced subtree, and builds batch proofs (:meth:`LogTree.batch_proof`);
* an **auditor** or a **user** holds only the heads of the *full subtrees* of the
  last size it saw: :class:`FullSubtrees`, which can also grow by one leaf at a time
  (:meth:`FullSubtrees.append`);
* a **verifier** checks a batch proof against the full subtrees it retained and the
  leaf values it computed: :func:`verify_batch`, which returns the root and the new
  full subtrees to retain.

Proofs are *tilings*: the leaves ``[0, n)`` are cut into pieces, left to right, each
piece being a proven leaf, a retained head, or a balanced subtree whose head the
proof supplies (:func:`tiling`). Prover and verifier derive the same tiling from the
tree size, the retained size and the proven leaf indices alone; the proof is only
the list of supplied heads, in tiling order.

Modules: :mod:`~ckv.log_tree.shape` (indices, full subtrees, tilings),
:mod:`~ckv.log_tree.hashing` (§11.8), :mod:`~ckv.log_tree.tree` (the log and the
retained state), :mod:`~ckv.log_tree.proofs` (verification).
"""

from __future__ import annotations

from ckv.log_tree.hashing import (
    HashFn,
    digest_size,
    hash_for_suite,
    leaf_value,
    parent_value,
    sha256,
)
from ckv.log_tree.proofs import BatchResult, verify_batch
from ckv.log_tree.shape import (
    MAX_ELEMENTS,
    MAX_TREE_SIZE,
    Piece,
    PieceKind,
    batch_copath,
    batch_copath_indices,
    check_request,
    full_subtree_indices,
    full_subtrees,
    node_index,
    node_range,
    tiling,
)
from ckv.log_tree.tree import FullSubtrees, LogTree

__all__ = [
    "MAX_ELEMENTS",
    "MAX_TREE_SIZE",
    "BatchResult",
    "FullSubtrees",
    "HashFn",
    "LogTree",
    "Piece",
    "PieceKind",
    "batch_copath",
    "batch_copath_indices",
    "check_request",
    "digest_size",
    "full_subtree_indices",
    "full_subtrees",
    "hash_for_suite",
    "leaf_value",
    "node_index",
    "node_range",
    "parent_value",
    "sha256",
    "tiling",
    "verify_batch",
]
